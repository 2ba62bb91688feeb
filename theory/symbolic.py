r"""Symbolic (sympy) re-derivations of the key closed forms, to test the numeric code against.

Nothing here computes a closed form with numpy: every expression is derived by sympy from a
log-density (differentiation, solving an equation), and the tests turn it into a function with
:func:`sympy.lambdify` and compare it with :mod:`theory.distributions` and :mod:`theory.spectra`.

Convention: VE, :math:`x_\sigma = x_0 + \sigma\varepsilon`, so the noised law of a Gaussian with
covariance :math:`\Sigma` is :math:`\mathcal N(0, \Sigma + \sigma^2 I)`. Jacobians are of the score.
"""

from __future__ import annotations

from typing import NamedTuple

import sympy

from theory._validation import check_integer

__all__ = [
    "GaussianJacobian",
    "IntermediateGapExtremum",
    "MarchenkoPasturEdges",
    "MixtureFields1D",
    "StaircaseThreshold",
    "gaussian_score_jacobian",
    "intermediate_gap_extremum",
    "marchenko_pastur_edges",
    "mixture_score_jacobian_1d",
    "staircase_threshold",
]


class GaussianJacobian(NamedTuple):
    """Result of :func:`gaussian_score_jacobian`: the matrix and the symbols it is written in."""

    jacobian: sympy.Matrix  # (d, d) score Jacobian
    x: tuple  # (x_1, ..., x_d), real
    lambdas: tuple  # (lambda_1, ..., lambda_k), positive tangent variances
    sigma: sympy.Symbol  # VE noise level, positive


class StaircaseThreshold(NamedTuple):
    """Result of :func:`staircase_threshold`: sympy expressions in ``lam``, ``sigma`` and ``c``."""

    singular_value: sympy.Expr  # tangent singular value s = 1 / (lambda + sigma^2)
    normalised: sympy.Expr  # sigma^2 s, the quantity D1 compares with c
    lambda_threshold: sympy.Expr  # lambda at which sigma^2 s = c: (1/c - 1) sigma^2
    sigma_step: sympy.Expr  # sigma at which sigma^2 s = c: sqrt(lambda / (1/c - 1))
    shift_factor: sympy.Expr  # sigma_step / sqrt(lambda) = (1/c - 1)^(-1/2)
    lam: sympy.Symbol
    sigma: sympy.Symbol
    c: sympy.Symbol


class MixtureFields1D(NamedTuple):
    """Result of :func:`mixture_score_jacobian_1d`: log-density, score and Jacobian with symbols."""

    log_density: sympy.Expr
    score: sympy.Expr  # d/dx log p_sigma
    jacobian: sympy.Expr  # d^2/dx^2 log p_sigma
    x: sympy.Symbol
    pi: sympy.Symbol  # weight π₁ of component 1, in (0, 1); printed as pi_1
    m1: sympy.Symbol
    m2: sympy.Symbol
    v1: sympy.Symbol  # data variance of component 1, >= 0 (0 is a point mass)
    v2: sympy.Symbol
    sigma: sympy.Symbol


class IntermediateGapExtremum(NamedTuple):
    """Result of :func:`intermediate_gap_extremum`: sympy expressions in ``t``, ``a``, ``b``, ``delta``."""

    gap: sympy.Expr  # Δ(t) = t/(t + a) − t/(t + b)
    derivative: sympy.Expr  # dΔ/dt
    t_max: sympy.Expr  # the positive solution of dΔ/dt = 0: sqrt(a) sqrt(b)
    delta_max: sympy.Expr  # Δ(t_max)
    t_minus: sympy.Expr  # smaller root of Δ(t) = δ (the gap closes here during generation)
    t_plus: sympy.Expr  # larger root of Δ(t) = δ (the gap opens here)
    root_product: sympy.Expr  # t_minus · t_plus, simplified: a b
    t: sympy.Symbol
    a: sympy.Symbol
    b: sympy.Symbol
    delta: sympy.Symbol


