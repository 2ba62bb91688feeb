r"""The fixed-t two-layer ReLU fit of the empirical score (paper004 §2.1, VE with variance t).

References are built here, not taken from :mod:`empirical.two_layer`: the network against the
explicit formula :math:`\sum_i a_i\,\mathrm{relu}(w_i x + b_i) + c` in numpy, and the fit against
the data-fit loss of its own initial network on the same seeded sample from
:math:`p_t^{(n)}`, rebuilt from the documented recipe.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from empirical.two_layer import (
    FixedTimeConfig,
    FixedTimeFit,
    TwoLayerReLU,
    fit_fixed_time,
    train_fixed_time,
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
