"""Networks: EDM preconditioning, the conservative control, and the numpy front end."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from empirical.jacobians import central_difference_jacobian
from empirical.metrics import antisymmetry_ratio
from empirical.models import NetworkConfig, ScoreModel, build_network, edm_preconditioning
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


def test_jax_default_is_float32():
    # training runs in float32; only empirical.autodiff switches to float64, locally
    assert jnp.zeros(1).dtype == jnp.float32
    assert not jax.config.jax_enable_x64
