"""Run claims under a profile, time them, run their negative controls, write figures and the report."""

from __future__ import annotations

import contextlib
import dataclasses
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from tqdm.auto import tqdm

from compare.claim import Claim, Context, Outcome, Profile, Training
from compare.report import load_results, write_report
from compare.style import save_figure
from compare.workers import process_pool
from empirical import cache

__all__ = ["MAX_SEED", "SCRATCH", "make_profile", "run_claim", "run_claims", "run_control"]

#: Where the quick profile writes (ignored by git); the full profile writes into the repository.
SCRATCH = Path(".scratch") / "quick"


#: ``--seed`` range: claims add small offsets to their seed, and JAX keys hold 32 bits.
MAX_SEED = 2**31 - 1


def make_profile(name: str, root: Path | None = None, *, seed: int = 0) -> Profile:
    """``quick`` writes below ``.scratch/quick``, ``full`` below the working directory, unless ``root``.

    ``seed`` is the base seed, added to every claim's registered seed (0, the default, runs each
    claim with its registered seed).
    """
    if name not in ("quick", "full"):
        raise ValueError(f"profile must be 'quick' or 'full' (got {name!r})")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed must be an integer in [0, {MAX_SEED}] (got {seed!r})")
    if root is None:
        root = SCRATCH if name == "quick" else Path(".")
    return Profile(name=name, root=Path(root), seed=seed)


def _context(c: Claim, profile: Profile, *, progress: bool, control: bool = False) -> Context:
    """What ``c.run`` receives: its seed is its registered seed plus the profile's base seed."""
    return Context(profile=profile, seed=profile.seed_of(c), progress=progress, control=control)


def run_control(c: Claim, profile: Profile, *, progress: bool = False) -> dict:
    """Run ``c`` with its planted fault; the entry the report keeps under ``control``.

    ``caught`` is true when the claim fails under its control, as a correct validator must.
    """
    start = time.perf_counter()
    outcome = c.run(_context(c, profile, progress=progress, control=True))
    return {
        "fault": c.control,
        "verdict": outcome.verdict,
        "caught": outcome.verdict == "fail",
        "failed_checks": outcome.failed,
        "seconds": time.perf_counter() - start,
    }


def _entry(
    c: Claim,
    profile: Profile,
    outcome: Outcome | None,
    seconds: float,
    trainings: list[dict],
    figures: list[str],
) -> dict:
    """The report entry of ``c`` (keys as :data:`compare.report.RESULT_KEYS`); ``outcome=None``
    for a claim that raised (verdict ``error``; :func:`_error_entry` adds the message).
    ``figures``: the files drawn, relative to the profile's root."""
    o = outcome
    return {
        "id": c.id,
        "paper": c.paper,
        "kind": c.kind,
        "statement": c.statement,
        "source": c.source,
        "code": c.code,
        "predicted": o and o.predicted,
        "measured": o and o.measured,
        "tolerance": o and o.tolerance,
        "verdict": o.verdict if o else "error",
        "failed_checks": o.failed if o else [],
        "inconclusive": o.inconclusive if o else "",
        "checks": [k.to_dict() for k in o.checks] if o else [],
        "readings": dict(o.readings) if o else {},
        "crosswalk": [dict(r) for r in o.crosswalk] if o else [],
        "control": None,
        "seed": profile.seed_of(c),
        "base_seed": profile.seed,
        "seconds": seconds,
        "trainings": trainings,
        "training_seconds": _training_seconds(trainings),
        "error": "",
        "notes": o.notes if o else "",
        "figures": figures,
    }


def _error_entry(
    c: Claim, profile: Profile, error: BaseException, seconds: float, figures: list[str] = ()
) -> dict:
    """The entry of a claim that raised: verdict ``error`` and the traceback's last line (and the
    figures it drew before it raised, if any)."""
    last = traceback.format_exception_only(type(error), error)[-1].strip()
    return {**_entry(c, profile, None, seconds, [], list(figures)), "error": last}


def _training_seconds(trainings: list[dict]) -> float:
    """Seconds spent training in this run (cache misses; hits cost nothing now)."""
    return float(sum(t["seconds"] or 0.0 for t in trainings if t["cache"] != "hit"))


