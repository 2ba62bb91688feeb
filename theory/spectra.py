r"""Spectra of score Jacobians in closed form, and the local-dimension staircase (VE convention).

For data :math:`x_0 = Q_T z`, :math:`z\sim\mathcal N(0,\operatorname{diag}\lambda)` on a k-dimensional
subspace of :math:`\mathbb R^d`, noised as :math:`x_\sigma = x_0 + \sigma\varepsilon`, the score Jacobian
is :math:`J_\sigma = -\sigma^{-2}(I - Q_TQ_T^\top) - Q_T(\Lambda+\sigma^2 I)^{-1}Q_T^\top`
(paper000 §1.4; paper001 §2.2 with t = σ²).

Random-projection model of paper001 (§2.2–2.6): VE with :math:`t = \sigma^2`,
:math:`x_t = x_0 + \sqrt t\,\varepsilon`, data :math:`x_0 = Fz` with :math:`F\in\mathbb R^{N\times D}` of
i.i.d. :math:`\mathcal N(0, 1/N)` entries (the note's variant (a)) and
:math:`z\sim\mathcal N(0, \operatorname{diag}\tau)`, so :math:`C = F\operatorname{diag}(\tau)F^\top`.
Variance level k has :math:`D_k` latent directions, :math:`\alpha_k = D_k/N` and :math:`\tau_k = \sigma_k^2`.
The score Jacobian is :math:`J_t = -(C + tI)^{-1}`; the spectral variable is
:math:`\mu = \mathrm{eig}(-tJ_t) = t/(t+\lambda)` with λ an eigenvalue of C, so normal directions sit
in a spike at μ = 1 and the tangent bulk in (0, 1). Here everything is the large-N limit at fixed
:math:`\alpha_k`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from theory._validation import (
    broadcast,
    check_finite,
    check_integer,
    check_positive,
    check_probability,
    check_scalar,
)

__all__ = [
    "MarchenkoPastur",
    "gap_peak",
    "gap_window",
    "intermediate_gap",
    "jacobian_spectral_density",
    "linear_gaussian_singular_values",
    "local_dimension",
    "manifold_gap",
    "marchenko_pastur",
    "phase",
    "phase_boundaries",
    "silverstein_density",
    "silverstein_edges",
    "silverstein_quantiles",
    "staircase_steps",
    "vesde_t",
    "vesde_tau",
]


def _variances(variances) -> np.ndarray:
    lam = check_positive("variances", variances)
    if lam.ndim != 1 or lam.size == 0:
        raise ValueError(f"variances must be a non-empty 1-D array (got shape {lam.shape})")
    return lam


def linear_gaussian_singular_values(variances, d: int, sigma) -> np.ndarray:
    r"""Singular values of the linear-Gaussian score Jacobian, sorted in decreasing order.

    Arguments
    ---------
    variances : (k,) tangent variances :math:`\lambda_j > 0`.
    d : ambient dimension, d ≥ k.
    sigma : VE noise level(s) σ > 0, scalar or any shape S.

    Returns
    -------
    Array of shape S + (d,).

    Notes
    -----
    .. math:: \{s_i\} = \{\sigma^{-2}\}^{\times (d-k)} \cup \{(\lambda_j + \sigma^2)^{-1}\}_{j=1}^k

    (paper000 §1.4 and T-A0; paper001 T1–T3). Since :math:`J_\sigma` is symmetric negative definite
    these are also :math:`-\mathrm{eig}(J_\sigma)`, and :math:`u_i = -v_i` for every singular pair.
    """
    lam = _variances(variances)
    d = check_integer("d", d, minimum=lam.size, allowed=f"an integer >= k = {lam.size}")
    s2 = check_positive("sigma", sigma)[..., None] ** 2
    normal = np.broadcast_to(1.0 / s2, (*s2.shape[:-1], d - lam.size))
    tangent = 1.0 / (lam + s2)
    return -np.sort(-np.concatenate([normal, tangent], axis=-1), axis=-1)


def local_dimension(variances, sigma, c: float = 0.5) -> np.ndarray:
    r"""Local dimension of linear-Gaussian data by rule D1: the number of noise-normalised
    singular values :math:`\sigma^2 s_i` below ``c``.

    Arguments
    ---------
    variances : (k,) tangent variances :math:`\lambda_j > 0`.
    sigma : VE noise level(s) σ > 0, scalar or any shape.
    c : threshold in (0, 1); default 1/2.

    Returns
    -------
    Integer array of the shape of ``sigma``.

    Notes
    -----
    With :math:`s_j = 1/(\lambda_j+\sigma^2)`, :math:`\sigma^2 s_j < c \iff \lambda_j > (1/c - 1)\sigma^2`,
    so (paper000 §2.2 D1, reading [R])

    .. math:: d_{loc}(\sigma; c) = \#\{ j : \lambda_j > (1/c - 1)\,\sigma^2 \}.

    Normal directions have :math:`\sigma^2 s = 1 \geq c` and never count.
    """
    lam = _variances(variances)
    c = check_probability("c", c)
    s2 = check_positive("sigma", sigma) ** 2
    return np.sum(lam > (1.0 / c - 1.0) * s2[..., None], axis=-1)


def staircase_steps(variances, c: float = 0.5) -> np.ndarray:
    r"""Noise levels at which the D1 local dimension steps, in decreasing order.

    Notes
    -----
    .. math:: \sigma_j = \sqrt{\lambda_j}\,(1/c - 1)^{-1/2}

    (paper000 §2.2, T-A5): :math:`d_{loc} = j` for :math:`\sigma_{j+1} < \sigma < \sigma_j`. Changing c
    moves every step by the same factor :math:`(1/c-1)^{-1/2}`.
    """
    lam = _variances(variances)
    c = check_probability("c", c)
    return np.sort(np.sqrt(lam / (1.0 / c - 1.0)))[::-1]


# ---------------------------------------------------------------------------------------------
# paper001: random-projection linear manifold, Marchenko–Pastur / Silverstein, gaps and phases
# ---------------------------------------------------------------------------------------------


def _pos(name: str, value) -> float:
    return check_scalar(name, value, positive=True)


def _ordered_pair(a, b) -> tuple[float, float]:
    a = _pos("a", a)
    b = _pos("b", b)
    if not a < b:
        raise ValueError(f"a must be < b (got a = {a:.6g}, b = {b:.6g})")
    return a, b


def _resolution(delta) -> float:
    return check_probability("delta", delta)


def _as_output(arr: np.ndarray):
    """A 0-d result as a numpy scalar (so scipy.integrate.quad accepts it), otherwise the array."""
    return arr[()] if arr.ndim == 0 else arr


@dataclass(frozen=True)
class MarchenkoPastur:
    r"""Marchenko–Pastur law of the nonzero eigenvalues of :math:`C = \tau F F^\top` (one variance level).

    Build it with :func:`marchenko_pastur`, which validates the parameters.

    Attributes
    ----------
    alpha : :math:`\alpha = D/N \in (0, 1)`.
    tau : latent variance :math:`\tau = \sigma^2 > 0`.

    Notes
    -----
    Convention: VE with :math:`t = \sigma^2`, :math:`C = F\operatorname{diag}(\tau)F^\top` with
    :math:`F_{ij}\sim\mathcal N(0, 1/N)` (paper001 §2.2 variant (a)). The law is normalised to 1 over
    the D nonzero eigenvalues (the N − D zero eigenvalues are not part of it):

    .. math:: \rho_{MP}(\lambda) = \frac{\sqrt{(\gamma_+-\lambda)(\lambda-\gamma_-)}}{2\pi\alpha\tau\lambda}
              \ \text{on}\ [\gamma_-, \gamma_+], \qquad \gamma_\pm = \tau(1\pm\sqrt\alpha)^2 .

    Source: paper001 §2.3, Eq. 16 [R]; edges under variant (a) [D].
    """

    alpha: float
    tau: float

    def __post_init__(self):
        alpha = check_probability("alpha", self.alpha)
        tau = _pos("tau", self.tau)
        object.__setattr__(self, "alpha", alpha)
        object.__setattr__(self, "tau", tau)

    @property
    def gamma_minus(self) -> float:
        r"""Lower edge :math:`\gamma_- = \tau(1-\sqrt\alpha)^2`."""
        return self.tau * (1.0 - np.sqrt(self.alpha)) ** 2

    @property
    def gamma_plus(self) -> float:
        r"""Upper edge :math:`\gamma_+ = \tau(1+\sqrt\alpha)^2`."""
        return self.tau * (1.0 + np.sqrt(self.alpha)) ** 2

    def density(self, lam):
        r"""Density :math:`\rho_{MP}(\lambda)` at any finite λ (any shape), zero outside
        :math:`(\gamma_-, \gamma_+)`; normalised to 1 over the nonzero eigenvalues.

        Notes
        -----
        .. math:: \rho_{MP}(\lambda) = \frac{\sqrt{(\gamma_+-\lambda)(\lambda-\gamma_-)}}
                  {2\pi\alpha\tau\lambda}\,\mathbf 1_{\gamma_-<\lambda<\gamma_+}

        Convention and source as in :class:`MarchenkoPastur` (paper001 §2.3 Eq. 16 [R]).
        """
        lam = check_finite("lam", lam)
        lo, hi = self.gamma_minus, self.gamma_plus
        inside = (lam > lo) & (lam < hi)
        x = np.where(inside, lam, 0.5 * (lo + hi))  # a safe stand-in where the density is 0
        val = np.sqrt((hi - x) * (x - lo)) / (2.0 * np.pi * self.alpha * self.tau * x)
        return _as_output(np.where(inside, val, 0.0))

    def cdf(self, lam):
        r"""Distribution function :math:`F_{MP}(\lambda) = \int_{-\infty}^\lambda \rho_{MP}`, in closed form.

        Notes
        -----
        With :math:`x = \lambda/\tau`, :math:`a, b = (1\mp\sqrt\alpha)^2`, :math:`R = \sqrt{(b-x)(x-a)}`
        and :math:`\theta = 2\arctan\sqrt{(x-a)/(b-x)}\in[0,\pi]` (so :math:`x = \tfrac{a+b}2 -
        \tfrac{b-a}2\cos\theta`),

        .. math:: F_{MP}(\lambda) = \frac{1}{2\pi\alpha}\Big[\frac{a+b}{2}\,\theta + R
                  - 2\sqrt{ab}\,\arctan\sqrt{\frac{b(x-a)}{a(b-x)}}\Big], \qquad a \le x \le b,

        0 below :math:`\gamma_-` and 1 above :math:`\gamma_+`; :math:`\sqrt{ab} = 1-\alpha`. The
        antiderivative follows from the substitution above and
        :math:`\int_0^\theta d\phi/(m - r\cos\phi) = 2(m^2-r^2)^{-1/2}
        \arctan\big(\sqrt{(m+r)/(m-r)}\tan(\theta/2)\big)`; this module's own derivation [D], tested
        against quadrature of :meth:`density`. Convention as in :class:`MarchenkoPastur`.
        """
        lam = check_finite("lam", lam)
        sa = np.sqrt(self.alpha)
        a, b = (1.0 - sa) ** 2, (1.0 + sa) ** 2
        x = np.clip(lam / self.tau, a, b)  # the CDF is constant (0 or 1) outside [a, b]
        theta = 2.0 * np.arctan2(np.sqrt(x - a), np.sqrt(b - x))
        r = np.sqrt((b - x) * (x - a))
        arc = np.arctan2(np.sqrt(b * (x - a)), np.sqrt(a * (b - x)))
        val = (0.5 * (a + b) * theta + r - 2.0 * (1.0 - self.alpha) * arc) / (
            2.0 * np.pi * self.alpha
        )
        val = np.where(lam / self.tau <= a, 0.0, np.where(lam / self.tau >= b, 1.0, val))
        return _as_output(val)


def marchenko_pastur(alpha, tau) -> MarchenkoPastur:
    r"""Marchenko–Pastur law of the nonzero eigenvalues of :math:`C = \tau FF^\top`, α = D/N.

    Arguments
    ---------
    alpha : D/N, in (0, 1).
    tau : latent variance :math:`\tau = \sigma^2 > 0`.

    Returns
    -------
    :class:`MarchenkoPastur` with ``gamma_minus``, ``gamma_plus``, ``density(lam)`` and ``cdf(lam)``.

    Notes
    -----
    Convention: VE with :math:`t = \sigma^2` (:math:`x_t = x_0 + \sqrt t\,\varepsilon`),
    :math:`C = F\operatorname{diag}(\tau)F^\top`, :math:`F_{ij}\sim\mathcal N(0,1/N)` (variant (a)).

    .. math:: \gamma_\pm = \tau(1\pm\sqrt\alpha)^2, \qquad
              \rho_{MP}(\lambda) = \frac{\sqrt{(\gamma_+-\lambda)(\lambda-\gamma_-)}}{2\pi\alpha\tau\lambda},

    normalised to 1 over the D nonzero eigenvalues. Source: paper001 §2.3, Eq. 16 [R]; §6 T4.
    """
    return MarchenkoPastur(alpha, tau)


def _levels(alphas, taus) -> tuple[np.ndarray, np.ndarray]:
    """Validated variance levels, equal τ merged (their α added), sorted by increasing τ."""
    al = check_positive("alphas", alphas)
    ta = check_positive("taus", taus)
    if al.ndim != 1 or al.size == 0:
        raise ValueError(f"alphas must be a non-empty 1-D array (got shape {al.shape})")
    if ta.ndim != 1 or ta.size == 0:
        raise ValueError(f"taus must be a non-empty 1-D array (got shape {ta.shape})")
    if al.shape != ta.shape:
        raise ValueError(f"alphas and taus must have the same length (got {al.size} and {ta.size})")
    if not al.sum() < 1.0:
        raise ValueError(f"sum(alphas) must be < 1 (got {al.sum():.6g})")
    uniq, inverse = np.unique(ta, return_inverse=True)
    return np.bincount(inverse, weights=al), uniq


def _halve_towards(f, pole: float, other: float, sign: float) -> float:
    """A point between the poles, moved towards ``pole`` by halving, where sign·f > 0."""
    step = 0.5 * (other - pole)
    for _ in range(1100):  # enough to reach the next representable number after ``pole``
        u = pole + step
        if u == pole:
            break
        if sign * f(u) > 0.0:
            return u
        step *= 0.5
    raise ArithmeticError(f"no sign change of φ' found next to the pole τ = {pole!r}")


def _edges_from_levels(al: np.ndarray, ta: np.ndarray) -> list[tuple[float, float]]:
    # Silverstein–Choi in the variable u = −1/m > 0 (m < 0 is where the real edges live):
    #   z(u) = u (1 + Σ α_k τ_k / (u − τ_k)),   z'(u) = 0  ⇔  φ(u) = Σ α_k τ_k² / (τ_k − u)² = 1.
    # dm/du = 1/u² > 0, so z increases in u exactly where it increases in m.
    def phi(u):
        return float(np.sum(al * ta**2 / (ta - u) ** 2)) - 1.0

    def dphi(u):
        return float(np.sum(2.0 * al * ta**2 / (ta - u) ** 3))

    def z(u):
        return u * (1.0 + float(np.sum(al * ta / (u - ta))))

    def root(f, lo, hi):
        return brentq(f, lo, hi, xtol=1e-300, rtol=4 * np.finfo(np.float64).eps, maxiter=500)

    # Any u with |u − τ_k| ≤ τ_k√α_k / 2 has φ(u) ≥ 4 > 1: safe brackets next to a pole.
    near = ta * np.sqrt(al) / 2.0
    if np.any(ta - near == ta) or np.any(ta + near == ta):
        raise ValueError(
            "alphas must be large enough for float64 to resolve each level "
            f"(τ_k ± τ_k√α_k/2 rounds to τ_k; got min alpha {al.min():.3g})"
        )
    # (0, τ_1): φ increases from Σα < 1 to ∞; one root, a local maximum of z: the lowest edge.
    crit = [root(phi, 0.0, ta[0] - near[0])]
    for k in range(ta.size - 1):
        lo, hi = ta[k], ta[k + 1]
        if hi - lo <= near[k] + near[k + 1]:
            # every u between the poles lies in one of the safe brackets, so φ ≥ 4 > 1 there: the
            # two bulks are merged (and two poles a few ulps apart leave no point to halve towards)
            continue
        # φ is convex between poles and → ∞ at both ends, so φ' increases from −∞ to ∞: bracket
        # its zero u_c (the minimum of φ) by halving towards each pole, then solve.
        left, right = _halve_towards(dphi, lo, hi, -1.0), _halve_towards(dphi, hi, lo, 1.0)
        u_c = root(dphi, left, right)
        if phi(u_c) < 0.0:  # two roots: z has a local min (top of a bulk) then a local max
            crit.append(root(phi, lo + min(near[k], 0.5 * (u_c - lo)), u_c))
            crit.append(root(phi, u_c, hi - min(near[k + 1], 0.5 * (hi - u_c))))
        # φ(u_c) ≥ 1: z is monotone decreasing here and the two bulks are merged (or touch).
    # (τ_K, ∞): φ decreases from ∞ to 0 (φ(3τ_K) < 1/4); one root, a local min: the top edge.
    crit.append(root(phi, ta[-1] + near[-1], 3.0 * ta[-1]))
    values = [z(u) for u in crit]
    bulks = list(zip(values[0::2], values[1::2], strict=True))
    flat = np.array(values)
    if not np.all(np.diff(flat) > 0):  # guaranteed by Silverstein–Choi; a check, not a clip
        raise ArithmeticError(f"bulk edges came out unordered: {values}")
    return [(float(lo), float(hi)) for lo, hi in bulks]


def silverstein_edges(alphas, taus) -> list[tuple[float, float]]:
    r"""Bulk intervals of the nonzero eigenvalues of :math:`C = F\operatorname{diag}(\tau)F^\top`.

    Arguments
    ---------
    alphas : (K,) :math:`\alpha_k = D_k/N > 0` with :math:`\sum_k\alpha_k < 1`.
    taus : (K,) latent variances :math:`\tau_k = \sigma_k^2 > 0`, same length; equal values are
        merged into one level (their α added).

    Returns
    -------
    Sorted list of ``(lower, upper)`` bulk intervals; between 1 and K of them (bulks merge when the
    variances are close).

    Notes
    -----
    Convention: VE with :math:`t=\sigma^2`, :math:`C = F\operatorname{diag}(\tau)F^\top`,
    :math:`F_{ij}\sim\mathcal N(0, 1/N)` (variant (a)), large-N limit. The Stieltjes transform of the
    eigenvalue law of C (N×N, including the atom :math:`1-\sum\alpha_k` at 0) solves

    .. math:: m(z) = \Big[-z + \sum_k \frac{\alpha_k\tau_k}{1+\tau_k m(z)}\Big]^{-1},
              \qquad z(m) = -\frac1m + \sum_k \frac{\alpha_k\tau_k}{1+\tau_k m}.

    By Silverstein & Choi (1995), a real :math:`x > 0` is outside the support iff
    :math:`x = z(m)` with m real, :math:`m \ne -1/\tau_k`, and :math:`z'(m) > 0`. The edges are the
    values :math:`z(m^*)` at the real critical points :math:`z'(m^*) = 0`, m* < 0: a local maximum
    of z is a lower edge, a local minimum an upper edge. With :math:`u = -1/m`,

    .. math:: z'(m^*) = 0 \iff \sum_k \frac{\alpha_k\tau_k^2}{(\tau_k-u)^2} = 1, \qquad
              z = u\Big(1 + \sum_k\frac{\alpha_k\tau_k}{u-\tau_k}\Big).

    The left side is convex between consecutive poles :math:`\tau_k`, so each such interval holds
    0 or 2 roots (2: a gap between two bulks); :math:`(0,\tau_1)` and :math:`(\tau_K,\infty)` hold
    one root each (the outer edges). Roots are found with :func:`scipy.optimize.brentq` (and the
    minimum of the convex function between poles likewise, on its derivative). A tangency (bulks
    exactly touching) counts as merged. For K = 1 this gives :math:`\tau(1\pm\sqrt\alpha)^2`.

    Source: paper001 §2.4, "exact asymptotic spectrum" [D] (the paper's replica result, Eqs. 18–25
    [R]); Fig. 8 [R] for the multi-variance edges :math:`\gamma_\pm(\sigma_k)`.
    """
    al, ta = _levels(alphas, taus)
    return _edges_from_levels(al, ta)


def _stieltjes_polynomial(al: np.ndarray, ta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients (low to high) of A, B with A(m) − z B(m) = 0 ⇔ the Silverstein equation.

    Multiplying m(−z + Σ α_k τ_k / (1 + τ_k m)) = 1 by P(m) = Π_k (1 + τ_k m):
    A(m) = m Σ_k α_k τ_k Π_{j≠k} (1 + τ_j m) − P(m),  B(m) = m P(m)  (degree K + 1).
    """
    poly = np.polynomial.polynomial
    p = np.array([1.0])
    for tau in ta:
        p = poly.polymul(p, [1.0, tau])
    s = np.zeros(1)
    for k in range(ta.size):
        q = np.array([al[k] * ta[k]])
        for j in range(ta.size):
            if j != k:
                q = poly.polymul(q, [1.0, ta[j]])
        s = poly.polyadd(s, q)
    a = poly.polysub(poly.polymul([0.0, 1.0], s), p)
    b = poly.polymul([0.0, 1.0], p)
    return np.concatenate([a, np.zeros(b.size - a.size)]), b


