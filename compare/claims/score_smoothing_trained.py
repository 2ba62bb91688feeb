"""Trained-network claims of Chen, *On the interpolation effect of score smoothing* (paper key
``score_smoothing``; research note paper004): C10, C11, tests 13–14 and the sphere of §6.3.

Convention: VE with noise **variance** t.

**The paper's recipes** (C10 and C11; the official notebook, shared/research/external_facts.md).
The networks are :class:`empirical.models.TimeConditionedScore` (a one-hidden-layer ReLU MLP on
[x, embedding of log t], output √t·score), trained by regression onto the exact empirical score
(``objective="score_regression"``) with t drawn by the notebook's cube law and a constant
learning rate. Samplers start from the exact noised law p_{t0} of the training set and follow the
PF-ODE ẋ = −½ s_t(x) by the notebook's Euler scheme on the grid σ_i = (linspace(σ_max^{1/2},
σ_min^{1/2}))², the score taken at t̄ = ((σ_i + σ_{i+1})/2)², down to t = σ_min² = 1e-5.

**The project's first recipes** (EDM MLP, denoising score matching, t uniform on [1e-4, 1],
Euler uniform in √t from p_1) are kept as robustness rows at full (reported, not judged): how much
a network smooths depends on its capacity and training, and the rows show it.

At ``quick`` every network is trained too briefly to judge: the verdict is ``inconclusive``.
Under the negative control the checks are judged with the full thresholds at every profile.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from compare.claim import Check, Context, FigureSpec, Outcome, Training, check
from compare.claims._common import unjudged_at_quick
from compare.claims.score_smoothing import esf, spl
from compare.registry import claim
from compare.style import PALETTE, legend_with_visible_markers
from empirical.flow import from_sigma_score, integrate_euler
from empirical.models import NetworkConfig
from empirical.training import TrainingConfig, train
from theory import smoothing as sm
from theory.distributions import FiniteSet

PAPER = "score_smoothing"

#: κ of §6.1. The notebook writes δ_t = √(κ_nb·t), the paper and note δ_t = κ√t: κ = √κ_nb.
KAPPA_NB = 1.44
KAPPA = math.sqrt(KAPPA_NB)
if not math.isclose(KAPPA, 1.2, rel_tol=1e-12):  # the paper's value (external_facts.md)
    raise AssertionError(f"κ_paper = √κ_nb must be 1.2 (got {KAPPA})")

#: The notebook samplers' end time σ_min² (σ_min = √1e-5).
T_END = 1e-5

#: A sample is "far" (between the points) when its tangential distance to every training point
#: exceeds FAR_STDS noise standard deviations √t_end of the end time. The exact flow carries
#: p_{t0} to p_{t_end} = (1/n) Σ N(y_k, t_end I), whose tangential offsets exceed 10√t_end with
#: probability 2Φ̄(10) = 1.5e-23 (d = 2) or P(χ_3 > 10) < 1e-20 (sphere): a far sample is not
#: residual noise of a memorising flow. (Test 13 used 0.05 at t_end = 1e-4, i.e. 5√t_end.)
FAR_STDS = 10.0

#: The memorising ESF may leave at most this fraction of its samples far: the exact flow leaves
#: none (above); the allowance covers the Euler discretisation, and is under a tenth of the
#: S-PL-ESF's predicted far fraction (≈ 0.15 for §6.1), so the two stay separated. The same
#: allowance bounds the S-PL-ESF's Euler far fraction against its exact flow map (same starts).
ESF_FAR_MAX = 0.01

#: Normal collapse allowance relative to the ESF flown on the same grid: test 13's median |normal|
#: < 0.02 where the exact flow ends at √t_min·median|N(0,1)| = 0.0067 (3×).
SPAN_ALLOWANCE = 3.0

#: The circle's sign test: between samples closer to the chord than to the arc, one-sided binomial
#: test against 1/2 at this level (it needs at least 7 between samples to pass at all).
SIGN_TEST_P = 0.01


def far_offset(t_end: float) -> float:
    """The "far" distance of a sampler that ends at t_end: FAR_STDS·√t_end."""
    return FAR_STDS * math.sqrt(t_end)


def _noised(points, t, n, seed) -> np.ndarray:
    """n seeded draws from p_t^{(n)} = (1/n) Σ_k N(y_k, t I)."""
    rng = np.random.default_rng(seed)
    return points[rng.integers(0, points.shape[0], n)] + np.sqrt(t) * rng.standard_normal(
        (n, points.shape[1])
    )


def _nb_times(t_start: float, t_end: float, n_steps: int) -> np.ndarray:
    """The notebook's grid σ_i = linspace(σ_max^{1/2}, σ_min^{1/2})², as variances t_i = σ_i²."""
    sig = np.linspace(t_start**0.25, t_end**0.25, n_steps + 1) ** 2
    return sig**2


