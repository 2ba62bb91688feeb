"""Tests for theory.scaling: drift energy, its integral and rate, Girsanov bounds, Gaussian priors.

Independent routes: covariance matrices built with a random orthonormal basis (trace of the
inverse, Cholesky-free KL by scipy.stats log-densities), mpmath quadrature at 30 digits of the
integrands written out in mpmath, Monte Carlo with the exact Gaussian score (tolerances from the
standard error, fixed seeds), a numerical KL minimisation for the VE prior, and an Euler–Maruyama
simulation for the end-time spread.
"""

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import optimize, stats

from theory.distributions import FiniteSet, LinearGaussian
from theory.scaling import (
    best_gaussian_prior_ve,
    drift_energy,
    drift_energy_integral,
    drift_energy_rate,
    drift_energy_remainder,
    empirical_error_limit,
    gaussian_kl,
    girsanov_kl_bound,
    normal_spread,
    ou_prior_kl,
    power_law_error_energy_integral,
    power_law_error_energy_limit,
)
from theory.schedules import ou_a, ou_v

DPS = 30
ALPHAS = [0.0, 0.5, 1.0, 2.0]
LN10 = float(np.log(10.0))
PROPERTY_SETTINGS = settings(max_examples=40, deadline=None, derandomize=True)


def _basis(rng, d: int, k: int) -> np.ndarray:
    q, _ = np.linalg.qr(rng.normal(size=(d, k)))
    return q


def _built_cov(t, alpha, q, lam) -> np.ndarray:
    """Cov_t = a_t² Q Λ Qᵀ + v_t I as a d × d matrix."""
    a, v = float(ou_a(t, alpha)), float(ou_v(t, alpha))
    return a**2 * (q * lam) @ q.T + v * np.eye(q.shape[0])


def _mp_drift_energy(t, d, lam, alpha):
    """(d − k)/v_t + Σ 1/(a_t² λ + v_t) in mpmath, from a_t = e^{−αt}, v_t = (1 − e^{−2αt})/α."""
    if alpha == 0:
        a2, v = mpmath.mpf(1), 2 * t
    else:
        a2, v = mpmath.exp(-2 * alpha * t), -mpmath.expm1(-2 * alpha * t) / alpha
    return (d - len(lam)) / v + sum(1 / (a2 * mpmath.mpf(x) + v) for x in lam)


def _mp_log_quad(f, eps, T):
    """∫_eps^T f(t) dt by mpmath.quad in u = log t, one panel per three e-folds."""
    lo, hi = mpmath.log(mpmath.mpf(eps)), mpmath.log(mpmath.mpf(T))
    panels = mpmath.linspace(lo, hi, max(2, int((hi - lo) / 3) + 2))
    return mpmath.quad(lambda u: f(mpmath.exp(u)) * mpmath.exp(u), panels)


# --------------------------------------------------------------------------------------------
# drift_energy


