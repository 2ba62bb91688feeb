"""The validation report: ``validation.json`` (stable keys) and ``validation.md`` (a table per paper)."""

from __future__ import annotations

import json
from pathlib import Path

from compare.registry import PAPERS
from compare.style import git_revision, to_jsonable

__all__ = ["RESULT_KEYS", "load_results", "render_markdown", "write_report"]

#: The keys of every entry of ``claims`` in validation.json, in this order.
RESULT_KEYS = (
    "id",
    "paper",
    "kind",
    "statement",
    "source",
    "predicted",
    "measured",
    "tolerance",
    "verdict",
    "seed",
    "seconds",
    "notes",
)


def load_results(path: Path) -> list[dict]:
    """Claims of an existing report (empty if none), for merging partial runs."""
    path = Path(path)
    if not path.is_file():
        return []
    return json.loads(path.read_text()).get("claims", [])


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


def render_markdown(report: dict) -> str:
    """The report as Markdown: a header, a verdict count, then a table per paper."""
    claims = report["claims"]
    counts = {v: sum(r["verdict"] == v for r in claims) for v in ("pass", "fail", "inconclusive")}
    lines = [
        "# Validation report",
        "",
        f"Profile `{report['profile']}`, git revision `{report['git_revision']}`. "
        f"{len(claims)} claims: {counts['pass']} pass, {counts['fail']} fail, "
        f"{counts['inconclusive']} inconclusive.",
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
            "| claim | kind | predicted | measured | tolerance | verdict | s |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in rows:
            lines.append(
                f"| `{r['id']}` | {r['kind']} | {_cell(r['predicted'])} | {_cell(r['measured'])} | "
                f"{_cell(r['tolerance'])} | **{r['verdict']}** | {r['seconds']:.1f} |"
            )
        lines.append("")
        for r in rows:
            lines.append(f"- `{r['id']}`: {r['statement']} Source: {r['source']}.")
            if r.get("notes"):
                lines.append(f"  Notes: {r['notes']}")
        lines.append("")
    return "\n".join(lines)


def write_report(results: list[dict], profile: str, reports_dir: Path, *, merge: bool) -> dict:
    """Write validation.json and validation.md; with ``merge`` keep claims of earlier runs not rerun."""
    reports_dir = Path(reports_dir)
    reports_dir.mkdir(parents=True, exist_ok=True)
    json_path = reports_dir / "validation.json"
    claims = _merge(load_results(json_path), results) if merge else results
    claims = [{k: to_jsonable(r[k]) for k in RESULT_KEYS} for r in claims]
    report = {"profile": profile, "git_revision": git_revision(), "claims": claims}
    json_path.write_text(json.dumps(report, indent=1) + "\n")
    (reports_dir / "validation.md").write_text(render_markdown(report))
    return report
