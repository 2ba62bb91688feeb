r"""Stationary laws of gradient fields near a closed planar curve, computed exactly on a tube grid.

A Langevin (or tempered-score Langevin) sampler whose drift is a gradient, :math:`\nabla f`, has the
stationary law :math:`\propto e^{f}`. Near a closed curve M ⊂ R² that law is computed here by
quadrature instead of by running the chain (research note paper003 §6, "Common numerics"): in tube
coordinates :math:`x = \Phi(t) + \rho\,\nu(t)` (t the curve's parameter, ν the outward unit normal,
ρ the signed distance), the area element is

.. math:: dx = |\Phi'(t)|\,(1 + \rho\,k(t))\;dt\,d\rho, \qquad
          k = \frac{x'y'' - y'x''}{|\Phi'|^3} \ \ (\text{curvature, } 1/R \text{ on a circle}),

so a midpoint rule on an (n_t × n_ρ) grid gives each cell's mass
:math:`e^{f(x)}|\Phi'|(1+\rho k)\,\Delta t\,\Delta\rho`, normalised by a log-sum-exp. On a circle of
radius R, t = θ and :math:`|\Phi'|(1+\rho k) = r`, the polar Jacobian.

The grid is the computational domain K: mass outside it is not represented, so callers choose a
half-width that holds the law (several thicknesses), or the note's K itself. Laws in t are compared
through cell masses (:func:`cell_masses`, :func:`arc_length_masses`) and :func:`total_variation`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from theory._validation import check_integer, check_scalar

__all__ = [
    "Curve",
    "TubeLaw",
    "arc_length_masses",
    "cell_masses",
    "circle",
    "ellipse",
    "total_variation",
    "tube_law",
]


@dataclass(frozen=True)
class Curve:
    r"""A closed, counter-clockwise planar curve :math:`\Phi:[0, 2\pi)\to\mathbb R^2` with its derivatives.

    ``point``, ``velocity`` and ``acceleration`` map parameters t of shape S to arrays (S..., 2).
    """

    name: str
    point: Callable[[np.ndarray], np.ndarray]
    velocity: Callable[[np.ndarray], np.ndarray]
    acceleration: Callable[[np.ndarray], np.ndarray]

    def speed(self, t) -> np.ndarray:
        """:math:`|\\Phi'(t)|`."""
        v = self.velocity(np.asarray(t, dtype=np.float64))
        return np.hypot(v[..., 0], v[..., 1])

    def normal(self, t) -> np.ndarray:
        """The outward unit normal ν(t) = (y', −x')/|Φ'| (counter-clockwise curve)."""
        v = self.velocity(np.asarray(t, dtype=np.float64))
        return np.stack([v[..., 1], -v[..., 0]], axis=-1) / self.speed(t)[..., None]

    def curvature(self, t) -> np.ndarray:
        """Signed curvature k(t) = (x'y'' − y'x'')/|Φ'|³ (> 0 on a convex curve)."""
        t = np.asarray(t, dtype=np.float64)
        v, a = self.velocity(t), self.acceleration(t)
        return (v[..., 0] * a[..., 1] - v[..., 1] * a[..., 0]) / self.speed(t) ** 3


def ellipse(a, b) -> Curve:
    """The ellipse Φ(t) = (a cos t, b sin t), a, b > 0 (a = b: the circle of radius a, t = θ)."""
    a = check_scalar("a", a, positive=True)
    b = check_scalar("b", b, positive=True)

    def point(t):
        return np.stack([a * np.cos(t), b * np.sin(t)], axis=-1)

    def velocity(t):
        return np.stack([-a * np.sin(t), b * np.cos(t)], axis=-1)

    def acceleration(t):
        return np.stack([-a * np.cos(t), -b * np.sin(t)], axis=-1)

    return Curve(f"ellipse({a:g}, {b:g})", point, velocity, acceleration)


def circle(radius=1.0) -> Curve:
    """The circle of radius R centred at the origin, parametrised by its angle θ."""
    radius = check_scalar("radius", radius, positive=True)
    return ellipse(radius, radius)


@dataclass(frozen=True)
class TubeLaw:
    """A law on the tube grid: cell masses ``mass`` (n_ρ, n_t) summing to 1, at midpoints ``t``, ``rho``."""

    curve: Curve
    t: np.ndarray
    rho: np.ndarray
    mass: np.ndarray

    @property
    def points(self) -> np.ndarray:
        """The cells' midpoints x = Φ(t) + ρν(t), shape (n_ρ, n_t, 2)."""
        return _points(self.curve, self.t, self.rho)

    def parameter_marginal(self) -> np.ndarray:
        """Masses of the t-cells (n_t,): the law of the foot point's parameter."""
        return self.mass.sum(axis=0)

    def normal_marginal(self) -> np.ndarray:
        """Masses of the ρ-cells (n_ρ,)."""
        return self.mass.sum(axis=1)

    def normal_mean(self) -> float:
        """E ρ, the mean signed distance (the normal offset)."""
        return float(self.normal_marginal() @ self.rho)

    def normal_sd(self) -> float:
        """The standard deviation of ρ."""
        p = self.normal_marginal()
        mean = p @ self.rho
        return float(np.sqrt(p @ (self.rho - mean) ** 2))

    def mass_beyond(self, delta) -> float:
        """P(|ρ| > δ): the mass farther than δ from M (within the grid)."""
        delta = check_scalar("delta", delta, positive=True)
        return float(self.normal_marginal()[np.abs(self.rho) > delta].sum())

    def expect(self, fn: Callable[[np.ndarray], np.ndarray]) -> float:
        """E fn(x) for fn mapping points (..., 2) to values (...)."""
        return float(np.sum(self.mass * fn(self.points)))


