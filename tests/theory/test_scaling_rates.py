"""Tests for the rate-separation laws in theory.scaling (paper003).

Independent routes: the TV by direct scipy quadrature of |f − 1/2π| and by mpmath at 50 digits;
the noised-circle log-density and score against a trapezoid sum over 20 000 data angles of the
Gaussian mixture written out here, and the score against central differences of the log-density;
the small-σ decomposition measured from the exact score (radial and tangential components,
stiffness by differences); the sphere's ½𝐇 from the exact Bessel-ratio radial score; the power
laws by log–log fits of laws computed from their definitions (Gibbs and TS stationary laws on a
radial or angular grid, the reverse-time mean ODEs integrated by scipy).
"""

import mpmath
import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import integrate, optimize
from scipy.special import ive

from theory.distributions import LinearGaussian
from theory.scaling import (
    circle_score_decomposition,
    noised_circle_log_density,
    noised_circle_score,
    normal_offset,
    normal_stiffness,
    pf_ode_terminal_offset,
    reverse_sde_terminal_offset,
    sphere_mean_curvature_term,
    ts_circle_tv,
    ts_thickness,
    ts_uniform_tv_exponent,
    von_mises_tv_to_uniform,
)

DPS = 50
CONVENTIONS = ["ve", "vp"]
# (kappa, radius, mean_angle): the note's T-C2 cases plus a uniform circle.
CIRCLES = [(1.0, 1.0, 0.0), (4.0, 2.0, np.pi), (0.0, 1.0, 0.0)]


def _slope(x, y) -> float:
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def _polar(r, theta) -> np.ndarray:
    return np.stack([r * np.cos(theta), r * np.sin(theta)], axis=-1)


# --------------------------------------------------------------------------------------------
# Total variation of von Mises to uniform


def _tv_scipy(kappa: float) -> float:
    """½∫|f − 1/2π| over [−π, π] by quad, split at the roots of f = 1/2π (found by brentq)."""

    def f(t):
        return np.exp(kappa * np.cos(t)) / (2.0 * np.pi * np.i0(kappa))

    root = optimize.brentq(lambda t: f(t) - 1.0 / (2.0 * np.pi), 0.0, np.pi, xtol=1e-15)
    pieces = [(-np.pi, -root), (-root, root), (root, np.pi)]
    total = sum(
        integrate.quad(lambda t: abs(f(t) - 1.0 / (2.0 * np.pi)), a, b, epsabs=1e-14)[0]
        for a, b in pieces
    )
    return 0.5 * total


def _tv_mpmath(kappa: float) -> float:
    with mpmath.workdps(DPS):
        k = mpmath.mpf(kappa)
        i0 = mpmath.besseli(0, k)
        u = 1 / (2 * mpmath.pi)

        def g(t):
            return abs(mpmath.exp(k * mpmath.cos(t)) / (2 * mpmath.pi * i0) - u)

        root = mpmath.findroot(
            lambda t: k * mpmath.cos(t) - mpmath.log(i0), (0, mpmath.pi / 2), solver="anderson"
        )
        # [0, θ*] split in 8 (for large κ the density is a spike of width 1/√κ there)
        points = [*mpmath.linspace(0, root, 9), mpmath.pi]
        return float(mpmath.quad(g, points))  # 2 × ½ ∫_0^π by symmetry


@pytest.mark.parametrize("kappa", [0.05, 0.5, 1.0, 4.0, 30.0])
def test_von_mises_tv_matches_direct_quadrature(kappa):
    assert_allclose(von_mises_tv_to_uniform(kappa), _tv_scipy(kappa), rtol=1e-9)


@pytest.mark.parametrize("kappa", [1e-12, 1e-6, 1e-2, 1.0, 50.0, 1e3, 1e5])
def test_von_mises_tv_matches_mpmath(kappa):
    assert_allclose(von_mises_tv_to_uniform(kappa), _tv_mpmath(kappa), rtol=1e-9)


def test_von_mises_tv_shape_and_zero():
    out = von_mises_tv_to_uniform(np.array([[0.0, 1.0], [2.0, 3.0]]))
    assert out.shape == (2, 2)
    assert out[0, 0] == 0.0
    assert np.all(np.diff(out.ravel()) > 0)


