r"""Jacobians and Jacobian spectra of any score callable, by finite differences (numpy only).

Every function takes a score callable ``score(x, sigma)`` with ``x`` of shape (m, d) (float64) and
``sigma`` a positive scalar or an (m,) array, returning the (m, d) score values. Exact fields
(:mod:`theory.distributions`) and learned ones go through the same code. Noise is VE,
:math:`x_\sigma = x_0 + \sigma\varepsilon`; Jacobians are of the score,
:math:`J_{ij} = \partial s_i / \partial x_j`.

- :func:`central_difference_jacobian`: the full (n, d, d) Jacobian, all 2d perturbed copies of every
  point evaluated in batched, chunked calls.
- :func:`probe_singular_values`: the orthogonal-probe estimator of the singular values at one point
  (paper001 §5, Algorithms 1 and 2 of Ventura et al.), which needs only d or 2d score calls.
- :func:`haar_orthogonal`: the Haar-distributed random orthogonal matrix behind the probes.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable

import numpy as np

from theory._validation import check_finite, check_positive, check_scalar

__all__ = ["central_difference_jacobian", "haar_orthogonal", "probe_singular_values"]

_METHODS = ("central", "forward")


# --------------------------------------------------------------------------------------------
# Input checks (every failure is a ValueError naming the argument)


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer (got {value!r})")
    return int(value)


def _sigma_argument(sigma, n: int):
    """A positive scalar (kept scalar, passed through as is) or an (n,) array of noise levels."""
    arr = check_positive("sigma", sigma)
    if arr.ndim == 0:
        return float(arr)
    if arr.shape != (n,):
        raise ValueError(f"sigma must be a scalar or have shape ({n},) (got {arr.shape})")
    return arr


def _evaluate(score: Callable, points: np.ndarray, sigma) -> np.ndarray:
    """Call the score on a batch and check that it returned finite values of the batch's shape."""
    values = np.asarray(score(points, sigma), dtype=np.float64)
    if values.shape != points.shape:
        raise ValueError(
            f"score must return an array of the input's shape {points.shape} (got {values.shape})"
        )
    if not np.all(np.isfinite(values)):
        raise ValueError("score returned NaN or infinity")
    return values


# --------------------------------------------------------------------------------------------
# Full Jacobians


def central_difference_jacobian(
    score: Callable, x, sigma, h: float = 1e-5, chunk: int = 4096
) -> np.ndarray:
    r"""Score Jacobian at a batch of points by central finite differences (VE convention).

    Arguments
    ---------
    score : callable ``score(x, sigma)``, ``x`` (m, d) float64, ``sigma`` scalar or (m,); returns
        (m, d).
    x : (n, d) array (or a single point (d,)) — where to differentiate.
    sigma : VE noise level σ > 0, a scalar or one value per point (n,). A scalar is passed to
        ``score`` unchanged; an array is passed as the matching (m,) slice.
    h : float > 0 — the absolute step, in the units of ``x``; default 1e-5.
    chunk : int ≥ 1 — the largest number of points given to one call of ``score``; default 4096.

    Returns
    -------
    (n, d, d) array (or (d, d) for a single point) with ``J[p, i, j]`` = ∂s_i/∂x_j at ``x[p]``.

    Notes
    -----
    .. math:: J_{ij}(x) \approx \frac{s_i(x + h e_j, \sigma) - s_i(x - h e_j, \sigma)}
              {(x_j + h) - (x_j - h)}

    The denominator is the step actually taken in floating point (equal to 2h up to rounding). The
    error is :math:`\tfrac{h^2}{6}\,\partial_j^3 s_i` from truncation plus about
    :math:`\epsilon_{mach}\,|s|/h` from rounding; at h = 1e-5 the note's T-A0 figure is a relative
    error of about 1e-6 (paper000 §6), and it is far smaller for smooth fields with σ ≳ 0.1.
    The step must be small against the scale on which the field varies (σ for an exact score).

    All 2·n·d perturbed copies of the n points (2d per point) are enumerated in one flat order
    and evaluated ``chunk`` at a time, so memory is bounded by ``chunk`` × d for the inputs plus
    whatever ``score`` needs for ``chunk`` points, however large n is. The same differences are
    formed in the same order whatever ``chunk`` is, so the result depends on it only if the score's
    value at a point depends on the batch it is evaluated in (e.g. BLAS blocking, in the last bit).
    """
    pts = check_finite("x", x)
    single = pts.ndim == 1
    if single:
        pts = pts[None, :]
    if pts.ndim != 2 or pts.shape[1] < 1:
        raise ValueError(f"x must have shape (d,) or (n, d) with d >= 1 (got {np.shape(x)})")
    n, d = pts.shape
    sig = _sigma_argument(sigma, n)
    h = check_scalar("h", h, positive=True)
    chunk = _positive_int("chunk", chunk)

    x_plus = pts + h
    x_minus = pts - h
    step = x_plus - x_minus  # (n, d), the step actually taken
    # diff[p, j, :] accumulates s(x_p + h e_j) - s(x_p - h e_j)
    diff = np.zeros((n, d, d))
    total = 2 * n * d
    for start in range(0, total, chunk):
        q = np.arange(start, min(start + chunk, total))
        p, r = np.divmod(q, 2 * d)  # point index; r < d: +h e_j, r >= d: -h e_(r-d)
        minus, j = np.divmod(r, d)
        batch = pts[p]
        batch[np.arange(q.size), j] = np.where(minus == 1, x_minus[p, j], x_plus[p, j])
        values = _evaluate(score, batch, sig if isinstance(sig, float) else sig[p])
        # Within one chunk every (p, j) occurs at most once per sign, so fancy-index updates are
        # safe; the + copy of a point always precedes its - copy, so diff = (0 + s⁺) − s⁻ exactly.
        plus = minus == 0
        diff[p[plus], j[plus]] += values[plus]
        diff[p[~plus], j[~plus]] -= values[~plus]
    jac = np.ascontiguousarray(np.swapaxes(diff / step[:, :, None], 1, 2))
    return jac[0] if single else jac


