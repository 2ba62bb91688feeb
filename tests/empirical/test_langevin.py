"""Langevin and TS Langevin against exact Euler–Maruyama stationary laws; the mixing diagnostics."""

import jax.numpy as jnp
import numpy as np
import pytest

import empirical.langevin as lv
from empirical.langevin import (
    effective_sample_size,
    integrated_autocorr_time,
    langevin,
    stationarity_gap,
)

M = np.array([1.0, -0.5])
C = np.array([[1.0, 0.3], [0.3, 0.25]])
PRECISION = jnp.asarray(np.linalg.inv(C))


def gaussian_score(x, sigma):
    """Score of N(M, C) (independent of σ)."""
    return -PRECISION @ (x - jnp.asarray(M))


V = 1.0


def scalar_gaussian_score(x, sigma):
    """Score of N(0, V I)."""
    return -x / V


def em_covariance(c_drift, cov, h):
    """Stationary covariance of X ← X − h c C⁻¹X + √(2h) ξ: (c C⁻¹)⁻¹ (I − h c C⁻¹/2)⁻¹."""
    a = c_drift * np.linalg.inv(cov)
    return np.linalg.inv(a @ (np.eye(len(cov)) - 0.5 * h * a))


def cov_z(samples, predicted):
    """z-scores of the sample covariance's entries: Var(S_ij) ≈ (Σ_ii Σ_jj + Σ_ij²)/n."""
    n = samples.shape[0]
    se = np.sqrt((np.outer(np.diag(predicted), np.diag(predicted)) + predicted**2) / n)
    return (np.cov(samples.T) - predicted) / se


def test_plain_langevin_gaussian_stationary_law(rng):
    h, n = 0.05, 4000
    # 300 steps from the origin: the slowest mode (rate ≈ 0.9) has relaxed by e^{-13}
    y = langevin(gaussian_score, np.zeros((n, 2)), 0.3, h, 300, rng)
    assert y.dtype == np.float64 and y.shape == (n, 2)
    predicted = em_covariance(1.0, C, h)
    z_mean = (y.mean(axis=0) - M) / np.sqrt(np.diag(predicted) / n)
    assert np.all(np.abs(z_mean) < 4)
    assert np.all(np.abs(cov_z(y, predicted)) < 4)
    # the Euler bias O(h) is resolved: the continuous-time covariance C is rejected
    assert np.max(np.abs(cov_z(y, C))) > 5


@pytest.mark.parametrize("alpha", [0.5, 1.0])
def test_tempered_and_rescaled_forms_share_the_stationary_law(rng, alpha):
    sigma, n = 0.25, 4000
    # tempered: c = σ^α/V, D = 1; EM variance V σ^{-α}/(1 − h σ^α/(2V))
    h_t = 0.2
    yt = langevin(scalar_gaussian_score, np.zeros((n, 1)), sigma, h_t, 400, rng, alpha=alpha)
    var_t = V * sigma**-alpha / (1 - h_t * sigma**alpha / (2 * V))
    # rescaled: c = σ²/V, D = σ^{2−α}; EM variance V σ^{-α}/(1 − h σ²/(2V))
    h_r = 0.5
    yr = langevin(
        scalar_gaussian_score, np.zeros((n, 1)), sigma, h_r, 1000, rng, alpha=alpha, form="rescaled"
    )
    var_r = V * sigma**-alpha / (1 - h_r * sigma**2 / (2 * V))
    for y, var in ((yt, var_t), (yr, var_r)):
        z = (np.var(y, ddof=1) - var) / (var * np.sqrt(2 / n))
        assert abs(z) < 4
        # untempered (variance V) is far off
        assert abs(np.var(y) - V) / (V * np.sqrt(2 / n)) > 10
    # the two forms agree on the continuous-time law V σ^{-α} once their Euler biases are removed
    corrected = [
        np.var(yt) * (1 - h_t * sigma**alpha / 2),
        np.var(yr) * (1 - h_r * sigma**2 / 2),
    ]
    assert abs(corrected[0] - corrected[1]) < 4 * V * sigma**-alpha * np.sqrt(4 / n)


def test_rescaled_step_is_a_tempered_step_of_h_sigma_to_the_2_minus_alpha():
    sigma, alpha, h = 0.3, 0.7, 0.05
    x = np.random.default_rng(0).standard_normal((16, 2))
    yr = langevin(
        gaussian_score, x, sigma, h, 50, np.random.default_rng(1), alpha=alpha, form="rescaled"
    )
    yt = langevin(gaussian_score, x, sigma, h * sigma ** (2 - alpha), 50, np.random.default_rng(1),
                  alpha=alpha)  # fmt: skip
    np.testing.assert_allclose(yr, yt, rtol=1e-12, atol=1e-12)


def test_matches_a_numpy_loop_on_the_same_seed_and_blocks_do_not_matter(monkeypatch):
    sigma, alpha, h, k = 0.2, 1.0, 0.1, 37
    x = np.random.default_rng(0).standard_normal((8, 2))
    rng = np.random.default_rng(5)
    ref = x.copy()
    prec = np.linalg.inv(C)
    for _ in range(k):
        ref = (
            ref
            + h * sigma**alpha * (-(ref - M) @ prec)
            + np.sqrt(2 * h) * rng.standard_normal(ref.shape)
        )
    got = langevin(gaussian_score, x, sigma, h, k, np.random.default_rng(5), alpha=alpha)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)
    # tiny noise blocks (one step, then 10 steps with thin=5) give the same numbers
    monkeypatch.setattr(lv, "_NOISE_BLOCK_BYTES", 1)
    again = langevin(gaussian_score, x, sigma, h, k, np.random.default_rng(5), alpha=alpha)
    np.testing.assert_array_equal(again, got)
    monkeypatch.setattr(lv, "_NOISE_BLOCK_BYTES", 10 * 8 * 2 * 8)
    last, kept = langevin(
        gaussian_score, x, sigma, h, k, np.random.default_rng(5), alpha=alpha, thin=5
    )
    np.testing.assert_array_equal(last, got)
    assert kept.shape == (7, 8, 2)
    first = langevin(gaussian_score, x, sigma, h, 35, np.random.default_rng(5), alpha=alpha)
    np.testing.assert_array_equal(kept[-1], first)