def _nb_flow(score, x, t_start, t_end, n_steps, *, statistic=None):
    r"""The notebook's Euler sampler from t_start down to t_end; optional ``statistic(x)`` per grid time.

    :math:`x \leftarrow x + s(x, \bar t)\,(\sigma_i - \sigma_{i+1})(\sigma_i + \sigma_{i+1})/2`,
    :math:`\bar t = ((\sigma_i + \sigma_{i+1})/2)^2`: Euler for ẋ = −½ s_t in t, the score at the
    middle of each step in σ. Returns the end states, the grid times and the statistics.
    """
    times = _nb_times(t_start, t_end, n_steps)
    sig = np.sqrt(times)
    x = np.array(x, dtype=float)
    stat = [statistic(x)] if statistic else []
    for i in range(n_steps):
        t_bar = float(((sig[i] + sig[i + 1]) / 2) ** 2)
        x = x + 0.5 * (times[i] - times[i + 1]) * score(x, t_bar)
        if statistic:
            stat.append(statistic(x))
    return x, times, stat


def _nb_normal_factor(t_start, t_end, n_steps) -> float:
    """The factor by which the notebook's Euler grid shrinks a normal coordinate under −x⊥/t."""
    times = _nb_times(t_start, t_end, n_steps)
    sig = np.sqrt(times)
    t_bar = ((sig[:-1] + sig[1:]) / 2) ** 2
    return float(np.prod(1 - 0.5 * (times[:-1] - times[1:]) / t_bar))


def _nb_recipe(ctx: Context, *, width, weight_decay, lr, batch, t_min, t_max, full_steps):
    """The notebook's time-conditioned network and regression training (constant lr, cube law in t)."""
    steps = ctx.profile.pick(quick=NB_QUICK_STEPS, full=full_steps)
    network = NetworkConfig(kind="time_conditioned", width=width, depth=1, activation="relu")
    training = TrainingConfig(
        steps=steps,
        batch_size=batch,
        learning_rate=lr,
        warmup_steps=0,
        schedule="constant",
        sigma_min=math.sqrt(t_min),
        sigma_max=math.sqrt(t_max),
        chunk_steps=min(1_000, steps),
        noise_sampling="cube_t",
        objective="score_regression",
        weight_decay=weight_decay,
    )
    return network, training


def _nb_training(label: str, points, ctx: Context, **recipe) -> Training:
    """The notebook-recipe network on ``points``, declared for the runner (``Claim.trains``)."""
    network, training = _nb_recipe(ctx, **recipe)
    return Training(
        label,
        training.steps,
        train,
        (FiniteSet(points), network, training),
        {"seed": ctx.seed, "progress": False},
    )


#: Training steps of every notebook-recipe network at quick (compilation dominates there).
NB_QUICK_STEPS = 200


def _cost(model) -> str:
    return f"{model.meta.get('seconds', float('nan')):.0f} s ({model.meta.get('cache', '?')})"


# --------------------------------------------------------------------------------------------
# The project's first recipe (robustness rows): EDM MLP, DSM, t uniform on [1e-4, 1], from p_1

T_MAX, T_MIN = 1.0, 1e-4

#: The smaller comparison network of the first recipe.
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
        chunk_steps=min(1_000, steps),  # 1 000 (the default) for every full-profile recipe
        noise_sampling="uniform_t",
    )
    return network, training


def _denoise(score, points, n, n_steps, seed):
    """Samples of p_T (exact noised training set), flowed to T_MIN by Euler uniform in √t."""
    x = _noised(points, T_MAX, n, seed)
    return integrate_euler(score, x, T_MAX, T_MIN, n_steps)


#: Points per network call in the flows: the hidden activations of 2 048 points stay in cache
#: (16 384 ran about half as fast on 2 cores, measured on the §6.1 network).
FLOW_CHUNK = 2_048


def _trained_field(points, ctx: Context, sigma_data: float, **recipe):
    network, training = _recipe(ctx, sigma_data, **recipe)
    model = train(FiniteSet(points), network, training, seed=ctx.seed, progress=ctx.progress)
    model.chunk = FLOW_CHUNK
    return model, network, training


# --------------------------------------------------------------------------------------------
# C10, test 13: d = 2, n = 4 points on a line (§6.1)

#: §6.1: y_k = ({−1, −1/3, 1/3, 1}, 0), half-gap Δ = 1/3.
LINE = np.stack([np.linspace(-1, 1, 4), np.zeros(4)], axis=1)
#: §6.1 recipe: start of sampling t0, training t range, network and optimiser.
LINE_T0 = 0.02
LINE_RECIPE = {
    "width": 1024,
    "weight_decay": 2.0,
    "lr": 5e-5,
    "batch": 1024,
    "t_min": 1e-6,
    "t_max": LINE_T0,
    "full_steps": 150_000,  # the notebook's 150 001, rounded to whole chunks of 1 000
}
LINE_SAMPLES = {"quick": 2_000, "full": 20_000}
LINE_EULER = 50