def _stieltjes_upper(lam: np.ndarray, al: np.ndarray, ta: np.ndarray) -> np.ndarray:
    """m(λ + i0⁺) for real λ > 0: the root of A − λB with the largest imaginary part."""
    a, b = _stieltjes_polynomial(al, ta)
    coef = a[None, :] - lam[:, None] * b[None, :]  # (n, K + 2), leading term −λ Π τ_k ≠ 0
    n = coef.shape[1] - 1
    companion = np.zeros((lam.size, n, n))
    idx = np.arange(n - 1)
    companion[:, idx + 1, idx] = 1.0
    companion[:, :, -1] = -coef[:, :-1] / coef[:, -1:]
    roots = np.linalg.eigvals(companion)  # batched; LAPACK balances each companion matrix
    return roots[np.arange(lam.size), np.argmax(roots.imag, axis=1)]


def silverstein_density(lam, alphas, taus):
    r"""Density of the nonzero eigenvalues of :math:`C = F\operatorname{diag}(\tau)F^\top`.

    Arguments
    ---------
    lam : eigenvalue(s) λ, any finite reals, any shape.
    alphas : (K,) :math:`\alpha_k = D_k/N > 0`, :math:`\sum\alpha_k < 1`.
    taus : (K,) :math:`\tau_k = \sigma_k^2 > 0`.

    Returns
    -------
    Array of the shape of ``lam`` (a numpy scalar for scalar input): the density normalised to 1
    over the :math:`D = \sum_k D_k` nonzero eigenvalues; zero outside the bulks of
    :func:`silverstein_edges` (so also at λ ≤ 0: the atom at 0 is excluded).

    Notes
    -----
    Convention: VE with :math:`t=\sigma^2`, :math:`F_{ij}\sim\mathcal N(0,1/N)` (variant (a)),
    large-N limit. With m the Stieltjes transform of the N×N eigenvalue law of C,

    .. math:: m = \Big[-\lambda + \sum_k \frac{\alpha_k\tau_k}{1+\tau_k m}\Big]^{-1}, \qquad
              \rho(\lambda) = \frac{1}{\pi\sum_k\alpha_k}\,\operatorname{Im} m(\lambda + i0^+).

    :math:`(1/\pi)\operatorname{Im}m` is the density of the whole N×N law (total mass
    :math:`\sum\alpha_k`, the rest is the atom at 0); dividing by :math:`\sum\alpha_k` normalises it
    over the nonzero eigenvalues, as :meth:`MarchenkoPastur.density` (to which it reduces for K = 1).

    Solver: clearing denominators gives a real polynomial of degree K + 1 in m,
    :math:`m\big(-\lambda P(m) + \sum_k\alpha_k\tau_k\prod_{j\ne k}(1+\tau_jm)\big) - P(m) = 0`,
    :math:`P(m) = \prod_k(1+\tau_k m)`. Its roots are computed at every λ at once as eigenvalues of a
    stack of companion matrices, and the root with the largest imaginary part is taken: for λ inside
    the support :math:`m(\lambda+i0^+)` is the only root in the upper half plane (the solution in
    :math:`\mathbb C^+` is unique for :math:`z\in\mathbb C^+`, Silverstein 1995, and roots move
    continuously). Roots of a real polynomial come in conjugate pairs, so that maximum is ≥ 0.

    Source: paper001 §2.4, Silverstein equation [D]; §2.3 Eq. 16 [R] for K = 1.
    """
    lam = check_finite("lam", lam)
    al, ta = _levels(alphas, taus)
    return _as_output(_density_from_levels(lam, al, ta))


