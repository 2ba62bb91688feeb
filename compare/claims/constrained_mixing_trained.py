"""Trained-network claims of Wenliang & Moran (paper key ``constrained_mixing``; research note
paper000) on recipe R1: the curved graph surface x₃ = 0.3 sin(1.5x₁) cos(1.5x₂) and the flat plane
x₃ = 0 over [−2.5, 2.5]², a 4-mode mixture on each, and the networks of the shared recipe
(:mod:`compare.claims.constrained_mixing_r1`): the free EDM network (kind ``"edm"``) and the
conservative energy network (kind ``"conservative"``), same data, same seed.

Convention: VE, x_σ = x_0 + σε. Evaluation points are those of the exact-field claims
(:mod:`compare.claims.constrained_mixing_surface`): x = P + ρν at data points P, |ρ|/σ ~ U[0.5, 2]
with a random sign, the foot P known by construction, the same seeds (so the exact field at the
same points is shared). Every network quantity is evaluated in float64 from the trained float32
weights (:mod:`empirical.network_float64`): the score, its Jacobian by forward-mode autodiff (for
the energy network the Hessian of the energy), and the circulation on small circles. The paper's
metrics could not be read; every verdict is given under the note's readings N1–N4 (§2.3 [R]) as a
table reading → value → threshold → verdict in ``measured``, and per reading in
``Outcome.readings`` (decided by the reading's judged rows where it has any, else by its reported
rows).

Trained claims are judged at ``full`` (30 000 training steps) on the seed ``ctx.seed``; at
``quick`` (2 000 steps) they are inconclusive, with every check computed. Seeds ctx.seed + 1, + 2
of the curved free network (full only) are reported as spread, never judged.
"""

from __future__ import annotations

import numpy as np

from compare.claim import Context, FigureSpec, Outcome, check
from compare.claims import constrained_mixing_r1 as r1
from compare.claims import constrained_mixing_surface as cms
from compare.claims._common import measured_once, unjudged_at_quick
from compare.readings import reading_row, reading_verdicts
from compare.registry import claim
from compare.style import PALETTE
from empirical.metrics import (
    block_antisymmetry,
    circulation,
    nonconservativeness_n1,
    normal_projection_error,
    singular_pairs,
)
from empirical.network_float64 import float64_fields, float64_jacobian, float64_score

PAPER = "constrained_mixing"

#: Noise levels: the note's T-A2 range (σ ≤ 0.3, judged) and, reported only, 0.6 and 1.
_SIGMAS = cms._SIGMAS
_WIDE_SIGMAS = (0.6, 1.0)
_MIX_SIGMAS = (0.05, 0.1, 0.3, 1.0)  # A-C3 (T-A3), judged at σ ≤ 0.1
_JUDGED_MIX = (0.05, 0.1)
_NORMAL_SCALE = cms._NORMAL_SCALE  # claim 1 control: the network's normal component × 0.8
_FLOOR = 1e-8  # T-A3 control: a conservative field reads below this
_LIVE = 100 * _FLOOR  # the free network must read at least 100× the bar
_PLANTED_CURL = 1e-6  # claim 3 control: a tangent rotation with a_TT = 1e-6 (100× the bar)
_ROTATION = cms._ROTATION  # claim 4 control: a tangent rotation with a_TT = 0.1 on the circles
_CIRCLE_R, _CIRCLE_N, _CIRCLE_SIGMA = cms._CIRCLE_R, cms._CIRCLE_N, cms._CIRCLE_SIGMA
_FIELD_SIGMA = 0.1  # the Fig. 1 analogue


def _circles(ctx: Context) -> int:
    """Circles per (surface, σ) for N3: those of surface_conservative_exact, 16 at quick, 128 at full."""
    return ctx.profile.pick(quick=16, full=128)


def _point_seed(ctx: Context, sigma: float) -> int:
    """The evaluation points' seed at σ: that of the exact-field claims for σ ∈ {0.05, 0.1, 0.3}."""
    return ctx.seed + 7 * (*_SIGMAS, *_WIDE_SIGMAS).index(sigma)


def _trainings(ctx: Context):
    """The curved free network at every seed, the plane's and both conservative ones at ctx.seed."""
    return r1.trainings(ctx, (("curved", "edm"),), all_seeds=True) + r1.trainings(
        ctx, (("plane", "edm"), ("curved", "conservative"), ("plane", "conservative"))
    )


def _reading_table(ctx: Context, readings: dict) -> dict[str, str]:
    """The verdict per reading (N1–N4, by the rows' first words): decided by the reading's judged
    rows where it has any, else by its reported rows; inconclusive where the run is not judged
    (quick, not under control)."""
    judged = {k: v for k, v in readings.items() if not k.endswith("[reported]")}
    verdicts = reading_verdicts(readings)
    verdicts.update(reading_verdicts(judged))
    if unjudged_at_quick(ctx, "x"):
        return dict.fromkeys(verdicts, "inconclusive")
    return verdicts


def _network(ctx: Context, surface: str, kind: str, seed: int):
    return r1.network(Context(ctx.profile, seed, progress=ctx.progress), surface, kind, seed)


@measured_once(kept=64)
def _network_fields(profile, surface: str, kind: str, seed: int, sigma: float, n: int, pts: int):
    """The float64 score and score Jacobian of the (surface, kind, seed) network at the points of
    :func:`constrained_mixing_r1.near_geometry` (σ, n, seed ``pts``)."""
    model = _network(Context(profile, seed, progress=False), surface, kind, seed)
    x = r1.near_geometry(surface, sigma, n, pts)[0]
    return float64_fields(model, x, sigma)


