"""The command line: one-line errors with near matches, ``--outdir``, ``--seed``, ``--json``,
``figures``, a damaged report rebuilt by a partial run, and a report that survives ``kill -9``."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from compare.claim import Claim, FigureSpec, Outcome, check
from compare.cli import main
from compare.registry import PAPERS, select
from compare.report import HEADER_KEYS, load_report, render_markdown

REPO = Path(__file__).resolve().parents[2]
# two of the fastest exact claims
FAST = "spectral_gaps.log_symmetry"
FAST_TOO = "score_smoothing.esf_formula"
QUICK = ("--profile", "quick", "--jobs", "1", "--no-progress")


def _cli(capsys, *argv) -> tuple[int, str, str]:
    """Exit status, stdout and stderr of ``python -m compare *argv`` (run in this process)."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["run", "--claim", "nope"], ["claim 'nope' is not registered", "compare list"]),
        (["run", "--claim", "spectral_gaps.log_symetry"], ["did you mean " + FAST]),
        (["run", "--claim", "n_point"], ["did you mean score_smoothing.n_point"]),
        (
            ["run", "--paper", "spectral_gaps", "--claim", "score_smoothing.n_point"],
            ["score_smoothing.n_point is not a claim of paper spectral_gaps"],
        ),
        (["run", "--paper", "spectral_gap"], ["'spectral_gap'", "did you mean spectral_gaps"]),
        (["run", "--paper", "claimless"], ["claimless has no claims"]),
        (["figures", "--paper", "claimless"], ["claimless has no claims"]),
        (["figures", "--claim", FAST], [FAST, "draws no figure"]),
        (["run", "--jobs", "0"], ["--jobs", "got 0"]),
        (["run", "--seed", "-1"], ["--seed", "got -1"]),
        (["run", "--seed", "one"], ["--seed", "'one'"]),
        (["run", "--profile", "medium"], ["'medium'"]),
        (["bench", "--steps", "-5"], ["--steps", "'-5'"]),
        (["bench", "--steps", "2500"], ["--steps", "'2500'"]),
    ],
)
def test_a_mistake_is_one_line_on_stderr_and_exit_2(argv, said, capsys, monkeypatch):
    monkeypatch.setitem(PAPERS, "claimless", "a paper registered without claims")
    code, out, err = _cli(capsys, *argv)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    for text in said:
        assert text in err


