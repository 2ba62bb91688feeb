"""Tests for theory.distributions (and the closed forms of theory._scores behind them).

Every reference comes from a route independent of the code under test:

- finite differences of ``log_density`` (for ``score``) and of ``score`` (for ``jacobian``);
- the Wiener filter Σ(Σ + σ²I)⁻¹x, and the mixture posterior mean Σ_k w_k (m_k + Σ_k C_k⁻¹(x − m_k))
  with weights from ``scipy.stats.multivariate_normal`` (for ``denoiser`` and ``log_density``);
- cross-checks between specs: LinearGaussian vs a one-component GaussianMixture with covariance
  Q diag(λ) Qᵀ, GaussianMixture with zero covariances vs FiniteSet;
- mpmath at 50 digits for FiniteSet at σ = 1e-4.
"""

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

from theory.distributions import FiniteSet, GaussianMixture, LinearGaussian
from theory.spectra import linear_gaussian_singular_values

DPS = 50
EPS = np.finfo(np.float64).eps


def _orthonormal(d, k, seed):
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, k)))
    return q


def _assert_close_normwise(actual, desired, rtol):
    """Elementwise check with an absolute floor of rtol × the largest |desired|.

    Used where the computation goes through an orthogonal change of basis (a random Q_T, an
    eigendecomposition, a linear solve): those are norm-wise backward stable, so a small entry of
    a result is only accurate to rtol relative to the largest entry.
    """
    desired = np.asarray(desired)
    assert_allclose(actual, desired, rtol=rtol, atol=rtol * np.max(np.abs(desired)))


def _five_point_derivative(f, x, h):
    """d/dx_j of f at one point x (d,) by the 5-point central stencil, for every j at once.

    f maps an (m, d) batch to (m,) or (m, p); the result is (d,) or (p, d) (rows: outputs).
    Truncation error h⁴ |f⁽⁵⁾| / 30; rounding error about 1.5 ε |f| / h.
    """
    d = x.shape[0]
    steps = np.array([-2.0, -1.0, 1.0, 2.0])
    coef = np.array([1.0, -8.0, 8.0, -1.0]) / (12.0 * h)
    pts = x[None, None, :] + h * steps[None, :, None] * np.eye(d)[:, None, :]  # (d, 4, d)
    vals = f(pts.reshape(4 * d, d))
    vals = vals.reshape((d, 4, *vals.shape[1:]))
    deriv = np.tensordot(coef, vals, axes=([0], [1]))  # (d,) or (d, p)
    return deriv.T


# Specs used throughout. Mixture: a full-rank component, a component on a line and a point mass.
def _linear_gaussian():
    return LinearGaussian([4.0, 1.0, 0.25], d=5, basis=_orthonormal(5, 3, seed=10))


def _mixture():
    rng = np.random.default_rng(11)
    a = rng.standard_normal((3, 3))
    line = np.array([1.0, -2.0, 0.5]) / np.sqrt(5.25)
    covariances = np.stack(
        [a @ a.T / 3 + 0.1 * np.eye(3), 0.8 * np.outer(line, line), np.zeros((3, 3))]
    )
    means = np.array([[0.0, 0.0, 0.0], [1.5, -0.5, 0.3], [-1.0, 1.0, 1.0]])
    return GaussianMixture([0.5, 0.3, 0.2], means, covariances)


def _finite_set():
    return FiniteSet(np.random.default_rng(12).standard_normal((6, 3)))


SPECS = {"linear_gaussian": _linear_gaussian, "mixture": _mixture, "finite_set": _finite_set}


