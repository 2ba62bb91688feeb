"""The report: stable JSON keys, merging partial runs, the Markdown tables."""

import json
import os
import time

from compare.report import HEADER_KEYS, RESULT_KEYS, render_markdown, write_report


def _result(cid, paper="constrained_mixing", verdict="pass", measured=0.5, caught=True):
    failed = ["error < 1e-10"] if verdict == "fail" else []
    return {
        "id": cid,
        "paper": paper,
        "kind": "exact",
        "statement": "S.",
        "source": "eq. 1",
        "predicted": 0.5,
        "measured": measured,
        "tolerance": 1e-10,
        "verdict": verdict,
        "failed_checks": failed,
        "inconclusive": "",
        "checks": [
            {"name": "error < 1e-10", "value": 0.25, "threshold": "< 1e-10", "held": not failed}
        ],
        "control": {
            "fault": "prediction scaled by 1.05",
            "verdict": "fail" if caught else "pass",
            "caught": caught,
            "failed_checks": ["error < 1e-10"] if caught else [],
            "seconds": 0.1,
        },
        "seed": 0,
        "seconds": 0.25,
        "notes": "",
    }


def test_json_schema(tmp_path):
    report = write_report([_result("constrained_mixing.a")], "quick", tmp_path, merge=False)
    on_disk = json.loads((tmp_path / "validation.json").read_text())
    assert on_disk == report
    assert tuple(on_disk) == HEADER_KEYS
    assert tuple(on_disk["claims"][0]) == RESULT_KEYS
    versions = on_disk["versions"]
    assert {
        "python",
        "score-geometry-validator",
        "numpy",
        "scipy",
        "jax",
        "equinox",
        "optax",
    } <= set(versions)
    assert all(isinstance(v, str) and v for v in versions.values())


def test_header_states_seed_and_versions_and_entries_their_code_and_figures(tmp_path):
    entry = {
        **_result("spectral_gaps.b", paper="spectral_gaps"),
        "code": "compare/claims/spectral_gaps.py:12",
        "figures": ["figures/spectral_gaps/b.png"],
        "base_seed": 7,
    }
    write_report([entry], "full", tmp_path, merge=False, seed=7)
    report = write_report(
        [{**_result("constrained_mixing.a"), "base_seed": 0}], "full", tmp_path, merge=True
    )
    assert report["seed"] == 0
    md = render_markdown(report)
    assert "Profile `full`, base seed 0 (added to each claim's own seed)" in md
    assert f"numpy {report['versions']['numpy']}" in md
    assert "Kept from runs with another base seed: `spectral_gaps.b` (7)." in md
    assert "- Code: `compare/claims/spectral_gaps.py:12`" in md
    assert "- Figures: [figures/spectral_gaps/b.png](../figures/spectral_gaps/b.png)" in md


def test_merge_replaces_by_id_and_keeps_the_rest(tmp_path):
    write_report(
        [_result("constrained_mixing.a"), _result("spectral_gaps.b", paper="spectral_gaps")],
        "full",
        tmp_path,
        merge=False,
    )
    report = write_report(
        [_result("spectral_gaps.b", paper="spectral_gaps", verdict="fail")],
        "full",
        tmp_path,
        merge=True,
    )
    assert [(c["id"], c["verdict"]) for c in report["claims"]] == [
        ("constrained_mixing.a", "pass"),
        ("spectral_gaps.b", "fail"),
    ]
    report = write_report(
        [_result("spectral_gaps.b", paper="spectral_gaps")], "full", tmp_path, merge=False
    )
    assert [c["id"] for c in report["claims"]] == ["spectral_gaps.b"]


def test_markdown_has_a_table_per_paper(tmp_path):
    report = write_report(
        [
            _result("constrained_mixing.a", measured={"x": 1.23456789}),
            _result("spectral_gaps.b", paper="spectral_gaps", verdict="fail"),
        ],
        "quick",
        tmp_path,
        merge=False,
    )
    md = render_markdown(report)
    assert "## constrained_mixing" in md and "## spectral_gaps" in md
    assert "1 pass, 1 fail, 0 inconclusive" in md
    assert "| `constrained_mixing.a` | exact | **pass** | — | caught | 0.2 |" in md
    assert "| `spectral_gaps.b` | exact | **fail** | error < 1e-10 | caught | 0.2 |" in md
    assert "- Measured: x: 1.235" in md
    assert "| error < 1e-10 | 0.25 | < 1e-10 | **failed** |" in md
    assert "Negative controls caught: 2 of 2 run." in md
    assert (tmp_path / "validation.md").read_text() == md


def test_markdown_flags_a_control_that_passes(tmp_path):
    report = write_report(
        [_result("constrained_mixing.a", caught=False)], "quick", tmp_path, merge=False
    )
    md = render_markdown(report)
    assert "**not caught** (pass)" in md and "Negative controls caught: 0 of 1 run." in md


def test_merge_with_a_report_of_the_old_schema(tmp_path):
    """Entries written before checks and controls existed still render (a partial run merges them)."""
    old = {
        k: v
        for k, v in _result("constrained_mixing.a").items()
        if k not in ("checks", "control", "failed_checks", "inconclusive")
    }
    (tmp_path / "validation.json").write_text(
        json.dumps({"profile": "full", "git_revision": "x", "claims": [old]})
    )
    report = write_report(
        [_result("spectral_gaps.b", paper="spectral_gaps")], "full", tmp_path, merge=True
    )
    assert [c["id"] for c in report["claims"]] == ["constrained_mixing.a", "spectral_gaps.b"]
    assert "| `constrained_mixing.a` | exact | **pass** | — | not run |" in render_markdown(report)


