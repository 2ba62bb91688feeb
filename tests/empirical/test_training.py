"""Training: determinism, learning, the cache (hits, atomic writes, killed runs)."""

import subprocess
import sys
import textwrap
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from scipy import stats

from empirical import cache
from empirical.data import sample
from empirical.models import NetworkConfig, ScoreModel, build_network, decay_mask
from empirical.training import (
    TrainingConfig,
    _optimizer,
    dsm_loss,
    ema_update,
    fit,
    regression_loss,
    regression_target,
    sample_t,
    sharded_value_and_grad,
    train,
)
from theory.distributions import FiniteSet, LinearGaussian
from theory.smoothing import empirical_score

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

    def test_validation_of_the_later_fields(self):
        with pytest.raises(ValueError, match="objective"):
            TrainingConfig(objective="regression")
        with pytest.raises(ValueError, match="schedule"):
            TrainingConfig(schedule="cosine")
        with pytest.raises(ValueError, match="warmup_steps must be 0"):
            TrainingConfig(schedule="constant")  # the default warm-up of 1 000 steps
        with pytest.raises(ValueError, match="weight_decay"):
            TrainingConfig(weight_decay=-1.0)
        for bad in (-0.1, 1.0):
            with pytest.raises(ValueError, match="ema_decay"):
                TrainingConfig(ema_decay=bad)

    def test_record_holds_every_field_but_later_defaults(self):
        record = TrainingConfig().to_dict()
        later = {"objective", "schedule", "weight_decay", "ema_decay"}
        assert set(record) == set(TrainingConfig.__dataclass_fields__) - later
        assert record["shards"] == 2
        changed = TrainingConfig(
            objective="score_regression",
            schedule="constant",
            warmup_steps=0,
            weight_decay=0.5,
            ema_decay=0.99,
        ).to_dict()
        assert set(changed) == set(TrainingConfig.__dataclass_fields__)
        assert (changed["objective"], changed["schedule"]) == ("score_regression", "constant")
        assert (changed["weight_decay"], changed["ema_decay"]) == (0.5, 0.99)


#: The record of TrainingConfig() before the later fields existed (cache format 2), written out.
PRE_CHANGE_DEFAULT = {
    "steps": 30_000,
    "batch_size": 512,
    "learning_rate": 2e-3,
    "warmup_steps": 1_000,
    "sigma_min": 0.01,
    "sigma_max": 5.0,
    "n_data": 20_000,
    "chunk_steps": 1_000,
    "noise_sampling": "log_uniform",
    "shards": 2,
}


class TestCacheKeysUnchanged:
    """Models cached before the later fields (and the time-conditioned kind) keep their keys."""

    def test_default_training_record_and_key(self):
        assert TrainingConfig().to_dict() == PRE_CHANGE_DEFAULT
        base = {"spec": SPEC.to_dict(), "network": NetworkConfig().to_dict(), "seed": 0}
        assert cache.cache_key({**base, "training": TrainingConfig().to_dict()}) == cache.cache_key(
            {**base, "training": PRE_CHANGE_DEFAULT}
        )

    def test_a_non_default_earlier_record(self):
        # the shape of a claim's recipe: earlier fields changed, later ones at their defaults
        cfg = TrainingConfig(steps=20_000, warmup_steps=1_000, noise_sampling="uniform_t")
        expected = {**PRE_CHANGE_DEFAULT, "steps": 20_000, "noise_sampling": "uniform_t"}
        assert cfg.to_dict() == expected

    def test_network_record(self):
        assert NetworkConfig().to_dict() == {
            "kind": "edm",
            "width": 128,
            "depth": 3,
            "activation": "silu",
            "sigma_data": 1.0,
        }

    def test_a_later_field_changes_the_key(self):
        base = {"spec": SPEC.to_dict(), "network": SMALL.to_dict(), "seed": 0}
        keys = {cache.cache_key({**base, "training": TrainingConfig().to_dict()})}
        for extra in (
            {"objective": "score_regression"},
            {"schedule": "constant", "warmup_steps": 0},
            {"weight_decay": 1e-4},
            {"ema_decay": 0.999},
        ):
            keys.add(cache.cache_key({**base, "training": TrainingConfig(**extra).to_dict()}))
        assert len(keys) == 5


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
        with pytest.warns(cache.CacheEntryWarning, match="leaf_0000"):
            assert cache.load(path, other.network) is None  # shapes differ
        path.write_bytes(path.read_bytes()[:100])
        with pytest.warns(cache.CacheEntryWarning, match="unreadable"):
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


