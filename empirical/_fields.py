"""One check for every call of a user's score field: the right shape, finite values."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["evaluate_score"]


def evaluate_score(score: Callable, x: np.ndarray, level: float, name: str = "sigma") -> np.ndarray:
    """``score(x, level)`` as float64, or a ``ValueError`` naming the field's fault.

    ``level`` is the noise level the field is called at, named ``name`` in the message (``sigma``
    for the VE std of :mod:`empirical.sampling`, ``tau`` for the variance of :mod:`empirical.flow`).
    """
    out = np.asarray(score(x, level), dtype=np.float64)
    if out.shape != x.shape:
        raise ValueError(f"score must return an array of shape {x.shape} (got {out.shape})")
    if not np.all(np.isfinite(out)):
        raise ValueError(f"score returned NaN or infinity at {name} = {level:.6g}")
    return out