def _mixture_posterior(gm, x, sigma):
    """Log-density and posterior mean of a noised mixture by scipy.stats, one point at a time.

    p_σ(x) = Σ_k π_k N(x; m_k, C_k), C_k = Σ_k + σ²I (non-singular for σ > 0);
    E[x_0 | x] = Σ_k w_k (m_k + Σ_k C_k⁻¹ (x − m_k)),  w_k ∝ π_k N(x; m_k, C_k).
    """
    d = gm.d
    logs, means = [], []
    for xi in np.atleast_2d(x):
        log_joint = np.array(
            [
                np.log(pi) + multivariate_normal(m, c + sigma**2 * np.eye(d)).logpdf(xi)
                for pi, m, c in zip(gm.weights, gm.means, gm.covariances, strict=True)
            ]
        )
        w = np.exp(log_joint - logsumexp(log_joint))
        post = [
            m + c @ np.linalg.solve(c + sigma**2 * np.eye(d), xi - m)
            for m, c in zip(gm.means, gm.covariances, strict=True)
        ]
        logs.append(logsumexp(log_joint))
        means.append(w @ np.array(post))
    return np.array(logs), np.array(means)


class TestFieldIdentities:
    """Identities every spec must satisfy, checked by finite differences and Tweedie."""

    @pytest.mark.parametrize("name", list(SPECS))
    @pytest.mark.parametrize("sigma", [0.3, 1.0, 2.5])
    def test_score_is_gradient_of_log_density(self, name, sigma):
        spec = SPECS[name]()
        for x in np.random.default_rng(20).standard_normal((3, spec.d)):
            fd = _five_point_derivative(
                lambda p, s=sigma: spec.log_density(p, s), x, h=1e-3 * sigma
            )
            # |log p| ≲ 20 and |∂⁵ log p| ≲ σ⁻⁵·O(1) here: rounding 1.5 ε·20/(1e-3σ) ≈ 7e-12/σ,
            # truncation (1e-3σ)⁴/30·σ⁻⁵ ≈ 3e-14/σ, against score entries of size ≳ 1/σ.
            _assert_close_normwise(fd, spec.score(x, sigma), rtol=1e-9)

    @pytest.mark.parametrize("name", list(SPECS))
    @pytest.mark.parametrize("sigma", [0.3, 1.0, 2.5])
    def test_jacobian_is_derivative_of_score(self, name, sigma):
        spec = SPECS[name]()
        for x in np.random.default_rng(21).standard_normal((3, spec.d)):
            fd = _five_point_derivative(lambda p, s=sigma: spec.score(p, s), x, h=1e-3 * sigma)
            # Same error budget as above, one derivative higher: |score| ≲ 20/σ², so the rounding
            # part is ≈ 7e-12/σ³ against entries of size ≳ 1/σ².
            _assert_close_normwise(fd, spec.jacobian(x, sigma), rtol=1e-9)

    @pytest.mark.parametrize("name", list(SPECS))
    @pytest.mark.parametrize("sigma", [0.05, 1.0])
    def test_jacobian_symmetric(self, name, sigma):
        spec = SPECS[name]()
        jac = spec.jacobian(np.random.default_rng(22).standard_normal((4, spec.d)), sigma)
        # The two triangles are summed in different orders: equal to a few ulp of the largest entry.
        for j in jac:
            assert_allclose(j, j.T, rtol=0, atol=8 * EPS * np.max(np.abs(j)))

    @pytest.mark.parametrize("name", list(SPECS))
    @pytest.mark.parametrize("sigma", [0.05, 1.0])
    def test_tweedie(self, name, sigma):
        spec = SPECS[name]()
        x = np.random.default_rng(23).standard_normal((4, spec.d))
        assert_allclose(
            spec.denoiser(x, sigma), x + sigma**2 * spec.score(x, sigma), rtol=1e-15, atol=0
        )

    @pytest.mark.parametrize("name", list(SPECS))
    def test_sigma_per_point(self, name):
        spec = SPECS[name]()
        x = np.random.default_rng(24).standard_normal((4, spec.d))
        sigma = np.array([0.1, 0.5, 1.0, 3.0])
        for method in ("score", "jacobian", "denoiser", "log_density"):
            field = getattr(spec, method)
            one_by_one = np.array([field(xi, si) for xi, si in zip(x, sigma, strict=True)])
            assert_allclose(field(x, sigma), one_by_one, rtol=1e-14, atol=0, err_msg=method)

    @pytest.mark.parametrize("name", list(SPECS))
    @pytest.mark.parametrize(
        ("method", "single", "batch"),
        [
            ("score", lambda d: (d,), lambda n, d: (n, d)),
            ("denoiser", lambda d: (d,), lambda n, d: (n, d)),
            ("jacobian", lambda d: (d, d), lambda n, d: (n, d, d)),
            ("log_density", lambda d: (), lambda n, d: (n,)),
        ],
    )
    def test_shapes(self, name, method, single, batch):
        spec = SPECS[name]()
        field = getattr(spec, method)
        d = spec.d
        assert np.shape(field(np.ones(d), 0.7)) == single(d)
        assert np.shape(field(np.ones((7, d)), 0.7)) == batch(7, d)
        assert np.shape(field(np.ones((1, d)), [0.7])) == batch(1, d)
        assert np.shape(field(np.ones((7, d)), np.full(7, 0.7))) == batch(7, d)

    @pytest.mark.parametrize("name", list(SPECS))
    @pytest.mark.parametrize("method", ["score", "jacobian", "denoiser", "log_density"])
    @pytest.mark.parametrize(
        ("x", "sigma", "match"),
        [
            ("ok", 0.0, "sigma must be > 0"),
            ("ok", -1.0, "sigma must be > 0"),
            ("ok", [0.5, 0.0, 0.5], "sigma must be > 0"),
            ("ok", np.nan, "sigma must be finite"),
            ("ok", [0.5, 0.5], "sigma must be a scalar or have shape"),
            ("ok", [[0.5, 0.5, 0.5]], "sigma must be a scalar or have shape"),
            ("nan", 0.5, "x must be finite"),
            ("inf", 0.5, "x must be finite"),
            ("wrong_d", 0.5, "x must have shape"),
            ("wrong_d_single", 0.5, "x must have last dimension"),
            ("three_d", 0.5, "x must have shape"),
        ],
    )
    def test_bad_input(self, name, method, x, sigma, match):
        spec = SPECS[name]()
        d = spec.d
        xs = {
            "ok": np.ones((3, d)),
            "nan": np.array([[0.0] * (d - 1) + [np.nan]] * 3),
            "inf": np.array([[np.inf] + [0.0] * (d - 1)] * 3),
            "wrong_d": np.ones((3, d + 1)),
            "wrong_d_single": np.ones(d - 1),
            "three_d": np.ones((3, 1, d)),
        }
        with pytest.raises(ValueError, match=match):
            getattr(spec, method)(xs[x], sigma)


