r"""The noised ellipse of the rate-separation paper (paper003 T-C8): exact log-density and TS bias.

Data on the ellipse :math:`\Phi(t) = (a\cos t, b\sin t)` with the angle law von Mises(κ, t₀) in the
*chart* parameter t (a density w.r.t. dt, the paper's Assumption 2.2 [P]),

.. math:: p_{\rm data}(t) = \frac{e^{\kappa\cos(t - t_0)}}{2\pi I_0(\kappa)},

noised in the VE convention :math:`x_\sigma = x + \sigma Z` (σ the noise standard deviation):

.. math:: p_\sigma(x) = \int_0^{2\pi} \frac{e^{-|x-\Phi(s)|^2/(2\sigma^2)}}{2\pi\sigma^2}\,
          p_{\rm data}(s)\,ds .

No closed form exists; :func:`noised_ellipse_log_density` takes the Gaussian factor of the normal
distance in closed form and the rest by a local 1-D quadrature in s around the foot point (note
T-C8: "p_σ by local 1-D quadrature in t"). :func:`ts_ellipse_tv_coefficient` is the constant of the
Tempered-Score bias against the arc-length law (note T-C8 [D]).
"""

from __future__ import annotations

import numpy as np
from scipy.special import i0e

from theory._validation import as_points, check_integer, check_scalar

__all__ = [
    "ellipse_foot_point",
    "noised_ellipse_log_density",
    "ts_ellipse_tv_coefficient",
]

_COARSE = 256  # coarse t-grid that brackets the foot point before Newton
_NEWTON = 12  # Newton steps on <x − Φ(t), Φ'(t)> = 0 (quadratic convergence from the coarse grid)
_WINDOW_SDS = 16.0  # half-width of the quadrature window in local standard deviations of s
_CHUNK = 4096  # points per vectorised block (bounds memory at n_nodes × _CHUNK doubles)


def _axes(a, b) -> tuple[float, float]:
    return check_scalar("a", a, positive=True), check_scalar("b", b, positive=True)


def _chart_law(kappa, mean_angle) -> tuple[float, float]:
    kappa = check_scalar("kappa", kappa)
    if kappa < 0:
        raise ValueError(f"kappa must be >= 0 (got {kappa:.6g})")
    return kappa, check_scalar("mean_angle", mean_angle)


def _phi(t, a, b):
    return np.stack([a * np.cos(t), b * np.sin(t)], axis=-1)


def _dphi(t, a, b):
    return np.stack([-a * np.sin(t), b * np.cos(t)], axis=-1)


def ellipse_foot_point(x, a=1.0, b=2.0) -> tuple[np.ndarray, np.ndarray]:
    r"""Foot point t* and signed distance ρ of points near the ellipse (a cos t, b sin t).

    Arguments
    ---------
    x : a point (2,) or points (n, 2).
    a, b : semi-axes > 0.

    Returns
    -------
    ``(t, rho)``, each of shape (n,) (or scalars for one point): t* ∈ [0, 2π) minimises
    :math:`|x - \Phi(t)|`, and ρ = ⟨x − Φ(t*), ν(t*)⟩ with ν the outward unit normal.

    Notes
    -----
    The nearest of 256 equispaced parameters, then Newton on
    :math:`g(t) = \langle x - \Phi(t), \Phi'(t)\rangle`, :math:`g' = -|\Phi'|^2 +
    \langle x - \Phi, \Phi''\rangle`. The foot point is unique inside the reach
    :math:`\min(a^2/b, b^2/a)` (the smallest radius of curvature).

    Raises
    ------
    ValueError
        If ``x`` is not finite of shape (2,) or (n, 2), ``a`` or ``b`` is not > 0, or a point lies
        inside the curve deeper than the reach (its foot point is not unique).
    """
    pts, single = as_points(x, 2)
    a, b = _axes(a, b)
    grid = 2.0 * np.pi * np.arange(_COARSE) / _COARSE
    d2 = ((pts[:, None, :] - _phi(grid, a, b)[None]) ** 2).sum(-1)
    t = grid[np.argmin(d2, axis=1)]
    for _ in range(_NEWTON):
        diff = pts - _phi(t, a, b)
        v = _dphi(t, a, b)
        g = (diff * v).sum(-1)
        dg = -(v**2).sum(-1) + (diff * -_phi(t, a, b)).sum(-1)
        t = t - g / dg
    t = np.mod(t, 2.0 * np.pi)
    v = _dphi(t, a, b)
    normal = np.stack([v[:, 1], -v[:, 0]], axis=-1) / np.hypot(v[:, 0], v[:, 1])[:, None]
    rho = ((pts - _phi(t, a, b)) * normal).sum(-1)
    reach = min(a * a / b, b * b / a)
    if np.any(rho <= -reach):
        raise ValueError(
            f"x must lie within the reach {reach:g} inside the ellipse (got a signed distance "
            f"{rho.min():.6g})"
        )
    return (float(t[0]), float(rho[0])) if single else (t, rho)