def test_ts_circle_tv_is_the_tempered_von_mises():
    sigma = np.array([0.1, 0.01])
    assert_allclose(ts_circle_tv(sigma, 0.5, 2.0), [_tv_scipy(2.0 * s**0.5) for s in sigma])


def test_ts_circle_tv_power_law():
    sigma = np.geomspace(1e-4, 1e-2, 5)
    for alpha in (0.5, 1.0, 1.5):
        tv = ts_circle_tv(sigma, alpha, 1.0)
        assert abs(_slope(sigma, tv) - alpha) < 1e-3
        assert_allclose(tv, sigma**alpha / np.pi, rtol=2e-2)


def test_ts_circle_tv_matches_ts_stationary_law():
    """The angle marginal of π̃ ∝ p_σ^{σ^α} on a polar grid (T-C7 setup and tolerance)."""
    sigma, alpha, kappa = 0.01, 1.0, 1.0
    theta = np.linspace(-np.pi, np.pi, 720, endpoint=False)
    thick = sigma ** (1 - alpha / 2)
    r = np.linspace(1 - 8 * thick, 1 + 8 * thick, 400)
    pts = _polar(r[:, None], theta[None, :]).reshape(-1, 2)
    log_p = noised_circle_log_density(pts, sigma, kappa).reshape(r.size, theta.size)
    log_w = sigma**alpha * log_p + np.log(r)[:, None]
    w = np.exp(log_w - log_w.max())
    marginal = w.sum(axis=0)
    marginal /= marginal.sum()
    tv = 0.5 * np.abs(marginal - 1.0 / theta.size).sum()
    assert abs(tv / ts_circle_tv(sigma, alpha, kappa) - 1) < 0.05


# --------------------------------------------------------------------------------------------
# Noised circle: log-density and score


def _mixture(x, sigma, kappa, radius, convention, mean_angle, n=20_000):
    """Log-density and score of the Gaussian mixture over data angles (trapezoid, periodic)."""
    theta = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
    scale = np.sqrt(1.0 - sigma**2) if convention == "vp" else 1.0
    centres = scale * radius * np.stack([np.cos(theta), np.sin(theta)], axis=1)
    log_prior = kappa * np.cos(theta - mean_angle)
    log_prior = log_prior - np.log(np.mean(np.exp(log_prior)) * 2.0 * np.pi)
    log_k = -np.sum((x[:, None, :] - centres[None]) ** 2, axis=2) / (2 * sigma**2) + log_prior
    m = log_k.max(axis=1, keepdims=True)
    w = np.exp(log_k - m)
    log_p = m[:, 0] + np.log(w.mean(axis=1) * 2.0 * np.pi) - np.log(2.0 * np.pi * sigma**2)
    post = w / w.sum(axis=1, keepdims=True)
    score = (post @ centres - x) / sigma**2
    return log_p, score


@pytest.mark.parametrize("convention", CONVENTIONS)
@pytest.mark.parametrize(("kappa", "radius", "mean_angle"), CIRCLES)
@pytest.mark.parametrize("sigma", [0.5, 0.1, 0.03])
def test_noised_circle_matches_mixture(convention, kappa, radius, mean_angle, sigma):
    rng = np.random.default_rng(0)
    theta = rng.uniform(0, 2 * np.pi, 6)
    r = radius + sigma * rng.normal(size=6) * 2.0
    x = np.concatenate([_polar(r, theta), [[0.0, 0.0], [0.3 * radius, -0.1]]])
    log_p, score = _mixture(x, sigma, kappa, radius, convention, mean_angle)
    args = (sigma, kappa, radius, convention, mean_angle)
    assert_allclose(noised_circle_log_density(x, *args), log_p, rtol=1e-10, atol=1e-10)
    scale = np.abs(score).max()
    assert_allclose(noised_circle_score(x, *args), score, rtol=1e-8, atol=1e-10 * scale)