def _mp_wiener(lg, x, sigma):
    """Σ (Σ + σ²I)⁻¹ x at 50 digits, Σ = Q diag(λ) Qᵀ from the float64 entries of Q and λ."""
    with mpmath.workdps(DPS):
        q = mpmath.matrix(lg.basis.tolist())
        cov = q * mpmath.diag(lg.variances.tolist()) * q.T
        noised = cov + mpmath.mpf(sigma) ** 2 * mpmath.eye(lg.d)
        out = [cov * mpmath.lu_solve(noised, mpmath.matrix(xi.tolist())) for xi in x]
        return np.array([[float(v) for v in col] for col in out])


def _mp_gaussian_log_density(lg, x, sigma):
    """log N(x; 0, Σ + σ²I) at 50 digits: −½ xᵀC⁻¹x − ½ log det(2πC), C = Q diag(λ) Qᵀ + σ²I."""
    with mpmath.workdps(DPS):
        q = mpmath.matrix(lg.basis.tolist())
        noised = q * mpmath.diag(lg.variances.tolist()) * q.T + mpmath.mpf(sigma) ** 2 * mpmath.eye(
            lg.d
        )
        log_det = mpmath.log(mpmath.det(2 * mpmath.pi * noised))
        out = []
        for xi in x:
            xm = mpmath.matrix(xi.tolist())
            quad = (xm.T * mpmath.lu_solve(noised, xm))[0]
            out.append(float(-quad / 2 - log_det / 2))
        return np.array(out)


