"""Claims of Pidstrigach, *Score-based generative models detect manifolds* (NeurIPS 2022; paper key
``manifold_detection``; research note paper002).

Convention: forward :math:`dX = -\\alpha X\\,dt + \\sqrt2\\,dB`, α = 1 (OU, the note's main case) unless
a claim says α = 0 (VE, σ² = 2t); :math:`a_t = e^{-\\alpha t}`, :math:`v_t = (1 - e^{-2\\alpha t})/\\alpha`.
Samples come from the reverse SDE by Euler–Maruyama on a geometric grid of OU times from T = 6 down
to t_min, started at π = N(0, I) (:mod:`empirical.reverse_ou`), except where a claim follows the
author's VP-β demo (β linear 0.001 → 3 on [0, 1], 1 000 uniform steps; external facts).
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy import integrate, optimize, stats

from compare.claim import Context, FigureSpec, Outcome, check
from compare.claims._common import measured_once
from compare.registry import claim
from compare.style import PALETTE, fit_loglog_slope
from empirical.memorisation import atom_weights, nearest_distance, nearest_index
from empirical.models import ScoreModel
from empirical.reverse_network import reverse_euler_maruyama_network
from empirical.reverse_ou import (
    clipped,
    geometric_times,
    linear_beta_times,
    ou_score,
    power_law_push,
    prior_sample,
    reverse_euler_maruyama,
    shifted,
    tweedie_denoise,
)
from theory import scaling
from theory.distributions import FiniteSet, LinearGaussian
from theory.schedules import ou_a, ou_v

PAPER = "manifold_detection"

T_END = 6.0  # the note's T (α = 1): KL(p_T‖N(0, I)) ≈ e^{−12}, negligible
STEPS_PER_DECADE = (
    400  # Euler–Maruyama steps per decade of t (h/t = 0.0057; the EM bias is computed)
)
T_MINS = (1e-2, 1e-3, 1e-4)

#: Gaussian data on the line R·e₁ in R² with unit variance (paper002 T-B1).
LINE = LinearGaussian(np.array([1.0]), 2)


def circle_points(n: int = 8) -> np.ndarray:
    """n equispaced points on the unit circle, angles 2πi/n (the author's demo, external facts)."""
    angles = 2 * np.pi * np.arange(n) / n
    return np.column_stack([np.cos(angles), np.sin(angles)])


def _grid(t_from: float, t_to: float) -> np.ndarray:
    """Geometric OU times from ``t_from`` down to ``t_to`` with :data:`STEPS_PER_DECADE`."""
    k = max(2, round(STEPS_PER_DECADE * np.log10(t_from / t_to)))
    return geometric_times(t_from, t_to, k)


def _reverse_through(score, x, stops, rng, *, alpha=1.0, t_start=T_END):
    """The reversal from ``t_start`` through each of the decreasing ``stops``: the states at each.

    One trajectory, stopped and continued (the Markov property makes each stop's states a draw of
    a run that ends there). ``score`` is a score in OU time, or a trained :class:`ScoreModel`, which
    runs as the compiled chain (:mod:`empirical.reverse_network`)."""
    out, t = [], t_start
    for stop in stops:
        if isinstance(score, ScoreModel):
            x = reverse_euler_maruyama_network(score, x, _grid(t, stop), rng, alpha=alpha)
        else:
            x = reverse_euler_maruyama(score, x, _grid(t, stop), rng, alpha=alpha)
        out.append(x)
        t = stop
    return out


def _em_normal_std(stops, *, alpha=1.0, t_start=T_END, var0=1.0, gain=1.0) -> list[float]:
    """Normal std of the Euler–Maruyama chain itself (the exact recursion of its variance).

    On the normal coordinate the exact line score is −y/v_t, so an EM step maps the variance q to
    (1 + h(α − 2g/v_t))² q + 2h, with g = ``gain`` (1 for the exact score). This is the number the
    sampler converges to as n → ∞ at this grid: its distance to √v_{t_min} is the discretisation
    bias, computed rather than assumed."""
    q, t, out = var0, t_start, []
    for stop in stops:
        ts = _grid(t, stop)
        h = ts[:-1] - ts[1:]
        v = ou_v(ts[:-1], alpha)
        for hi, vi in zip(h, v, strict=True):
            q = (1 + hi * (alpha - 2 * gain / vi)) ** 2 * q + 2 * hi
        out.append(float(np.sqrt(q)))
        t = stop
    return out


def _normal_gain(score, gain: float):
    """``score`` with its normal (e₂) component multiplied by ``gain`` (1 + ε, note's remark)."""

    def scored(x, t):
        s = score(x, t)
        s[:, 1] *= gain
        return s

    return scored


# --------------------------------------------------------------------------------------------
# B-C1 with the exact score (T-B1)


def _draw_spread(fig, data):
    ax = fig.add_subplot(111)
    t = np.array(data["t_min"])
    fine = np.geomspace(t.min() / 2, t.max() * 2, 50)
    for key, color, marker in (
        ("alpha=1", PALETTE["exact"], "o"),
        ("alpha=0", PALETTE["alt"], "s"),
    ):
        alpha = float(key.split("=")[1])
        ax.loglog(fine, scaling.normal_spread(fine, alpha), "-", color=color, lw=1)
        slope, se = data["slopes"][key]
        ax.loglog(
            t,
            data["std"][key],
            marker,
            color=color,
            mfc="none",
            label=f"α = {alpha:g}: measured, fitted slope {slope:.3f} ± {1.96 * se:.3f} (95%)",
        )
    ax.plot([], [], "-", color=PALETTE["theory"], label="prediction √v_{t_min} (slope 1/2)")
    ax.set_xlabel("end time t_min (OU time, dX = −αX dt + √2 dB)")
    ax.set_ylabel("std of the normal coordinate at t_min")
    ax.set_title("Exact-score SGM on a line in R²: the samples land on M at rate √v_{t_min}")
    ax.legend(fontsize=7)


@claim(
    id="manifold_detection.exact_lands_on_manifold",
    paper=PAPER,
    kind="sampled",
    statement="With the exact score the SGM's samples land on M: the end-time normal std equals √v_{t_min} "
    "and goes to 0 with t_min, while the tangent law is kept (variance a²λ + v).",
    source="paper002 B2/B5, T-B1 [R]; line R·e₁ in R² with λ = 1, α = 1 (T = 6, start N(0, I)) and "
    "α = 0 (start at the exact p_T)",
    control="the sampler's score has its normal part 10% too strong (s_⊥ × 1.1): the note's "
    "multiplicative error, which still lands on M but with normal variance v/(1 + 2ε), 9% low in std",
    figures=("normal_spread",),
)
def exact_lands_on_manifold(ctx: Context) -> Outcome:
    n = 10_000  # the tangent variance's ±0.05 is 3.5 s.e. at 10 000 (at both profiles)
    gain = 1.1 if ctx.control else 1.0
    measured, checks, std, slopes = {}, [], {}, {}
    for alpha in (1.0, 0.0):
        key = f"alpha={alpha:g}"
        rng = np.random.default_rng(ctx.seed + int(alpha))
        if alpha == 1.0:
            t_start, x = T_END, prior_sample(n, 2, rng)
        else:  # no stationary law: start at the exact p_T = N(0, diag(λ + 2T, 2T)), T = 1
            t_start = 1.0
            x = rng.standard_normal((n, 2)) * np.sqrt([1.0 + 2 * t_start, 2 * t_start])
        score = _normal_gain(ou_score(LINE, alpha), gain)
        ends = _reverse_through(score, x, T_MINS, rng, alpha=alpha, t_start=t_start)
        predicted = scaling.normal_spread(np.array(T_MINS), alpha)
        em = _em_normal_std(T_MINS, alpha=alpha, t_start=t_start, var0=float(np.var(x[:, 1])))
        std[key] = [float(np.std(y[:, 1])) for y in ends]
        tangent = [float(np.var(y[:, 0])) for y in ends]
        tangent_pred = ou_a(np.array(T_MINS), alpha) ** 2 * 1.0 + ou_v(np.array(T_MINS), alpha)
        slopes[key] = fit_loglog_slope(T_MINS, std[key])
        measured[key] = {
            "normal std": dict(zip(map(str, T_MINS), std[key], strict=True)),
            "√v_{t_min}": dict(zip(map(str, T_MINS), predicted.tolist(), strict=True)),
            "EM chain's own normal std (exact recursion)": dict(
                zip(map(str, T_MINS), em, strict=True)
            ),
            "tangent variance": dict(zip(map(str, T_MINS), tangent, strict=True)),
            "fitted slope of log std on log t_min (± s.e.)": slopes[key],
        }
        for t_min, s, p, tv, tp in zip(
            T_MINS, std[key], predicted, tangent, tangent_pred, strict=True
        ):
            checks.append(
                check(f"{key}: normal std / √v at t_min={t_min:g}", s / p, "in", (0.95, 1.05))
            )
            checks.append(
                check(
                    f"{key}: tangent variance − (a²λ + v) at t_min={t_min:g}",
                    tv - tp,
                    "in",
                    (-0.05, 0.05),
                )
            )
        # each std within 5% bounds the slope over two decades by log(1.05/0.95)/log(100) = 0.022
        checks.append(
            check(f"{key}: fitted slope", slopes[key][0], "in", (0.5 - 0.022, 0.5 + 0.022))
        )
    return Outcome(
        predicted={
            "normal std": "√v_{t_min}",
            "tangent variance": "a²λ + v = 1 (α = 1), 1 + 2t (α = 0)",
            "slope": 0.5,
        },
        measured=measured,
        tolerance={
            "normal std": "5% (note T-B1)",
            "tangent variance": "±0.05 (note T-B1)",
            "slope": "±0.022 (implied by 5% at both ends)",
        },
        checks=checks,
        notes=f"n = {n} samples per α, one trajectory stopped at t_min = {T_MINS} (Markov: each stop is a run "
        f"ending there); Euler–Maruyama on a geometric grid, {STEPS_PER_DECADE} steps per decade (h/t = 0.0057). The "
        "EM chain's own normal std, from the exact variance recursion of the linear normal dynamics, gives the "
        "discretisation bias; a 10 000-sample std has s.e. ≈ 0.7%, a variance 1.4%. α = 1 starts at N(0, I) at T = 6 (KL to p_T ≈ "
        "e^(−12)); α = 0 starts at the exact p_T at T = 1.",
        figures=[
            FigureSpec(
                name="normal_spread",
                draw=_draw_spread,
                data={"t_min": list(T_MINS), "std": std, "slopes": slopes},
                config={"n": n, "steps_per_decade": STEPS_PER_DECADE, "seed": ctx.seed},
            )
        ],
    )


# --------------------------------------------------------------------------------------------
# B-C3: the drift energy diverges at rate (d − k)/2 per e-fold (T-B2)

ENERGY_CASES = {  # name: (d, variances); both α = 1, T = 6
    "line in R² (d = 2, k = 1)": (2, (1.0,)),
    "3-plane in R⁸ (d = 8, k = 3)": (8, (4.0, 1.0, 0.25)),
}
EPSILONS = (1e-2, 1e-3, 1e-4, 1e-5)


def _built_energy(t: np.ndarray, d: int, variances, seed: int) -> np.ndarray:
    """tr(Cov_t⁻¹) from the built covariance a_t² QΛQᵀ + v_t I of a seeded random basis Q (numpy
    inverses), the route that does not use the closed form's eigenvalues."""
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, len(variances))))
    c0 = (q * np.asarray(variances)) @ q.T
    cov = ou_a(t)[:, None, None] ** 2 * c0 + ou_v(t)[:, None, None] * np.eye(d)
    return np.trace(np.linalg.inv(cov), axis1=1, axis2=2)