def _normal_rank(jac: np.ndarray, nu: np.ndarray):
    """The singular pair whose right vector is most nearly ν, per point: (rank, s, |v·ν|, nc on it,
    nc on the two other (tangent) ranks)."""
    sv, _, v = singular_pairs(jac)
    cos_nu = np.abs(np.einsum("nij,ni->nj", v, nu))
    rank = np.argmax(cos_nu, axis=1)
    pick = np.arange(jac.shape[0])
    nc = nonconservativeness_n1(jac)
    tangent = np.ones_like(nc, dtype=bool)
    tangent[pick, rank] = False
    return rank, sv[pick, rank], cos_nu[pick, rank], nc[pick, rank], nc[tangent].reshape(-1, 2)


def _stats(values: np.ndarray, prefix: str) -> dict[str, float]:
    """median, p10, p90 of ``values`` as rows ``<prefix> median`` etc."""
    return {
        f"{prefix} median": float(np.median(values)),
        f"{prefix} p10": float(np.percentile(values, 10)),
        f"{prefix} p90": float(np.percentile(values, 90)),
    }


def _judge(rows: dict, tag: str, judged, checks: list, readings: dict, *, reported=()):
    """Checks for the ``judged`` (key, op, bound) rows of ``rows`` and a readings-table row for each
    judged and ``reported`` one (labelled by key, threshold and ``tag``)."""

    def label(key, op, bound):
        shown = f"[{bound[0]:g}, {bound[1]:g}]" if op == "in" else f"{bound:g}"
        return f"{key} {op} {shown} ({tag})"

    for key, op, bound in judged:
        checks.append(check(label(key, op, bound), rows[key], op, bound))
        readings[label(key, op, bound)] = reading_row(key, rows[key], op, bound)
    for key, op, bound in reported:
        readings[label(key, op, bound) + " [reported]"] = reading_row(key, rows[key], op, bound)


def _seed_spread(ctx: Context, sigmas, summarise) -> dict[str, dict]:
    """``summarise(g, J, (x, P, ν, Q_T), σ)`` of the curved free network at the seeds after the
    judged one (full only), keyed "seed s, curved, σ=…": the spread, reported and never judged."""
    n = r1.points_per_sigma(ctx)
    out = {}
    for seed in r1.seeds(ctx)[1:]:
        for sigma in sigmas:
            pts = _point_seed(ctx, sigma)
            x, foot, nu, q_t, _ = r1.near_geometry("curved", sigma, n, pts)
            g, jac = _network_fields(ctx.profile, "curved", "edm", seed, sigma, n, pts)
            out[f"seed {seed}, curved, σ={sigma}"] = summarise(g, jac, (x, foot, nu, q_t), sigma)
    return out


def _outcome(ctx: Context, checks: list, readings: dict, notes: str, **fields) -> Outcome:
    """The claim's Outcome: unjudged at quick (not under control), the verdict per reading, and the
    failed checks named at the end of the notes."""
    failed = [c.name for c in checks if not c.held]
    return Outcome(
        checks=checks,
        readings=_reading_table(ctx, readings),
        inconclusive=unjudged_at_quick(ctx, f"training ({r1.recipe(ctx)[1].steps} steps)"),
        notes=notes + (" Failed: " + ", ".join(failed) if failed else ""),
        **fields,
    )


# --------------------------------------------------------------------------------------------
# A-C4 / T-A2 with the free network: denoising by normal projection


def _projection_rows(g, jac, x, foot, nu, q_t, sigma) -> dict[str, float]:
    """N4, σ²s on the normal rank, N2 a_TN and N1 on the normal rank of one field at the points."""
    e_n = normal_projection_error(g, x, sigma, foot, nu[:, :, None])
    _, s_normal, cos_nu, nc_normal, _ = _normal_rank(jac, nu)
    blocks = block_antisymmetry(jac, q_t)
    s_nn = np.abs(np.einsum("ni,nij,nj->n", nu, jac, nu))
    return {
        **_stats(e_n, "N4 e_N"),
        **_stats(sigma**2 * s_normal, "σ²s_normal"),
        "|v_normal·ν| median": float(np.median(cos_nu)),
        **_stats(blocks["a_TN"], "N2 a_TN (/ normal stiffness)"),
        "N2 a_TN max (/ normal stiffness)": float(np.max(blocks["a_TN"])),
        "a_TN median (/ ‖S_TT‖)": float(
            np.median(blocks["a_TN"] * s_nn / r1.tangent_stiffness(jac, q_t))
        ),
        "N1 nc on the normal rank median": float(np.median(nc_normal)),
    }, s_normal


