r"""Constrained-mixing claims on images: the 8×8 digits (paper000 §3.3 R2; A-C1, A-C2, A-C7).

**Data** (:mod:`empirical.digits`): the 1 797 digits scikit-learn ships, pixels scaled to
x = p/8 − 1 ∈ [−1, 1], as a :class:`theory.distributions.FiniteSet` in R⁶⁴; the trainer draws its
20 000 training points from it with replacement (every image appears). Needs the optional extra
``digits`` (scikit-learn).

**Recipe** (the note's R2 scaled to one CPU core; fixed on seed ``ctx.seed + 1`` before the judged
seed ``ctx.seed`` was trained): an EDM-preconditioned MLP 3×256 SiLU, σ_d = 0.5 (EDM's value for
images in [−1, 1]; the pixel rms about the mean image is 0.54), denoising score matching with σ
log-uniform on [0.01, 20], Adam lr 2e-3 with 500 warm-up steps and cosine decay, batch 512,
10 000 steps at ``full`` (320 s on one loaded core for the judged seed; 700 s for the recipe seed,
trained while the machine ran three times more jobs than cores); at ``quick`` a 3×64 net for 500
steps at batch 256, unjudged. The note suggests 3×512: it costs ~3× the time per step of 3×256 here, so
it would get a third of the steps within the same budget.

**Chains**: reverse VE Euler–Maruyama (:func:`empirical.sampling.sample_euler_maruyama_ve`) with the
network's score, from N(0, 20² I) on a geometric σ grid 20 → 0.01 (200 steps, 64 chains at full;
60 steps, 16 chains at quick). At the grid levels nearest the checkpoints σ ∈ {20, 10, 5, 2, 1,
0.5, 0.2, 0.1, 0.05, 0.02, 0.01} the full 64×64 score Jacobian of every chain state is taken by
forward-mode autodiff through the network (``jax.jacfwd``, :meth:`ScoreModel.jacobian`), and its
SVD gives the spectrum, d_loc under D1 (c = ¼, ½, ¾), D2, D3, D4, N1 and ‖A‖/‖J‖.
"""

from __future__ import annotations

import numpy as np

from compare.claim import Context, FigureSpec, Outcome, Training, check
from compare.claims._common import measured_once, unjudged_at_quick
from compare.registry import claim
from compare.style import PALETTE
from empirical.digits import D, class_pca, load_digits_data, nearest_class
from empirical.metrics import (
    antisymmetry_ratio,
    local_dimension_d1,
    local_dimension_d2,
    local_dimension_d3,
    local_dimension_d4,
    singular_pairs,
    subspace_overlap,
)
from empirical.models import NetworkConfig, ScoreModel
from empirical.sampling import sample_euler_maruyama_ve, sample_prior_ve
from empirical.training import TrainingConfig, train
from theory.schedules import geometric_grid

PAPER = "constrained_mixing"

SIGMA_MIN, SIGMA_MAX = 0.01, 20.0
CHECKPOINTS = (20.0, 10.0, 5.0, 2.0, 1.0, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01)
_CS = (0.25, 0.5, 0.75)
_PRIMARY = "D1 c=0.5"
_D2_RHO = 0.1
_D2_EPS = 0.01  # D2 absolute: effective variance above 0.01 (a pixel std of 0.1, ~0.8 grey level)
_D3_FRACTION = 0.9
#: reading label (compare.readings) → how d_loc is computed from (singular values, σ)
_READINGS = {
    **{f"D1 c={c}": (lambda s, sig, c=c: local_dimension_d1(s, sig, c)) for c in _CS},
    "D2 relative": lambda s, sig: local_dimension_d2(s, sig, rho=_D2_RHO),
    "D2 absolute": lambda s, sig: local_dimension_d2(s, sig, eps_abs=_D2_EPS),
    "D3": lambda s, sig: local_dimension_d3(s, sig, _D3_FRACTION),
    "D4": lambda s, sig: local_dimension_d4(s),
}
_CONTROL_SIGMA = 1.0  # control of A-C1/A-C2: D1 with σ² replaced by this fixed level squared
_DROP_TOL = 1.0  # A-C1: no checkpoint's mean d_loc below the largest earlier mean by more than this
_RISE_MIN = 1.0  # A-C1: mean d_loc at σ_min exceeds that at σ_max by at least one direction
_RESOLVED = 0.75  # a checkpoint is resolved when the median σ²s_1 over chains is at least this
_RESOLVED_BY = 0.1  # the resolved checkpoints must reach σ ≤ this
_K = 10  # A-C7: the number of smallest-s singular vectors compared with the class PCA
_OV_MIN = 0.25  # A-C7: chance-corrected overlap with the nearest class's PCA at σ*
_OWN_MARGIN = 3.0  # A-C7: own class beats the other classes by this many standard errors
_FIG_SIGMAS = (1.0, 0.1, 0.02)
_FIG_VECTORS = 4


