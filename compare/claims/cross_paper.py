"""Cross-paper identities (paper key ``cross_paper``): one object, four papers.

Four of the papers study the same object, the score of Gaussian data on a k-dimensional subspace of
R^d and its Jacobian, under their own names and conventions:

- spectral_gaps (paper001): the spectrum μ = t/(t + λ) of −tJ in the VE time t = σ², its phases at
  resolution Δ (:func:`theory.spectra.phase_boundaries`, :func:`theory.spectra.phase`);
- constrained_mixing (paper000): the D1 local dimension #{i : σ² s_i < c} in the noise level σ and
  its staircase steps σ_j = √λ_j (1/c − 1)^(−1/2) (:func:`theory.spectra.local_dimension`,
  :func:`theory.spectra.staircase_steps`);
- manifold_detection (paper002): the drift energy E‖∇log p_t‖² of the OU α process, whose VE case
  α = 0 has the noise variance v_t = 2t (:func:`theory.scaling.drift_energy`,
  :func:`theory.scaling.drift_energy_rate`);
- rate_separation (paper003): the normal stiffness σ⁻² in the noise standard deviation σ, with
  σ² = v_t in its VP convention x_σ = √(1 − σ²) x + σZ (:func:`theory.scaling.normal_stiffness`).

Where their predictions meet they must agree to rounding. Every claim here draws random subspaces
and variances (seeded), computes one meeting point from each paper's own closed form, converts the
conventions explicitly, and compares each paper's number with a reference computed from the built
object itself: the Jacobian of :class:`theory.distributions.LinearGaussian` (its eigenvalues, its
trace, the exact moments of its linear score), with :func:`scipy.optimize.brentq` for crossing
times. The largest disagreement of every (quantity, paper) goes to the report's crosswalk table
(:mod:`compare.crosswalk`).

The bridge between spectral_gaps' random-projection model and a linear Gaussian with given
variances: the covariance C = QΛQᵀ has exactly the nonzero eigenvalues λ_j, so the lowest and highest
edges γ₋, γ₊ of its spectrum are min λ and max λ. The Marchenko–Pastur/Silverstein edges of the
random-projection model, γ± = τ(1 ± √α)² per level, are the large-N smoothing of these atoms, and
they collapse onto them as α = D/N → 0 (checked below at the rate 2√α). The threshold of D1 is
c = 1 − Δ: a tangent eigenvalue μ_j = σ²s_j lies more than Δ below the spike at 1 iff μ_j < c.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from compare.claim import Context, Outcome, check
from compare.claims._common import random_basis
from compare.crosswalk import crosswalk_row
from compare.registry import claim
from theory import scaling, spectra
from theory.distributions import LinearGaussian
from theory.schedules import ve_sigma_to_vp_t, vp_score_from_ve, vp_t_to_ve_sigma, vp_v

PAPER = "cross_paper"

#: Every identity is exact: the closed forms must agree with the built object to rounding.
TOL = 1e-10
#: Random cases: k ∈ [2, 5], d ∈ [k + 1, k + 6], variances log-uniform on this range, each at least
#: this factor from the next (distinct steps; the Marchenko–Pastur bulks stay apart as α → 0).
VARIANCE_RANGE = (1e-2, 1e1)
MIN_RATIO = 1.05
#: Resolutions Δ (and D1 thresholds c = 1 − Δ) are drawn uniformly on this interval.
DELTA_RANGE = (0.05, 0.95)
#: The relative offset from a boundary at which the phase and d_loc are read "just above/below".
ETA = 1e-7
#: α = D/N per level for the Marchenko–Pastur limit, and the bound on |(1 − γ/λ)/√α − 2|: the next
#: term is O(√α) = 1e-5, rounding of 1 − γ/λ contributes ε/(2√α) ≈ 1e-11.
MP_ALPHA = 1e-10
MP_BOUND = 1e-3


@dataclass(frozen=True)
class Case:
    """One random linear Gaussian (on a random k-plane in R^d) and a resolution Δ."""

    spec: LinearGaussian
    delta: float

    @property
    def c(self) -> float:
        """The D1 threshold that matches Δ: c = 1 − Δ."""
        return 1.0 - self.delta


def cases(seed: int, n: int) -> list[Case]:
    """``n`` seeded cases (subspace, variances, Δ)."""
    rng = np.random.default_rng(seed)
    out = []
    lo, hi = np.log(VARIANCE_RANGE)
    while len(out) < n:
        k = int(rng.integers(2, 6))
        d = int(rng.integers(k + 1, k + 7))
        lam = np.exp(rng.uniform(lo, hi, k))
        delta = float(rng.uniform(*DELTA_RANGE))
        basis_seed = int(rng.integers(2**31))
        s = np.sort(lam)
        if np.min(s[1:] / s[:-1]) < MIN_RATIO:
            continue
        out.append(Case(LinearGaussian(lam, d, random_basis(d, k, basis_seed)), delta))
    return out


def _minus_tj_eigenvalues(spec: LinearGaussian, t: float) -> np.ndarray:
    """Ascending eigenvalues of −tJ, J the built Jacobian at σ = √t (VE; J is constant in x)."""
    j = spec.jacobian(np.zeros(spec.d), np.sqrt(t))
    return np.linalg.eigvalsh(-t * 0.5 * (j + j.T))


def _root(f, lo: float, hi: float) -> float:
    return float(brentq(f, lo, hi, xtol=1e-300, rtol=4 * np.finfo(np.float64).eps, maxiter=500))


def _crossing(eigenvalues, j: int, c: float, lo: float, hi: float) -> float:
    """The time at which the j-th smallest eigenvalue (0-based) of ``eigenvalues(time)`` crosses c."""
    return _root(lambda u: eigenvalues(u)[j] - c, lo, hi)


def _ve_bracket(spec: LinearGaussian) -> tuple[float, float]:
    lam = spec.variances
    return 1e-6 * float(lam.min()), 1e6 * float(lam.max())


def _rel(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.abs(b)))


def _n_cases(ctx: Context) -> int:
    return ctx.profile.pick(quick=8, full=64)


def _worst(rows: dict[tuple[str, str], list[float]]) -> dict[tuple[str, str], float]:
    return {key: float(max(values)) for key, values in rows.items()}


def _identity_checks(worst: dict[tuple[str, str], float], reference: str) -> list:
    """One check per (quantity, paper): its largest relative disagreement with ``reference`` ≤ TOL."""
    return [
        check(f"{q}: {p} vs {reference} (max rel err)", v, "≤", TOL) for (q, p), v in worst.items()
    ]


def _outcome_rows(worst: dict[tuple[str, str], float], names: dict[tuple[str, str], str]) -> list:
    """The crosswalk rows of ``worst`` ((quantity, paper) → disagreement), closed forms from ``names``."""
    return [crosswalk_row(q, p, names[q, p], v) for (q, p), v in worst.items()]


# --------------------------------------------------------------------------------------------
# 1. spectral_gaps' phase boundaries at Δ = constrained_mixing's D1 extremes at c = 1 − Δ

_T_M = "consolidation boundary t_M (VE t = σ²)"
_T_TRIV = "trivial boundary t_triv (VE t = σ²)"
_CLASSES = "phase ↔ D1 class, near the boundaries and on a log grid (mismatches)"
_MP = "edges γ₋, γ₊ as α → 0: |(1 − γ₋/λ_min)/√α − 2|, |(γ₊/λ_max − 1)/√α − 2|"


def _phase_class(d_loc: int, k: int) -> str:
    """The phase the D1 count stands for: k → consolidation, 0 → trivial, else coverage."""
    return "consolidation" if d_loc == k else "trivial" if d_loc == 0 else "coverage"


@claim(
    id="cross_paper.phase_boundaries_staircase",
    paper=PAPER,
    kind="exact",
    statement="For Gaussian data on a k-plane, spectral_gaps' phase boundaries at resolution Δ, "
    "t_M = γ₋(1 − Δ)/Δ and t_triv = γ₊(1 − Δ)/Δ with γ± the extreme eigenvalues of the covariance, are "
    "the squares of constrained_mixing's outermost staircase steps at c = 1 − Δ, and the D1 local "
    "dimension is k exactly in consolidation, 0 exactly in the trivial phase; the Marchenko–Pastur "
    "edges tend to the variances as α → 0.",
    source="paper001 §2.3 Eq. 17 [R], §2.6 and T12 (phases); paper000 §2.2 D1 [R] and T-A5 (staircase); "
    "the bridge c = 1 − Δ, γ₋ = min λ, γ₊ = max λ derived here; random k ∈ [2, 5], d ≤ k + 6, λ ∈ [0.01, 10]",
    control="σ passed where t belongs in constrained_mixing's closed forms: the staircase steps σ_j "
    "are taken as the boundary times, and d_loc is read at σ = t.",
    seed=0,
)
def phase_boundaries_staircase(ctx: Context) -> Outcome:
    rows: dict[tuple[str, str], list[float]] = {}
    mismatches, mp_dev, n_grid = 0, [], 0
    for case in cases(ctx.seed, _n_cases(ctx)):
        spec, delta, c, k = case.spec, case.delta, case.c, case.spec.k
        lo, hi = _ve_bracket(spec)

        def eig(t, spec=spec):
            return _minus_tj_eigenvalues(spec, t)

        # reference: the built −tJ spectrum; manifold gap 1 − μ_(k) (largest tangent), trivial
        # when the largest distance from 1, 1 − μ_(1), drops below Δ
        t_m = _crossing(eig, k - 1, c, lo, hi)
        t_triv = _crossing(eig, 0, c, lo, hi)
        cov = np.linalg.eigvalsh(spec.covariance)[-k:]  # the k nonzero eigenvalues of C
        sg = spectra.phase_boundaries(cov[0], cov[-1], delta)
        steps = spectra.staircase_steps(spec.variances, c)
        cm = (steps[-1] ** 2, steps[0] ** 2)

        def d_loc(t, spec=spec, c=c):
            # constrained_mixing's D1 takes the noise level σ = √t (the control passes t itself)
            return int(spectra.local_dimension(spec.variances, t if ctx.control else np.sqrt(t), c))

        if ctx.control:
            cm = (steps[-1], steps[0])
        # spectral_gaps' gap function solved for Δ: the manifold gap γ₋/(t + γ₋), and the largest
        # distance from the spike, γ₊/(t + γ₊)
        gap_roots = [
            _root(lambda t, g=g, r=delta: spectra.manifold_gap(t, g) - r, lo, hi)
            for g in cov[[0, -1]]
        ]
        rows.setdefault((_T_M, "spectral_gaps"), []).append(
            max(_rel(sg[0], t_m), _rel(gap_roots[0], t_m))
        )
        rows.setdefault((_T_TRIV, "spectral_gaps"), []).append(
            max(_rel(sg[1], t_triv), _rel(gap_roots[1], t_triv))
        )
        rows.setdefault((_T_M, "constrained_mixing"), []).append(_rel(cm[0], t_m))
        rows.setdefault((_T_TRIV, "constrained_mixing"), []).append(_rel(cm[1], t_triv))
        # just below/above each boundary both name the same phase (k ≥ 2, distinct variances)
        near = {
            t_m * (1 - ETA): "consolidation",
            t_m * (1 + ETA): "coverage",
            t_triv * (1 - ETA): "coverage",
            t_triv * (1 + ETA): "trivial",
        }
        for t, want in near.items():
            got = (_phase_class(d_loc(t), k), spectra.phase(t, cov[0], cov[-1], delta))
            mismatches += got != (want, want)
        grid = np.geomspace(t_m / 100, 100 * t_triv, 200)
        labels = spectra.phase(grid, cov[0], cov[-1], delta)
        mismatches += sum(
            _phase_class(d_loc(t), k) != label for t, label in zip(grid, labels, strict=True)
        )
        n_grid += grid.size + len(near)
        # the random-projection edges collapse onto the extreme variances at the rate 2√α
        edges = spectra.silverstein_edges(np.full(k, MP_ALPHA), spec.variances)
        lam = np.sort(spec.variances)
        root = np.sqrt(MP_ALPHA)
        mp_dev.append(abs((1 - edges[0][0] / lam[0]) / root - 2))
        mp_dev.append(abs((edges[-1][1] / lam[-1] - 1) / root - 2))
    worst = _worst(rows)
    rows_cw = _outcome_rows(
        worst,
        {
            (_T_M, "spectral_gaps"): "phase_boundaries; brentq on manifold_gap",
            (_T_TRIV, "spectral_gaps"): "phase_boundaries; brentq on manifold_gap",
            (_T_M, "constrained_mixing"): "staircase_steps (smallest)²",
            (_T_TRIV, "constrained_mixing"): "staircase_steps (largest)²",
        },
    )
    rows_cw += [
        crosswalk_row(_CLASSES, "spectral_gaps", "phase", mismatches),
        crosswalk_row(_CLASSES, "constrained_mixing", "local_dimension", mismatches),
        crosswalk_row(_MP, "spectral_gaps", "silverstein_edges", max(mp_dev)),
    ]
    checks = [
        check(f"{q}: {p} vs brentq root (max rel err)", v, "≤", TOL) for (q, p), v in worst.items()
    ]
    checks.append(check("phase ↔ D1 class mismatches", mismatches, "==", 0))
    checks.append(
        check("Marchenko–Pastur edges → variances at rate 2√α", max(mp_dev), "≤", MP_BOUND)
    )
    return Outcome(
        predicted={
            "t_M": "γ₋(1 − Δ)/Δ = σ_k² (smallest step at c = 1 − Δ)",
            "t_triv": "γ₊(1 − Δ)/Δ = σ_1² (largest step)",
            "d_loc": "k in consolidation, 0 in the trivial phase, in between in coverage",
            "edges": f"(1 ∓ γ±/λ)/√α → 2 (α = {MP_ALPHA:g} per level)",
        },
        measured={f"{q}: {p}": v for (q, p), v in worst.items()}
        | {"phase ↔ D1 mismatches": f"{mismatches} of {n_grid} times", "edge rate": max(mp_dev)},
        tolerance={"closed forms vs the built spectrum": TOL, "mismatches": 0, "edges": MP_BOUND},
        checks=checks,
        crosswalk=rows_cw,
        notes=f"{_n_cases(ctx)} random cases. Reference: brentq roots (rtol 4ε) of the built "
        "−tJ spectrum (theory.distributions.LinearGaussian.jacobian at σ = √t, eigvalsh) where the "
        "largest tangent eigenvalue μ_(k) (the manifold gap 1 − μ_(k) = Δ) and the smallest μ_(1) "
        "cross c = 1 − Δ. spectral_gaps: phase_boundaries and the brentq roots of its manifold_gap "
        "(t, γ) = Δ at γ₋ and γ₊ (the worse of the two is reported). γ₋, γ₊ are the extreme nonzero "
        "eigenvalues of the built covariance QΛQᵀ. "
        f"Phase and d_loc are compared at t(1 ± {ETA:g}) around each boundary and on 200 "
        "log-spaced t in [t_M/100, 100 t_triv] per case. At the boundary itself the two differ by "
        "definition only: phase() keeps t_triv in coverage (every eigenvalue strictly within Δ of 1), "
        "while d_loc is already 0 there (μ ≥ c counts as not below c).",
    )


# --------------------------------------------------------------------------------------------
# 2. v · drift energy (manifold_detection, v_t = 2t) = tr(−vJ) (spectral_gaps, t = v), normal
#    part d − k (rate_separation's σ²E‖s_⊥‖² at σ² = v)

_ENERGY = "v·E‖s‖² = tr(−vJ), VE noise variance v"
_NORMAL = "normal part v·E‖s_⊥‖² = d − k (VE)"
_RATE = "(d − k)/2: growth of ∫E dt per e-fold (VE)"
_V_RANGE = (1e-3, 1e2)


def _built_moments(spec: LinearGaussian, v: float) -> dict[str, float]:
    """Exact moments of the built linear score s(x) = Jx at x ~ N(0, QΛQᵀ + vI), VE σ² = v.

    E‖s‖² = ‖JQΛ^{1/2}‖²_F + v‖J‖²_F, its normal part with P_⊥J in place of J, and the traces of
    −vJ and of its normal block (no covariance is formed, so no rounding of QΛQᵀ leaks into the
    normal block).
    """
    j = spec.jacobian(np.zeros(spec.d), np.sqrt(v))
    n = spec.normal_basis
    jq = j @ spec.basis * np.sqrt(spec.variances)
    nj = n.T @ j
    return {
        "energy": v * (np.sum(jq**2) + v * np.sum(j**2)),
        "trace": -v * np.trace(j),
        "normal energy": v * (np.sum((n.T @ jq) ** 2) + v * np.sum(nj**2)),
        "normal trace": -v * np.trace(nj @ n),
    }


@claim(
    id="cross_paper.drift_energy_trace",
    paper=PAPER,
    kind="exact",
    statement="At noise variance v, v times manifold_detection's drift energy (VE: α = 0 at time t = v/2) "
    "equals the trace of −vJ from spectral_gaps' spectrum at t = v, and its normal part equals d − k, "
    "rate_separation's σ²E‖s_⊥‖² at σ² = v (twice manifold_detection's (d − k)/2 rate).",
    source="paper002 §2 B1 [R], T-B2 (drift energy, v_t = 2t at α = 0); paper001 §2.2 T1–T3 (spectrum of "
    "−tJ); paper003 eq. (20) [P], T-C1 (normal stiffness σ⁻², σ²E s_⊥² = d − n); Stein's identity "
    "E‖s‖² = −E tr J; random cases, v log-uniform on [1e-3, 1e2]",
    control="v_t = t instead of 2t: manifold_detection's drift energy is read at its time t = v.",
    seed=1,
)
def drift_energy_trace(ctx: Context) -> Outcome:
    rows: dict[tuple[str, str], list[float]] = {}
    stein, normal_trace = [], []
    rng = np.random.default_rng([ctx.seed, 2])
    n_v = ctx.profile.pick(quick=5, full=20)
    for case in cases(ctx.seed, _n_cases(ctx)):
        spec = case.spec
        d, k, lam = spec.d, spec.k, spec.variances
        for v in np.exp(rng.uniform(*np.log(_V_RANGE), n_v)):
            ref = _built_moments(spec, v)
            t_md = v if ctx.control else v / 2  # manifold_detection's VE time: v_t = 2t
            md = v * scaling.drift_energy(t_md, d, lam, alpha=0.0)
            md_normal = v * (
                scaling.drift_energy(t_md, d, lam, alpha=0.0)
                - scaling.drift_energy(t_md, k, lam, alpha=0.0)
            )
            sv = spectra.linear_gaussian_singular_values(lam, d, np.sqrt(v))
            rs_normal = (d - k) * v * scaling.normal_stiffness(np.sqrt(v))
            stein.append(_rel(ref["trace"], ref["energy"]))
            normal_trace.append(_rel(ref["normal trace"], d - k))
            for key, value in [
                ((_ENERGY, "spectral_gaps"), _rel(v * sv.sum(), ref["energy"])),
                ((_ENERGY, "manifold_detection"), _rel(md, ref["energy"])),
                ((_NORMAL, "spectral_gaps"), _rel(v * sv[: d - k].sum(), ref["normal energy"])),
                ((_NORMAL, "manifold_detection"), _rel(md_normal, ref["normal energy"])),
                ((_NORMAL, "rate_separation"), _rel(rs_normal, ref["normal energy"])),
                (
                    (_RATE, "manifold_detection"),
                    _rel(scaling.drift_energy_rate(d, k), ref["normal energy"] / 2),
                ),
                ((_RATE, "rate_separation"), _rel(rs_normal / 2, ref["normal energy"] / 2)),
            ]:
                rows.setdefault(key, []).append(value)
    worst = _worst(rows)
    names = {
        (_ENERGY, "spectral_gaps"): "linear_gaussian_singular_values (v Σ s_i)",
        (_ENERGY, "manifold_detection"): "drift_energy (α = 0, t = v/2)",
        (_NORMAL, "spectral_gaps"): "linear_gaussian_singular_values (normal s_i)",
        (_NORMAL, "manifold_detection"): "drift_energy(d) − drift_energy(k)",
        (_NORMAL, "rate_separation"): "normal_stiffness",
        (_RATE, "manifold_detection"): "drift_energy_rate",
        (_RATE, "rate_separation"): "normal_stiffness",
    }
    checks = _identity_checks(worst, "the built score")
    checks.append(check("Stein: built tr(−vJ) vs v·E‖s‖² (max rel err)", max(stein), "≤", TOL))
    checks.append(
        check("built normal trace −v tr(P_⊥J) vs d − k (max rel err)", max(normal_trace), "≤", TOL)
    )
    return Outcome(
        predicted={
            "v·E‖s‖²": "(d − k) + Σ_j v/(λ_j + v) = tr(−vJ)",
            "normal part": "d − k",
            "rate": "(d − k)/2",
        },
        measured={f"{q}: {p}": v for (q, p), v in worst.items()}
        | {"Stein (built)": max(stein), "normal trace (built)": max(normal_trace)},
        tolerance=TOL,
        checks=checks,
        crosswalk=_outcome_rows(worst, names),
        notes=f"{_n_cases(ctx)} random cases × {n_v} noise variances. Reference: the exact moments of "
        "the built linear score s = Jx (LinearGaussian.jacobian at σ = √v) under x ~ N(0, QΛQᵀ + vI): "
        "E‖s‖² = ‖JQΛ^{1/2}‖² + v‖J‖², its normal part with the normal projector, and tr(−vJ). "
        "manifold_detection's VE is the α = 0 process dX = √2 dB, noise variance v_t = 2t "
        "(theory.schedules.ou_v), so the energy at variance v is drift_energy(v/2, α = 0); its normal "
        "part is the difference with the full-dimensional case k = d. rate_separation's σ is the "
        "noise standard deviation, σ² = v.",
    )


# --------------------------------------------------------------------------------------------
# 3. constrained_mixing's staircase steps σ_j are where spectral_gaps' tangent eigenvalues
#    t/(t + λ_j) cross c, at t = σ_j²

_STEP = "staircase step t_j = σ_j² (VE)"
_COUNT = "D1 count #{μ_i < c} on a log grid (mismatches)"


@claim(
    id="cross_paper.staircase_crossings",
    paper=PAPER,
    kind="exact",
    statement="constrained_mixing's staircase steps σ_j = √λ_j (1/c − 1)^(−1/2) are the square roots of "
    "the times t at which spectral_gaps' tangent eigenvalues t/(t + λ_j) of −tJ cross c, and its D1 "
    "count equals the number of eigenvalues of −σ²J below c at every σ.",
    source="paper000 §2.2 D1 [R], T-A5 (staircase_steps, local_dimension); paper001 §2.2 (μ = t/(t + λ), "
    "t = σ²); random cases and c = 1 − Δ, Δ ∈ [0.05, 0.95]",
    control="σ passed where t belongs: the steps σ_j are compared with the crossing times, and d_loc "
    "is read at σ = t.",
    seed=2,
)
def staircase_crossings(ctx: Context) -> Outcome:
    rows: dict[tuple[str, str], list[float]] = {}
    mismatches = n_grid = 0
    for case in cases(ctx.seed, _n_cases(ctx)):
        spec, c, k, d = case.spec, case.c, case.spec.k, case.spec.d
        lam = spec.variances
        lo, hi = _ve_bracket(spec)

        def built(t, spec=spec):
            return _minus_tj_eigenvalues(spec, t)

        def closed(t, lam=lam, d=d):  # spectral_gaps' spectrum of −tJ in closed form, ascending
            return np.sort(t * spectra.linear_gaussian_singular_values(lam, d, np.sqrt(t)))

        ref = np.array([_crossing(built, j, c, lo, hi) for j in range(k)])
        sg = np.array([_crossing(closed, j, c, lo, hi) for j in range(k)])
        steps = spectra.staircase_steps(lam, c)  # decreasing: the j-th smallest μ crosses first
        cm = steps if ctx.control else steps**2
        rows.setdefault((_STEP, "spectral_gaps"), []).append(_rel(sg, ref))
        rows.setdefault((_STEP, "constrained_mixing"), []).append(_rel(cm, ref))
        grid = np.geomspace(ref.min() / 30, 30 * ref.max(), 120)
        for t in grid:
            sigma = t if ctx.control else np.sqrt(t)
            want = int(spectra.local_dimension(lam, sigma, c))
            mismatches += int(np.sum(built(t) < c)) != want
            mismatches += int(np.sum(closed(t) < c)) != want
        n_grid += grid.size
    worst = _worst(rows)
    checks = _identity_checks(worst, "brentq root of the built spectrum")
    checks.append(check("D1 count vs eigenvalues of −tJ below c (mismatches)", mismatches, "==", 0))
    cw = _outcome_rows(
        worst,
        {
            (_STEP, "spectral_gaps"): "linear_gaussian_singular_values (brentq)",
            (_STEP, "constrained_mixing"): "staircase_steps²",
        },
    )
    cw += [
        crosswalk_row(_COUNT, "spectral_gaps", "linear_gaussian_singular_values", mismatches),
        crosswalk_row(_COUNT, "constrained_mixing", "local_dimension", mismatches),
    ]
    return Outcome(
        predicted={"t_j": "σ_j² = λ_j c/(1 − c)", "d_loc(σ)": "#{i : μ_i(t = σ²) < c}"},
        measured={f"{q}: {p}": v for (q, p), v in worst.items()}
        | {"count mismatches": f"{mismatches} of {2 * n_grid}"},
        tolerance={"steps": TOL, "counts": 0},
        checks=checks,
        crosswalk=cw,
        notes=f"{_n_cases(ctx)} random cases. Reference: brentq roots (rtol 4ε) where the j-th "
        "smallest eigenvalue of the built −tJ (LinearGaussian.jacobian at σ = √t) crosses c; "
        "spectral_gaps' route: the same roots of its closed-form spectrum t·s_i(√t) "
        "(theory.spectra.linear_gaussian_singular_values). Counts on 120 log-spaced t per case in "
        "[t_k/30, 30 t_1], both spectra against local_dimension at σ = √t.",
    )


# --------------------------------------------------------------------------------------------
# 4. The VP forms, through the exact VP↔VE map σ(t)² = v_t/a_t² = e^{2t} − 1

_VP_ENERGY = "VP v_t·E‖s‖² = tr(−v_t J^VP)"
_VP_NORMAL = "VP normal part −v_t tr(P_⊥J^VP) = d − k"
_VP_STEP = "VP staircase step times (OU time t)"
_VP_PHASE = "VP phase boundaries t_M, t_triv (OU time t)"
_VP_COUNT = "VP D1 count #{v_t s_i^VP < c} (mismatches)"
_VP_T_RANGE = (1e-3, 3.0)
_VP_BRACKET = (1e-12, 10.0)


def _vp_jacobian(spec: LinearGaussian, t: float) -> np.ndarray:
    """The built VP score Jacobian at OU time t: the VE score mapped by vp_score_from_ve, read on the
    unit vectors (the score is linear in x)."""
    score_vp = vp_score_from_ve(spec.score)
    m = score_vp(np.eye(spec.d), t)  # row i: s(e_i) = J e_i
    return 0.5 * (m + m.T)


@claim(
    id="cross_paper.vp_forms",
    paper=PAPER,
    kind="exact",
    statement="In VP/OU time t (x_t = a_t x_0 + √v_t ε, a_t = e^{−t}, v_t = 1 − e^{−2t}) the same identities "
    "hold through the map σ(t)² = v_t/a_t²: v_t times manifold_detection's α = 1 drift energy is the trace "
    "of −v_t J^VP, its normal part is d − k (rate_separation's VP σ² = v_t), and the D1 steps and phase "
    "boundaries are the VE ones mapped by ve_sigma_to_vp_t.",
    source="paper000 §1.2 (VP by σ² → v_t/a_t²) and T-A4 (D1 in VP form, v_t s_i < c); paper001 T12; "
    "paper002 §1.1, B1 [R] (α = 1); paper003 §1.2 (VP x_σ = √(1 − σ²)x + σZ), eq. (20) [P]; random "
    "cases, t log-uniform on [1e-3, 3]",
    control="rate_separation's VP noise level read as the VE one: normal_stiffness(σ(t)) with "
    "σ(t) = vp_t_to_ve_sigma(t) in place of normal_stiffness(√v_t).",
    seed=3,
)
def vp_forms(ctx: Context) -> Outcome:
    rows: dict[tuple[str, str], list[float]] = {}
    mismatches = n_counted = 0
    rng = np.random.default_rng([ctx.seed, 4])
    n_t = ctx.profile.pick(quick=5, full=20)
    for case in cases(ctx.seed, _n_cases(ctx)):
        spec, c, delta = case.spec, case.c, case.delta
        d, k, lam = spec.d, spec.k, spec.variances
        n = spec.normal_basis
        for t in np.exp(rng.uniform(*np.log(_VP_T_RANGE), n_t)):
            v, sigma = float(vp_v(t)), float(vp_t_to_ve_sigma(t))
            j = _vp_jacobian(spec, t)
            trace, normal = -v * np.trace(j), -v * np.trace(n.T @ j @ n)
            md = v * scaling.drift_energy(t, d, lam, alpha=1.0)
            md_normal = v * (
                scaling.drift_energy(t, d, lam, alpha=1.0)
                - scaling.drift_energy(t, k, lam, alpha=1.0)
            )
            sv = sigma**2 * spectra.linear_gaussian_singular_values(lam, d, sigma)
            rs_sigma = sigma if ctx.control else np.sqrt(v)  # paper003's VP σ is √v_t
            rs_normal = (d - k) * v * scaling.normal_stiffness(rs_sigma)
            for key, value in [
                ((_VP_ENERGY, "manifold_detection"), _rel(md, trace)),
                ((_VP_ENERGY, "spectral_gaps"), _rel(sv.sum(), trace)),
                ((_VP_NORMAL, "spectral_gaps"), _rel(sv[: d - k].sum(), normal)),
                ((_VP_NORMAL, "manifold_detection"), _rel(md_normal, normal)),
                ((_VP_NORMAL, "rate_separation"), _rel(rs_normal, normal)),
            ]:
                rows.setdefault(key, []).append(value)
            # D1 in VP form: the eigenvalues of −v_t J^VP below c, against local_dimension at σ(t)
            counted = int(np.sum(np.linalg.eigvalsh(-v * j) < c))
            mismatches += counted != int(spectra.local_dimension(lam, sigma, c))
            n_counted += 1

        def vp_eig(u, spec=spec):
            return np.linalg.eigvalsh(-float(vp_v(u)) * _vp_jacobian(spec, u))

        ref = np.array([_crossing(vp_eig, j, c, *_VP_BRACKET) for j in range(k)])
        cm = ve_sigma_to_vp_t(spectra.staircase_steps(lam, c))
        cov = np.linalg.eigvalsh(spec.covariance)[-k:]
        sg_b = ve_sigma_to_vp_t(np.sqrt(spectra.phase_boundaries(cov[0], cov[-1], delta)))
        rows.setdefault((_VP_STEP, "constrained_mixing"), []).append(_rel(cm, ref))
        rows.setdefault((_VP_PHASE, "spectral_gaps"), []).append(_rel(sg_b, ref[[-1, 0]]))
        rows.setdefault((_VP_PHASE, "constrained_mixing"), []).append(
            _rel(cm[[-1, 0]], ref[[-1, 0]])
        )
    worst = _worst(rows)
    names = {
        (_VP_ENERGY, "manifold_detection"): "drift_energy (α = 1)",
        (_VP_ENERGY, "spectral_gaps"): "linear_gaussian_singular_values at vp_t_to_ve_sigma(t)",
        (_VP_NORMAL, "spectral_gaps"): "linear_gaussian_singular_values at σ(t) (normal s_i)",
        (_VP_NORMAL, "manifold_detection"): "drift_energy(d) − drift_energy(k) (α = 1)",
        (_VP_NORMAL, "rate_separation"): "normal_stiffness(√v_t)",
        (_VP_STEP, "constrained_mixing"): "ve_sigma_to_vp_t(staircase_steps)",
        (_VP_PHASE, "spectral_gaps"): "ve_sigma_to_vp_t(√phase_boundaries)",
        (_VP_PHASE, "constrained_mixing"): "ve_sigma_to_vp_t(staircase_steps), outermost",
    }
    checks = _identity_checks(worst, "the built VP Jacobian")
    checks.append(check("VP D1 count vs local_dimension at σ(t) (mismatches)", mismatches, "==", 0))
    cw = _outcome_rows(worst, names)
    cw += [
        crosswalk_row(
            _VP_COUNT, "constrained_mixing", "local_dimension at vp_t_to_ve_sigma(t)", mismatches
        )
    ]
    return Outcome(
        predicted={
            "v_t·E‖s‖²": "(d − k) + Σ_j v_t/(a_t²λ_j + v_t)",
            "normal part": "d − k",
            "steps": "ve_sigma_to_vp_t(σ_j)",
            "phase boundaries": "ve_sigma_to_vp_t(√t_M), ve_sigma_to_vp_t(√t_triv)",
        },
        measured={f"{q}: {p}": v for (q, p), v in worst.items()}
        | {"VP D1 count mismatches": f"{mismatches} of {n_counted}"},
        tolerance={"closed forms vs the built VP Jacobian": TOL, "counts": 0},
        checks=checks,
        crosswalk=cw,
        notes=f"{_n_cases(ctx)} random cases × {n_t} OU times. Reference: the VP Jacobian built from "
        "the VE score by theory.schedules.vp_score_from_ve (J^VP = a_t⁻² J(σ(t)), read on the unit "
        "vectors), its traces and eigenvalues, and brentq roots (rtol 4ε, OU time in [1e-12, 10]) "
        "where the j-th smallest eigenvalue of −v_t J^VP crosses c = 1 − Δ. manifold_detection's "
        "α = 1 process is the project's VP (a_t = e^{−t}, v_t = 1 − e^{−2t}); rate_separation's VP "
        "noise level is σ = √v_t, not the VE σ(t) = √(e^{2t} − 1).",
    )
