r"""Closed forms on spheres and circles for the rate-separation paper (paper003).

Exact VE quantities (:math:`x_\sigma = x + \sigma Z`, σ the noise standard deviation) used to test
the small-σ score decomposition: the radial score of the uniform law on a sphere, the tangential
score energy of von Mises data on a circle, and the small-σ expansion of the noised circle's
log-density. Tags are the paper003 note's: [D] derived in the note and checked there.
"""

from __future__ import annotations

import numpy as np
from scipy.special import i0e, i1e, ive

from theory._validation import as_points, as_sigma, check_integer, check_positive, check_scalar

__all__ = [
    "circle_log_density_expansion",
    "circle_tangential_energy",
    "sphere_radial_score",
]


def _kappa(kappa) -> float:
    kappa = check_scalar("kappa", kappa)
    if kappa < 0:
        raise ValueError(f"kappa must be >= 0 (got {kappa:.6g})")
    return kappa


def sphere_radial_score(r, sigma, d: int, radius=1.0) -> np.ndarray:
    r"""Radial VE score of the uniform law on the sphere :math:`S^{d-1}` of radius R in :math:`\mathbb R^d`.

    Arguments
    ---------
    r : distance(s) |x| > 0 from the centre, any shape.
    sigma : noise standard deviation(s) σ > 0, broadcast with ``r``.
    d : the ambient dimension, an integer ≥ 2 (d = 2: the circle).
    radius : the sphere's radius R > 0.

    Returns
    -------
    Array of the broadcast shape: :math:`\partial_r\log p_\sigma` (the score is this times x/|x|).

    Notes
    -----
    Integrating the Gaussian kernel over the sphere gives
    :math:`p_\sigma(x)\propto e^{-(r^2+R^2)/(2\sigma^2)}B^{1-d/2}I_{d/2-1}(B)`, :math:`B = Rr/\sigma^2`,
    and with :math:`I_\nu' = I_{\nu+1} + (\nu/B)I_\nu` (paper003 §2 C1 "Closed forms" [D]; T-C3)

    .. math:: s_r(r, \sigma) = -\frac{r}{\sigma^2} + \frac{R}{\sigma^2}\,
              \frac{I_{d/2}(B)}{I_{d/2-1}(B)}
              \;\to\; -\frac{r - R}{\sigma^2} - \frac{d-1}{2r} \quad (\sigma\to0),

    whose O(1) part on M is ½𝐇 = −(d−1)/(2R). The Bessel ratio is taken from the exponentially
    scaled ``ive`` (no overflow at B ~ 10⁶).

    Raises
    ------
    ValueError
        If ``r`` or ``sigma`` holds an entry ≤ 0 or non-finite, they do not broadcast, ``d`` is not
        an integer ≥ 2, or ``radius`` is not a finite scalar > 0.
    """
    r = check_positive("r", r)
    sigma = check_positive("sigma", sigma)
    d = check_integer("d", d, minimum=2, allowed="an integer >= 2")
    radius = check_scalar("radius", radius, positive=True)
    try:
        r, sigma = np.broadcast_arrays(r, sigma)
    except ValueError:
        raise ValueError(
            f"r and sigma must broadcast together (got shapes {np.shape(r)} and {np.shape(sigma)})"
        ) from None
    s2 = sigma**2
    b = radius * r / s2
    ratio = ive(0.5 * d, b) / ive(0.5 * d - 1.0, b)
    return (radius * ratio - r) / s2


