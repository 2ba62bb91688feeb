"""The constrained-mixing digits claims (paper000 R2): registered, their d_loc readings and trend
checks on known spectra, inconclusive at quick, and their controls caught."""

from __future__ import annotations

import numpy as np
import pytest

from compare.registry import select
from compare.runner import make_profile, run_claims, run_control

pytest.importorskip("sklearn")
cmd = pytest.importorskip("compare.claims.constrained_mixing_digits")

IDS = ("constrained_mixing.digits_local_dimension", "constrained_mixing.digits_semantic_features")


def test_claims_are_registered_as_trained_with_figures_and_trainings():
    for claim_id, figure in zip(
        IDS, ("digits_local_dimension", "digits_singular_vectors"), strict=True
    ):
        (c,) = select(claim_id=claim_id)
        assert c.kind == "trained" and c.trains is not None and figure in c.figures
        assert "too" not in c.control and c.control.strip()


def test_recipe_is_fixed_and_rejects_unknown_profiles():
    net, training = cmd.recipe("full")
    assert (net.width, net.depth, net.sigma_data) == (256, 3, 0.5)
    assert (training.steps, training.sigma_min, training.sigma_max) == (10_000, 0.01, 20.0)
    assert cmd.recipe("quick")[1].steps < training.steps
    with pytest.raises(ValueError, match="profile"):
        cmd.recipe("medium")


def _measurement(levels: np.ndarray) -> dict:
    """A fake chain measurement whose noise-normalised spectrum σ²s_i is ``levels`` (K, n, 64)."""
    sigma = np.array(cmd.CHECKPOINTS)
    return {"sigma": sigma, "s": levels / sigma[:, None, None] ** 2}


def test_dimensions_count_d1_and_the_control_drops_the_normalisation():
    k_true = np.linspace(0, 20, len(cmd.CHECKPOINTS)).round().astype(int)  # rises as σ falls
    levels = np.ones((len(k_true), 3, 64))
    for j, k in enumerate(k_true):
        levels[j, :, 64 - k :] = 0.1  # k flat directions at σ²s = 0.1
    levels = -np.sort(-levels, axis=2)
    dims = cmd.dimensions(_measurement(levels))
    for c in ("D1 c=0.25", "D1 c=0.5", "D1 c=0.75"):
        np.testing.assert_array_equal(dims[c], np.repeat(k_true[:, None], 3, axis=1))
    assert all(c.held for c in cmd._trend_checks(dims["D1 c=0.5"], 11)[:2])
    # σ_ref = 1 in place of σ: s_i < c counts every direction at σ ≥ 2, few at small σ
    control = cmd.dimensions(_measurement(levels), control=True)["D1 c=0.5"]
    assert control[0].min() == 64 and control[-1].max() == 0
    assert not cmd._trend_checks(control, 11)[0].held


def test_trend_checks_catch_a_fall_and_a_missing_spread():
    rising = np.repeat(np.arange(11.0)[:, None], 8, axis=1)
    rising[-1] += np.arange(8) % 2  # spread at the smallest σ
    assert all(c.held for c in cmd._trend_checks(rising, 11))
    dip = rising.copy()
    dip[6] = 2.0  # a drop of 3 below the running maximum 5
    assert [c.held for c in cmd._trend_checks(dip, 11)] == [True, False, True]
    flat_end = np.repeat(np.arange(11.0)[:, None], 8, axis=1)
    assert [c.held for c in cmd._trend_checks(flat_end, 11)] == [True, True, False]
    assert not cmd._trend_checks(rising[::-1], 11)[0].held


def test_resolved_levels_stop_at_the_first_unresolved_checkpoint():
    levels = np.full((len(cmd.CHECKPOINTS), 5, 64), 0.1)
    levels[:, :, 0] = 1.0
    levels[-2, :, 0] = 0.5  # σ = 0.02 unresolved
    m = _measurement(levels)
    assert cmd.resolved_levels(m) == len(cmd.CHECKPOINTS) - 2
    assert cmd._resolution_check(m, cmd.resolved_levels(m)).held  # σ* = 0.05 ≤ 0.1
    # the trend checks only see the resolved checkpoints: a spread at σ* counts, not after it
    d = np.zeros((len(cmd.CHECKPOINTS), 4))
    d[-3] = [3, 4, 5, 6]
    d[-1] = 0.0
    assert [c.held for c in cmd._trend_checks(d, 9)] == [True, True, True]
    assert not all(c.held for c in cmd._trend_checks(d, 11))
    levels[3, :, 0] = 0.5  # a gap at σ = 2: resolved only down to σ = 5
    assert cmd.resolved_levels(_measurement(levels)) == 3
    assert not cmd._resolution_check(m, 3).held


def test_semantic_checks_on_planted_overlaps():
    rng = np.random.default_rng(0)
    own = 0.5 + 0.05 * rng.standard_normal(40)
    other = 0.2 + 0.05 * rng.standard_normal(40)
    ok = cmd._semantic_checks({"own": own, "other": other, "random": own * 0})
    assert [c.held for c in ok] == [True, True]
    same = cmd._semantic_checks({"own": other, "other": other + 0.01, "random": own * 0})
    assert [c.held for c in same] == [False, False]


@pytest.mark.slow
def test_quick_is_inconclusive_and_the_controls_fail(tmp_path, model_cache):
    profile = make_profile("quick", tmp_path)
    claims = [select(claim_id=i)[0] for i in IDS]
    results = run_claims(claims, profile, controls=False, progress=False)
    for r in results:
        assert r["verdict"] == "inconclusive", r
        assert "too short to judge" in r["inconclusive"]
        assert r["checks"]
    for c in claims:
        control = run_control(c, profile)
        assert control["verdict"] == "fail" and control["failed_checks"], control