def recipe(profile: str) -> tuple[NetworkConfig, TrainingConfig]:
    """The R2 network and training for ``profile`` ("quick" or "full"), fixed on seed + 1."""
    if profile not in ("quick", "full"):
        raise ValueError(f"profile must be 'quick' or 'full' (got {profile!r})")
    full = profile == "full"
    network = NetworkConfig(width=256 if full else 64, depth=3, activation="silu", sigma_data=0.5)
    training = TrainingConfig(
        steps=10_000 if full else 500,
        batch_size=512 if full else 256,
        learning_rate=2e-3,
        warmup_steps=500 if full else 50,
        chunk_steps=1_000 if full else 500,
        sigma_min=SIGMA_MIN,
        sigma_max=SIGMA_MAX,
        n_data=20_000,
        shards=1,
    )
    return network, training


def network(profile: str, seed: int, progress: bool = False) -> ScoreModel:
    """The R2 network for ``profile`` at ``seed``, trained or from the model cache."""
    net, training = recipe(profile)
    return train(load_digits_data().spec, net, training, int(seed), progress=progress)


def _trainings(ctx: Context) -> list[Training]:
    _net, training = recipe(ctx.profile.name)
    return [
        Training(
            f"constrained_mixing R2 digits, seed {ctx.seed}",
            training.steps,
            network,
            (ctx.profile.name, ctx.seed),
        )
    ]


def _sizes(profile: str) -> tuple[int, int]:
    """(chains, sampler steps) for ``profile``."""
    return (64, 200) if profile == "full" else (16, 60)


@measured_once
def chains(profile: str, seed: int) -> dict:
    """Run the reverse chains and measure the Jacobian at every checkpoint (see the module notes).

    Returns ``sigma`` (K,) the grid levels nearest the checkpoints, ``x`` (K, n, 64) the chain
    states there, ``s`` (K, n, 64) the singular values, ``V`` (K, n, 64, 64) the right singular
    vectors (column i for rank i + 1), ``nc`` (K, n, 64) N1 per rank, ``asym`` (K, n) ‖A‖/‖J‖,
    ``label`` (n,) the class of the training image nearest each chain's final state, and the
    training record ``meta``.
    """
    model = network(profile, seed)
    n, steps = _sizes(profile)
    rng = np.random.default_rng([seed, 2])
    grid = geometric_grid(SIGMA_MAX, SIGMA_MIN, steps + 1)
    _, path = sample_euler_maruyama_ve(
        model.score, sample_prior_ve(n, D, SIGMA_MAX, rng), grid, rng, return_trajectory=True
    )
    idx = [int(np.argmin(np.abs(np.log(grid / s)))) for s in CHECKPOINTS]
    out = {"sigma": grid[idx], "x": path[idx], "s": [], "V": [], "nc": [], "asym": []}
    for i in idx:
        jac = model.jacobian(path[i], float(grid[i]))
        s, u, v = singular_pairs(jac)
        out["s"].append(s)
        out["V"].append(v)
        out["nc"].append(1.0 - np.minimum(np.abs(np.sum(u * v, axis=1)), 1.0))  # N1 per rank
        out["asym"].append(antisymmetry_ratio(jac))
    for key in ("s", "V", "nc", "asym"):
        out[key] = np.stack(out[key])
    data = load_digits_data()
    out["label"] = nearest_class(path[idx[-1]], data.images, data.labels)
    out["meta"] = {
        key: model.meta.get(key) for key in ("seconds", "cache", "cache_key", "loss_per_chunk")
    }
    return out


