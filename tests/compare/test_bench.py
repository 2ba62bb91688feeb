"""The benchmark's pieces: flop count, the one-thread compile option, argument checks."""

import jax
import numpy as np
import pytest

from compare.bench import dsm_flops_per_step, layer_matmul_gflops, matmul_gflops, run_bench
from empirical.models import NetworkConfig


def test_dsm_flops_counts_every_layer_product():
    # sizes 4 -> 128 -> 128 -> 128 -> 3: 4·128 + 2·128² + 128·3 multiply-adds per point
    macs = 4 * 128 + 2 * 128 * 128 + 128 * 3
    assert dsm_flops_per_step(NetworkConfig(), d=3, batch=512) == 6 * 512 * macs


def test_one_thread_option_compiles_and_gives_a_rate():
    for one_thread in (False, True):
        assert np.isfinite(matmul_gflops(n=64, repeats=2, one_thread=one_thread))
        assert layer_matmul_gflops(m=32, k=16, n=16, repeats=10, one_thread=one_thread) > 0


def test_one_thread_option_keeps_the_result():
    a = jax.random.normal(jax.random.PRNGKey(1), (64, 64))
    one = jax.jit(lambda u: u @ u, compiler_options={"xla_cpu_multi_thread_eigen": False})(a)
    np.testing.assert_allclose(np.asarray(one), np.asarray(a @ a), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("steps", [1_000, 2_500])
def test_run_bench_rejects_bad_steps(steps):
    with pytest.raises(ValueError, match="steps"):
        run_bench(steps=steps)