def circle_tangential_energy(kappa, radius=1.0) -> float:
    r"""Limit of :math:`\mathbb E_{p_\sigma}s_\parallel^2` for von Mises(κ) data on a circle of radius R.

    Arguments
    ---------
    kappa : concentration κ ≥ 0 of the angle law von Mises(κ, θ₀) w.r.t. dθ.
    radius : R > 0.

    Returns
    -------
    :math:`\kappa A_1(\kappa)/R^2`, :math:`A_1 = I_1/I_0`.

    Notes
    -----
    As σ → 0 the tangential score tends to :math:`\nabla_M\log q = -(\kappa/R)\sin(\theta-\theta_0)`
    (q the density w.r.t. arc length), so (paper003 §2 C1 "Stiffness versus magnitude" [D]; T-C4)

    .. math:: \mathbb E_q\|\nabla_M\log q\|^2 = \frac{\kappa^2}{R^2}\,\mathbb E\sin^2\theta
              = \frac{\kappa^2}{2R^2}\Big(1 - \frac{I_2(\kappa)}{I_0(\kappa)}\Big)
              = \frac{\kappa A_1(\kappa)}{R^2},

    using :math:`I_0 - I_2 = 2I_1/\kappa`. It is 0.4464 at κ = R = 1.

    Raises
    ------
    ValueError
        If ``kappa`` is not a finite scalar ≥ 0 or ``radius`` is not a finite scalar > 0.
    """
    kappa = _kappa(kappa)
    radius = check_scalar("radius", radius, positive=True)
    if kappa == 0.0:
        return 0.0
    return float(kappa * i1e(kappa) / i0e(kappa) / radius**2)


def circle_log_density_expansion(x, sigma, kappa=0.0, radius=1.0, mean_angle=0.0) -> np.ndarray:
    r"""The small-σ expansion of :math:`\log p_\sigma` near a circle (VE), without its remainder.

    Arguments
    ---------
    x : a point (2,) or points (n, 2), none at the origin.
    sigma : noise standard deviation σ > 0, a scalar or one per point (n,).
    kappa : concentration κ ≥ 0 of the angle law von Mises(κ, θ₀) w.r.t. dθ.
    radius : the circle's radius R > 0 (centred at the origin).
    mean_angle : the von Mises centre θ₀.

    Returns
    -------
    A float for one point, else an (n,) array.

    Notes
    -----
    Theorem 3.1 of the paper (paper003 §2 C1 [P], the circle case [D]) with d = 2, n = 1,
    :math:`d_M = \rho^2/2` (ρ = r − R), :math:`\det\hat H = rR` at the foot point of angle θ:

    .. math:: \log p_\sigma(x) = -\frac{\rho^2}{2\sigma^2} + \log p_{data}(\theta)
              - \tfrac12\log(2\pi\sigma^2) - \tfrac12\log(rR) + o(1),

    with :math:`p_{data}(\theta) = e^{\kappa\cos(\theta-\theta_0)}/(2\pi I_0(\kappa))`. The paper
    claims o(1); the note measures the remainder as O(σ²) (T-C2). This returns the expansion.

    Raises
    ------
    ValueError
        If ``x`` is not finite of shape (2,) or (n, 2) or holds the origin; ``sigma`` is not
        positive and finite of shape () or (n,); ``kappa`` is not a finite scalar ≥ 0; ``radius``
        is not a finite scalar > 0; ``mean_angle`` is not finite.
    """
    pts, single = as_points(x, 2)
    sig = as_sigma(sigma, pts.shape[0])
    kappa = _kappa(kappa)
    radius = check_scalar("radius", radius, positive=True)
    mean_angle = check_scalar("mean_angle", mean_angle)
    r = np.hypot(pts[:, 0], pts[:, 1])
    if np.any(r == 0):
        raise ValueError("x must not hold the origin (the foot point is undefined there)")
    theta = np.arctan2(pts[:, 1], pts[:, 0])
    log_i0 = np.log(i0e(kappa)) + kappa
    log_p_data = kappa * np.cos(theta - mean_angle) - np.log(2.0 * np.pi) - log_i0
    out = (
        -((r - radius) ** 2) / (2.0 * sig**2)
        + log_p_data
        - 0.5 * np.log(2.0 * np.pi * sig**2)
        - 0.5 * np.log(r * radius)
    )
    return float(out[0]) if single else out
