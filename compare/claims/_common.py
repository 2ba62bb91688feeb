"""Helpers shared by the claim modules: seeded bases, trained models per profile, error summaries."""

from __future__ import annotations

import collections
import functools

import numpy as np

from compare.claim import Context, Training
from empirical.models import NetworkConfig
from empirical.training import TrainingConfig, train

__all__ = [
    "max_relative_error",
    "measured_once",
    "random_basis",
    "reference_training",
    "reference_trainings",
    "trained_model",
    "unjudged_at_quick",
]


def random_basis(d: int, k: int, seed: int) -> np.ndarray:
    """A seeded orthonormal (d, k) basis (QR of a Gaussian matrix)."""
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, k)))
    return q * np.sign(np.diag(r))


def max_relative_error(measured, reference) -> float:
    """max |measured − reference| / max |reference| over the whole array."""
    measured, reference = np.asarray(measured), np.asarray(reference)
    return float(np.max(np.abs(measured - reference)) / np.max(np.abs(reference)))


def reference_training(ctx: Context, *, sigma_max: float = 5.0) -> TrainingConfig:
    """The reference recipe for this profile: 4k steps at quick, 30k at full, σ ~ logU[0.01, σ_max]."""
    steps = ctx.profile.pick(quick=4_000, full=30_000)
    return TrainingConfig(steps=steps, warmup_steps=min(1_000, steps // 10), sigma_max=sigma_max)


def trained_model(spec, ctx: Context, *, sigma_max: float = 5.0):
    """The reference network (3×128 SiLU, EDM) trained on ``spec`` for this profile, from the cache."""
    training = reference_training(ctx, sigma_max=sigma_max)
    model = train(spec, NetworkConfig(), training, seed=ctx.seed, progress=ctx.progress)
    return model, training


def reference_trainings(
    label: str, spec, ctx: Context, *, sigma_max: float = 5.0
) -> list[Training]:
    """What :func:`trained_model` trains, declared for the runner (``Claim.trains``)."""
    training = reference_training(ctx, sigma_max=sigma_max)
    return [
        Training(
            label,
            training.steps,
            train,
            (spec, NetworkConfig(), training),
            {"seed": ctx.seed, "progress": False},
        )
    ]


def unjudged_at_quick(ctx: Context, what: str) -> str:
    """The ``Outcome.inconclusive`` reason of a trained claim at ``quick``, empty where it is judged.

    Trained claims are judged at ``full``. At ``quick`` their networks are trained too briefly, so the
    checks are computed against the ``full`` thresholds and shown, but not held against the paper;
    under the negative control they are judged at every profile (the planted fault must fail them).
    """
    if ctx.profile.name == "full" or ctx.control:
        return ""
    return f"quick profile: {what} too short to judge; checks shown against the full thresholds"


# How many results measured_once keeps per function (the judged run's, its control's, a spare).
_KEPT = 4


def _read_only(value):
    if isinstance(value, np.ndarray):
        value = value.view()
        value.flags.writeable = False
        return value
    if isinstance(value, tuple):
        return tuple(_read_only(v) for v in value)
    return value


def measured_once(fn=None, *, kept: int = _KEPT):
    """Keep the result of an expensive measurement for the claim's negative control.

    A control that plants its fault in the *prediction* measures the same field on the same seeded
    samples; the runner runs it right after the judged run, in the same process, so it can reuse
    them instead of integrating the flow again. The positional arguments (sizes, seeds, parameters)
    must be hashable and must determine the result; ``progress`` (keyword) is not part of the key.
    Arrays come back read-only. The last ``kept`` results are kept (``@measured_once(kept=16)``
    for a claim that measures many cases).
    """
    if fn is None:
        return functools.partial(measured_once, kept=kept)
    results: collections.OrderedDict = collections.OrderedDict()

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if args not in results:
            results[args] = _read_only(fn(*args, **kwargs))
            while len(results) > kept:
                results.popitem(last=False)
        return results[args]

    wrapper.cache_clear = results.clear
    return wrapper