def run_claim(c: Claim, profile: Profile, *, figures: bool, controls: bool, progress: bool) -> dict:
    """Run one claim (and its control), save its figures; the report entry. Never raises.

    A claim that raises gets the verdict ``error`` with the exception's last line, so that one
    broken claim does not take a run down. This is what each worker of ``--jobs N`` executes.
    """
    start = time.perf_counter()
    drawn: list[str] = []  # figure files written, relative to the profile's root
    try:
        with cache.recording() as trainings:
            outcome = c.run(_context(c, profile, progress=progress))
        undeclared = [f.name for f in outcome.figures if f.name not in c.figures]
        if undeclared:
            raise ValueError(
                f"claim {c.id} drew figures {undeclared} that its @claim(figures=...) does not name"
            )
        entry = _entry(c, profile, outcome, time.perf_counter() - start, trainings, drawn)
        if figures:
            for fig in outcome.figures:
                png = save_figure(
                    fig,
                    c.paper,
                    profile.figures_dir,
                    seed=profile.seed_of(c),
                    profile=profile.name,
                    claim=c.id,
                    verdict=outcome.verdict,
                )
                drawn.append(png.relative_to(profile.root).as_posix())
        if controls:
            entry["control"] = run_control(c, profile)
    except Exception as error:  # reported as the claim's verdict; the run goes on
        entry = _error_entry(c, profile, error, time.perf_counter() - start, drawn)
    return entry


def _train(training: Training) -> list[dict]:
    """Worker task: train (or load) one declared network; what the cache recorded."""
    with cache.recording() as log:
        training()
    return log


def _say(entry: dict) -> None:
    """One line per finished claim: verdict, id, seconds, its control, what failed."""
    failed = ""
    if entry["verdict"] == "fail":
        failed = f"  failed: {', '.join(entry['failed_checks'])}"
    elif entry["verdict"] == "error":
        failed = f"  error: {entry['error']}"
    control = ""
    if entry["control"] is not None:
        control = "  control caught" if entry["control"]["caught"] else "  CONTROL PASSED"
    tqdm.write(
        f"{entry['verdict']:>12}  {entry['id']}  ({entry['seconds']:.1f} s){control}{failed}"
    )


# Without a previous report, trained claims are expected to take longest, then sampled, then exact.
_KIND_COST = {"trained": 3.0, "sampled": 2.0, "exact": 1.0}


def _expected_seconds(claims: list[Claim], profile: Profile) -> dict[str, float]:
    """Each claim's seconds (with its control) in this profile's last report, to start the longest
    first; claims it does not list come after them, trained before sampled before exact. Only the
    order of work depends on this, never a number in the report."""
    try:
        last = {r["id"]: r for r in load_results(profile.reports_dir / "validation.json")}
    except (OSError, ValueError):  # no report yet, or one that does not parse
        last = {}
    out = {}
    for c in claims:
        r = last.get(c.id)
        if r and isinstance(r.get("seconds"), int | float):
            out[c.id] = 10.0 + r["seconds"] + ((r.get("control") or {}).get("seconds") or 0.0)
        else:
            out[c.id] = _KIND_COST[c.kind]
    return out


def _submit(pool, running: dict, task, *args, **kwargs) -> bool:
    """Submit ``task`` to ``pool`` under ``running``; ``False`` if the pool is broken."""
    try:
        running[pool.submit(*args, **kwargs)] = task
    except BrokenProcessPool:
        return False
    return True


def _in_pool(c: Claim, profile: Profile, *, figures: bool, controls: bool) -> dict:
    """Rerun one claim alone in a fresh one-worker pool (after a worker died)."""
    with process_pool(1) as pool:
        future = pool.submit(
            run_claim, c, profile, figures=figures, controls=controls, progress=False
        )
        try:
            return future.result()
        except BrokenProcessPool:
            return _error_entry(c, profile, RuntimeError("its worker process died"), 0.0)


class _Queue:
    """Work not yet handed to a worker, in the order it is handed out.

    Trainings come first (most steps first): they unblock the claims that declared them. Then the
    claims whose networks are all trained, the longest expected first. Work is handed out only as a
    worker frees up, so a long claim unblocked late still starts before the short ones queued
    earlier (a queue filled up front would run it last, alone on one core).
    """

    def __init__(self, trainings: dict[str, Training], blocked: dict[str, set[str]], cost):
        self._trainings = sorted(trainings, key=lambda label: -trainings[label].steps)
        self._blocked = {cid: set(labels) for cid, labels in blocked.items()}
        self._cost = cost

    def trained(self, label: str) -> None:
        """The training ``label`` has finished (or failed: its claims retrain it and say why)."""
        for labels in self._blocked.values():
            labels.discard(label)

    def pop(self) -> tuple[str, str] | None:
        """The next ``("train", label)`` or ``("claim", id)``; ``None`` when nothing is ready."""
        if self._trainings:
            return "train", self._trainings.pop(0)
        ready = [cid for cid, labels in self._blocked.items() if not labels]
        if not ready:
            return None
        cid = max(ready, key=lambda c: self._cost[c])  # ties: the first in report order
        del self._blocked[cid]
        return "claim", cid


