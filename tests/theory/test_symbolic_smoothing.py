"""Tests for theory.symbolic_smoothing: the sympy derivations, and theory.smoothing against them.

Each derivation is checked twice: its own identity simplifies to 0 (continuity, the invariants'
rates, F(κ) against its closed form), and the expression, turned into a function with
``sympy.lambdify`` (mpmath at 50 digits where float64 would cancel), reproduces the numeric code
of theory.smoothing.
"""

import itertools

import mpmath
import numpy as np
import pytest
import sympy
from numpy.testing import assert_allclose

from theory import smoothing as sm
from theory import symbolic_smoothing as ss

DPS = 50
EPS = np.finfo(np.float64).eps
TWO = np.array([[-1.0], [1.0]])
FOUR_UNEQUAL = np.array([[-1.0], [-0.2], [0.5], [1.5]])


@pytest.fixture(scope="module")
def gap():
    return ss.smoothed_score_gap()


@pytest.fixture(scope="module")
def flow():
    return ss.flow_invariants()


@pytest.fixture(scope="module")
def two_point():
    return ss.two_point_empirical_score()


@pytest.fixture(scope="module")
def loss_limit():
    return ss.asymptotic_loss_integral()


def _gaps(points):
    tau = points[:, 0]
    return [((a + b) / 2, (b - a) / 2) for a, b in itertools.pairwise(tau)]


class TestTwoPointScore:
    def test_identity(self, two_point):
        sym = two_point
        assert sym.difference == 0
        assert sym.closed_form == (sympy.tanh(sym.x / sym.t) - sym.x) / sym.t

    @pytest.mark.parametrize("t", [1.0, 0.1, 0.01])
    def test_vs_empirical_score(self, two_point, t):
        sym = two_point
        score = sympy.lambdify((sym.x, sym.t), sym.score, "mpmath")
        x = np.linspace(-2, 2, 41)
        with mpmath.workdps(DPS):
            ref = np.array([float(score(mpmath.mpf(float(v)), mpmath.mpf(t))) for v in x])
        got = sm.empirical_score(x[:, None], t, TWO)[:, 0]
        # log-sum-exp bound on t * score (see test_smoothing._lse_atol): 4 eps (1 + 9/2t) * 3
        assert np.all(np.abs(t * got - t * ref) <= 12 * EPS * (1 + 4.5 / t))


class TestSmoothedScoreGap:
    def test_continuity_symbolic(self, gap):
        assert gap.value_jumps == (0, 0)
        delta = gap.kappa * sympy.sqrt(gap.t)
        want = gap.Delta / ((gap.Delta - delta) * gap.t)
        assert sympy.simplify(gap.slope_jumps[0] - want) == 0
        assert sympy.simplify(gap.slope_jumps[1] + want) == 0

    def test_non_smoothness_symbolic(self, gap):
        delta = gap.kappa * sympy.sqrt(gap.t)
        per_gap = 2 * gap.Delta / ((gap.Delta - delta) * gap.t)
        assert sympy.simplify(gap.non_smoothness - per_gap) == 0
        # Note §1.4 [D]: R = 2/((1-δ)t) for {-1, +1} (m = 0, Δ = 1).
        two = gap.non_smoothness.subs({gap.Delta: 1, gap.m: 0})
        assert sympy.simplify(two - 2 / ((1 - delta) * gap.t)) == 0

    @pytest.mark.parametrize("points", [TWO, FOUR_UNEQUAL])
    @pytest.mark.parametrize(("t", "kappa"), [(0.01, 1.0), (0.05, 0.8)])
    def test_pieces_and_kinks_vs_numeric(self, gap, points, t, kappa):
        args = (gap.x, gap.t, gap.kappa, gap.Delta, gap.m)
        left, ramp, right = (
            sympy.lambdify(args, e, "numpy") for e in (gap.left, gap.ramp, gap.right)
        )
        kinks = sympy.lambdify(args[1:], gap.kinks, "numpy")
        for m, half in _gaps(points):
            k_lo, k_hi = kinks(t, kappa, half, m)
            # Inside each piece (within the gap), theory.smoothing equals the sympy piece.
            for piece, lo, hi in [
                (left, m - half, k_lo),
                (ramp, k_lo, k_hi),
                (right, k_hi, m + half),
            ]:
                x = np.linspace(lo, hi, 51)[1:-1]
                got = sm.smoothed_score(x[:, None], t, kappa, points)[:, 0]
                assert_allclose(t * got, t * piece(x, t, kappa, half, m), rtol=1e-13, atol=1e-15)
            # At the sympy kinks both neighbouring pieces and the numeric score agree.
            for kink, (a, b) in [(k_lo, (left, ramp)), (k_hi, (ramp, right))]:
                values = [
                    t * a(kink, t, kappa, half, m),
                    t * b(kink, t, kappa, half, m),
                    t * sm.smoothed_score(np.array([[kink]]), t, kappa, points)[0, 0],
                ]
                assert np.ptp(values) < 1e-14

    @pytest.mark.parametrize("points", [TWO, FOUR_UNEQUAL])
    def test_non_smoothness_vs_numeric(self, gap, points):
        r = sympy.lambdify((gap.t, gap.kappa, gap.Delta), gap.non_smoothness, "numpy")
        t, kappa = 0.02, 1.3
        total = sum(r(t, kappa, half) for _, half in _gaps(points))
        assert_allclose(sm.non_smoothness(t, kappa, points), total, rtol=8 * EPS)


