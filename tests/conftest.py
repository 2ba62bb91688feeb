"""Shared fixtures. JAX silently broadcasting ranks is an error here (equinox's convention)."""

import numpy as np
import pytest

jax = pytest.importorskip("jax")
jax.config.update("jax_numpy_rank_promotion", "raise")


@pytest.fixture
def rng():
    """A fresh seeded numpy Generator per test."""
    return np.random.default_rng(20261123)


@pytest.fixture
def getkey():
    """Hands out distinct JAX PRNG keys, deterministically."""
    state = {"i": 0}

    def _next():
        state["i"] += 1
        return jax.random.PRNGKey(state["i"])

    return _next


@pytest.fixture
def model_cache(tmp_path, monkeypatch):
    """An empty model cache folder for this test."""
    path = tmp_path / "models"
    monkeypatch.setenv("SGV_CACHE_DIR", str(path))
    return path