def _run_parallel(
    claims: list[Claim],
    profile: Profile,
    jobs: int,
    *,
    figures: bool,
    controls: bool,
    progress: bool,
) -> dict[str, dict]:
    """Train every declared network side by side, then run the claims, ``jobs`` at a time.

    Trainings go first, longest first; a claim is handed out once the networks it declared are
    trained, so no network is trained twice, and among the ready claims the longest expected goes
    first (:class:`_Queue`). A worker that dies (killed, out of memory) breaks the pool: the claims
    it took along are rerun one by one in fresh pools, and only a claim whose own worker dies again
    is reported as ``error``.
    """
    declared = {
        c.id: c.trains(_context(c, profile, progress=False)) if c.trains else [] for c in claims
    }
    trainings = {t.label: t for ts in declared.values() for t in ts}
    queue = _Queue(
        trainings,
        {cid: {t.label for t in ts} for cid, ts in declared.items()},
        _expected_seconds(claims, profile),
    )
    # what a worker receives: the claim without its ``trains`` (which may be a lambda, not picklable)
    by_id = {c.id: dataclasses.replace(c, trains=None) for c in claims}
    ahead: dict[str, float] = {}  # cache key -> training seconds of networks trained ahead
    entries: dict[str, dict] = {}
    broken: list[str] = []
    desc = f"claims ({profile.name}, {jobs} jobs)"
    with (
        tqdm(
            total=len(trainings) + len(claims), desc=desc, unit="task", disable=not progress
        ) as bar,
        process_pool(jobs) as pool,
    ):
        running: dict = {}

        def hand_out() -> None:
            while len(running) < jobs and (task := queue.pop()) is not None:
                kind, name = task
                if kind == "train":
                    if not _submit(pool, running, task, _train, trainings[name]):
                        queue.trained(name)  # the claims train it themselves, in fresh pools
                    continue
                args = (run_claim, by_id[name], profile)
                kw = {"figures": figures, "controls": controls, "progress": False}
                if not _submit(pool, running, task, *args, **kw):
                    broken.append(name)

        hand_out()
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                kind, name = running.pop(future)
                bar.update()
                if kind == "train":
                    with contextlib.suppress(Exception):  # the claim retrains it and reports why
                        ahead.update(
                            {
                                r["key"]: r["seconds"]
                                for r in future.result()
                                if r["cache"] == "miss"
                            }
                        )
                    queue.trained(name)
                    continue
                try:
                    entries[name] = future.result()
                except BrokenProcessPool:
                    broken.append(name)
                    continue
                except Exception as error:  # e.g. a claim that cannot be sent to a worker
                    entries[name] = _error_entry(by_id[name], profile, error, 0.0)
                _say(entries[name])
            hand_out()
            bar.set_postfix_str(", ".join(n for f, (_, n) in running.items() if f.running()))
    for cid in broken:
        entries[cid] = _in_pool(by_id[cid], profile, figures=figures, controls=controls)
        _say(entries[cid])
    for e in entries.values():
        for r in e["trainings"]:
            if r["cache"] == "hit" and r["key"] in ahead:
                r.update(cache="miss, trained ahead", seconds=ahead[r["key"]])
        e["training_seconds"] = _training_seconds(e["trainings"])
    return entries


def run_claims(
    claims: list[Claim],
    profile: Profile,
    *,
    report: bool = True,
    figures: bool = True,
    controls: bool = True,
    progress: bool = True,
    merge: bool = False,
    jobs: int = 1,
) -> list[dict]:
    """Run ``claims`` (and, with ``controls``, each under its negative control); one dict per claim.

    ``jobs > 1`` runs them in that many spawned worker processes (:mod:`compare.workers`), after
    training the networks they declare side by side; the entries, figures and models are the same
    as with ``jobs=1``, only the timings differ. With ``merge`` the report keeps the entries of
    claims that were not rerun (a partial run).
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be an integer >= 1 (got {jobs!r})")
    kw = {"figures": figures, "controls": controls}
    declares = any(c.trains is not None for c in claims)
    if jobs == 1 or (len(claims) == 1 and not declares):  # nothing to run side by side
        results = []
        for c in tqdm(claims, desc=f"claims ({profile.name})", unit="claim", disable=not progress):
            results.append(run_claim(c, profile, progress=progress, **kw))
            if progress:
                _say(results[-1])
    else:
        entries = _run_parallel(claims, profile, jobs, progress=progress, **kw)
        results = [entries[c.id] for c in claims]
    if report:
        write_report(results, profile.name, profile.reports_dir, merge=merge, seed=profile.seed)
    return results
