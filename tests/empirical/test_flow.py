r"""Probability-flow integrators against closed-form flows (VE, noise variance τ).

References, each derived independently of :mod:`empirical.flow`:

- a linear score :math:`s(x,\tau) = -(x-y)/\tau` has the exact flow
  :math:`x_s - y = (x_t - y)\sqrt{s/t}` of :math:`dx/d\tau = -\tfrac12 s`; one Euler step
  uniform in :math:`\sigma=\sqrt\tau` is exact for it, so Euler must match to rounding;
- a Gaussian data law :math:`\mathcal N(0, v)` in 1-D has score :math:`-x/(v+\tau)` and flow
  :math:`x_s = x_t\sqrt{(v+s)/(v+t)}`;
- the S-PL-ESF of :math:`\{-1, +1\}` has the closed-form flow :func:`theory.smoothing.flow_map`.
"""

from __future__ import annotations

import numpy as np
import pytest

from empirical.flow import (
    from_sigma_score,
    integrate_euler,
    integrate_euler_refined,
    integrate_rk45,
)
from theory.smoothing import empirical_score, flow_map, smoothed_score


def _linear_score(y):
    y = np.asarray(y, dtype=np.float64)

    def score(x, tau):
        return -(x - y) / tau

    return score


def _gaussian_score(v):
    def score(x, tau):
        return -x / (v + tau)

    return score


class TestLinearScore:
    Y = np.array([0.5, -1.25, 2.0])

    @pytest.fixture
    def x(self, rng):
        return self.Y + 3.0 * rng.standard_normal((5, 3))

    @pytest.mark.parametrize(("t", "s"), [(1.0, 0.25), (2.0, 1e-6), (0.3, 0.29)])
    def test_rk45(self, x, t, s):
        exact = self.Y + (x - self.Y) * np.sqrt(s / t)
        out = integrate_rk45(_linear_score(self.Y), x, t, s)
        assert out.shape == x.shape
        # rtol of the solver applies to x itself (size ~ |y|), not to the shrinking displacement
        np.testing.assert_allclose(out, exact, rtol=1e-8, atol=1e-10)
        assert np.max(np.abs(out - exact)) < 1e-3 * np.max(np.abs(x - exact))  # a real move

    @pytest.mark.parametrize(("t", "s", "n_steps"), [(1.0, 0.25, 1), (2.0, 1e-6, 7), (4.0, 0.0, 3)])
    def test_euler_is_exact(self, x, t, s, n_steps):
        exact = self.Y + (x - self.Y) * np.sqrt(s / t)
        out = integrate_euler(_linear_score(self.Y), x, t, s, n_steps)
        np.testing.assert_allclose(out, exact, rtol=1e-12, atol=1e-12)

    def test_euler_to_zero_ends_on_y(self, x):
        out = integrate_euler(_linear_score(self.Y), x, 1.7, 0.0, 5)
        np.testing.assert_allclose(out, np.broadcast_to(self.Y, x.shape), rtol=0, atol=1e-12)

    def test_input_is_not_modified(self, x):
        before = x.copy()
        integrate_euler(_linear_score(self.Y), x, 1.0, 0.0, 4)
        integrate_rk45(_linear_score(self.Y), x, 1.0, 0.5)
        np.testing.assert_array_equal(x, before)


class TestGaussian1D:
    V = 0.7

    @pytest.mark.parametrize(("t", "s"), [(1.0, 1e-4), (5.0, 0.5), (0.2, 1e-8)])
    def test_rk45_closed_form(self, t, s):
        x = np.array([[-2.0], [0.3], [1.5]])
        exact = x * np.sqrt((self.V + s) / (self.V + t))
        for row, ref in zip(x, exact, strict=True):  # one trajectory at a time: rtol is per batch
            out = integrate_rk45(_gaussian_score(self.V), row[None, :], t, s, rtol=1e-10)
            assert abs(out[0, 0] - ref[0]) < 1e-8 * max(1.0, abs(ref[0]))

    def test_euler_converges(self):
        t, s = 2.0, 0.0
        x = np.array([[-2.0], [0.3], [1.5]])
        exact = x * np.sqrt((self.V + s) / (self.V + t))
        coarse = integrate_euler(_gaussian_score(self.V), x, t, s, 10)
        fine = integrate_euler(_gaussian_score(self.V), x, t, s, 2000)
        err_coarse = np.max(np.abs(coarse - exact))
        err_fine = np.max(np.abs(fine - exact))
        assert err_coarse > 1e-3  # the score is not linear-in-1/τ: Euler is not exact here
        assert err_fine < 1e-3
        assert err_fine < err_coarse / 50  # first order: 200x more steps, ~200x smaller error

    def test_euler_matches_scalar_recursion(self):
        # independent unrolling: x_{i+1} = x_i (1 - (σ_i - σ_{i+1}) σ_i / (v + σ_i²))
        t, s, n = 3.0, 0.01, 37
        x0 = np.array([[1.3], [-0.4]])
        sig = np.sqrt(t) + (np.sqrt(s) - np.sqrt(t)) * np.arange(n + 1) / n
        factor = np.prod(1 - (sig[:-1] - sig[1:]) * sig[:-1] / (self.V + sig[:-1] ** 2))
        out = integrate_euler(_gaussian_score(self.V), x0, t, s, n)
        np.testing.assert_allclose(out, x0 * factor, rtol=1e-12)