class TestDriftEnergy:
    @pytest.mark.parametrize("alpha", ALPHAS)
    def test_trace_of_inverse_of_built_covariance(self, alpha, rng):
        d, lam = 5, np.array([0.3, 2.0, 40.0])
        q = _basis(rng, d, lam.size)
        for t in [1e-6, 1e-2, 0.4, 3.0, 30.0]:
            ref = np.trace(np.linalg.inv(_built_cov(t, alpha, q, lam)))
            assert_allclose(drift_energy(t, d, lam, alpha), ref, rtol=1e-10)

    @pytest.mark.parametrize(("t", "alpha"), [(0.3, 1.0), (1e-4, 1.0), (0.5, 0.0), (2.0, 2.0)])
    def test_monte_carlo_with_exact_score(self, t, alpha):
        rng = np.random.default_rng(7)
        d, lam, n = 4, np.array([0.5, 2.0]), 200_000
        q = _basis(rng, d, lam.size)
        a, v = float(ou_a(t, alpha)), float(ou_v(t, alpha))
        x = a * (rng.normal(size=(n, lam.size)) * np.sqrt(lam)) @ q.T
        x += np.sqrt(v) * rng.normal(size=(n, d))
        score = -np.linalg.solve(_built_cov(t, alpha, q, lam), x.T).T
        sq = np.sum(score**2, axis=1)
        se = sq.std(ddof=1) / np.sqrt(n)
        assert abs(sq.mean() - drift_energy(t, d, lam, alpha)) < 4.0 * se

    def test_small_t_rate(self):
        # t E‖∇log p_t‖² → (d − k)/2 (paper002 T-B2, Monte Carlo variant in closed form)
        t = np.array([1e-6, 1e-9])
        assert_allclose(t * drift_energy(t, 6, [1.0, 3.0], 1.0), drift_energy_rate(6, 2), rtol=1e-5)

    def test_vectorised(self):
        t = np.array([[0.01, 0.1], [1.0, 10.0]])
        out = drift_energy(t, 3, [2.0], 0.5)
        assert out.shape == t.shape
        assert_allclose(out, [[drift_energy(s, 3, [2.0], 0.5) for s in row] for row in t])

    def test_not_monotone_when_tangent_variance_exceeds_stationary(self):
        # Σ_j (αλ_j − 1) = 4 > d − k = 1: the energy rises towards its stationary value d α
        e = drift_energy(np.array([2.0, 4.0, 40.0]), 2, [5.0], 1.0)
        assert e[0] < e[1] < e[2]
        assert_allclose(e[2], 2.0, rtol=1e-12)


# --------------------------------------------------------------------------------------------
# drift_energy_integral, rate and remainder


class TestDriftEnergyIntegral:
    @pytest.mark.parametrize("alpha", ALPHAS)
    @pytest.mark.parametrize(("eps", "T"), [(1e-10, 50.0), (1e-3, 1.0), (0.3, 0.30001)])
    def test_mpmath(self, alpha, eps, T):
        d, lam = 3, [0.3, 7.0]
        with mpmath.workdps(DPS):
            ref = _mp_log_quad(lambda t: _mp_drift_energy(t, d, lam, mpmath.mpf(alpha)), eps, T)
        assert_allclose(drift_energy_integral(eps, T, d, lam, alpha), float(ref), rtol=1e-12)

    def test_broadcast(self):
        eps = np.array([[1e-4], [1e-2]])
        T = np.array([1.0, 5.0, 9.0])
        out = drift_energy_integral(eps, T, 2, [1.0], 1.0)
        assert out.shape == (2, 3)
        ref = [[drift_energy_integral(e, s, 2, [1.0], 1.0) for s in T] for e in eps[:, 0]]
        assert_allclose(out, ref, rtol=1e-15)

    def test_large_T_does_not_overflow(self):
        # e^{2αT} is far beyond float64; the energy is d α per unit time there
        big = drift_energy_integral(1.0, 1000.0, 3, [0.5], 1.0)
        assert_allclose(big - drift_energy_integral(1.0, 900.0, 3, [0.5], 1.0), 300.0, rtol=1e-12)

    @pytest.mark.parametrize(
        ("d", "lam", "alpha"), [(2, [1.0], 1.0), (6, [0.5, 3.0], 0.5), (4, [2.0], 0.0)]
    )
    def test_per_decade_increment(self, d, lam, alpha):
        # paper002 T-B2: increments of I(ε) per decade → (d − k)/2 ln 10 for ε ≤ 1e-3
        eps = np.array([1e-2, 1e-3, 1e-4, 1e-5])
        steps = np.diff(drift_energy_integral(eps, 6.0, d, lam, alpha))
        target = drift_energy_rate(d, len(lam)) * LN10
        assert_allclose(steps[1:], target, rtol=0.02)

    @pytest.mark.parametrize("alpha", ALPHAS)
    def test_remainder_and_linear_correction(self, alpha):
        d, lam, T = 5, np.array([0.4, 3.0]), 6.0
        rate = drift_energy_rate(d, lam.size)
        eps = 1e-6
        gap = drift_energy_integral(eps, T, d, lam, alpha) - rate * np.log(1.0 / eps)
        gap -= drift_energy_remainder(T, d, lam, alpha)
        slope = (d - lam.size) * alpha / 2.0 + np.sum(1.0 / lam)
        assert_allclose(gap / eps, -slope, rtol=1e-4)

    def test_remainder_vectorised(self):
        T = np.array([0.5, 6.0])
        assert_allclose(
            drift_energy_remainder(T, 3, [1.0, 2.0], 1.0),
            [drift_energy_remainder(s, 3, [1.0, 2.0], 1.0) for s in T],
        )

    def test_rate(self):
        assert drift_energy_rate(2, 1) == 0.5
        assert drift_energy_rate(7, 0) == 3.5
        assert drift_energy_rate(4, 4) == 0.0

    def test_girsanov_quadrature_agrees(self):
        lam = [0.3, 7.0]
        for alpha in ALPHAS:
            quad = girsanov_kl_bound(lambda t, a=alpha: drift_energy(t, 3, lam, a), 1e-6, 6.0)
            assert_allclose(quad, drift_energy_integral(1e-6, 6.0, 3, lam, alpha), rtol=1e-9)


