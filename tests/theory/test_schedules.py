"""Tests for theory.schedules: VP/OU scales, VE ↔ VP conversions, VP scores, geometric grids.

References are computed with mpmath at 50 digits (the snippet is the reference function next to
each test), or by an independent closed form of the VP marginal (a Gaussian mixture whose
components carry the scaled data, evaluated directly at time t).
"""

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from theory.distributions import FiniteSet, GaussianMixture, LinearGaussian
from theory.schedules import (
    geometric_grid,
    linear_beta_ou_time,
    ou_a,
    ou_v,
    ve_sigma_to_vp_t,
    vp_a,
    vp_score_from_ve,
    vp_t_to_ve_sigma,
    vp_v,
)

DPS = 50

# t from 1e-300 (v_t and σ(t) must keep full relative precision: no 1 - e^{-2t} cancellation) to
# 700 (σ(t) = e^{700}-ish is still a float64; e^{2t} alone is not).
T_VALUES = [1e-300, 1e-20, 1e-8, 1e-3, 0.1, 0.5, 1.0, 3.0, 10.0, 40.0, 300.0, 400.0, 700.0]
SIGMA_VALUES = [1e-150, 1e-8, 2e-3, 0.5, 1.0, 1.0000001, 2.0, 80.0, 1e10, 1e160, 1e300]


def _mp_vp_a(t):
    with mpmath.workdps(DPS):
        return float(mpmath.exp(-mpmath.mpf(t)))


def _mp_vp_v(t):
    with mpmath.workdps(DPS):
        return float(
            -mpmath.expm1(-2 * mpmath.mpf(t))
        )  # 50 digits of 1 - e^{-2t} need expm1 at t = 1e-300


def _mp_vp_t_to_ve_sigma(t):
    with mpmath.workdps(DPS):
        t = mpmath.mpf(t)
        return float(mpmath.sqrt(-mpmath.expm1(-2 * t) / mpmath.exp(-2 * t)))  # √(v_t / a_t²)


def _mp_ve_sigma_to_vp_t(sigma):
    with mpmath.workdps(DPS):
        return float(mpmath.log1p(mpmath.mpf(sigma) ** 2) / 2)


def _bad_positive_inputs():
    return [0.0, -1.0, np.nan, np.inf, [1.0, 0.0]]


class TestVpA:
    @pytest.mark.parametrize("t", T_VALUES)
    def test_mpmath(self, t):
        assert_allclose(vp_a(t), _mp_vp_a(t), rtol=1e-14)

    def test_vectorised(self):
        t = np.array([[0.1, 1.0], [2.0, 5.0]])
        assert_allclose(vp_a(t), [[_mp_vp_a(s) for s in row] for row in t.tolist()], rtol=1e-14)

    @pytest.mark.parametrize("t", _bad_positive_inputs())
    def test_bad_t(self, t):
        with pytest.raises(ValueError, match="t must"):
            vp_a(t)


class TestVpV:
    @pytest.mark.parametrize("t", T_VALUES)
    def test_mpmath(self, t):
        assert_allclose(vp_v(t), _mp_vp_v(t), rtol=1e-14)

    @pytest.mark.parametrize("t", [1e-3, 0.3, 2.0])
    def test_variance_preserving(self, t):
        # a_t² + v_t = 1 (unit-variance data stay unit variance).
        assert_allclose(vp_a(t) ** 2 + vp_v(t), 1.0, rtol=1e-15)

    @pytest.mark.parametrize("t", _bad_positive_inputs())
    def test_bad_t(self, t):
        with pytest.raises(ValueError, match="t must"):
            vp_v(t)


class TestVpTToVeSigma:
    @pytest.mark.parametrize("t", T_VALUES)
    def test_mpmath(self, t):
        assert_allclose(vp_t_to_ve_sigma(t), _mp_vp_t_to_ve_sigma(t), rtol=1e-14)

    @pytest.mark.parametrize("t", [1e-6, 0.2, 1.5, 20.0])
    def test_noise_to_signal_ratio(self, t):
        # σ(t)² = v_t / a_t², from the two other functions.
        assert_allclose(vp_t_to_ve_sigma(t) ** 2, vp_v(t) / vp_a(t) ** 2, rtol=1e-14)

    def test_shape(self):
        t = np.array([[0.1], [1.0], [4.0]])
        assert vp_t_to_ve_sigma(t).shape == (3, 1)

    @pytest.mark.parametrize("t", _bad_positive_inputs())
    def test_bad_t(self, t):
        with pytest.raises(ValueError, match="t must"):
            vp_t_to_ve_sigma(t)


