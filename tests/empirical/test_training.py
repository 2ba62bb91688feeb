"""Training: determinism, learning, the cache (hits, atomic writes, killed runs)."""

import subprocess
import sys
import textwrap
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from empirical import cache
from empirical.data import sample
from empirical.models import NetworkConfig, ScoreModel, build_network
from empirical.training import TrainingConfig, dsm_loss, fit, sharded_value_and_grad, train
from theory.distributions import LinearGaussian

SPEC = LinearGaussian([1.0], 2)
SMALL = NetworkConfig(width=32, depth=2)


def _cfg(steps=400, chunk=200):
    return TrainingConfig(
        steps=steps, chunk_steps=chunk, warmup_steps=50, n_data=2_000, batch_size=128
    )


class TestConfig:
    def test_validation(self):
        with pytest.raises(ValueError, match="multiple of chunk_steps"):
            TrainingConfig(steps=1_500, chunk_steps=1_000)
        with pytest.raises(ValueError, match="sigma_min"):
            TrainingConfig(sigma_min=1.0, sigma_max=0.5)
        with pytest.raises(ValueError, match="learning_rate"):
            TrainingConfig(learning_rate=0.0)
        with pytest.raises(ValueError, match="warmup_steps"):
            TrainingConfig(steps=1_000, warmup_steps=1_000)
        with pytest.raises(ValueError, match="shards"):
            TrainingConfig(batch_size=512, shards=3)
        with pytest.raises(ValueError, match="shards"):
            TrainingConfig(shards=0)

    def test_record_holds_every_field(self):
        record = TrainingConfig().to_dict()
        assert set(record) == set(TrainingConfig.__dataclass_fields__)
        assert record["shards"] == 2


class TestShardedGradient:
    """Reference: ``jax.value_and_grad`` of the loss on the whole batch, in one piece."""

    @pytest.mark.parametrize("shards", [1, 2, 4])
    def test_equals_the_whole_batch_gradient(self, shards):
        net = build_network(SMALL, 2, jax.random.PRNGKey(0))
        params, static = eqx.partition(net, eqx.is_array)
        keys = jax.random.split(jax.random.PRNGKey(1), 3)
        x0 = jax.random.normal(keys[0], (64, 2))
        log_sigma = jax.random.uniform(keys[1], (64,), minval=-3.0, maxval=1.0)
        eps = jax.random.normal(keys[2], (64, 2))
        ref_loss, ref_grads = jax.value_and_grad(
            lambda p: dsm_loss(eqx.combine(p, static), x0, log_sigma, eps)
        )(params)
        loss, grads = sharded_value_and_grad(params, static, x0, log_sigma, eps, shards)
        np.testing.assert_allclose(float(loss), float(ref_loss), rtol=1e-6)
        for g, r in zip(jax.tree.leaves(grads), jax.tree.leaves(ref_grads), strict=True):
            np.testing.assert_allclose(np.asarray(g), np.asarray(r), rtol=1e-5, atol=1e-6)

    def test_a_slice_alone_is_not_the_gradient(self):
        """The comparison above can fail: half of the batch gives a different gradient."""
        net = build_network(SMALL, 2, jax.random.PRNGKey(0))
        params, static = eqx.partition(net, eqx.is_array)
        x0 = jax.random.normal(jax.random.PRNGKey(2), (64, 2))
        log_sigma = jnp.zeros(64)
        eps = jax.random.normal(jax.random.PRNGKey(3), (64, 2))
        _, whole = sharded_value_and_grad(params, static, x0, log_sigma, eps, 1)
        _, half = sharded_value_and_grad(params, static, x0[:32], log_sigma[:32], eps[:32], 1)
        assert not np.allclose(jax.tree.leaves(whole)[0], jax.tree.leaves(half)[0], rtol=1e-3)

    def test_sharded_training_is_deterministic_and_close_to_unsharded(self):
        data = sample(SPEC, 1_000, 0)
        one = fit(
            data, SMALL, TrainingConfig(**{**_cfg().to_dict(), "shards": 1}), 0, progress=False
        )
        two = fit(data, SMALL, _cfg(), 0, progress=False)
        again = fit(data, SMALL, _cfg(), 0, progress=False)
        assert two.meta["loss_per_chunk"] == again.meta["loss_per_chunk"]
        np.testing.assert_allclose(
            one.meta["loss_per_chunk"], two.meta["loss_per_chunk"], rtol=1e-3
        )


