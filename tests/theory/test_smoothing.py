"""Tests for theory.smoothing (paper004, score smoothing; VE with noise variance t).

Every reference comes from a route independent of the code under test:

- the two-point closed form (tanh(x/t) - x)/t, in float64 and with mpmath at 50 digits (tiny t);
- the n-point, d-dimensional empirical score summed with mpmath at 50 digits;
- the note's piecewise formulas, re-typed here branch by branch (S-PL-ESF, endpoint map);
- total variation of finite-difference slopes for R[f];
- mpmath quadrature of F(kappa) = E[(Z - kappa)_+^2] after the shift z = kappa + u;
- scipy.integrate.solve_ivp (RK45, rtol 1e-10) of x' = -1/2 s_tau(x) for the flow map and the
  normal collapse;
- quadrature of the push-forward of p_t0 through flow_map (change of variables), for the
  endpoint law;
- the note's tables (tagged [C]/[D] calibration: checked only to the digits printed).
"""

import itertools

import mpmath
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import integrate, optimize
from scipy.special import ndtr
from scipy.stats import norm

from theory import smoothing as sm
from theory.distributions import FiniteSet

DPS = 50
EPS = np.finfo(np.float64).eps
TWO = np.array([[-1.0], [1.0]])
FOUR_EQUAL = np.linspace(-1.0, 1.0, 4)[:, None]  # half-gap 1/3
FOUR_UNEQUAL = np.array([[-1.0], [-0.2], [0.5], [1.5]])  # half-gaps 0.4, 0.35, 0.5
# A line in R^3 that is neither an axis nor through the origin: y_k = o + tau_k u, o ⟂ u.
U3 = np.array([1.0, 2.0, 2.0]) / 3.0
O3 = np.array([0.3, -0.6, 0.3]) - (np.array([0.3, -0.6, 0.3]) @ U3) * U3
TAU3 = np.array([-1.0, -0.2, 0.5, 1.5])
ROTATED = O3 + TAU3[:, None] * U3


def _lse_atol(x, points, t):
    """Absolute error bound for t * ESF from log-sum-exp in float64.

    The logits -|x - y_k|^2 / 2t carry an absolute rounding error of about
    eps |x - y_k|^2 / 2t, which moves the weights by as much; the pull sum_k w_k (y_k - x) then
    moves by that times the spread of the points. A 4x safety factor on both terms.
    """
    x = np.atleast_2d(x)
    d2 = np.sum((x[:, None, :] - points[None, :, :]) ** 2, axis=2)
    spread = np.ptp(points, axis=0).max() + 1.0
    return 4 * EPS * (1.0 + d2.max(axis=1) / (2 * t)) * spread


def _mp_empirical_score(x, t, points):
    """sum_k w_k (y_k - x) / t with w_k ∝ exp(-|x - y_k|^2 / 2t), at 50 digits."""
    with mpmath.workdps(DPS):
        tt = mpmath.mpf(t)
        ys = [[mpmath.mpf(float(v)) for v in y] for y in points]
        xs = [mpmath.mpf(float(v)) for v in x]
        logw = [-sum((a - b) ** 2 for a, b in zip(xs, y, strict=True)) / (2 * tt) for y in ys]
        top = max(logw)
        w = [mpmath.exp(lw - top) for lw in logw]
        total = sum(w)
        return np.array(
            [
                float(sum(wk * (y[i] - xs[i]) for wk, y in zip(w, ys, strict=True)) / total / tt)
                for i in range(len(xs))
            ]
        )


def _mp_tanh_score(x, t):
    with mpmath.workdps(DPS):
        xx, tt = mpmath.mpf(float(x)), mpmath.mpf(float(t))
        return float((mpmath.tanh(xx / tt) - xx) / tt)


def _note_two_point_smoothed(x, t, kappa):
    """Note §1.4 [N], typed branch by branch."""
    delta = kappa * np.sqrt(t)
    return np.where(
        x <= delta - 1,
        -(x + 1) / t,
        np.where(x >= 1 - delta, -(x - 1) / t, delta / (1 - delta) * x / t),
    )


def _gapwise_smoothed(xi, t, kappa, tau):
    """Note §1.4 n-point reconstruction [D], with an explicit loop over gaps and points."""
    delta = kappa * np.sqrt(t)
    out = np.empty_like(xi)
    for i, v in enumerate(xi):
        value = None
        for a, b in itertools.pairwise(tau):
            m, half = (a + b) / 2, (b - a) / 2
            if abs(v - m) < half - delta:
                value = delta / (half - delta) * (v - m) / t
        if value is None:
            nearest = tau[np.argmin(np.abs(tau - v))]
            value = (nearest - v) / t
        out[i] = value
    return out


def _slope_total_variation(f, lo, hi, n=400_001):
    """sum |Δ slope| of f on a uniform grid: ∫|f''| for a piecewise-linear f (exact up to rounding)."""
    x = np.linspace(lo, hi, n)
    y = f(x)
    slopes = np.diff(y) / np.diff(x)
    return np.sum(np.abs(np.diff(slopes))), slopes[0], slopes[-1]


def _line_coordinate(x):
    return x @ U3