class TestSmoothedScore:
    POINTS = np.array([[-1.0], [1.0]])
    KAPPA = 1.0
    T = 0.2
    S = 1e-6

    def _score(self, x, tau):
        return smoothed_score(x, tau, self.KAPPA, self.POINTS)

    # middle region |x| < 1 - sqrt(0.2) ≈ 0.553; outer region beyond; stay clear of the kink
    @pytest.mark.parametrize("x0", [-0.4, 0.05, 0.3, -1.8, 0.8, 1.3, 2.5])
    def test_rk45_matches_flow_map(self, x0):
        x = np.array([[x0]])
        out = integrate_rk45(self._score, x, self.T, self.S)
        ref = flow_map(x, self.T, self.S, self.KAPPA, self.POINTS)
        assert abs(out[0, 0] - ref[0, 0]) < 1e-7

    def test_euler_matches_flow_map_in_outer_region(self):
        # the outer region has a score -(x ∓ 1)/τ, for which each Euler step is exact
        x = np.array([[-1.8], [0.8], [1.3], [2.5]])
        out = integrate_euler(self._score, x, self.T, 0.0, 6)
        ref = flow_map(x, self.T, 0.0, self.KAPPA, self.POINTS)
        np.testing.assert_allclose(out, ref, rtol=0, atol=1e-12)


class TestTrajectory:
    def test_shapes_and_ends(self, rng):
        x = rng.standard_normal((4, 2))
        t, s, n = 1.5, 0.1, 9
        score = _gaussian_score(0.5)
        x_end, traj, taus = integrate_euler(score, x, t, s, n, return_trajectory=True)
        assert traj.shape == (n + 1, 4, 2)
        assert taus.shape == (n + 1,)
        assert taus[0] == pytest.approx(t, rel=1e-15)
        assert taus[-1] == pytest.approx(s, rel=1e-15)
        assert np.all(np.diff(taus) < 0)
        np.testing.assert_allclose(np.diff(np.sqrt(taus)), np.sqrt(s) / n - np.sqrt(t) / n)
        np.testing.assert_array_equal(traj[0], x)
        np.testing.assert_array_equal(traj[-1], x_end)
        np.testing.assert_array_equal(x_end, integrate_euler(score, x, t, s, n))

    def test_trajectory_follows_linear_flow(self, rng):
        y = np.array([1.0, -2.0])
        x = rng.standard_normal((3, 2))
        _, traj, taus = integrate_euler(_linear_score(y), x, 2.0, 0.0, 5, return_trajectory=True)
        exact = y + (x - y)[None] * np.sqrt(taus / 2.0)[:, None, None]
        np.testing.assert_allclose(traj, exact, rtol=1e-12, atol=1e-12)

    def test_progress_bar_same_result(self, rng):
        x = rng.standard_normal((2, 1))
        score = _gaussian_score(1.0)
        np.testing.assert_array_equal(
            integrate_euler(score, x, 1.0, 0.0, 4, progress=True),
            integrate_euler(score, x, 1.0, 0.0, 4),
        )


class TestFromSigmaScore:
    def test_passes_sqrt_tau(self):
        calls = []

        def f(x, sigma):
            calls.append(sigma)
            return x * sigma

        g = from_sigma_score(f)
        x = np.array([[1.0, 2.0]])
        out = g(x, 0.09)
        assert calls == [pytest.approx(0.3, rel=1e-15)]
        np.testing.assert_allclose(out, x * 0.3, rtol=1e-15)

    def test_in_integrator(self):
        # a VE score written in sigma: -x / (v + sigma^2)
        v = 0.4
        score = from_sigma_score(lambda x, sigma: -x / (v + sigma**2))
        x = np.array([[1.1]])
        out = integrate_rk45(score, x, 2.0, 0.01)
        np.testing.assert_allclose(out, x * np.sqrt((v + 0.01) / (v + 2.0)), rtol=1e-8)


