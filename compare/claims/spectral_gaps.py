"""Claims of Ventura et al., *Manifolds, random matrices and spectral gaps* (paper key
``spectral_gaps``; research note paper001).

Convention: VE with t = σ² (x_t = x_0 + √t ε); covariance C = F diag(τ) Fᵀ with F ∈ R^{N×D} of
i.i.d. N(0, 1/N) entries (the note's variant (a)), α_k = D_k/N, τ_k = σ_k². The plotted spectrum is
that of −tJ (spike at 1, tangent bulk at t/(t + λ)).

Gaps and phase boundaries are read off the eigenvalues of −tJ_t, with J_t = −(C + tI)⁻¹ the
closed-form Jacobian, computed at every t of a grid (an N × N inverse and ``eigvalsh``), never by
mapping the eigenvalues of C through μ = t/(t + λ).
"""

from __future__ import annotations

import numpy as np
from scipy import integrate, linalg, stats

from compare.claim import Check, Context, FigureSpec, Outcome, Training, check
from compare.claims._common import max_relative_error, measured_once, unjudged_at_quick
from compare.registry import claim
from compare.style import PALETTE
from empirical.autodiff import autodiff_jacobian
from empirical.data import linear_manifold, random_projection
from empirical.jacobians import probe_singular_values
from theory import spectra

PAPER = "spectral_gaps"

# The note's two-variance reference case (T7): α₁ = α₂ = 0.2, σ₁ = 1, σ₂ = 0.1.
ALPHAS2 = (0.2, 0.2)
SIGMAS2 = (1.0, 0.1)

# Single draws of an extreme eigenvalue: λ_edge = γ(1 ∓ s(N)·TW₁) with TW₁ Tracy–Widom (β = 1) and a
# relative scale s(N) ∝ N^(−2/3) (see _edge_scales). A percentile of single draws is held to TW_Q·s(N).
EDGE_PERCENTILE = 80
# TW_Q = 4 lies above the 99th percentile of |TW₁| (the 1% quantile of TW₁ is −3.90). At N = 100 the
# finite-N tail of λ_min is fatter (3% of 2 000 independent draws beyond 4 s₋); the nearest-rank 80th
# percentile then fails by chance with probability < 1% for 5 draws and < 0.1% for 20.
TW_Q = 4.0

# The negative control of the Marchenko–Pastur claims: the law with τ 10% low (both edges 10% low).
MP_CONTROL_SCALE = 0.9


def random_linear_manifold(n_ambient: int, n_latent: int, taus, seed: int):
    """N(0, F diag(τ) Fᵀ) with F of i.i.d. N(0, 1/N) entries (paper001 §2.2, variant (a)), seeded."""
    return linear_manifold(random_projection(n_ambient, n_latent, seed), taus)


def _covariance(n_ambient: int, taus, seed: int) -> np.ndarray:
    """C = F diag(τ) Fᵀ of :func:`random_linear_manifold` (same seeded F), without building the spec."""
    taus = np.asarray(taus, dtype=np.float64)
    f = random_projection(n_ambient, taus.size, seed)
    cov = (f * taus) @ f.T
    return 0.5 * (cov + cov.T)


def _two_level_taus(n_ambient, alphas, sigmas):
    sizes = [round(a * n_ambient) for a in alphas]
    return np.concatenate([np.full(m, s**2) for m, s in zip(sizes, sigmas, strict=True)]), sizes


def _nonzero_eigs(spec, n_latent):
    """The D nonzero eigenvalues of C, ascending (eigvalsh of the covariance)."""
    return np.sort(np.linalg.eigvalsh(spec.covariances[0]))[-n_latent:]


def _minus_tj_spectrum(spec, t):
    """Eigenvalues of −tJ from the closed-form Jacobian (constant in x), ascending."""
    j = spec.jacobian(np.zeros(spec.d), np.sqrt(t))
    return np.sort(np.linalg.eigvalsh(-t * j))


def _minus_tj_eigs(cov, t, subset: tuple[int, int] | None = None):
    """Eigenvalues of −tJ_t, ascending, with J_t = −(C + tI)⁻¹ (an N × N inverse, then eigvalsh);
    only those of ascending indices ``subset = (lo, hi)`` (inclusive) if given.

    The inverse comes from the Cholesky factor (LAPACK potrf, potri: lower triangle only, which
    eigh reads), a third faster than a general LU inverse at N = 1000."""
    factor, info = linalg.lapack.dpotrf(cov + t * np.eye(cov.shape[0]), lower=1, clean=0)
    if info == 0:
        inverse, info = linalg.lapack.dpotri(factor, lower=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"C + tI is not positive definite at t = {t:.3g} (info {info})")
    minus_tj = t * inverse
    if subset is None:
        return linalg.eigh(minus_tj, eigvals_only=True, lower=True)
    return linalg.eigh(
        minus_tj, eigvals_only=True, lower=True, subset_by_index=list(subset), driver="evx"
    )


@measured_once
def _minus_tj_eigs_grid(n: int, taus: tuple, seed: int, ts: tuple) -> np.ndarray:
    """(len(ts), N) eigenvalues of −tJ_t at each t of ``ts`` (:func:`_minus_tj_eigs`) for the seeded
    covariance :func:`_covariance` ``(n, taus, seed)``. Kept for controls that move only a prediction."""
    cov = _covariance(n, np.array(taus), seed)
    return np.array([_minus_tj_eigs(cov, t) for t in ts])


def _mp_law(ctx: Context):
    """The Marchenko–Pastur law of α = 0.4, τ = 1; under the control τ is 10% low (edges 10% low)."""
    # control: the fault is planted here, in the prediction
    return spectra.marchenko_pastur(0.4, MP_CONTROL_SCALE if ctx.control else 1.0)


def _edge_scales(n: int, alpha: float) -> tuple[float, float]:
    """Relative Tracy–Widom scales (s₋, s₊) of the extreme nonzero eigenvalues of F Fᵀ (F: N × αN).

    λ_min ≈ γ₋(1 − s₋ TW₁) and λ_max ≈ γ₊(1 + s₊ TW₁), with (Johnstone 2001; Ma 2012 for the soft
    lower edge, α < 1) s₋ = (1/√α − 1)^(1/3)/(1 − √α)·N^(−2/3) and s₊ = (1/√α + 1)^(1/3)/(1 + √α)·N^(−2/3).
    α = 0.4: s₋ = 2.27 N^(−2/3), s₊ = 0.84 N^(−2/3) (2.3% and 0.84% at N = 1000).
    """
    r = np.sqrt(alpha)
    scale = n ** (-2.0 / 3.0)
    return float((1 / r - 1) ** (1 / 3) / (1 - r) * scale), float(
        (1 / r + 1) ** (1 / 3) / (1 + r) * scale
    )


def _percentile(values, axis=None):
    """The EDGE_PERCENTILE-th percentile by nearest rank (an actual draw)."""
    return np.percentile(values, EDGE_PERCENTILE, axis=axis, method="inverted_cdf")


def _log_crossing(ts, values, level):
    """The first t along ``ts`` where ``values`` crosses ``level``, interpolated linearly in log t.

    NaN when ``values`` stays on one side of ``level``. Pass the arrays reversed for the last crossing.
    """
    above = np.asarray(values) > level
    past = np.nonzero(above != above[0])[0]
    if past.size == 0:
        return float("nan")
    k = int(past[0])  # first grid point past the crossing
    u0, u1 = np.log(ts[k - 1]), np.log(ts[k])
    v0, v1 = values[k - 1], values[k]
    return float(np.exp(u0 + (level - v0) / (v1 - v0) * (u1 - u0)))


def _grid_term(ts) -> float:
    """Relative error bound of a log-linear interpolated crossing of a logistic μ(log t) on this grid.

    μ = t/(t + λ) is logistic in u = log t (μ'' / μ' = 1 − 2μ ∈ [−1, 1]); the root of the linear
    interpolant over a step h is off by at most h²/8 · max|μ''| / min|μ'| ≤ h² e^h / 8 in u.
    """
    h = float(np.log(ts[1] / ts[0]))
    return float(np.expm1(h * h * np.exp(h) / 8))


# --------------------------------------------------------------------------------------------
# T1–T3


@measured_once
def _linear_jacobians(n_ambient: int, n_latent: int, ts: tuple, n: int, seed: int):
    """T1 errors of the closed-form J against autodiff (max over t), and eigvalsh(−tJ) per t, on n
    seeded points per t. Kept for the control, which moves only the predicted bulk map."""
    spec = random_linear_manifold(n_ambient, n_latent, np.ones(n_latent), seed)
    rng = np.random.default_rng(seed + 1)
    err_ad = err_x = 0.0
    mus = []
    for t in ts:
        sigma = np.sqrt(t)
        x = rng.standard_normal((n, n_ambient)) * 2.0
        j = spec.jacobian(x, sigma)
        j_ad = autodiff_jacobian(spec, x, sigma)
        err_ad = max(err_ad, max_relative_error(j_ad, j))
        # x-independence on the autodiff Hessians at n different points, not on the closed form
        err_x = max(err_x, max_relative_error(j_ad, j_ad[:1]))
        mus.append(np.sort(np.linalg.eigvalsh(-t * j[0])))
    return err_ad, err_x, np.array(mus)