def _density_from_levels(
    lam: np.ndarray, al: np.ndarray, ta: np.ndarray, edges: list[tuple[float, float]] | None = None
) -> np.ndarray:
    out = np.zeros(lam.shape)
    inside = np.zeros(lam.shape, dtype=bool)
    for lo, hi in _edges_from_levels(al, ta) if edges is None else edges:
        inside |= (lam > lo) & (lam < hi)
    if np.any(inside):
        m = _stieltjes_upper(lam[inside], al, ta)
        out[inside] = m.imag / (np.pi * al.sum())
    return out


def silverstein_quantiles(p, alphas, taus, n_grid: int = 4001):
    r"""Quantiles of the nonzero-eigenvalue law of :math:`C = F\operatorname{diag}(\tau)F^\top` (VE data covariance).

    Arguments
    ---------
    p : probabilities in [0, 1], any shape.
    alphas, taus : as in :func:`silverstein_density`.
    n_grid : points per bulk of the integration grid (Chebyshev-spaced, dense at the square-root edges).

    Notes
    -----
    The CDF :math:`F(\lambda) = \int_{\gamma_-}^{\lambda}\rho(\ell)\,d\ell` of
    :func:`silverstein_density` is integrated by the trapezoid rule on each bulk of
    :func:`silverstein_edges` and inverted by linear interpolation; the Jacobian spectrum at time t
    then has quantiles :math:`t/(t + \lambda_{1-p})` (paper001 §2.4 [D]). Accuracy is set by
    ``n_grid``: about 1e-6 relative with the default.
    """
    p = check_finite("p", p)
    if np.any((p < 0) | (p > 1)):
        raise ValueError("p must lie in [0, 1]")
    n_grid = check_integer("n_grid", n_grid, minimum=16)
    u = 0.5 * (1.0 - np.cos(np.linspace(0.0, np.pi, n_grid)))
    lam = np.concatenate([lo + (hi - lo) * u for lo, hi in silverstein_edges(alphas, taus)])
    dens = silverstein_density(lam, alphas, taus)
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (dens[1:] + dens[:-1]) * np.diff(lam))])
    return _as_output(np.interp(p, cdf / cdf[-1], lam))


