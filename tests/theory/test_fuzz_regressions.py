"""Regression tests for inputs found by fuzzing the public callables of theory/.

Each test pins one fixed failure and fails on the code before its fix. The references are
independent of the code under test (mpmath at 60 digits, or a closed form), as each section says.
"""

import itertools
import pkgutil
import warnings

import mpmath
import numpy as np
import pytest
from numpy.testing import assert_allclose

import theory
from theory import symbolic
from theory.distributions import FiniteSet, GaussianMixture, LinearGaussian
from theory.schedules import geometric_grid, vp_a, vp_score_from_ve, vp_t_to_ve_sigma
from theory.smoothing import asymptotic_loss, endpoint_law, score_matching_loss
from theory.spectra import (
    gap_peak,
    gap_window,
    intermediate_gap,
    jacobian_spectral_density,
    linear_gaussian_singular_values,
    local_dimension,
    manifold_gap,
    marchenko_pastur,
    silverstein_quantiles,
    staircase_steps,
)

DPS = 60
EPS = np.finfo(np.float64).eps
INF = float("inf")


# --------------------------------------------------------------------------------------------
# 1. Integer and scalar arguments: ValueError naming the argument and the range, for infinity,
#    NaN, fractions, arrays and non-numbers (before: OverflowError or TypeError)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: geometric_grid(1.0, 2.0, INF), r"^n must be an integer >= 2"),
        (lambda: geometric_grid(1.0, 2.0, np.nan), r"^n must be an integer >= 2"),
        (lambda: geometric_grid(1.0, 2.0, np.array([3, 4])), r"^n must be an integer >= 2"),
        (lambda: geometric_grid(1.0, 2.0, "5"), r"^n must be a real number"),
        (lambda: LinearGaussian([1.0], INF), r"^d must be a positive integer"),
        (lambda: LinearGaussian([1.0], [2, 3]), r"^d must be a positive integer"),
        (lambda: linear_gaussian_singular_values([1.0], INF, 0.5), r"^d must be an integer >= k"),
        (
            lambda: silverstein_quantiles(0.5, [0.2], [1.0], n_grid=INF),
            r"^n_grid must be an integer >= 16",
        ),
        (lambda: symbolic.gaussian_score_jacobian(INF, 1), r"^d must be a positive integer"),
        (lambda: symbolic.gaussian_score_jacobian(3, np.nan), r"^k must be an integer with 1"),
    ],
)
def test_integer_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: local_dimension([1.0], 0.5, np.array([0.3, 0.5])),
            r"^c must be a scalar in \(0, 1\)",
        ),
        (
            lambda: marchenko_pastur(np.array([0.2, 0.3]), 1.0),
            r"^alpha must be a scalar in \(0, 1\)",
        ),
        (lambda: marchenko_pastur(np.array([0.2]), 1.0), r"^alpha must be a scalar in \(0, 1\)"),
        (lambda: staircase_steps([1.0], c=[0.5]), r"^c must be a scalar in \(0, 1\)"),
        (lambda: geometric_grid(np.array([1.0, 2.0]), 3.0, 4), r"^start must be a scalar > 0"),
        (lambda: geometric_grid("1", 3.0, 4), r"^start must be a real number"),
        (lambda: vp_a(1j), r"^t must be a real number"),
        (lambda: vp_a([1.0, [2.0]]), r"^t must be a real number"),
    ],
)
def test_scalar_and_real_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --------------------------------------------------------------------------------------------
# 2. Empty dimensions (before: accepted, then a ZeroDivisionError in the score)


def test_finite_set_rejects_zero_dimensions():
    with pytest.raises(
        ValueError, match=r"^points must have shape \(m, d\) with m >= 1 and d >= 1"
    ):
        FiniteSet(np.zeros((3, 0)))


def test_mixture_rejects_zero_dimensions():
    with pytest.raises(ValueError, match=r"^means must have shape \(K, d\) with K = 1 and d >= 1"):
        GaussianMixture([1.0], np.zeros((1, 0)), np.zeros((1, 0, 0)))


