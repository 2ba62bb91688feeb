"""The chain claim of paper000 T-A4 against its theory: it passes at quick; the per-component D1
staircase in x₀ units agrees with the singular values of the exact single-component Jacobian in x_t
units, while the x_t-unit slip of §7.4 does not; and a wrong chain rule for the OU-time Jacobian
(a_t⁻¹ instead of a_t⁻²) makes the claim fail. The negative control is tested generically elsewhere."""

import numpy as np
import pytest

from compare.claim import Context
from compare.claims import constrained_mixing_chains as cmc
from compare.runner import make_profile
from empirical.metrics import local_dimension_d1
from empirical.reverse_ou import ou_jacobian
from theory.distributions import LinearGaussian
from theory.schedules import ou_a, ou_v


def _run(tmp_path):
    ctx = Context(profile=make_profile("quick", tmp_path), seed=0, progress=False)
    return cmc.local_dimension_along_chains(ctx)


def test_claim_passes_at_quick(tmp_path):
    outcome = _run(tmp_path)
    assert outcome.verdict == "pass", [c.to_dict() for c in outcome.checks if not c.held]
    table = outcome.measured["sensitivity table (reading → checkpoint → mean, std, verdict)"]
    assert set(table) >= {"D1 c=0.25", "D1 c=0.5", "D1 c=0.75", "D4 gap"}
    assert table["D1 c=0.5"]["t=1"]["verdict"] == "pass"


@pytest.mark.parametrize("c", [0.25, 0.5, 0.75])
@pytest.mark.parametrize("t", [3.0, 1.0, 0.3, 0.1, 0.03, 1e-3])
def test_component_staircase_matches_the_single_component_jacobian(t, c):
    """Each component alone: D1 of ou_jacobian's singular values (σ = √v_t) is the staircase."""
    if cmc._at_step(t, c):
        pytest.skip("at a step of the staircase")
    x = np.random.default_rng(1).normal(size=(5, 3))
    measured = []
    for lam in cmc.VARIANCES:
        spec = LinearGaussian(np.array(lam), 3)  # no offset: the Jacobian does not depend on it
        sv = np.linalg.svd(ou_jacobian(spec)(x, t), compute_uv=False)
        d = local_dimension_d1(sv, np.sqrt(ou_v(t)), c)
        assert np.all(d == d[0])
        measured.append(int(d[0]))
    np.testing.assert_array_equal(cmc._staircase(t, c), measured)


def test_x_t_unit_slip_disagrees_at_large_t():
    """λ_j (x₀ units) against (1/c − 1) v_t (x_t units) predicts d_loc ≥ 1 even at t = 3."""
    for t in (3.0, 1.0):
        assert np.all(cmc._staircase(t, 0.5) == 0)
        assert np.all(cmc._staircase(t, 0.5, x0_units=False) >= 1)


def test_wrong_chain_rule_fails(tmp_path, monkeypatch):
    """J_t = a_t⁻¹ J^VE(x/a_t, σ_t) (one factor a_t⁻¹ lost) fails the central-difference check."""
    real = cmc.ou_jacobian

    def wrong(field, alpha=1.0):
        jac = real(field, alpha)
        return lambda x, t: jac(x, t) * float(ou_a(t, alpha))

    monkeypatch.setattr(cmc, "ou_jacobian", wrong)
    outcome = _run(tmp_path)
    assert outcome.verdict == "fail"
    assert "chain rule vs central differences" in outcome.failed
