r"""Empirical, piecewise-linear and smoothed scores of a finite training set on a line (paper004).

Convention (paper004, note §1.1 [N]): variance exploding with noise **variance** t,
:math:`p_t = p_0 * \mathcal N(0, t I)`, so the noise std is :math:`\sigma = \sqrt t`. Denoising is
the probability-flow ODE written in forward time,

.. math:: \dot x_\tau = -\tfrac12\, s_\tau(x_\tau),

integrated backwards from a start time t down to 0. The training set is
:math:`p_0^{(n)} = \frac1n\sum_k \delta_{y_k}`; the smoothed objects assume the points lie on one
line, in order, with half-gaps :math:`\Delta_k = (\tau_{k+1}-\tau_k)/2` and midpoints
:math:`m_k = (\tau_k+\tau_{k+1})/2` in the line coordinate :math:`\tau_k`. The smoothing width is
:math:`\delta_t = \kappa\sqrt t` (note §1.4 [N]), which must stay below every half-gap.

Shapes: ``x`` is (..., d) and ``points`` is (n, d), also for d = 1; ``t``, ``s``, ``kappa`` and
``t0`` are scalars. A point :math:`x\in\mathbb R^d` splits into its line coordinate
:math:`\xi = x\cdot u` (u the unit direction from ``points[0]`` to ``points[-1]``; u = +1 for
d = 1) and its normal part :math:`x_\perp = x - o - \xi u` (o the foot of the line from the origin).

Source: Z. Chen, *On the interpolation effect of score smoothing in diffusion models*, ICLR 2026,
arXiv 2502.19499 (v3), through research/paper004_score_smoothing.md (the "note"); tags [N], [D],
[U] are the note's provenance tags.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from typing import NamedTuple

import mpmath
import numpy as np
from scipy import integrate
from scipy.special import ndtr

from theory import _scores
from theory._validation import check_finite, check_positive, check_scalar
from theory.distributions import FiniteSet

__all__ = [
    "Atoms",
    "EndpointLaw",
    "asymptotic_loss",
    "empirical_score",
    "endpoint_law",
    "flow_map",
    "non_smoothness",
    "normal_collapse",
    "piecewise_linear_score",
    "score_matching_loss",
    "smoothed_score",
]

# Points are collinear if every one lies within this fraction of the set's size of the line
# through points[0] and points[-1].
_COLLINEAR_RTOL = 1e-9
# Working precision (decimal digits) for F(kappa): its closed form cancels about log10(kappa^4 / 2)
# digits, so the precision grows with kappa to keep float64 accuracy in the tail.
_F_DPS = 30
# Beyond this kappa, F(kappa) < 2 phi(kappa) / kappa^3 < 1e-350 rounds to 0 in float64 (and the
# working precision, which grows like 4 log10(kappa), need not be paid).
_F_ZERO_KAPPA = 40.0
# The loss is a sum of Gaussian expectations; standard-normal mass beyond this many standard
# deviations past the last feature of the integrand is below 1e-30 and is left out.
_Z_TAIL = 12.0
# Relative accuracy asked of each quadrature in score_matching_loss.
_LOSS_RTOL = 1e-12


# --------------------------------------------------------------------------------------------
# Input checks (argument, allowed range) and the line through the training points


def _scalar(name: str, value, *, positive: bool = True) -> float:
    return check_scalar(name, value, positive=positive)


def _points(points) -> np.ndarray:
    pts = check_finite("points", points)
    if pts.ndim != 2:
        raise ValueError(f"points must have shape (n, d), also for d = 1 (got shape {pts.shape})")
    if pts.shape[0] < 2:
        raise ValueError(f"points must hold at least two points, n >= 2 (got n = {pts.shape[0]})")
    if pts.shape[1] < 1:
        raise ValueError(f"points must have d >= 1 coordinates (got shape {pts.shape})")
    return pts


def _batch(x, d: int) -> tuple[np.ndarray, tuple]:
    arr = check_finite("x", x)
    if arr.ndim < 1 or arr.shape[-1] != d:
        raise ValueError(
            f"x must have shape (..., d) with d = {d} as the points (got shape {arr.shape})"
        )
    return arr.reshape(-1, d), arr.shape


class _Line(NamedTuple):
    tau: np.ndarray  # (n,) line coordinates of the points, strictly increasing
    direction: np.ndarray  # (d,) unit vector u
    origin: np.ndarray  # (d,) foot o of the line from the origin, so y_k = o + tau_k u

    @property
    def mid(self) -> np.ndarray:
        return 0.5 * (self.tau[:-1] + self.tau[1:])

    @property
    def half(self) -> np.ndarray:
        return 0.5 * (self.tau[1:] - self.tau[:-1])

    def split(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Line coordinate xi (N,) and normal part (N, d) of points x (N, d)."""
        xi = x @ self.direction
        return xi, x - self.origin - xi[:, None] * self.direction

    def join(self, xi: np.ndarray, normal: np.ndarray) -> np.ndarray:
        return self.origin + xi[:, None] * self.direction + normal


