r"""Diagnostics of a user's own score field in one call: spectra, local dimension, asymmetry, scaling.

:func:`diagnose` takes any score callable ``score(x, sigma)`` on (n, d) arrays (numpy or JAX), a
batch of points and a grid of noise levels, and returns a :class:`Diagnosis`: per noise level the
Jacobian's singular values and their noise-normalised values, the local dimension under the rules
D1 (c = 1/2, 1/4, 3/4), D2, D3 and D4, the antisymmetry ratio and, when a manifold is given, the
block asymmetries a_TT, a_TN, a_NN, the overlap of the estimated with the true tangent space and
the normal stiffness; over the levels, the fitted σ-scaling exponents with 95% intervals and the
steps of the local-dimension staircase. ``Diagnosis.to_json`` and ``Diagnosis.plot`` write them.

Conventions
-----------
``convention="ve"``: the levels are VE noise levels σ, :math:`x_\sigma = x_0 + \sigma\varepsilon`,
and the score is called as ``score(x, sigma)``.

``convention="vp"``: the levels are VP/OU times t, :math:`x_t = a_t x_0 + \sqrt{v_t}\,\varepsilon`
with :math:`a_t = e^{-t}`, :math:`v_t = 1 - e^{-2t}` (:mod:`theory.schedules`), and the score is
called as ``score(x, t)``. Jacobians are taken in :math:`x_t` units, so every place where VE
uses σ (the normalisation σ² s_i, the local-dimension thresholds, the finite-difference step, the
normal stiffness) uses the noise standard deviation :math:`\sqrt{v_t}` instead: for data on a
linear subspace the VP score Jacobian is :math:`a_t^{-2} J^{VE}_{\sigma(t)}` with
:math:`\sigma(t)^2 = v_t/a_t^2` (:func:`theory.schedules.vp_score_from_ve`), whose normal
eigenvalue is :math:`-a_t^{-2}\sigma(t)^{-2} = -1/v_t`. The VE level with the same
noise-to-signal ratio, :math:`\sigma(t)` (:func:`theory.schedules.vp_t_to_ve_sigma`), is stored
alongside (``Diagnosis.ve_sigma``). The metrics are those of :mod:`empirical.metrics`, whose
readings (paper000 §2.2–2.4, tagged [R] in the research note) are stated there.

Jacobian routes
---------------
``jacobian="autodiff"``: :math:`J = \partial s/\partial x` by forward-mode autodiff,
``jax.vmap(jax.jacfwd(...))``, in float64 under ``jax.enable_x64`` (the points are passed as
float64 arrays, so a network with float32 weights computes in float64 by JAX's type promotion).
The score must be JAX-traceable. ``jacobian="fd"``: central differences
(:func:`empirical.jacobians.central_difference_jacobian`) with the step

.. math:: h = \sigma_{noise}\,\epsilon^{1/3},

:math:`\sigma_{noise}` the noise standard deviation (σ, or :math:`\sqrt{v_t}`) and ε the machine
epsilon of the score's output dtype (h = 6.1e-6 σ in float64, 4.9e-3 σ in float32): the step that
balances the truncation error :math:`\propto (h/\sigma)^2` of a field varying on the scale σ
against the rounding error :math:`\propto \epsilon\,\sigma/h`. ``jacobian="auto"`` traces the score
once (``jax.eval_shape`` on float64 inputs, first with a traced σ, then with a fixed one) and takes
the autodiff route if that works, the finite differences if tracing raises (a tracer converted
to numpy, a concretisation, any ``TypeError``/``ValueError``).

A score whose output dtype is float32 or narrower draws a :class:`LowPrecisionWarning` that names
the noise floor measured on the field itself (see :attr:`Diagnosis.noise_floor`). The test is on
the dtype returned: a field that computes in float32 inside but returns float64 (a float32 array
divided by the float64 σ, or cast at the end) is not detected, though its Jacobian carries the
float32 rounding all the same. A JAX field that merely takes numpy input computes in float64 on
the autodiff route, since its inputs are float64 under ``jax.enable_x64``.
"""

from __future__ import annotations

import io
import json
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from empirical._atomic import atomic_writer
from empirical.jacobians import central_difference_jacobian
from empirical.metrics import (
    antisymmetry_ratio,
    block_antisymmetry,
    local_dimension_d1,
    local_dimension_d2,
    local_dimension_d3,
    local_dimension_d4,
    subspace_overlap,
    tangent_features,
)
from empirical.plot_style import PALETTE, RC
from theory._validation import check_finite
from theory.schedules import vp_t_to_ve_sigma, vp_v

__all__ = [
    "CI_LEVEL",
    "CONVENTIONS",
    "D1_THRESHOLDS",
    "D2_RHO",
    "D3_FRACTION",
    "ROUTES",
    "Diagnosis",
    "LowPrecisionWarning",
    "ScalingFit",
    "StaircaseStep",
    "diagnose",
]