@claim(
    id="spectral_gaps.linear_spectrum",
    paper=PAPER,
    kind="exact",
    statement="For data on a random linear manifold the score Jacobian is J_t = −(C + tI)⁻¹, independent of x; "
    "−tJ has eigenvalue 1 with multiplicity N − D and the other D eigenvalues are t/(t + λ_i(C)).",
    source="paper001 §2.2 and §6 T1–T3 [D]; N = 100, D = 40, τ = 1",
    control="the predicted bulk map uses σ for t (t/(√t + λ) instead of t/(t + λ))",
)
def linear_spectrum(ctx: Context) -> Outcome:
    n_ambient, n_latent = 100, 40
    spec = random_linear_manifold(n_ambient, n_latent, np.ones(n_latent), ctx.seed)
    lam_c = _nonzero_eigs(spec, n_latent)
    ts = ctx.profile.pick(quick=(1e-3, 0.1, 10.0), full=(1e-3, 1e-2, 0.1, 1.0, 10.0))
    n = ctx.profile.pick(quick=3, full=8)
    err = {"T3 bulk map": 0.0}
    err["T1 autodiff"], err["T1 x-independence (autodiff)"], mus = _linear_jacobians(
        n_ambient, n_latent, ts, n, ctx.seed
    )
    spike = {}
    for t, mu in zip(ts, mus, strict=True):
        spike[t] = int(np.sum(np.abs(mu - 1) < 1e-8))
        # control: σ ↔ t swapped in the closed form of the bulk
        predicted = t / ((np.sqrt(t) if ctx.control else t) + lam_c)
        err["T3 bulk map"] = max(
            err["T3 bulk map"], max_relative_error(mu[:n_latent], np.sort(predicted))
        )
    tol = {"T1 autodiff": 1e-10, "T1 x-independence (autodiff)": 1e-10, "T3 bulk map": 1e-10}
    checks = [check(f"{k} (max rel err)", err[k], "<", tol[k]) for k in tol]
    checks += [
        check(f"T2 spike multiplicity at t={t:g}", m, "==", n_ambient - n_latent)
        for t, m in spike.items()
    ]
    return Outcome(
        predicted={"max relative error": 0, "spike multiplicity N − D": n_ambient - n_latent},
        measured={**err, "spike multiplicity (per t)": list(spike.values())},
        tolerance={**tol, "spike": "exact, eigenvalues within 1e-8 of 1"},
        checks=checks,
        notes=f"t ∈ {ts}, {n} random points each. The note's T1 says max abs error < 1e-10; entries of J reach "
        "1/t = 1000 at t = 1e-3, so the error is taken relative to max |J|. x-independence compares the "
        "autodiff Hessians of log p_t (jax, float64) at the different points with each other. λ_i(C) from "
        "eigvalsh of C, −tJ spectrum from eigvalsh of the closed-form J: two separate routes. Covers T1–T3.",
    )


# --------------------------------------------------------------------------------------------
# T4, T5: Marchenko–Pastur edges and density of the tangent bulk


@measured_once
def _extreme_eigs(n, alpha, n_draws, seed):
    """(λ_min, λ_max) of the nonzero spectrum of F Fᵀ for ``n_draws`` seeded F (via the D×D FᵀF)."""
    out = []
    for i in range(n_draws):
        f = random_projection(n, int(alpha * n), seed + i)
        e = np.linalg.eigvalsh(f.T @ f)
        out.append((e[0], e[-1]))
    return np.array(out)


@claim(
    id="spectral_gaps.mp_edges",
    paper=PAPER,
    kind="sampled",
    statement="The nonzero covariance eigenvalues of a single-variance linear manifold fill the Marchenko–Pastur "
    "interval [τ(1 − √α)², τ(1 + √α)²], α = D/N, with finite-N edges converging as N grows.",
    source="paper001 §2.3 Eq. 16 [R] and §6 T4; α = 0.4, τ = 1",
    control="the predicted Marchenko–Pastur edges are 10% low (τ = 0.9 instead of 1)",
)
def mp_edges(ctx: Context) -> Outcome:
    mp = _mp_law(ctx)
    sizes = ctx.profile.pick(quick=[100, 1000], full=[100, 300, 1000, 3000])
    n_draws = ctx.profile.pick(quick=5, full=20)
    tol = {1000: 0.03}  # mean of draws, judged at N = 1000 (see notes)
    measured, checks, worst, single_tol = {}, [], [], {}
    for n in sizes:
        # N = 3000 (the trend's end, not judged on its mean) on 5 draws: each costs as much as 27 at
        # N = 1000; its mean's s.e. (≈ 0.006) is still far below the trend it shows
        ext = _extreme_eigs(n, 0.4, n_draws if n <= 1000 else 5, ctx.seed)
        rel = np.abs(ext / [mp.gamma_minus, mp.gamma_plus] - 1)  # per draw, (lower, upper)
        mean_err = float(np.max(np.abs(ext.mean(axis=0) / [mp.gamma_minus, mp.gamma_plus] - 1)))
        p_lo, p_hi = _percentile(rel, axis=0)
        s_lo, s_hi = _edge_scales(n, 0.4)
        measured[f"N={n} mean-edge rel err"] = mean_err
        measured[f"N={n} single-draw rel err, {EDGE_PERCENTILE}th pct (lower, upper)"] = [
            float(p_lo),
            float(p_hi),
        ]
        worst.append(mean_err)
        single_tol[f"N={n} (lower, upper)"] = [TW_Q * s_lo, TW_Q * s_hi]
        checks.append(
            check(
                f"N={n} lower edge, single draws ({EDGE_PERCENTILE}th pct)", p_lo, "<", TW_Q * s_lo
            )
        )
        checks.append(
            check(
                f"N={n} upper edge, single draws ({EDGE_PERCENTILE}th pct)", p_hi, "<", TW_Q * s_hi
            )
        )
        if n in tol:
            checks.append(check(f"N={n} mean of draws", mean_err, "<", tol[n]))
    checks.append(
        Check(
            name="error shrinks with N",
            value={f"N={sizes[0]}": worst[0], f"N={sizes[-1]}": worst[-1]},
            threshold=f"N={sizes[-1]} < N={sizes[0]}",
            held=bool(worst[-1] < worst[0]),
        )
    )
    return Outcome(
        predicted={"γ₋": mp.gamma_minus, "γ₊": mp.gamma_plus},
        measured=measured,
        tolerance={
            "N=1000 (mean of draws)": 0.03,
            f"single draws ({EDGE_PERCENTILE}th pct), {TW_Q:g}·s(N)": single_tol,
            "trend": "largest N better than smallest",
        },
        checks=checks,
        notes=f"Edges of {n_draws} seeded draws of F per N (5 at N = 3000). The note's 3% at N = 1000 is applied to their mean; it "
        "does not hold for one draw, because an extreme eigenvalue fluctuates on the Tracy–Widom scale "
        "λ_min ≈ γ₋(1 − s₋TW₁), λ_max ≈ γ₊(1 + s₊TW₁), s₋ = 2.27 N^(−2/3), s₊ = 0.84 N^(−2/3) at α = 0.4 "
        f"(2.3% and 0.84% at N = 1000). Single draws are therefore judged by the {EDGE_PERCENTILE}th percentile "
        f"(nearest rank) of |λ/γ − 1| over the draws, held to {TW_Q:g}·s(N) at every N: {TW_Q:g} lies above the "
        "99th percentile of |TW₁| (≈ 3.9); at N = 100 the finite-N tail of λ_min is fatter (3% of 2 000 "
        "independent draws beyond 4 s₋), so the percentile fails by chance with probability < 1% for 5 draws "
        "and < 0.1% for 20. The note's 15% at N = 100 (one draw: 'lower edge ~10% high') is "
        "replaced by this scale; the mean over 20 draws sits 18% high there, a finite-N bias of the lower edge "
        "(≈ 1.2 s₋) that the scale accounts for.",
    )


def _mp_cdf(mp, lam):
    """CDF of the Marchenko–Pastur law at each λ, by quadrature of its density."""
    lam = np.clip(
        np.atleast_1d(lam), mp.gamma_minus, mp.gamma_plus
    )  # the CDF is 0 / 1 outside the support
    return np.array([integrate.quad(mp.density, mp.gamma_minus, v, limit=200)[0] for v in lam])