class MarchenkoPasturEdges(NamedTuple):
    """Result of :func:`marchenko_pastur_edges`: sympy expressions in ``m``, ``alpha``, ``tau``."""

    z: sympy.Expr  # inverse Stieltjes transform z(m) = −1/m + α τ/(1 + τ m)
    m_minus: sympy.Expr  # critical point giving the lower edge
    m_plus: sympy.Expr  # critical point giving the upper edge
    gamma_minus: sympy.Expr  # z(m_minus), simplified
    gamma_plus: sympy.Expr  # z(m_plus), simplified
    m: sympy.Symbol
    alpha: sympy.Symbol
    tau: sympy.Symbol


def _normal_log_pdf(x, mean, variance):
    return -((x - mean) ** 2) / (2 * variance) - sympy.log(2 * sympy.pi * variance) / 2


def gaussian_score_jacobian(d: int, k: int) -> GaussianJacobian:
    r"""Score Jacobian of the noised linear-subspace Gaussian in its own eigenbasis, by sympy.

    Arguments
    ---------
    d : ambient dimension, d ≥ 1.
    k : subspace dimension, 1 ≤ k ≤ d.

    Returns
    -------
    :class:`GaussianJacobian` ``(jacobian, x, lambdas, sigma)``: the d×d sympy Matrix and its
    symbols.

    Notes
    -----
    Data :math:`x_0 = Q_T z`, :math:`z\sim\mathcal N(0,\operatorname{diag}\lambda)`, with
    :math:`Q_T` the first k axes; VE noise :math:`x_\sigma = x_0 + \sigma\varepsilon` gives
    :math:`p_\sigma = \mathcal N(0, \operatorname{diag}(\lambda_1+\sigma^2, \dots,
    \lambda_k+\sigma^2, \sigma^2, \dots, \sigma^2))`. The Jacobian is the Hessian of the
    log-density, differentiated symbolically:

    .. math:: J_\sigma = \nabla_x^2 \log p_\sigma(x)
              = -\operatorname{diag}\Big(\frac{1}{\lambda_1+\sigma^2}, \dots,
                \frac{1}{\lambda_k+\sigma^2}, \frac{1}{\sigma^2}, \dots, \frac{1}{\sigma^2}\Big).

    For any other orthonormal basis Q the Jacobian is :math:`Q J_\sigma Q^\top`.
    Source: paper000 §1.4.
    """
    d = check_integer("d", d, minimum=1, allowed="a positive integer")
    k = check_integer("k", k, minimum=1, maximum=d, allowed=f"an integer with 1 <= k <= d = {d}")
    x = sympy.symbols(f"x1:{d + 1}", real=True)
    lambdas = sympy.symbols(f"lambda1:{k + 1}", positive=True)
    sigma = sympy.Symbol("sigma", positive=True)
    variances = [lam + sigma**2 for lam in lambdas] + [sigma**2] * (d - k)
    log_p = sum(_normal_log_pdf(xi, 0, v) for xi, v in zip(x, variances, strict=True))
    jacobian = sympy.hessian(log_p, x).applyfunc(sympy.simplify)
    return GaussianJacobian(jacobian, tuple(x), tuple(lambdas), sigma)


def staircase_threshold() -> StaircaseThreshold:
    r"""The D1 local-dimension threshold and staircase step, solved by sympy.

    Returns
    -------
    :class:`StaircaseThreshold` with the expressions ``singular_value``, ``normalised``,
    ``lambda_threshold``, ``sigma_step``, ``shift_factor`` and the symbols ``lam``, ``sigma``,
    ``c``.

    Notes
    -----
    A tangent direction with data variance :math:`\lambda` has score-Jacobian singular value
    :math:`s = 1/(\lambda+\sigma^2)` (VE, paper000 §1.4). Rule D1 (paper000 §2.2) counts it when
    :math:`\sigma^2 s < c`. Since
    :math:`\partial_\lambda(\sigma^2 s) = -\sigma^2/(\lambda+\sigma^2)^2 < 0`, the count flips
    where :math:`\sigma^2 s = c`; solving for :math:`\lambda` and for :math:`\sigma`,

    .. math:: \sigma^2 s < c \iff \lambda > \Big(\frac1c - 1\Big)\sigma^2, \qquad
              \sigma_{step} = \sqrt{\lambda\,/\,(1/c - 1)} = \sqrt\lambda\,(1/c-1)^{-1/2}.

    The step is solved for :math:`u = \sigma^2 > 0` (the equation is linear in u), then
    :math:`\sigma_{step} = \sqrt u`. Here :math:`0 < c < 1`.
    """
    lam, sigma, c, u = sympy.symbols("lambda sigma c u", positive=True)
    s = 1 / (lam + sigma**2)
    normalised = sigma**2 * s
    (lambda_threshold,) = sympy.solve(sympy.Eq(normalised, c), lam)
    (u_step,) = sympy.solve(sympy.Eq(normalised.subs(sigma, sympy.sqrt(u)), c), u)
    sigma_step = sympy.sqrt(u_step)
    shift_factor = sympy.simplify(sigma_step / sympy.sqrt(lam))
    return StaircaseThreshold(
        singular_value=s,
        normalised=normalised,
        lambda_threshold=sympy.simplify(lambda_threshold),
        sigma_step=sigma_step,
        shift_factor=shift_factor,
        lam=lam,
        sigma=sigma,
        c=c,
    )