def dimensions(m: dict, *, control: bool = False) -> dict[str, np.ndarray]:
    """d_loc (K, n) per reading; with ``control`` the D1 readings use the fixed σ_ref (the fault)."""
    out = {}
    for label, rule in _READINGS.items():
        rows = []
        for s, sigma in zip(m["s"], m["sigma"], strict=True):
            if control and label.startswith("D1"):
                sigma = _CONTROL_SIGMA
            rows.append(rule(s, float(sigma)))
        out[label] = np.stack(rows)
    return out


def resolved_levels(m: dict) -> int:
    """How many checkpoints, from σ = 20 down, the network resolves without a gap.

    A checkpoint is resolved when the median over chains of the largest noise-normalised singular
    value σ²s_1 is at least 3/4: the network contracts its stiffest direction at (nearly) the rate
    the noise sets, as the exact score of noised data does (σ²s_1 → 1 in normal directions). Below
    the resolved range D1 cannot tell tangent from normal (every σ²s_i is small).
    """
    top = np.median(m["sigma"][:, None] ** 2 * m["s"][:, :, 0], axis=1)
    ok = top >= _RESOLVED
    return int(np.argmin(ok)) if not ok.all() else ok.size


def _trend_checks(d: np.ndarray, n_resolved: int) -> list:
    """A-C1 and A-C2 on d_loc (K, n) over the first ``n_resolved`` checkpoints (σ decreasing)."""
    d = d[: max(n_resolved, 1)]
    mean, std = d.mean(axis=1), d.std(axis=1)
    drop = float(np.max(np.maximum.accumulate(mean) - mean))
    return [
        check(
            "A-C1 rise: mean d_loc(σ*) − mean d_loc(σ=20)",
            float(mean[-1] - mean[0]),
            ">=",
            _RISE_MIN,
        ),
        check("A-C1 largest drop of mean d_loc as σ falls (to σ*)", drop, "<=", _DROP_TOL),
        check("A-C2 std d_loc(σ*) − std d_loc(σ=20)", float(std[-1] - std[0]), ">", 0.0),
    ]


def _resolution_check(m: dict, n_resolved: int):
    sigma_star = float(m["sigma"][n_resolved - 1]) if n_resolved else float("inf")
    return check("σ*: the smallest resolved checkpoint", sigma_star, "<=", _RESOLVED_BY)


def _draw_local_dimension(fig, data):
    fig.set_size_inches(7.5, 4.8)
    ax = fig.subplots()
    sigma = np.asarray(data["sigma"])
    colors = [PALETTE["exact"], PALETTE["trained"], PALETTE["alt"], "#9467bd", "#8c564b"]
    colors += ["#e377c2", "#7f7f7f"]
    for i, (label, mean) in enumerate(data["mean"].items()):
        judged = label == _PRIMARY
        shift = np.exp(0.04 * (i - (len(data["mean"]) - 1) / 2))  # spread the error bars
        ax.errorbar(
            sigma * shift,
            mean,
            yerr=data["std"][label],
            fmt="-o",
            ms=4 if judged else 2,
            lw=2.2 if judged else 0.7,
            capsize=2,
            alpha=1.0 if judged else 0.5,
            color=colors[i % len(colors)],
            label=label + (" (judged)" if judged else ""),
        )
    if data["sigma_star"] > sigma.min():
        ax.axvspan(sigma.min() * 0.8, data["sigma_star"] * 0.85, color="0.85", zorder=0)
        ax.text(
            0.99,
            0.5,
            "not resolved\n(median σ²s₁ < 3/4)",
            fontsize=7,
            ha="right",
            transform=ax.transAxes,
        )
    ax.set_xscale("log")
    ax.invert_xaxis()
    ax.set_xlabel("VE noise level σ, x_σ = x₀ + σε, pixels in [−1, 1] (sampling runs →)")
    ax.set_ylabel("d_loc of the score Jacobian: mean ± std across chains")
    ax.set_title(f"8×8 digits (d = 64), {data['n_chains']} reverse EM chains, trained EDM MLP")
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()


