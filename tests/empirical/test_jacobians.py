r"""Finite-difference Jacobians and orthogonal-probe spectra against closed forms.

References come from a route that does not go through the code under test:

- the closed-form score Jacobians of :mod:`theory.distributions` (paper000 §1.4), and for a
  non-symmetric field (an exact score is a Hessian, so it cannot catch a transposed result) the
  hand-derived Jacobian of :math:`s(x) = \tanh(Mx)/\sigma^2`;
- for the probes (paper001 §5, T10), the eigenvalues of the data covariance C:
  :math:`J = -(C + tI)^{-1}` for a Gaussian, so :math:`\mathrm{eig}(-tJ) = t/(t + \lambda_i(C))`.

Tolerance of the finite differences. The central difference has truncation error
:math:`\tfrac{h^2}{6}\partial^3 s` plus rounding :math:`\approx \epsilon_{mach}|s|/h`; at
h = 1e-5 and σ ≥ 0.4 both are far below 1e-6 of the Jacobian's scale (measured: ≤ 1e-9). We use
1e-6 relative, the note's T-A0 figure for h = 1e-5 (paper000 §6), so a wrong sign, a transposition,
a missing factor 2 or a misaligned chunk fails by orders of magnitude.
"""

from __future__ import annotations

import numpy as np
import pytest

from empirical.jacobians import central_difference_jacobian, haar_orthogonal, probe_singular_values
from theory.distributions import FiniteSet, GaussianMixture, LinearGaussian

FD_RTOL = 1e-6  # paper000 §6 T-A0: relative error of central differences at h = 1e-5


@pytest.fixture
def rng():
    return np.random.default_rng(20240611)


def _orthonormal(rng, d, k):
    return np.linalg.qr(rng.standard_normal((d, d)))[0][:, :k]


def _case(name, rng):
    """(spec, points, sigma) for each closed-form law."""
    if name == "linear_gaussian":
        spec = LinearGaussian([4.0, 1.0, 0.25], 8, basis=_orthonormal(rng, 8, 3))
        return spec, 1.5 * rng.standard_normal((20, 8)), 0.5
    if name == "linear_gaussian_sigma_per_point":
        spec = LinearGaussian([2.0, 0.5], 5, basis=_orthonormal(rng, 5, 2))
        return spec, rng.standard_normal((15, 5)), rng.uniform(0.4, 2.0, size=15)
    if name == "mixture":
        d = 4
        means = 2.0 * rng.standard_normal((3, d))
        factors = rng.standard_normal((3, d, d)) / np.sqrt(d)
        covs = factors @ np.swapaxes(factors, 1, 2)
        covs[2] = np.outer(factors[2, :, 0], factors[2, :, 0])  # one component on a line
        spec = GaussianMixture([0.5, 0.3, 0.2], means, covs)
        x = means[rng.integers(0, 3, size=20)] + rng.standard_normal((20, d))
        return spec, x, 0.7
    if name == "finite_set":
        points = rng.standard_normal((6, 3))
        spec = FiniteSet(points)
        x = points[rng.integers(0, 6, size=20)] + 0.5 * rng.standard_normal((20, 3))
        return spec, x, 0.5
    raise AssertionError(name)


CASES = ["linear_gaussian", "linear_gaussian_sigma_per_point", "mixture", "finite_set"]


def _assert_close_per_point(approx, exact, rtol):
    scale = np.max(np.abs(exact), axis=(1, 2))
    err = np.max(np.abs(approx - exact), axis=(1, 2))
    assert np.all(err <= rtol * scale), f"max relative error {np.max(err / scale):.3g}"


class _Tanh:
    """Non-conservative field s(x) = tanh(M x)/σ² with its Jacobian diag(1 − tanh²(Mx)) M / σ²."""

    def __init__(self, rng, d):
        self.m = rng.standard_normal((d, d))
        self.batch_sizes = []

    def __call__(self, x, sigma):
        self.batch_sizes.append(x.shape[0])
        s2 = np.asarray(sigma) ** 2
        s2 = s2[:, None] if s2.ndim else s2
        return np.tanh(x @ self.m.T) / s2

    def jacobian(self, x, sigma):
        s2 = np.broadcast_to(np.asarray(sigma) ** 2, (x.shape[0],))
        sech2 = 1.0 - np.tanh(x @ self.m.T) ** 2
        return sech2[:, :, None] * self.m[None] / s2[:, None, None]


