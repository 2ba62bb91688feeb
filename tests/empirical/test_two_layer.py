r"""The fixed-t two-layer ReLU fits of the empirical score (paper004 §2.1, VE with variance t).

References are built here, not taken from :mod:`empirical.two_layer`: the networks against the
explicit formulas :math:`\sum_i a_i\,\mathrm{relu}(w_i x + b_i) + c\,(+\,r x)` in numpy, the fits
against the data-fit loss of their own initial networks on samples rebuilt from the documented
recipes, the regression target against :func:`theory.smoothing.empirical_score`, and the loss
quadrature against fields whose loss is known in closed form.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from empirical import two_layer
from empirical.two_layer import (
    FixedTimeConfig,
    FixedTimeFit,
    RegressionConfig,
    RegressionFit,
    SkipReLU,
    TwoLayerReLU,
    decay_mask,
    fit_fixed_time,
    fit_regression,
    fixed_time_loss,
    make_optimizer,
    regression_target,
    sample_noised,
    train_fixed_time,
    train_regression,
)
from theory.smoothing import empirical_score

POINTS = np.array([[-1.0], [1.0]])
T = 0.1
WIDTH = 24  # one width throughout: each new shape costs a JAX compilation
TINY = FixedTimeConfig(width=WIDTH, steps=400, n_samples=300, learning_rate=1e-2)


def _explicit(net: TwoLayerReLU, x: np.ndarray) -> np.ndarray:
    w, b, a, c = (np.asarray(p, np.float64) for p in (net.w, net.b, net.a, net.c))
    return np.maximum(x[..., None] * w + b, 0.0) @ a + c


def _sample(points, t, n_samples, seed):
    """The documented sample and target: x ~ p_t^{(n)}, target t·∇log p_t^{(n)}(x)."""
    rng = np.random.default_rng(seed)
    x = points[rng.integers(0, points.shape[0], n_samples), 0]
    x = x + np.sqrt(t) * rng.standard_normal(n_samples)
    return x, t * empirical_score(x[:, None], t, points)[:, 0]


def _fit_loss(g, x, target) -> float:
    return float(np.mean((g(x) - target) ** 2))


@pytest.fixture(scope="module")
def base_fit() -> FixedTimeFit:
    return fit_fixed_time(POINTS, T, 0.0, TINY, seed=0)


class TestNetwork:
    def test_evaluates_without_rank_promotion(self, getkey):
        net = TwoLayerReLU(WIDTH, getkey())
        with jax.numpy_rank_promotion("raise"):
            out = net(jnp.zeros(5, jnp.float32))
            grid = net(jnp.zeros((2, 3), jnp.float32))
        assert out.shape == (5,)
        assert grid.shape == (2, 3)

    @pytest.mark.parametrize("repeat", range(3))
    def test_explicit_formula(self, repeat, getkey, rng):
        net = TwoLayerReLU(WIDTH, getkey())
        x = 3.0 * rng.standard_normal((4, 5))
        out = np.asarray(net(jnp.asarray(x, jnp.float32)), np.float64)
        assert out.shape == x.shape
        xf = np.asarray(jnp.asarray(x, jnp.float32), np.float64)
        np.testing.assert_allclose(out, _explicit(net, xf), rtol=1e-5, atol=1e-6)

    def test_formula_with_offset(self, getkey, rng):
        net = TwoLayerReLU(WIDTH, getkey())
        net = eqx.tree_at(lambda m: m.c, net, jnp.asarray(0.75, jnp.float32))
        x = rng.uniform(-3, 3, 50)
        out = np.asarray(net(jnp.asarray(x, jnp.float32)), np.float64)
        np.testing.assert_allclose(out, _explicit(net, x), rtol=1e-5, atol=1e-5)
        # outside all kinks on the right the network is affine with slope sum_{w_i > 0} a_i
        w, a = np.asarray(net.w, np.float64), np.asarray(net.a, np.float64)
        right = np.asarray(net(jnp.asarray([3.0, 4.0], jnp.float32)), np.float64)
        assert right[1] - right[0] == pytest.approx(a[w > 0].sum(), abs=1e-5)

    def test_init(self, getkey):
        net = TwoLayerReLU(WIDTH, getkey())
        w, b, a = (np.asarray(p, np.float64) for p in (net.w, net.b, net.a))
        assert {p.dtype for p in (net.w, net.b, net.a, net.c)} == {np.dtype(np.float32)}
        assert w.shape == b.shape == a.shape == (WIDTH,)
        assert set(np.unique(w)) <= {-1.0, 1.0}
        assert np.unique(w).size == 2  # both signs occur (all equal has probability 2^-23)
        kinks = -b / w
        assert np.all((kinks >= -2.0) & (kinks <= 2.0))
        assert kinks.min() < -1.0 and kinks.max() > 1.0  # spread over the interval
        assert float(net.c) == 0.0
        # a ~ N(0, 1/m): m·||a||² is chi-square with m = 24 dof (mean 24, sd ~7)
        assert 0.3 < np.sum(a**2) < 2.5

    def test_scale(self, getkey):
        net = TwoLayerReLU(WIDTH, getkey(), scale=0.5)
        kinks = -np.asarray(net.b) / np.asarray(net.w)
        assert np.all(np.abs(kinks) <= 0.5)

    def test_weight_norm(self, getkey):
        net = TwoLayerReLU(WIDTH, getkey())
        w, a = np.asarray(net.w, np.float64), np.asarray(net.a, np.float64)
        assert float(net.weight_norm()) == pytest.approx(np.sum(w**2) + np.sum(a**2), rel=1e-6)
        assert float(net.weight_norm()) > WIDTH - 1e-6  # ||w||^2 = m for w = ±1


class TestFit:
    def test_lowers_the_data_fit_loss(self, base_fit):
        x, target = _sample(POINTS, T, TINY.n_samples, 0)
        x32 = np.asarray(jnp.asarray(x, jnp.float32), np.float64)
        init = TwoLayerReLU(TINY.width, jax.random.PRNGKey(0))

        def g0(z):
            return np.asarray(init(jnp.asarray(z, jnp.float32)), np.float64)

        initial = _fit_loss(g0, x32, target)
        final = _fit_loss(base_fit.g, x32, target)
        assert final == pytest.approx(base_fit.loss, rel=1e-3, abs=1e-6)
        assert final < 0.25 * initial
        # and beats the best constant (the target has mean ~0 and variance of order 1)
        assert final < 0.5 * np.var(target)

    def test_record(self, base_fit):
        assert base_fit.t == T and base_fit.lam == 0.0 and base_fit.seed == 0
        assert base_fit.config == TINY
        np.testing.assert_array_equal(base_fit.points, POINTS)
        assert base_fit.to_dict() == {
            "t": T,
            "lam": 0.0,
            "config": {"width": 24, "steps": 400, "n_samples": 300, "learning_rate": 1e-2},
            "seed": 0,
        }
        assert np.isfinite(base_fit.loss) and base_fit.loss >= 0

    def test_score_is_g_over_t(self, base_fit, rng):
        x = rng.uniform(-2, 2, (3, 7))
        g = base_fit.g(x)
        assert g.shape == x.shape and g.dtype == np.float64
        np.testing.assert_array_equal(base_fit.score(x), g / T)

    def test_g_rejects_non_finite(self, base_fit):
        with pytest.raises(ValueError, match="x"):
            base_fit.g(np.array([0.0, np.nan]))

    def test_seed_determinism(self, base_fit, rng):
        again = fit_fixed_time(POINTS, T, 0.0, TINY, seed=np.int64(0))  # numpy ints are seeds too
        other = fit_fixed_time(POINTS, T, 0.0, TINY, seed=1)
        x = rng.uniform(-2, 2, 40)
        np.testing.assert_array_equal(again.g(x), base_fit.g(x))
        assert again.loss == base_fit.loss
        assert not np.array_equal(other.g(x), base_fit.g(x))

    def test_weight_decay_shrinks_the_norm(self, base_fit):
        decayed = fit_fixed_time(POINTS, T, 1e-2, TINY, seed=0)
        assert float(decayed.network.weight_norm()) < 0.9 * float(base_fit.network.weight_norm())
        # the penalty trades data fit for norm
        assert decayed.loss > base_fit.loss
        # and the reported loss is the data-fit term alone, without λ·(||w||² + ||a||²)
        x, target = _sample(POINTS, T, TINY.n_samples, 0)
        assert decayed.loss == pytest.approx(_fit_loss(decayed.g, x, target), rel=1e-3)


class TestValidation:
    @pytest.mark.parametrize(
        "points",
        [
            np.array([-1.0, 1.0]),  # (n,)
            np.array([[-1.0, 0.0], [1.0, 0.0]]),  # (n, 2)
            np.array([[0.0]]),  # n = 1
            np.array([[-1.0], [np.nan]]),  # not finite
        ],
    )
    def test_bad_points(self, points):
        with pytest.raises(ValueError, match="points"):
            fit_fixed_time(points, T, 0.0, TINY, seed=0)

    @pytest.mark.parametrize("t", [0.0, -0.1, np.nan])
    def test_bad_t(self, t):
        with pytest.raises(ValueError, match=r"\bt\b"):
            fit_fixed_time(POINTS, t, 0.0, TINY, seed=0)

    @pytest.mark.parametrize("lam", [-1e-3, np.nan])
    def test_bad_lam(self, lam):
        with pytest.raises(ValueError, match="lam"):
            fit_fixed_time(POINTS, T, lam, TINY, seed=0)

    @pytest.mark.parametrize("seed", [-1, True, False, 1.0, "0", None])
    def test_bad_seed(self, seed):
        with pytest.raises(ValueError, match="seed"):
            fit_fixed_time(POINTS, T, 0.0, TINY, seed=seed)

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("width", 0),
            ("width", -3),
            ("width", True),
            ("width", 16.0),
            ("steps", 0),
            ("steps", 19),
            ("steps", 100.0),
            ("n_samples", 0),
            ("n_samples", 100.5),
            ("n_samples", "100"),
            ("learning_rate", 0.0),
            ("learning_rate", -1e-3),
            ("learning_rate", np.nan),
        ],
    )
    def test_bad_config(self, field, value):
        with pytest.raises(ValueError, match=field):
            FixedTimeConfig(**{field: value})

    def test_minimal_config_ok(self):
        cfg = FixedTimeConfig(width=1, steps=20, n_samples=1, learning_rate=1e-9)
        assert cfg.steps == 20


class TestCache:
    """``train_fixed_time``: the fit of a problem is computed once, then loaded bit for bit."""

    def test_second_call_loads_the_same_fit(self, model_cache):
        first = train_fixed_time(POINTS, T, 0.0, TINY, seed=0)
        assert len(list(model_cache.glob("*.npz"))) == 1
        second = train_fixed_time(POINTS, T, 0.0, TINY, seed=0)
        x = np.linspace(-2, 2, 33)
        np.testing.assert_array_equal(first.g(x), second.g(x))
        assert (second.loss, second.seconds) == (first.loss, first.seconds)
        assert len(list(model_cache.glob("*.npz"))) == 1

    def test_every_input_enters_the_key(self, model_cache):
        train_fixed_time(POINTS, T, 0.0, TINY, seed=0)
        train_fixed_time(POINTS, T, 1e-3, TINY, seed=0)
        train_fixed_time(POINTS, T, 0.0, TINY, seed=1)
        train_fixed_time(POINTS, 0.2, 0.0, TINY, seed=0)
        train_fixed_time(np.array([[-1.0], [0.5]]), T, 0.0, TINY, seed=0)
        assert len(list(model_cache.glob("*.npz"))) == 5

    def test_fresh_fit_equals_uncached_fit(self, model_cache, base_fit):
        cached = train_fixed_time(POINTS, T, 0.0, TINY, seed=0)
        x = np.linspace(-2, 2, 33)
        np.testing.assert_array_equal(cached.g(x), base_fit.g(x))


# --------------------------------------------------------------------------------------------
# The notebook's Fig. 2 recipe: SkipReLU regressed onto √t·ESF with masked AdamW

TINY_REG = RegressionConfig(width=WIDTH, steps=100, batch=128, learning_rate=3e-2)  # 1 step a block


def _explicit_skip(net: SkipReLU, x: np.ndarray) -> np.ndarray:
    w, b, a, c, r = (np.asarray(p, np.float64) for p in (net.w, net.b, net.a, net.c, net.r))
    return np.maximum(x[..., None] * w + b, 0.0) @ a + c + r * x


def _random_skip(key, rng) -> SkipReLU:
    """A SkipReLU with every parameter non-zero (the initial one has b = a = c = r = 0)."""
    b, a = (jnp.asarray(rng.standard_normal(WIDTH), jnp.float32) for _ in range(2))
    c, r = (jnp.asarray(rng.standard_normal(), jnp.float32) for _ in range(2))
    return eqx.tree_at(lambda m: (m.b, m.a, m.c, m.r), SkipReLU(WIDTH, key), (b, a, c, r))


_target = jax.jit(regression_target)  # t traced: one compilation per number of points
_noised = jax.jit(sample_noised, static_argnums=3)


@pytest.fixture(scope="module")
def reg_fit() -> RegressionFit:
    return fit_regression(POINTS, T, 1.0, TINY_REG, seed=0)


class TestSkipReLU:
    def test_explicit_formula(self, getkey, rng):
        net = _random_skip(getkey(), rng)
        x = 3.0 * rng.standard_normal((4, 5))
        xf = np.asarray(jnp.asarray(x, jnp.float32), np.float64)
        with jax.numpy_rank_promotion("raise"):
            out = np.asarray(net(jnp.asarray(xf, jnp.float32)), np.float64)
            scalar = net(jnp.float32(0.5))
        assert out.shape == x.shape and scalar.shape == ()
        np.testing.assert_allclose(out, _explicit_skip(net, xf), rtol=1e-5, atol=1e-5)
        assert float(scalar) == pytest.approx(_explicit_skip(net, np.array(0.5)), rel=1e-5)

    def test_init(self, getkey):
        net = SkipReLU(1024, getkey())  # the notebook's width: the scale is measurable
        w = np.asarray(net.w, np.float64)
        assert {p.dtype for p in (net.w, net.b, net.a, net.c, net.r)} == {np.dtype(np.float32)}
        assert net.c.shape == net.r.shape == ()
        # w ~ N(0, 1)/sqrt(1 + width): the sample std is within 10% (1024 draws: ~2% sd)
        assert np.std(w) * np.sqrt(1025) == pytest.approx(1.0, rel=0.1)
        for zero in (net.b, net.a, net.c, net.r):
            assert not np.any(np.asarray(zero))
        assert not np.any(np.asarray(net(jnp.linspace(-2, 2, 9))))  # the output starts at 0


class TestDecayMask:
    def test_mask(self, getkey):
        mask = decay_mask(SkipReLU(WIDTH, getkey()))
        assert (mask.w, mask.b, mask.a, mask.c, mask.r) == (True, True, True, False, False)

    @pytest.mark.parametrize("lam", [0.0, 3.0])
    def test_only_the_main_weights_decay(self, lam, getkey, rng):
        """With zero gradients Adam's step is 0: what moves is the decoupled decay alone."""
        net = _random_skip(getkey(), rng)
        lr = 1e-2
        opt = make_optimizer(lam, lr, net)
        zero = jax.tree_util.tree_map(jnp.zeros_like, net)
        updates, _ = opt.update(zero, opt.init(net), net)
        new = eqx.apply_updates(net, updates)
        for name in ("w", "b", "a"):  # decayed: p <- (1 - lr·λ) p
            np.testing.assert_allclose(
                np.asarray(getattr(new, name)),
                (1 - lr * lam) * np.asarray(getattr(net, name)),
                rtol=1e-6,
            )
        for name in ("c", "r"):  # the output bias and the skip are never decayed
            assert float(getattr(new, name)) == float(getattr(net, name))