class TestVeSigmaToVpT:
    @pytest.mark.parametrize("sigma", SIGMA_VALUES)
    def test_mpmath(self, sigma):
        assert_allclose(ve_sigma_to_vp_t(sigma), _mp_ve_sigma_to_vp_t(sigma), rtol=1e-14)

    def test_vectorised_across_branch(self):
        sigma = np.array([0.5, 1.0, 2.0, 1e200])
        ref = [_mp_ve_sigma_to_vp_t(s) for s in sigma.tolist()]
        assert_allclose(ve_sigma_to_vp_t(sigma), ref, rtol=1e-14)

    @pytest.mark.parametrize("t", T_VALUES)
    def test_round_trip_t(self, t):
        # t ↦ σ ↦ t is well conditioned (condition number ≤ 1): a few ulp.
        assert_allclose(ve_sigma_to_vp_t(vp_t_to_ve_sigma(t)), t, rtol=1e-14)

    @pytest.mark.parametrize("sigma", SIGMA_VALUES)
    def test_round_trip_sigma(self, sigma):
        # σ ↦ t ↦ σ: the map t ↦ σ = e^t √(1 - e^{-2t}) has condition number t·e^{2t}/(e^{2t} - 1)
        # ≈ max(1, t), so the rounding of t (half an ulp) is amplified up to t ≈ 690 (σ = 1e300).
        t = ve_sigma_to_vp_t(sigma)
        assert_allclose(vp_t_to_ve_sigma(t), sigma, rtol=1e-14 * max(1.0, t))

    @settings(deadline=None, max_examples=60)
    @given(st.floats(min_value=-30.0, max_value=30.0))
    def test_round_trip_property(self, log10_sigma):
        sigma = 10.0**log10_sigma
        t = ve_sigma_to_vp_t(sigma)
        assert_allclose(vp_t_to_ve_sigma(t), sigma, rtol=1e-14 * max(1.0, t))

    @pytest.mark.parametrize("sigma", _bad_positive_inputs())
    def test_bad_sigma(self, sigma):
        with pytest.raises(ValueError, match="sigma must"):
            ve_sigma_to_vp_t(sigma)


def _orthonormal(d, k, seed):
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, k)))
    return q


def _assert_close_normwise(actual, desired, rtol):
    """Elementwise check with an absolute floor of rtol × the largest |desired|.

    Linear solves and eigen-decompositions are norm-wise backward stable, so a small entry of a
    result can only be trusted to rtol relative to the largest entry.
    """
    desired = np.asarray(desired)
    assert_allclose(actual, desired, rtol=rtol, atol=rtol * np.max(np.abs(desired)))


class TestVpScoreFromVe:
    # The VP marginal of x_t = a_t x_0 + √v_t ε is computed directly, without any VE rescaling:
    # for x_0 ~ N(0, Σ) it is N(0, a_t² Σ + v_t I), whose score is -(a_t² Σ + v_t I)^{-1} x (by a
    # LAPACK solve), and it is also the one-component GaussianMixture N(0, a_t² Σ) noised at
    # σ² = v_t.
    @pytest.mark.parametrize("t", [1e-3, 0.1, 1.0, 3.0])
    def test_linear_gaussian_vs_direct_vp_marginal(self, t):
        lg = LinearGaussian([2.0, 0.3], d=4, basis=_orthonormal(4, 2, seed=0))
        x = np.random.default_rng(1).standard_normal((5, 4))
        a_t, v_t = np.exp(-t), -np.expm1(-2.0 * t)
        cov_t = a_t**2 * lg.covariance + v_t * np.eye(4)
        by_hand = -np.linalg.solve(cov_t, x.T).T
        as_mixture = GaussianMixture([1.0], np.zeros((1, 4)), [a_t**2 * lg.covariance])
        score_vp = vp_score_from_ve(lg.score)(x, t)
        # cond(a_t² Σ + v_t I) ≤ 1 + 2/v_t ≈ 1e3 at t = 1e-3: the solve is good to ~1e-13 norm-wise.
        _assert_close_normwise(score_vp, by_hand, rtol=1e-12)
        _assert_close_normwise(score_vp, as_mixture.score(x, np.sqrt(v_t)), rtol=1e-12)

    @pytest.mark.parametrize("t", [0.05, 0.7, 2.5])
    def test_finite_set_vs_direct_vp_marginal(self, t):
        # Uniform law on points y_i: the VP marginal is (1/m) Σ_i N(a_t y_i, v_t I).
        points = np.random.default_rng(2).standard_normal((5, 3))
        x = np.random.default_rng(3).standard_normal((4, 3))
        a_t, v_t = np.exp(-t), -np.expm1(-2.0 * t)
        direct = GaussianMixture(np.full(5, 0.2), a_t * points, np.zeros((5, 3, 3)))
        score_vp = vp_score_from_ve(FiniteSet(points).score)(x, t)
        _assert_close_normwise(score_vp, direct.score(x, np.sqrt(v_t)), rtol=1e-12)

    def test_one_t_per_point(self):
        # n = d on purpose: a per-point t must scale rows of x, not silently broadcast over columns.
        lg = LinearGaussian([2.0, 0.5], d=3)
        x = np.arange(9.0).reshape(3, 3) / 4.0
        t = np.array([0.1, 0.5, 2.0])
        score_vp = vp_score_from_ve(lg.score)
        rowwise = np.array([score_vp(x[i], t[i]) for i in range(3)])
        assert_allclose(score_vp(x, t), rowwise, rtol=1e-15)

    def test_single_point_shape(self):
        lg = LinearGaussian([2.0], d=3)
        assert vp_score_from_ve(lg.score)(np.ones(3), 0.4).shape == (3,)

    @pytest.mark.parametrize("t", [0.0, -0.5, np.nan])
    def test_bad_t(self, t):
        score_vp = vp_score_from_ve(LinearGaussian([1.0], d=2).score)
        with pytest.raises(ValueError, match="t must"):
            score_vp(np.ones(2), t)