def _line(points) -> _Line:
    """Validate ordered, distinct, collinear points and return their line.

    The line of the same points is built once: flows call a field thousands of times with one
    training set, and the checks below cost more than the field itself (:func:`_line_of`)."""
    pts = _points(points)
    return _line_of(pts.tobytes(), pts.shape)


@functools.lru_cache(maxsize=64)
def _line_of(data: bytes, shape: tuple[int, ...]) -> _Line:
    pts = np.frombuffer(data, dtype=np.float64).reshape(shape)
    d = pts.shape[1]
    if d == 1:
        u = np.ones(1)
    else:
        chord = pts[-1] - pts[0]
        length = np.linalg.norm(chord)
        if length == 0.0:
            raise ValueError(
                "points must be distinct and ordered along a line (points[0] == points[-1])"
            )
        u = chord / length
    tau = pts @ u
    origin = pts[0] - tau[0] * u
    if d > 1:
        residual = np.linalg.norm(pts - origin - tau[:, None] * u, axis=1).max()
        scale = max(np.linalg.norm(pts, axis=1).max(), tau[-1] - tau[0])
        if residual > _COLLINEAR_RTOL * scale:
            raise ValueError(
                f"points must lie on one line (max distance to the line through points[0] and "
                f"points[-1] is {residual:.3g}, allowed {_COLLINEAR_RTOL:g} x {scale:.3g})"
            )
    gaps = np.diff(tau)
    if np.any(gaps == 0.0):
        k = int(np.flatnonzero(gaps == 0.0)[0])
        raise ValueError(
            f"points must not repeat: points[{k}] and points[{k + 1}] have the same position"
        )
    if np.any(gaps < 0.0):
        k = int(np.flatnonzero(gaps < 0.0)[0])
        order = (
            "in increasing order"
            if d == 1
            else "in order along the line from points[0] to points[-1]"
        )
        raise ValueError(
            f"points must be sorted {order} (points[{k + 1}] comes before points[{k}])"
        )
    for arr in (tau, u, origin):
        arr.flags.writeable = False  # shared between calls
    return _Line(tau, u, origin)


def _check_regime(name: str, t: float, kappa: float, line: _Line) -> float:
    """Return delta_t = kappa sqrt(t), raising unless it is below the smallest half-gap."""
    delta = kappa * np.sqrt(t)
    half_min = float(line.half.min())
    if not delta < half_min:
        raise ValueError(
            f"{name} must satisfy kappa*sqrt({name}) < {half_min:.6g} (the smallest half-gap), "
            f"i.e. 0 < {name} < {(half_min / kappa) ** 2:.6g} for kappa = {kappa:.6g} "
            f"(got {name} = {t:.6g})"
        )
    return delta


def _nearest(xi: np.ndarray, line: _Line) -> np.ndarray:
    """Index of the nearest training point (a tie at a midpoint goes to the left point)."""
    return np.searchsorted(line.mid, xi, side="left")


def _gap(xi: np.ndarray, line: _Line) -> np.ndarray:
    """Index k of the gap [tau_k, tau_{k+1}] holding xi (the first/last gap outside the hull)."""
    return np.clip(np.searchsorted(line.tau, xi, side="right") - 1, 0, line.tau.size - 2)


def _smoothed_1d(xi: np.ndarray, t: float, delta: float, line: _Line) -> np.ndarray:
    j = _nearest(xi, line)
    out = (line.tau[j] - xi) / t
    k = _gap(xi, line)
    r = xi - line.mid[k]
    half = line.half[k]
    ramp = np.abs(r) < half - delta
    out[ramp] = (delta / (half[ramp] - delta)) * r[ramp] / t
    return out


# --------------------------------------------------------------------------------------------
# Scores


