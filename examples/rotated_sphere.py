"""A score field of your own, diagnosed: the noised unit sphere S² in R³ plus a rotation about z.

Data: uniform on the unit sphere |x| = 1, noised VE at level σ. The noised law is radial,
p_σ(x) ∝ sinh(B)/B · exp(−(r² + 1)/(2σ²)) with r = |x| and B = r/σ², so the exact score is
s_r(r) x/r with s_r = (L(B) − r)/σ², L(B) = coth B − 1/B
(``theory.rate_spheres.sphere_radial_score`` at d = 3, a Bessel ratio that equals L). The field
below adds the rigid rotation ω(−y, x, 0)/σ² about the z axis. Its Jacobian ω[ẑ]×/σ² is
antisymmetric; at a point of polar angle θ, ẑ = cos θ e_r − sin θ e_θ, so it couples the two
tangent directions e_θ, e_φ with weight cos θ (curl inside the sphere: a_TT) and the radial
direction with e_φ with weight sin θ (a_TN).

Diagnose it from the command line (``examples/rotated_circle.py`` shows the same as a Python call):

    python -m compare diagnose examples/rotated_sphere.py:score --dim 3 \\
        --points examples/rotated_sphere.py:sample --manifold examples/rotated_sphere.py:tangent
"""

from __future__ import annotations

import numpy as np

from theory.rate_spheres import sphere_radial_score

OMEGA = 0.5  # rotation rate, in units of the normal stiffness 1/σ²


def sphere_score(x, sigma):
    """The exact VE score of the noised uniform unit sphere in R³, for x of shape (n, 3).

    The score is s_r(r)·x/r; s_r/r stays finite as r → 0 and the score there is 0.
    """
    x = np.asarray(x, dtype=np.float64)
    r = np.linalg.norm(x, axis=1)
    inside = r > 0
    safe = np.where(inside, r, 1.0)
    s_over_r = np.where(inside, sphere_radial_score(safe, sigma, d=3) / safe, 0.0)
    return s_over_r[:, None] * x


def score(x, sigma):
    """The exact score of the noised sphere plus ω(−y, x, 0)/σ², for x of shape (n, 3)."""
    out = sphere_score(x, sigma)
    x = np.asarray(x, dtype=np.float64)
    out[:, 0] -= OMEGA * x[:, 1] / sigma**2
    out[:, 1] += OMEGA * x[:, 0] / sigma**2
    return out


def tangent(x):
    """The orthonormal tangent basis (e_θ, e_φ) at the radial projection of each x: shape (n, 3, 2).

    On the z axis (the poles, where e_φ is undefined) the basis is (e_x, e_y), which spans the same
    tangent plane. Raises ValueError for x = 0, which has no radial projection.
    """
    x = np.asarray(x, dtype=np.float64)
    r = np.linalg.norm(x, axis=1)
    if np.any(r == 0):
        raise ValueError("x must not contain the origin (no radial projection onto the sphere)")
    rho = np.hypot(x[:, 0], x[:, 1])
    pole = rho == 0
    safe = np.where(pole, 1.0, rho)
    cos_t, sin_t = x[:, 2] / r, rho / r
    cos_p, sin_p = np.where(pole, 1.0, x[:, 0] / safe), np.where(pole, 0.0, x[:, 1] / safe)
    e_theta = np.stack([cos_t * cos_p, cos_t * sin_p, -sin_t], axis=1)
    e_phi = np.stack([-sin_p, cos_p, np.zeros(len(x))], axis=1)
    e_theta[pole] = (1.0, 0.0, 0.0)
    return np.stack([e_theta, e_phi], axis=2)


def sample(n, rng):
    """n points uniform on the unit sphere (the clean data)."""
    g = rng.standard_normal((n, 3))
    return g / np.linalg.norm(g, axis=1, keepdims=True)


def expected_blocks(x, sigma) -> dict[str, np.ndarray]:
    r"""The block asymmetries the diagnosis should read at points x on the unit sphere.

    At r = 1 the exact score's Jacobian is s_r' on e_r and s_r (times the identity) on the tangent
    plane, with σ² s_r = L(B) − 1 and σ² s_r' = B L'(B) − 1, B = 1/σ². With the rotation's blocks
    (ω/σ²)·√2|cos θ| (tangent) and (ω/σ²)·|sin θ| (tangent–radial):

        a_TT = ω|cos θ| / (1 − L(B)),   a_TN = √2 ω|sin θ| / (1 − B L'(B)),   a_NN = 0.

    As σ → 0, 1 − L → σ² and 1 − B L' → 1 − σ²: a_TT ≈ ω|cos θ|/σ², a_TN ≈ √2 ω|sin θ|; over the
    uniform sphere E|cos θ| = 1/2 and E|sin θ| = π/4.
    """
    x = np.asarray(x, dtype=np.float64)
    b = 1.0 / sigma**2
    e = np.exp(-2.0 * b)
    one_minus_l = 1.0 / b - 2.0 * e / -np.expm1(-2.0 * b)  # 1 − L, coth b = 1 + 2e/(1 − e)
    b_dl = 1.0 / b - 4.0 * b * e / np.expm1(-2.0 * b) ** 2  # B L'(B) = B(1/B² − 1/sinh²B)
    cos_t = np.abs(x[:, 2]) / np.linalg.norm(x, axis=1)
    return {
        "a_TT": OMEGA * cos_t / one_minus_l,
        "a_TN": np.sqrt(2.0) * OMEGA * np.sqrt(1.0 - cos_t**2) / (1.0 - b_dl),
        "a_NN": np.zeros(len(x)),
    }