def jacobian_spectral_density(mu, t, alphas, taus):
    r"""Bulk (tangent) part of the eigenvalue density of :math:`-tJ_t` in the variable μ.

    Arguments
    ---------
    mu : eigenvalue(s) μ of :math:`-tJ_t`, finite reals, any shape.
    t : VE time :math:`t = \sigma^2 > 0`; broadcast against ``mu``.
    alphas : (K,) :math:`\alpha_k = D_k/N > 0`, :math:`\sum\alpha_k < 1`.
    taus : (K,) :math:`\tau_k = \sigma_k^2 > 0`.

    Returns
    -------
    The absolutely continuous part, of the broadcast shape; zero outside (0, 1). Normalised over
    all N eigenvalues: it integrates to :math:`\sum_k\alpha_k`. The remaining weight
    :math:`1-\sum_k\alpha_k` is a Dirac spike at μ = 1 (the N − D normal directions), **not**
    included in the returned values.

    Notes
    -----
    Convention: VE with :math:`t=\sigma^2`, :math:`x_t = x_0+\sqrt t\,\varepsilon`, exact score
    Jacobian :math:`J_t = -(C+tI)^{-1}`, :math:`C = F\operatorname{diag}(\tau)F^\top`,
    :math:`F_{ij}\sim\mathcal N(0,1/N)` (variant (a)). The eigenvalues of :math:`-tJ_t` are
    :math:`\mu = t/(t+\lambda)`, so :math:`\lambda = t(1-\mu)/\mu` and
    :math:`|d\lambda/d\mu| = t/\mu^2`:

    .. math:: \rho_t(\mu) = \Big(1-\sum_k\alpha_k\Big)\,\delta(\mu-1)
              + \sum_k\alpha_k\;\rho\Big(\frac{t(1-\mu)}{\mu}\Big)\,\frac{t}{\mu^2},

    with ρ the nonzero-eigenvalue density of :func:`silverstein_density`. This function returns the
    second term. Source: paper001 §2.3 (single level, [R] Eq. 16 mapped [D]) and §2.4 [D].

    Evaluation: only μ in :math:`[t/(t+\gamma_+), t/(t+\gamma_-)]` (the image of the support) is
    mapped back (there λ ≤ t + γ_+), and the factor is formed as
    :math:`t/\mu^2 = (t/\mu)/\mu`, so a tiny μ or t neither underflows :math:`\mu^2` nor forms
    0·∞. Near the bulk the density is about :math:`\lambda^2/t`; a t so small that this exceeds
    the float64 range (t below about :math:`4\gamma_+^2/1.8\cdot10^{308}`) raises ``ValueError``.
    """
    mu = check_finite("mu", mu)
    t = check_positive("t", t)
    al, ta = _levels(alphas, taus)
    mu, t = broadcast(mu=mu, t=t)
    edges = _edges_from_levels(al, ta)
    # λ = t(1−μ)/μ lies in the support [γ_-, γ_+] iff t/(t+γ_+) ≤ μ ≤ t/(t+γ_-): select in μ, so
    # that λ and the factor t/μ² are formed only where they are bounded (never 0·∞ at tiny μ).
    lo, hi = edges[0][0], edges[-1][1]
    support = (mu > 0.0) & (mu < 1.0) & (mu >= t / (t + hi)) & (mu <= t / (t + lo))
    out = np.zeros(mu.shape)
    if np.any(support):
        m_in, t_in = mu[support], t[support]
        rho = _density_from_levels(t_in * (1.0 - m_in) / m_in, al, ta, edges)  # λ ≤ t + γ_+
        # t/μ² ≤ (t + γ_+)²/t, which overflows only for t ≲ γ_+²/1.8e308
        with np.errstate(over="ignore"):
            factor = (t_in / m_in) / m_in
        if np.any(np.isinf(factor) & (rho > 0.0)):
            big = np.finfo(np.float64).max
            raise ValueError(
                f"t must be large enough that the density (about λ²/t) stays below {big:.3g} at "
                f"the requested mu (got t = {t_in[np.isinf(factor)].min():.3g}; "
                f"t > {4.0 * hi * hi / big:.3g} always suffices here)"
            )
        out[support] = al.sum() * rho * np.where(rho > 0.0, factor, 0.0)
    return _as_output(out)