# --------------------------------------------------------------------------------------------
# Girsanov bound and power-law energies


GAMMAS = [-0.5, 0.5, 0.9, 1.0, 1.1, 2.5]


class TestPowerLaw:
    @pytest.mark.parametrize("gamma", GAMMAS)
    def test_mpmath(self, gamma):
        c, eps, T = 0.7, 1e-6, 3.0
        with mpmath.workdps(DPS):
            ref = _mp_log_quad(lambda t: mpmath.mpf(c) ** 2 * t ** (-mpmath.mpf(gamma)), eps, T)
        assert_allclose(power_law_error_energy_integral(c, gamma, eps, T), float(ref), rtol=1e-13)

    @pytest.mark.parametrize("delta", [1e-4, 1e-8, 1e-12])
    def test_continuous_through_gamma_one(self, delta):
        c, eps, T = 1.3, 1e-5, 2.0
        at_one = power_law_error_energy_integral(c, 1.0, eps, T)
        assert_allclose(at_one, c**2 * np.log(T / eps), rtol=1e-15)
        span = np.log(T / eps)
        for g in (1.0 - delta, 1.0 + delta):
            # |dI/dγ| ≤ c² ε^{1−γ} L²/2 · e^{|1−γ|L} near γ = 1
            tol = delta * span / 2.0 * np.exp(delta * span) * 1.01
            assert_allclose(power_law_error_energy_integral(c, g, eps, T), at_one, rtol=tol)

    @pytest.mark.parametrize("gamma", GAMMAS)
    @pytest.mark.parametrize("vector", [False, True])
    def test_girsanov_quadrature(self, gamma, vector):
        c, eps, T, prior = 0.7, 1e-6, 3.0, 0.25

        def energy(t):
            value = c**2 * t ** (-gamma)
            return np.array([value]) if vector else value

        bound = girsanov_kl_bound(energy, eps, T, kl_prior=prior)
        closed = prior + power_law_error_energy_integral(c, gamma, eps, T)
        assert_allclose(bound, closed, rtol=1e-9)

    def test_limit(self):
        c, T = 0.7, 3.0
        # paper002 T-B8: finite for γ ∈ {0.5, 0.9}, infinite for γ = 1.1
        lim = power_law_error_energy_limit(c, np.array([-0.5, 0.5, 0.9, 1.0, 1.1]), T)
        assert np.all(np.isinf(lim[3:]))
        tiny = power_law_error_energy_integral(c, np.array([-0.5, 0.5, 0.9]), 1e-300, T)
        assert_allclose(lim[:3], tiny, rtol=1e-12)
        assert power_law_error_energy_limit(0.0, 2.0, T) == 0.0

    def test_integral_grows_without_bound_for_gamma_at_least_one(self):
        eps = np.array([1e-4, 1e-8, 1e-16])
        for gamma in (1.0, 1.1):
            steps = np.diff(power_law_error_energy_integral(1.0, gamma, eps, 1.0))
            assert np.all(steps >= 4.0 * np.log(10.0) - 1e-9)  # at least log(1e4) per 4 decades

    def test_oscillating_energy_raises_arithmetic_error(self):
        with pytest.raises(ArithmeticError, match="did not converge"):
            girsanov_kl_bound(lambda t: 1.0 + np.sin(1e8 * t), 1e-6, 3.0)