@claim(
    id="spectral_gaps.mp_density",
    paper=PAPER,
    kind="sampled",
    statement="At t = √(γ₋γ₊) the tangent eigenvalues of −tJ follow the Marchenko–Pastur law mapped through "
    "μ = t/(t + λ).",
    source="paper001 §2.3 [R, D] and §6 T5; α = 0.4, τ = 1",
    control="the predicted Marchenko–Pastur law has τ 10% low (edges and density scaled by 0.9)",
)
def mp_density(ctx: Context) -> Outcome:
    mp = _mp_law(ctx)
    t = np.sqrt(mp.gamma_minus * mp.gamma_plus)
    tol = {100: 0.08, 1000: 0.015}
    measured, checks = {}, []
    for n in (100, 1000):
        d = int(0.4 * n)
        mu = _minus_tj_eigs(_covariance(n, np.ones(d), ctx.seed), t)[:d]  # the tangent part
        lam = t * (1 - mu) / mu  # μ ↦ λ is monotone, so KS in μ equals KS in λ
        ks = stats.kstest(lam, lambda v: _mp_cdf(mp, v)).statistic
        measured[f"KS N={n}"] = float(ks)
        checks.append(check(f"KS N={n}", float(ks), "<", tol[n]))
    return Outcome(
        predicted={"KS distance": 0, "t": float(t)},
        measured=measured,
        tolerance={f"KS N={n}": tol[n] for n in tol},
        checks=checks,
        notes="KS distance between the D tangent eigenvalues of −tJ (closed-form J, one seeded F) and the mapped "
        "MP CDF (quadrature of the MP density). KS is invariant under the monotone map μ = t/(t + λ).",
    )


# --------------------------------------------------------------------------------------------
# T6: the manifold gap


@measured_once
def _spectral_gaps(n: int, n_draws: int, ts: tuple, seed: int) -> np.ndarray:
    """(n_draws, len(ts)) gaps read off eigvalsh(−tJ) for D = 0.4 N, τ = 1: the spike (the lowest
    of the N − D eigenvalues at 1) minus the top of the tangent bulk. Kept for the control, which
    moves only the predicted edges."""
    d = int(0.4 * n)
    gaps = np.empty((n_draws, len(ts)))
    for i in range(n_draws):
        cov = _covariance(n, np.ones(d), seed + i)  # the F of _extreme_eigs' draw i
        for k, t in enumerate(ts):
            mu = _minus_tj_eigs(cov, t, subset=(d - 1, d))
            gaps[i, k] = mu[1] - mu[0]
    return gaps


@claim(
    id="spectral_gaps.manifold_gap",
    paper=PAPER,
    kind="sampled",
    statement="The manifold gap between the spike at 1 and the tangent bulk of −tJ is γ₋/(t + γ₋): 0 as t → ∞, "
    "1 as t → 0.",
    source="paper001 §2.3 (the paper's Eq. 15, 'isotropic gap formula') [R, D] and §6 T6; α = 0.4, τ = 1",
    control="the predicted γ₋ is 10% low (Marchenko–Pastur law with τ = 0.9)",
)
def manifold_gap(ctx: Context) -> Outcome:
    mp = _mp_law(ctx)
    # one t per decade; 10 draws: at N = 1000 a single draw's error fluctuates by about 0.03, so the
    # mean's s.e. (≈ 0.01) is a fifth of its 0.05 tolerance
    ts = np.geomspace(1e-3, 10.0, ctx.profile.pick(quick=3, full=5))
    n_draws = ctx.profile.pick(quick=5, full=10)
    predicted = spectra.manifold_gap(ts, mp.gamma_minus)
    tol = {1000: 0.05}  # mean of draws, judged at N = 1000; N = 100 is reported only (see notes)
    measured, checks, single_tol = {}, [], {}
    for n in (100, 1000):
        gaps = _spectral_gaps(n, n_draws, tuple(ts), ctx.seed)
        err = float(np.max(np.abs(gaps.mean(axis=0) / predicted - 1)))
        per_draw = np.max(np.abs(gaps / predicted - 1), axis=1)
        s_lo, _ = _edge_scales(n, 0.4)
        measured[f"max rel err N={n} (mean of draws)"] = err
        single = float(_percentile(per_draw))
        measured[f"max rel err N={n}, single draws ({EDGE_PERCENTILE}th pct)"] = single
        measured[f"gap N={n} (mean of draws)"] = gaps.mean(axis=0)
        single_tol[f"N={n}"] = TW_Q * s_lo
        checks.append(
            check(f"N={n} single draws ({EDGE_PERCENTILE}th pct)", single, "<", TW_Q * s_lo)
        )
        if n in tol:
            checks.append(check(f"N={n} mean of draws", err, "<", tol[n]))
    return Outcome(
        predicted={"gap(t)": predicted, "γ₋": mp.gamma_minus, "t": ts},
        measured=measured,
        tolerance={
            "N=1000 (mean of draws)": 0.05,
            "N=100 (mean of draws)": "reported, not judged (note's 15%)",
            f"single draws ({EDGE_PERCENTILE}th pct), {TW_Q:g}·s₋(N)": single_tol,
        },
        checks=checks,
        notes=f"{ts.size} log-spaced t in [1e-3, 10]; at each t the gap is read off eigvalsh(−tJ), J = −(C + tI)⁻¹, "
        f"as the lowest spike eigenvalue minus the largest tangent one, for {n_draws} seeded draws of F. "
        "Its relative error is that of λ_min times t/(t + λ_min) ≤ 1, so single draws fluctuate at most like the "
        f"lower edge (Tracy–Widom scale s₋ = 2.27 N^(−2/3), see spectral_gaps.mp_edges): the {EDGE_PERCENTILE}th "
        f"percentile of the per-draw max error is held to {TW_Q:g}·s₋(N) at both N. The mean of draws at N = 100 "
        "carries the finite-N upward bias of λ_min (≈ 1.2 s₋ ≈ 13%) and is reported only.",
    )


# --------------------------------------------------------------------------------------------
# T7, T8: the intermediate gap of two variances


def _bulks(ctx: Context):
    """Covariance bulks of the two-variance case (Silverstein); under the control the naive edges."""
    taus = [s**2 for s in SIGMAS2]
    if ctx.control:
        # control: each bulk from the single-level MP law of its own variance (the note's 'naive'
        # approximation, ~17% off for the low bulk) instead of the Silverstein equation
        laws = [spectra.marchenko_pastur(a, tau) for a, tau in zip(ALPHAS2, taus, strict=True)]
        return sorted((law.gamma_minus, law.gamma_plus) for law in laws)
    return spectra.silverstein_edges(ALPHAS2, taus)


def _log_peak(ts, values):
    """(t, value) of the maximum, refined by a parabola through the top three points in log t."""
    i = int(np.argmax(values))
    if i == 0 or i == len(values) - 1:
        return float(ts[i]), float(values[i])
    y0, y1, y2 = values[i - 1 : i + 2]
    h = np.log(ts[1] / ts[0])
    off = 0.5 * (y0 - y2) / (y0 - 2 * y1 + y2)
    return float(ts[i] * np.exp(off * h)), float(y1 - 0.25 * (y0 - y2) * off)


def _draw_gaps(fig, data):
    ax = fig.add_subplot(111)
    t = np.array(data["t"])
    ax.plot(
        t, data["manifold_gap"], color=PALETTE["theory"], label="manifold gap γ₋/(t+γ₋) (low bulk)"
    )
    ax.plot(t, data["intermediate_gap"], color=PALETTE["exact"], label="intermediate gap, theory")
    ax.plot(
        data["t_sample"],
        data["intermediate_gap_sample"],
        "o",
        ms=3,
        mfc="none",
        color=PALETTE["trained"],
        label=f"intermediate gap read off eig(−tJ), N = {data['n_sample']}",
    )
    ax.axhline(
        data["delta"], color="grey", lw=0.8, ls="--", label=f"resolution Δ = {data['delta']}"
    )
    lo, hi = data["window"]
    ax.axvspan(lo, hi, color=PALETTE["exact"], alpha=0.07, label="intermediate gap visible (> Δ)")
    ax.axvline(data["t_max"], color=PALETTE["exact"], lw=0.8, ls=":")
    for name, (a, b) in data["phases"].items():
        ax.text(np.sqrt(a * b), 1.02, name, ha="center", va="bottom", fontsize=8)
    for edge in data["phase_edges"]:
        ax.axvline(edge, color="grey", lw=0.6)
    ax.set_xscale("log")
    ax.set_ylim(0, 1.1)
    ax.set_xlabel("diffusion time t = σ² (VE)")
    ax.set_ylabel("gap width in the spectrum of −tJ")
    ax.set_title(
        f"Gaps and phases, α = (0.2, 0.2), σ = (1, 0.1); t_max = {data['t_max']:.4f}", pad=14
    )
    ax.legend(loc="center right", fontsize=7)


