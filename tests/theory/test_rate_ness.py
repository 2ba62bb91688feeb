"""theory.rate_ness against independent routes: the null vector of a finite-difference Fokker–Planck
operator, the Gibbs law for gradient drifts, a long simulation, and the free gap."""

import numpy as np
import pytest
from scipy import linalg

from theory.rate_ness import circle_generator_gap, circle_ness


def _fd_null_vector(drift, n, diffusion=1.0):
    """Stationary masses of the central-difference Fokker–Planck operator (its null vector, with one
    equation replaced by the normalisation)."""
    h = 2 * np.pi / n
    b = drift(h * (np.arange(n) + 0.5))
    op = np.zeros((n, n))
    for i in range(n):
        up, down = (i + 1) % n, (i - 1) % n
        op[i, up] += -b[up] / (2 * h) + diffusion / h**2
        op[i, down] += b[down] / (2 * h) + diffusion / h**2
        op[i, i] += -2 * diffusion / h**2
    op[-1] = 1.0
    rhs = np.zeros(n)
    rhs[-1] = 1.0
    return linalg.solve(op, rhs)


@pytest.mark.parametrize(
    ("drift", "diffusion"),
    [
        (lambda t: 0.3 * (1 + np.cos(t)) - np.sin(t), 1.0),
        (lambda t: 0.5 * (1 + np.cos(t)), 1.0),
        (lambda t: 2.0 + np.sin(2 * t), 0.5),
    ],
)
def test_ness_matches_the_finite_difference_null_vector(drift, diffusion):
    _, mass = circle_ness(drift, 300, diffusion)
    ref = _fd_null_vector(drift, 300, diffusion)
    # both routes are second order in the cell width h = 2π/300 (h² = 4.4e-4)
    assert np.max(np.abs(mass - ref)) / mass.max() < (2 * np.pi / 300) ** 2


def test_gradient_drift_gives_the_gibbs_law():
    theta, mass = circle_ness(lambda t: -1.5 * np.sin(t), 400)
    gibbs = np.exp(1.5 * np.cos(theta))
    np.testing.assert_allclose(mass, gibbs / gibbs.sum(), rtol=1e-10)


def test_ness_matches_a_long_simulation():
    # Euler–Maruyama for dθ = b dt + √2 dW, many chains run past relaxation
    drift = lambda t: 0.5 * (1 + np.cos(t))  # noqa: E731
    rng = np.random.default_rng(5)
    theta = rng.uniform(0, 2 * np.pi, 5_000)
    h = 2e-3
    for _ in range(4_000):
        theta = theta + h * drift(theta) + np.sqrt(2 * h) * rng.standard_normal(theta.size)
    grid, mass = circle_ness(drift, 360)
    for fn in (np.cos, np.sin):
        assert fn(theta).mean() == pytest.approx(
            mass @ fn(grid), abs=4 * 0.71 / np.sqrt(theta.size)
        )


def test_free_gap_and_a_dense_eigensolver():
    assert circle_generator_gap(np.zeros_like, 2_000) == pytest.approx(1.0, abs=1e-6)
    n = 300
    h = 2 * np.pi / n
    u = 20 * (np.abs(np.cos(h * (np.arange(n) + 0.5))) - 1) ** 2
    up, down = np.roll(u, -1) - u, np.roll(u, 1) - u
    m = np.diag((np.exp(-0.5 * up) + np.exp(-0.5 * down)) / h**2)
    for i in range(n):
        m[i, (i + 1) % n] -= 1 / h**2
        m[i, (i - 1) % n] -= 1 / h**2
    dense = np.sort(linalg.eigvalsh(m))[1]
    gap = circle_generator_gap(lambda t: 20 * (np.abs(np.cos(t)) - 1) ** 2, n)
    # the dense solver's own absolute accuracy is about eps·‖A‖ = 2e-16 · 4/h² ≈ 2e-12
    assert gap == pytest.approx(dense, abs=1e-10)
    assert gap == pytest.approx(1.4116e-7, rel=1e-3)


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="n must"):
        circle_ness(np.sin, 8)
    with pytest.raises(ValueError, match="diffusion"):
        circle_ness(np.sin, 100, 0.0)
    with pytest.raises(ValueError, match="drift"):
        circle_ness(lambda t: t[:3], 100)
    with pytest.raises(ValueError, match="potential"):
        circle_generator_gap(3.0, 100)