def noised_ellipse_log_density(
    x, sigma, a=1.0, b=2.0, kappa=1.0, mean_angle=0.0, *, n_nodes: int = 201
) -> np.ndarray:
    r"""VE log-density :math:`\log p_\sigma(x)` of von Mises(κ, t₀)-in-t data on the ellipse (a, b).

    Arguments
    ---------
    x : a point (2,) or points (n, 2), each within the reach of the ellipse if inside it.
    sigma : noise standard deviation σ > 0 (VE: :math:`x_\sigma = x + \sigma Z`).
    a, b : semi-axes > 0 (the note's ellipse is (1, 2)).
    kappa : concentration κ ≥ 0 of the chart law (density w.r.t. dt).
    mean_angle : the von Mises centre t₀.
    n_nodes : quadrature nodes per point (odd, ≥ 51).

    Returns
    -------
    A float for one point, else an (n,) array.

    Notes
    -----
    With the foot point t* and signed distance ρ of x (:func:`ellipse_foot_point`),

    .. math:: \log p_\sigma(x) = -\frac{\rho^2}{2\sigma^2} - \log(2\pi\sigma^2) + \log\int
              e^{-(|x-\Phi(t^*+u)|^2 - \rho^2)/(2\sigma^2)}\,p_{\rm data}(t^*+u)\,du,

    the integral by the trapezoidal rule on :math:`|u| \le w`, :math:`w = \min(\pi, 16\,s)`, where
    :math:`s = \sigma/(|\Phi'(t^*)|\sqrt{1 + \rho k(t^*)})` is the local standard deviation of the
    Gaussian factor in u (the u-Hessian of ½|x − Φ|² at t* is :math:`|\Phi'|^2(1 + \rho k)`, paper003
    C1's Ĥ). The exponent is ≥ 0 and the neglected tail is below e^{−100} relative; the rule is
    spectrally accurate for this smooth, decaying integrand.

    Raises
    ------
    ValueError
        On bad ``x`` (see :func:`ellipse_foot_point`), σ ≤ 0, a or b ≤ 0, κ < 0, a non-finite
        ``mean_angle``, or ``n_nodes`` not an odd integer ≥ 51.
    """
    pts, single = as_points(x, 2)
    sigma = check_scalar("sigma", sigma, positive=True)
    a, b = _axes(a, b)
    kappa, mean_angle = _chart_law(kappa, mean_angle)
    n_nodes = check_integer("n_nodes", n_nodes, minimum=51)
    if n_nodes % 2 == 0:
        raise ValueError(f"n_nodes must be odd (got {n_nodes})")
    log_norm = np.log(2.0 * np.pi * i0e(kappa)) + kappa  # log(2π I₀(κ))
    unit = np.linspace(-1.0, 1.0, n_nodes)
    weights = np.full(n_nodes, 2.0 / (n_nodes - 1))
    weights[[0, -1]] *= 0.5
    out = np.empty(pts.shape[0])
    for lo in range(0, pts.shape[0], _CHUNK):
        p = pts[lo : lo + _CHUNK]
        t, rho = ellipse_foot_point(p, a, b)
        v = _dphi(t, a, b)
        speed = np.hypot(v[:, 0], v[:, 1])
        k = a * b / speed**3
        width = np.minimum(np.pi, _WINDOW_SDS * sigma / (speed * np.sqrt(1.0 + rho * k)))
        s = t[:, None] + width[:, None] * unit[None, :]
        excess = ((p[:, None, :] - _phi(s, a, b)) ** 2).sum(-1) - rho[:, None] ** 2
        log_f = -excess / (2.0 * sigma**2) + kappa * np.cos(s - mean_angle)
        top = log_f.max(axis=1, keepdims=True)
        integral = np.log((np.exp(log_f - top) * weights).sum(axis=1) * width) + top[:, 0]
        out[lo : lo + _CHUNK] = (
            -(rho**2) / (2.0 * sigma**2) - np.log(2.0 * np.pi * sigma**2) + integral - log_norm
        )
    return float(out[0]) if single else out


def ts_ellipse_tv_coefficient(a=1.0, b=2.0, kappa=1.0, mean_angle=0.0, *, n: int = 200_000):
    r"""The constant c of the TS bias :math:`\mathrm{TV}(\tilde\pi_\sigma|_M, \text{arc law}) \approx
    c\,\sigma^\alpha` on the ellipse, :math:`c = \tfrac12 E_{\rm arc}|\log q - E_{\rm arc}\log q|`.

    Arguments
    ---------
    a, b : semi-axes > 0.
    kappa, mean_angle : the chart law von Mises(κ, t₀) in t (w.r.t. dt).
    n : periodic trapezoid nodes (≥ 1 000).

    Returns
    -------
    c ≥ 0 (0.3701 for (a, b) = (1, 2), κ = 1, t₀ = 0: note T-C8).

    Notes
    -----
    With the exact score the TS stationary law on M is :math:`\propto q^{\sigma^\alpha}\,d\mathrm{vol}`
    with :math:`q = p_{\rm data}/|\Phi'|` the density w.r.t. arc length (paper003 §2 C3 [D],
    summary-table row "TS on-M law"). To first order in :math:`\varepsilon = \sigma^\alpha`,
    :math:`q^\varepsilon/E q^\varepsilon = 1 + \varepsilon(\log q - E\log q) + O(\varepsilon^2)`,
    so its TV to the arc-length law is :math:`\tfrac12\varepsilon E_{\rm arc}|\log q - E\log q|`.
    The arc-length expectations are periodic trapezoid sums in t with weight :math:`|\Phi'(t)|`.

    Raises
    ------
    ValueError
        If a or b ≤ 0, κ < 0, ``mean_angle`` is not finite, or n < 1 000.
    """
    a, b = _axes(a, b)
    kappa, mean_angle = _chart_law(kappa, mean_angle)
    n = check_integer("n", n, minimum=1_000)
    t = 2.0 * np.pi * np.arange(n) / n
    speed = np.hypot(a * np.sin(t), b * np.cos(t))
    arc = speed / speed.sum()
    log_q = kappa * np.cos(t - mean_angle) - np.log(speed)
    centred = log_q - arc @ log_q
    return float(0.5 * (arc @ np.abs(centred)))
