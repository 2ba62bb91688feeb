"""Autodiff of the exact log-densities (float64) against the hand-derived closed forms."""

import numpy as np
import pytest

from empirical.autodiff import autodiff_jacobian, autodiff_score, log_density_fn
from theory.distributions import FiniteSet, GaussianMixture, LinearGaussian


def _specs(rng):
    q, _ = np.linalg.qr(rng.standard_normal((5, 2)))
    covs = np.stack(
        [np.diag([1.0, 0.5, 0.1]), np.zeros((3, 3)), np.outer([1, 2, 0], [1, 2, 0]) / 5]
    )
    return [
        LinearGaussian([2.0, 0.3], 5, q),
        GaussianMixture([0.5, 0.2, 0.3], rng.standard_normal((3, 3)), covs),
        FiniteSet(rng.standard_normal((6, 3))),
    ]


@pytest.mark.parametrize("index", [0, 1, 2])
@pytest.mark.parametrize("sigma", [0.05, 0.4, 2.0])
def test_matches_closed_forms(index, sigma, rng):
    spec = _specs(rng)[index]
    x = rng.standard_normal((7, spec.d))
    np.testing.assert_allclose(
        autodiff_score(spec, x, sigma), spec.score(x, sigma), rtol=1e-10, atol=1e-12 / sigma**2
    )
    np.testing.assert_allclose(
        autodiff_jacobian(spec, x, sigma), spec.jacobian(x, sigma), rtol=1e-9, atol=1e-11 / sigma**4
    )


def test_log_density_matches(rng):
    import jax

    for spec in _specs(rng):
        x = rng.standard_normal(spec.d)
        with jax.enable_x64(True):
            value = float(log_density_fn(spec)(x, 0.3))
        np.testing.assert_allclose(value, spec.log_density(x, 0.3), rtol=1e-12)


def test_rejects_other_objects():
    with pytest.raises(ValueError, match="spec"):
        log_density_fn(object())