def mixture_score_jacobian_1d() -> MixtureFields1D:
    r"""Log-density, score and score Jacobian of a noised 1-D two-component Gaussian mixture.

    Returns
    -------
    :class:`MixtureFields1D` with the expressions ``log_density``, ``score``, ``jacobian`` and the
    symbols ``x``, ``pi``, ``m1``, ``m2``, ``v1``, ``v2``, ``sigma``.

    Notes
    -----
    Data :math:`x_0 \sim \pi\,\mathcal N(m_1, v_1) + (1-\pi)\,\mathcal N(m_2, v_2)` (``v = 0`` is a
    point mass); VE noise gives component variances :math:`c_i = v_i + \sigma^2` and

    .. math:: \log p_\sigma(x) = \log\big(\pi\,\mathcal N(x; m_1, c_1)
              + (1-\pi)\,\mathcal N(x; m_2, c_2)\big),

    whose first and second x-derivatives are taken by sympy. They are the 1-D case of the closed
    form :math:`J = -\sum_k w_k c_k^{-1} + \sum_k w_k (s_k - s)^2` of paper000 §1.4
    (:func:`theory._scores.mixture_fields`).
    """
    x, m1, m2 = sympy.symbols("x m1 m2", real=True)
    pi = sympy.Symbol("pi_1", positive=True)  # not "pi": lambdify would shadow the constant π
    v1, v2 = sympy.symbols("v1 v2", nonnegative=True)
    sigma = sympy.Symbol("sigma", positive=True)
    c1, c2 = v1 + sigma**2, v2 + sigma**2
    density = pi * sympy.exp(_normal_log_pdf(x, m1, c1)) + (1 - pi) * sympy.exp(
        _normal_log_pdf(x, m2, c2)
    )
    log_density = sympy.log(density)
    score = sympy.diff(log_density, x)
    jacobian = sympy.diff(log_density, x, 2)
    return MixtureFields1D(log_density, score, jacobian, x, pi, m1, m2, v1, v2, sigma)


