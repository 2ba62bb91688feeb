"""The σ-scaling-law atlas of Li, Shen, Hsieh, He, *When scores learn geometry: rate separations
under the manifold hypothesis* (ICLR 2026; paper key ``rate_separation``; research note paper003).

One claim, one figure: every σ-scaling law of the note's summary table (§2, "Summary of checkable
σ-scaling laws") that :mod:`theory.scaling` states with an exponent is measured over a range of σ
(or σ_min) by a route independent of the prediction, its log-log exponent is fitted, and the
fitted exponent's 95% interval, widened by a model-error allowance, must hold the predicted one.

Convention: VE, :math:`x_\\sigma = x + \\sigma Z`, σ the noise standard deviation at a fixed level
(§1.2); circle of radius R = 1 centred at the origin, data von Mises(κ = 1, θ₀ = 0) in the angle.

The allowance
-------------
Exact measurements (closed-form fields, tube-grid quadrature, ODE solves) have tiny residuals, so
a confidence interval alone would fail on the known next-order correction. For each law the
next-order term is known (or bounded) as a relative correction :math:`a\\sigma^q` to the leading
power law, :math:`y = C\\sigma^p(1 + a\\sigma^q)`, whose local log-log slope is
:math:`p + qa\\sigma^q/(1 + a\\sigma^q)`. A least-squares slope is a positively weighted average
of local slopes, so it lies within :math:`\\max_{fit} q|a|\\sigma^q/(1 - |a|\\sigma^q)` of p. Points
are fitted only where the next-order term is below :data:`FRACTION` (and where the law's own
validity holds: thickness below a tenth of the reach, the law inside the tube), and the interval
is widened by :data:`SAFETY` times that bound (the factor covers the remainder beyond next order,
smaller still in the fitted range). Where the next-order term is a theory curve (the von Mises TV),
its local slope is computed from :mod:`theory` directly.
"""

from __future__ import annotations

import numpy as np
from scipy import integrate, linalg, stats

from compare.claim import Context, FigureSpec, Outcome, check
from compare.registry import claim
from compare.style import PALETTE, fit_loglog_slope
from empirical import tube_grid
from theory import rate_relaxation, scaling

PAPER = "rate_separation"

RADIUS = 1.0  # R, the circle's radius (its reach)
KAPPA = 1.0  # von Mises concentration of the data angle (w.r.t. dθ), θ₀ = 0
FRACTION = 0.005  # fit only where the next-order relative term is below this (allowances ≤ 0.02)
SAFETY = 2.0  # the allowance is SAFETY × the largest slope shift of the next-order term fitted
THICK_FRACTION = 0.1  # a TS cloud (or Gibbs law) must stay within this fraction of the reach
LEVEL = 0.95  # the confidence level of the fitted exponent's interval
FAULT_POWER = 0.2  # the control scales the score's normal part by σ^FAULT_POWER
FD_STEP = 1e-3  # central-difference step, in units of σ
RING = 0.1  # eq. (20) is evaluated on the rings ρ ∈ {−RING·R, 0, RING·R}
C_GIBBS = 0.3  # amplitude c of the Gibbs normal error cσ^{−γ}ρ (note T-C5)
C_TS = 0.5  # amplitude c of the TS gradient error cσ^{−γ}∇cos(θ − π/2) (note T-C9)
C_REVERSE = 0.3  # amplitude c of the reverse-pass normal error c s^{−γ/2} (note T-C14)
T_REVERSE = 100.0  # the reverse pass starts at s = σ² = T (note T-C14)
_LOG_STEP = 1e-4  # step in log σ for the local slope of a theory curve

#: Eq. (20)'s relative next-order coefficient, a bound from the expansion of
#: R[A(|w|)ŵ − x̂] (A(z) = 1 − 1/(2z) − 1/(8z²) …, ŵ − x̂ of angle κσ² sin φ/(Rr)): the σ⁴ terms
#: total at most (1/8 + κ + 3κ²/2)/(R r²), the σ² term at least 1/(2r), over rings r ≥ (1 − RING)R.
A_EQ20 = 2.0 * (0.125 + KAPPA + 1.5 * KAPPA**2) / (RADIUS**2 * (1.0 - RING) ** 3)


# --------------------------------------------------------------------------------------------
# Fits


def _local_slope(fn, sigma: np.ndarray) -> np.ndarray:
    """d log fn / d log σ by a central difference in log σ (step 1e-4)."""
    up, down = fn(sigma * np.exp(_LOG_STEP)), fn(sigma * np.exp(-_LOG_STEP))
    return (np.log(up) - np.log(down)) / (2 * _LOG_STEP)


