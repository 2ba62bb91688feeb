"""Running claims end to end through the CLI: the exact claims pass, outputs land in the profile's folder."""

import json

import pytest

from compare.cli import main
from compare.registry import select
from compare.runner import make_profile, run_claims


def test_make_profile():
    assert make_profile("quick").root.parts[0] == ".scratch"
    with pytest.raises(ValueError, match="profile"):
        make_profile("medium")


@pytest.mark.parametrize("claim_id", [c.id for c in select() if c.kind == "exact"])
def test_exact_claims_pass_at_quick(claim_id, tmp_path):
    (result,) = run_claims(
        select(claim_id=claim_id), make_profile("quick", tmp_path), progress=False
    )
    assert result["verdict"] == "pass", result["measured"]


@pytest.mark.slow
def test_quick_validate_end_to_end(tmp_path, monkeypatch, model_cache):
    """`python -m compare run --profile quick`: every claim, the report, the figures, then a cached rerun."""
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--profile", "quick", "--no-progress"]) == 0
    report = json.loads((tmp_path / ".scratch/quick/reports/validation.json").read_text())
    ids = {c["id"] for c in report["claims"]}
    assert ids == {c.id for c in select()}
    failing = {c["id"]: c["measured"] for c in report["claims"] if c["verdict"] == "fail"}
    assert failing == {}
    # only trained claims may be inconclusive at quick (too few steps to judge); exact ones must pass
    assert all(c["verdict"] == "pass" for c in report["claims"] if c["kind"] != "trained")
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
