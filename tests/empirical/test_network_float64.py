"""A network evaluated in float64: the same function as its float32 evaluation, a Jacobian that
finite differences of the float64 score reproduce, and a conservative network whose Jacobian (the
Hessian of its energy) is symmetric to float64 rounding."""

import jax
import numpy as np
import pytest

from empirical.jacobians import central_difference_jacobian
from empirical.models import NetworkConfig, ScoreModel, build_network
from empirical.network_float64 import (
    float64_fields,
    float64_jacobian,
    float64_network,
    float64_score,
)


def _model(kind, key, activation="silu"):
    config = NetworkConfig(kind=kind, width=32, depth=2, activation=activation)
    return ScoreModel(build_network(config, 3, key), 3)


def _points(rng, n=40):
    return rng.standard_normal((n, 3)), np.exp(rng.uniform(np.log(0.05), np.log(2.0), n))


@pytest.mark.parametrize("kind", ["edm", "conservative"])
def test_float64_agrees_with_the_float32_evaluation(kind, getkey, rng):
    model = _model(kind, getkey())
    x, sigma = _points(rng)
    g64, jac64 = float64_fields(model, x, sigma)
    # the float32 denoiser D carries a rounding of ~1e-7·|D|, i.e. 1e-7·|x|/σ² in the score
    scale = 1e-5 * (1 + np.linalg.norm(x, axis=1)) / sigma**2
    assert np.all(np.linalg.norm(model.score(x, sigma) - g64, axis=1) < scale)
    assert np.all(np.linalg.norm(model.jacobian(x, sigma) - jac64, axis=(1, 2)) < scale)
    assert np.max(np.abs(g64)) > 1e-3  # not a trivial agreement of zeros


@pytest.mark.parametrize("kind", ["edm", "conservative"])
def test_float64_jacobian_matches_finite_differences(kind, getkey, rng):
    model = _model(kind, getkey())
    x, sigma = _points(rng, 12)
    jac = float64_jacobian(model, x, sigma)
    fd = central_difference_jacobian(lambda p, s: float64_score(model, p, s), x, sigma, h=1e-5)
    np.testing.assert_allclose(jac, fd, rtol=1e-6, atol=1e-6 * np.max(np.abs(jac)))


def test_conservative_jacobian_is_symmetric_in_float64(getkey, rng):
    model = _model("conservative", getkey())
    x, sigma = _points(rng, 64)
    jac = float64_jacobian(model, x, sigma)
    asym = np.abs(jac - np.swapaxes(jac, 1, 2)).max(axis=(1, 2)) / np.abs(jac).max(axis=(1, 2))
    assert np.max(asym) < 1e-12
    # the free network is not symmetric: the check can fail
    free = float64_jacobian(_model("edm", getkey()), x, sigma)
    assert np.median(np.abs(free - np.swapaxes(free, 1, 2)).max(axis=(1, 2))) > 1e-6


def test_float64_score_is_the_energy_gradient(getkey, rng):
    """The conservative score is ∇E (jax.grad), the EDM score (c_skip − 1)x + c_out F over σ²:
    both equal (D − x)/σ² of the float64 denoiser."""
    for kind in ("edm", "conservative"):
        model = _model(kind, getkey())
        x, sigma = _points(rng, 8)
        with jax.enable_x64(True):
            net = float64_network(model.network)
            d = np.asarray(jax.jit(jax.vmap(net.denoise))(x, sigma))
        np.testing.assert_allclose(
            float64_score(model, x, sigma), (d - x) / sigma[:, None] ** 2, rtol=1e-9, atol=1e-9
        )


def test_shapes_single_point_and_chunks(getkey, rng):
    model = _model("edm", getkey())
    x = rng.standard_normal((1500, 3))  # more than one chunk, the last one padded
    g, jac = float64_fields(model, x, 0.3)
    assert g.shape == (1500, 3) and jac.shape == (1500, 3, 3)
    g1, jac1 = float64_fields(model, x[1234], 0.3)
    np.testing.assert_allclose(g1, g[1234], rtol=1e-13)
    np.testing.assert_allclose(jac1, jac[1234], rtol=1e-13)
    assert float64_fields(model, x[:5], 0.3, jacobian=False)[1] is None


def test_bad_input_raises(getkey):
    model = _model("edm", getkey())
    with pytest.raises(ValueError, match="sigma"):
        float64_score(model, np.zeros((2, 3)), -1.0)
    with pytest.raises(ValueError, match="x"):
        float64_score(model, np.zeros((2, 4)), 0.1)
    with pytest.raises(ValueError, match=r"^model"):
        float64_score(model.network, np.zeros((2, 3)), 0.1)
    with pytest.raises(ValueError, match="enable_x64"):
        float64_network(model.network)