class TestAsymptoticLoss:
    def test_identity(self, loss_limit):
        assert loss_limit.difference == 0

    def test_vs_numeric(self, loss_limit):
        sym = loss_limit
        f = sympy.lambdify(sym.kappa, sym.integral, "mpmath")
        kappa = np.array([0.01, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0])
        ref = []
        for k in kappa:
            # sympy's antiderivative is written with erf: 1 - erf(κ/√2) ≈ e^{-κ²/2} cancels
            # κ²/(2 ln 10) digits, on top of which 50 are kept.
            with mpmath.workdps(DPS + int(k**2 / (2 * np.log(10))) + 10):
                ref.append(float(f(mpmath.mpf(k))))
        assert_allclose(sm.asymptotic_loss(kappa), ref, rtol=4 * EPS)


class TestLossRampResidual:
    def test_identity(self):
        assert ss.loss_ramp_residual().difference == 0

    @pytest.mark.parametrize(
        ("points", "t", "kappa"), [(TWO, 1e-3, 1.0), (FOUR_UNEQUAL, 1e-3, 2.0)]
    )
    def test_vs_scores(self, points, t, kappa):
        # Next to the right point of each gap, (t ŝ - t s_ESF)/√t on the ramp (z < -κ) is the
        # sympy closed form: the ESF equals the PL-ESF there up to e^{-c/t}.
        sym = ss.loss_ramp_residual()
        f = sympy.lambdify((sym.z, sym.t, sym.kappa, sym.Delta), sym.closed_form, "numpy")
        for m, half in _gaps(points):
            z = np.linspace(-kappa - 3.0, -kappa, 31)
            xi = (m + half + np.sqrt(t) * z)[:, None]
            resid = (
                t * sm.smoothed_score(xi, t, kappa, points) - t * sm.empirical_score(xi, t, points)
            )[:, 0] / np.sqrt(t)
            assert_allclose(resid, f(z, t, kappa, half), rtol=1e-10, atol=1e-11)


class TestFlowInvariants:
    def test_rates_vanish(self, flow):
        assert flow.middle_rate == 0
        assert flow.outer_rate == 0

    def test_trajectories_conserve_invariants(self, flow):
        # dsolve's x(s) keeps the invariant at its value at t0.
        mid = flow.middle_invariant.subs(flow.tau, flow.s)
        out = flow.outer_invariant.subs(flow.tau, flow.s)
        mid0 = flow.middle_invariant.subs({flow.tau: flow.t0, flow.x: flow.x_t})
        out0 = flow.outer_invariant.subs({flow.tau: flow.t0, flow.x: flow.x_t})
        assert sympy.simplify(mid.subs(flow.x, flow.middle_trajectory) - mid0) == 0
        assert sympy.simplify(out.subs(flow.x, flow.outer_trajectory) - out0) == 0

    @pytest.mark.parametrize("points", [TWO, FOUR_UNEQUAL])
    def test_vs_flow_map(self, flow, points):
        kappa, t0 = 1.0, 0.05  # δ = 0.22 < 0.35, the smallest half-gap
        delta = kappa * np.sqrt(t0)
        middle = sympy.lambdify(
            (flow.x_t, flow.t0, flow.s, flow.kappa, flow.Delta, flow.m),
            flow.middle_trajectory,
            "numpy",
        )
        outer = sympy.lambdify((flow.x_t, flow.t0, flow.s, flow.y), flow.outer_trajectory, "numpy")
        tau = points[:, 0]
        for s in [t0, 0.3 * t0, 1e-6, 0.0]:
            for m, half in _gaps(points):
                x = m + np.linspace(-1, 1, 21)[1:-1] * (half - delta)  # middle region
                got = sm.flow_map(x[:, None], t0, s, kappa, points)[:, 0]
                assert_allclose(got, middle(x, t0, s, kappa, half, m), rtol=4 * EPS, atol=4 * EPS)
            for y in tau:  # outer region: within δ of a point, and beyond the hull
                x = y + np.linspace(-1, 1, 21) * delta
                if y in (tau[0], tau[-1]):
                    x = np.append(x, y + np.sign(y - tau.mean()) * np.array([3, 30]) * delta)
                got = sm.flow_map(x[:, None], t0, s, kappa, points)[:, 0]
                assert_allclose(got, outer(x, t0, s, y), rtol=4 * EPS, atol=4 * EPS)

    def test_normal_part(self, flow):
        # The normal part obeys the outer ODE with y = 0: x_perp(s) = x_perp(t0) √(s/t0).
        normal = sympy.lambdify((flow.x_t, flow.t0, flow.s), flow.outer_trajectory.subs(flow.y, 0))
        points = np.array([[-1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
        x = np.array([[0.3, 0.5, -1.2], [1.1, -0.4, 2.0]])
        for s in [0.1, 1e-4, 0.0]:
            got = sm.flow_map(x, 0.2, s, 1.0, points)
            assert_allclose(got[:, 1:], normal(x[:, 1:], 0.2, s), rtol=4 * EPS)
            assert_allclose(got[:, 1:], x[:, 1:] * sm.normal_collapse(s, 0.2), rtol=4 * EPS)
