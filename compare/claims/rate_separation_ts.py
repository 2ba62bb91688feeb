"""Claims of Li et al., *When scores learn geometry: rate separations under the manifold hypothesis*
(ICLR 2026; paper key ``rate_separation``; research note paper003): Tempered-Score (TS) Langevin and
the stationary laws (§2 C3–C5; tests T-C7…T-C13, T-C16).

Convention: VE, σ the noise standard deviation at a fixed level (x_σ = x + σZ). TS Langevin is
dX = σ^α s(X, σ) dt + √2 dW (paper eq. (8)); α = 0 is plain Langevin. For a gradient drift its
stationary law is ∝ p_σ^{σ^α} (times e^{σ^α φ} for a gradient error ∇φ), computed here *exactly* by
quadrature on a tube grid around the curve (:mod:`empirical.tube_grid`); non-gradient errors go
through the exact 1-D NESS on the circle (:mod:`theory.rate_ness`) and a 2-D Euler–Maruyama run
(:mod:`empirical.langevin`, the paper's hat form dX = ŝ dτ + √(2σ^{2−α}) dW, step h = 0.1).

Recorded, not judged (C-C10, out of scope on a CPU): the paper reports that a TS corrector in
Stable Diffusion 1.5 (DDPM, 30 steps, guidance 7.5, 512 images per setting, CLIP at 256×256) raises
the mean CLIP prompt similarity and slightly lowers the mean pairwise image similarity, e.g. (best
over the tuning grid, P-sim / I-sim) Furniture DDPM 29.56 / 80.78, PC 29.40 / 81.24, TS 30.20 /
80.76; Car 26.23 / 87.30, 26.30 / 87.20, 26.62 / 87.14; Architecture 27.36 / 81.53, 27.13 / 81.03,
27.32 / 80.76 (Table 1 [P]; the note observes the best P-sim and I-sim may come from different
settings; all gains ≤ 1.2 CLIP points, three prompts, no error bars).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from scipy.special import i0e, i1e

from compare.claim import Context, FigureSpec, Outcome, check
from compare.claims._common import measured_once
from compare.registry import claim
from compare.style import PALETTE, fit_loglog_slope
from empirical import tube_grid
from empirical.jax_fields import noised_circle_score as jax_circle_score
from empirical.langevin import langevin, stationarity_gap
from theory import rate_ellipse, rate_ness, scaling

PAPER = "rate_separation"

KAPPA = 1.0  # the von Mises concentration of the Fig. 2 data (paper App. C.1)
CIRCLE = tube_grid.circle(1.0)
ELLIPSE_AXES = (1.0, 2.0)
ELLIPSE = tube_grid.ellipse(*ELLIPSE_AXES)
K_HALF_WIDTH = 0.6  # the note's K = {0.4 ≤ r ≤ 1.6} around the unit circle (T-C5)
ELLIPSE_HALF_WIDTH = 0.45  # below the (1, 2) ellipse's reach 0.5 (note §7.7)
N_RHO = 300  # ρ-cells across the circle's tube: ≥ 40 per thickness over 12 thicknesses
H = 0.1  # Euler–Maruyama step in hat time τ (paper App. C.1)


# --------------------------------------------------------------------------------------------
# Shared pieces: the TS log-density on the circle, laws on the tube grid, TV to a reference


def _thickness(sigma: float, alpha: float) -> float:
    """σ^{1−α/2}, the TS cloud's normal s.d. (α = 0: σ)."""
    return sigma ** (1.0 - 0.5 * alpha)


def _ts_circle_log_density(sigma, alpha, *, kappa=KAPPA, mean_angle=0.0, extra=None):
    """x ↦ σ^α log p_σ(x) (+ extra(x)): the log stationary density of TS Langevin, exact score."""

    def f(x):
        out = sigma**alpha * scaling.noised_circle_log_density(
            x, sigma, kappa, 1.0, "ve", mean_angle
        )
        return out if extra is None else out + extra(x)

    return f


def _circle_law(sigma, alpha, n_t, *, kappa=KAPPA, mean_angle=0.0, extra=None, widths=12.0):
    """The TS stationary law on the circle's tube grid (half-width ``widths`` thicknesses, ≤ K)."""
    half = min(K_HALF_WIDTH, widths * _thickness(sigma, alpha))
    log_density = _ts_circle_log_density(
        sigma, alpha, kappa=kappa, mean_angle=mean_angle, extra=extra
    )
    return tube_grid.tube_law(log_density, CIRCLE, half, n_t=n_t, n_rho=N_RHO)


def _tv(law: tube_grid.TubeLaw, reference: np.ndarray) -> float:
    """TV between a law's parameter marginal and reference cell masses on the same t-cells."""
    return tube_grid.total_variation(law.parameter_marginal(), reference)


def _tv_of(p, q) -> float:
    """TV between two mass vectors on the same cells."""
    return tube_grid.total_variation(p, q)


def _uniform(n_t: int) -> np.ndarray:
    return tube_grid.cell_masses(np.zeros_like, n_t)


def _von_mises(kappa: float, n_t: int, mean_angle: float = 0.0) -> np.ndarray:
    return tube_grid.cell_masses(lambda t: kappa * np.cos(t - mean_angle), n_t)


def _mean_cos(law: tube_grid.TubeLaw) -> float:
    return float(law.parameter_marginal() @ np.cos(law.t))


def _a1(kappa) -> float:
    """A₁(κ) = I₁(κ)/I₀(κ) = E cos θ under von Mises(κ)."""
    return float(i1e(kappa) / i0e(kappa))


def _angle(x: np.ndarray) -> np.ndarray:
    return np.mod(np.arctan2(x[:, 1], x[:, 0]), 2.0 * np.pi)


def _density(masses, t) -> np.ndarray:
    """Cell masses on equal cells of [0, 2π) as a density w.r.t. dt."""
    return np.asarray(masses) / (2.0 * np.pi / len(t))


def _two_point_slope(sigmas, values) -> float:
    """log-log slope between the last two points."""
    return float(np.log(values[-1] / values[-2]) / np.log(sigmas[-1] / sigmas[-2]))


# --------------------------------------------------------------------------------------------
# T-C7: TS with the exact score on the circle (C-C6, C-C7)

TS_ALPHAS = (0.0, 0.5, 1.0, 1.5)
TS_SIGMAS = (0.1, 0.03, 0.01, 0.003, 0.001)


