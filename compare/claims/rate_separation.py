"""Claims of Li et al., *When scores learn geometry: rate separations under the manifold hypothesis*
(ICLR 2026; paper key ``rate_separation``; research note paper003), with exact scores.

Convention: σ is the noise standard deviation at one fixed level; VE :math:`x_\\sigma = x + \\sigma Z`,
VP :math:`x_\\sigma = \\sqrt{1-\\sigma^2}\\,x + \\sigma Z` (note §1.2). The measured quantities come by
routes apart from the closed forms they are judged against: finite differences and Monte Carlo on the
Gaussian line, Gauss–Legendre quadrature over the data angle for the noised circle, exact laws on a
polar grid (:mod:`empirical.tube_grid`) for the Gibbs laws of Thm 4.1, and Euler–Maruyama paths for
the reverse-time counterpart (T-C14, outside the paper).
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.special import i0e, logsumexp

from compare.claim import Context, FigureSpec, Outcome, check
from compare.claims._common import measured_once
from compare.registry import claim
from compare.style import PALETTE, fit_loglog_slope
from empirical import tube_grid
from empirical.reverse_ou import geometric_times, reverse_euler_maruyama
from theory import rate_reverse, rate_spheres, scaling
from theory.distributions import LinearGaussian

PAPER = "rate_separation"

TAU = 1.0  # tangential s.d. of the Gaussian line (T-C1, T-C14)


# --------------------------------------------------------------------------------------------
# Shared numerical pieces


def _polar_frame(x: np.ndarray):
    """r, θ, the radial unit vectors and the tangential (+θ) unit vectors of points (n, 2)."""
    r = np.hypot(x[:, 0], x[:, 1])
    radial = x / r[:, None]
    tangential = np.column_stack([-radial[:, 1], radial[:, 0]])
    return r, np.arctan2(x[:, 1], x[:, 0]), radial, tangential


def _slope(x, y) -> tuple[float, float]:
    return fit_loglog_slope(np.asarray(x), np.asarray(y))


# Gauss–Legendre rule for the posterior over the data angle (T-C2): nodes on [−1, 1].
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(160)
_GL_HALF_WIDTHS = 16.0  # the window ±16 posterior s.d. (1/√b); the mass beyond is e^(−128)


def _angle_posterior(b, theta_x, kappa, mean_angle):
    """Moments of the posterior of the data angle θ = θ_x + ψ given a noised point, by quadrature.

    The posterior density in ψ is ∝ exp(b(cos ψ − 1) + κ cos(θ_x + ψ − θ₀)) (b = a R r/σ², a = 1
    for VE and √(1 − σ²) for VP). Returns E[cos ψ − 1], E[sin ψ] and log ∫ exp(...) dψ, from a
    160-node Gauss–Legendre rule on ψ ∈ [−L, L], L = min(π, 16/√b); cos ψ − 1 is formed as
    −2 sin²(ψ/2), so E[cos ψ − 1] ≈ −1/(2b) keeps its relative precision at b ~ 10⁶.
    """
    half = np.minimum(np.pi, _GL_HALF_WIDTHS / np.sqrt(b))[:, None]
    psi = half * _GL_NODES[None, :]
    one_minus_cos = 2.0 * np.sin(0.5 * psi) ** 2
    log_w = (
        -b[:, None] * one_minus_cos
        + kappa * np.cos(theta_x[:, None] + psi - mean_angle)
        + np.log(half * _GL_WEIGHTS[None, :])
    )
    log_z = logsumexp(log_w, axis=1)
    p = np.exp(log_w - log_z[:, None])
    return -np.sum(p * one_minus_cos, axis=1), np.sum(p * np.sin(psi), axis=1), log_z


# --------------------------------------------------------------------------------------------
# T-C1: the linear subspace (line in R², Gaussian on M, τ = 1)

LINE_SIGMAS = (0.3, 0.1, 0.03, 0.01, 0.003)
_FD_STEP = 0.5  # the score is linear in x: a central difference is exact up to rounding
_EPS = np.finfo(np.float64).eps


def _line_spec(sigma: float, convention: str, basis: np.ndarray) -> LinearGaussian:
    """The noised law at σ as a VE field: VP scales the data by √(1 − σ²) (variance (1 − σ²)τ²)."""
    scale2 = 1.0 - sigma**2 if convention == "vp" else 1.0
    return LinearGaussian(np.array([scale2 * TAU**2]), 2, basis)


def _line_score(spec: LinearGaussian, normal: np.ndarray, fault: bool):
    """The spec's exact score; ``fault`` multiplies its normal part by σ^0.2 (the control)."""

    def score(x, sigma):
        s = spec.score(x, sigma)
        if fault:
            s = s + (sigma**0.2 - 1.0) * (s @ normal)[:, None] * normal[None, :]
        return s

    return score


def _fd_coefficient(score, x, direction, sigma) -> np.ndarray:
    """−uᵀ ∂_u s at points x, by a central difference of the score along u (one per point)."""
    plus = score(x + _FD_STEP * direction, sigma)
    minus = score(x - _FD_STEP * direction, sigma)
    return -((plus - minus) @ direction) / (2.0 * _FD_STEP)


def _built_coefficients(sigma, convention, tangent, normal):
    """Normal and tangential coefficients from the built covariance a²τ² uuᵀ + σ²I (eigh)."""
    scale2 = 1.0 - sigma**2 if convention == "vp" else 1.0
    cov = scale2 * TAU**2 * np.outer(tangent, tangent) + sigma**2 * np.eye(2)
    w, q = np.linalg.eigh(cov)
    inv = (q / w) @ q.T
    return float(normal @ inv @ normal), float(tangent @ inv @ tangent)


