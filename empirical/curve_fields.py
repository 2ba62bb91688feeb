r"""Exact noised score of a von Mises law on an ellipse (JAX, one point) and the foot-point parameter.

Data: :math:`X = \Phi(t)`, :math:`\Phi(t) = (a\cos t, b\sin t)`, with t von Mises(κ, θ₀) on the
parameter (a density w.r.t. dt, the chart measure of paper003 §1.1, Assumption 2.2). VE noise,
:math:`x_\sigma = X + \sigma Z`. The noised law and its score are a 1-D integral over t,

.. math:: p_\sigma(x) \propto \int_0^{2\pi} e^{-\|x - \Phi(t)\|^2/2\sigma^2 + \kappa\cos(t - \theta_0)}\,dt,
          \qquad s(x,\sigma) = \frac{E[\Phi(t)\mid x] - x}{\sigma^2},

computed here by a *local* quadrature (research note paper003 T-C8: "p_σ from local 1-D
quadrature in t"): the posterior of t given x is nearly Gaussian around the foot point's
parameter t*, with standard deviation :math:`w = \sigma/(|\Phi'(t^*)|\sqrt{1 + \rho k})` (ρ the
signed distance, k the curvature; 1 + ρk floored at 0.05), so Gauss–Hermite nodes
:math:`t^* + \sqrt2\,w\,z_j` with weights :math:`\omega_j e^{z_j^2}` integrate it to near machine
precision for points in the tube (tested against a fine global rule). t* comes from Newton's method on :math:`\langle x - \Phi(t), \Phi'(t)\rangle = 0`
started at the best of a coarse grid (:func:`foot_parameter`) or, in the score (used by chains
that stay near M), at the eccentric angle atan2(y/b, x/a). On the circle (a = b = R) the field equals
:func:`empirical.jax_fields.noised_circle_score` (tested).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax.scipy.special import logsumexp

from theory._validation import check_scalar

__all__ = ["foot_parameter", "noised_ellipse_score"]

_COARSE = 64  # grid points of the foot point's starting guess
_NEWTON = 5  # Newton steps after it


def _foot(x, a, b, xp, *, coarse: bool):
    """Foot parameter by Newton's method for points (..., 2); ``xp`` is numpy or jnp. The start is
    the best of a coarse grid (``coarse``) or the eccentric angle atan2(y/b, x/a) (near M)."""
    if coarse:
        grid = xp.linspace(0.0, 2.0 * np.pi, _COARSE, endpoint=False)
        d2 = (x[..., None, 0] - a * xp.cos(grid)) ** 2 + (x[..., None, 1] - b * xp.sin(grid)) ** 2
        t = grid[xp.argmin(d2, axis=-1)]
    else:
        t = xp.arctan2(x[..., 1] / b, x[..., 0] / a)
    for _ in range(_NEWTON):
        c, s = xp.cos(t), xp.sin(t)
        ex, ey = x[..., 0] - a * c, x[..., 1] - b * s
        g = -(ex * (-a * s) + ey * (b * c))  # d/dt ½‖x − Φ‖²
        h = a**2 * s**2 + b**2 * c**2 - (ex * (-a * c) + ey * (-b * s))
        step = g / xp.where(h > 1e-12, h, 1e-12)
        t = t - xp.clip(step, -0.5, 0.5)
    return t


def foot_parameter(x, a=1.0, b=1.0) -> np.ndarray:
    r"""The parameter t ∈ [0, 2π) of the nearest point :math:`P_M x` on the ellipse (a cos t, b sin t).

    ``x`` has shape (n, 2). Valid within the reach (min(a², b²)/max(a, b)); farther inside, the
    nearest point is still found among the coarse grid's basin but is not unique on the evolute.
    """
    a = check_scalar("a", a, positive=True)
    b = check_scalar("b", b, positive=True)
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 2 or not np.all(np.isfinite(x)):
        raise ValueError(f"x must be a finite (n, 2) array (got shape {x.shape})")
    return np.mod(_foot(x, a, b, np, coarse=True), 2.0 * np.pi)


def noised_ellipse_score(x, sigma, *, a=1.0, b=2.0, kappa=1.0, mean_angle=0.0, nodes=16):
    r"""VE score of von Mises(κ, θ₀) on the parameter of the ellipse (a cos t, b sin t), ONE point x (2,).

    JAX-traceable in float64 (module notes); ``a``, ``b``, ``kappa``, ``mean_angle`` and
    ``nodes`` (Gauss–Hermite nodes) are Python values fixed at trace time and not validated here.
    """
    t0 = _foot(x, a, b, jnp, coarse=False)
    c, s = jnp.cos(t0), jnp.sin(t0)
    speed = jnp.sqrt(a**2 * s**2 + b**2 * c**2)
    normal = jnp.array([b * c, a * s]) / speed
    rho = jnp.dot(x - jnp.array([a * c, b * s]), normal)
    k = a * b / speed**3
    width = sigma / (speed * jnp.sqrt(jnp.maximum(1.0 + rho * k, 0.05)))  # posterior s.d. of t
    z, omega = np.polynomial.hermite.hermgauss(nodes)
    t = t0 + width * np.sqrt(2.0) * z
    diff = jnp.stack([a * jnp.cos(t), b * jnp.sin(t)], axis=1) - x[None, :]  # Φ(t) − x
    log_w = (
        -0.5 * jnp.sum(diff**2, axis=1) / sigma**2
        + kappa * jnp.cos(t - mean_angle)
        + np.log(omega)
        + z**2
    )
    w = jnp.exp(log_w - logsumexp(log_w))
    return jnp.sum(w[:, None] * diff, axis=0) / sigma**2