# --------------------------------------------------------------------------------------------
# The later features: EMA, masked weight decay, the constant schedule, cube-law t, score regression

TIME_NET = NetworkConfig(kind="time_conditioned", width=32, depth=1, activation="relu")


class TestEMA:
    def test_known_sequence(self):
        """ema_n = β^n p_0 + (1 − β) Σ_{k=1..n} β^{n−k} p_k for a written-out sequence p_k."""
        beta = 0.9
        seq = np.array([3.0, -1.0, 4.0, 1.0, -5.0, 9.0, 2.0])
        ema = {"w": jnp.asarray(seq[0])}
        for p in seq[1:]:
            ema = ema_update(ema, {"w": jnp.asarray(p)}, beta)
        n = seq.size - 1
        closed = beta**n * seq[0] + (1 - beta) * sum(
            beta ** (n - k) * seq[k] for k in range(1, n + 1)
        )
        np.testing.assert_allclose(float(ema["w"]), closed, rtol=1e-6)
        assert abs(closed - seq[-1]) > 0.3  # the average is not the last value

    def test_fit_returns_the_ema_of_the_trajectory(self):
        """Two one-step chunks: the weights after each step come from fits of 1 and 2 steps
        (the same keys), so the EMA of fit(steps=2) is known leaf by leaf."""
        data = sample(SPEC, 500, 0)

        def cfg(steps, ema=0.0):
            return TrainingConfig(
                steps=steps,
                chunk_steps=1,
                warmup_steps=0,
                schedule="constant",
                learning_rate=0.05,
                batch_size=64,
                ema_decay=ema,
            )

        k_init, _ = jax.random.split(jax.random.PRNGKey(0))
        p0 = eqx.filter(build_network(SMALL, 2, k_init), eqx.is_array)
        path = [p0] + [
            eqx.filter(fit(data, SMALL, cfg(k), 0, progress=False).network, eqx.is_array)
            for k in (1, 2)
        ]
        beta = 0.5
        expected = jax.tree.map(lambda a, b, c: beta**2 * a + (1 - beta) * (beta * b + c), *path)
        got = eqx.filter(fit(data, SMALL, cfg(2, beta), 0, progress=False).network, eqx.is_array)
        for g, e in zip(jax.tree.leaves(got), jax.tree.leaves(expected), strict=True):
            np.testing.assert_allclose(np.asarray(g), np.asarray(e), rtol=1e-5, atol=1e-6)
        assert not np.allclose(jax.tree.leaves(got)[0], jax.tree.leaves(path[-1])[0])