def manifold_gap(t, gamma_minus):
    r"""Manifold gap of :math:`-tJ_t`: distance from the normal spike (μ = 1) to the tangent bulk.

    Arguments
    ---------
    t : VE time :math:`t = \sigma^2 > 0`, any shape.
    gamma_minus : lower edge :math:`\gamma_- > 0` of the covariance spectrum (the lowest bulk),
        broadcast against ``t``.

    Returns
    -------
    :math:`\Delta_M(t)\in(0,1)`, decreasing in t.

    Notes
    -----
    Convention: VE with :math:`t=\sigma^2`; spectrum of :math:`-tJ_t` with μ = t/(t+λ), spike at 1.

    .. math:: \Delta_M(t) = 1 - \frac{t}{t+\gamma_-} = \frac{\gamma_-}{t+\gamma_-}

    Source: paper001 §2.3 [D] (the paper's "isotropic gap formula", Eq. 15 [R]); §6 T6.
    """
    t, gamma_minus = broadcast(
        t=check_positive("t", t), gamma_minus=check_positive("gamma_minus", gamma_minus)
    )
    return gamma_minus / (t + gamma_minus)


def intermediate_gap(t, a, b):
    r"""Intermediate gap of :math:`-tJ_t` between two detached covariance bulks.

    Arguments
    ---------
    t : VE time :math:`t=\sigma^2 > 0`, any shape.
    a : top edge of the lower bulk, a > 0 (scalar).
    b : bottom edge of the upper bulk, b > a (scalar).

    Returns
    -------
    :math:`\Delta(t) \in (0, 1)`, of the shape of ``t``.

    Notes
    -----
    Convention: VE with :math:`t=\sigma^2`; μ = t/(t+λ), so the bulk from the smaller variance is
    the one nearer the spike at μ = 1, and the gap is between its bottom t/(t+a) and the top t/(t+b)
    of the other bulk:

    .. math:: \Delta(t) = \frac{t}{t+a} - \frac{t}{t+b} = \frac{t\,(b-a)}{(t+a)(t+b)}.

    Source: paper001 §2.4, Eq. 18 [R] (exact for the model [D]); §6 T7.
    """
    a, b = _ordered_pair(a, b)
    t = check_positive("t", t)
    return t * (b - a) / ((t + a) * (t + b))