def _offsets(y, line_points):
    """Tangential offset to the nearest training point and normal coordinate (points on the x-axis)."""
    tau = line_points[:, 0]
    off = y[:, 0][:, None] - tau[None, :]
    return off[np.arange(y.shape[0]), np.argmin(np.abs(off), axis=1)], y[:, 1]


def _far_fraction(y, line_points, t_end) -> float:
    """Fraction of samples farther than :func:`far_offset` (tangentially) from every training point."""
    return float(np.mean(np.abs(_offsets(y, line_points)[0]) > far_offset(t_end)))


@claim(
    id="score_smoothing.nn_interpolation",
    paper=PAPER,
    kind="trained",
    statement="A time-conditioned network trained on 4 points on a line in R² samples between the points "
    "like the S-PL-ESF (its tangential law is closer to the S-PL-ESF's than to the exact ESF's, which "
    "memorises) while collapsing the normal direction.",
    source="paper004 §6.1 [N]; recipe from the official notebook (external_facts.md); note claim C10 "
    "and test 13 (thresholds re-derived here)",
    control="the network's field replaced by the exact empirical score, i.e. a network that has "
    "memorised the training set and returns the training points",
    trains=lambda ctx: [_nb_training("score_smoothing.nn_interpolation", LINE, ctx, **LINE_RECIPE)],
    figures=("line_d2_n4_evolution", "interpolation_vs_training"),
)
def nn_interpolation(ctx: Context) -> Outcome:
    pts, t0 = LINE, LINE_T0
    network, training = _nb_recipe(ctx, **LINE_RECIPE)
    model = train(FiniteSet(pts), network, training, seed=ctx.seed, progress=ctx.progress)
    model.chunk = FLOW_CHUNK
    n = ctx.profile.pick(**LINE_SAMPLES)
    fields = {
        "ESF": esf(pts),
        "S-PL-ESF": spl(KAPPA, pts),
        "network": from_sigma_score(model.score),
    }
    if ctx.control:  # the planted fault: the "network" is the memorising exact score
        fields["network"] = esf(pts)
    x0 = _noised(pts, t0, n, ctx.seed + 7)

    def tangential_variance(x):
        return float(np.var(_offsets(x, pts)[0]))

    ends, variance = {}, {}
    for name, score in fields.items():
        ends[name], times, variance[name] = _nb_flow(
            score, x0, t0, T_END, LINE_EULER, statistic=tangential_variance
        )
    analytic = sm.flow_map(x0, t0, T_END, KAPPA, pts)  # the S-PL-ESF's exact flow, same starts
    far = {name: _far_fraction(y, pts, T_END) for name, y in ends.items()}
    far["S-PL-ESF (exact flow map)"] = _far_fraction(analytic, pts, T_END)
    normal = {name: float(np.median(np.abs(_offsets(y, pts)[1]))) for name, y in ends.items()}
    w1 = {
        ref: float(stats.wasserstein_distance(ends["network"][:, 0], ends[ref][:, 0]))
        for ref in ("S-PL-ESF", "ESF")
    }
    middle = 0.5 * (far["ESF"] + far["S-PL-ESF"])
    checks = [
        check("ESF: far fraction (memorises)", far["ESF"], "<=", ESF_FAR_MAX),
        check(
            "S-PL-ESF: |far fraction − the exact flow map's|",
            abs(far["S-PL-ESF"] - far["S-PL-ESF (exact flow map)"]),
            "<=",
            ESF_FAR_MAX,
        ),
        check(
            "network: far fraction above the ESF/S-PL-ESF midpoint (closer to the S-PL-ESF)",
            far["network"],
            ">",
            middle,
        ),
        Check(
            name="network: tangential law closer to the S-PL-ESF's than to the ESF's (W1)",
            value={"W1 to S-PL-ESF": w1["S-PL-ESF"], "W1 to ESF": w1["ESF"]},
            threshold="W1 to S-PL-ESF < W1 to ESF",
            held=bool(w1["S-PL-ESF"] < w1["ESF"]),
        ),
        check(
            "network: median |normal| ≤ 3 × the ESF's",
            normal["network"],
            "<=",
            SPAN_ALLOWANCE * normal["ESF"],
        ),
    ]
    picks = [0, int(np.argmin(np.abs(times - t0 / 4))), len(times) - 1]
    snapshots = {f"{times[i]:.3g}": {k: v[i] for k, v in variance.items()} for i in picks}
    rows, sweep = ({}, {}) if ctx.profile.name == "quick" or ctx.control else _line_rows(ctx)
    figures = [
        FigureSpec(
            name="line_d2_n4_evolution",
            draw=_draw_line_evolution,
            data={
                "points": pts,
                "times": times,
                "tangential_variance": variance,
                "ends": {k: v[:5000, 0] for k, v in ends.items()},
                "analytic": analytic[:5000, 0],
                "far_offset": far_offset(T_END),
            },
            config={
                "network": network.to_dict(),
                "training": training.to_dict(),
                "samples": n,
                "t0": t0,
                "t_end": T_END,
                "euler_steps": LINE_EULER,
                "kappa": KAPPA,
            },
        )
    ]
    if sweep:
        figures.append(
            FigureSpec(
                name="interpolation_vs_training",
                draw=_draw_sweep,
                data={"sweep": sweep, "threshold": far_offset(T_MIN)},
                config={"samples": SWEEP_SAMPLES, "sigma_data": 0.75, "t": [T_MIN, T_MAX]},
            )
        )
    exact_normal = math.sqrt(t0) * stats.norm.ppf(0.75)
    return Outcome(
        predicted={
            "far fraction": f"network closer to the S-PL-ESF (κ = {KAPPA:g}) than to the ESF (≤ "
            f"{ESF_FAR_MAX:g})",
            "tangential law": "W1 to the S-PL-ESF's < W1 to the ESF's",
            "median |normal|": f"≤ {SPAN_ALLOWANCE:g} × the ESF's on the same grid",
            "median |normal|, exact flow / this Euler grid": [
                exact_normal * math.sqrt(T_END / t0),
                exact_normal * _nb_normal_factor(t0, T_END, LINE_EULER),
            ],
        },
        measured={
            f"far fraction (|tangential offset| > {far_offset(T_END):.4g})": far,
            "W1 of the network's tangential coordinate to": w1,
            "median |normal coordinate|": normal,
            "tangential variance at t0, t0/4, end": snapshots,
            "training": _cost(model),
            "first recipe, far fraction at t = 1e-4 (|offset| > 0.1; not judged)": rows,
            "first recipe, far fraction against training steps (not judged)": sweep,
        },
        tolerance={
            "ESF far fraction": f"≤ {ESF_FAR_MAX:g}",
            "S-PL-ESF far fraction, Euler vs exact flow map": f"within {ESF_FAR_MAX:g}",
            "network far fraction": "> (ESF + S-PL-ESF)/2",
            "median |normal|": f"≤ {SPAN_ALLOWANCE:g} × ESF",
        },
        checks=checks,
        inconclusive=unjudged_at_quick(ctx, f"time-conditioned net ({training.steps} steps)"),
        notes=f"§6.1 on the notebook's recipe: y_k = ({{−1, −1/3, 1/3, 1}}, 0); time-conditioned ReLU net "
        f"(width {LINE_RECIPE['width']}, one hidden layer, embedding of log t), regression onto √t·ESF, "
        f"AdamW lr {LINE_RECIPE['lr']:g} constant, weight decay {LINE_RECIPE['weight_decay']:g} on the main "
        f"net, batch {LINE_RECIPE['batch']}, {training.steps} steps (the notebook's 150 001 rounded to "
        f"whole chunks), t ∈ [1e-6, {t0:g}] by the cube law; {n} samples of the exact p_{{t0}}, t0 = {t0:g}, "
        f"flowed by the notebook's Euler ({LINE_EULER} steps on σ_i = linspace(σ_max^½, σ_min^½)²) to "
        f"t = {T_END:g} under the ESF, the S-PL-ESF (κ = √κ_nb = √{KAPPA_NB:g} = {KAPPA:g}) and the network. "
        f"'Far' = more than {FAR_STDS:g}√t_end = {far_offset(T_END):.4f} from every point along the line "
        "(the exact flow ends at p_{t_end}: none so far). The S-PL-ESF row is checked against its exact "
        "flow map from the same starts (theory.smoothing.flow_map), so the reference is the paper's. The network must be closer to the S-PL-ESF than to "
        "the ESF in far fraction (above the midpoint of the two) and in the W1 distance of the tangential "
        "coordinate (the paper's 'closer to the S-PL-ESF than to the ESF'); test 13's fixed 5% is replaced "
        "by that midpoint. The first recipe (EDM MLP 3×256 and 2×64 ReLU, DSM, t uniform on [1e-4, 1], "
        "20k/10k steps, from p_1 by Euler in √t to t = 1e-4, 'far' = 10√1e-4 = 0.1) and its training-length "
        "sweep are robustness rows, computed at full only and not judged.",
        figures=figures,
    )


