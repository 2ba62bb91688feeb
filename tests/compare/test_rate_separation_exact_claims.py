"""The rate_separation exact-score claims against their theory: a wrong closed form in theory makes
the claim built on it fail, and the claims' own numerical pieces (the angle-posterior quadrature, the
polar-angle quadrature, the finite differences, the Gibbs laws, the batched reverse chains) agree with
independent routes. Each claim's negative control is tested generically (tests/compare/test_runner.py)."""

import dataclasses

import numpy as np
import pytest
from scipy import integrate
from scipy.special import i0

from compare.claim import Context
from compare.claims import rate_separation as rs
from compare.runner import make_profile
from empirical import tube_grid
from theory import rate_reverse, rate_spheres, scaling
from theory.distributions import LinearGaussian


def _run(name, tmp_path):
    claim = getattr(rs, name)
    return claim(Context(profile=make_profile("quick", tmp_path), seed=0, progress=False))


# --------------------------------------------------------------------------------------------
# A wrong closed form makes the claim fail


@pytest.mark.parametrize(
    ("module", "name", "factor", "claim_name", "fragment"),
    [
        (
            scaling,
            "normal_stiffness",
            1 + 1e-9,
            "linear_stiffness",
            "σ²·stiffness / (σ²·normal_stiffness)",
        ),
        (scaling, "sphere_mean_curvature_term", 1.001, "sphere_mean_curvature", "|s_r(R) − ½𝐇|"),
        (rate_spheres, "circle_tangential_energy", 1.03, "circle_energy", "E s_∥²"),
        (scaling, "normal_offset", 1.05, "normal_error_threshold", "offset − prediction"),
    ],
)
def test_a_scaled_closed_form_fails_its_claim(
    module, name, factor, claim_name, fragment, tmp_path, monkeypatch
):
    real = getattr(module, name)
    monkeypatch.setattr(module, name, lambda *a, **k: factor * real(*a, **k))
    outcome = _run(claim_name, tmp_path)
    assert outcome.verdict == "fail"
    assert any(fragment in failed for failed in outcome.failed)


def test_wrong_mean_curvature_fails_circle_expansion(tmp_path, monkeypatch):
    real = scaling.circle_score_decomposition

    def wrong(*args, **kwargs):  # ½𝐇 taken as −1/R (the trace without the ½)
        terms = real(*args, **kwargs)
        return dataclasses.replace(terms, mean_curvature=2 * terms.mean_curvature)

    monkeypatch.setattr(scaling, "circle_score_decomposition", wrong)
    outcome = _run("circle_expansion", tmp_path)
    assert outcome.verdict == "fail"
    assert any("VE: normal on M" in name for name in outcome.failed)


def test_wrong_log_density_expansion_fails_circle_expansion(tmp_path, monkeypatch):
    real = rate_spheres.circle_log_density_expansion
    monkeypatch.setattr(  # the −½ log(rR) of det Ĥ dropped
        rate_spheres,
        "circle_log_density_expansion",
        lambda x, s, k, R: real(x, s, k, R) + 0.5 * np.log(np.hypot(x[:, 0], x[:, 1]) * R),
    )
    rs._log_density_remainder.cache_clear()
    try:
        outcome = _run("circle_expansion", tmp_path)
    finally:
        rs._log_density_remainder.cache_clear()
    assert outcome.verdict == "fail"
    assert any("log-density remainder" in name for name in outcome.failed)


def test_wrong_offsets_fail_reverse_sde_offsets(tmp_path, monkeypatch):
    real_sde, real_ode = scaling.reverse_sde_terminal_offset, scaling.pf_ode_terminal_offset
    real_t = rate_reverse.reverse_mean_offset
    monkeypatch.setattr(
        scaling, "reverse_sde_terminal_offset", lambda s, g, c: 1.05 * real_sde(s, g, c)
    )
    monkeypatch.setattr(scaling, "pf_ode_terminal_offset", lambda s, g, c: 1.05 * real_ode(s, g, c))
    monkeypatch.setattr(rate_reverse, "reverse_mean_offset", lambda *a, **k: 1.1 * real_t(*a, **k))
    failed = _run("reverse_sde_offsets", tmp_path).failed
    assert "SDE normal, γ=2: |offset − prediction|" in failed
    assert "PF-ODE normal, γ=2: |offset − prediction|" in failed
    assert "SDE tangential, γ=1.5, error everywhere: |offset − prediction|" in failed


# --------------------------------------------------------------------------------------------
# The claims' numerical pieces against independent routes


@pytest.mark.parametrize("convention", ["ve", "vp"])
def test_circle_score_quadrature_matches_differences_of_the_log_density(convention):
    # moderate σ, where central differences of the Bessel log-density are accurate to ~1e-8
    sigma, radius, kappa, mean_angle = 0.1, 2.0, 4.0, np.pi
    x = np.array([[1.9, 0.4], [-2.1, 0.3], [0.2, -2.2]])
    r, _, radial, tangential = rs._polar_frame(x)
    normal, tang = rs._circle_score_by_quadrature(x, sigma, radius, kappa, mean_angle, convention)
    h = 1e-5
    grad = np.zeros_like(x)
    for k in range(2):
        e = np.zeros(2)
        e[k] = h
        up = scaling.noised_circle_log_density(x + e, sigma, kappa, radius, convention, mean_angle)
        dn = scaling.noised_circle_log_density(x - e, sigma, kappa, radius, convention, mean_angle)
        grad[:, k] = (up - dn) / (2 * h)
    np.testing.assert_allclose(
        np.sum(grad * radial, 1) + (r - radius) / sigma**2, normal, atol=1e-5
    )
    np.testing.assert_allclose(np.sum(grad * tangential, 1), tang, atol=1e-5)