# --------------------------------------------------------------------------------------------
# Orthogonal-probe estimator of the singular values (paper001 §5)


def haar_orthogonal(d: int, rng: np.random.Generator) -> np.ndarray:
    r"""A random orthogonal d×d matrix drawn from the Haar measure.

    Arguments
    ---------
    d : int ≥ 1.
    rng : numpy ``Generator``; exactly one call ``rng.standard_normal((d, d))`` is made.

    Returns
    -------
    (d, d) orthogonal matrix; its rows (and its columns) are orthonormal.

    Notes
    -----
    QR of a matrix G of i.i.d. N(0, 1) entries, :math:`G = QR`, then
    :math:`Q \leftarrow Q\,\operatorname{diag}(\operatorname{sign} R_{ii})`. Without the sign fix
    the factor Q from Householder QR is not Haar (its first column always has the opposite sign to
    :math:`G_{11}`); with it, Q is Haar (Mezzadri 2007). paper001 §5 step 1.
    """
    d = _positive_int("d", d)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator (got {type(rng).__name__})")
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return q * np.where(np.diag(r) < 0, -1.0, 1.0)[None, :]


def probe_singular_values(
    score: Callable,
    x0,
    t: float,
    rng: np.random.Generator,
    method: str = "central",
    normalize: bool = True,
) -> np.ndarray:
    r"""Singular values of the score Jacobian at one point by random orthogonal probes.

    Arguments
    ---------
    score : callable ``score(x, sigma)`` as in the module docstring; called once with 2d points
        (``"central"``) or d points (``"forward"``), always with the scalar ``sigma = sqrt(t)``.
    x0 : (d,) array — the point.
    t : float > 0 — the VE time t = σ², so the noise level and the probe scale are
        :math:`\sigma_t = \sqrt t`.
    rng : numpy ``Generator`` — the probes are ``haar_orthogonal(d, rng)``, the only draw made.
    method : ``"central"`` (paper001 Alg. 2, default) or ``"forward"`` (Alg. 1).
    normalize : bool — divide by the largest returned value (default True).

    Returns
    -------
    Array of d values (``"central"``) or d − 1 values (``"forward"``), sorted decreasing.

    Notes
    -----
    With a Haar orthogonal V (rows :math:`v_i`, :func:`haar_orthogonal`) the probe matrix has rows

    .. math:: S_i = \tfrac12\big(s(x_0 + \sigma_t v_i) - s(x_0 - \sigma_t v_i)\big) \quad
              \text{(central)}, \qquad S_i = s(x_0 + \sigma_t v_i) \quad \text{(forward)},

    and the estimate is the singular values of :math:`S/\sigma_t`. For a linear score
    :math:`s(x) = Jx + b` the central rows are exactly :math:`\sigma_t (J v_i)^\top`, so
    :math:`S/\sigma_t = V J^\top` has the singular values of J whatever V is. The forward matrix
    adds the rank-one term :math:`\mathbf 1\, s(x_0)^\top / \sigma_t` (the mean score); its largest
    singular value is dropped. The rank-one term still moves the remaining ones within the
    interlacing bounds :math:`\varsigma_{i+2}(J) \le \hat\varsigma_i \le \varsigma_i(J)` (Weyl), so
    the forward version is exact only in the degenerate part of the spectrum (the normal spike)
    or where :math:`s(x_0) = 0`; prefer ``"central"``.

    ``normalize=True`` divides by the largest value, as the paper does: the normal spike then sits
    at 1 and, when the largest singular value is the normal stiffness 1/t (exact VE scores near a
    manifold of dimension < d), the result is the spectrum of :math:`-tJ` (paper001 §1, §5, T10).
    ``normalize=False`` returns estimates of the singular values of J itself.

    Source: paper001 §5 (the sister code ``beatriceachilli/losing-dimensions``, reading [C]).
    """
    pts0 = check_finite("x0", x0)
    if pts0.ndim != 1 or pts0.size < 1:
        raise ValueError(f"x0 must be a single point of shape (d,) (got shape {pts0.shape})")
    d = pts0.size
    t = check_scalar("t", t, positive=True)
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS} (got {method!r})")
    if method == "forward" and d < 2:
        raise ValueError(
            "x0 must have dimension d >= 2 for method='forward' (one value is dropped)"
        )
    if not isinstance(normalize, bool | np.bool_):
        raise ValueError(f"normalize must be a bool (got {normalize!r})")
    sigma_t = float(np.sqrt(t))
    v = haar_orthogonal(d, rng)
    if method == "central":
        probes = np.concatenate([pts0 + sigma_t * v, pts0 - sigma_t * v])
        values = _evaluate(score, probes, sigma_t)
        s_mat = 0.5 * (values[:d] - values[d:])
    else:
        s_mat = _evaluate(score, pts0 + sigma_t * v, sigma_t)
    sv = np.linalg.svd(s_mat / sigma_t, compute_uv=False)
    if method == "forward":
        sv = sv[1:]
    if normalize:
        if sv[0] == 0:
            raise ValueError("score gave probe singular values that are all 0: cannot normalise")
        sv = sv / sv[0]
    return sv