@claim(
    id="rate_separation.linear_stiffness",
    paper=PAPER,
    kind="sampled",
    statement="For Gaussian data on a line in R² the score's normal stiffness is exactly σ⁻², its "
    "tangential coefficient 1/(τ² + σ²) (VE) or 1/((1 − σ²)τ² + σ²) (VP), so the coefficient ratio is "
    "Θ(σ⁻²); at typical noised points σ²E s_⊥² = d − n and E s_∥² = 1/(τ² + σ²), and the median "
    "|s_⊥|/|s_∥| grows like σ⁻¹, not σ⁻².",
    source="paper003 §2 C1 'Stiffness versus magnitude' and 'Closed forms', T-C1 [D] (C-C3); the line "
    "R·e₁ in R² (a seeded rotation of it for the built covariance), τ = 1, VE and VP, σ = 0.3 … 0.003",
    control="the score's normal part is multiplied by σ^0.2 (normal stiffness σ^−1.8 in place of σ⁻²)",
)
def linear_stiffness(ctx: Context) -> Outcome:
    n = ctx.profile.pick(quick=200_000, full=400_000)
    rng = np.random.default_rng(ctx.seed)
    # the line R·e₁ (note T-C1) for the differences and Monte Carlo; a rotated copy for the built
    # covariance (a rotated spec's arithmetic leaks ε·|s_⊥| ~ ε/σ² into the tangential part)
    tangent, normal = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    angle = rng.uniform(0.0, np.pi)
    rot_t = np.array([np.cos(angle), np.sin(angle)])
    rot_n = np.array([-rot_t[1], rot_t[0]])
    # probes on M: off M the normal part (x_⊥/σ²) would round the O(1) tangential difference
    probes = rng.standard_normal(8)[:, None] * tangent
    measured, checks = {}, []
    for convention in ("ve", "vp"):
        rows, medians = {}, []
        for i, sigma in enumerate(LINE_SIGMAS):
            spec = _line_spec(sigma, convention, tangent[:, None])
            score = _line_score(spec, normal, ctx.control)
            tan_var = (1.0 - sigma**2 if convention == "vp" else 1.0) * TAU**2 + sigma**2
            stiff_pred = scaling.normal_stiffness(sigma)
            stiff = _fd_coefficient(score, probes, normal, sigma)
            coef = _fd_coefficient(score, probes, tangent, sigma)
            built_n, built_t = _built_coefficients(sigma, convention, rot_t, rot_n)
            if ctx.control:
                built_n *= sigma**0.2
            ident = {
                "σ²·stiffness / (σ²·normal_stiffness) − 1 (differences)": float(
                    np.max(np.abs(stiff / stiff_pred - 1.0))
                ),
                "tangential coefficient · (tangential variance) − 1 (differences)": float(
                    np.max(np.abs(coef * tan_var - 1.0))
                ),
                "stiffness ratio / ((tangential variance)/σ²) − 1 (differences)": float(
                    np.max(np.abs((stiff / coef) / (stiff_pred * tan_var) - 1.0))
                ),
                "built covariance: stiffness / normal_stiffness − 1": abs(
                    built_n / stiff_pred - 1.0
                ),
                "built covariance: tangential coefficient · variance − 1": abs(
                    built_t * tan_var - 1.0
                ),
            }
            # Monte Carlo at x ~ p_σ: x = a τ z u + σ ε
            sub = np.random.default_rng([ctx.seed, i, convention == "vp"])
            a = np.sqrt(1.0 - sigma**2) if convention == "vp" else 1.0
            x = (a * TAU * sub.standard_normal(n))[:, None] * tangent + sigma * sub.standard_normal(
                (n, 2)
            )
            s = score(x, sigma)
            s_perp, s_par = s @ normal, s @ tangent
            e_perp = sigma**2 * s_perp**2
            ratio = np.abs(s_perp) / np.abs(s_par)
            med = float(np.median(ratio) * sigma)
            medians.append(float(np.median(ratio)))
            mc = {
                "σ²E s_⊥² (mean, s.e.)": (float(e_perp.mean()), float(e_perp.std() / np.sqrt(n))),
                "E s_∥² · (tangential variance) (mean, s.e.)": (
                    float((s_par**2).mean() * tan_var),
                    float((s_par**2).std() * tan_var / np.sqrt(n)),
                ),
                "median |s_⊥|/|s_∥| · σ": med,
            }
            rows[f"σ={sigma:g}"] = {**ident, **mc}
            tag = f"{convention}, σ={sigma:g}"
            for name, value in ident.items():
                bound = 1e-12 if "differences" in name else 100 * _EPS / sigma**2
                checks.append(check(f"{tag}: {name}", value, "≤", bound))
            checks.append(
                check(
                    f"{tag}: σ²E s_⊥² / (d − n)", mc["σ²E s_⊥² (mean, s.e.)"][0], "in", (0.99, 1.01)
                )
            )
            checks.append(
                check(
                    f"{tag}: E s_∥² · (τ² + σ²)",
                    mc["E s_∥² · (tangential variance) (mean, s.e.)"][0],
                    "in",
                    (0.99, 1.01),
                )
            )
            checks.append(check(f"{tag}: median |s_⊥|/|s_∥| · σ", med, "in", (0.95, 1.10)))
        slope = _slope(LINE_SIGMAS, medians)
        rows["fitted slope of log median ratio on log σ (± s.e.)"] = slope
        measured[convention] = rows
        # each median·σ in [0.95, 1.10] over σ = 0.3 … 0.003 bounds the slope to −1 ± log(1.10/0.95)/log(100)
        checks.append(
            check(f"{convention}: slope of the median ratio", slope[0], "in", (-1.032, -0.968))
        )
    return Outcome(
        predicted={
            "σ² × normal stiffness": 1.0,
            "tangential coefficient": "1/(τ² + σ²) (VE), 1/((1 − σ²)τ² + σ²) (VP)",
            "stiffness ratio": "(tangential variance)/σ²",
            "σ²E s_⊥²": "d − n = 1",
            "E s_∥²": "1/(tangential variance)",
            "median |s_⊥|/|s_∥|": "Θ(σ⁻¹): σ⁻¹√(tangential variance) (median of |Cauchy| = 1)",
        },
        measured=measured,
        tolerance={
            "identities by differences": "1e-12 (note T-C1)",
            "identities from the built covariance": "100 ε/σ²: forming uuᵀ + σ²I rounds σ² "
            "relative to 1, so its small eigenvalue carries a relative error ~ε/σ² (2e-12 at σ = 0.003)",
            "Monte Carlo moments": "1% (note T-C1)",
            "median ratio × σ": "[0.95, 1.10] (note T-C1); slope −1 ± 0.032 implied",
        },
        checks=checks,
        notes=f"Line R·e₁ (its rotation by the seeded angle {angle:.4f} rad for the built covariance); stiffness and coefficients by central differences "
        f"(step {_FD_STEP}) of theory.distributions.LinearGaussian's score at 8 seeded points on M (the score is "
        "linear, so the difference is exact up to rounding), and from the eigendecomposition of the built "
        "covariance; prediction theory.scaling.normal_stiffness. Monte Carlo: n = "
        f"{n} independent draws of p_σ per σ and convention; a χ²₁ mean has s.e. √(2/n) = "
        f"{np.sqrt(2 / n):.2%}, so the 1% band is {0.01 / np.sqrt(2 / n):.1f} s.e.; the median ratio has "
        f"s.e. ≈ π/(2√n) = {np.pi / (2 * np.sqrt(n)):.4f}.",
    )


# --------------------------------------------------------------------------------------------
# T-C2: the circle expansion and eq. (20)

CIRCLE_CASES = {  # name: (R, κ, θ₀, convention)
    "R=1, κ=1, VE": (1.0, 1.0, 0.0, "ve"),
    "R=1, κ=1, VP": (1.0, 1.0, 0.0, "vp"),
    "R=2, κ=4, VE": (2.0, 4.0, np.pi, "ve"),
    "R=2, κ=4, VP": (2.0, 4.0, np.pi, "vp"),
}
EXPANSION_SIGMAS = tuple(np.geomspace(1e-3, 3e-2, 6))
N_ANGLES = 720
RESIDUALS = ("normal on M", "normal in tube", "tangential in tube", "eq. (20) sup")


def _ring_points(radius: float, rhos, n_angles: int = N_ANGLES) -> np.ndarray:
    """Points at distance R + ρ from the centre, n_angles midpoint angles per ring, rings stacked."""
    theta = 2.0 * np.pi * (np.arange(n_angles) + 0.5) / n_angles
    r = radius + np.repeat(np.asarray(rhos, dtype=np.float64), n_angles)
    t = np.tile(theta, len(rhos))
    return np.column_stack([r * np.cos(t), r * np.sin(t)])