@claim(
    id="constrained_mixing.trained_normal_projection",
    paper=PAPER,
    kind="trained",
    statement="Off the R1 surface the trained free score network denoises by normal projection, "
    "as the exact noised score does: near M (x = P + ρν, |ρ| ~ σ) the normal residual e_N of "
    "x + σ²g is small (median < 0.1 on the curved surface for σ ≤ 0.1, < 0.05 on the plane for "
    "σ ≤ 0.3), the normal singular value is 1/σ² (median σ²s in [0.95, 1.05], within 5% of the "
    "exact field's at 90% of the points) and the tangent–normal curl is small (median a_TN < 0.02).",
    source="paper000 §3.3 R1, §2.3 N4, N2, N1, T-A2 (T-A1 for the singular value against the exact "
    "one) [R]; A-C4 [P]; R1 network (3×128 SiLU EDM, 30k steps) on the curved graph and the plane, "
    "σ ∈ {0.05, 0.1, 0.3} judged, 0.6 and 1 reported",
    control="The normal part of the network's field is scaled by 0.8 (g ← g − 0.2(ν·g)ν, "
    "J ← (I − 0.2ννᵀ)J, ν the normal at the foot point): a network that under-denoises by 20% off "
    "the manifold.",
    trains=_trainings,
    figures=("r1_trained_field",),
)
def trained_normal_projection(ctx: Context) -> Outcome:
    n = r1.points_per_sigma(ctx)
    rows, readings, checks = {}, {}, []
    for sigma in (*_SIGMAS, *_WIDE_SIGMAS):
        judged_sigma = sigma in _SIGMAS
        for name in r1.SURFACES:
            seed_pts = _point_seed(ctx, sigma)
            x, foot, nu, q_t, _ = r1.near_geometry(name, sigma, n, seed_pts)
            g, jac = _network_fields(ctx.profile, name, "edm", ctx.seed, sigma, n, seed_pts)
            if ctx.control:  # the planted fault: 20% too weak in the normal direction
                damp = np.eye(3) - (1 - _NORMAL_SCALE) * nu[:, :, None] * nu[:, None, :]
                g = np.einsum("nij,nj->ni", damp, g)
                jac = damp @ jac
            r, s_normal = _projection_rows(g, jac, x, foot, nu, q_t, sigma)
            tag = f"{name}, σ={sigma}"
            if judged_sigma:  # the exact field at the same points
                _, _, _, _, _, g_ex, jac_ex = r1.near_points(name, sigma, n, seed_pts)
                r_ex, s_ex = _projection_rows(g_ex, jac_ex, x, foot, nu, q_t, sigma)
                rel = np.abs(s_normal / s_ex - 1)
                r["N4 e_N median, exact field"] = r_ex["N4 e_N median"]
                r["N4 |e_N − e_N exact| median"] = float(
                    np.median(
                        np.abs(
                            normal_projection_error(g, x, sigma, foot, nu[:, :, None])
                            - normal_projection_error(g_ex, x, sigma, foot, nu[:, :, None])
                        )
                    )
                )
                r["σ²s_normal median, exact field"] = r_ex["σ²s_normal median"]
                r["σ²s_normal |s/s_exact − 1| median"] = float(np.median(rel))
                r["σ²s_normal |s/s_exact − 1| p90"] = float(np.percentile(rel, 90))
                judged = [
                    ("σ²s_normal median", "in", (0.95, 1.05)),
                    ("σ²s_normal |s/s_exact − 1| p90", "<", 0.05),
                ]
                if name == "plane":
                    judged.append(("N4 e_N median", "<", 0.05))
                elif sigma <= 0.1:
                    judged.append(("N4 e_N median", "<", 0.1))
                judged.append(("N2 a_TN (/ normal stiffness) median", "<", 0.02))
                _judge(
                    r,
                    tag,
                    judged,
                    checks,
                    readings,
                    reported=[
                        ("N2 a_TN (/ normal stiffness) p90", "<", 0.02),
                        ("N1 nc on the normal rank median", "<", 0.01),
                    ],
                )
            rows[tag] = r
    keys = ("N4 e_N median", "σ²s_normal median", "N2 a_TN (/ normal stiffness) median")
    spread = _seed_spread(
        ctx,
        _SIGMAS,
        lambda g, jac, geo, sigma: {
            k: v for k, v in _projection_rows(g, jac, *geo, sigma)[0].items() if k in keys
        },
    )
    figures = [] if ctx.control else [_field_figure(ctx)]
    tn = "N2 a_TN (/ normal stiffness) median"
    over = [
        f"{tag} {r[tn]:.3g}" for tag, r in rows.items() if tag in _judged_tags() and r[tn] >= 0.02
    ]
    why = (
        " The tangent–normal curl reaches the note's bound 0.02 at "
        + ", ".join(over)
        + " (medians). The exact field's is 0; the bound is the note's, set from its calibration "
        "on the plane (T-A3: a_TN ≤ 0.009 up to σ = 1), and on the curved surface the network's "
        "a_TN rises with σ (see the table)."
        if over and not ctx.control
        else ""
    )
    return _outcome(
        ctx,
        checks,
        readings,
        predicted={
            "N4 e_N": "→ 0 as σ → 0 (the exact field's curvature offset on the curved surface)",
            "σ²s (normal rank)": "1, as the exact field's",
            "N2 a_TN": 0,
        },
        measured={
            "readings": readings,
            "per (surface, σ)": rows,
            "seed spread (reported)": spread,
            "judged seed": ctx.seed,
        },
        tolerance={
            "N4 e_N median": "< 0.1 (curved, σ ≤ 0.1); < 0.05 (plane, σ ≤ 0.3)",
            "σ²s (normal rank)": "median in [0.95, 1.05]; |s/s_exact − 1| p90 < 0.05",
            "N2 a_TN (/ normal stiffness)": "median < 0.02 (σ ≤ 0.3)",
        },
        figures=figures,
        notes=f"{n} points per (surface, σ), those of surface_normal_projection (x = P + ρν, |ρ|/σ "
        "~ U[0.5, 2], random sign, foot P by construction); the network's score and Jacobian in "
        "float64 from its trained weights. Judged on N4 (primary for A-C4 in R³, where a_NN ≡ 0) "
        "with σ²s on the normal rank (the singular pair whose right vector is most nearly ν) and "
        "N2 a_TN, on the median over points as in every trained-network calibration of the note "
        "(T-A1–T-A3); p10/p90 and N1 on the normal rank (< 0.01, T-A3's PASS-strong bound) are "
        "reported. The network's normal singular value is also held to the exact field's at the "
        "same points with T-A1's tolerance for a trained normal singular value (p90 relative "
        "error < 0.05). σ = 0.6 and 1 are reported only: the note's T-A2 range ends at 0.3, and on "
        "the curved surface |ρ| up to 2σ then exceeds the reach (≈ 1.5), so the foot P is no "
        "longer the nearest point. Seeds ctx.seed + 1, + 2 of the curved network (full) are "
        "reported as spread." + why,
    )