class TestObjective:
    @pytest.mark.parametrize("t", [0.05, 0.5])
    @pytest.mark.parametrize(
        "points", [np.array([[-1.0], [1.0]]), np.array([[-1.0], [0.2], [1.5]])]
    )
    def test_target_is_sqrt_t_esf(self, t, points, rng):
        x = rng.uniform(-2.5, 2.5, 200)
        x32 = np.asarray(jnp.asarray(x, jnp.float32), np.float64)
        with jax.numpy_rank_promotion("raise"):
            got = _target(jnp.asarray(x32, jnp.float32), t, jnp.asarray(points[:, 0], jnp.float32))
        want = np.sqrt(t) * empirical_score(x32[:, None], t, points)[:, 0]
        np.testing.assert_allclose(np.asarray(got, np.float64), want, rtol=1e-4, atol=1e-5)

    def test_samples_follow_p_t(self, getkey):
        y = jnp.asarray([-5.0, 5.0])  # well separated: the offset to the nearest point is N(0, t)
        x = np.asarray(_noised(getkey(), y, 0.25, 20_000), np.float64)
        assert np.mean(x > 0) == pytest.approx(0.5, abs=0.02)
        offset = x - np.where(x > 0, 5.0, -5.0)
        assert np.mean(offset) == pytest.approx(0.0, abs=0.015)
        assert np.std(offset) == pytest.approx(0.5, rel=0.03)

    def test_first_step_loss_is_the_target_power(self, reg_fit):
        """From the zero output, the first recorded batch loss is mean(target²) of the first
        batch drawn by the documented key scheme (RECIPE["keys"])."""
        _, k_data, _ = jax.random.split(jax.random.PRNGKey(0), 3)
        key = jax.random.split(k_data, TINY_REG.steps)[0]
        y = jnp.asarray(POINTS[:, 0], jnp.float32)
        x = np.asarray(_noised(key, y, T, TINY_REG.batch), np.float64)
        target = np.sqrt(T) * empirical_score(x[:, None], T, POINTS)[:, 0]
        assert reg_fit.history[0] == [1, pytest.approx(np.mean(target**2), rel=1e-4)]

    @pytest.mark.parametrize("t", [0.05, 0.3])
    def test_loss_quadrature(self, t):
        def esf(x):
            return empirical_score(x[:, None], t, POINTS)[:, 0]

        assert fixed_time_loss(esf, t, POINTS) == 0.0
        # a constant error c/√t costs c²; an error x/√t costs E x² = 1 + t for the points ±1
        assert fixed_time_loss(lambda x: esf(x) + 0.3 / np.sqrt(t), t, POINTS) == pytest.approx(
            0.09, rel=1e-6
        )
        assert fixed_time_loss(lambda x: esf(x) + x / np.sqrt(t), t, POINTS) == pytest.approx(
            1 + t, rel=1e-6
        )