def _circle_score_by_quadrature(x, sigma, radius, kappa, mean_angle, convention):
    """(s_r + ρ/σ², s_θ) by quadrature of the data-angle posterior (Tweedie), ρ = r − R.

    s = (a E[X₀ | x] − x)/σ² with a = 1 (VE) or √(1 − σ²) (VP); in the frame of x,
    s_r + ρ/σ² = R(a − 1)/σ² + aR E[cos ψ − 1]/σ² and s_θ = aR E[sin ψ]/σ², with (a − 1)/σ² formed
    as −1/(1 + a): no cancellation at small σ.
    """
    r, theta, _, _ = _polar_frame(x)
    a = np.sqrt(1.0 - sigma**2) if convention == "vp" else 1.0
    shrink = -1.0 / (1.0 + a) if convention == "vp" else 0.0
    e_cos_m1, e_sin, _ = _angle_posterior(a * radius * r / sigma**2, theta, kappa, mean_angle)
    normal = radius * shrink + a * radius * e_cos_m1 / sigma**2
    return normal, a * radius * e_sin / sigma**2


@measured_once(kept=8)
def _expansion_measurement(radius, kappa, mean_angle, convention, sigmas):
    """Per σ: the quadrature's (s_r + ρ/σ², s_θ) on the three rings and its gap to the closed form."""
    rhos = (0.0, 0.1 * radius, -0.1 * radius)
    x = _ring_points(radius, rhos)
    r, _, radial, tangential = _polar_frame(x)
    out = []
    for sigma in sigmas:
        normal, tang = _circle_score_by_quadrature(x, sigma, radius, kappa, mean_angle, convention)
        closed = scaling.noised_circle_score(x, sigma, kappa, radius, convention, mean_angle)
        gap_n = np.abs((np.sum(closed * radial, axis=1) + (r - radius) / sigma**2) - normal)
        gap_t = np.abs(np.sum(closed * tangential, axis=1) - tang)
        out.append((normal, tang, float(max(gap_n.max(), gap_t.max()))))
    return x, tuple(out)


def _expansion_residuals(case, sigmas, control: bool):
    """The four residuals per σ (max over the rings) for one case, and the route gap per σ."""
    radius, kappa, mean_angle, convention = case
    x, per_sigma = _expansion_measurement(radius, kappa, mean_angle, convention, sigmas)
    r, theta, _, _ = _polar_frame(x)
    on_m = np.arange(N_ANGLES)  # the first ring is ρ = 0
    rows = {name: [] for name in RESIDUALS}
    gaps = []
    for sigma, (normal, tang, gap) in zip(sigmas, per_sigma, strict=True):
        terms = scaling.circle_score_decomposition(
            theta, sigma, kappa, radius, convention, mean_angle
        )
        foot = 0.0 if control else terms.foot_point  # control: the VP foot-point term dropped
        # the O(1) terms transported off M by DP_M = R/r (note §2 C1), the foot-point term as is
        normal_pred = terms.mean_curvature * radius / r + foot
        stiff_term = (terms.stiffness - sigma**-2.0) * (r - radius)
        res_n = np.abs(normal + stiff_term - normal_pred)
        res_t = np.abs(tang - terms.tangential * radius / r)
        eq20 = sigma**2 * np.hypot(normal, tang)  # ‖σ² s + (x − P_M x)‖
        rows["normal on M"].append(float(res_n[on_m].max()))
        rows["normal in tube"].append(float(res_n.max()))
        rows["tangential in tube"].append(float(res_t.max()))
        rows["eq. (20) sup"].append(float(eq20.max()))
        gaps.append(gap)
    return rows, gaps


LOG_DENSITY_RHOS = tuple(np.linspace(-0.2, 0.2, 9))


@measured_once
def _log_density_remainder(sigmas):
    """VE, R = 1, κ = 1: sup |log p_σ − expansion| per σ over |ρ| ≤ 0.2, and the route gap.

    log p_σ by quadrature: −ρ²/(2σ²) − log(2πσ²) − log(2π I₀(κ)) + log ∫ e^{b(cos ψ − 1) + κ cos θ} dψ
    with b = Rr/σ²; the −ρ²/(2σ²) is common to the expansion and is left out of the difference.
    """
    radius, kappa = 1.0, 1.0
    x = _ring_points(radius, LOG_DENSITY_RHOS)
    r, theta, _, _ = _polar_frame(x)
    log_i0 = float(np.log(2.0 * np.pi) + np.log(i0e(kappa)) + kappa)
    sup, gap = [], []
    for sigma in sigmas:
        _, _, log_z = _angle_posterior(radius * r / sigma**2, theta, kappa, 0.0)
        rest = -np.log(2.0 * np.pi * sigma**2) - log_i0 + log_z
        expansion = rate_spheres.circle_log_density_expansion(x, sigma, kappa, radius)
        quad = -((r - radius) ** 2) / (2.0 * sigma**2) + rest
        sup.append(float(np.max(np.abs(quad - expansion))))
        closed = scaling.noised_circle_log_density(x, sigma, kappa, radius)
        gap.append(float(np.max(np.abs(closed - quad) / np.maximum(1.0, np.abs(quad)))))
    return sup, gap


def _draw_expansion(fig, data):
    sigma = np.array(data["sigma"])
    colors = dict(
        zip(
            RESIDUALS,
            (PALETTE["exact"], PALETTE["alt"], PALETTE["trained"], "#9467bd"),
            strict=True,
        )
    )
    for k, (case, rows) in enumerate(data["residuals"].items()):
        ax = fig.add_subplot(2, 2, k + 1)
        for name, values in rows.items():
            slope = data["slopes"][case][name]
            ax.loglog(
                sigma,
                values,
                "o-",
                color=colors[name],
                mfc="none",
                ms=3,
                lw=0.8,
                label=f"{name} (slope {slope:.3f})",
            )
        if case in data.get("log_density", {}):
            ax.loglog(
                sigma,
                data["log_density"][case],
                "s--",
                color="#8c564b",
                mfc="none",
                ms=3,
                lw=0.8,
                label="|log p_σ − expansion| (C-C1)",
            )
        ref = max(v[-1] for v in rows.values())
        ax.loglog(
            sigma,
            ref * (sigma / sigma[-1]) ** 2,
            "-",
            color=PALETTE["theory"],
            lw=1.2,
            label="slope 2",
        )
        ax.set_title(case, fontsize=8)
        ax.set_xlabel("σ")
        ax.set_ylabel("residual")
        ax.legend(fontsize=5)
    fig.set_size_inches(9, 7.5)
    fig.suptitle("Circle: score and log-density expansions hold to O(σ²) (eq. (20), Thm 3.1)")
    fig.subplots_adjust(hspace=0.35, wspace=0.25)


