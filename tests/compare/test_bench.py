"""The benchmark's pieces: flop count, the rates, the one-core subprocess, argument checks."""

import os

import numpy as np
import pytest

from compare.bench import (
    concurrent_training,
    dsm_flops_per_step,
    layer_matmul_gflops,
    matmul_gflops,
    one_core_gflops,
    run_bench,
)
from empirical.models import NetworkConfig


def test_dsm_flops_counts_every_layer_product():
    # sizes 4 -> 128 -> 128 -> 128 -> 3: 4·128 + 2·128² + 128·3 multiply-adds per point
    macs = 4 * 128 + 2 * 128 * 128 + 128 * 3
    assert dsm_flops_per_step(NetworkConfig(), d=3, batch=512) == 6 * 512 * macs


def test_rates_are_positive_and_finite():
    assert np.isfinite(matmul_gflops(n=64, repeats=2)) and matmul_gflops(n=64, repeats=2) > 0
    assert layer_matmul_gflops(m=32, k=16, n=16, repeats=10) > 0


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="CPU pinning is Linux only")
def test_one_core_subprocess_reports_both_products():
    rates = one_core_gflops(n=64, m=32, k=16)
    assert set(rates) == {"matmul", "layer"}
    assert all(np.isfinite(v) and v > 0 for v in rates.values())


@pytest.mark.parametrize("steps", [1_000, 2_500])
def test_run_bench_rejects_bad_steps(steps):
    with pytest.raises(ValueError, match="steps"):
        run_bench(steps=steps)


def test_concurrent_training_sums_two_workers():
    side = concurrent_training(steps=2_000, jobs=2)
    assert len(side["per training steps/s"]) == 2
    assert side["steps/s"] == pytest.approx(sum(side["per training steps/s"]))
    assert all(np.isfinite(r) and r > 0 for r in side["per training steps/s"])