class TestRegressionFit:
    def test_lowers_the_loss(self, reg_fit):
        # the initial output is 0: its loss is L_t[0] = E(√t s_t)²
        initial = fixed_time_loss(lambda x: 0.0 * x, T, POINTS)
        assert reg_fit.loss < 0.25 * initial
        last = np.mean([loss for _, loss in reg_fit.history[-10:]])
        assert last < 0.25 * reg_fit.history[0][1]
        assert reg_fit.history[-1][0] == TINY_REG.steps
        # the recorded loss is L_t of the fitted score
        assert reg_fit.loss == pytest.approx(fixed_time_loss(reg_fit.score, T, POINTS), rel=1e-9)

    def test_score_and_g(self, reg_fit, rng):
        x = rng.uniform(-2, 2, (3, 7))
        out = reg_fit.output(x)
        assert out.shape == x.shape and out.dtype == np.float64
        np.testing.assert_allclose(reg_fit.score(x), out / np.sqrt(T))
        np.testing.assert_allclose(reg_fit.g(x), T * out / np.sqrt(T))
        with pytest.raises(ValueError, match="x"):
            reg_fit.output(np.array([np.inf]))

    def test_seed_determinism(self, reg_fit, rng):
        again = fit_regression(POINTS, T, 1.0, TINY_REG, seed=np.int64(0))
        other = fit_regression(POINTS, T, 1.0, TINY_REG, seed=1)
        x = rng.uniform(-2, 2, 40)
        np.testing.assert_array_equal(again.output(x), reg_fit.output(x))
        assert again.history == reg_fit.history
        assert not np.array_equal(other.output(x), reg_fit.output(x))

    def test_record(self, reg_fit):
        assert reg_fit.to_dict() == {
            "t": T,
            "lam": 1.0,
            "config": {"width": WIDTH, "steps": 100, "batch": 128, "learning_rate": 3e-2},
            "seed": 0,
        }

    @pytest.mark.parametrize(
        ("field", "value"),
        [("width", 0), ("steps", 0), ("batch", 2.0), ("batch", True), ("learning_rate", 0.0)],
    )
    def test_bad_config(self, field, value):
        with pytest.raises(ValueError, match=field):
            RegressionConfig(**{field: value})

    @pytest.mark.parametrize(
        ("args", "match"),
        [
            ((np.array([-1.0, 1.0]), T, 1.0, 0), "points"),
            ((POINTS, 0.0, 1.0, 0), r"\bt\b"),
            ((POINTS, T, -1.0, 0), "lam"),
            ((POINTS, T, 1.0, -1), "seed"),
        ],
    )
    def test_bad_inputs(self, args, match):
        with pytest.raises(ValueError, match=match):
            fit_regression(*args[:3], TINY_REG, args[3])


