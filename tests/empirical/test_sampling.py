r"""Samplers against the exact law of a Gaussian on a plane in R³ (Monte Carlo).

Data: :math:`x_0 = Q_T z`, :math:`z \sim \mathcal N(0, \operatorname{diag}(1, 1/4))`, in d = 3
with a random orthonormal basis :math:`Q_T`. Its exact score comes from
:class:`theory.distributions.LinearGaussian`, and every sampler starts from the exact noised
marginal at the top of the grid, so the only errors left are Monte Carlo and time discretisation.

In the orthonormal eigenbasis :math:`U = [Q_T, Q_N]` the score is diagonal and linear, so every
sampler maps eigen-coordinate j with data variance :math:`\lambda_j` (0 for the normal direction) as
:math:`y \leftarrow \alpha_i y + \beta_i z`. The output is Gaussian, and its variance follows from
the scalar recursion :math:`V \leftarrow \alpha_i^2 V + \beta_i^2` (written out below, per scheme,
independently of the vectorised sampler code). That gives

- the reference: the exact law at the bottom of the grid, :math:`\lambda_j + \sigma_{\min}^2` (VE)
  or :math:`a_t^2\lambda_j + v_t` (VP);
- the discretisation term of the tolerance: the exact bias of the grid, |recursion − reference|,
  which each test first asserts is below 10 % of the reference (so the comparison stays sharp);
- the Monte Carlo term: with the true mean 0 known, the second moment of n Gaussian draws has
  standard error :math:`V\sqrt{2/n}` on the diagonal and :math:`\sqrt{V_iV_j/n}` off it. We allow
  5 standard errors.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from empirical.sampling import (
    sample_euler_maruyama_ve,
    sample_euler_maruyama_vp,
    sample_pf_euler_ve,
    sample_pf_euler_vp,
    sample_pf_heun_ve,
    sample_pf_heun_vp,
    sample_prior_ve,
    sample_prior_vp,
)
from theory.distributions import LinearGaussian
from theory.schedules import geometric_grid, vp_a, vp_v

VARIANCES = (1.0, 0.25)
D = 3
N_SAMPLES = 10_000
N_SE = 5.0  # Monte Carlo tolerance, in standard errors
SIGMA_MAX, SIGMA_MIN = 10.0, 1e-3  # VE grid
T_MAX, T_MIN = 4.0, 1e-3  # VP grid
# Fine grids keep the discretisation bias below 10 % in every direction. Euler in the normal
# direction, where the score −x/σ² is stiff, has a global relative variance error of about
# log(top/bottom)²/N, so it needs the most points; Heun is second order and needs the fewest.
N_FINE = {"em": 400, "euler": 2000, "heun": 100}
N_COARSE = 12
MAX_BIAS = 0.1

# name: (sampler, convention, scheme)
SAMPLERS = {
    "em_ve": (sample_euler_maruyama_ve, "ve", "em"),
    "euler_ve": (sample_pf_euler_ve, "ve", "euler"),
    "heun_ve": (sample_pf_heun_ve, "ve", "heun"),
    "em_vp": (sample_euler_maruyama_vp, "vp", "em"),
    "euler_vp": (sample_pf_euler_vp, "vp", "euler"),
    "heun_vp": (sample_pf_heun_vp, "vp", "heun"),
}
GRID_NAME = {"ve": "sigmas", "vp": "ts"}


@pytest.fixture
def rng():
    return np.random.default_rng(20251123)


@pytest.fixture(scope="module")
def data():
    q, _ = np.linalg.qr(np.random.default_rng(7).standard_normal((D, len(VARIANCES))))
    return LinearGaussian(VARIANCES, D, basis=q)


@pytest.fixture(scope="module")
def eigenbasis(data):
    """U = [Q_T, Q_N] and the data variance of each column (0 in the normal direction)."""
    u = np.column_stack([data.basis, data.normal_basis])
    lam = np.concatenate([data.variances, np.zeros(D - data.k)])
    return u, lam


# --------------------------------------------------------------------------------------------
# Exact marginals and the scalar recursion of each scheme


def _marginal_variance(convention, lam, g):
    """Variance of one eigen-coordinate of the exact noised law at grid value g (σ or t)."""
    if convention == "ve":
        return lam + g**2
    return np.exp(-2.0 * g) * lam - np.expm1(-2.0 * g)


def _step_coefficients(convention, scheme, lam, g, g_next):
    """(α, β²) of one step y ← α y + β z on a coordinate whose score is −y / ν(g)."""

    def nu(s):
        return _marginal_variance(convention, lam, s)

    if convention == "ve":
        ds2 = g**2 - g_next**2
        if scheme == "em":
            return 1.0 - ds2 / nu(g), ds2
        if scheme == "euler":
            return 1.0 - ds2 / (2.0 * nu(g)), 0.0

        def f(s):  # dy/dσ = −σ score = σ y / ν(σ)
            return s / nu(s)

    else:
        dt = g - g_next
        if scheme == "em":
            return 1.0 + dt * (1.0 - 2.0 / nu(g)), 2.0 * dt

        def f(s):  # dy/dt = −y − score = (1/ν(t) − 1) y
            return 1.0 / nu(s) - 1.0

        if scheme == "euler":
            return 1.0 - dt * f(g), 0.0
    h = g_next - g  # Heun on dy/dg = f(g) y
    return 1.0 + 0.5 * h * (f(g) + f(g_next) * (1.0 + h * f(g))), 0.0


def _predicted_variance(convention, scheme, lam, grid):
    """Output variance of the discretised sampler, started from the exact marginal at grid[0]."""
    v = _marginal_variance(convention, lam, grid[0])
    for g, g_next in itertools.pairwise(grid):
        alpha, beta2 = _step_coefficients(convention, scheme, lam, g, g_next)
        v = alpha**2 * v + beta2
    return v


# --------------------------------------------------------------------------------------------
# Helpers


def _grid(convention, n):
    if convention == "ve":
        return geometric_grid(SIGMA_MAX, SIGMA_MIN, n)
    return geometric_grid(T_MAX, T_MIN, n)


def _exact_start(data, convention, g, rng, n=N_SAMPLES):
    """n draws from the exact noised marginal at grid value g (VE σ or VP t)."""
    z = rng.standard_normal((n, data.k)) * np.sqrt(data.variances)
    x0 = z @ data.basis.T
    eps = rng.standard_normal((n, data.d))
    if convention == "ve":
        return x0 + g * eps
    return vp_a(g) * x0 + np.sqrt(vp_v(g)) * eps


def _second_moments(samples, u):
    """Mean and second-moment matrix (true mean 0) of the samples in the eigenbasis u."""
    y = samples @ u
    return y.mean(axis=0), y.T @ y / y.shape[0]


def _relative_errors(samples, u, target):
    _, m = _second_moments(samples, u)
    return np.abs(np.diag(m) / target - 1.0)


def _run(name, data, grid, x_init, rng, **kwargs):
    sampler, _, _ = SAMPLERS[name]
    return sampler(data.score, x_init, grid, rng, **kwargs)


# --------------------------------------------------------------------------------------------
# Accuracy against the exact law


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_covariance_matches_exact_law(name, data, eigenbasis, rng):
    """Sample covariance at the bottom of a fine grid = exact Σ + σ_min² I (VE) or a²Σ + v I (VP).

    The normal (off-plane) variance must have collapsed to σ_min² (VE) or v_{t_min} (VP).
    """
    _, convention, scheme = SAMPLERS[name]
    u, lam = eigenbasis
    grid = _grid(convention, N_FINE[scheme])
    x_init = _exact_start(data, convention, grid[0], rng)
    samples = _run(name, data, grid, x_init, rng)

    # Reference: the exact covariance Σ + σ_min² I (VE) or a_t² Σ + v_t I (VP), seen in U.
    g = grid[-1]
    if convention == "ve":
        exact_cov = data.covariance + g**2 * np.eye(D)
    else:
        exact_cov = vp_a(g) ** 2 * data.covariance + vp_v(g) * np.eye(D)
    reference = u.T @ exact_cov @ u
    target = np.diag(reference)

    predicted = np.array([_predicted_variance(convention, scheme, l, grid) for l in lam])
    bias = np.abs(predicted - target)
    assert np.all(bias <= MAX_BIAS * target), f"grid too coarse for a sharp test: {bias / target}"

    mean, m = _second_moments(samples, u)
    v = np.maximum(predicted, target)
    n = samples.shape[0]
    tol = N_SE * np.sqrt(np.outer(v, v) / n)  # off-diagonal standard errors
    tol[np.diag_indices(D)] = N_SE * v * np.sqrt(2.0 / n) + bias
    np.testing.assert_array_less(np.abs(m - reference), tol)
    np.testing.assert_array_less(np.abs(mean), N_SE * np.sqrt(v / n))

    # Off the plane the variance collapses from σ_max² (VE) or ~1 (VP) to σ_min² or v_{t_min}: the
    # last eigen-direction, already inside the check above, spelled out.
    normal = samples @ data.normal_basis
    start = _marginal_variance(convention, 0.0, grid[0])
    assert target[-1] / start < 0.01
    assert abs(np.mean(normal**2) - target[-1]) < tol[-1, -1]


@pytest.mark.parametrize("convention", ["ve", "vp"])
def test_heun_beats_euler_on_coarse_grid(convention, data, eigenbasis, rng):
    """On a 12-point grid Heun's worst relative variance error is well below Euler's."""
    u, lam = eigenbasis
    grid = _grid(convention, N_COARSE)
    x_init = _exact_start(data, convention, grid[0], rng)
    target = _marginal_variance(convention, lam, grid[-1])
    err_euler = _relative_errors(_run(f"euler_{convention}", data, grid, x_init, rng), u, target)
    err_heun = _relative_errors(_run(f"heun_{convention}", data, grid, x_init, rng), u, target)
    noise = N_SE * np.sqrt(2.0 / N_SAMPLES)
    assert err_euler.max() > 10 * noise  # Euler's error is discretisation, not Monte Carlo
    assert err_heun.max() < 0.5 * err_euler.max()


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_coarse_grid_matches_discrete_recursion(name, data, eigenbasis, rng):
    """On a coarse grid, where discretisation dominates, each sampler follows its stated update.

    The reference is the variance of the scalar recursion of the scheme in its Notes (Gaussian in,
    linear map, Gaussian out), so a wrong σ or t in a score call or a wrong step size fails here
    even when the fine-grid test cannot see it.
    """
    _, convention, scheme = SAMPLERS[name]
    u, lam = eigenbasis
    grid = _grid(convention, N_COARSE)
    x_init = _exact_start(data, convention, grid[0], rng)
    _, m = _second_moments(_run(name, data, grid, x_init, rng), u)
    predicted = np.array([_predicted_variance(convention, scheme, l, grid) for l in lam])
    np.testing.assert_array_less(
        np.abs(np.diag(m) - predicted), N_SE * predicted * np.sqrt(2.0 / N_SAMPLES)
    )


# --------------------------------------------------------------------------------------------
# Tweedie, trajectories, determinism, progress bar


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_tweedie_lands_on_subspace(name, data, eigenbasis, rng):
    """``tweedie=True`` removes the normal component and scales each tangent one by E[x_0 | x].

    The grid stops at 0.5 (σ or t), where the denoising visibly shrinks the tangent variances
    (VP: and divides by a_t = 0.61). Per eigen-coordinate the posterior mean is c·y with
    c = λ/(λ + σ²) (VE) or a_t λ/(a_t² λ + v_t) (VP), so the output variance is c² times the
    predicted variance of the discretised sampler.
    """
    _, convention, scheme = SAMPLERS[name]
    u, lam = eigenbasis
    top = SIGMA_MAX if convention == "ve" else T_MAX
    grid = geometric_grid(top, 0.5, 30)
    x_init = _exact_start(data, convention, grid[0], rng)
    denoised, trajectory = _run(name, data, grid, x_init, rng, tweedie=True, return_trajectory=True)
    normal_before = np.abs(trajectory[-1] @ data.normal_basis).max()
    normal_after = np.abs(denoised @ data.normal_basis).max()
    assert normal_before > 0.1  # well off the plane before the denoising step
    assert normal_after < 1e-12

    g = grid[-1]
    if convention == "ve":
        c = lam / (lam + g**2)
    else:
        c = vp_a(g) * lam / _marginal_variance("vp", lam, g)
    k = data.k
    predicted = c[:k] ** 2 * [_predicted_variance(convention, scheme, l, grid) for l in lam[:k]]
    _, m = _second_moments(denoised, u)
    np.testing.assert_array_less(
        np.abs(np.diag(m)[:k] - predicted), N_SE * predicted * np.sqrt(2.0 / N_SAMPLES)
    )


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_trajectory(name, data, rng):
    _, convention, _ = SAMPLERS[name]
    grid = _grid(convention, 5)
    x_init = _exact_start(data, convention, grid[0], rng, n=50)
    x_copy = x_init.copy()
    samples, trajectory = _run(name, data, grid, x_init, rng, return_trajectory=True)
    assert samples.shape == (50, D)
    assert trajectory.shape == (grid.size, 50, D)
    np.testing.assert_array_equal(trajectory[0], x_init)
    np.testing.assert_array_equal(trajectory[-1], samples)
    np.testing.assert_array_equal(x_init, x_copy)  # input untouched


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_same_seed_same_output(name, data):
    _, convention, _ = SAMPLERS[name]
    grid = _grid(convention, 10)

    def once(seed):
        rng = np.random.default_rng(seed)
        return _run(name, data, grid, _exact_start(data, convention, grid[0], rng, n=100), rng)

    np.testing.assert_array_equal(once(1), once(1))
    assert not np.array_equal(once(1), once(2))


@pytest.mark.parametrize("name", ["euler_ve", "heun_ve", "euler_vp", "heun_vp"])
def test_flows_ignore_rng(name, data):
    _, convention, _ = SAMPLERS[name]
    sampler = SAMPLERS[name][0]
    grid = _grid(convention, 10)
    x_init = _exact_start(data, convention, grid[0], np.random.default_rng(3), n=100)
    a = sampler(data.score, x_init, grid)
    b = sampler(data.score, x_init, grid, np.random.default_rng(4))
    np.testing.assert_array_equal(a, b)


def test_progress_bar_changes_nothing(data, capsys):
    grid = _grid("ve", 10)
    x_init = _exact_start(data, "ve", grid[0], np.random.default_rng(5), n=100)
    a = sample_euler_maruyama_ve(data.score, x_init, grid, np.random.default_rng(6))
    b = sample_euler_maruyama_ve(data.score, x_init, grid, np.random.default_rng(6), progress=True)
    np.testing.assert_array_equal(a, b)
    assert "euler_maruyama_ve" in capsys.readouterr().err


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_score_receives_float_sigma(name):
    """Any callable works, and it is called with x of shape (n, d) and a Python float σ."""
    _, convention, _ = SAMPLERS[name]
    seen = []

    def score(x, sigma):  # standard Gaussian data: VE marginal N(0, (1 + σ²) I)
        seen.append((x.shape, type(sigma)))
        return -x / (1.0 + sigma**2)

    SAMPLERS[name][0](score, np.ones((4, 2)), _grid(convention, 3), np.random.default_rng(0))
    assert seen and all(s == ((4, 2), float) for s in seen)


# --------------------------------------------------------------------------------------------
# Priors


def test_prior_ve(rng):
    x = sample_prior_ve(N_SAMPLES, 2, SIGMA_MAX, rng)
    assert x.shape == (N_SAMPLES, 2)
    se = SIGMA_MAX**2 * np.sqrt(2.0 / N_SAMPLES)
    np.testing.assert_array_less(np.abs(np.mean(x**2, axis=0) - SIGMA_MAX**2), N_SE * se)
    np.testing.assert_array_equal(
        sample_prior_ve(5, 2, 1.0, np.random.default_rng(0)),
        sample_prior_ve(5, 2, 1.0, np.random.default_rng(0)),
    )


def test_prior_vp(rng):
    x = sample_prior_vp(N_SAMPLES, 2, rng)
    assert x.shape == (N_SAMPLES, 2)
    np.testing.assert_array_less(
        np.abs(np.mean(x**2, axis=0) - 1.0), N_SE * np.sqrt(2.0 / N_SAMPLES)
    )


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda r: sample_prior_ve(0, 2, 1.0, r), "n"),
        (lambda r: sample_prior_ve(2.5, 2, 1.0, r), "n"),
        (lambda r: sample_prior_ve(3, 0, 1.0, r), "d"),
        (lambda r: sample_prior_ve(3, 2, 0.0, r), "sigma_max"),
        (lambda r: sample_prior_ve(3, 2, -1.0, r), "sigma_max"),
        (lambda r: sample_prior_ve(3, 2, np.nan, r), "sigma_max"),
        (lambda r: sample_prior_ve(3, 2, [1.0, 2.0], r), "sigma_max"),
        (lambda r: sample_prior_vp(-1, 2, r), "n"),
        (lambda r: sample_prior_vp(3, 1.5, r), "d"),
    ],
)
def test_prior_bad_input(call, match, rng):
    with pytest.raises(ValueError, match=rf"^{match} must"):
        call(rng)


def test_prior_needs_generator():
    with pytest.raises(TypeError, match="rng"):
        sample_prior_ve(3, 2, 1.0, 0)
    with pytest.raises(TypeError, match="rng"):
        sample_prior_vp(3, 2, None)


# --------------------------------------------------------------------------------------------
# Validation


BAD_GRIDS = {
    "increasing": ([0.1, 0.5, 1.0], "strictly decreasing"),
    "repeated": ([1.0, 0.5, 0.5, 0.1], "strictly decreasing"),
    "zero": ([1.0, 0.5, 0.0], "> 0"),
    "negative": ([1.0, 0.5, -0.1], "> 0"),
    "single": ([1.0], "at least 2"),
    "empty": ([], "at least 2"),
    "nan": ([1.0, np.nan, 0.1], "finite"),
    "inf": ([np.inf, 1.0, 0.1], "finite"),
    "two_d": ([[1.0, 0.5], [0.2, 0.1]], "1-D"),
}


@pytest.mark.parametrize("bad", list(BAD_GRIDS))
@pytest.mark.parametrize("name", list(SAMPLERS))
def test_bad_grid_raises(name, bad, data, rng):
    _, convention, _ = SAMPLERS[name]
    grid, reason = BAD_GRIDS[bad]
    with pytest.raises(ValueError, match=rf"^{GRID_NAME[convention]} must.*{reason}"):
        _run(name, data, np.array(grid), np.zeros((4, D)), rng)


BAD_X_INIT = {
    "one_d": np.zeros(D),
    "three_d": np.zeros((2, 4, D)),
    "no_points": np.zeros((0, D)),
    "nan": np.array([[0.0, np.nan, 1.0]]),
    "inf": np.array([[0.0, -np.inf, 1.0]]),
}


@pytest.mark.parametrize("bad", list(BAD_X_INIT))
@pytest.mark.parametrize("name", list(SAMPLERS))
def test_bad_x_init_raises(name, bad, data, rng):
    _, convention, _ = SAMPLERS[name]
    with pytest.raises(ValueError, match=r"^x_init must"):
        _run(name, data, _grid(convention, 3), BAD_X_INIT[bad], rng)


BAD_SCORES = {
    "shape": (lambda x, sigma: x[:, :1], "shape"),
    "nan": (lambda x, sigma: np.full_like(x, np.nan), "NaN"),
}


@pytest.mark.parametrize("bad", list(BAD_SCORES))
@pytest.mark.parametrize("name", list(SAMPLERS))
def test_bad_score_output_raises(name, bad, rng):
    sampler, convention, _ = SAMPLERS[name]
    score, reason = BAD_SCORES[bad]
    with pytest.raises(ValueError, match=rf"^score .*{reason}"):
        sampler(score, np.ones((4, D)), _grid(convention, 3), rng)


@pytest.mark.parametrize("name", ["em_ve", "em_vp"])
def test_stochastic_samplers_need_generator(name, data):
    sampler, convention, _ = SAMPLERS[name]
    with pytest.raises(TypeError, match="rng"):
        sampler(data.score, np.ones((4, D)), _grid(convention, 3), 0)
    with pytest.raises(TypeError, match="rng"):
        sampler(data.score, np.ones((4, D)), _grid(convention, 3), None)
