"""The effective-density subspaces (paper000 §2.4 E1, E3) against closed forms and known clouds."""

from __future__ import annotations

import numpy as np
import pytest

from compare.claims._common import random_basis
from empirical.effective_density import (
    chance_corrected,
    local_gaussian_subspace,
    local_pca,
    negative_definite,
)
from empirical.metrics import subspace_overlap


def _with_eigen(values, seed):
    """A symmetric 3×3 matrix with eigenvalues ``values`` and a random eigenbasis (its columns)."""
    q = random_basis(3, 3, seed)
    return q @ np.diag(values) @ q.T, q


def test_local_gaussian_subspace_is_the_largest_variance_eigenvectors():
    s, q = _with_eigen([-0.5, -4.0, -100.0], 1)  # variances 2, 0.25, 0.01
    anti = np.array([[0.0, 0.3, -0.1], [-0.3, 0.0, 0.2], [0.1, -0.2, 0.0]])
    w = local_gaussian_subspace((s + anti)[None], 2)[0]  # the antisymmetric part plays no role
    assert subspace_overlap(w, q[:, :2]) == pytest.approx(1.0, abs=1e-12)
    assert abs(w[:, 0] @ q[:, 0]) == pytest.approx(1.0, abs=1e-12)  # the largest variance first
    assert negative_definite(s[None])[0]


def test_local_gaussian_subspace_ranks_a_non_negative_eigenvalue_first():
    # S indefinite: no Gaussian; the direction without decay (λ = +3) counts as unbounded variance,
    # ahead of λ = −0.1 although |3| > |−0.1|
    s, q = _with_eigen([-0.1, 3.0, -50.0], 2)
    w = local_gaussian_subspace(s[None], 1)[0]
    assert abs(w[:, 0] @ q[:, 1]) == pytest.approx(1.0, abs=1e-12)
    assert not negative_definite(s[None])[0]
    full = local_gaussian_subspace(s[None], 3)[0]
    np.testing.assert_allclose(full.T @ full, np.eye(3), atol=1e-12)


def test_local_pca_recovers_the_plane_of_a_known_gaussian_cloud():
    rng = np.random.default_rng(3)
    q = random_basis(3, 3, 4)
    variances = np.array([4.0, 1.0, 0.01])
    cloud = (rng.standard_normal((20_000, 3)) * np.sqrt(variances)) @ q.T
    bases, var = local_pca(cloud, np.zeros((1, 3)), 20_000, 2)
    assert subspace_overlap(bases[0], q[:, :2]) > 0.999
    np.testing.assert_allclose(var[0], variances, rtol=0.05)


def test_local_pca_uses_only_the_neighbours():
    # two flat clouds far apart, one in the (e1, e2) plane and one in the (e2, e3) plane
    rng = np.random.default_rng(5)
    flat = rng.standard_normal((3_000, 3)) * np.array([1.0, 1.0, 0.01])
    other = rng.standard_normal((3_000, 3)) * np.array([0.01, 1.0, 1.0]) + np.array([50.0, 0, 0])
    centres = np.array([[0.0, 0.0, 0.0], [50.0, 0.0, 0.0]])
    bases, _ = local_pca(np.concatenate([flat, other]), centres, 500, 2)
    eye = np.eye(3)
    assert subspace_overlap(bases[0], eye[:, :2]) > 0.999
    assert subspace_overlap(bases[1], eye[:, 1:]) > 0.999


def test_random_subspaces_overlap_at_chance():
    # ov of independent uniform 2-planes in R³ has mean k/d = 2/3
    n = 4_000
    u = np.stack([random_basis(3, 2, s) for s in range(n)])
    w = np.stack([random_basis(3, 2, n + s) for s in range(n)])
    ov = subspace_overlap(u, w)
    se = ov.std() / np.sqrt(n)
    assert abs(ov.mean() - 2 / 3) < 4 * se
    assert abs(chance_corrected(ov, 2, 3).mean()) < 4 * se / (1 / 3)
    assert chance_corrected(1.0, 2, 3) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: local_pca(np.zeros((10, 3)), np.zeros((2, 3)), 3, 2), "k_nn"),
        (lambda: local_pca(np.zeros((10, 3)), np.zeros((2, 3)), 11, 2), "k_nn"),
        (lambda: local_pca(np.zeros((10, 3)), np.zeros((2, 2)), 5, 2), "centres"),
        (lambda: local_pca(np.zeros((10, 3)), np.zeros((2, 3)), 5, 4), "k must"),
        (lambda: local_pca(np.full((10, 3), np.nan), np.zeros((2, 3)), 5, 2), "samples"),
        (lambda: local_gaussian_subspace(np.zeros((2, 3, 3)), 0), "k must"),
        (lambda: local_gaussian_subspace(np.zeros((3, 3)), 1), "J must"),
        (lambda: chance_corrected(0.5, 3, 3), "k must"),
    ],
)
def test_bad_input_is_refused(call, match):
    with pytest.raises(ValueError, match=match):
        call()
