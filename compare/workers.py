"""Worker processes for ``compare run --jobs N``: spawned, each held to its share of the CPU cores.

JAX does not survive ``fork``, so workers are *spawned*. Each worker gets a thread budget so that
workers × threads ≤ cores: BLAS thread counts come from the environment (set before the worker
starts, since NumPy reads them on import) and, where the platform can pin a process
(``os.sched_setaffinity``, Linux), each worker is pinned to its own cores before XLA sizes its
thread pool. On a GPU the workers share the device (JAX's memory preallocation is switched off in
them); the core budget then only bounds the host-side work. Pinning does not change any number: a training pinned to one core gives the same
weights, bit for bit, as one free to use every core (``tests/compare/test_workers.py``).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

__all__ = ["available_cores", "core_sets", "process_pool"]

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
# On a GPU, JAX preallocates 75% of its memory per process: workers sharing one device must not.
_GPU_VARS = {"XLA_PYTHON_CLIENT_PREALLOCATE": "false"}


def available_cores() -> list[int]:
    """The CPU cores this process may run on (its affinity where the platform has one)."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def core_sets(jobs: int, cores: list[int] | None = None) -> list[list[int]]:
    """Split ``cores`` into ``jobs`` disjoint, equal sets; with more jobs than cores, one core each.

    >>> core_sets(2, [0, 1, 2, 3])
    [[0, 1], [2, 3]]
    >>> core_sets(3, [0, 1])
    [[0], [1], [0]]
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be an integer >= 1 (got {jobs!r})")
    cores = available_cores() if cores is None else list(cores)
    if not cores:
        raise ValueError("cores must name at least one core")
    if jobs >= len(cores):
        return [[cores[i % len(cores)]] for i in range(jobs)]
    per = len(cores) // jobs
    return [cores[i * per : (i + 1) * per] for i in range(jobs)]


def _pin(sets: list[list[int]], counter) -> None:
    """Worker initializer: take the next core set (round robin) and pin this process to it."""
    with counter.get_lock():
        index = counter.value
        counter.value += 1
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, sets[index % len(sets)])


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def process_pool(jobs: int) -> Iterator[ProcessPoolExecutor]:
    """A pool of ``jobs`` spawned workers, each pinned to ``len(cores) // jobs`` cores (at least 1)."""
    sets = core_sets(jobs)
    threads = str(len(sets[0]))
    context = multiprocessing.get_context("spawn")
    counter = context.Value("i", 0)
    with (
        _environment({**dict.fromkeys(_THREAD_VARS, threads), **_GPU_VARS}),
        ProcessPoolExecutor(
            max_workers=jobs, mp_context=context, initializer=_pin, initargs=(sets, counter)
        ) as pool,
    ):
        yield pool