#: The first recipe's sweep: training steps per architecture, and samples flowed per network.
SWEEP_STEPS = (2_000, 5_000, 10_000, 20_000)
#: A far fraction's s.e. is at most 0.022 at 500 samples; the sweep shows a trend, it is not judged.
SWEEP_SAMPLES = 500
#: Samples and Euler steps (uniform in √t, from p_1 to t = 1e-4) of the first recipe's rows. Not
#: judged: a far fraction's s.e. is at most 0.016 at 1 000 samples; 250 steps move the rows' far
#: fractions by at most 0.003 against 1 000 steps (measured on the cached full models).
ROW_SAMPLES = 1_000
ROW_EULER = 250


def _line_rows(ctx: Context):
    """The first recipe's far fractions (3×256, 2×64, ESF) and its training-length sweep (full only)."""
    pts = LINE
    main, _, _ = _trained_field(pts, ctx, sigma_data=0.75)
    small, _, _ = _trained_field(pts, ctx, sigma_data=0.75, **SMALL)
    rows = {}
    for name, score in (
        ("ESF", esf(pts)),
        ("3×256", from_sigma_score(main.score)),
        ("2×64", from_sigma_score(small.score)),
    ):
        y = _denoise(score, pts, ROW_SAMPLES, ROW_EULER, ctx.seed + 7)
        rows[name] = _far_fraction(y, pts, T_MIN)
    rows["training"] = {"3×256": _cost(main), "2×64": _cost(small)}
    sweep = {}
    for label, arch in (("3×256", {"width": 256, "depth": 3}), ("2×64", SMALL)):
        shape = {"width": arch["width"], "depth": arch["depth"]}
        sweep[label] = {}
        for steps in SWEEP_STEPS:
            model, _, _ = _trained_field(pts, ctx, sigma_data=0.75, steps=steps, **shape)
            y = _denoise(from_sigma_score(model.score), pts, SWEEP_SAMPLES, ROW_EULER, ctx.seed + 7)
            sweep[label][str(steps)] = _far_fraction(y, pts, T_MIN)
    return rows, sweep


