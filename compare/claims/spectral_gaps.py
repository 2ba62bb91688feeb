"""Claims of Ventura et al., *Manifolds, random matrices and spectral gaps* (paper key
``spectral_gaps``; research note paper001).

Convention: VE with t = σ² (x_t = x_0 + √t ε); covariance C = F diag(τ) Fᵀ with F ∈ R^{N×D} of
i.i.d. N(0, 1/N) entries (the note's variant (a)), α_k = D_k/N, τ_k = σ_k². The plotted spectrum is
that of −tJ (spike at 1, tangent bulk at t/(t + λ)).
"""

from __future__ import annotations

import numpy as np
from scipy import integrate, stats

from compare.claim import Context, FigureSpec, Outcome, verdict_from
from compare.claims._common import max_relative_error
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


def random_linear_manifold(n_ambient: int, n_latent: int, taus, seed: int):
    """N(0, F diag(τ) Fᵀ) with F of i.i.d. N(0, 1/N) entries (paper001 §2.2, variant (a)), seeded."""
    return linear_manifold(random_projection(n_ambient, n_latent, seed), taus)


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


# --------------------------------------------------------------------------------------------
# T1–T3


@claim(
    id="spectral_gaps.linear_spectrum",
    paper=PAPER,
    kind="exact",
    statement="For data on a random linear manifold the score Jacobian is J_t = −(C + tI)⁻¹, independent of x; "
    "−tJ has eigenvalue 1 with multiplicity N − D and the other D eigenvalues are t/(t + λ_i(C)).",
    source="paper001 §2.2 and §6 T1–T3 [D]; N = 100, D = 40, τ = 1",
)
def linear_spectrum(ctx: Context) -> Outcome:
    n_ambient, n_latent = 100, 40
    spec = random_linear_manifold(n_ambient, n_latent, np.ones(n_latent), ctx.seed)
    lam_c = _nonzero_eigs(spec, n_latent)
    rng = np.random.default_rng(ctx.seed + 1)
    ts = ctx.profile.pick(quick=[1e-3, 0.1, 10.0], full=[1e-3, 1e-2, 0.1, 1.0, 10.0])
    n = ctx.profile.pick(quick=3, full=8)
    err = {"T1 autodiff": 0.0, "T1 x-independence": 0.0, "T3 bulk map": 0.0}
    spike = {}
    for t in ts:
        sigma = np.sqrt(t)
        x = rng.standard_normal((n, n_ambient)) * 2.0
        j = spec.jacobian(x, sigma)
        err["T1 autodiff"] = max(
            err["T1 autodiff"], max_relative_error(autodiff_jacobian(spec, x, sigma), j)
        )
        err["T1 x-independence"] = max(err["T1 x-independence"], max_relative_error(j, j[:1]))
        mu = np.sort(np.linalg.eigvalsh(-t * j[0]))
        spike[t] = int(np.sum(np.abs(mu - 1) < 1e-8))
        err["T3 bulk map"] = max(
            err["T3 bulk map"], max_relative_error(mu[:n_latent], np.sort(t / (t + lam_c)))
        )
    tol = {"T1 autodiff": 1e-10, "T1 x-independence": 1e-10, "T3 bulk map": 1e-10}
    checks = {k: err[k] < tol[k] for k in tol} | {
        f"T2 spike at t={t}": m == n_ambient - n_latent for t, m in spike.items()
    }
    return Outcome(
        predicted={"max relative error": 0, "spike multiplicity N − D": n_ambient - n_latent},
        measured={**err, "spike multiplicity (per t)": list(spike.values())},
        tolerance={**tol, "spike": "exact, eigenvalues within 1e-8 of 1"},
        verdict=verdict_from(checks),
        notes=f"t ∈ {ts}, {n} random points each. The note's T1 says max abs error < 1e-10; entries of J reach "
        "1/t = 1000 at t = 1e-3, so the error is taken relative to max |J|. λ_i(C) from eigvalsh of C, "
        "−tJ spectrum from eigvalsh of the closed-form J: two separate routes. Covers T1, T2 and T3.",
    )