CONVENTIONS = ("ve", "vp")
ROUTES = ("auto", "autodiff", "fd")
#: D1 thresholds c: the primary reading first, then the note's two others (paper000 §2.2).
D1_THRESHOLDS = (0.5, 0.25, 0.75)
#: D2 in its relative form: effective variances above ρ × the largest (the claims' reading).
D2_RHO = 0.1
#: D3: the fewest directions holding this fraction of the effective variance.
D3_FRACTION = 0.9
#: Confidence level of the fitted exponents' intervals.
CI_LEVEL = 0.95
_CHUNK = 1024  # points per compiled autodiff call (Jacobians of large batches would blow memory)
_LEVEL_NAME = {"ve": "σ", "vp": "t"}
_AXIS_LABEL = {"ve": "σ (VE noise level)", "vp": "t (VP time)"}


class LowPrecisionWarning(UserWarning):
    """The score's output is float32 or narrower: Jacobian entries below the noise floor are noise."""


@dataclass(frozen=True)
class ScalingFit:
    r"""A fitted log-log exponent: ``slope`` of log y on log x, its ``ci`` at :data:`CI_LEVEL`.

    ``ci = slope ± t_{(1+CI\_LEVEL)/2,\,n-2}\cdot``\ ``stderr`` with ``stderr`` the standard error
    of ``scipy.stats.linregress``; ``n_points`` noise levels were fitted; ``predicted`` is the
    exponent the papers predict for it.
    """

    slope: float
    ci: tuple[float, float]
    n_points: int
    stderr: float
    intercept: float
    predicted: float

    def to_dict(self) -> dict:
        return {
            "slope": self.slope,
            "ci": list(self.ci),
            "n_points": self.n_points,
            "stderr": self.stderr,
            "intercept": self.intercept,
            "predicted": self.predicted,
        }


@dataclass(frozen=True)
class StaircaseStep:
    """Where the mean D1 local dimension crosses ``level`` (a half-integer j − 1/2): at ``location``
    (a noise level σ or time t), interpolated linearly in log level between the two grid levels of
    ``bracket`` on either side of the crossing."""

    level: float
    location: float
    bracket: tuple[float, float]

    def to_dict(self) -> dict:
        return {"level": self.level, "location": self.location, "bracket": list(self.bracket)}