def empirical_score(x, t, points) -> np.ndarray:
    r"""Empirical score function (ESF) of n points in d dimensions at noise variance t.

    Parameters
    ----------
    x : array_like, shape (..., d)
        Where to evaluate.
    t : float, t > 0
        Noise variance (VE); the noise std is :math:`\sqrt t`.
    points : array_like, shape (n, d), n >= 2
        Training points, in any order (repeats count twice).

    Returns
    -------
    ndarray, shape (..., d)
        :math:`\nabla_x \log p_t^{(n)}(x)`.

    Notes
    -----
    With :math:`p_t^{(n)} = \frac1n\sum_k \mathcal N(y_k, tI)` (VE, variance t) and the posterior
    mean :math:`\hat x_t(x) = \sum_k w_k(x) y_k`,
    :math:`w_k \propto \exp(-\|x-y_k\|^2/2t)`:

    .. math:: \nabla\log p_t^{(n)}(x) = \frac{\hat x_t(x) - x}{t}
              = \frac1t\sum_k w_k(x)\,(y_k - x).

    Evaluated by :meth:`theory.distributions.FiniteSet.score` at :math:`\sigma = \sqrt t`
    (log-sum-exp weights, differences :math:`y_k - x` formed directly). For
    :math:`S = \{-1, +1\}` this is :math:`(\tanh(x/t) - x)/t`. Source: paper004 §2, note §1.3
    [N]; two-point closed form [N, D].
    """
    pts = _points(points)
    t = _scalar("t", t)
    flat, shape = _batch(x, pts.shape[1])
    if flat.shape[0] == 0:
        return np.zeros(shape)
    sigma = np.full(flat.shape[0], np.sqrt(t))
    return FiniteSet(pts).score(flat, sigma).reshape(shape)


def piecewise_linear_score(x, t, points) -> np.ndarray:
    r"""Piecewise-linear ESF (PL-ESF): the small-t limit of the ESF at fixed t·score.

    Parameters
    ----------
    x : array_like, shape (..., d)
    t : float, t > 0
        Noise variance (VE).
    points : array_like, shape (n, d), n >= 2
        Training points, in any order.

    Returns
    -------
    ndarray, shape (..., d)
        :math:`\bar s_t(x) = (\mathrm{NN}(x) - x)/t`.

    Notes
    -----
    .. math:: \bar s_t(x) = \frac{\mathrm{NN}(x) - x}{t}, \qquad
              \bar s_t(x) = \frac{\operatorname{sgn}(x) - x}{t} \text{ for } S=\{-1,+1\},

    with NN(x) the nearest training point; it jumps on the Voronoi boundaries. On a boundary (a
    null set; ties detected by exact equality of the float64 squared distances) the value is the
    pointwise limit of :math:`t\,\nabla\log p_t^{(n)}`, i.e. NN is the average of the tied points
    (so :math:`\operatorname{sgn} 0 = 0`). Convention VE, variance t. Source: paper004 §3, note
    §1.3: two-point form [N], n-point form [D].
    """
    pts = _points(points)
    t = _scalar("t", t)
    flat, shape = _batch(x, pts.shape[1])
    diff = pts[None, :, :] - flat[:, None, :]  # (N, n, d): y_k - x, formed directly
    d2 = np.sum(diff**2, axis=2)
    tied = d2 == d2.min(axis=1, keepdims=True)
    pull = np.einsum("nk,nkd->nd", tied, diff) / tied.sum(axis=1)[:, None]
    return (pull / t).reshape(shape)


