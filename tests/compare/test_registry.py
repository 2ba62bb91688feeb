"""The claim registry and the Claim/Outcome types."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from compare.claim import KINDS, VERDICTS, Claim, Outcome, check
from compare.registry import PAPERS, all_claims, select

# The foundation claims; each paper added later brings its own.
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


@pytest.mark.parametrize(
    ("paper", "claim_id", "message"),
    [
        ("spectral_gap", None, "paper 'spectral_gap' is not known; did you mean spectral_gaps?"),
        ("claimless", None, "paper claimless has no claims yet"),
        (None, "spectral_gaps.linear_spectrun", "did you mean spectral_gaps.linear_spectrum"),
        (None, "linear_spectrum", "did you mean spectral_gaps.linear_spectrum"),
        (
            "spectral_gaps",
            "score_smoothing.n_point",
            "score_smoothing.n_point is not a claim of paper spectral_gaps (its paper is "
            "score_smoothing)",
        ),
    ],
)
def test_select_names_what_matched_nothing(paper, claim_id, message, monkeypatch):
    monkeypatch.setitem(PAPERS, "claimless", "a paper registered without claims")
    with pytest.raises(ValueError) as error:
        select(paper, claim_id)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_claims_say_where_their_code_is():
    root = Path(__file__).resolve().parents[2]
    for c in all_claims():
        path, line = c.code.rsplit(":", 1)
        assert path.startswith("compare/claims/"), c.code
        assert (
            root.joinpath(path)
            .read_text()
            .splitlines()[int(line) - 1]
            .startswith(f"def {c.run.__name__}(")
        )


def test_declared_figures_are_distinct_names():
    names = [f for c in all_claims() for f in c.figures]
    assert len(names) == len(set(names)) and all(n and "/" not in n for n in names)
    assert {c.id for c in all_claims() if c.figures} >= {
        "constrained_mixing.local_dimension_staircase",
        "spectral_gaps.intermediate_gap",
    }


def test_types_validate():
    with pytest.raises(ValueError, match="at least one Check"):
        Outcome(predicted=1, measured=1, tolerance=0, checks=[])
    with pytest.raises(ValueError, match="unique"):
        Outcome(predicted=1, measured=1, tolerance=0, checks=[check("a", 1, "<", 2)] * 2)
    base = dict(
        id="spectral_gaps.x", paper="spectral_gaps", kind="exact", statement="s", source="s"
    )
    with pytest.raises(ValueError, match="kind"):
        Claim(**{**base, "kind": "guess"}, control="c", run=lambda ctx: None)
    with pytest.raises(ValueError, match="must start with"):
        Claim(**{**base, "id": "x"}, control="c", run=lambda ctx: None)
    with pytest.raises(ValueError, match="negative control"):
        Claim(**base, control=" ", run=lambda ctx: None)
    assert set(VERDICTS) == {"pass", "fail", "inconclusive", "error"}


@pytest.mark.parametrize(
    ("value", "op", "bound", "held", "threshold"),
    [
        (0.01, "<", 0.05, True, "< 0.05"),
        (0.05, "<", 0.05, False, "< 0.05"),
        (0.05, "<=", 0.05, True, "≤ 0.05"),
        (3, ">=", 3, True, "≥ 3"),
        (0.5, "in", (0.0, 1.0), True, "in [0, 1]"),
        (1.5, "in", (0.0, 1.0), False, "in [0, 1]"),
        (float("nan"), "<", 1.0, False, "< 1"),
        (float("nan"), ">", 1.0, False, "> 1"),
        (np.float64(0.2), ">", 0.1, True, "> 0.1"),
        ("a", "==", "a", True, "== a"),
    ],
)
def test_check_rules(value, op, bound, held, threshold):
    c = check("name", value, op, bound)
    assert (c.held, c.threshold) == (held, threshold)
    assert type(c.value) is not np.float64  # JSON-ready Python scalars


def test_check_rejects_unknown_rule():
    with pytest.raises(ValueError, match="op must be one of"):
        check("name", 1.0, "~", 1.0)


def test_verdict_is_derived_from_the_checks():
    ok, bad = check("a", 0.0, "<", 1.0), check("b", 2.0, "<", 1.0)
    assert Outcome(1, 1, 0, checks=[ok]).verdict == "pass"
    outcome = Outcome(1, 1, 0, checks=[ok, bad])
    assert (outcome.verdict, outcome.failed) == ("fail", ["b"])
    assert Outcome(1, 1, 0, checks=[ok, bad], inconclusive="too short").verdict == "inconclusive"


def test_every_claim_declares_a_control():
    for c in all_claims():
        assert len(c.control.split()) >= 3, c.id  # a sentence naming the fault, not a placeholder


def test_report_order_does_not_depend_on_import_order():
    """A module imported ahead of its siblings (as a test file may do) keeps its place."""
    script = (
        "import compare.claims.cross_paper_trained, compare.claims.score_smoothing_trained\n"
        "from compare.registry import all_claims\n"
        "print('\\n'.join(c.id for c in all_claims()))\n"
    )
    fresh = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split()
    assert fresh == [c.id for c in all_claims()]
    assert fresh[-1] == "cross_paper.trained_identities"
