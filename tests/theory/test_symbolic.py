"""Tests for theory.symbolic: the sympy derivations against the numeric closed forms.

The sympy expressions are turned into functions with ``sympy.lambdify`` (numpy for the Gaussian
Jacobian and the staircase, mpmath at 50 digits for the mixture, whose second derivative of a log
of a sum of exponentials cancels in float64) and compared with theory.distributions and
theory.spectra.
"""

import mpmath
import numpy as np
import pytest
import sympy
from numpy.testing import assert_allclose, assert_array_equal

from theory import symbolic
from theory.distributions import GaussianMixture, LinearGaussian
from theory.spectra import linear_gaussian_singular_values, local_dimension, staircase_steps

DPS = 50
EPS = np.finfo(np.float64).eps


class TestGaussianScoreJacobian:
    @pytest.mark.parametrize(("d", "k"), [(1, 1), (3, 1), (4, 2), (5, 5), (8, 3)])
    def test_vs_linear_gaussian(self, d, k):
        sym = symbolic.gaussian_score_jacobian(d, k)
        jac = sympy.lambdify((sym.x, sym.lambdas, sym.sigma), sym.jacobian, "numpy")
        rng = np.random.default_rng(100 + d * 10 + k)
        for _ in range(5):
            variances = 10.0 ** rng.uniform(-2, 2, size=k)
            sigma = 10.0 ** rng.uniform(-2, 1)
            x = rng.standard_normal(d)
            ref = np.array(jac(x, variances, sigma), dtype=np.float64)
            # Default basis = the first k axes, which is the symbolic eigenbasis. Both sides are
            # −1/(λ + σ²) and −1/σ² in float64, one or two roundings each.
            assert_allclose(
                LinearGaussian(variances, d).jacobian(x, sigma), ref, rtol=1e-14, atol=0
            )

    def test_rotated_basis(self):
        # In any orthonormal basis Q (completed to d×d), J = Q J_eig Qᵀ.
        d, k = 5, 2
        sym = symbolic.gaussian_score_jacobian(d, k)
        jac = sympy.lambdify((sym.x, sym.lambdas, sym.sigma), sym.jacobian, "numpy")
        q, _ = np.linalg.qr(np.random.default_rng(101).standard_normal((d, d)))
        variances, sigma = np.array([3.0, 0.4]), 0.6
        ref = q @ np.array(jac(np.zeros(d), variances, sigma), dtype=np.float64) @ q.T
        got = LinearGaussian(variances, d, basis=q[:, :k]).jacobian(np.zeros(d), sigma)
        # Two orthogonal changes of basis: O(dε) of ‖J‖₂ = 1/σ².
        assert_allclose(got, ref, rtol=0, atol=64 * d * EPS / sigma**2)

    def test_structure(self):
        sym = symbolic.gaussian_score_jacobian(4, 2)
        jac = sym.jacobian
        assert jac.shape == (4, 4)
        assert jac == jac.T
        assert jac.is_diagonal()
        assert all(sympy.diff(jac, xi).is_zero_matrix for xi in sym.x)  # constant in x
        # −J⁻¹ is the noised covariance diag(λ₁+σ², λ₂+σ², σ², σ²).
        lam1, lam2 = sym.lambdas
        s2 = sym.sigma**2
        cov = sympy.diag(lam1 + s2, lam2 + s2, s2, s2)
        assert sympy.simplify(-jac.inv() - cov).is_zero_matrix

    @pytest.mark.parametrize("sigma", [0.05, 0.7, 4.0])
    def test_eigenvalues_vs_spectra(self, sigma):
        sym = symbolic.gaussian_score_jacobian(8, 3)
        variances = [4.0, 1.0, 0.25]
        eig = sympy.lambdify((sym.lambdas, sym.sigma), list(sym.jacobian.eigenvals(multiple=True)))
        sv = np.sort(-np.array(eig(variances, sigma), dtype=np.float64))[::-1]
        assert_allclose(sv, linear_gaussian_singular_values(variances, 8, sigma), rtol=1e-15)

    @pytest.mark.parametrize(
        ("d", "k", "match"),
        [
            (0, 1, "d must"),
            (2.5, 1, "d must"),
            (3, 0, "k must"),
            (3, 4, "k must"),
            (3, 1.5, "k must"),
        ],
    )
    def test_bad_input(self, d, k, match):
        with pytest.raises(ValueError, match=match):
            symbolic.gaussian_score_jacobian(d, k)