@claim(
    id="rate_separation.circle_expansion",
    paper=PAPER,
    kind="exact",
    statement="On a circle the exact score is −(x − P_M x)/σ² + ∇_M log q + ½𝐇 (+ the VP foot-point "
    "term −½P_⊥(P_M x)P_M x) up to O(σ²), so ‖σ²s + (x − P_M x)‖ = O(σ²) (eq. (20)), and log p_σ "
    "= −d_M/σ² + log p_data − ½log 2πσ² − ½log det Ĥ + o(1) (Thm 3.1).",
    source="paper003 Thm 3.1 and eq. (20), §2 C1 'Score decomposition' [P/D], T-C2 (C-C1, C-C2, "
    "C-C3); R = 1 von Mises(κ = 1, θ₀ = 0) and R = 2 von Mises(κ = 4, θ₀ = π), VE and VP; rings "
    "ρ ∈ {0, ±0.1R} × 720 angles; σ from 1e-3 to 3e-2",
    control="the prediction drops the VP foot-point term −R/2 from the O(1) normal score",
    figures=("circle_expansion_residuals",),
)
def circle_expansion(ctx: Context) -> Outcome:
    sigmas = EXPANSION_SIGMAS
    measured, checks, residuals, slopes = {}, [], {}, {}
    for case_name, case in CIRCLE_CASES.items():
        rows, gaps = _expansion_residuals(case, sigmas, ctx.control)
        residuals[case_name], slopes[case_name] = rows, {}
        entry = {}
        for name, values in rows.items():
            scaled = np.array(values) / np.array(sigmas) ** 2
            slope = _slope(sigmas, values)
            slopes[case_name][name] = slope[0]
            entry[name] = {
                "residual/σ² per σ": dict(
                    zip([f"{s:.3g}" for s in sigmas], scaled.tolist(), strict=True)
                ),
                "fitted slope (± s.e.)": slope,
            }
            checks.append(
                check(f"{case_name}: {name}, max residual/σ²", float(scaled.max()), "≤", 3.0)
            )
            checks.append(check(f"{case_name}: {name}, fitted slope", slope[0], "in", (1.9, 2.1)))
        entry["quadrature vs Bessel closed form, max |Δ(s_r + ρ/σ², s_θ)| / σ²"] = float(
            np.max(np.array(gaps) / np.array(sigmas) ** 2)
        )
        checks.append(
            check(
                f"{case_name}: quadrature and Bessel closed form agree (max gap/σ²)",
                entry["quadrature vs Bessel closed form, max |Δ(s_r + ρ/σ², s_θ)| / σ²"],
                "≤",
                1e-2,
            )
        )
        measured[case_name] = entry
    sup, gap = _log_density_remainder(sigmas)
    log_slope = _slope(sigmas, sup)
    scaled = np.array(sup) / np.array(sigmas) ** 2
    measured["log-density remainder (VE, R=1, κ=1, |ρ| ≤ 0.2)"] = {
        "sup/σ² per σ": dict(zip([f"{s:.3g}" for s in sigmas], scaled.tolist(), strict=True)),
        "fitted slope (± s.e.)": log_slope,
        "quadrature vs noised_circle_log_density, max relative gap": float(max(gap)),
    }
    checks += [
        check("log-density remainder: max sup/σ²", float(scaled.max()), "≤", 3.0),
        check("log-density remainder: fitted slope", log_slope[0], "in", (1.9, 2.1)),
        check("log-density: quadrature vs closed form, relative gap", float(max(gap)), "≤", 1e-12),
    ]
    return Outcome(
        predicted={
            "normal": "s_r = −ρ·stiffness + ½𝐇·R/r (+ foot point −R/2 for VP), from "
            "theory.scaling.circle_score_decomposition",
            "tangential": "s_θ = (R/r)·(−(κ/R) sin(θ − θ₀))",
            "eq. (20)": "‖σ²s + (x − P_M x)‖ = O(σ²)",
            "log-density": "−ρ²/(2σ²) + log p_data(θ) − ½log(2πσ²) − ½log(rR) (theory.rate_spheres)",
            "slope of every residual on σ": 2.0,
        },
        measured=measured,
        tolerance={
            "residual/σ²": "≤ 3 for σ ≤ 0.03 (note T-C2)",
            "fitted slope over σ ∈ [1e-3, 3e-2]": "[1.9, 2.1] (note T-C2)",
            "route agreement": "quadrature vs Bessel closed form ≤ 1e-2 σ² (1% of the residuals judged; "
            "the closed form's −x/σ² + R A(|w|) w/(|w|σ²) rounds at ε·Rr/σ², 1e-3 σ² at σ = 1e-3, R = 2), "
            "log-density relative 1e-12",
        },
        checks=checks,
        notes="Measured score: Tweedie's formula with the posterior moments of the data angle computed by a "
        "160-node Gauss–Legendre rule over ψ = θ − θ_x ∈ ±16/√b (b = aRr/σ², the mass beyond is e^−128), at "
        f"every point ({len(sigmas)} σ × 3 rings × {N_ANGLES} angles per case); the Bessel closed form "
        "theory.scaling.noised_circle_score is used only as a cross-check of that route. Predictions from "
        "theory.scaling.circle_score_decomposition on M, transported to the rings by DP_M = R/r (the note's "
        "−1/(2r) and (κ/r) sin); the foot-point term is −R/2 at every ρ. Log-density by the same quadrature "
        f"on {len(LOG_DENSITY_RHOS)} rings |ρ| ≤ 0.2.",
        figures=[
            FigureSpec(
                name="circle_expansion_residuals",
                draw=_draw_expansion,
                data={
                    "sigma": list(sigmas),
                    "residuals": residuals,
                    "slopes": slopes,
                    "log_density": {"R=1, κ=1, VE": sup},
                },
                config={"rings": "ρ ∈ {0, ±0.1R}", "angles": N_ANGLES, "nodes": _GL_NODES.size},
            )
        ],
    )


# --------------------------------------------------------------------------------------------
# T-C3: the mean-curvature term on spheres

SPHERE_DIMS = (2, 3, 5)
SPHERE_RADII = (1.0, 2.0)
SPHERE_SIGMAS = (0.1, 0.01, 0.001)


def _sphere_score_by_quadrature(sigma: float, d: int, radius: float) -> float:
    """s_r at r = R by quadrature over the polar angle φ: (R E cos φ − R)/σ² with the posterior
    ∝ e^{B(cos φ − 1)} sin^{d−2} φ, B = R²/σ² (Gauss–Legendre on φ ∈ [0, min(π, 16/√B)])."""
    b = radius**2 / sigma**2
    top = min(np.pi, _GL_HALF_WIDTHS / np.sqrt(b))
    phi = 0.5 * top * (_GL_NODES + 1.0)
    one_minus_cos = 2.0 * np.sin(0.5 * phi) ** 2
    log_w = -b * one_minus_cos + (d - 2) * np.log(np.sin(phi)) + np.log(_GL_WEIGHTS)
    p = np.exp(log_w - logsumexp(log_w))
    return float(-radius * np.sum(p * one_minus_cos) / sigma**2)


