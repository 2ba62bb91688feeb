"""Tests for theory.spectra: closed-form Jacobian spectra and the D1 local-dimension staircase.

References: the numerical SVD of the exact Jacobian (LinearGaussian.jacobian with a random
orthonormal basis), exact rational arithmetic (fractions), counting on that SVD, bisection on σ of
``local_dimension``, and mpmath at 50 digits for the c-shift factor. The T-A0 / T-A5 staircase
values are the ones stated in research/paper000_constrained_mixing.md §6.
"""

from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from theory.distributions import LinearGaussian
from theory.spectra import linear_gaussian_singular_values, local_dimension, staircase_steps

EPS = np.finfo(np.float64).eps
T_A0 = {"variances": [4.0, 1.0, 0.25], "d": 8}  # paper000 §6 T-A0
T_A5 = {"variances": [4.0, 1.0, 0.25, 0.0625], "d": 8}  # paper000 §6 T-A5


def _orthonormal(d, k, seed):
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, k)))
    return q


def _svd_of_exact_jacobian(variances, d, sigma, seed=0):
    lg = LinearGaussian(variances, d, basis=_orthonormal(d, len(variances), seed))
    return np.linalg.svd(lg.jacobian(np.zeros(d), sigma), compute_uv=False)


class TestLinearGaussianSingularValues:
    @pytest.mark.parametrize(
        ("variances", "d", "sigma"),
        [
            ([4.0, 1.0, 0.25], 8, 0.3),
            ([4.0, 1.0, 0.25], 8, 1.7),
            ([2.0], 2, 0.05),
            ([0.5, 3.0, 1e-2, 7.0], 6, 0.2),
            ([1.0, 2.0], 2, 0.8),  # k = d: no normal directions
        ],
    )
    def test_vs_svd_of_jacobian(self, variances, d, sigma):
        sv = linear_gaussian_singular_values(variances, d, sigma)
        # The SVD is backward stable and J carries O(dε)/σ² rounding (see test_distributions):
        # singular values agree to ≲ 64·d·ε/σ² absolute (Weyl).
        ref = _svd_of_exact_jacobian(variances, d, sigma)
        assert_allclose(sv, ref, rtol=1e-13, atol=64 * d * EPS / sigma**2)

    @pytest.mark.parametrize(
        ("variances", "d", "sigma"),
        [([4.0, 1.0, 0.25], 8, 0.5), ([4.0, 1.0, 0.25], 8, 3.0), ([0.1, 10.0], 3, 0.125)],
    )
    def test_exact_rationals(self, variances, d, sigma):
        # {1/σ²}×(d−k) ∪ {1/(λ_j + σ²)} in exact rational arithmetic, sorted decreasingly.
        s2 = Fraction(sigma) ** 2
        ref = sorted([1 / s2] * (d - len(variances)) + [1 / (Fraction(v) + s2) for v in variances])
        sv = linear_gaussian_singular_values(variances, d, sigma)
        assert_allclose(sv, [float(r) for r in reversed(ref)], rtol=1e-15, atol=0)

    def test_t_a0_values(self):
        # paper000 T-A0 at σ = 0.5: five normal values 1/σ² = 4, tangent 1/(λ+σ²) = 2, 0.8, 4/17.
        sv = linear_gaussian_singular_values(**T_A0, sigma=0.5)
        assert_allclose(sv, [4.0] * 5 + [2.0, 0.8, 4.0 / 17.0], rtol=1e-15)

    def test_shape_and_order(self):
        sigma = np.array([[0.1, 0.5, 1.0], [2.0, 3.0, 10.0]])
        sv = linear_gaussian_singular_values([4.0, 1.0, 0.25], 5, sigma)
        assert sv.shape == (2, 3, 5)
        assert np.all(np.diff(sv, axis=-1) <= 0)
        for idx in np.ndindex(sigma.shape):
            assert_array_equal(
                sv[idx], linear_gaussian_singular_values([4.0, 1.0, 0.25], 5, sigma[idx])
            )

    @pytest.mark.parametrize(
        ("variances", "d", "sigma", "match"),
        [
            ([1.0, 1.0, 1.0], 2, 0.5, "d must be an integer >= k"),
            ([1.0], 2.5, 0.5, "d must be an integer >= k"),
            ([1.0, 0.0], 3, 0.5, "variances must be > 0"),
            ([1.0, -1.0], 3, 0.5, "variances must be > 0"),
            ([], 3, 0.5, "variances must be a non-empty 1-D array"),
            ([[1.0]], 3, 0.5, "variances must be a non-empty 1-D array"),
            ([1.0, np.nan], 3, 0.5, "variances must be finite"),
            ([1.0], 3, 0.0, "sigma must be > 0"),
            ([1.0], 3, [0.5, -0.5], "sigma must be > 0"),
            ([1.0], 3, np.nan, "sigma must be finite"),
        ],
    )
    def test_bad_input(self, variances, d, sigma, match):
        with pytest.raises(ValueError, match=match):
            linear_gaussian_singular_values(variances, d, sigma)