def _judged_tags() -> set[str]:
    """The (surface, σ) row labels whose checks are judged in trained_normal_projection."""
    return {f"{name}, σ={sigma}" for name in r1.SURFACES for sigma in _SIGMAS}


def _field_figure(ctx: Context) -> FigureSpec:
    """Fig. 1 analogue: the field on the curved surface at σ = 0.1, network beside exact."""
    surface, sigma = r1.SURFACES["curved"], _FIELD_SIGMA
    m = ctx.profile.pick(quick=15, full=31)
    axis = np.linspace(-2.4, 2.4, m)
    u = np.stack(np.meshgrid(axis, axis, indexing="xy"), axis=-1).reshape(-1, 2)
    on_m = surface.embed(u)
    nu = surface.unit_normal(u)
    above = on_m + sigma * nu  # one σ above M: the normal denoising step there should be −σ
    model = _network(ctx, "curved", "edm", ctx.seed)
    data = {"sigma": sigma, "axis": axis, "seed": ctx.seed}
    for label, field in (
        ("network", lambda p: float64_score(model, p, sigma)),
        ("exact", lambda p: surface.score(p, sigma)),
    ):
        vel = surface.chart_velocity(u, field(on_m)).reshape(m, m, 2)
        normal = sigma * np.sum(field(above) * nu, axis=1).reshape(m, m)  # σ²(ν·g)/σ
        data[label] = {"du1": vel[..., 0], "du2": vel[..., 1], "normal step / σ": normal}
    fine = np.linspace(-2.5, 2.5, 101)
    uf = np.stack(np.meshgrid(fine, fine, indexing="xy"), axis=-1)
    data["density_axis"] = fine
    data["log chart density"] = surface.log_chart_density(uf)
    return FigureSpec(
        name="r1_trained_field",
        draw=_draw_field,
        data=data,
        config={"profile": ctx.profile.name, "grid": m, "training steps": r1.recipe(ctx)[1].steps},
    )


def _draw_field(fig, data):
    fig.set_size_inches(10.5, 9.0)
    axes = fig.subplots(2, 2)
    axis = np.asarray(data["axis"])
    fine = np.asarray(data["density_axis"])
    dens = np.exp(np.asarray(data["log chart density"]) - np.max(data["log chart density"]))
    for row, label in enumerate(("network", "exact")):
        d = data[label]
        ax = axes[row, 0]
        ax.imshow(
            dens, extent=(fine[0], fine[-1], fine[0], fine[-1]), origin="lower", cmap="Oranges"
        )
        speed = np.hypot(d["du1"], d["du2"])
        ax.streamplot(
            axis,
            axis,
            np.asarray(d["du1"]),
            np.asarray(d["du2"]),
            color=speed,
            cmap="Blues",
            density=1.2,
            linewidth=0.8,
        )
        ax.set_title(f"{label}: tangent field on M (chart), σ = {data['sigma']}")
        ax.set_xlabel("chart u₁ (= x₁)")
        ax.set_ylabel("chart u₂ (= x₂)")
        ax.grid(False)
        ax = axes[row, 1]
        im = ax.imshow(
            np.asarray(d["normal step / σ"]),
            extent=(axis[0], axis[-1], axis[0], axis[-1]),
            origin="lower",
            cmap="coolwarm",
            vmin=-1.3,
            vmax=-0.7,
        )
        fig.colorbar(im, ax=ax, label="σ ν·g at x = φ(u) + σν  (−1: normal projection)")
        ax.set_title(f"{label}: normal component one σ above M")
        ax.set_xlabel("chart u₁")
        ax.set_ylabel("chart u₂")
        ax.grid(False)
    fig.suptitle(
        "R1 curved surface x₃ = 0.3 sin(1.5x₁)cos(1.5x₂), VE σ = "
        f"{data['sigma']}: streamlines of the tangent field (colour: chart speed) over the data "
        "density (orange)",
        fontsize=9,
    )
    fig.tight_layout()


# --------------------------------------------------------------------------------------------
# A-C3 with A-C8 / T-A3: non-conservative mixing within the manifold


def _mixing_rows(jac, nu, q_t) -> dict[str, np.ndarray]:
    """Per point: a_TT, a_TN in both normalisations, their ratios, N1 on tangent and normal ranks."""
    blocks = block_antisymmetry(jac, q_t)
    s_nn = np.abs(np.einsum("ni,nij,nj->n", nu, jac, nu))
    a_tn_abs = blocks["a_TN"] * s_nn / r1.tangent_stiffness(jac, q_t)
    _, _, _, nc_normal, nc_tangent = _normal_rank(jac, nu)
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "a_TT": blocks["a_TT"],
            "a_TN": blocks["a_TN"],
            "a_NN": blocks["a_NN"],
            "a_TN (/ ‖S_TT‖)": a_tn_abs,
            "a_TT/a_TN": blocks["a_TT"] / blocks["a_TN"],
            "a_TT/a_TN (/ ‖S_TT‖)": blocks["a_TT"] / a_tn_abs,
            "‖A‖/‖J‖": blocks["a"],
            "nc tangent": nc_tangent.ravel(),
            "nc normal": nc_normal,
        }


def _rule(per: dict[str, np.ndarray], prefix: str, absolute: bool = False) -> dict[str, float]:
    """The medians the PASS-weak and PASS-strong rules read (T-A3), as rows ``<prefix> …``."""
    tn = "a_TN (/ ‖S_TT‖)" if absolute else "a_TN"
    ratio = "a_TT/a_TN (/ ‖S_TT‖)" if absolute else "a_TT/a_TN"
    return {
        f"{prefix} a_TT median": float(np.median(per["a_TT"])),
        f"{prefix} {tn} median": float(np.median(per[tn])),
        f"{prefix} {ratio} median": float(np.median(per[ratio])),
    }


