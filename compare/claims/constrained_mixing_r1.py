"""The trained networks of the constrained-mixing claims on recipe R1 (paper000 §3.3 [R]).

R1: the graph surface x₃ = 0.3 sin(1.5x₁) cos(1.5x₂) over [−2.5, 2.5]² with a 4-mode mixture on it
(centres (±1.5, ±1.5), std 0.4), and the flat plane x₃ = 0 with the same density as control
(:class:`theory.graph_surface.GraphSurface`). The network and its training are the note's R1
recipe, fixed before any judged run: an EDM-preconditioned MLP 3×128 SiLU (σ_d = 1) trained by
denoising score matching, σ log-uniform in [0.01, 5], Adam lr 2e-3 with 1 000 warm-up steps and
cosine decay, batch 512, 30 000 steps at ``full`` (2 000, unjudged, at ``quick``), on 20 000 points
drawn from the surface. The paper's own recipe was never read.

The conservative control (T-A3) is the same recipe with ``kind="conservative"``: the score is
``jax.grad`` of a scalar network (:class:`empirical.models.ConservativeDenoiser`), trained on the
same data with the same seed.

This module states no claim; the claim modules import the recipe from here, so that every claim
on R1 reads the same cached networks (the cache key is the spec, both configs and the seed).
"""

from __future__ import annotations

import numpy as np

from compare.claim import Context, Training
from compare.claims._common import measured_once
from empirical.data import sample
from empirical.models import NetworkConfig, ScoreModel
from empirical.training import TrainingConfig, train
from theory.graph_surface import GraphSurface

__all__ = [
    "KINDS",
    "RHO_RANGE",
    "SURFACES",
    "judged_seed",
    "near_geometry",
    "near_points",
    "network",
    "points_per_sigma",
    "recipe",
    "seeds",
    "tangent_stiffness",
    "trainings",
]

#: R1's manifolds: the curved graph surface and the flat plane with the same density.
SURFACES = {"curved": GraphSurface(), "plane": GraphSurface(amplitude=0.0)}
#: |ρ|/σ of the evaluation points x = P + ρν near M: uniform on this range, with a random sign.
RHO_RANGE = (0.5, 2.0)
#: The free network (a vector field) and the conservative control (the gradient of a scalar).
KINDS = ("edm", "conservative")


def recipe(ctx: Context, kind: str = "edm") -> tuple[NetworkConfig, TrainingConfig]:
    """The note's R1 network and training (paper000 §3.3), 30 000 steps at full, 2 000 at quick."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS} (got {kind!r})")
    steps = ctx.profile.pick(quick=2_000, full=30_000)
    training = TrainingConfig(
        steps=steps,
        batch_size=512,
        learning_rate=2e-3,
        warmup_steps=ctx.profile.pick(quick=200, full=1_000),
        sigma_min=0.01,
        sigma_max=5.0,
        n_data=20_000,
    )
    return NetworkConfig(kind=kind, width=128, depth=3, activation="silu", sigma_data=1.0), training


def judged_seed(ctx: Context) -> int:
    """The seed of the judged network: the claim's seed."""
    return ctx.seed


def seeds(ctx: Context) -> list[int]:
    """The judged seed and, at full, two more whose spread is reported (never judged)."""
    return [ctx.seed + k for k in ctx.profile.pick(quick=(0,), full=(0, 1, 2))]


def network(ctx: Context, surface: str, kind: str = "edm", seed: int | None = None) -> ScoreModel:
    """The R1 network of ``kind`` on ``surface`` ("curved" or "plane"), trained or from the cache."""
    if surface not in SURFACES:
        raise ValueError(f"surface must be one of {tuple(SURFACES)} (got {surface!r})")
    net, training = recipe(ctx, kind)
    seed = judged_seed(ctx) if seed is None else int(seed)
    return train(SURFACES[surface], net, training, seed, progress=ctx.progress)


def trainings(ctx: Context, pairs: tuple[tuple[str, str], ...], all_seeds: bool = False):
    """The runner's declarations of the (surface, kind) networks a claim reads, at the judged seed
    (and at every seed of :func:`seeds` with ``all_seeds``)."""
    out = []
    for surface, kind in pairs:
        net, training = recipe(ctx, kind)
        for seed in seeds(ctx) if all_seeds else [judged_seed(ctx)]:
            out.append(
                Training(
                    f"constrained_mixing R1 {surface} {kind}, seed {seed}",
                    training.steps,
                    train,
                    (SURFACES[surface], net, training, seed),
                    {"progress": False},
                )
            )
    return out


# --------------------------------------------------------------------------------------------
# Evaluation points near the manifold, shared by every claim on R1


def points_per_sigma(ctx: Context) -> int:
    """Evaluation points per (surface, σ): 48 at quick, the note's 500 at full."""
    return ctx.profile.pick(quick=48, full=500)


def near_geometry(surface_name: str, sigma: float, n: int, seed: int):
    """x = P + ρν at n data points P of the surface, |ρ| ~ U[0.5σ, 2σ] with a random sign:
    (x, P, ν, Q_T, ρ), the foot P known by construction (the nearest point while |ρ| is below
    the reach, 1/(Af²) ≈ 1.5 on the curved surface)."""
    surface = SURFACES[surface_name]
    rng = np.random.default_rng(seed)
    foot = sample(surface, n, rng)
    u = foot[:, :2]
    nu = surface.unit_normal(u)
    rho = sigma * rng.uniform(*RHO_RANGE, n) * rng.choice([-1.0, 1.0], n)
    x = foot + rho[:, None] * nu
    return x, foot, nu, surface.tangent_basis(u), rho


@measured_once(kept=16)
def near_points(surface_name: str, sigma: float, n: int, seed: int):
    """The points of :func:`near_geometry` and the exact field there (quadrature,
    :meth:`theory.graph_surface.GraphSurface.fields`): (x, P, ν, Q_T, ρ, score, Jacobian)."""
    x, foot, nu, q_t, rho = near_geometry(surface_name, sigma, n, seed)
    score, jac = SURFACES[surface_name].fields(x, sigma)
    return x, foot, nu, q_t, rho, score, jac


def tangent_stiffness(jac: np.ndarray, q_t: np.ndarray) -> np.ndarray:
    """‖Q_Tᵀ S Q_T‖_F per point, S the symmetric part of J (the scale of a_TT, paper000 §2.3 N2)."""
    sym = 0.5 * (jac + np.swapaxes(jac, -1, -2))
    return np.linalg.norm(np.swapaxes(q_t, -1, -2) @ sym @ q_t, axis=(-2, -1))
