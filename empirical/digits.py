r"""The 8×8 handwritten digits that scikit-learn ships (paper000 §3.3 R2, the image analogue).

``sklearn.datasets.load_digits``: 1 797 images of 8×8 pixels with grey levels p ∈ {0, …, 16} and
labels 0–9 (the UCI optical-recognition test set). The data ship inside the scikit-learn package,
so nothing is downloaded. scikit-learn is the optional extra ``digits``
(``pip install 'score-geometry-validator[digits]'``); it is imported only when the data are loaded.

Scaling: each pixel becomes :math:`x = p/8 - 1 \in [-1, 1]` (0 → −1 background, 16 → +1 ink), the
range image diffusion models use; an image is a point of :math:`\mathbb R^{64}`, pixels in row-major
order (``x.reshape(8, 8)`` is the picture).

Class-conditional PCA: for each digit class c the principal directions of its centred images,
:math:`X_c - \bar x_c = U_c S_c W_c^\top` (SVD), the columns of :math:`W_c` sorted by decreasing
variance :math:`S_c^2/(n_c - 1)`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from theory._validation import as_points, check_finite, check_integer
from theory.distributions import FiniteSet

__all__ = [
    "N_CLASSES",
    "N_IMAGES",
    "D",
    "DigitsData",
    "class_pca",
    "load_digits_data",
    "nearest_class",
]

D = 64  # pixels per image (8 × 8)
N_CLASSES = 10
N_IMAGES = 1_797
_GREY_LEVELS = 16  # p ∈ {0, …, 16}


@dataclass(frozen=True)
class DigitsData:
    """The digits as data: ``images`` (1 797, 64) in [−1, 1] (read-only), ``labels`` (1 797,) in 0–9."""

    images: np.ndarray
    labels: np.ndarray

    @property
    def spec(self) -> FiniteSet:
        """The uniform law on the 1 797 images, as the trainer's data spec."""
        return FiniteSet(self.images)


def _sklearn_digits():
    try:
        from sklearn.datasets import load_digits
    except ImportError as err:  # the optional extra is missing
        raise ImportError(
            "the digits data need scikit-learn, the optional extra 'digits': "
            "pip install 'score-geometry-validator[digits]' (or pip install 'scikit-learn>=1.3')"
        ) from err
    return load_digits()


@functools.cache
def load_digits_data() -> DigitsData:
    """The 1 797 digits scaled to [−1, 1] (x = p/8 − 1), with their labels; read from scikit-learn."""
    raw = _sklearn_digits()
    pixels = np.asarray(raw.data, dtype=np.float64)
    labels = np.asarray(raw.target, dtype=np.int64)
    if pixels.shape != (N_IMAGES, D) or labels.shape != (N_IMAGES,):
        raise ValueError(
            f"scikit-learn's digits have an unexpected shape {pixels.shape}, {labels.shape}"
        )
    images = pixels / (_GREY_LEVELS / 2) - 1.0
    images.setflags(write=False)
    labels.setflags(write=False)
    return DigitsData(images, labels)


def _images_and_labels(images, labels) -> tuple[np.ndarray, np.ndarray]:
    """``images`` as a finite (n, d) array and ``labels`` as n non-negative integers."""
    x = check_finite("images", images)
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        raise ValueError(f"images must have shape (n, d) with n, d ≥ 1 (got {x.shape})")
    lab = np.asarray(labels)
    if lab.shape != (x.shape[0],) or not np.issubdtype(lab.dtype, np.integer):
        raise ValueError(
            f"labels must be an integer array of shape ({x.shape[0]},) (got {lab.dtype} {lab.shape})"
        )
    if lab.min() < 0:
        raise ValueError(f"labels must be ≥ 0 (got {lab.min()})")
    return x, lab


def class_pca(images, labels, k: int) -> tuple[np.ndarray, np.ndarray]:
    r"""The top-``k`` principal directions of each class's centred images.

    Arguments
    ---------
    images : (n, d) array of images.
    labels : (n,) integer array; every class 0 … C − 1 must hold at least two images.
    k : int, 1 ≤ k ≤ d.

    Returns
    -------
    bases : (C, d, k) orthonormal columns, decreasing variance.
    variances : (C, k) the class variances along them, :math:`s_j^2/(n_c - 1)`.

    Notes
    -----
    .. math:: X_c - \mathbf 1\bar x_c^\top = U_c\,\mathrm{diag}(s)\,W_c^\top, \qquad
              \text{basis}_c = W_c[:, :k].

    A class with fewer than k + 1 images has fewer than k non-zero variances; the extra columns are
    still orthonormal (any completion).
    """
    x, lab = _images_and_labels(images, labels)
    d = x.shape[1]
    k = check_integer("k", k, minimum=1, maximum=d)
    n_classes = int(lab.max()) + 1
    bases = np.empty((n_classes, d, k))
    variances = np.empty((n_classes, k))
    for c in range(n_classes):
        xc = x[lab == c]
        if xc.shape[0] < 2:
            raise ValueError(f"labels: class {c} has {xc.shape[0]} image(s); each needs at least 2")
        centred = xc - xc.mean(axis=0)
        _, s, wt = np.linalg.svd(centred, full_matrices=xc.shape[0] < d)
        bases[c] = wt[:k].T
        var = np.zeros(d)
        var[: s.size] = s**2 / (xc.shape[0] - 1)
        variances[c] = var[:k]
    return bases, variances


def nearest_class(x, images, labels) -> np.ndarray:
    """The label of the nearest image (Euclidean) to each row of ``x``: (n,) integers."""
    ref, lab = _images_and_labels(images, labels)
    pts, single = as_points(x, ref.shape[1])
    d2 = np.sum(pts**2, axis=1)[:, None] - 2.0 * pts @ ref.T + np.sum(ref**2, axis=1)[None, :]
    out = lab[np.argmin(d2, axis=1)]
    return out[0] if single else out
