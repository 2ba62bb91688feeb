r"""Symbolic (sympy) re-derivations of the score-smoothing closed forms of :mod:`theory.smoothing`.

Nothing here uses numpy: the expressions are derived by sympy (differentiation of a log-density,
limits, integration, ``dsolve``), and the tests turn them into functions with
:func:`sympy.lambdify` and compare them with :mod:`theory.smoothing`.

Convention (paper004, note §1.1 [N]): VE with noise **variance** t, :math:`p_t = p_0 * \mathcal
N(0, tI)`; denoising by the probability-flow ODE :math:`\dot x_\tau = -\tfrac12 s_\tau(x_\tau)`
integrated from a time t down to 0; smoothing window :math:`\delta_t = \kappa\sqrt t`. One gap of
the training set has midpoint m and half-gap Δ (points :math:`m \pm \Delta`); the two-point set
:math:`\{-1, +1\}` is m = 0, Δ = 1.
"""

from __future__ import annotations

from typing import NamedTuple

import sympy

__all__ = [
    "AsymptoticLoss",
    "FlowInvariants",
    "LossRampResidual",
    "SmoothedScoreGap",
    "TwoPointScore",
    "asymptotic_loss_integral",
    "flow_invariants",
    "loss_ramp_residual",
    "smoothed_score_gap",
    "two_point_empirical_score",
]


class TwoPointScore(NamedTuple):
    """Result of :func:`two_point_empirical_score`."""

    log_density: sympy.Expr  # log p_t(x) up to a constant
    score: sympy.Expr  # d/dx log p_t, differentiated by sympy
    closed_form: sympy.Expr  # (tanh(x/t) - x)/t
    difference: sympy.Expr  # score - closed_form, simplified (0)
    x: sympy.Symbol
    t: sympy.Symbol  # noise variance, positive


class SmoothedScoreGap(NamedTuple):
    """Result of :func:`smoothed_score_gap`: one gap of the S-PL-ESF, with δ = κ√t."""

    left: sympy.Expr  # PL-ESF piece of the left point m - Δ: -(x - (m - Δ))/t
    ramp: sympy.Expr  # δ/(Δ - δ) (x - m)/t
    right: sympy.Expr  # PL-ESF piece of the right point m + Δ: -(x - (m + Δ))/t
    kinks: tuple  # (m - Δ + δ, m + Δ - δ)
    value_jumps: tuple  # ramp - left at the left kink, right - ramp at the right kink (0, 0)
    slope_jumps: tuple  # the same for the x-derivatives
    non_smoothness: sympy.Expr  # Σ |slope jumps| = ∫|f''| over the gap
    x: sympy.Symbol
    t: sympy.Symbol
    kappa: sympy.Symbol
    Delta: sympy.Symbol
    m: sympy.Symbol


class AsymptoticLoss(NamedTuple):
    """Result of :func:`asymptotic_loss_integral`."""

    integral: sympy.Expr  # ∫_κ^∞ (z - κ)² φ(z) dz, integrated by sympy
    closed_form: sympy.Expr  # (1 + κ²) Φ̄(κ) - κ φ(κ), written with erf
    difference: sympy.Expr  # integral - closed_form, simplified (0)
    kappa: sympy.Symbol


class LossRampResidual(NamedTuple):
    """Result of :func:`loss_ramp_residual`."""

    residual: sympy.Expr  # (t f - (y - ξ)) / √t on the ramp next to y = m + Δ, ξ = y + √t z
    closed_form: sympy.Expr  # Δ (z + κ) / (Δ - κ√t)
    difference: sympy.Expr  # simplified (0)
    z: sympy.Symbol
    t: sympy.Symbol
    kappa: sympy.Symbol
    Delta: sympy.Symbol


class FlowInvariants(NamedTuple):
    """Result of :func:`flow_invariants`: invariants and trajectories of ẋ = -½ ŝ_τ(x)."""

    middle_invariant: sympy.Expr  # (x - m)/(Δ - κ√τ)
    outer_invariant: sympy.Expr  # (x - y)/√τ
    middle_rate: sympy.Expr  # d/dτ of the middle invariant along the flow, simplified (0)
    outer_rate: sympy.Expr  # the same for the outer (and normal) invariant (0)
    middle_trajectory: sympy.Expr  # x(s) from dsolve with x(t0) = x_t, middle region
    outer_trajectory: sympy.Expr  # x(s) from dsolve with x(t0) = x_t, outer region
    x: sympy.Symbol
    tau: sympy.Symbol  # running time (noise variance)
    s: sympy.Symbol  # end time
    t0: sympy.Symbol  # start time
    x_t: sympy.Symbol  # state at t0
    kappa: sympy.Symbol
    Delta: sympy.Symbol
    m: sympy.Symbol
    y: sympy.Symbol  # the training point an outer trajectory collapses to