def _circulations(ctx, surface, seed, kind, sigma, n, pts, nu, q_t, jac):
    """N3: circulation of the network's float64 score on circles of radius 0.05 in the tangent
    plane and the two tangent–normal planes, normalised as N2 (c_TT = √2|C_ab|/‖S_TT‖,
    c_TN = √2|(C_aν, C_bν)|/|S_νν|)."""
    model = _network(ctx, surface, kind, seed)
    x = r1.near_geometry(surface, sigma, n, pts)[0][: len(nu)]

    def field(p):
        return float64_score(model, p, sigma)

    e_a, e_b = q_t[:, :, 0], q_t[:, :, 1]
    c_ab = circulation(field, x, e_a, e_b, _CIRCLE_R, _CIRCLE_N)
    c_an = circulation(field, x, e_a, nu, _CIRCLE_R, _CIRCLE_N)
    c_bn = circulation(field, x, e_b, nu, _CIRCLE_R, _CIRCLE_N)
    s_nn = np.abs(np.einsum("ni,nij,nj->n", nu, jac, nu))
    c_tt = np.sqrt(2) * np.abs(c_ab) / r1.tangent_stiffness(jac, q_t)
    c_tn = np.sqrt(2) * np.hypot(c_an, c_bn) / s_nn
    return c_tt, c_tn


@measured_once(kept=16)
def _circulation_rule(profile, surface, kind, seed, sigma, n, pts, n_circ):
    """N3 (c_TT, c_TN) of the (surface, kind, seed) network at the first ``n_circ`` of the n points."""
    ctx = Context(profile, seed, progress=False)
    _, _, nu, q_t, _ = r1.near_geometry(surface, sigma, n, pts)
    _, jac = _network_fields(profile, surface, kind, seed, sigma, n, pts)
    keep = slice(0, n_circ)
    return _circulations(ctx, surface, seed, kind, sigma, n, pts, nu[keep], q_t[keep], jac[keep])


def _mixing_spread(g, jac, geometry, sigma) -> dict[str, float]:
    """The rule's medians of one seed's network (its spread across seeds)."""
    per = _mixing_rows(jac, geometry[2], geometry[3])
    return {**_rule(per, "N2"), "N1 nc tangent ranks median": float(np.median(per["nc tangent"]))}


