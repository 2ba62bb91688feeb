"""The validation report: ``validation.json`` (stable keys) and ``validation.md`` (a table per paper).

The header holds the profile, the base seed, the git revision and the versions of the package, Python
and the numerical libraries. Each claim's entry holds the file and line of its ``run`` function, its
named checks (value, threshold, held), the names of those that failed, the reason a run was not
judged (``inconclusive``), its negative control (the planted fault, the verdict under it and whether
it was caught) and the figures it drew (relative to the output folder). Claims where several papers'
closed forms meet also list ``crosswalk`` rows (:mod:`compare.crosswalk`), which the Markdown
gathers into one table per paper section: quantity × paper, each cell the closed form and its
largest disagreement.
"""

from __future__ import annotations

import importlib.metadata
import json
import platform
import sys
from pathlib import Path

from compare.claim import VERDICTS
from compare.readings import READINGS, robust_verdict
from compare.registry import PAPERS
from compare.style import git_revision, to_jsonable, write_atomic

__all__ = [
    "HEADER_KEYS",
    "RESULT_KEYS",
    "DamagedReportError",
    "library_versions",
    "load_report",
    "load_results",
    "render_markdown",
    "write_report",
]

#: The keys of validation.json, in this order.
HEADER_KEYS = ("profile", "seed", "git_revision", "versions", "claims")

#: Distributions whose versions the report records (besides Python's).
_DISTRIBUTIONS = ("score-geometry-validator", "numpy", "scipy", "jax", "jaxlib", "equinox", "optax")

#: The keys of every entry of ``claims`` in validation.json, in this order.
RESULT_KEYS = (
    "id",
    "paper",
    "kind",
    "statement",
    "source",
    "code",
    "predicted",
    "measured",
    "tolerance",
    "verdict",
    "failed_checks",
    "inconclusive",
    "checks",
    "readings",
    "crosswalk",
    "control",
    "seed",
    "base_seed",
    "seconds",
    "trainings",
    "training_seconds",
    "error",
    "notes",
    "figures",
)


class DamagedReportError(ValueError):
    """A validation.json on disk that does not parse or lacks the report's structure."""