class TestWeightDecay:
    def _one_update_with_zero_gradients(self, net, wd, lr=0.1):
        """Adam's update of a zero gradient is 0, so only the decoupled decay moves a leaf."""
        params = eqx.filter(net, eqx.is_array)
        cfg = TrainingConfig(
            steps=10,
            chunk_steps=10,
            warmup_steps=0,
            schedule="constant",
            learning_rate=lr,
            weight_decay=wd,
        )
        opt = _optimizer(cfg, decay_mask(net))
        zero = jax.tree.map(jnp.zeros_like, params)
        updates, _ = jax.jit(opt.update)(zero, opt.init(params), params)
        return params, optax.apply_updates(params, updates)

    def test_masked_leaves_are_not_decayed(self, getkey):
        net = build_network(TIME_NET, 2, getkey())
        # give every leaf non-zero values (the output layer and the head start at zero)
        net = jax.tree.map(lambda a: a + 0.5 if eqx.is_array(a) else a, net)
        before, after = self._one_update_with_zero_gradients(net, wd=2.0, lr=0.1)
        for part in ("main", "embed", "head"):
            for b, a in zip(
                jax.tree.leaves(getattr(before, part)),
                jax.tree.leaves(getattr(after, part)),
                strict=True,
            ):
                factor = 1 - 0.1 * 2.0 if part == "main" else 1.0
                np.testing.assert_allclose(np.asarray(a), factor * np.asarray(b), rtol=1e-6)

    def test_mask_of_the_time_network(self, getkey):
        mask = decay_mask(build_network(TIME_NET, 2, getkey()))
        assert all(jax.tree.leaves(mask.main)) and len(jax.tree.leaves(mask.main)) == 4
        assert not any(jax.tree.leaves(mask.embed)) and len(jax.tree.leaves(mask.embed)) == 4
        assert not any(jax.tree.leaves(mask.head)) and len(jax.tree.leaves(mask.head)) == 2

    def test_edm_network_is_decayed_everywhere(self, getkey):
        net = build_network(SMALL, 2, getkey())
        before, after = self._one_update_with_zero_gradients(net, wd=1.0, lr=0.1)
        for b, a in zip(jax.tree.leaves(before), jax.tree.leaves(after), strict=True):
            np.testing.assert_allclose(np.asarray(a), 0.9 * np.asarray(b), rtol=1e-6)

    def test_no_decay_is_plain_adam(self, getkey):
        net = build_network(SMALL, 2, getkey())
        before, after = self._one_update_with_zero_gradients(net, wd=0.0)
        for b, a in zip(jax.tree.leaves(before), jax.tree.leaves(after), strict=True):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


class TestSchedule:
    def test_constant_and_warmup_cosine(self):
        """Adam's first steps on a constant gradient move by ≈ lr each: constant from step 1 with
        ``schedule="constant"``, from 0 upwards with the warm-up."""
        params = {"w": jnp.zeros(())}
        grad = {"w": jnp.ones(())}

        def moves(cfg):
            opt = _optimizer(cfg)
            state = opt.init(params)
            out = []
            for _ in range(5):
                updates, state = opt.update(grad, state, params)
                out.append(-float(updates["w"]))
            return np.array(out)

        const = moves(
            TrainingConfig(
                steps=100, chunk_steps=100, warmup_steps=0, schedule="constant", learning_rate=0.01
            )
        )
        np.testing.assert_allclose(const, 0.01, rtol=1e-4)
        warm = moves(
            TrainingConfig(steps=100, chunk_steps=100, warmup_steps=10, learning_rate=0.01)
        )
        assert warm[0] == 0.0 and np.all(np.diff(warm) > 0)


class TestCubeLaw:
    def test_cube_root_of_t_is_uniform(self):
        cfg = TrainingConfig(sigma_min=1e-3, sigma_max=np.sqrt(0.02), noise_sampling="cube_t")
        t = np.asarray(sample_t(jax.random.PRNGKey(0), (20_000,), cfg), np.float64)
        a, b = np.cbrt(1e-6), np.cbrt(0.02)
        assert t.min() >= 1e-6 * (1 - 1e-5) and t.max() <= 0.02 * (1 + 1e-5)
        u = (np.cbrt(t) - a) / (b - a)
        assert stats.kstest(u, "uniform").pvalue > 1e-3
        # and it is not uniform in t itself (so that this test can fail)
        assert stats.kstest((t - 1e-6) / (0.02 - 1e-6), "uniform").pvalue < 1e-6

    def test_the_other_laws(self):
        key = jax.random.PRNGKey(1)
        lo, hi = 0.01, 5.0
        t = np.asarray(sample_t(key, (20_000,), TrainingConfig(sigma_min=lo, sigma_max=hi)))
        u = (np.log(np.sqrt(t)) - np.log(lo)) / (np.log(hi) - np.log(lo))
        assert stats.kstest(u, "uniform").pvalue > 1e-3
        cfg = TrainingConfig(sigma_min=lo, sigma_max=hi, noise_sampling="uniform_t")
        t = np.asarray(sample_t(key, (20_000,), cfg), np.float64)
        assert stats.kstest((t - lo**2) / (hi**2 - lo**2), "uniform").pvalue > 1e-3