class TestStaircaseThreshold:
    def test_threshold_is_one_over_c_minus_one_sigma_squared(self):
        th = symbolic.staircase_threshold()
        lam, sigma, c = th.lam, th.sigma, th.c
        assert sympy.simplify(th.lambda_threshold - (1 / c - 1) * sigma**2) == 0
        assert sympy.simplify(th.normalised.subs(lam, th.lambda_threshold) - c) == 0
        assert sympy.simplify(th.singular_value - 1 / (lam + sigma**2)) == 0

    def test_direction_of_inequality(self):
        # σ²s decreases in λ, so σ²s < c exactly when λ exceeds the threshold.
        th = symbolic.staircase_threshold()
        assert sympy.diff(th.normalised, th.lam).is_negative

    def test_step_solves_equation(self):
        th = symbolic.staircase_threshold()
        lam, sigma, c = th.lam, th.sigma, th.c
        assert sympy.simplify(th.normalised.subs(sigma, th.sigma_step) - c) == 0
        assert sympy.simplify(th.sigma_step**2 - lam / (1 / c - 1)) == 0
        assert sympy.simplify(th.shift_factor**2 - 1 / (1 / c - 1)) == 0
        # Positive for 0 < c < 1 (the branch of the square root), e.g. at c = 1/2, λ = 1:
        assert th.sigma_step.subs({lam: 1, c: sympy.Rational(1, 2)}) == 1

    @pytest.mark.parametrize("c", [0.1, 0.25, 0.5, 0.75, 0.9])
    def test_sigma_step_vs_staircase_steps(self, c):
        th = symbolic.staircase_threshold()
        step = sympy.lambdify((th.lam, th.c), th.sigma_step, "numpy")
        variances = np.array([4.0, 1.0, 0.25, 0.0625, 7.3, 0.011])
        # Both sides evaluate √(λ c / (1 − c)) in a different order: a few roundings, the one of
        # 1/c or c − 1 amplified by 1/(1 − c) ≤ 10 and halved by the square root.
        assert_allclose(
            staircase_steps(variances, c), np.sort(step(variances, c))[::-1], rtol=4e-15
        )

    @pytest.mark.parametrize("c", [0.25, 0.5, 0.75])
    def test_threshold_counts_local_dimension(self, c):
        th = symbolic.staircase_threshold()
        threshold = sympy.lambdify((th.sigma, th.c), th.lambda_threshold, "numpy")
        variances = np.array([4.0, 1.0, 0.25, 0.0625])
        steps = np.sqrt(variances / (1 / c - 1))
        sigmas = [s for s in np.geomspace(0.01, 20.0, 60) if np.all(np.abs(s / steps - 1) > 0.01)]
        counts = [int(np.sum(variances > threshold(s, c))) for s in sigmas]
        assert_array_equal(local_dimension(variances, np.array(sigmas), c), counts)

    def test_shift_factor_vs_spectra(self):
        th = symbolic.staircase_threshold()
        shift = sympy.lambdify(th.c, th.shift_factor, "numpy")
        for c in (0.2, 0.6, 0.85):
            ratio = staircase_steps([2.0], c) / np.sqrt(2.0)
            assert_allclose(ratio, shift(c), rtol=4e-15)


# The 1-D two-component mixture, compared at 50 digits: the float64 side is the closed form
# J = −Σ w_k/c_k + Σ w_k (s_k − s)² of theory._scores.mixture_fields.
MIXTURE_CASES = [
    # (pi, m1, m2, v1, v2, sigma, x values)
    (0.3, -1.0, 2.0, 0.5, 1.5, 0.4, [-3.0, -1.0, 0.3, 0.7, 2.5, 6.0]),
    (0.5, 0.0, 1.0, 0.0, 0.0, 0.2, [-0.4, 0.5, 0.55, 1.3]),  # two point masses
    (0.8, 0.5, -0.5, 2.0, 0.0, 0.05, [-0.6, -0.5, 0.0, 0.4, 3.0]),  # Gaussian + point mass
    (0.1, -2.0, 2.0, 1.0, 1.0, 1.0, [-5.0, 0.0, 0.01, 4.0]),
]