def _draw_sweep(fig, data):
    ax = fig.add_subplot(111)
    colors = iter([PALETTE["trained"], PALETTE["alt"]])
    for label, rows in data["sweep"].items():
        steps = [int(k) for k in rows]
        ax.semilogx(steps, list(rows.values()), "o-", color=next(colors), label=f"network {label}")
    ax.set_xlabel("training steps (Adam, batch 512)")
    ax.set_ylabel(f"fraction of samples > {data['threshold']:.2g} from every point")
    ax.set_title("First recipe (EDM MLP, DSM, t ∈ [1e-4, 1]): far fraction against training length")
    ax.legend(fontsize=7)


def _draw_line_evolution(fig, data):
    fig.set_size_inches(10, 4)
    ax1, ax2 = fig.subplots(1, 2)
    colors = {"ESF": "grey", "S-PL-ESF": PALETTE["exact"], "network": PALETTE["trained"]}
    ts = np.asarray(data["times"])
    for name, var in data["tangential_variance"].items():
        ax1.loglog(np.sqrt(ts), var, "-", color=colors.get(name, PALETTE["alt"]), label=name)
    ax1.set_xlabel("√t (noise std, VE)")
    ax1.set_ylabel("tangential variance (offset to nearest point)")
    ax1.set_title("Sample spread along the line during denoising", fontsize=9)
    ax1.legend(fontsize=7)
    bins = np.linspace(-1.2, 1.2, 241)
    ax2.hist(
        data["analytic"],
        bins=bins,
        color=PALETTE["exact"],
        alpha=0.3,
        label="S-PL-ESF, exact flow map",
    )
    for name, x in data["ends"].items():
        ax2.hist(
            x,
            bins=bins,
            histtype="step",
            color=colors.get(name, PALETTE["alt"]),
            label=name,
        )
    for y in np.asarray(data["points"])[:, 0]:
        ax2.axvline(y, color="k", lw=0.5, ls=":")
    ax2.set_yscale("log")
    ax2.set_xlabel("x₁ (along the line)")
    ax2.set_ylabel("samples per bin")
    ax2.set_title(f"Tangential law at the end (far = > {data['far_offset']:.3f})", fontsize=9)
    ax2.legend(fontsize=7)


# --------------------------------------------------------------------------------------------
# C11, test 14: points on a circle, no weight decay (§6.2)

#: §6.2 recipe: (n, training steps) pairs, and the shared settings.
CIRCLE_STEPS = {4: 5_000, 8: 20_000, 16: 80_000}
CIRCLE_T0 = 0.08
CIRCLE_RECIPE = {"width": 512, "weight_decay": 0.0, "lr": 1e-4, "batch": 64, "t_min": 1e-5}
CIRCLE_SAMPLES = 600
#: At quick only n = 8 runs (each n compiles its own training step, which dominates there).
CIRCLE_QUICK = (8,)
CIRCLE_EULER = 100


def _circle(m: int) -> np.ndarray:
    angles = 2 * np.pi * np.arange(m) / m
    return np.stack([np.cos(angles), np.sin(angles)], axis=1)


def _onto_arcs(score):
    """The planted fault of C11: the score's radial part replaced by the unit circle's normal score
    −(|x| − 1)/t, so that the flow lands on the arcs whatever the tangential part does."""

    def faulty(x, t):
        s = score(x, t)
        r = np.linalg.norm(x, axis=1, keepdims=True)
        u = x / np.maximum(r, 1e-12)
        return s - np.sum(s * u, axis=1, keepdims=True) * u - (r - 1) / t * u

    return faulty