def two_point_empirical_score() -> TwoPointScore:
    r"""Score of :math:`\tfrac12(\mathcal N(-1, t) + \mathcal N(1, t))`, differentiated by sympy.

    Returns
    -------
    TwoPointScore
        ``log_density``, ``score``, ``closed_form``, ``difference`` and the symbols ``x``, ``t``.

    Notes
    -----
    VE with variance t (note §1.1 [N]):

    .. math:: \partial_x \log\big(e^{-(x-1)^2/2t} + e^{-(x+1)^2/2t}\big)
              = \frac{\tanh(x/t) - x}{t}

    (paper004 §2, note §1.3 [N, closed form D]); ``difference`` is the simplified left side
    minus the right side.
    """
    x = sympy.Symbol("x", real=True)
    t = sympy.Symbol("t", positive=True)
    log_density = sympy.log(
        sympy.exp(-((x - 1) ** 2) / (2 * t)) + sympy.exp(-((x + 1) ** 2) / (2 * t))
    )
    score = sympy.diff(log_density, x)
    closed_form = (sympy.tanh(x / t) - x) / t
    difference = sympy.simplify((score - closed_form).rewrite(sympy.exp))
    return TwoPointScore(log_density, score, closed_form, difference, x, t)


def smoothed_score_gap() -> SmoothedScoreGap:
    r"""One gap of the S-PL-ESF: its pieces, continuity at the kinks and its non-smoothness.

    Returns
    -------
    SmoothedScoreGap

    Notes
    -----
    With :math:`\delta = \kappa\sqrt t` and points :math:`m\pm\Delta` (note §1.4: two-point form
    [N], n-point gap [D]; VE, variance t):

    .. math:: \hat s = -\frac{x-(m-\Delta)}{t}\ \Big|\ \frac{\delta}{\Delta-\delta}\,\frac{x-m}{t}
              \ \Big|\ -\frac{x-(m+\Delta)}{t}

    with kinks at :math:`m\mp(\Delta-\delta)`. The value jumps are simplified to 0 (continuity);
    the slope jumps are :math:`\Delta/((\Delta-\delta)t)` each, so the gap contributes

    .. math:: \int|f''| = \frac{2\Delta}{(\Delta-\kappa\sqrt t)\,t}

    to :math:`R[f]` (note §1.4 [D]: :math:`2/((1-\delta)t)` for :math:`\{-1,+1\}`). The
    regime :math:`\Delta > \delta` is imposed by writing :math:`\Delta = \delta + w`, w > 0,
    while taking absolute values.
    """
    x, m = sympy.symbols("x m", real=True)
    t, kappa, Delta, w = sympy.symbols("t kappa Delta w", positive=True)
    delta = kappa * sympy.sqrt(t)
    left = -(x - (m - Delta)) / t
    ramp = delta / (Delta - delta) * (x - m) / t
    right = -(x - (m + Delta)) / t
    kinks = (m - Delta + delta, m + Delta - delta)
    value_jumps = (
        sympy.simplify((ramp - left).subs(x, kinks[0])),
        sympy.simplify((right - ramp).subs(x, kinks[1])),
    )
    slope_jumps = (
        sympy.simplify(sympy.diff(ramp - left, x)),
        sympy.simplify(sympy.diff(right - ramp, x)),
    )
    # |jump| with the regime Δ > δ made explicit (Δ = δ + w), then back to Δ.
    total = sum(sympy.Abs(j.subs(Delta, delta + w)) for j in slope_jumps)
    non_smoothness = sympy.simplify(sympy.simplify(total).subs(w, Delta - delta))
    return SmoothedScoreGap(
        left, ramp, right, kinks, value_jumps, slope_jumps, non_smoothness, x, t, kappa, Delta, m
    )


def asymptotic_loss_integral() -> AsymptoticLoss:
    r"""F(κ) integrated by sympy from its definition, and its closed form.

    Returns
    -------
    AsymptoticLoss

    Notes
    -----
    .. math:: F(\kappa) = \int_\kappa^\infty (z-\kappa)^2\,\varphi(z)\,dz
              = (1+\kappa^2)\,\bar\Phi(\kappa) - \kappa\,\varphi(\kappa),
              \qquad \bar\Phi(\kappa) = \tfrac12\operatorname{erfc}(\kappa/\sqrt2),

    the small-t limit of the score-matching loss of the two-point S-PL-ESF (note §2.1 [D]; VE,
    variance t).
    """
    kappa = sympy.Symbol("kappa", positive=True)
    z = sympy.Symbol("z", real=True)
    phi = sympy.exp(-(z**2) / 2) / sympy.sqrt(2 * sympy.pi)
    integral = sympy.integrate((z - kappa) ** 2 * phi, (z, kappa, sympy.oo))
    tail = sympy.erfc(kappa / sympy.sqrt(2)) / 2
    closed_form = (1 + kappa**2) * tail - kappa * phi.subs(z, kappa)
    difference = sympy.simplify((integral - closed_form).rewrite(sympy.erf))
    return AsymptoticLoss(integral, closed_form, difference, kappa)