def test_an_outdir_that_is_a_file_is_a_mistake(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    code, _, err = _cli(capsys, "run", "--claim", FAST, "--outdir", tmp_path / "file")
    assert code == 2 and len(err.splitlines()) == 1 and "is a file" in err


def test_run_json_is_the_report_and_says_where_the_code_is(tmp_path, capsys):
    code, out, err = _cli(capsys, "run", "--claim", FAST, *QUICK, "--outdir", tmp_path, "--json")
    assert code == 0
    report = json.loads(out)  # stdout holds the JSON alone
    assert report == json.loads((tmp_path / "reports" / "validation.json").read_text())
    assert tuple(report) == HEADER_KEYS and report["seed"] == 0
    assert report["versions"]["numpy"] == np.__version__  # the library this run imported
    (entry,) = report["claims"]
    assert (entry["id"], entry["verdict"], entry["figures"]) == (FAST, "pass", [])
    path, line = re.fullmatch(r"(compare/claims/spectral_gaps\.py):(\d+)", entry["code"]).groups()
    assert (REPO / path).read_text().splitlines()[int(line) - 1].startswith("def log_symmetry(")
    assert "1/1 claims pass" in err and str(tmp_path / "reports") in err
    assert "base seed 0" in (tmp_path / "reports" / "validation.md").read_text()


def test_list_json(capsys):
    code, out, _ = _cli(capsys, "list", "--json")
    rows = {r["id"]: r for r in json.loads(out)}
    assert code == 0 and set(rows) == {c.id for c in select()}
    assert rows["spectral_gaps.intermediate_gap"]["figures"] == [
        "gaps_and_phases",
        "spectra_across_t",
    ]


def _draw(fig, data):
    fig.add_subplot().plot(data["x"])


def _fake(name: str, *, seed: int = 3, draws: tuple[str, ...] = (), declares=None) -> Claim:
    """A sampled claim measuring the mean of 100 normal draws at ``ctx.seed``; draws ``draws``."""

    def run(ctx):
        value = float(np.random.default_rng(ctx.seed).standard_normal(100).mean())
        if ctx.control:
            value += 10.0
        figures = [FigureSpec(name=f, draw=_draw, data={"x": [0.0, value]}) for f in draws]
        return Outcome(0.0, value, 1.0, [check("mean", abs(value), "<", 1.0)], figures=figures)

    return Claim(
        id=f"spectral_gaps.{name}",
        paper="spectral_gaps",
        kind="sampled",
        statement="s",
        source="s",
        control="offset by 10",
        run=run,
        seed=seed,
        figures=draws if declares is None else declares,
    )


def _use(monkeypatch, *claims):
    monkeypatch.setattr("compare.cli.select", lambda *a: list(claims))


@pytest.mark.parametrize(
    "damage",
    [
        "",  # killed before the atomic write existed: a 0-byte file
        '{"profile": "quick", "claims": [{"id": "spectral_gaps.fa',  # truncated
        "[1, 2]",
        '{"claims": [{"id": 1, "paper": "spectral_gaps", "verdict": "pass"}]}',
        b"\xff\xfe\x00",
    ],
)
def test_a_damaged_report_is_named_and_rebuilt_by_a_partial_run(
    damage, tmp_path, monkeypatch, capsys
):
    _use(monkeypatch, _fake("fake"))
    reports = tmp_path / "reports"
    reports.mkdir()
    path = reports / "validation.json"
    path.write_bytes(damage if isinstance(damage, bytes) else damage.encode())
    code, _, err = _cli(
        capsys, "run", "--claim", "spectral_gaps.fake", *QUICK, "--outdir", tmp_path
    )
    assert code == 0
    (warning,) = [line for line in err.splitlines() if "damaged" in line]
    assert warning.startswith("warning: ") and str(path) in warning
    assert [c["id"] for c in load_report(path)["claims"]] == ["spectral_gaps.fake"]


def test_a_partial_run_merges_into_the_report(tmp_path, capsys):
    for cid in (FAST, FAST_TOO):
        code, _, err = _cli(capsys, "run", "--claim", cid, *QUICK, "--outdir", tmp_path)
        assert code == 0 and "damaged" not in err
    report = load_report(tmp_path / "reports" / "validation.json")
    assert [c["id"] for c in report["claims"]] == [FAST, FAST_TOO]
    assert all(c["verdict"] == "pass" for c in report["claims"])


def _measured(tmp_path, capsys, *seed) -> dict:
    code, out, _ = _cli(capsys, "run", *QUICK, "--outdir", tmp_path, "--json", *seed)
    assert code == 0
    return json.loads(out)


def test_seed_shifts_every_claims_seed_and_zero_keeps_the_registered_one(
    tmp_path, monkeypatch, capsys
):
    _use(monkeypatch, _fake("fake", seed=3))
    default = _measured(tmp_path / "default", capsys)
    (entry,) = default["claims"]
    registered = float(np.random.default_rng(3).standard_normal(100).mean())
    assert (default["seed"], entry["seed"], entry["base_seed"]) == (0, 3, 0)
    assert entry["measured"] == registered  # bit for bit: the seed the claim registered
    shifted = _measured(tmp_path / "five", capsys, "--seed", "5")
    (moved,) = shifted["claims"]
    assert (shifted["seed"], moved["seed"], moved["base_seed"]) == (5, 8, 5)
    assert moved["measured"] == float(np.random.default_rng(8).standard_normal(100).mean())
    assert moved["measured"] != registered
    assert (
        _measured(tmp_path / "again", capsys, "--seed", "5")["claims"][0]["measured"]
        == (moved["measured"])
    )
    assert "base seed 5" in (tmp_path / "five" / "reports" / "validation.md").read_text()


def test_figures_runs_only_drawing_claims_and_prints_each_file(tmp_path, monkeypatch, capsys):
    drawing = _fake("draws", draws=("fake_figure",))
    silent = _fake("silent", draws=())
    _use(monkeypatch, silent, drawing)
    code, out, err = _cli(capsys, "figures", *QUICK, "--outdir", tmp_path)
    png = tmp_path / "figures" / "spectral_gaps" / "fake_figure.png"
    assert code == 0 and out.splitlines() == [str(png), str(png.with_suffix(".json"))]
    assert "silent" not in out + err
    assert png.stat().st_size > 1000 and not (tmp_path / "reports").exists()
    sidecar = json.loads(png.with_suffix(".json").read_text())
    assert (sidecar["claim"], sidecar["verdict"], sidecar["seed"]) == (
        "spectral_gaps.draws",
        "pass",
        3,
    )
    code, out, _ = _cli(capsys, "figures", *QUICK, "--outdir", tmp_path, "--json", "--seed", "1")
    drawn = json.loads(out)
    assert code == 0 and drawn["seed"] == 1
    assert drawn["claims"] == [
        {
            "id": "spectral_gaps.draws",
            "verdict": "pass",
            "figures": ["figures/spectral_gaps/fake_figure.png"],
            "error": "",
        }
    ]


def test_the_report_lists_the_figures_a_claim_drew(tmp_path, monkeypatch, capsys):
    _use(monkeypatch, _fake("draws", draws=("fake_figure",)))
    code, out, _ = _cli(capsys, "run", *QUICK, "--outdir", tmp_path, "--json")
    (entry,) = json.loads(out)["claims"]
    assert code == 0 and entry["figures"] == ["figures/spectral_gaps/fake_figure.png"]
    assert (tmp_path / entry["figures"][0]).is_file()
    md = (tmp_path / "reports" / "validation.md").read_text()
    assert (
        "- Figures: [figures/spectral_gaps/fake_figure.png](../figures/spectral_gaps/fake_figure.png)"
        in md
    )


def test_an_undeclared_figure_is_an_error_of_its_claim(tmp_path, monkeypatch, capsys):
    _use(monkeypatch, _fake("draws", draws=("fake_figure",), declares=("other",)))
    code, out, err = _cli(capsys, "run", *QUICK, "--outdir", tmp_path, "--json", "--strict")
    (entry,) = json.loads(out)["claims"]
    assert code == 1 and "error: spectral_gaps.draws" in err
    assert entry["verdict"] == "error" and "fake_figure" in entry["error"]
    assert not (tmp_path / "figures").exists()


# Writes the report in a loop in a forked child and kills it (SIGKILL) at random moments; each try
# in its own folder. The report is large (about 8 MB of JSON) so that most kills land in a write.
_KILL = r"""
import os, random, signal, sys, time
from pathlib import Path
import compare.report as report
report.git_revision = lambda: "abc1234"  # no subprocess in the loop: only the writing is timed
report.library_versions = lambda: {"python": "3"}
root, tries = Path(sys.argv[1]), int(sys.argv[2])
entry = {"paper": "spectral_gaps", "kind": "exact", "statement": "s", "source": "s",
         "verdict": "pass", "seconds": 0.1, "notes": "n" * 200_000}
claims = [{**entry, "id": f"spectral_gaps.c{i}"} for i in range(20)]
rng = random.Random(0)
for k in range(tries):
    out = root / str(k)
    out.mkdir()
    pid = os.fork()
    if pid == 0:
        while True:
            report.write_report(claims, "quick", out, merge=False)
    time.sleep(rng.uniform(0.02, 0.4))
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_kill_9_during_the_report_write_leaves_no_partial_file(tmp_path):
    tries = 10
    run = subprocess.run(
        [sys.executable, "-c", _KILL, str(tmp_path), str(tries)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    written = 0
    for k in range(tries):
        json_path, md_path = (
            tmp_path / str(k) / "validation.json",
            tmp_path / str(k) / "validation.md",
        )
        expected_md = None  # the Markdown is written after the JSON, from the same report
        if json_path.exists():
            report = load_report(json_path)  # raises on a partial file
            assert len(report["claims"]) == 20 and report["claims"][-1]["notes"] == "n" * 200_000
            expected_md = render_markdown(report)
            written += 1
        if md_path.exists():
            assert expected_md is not None and md_path.read_text() == expected_md
    assert written >= tries // 2  # most children got through a first write before the kill
