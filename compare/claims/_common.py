"""Helpers shared by the claim modules: seeded bases, trained models per profile, error summaries."""

from __future__ import annotations

import numpy as np

from compare.claim import Context
from empirical.models import NetworkConfig
from empirical.training import TrainingConfig, train

__all__ = ["max_relative_error", "random_basis", "trained_model", "unjudged_at_quick"]


def random_basis(d: int, k: int, seed: int) -> np.ndarray:
    """A seeded orthonormal (d, k) basis (QR of a Gaussian matrix)."""
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, k)))
    return q * np.sign(np.diag(r))


def max_relative_error(measured, reference) -> float:
    """max |measured − reference| / max |reference| over the whole array."""
    measured, reference = np.asarray(measured), np.asarray(reference)
    return float(np.max(np.abs(measured - reference)) / np.max(np.abs(reference)))


def trained_model(
    spec,
    ctx: Context,
    *,
    quick_steps: int = 4_000,
    full_steps: int = 30_000,
    sigma_max: float = 5.0,
    network: NetworkConfig | None = None,
):
    """The reference network (3×128 SiLU, EDM) trained on ``spec`` for this profile, from the cache."""
    steps = ctx.profile.pick(quick=quick_steps, full=full_steps)
    training = TrainingConfig(
        steps=steps, warmup_steps=min(1_000, steps // 10), sigma_max=sigma_max
    )
    model = train(spec, network or NetworkConfig(), training, seed=ctx.seed, progress=ctx.progress)
    return model, training


def unjudged_at_quick(ctx: Context, what: str) -> str:
    """The ``Outcome.inconclusive`` reason of a trained claim at ``quick``, empty where it is judged.

    Trained claims are judged at ``full``. At ``quick`` their networks are trained too briefly, so the
    checks are computed against the ``full`` thresholds and shown, but not held against the paper;
    under the negative control they are judged at every profile (the planted fault must fail them).
    """
    if ctx.profile.name == "full" or ctx.control:
        return ""
    return f"quick profile: {what} too short to judge; checks shown against the full thresholds"