class TestScoreRegression:
    POINTS = np.array([[-1.0, 0.0], [-1 / 3, 0.0], [1 / 3, 0.0], [1.0, 0.0]])

    @pytest.mark.parametrize("sigma", [1e-3, 0.05, 0.3, 2.0])
    def test_target_is_sqrt_t_times_the_empirical_score(self, sigma, rng):
        """Reference: theory.smoothing.empirical_score (FiniteSet.score, float64)."""
        pts = self.POINTS
        idx = rng.integers(0, 4, 200)
        eps = rng.standard_normal((200, 2))
        x = pts[idx] + sigma * eps
        ref = sigma * empirical_score(x, sigma**2, pts)
        got = regression_target(
            jnp.asarray(pts[idx], jnp.float32),
            jnp.full(200, sigma, jnp.float32),
            jnp.asarray(eps, jnp.float32),
            jnp.asarray(pts, jnp.float32),
        )
        np.testing.assert_allclose(np.asarray(got), ref, rtol=1e-4, atol=1e-4)
        # the target is not −ε (that would be the DSM label, exact only near a single point)
        if sigma >= 0.3:
            assert np.max(np.abs(ref + eps)) > 0.1

    def test_loss_of_the_exact_field_is_zero_and_of_another_is_not(self, rng):
        pts = jnp.asarray(self.POINTS, jnp.float32)

        class Exact(eqx.Module):
            def scaled_score(self, x, sigma):
                t = sigma**2
                return sigma * jnp.asarray(
                    jax.grad(
                        lambda z: jax.scipy.special.logsumexp(
                            -jnp.sum((z[None] - pts) ** 2, 1) / (2 * t)
                        )
                    )(x)
                )

        idx = rng.integers(0, 4, 64)
        x0 = pts[idx]
        log_sigma = jnp.asarray(rng.uniform(np.log(0.05), np.log(0.5), 64), jnp.float32)
        eps = jnp.asarray(rng.standard_normal((64, 2)), jnp.float32)
        loss = eqx.filter_jit(regression_loss)
        assert float(loss(Exact(), x0, log_sigma, eps, pts)) < 1e-8
        net = build_network(TIME_NET, 2, jax.random.PRNGKey(0))  # outputs 0 at initialisation
        assert float(loss(net, x0, log_sigma, eps, pts)) > 0.1

    def test_fit_learns_the_empirical_score(self):
        """Held-out regression loss (computed here in numpy from FiniteSet.score): the trained
        time-conditioned network must close most of the gap between its initial value (output 0)
        and the optimum 0."""
        pts = self.POINTS
        cfg = TrainingConfig(
            steps=1_500,
            chunk_steps=500,
            warmup_steps=0,
            schedule="constant",
            learning_rate=3e-3,
            batch_size=256,
            sigma_min=0.05,
            sigma_max=0.5,
            noise_sampling="cube_t",
            objective="score_regression",
        )
        model = fit(pts, TIME_NET, cfg, seed=0, progress=False)
        ev = np.random.default_rng(3)
        n = 4_000
        sigma = np.sqrt(np.asarray(sample_t(jax.random.PRNGKey(9), (n,), cfg), np.float64))
        x = pts[ev.integers(0, 4, n)] + sigma[:, None] * ev.standard_normal((n, 2))
        target = sigma[:, None] * FiniteSet(pts).score(x, sigma)

        def loss(out):
            return float(np.mean(np.sum((target - out) ** 2, axis=1)))

        initial = loss(np.zeros_like(target))
        trained = loss(sigma[:, None] * model.score(x, sigma))
        assert initial > 0.3  # room to learn, so that this test can fail
        assert trained < 0.3 * initial

    def test_train_uses_the_points_and_caches(self, model_cache, rng):
        cfg = TrainingConfig(
            steps=100,
            chunk_steps=100,
            warmup_steps=0,
            schedule="constant",
            learning_rate=1e-3,
            batch_size=64,
            objective="score_regression",
            noise_sampling="cube_t",
            weight_decay=0.1,
        )
        spec = FiniteSet(self.POINTS)
        first = train(spec, TIME_NET, cfg, seed=0, progress=False)
        second = train(spec, TIME_NET, cfg, seed=0, progress=False)
        assert (first.meta["cache"], second.meta["cache"]) == ("miss", "hit")
        assert second.meta["training"]["objective"] == "score_regression"
        x = rng.standard_normal((8, 2))
        np.testing.assert_array_equal(first.score(x, 0.2), second.score(x, 0.2))
        # the points themselves are the data: n_data does not enter
        third = train(
            spec, TIME_NET, TrainingConfig(**{**cfg.to_dict(), "n_data": 7}), 0, progress=False
        )
        np.testing.assert_array_equal(first.score(x, 0.2), third.score(x, 0.2))

    def test_needs_a_finite_set(self):
        cfg = TrainingConfig(objective="score_regression")
        with pytest.raises(ValueError, match="FiniteSet"):
            train(SPEC, SMALL, cfg, seed=0, progress=False)