def _power_shift(a: float, q: float, sigma: np.ndarray) -> np.ndarray:
    """The largest local-slope shift q|a|σ^q/(1 − |a|σ^q) of a relative term aσ^q (∞ once |a|σ^q ≥ 1)."""
    term = abs(a) * sigma**q
    with np.errstate(divide="ignore"):
        return np.where(term < 1.0, q * term / (1.0 - term), np.inf)


def _threshold(valid, lo: float, hi: float) -> float | None:
    """The smallest σ in [lo, hi] (on a fine geometric grid) where ``valid`` fails; None if none."""
    grid = np.geomspace(lo, hi, 400)
    bad = ~valid(grid)
    return float(grid[np.argmax(bad)]) if bad.any() else None


def _series(
    label: str,
    sigma,
    values,
    predicted: float,
    valid,
    shift,
    allowance_rule: str,
    predicted_curve=None,
) -> dict:
    """Fit one law: slope of log value on log σ over the valid points, its t-interval and allowance.

    ``valid(σ)`` says where the law is expected to hold (vectorised), ``shift(σ)`` is the local-slope
    shift of the known next-order term, ``predicted_curve`` the theory's values (None: only an
    exponent is predicted, and the line is anchored at the fitted points' centre)."""
    sigma, values = np.asarray(sigma, float), np.asarray(values, float)
    mask = valid(sigma) & (values > 0)
    out = {
        "label": label,
        "sigma": sigma.tolist(),
        "value": values.tolist(),
        "fitted": mask.tolist(),
        "predicted exponent": float(predicted),
        "excluded from σ": _threshold(valid, sigma.min(), sigma.max() * 1.5),
        "allowance rule": allowance_rule,
        "predicted curve": None
        if predicted_curve is None
        else np.asarray(predicted_curve).tolist(),
    }
    n = int(mask.sum())
    if n < 3:  # too few valid points to fit a slope with an error: a failed measurement
        out.update(slope=float("nan"), se=float("nan"), t=float("nan"), allowance=float("nan"))
        out.update(half_width=float("nan"), intercept=float("nan"), n=n, sigma_fit=[])
        return out
    xs, ys = sigma[mask], values[mask]
    slope, se = fit_loglog_slope(xs, ys)
    t = float(stats.t.ppf(0.5 + LEVEL / 2, n - 2))
    allowance = SAFETY * float(np.max(shift(xs)))
    out.update(
        slope=slope,
        se=se,
        t=t,
        ci=[slope - t * se, slope + t * se],
        allowance=allowance,
        half_width=t * se + allowance,
        intercept=float(np.mean(np.log(ys)) - slope * np.mean(np.log(xs))),
        n=n,
        sigma_fit=[float(xs.min()), float(xs.max())],
    )
    return out


def _exponent(fn) -> float:
    """The exponent a theory function states, as its log-log slope deep in the small-σ limit."""
    return float(np.log(fn(1e-12) / fn(1e-13)) / np.log(10.0))


# --------------------------------------------------------------------------------------------
# Measurements


def _field(x: np.ndarray, sigma: float, fault: bool) -> np.ndarray:
    """The exact circle score (κ = 1, VE); under the fault its normal (radial) part × σ^0.2."""
    s = scaling.noised_circle_score(x, sigma, KAPPA, RADIUS)
    if fault:
        nu = x / np.linalg.norm(x, axis=1, keepdims=True)
        s = s + (sigma**FAULT_POWER - 1.0) * np.sum(s * nu, axis=1, keepdims=True) * nu
    return s


def _angles(n: int) -> np.ndarray:
    return 2 * np.pi * (np.arange(n) + 0.5) / n


def _stiffness(sigmas: np.ndarray, n_angles: int, fault: bool) -> tuple[np.ndarray, np.ndarray]:
    """−∂_ν s_ν at points of M by central differences along the normal: mean and spread over angles."""
    theta = _angles(n_angles)
    nu = np.column_stack([np.cos(theta), np.sin(theta)])
    mean, spread = [], []
    for sigma in sigmas:
        h = FD_STEP * sigma
        up = np.sum(_field(RADIUS * nu + h * nu, sigma, fault) * nu, axis=1)
        down = np.sum(_field(RADIUS * nu - h * nu, sigma, fault) * nu, axis=1)
        stiff = -(up - down) / (2 * h)
        mean.append(stiff.mean())
        spread.append(stiff.max() - stiff.min())
    return np.array(mean), np.array(spread)


