r"""Autodiff of exact noised log-densities in float64: an independent route to scores and Jacobians.

The closed forms in :mod:`theory._scores` were derived by hand; here the log-density is written
directly (``jnp.linalg.solve`` and ``slogdet`` for Gaussians, log-sum-exp for point sets) and JAX
differentiates it, so agreement checks the derivations (VE convention,
:math:`p_\sigma = p_0 * \mathcal N(0,\sigma^2 I)`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import logsumexp

from theory._validation import as_points, as_sigma
from theory.distributions import FiniteSet, GaussianMixture, LinearGaussian

__all__ = ["autodiff_jacobian", "autodiff_score", "log_density_fn"]


def log_density_fn(spec):
    """A JAX function ``(x, sigma) -> log p_sigma(x)`` for one point x (d,), written from the definition."""
    if isinstance(spec, LinearGaussian):
        weights, means, covs = np.ones(1), np.zeros((1, spec.d)), spec.covariance[None]
    elif isinstance(spec, GaussianMixture):
        weights, means, covs = spec.weights, spec.means, spec.covariances
    elif isinstance(spec, FiniteSet):
        points = np.asarray(spec.points)  # numpy float64: converted when traced under x64
        m, d = spec.points.shape

        def logp_points(x, sigma):
            sq = jnp.sum((x[None, :] - points) ** 2, axis=1)
            return (
                logsumexp(-0.5 * sq / sigma**2)
                - jnp.log(m)
                - 0.5 * d * jnp.log(2 * jnp.pi * sigma**2)
            )

        return logp_points
    else:
        raise ValueError(
            f"spec must be a LinearGaussian, GaussianMixture or FiniteSet (got {type(spec).__name__})"
        )

    log_w = np.log(
        np.asarray(weights, np.float64)
    )  # numpy float64: converted when traced under x64
    mu = np.asarray(means, np.float64)
    cov = np.asarray(covs, np.float64)
    d = mu.shape[1]

    def logp_mixture(x, sigma):
        c = cov + sigma**2 * jnp.eye(d)[None]
        y = x[None, :] - mu
        quad = jnp.einsum("kd,kd->k", y, jnp.linalg.solve(c, jnp.asarray(y)[..., None])[..., 0])
        _, logdet = jnp.linalg.slogdet(c)
        return logsumexp(log_w - 0.5 * (quad + logdet + d * jnp.log(2 * jnp.pi)))

    return logp_mixture


def _apply(spec, fn, x, sigma):
    pts, single = as_points(x, spec.d)
    sig = as_sigma(sigma, pts.shape[0])

    # lax.map, not vmap: with jaxlib 0.10.2 on the CPU, a vmapped batch of these Hessians (batched
    # LAPACK solve/slogdet under x64) was seen to hang forever with every XLA worker idle.
    @jax.jit
    def over_points(xs, ss):
        return jax.lax.map(lambda args: fn(*args), (xs, ss))

    with jax.enable_x64(True):
        out = np.asarray(over_points(jnp.asarray(pts), jnp.asarray(sig)))
    return out[0] if single else out


def autodiff_score(spec, x, sigma) -> np.ndarray:
    """:math:`\\nabla_x \\log p_\\sigma(x)` by reverse-mode autodiff of :func:`log_density_fn`, float64."""
    return _apply(spec, jax.grad(log_density_fn(spec)), x, sigma)


def autodiff_jacobian(spec, x, sigma) -> np.ndarray:
    """Score Jacobian :math:`\\nabla_x^2 \\log p_\\sigma(x)` by ``jax.hessian`` of :func:`log_density_fn`, float64."""
    return _apply(spec, jax.hessian(log_density_fn(spec)), x, sigma)
