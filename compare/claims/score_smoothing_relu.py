"""Claim C9 of Chen, *On the interpolation effect of score smoothing* (paper key ``score_smoothing``;
research note paper004): a two-layer ReLU network fitted to the score at one fixed t with weight
decay learns a smoothed empirical score (Fig. 2, test 12).

Convention: VE with noise **variance** t; the shape criteria are stated for the dimensionless
score t·f (t·f = sgn x − x on the PL-ESF's outer pieces).

The verdict is made on the paper's own recipe (its official notebook, Fig. 2; see
shared/research/external_facts.md), which wins over the note's suggested one: S = {−1, +1},
t = 0.05, a width-1024 two-layer ReLU network with a linear skip regressed onto √t·ESF with fresh
samples of p_t every step, AdamW with decoupled weight decay λ ∈ {1, 3, 5, 7} on the main
network only, lr 3e-4, batch 1024, 80 001 steps, seed 42 (:func:`empirical.two_layer.train_regression`).
The project's first recipe (t = 0.01, width 256, full-batch Adam with a penalty λ(‖w‖² + ‖a‖²),
λ ∈ {0, 1e-4, 1e-3}, seeds 0–2) is kept as robustness rows in ``measured`` (not judged).
"""

from __future__ import annotations

import numpy as np

from compare.claim import Check, Context, FigureSpec, Outcome, Training, check
from compare.claims._common import unjudged_at_quick
from compare.claims.score_smoothing import TWO, esf
from compare.registry import claim
from compare.style import PALETTE
from empirical.two_layer import (
    FixedTimeConfig,
    RegressionConfig,
    train_fixed_time,
    train_regression,
)
from theory import smoothing as sm

PAPER = "score_smoothing"

#: The notebook's Fig. 2 problem (judged).
T_FIG2 = 0.05
LAMS_FIG2 = (1.0, 3.0, 5.0, 7.0)
SEED_FIG2 = 42

#: Test 12's shape criteria (note), on t·f: the values at ±1, the side slopes, the middle ramp.
VALUE_AT_POINTS_MAX = 0.05  # |t f(±1)| <
SIDE_SLOPE_BAND = (-1.2, -0.8)  # t·slope at ±1 within 20% of −1
MIDDLE_SLOPE_BAND = (0.05, 1.0)  # t·slope at 0: a positive ramp (> 0.05), far below the ESF's
#: Least-squares windows of the slopes (the project's; the note names none): x ± 0.1 at the
#: sides, x ± 0.2 in the middle. At t = 0.05 the ESF is exactly linear on 1 ± 0.1
#: (tanh(0.9/t) = 1 − 5e-16) and an S-PL-ESF ramp with δ ≤ 0.5 contains 0 ± 0.2.
SIDE_WINDOW, MIDDLE_WINDOW = 0.1, 0.2

#: The project's first recipe (robustness rows; its configs are unchanged so its cache keys stay).
T_FIRST = 0.01
LAMS_FIRST = (0.0, 1e-4, 1e-3)
SEEDS_FIRST = (0, 1, 2)


def _slope(g, centre, half_width):
    x = np.linspace(centre - half_width, centre + half_width, 41)
    return float(np.polyfit(x, g(x), 1)[0])


def _shape(g) -> dict:
    """Test 12's measurements of a dimensionless field g = t·f."""
    s0 = _slope(g, 0.0, MIDDLE_WINDOW)
    return {
        "t f(±1)": g(np.array([-1.0, 1.0])).tolist(),
        "t·slope at ±1": [_slope(g, -1.0, SIDE_WINDOW), _slope(g, 1.0, SIDE_WINDOW)],
        "t·slope at 0": s0,
        "implied δ": s0 / (1 + s0),
    }