@claim(
    id="rate_separation.ts_circle",
    paper=PAPER,
    kind="exact",
    statement="TS Langevin with the exact score on the unit circle has the stationary law ∝ p_σ^{σ^α}: on M it "
    "is von Mises(σ^α κ) (TV to uniform ≈ κσ^α/π, E cos θ = A₁(σ^α κ)) with normal thickness σ^{1−α/2}; "
    "α = 0 recovers p_data.",
    source="paper003 §2 C3 'Why it works' [D], Thm 5.1 [P], T-C7 [C]; circle R = 1, von Mises(κ = 1), VE; "
    "exact law by tube-grid quadrature",
    control="the prediction uses σ^{α/2} in place of σ^α (von Mises(σ^{α/2} κ)), the exponent halved",
)
def ts_circle(ctx: Context) -> Outcome:
    n_t = ctx.profile.pick(quick=360, full=720)
    sigmas = ctx.profile.pick(quick=(0.03, 0.01, 0.001), full=TS_SIGMAS)
    uniform, data = _uniform(n_t), _von_mises(KAPPA, n_t)
    planted = 0.5 if ctx.control else 1.0  # the exponent's factor in the prediction
    checks, measured, predicted = [], {}, {}
    for alpha in TS_ALPHAS:
        key = f"alpha={alpha:g}"
        rows = measured[key] = {}
        preds = predicted[key] = {}
        for sigma in sigmas:
            law = _circle_law(sigma, alpha, n_t)
            tv, sd, mcos = _tv(law, uniform), law.normal_sd(), _mean_cos(law)
            kappa_eff = sigma ** (planted * alpha) * KAPPA
            a1 = _a1(kappa_eff)
            row = rows[f"sigma={sigma:g}"] = {"TV(angle, uniform)": tv, "normal s.d.": sd}
            row["E cos θ"] = mcos
            if alpha == 0.0:
                row["TV(angle, p_data)"] = _tv(law, data)
                preds[f"sigma={sigma:g}"] = {"TV": _tv_of(data, uniform), "s.d.": sigma}
                if sigma <= 0.03:
                    checks.append(
                        check(
                            f"{key} σ={sigma:g}: TV(angle, p_data)",
                            row["TV(angle, p_data)"],
                            "≤",
                            sigma**2,
                        )
                    )
                    checks.append(
                        check(f"{key} σ={sigma:g}: s.d./σ", sd / sigma, "in", (0.97, 1.03))
                    )
            else:
                tv_pred = float(scaling.ts_circle_tv(sigma**planted, alpha, KAPPA))
                sd_pred = float(scaling.ts_thickness(sigma, alpha))
                preds[f"sigma={sigma:g}"] = {"TV": tv_pred, "s.d.": sd_pred, "A₁(σ^α κ)": a1}
                if alpha < 1.5 and sd_pred <= 0.1:
                    checks.append(
                        check(
                            f"{key} σ={sigma:g}: TV / ts_circle_tv",
                            tv / tv_pred,
                            "in",
                            (0.95, 1.05),
                        )
                    )
                    checks.append(
                        check(
                            f"{key} σ={sigma:g}: s.d. / ts_thickness",
                            sd / sd_pred,
                            "in",
                            (0.97, 1.03),
                        )
                    )
            if sigma <= 0.01:
                checks.append(
                    check(f"{key} σ={sigma:g}: |E cos θ − A₁(σ^α κ)|", abs(mcos - a1), "≤", 1e-4)
                )
    return Outcome(
        predicted={
            "TV(angle, uniform)": "TV(von Mises(σ^α κ), uniform) (theory.scaling.ts_circle_tv)",
            "normal s.d.": "σ^{1−α/2} (theory.scaling.ts_thickness)",
            "E cos θ": "A₁(σ^α κ)",
            "values": predicted,
        },
        measured=measured,
        tolerance={
            "TV": "within 5% where σ^{1−α/2} ≤ 0.1 (note T-C7)",
            "s.d.": "within 3% in the same regime (note T-C7)",
            "E cos θ": "≤ 1e-4 for σ ≤ 0.01 (note T-C7)",
            "α = 0": "TV(angle, p_data) ≤ σ² for σ ≤ 0.03 (the C1 remainder is O(σ²); the note measures "
            "0.2σ²) and s.d. within 3% of σ",
        },
        checks=checks,
        notes=f"Exact stationary laws ∝ p_σ^(σ^α) on a tube grid of {n_t} angles × {N_RHO} radii, half-width "
        f"min(12 σ^(1−α/2), 0.6) (K = {{0.4 ≤ r ≤ 1.6}} of the note); no sampling, so no s.e. At α = 1.5 the "
        "cloud σ^0.25 ≥ 0.18 is truncated by K: thickness and TV are reported, not judged (note T-C7); E cos θ "
        "is judged at every α.",
    )


# --------------------------------------------------------------------------------------------
# T-C8: TS on the (1, 2) ellipse samples arc length, not the chart (C-C6) + the Fig. 2 analogue

ELLIPSE_CELLS = ((0.5, 0.03), (0.5, 0.01), (0.5, 0.003), (1.0, 0.01), (1.0, 0.003), (1.0, 0.001))
FIG2_SIGMA = 0.01


def _ellipse_log_density(sigma, alpha):
    def f(x):
        return sigma**alpha * rate_ellipse.noised_ellipse_log_density(
            x, sigma, *ELLIPSE_AXES, KAPPA
        )

    return f


@measured_once(kept=16)
def _ellipse_law(sigma: float, alpha: float, n_t: int, n_rho: int) -> tube_grid.TubeLaw:
    half = min(ELLIPSE_HALF_WIDTH, 6.0 * _thickness(sigma, alpha))
    return tube_grid.tube_law(
        _ellipse_log_density(sigma, alpha), ELLIPSE, half, n_t=n_t, n_rho=n_rho
    )


def _draw_marginals(axes, t, laws, overlays, xlabel: str, ylabel: str) -> None:
    """One panel per (law, title) in ``laws``; each also shows the ``overlays`` (a function of the
    panel's key giving (density, line style, colour, label) tuples)."""
    for ax, (key, (law, title)) in zip(axes, laws.items(), strict=True):
        ax.plot(t, law, color=PALETTE["exact"], label="exact stationary law (tube grid)")
        for density, style, color, label in overlays(key):
            ax.plot(t, density, style, color=color, lw=2 if style == ":" else None, label=label)
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
    axes[0].legend(fontsize=7)


def _draw_fig2(fig, data):
    fig.set_size_inches(9, 6)
    titles = {
        "ellipse L": "(a) L on the ellipse",
        "ellipse TS-1": "(b) TS-1 on the ellipse",
        "circle L": "(c) L on the circle",
        "circle TS-1": "(d) TS-1 on the circle",
    }

    def overlays(key):
        return (
            (data["p_data"], "--", PALETTE["theory"], "p_data (von Mises κ = 1 in t)"),
            (data["arc"][key.split()[0]], ":", PALETTE["alt"], "arc-length (volume) law"),
        )

    axes = fig.subplots(2, 2, sharex=True)
    _draw_marginals(
        axes.ravel(),
        np.array(data["t"]),
        {k: (data["law"][k], title) for k, title in titles.items()},
        overlays,
        f"chart parameter t (VE, σ = {data['sigma']:g}; L: α = 0, TS-1: α = 1)",
        "density in t",
    )
    for ax in axes[0]:
        ax.set_xlabel("")
    fig.suptitle("Fig. 2 analogue with exact scores: parameter marginals of the stationary laws")


