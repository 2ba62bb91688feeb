"""The constrained_mixing claims on the exact R1 surface field: a wrong field makes them fail, and
their own numerical pieces (the circulation rule, the E1 overlaps) agree with closed forms. Each
claim's negative control is tested generically (tests/compare/test_runner.py)."""

import numpy as np
import pytest

from compare.claim import Context
from compare.claims import constrained_mixing_r1 as r1
from compare.claims import constrained_mixing_surface as cms
from compare.runner import make_profile
from theory.graph_surface import GraphSurface


def _run(name, tmp_path):
    return getattr(cms, name)(
        Context(profile=make_profile("quick", tmp_path), seed=0, progress=False)
    )


@pytest.fixture
def fresh_cache():
    """The claims keep their measured fields; a patched field must be measured afresh."""
    r1.near_points.cache_clear()
    cms._circulation_points.cache_clear()
    yield
    r1.near_points.cache_clear()
    cms._circulation_points.cache_clear()


def test_claims_pass_on_the_exact_field(tmp_path, fresh_cache):
    for name in ("surface_normal_projection", "surface_conservative_exact"):
        outcome = _run(name, tmp_path)
        assert outcome.verdict == "pass", outcome.failed
        assert all(r["verdict"] in ("pass", "fail") for r in outcome.measured["readings"].values())


def test_wrong_jacobian_scale_fails_normal_projection(tmp_path, monkeypatch, fresh_cache):
    real = GraphSurface.fields

    def wrong(
        self, x, sigma, **kwargs
    ):  # Cov − σ²I divided by σ⁴·0.9: the normal stiffness 10% off
        score, jac = real(self, x, sigma, **kwargs)
        return score, jac / 0.9

    monkeypatch.setattr(GraphSurface, "fields", wrong)
    outcome = _run("surface_normal_projection", tmp_path)
    assert outcome.verdict == "fail"
    assert any(name.startswith("σ²s_normal") for name in outcome.failed)


def test_score_with_wrong_normal_offset_fails_normal_projection(tmp_path, monkeypatch, fresh_cache):
    real = GraphSurface.fields

    def wrong(self, x, sigma, **kwargs):  # the posterior mean lifted by 0.2σ along e₃
        score, jac = real(self, x, sigma, **kwargs)
        return score + np.array([0.0, 0.0, 0.2]) / np.asarray(sigma), jac

    monkeypatch.setattr(GraphSurface, "fields", wrong)
    outcome = _run("surface_normal_projection", tmp_path)
    assert outcome.verdict == "fail"
    assert any(name.startswith("N4 e_N median") for name in outcome.failed)


def test_score_with_a_curl_fails_the_circulation(tmp_path, monkeypatch, fresh_cache):
    """The circulation integrates the score itself: a curl there is caught even though the
    Jacobian (from the covariance) is unchanged."""
    real = GraphSurface.score

    def curled(self, x, sigma, **kwargs):
        x = np.asarray(x)
        return real(self, x, sigma, **kwargs) + 0.5 * np.column_stack(
            [-x[:, 1], x[:, 0], np.zeros(len(x))]
        )

    monkeypatch.setattr(GraphSurface, "score", curled)
    outcome = _run("surface_conservative_exact", tmp_path)
    assert outcome.verdict == "fail"
    assert any(name.startswith("N3 |circulation|") for name in outcome.failed)


class _Linear:
    """A linear field g(x) = M x, standing in for the surface in the circulation rule."""

    def __init__(self, m):
        self.m = m

    def score(self, x, sigma):
        return x @ self.m.T


def test_circulation_rule_reads_the_antisymmetric_part(rng):
    q_t = np.linalg.qr(rng.standard_normal((3, 2)))[0][None]
    sym = rng.standard_normal((3, 3))
    sym = sym + sym.T
    x0 = rng.standard_normal((1, 3))
    assert abs(cms._circulation(_Linear(sym), x0, q_t, 0.1)[0]) < 1e-12
    omega = 0.7
    e_a, e_b = q_t[0, :, 0], q_t[0, :, 1]
    rot = omega * (np.outer(e_b, e_a) - np.outer(e_a, e_b))
    np.testing.assert_allclose(
        cms._circulation(_Linear(sym + rot), x0, q_t, 0.1), omega, rtol=1e-12
    )
    np.testing.assert_allclose(
        cms._circulation_rotation_only(q_t, np.array([omega])), omega, rtol=1e-12
    )


def test_overlaps_are_one_for_a_diagonal_jacobian_and_chance_corrected():
    jac = np.diag([-100.0, -2.0, -1.0])[None]
    q_t = np.eye(3)[:, 1:][None]
    ov = cms._overlaps(jac, q_t)
    np.testing.assert_allclose(ov["ov(U, Q_T)"], 1.0)
    np.testing.assert_allclose(ov["ov(U, E1)"], 1.0)
    tilted = np.eye(3)[:, :2][None]  # shares one of the two directions: ov = 1/2
    np.testing.assert_allclose(
        cms._overlaps(jac, tilted)["ov(U, Q_T) chance-corrected"], (0.5 - 2 / 3) / (1 / 3)
    )
