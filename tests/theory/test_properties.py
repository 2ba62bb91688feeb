"""Properties of every public callable of theory/ (the names in each public module's ``__all__``).

For each callable a case gives a strategy of valid arguments and, per argument, values that break
it. Valid arguments are finite values inside the documented domain at moderate magnitudes (scales
mostly within 1e-6..1e6, as each strategy states; the float64 extremes, where some exact results
leave the float64 range, are not generated). Bad values are out of range, NaN, infinity, the wrong
shape, an array where a scalar belongs, a non-number, or a relation to another argument (a ≥ b,
s > t, d < k). Two properties:

* valid arguments give finite outputs and no warning (warnings are errors here);
* one broken argument raises ``ValueError`` whose message names that argument.

A class or function with methods is one case: its call runs the constructor and every method.
``test_every_public_callable_has_a_case`` keeps the cases complete as the modules grow.

Settings: the ``theory-properties`` profile (modest ``max_examples``, no deadline, derandomized so
that CI sees the same examples on every run); the slow quadrature and sympy cases draw fewer.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import re
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import theory
from theory import (
    distributions,
    graph_surface,
    rate_ellipse,
    rate_ness,
    rate_relaxation,
    rate_reverse,
    rate_spheres,
    scaling,
    schedules,
    smoothing,
    spectra,
    symbolic,
)

settings.register_profile(
    "theory-properties",
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
PROFILE = settings.get_profile("theory-properties")
FEW = 6  # examples for the cases whose one call takes ~0.1 s (quadrature, sympy)
INVALID_EXAMPLES = 20  # per (case, argument): the bad values of one argument are a short list

NAN, INF = float("nan"), float("inf")


# --------------------------------------------------------------------------------------------
# Strategies


def logu(lo: float, hi: float) -> st.SearchStrategy[float]:
    """Log-uniform floats in [lo, hi]."""
    return st.floats(np.log10(lo), np.log10(hi)).map(lambda e: float(10.0**e))


def vectors(elements: st.SearchStrategy[float], n: int) -> st.SearchStrategy[np.ndarray]:
    return arrays(np.float64, n, elements=elements)


def scalar_or_array(elements: st.SearchStrategy[float]) -> st.SearchStrategy:
    """A Python float, or an array of 1–4 values of shape (m,) or (m, 1)."""
    shapes = st.sampled_from([(1,), (3,), (4,), (2, 1)])
    return st.one_of(elements, shapes.flatmap(lambda s: arrays(np.float64, s, elements=elements)))


POS = logu(1e-6, 1e6)
UNIT = st.floats(1e-6, 1.0 - 1e-6)
COORD = st.floats(-100.0, 100.0)


@st.composite
def batch(draw, d: int, elements=COORD) -> np.ndarray:
    """A single point (d,) or a batch (n, d), n = 0..4."""
    shape = draw(st.sampled_from([(d,), (0, d), (1, d), (3, d)]))
    return draw(arrays(np.float64, shape, elements=elements))


@st.composite
def orthonormal(draw, d: int, k: int) -> np.ndarray:
    seed = draw(st.integers(0, 2**32 - 1))
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, k)))
    return q


@st.composite
def line_points(draw, n_max: int = 5) -> np.ndarray:
    """Distinct collinear points ordered along their line, d = 1..3 (the smoothing domain)."""
    n = draw(st.integers(2, n_max))
    d = draw(st.integers(1, 3))
    gaps = draw(vectors(st.floats(0.1, 3.0), n - 1))
    tau = draw(st.floats(-5.0, 5.0)) + np.concatenate([[0.0], np.cumsum(gaps)])
    if d == 1:
        return tau[:, None]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    u, o = np.linalg.qr(rng.normal(size=(d, 2)))[0].T  # orthonormal: direction u, offset o ⟂ u
    return draw(st.floats(0.0, 3.0)) * o + tau[:, None] * u


@st.composite
def smoothing_regime(draw, n_max: int = 5, ratio: tuple[float, float] = (1e-4, 0.9)) -> dict:
    """points, kappa and t with kappa sqrt(t) = ratio × the smallest half-gap (the valid regime)."""
    points = draw(line_points(n_max))
    kappa = draw(logu(1e-2, 10.0))
    u = points[-1] - points[0]
    tau = points @ (u / np.linalg.norm(u))
    half = 0.5 * np.diff(tau).min()
    return {"points": points, "kappa": kappa, "t": (draw(logu(*ratio)) * half / kappa) ** 2}


def variances(k: int) -> st.SearchStrategy[np.ndarray]:
    """k tangent variances in [1e-4, 1e4]."""
    return vectors(logu(1e-4, 1e4), k)


@st.composite
def levels(draw) -> dict:
    """alphas (each in [0.01, 0.3], so sum < 1) and taus of K = 1..3 variance levels."""
    k = draw(st.integers(1, 3))
    return {
        "alphas": draw(vectors(st.floats(0.01, 0.3), k)),
        "taus": draw(vectors(logu(1e-3, 1e3), k)),
    }


@st.composite
def edge_pair(draw) -> tuple[float, float]:
    """0 < a < b, from far apart down to b = a (1 + 1e-12)."""
    a = draw(logu(1e-4, 1e4))
    b = a * (1.0 + draw(logu(1e-12, 1e4)))
    return (a, b) if b > a else (a, np.nextafter(a, INF))


def fixed(**values) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries(
        {k: v if isinstance(v, st.SearchStrategy) else st.just(v) for k, v in values.items()}
    )


def merged(base: st.SearchStrategy[dict], extra: Callable[[dict], st.SearchStrategy[dict]]):
    """Draw base, then further arguments that depend on it."""
    return base.flatmap(lambda kw: extra(kw).map(lambda more: {**kw, **more}))


# --------------------------------------------------------------------------------------------
# Bad values


@dataclasses.dataclass(frozen=True)
class Rel:
    """A bad value computed from the valid arguments (a relation to another argument)."""

    make: Callable[[dict], Any]
    label: str

    def __repr__(self) -> str:
        return f"Rel({self.label})"


NOT_REAL = ["1.0", 1j, [1.0, [2.0]]]
BAD_FINITE = [NAN, INF, -INF, *NOT_REAL]
BAD_POSITIVE = [0.0, -1.0, *BAD_FINITE, [1.0, -2.0], [1.0, NAN]]
BAD_POS_SCALAR = [*BAD_POSITIVE, np.array([1.0, 2.0]), np.array([1.0])]
BAD_PROB = [0.0, 1.0, -0.5, 1.5, NAN, INF, np.array([0.5, 0.5]), *NOT_REAL]
BAD_POINTS = [[1.0, 2.0], [[NAN, 0.0], [1.0, 0.0]], np.zeros((2, 2, 2)), "points"]


def bad_int(minimum: int) -> list:
    return [minimum - 1, minimum + 0.5, INF, NAN, np.array([minimum, minimum + 1]), "3"]


BAD_X = [
    *BAD_FINITE,
    Rel(lambda kw: np.zeros((*np.shape(kw["x"])[:-1], np.shape(kw["x"])[-1] + 1)), "d + 1"),
]


# --------------------------------------------------------------------------------------------
# Cases


@dataclasses.dataclass(frozen=True)
class Case:
    covers: tuple[str, ...]  # the public names this case calls
    valid: st.SearchStrategy[dict]
    call: Callable[[dict], Any]
    bad: dict[str, list]
    examples: int | None = None  # None: the profile's


def _spec_fields(spec, kw) -> list:
    return [
        getattr(spec, m)(kw["x"], kw["sigma"])
        for m in ("score", "jacobian", "denoiser", "log_density")
    ]


def _sigma_for(x: np.ndarray) -> st.SearchStrategy:
    """A noise level in [1e-3, 1e3]: a scalar, or for a batch (n, d) also one per point."""
    level = logu(1e-3, 1e3)
    return st.one_of(level, vectors(level, x.shape[0])) if x.ndim == 2 else level


BAD_SIGMA = [*BAD_POSITIVE, Rel(lambda kw: np.ones(7), "wrong length")]


@st.composite
def graph_surface_args(draw) -> dict:
    """A graph surface, chart points u in its square, and points x = φ(u) + ρν within the reach
    (|ρ| ≤ min(3σ, ½/(A f²))): the fields are defined near the surface, not far off it."""
    kw = {
        "amplitude": draw(st.floats(0.0, 0.5)),
        "frequency": draw(st.floats(0.5, 2.0)),
        "half_width": draw(st.floats(2.0, 4.0)),
        "std": draw(st.floats(0.2, 1.0)),
    }
    kw["centre"] = draw(st.floats(0.2, 0.9)) * kw["half_width"]
    n = draw(st.integers(1, 4))
    sigma = draw(logu(1e-2, 1.0))
    surface = graph_surface.GraphSurface(**kw)
    u = draw(arrays(np.float64, (n, 2), elements=st.floats(-1.0, 1.0))) * kw["half_width"]
    limit = min(3 * sigma, 0.5 / (kw["amplitude"] * kw["frequency"] ** 2 + 1e-12))
    rho = draw(arrays(np.float64, n, elements=st.floats(-1.0, 1.0))) * limit
    x = surface.embed(u) + rho[:, None] * surface.unit_normal(u)
    return {**kw, "u": u, "x": x, "sigma": sigma, "nodes": draw(st.integers(8, 40))}


def _graph_surface_calls(kw) -> list:
    params = ("amplitude", "frequency", "half_width", "centre", "std")
    surface = graph_surface.GraphSurface(**{k: kw[k] for k in params})
    u, x, sigma, nodes = kw["u"], kw["x"], kw["sigma"], kw["nodes"]
    return [
        surface.fields(x, sigma, nodes=nodes),
        surface.denoiser(x, sigma, nodes=nodes),
        surface.nearest_point(x),
        [surface.height(u), surface.embed(u), surface.area_factor(u), surface.log_chart_density(u)],
        [surface.tangent_basis(u), surface.unit_normal(u), surface.to_dict()["amplitude"]],
        surface.chart_velocity(u, x),
    ]


@st.composite
def linear_gaussian_args(draw) -> dict:
    k = draw(st.integers(1, 3))
    d = draw(st.integers(k, 4))
    basis = draw(st.one_of(st.none(), orthonormal(d, k)))
    x = draw(batch(d))
    return {
        "variances": draw(variances(k)),
        "d": d,
        "basis": basis,
        "x": x,
        "sigma": draw(_sigma_for(x)),
    }


@st.composite
def vp_score_args(draw) -> dict:
    """A VE score (a linear Gaussian's), points and a VP time t in [1e-6, 50]."""
    kw = draw(linear_gaussian_args())
    score_ve = distributions.LinearGaussian(kw["variances"], kw["d"], kw["basis"]).score
    return {"score_ve": score_ve, "x": kw["x"], "t": draw(logu(1e-6, 50.0))}


@st.composite
def mixture_args(draw) -> dict:
    k = draw(st.integers(1, 3))
    d = draw(st.integers(1, 3))
    w = draw(vectors(st.floats(0.05, 1.0), k))
    covs = []
    for _ in range(k):
        r = draw(st.integers(0, d))  # rank r: r = 0 is a point mass
        a = draw(arrays(np.float64, (d, r), elements=st.floats(-2.0, 2.0)))
        c = a @ a.T
        covs.append(0.5 * (c + c.T))
    x = draw(batch(d))
    return {
        "weights": w / w.sum(),
        "means": draw(arrays(np.float64, (k, d), elements=st.floats(-10.0, 10.0))),
        "covariances": np.array(covs).reshape(k, d, d),
        "x": x,
        "sigma": draw(_sigma_for(x)),
    }


@st.composite
def finite_set_args(draw) -> dict:
    m, d = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    x = draw(batch(d))
    return {
        "points": draw(arrays(np.float64, (m, d), elements=st.floats(-10.0, 10.0))),
        "x": x,
        "sigma": draw(_sigma_for(x)),
    }


@st.composite
def any_points_args(draw) -> dict:
    n, d = draw(st.integers(2, 5)), draw(st.integers(1, 3))
    return {
        "points": draw(arrays(np.float64, (n, d), elements=st.floats(-10.0, 10.0))),
        "x": draw(st.one_of(batch(d), arrays(np.float64, (2, 2, d), elements=COORD))),
        "t": draw(logu(1e-4, 1e3)),
    }


def _with_x(kw):
    return fixed(x=batch(kw["points"].shape[1]))


def _with_s(kw):
    return fixed(s=st.floats(0.0, 1.0).map(lambda u: u * kw["t"]))


def _endpoint_law(kw):
    law = smoothing.endpoint_law(kw["kappa"], kw["t0"], kw["points"])
    return law, law.density(kw["xi"]), law.interpolating_density(kw["xi"])


def _asymmetric(kw):
    c = kw["covariances"]
    return c + np.triu(np.ones(c.shape[1:]), 1) if c.shape[1] > 1 else c[..., :0]


def _unordered(kw):
    """The points with the first two swapped: out of order along their line (for n = 2 in d > 1
    a swap only reverses the line, so a single point is returned instead)."""
    p = kw["points"]
    if p.shape[1] == 1 or len(p) > 2:
        return p[[1, 0, *range(2, len(p))]]
    return p[:1]


def _marchenko_pastur(kw):
    out = []
    for law in (
        spectra.marchenko_pastur(kw["alpha"], kw["tau"]),
        spectra.MarchenkoPastur(kw["alpha"], kw["tau"]),
    ):
        out += [law.gamma_minus, law.gamma_plus, law.density(kw["lam"]), law.cdf(kw["lam"])]
    return out


BAD_LEVELS = {
    "alphas": [
        *BAD_POSITIVE,
        [0.6, 0.6],
        [[0.2]],
        [],
        Rel(lambda kw: np.append(kw["alphas"], 0.01), "longer"),
    ],
    "taus": [*BAD_POSITIVE, [[1.0]], [], Rel(lambda kw: np.append(kw["taus"], 1.0), "longer")],
}
BAD_LINE_POINTS = [
    *BAD_POINTS,
    [[0.0]],
    Rel(lambda kw: np.concatenate([kw["points"][:1], kw["points"]]), "repeated point"),
    Rel(_unordered, "unordered"),
]


def bad_regime(name: str) -> list:
    """Bad start times of the smoothing regime: kappa sqrt(t) must stay below every half-gap."""
    beyond = Rel(lambda kw: 4.0 * (1.0 + kw[name]) * (10.0 / kw["kappa"]) ** 2, "beyond")
    return [*BAD_POS_SCALAR, beyond]


BAD_REGIME_T = bad_regime("t")
BAD_VARIANCES = [*BAD_POSITIVE, [], [[1.0]]]
BAD_ALPHA = [-0.1, NAN, INF, np.array([1.0, 2.0]), *NOT_REAL]
ALPHA = st.one_of(st.just(0.0), st.floats(1e-3, 5.0))


@st.composite
def subspace_args(draw, alpha=ALPHA) -> dict:
    """d, k tangent variances (k <= d) and an OU rate alpha (paper002's alpha-process)."""
    k = draw(st.integers(1, 3))
    return {"d": draw(st.integers(k, 6)), "variances": draw(variances(k)), "alpha": draw(alpha)}


BAD_SUBSPACE = {
    "d": [*bad_int(1), Rel(lambda kw: len(kw["variances"]) - 1, "d < k")],
    "variances": BAD_VARIANCES,
}


def _drift_energy_args(kw):
    return merged(
        fixed(t=scalar_or_array(logu(1e-8, 50.0)), eps=scalar_or_array(logu(1e-8, 10.0))),
        lambda more: fixed(T=logu(1.0 + 1e-9, 1e4).map(lambda r: r * more["eps"])),
    )


def bad_interval(base: list) -> dict[str, list]:
    """Bad values of a time interval (eps, T): each out of range, or eps >= T."""
    return {
        "eps": [*base, Rel(lambda kw: kw["T"], "= T")],
        "T": [*base, Rel(lambda kw: 0.5 * kw["eps"], "< eps")],
    }


def _power_law_args(kw):
    return fixed(T=logu(1.0 + 1e-9, 1e6).map(lambda r: r * kw["eps"]))


@st.composite
def gaussian_pair_args(draw) -> dict:
    d = draw(st.integers(1, 3))
    kw = {}
    for i in (0, 1):
        a = draw(arrays(np.float64, (d, d), elements=st.floats(-2.0, 2.0)))
        kw[f"mean{i}"] = draw(arrays(np.float64, d, elements=st.floats(-10.0, 10.0)))
        kw[f"cov{i}"] = a @ a.T + 0.1 * np.eye(d)
    return kw


@st.composite
def data_moments_args(draw) -> dict:
    """A data mean and a positive semi-definite covariance of rank 0..d (singular allowed)."""
    d = draw(st.integers(1, 3))
    a = draw(arrays(np.float64, (d, draw(st.integers(0, d))), elements=st.floats(-2.0, 2.0)))
    return {
        "mean": draw(arrays(np.float64, d, elements=st.floats(-10.0, 10.0))),
        "cov": a @ a.T,
        "T": draw(POS),
    }


def _not_symmetric(name: str):
    def make(kw):
        c = kw[name]
        return c + np.triu(np.ones(c.shape), 1) if c.shape[0] > 1 else c[:, :0]

    return Rel(make, "not symmetric")


def _bad_mean(name: str) -> list:
    return [*BAD_FINITE, Rel(lambda kw: np.append(kw[name], 0.0), "longer"), [[0.0]]]


def _bad_cov(name: str, definite: str) -> list:
    return [
        *BAD_FINITE,
        Rel(lambda kw: -np.eye(len(kw[name])) - kw[name], definite),
        _not_symmetric(name),
        Rel(lambda kw: np.zeros((len(kw[name]) + 1,) * 2), "(d + 1) x (d + 1)"),
    ]


BAD_TS_ALPHA = [0.0, 2.0, -0.1, NAN, INF, np.array([1.0, 2.0]), *NOT_REAL]
BAD_KAPPA = [-1.0, *BAD_FINITE]
BAD_KAPPA_SCALAR = [*BAD_KAPPA, np.array([1.0, 2.0])]
TS_ALPHA = st.floats(1e-3, 1.999)
CONVENTION = st.sampled_from(["ve", "vp"])


def bad_gamma(lo: float | None, hi: float) -> list:
    """Bad error exponents: outside (lo, hi], not finite, an array, not a number."""
    out = [hi + 0.5, NAN, INF, np.array([0.5 * hi, 0.5 * hi]), *NOT_REAL]
    return out if lo is None else [lo, lo - 1.0, *out]


@st.composite
def noised_circle_args(draw, theta: bool = False) -> dict:
    """Points (or angles) on R², a convention, σ (< 1 for VP), κ, R and θ₀."""
    convention = draw(CONVENTION)
    level = st.floats(1e-3, 0.999) if convention == "vp" else logu(1e-3, 1e3)
    kw = {
        "kappa": draw(st.floats(0.0, 50.0)),
        "radius": draw(logu(1e-2, 1e2)),
        "convention": convention,
        "mean_angle": draw(st.floats(-10.0, 10.0)),
    }
    if theta:
        return {**kw, "theta": draw(scalar_or_array(COORD)), "sigma": draw(scalar_or_array(level))}
    x = draw(batch(2))
    sigma = st.one_of(level, vectors(level, x.shape[0])) if x.ndim == 2 else level
    return {**kw, "x": x, "sigma": draw(sigma)}


def _noised_circle(kw):
    args = (kw["sigma"], kw["kappa"], kw["radius"], kw["convention"], kw["mean_angle"])
    return (
        scaling.noised_circle_log_density(kw["x"], *args),
        scaling.noised_circle_score(kw["x"], *args),
    )


BAD_VP_SIGMA = Rel(lambda kw: 1.0 if kw["convention"] == "vp" else 0.0, "1 for VP")
BAD_CIRCLE = {
    "kappa": BAD_KAPPA_SCALAR,
    "radius": BAD_POS_SCALAR,
    "convention": ["VE", "sde", None, 1.0],
    "mean_angle": [*BAD_FINITE, np.array([1.0, 2.0])],
}


@st.composite
def ellipse_args(draw) -> dict:
    """Axes a, b and points φ(t) + ρν(t) with ρ above −½·reach (inside the curve's reach)."""
    a, b = draw(logu(0.1, 10.0)), draw(logu(0.1, 10.0))
    reach = min(a, b) ** 2 / max(a, b)
    n = draw(st.integers(1, 4))
    t = np.array(draw(st.lists(st.floats(0.0, 2 * np.pi), min_size=n, max_size=n)))
    rho = np.array(draw(st.lists(st.floats(-0.5, 2.0), min_size=n, max_size=n))) * reach
    speed = np.hypot(a * np.sin(t), b * np.cos(t))
    normal = np.stack([b * np.cos(t), a * np.sin(t)], axis=1) / speed[:, None]
    x = np.stack([a * np.cos(t), b * np.sin(t)], axis=1) + rho[:, None] * normal
    return {"a": a, "b": b, "x": x[0] if draw(st.booleans()) and n == 1 else x}


@st.composite
def periodic_functions(draw):
    """A smooth periodic function of the angle, m + A sin(kθ + φ), vectorised."""
    m, amp = draw(st.floats(-5.0, 5.0)), draw(st.floats(0.0, 10.0))
    k, phase = draw(st.integers(1, 4)), draw(st.floats(0.0, 2 * np.pi))
    return lambda theta: m + amp * np.sin(k * np.asarray(theta) + phase)


BAD_PERIODIC = [None, "f", lambda t: np.full_like(t, NAN), lambda t: np.zeros(3)]


def _power_energy(kw):
    return lambda t: kw["c"] ** 2 * t ** (-kw["gamma"])


CASES: dict[str, Case] = {
    # schedules
    "vp_a": Case(
        ("vp_a",),
        fixed(t=scalar_or_array(logu(1e-12, 700.0))),
        lambda kw: schedules.vp_a(kw["t"]),
        {"t": BAD_POSITIVE},
    ),
    "vp_v": Case(
        ("vp_v",),
        fixed(t=scalar_or_array(logu(1e-12, 700.0))),
        lambda kw: schedules.vp_v(kw["t"]),
        {"t": BAD_POSITIVE},
    ),
    "ou_a_ou_v": Case(
        ("ou_a", "ou_v"),
        fixed(t=scalar_or_array(logu(1e-12, 700.0)), alpha=ALPHA),
        lambda kw: (schedules.ou_a(kw["t"], kw["alpha"]), schedules.ou_v(kw["t"], kw["alpha"])),
        {"t": BAD_POSITIVE, "alpha": BAD_ALPHA},
    ),
    "linear_beta_ou_time": Case(
        ("linear_beta_ou_time",),
        merged(
            fixed(t=scalar_or_array(logu(1e-6, 1e3)), beta_min=logu(1e-4, 10.0)),
            lambda kw: fixed(beta_max=logu(1.0, 1e4).map(lambda r: r * kw["beta_min"])),
        ),
        lambda kw: schedules.linear_beta_ou_time(kw["t"], kw["beta_min"], kw["beta_max"]),
        {
            "t": BAD_POSITIVE,
            "beta_min": [*BAD_POS_SCALAR, Rel(lambda kw: 2.0 * kw["beta_max"], "> beta_max")],
            "beta_max": [*BAD_POS_SCALAR, Rel(lambda kw: 0.5 * kw["beta_min"], "< beta_min")],
        },
    ),
    "vp_t_to_ve_sigma": Case(
        ("vp_t_to_ve_sigma",),
        fixed(t=scalar_or_array(logu(1e-12, 700.0))),
        lambda kw: schedules.vp_t_to_ve_sigma(kw["t"]),
        {"t": [*BAD_POSITIVE, 710.0]},
    ),
    "ve_sigma_to_vp_t": Case(
        ("ve_sigma_to_vp_t",),
        fixed(sigma=scalar_or_array(logu(1e-12, 1e12))),
        lambda kw: schedules.ve_sigma_to_vp_t(kw["sigma"]),
        {"sigma": BAD_POSITIVE},
    ),
    "vp_score_from_ve": Case(
        ("vp_score_from_ve",),
        vp_score_args(),
        lambda kw: schedules.vp_score_from_ve(kw["score_ve"])(kw["x"], kw["t"]),
        {"score_ve": [None, 1.0, "score"], "x": BAD_FINITE, "t": BAD_POSITIVE},
    ),
    "geometric_grid": Case(
        ("geometric_grid",),
        fixed(start=logu(1e-12, 1e12), stop=logu(1e-12, 1e12), n=st.integers(2, 50)),
        lambda kw: schedules.geometric_grid(kw["start"], kw["stop"], kw["n"]),
        {"start": BAD_POS_SCALAR, "stop": BAD_POS_SCALAR, "n": bad_int(2)},
    ),
    # distributions
    "LinearGaussian": Case(
        ("LinearGaussian",),
        linear_gaussian_args(),
        lambda kw: _spec_fields(
            distributions.LinearGaussian(kw["variances"], kw["d"], kw["basis"]), kw
        ),
        {
            "variances": BAD_VARIANCES,
            "d": [*bad_int(1), Rel(lambda kw: len(kw["variances"]) - 1, "d < k")],
            "basis": [
                Rel(lambda kw: np.eye(kw["d"] + 1), "(d + 1) x (d + 1)"),
                Rel(lambda kw: 2.0 * np.eye(kw["d"])[:, : len(kw["variances"])], "not orthonormal"),
                Rel(lambda kw: np.full((kw["d"], len(kw["variances"])), NAN), "NaN"),
            ],
            "x": BAD_X,
            "sigma": BAD_SIGMA,
        },
    ),
    "GraphSurface": Case(
        ("GraphSurface",),
        graph_surface_args(),
        _graph_surface_calls,
        {
            "amplitude": [-1.0, *BAD_FINITE, np.array([0.1, 0.2])],
            "frequency": BAD_POS_SCALAR,
            "half_width": BAD_POS_SCALAR,
            "centre": [*BAD_POS_SCALAR, Rel(lambda kw: kw["half_width"], "= half_width")],
            "std": BAD_POS_SCALAR,
            "x": [
                *BAD_X,
                Rel(lambda kw: kw["x"] + [20.0 * kw["half_width"], 0.0, 0.0], "beside the square"),
            ],
            "sigma": BAD_SIGMA,
            "nodes": [*bad_int(8), 513],
        },
        examples=20,
    ),
    "GaussianMixture": Case(
        ("GaussianMixture",),
        mixture_args(),
        lambda kw: _spec_fields(
            distributions.GaussianMixture(kw["weights"], kw["means"], kw["covariances"]), kw
        ),
        {
            "weights": [*BAD_POSITIVE, Rel(lambda kw: 2.0 * kw["weights"], "sum 2"), [[1.0]]],
            "means": [
                *BAD_FINITE,
                Rel(lambda kw: kw["means"][:, :0], "d = 0"),
                Rel(lambda kw: kw["means"][0], "1-D"),
            ],
            "covariances": [
                *BAD_FINITE,
                Rel(
                    lambda kw: (
                        -np.broadcast_to(np.eye(kw["means"].shape[1]), kw["covariances"].shape)
                    ),
                    "negative definite",
                ),
                Rel(_asymmetric, "not symmetric or not square"),
                Rel(lambda kw: kw["covariances"][0], "one matrix"),
            ],
            "x": BAD_X,
            "sigma": BAD_SIGMA,
        },
    ),
    "FiniteSet": Case(
        ("FiniteSet",),
        finite_set_args(),
        lambda kw: _spec_fields(distributions.FiniteSet(kw["points"]), kw),
        {
            "points": [*BAD_POINTS, np.zeros((3, 0)), np.zeros((0, 2))],
            "x": BAD_X,
            "sigma": BAD_SIGMA,
        },
    ),
    # smoothing
    "empirical_score": Case(
        ("empirical_score",),
        any_points_args(),
        lambda kw: smoothing.empirical_score(kw["x"], kw["t"], kw["points"]),
        {"x": BAD_X, "t": BAD_POS_SCALAR, "points": [*BAD_POINTS, [[0.0]]]},
    ),
    "piecewise_linear_score": Case(
        ("piecewise_linear_score",),
        any_points_args(),
        lambda kw: smoothing.piecewise_linear_score(kw["x"], kw["t"], kw["points"]),
        {"x": BAD_X, "t": BAD_POS_SCALAR, "points": [*BAD_POINTS, [[0.0]]]},
    ),
    "smoothed_score": Case(
        ("smoothed_score",),
        merged(smoothing_regime(), _with_x),
        lambda kw: smoothing.smoothed_score(kw["x"], kw["t"], kw["kappa"], kw["points"]),
        {"x": BAD_X, "t": BAD_REGIME_T, "kappa": BAD_POS_SCALAR, "points": BAD_LINE_POINTS},
    ),
    "non_smoothness": Case(
        ("non_smoothness",),
        smoothing_regime(),
        lambda kw: smoothing.non_smoothness(kw["t"], kw["kappa"], kw["points"]),
        {"t": BAD_REGIME_T, "kappa": BAD_POS_SCALAR, "points": BAD_LINE_POINTS},
    ),
    "asymptotic_loss": Case(
        ("asymptotic_loss",),
        fixed(kappa=scalar_or_array(logu(1e-6, 1e300))),
        lambda kw: smoothing.asymptotic_loss(kw["kappa"]),
        {"kappa": BAD_POSITIVE},
    ),
    "score_matching_loss": Case(
        ("score_matching_loss",),
        smoothing_regime(n_max=3, ratio=(1e-3, 0.9)),
        lambda kw: smoothing.score_matching_loss(kw["t"], kw["kappa"], kw["points"]),
        {"t": BAD_REGIME_T, "kappa": BAD_POS_SCALAR, "points": BAD_LINE_POINTS},
        examples=FEW,
    ),
    "normal_collapse": Case(
        ("normal_collapse",),
        merged(
            fixed(t=logu(1e-8, 1e4)),
            lambda kw: fixed(
                s=scalar_or_array(st.floats(0.0, 1.0)).map(lambda u: np.multiply(u, kw["t"]))
            ),
        ),
        lambda kw: smoothing.normal_collapse(kw["s"], kw["t"]),
        {"s": [*BAD_FINITE, -1.0, Rel(lambda kw: 2.0 * kw["t"], "s > t")], "t": BAD_POS_SCALAR},
    ),
    "flow_map": Case(
        ("flow_map",),
        merged(merged(smoothing_regime(), _with_x), _with_s),
        lambda kw: smoothing.flow_map(kw["x"], kw["t"], kw["s"], kw["kappa"], kw["points"]),
        {
            "x": BAD_X,
            "t": BAD_REGIME_T,
            "s": [*BAD_FINITE, -1.0, np.array([0.0, 0.0]), Rel(lambda kw: 2.0 * kw["t"], "s > t")],
            "kappa": BAD_POS_SCALAR,
            "points": BAD_LINE_POINTS,
        },
    ),
    "endpoint_law": Case(
        ("endpoint_law",),
        smoothing_regime().flatmap(
            lambda kw: fixed(
                kappa=st.just(kw["kappa"]),
                t0=st.just(kw["t"]),
                points=st.just(kw["points"]),
                xi=scalar_or_array(st.floats(-10.0, 20.0)),
            )
        ),
        _endpoint_law,
        {
            "kappa": BAD_POS_SCALAR,
            "t0": bad_regime("t0"),
            "points": BAD_LINE_POINTS,
            "xi": BAD_FINITE,
        },
    ),
    # spectra
    "linear_gaussian_singular_values": Case(
        ("linear_gaussian_singular_values",),
        st.integers(1, 3).flatmap(
            lambda k: fixed(
                variances=variances(k),
                d=st.integers(k, 6),
                sigma=scalar_or_array(logu(1e-4, 1e4)),
            )
        ),
        lambda kw: spectra.linear_gaussian_singular_values(kw["variances"], kw["d"], kw["sigma"]),
        {
            "variances": BAD_VARIANCES,
            "d": [*bad_int(1), Rel(lambda kw: len(kw["variances"]) - 1, "d < k")],
            "sigma": BAD_POSITIVE,
        },
    ),
    "local_dimension": Case(
        ("local_dimension",),
        st.integers(1, 4).flatmap(
            lambda k: fixed(
                variances=variances(k),
                sigma=scalar_or_array(logu(1e-4, 1e4)),
                c=UNIT,
            )
        ),
        lambda kw: spectra.local_dimension(kw["variances"], kw["sigma"], kw["c"]),
        {"variances": BAD_VARIANCES, "sigma": BAD_POSITIVE, "c": BAD_PROB},
    ),
    "staircase_steps": Case(
        ("staircase_steps",),
        st.integers(1, 4).flatmap(lambda k: fixed(variances=variances(k), c=UNIT)),
        lambda kw: spectra.staircase_steps(kw["variances"], kw["c"]),
        {"variances": BAD_VARIANCES, "c": BAD_PROB},
    ),
    "marchenko_pastur": Case(
        ("marchenko_pastur", "MarchenkoPastur"),
        merged(
            fixed(alpha=UNIT, tau=logu(1e-4, 1e4)),
            lambda kw: fixed(
                lam=scalar_or_array(st.floats(-1.0, 5.0).map(lambda v: v * kw["tau"]))
            ),
        ),
        _marchenko_pastur,
        {"alpha": BAD_PROB, "tau": BAD_POS_SCALAR, "lam": BAD_FINITE},
    ),
    "silverstein_edges": Case(
        ("silverstein_edges",),
        levels(),
        lambda kw: spectra.silverstein_edges(kw["alphas"], kw["taus"]),
        BAD_LEVELS,
    ),
    "silverstein_density": Case(
        ("silverstein_density",),
        merged(
            levels(),
            lambda kw: fixed(
                lam=scalar_or_array(st.floats(-1.0, 5.0).map(lambda v: v * kw["taus"].max()))
            ),
        ),
        lambda kw: spectra.silverstein_density(kw["lam"], kw["alphas"], kw["taus"]),
        {**BAD_LEVELS, "lam": BAD_FINITE},
    ),
    "silverstein_quantiles": Case(
        ("silverstein_quantiles",),
        merged(
            levels(),
            lambda kw: fixed(p=scalar_or_array(st.floats(0.0, 1.0)), n_grid=st.integers(16, 600)),
        ),
        lambda kw: spectra.silverstein_quantiles(kw["p"], kw["alphas"], kw["taus"], kw["n_grid"]),
        {**BAD_LEVELS, "p": [*BAD_FINITE, -0.1, 1.1], "n_grid": bad_int(16)},
    ),
    "jacobian_spectral_density": Case(
        ("jacobian_spectral_density",),
        merged(
            levels(),
            lambda kw: fixed(
                mu=scalar_or_array(st.floats(-0.5, 1.5)),
                t=st.one_of(logu(1e-6, 1e6), vectors(logu(1e-6, 1e6), 1)),
            ),
        ),
        lambda kw: spectra.jacobian_spectral_density(kw["mu"], kw["t"], kw["alphas"], kw["taus"]),
        {**BAD_LEVELS, "mu": BAD_FINITE, "t": BAD_POSITIVE},
    ),
    "manifold_gap": Case(
        ("manifold_gap",),
        fixed(t=vectors(POS, 3), gamma_minus=st.one_of(POS, vectors(POS, 3))),
        lambda kw: spectra.manifold_gap(kw["t"], kw["gamma_minus"]),
        {"t": BAD_POSITIVE, "gamma_minus": [*BAD_POSITIVE, np.ones(5)]},
    ),
    "intermediate_gap": Case(
        ("intermediate_gap",),
        fixed(t=scalar_or_array(POS), ab=edge_pair()),
        lambda kw: spectra.intermediate_gap(kw["t"], *kw["ab"]),
        {"t": BAD_POSITIVE},  # a and b travel as one pair: see test_gap_edges_invalid
    ),
    "gap_peak": Case(
        ("gap_peak",), fixed(ab=edge_pair()), lambda kw: spectra.gap_peak(*kw["ab"]), {}
    ),
    "gap_window": Case(
        ("gap_window",),
        fixed(ab=edge_pair(), delta=UNIT),
        lambda kw: spectra.gap_window(*kw["ab"], kw["delta"]),
        {"delta": BAD_PROB},
    ),
    "phase_boundaries": Case(
        ("phase_boundaries", "phase"),
        merged(
            fixed(gamma_minus=POS, delta=UNIT, t=scalar_or_array(POS)),
            lambda kw: fixed(gamma_plus=st.floats(1.0, 1e4).map(lambda r: r * kw["gamma_minus"])),
        ),
        lambda kw: (
            spectra.phase_boundaries(kw["gamma_minus"], kw["gamma_plus"], kw["delta"]),
            spectra.phase(kw["t"], kw["gamma_minus"], kw["gamma_plus"], kw["delta"]),
        ),
        {
            "gamma_minus": BAD_POS_SCALAR,
            "gamma_plus": [
                *BAD_POS_SCALAR,
                Rel(lambda kw: 0.5 * kw["gamma_minus"], "below gamma_minus"),
            ],
            "delta": BAD_PROB,
            "t": BAD_POSITIVE,
        },
    ),
    "vesde": Case(
        ("vesde_tau", "vesde_t"),
        merged(
            fixed(
                sigma_min=logu(1e-4, 1.0),
                t=scalar_or_array(POS),
                tau=scalar_or_array(st.floats(-2.0, 3.0)),
            ),
            lambda kw: fixed(sigma_max=logu(1.001, 1e4).map(lambda r: r * kw["sigma_min"])),
        ),
        lambda kw: (
            spectra.vesde_tau(kw["t"], kw["sigma_min"], kw["sigma_max"]),
            spectra.vesde_t(kw["tau"], kw["sigma_min"], kw["sigma_max"]),
        ),
        {
            "sigma_min": [*BAD_POS_SCALAR, Rel(lambda kw: kw["sigma_max"], "= sigma_max")],
            "sigma_max": [*BAD_POS_SCALAR, Rel(lambda kw: 0.5 * kw["sigma_min"], "< sigma_min")],
            "t": BAD_POSITIVE,
            "tau": [*BAD_FINITE, 1e6],
        },
    ),
    # symbolic
    "gaussian_score_jacobian": Case(
        ("gaussian_score_jacobian",),
        st.integers(1, 3).flatmap(lambda d: fixed(d=st.just(d), k=st.integers(1, d))),
        lambda kw: symbolic.gaussian_score_jacobian(kw["d"], kw["k"]),
        {"d": bad_int(1), "k": [*bad_int(1), Rel(lambda kw: kw["d"] + 1, "k > d")]},
        examples=FEW,
    ),
    # scaling
    "drift_energy": Case(
        ("drift_energy", "drift_energy_integral", "drift_energy_remainder"),
        merged(subspace_args(), _drift_energy_args),
        lambda kw: (
            scaling.drift_energy(kw["t"], kw["d"], kw["variances"], kw["alpha"]),
            scaling.drift_energy_integral(
                kw["eps"], kw["T"], kw["d"], kw["variances"], kw["alpha"]
            ),
            scaling.drift_energy_remainder(kw["T"], kw["d"], kw["variances"], kw["alpha"]),
        ),
        {
            **BAD_SUBSPACE,
            "alpha": BAD_ALPHA,
            "t": BAD_POSITIVE,
            **bad_interval(BAD_POSITIVE),
        },
    ),
    "drift_energy_rate": Case(
        ("drift_energy_rate",),
        st.integers(1, 8).flatmap(lambda d: fixed(d=st.just(d), k=st.integers(0, d))),
        lambda kw: scaling.drift_energy_rate(kw["d"], kw["k"]),
        {"d": bad_int(1), "k": [*bad_int(0), Rel(lambda kw: kw["d"] + 1, "k > d")]},
    ),
    "girsanov_kl_bound": Case(
        ("girsanov_kl_bound",),
        merged(
            fixed(
                c=st.floats(-3.0, 3.0),
                gamma=st.floats(-1.0, 2.0),
                eps=logu(1e-6, 1.0),
                kl_prior=st.floats(0.0, 10.0),
            ),
            lambda kw: fixed(T=logu(1.001, 1e3).map(lambda r: r * kw["eps"])),
        ).map(lambda kw: {**kw, "error_energy": _power_energy(kw)}),
        lambda kw: scaling.girsanov_kl_bound(
            kw["error_energy"], kw["eps"], kw["T"], kw["kl_prior"]
        ),
        {
            "error_energy": [None, 1.0, lambda t: -1.0, lambda t: NAN, lambda t: [1.0, 1.0]],
            **bad_interval(BAD_POS_SCALAR),
            "kl_prior": [-1.0, *BAD_FINITE, np.array([1.0, 2.0])],
        },
        examples=FEW,
    ),
    "power_law_error_energy_integral": Case(
        ("power_law_error_energy_integral",),
        merged(
            fixed(
                c=scalar_or_array(st.floats(-10.0, 10.0)),
                gamma=st.floats(-2.0, 3.0),
                eps=logu(1e-6, 1e3),
            ),
            _power_law_args,
        ),
        lambda kw: scaling.power_law_error_energy_integral(
            kw["c"], kw["gamma"], kw["eps"], kw["T"]
        ),
        {
            "c": BAD_FINITE,
            "gamma": BAD_FINITE,
            **bad_interval(BAD_POSITIVE),
        },
    ),
    "power_law_error_energy_limit": Case(
        ("power_law_error_energy_limit",),
        # gamma < 1: the finite limits (gamma >= 1 gives +inf by design, see test_scaling.py)
        fixed(c=st.floats(-10.0, 10.0), gamma=st.floats(-2.0, 0.999), T=logu(1e-3, 1e3)),
        lambda kw: scaling.power_law_error_energy_limit(kw["c"], kw["gamma"], kw["T"]),
        {"c": BAD_FINITE, "gamma": BAD_FINITE, "T": BAD_POSITIVE},
    ),
    "gaussian_kl": Case(
        ("gaussian_kl",),
        gaussian_pair_args(),
        lambda kw: scaling.gaussian_kl(kw["mean0"], kw["cov0"], kw["mean1"], kw["cov1"]),
        {
            "mean0": _bad_mean("mean0"),
            "mean1": _bad_mean("mean1"),
            "cov0": _bad_cov("cov0", "negative definite"),
            "cov1": _bad_cov("cov1", "negative definite"),
        },
    ),
    "ou_prior_kl": Case(
        ("ou_prior_kl",),
        merged(
            subspace_args(alpha=st.floats(1e-3, 5.0)),
            lambda kw: fixed(T=scalar_or_array(logu(1e-6, 1e3))),
        ),
        lambda kw: scaling.ou_prior_kl(kw["T"], kw["d"], kw["variances"], kw["alpha"]),
        {**BAD_SUBSPACE, "alpha": [0.0, *BAD_ALPHA], "T": BAD_POSITIVE},
    ),
    "best_gaussian_prior_ve": Case(
        ("best_gaussian_prior_ve",),
        data_moments_args(),
        lambda kw: scaling.best_gaussian_prior_ve(kw["mean"], kw["cov"], kw["T"]),
        {
            "mean": _bad_mean("mean"),
            "cov": _bad_cov("cov", "negative definite"),
            "T": BAD_POS_SCALAR,
        },
    ),
    "empirical_error_limit": Case(
        ("empirical_error_limit",),
        fixed(k=st.integers(1, 100)),
        lambda kw: scaling.empirical_error_limit(kw["k"]),
        {"k": bad_int(1)},
    ),
    "ts_thickness": Case(
        ("ts_thickness", "normal_stiffness"),
        fixed(sigma=scalar_or_array(POS), alpha=TS_ALPHA),
        lambda kw: (
            scaling.ts_thickness(kw["sigma"], kw["alpha"]),
            scaling.normal_stiffness(kw["sigma"]),
        ),
        {"sigma": BAD_POSITIVE, "alpha": BAD_TS_ALPHA},
    ),
    "ts_circle_tv": Case(
        ("ts_circle_tv", "von_mises_tv_to_uniform"),
        fixed(
            sigma=scalar_or_array(logu(1e-6, 1e3)),
            alpha=TS_ALPHA,
            kappa=st.floats(0.0, 100.0),
        ),
        lambda kw: (
            scaling.ts_circle_tv(kw["sigma"], kw["alpha"], kw["kappa"]),
            scaling.von_mises_tv_to_uniform(kw["kappa"]),
        ),
        {"sigma": BAD_POSITIVE, "alpha": BAD_TS_ALPHA, "kappa": [*BAD_KAPPA, [1.0, -2.0]]},
        examples=FEW,
    ),
    "ts_uniform_tv_exponent": Case(
        ("ts_uniform_tv_exponent",),
        merged(
            fixed(alpha=TS_ALPHA),
            lambda kw: fixed(gamma=st.floats(-5.0, 1.0).map(lambda u: u * kw["alpha"])),
        ),
        lambda kw: scaling.ts_uniform_tv_exponent(kw["alpha"], kw["gamma"]),
        {
            "alpha": BAD_TS_ALPHA,
            "gamma": [Rel(lambda kw: kw["alpha"] + 0.1, "> alpha"), *bad_gamma(None, 2.0)],
        },
    ),
    "normal_offset": Case(
        ("normal_offset",),
        fixed(
            sigma=scalar_or_array(logu(1e-6, 1e3)),
            gamma=st.floats(-3.0, 2.0),
            c=st.floats(-10.0, 10.0),
        ),
        lambda kw: scaling.normal_offset(kw["sigma"], kw["gamma"], kw["c"]),
        {"sigma": BAD_POSITIVE, "gamma": bad_gamma(None, 2.0), "c": BAD_FINITE},
    ),
    "reverse_sde_terminal_offset": Case(
        ("reverse_sde_terminal_offset",),
        fixed(
            sigma_min=scalar_or_array(logu(1e-6, 1e3)),
            gamma=st.floats(1e-3, 2.0),
            c=st.floats(-10.0, 10.0),
        ),
        lambda kw: scaling.reverse_sde_terminal_offset(kw["sigma_min"], kw["gamma"], kw["c"]),
        {"sigma_min": BAD_POSITIVE, "gamma": bad_gamma(0.0, 2.0), "c": BAD_FINITE},
    ),
    "pf_ode_terminal_offset": Case(
        ("pf_ode_terminal_offset",),
        fixed(
            sigma_min=scalar_or_array(logu(1e-6, 1e3)),
            gamma=st.floats(1.001, 2.0),
            c=st.floats(-10.0, 10.0),
        ),
        lambda kw: scaling.pf_ode_terminal_offset(kw["sigma_min"], kw["gamma"], kw["c"]),
        {"sigma_min": BAD_POSITIVE, "gamma": bad_gamma(1.0, 2.0), "c": BAD_FINITE},
    ),
    "noised_circle": Case(
        ("noised_circle_log_density", "noised_circle_score"),
        noised_circle_args(),
        _noised_circle,
        {**BAD_CIRCLE, "x": BAD_X, "sigma": [*BAD_SIGMA, BAD_VP_SIGMA]},
    ),
    "circle_score_decomposition": Case(
        ("circle_score_decomposition",),
        noised_circle_args(theta=True),
        lambda kw: scaling.circle_score_decomposition(
            kw["theta"],
            kw["sigma"],
            kw["kappa"],
            kw["radius"],
            kw["convention"],
            kw["mean_angle"],
        ),
        {**BAD_CIRCLE, "theta": BAD_FINITE, "sigma": [*BAD_POSITIVE, BAD_VP_SIGMA]},
    ),
    "sphere_mean_curvature_term": Case(
        ("sphere_mean_curvature_term",),
        fixed(n=st.integers(1, 50), radius=POS),
        lambda kw: scaling.sphere_mean_curvature_term(kw["n"], kw["radius"]),
        {"n": bad_int(1), "radius": BAD_POS_SCALAR},
    ),
    "normal_spread": Case(
        ("normal_spread",),
        fixed(t_min=scalar_or_array(logu(1e-12, 1e3)), alpha=ALPHA),
        lambda kw: scaling.normal_spread(kw["t_min"], kw["alpha"]),
        {"t_min": BAD_POSITIVE, "alpha": BAD_ALPHA},
    ),
    "ellipse_foot_point": Case(
        ("ellipse_foot_point",),
        ellipse_args(),
        lambda kw: rate_ellipse.ellipse_foot_point(kw["x"], kw["a"], kw["b"]),
        {"x": BAD_X, "a": BAD_POS_SCALAR, "b": BAD_POS_SCALAR},
    ),
    "noised_ellipse_log_density": Case(
        ("noised_ellipse_log_density",),
        merged(
            ellipse_args(),
            lambda kw: fixed(
                sigma=logu(1e-3, 0.3),
                kappa=st.floats(0.0, 20.0),
                mean_angle=st.floats(-10.0, 10.0),
                n_nodes=st.sampled_from([51, 201]),
            ),
        ),
        lambda kw: rate_ellipse.noised_ellipse_log_density(
            kw["x"],
            kw["sigma"],
            kw["a"],
            kw["b"],
            kw["kappa"],
            kw["mean_angle"],
            n_nodes=kw["n_nodes"],
        ),
        {
            "x": BAD_X,
            "sigma": BAD_POS_SCALAR,
            "a": BAD_POS_SCALAR,
            "kappa": BAD_KAPPA_SCALAR,
            "mean_angle": [*BAD_FINITE, np.array([1.0, 2.0])],
            "n_nodes": [*bad_int(51), 52],
        },
        examples=FEW,
    ),
    "ts_ellipse_tv_coefficient": Case(
        ("ts_ellipse_tv_coefficient",),
        fixed(
            a=logu(0.1, 10.0),
            b=logu(0.1, 10.0),
            kappa=st.floats(0.0, 20.0),
            mean_angle=st.floats(-10.0, 10.0),
            n=st.integers(1_000, 5_000),
        ),
        lambda kw: rate_ellipse.ts_ellipse_tv_coefficient(
            kw["a"], kw["b"], kw["kappa"], kw["mean_angle"], n=kw["n"]
        ),
        {
            "a": BAD_POS_SCALAR,
            "b": BAD_POS_SCALAR,
            "kappa": BAD_KAPPA_SCALAR,
            "mean_angle": [*BAD_FINITE, np.array([1.0, 2.0])],
            "n": bad_int(1_000),
        },
    ),
    "circle_ness": Case(
        ("circle_ness",),
        fixed(drift=periodic_functions(), n=st.integers(16, 400), diffusion=logu(1e-2, 1e2)),
        lambda kw: rate_ness.circle_ness(kw["drift"], kw["n"], kw["diffusion"]),
        {"drift": BAD_PERIODIC, "n": bad_int(16), "diffusion": BAD_POS_SCALAR},
    ),
    "circle_generator_gap": Case(
        ("circle_generator_gap",),
        fixed(potential=periodic_functions(), n=st.integers(16, 200)),
        lambda kw: rate_ness.circle_generator_gap(kw["potential"], kw["n"]),
        {"potential": BAD_PERIODIC, "n": bad_int(16)},
        examples=FEW,
    ),
    "ts_relaxation_rate": Case(
        ("ts_relaxation_rate",),
        fixed(sigma=scalar_or_array(POS), alpha=st.floats(0.0, 1.999), radius=logu(1e-2, 1e2)),
        lambda kw: rate_relaxation.ts_relaxation_rate(kw["sigma"], kw["alpha"], kw["radius"]),
        {
            "sigma": BAD_POSITIVE,
            "alpha": [2.0, -0.1, NAN, INF, np.array([1.0, 1.5]), *NOT_REAL],
            "radius": BAD_POS_SCALAR,
        },
    ),
    "reverse_mean_offset": Case(
        ("reverse_mean_offset",),
        merged(
            fixed(
                s_min=logu(1e-6, 1.0),
                gamma=st.floats(-1.0, 3.0),
                c=st.floats(-10.0, 10.0),
                variance=st.floats(0.0, 10.0),
                flow=st.sampled_from(["sde", "ode"]),
            ),
            lambda kw: fixed(
                T=logu(2.0, 1e4).map(lambda f: f * kw["s_min"]),
                s_cut=st.one_of(st.none(), logu(1.01, 100.0).map(lambda f: f * kw["s_min"])),
            ),
        ),
        lambda kw: rate_reverse.reverse_mean_offset(
            kw["s_min"],
            kw["T"],
            kw["gamma"],
            kw["c"],
            variance=kw["variance"],
            flow=kw["flow"],
            s_cut=kw["s_cut"],
        ),
        {
            "s_min": [*BAD_POS_SCALAR, Rel(lambda kw: 2.0 * kw["T"], "> T")],
            "T": [INF, NAN, 0.0, -1.0, *NOT_REAL],
            "gamma": [*BAD_FINITE, np.array([0.5, 1.0])],
            "c": [*BAD_FINITE, np.array([0.5, 1.0])],
            "variance": [-1.0, NAN, INF, *NOT_REAL],
            "flow": ["SDE", None, 1.0],
            "s_cut": [Rel(lambda kw: kw["s_min"], "= s_min"), -1.0, NAN, *NOT_REAL],
        },
        examples=FEW,
    ),
    "sphere_radial_score": Case(
        ("sphere_radial_score",),
        fixed(
            r=scalar_or_array(logu(1e-3, 1e3)),
            sigma=logu(1e-3, 1e3),
            d=st.integers(2, 50),
            radius=logu(1e-2, 1e2),
        ),
        lambda kw: rate_spheres.sphere_radial_score(kw["r"], kw["sigma"], kw["d"], kw["radius"]),
        {
            "r": BAD_POSITIVE,
            "sigma": BAD_POSITIVE,
            "d": bad_int(2),
            "radius": BAD_POS_SCALAR,
        },
    ),
    "circle_tangential_energy": Case(
        ("circle_tangential_energy",),
        fixed(kappa=st.floats(0.0, 100.0), radius=logu(1e-2, 1e2)),
        lambda kw: rate_spheres.circle_tangential_energy(kw["kappa"], kw["radius"]),
        {"kappa": BAD_KAPPA_SCALAR, "radius": BAD_POS_SCALAR},
    ),
    "circle_log_density_expansion": Case(
        ("circle_log_density_expansion",),
        merged(
            fixed(x=batch(2, elements=st.floats(0.5, 100.0))),
            lambda kw: fixed(
                sigma=_sigma_for(kw["x"]),
                kappa=st.floats(0.0, 50.0),
                radius=logu(1e-2, 1e2),
                mean_angle=st.floats(-10.0, 10.0),
            ),
        ),
        lambda kw: rate_spheres.circle_log_density_expansion(
            kw["x"], kw["sigma"], kw["kappa"], kw["radius"], kw["mean_angle"]
        ),
        {
            "x": BAD_X,
            "sigma": BAD_SIGMA,
            "kappa": BAD_KAPPA_SCALAR,
            "radius": BAD_POS_SCALAR,
            "mean_angle": [*BAD_FINITE, np.array([1.0, 2.0])],
        },
    ),
}

# Public names that are not called with generated arguments, and why.
NOT_GENERATED = {
    # constants and result types, built and checked through the functions that return them
    "EIGENVALUE_CUTOFF": "a constant",
    "DEFAULT_NODES": "a constant (the default of GraphSurface.fields)",
    "WINDOW_SIGMAS": "a constant (the quadrature window of GraphSurface.fields)",
    "Atoms": "result of endpoint_law",
    "EndpointLaw": "result of endpoint_law (its methods run in the endpoint_law case)",
    "GaussianJacobian": "result type",
    "StaircaseThreshold": "result type",
    "MixtureFields1D": "result type",
    "IntermediateGapExtremum": "result type",
    "MarchenkoPasturEdges": "result type",
    "TwoPointScore": "result type",
    "SmoothedScoreGap": "result type",
    "AsymptoticLoss": "result type",
    "LossRampResidual": "result type",
    "FlowInvariants": "result type",
    "CircleScoreTerms": "result of circle_score_decomposition",
    # sympy derivations without arguments: nothing to generate (test_symbolic*.py run them)
    "staircase_threshold": "no arguments",
    "mixture_score_jacobian_1d": "no arguments",
    "intermediate_gap_extremum": "no arguments",
    "marchenko_pastur_edges": "no arguments",
    "two_point_empirical_score": "no arguments",
    "smoothed_score_gap": "no arguments",
    "asymptotic_loss_integral": "no arguments",
    "loss_ramp_residual": "no arguments",
    "flow_invariants": "no arguments",
}


# --------------------------------------------------------------------------------------------
# Checks


def _assert_finite(out, where: str = "output") -> None:
    if out is None or isinstance(out, str | bool):
        return
    if isinstance(out, sympy.Basic | sympy.MatrixBase):
        assert not out.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo), where
    elif isinstance(out, tuple | list):
        for i, item in enumerate(out):
            _assert_finite(item, f"{where}[{i}]")
    elif dataclasses.is_dataclass(out):
        for f in dataclasses.fields(out):
            _assert_finite(getattr(out, f.name), f"{where}.{f.name}")
    elif isinstance(out, np.ndarray) and out.dtype.kind in "US":
        return
    else:
        arr = np.asarray(out, dtype=np.float64)
        assert np.all(np.isfinite(arr)), f"{where} is not finite: {arr}"