class TestRegressionCache:
    def test_round_trip(self, model_cache, reg_fit):
        first = train_regression(POINTS, T, 1.0, TINY_REG, seed=0)
        second = train_regression(POINTS, T, 1.0, TINY_REG, seed=0)
        assert len(list(model_cache.glob("*.npz"))) == 1
        x = np.linspace(-2, 2, 33)
        np.testing.assert_array_equal(first.output(x), reg_fit.output(x))  # a fresh fit, not a stub
        np.testing.assert_array_equal(second.output(x), first.output(x))
        assert (second.loss, second.history, second.seconds) == (
            first.loss,
            first.history,
            first.seconds,
        )
        assert second.to_dict() == first.to_dict()

    def test_every_input_enters_the_key(self, model_cache, monkeypatch):
        calls = []

        def stub(points, t, lam, config, seed):  # no training: only the keys are under test
            calls.append((t, lam, config, seed))
            net = SkipReLU(config.width, jax.random.PRNGKey(0))
            return RegressionFit(net, t, lam, np.array(points), config, seed, 0.0, [], 0.0)

        monkeypatch.setattr(two_layer, "fit_regression", stub)
        wider = RegressionConfig(width=WIDTH, steps=100, batch=256, learning_rate=3e-2)
        problems = [
            (POINTS, T, 1.0, TINY_REG, 0),
            (POINTS, T, 3.0, TINY_REG, 0),
            (POINTS, T, 1.0, TINY_REG, 42),
            (POINTS, 0.05, 1.0, TINY_REG, 0),
            (POINTS, T, 1.0, wider, 0),
            (np.array([[-1.0], [0.5]]), T, 1.0, TINY_REG, 0),
        ]
        for args in problems + problems:  # the second round loads
            train_regression(*args)
        assert len(calls) == len(problems)
        assert len(list(model_cache.glob("*.npz"))) == len(problems)
        # the recipe itself enters the key
        monkeypatch.setitem(two_layer.RECIPE, "decayed", "w, a")
        train_regression(*problems[0])
        assert len(calls) == len(problems) + 1