def _count_on_svd(variances, d, sigma, c):
    """D1 by definition on the exact Jacobian: #{i : σ² s_i < c} over its numerical SVD."""
    return int(np.sum(sigma**2 * _svd_of_exact_jacobian(variances, d, sigma) < c))


def _away_from_steps(variances, c, sigmas, margin=0.01):
    steps = np.sqrt(np.asarray(variances) / (1.0 / c - 1.0))
    return [s for s in sigmas if np.all(np.abs(s / steps - 1.0) > margin)]


class TestLocalDimension:
    @pytest.mark.parametrize("c", [0.25, 0.5, 0.75])
    @pytest.mark.parametrize("case", [T_A0, T_A5, {"variances": [3.0, 0.02, 0.7], "d": 5}])
    def test_vs_counting_on_spectrum(self, c, case):
        # σ 1% or more away from a step, where rounding cannot flip a comparison.
        sigmas = _away_from_steps(case["variances"], c, np.geomspace(0.02, 20.0, 41))
        measured = [_count_on_svd(case["variances"], case["d"], s, c) for s in sigmas]
        assert_array_equal(local_dimension(case["variances"], np.array(sigmas), c), measured)

    @pytest.mark.parametrize(
        ("sigma", "d_loc"),
        [
            (0.05, 3),
            (0.3, 3),
            (0.45, 3),
            (0.55, 2),
            (0.9, 2),
            (1.1, 1),
            (1.8, 1),
            (2.2, 0),
            (10.0, 0),
        ],
    )
    def test_t_a0(self, sigma, d_loc):
        # paper000 §6 T-A0 (c = 1/2): 3 for σ < 0.5, 2 for 0.5 < σ < 1, 1 for 1 < σ < 2,
        # 0 for σ > 2.
        assert local_dimension(T_A0["variances"], sigma) == d_loc
        assert _count_on_svd(T_A0["variances"], T_A0["d"], sigma, 0.5) == d_loc

    def test_at_exact_steps(self):
        # D1 counts σ²s < c strictly, so at σ = σ_j itself (σ²s_j = c) direction j is not counted.
        # With c = 1/2 and λ = (4, 1, 0.25) everything here is exact in binary: σ² = λ_j.
        assert_array_equal(local_dimension(T_A0["variances"], np.array([0.5, 1.0, 2.0])), [2, 1, 0])

    def test_shape_and_dtype(self):
        sigma = np.array([[0.3, 0.7], [1.5, 3.0]])
        d_loc = local_dimension(T_A0["variances"], sigma)
        assert d_loc.shape == (2, 2)
        assert np.issubdtype(d_loc.dtype, np.integer)
        assert_array_equal(d_loc, [[3, 2], [1, 0]])

    @settings(deadline=None, max_examples=50)
    @given(
        variances=st.lists(st.floats(1e-3, 1e3), min_size=1, max_size=5),
        c=st.floats(0.01, 0.99),
    )
    def test_non_increasing_in_sigma(self, variances, c):
        d_loc = local_dimension(variances, np.geomspace(1e-3, 1e3, 200), c)
        assert d_loc[0] <= len(variances)
        assert np.all(np.diff(d_loc) <= 0)

    @pytest.mark.parametrize(
        ("variances", "sigma", "c", "match"),
        [
            ([1.0], 0.5, 0.0, "c must lie in"),
            ([1.0], 0.5, 1.0, "c must lie in"),
            ([1.0], 0.5, -0.5, "c must lie in"),
            ([1.0], 0.5, 1.5, "c must lie in"),
            ([1.0], 0.5, np.nan, "c must be finite"),
            ([1.0], 0.0, 0.5, "sigma must be > 0"),
            ([1.0], -1.0, 0.5, "sigma must be > 0"),
            ([0.0], 0.5, 0.5, "variances must be > 0"),
            ([], 0.5, 0.5, "variances must be a non-empty 1-D array"),
        ],
    )
    def test_bad_input(self, variances, sigma, c, match):
        with pytest.raises(ValueError, match=match):
            local_dimension(variances, sigma, c)