def _trapezoid_energy(eps: float, d: int, variances, seed: int, n: int = 20_000) -> float:
    """∫_ε^T tr(Cov_t⁻¹) dt by the trapezoid rule on n geometric points (in u = log t)."""
    t = np.geomspace(eps, T_END, n)
    return float(integrate.trapezoid(_built_energy(t, d, variances, seed) * t, np.log(t)))


def _draw_energy(fig, data):
    ax = fig.add_subplot(111)
    eps = np.array(data["eps"])
    for (name, values), color in zip(
        data["integral"].items(), (PALETTE["exact"], PALETTE["alt"]), strict=False
    ):
        rate = data["rate"][name]
        ax.semilogx(
            eps, values, "o", color=color, mfc="none", label=f"{name}: measured (trapezoid)"
        )
        ax.semilogx(
            eps,
            values[-1] + rate * np.log(eps[-1] / eps),
            "-",
            color=color,
            lw=1,
            label=f"predicted slope −(d − k)/2 = −{rate:g} per e-fold; fitted −{data['fitted'][name]:.4f}",
        )
    ax.invert_xaxis()
    ax.set_xlabel("ε (OU time, α = 1; decreasing to the right)")
    ax.set_ylabel("∫_ε^T E‖∇log p_t(X_t)‖² dt")
    ax.set_title("Drift energy of singular data diverges like ((d − k)/2)·log(1/ε)")
    ax.legend(fontsize=7)