def _sqrt_terms(a: float, b: float) -> tuple[float, float]:
    """``(s, r) = (√a + √b, √b − √a)`` with r = (b − a)/s: no cancellation when a ≈ b."""
    s = float(np.sqrt(a) + np.sqrt(b))
    return s, (b - a) / s  # b − a is exact for a ≤ b ≤ 2a (Sterbenz) and rounded once otherwise


def _delta_max(a: float, b: float) -> float:
    s, r = _sqrt_terms(a, b)
    return r / s


def gap_peak(a, b) -> tuple[float, float]:
    r"""Time and width of the widest intermediate gap.

    Arguments
    ---------
    a : top edge of the lower bulk, a > 0.
    b : bottom edge of the upper bulk, b > a.

    Returns
    -------
    ``(t_max, delta_max)``.

    Notes
    -----
    Convention: VE with :math:`t=\sigma^2`, spectrum of :math:`-tJ_t` (μ = t/(t+λ)). Maximising
    :func:`intermediate_gap` over t > 0:

    .. math:: t_{max} = \sqrt{ab}, \qquad
              \Delta_{max} = \Delta(t_{max}) = \frac{\sqrt b-\sqrt a}{\sqrt b+\sqrt a}
              = \frac{b-a}{(\sqrt a+\sqrt b)^2},

    evaluated in the last form (as :math:`((b-a)/(\sqrt a+\sqrt b))/(\sqrt a+\sqrt b)`), which
    keeps full relative precision for nearly equal edges, where :math:`\sqrt b-\sqrt a` cancels.

    Source: paper001 §2.4, Eqs. 22/25 [R] (:math:`t_{max} = \sqrt{\gamma_-(\sigma_1)\gamma_+(\sigma_2)}`);
    :math:`\Delta_{max}` [D]; §6 T7. Re-derived in :func:`theory.symbolic.intermediate_gap_extremum`.
    """
    a, b = _ordered_pair(a, b)
    return float(np.sqrt(a) * np.sqrt(b)), _delta_max(a, b)


