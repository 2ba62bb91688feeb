r"""The on-curve law of a fast-normal, slow-tangential drift near a closed planar curve (a 1-D NESS).

Research note paper003 T-C10 and T-C15: a Langevin chain :math:`dX = B(X)\,dt + \sqrt2\,dW` whose
drift pulls hard toward a closed curve M (TS Langevin: :math:`B = \sigma^\alpha s`, normal
stiffness :math:`\sigma^{\alpha-2}`) relaxes across M much faster than along it. Its law on M then
solves a 1-D stationary Fokker–Planck equation with the drift averaged over the normal profile.
B need not be a gradient: the law is a non-equilibrium steady state (NESS) with constant flux.

**Reduction** (derived here; the note's T-C10 formula is the case :math:`\bar D = 1`,
:math:`G = 1`). In tube coordinates :math:`x = \Phi(t) + \rho\,\nu(t)` the area element is
:math:`G\,dt\,d\rho`, :math:`G = |\Phi'(t)|(1 + \rho k(t))`, and the metric is
diag(G², 1). Write the chain's density w.r.t. dt dρ as :math:`P = \bar P(t)\,\pi(\rho\mid t)` with the
normal profile set by the normal drift alone,

.. math:: \pi(\rho\mid t) = G\,e^{f_t(\rho)}/Z(t), \quad \partial_\rho f_t = B\cdot\nu, \quad
          Z(t) = \int G\,e^{f_t}\,d\rho .

Integrating the 2-D Fokker–Planck equation over ρ gives the flux along t,
:math:`F = \bar P\,\beta - \bar D\,\bar P'`, with

.. math:: \bar D = E_\pi[G^{-2}], \qquad
          \beta = E_\pi\Big[\frac{B\cdot\hat\tau}{G}\Big]
                  - E_\pi\Big[\frac{\partial_t f_t - \partial_t\log Z}{G^2}\Big],

τ̂ the unit tangent. For a gradient drift :math:`B = \nabla F` this gives
:math:`\bar P \propto \int G e^{F}\,d\rho`, the exact marginal of :math:`e^{F}` (tested against
:func:`empirical.tube_grid.tube_law`). The stationary solution with constant flux on the circle
of parameters is (:func:`periodic_ness`)

.. math:: \bar P(t) \propto e^{-U(t)}\int_t^{t+2\pi} \frac{e^{U(s)}}{\bar D(s)}\,ds, \qquad
          U' = -\beta/\bar D, \quad U(t + 2\pi) = U(t) - \oint \beta/\bar D .

It is an approximation in the ratio of the tangential to the normal relaxation rates
(σ^{2−α}/R² for TS with the exact score) and ignores the Euler–Maruyama bias of a sampler.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from empirical.tube_grid import Curve, _midpoints
from theory._validation import check_integer, check_scalar

__all__ = ["CurveDrift", "curve_drift", "periodic_ness"]


def periodic_ness(drift, diffusion=None) -> np.ndarray:
    r"""Stationary law of :math:`dt = \beta(t)\,d\tau + \sqrt{2\bar D(t)}\,dW` on [0, 2π), periodic.

    ``drift`` (n,) and ``diffusion`` (n,, default 1) are the values at the n midpoints of equal
    cells of [0, 2π); returns the n cell masses (summing to 1) of the module's formula: U by the
    midpoint rule, the integral of e^U/D̄ over one lap by the trapezoid rule (second order in the
    cell width, also with a non-zero flux; tested against :func:`theory.rate_ness.circle_ness`).
    ``ValueError`` for n < 2, non-finite values or ``diffusion`` ≤ 0.
    """
    beta = np.asarray(drift, dtype=np.float64)
    if beta.ndim != 1 or beta.size < 2 or not np.all(np.isfinite(beta)):
        raise ValueError(f"drift must be a finite 1-D array of >= 2 values (got {beta.shape})")
    dbar = np.ones_like(beta) if diffusion is None else np.asarray(diffusion, dtype=np.float64)
    if dbar.shape != beta.shape or not np.all(np.isfinite(dbar)) or np.any(dbar <= 0):
        raise ValueError(f"diffusion must be positive and finite, shaped like drift {beta.shape}")
    n = beta.size
    h = 2.0 * np.pi / n
    g = beta / dbar
    # U at the midpoints: U_i = −h(Σ_{j<i} g_j + g_i/2); one lap lowers U by Σ g h
    u = -h * (np.cumsum(g) - 0.5 * g)
    lap = h * g.sum()
    # I_i = ∫_{t_i}^{t_i+2π} e^{U}/D̄ by the trapezoid rule on the midpoints, U_{j+n} = U_j − lap
    uu = np.concatenate([u, u - lap])
    ww = np.concatenate([1.0 / dbar, 1.0 / dbar])
    shift = uu.max()
    terms = np.exp(uu - shift) * ww * h
    csum = np.concatenate([[0.0], np.cumsum(terms)])
    i = np.arange(n)
    # trapezoid from t_i to t_i + 2π: the end points carry half a cell each (second order also
    # when the flux is not 0, where the integrand is not periodic)
    integral = csum[i + n] - csum[i] + 0.5 * (terms[i + n] - terms[i])
    log_p = -u + np.log(integral)
    p = np.exp(log_p - log_p.max())
    return p / p.sum()


class CurveDrift(NamedTuple):
    """The averaged 1-D dynamics on the curve at the n_t parameter midpoints ``t``."""

    t: np.ndarray
    drift: np.ndarray  # β(t)
    diffusion: np.ndarray  # D̄(t)
    tangential: np.ndarray  # E_π[B·τ̂ / G], the averaged coordinate velocity alone
    normal_sd: np.ndarray  # the profile's standard deviation in ρ


def curve_drift(
    field: Callable[[np.ndarray], np.ndarray],
    curve: Curve,
    half_width,
    *,
    n_t: int = 360,
    n_rho: int = 241,
) -> CurveDrift:
    """β and D̄ of the module's reduction for the drift ``field`` (points (N, 2) → (N, 2)).

    The tube |ρ| < ``half_width`` (below the reach; it should hold the normal profile) is
    sampled at midpoints, ∂_t by periodic central differences, ∫dρ by the trapezoid rule.
    """
    half_width = check_scalar("half_width", half_width, positive=True)
    n_t = check_integer("n_t", n_t, minimum=8)
    n_rho = check_integer("n_rho", n_rho, minimum=3)
    t = _midpoints(0.0, 2.0 * np.pi, n_t)
    rho = np.linspace(-half_width, half_width, n_rho)
    k, speed = curve.curvature(t), curve.speed(t)
    stretch = 1.0 + rho[:, None] * k[None, :]
    if np.any(stretch <= 0):
        raise ValueError(f"half_width must stay below the reach of {curve.name}")
    nu = curve.normal(t)
    tau = curve.velocity(t) / speed[:, None]
    pts = curve.point(t)[None] + rho[:, None, None] * nu[None]
    b = np.asarray(field(pts.reshape(-1, 2)), dtype=np.float64).reshape(n_rho, n_t, 2)
    if not np.all(np.isfinite(b)):
        raise ValueError("field must be finite on the tube grid")
    b_nu = np.sum(b * nu[None], axis=2)
    b_tau = np.sum(b * tau[None], axis=2)
    big_g = speed[None, :] * stretch
    d_rho = rho[1] - rho[0]
    # f_t(ρ) = ∫_0^ρ B·ν dρ' (trapezoid from the grid's centre row)
    cum = np.concatenate([np.zeros((1, n_t)), np.cumsum(0.5 * (b_nu[1:] + b_nu[:-1]), 0) * d_rho])
    f = cum - cum[n_rho // 2]
    log_w = f + np.log(big_g)
    log_w_max = log_w.max(axis=0)
    w = np.exp(log_w - log_w_max)
    trap = np.full(n_rho, d_rho)
    trap[[0, -1]] *= 0.5
    z_rel = trap @ w
    pi = w * trap[:, None] / z_rel  # profile weights (sum 1 over ρ at each t)
    log_z = np.log(z_rel) + log_w_max
    h = 2.0 * np.pi / n_t

    def d_dt(a):
        return (np.roll(a, -1, axis=-1) - np.roll(a, 1, axis=-1)) / (2.0 * h)

    dbar = np.sum(pi / big_g**2, axis=0)
    velocity = np.sum(pi * b_tau / big_g, axis=0)
    correction = np.sum(pi * (d_dt(f) - d_dt(log_z)[None, :]) / big_g**2, axis=0)
    mean = np.sum(pi * rho[:, None], axis=0)
    sd = np.sqrt(np.sum(pi * (rho[:, None] - mean) ** 2, axis=0))
    return CurveDrift(t, velocity - correction, dbar, velocity, sd)