@claim(
    id="manifold_detection.drift_energy",
    paper=PAPER,
    kind="sampled",
    statement="For data on a k-dimensional subspace the true drift has infinite energy: E‖∇log p_t‖² = "
    "tr(Cov_t⁻¹) ≈ (d − k)/(2t), so ∫_ε^T grows by (d − k)/2 per e-fold of ε.",
    source="paper002 B1 and T-B2 [R]; α = 1, T = 6; d = 2, k = 1 (λ = 1) and d = 8, k = 3 (λ = 4, 1, 0.25)",
    control="the prediction takes σ² = t for the OU noise variance (v_t ≈ 2t), i.e. a rate of d − k per e-fold",
    figures=("drift_energy_integral",),
)
def drift_energy(ctx: Context) -> Outcome:
    n_mc = ctx.profile.pick(quick=20_000, full=50_000)
    measured, checks, integral, rate_of, fitted = {}, [], {}, {}, {}
    for i, (name, (d, variances)) in enumerate(ENERGY_CASES.items()):
        k = len(variances)
        rate = scaling.drift_energy_rate(d, k) * (2.0 if ctx.control else 1.0)  # control: σ² = t
        rate_of[name] = rate
        values = [_trapezoid_energy(eps, d, variances, ctx.seed + i) for eps in EPSILONS]
        closed = scaling.drift_energy_integral(np.array(EPSILONS), T_END, d, variances)
        increments = np.diff(values) / np.log(10)  # per e-fold, one decade at a time
        fitted[name] = float(-np.polyfit(np.log(EPSILONS), values, 1)[0])
        integral[name] = values
        # Monte Carlo: t·E‖s(X_t)‖² with the exact score field at samples of p_t
        rng = np.random.default_rng(ctx.seed + 10 + i)
        basis = np.linalg.qr(rng.standard_normal((d, k)))[0]
        spec = LinearGaussian(np.asarray(variances), d, basis)
        mc = {}
        for t in (1e-2, 1e-4):
            x0 = rng.standard_normal((n_mc, k)) * np.sqrt(variances) @ basis.T
            xt = ou_a(t) * x0 + np.sqrt(ou_v(t)) * rng.standard_normal((n_mc, d))
            sq = np.sum(ou_score(spec)(xt, t) ** 2, axis=1)
            mc[t] = (float(t * sq.mean()), float(t * sq.std(ddof=1) / np.sqrt(n_mc)))
        measured[name] = {
            "∫_ε^T (trapezoid on the built Cov_t)": dict(
                zip(map(str, EPSILONS), values, strict=True)
            ),
            "closed form − trapezoid (max rel)": float(np.max(np.abs(closed / values - 1))),
            "increment per e-fold, per decade of ε": increments.tolist(),
            "t·E‖∇log p_t‖² by Monte Carlo (mean, s.e.)": {str(t): v for t, v in mc.items()},
        }
        for (lo, hi), inc in zip(itertools.pairwise(EPSILONS), increments, strict=True):
            if lo <= 1e-3:
                checks.append(
                    check(
                        f"{name}: increment ε = {lo:g} → {hi:g} / rate",
                        inc / rate,
                        "in",
                        (0.98, 1.02),
                    )
                )
        checks.append(
            check(
                f"{name}: closed-form integral vs trapezoid (max rel)",
                measured[name]["closed form − trapezoid (max rel)"],
                "<",
                1e-6,
            )
        )
        checks.append(
            check(f"{name}: t·E‖s‖² at t = 1e-4 / rate", mc[1e-4][0] / rate, "in", (0.97, 1.03))
        )
    return Outcome(
        predicted={
            name: {"rate per e-fold": r, "per decade": r * np.log(10)}
            for name, r in rate_of.items()
        },
        measured=measured,
        tolerance={
            "increment": "2% for ε ≤ 1e-3 (note T-B2)",
            "Monte Carlo t·E‖s‖²": "3% at t = 1e-4 (note T-B2)",
            "closed form": "1e-6 relative (trapezoid on 20 000 log-spaced points)",
        },
        checks=checks,
        notes=f"The integrand is tr(Cov_t⁻¹) of the built d×d covariance a_t²QΛQᵀ + v_t I (a seeded random basis Q, "
        f"numpy inverses), integrated by the trapezoid rule in log t on 20 000 points; the closed form "
        f"theory.scaling.drift_energy_integral is checked against it. The Monte Carlo uses the exact score field "
        f"(theory.distributions.LinearGaussian, through empirical.reverse_ou.ou_score) at {n_mc} samples of p_t; its "
        "s.e. at t = 1e-4 is about 0.6% of the rate.",
        figures=[
            FigureSpec(
                name="drift_energy_integral",
                draw=_draw_energy,
                data={
                    "eps": list(EPSILONS),
                    "integral": integral,
                    "rate": rate_of,
                    "fitted": fitted,
                },
                config={"T": T_END, "alpha": 1.0, "points": 20_000},
            )
        ],
    )


