"""The R1 graph surface: its geometry, and its quadrature score field against independent routes
(the closed-form Gaussian mixture on the plane, a rule twice as fine, adaptive quadrature, central
differences of the score, and the circulation of a gradient field)."""

import numpy as np
import pytest
from scipy import integrate, optimize

from theory.distributions import GaussianMixture
from theory.graph_surface import GraphSurface

CURVED = GraphSurface()


def _near(surface, u, rho):
    u = np.asarray(u, dtype=float)
    return surface.embed(u) + np.asarray(rho)[..., None] * surface.unit_normal(u)


def _rel(a, b):
    return np.max(np.abs(a - b)) / np.max(np.abs(b))


# --------------------------------------------------------------------------------------------
# Geometry


class TestGeometry:
    def test_height_gradient_and_hessian_match_finite_differences(self, rng):
        u = rng.uniform(-2.5, 2.5, (20, 2))
        _, grad, (h11, h12, h22) = CURVED._height(u)
        eps = 1e-6
        for i in range(2):
            du = np.zeros(2)
            du[i] = eps
            fd = (CURVED.height(u + du) - CURVED.height(u - du)) / (2 * eps)
            np.testing.assert_allclose(grad[:, i], fd, atol=1e-9)
            fd2 = (CURVED._height(u + du)[1] - CURVED._height(u - du)[1]) / (2 * eps)
            np.testing.assert_allclose(fd2[:, 0], (h11, h12)[i], atol=1e-8)
            np.testing.assert_allclose(fd2[:, 1], (h12, h22)[i], atol=1e-8)

    def test_frames_are_orthonormal_and_tangent(self, rng):
        u = rng.uniform(-2.5, 2.5, (30, 2))
        q_t, nu = CURVED.tangent_basis(u), CURVED.unit_normal(u)
        np.testing.assert_allclose(
            np.swapaxes(q_t, 1, 2) @ q_t, np.broadcast_to(np.eye(2), (30, 2, 2)), atol=1e-14
        )
        np.testing.assert_allclose(np.einsum("nij,ni->nj", q_t, nu), 0, atol=1e-14)
        # ∂φ/∂u_i lies in the span of Q_T
        eps = 1e-6
        cols = []
        for i in range(2):
            du = np.zeros(2)
            du[i] = eps
            d_phi = (CURVED.embed(u + du) - CURVED.embed(u - du)) / (2 * eps)
            resid = d_phi - np.einsum("nij,nj->ni", q_t, np.einsum("nij,ni->nj", q_t, d_phi))
            np.testing.assert_allclose(resid, 0, atol=1e-9)
            cols.append(d_phi)
        # the area element |∂₁φ × ∂₂φ|
        area = np.linalg.norm(np.cross(cols[0], cols[1]), axis=1)
        np.testing.assert_allclose(CURVED.area_factor(u), area, rtol=1e-9)

    def test_nearest_point_recovers_the_foot_and_matches_a_minimiser(self, rng):
        u = rng.uniform(-2.3, 2.3, (40, 2))
        rho = rng.uniform(-0.6, 0.6, 40)
        x = _near(CURVED, u, rho)
        foot, u_star = CURVED.nearest_point(x)
        np.testing.assert_allclose(u_star, u, atol=1e-12)
        np.testing.assert_allclose(foot, CURVED.embed(u), atol=1e-12)
        for i in range(5):  # global minimiser from a coarse grid start, by another method
            dist = lambda v, i=i: np.sum((CURVED.embed(v) - x[i]) ** 2)  # noqa: E731
            grid = np.stack(np.meshgrid(*[np.linspace(-3, 3, 61)] * 2), -1).reshape(-1, 2)
            start = grid[np.argmin(np.sum((CURVED.embed(grid) - x[i]) ** 2, axis=1))]
            res = optimize.minimize(
                dist, start, method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-14}
            )
            np.testing.assert_allclose(res.x, u_star[i], atol=1e-6)

    def test_chart_velocity_inverts_the_chart_derivative(self, rng):
        """d/dt φ(u + tw) at t = 0 (central differences of embed) is read back as w, and a normal
        component added to it changes nothing."""
        u, w = rng.uniform(-2.5, 2.5, (20, 2)), rng.normal(size=(20, 2))
        eps = 1e-6
        v = (CURVED.embed(u + eps * w) - CURVED.embed(u - eps * w)) / (2 * eps)
        np.testing.assert_allclose(CURVED.chart_velocity(u, v), w, atol=1e-8)
        off = v + rng.normal(size=(20, 1)) * CURVED.unit_normal(u)
        np.testing.assert_allclose(CURVED.chart_velocity(u, off), w, atol=1e-8)
        with pytest.raises(ValueError, match="v must have shape"):
            CURVED.chart_velocity(u, v[:, :2])

    def test_single_point_shapes(self):
        foot, u = CURVED.nearest_point(np.array([0.3, 0.2, 0.1]))
        assert foot.shape == (3,) and u.shape == (2,)
        s, j = CURVED.fields(np.array([0.3, 0.2, 0.1]), 0.1)
        assert s.shape == (3,) and j.shape == (3, 3)