def gap_window(a, b, delta) -> tuple[float, float] | None:
    r"""Times between which the intermediate gap is wider than the resolution Δ.

    Arguments
    ---------
    a : top edge of the lower bulk, a > 0.
    b : bottom edge of the upper bulk, b > a.
    delta : resolution Δ in (0, 1).

    Returns
    -------
    ``(t_close, t_open) = (t_-, t_+)`` with :math:`\Delta(t) > \Delta` exactly for
    :math:`t_- < t < t_+`; ``None`` when :math:`\Delta \ge \Delta_{max}` (the gap is never wider than
    Δ). During generation (t decreasing) the gap opens at :math:`t_+` and closes at :math:`t_-`.

    Notes
    -----
    Convention: VE with :math:`t=\sigma^2`, spectrum of :math:`-tJ_t`. :math:`\Delta(t) = \Delta` is
    the quadratic :math:`\Delta t^2 - [(b-a)-\Delta(a+b)]\,t + \Delta ab = 0`, with roots

    .. math:: t_\pm = \frac{(b-a)-\Delta(a+b) \pm \sqrt{\big((b-a)-\Delta(a+b)\big)^2
              - 4\Delta^2ab}}{2\Delta}, \qquad t_-t_+ = ab = t_{max}^2 .

    They are evaluated without cancellation: with :math:`s = \sqrt a+\sqrt b` and
    :math:`r = \sqrt b-\sqrt a = (b-a)/s`, the discriminant is
    :math:`s^2(\Delta_{max}-\Delta)\cdot r\,(s-\Delta r)`, and :math:`t_-` takes the rationalised
    form :math:`t_- = 2\Delta ab/(B+\sqrt{\cdot})` (B the linear coefficient, > 0 whenever
    :math:`\Delta < \Delta_{max}`), algebraically equal to the '−' root above. Real roots exist iff
    :math:`\Delta\le\Delta_{max}`; at equality the gap only touches Δ, so the open window is empty
    and ``None`` is returned. The comparison uses the :math:`\Delta_{max}` of :func:`gap_peak`,
    accurate to a few ulp also for nearly equal edges.

    Source: paper001 §2.4, Eqs. 20–21, 24 [R]; explicit roots and :math:`t_-t_+ = ab` [D]; §6 T7, T8.
    """
    a, b = _ordered_pair(a, b)
    delta = _resolution(delta)
    s, r = _sqrt_terms(a, b)
    d_max = r / s
    if delta >= d_max:
        return None
    lin = (b - a) - (delta * a + delta * b)
    root = lin + s * np.sqrt((d_max - delta) * r * (s - delta * r))
    with np.errstate(over="ignore"):
        t_open = root / (2.0 * delta)
    if np.isinf(t_open):
        raise ValueError(
            f"delta must be large enough that t_+ ≈ (b − a)/delta fits in float64 "
            f"(got delta = {delta:.3g} for b − a = {b - a:.3g})"
        )
    return float(2.0 * delta * a / root * b), float(t_open)