# --------------------------------------------------------------------------------------------
# B-C2: a bounded drift cannot find M (T-B4)

BOUNDS = (5.0, 20.0, 100.0)


@claim(
    id="manifold_detection.bounded_drift",
    paper=PAPER,
    kind="sampled",
    statement="A bounded drift gives an output with a positive Lebesgue density: with the exact line score "
    "clipped at ‖s‖ ≤ B the normal std stays at a floor as t_min → 0, where the exact score's shrinks like √t_min.",
    source="paper002 B3 and T-B4 [R]; line R·e₁ in R², α = 1, T = 6, s ← s·min(1, B/‖s‖), B = 5 judged",
    control="the bound is never active (B = 10⁶): the sampler runs the exact score",
)
def bounded_drift(ctx: Context) -> Outcome:
    n = ctx.profile.pick(quick=2_000, full=4_000)
    stops = (1e-3, 1e-4)
    measured, checks = {}, []
    for i, bound in enumerate(BOUNDS):
        rng = np.random.default_rng(ctx.seed + i)
        b = 1e6 if (ctx.control and bound == BOUNDS[0]) else bound  # control: the clip is inactive
        size = n if bound == BOUNDS[0] else n // 2  # the reported bounds at half the samples
        ends = _reverse_through(clipped(ou_score(LINE), b), prior_sample(size, 2, rng), stops, rng)
        measured[f"B = {bound:g}"] = {
            str(t): float(np.std(y[:, 1])) for t, y in zip(stops, ends, strict=True)
        }
    exact = scaling.normal_spread(np.array(stops))
    measured["exact score: √v_{t_min}"] = dict(zip(map(str, stops), exact.tolist(), strict=True))
    judged = measured[f"B = {BOUNDS[0]:g}"]
    ratio = judged["0.001"] / judged["0.0001"]
    checks.append(check("B = 5: normal std at t_min = 1e-4", judged["0.0001"], ">", 0.1))
    checks.append(check("B = 5: std(1e-3) / std(1e-4)", ratio, "<", 1.3))
    return Outcome(
        predicted={
            "B = 5": "a floor: std(1e-4) > 0.1 (> 7× √v = 0.0141), std(1e-3)/std(1e-4) < 1.3",
            "exact": "√10 = 3.16",
        },
        measured=measured,
        tolerance={"floor": "> 0.1 at 1e-4 and ratio < 1.3 (note T-B4)"},
        checks=checks,
        notes=f"n = {n} per bound, {STEPS_PER_DECADE} EM steps per decade, one trajectory stopped at 1e-3 and 1e-4. "
        "B = 20 and 100 are reported (n/2 samples each): a larger bound acts later (B = 100 is inactive until t ≈ 1e-4), so its floor "
        "lies below t_min = 1e-4. The floor's heuristic size is 0.7/B (a Laplace-like stationary law; note T-B4).",
    )


# --------------------------------------------------------------------------------------------
# B-C4 / B-C6: the empirical score memorises; a bounded perturbation keeps the support (T-B3)

T_MIN_MEMO = 1e-3
SHIFT = np.array([1.0, 1.0])  # the author's "+ 1 in every coordinate"


@measured_once
def _circle_run(n: int, seed: int, c: float, bound: float | None, progress: bool = False):
    """End states at T_MIN_MEMO of the sampler run with the 8-point empirical score, shifted by c·1
    and (if ``bound``) clipped, α = 1 from N(0, I) at T = 6; and their Tweedie outputs
    x̂ = Σ_i w_i(y) x_i, the posterior mean of the empirical law (note T-B3's final step)."""
    rng = np.random.default_rng(seed)
    score = empirical = ou_score(FiniteSet(circle_points()))
    if c:
        score = shifted(score, c * SHIFT)
    if bound is not None:
        score = clipped(score, bound)
    y = reverse_euler_maruyama(score, prior_sample(n, 2, rng), _grid(T_END, T_MIN_MEMO), rng)
    return y, tweedie_denoise(empirical, y, T_MIN_MEMO)


