r"""An energy network distilled from a score field: the global conservative part of a free network
(paper000 §2.4 E2 [R]).

Convention: VE, :math:`x_\sigma = x_0 + \sigma\varepsilon`. The student is a
:class:`empirical.models.ConservativeDenoiser` (its score is :math:`\nabla_x E_\phi(x,\sigma)` of a
scalar network with the EDM preconditioning); it is fitted so that its denoiser matches the
teacher's on the noised data,

.. math:: \mathcal L(\phi) = \mathbb E_{x_0,\sigma,\varepsilon}\,\frac1d
          \Big\|\frac{D_\phi(x;\sigma) - D_{teacher}(x;\sigma)}{c_{out}(\sigma)}\Big\|^2,
          \qquad x = x_0 + \sigma\varepsilon,

the EDM-weighted denoising loss with the teacher's denoiser in place of :math:`x_0`. Since
:math:`D - x = \sigma^2 g`, it is :math:`\sigma^4/c_{out}^2\,\|\nabla E_\phi - g\|^2/d`, i.e. the L²
gap between ∇E and g in scaled units σ‖·‖ at σ ≪ σ_d: the L²(p_σ) projection of g onto gradient
fields, one σ at a time, with σ drawn as in training. Its minimiser over all energies is the
Helmholtz gradient part of g in L²(p_σ); the network reaches it up to its fitting error, which
:func:`l2_gap` reports.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from empirical.data import sample
from empirical.models import NetworkConfig, ScoreModel, edm_preconditioning
from empirical.training import TrainingConfig, fit, load_or_fit

__all__ = ["distill_loss", "distilled_energy", "fit_energy", "l2_gap"]


def distill_loss(teacher_denoise):
    """The batch loss ``loss(network, x0, log_sigma, eps)`` of the module docstring, for
    :func:`empirical.training.fit`; ``teacher_denoise(x, sigma)`` is a JAX denoiser of ONE point."""

    def loss(network, x0, log_sigma, eps):
        sigma = jnp.exp(log_sigma)
        x = x0 + sigma[:, None] * eps
        target = jax.lax.stop_gradient(jax.vmap(teacher_denoise)(x, sigma))
        denoised = jax.vmap(network.denoise)(x, sigma)
        _, c_out, _, _ = edm_preconditioning(sigma, network.sigma_data)
        return jnp.mean(((denoised - target) / c_out[:, None]) ** 2)

    return loss


def _check_conservative(network: NetworkConfig) -> None:
    if network.kind != "conservative":
        raise ValueError(f"network.kind must be 'conservative' (got {network.kind!r})")


def fit_energy(
    teacher_denoise, data, network: NetworkConfig, training: TrainingConfig, seed: int
) -> ScoreModel:
    """Fit a conservative network to ``teacher_denoise`` on ``data`` (n, d) noised as in
    ``training`` (σ law, batches, optimiser, steps); no cache. ``network.kind`` must be
    ``"conservative"``."""
    _check_conservative(network)
    return fit(
        data,
        network,
        training,
        seed,
        progress=False,
        description="distilling",
        loss=distill_loss(teacher_denoise),
    )


def distilled_energy(
    teacher: ScoreModel,
    spec,
    network: NetworkConfig,
    training: TrainingConfig,
    seed: int,
    *,
    cache_path=None,
) -> ScoreModel:
    """:func:`fit_energy` onto a trained ``teacher`` (a :class:`ScoreModel` from
    :func:`empirical.training.train`, whose ``meta["cache_key"]`` names it) on ``training.n_data``
    points of ``spec`` drawn with ``seed``, or the cached result.

    The cache key hashes the teacher's key, the spec, both configs and the seed.
    """
    _check_conservative(network)
    teacher_key = teacher.meta.get("cache_key")
    if not teacher_key:
        raise ValueError("teacher.meta must name the teacher's cache_key (a model from train())")
    record = {
        "distilled_from": teacher_key,
        "spec": spec.to_dict(),
        "network": network.to_dict(),
        "training": training.to_dict(),
        "seed": int(seed),
    }

    def fit_model():
        data = sample(spec, training.n_data, seed)
        return fit_energy(teacher.network.denoise, data, network, training, seed)

    return load_or_fit(
        record, spec.d, network, fit_model, cache_path, {"distilled_from": teacher_key}
    )


def l2_gap(student: ScoreModel, teacher, x, sigma: float) -> float:
    r"""Relative L² gap :math:`\sum\|g_{student} - g_{teacher}\|^2 / \sum\|g_{teacher}\|^2` on the
    points ``x`` (n, d) at noise level σ; ``teacher`` is anything with ``score(x, sigma)``."""
    g_t = np.asarray(teacher.score(x, sigma))
    num = float(np.sum((student.score(x, sigma) - g_t) ** 2))
    den = float(np.sum(g_t**2))
    if not den > 0:
        raise ValueError("teacher: the score is 0 on every point, so the relative gap is undefined")
    return num / den
