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

__all__ = [
    "GaussianJacobian",
    "MixtureFields1D",
    "StaircaseThreshold",
    "gaussian_score_jacobian",
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
    if int(d) != d or d < 1:
        raise ValueError(f"d must be a positive integer (got {d})")
    if int(k) != k or not 1 <= k <= d:
        raise ValueError(f"k must be an integer with 1 <= k <= d = {d} (got {k})")
    d, k = int(d), int(k)
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
    (:func:`theory.scores.mixture_fields`).
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