def _names(message: str, arg: str) -> bool:
    """Whether the message names ``arg`` (the article "a" does not count as the argument a)."""
    text = re.sub(r"\b(be|is|with|of|to) an? ", r"\1 ", message)
    return re.search(rf"(?<![\w.]){re.escape(arg)}(?!\w)", text) is not None


def _run(case: Case, kw: dict):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return case.call(kw)


def _settings(case: Case, cap: int | None = None):
    n = case.examples or PROFILE.max_examples
    return settings(PROFILE, max_examples=min(n, cap or n))


@pytest.mark.parametrize("name", sorted(CASES))
def test_valid_input_gives_finite_output(name):
    case = CASES[name]

    @_settings(case)
    @given(kw=case.valid)
    def check(kw):
        _assert_finite(_run(case, kw))

    check()


INVALID = [(name, arg) for name, case in sorted(CASES.items()) for arg in case.bad]


@pytest.mark.parametrize(("name", "arg"), INVALID, ids=[f"{n}-{a}" for n, a in INVALID])
def test_invalid_input_raises_value_error(name, arg):
    case = CASES[name]

    @_settings(case, cap=INVALID_EXAMPLES)
    @given(kw=case.valid, bad=st.sampled_from(case.bad[arg]))
    def check(kw, bad):
        kw = {**kw, arg: bad.make(kw) if isinstance(bad, Rel) else bad}
        with pytest.raises(ValueError) as err:
            _run(case, kw)
        assert _names(str(err.value), arg), f"message does not name {arg}: {err.value}"

    check()


