"""Input checks shared by the closed forms: every failure is a ``ValueError`` naming the argument."""

from __future__ import annotations

import numpy as np

__all__ = [
    "as_points",
    "as_sigma",
    "broadcast",
    "check_finite",
    "check_integer",
    "check_positive",
    "check_probability",
    "check_scalar",
]

# dtype kinds read as real numbers: bool, signed and unsigned integers, floats, and objects that
# convert to float (Python ints beyond int64, Fractions, mpmath numbers). Strings, complex numbers
# and dates are refused rather than parsed or truncated.
_REAL_KINDS = "biufO"


def _as_float64(name: str, value) -> np.ndarray:
    """Return ``value`` as a float64 array, raising if it is not an array of real numbers."""
    try:
        arr = np.asarray(value)
        if arr.dtype.kind not in _REAL_KINDS:
            raise TypeError(arr.dtype)
        return np.asarray(arr, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be a real number or a rectangular array of real numbers "
            f"(got {type(value).__name__})"
        ) from None


def check_finite(name: str, value) -> np.ndarray:
    """Return ``value`` as a float64 array, raising if it holds NaN or infinity."""
    arr = _as_float64(name, value)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (got NaN or infinity)")
    return arr


def check_positive(name: str, value) -> np.ndarray:
    """Return ``value`` as a finite float64 array whose entries are all > 0."""
    arr = check_finite(name, value)
    if np.any(arr <= 0):
        raise ValueError(f"{name} must be > 0 (got min {arr.min():.6g})")
    return arr


def _scalar_of(name: str, arr: np.ndarray, allowed: str) -> float:
    if arr.ndim != 0:
        raise ValueError(f"{name} must be a scalar {allowed} (got an array of shape {arr.shape})")
    return float(arr)


def check_probability(name: str, value, *, open_interval: bool = True) -> float:
    """Return a scalar in (0, 1) (or [0, 1] with ``open_interval=False``)."""
    bounds = "(0, 1)" if open_interval else "[0, 1]"
    v = _scalar_of(name, check_finite(name, value), f"in {bounds}")
    ok = 0.0 < v < 1.0 if open_interval else 0.0 <= v <= 1.0
    if not ok:
        raise ValueError(f"{name} must lie in {bounds} (got {v:.6g})")
    return v


def check_scalar(name: str, value, *, positive: bool = False) -> float:
    """Return a finite scalar as a float (``positive=True``: also > 0)."""
    arr = check_positive(name, value) if positive else check_finite(name, value)
    return _scalar_of(name, arr, "> 0" if positive else "(finite)")


def check_integer(
    name: str, value, *, minimum: int, maximum: int | None = None, allowed: str | None = None
) -> int:
    """Return a scalar integer in [minimum, maximum] as an ``int``.

    Integral floats (``3.0``) are accepted; infinity, NaN, fractions, arrays and non-numbers raise.
    ``allowed`` words the range in the message (default "an integer >= minimum", or "an integer
    with minimum <= name <= maximum").
    """
    if allowed is None:
        allowed = (
            f"an integer >= {minimum}"
            if maximum is None
            else f"an integer with {minimum} <= {name} <= {maximum}"
        )
    if isinstance(value, int | np.integer):
        v = int(value)
    else:
        arr = _as_float64(name, value)
        if arr.ndim != 0:
            raise ValueError(f"{name} must be {allowed} (got an array of shape {arr.shape})")
        x = float(arr)
        if not (np.isfinite(x) and x == int(x)):
            raise ValueError(f"{name} must be {allowed} (got {x!r})")
        v = int(x)
    if v < minimum or (maximum is not None and v > maximum):
        raise ValueError(f"{name} must be {allowed} (got {v})")
    return v


def broadcast(**arrays: np.ndarray) -> list[np.ndarray]:
    """Broadcast validated arrays against each other, raising a ValueError that names them all."""
    try:
        return np.broadcast_arrays(*arrays.values())
    except ValueError:
        names = " and ".join(arrays)
        shapes = " and ".join(str(np.shape(a)) for a in arrays.values())
        raise ValueError(f"{names} must broadcast together (got shapes {shapes})") from None


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
