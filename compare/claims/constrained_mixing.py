"""Claims of Wenliang & Moran, *Score-based generative models learn manifold-like structures with
constrained mixing* (paper key ``constrained_mixing``; research note paper000).

Convention: VE, x_σ = x_0 + σε. Local dimension by rule D1 (σ² s_i < c), the note's reading [R].
"""

from __future__ import annotations

import numpy as np

from compare.claim import Context, FigureSpec, Outcome, Training, check
from compare.claims._common import (
    max_relative_error,
    random_basis,
    reference_trainings,
    trained_model,
    unjudged_at_quick,
)
from compare.registry import claim
from compare.style import PALETTE, fit_loglog_slope
from empirical.autodiff import autodiff_jacobian
from empirical.data import add_noise, sample
from empirical.jacobians import central_difference_jacobian, probe_singular_values
from empirical.metrics import (
    antisymmetry_ratio,
    local_dimension_d1,
    local_dimension_d2,
    local_dimension_d3,
    local_dimension_d4,
    normal_alignment,
    pair_alignment,
)
from theory.distributions import LinearGaussian
from theory.spectra import linear_gaussian_singular_values, local_dimension, staircase_steps

__all__ = [
    "STAIRCASE_D",
    "STAIRCASE_SIGMA_MAX",
    "STAIRCASE_VARIANCES",
    "staircase_model",
    "staircase_spec",
    "staircase_trainings",
]

PAPER = "constrained_mixing"


def _noisy_points(spec, n, sigma, rng):
    return add_noise(sample(spec, n, rng), sigma, rng)


# --------------------------------------------------------------------------------------------
# T-A0: exact-score sanity on a linear Gaussian

_CURL = 0.1  # control: a rotation of strength 0.1 × the second tangent curvature
_RHO = 0.5  # the metric test: an antisymmetric part of strength ρ/σ² in a normal plane


