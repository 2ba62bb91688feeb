"""The TS tangential relaxation rate against a Monte Carlo run of the hat-form sampler on the circle."""

import numpy as np
import pytest

from theory import scaling
from theory.rate_relaxation import ts_relaxation_rate


def test_rate_matches_the_decay_of_the_first_angular_moment_of_the_sampler():
    # hat-form TS Langevin dX = σ²s dτ + √(2σ^{2−α}) dW on the uniform circle (κ = 0, VE), started
    # on M at θ = 0: E cos θ(τ) = e^{−λτ} (the stationary law is uniform, m_∞ = 0)
    sigma, alpha, radius, h, steps, n = 0.01, 1.0, 1.0, 0.2, 500, 10_000
    rng = np.random.default_rng(0)
    x = np.tile([radius, 0.0], (n, 1))
    noise = np.sqrt(2 * sigma ** (2 - alpha) * h)
    for _ in range(steps):
        x = x + h * sigma**2 * scaling.noised_circle_score(x, sigma, 0.0, radius)
        x = x + noise * rng.standard_normal(x.shape)
    cos = x[:, 0] / np.linalg.norm(x, axis=1)
    tau = h * steps
    measured = -np.log(cos.mean()) / tau
    se = cos.std() / np.sqrt(n) / cos.mean() / tau  # delta method
    predicted = float(ts_relaxation_rate(sigma, alpha, radius))
    # the cloud (s.d. σ^{1−α/2} = 0.1, EM-widened by 1/√(1 − h/2)) slows the angular diffusion by
    # E[R²/r²] ≈ 1 + 3·0.011: an O(σ^{2−α}/R²) relative term the leading law leaves out
    thickness_term = 4 * sigma ** (2 - alpha) / (1 - h / 2) / radius**2
    assert abs(measured - predicted) <= 4 * se + thickness_term * predicted


def test_exponent_and_radius():
    sigma = np.array([1e-4, 1e-2])
    rate = ts_relaxation_rate(sigma, 0.5, 2.0)
    np.testing.assert_allclose(rate, sigma**1.5 / 4.0, rtol=1e-15)
    assert ts_relaxation_rate(0.1, 0.0) == pytest.approx(0.01)  # plain Langevin in the hat form


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((0.0, 1.0), "sigma"),
        ((np.nan, 1.0), "sigma"),
        ((0.1, 2.0), "alpha"),
        ((0.1, -0.1), "alpha"),
        ((0.1, 1.0, 0.0), "radius"),
        ((0.1, [1.0, 0.5]), "alpha"),
    ],
)
def test_bad_input_names_the_argument(args, match):
    with pytest.raises(ValueError, match=match):
        ts_relaxation_rate(*args)
