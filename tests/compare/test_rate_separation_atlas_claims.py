"""The scaling atlas against its theory: a wrong closed form in theory.scaling makes the atlas fail
on that law's panel, the planted field fault fails the stiffness and eq. (20) laws, and the atlas's
numerical pieces (finite-difference stiffness, mean ODE, tube-grid laws, the fit's allowance) agree
with independent routes."""

import jax
import numpy as np
import pytest
from scipy.special import i0e, i1e

from compare.claim import Context
from compare.claims import rate_separation_atlas as atlas
from compare.runner import make_profile
from empirical.jax_fields import noised_circle_score
from theory import scaling


def _run(tmp_path, control=False):
    ctx = Context(profile=make_profile("quick", tmp_path), seed=0, progress=False, control=control)
    return atlas.scaling_atlas(ctx)


def test_atlas_passes_at_quick_and_reports_every_law(tmp_path):
    outcome = _run(tmp_path)
    assert outcome.verdict == "pass", outcome.failed
    assert len(outcome.checks) == 14
    for summary in outcome.measured.values():
        assert summary["points fitted"] >= 3
        lo, hi = summary["accepted interval"]
        assert lo <= summary["predicted exponent"] <= hi
        assert summary["model-error allowance"] < 0.05


def test_control_fails_exactly_the_field_laws(tmp_path):
    failed = _run(tmp_path, control=True).failed
    assert failed
    assert all(name.startswith(("normal stiffness", "eq. (20) residual")) for name in failed)
    assert any(name.startswith("normal stiffness") for name in failed)


@pytest.mark.parametrize(
    ("name", "wrong", "panel"),
    [
        # σ passed where σ² belongs
        ("normal_stiffness", lambda sigma: np.asarray(sigma) ** -1.0, "normal stiffness"),
        ("normal_offset", lambda sigma, gamma, c: c * np.asarray(sigma) ** (1.0 - gamma), "Gibbs"),
        ("ts_thickness", lambda sigma, alpha: np.asarray(sigma) ** (1.0 - alpha), "TS thickness"),
        (
            "reverse_sde_terminal_offset",
            lambda s, gamma, c: (2 * c / gamma) * np.asarray(s) ** (1.0 - gamma),
            "reverse SDE",
        ),
        ("ts_uniform_tv_exponent", lambda alpha, gamma: alpha - 2 * gamma, "TS with a gradient"),
    ],
)
def test_wrong_closed_form_fails_its_panel(tmp_path, monkeypatch, name, wrong, panel):
    monkeypatch.setattr(scaling, name, wrong)
    outcome = _run(tmp_path)
    assert outcome.verdict == "fail"
    assert outcome.failed and all(f.startswith(panel) for f in outcome.failed)


def test_fd_stiffness_matches_jax_autodiff():
    sigmas = np.array([1e-3, 1e-2, 0.1])
    fd, _ = atlas._stiffness(sigmas, 8, fault=False)
    theta = atlas._angles(8)
    nu = np.column_stack([np.cos(theta), np.sin(theta)])

    def stiffness(n, sigma):
        jac = jax.jacfwd(lambda p: noised_circle_score(p, sigma, kappa=atlas.KAPPA))(
            atlas.RADIUS * n
        )
        return -n @ jac @ n

    with jax.enable_x64(True):
        grid = jax.jit(jax.vmap(jax.vmap(stiffness, in_axes=(0, None)), in_axes=(None, 0)))
        auto = np.asarray(grid(nu, sigmas)).mean(axis=1)
    np.testing.assert_allclose(fd, auto, rtol=1e-7)


def test_fault_scales_the_stiffness_by_sigma_to_the_fault_power():
    sigmas = np.array([1e-3, 1e-2])
    exact, _ = atlas._stiffness(sigmas, 4, fault=False)
    faulty, _ = atlas._stiffness(sigmas, 4, fault=True)
    np.testing.assert_allclose(faulty / exact, sigmas**atlas.FAULT_POWER, rtol=1e-6)


@pytest.mark.parametrize(("gamma", "flow"), [(1.0, "sde"), (1.5, "sde"), (1.5, "pf")])
def test_mean_ode_matches_the_finite_T_closed_form(gamma, flow):
    # the closed forms with T kept (theory docstrings, note T-C14), not their T → ∞ limits
    sigma = np.geomspace(1e-5, 1.0, 6)
    s, c, big_t = sigma**2, atlas.C_REVERSE, atlas.T_REVERSE
    if flow == "sde":
        exact = (2 * c / gamma) * (s ** (1 - gamma / 2) - s * big_t ** (-gamma / 2))
    else:
        exact = (c / (1 - gamma)) * (np.sqrt(s) * big_t ** ((1 - gamma) / 2) - s ** (1 - gamma / 2))
    np.testing.assert_allclose(atlas._terminal_offsets(sigma, gamma, flow), exact, rtol=1e-6)