@pytest.mark.parametrize("convention", CONVENTIONS)
@pytest.mark.parametrize(("kappa", "radius", "mean_angle"), CIRCLES)
@pytest.mark.parametrize("sigma", [0.3, 0.01])
def test_noised_circle_score_is_gradient(convention, kappa, radius, mean_angle, sigma):
    rng = np.random.default_rng(1)
    x = _polar(radius + sigma * rng.normal(size=5), rng.uniform(0, 2 * np.pi, 5))
    args = (sigma, kappa, radius, convention, mean_angle)
    h = 1e-4 * sigma
    fd = np.empty_like(x)
    for j in range(2):
        e = np.zeros(2)
        e[j] = h
        fd[:, j] = (
            noised_circle_log_density(x + e, *args) - noised_circle_log_density(x - e, *args)
        ) / (2 * h)
    score = noised_circle_score(x, *args)
    assert_allclose(score, fd, rtol=1e-6, atol=1e-6 / sigma)


def test_noised_circle_single_point_and_sigma_per_point():
    x = np.array([[1.1, 0.2], [0.0, -0.9]])
    sig = np.array([0.2, 0.05])
    both = noised_circle_score(x, sig, 1.0)
    assert_allclose(noised_circle_score(x[1], 0.05, 1.0), both[1], rtol=1e-14)
    assert isinstance(noised_circle_log_density(x[0], 0.2, 1.0), float)


def test_noised_circle_small_sigma_is_finite():
    x = _polar(np.array([1.0, 1.001, 0.9]), np.array([0.3, 2.0, -1.0]))
    assert np.all(np.isfinite(noised_circle_log_density(x, 1e-4, 3.0)))
    assert np.all(np.isfinite(noised_circle_score(x, 1e-4, 3.0)))


# --------------------------------------------------------------------------------------------
# Small-σ decomposition on the circle (T-C2) and the sphere (T-C3)


def _radial_tangential(x, s):
    r = np.linalg.norm(x, axis=1)
    e_r = x / r[:, None]
    e_t = np.stack([-e_r[:, 1], e_r[:, 0]], axis=1)
    return np.sum(s * e_r, axis=1), np.sum(s * e_t, axis=1)


@pytest.mark.parametrize("convention", CONVENTIONS)
@pytest.mark.parametrize(("kappa", "radius", "mean_angle"), CIRCLES)
def test_circle_decomposition_on_m(convention, kappa, radius, mean_angle):
    theta = np.linspace(0, 2 * np.pi, 72, endpoint=False)
    x = _polar(radius, theta)
    for sigma in (1e-2, 3e-3):
        s_r, s_t = _radial_tangential(
            x, noised_circle_score(x, sigma, kappa, radius, convention, mean_angle)
        )
        terms = circle_score_decomposition(theta, sigma, kappa, radius, convention, mean_angle)
        assert np.max(np.abs(s_r - terms.normal)) / sigma**2 <= 3.0
        assert np.max(np.abs(s_t - terms.tangential)) / sigma**2 <= 3.0
        assert terms.normal == terms.mean_curvature + terms.foot_point


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_circle_residual_slope_is_two(convention):
    """The O(1) normal residual on M shrinks like σ² (T-C2: slope in [1.9, 2.1])."""
    theta = np.linspace(0, 2 * np.pi, 36, endpoint=False)
    x = _polar(1.0, theta)
    sigmas = np.geomspace(1e-3, 3e-2, 5)
    resid = []
    for sigma in sigmas:
        s_r, _ = _radial_tangential(x, noised_circle_score(x, sigma, 1.0, 1.0, convention))
        resid.append(
            np.max(
                np.abs(s_r - circle_score_decomposition(0.0, sigma, 1.0, 1.0, convention).normal)
            )
        )
    assert 1.9 <= _slope(sigmas, resid) <= 2.1


