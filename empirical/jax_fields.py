r"""Exact score fields written in JAX, for the compiled samplers (:mod:`empirical.langevin`).

The closed forms live in :mod:`theory` (NumPy, float64); a ``lax.scan`` needs a traceable score for
one point, so the fields the Langevin experiments run are written here once more in ``jax.numpy``
and tested against their :mod:`theory` counterparts (the independent route is the theory module's
own tests against quadrature).

Convention: σ is the noise standard deviation at a fixed level; VE :math:`x_\sigma = x + \sigma Z`,
VP :math:`\sqrt{1-\sigma^2}\,x + \sigma Z` (paper003 §1.2).
"""

from __future__ import annotations

import jax.numpy as jnp
from jax.scipy.special import i0e, i1e

__all__ = ["noised_circle_score"]

# Below this Bessel argument, A(z)/z = I₁(z)/(z I₀(z)) is taken at its limit 1/2 (as in theory).
_TINY = 1e-8


def noised_circle_score(x, sigma, *, kappa=0.0, radius=1.0, convention="ve", mean_angle=0.0):
    r"""Score of von Mises(κ) data on a circle of radius R, noised at level σ, for ONE point x (2,).

    .. math:: s(x,\sigma) = -\frac{x}{\sigma^2} + \frac{R'}{\sigma^2}\,A(|w|)\,\frac{w}{|w|}, \qquad
              w = \frac{R'}{\sigma^2}x + \kappa(\cos\theta_0, \sin\theta_0),

    with :math:`A = I_1/I_0` (``i1e/i0e``) and :math:`R' = R` (VE) or :math:`R\sqrt{1-\sigma^2}`
    (VP): the JAX twin of :func:`theory.scaling.noised_circle_score` (paper003 §2 C1, closed forms
    [D]). ``kappa``, ``radius``, ``convention`` and ``mean_angle`` are Python values fixed at trace
    time; the inputs are not validated here (the theory function validates the same arguments).
    """
    r_eff = radius * jnp.sqrt(1.0 - sigma**2) if convention == "vp" else radius
    direction = jnp.array([jnp.cos(mean_angle), jnp.sin(mean_angle)])
    w = (r_eff / sigma**2) * x + kappa * direction
    z = jnp.sqrt(jnp.sum(w**2))
    safe = jnp.where(z > _TINY, z, 1.0)
    a_over_z = jnp.where(z > _TINY, i1e(safe) / (i0e(safe) * safe), 0.5)
    return (-x + r_eff * a_over_z * w) / sigma**2