def _eq20_residual(sigmas: np.ndarray, n_angles: int, fault: bool) -> np.ndarray:
    """sup ‖σ²s + (x − P_M x)‖ over the rings ρ ∈ {−0.1R, 0, 0.1R} × n_angles angles."""
    theta = _angles(n_angles)
    nu = np.column_stack([np.cos(theta), np.sin(theta)])
    x = np.concatenate([(RADIUS + rho) * nu for rho in (-RING * RADIUS, 0.0, RING * RADIUS)])
    foot = RADIUS * x / np.linalg.norm(x, axis=1, keepdims=True)
    return np.array(
        [
            np.max(np.linalg.norm(sigma**2 * _field(x, sigma, fault) + (x - foot), axis=1))
            for sigma in sigmas
        ]
    )


def _temperature(sigma, alpha: float):
    """TS Langevin's effective temperature θ = σ^{2−α} (eq. (8) is Langevin on σ^α log p_σ)."""
    return np.asarray(sigma, dtype=float) ** (2.0 - alpha)


def _ts_law(sigma: float, alpha: float, n_t: int, n_rho: int, error=None) -> tube_grid.TubeLaw:
    """The TS stationary law ∝ exp(σ^α [log p_σ + cσ^{−γ}φ]) on the tube grid (note T-C7, T-C9).

    ``error``: None, or (c, γ) for the gradient error cσ^{−γ}∇φ with φ = cos(θ − π/2)."""
    width = min(10.0 * np.sqrt(_temperature(sigma, alpha)), 0.9 * RADIUS)  # ±10 cloud scales

    def log_density(x):
        f = scaling.noised_circle_log_density(x, sigma, KAPPA, RADIUS)
        if error is not None:
            c, gamma = error
            f = f + c * sigma**-gamma * x[:, 1] / np.linalg.norm(x, axis=1)
        return sigma**alpha * f

    return tube_grid.tube_law(log_density, tube_grid.circle(RADIUS), width, n_t=n_t, n_rho=n_rho)


def _tv_to_arc(law: tube_grid.TubeLaw) -> float:
    """TV between the law's angle marginal and the arc-length (volume) law on the same cells."""
    arc = tube_grid.arc_length_masses(law.curve, law.t.size)
    return tube_grid.total_variation(law.parameter_marginal(), arc)


def _gibbs_offset(sigma: float, gamma: float, n_t: int, cells_per_sigma: int) -> float:
    """E ρ under π_σ ∝ p_σ e^{cσ^{−γ}ρ} on the tube grid (note T-C5): ρ-step σ/cells_per_sigma."""
    centre = C_GIBBS * sigma ** (2.0 - gamma)
    width = min(centre + 12.0 * sigma, 0.9 * RADIUS)
    n_rho = int(np.ceil(2 * width * cells_per_sigma / sigma))

    def log_density(x):
        rho = np.linalg.norm(x, axis=1) - RADIUS
        f = scaling.noised_circle_log_density(x, sigma, KAPPA, RADIUS)
        return f + C_GIBBS * sigma**-gamma * rho

    law = tube_grid.tube_law(log_density, tube_grid.circle(RADIUS), width, n_t=n_t, n_rho=n_rho)
    return law.normal_mean()


def _terminal_offsets(sigma_min: np.ndarray, gamma: float, flow: str) -> np.ndarray:
    """Normal mean at σ_min of the VE reverse pass on a Gaussian line, erroneous score −ρ/s + c s^{−γ/2}.

    The normal coordinate's exact score is −ρ/s (s = σ²), affine in ρ, so the mean m obeys a linear
    ODE, integrated down from s = T with m(T) = 0 by ``solve_ivp`` (LSODA, rtol 1e-11): the reverse
    SDE dx = score·(−ds) + dW gives dm/ds = −E[score] = m/s − c s^{−γ/2}; the probability-flow ODE
    takes half the score, dm/ds = m/(2s) − (c/2)s^{−γ/2}."""
    half = 0.5 if flow == "pf" else 1.0

    def rhs(s, m):
        return -half * (-m / s + C_REVERSE * s ** (-gamma / 2))

    s_eval = np.sort(np.asarray(sigma_min) ** 2)[::-1]
    sol = integrate.solve_ivp(
        rhs,
        (T_REVERSE, s_eval[-1]),
        [0.0],
        method="LSODA",
        t_eval=s_eval,
        rtol=1e-11,
        atol=1e-16,
    )
    if not sol.success:
        raise ArithmeticError(f"the mean ODE did not integrate: {sol.message}")
    by_s = dict(zip(s_eval, sol.y[0], strict=True))
    return np.array([by_s[s] for s in np.asarray(sigma_min) ** 2])