def test_report_is_written_atomically(tmp_path):
    write_report([_result("constrained_mixing.a")], "quick", tmp_path, merge=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["validation.json", "validation.md"]


def test_temporaries_of_a_killed_write_are_removed_by_the_next(tmp_path):
    stale = tmp_path / ".validation.json.killed.tmp"  # what a kill -9 mid-write leaves
    young = tmp_path / ".validation.json.writing.tmp"  # a write that may be starting right now
    other = tmp_path / ".other.json.old.tmp"  # another file's: not this write's business
    for p in (stale, young, other):
        p.write_text("{")
    old = time.time() - 120
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    write_report([_result("constrained_mixing.a")], "quick", tmp_path, merge=False)
    assert not stale.exists()
    assert young.exists() and other.exists()


def test_sensitivity_table_marks_robust_verdicts():
    robust = _result("constrained_mixing.a")
    robust["readings"] = {"D1 c=0.5": "pass", "D4": "pass", "D2 relative": "inconclusive"}
    split = _result("constrained_mixing.b")
    split["readings"] = {"D1 c=0.5": "pass", "N1": "fail"}
    text = render_markdown(
        {"profile": "quick", "git_revision": "abc", "claims": [robust, split, _result("x.c", "x")]}
    )
    assert "| claim | D1 c=0.5 | D2 relative | D4 | N1 | robust |" in text
    assert "| `constrained_mixing.a` | pass | (not judged) | pass | — | **robust** (pass) |" in text
    assert "| `constrained_mixing.b` | pass | — | — | **fail** | no |" in text
    assert text.count("Sensitivity:") == 1  # only the paper whose claims report readings


def test_readings_are_checked():
    import pytest

    from compare.claim import Outcome, check
    from compare.readings import robust_verdict

    checks = [check("x", 0.0, "<", 1.0)]
    assert Outcome(1, 1, 1, checks, readings={"N2": "pass"}).readings == {"N2": "pass"}
    with pytest.raises(ValueError, match="unknown reading 'D9'"):
        Outcome(1, 1, 1, checks, readings={"D9": "pass"})
    with pytest.raises(ValueError, match="readings\\['N2'\\]"):
        Outcome(1, 1, 1, checks, readings={"N2": "ok"})
    assert robust_verdict({"N1": "fail", "N2": "fail"}) == "fail"
    assert robust_verdict({"N1": "inconclusive"}) is None


def test_crosswalk_table_gathers_the_rows_of_a_paper_section(tmp_path):
    from compare.crosswalk import crosswalk_row

    a = _result("spectral_gaps.a", paper="spectral_gaps")
    a["crosswalk"] = [
        crosswalk_row("t_M", "spectral_gaps", "phase_boundaries", 2e-15),
        crosswalk_row("t_M", "constrained_mixing", "staircase_steps", 0.0),
    ]
    b = _result("spectral_gaps.b", paper="spectral_gaps")
    b["crosswalk"] = [crosswalk_row("d − k", "rate_separation", "normal_stiffness", 1e-16)]
    report = write_report([_result("constrained_mixing.c"), a, b], "quick", tmp_path, merge=False)
    assert report["claims"][1]["crosswalk"] == a["crosswalk"]  # the JSON keeps the rows
    text = render_markdown(report)
    assert "| quantity | claim | constrained_mixing | spectral_gaps | rate_separation |" in text
    assert "| t_M | `a` | `staircase_steps` (0) | `phase_boundaries` (2e-15) | — |" in text
    assert "| d − k | `b` | — | — | `normal_stiffness` (1e-16) |" in text
    assert text.count("Crosswalk:") == 1  # only the section whose claims report rows
    assert (
        text.index("## spectral_gaps")
        < text.index("Crosswalk:")
        < text.index("### `spectral_gaps.a`")
    )


def test_crosswalk_rows_are_checked():
    import numpy as np
    import pytest

    from compare.claim import Outcome, check
    from compare.crosswalk import crosswalk_row

    checks = [check("x", 0.0, "<", 1.0)]
    row = crosswalk_row("q", "spectral_gaps", "phase", np.float64(1e-15))
    (kept,) = Outcome(1, 1, 1, checks, crosswalk=[row]).crosswalk
    assert kept == {**row, "max_disagreement": 1e-15} and type(kept["max_disagreement"]) is float
    bad = {
        "paper": ({**row, "paper": "no_such_paper"}, "\\['paper'\\] must be one of"),
        "negative": ({**row, "max_disagreement": -1.0}, "finite number >= 0"),
        "nan": ({**row, "max_disagreement": float("nan")}, "finite number >= 0"),
        "bool": ({**row, "max_disagreement": True}, "finite number >= 0"),
        "empty": ({**row, "closed_form": " "}, "\\['closed_form'\\] must be a non-empty string"),
        "keys": ({"quantity": "q"}, "must have the keys"),
    }
    for r, message in bad.values():
        with pytest.raises(ValueError, match=message):
            Outcome(1, 1, 1, checks, crosswalk=[r])
    with pytest.raises(ValueError, match="twice"):
        Outcome(1, 1, 1, checks, crosswalk=[row, row])
    with pytest.raises(ValueError, match="must be a list"):
        Outcome(1, 1, 1, checks, crosswalk=row)