def _mp_geometric(start, stop, n):
    # g_i = start (stop/start)^{i/(n-1)} at 50 digits.
    with mpmath.workdps(DPS):
        start, stop = mpmath.mpf(start), mpmath.mpf(stop)
        return [float(start * (stop / start) ** (mpmath.mpf(i) / (n - 1))) for i in range(n)]


class TestGeometricGrid:
    @pytest.mark.parametrize(
        ("start", "stop", "n"),
        [(0.002, 80.0, 18), (80.0, 0.002, 18), (1e-3, 1e3, 7), (1.0, 2.0, 2), (5.0, 5.0, 3)],
    )
    def test_mpmath(self, start, stop, n):
        grid = geometric_grid(start, stop, n)
        assert grid.shape == (n,)
        # Endpoints are exact; interior points carry the rounding of exp(log(...)) of arguments of
        # size |log stop/start| ≤ 11, i.e. a few times 1e-15.
        assert grid[0] == start
        assert grid[-1] == stop
        assert_allclose(grid, _mp_geometric(start, stop, n), rtol=1e-14)

    @pytest.mark.parametrize(("start", "stop", "n"), [(0.002, 80.0, 18), (80.0, 0.002, 18)])
    def test_constant_ratio(self, start, stop, n):
        grid = geometric_grid(start, stop, n)
        with mpmath.workdps(DPS):
            ratio = float((mpmath.mpf(stop) / mpmath.mpf(start)) ** (mpmath.mpf(1) / (n - 1)))
        assert_allclose(grid[1:] / grid[:-1], ratio, rtol=1e-14)

    def test_direction(self):
        assert np.all(np.diff(geometric_grid(80.0, 0.002, 18)) < 0)
        assert np.all(np.diff(geometric_grid(0.002, 80.0, 18)) > 0)
        assert_array_equal(geometric_grid(0.5, 4.0, 4), [0.5, 1.0, 2.0, 4.0])

    @pytest.mark.parametrize(
        ("start", "stop", "n", "match"),
        [
            (0.0, 1.0, 5, "start must"),
            (-1.0, 1.0, 5, "start must"),
            (1.0, 0.0, 5, "stop must"),
            (1.0, np.nan, 5, "stop must"),
            (np.inf, 1.0, 5, "start must"),
            (1.0, 2.0, 1, "n must"),
            (1.0, 2.0, 0, "n must"),
            (1.0, 2.0, 2.5, "n must"),
        ],
    )
    def test_bad_input(self, start, stop, n, match):
        with pytest.raises(ValueError, match=match):
            geometric_grid(start, stop, n)


# ----------------------------------------------------------------------------------------------
# general-α OU marginals and the linear-β clock (paper002 §1.1)


@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0, 3.0])
def test_ou_marginal_variance_solves_the_moment_ode(alpha):
    # dv/dt = -2αv + 2, v(0) = 0 and a' = -αa, integrated by scipy (an independent route)
    from scipy.integrate import solve_ivp

    ts = np.array([1e-6, 1e-3, 0.1, 1.0, 4.0])
    sol = solve_ivp(
        lambda t, y: [-2 * alpha * y[0] + 2, -alpha * y[1]],
        (0, 4.0),
        [0.0, 1.0],
        t_eval=ts,
        rtol=1e-12,
        atol=1e-15,
    )
    assert_allclose(ou_v(ts, alpha), sol.y[0], rtol=1e-8)
    assert_allclose(ou_a(ts, alpha), sol.y[1], rtol=1e-8)


def test_ou_alpha_one_is_the_vp_process():
    t = np.geomspace(1e-12, 30, 40)
    assert_allclose(ou_a(t), vp_a(t), rtol=1e-15)
    assert_allclose(ou_v(t), vp_v(t), rtol=1e-15)


def test_linear_beta_clock_integrates_beta():
    from scipy.integrate import quad

    for t in (1e-3, 0.3, 1.0):
        ref = 0.5 * quad(lambda u: 0.001 + u * (3.0 - 0.001), 0, t, epsabs=0, epsrel=1e-13)[0]
        assert_allclose(linear_beta_ou_time(t), ref, rtol=1e-12)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: ou_v(0.0), "t must be > 0"),
        (lambda: ou_a(1.0, -0.1), "alpha must be >= 0"),
        (lambda: ou_v(1.0, np.nan), "alpha must be finite"),
        (
            lambda: linear_beta_ou_time(0.5, 2.0, 1.0),
            "beta_max must be >= beta_min",
        ),
    ],
)
def test_ou_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
