r"""Reverse Euler–Maruyama for :math:`dX = -\alpha X\,dt + \sqrt2\,dB` (paper002 §6).

References are written out here, independently of the module: the marginals
:math:`a_t = e^{-\alpha t}`, :math:`v_t = (1 - e^{-2\alpha t})/\alpha` (2t at α = 0), the noised
Gaussian-mixture density, the empirical score of the VP-β demo, and the distances to the
training points. Monte Carlo checks use fixed seeds and the tolerances of the research note
(T-B1, T-B3); each states its standard error.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

from empirical.reverse_ou import (
    clipped,
    geometric_times,
    linear_beta_times,
    ou_jacobian,
    ou_score,
    power_law_push,
    prior_sample,
    reverse_euler_maruyama,
    shifted,
    tweedie_denoise,
)
from empirical.sampling import sample_euler_maruyama_vp
from theory.distributions import FiniteSet, GaussianMixture, LinearGaussian
from theory.schedules import geometric_grid, vp_score_from_ve

T = 6.0
CIRCLE = np.stack([np.cos(2 * np.pi * np.arange(8) / 8), np.sin(2 * np.pi * np.arange(8) / 8)], 1)


def a_ref(t, alpha):
    return np.exp(-alpha * t)


def v_ref(t, alpha):
    return 2.0 * t if alpha == 0 else (1.0 - np.exp(-2.0 * alpha * t)) / alpha


# --------------------------------------------------------------------------------------------
# ou_score: the score of p_t, against finite differences of its log-density


MIXTURE = GaussianMixture(
    weights=[0.5, 0.3, 0.2],
    means=[[1.0, -0.5], [-1.5, 0.8], [0.2, 1.2]],
    covariances=[
        [[0.6, 0.2], [0.2, 0.4]],
        [[0.3, 0.0], [0.0, 0.9]],
        [[1.0, 1.0], [1.0, 1.0]],  # singular: a component on a line
    ],
)


def mixture_log_pt(x, t, alpha):
    """log p_t(x) = log Σ_k w_k N(x; a μ_k, a² Σ_k + v I), written directly."""
    a, v = a_ref(t, alpha), v_ref(t, alpha)
    terms = [
        np.log(w) + multivariate_normal(a * mu, a**2 * cov + v * np.eye(2)).logpdf(x)
        for w, mu, cov in zip(MIXTURE.weights, MIXTURE.means, MIXTURE.covariances, strict=True)
    ]
    return logsumexp(np.stack(terms), axis=0)


@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("t", [0.03, 0.7, 3.0])
def test_ou_score_is_the_gradient_of_log_pt(alpha, t):
    x = np.random.default_rng(3).normal(scale=1.5, size=(7, 2))
    h = 1e-5
    fd = np.stack(
        [
            (mixture_log_pt(x + h * e, t, alpha) - mixture_log_pt(x - h * e, t, alpha)) / (2 * h)
            for e in np.eye(2)
        ],
        axis=1,
    )
    score = ou_score(MIXTURE, alpha)(x, t)
    assert_allclose(score, fd, rtol=1e-6, atol=1e-7 * np.abs(fd).max())


def test_ou_score_takes_a_callable_and_matches_vp_at_alpha_one():
    x = np.random.default_rng(4).normal(size=(5, 2))
    for t in (1e-4, 0.3, 5.0):
        via_object = ou_score(MIXTURE)(x, t)
        assert_array_equal(ou_score(MIXTURE.score)(x, t), via_object)
        assert_allclose(via_object, vp_score_from_ve(MIXTURE.score)(x, t), rtol=1e-13)


@pytest.mark.parametrize("alpha", [0.0, 1.0])
@pytest.mark.parametrize("t", [1e-3, 0.3, 3.0])
def test_ou_jacobian_is_the_derivative_of_ou_score(alpha, t):
    """J_t = a⁻² J^VE(x/a, σ_t) against central differences of ou_score in x_t units."""
    x = np.random.default_rng(5).normal(scale=1.5, size=(6, 2)) * np.sqrt(v_ref(t, alpha) + 1)
    score = ou_score(MIXTURE, alpha)
    h = 1e-5 * np.sqrt(v_ref(t, alpha))  # small against the scale √v_t on which the field varies
    fd = np.stack(
        [(score(x + h * e, t) - score(x - h * e, t)) / (2 * h) for e in np.eye(2)], axis=-1
    )
    jac = ou_jacobian(MIXTURE, alpha)(x, t)
    assert jac.shape == (6, 2, 2)
    assert_allclose(jac, fd, rtol=1e-5, atol=1e-6 * np.abs(fd).max())
    assert_array_equal(ou_jacobian(MIXTURE.jacobian, alpha)(x, t), jac)


def test_ou_jacobian_of_a_gaussian_is_minus_the_inverse_covariance_of_p_t():
    """A Gaussian N(0, Σ) has p_t = N(0, a²Σ + vI): J_t = −(a²Σ + vI)⁻¹, written out here."""
    cov = np.array([[2.0, 0.0], [0.0, 0.0]])  # LinearGaussian variance 2 along e1
    spec = LinearGaussian(np.array([2.0]), 2)
    x = np.random.default_rng(6).normal(size=(3, 2))
    for t in (1e-3, 0.5, 4.0):
        a, v = a_ref(t, 1.0), v_ref(t, 1.0)
        expected = -np.linalg.inv(a**2 * cov + v * np.eye(2))
        assert_allclose(ou_jacobian(spec)(x, t), np.broadcast_to(expected, (3, 2, 2)), rtol=1e-12)


# --------------------------------------------------------------------------------------------
# T-B1: the Gaussian on a line lands on the line with normal std √v_{t_min}


LINE = LinearGaussian(np.array([1.0]), 2)  # variance 1 along e1, in R²
# n: the tangent variance (≈ 1) has s.e. √(2/n) = 0.014, so its tolerance 0.05 is 3.5 s.e. (the
# note's n = 4 000 would make it 2.2 s.e.); the normal std has s.e. 0.7 %, its tolerance 5 %.
N_LINE = 10_000
K_LINE = 2000  # geometric steps from T to 1e-3
T_MINS = (1e-2, 1e-3)


def start_on_exact_pt(alpha, rng):
    """Draws of p_T = N(0, diag(a²λ + v, v)) (the exact marginal at T, λ = 1)."""
    a, v = a_ref(T, alpha), v_ref(T, alpha)
    return rng.standard_normal((N_LINE, 2)) * np.sqrt([a**2 + v, v])


@pytest.fixture(scope="module", params=[1.0, 0.0], ids=["alpha=1", "alpha=0"])
def line_run(request):
    """One chain per α on the geometric grid of K_LINE steps from T to 1e-3, read at 1e-2 too.

    The grid is cut at 1e-2 (same step ratio either side), so the state at 1e-2 is the output
    of the same sampler on the first part of the grid; the run continues from it.
    """
    alpha = request.param
    rng = np.random.default_rng(2022)
    if alpha == 1.0:
        x_init = prior_sample(N_LINE, 2, rng)  # N(0, I), the note's prior (p_T up to e^{-12})
    else:
        x_init = start_on_exact_pt(alpha, rng)
    k_first = round(K_LINE * np.log(T / T_MINS[0]) / np.log(T / T_MINS[1]))
    score = ou_score(LINE, alpha)
    first = reverse_euler_maruyama(
        score, x_init, geometric_times(T, T_MINS[0], k_first), rng, alpha=alpha
    )
    second = reverse_euler_maruyama(
        score, first, geometric_times(T_MINS[0], T_MINS[1], K_LINE - k_first), rng, alpha=alpha
    )
    return alpha, {T_MINS[0]: first, T_MINS[1]: second}


@pytest.mark.parametrize("t_min", T_MINS)
def test_gaussian_line_lands_on_the_line(line_run, t_min):
    alpha, states = line_run
    y = states[t_min]
    assert np.std(y[:, 1], ddof=1) == pytest.approx(np.sqrt(v_ref(t_min, alpha)), rel=0.05)
    expected = a_ref(t_min, alpha) ** 2 + v_ref(t_min, alpha)
    assert np.var(y[:, 0], ddof=1) == pytest.approx(expected, abs=0.05)


def test_alpha_one_is_the_vp_sampler():
    rng_a, rng_b = np.random.default_rng(9), np.random.default_rng(9)
    x_init = np.random.default_rng(10).standard_normal((50, 2))
    ts = geometric_times(4.0, 1e-3, 200)
    ours = reverse_euler_maruyama(ou_score(LINE), x_init, ts, rng_a, tweedie=True)
    theirs = sample_euler_maruyama_vp(LINE.score, x_init, ts, rng_b, tweedie=True)
    assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)


def test_trajectory_and_seeds():
    x_init = np.random.default_rng(1).standard_normal((6, 2))
    ts = geometric_times(2.0, 0.01, 10)
    x_copy = x_init.copy()
    y, traj = reverse_euler_maruyama(
        ou_score(LINE), x_init, ts, np.random.default_rng(5), return_trajectory=True
    )
    assert traj.shape == (11, 6, 2)
    assert_array_equal(traj[0], x_init)
    assert_array_equal(traj[-1], y)
    assert_array_equal(x_init, x_copy)  # the input is not modified
    again = reverse_euler_maruyama(ou_score(LINE), x_init, ts, np.random.default_rng(5))
    assert_array_equal(again, y)
    denoised = reverse_euler_maruyama(
        ou_score(LINE), x_init, ts, np.random.default_rng(5), tweedie=True
    )
    assert_allclose(denoised, tweedie_denoise(ou_score(LINE), y, 0.01), rtol=1e-15)


# --------------------------------------------------------------------------------------------
# T-B3: the exact empirical score memorises; a bounded shift re-weights the same atoms


N_CIRCLE = 8000  # the equal-weights check needs it; the shifted run's checks need far fewer
N_SHIFTED = 2000  # max weight ≈ 0.6 against 0.3, s.e. 0.011
K_CIRCLE = 1000  # the author's demo takes 1 000 steps
T_MIN_CIRCLE = 1e-3
EMPIRICAL = ou_score(FiniteSet(CIRCLE))


def distances_to_circle_points(x):
    """(n, 8) distances to the training points, written directly."""
    return np.sqrt(((x[:, None, :] - CIRCLE[None, :, :]) ** 2).sum(axis=2))


@pytest.fixture(scope="module")
def circle_runs():
    """Final states of the exact and the shifted empirical score (c = (1, 1)), prior N(0, I)."""
    ts = geometric_times(T, T_MIN_CIRCLE, K_CIRCLE)
    x_init = prior_sample(N_CIRCLE, 2, np.random.default_rng(8))
    exact = reverse_euler_maruyama(EMPIRICAL, x_init, ts, np.random.default_rng(88))
    pushed = reverse_euler_maruyama(
        shifted(EMPIRICAL, [1.0, 1.0]), x_init[:N_SHIFTED], ts, np.random.default_rng(89)
    )
    return exact, pushed


def test_empirical_score_memorises(circle_runs):
    y = circle_runs[0]
    x_hat = tweedie_denoise(EMPIRICAL, y, T_MIN_CIRCLE)
    dist = distances_to_circle_points(x_hat)
    assert np.mean(dist.min(axis=1) < 1e-3) >= 0.99
    # before Tweedie: Σ ω_i N(a x_i, v I), nearest distance √v·χ₂, median √(2 ln 2 · v) = 0.0526
    v = v_ref(T_MIN_CIRCLE, 1.0)
    median = np.median(distances_to_circle_points(y).min(axis=1))
    assert median == pytest.approx(np.sqrt(2 * np.log(2) * v), rel=0.1)
    # equal weights: s.e. √(1/8 · 7/8 / 8000) = 0.0037, the tolerance 0.02 is 5.4 s.e.
    weights = np.bincount(dist.argmin(axis=1), minlength=8) / N_CIRCLE
    assert_allclose(weights, 1 / 8, atol=0.02)


def test_bounded_shift_keeps_the_atoms_and_reweights_them(circle_runs):
    y = circle_runs[1]
    x_hat = tweedie_denoise(EMPIRICAL, y, T_MIN_CIRCLE)  # the exact denoiser names the atom
    dist = distances_to_circle_points(x_hat)
    assert np.mean(dist.min(axis=1) < 1e-3) >= 0.99
    weights = np.bincount(dist.argmin(axis=1), minlength=8) / N_SHIFTED
    assert weights.max() > 0.3
    assert np.argmax(weights) == 1  # the atom at 45°, along c = (1, 1)


def test_tweedie_with_a_shifted_score_moves_by_v_c_over_a():
    y = np.random.default_rng(2).normal(size=(20, 2))
    c = np.array([1.0, -2.0])
    for alpha, t in ((1.0, 1e-3), (0.5, 0.2), (0.0, 0.05)):
        score = ou_score(FiniteSet(CIRCLE), alpha)
        moved = tweedie_denoise(shifted(score, c), y, t, alpha=alpha)
        plain = tweedie_denoise(score, y, t, alpha=alpha)
        assert_allclose(moved - plain, np.tile(v_ref(t, alpha) * c / a_ref(t, alpha), (20, 1)))


# --------------------------------------------------------------------------------------------
# Perturbations


def fixed_score(x, t):
    """A score with known values: rows of norm 0, 0.5, 5 and 50, scaled by t."""
    return t * np.array([[0.0, 0.0], [0.3, -0.4], [3.0, 4.0], [-30.0, 40.0]])


def test_clipped_rescales_exactly_where_active():
    x = np.zeros((4, 2))
    for t, bound in ((1.0, 2.0), (0.1, 0.45), (1.0, 100.0)):
        raw = fixed_score(x, t)
        out = clipped(fixed_score, bound)(x, t)
        norms = np.linalg.norm(raw, axis=1)
        active = norms > bound
        assert_array_equal(out[~active], raw[~active])
        assert_allclose(np.linalg.norm(out[active], axis=1), bound, rtol=1e-14)
        assert_allclose(out[active] * norms[active, None] / bound, raw[active], rtol=1e-14)


def test_power_law_push_and_shift_add_exactly():
    x = np.zeros((4, 2))
    u = np.array([0.6, 0.8])
    for t in (1e-4, 0.5, 3.0):
        push = power_law_push(fixed_score, u, 0.7, 1.1)(x, t) - fixed_score(x, t)
        assert_allclose(push, np.tile(0.7 * t**-0.55 * u, (4, 1)), rtol=1e-13)
        shift = shifted(fixed_score, 2.5)(x, t) - fixed_score(x, t)
        assert_allclose(shift, 2.5, rtol=1e-15)


# --------------------------------------------------------------------------------------------
# The author's VP-β demo: EM in OU time on linear_beta_times is the VP-β EM step


BETA_MIN, BETA_MAX = 0.001, 3.0


def vp_beta_em(x_init, t_grid, rng, beta_at):
    """Direct VP-β Euler–Maruyama with the exact empirical score of the circle points.

    Marginals of dX = −½β X dt + √β dB, as in the author's notebook: m_t = exp(−½ A_t),
    v_t = 1 − exp(−A_t), A_t = β_min t + ½ t² (β_max − β_min). ``beta_at(t, t_next)`` is the β
    used on the step.
    """
    x = x_init.copy()
    for t, t_next in itertools.pairwise(t_grid):
        big_a = BETA_MIN * t + 0.5 * t**2 * (BETA_MAX - BETA_MIN)
        m, v = np.exp(-0.5 * big_a), -np.expm1(-big_a)
        diff = m * CIRCLE[None, :, :] - x[:, None, :]
        logits = -0.5 * (diff**2).sum(axis=2) / v
        w = np.exp(logits - logits.max(axis=1, keepdims=True))
        w /= w.sum(axis=1, keepdims=True)
        score = np.einsum("nm,nmd->nd", w, diff) / v
        beta, dt = beta_at(t, t_next), t - t_next
        x = (
            x
            + 0.5 * beta * dt * x
            + beta * dt * score
            + np.sqrt(beta * dt) * rng.standard_normal(x.shape)
        )
    return x


def test_linear_beta_grid_reproduces_the_vp_beta_em_loop():
    K = 1000
    t_grid = np.linspace(1.0, 1e-3, K + 1)
    x_init = np.random.default_rng(0).standard_normal((200, 2))
    ours = reverse_euler_maruyama(EMPIRICAL, x_init, linear_beta_times(K), np.random.default_rng(7))

    def midpoint(t, t_next):
        return BETA_MIN + 0.5 * (t + t_next) * (BETA_MAX - BETA_MIN)

    direct = vp_beta_em(x_init, t_grid, np.random.default_rng(7), midpoint)
    assert_allclose(ours, direct, rtol=0, atol=1e-12)

    # the textbook left-point β(t_k) is a different discretisation: the check can tell them apart
    def left(t, t_next):
        return BETA_MIN + t * (BETA_MAX - BETA_MIN)

    left_point = vp_beta_em(x_init, t_grid, np.random.default_rng(7), left)
    assert np.max(np.abs(left_point - direct)) > 1e-6


def test_grids():
    ts = geometric_times(6.0, 1e-3, 4)
    assert_allclose(ts, geometric_grid(6.0, 1e-3, 5), rtol=1e-15)
    assert ts[0] == 6.0 and ts[-1] == pytest.approx(1e-3, rel=1e-14)
    assert_allclose(ts[1:] / ts[:-1], (1e-3 / 6.0) ** 0.25, rtol=1e-13)
    s = linear_beta_times(4)
    assert s.shape == (5,)
    assert s[0] == pytest.approx(0.5 * (BETA_MIN + 0.5 * (BETA_MAX - BETA_MIN)), rel=1e-15)
    assert s[-1] == pytest.approx(0.5 * (BETA_MIN * 1e-3 + 0.5e-6 * (BETA_MAX - BETA_MIN)))
    assert np.all(np.diff(s) < 0)


@pytest.mark.parametrize(
    ("alpha", "T_arg", "variance"), [(1.0, None, 1.0), (0.5, None, 2.0), (0.0, 3.0, 6.0)]
)
def test_prior_variance(alpha, T_arg, variance):
    x = prior_sample(20_000, 2, np.random.default_rng(11), alpha=alpha, T=T_arg)
    # second moment about the known mean 0: s.e. variance·√(2/n) = 1 %; 5 s.e.
    assert_allclose(np.mean(x**2, axis=0), variance, rtol=0.05)


# --------------------------------------------------------------------------------------------
# Bad input


def _good_run(**override):
    kwargs = {
        "score": ou_score(LINE),
        "x_init": np.zeros((3, 2)),
        "ts": [1.0, 0.5, 0.1],
        "rng": np.random.default_rng(0),
    }
    kwargs.update(override)
    return reverse_euler_maruyama(
        kwargs.pop("score"), kwargs.pop("x_init"), kwargs.pop("ts"), kwargs.pop("rng"), **kwargs
    )


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: _good_run(ts=[0.5, 1.0]), "ts must be strictly decreasing"),
        (lambda: _good_run(ts=[1.0, 0.0]), "ts must be > 0"),
        (lambda: _good_run(ts=[1.0]), "ts must have at least 2 points"),
        (lambda: _good_run(ts=[[1.0, 0.5]]), "ts must be a 1-D array"),
        (lambda: _good_run(ts=[1.0, np.nan]), "ts must be finite"),
        (lambda: _good_run(x_init=np.zeros(3)), "x_init must have shape"),
        (lambda: _good_run(x_init=[[np.inf, 0.0]]), "x_init must be finite"),
        (lambda: _good_run(alpha=-0.5), "alpha must be >= 0"),
        (lambda: _good_run(score=3.0), "score must be a callable"),
        (lambda: _good_run(score=lambda x, t: x[:, :1]), r"score must return an array of shape"),
        (lambda: _good_run(score=lambda x, t: x * np.nan), "score returned NaN or infinity at t"),
        (lambda: ou_score(object()), "field must have a score"),
        (lambda: ou_jacobian(object()), "field must have a jacobian"),
        (lambda: ou_jacobian(LINE, alpha=-1.0), "alpha must be >= 0"),
        (lambda: ou_jacobian(LINE)(np.zeros((2, 2)), 0.0), "t must be > 0"),
        (lambda: ou_score(LINE, alpha=-1.0), "alpha must be >= 0"),
        (lambda: ou_score(LINE)(np.zeros((2, 2)), 0.0), "t must be > 0"),
        (lambda: ou_score(LINE)(np.zeros((2, 2)), 800.0), "t must be small enough"),
        (lambda: ou_score(LINE)(np.zeros((2, 2)), [0.1, 0.2]), "t must be a scalar"),
        (lambda: shifted(fixed_score, [[1.0]]), "c must be a scalar or a 1-D array"),
        (lambda: shifted(fixed_score, [1.0, 2.0, 3.0])(np.zeros((4, 2)), 1.0), "c must have one"),
        (lambda: shifted(None, 1.0), "score must be a callable"),
        (lambda: clipped(fixed_score, 0.0), "bound must be > 0"),
        (lambda: clipped(fixed_score, [1.0, 2.0]), "bound must be a scalar"),
        (lambda: power_law_push(fixed_score, [1.0, 1.0], 1.0, 0.5), "direction must be a unit"),
        (lambda: power_law_push(fixed_score, [[1.0]], 1.0, 0.5), "direction must be a non-empty"),
        (lambda: power_law_push(fixed_score, [1.0, 0.0], np.nan, 0.5), "c must be finite"),
        (lambda: power_law_push(fixed_score, [1.0, 0.0], 1.0, "x"), "gamma must be a real"),
        (lambda: power_law_push(fixed_score, [1.0], 1.0, 0.5)(np.zeros((4, 2)), 1.0), "direction"),
        (lambda: power_law_push(fixed_score, [1.0, 0.0], 1.0, 0.5)(np.zeros((4, 2)), -1.0), "t"),
        (lambda: geometric_times(1.0, 2.0, 10), "t_min must be < T"),
        (lambda: geometric_times(1.0, 0.1, 0), "K must be an integer >= 1"),
        (lambda: geometric_times(-1.0, 0.1, 10), "T must be > 0"),
        (lambda: linear_beta_times(10, t_min=1.0), "t_min must be < t_max"),
        (lambda: linear_beta_times(0), "K must be an integer >= 1"),
        (lambda: linear_beta_times(10, beta_min=2.0, beta_max=1.0), "beta_max must be >= beta_min"),
        (lambda: prior_sample(4, 2, np.random.default_rng(0), alpha=0.0), "T must be given"),
        (lambda: prior_sample(0, 2, np.random.default_rng(0)), "n must be a positive integer"),
        (lambda: prior_sample(4, 2, np.random.default_rng(0), T=0.0), "T must be > 0"),
        (lambda: tweedie_denoise(fixed_score, np.zeros(2), 1.0), "y must have shape"),
        (lambda: tweedie_denoise(fixed_score, np.zeros((4, 2)), 0.0), "t must be > 0"),
    ],
)
def test_bad_input_raises_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_rng_must_be_a_generator():
    with pytest.raises(TypeError, match=r"rng must be a numpy\.random\.Generator"):
        _good_run(rng=0)
    with pytest.raises(TypeError, match=r"rng must be a numpy\.random\.Generator"):
        prior_sample(3, 2, None)