def _angular_gap(sigma: float, alpha: float, n: int) -> float:
    """Spectral gap of the TS angle generator on M in hat time, by central differences on n angles.

    On M the hat-form sampler dX = σ²s dτ + √(2σ^{2−α}) dW moves the angle by
    dθ = (σ² s_θ/R) dτ + √(2σ^{2−α})/R dW, s_θ the exact score's tangential component at Rê(θ)
    (theory.scaling.noised_circle_score); its generator b f′ + D f″, D = σ^{2−α}/R², is discretised
    on a periodic grid and the gap is the smallest non-zero −Re λ (the first angular moment's rate).
    The grid's own factor (1 − h²/12 for the free gap) is the same at every σ."""
    theta = _angles(n)
    on_m = RADIUS * np.column_stack([np.cos(theta), np.sin(theta)])
    tangent = np.column_stack([-np.sin(theta), np.cos(theta)])
    s = scaling.noised_circle_score(on_m, sigma, KAPPA, RADIUS)
    drift = sigma**2 * np.sum(s * tangent, axis=1) / RADIUS
    diffusion = _temperature(sigma, alpha) / RADIUS**2
    h = 2 * np.pi / n
    i = np.arange(n)
    generator = np.zeros((n, n))
    generator[i, (i + 1) % n] = drift / (2 * h) + diffusion / h**2
    generator[i, (i - 1) % n] = -drift / (2 * h) + diffusion / h**2
    generator[i, i] = -2 * diffusion / h**2
    rates = np.sort(-linalg.eigvals(generator).real)
    return float(rates[1])


# --------------------------------------------------------------------------------------------
# The laws, one panel each


def _thin(alpha: float):
    """Where the TS cloud's scale √θ is below a tenth of the reach (the note's thickness ≪ reach)."""
    return lambda s: np.sqrt(_temperature(s, alpha)) <= THICK_FRACTION * RADIUS


def _law_stiffness(ctx: Context, n: int) -> dict:
    sigma = np.geomspace(1e-3, 1.0, n)
    stiff, _ = _stiffness(sigma, ctx.profile.pick(quick=8, full=32), ctx.control)
    a = 1.0 / (2 * RADIUS**2)  # σ²(−∂_ν s_ν) = 1 − σ²/(2R²) + O(σ⁴) on M (any κ)
    return _series(
        "κ = 1, VE, on M",
        sigma,
        stiff,
        _exponent(scaling.normal_stiffness),
        lambda s: a * s**2 <= FRACTION,
        lambda s: _power_shift(a, 2.0, s),
        "next order σ²(−∂_ν s_ν) = 1 − σ²/(2R²): a = 1/(2R²) = 0.5, q = 2",
        scaling.normal_stiffness(sigma),
    )


def _law_eq20(ctx: Context, n: int) -> dict:
    sigma = np.geomspace(1e-3, 1.0, n)
    residual = _eq20_residual(sigma, ctx.profile.pick(quick=90, full=720), ctx.control)
    return _series(
        f"rings ρ ∈ {{0, ±{RING:g}R}}",
        sigma,
        residual,
        2.0,  # eq. (20) [P]: the residual is O(σ²)
        lambda s: A_EQ20 * s**2 <= FRACTION,
        lambda s: _power_shift(A_EQ20, 2.0, s),
        f"relative σ² term bounded from the expansion: a = 2(1/8 + κ + 3κ²/2)/(R²(1 − {RING:g})³) "
        f"= {A_EQ20:.2f}, q = 2",
    )


def _ts_laws(ctx: Context, alpha: float, sigma: np.ndarray) -> tuple[dict, dict]:
    n_t, n_rho = ctx.profile.pick(quick=180, full=720), ctx.profile.pick(quick=100, full=200)
    laws = [_ts_law(s, alpha, n_t, n_rho) for s in sigma]
    thin = _thin(alpha)
    # thickness: sd = √θ (1 − θ/(2R²) + σ²/(4R²) …), θ = σ^{2−α}; |a| ≤ 1/R² in θ
    q = 2.0 - alpha
    thickness = _series(
        f"α = {alpha:g}",
        sigma,
        [law.normal_sd() for law in laws],
        _exponent(lambda s: scaling.ts_thickness(s, alpha)),
        lambda s: thin(s) & (s**q / RADIUS**2 <= FRACTION),
        lambda s: _power_shift(1.0 / RADIUS**2, q, s),
        f"sd = √θ(1 − θ/(2R²) + …), θ = σ^{{2−α}}: |a| ≤ 1/R², q = 2 − α = {q:g}",
        scaling.ts_thickness(sigma, alpha),
    )

    # TV: the von Mises(σ^ακ) curve's own slope shift (O(σ^{2α})) + κ_eff = σ^ακ(1 − σ²/(2R²))
    def curve(s):
        return scaling.ts_circle_tv(s, alpha, KAPPA)

    def relative(s):
        return np.abs(curve(s) / (KAPPA * s**alpha / np.pi) - 1.0) + s**2 / (2 * RADIUS**2)

    tv = _series(
        f"α = {alpha:g}",
        sigma,
        [_tv_to_arc(law) for law in laws],
        _exponent(curve),
        lambda s: thin(s) & (relative(s) <= FRACTION),
        lambda s: np.abs(_local_slope(curve, s) - alpha) + _power_shift(0.5 / RADIUS**2, 2.0, s),
        "local slope of ts_circle_tv minus α (the von Mises O(σ^{2α}) term) + the O(σ²) term of "
        "κ_eff = σ^ακ(1 − σ²/(2R²)) (a = 1/(2R²), q = 2)",
        curve(sigma),
    )
    return thickness, tv