GAP_EDGES = {
    "intermediate_gap": lambda a, b: spectra.intermediate_gap(1.0, a, b),
    "gap_peak": spectra.gap_peak,
    "gap_window": lambda a, b: spectra.gap_window(a, b, 0.1),
}


@pytest.mark.parametrize("name", sorted(GAP_EDGES))
@pytest.mark.parametrize(
    ("a", "b", "arg"),
    [
        (2.0, 2.0, "a"),  # a must be < b
        (3.0, 1.0, "a"),
        (0.0, 1.0, "a"),
        (-1.0, 1.0, "a"),
        (NAN, 1.0, "a"),
        (np.array([0.1, 0.2]), 1.0, "a"),
        ("0.1", 1.0, "a"),
        (0.1, INF, "b"),
        (0.1, 0.0, "b"),
        (0.1, np.array([1.0]), "b"),
    ],
)
def test_gap_edges_invalid(name, a, b, arg):
    with pytest.raises(ValueError) as err:
        GAP_EDGES[name](a, b)
    assert _names(str(err.value), arg), err.value


def _public_names() -> dict[str, str]:
    names = {}
    for info in pkgutil.iter_modules(theory.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"theory.{info.name}")
        for name in module.__all__:
            names[name] = info.name
    return names


def test_every_public_callable_has_a_case():
    public = _public_names()
    covered = {n for case in CASES.values() for n in case.covers}
    assert covered <= set(public), covered - set(public)
    assert set(NOT_GENERATED) <= set(public), set(NOT_GENERATED) - set(public)
    missing = {n for n in public if n not in covered and n not in NOT_GENERATED}
    assert not missing, f"public names without a property case: {sorted(missing)}"