@pytest.mark.parametrize("convention", CONVENTIONS)
@pytest.mark.parametrize(("kappa", "radius", "mean_angle"), CIRCLES)
def test_circle_normal_stiffness(convention, kappa, radius, mean_angle):
    theta = np.linspace(0, 2 * np.pi, 12, endpoint=False)
    for sigma in (1e-2, 3e-3):
        h = 1e-3 * sigma
        args = (sigma, kappa, radius, convention, mean_angle)
        up, _ = _radial_tangential(
            _polar(radius + h, theta), noised_circle_score(_polar(radius + h, theta), *args)
        )
        dn, _ = _radial_tangential(
            _polar(radius - h, theta), noised_circle_score(_polar(radius - h, theta), *args)
        )
        stiff = -(up - dn) / (2 * h)
        predicted = circle_score_decomposition(theta, sigma, kappa, radius, convention, mean_angle)
        assert_allclose(predicted.stiffness, normal_stiffness(sigma))
        assert np.max(np.abs(stiff / normal_stiffness(sigma) - 1)) <= 3 * sigma**2


@pytest.mark.parametrize("sigma", [0.5, 0.1, 0.01])
def test_normal_stiffness_exact_for_linear_m(sigma):
    law = LinearGaussian([1.0], 2)
    jac = law.jacobian(np.array([0.3, -0.2]), sigma)
    assert_allclose(-jac[1, 1] / normal_stiffness(sigma), 1.0, rtol=1e-12)


@pytest.mark.parametrize("d", [2, 3, 5])
@pytest.mark.parametrize("radius", [1.0, 2.5])
def test_sphere_mean_curvature_term(d, radius):
    """The exact radial score of the uniform S^{d−1} at r = R (Bessel ratio; T-C3 tolerance)."""
    for sigma in (0.1, 0.01, 0.001):
        b = radius * radius / sigma**2
        s_r = -radius / sigma**2 + (radius / sigma**2) * ive(d / 2, b) / ive(d / 2 - 1, b)
        assert abs(s_r - sphere_mean_curvature_term(d - 1, radius)) <= 2 * sigma**2 * (d - 1)


# --------------------------------------------------------------------------------------------
# Power laws against laws computed from their definitions


@pytest.mark.parametrize("alpha", [0.5, 1.0])
def test_ts_thickness_from_stationary_law(alpha):
    """Normal s.d. of π̃ ∝ p_σ^{σ^α} r dr on the uniform unit circle (T-C7: within 3 %)."""
    sigmas = np.geomspace(1e-4, 1e-2, 5)
    sds = []
    for sigma in sigmas:
        thick = sigma ** (1 - alpha / 2)
        r = np.linspace(max(1e-3, 1 - 10 * thick), 1 + 10 * thick, 3001)
        log_w = sigma**alpha * noised_circle_log_density(_polar(r, 0.0), sigma) + np.log(r)
        w = np.exp(log_w - log_w.max())
        w /= w.sum()
        mean = np.sum(w * r)
        sds.append(np.sqrt(np.sum(w * (r - mean) ** 2)))
    sds = np.array(sds)
    assert_allclose(sds, ts_thickness(sigmas, alpha), rtol=0.03)
    assert abs(_slope(sigmas, sds) - (1 - alpha / 2)) < 0.02


@pytest.mark.parametrize(("alpha", "gamma"), [(1.0, 0.5), (1.5, 0.5), (1.0, -0.5)])
def test_ts_uniform_tv_exponent_from_tilted_law(alpha, gamma):
    """TS on-M law with a gradient error 0.5σ^{−γ}∇cos(θ − π/2), uniform data: ∝ e^{σ^α·0.5σ^{−γ}cos}."""
    theta = np.linspace(-np.pi, np.pi, 4096, endpoint=False)
    sigmas = np.geomspace(1e-4, 1e-2, 5)
    tvs = []
    for sigma in sigmas:
        w = np.exp(sigma**alpha * 0.5 * sigma**-gamma * np.cos(theta - np.pi / 2))
        tvs.append(0.5 * np.abs(w / w.sum() - 1.0 / theta.size).sum())
    assert abs(_slope(sigmas, tvs) - ts_uniform_tv_exponent(alpha, gamma)) < 0.01


def test_ts_uniform_tv_exponent_tilted_case():
    assert ts_uniform_tv_exponent(0.7, 0.7) == 0.0