# --------------------------------------------------------------------------------------------
# Gaussian KL and the OU prior


def _random_spd(rng, d: int) -> np.ndarray:
    a = rng.normal(size=(d, d))
    return a @ a.T + 0.5 * np.eye(d)


class TestGaussianKL:
    def test_equal_laws(self, rng):
        m, c = rng.normal(size=4), _random_spd(rng, 4)
        assert abs(gaussian_kl(m, c, m, c)) < 1e-12

    def test_monte_carlo_log_density_ratio(self):
        rng = np.random.default_rng(11)
        d, n = 3, 200_000
        m0, m1 = rng.normal(size=d), rng.normal(size=d)
        c0, c1 = _random_spd(rng, d), _random_spd(rng, d)
        x = rng.multivariate_normal(m0, c0, size=n)
        ratio = stats.multivariate_normal(m0, c0).logpdf(x) - stats.multivariate_normal(
            m1, c1
        ).logpdf(x)
        se = ratio.std(ddof=1) / np.sqrt(n)
        assert abs(ratio.mean() - gaussian_kl(m0, c0, m1, c1)) < 4.0 * se

    def test_one_dimensional_textbook_formula(self):
        m0, s0, m1, s1 = 0.3, 0.7, -1.1, 2.2
        ref = np.log(s1 / s0) + (s0**2 + (m0 - m1) ** 2) / (2.0 * s1**2) - 0.5
        assert_allclose(gaussian_kl([m0], [[s0**2]], [m1], [[s1**2]]), ref, rtol=1e-14)


class TestOuPriorKL:
    @pytest.mark.parametrize("alpha", [0.5, 1.0, 2.0])
    def test_against_built_covariances(self, alpha, rng):
        d, lam = 4, np.array([0.2, 5.0])
        q = _basis(rng, d, lam.size)
        for T in [0.05, 0.5, 2.0]:
            ref = gaussian_kl(
                np.zeros(d), _built_cov(T, alpha, q, lam), np.zeros(d), np.eye(d) / alpha
            )
            assert_allclose(ou_prior_kl(T, d, lam, alpha), ref, rtol=1e-9, atol=1e-14)

    @pytest.mark.parametrize("alpha", [0.5, 1.0, 2.0])
    def test_exponential_decay(self, alpha):
        # KL ≈ ¼ e^{−4αT}[(d − k) + Σ(αλ − 1)²]: the ratio over ΔT = 1/(2α) → e^{−2}
        d, lam = 3, np.array([0.3, 4.0])
        T = np.array([12.0, 12.5]) / alpha  # e^{−2αT} = e^{−24}, e^{−25}
        kl = ou_prior_kl(T, d, lam, alpha)
        assert np.all(kl > 0)
        assert_allclose(kl[1] / kl[0], np.exp(-2.0), rtol=1e-6)
        lead = (
            0.25 * np.exp(-4.0 * alpha * T[0]) * ((d - lam.size) + np.sum((alpha * lam - 1) ** 2))
        )
        assert_allclose(kl[0], lead, rtol=1e-6)

    @pytest.mark.parametrize("T", [1e-3, 0.2, 1.0, 3.0, 8.0])
    def test_mpmath_eigenvalue_sum(self, T):
        # ½ Σ (α s − 1 − log α s) over the eigenvalues s of Cov_T, at 50 digits (no cancellation)
        d, lam, alpha = 3, [0.3, 4.0], 1.5
        with mpmath.workdps(50):
            al, t = mpmath.mpf(alpha), mpmath.mpf(T)
            v = -mpmath.expm1(-2 * al * t) / al
            eig = [v] * (d - len(lam)) + [mpmath.exp(-2 * al * t) * x + v for x in lam]
            ref = sum(al * s - 1 - mpmath.log(al * s) for s in eig) / 2
        assert_allclose(ou_prior_kl(T, d, lam, alpha), float(ref), rtol=1e-13)