def _draw_singular_vectors(fig, data):
    rows = data["sigma"]
    n_cols = 1 + 2 * _FIG_VECTORS
    fig.set_size_inches(1.3 * n_cols, 1.5 * len(rows) + 0.6)
    axes = fig.subplots(len(rows), n_cols, squeeze=False)
    for r, sigma in enumerate(rows):
        state = np.asarray(data["state"][r]).reshape(8, 8)
        axes[r, 0].imshow(state, cmap="gray_r", vmin=-1.5, vmax=1.5)
        axes[r, 0].set_title(f"x at σ={sigma:.3g}", fontsize=7)
        vecs = [("small", j) for j in range(_FIG_VECTORS)]
        vecs += [("large", j) for j in range(_FIG_VECTORS)]
        for c, (which, j) in enumerate(vecs, start=1):
            v = np.asarray(data[which][r][j]).reshape(8, 8)
            lim = float(np.max(np.abs(v)))
            axes[r, c].imshow(v, cmap="RdBu_r", vmin=-lim, vmax=lim)
            s = data[f"{which}_s"][r][j]
            rank = D - j if which == "small" else j + 1
            axes[r, c].set_title(f"v{rank}: σ²s={s:.2g}", fontsize=7)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(
        f"Chain {data['chain']} (nearest image of class {data['label']}): right singular vectors "
        f"of the score Jacobian as 8×8 images; {_FIG_VECTORS} smallest s (tangent), then "
        f"{_FIG_VECTORS} largest (normal)",
        fontsize=8,
    )
    fig.tight_layout()


def _config(ctx: Context, n: int) -> dict:
    net, training = recipe(ctx.profile.name)
    return {
        "profile": ctx.profile.name,
        "seed": ctx.seed,
        "chains": n,
        "steps": _sizes(ctx.profile.name)[1],
        "network": net.to_dict(),
        "training": training.to_dict(),
        "control": ctx.control,
    }


def _unjudged(ctx: Context) -> str:
    return unjudged_at_quick(ctx, f"training ({recipe(ctx.profile.name)[1].steps} steps)")


