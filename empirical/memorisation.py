r"""Where samples land: nearest training points, memorisation index, atom weights, normal spread.

Metrics on generated samples ``x`` (n, d) against a finite training set ``points`` (m, d), or
against a linear subspace with an orthonormal ``basis`` (d, k). They read the memorisation and
manifold-detection statements of Pidstrigach (2022) (research note paper002 B4, T-B1, T-B3,
T-B4, T-B7): with the exact empirical score every sample is a training point,
:math:`\mu_{SGM} = \sum_i \omega_i \delta_{x_i}`; with a population score the samples spread
along the manifold; with a bounded drift they keep a normal spread. Every estimate of a
proportion comes with its binomial (or multinomial) standard error.

Distances are Euclidean and formed from the differences directly (no expansion of
:math:`\|x - y\|^2`, which loses the small distances that decide memorisation), in chunks so
that the (chunk, m, d) differences stay near a few million floats.
"""

from __future__ import annotations

import numpy as np

from theory._validation import check_finite, check_scalar

__all__ = [
    "atom_weights",
    "default_radius",
    "memorisation_index",
    "nearest_distance",
    "nearest_index",
    "normal_spread",
    "tangent_variance",
]

_CHUNK_FLOATS = 4_000_000  # size of the (chunk, m, d) difference array
_ORTHONORMAL_ATOL = 1e-8  # largest max |BᵀB − I| accepted for an orthonormal basis
_RADIUS_FRACTION = 0.1  # default radius: this fraction of the median nearest-neighbour spacing


# --------------------------------------------------------------------------------------------
# Input checks


def _points(name: str, value, d: int | None = None, minimum: int = 1) -> np.ndarray:
    """A finite (n, d) float64 array with at least ``minimum`` rows (and d columns if given)."""
    arr = check_finite(name, value)
    if arr.ndim != 2 or arr.shape[1] < 1:
        raise ValueError(f"{name} must have shape (n, d) with d >= 1 (got {arr.shape})")
    if arr.shape[0] < minimum:
        raise ValueError(f"{name} must hold at least {minimum} point(s) (got {arr.shape[0]})")
    if d is not None and arr.shape[1] != d:
        raise ValueError(f"{name} must have d = {d} columns, as points (got shape {arr.shape})")
    return arr


def _samples_and_points(x, points) -> tuple[np.ndarray, np.ndarray]:
    points = _points("points", points)
    return _points("x", x, d=points.shape[1]), points


def _basis(basis, d: int) -> np.ndarray:
    b = check_finite("basis", basis)
    if b.ndim != 2 or b.shape[0] != d or not 1 <= b.shape[1] < d:
        raise ValueError(
            f"basis must have shape (d, k) with d = {d} and 1 <= k < d (got {b.shape})"
        )
    err = np.max(np.abs(b.T @ b - np.eye(b.shape[1])))
    if err > _ORTHONORMAL_ATOL:
        raise ValueError(f"basis must have orthonormal columns (max |BᵀB − I| = {err:.3g})")
    return b


# --------------------------------------------------------------------------------------------
# Nearest training point


