r"""A curved 2-D manifold in R³, the graph of a height function, with a mixture density on it (VE).

The data law of paper000 §3.3 recipe R1 [R] (the Fig. 1 analogue):

.. math:: M = \{\varphi(u) = (u_1, u_2, h(u)) : u \in [-a, a]^2\}, \qquad
          h(u) = A \sin(f u_1) \cos(f u_2),

with A = 0.3, f = 1.5, a = 2.5 by default; A = 0 gives the flat plane :math:`x_3 = 0`, the note's
control manifold. The density is a Gaussian mixture :math:`q_0` in the chart coordinates u (centres
(±1.5, ±1.5), std 0.4, equal weights), read as the density of the data **with respect to the area
measure of M** and truncated to the square. Pulled back to the chart, the data density with respect
to du is therefore

.. math:: p(u) \propto q_0(u)\, |J_\varphi(u)|, \qquad |J_\varphi(u)| = \sqrt{1 + |\nabla h(u)|^2},

which is the note's weight :math:`w_u \propto q_0(u)|J_\varphi(u)|\,\mathcal N(x; \varphi(u), \sigma^2 I)`.
On the plane :math:`|J_\varphi| = 1` and the law of (x₁, x₂) is :math:`q_0` itself; on the curved
surface the law of (x₁, x₂) is :math:`q_0|J_\varphi|` (normalised), which differs from
:math:`q_0` by at most the factor :math:`\sqrt{1 + A^2 f^2} \approx 1.10`.

Noised law (VE, :math:`x_\sigma = x_0 + \sigma\varepsilon`):
:math:`q_\sigma(x) = \int p(u)\,\mathcal N(x; \varphi(u), \sigma^2 I)\,du`, with score and score
Jacobian

.. math:: \nabla \log q_\sigma(x) = \frac{\mathbb E_w[\varphi(u)] - x}{\sigma^2}, \qquad
          \nabla^2 \log q_\sigma(x) = \frac{\operatorname{Cov}_w[\varphi(u)] - \sigma^2 I}{\sigma^4},

where :math:`w` is the posterior of u given x, :math:`w(u) \propto p(u)\,\mathcal N(x; \varphi(u),
\sigma^2 I)`. Both are computed by Gauss–Legendre quadrature on a window around the nearest point of
x on M (see :meth:`GraphSurface.fields`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from theory._validation import as_points, as_sigma, check_finite, check_integer, check_scalar

__all__ = ["DEFAULT_NODES", "WINDOW_SIGMAS", "GraphSurface"]

#: Gauss–Legendre nodes per axis of the quadrature window (the default of :meth:`GraphSurface.fields`).
DEFAULT_NODES = 64
#: Half-width of the quadrature window around the foot point, in units of σ, on top of the distance
#: of x from M: every chart point outside it is more than WINDOW_SIGMAS·σ from x.
WINDOW_SIGMAS = 10.0
# Newton iterations for the nearest point, and the stationarity it must reach.
_NEWTON_STEPS = 50
_NEWTON_TOL = 1e-12


@dataclass(frozen=True, eq=False)
class GraphSurface:
    r"""The graph :math:`x_3 = A\sin(f x_1)\cos(f x_2)` over :math:`[-a, a]^2` with a mixture on it.

    Arguments
    ---------
    amplitude : A ≥ 0 (0: the flat plane :math:`x_3 = 0`).
    frequency : f > 0.
    half_width : a > 0, the chart square is :math:`[-a, a]^2`.
    centre : c > 0, the mixture centres are :math:`(\pm c, \pm c)`, equal weights.
    std : s > 0, the isotropic std of each mixture component (in chart coordinates).

    Notes
    -----
    The mixture :math:`q_0(u) = \tfrac14 \sum_k \mathcal N(u; m_k, s^2 I_2)` is the density of the
    data with respect to the area measure of M, truncated to the square; the chart density is
    :math:`p(u) \propto q_0(u)\sqrt{1 + |\nabla h|^2}` (module docstring). Source: paper000 §3.3 R1
    [R]. VE convention, :math:`x_\sigma = x_0 + \sigma\varepsilon`.
    """

    amplitude: float = 0.3
    frequency: float = 1.5
    half_width: float = 2.5
    centre: float = 1.5
    std: float = 0.4

    def __post_init__(self):
        a = check_scalar("amplitude", self.amplitude)
        if a < 0:
            raise ValueError(f"amplitude must be >= 0 (got {a:.6g})")
        object.__setattr__(self, "amplitude", a)
        for name in ("frequency", "half_width", "centre", "std"):
            object.__setattr__(self, name, check_scalar(name, getattr(self, name), positive=True))
        if self.centre >= self.half_width:
            raise ValueError(
                f"centre must lie inside the square, 0 < centre < half_width = {self.half_width:.6g} "
                f"(got {self.centre:.6g})"
            )

    d = 3
    k = 2

    @property
    def means(self) -> np.ndarray:
        """The four mixture centres (±c, ±c), (4, 2)."""
        c = self.centre
        return np.array([[c, c], [c, -c], [-c, c], [-c, -c]])

    # ----------------------------------------------------------------------------------------
    # Geometry of the chart

    def height(self, u) -> np.ndarray:
        """:math:`h(u) = A\\sin(f u_1)\\cos(f u_2)` for u of shape (..., 2)."""
        u = check_finite("u", u)
        return self._height(u)[0]

    def _height(self, u):
        """h, ∇h (…, 2) and the Hessian entries (h₁₁, h₁₂, h₂₂) at chart points u (…, 2)."""
        a, f = self.amplitude, self.frequency
        s1, c1 = np.sin(f * u[..., 0]), np.cos(f * u[..., 0])
        s2, c2 = np.sin(f * u[..., 1]), np.cos(f * u[..., 1])
        h = a * s1 * c2
        grad = np.stack([a * f * c1 * c2, -a * f * s1 * s2], axis=-1)
        hess = (-a * f * f * s1 * c2, -a * f * f * c1 * s2, -a * f * f * s1 * c2)
        return h, grad, hess

    def embed(self, u) -> np.ndarray:
        r""":math:`\varphi(u) = (u_1, u_2, h(u))`, shape (..., 3)."""
        u = check_finite("u", u)
        return np.concatenate([u, self._height(u)[0][..., None]], axis=-1)

    def area_factor(self, u) -> np.ndarray:
        r""":math:`|J_\varphi(u)| = \sqrt{1 + |\nabla h(u)|^2}`, the area element of M in the chart."""
        u = check_finite("u", u)
        return np.sqrt(1.0 + np.sum(self._height(u)[1] ** 2, axis=-1))

    def log_chart_density(self, u) -> np.ndarray:
        r"""Unnormalised :math:`\log p(u) = \log q_0(u) + \log|J_\varphi(u)|` (−∞ outside the square)."""
        u = check_finite("u", u)
        return self._log_chart_density(u, self._height(u)[1])

    def _log_chart_density(self, u, grad):
        d2 = np.sum((u[..., None, :] - self.means) ** 2, axis=-1)  # (..., 4)
        log_q0 = logsumexp(-0.5 * d2 / self.std**2, axis=-1)
        inside = np.all(np.abs(u) <= self.half_width, axis=-1)
        log_p = log_q0 + 0.5 * np.log1p(np.sum(grad**2, axis=-1))
        return np.where(inside, log_p, -np.inf)

    def tangent_basis(self, u) -> np.ndarray:
        r"""Orthonormal tangent basis :math:`Q_T` of M at :math:`\varphi(u)`, shape (..., 3, 2).

        Gram–Schmidt of :math:`\partial_1\varphi = (1, 0, h_1)` and :math:`\partial_2\varphi =
        (0, 1, h_2)`, in that order (the first column is along :math:`\partial_1\varphi`).
        """
        u = check_finite("u", u)
        grad = self._height(u)[1]
        ones, zeros = np.ones(u.shape[:-1]), np.zeros(u.shape[:-1])
        t1 = np.stack([ones, zeros, grad[..., 0]], axis=-1)
        t2 = np.stack([zeros, ones, grad[..., 1]], axis=-1)
        t1 = t1 / np.linalg.norm(t1, axis=-1, keepdims=True)
        t2 = t2 - np.sum(t1 * t2, axis=-1, keepdims=True) * t1
        t2 = t2 / np.linalg.norm(t2, axis=-1, keepdims=True)
        return np.stack([t1, t2], axis=-1)

    def chart_velocity(self, u, v) -> np.ndarray:
        r"""The chart velocity :math:`\dot u` of the tangent part of ambient vectors v at
        :math:`\varphi(u)`: :math:`D\varphi\,\dot u = P_T v`, i.e.
        :math:`\dot u = (D\varphi^\top D\varphi)^{-1} D\varphi^\top v` with
        :math:`D\varphi = [e_1 + h_1 e_3,\ e_2 + h_2 e_3]`; u of shape (..., 2), v of shape (..., 3).
        """
        u = check_finite("u", u)
        v = check_finite("v", v)
        if v.shape != (*u.shape[:-1], 3):
            raise ValueError(f"v must have shape {(*u.shape[:-1], 3)} to match u (got {v.shape})")
        grad = self._height(u)[1]
        dphi = np.zeros((*u.shape[:-1], 3, 2))
        dphi[..., 0, 0] = dphi[..., 1, 1] = 1.0
        dphi[..., 2, :] = grad
        gram = np.swapaxes(dphi, -1, -2) @ dphi
        return np.linalg.solve(gram, np.swapaxes(dphi, -1, -2) @ v[..., None])[..., 0]

    def unit_normal(self, u) -> np.ndarray:
        r"""Upward unit normal :math:`\nu = (-h_1, -h_2, 1)/\sqrt{1 + |\nabla h|^2}`, shape (..., 3)."""
        u = check_finite("u", u)
        grad = self._height(u)[1]
        nu = np.concatenate([-grad, np.ones((*u.shape[:-1], 1))], axis=-1)
        return nu / np.linalg.norm(nu, axis=-1, keepdims=True)

    def nearest_point(self, x) -> tuple[np.ndarray, np.ndarray]:
        r"""Nearest point :math:`P_M(x)` on the (unbounded) graph and its chart coordinates.

        Arguments
        ---------
        x : (3,) or (n, 3).

        Returns
        -------
        P : shape like x, :math:`\varphi(u^*)`; u : (2,) or (n, 2), :math:`u^*`.

        Notes
        -----
        Newton's method on :math:`F(u) = \tfrac12|\varphi(u) - x|^2` from :math:`u = (x_1, x_2)`:

        .. math:: \nabla F = (u - x_{12}) + (h - x_3)\nabla h, \qquad
                  \nabla^2 F = I + \nabla h \nabla h^\top + (h - x_3)\nabla^2 h,

        with a Gauss–Newton step (the Hessian without its last term, always positive definite)
        wherever the full Hessian is not positive definite. The foot is the global minimiser when
        |x₃ − h| is below the reach of M (curvature radius ≥ 1/(A f²)); it is searched on the whole
        graph, so it may fall outside the chart square. Raises ``ValueError`` (naming x) if the
        iteration does not reach |∇F| < 1e-12.
        """
        pts, single = as_points(x, 3)
        u = pts[:, :2].copy()
        for _ in range(_NEWTON_STEPS):
            h, grad, (h11, h12, h22) = self._height(u)
            r = h - pts[:, 2]
            g = u - pts[:, :2] + r[:, None] * grad
            if np.max(np.abs(g)) < _NEWTON_TOL:
                break
            gn = np.eye(2) + grad[:, :, None] * grad[:, None, :]
            full = gn + r[:, None, None] * np.stack(
                [np.stack([h11, h12], -1), np.stack([h12, h22], -1)], -2
            )
            det = full[:, 0, 0] * full[:, 1, 1] - full[:, 0, 1] ** 2
            use = ((det > 0) & (full[:, 0, 0] > 0))[:, None, None]
            u = u - np.linalg.solve(np.where(use, full, gn), g[:, :, None])[:, :, 0]
        else:
            bad = int(np.argmax(np.max(np.abs(g), axis=1)))
            raise ValueError(f"x: the nearest-point iteration did not converge at point {bad}")
        foot = np.concatenate([u, self._height(u)[0][:, None]], axis=1)
        return (foot[0], u[0]) if single else (foot, u)

    # ----------------------------------------------------------------------------------------
    # Exact noised score field by quadrature

    def fields(self, x, sigma, *, jacobian: bool = True, nodes: int = DEFAULT_NODES):
        r"""Score and score Jacobian of the noised law :math:`q_\sigma` (VE), by quadrature.

        Arguments
        ---------
        x : (3,) or (n, 3) points.
        sigma : VE noise level σ > 0, scalar or (n,).
        jacobian : also return the Jacobian.
        nodes : Gauss–Legendre nodes per axis of each point's window, ≥ 8.

        Returns
        -------
        score : shape like x. jac : (3, 3) or (n, 3, 3), or None.

        Notes
        -----
        With posterior weights :math:`w_u \propto p(u)\,\mathcal N(x; \varphi(u), \sigma^2 I)`
        (log-sum-exp normalised over the nodes, the quadrature weights included):

        .. math:: \nabla\log q_\sigma(x) = \sum_u w_u \frac{\varphi(u) - x}{\sigma^2}, \qquad
                  J = \frac{\operatorname{Cov}_w[\varphi(u)] - \sigma^2 I}{\sigma^4},

        the covariance taken about the weighted mean (exactly symmetric, no finite differences).
        Quadrature: a tensor Gauss–Legendre rule on the window
        :math:`u^* \pm (10\sigma + \rho)` per axis, clipped to the square, with :math:`u^*` the chart
        coordinates of the nearest point and :math:`\rho = |x - P_M(x)|`. Every chart point outside
        the window has :math:`|\varphi(u) - x| \ge |u - u^*| - \rho > 10\sigma`, so the part of the
        integral left out is below :math:`e^{-50}` of the kernel's peak. Inside the window the
        integrand is smooth (the clip at the square's edge is a window end), so the rule converges
        spectrally; with 64 nodes and :math:`\rho \le 3\sigma` the window spans at most 26σ and the
        rule integrates the Gaussian kernel to 1e-15 (tests: against 128 nodes, against
        ``scipy.integrate.dblquad``, and against the closed form of the plane). Source: paper000
        §3.3 R1 [R], with :math:`w_u \propto q_0(u)|J_\varphi(u)|\mathcal N(x;\varphi(u),\sigma^2 I)`.
        """
        pts, single = as_points(x, 3)
        sig = as_sigma(sigma, pts.shape[0])
        m = check_integer("nodes", nodes, minimum=8, maximum=512)
        score = np.empty_like(pts)
        jac = np.empty((pts.shape[0], 3, 3)) if jacobian else None
        t, tw = np.polynomial.legendre.leggauss(m)
        chunk = max(1, 2**21 // (m * m))
        for start in range(0, pts.shape[0], chunk):
            sl = slice(start, start + chunk)
            s_c, j_c = self._quadrature(pts[sl], sig[sl], t, tw, jacobian)
            score[sl] = s_c
            if jacobian:
                jac[sl] = j_c
        if single:
            return score[0], (jac[0] if jacobian else None)
        return score, jac

    def _quadrature(self, x, sigma, t, tw, jacobian):
        foot, ustar = self.nearest_point(x)
        rho = np.linalg.norm(x - foot, axis=1)
        half = WINDOW_SIGMAS * sigma + rho
        lo = np.maximum(ustar - half[:, None], -self.half_width)
        hi = np.minimum(ustar + half[:, None], self.half_width)
        if np.any(hi <= lo):
            bad = int(np.argmax(np.any(hi <= lo, axis=1)))
            raise ValueError(
                f"x: point {bad} lies more than {WINDOW_SIGMAS:g}σ beyond the chart square's edge, "
                "where the noised density is negligible"
            )
        mid, rad = 0.5 * (hi + lo), 0.5 * (hi - lo)  # (n, 2)
        # Everything factorises over the two chart axes of the tensor grid: h = A sin(f u₁) cos(f u₂),
        # and q₀ = ¼ Σ± N(u₁; ±c, s²) Σ± N(u₂; ±c, s²) (the four centres are (±c, ±c)); so the
        # per-axis factors are (n, m) arrays and only their products are (n, m, m).
        g1 = mid[:, 0, None] + rad[:, 0, None] * t  # (n, m)
        g2 = mid[:, 1, None] + rad[:, 1, None] * t
        a, f, c, v = self.amplitude, self.frequency, self.centre, self.std**2
        s1, c1, s2_, c2 = np.sin(f * g1), np.cos(f * g1), np.sin(f * g2), np.cos(f * g2)
        h = a * s1[:, :, None] * c2[:, None, :]  # (n, m, m)
        grad_sq = (a * f) ** 2 * (
            (c1**2)[:, :, None] * (c2**2)[:, None, :] + (s1**2)[:, :, None] * (s2_**2)[:, None, :]
        )

        def log_axis(g):  # log Σ± N(g; ±c, s²) up to a constant, plus the log quadrature weight
            mix = np.logaddexp(-0.5 * (g - c) ** 2 / v, -0.5 * (g + c) ** 2 / v)
            return mix + np.log(tw)

        inv2s2 = 0.5 / sigma**2
        d1, d2 = g1 - x[:, 0, None], g2 - x[:, 1, None]  # (n, m)
        d3 = h - x[:, 2, None, None]  # (n, m, m)
        ax1 = log_axis(g1) - inv2s2[:, None] * d1**2
        ax2 = log_axis(g2) - inv2s2[:, None] * d2**2
        logits = (
            ax1[:, :, None]
            + ax2[:, None, :]
            + 0.5 * np.log1p(grad_sq)
            - inv2s2[:, None, None] * d3**2
        ).reshape(x.shape[0], -1)
        w = np.exp(logits - logsumexp(logits, axis=1, keepdims=True))
        m = t.size
        diff = np.empty((x.shape[0], m, m, 3))
        diff[..., 0] = d1[:, :, None]
        diff[..., 1] = d2[:, None, :]
        diff[..., 2] = d3
        diff = diff.reshape(x.shape[0], m * m, 3)
        s2 = sigma[:, None] ** 2
        mean_diff = np.einsum("np,npd->nd", w, diff)
        score = mean_diff / s2
        if not jacobian:
            return score, None
        dev = diff - mean_diff[:, None, :]
        cov = np.einsum("np,npd,npe->nde", w, dev, dev)
        cov = 0.5 * (cov + np.swapaxes(cov, 1, 2))  # the sum's rounding is not symmetric in (d, e)
        s4 = sigma[:, None, None] ** 4
        jac = (cov - sigma[:, None, None] ** 2 * np.eye(3)) / s4
        return score, jac

    def score(self, x, sigma, *, nodes: int = DEFAULT_NODES) -> np.ndarray:
        r""":math:`\nabla \log q_\sigma(x)` (VE), see :meth:`fields`."""
        return self.fields(x, sigma, jacobian=False, nodes=nodes)[0]

    def jacobian(self, x, sigma, *, nodes: int = DEFAULT_NODES) -> np.ndarray:
        r""":math:`\nabla^2 \log q_\sigma(x)` (VE), :math:`(\operatorname{Cov}_w[\varphi] - \sigma^2 I)/\sigma^4`."""
        return self.fields(x, sigma, jacobian=True, nodes=nodes)[1]

    def denoiser(self, x, sigma, *, nodes: int = DEFAULT_NODES) -> np.ndarray:
        r""":math:`D(x;\sigma) = \mathbb E_w[\varphi(u)] = x + \sigma^2\nabla\log q_\sigma(x)`."""
        pts, single = as_points(x, 3)
        sig = as_sigma(sigma, pts.shape[0])
        out = pts + sig[:, None] ** 2 * self.score(pts, sig, nodes=nodes)
        return out[0] if single else out

    def to_dict(self) -> dict:
        return {
            "type": "GraphSurface",
            "amplitude": self.amplitude,
            "frequency": self.frequency,
            "half_width": self.half_width,
            "centre": self.centre,
            "std": self.std,
        }