def smoothed_score(x, t, kappa, points) -> np.ndarray:
    r"""Smoothed PL-ESF (S-PL-ESF) with window :math:`\delta_t = \kappa\sqrt t`.

    Parameters
    ----------
    x : array_like, shape (..., d)
    t : float, 0 < t < (min_k Δ_k / κ)²
        Noise variance (VE); the window must be below every half-gap, δ_t < Δ_k.
    kappa : float, κ > 0
        Ratio of the smoothing window to the noise std.
    points : array_like, shape (n, d), n >= 2
        Distinct collinear training points, ordered along their line (increasing for d = 1).

    Returns
    -------
    ndarray, shape (..., d)

    Notes
    -----
    Two points :math:`\{-1, +1\}` (paper004 §3, note §1.4 [N]), :math:`\delta = \kappa\sqrt t`:

    .. math:: \hat s_{t,\delta}(x) = \begin{cases} -(x+1)/t & x \le \delta - 1\\
              \frac{\delta}{1-\delta}\,\frac{x}{t} & \delta-1 < x < 1-\delta\\
              -(x-1)/t & x \ge 1-\delta. \end{cases}

    n points (reconstruction of App. C, note §1.4 [D]): in gap k, with midpoint :math:`m_k`
    and half-gap :math:`\Delta_k`,

    .. math:: \hat s(\xi) = \frac{\delta}{\Delta_k - \delta}\,\frac{\xi - m_k}{t}
              \quad\text{for } |\xi - m_k| < \Delta_k - \delta,

    and the PL-ESF :math:`(\tau_{\mathrm{NN}} - \xi)/t` everywhere else (also outside the
    hull). The note reconstructs equal spacing; unequal gaps use their own :math:`\Delta_k` with
    the common δ (an extension, not from the paper). The function is continuous (both pieces
    equal :math:`\pm\delta/t` at the kinks).

    d dimensions (paper004 §5, note §2.4 [N]): smoothing is tangential only, the normal part is
    the exact normal part of the ESF,

    .. math:: \hat s(x) = \hat s^{1D}(\xi)\,u - x_\perp / t .

    Convention VE, variance t; the window :math:`\delta_t = \kappa\sqrt t` is note §1.4 [N].
    """
    line = _line(points)
    kappa = _scalar("kappa", kappa)
    t = _scalar("t", t)
    delta = _check_regime("t", t, kappa, line)
    flat, shape = _batch(x, line.direction.size)
    xi, normal = line.split(flat)
    out = _smoothed_1d(xi, t, delta, line)[:, None] * line.direction - normal / t
    return out.reshape(shape)


# --------------------------------------------------------------------------------------------
# Non-smoothness and score-matching loss


def non_smoothness(t, kappa, points) -> float:
    r"""Non-smoothness :math:`R[\hat s_{t,\delta_t}] = \int |f''|` of the S-PL-ESF.

    Parameters
    ----------
    t : float, 0 < t < (min_k Δ_k / κ)²
        Noise variance (VE).
    kappa : float, κ > 0
    points : array_like, shape (n, d), n >= 2
        Distinct collinear ordered training points.

    Returns
    -------
    float

    Notes
    -----
    :math:`R[f] = \int |f''(x)|\,dx` (Savarese et al. 2019; paper004 §3, note §1.4 [N]); for a
    piecewise-linear f it is the sum of the absolute slope changes. Each gap has two kinks where
    the slope changes from :math:`-1/t` to :math:`\delta/((\Delta_k-\delta)t)`, a change of
    :math:`\Delta_k/((\Delta_k-\delta)t)`, hence [D]

    .. math:: R[\hat s_{t,\delta}] = \sum_{k=1}^{n-1} \frac{2\Delta_k}{(\Delta_k-\delta)\,t},
              \qquad R = \frac{2}{(1-\delta)t} \text{ for } \{-1,+1\}\ \text{(note §1.4 [D])}.

    The boundary term :math:`|f'(-\infty)+f'(+\infty)| = 2/t` of Savarese et al. enters through
    a maximum and never exceeds this value, so it does not change R. In d dimensions the normal
    part :math:`-x_\perp/t` is linear and the worst line is the data line, so
    :math:`R^{(d)}` equals the 1-D value (note §2.4 [N], unit directions w assumed; the exact
    sup domain is [U]). Convention VE, variance t.
    """
    line = _line(points)
    kappa = _scalar("kappa", kappa)
    t = _scalar("t", t)
    delta = _check_regime("t", t, kappa, line)
    half = line.half
    return float(np.sum(2.0 * half / ((half - delta) * t)))