@claim(
    id="rate_separation.ts_ellipse_volume",
    paper=PAPER,
    kind="exact",
    statement="On the (1, 2) ellipse with p_data ∝ e^{cos t} dt, TS Langevin's t-marginal tends to the "
    "arc-length law |Φ'(t)|/L (the Riemannian volume), with TV ≈ 0.3701σ^α, not to the chart-uniform law.",
    source="paper003 Thm 5.1 [P], §7.4, T-C8 [D/C]; ellipse (a, b) = (1, 2), VE, exact p_σ by local 1-D "
    "quadrature (theory.rate_ellipse); Fig. 2 analogue (§3.1) with exact scores",
    control="the chart-uniform law (uniform in t) in place of the arc-length law",
    figures=("fig2_exact_scores",),
)
def ts_ellipse_volume(ctx: Context) -> Outcome:
    n_t = ctx.profile.pick(quick=120, full=180)
    n_rho = ctx.profile.pick(quick=61, full=81)
    cells = ctx.profile.pick(quick=((0.5, 0.03), (1.0, 0.01)), full=ELLIPSE_CELLS)
    arc = tube_grid.arc_length_masses(ELLIPSE, n_t)
    chart = _uniform(n_t)
    target = chart if ctx.control else arc
    data = _von_mises(KAPPA, n_t)
    coef = rate_ellipse.ts_ellipse_tv_coefficient(*ELLIPSE_AXES, KAPPA)
    checks = [check("coefficient ½E_arc|log q − E log q| − 0.3701", abs(coef - 0.3701), "≤", 5e-5)]
    measured = {
        "coefficient c": coef,
        "TV(arc law, chart-uniform)": _tv_of(arc, chart),
        "TV(p_data, arc law)": _tv_of(data, arc),
    }
    for alpha, sigma in cells:
        law = _ellipse_law(sigma, alpha, n_t, n_rho)
        tv, tv_chart = _tv(law, target), _tv(law, chart)
        pred = coef * sigma**alpha
        measured[f"alpha={alpha:g} sigma={sigma:g}"] = {
            "TV(t-marginal, arc law)": _tv(law, arc),
            "TV(t-marginal, chart-uniform)": tv_chart,
            "predicted 0.3701σ^α": pred,
            "normal s.d.": law.normal_sd(),
        }
        checks.append(
            check(
                f"α={alpha:g} σ={sigma:g}: TV(t-marginal, arc) / (cσ^α)",
                tv / pred,
                "in",
                (0.9, 1.1),
            )
        )
        if alpha == 1.0 and sigma <= 0.01:
            checks.append(
                check(
                    f"α=1 σ={sigma:g}: TV(t-marginal, uniform-in-t)", tv_chart, "in", (0.095, 0.105)
                )
            )
    plain = _ellipse_law(FIG2_SIGMA, 0.0, n_t, n_rho)
    tv_plain = _tv(plain, data)
    measured[f"alpha=0 sigma={FIG2_SIGMA:g}"] = {
        "TV(t-marginal, p_data)": tv_plain,
        "normal s.d.": plain.normal_sd(),
    }
    checks.append(
        check(f"α=0 σ={FIG2_SIGMA:g}: TV(t-marginal, p_data)", tv_plain, "≤", FIG2_SIGMA**2)
    )
    ts1 = _ellipse_law(FIG2_SIGMA, 1.0, n_t, n_rho)
    t = plain.t
    fig_data = {
        "t": t,
        "sigma": FIG2_SIGMA,
        "p_data": _density(data, t),
        "arc": {"ellipse": _density(arc, t), "circle": _density(_uniform(n_t), t)},
        "law": {
            "ellipse L": _density(plain.parameter_marginal(), t),
            "ellipse TS-1": _density(ts1.parameter_marginal(), t),
            "circle L": _density(_circle_law(FIG2_SIGMA, 0.0, n_t).parameter_marginal(), t),
            "circle TS-1": _density(_circle_law(FIG2_SIGMA, 1.0, n_t).parameter_marginal(), t),
        },
    }
    return Outcome(
        predicted={
            "t-marginal": "arc-length law |Φ'(t)|/L",
            "TV to it": "cσ^α, c = ½E_arc|log q − E log q| "
            f"= {coef:.5f} (theory.rate_ellipse, q = p_data/|Φ'|)",
            "TV to uniform-in-t (α = 1, σ → 0)": "TV(arc law, chart-uniform) ≈ 0.1015",
        },
        measured=measured,
        tolerance={
            "TV(arc)": "within 10% of 0.3701σ^α (note T-C8)",
            "TV(uniform-in-t)": "in [0.095, 0.105] for α = 1, σ ≤ 0.01 (note T-C8)",
            "α = 0": "TV(t-marginal, p_data) ≤ σ² (C1 remainder O(σ²); note measures 0.0000)",
            "c": "within 5e-5 of the note's 0.3701 (its four digits)",
        },
        checks=checks,
        notes=f"Exact laws ∝ p_σ^(σ^α) on a tube grid of {n_t} t-cells × {n_rho} ρ-cells, half-width "
        f"min(6 σ^(1−α/2), {ELLIPSE_HALF_WIDTH}) (the reach is 0.5); p_σ by a local trapezoid rule in t "
        "(201 nodes over ±16 local s.d.), checked against a full-period quadrature in the tests. No sampling. "
        f"Figure: the Fig. 2 panels at σ = {FIG2_SIGMA:g} from the exact stationary laws (no Langevin sample).",
        figures=[
            FigureSpec(
                name="fig2_exact_scores",
                draw=_draw_fig2,
                data=fig_data,
                config={"sigma": FIG2_SIGMA, "n_t": n_t, "n_rho": n_rho, "kappa": KAPPA},
            )
        ],
    )


# --------------------------------------------------------------------------------------------
# T-C9: the error-tolerance phase diagram of TS with a gradient error (C-C6)

PHASE_SIGMAS = (0.03, 0.01, 0.003, 0.001)
PHASE_ROWS = (
    (0.0, 0.5),
    (0.0, 1.0),
    (0.5, 0.5),
    (0.5, 1.0),
    (0.5, 1.5),
    (1.0, 0.5),
    (1.0, 1.0),
    (1.0, 1.5),
)  # (γ, α)
ERROR_AMPLITUDE = 0.5


def _sin_theta(x: np.ndarray) -> np.ndarray:
    """cos(θ − π/2) = sin θ = y/r."""
    return x[:, 1] / np.hypot(x[:, 0], x[:, 1])


def _phase_law(sigma, alpha, gamma, n_t, *, untempered=False):
    """TS law with the gradient error 0.5σ^{−γ}∇cos(θ − π/2): ∝ exp(σ^α log p_σ + 0.5σ^{α−γ} sin θ).

    ``untempered``: the error added at full strength (σ^α multiplies the exact score only)."""
    power = -gamma if untempered else alpha - gamma
    weight = ERROR_AMPLITUDE * sigma**power
    return _circle_law(sigma, alpha, n_t, extra=lambda x: weight * _sin_theta(x))


