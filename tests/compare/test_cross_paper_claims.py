"""The cross-paper claims: the exact identities pass at quick and their controls are caught, and
their crosswalk rows reach the report's table. The trained claim reads the staircase network of
constrained_mixing; its tests sit beside that network's in test_constrained_mixing_staircase_readings."""

import numpy as np
import pytest

from compare.claim import Context
from compare.claims import cross_paper as cp
from compare.registry import select
from compare.report import render_markdown
from compare.runner import make_profile, run_claim

EXACT = ("phase_boundaries_staircase", "drift_energy_trace", "staircase_crossings", "vp_forms")
# the checks each control must fail (at least these)
CAUGHT_BY = {
    "phase_boundaries_staircase": "consolidation boundary t_M (VE t = σ²): constrained_mixing",
    "drift_energy_trace": "v·E‖s‖² = tr(−vJ), VE noise variance v: manifold_detection",
    "staircase_crossings": "staircase step t_j = σ_j² (VE): constrained_mixing",
    "vp_forms": "VP normal part −v_t tr(P_⊥J^VP) = d − k: rate_separation",
}


def _context(tmp_path, seed=0, control=False):
    return Context(
        profile=make_profile("quick", tmp_path), seed=seed, progress=False, control=control
    )


def test_registered_last_with_kinds_and_controls():
    claims = select(paper="cross_paper")
    assert [c.id for c in claims] == [f"cross_paper.{n}" for n in (*EXACT, "trained_identities")]
    assert [c.kind for c in claims] == ["exact"] * 4 + ["trained"]
    assert all(c.control.strip() for c in claims)


@pytest.mark.parametrize("name", EXACT)
def test_exact_identity_passes_and_its_control_fails(name, tmp_path):
    (c,) = select(claim_id=f"cross_paper.{name}")
    out = c.run(_context(tmp_path, c.seed))
    assert out.verdict == "pass", out.failed
    for row in out.crosswalk:  # counts of mismatches, the edges' rate as α → 0, relative errors
        bound = 0 if "mismatches" in row["quantity"] else cp.TOL
        bound = cp.MP_BOUND if "α → 0" in row["quantity"] else bound
        assert row["max_disagreement"] <= bound, row
    assert any(
        r["max_disagreement"] > 0 for r in out.crosswalk
    )  # rounding shows: computed, not set
    control = c.run(_context(tmp_path, c.seed, control=True))
    assert control.verdict == "fail"
    assert any(f.startswith(CAUGHT_BY[name]) for f in control.failed), control.failed


def test_cases_are_seeded_and_their_variances_apart():
    a, b = cp.cases(5, 6), cp.cases(5, 6)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x.spec.variances, y.spec.variances)
        np.testing.assert_array_equal(x.spec.basis, y.spec.basis)
        assert x.delta == y.delta and x.c == 1 - x.delta
        lam = np.sort(x.spec.variances)
        assert np.all(lam[1:] / lam[:-1] >= cp.MIN_RATIO) and 2 <= x.spec.k < x.spec.d
    assert not np.array_equal(cp.cases(6, 1)[0].spec.variances, a[0].spec.variances)


def test_crosswalk_table_renders_in_the_cross_paper_section(tmp_path):
    profile = make_profile("quick", tmp_path)
    entries = [
        run_claim(c, profile, figures=False, controls=False, progress=False)
        for c in select(paper="cross_paper")
        if c.kind == "exact"
    ]
    assert all(e["crosswalk"] for e in entries)
    md = render_markdown({"profile": "quick", "git_revision": "abc", "claims": entries})
    section = md[md.index("## cross_paper") :]
    assert (
        "| quantity | claim | constrained_mixing | spectral_gaps | manifold_detection | " in section
    )
    row = next(line for line in section.splitlines() if line.startswith("| VP normal part"))
    assert (
        "`normal_stiffness(√v_t)`" in row and "`drift_energy(d) − drift_energy(k) (α = 1)`" in row
    )
    assert row.count("—") == 1  # constrained_mixing has no closed form for it