# --------------------------------------------------------------------------------------------
# T4, T5: Marchenko–Pastur edges and density of the tangent bulk


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
)
def mp_edges(ctx: Context) -> Outcome:
    mp = spectra.marchenko_pastur(0.4, 1.0)
    sizes = ctx.profile.pick(quick=[100, 1000], full=[100, 300, 1000, 3000])
    n_draws = ctx.profile.pick(quick=5, full=20)
    tol = {1000: 0.03}  # judged; N = 100 is reported only (see notes)
    measured, checks, worst = {}, {}, []
    for n in sizes:
        ext = _extreme_eigs(n, 0.4, n_draws, ctx.seed)
        rel = np.abs(ext / [mp.gamma_minus, mp.gamma_plus] - 1)  # per draw, (lower, upper)
        mean_err = float(np.max(np.abs(ext.mean(axis=0) / [mp.gamma_minus, mp.gamma_plus] - 1)))
        measured[f"N={n} mean-edge rel err"] = mean_err
        measured[f"N={n} single-draw lower err (mean ± sd)"] = (
            f"{rel[:, 0].mean():.3f} ± {rel[:, 0].std():.3f}"
        )
        worst.append(mean_err)
        if n in tol:
            checks[f"N={n}"] = mean_err < tol[n]
    checks["error shrinks with N"] = worst[-1] < worst[0]
    return Outcome(
        predicted={"γ₋": mp.gamma_minus, "γ₊": mp.gamma_plus},
        measured=measured,
        tolerance={
            "N=1000 (mean of draws)": 0.03,
            "N=100": "reported, not judged",
            "trend": "largest N better than smallest",
        },
        verdict=verdict_from(checks),
        notes=f"Edges averaged over {n_draws} seeded draws of F per N. The note's 3% at N = 1000 is applied to that "
        "mean; it does not hold for one draw, because the smallest eigenvalue fluctuates on the scale N^(−2/3) "
        "(over 20 draws: 2.0% ± 3.4% at N = 1000; seed 0 alone gives 6.0%). The note's 15% at N = 100 is NOT judged: "
        "it was calibrated on one draw ('lower edge ~10% high'), while the mean over 20 draws sits 18% high "
        "(single draws 18% ± 17%), a finite-N bias of the lower edge, not a departure from Marchenko–Pastur.",
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
)
def mp_density(ctx: Context) -> Outcome:
    mp = spectra.marchenko_pastur(0.4, 1.0)
    t = np.sqrt(mp.gamma_minus * mp.gamma_plus)
    tol = {100: 0.08, 1000: 0.015}
    measured, checks = {}, {}
    for n in (100, 1000):
        d = int(0.4 * n)
        spec = random_linear_manifold(n, d, np.ones(d), ctx.seed)
        mu = _minus_tj_spectrum(spec, t)[:d]  # the tangent part
        lam = t * (1 - mu) / mu  # μ ↦ λ is monotone, so KS in μ equals KS in λ
        ks = stats.kstest(lam, lambda v: _mp_cdf(mp, v)).statistic
        measured[f"KS N={n}"] = float(ks)
        checks[f"N={n}"] = ks < tol[n]
    return Outcome(
        predicted={"KS distance": 0, "t": float(t)},
        measured=measured,
        tolerance={f"KS N={n}": tol[n] for n in tol},
        verdict=verdict_from(checks),
        notes="KS distance between the D tangent eigenvalues of −tJ (closed-form J, one seeded F) and the mapped "
        "MP CDF (quadrature of the MP density). KS is invariant under the monotone map μ = t/(t + λ).",
    )


# --------------------------------------------------------------------------------------------
# T6: the manifold gap