def _squared_distances(x: np.ndarray, points: np.ndarray):
    """Yield ``(rows, sq)``: the slice of x and its (chunk, m) squared distances to every point."""
    size = max(1, _CHUNK_FLOATS // points.size)
    for start in range(0, x.shape[0], size):
        rows = slice(start, min(start + size, x.shape[0]))
        yield rows, np.sum((x[rows, None, :] - points[None, :, :]) ** 2, axis=2)


def _nearest(x: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance to and index of the nearest point (validated arrays); ties go to the lowest index."""
    dist = np.empty(x.shape[0])
    index = np.empty(x.shape[0], dtype=np.intp)
    for rows, sq in _squared_distances(x, points):
        i = np.argmin(sq, axis=1)
        index[rows] = i
        dist[rows] = np.sqrt(sq[np.arange(i.size), i])
    return dist, index


def nearest_distance(x, points) -> np.ndarray:
    r"""Distance from each sample to its nearest training point, :math:`\min_i \|x - x_i\|`.

    Parameters
    ----------
    x : (n, d) array
        Samples, n ≥ 1.
    points : (m, d) array
        Training points, m ≥ 1.

    Returns
    -------
    (n,) float64 array.

    Raises
    ------
    ValueError
        If either array is not a finite 2-D array with at least one row, or their d differ.
    """
    x, points = _samples_and_points(x, points)
    return _nearest(x, points)[0]


def nearest_index(x, points) -> np.ndarray:
    r"""Index of each sample's nearest training point, :math:`\arg\min_i \|x - x_i\|` (ties: lowest i).

    Parameters and errors as :func:`nearest_distance`; returns an (n,) integer array.
    """
    x, points = _samples_and_points(x, points)
    return _nearest(x, points)[1]


def default_radius(points) -> float:
    r"""Default memorisation radius: 0.1 × the median nearest-neighbour spacing of the points.

    Parameters
    ----------
    points : (m, d) array
        Training points, m ≥ 2.

    Returns
    -------
    float
        :math:`r = 0.1\,\operatorname{median}_i \min_{j \ne i} \|x_i - x_j\|`.

    Raises
    ------
    ValueError
        If ``points`` is not a finite (m, d) array with m ≥ 2, or the median spacing is 0 (more
        than half the points coincide with another).

    Notes
    -----
    The radius of paper002 T-B7 ("0.1 × the median spacing between training points"). Spacing
    here is the Euclidean distance to the nearest other point: for m equispaced points on the
    unit circle it is the chord :math:`2\sin(\pi/m)` (r = 0.0765 for m = 8), not the arc
    :math:`2\pi/m` (r = 0.0785).
    """
    points = _points("points", points, minimum=2)
    spacing = np.empty(points.shape[0])
    for rows, sq in _squared_distances(points, points):
        own = np.arange(rows.start, rows.stop)
        sq[own - rows.start, own] = np.inf  # the distance of a point to itself does not count
        spacing[rows] = np.sqrt(np.min(sq, axis=1))
    median = float(np.median(spacing))
    if median == 0.0:
        raise ValueError(
            "points must not coincide: the median nearest-neighbour spacing is 0, so the radius "
            "would be 0"
        )
    return _RADIUS_FRACTION * median


def memorisation_index(x, points, r) -> tuple[float, float]:
    r"""Fraction of samples within distance r of a training point, with its standard error.

    Parameters
    ----------
    x : (n, d) array
        Samples (e.g. Tweedie outputs), n ≥ 1.
    points : (m, d) array
        Training points.
    r : float
        Radius r > 0, e.g. :func:`default_radius`.

    Returns
    -------
    (index, standard_error) : tuple of floats
        :math:`\hat m = \#\{x : \min_i\|x - x_i\| < r\}/n` and :math:`\sqrt{\hat m(1-\hat m)/n}`.

    Raises
    ------
    ValueError
        As :func:`nearest_distance`, or if r is not a finite scalar > 0.

    Notes
    -----
    Paper002 T-B7: m ≈ 1 for the exact empirical score; for a perfect population model on a
    manifold M, m is the fraction of M (by the model's law) within r of the training points.
    """
    x, points = _samples_and_points(x, points)
    r = check_scalar("r", r, positive=True)
    inside = _nearest(x, points)[0] < r
    index = float(np.mean(inside))
    return index, float(np.sqrt(index * (1.0 - index) / inside.size))


def atom_weights(x, points) -> tuple[np.ndarray, np.ndarray]:
    r"""Share of samples whose nearest training point is each :math:`x_i`, with standard errors.

    Parameters
    ----------
    x : (n, d) array
        Samples, n ≥ 1.
    points : (m, d) array
        Training points.

    Returns
    -------
    (weights, standard_errors) : two (m,) float64 arrays
        :math:`\hat\omega_i = \#\{x : \text{nearest point } x_i\}/n` (summing to 1) and the
        multinomial standard errors :math:`\sqrt{\hat\omega_i(1-\hat\omega_i)/n}`.

    Raises
    ------
    ValueError
        As :func:`nearest_distance`.

    Notes
    -----
    The weights :math:`\omega_i` of :math:`\mu_{SGM} = \sum_i\omega_i\delta_{x_i}` (paper002 B4):
    1/m each for the exact empirical score, re-weighted, with every :math:`\omega_i > 0`, by a
    bounded perturbation. Read them on memorised samples (nearest distance well below the
    spacing): the nearest-point cells split any other law too.
    """
    x, points = _samples_and_points(x, points)
    counts = np.bincount(_nearest(x, points)[1], minlength=points.shape[0])
    n = x.shape[0]
    weights = counts / n
    return weights, np.sqrt(weights * (1.0 - weights) / n)


# --------------------------------------------------------------------------------------------
# Spread about a linear subspace


def normal_spread(x, basis) -> float:
    r"""Standard deviation of the samples orthogonal to the subspace spanned by ``basis``.

    Parameters
    ----------
    x : (n, d) array
        Samples, n ≥ 2.
    basis : (d, k) array
        Orthonormal basis :math:`Q_T` of a linear subspace, 1 ≤ k < d.

    Returns
    -------
    float
        :math:`\sqrt{\operatorname{tr}\widehat{\operatorname{Cov}}(r)/(d-k)}` with
        :math:`r = (I - Q_TQ_T^\top)x`: the RMS over normal directions of the sample standard
        deviation (about the sample mean, ddof = 1). For a codimension-1 subspace, the std of
        the normal coordinate.

    Raises
    ------
    ValueError
        If ``x`` is not a finite (n, d) array with n ≥ 2, or ``basis`` is not (d, k) with
        orthonormal columns and 1 ≤ k < d.

    Notes
    -----
    For the Gaussian on a line, noised to OU time t, the normal std is :math:`\sqrt{v_t}`
    (paper002 T-B1): the samples land on the line as :math:`t_{min} \to 0`; a bounded drift
    leaves a floor (T-B4).
    """
    x = _points("x", x, minimum=2)
    b = _basis(basis, x.shape[1])
    normal = x - (x @ b) @ b.T
    return float(np.sqrt(np.sum(np.var(normal, axis=0, ddof=1)) / (x.shape[1] - b.shape[1])))


def tangent_variance(x, basis) -> np.ndarray:
    r"""Sample variance of each tangent coordinate :math:`z = Q_T^\top x` (ddof = 1), shape (k,).

    Parameters and errors as :func:`normal_spread`.

    Notes
    -----
    For the Gaussian on a line with variance λ, noised to OU time t: :math:`a_t^2\lambda + v_t`
    (paper002 T-B1).
    """
    x = _points("x", x, minimum=2)
    b = _basis(basis, x.shape[1])
    return np.var(x @ b, axis=0, ddof=1)