def _draw_spectra(fig, data):
    ax = fig.add_subplot(111)
    rank = np.array(data["rank"])
    colors = [PALETTE["exact"], PALETTE["trained"], PALETTE["alt"], "#9467bd"]
    for t, color in zip(data["times"], colors, strict=False):
        key = f"{t:.4g}"
        ax.plot(rank, data["exact"][key], ".", ms=2, color=color, label=f"exact score, t = {key}")
        ax.plot(rank, data["theory"][key], "-", lw=1, color=PALETTE["theory"])
    ax.plot([], [], "-", color=PALETTE["theory"], label="Silverstein quantiles, mapped μ = t/(t+λ)")
    ax.set_yscale("log")
    ax.set_xlabel("rank / N of the eigenvalue (ascending)")
    ax.set_ylabel("eigenvalue μ of −tJ (VE, t = σ²)")
    ax.set_title(
        f"Sorted spectra of −tJ, N = {data['n']}, α = (0.2, 0.2), σ = (1, 0.1); spike μ = 1 at rank > 0.4"
    )
    ax.legend(fontsize=7, loc="lower right")


@claim(
    id="spectral_gaps.intermediate_gap",
    paper=PAPER,
    kind="sampled",
    statement="With two variance levels the intermediate gap t(b − a)/((t + a)(t + b)) between the bulks peaks at "
    "t_max = √(ab) with width (√b − √a)/(√b + √a), and is wider than Δ on a window (t₋, t₊).",
    source="paper001 §2.4 Eqs. 18–25 [R, D] and §6 T7; α₁ = α₂ = 0.2, σ₁ = 1, σ₂ = 0.1, Δ = 0.1",
    control="the predicted bulk edges are the single-level Marchenko–Pastur edges of each variance (the "
    "note's naive approximation) instead of the Silverstein edges",
    figures=("gaps_and_phases", "spectra_across_t"),
)
def intermediate_gap(ctx: Context) -> Outcome:
    delta = 0.1
    taus = np.array([s**2 for s in SIGMAS2])
    bulks = _bulks(ctx)
    (_, a), (b, _) = bulks[0], bulks[1]
    t_max, d_max = spectra.gap_peak(a, b)
    t_close, t_open = spectra.gap_window(a, b, delta)
    n = 1000
    taus_n, sizes = _two_level_taus(n, ALPHAS2, SIGMAS2)
    d_n, d_high = taus_n.size, sizes[0]  # the first D₁ latent directions have σ₁ = 1
    # 4 (quick) or 6 (full) points per decade, so that 1e-2, 1e-1, 1 and 10 are grid points
    ts = np.geomspace(1e-3, 10.0, ctx.profile.pick(quick=17, full=25))
    eigs = _minus_tj_eigs_grid(n, tuple(taus_n), ctx.seed, tuple(ts))
    # μ = t/(t + λ) is smallest for the σ₁ = 1 bulk: the lower bulk of −tJ is its first D₁ values, the
    # upper bulk (σ₂ = 0.1, nearer the spike) the next D₂
    gap_s = eigs[:, d_high] - eigs[:, d_high - 1]
    t_peak, gap_peak = _log_peak(ts, gap_s)
    t_lo, t_hi = _log_crossing(ts, gap_s, delta), _log_crossing(ts[::-1], gap_s[::-1], delta)
    measured = {"t_max": t_peak, "Δ_max": gap_peak, "window": [t_lo, t_hi]}
    checks = [
        check("t_max within 10%", t_peak, "in", (0.9 * t_max, 1.1 * t_max)),
        check("Δ_max within 0.02", gap_peak, "in", (d_max - 0.02, d_max + 0.02)),
        check("t₋ within 10%", t_lo, "in", (0.9 * t_close, 1.1 * t_close)),
        check("t₊ within 10%", t_hi, "in", (0.9 * t_open, 1.1 * t_open)),
    ]
    fine = np.geomspace(1e-4, 1e3, 400)
    gm_low = bulks[0][0]
    t_cons, t_triv = spectra.phase_boundaries(gm_low, bulks[-1][1], delta)
    figure = FigureSpec(
        name="gaps_and_phases",
        draw=_draw_gaps,
        data={
            "t": fine,
            "manifold_gap": spectra.manifold_gap(fine, gm_low),
            "intermediate_gap": spectra.intermediate_gap(fine, a, b),
            "t_sample": ts,
            "intermediate_gap_sample": gap_s,
            "n_sample": n,
            "delta": delta,
            "window": [t_close, t_open],
            "t_max": t_max,
            "phase_edges": [t_cons, t_triv],
            "phases": {
                "consolidation": (1e-4, t_cons),
                "coverage": (t_cons, t_triv),
                "trivial": (t_triv, 1e3),
            },
        },
        config={"alphas": ALPHAS2, "sigmas": SIGMAS2, "edges": bulks, "seed": ctx.seed},
    )
    # Fig. 2 analogue: sorted exact spectra of the same N-sample against the mapped Silverstein quantiles,
    # at the grid points nearest 3e-3, t_max, 1 and 10
    lam_q = spectra.silverstein_quantiles((np.arange(d_n) + 0.5) / d_n, ALPHAS2, taus)
    near = [int(np.argmin(np.abs(np.log(ts / t)))) for t in (3e-3, t_max, 1.0, 10.0)]
    times = [float(ts[k]) for k in near]
    exact, theory = {}, {}
    for k, t in zip(near, times, strict=True):
        exact[f"{t:.4g}"] = eigs[k, :d_n]
        theory[f"{t:.4g}"] = np.sort(t / (t + lam_q))
    figures = [
        figure,
        FigureSpec(
            name="spectra_across_t",
            draw=_draw_spectra,
            data={
                "times": times,
                "rank": (np.arange(d_n) + 0.5) / n,
                "exact": exact,
                "theory": theory,
                "n": n,
            },
            config={
                "alphas": ALPHAS2,
                "sigmas": SIGMAS2,
                "seed": ctx.seed,
                "theory": "quantiles of the Silverstein law at (i + 1/2)/D, mapped by μ = t/(t + λ)",
            },
        ),
    ]
    return Outcome(
        predicted={
            "bulks": [list(b) for b in bulks],
            "t_max": t_max,
            "Δ_max": d_max,
            "window": [t_close, t_open],
        },
        measured=measured,
        tolerance={"t_max, t₋, t₊": "±10%", "Δ_max": 0.02},
        checks=checks,
        notes=f"Edges a, b from the Silverstein equation. The measurement reads the gap off eigvalsh(−tJ), "
        f"J = −(C + tI)⁻¹ of one seeded N = {n} draw, at {ts.size} log-spaced t in [1e-3, 10]: the lowest "
        "eigenvalue of the upper bulk (the σ₂ = 0.1 directions, nearer the spike) minus the largest of the lower "
        "bulk. t_max and Δ_max come from a parabola in log t through the three top grid points, t₋ and t₊ from "
        "log-linear interpolation of the crossings of Δ; on the closed form this read-off is within 3% "
        "(t₋, t₊) and 0.1% (t_max, Δ_max) at 4 points per decade. The phase boundaries in the figure use the outer edges γ₋ of the "
        "low bulk and γ₊ of the high bulk.",
        figures=figures,
    )


@claim(
    id="spectral_gaps.log_symmetry",
    paper=PAPER,
    kind="exact",
    statement="The intermediate gap opens and closes symmetrically about t_max on a log-t axis: t₋·t₊ = ab = t_max².",
    source="paper001 §2.4 Eqs. 20–21, 24 [R, D] and §6 T8",
    control="the predicted t_max is 5% high (as from a bulk edge 10% off in √(ab))",
)
def log_symmetry(ctx: Context) -> Outcome:
    taus = np.array([s**2 for s in SIGMAS2])
    bulks = spectra.silverstein_edges(ALPHAS2, taus)
    (_, a), (b, _) = bulks[0], bulks[1]
    t_max, d_max = spectra.gap_peak(a, b)
    if ctx.control:
        t_max *= 1.05  # control: the closed form of t_max scaled by 5%
    deltas = np.linspace(0.02, 0.98, 49) * d_max
    err = 0.0
    for delta in deltas:
        t_close, t_open = spectra.gap_window(a, b, delta)
        err = max(err, abs(t_close * t_open / t_max**2 - 1))
        err = max(
            err,
            abs(spectra.intermediate_gap(t_close, a, b) / delta - 1),
            abs(spectra.intermediate_gap(t_open, a, b) / delta - 1),
        )
    never = spectra.gap_window(a, b, min(0.999, d_max * 1.001))
    checks = [
        check("t₋t₊ = t_max² and Δ(t±) = Δ (max rel err)", err, "<", 1e-9),
        Check(
            name="invisible above Δ_max",
            value=never,
            threshold="window is None at Δ = 1.001 Δ_max",
            held=never is None,
        ),
    ]
    return Outcome(
        predicted={"t₋·t₊ / t_max²": 1, "window above Δ_max": None},
        measured={"max rel err": err, "window above Δ_max": never},
        tolerance={"rel err": 1e-9},
        checks=checks,
        notes=f"{deltas.size} resolutions Δ ∈ (0, Δ_max); also checks that the roots solve Δ(t) = Δ.",
    )