@claim(
    id="spectral_gaps.manifold_gap",
    paper=PAPER,
    kind="sampled",
    statement="The manifold gap between the spike at 1 and the tangent bulk of −tJ is γ₋/(t + γ₋): 0 as t → ∞, "
    "1 as t → 0.",
    source="paper001 §2.3 (the paper's Eq. 15, 'isotropic gap formula') [R, D] and §6 T6; α = 0.4, τ = 1",
)
def manifold_gap(ctx: Context) -> Outcome:
    mp = spectra.marchenko_pastur(0.4, 1.0)
    ts = np.geomspace(1e-3, 10.0, ctx.profile.pick(quick=9, full=25))
    n_draws = ctx.profile.pick(quick=5, full=20)
    tol = {1000: 0.05}  # judged; N = 100 is reported only (see notes)
    measured, checks = {}, {}
    for n in (100, 1000):
        lam_min = _extreme_eigs(n, 0.4, n_draws, ctx.seed)[:, 0]
        # spike (1) minus the largest tangent eigenvalue of −tJ, averaged over draws
        gap = np.mean(1 - ts[None, :] / (ts[None, :] + lam_min[:, None]), axis=0)
        err = float(np.max(np.abs(gap / spectra.manifold_gap(ts, mp.gamma_minus) - 1)))
        single = float(
            np.max(
                np.abs((1 - ts / (ts + lam_min[0])) / spectra.manifold_gap(ts, mp.gamma_minus) - 1)
            )
        )
        measured[f"max rel err N={n} (mean of draws)"] = err
        measured[f"max rel err N={n} (first draw)"] = single
        if n in tol:
            checks[f"N={n}"] = err < tol[n]
    return Outcome(
        predicted={"gap(t)": "γ₋/(t + γ₋)", "γ₋": mp.gamma_minus},
        measured=measured,
        tolerance={"N=1000 (mean of draws)": 0.05, "N=100": "reported, not judged (note's 15%)"},
        verdict=verdict_from(checks),
        notes=f"{ts.size} log-spaced t in [1e-3, 10]; the gap 1 − t/(t + λ_min(C)) averaged over {n_draws} seeded "
        "draws. Its error is that of λ_min, which fluctuates like N^(−2/3) and is biased upward at small N "
        "(see spectral_gaps.mp_edges): the single-draw error and N = 100 are reported but not judged.",
    )


# --------------------------------------------------------------------------------------------
# T7, T8: the intermediate gap of two variances


def _two_level_edges(n, seed):
    """Top of the low bulk (a) and bottom of the high bulk (b) of one seeded N-sample, σ₁ = 1, σ₂ = 0.1."""
    taus, sizes = _two_level_taus(n, ALPHAS2, SIGMAS2)
    lam = _nonzero_eigs(random_linear_manifold(n, taus.size, taus, seed), taus.size)
    return float(lam[sizes[1] - 1]), float(
        lam[sizes[1]]
    )  # lowest D₂ belong to the low-variance bulk


def _draw_gaps(fig, data):
    ax = fig.add_subplot(111)
    t = np.array(data["t"])
    ax.plot(
        t, data["manifold_gap"], color=PALETTE["theory"], label="manifold gap γ₋/(t+γ₋) (low bulk)"
    )
    ax.plot(t, data["intermediate_gap"], color=PALETTE["exact"], label="intermediate gap, theory")
    ax.plot(
        t[::12],
        np.asarray(data["intermediate_gap_sample"])[::12],
        "o",
        ms=3,
        mfc="none",
        color=PALETTE["trained"],
        label=f"intermediate gap, exact score N = {data['n_sample']}",
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
)
def intermediate_gap(ctx: Context) -> Outcome:
    delta = 0.1
    taus = np.array([s**2 for s in SIGMAS2])
    bulks = spectra.silverstein_edges(ALPHAS2, taus)
    (_, a), (b, _) = bulks[0], bulks[1]
    t_max, d_max = spectra.gap_peak(a, b)
    t_close, t_open = spectra.gap_window(a, b, delta)
    n = 1000
    a_s, b_s = _two_level_edges(n, ctx.seed)
    ts = np.geomspace(1e-4, 1e2, ctx.profile.pick(quick=801, full=4001))
    gap_s = ts * (b_s - a_s) / ((ts + a_s) * (ts + b_s))  # the exact-score gap of this sample
    i = int(np.argmax(gap_s))
    visible = ts[gap_s > delta]
    measured = {
        "t_max": float(ts[i]),
        "Δ_max": float(gap_s[i]),
        "window": [float(visible[0]), float(visible[-1])],
    }
    checks = {
        "t_max within 10%": abs(ts[i] / t_max - 1) < 0.10,
        "Δ_max within 0.02": abs(gap_s[i] - d_max) < 0.02,
        "t₋ within 10%": abs(visible[0] / t_close - 1) < 0.10,
        "t₊ within 10%": abs(visible[-1] / t_open - 1) < 0.10,
    }
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
            "intermediate_gap_sample": np.interp(np.log(fine), np.log(ts), gap_s),
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
    # Fig. 2 analogue: sorted exact spectra of one N-sample against the mapped Silverstein quantiles
    taus_n, _ = _two_level_taus(n, ALPHAS2, SIGMAS2)
    spec_n = random_linear_manifold(n, taus_n.size, taus_n, ctx.seed)
    d_n = taus_n.size
    lam_q = spectra.silverstein_quantiles((np.arange(d_n) + 0.5) / d_n, ALPHAS2, taus)
    times = [3e-3, t_max, 1.0, 10.0]
    exact, theory = {}, {}
    for t in times:
        exact[f"{t:.4g}"] = _minus_tj_spectrum(spec_n, t)[:d_n]
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
        verdict=verdict_from(checks),
        notes=f"Edges a, b from the Silverstein equation; the measurement uses one seeded N = {n} draw "
        f"(a = {a_s:.5f}, b = {b_s:.5f}) and the exact-score gap on {ts.size} log-spaced t. The phase "
        "boundaries in the figure use the outer edges γ₋ of the low bulk and γ₊ of the high bulk.",
        figures=figures,
    )