def library_versions() -> dict[str, str]:
    """Versions of Python, this package and the numerical libraries (``not installed`` if absent)."""
    versions = {"python": platform.python_version()}
    for name in _DISTRIBUTIONS:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def load_report(path: Path) -> dict | None:
    """The report at ``path`` (``None`` if there is none); :class:`DamagedReportError` naming the
    file and what is wrong when it does not parse or an entry lacks ``id``, ``paper`` or a verdict."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        report = json.loads(path.read_bytes())
    except ValueError as error:  # JSONDecodeError, UnicodeDecodeError
        raise DamagedReportError(f"{path} is damaged ({error})") from None
    claims = report.get("claims") if isinstance(report, dict) else None
    if not isinstance(claims, list):
        raise DamagedReportError(f"{path} is damaged (no list of claims)")
    for r in claims:
        if not (
            isinstance(r, dict)
            and isinstance(r.get("id"), str)
            and isinstance(r.get("paper"), str)
            and r.get("verdict") in VERDICTS
        ):
            raise DamagedReportError(f"{path} is damaged (an entry without id, paper or verdict)")
    return report


def load_results(path: Path) -> list[dict]:
    """Claims of an existing report (empty if none), for merging partial runs;
    :class:`DamagedReportError` for a report that does not parse."""
    report = load_report(path)
    return [] if report is None else report["claims"]


def _merge(old: list[dict], new: list[dict]) -> list[dict]:
    fresh = {r["id"]: r for r in new}
    merged = [fresh.pop(r["id"], r) for r in old]
    merged += list(fresh.values())
    order = {p: i for i, p in enumerate(PAPERS)}
    return sorted(merged, key=lambda r: order.get(r["paper"], len(order)))


def _cell(value) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_cell(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "[" + ", ".join(_cell(v) for v in value) + "]"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def _seconds(value) -> str:
    return f"{value:.1f}" if isinstance(value, int | float) else "—"


def _control_cell(control) -> str:
    if control is None:
        return "not run"
    return "caught" if control["caught"] else f"**not caught** ({control['verdict']})"


def _claim_section(r: dict) -> list[str]:
    lines = [
        f"### `{r['id']}`: **{r['verdict']}**",
        "",
        f"{r['statement']} Source: {r['source']}.",
        "",
    ]
    if r.get("code"):
        lines.append(f"- Code: `{r['code']}`")
    lines += [
        f"- Predicted: {_cell(r['predicted'])}",
        f"- Measured: {_cell(r['measured'])}",
        f"- Tolerance: {_cell(r['tolerance'])}",
    ]
    if r.get("inconclusive"):
        lines.append(f"- Not judged: {r['inconclusive']}")
    if r.get("error"):
        lines.append(f"- Error (nothing judged): {_cell(r['error'])}")
    trainings = r.get("trainings") or []
    if trainings:
        misses = sum(t["cache"] != "hit" for t in trainings)
        lines.append(
            f"- Training: {len(trainings)} network(s), {misses} trained in this run "
            f"({r.get('training_seconds', 0.0):.0f} s), the rest from the cache"
        )
    control = r.get("control")
    if control is not None:
        failed = ", ".join(control["failed_checks"]) or "none"
        lines.append(
            f"- Negative control: {control['fault']} → {control['verdict']} "
            f"({'caught' if control['caught'] else 'NOT caught'}; failed checks: {_cell(failed)})"
        )
    if r.get("notes"):
        lines.append(f"- Notes: {_cell(r['notes'])}")
    if r.get("figures"):
        # figures/ and reports/ sit side by side in the output folder
        links = ", ".join(f"[{f}](../{f})" for f in r["figures"])
        lines.append(f"- Figures: {links}")
    held = {True: "held", False: "**failed**"}
    if r.get("inconclusive"):
        held = {True: "held (not judged)", False: "failed (not judged)"}
    lines += ["", "| check | measured | threshold | |", "|---|---|---|---|"]
    for k in r.get("checks") or []:
        lines.append(
            f"| {_cell(k['name'])} | {_cell(k['value'])} | {_cell(k['threshold'])} | {held[k['held']]} |"
        )
    return [*lines, ""]


def _sensitivity_table(rows: list[dict]) -> list[str]:
    """Claim × reading → verdict for the claims that report readings; the robust ones marked."""
    rows = [r for r in rows if r.get("readings")]
    if not rows:
        return []
    used = [k for k in READINGS if any(k in r["readings"] for r in rows)]
    mark = {"pass": "pass", "fail": "**fail**", "inconclusive": "(not judged)"}
    lines = [
        "Sensitivity: each claim's verdict under every reading of the definitions the paper leaves "
        "open (paper000 §2; — : the reading does not apply). Robust: every reading the claim applies "
        "gives the same verdict.",
        "",
        "| claim | " + " | ".join(used) + " | robust |",
        "|---|" + "---|" * len(used) + "---|",
    ]
    for r in rows:
        cells = [mark[r["readings"][k]] if k in r["readings"] else "—" for k in used]
        robust = robust_verdict(r["readings"])
        lines.append(
            f"| `{r['id']}` | "
            + " | ".join(cells)
            + f" | {'**robust** (' + robust + ')' if robust else 'no'} |"
        )
    return [*lines, ""]


def _crosswalk_table(rows: list[dict]) -> list[str]:
    """Quantity × paper → the paper's closed form and its largest disagreement, for the claims that
    report crosswalk rows (first appearance sets the order of the quantities)."""
    cells: dict[tuple[str, str], dict] = {}
    owner: dict[str, str] = {}
    for r in rows:
        for row in r.get("crosswalk") or []:
            cells[row["quantity"], row["paper"]] = row
            owner.setdefault(row["quantity"], r["id"].split(".", 1)[-1])
    if not cells:
        return []
    present = {paper for _, paper in cells}
    papers = [p for p in PAPERS if p in present] + sorted(present - set(PAPERS))
    lines = [
        "Crosswalk: where the papers' predictions meet, the closed form each paper computes the "
        "quantity with and its largest disagreement with the quantity's reference over every case "
        "the claim ran (relative, unless the quantity counts mismatches; — : the paper has no "
        "closed form for it).",
        "",
        "| quantity | claim | " + " | ".join(papers) + " |",
        "|---|---|" + "---|" * len(papers),
    ]
    for quantity, claim_name in owner.items():
        row = [
            f"`{c['closed_form']}` ({c['max_disagreement']:.2g})"
            if (c := cells.get((quantity, p)))
            else "—"
            for p in papers
        ]
        lines.append(f"| {_cell(quantity)} | `{claim_name}` | " + " | ".join(row) + " |")
    return [*lines, ""]


def render_markdown(report: dict) -> str:
    """The report as Markdown: a header, a verdict count, a table per paper, then each claim's checks."""
    claims = report["claims"]
    counts = {v: sum(r["verdict"] == v for r in claims) for v in VERDICTS}
    controls = [r["control"] for r in claims if r.get("control") is not None]
    seed = report.get("seed", 0)
    versions = report.get("versions") or {}
    lines = [
        "# Validation report",
        "",
        f"Profile `{report['profile']}`, base seed {seed} (added to each claim's own seed), git "
        f"revision `{report['git_revision']}`. "
        f"{len(claims)} claims: {counts['pass']} pass, {counts['fail']} fail, "
        f"{counts['inconclusive']} inconclusive, {counts['error']} error. Negative controls caught: "
        f"{sum(c['caught'] for c in controls)} of {len(controls)} run.",
        "",
    ]
    if versions:
        lines += ["Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()) + ".", ""]
    other = [r for r in claims if (r.get("base_seed") or 0) != seed]
    if other:
        kept = ", ".join(f"`{r['id']}` ({r.get('base_seed') or 0})" for r in other)
        lines += [f"Kept from runs with another base seed: {kept}.", ""]
    lines += [
        "`pass`: every named check held. `fail`: at least one did not (named below). `inconclusive`: "
        "the run is too small to judge (trained claims at `quick`). `error`: the claim raised; "
        "nothing was judged. Each claim also runs under its "
        "negative control, a planted fault it must catch by failing.",
        "",
    ]
    for paper, title in PAPERS.items():
        rows = [r for r in claims if r["paper"] == paper]
        if not rows:
            continue
        lines += [
            f"## {paper}",
            "",
            f"_{title}_",
            "",
            "| claim | kind | verdict | failed checks | control | s |",
            "|---|---|---|---|---|---|",
        ]
        for r in rows:
            lines.append(
                f"| `{r['id']}` | {r['kind']} | **{r['verdict']}** | "
                f"{_cell(', '.join(r.get('failed_checks') or [])) or '—'} | {_control_cell(r.get('control'))} | "
                f"{_seconds(r.get('seconds'))} |"
            )
        lines.append("")
        lines += _sensitivity_table(rows)
        lines += _crosswalk_table(rows)
        for r in rows:
            lines += _claim_section(r)
    return "\n".join(lines)


def write_report(
    results: list[dict], profile: str, reports_dir: Path, *, merge: bool, seed: int = 0
) -> dict:
    """Write validation.json and validation.md; with ``merge`` keep claims of earlier runs not rerun.

    ``seed`` is the run's base seed, stated in the header. A damaged validation.json met while
    merging is named in one line on stderr and replaced by a report of ``results`` alone.
    """
    reports_dir = Path(reports_dir)
    reports_dir.mkdir(parents=True, exist_ok=True)
    json_path = reports_dir / "validation.json"
    claims = results
    if merge:
        try:
            claims = _merge(load_results(json_path), results)
        except DamagedReportError as error:
            print(f"warning: {error}; rebuilt from this run's claims only", file=sys.stderr)
    claims = [{k: to_jsonable(r.get(k)) for k in RESULT_KEYS} for r in claims]
    report = {
        "profile": profile,
        "seed": seed,
        "git_revision": git_revision(),
        "versions": library_versions(),
        "claims": claims,
    }
    write_atomic(json_path, json.dumps(report, indent=1) + "\n")
    write_atomic(reports_dir / "validation.md", render_markdown(report))
    return report
