r"""Principal subspaces of the effective densities of a score field (paper000 §2.4, readings E1–E3 [R]).

The paper says the local features of a score field g "span the same local subspace of an effective
density function that is consistent with g"; the effective density was not retrieved, and the note
reads it three ways. This module holds the two local estimators they need:

* :func:`local_gaussian_subspace` — E1 (and E2 applied to the Hessian of a fitted energy): the
  local Gaussian with precision −S, S the symmetric part of the Jacobian, and its top-k subspace;
* :func:`local_pca` — E3: the top-k principal subspace of the sample points nearest a centre.

Both return orthonormal (n, d, k) bases, the input of :func:`empirical.metrics.subspace_overlap`;
:func:`chance_corrected` rescales an overlap so that independent random subspaces score 0.
"""

from __future__ import annotations

import numpy as np

from empirical.metrics import _int_in_range, _jacobians
from theory._validation import check_finite

__all__ = [
    "chance_corrected",
    "local_gaussian_subspace",
    "local_pca",
    "negative_definite",
]

#: Rows of the (centres × samples) distance matrix computed at once in :func:`local_pca`.
_PCA_CHUNK = 256


def _symmetric_part(J) -> np.ndarray:
    jac = _jacobians(J)
    return 0.5 * (jac + np.swapaxes(jac, -1, -2))


def local_gaussian_subspace(J, k: int) -> np.ndarray:
    r"""E1: the top-k subspace of the local Gaussian with precision −S, S = (J + Jᵀ)/2.

    Arguments
    ---------
    J : (n, d, d) score Jacobians (or Hessians of a log-density, then S = J).
    k : int, 1 ≤ k ≤ d.

    Returns
    -------
    (n, d, k) orthonormal bases: the eigenvectors of S with the k LARGEST eigenvalues (signed),
    the largest first.

    Notes
    -----
    Where −S is positive definite the local Gaussian has variance :math:`-1/\lambda_i` along the
    eigenvector of :math:`\lambda_i < 0`, so the k largest variances are the k largest (least
    negative) eigenvalues. Where S is indefinite the quadratic surrogate
    :math:`\log q(x) = g\cdot(x - x_0) + \tfrac12 (x - x_0)^\top S (x - x_0)` is not normalisable:
    along an eigenvector with :math:`\lambda_i \ge 0` it does not decay at all, the limit of an
    unbounded variance, and it is ranked first (the signed order continues the variance order
    through λ = 0⁻). This differs from ordering by :math:`|\lambda_i|` (the Gaussian with precision
    |S|), which would make E1 coincide with the smallest-|s| singular vectors whenever J is
    symmetric, by construction; :func:`negative_definite` tells where the surrogate exists.
    Source: paper000 §2.4 E1, reading [R].
    """
    sym = _symmetric_part(J)
    k = _int_in_range("k", k, 1, sym.shape[-1])
    _, vecs = np.linalg.eigh(sym)  # ascending eigenvalues
    return np.ascontiguousarray(vecs[..., ::-1][..., :k])


def negative_definite(J) -> np.ndarray:
    """(n,) bool: whether S = (J + Jᵀ)/2 is negative definite, i.e. the E1 Gaussian exists."""
    return np.linalg.eigvalsh(_symmetric_part(J))[..., -1] < 0


def local_pca(samples, centres, k_nn: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    r"""E3: the top-k principal subspace of the ``k_nn`` samples nearest each centre.

    Arguments
    ---------
    samples : (m, d) sample points (e.g. a sampler's states at one noise level).
    centres : (n, d) points where the subspace is wanted.
    k_nn : int, d + 1 ≤ k_nn ≤ m, neighbours per centre (Euclidean distance).
    k : int, 1 ≤ k ≤ d.

    Returns
    -------
    bases : (n, d, k) orthonormal; the eigenvectors of the neighbours' covariance (about their own
        mean) with the k largest eigenvalues, the largest first.
    variances : (n, d) the covariance's eigenvalues, decreasing.

    Notes
    -----
    The neighbourhood is the k_nn-nearest-neighbour ball, so its radius r adapts to the sample
    density: the tangent variance inside it is about r²/4 for a flat 2-D cloud, against σ² across a
    noised manifold, and the estimate needs r² ≫ 4σ² while r stays below the curvature radius.
    Source: paper000 §2.4 E3, reading [R].
    """
    pts = check_finite("samples", samples)
    ctr = check_finite("centres", centres)
    if pts.ndim != 2 or pts.shape[0] < 1:
        raise ValueError(f"samples must have shape (m, d) with m >= 1 (got {pts.shape})")
    d = pts.shape[1]
    if ctr.ndim != 2 or ctr.shape[1] != d:
        raise ValueError(f"centres must have shape (n, {d}) (got {ctr.shape})")
    k_nn = _int_in_range("k_nn", k_nn, d + 1, pts.shape[0])
    k = _int_in_range("k", k, 1, d)
    sq = np.sum(pts**2, axis=1)
    bases = np.empty((ctr.shape[0], d, k))
    variances = np.empty((ctr.shape[0], d))
    for start in range(0, ctr.shape[0], _PCA_CHUNK):
        c = ctr[start : start + _PCA_CHUNK]
        dist2 = sq[None, :] - 2.0 * c @ pts.T + np.sum(c**2, axis=1)[:, None]
        idx = np.argpartition(dist2, k_nn - 1, axis=1)[:, :k_nn]
        nbrs = pts[idx]  # (b, k_nn, d)
        centred = nbrs - nbrs.mean(axis=1, keepdims=True)
        cov = np.einsum("bmi,bmj->bij", centred, centred) / (k_nn - 1)
        evals, evecs = np.linalg.eigh(cov)
        bases[start : start + c.shape[0]] = evecs[..., ::-1][..., :k]
        variances[start : start + c.shape[0]] = evals[..., ::-1]
    return bases, variances


def chance_corrected(overlap, k: int, d: int) -> np.ndarray:
    r"""(ov − k/d)/(1 − k/d): 0 for independent uniformly random k-subspaces of R^d, 1 for equal ones.

    k/d is the mean of ‖UᵀW‖²_F/k for W uniformly random (paper000 §2.4); values below 0 mean a
    subspace further from U than chance. Needs 1 ≤ k < d.
    """
    d = _int_in_range("d", d, 2, 2**31)
    k = _int_in_range("k", k, 1, d - 1)
    ov = check_finite("overlap", overlap)
    return (ov - k / d) / (1.0 - k / d)
