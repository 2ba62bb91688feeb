"""Distilling an energy network onto a score field (paper000 §2.4 E2): it closes the L² gap to a
known gradient field, reproduces that field's Hessian subspace, and is cached on the teacher."""

from __future__ import annotations

import numpy as np
import pytest

from compare.claims._common import random_basis
from empirical.distillation import distilled_energy, fit_energy, l2_gap
from empirical.effective_density import local_gaussian_subspace
from empirical.metrics import subspace_overlap
from empirical.models import NetworkConfig, ScoreModel, build_network
from empirical.training import TrainingConfig
from theory.distributions import LinearGaussian

jax = pytest.importorskip("jax")
jnp = jax.numpy

_Q = random_basis(3, 3, 7)
_VARIANCES = np.array([2.0, 0.5, 0.02])
_COV = _Q @ np.diag(_VARIANCES) @ _Q.T
_NET = NetworkConfig(kind="conservative", width=32, depth=2)
_TRAINING = TrainingConfig(
    steps=800,
    batch_size=256,
    learning_rate=3e-3,
    warmup_steps=80,
    sigma_min=0.1,
    sigma_max=1.0,
    n_data=4_000,
    chunk_steps=400,
)


class _Gaussian:
    """The exact VE field of N(0, Σ): g = −(Σ + σ²I)⁻¹x, D = x + σ²g (the known gradient field)."""

    def denoise(self, x, sigma):
        prec = jnp.linalg.inv(jnp.asarray(_COV, jnp.float32) + sigma**2 * jnp.eye(3))
        return x - sigma**2 * prec @ x

    def score(self, x, sigma):
        return -x @ np.linalg.inv(_COV + sigma**2 * np.eye(3))


def _data(n, seed):
    return np.random.default_rng(seed).multivariate_normal(np.zeros(3), _COV, n)


@pytest.fixture(scope="module")
def student():
    return fit_energy(_Gaussian().denoise, _data(_TRAINING.n_data, 1), _NET, _TRAINING, seed=0)


def test_distillation_closes_the_l2_gap(student):
    untrained = ScoreModel(build_network(_NET, 3, jax.random.PRNGKey(0)), 3)
    rng = np.random.default_rng(2)
    for sigma in (0.2, 0.5):
        x = _data(2_000, 3) + sigma * rng.standard_normal((2_000, 3))
        before = l2_gap(untrained, _Gaussian(), x, sigma)
        after = l2_gap(student, _Gaussian(), x, sigma)
        assert after < 0.05 and after < 0.1 * before, (sigma, before, after)


def test_distilled_hessian_has_the_known_principal_subspace(student):
    # Hessian of log N(0, Σ + σ²I) = −(Σ + σ²I)⁻¹: the largest variances are Σ's first two axes
    sigma = 0.3
    x = _data(200, 4) + sigma * np.random.default_rng(5).standard_normal((200, 3))
    hess = student.jacobian(x, sigma)
    np.testing.assert_allclose(hess, np.swapaxes(hess, 1, 2), atol=1e-3 * np.abs(hess).max())
    ov = subspace_overlap(local_gaussian_subspace(hess, 2), _Q[:, :2])
    assert np.median(ov) > 0.98 and ov.min() > 0.9


def test_distilled_energy_is_cached_on_the_teacher(tmp_path):
    spec = LinearGaussian([1.0, 0.5], d=3)
    teacher_net = build_network(NetworkConfig(width=8, depth=1), 3, jax.random.PRNGKey(1))
    teacher = ScoreModel(teacher_net, 3, {"cache_key": "teacher-a"})
    small = TrainingConfig(steps=20, batch_size=16, warmup_steps=2, n_data=64, chunk_steps=10)
    net = NetworkConfig(kind="conservative", width=8, depth=1)
    path = tmp_path / "energy.npz"
    first = distilled_energy(teacher, spec, net, small, 0, cache_path=path)
    again = distilled_energy(teacher, spec, net, small, 0, cache_path=path)
    assert (first.meta["cache"], again.meta["cache"]) == ("miss", "hit")
    assert again.meta["distilled_from"] == "teacher-a"
    x = np.random.default_rng(6).normal(size=(5, 3))
    np.testing.assert_array_equal(first.score(x, 0.3), again.score(x, 0.3))
    with pytest.raises(ValueError, match="cache_key"):
        distilled_energy(ScoreModel(teacher_net, 3), spec, net, small, 0, cache_path=path)
    with pytest.raises(ValueError, match=r"network\.kind"):
        distilled_energy(teacher, spec, NetworkConfig(width=8, depth=1), small, 0)
