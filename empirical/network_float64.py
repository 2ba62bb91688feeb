r"""A trained network evaluated in float64: its score and score Jacobian in double precision.

Networks train and run in float32 (:mod:`empirical.models`). Measurements that compare tiny
quantities, such as the antisymmetric part of a conservative network's Jacobian (paper000 T-A3: it
must read < 1e-8) or the circulation of a field on a circle of radius 0.05 (T-A7), drown in
float32 rounding: a float32 score carries errors of order 1e-7·|x|/σ², far above 1e-8. Here the
same weights, cast exactly to float64, are evaluated in float64 under ``jax.enable_x64``, so the
function evaluated is the trained one and only the rounding changes (to about 1e-16 relative).

Convention: VE, :math:`x_\sigma = x_0 + \sigma\varepsilon`; the score of a denoiser D is
:math:`g_\sigma(x) = (D(x;\sigma) - x)/\sigma^2` (Tweedie) and ``jacobian`` is the Jacobian of the
score. The score is formed as

- :class:`~empirical.models.EDMDenoiser`: :math:`g = ((c_{skip} - 1)x + c_{out}F(c_{in}x, c_{noise}))
  /\sigma^2`, with no cancellation in D − x;
- :class:`~empirical.models.ConservativeDenoiser`: :math:`g = \nabla_x E_\theta` by ``jax.grad``, so
  the Jacobian ``jax.jacfwd(jax.grad(E))`` is the Hessian of the energy, symmetric up to float64
  rounding;
- a network with ``scaled_score``: :math:`g = \text{scaled\_score}/\sigma`; any other:
  :math:`(D - x)/\sigma^2`.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from empirical.models import ConservativeDenoiser, EDMDenoiser, edm_preconditioning
from theory._validation import as_points, as_sigma

__all__ = [
    "float64_fields",
    "float64_jacobian",
    "float64_network",
    "float64_score",
    "point_score",
]

_CHUNK = 1024  # points per compiled call (Jacobians of large batches would blow memory)


def float64_network(network: eqx.Module) -> eqx.Module:
    """``network`` with every floating-point array leaf cast to float64 (exactly: float32 ⊂ float64).

    Call it, and evaluate the result, inside ``jax.enable_x64(True)``; outside it JAX would cast
    the leaves back to float32.
    """
    if not jax.config.jax_enable_x64:
        raise ValueError("float64_network must be called inside jax.enable_x64(True)")
    return jax.tree_util.tree_map(
        lambda a: jnp.asarray(a, jnp.float64) if eqx.is_inexact_array(a) else a, network
    )


def point_score(network: eqx.Module):
    """The score ``g(x, sigma)`` of ``network`` for ONE point x (d,) and a scalar σ, computed in the
    dtype of the network's weights (see the module docstring for how each kind forms it)."""
    if isinstance(network, ConservativeDenoiser):
        return jax.grad(network.energy)
    if isinstance(network, EDMDenoiser):

        def score(x, sigma):
            c_skip, c_out, c_in, c_noise = edm_preconditioning(sigma, network.sigma_data)
            f = network.net(jnp.append(c_in * x, c_noise))
            return ((c_skip - 1.0) * x + c_out * f) / sigma**2

        return score
    own = getattr(network, "scaled_score", None)
    if own is not None:
        return lambda x, sigma: own(x, sigma) / sigma
    return lambda x, sigma: (network.denoise(x, sigma) - x) / sigma**2


@eqx.filter_jit
def _over_points(network, xs, ss, with_jacobian: bool):
    """Score and score Jacobian (or the score twice) at each point, one compiled program per
    architecture, batch shape and ``with_jacobian`` (the weights are arguments)."""
    score = point_score(network)
    if not with_jacobian:
        g = jax.vmap(score)(xs, ss)
        return g, g

    def both(x, sigma):
        g = score(x, sigma)
        return g, g

    jac, g = jax.vmap(jax.jacfwd(both, has_aux=True))(xs, ss)
    return g, jac


def _padded_size(n: int) -> int:
    """The batch shape a chunk of n points is padded to: a power of two, 64 … _CHUNK (few shapes,
    so few compilations)."""
    return max(64, min(_CHUNK, 1 << max(0, n - 1).bit_length()))


def float64_fields(model, x, sigma, *, jacobian: bool = True):
    r"""Score :math:`g_\sigma(x)` and score Jacobian :math:`J = \partial g_\sigma/\partial x` of a
    trained :class:`~empirical.models.ScoreModel`, evaluated in float64 (VE).

    ``x`` of shape (d,) or (n, d), ``sigma`` > 0 a scalar or one value per point. J is taken by
    forward-mode autodiff of :func:`point_score` (for a conservative network the Hessian of its
    energy, ``jax.jacfwd(jax.grad(E))``), ``J[p, i, j] = ∂g_i/∂x_j``. Returns (score, J), or
    (score, None) with ``jacobian=False``.
    """
    network = getattr(model, "network", None)
    d = getattr(model, "d", None)
    if network is None or d is None:
        raise ValueError(
            f"model must be an empirical.models.ScoreModel (got {type(model).__name__})"
        )
    pts, single = as_points(x, d)
    sig = as_sigma(sigma, pts.shape[0])
    scores, jacs = [], []
    with jax.enable_x64(True):
        net64 = float64_network(network)
        for start in range(0, pts.shape[0], _CHUNK):
            xs, ss = pts[start : start + _CHUNK], sig[start : start + _CHUNK]
            size = xs.shape[0]
            pad = _padded_size(size) - size
            if pad:
                xs = np.concatenate([xs, np.repeat(xs[-1:], pad, axis=0)])
                ss = np.concatenate([ss, np.repeat(ss[-1:], pad)])
            g, jac = _over_points(
                net64, jnp.asarray(xs, jnp.float64), jnp.asarray(ss, jnp.float64), jacobian
            )
            scores.append(np.asarray(g, np.float64)[:size])
            jacs.append(np.asarray(jac, np.float64)[:size])
    g = np.concatenate(scores) if scores else np.empty((0, d))
    if not jacobian:
        return (g[0] if single else g), None
    jac = np.concatenate(jacs) if jacs else np.empty((0, d, d))
    return (g[0], jac[0]) if single else (g, jac)


def float64_score(model, x, sigma) -> np.ndarray:
    r"""The score :math:`g_\sigma(x)` of a trained network in float64 (:func:`float64_fields`)."""
    return float64_fields(model, x, sigma, jacobian=False)[0]


def float64_jacobian(model, x, sigma) -> np.ndarray:
    r"""The score Jacobian of a trained network in float64 (:func:`float64_fields`)."""
    return float64_fields(model, x, sigma)[1]