@claim(
    id="score_smoothing.circle_polygon",
    paper=PAPER,
    kind="trained",
    statement="Trained without weight decay on n ∈ {4, 8, 16} points of a circle, a network samples along "
    "the chords between neighbouring points (a regular polygon), not along the arcs.",
    source="paper004 §6.2 [N]; recipe from the official notebook (external_facts.md); note claim C11 "
    "and test 14",
    control="the radial part of the network's score replaced by the unit circle's normal score "
    "−(|x| − 1)/t, a field whose samples interpolate along the arcs",
    trains=lambda ctx: [
        _nb_training(
            f"score_smoothing.circle_polygon n = {m}",
            _circle(m),
            ctx,
            **CIRCLE_RECIPE,
            t_max=CIRCLE_T0,
            full_steps=CIRCLE_STEPS[m],
        )
        for m in ctx.profile.pick(quick=CIRCLE_QUICK, full=tuple(CIRCLE_STEPS))
    ],
    figures=("circle_polygon",),
)
def circle_polygon(ctx: Context) -> Outcome:
    checks, geometry, samples, configs, costs = [], {}, {}, {}, {}
    for m in ctx.profile.pick(quick=CIRCLE_QUICK, full=tuple(CIRCLE_STEPS)):
        full_steps = CIRCLE_STEPS[m]
        pts = _circle(m)
        network, training = _nb_recipe(ctx, **CIRCLE_RECIPE, t_max=CIRCLE_T0, full_steps=full_steps)
        model = train(FiniteSet(pts), network, training, seed=ctx.seed, progress=ctx.progress)
        field = from_sigma_score(model.score)
        if ctx.control:  # the planted fault: the flow is forced onto the arcs
            field = _onto_arcs(field)
        x0 = _noised(pts, CIRCLE_T0, CIRCLE_SAMPLES, ctx.seed + 11)
        y, _, _ = _nb_flow(field, x0, CIRCLE_T0, T_END, CIRCLE_EULER)
        y_esf, _, _ = _nb_flow(esf(pts), x0, CIRCLE_T0, T_END, CIRCLE_EULER)
        geo = _chord_geometry(y, m)
        geometry[f"n = {m}"] = {"network": geo, "ESF": _chord_geometry(y_esf, m)}
        samples[str(m)] = y
        configs[str(m)] = {"network": network.to_dict(), "training": training.to_dict()}
        costs[f"n = {m}"] = _cost(model)
        checks.append(
            Check(
                name=f"n = {m}: between samples closer to the chord (sign test)",
                value={
                    "between": geo["between"],
                    "closer to the chord": geo["closer to the chord"],
                    "p": geo["sign test p"],
                },
                threshold=f"one-sided binomial p < {SIGN_TEST_P:g} against 1/2",
                held=bool(geo["sign test p"] < SIGN_TEST_P),
            )
        )
        chord, arc = geo["median distance to chord"], geo["median distance to arc"]
        checks.append(
            Check(
                name=f"n = {m}: median distance to chord < to arc",
                value={"chord": chord, "arc": arc},
                threshold="chord < arc (NaN without between samples fails)",
                held=bool(chord < arc),  # False for NaN
            )
        )
    rows = {} if ctx.profile.name == "quick" or ctx.control else _circle_rows(ctx)
    figure = FigureSpec(
        name="circle_polygon",
        draw=_draw_circle,
        data={"samples": samples},
        config={
            "recipes": configs,
            "samples": CIRCLE_SAMPLES,
            "t0": CIRCLE_T0,
            "t_end": T_END,
            "euler_steps": CIRCLE_EULER,
        },
    )
    steps = ", ".join(f"n = {m}: {c['training']['steps']}" for m, c in configs.items())
    return Outcome(
        predicted={
            "between samples": "on the chords: closer to the chord than to the arc",
            "chord-arc gap at the middle, 1 − cos(π/n)": {
                f"n = {m}": 1 - math.cos(math.pi / int(m)) for m in configs
            },
        },
        measured={
            **geometry,
            "training": costs,
            "first recipe, n = 8 (not judged)": rows,
        },
        tolerance={
            "sign test": f"p < {SIGN_TEST_P:g}",
            "chord vs arc": "median chord distance smaller",
        },
        checks=checks,
        inconclusive=unjudged_at_quick(ctx, f"time-conditioned nets ({steps} steps)"),
        notes="§6.2 on the notebook's recipe: n points at angles 2πk/n of the unit circle; time-conditioned "
        f"ReLU net (width {CIRCLE_RECIPE['width']}), regression onto √t·ESF, Adam lr {CIRCLE_RECIPE['lr']:g} "
        f"constant, no weight decay, batch {CIRCLE_RECIPE['batch']}, steps {steps}, t ∈ [1e-5, "
        f"{CIRCLE_T0:g}] by the cube law; {CIRCLE_SAMPLES} samples of p_{CIRCLE_T0:g} flowed by the "
        f"notebook's Euler ({CIRCLE_EULER} steps) to t = {T_END:g}. A sample is 'between' neighbours when "
        "its angle is more than a quarter of the half-gap, π/(4n), from the nearest point: there the chord "
        "lies at least 1 − cos(π/n)/cos(3π/(4n)) inside the arc (0.0085 for n = 16, 0.035 for n = 8, 0.15 "
        "for n = 4), ≥ 2.7√t_end, so the residual normal scatter of the flow (median 0.67√t_end = 0.0021) "
        "cannot mix up chord and arc. Test 14's median comparison is kept; its '> 1% between' is replaced "
        f"by a sign test (p < {SIGN_TEST_P:g}), which needs at least 7 between samples and most of them on "
        "the chord side. The first recipe (EDM MLP 3×256 and 2×64 ReLU, DSM, n = 8) is a robustness row, "
        "full only, not judged.",
        figures=[figure],
    )