# --------------------------------------------------------------------------------------------
# T9: order of separation, on the exact field


def _group_departures(spec, projection, sizes, ts, delta):
    """Largest t at which each latent group's median eigenvalue of −tJ lies below 1 − Δ.

    Eigenvectors are assigned to a group when their overlap with span(F_k) exceeds 0.9.
    """
    bounds = np.cumsum([0, *sizes])
    bases = [np.linalg.qr(projection[:, bounds[k] : bounds[k + 1]])[0] for k in range(len(sizes))]
    departures = [None] * len(sizes)
    for t in sorted(ts, reverse=True):
        j = spec.jacobian(np.zeros(spec.d), np.sqrt(t))
        mu, vec = np.linalg.eigh(-t * j)
        for k, q in enumerate(bases):
            members = np.sum((q.T @ vec) ** 2, axis=0) > 0.9
            if departures[k] is None and members.sum() and np.median(mu[members]) < 1 - delta:
                departures[k] = float(t)
    return [float("nan") if v is None else v for v in departures]


def _order_check(name, first, second, labels) -> Check:
    """A check that departure ``first`` is later (larger t) than ``second``; NaN never holds."""
    return Check(
        name=name,
        value={labels[0]: first, labels[1]: second},
        threshold=f"{labels[0]} > {labels[1]}",
        held=bool(first > second),
    )


@claim(
    id="spectral_gaps.separation_order",
    paper=PAPER,
    kind="exact",
    statement="As t decreases the higher-variance subspace separates from the spike first (larger t); swapping "
    "the two variances swaps the order.",
    source="paper001 §2.4 'order of resolution' [R, D], Fig. 3 [R] and §6 T9; exact score, N = 100",
    control="the 'swapped' case is built with the variances not swapped (σ₁ = 1, σ₂ = 0.1 again)",
)
def separation_order(ctx: Context) -> Outcome:
    n, delta = 100, 0.1
    f = random_projection(n, 40, ctx.seed)
    ts = np.geomspace(1e-3, 1e2, ctx.profile.pick(quick=31, full=101))
    # control: the second case forgets to swap the variances (the fault is in the measured object)
    swapped = SIGMAS2 if ctx.control else SIGMAS2[::-1]
    result = {}
    for name, sigmas in (("σ₁=1, σ₂=0.1", SIGMAS2), ("swapped", swapped)):
        taus, sizes = _two_level_taus(n, ALPHAS2, sigmas)
        result[name] = _group_departures(linear_manifold(f, taus), f, sizes, ts, delta)
    (g1, g2), (s1, s2) = result["σ₁=1, σ₂=0.1"], result["swapped"]
    checks = [
        _order_check("group 1 (σ=1) departs first", g1, g2, ("group 1", "group 2")),
        _order_check("swapped: group 2 (σ=1) departs first", s2, s1, ("group 2", "group 1")),
    ]
    return Outcome(
        predicted={"first to depart": "the σ = 1 group, in both orders"},
        measured={k: {"group 1": v[0], "group 2": v[1]} for k, v in result.items()},
        tolerance="order only (qualitative, deterministic)",
        checks=checks,
        notes=f"Departure = largest t on a {ts.size}-point log grid in [1e-3, 100] where the group's median "
        f"eigenvalue of −tJ is below 1 − Δ, Δ = {delta}; groups by eigenvector overlap with span(F_k) > 0.9. "
        "Same F for both orders: only the variances are swapped.",
    )


# --------------------------------------------------------------------------------------------
# T10: the orthogonal-probe estimator


@claim(
    id="spectral_gaps.probe_estimator",
    paper=PAPER,
    kind="exact",
    statement="The central-difference orthogonal-probe estimator (Alg. 2) recovers the spectrum of −tJ of a linear "
    "score exactly; the forward version (Alg. 1, largest value dropped) matches except for values displaced by "
    "the rank-one mean-score term.",
    source="paper001 §5 [C, A] and §6 T10; N = 100, D = 40, τ = 1",
    control="the estimator is given the noise level σ = √t where it expects the variance t, so it probes and "
    "evaluates the score at the wrong scale",
)
def probe_estimator(ctx: Context) -> Outcome:
    n_ambient, n_latent = 100, 40
    spec = random_linear_manifold(n_ambient, n_latent, np.ones(n_latent), ctx.seed)
    rng = np.random.default_rng(ctx.seed + 1)
    ts = ctx.profile.pick(quick=[0.01, 1.0], full=[1e-3, 0.01, 0.1, 1.0, 10.0])
    central_err, fwd_origin_displaced, fwd_median = 0.0, 0, 0.0
    for t in ts:
        exact = _minus_tj_spectrum(spec, t)[::-1]  # decreasing, like the estimator
        t_probe = np.sqrt(t) if ctx.control else t  # control: σ passed for t (σ ↔ t swapped)
        x0 = rng.standard_normal(n_ambient)
        central = probe_singular_values(spec.score, x0, t_probe, rng, method="central")
        central_err = max(central_err, float(np.max(np.abs(central - exact))))
        # at x0 = 0 the mean score vanishes: forward = exact minus one spike value
        fwd0 = probe_singular_values(
            spec.score, np.zeros(n_ambient), t_probe, rng, method="forward"
        )
        fwd_origin_displaced = max(
            fwd_origin_displaced, int(np.sum(np.abs(fwd0 - exact[1:]) > 1e-6))
        )
        fwd = probe_singular_values(spec.score, x0, t_probe, rng, method="forward")
        fwd_median = max(fwd_median, float(np.median(np.abs(fwd - exact[1:]))))
    checks = [
        check("central max abs err", central_err, "<", 1e-6),
        check("forward at 0: displaced values", fwd_origin_displaced, "<=", 2),
        check("forward median abs err (worst t)", fwd_median, "<", 1e-3),
    ]
    return Outcome(
        predicted={
            "central error": 0,
            "forward displaced values": "≤ 2",
            "forward median error": 0,
        },
        measured={
            "central max abs err": central_err,
            "forward at x0=0: displaced": fwd_origin_displaced,
            "forward median err (worst t)": fwd_median,
        },
        tolerance={"central": 1e-6, "forward displaced": 2, "forward median": 1e-3},
        checks=checks,
        notes=f"t ∈ {ts}. The note says the forward version matches 'except ≤ 2 values'; that holds where the score "
        "vanishes (x0 = 0, checked). At a generic x0 the rank-one term −(C+tI)⁻¹x0 shifts many tangent values within "
        "the interlacing bounds (6–13 of 29 by more than 1e-3 in our tests), so only the median is held there. "
        "For a linear score the normalised estimate does not depend on the probe length, so the control plants "
        "the wrong noise level (σ for t), which the t = 1 point cannot reveal and t ≠ 1 does.",
    )


# --------------------------------------------------------------------------------------------
# T12, T13


def _phase_label(mu, d, delta) -> str:
    """The phase read off one spectrum of −tJ (ascending, D tangent values first)."""
    if mu[d] - mu[d - 1] > delta:
        return "consolidation"
    if mu[0] > 1 - delta:
        return "trivial"
    return "coverage"