@claim(
    id="rate_separation.ts_error_phase_diagram",
    paper=PAPER,
    kind="exact",
    statement="TS Langevin with a gradient score error of size σ^{−γ}: the law on M is uniform in the limit "
    "iff α > γ (TV ∝ σ^{α−γ}), tilted (∝ e^{0.5 cos(θ−π/2)}) at α = γ, and collapses for α < γ.",
    source="paper003 §2 C3 'Phase diagram' [D], Thms 5.1 [P], T-C9 [C]; circle R = 1, von Mises(κ = 1), error "
    "0.5σ^{−γ}∇cos(θ − π/2); exact law by tube-grid quadrature",
    control="the error left untempered: σ^α multiplies only the exact score, the error enters at full strength",
)
def ts_error_phase_diagram(ctx: Context) -> Outcome:
    n_t = ctx.profile.pick(quick=360, full=720)
    uniform = _uniform(n_t)
    # the plateau by a midpoint quadrature: TV(uniform, ∝ e^{0.5 cos}) on 20 000 cells
    fine = 20_000
    plateau = _tv_of(
        tube_grid.cell_masses(lambda t: ERROR_AMPLITUDE * np.cos(t), fine), _uniform(fine)
    )
    checks = [
        check(
            "plateau TV(uniform, ∝e^{0.5cos}) by quadrature − 0.155",
            abs(plateau - 0.155),
            "≤",
            5e-4,
        )
    ]
    measured, slopes = {"plateau by quadrature": plateau}, {}
    for gamma, alpha in PHASE_ROWS:
        key = f"gamma={gamma:g} alpha={alpha:g}"
        tvs = [
            _tv(_phase_law(s, alpha, gamma, n_t, untempered=ctx.control), uniform)
            for s in PHASE_SIGMAS
        ]
        measured[key] = dict(zip(map(str, PHASE_SIGMAS), tvs, strict=True))
        if alpha > gamma:
            slope = _two_point_slope(PHASE_SIGMAS, tvs)
            expo = scaling.ts_uniform_tv_exponent(alpha, gamma)
            slopes[key] = {
                "last two σ": slope,
                "predicted": expo,
                "fit over all σ (± s.e.)": fit_loglog_slope(PHASE_SIGMAS, tvs),
            }
            checks.append(
                check(
                    f"{key}: slope over the last two σ − (α − γ)", slope - expo, "in", (-0.05, 0.05)
                )
            )
        elif alpha == gamma:
            for s, tv in zip(PHASE_SIGMAS, tvs, strict=True):
                if s <= 0.003:
                    checks.append(
                        check(f"{key} σ={s:g}: |TV − plateau|", abs(tv - plateau), "≤", 0.003)
                    )
        else:
            rises = int(np.sum(np.diff(tvs) > 0))
            checks.append(
                check(f"{key}: steps where TV rises as σ falls", rises, "==", len(tvs) - 1)
            )
    measured["slopes"] = slopes
    return Outcome(
        predicted={
            "α > γ": "TV → 0 with exponent α − γ (theory.scaling.ts_uniform_tv_exponent)",
            "α = γ": f"plateau TV(uniform, ∝ e^(0.5 cos)) = {plateau:.4f}",
            "α < γ": "TV increases as σ falls (collapse on θ = π/2)",
        },
        measured=measured,
        tolerance={
            "plateau": "± 0.003 (note T-C9), judged for σ ≤ 0.003 (at α = γ = 0.5 the exact score's own "
            "bias κσ^0.5/π still adds at larger σ: the note measures .164 at σ = 0.03)",
            "slopes": "± 0.05 of α − γ over the last two σ (note T-C9)",
            "α < γ": "rises at every step (note T-C9)",
        },
        checks=checks,
        notes=f"Exact laws ∝ exp(σ^α log p_σ + 0.5σ^(α−γ) sin θ) on a tube grid of {n_t} angles × {N_RHO} radii "
        f"(half-width min(12 σ^(1−α/2), 0.6)); σ = {PHASE_SIGMAS}. No sampling.",
    )


# --------------------------------------------------------------------------------------------
# T-C10: TS with a non-gradient error, through the exact 1-D NESS and a 2-D EM run (Thm 5.2)

NESS_SIGMAS = (0.1, 0.03, 0.01, 0.003, 0.001)
NESS_ROWS = ((0.5, 1.0), (1.0, 1.0))  # (γ, α)
NESS_CELLS = 4_320  # 120 per histogram bin
EM_SIGMA = 0.01
BINS = 36


def _ness_drift(sigma, alpha, gamma):
    """On-circle drift σ^α[−κ sin θ + 0.5σ^{−γ}(1 + cos θ)] (r = 1)."""

    def b(theta):
        return sigma**alpha * (
            -KAPPA * np.sin(theta) + ERROR_AMPLITUDE * sigma**-gamma * (1 + np.cos(theta))
        )

    return b


def _ness(drift, gibbs: bool) -> np.ndarray:
    """NESS cell masses, or (the control) the Gibbs law ∝ e^{∫₀^θ b} that ignores the circulation."""
    theta, mass = rate_ness.circle_ness(drift, NESS_CELLS)
    if not gibbs:
        return mass
    fine = np.linspace(0.0, 2.0 * np.pi, 20 * NESS_CELLS + 1)
    values = drift(fine)
    cumulative = np.concatenate(
        [[0.0], np.cumsum(0.5 * (values[1:] + values[:-1]) * np.diff(fine))]
    )
    log_rho = np.interp(theta, fine, cumulative)
    return np.exp(log_rho - log_rho.max()) / np.exp(log_rho - log_rho.max()).sum()


def _binned(mass: np.ndarray, bins: int = BINS) -> np.ndarray:
    return mass.reshape(bins, -1).sum(axis=1)


def _non_gradient_score(gamma: float):
    """Exact circle score + the error 0.5σ^{−γ}(1 + cos θ)/r e_θ, for ONE point (JAX)."""

    def score(x, sigma):
        r2 = x[0] ** 2 + x[1] ** 2
        r = r2**0.5
        e_theta = ERROR_AMPLITUDE * sigma**-gamma * (1.0 + x[0] / r) / r2
        return jax_circle_score(x, sigma, kappa=KAPPA) + e_theta * jnp.stack([-x[1], x[0]])

    return score


_SCORES: dict = {}


def _cached_score(key, build):
    """One function object per field, so the compiled chain is reused across calls."""
    if key not in _SCORES:
        _SCORES[key] = build()
    return _SCORES[key]


@measured_once
def _em_angles(gamma: float, alpha: float, n: int, steps: int, seed: int) -> np.ndarray:
    """End angles of n TS chains (hat form, h = 0.1) started uniform on the circle, and their radii."""
    rng = np.random.default_rng(seed)
    theta = rng.uniform(0.0, 2.0 * np.pi, n)
    x0 = np.column_stack([np.cos(theta), np.sin(theta)])
    score = _cached_score(("non-gradient", gamma), lambda: _non_gradient_score(gamma))
    end = langevin(score, x0, EM_SIGMA, H, steps, rng, alpha=alpha, form="rescaled")
    return np.column_stack([_angle(end), np.hypot(end[:, 0], end[:, 1])])


def _noise_floor(mass36: np.ndarray, n: int, rng, draws: int = 2_000) -> tuple[float, float]:
    """Mean and 99% quantile of TV₃₆(multinomial(n, NESS)/n, NESS): the sampling noise floor."""
    counts = rng.multinomial(n, mass36, size=draws) / n
    tvs = 0.5 * np.abs(counts - mass36).sum(axis=1)
    return float(tvs.mean()), float(np.quantile(tvs, 0.99))