@claim(
    id="manifold_detection.empirical_memorises",
    paper=PAPER,
    kind="sampled",
    statement="An SGM run with the exact empirical score, or a bounded perturbation of it, reproduces only "
    "training points: the end law is Σω_i N(a x_i, vI) and every Tweedie output is a training point.",
    source="paper002 B4 and T-B3 [R]; 8 equispaced points on the unit circle, α = 1, T = 6, t_min = 1e-3, "
    "perturbation c·1 with c = 1",
    control="the empirical score is clipped at ‖s‖ ≤ 5 (a bounded drift, B-C2): it cannot put its mass on the points",
)
def empirical_memorises(ctx: Context) -> Outcome:
    n = 4_000  # the weights' ±0.02 is 3.8 s.e. at 4 000 (at both profiles)
    bound = 5.0 if ctx.control else None
    pts = circle_points()
    a, v = float(ou_a(T_MIN_MEMO)), float(ou_v(T_MIN_MEMO))
    measured, checks = {}, []
    for c in (0.0, 1.0):
        y, x_hat = _circle_run(n, ctx.seed, c, bound)
        dist = nearest_distance(y, a * pts)  # to the centres a·x_i of the end mixture
        ks = stats.kstest(dist / np.sqrt(v), stats.rayleigh.cdf)
        on_point = float(np.mean(nearest_distance(x_hat, pts) < 1e-3))
        label = "empirical score" if c == 0 else f"+ c·1, c = {c:g}"
        measured[label] = {
            "median nn-distance": float(np.median(dist)),
            "fraction nn-distance < 0.1": float(np.mean(dist < 0.1)),
            "KS p-value against √v·χ₂": float(ks.pvalue),
            "Tweedie outputs within 1e-3 of a training point": on_point,
        }
        checks.append(
            check(f"{label}: Tweedie outputs on a training point (fraction)", on_point, "≥", 0.99)
        )
        if c == 0:
            median = np.sqrt(2 * np.log(2) * v)
            checks.append(
                check(
                    f"{label}: median nn-distance / √(2 ln2·v)",
                    float(np.median(dist)) / median,
                    "in",
                    (0.9, 1.1),
                )
            )
            w, se = atom_weights(x_hat, pts)
            measured[label]["weights ω_i"] = w.tolist()
            measured[label]["weights' s.e."] = se.tolist()
            checks.append(
                check(f"{label}: max |ω_i − 1/8|", float(np.max(np.abs(w - 0.125))), "<", 0.02)
            )
    return Outcome(
        predicted={
            "end law": "Σ ω_i N(a x_i, vI)",
            "median nn-distance": float(np.sqrt(2 * np.log(2) * v)),
            "Tweedie": "every output a training point",
            "ω_i": 0.125,
        },
        measured=measured,
        tolerance={
            "median": "10% (note T-B3)",
            "Tweedie": "≥ 99% within 1e-3",
            "ω_i": "1/8 ± 0.02 (3.8 s.e. at n = 4 000)",
        },
        checks=checks,
        notes=f"n = {n}; {STEPS_PER_DECADE} EM steps per decade from T = 6 to 1e-3. The nn-distance is taken to the "
        "end mixture's centres a·x_i (a = e^(−t_min)); its law is √v·χ₂ (Rayleigh), and the KS p-value is reported. "
        "Tweedie x̂ = (y + v ŝ(y))/a = Σ_i w_i(y) x_i with the unperturbed empirical score ŝ. The weights ω_i of the perturbed run "
        "are in manifold_detection.bounded_perturbation.",
    )


def _chi2_uniform_p(x_hat, pts) -> float:
    """p-value of Pearson's χ² test that the outputs fall on the points with equal weights."""
    counts = np.bincount(nearest_index(x_hat, pts), minlength=len(pts))
    return float(stats.chisquare(counts).pvalue)


def _shifted_normal_mean(c: float, t_min: float) -> float:
    """Mean of the normal coordinate at t_min when the exact line score gets a constant c (α = 1).

    The normal drift is linear, so the mean solves dm/dt = −(m − 2m/v_t + 2c) backwards from m(T) = 0
    (solved by Radau); it behaves like 2c·t·log(1/t) as t → 0: the samples still land on M."""
    sol = integrate.solve_ivp(
        lambda t, m: -(m - 2 * m / ou_v(t) + 2 * c),
        (T_END, t_min),
        [0.0],
        method="Radau",
        rtol=1e-10,
        atol=1e-14,
    )
    return float(sol.y[0, -1])