@claim(
    id="rate_separation.sphere_mean_curvature",
    paper=PAPER,
    kind="exact",
    statement="For the uniform law on a sphere S^{d−1} of radius R the exact radial score on M tends to "
    "½𝐇 = −(d − 1)/(2R), within 2σ²(d − 1).",
    source="paper003 §2 C1 'Closed forms' and 'Score decomposition' [D], T-C3 (C-C3); d = 2, 3, 5, "
    "R = 1 (the note) and 2, σ = 0.1, 0.01, 0.001",
    control="the prediction takes the ambient dimension d for the sphere's dimension d − 1 "
    "(½𝐇 = −d/(2R))",
)
def sphere_mean_curvature(ctx: Context) -> Outcome:
    measured, checks = {}, []
    for d in SPHERE_DIMS:
        for radius in SPHERE_RADII:
            pred = scaling.sphere_mean_curvature_term(d if ctx.control else d - 1, radius)
            row = {}
            for sigma in SPHERE_SIGMAS:
                bessel = float(rate_spheres.sphere_radial_score(radius, sigma, d, radius))
                quad = _sphere_score_by_quadrature(sigma, d, radius)
                row[f"σ={sigma:g}"] = {"Bessel ratio": bessel, "polar quadrature": quad}
                tag = f"d={d}, R={radius:g}, σ={sigma:g}"
                checks.append(
                    check(f"{tag}: |s_r(R) − ½𝐇|", abs(bessel - pred), "≤", 2 * sigma**2 * (d - 1))
                )
                checks.append(
                    check(
                        f"{tag}: Bessel ratio vs polar quadrature",
                        abs(bessel - quad),
                        "≤",
                        1e-3 * sigma**2,
                    )
                )
            measured[f"d={d}, R={radius:g}"] = {"½𝐇 predicted": pred, **row}
    return Outcome(
        predicted={
            "s_r at r = R": "theory.scaling.sphere_mean_curvature_term(d − 1, R) = −(d − 1)/(2R)"
        },
        measured=measured,
        tolerance={
            "|s_r(R) − ½𝐇|": "≤ 2σ²(d − 1) (note T-C3)",
            "routes": "Bessel ratio vs quadrature ≤ 1e-3 σ² (a small fraction of the error judged)",
        },
        checks=checks,
        notes="Measured: the exact radial score at r = R from the Bessel ratio I_{d/2}/I_{d/2−1} "
        "(theory.rate_spheres.sphere_radial_score, ive), cross-checked at every point by a 160-node "
        "Gauss–Legendre quadrature of the polar-angle posterior ∝ e^{B cos φ} sin^{d−2}φ.",
    )


# --------------------------------------------------------------------------------------------
# T-C4: energy scaling on the circle

ENERGY_SIGMAS = (0.1, 0.03, 0.01, 0.003)


@claim(
    id="rate_separation.circle_energy",
    paper=PAPER,
    kind="sampled",
    statement="On the circle with von Mises data, σ²E_{p_σ}s_⊥² → d − n = 1 and E s_∥² → "
    "E_q‖∇_M log q‖² = κA₁(κ)/R², while the typical ratio |s_⊥|/|s_∥| is Θ(σ⁻¹): its median × σ is "
    "constant in σ.",
    source="paper003 §2 C1 'Stiffness versus magnitude' [D], T-C4 (C-C3); VE, R = 1, von Mises(κ = 1), "
    "σ = 0.1, 0.03, 0.01, 0.003",
    control="the score's normal part is multiplied by σ (stiffness σ⁻¹, σ where σ² belongs)",
)
def circle_energy(ctx: Context) -> Outcome:
    n = ctx.profile.pick(quick=100_000, full=400_000)
    radius, kappa = 1.0, 1.0
    energy_pred = rate_spheres.circle_tangential_energy(kappa, radius)
    measured, checks, medians = {}, [], []
    for i, sigma in enumerate(ENERGY_SIGMAS):
        rng = np.random.default_rng([ctx.seed, i])
        theta = rng.vonmises(0.0, kappa, n)
        x = radius * np.column_stack([np.cos(theta), np.sin(theta)]) + sigma * rng.standard_normal(
            (n, 2)
        )
        s = scaling.noised_circle_score(x, sigma, kappa, radius)
        _, _, radial, tangential = _polar_frame(x)
        s_perp, s_par = np.sum(s * radial, axis=1), np.sum(s * tangential, axis=1)
        if ctx.control:
            s_perp = sigma * s_perp
        e_perp, e_par = sigma**2 * s_perp**2, s_par**2
        med = float(np.median(np.abs(s_perp) / np.abs(s_par)) * sigma)
        medians.append(med)
        measured[f"σ={sigma:g}"] = {
            "σ²E s_⊥² (mean, s.e.)": (float(e_perp.mean()), float(e_perp.std() / np.sqrt(n))),
            "E s_∥² (mean, s.e.)": (float(e_par.mean()), float(e_par.std() / np.sqrt(n))),
            "median |s_⊥|/|s_∥| · σ": med,
        }
        checks.append(check(f"σ={sigma:g}: σ²E s_⊥²", float(e_perp.mean()), "in", (0.985, 1.015)))
        checks.append(
            check(
                f"σ={sigma:g}: E s_∥² / (κA₁/R²)",
                float(e_par.mean()) / energy_pred,
                "in",
                (0.985, 1.015),
            )
        )
    spread = float(np.max(np.abs(np.array(medians) / np.mean(medians) - 1.0)))
    measured["median ratio · σ: max relative deviation from its mean over σ"] = spread
    checks.append(
        check("median |s_⊥|/|s_∥| · σ constant across σ (max rel. dev.)", spread, "≤", 0.03)
    )
    return Outcome(
        predicted={
            "σ²E s_⊥²": 1.0,
            "E s_∥²": energy_pred,
            "median ratio": "Θ(σ⁻¹): median · σ constant",
        },
        measured=measured,
        tolerance={
            "moments": "±1.5% (note T-C4)",
            "median ratio · σ": "constant within ±3% (note T-C4)",
        },
        checks=checks,
        notes=f"n = {n} draws of p_σ per σ (θ ~ von Mises by numpy, x = R e(θ) + σZ), score by the Bessel "
        "closed form theory.scaling.noised_circle_score, prediction κA₁(κ)/R² from "
        "theory.rate_spheres.circle_tangential_energy; s_⊥ radial, s_∥ along +θ. A χ²₁ mean has s.e. "
        f"√(2/n) = {np.sqrt(2 / n):.2%}, so ±1.5% is {0.015 / np.sqrt(2 / n):.1f} s.e. (the s.e. of each "
        "moment is reported).",
    )


# --------------------------------------------------------------------------------------------
# T-C5, T-C6: Gibbs laws π_σ ∝ p_σ e^{c σ^{−γ} φ} on K = {0.4 ≤ r ≤ 1.6} (polar grid)

K_HALF_WIDTH = 0.6  # K = {R − 0.6 ≤ r ≤ R + 0.6}, R = 1
GIBBS_KAPPA = 1.0


def _n_rho(sigma: float) -> int:
    """ρ-cells over K with spacing ≤ σ/10 (the note's common numerics), at least 120."""
    return max(120, int(np.ceil(2 * K_HALF_WIDTH / (sigma / 10.0))))


@measured_once(kept=32)
def _gibbs_law(sigma: float, gamma: float, kind: str, amplitude: float) -> tuple:
    """The exact Gibbs law on K for a normal (φ = r − R) or tangential (φ = cos(θ − π/2)) error.

    Returns the normal mean, the normal s.d., the mass beyond the 0.1-tube and the angle cell masses.
    """
    tilt = amplitude * sigma ** (-gamma)

    def log_density(x):
        base = scaling.noised_circle_log_density(x, sigma, GIBBS_KAPPA)
        if kind == "normal":
            return base + tilt * (np.hypot(x[:, 0], x[:, 1]) - 1.0)
        return base + tilt * np.sin(np.arctan2(x[:, 1], x[:, 0]))  # cos(θ − π/2) = sin θ

    law = tube_grid.tube_law(
        log_density, tube_grid.circle(1.0), K_HALF_WIDTH, n_t=N_ANGLES, n_rho=_n_rho(sigma)
    )
    return law.normal_mean(), law.normal_sd(), law.mass_beyond(0.1), law.parameter_marginal()