class TestFit:
    def test_same_seed_same_numbers(self, rng):
        data = sample(SPEC, 1_000, 0)
        a = fit(data, SMALL, _cfg(), seed=3, progress=False)
        b = fit(data, SMALL, _cfg(), seed=3, progress=False)
        c = fit(data, SMALL, _cfg(), seed=4, progress=False)
        x = rng.standard_normal((10, 2))
        np.testing.assert_array_equal(a.score(x, 0.3), b.score(x, 0.3))
        assert a.meta["loss_per_chunk"] == b.meta["loss_per_chunk"]
        assert not np.array_equal(a.score(x, 0.3), c.score(x, 0.3))

    def test_loss_decreases_and_score_improves(self, rng):
        data = sample(SPEC, 2_000, 0)
        model = fit(data, SMALL, _cfg(steps=2_000, chunk=500), seed=0, progress=False)
        losses = model.meta["loss_per_chunk"]
        assert losses[-1] < 0.8 * losses[0]
        # the normal stiffness σ²·s_normal → 1 is learnt first: training must at least halve the error
        untrained = fit(data, SMALL, _cfg(steps=200, chunk=200), seed=0, progress=False)
        x = sample(SPEC, 200, rng) + 0.1 * rng.standard_normal((200, 2))

        def stiffness_error(m):
            return abs(np.median(-m.jacobian(x, 0.1)[:, 1, 1]) * 0.1**2 - 1)

        assert stiffness_error(untrained) > 0.3  # so that this test can fail
        assert stiffness_error(model) < 0.5 * stiffness_error(untrained)

    def test_bad_data(self):
        with pytest.raises(ValueError, match="data"):
            fit(np.zeros(5), SMALL, _cfg(), seed=0, progress=False)
        with pytest.raises(ValueError, match="data"):
            fit(np.full((5, 2), np.nan), SMALL, _cfg(), seed=0, progress=False)


class TestCache:
    def test_second_call_hits_the_cache(self, model_cache, rng):
        first = train(SPEC, SMALL, _cfg(), seed=0, progress=False)
        second = train(SPEC, SMALL, _cfg(), seed=0, progress=False)
        assert (first.meta["cache"], second.meta["cache"]) == ("miss", "hit")
        x = rng.standard_normal((8, 2))
        np.testing.assert_array_equal(first.score(x, 0.2), second.score(x, 0.2))
        assert (
            second.meta["seconds"] == first.meta["seconds"]
        )  # the training record travels with the weights
        assert len(list(model_cache.glob("*.npz"))) == 1

    def test_key_changes_with_every_input(self):
        base = {
            "spec": SPEC.to_dict(),
            "network": SMALL.to_dict(),
            "training": _cfg().to_dict(),
            "seed": 0,
        }
        keys = {cache.cache_key(base)}
        keys.add(cache.cache_key({**base, "seed": 1}))
        keys.add(cache.cache_key({**base, "spec": LinearGaussian([2.0], 2).to_dict()}))
        keys.add(cache.cache_key({**base, "training": _cfg(steps=600).to_dict()}))
        keys.add(cache.cache_key({**base, "network": NetworkConfig(width=33, depth=2).to_dict()}))
        assert len(keys) == 5

    def test_interrupted_write_leaves_nothing(self, model_cache, monkeypatch):
        def broken_savez(f, **arrays):
            f.write(b"PK\x03\x04 half a zip file")
            raise KeyboardInterrupt

        monkeypatch.setattr(np, "savez", broken_savez)
        with pytest.raises(KeyboardInterrupt):
            train(SPEC, SMALL, _cfg(), seed=0, progress=False)
        assert list(model_cache.iterdir()) == []

    def test_mismatched_or_corrupt_entries_do_not_load(self, model_cache):
        model = train(SPEC, SMALL, _cfg(), seed=0, progress=False)
        path = next(model_cache.glob("*.npz"))
        other = train(SPEC, NetworkConfig(width=16, depth=2), _cfg(), seed=0, progress=False)
        assert cache.load(path, other.network) is None  # shapes differ
        path.write_bytes(path.read_bytes()[:100])
        assert cache.load(path, model.network) is None

    @pytest.mark.slow
    def test_killed_training_leaves_no_entry(self, model_cache):
        script = textwrap.dedent(
            """
            from empirical.models import NetworkConfig
            from empirical.training import TrainingConfig, train
            from theory.distributions import LinearGaussian
            train(LinearGaussian([1.0], 2), NetworkConfig(width=32, depth=2),
                  TrainingConfig(steps=1_000_000, chunk_steps=1_000, n_data=2_000), seed=0, progress=False)
            """
        )
        proc = subprocess.Popen([sys.executable, "-c", script])
        try:
            time.sleep(10)  # import, compile, then some thousands of steps
            assert proc.poll() is None, "training finished before it could be killed"
        finally:
            proc.kill()
            proc.wait()
        entries = list(model_cache.glob("*.npz")) if model_cache.exists() else []
        assert entries == []