@claim(
    id="manifold_detection.bounded_perturbation",
    paper=PAPER,
    kind="sampled",
    statement="Equivalence is not equality: a bounded perturbation ∇log p̂_t + c·1 of the empirical score keeps "
    "the support (the 8 training points) but re-weights them, toward the point in the direction of c; the "
    "same perturbation of the population line score keeps the samples on the line.",
    source="paper002 B4 corollary, B-C6 and T-B3 [R]; the author's demo (8 circle points, score + 1, VP β "
    "0.001 → 3, 1 000 uniform EM steps, 5 760 samples; external facts) and α = 1, T = 6, t_min = 1e-3",
    control="no perturbation (c = 0): the weights must then look equal and the check of re-weighting fails",
)
def bounded_perturbation(ctx: Context) -> Outcome:
    n = ctx.profile.pick(quick=2_000, full=4_000)
    n_demo = ctx.profile.pick(quick=2_000, full=5_760)
    c = 0.0 if ctx.control else 1.0
    pts = circle_points()
    toward_c = int(np.argmax(pts @ SHIFT))  # the point at angle π/4
    measured, checks = {}, []
    # α = 1, T = 6 to t_min = 1e-3, Tweedie by the empirical posterior mean
    _, x_hat = _circle_run(n, ctx.seed, c, None)
    # the author's demo: VP β linear, 1 000 uniform steps in t ∈ [1e-3, 1], no final denoising
    rng = np.random.default_rng(ctx.seed + 1)
    score = ou_score(FiniteSet(pts))
    demo = reverse_euler_maruyama(
        shifted(score, c * SHIFT) if c else score,
        prior_sample(n_demo, 2, rng),
        linear_beta_times(),
        rng,
    )
    for label, out, radius in (
        ("OU α = 1, Tweedie outputs", x_hat, 1e-3),
        ("author's VP demo, raw samples", demo, 0.05),
    ):
        w, se = atom_weights(out, pts)
        on = float(np.mean(nearest_distance(out, pts) < radius))
        p = _chi2_uniform_p(out, pts)
        measured[label] = {
            "weights ω_i": w.tolist(),
            "s.e.": se.tolist(),
            f"fraction within {radius:g} of a point": on,
            "χ² p-value (equal weights)": p,
        }
        checks.append(check(f"{label}: on a training point (within {radius:g})", on, "≥", 0.99))
        checks.append(check(f"{label}: χ² p-value of equal weights", p, "<", 1e-6))
        checks.append(
            check(
                f"{label}: heaviest point is the one toward c (index {toward_c})",
                int(np.argmax(w)),
                "==",
                toward_c,
            )
        )
    # the same perturbation on the population line score: still on the line
    rng = np.random.default_rng(ctx.seed + 2)
    line_score = shifted(ou_score(LINE), c * SHIFT) if c else ou_score(LINE)
    y = reverse_euler_maruyama(line_score, prior_sample(n, 2, rng), _grid(T_END, T_MIN_MEMO), rng)
    spread = float(scaling.normal_spread(T_MIN_MEMO))
    m_pred = _shifted_normal_mean(c * SHIFT[1], T_MIN_MEMO)
    m, sd = float(y[:, 1].mean()), float(y[:, 1].std())
    measured["population line + c·1"] = {
        "normal mean": m,
        "predicted normal mean (mean ODE)": m_pred,
        "normal std": sd,
        "√v_{t_min}": spread,
        "tangent mean": float(y[:, 0].mean()),
    }
    checks.append(
        check("population line + c·1: normal std / √v_{t_min}", sd / spread, "in", (0.95, 1.05))
    )
    checks.append(
        check(
            "population line + c·1: |normal mean − predicted| / √v_{t_min}",
            abs(m - m_pred) / spread,
            "<",
            0.05,
        )
    )
    return Outcome(
        predicted={
            "support": "the 8 training points",
            "weights": "not all 1/8; the most on the point toward c (the demo's (0.71, 0.71))",
            "line": "normal std √v_{t_min}; normal mean from the mean ODE, O(t_min log(1/t_min)) → 0",
        },
        measured=measured,
        tolerance={
            "support": "≥ 99% (note T-B3)",
            "re-weighting": "χ² p < 1e-6",
            "line": "5% of √v_{t_min} (T-B1's)",
        },
        checks=checks,
        notes=f"n = {n} (α = 1) and {n_demo} (the demo's count). The support check uses Tweedie outputs within 1e-3 "
        "(α = 1) and raw samples within 0.05 of a point (the demo stops at β-time 1e-3, noise std 1.6e-3, and has no "
        "denoising step). Weights are the fractions nearest each point, with multinomial s.e. √(ω(1 − ω)/n).",
    )


# --------------------------------------------------------------------------------------------
# B-C5: generalising needs infinite error energy against the empirical score (T-B5)

ERROR_TIMES = (1e-1, 1e-2, 1e-3, 1e-4)


@claim(
    id="manifold_detection.generalisation_energy",
    paper=PAPER,
    kind="sampled",
    statement="A model that reproduces the population score of a k-dimensional M has infinite error energy "
    "against the empirical score: v_t·E_{p̂_t}‖∇log p_t − ∇log p̂_t‖² → k, and under p_t the error grows like t⁻².",
    source="paper002 B4 (quantitative version) and T-B5 [R, C]; 8 points (z_i, 0), z_i ~ N(0, 1), on a line in R², "
    "k = 1, α = 1",
    control="the ratio is averaged under the population law p_t instead of the empirical p̂_t",
)
def generalisation_energy(ctx: Context) -> Outcome:
    n = ctx.profile.pick(quick=10_000, full=20_000)
    rng = np.random.default_rng(ctx.seed)
    pts = np.column_stack([np.sort(rng.standard_normal(8)), np.zeros(8)])
    population, empirical = ou_score(LINE), ou_score(FiniteSet(pts))
    k = 1
    ratio, raw = {}, {}
    for t in ERROR_TIMES:
        a, v = float(ou_a(t)), float(ou_v(t))
        x_emp = a * pts[rng.integers(0, 8, n)] + np.sqrt(v) * rng.standard_normal((n, 2))
        x_pop = a * np.column_stack([rng.standard_normal(n), np.zeros(n)]) + np.sqrt(
            v
        ) * rng.standard_normal((n, 2))
        x = x_pop if ctx.control else x_emp  # control: the wrong law
        ratio[t] = float(v * np.mean(np.sum((population(x, t) - empirical(x, t)) ** 2, axis=1)))
        raw[t] = float(np.mean(np.sum((population(x_pop, t) - empirical(x_pop, t)) ** 2, axis=1)))
    # reported: the same training set standardised to mean 0 and variance 1 (the population's)
    z = pts[:, 0]
    std_pts = np.column_stack([(z - z.mean()) / z.std(), np.zeros(8)])
    std_field = ou_score(FiniteSet(std_pts))
    standardised = {}
    for t in ERROR_TIMES:
        a, v = float(ou_a(t)), float(ou_v(t))
        x = a * std_pts[rng.integers(0, 8, n)] + np.sqrt(v) * rng.standard_normal((n, 2))
        standardised[str(t)] = float(
            v * np.mean(np.sum((population(x, t) - std_field(x, t)) ** 2, axis=1))
        )
    small = [t for t in ERROR_TIMES if t <= 1e-2]
    slope, se = fit_loglog_slope(small, [raw[t] for t in small])
    rs = [ratio[t] for t in ERROR_TIMES]
    checks = [
        check("v·E_{p̂_t}‖e‖² at t = 1e-4", ratio[1e-4], "in", (0.9 * k, 1.0 * k)),
        check(
            "ratio increases as t falls (steps that rise)",
            int(np.sum(np.diff(rs) > 0)),
            "==",
            len(rs) - 1,
        ),
        check("slope of log E_{p_t}‖e‖² on log t, t ≤ 1e-2", slope, "in", (-2.1, -1.9)),
    ]
    return Outcome(
        predicted={
            "limit of v·E_{p̂_t}‖e‖²": scaling.empirical_error_limit(k),
            "slope under p_t": -2,
        },
        measured={
            "v·E_{p̂_t}‖e‖²": {str(t): r for t, r in ratio.items()},
            "E_{p_t}‖e‖²": {str(t): r for t, r in raw.items()},
            "slope (± s.e.)": [slope, se],
            "training points z_i": pts[:, 0].tolist(),
            "training points' mean and variance": [float(z.mean()), float(z.var())],
            "v·E‖e‖² with the training set standardised (reported)": standardised,
        },
        tolerance={
            "limit": "[0.9, 1.0]·k at t = 1e-4, rising as t falls (note T-B5)",
            "slope": "[−2.1, −1.9] (note T-B5)",
        },
        checks=checks,
        notes=f"n = {n} samples per t of p̂_t (a training point plus noise) and of p_t; e = ∇log p_t − ∇log p̂_t with "
        "both exact fields. So the error energy ∫ E‖e‖² dt diverges like (k/2)·log(1/ε): a model that generalises "
        "cannot be a finite-energy perturbation of the empirical score. The rise at every step is the note's "
        "calibration reading, not part of B4: at t = 0.1 (√v = 0.42, wider than the points' spacing) the error is set by "
        "how far the training set's mean and variance are from 0 and 1, so a training set with off-centre moments can "
        "start above its value at t = 0.01 (the same points standardised to mean 0, variance 1 are reported: they "
        "rise at every step); the limit k is the theorem.",
    )