def _rotation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The antisymmetric generator a bᵀ − b aᵀ of the rotation in the plane of orthonormal a, b."""
    return np.outer(a, b) - np.outer(b, a)


@claim(
    id="constrained_mixing.gaussian_jacobian",
    paper=PAPER,
    kind="exact",
    statement="For Gaussian data on a linear subspace the score Jacobian is −Q_T(Λ+σ²I)⁻¹Q_Tᵀ − σ⁻²Q_NQ_Nᵀ: "
    "singular values 1/σ² (d−k times) and 1/(λ_j+σ²), singular pairs u_i = −v_i, antisymmetric part 0; "
    "autodiff, central differences and the orthogonal-probe estimator agree with it.",
    source="paper000 §1.4 and T-A0 [P, exact maths]; d = 8, k = 3, λ = (4, 1, 0.25), random orthonormal basis",
    control="A curl is added to the score field under test: s(x) + ε(T₁T₂ᵀ − T₂T₁ᵀ)x, a rotation in the "
    "plane of the first two tangent directions with ε = 0.1/(λ₂ + σ²).",
)
def gaussian_jacobian(ctx: Context) -> Outcome:
    rng = np.random.default_rng(ctx.seed)
    variances = np.array([4.0, 1.0, 0.25])
    spec = LinearGaussian(variances, 8, random_basis(8, 3, ctx.seed))
    sigmas = ctx.profile.pick(quick=[0.1, 0.7, 3.0], full=[0.05, 0.1, 0.3, 0.7, 1.5, 3.0])
    n = ctx.profile.pick(quick=16, full=64)
    n_probe = ctx.profile.pick(quick=2, full=8)
    tangent_plane = _rotation(spec.basis[:, 0], spec.basis[:, 1])
    normal_plane = _rotation(spec.normal_basis[:, 0], spec.normal_basis[:, 1])
    err = {
        "autodiff": 0.0,
        "singular_values": 0.0,
        "pairs_u_plus_v": 0.0,
        "antisymmetry": 0.0,
        "central_difference": 0.0,
        "probe_central": 0.0,
        "asymmetric: antisymmetry_ratio": 0.0,
        "asymmetric: pair_alignment": 0.0,
    }
    asym_rows = {}
    d_loc_mismatches = 0
    for sigma in sigmas:
        # the field under test; under the control it carries a curl (the planted fault)
        curl = (_CURL / (variances[1] + sigma**2) if ctx.control else 0.0) * tangent_plane

        def score(x, s, curl=curl):
            return spec.score(x, s) + np.asarray(x) @ np.transpose(curl)

        x = _noisy_points(spec, n, sigma, rng)
        j = spec.jacobian(x, sigma) + curl
        sv_exact = linear_gaussian_singular_values(variances, 8, sigma)
        sv = np.linalg.svd(j, compute_uv=False)
        err["autodiff"] = max(
            err["autodiff"], max_relative_error(autodiff_jacobian(spec, x, sigma), j)
        )
        err["singular_values"] = max(err["singular_values"], max_relative_error(sv, sv_exact[None]))
        err["pairs_u_plus_v"] = max(
            err["pairs_u_plus_v"], float(np.max(np.abs(pair_alignment(j) + 1)))
        )
        err["antisymmetry"] = max(err["antisymmetry"], float(np.max(antisymmetry_ratio(j))))
        fd = central_difference_jacobian(score, x, sigma, h=1e-5)
        err["central_difference"] = max(err["central_difference"], max_relative_error(fd, j))
        for i in range(n_probe):
            probe = probe_singular_values(
                score, x[i], sigma**2, rng, method="central", normalize=False
            )
            err["probe_central"] = max(err["probe_central"], max_relative_error(probe, sv_exact))
        d_loc_mismatches += int(
            np.sum(local_dimension_d1(sv, sigma) != local_dimension(variances, sigma))
        )
        # The metrics on a matrix that is not symmetric: J + A, A = (ρ/σ²)(N₁N₂ᵀ − N₂N₁ᵀ) in a normal
        # plane. ‖A‖_F = √2 ρ/σ² and ⟨J, A⟩_F = 0 (J symmetric), so ‖A‖/‖J + A‖ is known in closed form.
        # On the plane J + A = −σ⁻²I + (ρ/σ²)R (R² = −I) is √(1+ρ²)/σ² times a rotation: its two
        # (largest) singular values are √(1+ρ²)/σ² and vᵀ(J+A)v/s = −1/√(1+ρ²) for every unit v there;
        # every other pair keeps u = −v.
        a_norm = np.sqrt(2.0) * _RHO / sigma**2
        ratio_pred = a_norm / np.sqrt(np.sum(sv_exact**2) + a_norm**2)
        align_pred = np.full(8, -1.0)
        align_pred[:2] = -1 / np.sqrt(1 + _RHO**2)
        jm = j + _RHO / sigma**2 * normal_plane
        ratio, align = antisymmetry_ratio(jm), pair_alignment(jm)
        err["asymmetric: antisymmetry_ratio"] = max(
            err["asymmetric: antisymmetry_ratio"], float(np.max(np.abs(ratio / ratio_pred - 1)))
        )
        err["asymmetric: pair_alignment"] = max(
            err["asymmetric: pair_alignment"], float(np.max(np.abs(align - align_pred)))
        )
        asym_rows[f"σ={sigma}"] = {
            "‖A‖/‖J+A‖ predicted": float(ratio_pred),
            "‖A‖/‖J+A‖ median": float(np.median(ratio)),
            "u₁·v₁ predicted": float(align_pred[0]),
            "u₁·v₁ median": float(np.median(align[:, 0])),
        }
    tol = {
        "autodiff": 1e-10,
        "singular_values": 1e-10,
        "pairs_u_plus_v": 1e-10,
        "antisymmetry": 1e-12,
        "central_difference": 1e-6,
        "probe_central": 1e-6,
        "asymmetric: antisymmetry_ratio": 1e-10,
        "asymmetric: pair_alignment": 1e-10,
    }
    checks = [check(k, err[k], "<", tol[k]) for k in tol]
    checks.append(check("D1 d_loc mismatches", d_loc_mismatches, "==", 0))
    return Outcome(
        predicted={
            "max relative error": 0,
            "D1 d_loc mismatches": 0,
            "J + A (normal-plane curl ρ/σ², ρ = 0.5)": "‖A‖/‖J+A‖ = √2ρ/√(σ⁴‖J‖²_F + 2ρ²); "
            "u·v = −1/√(1+ρ²) on the two rotated pairs, −1 on the others",
        },
        measured={
            **{k: float(v) for k, v in err.items()},
            "D1 d_loc mismatches": d_loc_mismatches,
            "J + A per σ": asym_rows,
        },
        tolerance={**tol, "D1 d_loc mismatches": 0},
        checks=checks,
        notes=f"σ ∈ {sigmas}, {n} points each. Central differences (h = 1e-5) and the probe estimator are "
        "approximations, so they get the note's 1e-6; every closed form is held to 1e-10. "
        "Relative errors are max |Δ| / max |reference| per σ. The exact Jacobian is symmetric by "
        "construction, so the metrics antisymmetry_ratio and pair_alignment are also run on J + A with a "
        "known antisymmetric part A in a normal plane (the 'asymmetric:' checks: relative error of the "
        "ratio, absolute error of u·v), where they must return the closed-form departures from 0 and −1.",
    )


# --------------------------------------------------------------------------------------------
# T-A1 / T-A2: normal stiffness of a trained network on a line in R²


_STIFFNESS_SPEC = LinearGaussian([1.0], 2)  # a line in R²


@claim(
    id="constrained_mixing.normal_stiffness",
    paper=PAPER,
    kind="trained",
    statement="A trained score network on a line in R² is stiff and conservative off the line: its normal "
    "singular value is 1/σ² with the right singular vector normal to the line, D1 local dimension is 1 "
    "below the step at σ = 1 and 0 above it, and the Jacobian is nearly symmetric.",
    source="paper000 T-A1 and T-A2 [C-calibrated tolerances]; k = 1, λ = 1, d = 2",
    control="The network's score is scaled by 0.9 in the normal direction (J ← (I − 0.1 e⊥e⊥ᵀ) J), so "
    "its normal singular value is 0.9/σ² instead of 1/σ².",
    trains=lambda ctx: reference_trainings(
        "constrained_mixing.normal_stiffness", _STIFFNESS_SPEC, ctx
    ),
)
def normal_stiffness(ctx: Context) -> Outcome:
    spec = _STIFFNESS_SPEC
    model, training = trained_model(spec, ctx)
    rng = np.random.default_rng(ctx.seed + 1)
    sigmas = [0.03, 0.1, 0.3, 1.0, 2.0, 3.0]
    n = ctx.profile.pick(quick=200, full=500)
    e_normal = spec.normal_basis
    rows = {}
    for sigma in sigmas:
        x = _noisy_points(spec, n, sigma, rng)
        j = model.jacobian(x, sigma)
        if ctx.control:  # the planted fault: the field is 10% too weak in the normal direction
            j = (np.eye(2) - 0.1 * e_normal @ e_normal.T) @ j
        sv = np.linalg.svd(j, compute_uv=False)
        d_tan = model.denoiser_jacobian(x, sigma)[:, 0, 0]
        rows[sigma] = {
            "normal_rel_err_p90": float(np.percentile(np.abs(sv[:, 0] * sigma**2 - 1), 90)),
            "normal_alignment_median": float(np.median(normal_alignment(j, e_normal))),
            "normal_alignment_p10": float(np.percentile(normal_alignment(j, e_normal), 10)),
            "tangent_rel_err_median": float(np.median(np.abs(sv[:, 1] * (1 + sigma**2) - 1))),
            "dD_tangent_abs_err_p90": float(np.percentile(np.abs(d_tan - 1 / (1 + sigma**2)), 90)),
            "antisymmetry_p90": float(np.percentile(antisymmetry_ratio(j), 90)),
            "uv_median": float(np.median(pair_alignment(j))),
            "d_loc_mean": float(np.mean(local_dimension_d1(sv, sigma))),
            "d_loc_match": float(
                np.mean(local_dimension_d1(sv, sigma) == local_dimension([1.0], sigma))
            ),
        }
    checks = []
    for sigma, r in rows.items():
        checks.append(check(f"normal p90 at σ={sigma}", r["normal_rel_err_p90"], "<", 0.05))
        checks.append(check(f"|v·e⊥| median at σ={sigma}", r["normal_alignment_median"], ">", 0.99))
        checks.append(check(f"asym p90 at σ={sigma}", r["antisymmetry_p90"], "<", 0.03))
        checks.append(check(f"∂D_t p90 at σ={sigma}", r["dD_tangent_abs_err_p90"], "<", 0.02))
        if sigma <= 0.3 or sigma >= 2:
            checks.append(check(f"d_loc match at σ={sigma}", r["d_loc_match"], ">=", 0.95))
        if sigma >= 0.1:
            checks.append(
                check(
                    f"tangent median at σ={sigma}",
                    r["tangent_rel_err_median"],
                    "<",
                    0.1 if sigma >= 1 else 0.5,
                )
            )
    failed = [c.name for c in checks if not c.held]
    worst = lambda key, f=max: f(r[key] for r in rows.values())  # noqa: E731
    return Outcome(
        predicted={
            "σ²·s_normal": 1,
            "|v₁·e⊥|": 1,
            "d_loc": "1 for σ<1, 0 for σ>1",
            "‖A‖/‖J‖": 0,
            "∂D_t/∂x_t": "1/(1+σ²)",
        },
        measured={
            "normal rel err p90 (worst σ)": worst("normal_rel_err_p90"),
            "|v₁·e⊥| median (worst σ)": worst("normal_alignment_median", min),
            "d_loc match (worst σ ∉ (0.3, 2))": min(
                r["d_loc_match"] for s, r in rows.items() if s <= 0.3 or s >= 2
            ),
            "‖A‖/‖J‖ p90 (worst σ)": worst("antisymmetry_p90"),
            "∂D_t abs err p90 (worst σ)": worst("dD_tangent_abs_err_p90"),
            "u·v median": worst("uv_median"),
        },
        tolerance={
            "normal p90": 0.05,
            "|v₁·e⊥| median": "> 0.99",
            "d_loc match": "≥ 0.95",
            "‖A‖/‖J‖ p90": 0.03,
            "∂D_t p90": 0.02,
            "tangent s rel err median": "< 0.5 (σ≥0.1), < 0.1 (σ≥1)",
        },
        checks=checks,
        inconclusive=unjudged_at_quick(ctx, f"training ({training.steps} steps)"),
        notes=f"σ ∈ {sigmas}, {n} noisy data points each; network 3×128 SiLU, EDM, {training.steps} Adam "
        f"steps, training took {model.meta.get('seconds', float('nan')):.0f} s (cache {model.meta['cache']}). "
        "Per-σ numbers: "
        + "; ".join(
            f"σ={s}: normal p90 {r['normal_rel_err_p90']:.4f}, tangent med {r['tangent_rel_err_median']:.3f}, "
            f"asym p90 {r['antisymmetry_p90']:.4f}, d_loc mean {r['d_loc_mean']:.2f}"
            for s, r in rows.items()
        )
        + (". Failed: " + ", ".join(failed) if failed else ""),
    )


# --------------------------------------------------------------------------------------------
# T-A5: the local-dimension staircase, exact and trained, and the shift of its steps with c

#: The staircase data: Gaussian on a random 4-plane in R⁸ with these tangent variances; its network
#: (the reference recipe, σ ~ logU[0.01, 10]) is shared with the cross-paper trained claim.
STAIRCASE_VARIANCES = np.array([4.0, 1.0, 0.25, 0.0625])
STAIRCASE_D = 8
STAIRCASE_SIGMA_MAX = 10.0
_CS = (0.25, 0.5, 0.75)
#: The other readings of paper000 §2.2 (the chain claim's parameters): D2 relative ρ, D2 absolute
#: ε (in data-variance units, VE), D3's explained fraction.
_D2_RHO, _D2_EPS, _D3_FRACTION = 0.1, 0.1, 0.9
#: A σ counts for a reading where its exact prediction is the same on [σ/1.1, 1.1σ] (the note's
#: "away from the steps, |σ − step| > 10 %", applied to every reading).
_AWAY = 1.1
_MATCH = 0.9  # the note's T-A5 integer-match fraction


def _staircase_readings(sv: np.ndarray, sigma: float) -> dict[str, np.ndarray]:
    """d_loc of every point under each reading (labels of compare.readings), VE σ."""
    out = {f"D1 c={c}": local_dimension_d1(sv, sigma, c) for c in _CS}
    out["D2 relative"] = local_dimension_d2(sv, sigma, rho=_D2_RHO)
    out["D2 absolute"] = local_dimension_d2(sv, sigma, eps_abs=_D2_EPS)
    out["D3"] = local_dimension_d3(sv, sigma, _D3_FRACTION)
    out["D4"] = local_dimension_d4(sv)
    return out


def _predicted_readings(sigma: float) -> dict[str, int]:
    """The exact d_loc of Gaussian data on a k-plane in R^d under each reading, from λ alone.

    With s = {1/σ²}×(d − k) ∪ {1/(λ_j + σ²)} the effective variances are λ̂ = 1/s − σ² = {0}×(d − k)
    ∪ {λ_j}, so D2 and D3 do not depend on σ: D2 relative #{λ_j > ρ max λ}, D2 absolute
    #{λ_j > ε}, D3 the fewest of the sorted λ_j holding the fraction of Σλ. D1 is the staircase
    #{λ_j > (1/c − 1)σ²}; D4 is d − i* with i* the first rank of the largest log-gap of the sorted
    spectrum, which for these λ sits between the two largest variances (d_loc = 1) except at small σ,
    where the normal/tangent gap log((λ_min + σ²)/σ²) takes over (d_loc = k).
    """
    lam = np.sort(STAIRCASE_VARIANCES)[::-1]
    out = {f"D1 c={c}": int(local_dimension(lam, sigma, c)) for c in _CS}
    out["D2 relative"] = int(np.sum(lam > _D2_RHO * lam[0]))
    out["D2 absolute"] = int(np.sum(lam > _D2_EPS))
    out["D3"] = int(np.argmax(np.cumsum(lam) >= _D3_FRACTION * lam.sum()) + 1)
    spectrum = np.concatenate(
        [np.full(STAIRCASE_D - lam.size, sigma**-2), 1 / (lam[::-1] + sigma**2)]
    )
    out["D4"] = int(STAIRCASE_D - (np.argmax(-np.diff(np.log(spectrum))) + 1))
    return out


def _away_from_steps(sigma: float) -> dict[str, bool]:
    """Per reading: whether its exact prediction is constant on [σ/_AWAY, σ·_AWAY]."""
    near = [_predicted_readings(s) for s in np.geomspace(sigma / _AWAY, sigma * _AWAY, 21)]
    return {r: len({p[r] for p in near}) == 1 for r in near[0]}


def _step_positions(sigmas, ratios, c):
    """σ where the j-th smallest noise-normalised singular value σ² s_(j) crosses c, j = 1..k.

    d_loc ≥ j exactly when σ² s_(j) < c, so these are the steps of the staircase. ``ratios`` is
    (len(sigmas), k), a per-σ summary (the median over points) of the k smallest σ² s_i, ascending.
    Between the two bracketing grid points the crossing is interpolated in logit(σ² s) against log σ,
    which is exactly linear for the linear-Gaussian law (logit = log(σ²/λ_j)); interpolating the
    integer-valued d_loc itself would carry an error of up to half a grid cell.
    """
    ls, r = np.log(np.asarray(sigmas)), np.asarray(ratios)
    steps = []
    for j in range(r.shape[1]):
        below = r[:, j] < c
        idx = np.nonzero(below[:-1] & ~below[1:])[0]
        if (
            idx.size != 1
            or below[-1]
            or not below[0]
            or not 0 < r[idx[0], j] < r[idx[0] + 1, j] < 1
        ):
            steps.append(float("nan"))  # no single clean crossing on the grid
            continue
        i = idx[0]
        # logit(σ² s) = log(σ²/λ) for the exact law: linear in log σ, so the crossing is exact there
        g0, g1, gc = (np.log(v / (1 - v)) for v in (r[i, j], r[i + 1, j], c))
        frac = (gc - g0) / (g1 - g0)
        steps.append(float(np.exp(ls[i] + frac * (ls[i + 1] - ls[i]))))
    return np.array(steps)  # j = 1 first: decreasing σ, as theory.spectra.staircase_steps


def _draw_staircase(fig, data):
    ax = fig.add_subplot(111)
    colors = {0.25: PALETTE["alt"], 0.5: PALETTE["trained"], 0.75: PALETTE["exact"]}
    fine = np.array(data["sigma_fine"])
    for c in _CS:
        ax.step(
            fine,
            data["theory"][str(c)],
            where="mid",
            color=colors[c],
            lw=1.0,
            alpha=0.8,
            label=f"theory, c = {c}",
        )
        ax.plot(
            data["sigmas"],
            data["trained"][str(c)],
            "o",
            ms=3.5,
            color=colors[c],
            label=f"trained (mean), c = {c}",
        )
    ax.set_xscale("log")
    ax.set_xlabel("noise level σ (VE)")
    ax.set_ylabel("local dimension d_loc (rule D1: σ² s_i < c)")
    ax.set_title("Local-dimension staircase, d = 8, k = 4, λ = (4, 1, 1/4, 1/16)")
    ax.legend(loc="lower left", frameon=True)


def _draw_singular_values(fig, data):
    ax = fig.add_subplot(111)
    sig = np.array(data["sigmas"])
    med, lo, hi = (np.array(data[k]) for k in ("median", "p10", "p90"))
    for i in range(med.shape[1]):
        ax.fill_between(sig, lo[:, i], hi[:, i], color=PALETTE["band"], alpha=0.15, lw=0)
        ax.plot(
            sig,
            med[:, i],
            "o",
            ms=2.5,
            color=PALETTE["trained"],
            label="trained (median, p10–p90)" if i == 0 else None,
        )
    fine = np.geomspace(sig.min(), sig.max(), 200)
    ax.plot(fine, 1 / fine**2, "--", color=PALETTE["theory"], label="1/σ² (normal, d − k times)")
    for j, lam in enumerate(data["variances"]):
        ax.plot(
            fine,
            1 / (lam + fine**2),
            ":",
            color=PALETTE["theory"],
            label="1/(λ_j + σ²) (tangent)" if j == 0 else None,
        )
    slope, err = data["normal_slope"], data["normal_slope_err"]
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("noise level σ (VE)")
    ax.set_ylabel("singular values s_i of the score Jacobian")
    ax.set_title(
        f"Trained Jacobian spectrum; fitted normal slope {slope:.4f} ± {err:.1g} (predicted −2)"
    )
    ax.legend()


def staircase_spec(ctx: Context) -> LinearGaussian:
    """Gaussian data on a random 4-plane in R⁸ with the staircase variances (basis from the seed)."""
    k = STAIRCASE_VARIANCES.size
    return LinearGaussian(STAIRCASE_VARIANCES, STAIRCASE_D, random_basis(STAIRCASE_D, k, ctx.seed))


def staircase_trainings(ctx: Context) -> list[Training]:
    """The staircase network, declared for the runner (one label, so it is trained once)."""
    return reference_trainings(
        "constrained_mixing.local_dimension_staircase",
        staircase_spec(ctx),
        ctx,
        sigma_max=STAIRCASE_SIGMA_MAX,
    )


def staircase_model(ctx: Context):
    """The staircase network and its training config, from the model cache (trained on a miss)."""
    return trained_model(staircase_spec(ctx), ctx, sigma_max=STAIRCASE_SIGMA_MAX)


@claim(
    id="constrained_mixing.local_dimension_staircase",
    paper=PAPER,
    kind="trained",
    statement="The local dimension d_loc(σ) = #{i : σ² s_i < c} of Gaussian data on a subspace is a "
    "staircase that rises as σ falls, stepping at σ_j = √λ_j (1/c − 1)^(−1/2); a trained network "
    "reproduces it, and changing c moves every step by the factor (1/c − 1)^(−1/2).",
    source="paper000 §2.2 D1 [R] and T-A5; abstract claim A-C1 [P]; d = 8, k = 4, λ = (4, 1, 0.25, 0.0625)",
    control="σ ↔ t = σ² swapped in the predicted steps: the step variances t_j = λ_j (1/c − 1)⁻¹ are "
    "used as the noise levels σ_j (and the shift factor becomes (1/c − 1)⁻¹).",
    trains=staircase_trainings,
    figures=("local_dimension_staircase", "singular_values_vs_sigma"),
)
def local_dimension_staircase(ctx: Context) -> Outcome:
    variances = STAIRCASE_VARIANCES
    spec = staircase_spec(ctx)
    model, training = staircase_model(ctx)
    rng = np.random.default_rng(ctx.seed + 1)

    # exact integer match at the note's five noise levels
    check_sigmas = [3.0, 1.4, 0.7, 0.35, 0.15]
    n = ctx.profile.pick(quick=200, full=500)
    match_trained, match_exact = {}, {}
    reading_match = {}  # (reading, σ) → (trained, exact) match fractions, where the σ counts
    for sigma in check_sigmas:
        x = _noisy_points(spec, n, sigma, rng)
        want = local_dimension(variances, sigma)
        sv_t = np.linalg.svd(model.jacobian(x, sigma), compute_uv=False)
        sv_e = np.linalg.svd(spec.jacobian(x, sigma), compute_uv=False)
        match_trained[sigma] = float(np.mean(local_dimension_d1(sv_t, sigma) == want))
        match_exact[sigma] = float(np.mean(local_dimension_d1(sv_e, sigma) == want))
        predicted = _predicted_readings(sigma)
        got_t, got_e = _staircase_readings(sv_t, sigma), _staircase_readings(sv_e, sigma)
        for r, away in _away_from_steps(sigma).items():
            if away:
                reading_match[r, sigma] = (
                    float(np.mean(got_t[r] == predicted[r])),
                    float(np.mean(got_e[r] == predicted[r])),
                )

    # step positions against c, on a fine grid, for the trained and the exact field
    sigmas = np.geomspace(0.08, 8.0, ctx.profile.pick(quick=21, full=41))
    n_grid = ctx.profile.pick(quick=64, full=200)
    mean_dloc = {c: [] for c in _CS}
    ratios_trained, ratios_exact = [], []
    sv_median, sv_p10, sv_p90 = [], [], []
    for sigma in sigmas:
        x = _noisy_points(spec, n_grid, sigma, rng)
        sv = np.linalg.svd(model.jacobian(x, sigma), compute_uv=False)
        sv_exact = np.linalg.svd(spec.jacobian(x, sigma), compute_uv=False)
        sv_median.append(np.median(sv, axis=0))
        sv_p10.append(np.percentile(sv, 10, axis=0))
        sv_p90.append(np.percentile(sv, 90, axis=0))
        ratios_trained.append(np.median(np.sort(sigma**2 * sv, axis=1)[:, :4], axis=0))
        ratios_exact.append(np.median(np.sort(sigma**2 * sv_exact, axis=1)[:, :4], axis=0))
        for c in _CS:
            mean_dloc[c].append(float(np.mean(local_dimension_d1(sv, sigma, c))))
    steps = {c: _step_positions(sigmas, ratios_trained, c) for c in _CS}
    steps_exact = {c: _step_positions(sigmas, ratios_exact, c) for c in _CS}
    predicted_steps = {c: staircase_steps(variances, c) for c in _CS}
    shift_pred = {c: (1 / c - 1) ** -0.5 for c in (0.25, 0.75)}
    if ctx.control:  # the planted fault: the predictions in variance units t = σ², read as σ
        predicted_steps = {c: v**2 for c, v in predicted_steps.items()}
        shift_pred = {c: v**2 for c, v in shift_pred.items()}
    step_rel_err = {c: float(np.max(np.abs(steps[c] / predicted_steps[c] - 1))) for c in _CS}
    exact_step_err = {
        c: float(np.max(np.abs(steps_exact[c] / predicted_steps[c] - 1))) for c in _CS
    }
    shift = {c: steps[c] / steps[0.5] for c in (0.25, 0.75)}
    shift_err = {c: float(np.max(np.abs(shift[c] / shift_pred[c] - 1))) for c in shift}

    # normal singular values scale like σ⁻²: fitted on the 4 largest, σ ≤ 1
    sv_median = np.array(sv_median)
    small = sigmas <= 1.0
    slope, slope_err = fit_loglog_slope(sigmas[small], sv_median[small, :4].mean(axis=1))

    checks = [check(f"trained match at σ={s}", m, ">=", 0.9) for s, m in match_trained.items()]
    checks += [check(f"exact match at σ={s}", m, "==", 1.0) for s, m in match_exact.items()]
    checks += [check(f"exact steps at c={c}", e, "<", 1e-9) for c, e in exact_step_err.items()]
    checks += [check(f"steps at c={c}", e, "<", 0.10) for c, e in step_rel_err.items()]
    checks += [check(f"shift at c={c}", e, "<", 0.10) for c, e in shift_err.items()]
    checks.append(check("normal slope", slope, "in", (-2.05, -1.95)))
    failed = [c.name for c in checks if not c.held]
    quick = unjudged_at_quick(ctx, f"training ({training.steps} steps)")

    # every reading of §2.2: the trained match at the σ away from its steps, and for D1 its steps
    # (and, c ≠ 1/2, their shift); the judged checks above stay the D1 c = 1/2 ones
    by_name = {c.name: c.held for c in checks}
    reading_table, readings = {}, {}
    for r in _predicted_readings(1.0):
        rows = {s: m for (label, s), m in reading_match.items() if label == r}
        held = [m[0] >= _MATCH for m in rows.values()]
        if r.startswith("D1"):
            c = float(r.split("=")[1])
            held.append(by_name[f"steps at c={c}"])
            held += [by_name[f"shift at c={c}"]] if c != 0.5 else []
        verdict = "pass" if all(held) else "fail"
        readings[r] = "inconclusive" if quick else verdict
        reading_table[r] = {
            **{
                f"σ={s}": f"trained {m[0]:.3f}, exact {m[1]:.3f} (predicted {_predicted_readings(s)[r]})"
                for s, m in rows.items()
            },
            "verdict": verdict,
        }

    fine = np.geomspace(0.08, 8.0, 400)
    figures = [
        FigureSpec(
            name="local_dimension_staircase",
            draw=_draw_staircase,
            data={
                "sigmas": sigmas,
                "sigma_fine": fine,
                "theory": {str(c): local_dimension(variances, fine, c) for c in _CS},
                "trained": {str(c): mean_dloc[c] for c in _CS},
            },
            config={
                "variances": variances,
                "d": 8,
                "points_per_sigma": n_grid,
                "training": training.to_dict(),
            },
        ),
        FigureSpec(
            name="singular_values_vs_sigma",
            draw=_draw_singular_values,
            data={
                "sigmas": sigmas,
                "median": sv_median,
                "p10": np.array(sv_p10),
                "p90": np.array(sv_p90),
                "variances": variances,
                "normal_slope": slope,
                "normal_slope_err": slope_err,
            },
            config={
                "d": 8,
                "points_per_sigma": n_grid,
                "training": training.to_dict(),
                "slope_fit": "log median of the 4 largest singular values against log σ, σ ≤ 1",
            },
        ),
    ]
    return Outcome(
        predicted={
            "steps (c=1/2)": predicted_steps[0.5],
            "shift factor c=1/4": shift_pred[0.25],
            "shift factor c=3/4": shift_pred[0.75],
            "normal slope": -2.0,
        },
        measured={
            "trained match (worst of 5 σ)": min(match_trained.values()),
            "exact match (worst)": min(match_exact.values()),
            "steps (c=1/2)": steps[0.5],
            "step rel err (worst c)": max(step_rel_err.values()),
            "exact-field step rel err (worst c)": max(exact_step_err.values()),
            "shift rel err (worst)": max(shift_err.values()),
            "normal slope": f"{slope:.4f} ± {slope_err:.4f}",
            "readings (reading → σ → match with its exact prediction; verdict)": reading_table,
        },
        tolerance={
            "match": "≥ 0.9 at σ ∈ {3, 1.4, 0.7, 0.35, 0.15}",
            "steps and shifts": "±10%",
            "exact-field steps": "1e-9 (checks the step finder)",
            "slope": "±0.05",
        },
        checks=checks,
        inconclusive=quick,
        readings=readings,
        notes=f"Trained network 3×128 SiLU, EDM, σ ~ logU[0.01, 10], {training.steps} steps "
        f"({model.meta.get('seconds', float('nan')):.0f} s, cache {model.meta['cache']}); {n} points per σ for "
        f"the match, {n_grid} per σ on a {sigmas.size}-point log grid in [0.08, 8] for the steps: step j is "
        "where the median of the j-th smallest σ² s_i crosses c (interpolated in logit(σ² s) against log σ, exact for the Gaussian law). The same "
        "step finder on the exact field checks the finder itself. Judged on D1 c = 1/2 (the note's "
        "primary reading). Every reading of §2.2 is also reported with its exact prediction for "
        "Gaussian data (λ̂ = 1/s − σ² is 0 on the normal directions and λ_j on the tangent ones): D1 "
        "#{λ_j > (1/c − 1)σ²}; D2 relative #{λ_j > ρ max λ} = 2 (ρ = 0.1) and D2 absolute "
        "#{λ_j > ε} = 3 (ε = 0.1) at every σ; D3 (90 % of Σλ) = 2 at every σ; D4 (largest log-gap) = "
        "1, the gap between λ = 4 and 1, except at small σ where the normal/tangent gap "
        "log(1 + λ_min/σ²) wins (4). A reading's verdict: the trained match ≥ 0.9 at each of the "
        "note's five σ where its exact prediction is constant within ±10 % in σ (the note's 'away "
        "from the steps'), and for D1 its step positions (and for c ≠ 1/2 their shift) within 10 %."
        + (" Failed: " + ", ".join(failed) if failed else ""),
        figures=figures,
    )