@claim(
    id="rate_separation.ts_non_gradient",
    paper=PAPER,
    kind="sampled",
    statement="TS Langevin with a non-gradient score error of size σ^{−γ} (Thm 5.2): the exact NESS on M tends "
    "to the uniform law like σ^{α−γ} for α > γ and to a tilted NESS at α = γ; a 2-D Euler–Maruyama run "
    "samples that NESS.",
    source="paper003 Thm 5.2 [P], §2 C3 [D], T-C10 [C]; unit circle, von Mises(κ = 1), error "
    "0.5σ^{−γ}(1 + cos θ)/r e_θ (non-zero circulation); NESS ρ ∝ e^{−U}∫_θ^{θ+2π}e^{U} (theory.rate_ness)",
    control="the NESS replaced by the Gibbs law ∝ e^{∫₀^θ b} (the circulation ignored: the drift treated as a "
    "gradient)",
)
def ts_non_gradient(ctx: Context) -> Outcome:
    n = ctx.profile.pick(quick=1_000, full=4_000)
    steps = ctx.profile.pick(quick=3_000, full=5_000)
    rng_floor = np.random.default_rng(ctx.seed + 7)
    uniform = np.full(NESS_CELLS, 1.0 / NESS_CELLS)
    checks, measured = [], {}
    limit = _ness(lambda th: ERROR_AMPLITUDE * (1 + np.cos(th)), ctx.control)
    tv_limit = _tv_of(limit, uniform)
    measured["TV(limit NESS of b = 0.5(1 + cos θ), uniform)"] = tv_limit
    for gamma, alpha in NESS_ROWS:
        key = f"gamma={gamma:g} alpha={alpha:g}"
        tvs = [
            _tv_of(_ness(_ness_drift(s, alpha, gamma), ctx.control), uniform) for s in NESS_SIGMAS
        ]
        row = measured[key] = {
            "TV(NESS, uniform)": dict(zip(map(str, NESS_SIGMAS), tvs, strict=True))
        }
        if alpha > gamma:
            slope = _two_point_slope(NESS_SIGMAS, tvs)
            expo = scaling.ts_uniform_tv_exponent(alpha, gamma)
            row["slope over the last two σ"] = slope
            checks.append(
                check(
                    f"{key}: NESS slope over the last two σ − (α − γ)",
                    slope - expo,
                    "in",
                    (-0.05, 0.05),
                )
            )
        else:
            for s, tv in zip(NESS_SIGMAS, tvs, strict=True):
                if s <= 0.01:
                    checks.append(
                        check(
                            f"{key} σ={s:g}: |TV − limit NESS TV|", abs(tv - tv_limit), "≤", 0.003
                        )
                    )
        # the 2-D EM cross-check at σ = 0.01
        angles = _em_angles(gamma, alpha, n, steps, ctx.seed + int(10 * gamma))
        theta, radius = angles[:, 0], angles[:, 1]
        mass36 = _binned(_ness(_ness_drift(EM_SIGMA, alpha, gamma), ctx.control))
        hist = np.histogram(theta, bins=BINS, range=(0.0, 2.0 * np.pi))[0] / n
        tv36 = _tv_of(hist, mass36)
        floor_mean, floor99 = _noise_floor(mass36, n, rng_floor)
        em = {
            "TV36(EM, NESS)": tv36,
            "noise floor mean": floor_mean,
            "noise floor 99%": floor99,
            "normal s.d.": float(np.std(radius - 1.0)),
        }
        checks.append(
            check(f"{key} σ=0.01: TV36(EM, NESS) − 99% noise floor", tv36 - floor99, "≤", 0.0)
        )
        fine_theta = (np.arange(NESS_CELLS) + 0.5) * 2.0 * np.pi / NESS_CELLS
        fine_mass = _ness(_ness_drift(EM_SIGMA, alpha, gamma), ctx.control)
        for name, fn in (("cos", np.cos), ("sin", np.sin)):
            values = fn(theta)
            se = float(values.std(ddof=1) / np.sqrt(n))
            pred = float(fine_mass @ fn(fine_theta))
            em[f"E {name} θ (EM ± s.e.)"] = (float(values.mean()), se)
            em[f"E {name} θ (NESS)"] = pred
            checks.append(
                check(
                    f"{key} σ=0.01: |E {name} θ (EM) − NESS| / s.e.",
                    abs(values.mean() - pred) / se,
                    "≤",
                    3.0,
                )
            )
        row["EM cross-check"] = em
    return Outcome(
        predicted={
            "α > γ": "TV(NESS, uniform) ∝ σ^(α−γ) (theory.scaling.ts_uniform_tv_exponent)",
            "α = γ": f"the limit NESS of b = 0.5(1 + cos θ): TV {tv_limit:.4f}",
            "EM": "histogram and moments of the NESS at σ = 0.01",
        },
        measured=measured,
        tolerance={
            "slope": "± 0.05 of α − γ over the last two σ (the T-C9 tolerance; T-C10 states the rate "
            "only)",
            "plateau": "|TV − limit| ≤ 0.003 for σ ≤ 0.01 (the plateau tolerance of T-C9; the drift's "
            "σ^α κ part moves it by O(σ))",
            "EM": "TV36 below the simulated 99% noise floor; E cos θ, E sin θ within 3 s.e. (note T-C10)",
        },
        checks=checks,
        notes=f"NESS on {NESS_CELLS} cells (FFT for the periodic part, trapezoid ends). EM: {n} chains × {steps} "
        f"steps, hat form h = {H} (tempered time t = hσ^(2−α) per step: {steps * H * EM_SIGMA:g} units of t at "
        "α = 1, angular relaxation rate ≈ 1), started uniform on the circle; end states only (independent "
        f"chains), s.e. = s.d./√{n}; noise floor from 2 000 multinomial draws of size {n} from the NESS's 36 "
        "bins. The EM normal s.d. includes the O(h) bias 1/√(1 − h/2).",
    )


# --------------------------------------------------------------------------------------------
# T-C11: TS with the exact score at the paper's sampler settings, and mixing (C-C7)

MIX_SIGMA = 0.01
MIX_ALPHAS = (0.0, 0.5, 1.0)
STARTS = ("p_data", "uniform")
KEEP_FROM = 0.5  # the normal s.d. uses the thinned states of the second half of the run


def _exact_circle_score(x, sigma):
    """The exact VE score of von Mises(κ = 1) data on the unit circle, for ONE point (JAX)."""
    return jax_circle_score(x, sigma, kappa=KAPPA)


@measured_once(kept=8)
def _mixing_run(alpha: float, start: str, n: int, steps: int, seed: int):
    """(end cos θ per chain, normal offsets r − 1 of the kept thinned states) of one TS run."""
    rng = np.random.default_rng(seed)
    theta = rng.vonmises(0.0, KAPPA, n) if start == "p_data" else rng.uniform(0.0, 2.0 * np.pi, n)
    x0 = np.column_stack([np.cos(theta), np.sin(theta)])
    thin = steps // 50
    end, kept = langevin(
        _exact_circle_score, x0, MIX_SIGMA, H, steps, rng, alpha=alpha, form="rescaled", thin=thin
    )
    late = kept[int(KEEP_FROM * len(kept)) :]
    offsets = np.hypot(late[..., 0], late[..., 1]) - 1.0
    return np.cos(_angle(end)), offsets.ravel()


