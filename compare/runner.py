"""Run claims under a profile, time them, write their figures and the report."""

from __future__ import annotations

import time
from pathlib import Path

from tqdm.auto import tqdm

from compare.claim import Claim, Context, Profile
from compare.report import write_report
from compare.style import save_figure

__all__ = ["SCRATCH", "make_profile", "run_claims"]

#: Where the quick profile writes (ignored by git); the full profile writes into the repository.
SCRATCH = Path(".scratch") / "quick"


def make_profile(name: str, root: Path | None = None) -> Profile:
    """``quick`` writes below ``.scratch/quick``, ``full`` below the working directory, unless ``root``."""
    if name not in ("quick", "full"):
        raise ValueError(f"profile must be 'quick' or 'full' (got {name!r})")
    if root is None:
        root = SCRATCH if name == "quick" else Path(".")
    return Profile(name=name, root=Path(root))


def run_claims(
    claims: list[Claim],
    profile: Profile,
    *,
    report: bool = True,
    figures: bool = True,
    progress: bool = True,
    merge: bool = False,
) -> list[dict]:
    """Run ``claims``; return one result dict per claim (the keys of the report).

    With ``merge`` the report keeps the entries of claims that were not rerun (a partial run).
    """
    results = []
    for c in tqdm(claims, desc=f"claims ({profile.name})", unit="claim", disable=not progress):
        start = time.perf_counter()
        outcome = c.run(Context(profile=profile, seed=c.seed, progress=progress))
        seconds = time.perf_counter() - start
        if figures:
            for fig in outcome.figures:
                save_figure(fig, c.paper, profile.figures_dir, seed=c.seed, profile=profile.name)
        results.append(
            {
                "id": c.id,
                "paper": c.paper,
                "kind": c.kind,
                "statement": c.statement,
                "source": c.source,
                "predicted": outcome.predicted,
                "measured": outcome.measured,
                "tolerance": outcome.tolerance,
                "verdict": outcome.verdict,
                "seed": c.seed,
                "seconds": seconds,
                "notes": outcome.notes,
            }
        )
        if progress:
            tqdm.write(f"{outcome.verdict:>12}  {c.id}  ({seconds:.1f} s)")
    if report:
        write_report(results, profile.name, profile.reports_dir, merge=merge)
    return results