def _von_mises_masses(tilt: float = 0.0) -> np.ndarray:
    """Cell masses of ∝ e^{κ cos θ + tilt · sin θ} dθ on the grid's angle cells (tilt 0: p_data)."""
    return tube_grid.cell_masses(lambda t: GIBBS_KAPPA * np.cos(t) + tilt * np.sin(t), N_ANGLES)


NORMAL_C = 0.3
NORMAL_GAMMAS = (1.0, 1.5, 2.0)


def _draw_offsets(fig, data):
    ax = fig.add_subplot(111)
    fine = np.geomspace(1e-3, 0.12, 60)
    for gamma, color in zip(
        NORMAL_GAMMAS, (PALETTE["exact"], PALETTE["alt"], PALETTE["trained"]), strict=True
    ):
        key = f"γ={gamma:g}"
        pts = data["offsets"][key]
        ax.loglog(
            [p[0] for p in pts],
            [p[1] for p in pts],
            "o",
            color=color,
            mfc="none",
            label=f"{key}: measured (polar grid)",
        )
        ax.loglog(fine, NORMAL_C * fine ** (2 - gamma) + fine**2 / 2, "-", color=color, lw=1)
    pinned = np.array(data["pinned"])
    ax.loglog(pinned[:, 0], pinned[:, 1], "kx", ms=7, label="γ=2.5: measured, pinned at ∂K")
    ax.axhline(
        K_HALF_WIDTH, color=PALETTE["theory"], ls=":", lw=1, label=f"∂K (ρ = {K_HALF_WIDTH})"
    )
    ax.plot([], [], "-", color=PALETTE["theory"], label="prediction cσ^{2−γ} + σ²/(2R)")
    ax.set_xlabel("σ")
    ax.set_ylabel("mean normal offset E(r − R)")
    ax.set_title("Gibbs law with a normal score error cσ^{−γ}: concentration iff γ < 2")
    ax.legend(fontsize=7)


@claim(
    id="rate_separation.normal_error_threshold",
    paper=PAPER,
    kind="exact",
    statement="With a normal score error cσ^{−γ} the law π_σ ∝ p_σ e^{cσ^{−γ}(r − R)} is a Gaussian of "
    "width σ centred at cσ^{2−γ} + σ²/(2R) with the angle law unchanged: it concentrates on M iff γ < 2 "
    "(E_σ = o(σ⁻²)); at γ = 2 it sits on the parallel circle at distance c, and for γ > 2 it is "
    "pinned at ∂K.",
    source="paper003 Thm 4.1(1) [P] and §2 C2 'Sharpness made concrete' [D], T-C5 (C-C4); R = 1, "
    "von Mises(κ = 1), c = 0.3, K = {0.4 ≤ r ≤ 1.6}, exact laws on a 720-angle polar grid",
    control="the predicted offset uses √σ where σ belongs (c σ^{(2−γ)/2}, half the rate exponent)",
    figures=("normal_error_offsets",),
)
def normal_error_threshold(ctx: Context) -> Outcome:
    judged = ctx.profile.pick(
        quick=((1.0, 0.03), (1.0, 0.01), (1.5, 0.01), (2.0, 0.03), (2.0, 0.01)),
        full=tuple((g, s) for g in NORMAL_GAMMAS for s in (0.03, 0.01, 0.003)),
    )
    p_data = _von_mises_masses()
    measured, checks = {}, []
    offsets = {f"γ={g:g}": [] for g in NORMAL_GAMMAS}
    for gamma in NORMAL_GAMMAS:  # σ = 0.1: drawn, not judged (the note's tolerance is for σ ≤ 0.03)
        mean, *_ = _gibbs_law(0.1, gamma, "normal", NORMAL_C)
        offsets[f"γ={gamma:g}"].append((0.1, mean))
    for gamma, sigma in judged:
        mean, sd, beyond, angles = _gibbs_law(sigma, gamma, "normal", NORMAL_C)
        arg = np.sqrt(sigma) if ctx.control else sigma
        pred = float(scaling.normal_offset(arg, gamma, NORMAL_C)) + sigma**2 / 2.0
        tv = tube_grid.total_variation(angles, p_data)
        offsets[f"γ={gamma:g}"].append((sigma, mean))
        tag = f"γ={gamma:g}, σ={sigma:g}"
        measured[tag] = {
            "offset": mean,
            "predicted offset": pred,
            "normal s.d. / σ": sd / sigma,
            "mass beyond the 0.1-tube": beyond,
            "angle TV to p_data": tv,
        }
        checks.append(
            check(
                f"{tag}: |offset − prediction|", abs(mean - pred), "≤", max(0.02 * abs(pred), 2e-5)
            )
        )
        checks.append(check(f"{tag}: normal s.d. / σ", sd / sigma, "in", (0.99, 1.01)))
        checks.append(check(f"{tag}: angle TV to p_data", tv, "≤", 0.002))
        if gamma == 2.0:
            checks.append(
                check(f"{tag}: mass beyond the 0.1-tube (no concentration)", beyond, "≥", 0.99)
            )
    pinned = []
    for sigma in (0.1, 0.03):
        mean, sd, _, _ = _gibbs_law(sigma, 2.5, "normal", NORMAL_C)
        pinned.append((sigma, mean))
        measured[f"γ=2.5, σ={sigma:g}"] = {"offset": mean, "normal s.d.": sd}
    checks.append(
        check("γ=2.5, σ=0.03: offset / (∂K at ρ = 0.6)", pinned[-1][1] / K_HALF_WIDTH, "≥", 0.98)
    )
    return Outcome(
        predicted={
            "offset": "theory.scaling.normal_offset(σ, γ, c) + σ²/(2R)",
            "normal s.d.": "σ",
            "angle law": "p_data (von Mises(1))",
            "γ = 2": "offset c: the parallel circle r = 1.3",
            "γ = 2.5": "pinned at ∂K: the unconstrained centre cσ^{−1/2} = 1.73 lies outside K",
        },
        measured=measured,
        tolerance={
            "offset": "within 2% or 2e-5 absolute (note T-C5)",
            "normal s.d.": "1% of σ for σ ≤ 0.03 (note T-C5)",
            "angle TV": "≤ 0.002 (note T-C5)",
            "γ = 2, no concentration": "≥ 99% of the mass beyond 0.1 (note: 1.00)",
            "γ = 2.5 pinned": "mean ρ ≥ 0.98 × 0.6: the law decays from ∂K at rate (1.73 − 0.6)/σ², a "
            "predicted gap σ²/1.13 = 8e-4 at σ = 0.03 (0.13% of 0.6)",
        },
        checks=checks,
        notes=f"Exact laws on the polar grid of K (empirical.tube_grid, {N_ANGLES} angles, ρ-spacing σ/10: "
        f"{', '.join(f'{_n_rho(s)} at σ = {s:g}' for s in (0.03, 0.01, 0.003))} cells) with the Bessel "
        "log-density theory.scaling.noised_circle_log_density; the midpoint rule is spectrally accurate for "
        "these Gaussian profiles. σ = 0.1 cells are drawn but not judged. γ = 1.9 (o(σ⁻²), σ^0.1 convergence) "
        "is not run: the note shows no reachable σ concentrates there.",
        figures=[
            FigureSpec(
                name="normal_error_offsets",
                draw=_draw_offsets,
                data={"offsets": offsets, "pinned": pinned},
                config={"c": NORMAL_C, "kappa": GIBBS_KAPPA, "K": [0.4, 1.6], "angles": N_ANGLES},
            )
        ],
    )