@claim(
    id="constrained_mixing.digits_local_dimension",
    paper=PAPER,
    kind="trained",
    statement="Along reverse VE chains of a score network trained on the 8×8 digits, the local "
    "dimension of the score Jacobian (D1, σ²s_i < 1/2) rises as σ falls (A-C1: from σ = 20 down to "
    "σ*, the smallest checkpoint the network resolves, which must be ≤ 0.1, the mean over chains "
    "rises by at least one direction and never drops by more than one below an earlier "
    "checkpoint's mean) and varies more across chains at small σ (A-C2: its std across chains at "
    "σ* exceeds that at σ = 20).",
    source="paper000 §3.3 R2, §4 A-C1, A-C2 [P abstract; R2 recipe R]; sklearn digits in [−1, 1], "
    "EDM MLP 3×256, 64 reverse EM chains σ 20 → 0.01, 200 steps, full 64×64 Jacobians",
    control=f"d_loc counted without the noise normalisation: σ² replaced by a fixed "
    f"σ_ref² = {_CONTROL_SIGMA:g} in D1 (#{{i : s_i < c/σ_ref²}}), so d_loc falls as σ falls.",
    figures=("digits_local_dimension",),
    trains=_trainings,
)
def digits_local_dimension(ctx: Context) -> Outcome:
    m = chains(ctx.profile.name, ctx.seed)
    dims = dimensions(m, control=ctx.control)
    sigma = m["sigma"]
    n = m["s"].shape[1]
    n_resolved = resolved_levels(m)
    resolution = _resolution_check(m, n_resolved)
    checks = [resolution, *_trend_checks(dims[_PRIMARY], n_resolved)]
    readings = {
        label: (
            "pass"
            if resolution.held and all(c.held for c in _trend_checks(d, n_resolved))
            else "fail"
        )
        for label, d in dims.items()
    }
    inconclusive = _unjudged(ctx)
    if inconclusive:
        readings = dict.fromkeys(readings, "inconclusive")
    keys = [f"σ={s:.3g}" for s in sigma]
    table = {
        label: {key: f"{d[k].mean():.2f} ± {d[k].std():.2f}" for k, key in enumerate(keys)}
        for label, d in dims.items()
    }
    reading_checks = {
        label: {c.name: c.value for c in _trend_checks(d, n_resolved)} for label, d in dims.items()
    }
    d_primary = dims[_PRIMARY]
    tangent_nc, normal_nc = {}, {}
    for k, key in enumerate(keys):
        tangent = np.arange(D)[None, :] >= D - d_primary[k][:, None]  # the d_loc smallest s
        tangent_nc[key] = float(m["nc"][k][tangent].mean()) if tangent.any() else "—"
        normal_nc[key] = float(m["nc"][k][~tangent].mean()) if (~tangent).any() else "—"
    spectrum = {
        key: " / ".join(
            f"{np.median(sigma[k] ** 2 * m['s'][k][:, r]):.3g}" for r in (0, D // 2 - 1, D - 1)
        )
        for k, key in enumerate(keys)
    }
    failed = [c.name for c in checks if not c.held]
    sigma_star = float(sigma[max(n_resolved, 1) - 1])
    figure = FigureSpec(
        name="digits_local_dimension",
        draw=_draw_local_dimension,
        data={
            "sigma": sigma,
            "mean": {label: d.mean(axis=1) for label, d in dims.items()},
            "std": {label: d.std(axis=1) for label, d in dims.items()},
            "n_chains": n,
            "sigma_star": sigma_star,
        },
        config=_config(ctx, n),
    )
    return Outcome(
        predicted={
            "A-C1": f"mean d_loc (D1, c=1/2) rises as σ falls: +≥{_RISE_MIN:g} from σ=20 to σ*, "
            f"no drop > {_DROP_TOL:g}",
            "A-C2": "std across chains at σ* > std at σ=20",
            "σ*": f"≤ {_RESOLVED_BY:g}",
        },
        measured={
            "σ* (smallest resolved checkpoint)": sigma_star,
            "d_loc mean ± std across chains (reading → checkpoint)": table,
            "the A-C1/A-C2 checks under each reading": reading_checks,
            "median σ²s_1 / σ²s_32 / σ²s_64 over chains (noise-normalised spectrum)": spectrum,
            "N1 1 − |u·v|, mean over the d_loc smallest ranks (tangent)": tangent_nc,
            "N1, mean over the other ranks (normal)": normal_nc,
            "‖A‖/‖J‖ median (max) over chains": {
                key: f"{np.median(m['asym'][k]):.3g} ({np.max(m['asym'][k]):.3g})"
                for k, key in enumerate(keys)
            },
            "training": m["meta"],
        },
        tolerance={
            "σ*": f"median σ²s_1 ≥ {_RESOLVED:g} down to σ* ≤ {_RESOLVED_BY:g}",
            "rise": f"≥ {_RISE_MIN:g} direction",
            "largest drop": f"≤ {_DROP_TOL:g} direction",
            "A-C2": "std(σ*) > std(σ=20)",
        },
        checks=checks,
        readings=readings,
        inconclusive=inconclusive,
        figures=[figure],
        notes=_NOTES_DLOC.format(
            n=n,
            steps=_sizes(ctx.profile.name)[1],
            sigma=", ".join(f"{s:.3g}" for s in sigma),
        )
        + (" Failed: " + ", ".join(failed) if failed else ""),
    )


_NOTES_DLOC = (
    "{n} chains, {steps} reverse VE Euler–Maruyama steps on a geometric grid 20 → 0.01 from "
    "N(0, 400 I); checkpoints at the grid levels {sigma}. Judged on D1 c = 1/2 (the note's primary "
    "reading); the readings D1 c = 1/4, 3/4, D2 relative (ρ = 0.1), D2 absolute (ε = 0.01 in pixel "
    "variance units), D3 (90 %) and D4 (largest log-gap; never 0 by construction) apply the same "
    "checks. The recipe and every threshold below were fixed on the network of seed + 1 before the "
    "judged seed was trained. Resolution: D1 separates tangent from normal directions only where "
    "the normal ones sit at σ²s ≈ 1; on the recipe seed the network's largest σ²s_1 (median over "
    "chains) was ≥ 0.87 down to σ = 0.02 and 0.46 at σ = 0.01, where every direction counts as "
    "tangent (d_loc = 64 on every chain: the MLP's denoiser is close to the identity there, a "
    "network limit, not the data's: the exact score of the 1 797 images would give d_loc = 0 at "
    "σ = 0.01). So the trend is judged from σ = 20 down to σ*, the last checkpoint of the leading "
    "run with median σ²s_1 ≥ 3/4, which must reach σ ≤ 0.1; the unresolved checkpoints are shown "
    "and reported, not judged. Thresholds (the note gives none for R2): a rise of at least one "
    "direction between σ = 20 and σ* (one direction is the smallest change d_loc can make), and a "
    "drop of at most one direction below the running maximum of the mean (the s.e. of a mean over "
    "64 chains is std/8, under 0.4 here; a fall by a whole direction is a reversal, not noise). "
    "D2 and D3 count effective variances λ̂ = 1/s − σ², which amplify the network's error in the "
    "denoiser Jacobian ∂D by σ² (an error of 1e-4 in ∂D is 0.04 in λ̂ at σ = 20, above D2's ε): "
    "at large σ they count network error as data variance and so fall as σ falls; D4 (the largest "
    "log-gap) stays at 1–5 without a trend. Their failures say the A-C1 trend holds for the "
    "noise-normalised threshold readings (D1), not for every reading. "
    "A-C2 as the note states it: std across chains at σ* above that at σ = 20; at σ = 20 every "
    "chain has d_loc = 0 under D1 (the largest data variance, 2.8, is far below σ²), so this "
    "check says the chains spread at all. The recipe seed (seed + 1, reported, not judged) gave "
    "σ* = 0.0198, a rise of 48.5 directions (0 → 48.5), no drop, and std 0.95 at σ* against 0 at "
    "σ = 20. N1 and ‖A‖/‖J‖ are reported, not judged (A-C3 is judged "
    "on R1)."
)


def _overlaps(m: dict, level: int, k_dims, bases, random_bases, *, control: bool) -> dict:
    """Per chain, chance-corrected overlaps of the k smallest-s right singular vectors at ``level``
    with the nearest class's top-k PCA (a random subspace under ``control``), the mean over the
    other classes, and a random subspace; NaN where k is 0 or 64."""
    label = m["label"]
    out = {"own": [], "other": [], "random": []}
    for i in range(label.size):
        k = int(k_dims[i])
        if not 1 <= k < D:
            for key in out:
                out[key].append(np.nan)
            continue
        u = m["V"][level, i][:, D - k :]

        def corrected(w, u=u, k=k):
            return (float(subspace_overlap(u, w)) - k / D) / (1.0 - k / D)

        own = random_bases[i][:, :k] if control else bases[label[i]][:, :k]
        out["own"].append(corrected(own))
        others = [c for c in range(bases.shape[0]) if c != label[i]]
        out["other"].append(float(np.mean([corrected(bases[c][:, :k]) for c in others])))
        out["random"].append(corrected(random_bases[i][:, :k]))
    return {key: np.array(v) for key, v in out.items()}


def _semantic_checks(ov: dict) -> list:
    ok = np.isfinite(ov["own"])
    diff = (ov["own"] - ov["other"])[ok]
    if diff.size > 1 and diff.std(ddof=1) > 0:
        z = float(diff.mean() / (diff.std(ddof=1) / np.sqrt(diff.size)))
    else:
        z = float("nan")
    mean_own = float(ov["own"][ok].mean()) if ok.any() else float("nan")
    return [
        check("A-C7 mean chance-corrected overlap with the nearest class", mean_own, ">=", _OV_MIN),
        check("A-C7 nearest class minus the other classes, in s.e.", z, ">", _OWN_MARGIN),
    ]


@claim(
    id="constrained_mixing.digits_semantic_features",
    paper=PAPER,
    kind="trained",
    statement=f"At σ*, the smallest noise level the network resolves (≤ 0.1), along reverse chains "
    f"of a score network trained on the 8×8 digits, the {_K} right singular vectors of the score "
    f"Jacobian with the smallest singular values lie in the top-{_K} principal subspace of the "
    "class of the chain's nearest training image: the chance-corrected overlap "
    f"(ov − k/64)/(1 − k/64) averages ≥ {_OV_MIN}, and exceeds the mean over the other nine "
    f"classes by more than {_OWN_MARGIN:g} s.e.",
    source="paper000 §3.2, §3.3 R2, §4 A-C7 [S]; sklearn digits in [−1, 1], EDM MLP 3×256, 64 reverse "
    "EM chains σ 20 → 0.01, overlap ov(U, W) = ‖UᵀW‖²_F/k of §2.4",
    control="W replaced by a seeded uniformly random k-dimensional subspace per chain (the chance "
    "level) in place of the nearest class's principal subspace.",
    figures=("digits_singular_vectors",),
    trains=_trainings,
)
def digits_semantic_features(ctx: Context) -> Outcome:
    m = chains(ctx.profile.name, ctx.seed)
    data = load_digits_data()
    dims = dimensions(m)
    bases, _ = class_pca(data.images, data.labels, D)
    n = m["label"].size
    rng = np.random.default_rng([ctx.seed, 3])
    random_bases = np.linalg.qr(rng.standard_normal((n, D, D)))[0]
    n_resolved = resolved_levels(m)
    resolution = _resolution_check(m, n_resolved)
    star = max(n_resolved, 1) - 1
    fixed_k = np.full(n, _K)

    per_level = {}
    for level, sigma in enumerate(m["sigma"]):
        ov = _overlaps(m, level, fixed_k, bases, random_bases, control=ctx.control)
        per_level[f"σ={sigma:.3g}"] = " / ".join(f"{ov[key].mean():.3f}" for key in ov)
    judged = _overlaps(m, star, fixed_k, bases, random_bases, control=ctx.control)
    checks = [resolution, *_semantic_checks(judged)]
    readings, reading_table = {}, {}
    for name, d in dims.items():
        ov = _overlaps(m, star, d[star], bases, random_bases, control=ctx.control)
        verdict_checks = _semantic_checks(ov)
        readings[name] = "pass" if all(c.held for c in [resolution, *verdict_checks]) else "fail"
        reading_table[name] = {c.name: c.value for c in verdict_checks} | {
            "mean k": float(d[star].mean()),
            "chains with 1 ≤ k < 64": int(np.isfinite(ov["own"]).sum()),
        }
    inconclusive = _unjudged(ctx)
    if inconclusive:
        readings = dict.fromkeys(readings, "inconclusive")
    failed = [c.name for c in checks if not c.held]

    chain = 0  # the figure: one chain, its state and singular vectors at three noise levels
    levels = [int(np.argmin(np.abs(np.log(m["sigma"] / s)))) for s in _FIG_SIGMAS]
    fig_data = {
        "chain": chain,
        "label": int(m["label"][chain]),
        "sigma": [float(m["sigma"][k]) for k in levels],
        "state": [m["x"][k, chain] for k in levels],
        "small": [m["V"][k, chain][:, ::-1][:, :_FIG_VECTORS].T for k in levels],
        "large": [m["V"][k, chain][:, :_FIG_VECTORS].T for k in levels],
        "small_s": [m["sigma"][k] ** 2 * m["s"][k, chain][::-1][:_FIG_VECTORS] for k in levels],
        "large_s": [m["sigma"][k] ** 2 * m["s"][k, chain][:_FIG_VECTORS] for k in levels],
    }
    figure = FigureSpec(
        name="digits_singular_vectors",
        draw=_draw_singular_vectors,
        data=fig_data,
        config=_config(ctx, n),
    )
    return Outcome(
        predicted={
            f"mean chance-corrected overlap with the nearest class's top-{_K} PCA at σ*": f"≥ {_OV_MIN}",
            "nearest class − other classes": f"> {_OWN_MARGIN:g} s.e.",
        },
        measured={
            "σ*": float(m["sigma"][star]),
            f"chance-corrected overlap, k = {_K}: nearest class / other classes / random, per "
            "checkpoint": per_level,
            "at σ* with k = d_loc under each reading": reading_table,
            "chains per class of the nearest image": np.bincount(m["label"], minlength=10).tolist(),
        },
        tolerance={
            "overlap": f"≥ {_OV_MIN}",
            "nearest − other": f"> {_OWN_MARGIN:g} s.e.",
            "σ*": f"≤ {_RESOLVED_BY:g}",
        },
        checks=checks,
        readings=readings,
        inconclusive=inconclusive,
        figures=[figure],
        notes=_NOTES_SEMANTIC + (" Failed: " + ", ".join(failed) if failed else ""),
    )


_NOTES_SEMANTIC = (
    f"U: the k = {_K} right singular vectors of the score Jacobian with the smallest singular "
    "values (the estimated tangent space T̂ of §2.1), at σ*, the smallest checkpoint the network "
    "resolves (the rule of digits_local_dimension: median σ²s_1 ≥ 3/4 from σ = 20 down). W: the "
    "top-k principal directions of the centred images of the class of the training image nearest "
    "the chain's final state (class-conditional PCA, numpy SVD). ov = ‖UᵀW‖²_F/k; chance k/64 for "
    "a uniformly random U; reported chance-corrected, (ov − k/64)/(1 − k/64): 0 at chance, 1 for "
    "the same subspace. k fixed rather than d_loc: at small σ the D1 d_loc is 40–50 of 64 "
    "directions, where the top-k PCA subspaces of all classes overlap heavily and the comparison "
    f"says little; {_K} is about the D1 d_loc at σ = 0.5 and its chance level is 0.16. The "
    "sensitivity table gives the verdicts with k = each chain's d_loc under every reading (chains "
    "with k = 0 or 64 left out). Recipe and thresholds fixed on the network of seed + 1 before "
    "the judged seed was trained (there, at σ = 0.02: 0.41 with the nearest class, 0.23 with the "
    f"others, 16 s.e. apart). Thresholds (the note gives none): ≥ {_OV_MIN}, a quarter of the way "
    "from chance to the same subspace, far above a random subspace (corrected overlap of mean 0, "
    f"s.d. about 0.05 per chain at k = {_K}); and the nearest class must beat the mean over the "
    f"other nine by more than {_OWN_MARGIN:g} standard errors of the per-chain difference, so "
    "that the features are the class's (semantic), not only directions every digit varies along. "
    "The 'random' column is the overlap with a uniformly random subspace, the control's W."
)