def _circle_rows(ctx: Context) -> dict:
    """The first recipe's chord geometry at n = 8 (3×256 and 2×64; full only, not judged)."""
    pts = _circle(8)
    out = {}
    for label, recipe in (("3×256", {}), ("2×64", SMALL)):
        model, _, _ = _trained_field(pts, ctx, sigma_data=0.7, **recipe)
        y = _denoise(from_sigma_score(model.score), pts, ROW_SAMPLES, ROW_EULER, ctx.seed + 11)
        out[label] = {**_chord_geometry(y, 8), "training": _cost(model)}
    return out


def _chord_geometry(y, m: int) -> dict:
    """Samples between neighbouring points of the regular m-gon, their distances to chord and arc,
    and the one-sided sign test of "closer to the chord" against 1/2."""
    r = np.linalg.norm(y, axis=1)
    phase = np.mod(np.arctan2(y[:, 1], y[:, 0]), 2 * np.pi / m)
    between = np.minimum(phase, 2 * np.pi / m - phase) > np.pi / (4 * m)
    chord = np.abs(r * np.cos(phase - np.pi / m) - np.cos(np.pi / m))
    arc = np.abs(r - 1)
    n_between = int(between.sum())
    closer = int(np.sum(chord[between] < arc[between]))
    p = (
        float(stats.binomtest(closer, n_between, 0.5, alternative="greater").pvalue)
        if n_between
        else 1.0
    )
    nan = float("nan")
    return {
        "fraction between neighbours": float(between.mean()),
        "between": n_between,
        "closer to the chord": closer,
        "sign test p": p,
        "median distance to chord": float(np.median(chord[between])) if n_between else nan,
        "median distance to arc": float(np.median(arc[between])) if n_between else nan,
    }


def _draw_circle(fig, data):
    samples = data["samples"]
    fig.set_size_inches(5 * len(samples), 5)
    phi = np.linspace(0, 2 * np.pi, 400)
    axes = np.atleast_1d(fig.subplots(1, len(samples)))
    for ax, (m, y) in zip(axes, samples.items(), strict=True):
        pts = _circle(int(m))
        poly = np.vstack([pts, pts[:1]])
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
            y[:, 0], y[:, 1], s=3, alpha=0.5, color=PALETTE["trained"], label="samples, t = 1e-5"
        )
        ax.scatter(
            pts[:, 0], pts[:, 1], color="k", marker="x", s=40, zorder=5, label="training points"
        )
        ax.set_aspect("equal")
        ax.set_xlabel("x₁")
        ax.set_ylabel("x₂")
        ax.set_title(f"{m} points on a circle, no weight decay", fontsize=9)
        legend_with_visible_markers(ax, fontsize=7, loc="center")


# --------------------------------------------------------------------------------------------
# §6.3: a 2-sphere in R^20, by stereographic projection (the first recipe; not in the notebook)


def _icosahedron() -> np.ndarray:
    g = (1 + np.sqrt(5)) / 2
    v = []
    for a in (-1, 1):
        for b in (-g, g):
            v += [(0, a, b), (a, b, 0), (b, 0, a)]
    v = np.array(v, float)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


#: Sphere sizes per profile: training steps, samples, Euler steps.
SPHERE = {
    "quick": {"steps": 200, "samples": 1_000, "euler": 200},
    # 2 000 samples: the median span distance has relative s.e. ≈ 0.005, a tenth of its 5% tolerance.
    # 250 Euler steps: against 1 000 on the same starts they move the network's far fraction by
    # 0.0005 and its span ratio by 0.05 (allowance 3), the ESF's by < 1e-6 (measured, seed 0)
    "full": {"steps": 20_000, "samples": 2_000, "euler": 250},
}


