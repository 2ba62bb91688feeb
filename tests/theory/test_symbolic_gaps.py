"""Tests for the paper001 sympy derivations in theory.symbolic against theory.spectra.

Convention: VE with t = σ², μ = t/(t + λ) an eigenvalue of −tJ, C = F diag(τ) Fᵀ with
F_ij ~ N(0, 1/N). The sympy expressions are checked structurally (sympy.simplify of a difference
is 0) and numerically: turned into functions with ``sympy.lambdify`` on mpmath at 30 digits (so
that the explicit '−' root of the window quadratic, which cancels in float64, is a clean
reference) and compared with the float64 closed forms.
"""

import mpmath
import numpy as np
import pytest
import sympy
from numpy.testing import assert_allclose

from theory import symbolic
from theory.spectra import gap_peak, gap_window, marchenko_pastur, silverstein_edges

DPS = 30
EPS = np.finfo(np.float64).eps

CASES = [
    (0.01795425555344064, 0.3076096564220495),  # paper001 T7 bulks (α = 0.2, 0.2; σ = 1, 0.1)
    (0.1, 0.2),
    (1e-6, 1e3),
    (2.0, 7.5),
]


@pytest.fixture(scope="module")
def peak():
    return symbolic.intermediate_gap_extremum()


@pytest.fixture(scope="module")
def mp_edges():
    return symbolic.marchenko_pastur_edges()


def _mp_eval(expr, symbols, values, dps=DPS):
    f = sympy.lambdify(symbols, expr, "mpmath")
    with mpmath.workdps(dps):
        return f(*[mpmath.mpf(v) for v in values])


class TestIntermediateGapExtremum:
    def test_structure(self, peak):
        a, b, t, delta = peak.a, peak.b, peak.t, peak.delta
        assert sympy.simplify(peak.t_max - sympy.sqrt(a * b)) == 0
        # dΔ/dt vanishes at t_max, and Δ_max is (√b − √a)/(√b + √a).
        assert sympy.simplify(peak.derivative.subs(t, peak.t_max)) == 0
        target = (sympy.sqrt(b) - sympy.sqrt(a)) / (sympy.sqrt(b) + sympy.sqrt(a))
        assert sympy.simplify(peak.delta_max - target) == 0
        # Product of the roots of Δ(t) = δ: t₋ t₊ = ab = t_max² (T8, log-symmetry).
        assert sympy.simplify(peak.root_product - a * b) == 0
        assert sympy.simplify(peak.root_product - peak.t_max**2) == 0
        # Both roots solve Δ(t) = δ.
        for root in (peak.t_minus, peak.t_plus):
            assert sympy.simplify(peak.gap.subs(t, root) - delta) == 0

    @pytest.mark.parametrize(("a", "b"), CASES)
    def test_peak_vs_numeric(self, peak, a, b):
        t_max = _mp_eval(peak.t_max, (peak.a, peak.b), (a, b))
        d_max = _mp_eval(peak.delta_max, (peak.a, peak.b), (a, b))
        got_t, got_d = gap_peak(a, b)
        assert_allclose(got_t, float(t_max), rtol=2 * EPS)
        # √b − √a: rounding of the roots amplified by √b/(√b − √a) (≤ 2.6 in these cases).
        assert_allclose(got_d, float(d_max), rtol=16 * EPS)

    @pytest.mark.parametrize(("a", "b"), CASES)
    @pytest.mark.parametrize("frac", [1e-6, 0.01, 0.5, 0.9, 0.999])
    def test_window_vs_numeric(self, peak, a, b, frac):
        delta = frac * gap_peak(a, b)[1]
        syms = (peak.a, peak.b, peak.delta)
        # The explicit '−' root cancels ~log10((b − a)²/(δ²ab)) digits (21 for a = 1e-6,
        # b = 1e3, δ ~ 1e-6): evaluate at 60 digits.
        ref = [float(_mp_eval(r, syms, (a, b, delta), dps=60)) for r in (peak.t_minus, peak.t_plus)]
        # Near Δ_max the roots coalesce and are √-sensitive to δ: the discriminant, evaluated
        # in factored form, carries a relative error ~ε/(1 − frac) that the square root halves.
        assert_allclose(gap_window(a, b, delta), ref, rtol=1e-13 / np.sqrt(1 - frac))
        product = _mp_eval(peak.root_product, syms, (a, b, delta))
        assert_allclose(float(product), a * b, rtol=2 * EPS)

    def test_plus_root_is_larger(self, peak):
        rng = np.random.default_rng(2410)
        syms = (peak.a, peak.b, peak.delta)
        for _ in range(20):
            a = 10 ** rng.uniform(-4, 2)
            b = a * 10 ** rng.uniform(0.01, 4)
            delta = rng.uniform(0.01, 0.99) * gap_peak(a, b)[1]
            lo = _mp_eval(peak.t_minus, syms, (a, b, delta))
            hi = _mp_eval(peak.t_plus, syms, (a, b, delta))
            assert mpmath.im(lo) == 0 and mpmath.im(hi) == 0
            assert lo < hi


class TestMarchenkoPasturEdges:
    def test_structure(self, mp_edges):
        alpha, tau, m = mp_edges.alpha, mp_edges.tau, mp_edges.m
        s = sympy.sqrt(alpha)
        assert sympy.simplify(mp_edges.gamma_minus - tau * (1 - s) ** 2) == 0
        assert sympy.simplify(mp_edges.gamma_plus - tau * (1 + s) ** 2) == 0
        assert sympy.simplify(mp_edges.m_plus + 1 / (tau * (1 + s))) == 0
        assert sympy.simplify(mp_edges.m_minus + 1 / (tau * (1 - s))) == 0
        dz = sympy.diff(mp_edges.z, m)
        for crit in (mp_edges.m_minus, mp_edges.m_plus):
            assert sympy.simplify(dz.subs(m, crit)) == 0

    @pytest.mark.parametrize(("alpha", "tau"), [(0.4, 1.0), (0.2, 0.01), (0.9, 3.0), (1e-3, 0.5)])
    def test_vs_numeric(self, mp_edges, alpha, tau):
        syms = (mp_edges.alpha, mp_edges.tau)
        lo = float(_mp_eval(mp_edges.gamma_minus, syms, (alpha, tau)))
        hi = float(_mp_eval(mp_edges.gamma_plus, syms, (alpha, tau)))
        mp = marchenko_pastur(alpha, tau)
        ((s_lo, s_hi),) = silverstein_edges([alpha], [tau])
        # 1 − √α amplifies rounding by √α/(1 − √α) (≈ 18 at α = 0.9), doubled by the square.
        amp = 1 + 2 * np.sqrt(alpha) / (1 - np.sqrt(alpha))
        assert_allclose([mp.gamma_minus, s_lo], lo, rtol=16 * amp * EPS)
        assert_allclose([mp.gamma_plus, s_hi], hi, rtol=16 * EPS)
