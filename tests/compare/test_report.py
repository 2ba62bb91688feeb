"""The report: stable JSON keys, merging partial runs, the Markdown tables."""

import json

from compare.report import RESULT_KEYS, render_markdown, write_report


def _result(cid, paper="constrained_mixing", verdict="pass", measured=0.5):
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
        "seed": 0,
        "seconds": 0.25,
        "notes": "",
    }


def test_json_schema(tmp_path):
    report = write_report([_result("constrained_mixing.a")], "quick", tmp_path, merge=False)
    on_disk = json.loads((tmp_path / "validation.json").read_text())
    assert on_disk == report
    assert set(on_disk) == {"profile", "git_revision", "claims"}
    assert tuple(on_disk["claims"][0]) == RESULT_KEYS


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
    assert "| `constrained_mixing.a` | exact | 0.5 | x: 1.235 | 1e-10 | **pass** |" in md
    assert (tmp_path / "validation.md").read_text() == md
