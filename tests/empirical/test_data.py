"""Sampling from the data specs: Monte Carlo against the exact law."""

import numpy as np
import pytest

from empirical.data import add_noise, sample
from theory.distributions import FiniteSet, GaussianMixture, LinearGaussian
from theory.graph_surface import GraphSurface


def test_linear_gaussian_covariance(rng):
    q, _ = np.linalg.qr(rng.standard_normal((4, 2)))
    spec = LinearGaussian([2.0, 0.5], 4, q)
    x = sample(spec, 200_000, 0)
    # entries of a sample covariance have standard error ≤ sqrt(2/n)·max variance ≈ 0.006
    np.testing.assert_allclose(np.cov(x.T), spec.covariance, atol=0.03)
    np.testing.assert_allclose(x @ spec.normal_basis, 0.0, atol=1e-12)  # exactly on the subspace


def test_mixture_moments(rng):
    means = np.array([[3.0, 0.0], [-1.0, 1.0]])
    covs = np.stack([np.diag([0.5, 0.0]), np.eye(2) * 0.2])
    spec = GaussianMixture([0.25, 0.75], means, covs)
    x = sample(spec, 200_000, 1)
    np.testing.assert_allclose(x.mean(axis=0), 0.25 * means[0] + 0.75 * means[1], atol=0.02)
    on_first = np.abs(x[:, 1]) < 1e-12  # the degenerate component lies exactly on x₂ = 0
    assert abs(on_first.mean() - 0.25) < 0.005


def test_finite_set_and_seeds():
    spec = FiniteSet(np.arange(6.0).reshape(3, 2))
    a, b, c = sample(spec, 50, 7), sample(spec, 50, 7), sample(spec, 50, 8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert {tuple(p) for p in a} <= {tuple(p) for p in spec.points}


def test_add_noise(rng):
    x0 = np.zeros((100_000, 2))
    x = add_noise(x0, 0.5, 3)
    assert abs(x.std() - 0.5) < 0.005
    np.testing.assert_array_equal(x, add_noise(x0, 0.5, 3))
    with pytest.raises(ValueError, match="sigma"):
        add_noise(x0, -1.0, 0)
    with pytest.raises(ValueError, match="sigma"):
        add_noise(x0, np.ones(3), 0)


@pytest.mark.parametrize("bad", [-1, 1.5, "x", None])
def test_bad_seed(bad):
    with pytest.raises(ValueError, match="seed"):
        sample(LinearGaussian([1.0], 2), 3, bad)


def test_bad_n_and_spec():
    with pytest.raises(ValueError, match="n must"):
        sample(LinearGaussian([1.0], 2), 0, 0)
    with pytest.raises(ValueError, match="spec"):
        sample(object(), 3, 0)


def test_graph_surface_samples_follow_the_chart_density():
    """Points lie on the surface inside the square; moments match quadrature of p ∝ q₀|J_φ|."""
    surface = GraphSurface()
    x = sample(surface, 60_000, 3)  # the sampler without the |J_φ| rejection is 6.6 s.e. off
    assert x.shape == (60_000, 3)
    assert np.all(np.abs(x[:, :2]) <= surface.half_width)
    np.testing.assert_allclose(x[:, 2], surface.height(x[:, :2]), atol=1e-15)
    t, w = np.polynomial.legendre.leggauss(200)
    g = 2.5 * t
    u = np.stack(np.meshgrid(g, g, indexing="ij"), -1)
    p = np.outer(w, w) * np.exp(surface.log_chart_density(u))
    p = p / p.sum()
    for f in (
        lambda v: v[..., 0] ** 2,
        lambda v: surface.area_factor(v),
        lambda v: v[..., 0] * v[..., 1],
    ):
        exact = float(np.sum(p * f(u)))
        values = f(x[:, :2])
        assert abs(values.mean() - exact) < 4 * values.std() / np.sqrt(values.size)
    assert sample(surface, 5, 7).tolist() == sample(surface, 5, 7).tolist()