def _law_ts_error(ctx: Context, n: int, alpha: float = 1.0, gamma: float = 0.5) -> dict:
    sigma = np.geomspace(1e-6, 0.3, n)
    n_t, n_rho = ctx.profile.pick(quick=180, full=720), ctx.profile.pick(quick=100, full=200)
    tv = [_tv_to_arc(_ts_law(s, alpha, n_t, n_rho, error=(C_TS, gamma))) for s in sigma]
    predicted = scaling.ts_uniform_tv_exponent(alpha, gamma)

    # on M the law is ∝ exp(κσ^α cos θ + cσ^{α−γ} sin θ): von Mises of the combined concentration
    def model(s):
        return scaling.von_mises_tv_to_uniform(np.hypot(KAPPA * s**alpha, C_TS * s**predicted))

    def relative(s):
        return np.abs(model(s) / (C_TS * s**predicted / np.pi) - 1.0) + s**2 / (2 * RADIUS**2)

    return _series(
        f"α = {alpha:g}, γ = {gamma:g}, c = {C_TS:g}",
        sigma,
        tv,
        predicted,
        lambda s: _thin(alpha)(s) & (relative(s) <= FRACTION),
        lambda s: (
            np.abs(_local_slope(model, s) - predicted) + _power_shift(0.5 / RADIUS**2, 2.0, s)
        ),
        "local slope of TV(vM(|(κσ^α, cσ^{α−γ})|)) minus α − γ (the exact score's own bias and the "
        "von Mises nonlinearity) + the O(σ²) term (a = 1/(2R²), q = 2)",
    )


def _law_gibbs(ctx: Context, n: int, gamma: float) -> dict:
    sigma = np.geomspace(1e-4, 0.1, n)
    n_t, cells = ctx.profile.pick(quick=32, full=64), ctx.profile.pick(quick=6, full=10)
    measured = np.array([_gibbs_offset(s, gamma, n_t, cells) for s in sigma])
    shifted = measured - sigma**2 / (2 * RADIUS)  # the known curvature shift +σ²/(2R), subtracted
    # after the subtraction: cσ^{2−γ}(1 − σ²/(2R²)) − O(σ⁴/R³): a ≤ 1/(2R²) + 1/(2cR³), q = 2
    a = 1 / (2 * RADIUS**2) + 1 / (2 * C_GIBBS * RADIUS**3)
    offset = scaling.normal_offset(sigma, gamma, C_GIBBS)

    def inside(s):  # the law (offset + 3 widths) within a tenth of the reach
        return scaling.normal_offset(s, gamma, C_GIBBS) + 3 * s <= THICK_FRACTION * RADIUS

    return _series(
        f"γ = {gamma:g}, c = {C_GIBBS:g}",
        sigma,
        shifted,
        _exponent(lambda s: scaling.normal_offset(s, gamma, C_GIBBS)),
        lambda s: inside(s) & (a * s**2 <= FRACTION),
        lambda s: _power_shift(a, 2.0, s),
        f"E ρ − σ²/(2R) = cσ^{{2−γ}}(1 − σ²/(2R²)) + O(σ⁴/R³): a = 1/(2R²) + 1/(2cR³) = {a:.2f}, q = 2",
        offset,
    )


def _law_terminal(ctx: Context, n: int, gamma: float, flow: str) -> dict:
    if flow == "sde":
        sigma = np.geomspace(1e-4, 1.0, n)
        theory, a, q = scaling.reverse_sde_terminal_offset, T_REVERSE ** (-gamma / 2), gamma
        rule = "m = (2c/γ)s^{1−γ/2}(1 − (s/T)^{γ/2}): a = T^{−γ/2}"
    else:
        sigma = np.geomspace(1e-6, 0.1, n)
        theory, a, q = scaling.pf_ode_terminal_offset, T_REVERSE ** ((1 - gamma) / 2), gamma - 1
        rule = "m = (c/(γ−1))s^{1−γ/2}(1 − (s/T)^{(γ−1)/2}): a = T^{(1−γ)/2}"
    return _series(
        f"γ = {gamma:g}, c = {C_REVERSE:g}, T = {T_REVERSE:g}",
        sigma,
        _terminal_offsets(sigma, gamma, flow),
        _exponent(lambda s: theory(s, gamma, C_REVERSE)),
        lambda s: a * s**q <= FRACTION,
        lambda s: _power_shift(a, q, s),
        f"finite-T term, {rule} = {a:.3g}, q = {q:g}",
        theory(sigma, gamma, C_REVERSE),
    )