# --------------------------------------------------------------------------------------------
# VE prior: moment matching is the KL minimiser


def test_best_gaussian_prior_ve_minimises_kl_for_atoms():
    atoms, weights, T = np.array([-1.0, 0.5, 2.0]), np.array([0.2, 0.5, 0.3]), 0.3
    # p_T is a three-component Gaussian mixture (α = 0: σ_T² = 2T), far from Gaussian
    x = np.linspace(-12.0, 14.0, 6001)  # trapezoid rule: exponentially accurate for these tails
    p = stats.norm.pdf(x[:, None], atoms, np.sqrt(2.0 * T)) @ weights

    def kl(params):
        m, log_s = params
        return np.trapezoid(p * (np.log(p) - stats.norm.logpdf(x, m, np.exp(log_s))), x)

    res = optimize.minimize(
        kl, x0=[0.0, 0.0], method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-16}
    )
    first, second = np.dot(weights, atoms), np.dot(weights, atoms**2)
    mean, cov = best_gaussian_prior_ve([first], [[second - first**2]], T)
    assert_allclose(res.x[0], mean[0], atol=1e-6)
    assert_allclose(np.exp(2.0 * res.x[1]), cov[0, 0], atol=1e-6)


def test_best_gaussian_prior_ve_singular_data_covariance():
    mean, cov = np.array([1.0, 0.0]), np.array([[2.0, 0.0], [0.0, 0.0]])  # data on a line
    m, c = best_gaussian_prior_ve(mean, cov, 1.5)
    assert_allclose(c, [[5.0, 0.0], [0.0, 3.0]], rtol=1e-15)
    m[0] = 9.0
    assert mean[0] == 1.0  # a new array


# --------------------------------------------------------------------------------------------
# Empirical-score error and the end-time spread


@pytest.mark.parametrize(("d", "lam"), [(2, [1.0]), (3, [1.0, 0.5])])
def test_empirical_error_limit_monte_carlo(d, lam):
    # paper002 B4 / T-B5: under p̂_t, v_t E‖∇log p_t − ∇log p̂_t‖² → k (α = 0: v_t = σ²)
    rng = np.random.default_rng(3)
    k, n, sigma = len(lam), 4000, 1e-4
    population = LinearGaussian(lam, d, _basis(rng, d, k))
    train = (rng.normal(size=(8, k)) * np.sqrt(lam)) @ population.basis.T
    x = train[rng.integers(0, 8, size=n)] + sigma * rng.normal(size=(n, d))
    diff = population.score(x, sigma) - FiniteSet(train).score(x, sigma)
    ratio = sigma**2 * np.sum(diff**2, axis=1)
    se = ratio.std(ddof=1) / np.sqrt(n)
    assert abs(ratio.mean() - empirical_error_limit(k)) < 4.0 * se


@pytest.mark.parametrize("alpha", [0.0, 1.0, 2.0])
@pytest.mark.parametrize("t_min", [1e-3, 0.5])
def test_normal_spread_euler_maruyama(alpha, t_min):
    # the normal coordinate of the forward OU started on M, simulated: its std at t_min
    rng = np.random.default_rng(5)
    n, steps = 20_000, 200
    h = t_min / steps
    y = np.zeros(n)
    for _ in range(steps):
        y += -alpha * y * h + np.sqrt(2.0 * h) * rng.normal(size=n)
    std = y.std(ddof=1)
    assert abs(std - normal_spread(t_min, alpha)) < 3.0 * std / np.sqrt(2.0 * (n - 1))


def test_normal_spread_vectorised_and_vanishing():
    t = np.array([1e-2, 1e-4, 1e-8])
    out = normal_spread(t, 1.0)
    assert out.shape == t.shape
    assert_allclose(out / np.sqrt(2.0 * t), 1.0, rtol=1e-2)


# --------------------------------------------------------------------------------------------
# Properties


@st.composite
def subspace(draw, alpha_max: float = 3.0):
    k = draw(st.integers(1, 3))
    d = draw(st.integers(k, 6))
    alpha = draw(st.sampled_from([0.0, draw(st.floats(1e-3, alpha_max))]))
    lam = draw(st.lists(st.floats(1e-3, 1e3), min_size=k, max_size=k))
    return d, np.array(lam), alpha