def _first_recipe(ctx: Context) -> dict:
    """The first recipe's fits, measured as test 12 would (robustness rows, not judged)."""
    config = FixedTimeConfig(width=256, steps=ctx.profile.pick(quick=2_000, full=20_000))
    seeds = ctx.profile.pick(quick=SEEDS_FIRST[:1], full=SEEDS_FIRST)
    rows = {}
    for lam in LAMS_FIRST:
        per_seed = []
        for seed in seeds:
            fit = train_fixed_time(TWO, T_FIRST, lam, config, seed)
            per_seed.append({**_shape(fit.g), "L_t": fit.loss / T_FIRST, "seconds": fit.seconds})
        rows[f"{lam:g}"] = per_seed
    held = all(
        max(abs(v) for v in r["t f(±1)"]) < VALUE_AT_POINTS_MAX
        and MIDDLE_SLOPE_BAND[0] <= r["t·slope at 0"] <= MIDDLE_SLOPE_BAND[1]
        for per_seed in rows.values()
        for r in per_seed
    )
    sides = all(
        SIDE_SLOPE_BAND[0] <= v <= SIDE_SLOPE_BAND[1]
        for per_seed in rows.values()
        for r in per_seed
        for v in r["t·slope at ±1"]
    )
    medians = [float(np.median([r["implied δ"] for r in v])) for v in rows.values()]
    return {
        "recipe": f"t = {T_FIRST}, width 256 without skip, {config.steps} full-batch Adam steps on "
        f"{config.n_samples} samples of p_t, objective t·L_t[f] + λ(‖w‖² + ‖a‖²)",
        "seeds": list(seeds),
        "per λ, per seed": rows,
        "implied δ (seed median)": dict(zip(rows, medians, strict=True)),
        "values at ±1 and middle ramps within test 12's bands": held,
        "side slopes within 20% of −1 at every λ": sides,
        "implied δ non-increasing in λ": bool(np.all(np.diff(medians) <= 0)),
    }


def _fig2_config(ctx: Context) -> RegressionConfig:
    """The Fig. 2 recipe at full (the notebook's); a 256-wide, 3k-step smoke test at quick."""
    return ctx.profile.pick(
        quick=RegressionConfig(width=256, steps=3_000, batch=512), full=RegressionConfig()
    )


