"""``make bench``: training throughput against this machine's matrix-product rate, Jacobians, validate time.

On a shared CPU the absolute numbers move with the load, so the training rate is set against a large
float32 matrix product measured in the same run. One training uses about one core (XLA does not split
the network's small products across cores), so the table also gives the aggregate rate of one
training per core side by side, as ``compare run --jobs`` trains them. That ratio still depends on the processor: XLA
runs the network's small layer products on one core, so the one-core row (the same products in a
process pinned to one core) shows how much of the 2048² rate a single product can reach. Training
puts the second core to work by computing the gradients of two batch slices concurrently
(``TrainingConfig.shards``).
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from compare.workers import available_cores, process_pool
from empirical.cache import CACHE_ONLY_ENV, cache_dir
from empirical.data import sample
from empirical.models import NetworkConfig, ScoreModel, build_network
from empirical.training import TrainingConfig, fit
from theory.distributions import LinearGaussian

__all__ = [
    "check_steps",
    "concurrent_training",
    "dsm_flops_per_step",
    "layer_matmul_gflops",
    "matmul_gflops",
    "one_core_gflops",
    "run_bench",
    "validate_seconds",
]


def matmul_gflops(n: int = 2048, repeats: int = 20) -> float:
    """Best-of-``repeats`` GFLOP/s of a jit-compiled n×n float32 matrix product (2n³ flops)."""
    a = jax.random.normal(jax.random.PRNGKey(0), (n, n), jnp.float32)
    f = jax.jit(lambda u, v: u @ v)
    f(a, a).block_until_ready()
    best = np.inf
    for _ in range(repeats):
        t = time.perf_counter()
        f(a, a).block_until_ready()
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best / 1e9


def layer_matmul_gflops(m: int = 512, k: int = 128, n: int = 128, repeats: int = 2_000) -> float:
    """GFLOP/s of the network's own layer product (batch × width × width), chained so XLA cannot hoist it."""
    a = jnp.ones((m, k), jnp.float32)
    b = jnp.ones((k, n), jnp.float32) / k

    @jax.jit
    def chain(x):
        return jax.lax.fori_loop(0, repeats, lambda i, y: (y @ b)[:, :k], x)

    chain(a).block_until_ready()
    t = time.perf_counter()
    chain(a).block_until_ready()
    return 2 * m * k * n * repeats / (time.perf_counter() - t) / 1e9


_ONE_CORE = """
import json, os, sys
os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # before JAX starts its thread pool
from compare.bench import layer_matmul_gflops, matmul_gflops
n, m, k = (int(a) for a in sys.argv[1:4])
print(json.dumps({"matmul": matmul_gflops(n), "layer": layer_matmul_gflops(m, k, k)}))
"""