# --------------------------------------------------------------------------------------------
# B-C7: the best Gaussian prior for α = 0

ATOMS = np.array([0.0, 1.0, 3.0])  # a skewed 1-D data law, mean 0.9, variance 1.09
ATOM_WEIGHTS = np.array([0.5, 0.3, 0.2])
PRIOR_TS = (4.0, 16.0, 64.0, 256.0, 1024.0)
SLOPE_FROM_T = (
    64.0  # where (Cov X₀)²/(2 (E X₀)² σ_T²) < 1%: the 1/σ_T⁴ term no longer bends the slope
)
GRID_POINTS = 40_001


def _kl_on_grid(var: float):
    """``kl(m, s²)`` = KL(p_T‖N(m, s²)) for p_T = Σ w_j N(x_j, var), by the trapezoid rule on a fixed
    grid over ±40 std around the atoms (spectrally accurate for these smooth, fast-decaying integrands)."""
    sd = np.sqrt(var)
    x = np.linspace(ATOMS.min() - 40 * sd, ATOMS.max() + 40 * sd, GRID_POINTS)
    log_p = np.logaddexp.reduce(
        np.log(ATOM_WEIGHTS)[:, None] + stats.norm.logpdf(x[None, :], ATOMS[:, None], sd), axis=0
    )
    p = np.exp(log_p)

    def kl(m: float, s2: float) -> float:
        return float(integrate.trapezoid(p * (log_p - stats.norm.logpdf(x, m, np.sqrt(s2))), x))

    return kl


@claim(
    id="manifold_detection.ve_prior",
    paper=PAPER,
    kind="exact",
    statement="For α = 0 (no stationary law) the KL-best Gaussian prior is N(E X₀, Cov X₀ + σ_T² I), σ_T² = 2T, and "
    "KL(p_T‖prior) falls at least like 1/σ_T²; the usual N(0, σ_T² I) falls like 1/σ_T² when E X₀ ≠ 0.",
    source="paper002 B6 and B-C7 [Cit]; a skewed 3-atom law on R (x = 0, 1, 3; w = 0.5, 0.3, 0.2), T = 4 … 1024",
    control="the predicted prior leaves out the data covariance: N(E X₀, σ_T² I)",
)
def ve_prior(ctx: Context) -> Outcome:
    mean = float(ATOM_WEIGHTS @ ATOMS)
    cov = float(ATOM_WEIGHTS @ (ATOMS - mean) ** 2)
    measured, checks, kl_best, kl_zero = {}, [], [], []
    worst_m, worst_s2 = 0.0, 0.0
    for T in PRIOR_TS:
        var = 2 * T
        kl = _kl_on_grid(var)
        m_pred, c_pred = scaling.best_gaussian_prior_ve(np.array([mean]), np.array([[cov]]), T)
        m_pred, s2_pred = float(m_pred[0]), float(c_pred[0, 0])
        if ctx.control:
            s2_pred = var  # control: the data covariance left out
        res = optimize.minimize(
            lambda p, kl=kl: kl(p[0], np.exp(p[1])),
            x0=[0.0, np.log(var)],
            method="Nelder-Mead",
            options={"xatol": 1e-10, "fatol": 1e-16, "maxiter": 4_000},
        )
        m_opt, s2_opt = float(res.x[0]), float(np.exp(res.x[1]))
        worst_m = max(worst_m, abs(m_opt - m_pred) / np.sqrt(var))
        worst_s2 = max(worst_s2, abs(s2_opt / s2_pred - 1))
        kl_best.append(kl(m_opt, s2_opt))
        kl_zero.append(kl(0.0, var))
        measured[f"T = {T:g}"] = {
            "minimiser (m, s²)": [m_opt, s2_opt],
            "predicted (m, s²)": [m_pred, s2_pred],
            "KL best": kl_best[-1],
            "KL N(0, σ_T²)": kl_zero[-1],
        }
    sig2 = 2 * np.array(PRIOR_TS)
    tail = np.array(PRIOR_TS) >= SLOPE_FROM_T
    slope_best, _ = fit_loglog_slope(sig2[tail], np.array(kl_best)[tail])
    slope_zero, se_zero = fit_loglog_slope(sig2[tail], np.array(kl_zero)[tail])
    checks += [
        check("|m_opt − m_pred| / σ_T (max over T)", worst_m, "<", 1e-5),
        check("|s²_opt / s²_pred − 1| (max over T)", worst_s2, "<", 1e-5),
        check(
            "KL(best) ≤ KL(N(0, σ_T²)) at every T",
            int(np.sum(np.array(kl_best) <= np.array(kl_zero))),
            "==",
            len(PRIOR_TS),
        ),
        check("slope of log KL(best) on log σ_T² (T ≥ 64)", slope_best, "≤", -1.0),
        check("slope of log KL(N(0, σ_T²)) on log σ_T² (T ≥ 64)", slope_zero, "in", (-1.1, -0.9)),
    ]
    measured["fitted slopes (T ≥ 64)"] = {"best": slope_best, "N(0, σ_T²)": [slope_zero, se_zero]}
    return Outcome(
        predicted={
            "best prior": "N(E X₀, Cov X₀ + 2T)",
            "rate": "KL(best) = O(1/σ_T²); KL(N(0, σ_T²)) ~ (E X₀)²/(2σ_T²)",
        },
        measured=measured,
        tolerance={
            "minimiser": "1e-5 (Nelder–Mead on quadrature KL, xatol 1e-10)",
            "slopes": "best ≤ −1; N(0, σ_T²) in [−1.1, −0.9]",
        },
        checks=checks,
        notes="The minimiser is found by Nelder–Mead over (m, log s²) of KL(p_T‖N(m, s²)), each KL by the trapezoid "
        f"rule on {GRID_POINTS} points of the exact mixture density; it is compared with "
        "theory.scaling.best_gaussian_prior_ve. Slopes are fitted for T ≥ 64, where the 1/σ_T⁴ term of the plain "
        "prior's KL is below 1% of its (E X₀)²/(2σ_T²) term. The "
        "best prior's KL falls like σ_T⁻⁶ here (the third cumulant survives), faster than the cited 1/σ_T²; the "
        "plain N(0, σ_T²) falls like (E X₀)²/(2σ_T²).",
    )