@claim(
    id="spectral_gaps.phase_boundaries",
    paper=PAPER,
    kind="sampled",
    statement="All eigenvalues of −tJ lie within Δ of 1 (trivial phase) iff t > γ₊(1 − Δ)/Δ, and the manifold gap "
    "exceeds Δ (consolidation) iff t < γ₋(1 − Δ)/Δ, with γ± the Marchenko–Pastur edges.",
    source="paper001 §2.6 [P/R, D] and §6 T12; α = 0.4, τ = 1, Δ = 0.1",
    control="the predicted Marchenko–Pastur edges are 10% low (τ = 0.9 instead of 1)",
)
def phase_boundaries(ctx: Context) -> Outcome:
    delta, n = 0.1, 1000
    d = int(0.4 * n)
    mp = _mp_law(ctx)
    t_cons, t_triv = spectra.phase_boundaries(mp.gamma_minus, mp.gamma_plus, delta)
    # Fixed grids (both profiles, independent of the prediction): 7 log-spaced t over a factor 4 around
    # the note's boundaries 1.216 and 23.98 (§7); a boundary outside its grid is not found (NaN, fails).
    ts_cons, ts_triv = np.geomspace(0.6, 2.4, 7), np.geomspace(12.0, 48.0, 7)
    # every μ within Δ of 1 iff the lowest is; the manifold gap is the spike minus the top of the bulk
    ones = (1.0,) * d
    lowest = _minus_tj_eigs_grid(n, ones, ctx.seed, tuple(ts_triv))[:, 0]
    gap = np.diff(_minus_tj_eigs_grid(n, ones, ctx.seed, tuple(ts_cons))[:, d - 1 : d + 1])[:, 0]
    meas_triv = _log_crossing(ts_triv, lowest, 1 - delta)
    meas_cons = _log_crossing(ts_cons, gap, delta)
    s_lo, s_hi = _edge_scales(n, 0.4)
    grid = _grid_term(ts_cons)
    tol_cons = (1 + TW_Q * s_lo) * (1 + grid) - 1  # boundaries are linear in the edges
    tol_triv = (1 + TW_Q * s_hi) * (1 + grid) - 1
    probe_t = (1e-3, 5.0, 1e3)
    labels = [_phase_label(mu, d, delta) for mu in _minus_tj_eigs_grid(n, ones, ctx.seed, probe_t)]
    predicted_labels = [
        str(spectra.phase(t, mp.gamma_minus, mp.gamma_plus, delta)) for t in probe_t
    ]
    checks = [
        check(
            "t_trivial (MP edges)",
            meas_triv,
            "in",
            (t_triv * (1 - tol_triv), t_triv * (1 + tol_triv)),
        ),
        check(
            "t_consolidation (MP edges)",
            meas_cons,
            "in",
            (t_cons * (1 - tol_cons), t_cons * (1 + tol_cons)),
        ),
        Check(
            name="phase labels at t = 1e-3, 5, 1e3",
            value=labels,
            threshold=f"== {predicted_labels}",
            held=labels == predicted_labels,
        ),
    ]
    # a consistency number, not a check: the same boundary formula with this sample's own extreme eigenvalues
    lam = np.linalg.eigvalsh(_covariance(n, np.ones(d), ctx.seed))[-d:]
    t_cons_s, t_triv_s = spectra.phase_boundaries(lam[0], lam[-1], delta)
    return Outcome(
        predicted={
            "t_trivial (MP)": t_triv,
            "t_consolidation (MP)": t_cons,
            "labels at 1e-3, 5, 1e3": predicted_labels,
        },
        measured={
            "t_trivial": meas_triv,
            "t_consolidation": meas_cons,
            "offset from the MP boundaries": [
                float(meas_triv / t_triv - 1),
                float(meas_cons / t_cons - 1),
            ],
            "labels at 1e-3, 5, 1e3": labels,
            "reported: the formula with this sample's edges [t_triv, t_cons]": [t_triv_s, t_cons_s],
        },
        tolerance={
            "t_trivial": tol_triv,
            "t_consolidation": tol_cons,
            "labels": "equal",
        },
        checks=checks,
        notes=f"N = {n}, one seeded F. At 7 log-spaced t in [0.6, 2.4] and 7 in [12, 48] (grid ratio "
        f"{ts_cons[1] / ts_cons[0]:.3f}) the spectrum of −tJ, J = −(C + tI)⁻¹, is computed; the trivial "
        "boundary is where its lowest eigenvalue crosses 1 − Δ, the consolidation boundary where the spike minus the top of the bulk "
        "crosses Δ, both interpolated linearly in log t. Each boundary is linear in its edge (t = γ(1 − Δ)/Δ), so "
        f"it is held to the single-draw edge tolerance of spectral_gaps.mp_edges at this N ({TW_Q:g}·s: "
        f"{TW_Q * s_lo:.3f} lower, {TW_Q * s_hi:.3f} upper, Tracy–Widom scale), combined with the interpolation "
        f"bound h²eʰ/8 of a logistic μ(log t) ({grid:.4f}). The note's '±1 grid step' is not used.",
    )


@claim(
    id="spectral_gaps.vesde_time",
    paper=PAPER,
    kind="exact",
    statement="A Song-style VE-SDE network with σ(τ) = σ_min(σ_max/σ_min)^τ reaches theory time t at "
    "τ = ln(√t/σ_min)/ln(σ_max/σ_min); t_max = 0.0743 is τ ≈ 0.388.",
    source="paper001 §1 [C] and §6 T13; σ_min = 0.01, σ_max = 50",
    control="the predicted τ(t) uses σ_max = 80 (EDM's default) instead of the VE-SDE's 50",
)
def vesde_time(ctx: Context) -> Outcome:
    sigma_max = 80.0 if ctx.control else 50.0  # control: the wrong σ_max in the prediction
    tau = spectra.vesde_tau(0.0743, sigma_max=sigma_max)
    ts = np.geomspace(1e-4, 2500.0, 50)
    round_trip = float(
        np.max(
            np.abs(
                spectra.vesde_t(spectra.vesde_tau(ts, sigma_max=sigma_max), sigma_max=sigma_max)
                / ts
                - 1
            )
        )
    )
    # the network's schedule σ(τ) = 0.01·5000^τ at the predicted τ(t) must give √t
    sigma = 0.01 * 5000.0 ** spectra.vesde_tau(ts, sigma_max=sigma_max)
    direct = float(np.max(np.abs(sigma / np.sqrt(ts) - 1)))
    checks = [
        check("τ(0.0743) = 0.388 (3 digits)", tau, "in", (0.388 - 5e-4, 0.388 + 5e-4)),
        check("round trip (max rel err)", round_trip, "<", 1e-12),
        check("σ(τ(t)) = √t (max rel err)", direct, "<", 1e-12),
    ]
    return Outcome(
        predicted={"τ(0.0743)": 0.388, "σ(τ(t))": "√t"},
        measured={"τ(0.0743)": tau, "round trip rel err": round_trip, "σ(τ(t)) rel err": direct},
        tolerance={"τ": 5e-4, "identities": 1e-12},
        checks=checks,
    )


# --------------------------------------------------------------------------------------------
# T11 and the trained T9: networks on N = 100, D = 40 linear data


# trained_spectrum's recipe, fixed on seed 0's single-variance case (W1 at t* = 0.058 at 60k steps, 0.045 at
# 120k) and judged on seeds 1-3 of both cases, so the tuned draw is not among the judged ones.
SPECTRUM_STEPS = 120_000
SPECTRUM_EMA = 0.0
SPECTRUM_SEEDS = (1, 2, 3)  # offsets from ctx.seed


