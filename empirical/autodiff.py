r"""Autodiff of exact noised log-densities in float64: an independent route to scores and Jacobians.

The closed forms in :mod:`theory._scores` were derived by hand; here the log-density is written
directly (``jnp.linalg.solve`` and ``slogdet`` for Gaussians, log-sum-exp for point sets) and JAX
differentiates it, so agreement checks the derivations (VE convention,
:math:`p_\sigma = p_0 * \mathcal N(0,\sigma^2 I)`).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import logsumexp

from theory._validation import as_points, as_sigma
from theory.distributions import FiniteSet, GaussianMixture, LinearGaussian

__all__ = ["autodiff_jacobian", "autodiff_score", "log_density_fn"]


def _logp_points(x, sigma, points):
    """log of (1/m) Σ_k N(x; y_k, σ² I), for one point x (d,)."""
    m, d = points.shape
    sq = jnp.sum((x[None, :] - points) ** 2, axis=1)
    return logsumexp(-0.5 * sq / sigma**2) - jnp.log(m) - 0.5 * d * jnp.log(2 * jnp.pi * sigma**2)


def _logp_mixture(x, sigma, log_w, mu, cov):
    """log of Σ_k w_k N(x; μ_k, C_k + σ² I), for one point x (d,)."""
    d = mu.shape[1]
    c = cov + sigma**2 * jnp.eye(d)[None]
    y = x[None, :] - mu
    quad = jnp.einsum("kd,kd->k", y, jnp.linalg.solve(c, y[..., None])[..., 0])
    _, logdet = jnp.linalg.slogdet(c)
    return logsumexp(log_w - 0.5 * (quad + logdet + d * jnp.log(2 * jnp.pi)))


def _definition(spec):
    """The log-density written from the definition, and the spec's arrays it takes after (x, σ)."""
    if isinstance(spec, LinearGaussian):
        weights, means, covs = np.ones(1), np.zeros((1, spec.d)), spec.covariance[None]
    elif isinstance(spec, GaussianMixture):
        weights, means, covs = spec.weights, spec.means, spec.covariances
    elif isinstance(spec, FiniteSet):
        return _logp_points, (np.asarray(spec.points, np.float64),)
    else:
        raise ValueError(
            f"spec must be a LinearGaussian, GaussianMixture or FiniteSet (got {type(spec).__name__})"
        )
    arrays = (np.log(np.asarray(weights, np.float64)), np.asarray(means, np.float64))
    return _logp_mixture, (*arrays, np.asarray(covs, np.float64))


def log_density_fn(spec):
    """A JAX function ``(x, sigma) -> log p_sigma(x)`` for one point x (d,), written from the definition."""
    fn, arrays = _definition(spec)
    return lambda x, sigma: fn(x, sigma, *arrays)


_DERIVATIVES = {"grad": jax.grad, "hessian": jax.hessian}


# One compiled program per (log-density, derivative, shapes): the spec's arrays are arguments, not
# constants baked into the program, so every spec of the same shapes reuses it.
# lax.map, not vmap: with jaxlib 0.10.2 on the CPU, a vmapped batch of these Hessians (batched
# LAPACK solve/slogdet under x64) was seen to hang forever with every XLA worker idle.
@functools.partial(jax.jit, static_argnames=("fn", "derivative"))
def _over_points(xs, ss, arrays, *, fn, derivative):
    f = _DERIVATIVES[derivative](fn)
    return jax.lax.map(lambda a: f(a[0], a[1], *arrays), (xs, ss))


def _apply(spec, derivative, x, sigma):
    pts, single = as_points(x, spec.d)
    sig = as_sigma(sigma, pts.shape[0])
    fn, arrays = _definition(spec)
    with jax.enable_x64(True):
        args = tuple(jnp.asarray(a) for a in arrays)
        out = _over_points(jnp.asarray(pts), jnp.asarray(sig), args, fn=fn, derivative=derivative)
        out = np.asarray(out)
    return out[0] if single else out


def autodiff_score(spec, x, sigma) -> np.ndarray:
    """:math:`\\nabla_x \\log p_\\sigma(x)` by reverse-mode autodiff of :func:`log_density_fn`, float64."""
    return _apply(spec, "grad", x, sigma)


def autodiff_jacobian(spec, x, sigma) -> np.ndarray:
    """Score Jacobian :math:`\\nabla_x^2 \\log p_\\sigma(x)` by ``jax.hessian`` of :func:`log_density_fn`, float64."""
    return _apply(spec, "hessian", x, sigma)