@claim(
    id="spectral_gaps.log_symmetry",
    paper=PAPER,
    kind="exact",
    statement="The intermediate gap opens and closes symmetrically about t_max on a log-t axis: t₋·t₊ = ab = t_max².",
    source="paper001 §2.4 Eqs. 20–21, 24 [R, D] and §6 T8",
)
def log_symmetry(ctx: Context) -> Outcome:
    taus = np.array([s**2 for s in SIGMAS2])
    bulks = spectra.silverstein_edges(ALPHAS2, taus)
    (_, a), (b, _) = bulks[0], bulks[1]
    t_max, d_max = spectra.gap_peak(a, b)
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
    checks = {"t₋t₊ = t_max² and Δ(t±) = Δ": err < 1e-9, "invisible above Δ_max": never is None}
    return Outcome(
        predicted={"t₋·t₊ / t_max²": 1, "window above Δ_max": None},
        measured={"max rel err": err, "window above Δ_max": never},
        tolerance={"rel err": 1e-9},
        verdict=verdict_from(checks),
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
    return departures


@claim(
    id="spectral_gaps.separation_order",
    paper=PAPER,
    kind="exact",
    statement="As t decreases the higher-variance subspace separates from the spike first (larger t); swapping "
    "the two variances swaps the order.",
    source="paper001 §2.4 'order of resolution' [R, D], Fig. 3 [R] and §6 T9; exact score, N = 100",
)
def separation_order(ctx: Context) -> Outcome:
    n, delta = 100, 0.1
    f = random_projection(n, 40, ctx.seed)
    ts = np.geomspace(1e-3, 1e2, ctx.profile.pick(quick=31, full=101))
    result = {}
    for name, sigmas in (("σ₁=1, σ₂=0.1", SIGMAS2), ("swapped", SIGMAS2[::-1])):
        taus, sizes = _two_level_taus(n, ALPHAS2, sigmas)
        result[name] = _group_departures(linear_manifold(f, taus), f, sizes, ts, delta)
    (g1, g2), (s1, s2) = result["σ₁=1, σ₂=0.1"], result["swapped"]
    checks = {
        "group 1 (σ=1) departs first": g1 > g2,
        "swapped: group 2 (σ=1) departs first": s2 > s1,
    }
    return Outcome(
        predicted={"first to depart": "the σ = 1 group, in both orders"},
        measured={k: {"group 1": v[0], "group 2": v[1]} for k, v in result.items()},
        tolerance="order only (qualitative, deterministic)",
        verdict=verdict_from(checks),
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
)
def probe_estimator(ctx: Context) -> Outcome:
    n_ambient, n_latent = 100, 40
    spec = random_linear_manifold(n_ambient, n_latent, np.ones(n_latent), ctx.seed)
    rng = np.random.default_rng(ctx.seed + 1)
    ts = ctx.profile.pick(quick=[0.01, 1.0], full=[1e-3, 0.01, 0.1, 1.0, 10.0])
    central_err, fwd_origin_displaced, fwd_median = 0.0, 0, 0.0
    for t in ts:
        exact = _minus_tj_spectrum(spec, t)[::-1]  # decreasing, like the estimator
        x0 = rng.standard_normal(n_ambient)
        central = probe_singular_values(spec.score, x0, t, rng, method="central")
        central_err = max(central_err, float(np.max(np.abs(central - exact))))
        # at x0 = 0 the mean score vanishes: forward = exact minus one spike value
        fwd0 = probe_singular_values(spec.score, np.zeros(n_ambient), t, rng, method="forward")
        fwd_origin_displaced = max(
            fwd_origin_displaced, int(np.sum(np.abs(fwd0 - exact[1:]) > 1e-6))
        )
        fwd = probe_singular_values(spec.score, x0, t, rng, method="forward")
        fwd_median = max(fwd_median, float(np.median(np.abs(fwd - exact[1:]))))
    checks = {
        "central 1e-6": central_err < 1e-6,
        "forward at 0: ≤ 2 displaced": fwd_origin_displaced <= 2,
        "forward median < 1e-3": fwd_median < 1e-3,
    }
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
        verdict=verdict_from(checks),
        notes=f"t ∈ {ts}. The note says the forward version matches 'except ≤ 2 values'; that holds where the score "
        "vanishes (x0 = 0, checked). At a generic x0 the rank-one term −(C+tI)⁻¹x0 shifts many tangent values within "
        "the interlacing bounds (6–13 of 29 by more than 1e-3 in our tests), so only the median is held there.",
    )