def _bisect_drop(variances, c, lo, hi):
    """Smallest σ (to one ulp) at which local_dimension is below its value at ``lo``."""
    target = local_dimension(variances, lo, c)
    assert local_dimension(variances, hi, c) < target
    while np.nextafter(lo, hi) < hi:
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        if local_dimension(variances, mid, c) == target:
            lo = mid
        else:
            hi = mid
    return hi


class TestStaircaseSteps:
    @pytest.mark.parametrize("c", [0.1, 0.25, 0.5, 0.75, 0.9])
    @pytest.mark.parametrize("variances", [T_A0["variances"], T_A5["variances"], [0.3, 5.0, 0.02]])
    def test_vs_bisection_on_local_dimension(self, variances, c):
        steps = staircase_steps(variances, c)
        found = []
        # Bracket every step between neighbouring geometric midpoints, then bisect to one ulp.
        edges = np.concatenate([[steps[0] * 4], np.sqrt(steps[:-1] * steps[1:]), [steps[-1] / 4]])
        for j in range(len(steps)):
            found.append(_bisect_drop(variances, c, edges[j + 1], edges[j]))
        # The comparison λ > (1/c − 1)σ² flips within a few ulp of σ_j: the rounding of 1/c is
        # amplified by 1/(1 − c) ≤ 10 in 1/c − 1, then halved by the square root, plus the
        # roundings of σ², the product and the bisection itself (1 ulp): ≲ 16 ulp of σ.
        assert_allclose(found, steps, rtol=16 * EPS, atol=0)

    @pytest.mark.parametrize("c", [0.1, 0.25, 0.75, 0.9, 1.0 / 3.0])
    def test_c_shift_factor(self, c):
        # Changing c from 1/2 moves every step by (1/c − 1)^{-1/2}; at 50 digits:
        with mpmath.workdps(50):
            factor = float(1 / mpmath.sqrt(1 / mpmath.mpf(c) - 1))
        ratio = staircase_steps(T_A5["variances"], c) / staircase_steps(T_A5["variances"], 0.5)
        # The rounding of 1/c is amplified by 1/(1 − c) ≤ 10 in 1/c − 1 and halved by the square
        # root (≲ 2.5 ε), plus a few more roundings in each of the two steps and the ratio.
        assert_allclose(ratio, factor, rtol=4e-15)

    @pytest.mark.parametrize("c", [0.2, 0.5, 0.8])
    def test_mpmath(self, c):
        # σ_j = √λ_j (1/c − 1)^{-1/2} at 50 digits.
        variances = [4.0, 0.3, 17.0]
        with mpmath.workdps(50):
            ref = [float(mpmath.sqrt(mpmath.mpf(v) / (1 / mpmath.mpf(c) - 1))) for v in variances]
        # 1/c − 1 amplifies the rounding of 1/c by 1/(1 − c) ≤ 5 here; sqrt halves it: ≲ 2 ε.
        assert_allclose(staircase_steps(variances, c), sorted(ref, reverse=True), rtol=1e-15)

    def test_t_a0_and_t_a5(self):
        # paper000 §6: steps of D1 (c = 1/2) at σ = √λ_j.
        assert_array_equal(staircase_steps(T_A0["variances"]), [2.0, 1.0, 0.5])
        assert_array_equal(staircase_steps(T_A5["variances"]), [2.0, 1.0, 0.5, 0.25])

    def test_decreasing_for_unsorted_input(self):
        steps = staircase_steps([0.25, 4.0, 1.0], 0.5)
        assert_array_equal(steps, [2.0, 1.0, 0.5])

    def test_plateaus(self):
        # d_loc = j on (σ_{j+1}, σ_j): check at the geometric midpoints of consecutive steps.
        steps = staircase_steps(T_A5["variances"], 0.3)
        mids = np.sqrt(steps[:-1] * steps[1:])
        assert_array_equal(local_dimension(T_A5["variances"], mids, 0.3), [1, 2, 3])

    @pytest.mark.parametrize(
        ("variances", "c", "match"),
        [
            ([1.0], 0.0, "c must lie in"),
            ([1.0], 1.0, "c must lie in"),
            ([1.0, -1.0], 0.5, "variances must be > 0"),
            ([np.inf], 0.5, "variances must be finite"),
            ([], 0.5, "variances must be a non-empty 1-D array"),
        ],
    )
    def test_bad_input(self, variances, c, match):
        with pytest.raises(ValueError, match=match):
            staircase_steps(variances, c)
