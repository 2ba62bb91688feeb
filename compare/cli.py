"""Command line: ``python -m compare list | run | figures | bench``.

A mistake in the arguments (an unknown paper or claim id, a claim outside the chosen paper, a
selection without claims, a number out of range) ends in one line on stderr that names the value
and the nearest valid names, with exit status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path

from compare.registry import PAPERS, all_claims, select
from compare.report import load_report
from compare.runner import MAX_SEED, SCRATCH, make_profile, run_claims
from compare.workers import available_cores

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``python -m compare run: error: ... (see ... --help)``."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _whole(low: int, high: int | None = None):
    """An argparse type: a whole number in ``[low, high]``."""
    allowed = f">= {low}" if high is None else f"in [{low}, {high}]"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be a whole number {allowed} (got {text!r})"
            ) from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"must be a whole number {allowed} (got {value})")
        return value

    return parse


def _bench_steps(text: str) -> int:
    """``bench --steps``: the rule of :func:`compare.bench.check_steps`."""
    from compare.bench import check_steps

    try:
        return check_steps(int(text))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a whole multiple of 1000, at least 2000 (got {text!r})"
        ) from None


def _parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The parser and its subcommands' parsers (for errors found after parsing)."""
    p = _Parser(prog="python -m compare", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    commands = {}
    c = commands["list"] = sub.add_parser("list", help="list the registered claims")
    c.add_argument("--json", action="store_true", help="print the claims as JSON")
    for name, text in (
        ("run", "run claims, write the report and their figures"),
        ("figures", "run the claims that draw figures and write only the figures"),
    ):
        c = commands[name] = sub.add_parser(name, help=text, description=text)
        c.add_argument("--paper", help=f"only this paper's claims (one of: {', '.join(PAPERS)})")
        c.add_argument("--claim", help="only the claim with this id (see `python -m compare list`)")
        if name == "run":
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
            type=_whole(1),
            default=len(available_cores()),
            help="worker processes, each with its share of the cores (default: the number of "
            "cores, here %(default)s); 1 runs in this process",
        )
        c.add_argument(
            "--outdir",
            type=Path,
            help=f"write reports/ and figures/ below this folder (default: {SCRATCH} for the "
            "quick profile, the working directory for full)",
        )
        c.add_argument(
            "--seed",
            type=_whole(0, MAX_SEED),
            default=0,
            help="base seed, added to every claim's own seed (default 0: the registered seeds, "
            "the committed numbers); a trained claim then trains its networks anew",
        )
        c.add_argument(
            "--json",
            action="store_true",
            help="print the report (figures: the files written) as JSON on stdout; the other "
            "lines go to stderr",
        )
        c.add_argument("--no-progress", action="store_true", help="no progress bars")
    b = commands["bench"] = sub.add_parser("bench", help="print training and Jacobian throughput")
    b.add_argument(
        "--steps",
        type=_bench_steps,
        default=10_000,
        help="training steps timed, a multiple of 1000, at least 2000 (default 10000)",
    )
    b.add_argument(
        "--full",
        action="store_true",
        help="time the full-profile run even where it has to train (by default it is timed only "
        "when the model cache holds every full-profile model)",
    )
    return p, commands


def _list(as_json: bool) -> int:
    claims = all_claims()
    if as_json:
        keys = ("id", "paper", "kind", "statement", "source", "control", "seed", "figures")
        rows = [{**{k: getattr(c, k) for k in keys}, "code": c.code} for c in claims]
        print(json.dumps(rows, indent=1))
        return 0
    for c in claims:
        print(f"{c.id:55s} {c.kind:8s} {c.statement}")
    return 0


def _select(args, parser: argparse.ArgumentParser) -> list:
    """The claims ``args`` choose (for ``figures``, those that draw); a one-line error otherwise."""
    try:
        claims = select(args.paper, args.claim)
    except ValueError as error:
        parser.error(str(error))
    if args.command == "figures":
        drawing = [c for c in claims if c.figures]
        if not drawing:
            where = f"claim {args.claim}" if args.claim else f"paper {args.paper}"
            parser.error(
                f"{where} draws no figure (claims that draw: "
                f"{', '.join(c.id for c in all_claims() if c.figures)})"
            )
        claims = drawing
    return claims


def _run_summary(results: list[dict], reports_dir: Path, out) -> bool:
    """Print the verdict count and what did not pass; whether everything passed and was caught."""
    failed = [r for r in results if r["verdict"] != "pass"]
    print(
        f"{len(results) - len(failed)}/{len(results)} claims pass; report in "
        f"{reports_dir / 'validation.md'} and validation.json",
        file=out,
    )
    for r in failed:
        why = {
            "fail": ", ".join(r["failed_checks"]),
            "error": r["error"],
            "inconclusive": r["inconclusive"],
        }[r["verdict"]]
        print(f"  {r['verdict']}: {r['id']}: {why}", file=sys.stderr)
    missed = [r["id"] for r in results if r["control"] is not None and not r["control"]["caught"]]
    for cid in missed:
        print(f"  negative control not caught: {cid}", file=sys.stderr)
    return not (failed or missed)


def _figures_summary(results: list[dict], root: Path, out) -> bool:
    """Print every file written (PNG and sidecar); whether every claim drew."""
    for r in results:
        for f in r["figures"]:
            png = root / f
            print(f"{png}\n{png.with_suffix('.json')}", file=out)
        if r["verdict"] == "error":
            print(f"  error: {r['id']}: {r['error']} (its figures not drawn)", file=sys.stderr)
    return all(r["verdict"] != "error" for r in results)


def main(argv: list[str] | None = None) -> int:
    parser, commands = _parser()
    args = parser.parse_args(argv)
    if args.command == "list":
        return _list(args.json)
    if args.command == "bench":
        from compare.bench import run_bench

        run_bench(steps=args.steps, full=args.full)
        return 0
    command = commands[args.command]
    if args.outdir is not None and args.outdir.exists() and not args.outdir.is_dir():
        command.error(f"--outdir {args.outdir} is a file, not a folder")
    claims = _select(args, command)
    profile = make_profile(args.profile, args.outdir, seed=args.seed)
    figures_only = args.command == "figures"
    stdout = sys.stdout
    # with --json, stdout carries the JSON alone: progress lines and the summary go to stderr
    human = sys.stderr if args.json else sys.stdout
    try:
        with contextlib.redirect_stdout(human):
            results = run_claims(
                claims,
                profile,
                report=not figures_only,
                figures=True,
                controls=not (figures_only or args.no_controls),
                progress=not args.no_progress,
                merge=args.paper is not None or args.claim is not None,
                jobs=args.jobs,
            )
    except OSError as error:  # an output folder that cannot be written
        print(f"{command.prog}: error: {error}", file=sys.stderr)
        return 1
    if figures_only:
        ok = _figures_summary(results, profile.root, human)
        if args.json:
            keys = ("id", "verdict", "figures", "error")
            drawn = {"profile": profile.name, "seed": profile.seed, "outdir": str(profile.root)}
            drawn["claims"] = [{k: r[k] for k in keys} for r in results]
            print(json.dumps(drawn, indent=1), file=stdout)
        return 0 if ok else 1
    ok = _run_summary(results, profile.reports_dir, human)
    if args.json:
        print(
            json.dumps(load_report(profile.reports_dir / "validation.json"), indent=1), file=stdout
        )
    return 1 if (args.strict and not ok) else 0