# --------------------------------------------------------------------------------------------
# T12, T13


@claim(
    id="spectral_gaps.phase_boundaries",
    paper=PAPER,
    kind="exact",
    statement="All eigenvalues of −tJ lie within Δ of 1 (trivial phase) iff t > γ₊(1 − Δ)/Δ, and the manifold gap "
    "exceeds Δ (consolidation) iff t < γ₋(1 − Δ)/Δ.",
    source="paper001 §2.6 [P/R, D] and §6 T12; α = 0.4, τ = 1, Δ = 0.1",
)
def phase_boundaries(ctx: Context) -> Outcome:
    delta, n = 0.1, 1000
    d = int(0.4 * n)
    lam = _nonzero_eigs(random_linear_manifold(n, d, np.ones(d), ctx.seed), d)
    ts = np.geomspace(
        1e-3, 1e3, 961
    )  # the same grid at both profiles: the verdict must not depend on it
    trivial = np.array([np.all(ts_ / (ts_ + lam) > 1 - delta) for ts_ in ts])
    gap_open = 1 - ts / (ts + lam[0]) > delta
    # exact: with the sample's own extreme eigenvalues as γ±
    t_cons_s, t_triv_s = spectra.phase_boundaries(lam[0], lam[-1], delta)
    exact_ok = np.array_equal(trivial, ts > t_triv_s) and np.array_equal(gap_open, ts < t_cons_s)
    # asymptotic: with the Marchenko–Pastur edges (finite-N edge offsets, see mp_edges; reported only)
    mp = spectra.marchenko_pastur(0.4, 1.0)
    t_cons, t_triv = spectra.phase_boundaries(mp.gamma_minus, mp.gamma_plus, delta)
    meas_triv = ts[np.argmax(trivial)]
    meas_cons = ts[np.nonzero(gap_open)[0][-1]]
    labels = [spectra.phase(t, mp.gamma_minus, mp.gamma_plus, delta) for t in (1e-3, 5.0, 1e3)]
    checks = {
        "exact with sample edges": exact_ok,
        "phase labels": labels == ["consolidation", "coverage", "trivial"],
    }
    return Outcome(
        predicted={
            "t_trivial (MP)": t_triv,
            "t_consolidation (MP)": t_cons,
            "with the sample's edges": [t_triv_s, t_cons_s],
        },
        measured={
            "first trivial t on grid": float(meas_triv),
            "last t with gap > Δ": float(meas_cons),
            "exact with sample edges": bool(exact_ok),
            "labels at 1e-3, 5, 1e3": labels,
            "offset from the MP boundaries": [
                float(meas_triv / t_triv - 1),
                float(meas_cons / t_cons - 1),
            ],
        },
        tolerance={
            "with the sample's edges": "exact on the grid",
            "MP boundaries": "reported, not judged",
        },
        verdict=verdict_from(checks),
        notes=f"N = {n}, one seeded F; {ts.size} log-spaced t in [1e-3, 1e3] (grid ratio {ts[1] / ts[0]:.4f}). "
        "Each boundary is linear in its edge (t = γ(1 − Δ)/Δ), so against the asymptotic MP edges it carries the "
        "finite-N edge offset of this draw (≈ +5% at the lower edge, see spectral_gaps.mp_edges); the note's "
        "'±1 grid step' depends on the grid and is not used.",
    )