def _relaxed_moment(alpha: float, start: str, tau: float, rate_power: float) -> tuple[float, float]:
    """m(τ) = m_∞ + (m₀ − m_∞) e^{−σ^{p}τ/R²} (p = 2 − α; the control passes p = 2), and m_∞."""
    m_inf = _a1(MIX_SIGMA**alpha * KAPPA)
    m0 = _a1(KAPPA) if start == "p_data" else 0.0
    return m_inf + (m0 - m_inf) * np.exp(-(MIX_SIGMA**rate_power) * tau), m_inf


@claim(
    id="rate_separation.ts_mixing",
    paper=PAPER,
    kind="sampled",
    statement="At σ = 0.01 and the paper's Euler–Maruyama settings, TS Langevin's first angular moment relaxes "
    "at rate σ^{2−α}/R² per unit hat time and its normal s.d. is σ^{1−α/2}/√(1 − h/2): TS-1 equilibrates, "
    "plain Langevin does not.",
    source="paper003 §2 C3 'Why it works' [D], §7.5, T-C11 [C]; circle R = 1, von Mises(κ = 1), exact score, "
    "hat form h = 0.1 (App. C.1 [P]), chains from p_data and from uniform",
    control="the relaxation rate σ^{2−α} replaced by σ² (the tempering left out of the time scale)",
)
def ts_mixing(ctx: Context) -> Outcome:
    n = ctx.profile.pick(quick=1_000, full=4_000)
    steps = ctx.profile.pick(quick=2_000, full=5_000)
    tau = steps * H
    rate_power = (lambda a: 2.0) if ctx.control else (lambda a: 2.0 - a)
    checks, measured, predicted = [], {}, {}
    for i, alpha in enumerate(MIX_ALPHAS):
        key = f"alpha={alpha:g}"
        ends, sd_pred = {}, _thickness(MIX_SIGMA, alpha) / np.sqrt(1.0 - H / 2.0)
        for j, start in enumerate(STARTS):
            cos_end, offsets = _mixing_run(alpha, start, n, steps, ctx.seed + 10 * i + j)
            ends[start] = cos_end
            mean, se = float(cos_end.mean()), float(cos_end.std(ddof=1) / np.sqrt(n))
            pred, m_inf = _relaxed_moment(alpha, start, tau, rate_power(alpha))
            sd = float(offsets.std())
            measured[f"{key} from {start}"] = {
                "E cos θ at the end (± s.e.)": (mean, se),
                "normal s.d.": sd,
            }
            predicted[f"{key} from {start}"] = {
                "m(τ)": pred,
                "stationary m_∞ = A₁(σ^α κ)": m_inf,
                "EM-corrected s.d.": sd_pred,
            }
            checks.append(
                check(
                    f"{key} from {start}: |E cos θ − m(τ)| / s.e.", abs(mean - pred) / se, "≤", 3.0
                )
            )
            checks.append(
                check(
                    f"{key} from {start}: normal s.d. / (σ^(1−α/2)/√(1 − h/2))",
                    sd / sd_pred,
                    "in",
                    (0.98, 1.02),
                )
            )
        gap = stationarity_gap(ends["p_data"], ends["uniform"])
        measured[f"{key} stationarity gap (p_data vs uniform start)"] = gap._asdict()
        if alpha == 1.0:
            checks.append(
                check(f"{key}: |z| of the stationarity gap (equilibrated)", abs(gap.z), "≤", 4.0)
            )
        if alpha == 0.0:
            checks.append(
                check(
                    f"{key}: |z| of the stationarity gap (not equilibrated)", abs(gap.z), "≥", 4.0
                )
            )
    return Outcome(
        predicted={
            "relaxation": "m(τ) = m_∞ + (m₀ − m_∞) e^(−σ^(2−α)τ/R²), m_∞ = A₁(σ^α κ)",
            "normal s.d.": "σ^(1−α/2)/√(1 − h/2) (EM-corrected)",
            "values": predicted,
        },
        measured=measured,
        tolerance={
            "moments": "within 3 s.e. (note T-C11)",
            "s.d.": "within 2% (note T-C11)",
            "stationarity": "|z| ≤ 4 at α = 1 and ≥ 4 at α = 0 (empirical.langevin.stationarity_gap: "
            "|z| > 4 says the chains have not forgotten their start)",
        },
        checks=checks,
        notes=f"{n} chains × {steps} Euler–Maruyama steps (τ = {tau:g}) in the hat form at h = {H}, σ = {MIX_SIGMA} "
        "(the paper's sampler at 10 000 chains × 10 000 steps, scaled down), started on the circle from p_data or "
        "uniform; E cos θ from the end states (independent chains, s.e. = s.d./√n); the normal s.d. from the "
        f"states kept every {steps // 50} steps over the second half (normal relaxation ≈ 10 steps). Plain "
        "Langevin (α = 0) at the paper's settings does not equilibrate tangentially: its relaxation time is "
        "R²/σ² = 10⁴ in τ, i.e. about 10⁵ steps, so the chain from uniform keeps E cos θ near 0 while the "
        "stationary value is A₁(1) = 0.446; a departure from p_data in a Fig. 2-style run can come from the "
        "initialisation, not only from score error. TS-1 relaxes in 1/σ = 100 units of τ (10³ steps).",
    )


# --------------------------------------------------------------------------------------------
# T-C12: the Bayesian inverse problem with the maximum-entropy prior (Thm 6.1, C-C8)

PRIOR_KAPPA, PRIOR_CENTRE = 4.0, np.pi
OBS, OBS_SD = 0.6, 0.3
BAYES_ROWS = {  # name: (α, c, γ, σ values, kind)
    "α=0, no error": (0.0, 0.0, 0.0, (0.03, 0.01, 0.003), "data prior"),
    "α=0, c=1, γ=−1": (0.0, 1.0, -1.0, (0.1, 0.03, 0.01, 0.003), "o(1) error"),
    "α=0, c=1, γ=0": (0.0, 1.0, 0.0, (0.1, 0.03, 0.01, 0.003), "O(1) error"),
    "α=1, no error": (1.0, 0.0, 0.0, (0.1, 0.03, 0.01, 0.003), "uniform, to 0.01"),
    "α=1, c=1, γ=0.5": (1.0, 1.0, 0.5, (0.03, 0.01, 0.003, 0.001), "uniform, to 0.01"),
    "α=1.5, c=1, γ=1": (1.5, 1.0, 1.0, (0.01, 0.003, 0.001, 3e-4), "uniform, to 0.01"),
    "α=1, c=1, γ=1": (1.0, 1.0, 1.0, (0.03, 0.01, 0.003, 0.001), "plateau"),
}


def _likelihood(x: np.ndarray) -> np.ndarray:
    """v(x) = (x₁ − 0.6)²/(2·0.3²)."""
    return (x[:, 0] - OBS) ** 2 / (2.0 * OBS_SD**2)


def _quartic(x: np.ndarray) -> np.ndarray:
    """ψ(x) = ½‖x − e₁‖⁴."""
    return 0.5 * ((x[:, 0] - 1.0) ** 2 + x[:, 1] ** 2) ** 2