class TestLinearGaussian:
    @pytest.mark.parametrize("sigma", [1e-3, 0.1, 1.0, 10.0])
    def test_denoiser_is_wiener_filter(self, sigma):
        # D(x) = Σ (Σ + σ²I)⁻¹ x, the linear MMSE estimator, with Σ = Q_T diag(λ) Q_Tᵀ formed and
        # solved by mpmath at 50 digits. (In float64 the formed Σ carries rounding of size ε‖Σ‖ in
        # the normal directions, which the filter amplifies by 1/σ²: ≈ 4e-10 at σ = 1e-3.)
        lg = _linear_gaussian()
        x = np.random.default_rng(30).standard_normal((5, lg.d))
        _assert_close_normwise(lg.denoiser(x, sigma), _mp_wiener(lg, x, sigma), rtol=1e-14)

    @pytest.mark.parametrize("sigma", [1e-3, 0.1, 1.0, 10.0])
    def test_log_density_vs_mpmath(self, sigma):
        # p_σ = N(0, Σ + σ²I), non-singular for σ > 0, evaluated at 50 digits.
        lg = _linear_gaussian()
        x = np.random.default_rng(31).standard_normal((5, lg.d))
        assert_allclose(
            lg.log_density(x, sigma), _mp_gaussian_log_density(lg, x, sigma), rtol=1e-14
        )

    @pytest.mark.parametrize("sigma", [0.1, 1.0, 10.0])
    def test_log_density_vs_scipy(self, sigma):
        # Same law through scipy, which goes through eigh of Σ + σ²I: its small eigenvalues σ²
        # carry an absolute error ≈ ε‖Σ‖, a relative cond·ε ≤ 4e2·ε at σ = 0.1 on the quadratic
        # form (at σ = 1e-3 that would be 4e6·ε ≈ 1e-9: see the mpmath test instead).
        lg = _linear_gaussian()
        x = np.random.default_rng(31).standard_normal((5, lg.d))
        ref = multivariate_normal(np.zeros(lg.d), lg.covariance + sigma**2 * np.eye(lg.d)).logpdf(x)
        assert_allclose(lg.log_density(x, sigma), ref, rtol=1e-13)

    @pytest.mark.parametrize("sigma", [1e-3, 0.1, 1.0, 10.0])
    def test_vs_one_component_mixture(self, sigma):
        # Same law written as GaussianMixture([1], [0], [Q diag(λ) Qᵀ]): that spec eigendecomposes
        # the singular covariance itself, so this checks the subspace code against the mixture code.
        lg = _linear_gaussian()
        gm = GaussianMixture([1.0], np.zeros((1, lg.d)), [lg.covariance])
        x = np.random.default_rng(32).standard_normal((5, lg.d))
        for method in ("score", "jacobian", "denoiser"):
            _assert_close_normwise(
                getattr(lg, method)(x, sigma), getattr(gm, method)(x, sigma), 1e-12
            )
        assert_allclose(lg.log_density(x, sigma), gm.log_density(x, sigma), rtol=1e-12)

    @pytest.mark.parametrize(
        ("variances", "d", "sigma"), [([4.0, 1.0, 0.25], 8, 0.5), ([2.0], 2, 0.03)]
    )
    def test_axis_aligned_jacobian_by_hand(self, variances, d, sigma):
        # Default basis = first k axes: J = -diag(1/(λ_j + σ²), 1/σ², ..., 1/σ²) exactly.
        lg = LinearGaussian(variances, d)
        diag = [1.0 / (v + sigma**2) for v in variances] + [1.0 / sigma**2] * (d - len(variances))
        assert_allclose(lg.jacobian(np.zeros(d), sigma), -np.diag(diag), rtol=1e-15, atol=0)

    @settings(deadline=None, max_examples=40)
    @given(
        variances=st.lists(st.floats(1e-3, 1e3), min_size=1, max_size=4),
        extra=st.integers(0, 3),
        log_sigma=st.floats(-2.0, 2.0),
        seed=st.integers(0, 2**32 - 1),
    )
    def test_jacobian_eigenvalues_are_minus_singular_values(
        self, variances, extra, log_sigma, seed
    ):
        k = len(variances)
        d = k + extra
        sigma = 10.0**log_sigma
        lg = LinearGaussian(variances, d, basis=_orthonormal(d, k, seed))
        jac = lg.jacobian(np.zeros(d), sigma)
        eig = np.linalg.eigvalsh(jac)  # ascending, so -eig is descending
        sv = linear_gaussian_singular_values(variances, d, sigma)
        # Weyl: each eigenvalue moves by at most the norm of the perturbation. Q from Householder
        # QR is orthonormal to O(dε); J is formed as −(I − QQᵀ)/σ² − Q(Λ+σ²)⁻¹Qᵀ, so the rounding
        # of I − QQᵀ enters at O(dε)/σ² even when k = d (no normal directions); eigvalsh adds
        # O(dε)‖J‖₂. Hence the floor 64·d·ε/σ² (note ‖J‖₂ = max(s) ≤ 1/σ²).
        assert_allclose(-eig, sv, rtol=0, atol=64 * d * EPS / sigma**2)
        # The score field is linear: score(x) = J x. Both sides sum terms of size ‖J‖₂‖x‖ that
        # may cancel (normal and tangent parts), so the error floor is ≈ d·ε·‖J‖₂‖x‖.
        x = np.random.default_rng(seed).standard_normal(d)
        floor = 64 * d * EPS / sigma**2 * np.linalg.norm(x)
        assert_allclose(lg.score(x, sigma), jac @ x, rtol=1e-13, atol=floor)

    def test_properties(self):
        lg = _linear_gaussian()
        assert lg.k == 3
        assert_allclose(lg.basis.T @ lg.normal_basis, 0.0, atol=1e-15)
        assert_allclose(lg.normal_basis.T @ lg.normal_basis, np.eye(2), atol=1e-15)
        assert_allclose(lg.covariance, lg.basis @ np.diag(lg.variances) @ lg.basis.T, atol=1e-15)
        assert lg.to_dict()["type"] == "LinearGaussian"

    def test_input_array_not_frozen_or_aliased(self):
        lam = np.array([4.0, 1.0])
        lg = LinearGaussian(lam, d=3)
        lam[0] = 9.0  # the caller's array stays writable ...
        assert lg.variances[0] == 4.0  # ... and the spec does not see the change
        with pytest.raises(ValueError):
            lg.variances[0] = 1.0  # the spec's own copy is read-only

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"variances": [1.0, 0.0], "d": 3}, "variances must be > 0"),
            ({"variances": [1.0, -2.0], "d": 3}, "variances must be > 0"),
            ({"variances": [1.0, np.nan], "d": 3}, "variances must be finite"),
            ({"variances": [], "d": 3}, "variances must be a non-empty 1-D array"),
            ({"variances": [[1.0]], "d": 3}, "variances must be a non-empty 1-D array"),
            ({"variances": [1.0, 1.0, 1.0], "d": 2}, "more than the dimension d"),
            ({"variances": [1.0], "d": 0}, "d must be a positive integer"),
            ({"variances": [1.0], "d": 2.5}, "d must be a positive integer"),
            ({"variances": [1.0, 1.0], "d": 3, "basis": np.eye(3)}, "basis must have shape"),
            (
                {"variances": [1.0, 1.0], "d": 3, "basis": np.eye(3)[:, :2].T},
                "basis must have shape",
            ),
            ({"variances": [1.0, 1.0], "d": 3, "basis": 2 * np.eye(3)[:, :2]}, "orthonormal"),
            (
                {"variances": [1.0, 1.0], "d": 3, "basis": [[1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]},
                "orthonormal",
            ),
            (
                {"variances": [1.0, 1.0], "d": 3, "basis": [[1.0, np.nan], [0.0, 1.0], [0.0, 0.0]]},
                "basis must be finite",
            ),
        ],
    )
    def test_bad_input(self, kwargs, match):
        with pytest.raises(ValueError, match=match):
            LinearGaussian(**kwargs)