@pytest.mark.parametrize("gamma", [1.0, 1.5, 2.0])
def test_normal_offset_from_gibbs_law(gamma):
    """Mean of π ∝ p_σ e^{cσ^{−γ}(r−1)} r dr on the uniform unit circle (T-C5: 2 % or 2e-5)."""
    c = 0.3
    sigmas = np.array([0.01, 0.003])
    offsets = []
    for sigma in sigmas:
        centre = 1 + c * sigma ** (2 - gamma)
        r = np.linspace(max(0.4, centre - 12 * sigma), centre + 12 * sigma, 4001)
        log_w = (
            noised_circle_log_density(_polar(r, 0.0), sigma)
            + c * sigma**-gamma * (r - 1)
            + np.log(r)
        )
        w = np.exp(log_w - log_w.max())
        offsets.append(np.sum(w * (r - 1)) / w.sum())
    predicted = normal_offset(sigmas, gamma, c) + sigmas**2 / 2
    assert np.all(np.abs(np.array(offsets) - predicted) <= np.maximum(0.02 * predicted, 2e-5))


def test_normal_offset_power_law():
    sigmas = np.geomspace(1e-4, 1e-1, 6)
    for gamma in (-1.0, 0.5, 1.5):
        assert abs(_slope(sigmas, normal_offset(sigmas, gamma, 0.3)) - (2 - gamma)) < 1e-12


def _reverse_mean(sigma_min, gamma, c, pf: bool, T=1e40):
    """Normal mean of the VE reverse dynamics in variance s from T down to σ_min² (flat M).

    Written in u = log s: the SDE mean solves dm/ds = m/s − e(s), the PF-ODE mean
    dm/ds = (m/s − e(s))/2, with e(s) = c s^{−γ/2} the normal score error.
    """
    half = 0.5 if pf else 1.0

    def rhs(u, m):
        s = np.exp(u)
        return half * (m - c * s ** (1 - gamma / 2))

    sol = integrate.solve_ivp(
        rhs, (np.log(T), 2 * np.log(sigma_min)), [0.0], method="LSODA", rtol=1e-10, atol=1e-14
    )
    return sol.y[0, -1]


@pytest.mark.parametrize("gamma", [0.5, 1.0, 1.5, 2.0])
def test_reverse_sde_offset_from_mean_ode(gamma):
    for sigma_min in (1e-2, 1e-3):
        measured = _reverse_mean(sigma_min, gamma, 0.3, pf=False)
        assert_allclose(reverse_sde_terminal_offset(sigma_min, gamma, 0.3), measured, rtol=1e-4)


@pytest.mark.parametrize("gamma", [1.25, 1.5, 2.0])
def test_pf_ode_offset_from_mean_ode(gamma):
    for sigma_min in (1e-2, 1e-3):
        measured = _reverse_mean(sigma_min, gamma, 0.3, pf=True)
        assert_allclose(pf_ode_terminal_offset(sigma_min, gamma, 0.3), measured, rtol=1e-3)


def test_terminal_offsets_power_law():
    sigmas = np.geomspace(1e-4, 1e-1, 6)
    for gamma in (0.5, 1.5):
        assert (
            abs(_slope(sigmas, reverse_sde_terminal_offset(sigmas, gamma, 0.3)) - (2 - gamma))
            < 1e-12
        )
    assert abs(_slope(sigmas, pf_ode_terminal_offset(sigmas, 1.5, 0.3)) - 0.5) < 1e-12


# --------------------------------------------------------------------------------------------
# Bad input