# --------------------------------------------------------------------------------------------
# central_difference_jacobian


class TestCentralDifferenceJacobian:
    @pytest.mark.parametrize("name", CASES)
    def test_matches_closed_form(self, name, rng):
        spec, x, sigma = _case(name, rng)
        approx = central_difference_jacobian(spec.score, x, sigma)
        assert approx.shape == (x.shape[0], spec.d, spec.d)
        _assert_close_per_point(approx, spec.jacobian(x, sigma), FD_RTOL)

    def test_nonsymmetric_field_not_transposed(self, rng):
        field = _Tanh(rng, 4)
        x = rng.standard_normal((10, 4))
        sigma = rng.uniform(0.5, 1.5, size=10)
        exact = field.jacobian(x, sigma)
        # far from symmetric, so the test can see a transposed result
        assert np.max(np.abs(exact - np.swapaxes(exact, 1, 2))) > 0.1
        _assert_close_per_point(central_difference_jacobian(field, x, sigma), exact, FD_RTOL)

    def test_second_order_in_h(self, rng):
        # Central differences: error ∝ h², so h → h/10 divides it by 100 (a one-sided difference
        # would divide it by 10). At h = 1e-2 and 1e-3 rounding is negligible (< 1e-12).
        field = _Tanh(rng, 3)
        x = rng.standard_normal((5, 3))
        exact = field.jacobian(x, 1.0)
        err = [
            np.max(np.abs(central_difference_jacobian(field, x, 1.0, h=h) - exact))
            for h in (1e-2, 1e-3)
        ]
        assert 80 < err[0] / err[1] < 120

    @pytest.mark.parametrize("chunk", [1, 5, 8, 13, 10_000])
    def test_chunking_same_result_and_bounded_calls(self, chunk, rng):
        field = _Tanh(rng, 4)  # 2d = 8 copies per point; 13 splits points across calls
        x = rng.standard_normal((7, 4))
        sigma = rng.uniform(0.5, 1.5, size=7)
        reference = central_difference_jacobian(field, x, sigma, chunk=10**9)
        field.batch_sizes.clear()
        chunked = central_difference_jacobian(field, x, sigma, chunk=chunk)
        # The same differences are formed in the same order; only the score's own last bit may
        # depend on the batch size (BLAS blocking in x @ Mᵀ). One ulp of s over 2h = 2e-5 is
        # ~1e-11 of |s|, so 1e-9 of the scale is "the same" while 1000× below the FD tolerance.
        np.testing.assert_allclose(
            chunked, reference, rtol=0, atol=1e-9 * np.max(np.abs(reference))
        )
        assert max(field.batch_sizes) <= chunk
        assert sum(field.batch_sizes) == 2 * 4 * 7

    def test_chunking_with_closed_form_sigma_per_point(self, rng):
        spec, x, sigma = _case("linear_gaussian_sigma_per_point", rng)
        _assert_close_per_point(
            central_difference_jacobian(spec.score, x, sigma, chunk=3),
            spec.jacobian(x, sigma),
            FD_RTOL,
        )

    def test_single_point(self, rng):
        spec, x, sigma = _case("mixture", rng)
        approx = central_difference_jacobian(spec.score, x[0], sigma)
        assert approx.shape == (spec.d, spec.d)
        np.testing.assert_array_equal(approx, central_difference_jacobian(spec.score, x, sigma)[0])

    @pytest.mark.parametrize(
        ("kwargs", "name"),
        [
            ({"h": 0.0}, "h"),
            ({"h": -1e-5}, "h"),
            ({"h": np.nan}, "h"),
            ({"h": [1e-5, 1e-5]}, "h"),
            ({"chunk": 0}, "chunk"),
            ({"chunk": 2.5}, "chunk"),
            ({"chunk": True}, "chunk"),
            ({"x": np.full((3, 2), np.nan)}, "x"),
            ({"x": np.zeros((2, 2, 2))}, "x"),
            ({"x": np.zeros((3, 0))}, "x"),
            ({"sigma": 0.0}, "sigma"),
            ({"sigma": np.ones(4)}, "sigma"),
            ({"sigma": np.nan}, "sigma"),
        ],
    )
    def test_bad_input_raises(self, kwargs, name):
        args = {"score": lambda x, s: -x, "x": np.zeros((3, 2)), "sigma": 1.0, **kwargs}
        with pytest.raises(ValueError, match=rf"^{name}\b"):
            central_difference_jacobian(**args)

    @pytest.mark.parametrize(
        "score",
        [lambda x, s: x[:, :1], lambda x, s: np.full_like(x, np.nan)],
        ids=["wrong_shape", "nan"],
    )
    def test_bad_score_raises(self, score):
        with pytest.raises(ValueError, match=r"^score\b"):
            central_difference_jacobian(score, np.zeros((3, 2)), 1.0)


