r"""Samplers for any score field ``score(x, sigma)``: reverse SDE and probability-flow ODE, VE, VP.

Every sampler takes a VE score callable ``score(x, sigma)`` (``x`` of shape (n, d), float64;
``sigma`` a positive Python float; returns (n, d)), so exact fields from
:mod:`theory.distributions` and trained networks go through the same code. One signature for all
(k-diffusion style)::

    sample_*(score, x_init, grid, rng, *, tweedie=False, return_trajectory=False, progress=False)

where ``grid`` is a strictly decreasing array of noise levels ``sigmas`` (VE) or times ``ts``
(VP), ``x_init`` holds the starting points at ``grid[0]``, and the result is the (n, d) array of
samples at ``grid[-1]`` (or its Tweedie denoising), plus the (len(grid), n, d) trajectory on
request. The probability-flow samplers are deterministic and ignore ``rng``; it is accepted so
that samplers swap freely.

Conventions
-----------
VE: :math:`x_\sigma = x_0 + \sigma\varepsilon`, forward SDE
:math:`dx = \sqrt{d\sigma^2/d\sigma}\,dW` (variance :math:`\sigma^2` added by level σ).

VP/OU: :math:`x_t = a_t x_0 + \sqrt{v_t}\,\varepsilon`, :math:`a_t = e^{-t}`,
:math:`v_t = 1-e^{-2t}`, forward SDE :math:`dx = -x\,dt + \sqrt2\,dW`. The VP samplers still take
the VE score and convert it with :func:`theory.schedules.vp_score_from_ve`.

References
----------
Song, Sohl-Dickstein, Kingma, Kumar, Ermon, Poole, *Score-based generative modeling through
stochastic differential equations*, ICLR 2021 (reverse SDE, probability-flow ODE).
Karras, Aittala, Aila, Laine, *Elucidating the design space of diffusion-based generative models*,
NeurIPS 2022 (Algorithm 1: deterministic Heun sampler).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from tqdm import tqdm

from empirical._fields import evaluate_score
from theory._validation import check_finite, check_positive
from theory.schedules import vp_a, vp_score_from_ve, vp_v

__all__ = [
    "sample_euler_maruyama_ve",
    "sample_euler_maruyama_vp",
    "sample_pf_euler_ve",
    "sample_pf_euler_vp",
    "sample_pf_heun_ve",
    "sample_pf_heun_vp",
    "sample_prior_ve",
    "sample_prior_vp",
]

Score = Callable[[np.ndarray, float], np.ndarray]


# --------------------------------------------------------------------------------------------
# Input checks (kept apart from the updates)


def _check_count(name: str, value) -> int:
    ok = isinstance(value, int | np.integer) and not isinstance(value, bool) and value >= 1
    if not ok:
        raise ValueError(f"{name} must be a positive integer (got {value!r})")
    return int(value)


def _check_rng(rng, *, required: bool) -> None:
    if rng is None and not required:
        return
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator (got {type(rng).__name__})")


def _check_grid(name: str, grid) -> np.ndarray:
    """A 1-D, finite, positive, strictly decreasing float64 grid with at least two points."""
    arr = check_finite(name, grid)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array (got shape {arr.shape})")
    if arr.size < 2:
        raise ValueError(f"{name} must have at least 2 points (got {arr.size})")
    check_positive(name, arr)
    steps = np.diff(arr)
    if np.any(steps >= 0):
        i = int(np.argmax(steps >= 0))
        raise ValueError(
            f"{name} must be strictly decreasing (entry {i + 1} = {arr[i + 1]:.6g} "
            f">= entry {i} = {arr[i]:.6g})"
        )
    return arr


def _check_x_init(x_init) -> np.ndarray:
    """A finite (n, d) float64 copy of the starting points."""
    arr = check_finite("x_init", x_init)
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"x_init must have shape (n, d) with n, d >= 1 (got {arr.shape})")
    return np.array(arr, dtype=np.float64)


def _checked_score(score: Score) -> Score:
    """Wrap ``score`` so that it receives a float σ and must return a finite array shaped like x."""
    if not callable(score):
        raise TypeError(f"score must be callable (got {type(score).__name__})")

    def wrapped(x, sigma):
        return evaluate_score(score, x, float(sigma))

    return wrapped


# --------------------------------------------------------------------------------------------
# The shared loop


def _integrate(step, x, grid, *, return_trajectory, progress, desc):
    """Apply ``x <- step(x, grid[i], grid[i + 1])`` for every consecutive pair of grid points."""
    trajectory = None
    if return_trajectory:
        trajectory = np.empty((grid.size, *x.shape))
        trajectory[0] = x
    for i in tqdm(range(grid.size - 1), desc=desc, disable=not progress):
        x = step(x, float(grid[i]), float(grid[i + 1]))
        if trajectory is not None:
            trajectory[i + 1] = x
    return x, trajectory


def _finish(x, trajectory, return_trajectory):
    return (x, trajectory) if return_trajectory else x


def _run_ve(score, x_init, sigmas, make_step, *, tweedie, return_trajectory, progress, desc):
    sigmas = _check_grid("sigmas", sigmas)
    x = _check_x_init(x_init)
    score = _checked_score(score)
    step = make_step(score)
    x, trajectory = _integrate(
        step, x, sigmas, return_trajectory=return_trajectory, progress=progress, desc=desc
    )
    if tweedie:
        sigma = float(sigmas[-1])
        x = x + sigma**2 * score(x, sigma)
    return _finish(x, trajectory, return_trajectory)


def _run_vp(score, x_init, ts, make_step, *, tweedie, return_trajectory, progress, desc):
    ts = _check_grid("ts", ts)
    x = _check_x_init(x_init)
    score_vp = vp_score_from_ve(_checked_score(score))
    step = make_step(score_vp)
    x, trajectory = _integrate(
        step, x, ts, return_trajectory=return_trajectory, progress=progress, desc=desc
    )
    if tweedie:
        t = float(ts[-1])
        x = (x + vp_v(t) * score_vp(x, t)) / vp_a(t)
    return _finish(x, trajectory, return_trajectory)


# --------------------------------------------------------------------------------------------
# Priors


def sample_prior_ve(n: int, d: int, sigma_max, rng: np.random.Generator) -> np.ndarray:
    r"""Draw ``n`` points from the VE prior :math:`\mathcal N(0, \sigma_{\max}^2 I_d)`.

    Parameters
    ----------
    n, d : int
        Number of points and ambient dimension, both ≥ 1.
    sigma_max : float
        Top noise level :math:`\sigma_{\max} > 0` (VE convention).
    rng : numpy.random.Generator

    Returns
    -------
    (n, d) float64 array.

    Notes
    -----
    The exact VE marginal at :math:`\sigma_{\max}` is
    :math:`p_0 * \mathcal N(0, \sigma_{\max}^2 I)`, with covariance
    :math:`\Sigma_0 + \sigma_{\max}^2 I`. This prior neglects the data covariance :math:`\Sigma_0`
    (and the data mean), an error of relative size :math:`\|\Sigma_0\| / \sigma_{\max}^2`
    (Song et al. 2021, VE SDE prior). To start exactly on the marginal, draw
    :math:`x_0 + \sigma_{\max}\varepsilon` instead.
    """
    n = _check_count("n", n)
    d = _check_count("d", d)
    sigma_max = check_positive("sigma_max", sigma_max)
    if sigma_max.ndim != 0:
        raise ValueError(f"sigma_max must be a scalar (got shape {sigma_max.shape})")
    _check_rng(rng, required=True)
    return float(sigma_max) * rng.standard_normal((n, d))


def sample_prior_vp(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    r"""Draw ``n`` points from the VP/OU prior :math:`\mathcal N(0, I_d)`.

    Parameters
    ----------
    n, d : int
        Number of points and ambient dimension, both ≥ 1.
    rng : numpy.random.Generator

    Returns
    -------
    (n, d) float64 array.

    Notes
    -----
    The stationary law of :math:`dx = -x\,dt + \sqrt2\,dW`. The exact VP marginal at time t has
    covariance :math:`a_t^2 \Sigma_0 + v_t I = I + e^{-2t}(\Sigma_0 - I)`, so the prior is off by
    :math:`e^{-2t_{\max}}\|\Sigma_0 - I\|` (and by :math:`a_{t_{\max}}` times the data mean).
    """
    n = _check_count("n", n)
    d = _check_count("d", d)
    _check_rng(rng, required=True)
    return rng.standard_normal((n, d))


# --------------------------------------------------------------------------------------------
# VE samplers (noise level σ)


def sample_euler_maruyama_ve(
    score: Score,
    x_init,
    sigmas,
    rng: np.random.Generator,
    *,
    tweedie: bool = False,
    return_trajectory: bool = False,
    progress: bool = False,
):
    r"""Euler–Maruyama on the VE reverse SDE (Song et al. 2021, reverse-diffusion predictor).

    Parameters
    ----------
    score : callable
        VE score ``score(x, sigma)`` :math:`\approx \nabla_x \log p_\sigma(x)`, (n, d) -> (n, d).
    x_init : (n, d) array
        Starting points, drawn from (an approximation of) :math:`p_{\sigma_0}`.
    sigmas : (N,) array
        Strictly decreasing noise levels :math:`\sigma_0 > \dots > \sigma_{N-1} > 0`, N ≥ 2, e.g.
        :func:`theory.schedules.geometric_grid` ``(sigma_max, sigma_min, N)``.
    rng : numpy.random.Generator
        Source of the injected noise.
    tweedie : bool
        If true, return the denoised points :math:`D(x;\sigma_{N-1})` (see Notes).
    return_trajectory : bool
        If true, also return the states at every grid point, shape (N, n, d); entry 0 is
        ``x_init`` and entry N−1 the state before any Tweedie step.
    progress : bool
        Show a tqdm progress bar over the N − 1 steps.

    Returns
    -------
    samples : (n, d) float64 array
    trajectory : (N, n, d) float64 array, only if ``return_trajectory``

    Raises
    ------
    ValueError
        If ``sigmas`` is not 1-D, has fewer than 2 points, holds NaN or an entry ≤ 0, or is not
        strictly decreasing; if ``x_init`` is not a finite 2-D array; if ``score`` returns an array
        of the wrong shape or a non-finite value.
    TypeError
        If ``rng`` is not a ``numpy.random.Generator``.

    Notes
    -----
    VE convention, :math:`x_\sigma = x_0 + \sigma\varepsilon`. With
    :math:`z_i \sim \mathcal N(0, I)` independent,

    .. math:: x_{i+1} = x_i + (\sigma_i^2 - \sigma_{i+1}^2)\, s(x_i, \sigma_i)
              + \sqrt{\sigma_i^2 - \sigma_{i+1}^2}\; z_i ,

    the Euler–Maruyama step of the reverse SDE
    :math:`dx = -\tfrac{d\sigma^2}{d\sigma} \nabla\log p_\sigma(x)\,d\sigma
    + \sqrt{d\sigma^2/d\sigma}\,d\bar W` from :math:`\sigma_i` down to :math:`\sigma_{i+1}`.
    With ``tweedie=True`` a last step applies the denoiser (Tweedie's formula)
    :math:`x \leftarrow x + \sigma_{N-1}^2\, s(x, \sigma_{N-1})`.
    """
    _check_rng(rng, required=True)

    def make_step(s):
        def step(x, sigma, sigma_next):
            ds2 = sigma**2 - sigma_next**2
            return x + ds2 * s(x, sigma) + np.sqrt(ds2) * rng.standard_normal(x.shape)

        return step

    return _run_ve(
        score,
        x_init,
        sigmas,
        make_step,
        tweedie=tweedie,
        return_trajectory=return_trajectory,
        progress=progress,
        desc="euler_maruyama_ve",
    )


def sample_pf_euler_ve(
    score: Score,
    x_init,
    sigmas,
    rng: np.random.Generator | None = None,
    *,
    tweedie: bool = False,
    return_trajectory: bool = False,
    progress: bool = False,
):
    r"""Euler on the VE probability-flow ODE, stepping in σ² (Song et al. 2021).

    Parameters
    ----------
    score, x_init, sigmas, tweedie, return_trajectory, progress
        As in :func:`sample_euler_maruyama_ve`.
    rng : numpy.random.Generator or None
        Unused (the flow is deterministic); accepted so that every sampler has the same signature.

    Returns
    -------
    samples : (n, d) float64 array
    trajectory : (N, n, d) float64 array, only if ``return_trajectory``

    Raises
    ------
    ValueError
        As in :func:`sample_euler_maruyama_ve`.

    Notes
    -----
    VE convention, :math:`x_\sigma = x_0 + \sigma\varepsilon`. The probability-flow ODE
    :math:`dx/d\sigma = -\sigma\,\nabla\log p_\sigma(x)`, i.e.
    :math:`dx/d(\sigma^2) = -\tfrac12 \nabla\log p_\sigma(x)`, discretised by Euler in the variable
    :math:`\sigma^2`:

    .. math:: x_{i+1} = x_i + \tfrac12 (\sigma_i^2 - \sigma_{i+1}^2)\, s(x_i, \sigma_i).

    ``tweedie=True`` adds :math:`x \leftarrow x + \sigma_{N-1}^2\, s(x, \sigma_{N-1})`.
    """
    _check_rng(rng, required=False)

    def make_step(s):
        def step(x, sigma, sigma_next):
            return x + 0.5 * (sigma**2 - sigma_next**2) * s(x, sigma)

        return step

    return _run_ve(
        score,
        x_init,
        sigmas,
        make_step,
        tweedie=tweedie,
        return_trajectory=return_trajectory,
        progress=progress,
        desc="pf_euler_ve",
    )


def sample_pf_heun_ve(
    score: Score,
    x_init,
    sigmas,
    rng: np.random.Generator | None = None,
    *,
    tweedie: bool = False,
    return_trajectory: bool = False,
    progress: bool = False,
):
    r"""Heun (2nd order) on the VE probability-flow ODE in σ: Algorithm 1 of Karras et al. (2022).

    Parameters
    ----------
    score, x_init, sigmas, tweedie, return_trajectory, progress
        As in :func:`sample_euler_maruyama_ve`.
    rng : numpy.random.Generator or None
        Unused (the flow is deterministic); accepted so that every sampler has the same signature.

    Returns
    -------
    samples : (n, d) float64 array
    trajectory : (N, n, d) float64 array, only if ``return_trajectory``

    Raises
    ------
    ValueError
        As in :func:`sample_euler_maruyama_ve`.

    Notes
    -----
    VE convention, :math:`x_\sigma = x_0 + \sigma\varepsilon`. The ODE
    :math:`dx/d\sigma = f(x,\sigma) = -\sigma\, s(x,\sigma) = (x - D(x;\sigma))/\sigma`, with
    :math:`h_i = \sigma_{i+1} - \sigma_i < 0`:

    .. math:: \tilde x = x_i + h_i f(x_i, \sigma_i), \qquad
              x_{i+1} = x_i + \tfrac{h_i}{2}\big(f(x_i,\sigma_i) + f(\tilde x, \sigma_{i+1})\big).

    Two score evaluations per step. EDM ends its grid at σ = 0 and takes a plain Euler step there,
    which equals the Tweedie denoiser :math:`x + \sigma^2 s(x,\sigma)`; here the grid ends at
    :math:`\sigma_{N-1} > 0`, every step is a Heun step, and ``tweedie=True`` performs that final
    step.
    """
    _check_rng(rng, required=False)

    def make_step(s):
        def step(x, sigma, sigma_next):
            h = sigma_next - sigma
            f = -sigma * s(x, sigma)
            x_euler = x + h * f
            f_next = -sigma_next * s(x_euler, sigma_next)
            return x + 0.5 * h * (f + f_next)

        return step

    return _run_ve(
        score,
        x_init,
        sigmas,
        make_step,
        tweedie=tweedie,
        return_trajectory=return_trajectory,
        progress=progress,
        desc="pf_heun_ve",
    )


# --------------------------------------------------------------------------------------------
# VP/OU samplers (time t)


def sample_euler_maruyama_vp(
    score: Score,
    x_init,
    ts,
    rng: np.random.Generator,
    *,
    tweedie: bool = False,
    return_trajectory: bool = False,
    progress: bool = False,
):
    r"""Euler–Maruyama on the VP/OU reverse SDE (Song et al. 2021).

    Parameters
    ----------
    score : callable
        The VE score ``score(x, sigma)``; converted to the VP score :math:`s_t` by
        :func:`theory.schedules.vp_score_from_ve`.
    x_init : (n, d) array
        Starting points, drawn from (an approximation of) the VP marginal at ``ts[0]``.
    ts : (N,) array
        Strictly decreasing times :math:`t_0 > \dots > t_{N-1} > 0`, N ≥ 2.
    rng : numpy.random.Generator
        Source of the injected noise.
    tweedie : bool
        If true, return :math:`\mathbb E[x_0 \mid x_{t_{N-1}}]` (see Notes).
    return_trajectory : bool
        If true, also return the states at every grid time, shape (N, n, d); entry 0 is ``x_init``
        and entry N−1 the state before any Tweedie step.
    progress : bool
        Show a tqdm progress bar over the N − 1 steps.

    Returns
    -------
    samples : (n, d) float64 array
    trajectory : (N, n, d) float64 array, only if ``return_trajectory``

    Raises
    ------
    ValueError
        If ``ts`` is not 1-D, has fewer than 2 points, holds NaN or an entry ≤ 0, or is not strictly
        decreasing; if ``x_init`` is not a finite 2-D array; if ``score`` returns an array of the
        wrong shape or a non-finite value.
    TypeError
        If ``rng`` is not a ``numpy.random.Generator``.

    Notes
    -----
    VP/OU convention, :math:`x_t = a_t x_0 + \sqrt{v_t}\varepsilon`, :math:`a_t = e^{-t}`,
    :math:`v_t = 1 - e^{-2t}`, forward :math:`dx = -x\,dt + \sqrt2\,dW`, VP score
    :math:`s_t(x) = a_t^{-1} s(x/a_t, \sigma(t))` with :math:`\sigma(t)^2 = v_t/a_t^2`. The reverse
    SDE :math:`dx = [x + 2 s_t(x)]\,d\tau + \sqrt2\,d\bar W` in reversed time :math:`\tau = -t`,
    with :math:`\Delta_i = t_i - t_{i+1} > 0` and :math:`z_i \sim \mathcal N(0, I)`:

    .. math:: x_{i+1} = x_i + \Delta_i \big(x_i + 2 s_{t_i}(x_i)\big) + \sqrt{2\Delta_i}\; z_i .

    ``tweedie=True`` adds :math:`x \leftarrow (x + v_t s_t(x)) / a_t` at :math:`t = t_{N-1}`.
    """
    _check_rng(rng, required=True)

    def make_step(s):
        def step(x, t, t_next):
            dt = t - t_next
            return x + dt * (x + 2.0 * s(x, t)) + np.sqrt(2.0 * dt) * rng.standard_normal(x.shape)

        return step

    return _run_vp(
        score,
        x_init,
        ts,
        make_step,
        tweedie=tweedie,
        return_trajectory=return_trajectory,
        progress=progress,
        desc="euler_maruyama_vp",
    )


def sample_pf_euler_vp(
    score: Score,
    x_init,
    ts,
    rng: np.random.Generator | None = None,
    *,
    tweedie: bool = False,
    return_trajectory: bool = False,
    progress: bool = False,
):
    r"""Euler on the VP/OU probability-flow ODE (Song et al. 2021).

    Parameters
    ----------
    score, x_init, ts, tweedie, return_trajectory, progress
        As in :func:`sample_euler_maruyama_vp`.
    rng : numpy.random.Generator or None
        Unused (the flow is deterministic); accepted so that every sampler has the same signature.

    Returns
    -------
    samples : (n, d) float64 array
    trajectory : (N, n, d) float64 array, only if ``return_trajectory``

    Raises
    ------
    ValueError
        As in :func:`sample_euler_maruyama_vp`.

    Notes
    -----
    VP/OU convention, :math:`x_t = a_t x_0 + \sqrt{v_t}\varepsilon`. The probability-flow ODE
    :math:`dx/dt = F(x, t) = -x - s_t(x)`, integrated backwards with
    :math:`\Delta_i = t_i - t_{i+1} > 0`:

    .. math:: x_{i+1} = x_i + \Delta_i \big(x_i + s_{t_i}(x_i)\big).

    ``tweedie=True`` adds :math:`x \leftarrow (x + v_t s_t(x)) / a_t` at :math:`t = t_{N-1}`.
    """
    _check_rng(rng, required=False)

    def make_step(s):
        def step(x, t, t_next):
            return x + (t - t_next) * (x + s(x, t))

        return step

    return _run_vp(
        score,
        x_init,
        ts,
        make_step,
        tweedie=tweedie,
        return_trajectory=return_trajectory,
        progress=progress,
        desc="pf_euler_vp",
    )


def sample_pf_heun_vp(
    score: Score,
    x_init,
    ts,
    rng: np.random.Generator | None = None,
    *,
    tweedie: bool = False,
    return_trajectory: bool = False,
    progress: bool = False,
):
    r"""Heun (2nd order) on the VP/OU probability-flow ODE in t, as in Karras et al. (2022) Alg. 1.

    Parameters
    ----------
    score, x_init, ts, tweedie, return_trajectory, progress
        As in :func:`sample_euler_maruyama_vp`.
    rng : numpy.random.Generator or None
        Unused (the flow is deterministic); accepted so that every sampler has the same signature.

    Returns
    -------
    samples : (n, d) float64 array
    trajectory : (N, n, d) float64 array, only if ``return_trajectory``

    Raises
    ------
    ValueError
        As in :func:`sample_euler_maruyama_vp`.

    Notes
    -----
    VP/OU convention, :math:`x_t = a_t x_0 + \sqrt{v_t}\varepsilon`. The ODE
    :math:`dx/dt = F(x,t) = -x - s_t(x)`, with :math:`h_i = t_{i+1} - t_i < 0`:

    .. math:: \tilde x = x_i + h_i F(x_i, t_i), \qquad
              x_{i+1} = x_i + \tfrac{h_i}{2}\big(F(x_i, t_i) + F(\tilde x, t_{i+1})\big).

    Two score evaluations per step; the grid ends at :math:`t_{N-1} > 0`, so every step is a Heun
    step. ``tweedie=True`` adds :math:`x \leftarrow (x + v_t s_t(x)) / a_t` at :math:`t = t_{N-1}`.
    """
    _check_rng(rng, required=False)

    def make_step(s):
        def step(x, t, t_next):
            h = t_next - t
            f = -x - s(x, t)
            x_euler = x + h * f
            f_next = -x_euler - s(x_euler, t_next)
            return x + 0.5 * h * (f + f_next)

        return step

    return _run_vp(
        score,
        x_init,
        ts,
        make_step,
        tweedie=tweedie,
        return_trajectory=return_trajectory,
        progress=progress,
        desc="pf_heun_vp",
    )
