"""Command line: ``python -m compare list | run | figures | bench | diagnose``.

A mistake in the arguments (an unknown paper or claim id, a claim outside the chosen paper, a
selection without claims, a number out of range) ends in one line on stderr that names the value
and the nearest valid names, with exit status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import json
import sys
import warnings
from pathlib import Path

import numpy as np

from compare.registry import PAPERS, all_claims, select
from compare.report import load_report
from compare.runner import MAX_SEED, SCRATCH, make_profile, run_claims
from compare.workers import available_cores
from theory.schedules import geometric_grid

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
    _diagnose_parser(sub, commands)
    return p, commands


#: Default levels of ``diagnose``: 13 geometric steps, VE σ from 0.01 to 10, VP t from 1e-4 to 10
#: (noise std √v_t from 0.014 to 1).
DIAGNOSE_LEVELS = {"ve": (0.01, 10.0, 13), "vp": (1e-4, 10.0, 13)}
#: Default number of points of ``diagnose`` when --points is not given.
DIAGNOSE_POINTS = 256


def _diagnose_parser(sub, commands: dict) -> None:
    text = "diagnostics of your own score field: spectra, local dimension, asymmetry, scaling"
    c = commands["diagnose"] = sub.add_parser(
        "diagnose",
        help=text,
        description=f"{text}. Writes diagnosis.<format> (one figure, three panels) and "
        "diagnosis.json to --outdir and prints a summary table.",
    )
    c.add_argument(
        "score",
        metavar="MODULE:CALLABLE",
        help="the score callable score(x, sigma) on (n, d) arrays; MODULE is a dotted module name "
        "or a path to a .py file, CALLABLE a name in it (dots reach attributes)",
    )
    c.add_argument("--dim", type=_whole(2), required=True, help="the dimension d of x (>= 2)")
    c.add_argument(
        "--points",
        metavar="FILE.npy|MODULE:CALLABLE",
        help="where to take the Jacobians: an (n, d) .npy file, or a callable points(n, rng) "
        "returning (n, d) (default: n standard-normal points, n = --n)",
    )
    c.add_argument(
        "--sigmas",
        type=float,
        nargs="+",
        metavar="LEVEL",
        help="noise levels, σ (ve) or t (vp), all > 0 (default: 13 geometric steps, σ from "
        "0.01 to 10 for ve, t from 1e-4 to 10 for vp)",
    )
    c.add_argument(
        "--manifold",
        metavar="MODULE:CALLABLE",
        help="the tangent space: a callable x -> (n, d, k) or (d, k), or a theory spec such as a "
        "LinearGaussian (adds a_TT/a_TN/a_NN, the tangent overlap, the normal stiffness)",
    )
    c.add_argument("--outdir", type=Path, default=Path("."), help="output folder (default: .)")
    c.add_argument(
        "--n",
        type=_whole(1),
        default=DIAGNOSE_POINTS,
        help="points drawn when --points is absent or a callable (default %(default)s)",
    )
    c.add_argument(
        "--seed",
        type=_whole(0, MAX_SEED),
        default=0,
        help="seed of the numpy Generator that draws the points (default 0)",
    )
    c.add_argument("--jacobian", choices=("auto", "autodiff", "fd"), default="auto")
    c.add_argument("--convention", choices=("ve", "vp"), default="ve")
    c.add_argument("--format", choices=("png", "pdf", "svg"), default="png", help="figure format")


def _load_module(name: str):
    """A module by dotted name, or from a .py file (loaded once per path)."""
    path = Path(name)
    if name.endswith(".py") or path.is_file():
        if not path.is_file():
            raise ValueError(f"no such file: {name}")
        key = f"_sgv_user_{abs(hash(str(path.resolve())))}_{path.stem}"
        if key in sys.modules:
            return sys.modules[key]
        spec = importlib.util.spec_from_file_location(key, path)
        if spec is None or spec.loader is None:
            raise ValueError(f"cannot load {name} as a Python file")
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[key]
            raise
        return module
    return importlib.import_module(name)


def _load_target(text: str, option: str, *, need_callable: bool = True):
    """The object named by ``MODULE:NAME``; a ValueError with a one-line reason otherwise."""
    module_name, sep, attr = text.rpartition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"{option} must be MODULE:CALLABLE (got {text!r})")
    try:
        obj = _load_module(module_name)
    except ValueError:
        raise
    except Exception as error:  # any failure of the user's module: one line
        raise ValueError(
            f"{option}: cannot load module {module_name!r} ({type(error).__name__}: {error})"
        ) from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ValueError(f"{option}: module {module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if need_callable and not callable(obj):
        raise ValueError(f"{option}: {text} is not callable (got {type(obj).__name__})")
    return obj


def _diagnose_points(args) -> np.ndarray:
    """The points of ``diagnose``: from --points, else ``--n`` standard-normal points."""
    rng = np.random.default_rng(args.seed)
    if args.points is None:
        return rng.standard_normal((args.n, args.dim))
    if args.points.endswith(".npy"):
        try:
            pts = np.load(args.points, allow_pickle=False)
        except (OSError, ValueError) as error:
            raise ValueError(f"--points: cannot read {args.points} ({error})") from None
    else:
        pts = np.asarray(_load_target(args.points, "--points")(args.n, rng))
    if pts.ndim != 2 or pts.shape[1] != args.dim:
        raise ValueError(f"--points must give an (n, {args.dim}) array (got shape {pts.shape})")
    return pts


def _diagnose(args, command: argparse.ArgumentParser) -> int:
    """Run :func:`empirical.diagnose.diagnose`, write figure and JSON, print the summary."""
    from empirical.diagnose import diagnose

    if args.outdir.exists() and not args.outdir.is_dir():
        command.error(f"--outdir {args.outdir} is a file, not a folder")
    try:
        score = _load_target(args.score, "MODULE:CALLABLE")
        manifold = (
            None
            if args.manifold is None
            else _load_target(args.manifold, "--manifold", need_callable=False)
        )
        points = _diagnose_points(args)
    except ValueError as error:
        command.error(str(error))
    levels = (
        np.asarray(args.sigmas)
        if args.sigmas is not None
        else geometric_grid(*DIAGNOSE_LEVELS[args.convention])
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = diagnose(
                score,
                points,
                levels,
                manifold=manifold,
                convention=args.convention,
                jacobian=args.jacobian,
            )
        except ValueError as error:
            print(f"{command.prog}: error: {error}", file=sys.stderr)
            return 1
    for w in caught:
        print(f"{command.prog}: warning: {w.category.__name__}: {w.message}", file=sys.stderr)
    try:
        args.outdir.mkdir(parents=True, exist_ok=True)
        figure = args.outdir / f"diagnosis.{args.format}"
        record = args.outdir / "diagnosis.json"
        result.plot(figure)
        result.to_json(record)
    except OSError as error:
        print(f"{command.prog}: error: {error}", file=sys.stderr)
        return 1
    print(result.summary())
    print(f"wrote {figure} and {record}")
    return 0


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
    if args.command == "diagnose":
        return _diagnose(args, commands["diagnose"])
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