# --------------------------------------------------------------------------------------------
class TestEmpiricalScore:
    @pytest.mark.parametrize("t", [1.0, 0.1, 0.01, 1e-3])
    def test_two_point_tanh(self, t):
        x = np.linspace(-2.0, 2.0, 401)
        got = sm.empirical_score(x[:, None], t, TWO)[:, 0]
        ref = (np.tanh(x / t) - x) / t
        atol = _lse_atol(x[:, None], TWO, t) + 4 * EPS * (1 + np.abs(x))  # + the tanh route
        assert np.all(np.abs(t * got - t * ref) <= atol)

    @pytest.mark.parametrize("t", [1e-4, 1e-6, 1e-8])
    def test_tanh_tiny_t_mpmath(self, t):
        # x/t from 0.1 (the midpoint, where the logits cancel) to 1e8; 1 - tanh underflows.
        x = np.array([0.1 * t, t, 3 * t, 0.3, 1 - 10 * t, 1 - 1e-3 * t, 1.0, 1 + t, 1.7, -0.6])
        x = np.concatenate([x, -x])
        got = sm.empirical_score(x[:, None], t, TWO)[:, 0]
        ref = np.array([_mp_tanh_score(v, t) for v in x])
        atol = _lse_atol(x[:, None], TWO, t) + 4 * EPS * np.abs(t * ref)
        assert np.all(np.abs(t * got - t * ref) <= atol)
        # Away from the midpoint the float64 result is correct to a few ulps.
        far = np.abs(x) >= 0.3
        assert_allclose(got[far], ref[far], rtol=8 * EPS, atol=4 * EPS / t)

    @pytest.mark.parametrize("t", [0.5, 0.05, 0.005])
    def test_n_points_d_dims_mpmath(self, t):
        rng = np.random.default_rng(4)
        points = rng.standard_normal((5, 3))
        x = rng.standard_normal((12, 3)) * 1.5
        got = sm.empirical_score(x, t, points)
        for xi, g in zip(x, got, strict=True):
            ref = _mp_empirical_score(xi, t, points)
            assert np.all(np.abs(t * g - t * ref) <= _lse_atol(xi, points, t))

    @pytest.mark.parametrize("d", [1, 3])
    def test_vs_finite_set(self, d):
        # Wiring check (empirical_score delegates to FiniteSet): sigma = sqrt(t), not t.
        rng = np.random.default_rng(d)
        points = rng.standard_normal((4, d))
        x = rng.standard_normal((2, 3, d))
        t = 0.37
        got = sm.empirical_score(x, t, points)
        ref = FiniteSet(points).score(x.reshape(-1, d), np.sqrt(t)).reshape(x.shape)
        assert got.shape == x.shape
        assert_allclose(got, ref, rtol=4 * EPS, atol=0)
        wrong = FiniteSet(points).score(x.reshape(-1, d), t).reshape(x.shape)
        assert not np.allclose(got, wrong, rtol=1e-3)

    def test_shapes(self):
        x = np.array([0.2, -0.1])
        points = np.array([[0.0, 0.0], [1.0, 0.5], [-1.0, 0.2]])
        single = sm.empirical_score(x, 0.1, points)
        assert single.shape == (2,)
        batch = sm.empirical_score(np.broadcast_to(x, (3, 4, 2)), 0.1, points)
        assert batch.shape == (3, 4, 2)
        assert_array_equal(batch[2, 3], single)
        assert sm.empirical_score(np.zeros((0, 2)), 0.1, points).shape == (0, 2)

    def test_posterior_mean_inside_and_sign(self):
        # C1: x̂ = x + t s ∈ (-1, 1) with the sign of x.
        t = 0.3
        x = np.linspace(-3, 3, 61)
        xhat = x + t * sm.empirical_score(x[:, None], t, TWO)[:, 0]
        assert np.all(np.abs(xhat) < 1)
        assert_array_equal(np.sign(xhat), np.sign(x))

    def test_pl_limit_two_points(self):
        # Note test 2: sup_{|x| > 0.05} |t s_t - (sgn x - x)| < 1e-10 at t = 1e-3.
        t = 1e-3
        x = np.linspace(-2, 2, 4001)
        x = x[np.abs(x) > 0.05]
        gap = t * sm.empirical_score(x[:, None], t, TWO) - t * sm.piecewise_linear_score(
            x[:, None], t, TWO
        )
        assert np.abs(gap).max() < 1e-10
        assert_allclose(t * sm.piecewise_linear_score(x[:, None], t, TWO)[:, 0], np.sign(x) - x)

    def test_pl_limit_n_points_d2(self):
        # Away from the Voronoi boundaries the ESF is the PL-ESF up to e^{-margin/2t}.
        rng = np.random.default_rng(7)
        points = rng.uniform(-1, 1, (6, 2))
        x = rng.uniform(-1.5, 1.5, (4000, 2))
        d2 = np.sort(np.sum((x[:, None] - points[None]) ** 2, axis=2), axis=1)
        x = x[d2[:, 1] - d2[:, 0] > 0.2]
        t = 1e-3
        gap = t * sm.empirical_score(x, t, points) - t * sm.piecewise_linear_score(x, t, points)
        assert x.shape[0] > 1000
        assert np.abs(gap).max() < 1e-10


class TestPiecewiseLinearScore:
    def test_two_points(self):
        t = 0.05
        x = np.array([-2.0, -1.0, -0.3, 0.0, 1e-9, 0.3, 1.0, 2.0])
        got = sm.piecewise_linear_score(x[:, None], t, TWO)[:, 0]
        assert_array_equal(got, (np.sign(x) - x) / t)

    def test_nearest_point_1d(self):
        points = np.array([[0.7], [-1.0], [0.1], [2.0]])  # any order
        x = np.linspace(-3, 3, 1201)[:, None] + 1e-9  # off the midpoints
        nearest = points[np.argmin(np.abs(x - points.T), axis=1)]
        assert_allclose(sm.piecewise_linear_score(x, 0.2, points), (nearest - x) / 0.2)

    def test_ties_average(self):
        square = np.array([[1.0, 1.0], [-1.0, 1.0], [-1.0, -1.0], [1.0, -1.0]])
        assert_array_equal(sm.piecewise_linear_score(np.zeros(2), 0.1, square), [0.0, 0.0])
        # On the edge x = 0 between (±1, 1): the average (0, 1) pulls straight up.
        assert_allclose(sm.piecewise_linear_score(np.array([0.0, 0.5]), 0.1, square), [0, 5.0])