def _posterior_law(sigma, alpha, c, gamma, n_t, *, untempered=False):
    """∝ exp(−v − σ^α f_σ), f_σ = −log p_σ + cσ^{−γ}ψ (``untempered``: the error not multiplied by σ^α)."""
    weight = c * sigma ** (-gamma if untempered else alpha - gamma)
    return _circle_law(
        sigma,
        alpha,
        n_t,
        kappa=PRIOR_KAPPA,
        mean_angle=PRIOR_CENTRE,
        extra=lambda x: -_likelihood(x) - weight * _quartic(x),
    )


@claim(
    id="rate_separation.bayesian_max_entropy_prior",
    paper=PAPER,
    kind="exact",
    statement="Posterior Langevin with a TS prior score samples the posterior under the uniform-on-M prior "
    "whenever the score error is o(σ^{−α}) (α > γ), while the data prior (α = 0) needs an o(1) error.",
    source="paper003 Thm 6.1 [P], §2 C4 [D], T-C12 [C]; unit circle, prior von Mises(κ = 4, θ₀ = π), v = "
    "(x₁ − 0.6)²/(2·0.3²), error cσ^{−γ}∇ψ with ψ = ½‖x − e₁‖⁴; exact law by tube-grid quadrature",
    control="the error left untempered in the prior's score (σ^α multiplies only the exact score)",
)
def bayesian_max_entropy_prior(ctx: Context) -> Outcome:
    n_t = ctx.profile.pick(quick=360, full=720)
    unif_post = tube_grid.cell_masses(
        lambda t: -_likelihood(np.column_stack([np.cos(t), np.sin(t)])), n_t
    )
    data_post = tube_grid.cell_masses(
        lambda t: (
            -_likelihood(np.column_stack([np.cos(t), np.sin(t)]))
            + PRIOR_KAPPA * np.cos(t - PRIOR_CENTRE)
        ),
        n_t,
    )
    between = _tv_of(unif_post, data_post)
    checks = [check("TV(unif-post, data-post) − 0.4668", abs(between - 0.4668), "≤", 5e-4)]
    measured = {"TV(unif-post, data-post)": between}
    for name, (alpha, c, gamma, sigmas, kind) in BAYES_ROWS.items():
        laws = [_posterior_law(s, alpha, c, gamma, n_t, untempered=ctx.control) for s in sigmas]
        to_unif = [_tv(law, unif_post) for law in laws]
        to_data = [_tv(law, data_post) for law in laws]
        measured[name] = {
            f"sigma={s:g}": {"TV to unif-post": u, "TV to data-post": d}
            for s, u, d in zip(sigmas, to_unif, to_data, strict=True)
        }
        if kind == "data prior":
            for s, d in zip(sigmas, to_data, strict=True):
                checks.append(check(f"{name} σ={s:g}: TV to data-post / σ²", d / s**2, "≤", 2.0))
        elif kind == "o(1) error":
            checks.append(
                check(
                    f"{name}: steps where TV to data-post falls",
                    int(np.sum(np.diff(to_data) < 0)),
                    "==",
                    len(sigmas) - 1,
                )
            )
            checks.append(
                check(f"{name} σ={sigmas[-1]:g}: TV to data-post", to_data[-1], "<", 0.01)
            )
        elif kind == "O(1) error":
            checks.append(check(f"{name}: min over σ of TV to data-post", min(to_data), ">", 0.1))
        elif kind == "plateau":
            checks.append(check(f"{name}: min over σ of TV to unif-post", min(to_unif), ">", 0.1))
        else:
            checks.append(
                check(
                    f"{name}: steps where TV to unif-post falls",
                    int(np.sum(np.diff(to_unif) < 0)),
                    "==",
                    len(sigmas) - 1,
                )
            )
            checks.append(
                check(f"{name} σ={sigmas[-1]:g}: TV to unif-post", to_unif[-1], "<", 0.01)
            )
    return Outcome(
        predicted={
            "α > γ": "→ unif-post ∝ e^(−v) dθ",
            "α = γ": "a tilted posterior (TV > 0.1)",
            "α = 0": "data-post ∝ e^(−v) p_data with no or an o(1) error; a wrong law with an O(1) error",
        },
        measured=measured,
        tolerance={
            "α > γ": "TV to unif-post falls at every step and is < 0.01 by σ = 1e-3 (γ = 0.5) or 3e-4 "
            "(α = 1.5, γ = 1) (note T-C12); α = 1 without error: < 0.01 by σ = 0.003 (the note measures "
            "≈ 1.05σ)",
            "α = γ": "stays > 0.1 (note T-C12)",
            "α = 0, no error": "TV to data-post ≤ 2σ² (the C1 remainder is O(σ²); the note measures ≈ σ²)",
            "α = 0, o(1) error": "falls at every step and < 0.01 at σ = 0.003 (the error's log-density is "
            "cσψ, so TV ∝ σ; the note measures 0.0011)",
            "α = 0, O(1) error": "TV to data-post > 0.1 at every σ (the note measures 0.28–0.29)",
        },
        checks=checks,
        notes=f"Exact laws ∝ exp(−v + σ^α log p_σ − cσ^(α−γ)ψ) on a tube grid of {n_t} angles × {N_RHO} radii "
        "(half-width min(12 σ^(1−α/2), 0.6)); σ chosen per row to reach the note's thresholds. No sampling. At "
        "α = 1 the finite-σ bias σ^(2−α)‖∇²v‖ of the thick cloud dominates (note C4).",
    )


# --------------------------------------------------------------------------------------------
# T-C13: spectral gaps of plain and TS Langevin in the App. D example (C-C9)

GAP_SIGMAS = (0.5, 0.3, 0.2, 0.1, 0.05)
GAP_BETA = -1.0
GAP_ALPHA = 1.5
GAP_POINTS = 2_000


def _double_well(power: float):
    """U(θ) = σ-power·(|cos θ| − 1)² as a function of the angle (the App. D φ on M)."""
    return lambda theta: power * (np.abs(np.cos(theta)) - 1.0) ** 2