@claim(
    id="constrained_mixing.trained_mixing_within",
    paper=PAPER,
    kind="trained",
    statement="The trained free network on R1 mixes through a non-conservative field within the "
    "manifold while staying conservative across it: at σ ≤ 0.1 the median tangent curl a_TT is "
    "more than 3× the tangent–normal curl a_TN, a_TN < 0.01 (relative to the normal stiffness) "
    "and a_TT is above the conservative bar 1e-8 (the note's PASS-weak rule; PASS-strong, N1 on "
    "tangent ranks > 0.05 with normal < 0.01, reported).",
    source="paper000 §3.3 R1, §2.3 N1–N3, T-A3 [C-calibrated rule] [R]; A-C3 and A-C8 [P]; R1 "
    "networks (free and conservative, 3×128 SiLU EDM, 30k steps), curved graph and plane, "
    "σ ∈ {0.05, 0.1} judged, 0.3 and 1 reported",
    control="The conservative energy network (score = ∇E, same data, same seed) is evaluated in "
    "place of the free one: a_TT is rounding (≈ 1e-13), so the rule must fail.",
    trains=_trainings,
    figures=("r1_trained_asymmetry",),
)
def trained_mixing_within(ctx: Context) -> Outcome:
    n = r1.points_per_sigma(ctx)
    kind = "conservative" if ctx.control else "edm"
    rows, readings, checks, curves = {}, {}, [], {}
    for sigma in _MIX_SIGMAS:
        for name in r1.SURFACES:
            pts = _point_seed(ctx, sigma)
            _, _, nu, q_t, _ = r1.near_geometry(name, sigma, n, pts)
            tag = f"{name}, σ={sigma}"
            per = {}
            for label, k in (("free", kind), ("conservative", "conservative")):
                jac = _network_fields(ctx.profile, name, k, ctx.seed, sigma, n, pts)[1]
                per[label] = _mixing_rows(jac, nu, q_t)
            judged_field = per["free"]
            r = {
                **_rule(judged_field, "N2"),
                **_rule(judged_field, "absolute normalisation: N2", absolute=True),
                "N1 nc tangent ranks median": float(np.median(judged_field["nc tangent"])),
                "N1 nc normal rank median": float(np.median(judged_field["nc normal"])),
                "a_NN max (≡ 0: d − k = 1)": float(np.max(judged_field["a_NN"])),
                "global ‖A‖/‖J‖ median": float(np.median(judged_field["‖A‖/‖J‖"])),
                **{f"p90 {k}": float(np.percentile(judged_field[k], 90)) for k in ("a_TT", "a_TN")},
                **{
                    f"conservative network: {k}": v
                    for k, v in _rule(per["conservative"], "N2").items()
                },
            }
            for label, field in per.items():
                curves.setdefault(label, {}).setdefault(name, []).append(
                    {
                        blk: [float(np.percentile(field[blk], q)) for q in (10, 50, 90)]
                        for blk in ("a_TT", "a_TN")
                    }
                )
            if sigma in _JUDGED_MIX:
                c_tt, c_tn = _circulation_rule(
                    ctx.profile, name, kind, ctx.seed, sigma, n, pts, _circles(ctx)
                )
                r["N3 c_TT median"] = float(np.median(c_tt))
                r["N3 c_TN median"] = float(np.median(c_tn))
                r["N3 c_TT/c_TN median"] = float(np.median(c_tt / c_tn))
                _judge(
                    r,
                    tag,
                    [
                        ("N2 a_TT/a_TN median", ">", 3.0),
                        ("N2 a_TN median", "<", 0.01),
                        ("N2 a_TT median", ">", _FLOOR),
                    ],
                    checks,
                    readings,
                    reported=[
                        ("N1 nc tangent ranks median", ">", 0.05),
                        ("N1 nc normal rank median", "<", 0.01),
                        ("N3 c_TT/c_TN median", ">", 3.0),
                        ("N3 c_TN median", "<", 0.01),
                        ("N3 c_TT median", ">", _FLOOR),
                        ("absolute normalisation: N2 a_TT/a_TN (/ ‖S_TT‖) median", ">", 3.0),
                    ],
                )
            rows[tag] = r
    spread = _seed_spread(ctx, _MIX_SIGMAS, _mixing_spread)
    weak = all(c.held for c in checks)
    strong = weak and all(
        row["verdict"] == "pass" for key, row in readings.items() if key.startswith("N1")
    )
    figures = [] if ctx.control else [_asymmetry_figure(ctx, curves, n)]
    why = ""
    if not weak and not ctx.control:
        missed = [
            f"{tag}: a_TT {r['N2 a_TT median']:.3g}, a_TN {r['N2 a_TN median']:.3g}, "
            f"ratio {r['N2 a_TT/a_TN median']:.3g}"
            for tag, r in rows.items()
            if "N3 c_TT median" in r  # the judged σ
            and not (r["N2 a_TN median"] < 0.01 and r["N2 a_TT/a_TN median"] > 3.0)
        ]
        why = (
            " Where the rule does not hold (medians): "
            + "; ".join(missed)
            + ". "
            + (
                "The free network does mix within the manifold (a_TT ≥ 100× the conservative "
                "bar at every judged point set), but "
                if all(r["N2 a_TT median"] >= 100 * _FLOOR for r in rows.values())
                else ""
            )
            + "where the rule fails its tangent–normal curl, relative to the normal stiffness, "
            "is not small enough for the note's bounds, which the note calibrated on the plane "
            "(the other seeds are in the spread table; constrained_mixing.curl_size measures how "
            "the curl moves with width, depth, training length and data size)."
        )
    return _outcome(
        ctx,
        checks,
        readings,
        predicted={
            "a_TT/a_TN (median, σ ≤ 0.1)": "> 3 (A-C3: curl within the manifold, not across)",
            "a_TN (median, σ ≤ 0.1)": "< 0.01 (A-C4, A-C8)",
            "N1 nc tangent / normal": "> 0.05 / < 0.01 (PASS-strong)",
        },
        measured={
            "readings": readings,
            "per (surface, σ)": rows,
            "seed spread (reported, curved free network)": spread,
            "PASS-weak (judged rule)": "pass" if weak else "fail",
            "PASS-strong (reported)": "pass" if strong else "fail",
            "judged seed": ctx.seed,
            "field judged": kind,
        },
        tolerance={
            "PASS-weak": "median a_TT/a_TN > 3 and median a_TN < 0.01 at σ ≤ 0.1, both surfaces; "
            "median a_TT > 1e-8",
            "PASS-strong": "also median nc tangent ranks > 0.05 and normal rank < 0.01 (reported)",
        },
        figures=figures,
        notes=f"{n} points per (surface, σ), those of the exact-field claims; Jacobians in float64. "
        "Judged on N2 (primary) with the note's normalisation (a_TT relative to ‖S_TT‖, a_TN "
        "relative to the normal stiffness ‖S_NN‖) by the note's PASS-weak rule, the median over "
        "points of the per-point ratio; a_TT must also exceed 1e-8, the bar a conservative field "
        "reads below (T-A3's control), because a ratio of two rounding errors is not a "
        "measurement (without it the energy network's float64 rounding, a_TT ≈ ε/(σ²‖S_TT‖) "
        "against a_TN ≈ ε, would pass the ratio). The absolute normalisation (a_TN relative to "
        "‖S_TT‖, note T-A3) and PASS-strong (N1) are reported, as is N3: the circulation of the "
        "network's score on circles of radius 0.05 (64 points) in the tangent plane and the two "
        f"tangent–normal planes, normalised as N2, with the same rule, at the first "
        f"{_circles(ctx)} of the points. The conservative network is reported beside the free one; a_NN ≡ 0 (d − k = 1). Seeds ctx.seed + 1, + 2 of the "
        "curved free network (full) are reported as spread." + why,
    )


def _asymmetry_figure(ctx, curves, n) -> FigureSpec:
    return FigureSpec(
        name="r1_trained_asymmetry",
        draw=_draw_asymmetry,
        data={"sigma": list(_MIX_SIGMAS), "curves": curves, "points": n, "seed": ctx.seed},
        config={"profile": ctx.profile.name, "training steps": r1.recipe(ctx)[1].steps},
    )


def _draw_asymmetry(fig, data):
    fig.set_size_inches(11.0, 4.4)
    axes = fig.subplots(1, 2, sharey=True)
    sigma = np.asarray(data["sigma"])
    styles = {"free": "-", "conservative": "--"}
    colors = {"a_TT": PALETTE["trained"], "a_TN": PALETTE["exact"]}
    for ax, surface in zip(axes, ("curved", "plane"), strict=True):
        for label, style in styles.items():
            per_sigma = data["curves"][label][surface]
            for blk, color in colors.items():
                q = np.array([p[blk] for p in per_sigma])  # (σ, [p10, p50, p90])
                ax.plot(
                    sigma,
                    q[:, 1],
                    style,
                    marker="o",
                    ms=3,
                    color=color,
                    label=f"{blk}, {label} network (median)",
                )
                if label == "free":
                    ax.fill_between(sigma, q[:, 0], q[:, 2], color=color, alpha=0.15, lw=0)
        ax.axhline(0.01, ls=":", color=PALETTE["theory"], lw=0.8, label="a_TN bound 0.01")
        ax.axhline(1e-8, ls="-.", color=PALETTE["theory"], lw=0.8, label="conservative bar 1e-8")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("VE noise level σ")
        ax.set_title(f"{surface}: Jacobian block antisymmetry (N2), {data['points']} points per σ")
    axes[0].set_ylabel("a_TT = ‖A_TT‖/‖S_TT‖,  a_TN = √2‖A_TN‖/‖S_NN‖")
    axes[1].legend(fontsize=6.5, loc="center right")
    fig.text(
        0.01,
        0.01,
        "band: p10–p90 (free network). Exact field: a_TT = a_TN = 0 (symmetric by construction); "
        "a_NN ≡ 0 (d − k = 1): not drawable on a log axis. Conservative: float64 Hessian, rounding.",
        fontsize=7,
    )
    fig.tight_layout(rect=(0, 0.04, 1, 1))