TANGENT_C = 0.5


@claim(
    id="rate_separation.tangential_error_law",
    paper=PAPER,
    kind="exact",
    statement="With a tangential score error cσ^{−γ}∇φ the law on M is ∝ p_data e^{cσ^{−γ}φ}: for γ < 0 "
    "it tends to p_data (TV ∝ σ^{−γ}), for γ = 0 to the tilted law (E_σ = Ω(1) gives a wrong law), and "
    "for γ > 0 it collapses onto argmax φ.",
    source="paper003 Thm 4.1(2, 3) [P] and §2 C2 'Sharpness made concrete' [D], T-C6 (C-C5); R = 1, "
    "von Mises(κ = 1), φ = cos(θ − π/2), c = 0.5, K = {0.4 ≤ r ≤ 1.6}, polar grid",
    control="the prediction at γ = 0 is p_data itself (the recovery of Thm 4.1(3) applied to an "
    "Ω(1) error): TV to p_data predicted 0",
)
def tangential_error_law(ctx: Context) -> Outcome:
    small = ctx.profile.pick(quick=(0.03, 0.01), full=(0.03, 0.01, 0.003))
    p_data = _von_mises_masses()
    tilted = _von_mises_masses(TANGENT_C)
    tv_tilted = tube_grid.total_variation(tilted, p_data)
    tv0_pred = 0.0 if ctx.control else tv_tilted
    measured = {"TV(tilted law, p_data), own quadrature": tv_tilted}
    checks = []
    for gamma in (0.0, -1.0):
        for sigma in small:
            *_, angles = _gibbs_law(sigma, gamma, "tangential", TANGENT_C)
            tv = tube_grid.total_variation(angles, p_data)
            tag = f"γ={gamma:g}, σ={sigma:g}"
            if gamma == 0.0:
                to_tilted = tube_grid.total_variation(angles, tilted)
                measured[tag] = {"TV to p_data": tv, "TV to the tilted law": to_tilted}
                checks.append(
                    check(
                        f"{tag}: |TV to p_data − TV(tilted, p_data)|",
                        abs(tv - tv0_pred),
                        "≤",
                        0.002,
                    )
                )
                checks.append(
                    check(f"{tag}: TV to the tilted law / σ²", to_tilted / sigma**2, "≤", 10.0)
                )
            else:
                measured[tag] = {"TV to p_data": tv, "TV/σ": tv / sigma}
                checks.append(check(f"{tag}: TV/σ", tv / sigma, "in", (0.13, 0.16)))
    collapse_sigmas = ctx.profile.pick(quick=(0.1, 0.05, 0.03), full=(0.1, 0.03, 0.01))
    for gamma in (0.5, 1.0):
        tvs = []
        for sigma in collapse_sigmas:
            *_, angles = _gibbs_law(sigma, gamma, "tangential", TANGENT_C)
            tvs.append(tube_grid.total_variation(angles, p_data))
        measured[f"γ={gamma:g}: TV to p_data at σ = {collapse_sigmas}"] = tvs
        checks.append(
            check(
                f"γ={gamma:g}: smallest TV increase as σ falls",
                float(np.min(np.diff(tvs))),
                ">",
                0.0,
            )
        )
    checks.append(
        check(
            "TV(tilted law, p_data) against the note's 0.1447", abs(tv_tilted - 0.1447), "≤", 5e-4
        )
    )
    return Outcome(
        predicted={
            "γ = 0": f"TV to p_data = TV(tilted law, p_data) = {tv0_pred:.5f}",
            "γ = −1": "TV ≈ 0.1447 σ",
            "γ > 0": "collapse at θ = π/2: TV increasing as σ falls",
        },
        measured=measured,
        tolerance={
            "γ = 0": "±0.002 for σ ≤ 0.03 (note T-C6)",
            "γ = 0, TV to the tilted law": "≤ 10σ²: the on-M law's departure from its limit is O(σ²) "
            "(note T-C16 uses the same bound for the tilted limit; here measured ≈ 1e-5 at σ = 0.003)",
            "γ = −1": "TV/σ ∈ [0.13, 0.16] for σ ≤ 0.03 (note T-C6)",
            "γ > 0": "monotone increase (note T-C6)",
            "tilted-law TV": "within 5e-4 of the note's 0.1447 (its four digits, plus the 720-cell rule)",
        },
        checks=checks,
        notes=f"Exact laws on the polar grid of K ({N_ANGLES} angles, ρ-spacing σ/10, Bessel log-density plus "
        "the tilt 0.5σ^{−γ} sin θ); angle marginals compared cell by cell (empirical.tube_grid.total_variation). "
        "The tilted law's TV to p_data is computed here by the same 720-cell midpoint rule on the angle "
        "(spectrally accurate for these smooth periodic densities), not taken from the note.",
    )


# --------------------------------------------------------------------------------------------
# T-C14: reverse SDE and PF-ODE with an x-independent error (outside the paper)

S_START, S_MIN = 100.0, 1e-4  # variances σ² (VE): the reversal runs from S_START down to S_MIN
REVERSE_C = 0.3
REVERSE_STEPS = 4_000
SDE_GROUPS = (  # (normal γ or None, tangential γ or None, tangential error only below σ² = s_cut)
    (0.5, 0.5, None),
    (1.0, 1.0, None),
    (1.5, 1.5, None),
    (2.0, 0.5, 0.01),
    (None, 1.0, 0.01),
    (None, 1.5, 0.01),
)
ODE_GAMMAS = (0.5, 1.0, 1.5, 2.0)


def _group_errors(groups):
    """Per-group error amplitude, exponent and cut-off, shape (groups, 1, 2) (columns: tangent, normal)."""
    amp, gam, cut = (np.zeros((len(groups), 1, 2)) for _ in range(3))
    cut[:] = np.inf
    for g, (g_normal, g_tan, s_cut) in enumerate(groups):
        if g_tan is not None:
            amp[g, 0, 0], gam[g, 0, 0] = REVERSE_C, g_tan
            cut[g, 0, 0] = np.inf if s_cut is None else s_cut
        if g_normal is not None:
            amp[g, 0, 1], gam[g, 0, 1] = REVERSE_C, g_normal
    return amp, gam, cut


def _line_score_ou(x: np.ndarray, t: float) -> np.ndarray:
    """The exact score of the line R·e₁ (variance τ²) at σ² = 2t: −x/(τ² + s, s), diagonal in e₁, e₂
    (what ou_score(LinearGaussian(τ², 2), α = 0) computes, without its per-call validation)."""
    s = 2.0 * t
    return -x / np.array([TAU**2 + s, s])


def _erroneous_score(groups):
    """The exact line score in OU time (α = 0, σ² = 2t) plus c s^{−γ/2} per group and coordinate.

    The rows of x are the groups' paths one group after another (equal counts)."""
    amp, gam, cut = _group_errors(groups)

    def score(x, t):
        s = 2.0 * t
        error = np.where(s < cut, amp * s ** (-0.5 * gam), 0.0)  # (groups, 1, 2)
        out = _line_score_ou(x, t).reshape(len(groups), -1, 2) + error
        return out.reshape(x.shape)

    return score