@claim(
    id="rate_separation.ts_mixing_gap",
    paper=PAPER,
    kind="exact",
    statement="In the App. D circle example, plain Langevin's spectral gap collapses like exp(−σ^β) as σ → 0 "
    "while TS Langevin (α > −β) keeps a gap bounded below (≥ 0.7, rising to the free gap 1).",
    source="paper003 App. D [P], §2 C5, T-C13 [C]; unit circle, −log p = d/σ² + σ^β(|x₁| − 1)², β = −1, TS α = "
    "1.5; gap of L = −U'∂ + ∂² by detailed-balance finite differences, 2 000 points (theory.rate_ness)",
    control="TS run with α = 0.5 in place of 1.5 (below −β = 1, outside the theorem): its barrier σ^(α+β) grows",
)
def ts_mixing_gap(ctx: Context) -> Outcome:
    alpha_ts = 0.5 if ctx.control else GAP_ALPHA
    free = rate_ness.circle_generator_gap(np.zeros_like, GAP_POINTS)
    plain = [
        rate_ness.circle_generator_gap(_double_well(s**GAP_BETA), GAP_POINTS) for s in GAP_SIGMAS
    ]
    tempered = [
        rate_ness.circle_generator_gap(_double_well(s ** (alpha_ts + GAP_BETA)), GAP_POINTS)
        for s in GAP_SIGMAS
    ]
    ratio = plain[GAP_SIGMAS.index(0.2)] / plain[GAP_SIGMAS.index(0.05)]
    checks = [
        check("free gap − 1", abs(free - 1.0), "≤", 1e-4),
        check("min TS gap", min(tempered), "≥", 0.7),
        check(
            "steps where the TS gap rises as σ falls",
            int(np.sum(np.diff(tempered) > 0)),
            "==",
            len(GAP_SIGMAS) - 1,
        ),
        check("plain gap(σ = 0.2) / gap(σ = 0.05)", ratio, "≥", 1e3),
    ]
    return Outcome(
        predicted={
            "plain": "gap ~ exp(−barrier), barrier σ^β = 2 … 20",
            "TS": "gap bounded below, → 1",
            "free": "1 (∂² on the unit circle)",
        },
        measured={
            "sigma": GAP_SIGMAS,
            "plain gap": plain,
            "TS gap": tempered,
            "free gap": free,
            "plain gap ratio σ = 0.2 → 0.05": ratio,
            "TS α": alpha_ts,
        },
        tolerance={
            "TS": "≥ 0.7 and rising as σ falls (note T-C13)",
            "plain": "falls by ≥ 10³ between σ = 0.2 and 0.05 (note T-C13)",
            "free": "within 1e-4 of 1 (the discretisation's own error is h²/12 = 8e-7)",
        },
        checks=checks,
        notes=f"{GAP_POINTS}-point periodic grid, symmetrised generator, shift-invert Lanczos for the two lowest "
        "eigenvalues (the null vector and the gap). No sampling.",
    )


# --------------------------------------------------------------------------------------------
# T-C16: the Fig. 4 analogue with exact scores, stationary version (C-C12)

FIG4_SIGMAS = (0.03, 0.01, 0.003)
FIG4_SIGMA = 0.01


def _tilted(n_t: int) -> np.ndarray:
    """p_data e^{−ψ} on M: ψ(Φ(θ)) = 2(1 − cos θ)²."""
    return tube_grid.cell_masses(
        lambda t: PRIOR_KAPPA * np.cos(t - PRIOR_CENTRE) - 2.0 * (1.0 - np.cos(t)) ** 2, n_t
    )


def _corrupted_law(sigma: float, alpha: float, n_t: int) -> tube_grid.TubeLaw:
    """∝ exp(σ^α(log p_σ − ψ)): (TS-)Langevin with the score corrupted by −∇ψ."""
    return _circle_law(
        sigma,
        alpha,
        n_t,
        kappa=PRIOR_KAPPA,
        mean_angle=PRIOR_CENTRE,
        extra=lambda x: -(sigma**alpha) * _quartic(x),
    )


def _draw_fig4(fig, data):
    fig.set_size_inches(9, 3.6)
    titles = {"alpha=0": "(a) α = 0 (plain Langevin)", "alpha=1": "(b) TS-1"}
    refs = (
        (data["p_data"], "--", PALETTE["theory"], "p_data (von Mises κ = 4, θ₀ = π)"),
        (data["tilted"], "-.", PALETTE["trained"], "tilted law ∝ p_data e^(−ψ)"),
        (data["uniform"], ":", PALETTE["alt"], "uniform"),
    )
    _draw_marginals(
        fig.subplots(1, 2, sharey=True),
        np.array(data["t"]),
        {k: (data["law"][k], title) for k, title in titles.items()},
        lambda key: refs,
        f"angle θ (VE, σ = {data['sigma']:g})",
        "density in θ",
    )
    fig.suptitle("Fig. 4 analogue: score corrupted by −∇(½‖x − e₁‖⁴)")


@claim(
    id="rate_separation.corrupted_score_fig4",
    paper=PAPER,
    kind="exact",
    statement="With the score corrupted by the O(1) field −∇(½‖x − e₁‖⁴), plain Langevin samples the tilted law "
    "∝ p_data e^{−ψ} (far from p_data), while TS-1 samples the uniform law on the circle.",
    source="paper003 App. C.3 / Fig. 4 [P~], §3.1, T-C16 [C]; unit circle, von Mises(κ = 4, θ₀ = π), stationary "
    "laws by tube-grid quadrature",
    control="the α = 0 prediction is p_data itself (the error's tilt ignored)",
    figures=("fig4_corrupted_score",),
)
def corrupted_score_fig4(ctx: Context) -> Outcome:
    n_t = ctx.profile.pick(quick=360, full=720)
    uniform, data, tilted = _uniform(n_t), _von_mises(PRIOR_KAPPA, n_t, PRIOR_CENTRE), _tilted(n_t)
    target0 = data if ctx.control else tilted
    checks, measured = (
        [],
        {"TV(p_data, tilted)": _tv_of(data, tilted), "TV(p_data, uniform)": _tv_of(data, uniform)},
    )
    laws = {}
    for sigma in FIG4_SIGMAS:
        plain, ts1 = _corrupted_law(sigma, 0.0, n_t), _corrupted_law(sigma, 1.0, n_t)
        laws[sigma] = (plain, ts1)
        measured[f"sigma={sigma:g}"] = {
            "α=0: TV to tilted": _tv(plain, tilted),
            "α=0: TV to p_data": _tv(plain, data),
            "α=1: TV to uniform": _tv(ts1, uniform),
        }
        checks.append(
            check(f"α=1 σ={sigma:g}: TV to uniform / σ", _tv(ts1, uniform) / sigma, "≤", 1.2)
        )
        checks.append(
            check(
                f"α=0 σ={sigma:g}: TV to the tilted law / σ²",
                _tv(plain, target0) / sigma**2,
                "≤",
                10.0,
            )
        )
    plain, ts1 = laws[FIG4_SIGMA]
    t = plain.t
    fig_data = {
        "t": t,
        "sigma": FIG4_SIGMA,
        "p_data": _density(data, t),
        "tilted": _density(tilted, t),
        "uniform": _density(uniform, t),
        "law": {
            "alpha=0": _density(plain.parameter_marginal(), t),
            "alpha=1": _density(ts1.parameter_marginal(), t),
        },
    }
    return Outcome(
        predicted={
            "α = 0": "the tilted law ∝ p_data e^(−ψ) on M (TV to p_data 0.7626)",
            "α = 1": "uniform",
        },
        measured=measured,
        tolerance={
            "α = 1": "TV to uniform ≤ 1.2σ for σ ≤ 0.03 (note T-C16)",
            "α = 0": "TV to the tilted law ≤ 10σ² (note T-C16)",
        },
        checks=checks,
        notes=f"Exact stationary laws (the note's stationary version of Fig. 4: the paper's reverse-diffusion "
        f"protocol is not stated) on a tube grid of {n_t} angles × {N_RHO} radii. The figure shows the exact "
        f"laws at σ = {FIG4_SIGMA:g}; no Langevin sample.",
        figures=[
            FigureSpec(
                name="fig4_corrupted_score",
                draw=_draw_fig4,
                data=fig_data,
                config={
                    "sigma": FIG4_SIGMA,
                    "n_t": n_t,
                    "kappa": PRIOR_KAPPA,
                    "mean_angle": PRIOR_CENTRE,
                },
            )
        ],
    )
