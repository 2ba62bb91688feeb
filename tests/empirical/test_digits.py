"""The 8×8 digits: the loader (shape, range, labels, FiniteSet) and the class PCA against covariance
eigenvectors."""

from __future__ import annotations

import builtins

import numpy as np
import pytest

from empirical import digits
from theory.distributions import FiniteSet

pytest.importorskip("sklearn")


def test_loader_shape_range_labels_and_spec():
    data = digits.load_digits_data()
    assert data.images.shape == (1_797, 64) and data.labels.shape == (1_797,)
    assert data.images.min() == -1.0 and data.images.max() == 1.0
    # every pixel is a grey level p ∈ {0, …, 16} mapped by x = p/8 − 1
    p = (data.images + 1.0) * 8.0
    np.testing.assert_array_equal(p, np.round(p))
    assert set(np.unique(data.labels)) == set(range(10))
    assert np.all(np.bincount(data.labels) > 170)  # about 180 images per class
    assert not data.images.flags.writeable and not data.labels.flags.writeable
    spec = data.spec
    assert isinstance(spec, FiniteSet) and spec.d == 64
    np.testing.assert_array_equal(spec.points, data.images)


def test_loader_reads_the_same_pictures_as_sklearn():
    from sklearn.datasets import load_digits

    raw = load_digits()
    data = digits.load_digits_data()
    np.testing.assert_array_equal(data.images[5].reshape(8, 8), raw.images[5] / 8.0 - 1.0)
    np.testing.assert_array_equal(data.labels, raw.target)


def test_missing_sklearn_names_the_extra(monkeypatch):
    real_import = builtins.__import__

    def refuse(name, *args, **kwargs):
        if name.startswith("sklearn"):
            raise ImportError("No module named 'sklearn'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", refuse)
    with pytest.raises(ImportError, match=r"extra 'digits'.*score-geometry-validator\[digits\]"):
        digits._sklearn_digits()


@pytest.mark.parametrize("k", [1, 5, 12])
def test_class_pca_spans_the_top_eigenvectors_of_each_class_covariance(k):
    data = digits.load_digits_data()
    bases, variances = digits.class_pca(data.images, data.labels, k)
    assert bases.shape == (10, 64, k) and variances.shape == (10, k)
    for c in range(10):
        cov = np.cov(data.images[data.labels == c].T)
        lam, vec = np.linalg.eigh(cov)
        lam, vec = lam[::-1], vec[:, ::-1]
        np.testing.assert_allclose(variances[c], lam[:k], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(bases[c].T @ bases[c], np.eye(k), atol=1e-12)
        # same subspace: the projectors agree (the top k + 1 class variances are distinct)
        assert lam[k - 1] - lam[k] > 1e-3
        np.testing.assert_allclose(bases[c] @ bases[c].T, vec[:, :k] @ vec[:, :k].T, atol=1e-9)


def test_class_pca_full_basis_and_bad_input():
    x = np.random.default_rng(0).normal(size=(12, 4))
    labels = np.array([0, 1] * 6)
    bases, variances = digits.class_pca(x, labels, 4)
    for c in range(2):
        np.testing.assert_allclose(bases[c].T @ bases[c], np.eye(4), atol=1e-12)
        assert np.all(np.diff(variances[c]) <= 1e-12)
    with pytest.raises(ValueError, match="k must"):
        digits.class_pca(x, labels, 0)
    with pytest.raises(ValueError, match="k must"):
        digits.class_pca(x, labels, 5)
    with pytest.raises(ValueError, match="labels must"):
        digits.class_pca(x, labels[:5], 2)
    with pytest.raises(ValueError, match="labels must"):
        digits.class_pca(x, labels.astype(float), 2)
    with pytest.raises(ValueError, match="class 2"):
        digits.class_pca(x, np.array([0, 1] * 5 + [2, 0]), 2)
    with pytest.raises(ValueError, match="images must"):
        digits.class_pca(np.full((12, 4), np.nan), labels, 2)


def test_nearest_class():
    data = digits.load_digits_data()
    idx = [0, 17, 400, 1796]
    x = data.images[idx] + 0.01
    np.testing.assert_array_equal(
        digits.nearest_class(x, data.images, data.labels), data.labels[idx]
    )
    assert digits.nearest_class(data.images[3], data.images, data.labels) == data.labels[3]
    with pytest.raises(ValueError, match="x must"):
        digits.nearest_class(np.zeros((2, 3)), data.images, data.labels)