def test_angle_posterior_matches_scipy_quadrature():
    b, theta_x, kappa, mean_angle = np.array([50.0, 4000.0]), np.array([0.3, 2.0]), 4.0, np.pi
    e_cm1, e_sin, log_z = rs._angle_posterior(b, theta_x, kappa, mean_angle)
    for i in range(2):

        def w(p, i=i):
            return np.exp(b[i] * (np.cos(p) - 1) + kappa * np.cos(theta_x[i] + p - mean_angle))

        def quad(f):
            return integrate.quad(
                f, -np.pi, np.pi, epsabs=0, epsrel=1e-13, limit=400, points=[0.0]
            )[0]

        z = quad(w)
        cm1 = quad(lambda p, w=w: (np.cos(p) - 1) * w(p))
        sn = quad(lambda p, w=w: np.sin(p) * w(p))
        assert log_z[i] == pytest.approx(np.log(z), abs=1e-12)
        assert e_cm1[i] == pytest.approx(cm1 / z, rel=1e-9)
        assert e_sin[i] == pytest.approx(sn / z, rel=1e-8, abs=1e-15)


@pytest.mark.parametrize("d", [2, 3, 5])
def test_sphere_polar_quadrature_matches_the_bessel_ratio(d):
    for sigma in (0.3, 0.01):
        assert rs._sphere_score_by_quadrature(sigma, d, 1.5) == pytest.approx(
            float(rate_spheres.sphere_radial_score(1.5, sigma, d, 1.5)), rel=1e-9
        )


def test_finite_difference_coefficients_match_the_jacobian():
    spec = LinearGaussian(np.array([0.7]), 2)
    x = np.array([[0.3, 0.0], [-1.2, 0.0]])
    score = rs._line_score(spec, np.array([0.0, 1.0]), fault=False)
    jac = spec.jacobian(x, 0.05)
    for u in (np.array([1.0, 0.0]), np.array([0.0, 1.0])):
        np.testing.assert_allclose(
            rs._fd_coefficient(score, x, u, 0.05), -(jac @ u) @ u, rtol=1e-13
        )


def test_gibbs_law_normal_moments_match_a_radial_quadrature():
    # for κ = 0 the law is radial: ∝ r p_σ(r) e^{tilt (r − 1)} on [0.4, 1.6]
    sigma, gamma = 0.03, 1.0
    tilt = rs.NORMAL_C * sigma**-gamma

    def f(r):
        x = np.column_stack([r, np.zeros_like(r)])
        return r * np.exp(
            scaling.noised_circle_log_density(x, sigma, rs.GIBBS_KAPPA) + tilt * (r - 1)
        )

    rr = np.linspace(0.4, 1.6, 200_001)
    fr = f(rr)
    w = fr / integrate.trapezoid(fr, rr)
    mean = integrate.trapezoid(w * (rr - 1), rr)
    sd = np.sqrt(integrate.trapezoid(w * (rr - 1 - mean) ** 2, rr))
    got_mean, got_sd, _, _ = rs._gibbs_law(sigma, gamma, "normal", rs.NORMAL_C)
    # κ = 1 changes the radial law only at O(σ²κ²/r²) relative: compare to 0.5%
    assert got_mean == pytest.approx(mean, rel=5e-3)
    assert got_sd == pytest.approx(sd, rel=5e-3)


def test_tilted_law_tv_matches_scipy_quadrature():
    kappa, c = rs.GIBBS_KAPPA, rs.TANGENT_C
    p = lambda t: np.exp(kappa * np.cos(t)) / (2 * np.pi * i0(kappa))  # noqa: E731
    z = integrate.quad(lambda t: np.exp(kappa * np.cos(t) + c * np.sin(t)), -np.pi, np.pi)[0]
    q = lambda t: np.exp(kappa * np.cos(t) + c * np.sin(t)) / z  # noqa: E731
    grid = np.linspace(-np.pi, np.pi, 9)
    ref = 0.5 * integrate.quad(lambda t: abs(p(t) - q(t)), -np.pi, np.pi, points=grid, limit=400)[0]
    got = tube_grid.total_variation(rs._von_mises_masses(c), rs._von_mises_masses())
    assert got == pytest.approx(ref, abs=1e-6)


def test_reverse_chains_carry_each_groups_errors():
    # small run: the exact-score normal group is unbiased, the γ = 2 normal group lands near c
    sde, ode = rs._reverse_runs(400, 200, 1_000, 3)
    n = 400
    exact_rows = sde[4 * n : 5 * n, 1]
    assert abs(exact_rows.mean()) < 4 * exact_rows.std() / np.sqrt(n)
    assert sde[3 * n : 4 * n, 1].mean() == pytest.approx(rs.REVERSE_C, rel=0.03)
    assert ode[3 * 200 : 4 * 200, 1].mean() == pytest.approx(rs.REVERSE_C, rel=0.03)
    assert np.std(ode[:200, 1]) == pytest.approx(np.sqrt(rs.S_MIN), rel=0.15)  # 3 s.e. at n = 200


def test_line_score_in_ou_time_matches_the_linear_gaussian_field():
    from empirical.reverse_ou import ou_score

    x = np.random.default_rng(0).standard_normal((5, 2))
    exact = ou_score(LinearGaussian(np.array([rs.TAU**2]), 2), alpha=0.0)
    for t in (5e-5, 0.3, 50.0):
        np.testing.assert_allclose(rs._line_score_ou(x, t), exact(x, t), rtol=1e-13)
