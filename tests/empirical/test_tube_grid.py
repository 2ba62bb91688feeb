"""Tube-grid stationary laws against 1-D quadrature, closed forms and scipy's elliptic integral."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, special

from empirical.tube_grid import (
    arc_length_masses,
    cell_masses,
    circle,
    ellipse,
    total_variation,
    tube_law,
)


def _radial_gaussian(s, radius=1.0):
    def f(x):
        return -((np.hypot(x[:, 0], x[:, 1]) - radius) ** 2) / (2 * s**2)

    return f


@pytest.mark.parametrize("s", [0.1, 0.02])
def test_circle_normal_moments_match_radial_quadrature(s):
    law = tube_law(_radial_gaussian(s), circle(1.0), 8 * s, n_rho=800)

    def moment(k):
        return integrate.quad(
            lambda r: (r - 1) ** k * r * np.exp(-((r - 1) ** 2) / (2 * s**2)),
            1 - 8 * s,
            1 + 8 * s,
            epsabs=0,
            epsrel=1e-12,
        )[0]

    mean = moment(1) / moment(0)
    sd = np.sqrt(moment(2) / moment(0) - mean**2)
    assert law.normal_mean() == pytest.approx(mean, rel=1e-4)  # s²/R: the Jacobian r
    assert law.normal_sd() == pytest.approx(sd, rel=1e-4)
    assert law.mass_beyond(2 * s) == pytest.approx(1 - special.erf(2 / np.sqrt(2)), abs=5e-4)


def test_angle_marginal_of_a_von_mises_tilt_is_von_mises():
    kappa = 1.3

    def f(x):
        r = np.hypot(x[:, 0], x[:, 1])
        return kappa * x[:, 0] / r - (r - 1) ** 2 / (2 * 0.05**2)

    law = tube_law(f, circle(), 0.4, n_t=360, n_rho=400)
    reference = cell_masses(lambda t: kappa * np.cos(t), 360)
    assert total_variation(law.parameter_marginal(), reference) < 1e-12
    # E cos θ on the grid against the Bessel ratio I₁/I₀ (midpoint rule is spectral in θ)
    cos_mean = law.expect(lambda p: p[..., 0] / np.hypot(p[..., 0], p[..., 1]))
    assert cos_mean == pytest.approx(special.i1(kappa) / special.i0(kappa), rel=1e-10)


def test_ellipse_geometry_against_closed_forms():
    a, b = 1.0, 2.0
    curve = ellipse(a, b)
    t = np.linspace(0, 2 * np.pi, 7)
    speed = curve.speed(t)
    assert np.allclose(curve.curvature(t), a * b / speed**3, rtol=1e-14)
    assert np.allclose(np.linalg.norm(curve.normal(t), axis=-1), 1.0)
    # outward: the normal points away from the centre
    assert np.all(np.sum(curve.normal(t) * curve.point(t), axis=-1) > 0)
    # perimeter 4b E(1 − a²/b²) against the midpoint sum of the speed
    n = 720
    perimeter = curve.speed((np.arange(n) + 0.5) * 2 * np.pi / n).sum() * 2 * np.pi / n
    assert perimeter == pytest.approx(4 * b * special.ellipe(1 - a**2 / b**2), rel=1e-12)


def test_flat_density_in_the_tube_is_arc_length_on_the_curve():
    curve = ellipse(1.0, 2.0)
    law = tube_law(lambda x: np.zeros(len(x)), curve, 0.3, n_t=180, n_rho=60)
    # ∫(1 + ρk) dρ over a symmetric tube is 2w for every t: the t-marginal is exactly ∝ |Φ'|
    assert total_variation(law.parameter_marginal(), arc_length_masses(curve, 180)) < 1e-12
    assert total_variation(arc_length_masses(curve, 180), cell_masses(np.zeros_like, 180)) > 0.09


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="reach"):
        tube_law(_radial_gaussian(0.1), circle(1.0), 1.0)
    with pytest.raises(ValueError, match="n_t"):
        tube_law(_radial_gaussian(0.1), circle(1.0), 0.5, n_t=1)
    with pytest.raises(ValueError, match="finite"):
        tube_law(lambda x: np.full(len(x), np.nan), circle(1.0), 0.5, n_t=8, n_rho=8)
    with pytest.raises(ValueError, match="half_width"):
        tube_law(_radial_gaussian(0.1), circle(1.0), -0.1)
    with pytest.raises(ValueError, match="radius"):
        circle(0.0)
    with pytest.raises(ValueError, match="same shape"):
        total_variation(np.ones(3) / 3, np.ones(4) / 4)
    with pytest.raises(ValueError, match="summing to 1"):
        total_variation(np.ones(3), np.ones(3) / 3)
    with pytest.raises(ValueError, match="delta"):
        tube_law(_radial_gaussian(0.1), circle(), 0.5, n_t=8, n_rho=8).mass_beyond(0.0)