def intermediate_gap_extremum() -> IntermediateGapExtremum:
    r"""Peak time, peak width and window roots of the intermediate gap, derived by sympy.

    Returns
    -------
    :class:`IntermediateGapExtremum` with the expressions ``gap``, ``derivative``, ``t_max``,
    ``delta_max``, ``t_minus``, ``t_plus``, ``root_product`` and the symbols ``t``, ``a``, ``b``,
    ``delta`` (all positive; the formulas assume a < b and 0 < δ < Δ_max).

    Notes
    -----
    Convention: VE with :math:`t = \sigma^2` (:math:`x_t = x_0 + \sqrt t\,\varepsilon`); the
    eigenvalues of :math:`-tJ_t` are :math:`\mu = t/(t+\lambda)`, so two covariance bulks with
    a = top of the lower one and b = bottom of the upper one leave the gap

    .. math:: \Delta(t) = \frac{t}{t+a} - \frac{t}{t+b}.

    sympy solves :math:`d\Delta/dt = 0` for t > 0, giving :math:`t_{max} = \sqrt{ab}`, substitutes it
    (:math:`\Delta_{max} = (\sqrt b - \sqrt a)/(\sqrt b + \sqrt a)` after simplification), and
    solves :math:`\Delta(t) = \delta` for t (a quadratic, with a symbol free of sign assumptions so
    that both roots are kept); the product of the two roots simplifies to
    :math:`t_-t_+ = ab = t_{max}^2`. The roots are labelled by their value at the admissible point
    a = 1, b = 4, δ = 1/10 (the '+ sqrt' root is the larger one whenever both are real).
    Source: paper001 §2.4, Eqs. 18, 20–22, 24–25 [R], explicit roots [D]; tested against
    :func:`theory.spectra.gap_peak` and :func:`theory.spectra.gap_window`.
    """
    t, a, b, delta = sympy.symbols("t a b delta", positive=True)
    gap = t / (t + a) - t / (t + b)
    derivative = sympy.diff(gap, t)
    (t_max,) = sympy.solve(sympy.Eq(derivative, 0), t)
    delta_max = sympy.simplify(gap.subs(t, t_max))
    s = sympy.Symbol("s")  # no assumptions: keep both roots of the quadratic
    roots = sympy.solve(sympy.Eq(gap.subs(t, s), delta), s)
    if len(roots) != 2:
        raise ArithmeticError(f"expected two roots of Δ(t) = δ, sympy gave {roots}")
    sample = {a: 1, b: 4, delta: sympy.Rational(1, 10)}
    t_minus, t_plus = sorted(roots, key=lambda r: float(r.subs(sample)))
    t_minus, t_plus = t_minus.subs(s, t), t_plus.subs(s, t)
    root_product = sympy.simplify(sympy.expand(t_minus * t_plus))
    return IntermediateGapExtremum(
        gap=gap,
        derivative=derivative,
        t_max=t_max,
        delta_max=delta_max,
        t_minus=t_minus,
        t_plus=t_plus,
        root_product=root_product,
        t=t,
        a=a,
        b=b,
        delta=delta,
    )


def marchenko_pastur_edges() -> MarchenkoPasturEdges:
    r"""Marchenko–Pastur edges from the critical points of the inverse Stieltjes transform, by sympy.

    Returns
    -------
    :class:`MarchenkoPasturEdges` with the expressions ``z``, ``m_minus``, ``m_plus``,
    ``gamma_minus``, ``gamma_plus`` and the symbols ``m`` (real), ``alpha``, ``tau`` (positive;
    the law needs α < 1).

    Notes
    -----
    Convention: VE with :math:`t = \sigma^2`; :math:`C = \tau FF^\top`,
    :math:`F_{ij}\sim\mathcal N(0, 1/N)` (variant (a)), :math:`\alpha = D/N`. The one-level
    Silverstein inverse is

    .. math:: z(m) = -\frac1m + \frac{\alpha\tau}{1+\tau m},

    and the edges are :math:`z(m^*)` at the real roots of :math:`z'(m) = 0`,
    :math:`m^* = -1/(\tau(1\pm\sqrt\alpha))`, which simplify to :math:`\tau(1\pm\sqrt\alpha)^2`.
    The root with the larger edge is ``m_plus`` (labelled at α = 1/4, τ = 1).
    Source: paper001 §2.3 Eq. 16 [R], §2.4 [D]; tested against
    :func:`theory.spectra.marchenko_pastur` and :func:`theory.spectra.silverstein_edges`.
    """
    m = sympy.Symbol("m", real=True)
    alpha, tau = sympy.symbols("alpha tau", positive=True)
    z = -1 / m + alpha * tau / (1 + tau * m)
    crit = sympy.solve(sympy.Eq(sympy.diff(z, m), 0), m)
    if len(crit) != 2:
        raise ArithmeticError(f"expected two critical points of z(m), sympy gave {crit}")
    sample = {alpha: sympy.Rational(1, 4), tau: 1}
    m_minus, m_plus = sorted(crit, key=lambda c: float(z.subs(m, c).subs(sample)))
    return MarchenkoPasturEdges(
        z=z,
        m_minus=m_minus,
        m_plus=m_plus,
        gamma_minus=sympy.simplify(z.subs(m, m_minus)),
        gamma_plus=sympy.simplify(z.subs(m, m_plus)),
        m=m,
        alpha=alpha,
        tau=tau,
    )
