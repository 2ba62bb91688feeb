r"""The reverse Euler–Maruyama of :mod:`empirical.reverse_ou` for a trained network, compiled.

:func:`empirical.reverse_ou.reverse_euler_maruyama` calls a score once per step from Python; for a
network every call pays a dispatch and a conversion, which dominate at a few hundred points. Here
the whole chain runs as one ``jax.lax.scan`` over the steps, the network vmapped over the points,
in float32 (the network's precision). The injected noise is drawn from the same NumPy generator,
in the same order, as the NumPy sampler's, so the two differ only by float32 arithmetic (checked
in the tests).

Convention: :math:`dX = -\alpha X\,dt + \sqrt2\,dB` (paper002 §1.1), a VE network read as the score
of the α-process, :math:`\nabla\log p_t(x) = a_t^{-1} g_{\sigma_t}(x / a_t)` with
:math:`\sigma_t = \sqrt{v_t}/a_t` and :math:`g_\sigma(x) = (D(x;\sigma) - x)/\sigma^2` (VE).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from empirical.sampling import _check_grid, _check_rng, _check_x_init
from theory.schedules import _check_alpha, ou_a, ou_v

__all__ = ["reverse_euler_maruyama_network"]


@eqx.filter_jit
def _chain(network, y0, consts, noise, trajectory=False):
    """The scan: y ← y + h(αy + 2 s_t(y)) + √(2h) ξ, per step (a, σ, h, α) in ``consts``; with
    ``trajectory`` also the state after every step, (K, n, d)."""

    def score_ve(x, sigma):
        d = jax.vmap(network.denoise, in_axes=(0, None))(x, sigma)
        return (d - x) / sigma**2

    def step(y, inputs):
        (a, sigma, h, alpha), xi = inputs
        s = score_ve(y / a, sigma) / a
        y = y + h * (alpha * y + 2.0 * s) + jnp.sqrt(2.0 * h) * xi
        return y, (y if trajectory else None)

    return jax.lax.scan(step, y0, (consts, noise))


def reverse_euler_maruyama_network(
    model, x_init, ts, rng: np.random.Generator, *, alpha=1.0, return_trajectory: bool = False
):
    r"""Reverse Euler–Maruyama with a trained network's score, as one compiled scan.

    Parameters
    ----------
    model : :class:`empirical.models.ScoreModel`
        A trained VE network (its ``network`` has ``denoise(x, sigma)`` for one point).
    x_init : (n, d) array
        Starting points at ``ts[0]``.
    ts : (K + 1,) array
        Strictly decreasing OU times, as for :func:`empirical.reverse_ou.reverse_euler_maruyama`.
    rng : numpy.random.Generator
        Source of the noise: K draws of shape (n, d), in step order (the NumPy sampler's stream).
    alpha : float
        Drift rate α ≥ 0.
    return_trajectory : bool
        If true, also return the states at every grid time, shape (K + 1, n, d), entry 0 being
        ``x_init`` (as :func:`empirical.reverse_ou.reverse_euler_maruyama` returns them).

    Returns
    -------
    samples : (n, d) float64 array of the states at ``ts[-1]``
    trajectory : (K + 1, n, d) float64 array, only if ``return_trajectory``

    Raises
    ------
    ValueError
        On a bad grid, bad starting points, α < 0, a starting dimension other than the model's,
        or a non-finite end state.
    TypeError
        If ``rng`` is not a ``numpy.random.Generator``.

    Notes
    -----
    The step is that of :func:`empirical.reverse_ou.reverse_euler_maruyama` (the score at the
    step's upper end :math:`t_k`), with :math:`h_k = t_k - t_{k+1}`, in float32.
    """
    _check_rng(rng, required=True)
    alpha = _check_alpha(alpha)
    ts = _check_grid("ts", ts)
    x = _check_x_init(x_init)
    if x.shape[1] != model.d:
        raise ValueError(f"x_init must have d = {model.d} columns, the model's (got {x.shape[1]})")
    t = ts[:-1]
    a = ou_a(t, alpha)
    consts = tuple(
        jnp.asarray(c, jnp.float32)
        for c in (a, np.sqrt(ou_v(t, alpha)) / a, t - ts[1:], np.full(t.size, alpha))
    )
    noise = jnp.asarray(rng.standard_normal((t.size, *x.shape)), jnp.float32)
    y, path = _chain(
        model.network, jnp.asarray(x, jnp.float32), consts, noise, bool(return_trajectory)
    )
    y = np.asarray(y, np.float64)
    if not np.all(np.isfinite(y)):
        raise ValueError("the chain reached a non-finite state (the score or the grid is unstable)")
    if not return_trajectory:
        return y
    return y, np.concatenate([x[None], np.asarray(path, np.float64)])