def _law_relaxation(ctx: Context, alpha: float, sigma: np.ndarray) -> dict:
    n = ctx.profile.pick(quick=32, full=64)
    gap = [_angular_gap(s, alpha, n) for s in sigma]
    # the gap of ∂² − k sin θ ∂ is 1 + k²/6 + O(k⁴), k = σ^ακ; the exact tangential score's O(σ²)
    # part −κσ² sin θ cos θ/R² splits the m = 1 pair by ±kσ²/(4R²) (first-order perturbation)
    a1, q1 = KAPPA**2 / 6, 2 * alpha
    a2, q2 = KAPPA / (4 * RADIUS**2), 2 + alpha

    def rate(s):
        return rate_relaxation.ts_relaxation_rate(s, alpha, RADIUS)

    return _series(
        f"α = {alpha:g}",
        sigma,
        gap,
        _exponent(rate),
        lambda s: _thin(alpha)(s) & (a1 * s**q1 + a2 * s**q2 <= FRACTION),
        lambda s: _power_shift(a1, q1, s) + _power_shift(a2, q2, s),
        f"gap = (σ^{{2−α}}/R²)(1 + k²/6 − kσ²/(4R²) + …), k = σ^ακ: a = κ²/6, q = 2α = {q1:g} "
        f"plus a = κ/(4R²), q = 2 + α = {q2:g}",
        rate(sigma),
    )


_SIGMA = "σ (VE noise standard deviation, units of R)"
_SIGMA_MIN = "σ_min (VE noise s.d. where the reverse pass stops)"


def _panels(ctx: Context) -> list[dict]:
    n = ctx.profile.pick(quick=7, full=16)
    sigma_a, sigma_b = np.geomspace(1e-4, 0.3, n), np.geomspace(1e-5, 0.1, n)
    thick_a, tv_a = _ts_laws(ctx, 0.5, sigma_a)
    thick_b, tv_b = _ts_laws(ctx, 1.0, sigma_b)
    return [
        {
            "name": "normal stiffness",
            "title": "Normal stiffness −∂_ν s_ν of the exact score on M",
            "xlabel": _SIGMA,
            "ylabel": "−∂_ν s_ν at x ∈ M (units of R⁻²)",
            "series": [_law_stiffness(ctx, n)],
        },
        {
            "name": "eq. (20) residual",
            "title": "Eq. (20): sup ‖σ²s + (x − P_M x)‖ on the tube",
            "xlabel": _SIGMA,
            "ylabel": "sup over the rings (units of R)",
            "series": [_law_eq20(ctx, n)],
        },
        {
            "name": "TS thickness",
            "title": "TS cloud thickness, law ∝ p_σ^(σ^α) (tube grid)",
            "xlabel": _SIGMA,
            "ylabel": "normal s.d. of ρ (units of R)",
            "series": [thick_a, thick_b],
        },
        {
            "name": "TS on-circle bias",
            "title": "TS bias on M, exact score: TV to arc length",
            "xlabel": _SIGMA,
            "ylabel": "TV(angle marginal, arc-length law)",
            "series": [tv_a, tv_b],
        },
        {
            "name": "TS with a gradient error",
            "title": "TS with the error cσ^(−γ)∇cos(θ − π/2): TV to arc length",
            "xlabel": _SIGMA,
            "ylabel": "TV(angle marginal, arc-length law)",
            "series": [_law_ts_error(ctx, n)],
        },
        {
            "name": "Gibbs normal offset",
            "title": "Gibbs law p_σ exp(cσ^(−γ)ρ): normal offset, curvature shift removed",
            "xlabel": _SIGMA,
            "ylabel": "E ρ − σ²/(2R) (units of R)",
            "series": [_law_gibbs(ctx, n, 1.0), _law_gibbs(ctx, n, 1.5)],
        },
        {
            "name": "reverse SDE offset",
            "title": "Reverse SDE, normal error c s^(−γ/2): terminal offset (Gaussian line)",
            "xlabel": _SIGMA_MIN,
            "ylabel": "normal mean at σ_min (units of the data s.d. τ = 1)",
            "series": [_law_terminal(ctx, n, 1.0, "sde"), _law_terminal(ctx, n, 1.5, "sde")],
        },
        {
            "name": "PF-ODE offset",
            "title": "PF-ODE, normal error c s^(−γ/2): terminal offset (Gaussian line)",
            "xlabel": _SIGMA_MIN,
            "ylabel": "normal mean at σ_min (units of the data s.d. τ = 1)",
            "series": [_law_terminal(ctx, n, 1.5, "pf")],
        },
        {
            "name": "TS relaxation rate",
            "title": "TS tangential relaxation: gap of the angle generator on M",
            "xlabel": _SIGMA,
            "ylabel": "rate of the first angular moment (per unit hat time τ)",
            "series": [_law_relaxation(ctx, 0.5, sigma_a), _law_relaxation(ctx, 1.0, sigma_b)],
        },
    ]


