r"""Jacobian diagnostics (paper000 §2.2–§2.4, readings [R]) on matrices with known answers.

References do not go through the code under test: the D1 staircase comes from
:func:`theory.spectra.local_dimension` (a comparison of variances, no singular values); D2–D4 from
spectra built from chosen effective variances :math:`\hat\lambda_i`, with the answer worked out by
hand; asymmetry and overlap values from matrices assembled block by block in a known rotated basis,
where the Frobenius norms are written down directly.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from empirical.metrics import (
    antisymmetry_ratio,
    block_antisymmetry,
    circulation,
    local_dimension_d1,
    local_dimension_d2,
    local_dimension_d3,
    local_dimension_d4,
    nonconservativeness_n1,
    normal_alignment,
    normal_projection_error,
    pair_alignment,
    singular_pairs,
    subspace_overlap,
    tangent_features,
)
from theory.distributions import LinearGaussian
from theory.spectra import local_dimension


@pytest.fixture
def rng():
    return np.random.default_rng(20240612)


def _orthogonal(rng, d):
    return np.linalg.qr(rng.standard_normal((d, d)))[0]


def _spectrum(lam_hat, sigma):
    """Singular values, sorted decreasing, whose effective variances 1/s − σ² are ``lam_hat``."""
    variances = np.asarray(lam_hat, dtype=float) + sigma**2
    assert np.all(variances > 0)
    return np.sort(1.0 / variances)[::-1]


def _rotation(theta):
    c, s = np.cos(theta), np.sin(theta)
    return np.array([[c, -s], [s, c]])


def _linear_gaussian(rng, variances=(4.0, 1.0, 0.25), d=8):
    return LinearGaussian(list(variances), d, basis=_orthogonal(rng, d)[:, : len(variances)])


# --------------------------------------------------------------------------------------------
# Local dimension


class TestLocalDimensionD1:
    @settings(max_examples=80, deadline=None)
    @given(
        variances=st.lists(st.floats(1e-2, 1e2), min_size=1, max_size=5),
        extra=st.integers(0, 3),
        sigma=st.floats(0.05, 10.0),
        c=st.floats(0.1, 0.9),
        seed=st.integers(0, 2**32 - 1),
    )
    def test_reproduces_theory_staircase(self, variances, extra, sigma, c, seed):
        lam = np.array(variances)
        step = (1.0 / c - 1.0) * sigma**2  # D1 counts λ_j > step
        assume(np.all(np.abs(lam - step) > 1e-6 * np.maximum(lam, step)))  # away from exact ties
        rng = np.random.default_rng(seed)
        spec = _linear_gaussian(rng, lam, lam.size + extra)
        jac = spec.jacobian(rng.standard_normal((3, spec.d)), sigma)
        s = np.linalg.svd(jac, compute_uv=False)
        got = local_dimension_d1(s, sigma, c)
        assert got.dtype.kind == "i"
        np.testing.assert_array_equal(got, local_dimension(lam, sigma, c))

    def test_t_a0_values_with_sigma_per_point(self, rng):
        # paper000 T-A0: λ = (4, 1, 0.25), c = 1/2: 3 for σ < 0.5, 2 up to 1, 1 up to 2, then 0.
        spec = _linear_gaussian(rng)
        sigma = np.array([0.3, 0.7, 1.5, 3.0])
        s = np.linalg.svd(spec.jacobian(rng.standard_normal((4, 8)), sigma), compute_uv=False)
        np.testing.assert_array_equal(local_dimension_d1(s, sigma), [3, 2, 1, 0])


class TestLocalDimensionD2:
    # σ = 0.5; effective variances 4, 1, 0.25, 0.01, 0 (a normal direction) and −0.05 (stiffer
    # than the noise).
    LAM_HAT = (4.0, 1.0, 0.25, 0.01, 0.0, -0.05)

    @pytest.mark.parametrize(
        ("kwargs", "expected"),
        [
            ({"eps_abs": 0.1}, 3),
            ({"eps_abs": 0.005}, 4),
            ({"eps_abs": 5.0}, 0),
            ({"rho": 0.1}, 2),  # > 0.4
            ({"rho": 0.01}, 3),  # > 0.04
            ({"rho": 0.001}, 4),  # > 0.004
        ],
    )
    def test_constructed_spectrum(self, kwargs, expected):
        s = _spectrum(self.LAM_HAT, 0.5)[None]
        np.testing.assert_array_equal(local_dimension_d2(s, 0.5, **kwargs), [expected])

    def test_batched_sigma(self):
        s = np.stack([_spectrum([2.0, 0.3, 0.0], 0.2), _spectrum([2.0, 0.3, 0.0], 1.0)])
        np.testing.assert_array_equal(local_dimension_d2(s, [0.2, 1.0], eps_abs=0.1), [2, 2])
        np.testing.assert_array_equal(local_dimension_d2(s, [0.2, 1.0], rho=0.5), [1, 1])

    def test_no_positive_variance_gives_zero(self):
        s = _spectrum([0.0, -0.1, -0.2], 1.0)[None]
        np.testing.assert_array_equal(local_dimension_d2(s, 1.0, rho=0.5), [0])
        np.testing.assert_array_equal(local_dimension_d2(s, 1.0, eps_abs=1e-6), [0])

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({}, "exactly one"),
            ({"eps_abs": 0.1, "rho": 0.5}, "exactly one"),
            ({"eps_abs": 0.0}, "^eps_abs"),
            ({"eps_abs": np.nan}, "^eps_abs"),
            ({"rho": 0.0}, "^rho"),
            ({"rho": 1.0}, "^rho"),
        ],
    )
    def test_bad_threshold_raises(self, kwargs, match):
        with pytest.raises(ValueError, match=match):
            local_dimension_d2(_spectrum([1.0, 0.0], 0.5)[None], 0.5, **kwargs)

    def test_zero_singular_value_raises(self):
        with pytest.raises(ValueError, match=r"^singular_values"):
            local_dimension_d2(np.array([[2.0, 0.0]]), 0.5, eps_abs=0.1)


class TestLocalDimensionD3:
    # λ̂ = 6, 3, 1, 0, −0.1: positive total 10, partial sums 0.6, 0.9, 1.0.
    LAM_HAT = (6.0, 3.0, 1.0, 0.0, -0.1)

    @pytest.mark.parametrize(("fraction", "expected"), [(0.5, 1), (0.85, 2), (0.95, 3), (1.0, 3)])
    def test_constructed_spectrum(self, fraction, expected):
        s = _spectrum(self.LAM_HAT, 0.5)[None]
        np.testing.assert_array_equal(local_dimension_d3(s, 0.5, fraction), [expected])

    def test_default_fraction_and_no_positive_variance(self):
        s = np.stack([_spectrum([8.0, 1.5, 0.5], 0.4), _spectrum([0.0, -0.01, -0.1], 0.4)])
        # partial sums 0.8, 0.95, 1.0: 0.9 is reached at m = 2; the second row has nothing > 0
        np.testing.assert_array_equal(local_dimension_d3(s, 0.4), [2, 0])

    @pytest.mark.parametrize("fraction", [0.0, 1.5, np.nan])
    def test_bad_fraction_raises(self, fraction):
        with pytest.raises(ValueError, match=r"^fraction"):
            local_dimension_d3(_spectrum([1.0, 0.0], 0.5)[None], 0.5, fraction)


class TestLocalDimensionD4:
    def test_constructed_spectrum(self):
        # log-gaps 0.105, 0.118, 4.38, 0.105: the largest is after rank 3, so d − 3 = 2
        s = np.array([[100.0, 90.0, 80.0, 1.0, 0.9]])
        np.testing.assert_array_equal(local_dimension_d4(s), [2])

    def test_tie_goes_to_smallest_rank(self):
        # gaps log 2, 0, log 2 (exactly equal in binary): rank 1 wins, d_loc = 4 − 1
        np.testing.assert_array_equal(local_dimension_d4(np.array([[4.0, 2.0, 2.0, 1.0]])), [3])

    def test_manifold_gap_of_linear_gaussian(self, rng):
        # σ = 0.05 ≪ all √λ: normal 400 vs tangent ≤ 4, the manifold gap is the largest: d_loc = k
        spec = _linear_gaussian(rng)
        s = np.linalg.svd(spec.jacobian(rng.standard_normal((2, 8)), 0.05), compute_uv=False)
        np.testing.assert_array_equal(local_dimension_d4(s), [3, 3])

    @pytest.mark.parametrize("s", [np.array([[1.0]]), np.array([[2.0, 1.0, 0.0]])])
    def test_bad_spectrum_raises(self, s):
        with pytest.raises(ValueError, match=r"^singular_values"):
            local_dimension_d4(s)


@pytest.mark.parametrize(
    ("s", "sigma", "match"),
    [
        (np.array([1.0, 0.5]), 0.5, "^singular_values"),  # not batched
        (np.array([[0.5, 1.0]]), 0.5, "^singular_values"),  # increasing
        (np.array([[1.0, -0.5]]), 0.5, "^singular_values"),  # negative
        (np.array([[1.0, np.nan]]), 0.5, "^singular_values"),
        (np.array([[1.0, 0.5]]), 0.0, "^sigma"),
        (np.array([[1.0, 0.5]]), -1.0, "^sigma"),
        (np.array([[1.0, 0.5]]), np.nan, "^sigma"),
        (np.array([[1.0, 0.5]]), [0.5, 0.5], "^sigma"),
    ],
)
@pytest.mark.parametrize(
    "rule",
    [
        local_dimension_d1,
        lambda s, sigma: local_dimension_d2(s, sigma, eps_abs=0.1),
        local_dimension_d3,
    ],
    ids=["D1", "D2", "D3"],
)
def test_local_dimension_bad_input_raises(rule, s, sigma, match):
    with pytest.raises(ValueError, match=match):
        rule(s, sigma)


@pytest.mark.parametrize("c", [0.0, 1.0, 1.5, np.nan])
def test_d1_bad_c_raises(c):
    with pytest.raises(ValueError, match=r"^c "):
        local_dimension_d1(np.array([[1.0, 0.5]]), 0.5, c)


# --------------------------------------------------------------------------------------------
# Non-conservativeness


class TestAntisymmetryRatio:
    def test_symmetric_is_zero(self, rng):
        m = rng.standard_normal((4, 5, 5))
        np.testing.assert_array_equal(antisymmetry_ratio(m + np.swapaxes(m, 1, 2)), np.zeros(4))

    def test_antisymmetric_is_one(self, rng):
        m = rng.standard_normal((4, 5, 5))
        np.testing.assert_allclose(antisymmetry_ratio(m - np.swapaxes(m, 1, 2)), 1.0, rtol=1e-14)

    def test_known_value(self):
        # J = [[1, 2], [0, 1]]: A has ±1 off the diagonal, ‖A‖² = 2, ‖J‖² = 6
        np.testing.assert_allclose(
            antisymmetry_ratio(np.array([[[1.0, 2.0], [0.0, 1.0]]])), [np.sqrt(1 / 3)], rtol=1e-15
        )

    @pytest.mark.parametrize(
        "jac",
        [np.zeros((2, 3, 3)), np.ones((3, 3)), np.ones((2, 3, 4)), np.full((1, 2, 2), np.nan)],
        ids=["zero_matrix", "not_batched", "not_square", "nan"],
    )
    def test_bad_input_raises(self, jac):
        with pytest.raises(ValueError, match=r"^J"):
            antisymmetry_ratio(jac)


class TestSingularPairs:
    def test_decomposition(self, rng):
        jac = rng.standard_normal((3, 4, 4))
        s, u, v = singular_pairs(jac)
        assert np.all(np.diff(s, axis=1) <= 0)
        np.testing.assert_allclose((u * s[:, None, :]) @ np.swapaxes(v, 1, 2), jac, atol=1e-13)
        np.testing.assert_allclose(jac @ v, u * s[:, None, :], atol=1e-13)  # J v_i = s_i u_i

    def test_gaussian_pairs_are_opposite_even_when_degenerate(self, rng):
        # Negative definite symmetric J with repeated singular values: 5-fold normal block 1/σ²,
        # and a tangent block with two equal variances. u_i = J v_i / s_i = −v_i regardless.
        spec = _linear_gaussian(rng, (2.0, 2.0, 0.5), 8)
        jac = spec.jacobian(rng.standard_normal((3, 8)), 0.3)
        np.testing.assert_allclose(pair_alignment(jac), -1.0, rtol=0, atol=1e-12)
        np.testing.assert_allclose(nonconservativeness_n1(jac), 0.0, rtol=0, atol=1e-12)

    def test_convex_pairs_are_aligned(self, rng):
        q = _orthogonal(rng, 4)
        jac = (q * np.array([5.0, 3.0, 2.0, 1.0])) @ q.T
        np.testing.assert_allclose(pair_alignment(jac[None]), 1.0, rtol=0, atol=1e-12)

    @pytest.mark.parametrize("theta", [0.3, 2.5])
    def test_rotated_field(self, theta):
        # J = R(θ) diag(3, 1): SVD with U = R(θ), V = I, so u_i·v_i = cos θ on both ranks
        jac = (_rotation(theta) @ np.diag([3.0, 1.0]))[None]
        np.testing.assert_allclose(pair_alignment(jac), [[np.cos(theta)] * 2], atol=1e-14)
        np.testing.assert_allclose(
            nonconservativeness_n1(jac), [[1 - abs(np.cos(theta))] * 2], atol=1e-14
        )


class TestBlockAntisymmetry:
    # In the basis [Q_T | Q_N] (k = 2, d = 5):
    #   S_TT = diag(3, 4), ‖S_TT‖ = 5;    A_TT = [[0, 1], [−1, 0]], ‖A_TT‖ = √2
    #   S_NN = diag(−1, −2, −2), ‖‖ = 3;  A_NN = 0.3 (e1e2ᵀ − e2e1ᵀ), ‖A_NN‖ = √0.18
    #   M_TN = 0.5 e1e1ᵀ, M_NT = −M_TNᵀ, so A_TN = M_TN (‖‖ = 0.5) and S_TN = 0
    #   ‖A‖² = 2 + 0.18 + 2·0.25 = 2.68, ‖J‖² = ‖S‖² + ‖A‖² = 34 + 2.68
    EXPECTED = (
        ("a_TT", np.sqrt(2.0) / 5.0),
        ("a_NN", np.sqrt(0.18) / 3.0),
        ("a_TN", np.sqrt(2.0) * 0.5 / 3.0),
        ("a", np.sqrt(2.68 / 36.68)),
    )

    @staticmethod
    def _blocks():
        m = np.zeros((5, 5))
        m[:2, :2] = [[3.0, 1.0], [-1.0, 4.0]]
        m[2:, 2:] = [[-1.0, 0.3, 0.0], [-0.3, -2.0, 0.0], [0.0, 0.0, -2.0]]
        m[0, 2], m[2, 0] = 0.5, -0.5
        return m

    def test_known_blocks(self, rng):
        q = _orthogonal(rng, 5)
        jac = (q @ self._blocks() @ q.T)[None]
        got = block_antisymmetry(jac, q[:, :2])
        for key, value in self.EXPECTED:
            np.testing.assert_allclose(got[key], [value], rtol=1e-12, err_msg=key)

    def test_per_point_basis_independent_of_choice(self, rng):
        # Rotating Q_T within the tangent plane changes neither the blocks' norms nor the
        # QR-completed normal basis's span: same values for every point.
        q = _orthogonal(rng, 5)
        jac = np.repeat((q @ self._blocks() @ q.T)[None], 3, axis=0)
        bases = np.stack([q[:, :2] @ _rotation(a) for a in (0.0, 0.7, 2.0)])
        got = block_antisymmetry(jac, bases)
        for key, value in self.EXPECTED:
            np.testing.assert_allclose(got[key], [value] * 3, rtol=1e-12, err_msg=key)

    def test_conservative_field_is_zero(self, rng):
        spec = _linear_gaussian(rng, (4.0, 1.0), 5)
        got = block_antisymmetry(spec.jacobian(rng.standard_normal((3, 5)), 0.3), spec.basis)
        for key, value in got.items():
            np.testing.assert_allclose(value, 0.0, rtol=0, atol=1e-12, err_msg=key)

    def test_one_dimensional_blocks_are_exactly_zero(self, rng):
        jac = rng.standard_normal((4, 3, 3))  # generic, non-symmetric
        q = _orthogonal(rng, 3)
        k1 = block_antisymmetry(jac, q[:, :1])  # k = 1
        np.testing.assert_array_equal(k1["a_TT"], np.zeros(4))
        assert np.all(k1["a_NN"] > 0) and np.all(k1["a_TN"] > 0)
        n1 = block_antisymmetry(jac, q[:, :2])  # d − k = 1
        np.testing.assert_array_equal(n1["a_NN"], np.zeros(4))
        assert np.all(n1["a_TT"] > 0)
        for got in (k1, n1):
            assert all(np.all(np.isfinite(v)) for v in got.values())

    def test_one_dimensional_block_with_zero_stiffness_is_zero_not_nan(self):
        # k = 1 and the tangent entry of S is 0: a_TT is still the structural 0
        jac = np.diag([0.0, -1.0, -2.0])[None]
        assert block_antisymmetry(jac, np.eye(3)[:, :1])["a_TT"][0] == 0.0

    @pytest.mark.parametrize(
        ("jac", "basis", "match"),
        [
            (np.diag([0.0, 0.0, -1.0, -1.0])[None], np.eye(4)[:, :2], "^J"),  # S_TT = 0
            (np.diag([-1.0, -1.0, 0.0, 0.0])[None], np.eye(4)[:, :2], "^J"),  # S_NN = 0
            (np.eye(4)[None], np.eye(4), "^tangent_basis"),  # k = d
            (np.eye(4)[None], np.ones((4, 2)), "^tangent_basis"),  # not orthonormal
            (np.eye(4)[None], np.eye(3)[:, :2], "^tangent_basis"),  # wrong d
            (np.eye(4)[None], np.zeros((2, 4, 2)), "^tangent_basis"),  # wrong n
            (np.eye(4), np.eye(4)[:, :2], "^J"),  # not batched
        ],
    )
    def test_bad_input_raises(self, jac, basis, match):
        with pytest.raises(ValueError, match=match):
            block_antisymmetry(jac, basis)


class TestNormalProjectionError:
    def test_exact_score_is_zero(self, rng):
        # σ²g + x − P_T x = −Q_T diag(σ²/(λ+σ²)) Q_Tᵀ x: no normal component, at every σ
        spec = _linear_gaussian(rng)
        x = rng.standard_normal((6, 8))
        sigma = np.geomspace(0.01, 3.0, 6)
        proj = x @ spec.basis @ spec.basis.T
        got = normal_projection_error(spec.score(x, sigma), x, sigma, proj, spec.normal_basis)
        np.testing.assert_allclose(got, 0.0, rtol=0, atol=1e-12)

    def test_under_denoising_field(self, rng):
        # g = 0.9 × exact score: normal residual 0.1 (x − π(x)), so e_N = 0.1 (tangent part aside)
        spec = _linear_gaussian(rng)
        x = rng.standard_normal((5, 8))
        proj = x @ spec.basis @ spec.basis.T
        got = normal_projection_error(0.9 * spec.score(x, 0.2), x, 0.2, proj, spec.normal_basis)
        np.testing.assert_allclose(got, 0.1, rtol=1e-10)

    def test_per_point_normal_basis(self, rng):
        # a circle-like setting: π(x) and the normal line differ per point; g = −(1 − e)(x − π)/σ²
        # plus a tangent component that must be ignored
        angles = rng.uniform(0, 2 * np.pi, size=4)
        normals = np.stack([np.cos(angles), np.sin(angles)], axis=1)
        tangents = np.stack([-np.sin(angles), np.cos(angles)], axis=1)
        proj = normals  # the unit circle
        x = proj + 0.3 * normals
        e, sigma = 0.25, 0.5
        g = -(1 - e) * (x - proj) / sigma**2 + 7.0 * tangents
        got = normal_projection_error(g, x, sigma, proj, normals[:, :, None])
        np.testing.assert_allclose(got, e, rtol=1e-12)

    @pytest.mark.parametrize(
        ("change", "match"),
        [
            ("on_manifold", "^x"),  # projection = x
            ({"x": np.zeros((3, 4))}, "^x"),
            ({"projection": np.zeros((3, 3))}, "^projection"),
            ({"score_values": np.zeros(3)}, "^score_values"),
            ({"score_values": np.full((2, 3), np.nan)}, "^score_values"),
            ({"normal_basis": np.ones((3, 1))}, "^normal_basis"),
            ({"sigma": 0.0}, "^sigma"),
        ],
    )
    def test_bad_input_raises(self, change, match):
        x = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 2.0]])
        args = {
            "score_values": -x,
            "x": x,
            "sigma": 1.0,
            "projection": np.zeros((2, 3)),
            "normal_basis": np.eye(3)[:, 2:],
        }
        args.update({"projection": x} if change == "on_manifold" else change)
        with pytest.raises(ValueError, match=match):
            normal_projection_error(**args)


class TestNormalAlignment:
    def test_linear_gaussian(self, rng):
        spec = _linear_gaussian(rng)
        jac = spec.jacobian(rng.standard_normal((3, 8)), np.array([0.1, 0.5, 2.0]))
        np.testing.assert_allclose(normal_alignment(jac, spec.normal_basis), 1.0, atol=1e-12)

    def test_single_normal_direction(self):
        # d = 2, stiffest direction v_1 = (cos θ, sin θ), normal e_⊥ = e_2: |v_1·e_⊥| = |sin θ|
        theta = 0.4
        r = _rotation(theta)
        jac = -(r @ np.diag([10.0, 1.0]) @ r.T)[None]
        got = normal_alignment(jac, np.array([[0.0], [1.0]]))
        np.testing.assert_allclose(got, [np.sin(theta)], rtol=1e-13)

    def test_principal_angles(self):
        # stiff plane W = span(cos a e1 + sin a e3, cos b e2 + sin b e4), normal space span(e3, e4):
        # cosines of the principal angles are sin a, sin b
        a, b = 0.3, 1.1
        w = np.zeros((4, 2))
        w[[0, 2], 0] = np.cos(a), np.sin(a)
        w[[1, 3], 1] = np.cos(b), np.sin(b)
        jac = -(10.0 * w @ w.T + (np.eye(4) - w @ w.T))[None]
        got = normal_alignment(jac, np.eye(4)[:, 2:])
        np.testing.assert_allclose(
            got, [np.sqrt((np.sin(a) ** 2 + np.sin(b) ** 2) / 2)], rtol=1e-12
        )


# --------------------------------------------------------------------------------------------
# Subspaces


class TestSubspaceOverlap:
    def test_same_subspace_other_basis(self, rng):
        u = _orthogonal(rng, 6)[:, :2]
        np.testing.assert_allclose(subspace_overlap(u, u @ _rotation(1.2)), 1.0, rtol=1e-14)

    def test_orthogonal_subspaces(self, rng):
        q = _orthogonal(rng, 6)
        np.testing.assert_allclose(subspace_overlap(q[:, :2], q[:, 2:4]), 0.0, atol=1e-15)

    def test_random_subspaces_average_k_over_d(self, rng):
        # Independent uniform subspaces: E‖UᵀW‖_F² = k²/d, so E ov = k/d. Spans of Gaussian
        # matrices are uniform. The batch axis broadcasts against the fixed W.
        n, d, k = 4000, 6, 2
        u = np.linalg.qr(rng.standard_normal((n, d, k)))[0]
        w = _orthogonal(rng, d)[:, :k]
        ov = subspace_overlap(u, w)
        assert ov.shape == (n,)
        assert np.all((ov >= 0) & (ov <= 1 + 1e-12))
        assert abs(ov.mean() - k / d) < 5 * ov.std() / np.sqrt(n)

    def test_batched_pairs(self, rng):
        q = _orthogonal(rng, 5)
        u = np.stack([q[:, :2], q[:, :2]])
        w = np.stack([q[:, :2] @ _rotation(0.5), q[:, 2:4]])
        np.testing.assert_allclose(subspace_overlap(u, w), [1.0, 0.0], atol=1e-14)

    @pytest.mark.parametrize(
        ("u", "w", "match"),
        [
            (np.eye(4)[:, :2], np.eye(4)[:, :3], "^W"),  # different k
            (np.eye(4)[:, :2], np.eye(5)[:, :2], "^W"),  # different d
            (np.ones((4, 2)), np.eye(4)[:, :2], "^U"),  # not orthonormal
            (np.eye(4)[:, :2], np.full((4, 2), np.nan), "^W"),
            (np.eye(4)[0], np.eye(4)[0], "^U"),  # 1-D
            (np.zeros((3, 4, 2)) + np.eye(4)[:, :2], np.zeros((2, 4, 2)) + np.eye(4)[:, :2], "^U"),
        ],
    )
    def test_bad_input_raises(self, u, w, match):
        with pytest.raises(ValueError, match=match):
            subspace_overlap(u, w)


class TestTangentFeatures:
    def test_recovers_tangent_space(self, rng):
        spec = _linear_gaussian(rng)
        jac = spec.jacobian(rng.standard_normal((4, 8)), np.array([0.05, 0.3, 1.0, 3.0]))
        feats = tangent_features(jac, 3)
        assert feats.shape == (4, 8, 3)
        np.testing.assert_allclose(subspace_overlap(feats, spec.basis), 1.0, rtol=1e-12)

    def test_column_order_follows_singular_values(self, rng):
        jac = rng.standard_normal((2, 5, 5))
        s = np.linalg.svd(jac, compute_uv=False)
        feats = tangent_features(jac, 2)
        # ‖J v‖ = s for a right singular vector: columns hold s_4 then s_5
        np.testing.assert_allclose(np.linalg.norm(jac @ feats, axis=1), s[:, 3:], rtol=1e-12)

    @pytest.mark.parametrize("k", [0, 6, 1.5, True])
    def test_bad_k_raises(self, k, rng):
        with pytest.raises(ValueError, match=r"^k "):
            tangent_features(rng.standard_normal((2, 5, 5)), k)


class TestCirculation:
    """N3 on circles: exact for linear fields (the trapezoid rule integrates cos² and sin²
    exactly for n ≥ 3), zero for a gradient field."""

    @pytest.mark.parametrize("n_points", [3, 8, 64])
    def test_linear_rotation_gives_omega(self, n_points, rng):
        n, d = 5, 4
        x0 = rng.standard_normal((n, d))
        q = np.linalg.qr(rng.standard_normal((n, d, 2)))[0]
        e_a, e_b = q[:, :, 0], q[:, :, 1]
        omega = rng.uniform(-2, 2, n)

        def field(p):  # ω(e_b e_aᵀ − e_a e_bᵀ)(p − x₀) + a constant, per circle
            delta = p.reshape(n, n_points, d) - x0[:, None]
            da = np.einsum("nmi,ni->nm", delta, e_a)
            db = np.einsum("nmi,ni->nm", delta, e_b)
            rot = omega[:, None, None] * (
                e_b[:, None] * da[..., None] - e_a[:, None] * db[..., None]
            )
            return (rot + 3.0).reshape(-1, d)

        c = circulation(field, x0, e_a, e_b, 0.05, n_points)
        np.testing.assert_allclose(c, omega, rtol=1e-12, atol=1e-13)

    def test_linear_field_gives_antisymmetric_part(self, rng):
        d = 3
        jac = rng.standard_normal((d, d))
        x0 = rng.standard_normal((6, d))
        q = np.linalg.qr(rng.standard_normal((6, d, 2)))[0]
        c = circulation(lambda p: p @ jac.T + 1.0, x0, q[:, :, 0], q[:, :, 1], 0.3, 16)
        anti = 0.5 * (jac - jac.T)
        np.testing.assert_allclose(
            c, np.einsum("ni,ij,nj->n", q[:, :, 1], anti, q[:, :, 0]), atol=1e-13
        )

    def test_gradient_field_has_none(self, rng):
        x0 = rng.standard_normal((4, 3))
        q = np.linalg.qr(rng.standard_normal((4, 3, 2)))[0]

        def grad(p):  # ∇ of sin(x₁x₂) + x₃³
            return np.stack(
                [
                    p[:, 1] * np.cos(p[:, 0] * p[:, 1]),
                    p[:, 0] * np.cos(p[:, 0] * p[:, 1]),
                    3 * p[:, 2] ** 2,
                ],
                axis=1,
            )

        c = circulation(grad, x0, q[:, :, 0], q[:, :, 1], 0.1, 64)
        assert np.max(np.abs(c)) < 1e-12
        swirl = circulation(
            lambda p: grad(p) + np.stack([-p[:, 1], p[:, 0], 0 * p[:, 2]], 1),
            x0,
            q[:, :, 0],
            q[:, :, 1],
            0.1,
            64,
        )
        assert np.min(np.abs(swirl)) > 1e-3  # a curl is seen

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"radius": 0.0}, "^radius"),
            ({"n_points": 2}, "^n_points"),
            ({"e_b": np.array([[1.0, 0.0, 0.0]])}, "orthonormal"),
            ({"e_a": np.ones((2, 3))}, "^e_a"),
            ({"field": lambda p: p[:, :2]}, "^field"),
        ],
    )
    def test_bad_input_raises(self, kwargs, match):
        args = {
            "field": lambda p: p,
            "x0": np.zeros((1, 3)),
            "e_a": np.array([[1.0, 0.0, 0.0]]),
            "e_b": np.array([[0.0, 1.0, 0.0]]),
            "radius": 0.1,
            "n_points": 8,
        }
        args.update(kwargs)
        with pytest.raises(ValueError, match=match):
            circulation(**args)