@dataclass(frozen=True, eq=False)
class Diagnosis:
    r"""What :func:`diagnose` measured. Arrays are indexed [level, point, ...], levels increasing.

    Attributes
    ----------
    convention : "ve" or "vp".
    levels : (m,) the noise levels σ (VE) or times t (VP), sorted increasing.
    noise_std : (m,) the noise standard deviation in x units: σ (VE) or :math:`\sqrt{v_t}` (VP).
    ve_sigma : (m,) the VE noise level with the same noise-to-signal ratio (VE: σ itself).
    points : (n, d) where the Jacobians were taken.
    singular_values : (m, n, d) the Jacobian's singular values :math:`s_1 \ge \dots \ge s_d`.
    normalised : (m, n, d) :math:`\sigma_{noise}^2 s_i` (1 for a normal direction of an exact
        score; below 1/2 for a direction with more data variance than noise variance).
    d_loc : rule → (m, n) integer local dimensions: ``"D1"`` (c = 1/2, primary), ``"D1 c=0.25"``,
        ``"D1 c=0.75"``, ``"D2"`` (relative, ρ = :data:`D2_RHO`), ``"D3"`` (fraction
        :data:`D3_FRACTION`), ``"D4"`` (largest log gap); see :mod:`empirical.metrics`.
    asymmetry : (m, n) :math:`\|A\|_F/\|J\|_F`, :math:`A = (J - J^\top)/2`.
    blocks : None, or ``"a_TT"``, ``"a_TN"``, ``"a_NN"`` → (m, n)
        (:func:`empirical.metrics.block_antisymmetry`; a_TT ≡ 0 when k = 1, a_NN ≡ 0 when d − k = 1).
    overlap : None, or (m, n) :math:`\mathrm{ov}(\hat T, T)`, the overlap of the right singular
        vectors of the k smallest singular values with the given tangent space (1: the same).
    normal_stiffness : None, or (m, n) the normalised normal stiffness

        .. math:: \kappa_\perp = \sigma_{noise}^2\,s_\perp, \qquad
                  s_\perp = -\frac{\operatorname{tr}(Q_N^\top J Q_N)}{d - k},

        the mean eigenvalue of the symmetric part of :math:`-J` on the normal space (the trace
        sees only the symmetric part). :math:`\kappa_\perp = 1` exactly for the exact score of a
        Gaussian on a linear subspace (paper000 §1.4) and :math:`1 + O(\sigma^2)` near a curved
        manifold (paper003 eq. (20), :func:`theory.scaling.normal_stiffness`).
    k : None, or the tangent dimension of the manifold.
    fits : name → :class:`ScalingFit` (a name is missing when fewer than 3 levels qualify):
        ``"top_singular_value"``: the mean :math:`s_1` against :math:`\sigma_{noise}`,
        predicted −2 wherever the data have fewer than d dimensions (the stiffest direction is
        normal); ``"normal_stiffness"`` (with a manifold): the mean :math:`s_\perp` against
        :math:`\sigma_{noise}`, predicted −2 (paper003 summary table, "normal stiffness"). Levels
        where the mean is ≤ 0 are left out of the fit.
    steps : the :class:`StaircaseStep` crossings of the mean D1 local dimension, decreasing in
        location (as :func:`theory.spectra.staircase_steps`).
    noise_floor : None (float64 output: not measured), or (m,) the measured relative rounding
        noise of the Jacobian at each level: the median over points of
        :math:`\|J_h - J_{2h}\|_F/\|J_h\|_F` (finite differences at steps h and 2h) or of
        :math:`\|J_{fwd} - J_{rev}\|_F/\|J_{fwd}\|_F` (forward- against reverse-mode autodiff).
        Both are 0 in exact arithmetic on the field, so what they read is the rounding.
        Asymmetries and overlaps closer to 0 (or to 1) than this are not resolved.
    provenance : the route (``"autodiff"`` or ``"fd"``), why ``"auto"`` chose it, the output
        dtype, the step rule and steps, the readings' parameters.
    """

    convention: str
    levels: np.ndarray
    noise_std: np.ndarray
    ve_sigma: np.ndarray
    points: np.ndarray
    singular_values: np.ndarray
    normalised: np.ndarray
    d_loc: dict
    asymmetry: np.ndarray
    blocks: dict | None
    overlap: np.ndarray | None
    normal_stiffness: np.ndarray | None
    k: int | None
    fits: dict
    steps: tuple
    noise_floor: np.ndarray | None
    provenance: dict = field(default_factory=dict)

    # ----------------------------------------------------------------------------------------
    # Reading out

    def to_dict(self) -> dict:
        """Everything as JSON-ready lists, numbers and strings (per-level means and the raw arrays)."""

        def arr(a):
            return None if a is None else np.asarray(a).tolist()

        return {
            "convention": self.convention,
            "level_name": _LEVEL_NAME[self.convention],
            "levels": arr(self.levels),
            "noise_std": arr(self.noise_std),
            "ve_sigma": arr(self.ve_sigma),
            "n_points": int(self.points.shape[0]),
            "d": int(self.points.shape[1]),
            "k": self.k,
            "points": arr(self.points),
            "singular_values": arr(self.singular_values),
            "normalised": arr(self.normalised),
            "d_loc": {name: arr(v) for name, v in self.d_loc.items()},
            "d_loc_mean": {name: arr(np.mean(v, axis=1)) for name, v in self.d_loc.items()},
            "asymmetry": arr(self.asymmetry),
            "blocks": None
            if self.blocks is None
            else {name: arr(v) for name, v in self.blocks.items()},
            "overlap": arr(self.overlap),
            "normal_stiffness": arr(self.normal_stiffness),
            "fits": {name: f.to_dict() for name, f in self.fits.items()},
            "steps": [s.to_dict() for s in self.steps],
            "noise_floor": arr(self.noise_floor),
            "provenance": self.provenance,
        }

    def to_json(self, path=None) -> str:
        """The JSON text of :meth:`to_dict`; written atomically to ``path`` when one is given."""
        text = json.dumps(self.to_dict(), indent=1, allow_nan=False) + "\n"
        if path is not None:
            _write_atomic(Path(path), text.encode())
        return text

    def summary(self) -> str:
        """A short table: per level the mean D1 d_loc, the mean asymmetry (and blocks), then the fits."""
        name = _LEVEL_NAME[self.convention]
        cols = [f"{name:>10s}", f"{'d_loc D1':>9s}", f"{'asym':>9s}"]
        if self.blocks is not None:
            cols += [f"{b:>9s}" for b in ("a_TT", "a_TN", "a_NN")]
        if self.normal_stiffness is not None:
            cols.append(f"{'σ²s_⊥' if self.convention == 've' else 'v_t·s_⊥':>9s}")
        lines = ["  ".join(cols)]
        for i, level in enumerate(self.levels):
            row = [
                f"{level:10.4g}",
                f"{np.mean(self.d_loc['D1'][i]):9.3f}",
                f"{np.mean(self.asymmetry[i]):9.3g}",
            ]
            if self.blocks is not None:
                row += [f"{np.mean(self.blocks[b][i]):9.3g}" for b in ("a_TT", "a_TN", "a_NN")]
            if self.normal_stiffness is not None:
                row.append(f"{np.mean(self.normal_stiffness[i]):9.4g}")
            lines.append("  ".join(row))
        for fit_name, f in self.fits.items():
            lines.append(
                f"fit {fit_name}: slope {f.slope:.4f}, {CI_LEVEL:.0%} CI [{f.ci[0]:.4f}, "
                f"{f.ci[1]:.4f}], {f.n_points} levels (predicted {f.predicted:g})"
            )
        if self.steps:
            where = ", ".join(f"{s.level:g} at {name} = {s.location:.4g}" for s in self.steps)
            lines.append(f"d_loc steps: {where}")
        if self.noise_floor is not None:
            lines.append(f"noise floor ({self.provenance['dtype']}): {self.noise_floor.max():.2g}")
        lines.append(
            f"route: {self.provenance['route']} ({self.provenance['dtype']}), "
            f"{self.points.shape[0]} points in d = {self.points.shape[1]}"
            + (f"; {self.provenance['why']}" if "why" in self.provenance else "")
        )
        return "\n".join(lines)

    def plot(self, path=None):
        """One figure, three panels against the level (log axes): the normalised spectrum
        :math:`\\sigma_{noise}^2 s_i` (median over points per rank), the local dimension (D1
        mean ± std, the other rules' means), the asymmetry (blocks with a manifold, else the
        global ratio; median and quartiles).

        Returns the matplotlib ``Figure``; with a ``path`` it is also written there atomically
        (format from the suffix, e.g. .png, .pdf, .svg).
        """
        from matplotlib.figure import Figure

        x = self.levels
        xlabel = _AXIS_LABEL[self.convention]
        noise = "σ²" if self.convention == "ve" else "v_t"
        with _rc_context():
            fig = Figure(figsize=(12.0, 3.6))
            fig.subplots_adjust(left=0.06, right=0.99, bottom=0.14, top=0.84, wspace=0.28)
            ax_s, ax_d, ax_a = fig.subplots(1, 3)

            med = np.median(self.normalised, axis=1)  # (m, d)
            colours = _rank_colours(med.shape[1])
            for i in range(med.shape[1]):
                ax_s.plot(x, med[:, i], color=colours[i], lw=1.0, label=f"i = {i + 1}")
            ax_s.axhline(1.0, color=PALETTE["theory"], ls=":", lw=0.8)
            ax_s.axhline(0.5, color=PALETTE["theory"], ls="--", lw=0.8, label="D1 threshold 1/2")
            ax_s.set(xscale="log", yscale="log", xlabel=xlabel, ylabel=f"{noise} · s_i (median)")
            ax_s.set_title("normalised Jacobian spectrum")
            if med.shape[1] <= 8:
                ax_s.legend(loc="lower left", ncols=2)

            d1 = self.d_loc["D1"].astype(float)
            mean, std = d1.mean(axis=1), d1.std(axis=1)
            ax_d.fill_between(x, mean - std, mean + std, color=PALETTE["exact"], alpha=0.2, lw=0)
            ax_d.plot(x, mean, color=PALETTE["exact"], lw=1.8, label="D1 c=1/2 (mean ± std)")
            for rule, style in (("D1 c=0.25", ":"), ("D1 c=0.75", "-."), ("D2", "--")):
                ax_d.plot(x, self.d_loc[rule].mean(axis=1), ls=style, lw=0.9, label=rule)
            ax_d.plot(x, self.d_loc["D3"].mean(axis=1), lw=0.9, label="D3")
            ax_d.plot(x, self.d_loc["D4"].mean(axis=1), lw=0.9, label="D4")
            for s in self.steps:
                ax_d.axvline(s.location, color=PALETTE["theory"], lw=0.6, ls=":")
            if self.k is not None:
                ax_d.axhline(
                    self.k, color=PALETTE["theory"], lw=0.8, ls="--", label=f"k = {self.k}"
                )
            ax_d.set(xscale="log", xlabel=xlabel, ylabel="local dimension")
            ax_d.set_title("local dimension")
            ax_d.legend(loc="best", fontsize=7)

            series = (
                {"a (global)": self.asymmetry}
                if self.blocks is None
                else {"a (global)": self.asymmetry, **self.blocks}
            )
            drawn_zero = []
            colours = {
                "a (global)": PALETTE["theory"],
                "a_TT": PALETTE["exact"],
                "a_TN": PALETTE["trained"],
                "a_NN": PALETTE["alt"],
            }
            for label, values in series.items():
                colour = colours[label]
                if not np.any(values > 0):
                    drawn_zero.append(label)
                    continue
                q1, q2, q3 = np.percentile(values, [25, 50, 75], axis=1)
                ax_a.plot(x, q2, color=colour, label=label)
                ax_a.fill_between(x, q1, q3, color=colour, alpha=0.15, lw=0)
            if self.noise_floor is not None:
                ax_a.plot(x, self.noise_floor, color=PALETTE["theory"], ls=":", label="noise floor")
            drawn = len(series) > len(drawn_zero) or self.noise_floor is not None
            ax_a.set(xscale="log", yscale="log" if drawn else "linear", xlabel=xlabel)
            ax_a.set_ylabel("asymmetry (median, IQR)")
            title = "asymmetry by block" if self.blocks is not None else "asymmetry ‖A‖/‖J‖"
            if drawn_zero:
                title += f" ({', '.join(drawn_zero)} ≡ 0)"
            ax_a.set_title(title)
            if drawn:
                ax_a.legend(loc="best")
            fig.suptitle(
                f"diagnosis: {self.points.shape[0]} points in d = {self.points.shape[1]}, "
                f"Jacobian by {self.provenance['route']} ({self.provenance['dtype']})"
            )
            if path is not None:
                path = Path(path)
                fmt = path.suffix.lstrip(".").lower() or "png"

                buffer = io.BytesIO()
                fig.savefig(buffer, format=fmt)
                _write_atomic(path, buffer.getvalue())
        return fig