@PROPERTY_SETTINGS
@given(case=subspace(), t1=st.floats(1e-6, 20.0), ratio=st.floats(1.0 + 1e-6, 100.0))
def test_drift_energy_decreasing_when_variances_at_most_stationary(case, t1, ratio):
    d, lam, alpha = case
    if alpha > 0:
        lam = np.minimum(lam, 1.0 / alpha)  # λ_j ≤ 1/α: then the energy decreases in t
    e1, e2 = drift_energy(np.array([t1, t1 * ratio]), d, lam, alpha)
    assert e2 <= e1 * (1.0 + 1e-12)


@PROPERTY_SETTINGS
@given(
    case=subspace(),
    eps=st.floats(1e-8, 1.0),
    r1=st.floats(1.0 + 1e-3, 1e3),
    r2=st.floats(1.0 + 1e-3, 1e3),
)
def test_drift_energy_integral_additive_and_positive(case, eps, r1, r2):
    d, lam, alpha = case
    mid, T = eps * r1, eps * r1 * r2
    left = drift_energy_integral(eps, mid, d, lam, alpha)
    right = drift_energy_integral(mid, T, d, lam, alpha)
    assert left > 0 and right > 0
    assert_allclose(left + right, drift_energy_integral(eps, T, d, lam, alpha), rtol=1e-12)


@PROPERTY_SETTINGS
@given(case=subspace(), t=st.floats(1e-8, 50.0))
def test_drift_energy_positive_and_above_stationary_floor(case, t):
    # every eigenvalue of Cov_t is ≤ max(λ_max, 1/α) (≤ λ_max + 2t at α = 0), so the energy is ≥ d / that
    d, lam, alpha = case
    top = max(lam.max(), 1.0 / alpha) if alpha > 0 else lam.max() + 2.0 * t
    assert drift_energy(t, d, lam, alpha) >= d / top * (1.0 - 1e-12)


# --------------------------------------------------------------------------------------------
# Bad input


def _energy_one(t):
    return 1.0