class TestGaussianMixture:
    @pytest.mark.parametrize("sigma", [0.05, 0.4, 2.0])
    def test_vs_scipy_posterior(self, sigma):
        # Non-singular covariances (every component full rank) so scipy's own logpdf applies even
        # without noise; the noised C_k = Σ_k + σ²I are well conditioned (cond ≲ 1e3).
        gm = GaussianMixture(
            [0.2, 0.5, 0.3],
            [[0.0, 0.0], [1.0, 2.0], [-1.0, 0.5]],
            [[[1.0, 0.3], [0.3, 0.5]], [[0.2, 0.0], [0.0, 2.0]], [[0.7, -0.2], [-0.2, 0.3]]],
        )
        x = np.random.default_rng(40).standard_normal((6, 2)) * 1.5
        log_p, post_mean = _mixture_posterior(gm, x, sigma)
        assert_allclose(gm.log_density(x, sigma), log_p, rtol=1e-13)
        _assert_close_normwise(gm.denoiser(x, sigma), post_mean, rtol=1e-12)
        _assert_close_normwise(gm.score(x, sigma), (post_mean - x) / sigma**2, rtol=1e-11)

    @pytest.mark.parametrize("sigma", [0.1, 0.5, 2.0])
    def test_singular_components_vs_scipy_posterior(self, sigma):
        # The module's mixture has a rank-1 and a rank-0 component; C_k = Σ_k + σ²I is regular.
        gm = _mixture()
        x = np.random.default_rng(41).standard_normal((5, 3))
        log_p, post_mean = _mixture_posterior(gm, x, sigma)
        assert_allclose(gm.log_density(x, sigma), log_p, rtol=1e-13)
        _assert_close_normwise(gm.denoiser(x, sigma), post_mean, rtol=1e-12)

    @pytest.mark.parametrize("sigma", [0.05, 0.3, 2.0])
    def test_zero_covariances_equal_finite_set(self, sigma):
        points = np.random.default_rng(42).standard_normal((7, 3))
        fs = FiniteSet(points)
        gm = GaussianMixture(np.full(7, 1 / 7), points, np.zeros((7, 3, 3)))
        x = np.random.default_rng(43).standard_normal((5, 3))
        # Logits ≈ |x − y|²/2σ² ≲ 2e3 at σ = 0.05 are formed in different orders (eigenbasis
        # coordinates vs direct differences): ≈ 2e3·ε ≈ 5e-13 relative error in the weights.
        for method in ("score", "jacobian", "denoiser"):
            _assert_close_normwise(
                getattr(gm, method)(x, sigma), getattr(fs, method)(x, sigma), 1e-11
            )
        assert_allclose(gm.log_density(x, sigma), fs.log_density(x, sigma), rtol=1e-13)

    def test_single_point_mass_is_gaussian_around_it(self):
        # One point mass at m: p_σ = N(m, σ²I), score −(x − m)/σ², Jacobian −I/σ².
        m = np.array([0.5, -1.0])
        gm = GaussianMixture([1.0], [m], np.zeros((1, 2, 2)))
        x = np.array([[1.0, 2.0], [-3.0, 0.25]])
        assert_allclose(gm.score(x, 0.5), -(x - m) / 0.25, rtol=1e-15)
        assert_allclose(
            gm.jacobian(x, 0.5), np.broadcast_to(-4.0 * np.eye(2), (2, 2, 2)), rtol=1e-15
        )

    def test_negligible_negative_eigenvalue_is_zeroed(self):
        # An eigenvalue of −1e-14 relative to the largest is rounding, within EIGENVALUE_CUTOFF.
        cov = np.diag([1.0, -1e-14])
        gm = GaussianMixture([1.0], [[0.0, 0.0]], [cov])
        assert np.min(gm.eigvals) == 0.0

    @pytest.mark.parametrize(
        ("weights", "means", "covariances", "match"),
        [
            ([0.5, 0.6], [[0.0], [1.0]], [[[1.0]], [[1.0]]], "weights must sum to 1"),
            ([0.5, 0.4], [[0.0], [1.0]], [[[1.0]], [[1.0]]], "weights must sum to 1"),
            ([1.5, -0.5], [[0.0], [1.0]], [[[1.0]], [[1.0]]], "weights must be > 0"),
            ([1.0, 0.0], [[0.0], [1.0]], [[[1.0]], [[1.0]]], "weights must be > 0"),
            ([[0.5, 0.5]], [[0.0], [1.0]], [[[1.0]], [[1.0]]], "weights must be 1-D"),
            ([0.5, np.nan], [[0.0], [1.0]], [[[1.0]], [[1.0]]], "weights must be finite"),
            ([0.5, 0.5], [[0.0], [1.0], [2.0]], [[[1.0]], [[1.0]]], "means must have shape"),
            ([0.5, 0.5], [0.0, 1.0], [[[1.0]], [[1.0]]], "means must have shape"),
            ([0.5, 0.5], [[0.0], [np.inf]], [[[1.0]], [[1.0]]], "means must be finite"),
            ([0.5, 0.5], [[0.0], [1.0]], [[[1.0]]], "covariances must have shape"),
            ([0.5, 0.5], [[0.0], [1.0]], [[1.0], [1.0]], "covariances must have shape"),
            (
                [0.5, 0.5],
                [[0.0, 0.0], [1.0, 0.0]],
                np.ones((2, 2, 3)),
                "covariances must have shape",
            ),
            ([0.5, 0.5], [[0.0], [1.0]], [[[1.0]], [[np.nan]]], "covariances must be finite"),
            ([0.5, 0.5], [[0.0], [1.0]], [[[1.0]], [[-0.1]]], "positive semi-definite"),
            (
                [1.0],
                [[0.0, 0.0]],
                [[[1.0, 2.0], [2.0, 1.0]]],  # eigenvalues 3 and −1
                "positive semi-definite",
            ),
            ([1.0], [[0.0, 0.0]], [[[1.0, 0.5], [0.0, 1.0]]], "symmetric"),
        ],
    )
    def test_bad_input(self, weights, means, covariances, match):
        with pytest.raises(ValueError, match=match):
            GaussianMixture(weights, means, covariances)