def _mp_mixture_fields():
    sym = symbolic.mixture_score_jacobian_1d()
    args = (sym.x, sym.pi, sym.m1, sym.m2, sym.v1, sym.v2, sym.sigma)
    return tuple(
        sympy.lambdify(args, expr, "mpmath") for expr in (sym.log_density, sym.score, sym.jacobian)
    )


class TestMixtureScoreJacobian1d:
    @pytest.mark.parametrize(("pi", "m1", "m2", "v1", "v2", "sigma", "xs"), MIXTURE_CASES)
    def test_vs_gaussian_mixture(self, pi, m1, m2, v1, v2, sigma, xs):
        log_p, score, jac = _mp_mixture_fields()
        gm = GaussianMixture([pi, 1 - pi], [[m1], [m2]], [[[v1]], [[v2]]])
        x = np.array(xs)[:, None]
        with mpmath.workdps(DPS):
            args = [mpmath.mpf(a) for a in (pi, m1, m2, v1, v2, sigma)]
            ref = [[float(f(mpmath.mpf(xi), *args)) for xi in xs] for f in (log_p, score, jac)]
        assert_allclose(gm.log_density(x, sigma), ref[0], rtol=1e-13)
        # Score and Jacobian are sums of terms of size |x − m_k|/c_k and (|Δm|/c_k)² that can
        # cancel (between the modes the Jacobian changes sign): relative 1e-12 with a floor at
        # 1e-12 of those term sizes, c_k = v_k + σ².
        c_min = min(v1, v2) + sigma**2
        scale_s = (np.max(np.abs(np.array(xs)[:, None] - [m1, m2])) + 1.0) / c_min
        assert_allclose(gm.score(x, sigma)[:, 0], ref[1], rtol=1e-12, atol=1e-12 * scale_s)
        assert_allclose(gm.jacobian(x, sigma)[:, 0, 0], ref[2], rtol=1e-12, atol=1e-12 * scale_s**2)

    @pytest.mark.parametrize(("pi", "m1", "m2", "v1", "v2", "sigma", "xs"), MIXTURE_CASES[:2])
    def test_paper_closed_form_at_50_digits(self, pi, m1, m2, v1, v2, sigma, xs):
        # paper000 §1.4: J = Σ_k w_k(−1/c_k) + Σ_k w_k s_k² − s², with s_k = −(x − m_k)/c_k and
        # posterior weights w_k; the sympy second derivative must agree to ~50 digits.
        _, _, jac = _mp_mixture_fields()
        with mpmath.workdps(DPS):
            pi, m1, m2, v1, v2, sigma = (mpmath.mpf(a) for a in (pi, m1, m2, v1, v2, sigma))
            c = (v1 + sigma**2, v2 + sigma**2)
            for xi in map(mpmath.mpf, xs):
                dens = [
                    w * mpmath.npdf(xi, m, mpmath.sqrt(ck))
                    for w, m, ck in zip((pi, 1 - pi), (m1, m2), c, strict=True)
                ]
                w = [p / sum(dens) for p in dens]
                s_k = [-(xi - m) / ck for m, ck in zip((m1, m2), c, strict=True)]
                s = sum(wk * sk for wk, sk in zip(w, s_k, strict=True))
                closed = (
                    sum(wk * (-1 / ck + sk**2) for wk, ck, sk in zip(w, c, s_k, strict=True)) - s**2
                )
                got = jac(xi, pi, m1, m2, v1, v2, sigma)
                assert abs(got - closed) <= mpmath.mpf(10) ** (-40) * (1 + abs(closed))

    def test_symbols(self):
        sym = symbolic.mixture_score_jacobian_1d()
        assert sym.pi.name != "pi"  # a symbol named pi would shadow π in lambdify
        assert sym.sigma.is_positive and sym.v1.is_nonnegative and sym.x.is_real