# --------------------------------------------------------------------------------------------
# The quadrature field


def _plane_mixture():
    """The plane with a square large enough that truncation is negligible, and its closed form."""
    plane = GraphSurface(amplitude=0.0, half_width=7.0)
    means = np.column_stack([plane.means, np.zeros(4)])
    cov = np.tile(np.diag([0.16, 0.16, 0.0]), (4, 1, 1))
    return plane, GaussianMixture(np.full(4, 0.25), means, cov)


@pytest.mark.parametrize("sigma", [0.05, 0.1, 0.3])
def test_plane_matches_the_closed_form_mixture(sigma, rng):
    plane, mixture = _plane_mixture()
    x = np.column_stack([rng.uniform(-2.5, 2.5, (40, 2)), sigma * rng.uniform(-2, 2, 40)])
    score, jac = plane.fields(x, sigma)
    assert _rel(score, mixture.score(x, sigma)) < 1e-12
    assert _rel(jac, mixture.jacobian(x, sigma)) < 1e-12
    np.testing.assert_allclose(plane.denoiser(x, sigma), mixture.denoiser(x, sigma), atol=1e-12)


@pytest.mark.parametrize("sigma", [0.05, 0.1, 0.3])
def test_quadrature_converged_against_twice_the_nodes(sigma, rng):
    u = rng.uniform(-2.5, 2.5, (30, 2))  # including points whose window is clipped by the edge
    x = _near(CURVED, u, sigma * rng.uniform(-3, 3, 30))
    s64, j64 = CURVED.fields(x, sigma)
    s128, j128 = CURVED.fields(x, sigma, nodes=128)
    assert _rel(s64, s128) < 1e-12
    assert _rel(j64, j128) < 1e-12
    s24, _ = CURVED.fields(x, sigma, nodes=24)  # a coarse rule is visibly off: the test can fail
    assert _rel(s24, s128) > 1e-8


def _adaptive_reference(surface, x, sigma):
    """Score and Jacobian by nested adaptive quadrature (scipy quad_vec) of the posterior moments
    over a wider window (14σ + ρ), written apart from the module's code."""
    a, f, c, v = surface.amplitude, surface.frequency, surface.centre, surface.std**2
    foot, u_star = surface.nearest_point(x)
    rho = np.linalg.norm(x - foot)
    lo = np.maximum(u_star - 14 * sigma - rho, -surface.half_width)
    hi = np.minimum(u_star + 14 * sigma + rho, surface.half_width)

    def moments(u1, u2):
        h = a * np.sin(f * u1) * np.cos(f * u2)
        grad_sq = (a * f) ** 2 * (
            (np.cos(f * u1) * np.cos(f * u2)) ** 2 + (np.sin(f * u1) * np.sin(f * u2)) ** 2
        )
        q0 = sum(
            np.exp(-((u1 - m1) ** 2 + (u2 - m2) ** 2) / (2 * v)) for m1 in (c, -c) for m2 in (c, -c)
        )
        d = np.array([u1, u2, h]) - foot
        kern = np.exp((rho**2 - np.sum((d + foot - x) ** 2)) / (2 * sigma**2))
        weight = q0 * np.sqrt(1 + grad_sq) * kern
        return weight * np.concatenate([[1.0], d, np.outer(d, d)[np.triu_indices(3)]])

    def inner(u1):
        return integrate.quad_vec(lambda u2: moments(u1, u2), lo[1], hi[1], epsabs=0, epsrel=1e-11)[
            0
        ]

    m = integrate.quad_vec(inner, lo[0], hi[0], epsabs=0, epsrel=1e-11)[0]
    mean = m[1:4] / m[0]
    second = np.zeros((3, 3))
    second[np.triu_indices(3)] = m[4:] / m[0]
    second = second + np.triu(second, 1).T
    cov = second - np.outer(mean, mean)
    return (mean + foot - x) / sigma**2, (cov - sigma**2 * np.eye(3)) / sigma**4