@pytest.mark.parametrize("method", ["score", "jacobian", "denoiser", "log_density"])
def test_finite_set_empty_batch(method):
    # An empty batch is valid input: an empty result, as for the other specs.
    spec = FiniteSet([[0.0, 1.0], [1.0, 0.0]])
    ref = getattr(LinearGaussian([1.0], 2), method)(np.zeros((0, 2)), 0.5)
    out = getattr(spec, method)(np.zeros((0, 2)), 0.5)
    assert out.shape == ref.shape
    assert out.shape[0] == 0


# --------------------------------------------------------------------------------------------
# 3. Jacobian spectral density at tiny μ and t (before: NaN from 0·∞, or ∞ from μ² underflowing)


def _mp_jacobian_density(mu: float, t: float, alpha: float, tau: float) -> float:
    """α ρ_MP(λ) t/μ² with λ = t(1 − μ)/μ, all at DPS digits (one variance level)."""
    with mpmath.workdps(DPS):
        mu_, t_, a_, tau_ = (mpmath.mpf(v) for v in (mu, t, alpha, tau))
        lam = t_ * (1 - mu_) / mu_
        lo, hi = tau_ * (1 - mpmath.sqrt(a_)) ** 2, tau_ * (1 + mpmath.sqrt(a_)) ** 2
        if not lo < lam < hi:
            return 0.0
        rho = mpmath.sqrt((hi - lam) * (lam - lo)) / (2 * mpmath.pi * a_ * tau_ * lam)
        return float(a_ * rho * t_ / mu_**2)


@pytest.mark.parametrize(
    ("mu", "t"),
    [(1e-200, 1.0), (5e-324, 1.0), (1e-200, 1e-200), (3e-300, 1e-300)],
)
def test_jacobian_density_tiny_mu(mu, t):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = jacobian_spectral_density(mu, t, [0.5], [1.0])
    ref = _mp_jacobian_density(mu, t, 0.5, 1.0)
    assert np.isfinite(got)
    assert_allclose(got, ref, rtol=1e-12, atol=0.0)


def test_jacobian_density_beyond_float64():
    # At t = 1e-310 the density near the bulk is about λ²/t ≈ 1e310: not representable.
    ref = _mp_jacobian_density(1e-310, 1e-310, 0.5, 1.0)
    assert ref == INF
    with pytest.raises(ValueError, match=r"^t must be large enough"):
        jacobian_spectral_density(1e-310, 1e-310, [0.5], [1.0])


# --------------------------------------------------------------------------------------------
# 4. Gap peak and window for nearly equal edges (before: √b − √a cancelled)


def _mp_peak(a: float, b: float) -> tuple[float, float]:
    with mpmath.workdps(DPS):
        sa, sb = mpmath.sqrt(mpmath.mpf(a)), mpmath.sqrt(mpmath.mpf(b))
        return float(sa * sb), float((sb - sa) / (sb + sa))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (1.0, 1.000001),
        (1.0, 1.0 + 1e-14),
        (3.7e-5, 3.7000000001e-5),
        (2.5e7, 2.5000000000001e7),
    ],
)
def test_gap_peak_near_equal_edges(a, b):
    ref_t, ref_d = _mp_peak(a, b)
    t_max, d_max = gap_peak(a, b)
    assert_allclose(t_max, ref_t, rtol=2 * EPS)
    assert_allclose(d_max, ref_d, rtol=4 * EPS)


def test_gap_window_none_when_peak_below_delta():
    # The true peak gap is 2.49999874979511e-07 < δ = 2.4999987501076146e-07 (mpmath), so the gap
    # is never wider than δ.
    a, b, delta = 1.0, 1.000001, 2.4999987501076146e-07
    assert _mp_peak(a, b)[1] < delta
    assert gap_window(a, b, delta) is None