class TestValidation:
    X = np.array([[0.5], [-0.5]])
    SCORE = staticmethod(_gaussian_score(1.0))

    @pytest.mark.parametrize(
        ("t", "s"), [(0.0, 0.0), (-1.0, -2.0), (1.0, -0.1), (1.0, 1.0), (1.0, 2.0)]
    )
    def test_bad_times(self, t, s):
        with pytest.raises(ValueError, match=r"\bt\b|\bs\b"):
            integrate_euler(self.SCORE, self.X, t, s, 3)
        with pytest.raises(ValueError, match=r"\bt\b|\bs\b"):
            integrate_rk45(self.SCORE, self.X, t, s)

    def test_nan_times(self):
        with pytest.raises(ValueError):
            integrate_euler(self.SCORE, self.X, np.nan, 0.0, 3)
        with pytest.raises(ValueError):
            integrate_rk45(self.SCORE, self.X, 1.0, np.nan)

    def test_rk45_needs_positive_end(self):
        with pytest.raises(ValueError, match="integrate_euler"):
            integrate_rk45(self.SCORE, self.X, 1.0, 0.0)

    @pytest.mark.parametrize("x", [np.array([0.5, -0.5]), np.zeros((2, 1, 1)), np.zeros((0, 1))])
    def test_bad_shape(self, x):
        with pytest.raises(ValueError, match="x"):
            integrate_euler(self.SCORE, x, 1.0, 0.0, 3)
        with pytest.raises(ValueError, match="x"):
            integrate_rk45(self.SCORE, x, 1.0, 0.5)

    @pytest.mark.parametrize("bad", [np.nan, np.inf])
    def test_non_finite_x(self, bad):
        x = np.array([[0.5], [bad]])
        with pytest.raises(ValueError, match="x"):
            integrate_euler(self.SCORE, x, 1.0, 0.0, 3)
        with pytest.raises(ValueError, match="x"):
            integrate_rk45(self.SCORE, x, 1.0, 0.5)

    @pytest.mark.parametrize("n_steps", [0, -1, 2.0, 2.5, True, "3", None])
    def test_bad_n_steps(self, n_steps):
        with pytest.raises(ValueError, match="n_steps"):
            integrate_euler(self.SCORE, self.X, 1.0, 0.0, n_steps)

    def test_numpy_integer_steps_ok(self):
        out = integrate_euler(_linear_score([0.0]), self.X, 1.0, 0.25, np.int64(2))
        np.testing.assert_allclose(out, self.X * 0.5, rtol=1e-12)

    @pytest.mark.parametrize("name", ["rtol", "atol"])
    @pytest.mark.parametrize("value", [0.0, -1e-6])
    def test_bad_tolerances(self, name, value):
        with pytest.raises(ValueError, match=name):
            integrate_rk45(self.SCORE, self.X, 1.0, 0.5, **{name: value})

    def test_score_wrong_shape(self):
        def bad(x, tau):
            return x[:, 0]

        with pytest.raises(ValueError, match="shape"):
            integrate_euler(bad, self.X, 1.0, 0.0, 3)
        with pytest.raises(ValueError, match="shape"):
            integrate_rk45(bad, self.X, 1.0, 0.5)

    def test_score_non_finite(self):
        def bad(x, tau):
            return np.full_like(x, np.nan)

        with pytest.raises(ValueError, match="NaN or infinity at tau"):
            integrate_euler(bad, self.X, 1.0, 0.0, 3)
        with pytest.raises(ValueError, match="NaN or infinity at tau"):
            integrate_rk45(bad, self.X, 1.0, 0.5)


class TestEulerRefined:
    def test_exact_field_has_no_error_and_a_curved_one_shrinks_first_order(self):
        x = np.linspace(-2.0, 2.0, 41)[:, None]
        # −(x − 1)/τ: Euler in √τ is exact on it (module docstring), so N and 4N steps agree
        _, exact = integrate_euler_refined(lambda z, tau: -(z - 1.0) / tau, x, 0.2, 1e-4, 10)
        assert exact < 1e-12
        pts = np.array([[-1.0], [1.0]])
        esf = lambda z, tau: empirical_score(z, tau, pts)  # noqa: E731
        _, coarse = integrate_euler_refined(esf, x, 0.2, 1e-4, 25)
        _, fine = integrate_euler_refined(esf, x, 0.2, 1e-4, 100)
        assert coarse > 1e-6
        assert 2.0 < coarse / fine < 8.0  # first order: 4× more steps, about 4× less error

    def test_the_states_are_those_of_integrate_euler(self):
        x = np.linspace(-1.5, 1.5, 7)[:, None]
        field = lambda z, tau: -z / (1.0 + tau)  # noqa: E731
        y, _ = integrate_euler_refined(field, x, 0.3, 0.0, 50, n_check=3)
        np.testing.assert_array_equal(y, integrate_euler(field, x, 0.3, 0.0, 50))

    @pytest.mark.parametrize("n_check", [0, 1.5, True])
    def test_bad_n_check(self, n_check):
        with pytest.raises(ValueError, match="n_check"):
            integrate_euler_refined(lambda z, tau: -z, [[0.0]], 0.3, 0.0, 5, n_check=n_check)