@pytest.mark.parametrize(
    ("sigma", "u", "rho"),
    [(0.05, (1.2, -1.7), 1.0), (0.3, (2.3, 1.0), -1.5)],  # the second window is clipped at u₁ = 2.5
)
def test_field_matches_adaptive_quadrature(sigma, u, rho):
    x = _near(CURVED, np.array(u), rho * sigma)
    score, jac = CURVED.fields(x, sigma)
    ref_score, ref_jac = _adaptive_reference(CURVED, x, sigma)
    assert _rel(score, ref_score) < 1e-10
    assert _rel(jac, ref_jac) < 1e-9


@pytest.mark.parametrize("sigma", [0.05, 0.3])
def test_jacobian_matches_central_differences_of_the_score(sigma, rng):
    x = _near(CURVED, rng.uniform(-2, 2, (6, 2)), sigma * rng.uniform(-2, 2, 6))
    jac = CURVED.jacobian(x, sigma)
    h = 1e-4 * sigma
    fd = np.empty_like(jac)
    for j in range(3):
        e = np.zeros(3)
        e[j] = h
        fd[:, :, j] = (CURVED.score(x + e, sigma) - CURVED.score(x - e, sigma)) / (2 * h)
    assert _rel(fd, jac) < 1e-6
    np.testing.assert_array_equal(jac, np.swapaxes(jac, 1, 2))  # symmetric by construction


def test_score_is_a_gradient_circulation_vanishes(rng):
    """∮ g·dl on small circles vanishes for the quadrature score (64-point rule)."""
    sigma, r = 0.05, 0.05
    u = rng.uniform(-2, 2, (4, 2))
    x0 = _near(CURVED, u, sigma * np.ones(4))
    q_t = CURVED.tangent_basis(u)
    theta = 2 * np.pi * np.arange(64) / 64
    for i in range(4):
        ring = x0[i] + r * (
            np.outer(np.cos(theta), q_t[i, :, 0]) + np.outer(np.sin(theta), q_t[i, :, 1])
        )
        along = -np.outer(np.sin(theta), q_t[i, :, 0]) + np.outer(np.cos(theta), q_t[i, :, 1])
        g = CURVED.score(ring, sigma)
        circ = np.sum(g * along) / (64 * r)
        assert abs(circ) < 1e-10 * np.max(np.abs(g)) / r


def test_chart_density_uses_the_area_factor():
    u = np.array([[0.3, -1.1], [1.5, 1.5]])
    flat = GraphSurface(amplitude=0.0)
    np.testing.assert_allclose(
        CURVED.log_chart_density(u) - flat.log_chart_density(u), np.log(CURVED.area_factor(u))
    )
    assert CURVED.log_chart_density(np.array([2.6, 0.0])) == -np.inf


# --------------------------------------------------------------------------------------------
# Input validation


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"amplitude": -0.1}, "amplitude"),
        ({"frequency": 0.0}, "frequency"),
        ({"std": -1.0}, "std"),
        ({"half_width": np.nan}, "half_width"),
        ({"centre": 3.0}, "centre"),
    ],
)
def test_bad_parameters_raise(kwargs, name):
    with pytest.raises(ValueError, match=name):
        GraphSurface(**kwargs)


@pytest.mark.parametrize(
    ("x", "sigma", "nodes", "name"),
    [
        (np.zeros((2, 2)), 0.1, 64, "x"),
        (np.array([0.0, 0.0, np.nan]), 0.1, 64, "x"),
        (np.zeros(3), 0.0, 64, "sigma"),
        (np.zeros((2, 3)), np.ones(3), 64, "sigma"),
        (np.zeros(3), 0.1, 4, "nodes"),
        (np.zeros(3), 0.1, 2.5, "nodes"),
        (np.array([9.0, 0.0, 0.0]), 0.05, 64, "x"),  # far beyond the square's edge
    ],
)
def test_bad_field_inputs_raise(x, sigma, nodes, name):
    with pytest.raises(ValueError, match=name):
        CURVED.fields(x, sigma, nodes=nodes)