@pytest.mark.parametrize(("a", "b"), [(1.0, 1.000001), (1.0, 1.0 + 1e-12), (2.0, 2.00000003)])
@pytest.mark.parametrize("frac", [1e-6, 1e-3, 0.5])
def test_gap_window_near_equal_edges(a, b, frac):
    # δ a fraction below the peak gap: the window exists, and its ends solve Δ(t) = δ at 60 digits
    # (roots of δt² − [(b − a) − δ(a + b)]t + δab). Near the peak the roots move like
    # (Δ_max − δ)^(-1/2) per unit of δ, so their accuracy is about ε/√frac.
    _, d_ref = _mp_peak(a, b)
    delta = d_ref * (1.0 - frac)
    window = gap_window(a, b, delta)
    assert window is not None
    with mpmath.workdps(DPS):
        a_, b_, d_ = mpmath.mpf(a), mpmath.mpf(b), mpmath.mpf(delta)
        lin = (b_ - a_) - d_ * (a_ + b_)
        root = mpmath.sqrt(lin**2 - 4 * d_**2 * a_ * b_)
        ref = [float((lin - root) / (2 * d_)), float((lin + root) / (2 * d_))]
    assert_allclose(window, ref, rtol=16 * EPS / np.sqrt(frac))
    assert_allclose(intermediate_gap(np.array(window), a, b), delta, rtol=1e-6)


# --------------------------------------------------------------------------------------------
# 5. No public module without input checks: the unvalidated closed forms are private


PUBLIC_MODULES = {
    "distributions",
    "graph_surface",
    "rate_ellipse",
    "rate_ness",
    "rate_relaxation",
    "rate_reverse",
    "rate_spheres",
    "scaling",
    "schedules",
    "smoothing",
    "spectra",
    "symbolic",
    "symbolic_smoothing",
}


def test_public_modules():
    public = {m.name for m in pkgutil.iter_modules(theory.__path__) if not m.name.startswith("_")}
    assert public == PUBLIC_MODULES


# --------------------------------------------------------------------------------------------
# 6. Score-matching loss far from the origin at tiny t (before: IntegrationWarning, roundoff)


def _mp_loss(t: float, kappa: float, tau: tuple[float, ...]) -> float:
    """t E_{p_t}(f − s)² for the n-point S-PL-ESF, by mpmath.quad in the line coordinate ξ.

    Written from the definitions: p_t = (1/n) Σ N(τ_j, t), t s = Σ w_k (τ_k − ξ) with softmax
    weights, t f = τ_NN − ξ off the ramps and δ/(Δ_k − δ) (ξ − m_k) on the ramp of gap k.
    """
    with mpmath.workdps(40):
        t_, kap = mpmath.mpf(t), mpmath.mpf(kappa)
        taus = [mpmath.mpf(v) for v in tau]
        rt = mpmath.sqrt(t_)
        delta = kap * rt

        def integrand(xi):
            logits = [-((tk - xi) ** 2) / (2 * t_) for tk in taus]
            top = max(logits)
            w = [mpmath.exp(v - top) for v in logits]
            ts = mpmath.fsum(wk * (tk - xi) for wk, tk in zip(w, taus, strict=True)) / mpmath.fsum(
                w
            )
            tf = min((tk - xi for tk in taus), key=abs)
            for lo, hi in itertools.pairwise(taus):
                m, half = (lo + hi) / 2, (hi - lo) / 2
                if abs(xi - m) < half - delta:
                    tf = delta / (half - delta) * (xi - m)
            dens = mpmath.fsum(mpmath.npdf(xi, tk, rt) for tk in taus) / len(taus)
            return dens * (tf - ts) ** 2 / t_

        reach = kap + 14
        total = 0
        for tk in taus:
            knots = [tk + rt * z for z in (-reach, -kap, 0, kap, reach)]
            total += mpmath.quad(integrand, knots)
        return float(total)