# --------------------------------------------------------------------------------------------
# T-B8: power-law error fields and the Girsanov bound (B2 is sufficient, not necessary)

GAMMAS = (0.5, 0.9, 1.1)
PUSH_C = 1.0


@claim(
    id="manifold_detection.power_law_error",
    paper=PAPER,
    kind="sampled",
    statement="A normal push c·t^(−γ/2) on the exact line score has finite energy ∫c²t^(−γ)dt for γ < 1, and the "
    "samples stay on M (normal std ≈ √v_{t_min}); the end law's KL to the true one stays under the Girsanov bound.",
    source="paper002 §1.3, B2 and T-B8 [R]; line R·e₁ in R², α = 1, T = 6, c = 1, γ = 0.5 judged, 0.9 and 1.1 reported",
    control="the push's exponent is γ = 2.5 in place of 0.5 (a push that outgrows the −y/v contraction)",
)
def power_law_error(ctx: Context) -> Outcome:
    n = ctx.profile.pick(quick=2_000, full=4_000)
    t_min = 1e-4
    v = float(ou_v(t_min))
    kl_prior = float(scaling.ou_prior_kl(T_END, 2, [1.0]))
    measured, checks = {}, []
    for i, gamma in enumerate(GAMMAS):
        g = 2.5 if (ctx.control and gamma == GAMMAS[0]) else gamma
        rng = np.random.default_rng(ctx.seed + i)
        score = power_law_push(ou_score(LINE), np.array([0.0, 1.0]), PUSH_C, g)
        y = reverse_euler_maruyama(score, prior_sample(n, 2, rng), _grid(T_END, t_min), rng)
        m, s2 = float(y[:, 1].mean()), float(y[:, 1].var(ddof=1))
        # the normal coordinate is Gaussian (linear drift plus a deterministic push): KL(N(0, v)‖N(m, s²))
        kl = 0.5 * (v / s2 + m**2 / s2 - 1 + np.log(s2 / v))
        bound = kl_prior + float(scaling.power_law_error_energy_integral(PUSH_C, g, t_min, T_END))
        rms = float(np.sqrt(np.mean(y[:, 1] ** 2)))
        measured[f"γ = {gamma:g}"] = {
            "normal rms / √v_{t_min}": rms / np.sqrt(v),
            "normal mean, variance": [m, s2],
            "KL(true ‖ model) of the normal coordinate": kl,
            "Girsanov bound KL(p_T‖π) + ∫_{t_min}^T c²t^(−γ) dt": bound,
            "energy as t_min → 0": float(scaling.power_law_error_energy_limit(PUSH_C, g, T_END)),
        }
        if gamma == GAMMAS[0]:
            checks.append(
                check(
                    f"γ = {gamma:g}: normal rms / √v at t_min = 1e-4",
                    rms / np.sqrt(v),
                    "in",
                    (0.8, 1.2),
                )
            )
        if gamma < 1:
            checks.append(
                check(
                    f"γ = {gamma:g}: KL of the normal coordinate ≤ Girsanov bound", kl, "≤", bound
                )
            )
    return Outcome(
        predicted={
            "γ < 1": "finite energy, samples on M, KL ≤ bound",
            "γ = 1.1": "infinite energy; recorded (the note expects samples still on M)",
        },
        measured=measured,
        tolerance={
            "normal rms": "20% of √v_{t_min} for γ = 0.5 (note T-B8)",
            "bound": "KL ≤ bound",
        },
        checks=checks,
        notes=f"n = {n} per γ, {STEPS_PER_DECADE} EM steps per decade from T = 6 to 1e-4. The push is deterministic and "
        "the normal drift linear, so the normal coordinate is Gaussian and its KL to N(0, v) follows from its sample "
        "mean and variance; the tangent coordinate is untouched. The bound is the path-space Girsanov KL (data "
        "processing gives the marginal's).",
    )