@claim(
    id="spectral_gaps.vesde_time",
    paper=PAPER,
    kind="exact",
    statement="A Song-style VE-SDE network with σ(τ) = σ_min(σ_max/σ_min)^τ reaches theory time t at "
    "τ = ln(√t/σ_min)/ln(σ_max/σ_min); t_max = 0.0743 is τ ≈ 0.388.",
    source="paper001 §1 [C] and §6 T13; σ_min = 0.01, σ_max = 50",
)
def vesde_time(ctx: Context) -> Outcome:
    tau = spectra.vesde_tau(0.0743)
    ts = np.geomspace(1e-4, 2500.0, 50)
    round_trip = float(np.max(np.abs(spectra.vesde_t(spectra.vesde_tau(ts)) / ts - 1)))
    sigma = 0.01 * 5000.0 ** spectra.vesde_tau(ts)  # σ(τ(t)) must equal √t
    direct = float(np.max(np.abs(sigma / np.sqrt(ts) - 1)))
    checks = {
        "τ(0.0743) = 0.388 (3 digits)": abs(tau - 0.388) < 5e-4,
        "round trip": round_trip < 1e-12,
        "σ(τ(t)) = √t": direct < 1e-12,
    }
    return Outcome(
        predicted={"τ(0.0743)": 0.388, "σ(τ(t))": "√t"},
        measured={"τ(0.0743)": tau, "round trip rel err": round_trip, "σ(τ(t)) rel err": direct},
        tolerance={"τ": 5e-4, "identities": 1e-12},
        verdict=verdict_from(checks),
    )


# --------------------------------------------------------------------------------------------
# T11 and the trained T9: networks on N = 100, D = 40 linear data


