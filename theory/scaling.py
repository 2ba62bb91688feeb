r"""Energy scaling laws of score-based models on manifolds: drift energy, Girsanov bounds, priors.

Conventions
-----------
OU α:  forward :math:`dX = -\alpha X\,dt + \sqrt2\,dB`, :math:`\alpha \ge 0`, with
:math:`X_t = a_t X_0 + \sqrt{v_t}\,Z`,

.. math:: a_t = e^{-\alpha t}, \qquad v_t = \frac{1 - e^{-2\alpha t}}{\alpha}
          \quad (v_t = 2t \text{ at } \alpha = 0)

(:func:`theory.schedules.ou_a`, :func:`theory.schedules.ou_v`). α = 1 is the OU/VP process with
stationary law N(0, I); α = 0 is Brownian motion, the VE process with :math:`\sigma_t^2 = 2t`
(research note paper002 §1.1).

Subspace data: :math:`X_0 = Q z`, :math:`z\sim\mathcal N(0, \operatorname{diag}\lambda)` with
:math:`Q \in \mathbb R^{d\times k}` orthonormal, so
:math:`\mathrm{Cov}_t = a_t^2 Q\Lambda Q^\top + v_t I` has the eigenvalues :math:`v_t` (d − k times,
normal to M) and :math:`w_j(t) = a_t^2\lambda_j + v_t` (tangent). Nothing here depends on Q.

Girsanov (paper002 §1.3): the reverse SDE with a score approximation s and the exact reverse
process have drifts that differ by :math:`2(s - \nabla\log p_t)` and the same diffusion √2, so

.. math:: \mathrm{KL}(\mu_{data}\,\|\,\mu_{SGM}) \le \mathrm{KL}(p_T\,\|\,\pi)
          + \int_0^T \mathbb E_{p_t}\|s(t,\cdot) - \nabla\log p_t\|^2\,dt .

Tags in the docstrings follow the note: [R] reconstructed from standard mathematics, [Cit]
attributed to the paper by later work, [C] calibration numbers (not ground truth).

Rate separation (paper003, the last section): σ-scaling laws of the score on a manifold and of
Tempered-Score Langevin, in the noise standard deviation σ (VE: :math:`x_\sigma = x + \sigma Z`;
VP: :math:`x_\sigma = \sqrt{1-\sigma^2}\,x + \sigma Z`), and the exact noised circle. Their
tags are the paper003 note's: [P] the paper's text, [D] derived in the note and checked there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import integrate, linalg
from scipy.special import exprel, i0e, i1e

from theory._validation import (
    as_points,
    as_sigma,
    broadcast,
    check_finite,
    check_integer,
    check_positive,
    check_scalar,
)
from theory.distributions import EIGENVALUE_CUTOFF
from theory.schedules import ou_a, ou_v

__all__ = [
    "CircleScoreTerms",
    "best_gaussian_prior_ve",
    "circle_score_decomposition",
    "drift_energy",
    "drift_energy_integral",
    "drift_energy_rate",
    "drift_energy_remainder",
    "empirical_error_limit",
    "gaussian_kl",
    "girsanov_kl_bound",
    "noised_circle_log_density",
    "noised_circle_score",
    "normal_offset",
    "normal_spread",
    "normal_stiffness",
    "ou_prior_kl",
    "pf_ode_terminal_offset",
    "power_law_error_energy_integral",
    "power_law_error_energy_limit",
    "reverse_sde_terminal_offset",
    "sphere_mean_curvature_term",
    "ts_circle_tv",
    "ts_thickness",
    "ts_uniform_tv_exponent",
    "von_mises_tv_to_uniform",
]

# Relative accuracy asked of the quadrature in girsanov_kl_bound, and its subinterval budget.
_QUAD_RTOL = 1e-10
_QUAD_LIMIT = 200
# A covariance whose asymmetry exceeds this fraction of its largest entry is refused.
_SYMMETRY_RTOL = 1e-10
# Below this |x|, x - log1p(x) is summed as a power series (the direct form loses digits).
_SERIES_X = 0.1
_SERIES_TERMS = 20


# --------------------------------------------------------------------------------------------
# Input checks (argument, allowed range)


def _alpha(alpha) -> float:
    alpha = check_scalar("alpha", alpha)
    if alpha < 0:
        raise ValueError(f"alpha must be >= 0 (got {alpha:.6g})")
    return alpha


def _subspace(d, variances) -> tuple[int, np.ndarray]:
    """The ambient dimension and the (k,) tangent variances, 1 <= k <= d."""
    d = check_integer("d", d, minimum=1, allowed="a positive integer")
    lam = check_positive("variances", variances)
    if lam.ndim != 1 or lam.size == 0:
        raise ValueError(f"variances must be a non-empty 1-D array (got shape {lam.shape})")
    if lam.size > d:
        raise ValueError(f"variances has k = {lam.size} entries, more than the dimension d = {d}")
    return d, lam


def _interval(eps, T) -> tuple[np.ndarray, np.ndarray]:
    """Broadcast ``eps`` and ``T`` with 0 < eps < T elementwise."""
    eps, T = broadcast(eps=check_positive("eps", eps), T=check_positive("T", T))
    if np.any(eps >= T):
        bad = np.argmax(eps >= T)
        raise ValueError(
            f"eps must be < T (got eps = {eps.flat[bad]:.6g} >= T = {T.flat[bad]:.6g})"
        )
    return eps, T


def _mean_cov(mean_name: str, mean, cov_name: str, cov) -> tuple[np.ndarray, np.ndarray]:
    """A (d,) mean and a symmetric (d, d) covariance (symmetrised; definiteness not checked)."""
    mu = check_finite(mean_name, mean)
    if mu.ndim != 1 or mu.size == 0:
        raise ValueError(f"{mean_name} must be a non-empty 1-D array (got shape {mu.shape})")
    c = check_finite(cov_name, cov)
    d = mu.size
    if c.shape != (d, d):
        raise ValueError(
            f"{cov_name} must have shape (d, d) = ({d}, {d}), d the length of {mean_name} "
            f"(got {c.shape})"
        )
    scale = np.max(np.abs(c))
    if np.max(np.abs(c - c.T)) > _SYMMETRY_RTOL * scale:
        raise ValueError(f"{cov_name} must be symmetric (relative asymmetry > {_SYMMETRY_RTOL:g})")
    return mu, 0.5 * (c + c.T)


def _cholesky(name: str, cov: np.ndarray) -> np.ndarray:
    try:
        return linalg.cholesky(cov, lower=True)
    except linalg.LinAlgError:
        raise ValueError(f"{name} must be positive definite (Cholesky failed)") from None


# --------------------------------------------------------------------------------------------
# B1: drift energy of the exact score for subspace data


def drift_energy(t, d: int, variances, alpha=1.0) -> np.ndarray:
    r"""Energy :math:`\mathbb E\|\nabla\log p_t(X_t)\|^2` of the exact score, Gaussian subspace data.

    Arguments
    ---------
    t : time(s) t > 0, any shape S.
    d : ambient dimension, a positive integer.
    variances : (k,) tangent variances :math:`\lambda_j > 0`, k ≤ d.
    alpha : OU rate α ≥ 0 (OU α convention; α = 0 is VE with σ² = 2t).

    Returns
    -------
    Array of shape S.

    Notes
    -----
    For :math:`X_0 = Qz`, :math:`z\sim\mathcal N(0,\operatorname{diag}\lambda)`, the score is
    :math:`-\mathrm{Cov}_t^{-1}x`, so its energy is the Fisher information
    :math:`\operatorname{tr}\mathrm{Cov}_t^{-1}` (paper002 §2 B1 [R]):

    .. math:: \mathbb E\|\nabla\log p_t(X_t)\|^2 = \frac{d-k}{v_t}
              + \sum_{j=1}^k \frac{1}{a_t^2\lambda_j + v_t}
              \;\approx\; \frac{d-k}{2t} \quad (t\to 0).

    It need not decrease in t: for α > 0 its t-derivative is
    :math:`-2a_t^2[(d-k)/v_t^2 + \sum_j (1-\alpha\lambda_j)/w_j^2]`, which turns positive at large t
    when :math:`\sum_j(\alpha\lambda_j - 1) > d - k` (tangent variances above the stationary 1/α).
    It is decreasing for α = 0, or when every :math:`\lambda_j \le 1/\alpha`.

    Raises
    ------
    ValueError
        If ``t`` holds an entry ≤ 0 or non-finite, ``d`` is not a positive integer, ``variances``
        is not a non-empty 1-D array of positive numbers with at most d entries, or ``alpha`` < 0.
    """
    t = check_positive("t", t)
    d, lam = _subspace(d, variances)
    alpha = _alpha(alpha)
    a, v = ou_a(t, alpha), ou_v(t, alpha)
    w = a[..., None] ** 2 * lam + v[..., None]
    return (d - lam.size) / v + np.sum(1.0 / w, axis=-1)


def _half_log1p_ratio(log_g: np.ndarray, w0: np.ndarray) -> np.ndarray:
    r""":math:`\tfrac12\log(1 + g/w_0)` from :math:`\log g`, with no overflow and no cancellation."""
    return 0.5 * np.logaddexp(0.0, log_g - np.log(w0))


def drift_energy_integral(eps, T, d: int, variances, alpha=1.0) -> np.ndarray:
    r"""Integrated drift energy :math:`I(\varepsilon) = \int_\varepsilon^T \mathbb E\|\nabla\log p_t\|^2\,dt`.

    Arguments
    ---------
    eps, T : limits 0 < eps < T, broadcast against each other (shape S).
    d, variances, alpha : as in :func:`drift_energy` (OU α convention).

    Returns
    -------
    Array of shape S.

    Notes
    -----
    Closed form (paper002 §2 B1 [R], T-B2). With :math:`w(t) = a_t^2\lambda + v_t` (λ = 0 for the
    d − k normal directions, so w = v_t there), :math:`1/w = \alpha e^{2\alpha t}/(e^{2\alpha t}
    + \alpha\lambda - 1)` has the antiderivative :math:`\tfrac12\log(e^{2\alpha t} + \alpha\lambda - 1)`
    (α > 0; at α = 0 it is :math:`\tfrac12\log(\lambda + 2t)`). Both cases are the one expression

    .. math:: \int_\varepsilon^T \frac{dt}{w(t)} = \frac12\log\Big(1 + \frac{g}{w(\varepsilon)}\Big),
              \qquad g = e^{2\alpha\Delta} v_\Delta = \frac{e^{2\alpha\Delta} - 1}{\alpha}\ (2\Delta
              \text{ at } \alpha = 0), \quad \Delta = T - \varepsilon,

    so that :math:`I = \tfrac{d-k}{2}\log(1 + g/v_\varepsilon) + \tfrac12\sum_j\log(1 + g/w_j(\varepsilon))`.
    It is evaluated as :math:`\tfrac12\,\mathrm{softplus}(\log g - \log w(\varepsilon))` with
    :math:`\log g = 2\alpha\Delta + \log v_\Delta`: no :math:`e^{2\alpha T}` overflow at large T,
    and full relative precision when the integral is small. As ε → 0 it grows like
    :func:`drift_energy_rate` per e-fold of ε, plus :func:`drift_energy_remainder`.

    Raises
    ------
    ValueError
        Unless 0 < eps < T (finite) elementwise, with ``eps`` and ``T`` broadcastable; and as in
        :func:`drift_energy` for ``d``, ``variances`` and ``alpha``.
    """
    eps, T = _interval(eps, T)
    d, lam = _subspace(d, variances)
    alpha = _alpha(alpha)
    delta = T - eps
    log_g = 2.0 * alpha * delta + np.log(ou_v(delta, alpha))
    a, v = ou_a(eps, alpha), ou_v(eps, alpha)
    w = a[..., None] ** 2 * lam + v[..., None]
    normal = (d - lam.size) * _half_log1p_ratio(log_g, v)
    return normal + np.sum(_half_log1p_ratio(log_g[..., None], w), axis=-1)


def drift_energy_rate(d: int, k: int) -> float:
    r"""Growth of :math:`I(\varepsilon)` per e-fold of ε: :math:`(d-k)/2` (paper002 §2 B1, T-B2).

    Notes
    -----
    .. math:: I(\varepsilon) = \frac{d-k}{2}\log\frac1\varepsilon + C(T) + O(\varepsilon),

    the same for every α ≥ 0 (OU α convention or VE), so I grows by :math:`\tfrac{d-k}{2}\ln 10`
    per decade of ε; C(T) is :func:`drift_energy_remainder`. Here 0 ≤ k ≤ d (k = 0: point data,
    k = d: full-dimensional data, whose energy is integrable).

    Raises
    ------
    ValueError
        If ``d`` is not a positive integer, or ``k`` is not an integer with 0 ≤ k ≤ d.
    """
    d = check_integer("d", d, minimum=1, allowed="a positive integer")
    k = check_integer("k", k, minimum=0, maximum=d)
    return 0.5 * (d - k)


def drift_energy_remainder(T, d: int, variances, alpha=1.0) -> np.ndarray:
    r"""The O(1) remainder :math:`C(T) = \lim_{\varepsilon\to0}[I(\varepsilon) - \tfrac{d-k}{2}\log(1/\varepsilon)]`.

    Arguments
    ---------
    T : end time(s) T > 0, any shape S.
    d, variances, alpha : as in :func:`drift_energy` (OU α convention).

    Returns
    -------
    Array of shape S.

    Notes
    -----
    From the closed form of :func:`drift_energy_integral` at ε → 0 (paper002 §2 B1 [R]), with
    :math:`w_j(T) = a_T^2\lambda_j + v_T`:

    .. math:: C(T) = (d-k)\Big[\alpha T + \frac12\log\frac{v_T}{2}\Big]
              + \sum_{j=1}^k \Big[\alpha T + \frac12\log\frac{w_j(T)}{\lambda_j}\Big],

    evaluated as :math:`\tfrac12\,\mathrm{softplus}(2\alpha T + \log v_T - \log\lambda_j)` for the
    tangent terms. The next term is linear in ε: since
    :math:`\mathbb E\|\nabla\log p_t\|^2 - \tfrac{d-k}{2t} \to \tfrac{(d-k)\alpha}{2} + \sum_j \lambda_j^{-1}`,

    .. math:: I(\varepsilon) - \frac{d-k}{2}\log\frac1\varepsilon - C(T)
              = -\varepsilon\Big[\frac{(d-k)\alpha}{2} + \sum_j\frac1{\lambda_j}\Big] + O(\varepsilon^2).

    Raises
    ------
    ValueError
        If ``T`` holds an entry ≤ 0 or non-finite; and as in :func:`drift_energy`.
    """
    T = check_positive("T", T)
    d, lam = _subspace(d, variances)
    alpha = _alpha(alpha)
    log_g = 2.0 * alpha * T + np.log(ou_v(T, alpha))
    normal = 0.5 * (d - lam.size) * (log_g - np.log(2.0))
    return normal + np.sum(_half_log1p_ratio(log_g[..., None], lam), axis=-1)


# --------------------------------------------------------------------------------------------
# B2, T-B8: Girsanov bounds and power-law error energies


def girsanov_kl_bound(error_energy: Callable, eps, T, kl_prior=0.0) -> float:
    r"""Girsanov bound :math:`\mathrm{KL}(p_T\|\pi) + \int_\varepsilon^T E(t)\,dt` by quadrature.

    Arguments
    ---------
    error_energy : callable t ↦ :math:`E(t) = \mathbb E_{p_t}\|s(t,\cdot) - \nabla\log p_t\|^2 \ge 0`,
        called with one float t at a time; it may return a float or a one-element array.
    eps, T : scalars, 0 < eps < T.
    kl_prior : :math:`\mathrm{KL}(p_T\|\pi) \ge 0`, e.g. from :func:`ou_prior_kl`.

    Returns
    -------
    float, the bound on :math:`\mathrm{KL}(\mathbb P\|\mathbb Q)` with the time integral started at ε.

    Notes
    -----
    paper002 §1.3 and B2 [R] (OU α convention, any α ≥ 0; for a VP-β clock pass the weighted
    energy ½β(t)E(t)):

    .. math:: \mathrm{KL}(\mu_{data}\|\mu_{SGM}) \le \mathrm{KL}(p_T\|\pi) + \int_0^T E(t)\,dt,

    of which this returns the part from ε. The integral is taken in :math:`u = \log t`,
    :math:`\int_{\log\varepsilon}^{\log T} E(e^u)\,e^u\,du`, where energies :math:`\propto t^{-\gamma}`
    are smooth, by :func:`scipy.integrate.quad` (relative accuracy 1e-10, at most 200
    subintervals). When quad reports trouble and its error estimate exceeds 1e-10 of the result,
    ArithmeticError is raised rather than an inaccurate value returned.

    Raises
    ------
    ValueError
        If ``error_energy`` is not callable or returns anything but one finite number ≥ 0, unless
        0 < eps < T (finite scalars), or if ``kl_prior`` is negative or not finite.
    ArithmeticError
        If the quadrature does not reach its accuracy (e.g. a wildly oscillating energy).
    """
    if not callable(error_energy):
        raise ValueError(
            f"error_energy must be a callable t -> E(t) (got {type(error_energy).__name__})"
        )
    eps = check_scalar("eps", eps, positive=True)
    T = check_scalar("T", T, positive=True)
    _interval(eps, T)
    kl_prior = check_scalar("kl_prior", kl_prior)
    if kl_prior < 0:
        raise ValueError(f"kl_prior must be >= 0 (got {kl_prior:.6g})")

    def integrand(u: float) -> float:
        t = float(np.exp(u))
        value = np.asarray(error_energy(t))
        if value.size != 1:
            raise ValueError(
                f"error_energy must return one number per time (got shape {value.shape} at t = {t:.6g})"
            )
        e = float(check_finite("error_energy", value.reshape(())))
        if e < 0:
            raise ValueError(f"error_energy must be >= 0 (got {e:.6g} at t = {t:.6g})")
        return e * t

    out = integrate.quad(
        integrand,
        np.log(eps),
        np.log(T),
        epsabs=0.0,
        epsrel=_QUAD_RTOL,
        limit=_QUAD_LIMIT,
        full_output=1,
    )
    value, abserr = out[0], out[1]
    if len(out) > 3 and not abserr <= _QUAD_RTOL * abs(value):  # quad's message came back
        raise ArithmeticError(
            f"quadrature of error_energy on [{eps:.6g}, {T:.6g}] did not converge "
            f"(estimate {value:.6g}, error {abserr:.3g}): {' '.join(str(out[3]).split())}"
        )
    return kl_prior + value


def _power_law_args(c, gamma) -> tuple[np.ndarray, np.ndarray]:
    return check_finite("c", c), check_finite("gamma", gamma)


def _finite_result(name: str, value: np.ndarray) -> np.ndarray:
    if not np.all(np.isfinite(value)):
        raise ValueError(f"{name}: the result exceeds the float64 range for these arguments")
    return value


def power_law_error_energy_integral(c, gamma, eps, T) -> np.ndarray:
    r"""Error energy :math:`\int_\varepsilon^T c^2 t^{-\gamma}\,dt` of a power-law score error.

    Arguments
    ---------
    c : finite amplitude (RMS error :math:`|c|\,t^{-\gamma/2}`).
    gamma : finite exponent of the energy density :math:`c^2 t^{-\gamma}`.
    eps, T : limits 0 < eps < T. All four broadcast together (shape S).

    Returns
    -------
    Array of shape S.

    Notes
    -----
    paper002 §2 B2 (ii) and T-B8 [R]; any time convention (the integrand is in the time of the
    forward process):

    .. math:: \int_\varepsilon^T c^2 t^{-\gamma}\,dt = c^2\,\frac{T^{1-\gamma} - \varepsilon^{1-\gamma}}{1-\gamma}
              \quad(\gamma\ne1), \qquad c^2\log\frac T\varepsilon \quad(\gamma = 1),

    evaluated as :math:`c^2\,b^{1-\gamma} L\,\mathrm{exprel}(-|1-\gamma|L)` with b = T for
    γ < 1 and b = ε otherwise, :math:`L = \log(T/\varepsilon)`,
    :math:`\mathrm{exprel}(x) = (e^x - 1)/x \in (0, 1]` for x ≤ 0: continuous and accurate
    through γ = 1, and no intermediate overflow. Its ε → 0 limit is :func:`power_law_error_energy_limit`.

    Raises
    ------
    ValueError
        If ``c`` or ``gamma`` is not finite, unless 0 < eps < T elementwise, if the arguments do not
        broadcast, or if the result exceeds the float64 range.
    """
    c, gamma = _power_law_args(c, gamma)
    eps, T = _interval(eps, T)
    c, gamma, eps, T = broadcast(c=c, gamma=gamma, eps=eps, T=T)
    span = np.log1p((T - eps) / eps)  # log(T/ε), accurate also for T close to ε
    x = (1.0 - gamma) * span
    log_base = np.where(x > 0.0, np.log(T), np.log(eps))  # T^{1-γ} for γ < 1, else ε^{1-γ}
    with np.errstate(over="ignore", invalid="ignore"):
        value = c**2 * np.exp((1.0 - gamma) * log_base) * span * exprel(-np.abs(x))
    return _finite_result("power_law_error_energy_integral", np.where(c == 0.0, 0.0, value))


def power_law_error_energy_limit(c, gamma, T) -> np.ndarray:
    r"""The ε → 0 limit :math:`\int_0^T c^2 t^{-\gamma}\,dt`: finite iff γ < 1 (or c = 0).

    Notes
    -----
    paper002 §2 B2 (ii) [R]:

    .. math:: \int_0^T c^2 t^{-\gamma}\,dt = \frac{c^2\,T^{1-\gamma}}{1-\gamma} \quad(\gamma < 1),
              \qquad +\infty \quad(\gamma \ge 1,\ c \ne 0),

    and 0 for c = 0. So an RMS score error :math:`O(t^{-\gamma/2})` meets B2's finite-energy
    condition exactly when γ < 1, i.e. it grows strictly more slowly than :math:`t^{-1/2}`. The
    infinite value is the answer, not an overflow. Arguments broadcast together.

    Raises
    ------
    ValueError
        If ``c`` or ``gamma`` is not finite, ``T`` is not > 0 and finite, the arguments do not
        broadcast, or a finite limit exceeds the float64 range.
    """
    c, gamma = _power_law_args(c, gamma)
    c, gamma, T = broadcast(c=c, gamma=gamma, T=check_positive("T", T))
    finite = (gamma < 1.0) | (c == 0.0)
    one_minus = np.where(gamma < 1.0, 1.0 - gamma, 1.0)
    with np.errstate(over="ignore", invalid="ignore"):
        value = c**2 * np.exp(one_minus * np.log(T)) / one_minus
    value = _finite_result(
        "power_law_error_energy_limit", np.where(finite & (c != 0.0), value, 0.0)
    )
    return np.where(finite, value, np.inf)


# --------------------------------------------------------------------------------------------
# B2 (i), B6: Gaussian KL divergences and priors


def gaussian_kl(mean0, cov0, mean1, cov1) -> float:
    r"""Kullback–Leibler divergence :math:`\mathrm{KL}(\mathcal N(m_0,\Sigma_0)\,\|\,\mathcal N(m_1,\Sigma_1))`.

    Arguments
    ---------
    mean0, mean1 : (d,) means.
    cov0, cov1 : (d, d) symmetric positive definite covariances.

    Returns
    -------
    float ≥ 0.

    Notes
    -----
    .. math:: \mathrm{KL} = \frac12\Big[\operatorname{tr}(\Sigma_1^{-1}\Sigma_0)
              + (m_1-m_0)^\top\Sigma_1^{-1}(m_1-m_0) - d + \log\frac{\det\Sigma_1}{\det\Sigma_0}\Big]

    (standard; used for paper002 B2 (i) and B6). With Cholesky factors :math:`\Sigma_i = L_iL_i^\top`,
    the trace is :math:`\|L_1^{-1}L_0\|_F^2`, the quadratic form :math:`\|L_1^{-1}(m_1-m_0)\|^2` and
    the log-determinants :math:`2\sum\log\operatorname{diag}L_i`: triangular solves, no inverse.
    Convention-free.

    Raises
    ------
    ValueError
        If a mean is not a non-empty 1-D finite array, a covariance does not have shape (d, d), is
        not symmetric (relative asymmetry > 1e-10) or not positive definite, or if the two laws
        live in different dimensions.
    """
    m0, c0 = _mean_cov("mean0", mean0, "cov0", cov0)
    m1, c1 = _mean_cov("mean1", mean1, "cov1", cov1)
    if m0.size != m1.size:
        raise ValueError(
            f"mean0 and mean1 must have the same dimension (got {m0.size} and {m1.size})"
        )
    l0, l1 = _cholesky("cov0", c0), _cholesky("cov1", c1)
    trace = np.sum(linalg.solve_triangular(l1, l0, lower=True) ** 2)
    quad = np.sum(linalg.solve_triangular(l1, m1 - m0, lower=True) ** 2)
    logdet = 2.0 * np.sum(np.log(np.diag(l1)) - np.log(np.diag(l0)))
    return float(0.5 * (trace + quad - m0.size + logdet))


def _x_minus_log1p(x: np.ndarray) -> np.ndarray:
    r""":math:`x - \log(1 + x)` for x > −1, by its power series where the direct form cancels."""
    small = np.abs(x) < _SERIES_X
    xs = np.where(small, x, 0.0)
    series = np.zeros_like(xs)
    for n in range(_SERIES_TERMS + 1, 1, -1):  # Horner: sum_{n>=2} (-x)^n / n
        series = (series + 1.0 / n) * (-xs)
    series = series * (-xs)
    with np.errstate(divide="ignore"):
        direct = x - np.log1p(np.where(small, 0.0, x))
    return np.where(small, series, direct)


def ou_prior_kl(T, d: int, variances, alpha=1.0) -> np.ndarray:
    r"""Prior mismatch :math:`\mathrm{KL}(p_T\,\|\,\pi)`, π = N(0, I/α), for Gaussian subspace data.

    Arguments
    ---------
    T : end time(s) T > 0, any shape S.
    d, variances : as in :func:`drift_energy`.
    alpha : OU rate α > 0 (OU α convention); π is the stationary law, N(0, I) at α = 1.

    Returns
    -------
    Array of shape S.

    Notes
    -----
    :math:`p_T = \mathcal N(0, a_T^2Q\Lambda Q^\top + v_TI)`; every eigenvalue s of its covariance
    gives :math:`\tfrac12(\alpha s - 1 - \log\alpha s)`, and :math:`\alpha s - 1` is
    :math:`-e^{-2\alpha T}` (normal) or :math:`(\alpha\lambda_j - 1)e^{-2\alpha T}` (tangent), so
    (paper002 §2 B6 [R])

    .. math:: \mathrm{KL}(p_T\|\pi) = \frac12\Big[(d-k)\,h(-e^{-2\alpha T})
              + \sum_j h\big((\alpha\lambda_j - 1)e^{-2\alpha T}\big)\Big],
              \qquad h(x) = x - \log(1+x),

    :math:`\approx \tfrac14 e^{-4\alpha T}[(d-k) + \sum_j(\alpha\lambda_j-1)^2]` for large T:
    exponentially small. h is summed as a series for |x| < 0.1, so no digits cancel.
    For α = 0 (VE) there is no stationary law; use :func:`best_gaussian_prior_ve`.

    Raises
    ------
    ValueError
        If ``alpha`` ≤ 0 (α = 0 is refused with a pointer to :func:`best_gaussian_prior_ve`),
        ``T`` holds an entry ≤ 0 or non-finite; and as in :func:`drift_energy` for ``d`` and
        ``variances``.
    """
    alpha = _alpha(alpha)
    if alpha == 0.0:
        raise ValueError(
            "alpha must be > 0 for ou_prior_kl: the alpha = 0 (VE) process has no stationary law; "
            "use best_gaussian_prior_ve for its KL-best Gaussian prior"
        )
    T = check_positive("T", T)
    d, lam = _subspace(d, variances)
    decay = np.exp(-2.0 * alpha * T)
    normal = (d - lam.size) * _x_minus_log1p(-decay)
    tangent = np.sum(_x_minus_log1p((alpha * lam - 1.0) * decay[..., None]), axis=-1)
    return 0.5 * (normal + tangent)


def best_gaussian_prior_ve(mean, cov, T) -> tuple[np.ndarray, np.ndarray]:
    r"""KL-best Gaussian prior for the α = 0 (VE) process at time T: :math:`(m, \Sigma + 2T\,I)`.

    Arguments
    ---------
    mean : (d,) data mean :math:`\mathbb E X_0`.
    cov : (d, d) data covariance :math:`\mathrm{Cov}\,X_0`, symmetric positive semi-definite (it
        may be singular, as for data on a subspace).
    T : end time T > 0.

    Returns
    -------
    (mean, cov + 2T I) as new arrays.

    Notes
    -----
    For α = 0, :math:`X_T = X_0 + \sqrt{2T}Z` has mean :math:`\mathbb E X_0` and covariance
    :math:`\mathrm{Cov}X_0 + \sigma_T^2 I`, :math:`\sigma_T^2 = 2T`. Among Gaussians q,
    :math:`\mathrm{KL}(p_T\|q) = -H(p_T) + \mathbb E_{p_T}[-\log q]` is minimised by matching these
    two moments, whatever the law of :math:`X_0`:

    .. math:: \arg\min_{m,S}\mathrm{KL}\big(p_T\,\|\,\mathcal N(m,S)\big)
              = \big(\mathbb E X_0,\ \mathrm{Cov}\,X_0 + 2T\,I\big).

    paper002 §2 B6 [Cit]: a later VE paper cites the paper for this prior and for a forward
    convergence rate :math:`1/\sigma_T^2`; the rate is recorded as cited, not derived here.

    Raises
    ------
    ValueError
        If ``mean`` is not a non-empty finite 1-D array, ``cov`` does not have shape (d, d), is not
        symmetric or has an eigenvalue below −1e-12 of its largest, or ``T`` is not > 0 and finite.
    """
    mu, c = _mean_cov("mean", mean, "cov", cov)
    T = check_scalar("T", T, positive=True)
    eig = np.linalg.eigvalsh(c)
    if eig[0] < -EIGENVALUE_CUTOFF * max(np.max(np.abs(eig)), np.finfo(np.float64).tiny):
        raise ValueError(f"cov must be positive semi-definite (got eigenvalue {eig[0]:.6g})")
    return mu.copy(), c + 2.0 * T * np.eye(mu.size)


# --------------------------------------------------------------------------------------------
# B4, T-B1, T-B5: empirical-score error and the end-time spread


def empirical_error_limit(k: int) -> float:
    r"""Limit :math:`v_t\,\mathbb E_{\hat p_t}\|\nabla\log p_t - \nabla\log\hat p_t\|^2 \to k` as t → 0.

    Arguments
    ---------
    k : dimension of the data manifold M, a positive integer.

    Returns
    -------
    float(k).

    Notes
    -----
    paper002 §2 B4, quantitative version [R, C-verified], T-B5 (OU α convention, any α ≥ 0).
    Under the empirical forward law :math:`\hat p_t = \frac1N\sum_i\mathcal N(a_tx_i, v_tI)` a point
    sits at :math:`x = a_tx_i + \sqrt{v_t}\,\xi` near one training point, where the empirical score
    is :math:`-\xi/\sqrt{v_t}` (up to exponentially small weights of the other points). The
    population score of a k-dimensional manifold through :math:`x_i` has the same normal part
    :math:`-P_\perp\xi/\sqrt{v_t}` but only an O(1) tangent part, so the difference is the
    tangent part :math:`P_\parallel\xi/\sqrt{v_t} + O(1)`, of size :math:`\sqrt{k/v_t}`:

    .. math:: v_t\,\mathbb E_{\hat p_t}\|\nabla\log p_t - \nabla\log\hat p_t\|^2
              \;\to\; \mathbb E\|P_\parallel\xi\|^2 = k .

    Hence the error energy against the empirical score diverges like
    :math:`\tfrac k2\log(1/\varepsilon)` (since :math:`v_t \approx 2t`): a model that
    generalises has infinite error energy against :math:`\nabla\log\hat p_t` (B4 corollary).

    Raises
    ------
    ValueError
        If ``k`` is not a positive integer.
    """
    return float(check_integer("k", k, minimum=1, allowed="a positive integer"))


def normal_spread(t_min, alpha=1.0) -> np.ndarray:
    r"""End-time standard deviation normal to M of the exact reverse SDE stopped at :math:`t_{min}`.

    Arguments
    ---------
    t_min : stopping time(s) of the reverse process, :math:`t_{min} > 0`, any shape.
    alpha : OU rate α ≥ 0 (OU α convention; α = 0 is VE).

    Returns
    -------
    Array of the shape of ``t_min``.

    Notes
    -----
    The exact reverse process started from :math:`p_T` has the law :math:`p_{t_{min}}` at the
    stopping time; normal to a flat M that is :math:`\mathcal N(0, v_{t_{min}})` per direction
    (paper002 T-B1, §7 note 3), so

    .. math:: \mathrm{std}_\perp = \sqrt{v_{t_{min}}} = \sqrt{(1 - e^{-2\alpha t_{min}})/\alpha}
              \;\approx\; \sqrt{2t_{min}} \to 0 .

    Raises
    ------
    ValueError
        If ``t_min`` holds an entry ≤ 0 or non-finite, or ``alpha`` < 0.
    """
    t_min = check_positive("t_min", t_min)
    return np.sqrt(ou_v(t_min, _alpha(alpha)))


# ============================================================================================
# Rate separation (paper003)
#
# Conventions: σ is the noise standard deviation at a fixed level; VE: x_σ = x + σZ, VP:
# x_σ = √(1−σ²) x + σZ (research note paper003 §1.2). Tags: [P] the paper's text, [D] derived in
# the note and checked numerically there, "outside the paper" for the note's own derivations.

_CONVENTIONS = ("ve", "vp")
# Below this κ, log I₀(κ) is summed as a power series (log(i0e(κ)) + κ loses digits there).
_SERIES_KAPPA = 1.0
# Below this Bessel argument, A(z)/z = I₁(z)/(z I₀(z)) is taken at its limit 1/2.
_TINY_BESSEL_ARG = 1e-150


def _ts_alpha(alpha) -> float:
    alpha = check_scalar("alpha", alpha)
    if not 0.0 < alpha < 2.0:
        raise ValueError(f"alpha must lie in (0, 2) (got {alpha:.6g})")
    return alpha


def _kappa(kappa) -> np.ndarray:
    kappa = check_finite("kappa", kappa)
    if np.any(kappa < 0):
        raise ValueError(f"kappa must be >= 0 (got min {kappa.min():.6g})")
    return kappa


def _gamma(gamma, lo: float, hi: float, lo_open: bool = True) -> float:
    """A scalar γ in (lo, hi] (or [lo, hi] with ``lo_open=False``)."""
    gamma = check_scalar("gamma", gamma)
    ok_lo = gamma > lo if lo_open else gamma >= lo
    if not (ok_lo and gamma <= hi):
        bra = "(" if lo_open else "["
        lo_text = "-inf" if np.isinf(lo) else f"{lo:g}"
        raise ValueError(f"gamma must lie in {bra}{lo_text}, {hi:g}] (got {gamma:.6g})")
    return gamma


def _offset_args(sigma_name: str, sigma, gamma, lo: float, c):
    """Noise level(s) > 0, γ in (lo, 2] and a finite amplitude c broadcast with the levels."""
    sigma = check_positive(sigma_name, sigma)
    gamma = _gamma(gamma, lo, 2.0)
    sigma, c = broadcast(**{sigma_name: sigma, "c": check_finite("c", c)})
    return sigma, gamma, c


def _convention(convention) -> str:
    if not isinstance(convention, str) or convention not in _CONVENTIONS:
        raise ValueError(f"convention must be 've' or 'vp' (got {convention!r})")
    return convention


def _log_i0(z: np.ndarray) -> np.ndarray:
    """log I₀(z) for z ≥ 0: series below ``_SERIES_KAPPA``, log(i0e(z)) + z above (no overflow)."""
    z = np.asarray(z, dtype=np.float64)
    small = z < _SERIES_KAPPA
    q = np.where(small, 0.25 * z * z, 0.0)
    term, total = np.ones_like(q), np.zeros_like(q)
    for k in range(1, _SERIES_TERMS + 1):
        term = term * q / (k * k)
        total = total + term
    big = np.where(small, _SERIES_KAPPA, z)
    return np.where(small, np.log1p(total), np.log(i0e(big)) + big)


def _von_mises_tv_one(kappa: float) -> float:
    r"""½∫|f − 1/2π| for one κ ≥ 0 (see :func:`von_mises_tv_to_uniform`)."""
    if kappa == 0.0:
        return 0.0
    gap = float(kappa - _log_i0(kappa))  # κ(1 − cos θ*) > 0, f(θ*) = 1/2π
    half_angle = np.arcsin(min(1.0, np.sqrt(gap / (2.0 * kappa))))

    def excess(theta: float) -> float:  # 2π f(θ) − 1 = exp(κ cos θ − log I₀(κ)) − 1
        return np.expm1(gap - 2.0 * kappa * np.sin(0.5 * theta) ** 2)

    value, _ = integrate.quad(excess, 0.0, 2.0 * half_angle, epsabs=0.0, epsrel=_QUAD_RTOL)
    return value / np.pi


def von_mises_tv_to_uniform(kappa) -> np.ndarray:
    r"""Total variation between von Mises(κ) on the circle and the uniform law.

    Arguments
    ---------
    kappa : concentration(s) κ ≥ 0, any shape S.

    Returns
    -------
    Array of shape S, in [0, 1).

    Notes
    -----
    With :math:`f(\theta) = e^{\kappa\cos\theta}/(2\pi I_0(\kappa))` (density w.r.t. dθ),

    .. math:: \mathrm{TV} = \frac12\int_{-\pi}^{\pi}\Big|f - \frac1{2\pi}\Big|\,d\theta
              = \frac1\pi\int_0^{\theta^*}\big(e^{\kappa\cos\theta - \log I_0(\kappa)} - 1\big)\,d\theta,
              \qquad \cos\theta^* = \frac{\log I_0(\kappa)}{\kappa},

    by 1-D quadrature (f exceeds 1/2π exactly on |θ| < θ*). The integrand is written as
    :math:`\mathrm{expm1}(\kappa(1-\cos\theta^*) - 2\kappa\sin^2(\theta/2))` with log I₀ from a
    series (κ < 1) or from ``i0e`` (κ ≥ 1): no cancellation for tiny κ, where
    TV ≈ κ/π, and no overflow for large κ, where TV → 1. It is the TS finite-σ bias on a circle
    (paper003 §2 C3 "Why it works" [D], :func:`ts_circle_tv`).

    Raises
    ------
    ValueError
        If ``kappa`` holds an entry < 0 or non-finite.
    """
    kappa = _kappa(kappa)
    out = np.array([_von_mises_tv_one(float(k)) for k in kappa.ravel()], dtype=np.float64)
    return out.reshape(kappa.shape)


def ts_thickness(sigma, alpha) -> np.ndarray:
    r"""Normal thickness of the Tempered-Score (TS) Langevin cloud: :math:`\sigma^{1-\alpha/2}`.

    Arguments
    ---------
    sigma : noise standard deviation(s) σ > 0, any shape S (VE or VP alike).
    alpha : tempering exponent, 0 < α < 2.

    Returns
    -------
    Array of shape S.

    Notes
    -----
    TS Langevin :math:`dX = \sigma^\alpha s(X,\sigma)\,dt + \sqrt2\,dW` (paper003 eq. (8) [P]) with
    the exact score is Langevin on the potential :math:`d_M = \tfrac12\mathrm{dist}^2(x, M)` at the
    effective temperature :math:`\sigma^{2-\alpha}`, so the normal standard deviation is

    .. math:: \mathrm{sd}_\perp = \sigma^{1-\alpha/2} \qquad (\text{exponent } 1 - \alpha/2)

    (paper003 §2 C3 "Why it works" and the summary table row "TS cloud thickness" [D]). Valid while
    the thickness is well below the reach of M; the normal stiffness is 1 + O(σ²) in hat units.

    Raises
    ------
    ValueError
        If ``sigma`` holds an entry ≤ 0 or non-finite, or ``alpha`` is not in (0, 2).
    """
    sigma = check_positive("sigma", sigma)
    return sigma ** (1.0 - 0.5 * _ts_alpha(alpha))


def ts_circle_tv(sigma, alpha, kappa) -> np.ndarray:
    r"""TS on-circle bias: TV between von Mises(:math:`\sigma^\alpha\kappa`) and the uniform law.

    Arguments
    ---------
    sigma : noise standard deviation(s) σ > 0 (VE or VP alike).
    alpha : tempering exponent, 0 < α < 2.
    kappa : concentration κ ≥ 0 of the data law von Mises(κ) in the angle (w.r.t. dθ).

    ``sigma`` and ``kappa`` broadcast to the output shape.

    Returns
    -------
    Array of the broadcast shape.

    Notes
    -----
    With the exact score, the TS stationary law is :math:`\propto p_\sigma^{\sigma^\alpha}`; on M it
    is :math:`\propto q^{\sigma^\alpha}\,d\mathrm{vol}`, which for von Mises(κ) data on a circle is
    exactly von Mises(:math:`\sigma^\alpha\kappa`) up to O(σ²) (paper003 §2 C3 [D]; summary table
    row "TS on-M law, exact score"; T-C7). Its distance to the uniform (volume) law is

    .. math:: \mathrm{TV} = \mathrm{TV}\big(\mathrm{vM}(\sigma^\alpha\kappa), \mathrm{Unif}\big)
              \approx \frac{\kappa\sigma^\alpha}{\pi} \qquad (\text{exponent } \alpha),

    computed by :func:`von_mises_tv_to_uniform`.

    Raises
    ------
    ValueError
        If ``sigma`` holds an entry ≤ 0 or non-finite, ``alpha`` is not in (0, 2), ``kappa`` holds
        an entry < 0 or non-finite, or ``sigma`` and ``kappa`` do not broadcast.
    """
    sigma = check_positive("sigma", sigma)
    alpha = _ts_alpha(alpha)
    sigma, kappa = broadcast(sigma=sigma, kappa=_kappa(kappa))
    return von_mises_tv_to_uniform(sigma**alpha * kappa)


def ts_uniform_tv_exponent(alpha, gamma) -> float:
    r"""Exponent of the TS distance to the uniform law under a score error of size :math:`\sigma^{-\gamma}`.

    Arguments
    ---------
    alpha : tempering exponent, 0 < α < 2.
    gamma : error exponent γ ≤ α (the error is :math:`c\,\sigma^{-\gamma}`, gradient or not).

    Returns
    -------
    The exponent α − γ ≥ 0 of :math:`\mathrm{TV}(\tilde\pi_\sigma|_M, \mathrm{Unif}_M)\propto
    \sigma^{\alpha-\gamma}`.

    Notes
    -----
    Tempering multiplies the tangential error by :math:`\sigma^\alpha`, so the on-M drift is
    :math:`c\,\sigma^{\alpha-\gamma}`: the TS law is uniform in the limit iff α > γ, with

    .. math:: \mathrm{TV} \propto \sigma^{\alpha-\gamma} \qquad (\text{exponent } \alpha - \gamma)

    (paper003 §2 C3 "Phase diagram" [D] and Thms 5.1, 5.2 [P]; summary table row "TS with an
    error of size σ^{−γ}"; T-C9, T-C10). At α = γ the exponent is 0: the limit is the tilted law
    :math:`\propto e^{c\varphi}` (TV tends to a positive constant, not to 0). For α < γ the law
    collapses onto argmax φ (TV → 1, no power law), so γ > α is refused. This is the error's
    contribution only; the exact score's own bias has exponent α (:func:`ts_circle_tv`).

    Raises
    ------
    ValueError
        If ``alpha`` is not in (0, 2), or ``gamma`` is not finite or exceeds ``alpha``.
    """
    alpha = _ts_alpha(alpha)
    gamma = _gamma(gamma, -np.inf, alpha)
    return alpha - gamma


def normal_offset(sigma, gamma, c) -> np.ndarray:
    r"""Normal offset of the Gibbs law :math:`\pi_\sigma\propto p_\sigma e^{c\sigma^{-\gamma}\rho}` (normal error).

    Arguments
    ---------
    sigma : noise standard deviation(s) σ > 0 (VE).
    gamma : error exponent, γ ≤ 2 (γ > 2: the law escapes to the boundary of K; refused).
    c : error amplitude, any finite real; broadcasts with ``sigma``.

    Returns
    -------
    Array of the broadcast shape.

    Notes
    -----
    A normal score error :math:`e = c\,\sigma^{-\gamma}\nu` (ρ the signed distance to M) shifts
    the equilibrium normal Gaussian of width σ to the centre

    .. math:: \rho^* = c\,\sigma^{2-\gamma} \qquad (\text{exponent } 2 - \gamma),

    so the law concentrates on M iff γ < 2, and at γ = 2 on the parallel manifold at distance c
    (paper003 §2 C2 "Sharpness made concrete" [D] with Thm 4.1(1) [P]; summary table row "Gibbs
    law with normal error"; T-C5). Curved M adds an O(σ²) shift (+σ²/(2R) on a circle), not
    included here.

    Raises
    ------
    ValueError
        If ``sigma`` holds an entry ≤ 0 or non-finite, ``gamma`` is not finite or exceeds 2,
        ``c`` is not finite, or ``sigma`` and ``c`` do not broadcast.
    """
    sigma, gamma, c = _offset_args("sigma", sigma, gamma, -np.inf, c)
    return c * sigma ** (2.0 - gamma)


def reverse_sde_terminal_offset(sigma_min, gamma, c) -> np.ndarray:
    r"""Terminal normal offset of the VE reverse SDE with a normal score error :math:`c\sigma^{-\gamma}`.

    Arguments
    ---------
    sigma_min : the noise standard deviation(s) where the reverse SDE stops, > 0.
    gamma : error exponent, 0 < γ ≤ 2.
    c : error amplitude, any finite real; broadcasts with ``sigma_min``.

    Returns
    -------
    Array of the broadcast shape.

    Notes
    -----
    Outside the paper: the note's own derivation (paper003 T-C14 [D]; summary table row "reverse
    SDE, normal error"). In the variance s = σ² the VE reverse SDE with the score
    :math:`-\rho/s + c\,s^{-\gamma/2}` for flat M has a Gaussian normal coordinate whose mean
    solves :math:`dm/ds = m/s - c\,s^{-\gamma/2}`, m(T) = 0, so
    :math:`m = \tfrac{2c}{\gamma}(s^{1-\gamma/2} - s\,T^{-\gamma/2})` and, as T → ∞,

    .. math:: \rho^* = \frac{2c}{\gamma}\,\sigma_{min}^{2-\gamma}
              \qquad (\text{exponent } 2 - \gamma;\ = c \text{ at } \gamma = 2).

    For γ ≤ 0 the large-σ end dominates (no limit as T → ∞), so γ ≤ 0 is refused.

    Raises
    ------
    ValueError
        If ``sigma_min`` holds an entry ≤ 0 or non-finite, ``gamma`` is not in (0, 2], ``c`` is
        not finite, or ``sigma_min`` and ``c`` do not broadcast.
    """
    sigma_min, gamma, c = _offset_args("sigma_min", sigma_min, gamma, 0.0, c)
    return (2.0 * c / gamma) * sigma_min ** (2.0 - gamma)


def pf_ode_terminal_offset(sigma_min, gamma, c) -> np.ndarray:
    r"""Terminal normal offset of the VE probability-flow ODE with a normal score error :math:`c\sigma^{-\gamma}`.

    Arguments
    ---------
    sigma_min, c : as in :func:`reverse_sde_terminal_offset` (σ_min: where the ODE stops).
    gamma : error exponent, 1 < γ ≤ 2.

    Returns
    -------
    Array of the broadcast shape of ``sigma_min`` and ``c``.

    Notes
    -----
    Outside the paper: the note's own derivation (paper003 T-C14 [D]; summary table row "PF-ODE,
    normal error"). In the variance s = σ² the PF-ODE drift is half the (erroneous) score, so the
    normal mean solves :math:`dm/ds = m/(2s) - \tfrac c2 s^{-\gamma/2}`, m(T) = 0:
    :math:`m = \tfrac{c}{1-\gamma}(\sqrt s\,T^{(1-\gamma)/2} - s^{1-\gamma/2})`. For γ > 1 the
    T-term vanishes as T → ∞, leaving

    .. math:: \rho^* = \frac{c}{\gamma - 1}\,\sigma_{min}^{2-\gamma}
              \qquad (\text{exponent } 2 - \gamma;\ = c \text{ at } \gamma = 2).

    For γ ≤ 1 the offset is set by T, not by σ_min, so γ ≤ 1 is refused.

    Raises
    ------
    ValueError
        If ``sigma_min`` holds an entry ≤ 0 or non-finite, ``gamma`` is not in (1, 2], ``c`` is
        not finite, or ``sigma_min`` and ``c`` do not broadcast.
    """
    sigma_min, gamma, c = _offset_args("sigma_min", sigma_min, gamma, 1.0, c)
    return (c / (gamma - 1.0)) * sigma_min ** (2.0 - gamma)


def normal_stiffness(sigma) -> np.ndarray:
    r"""Normal stiffness :math:`-\partial_\nu s_\nu` of the exact score on M: :math:`\sigma^{-2}`.

    Arguments
    ---------
    sigma : noise standard deviation(s) σ > 0, any shape (VE or VP alike).

    Returns
    -------
    Array of the shape of ``sigma``.

    Notes
    -----
    From :math:`\sigma^2\nabla\log p_\sigma = -(x - P_Mx) + O(\sigma^2)` (paper003 eq. (20) [P]):

    .. math:: \sigma^2\,(-\partial_\nu s_\nu) = 1 + O(\sigma^2)
              \qquad (\text{stiffness exponent } -2),

    exactly 1 for a linear M with Gaussian data (any σ), 1 + O(σ²) on curved M (paper003 §2 C1
    "Score decomposition" [D]; summary table row "normal stiffness"; T-C1, T-C2). The returned
    value is the leading coefficient σ⁻²; the O(σ²) relative correction is not modelled.

    Raises
    ------
    ValueError
        If ``sigma`` holds an entry ≤ 0 or non-finite.
    """
    return check_positive("sigma", sigma) ** -2.0


def _circle_args(x, sigma, kappa, radius, mean_angle, convention):
    """Validated points (n, 2), σ (n,), κ, R, θ₀, the scaled radius and whether x was one point."""
    pts, single = as_points(x, 2)
    convention = _convention(convention)
    sig = as_sigma(sigma, pts.shape[0])
    kappa = float(_kappa(check_scalar("kappa", kappa)))
    radius = check_scalar("radius", radius, positive=True)
    mean_angle = check_scalar("mean_angle", mean_angle)
    # checked on σ as given: broadcast to an empty batch, σ ≥ 1 would otherwise pass unseen
    given = check_positive("sigma", sigma)
    if convention == "vp" and np.any(given >= 1.0):
        raise ValueError(f"sigma must be < 1 for convention 'vp' (got max {given.max():.6g})")
    scale = np.sqrt(1.0 - sig**2) if convention == "vp" else np.ones_like(sig)
    return pts, single, sig, kappa, radius * scale, mean_angle


def _circle_w(pts, sig, kappa, r_eff, mean_angle):
    """w = R' x/σ² + κ(cos θ₀, sin θ₀) and its norm (the Bessel argument)."""
    w = (r_eff / sig**2)[:, None] * pts + kappa * np.array([np.cos(mean_angle), np.sin(mean_angle)])
    return w, np.hypot(w[:, 0], w[:, 1])


def noised_circle_log_density(
    x, sigma, kappa=0.0, radius=1.0, convention: str = "ve", mean_angle=0.0
) -> np.ndarray:
    r"""Log-density :math:`\log p_\sigma(x)` on R² of von Mises(κ) data on a circle of radius R.

    Arguments
    ---------
    x : a point (2,) or points (n, 2).
    sigma : noise standard deviation σ > 0 (σ < 1 for VP), a scalar or one per point (n,).
    kappa : concentration κ ≥ 0 of the angle law von Mises(κ, θ₀) w.r.t. dθ (κ = 0: uniform).
    radius : circle radius R > 0 (the circle is centred at the origin).
    convention : "ve" (:math:`x_\sigma = x + \sigma Z`) or "vp"
        (:math:`x_\sigma = \sqrt{1-\sigma^2}\,x + \sigma Z`).
    mean_angle : the von Mises centre θ₀ (any finite real).

    Returns
    -------
    A float for one point, else an (n,) array.

    Notes
    -----
    The angular integral :math:`\int_0^{2\pi} e^{a\cos(\theta-\varphi) + \kappa\cos(\theta-\theta_0)}
    d\theta = 2\pi I_0(|w|)` gives, with :math:`w = R'x/\sigma^2 + \kappa(\cos\theta_0,\sin\theta_0)`
    and R' = R (VE) or :math:`R\sqrt{1-\sigma^2}` (VP) (paper003 §2 C1 "Closed forms" [D]),

    .. math:: p_\sigma(x) = \frac{e^{-(|x|^2 + R'^2)/(2\sigma^2)}\,I_0(|w|)}{2\pi\sigma^2 I_0(\kappa)} .

    It is evaluated in log space as :math:`-(|x|-R')^2/(2\sigma^2) + (|w| - R'|x|/\sigma^2)
    + \log\mathrm{i0e}(|w|) - \log(2\pi\sigma^2) - \log I_0(\kappa)`, with the middle difference
    written as :math:`(2R'\kappa\,\langle x, e_0\rangle/\sigma^2 + \kappa^2)/(|w| + R'|x|/\sigma^2)`:
    no overflow and no cancellation at small σ.

    Raises
    ------
    ValueError
        If ``x`` is not finite of shape (2,) or (n, 2); ``sigma`` is not positive and finite, of
        shape () or (n,), or (VP) not < 1; ``kappa`` is not a finite scalar ≥ 0; ``radius`` is not
        a finite scalar > 0; ``convention`` is not "ve" or "vp"; ``mean_angle`` is not finite.
    """
    pts, single, sig, kappa, r_eff, mean_angle = _circle_args(
        x, sigma, kappa, radius, mean_angle, convention
    )
    _, wn = _circle_w(pts, sig, kappa, r_eff, mean_angle)
    s2 = sig**2
    rx = np.hypot(pts[:, 0], pts[:, 1])
    e0 = np.array([np.cos(mean_angle), np.sin(mean_angle)])
    base = r_eff * rx / s2
    denom = wn + base
    extra = np.divide(
        2.0 * r_eff * kappa * (pts @ e0) / s2 + kappa**2,
        denom,
        out=np.zeros_like(denom),
        where=denom > 0,
    )
    out = (
        -((rx - r_eff) ** 2) / (2.0 * s2)
        + extra
        + np.log(i0e(wn))
        - np.log(2.0 * np.pi * s2)
        - _log_i0(kappa)
    )
    return float(out[0]) if single else out


def noised_circle_score(
    x, sigma, kappa=0.0, radius=1.0, convention: str = "ve", mean_angle=0.0
) -> np.ndarray:
    r"""Score :math:`\nabla\log p_\sigma(x)` of von Mises(κ) data on a circle of radius R.

    Arguments
    ---------
    As in :func:`noised_circle_log_density`.

    Returns
    -------
    A (2,) array for one point, else (n, 2).

    Notes
    -----
    Differentiating the closed form of :func:`noised_circle_log_density` (paper003 §2 C1 "Closed
    forms" [D]), with :math:`A = I_1/I_0` (from ``i1e/i0e``, no overflow):

    .. math:: s(x,\sigma) = -\frac{x}{\sigma^2} + \frac{R'}{\sigma^2}\,A(|w|)\,\frac{w}{|w|},

    where A(z)/z → 1/2 at w = 0. Small-σ expansion on the circle: :func:`circle_score_decomposition`.

    Raises
    ------
    ValueError
        As :func:`noised_circle_log_density`.
    """
    pts, single, sig, kappa, r_eff, mean_angle = _circle_args(
        x, sigma, kappa, radius, mean_angle, convention
    )
    w, wn = _circle_w(pts, sig, kappa, r_eff, mean_angle)
    safe = np.where(wn > _TINY_BESSEL_ARG, wn, 1.0)
    a_over_z = np.where(wn > _TINY_BESSEL_ARG, i1e(safe) / (i0e(safe) * safe), 0.5)
    s2 = (sig**2)[:, None]
    out = (-pts + (r_eff[:, None] * a_over_z[:, None]) * w) / s2
    return out[0] if single else out


@dataclass(frozen=True)
class CircleScoreTerms:
    r"""Small-σ terms of the score on a circle of radius R (see :func:`circle_score_decomposition`).

    Fields (radial components point away from the centre; tangential ones along +θ):

    * ``stiffness`` — the normal stiffness coefficient σ⁻² (the score's normal part is
      −stiffness·(r − R) + O(1));
    * ``tangential`` — :math:`\nabla_M\log q` on M, :math:`-(\kappa/R)\sin(\theta-\theta_0)`;
    * ``mean_curvature`` — ½𝐇 radial, −1/(2R);
    * ``foot_point`` — the VP term :math:`-\tfrac12 P_\perp(P_Mx)\,P_Mx` radial, −R/2 (0 for VE);
    * ``normal`` — the whole O(1) normal part, mean_curvature + foot_point.
    """

    stiffness: np.ndarray
    tangential: np.ndarray
    mean_curvature: float
    foot_point: float
    normal: float


def circle_score_decomposition(
    theta, sigma, kappa=0.0, radius=1.0, convention: str = "ve", mean_angle=0.0
) -> CircleScoreTerms:
    r"""Predicted small-σ decomposition of the score on a circle (normal, tangential, curvature).

    Arguments
    ---------
    theta : angle(s) θ of the point :math:`P_Mx = R(\cos\theta, \sin\theta)` on M, any shape.
    sigma : noise standard deviation(s) σ > 0 (σ < 1 for VP), any shape.
    kappa, radius, convention, mean_angle : as in :func:`noised_circle_log_density`.

    Returns
    -------
    :class:`CircleScoreTerms`: ``stiffness`` of the shape of ``sigma``, ``tangential`` of the
    shape of ``theta``, the other three floats.

    Notes
    -----
    On M (paper003 §2 C1 "Score decomposition" [D]; summary table rows "normal stiffness",
    "tangential score on M", "normal O(1) score on M"; T-C2), with ρ = r − R,

    .. math:: s_r = -\frac{\rho}{\sigma^2} - \frac1{2R}\ \Big[-\frac R2 \text{ for VP}\Big]
              + O(\rho) + O(\sigma^2), \qquad
              s_\theta = -\frac{\kappa}{R}\sin(\theta-\theta_0) + O(\rho) + O(\sigma^2).

    Here −1/(2R) is ½𝐇 (𝐇 the mean-curvature vector, the trace of the second fundamental form,
    pointing to the centre), −R/2 is the VP foot-point term :math:`-\tfrac12 P_\perp(P_Mx)P_Mx`
    (measured from the unscaled circle), and :math:`q = p_{data}/R` is the density w.r.t. arc
    length, so :math:`\nabla_M\log q = R^{-1}\,d\log p_{data}/d\theta`. The stiffness σ²(−∂_r s_r)
    is 1 + O(σ²) (:func:`normal_stiffness`). Neither O(1) normal term changes a limit law on M.

    Raises
    ------
    ValueError
        If ``theta`` is not finite; ``sigma`` holds an entry ≤ 0 or non-finite, or (VP) ≥ 1;
        ``kappa`` is not a finite scalar ≥ 0; ``radius`` not a finite scalar > 0; ``convention``
        not "ve" or "vp"; ``mean_angle`` not finite.
    """
    theta = check_finite("theta", theta)
    sigma = check_positive("sigma", sigma)
    kappa = float(_kappa(check_scalar("kappa", kappa)))
    radius = check_scalar("radius", radius, positive=True)
    convention = _convention(convention)
    mean_angle = check_scalar("mean_angle", mean_angle)
    if convention == "vp" and np.any(sigma >= 1.0):
        raise ValueError(f"sigma must be < 1 for convention 'vp' (got max {sigma.max():.6g})")
    half_h = -0.5 / radius
    foot = -0.5 * radius if convention == "vp" else 0.0
    return CircleScoreTerms(
        stiffness=sigma**-2.0,
        tangential=-(kappa / radius) * np.sin(theta - mean_angle),
        mean_curvature=half_h,
        foot_point=foot,
        normal=half_h + foot,
    )


def sphere_mean_curvature_term(n: int, radius=1.0) -> float:
    r"""Radial component of ½𝐇 on the sphere :math:`S^n` of radius R in :math:`\mathbb R^{n+1}`: −n/(2R).

    Arguments
    ---------
    n : the sphere's dimension, a positive integer (n = 1: the circle).
    radius : R > 0.

    Returns
    -------
    −n/(2R) (magnitude n/(2R), pointing to the centre).

    Notes
    -----
    The mean-curvature vector (trace of the second fundamental form, no 1/n) of :math:`S^n` has
    length n/R and points inward, so the O(1) normal part of the exact VE score of the uniform law
    on M is (paper003 §2 C1 "Closed forms" and "Score decomposition" [D]; T-C3)

    .. math:: \lim_{\sigma\to0} s_r\big|_{r=R} = \tfrac12|\mathbf H| \cdot(-1) = -\frac{n}{2R}.

    Raises
    ------
    ValueError
        If ``n`` is not a positive integer or ``radius`` is not a finite scalar > 0.
    """
    n = check_integer("n", n, minimum=1, allowed="a positive integer")
    radius = check_scalar("radius", radius, positive=True)
    return -0.5 * n / radius