# --------------------------------------------------------------------------------------------
# Helpers: files and style


def _write_atomic(path: Path, data: bytes) -> None:
    with atomic_writer(path, prefix=f".{path.name}.") as f:
        f.write(data)


def _rc_context():
    import matplotlib

    return matplotlib.rc_context(RC)


def _rank_colours(m: int) -> list:
    import matplotlib

    cmap = matplotlib.colormaps["viridis"]
    return [cmap(v) for v in np.linspace(0.0, 0.9, max(m, 1))]


# --------------------------------------------------------------------------------------------
# Input checks (every failure is a ValueError naming the argument)


def _choice(name: str, value, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {allowed} (got {value!r})")
    return value


def _levels(sigmas, convention: str) -> np.ndarray:
    name = "sigmas" if convention == "ve" else "sigmas (VP times t)"
    arr = check_finite("sigmas", sigmas)
    if arr.ndim != 1 or arr.size < 1:
        raise ValueError(
            f"sigmas must be a 1-D array of at least one level (got shape {arr.shape})"
        )
    if np.any(arr <= 0):
        raise ValueError(f"{name} must be > 0 (got min {arr.min():.6g})")
    out = np.sort(arr)
    if np.any(np.diff(out) == 0):
        raise ValueError("sigmas must be distinct (a level is repeated)")
    return out


def _points(x) -> np.ndarray:
    pts = check_finite("x", x)
    if pts.ndim != 2 or pts.shape[0] < 1 or pts.shape[1] < 2:
        raise ValueError(f"x must have shape (n, d) with n >= 1 and d >= 2 (got {pts.shape})")
    return pts


def _orthonormal_tangents(value, n: int, d: int) -> np.ndarray:
    """The manifold's tangent vectors as an orthonormal basis (QR), (d, k) or (n, d, k)."""
    b = check_finite("manifold (its tangent basis)", value)
    if b.ndim not in (2, 3) or b.shape[-2] != d or not 1 <= b.shape[-1] <= d - 1:
        raise ValueError(
            f"manifold must give a tangent basis of shape (d, k) or (n, d, k) with d = {d} and "
            f"1 <= k <= {d - 1} (got {b.shape})"
        )
    if b.ndim == 3 and b.shape[0] != n:
        raise ValueError(f"manifold's tangent basis must have n = {n} rows (got {b.shape})")
    q, r = np.linalg.qr(b)
    diag = np.abs(np.diagonal(r, axis1=-2, axis2=-1))
    if np.any(diag <= 1e-10 * np.max(diag, axis=-1, keepdims=True)):
        raise ValueError("manifold's tangent vectors must be linearly independent at every point")
    return q


def _tangent_basis(manifold, pts: np.ndarray) -> np.ndarray | None:
    """Q_T at the points from a theory spec or a callable (see :func:`diagnose`)."""
    if manifold is None:
        return None
    n, d = pts.shape
    if hasattr(manifold, "nearest_point") and hasattr(manifold, "tangent_basis"):
        value = manifold.tangent_basis(manifold.nearest_point(pts)[1])
    elif isinstance(getattr(manifold, "basis", None), np.ndarray):
        value = manifold.basis
    elif callable(manifold):
        value = manifold(pts)
    else:
        raise ValueError(
            "manifold must be None, a theory spec with a tangent basis (LinearGaussian's basis, "
            "GraphSurface's nearest_point and tangent_basis) or a callable x -> (n, d, k) or (d, k) "
            f"(got {type(manifold).__name__})"
        )
    return _orthonormal_tangents(value, n, d)


def _float_dtype(dtype) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"score must return real floating-point values (got dtype {dtype})")
    return dtype