def test_same_seed_same_numbers_other_seed_other_numbers():
    x = np.zeros((32, 2))
    a = langevin(gaussian_score, x, 0.5, 0.1, 20, np.random.default_rng(3), alpha=1.0)
    b = langevin(gaussian_score, x, 0.5, 0.1, 20, np.random.default_rng(3), alpha=1.0)
    c = langevin(gaussian_score, x, 0.5, 0.1, 20, np.random.default_rng(4), alpha=1.0)
    np.testing.assert_array_equal(a, b)
    assert np.max(np.abs(a - c)) > 0.1


def test_two_start_check_flags_an_unmixed_chain_and_passes_a_mixed_one():
    h, n = 0.02, 2000
    starts = (np.full((n, 1), -5.0), np.full((n, 1), 5.0))

    def run(k, seed, thin=None):
        return [
            langevin(
                scalar_gaussian_score, x, 1.0, h, k, np.random.default_rng(seed + i), thin=thin
            )
            for i, x in enumerate(starts)
        ]

    short = run(10, 0)
    assert abs(stationarity_gap(short[0][:, 0], short[1][:, 0]).z) > 20
    mixed = run(1500, 10)  # τ = 30: the offset 5 has decayed to 5e^{-30}
    gap = stationarity_gap(mixed[0][:, 0], mixed[1][:, 0])
    assert abs(gap.z) < 4
    assert gap.se_a == pytest.approx(np.sqrt(1 / (1 - h / 2) / n), rel=0.1)
    # as (T, n) series of thinned states: the tail of a long run passes, the relaxing start fails
    (_, ka), (_, kb) = run(3000, 20, thin=10)
    assert abs(stationarity_gap(ka[150:, :50, 0], kb[150:, :50, 0]).z) < 4
    assert abs(stationarity_gap(ka[:20, :50, 0], kb[:20, :50, 0]).z) > 4


@pytest.mark.parametrize("rho", [0.0, 0.5, 0.9])
def test_autocorrelation_time_of_ar1(rng, rho):
    t, m = 4000, 100
    x = np.empty((t, m))
    x[0] = rng.standard_normal(m)
    eps = rng.standard_normal((t, m)) * np.sqrt(1 - rho**2)
    for i in range(1, t):
        x[i] = rho * x[i - 1] + eps[i]
    tau = (1 + rho) / (1 - rho)
    # Sokal's variance for window M ≈ 5τ: Var(τ̂)/τ² ≈ 2(2M + 1)/N
    rel = np.sqrt(2 * (2 * 5 * tau + 1) / (t * m))
    assert integrated_autocorr_time(x) == pytest.approx(tau, rel=4 * rel)
    assert effective_sample_size(x) == pytest.approx(t * m / tau, rel=4 * rel)


def test_autocorrelation_time_of_one_series_and_of_a_trend():
    x = np.random.default_rng(0).standard_normal(20_000)
    assert integrated_autocorr_time(x) == pytest.approx(1.0, abs=0.1)
    # a slow trend is far from uncorrelated
    assert integrated_autocorr_time(np.cumsum(x)) > 50


def test_bad_input():
    x, rng = np.zeros((4, 2)), np.random.default_rng(0)
    s = gaussian_score
    for kwargs, word in [
        ({"sigma": 0.0}, "sigma"),
        ({"sigma": -1.0}, "sigma"),
        ({"step": 0.0}, "step"),
        ({"n_steps": 0}, "n_steps"),
        ({"n_steps": 2.5}, "n_steps"),
        ({"alpha": -0.5}, "alpha"),
        ({"form": "hat"}, "form"),
        ({"thin": 0}, "thin"),
        ({"x_init": np.zeros(4)}, "x_init"),
        ({"x_init": np.full((4, 2), np.nan)}, "x_init"),
        ({"x_init": np.zeros((4, 3))}, "score"),
    ]:
        args = {"x_init": x, "sigma": 0.1, "step": 0.1, "n_steps": 3} | kwargs
        with pytest.raises(ValueError, match=word):
            langevin(s, args.pop("x_init"), args.pop("sigma"), args.pop("step"),
                     args.pop("n_steps"), rng, **args)  # fmt: skip
    with pytest.raises(ValueError, match=r"score must map one point of shape \(2,\)"):
        langevin(lambda x, sigma: x[:1], x, 0.1, 0.1, 3, rng)
    with pytest.raises(TypeError, match="rng"):
        langevin(s, x, 0.1, 0.1, 3, 0)
    with pytest.raises(TypeError, match="score"):
        langevin(None, x, 0.1, 0.1, 3, rng)
    with pytest.raises(ValueError, match="non-finite"):
        langevin(s, x, 1.0, 10.0, 200, rng)  # unstable step
    with pytest.raises(ValueError, match="series"):
        integrated_autocorr_time(np.zeros(10))
    with pytest.raises(ValueError, match="series"):
        integrated_autocorr_time(np.ones(1))
    with pytest.raises(ValueError, match="stat_b"):
        stationarity_gap(np.ones(5), np.ones(1))