def _points(curve: Curve, t: np.ndarray, rho: np.ndarray) -> np.ndarray:
    return curve.point(t)[None, :, :] + rho[:, None, None] * curve.normal(t)[None, :, :]


def _midpoints(lo: float, hi: float, n: int) -> np.ndarray:
    h = (hi - lo) / n
    return lo + h * (np.arange(n) + 0.5)


def tube_law(
    log_density: Callable[[np.ndarray], np.ndarray],
    curve: Curve,
    half_width,
    *,
    n_t: int = 720,
    n_rho: int = 1_500,
) -> TubeLaw:
    r"""The law :math:`\propto e^{f(x)}\,dx` restricted to the tube |ρ| < half_width, on a midpoint grid.

    Arguments
    ---------
    log_density : f, mapping points (N, 2) to log-densities (N,) up to a constant (for a
        gradient drift ∇f, the stationary law's log-density; for TS Langevin with the exact
        score, :math:`\sigma^\alpha\log p_\sigma`).
    curve : the closed curve M (:func:`circle`, :func:`ellipse`).
    half_width : the tube's half-width w > 0; it must stay below the reach, 1 + ρk > 0 on the grid.
    n_t, n_rho : grid cells along the curve and across it (midpoints; both ≥ 2).

    Returns
    -------
    :class:`TubeLaw` with the normalised cell masses.

    Notes
    -----
    Midpoint rule in (t, ρ) with the tube Jacobian |Φ'|(1 + ρk) (module notes). It is spectrally
    accurate in the periodic t and second order in ρ, so a ρ-step of σ/10 across a Gaussian of
    width σ gives moments to about 1e-3 relative; the note uses ≤ σ/10 or 1 500 points.

    Raises
    ------
    ValueError
        If ``half_width`` is not positive or reaches the curve's focal set (1 + ρk ≤ 0 somewhere),
        ``n_t``/``n_rho`` < 2, or f is not finite (and real) on the grid.
    """
    half_width = check_scalar("half_width", half_width, positive=True)
    n_t = check_integer("n_t", n_t, minimum=2)
    n_rho = check_integer("n_rho", n_rho, minimum=2)
    t = _midpoints(0.0, 2.0 * np.pi, n_t)
    rho = _midpoints(-half_width, half_width, n_rho)
    k = curve.curvature(t)
    if np.any(1.0 - half_width * np.abs(k) <= 0):
        raise ValueError(
            f"half_width must stay below the reach of {curve.name} (1 + ρk ≤ 0 at ρ = ±{half_width:g})"
        )
    stretch = 1.0 + rho[:, None] * k[None, :]
    pts = _points(curve, t, rho)
    f = np.asarray(log_density(pts.reshape(-1, 2)), dtype=np.float64).reshape(n_rho, n_t)
    if not np.all(np.isfinite(f)):
        raise ValueError("log_density must be finite on the grid")
    log_w = f + np.log(stretch) + np.log(curve.speed(t))[None, :]
    mass = np.exp(log_w - logsumexp(log_w))
    return TubeLaw(curve, t, rho, mass)


def cell_masses(log_density_t: Callable[[np.ndarray], np.ndarray], n_t: int = 720) -> np.ndarray:
    r"""Masses of the n_t midpoint cells of [0, 2π) under the density :math:`\propto e^{g(t)}\,dt`.

    ``log_density_t`` is g, vectorised over t; the masses are normalised to sum to 1 (the same
    midpoint rule as :func:`tube_law`, so two laws are compared cell by cell).
    """
    n_t = check_integer("n_t", n_t, minimum=2)
    t = _midpoints(0.0, 2.0 * np.pi, n_t)
    g = np.asarray(log_density_t(t), dtype=np.float64)
    if g.shape != t.shape or not np.all(np.isfinite(g)):
        raise ValueError("log_density_t must map t of shape (n_t,) to finite values of that shape")
    return np.exp(g - logsumexp(g))


def arc_length_masses(curve: Curve, n_t: int = 720) -> np.ndarray:
    """Cell masses of the uniform law in arc length (Riemannian volume) on ``curve``: ∝ |Φ'(t)| dt."""
    return cell_masses(lambda t: np.log(curve.speed(t)), n_t)


def total_variation(p, q) -> float:
    """½ Σ |p − q| for two mass vectors on the same cells (each must sum to 1 within 1e-9)."""
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    if p.shape != q.shape:
        raise ValueError(f"p and q must have the same shape (got {p.shape} and {q.shape})")
    for name, m in (("p", p), ("q", q)):
        if np.any(m < 0) or abs(m.sum() - 1.0) > 1e-9:
            raise ValueError(
                f"{name} must be non-negative masses summing to 1 (sum {m.sum():.12g})"
            )
    return float(0.5 * np.abs(p - q).sum())