# --------------------------------------------------------------------------------------------
# Jacobians


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0] if text else ''}"


def _trace(score: Callable, d: int, level: float):
    """Trace the score once on float64 inputs: ("traced", dtype), ("fixed", dtype) when it traces
    only with a concrete level, or (None, why) when it does not trace."""
    import jax

    x = jax.ShapeDtypeStruct((1, d), np.float64)
    with jax.enable_x64(True):
        try:
            out = jax.eval_shape(score, x, jax.ShapeDtypeStruct((), np.float64))
            mode = "traced"
        except (TypeError, ValueError):
            try:
                out = jax.eval_shape(lambda xx: score(xx, level), x)
                mode = "fixed"
            except (TypeError, ValueError) as err:
                return None, _first_line(err)
    if not hasattr(out, "shape") or tuple(out.shape) != (1, d):
        raise ValueError(
            f"score must return an array of the input's shape (1, {d}) (got "
            f"{getattr(out, 'shape', type(out).__name__)})"
        )
    return mode, _float_dtype(out.dtype)


class _Autodiff:
    """Score values and Jacobians by ``jax.vmap(jax.jacfwd(...))`` in float64, chunked."""

    def __init__(self, score: Callable, mode: str):
        import jax

        self.jax = jax
        self.score, self.mode = score, mode
        self._compiled = {}

    def _fn(self, level: float, reverse: bool):
        jax = self.jax
        key = (level if self.mode == "fixed" else None, reverse)
        if key not in self._compiled:
            score = self.score

            def point(xi, s):
                g = score(xi[None, :], s)[0]
                return g, g

            diff = jax.jacrev if reverse else jax.jacfwd
            if self.mode == "traced":
                fn = jax.jit(jax.vmap(diff(point, has_aux=True), in_axes=(0, None)))
            else:
                fn = jax.jit(jax.vmap(lambda xi: diff(point, has_aux=True)(xi, level)))
            self._compiled[key] = fn
        return self._compiled[key]

    def __call__(self, pts: np.ndarray, level: float, reverse: bool = False):
        jax = self.jax
        jacs, values = [], []
        with jax.enable_x64(True):
            fn = self._fn(level, reverse)
            s = jax.numpy.asarray(level, dtype=np.float64)
            for start in range(0, pts.shape[0], _CHUNK):
                xs = jax.numpy.asarray(pts[start : start + _CHUNK], dtype=np.float64)
                jac, g = fn(xs, s) if self.mode == "traced" else fn(xs)
                jacs.append(np.asarray(jac, np.float64))
                values.append(np.asarray(g, np.float64))
        return np.concatenate(jacs), np.concatenate(values)