_COLORS = (PALETTE["exact"], PALETTE["alt"], PALETTE["trained"])


def _legend_label(s: dict) -> str:
    if not s["n"] or s["n"] < 3:
        return f"{s['label']}: predicted {s['predicted exponent']:.3g}; too few points to fit"
    return (
        f"{s['label']}: predicted {s['predicted exponent']:.3g}; fitted {s['slope']:.4f} "
        f"± {s['t'] * s['se']:.1e} (95%) ± {s['allowance']:.1e} (model)"
    )


def _draw_atlas(fig, data):
    panels = data["panels"]
    ncols = 3
    nrows = -(-len(panels) // ncols)
    fig.set_size_inches(16, 4.3 * nrows)
    for i, panel in enumerate(panels):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        for s, color in zip(panel["series"], _COLORS, strict=False):
            sigma, value = np.array(s["sigma"]), np.array(s["value"])
            fitted = np.array(s["fitted"], dtype=bool)
            positive = value > 0
            ax.loglog(sigma[fitted], value[fitted], "o", ms=4, color=color, label=_legend_label(s))
            ax.loglog(
                sigma[~fitted & positive],
                value[~fitted & positive],
                "o",
                ms=4,
                mfc="none",
                color=color,
            )
            p = s["predicted exponent"]
            if s["predicted curve"] is not None:
                ax.loglog(sigma, s["predicted curve"], "--", color=PALETTE["theory"], lw=1)
            elif s["n"] >= 3:
                anchor = np.mean(np.log(value[fitted])) - p * np.mean(np.log(sigma[fitted]))
                ax.loglog(sigma, np.exp(anchor) * sigma**p, "--", color=PALETTE["theory"], lw=1)
            if s["n"] >= 3:
                lo, hi = s["sigma_fit"]
                line = np.geomspace(lo, hi, 20)
                ax.loglog(
                    line,
                    np.exp(s["intercept"]) * line ** s["slope"],
                    "-",
                    color=color,
                    lw=2.2,
                    alpha=0.5,
                )
            if s["excluded from σ"] is not None:
                ax.axvspan(s["excluded from σ"], sigma.max() * 1.5, color=color, alpha=0.08, lw=0)
        ax.plot([], [], "--", color=PALETTE["theory"], lw=1, label="prediction")
        ax.plot([], [], "-", color="grey", lw=2.2, alpha=0.5, label="fitted power law")
        ax.set_xlabel(panel["xlabel"])
        ax.set_ylabel(panel["ylabel"])
        ax.set_title(panel["title"], fontsize=9)
        ax.legend(fontsize=6, loc="best")
    fig.suptitle(
        "Rate separation: σ-scaling laws, circle R = 1, von Mises κ = 1, VE. Filled points are fitted;\n"
        f"shaded σ (hollow points): the law is not expected to hold (next-order term > {data['fraction']:g} "
        f"relative, or the cloud beyond {data['thick_fraction']:g}·reach) and is excluded. Interval: "
        f"t-quantile × s.e. ± {data['safety']:g} × the next-order term's slope shift.",
        fontsize=9,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.97))


def _summary(s: dict) -> dict:
    fitted = np.array(s["fitted"], dtype=bool)
    return {
        "predicted exponent": s["predicted exponent"],
        "fitted exponent": s["slope"],
        "s.e.": s["se"],
        "t quantile (95%)": s["t"],
        "95% CI": s.get("ci"),
        "model-error allowance": s["allowance"],
        "allowance rule": s["allowance rule"],
        "accepted interval": [s["slope"] - s["half_width"], s["slope"] + s["half_width"]],
        "σ range fitted": s["sigma_fit"],
        "points fitted": s["n"],
        "values": dict(zip((f"{x:.4g}" for x in s["sigma"]), s["value"], strict=True)),
        "excluded": [f"{x:.4g}" for x, f in zip(s["sigma"], fitted, strict=True) if not f],
    }