@pytest.mark.parametrize(
    ("t", "kappa", "points"),
    [
        (1e-12, 0.5, [[100.0], [101.0]]),
        (1e-12, 2.0, [[100.0], [101.0]]),
        (1e-16, 1.0, [[0.0], [1.0], [3.0]]),
        (1e-12, 1.0, [[-5.0], [-4.0], [10.0]]),
    ],
)
def test_loss_no_integration_warning(t, kappa, points):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = score_matching_loss(t, kappa, points)
    ref = _mp_loss(t, kappa, tuple(p[0] for p in points))
    assert_allclose(got, ref, rtol=1e-10)
    # The small-t closed form (exact up to e^{-c/t}, here far below rounding).
    tau = np.array(points)[:, 0]
    ratio = kappa * np.sqrt(t) / (np.diff(tau) / 2)
    small_t = np.sum(2 * float(asymptotic_loss(kappa)) / (1 - ratio) ** 2) / tau.size
    assert_allclose(got, small_t, rtol=1e-10)


# --------------------------------------------------------------------------------------------
# 7. Found by the property suite (test_properties.py)


def test_vp_sigma_beyond_float64():
    # σ(t) ≈ e^t leaves float64 at t = log(1.8e308) ≈ 709.78 (before: inf and a RuntimeWarning).
    assert np.isfinite(vp_t_to_ve_sigma(709.0))
    with pytest.raises(ValueError, match=r"^t must be <= 709\.78"):
        vp_t_to_ve_sigma(710.0)


@pytest.mark.parametrize("kappa", [1e50, 1e300])
def test_asymptotic_loss_huge_kappa(kappa):
    # F(κ) = E[(Z − κ)_+²] < 2φ(κ)/κ³ is far below the smallest float64 (before: −0.0 at 1e50 from
    # too few digits, OverflowError at 1e300 from the working precision).
    with mpmath.workdps(DPS):
        k = mpmath.mpf(kappa)
        assert 2 * mpmath.npdf(k) / k**3 < mpmath.mpf("1e-330")
    got = asymptotic_loss(kappa)
    assert got == 0.0 and not np.signbit(got)


def test_interpolating_density_without_mass():
    # At κ = 40 the interpolating mass, about Φ̄(40) ≈ 4e-350, underflows to 0 (before: 0/0 = NaN).
    law = endpoint_law(40.0, 1e-6, [[-1.0], [1.0]])
    assert law.interpolating_mass == 0.0
    assert np.all(np.isfinite(law.density([-0.5, 0.0, 0.5])))
    with pytest.raises(ValueError, match=r"^kappa must leave an interpolating mass > 0"):
        law.interpolating_density(0.0)


def test_vp_score_checks_its_arguments():
    score = LinearGaussian([1.0], 2).score
    with pytest.raises(ValueError, match=r"^score_ve must be a callable"):
        vp_score_from_ve(None)
    with pytest.raises(ValueError, match=r"^x must be a real number"):
        vp_score_from_ve(score)("1.0", 0.5)  # before: the string was parsed as 1.0


def test_manifold_gap_shapes_named():
    with pytest.raises(ValueError, match=r"^t and gamma_minus must broadcast together"):
        manifold_gap(np.ones(2), np.ones(3))


def test_two_levels_an_ulp_apart_are_one_merged_bulk():
    # two poles one float step apart left no point to halve towards (ArithmeticError); the bulks are
    # merged there, and the edges are those of one level with the summed α (Marchenko–Pastur)
    from theory.spectra import jacobian_spectral_density, marchenko_pastur, silverstein_edges

    (edges,) = silverstein_edges([0.01, 0.01], [1.0, np.nextafter(1.0, 2.0)])
    law = marchenko_pastur(0.02, 1.0)
    assert edges == pytest.approx((law.gamma_minus, law.gamma_plus), rel=1e-12)
    assert jacobian_spectral_density(0.0, 1.0, [0.01, 0.01], [1.0, np.nextafter(1.0, 2.0)]) == 0.0
