"""The claim registry and the Claim/Outcome types."""

import pytest

from compare.claim import KINDS, VERDICTS, Claim, Outcome, verdict_from
from compare.registry import PAPERS, all_claims, select

# The claims issue #3 asks for; each later issue adds its own.
FOUNDATION = {
    "constrained_mixing.gaussian_jacobian",
    "constrained_mixing.local_dimension_staircase",
    "constrained_mixing.normal_stiffness",
    "spectral_gaps.linear_spectrum",
}


def test_registered_claims_are_well_formed():
    claims = all_claims()
    ids = [c.id for c in claims]
    assert len(ids) == len(set(ids))
    assert FOUNDATION <= set(ids)
    for c in claims:
        assert c.paper in PAPERS and c.kind in KINDS
        assert c.statement.strip() and c.source.strip()


def test_report_order_follows_papers():
    order = list(PAPERS)
    papers = [c.paper for c in all_claims()]
    assert papers == sorted(papers, key=order.index)


def test_select():
    assert {c.paper for c in select(paper="spectral_gaps")} == {"spectral_gaps"}
    assert [c.id for c in select(claim_id="spectral_gaps.linear_spectrum")] == [
        "spectral_gaps.linear_spectrum"
    ]
    with pytest.raises(ValueError, match="paper"):
        select(paper="no_such_paper")
    with pytest.raises(ValueError, match="not registered"):
        select(claim_id="constrained_mixing.nope")


def test_types_validate():
    with pytest.raises(ValueError, match="verdict"):
        Outcome(predicted=1, measured=1, tolerance=0, verdict="ok")
    with pytest.raises(ValueError, match="kind"):
        Claim(
            id="spectral_gaps.x",
            paper="spectral_gaps",
            kind="guess",
            statement="s",
            source="s",
            run=lambda ctx: None,
        )
    with pytest.raises(ValueError, match="must start with"):
        Claim(
            id="x",
            paper="spectral_gaps",
            kind="exact",
            statement="s",
            source="s",
            run=lambda ctx: None,
        )
    assert set(VERDICTS) == {"pass", "fail", "inconclusive"}


def test_verdict_from():
    assert verdict_from({"a": True, "b": True}) == "pass"
    assert verdict_from({"a": True, "b": False}) == "fail"
    assert verdict_from({"a": True}, inconclusive=True) == "inconclusive"
