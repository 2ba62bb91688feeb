"""Tests for theory.rate_spheres and theory.rate_reverse (paper003).

Independent routes: the sphere's radial score by scipy quadrature of the polar-angle posterior and,
for d = 3, the elementary coth form; the circle's tangential energy by quadrature over the von Mises
law; the log-density expansion against the exact Bessel log-density (its remainder is O(σ²)); the
reverse-time offsets against scipy's ODE solver on the mean equations and the elementary closed forms.
"""

import numpy as np
import pytest
from scipy import integrate
from scipy.special import i0

from theory import scaling
from theory.rate_reverse import reverse_mean_offset
from theory.rate_spheres import (
    circle_log_density_expansion,
    circle_tangential_energy,
    sphere_radial_score,
)


def _radial_score_by_quad(r, sigma, d, radius):
    b = radius * r / sigma**2

    def moment(k):
        return integrate.quad(
            lambda p: np.cos(p) ** k * np.exp(b * (np.cos(p) - 1)) * np.sin(p) ** (d - 2),
            0,
            np.pi,
            epsabs=0,
            epsrel=1e-13,
            limit=200,
        )[0]

    return (radius * moment(1) / moment(0) - r) / sigma**2


@pytest.mark.parametrize("d", [2, 3, 4, 5])
@pytest.mark.parametrize(
    ("r", "sigma", "radius"), [(1.0, 0.3, 1.0), (0.9, 0.1, 1.0), (2.3, 0.5, 2.0)]
)
def test_sphere_radial_score_matches_quadrature(d, r, sigma, radius):
    assert sphere_radial_score(r, sigma, d, radius) == pytest.approx(
        _radial_score_by_quad(r, sigma, d, radius), rel=1e-10, abs=1e-10
    )


def test_sphere_radial_score_d3_is_the_coth_form():
    r, sigma = np.array([0.8, 1.0, 1.3]), 0.2
    b = r / sigma**2
    expected = (1 / np.tanh(b) - 1 / b - r) / sigma**2
    np.testing.assert_allclose(sphere_radial_score(r, sigma, 3), expected, rtol=1e-12)


def test_sphere_radial_score_tends_to_half_mean_curvature():
    for d in (2, 3, 5):
        value = sphere_radial_score(2.0, 1e-3, d, 2.0)
        assert value == pytest.approx(scaling.sphere_mean_curvature_term(d - 1, 2.0), abs=1e-5)


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [({"r": 0.0}, "r"), ({"sigma": -1.0}, "sigma"), ({"d": 1}, "d"), ({"radius": 0.0}, "radius")],
)
def test_sphere_radial_score_rejects_bad_input(kwargs, word):
    args = {"r": 1.0, "sigma": 0.1, "d": 3, "radius": 1.0} | kwargs
    with pytest.raises(ValueError, match=word):
        sphere_radial_score(**args)


@pytest.mark.parametrize(("kappa", "radius"), [(1.0, 1.0), (4.0, 2.0), (0.3, 0.5)])
def test_circle_tangential_energy_matches_quadrature(kappa, radius):
    density = lambda t: np.exp(kappa * np.cos(t)) / (2 * np.pi * i0(kappa))  # noqa: E731
    ref = integrate.quad(lambda t: (kappa * np.sin(t) / radius) ** 2 * density(t), -np.pi, np.pi)[0]
    assert circle_tangential_energy(kappa, radius) == pytest.approx(ref, rel=1e-12)


def test_circle_tangential_energy_edge_and_errors():
    assert circle_tangential_energy(0.0) == 0.0
    assert circle_tangential_energy(1.0) == pytest.approx(0.4464, abs=1e-4)  # the note's value
    with pytest.raises(ValueError, match="kappa"):
        circle_tangential_energy(-1.0)
    with pytest.raises(ValueError, match="radius"):
        circle_tangential_energy(1.0, 0.0)