class TestSmoothedScore:
    @pytest.mark.parametrize(("t", "kappa"), [(0.2, 1.0), (0.01, 1.0), (1e-3, 3.0), (0.05, 0.5)])
    def test_two_points_vs_note(self, t, kappa):
        x = np.linspace(-2.5, 2.5, 2001)
        got = sm.smoothed_score(x[:, None], t, kappa, TWO)[:, 0]
        assert_allclose(got, _note_two_point_smoothed(x, t, kappa), rtol=4 * EPS, atol=0)

    @pytest.mark.parametrize("points", [FOUR_EQUAL, FOUR_UNEQUAL])
    @pytest.mark.parametrize(("t", "kappa"), [(0.01, 1.0), (1e-3, 2.5)])
    def test_n_points_vs_gapwise(self, points, t, kappa):
        x = np.linspace(-2.0, 2.5, 3001)
        got = sm.smoothed_score(x[:, None], t, kappa, points)[:, 0]
        ref = _gapwise_smoothed(x, t, kappa, points[:, 0])
        assert_allclose(got, ref, rtol=8 * EPS, atol=8 * EPS / t)

    @pytest.mark.parametrize("points", [TWO, FOUR_EQUAL, FOUR_UNEQUAL])
    def test_continuity_at_kinks(self, points):
        t, kappa = 0.01, 1.5
        delta = kappa * np.sqrt(t)
        tau = points[:, 0]
        kinks = np.concatenate([tau[:-1] + delta, tau[1:] - delta])
        for c in kinks:
            below, above = np.nextafter(c, -np.inf), np.nextafter(c, np.inf)
            vals = t * sm.smoothed_score(np.array([[below], [c], [above]]), t, kappa, points)
            assert np.ptp(vals) < 1e-12  # note test 3
        # A probe as fine sees the PL-ESF jump at a midpoint (the test can fail).
        m = 0.5 * (tau[0] + tau[1])
        jump = t * sm.piecewise_linear_score(np.array([[m - 1e-9], [m + 1e-9]]), t, points)
        assert np.ptp(jump) > 0.1

    def test_pl_esf_outside_ramps_and_ramp_slope(self):
        t, kappa = 0.02, 1.0
        delta = kappa * np.sqrt(t)
        tau = FOUR_UNEQUAL[:, 0]
        x = np.linspace(-2, 2.5, 4001)
        ramp = np.zeros_like(x, dtype=bool)
        for a, b in itertools.pairwise(tau):
            ramp |= np.abs(x - (a + b) / 2) < (b - a) / 2 - delta
        got = sm.smoothed_score(x[:, None], t, kappa, FOUR_UNEQUAL)[:, 0]
        pl = sm.piecewise_linear_score(x[:, None], t, FOUR_UNEQUAL)[:, 0]
        assert_array_equal(got[~ramp], pl[~ramp])
        for a, b in itertools.pairwise(tau):
            m, half = (a + b) / 2, (b - a) / 2
            h = 1e-3
            ends = sm.smoothed_score(np.array([[m - h], [m + h]]), t, kappa, FOUR_UNEQUAL)
            assert_allclose(
                (ends[1, 0] - ends[0, 0]) / (2 * h), delta / ((half - delta) * t), rtol=1e-9
            )

    def test_d_dims_tangential_and_exact_normal(self):
        rng = np.random.default_rng(11)
        x = rng.standard_normal((5, 7, 3))
        t, kappa = 0.01, 1.2
        got = sm.smoothed_score(x, t, kappa, ROTATED)
        xi = _line_coordinate(x)
        normal = x - O3 - xi[..., None] * U3
        tangential = _gapwise_smoothed(xi.ravel(), t, kappa, TAU3).reshape(xi.shape)
        assert got.shape == x.shape
        assert_allclose(got, tangential[..., None] * U3 - normal / t, rtol=1e-12, atol=1e-10 / t)
        # The normal part is the ESF's normal part (exactly linear).
        esf = sm.empirical_score(x, t, ROTATED)
        assert_allclose(got - (got @ U3)[..., None] * U3, esf - (esf @ U3)[..., None] * U3,
                        rtol=0, atol=1e-11 / t)  # fmt: skip

    def test_axis_line_is_exact(self):
        # Paper setting: points on the first axis; normal part -x_perp/t bit for bit.
        points = np.array([[-1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
        x = np.random.default_rng(3).standard_normal((50, 3))
        t, kappa = 0.04, 1.0
        got = sm.smoothed_score(x, t, kappa, points)
        assert_array_equal(got[:, 1:], -x[:, 1:] / t)
        assert_array_equal(got[:, 0], sm.smoothed_score(x[:, :1], t, kappa, TWO)[:, 0])


class TestNonSmoothness:
    @pytest.mark.parametrize(("t", "kappa"), [(0.2, 1.0), (0.01, 1.0), (1e-3, 3.0)])
    def test_two_points_note_formula(self, t, kappa):
        delta = kappa * np.sqrt(t)
        assert_allclose(sm.non_smoothness(t, kappa, TWO), 2 / ((1 - delta) * t), rtol=4 * EPS)

    @pytest.mark.parametrize("points", [TWO, FOUR_EQUAL, FOUR_UNEQUAL])
    def test_vs_slope_total_variation(self, points):
        t, kappa = 0.01, 1.0
        tau = points[:, 0]
        tv, left, right = _slope_total_variation(
            lambda x: sm.smoothed_score(x[:, None], t, kappa, points)[:, 0],
            tau[0] - 1,
            tau[-1] + 1,
        )
        assert_allclose(sm.non_smoothness(t, kappa, points), tv, rtol=1e-6)
        # Savarese et al.'s boundary term |f'(-inf) + f'(inf)| = 2/t never exceeds it.
        assert_allclose(abs(left + right), 2 / t, rtol=1e-6)
        assert abs(left + right) < tv

    def test_d_dims_equals_line(self):
        t, kappa = 0.01, 1.0
        tv, _, _ = _slope_total_variation(
            lambda s: sm.smoothed_score(O3 + s[:, None] * U3, t, kappa, ROTATED) @ U3, -2.0, 2.5
        )
        assert_allclose(sm.non_smoothness(t, kappa, ROTATED), tv, rtol=1e-6)
        assert_allclose(
            sm.non_smoothness(t, kappa, ROTATED), sm.non_smoothness(t, kappa, TAU3[:, None])
        )


class TestAsymptoticLoss:
    @staticmethod
    def _mp_reference(kappa):
        # F = E[(Z - κ)_+²] = φ(κ) ∫_0^∞ u² exp(-κu - u²/2) du (z = κ + u): no cancellation.
        # Breakpoints on the scale 1/max(κ, 1) of the integrand (without them mpmath.quad is off
        # by percents at κ ≥ 20).
        with mpmath.workdps(DPS):
            k = mpmath.mpf(kappa)
            scale = 1 / max(k, 1)
            pts = [0, scale, 10 * scale, 50 * scale, mpmath.inf]
            val = mpmath.npdf(k) * mpmath.quad(lambda u: u**2 * mpmath.exp(-k * u - u * u / 2), pts)
            return float(val)

    @pytest.mark.parametrize("kappa", [1e-3, 0.1, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0])
    def test_vs_mpmath_definition(self, kappa):
        assert_allclose(sm.asymptotic_loss(kappa), self._mp_reference(kappa), rtol=4 * EPS)

    def test_naive_float64_fails_in_the_tail(self):
        # Why mpmath: the closed form in float64 cancels ~log10(κ⁴/2) digits, 1e-9 to 1e-8
        # relative at κ = 20, 30, which the 4-ulp comparison above would catch.
        k = np.array([20.0, 30.0])
        naive = (1 + k**2) * ndtr(-k) - k * norm.pdf(k)
        ref = np.array([self._mp_reference(v) for v in k])
        assert np.all(np.abs(naive / ref - 1) > 1e-10)
        assert_allclose(sm.asymptotic_loss(k), ref, rtol=4 * EPS)

    def test_note_table(self):
        # Note §2.1, last column [D] (4 decimals / 2 significant digits printed).
        kappa = np.array([0.5, 1.0, 1.5, 2.0, 3.0])
        table = np.array([0.2096, 0.0753, 0.0228, 0.0058, 2.0e-4])
        got = sm.asymptotic_loss(kappa)
        assert got.shape == (5,)
        assert np.all(np.abs(got - table) <= np.array([5e-5] * 4 + [5e-6]))

    def test_shape_limits_monotone(self):
        k = np.array([[1e-9, 0.3], [1.0, 4.0]])
        f = sm.asymptotic_loss(k)
        assert f.shape == (2, 2)
        assert_allclose(f[0, 0], 0.5, rtol=1e-8)  # F(0) = E[Z_+²] = 1/2
        assert np.all(np.diff(sm.asymptotic_loss(np.linspace(0.01, 30, 300))) < 0)
        assert sm.asymptotic_loss(1.0).shape == ()


class TestScoreMatchingLoss:
    @pytest.mark.parametrize("kappa", [1.0, 2.0])
    def test_note_scaling(self, kappa):
        # Note test 4: L_t decreases to F(κ) along t = 1e-2, 1e-3, 1e-4; within 5 % at 1e-4.
        f = float(sm.asymptotic_loss(kappa))
        ts = [1e-2, 1e-3, 1e-4, 1e-5, 1e-6]
        losses = np.array([sm.score_matching_loss(t, kappa, TWO) for t in ts])
        assert np.all(np.diff(losses) < 0) and np.all(losses > f)
        assert abs(losses[2] / f - 1) < 0.05
        # L_t - F ≈ 2κ√t F: slope 1/2 in log-log at small t.
        slope = np.polyfit(np.log(ts[2:]), np.log(losses[2:] - f), 1)[0]
        assert abs(slope - 0.5) < 0.01

    @pytest.mark.parametrize(
        ("points", "t", "kappa"),
        [
            (TWO, 1e-2, 1.0),
            (TWO, 1e-4, 3.0),
            (TWO, 1e-3, 0.5),
            (FOUR_EQUAL, 1e-3, 1.0),
            (FOUR_UNEQUAL, 1e-3, 1.5),
            (ROTATED, 1e-3, 1.5),
        ],
    )
    def test_small_t_closed_form(self, points, t, kappa):
        # Derived (see theory.symbolic_smoothing.loss_ramp_residual): on the ramp next to a point
        # (t f - t s)/√t = (z + κ)/(1 - δ/Δ) up to e^{-c/t}, so L_t = (1/n) Σ_k 2F/(1 - δ/Δ_k)².
        tau = points @ U3 if points.shape[1] == 3 else points[:, 0]
        half = np.diff(tau) / 2
        ratio = kappa * np.sqrt(t) / half
        assert ratio.max() <= 0.2  # deep in the small-t regime
        f = float(sm.asymptotic_loss(kappa))
        ref = np.sum(2 * f / (1 - ratio) ** 2) / tau.size
        assert_allclose(sm.score_matching_loss(t, kappa, points), ref, rtol=1e-10)

    def test_note_table(self):
        # Note §2.1 quadrature table [D]: 4 decimals, or 2 significant digits for κ = 3.
        table = {
            (0.5, 1e-2): 0.2323,
            (1.0, 1e-2): 0.0930,
            (1.0, 1e-3): 0.0803,
            (2.0, 1e-4): 0.0060,
            (1.5, 1e-3): 0.0252,
            (3.0, 1e-2): 4.2e-4,
            (3.0, 1e-3): 2.5e-4,
        }
        for (kappa, t), value in table.items():
            got = sm.score_matching_loss(t, kappa, TWO)
            assert abs(got - value) <= (5e-5 if value > 1e-3 else 5e-6), (kappa, t, got)

    def test_d_dims_equals_line(self):
        assert_allclose(
            sm.score_matching_loss(2e-3, 1.0, ROTATED),
            sm.score_matching_loss(2e-3, 1.0, TAU3[:, None]),
            rtol=1e-12,
        )

    def test_outside_small_t_below_leading_term(self):
        # At δ/Δ ≈ 0.45 the middle of the gap holds mass and the small-t form overshoots: the
        # quadrature sees the whole integrand, not only the ramp edge.
        t, kappa = 0.2, 1.0
        f = float(sm.asymptotic_loss(kappa))
        loss = sm.score_matching_loss(t, kappa, TWO)
        assert 0 < loss < f / (1 - kappa * np.sqrt(t)) ** 2


class TestFlowMap:
    @staticmethod
    def _ode(x0, t, s_values, kappa, points, score=None):
        """RK45 (rtol 1e-10) of x' = -1/2 score_tau(x) from tau = t down to the s values."""
        d = points.shape[1]
        if score is None:

            def score(x, tau):
                return sm.smoothed_score(x, tau, kappa, points)

        def rhs(tau, y):
            return -0.5 * score(y.reshape(-1, d), tau).ravel()

        sol = integrate.solve_ivp(
            rhs, (t, s_values[-1]), x0.ravel(), method="RK45", rtol=1e-10, atol=1e-13,
            t_eval=s_values,
        )  # fmt: skip
        assert sol.status == 0
        return sol.y.T.reshape(len(s_values), *x0.shape)

    def test_two_points_vs_ode(self):
        # Note test 5: κ = 1, t0 = 0.2, down to 1e-10.
        kappa, t0 = 1.0, 0.2
        x0 = np.array([-1.5, -0.9, -0.6, -0.3, 0.2, 0.5, 0.55, 0.6, 1.2, 2.0])[:, None]
        s_values = [0.1, 1e-2, 1e-4, 1e-6, 1e-8, 1e-10]
        ode = self._ode(x0, t0, s_values, kappa, TWO)
        for s, xs in zip(s_values, ode, strict=True):
            assert_allclose(sm.flow_map(x0, t0, s, kappa, TWO), xs, rtol=0, atol=1e-8)
        # Note §2.2 [D]: -0.3, 0.2, 0.5 -> -0.5427, 0.3618, 0.9045.
        end = sm.flow_map(np.array([[-0.3], [0.2], [0.5]]), t0, 0.0, kappa, TWO)[:, 0]
        assert np.all(np.abs(end - [-0.5427, 0.3618, 0.9045]) < 5e-5)
        # Outer residual ∝ √s: log-log slope 1/2 (note test 5).
        outer = np.abs(ode[2:, -2, 0] - 1.0)
        slope = np.polyfit(np.log(s_values[2:]), np.log(outer), 1)[0]
        assert abs(slope - 0.5) < 0.01

    @pytest.mark.parametrize("points", [FOUR_UNEQUAL, ROTATED])
    def test_n_points_vs_ode(self, points):
        kappa = 1.0
        t0 = 0.5 * (0.35 / kappa) ** 2  # half the regime limit (smallest half-gap 0.35)
        rng = np.random.default_rng(5)
        d = points.shape[1]
        if d == 1:
            x0 = np.linspace(-1.6, 2.1, 23)[:, None]
        else:
            x0 = O3 + np.linspace(-1.6, 2.1, 23)[:, None] * U3 + 0.3 * rng.standard_normal((23, 3))
        s_values = [t0 / 2, 1e-3, 1e-6, 1e-9]
        ode = self._ode(x0, t0, s_values, kappa, points)
        for s, xs in zip(s_values, ode, strict=True):
            assert_allclose(sm.flow_map(x0, t0, s, kappa, points), xs, rtol=0, atol=1e-8)

    def test_endpoint_map_note(self):
        # Note §2.2 [N]: φ_{0|t}(x) = x/(1-δ_t) in the middle region, sgn(x) otherwise.
        t, kappa = 0.1, 1.3
        delta = kappa * np.sqrt(t)
        x = np.linspace(-2, 2, 801)
        ref = np.where(np.abs(x) <= 1 - delta, x / (1 - delta), np.sign(x))
        got = sm.flow_map(x[:, None], t, 0.0, kappa, TWO)[:, 0]
        assert_allclose(got, ref, rtol=4 * EPS, atol=0)

    def test_identity_regions_and_hull(self):
        t, kappa = 0.01, 1.0
        x = np.linspace(-3, 3, 6001)[:, None]
        assert_array_equal(sm.flow_map(x, t, t, kappa, FOUR_UNEQUAL), x)
        # Region boundaries are trajectories: τ_k ± δ_t -> τ_k ± δ_s.
        tau = FOUR_UNEQUAL[:, 0]
        s = 0.3 * t
        edges = np.concatenate([tau[:-1] + kappa * np.sqrt(t), tau[1:] - kappa * np.sqrt(t)])
        moved = sm.flow_map(edges[:, None], t, s, kappa, FOUR_UNEQUAL)[:, 0]
        want = np.concatenate([tau[:-1] + kappa * np.sqrt(s), tau[1:] - kappa * np.sqrt(s)])
        assert_allclose(moved, want, rtol=4 * EPS, atol=4 * EPS)
        # Note test 10: endpoints stay in the hull, and every gap is filled.
        end = sm.flow_map(x, t, 0.0, kappa, FOUR_UNEQUAL)[:, 0]
        assert end.min() >= tau[0] and end.max() <= tau[-1]
        for a, b in itertools.pairwise(tau):
            inside = end[(end > a) & (end < b)]
            assert inside.size > 0 and inside.min() - a < 0.01 and b - inside.max() < 0.01
        # Monotone: the flow preserves order.
        assert np.all(np.diff(end) >= 0)


class TestNormalCollapse:
    def test_formula_and_flow_map(self):
        assert_allclose(sm.normal_collapse(np.array([0.0, 0.05, 0.2]), 0.2), [0, 0.5, 1])
        points = np.array([[-1.0, 0.0], [1.0, 0.0]])
        x = np.array([[0.3, 0.7], [1.4, -2.0]])
        for s in [0.1, 1e-3, 0.0]:
            got = sm.flow_map(x, 0.2, s, 1.0, points)
            assert_allclose(got[:, 1], x[:, 1] * sm.normal_collapse(s, 0.2), rtol=4 * EPS)

    @pytest.mark.parametrize("d", [2, 20])
    @pytest.mark.parametrize("which", ["esf", "smoothed"])
    def test_ode(self, d, which):
        # Note test 11 (C8): |x_perp(s)| / |x_perp(t0)| = √(s/t0) to rel. 1e-6 (RK45, rtol 1e-10).
        points = np.zeros((2, d))
        points[:, 0] = [-1.0, 1.0]
        t0, kappa = 0.2, 1.0
        rng = np.random.default_rng(d)
        x0 = rng.standard_normal((3, d))
        x0[:, 0] = [-0.4, 0.3, 1.5]

        def score(x, tau):
            if which == "esf":
                return sm.empirical_score(x, tau, points)
            return sm.smoothed_score(x, tau, kappa, points)

        s_values = [1e-2, 1e-4]
        ode = TestFlowMap._ode(x0, t0, s_values, kappa, points, score=score)
        for s, xs in zip(s_values, ode, strict=True):
            ratio = np.linalg.norm(xs[:, 1:], axis=1) / np.linalg.norm(x0[:, 1:], axis=1)
            assert_allclose(ratio, sm.normal_collapse(s, t0), rtol=1e-6)


ENDPOINT_CASES = (
    (TWO, 1.0, 0.2),
    (TWO, 0.5, 0.5),
    (TWO, 2.0, 0.1),
    (FOUR_EQUAL, 1.0, 0.05),
    (FOUR_UNEQUAL, 1.5, 0.02),
)


class TestEndpointLaw:
    @staticmethod
    def _p_t0(xi, tau, t0):
        return np.mean(norm.pdf(xi[..., None], loc=tau, scale=np.sqrt(t0)), axis=-1)

    @pytest.mark.parametrize(("points", "kappa", "t0"), ENDPOINT_CASES)
    def test_masses_sum_to_one(self, points, kappa, t0):
        law = sm.endpoint_law(kappa, t0, points)
        assert np.all(law.atoms.weights > 0) and law.interpolating_mass > 0
        assert abs(law.atoms.weights.sum() + law.interpolating_mass - 1) <= 8 * EPS
        assert_array_equal(law.atoms.positions, points)

    @pytest.mark.parametrize(("points", "kappa", "t0"), ENDPOINT_CASES)
    def test_density_integrates_to_mass(self, points, kappa, t0):
        law = sm.endpoint_law(kappa, t0, points)
        tau = points[:, 0]
        total = sum(
            integrate.quad(law.density, a, b, epsabs=0, epsrel=1e-12, limit=200)[0]
            for a, b in itertools.pairwise(tau)
        )
        assert_allclose(total, law.interpolating_mass, rtol=1e-10)
        assert law.density(np.array([tau[0] - 1e-9, tau[-1] + 0.5])).tolist() == [0.0, 0.0]
        grid = np.linspace(tau[0], tau[-1], 1001)
        assert np.all(law.density(grid) > 0)  # strictly positive on the hull (note §2.3)
        p_tilde = integrate.quad(law.interpolating_density, tau[0], tau[-1], points=tau[1:-1])[0]
        assert_allclose(p_tilde, 1.0, rtol=1e-8)

    @pytest.mark.parametrize(("points", "kappa", "t0"), ENDPOINT_CASES)
    def test_pushforward_expectations(self, points, kappa, t0):
        # E[g(φ_{0|t0}(x))], x ~ p_t0, by quadrature over x (change of variables), against
        # Σ_k a_k g(y_k) + ∫ ρ g.
        law = sm.endpoint_law(kappa, t0, points)
        tau = points[:, 0]
        delta = kappa * np.sqrt(t0)
        root = np.sqrt(t0)
        region_edges = np.concatenate([tau[:-1] + delta, tau[1:] - delta])

        def g(y):  # four test functions at once: y, y², cos 3y, e^y
            return np.array([y, y**2, np.cos(3 * y), np.exp(y)])

        def pushed_integrand(z, c):
            y = sm.flow_map(np.array([[c + root * z]]), t0, 0.0, kappa, points)[0, 0]
            return norm.pdf(z) * g(y)

        pushed = np.zeros(4)
        for c in tau:
            zs = np.sort((region_edges - c) / root)
            edges = np.concatenate([[-40.0], zs[np.abs(zs) < 40], [40.0]])
            for a, b in itertools.pairwise(edges):
                pushed += integrate.quad_vec(
                    pushed_integrand, a, b, args=(c,), epsabs=1e-15, epsrel=1e-12
                )[0]
        pushed /= tau.size
        law_value = np.sum(law.atoms.weights * g(tau), axis=1) + sum(
            integrate.quad_vec(lambda y: law.density(y) * g(y), a, b, epsrel=1e-12)[0]
            for a, b in itertools.pairwise(tau)
        )
        assert_allclose(law_value, pushed, rtol=1e-9, atol=1e-13)

    @pytest.mark.parametrize(("points", "kappa", "t0"), ENDPOINT_CASES)
    def test_density_by_change_of_variables(self, points, kappa, t0):
        # ρ(y) = p_t0(x*) / φ'(x*) with φ(x*) = y: inverse by brentq, derivative by central
        # difference of flow_map (exact up to rounding: φ is affine on a middle region).
        law = sm.endpoint_law(kappa, t0, points)
        tau = points[:, 0]
        delta = kappa * np.sqrt(t0)

        def phi(v):
            return sm.flow_map(np.array([[v]]), t0, 0.0, kappa, points)[0, 0]

        for a, b in itertools.pairwise(tau):
            for y in a + (b - a) * np.array([0.01, 0.2, 0.5, 0.77, 0.99]):
                x_star = optimize.brentq(
                    lambda v, y=y: phi(v) - y, a + delta, b - delta, xtol=1e-15, rtol=4 * EPS
                )
                h = 1e-4 * (b - a)
                slope = (phi(x_star + h) - phi(x_star - h)) / (2 * h)
                ref = self._p_t0(np.array(x_star), tau, t0) / slope
                assert_allclose(law.density(y), ref, rtol=1e-8)

    def test_note_table(self):
        # Note §2.3 table [D]: κ, t0, interpolating mass, a_+, mass of |y| < 0.5, p̃(0)/p̃(1⁻).
        rows = [
            (0.5, 0.01, 0.3085, 0.3457, 0.0000, None),
            (0.5, 0.20, 0.3085, 0.3457, 0.0847, "0.186"),
            (0.5, 0.50, 0.2986, 0.3507, 0.1386, "0.775"),
            (1.0, 0.10, 0.1587, 0.4207, 0.0187, "0.022"),
            (1.0, 0.20, 0.1584, 0.4208, 0.0507, "0.27"),
            (1.0, 0.50, 0.1249, 0.4375, 0.0612, "0.93"),
            (2.0, 0.10, 0.0227, 0.4886, 0.0048, "0.10"),
        ]
        for kappa, t0, mass, a_plus, central, ratio in rows:
            law = sm.endpoint_law(kappa, t0, TWO)
            assert abs(law.interpolating_mass - mass) <= 5e-5
            assert abs(law.atoms.weights[1] - a_plus) <= 5e-5
            assert_allclose(law.atoms.weights[0], law.atoms.weights[1], rtol=1e-14)  # symmetry
            got = integrate.quad(law.density, -0.5, 0.5)[0]
            assert abs(got - central) <= 5e-5
            if ratio is not None:
                r = law.density(0.0) / law.density(np.nextafter(1.0, 0.0))
                decimals = len(ratio.split(".")[1])  # half a unit of the last printed digit
                assert abs(r - float(ratio)) <= 0.5 * 10.0**-decimals, (kappa, t0, r)

    def test_note_fractions(self):
        # Note test 8 (theory column): κ = 1, t0 = 0.2: |y| < 0.99 -> 0.1554, |y| < 0.5 -> 0.0507.
        law = sm.endpoint_law(1.0, 0.2, TWO)
        assert abs(integrate.quad(law.density, -0.99, 0.99)[0] - 0.1554) <= 5e-5

    @pytest.mark.parametrize("kappa", [0.5, 1.0, 2.0])
    def test_small_t0_limit(self, kappa):
        # Two points: mass -> Φ̄(κ) (note §2.3, test 9). n points [derived]: each inner side of a
        # point gives Φ̄(κ)/n, so mass -> (2(n-1)/n) Φ̄(κ), end atoms (1 - Φ̄)/n, inner (1 - 2Φ̄)/n.
        tail = norm.sf(kappa)
        law = sm.endpoint_law(kappa, 1e-4, TWO)
        assert_allclose(law.interpolating_mass, tail, rtol=1e-12)
        assert_allclose(law.atoms.weights, [(1 - tail) / 2] * 2, rtol=1e-12)
        law4 = sm.endpoint_law(kappa, 1e-4, FOUR_EQUAL)
        assert_allclose(law4.interpolating_mass, 2 * 3 / 4 * tail, rtol=1e-12)
        atoms = np.array([1 - tail, 1 - 2 * tail, 1 - 2 * tail, 1 - tail]) / 4
        assert_allclose(law4.atoms.weights, atoms, rtol=1e-12)

    def test_d_dims(self):
        law = sm.endpoint_law(1.2, 0.03, ROTATED)
        law1 = sm.endpoint_law(1.2, 0.03, TAU3[:, None])
        assert_array_equal(law.atoms.positions, ROTATED)
        assert_allclose(law.atoms.weights, law1.atoms.weights, rtol=1e-13)
        assert_allclose(law.interpolating_mass, law1.interpolating_mass, rtol=1e-13)
        assert_allclose(law.coordinates, TAU3, rtol=1e-15, atol=1e-15)
        assert_allclose(law.origin + law.coordinates[:, None] * law.direction, ROTATED, atol=1e-15)
        grid = np.linspace(-1.2, 1.7, 301)
        assert_allclose(law.density(grid), law1.density(grid), rtol=1e-12)
        # The flow really ends on the line, at the law's atoms or inside the gaps.
        x = O3 + np.linspace(-2, 2, 9)[:, None] * U3 + np.array([0.2, 0.1, -0.3])
        end = sm.flow_map(x, 0.03, 0.0, 1.2, ROTATED)
        assert_allclose(end - O3 - (end @ U3)[:, None] * U3, 0.0, atol=1e-15)

    def test_frozen(self):
        law = sm.endpoint_law(1.0, 0.2, TWO)
        with pytest.raises(AttributeError):
            law.interpolating_mass = 0.5
        with pytest.raises(ValueError, match="read-only"):
            law.atoms.weights[0] = 0.0
        with pytest.raises(ValueError, match="read-only"):
            law.coordinates[0] = 0.0


class TestValidation:
    X1 = np.zeros((3, 1))

    @pytest.mark.parametrize("t", [0.0, -1.0, np.nan, np.inf])
    @pytest.mark.parametrize(
        "call",
        [
            lambda t: sm.empirical_score(TestValidation.X1, t, TWO),
            lambda t: sm.piecewise_linear_score(TestValidation.X1, t, TWO),
            lambda t: sm.smoothed_score(TestValidation.X1, t, 1.0, TWO),
            lambda t: sm.non_smoothness(t, 1.0, TWO),
            lambda t: sm.score_matching_loss(t, 1.0, TWO),
            lambda t: sm.flow_map(TestValidation.X1, t, 0.0, 1.0, TWO),
            lambda t: sm.normal_collapse(0.0, t),
        ],
    )
    def test_bad_t(self, call, t):
        with pytest.raises(ValueError, match=r"^t must"):
            call(t)

    def test_bad_t0(self):
        for t0 in [0.0, -0.1, np.nan]:
            with pytest.raises(ValueError, match=r"^t0 must"):
                sm.endpoint_law(1.0, t0, TWO)
        with pytest.raises(ValueError, match=r"^t must be a scalar"):
            sm.smoothed_score(self.X1, np.array([0.1, 0.2]), 1.0, TWO)

    @pytest.mark.parametrize("kappa", [0.0, -1.0, np.nan])
    @pytest.mark.parametrize(
        "call",
        [
            lambda k: sm.smoothed_score(TestValidation.X1, 0.01, k, TWO),
            lambda k: sm.non_smoothness(0.01, k, TWO),
            lambda k: sm.score_matching_loss(0.01, k, TWO),
            lambda k: sm.flow_map(TestValidation.X1, 0.01, 0.0, k, TWO),
            lambda k: sm.endpoint_law(k, 0.01, TWO),
            lambda k: sm.asymptotic_loss(np.array([1.0, k])),
        ],
    )
    def test_bad_kappa(self, call, kappa):
        with pytest.raises(ValueError, match=r"^kappa must"):
            call(kappa)

    @pytest.mark.parametrize(
        ("points", "match"),
        [
            (np.array([[1.0]]), "at least two points"),
            (np.array([-1.0, 1.0]), r"shape \(n, d\)"),
            (np.array([[1.0], [-1.0]]), "sorted in increasing order"),
            (np.array([[-1.0], [0.5], [0.2], [1.0]]), "sorted in increasing order"),
            (np.array([[-1.0], [-1.0], [1.0]]), "not repeat"),
            (np.array([[-1.0, 0.0], [0.0, 0.0], [0.0, 0.0], [1.0, 0.0]]), "not repeat"),
            (np.array([[-1.0, 0.0], [0.5, 0.0], [0.2, 0.0], [1.0, 0.0]]), "in order along"),
            (np.array([[-1.0, 0.0], [1.0, 0.0], [-1.0, 0.0]]), "distinct and ordered"),
            (np.array([[-1.0, 0.0], [0.0, 1e-6], [1.0, 0.0]]), "lie on one line"),
            (np.array([[-1.0], [np.nan]]), "finite"),
        ],
    )
    def test_bad_points_where_order_matters(self, points, match):
        for call in [
            lambda: sm.smoothed_score(np.zeros(points.shape[-1]), 0.01, 1.0, points),
            lambda: sm.non_smoothness(0.01, 1.0, points),
            lambda: sm.score_matching_loss(0.01, 1.0, points),
            lambda: sm.flow_map(np.zeros(points.shape[-1]), 0.01, 0.0, 1.0, points),
            lambda: sm.endpoint_law(1.0, 0.01, points),
        ]:
            with pytest.raises(ValueError, match=r"^points must " + f".*{match}"):
                call()

    def test_points_where_order_does_not_matter(self):
        unsorted = np.array([[1.0], [-1.0], [1.0]])
        assert sm.empirical_score(np.zeros(1), 0.1, unsorted).shape == (1,)
        assert sm.piecewise_linear_score(np.zeros(1), 0.1, unsorted).shape == (1,)
        for call in [sm.empirical_score, sm.piecewise_linear_score]:
            with pytest.raises(ValueError, match="at least two points"):
                call(np.zeros(1), 0.1, np.array([[0.0]]))

    def test_regime(self):
        # δ_t = κ√t must stay below the smallest half-gap: t < (Δ_min/κ)².
        with pytest.raises(ValueError, match=r"^t must satisfy kappa\*sqrt\(t\) < 1"):
            sm.smoothed_score(self.X1, 1.0, 1.0, TWO)
        with pytest.raises(ValueError, match=r"^t must satisfy.*0 < t < 0.0544"):
            sm.flow_map(self.X1, 0.06, 0.0, 1.5, FOUR_UNEQUAL)  # Δ_min = 0.35
        with pytest.raises(ValueError, match=r"^t0 must satisfy"):
            sm.endpoint_law(2.0, 0.25, TWO)

    def test_bad_s_and_x(self):
        for s in [-1e-3, 0.02, np.nan]:
            with pytest.raises(ValueError, match=r"^s must"):
                sm.flow_map(self.X1, 0.01, s, 1.0, TWO)
            with pytest.raises(ValueError, match=r"^s must"):
                sm.normal_collapse(np.array([0.0, s]), 0.01)
        with pytest.raises(ValueError, match=r"^x must have shape \(\.\.\., d\) with d = 1"):
            sm.smoothed_score(np.zeros(3), 0.01, 1.0, TWO)
        with pytest.raises(ValueError, match=r"^x must have shape"):
            sm.empirical_score(np.zeros((4, 2)), 0.01, TWO)
        with pytest.raises(ValueError, match=r"^x must be finite"):
            sm.flow_map(np.array([[np.nan]]), 0.01, 0.0, 1.0, TWO)
        with pytest.raises(ValueError, match=r"^xi must be finite"):
            sm.endpoint_law(1.0, 0.01, TWO).density(np.nan)