class TestNoiseSampling:
    """``noise_sampling``: σ log-uniform (default) or t = σ² uniform on [σ_min², σ_max²]."""

    def test_default_is_log_uniform(self):
        assert TrainingConfig().noise_sampling == "log_uniform"
        assert TrainingConfig().to_dict()["noise_sampling"] == "log_uniform"

    def test_uniform_t_enters_the_record_and_the_key(self):
        cfg = TrainingConfig(noise_sampling="uniform_t")
        assert cfg.to_dict()["noise_sampling"] == "uniform_t"
        base = {"spec": SPEC.to_dict(), "network": SMALL.to_dict(), "seed": 0}
        keys = {
            cache.cache_key({**base, "training": TrainingConfig().to_dict()}),
            cache.cache_key({**base, "training": cfg.to_dict()}),
        }
        assert len(keys) == 2

    @pytest.mark.parametrize("value", ["uniform", "log-uniform", "", None])
    def test_unknown_value(self, value):
        with pytest.raises(ValueError, match="noise_sampling"):
            TrainingConfig(noise_sampling=value)

    def test_uniform_t_fit_learns_its_objective(self):
        r"""Reference: the EDM-weighted DSM loss on a fixed held-out batch with t uniform, computed
        here in numpy, for the initial network, the exact denoiser of the data law (its minimiser)
        and networks trained with either sampling."""
        data = sample(SPEC, 1_000, 0)
        cfg = _cfg()
        uniform_cfg = TrainingConfig(**{**cfg.to_dict(), "noise_sampling": "uniform_t"})
        model = fit(data, SMALL, uniform_cfg, seed=0, progress=False)
        assert model.meta["training"]["noise_sampling"] == "uniform_t"
        assert np.all(np.isfinite(model.meta["loss_per_chunk"]))
        log_model = fit(data, SMALL, cfg, seed=0, progress=False)

        n = 4_096
        ev = np.random.default_rng(5)
        x0 = sample(SPEC, n, 1)
        sigma = np.sqrt(ev.uniform(cfg.sigma_min**2, cfg.sigma_max**2, n))
        x = x0 + sigma[:, None] * ev.standard_normal((n, 2))
        c_out = sigma * SMALL.sigma_data / np.sqrt(sigma**2 + SMALL.sigma_data**2)

        def loss(denoised):
            return float(np.mean(((denoised - x0) / c_out[:, None]) ** 2))

        # the initial network of fit(seed=0): the first half of the split seed key
        k_init, _ = jax.random.split(jax.random.PRNGKey(0))
        initial = loss(ScoreModel(build_network(SMALL, 2, k_init), 2).denoiser(x, sigma))
        optimum = loss(SPEC.denoiser(x, sigma))
        trained = loss(model.denoiser(x, sigma))
        assert initial - optimum > 0.02  # room to learn, so that this test can fail
        assert trained - optimum < 0.5 * (initial - optimum)
        # sampling t uniformly is what this objective weights: it must beat log-uniform sampling
        assert trained < loss(log_model.denoiser(x, sigma))
