"""The 1-D NESS near a closed curve: against the Gibbs law, brute-force quadrature, the tube-grid law
of a gradient field, and the independent FFT route of :func:`theory.rate_ness.circle_ness`."""

from __future__ import annotations

import numpy as np
import pytest

from empirical.curve_ness import curve_drift, periodic_ness
from empirical.tube_grid import ellipse, total_variation, tube_law
from theory.rate_ness import circle_ness


def _midpoints(n):
    return (np.arange(n) + 0.5) * 2 * np.pi / n


def test_periodic_ness_is_the_gibbs_law_of_a_gradient_drift_with_varying_diffusion():
    t = _midpoints(720)
    u = np.cos(t) + 0.5 * np.sin(2 * t)
    du = -np.sin(t) + np.cos(2 * t)
    dbar = 1.0 + 0.3 * np.cos(3 * t)
    p = periodic_ness(-dbar * du, dbar)  # zero flux: β = −D̄U' ⇒ P̄ ∝ e^{−U}
    q = np.exp(-u) / np.exp(-u).sum()
    assert total_variation(p, q) < 1e-5


def test_periodic_ness_of_a_constant_drift_is_uniform_and_a_rotation_tilts_it():
    assert np.ptp(periodic_ness(np.full(90, 0.7))) < 1e-15
    t = _midpoints(360)
    tilted = periodic_ness(0.5 + np.sin(t))
    assert total_variation(tilted, np.full(360, 1 / 360)) > 0.05
    # the note's T-C10 form e^{−U}∫_t^{t+2π} e^{U}, by an independent brute-force quadrature
    b = 0.5 + np.sin(t)
    fine = np.linspace(0, 4 * np.pi, 20_001)
    u_fine = -np.concatenate(
        [
            [0.0],
            np.cumsum(0.5 * ((0.5 + np.sin(fine[1:])) + (0.5 + np.sin(fine[:-1]))) * np.diff(fine)),
        ]
    )
    ref = []
    for ti in t:
        sel = (fine >= ti) & (fine <= ti + 2 * np.pi)
        u_t = np.interp(ti, fine, u_fine)
        ref.append(np.exp(-u_t) * np.trapezoid(np.exp(u_fine[sel]), fine[sel]))
    ref = np.array(ref) / np.sum(ref)
    assert total_variation(periodic_ness(b), ref) < 2e-3


def test_curve_drift_reproduces_the_tube_grid_law_of_a_gradient_field():
    a, b, v, c = 1.0, 2.0, 0.01, 0.7
    curve = ellipse(a, b)

    def log_density(x):
        q = np.sqrt((x[:, 0] / a) ** 2 + (x[:, 1] / b) ** 2)
        return -((q - 1) ** 2) / (2 * v) + c * x[:, 1] + 0.3 * np.cos(3 * x[:, 0])

    def gradient(x, eps=1e-6):
        g = np.zeros_like(x)
        for i in range(2):
            e = np.zeros(2)
            e[i] = eps
            g[:, i] = (log_density(x + e) - log_density(x - e)) / (2 * eps)
        return g

    law = tube_law(log_density, curve, 0.3, n_t=360, n_rho=600)
    drift = curve_drift(gradient, curve, 0.3, n_t=360, n_rho=241)
    reduced = periodic_ness(drift.drift, drift.diffusion)
    assert total_variation(reduced, law.parameter_marginal()) < 1e-4
    # the correction term matters: the averaged velocity alone misses the Jacobian's pull
    naive = periodic_ness(drift.tangential, drift.diffusion)
    assert total_variation(naive, law.parameter_marginal()) > 10 * total_variation(
        reduced, law.parameter_marginal()
    )


def test_curve_drift_rejects_a_tube_beyond_the_reach():
    with pytest.raises(ValueError, match="reach"):
        curve_drift(lambda x: -x, ellipse(1.0, 2.0), 0.6)
    with pytest.raises(ValueError, match="diffusion"):
        periodic_ness(np.zeros(8), np.zeros(8))


@pytest.mark.parametrize("mean_drift", [0.0, 0.4, -1.5])
def test_periodic_ness_agrees_with_the_fft_route_for_a_non_gradient_drift(mean_drift):
    # cumulative sums in log space (empirical) against the FFT periodic part (theory): two routes
    def b(t):
        return mean_drift + 2.0 * np.sin(t) + 0.7 * np.cos(3 * t)

    theta, reference = circle_ness(b, n=2_880)
    assert total_variation(periodic_ness(b(theta)), reference) < 1e-5
