"""Running claims end to end through the CLI: the exact claims pass, outputs land in the profile's folder."""

import json

import pytest

from compare.claim import Claim, Outcome, check
from compare.cli import main
from compare.registry import select
from compare.runner import make_profile


def test_make_profile():
    assert make_profile("quick").root.parts[0] == ".scratch"
    with pytest.raises(ValueError, match="profile"):
        make_profile("medium")


#: Claims that fail at quick, with the checks that fail: measured failures the report states (the
#: claim's notes say why); anything else failing, or one of these passing, is a change to look at.
KNOWN_QUICK_FAILURES = {
    # the note's T-B5 asks the ratio to rise at every step as t falls; on the seed-0 training set it
    # dips between t = 0.1 and 0.01 (sample moments dominate there), while its limit k holds
    "manifold_detection.generalisation_energy": ["ratio increases as t falls (steps that rise)"],
}


@pytest.mark.slow
def test_quick_validate_end_to_end(tmp_path, monkeypatch, model_cache):
    """`python -m compare run --profile quick`: every claim, the report, the figures, then a cached rerun.

    This is where every claim is held, at quick, to its verdict (the exact ones pass) and to its
    control (caught), in one run: a test per claim would run each claim a second time."""
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--profile", "quick", "--no-progress"]) == 0
    report = json.loads((tmp_path / ".scratch/quick/reports/validation.json").read_text())
    ids = {c["id"] for c in report["claims"]}
    assert ids == {c.id for c in select()}
    failing = {c["id"]: c["failed_checks"] for c in report["claims"] if c["verdict"] == "fail"}
    assert failing == KNOWN_QUICK_FAILURES
    # every claim ran under its negative control and failed there, trained ones with full thresholds
    missed = {c["id"]: c["control"] for c in report["claims"] if not c["control"]["caught"]}
    assert missed == {}
    for c in report["claims"]:
        assert c["checks"] and all(
            {"name", "value", "threshold", "held"} == set(k) for k in c["checks"]
        )
        if c["verdict"] == "inconclusive":
            assert "too short to judge" in c["inconclusive"]
    # only trained claims may be inconclusive at quick (too few steps to judge); exact ones must pass
    assert all(
        c["verdict"] == "pass"
        for c in report["claims"]
        if c["kind"] != "trained" and c["id"] not in KNOWN_QUICK_FAILURES
    )
    for name in ("local_dimension_staircase", "singular_values_vs_sigma"):
        png = tmp_path / ".scratch/quick/figures/constrained_mixing" / f"{name}.png"
        sidecar = json.loads(png.with_suffix(".json").read_text())
        assert png.stat().st_size > 10_000
        assert {"profile", "seed", "git_revision", "config", "data"} <= set(sidecar)
    assert not (tmp_path / "reports").exists()  # quick never writes the committed outputs
    # a second run trains nothing: every model comes from the cache
    n_models = len(list(model_cache.glob("*.npz")))
    assert (
        main(["run", "--profile", "quick", "--no-progress", "--paper", "constrained_mixing"]) == 0
    )
    assert len(list(model_cache.glob("*.npz"))) == n_models
    rerun = json.loads((tmp_path / ".scratch/quick/reports/validation.json").read_text())["claims"]
    notes = {c["id"]: c["notes"] for c in rerun}
    assert "cache hit" in notes["constrained_mixing.normal_stiffness"]


def test_cli_list(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "spectral_gaps.linear_spectrum" in out


def _fake_claim(measured_error: float, control_error: float) -> Claim:
    def run(ctx):
        err = control_error if ctx.control else measured_error
        return Outcome(0, err, 1e-10, checks=[check("error", err, "<", 1e-10)])

    return Claim(
        id="spectral_gaps.fake",
        paper="spectral_gaps",
        kind="exact",
        statement="s",
        source="s",
        control="the prediction scaled by 1.05",
        run=run,
    )


def test_cli_summary_names_the_failing_checks(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("compare.cli.select", lambda *a: [_fake_claim(0.5, 0.5)])
    assert main(["run", "--no-progress", "--strict"]) == 1
    err = capsys.readouterr().err
    assert "fail: spectral_gaps.fake: error" in err
    assert "negative control not caught" not in err


def test_cli_flags_a_control_that_passes(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("compare.cli.select", lambda *a: [_fake_claim(0.0, 0.0)])
    assert main(["run", "--no-progress"]) == 0
    assert main(["run", "--no-progress", "--strict"]) == 1
    assert "negative control not caught: spectral_gaps.fake" in capsys.readouterr().err
    report = json.loads((tmp_path / ".scratch/quick/reports/validation.json").read_text())
    assert report["claims"][0]["control"]["caught"] is False