@pytest.mark.parametrize("sigma", [0.03, 0.01, 0.003])
def test_log_density_expansion_remainder_is_order_sigma_squared(sigma):
    theta = np.linspace(0, 2 * np.pi, 50, endpoint=False)
    x = np.concatenate(
        [r * np.column_stack([np.cos(theta), np.sin(theta)]) for r in (0.85, 1.0, 1.2)]
    )
    exact = scaling.noised_circle_log_density(x, sigma, 4.0, 1.0, mean_angle=np.pi)
    approx = circle_log_density_expansion(x, sigma, 4.0, 1.0, np.pi)
    gap = np.max(np.abs(exact - approx)) / sigma**2
    assert 0.1 < gap < 10  # O(σ²), and not smaller (the expansion is not exact)


def test_log_density_expansion_rejects_the_origin_and_bad_sigma():
    with pytest.raises(ValueError, match="origin"):
        circle_log_density_expansion(np.zeros(2), 0.1)
    with pytest.raises(ValueError, match="sigma"):
        circle_log_density_expansion(np.ones(2), 0.0)
    assert isinstance(circle_log_density_expansion(np.ones(2), 0.1), float)


def _mean_by_ode(s_min, T, gamma, c, lam, flow, s_cut=np.inf):
    k = 1.0 if flow == "sde" else 0.5

    def rhs(s, m):
        e = c * s ** (-gamma / 2) if s < s_cut else 0.0
        return [k * (m[0] / (lam + s) - e)]

    sol = integrate.solve_ivp(rhs, (T, s_min), [0.0], method="LSODA", rtol=1e-11, atol=1e-14)
    return sol.y[0, -1]


@pytest.mark.parametrize("flow", ["sde", "ode"])
@pytest.mark.parametrize(
    ("gamma", "lam", "s_cut"),
    [(0.5, 0.0, None), (1.5, 0.0, None), (1.0, 1.0, None), (1.5, 1.0, 0.01)],
)
def test_reverse_mean_offset_solves_the_mean_ode(flow, gamma, lam, s_cut):
    value = reverse_mean_offset(1e-3, 10.0, gamma, 0.3, variance=lam, flow=flow, s_cut=s_cut)
    ref = _mean_by_ode(1e-3, 10.0, gamma, 0.3, lam, flow, np.inf if s_cut is None else s_cut)
    assert value == pytest.approx(ref, rel=1e-6)


@pytest.mark.parametrize("gamma", [0.5, 1.0, 1.5, 2.0])
def test_reverse_mean_offset_normal_closed_forms(gamma):
    s, T, c = 1e-4, 100.0, 0.3
    sde = (2 * c / gamma) * (s ** (1 - gamma / 2) - s * T ** (-gamma / 2))
    assert reverse_mean_offset(s, T, gamma, c) == pytest.approx(sde, rel=1e-9)
    ode = (
        (c / 2) * np.sqrt(s) * np.log(T / s)
        if gamma == 1.0
        else (c / (1 - gamma)) * (np.sqrt(s) * T ** ((1 - gamma) / 2) - s ** (1 - gamma / 2))
    )
    assert reverse_mean_offset(s, T, gamma, c, flow="ode") == pytest.approx(ode, rel=1e-9)
    if gamma > 1:  # the T → ∞ limits of theory.scaling
        assert reverse_mean_offset(s, 1e16, gamma, c, flow="ode") == pytest.approx(
            float(scaling.pf_ode_terminal_offset(np.sqrt(s), gamma, c)), rel=1e-4
        )
    assert reverse_mean_offset(s, 1e16, gamma, c) == pytest.approx(
        float(scaling.reverse_sde_terminal_offset(np.sqrt(s), gamma, c)), rel=1e-4
    )


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"s_min": 2.0}, "s_min"),
        ({"T": -1.0}, "T"),
        ({"variance": -0.1}, "variance"),
        ({"flow": "pf"}, "flow"),
        ({"s_cut": 1e-5}, "s_cut"),
        ({"gamma": np.nan}, "gamma"),
    ],
)
def test_reverse_mean_offset_rejects_bad_input(kwargs, word):
    args = {"s_min": 1e-3, "T": 1.0, "gamma": 1.0, "c": 0.3} | kwargs
    with pytest.raises(ValueError, match=word):
        reverse_mean_offset(**args)