# --------------------------------------------------------------------------------------------
# Orthogonal probes (paper001 §5, T10)


@pytest.fixture
def t10(rng):
    """paper001 T10: a Gaussian with covariance C = F diag(τ) Fᵀ, F (30, 12) of N(0, 1/30)."""
    n_amb, n_lat = 30, 12
    f = rng.normal(0.0, np.sqrt(1.0 / n_amb), size=(n_amb, n_lat))
    tau = rng.uniform(0.5, 2.0, size=n_lat)
    cov = (f * tau) @ f.T
    cov = 0.5 * (cov + cov.T)
    spec = GaussianMixture([1.0], np.zeros((1, n_amb)), cov[None])
    lam = np.linalg.eigvalsh(cov)  # 18 of them are 0 up to rounding

    def point(t):
        return f @ (np.sqrt(tau) * rng.standard_normal(n_lat)) + np.sqrt(t) * rng.standard_normal(
            n_amb
        )

    return spec, lam, point, n_amb - n_lat


def _eig_minus_tj(lam, t):
    """eig(−tJ) = t/(t + λ_i(C)), sorted decreasing."""
    return np.sort(t / (t + lam))[::-1]


T_VALUES = [0.01, 0.1, 1.0]


class TestProbeSingularValues:
    @pytest.mark.parametrize("t", T_VALUES)
    def test_central_equals_eig_minus_tj(self, t, t10, rng):
        spec, lam, point, _ = t10
        got = probe_singular_values(spec.score, point(t), t, rng)
        np.testing.assert_allclose(got, _eig_minus_tj(lam, t), rtol=0, atol=1e-6)

    @pytest.mark.parametrize("t", T_VALUES)
    def test_central_unnormalised_equals_singular_values_of_j(self, t, t10, rng):
        spec, lam, point, _ = t10
        got = probe_singular_values(spec.score, point(t), t, rng, normalize=False)
        np.testing.assert_allclose(got, np.sort(1.0 / (t + lam))[::-1], rtol=1e-6)

    @pytest.mark.parametrize("t", T_VALUES)
    def test_forward_interlaces_and_keeps_spike(self, t, t10, rng):
        # The forward matrix is VJᵀ plus the rank-one mean-score term. After dropping the largest
        # singular value, Weyl's inequalities for a rank-one change give
        # ς_{i+2}(J) ≤ ŝ_i ≤ ς_i(J) (1-based): exact inside the 18-fold spike, displaced in the
        # tangent bulk. So at most 2 of the N − D spike values are lost, and since the spike holds
        # more than half of the spectrum the median error is ~0 (the note's "< 1e-3").
        spec, lam, point, n_spike = t10
        x0 = point(t)
        raw = probe_singular_values(spec.score, x0, t, rng, method="forward", normalize=False)
        sv_j = np.sort(1.0 / (t + lam))[::-1]
        d = sv_j.size
        assert raw.shape == (d - 1,)
        slack = 1e-9 * sv_j[0]
        assert np.all(raw <= sv_j[:-1] + slack)
        assert np.all(raw[:-1] >= sv_j[2:] - slack)

        got = probe_singular_values(spec.score, x0, t, rng, method="forward")
        ref = _eig_minus_tj(lam, t)[1:]  # the dropped value is one copy of the spike
        np.testing.assert_allclose(got[: n_spike - 2], 1.0, rtol=0, atol=1e-6)
        assert np.median(np.abs(got - ref)) < 1e-3

    def test_forward_exact_where_mean_score_vanishes(self, t10, rng):
        # At x0 = 0 the score is 0: no rank-one term, so forward = central minus one spike value.
        spec, lam, _, _ = t10
        got = probe_singular_values(spec.score, np.zeros(lam.size), 0.1, rng, method="forward")
        np.testing.assert_allclose(got, _eig_minus_tj(lam, 0.1)[1:], rtol=0, atol=1e-6)

    @pytest.mark.parametrize("t", [0.04, 0.5])
    @pytest.mark.parametrize("method", ["central", "forward"])
    def test_probe_scale_and_sigma_are_sqrt_t(self, t, method):
        # s(x, σ) = −x³ − σx (elementwise) at x0 = 0. Probe rows at scale h:
        # ½(s(hv) − s(−hv)) = s(hv) = −h³v³ − hσv, so S/h = −h²v³ − σv. With h = σ = √t this is
        # −(t v³ + √t v): its singular values pin both the probe scale and the σ passed.
        d = 5
        expected = np.linalg.svd(
            t * haar_orthogonal(d, np.random.default_rng(3)) ** 3
            + np.sqrt(t) * haar_orthogonal(d, np.random.default_rng(3)),
            compute_uv=False,
        )
        got = probe_singular_values(
            lambda x, s: -(x**3) - s * x,
            np.zeros(d),
            t,
            np.random.default_rng(3),
            method=method,
            normalize=False,
        )
        np.testing.assert_allclose(
            got, expected if method == "central" else expected[1:], rtol=1e-12
        )

    @pytest.mark.parametrize(
        ("kwargs", "name"),
        [
            ({"t": 0.0}, "t"),
            ({"t": -0.1}, "t"),
            ({"t": np.nan}, "t"),
            ({"t": [0.1, 0.2]}, "t"),
            ({"method": "backward"}, "method"),
            ({"x0": np.zeros((2, 3))}, "x0"),
            ({"x0": np.array([0.0, np.nan, 0.0])}, "x0"),
            ({"x0": np.zeros(1), "method": "forward"}, "x0"),
            ({"normalize": "yes"}, "normalize"),
        ],
    )
    def test_bad_input_raises(self, kwargs, name, rng):
        args = {"score": lambda x, s: -x, "x0": np.zeros(3), "t": 0.1, "rng": rng, **kwargs}
        with pytest.raises(ValueError, match=rf"^{name}\b"):
            probe_singular_values(**args)

    @pytest.mark.parametrize("bad_rng", [None, 0, np.random.RandomState(0)])
    def test_rng_must_be_generator(self, bad_rng):
        with pytest.raises(TypeError, match=r"^rng\b"):
            probe_singular_values(lambda x, s: -x, np.zeros(3), 0.1, bad_rng)

    def test_zero_field_cannot_be_normalised(self, rng):
        with pytest.raises(ValueError, match=r"^score\b.*normalise"):
            probe_singular_values(lambda x, s: np.zeros_like(x), np.zeros(3), 0.1, rng)


class TestHaarOrthogonal:
    def test_orthogonal(self, rng):
        q = haar_orthogonal(6, rng)
        np.testing.assert_allclose(q @ q.T, np.eye(6), atol=1e-14)

    def test_haar_moments(self, rng):
        # Haar: every entry has mean 0 and second moment 1/d. Without the sign fix, Householder QR
        # makes Q[0, 0] = −|G[0, 0]|/‖G[:, 0]‖ < 0 always (mean ≈ −0.5 for d = 3), a ~50 SE bias.
        d, n = 3, 4000
        draws = np.stack([haar_orthogonal(d, rng) for _ in range(n)])
        se_mean = np.sqrt(1.0 / d / n)
        assert np.all(np.abs(draws.mean(axis=0)) < 5 * se_mean)
        second = draws**2
        se_second = second.std(axis=0) / np.sqrt(n)
        assert np.all(np.abs(second.mean(axis=0) - 1.0 / d) < 5 * se_second)
