"""The manifold_detection claims against their theory: a wrong closed form in theory.scaling makes the
claims built on it fail, and the claims' own numerical pieces (the EM variance recursion, the mean
ODE, the grid KL) agree with independent routes. Each claim's negative control is tested generically
(tests/compare/test_runner.py)."""

import numpy as np
import pytest
from scipy import integrate, stats

from compare.claim import Context
from compare.claims import manifold_detection as md
from compare.runner import make_profile
from empirical.reverse_ou import ou_score, prior_sample
from theory import scaling


def _run(name, tmp_path):
    claim = getattr(md, name)
    return claim(Context(profile=make_profile("quick", tmp_path), seed=0, progress=False))


def test_wrong_normal_spread_fails_exact_lands_on_manifold(tmp_path, monkeypatch):
    real = scaling.normal_spread
    monkeypatch.setattr(scaling, "normal_spread", lambda t, alpha=1.0: 1.1 * real(t, alpha))
    outcome = _run("exact_lands_on_manifold", tmp_path)
    assert outcome.verdict == "fail"
    assert any("normal std / √v" in name for name in outcome.failed)


def test_wrong_drift_energy_rate_fails(tmp_path, monkeypatch):
    real = scaling.drift_energy_rate
    monkeypatch.setattr(scaling, "drift_energy_rate", lambda d, k: 1.05 * real(d, k))
    outcome = _run("drift_energy", tmp_path)
    assert outcome.verdict == "fail"
    assert any("increment" in name for name in outcome.failed)


def test_wrong_ve_prior_fails(tmp_path, monkeypatch):
    real = scaling.best_gaussian_prior_ve
    monkeypatch.setattr(scaling, "best_gaussian_prior_ve", lambda m, c, T: real(m, c, 1.01 * T))
    outcome = _run("ve_prior", tmp_path)
    assert outcome.verdict == "fail"
    assert any("s²_opt" in name for name in outcome.failed)


def test_em_variance_recursion_matches_the_sampler():
    # the exact recursion of the EM chain's normal variance against the sampler on many points
    rng = np.random.default_rng(4)
    stops = (1e-2, 1e-3)
    x = prior_sample(40_000, 2, rng)
    ends = md._reverse_through(ou_score(md.LINE), x, stops, rng)
    predicted = md._em_normal_std(stops, var0=float(np.var(x[:, 1])))
    for y, p in zip(ends, predicted, strict=True):
        assert np.std(y[:, 1]) == pytest.approx(p, rel=4 * np.sqrt(0.5 / 40_000))


def test_shifted_normal_mean_matches_a_fine_em_mean_recursion():
    # the EM recursion of the mean m ← m + h(m − 2m/v + 2c) on a fine geometric grid converges to the ODE
    ts = np.geomspace(md.T_END, 1e-3, 200_000)
    h, v = ts[:-1] - ts[1:], -np.expm1(-2 * ts[:-1])
    m = 0.0
    for hi, vi in zip(h, v, strict=True):
        m = m + hi * (m - 2 * m / vi + 2.0)
    assert md._shifted_normal_mean(1.0, 1e-3) == pytest.approx(m, rel=1e-3)


def test_grid_kl_matches_adaptive_quadrature():
    kl = md._kl_on_grid(8.0)

    def integrand(x):
        log_p = np.logaddexp.reduce(
            np.log(md.ATOM_WEIGHTS) + stats.norm.logpdf(x, md.ATOMS, np.sqrt(8.0))
        )
        return np.exp(log_p) * (log_p - stats.norm.logpdf(x, 0.5, 3.0))

    ref = integrate.quad(integrand, -60, 60, points=list(md.ATOMS), epsabs=0, epsrel=1e-12)[0]
    assert kl(0.5, 9.0) == pytest.approx(ref, rel=1e-9)


def test_circle_points_are_equispaced_on_the_unit_circle():
    pts = md.circle_points(8)
    assert np.allclose(np.linalg.norm(pts, axis=1), 1)
    assert np.allclose(np.linalg.norm(np.diff(pts, axis=0), axis=1), 2 * np.sin(np.pi / 8))
