r"""Langevin and tempered-score (TS) Langevin at a fixed noise level σ, compiled, in float64.

The rate-separation paper (research note paper003 §1.3, C3) studies the *stationary* law of

.. math:: dX = \sigma^\alpha\, s(X, \sigma)\,dt + \sqrt2\,dW \qquad (\text{TS, eq. (8)}),

α = 0 being plain Langevin (the corrector of predictor–corrector), and runs it in the
time-rescaled form of its App. C.1,

.. math:: dX = \hat s(X, \sigma)\,d\tau + \sqrt{2\sigma^{2-\alpha}}\,dW, \qquad
          \hat s = \sigma^2 s, \qquad dt = \sigma^{2-\alpha}\,d\tau,

which has the same invariant law. :func:`langevin` integrates either form by Euler–Maruyama as
a ``jax.lax.scan`` over the steps, the score vmapped over the chains, in float64 (JAX's x64 mode
switched on only around the call, as in :mod:`empirical.autodiff`). The noise comes from a NumPy
generator in step order, so a seed fixes the numbers; Euler–Maruyama with step h of the form
:math:`X \leftarrow X + h\,c\,s(X, \sigma) + \sqrt{2hD}\,\xi` has, for a Gaussian target, a
stationary law biased at O(h) (for :math:`s = -x/v`: variance :math:`vD/(c(1 - ch/(2v)))`).

Mixing is slow for plain Langevin on a thin cloud (paper003 §7.5: about 10⁵ steps at σ = 0.01,
h = 0.1), so the module also gives the diagnostics the note asks for: :func:`stationarity_gap`
compares a statistic between chains started from two initial laws, and
:func:`integrated_autocorr_time` estimates the integrated autocorrelation time (Sokal's automatic
window) that turns a time series into an effective sample size.

References
----------
Sokal, *Monte Carlo methods in statistical mechanics: foundations and new algorithms*, lecture
notes, Cargèse 1996, §3 (integrated autocorrelation time, automatic windowing with c ≈ 5).
Goodman, Weare, *Ensemble samplers with affine invariance*, CAMCoS 2010, and the emcee
implementation (autocorrelation averaged over chains before windowing).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from empirical.sampling import _check_rng, _check_x_init
from theory._validation import check_finite, check_integer, check_scalar
from theory.schedules import _check_alpha

__all__ = [
    "StationarityGap",
    "effective_sample_size",
    "integrated_autocorr_time",
    "langevin",
    "stationarity_gap",
]

#: A JAX-traceable score for ONE point: ``score(x, sigma)``, x of shape (d,), σ a float64 scalar.
PointScore = Callable[[jax.Array, jax.Array], jax.Array]

#: The noise is drawn in blocks of steps whose float64 size stays below this many bytes.
_NOISE_BLOCK_BYTES = 200_000_000

_FORMS = ("tempered", "rescaled")


# --------------------------------------------------------------------------------------------
# The compiled chain


def _step(score, y, xi, consts):
    """One Euler–Maruyama step y ← y + c·s(y, σ) + b·ξ for every chain (c = h·drift factor)."""
    sigma, c, b = consts
    return y + c * jax.vmap(score, in_axes=(0, None))(y, sigma) + b * xi


@functools.partial(jax.jit, static_argnames=("score", "keep"))
def _scan(score, y, noise, consts, *, keep):
    """Run the steps of ``noise``: (K, n, d) flat, or (K, L, n, d) keeping the state every L steps."""

    def flat(y, xi):
        return _step(score, y, xi, consts), None

    def thinned(y, xis):
        y, _ = jax.lax.scan(flat, y, xis)
        return y, y

    y, kept = jax.lax.scan(thinned if keep else flat, y, noise)
    return y, kept


def _coefficients(sigma: float, alpha: float, step: float, form: str) -> tuple[float, float]:
    """Drift factor c and noise factor b of one step: y ← y + c·s(y, σ) + b·ξ."""
    if form == "tempered":
        return step * sigma**alpha, np.sqrt(2.0 * step)
    return step * sigma**2, np.sqrt(2.0 * step * sigma ** (2.0 - alpha))


def _check_score(score, d: int) -> None:
    if not callable(score):
        raise TypeError(f"score must be callable (got {type(score).__name__})")
    point, scalar = (jax.ShapeDtypeStruct(s, jnp.float64) for s in ((d,), ()))
    try:
        with jax.enable_x64(True):
            out = jax.eval_shape(score, point, scalar)
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"score must accept one point of shape ({d},) and a scalar σ: {err}"
        ) from err
    if getattr(out, "shape", None) != (d,):
        raise ValueError(
            f"score must map one point of shape ({d},) to shape ({d},) "
            f"(got {getattr(out, 'shape', type(out).__name__)})"
        )


def _block_steps(n_steps: int, bytes_per_step: int, thin: int | None) -> int:
    """Steps per noise block: within the byte budget, at least 1, a multiple of ``thin``."""
    steps = max(1, _NOISE_BLOCK_BYTES // bytes_per_step)
    if thin is not None:
        steps = max(thin, steps // thin * thin)
    return min(steps, n_steps)


def langevin(
    score: PointScore,
    x_init,
    sigma,
    step,
    n_steps,
    rng: np.random.Generator,
    *,
    alpha=0.0,
    form: str = "tempered",
    thin: int | None = None,
):
    r"""Euler–Maruyama for (tempered-score) Langevin at a fixed σ, as a compiled scan in float64.

    Parameters
    ----------
    score : callable
        ``score(x, sigma)`` for ONE point ``x`` of shape (d,) and a float64 scalar ``sigma``,
        returning shape (d,); JAX-traceable (it is vmapped over the chains and compiled). The
        raw score :math:`s \approx \nabla\log p_\sigma`, not ŝ = σ²s, in both forms. The
        compiled program is cached per function object: pass the same object to reuse it.
    x_init : (n, d) array
        Starting points of the n chains.
    sigma : float
        The fixed noise level σ > 0.
    step : float
        Euler–Maruyama step h > 0, in t (``form="tempered"``) or τ (``form="rescaled"``).
    n_steps : int
        Number of steps, ≥ 1.
    rng : numpy.random.Generator
        Source of the noise: ``n_steps`` draws of shape (n, d), in step order.
    alpha : float
        Tempering exponent α ≥ 0 (α = 0: plain Langevin).
    form : {"tempered", "rescaled"}
        ``"tempered"``: :math:`X \leftarrow X + h\sigma^\alpha s + \sqrt{2h}\,\xi`;
        ``"rescaled"``: :math:`X \leftarrow X + h\sigma^2 s + \sqrt{2h\sigma^{2-\alpha}}\,\xi`
        (paper App. C.1). A rescaled step h is a tempered step :math:`h\sigma^{2-\alpha}`.
    thin : int, optional
        If given, also return the states after every ``thin`` steps.

    Returns
    -------
    (n, d) float64 array of the states after ``n_steps`` steps; with ``thin``, the pair
    ``(states, kept)`` with ``kept`` of shape (n_steps // thin, n, d): entry k holds the states
    after (k + 1)·thin steps.

    Raises
    ------
    ValueError
        On σ ≤ 0, h ≤ 0, n_steps < 1, α < 0, an unknown form, thin < 1, bad starting points, a
        score whose output is not shaped like its input, or a non-finite end state.
    TypeError
        If ``rng`` is not a ``numpy.random.Generator`` or ``score`` is not callable.

    Notes
    -----
    The noise is drawn up front in blocks of whole steps of at most 200 MB each (at least
    ``thin`` steps when thinning), each block one call of the same compiled scan; the stream is
    that of one ``rng.standard_normal((n_steps, n, d))``, so the result does not depend on the
    block size. Avoid batched LAPACK calls (``solve``, ``slogdet``) inside ``score``: vmapped
    under x64 on the CPU they were seen to hang (see :mod:`empirical.autodiff`).
    """
    _check_rng(rng, required=True)
    sigma = check_scalar("sigma", sigma, positive=True)
    step = check_scalar("step", step, positive=True)
    n_steps = check_integer("n_steps", n_steps, minimum=1)
    alpha = _check_alpha(alpha)
    if form not in _FORMS:
        raise ValueError(f"form must be one of {_FORMS} (got {form!r})")
    if thin is not None:
        thin = check_integer("thin", thin, minimum=1)
    x = _check_x_init(x_init)
    n, d = x.shape
    _check_score(score, d)

    drift, diffusion = _coefficients(sigma, alpha, step, form)
    block = _block_steps(n_steps, n * d * 8, thin)
    kept = []
    with jax.enable_x64(True):
        consts = tuple(jnp.asarray(c, jnp.float64) for c in (sigma, drift, diffusion))
        y = jnp.asarray(x)
        done = 0
        while done < n_steps:
            b = min(block, n_steps - done)
            noise = rng.standard_normal((b, n, d))
            full = b // thin * thin if thin is not None else 0
            if full:
                xis = jnp.asarray(noise[:full].reshape(full // thin, thin, n, d))
                y, states = _scan(score, y, xis, consts, keep=True)
                kept.append(np.asarray(states))
            if full < b:
                y, _ = _scan(score, y, jnp.asarray(noise[full:]), consts, keep=False)
            done += b
        y = np.asarray(y)
    if not np.all(np.isfinite(y)):
        raise ValueError("the chain reached a non-finite state (the score or the step is unstable)")
    if thin is None:
        return y
    kept = np.concatenate(kept) if kept else np.empty((0, n, d))
    return y, kept


# --------------------------------------------------------------------------------------------
# Diagnostics


def _autocorrelation(series: np.ndarray) -> np.ndarray:
    """Normalised autocorrelation ρ(0..T−1) of a (T, m) array, averaged over the m columns (FFT)."""
    t = series.shape[0]
    y = series - series.mean(axis=0)
    size = 1 << (2 * t - 1).bit_length()
    f = np.fft.rfft(y, n=size, axis=0)
    acov = np.fft.irfft(f * np.conj(f), n=size, axis=0)[:t].mean(axis=1)
    if acov[0] <= 0:
        raise ValueError("series must not be constant in time (zero variance)")
    return acov / acov[0]


def integrated_autocorr_time(series, *, c=5.0) -> float:
    r"""Integrated autocorrelation time of a scalar series, with Sokal's automatic window.

    Parameters
    ----------
    series : (T,) or (T, m) array
        A time series, or m chains of one (time along axis 0); T ≥ 2.
    c : float
        Window constant c > 0 (Sokal: about 5 for roughly exponential decay).

    Returns
    -------
    :math:`\hat\tau`, ≥ some small positive number; 1 for an uncorrelated series.

    Notes
    -----
    .. math:: \hat\tau(M) = 1 + 2\sum_{t=1}^{M} \hat\rho(t), \qquad
              M = \min\{M : M \ge c\,\hat\tau(M)\},

    with :math:`\hat\rho` the FFT autocorrelation averaged over the chains before windowing
    (emcee's estimator); M = T − 1 when no window qualifies (then the series is too short for a
    reliable estimate: Sokal asks for T ≳ 1000 τ̂). For AR(1) with coefficient ρ,
    :math:`\tau = (1 + \rho)/(1 - \rho)`.
    """
    arr = check_finite("series", series)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] < 2 or arr.shape[1] < 1:
        raise ValueError(f"series must have shape (T,) or (T, m) with T >= 2 (got {arr.shape})")
    c = check_scalar("c", c, positive=True)
    taus = 2.0 * np.cumsum(_autocorrelation(arr)) - 1.0
    ok = np.arange(taus.size) >= c * taus
    window = int(np.argmax(ok)) if np.any(ok) else taus.size - 1
    return float(taus[window])


def effective_sample_size(series, *, c=5.0) -> float:
    """Effective number of independent draws in a (T,) or (T, m) series: T·m / τ̂."""
    arr = check_finite("series", series)
    return float(arr.size / integrated_autocorr_time(arr, c=c))


class StationarityGap(NamedTuple):
    """A statistic's mean from two initial laws, their standard errors and the z-score of the gap."""

    mean_a: float
    mean_b: float
    se_a: float
    se_b: float
    z: float


def _mean_and_se(name: str, values) -> tuple[float, float]:
    arr = check_finite(name, values)
    if arr.ndim == 1:
        if arr.size < 2:
            raise ValueError(f"{name} must hold at least 2 chains (got {arr.size})")
        return float(arr.mean()), float(arr.std(ddof=1) / np.sqrt(arr.size))
    if arr.ndim != 2 or arr.shape[0] < 2 or arr.shape[1] < 1:
        raise ValueError(f"{name} must have shape (n,) or (T, n) with n, T >= 2 (got {arr.shape})")
    return float(arr.mean()), float(arr.std(ddof=1) / np.sqrt(effective_sample_size(arr)))


def stationarity_gap(stat_a, stat_b) -> StationarityGap:
    r"""Compare a scalar statistic between chains started from two initial laws.

    Parameters
    ----------
    stat_a, stat_b : (n,) or (T, n) arrays
        The statistic (e.g. cos θ) of independent chains started from law a and law b: one value
        per chain at the end, or a (T, n) series of thinned states (time along axis 0).

    Returns
    -------
    :class:`StationarityGap` with the two means, their standard errors and
    :math:`z = (\bar a - \bar b)/\sqrt{se_a^2 + se_b^2}`. If both runs sample the stationary law,
    z is about standard normal; a large |z| (say > 4) says the chains have not forgotten their
    start. A small |z| is necessary, not sufficient: two starts may relax alike.

    Notes
    -----
    For (n,) the chains are independent and :math:`se = s/\sqrt n`. For (T, n) the mean is over
    all entries and :math:`se = s/\sqrt{n_{\rm eff}}`, :math:`n_{\rm eff} = Tn/\hat\tau` with
    :func:`integrated_autocorr_time`.
    """
    mean_a, se_a = _mean_and_se("stat_a", stat_a)
    mean_b, se_b = _mean_and_se("stat_b", stat_b)
    se = np.hypot(se_a, se_b)
    if se == 0:
        raise ValueError("stat_a and stat_b must not both be constant (zero standard error)")
    return StationarityGap(mean_a, mean_b, se_a, se_b, float((mean_a - mean_b) / se))