def asymptotic_loss(kappa) -> np.ndarray:
    r"""Small-t limit F(κ) of the score-matching loss of the two-point S-PL-ESF.

    Parameters
    ----------
    kappa : array_like, every entry > 0

    Returns
    -------
    ndarray, same shape as ``kappa`` (a 0-d array for a scalar)

    Notes
    -----
    .. math:: \lim_{t\to 0} L_t[\hat s_{t,\kappa\sqrt t}] = F(\kappa)
              = \mathbb E\big[(Z-\kappa)_+^2\big]
              = (1+\kappa^2)\,\bar\Phi(\kappa) - \kappa\,\varphi(\kappa),
              \qquad Z\sim\mathcal N(0,1),

    decreasing from 1/2 (κ → 0) to 0; paper004 Prop. 1 picks :math:`\kappa = F^{-1}(\varepsilon)`
    (note §2.1: F derived [D], consistent with the reviewers' :math:`F^{-1}(\varepsilon)` [N];
    a margin such as ε/2 is [U]). The two terms cancel about :math:`\log_{10}(\kappa^4/2)`
    digits, so F is evaluated with mpmath at :math:`30 + 4\log_{10}\max(\kappa, 1)` digits and
    rounded to float64 (it underflows to 0 beyond κ ≈ 38, and is returned as 0 for κ ≥ 40
    without the mpmath evaluation).

    For n collinear points the same limit is :math:`\frac1n\sum_k 2F(\kappa) = \frac{2(n-1)}{n}
    F(\kappa)` (each of the 2(n − 1) inner sides of a point contributes F(κ)/n; derived here [D],
    see :func:`score_matching_loss`). Convention VE, variance t, loss
    :math:`L_t[f] = t\,\mathbb E_{p_t}\|f - \nabla\log p_t\|^2` (note §1.1 [N]).
    """
    k = check_positive("kappa", kappa)

    def f(kap: float) -> float:
        if kap >= _F_ZERO_KAPPA:
            return 0.0
        with mpmath.workdps(_F_DPS + int(4 * max(np.log10(kap), 0.0))):
            kk = mpmath.mpf(kap)
            tail = mpmath.ncdf(-kk)
            dens = mpmath.npdf(kk)
            return float((1 + kk**2) * tail - kk * dens)

    return np.vectorize(f, otypes=[np.float64])(k)


def score_matching_loss(t, kappa, points) -> float:
    r"""Exact score-matching loss :math:`L_t` of the S-PL-ESF, by quadrature.

    Parameters
    ----------
    t : float, 0 < t < (min_k Δ_k / κ)²
        Noise variance (VE).
    kappa : float, κ > 0
    points : array_like, shape (n, d), n >= 2
        Distinct collinear ordered training points.

    Returns
    -------
    float

    Notes
    -----
    .. math:: L_t[f] = t\,\mathbb E_{x\sim p_t^{(n)}}\big\|f(x) - \nabla\log p_t^{(n)}(x)\big\|^2,
              \qquad f = \hat s_{t,\kappa\sqrt t}

    (note §1.1 [N]). The normal parts of f and of the ESF are both :math:`-x_\perp/t`, so only
    the line coordinate contributes; writing :math:`\xi = \tau_j + \sqrt t\,z` around each point,

    .. math:: L_t = \frac1n\sum_{j=1}^n \int \varphi(z)\,
              \frac{\big(t f - t\,s_t\big)^2(\tau_j+\sqrt t z)}{t}\,dz ,

    each integral by :func:`scipy.integrate.quad` over :math:`|z| \le \kappa + 12` (the
    Gaussian weight beyond is below 1e-30 relative), split at the kinks, midpoints and points,
    with an absolute tolerance of 1e-12 times the small-t value below. Both scores are evaluated
    in coordinates centred on :math:`\tau_j` (the points enter as :math:`\tau_k - \tau_j`, the
    position as :math:`\sqrt t z`), so the integrand stays smooth to rounding even when
    :math:`\sqrt t` is far below the spacing of float64 numbers near :math:`\tau_j`. As t → 0
    (derived here [D]; for two points it reproduces the note's table, §2.1),

    .. math:: L_t = \frac1n\sum_{k=1}^{n-1}\frac{2F(\kappa)}{(1-\delta_t/\Delta_k)^2}
              + O(e^{-c/t}) \;\to\; \frac{2(n-1)}{n}F(\kappa),

    because on the ramp next to a point :math:`(tf - ts_t)/\sqrt t = (z+\kappa)/(1-\delta_t/\Delta)`
    up to exponentially small terms. Hence :math:`L_t - F(\kappa) \approx 2\kappa\sqrt t\,F(\kappa)`
    for two points. Convention VE, variance t.
    """
    line = _line(points)
    kappa = _scalar("kappa", kappa)
    t = _scalar("t", t)
    delta = _check_regime("t", t, kappa, line)
    root_t = np.sqrt(t)
    half = line.half
    sigma = np.array([root_t])

    def integrand(z: float, local: _Line) -> float:
        # In coordinates centred on the current point: xi - centre = sqrt(t) z is exact to
        # rounding, whereas centre + sqrt(t) z would round to a grid of spacing ulp(centre),
        # coarse against sqrt(t) when the points lie far from 0 and t is small.
        u = np.array([root_t * z])
        # t f - t s_t, both formed as pulls (target - xi), so nothing cancels near a point
        tf = t * _smoothed_1d(u, t, delta, local)[0]
        ts = t * _scores.finite_set_fields(u[:, None], sigma, local.tau[:, None], jacobian=False)[0]
        return np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi) * (tf - ts[0, 0]) ** 2 / t

    # Absolute tolerance from the small-t value below: where the exact integrand is
    # exponentially small, t f - t s_t is rounding noise that no relative tolerance can resolve.
    leading = float(asymptotic_loss(kappa)) * np.mean(
        np.concatenate([2.0 / (1.0 - delta / half) ** 2, [0.0]])
    )
    epsabs = _LOSS_RTOL * max(leading, np.finfo(np.float64).tiny)
    z_max = kappa + _Z_TAIL
    total = 0.0
    for centre in line.tau:
        local = line._replace(tau=line.tau - centre)
        mid, gap = local.mid, local.half - delta
        z_feat = np.concatenate([local.tau, mid, mid - gap, mid + gap]) / root_t
        edges = np.unique(np.concatenate([[-z_max, z_max], z_feat[np.abs(z_feat) < z_max]]))
        for a, b in itertools.pairwise(edges):
            val, _ = integrate.quad(
                integrand, a, b, args=(local,), epsabs=epsabs, epsrel=_LOSS_RTOL, limit=200
            )
            total += val
    return total / line.tau.size