def _check_finite_field(values: np.ndarray, what: str, name: str, level: float) -> None:
    if not np.all(np.isfinite(values)):
        raise ValueError(f"score gave a {what} with NaN or infinity at {name} = {level:.6g}")


def _relative_gap(a: np.ndarray, b: np.ndarray) -> float:
    """Median over points of ‖a − b‖_F / ‖a‖_F."""
    num = np.sqrt(np.sum((a - b) ** 2, axis=(1, 2)))
    den = np.sqrt(np.sum(a**2, axis=(1, 2)))
    return float(np.median(num / np.where(den > 0, den, np.inf)))


# --------------------------------------------------------------------------------------------
# Per-level measurements and fits


def _measure(jac: np.ndarray, noise_std: float, q_t: np.ndarray | None) -> dict:
    s = np.linalg.svd(jac, compute_uv=False)
    out = {"s": s, "normalised": noise_std**2 * s, "asym": antisymmetry_ratio(jac)}
    out["d_loc"] = {
        ("D1" if c == D1_THRESHOLDS[0] else f"D1 c={c:g}"): local_dimension_d1(s, noise_std, c)
        for c in D1_THRESHOLDS
    }
    out["d_loc"]["D2"] = local_dimension_d2(s, noise_std, rho=D2_RHO)
    out["d_loc"]["D3"] = local_dimension_d3(s, noise_std, D3_FRACTION)
    out["d_loc"]["D4"] = local_dimension_d4(s)
    if q_t is not None:
        k, d = q_t.shape[-1], jac.shape[1]
        blocks = block_antisymmetry(jac, q_t)
        out["blocks"] = {b: blocks[b] for b in ("a_TT", "a_TN", "a_NN")}
        out["overlap"] = subspace_overlap(tangent_features(jac, k), q_t)
        q_n = np.linalg.qr(q_t, mode="complete")[0][..., k:]
        jnn = np.swapaxes(q_n, -1, -2) @ jac @ q_n
        out["s_perp"] = -np.trace(jnn, axis1=-2, axis2=-1) / (d - k)
    return out


def _loglog_fit(x: np.ndarray, y: np.ndarray, predicted: float) -> ScalingFit | None:
    """Slope of log y on log x over the points with y > 0, with its t-interval; None if < 3."""
    from scipy import stats  # here: `import empirical` stays light

    keep = y > 0
    n = int(keep.sum())
    if n < 3:
        return None
    res = stats.linregress(np.log(x[keep]), np.log(y[keep]))
    half = float(stats.t.ppf(0.5 + CI_LEVEL / 2, n - 2)) * float(res.stderr)
    slope = float(res.slope)
    return ScalingFit(
        slope=slope,
        ci=(slope - half, slope + half),
        n_points=n,
        stderr=float(res.stderr),
        intercept=float(res.intercept),
        predicted=predicted,
    )


