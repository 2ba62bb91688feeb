"""Input checks shared by the closed forms: every failure is a ``ValueError`` naming the argument."""

from __future__ import annotations

import numpy as np

__all__ = [
    "as_points",
    "as_sigma",
    "check_finite",
    "check_positive",
    "check_probability",
    "check_scalar",
]


def check_finite(name: str, value) -> np.ndarray:
    """Return ``value`` as a float64 array, raising if it holds NaN or infinity."""
    arr = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (got NaN or infinity)")
    return arr


def check_positive(name: str, value) -> np.ndarray:
    """Return ``value`` as a finite float64 array whose entries are all > 0."""
    arr = check_finite(name, value)
    if np.any(arr <= 0):
        raise ValueError(f"{name} must be > 0 (got min {arr.min():.6g})")
    return arr


def check_probability(name: str, value, *, open_interval: bool = True) -> float:
    """Return a scalar in (0, 1) (or [0, 1] with ``open_interval=False``)."""
    v = float(check_finite(name, value))
    ok = 0.0 < v < 1.0 if open_interval else 0.0 <= v <= 1.0
    if not ok:
        bounds = "(0, 1)" if open_interval else "[0, 1]"
        raise ValueError(f"{name} must lie in {bounds} (got {v:.6g})")
    return v


def as_points(x, d: int, name: str = "x") -> tuple[np.ndarray, bool]:
    """Return ``x`` as an (n, d) float64 array and whether the input was a single (d,) point."""
    arr = check_finite(name, x)
    if arr.ndim == 1:
        if arr.shape[0] != d:
            raise ValueError(f"{name} must have last dimension d = {d} (got shape {arr.shape})")
        return arr[None, :], True
    if arr.ndim != 2 or arr.shape[1] != d:
        raise ValueError(f"{name} must have shape (d,) or (n, d) with d = {d} (got {arr.shape})")
    return arr, False


def as_sigma(sigma, n: int, name: str = "sigma") -> np.ndarray:
    """Return the noise level as a float64 array of shape (n,): a positive scalar or one per point."""
    arr = check_positive(name, sigma)
    if arr.ndim == 0:
        return np.full(n, float(arr))
    if arr.shape != (n,):
        raise ValueError(f"{name} must be a scalar or have shape ({n},) (got {arr.shape})")
    return arr


def check_scalar(name: str, value, *, positive: bool = False) -> float:
    """Return a finite scalar as a float (``positive=True``: also > 0)."""
    arr = check_positive(name, value) if positive else check_finite(name, value)
    if arr.ndim != 0:
        raise ValueError(f"{name} must be a scalar (got shape {arr.shape})")
    return float(arr)
