"""``--jobs N``: spawned workers with a core budget, the same entries as one process, errors contained."""

import os
import subprocess
import sys

import pytest

from compare.claim import Claim, Outcome, Training, check
from compare.runner import _Queue, make_profile, run_claims
from compare.workers import core_sets

# Timings and where a network was trained differ between runs; everything else must not.
_TIMING = {"seconds", "training_seconds", "trainings"}


def test_core_sets_split_and_wrap():
    assert core_sets(2, [0, 1, 2, 3]) == [[0, 1], [2, 3]]
    assert core_sets(3, [0, 1, 2, 3]) == [[0], [1], [2]]
    assert core_sets(1, [4, 5]) == [[4, 5]]
    assert core_sets(3, [0, 1]) == [[0], [1], [0]]


@pytest.mark.parametrize("jobs", [0, -1, 1.5, True, "2"])
def test_core_sets_rejects_bad_jobs(jobs):
    with pytest.raises(ValueError, match="jobs"):
        core_sets(jobs, [0, 1])


def _measure(ctx):
    import numpy as np

    value = float(np.random.default_rng(ctx.seed).standard_normal(1000).mean())
    if ctx.control:
        value += 1.0
    return Outcome(value, value, 0.1, [check("mean near 0", abs(value), "<", 0.1)])


def _raise(ctx):
    raise ZeroDivisionError("planted: division by zero in the measurement")


def _die(ctx):
    os._exit(3)  # the worker process vanishes, as when killed or out of memory


def _claim(name, run, **kw):
    return Claim(
        id=f"spectral_gaps.{name}",
        paper="spectral_gaps",
        kind="sampled",
        statement="test",
        source="test",
        control="offset by 1",
        run=run,
        **kw,
    )


def _strip(entries):
    out = [{k: v for k, v in e.items() if k not in _TIMING} for e in entries]
    for e in out:
        if e["control"] is not None:
            e["control"] = {k: v for k, v in e["control"].items() if k != "seconds"}
    return out


def test_two_jobs_give_the_entries_of_one(tmp_path):
    claims = [_claim(f"mean_{s}", _measure, seed=s) for s in range(4)]
    one = run_claims(claims, make_profile("quick", tmp_path / "a"), progress=False, jobs=1)
    two = run_claims(claims, make_profile("quick", tmp_path / "b"), progress=False, jobs=2)
    assert _strip(two) == _strip(one)
    assert [e["id"] for e in two] == [c.id for c in claims]  # report order, not finishing order
    assert all(e["control"]["caught"] for e in two)


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_raising_claim_is_an_error_and_the_others_run(tmp_path, jobs):
    claims = [_claim("ok", _measure), _claim("raises", _raise), _claim("ok_too", _measure, seed=1)]
    entries = run_claims(claims, make_profile("quick", tmp_path), progress=False, jobs=jobs)
    verdicts = {e["id"].split(".")[1]: e["verdict"] for e in entries}
    assert verdicts == {"ok": "pass", "raises": "error", "ok_too": "pass"}
    (error,) = [e for e in entries if e["verdict"] == "error"]
    assert error["error"] == "ZeroDivisionError: planted: division by zero in the measurement"
    assert "1 error" in (tmp_path / "reports" / "validation.md").read_text()


def test_a_dying_worker_takes_only_its_claim(tmp_path):
    claims = [_claim("ok", _measure), _claim("dies", _die), _claim("ok_too", _measure, seed=1)]
    entries = run_claims(claims, make_profile("quick", tmp_path), progress=False, jobs=2)
    verdicts = {e["id"].split(".")[1]: e["verdict"] for e in entries}
    assert verdicts == {"ok": "pass", "dies": "error", "ok_too": "pass"}
    assert "worker process died" in entries[1]["error"]


def _trained(ctx):
    from empirical.training import train

    model = train(*_SMALL, seed=ctx.seed, progress=False)
    loss = float(model.meta["loss_per_chunk"][-1])
    return Outcome(loss, loss, 1.0, [check("final loss finite", loss, "<", 10.0)])


def _small():
    from empirical.models import NetworkConfig
    from empirical.training import TrainingConfig
    from theory.distributions import LinearGaussian

    training = TrainingConfig(steps=1_000, warmup_steps=100, chunk_steps=500, n_data=1_024)
    return LinearGaussian([1.0], 2), NetworkConfig(width=16, depth=2), training


_SMALL = _small()


def _declared(ctx):
    from empirical.training import train

    return [Training("small", 1_000, train, _SMALL, {"seed": ctx.seed, "progress": False})]


@pytest.mark.slow
def test_declared_networks_are_trained_ahead_once(tmp_path, model_cache):
    """A declared network is trained before its claim runs, in a worker, and the claim loads it."""
    c = _claim("trained", _trained, trains=_declared)
    (entry,) = run_claims([c], make_profile("quick", tmp_path), progress=False, jobs=2)
    assert entry["verdict"] == "pass", entry["error"]
    (record,) = entry["trainings"]
    assert record["cache"] == "miss, trained ahead" and record["seconds"] > 0
    assert len(list(model_cache.glob("*.npz"))) == 1


_WEIGHTS = """
import hashlib, os, sys
if sys.argv[1] == "pinned":
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
import equinox as eqx, jax, numpy as np
from empirical.data import sample
from empirical.models import NetworkConfig
from empirical.training import TrainingConfig, fit
from theory.distributions import LinearGaussian
data = sample(LinearGaussian([1.0] * 4, 10), 2048, 0)
cfg = TrainingConfig(steps=1000, warmup_steps=100, chunk_steps=500, n_data=2048)
net = fit(data, NetworkConfig(width=64), cfg, 0, progress=False).network
leaves = jax.tree_util.tree_leaves(eqx.filter(net, eqx.is_array))
print(hashlib.sha256(b"".join(np.asarray(x).tobytes() for x in leaves)).hexdigest())
"""


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU pinning here")
def test_pinning_to_one_core_changes_no_weight():
    """A worker's core budget must not change the numbers: the same training, pinned or free."""

    def digest(mode):
        out = subprocess.run(
            [sys.executable, "-c", _WEIGHTS, mode], check=True, capture_output=True, text=True
        )
        return out.stdout.strip().splitlines()[-1]

    pinned = digest("pinned")
    assert len(pinned) == 64 and pinned == digest("free")


def _training(label, steps):
    return Training(label, steps, lambda: None, (), {})


def test_the_queue_hands_out_trainings_then_the_longest_ready_claim():
    """A long claim unblocked late by its training still starts before shorter ready claims."""
    trainings = {"small": _training("small", 10), "large": _training("large", 1_000)}
    blocked = {"exact": set(), "long": {"large"}, "short": set(), "both": {"small", "large"}}
    cost = {"exact": 2.0, "long": 400.0, "short": 1.0, "both": 50.0}
    queue = _Queue(trainings, blocked, cost)
    assert [queue.pop(), queue.pop()] == [("train", "large"), ("train", "small")]
    assert queue.pop() == ("claim", "exact")  # the trainings are still running
    queue.trained("large")
    assert queue.pop() == ("claim", "long")
    queue.trained("small")
    assert [queue.pop(), queue.pop(), queue.pop()] == [("claim", "both"), ("claim", "short"), None]
