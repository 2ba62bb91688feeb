r"""Data laws as frozen specifications, each with its exact noised score field (VE convention).

Every spec exposes, vectorised over a leading batch axis (``x`` of shape (d,) or (n, d); ``sigma`` a
positive scalar or one value per point):

- ``score(x, sigma)``: :math:`\nabla_x \log p_\sigma(x)`, shape like ``x``;
- ``jacobian(x, sigma)``: the score Jacobian :math:`\nabla_x^2 \log p_\sigma(x)`, one d×d matrix per point;
- ``denoiser(x, sigma)``: :math:`D(x;\sigma) = \mathbb E[x_0\mid x_\sigma = x] = x + \sigma^2 \nabla\log p_\sigma`;
- ``log_density(x, sigma)``.

Here :math:`p_\sigma = p_0 * \mathcal N(0,\sigma^2 I)` (VE, :math:`x_\sigma = x_0 + \sigma\varepsilon`).
``to_dict()`` gives a JSON-ready description, used to key cached models.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from theory import _scores
from theory._validation import as_points, as_sigma, check_finite, check_integer, check_positive

__all__ = ["EIGENVALUE_CUTOFF", "FiniteSet", "GaussianMixture", "LinearGaussian"]

#: Relative size below which an eigenvalue of a covariance is treated as exactly zero (one cutoff
#: for "negligible eigenvalue", as in scipy.stats). Anything more negative than this raises.
EIGENVALUE_CUTOFF = 1e-12

_ORTHONORMAL_ATOL = 1e-10
# Chunk the finite-set fields: the (d, m, chunk) difference array holds at most _FINITE_SET_FLOATS
# floats (memory), and about _FINITE_SET_CACHE_FLOATS (128 KB) where that leaves at least
# _FINITE_SET_MIN_POINTS points per chunk. Small blocks stay in cache and the allocator reuses them;
# megabyte blocks go back to the system after each call and are faulted in again (with glibc, a
# third of the time of a 10 000-point score against 8 points went to those page faults).
_FINITE_SET_FLOATS = 4_000_000
_FINITE_SET_CACHE_FLOATS = 16_384
_FINITE_SET_MIN_POINTS = 128


def _prepare(x, sigma, d):
    pts, single = as_points(x, d)
    return pts, as_sigma(sigma, pts.shape[0]), single


def _unbatch(arr, single):
    return arr[0] if single else arr


class _Field:
    """Shared public methods: validate, compute on (n, d) batches, restore the input's shape."""

    d: int

    def score(self, x, sigma) -> np.ndarray:
        x, sigma, single = _prepare(x, sigma, self.d)
        return _unbatch(self._fields(x, sigma, jacobian=False)[0], single)

    def jacobian(self, x, sigma) -> np.ndarray:
        x, sigma, single = _prepare(x, sigma, self.d)
        return _unbatch(self._fields(x, sigma, jacobian=True)[1], single)

    def denoiser(self, x, sigma) -> np.ndarray:
        x, sigma, single = _prepare(x, sigma, self.d)
        score = self._fields(x, sigma, jacobian=False)[0]
        return _unbatch(x + sigma[:, None] ** 2 * score, single)

    def log_density(self, x, sigma) -> np.ndarray:
        x, sigma, single = _prepare(x, sigma, self.d)
        return _unbatch(self._log_density(x, sigma), single)

    def _fields(self, x, sigma, *, jacobian):  # pragma: no cover - abstract
        raise NotImplementedError

    def _log_density(self, x, sigma):  # pragma: no cover - abstract
        raise NotImplementedError


def _check_orthonormal(name: str, basis: np.ndarray) -> None:
    k = basis.shape[1]
    err = np.max(np.abs(basis.T @ basis - np.eye(k)))
    if err > _ORTHONORMAL_ATOL:
        raise ValueError(f"{name} must have orthonormal columns (max |BᵀB − I| = {err:.3g})")