def phase_boundaries(gamma_minus, gamma_plus, delta) -> tuple[float, float]:
    r"""Crossover times between the three geometric phases at resolution Δ.

    Arguments
    ---------
    gamma_minus : lowest edge :math:`\gamma_- > 0` of the covariance spectrum (all bulks).
    gamma_plus : highest edge :math:`\gamma_+ \ge \gamma_-`.
    delta : resolution Δ in (0, 1).

    Returns
    -------
    ``(t_consolidation, t_trivial)``, with :math:`t_M \le t_{triv}`.

    Notes
    -----
    Convention: VE with :math:`t=\sigma^2`; spectrum of :math:`-tJ_t`, μ = t/(t+λ), spike at 1.

    .. math:: \Delta_M(t) = \frac{\gamma_-}{t+\gamma_-} > \Delta \iff t < t_M(\Delta)
              = \gamma_-\,\frac{1-\Delta}{\Delta}, \qquad
              \max_\lambda \Big(1 - \frac{t}{t+\lambda}\Big) = \frac{\gamma_+}{t+\gamma_+} < \Delta
              \iff t > t_{triv}(\Delta) = \gamma_+\,\frac{1-\Delta}{\Delta}.

    Below :math:`t_M` the manifold gap is resolved (consolidation); above :math:`t_{triv}` every
    eigenvalue lies within Δ of 1 (trivial). Source: paper001 §2.6 [P/R], crossover scales [D],
    resolution threshold Eq. 17 [R]; §6 T12.
    """
    gamma_minus = _pos("gamma_minus", gamma_minus)
    gamma_plus = _pos("gamma_plus", gamma_plus)
    if gamma_plus < gamma_minus:
        raise ValueError(
            f"gamma_plus must be >= gamma_minus (got {gamma_plus:.6g} < {gamma_minus:.6g})"
        )
    delta = _resolution(delta)
    ratio = (1.0 - delta) / delta
    return gamma_minus * ratio, gamma_plus * ratio


def phase(t, gamma_minus, gamma_plus, delta):
    r"""Geometric phase at time t: ``"trivial"``, ``"coverage"`` or ``"consolidation"``.

    Arguments
    ---------
    t : VE time :math:`t = \sigma^2 > 0`, scalar or array.
    gamma_minus, gamma_plus, delta : as in :func:`phase_boundaries`.

    Returns
    -------
    A ``str`` for scalar t, otherwise a string array of the shape of t.

    Notes
    -----
    Convention: VE with :math:`t=\sigma^2`; spectrum of :math:`-tJ_t`. With
    :math:`(t_M, t_{triv})` from :func:`phase_boundaries`:

    .. math:: \text{consolidation: } t < t_M, \qquad \text{coverage: } t_M \le t \le t_{triv},
              \qquad \text{trivial: } t > t_{triv}.

    The inequalities are strict on the outer phases because the defining properties are strict
    (manifold gap > Δ; every eigenvalue strictly within Δ of 1): at the boundary times themselves
    the phase is "coverage". Source: paper001 §2.6 [P/R] (the phase names, Sections 5.1–5.4),
    crossover scales [D]; §6 T12.
    """
    t_m, t_triv = phase_boundaries(gamma_minus, gamma_plus, delta)
    t = check_positive("t", t)
    labels = np.where(t < t_m, "consolidation", np.where(t > t_triv, "trivial", "coverage"))
    return str(labels) if labels.ndim == 0 else labels


def _sigma_range(sigma_min, sigma_max) -> tuple[float, float]:
    sigma_min = _pos("sigma_min", sigma_min)
    sigma_max = _pos("sigma_max", sigma_max)
    if not sigma_min < sigma_max:
        raise ValueError(f"sigma_min must be < sigma_max (got {sigma_min:.6g} and {sigma_max:.6g})")
    return sigma_min, sigma_max


def vesde_tau(t, sigma_min=0.01, sigma_max=50.0):
    r"""Song-style VESDE time τ at which the network's noise level is :math:`\sigma(\tau) = \sqrt t`.

    Arguments
    ---------
    t : theory time :math:`t = \sigma^2 > 0`, any shape.
    sigma_min, sigma_max : the VESDE range, 0 < sigma_min < sigma_max (defaults 0.01 and 50).

    Returns
    -------
    τ of the shape of t. Values outside [0, 1] are returned as they are: they mean t lies outside
    the network's noise range :math:`[\sigma_{min}^2, \sigma_{max}^2]`.

    Notes
    -----
    Convention: theory VE time :math:`t=\sigma^2` (:math:`x_t = x_0+\sqrt t\,\varepsilon`);
    network schedule :math:`\sigma(\tau) = \sigma_{min}(\sigma_{max}/\sigma_{min})^\tau`, so

    .. math:: \tau(t) = \frac{\ln(\sqrt t/\sigma_{min})}{\ln(\sigma_{max}/\sigma_{min})}.

    Source: paper001 §1 (schedule of the sister code, [C]); §6 T13 (:math:`t = 0.0743 \mapsto
    \tau \approx 0.388`).
    """
    sigma_min, sigma_max = _sigma_range(sigma_min, sigma_max)
    t = check_positive("t", t)
    return (0.5 * np.log(t) - np.log(sigma_min)) / np.log(sigma_max / sigma_min)


def vesde_t(tau, sigma_min=0.01, sigma_max=50.0):
    r"""Theory time :math:`t = \sigma(\tau)^2` of a Song-style VESDE time τ; inverse of :func:`vesde_tau`.

    Arguments
    ---------
    tau : VESDE time, finite reals (the network uses [0, 1]), any shape.
    sigma_min, sigma_max : the VESDE range, 0 < sigma_min < sigma_max (defaults 0.01 and 50).

    Returns
    -------
    t > 0 of the shape of tau.

    Notes
    -----
    Convention as in :func:`vesde_tau` (VE, :math:`t=\sigma^2`).

    .. math:: t(\tau) = \sigma_{min}^2\Big(\frac{\sigma_{max}}{\sigma_{min}}\Big)^{2\tau}

    Source: paper001 §1 [C]; §6 T13.
    """
    sigma_min, sigma_max = _sigma_range(sigma_min, sigma_max)
    tau = check_finite("tau", tau)
    with np.errstate(over="ignore", under="ignore"):
        t = np.exp(2.0 * (np.log(sigma_min) + tau * np.log(sigma_max / sigma_min)))
    if np.any(~np.isfinite(t)) or np.any(t <= 0):
        raise ValueError("tau must give a t representable in float64 (|tau| too large)")
    return t