# FiniteSet at σ = 1e-4, 50 digits. Points are exact binary fractions so that mpmath sees the same
# numbers as float64. The reference is the definition, with no log-sum-exp tricks:
#   p(x) = (1/m) Σ_i (2πσ²)^{-d/2} exp(−|x − y_i|²/2σ²),   score = Σ_i w_i (y_i − x)/σ²,
#   J = −I/σ² + Σ_i w_i (y_i − x)(y_i − x)ᵀ/σ⁴ − score scoreᵀ.
def _mp_finite_set(points, x, sigma):
    with mpmath.workdps(DPS):
        sigma = mpmath.mpf(sigma)
        ys = [mpmath.matrix([mpmath.mpf(v) for v in y]) for y in points.tolist()]
        xm = mpmath.matrix([mpmath.mpf(v) for v in x.tolist()])
        m, d = points.shape
        diffs = [y - xm for y in ys]
        kernels = [mpmath.exp(-sum(c**2 for c in df) / (2 * sigma**2)) for df in diffs]
        total = sum(kernels)
        log_p = mpmath.log(total / m) - d * mpmath.log(2 * mpmath.pi * sigma**2) / 2
        score = sum((k * df for k, df in zip(kernels, diffs, strict=True)), mpmath.zeros(d, 1))
        score = score / (total * sigma**2)
        second = sum(
            (k * df * df.T for k, df in zip(kernels, diffs, strict=True)), mpmath.zeros(d, d)
        )
        jac = -mpmath.eye(d) / sigma**2 + second / (total * sigma**4) - score * score.T
        to_np = np.vectorize(float)
        return float(log_p), to_np(np.array(score.tolist())).ravel(), to_np(np.array(jac.tolist()))