# --------------------------------------------------------------------------------------------
# T-A3 control: the energy network's Jacobian is symmetric in float64


@claim(
    id="constrained_mixing.trained_conservative_control",
    paper=PAPER,
    kind="trained",
    statement="The conservative R1 network (score = ∇E of a scalar network) has a symmetric "
    "Jacobian: evaluated in float64 its a_TT, a_TN, global ‖A‖/‖J‖ and N1 stay below 1e-8 at "
    "every point, while the free network evaluated the same way reads at least 100× above that "
    "bar (so the metrics are live).",
    source="paper000 §2.3 N1, N2, T-A3 (control) [R]; A-C3 [P]; R1 networks (3×128 SiLU, 30k "
    "steps), curved graph and plane, σ ∈ {0.05, 0.1, 0.3}",
    control="A tangent rotation ω(e_b e_aᵀ − e_a e_bᵀ) with a_TT = 1e-6 (100× the bar) is added to "
    "the energy network's float64 Jacobian.",
    trains=_trainings,
)
def trained_conservative_control(ctx: Context) -> Outcome:
    n = r1.points_per_sigma(ctx)
    rows, readings, checks = {}, {}, []
    for sigma in _SIGMAS:
        for name in r1.SURFACES:
            pts = _point_seed(ctx, sigma)
            x, _, nu, q_t, _ = r1.near_geometry(name, sigma, n, pts)
            jac = _network_fields(ctx.profile, name, "conservative", ctx.seed, sigma, n, pts)[1]
            if ctx.control:
                omega = _PLANTED_CURL * r1.tangent_stiffness(jac, q_t) / np.sqrt(2)
                jac = jac + omega[:, None, None] * (
                    q_t[:, :, 1, None] * q_t[:, None, :, 0]
                    - q_t[:, :, 0, None] * q_t[:, None, :, 1]
                )
            free = _network_fields(ctx.profile, name, "edm", ctx.seed, sigma, n, pts)[1]
            cons, live = _mixing_rows(jac, nu, q_t), _mixing_rows(free, nu, q_t)
            jac32 = _network(ctx, name, "conservative", ctx.seed).jacobian(x, sigma)
            f32 = _mixing_rows(jac32, nu, q_t)
            r = {
                "N2 a_TT max": float(np.max(cons["a_TT"])),
                "N2 a_TN max": float(np.max(cons["a_TN"])),
                "N2 global ‖A‖/‖J‖ max": float(np.max(cons["‖A‖/‖J‖"])),
                "N1 nc max (every rank)": float(
                    max(np.max(cons["nc tangent"]), np.max(cons["nc normal"]))
                ),
                "N2 free network a_TT median": float(np.median(live["a_TT"])),
                "N2 free network a_TN median": float(np.median(live["a_TN"])),
                "N2 free network global ‖A‖/‖J‖ median": float(np.median(live["‖A‖/‖J‖"])),
                "N1 free network nc tangent ranks median": float(np.median(live["nc tangent"])),
                "float32 evaluation: a_TT max": float(np.max(f32["a_TT"])),
                "float32 evaluation: global ‖A‖/‖J‖ max": float(np.max(f32["‖A‖/‖J‖"])),
            }
            rows[f"{name}, σ={sigma}"] = r
            _judge(
                r,
                f"{name}, σ={sigma}",
                [
                    ("N2 a_TT max", "<=", _FLOOR),
                    ("N2 a_TN max", "<=", _FLOOR),
                    ("N2 global ‖A‖/‖J‖ max", "<=", _FLOOR),
                    ("N1 nc max (every rank)", "<=", _FLOOR),
                    ("N2 free network a_TT median", ">=", _LIVE),
                    ("N2 free network a_TN median", ">=", _LIVE),
                    ("N2 free network global ‖A‖/‖J‖ median", ">=", _LIVE),
                    ("N1 free network nc tangent ranks median", ">=", _LIVE),
                ],
                checks,
                readings,
            )
    return _outcome(
        ctx,
        checks,
        readings,
        predicted={"energy network a_TT, a_TN, ‖A‖/‖J‖, N1": 0, "free network": "> 0"},
        measured={"readings": readings, "per (surface, σ)": rows, "judged seed": ctx.seed},
        tolerance={
            "energy network": "≤ 1e-8 at every point (float64; note T-A3)",
            "free network": "median ≥ 1e-6 (100× the bar)",
        },
        notes=f"{n} points per (surface, σ), those of the exact-field claims. The trained float32 "
        "weights are cast to float64 and the score's Jacobian is taken by forward-mode autodiff "
        "(for the energy network jax.jacfwd(jax.grad(E)), its Hessian), so the only asymmetry "
        "left is float64 rounding. The float32 evaluation (the network as trained) is reported: "
        "its rounding alone is far above 1e-8, which is why the bar is read in float64. N1 is "
        "taken over every rank. Liveness bar: the free network evaluated the same way must read "
        "at least 100× the 1e-8 bar (medians), two orders of magnitude of separation; the note "
        "gives no number for it.",
    )