@pytest.mark.parametrize("gamma", [1.0, 1.5])
def test_gibbs_offset_matches_the_laplace_expansion(gamma):
    # the normal profile ∝ (1 + ρ/R)^{1/2} e^{−ρ²/(2σ²) + cσ^{−γ}ρ}: mean (cσ^{2−γ} + σ²/(2R))/(1 + σ²/(2R²))
    sigma = 1e-3
    expected = (atlas.C_GIBBS * sigma ** (2 - gamma) + sigma**2 / 2) / (1 + sigma**2 / 2)
    assert atlas._gibbs_offset(sigma, gamma, 32, 10) == pytest.approx(expected, rel=1e-6)


def test_ts_law_first_moment_is_von_mises_of_the_tempered_kappa():
    # note T-C7: E cos θ under the TS law = A₁(σ^α κ) up to O(σ²)
    sigma, alpha = 0.01, 0.5
    law = atlas._ts_law(sigma, alpha, 360, 200)
    k = sigma**alpha * atlas.KAPPA
    mean_cos = law.expect(lambda x: x[..., 0] / np.linalg.norm(x, axis=-1))
    assert mean_cos == pytest.approx(i1e(k) / i0e(k), abs=1e-5)


def test_allowance_covers_a_known_next_order_term_and_nothing_more():
    sigma = np.geomspace(1e-3, 0.1, 9)
    a, q, p = 3.0, 2.0, 1.5
    s = atlas._series(
        "synthetic",
        sigma,
        sigma**p * (1 + a * sigma**q),
        p,
        lambda x: a * x**q <= 0.05,
        lambda x: atlas._power_shift(a, q, x),
        "test",
    )
    assert s["sigma_fit"][1] < 0.13  # 3σ² ≤ 0.05: σ ≤ 0.129
    assert (
        abs(s["slope"] - p) <= s["allowance"] / atlas.SAFETY
    )  # the bound holds without the factor
    assert abs(s["slope"] - p) > s["t"] * s["se"]  # the t-interval alone would miss it
    exact = atlas._series(
        "pure", sigma, sigma**p, p, lambda x: x > 0, lambda x: 0 * x, "no next-order term"
    )
    assert exact["slope"] == pytest.approx(p, abs=1e-12) and exact["allowance"] == 0.0


def test_too_few_valid_points_is_a_failed_measurement():
    s = atlas._series("few", [1e-3, 1e-2, 0.1], [1, 2, 3], 1.0, lambda x: x < 0.005, np.abs, "t")
    assert s["n"] == 1 and np.isnan(s["slope"])


def test_exponent_of_a_theory_function():
    assert atlas._exponent(scaling.normal_stiffness) == pytest.approx(-2.0, abs=1e-12)
    assert atlas._exponent(lambda s: scaling.ts_circle_tv(s, 0.5, 1.0)) == pytest.approx(
        0.5, abs=1e-6
    )


def _fourier_gap(k: float, modes: int = 20) -> float:
    """Gap of ∂² − k sin θ ∂ in the Fourier basis e^{imθ}, |m| ≤ modes (no grid)."""
    m = np.arange(-modes, modes + 1)
    op = np.diag(-(m**2)).astype(complex)
    for j, mj in enumerate(m):  # −k sin θ · i m e^{imθ} = −(k m/2)(e^{i(m+1)θ} − e^{i(m−1)θ})
        if j + 1 < m.size:
            op[j + 1, j] += -k * mj / 2
        if j - 1 >= 0:
            op[j - 1, j] += k * mj / 2
    return float(np.sort(-np.linalg.eigvals(op).real)[1])


@pytest.mark.parametrize(("sigma", "alpha"), [(1e-3, 0.5), (0.03, 0.5), (0.1, 1.0)])
def test_angular_gap_matches_a_fourier_galerkin_gap(sigma, alpha):
    n = 256  # the drift's central difference is off by O(h²k²), h = 2π/n
    h = 2 * np.pi / n
    free = (2 / h**2) * (1 - np.cos(h))  # the grid's own factor on the free gap
    diffusion = sigma ** (2 - alpha) / atlas.RADIUS**2
    got = atlas._angular_gap(sigma, alpha, n) / (diffusion * free)
    k = sigma**alpha * atlas.KAPPA
    # the exact tangential score is −κ sin θ (1 − σ²/2 − κσ² cos θ) + O(σ⁴) on the unit circle: its
    # second harmonic splits the m = 1 pair by ±kσ²/4, below the k²/6 that the drift adds
    assert abs(got - _fourier_gap(k)) <= k * sigma**2 / 4 + k**2 * sigma**2 / 3 + 1e-5
    assert got - 1 > 0.9 * k**2 / 6 - k * sigma**2 / 4 - 1e-5


def test_wrong_relaxation_rate_fails_its_panel(tmp_path, monkeypatch):
    from theory import rate_relaxation

    monkeypatch.setattr(
        rate_relaxation, "ts_relaxation_rate", lambda s, a, r=1.0: np.asarray(s) ** (1 - a)
    )
    outcome = _run(tmp_path)
    assert outcome.failed and all(f.startswith("TS relaxation rate") for f in outcome.failed)