GOOD_COV = np.eye(2)
BAD_INPUTS = [
    (lambda: drift_energy(0.0, 2, [1.0]), "t must"),
    (lambda: drift_energy([0.1, -1.0], 2, [1.0]), "t must"),
    (lambda: drift_energy(0.1, 2, [1.0], alpha=-0.1), "alpha must"),
    (lambda: drift_energy(0.1, 2, [1.0, 0.0]), "variances must"),
    (lambda: drift_energy(0.1, 2, []), "variances must"),
    (lambda: drift_energy(0.1, 2, [[1.0]]), "variances must"),
    (lambda: drift_energy(0.1, 1, [1.0, 2.0]), "variances has k = 2 entries, more than .* d = 1"),
    (lambda: drift_energy(0.1, 2.5, [1.0]), "d must"),
    (lambda: drift_energy(0.1, 0, [1.0]), "d must"),
    (lambda: drift_energy_integral(0.0, 1.0, 2, [1.0]), "eps must"),
    (lambda: drift_energy_integral(1.0, 1.0, 2, [1.0]), "eps must be < T"),
    (lambda: drift_energy_integral(2.0, 1.0, 2, [1.0]), "eps must be < T"),
    (lambda: drift_energy_integral(0.1, -1.0, 2, [1.0]), "T must"),
    (lambda: drift_energy_integral([0.1, 0.2], [1.0, 2.0, 3.0], 2, [1.0]), "eps and T must"),
    (lambda: drift_energy_integral(0.1, 1.0, 2, [1.0], alpha=-1.0), "alpha must"),
    (lambda: drift_energy_rate(2, 3), "k must"),
    (lambda: drift_energy_rate(2, -1), "k must"),
    (lambda: drift_energy_rate(0, 0), "d must"),
    (lambda: drift_energy_remainder(0.0, 2, [1.0]), "T must"),
    (lambda: girsanov_kl_bound(1.0, 0.1, 1.0), "error_energy must be a callable"),
    (lambda: girsanov_kl_bound(lambda t: -1.0, 0.1, 1.0), "error_energy must be >= 0"),
    (lambda: girsanov_kl_bound(lambda t: np.nan, 0.1, 1.0), "error_energy must be finite"),
    (lambda: girsanov_kl_bound(lambda t: [1.0, 2.0], 0.1, 1.0), "error_energy must return one"),
    (lambda: girsanov_kl_bound(_energy_one, 0.0, 1.0), "eps must"),
    (lambda: girsanov_kl_bound(_energy_one, 1.0, 0.5), "eps must be < T"),
    (lambda: girsanov_kl_bound(_energy_one, [0.1], 1.0), "eps must"),
    (lambda: girsanov_kl_bound(_energy_one, 0.1, 1.0, kl_prior=-0.1), "kl_prior must"),
    (lambda: power_law_error_energy_integral(1.0, np.nan, 0.1, 1.0), "gamma must"),
    (lambda: power_law_error_energy_integral(np.inf, 0.5, 0.1, 1.0), "c must"),
    (lambda: power_law_error_energy_integral(1.0, 0.5, 1.0, 0.1), "eps must be < T"),
    (
        lambda: power_law_error_energy_integral([1.0, 2.0], [0.5, 0.6, 0.7], 0.1, 1.0),
        "must broadcast",
    ),
    (lambda: power_law_error_energy_integral(1.0, 400.0, 1e-300, 1.0), "float64 range"),
    (lambda: power_law_error_energy_limit(1.0, np.inf, 1.0), "gamma must"),
    (lambda: power_law_error_energy_limit(np.nan, 0.5, 1.0), "c must"),
    (lambda: power_law_error_energy_limit(1.0, 0.5, 0.0), "T must"),
    (
        lambda: gaussian_kl([0.0, 0.0], GOOD_COV, [0.0, 0.0], -GOOD_COV),
        "cov1 must be positive definite",
    ),
    (
        lambda: gaussian_kl([0.0, 0.0], [[1.0, 0.5], [0.0, 1.0]], [0.0, 0.0], GOOD_COV),
        "cov0 must be symmetric",
    ),
    (lambda: gaussian_kl([0.0, 0.0], np.eye(3), [0.0, 0.0], GOOD_COV), "cov0 must have shape"),
    (lambda: gaussian_kl([0.0, 0.0], GOOD_COV, [0.0], [[1.0]]), "mean0 and mean1"),
    (lambda: gaussian_kl([[0.0, 0.0]], GOOD_COV, [0.0, 0.0], GOOD_COV), "mean0 must"),
    (lambda: gaussian_kl([0.0, np.nan], GOOD_COV, [0.0, 0.0], GOOD_COV), "mean0 must"),
    (lambda: ou_prior_kl(1.0, 2, [1.0], alpha=0.0), "alpha must be > 0.*best_gaussian_prior_ve"),
    (lambda: ou_prior_kl(1.0, 2, [1.0], alpha=-1.0), "alpha must"),
    (lambda: ou_prior_kl(0.0, 2, [1.0]), "T must"),
    (lambda: ou_prior_kl(1.0, 2, [1.0, 1.0, 1.0]), "variances has k"),
    (
        lambda: best_gaussian_prior_ve([0.0, 0.0], -GOOD_COV, 1.0),
        "cov must be positive semi-definite",
    ),
    (lambda: best_gaussian_prior_ve([0.0, 0.0], np.eye(3), 1.0), "cov must have shape"),
    (lambda: best_gaussian_prior_ve([0.0, 0.0], GOOD_COV, 0.0), "T must"),
    (lambda: empirical_error_limit(0), "k must"),
    (lambda: empirical_error_limit(1.5), "k must"),
    (lambda: normal_spread(0.0), "t_min must"),
    (lambda: normal_spread(0.1, alpha=-1.0), "alpha must"),
]


@pytest.mark.parametrize(("call", "match"), BAD_INPUTS, ids=[m for _, m in BAD_INPUTS])
def test_bad_input_raises(call, match):
    with pytest.raises(ValueError, match=match):
        call()