# Gaussian with covariance Q_T diag(λ) Q_Tᵀ on a k-dimensional subspace of R^d (paper000 §1.4).
@dataclass(frozen=True, eq=False, init=False)
class LinearGaussian(_Field):
    r"""Centred Gaussian on a k-dimensional linear subspace of :math:`\mathbb R^d`.

    :math:`x_0 = Q_T z`, :math:`z \sim \mathcal N(0, \operatorname{diag}(\lambda_1..\lambda_k))`.

    Arguments
    ---------
    variances : (k,) array, every entry > 0 — the tangent variances :math:`\lambda_j`.
    d : int, d ≥ k — the ambient dimension.
    basis : (d, k) array with orthonormal columns, optional — :math:`Q_T`; default the first k axes.

    Notes
    -----
    The noised score and Jacobian are in :func:`theory._scores.linear_gaussian_score` and
    :func:`theory._scores.linear_gaussian_jacobian`; the spectrum in
    :func:`theory.spectra.linear_gaussian_singular_values`.
    """

    variances: np.ndarray
    d: int
    basis: np.ndarray

    def __init__(self, variances, d: int, basis=None):
        lam = check_positive("variances", variances)
        if lam.ndim != 1 or lam.size == 0:
            raise ValueError(f"variances must be a non-empty 1-D array (got shape {lam.shape})")
        d = check_integer("d", d, minimum=1, allowed="a positive integer")
        k = lam.size
        if k > d:
            raise ValueError(f"variances has k = {k} entries, more than the dimension d = {d}")
        if basis is None:
            q = np.eye(d)[:, :k]
        else:
            q = check_finite("basis", basis)
            if q.shape != (d, k):
                raise ValueError(f"basis must have shape (d, k) = ({d}, {k}) (got {q.shape})")
            _check_orthonormal("basis", q)
        lam = np.array(lam)  # a copy: never freeze (or alias) the caller's array
        lam.setflags(write=False)
        q = np.array(q)
        q.setflags(write=False)
        object.__setattr__(self, "variances", lam)
        object.__setattr__(self, "d", d)
        object.__setattr__(self, "basis", q)

    @property
    def k(self) -> int:
        """Dimension of the subspace."""
        return self.variances.size

    @property
    def normal_basis(self) -> np.ndarray:
        """An orthonormal basis (d, d − k) of the normal space, from a complete QR of the basis."""
        q, _ = np.linalg.qr(self.basis, mode="complete")
        return q[:, self.k :]

    @property
    def covariance(self) -> np.ndarray:
        """Data covariance :math:`Q_T \\Lambda Q_T^\\top` (d, d)."""
        return (self.basis * self.variances) @ self.basis.T

    def _fields(self, x, sigma, *, jacobian):
        s = _scores.linear_gaussian_score(x, sigma, self.variances, self.basis)
        j = (
            _scores.linear_gaussian_jacobian(x, sigma, self.variances, self.basis)
            if jacobian
            else None
        )
        return s, j

    def _log_density(self, x, sigma):
        return _scores.linear_gaussian_log_density(x, sigma, self.variances, self.basis)

    def to_dict(self) -> dict:
        return {
            "type": "LinearGaussian",
            "variances": self.variances.tolist(),
            "d": self.d,
            "basis": self.basis.tolist(),
        }