@claim(
    id="score_smoothing.sphere",
    paper=PAPER,
    kind="trained",
    statement="On training points of a 2-sphere embedded in R^20, a trained network's samples collapse onto the "
    "sphere's 3-D span and spread between the points instead of returning them.",
    source="paper004 §6.3 [N] (dimensions and sizes [U]); shown by stereographic projection",
    control="the network's field replaced by the exact empirical score, i.e. a network that has "
    "memorised the training set and returns the training points",
    figures=("sphere_stereographic",),
)
def sphere(ctx: Context) -> Outcome:
    size = ctx.profile.pick(**SPHERE)
    d = 20
    rng = np.random.default_rng(ctx.seed)
    basis, _ = np.linalg.qr(rng.standard_normal((d, 3)))
    local = _icosahedron()
    pts = local @ basis.T
    model, network, training = _trained_field(pts, ctx, sigma_data=0.25, steps=size["steps"])
    field = from_sigma_score(model.score)
    if ctx.control:  # the planted fault: the "network" is the memorising exact score
        field = esf(pts)
    n, n_steps = size["samples"], size["euler"]
    snaps = (T_MAX, 0.1, 0.01, 1e-3, T_MIN)
    y = _denoise(field, pts, n, n_steps, ctx.seed + 13)
    # the collapse along the way, on 500 samples (a trajectory of 500 points in R^20 is 80 MB)
    x_start = _noised(pts, T_MAX, 500, ctx.seed + 13)
    _, traj, taus = integrate_euler(field, x_start, T_MAX, T_MIN, n_steps, return_trajectory=True)
    y_esf = _denoise(esf(pts), pts, n, n_steps, ctx.seed + 13)
    # Every paper004 score has the exact normal part −x⊥/t (C8), so the normal coordinate
    # collapses as √(t/T): started from p_T, |x⊥(t_min)| = √t_min · χ_{d−3} in law.
    normal_exact = float(np.sqrt(T_MIN) * stats.chi.median(d - 3))
    far_key = f"far fraction (in-span distance > {far_offset(T_MIN):.2g} from every point)"
    out = {}
    for name, z in (("network", y), ("ESF", y_esf)):
        inside = z @ basis  # coordinates in the sphere's span
        nearest = np.min(np.linalg.norm(inside[:, None, :] - local[None], axis=2), axis=1)
        out[name] = {
            far_key: float(np.mean(nearest > far_offset(T_MIN))),
            "median distance to the 3-D span": _span_distance(z, basis),
            "median radius in the span": float(np.median(np.linalg.norm(inside, axis=1))),
        }
    meds = np.array([_span_distance(traj[int(np.argmin(np.abs(taus - t)))], basis) for t in snaps])
    collapse_slope = float(np.polyfit(np.log(np.array(snaps)), np.log(meds), 1)[0])
    ratio = {k: v["median distance to the 3-D span"] / normal_exact for k, v in out.items()}
    checks = [
        check("ESF memorises: far fraction", out["ESF"][far_key], "<", 0.01),
        check("network interpolates: far fraction", out["network"][far_key], ">", 0.05),
        check("ESF span distance / exact collapse", ratio["ESF"], "in", (0.95, 1.05)),
        check("network span distance / exact collapse", ratio["network"], "<=", SPAN_ALLOWANCE),
    ]
    figure = FigureSpec(
        name="sphere_stereographic",
        draw=_draw_sphere,
        data={"points": local, "samples": (y @ basis)[:5000]},
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
        checks=checks,
        inconclusive=unjudged_at_quick(ctx, f"EDM MLP ({training.steps} steps)"),
        notes="12 icosahedron vertices on the unit 2-sphere in a seeded random 3-D subspace of R^20 (the note "
        "does not know the paper's sphere, points or sizes [U], and the notebook has no §6.3 cell); EDM MLP "
        f"3×256 ReLU, σ_d = 0.25, DSM, {training.steps} steps, t uniform on [1e-4, 1]; {n} samples by Euler "
        f"in √t ({n_steps} steps) to t = 1e-4. 'Far' = the distance within the sphere's span to every point "
        f"exceeds {FAR_STDS:g}√t_min = {far_offset(T_MIN):.2g}: the exact flow ends at p_{{t_min}}, whose "
        "in-span offsets are √t_min·χ_3 (beyond 10√t_min with probability < 1e-20); measured in the span, so "
        "that the normal residue (judged by the span check) cannot count as spread. The span criterion is "
        "test 13's, carried to R^20: test 13 allows a median |normal| of 0.02 where the exact flow ends at "
        "√t_min·median|N(0,1)| = 0.0067 (3×); here there are 17 normal coordinates and the exact flow ends "
        f"at √t_min·median χ_17 = {normal_exact:.4f}, so the allowance is 3× that. The first full run "
        "(revision 08556df) applied test 13's literal 0.02, which even the exact ESF cannot meet in R^20 "
        "(0.040); this correction was made after that run and is stated here for that reason.",
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
