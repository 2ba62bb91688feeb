"""theory.rate_ellipse against independent routes: a full-period quadrature of p_σ (no window, no
foot point), Monte Carlo of the noised data, and the note's constants."""

import numpy as np
import pytest
from scipy.special import i0

from theory.rate_ellipse import (
    ellipse_foot_point,
    noised_ellipse_log_density,
    ts_ellipse_tv_coefficient,
)

A, B = 1.0, 2.0


def _tube_points(t, rho):
    v = np.stack([-A * np.sin(t), B * np.cos(t)], -1)
    normal = np.stack([v[:, 1], -v[:, 0]], -1) / np.hypot(v[:, 0], v[:, 1])[:, None]
    return np.stack([A * np.cos(t), B * np.sin(t)], -1) + rho[:, None] * normal


def _full_period(x, sigma, kappa=1.0, n=400_000):
    """log p_σ(x) by the periodic trapezoid rule over the whole curve (spectrally accurate)."""
    s = 2 * np.pi * np.arange(n) / n
    phi = np.stack([A * np.cos(s), B * np.sin(s)], -1)
    log_f = -((x[None] - phi) ** 2).sum(-1) / (2 * sigma**2) + kappa * np.cos(s)
    top = log_f.max()
    return (
        np.log(np.exp(log_f - top).mean() * 2 * np.pi)
        + top
        - np.log(2 * np.pi * sigma**2)
        - np.log(2 * np.pi * i0(kappa))
    )


@pytest.mark.parametrize("sigma", [0.1, 0.03, 0.01, 0.003])
def test_log_density_matches_a_full_period_quadrature(sigma):
    rng = np.random.default_rng(1)
    t = np.concatenate([[np.pi / 2, 0.0], rng.uniform(0, 2 * np.pi, 4)])
    rho = np.concatenate([[-0.45, 0.45], rng.uniform(-0.45, 0.45, 4)])
    x = _tube_points(t, rho)
    ref = np.array([_full_period(xi, sigma) for xi in x])
    np.testing.assert_allclose(
        noised_ellipse_log_density(x, sigma, A, B, 1.0), ref, rtol=1e-12, atol=1e-9
    )


def test_density_integrates_like_monte_carlo_noised_data():
    # P(x_σ in a box) from the density (2-D midpoint rule) against noised samples of the data
    sigma, rng = 0.1, np.random.default_rng(2)
    t = rng.vonmises(0.0, 1.0, 400_000)
    x = np.stack([A * np.cos(t), B * np.sin(t)], -1) + sigma * rng.standard_normal((t.size, 2))
    lo, hi = np.array([0.6, -0.6]), np.array([1.3, 0.6])
    inside = np.mean(np.all((x > lo) & (x < hi), axis=1))
    g = [np.linspace(lo[i], hi[i], 141)[:-1] + (hi[i] - lo[i]) / 280 for i in (0, 1)]
    pts = np.stack(np.meshgrid(*g, indexing="ij"), -1).reshape(-1, 2)
    mass = np.exp(noised_ellipse_log_density(pts, sigma)).sum() * np.prod((hi - lo) / 140)
    assert mass == pytest.approx(inside, abs=4 * np.sqrt(inside * (1 - inside) / t.size))


def test_foot_point_recovers_tube_coordinates():
    rng = np.random.default_rng(3)
    t, rho = rng.uniform(0, 2 * np.pi, 50), rng.uniform(-0.49, 1.0, 50)
    tf, rf = ellipse_foot_point(_tube_points(t, rho), A, B)
    np.testing.assert_allclose(np.angle(np.exp(1j * (tf - t))), 0, atol=1e-10)
    np.testing.assert_allclose(rf, rho, atol=1e-12)


def test_tv_coefficient_is_the_notes_constant_and_vanishes_on_the_uniform_circle():
    assert ts_ellipse_tv_coefficient(A, B, 1.0) == pytest.approx(0.3701, abs=5e-5)
    assert ts_ellipse_tv_coefficient(1.0, 1.0, 0.0) == pytest.approx(0.0, abs=1e-14)
    # on the circle with von Mises(κ): ½E|κ cos θ| = κ/π
    assert ts_ellipse_tv_coefficient(1.0, 1.0, 0.3) == pytest.approx(0.3 / np.pi, rel=1e-9)


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="sigma"):
        noised_ellipse_log_density([1.0, 0.0], 0.0)
    with pytest.raises(ValueError, match="n_nodes"):
        noised_ellipse_log_density([1.0, 0.0], 0.1, n_nodes=100)
    with pytest.raises(ValueError, match="kappa"):
        noised_ellipse_log_density([1.0, 0.0], 0.1, kappa=-1.0)
    with pytest.raises(ValueError, match="reach"):
        ellipse_foot_point([0.0, 1.4])  # 0.6 inside the end of the major axis; the reach is 0.5
    with pytest.raises(ValueError, match="a must"):
        ts_ellipse_tv_coefficient(0.0, 1.0)
