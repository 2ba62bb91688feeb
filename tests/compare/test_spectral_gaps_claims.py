"""The spectral_gaps claims against their theory: each sampled claim passes at quick, and a wrong closed
form in theory.spectra (Marchenko–Pastur edges, Silverstein edges, the gap peak) makes the claims that
are built on it fail. The negative controls of every claim are tested generically elsewhere."""

import pytest

from compare.claim import Context
from compare.claims import spectral_gaps as sg
from compare.runner import make_profile
from theory import spectra

SAMPLED = ["mp_edges", "mp_density", "manifold_gap", "intermediate_gap", "phase_boundaries"]


def _run(name, tmp_path):
    claim = getattr(sg, name)
    return claim(Context(profile=make_profile("quick", tmp_path), seed=0, progress=False))


@pytest.mark.parametrize("name", SAMPLED)
def test_sampled_claims_pass_at_quick(name, tmp_path):
    outcome = _run(name, tmp_path)
    assert outcome.verdict == "pass", [c.to_dict() for c in outcome.checks if not c.held]


@pytest.fixture
def mp_edges_15_percent_high(monkeypatch):
    """marchenko_pastur with τ 15% high: both edges (and the density) 15% high."""
    real = spectra.marchenko_pastur

    def wrong(alpha, tau):
        law = real(alpha, 1.15 * tau)
        assert law.gamma_minus == pytest.approx(1.15 * real(alpha, tau).gamma_minus)
        return law

    monkeypatch.setattr(spectra, "marchenko_pastur", wrong)


@pytest.mark.parametrize(
    ("name", "caught_by"),
    [
        ("mp_edges", "N=1000 mean of draws"),
        ("manifold_gap", "N=1000 mean of draws"),
        ("phase_boundaries", "t_trivial (MP edges)"),
        ("mp_density", "KS N=1000"),
    ],
)
def test_wrong_marchenko_pastur_edges_fail(name, caught_by, tmp_path, mp_edges_15_percent_high):
    outcome = _run(name, tmp_path)
    assert outcome.verdict == "fail"
    assert caught_by in outcome.failed


def test_wrong_silverstein_edges_fail_intermediate_gap(tmp_path, monkeypatch):
    real = spectra.silverstein_edges

    def wrong(alphas, taus):
        return [(1.15 * lo, 1.15 * hi) for lo, hi in real(alphas, taus)]

    monkeypatch.setattr(spectra, "silverstein_edges", wrong)
    outcome = _run("intermediate_gap", tmp_path)
    assert outcome.verdict == "fail"
    assert {"t_max within 10%", "t₋ within 10%", "t₊ within 10%"} <= set(outcome.failed)


def test_wrong_gap_peak_fails_log_symmetry(tmp_path, monkeypatch):
    real = spectra.gap_peak

    def wrong(a, b):
        t_max, d_max = real(a, b)
        return 1.05 * t_max, d_max

    monkeypatch.setattr(spectra, "gap_peak", wrong)
    outcome = _run("log_symmetry", tmp_path)
    assert outcome.verdict == "fail"
    assert outcome.failed == ["t₋t₊ = t_max² and Δ(t±) = Δ (max rel err)"]


def test_edge_scales_follow_n_to_the_minus_two_thirds():
    lo_1000, hi_1000 = sg._edge_scales(1000, 0.4)
    lo_8000, hi_8000 = sg._edge_scales(8000, 0.4)
    assert lo_1000 == pytest.approx(2.27e-2, rel=0.01)
    assert hi_1000 == pytest.approx(8.4e-3, rel=0.01)
    assert lo_1000 / lo_8000 == pytest.approx(4.0)
    assert hi_1000 / hi_8000 == pytest.approx(4.0)