@claim(
    id="score_smoothing.relu_smoothing",
    paper=PAPER,
    kind="trained",
    statement="A two-layer ReLU network fitted to the score at small t with weight decay learns an S-PL-ESF-like "
    "field: exact slope −1/t near ±1, a positive-slope ramp across the middle, more smoothing for larger λ.",
    source="paper004 §3, Fig. 2 and Prop. 1 [N]; the official notebook's Fig. 2 recipe (external facts); "
    "note claim C9 and test 12 (shape criteria [C])",
    control="The network's output is used as the score without dividing it by √t (a σ ↔ t "
    "convention bug): every t·f comes out √t ≈ 0.22 times too small.",
    seed=SEED_FIG2,
    trains=lambda ctx: [
        Training(
            f"score_smoothing.relu_smoothing λ = {lam:g}",
            _fig2_config(ctx).steps,
            train_regression,
            (TWO, T_FIG2, lam, _fig2_config(ctx), ctx.seed),
        )
        for lam in LAMS_FIG2
    ],
    figures=("relu_score_weight_decay",),
)
def relu_smoothing(ctx: Context) -> Outcome:
    t = T_FIG2
    config = _fig2_config(ctx)
    fits = {f"{lam:g}": train_regression(TWO, t, lam, config, ctx.seed) for lam in LAMS_FIG2}

    def score_of(fit):
        # the planted fault (control): the raw output o ≈ √t·s taken for the score s
        return fit.output if ctx.control else fit.score

    def dimensionless(fit):
        return lambda x: t * score_of(fit)(x)

    rows = {
        key: {
            **_shape(dimensionless(fit)),
            "L_t": fit.loss,
            "seconds": fit.seconds,
        }
        for key, fit in fits.items()
    }
    for r in rows.values():
        r["implied κ = δ/√t"] = float(r["implied δ"] / np.sqrt(t))
    checks: list[Check] = []
    for key, r in rows.items():
        tag = f"λ={key}"
        checks.append(
            check(f"{tag}: |t f(±1)|", max(abs(v) for v in r["t f(±1)"]), "<", VALUE_AT_POINTS_MAX)
        )
        worst = max(r["t·slope at ±1"], key=lambda v: abs(v + 1))
        checks.append(
            check(f"{tag}: t·slope at ±1 (farther from −1)", worst, "in", SIDE_SLOPE_BAND)
        )
        checks.append(check(f"{tag}: t·slope at 0", r["t·slope at 0"], "in", MIDDLE_SLOPE_BAND))
    deltas = {key: r["implied δ"] for key, r in rows.items()}
    checks.append(
        Check(
            name="implied δ non-increasing in λ",
            value={k: round(v, 4) for k, v in deltas.items()},
            threshold="δ(λ=1) ≥ δ(λ=3) ≥ δ(λ=5) ≥ δ(λ=7)",
            held=bool(np.all(np.diff(list(deltas.values())) <= 0)),
        )
    )
    first = _first_recipe(ctx)
    esf_shape = _shape(lambda x: t * esf(TWO)(x[:, None], t)[:, 0])
    xs = np.linspace(-2, 2, 801)
    figure = FigureSpec(
        name="relu_score_weight_decay",
        draw=_draw_relu,
        data={
            "x": xs,
            "t": t,
            "network": {k: score_of(fit)(xs) for k, fit in fits.items()},
            "esf": esf(TWO)(xs[:, None], t)[:, 0],
            "smoothed": {
                k: sm.smoothed_score(xs[:, None], t, max(d, 1e-6) / np.sqrt(t), TWO)[:, 0]
                for k, d in deltas.items()
            },
            "delta": deltas,
        },
        config={"fit": config.__dict__, "t": t, "lams": list(LAMS_FIG2), "seed": ctx.seed},
    )
    return Outcome(
        predicted={
            "t f(±1)": 0,
            "t·slope at ±1": -1,
            "t·slope at 0": f"in {list(MIDDLE_SLOPE_BAND)}: a positive ramp; the ESF has 1/t − 1 = "
            f"{1 / t - 1:g}",
            "δ": "non-increasing in λ",
        },
        measured={
            "Fig. 2 recipe, per λ": rows,
            "ESF, measured the same way (reference)": esf_shape,
            "robustness: the project's first recipe (not judged)": first,
        },
        tolerance={
            "|t f(±1)|": f"< {VALUE_AT_POINTS_MAX}",
            "side slopes": "within 20% of −1/t",
            "middle slope": f"in {list(MIDDLE_SLOPE_BAND)}/t",
            "slope windows": f"least squares on ±1 ± {SIDE_WINDOW} and 0 ± {MIDDLE_WINDOW}",
        },
        checks=checks,
        inconclusive=unjudged_at_quick(
            ctx, f"the Fig. 2 fits ({config.steps} steps, width {config.width})"
        ),
        notes=f"Judged: the notebook's Fig. 2 recipe, t = {t}, S = {{−1, +1}}, seed {ctx.seed}, width "
        f"{config.width} with a linear skip and an output bias, regression of the output onto √t·ESF "
        f"on {config.batch} fresh samples of p_t per step, AdamW (lr {config.learning_rate:g}, "
        f"{config.steps} steps) with decoupled weight decay λ on the hidden and output weights and "
        "biases only (not the skip, not the output bias); the score is output/√t and the expected "
        "loss is the note's L_t. Hidden biases start at 0 (not in the facts). One seed is judged, as "
        "in the notebook: more seeds would take the cold full cost of this claim past about 6 "
        "minutes on 2 cores. The bands are test 12's, in units of 1/t, unchanged from t = 0.01: "
        "|t f(±1)| < 0.05, side slopes within 20% of −1, 0.05 ≤ t·slope(0) ≤ 1 (δ ≤ 0.5; the ESF "
        "has 1/t − 1 at 0). The note exempts its strongest λ from the side-slope band; its λ grid "
        "does not map onto the notebook's, so every λ is held to it here. Slopes are least-squares "
        "fits on ±1 ± 0.1 (sides) and 0 ± 0.2 (middle); implied δ = t·slope/(1 + t·slope) is the "
        "S-PL-ESF's δ with the same middle slope, κ = δ/√t. L_t rising with λ (note C9) is "
        "reported, not judged. The first recipe's rows (t = 0.01, its own λ grid, 3 seeds) are a "
        "robustness check of the same shape criteria on another parametrisation; their λ values "
        "are not comparable with the notebook's.",
        figures=[figure],
    )


def _draw_relu(fig, data):
    ax = fig.add_subplot(111)
    x = np.array(data["x"])
    ax.plot(x, data["esf"], color="grey", lw=2.2, label="ESF")
    colors = [PALETTE["exact"], PALETTE["alt"], PALETTE["trained"], "#9467bd"]
    for (lam, s), c in zip(data["network"].items(), colors, strict=False):
        ax.plot(x, s, color=c, lw=1.4, label=f"network output/√t, λ = {lam}")
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
    ax.set_ylabel(f"score s(x) at t = {data['t']:g} (VE, noise variance t)")
    ax.set_title("Two-layer ReLU score fits with weight decay λ (Fig. 2 recipe)")
    ax.legend(fontsize=7)