@claim(
    id="rate_separation.scaling_atlas",
    paper=PAPER,
    kind="exact",
    statement="Every σ-scaling law of the summary table holds with its predicted exponent: normal "
    "stiffness σ⁻², eq. (20) residual σ², TS thickness σ^{1−α/2}, TS bias σ^α, TS with an error σ^{α−γ}, "
    "Gibbs normal offset σ^{2−γ}, reverse-SDE and PF-ODE terminal offsets σ_min^{2−γ}, TS tangential "
    "relaxation rate σ^{2−α}.",
    source="paper003 §2 'Summary of checkable σ-scaling laws' [D] and eq. (20) [P]; T-C1, T-C2, T-C5, "
    "T-C7, T-C9, T-C11, T-C14; circle R = 1 with von Mises(κ = 1) data, VE; Gaussian line (τ = 1) for the "
    "reverse pass",
    control="the exact score's normal part is scaled by σ^0.2 in the field whose normal Jacobian and "
    "eq. (20) residual are measured (stiffness then ∝ σ^−1.8, and the residual no longer O(σ²))",
    figures=("scaling_atlas",),
)
def scaling_atlas(ctx: Context) -> Outcome:
    panels = _panels(ctx)
    checks, measured, predicted = [], {}, {}
    for panel in panels:
        for s in panel["series"]:
            key = f"{panel['name']} ({s['label']})"
            measured[key] = _summary(s)
            predicted[key] = s["predicted exponent"]
            checks.append(
                check(
                    f"{key}: fitted − predicted exponent",
                    s["slope"] - s["predicted exponent"],
                    "in",
                    (-s["half_width"], s["half_width"]),
                )
            )
    return Outcome(
        predicted={"exponents": predicted},
        measured=measured,
        tolerance=f"|fitted − predicted| ≤ t_{{0.975, n−2}}·s.e. + {SAFETY:g} × max over the fitted σ of "
        "q|a|σ^q/(1 − |a|σ^q) (the local-slope shift of the known next-order relative term aσ^q; for the "
        "TV laws the theory curve's own slope shift); points fitted only where the next-order term is "
        f"≤ {FRACTION:g} relative and the law is valid (TS cloud ≤ {THICK_FRACTION:g}·reach, Gibbs "
        f"offset + 3σ ≤ {THICK_FRACTION:g}·reach). No tolerance in the note: it asks for slopes (T-C2: "
        "[1.9, 2.1]; T-C9: ±0.05), which this rule replaces with an interval derived per law.",
        checks=checks,
        notes="Measurements: the stiffness by central differences (step 1e-3·σ) of the closed-form "
        "score theory.scaling.noised_circle_score along the normal at points of M (mean over angles; "
        "independent of theory.scaling.normal_stiffness); eq. (20) on three rings of "
        f"{ctx.profile.pick(quick=90, full=720)} angles; TS and Gibbs laws by tube-grid quadrature "
        "(empirical.tube_grid, midpoint rule with the polar Jacobian; TS: "
        f"{ctx.profile.pick(quick=180, full=720)} angles × {ctx.profile.pick(quick=100, full=200)} "
        "ρ-cells over ±10 thicknesses; Gibbs: ρ-step σ/"
        f"{ctx.profile.pick(quick=6, full=10)} over offset ± 12σ); the reverse-pass means by "
        "scipy.integrate.solve_ivp (LSODA, rtol 1e-11) of the linear mean ODE in s = σ² from T = 100, "
        "not the closed form. The Gibbs offset has the known curvature shift +σ²/(2R) subtracted "
        "before the fit. The predicted exponents are the theory functions' own log-log slopes at "
        "σ = 1e-13…1e-12 (eq. (20): 2, from the paper). All measurements are deterministic (no "
        "seed); the s.e. is the fit's, from the residuals about a power law. The TS relaxation rate "
        "(theory.rate_relaxation) is the spectral gap of the on-M angle generator in hat time "
        f"({ctx.profile.pick(quick=32, full=64)}-point periodic central differences) with the exact "
        "score's tangential drift: it checks that this drift (relative size σ^ακ) leaves the rate at "
        "σ^{2−α}/R²; the exponent itself enters through the hat form's noise σ^{2−α}, and the cloud's "
        "thickness (an O(σ^{2−α}) relative slowing) is not modelled by a 1-D generator.",
        figures=[
            FigureSpec(
                name="scaling_atlas",
                draw=_draw_atlas,
                data={
                    "panels": panels,
                    "fraction": FRACTION,
                    "safety": SAFETY,
                    "thick_fraction": THICK_FRACTION,
                    "level": LEVEL,
                },
                config={
                    "radius": RADIUS,
                    "kappa": KAPPA,
                    "fault": "normal part × σ^0.2" if ctx.control else None,
                    "profile": ctx.profile.name,
                },
            )
        ],
    )
