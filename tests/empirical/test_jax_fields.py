"""The JAX exact fields against their theory (NumPy) twins, and inside the compiled Langevin."""

import jax
import numpy as np
import pytest

from empirical.jax_fields import noised_circle_score
from empirical.langevin import langevin
from theory import scaling


@pytest.mark.parametrize("convention", ["ve", "vp"])
@pytest.mark.parametrize(
    ("kappa", "radius", "mean_angle"), [(0.0, 1.0, 0.0), (1.0, 2.0, np.pi), (5.0, 1.0, 0.3)]
)
@pytest.mark.parametrize("sigma", [0.01, 0.1, 0.5])
def test_matches_the_theory_field(convention, kappa, radius, mean_angle, sigma):
    rng = np.random.default_rng(0)
    angles = rng.uniform(0, 2 * np.pi, 64)
    x = radius * np.column_stack([np.cos(angles), np.sin(angles)]) + sigma * rng.standard_normal(
        (64, 2)
    )
    x[0] = 0.0  # the centre, where the Bessel ratio takes its limit
    ref = scaling.noised_circle_score(x, sigma, kappa, radius, convention, mean_angle)
    with jax.enable_x64(True):
        f = jax.vmap(
            lambda p: noised_circle_score(
                p, sigma, kappa=kappa, radius=radius, convention=convention, mean_angle=mean_angle
            )
        )
        got = np.asarray(f(np.asarray(x)))
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-10 * np.max(np.abs(ref)))


def test_plain_langevin_on_the_noised_circle_keeps_its_radius():
    # the stationary law of plain Langevin is p_σ itself: its radius has mean ≈ R and std ≈ σ
    sigma = 0.05
    rng = np.random.default_rng(1)
    angles = rng.uniform(0, 2 * np.pi, 2_000)
    x0 = np.column_stack([np.cos(angles), np.sin(angles)])
    y = langevin(noised_circle_score, x0, sigma, 0.02 * sigma**2, 2_000, rng)
    r = np.linalg.norm(y, axis=1)
    assert abs(r.mean() - 1.0) < 0.01
    assert r.std() == pytest.approx(sigma, rel=0.1)
