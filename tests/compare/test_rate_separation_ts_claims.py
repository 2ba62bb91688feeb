"""The rate_separation TS claims against their theory: a wrong closed form in theory makes the claims
built on it fail, and the claims' own numerical pieces (the tube-grid laws, the 2-D non-gradient field,
the relaxation formula, the Gibbs control law) agree with independent routes. Each claim's negative
control is tested generically (tests/compare/test_runner.py)."""

import numpy as np
import pytest

from compare.claim import Context
from compare.claims import rate_separation_ts as ts
from compare.runner import make_profile
from theory import rate_ellipse, rate_ness, scaling


def _run(name, tmp_path):
    claim = getattr(ts, name)
    return claim(Context(profile=make_profile("quick", tmp_path), seed=0, progress=False))


def test_wrong_ts_circle_tv_fails_ts_circle(tmp_path, monkeypatch):
    real = scaling.ts_circle_tv
    monkeypatch.setattr(scaling, "ts_circle_tv", lambda s, a, k: 1.1 * real(s, a, k))
    outcome = _run("ts_circle", tmp_path)
    assert outcome.verdict == "fail"
    assert all("TV / ts_circle_tv" in name for name in outcome.failed)


def test_wrong_thickness_fails_ts_circle(tmp_path, monkeypatch):
    monkeypatch.setattr(scaling, "ts_thickness", lambda s, a: s ** (1 - a / 4))
    outcome = _run("ts_circle", tmp_path)
    assert any("s.d. / ts_thickness" in name for name in outcome.failed)


def test_wrong_ellipse_coefficient_fails_ts_ellipse_volume(tmp_path, monkeypatch):
    real = rate_ellipse.ts_ellipse_tv_coefficient
    monkeypatch.setattr(rate_ellipse, "ts_ellipse_tv_coefficient", lambda *a: 1.15 * real(*a))
    outcome = _run("ts_ellipse_volume", tmp_path)
    assert outcome.verdict == "fail"
    assert any("TV(t-marginal, arc) / (cσ^α)" in name for name in outcome.failed)


def test_wrong_tv_exponent_fails_the_phase_diagram(tmp_path, monkeypatch):
    monkeypatch.setattr(scaling, "ts_uniform_tv_exponent", lambda a, g: a)  # γ ignored
    outcome = _run("ts_error_phase_diagram", tmp_path)
    assert outcome.verdict == "fail"
    assert all("gamma=0.5" in name or "gamma=1" in name for name in outcome.failed)


def test_wrong_gap_solver_fails_ts_mixing_gap(tmp_path, monkeypatch):
    real = rate_ness.circle_generator_gap
    monkeypatch.setattr(rate_ness, "circle_generator_gap", lambda u, n=2000: 0.9 * real(u, n))
    outcome = _run("ts_mixing_gap", tmp_path)
    assert "free gap − 1" in outcome.failed


def test_tube_grid_ts_law_is_von_mises_with_tempered_kappa():
    # the tube-grid angle marginal against the closed form vM(σ^α κ) to O(σ²) (independent of the claim)
    law = ts._circle_law(0.003, 1.0, 360)
    vm = ts._von_mises(0.003 * ts.KAPPA, 360)
    assert ts._tv(law, vm) < 1e-5
    assert law.normal_sd() == pytest.approx(np.sqrt(0.003), rel=0.01)


def test_phase_law_at_alpha_equals_gamma_is_the_tilted_law():
    law = ts._phase_law(0.001, 1.0, 1.0, 360)
    tilted = ts.tube_grid.cell_masses(lambda t: 0.001 * np.cos(t) + 0.5 * np.sin(t), 360)
    assert ts._tv(law, tilted) < 1e-4


def test_non_gradient_score_matches_numpy_closed_forms():
    pytest.importorskip("jax")
    import jax

    rng = np.random.default_rng(0)
    theta, r = rng.uniform(0, 2 * np.pi, 5), rng.uniform(0.8, 1.2, 5)
    x = np.column_stack([r * np.cos(theta), r * np.sin(theta)])
    sigma, gamma = 0.05, 0.5
    score = ts._non_gradient_score(gamma)
    with jax.enable_x64(True):
        got = np.asarray(jax.vmap(score, in_axes=(0, None))(x, sigma))
    exact = scaling.noised_circle_score(x, sigma, ts.KAPPA)
    tangent = np.column_stack([-np.sin(theta), np.cos(theta)])
    error = (0.5 * sigma**-gamma * (1 + np.cos(theta)) / r)[:, None] * tangent
    np.testing.assert_allclose(got, exact + error, rtol=1e-10, atol=1e-8)
    # its circulation on the unit circle is non-zero: ∮ e·dx = 0.5σ^{−γ}·2π
    t = np.linspace(0, 2 * np.pi, 2001)[:-1]
    circ = np.mean(0.5 * sigma**-gamma * (1 + np.cos(t))) * 2 * np.pi
    assert circ == pytest.approx(np.pi * sigma**-gamma)


def test_gibbs_control_law_is_the_ness_for_a_gradient_drift():
    # with zero circulation the control's Gibbs law and the NESS coincide: the control bites only
    # through the circulation
    drift = ts._ness_drift(0.01, 1.0, 0.0)
    gradient = lambda t: drift(t) - np.mean(drift(np.linspace(0, 2 * np.pi, 4320, endpoint=False)))  # noqa: E731
    np.testing.assert_allclose(ts._ness(gradient, True), ts._ness(gradient, False), atol=1e-9)
    assert (
        ts._tv_of(
            ts._ness(ts._ness_drift(0.01, 1.0, 1.0), True),
            ts._ness(ts._ness_drift(0.01, 1.0, 1.0), False),
        )
        > 0.2
    )


def test_relaxation_formula_limits_and_noise_floor():
    m0, m_inf = ts._relaxed_moment(0.0, "p_data", 0.0, 2.0)
    assert m0 == pytest.approx(ts._a1(1.0)) and m_inf == pytest.approx(ts._a1(1.0))
    m, m_inf = ts._relaxed_moment(1.0, "uniform", 1e6, 1.0)
    assert m == pytest.approx(m_inf) and m_inf == pytest.approx(0.01 / 2, rel=1e-4)
    mass = np.full(36, 1 / 36)
    mean, q99 = ts._noise_floor(mass, 4_000, np.random.default_rng(0))
    # E TV of a multinomial histogram ≈ ½ Σ √(2 p(1−p)/(π n))
    assert mean == pytest.approx(
        0.5 * 36 * np.sqrt(2 * (1 / 36) * (35 / 36) / (np.pi * 4000)), rel=0.05
    )
    assert q99 > mean