def _recipe(ctx: Context, sigma_data: float):
    """Network and training for the N = 100 spectra: 3×256 SiLU, EDM with σ_d ≈ data scale, 60k steps.

    Found by a sweep (width 256/512, depth 2–4, 20k–100k steps): 60k steps train in about 7 min on
    2 cores and meet T11 on double-variance data; 20k steps leave W1 ≈ 0.09 at t_max.
    """
    from empirical.models import NetworkConfig
    from empirical.training import TrainingConfig

    # quick is a smoke test here (verdict inconclusive unless met)
    steps = ctx.profile.pick(quick=2_000, full=60_000)
    network = NetworkConfig(width=256, depth=3, sigma_data=sigma_data)
    training = TrainingConfig(
        steps=steps,
        batch_size=512,
        learning_rate=2e-3,
        warmup_steps=min(1_000, steps // 10),
        sigma_min=0.01,
        sigma_max=5.0,
        n_data=20_000,
    )
    return network, training


def _trained_spectra(model, spec, ts, n_points, seed):
    """Sorted μ̂ = t·s_i of the trained Jacobian (ascending), averaged over points x = x0 + √t ε, per t."""
    from empirical.data import add_noise, sample

    rng = np.random.default_rng(seed)
    out = {}
    for t in ts:
        x = add_noise(sample(spec, n_points, rng), np.sqrt(t), rng)
        s = np.linalg.svd(model.jacobian(x, np.sqrt(t)), compute_uv=False)
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


@claim(
    id="spectral_gaps.trained_spectrum",
    paper=PAPER,
    kind="trained",
    statement="A score network trained on linear-manifold data reproduces the Jacobian spectrum: at t ≪ γ₋ the "
    "number of normalised singular values above 1/2 is N − D, and near t_max its tangent bulk matches theory, "
    "except next to the spike at 1.",
    source="paper001 §3 Fig. 4 [R] and §6 T11; N = 100, D = 40: single variance (τ = 1) and two variances "
    "(α = 0.2, 0.2; σ = 1, 0.1)",
)
def trained_spectrum(ctx: Context) -> Outcome:
    from empirical.training import train

    n_ambient, n_latent = 100, 40
    f = random_projection(n_ambient, n_latent, ctx.seed)
    mp = spectra.marchenko_pastur(0.4, 1.0)
    bulks = spectra.silverstein_edges(ALPHAS2, [s**2 for s in SIGMAS2])
    t_max, _ = spectra.gap_peak(bulks[0][1], bulks[1][0])
    taus2, _ = _two_level_taus(n_ambient, ALPHAS2, SIGMAS2)
    cases = {
        "single": (np.ones(n_latent), 0.63, float(np.sqrt(mp.gamma_minus * mp.gamma_plus))),
        "double": (taus2, 0.45, t_max),
    }
    n_points = ctx.profile.pick(quick=10, full=50)
    measured, checks, figures, costs = {}, {}, [], {}
    for name, (taus, sigma_data, t_ref) in cases.items():
        spec = linear_manifold(f, taus)
        network, training = _recipe(ctx, sigma_data)
        model = train(spec, network, training, seed=ctx.seed, progress=ctx.progress)
        costs[name] = f"{model.meta.get('seconds', float('nan')):.0f} s ({model.meta['cache']})"
        ts = sorted({1e-3, 1e-2, t_ref, 1.0})
        got = _trained_spectra(model, spec, ts, n_points, ctx.seed + 1)
        exact = {t: _minus_tj_spectrum(spec, t) for t in ts}
        count = float(np.mean(np.sum(got[1e-3] > 0.5, axis=1)))
        w1 = {
            t: float(np.mean(np.abs(got[t].mean(axis=0)[:n_latent] - exact[t][:n_latent])))
            for t in ts
        }
        spike = {t: float(np.mean(np.abs(got[t][:, n_latent:] - 1))) for t in ts}
        measured[f"{name}: count μ̂>1/2 at t=1e-3"] = count
        measured[f"{name}: W1 tangent at t_ref={t_ref:.4g}"] = w1[t_ref]
        measured[f"{name}: W1 tangent (all t)"] = {f"{t:.4g}": v for t, v in w1.items()}
        measured[f"{name}: mean |μ̂ − 1| on the spike"] = {f"{t:.4g}": v for t, v in spike.items()}
        checks[f"{name} count ±3"] = abs(count - (n_ambient - n_latent)) <= 3
        checks[f"{name} W1 < 0.05"] = w1[t_ref] < 0.05
        if name == "double":
            show = [1e-2, t_max, 1.0]
            figures.append(
                FigureSpec(
                    name="trained_vs_theory_spectra",
                    draw=_draw_trained_spectra,
                    data={
                        "n": n_ambient,
                        "title": "α = (0.2, 0.2), σ = (1, 0.1)",
                        "trained": {f"{t:.4g}": got[t].mean(axis=0) for t in show},
                        "exact": {f"{t:.4g}": exact[t] for t in show},
                    },
                    config={
                        "network": network.to_dict(),
                        "training": training.to_dict(),
                        "points": n_points,
                    },
                )
            )
    return Outcome(
        predicted={"count": n_ambient - n_latent, "W1 tangent": 0, "spike": 1},
        measured=measured,
        tolerance={
            "count": "±3",
            "W1 tangent at t_ref": 0.05,
            "spike": "reported (the paper notes smearing)",
        },
        # 2k quick steps do not learn the tangent bulk (W1 ≈ 0.1–0.2): quick is a smoke test, full is judged
        verdict=verdict_from(
            checks, inconclusive=ctx.profile.name == "quick" and not all(checks.values())
        ),
        notes=(
            "At the quick profile (2k steps) unmet checks give 'inconclusive'; the verdict is made at full. "
            if ctx.profile.name == "quick"
            else ""
        )
        + f"μ̂ = t·s_i from autodiff Jacobians at {n_points} points x0 + √t ε per t; W1 between the mean sorted "
        "tangent part (40 smallest) and the exact t/(t + λ_i(C)). t_ref is t* = √(γ₋γ₊) for one level and t_max for "
        f"two. Network 3×256 SiLU, EDM (σ_d = 0.63 / 0.45), σ ~ logU[0.01, 5], lr 2e-3, batch 512; training: {costs}.",
        figures=figures,
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


@claim(
    id="spectral_gaps.trained_separation_order",
    paper=PAPER,
    kind="trained",
    statement="Trained networks reproduce the order of separation: the higher-variance subspace leaves the spike "
    "at larger t, and swapping the variances swaps the order.",
    source="paper001 §3 Fig. 3 [R] and §6 T9; N = 100, α = (0.2, 0.2), σ = (1, 0.1) and swapped",
)
def trained_separation_order(ctx: Context) -> Outcome:
    from empirical.data import add_noise, sample
    from empirical.training import train

    n_ambient, delta = 100, 0.1
    f = random_projection(n_ambient, 40, ctx.seed)
    sizes = [round(a * n_ambient) for a in ALPHAS2]
    bases = [np.linalg.qr(f[:, : sizes[0]])[0], np.linalg.qr(f[:, sizes[0] :])[0]]
    ts = np.geomspace(1e-3, 1e2, ctx.profile.pick(quick=11, full=26))
    n_points = ctx.profile.pick(quick=4, full=16)
    data = {"t": ts, "delta": delta, "exact": {}, "trained": {}, "labels": {}}
    measured, checks = {}, {}
    for key, sigmas in (("original", SIGMAS2), ("swapped", SIGMAS2[::-1])):
        taus, _ = _two_level_taus(n_ambient, ALPHAS2, sigmas)
        spec = linear_manifold(f, taus)
        network, training = _recipe(ctx, 0.45)
        model = train(spec, network, training, seed=ctx.seed, progress=ctx.progress)
        rng = np.random.default_rng(ctx.seed + 2)

        def points(t, spec=spec, rng=rng):
            return add_noise(sample(spec, n_points, rng), np.sqrt(t), rng)

        trained = _group_medians(model.jacobian, points, bases, ts)
        exact = _group_medians(spec.jacobian, points, bases, ts)
        dep_t, dep_e = _departures(trained, ts, delta), _departures(exact, ts, delta)
        high = int(np.argmax(sigmas))  # the σ = 1 group
        measured[key] = {
            "trained departures": dep_t,
            "exact departures": dep_e,
            "σ=1 group": high + 1,
        }
        checks[f"{key}: σ = 1 group departs first (trained)"] = dep_t[high] > dep_t[1 - high]
        data["exact"][key], data["trained"][key] = exact, trained
        data["labels"][key] = [f"group {k + 1} (σ = {sigmas[k]:g})" for k in range(2)]
    return Outcome(
        predicted={"first to depart": "the σ = 1 group, in both orders"},
        measured=measured,
        tolerance="order only",
        verdict=verdict_from(checks),
        notes=f"Departure = largest t on a {ts.size}-point log grid in [1e-3, 100] where the group's median μ̂ = t·s is "
        f"below 1 − Δ, Δ = {delta}; directions belong to a group when their right singular vector has overlap > 1/2 "
        f"with span(F_k); {n_points} points x0 + √t ε per t. Same F and recipe for both orders.",
        figures=[
            FigureSpec(
                name="separation_order",
                draw=_draw_order,
                data=data,
                config={"points": n_points, "seed": ctx.seed},
            )
        ],
    )
