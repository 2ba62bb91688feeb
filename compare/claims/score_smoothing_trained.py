"""Trained-network claims of Chen, *On the interpolation effect of score smoothing* (paper key
``score_smoothing``; research note paper004): C9–C11, tests 12–14 and the sphere of §6.3.

Convention: VE with noise **variance** t; samplers start from the exact noised law p_T of the
training set and follow the PF-ODE ẋ = −½ s_t(x) by Euler in √t (1 000 steps) down to t_min = 1e-4.
The time-conditioned networks are the project's EDM MLP with ReLU activations, trained by
denoising score matching with t = σ² drawn uniformly on [t_min, T] (the time-uniform objective
(1/T)∫ L_t dt of note §1.1; the EDM weight equals the note's weight t at small σ). At ``quick``
the networks are trained too briefly to judge: the verdict is ``inconclusive``.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from compare.claim import Context, FigureSpec, Outcome, verdict_from
from compare.claims.score_smoothing import TWO, esf, spl
from compare.registry import claim
from compare.style import PALETTE, legend_with_visible_markers
from empirical.flow import from_sigma_score, integrate_euler
from empirical.models import NetworkConfig
from empirical.training import TrainingConfig, train
from empirical.two_layer import FixedTimeConfig, train_fixed_time
from theory import smoothing as sm
from theory.distributions import FiniteSet

PAPER = "score_smoothing"
T_MAX, T_MIN = 1.0, 1e-4
#: Test 13's normal-coordinate allowance relative to the exact flow (0.02 against 0.0067 in d = 2).
SPAN_ALLOWANCE = 3.0


#: The smaller comparison network of C10/C11 (shown, not judged).
SMALL = {"width": 64, "depth": 2, "full_steps": 10_000}


def _recipe(ctx: Context, sigma_data: float, *, width=256, depth=3, full_steps=20_000, steps=None):
    if steps is None:
        steps = ctx.profile.pick(quick=2_000, full=full_steps)
    network = NetworkConfig(width=width, depth=depth, activation="relu", sigma_data=sigma_data)
    training = TrainingConfig(
        steps=steps,
        warmup_steps=steps // 20,
        learning_rate=1e-3,
        sigma_min=np.sqrt(T_MIN),
        sigma_max=np.sqrt(T_MAX),
        noise_sampling="uniform_t",
    )
    return network, training


def _denoise(score, points, n, n_steps, seed, *, snapshots=()):
    """Samples of p_T (exact noised training set), flowed to T_MIN; optional snapshots at times."""
    rng = np.random.default_rng(seed)
    x = points[rng.integers(0, points.shape[0], n)] + np.sqrt(T_MAX) * rng.standard_normal(
        (n, points.shape[1])
    )
    if not snapshots:
        return integrate_euler(score, x, T_MAX, T_MIN, n_steps), {}
    end, traj, taus = integrate_euler(score, x, T_MAX, T_MIN, n_steps, return_trajectory=True)
    picks = {f"{t:.3g}": traj[int(np.argmin(np.abs(taus - t)))] for t in snapshots}
    return end, picks


def _trained_field(points, ctx: Context, sigma_data: float, **recipe):
    network, training = _recipe(ctx, sigma_data, **recipe)
    model = train(FiniteSet(points), network, training, seed=ctx.seed, progress=ctx.progress)
    model.chunk = 16_384
    return model, network, training


def _pair_config(network, training, small_net, small_training, n) -> dict:
    """The sidecar config of a figure that shows the judged network next to the smaller one."""
    return {
        "network": network.to_dict(),
        "training": training.to_dict(),
        "small network": small_net.to_dict(),
        "small training": small_training.to_dict(),
        "samples": n,
    }


def _cost(model) -> str:
    return f"{model.meta.get('seconds', float('nan')):.0f} s ({model.meta.get('cache', '?')})"


# --------------------------------------------------------------------------------------------
# C9, test 12, Fig. 2: a two-layer ReLU network at fixed t with weight decay


def _slope(g, centre, half_width):
    x = np.linspace(centre - half_width, centre + half_width, 41)
    return float(np.polyfit(x, g(x), 1)[0])


@claim(
    id="score_smoothing.relu_smoothing",
    paper=PAPER,
    kind="trained",
    statement="A two-layer ReLU network fitted to the score at small t with weight decay learns an S-PL-ESF-like "
    "field: exact slope −1/t near ±1, a positive-slope ramp across the middle, more smoothing for larger λ.",
    source="paper004 §3, Fig. 2 and Prop. 1 [N]; note claim C9 and test 12 (shape criteria [C])",
)
def relu_smoothing(ctx: Context) -> Outcome:
    t = 0.01
    lams = (0.0, 1e-4, 1e-3)
    seeds = ctx.profile.pick(quick=[ctx.seed], full=[ctx.seed, ctx.seed + 1, ctx.seed + 2])
    config = FixedTimeConfig(width=256, steps=ctx.profile.pick(quick=2_000, full=20_000))
    rows, curves = {}, {}
    xs = np.linspace(-2, 2, 801)
    for lam in lams:
        per_seed = []
        for seed in seeds:
            fit = train_fixed_time(TWO, t, lam, config, seed)
            s0 = _slope(fit.g, 0.0, 0.2)
            per_seed.append(
                {
                    "t f(±1)": fit.g(np.array([-1.0, 1.0])).tolist(),
                    "t·slope at ±1": [_slope(fit.g, -1.0, 0.1), _slope(fit.g, 1.0, 0.1)],
                    "t·slope at 0": s0,
                    "implied δ": s0 / (1 + s0),
                    "L_t": fit.loss / t,
                    "seconds": fit.seconds,
                }
            )
            if seed == seeds[0]:
                curves[f"{lam:g}"] = fit.g(xs)
        rows[f"{lam:g}"] = per_seed
    delta_med = {k: float(np.median([r["implied δ"] for r in v])) for k, v in rows.items()}
    checks = {}
    for key, per_seed in rows.items():
        for i, r in enumerate(per_seed):
            tag = f"λ={key} seed {i}"
            checks[f"{tag}: |t f(±1)| < 0.05"] = max(abs(v) for v in r["t f(±1)"]) < 0.05
            checks[f"{tag}: 0.05 < t·slope(0) < 1"] = 0.05 < r["t·slope at 0"] < 1.0
            if float(key) <= 1e-4:
                checks[f"{tag}: t·slope(±1) = −1 ± 20%"] = all(
                    abs(v + 1) < 0.2 for v in r["t·slope at ±1"]
                )
    ordered = [delta_med[f"{lam:g}"] for lam in lams]
    checks["implied δ non-increasing in λ (seed medians)"] = bool(np.all(np.diff(ordered) <= 0))
    figure = FigureSpec(
        name="relu_score_weight_decay",
        draw=_draw_relu,
        data={
            "x": xs,
            "t": t,
            "network": curves,
            "esf": t * esf(TWO)(xs[:, None], t)[:, 0],
            "smoothed": {
                k: t * sm.smoothed_score(xs[:, None], t, max(d, 1e-6) / np.sqrt(t), TWO)[:, 0]
                for k, d in delta_med.items()
            },
            "delta": delta_med,
        },
        config={"fit": config.__dict__, "seeds": seeds, "objective": "t·L_t[f] + λ(‖w‖² + ‖a‖²)"},
    )
    quick = ctx.profile.name == "quick"
    return Outcome(
        predicted={
            "t f(±1)": 0,
            "t·slope at ±1": -1,
            "t·slope at 0": "in (0.05, 1); the ESF has (1/t − 1) = 99",
            "δ": "non-increasing in λ",
        },
        measured={"per λ, per seed": rows, "implied δ (seed median)": delta_med},
        tolerance={
            "|t f(±1)|": 0.05,
            "side slopes": "20% for λ ≤ 1e-4",
            "middle slope": "(0.05, 1)/t",
        },
        verdict=verdict_from(checks, inconclusive=quick),
        notes=f"t = 0.01, S = {{−1, +1}}, width 256, {config.steps} full-batch Adam steps on {config.n_samples} "
        f"samples of p_t, seeds {seeds}. Objective t·L_t[f] + λ(‖w‖² + ‖a‖²) with the network giving t·f; at "
        "the balanced optimum this equals the paper's L_t[f] + λ‖θ‖² for a network giving f. In this "
        "parametrisation the note's calibration λ grid {0, 1e-3, 1e-2} acts about ten times stronger "
        "(λ = 1e-2 fits g ≡ 0), so the grid is {0, 1e-4, 1e-3}: λ = 1e-3 here reproduces the note's λ = 1e-2 "
        "regime (side slopes shrink by about 25%, so they are not judged there). Slopes are least-squares "
        "fits on x ± 0.1 (sides) and ± 0.2 (middle); implied δ = t·slope/(1 + t·slope). At quick the fits "
        "are too short to judge.",
        figures=[figure],
    )


def _draw_relu(fig, data):
    ax = fig.add_subplot(111)
    x = np.array(data["x"])
    ax.plot(x, data["esf"], color="grey", lw=2.2, label="ESF")
    colors = [PALETTE["exact"], PALETTE["alt"], PALETTE["trained"], "#9467bd"]
    for (lam, g), c in zip(data["network"].items(), colors, strict=False):
        ax.plot(x, g, color=c, lw=1.4, label=f"network, λ = {lam}")
        ax.plot(
            x,
            data["smoothed"][lam],
            color=c,
            lw=0.8,
            ls="--",
            label=f"S-PL-ESF with the implied δ = {data['delta'][lam]:.2f}",
        )
    ax.scatter([-1, 1], [0, 0], color="k", zorder=5, s=18)
    ax.set_xlabel("x")
    ax.set_ylabel(f"t · score at t = {data['t']} (VE, variance t)")
    ax.set_title("Two-layer ReLU score fits with weight decay λ (Fig. 2 analogue)")
    ax.legend(fontsize=7)


# --------------------------------------------------------------------------------------------
# C10, test 13: d = 2, n = 4 points on a line


#: Test 13: a sample is "far" when its tangential offset to every training point exceeds this,
#: and a network interpolates when more than FAR_FRACTION_MIN of its samples are far.
FAR_OFFSET, FAR_FRACTION_MIN = 0.05, 0.05


def _far_fraction(y, line_points) -> float:
    """Fraction of samples farther than FAR_OFFSET (tangentially) from every point on the x-axis."""
    return float(np.mean(np.abs(_offsets(y, line_points)[0]) > FAR_OFFSET))


def _offsets(y, line_points):
    """Tangential offset to the nearest training point and normal coordinate (points on the x-axis)."""
    tau = line_points[:, 0]
    off = y[:, 0][:, None] - tau[None, :]
    return off[np.arange(y.shape[0]), np.argmin(np.abs(off), axis=1)], y[:, 1]


@claim(
    id="score_smoothing.nn_interpolation",
    paper=PAPER,
    kind="trained",
    statement="A time-conditioned network trained on 4 points on a line in R² samples between the points "
    "(positive tangential spread) while collapsing the normal direction, unlike the exact ESF.",
    source="paper004 §6.1 [N]; note claim C10 and test 13 (thresholds suggested [U])",
)
def nn_interpolation(ctx: Context) -> Outcome:
    pts = np.stack([np.linspace(-1, 1, 4), np.zeros(4)], axis=1)
    model, network, training = _trained_field(pts, ctx, sigma_data=0.75)
    n = ctx.profile.pick(quick=2_000, full=10_000)
    n_steps = ctx.profile.pick(quick=200, full=1_000)
    snaps = (T_MAX, 0.1, 0.01, 1e-3, T_MIN)
    kappa, t_hand = 1.0, 0.05

    def handoff(x, t):  # exact ESF above t_hand, S-PL-ESF below (the paper's p̂^{(n, t0)})
        return esf(pts)(x, t) if t > t_hand else spl(kappa, pts)(x, t)

    fields = {"ESF": esf(pts), f"S-PL-ESF (κ={kappa:g}, t0={t_hand:g})": handoff}
    fields["network"] = from_sigma_score(model.score)
    small, small_net, small_training = _trained_field(pts, ctx, sigma_data=0.75, **SMALL)
    fields["small network (2×64, not judged)"] = from_sigma_score(small.score)
    ends, evolution = {}, {}
    for name, score in fields.items():
        ends[name], evolution[name] = _denoise(
            score, pts, n, n_steps, ctx.seed + 7, snapshots=snaps
        )
    far, normal, tang_var = {}, {}, {}
    for name, y in ends.items():
        far[name] = _far_fraction(y, pts)
        normal[name] = float(np.median(np.abs(_offsets(y, pts)[1])))
        tang_var[name] = {t: float(np.var(_offsets(x, pts)[0])) for t, x in evolution[name].items()}
    checks = {
        "ESF: far fraction < 1%": far["ESF"] < 0.01,
        "network: far fraction > 5%": far["network"] > FAR_FRACTION_MIN,
        "ESF: median |normal| < 0.02": normal["ESF"] < 0.02,
        "network: median |normal| < 0.02": normal["network"] < 0.02,
    }
    sweep = _training_sweep(pts, ctx)
    figures = [
        FigureSpec(
            name="interpolation_vs_training",
            draw=_draw_sweep,
            data={
                "sweep": sweep,
                "esf": far["ESF"],
                "smoothed": far[f"S-PL-ESF (κ={kappa:g}, t0={t_hand:g})"],
                "threshold": FAR_FRACTION_MIN,
            },
            config={"samples": SWEEP_SAMPLES, "sigma_data": 0.75, "t": [T_MIN, T_MAX]},
        )
    ]
    figure = FigureSpec(
        name="line_d2_n4_evolution",
        draw=_draw_line_evolution,
        data={
            "points": pts,
            "tangential_variance": tang_var,
            "ends": {k: v[:3000] for k, v in ends.items()},
        },
        config=_pair_config(network, training, small_net, small_training, n),
    )
    quick = ctx.profile.name == "quick"
    return Outcome(
        predicted={
            "ESF far fraction": "< 1%",
            "network far fraction": "> 5%",
            "median |normal|": "< 0.02",
        },
        measured={
            "far fraction (|tangential offset| > 0.05)": far,
            "median |normal coordinate|": normal,
            "tangential variance at t = 1e-4": {k: v[f"{T_MIN:.3g}"] for k, v in tang_var.items()},
            "training": {"network": _cost(model), "small network": _cost(small)},
            "far fraction against training steps (not judged)": sweep,
        },
        tolerance={"far fraction": "ESF < 0.01, network > 0.05", "median |normal|": 0.02},
        verdict=verdict_from(checks, inconclusive=quick),
        notes=f"y_k = (−1 + 2(k − 1)/3, 0); EDM MLP 3×256 ReLU, σ_d = 0.75, {training.steps} steps, t uniform on "
        f"[1e-4, 1]; {n} samples of p_1 flowed by Euler in √t ({n_steps} steps) to t = 1e-4 under each field. "
        "The S-PL-ESF row (exact ESF above t0 = 0.05, S-PL-ESF below, κ = 1) and a smaller network (2×64, "
        f"{small_training.steps} steps) are shown for comparison and not judged: how much a network smooths "
        "depends on its capacity and training length. The sweep (figure interpolation_vs_training) trains "
        f"both architectures for each step count with the same recipe and seed and flows "
        f"{ctx.profile.pick(**SWEEP_SAMPLES)} samples each: the verdict is made on the recipe fixed before "
        "any run (3×256, 20k steps), the sweep shows where that recipe sits.",
        figures=[figure, *figures],
    )


#: The C10 sweep: training steps per architecture, and samples flowed per network.
SWEEP_STEPS = {"quick": (1_000, 2_000), "full": (2_000, 5_000, 10_000, 20_000)}
SWEEP_SAMPLES = {"quick": 1_000, "full": 4_000}


def _training_sweep(pts, ctx: Context) -> dict:
    """:func:`_far_fraction` of the samples against training steps, per network."""
    n = ctx.profile.pick(**SWEEP_SAMPLES)
    n_steps = ctx.profile.pick(quick=200, full=1_000)
    out = {}
    for label, arch in (("3×256", {"width": 256, "depth": 3}), ("2×64", SMALL)):
        shape = {"width": arch["width"], "depth": arch["depth"]}
        rows = {}
        for steps in ctx.profile.pick(**SWEEP_STEPS):
            model, _, _ = _trained_field(pts, ctx, sigma_data=0.75, steps=steps, **shape)
            y, _ = _denoise(from_sigma_score(model.score), pts, n, n_steps, ctx.seed + 7)
            rows[str(steps)] = _far_fraction(y, pts)
        out[label] = rows
    return out


def _draw_sweep(fig, data):
    ax = fig.add_subplot(111)
    colors = iter([PALETTE["trained"], PALETTE["alt"]])
    for label, rows in data["sweep"].items():
        steps = [int(k) for k in rows]
        ax.semilogx(steps, list(rows.values()), "o-", color=next(colors), label=f"network {label}")
    ax.axhline(data["smoothed"], color=PALETTE["exact"], ls="--", lw=1, label="S-PL-ESF (κ = 1)")
    ax.axhline(data["esf"], color="grey", ls="-", lw=1.5, label="ESF (memorises)")
    ax.axhline(data["threshold"], color="k", ls=":", lw=1, label="test 13 threshold (5%)")
    ax.set_xlabel("training steps (Adam, batch 512)")
    ax.set_ylabel("fraction of samples > 0.05 from every point")
    ax.set_title(
        "4 points on a line in R²: far fraction against training length (VE, t ∈ [1e-4, 1])"
    )
    ax.legend(fontsize=7)


def _draw_line_evolution(fig, data):
    fig.set_size_inches(10, 4)
    ax1, ax2 = fig.subplots(1, 2)
    colors = {"ESF": "grey", "network": PALETTE["trained"]}
    others = iter([PALETTE["alt"], PALETTE["exact"], "#9467bd"])
    for name in data["tangential_variance"]:
        if name not in colors:
            colors[name] = next(others)
    for name, var in data["tangential_variance"].items():
        ts = np.array([float(k) for k in var])
        ax1.loglog(
            np.sqrt(ts),
            list(var.values()),
            "o-",
            color=colors.get(name, PALETTE["alt"]),
            label=name,
        )
    ax1.set_xlabel("√t (noise std, VE)")
    ax1.set_ylabel("tangential variance (offset to nearest point)")
    ax1.set_title("Sample spread along the line during denoising")
    ax1.legend(fontsize=7)
    pts = np.array(data["points"])
    for name, y in data["ends"].items():
        y = np.array(y)
        ax2.scatter(
            y[:, 0], y[:, 1], s=2, alpha=0.3, color=colors.get(name, PALETTE["alt"]), label=name
        )
    ax2.scatter(
        pts[:, 0], pts[:, 1], color="k", marker="x", s=40, zorder=5, label="training points"
    )
    ax2.set_ylim(-0.1, 0.1)
    ax2.set_xlabel("x₁ (along the line)")
    ax2.set_ylabel("x₂ (normal)")
    ax2.set_title("Samples at t = 1e-4")
    legend_with_visible_markers(ax2, fontsize=7)


# --------------------------------------------------------------------------------------------
# C11, test 14: points on a circle, no weight decay


@claim(
    id="score_smoothing.circle_polygon",
    paper=PAPER,
    kind="trained",
    statement="Trained without weight decay on 8 points of a circle, a network samples along the chords "
    "between neighbouring points (a regular polygon), not along the arcs.",
    source="paper004 §6.2 [N]; note claim C11 and test 14",
)
def circle_polygon(ctx: Context) -> Outcome:
    m = 8
    angles = 2 * np.pi * np.arange(m) / m
    pts = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    model, network, training = _trained_field(pts, ctx, sigma_data=0.7)
    small, small_net, small_training = _trained_field(pts, ctx, sigma_data=0.7, **SMALL)
    n = ctx.profile.pick(quick=2_000, full=10_000)
    n_steps = ctx.profile.pick(quick=200, full=1_000)
    fields = {"network": model.score, "small network (2×64, not judged)": small.score}
    ends = {
        name: _denoise(from_sigma_score(f), pts, n, n_steps, ctx.seed + 11)[0]
        for name, f in fields.items()
    }
    ends["ESF"] = _denoise(esf(pts), pts, n, n_steps, ctx.seed + 11)[0]
    geometry = {name: _chord_geometry(y, m) for name, y in ends.items()}
    net = geometry["network"]
    checks = {
        "samples between neighbours (> 1%)": net["fraction between neighbours"] > 0.01,
        "median distance to chord < to arc": net["median distance to chord"]
        < net["median distance to arc"],
    }
    figure = FigureSpec(
        name="circle_polygon",
        draw=_draw_circle,
        data={"points": pts, "samples": {k: v[:4000] for k, v in ends.items()}},
        config=_pair_config(network, training, small_net, small_training, n),
    )
    quick = ctx.profile.name == "quick"
    return Outcome(
        predicted={
            "between neighbours": "on the chords: chord distance < arc distance (gap 0.076 at the middle)"
        },
        measured={
            **geometry,
            "training": {"network": _cost(model), "small network": _cost(small)},
        },
        tolerance={"between": "> 1% of samples", "chord vs arc": "median chord distance smaller"},
        verdict=verdict_from(checks, inconclusive=quick),
        notes=f"8 points at angles 2πk/8 on the unit circle; EDM MLP 3×256 ReLU, σ_d = 0.7, no weight decay, "
        f"{training.steps} steps, t uniform on [1e-4, 1]; {n} samples of p_1 by Euler in √t ({n_steps} steps) "
        "to t = 1e-4. 'Between' means more than a quarter of the angular gap from both neighbours; distances "
        "are medians over those samples (NaN when there are none). The smaller network (2×64, "
        f"{small_training.steps} steps) is shown for comparison and not judged: see nn_interpolation for how "
        "the far fraction depends on capacity and training length.",
        figures=[figure],
    )


def _chord_geometry(y, m: int) -> dict:
    """Samples between neighbouring points of the regular m-gon, and their distances to chord and arc."""
    r = np.linalg.norm(y, axis=1)
    phase = np.mod(np.arctan2(y[:, 1], y[:, 0]), 2 * np.pi / m)
    between = np.minimum(phase, 2 * np.pi / m - phase) > np.pi / (4 * m)
    chord = np.abs(r * np.cos(phase - np.pi / m) - np.cos(np.pi / m))
    arc = np.abs(r - 1)
    nan = float("nan")
    return {
        "fraction between neighbours": float(between.mean()),
        "median distance to chord": float(np.median(chord[between])) if between.any() else nan,
        "median distance to arc": float(np.median(arc[between])) if between.any() else nan,
    }


def _draw_circle(fig, data):
    samples = {k: v for k, v in data["samples"].items() if k != "ESF"}
    fig.set_size_inches(5 * len(samples), 5)
    pts = np.array(data["points"])
    phi = np.linspace(0, 2 * np.pi, 400)
    poly = np.vstack([pts, pts[:1]])
    for ax, (name, y) in zip(fig.subplots(1, len(samples)), samples.items(), strict=True):
        ax.plot(np.cos(phi), np.sin(phi), color="grey", lw=0.8, label="circle (arcs)")
        ax.plot(
            poly[:, 0],
            poly[:, 1],
            color=PALETTE["theory"],
            lw=0.8,
            ls="--",
            label="polygon (chords)",
        )
        y = np.array(y)
        ax.scatter(
            y[:, 0], y[:, 1], s=2, alpha=0.3, color=PALETTE["trained"], label="samples, t = 1e-4"
        )
        ax.scatter(
            pts[:, 0], pts[:, 1], color="k", marker="x", s=40, zorder=5, label="training points"
        )
        ax.set_aspect("equal")
        ax.set_xlabel("x₁")
        ax.set_ylabel("x₂")
        ax.set_title(f"{name}: 8 points on a circle, no weight decay", fontsize=9)
        legend_with_visible_markers(ax, fontsize=7, loc="center")


# --------------------------------------------------------------------------------------------
# §6.3: a 2-sphere in R^20, by stereographic projection (full only)


def _icosahedron() -> np.ndarray:
    g = (1 + np.sqrt(5)) / 2
    v = []
    for a in (-1, 1):
        for b in (-g, g):
            v += [(0, a, b), (a, b, 0), (b, 0, a)]
    v = np.array(v, float)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@claim(
    id="score_smoothing.sphere",
    paper=PAPER,
    kind="trained",
    statement="On training points of a 2-sphere embedded in R^20, a trained network's samples collapse onto the "
    "sphere's 3-D span and spread between the points instead of returning them.",
    source="paper004 §6.3 [N] (dimensions and sizes [U]); shown by stereographic projection",
)
def sphere(ctx: Context) -> Outcome:
    if ctx.profile.name == "quick":
        return Outcome(
            predicted="samples between the points, on the sphere's span",
            measured="not run at quick",
            tolerance="-",
            verdict="inconclusive",
            notes="Trains a 20-dimensional network; run at full only.",
        )
    d = 20
    rng = np.random.default_rng(ctx.seed)
    basis, _ = np.linalg.qr(rng.standard_normal((d, 3)))
    local = _icosahedron()
    pts = local @ basis.T
    model, network, training = _trained_field(pts, ctx, sigma_data=0.25)
    n = 10_000
    snaps = (T_MAX, 0.1, 0.01, 1e-3, T_MIN)
    y, _ = _denoise(from_sigma_score(model.score), pts, n, 1_000, ctx.seed + 13)
    # the collapse along the way, on 1 000 samples (a full trajectory of 10⁴ points in R^20 is 1.6 GB)
    _, y_snaps = _denoise(
        from_sigma_score(model.score), pts, 1_000, 1_000, ctx.seed + 13, snapshots=snaps
    )
    y_esf, _ = _denoise(esf(pts), pts, n, 1_000, ctx.seed + 13)
    # Every paper004 score has the exact normal part −x⊥/t (C8), so the normal coordinate
    # collapses as √(t/T): started from p_T, |x⊥(t_min)| = √t_min · χ_{d−3} in law.
    normal_exact = float(np.sqrt(T_MIN) * stats.chi.median(d - 3))
    out = {}
    for name, z in (("network", y), ("ESF", y_esf)):
        nearest = np.min(np.linalg.norm(z[:, None, :] - pts[None], axis=2), axis=1)
        out[name] = {
            "far fraction (> 0.1 from every point)": float(np.mean(nearest > 0.1)),
            "median distance to the 3-D span": _span_distance(z, basis),
            "median radius in the span": float(np.median(np.linalg.norm(z @ basis, axis=1))),
        }
    ts = np.array(snaps)
    meds = np.array([_span_distance(y_snaps[f"{t:.3g}"], basis) for t in snaps])
    collapse_slope = float(np.polyfit(np.log(ts), np.log(meds), 1)[0])
    ratio = {k: v["median distance to the 3-D span"] / normal_exact for k, v in out.items()}
    checks = {
        "ESF memorises (far < 1%)": out["ESF"]["far fraction (> 0.1 from every point)"] < 0.01,
        "network interpolates (far > 5%)": out["network"]["far fraction (> 0.1 from every point)"]
        > 0.05,
        "ESF span distance = exact collapse ± 5%": abs(ratio["ESF"] - 1) < 0.05,
        "network span distance ≤ 3 × exact collapse": ratio["network"] <= SPAN_ALLOWANCE,
    }
    inside = y @ basis
    figure = FigureSpec(
        name="sphere_stereographic",
        draw=_draw_sphere,
        data={"points": local, "samples": inside[:5000]},
        config={
            "network": network.to_dict(),
            "training": training.to_dict(),
            "d": d,
            "n_points": 12,
        },
    )
    return Outcome(
        predicted={
            "network": "far fraction > 5%, on the span",
            "ESF": "far fraction < 1%",
            "median distance to the span at t_min": normal_exact,
            "normal collapse slope d log|x⊥| / d log t": 0.5,
        },
        measured={
            **out,
            "span distance / exact collapse": ratio,
            "network normal collapse slope (t ∈ [1e-4, 1], not judged)": collapse_slope,
            "training": _cost(model),
        },
        tolerance={
            "far fraction": "network > 0.05, ESF < 0.01",
            "span distance": f"ESF within 5% of √t_min·median χ_{d - 3}; network ≤ {SPAN_ALLOWANCE:g}× it",
        },
        verdict=verdict_from(checks),
        notes="12 icosahedron vertices on the unit 2-sphere in a seeded random 3-D subspace of R^20 (the note "
        "does not know the paper's sphere, points or sizes [U]); EDM MLP 3×256 ReLU, σ_d = 0.25, "
        f"{training.steps} steps, t uniform on [1e-4, 1]; {n} samples by Euler in √t (1 000 steps) to t = 1e-4. "
        "The span criterion is test 13's, carried to R^20: test 13 allows a median |normal| of 0.02 where the "
        "exact flow ends at √t_min·median|N(0,1)| = 0.0067 (3×); here there are 17 normal coordinates and the "
        f"exact flow ends at √t_min·median χ_17 = {normal_exact:.4f}, so the allowance is 3× that. The first "
        "full run (revision 08556df) applied test 13's literal 0.02, which even the exact ESF cannot meet in "
        "R^20 (0.040); this correction was made after that run and is stated here for that reason.",
        figures=[figure],
    )


def _span_distance(z, basis) -> float:
    """Median distance of the rows of ``z`` to the span of the orthonormal columns of ``basis``."""
    return float(np.median(np.linalg.norm(z - (z @ basis) @ basis.T, axis=1)))


def _draw_sphere(fig, data):
    ax = fig.add_subplot(111)
    fig.set_size_inches(5.5, 5)

    def project(v):
        u = v / np.linalg.norm(v, axis=1, keepdims=True)
        return u[:, :2] / (1 - np.clip(u[:, 2:3], None, 1 - 1e-9))

    z = np.array(data["samples"])
    radius = np.linalg.norm(z, axis=1)
    p = project(z)
    sc = ax.scatter(p[:, 0], p[:, 1], s=2, c=radius, cmap="viridis", vmin=0.6, vmax=1.0)
    q = project(np.array(data["points"]))
    ax.scatter(q[:, 0], q[:, 1], color="k", marker="x", s=40, zorder=5, label="training points")
    fig.colorbar(sc, ax=ax, label="radius in the sphere's span (chords < 1)")
    ax.set_xlim(-4, 4)
    ax.set_ylim(-4, 4)
    ax.set_aspect("equal")
    ax.set_xlabel("stereographic u₁")
    ax.set_ylabel("stereographic u₂")
    ax.set_title("2-sphere in R²⁰: network samples at t = 1e-4")
    ax.legend(fontsize=7)