def one_core_gflops(n: int = 2048, m: int = 512, k: int = 128) -> dict | None:
    """The two products of :func:`matmul_gflops` and :func:`layer_matmul_gflops` pinned to one core.

    Runs in a subprocess whose CPU affinity is one core before JAX starts; ``None`` where the
    platform cannot pin a process (``os.sched_setaffinity`` is Linux only).
    """
    if not hasattr(os, "sched_setaffinity"):
        return None
    out = subprocess.run(
        [sys.executable, "-c", _ONE_CORE, str(n), str(m), str(k)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def dsm_flops_per_step(config: NetworkConfig, d: int, batch: int) -> float:
    """Matrix-product flops of one training step: 2·B·Σ(fan_in·fan_out) forward, twice that backward."""
    sizes = [d + 1] + [config.width] * config.depth + [d]
    macs = sum(a * b for a, b in itertools.pairwise(sizes))
    return 6.0 * batch * macs


def _training(steps: int, seed: int = 0, progress: bool = True, shards: int = 2) -> dict:
    """Steps/s of the reference network: the mean after compilation, and the best 1 000-step chunk.

    ``shards`` batch slices have their gradients computed concurrently (two suit a process with two
    cores; one suits a worker pinned to one core)."""
    config = NetworkConfig()
    training = TrainingConfig(
        steps=steps, batch_size=512, warmup_steps=100, chunk_steps=1_000, shards=shards
    )
    data = sample(LinearGaussian([1.0, 0.5], 3), training.n_data, seed)
    model = fit(data, config, training, seed=seed, progress=progress, description="bench training")
    chunks = np.asarray(model.meta["seconds_per_chunk"][1:])  # the first includes compilation
    flops = dsm_flops_per_step(config, 3, training.batch_size) / 1e9
    mean = training.chunk_steps * chunks.size / chunks.sum()
    best = training.chunk_steps / chunks.min()
    return {
        "steps/s": mean,
        "best steps/s": best,
        "GFLOP/s": mean * flops,
        "best GFLOP/s": best * flops,
        "seconds": model.meta["seconds"],
        "shards": training.shards,
    }


def concurrent_training(steps: int, jobs: int = 2, shards: int = 1) -> dict:
    """Aggregate steps/s and GFLOP/s of ``jobs`` independent trainings run at once.

    Each runs in its own worker of :func:`compare.workers.process_pool` (pinned to its share of the
    cores), as ``compare run --jobs`` runs them; the aggregate is the sum of their rates after
    compilation, since they run side by side for the whole measurement. ``shards`` is that of each
    training (one batch slice per training suits a worker with one core).
    """
    with process_pool(jobs) as pool:
        runs = list(
            pool.map(_training, [steps] * jobs, range(jobs), [False] * jobs, [shards] * jobs)
        )
    return {
        "steps/s": sum(r["steps/s"] for r in runs),
        "GFLOP/s": sum(r["GFLOP/s"] for r in runs),
        "per training steps/s": [r["steps/s"] for r in runs],
        "shards": shards,
    }


def _jacobians(d: int = 100, n: int = 500, repeats: int = 5) -> float:
    model = ScoreModel(build_network(NetworkConfig(), d, jax.random.PRNGKey(0)), d, chunk=n)
    x = np.random.default_rng(0).standard_normal((n, d))
    model.jacobian(x, 0.5)  # compile
    best = np.inf
    for _ in range(repeats):
        t = time.perf_counter()
        model.jacobian(x, 0.5)
        best = min(best, time.perf_counter() - t)
    return n / best


def validate_seconds(
    cache: str, *, profile: str = "quick", jobs: int | None = None, cache_only: bool = False
) -> float | None:
    """Wall seconds of ``python -m compare run --profile <profile> [--jobs N]`` on the model cache
    ``cache``, writing into a temporary folder (the committed report is not touched).

    With ``cache_only`` nothing may be trained (``SGV_CACHE_ONLY``): ``None`` if some claim needed
    a model that the cache does not hold, so that only a warm run is ever timed.
    """
    env = {**os.environ, "SGV_CACHE_DIR": str(Path(cache).resolve())}  # the run's cwd differs
    if cache_only:
        env[CACHE_ONLY_ENV] = "1"
    command = [sys.executable, "-m", "compare", "run", "--profile", profile, "--no-progress"]
    if jobs is not None:
        command += ["--jobs", str(jobs)]
    t = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        run = subprocess.run(
            [*command, "--outdir", out], env=env, cwd=out, capture_output=True, text=True
        )
        seconds = time.perf_counter() - t
        if run.returncode:
            raise RuntimeError(f"{' '.join(command[1:])} failed:\n{run.stderr[-2000:]}")
        if cache_only:
            entries = json.loads((Path(out) / "reports" / "validation.json").read_text())["claims"]
            if any("NotCachedError" in (e.get("error") or "") for e in entries):
                return None
    return seconds


def check_steps(steps: int) -> int:
    """``steps`` if it is a whole multiple of 1000, at least 2000 (the first 1000-step chunk holds
    the compilation and is left out of the rate); else ``ValueError``."""
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 2_000 or steps % 1_000:
        raise ValueError(f"steps must be a multiple of 1000 and >= 2000 (got {steps!r})")
    return steps


def run_bench(steps: int = 10_000, *, full: bool = False) -> None:
    """Print the benchmark table. The ``full`` run on the model cache is timed where the cache holds
    every model it needs (a warm run); with ``full``, also where it has to train them."""
    check_steps(steps)
    cores = len(available_cores())
    print(f"JAX {jax.__version__} on {jax.devices()[0].platform}, {cores} CPU cores")
    mm = matmul_gflops()
    train = _training(steps)
    sps, gflops, train_s = train["steps/s"], train["GFLOP/s"], train["seconds"]
    side = concurrent_training(steps, jobs=cores) if cores > 1 else None
    mm_after = matmul_gflops()
    layer = layer_matmul_gflops()
    one = one_core_gflops()
    jps = _jacobians()
    with tempfile.TemporaryDirectory() as cache:
        cold_one = validate_seconds(cache, jobs=1)
    with tempfile.TemporaryDirectory() as cache:
        cold = validate_seconds(cache, jobs=cores)
        warm = validate_seconds(cache, jobs=cores)
    # the warm full run, timed only where the cache holds every full-profile model (nothing trains)
    warm_full = validate_seconds(cache_dir(), profile="full", jobs=cores, cache_only=not full)
    mm_ref = max(mm, mm_after)
    rows = [
        ("matmul 2048² float32 (best of before/after)", f"{mm_ref:.1f} GFLOP/s"),
        (
            f"DSM training, 3×128 SiLU, batch 512 in {train['shards']} slices, d = 3",
            f"{sps:.0f} steps/s ({steps} steps in {train_s:.1f} s); best chunk "
            f"{train['best steps/s']:.0f} steps/s",
        ),
        (
            "  training matmul rate",
            f"{gflops:.1f} GFLOP/s (best chunk {train['best GFLOP/s']:.1f})",
        ),
        (
            "  ratio to matmul (goal ≥ 0.40, later 0.70)",
            f"{gflops / mm_ref:.2f} mean; {train['best GFLOP/s'] / mm_ref:.2f} best chunk against "
            "the best matmul",
        ),
        (
            "matmul 512×128 @ 128×128 (the hidden layer's shape)",
            f"{layer:.1f} GFLOP/s = {layer / mm_ref:.2f} of peak",
        ),
        ("  training ratio to this product", f"{gflops / layer:.2f}"),
        (
            "the same two products pinned to one core",
            "n/a (no CPU pinning here)"
            if one is None
            else f"{one['matmul']:.1f} and {one['layer']:.1f} GFLOP/s: all cores gain "
            f"×{mm_ref / one['matmul']:.2f} on 2048², ×{layer / one['layer']:.2f} on the layer",
        ),
        ("score Jacobians, d = 100, 500 points (jacfwd)", f"{jps:.0f} Jacobians/s"),
        ("compare run --profile quick --jobs 1, cold cache", f"{cold_one:.1f} s"),
        (
            f"compare run --profile quick --jobs {cores}, cold cache",
            f"{cold:.1f} s (×{cold_one / cold:.2f} faster than --jobs 1)",
        ),
        (f"compare run --profile quick --jobs {cores}, warm cache", f"{warm:.1f} s"),
    ]
    if side is not None:
        rows[4:4] = [
            (
                f"{cores} DSM trainings side by side (one worker each, batch in "
                f"{side['shards']} slice{'s' if side['shards'] > 1 else ''})",
                f"{side['steps/s']:.0f} steps/s together "
                f"({', '.join(f'{r:.0f}' for r in side['per training steps/s'])} each)",
            ),
            (
                "  ratio to matmul (goal ≥ 0.6)",
                f"{side['GFLOP/s'] / mm_ref:.2f} ({side['GFLOP/s']:.1f} GFLOP/s together)",
            ),
        ]
    rows.append(
        (
            f"compare run --profile full --jobs {cores}, this model cache",
            "not timed: the cache lacks full-profile models (`make validate` trains them)"
            if warm_full is None
            else f"{warm_full:.1f} s",
        )
    )
    width = max(len(r[0]) for r in rows)
    print()
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
