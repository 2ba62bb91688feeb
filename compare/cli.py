"""Command line: ``python -m compare list | run | figures | bench``."""

from __future__ import annotations

import argparse
import sys

from compare.registry import PAPERS, all_claims, select
from compare.runner import make_profile, run_claims
from compare.workers import available_cores

__all__ = ["main"]


def _jobs(text: str) -> int:
    """``--jobs``: a whole number of worker processes, at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1 (got {text!r})") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1 (got {value})")
    return value


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m compare", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the registered claims")
    for name, text in (
        ("run", "run claims, write the report and their figures"),
        ("figures", "run the claims that draw figures and write only the figures"),
    ):
        c = sub.add_parser(name, help=text)
        c.add_argument("--paper", choices=sorted(PAPERS), help="only this paper's claims")
        if name == "run":
            c.add_argument("--claim", help="only the claim with this id")
            c.add_argument(
                "--strict", action="store_true", help="exit 1 if any claim does not pass"
            )
        c.add_argument("--profile", choices=("quick", "full"), default="quick")
        if name == "run":
            c.add_argument(
                "--no-controls",
                action="store_true",
                help="skip the negative controls (the report then says 'not run')",
            )
        c.add_argument(
            "--jobs",
            type=_jobs,
            default=len(available_cores()),
            help="worker processes, each with its share of the cores (default: the number of "
            "cores, here %(default)s); 1 runs in this process",
        )
        c.add_argument("--no-progress", action="store_true", help="no progress bars")
    b = sub.add_parser("bench", help="print training and Jacobian throughput")
    b.add_argument("--steps", type=int, default=10_000, help="training steps timed (default 10000)")
    b.add_argument(
        "--full",
        action="store_true",
        help="also time a full-profile run on the model cache (warm when it holds the full models)",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "list":
        for c in all_claims():
            print(f"{c.id:55s} {c.kind:8s} {c.statement}")
        return 0
    if args.command == "bench":
        from compare.bench import run_bench

        run_bench(steps=args.steps, full=args.full)
        return 0
    profile = make_profile(args.profile)
    claims = select(args.paper, getattr(args, "claim", None))
    partial = args.paper is not None or getattr(args, "claim", None) is not None
    figures_only = args.command == "figures"
    results = run_claims(
        claims,
        profile,
        report=not figures_only,
        figures=True,
        controls=not (figures_only or args.no_controls),
        progress=not args.no_progress,
        merge=partial,
        jobs=args.jobs,
    )
    failed = [r for r in results if r["verdict"] != "pass"]
    if not figures_only:
        print(
            f"{len(results) - len(failed)}/{len(results)} claims pass; report in {profile.reports_dir}"
        )
        for r in failed:
            why = {
                "fail": ", ".join(r["failed_checks"]),
                "error": r["error"],
                "inconclusive": r["inconclusive"],
            }[r["verdict"]]
            print(f"  {r['verdict']}: {r['id']}: {why}", file=sys.stderr)
        missed = [
            r["id"] for r in results if r["control"] is not None and not r["control"]["caught"]
        ]
        for cid in missed:
            print(f"  negative control not caught: {cid}", file=sys.stderr)
        return 1 if (args.strict and (failed or missed)) else 0
    return 0
