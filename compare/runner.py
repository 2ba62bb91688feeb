"""Run claims under a profile, time them, run their negative controls, write figures and the report."""

from __future__ import annotations

import time
from pathlib import Path

from tqdm.auto import tqdm

from compare.claim import Claim, Context, Outcome, Profile
from compare.report import write_report
from compare.style import save_figure

__all__ = ["SCRATCH", "make_profile", "run_claims", "run_control"]

#: Where the quick profile writes (ignored by git); the full profile writes into the repository.
SCRATCH = Path(".scratch") / "quick"


def make_profile(name: str, root: Path | None = None) -> Profile:
    """``quick`` writes below ``.scratch/quick``, ``full`` below the working directory, unless ``root``."""
    if name not in ("quick", "full"):
        raise ValueError(f"profile must be 'quick' or 'full' (got {name!r})")
    if root is None:
        root = SCRATCH if name == "quick" else Path(".")
    return Profile(name=name, root=Path(root))


def run_control(c: Claim, profile: Profile, *, progress: bool = False) -> dict:
    """Run ``c`` with its planted fault; the entry the report keeps under ``control``.

    ``caught`` is true when the claim fails under its control, as a correct validator must.
    """
    start = time.perf_counter()
    outcome = c.run(Context(profile=profile, seed=c.seed, progress=progress, control=True))
    return {
        "fault": c.control,
        "verdict": outcome.verdict,
        "caught": outcome.verdict == "fail",
        "failed_checks": outcome.failed,
        "seconds": time.perf_counter() - start,
    }


def _entry(c: Claim, outcome: Outcome, seconds: float) -> dict:
    return {
        "id": c.id,
        "paper": c.paper,
        "kind": c.kind,
        "statement": c.statement,
        "source": c.source,
        "predicted": outcome.predicted,
        "measured": outcome.measured,
        "tolerance": outcome.tolerance,
        "verdict": outcome.verdict,
        "failed_checks": outcome.failed,
        "inconclusive": outcome.inconclusive,
        "checks": [k.to_dict() for k in outcome.checks],
        "control": None,
        "seed": c.seed,
        "seconds": seconds,
        "notes": outcome.notes,
    }


def run_claims(
    claims: list[Claim],
    profile: Profile,
    *,
    report: bool = True,
    figures: bool = True,
    controls: bool = True,
    progress: bool = True,
    merge: bool = False,
) -> list[dict]:
    """Run ``claims`` (and, with ``controls``, each under its negative control); one dict per claim.

    With ``merge`` the report keeps the entries of claims that were not rerun (a partial run).
    """
    results = []
    for c in tqdm(claims, desc=f"claims ({profile.name})", unit="claim", disable=not progress):
        start = time.perf_counter()
        outcome = c.run(Context(profile=profile, seed=c.seed, progress=progress))
        entry = _entry(c, outcome, time.perf_counter() - start)
        if figures:
            for fig in outcome.figures:
                save_figure(fig, c.paper, profile.figures_dir, seed=c.seed, profile=profile.name)
        if controls:
            entry["control"] = run_control(c, profile)
        results.append(entry)
        if progress:
            failed = f"  failed: {', '.join(outcome.failed)}" if outcome.verdict == "fail" else ""
            control = ""
            if entry["control"] is not None:
                control = "  control caught" if entry["control"]["caught"] else "  CONTROL PASSED"
            tqdm.write(
                f"{outcome.verdict:>12}  {c.id}  ({entry['seconds']:.1f} s){control}{failed}"
            )
    if report:
        write_report(results, profile.name, profile.reports_dir, merge=merge)
    return results