def loss_ramp_residual() -> LossRampResidual:
    r"""Scaled residual between the S-PL-ESF ramp and the PL-ESF next to a training point.

    Returns
    -------
    LossRampResidual

    Notes
    -----
    Near the right point :math:`y = m + \Delta` of a gap put :math:`\xi = y + \sqrt t\,z`
    (z < −κ is the ramp). The ESF equals the PL-ESF :math:`(y-\xi)/t` there up to exponentially
    small terms, and

    .. math:: \frac{t\hat s(\xi) - (y - \xi)}{\sqrt t} = \frac{\Delta\,(z+\kappa)}{\Delta-\kappa\sqrt t},

    so :math:`L_t \to \frac1n\sum_k 2F(\kappa)/(1-\delta_t/\Delta_k)^2` (derived here [D];
    VE, variance t). ``difference`` is simplified to 0.
    """
    z, m = sympy.symbols("z m", real=True)
    t, kappa, Delta = sympy.symbols("t kappa Delta", positive=True)
    delta = kappa * sympy.sqrt(t)
    y = m + Delta
    xi = y + sympy.sqrt(t) * z
    t_ramp = delta / (Delta - delta) * (xi - m)  # t times the ramp
    residual = (t_ramp - (y - xi)) / sympy.sqrt(t)
    closed_form = Delta * (z + kappa) / (Delta - delta)
    difference = sympy.simplify(residual - closed_form)
    return LossRampResidual(residual, closed_form, difference, z, t, kappa, Delta)


def flow_invariants() -> FlowInvariants:
    r"""Invariants and trajectories of the PF-ODE under the S-PL-ESF, by sympy.

    Returns
    -------
    FlowInvariants

    Notes
    -----
    Flow :math:`\dot x_\tau = -\tfrac12\hat s_{\tau,\kappa\sqrt\tau}(x_\tau)` (VE, variance τ;
    paper004 Prop. 2, note §2.2 [N/D]). In the middle region of a gap,
    :math:`\hat s = \frac{\kappa\sqrt\tau}{\Delta-\kappa\sqrt\tau}\frac{x-m}{\tau}` and
    :math:`c = (x-m)/(\Delta-\kappa\sqrt\tau)` is invariant; next to a point y,
    :math:`\hat s = (y-x)/\tau` and :math:`(x-y)/\sqrt\tau` is invariant (the normal part,
    y = 0, is the same ODE: note §2.4). The rates :math:`\partial_\tau I + \partial_x I\,\dot x`
    are simplified to 0, and ``dsolve`` with :math:`x(t_0) = x_t` gives

    .. math:: x_s = m + (x_t - m)\,\frac{\Delta-\kappa\sqrt s}{\Delta-\kappa\sqrt{t_0}},
              \qquad x_s = y + (x_t - y)\sqrt{s/t_0}.
    """
    x, m, y, x_t = sympy.symbols("x m y x_t", real=True)
    tau, s, t0, kappa, Delta = sympy.symbols("tau s t_0 kappa Delta", positive=True)
    delta = kappa * sympy.sqrt(tau)
    ramp = delta / (Delta - delta) * (x - m) / tau
    pull = (y - x) / tau
    middle_invariant = (x - m) / (Delta - delta)
    outer_invariant = (x - y) / sympy.sqrt(tau)

    def rate(invariant, score):
        velocity = -score / 2
        return sympy.simplify(sympy.diff(invariant, tau) + sympy.diff(invariant, x) * velocity)

    path = sympy.Function("X")
    trajectories = []
    for score in (ramp, pull):
        ode = sympy.Eq(path(tau).diff(tau), -score.subs(x, path(tau)) / 2)
        solution = sympy.dsolve(ode, path(tau), ics={path(t0): x_t})
        trajectories.append(sympy.simplify(solution.rhs.subs(tau, s)))
    return FlowInvariants(
        middle_invariant=middle_invariant,
        outer_invariant=outer_invariant,
        middle_rate=rate(middle_invariant, ramp),
        outer_rate=rate(outer_invariant, pull),
        middle_trajectory=trajectories[0],
        outer_trajectory=trajectories[1],
        x=x,
        tau=tau,
        s=s,
        t0=t0,
        x_t=x_t,
        kappa=kappa,
        Delta=Delta,
        m=m,
        y=y,
    )
