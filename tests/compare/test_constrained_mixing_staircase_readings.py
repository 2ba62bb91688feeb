"""The readings of the staircase claim (paper000 T-A5, §2.2 D1–D4): the closed-form predictions
for Gaussian data against the metric functions on the exact spectrum, the 'away from the steps'
rule, and the verdicts the claim reports under each reading; and the cross-paper trained claim,
which reads the same quick network (kept in this file so that one test worker trains it, once)."""

from __future__ import annotations

import numpy as np
import pytest

from compare.claim import Context
from compare.claims import constrained_mixing as cm
from compare.claims import cross_paper_trained as cpt
from compare.readings import READINGS
from compare.registry import select
from compare.runner import make_profile
from theory.spectra import linear_gaussian_singular_values

SIGMAS = np.geomspace(0.03, 10.0, 57)


@pytest.mark.parametrize("sigma", SIGMAS)
def test_predictions_are_the_metrics_on_the_exact_spectrum(sigma):
    """The closed forms (from λ alone) against D1–D4 of the analytic singular values."""
    sv = linear_gaussian_singular_values(cm.STAIRCASE_VARIANCES, cm.STAIRCASE_D, sigma)
    measured = cm._staircase_readings(sv[None], sigma)
    predicted = cm._predicted_readings(sigma)
    assert set(predicted) == set(measured) and set(predicted) <= set(READINGS)
    for r, want in predicted.items():
        assert int(measured[r][0]) == want, r


def test_predictions_by_hand():
    """λ = (4, 1, 1/4, 1/16): D2 ρ = 0.1 counts λ > 0.4, D2 ε = 0.1 counts λ > 0.1, D3 needs
    4 + 1 = 5 ≥ 0.9 · 5.3125; D4 sees the 4 → 1 gap, log(5/2) at σ = 1, until the normal gap
    log(1 + 1/(16σ²)) exceeds every tangent gap (4 at σ = 0.05)."""
    for sigma in (0.05, 1.0, 5.0):
        p = cm._predicted_readings(sigma)
        assert (p["D2 relative"], p["D2 absolute"], p["D3"]) == (2, 3, 2)
    assert cm._predicted_readings(1.0)["D4"] == 1
    assert cm._predicted_readings(0.05)["D4"] == 4
    assert cm._predicted_readings(0.7)["D1 c=0.5"] == 2  # λ > σ² = 0.49: 4 and 1
    assert cm._predicted_readings(0.7)["D1 c=0.25"] == 1  # λ > 3σ² = 1.47: 4 only


def test_away_from_steps():
    assert not cm._away_from_steps(1.05)["D1 c=0.5"]  # the c = 1/2 step at σ = 1
    assert cm._away_from_steps(1.4)["D1 c=0.5"]
    assert not cm._away_from_steps(0.15)["D1 c=0.25"]  # step at √(1/16)/√3 ≈ 0.144
    assert not cm._away_from_steps(0.15)["D4"]  # the normal gap takes over near σ = 0.14
    assert all(cm._away_from_steps(0.7).values())


def test_claim_reports_every_reading(tmp_path):
    """At quick the readings are inconclusive; under the control (σ ↔ t in the predicted steps)
    every D1 reading fails, while the D2–D4 ones, which do not use the steps, keep their verdict."""
    profile = make_profile("quick", tmp_path)
    outcome = cm.local_dimension_staircase(Context(profile=profile, seed=0, progress=False))
    labels = {"D1 c=0.25", "D1 c=0.5", "D1 c=0.75", "D2 relative", "D2 absolute", "D3", "D4"}
    assert set(outcome.readings) == labels
    assert set(outcome.readings.values()) == {"inconclusive"}
    table = outcome.measured["readings (reading → σ → match with its exact prediction; verdict)"]
    assert "σ=0.15" not in table["D4"] and "σ=0.15" in table["D3"]
    control = cm.local_dimension_staircase(
        Context(profile=profile, seed=0, progress=False, control=True)
    )
    assert {control.readings[f"D1 c={c}"] for c in cm._CS} == {"fail"}
    assert {r: control.readings[r] for r in ("D2 relative", "D2 absolute", "D3", "D4")} == {
        r: table[r]["verdict"] for r in ("D2 relative", "D2 absolute", "D3", "D4")
    }


# --------------------------------------------------------------------------------------------
# The cross-paper trained claim on the staircase network


def _quick(tmp_path, control=False):
    return Context(profile=make_profile("quick", tmp_path), seed=0, progress=False, control=control)


def test_trained_claim_reuses_the_staircase_network():
    ctx = Context(profile=make_profile("quick"), seed=0, progress=False)
    (mine,) = select(claim_id="cross_paper.trained_identities")[0].trains(ctx)
    (theirs,) = cm.staircase_trainings(ctx)
    assert mine.label == theirs.label and mine.args[1:] == theirs.args[1:]
    assert mine.args[0].to_dict() == theirs.args[0].to_dict() and mine.kwargs == theirs.kwargs


def test_trained_control_fails_and_quick_is_unjudged(tmp_path):
    judged = cpt.trained_identities(_quick(tmp_path))
    assert judged.verdict == "inconclusive"
    assert all(np.isfinite(c.value) for c in judged.checks)
    control = cpt.trained_identities(_quick(tmp_path, control=True))
    assert control.verdict == "fail"
    # v_t = t halves the energy route (v·(d − k)/(2v) in place of d − k) but not the trace route
    assert "σ=0.05: v·E‖ŝ‖² vs −v E tr Ĵ" in control.failed
    assert "σ=0.05: −v E tr Ĵ vs v·drift_energy" not in control.failed
