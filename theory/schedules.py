r"""Noise schedules: variance exploding (VE) and variance preserving / Ornstein–Uhlenbeck (VP).

Conventions
-----------
VE:  :math:`x_\sigma = x_0 + \sigma \varepsilon`, noise level :math:`\sigma > 0`.

VP:  :math:`x_t = a_t x_0 + \sqrt{v_t}\, \varepsilon` with :math:`a_t = e^{-t}`,
:math:`v_t = 1 - e^{-2t}` (the OU process :math:`dx = -x\,dt + \sqrt{2}\, dW`).

Dividing a VP state by :math:`a_t` gives a VE state, :math:`x_t / a_t = x_0 + \sigma \varepsilon` with
:math:`\sigma^2 = v_t / a_t^2 = e^{2t} - 1`, so every VP quantity follows from its VE counterpart
(paper000 §1.2: "replace σ² by the noise-to-signal ratio v_t / a_t²").
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from theory._validation import check_finite, check_integer, check_positive, check_scalar

# Largest VP time whose VE noise level σ ≈ e^t is a finite float64.
_T_MAX = float(np.log(np.finfo(np.float64).max))

__all__ = [
    "geometric_grid",
    "linear_beta_ou_time",
    "ou_a",
    "ou_v",
    "ve_sigma_to_vp_t",
    "vp_a",
    "vp_score_from_ve",
    "vp_t_to_ve_sigma",
    "vp_v",
]


def vp_a(t) -> np.ndarray:
    r"""Signal scale of the VP/OU process, :math:`a_t = e^{-t}` (VP convention)."""
    return np.exp(-check_positive("t", t))


def vp_v(t) -> np.ndarray:
    r"""Noise variance of the VP/OU process, :math:`v_t = 1 - e^{-2t}` (VP convention).

    Computed as ``-expm1(-2t)`` so that it keeps full relative precision for tiny t.
    """
    return -np.expm1(-2.0 * check_positive("t", t))


def _check_alpha(alpha) -> float:
    alpha = check_scalar("alpha", alpha)
    if alpha < 0:
        raise ValueError(f"alpha must be >= 0 (got {alpha:.6g})")
    return alpha


def ou_a(t, alpha=1.0) -> np.ndarray:
    r"""Signal scale :math:`a_t = e^{-\alpha t}` of :math:`dX = -\alpha X\,dt + \sqrt2\,dB`.

    Convention of the manifold-detection paper (research note paper002 §1.1): α = 1 is the
    OU/VP process of :func:`vp_a`, α = 0 Brownian motion (VE with σ² = 2t), so :math:`a_t = 1`.

    Raises
    ------
    ValueError
        If ``t`` holds an entry ≤ 0 or a non-finite value, or ``alpha`` < 0.
    """
    return np.exp(-_check_alpha(alpha) * check_positive("t", t))


def ou_v(t, alpha=1.0) -> np.ndarray:
    r"""Noise variance of :math:`dX = -\alpha X\,dt + \sqrt2\,dB` started at a point.

    .. math:: v_t = \frac{1 - e^{-2\alpha t}}{\alpha} \quad (\alpha > 0), \qquad v_t = 2t \quad (\alpha = 0)

    (research note paper002 §1.1; α = 1 gives :func:`vp_v`). Computed as ``-expm1(-2αt)/α``,
    which keeps full relative precision for tiny αt.

    Raises
    ------
    ValueError
        If ``t`` holds an entry ≤ 0 or a non-finite value, or ``alpha`` < 0.
    """
    alpha = _check_alpha(alpha)
    t = check_positive("t", t)
    if alpha == 0.0:
        return 2.0 * t
    return -np.expm1(-2.0 * alpha * t) / alpha


def linear_beta_ou_time(t, beta_min=0.001, beta_max=3.0) -> np.ndarray:
    r"""OU time :math:`s(t) = \tfrac12\int_0^t \beta` of the VP SDE with a linear β schedule.

    .. math:: s(t) = \tfrac12\big(\beta_{min}\, t + \tfrac12 t^2 (\beta_{max} - \beta_{min})\big)

    Song et al.'s :math:`dX = -\tfrac12\beta(t)X\,dt + \sqrt{\beta(t)}\,dB`, β linear from
    β_min to β_max on t ∈ [0, 1], is the α = 1 process of :func:`ou_a` run on the clock s(t):
    :math:`m_t = e^{-s(t)}`, :math:`v_t = 1 - e^{-2 s(t)}` (paper002 §1.1; the defaults are the
    manifold-detection author's workshop settings, shared/research/external_facts.md).

    Raises
    ------
    ValueError
        If ``t`` holds an entry ≤ 0 or a non-finite value, or unless 0 < beta_min ≤ beta_max.
    """
    t = check_positive("t", t)
    beta_min = check_scalar("beta_min", beta_min, positive=True)
    beta_max = check_scalar("beta_max", beta_max, positive=True)
    if beta_max < beta_min:
        raise ValueError(f"beta_max must be >= beta_min (got {beta_max:.6g} < {beta_min:.6g})")
    return 0.5 * (beta_min * t + 0.5 * t**2 * (beta_max - beta_min))


def vp_t_to_ve_sigma(t) -> np.ndarray:
    r"""VE noise level with the same noise-to-signal ratio as VP time t.

    Notes
    -----
    .. math:: \sigma(t) = \sqrt{v_t / a_t^2} = \sqrt{e^{2t} - 1} = e^{t}\sqrt{1 - e^{-2t}}

    computed as ``exp(t) * sqrt(-expm1(-2t))``: exact to rounding for tiny t, and no overflow of
    :math:`e^{2t}` for 354 < t < 709 where σ itself is still representable. Beyond
    :math:`t = \log(\text{float64 max}) \approx 709.78` σ is not representable and t is refused.
    """
    t = check_positive("t", t)
    if np.any(t > _T_MAX):
        raise ValueError(
            f"t must be <= {_T_MAX:.6g}, beyond which sigma ≈ e^t exceeds the float64 range "
            f"(got max {t.max():.6g})"
        )
    return np.exp(t) * np.sqrt(-np.expm1(-2.0 * t))


def ve_sigma_to_vp_t(sigma) -> np.ndarray:
    r"""Inverse of :func:`vp_t_to_ve_sigma`: :math:`t = \tfrac12 \log(1 + \sigma^2)`.

    For σ > 1 it is evaluated as :math:`\log\sigma + \tfrac12\log(1 + \sigma^{-2})`, so that
    σ² does not overflow for σ > 1.3e154.
    """
    sigma = check_positive("sigma", sigma)
    big = sigma > 1.0
    r = np.divide(1.0, sigma, out=np.array(sigma, copy=True), where=big)  # min(σ, 1/σ)
    return 0.5 * np.log1p(r**2) + np.where(big, np.log(sigma), 0.0)


def vp_score_from_ve(score_ve: Callable) -> Callable:
    r"""Turn a VE score ``score_ve(x, sigma)`` into the VP score ``score_vp(x, t)`` of the same data.

    Notes
    -----
    If :math:`p^{VE}_\sigma` is the law of :math:`x_0 + \sigma\varepsilon`, the VP marginal is
    :math:`p^{VP}_t(x) = a_t^{-d}\, p^{VE}_{\sigma(t)}(x / a_t)`, hence

    .. math:: \nabla_x \log p^{VP}_t(x) = a_t^{-1}\, \nabla \log p^{VE}_{\sigma(t)}(x / a_t),
              \qquad \sigma(t)^2 = v_t / a_t^2 .

    The Jacobian maps the same way with :math:`a_t^{-2}`. ``t`` is a scalar or one value per point
    (shape (n,) for ``x`` of shape (n, d)).
    """
    if not callable(score_ve):
        raise ValueError(
            f"score_ve must be a callable score_ve(x, sigma) (got {type(score_ve).__name__})"
        )

    def score_vp(x, t):
        a = vp_a(t)
        sigma = vp_t_to_ve_sigma(t)
        a_x = a[..., None] if np.ndim(a) else a  # one t per point scales that point's row of x
        return score_ve(check_finite("x", x) / a_x, sigma) / a_x

    return score_vp


def geometric_grid(start, stop, n: int) -> np.ndarray:
    r"""``n`` points from ``start`` to ``stop`` (both included), equally spaced in log.

    Works in either direction: ``geometric_grid(80, 0.002, 18)`` is a decreasing sampling grid.

    Notes
    -----
    .. math:: g_i = \text{start}\,(\text{stop}/\text{start})^{i/(n-1)}, \quad i = 0, \dots, n-1
    """
    start = check_scalar("start", start, positive=True)
    stop = check_scalar("stop", stop, positive=True)
    return np.geomspace(start, stop, check_integer("n", n, minimum=2))