# --------------------------------------------------------------------------------------------
# Denoising flow and its endpoint law


def normal_collapse(s, t) -> np.ndarray:
    r"""Factor :math:`\sqrt{s/t}` by which the normal component shrinks from time t to s.

    Parameters
    ----------
    s : array_like, 0 <= s <= t
    t : float, t > 0

    Returns
    -------
    ndarray, shape of ``s``

    Notes
    -----
    Both the ESF and the S-PL-ESF have normal part :math:`-x_\perp/\tau`, so the PF-ODE gives
    :math:`\dot x_\perp = x_\perp/(2\tau)` and

    .. math:: x_\perp(s) = x_\perp(t)\,\sqrt{s/t}, \qquad 0 \le s \le t .

    Convention VE, variance t, flow :math:`\dot x = -\tfrac12 s_\tau(x)`. Source: paper004 §5,
    note §2.4 and claim C8 [N/D].
    """
    t = _scalar("t", t)
    s = check_finite("s", s)
    if np.any(s < 0) or np.any(s > t):
        raise ValueError(f"s must satisfy 0 <= s <= t = {t:.6g} (got range [{s.min()}, {s.max()}])")
    return np.sqrt(s / t)


def flow_map(x, t, s, kappa, points) -> np.ndarray:
    r"""Flow map :math:`\varphi_{s|t}` of the PF-ODE under the S-PL-ESF, from time t down to s.

    Parameters
    ----------
    x : array_like, shape (..., d)
        States at time t.
    t : float, 0 < t < (min_k Δ_k / κ)²
        Start time (noise variance, VE).
    s : float, 0 <= s <= t
        End time; s = 0 gives the endpoint map.
    kappa : float, κ > 0
    points : array_like, shape (n, d), n >= 2
        Distinct collinear ordered training points.

    Returns
    -------
    ndarray, shape (..., d)
        States at time s.

    Notes
    -----
    Solution of :math:`\dot x_\tau = -\tfrac12\hat s_{\tau,\kappa\sqrt\tau}(x_\tau)` for
    τ from t down to s (VE, variance τ). Two points (paper004 Prop. 2, note §2.2: endpoint map
    [N], full flow [D]), :math:`\delta_\tau = \kappa\sqrt\tau`:

    .. math:: x_s = x_t\,\frac{1-\kappa\sqrt s}{1-\kappa\sqrt t}
              \quad (|x_t| < 1-\delta_t), \qquad
              x_s - \operatorname{sgn} x_t = (x_t - \operatorname{sgn} x_t)\sqrt{s/t}
              \quad \text{otherwise}.

    n points (note §2.2 [D]): in the middle region of gap k,
    :math:`\xi_s = m_k + (\xi_t - m_k)(\Delta_k-\kappa\sqrt s)/(\Delta_k-\kappa\sqrt t)` (the
    invariant is :math:`(\xi - m_k)/(\Delta_k-\kappa\sqrt\tau)`); elsewhere
    :math:`\xi_s = \tau_j + (\xi_t - \tau_j)\sqrt{s/t}` with :math:`\tau_j` the nearest point.
    The region boundaries are trajectories, so no mass crosses them. The normal part collapses,
    :math:`x_{\perp,s} = x_{\perp,t}\sqrt{s/t}` (:func:`normal_collapse`, note §2.4 [N/D]).
    """
    line = _line(points)
    kappa = _scalar("kappa", kappa)
    t = _scalar("t", t)
    s = _scalar("s", s, positive=False)
    if not 0.0 <= s <= t:
        raise ValueError(f"s must satisfy 0 <= s <= t = {t:.6g} (got s = {s:.6g})")
    delta_t = _check_regime("t", t, kappa, line)
    delta_s = kappa * np.sqrt(s)
    flat, shape = _batch(x, line.direction.size)
    xi, normal = line.split(flat)
    shrink = float(normal_collapse(s, t))
    j = _nearest(xi, line)
    xi_s = line.tau[j] + (xi - line.tau[j]) * shrink
    k = _gap(xi, line)
    r = xi - line.mid[k]
    half = line.half[k]
    middle = np.abs(r) < half - delta_t
    xi_s[middle] = line.mid[k][middle] + r[middle] * (
        (half[middle] - delta_s) / (half[middle] - delta_t)
    )
    return line.join(xi_s, normal * shrink).reshape(shape)