# Mixture of Gaussians Σ_k π_k N(m_k, Σ_k); a component may be degenerate (rank-deficient Σ_k).
@dataclass(frozen=True, eq=False, init=False)
class GaussianMixture(_Field):
    r"""Gaussian mixture :math:`\sum_k \pi_k \mathcal N(m_k, \Sigma_k)` in :math:`\mathbb R^d`.

    Arguments
    ---------
    weights : (K,) array, entries > 0 summing to 1 (to 1e-9).
    means : (K, d) array.
    covariances : (K, d, d) array of symmetric positive semi-definite matrices. Singular ones are
        allowed (a component on a subspace, or a point mass); eigenvalues within
        ``EIGENVALUE_CUTOFF`` × the largest are treated as 0, more negative ones raise.

    Notes
    -----
    Score and Jacobian by the closed form of paper000 §1.4, see
    :func:`theory._scores.mixture_fields`.
    """

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    eigvals: np.ndarray = field(repr=False)
    eigvecs: np.ndarray = field(repr=False)

    def __init__(self, weights, means, covariances):
        w = check_positive("weights", weights)
        if w.ndim != 1:
            raise ValueError(f"weights must be 1-D (got shape {w.shape})")
        if abs(w.sum() - 1.0) > 1e-9:
            raise ValueError(f"weights must sum to 1 (got {w.sum():.12g})")
        m = check_finite("means", means)
        if m.ndim != 2 or m.shape[0] != w.size or m.shape[1] < 1:
            raise ValueError(
                f"means must have shape (K, d) with K = {w.size} and d >= 1 (got {m.shape})"
            )
        d = m.shape[1]
        c = check_finite("covariances", covariances)
        if c.shape != (w.size, d, d):
            raise ValueError(
                f"covariances must have shape (K, d, d) = ({w.size}, {d}, {d}) (got {c.shape})"
            )
        if np.max(np.abs(c - np.swapaxes(c, 1, 2))) > 1e-12 * max(1.0, np.max(np.abs(c))):
            raise ValueError("covariances must be symmetric")
        vals, vecs = np.linalg.eigh(c)
        scale = np.maximum(vals.max(axis=1, keepdims=True), 0.0)
        cutoff = EIGENVALUE_CUTOFF * np.where(scale > 0, scale, 1.0)
        if np.any(vals < -cutoff):
            raise ValueError(
                f"covariances must be positive semi-definite (min eigenvalue {vals.min():.3g})"
            )
        vals = np.where(np.abs(vals) <= cutoff, 0.0, vals)
        for name, arr in (
            ("weights", w),
            ("means", m),
            ("covariances", c),
            ("eigvals", vals),
            ("eigvecs", vecs),
        ):
            arr = np.array(arr)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    @property
    def d(self) -> int:
        return self.means.shape[1]

    def _fields(self, x, sigma, *, jacobian):
        return _scores.mixture_fields(
            x, sigma, self.weights, self.means, self.eigvals, self.eigvecs, jacobian=jacobian
        )

    def _log_density(self, x, sigma):
        return _scores.mixture_log_density(
            x, sigma, self.weights, self.means, self.eigvals, self.eigvecs
        )

    def to_dict(self) -> dict:
        return {
            "type": "GaussianMixture",
            "weights": self.weights.tolist(),
            "means": self.means.tolist(),
            "covariances": self.covariances.tolist(),
        }


# The uniform law on finitely many points: its noised score is the empirical score.
@dataclass(frozen=True, eq=False, init=False)
class FiniteSet(_Field):
    r"""Uniform law on a finite set of points :math:`y_1, \dots, y_m \in \mathbb R^d`.

    Arguments
    ---------
    points : (m, d) array, m ≥ 1 points in d ≥ 1 dimensions.

    Notes
    -----
    The noised score is the empirical score, computed with log-sum-exp weights so that it is stable
    down to σ = 1e-4, see :func:`theory._scores.finite_set_fields`.
    """

    points: np.ndarray

    def __init__(self, points):
        p = check_finite("points", points)
        if p.ndim != 2 or p.shape[0] < 1 or p.shape[1] < 1:
            raise ValueError(
                f"points must have shape (m, d) with m >= 1 and d >= 1 (got {p.shape})"
            )
        p = np.array(p)
        p.setflags(write=False)
        object.__setattr__(self, "points", p)

    @property
    def d(self) -> int:
        return self.points.shape[1]

    def _chunks(self, n):
        floats_per_point = self.points.shape[0] * self.d
        size = min(
            max(_FINITE_SET_MIN_POINTS, _FINITE_SET_CACHE_FLOATS // floats_per_point),
            max(1, _FINITE_SET_FLOATS // floats_per_point),
        )
        return [slice(i, min(i + size, n)) for i in range(0, max(n, 1), size)]  # n = 0: one empty

    def _fields(self, x, sigma, *, jacobian):
        parts = [
            _scores.finite_set_fields(x[c], sigma[c], self.points, jacobian=jacobian)
            for c in self._chunks(x.shape[0])
        ]
        score = np.concatenate([p[0] for p in parts])
        jac = np.concatenate([p[1] for p in parts]) if jacobian else None
        return score, jac

    def _log_density(self, x, sigma):
        return np.concatenate(
            [
                _scores.finite_set_log_density(x[c], sigma[c], self.points)
                for c in self._chunks(x.shape[0])
            ]
        )

    def to_dict(self) -> dict:
        return {"type": "FiniteSet", "points": self.points.tolist()}