_FS_POINTS = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.5, 2.0]])
_FS_SIGMA = 1e-4


class TestFiniteSet:
    @pytest.mark.parametrize(
        "x",
        [
            np.array([0.0, 0.0]) + _FS_SIGMA * np.array([0.3, -0.7]),  # next to one point
            np.array([1.0, 1.0]) + _FS_SIGMA * np.array([-2.0, 1.5]),  # next to another
            np.array([3.0, -2.0]),  # far from all: log p ≈ −1e9, one weight dominates
            np.array([0.5, 3e-5]),  # exactly equidistant from (0,0) and (1,0): w = (½, ½)
        ],
    )
    def test_mpmath(self, x):
        fs = FiniteSet(_FS_POINTS)
        log_p, score, jac = _mp_finite_set(_FS_POINTS, x, _FS_SIGMA)
        assert np.isfinite(fs.log_density(x, _FS_SIGMA))
        assert np.all(np.isfinite(fs.score(x, _FS_SIGMA)))
        assert_allclose(fs.log_density(x, _FS_SIGMA), log_p, rtol=1e-14)
        # |y − x|²/2σ² ≈ 1e8·|y − x|² carries ≈ 1e8·ε ≈ 1e-8 absolute rounding; with one dominant
        # weight that only reaches the score through exponentially small weights.
        assert_allclose(fs.score(x, _FS_SIGMA), score, rtol=1e-13)
        # The Jacobian −I/σ² + Cov/σ⁴ cancels down to the size of |J|; compare norm-wise.
        _assert_close_normwise(fs.jacobian(x, _FS_SIGMA), jac, rtol=1e-12)

    def test_mpmath_balanced_generic(self):
        # Nearly equidistant from (0,0) and (1,0) with an offset of order σ²: both weights O(1).
        # Here the weights depend on the logit difference Δ = (x₁ − ½)/σ² computed from two terms
        # of size 1/(8σ²) = 1.25e7, each rounded to ≈ ε·1.25e7 ≈ 3e-9: Δ (and each weight) is only
        # good to ≈ 1e-8 absolute, and the score, a difference of two terms of size 1/(2σ²) = 5e7,
        # to ≈ 5e7·1e-8 ≈ 0.3. The problem itself is that ill conditioned (|J|·|x| ≈ 1e15·|score|).
        x = np.array([0.5 + 0.7 * _FS_SIGMA**2, 0.3 * _FS_SIGMA])
        fs = FiniteSet(_FS_POINTS)
        log_p, score, _ = _mp_finite_set(_FS_POINTS, x, _FS_SIGMA)
        assert_allclose(fs.log_density(x, _FS_SIGMA), log_p, rtol=1e-14)
        assert_allclose(fs.score(x, _FS_SIGMA), score, rtol=0, atol=1e-7 / (2 * _FS_SIGMA**2))

    def test_single_point(self):
        # m = 1: p_σ = N(y, σ²I).
        y = np.array([0.25, -0.5, 2.0])
        fs = FiniteSet([y])
        x = np.random.default_rng(50).standard_normal((3, 3))
        ref = multivariate_normal(y, 0.09 * np.eye(3)).logpdf(x)
        assert_allclose(fs.log_density(x, 0.3), ref, rtol=1e-14)
        assert_allclose(fs.score(x, 0.3), -(x - y) / 0.09, rtol=1e-14)
        assert_allclose(fs.denoiser(x, 0.3), np.broadcast_to(y, (3, 3)), rtol=1e-14)

    def test_chunking_matches_unchunked(self, monkeypatch):
        # Large batches are split into chunks: the result must not depend on the chunk size.
        import theory.distributions as dist

        fs = _finite_set()
        x = np.random.default_rng(51).standard_normal((10, 3))
        sigma = np.linspace(0.1, 1.0, 10)
        whole = (fs.score(x, sigma), fs.jacobian(x, sigma), fs.log_density(x, sigma))
        monkeypatch.setattr(dist, "_FINITE_SET_FLOATS", 3 * 6 * 3)  # chunks of 3 points
        chunked = (fs.score(x, sigma), fs.jacobian(x, sigma), fs.log_density(x, sigma))
        for a, b in zip(whole, chunked, strict=True):
            assert_allclose(a, b, rtol=1e-15, atol=0)

    @pytest.mark.parametrize(
        ("points", "match"),
        [
            ([1.0, 2.0], "points must have shape"),
            (np.zeros((0, 2)), "points must have shape"),
            (np.zeros((2, 2, 2)), "points must have shape"),
            ([[0.0, np.nan]], "points must be finite"),
        ],
    )
    def test_bad_input(self, points, match):
        with pytest.raises(ValueError, match=match):
            FiniteSet(points)