def _exact_start(n_rows: int, rng) -> np.ndarray:
    """Draws of p at σ² = S_START: N(0, diag(τ² + S, S))."""
    return rng.standard_normal((n_rows, 2)) * np.sqrt([TAU**2 + S_START, S_START])


@measured_once
def _reverse_runs(n_sde: int, n_ode: int, steps: int, seed: int):
    """Terminal states of the batched reverse SDE and PF-ODE (Euler in OU time, geometric grid)."""
    ts = geometric_times(S_START / 2.0, S_MIN / 2.0, steps)
    rng = np.random.default_rng(seed)
    sde = reverse_euler_maruyama(
        _erroneous_score(SDE_GROUPS),
        _exact_start(len(SDE_GROUPS) * n_sde, rng),
        ts,
        rng,
        alpha=0.0,
    )
    ode_groups = tuple((g, None, None) for g in ODE_GAMMAS)
    score = _erroneous_score(ode_groups)
    y = _exact_start(len(ode_groups) * n_ode, rng)
    for t, t_next in itertools.pairwise(ts):  # PF-ODE dy/dτ = αy + s, α = 0
        y = y + (t - t_next) * score(y, t)
    return sde, y


def _mean_se(values: np.ndarray) -> tuple[float, float]:
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(values.size))


def _finite_t(limit, s_min: float, power: float) -> float:
    """A scaling.*_terminal_offset limit made finite-T: f(√s) − (s/T)^power f(√T) (docstring forms)."""
    return float(limit(np.sqrt(s_min))) - (s_min / S_START) ** power * float(
        limit(np.sqrt(S_START))
    )


@claim(
    id="rate_separation.reverse_sde_offsets",
    paper=PAPER,
    kind="sampled",
    statement="(Outside the paper.) In the VE reverse SDE a normal score error cσ^{−γ} leaves a terminal "
    "offset (2c/γ)σ_min^{2−γ} (c at γ = 2) and in the PF-ODE (c/(γ − 1))σ_min^{2−γ}, the same γ = 2 "
    "threshold as Thm 4.1; a tangential error shifts the law by (τ² + s)∫ e/(τ² + u) du, set by large σ.",
    source="paper003 T-C14 and §7 note 1 [D] (the note's derivation, not the paper's); Gaussian line "
    "τ = 1 in R², VE σ² from 100 to 1e-4, exact start, e = 0.3 s^{−γ/2}",
    control="the predicted normal offsets take the variance σ_min² where σ_min belongs",
)
def reverse_sde_offsets(ctx: Context) -> Outcome:
    n_sde = ctx.profile.pick(quick=2_000, full=10_000)
    n_ode = ctx.profile.pick(quick=500, full=2_000)
    steps = ctx.profile.pick(quick=2_000, full=REVERSE_STEPS)
    sde, ode = _reverse_runs(n_sde, n_ode, steps, ctx.seed)
    arg = S_MIN if ctx.control else np.sqrt(S_MIN)  # control: variance for standard deviation
    s_pred_min = arg**2
    measured, checks = {}, []

    def judge(tag, values, pred, allowance):
        mean, se = _mean_se(values)
        measured[tag] = {"offset (mean, s.e.)": (mean, se), "predicted": pred}
        checks.append(
            check(f"{tag}: |offset − prediction|", abs(mean - pred), "≤", 3 * se + allowance)
        )

    for g, (g_normal, g_tan, s_cut) in enumerate(SDE_GROUPS):
        rows = sde[g * n_sde : (g + 1) * n_sde]
        if g_normal is None:
            judge(f"SDE group {g}: exact normal score", rows[:, 1], 0.0, 0.0)
        else:
            pred = _finite_t(
                lambda s, gn=g_normal: scaling.reverse_sde_terminal_offset(s, gn, REVERSE_C),
                s_pred_min,
                1.0,
            )
            judge(f"SDE normal, γ={g_normal:g}", rows[:, 1], pred, 0.01 * abs(pred))
        where = "everywhere" if s_cut is None else f"only at σ² < {s_cut:g}"
        pred_t = rate_reverse.reverse_mean_offset(
            S_MIN, S_START, g_tan, REVERSE_C, variance=TAU**2, s_cut=s_cut
        )
        judge(f"SDE tangential, γ={g_tan:g}, error {where}", rows[:, 0], pred_t, 0.01)
    for g, gamma in enumerate(ODE_GAMMAS):
        rows = ode[g * n_ode : (g + 1) * n_ode]
        if gamma > 1.0:
            pred = _finite_t(
                lambda s, gm=gamma: scaling.pf_ode_terminal_offset(s, gm, REVERSE_C),
                s_pred_min,
                0.5,
            )
        else:  # γ ≤ 1: set by T, outside scaling.pf_ode_terminal_offset's range
            pred = rate_reverse.reverse_mean_offset(
                s_pred_min, S_START, gamma, REVERSE_C, flow="ode"
            )
        judge(f"PF-ODE normal, γ={gamma:g}", rows[:, 1], pred, 0.01 * abs(pred))
        judge(f"PF-ODE tangential (no error), γ={gamma:g} group", rows[:, 0], 0.0, 0.0)
    return Outcome(
        predicted={
            "SDE normal": "(2c/γ)(s^{1−γ/2} − sT^{−γ/2}) = theory.scaling.reverse_sde_terminal_offset made "
            "finite-T",
            "PF-ODE normal": "(c/(γ − 1))(s^{1−γ/2} − √s T^{(1−γ)/2}) (theory.scaling.pf_ode_terminal_offset, "
            "γ > 1; theory.rate_reverse for γ ≤ 1)",
            "tangential": "(τ² + s)∫_s^T e(u)/(τ² + u) du (theory.rate_reverse.reverse_mean_offset)",
        },
        measured=measured,
        tolerance={
            "tangential": "3 s.e. + 0.01 (note T-C14)",
            "normal": "3 s.e. + 1% of the prediction: the note's 0.01 allowance exceeds the γ = 0.5, 1 "
            "offsets themselves (0.0012, 0.006), so it could not fail; the Euler mean recursion on these "
            "grids is within 1% of the exact means (0.98% for the PF-ODE at γ = 0.5 with 2 000 steps, "
            "0.49% with 4 000)",
            "exact parts": "3 s.e. (zero error, zero offset)",
        },
        checks=checks,
        notes=f"Euler–Maruyama (empirical.reverse_ou, α = 0, σ² = 2t) on {steps} geometric steps from σ² = "
        f"{S_START:g} to {S_MIN:g}, exact start N(0, diag(τ² + 100, 100)); {n_sde} paths per SDE group, each "
        "group carrying one normal and one tangential error (the coordinates are independent); PF-ODE by "
        f"Euler with {n_ode} paths per γ. The terminal normal s.d. is √s_min = 0.01 and the tangential ≈ 1, "
        f"so the s.e. are ≈ {0.01 / np.sqrt(n_sde):.1e} and {1 / np.sqrt(n_sde):.3f} (reported per check). "
        "Normal predictions are theory.scaling's T → ∞ forms with their docstrings' finite-T terms.",
    )
