"""``make bench``: training throughput against this machine's matrix-product rate, Jacobians, validate time.

On a shared CPU the absolute numbers move with the load, so the training rate is set against a large
float32 matrix product measured in the same run. That ratio still depends on the processor: it is
bounded by how fast the network's own small products run, and the one-thread rows show whether a
second thread speeds those up at all (on some machines it does not, while the 2048² product doubles).
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import tempfile
import time

import jax
import jax.numpy as jnp
import numpy as np

from empirical.data import sample
from empirical.models import NetworkConfig, ScoreModel, build_network
from empirical.training import TrainingConfig, fit
from theory.distributions import LinearGaussian

__all__ = ["dsm_flops_per_step", "layer_matmul_gflops", "matmul_gflops", "run_bench"]


#: XLA option that keeps a computation's matrix products on one thread (per jit, not per process).
ONE_THREAD = {"xla_cpu_multi_thread_eigen": False}


def matmul_gflops(n: int = 2048, repeats: int = 20, *, one_thread: bool = False) -> float:
    """Best-of-``repeats`` GFLOP/s of a jit-compiled n×n float32 matrix product (2n³ flops)."""
    a = jax.random.normal(jax.random.PRNGKey(0), (n, n), jnp.float32)
    f = jax.jit(lambda u, v: u @ v, compiler_options=ONE_THREAD if one_thread else None)
    f(a, a).block_until_ready()
    best = np.inf
    for _ in range(repeats):
        t = time.perf_counter()
        f(a, a).block_until_ready()
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best / 1e9


def layer_matmul_gflops(
    m: int = 512, k: int = 128, n: int = 128, repeats: int = 2_000, *, one_thread: bool = False
) -> float:
    """GFLOP/s of the network's own layer product (batch × width × width), chained so XLA cannot hoist it."""
    a = jnp.ones((m, k), jnp.float32)
    b = jnp.ones((k, n), jnp.float32) / k

    def chain(x):
        return jax.lax.fori_loop(0, repeats, lambda i, y: (y @ b)[:, :k], x)

    chain = jax.jit(chain, compiler_options=ONE_THREAD if one_thread else None)

    chain(a).block_until_ready()
    t = time.perf_counter()
    chain(a).block_until_ready()
    return 2 * m * k * n * repeats / (time.perf_counter() - t) / 1e9


def dsm_flops_per_step(config: NetworkConfig, d: int, batch: int) -> float:
    """Matrix-product flops of one training step: 2·B·Σ(fan_in·fan_out) forward, twice that backward."""
    sizes = [d + 1] + [config.width] * config.depth + [d]
    macs = sum(a * b for a, b in itertools.pairwise(sizes))
    return 6.0 * batch * macs


def _training(steps: int):
    config = NetworkConfig()
    training = TrainingConfig(steps=steps, batch_size=512, warmup_steps=100, chunk_steps=1_000)
    data = sample(LinearGaussian([1.0, 0.5], 3), training.n_data, 0)
    model = fit(data, config, training, seed=0, progress=True, description="bench training")
    m = model.meta
    rate = (steps - training.chunk_steps) / (m["seconds"] - m["seconds_first_chunk"])
    return rate, rate * dsm_flops_per_step(config, 3, training.batch_size) / 1e9, m["seconds"]


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


def _validate_quick_seconds(cache: str) -> float:
    env = {**os.environ, "SGV_CACHE_DIR": cache}
    t = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(
            [sys.executable, "-m", "compare", "run", "--profile", "quick", "--no-progress"],
            check=True,
            env=env,
            cwd=out,
            stdout=subprocess.DEVNULL,
        )
    return time.perf_counter() - t


def run_bench(steps: int = 10_000) -> None:
    """Print the benchmark table."""
    if steps < 2_000 or steps % 1_000:
        raise ValueError(f"steps must be a multiple of 1000 and >= 2000 (got {steps})")
    print(f"JAX {jax.__version__} on {jax.devices()[0].platform}, {os.cpu_count()} CPU cores")
    mm = matmul_gflops()
    sps, gflops, train_s = _training(steps)
    mm_after = matmul_gflops()
    layer = layer_matmul_gflops()
    mm_one = matmul_gflops(one_thread=True)
    layer_one = layer_matmul_gflops(one_thread=True)
    jps = _jacobians()
    with tempfile.TemporaryDirectory() as cache:
        cold = _validate_quick_seconds(cache)
        warm = _validate_quick_seconds(cache)
    mm_ref = max(mm, mm_after)
    rows = [
        ("matmul 2048² float32 (best of before/after)", f"{mm_ref:.1f} GFLOP/s"),
        (
            "DSM training, 3×128 SiLU, batch 512, d = 3",
            f"{sps:.0f} steps/s ({steps} steps in {train_s:.1f} s)",
        ),
        ("  training matmul rate", f"{gflops:.1f} GFLOP/s"),
        ("  ratio to matmul (goal ≥ 0.40, later 0.70)", f"{gflops / mm_ref:.2f}"),
        (
            "matmul 512×128 @ 128×128 (the hidden layer's shape)",
            f"{layer:.1f} GFLOP/s = {layer / mm_ref:.2f} of peak",
        ),
        ("  training ratio to this product", f"{gflops / layer:.2f}"),
        ("matmul 2048² float32, one thread", f"{mm_one:.1f} GFLOP/s"),
        (
            "matmul 512×128 @ 128×128, one thread",
            f"{layer_one:.1f} GFLOP/s (two threads gain ×{layer / layer_one:.2f}, "
            f"the 2048² product ×{mm_ref / mm_one:.2f})",
        ),
        ("score Jacobians, d = 100, 500 points (jacfwd)", f"{jps:.0f} Jacobians/s"),
        ("python -m compare run --profile quick, cold cache", f"{cold:.1f} s"),
        ("python -m compare run --profile quick, warm cache", f"{warm:.1f} s"),
    ]
    width = max(len(r[0]) for r in rows)
    print()
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
