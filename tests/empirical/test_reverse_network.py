"""The compiled network chain against the NumPy reverse Euler–Maruyama on the same noise."""

import numpy as np
import pytest

from empirical.data import sample
from empirical.models import NetworkConfig
from empirical.reverse_network import reverse_euler_maruyama_network
from empirical.reverse_ou import geometric_times, ou_score, reverse_euler_maruyama
from empirical.training import TrainingConfig, fit
from theory.distributions import LinearGaussian


@pytest.fixture(scope="module")
def model():
    spec = LinearGaussian(np.array([1.0]), 2)
    training = TrainingConfig(steps=200, batch_size=64, warmup_steps=20, chunk_steps=100, shards=1)
    return fit(sample(spec, 512, 0), NetworkConfig(width=32, depth=2), training, 0, progress=False)


@pytest.mark.parametrize("alpha", [1.0, 0.0])
def test_matches_the_numpy_sampler_on_the_same_noise(model, alpha):
    ts = geometric_times(2.0, 1e-3, 300)
    x = np.random.default_rng(1).standard_normal((64, 2))
    ref = reverse_euler_maruyama(
        ou_score(model, alpha), x, ts, np.random.default_rng(2), alpha=alpha
    )
    got = reverse_euler_maruyama_network(model, x, ts, np.random.default_rng(2), alpha=alpha)
    assert np.max(np.abs(got - ref)) < 1e-3 * np.max(np.abs(ref))
    # and another noise stream gives other samples (the noise is used)
    other = reverse_euler_maruyama_network(model, x, ts, np.random.default_rng(3), alpha=alpha)
    assert np.max(np.abs(other - ref)) > 1e-2


def test_bad_input(model):
    ts = geometric_times(2.0, 1e-3, 10)
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="d = 2"):
        reverse_euler_maruyama_network(model, np.zeros((4, 3)), ts, rng)
    with pytest.raises(ValueError, match="strictly decreasing"):
        reverse_euler_maruyama_network(model, np.zeros((4, 2)), ts[::-1], rng)
    with pytest.raises(ValueError, match="alpha"):
        reverse_euler_maruyama_network(model, np.zeros((4, 2)), ts, rng, alpha=-1)
    with pytest.raises(TypeError, match="rng"):
        reverse_euler_maruyama_network(model, np.zeros((4, 2)), ts, 0)


def test_trajectory_matches_the_numpy_sampler(model):
    """Every grid time's states, x_init first, against the NumPy sampler's on the same noise."""
    ts = geometric_times(2.0, 1e-3, 200)
    x = np.random.default_rng(4).standard_normal((32, 2))
    _, ref_path = reverse_euler_maruyama(
        ou_score(model), x, ts, np.random.default_rng(5), return_trajectory=True
    )
    y, path = reverse_euler_maruyama_network(
        model, x, ts, np.random.default_rng(5), return_trajectory=True
    )
    assert path.shape == (ts.size, 32, 2)
    np.testing.assert_array_equal(path[0], x)
    np.testing.assert_array_equal(path[-1], y)
    scale = np.max(np.abs(ref_path), axis=(1, 2))
    assert np.all(np.max(np.abs(path - ref_path), axis=(1, 2)) < 1e-3 * scale)
    # the final state is the one the sampler returns without the trajectory
    alone = reverse_euler_maruyama_network(model, x, ts, np.random.default_rng(5))
    np.testing.assert_allclose(alone, y, rtol=0, atol=1e-6)