def _staircase(levels: np.ndarray, mean_dloc: np.ndarray, d: int) -> tuple[StaircaseStep, ...]:
    """Crossings of each half-integer by the mean D1 d_loc, interpolated in log level."""
    steps = []
    logs = np.log(levels)
    for j in range(1, d + 1):
        target = j - 0.5
        for i in range(levels.size):
            here = mean_dloc[i] - target
            if here == 0:
                steps.append(StaircaseStep(target, float(levels[i]), (float(levels[i]),) * 2))
            elif i + 1 < levels.size and here * (mean_dloc[i + 1] - target) < 0:
                frac = (target - mean_dloc[i]) / (mean_dloc[i + 1] - mean_dloc[i])
                where = math.exp(logs[i] + frac * (logs[i + 1] - logs[i]))
                steps.append(StaircaseStep(target, where, (float(levels[i]), float(levels[i + 1]))))
    return tuple(sorted(steps, key=lambda s: -s.location))


# --------------------------------------------------------------------------------------------
# The entry point


def diagnose(
    score: Callable,
    x,
    sigmas,
    *,
    manifold=None,
    convention: str = "ve",
    jacobian: str = "auto",
) -> Diagnosis:
    r"""Jacobian diagnostics of a score field at a batch of points over a grid of noise levels.

    Arguments
    ---------
    score : callable ``score(x, sigma)``: ``x`` an (m, d) array, ``sigma`` a positive scalar
        (the VE noise level σ, or the VP time t with ``convention="vp"``); returns the (m, d)
        score values, numpy or JAX. Called with float64 numpy arrays (finite differences) or
        traced under ``jax.enable_x64`` (autodiff).
    x : (n, d) points, d ≥ 2, where every Jacobian is taken (the same points at every level).
    sigmas : 1-D array of distinct levels > 0, in any order (sorted increasing in the result):
        σ for ``"ve"``, t for ``"vp"``. The fits need at least 3.
    manifold : None; a theory spec with a tangent basis (a ``LinearGaussian``: its ``basis``; a
        ``GraphSurface``: ``tangent_basis`` at ``nearest_point(x)``); or a callable
        ``x -> (n, d, k)`` or ``(d, k)`` whose columns span the tangent space at each point
        (orthonormalised here by QR), 1 ≤ k ≤ d − 1.
    convention : ``"ve"`` or ``"vp"`` (module docstring: what σ means under VP).
    jacobian : ``"auto"``, ``"autodiff"`` or ``"fd"`` (module docstring: routes and step rule).

    Returns
    -------
    :class:`Diagnosis`.

    Raises
    ------
    ValueError
        Naming the argument: ``sigmas`` not a 1-D array of distinct positive finite levels; ``x``
        not a finite (n, d) array with d ≥ 2; an unknown ``convention`` or ``jacobian``; a
        ``manifold`` basis of the wrong shape or rank; ``jacobian="autodiff"`` on a score that does
        not trace; a score of the wrong shape, of non-float dtype, or with NaN or infinity in its
        values or Jacobian.

    Warns
    -----
    LowPrecisionWarning
        When the score's output dtype is float32 or narrower, naming the measured noise floor.

    Notes
    -----
    Per level, with :math:`\sigma_n` the noise standard deviation (σ, or :math:`\sqrt{v_t}`):
    :math:`s_i` the singular values of J, :math:`\sigma_n^2 s_i` the normalised spectrum,
    :math:`d_{loc}` by D1–D4 (:mod:`empirical.metrics`, paper000 §2.2 [R]),
    :math:`a = \|A\|_F/\|J\|_F` (§2.3 N2), the blocks and overlap (§2.3, §2.4), and
    :math:`\kappa_\perp = \sigma_n^2 s_\perp` (:class:`Diagnosis`). Over the levels, the
    exponents of :math:`s_1` and :math:`s_\perp` in :math:`\sigma_n` (predicted −2) and the
    staircase steps (:func:`theory.spectra.staircase_steps` for linear-Gaussian data).
    """
    if not callable(score):
        raise ValueError(f"score must be a callable score(x, sigma) (got {type(score).__name__})")
    convention = _choice("convention", convention, CONVENTIONS)
    route = _choice("jacobian", jacobian, ROUTES)
    levels = _levels(sigmas, convention)
    pts = _points(x)
    d = pts.shape[1]
    q_t = _tangent_basis(manifold, pts)
    level_name = _LEVEL_NAME[convention]
    if convention == "ve":
        noise_std, ve_sigma = levels.copy(), levels.copy()
    else:
        noise_std, ve_sigma = np.sqrt(vp_v(levels)), vp_t_to_ve_sigma(levels)

    provenance: dict = {"requested": route, "convention": convention}
    mode = None
    if route in ("auto", "autodiff"):
        mode, detail = _trace(score, d, float(levels[0]))
        if mode is None and route == "autodiff":
            raise ValueError(
                f"jacobian='autodiff' needs a JAX-traceable score; tracing it raised {detail}"
            )
        if mode is None:
            provenance["why"] = f"the score does not trace ({detail}): central differences"
        else:
            provenance["why"] = f"the score traces with a {mode} {level_name}: autodiff"
    if mode is not None:
        auto = _Autodiff(score, mode)
        dtype = detail
        provenance.update(
            route="autodiff",
            step_rule="forward-mode autodiff, jax.vmap(jax.jacfwd(score)), float64 inputs under "
            "jax.enable_x64",
        )
    else:
        first = np.asarray(score(pts[:1].copy(), float(levels[0])))
        dtype = _float_dtype(first.dtype)
        eps = float(np.finfo(dtype).eps)
        provenance.update(
            route="fd",
            step_rule=f"central differences, h = noise_std · eps^(1/3), eps = {eps:.3g} "
            f"(the {dtype} machine epsilon)",
            steps=(noise_std * eps ** (1.0 / 3.0)).tolist(),
        )
    low = np.finfo(dtype).eps > np.finfo(np.float64).eps
    provenance["dtype"] = str(dtype)

    per_level, floors = [], []
    for level, std in zip(levels, noise_std, strict=True):
        level = float(level)
        if mode is not None:
            jac, values = auto(pts, level)
            _check_finite_field(values, "value", level_name, level)
            _check_finite_field(jac, "Jacobian", level_name, level)
            if low:
                floors.append(_relative_gap(jac, auto(pts, level, reverse=True)[0]))
        else:
            h = float(std) * float(np.finfo(dtype).eps) ** (1.0 / 3.0)
            jac = central_difference_jacobian(score, pts, level, h=h)
            if low:
                floors.append(
                    _relative_gap(jac, central_difference_jacobian(score, pts, level, h=2 * h))
                )
        try:
            per_level.append(_measure(jac, float(std), q_t))
        except ValueError as err:
            raise ValueError(f"at {level_name} = {level:.6g}: {err}") from None

    def stack(key):
        return np.stack([m[key] for m in per_level])

    d_loc = {
        rule: np.stack([m["d_loc"][rule] for m in per_level]) for rule in per_level[0]["d_loc"]
    }
    singular_values = stack("s")
    fits = {}
    top = _loglog_fit(noise_std, singular_values[:, :, 0].mean(axis=1), -2.0)
    if top is not None:
        fits["top_singular_value"] = top
    blocks = overlap = stiffness = None
    k = None
    if q_t is not None:
        k = int(q_t.shape[-1])
        blocks = {
            b: np.stack([m["blocks"][b] for m in per_level]) for b in ("a_TT", "a_TN", "a_NN")
        }
        overlap = stack("overlap")
        s_perp = stack("s_perp")
        stiffness = noise_std[:, None] ** 2 * s_perp
        normal = _loglog_fit(noise_std, s_perp.mean(axis=1), -2.0)
        if normal is not None:
            fits["normal_stiffness"] = normal
    noise_floor = np.asarray(floors) if low else None
    provenance.update(
        d1_thresholds=list(D1_THRESHOLDS),
        d2_rho=D2_RHO,
        d3_fraction=D3_FRACTION,
        ci_level=CI_LEVEL,
        noise_floor_rule=None
        if not low
        else (
            "median over points of ‖J_fwd − J_rev‖_F / ‖J_fwd‖_F"
            if mode is not None
            else "median over points of ‖J_h − J_2h‖_F / ‖J_h‖_F"
        ),
    )
    diagnosis = Diagnosis(
        convention=convention,
        levels=levels,
        noise_std=noise_std,
        ve_sigma=np.asarray(ve_sigma, dtype=np.float64),
        points=pts,
        singular_values=singular_values,
        normalised=stack("normalised"),
        d_loc=d_loc,
        asymmetry=stack("asym"),
        blocks=blocks,
        overlap=overlap,
        normal_stiffness=stiffness,
        k=k,
        fits=fits,
        steps=_staircase(levels, d_loc["D1"].mean(axis=1), d),
        noise_floor=noise_floor,
        provenance=provenance,
    )
    if low:
        warnings.warn(
            f"score returns {dtype}: the Jacobian carries a relative rounding noise of "
            f"{noise_floor.max():.2g} (measured, worst level; median {np.median(noise_floor):.2g}), "
            "so asymmetries below it are not resolved; return float64 to lower it",
            LowPrecisionWarning,
            stacklevel=2,
        )
    return diagnosis