def test_cache_recording_sees_every_save_and_hit(tmp_path, getkey):
    """What the runner reports as a claim's training cost: a save is a miss, a load a hit."""
    net = build_network(NetworkConfig(width=8, depth=1), 2, getkey())
    path = tmp_path / "entry.npz"
    with cache.recording() as outer:
        cache.save(path, net, {"seconds": 1.5})
        with cache.recording() as inner:
            assert cache.load(path, net) is not None
            assert cache.load(tmp_path / "missing.npz", net) is None  # nothing to record
    assert outer == [
        {"key": "entry", "cache": "miss", "seconds": 1.5},
        {"key": "entry", "cache": "hit", "seconds": 1.5},
    ]
    assert inner == outer[1:]
    cache.load(path, net)  # outside any recording: nothing is kept
    assert len(outer) == 2


def test_constant_rate_run_stopped_early_is_a_checkpoint_of_a_longer_run():
    # A run of the constant-rate recipe stopped at k chunks has the weights of a longer run of the
    # same seed after its first k chunks (the generalise-then-memorise claim reads its checkpoints so)
    pts = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    net = NetworkConfig(width=16, depth=2, activation="relu", sigma_data=0.7)

    def config(steps):
        return TrainingConfig(
            steps=steps,
            batch_size=8,
            learning_rate=1e-3,
            warmup_steps=0,
            schedule="constant",
            chunk_steps=50,
            shards=1,
            n_data=64,
        )

    short = fit(sample(FiniteSet(pts), 64, 3), net, config(100), 3, progress=False)
    long = fit(sample(FiniteSet(pts), 64, 3), net, config(200), 3, progress=False)
    assert long.meta["loss_per_chunk"][:2] == short.meta["loss_per_chunk"]
    x = np.array([[0.3, 0.2], [-0.5, 0.9]])
    assert not np.allclose(short.score(x, 0.1), long.score(x, 0.1))  # the longer run moved on
    # and the warm-up/cosine recipe has no such prefix: its rate depends on the total length
    warm = TrainingConfig(steps=100, batch_size=8, warmup_steps=10, chunk_steps=50, shards=1)
    warm_long = TrainingConfig(steps=200, batch_size=8, warmup_steps=10, chunk_steps=50, shards=1)
    a = fit(sample(FiniteSet(pts), 64, 3), net, warm, 3, progress=False)
    b = fit(sample(FiniteSet(pts), 64, 3), net, warm_long, 3, progress=False)
    assert a.meta["loss_per_chunk"][1] != b.meta["loss_per_chunk"][1]