def _recipe(ctx: Context, sigma_data: float, full_steps: int = 60_000, ema_decay: float = 0.0):
    """Network and training for the N = 100 spectra: 3×256 SiLU, EDM with σ_d ≈ data scale.

    Found by a sweep (width 256/512, depth 2–4, 20k–100k steps) on double-variance data: 60k steps
    train in about 3 min on 2 cores; 20k steps leave W1 ≈ 0.09 at t_max. ``trained_spectrum`` uses
    ``SPECTRUM_STEPS`` (fixed on seed 0's single-variance case, where 60k steps leave W1 = 0.058).
    """
    from empirical.models import NetworkConfig
    from empirical.training import TrainingConfig

    # quick is a smoke test here (verdict inconclusive unless met)
    steps = ctx.profile.pick(quick=2_000, full=full_steps)
    network = NetworkConfig(width=256, depth=3, sigma_data=sigma_data)
    training = TrainingConfig(
        steps=steps,
        batch_size=512,
        learning_rate=2e-3,
        warmup_steps=min(1_000, steps // 10),
        sigma_min=0.01,
        sigma_max=5.0,
        n_data=20_000,
        ema_decay=ema_decay,
    )
    return network, training


def _network_jacobian(model, ctx: Context):
    """``jacobian(x, sigma)`` of the trained network; under the control it is queried at σ = t = σ²."""
    if ctx.control:
        # control: σ ↔ t swapped when the network is queried (the field is read at the wrong noise level)
        return lambda x, sigma: model.jacobian(x, sigma**2)
    return model.jacobian


def _trained_spectra(jacobian, spec, ts, n_points, seed):
    """Sorted μ̂ = t·s_i of the trained Jacobian (ascending), averaged over points x = x0 + √t ε, per t."""
    from empirical.data import add_noise, sample

    rng = np.random.default_rng(seed)
    out = {}
    for t in ts:
        x = add_noise(sample(spec, n_points, rng), np.sqrt(t), rng)
        s = np.linalg.svd(jacobian(x, np.sqrt(t)), compute_uv=False)
        out[t] = np.sort(t * s, axis=1)
    return out


def _draw_trained_spectra(fig, data):
    ax = fig.add_subplot(111)
    rank = np.arange(1, data["n"] + 1) / data["n"]
    colors = [PALETTE["exact"], PALETTE["trained"], PALETTE["alt"]]
    for key, color in zip(data["trained"], colors, strict=False):
        ax.plot(rank, data["exact"][key], "-", color=PALETTE["theory"], lw=1.0)
        ax.plot(rank, data["trained"][key], ".", ms=3, color=color, label=f"trained, t = {key}")
    ax.plot([], [], "-", color=PALETTE["theory"], label="exact score (theory)")
    ax.set_yscale("log")
    ax.set_xlabel("rank / N (ascending)")
    ax.set_ylabel("normalised singular value μ̂ = t·s_i (VE, t = σ²)")
    ax.set_title(f"Trained vs exact spectra of −tJ, {data['title']}")
    ax.legend(fontsize=7, loc="lower right")


def _spectrum_networks(ctx: Context) -> dict:
    """Every network ``trained_spectrum`` trains: ``(case, seed) -> (t_ref, spec, network, training)``.

    Cases: one variance (τ = 1, t_ref = t* = √(γ₋γ₊)) and two (α = 0.2, 0.2; σ = 1, 0.1; t_ref =
    t_max); per seed its own projection F, data and initialisation.
    """
    n_ambient, n_latent = 100, 40
    mp = spectra.marchenko_pastur(n_latent / n_ambient, 1.0)
    bulks = spectra.silverstein_edges(ALPHAS2, [s**2 for s in SIGMAS2])
    t_max, _ = spectra.gap_peak(bulks[0][1], bulks[1][0])
    cases = {
        "single": (0.63, float(np.sqrt(mp.gamma_minus * mp.gamma_plus))),
        "double": (0.45, t_max),
    }
    seeds = [ctx.seed + k for k in ctx.profile.pick(quick=SPECTRUM_SEEDS[:1], full=SPECTRUM_SEEDS)]
    out = {}
    for name, (sigma_data, t_ref) in cases.items():
        network, training = _recipe(ctx, sigma_data, SPECTRUM_STEPS, SPECTRUM_EMA)
        for seed in seeds:
            f = random_projection(n_ambient, n_latent, seed)
            taus = (
                np.ones(n_latent)
                if name == "single"
                else _two_level_taus(n_ambient, ALPHAS2, SIGMAS2)[0]
            )
            out[name, seed] = (t_ref, linear_manifold(f, taus), network, training)
    return out


def _declared(label: str, spec, network, training, seed: int) -> Training:
    """``train(spec, network, training, seed)`` declared for the runner (``Claim.trains``)."""
    from empirical.training import train

    return Training(
        label, training.steps, train, (spec, network, training), {"seed": seed, "progress": False}
    )


def _spectrum_trainings(ctx: Context) -> list[Training]:
    return [
        _declared(f"spectral_gaps.trained_spectrum {name}, seed {seed}", *rest, seed)
        for (name, seed), (_, *rest) in _spectrum_networks(ctx).items()
    ]


@claim(
    id="spectral_gaps.trained_spectrum",
    paper=PAPER,
    kind="trained",
    statement="A score network trained on linear-manifold data reproduces the Jacobian spectrum: at t ≪ γ₋ the "
    "number of normalised singular values above 1/2 is N − D, and near t_max its tangent bulk matches theory, "
    "except next to the spike at 1.",
    source="paper001 §3 Fig. 4 [R] and §6 T11; N = 100, D = 40: single variance (τ = 1) and two variances "
    "(α = 0.2, 0.2; σ = 1, 0.1)",
    control="the trained network's Jacobian is read at σ = t instead of σ = √t (σ ↔ t swapped in the query)",
    trains=_spectrum_trainings,
    figures=("trained_vs_theory_spectra",),
)
def trained_spectrum(ctx: Context) -> Outcome:
    from empirical.training import train

    n_ambient, n_latent = 100, 40
    n_normal = n_ambient - n_latent
    bulks = spectra.silverstein_edges(ALPHAS2, [s**2 for s in SIGMAS2])
    t_max, _ = spectra.gap_peak(bulks[0][1], bulks[1][0])
    networks = _spectrum_networks(ctx)
    seeds = sorted({seed for _, seed in networks})
    n_points = ctx.profile.pick(quick=10, full=50)
    measured, checks, figures, costs = {}, [], [], {}
    steps = None
    for name in ("single", "double"):
        counts, w1_ref = [], []
        for seed in seeds:
            t_ref, spec, network, training = networks[name, seed]
            steps = training.steps
            model = train(spec, network, training, seed=seed, progress=ctx.progress)
            costs[f"{name}, seed {seed}"] = (
                f"{model.meta.get('seconds', float('nan')):.0f} s ({model.meta['cache']})"
            )
            ts = sorted({1e-3, 1e-2, t_ref, 1.0})
            got = _trained_spectra(_network_jacobian(model, ctx), spec, ts, n_points, seed + 100)
            exact = {t: _minus_tj_spectrum(spec, t) for t in ts}
            count = float(np.mean(np.sum(got[1e-3] > 0.5, axis=1)))
            w1 = {
                t: float(np.mean(np.abs(got[t].mean(axis=0)[:n_latent] - exact[t][:n_latent])))
                for t in ts
            }
            spike = {t: float(np.mean(np.abs(got[t][:, n_latent:] - 1))) for t in ts}
            counts.append(count)
            w1_ref.append(w1[t_ref])
            measured[f"{name}, seed {seed}: W1 tangent (all t)"] = {
                f"{t:.4g}": v for t, v in w1.items()
            }
            measured[f"{name}, seed {seed}: mean |μ̂ − 1| on the spike"] = {
                f"{t:.4g}": v for t, v in spike.items()
            }
            checks.append(
                check(
                    f"{name}, seed {seed}: count μ̂>1/2 at t=1e-3 (N − D ± 3)",
                    count,
                    "in",
                    (n_normal - 3, n_normal + 3),
                )
            )
            checks.append(
                check(f"{name}, seed {seed}: W1 tangent at t_ref={t_ref:.4g}", w1[t_ref], "<", 0.05)
            )
            if name == "double" and seed == seeds[0]:
                figures.append(
                    _trained_spectra_figure(
                        n_ambient, got, exact, [1e-2, t_max, 1.0], network, training, n_points, seed
                    )
                )
        measured[f"{name}: count μ̂>1/2 at t=1e-3 (mean ± sd over seeds)"] = _mean_sd(counts)
        measured[f"{name}: W1 tangent at t_ref={t_ref:.4g} (mean ± sd over seeds)"] = _mean_sd(
            w1_ref
        )
    return Outcome(
        predicted={"count": n_normal, "W1 tangent": 0, "spike": 1},
        measured=measured,
        tolerance={
            "count": "±3, every seed",
            "W1 tangent at t_ref": "0.05 (the note's T11 tolerance), every seed",
            "spike": "reported (the paper notes smearing)",
        },
        checks=checks,
        # 2k quick steps do not learn the tangent bulk (W1 ≈ 0.1–0.2): quick is a smoke test, full is judged
        inconclusive=unjudged_at_quick(ctx, f"training ({steps} steps)"),
        notes=f"Seeds {seeds} (each its own F, data and initialisation); the recipe was fixed on seed 0's "
        f"single-variance case, which is not judged. μ̂ = t·s_i from autodiff Jacobians at {n_points} points "
        "x0 + √t ε per t; W1 between the mean sorted tangent part (40 smallest) and the exact t/(t + λ_i(C)). t_ref "
        "is t* = √(γ₋γ₊) for one level and t_max for two. Network 3×256 SiLU, EDM (σ_d = 0.63 / 0.45), "
        f"σ ~ logU[0.01, 5], lr 2e-3, batch 512, {steps} steps, EMA decay {SPECTRUM_EMA or 'none'}; "
        f"training cost: {costs}.",
        figures=figures,
    )


def _mean_sd(values) -> dict:
    """Mean, sample standard deviation (from two seeds up) and the per-seed values."""
    out = {"mean": float(np.mean(values)), "per seed": [float(v) for v in values]}
    if len(values) > 1:
        out["sd"] = float(np.std(values, ddof=1))
    return out


def _trained_spectra_figure(
    n_ambient, got, exact, show, network, training, n_points, seed
) -> FigureSpec:
    return FigureSpec(
        name="trained_vs_theory_spectra",
        draw=_draw_trained_spectra,
        data={
            "n": n_ambient,
            "title": f"α = (0.2, 0.2), σ = (1, 0.1), seed {seed}",
            "trained": {f"{t:.4g}": got[t].mean(axis=0) for t in show},
            "exact": {f"{t:.4g}": exact[t] for t in show},
        },
        config={
            "network": network.to_dict(),
            "training": training.to_dict(),
            "points": n_points,
            "seed": seed,
        },
    )


def _group_medians(jacobian, spec_t_points, bases, ts):
    """Median μ̂ per latent group, per t; members by right-singular-vector overlap with span(F_k) > 1/2."""
    curves = np.full((len(bases), len(ts)), np.nan)
    for i, t in enumerate(ts):
        x = spec_t_points(t)
        _, s, vt = np.linalg.svd(jacobian(x, np.sqrt(t)))
        mu = t * s  # (n, N)
        for k, q in enumerate(bases):
            overlap = np.sum((vt @ q) ** 2, axis=2)  # (n, N): squared norm of each v_i in span(F_k)
            members = mu[overlap > 0.5]
            if members.size:
                curves[k, i] = np.median(members)
    return curves


def _noisy_draws(spec, n_points: int, seed: int):
    """``points(t)``: ``n_points`` fresh draws x0 + √t ε of ``spec`` per call, from one seeded stream."""
    from empirical.data import add_noise, sample

    rng = np.random.default_rng(seed)
    return lambda t: add_noise(sample(spec, n_points, rng), np.sqrt(t), rng)


@measured_once
def _exact_group_medians(seed: int, key: str, ts: tuple, n_points: int) -> np.ndarray:
    """:func:`_group_medians` of the exact field of ``trained_separation_order``'s ``key`` order, at
    the same points as the trained one (the same seeded stream); shared with the control."""
    f = random_projection(100, 40, seed)
    sizes = [round(a * 100) for a in ALPHAS2]
    bases = [np.linalg.qr(f[:, : sizes[0]])[0], np.linalg.qr(f[:, sizes[0] :])[0]]
    sigmas = SIGMAS2 if key == "original" else SIGMAS2[::-1]
    spec = linear_manifold(f, _two_level_taus(100, ALPHAS2, sigmas)[0])
    return _group_medians(
        spec.jacobian, _noisy_draws(spec, n_points, seed + 2), bases, np.array(ts)
    )


def _departures(curves, ts, delta):
    out = []
    for row in curves:
        below = np.nonzero(row < 1 - delta)[0]
        out.append(float(ts[below].max()) if below.size else float("nan"))
    return out


def _draw_order(fig, data):
    axes = fig.subplots(1, 2, sharey=True)
    fig.set_size_inches(9, 3.6)
    ts = np.array(data["t"])
    for ax, key in zip(axes, ("original", "swapped"), strict=True):
        for k, color in enumerate((PALETTE["exact"], PALETTE["trained"])):
            label = data["labels"][key][k]
            ax.plot(ts, data["exact"][key][k], "-", color=color, lw=1, label=f"{label}, exact")
            ax.plot(
                ts,
                data["trained"][key][k],
                "o",
                ms=3,
                color=color,
                mfc="none",
                label=f"{label}, trained",
            )
        ax.axhline(1 - data["delta"], color="grey", ls="--", lw=0.8)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("diffusion time t = σ² (VE)")
        ax.set_title(key)
    axes[0].set_ylabel("median μ̂ of the group's directions")
    axes[0].legend(fontsize=7, loc="lower right")
    fig.suptitle(
        "Order of separation from the spike (dashed: 1 − Δ); swapping the variances swaps it"
    )


# The note's T11 tolerance on the trained tangent spectrum (W1 of μ̂ < 0.05), used for departure times.
MU_TOLERANCE = 0.05


def _separation_networks(ctx: Context) -> dict:
    """The two networks of ``trained_separation_order``: ``order -> (spec, network, training)``."""
    f = random_projection(100, 40, ctx.seed)
    out = {}
    for key, sigmas in (("original", SIGMAS2), ("swapped", SIGMAS2[::-1])):
        taus, _ = _two_level_taus(100, ALPHAS2, sigmas)
        out[key] = (linear_manifold(f, taus), *_recipe(ctx, 0.45))
    return out


def _separation_trainings(ctx: Context) -> list[Training]:
    return [
        _declared(f"spectral_gaps.trained_separation_order {key}", *net, ctx.seed)
        for key, net in _separation_networks(ctx).items()
    ]


@claim(
    id="spectral_gaps.trained_separation_order",
    paper=PAPER,
    kind="trained",
    statement="Trained networks reproduce the order of separation: the higher-variance subspace leaves the spike "
    "at larger t, and swapping the variances swaps the order.",
    source="paper001 §3 Fig. 3 [R] and §6 T9; N = 100, α = (0.2, 0.2), σ = (1, 0.1) and swapped",
    control="the trained network's Jacobian is read at σ = t instead of σ = √t (σ ↔ t swapped in the query)",
    trains=_separation_trainings,
    figures=("separation_order",),
)
def trained_separation_order(ctx: Context) -> Outcome:
    from empirical.training import train

    n_ambient, delta = 100, 0.1
    f = random_projection(n_ambient, 40, ctx.seed)
    networks = _separation_networks(ctx)
    sizes = [round(a * n_ambient) for a in ALPHAS2]
    bases = [np.linalg.qr(f[:, : sizes[0]])[0], np.linalg.qr(f[:, sizes[0] :])[0]]
    ts = np.geomspace(1e-3, 1e2, ctx.profile.pick(quick=11, full=26))
    n_points = ctx.profile.pick(quick=4, full=16)
    # Departure = the crossing of μ = 1 − Δ, where dμ/d ln t = μ(1 − μ) = Δ(1 − Δ) for μ = t/(t + λ): an
    # error MU_TOLERANCE in μ̂ moves it by a factor exp(MU_TOLERANCE/(Δ(1 − Δ))); each departure is a grid
    # point, which adds one grid ratio.
    grid_ratio = float(ts[1] / ts[0])
    bound = grid_ratio * float(np.exp(MU_TOLERANCE / (delta * (1 - delta))))
    data = {"t": ts, "delta": delta, "exact": {}, "trained": {}, "labels": {}}
    measured, checks = {}, []
    steps = None
    for key, sigmas in (("original", SIGMAS2), ("swapped", SIGMAS2[::-1])):
        spec, network, training = networks[key]
        steps = training.steps
        model = train(spec, network, training, seed=ctx.seed, progress=ctx.progress)
        trained = _group_medians(
            _network_jacobian(model, ctx), _noisy_draws(spec, n_points, ctx.seed + 2), bases, ts
        )
        exact = _exact_group_medians(ctx.seed, key, tuple(ts), n_points)
        dep_t, dep_e = _departures(trained, ts, delta), _departures(exact, ts, delta)
        high = int(np.argmax(sigmas))  # the σ = 1 group
        ratios = [dep_t[k] / dep_e[k] for k in range(2)]
        measured[key] = {
            "trained departures": dep_t,
            "exact departures": dep_e,
            "trained / exact": ratios,
            "σ=1 group": high + 1,
        }
        checks.append(
            _order_check(
                f"{key}: σ = 1 group departs first (trained)",
                dep_t[high],
                dep_t[1 - high],
                (f"group {high + 1} (σ=1)", f"group {2 - high} (σ=0.1)"),
            )
        )
        for k in range(2):
            checks.append(
                check(
                    f"{key}: group {k + 1} (σ={sigmas[k]:g}) trained/exact departure",
                    ratios[k],
                    "in",
                    (1 / bound, bound),
                )
            )
        data["exact"][key], data["trained"][key] = exact, trained
        data["labels"][key] = [f"group {k + 1} (σ = {sigmas[k]:g})" for k in range(2)]
    return Outcome(
        predicted={
            "first to depart": "the σ = 1 group, in both orders",
            "trained / exact departure": 1,
        },
        measured=measured,
        tolerance={
            "order": "strict",
            "trained / exact departure": f"in [1/{bound:.3g}, {bound:.3g}]",
        },
        checks=checks,
        inconclusive=unjudged_at_quick(ctx, f"training ({steps} steps)"),
        notes=f"Departure = largest t on a {ts.size}-point log grid in [1e-3, 100] where the group's median μ̂ = t·s is "
        f"below 1 − Δ, Δ = {delta}; directions belong to a group when their right singular vector has overlap > 1/2 "
        f"with span(F_k); {n_points} points x0 + √t ε per t, the same for the trained and the exact field. Same F and recipe for both orders. The trained/exact "
        f"ratio of departure times is bounded by {bound:.3g}: one grid ratio ({grid_ratio:.3g}, both departures are "
        f"grid points) times exp({MU_TOLERANCE}/(Δ(1 − Δ))) = {np.exp(MU_TOLERANCE / (delta * (1 - delta))):.3g}, "
        f"the shift of the crossing of μ = 1 − Δ (slope dμ/d ln t = Δ(1 − Δ)) for an error {MU_TOLERANCE} in μ̂, "
        "the note's T11 tolerance on the trained tangent spectrum.",
        figures=[
            FigureSpec(
                name="separation_order",
                draw=_draw_order,
                data=data,
                config={"points": n_points, "seed": ctx.seed},
            )
        ],
    )