class Atoms(NamedTuple):
    """Point masses of :class:`EndpointLaw`: one atom per training point."""

    positions: np.ndarray  # (n, d) the training points y_k
    weights: np.ndarray  # (n,) a_k; for {-1, +1} these are (a_-, a_+)


def _interval_prob(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """P(lo < Z < hi) for standard normal Z, accurate in both tails (lo <= hi)."""
    upper = ndtr(-lo) - ndtr(-hi)  # exact when both bounds are in the upper tail
    lower = ndtr(hi) - ndtr(lo)
    return np.where(lo > 0, upper, lower)


@dataclass(frozen=True, eq=False)
class EndpointLaw:
    r"""Law of :math:`\varphi_{0|t_0}(x)`, :math:`x\sim p_{t_0}^{(n)}`: atoms plus a density.

    Attributes
    ----------
    atoms : Atoms
        ``positions`` (n, d), the training points, and ``weights`` (n,), the atom masses
        :math:`a_k` (for :math:`\{-1,+1\}`: :math:`(a_-, a_+)`).
    interpolating_mass : float
        :math:`1 - \sum_k a_k`, the mass of the absolutely continuous part.
    kappa, t0 : float
    coordinates : ndarray, shape (n,)
        Line coordinates :math:`\tau_k` of the points.
    direction, origin : ndarray, shape (d,)
        The line is :math:`\{o + \xi u\}`; :math:`y_k = o + \tau_k u`.

    Notes
    -----
    See :func:`endpoint_law`. :meth:`density` is the density (per unit length along the line,
    in the line coordinate ξ) of the absolutely continuous part, integrating to
    ``interpolating_mass``; :meth:`interpolating_density` is it divided by that mass, the note's
    probability density :math:`\tilde p_0^{(n,t_0)}`.
    """

    atoms: Atoms
    interpolating_mass: float
    kappa: float
    t0: float
    coordinates: np.ndarray
    direction: np.ndarray
    origin: np.ndarray

    def density(self, xi) -> np.ndarray:
        r"""Density of the continuous part at line coordinates ``xi`` (any shape).

        .. math:: \rho(\xi) = \lambda_k\, p_{t_0}\big(m_k + \lambda_k(\xi - m_k)\big),
                  \quad \lambda_k = \frac{\Delta_k - \kappa\sqrt{t_0}}{\Delta_k},
                  \quad \xi\in[\tau_k, \tau_{k+1}],

        and 0 outside :math:`[\tau_1, \tau_n]`; here :math:`p_{t_0}` is the 1-D marginal
        :math:`\frac1n\sum_j\mathcal N(\tau_j, t_0)` along the line. At an interior training
        point (a null set) the value is the limit from the right. Source: note §2.3 [D].
        """
        xi = check_finite("xi", xi)
        line = _Line(self.coordinates, self.direction, self.origin)
        k = _gap(xi, line)
        mid, half = line.mid[k], line.half[k]
        lam = (half - self.kappa * np.sqrt(self.t0)) / half
        pre = mid + lam * (xi - mid)
        z = (pre[..., None] - self.coordinates) / np.sqrt(self.t0)
        p = np.mean(np.exp(-0.5 * z**2), axis=-1) / np.sqrt(2 * np.pi * self.t0)
        inside = (xi >= self.coordinates[0]) & (xi <= self.coordinates[-1])
        return np.where(inside, lam * p, 0.0)

    def interpolating_density(self, xi) -> np.ndarray:
        r"""The probability density :math:`\tilde p_0^{(n,t_0)} = \rho / (1 - \sum_k a_k)`.

        Undefined, and refused, when the interpolating mass underflows to 0 (about
        :math:`\bar\Phi(\kappa)` below the smallest float64, κ ≳ 38): the atoms then hold all
        the mass.
        """
        if not self.interpolating_mass > 0.0:
            raise ValueError(
                f"kappa must leave an interpolating mass > 0 in float64 for interpolating_density "
                f"(got kappa = {self.kappa:.6g}, t0 = {self.t0:.6g}: the mass underflows to 0)"
            )
        return self.density(xi) / self.interpolating_mass


def endpoint_law(kappa, t0, points) -> EndpointLaw:
    r"""Endpoint law of denoising with the S-PL-ESF from :math:`p_{t_0}^{(n)}` down to 0.

    Parameters
    ----------
    kappa : float, κ > 0
    t0 : float, 0 < t0 < (min_k Δ_k / κ)²
        Start time (noise variance, VE) where the exact noised law :math:`p_{t_0}^{(n)}` is
        handed to the smoothed flow.
    points : array_like, shape (n, d), n >= 2
        Distinct collinear ordered training points.

    Returns
    -------
    EndpointLaw

    Notes
    -----
    Push-forward of :math:`p_{t_0}^{(n)}` under :func:`flow_map` ``(·, t0, 0)`` (paper004 Prop. 3,
    note §2.3: decomposition [N], explicit forms [D]); with :math:`\delta_0 = \kappa\sqrt{t_0}`,

    .. math:: \hat p_0^{(n,t_0)} = \sum_k a_k\,\delta_{y_k}
              + \Big(1 - \sum_k a_k\Big)\,\tilde p_0^{(n,t_0)},

    .. math:: a_k = P_{x\sim p_{t_0}}\big(|\xi - \tau_k| \le \delta_0\big)
              \ \text{(one-sided and unbounded outward for } k = 1, n),

    the interpolating mass is the probability of the middle regions
    :math:`|\xi - m_k| < \Delta_k - \delta_0`, computed separately (so the sum to one is a
    check), and the density is in :meth:`EndpointLaw.density`. The normal part collapses to 0,
    so the law lives on the line. For two points and small :math:`t_0` the interpolating mass
    tends to :math:`\bar\Phi(\kappa)` (note §2.3 [D]); for n points to
    :math:`\frac{2(n-1)}{n}\bar\Phi(\kappa)` [D]. Convention VE, variance t.
    """
    pts = _points(points)
    line = _line(pts)
    kappa = _scalar("kappa", kappa)
    t0 = _scalar("t0", t0)
    delta = _check_regime("t0", t0, kappa, line)
    tau = line.tau
    root = np.sqrt(t0)
    lo = tau - delta
    hi = tau + delta
    lo[0], hi[-1] = -np.inf, np.inf
    # rows: regions, columns: source Gaussians N(tau_j, t0)
    atom_w = _interval_prob(
        (lo[:, None] - tau[None, :]) / root, (hi[:, None] - tau[None, :]) / root
    ).mean(axis=1)
    ramp_lo, ramp_hi = tau[:-1] + delta, tau[1:] - delta
    ramp_w = _interval_prob(
        (ramp_lo[:, None] - tau[None, :]) / root, (ramp_hi[:, None] - tau[None, :]) / root
    ).mean(axis=1)
    frozen = []
    for arr in (pts, atom_w, tau, line.direction, line.origin):
        arr = np.array(arr)
        arr.setflags(write=False)
        frozen.append(arr)
    return EndpointLaw(
        atoms=Atoms(frozen[0], frozen[1]),
        interpolating_mass=float(ramp_w.sum()),
        kappa=kappa,
        t0=t0,
        coordinates=frozen[2],
        direction=frozen[3],
        origin=frozen[4],
    )