# --------------------------------------------------------------------------------------------
# T-A7: circulation of the free network against its Jacobian


@claim(
    id="constrained_mixing.trained_circulation",
    paper=PAPER,
    kind="trained",
    statement="The circulation ∮g·dl/(2πr²) of the trained free network on circles of radius 0.05 "
    "in the tangent plane of the curved R1 surface at σ = 0.05 agrees with e_bᵀAe_a from its "
    "Jacobian, within 10% or 1e-3‖S_TT‖ (whichever is larger), at 90% of the circles.",
    source="paper000 §2.3 N3, T-A7 [R]; A-C3 [P]; R1 free network (3×128 SiLU EDM, 30k steps), "
    "curved graph, σ = 0.05, r = 0.05, 64-point rule",
    control="The field integrated on the circles carries a planted tangent rotation "
    "ω(−(x−x₀)_b e_a + (x−x₀)_a e_b) with a_TT = 0.1 that the Jacobian does not have.",
    trains=lambda ctx: r1.trainings(ctx, (("curved", "edm"),)),
)
def trained_circulation(ctx: Context) -> Outcome:
    n = _circles(ctx)
    sigma = _CIRCLE_SIGMA
    x, _, _, q_t, _ = r1.near_geometry("curved", sigma, n, ctx.seed + 101)
    model = _network(ctx, "curved", "edm", ctx.seed)
    jac = float64_jacobian(model, x, sigma)
    anti = 0.5 * (jac - np.swapaxes(jac, 1, 2))
    e_a, e_b = q_t[:, :, 0], q_t[:, :, 1]
    a_ba = np.einsum("ni,nij,nj->n", e_b, anti, e_a)
    s_tt = r1.tangent_stiffness(jac, q_t)
    omega = _ROTATION * s_tt / np.sqrt(2) if ctx.control else np.zeros(n)

    def planted(p):  # ω(e_b e_aᵀ − e_a e_bᵀ)(p − x₀), per circle (rows circle-major)
        delta = p.reshape(n, _CIRCLE_N, 3) - x[:, None, :]
        da = np.einsum("nmi,ni->nm", delta, e_a)
        db = np.einsum("nmi,ni->nm", delta, e_b)
        rot = omega[:, None, None] * (
            e_b[:, None, :] * da[..., None] - e_a[:, None, :] * db[..., None]
        )
        return rot.reshape(-1, 3)

    circ = circulation(
        lambda p: float64_score(model, p, sigma) + planted(p), x, e_a, e_b, _CIRCLE_R, _CIRCLE_N
    )
    circ32 = circulation(
        lambda p: model.score(p, sigma) + planted(p), x, e_a, e_b, _CIRCLE_R, _CIRCLE_N
    )
    allowed = np.maximum(0.1 * np.abs(a_ba), 1e-3 * s_tt)
    err = np.abs(circ - a_ba) / allowed
    err32 = np.abs(circ32 - a_ba) / allowed
    r = {
        "N3 |C − e_bᵀAe_a| / allowed p90": float(np.percentile(err, 90)),
        "N3 |C − e_bᵀAe_a| / allowed median": float(np.median(err)),
        "N3 |C − e_bᵀAe_a| / allowed max": float(np.max(err)),
        "N3 fraction of circles that agree": float(np.mean(err <= 1)),
        "N2 a_TT median (√2|e_bᵀAe_a|/‖S_TT‖)": float(np.median(np.sqrt(2) * np.abs(a_ba) / s_tt)),
        "e_bᵀAe_a median |·|": float(np.median(np.abs(a_ba))),
        "‖S_TT‖ median": float(np.median(s_tt)),
        "float32 field: |C − e_bᵀAe_a| / allowed p90": float(np.percentile(err32, 90)),
        "float32 field: |C₃₂ − C₆₄| / allowed median": float(
            np.median(np.abs(circ32 - circ) / allowed)
        ),
    }
    readings, checks = {}, []
    _judge(
        r,
        "curved, σ=0.05",
        [("N3 |C − e_bᵀAe_a| / allowed p90", "<=", 1.0)],
        checks,
        readings,
        reported=[
            ("N3 |C − e_bᵀAe_a| / allowed median", "<=", 1.0),
            ("N3 |C − e_bᵀAe_a| / allowed max", "<=", 1.0),
            ("N2 a_TT median (√2|e_bᵀAe_a|/‖S_TT‖)", ">", np.sqrt(2) * 1e-3),
        ],
    )
    return _outcome(
        ctx,
        checks,
        readings,
        predicted={"∮g·dl/(2πr²)": "e_bᵀAe_a (Stokes, to O(r²))"},
        measured={"readings": readings, "circles": r, "judged seed": ctx.seed, "circles n": n},
        tolerance={"agreement": "within max(10%·|e_bᵀAe_a|, 1e-3‖S_TT‖) at 90% of the circles"},
        notes=f"{n} circles (r = {_CIRCLE_R}, {_CIRCLE_N} points) at the points of "
        "surface_conservative_exact (x = P + ρν, |ρ|/σ ~ U[0.5, 2]), e_a, e_b the true tangent "
        "basis at the foot; score and Jacobian in float64 from the trained weights. The note "
        "states T-A7's tolerance per circle but no statistic; judged on the 90th percentile (90% "
        "of the circles agree), as T-A1 holds a trained network's pointwise quantities to a p90; "
        "median and max reported. The float32 evaluation of the same field is reported: its "
        "circulation carries the float32 rounding of D − x (≈ 1e-7|x|/σ² per point), and "
        "|C₃₂ − C₆₄| measures that noise against the allowance. N2 row: the tangent curl that "
        "is compared, above the absolute floor so the comparison is not trivial (reported).",
    )
