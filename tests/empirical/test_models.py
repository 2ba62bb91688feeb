"""Networks: EDM preconditioning, the conservative control, and the numpy front end."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from empirical.flow import from_sigma_score, integrate_euler
from empirical.jacobians import central_difference_jacobian
from empirical.metrics import antisymmetry_ratio
from empirical.models import (
    EMBED_FEATURES,
    EMBED_HIDDEN,
    NetworkConfig,
    ScoreModel,
    TimeConditionedScore,
    build_network,
    decay_mask,
    edm_preconditioning,
)
from theory.distributions import LinearGaussian


def _zero_output(net):
    """The same network with its last layer set to zero, so F ≡ 0 (EDM) or φ ≡ 0 (conservative)."""
    last = net.net.layers[-1]
    return eqx.tree_at(
        lambda n: (n.net.layers[-1].weight, n.net.layers[-1].bias),
        net,
        (jnp.zeros_like(last.weight), jnp.zeros_like(last.bias)),
    )


class TestPreconditioning:
    @pytest.mark.parametrize("sigma", [0.01, 0.3, 1.0, 7.0])
    @pytest.mark.parametrize("sigma_data", [0.5, 1.0, 2.0])
    def test_coefficients(self, sigma, sigma_data):
        c_skip, c_out, c_in, c_noise = (
            float(v) for v in edm_preconditioning(jnp.float32(sigma), sigma_data)
        )
        # Karras et al. (2022) Table 1, written out independently
        s2 = sigma**2 + sigma_data**2
        np.testing.assert_allclose(
            [c_skip, c_out, c_in, c_noise],
            [sigma_data**2 / s2, sigma * sigma_data / s2**0.5, s2**-0.5, np.log(sigma) / 4],
            rtol=1e-6,
        )

    @pytest.mark.parametrize("kind", ["edm", "conservative"])
    def test_zero_network_is_the_exact_score_of_the_data_scale_gaussian(self, kind, rng, getkey):
        # With F ≡ 0 (or φ ≡ 0) the denoiser is c_skip x, the exact denoiser of N(0, σ_d² I): EDM's design.
        sigma_data, d = 0.7, 3
        net = _zero_output(
            build_network(NetworkConfig(kind=kind, sigma_data=sigma_data), d, getkey())
        )
        model = ScoreModel(net, d)
        exact = LinearGaussian(np.full(d, sigma_data**2), d)
        x = rng.standard_normal((20, d))
        for sigma in (0.05, 0.5, 3.0):
            np.testing.assert_allclose(
                model.score(x, sigma), exact.score(x, sigma), rtol=2e-5, atol=1e-5
            )
            np.testing.assert_allclose(
                model.jacobian(x, sigma), exact.jacobian(x, sigma), rtol=2e-5, atol=1e-5
            )


class TestScoreModel:
    @pytest.fixture
    def edm(self, getkey):
        return ScoreModel(build_network(NetworkConfig(width=32, depth=2), 4, getkey()), 4, chunk=7)

    def test_shapes_and_chunking(self, edm, rng):
        x = rng.standard_normal((17, 4))  # 17 = 2 full chunks of 7 and a padded remainder
        assert edm.score(x, 0.3).shape == (17, 4)
        assert edm.jacobian(x, 0.3).shape == (17, 4, 4)
        assert edm.score(x[0], 0.3).shape == (4,)
        assert edm.jacobian(x[0], 0.3).shape == (4, 4)
        one_by_one = np.stack([edm.score(xi, 0.3) for xi in x])
        # different batch shapes compile to different float32 kernels: agree to float32 resolution
        np.testing.assert_allclose(edm.score(x, 0.3), one_by_one, rtol=1e-5, atol=1e-6)

    def test_score_is_tweedie(self, edm, rng):
        x = rng.standard_normal((5, 4))
        sigma = np.array([0.1, 0.2, 0.5, 1.0, 2.0])
        np.testing.assert_allclose(
            edm.score(x, sigma), (edm.denoiser(x, sigma) - x) / sigma[:, None] ** 2, rtol=1e-10
        )

    def test_jacobian_matches_finite_differences(self, edm, rng):
        x = rng.standard_normal((6, 4))
        # float32 network: central differences with h = 1e-2 have truncation ~h² and rounding ~1e-7/h
        fd = central_difference_jacobian(edm.score, x, 0.5, h=1e-2)
        np.testing.assert_allclose(edm.jacobian(x, 0.5), fd, rtol=0, atol=2e-3 * np.abs(fd).max())

    def test_bad_input(self, edm):
        with pytest.raises(ValueError, match="sigma"):
            edm.score(np.zeros((2, 4)), 0.0)
        with pytest.raises(ValueError, match="x"):
            edm.score(np.zeros((2, 3)), 1.0)

    def test_config_validation(self):
        with pytest.raises(ValueError, match="kind"):
            NetworkConfig(kind="other")
        assert NetworkConfig(kind="time_conditioned").kind == "time_conditioned"
        with pytest.raises(ValueError, match="activation"):
            NetworkConfig(activation="relu6")
        with pytest.raises(ValueError, match="sigma_data"):
            NetworkConfig(sigma_data=0.0)


class TestConservativeControl:
    def test_jacobian_is_symmetric(self, getkey, rng):
        d = 4
        cons = ScoreModel(
            build_network(NetworkConfig(kind="conservative", width=32, depth=2), d, getkey()), d
        )
        free = ScoreModel(
            build_network(NetworkConfig(kind="edm", width=32, depth=2), d, getkey()), d
        )
        x = rng.standard_normal((50, d))
        # jax.grad of a scalar: symmetric up to float32 rounding; a free network is not
        assert np.max(antisymmetry_ratio(cons.jacobian(x, 0.3))) < 1e-5
        assert np.median(antisymmetry_ratio(free.jacobian(x, 0.3))) > 1e-3

    def test_score_is_gradient_of_energy(self, getkey, rng):
        net = build_network(NetworkConfig(kind="conservative", width=16, depth=2), 3, getkey())
        x = jnp.asarray(rng.standard_normal(3), jnp.float32)
        sigma = jnp.float32(0.4)
        h = 1e-2
        fd = [
            (net.energy(x + h * e, sigma) - net.energy(x - h * e, sigma)) / (2 * h)
            for e in jnp.eye(3)
        ]
        score = (net.denoise(x, sigma) - x) / sigma**2
        np.testing.assert_allclose(np.asarray(score), np.asarray(fd), rtol=2e-3, atol=2e-3)


class TestTimeConditioned:
    """The notebook's time-conditioned network: output √t·score, embedding of log t, scalar head."""

    CONFIG = NetworkConfig(kind="time_conditioned", width=24, depth=1, activation="relu")

    @pytest.fixture
    def net(self, getkey):
        net = build_network(self.CONFIG, 2, getkey())
        # non-zero output layer and head, so that the output is not identically zero
        return eqx.tree_at(
            lambda n: (n.main.layers[-1].weight, n.head.weight, n.head.bias),
            net,
            (
                jax.random.normal(getkey(), net.main.layers[-1].weight.shape),
                0.1 * jax.random.normal(getkey(), net.head.weight.shape),
                jnp.float32(0.3),
            ),
        )

    def test_architecture_and_initialisation(self, getkey):
        net = build_network(self.CONFIG, 2, getkey())
        assert isinstance(net, TimeConditionedScore)
        first, last = net.main.layers[0], net.main.layers[-1]
        assert first.weight.shape == (24, 2 + 1 + EMBED_FEATURES)  # [x, log t, 3 features]
        assert len(net.main.layers) == 2  # one hidden layer: the notebook's "2-layer" net
        assert net.embed.layers[0].weight.shape == (EMBED_HIDDEN, 1)
        assert net.embed.layers[-1].weight.shape == (EMBED_FEATURES, EMBED_HIDDEN)
        # first layer N(0, 1)/√(fan_in + width): its empirical std, within sampling error
        std = float(np.std(np.asarray(first.weight))) * np.sqrt(6 + 24)
        assert 0.75 < std < 1.25
        assert not np.any(np.asarray(first.bias))
        for leaf in (last.weight, last.bias, net.head.weight, net.head.bias):
            assert not np.any(np.asarray(leaf))  # zero-initialised: the score starts at 0
        model = ScoreModel(net, 2)
        assert not np.any(model.score(np.ones((3, 2)), 0.1))

    def test_output_is_sqrt_t_times_the_score(self, net, rng):
        model = ScoreModel(net, 2)
        x = rng.standard_normal((7, 2))
        sigma = np.array([1e-3, 0.01, 0.05, 0.1, 0.3, 1.0, 2.0])
        raw = np.stack(
            [
                np.asarray(net.scaled_score(jnp.asarray(xi, jnp.float32), jnp.float32(s)))
                for xi, s in zip(x, sigma, strict=True)
            ]
        )
        np.testing.assert_allclose(model.score(x, sigma), raw / sigma[:, None], rtol=1e-5)
        # the denoiser interface is Tweedie's, D = x + σ²·score (float32)
        np.testing.assert_allclose(
            model.denoiser(x, sigma),
            x + sigma[:, None] ** 2 * model.score(x, sigma),
            rtol=1e-5,
            atol=1e-6,
        )

    def test_head_multiplies_the_output(self, net, rng):
        x = jnp.asarray(rng.standard_normal(2), jnp.float32)
        sigma = jnp.float32(0.2)
        e = net.features(2 * jnp.log(sigma))
        assert e.shape == (1 + EMBED_FEATURES,)
        np.testing.assert_allclose(float(e[0]), 2 * np.log(0.2), rtol=1e-6)  # the concat skip
        plain = net.main(jnp.concatenate([x, e]))
        np.testing.assert_allclose(
            np.asarray(net.scaled_score(x, sigma)),
            np.asarray(plain) * (1 + float(net.head(e))),
            rtol=1e-6,
        )

    def test_depends_on_time(self, net, rng):
        model = ScoreModel(net, 2)
        x = rng.standard_normal((4, 2))
        assert not np.allclose(0.1 * model.score(x, 0.1), 0.5 * model.score(x, 0.5), rtol=1e-3)

    def test_jacobian_matches_finite_differences(self, net, rng):
        model = ScoreModel(net, 2)
        x = rng.standard_normal((5, 2))
        fd = central_difference_jacobian(model.score, x, 0.5, h=1e-2)
        np.testing.assert_allclose(model.jacobian(x, 0.5), fd, rtol=0, atol=2e-3 * np.abs(fd).max())

    def test_decay_mask_is_the_main_net(self, net):
        mask = decay_mask(net)
        assert jax.tree.structure(mask) == jax.tree.structure(eqx.filter(net, eqx.is_array))
        assert all(jax.tree.leaves(mask.main))
        assert not any(jax.tree.leaves(mask.embed)) and not any(jax.tree.leaves(mask.head))

    def test_edm_mask_is_everything(self, getkey):
        net = build_network(NetworkConfig(width=8, depth=2), 3, getkey())
        mask = decay_mask(net)
        assert all(jax.tree.leaves(mask)) and len(jax.tree.leaves(mask)) == 6

    def test_samplers_accept_it(self, net, rng):
        model = ScoreModel(net, 2)
        x = rng.standard_normal((6, 2))
        y = integrate_euler(from_sigma_score(model.score), x, 0.5, 1e-3, 10)
        assert y.shape == (6, 2) and np.all(np.isfinite(y))


def test_jax_default_is_float32():
    # training runs in float32; only empirical.autodiff switches to float64, locally
    assert jnp.zeros(1).dtype == jnp.float32
    assert not jax.config.jax_enable_x64