BAD = [
    (ts_thickness, {"sigma": 0.1, "alpha": 1.0}, "sigma", [0.0, -1.0, np.nan, np.inf]),
    (ts_thickness, {"sigma": 0.1, "alpha": 1.0}, "alpha", [0.0, 2.0, -0.5, np.nan, [1.0]]),
    (ts_circle_tv, {"sigma": 0.1, "alpha": 1.0, "kappa": 1.0}, "kappa", [-1.0, np.inf]),
    (ts_circle_tv, {"sigma": 0.1, "alpha": 1.0, "kappa": 1.0}, "alpha", [2.5, 0.0]),
    (ts_circle_tv, {"sigma": 0.1, "alpha": 1.0, "kappa": 1.0}, "sigma", [0.0, np.nan]),
    (von_mises_tv_to_uniform, {"kappa": 1.0}, "kappa", [-1e-3, np.nan, "1"]),
    (ts_uniform_tv_exponent, {"alpha": 1.0, "gamma": 0.5}, "gamma", [1.5, np.nan, np.inf]),
    (ts_uniform_tv_exponent, {"alpha": 1.0, "gamma": 0.5}, "alpha", [2.0, 0.0]),
    (normal_offset, {"sigma": 0.1, "gamma": 1.0, "c": 0.3}, "gamma", [2.5, np.nan, -np.inf]),
    (normal_offset, {"sigma": 0.1, "gamma": 1.0, "c": 0.3}, "c", [np.nan, np.inf]),
    (normal_offset, {"sigma": 0.1, "gamma": 1.0, "c": 0.3}, "sigma", [0.0, -0.1]),
    (
        reverse_sde_terminal_offset,
        {"sigma_min": 0.1, "gamma": 1.0, "c": 0.3},
        "gamma",
        [0.0, -1.0, 2.1],
    ),
    (reverse_sde_terminal_offset, {"sigma_min": 0.1, "gamma": 1.0, "c": 0.3}, "sigma_min", [0.0]),
    (reverse_sde_terminal_offset, {"sigma_min": 0.1, "gamma": 1.0, "c": 0.3}, "c", [np.nan]),
    (
        pf_ode_terminal_offset,
        {"sigma_min": 0.1, "gamma": 1.5, "c": 0.3},
        "gamma",
        [1.0, 0.5, 2.1, np.nan],
    ),
    (pf_ode_terminal_offset, {"sigma_min": 0.1, "gamma": 1.5, "c": 0.3}, "sigma_min", [-1.0]),
    (pf_ode_terminal_offset, {"sigma_min": 0.1, "gamma": 1.5, "c": 0.3}, "c", [np.inf]),
    (normal_stiffness, {"sigma": 0.1}, "sigma", [0.0, np.nan]),
    (sphere_mean_curvature_term, {"n": 2, "radius": 1.0}, "n", [0, 1.5, np.nan]),
    (sphere_mean_curvature_term, {"n": 2, "radius": 1.0}, "radius", [0.0, -1.0, np.inf, [1.0]]),
]
CIRCLE_KW = {"x": [1.0, 0.0], "sigma": 0.1, "kappa": 1.0, "radius": 1.0, "convention": "ve"}
CIRCLE_BAD = {
    "x": [[1.0], [np.nan, 0.0], np.zeros((2, 3))],
    "sigma": [0.0, -0.1, np.nan, [0.1, 0.2]],
    "kappa": [-0.5, np.nan, [1.0, 2.0]],
    "radius": [0.0, -1.0, np.inf],
    "convention": ["VE", "sde", None],
    "mean_angle": [np.nan, np.inf],
}
for _f in (noised_circle_log_density, noised_circle_score):
    for _arg, _values in CIRCLE_BAD.items():
        BAD.append((_f, CIRCLE_KW, _arg, _values))
DECOMP_KW = {"theta": 0.3, "sigma": 0.1, "kappa": 1.0, "radius": 1.0, "convention": "ve"}
DECOMP_BAD = {**CIRCLE_BAD, "sigma": [0.0, -0.1, np.nan], "theta": [np.nan, "a"]}
for _arg, _values in DECOMP_BAD.items():
    if _arg != "x":
        BAD.append((circle_score_decomposition, DECOMP_KW, _arg, _values))


@pytest.mark.parametrize(
    ("func", "kw", "arg", "values"),
    BAD,
    ids=[f"{f.__name__}-{a}-{i}" for i, (f, _, a, _) in enumerate(BAD)],
)
def test_bad_input_raises(func, kw, arg, values):
    func(**kw)  # the valid arguments are valid
    for value in values:
        with pytest.raises(ValueError, match=arg):
            func(**{**kw, arg: value})


@pytest.mark.parametrize("func", [noised_circle_log_density, noised_circle_score])
def test_vp_needs_sigma_below_one(func):
    func([1.0, 0.0], 0.99, convention="vp")
    with pytest.raises(ValueError, match="sigma"):
        func([1.0, 0.0], 1.0, convention="vp")
    with pytest.raises(ValueError, match="sigma"):
        circle_score_decomposition(0.0, 1.5, convention="vp")
