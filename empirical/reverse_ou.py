r"""Reverse Euler–Maruyama for :math:`dX = -\alpha X\,dt + \sqrt2\,dB` with a score in OU time.

Convention of the manifold-detection paper (Pidstrigach 2022; research note paper002 §1.1–1.2):
the forward process :math:`dX_t = -\alpha X_t\,dt + \sqrt2\,dB_t`, α ≥ 0, has marginals

.. math:: X_t = a_t X_0 + \sqrt{v_t}\,Z, \qquad a_t = e^{-\alpha t}, \qquad
          v_t = \frac{1 - e^{-2\alpha t}}{\alpha} \quad (2t \text{ at } \alpha = 0)

(:func:`theory.schedules.ou_a`, :func:`theory.schedules.ou_v`): α = 1 is the OU/VP process,
α = 0 Brownian motion (VE with σ² = 2t). The generative process runs the time reversal

.. math:: dY = \big[\alpha Y + 2\, s(T - \tau, Y)\big]\,d\tau + \sqrt2\,dW, \qquad Y_0 \sim \pi,

with a score :math:`s(t, x) \approx \nabla\log p_t(x)` in OU time. Here a score is a callable
``score(x, t)`` (``x`` of shape (n, d), ``t`` a positive float, returns (n, d)); :func:`ou_score`
builds one from any VE field ``score(x, sigma)`` (the exact fields of
:mod:`theory.distributions`, a trained :class:`empirical.models.ScoreModel`), and
:func:`shifted`, :func:`clipped` and :func:`power_law_push` perturb one (paper002 T-B3, T-B4,
T-B8). :func:`reverse_euler_maruyama` integrates the reversal on a grid of OU times
(:func:`geometric_times`, or :func:`linear_beta_times` for the author's VP-β demo).

References
----------
Pidstrigach, *Score-based generative models detect manifolds*, NeurIPS 2022, arXiv 2206.01018.
Song, Sohl-Dickstein, Kingma, Kumar, Ermon, Poole, *Score-based generative modeling through
stochastic differential equations*, ICLR 2021 (reverse SDE, linear-β VP schedule).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from empirical._fields import evaluate_score
from empirical.sampling import (
    _check_count,
    _check_grid,
    _check_rng,
    _check_x_init,
    _finish,
    _integrate,
)
from theory._validation import check_finite, check_integer, check_scalar
from theory.schedules import _check_alpha, geometric_grid, linear_beta_ou_time, ou_a, ou_v

__all__ = [
    "clipped",
    "geometric_times",
    "linear_beta_times",
    "ou_jacobian",
    "ou_score",
    "power_law_push",
    "prior_sample",
    "reverse_euler_maruyama",
    "shifted",
    "tweedie_denoise",
]

#: A score in OU time: ``score(x, t)`` with x of shape (n, d) and t > 0 a float, returns (n, d).
Score = Callable[[np.ndarray, float], np.ndarray]

_UNIT_ATOL = 1e-10  # largest | ‖direction‖ − 1 | accepted for a unit vector


# --------------------------------------------------------------------------------------------
# Input checks


def _check_callable(name: str, value) -> None:
    if not callable(value):
        raise ValueError(f"{name} must be a callable {name}(x, t) (got {type(value).__name__})")


def _time(t) -> float:
    return check_scalar("t", t, positive=True)


# --------------------------------------------------------------------------------------------
# Scores in OU time


def _ve_method(field, name: str):
    """``field.<name>`` where it is callable, else ``field`` itself if callable; else ValueError."""
    method = getattr(field, name, None)
    fn = method if callable(method) else field
    if not callable(fn):
        raise ValueError(
            f"field must have a {name}(x, sigma) method or be a callable {name}(x, sigma) "
            f"(got {type(field).__name__})"
        )
    return fn


def _ou_scale(t, alpha: float) -> tuple[float, float]:
    """(a_t, σ_t = √v_t / a_t) at OU time t > 0, raising where σ_t is not a finite float64."""
    t = _time(t)
    a = float(ou_a(t, alpha))
    sigma = float(np.sqrt(ou_v(t, alpha))) / a if a > 0.0 else np.inf
    if not np.isfinite(sigma):
        raise ValueError(
            f"t must be small enough that sigma_t = sqrt(v_t)/a_t is finite "
            f"(got t = {t:.6g} at alpha = {alpha:.6g})"
        )
    return a, sigma


def ou_score(field, alpha=1.0) -> Score:
    r"""The score :math:`\nabla\log p_t` of the α-process, from a VE score of the same data.

    Parameters
    ----------
    field : object with a ``score(x, sigma)`` method, or a callable ``score(x, sigma)``
        VE score :math:`\nabla\log p^{VE}_\sigma` of the data
        (:math:`x_\sigma = x_0 + \sigma\varepsilon`), e.g. :class:`theory.distributions.FiniteSet` or :class:`empirical.models.ScoreModel`.
    alpha : float
        Drift rate α ≥ 0 of :math:`dX = -\alpha X\,dt + \sqrt2\,dB`.

    Returns
    -------
    score : callable ``score(x, t)``
        ``x`` of shape (n, d) (or whatever the field accepts), ``t`` a positive scalar; it raises
        ``ValueError`` for t ≤ 0, or for t so large that :math:`\sigma_t` is not a finite float64
        (:math:`\alpha t \gtrsim 709`).

    Raises
    ------
    ValueError
        If ``field`` has no callable ``score`` and is not callable, or if α < 0 or is not finite.

    Notes
    -----
    :math:`p_t` is the law of :math:`a_t X_0 + \sqrt{v_t}Z = a_t (X_0 + \sigma_t Z)` with
    :math:`\sigma_t^2 = v_t / a_t^2 = (e^{2\alpha t} - 1)/\alpha` (2t at α = 0), so
    :math:`p_t(x) = a_t^{-d} p^{VE}_{\sigma_t}(x / a_t)` and

    .. math:: \nabla\log p_t(x) = a_t^{-1}\, \nabla\log p^{VE}_{\sigma_t}(x / a_t).

    At α = 1 this is :func:`theory.schedules.vp_score_from_ve`. :math:`\sigma_t` is formed as
    :math:`\sqrt{v_t}/a_t`, which keeps full precision at tiny t.
    """
    score_ve = _ve_method(field, "score")
    alpha = _check_alpha(alpha)

    def score(x, t):
        a, sigma = _ou_scale(t, alpha)
        return score_ve(check_finite("x", x) / a, sigma) / a

    return score


def ou_jacobian(field, alpha=1.0) -> Score:
    r"""The Jacobian :math:`\partial_x \nabla\log p_t(x)` of the α-process score, in :math:`x_t` units.

    Parameters
    ----------
    field : object with a ``jacobian(x, sigma)`` method, or a callable ``jacobian(x, sigma)``
        VE score Jacobian :math:`\partial_x\nabla\log p^{VE}_\sigma` of the data, e.g. the exact
        fields of :mod:`theory.distributions`.
    alpha : float
        Drift rate α ≥ 0.

    Returns
    -------
    jacobian : callable ``jacobian(x, t)``
        ``x`` of shape (n, d), ``t`` a positive scalar; returns (n, d, d) with entry [p, i, j] =
        :math:`\partial s_i/\partial x_j` of :func:`ou_score` at ``x[p]``. It raises as
        :func:`ou_score` does.

    Raises
    ------
    ValueError
        If ``field`` has no callable ``jacobian`` and is not callable, or if α < 0 or is not finite.

    Notes
    -----
    Differentiating :math:`\nabla\log p_t(x) = a_t^{-1}\nabla\log p^{VE}_{\sigma_t}(x/a_t)` by the
    chain rule (the inner map contributes :math:`a_t^{-1} I`):

    .. math:: J_t(x) = a_t^{-2}\, J^{VE}_{\sigma_t}(x / a_t), \qquad \sigma_t = \sqrt{v_t}/a_t .

    Its singular values are those of the VE Jacobian divided by :math:`a_t^2`, so the noise-normalised
    values agree: :math:`v_t\, s_i(J_t) = \sigma_t^2\, s_i(J^{VE})` (paper000 §7.4: :math:`v_t` in
    :math:`x_t` units, :math:`v_t/a_t^2` in :math:`x_0` units).
    """
    jacobian_ve = _ve_method(field, "jacobian")
    alpha = _check_alpha(alpha)

    def jacobian(x, t):
        a, sigma = _ou_scale(t, alpha)
        return jacobian_ve(check_finite("x", x) / a, sigma) / a**2

    return jacobian


def shifted(score: Score, c) -> Score:
    r"""``score`` plus a constant vector: :math:`s(x, t) + c` (the author's bounded perturbation).

    Parameters
    ----------
    score : callable ``score(x, t)``
    c : float or (d,) array
        The shift; a scalar adds :math:`c\,\mathbf 1` (the author's demo adds 1 to every
        coordinate of the empirical score, paper002 B4 and T-B3).

    Raises
    ------
    ValueError
        If ``score`` is not callable or ``c`` is not a finite scalar or 1-D array; at call time,
        if ``c`` does not have one entry per coordinate of ``x``.

    Notes
    -----
    A bounded perturbation of the score has finite energy, so by Girsanov it keeps the sampler's
    law equivalent to the unperturbed one: the same support (the training points, for the
    empirical score), other weights (paper002 B4, corollary).
    """
    _check_callable("score", score)
    c = check_finite("c", c)
    if c.ndim > 1:
        raise ValueError(f"c must be a scalar or a 1-D array (got shape {c.shape})")

    def perturbed(x, t):
        s = np.asarray(score(x, t), dtype=np.float64)
        if c.ndim == 1 and c.shape[0] != np.shape(x)[-1]:
            raise ValueError(
                f"c must have one entry per coordinate, d = {np.shape(x)[-1]} (got {c.shape[0]})"
            )
        return s + c

    return perturbed


def clipped(score: Score, bound) -> Score:
    r"""``score`` with each point's vector clipped to norm ``bound``: :math:`s\,\min(1, B/\|s\|)`.

    Parameters
    ----------
    score : callable ``score(x, t)``
    bound : float
        The bound B > 0 on :math:`\|s(x, t)\|` (Euclidean norm over the coordinates, per point).

    Raises
    ------
    ValueError
        If ``score`` is not callable or ``bound`` is not a finite scalar > 0.

    Notes
    -----
    A bounded drift has finite energy along every path, so the sampler's law stays equivalent to
    Lebesgue measure: it cannot concentrate on a manifold, and the normal spread keeps a floor
    that depends on B as :math:`t_{min} \to 0` (paper002 B3, T-B4). Vectors with
    :math:`\|s\| \le B` are returned unchanged (the factor is exactly 1).
    """
    _check_callable("score", score)
    bound = check_scalar("bound", bound, positive=True)

    def perturbed(x, t):
        s = np.asarray(score(x, t), dtype=np.float64)
        norm = np.linalg.norm(s, axis=-1, keepdims=True)
        return s * (bound / np.maximum(norm, bound))

    return perturbed


def power_law_push(score: Score, direction, c, gamma) -> Score:
    r"""``score`` plus a push along a unit vector, growing as t → 0: :math:`s + c\,t^{-\gamma/2} u`.

    Parameters
    ----------
    score : callable ``score(x, t)``
    direction : (d,) array
        The unit vector u (norm 1 within 1e-10), e.g. the normal :math:`e_\perp` of a line.
    c, gamma : float
        Amplitude c and exponent γ of the push :math:`\delta(t) = c\,t^{-\gamma/2}`.

    Raises
    ------
    ValueError
        If ``score`` is not callable, ``direction`` is not a finite 1-D unit vector, or ``c`` or
        ``gamma`` is not a finite scalar; at call time, if t ≤ 0 or ``direction`` does not have
        one entry per coordinate of ``x``.

    Notes
    -----
    The error energy :math:`\int_0^T c^2 t^{-\gamma}\,dt` is finite for γ < 1 and infinite for
    γ ≥ 1 (paper002 T-B8, the Girsanov condition of B2).
    """
    _check_callable("score", score)
    u = check_finite("direction", direction)
    if u.ndim != 1 or u.size < 1:
        raise ValueError(f"direction must be a non-empty 1-D array (got shape {u.shape})")
    norm = float(np.linalg.norm(u))
    if abs(norm - 1.0) > _UNIT_ATOL:
        raise ValueError(f"direction must be a unit vector (got norm {norm:.12g})")
    c = check_scalar("c", c)
    gamma = check_scalar("gamma", gamma)

    def perturbed(x, t):
        t = _time(t)
        s = np.asarray(score(x, t), dtype=np.float64)
        if u.shape[0] != np.shape(x)[-1]:
            raise ValueError(
                f"direction must have one entry per coordinate, d = {np.shape(x)[-1]} "
                f"(got {u.shape[0]})"
            )
        return s + (c * t ** (-0.5 * gamma)) * u

    return perturbed


# --------------------------------------------------------------------------------------------
# Grids and priors


def geometric_times(T, t_min, K) -> np.ndarray:
    r"""K steps from T down to t_min, equally spaced in log t: :math:`T = t_0 > \dots > t_K = t_{min}`.

    A geometric grid spends its steps where the score changes fastest (paper002 §6: uniform grids
    waste steps at large t). See :func:`theory.schedules.geometric_grid`.

    Raises
    ------
    ValueError
        Unless 0 < t_min < T (finite scalars) and K ≥ 1 is an integer.
    """
    T = check_scalar("T", T, positive=True)
    t_min = check_scalar("t_min", t_min, positive=True)
    if t_min >= T:
        raise ValueError(f"t_min must be < T = {T:.6g} (got {t_min:.6g})")
    return geometric_grid(T, t_min, check_integer("K", K, minimum=1) + 1)


def linear_beta_times(K=1000, t_min=1e-3, t_max=1.0, beta_min=0.001, beta_max=3.0) -> np.ndarray:
    r"""OU times of K uniform steps in the time of the linear-β VP SDE, from t_max down to t_min.

    The author's workshop demo (shared/research/external_facts.md): β linear from β_min = 0.001 to
    β_max = 3 on [0, 1], 1 000 uniform Euler–Maruyama steps, smallest score time 1e-3. The VP-β
    SDE is the α = 1 process on the clock
    :math:`s(t) = \tfrac12\int_0^t\beta` (:func:`theory.schedules.linear_beta_ou_time`), so this
    returns :math:`s(t_k)` for :math:`t_k` = ``linspace(t_max, t_min, K + 1)``; feed it to
    :func:`reverse_euler_maruyama` with α = 1 (the equivalence of the two steps is in its Notes).

    Raises
    ------
    ValueError
        Unless 0 < t_min < t_max, K ≥ 1 is an integer and 0 < beta_min ≤ beta_max.
    """
    t_max = check_scalar("t_max", t_max, positive=True)
    t_min = check_scalar("t_min", t_min, positive=True)
    if t_min >= t_max:
        raise ValueError(f"t_min must be < t_max = {t_max:.6g} (got {t_min:.6g})")
    K = check_integer("K", K, minimum=1)
    return linear_beta_ou_time(np.linspace(t_max, t_min, K + 1), beta_min, beta_max)


def prior_sample(n: int, d: int, rng: np.random.Generator, alpha=1.0, T=None) -> np.ndarray:
    r"""Draw ``n`` points from the Gaussian prior :math:`\mathcal N(0, v_T I_d)` of the α-process.

    Parameters
    ----------
    n, d : int
        Number of points and ambient dimension, both ≥ 1.
    rng : numpy.random.Generator
    alpha : float
        Drift rate α ≥ 0.
    T : float or None
        Horizon T > 0; ``None`` means T = ∞, the stationary law :math:`\mathcal N(0, I/\alpha)`,
        which exists only for α > 0.

    Returns
    -------
    (n, d) float64 array.

    Raises
    ------
    ValueError
        If n or d is not a positive integer, α < 0, T ≤ 0, or T is None with α = 0 (Brownian
        motion has no stationary law: pass T, for the prior :math:`\mathcal N(0, 2T\,I)`).
    TypeError
        If ``rng`` is not a ``numpy.random.Generator``.

    Notes
    -----
    :math:`\mathcal N(0, v_T I)` is the law at time T of the forward process started at the
    origin; the exact :math:`p_T` has covariance :math:`a_T^2\Sigma_0 + v_T I` (and mean
    :math:`a_T m_0`), so the prior neglects a term of size :math:`a_T^2\|\Sigma_0\|` — nothing
    at α = 0, where :math:`a_T = 1`: there start from the exact :math:`p_T` when the data
    covariance is known. T = None at α > 0 is the usual N(0, I/α) (N(0, I) for the OU process).
    """
    n = _check_count("n", n)
    d = _check_count("d", d)
    _check_rng(rng, required=True)
    alpha = _check_alpha(alpha)
    if T is None:
        if alpha == 0.0:
            raise ValueError(
                "T must be given when alpha = 0 (Brownian motion has no stationary law; "
                "the prior is N(0, 2T I))"
            )
        variance = 1.0 / alpha
    else:
        variance = float(ou_v(check_scalar("T", T, positive=True), alpha))
    return np.sqrt(variance) * rng.standard_normal((n, d))


# --------------------------------------------------------------------------------------------
# The sampler


def tweedie_denoise(score: Score, y, t, *, alpha=1.0) -> np.ndarray:
    r"""Tweedie's estimate :math:`\hat x_0 = \mathbb E[X_0 \mid X_t = y] = (y + v_t s(y, t))/a_t`.

    Parameters
    ----------
    score : callable ``score(x, t)``
        The score used for the estimate; with the exact empirical score
        (``ou_score(FiniteSet(points))``) the output is a convex combination of training points,
        :math:`\sum_i w_i(y) x_i` (paper002 T-B3).
    y : (n, d) array
        States at time t.
    t : float
        Time t > 0.
    alpha : float
        Drift rate α ≥ 0.

    Raises
    ------
    ValueError
        If ``score`` is not callable, ``y`` is not a finite (n, d) array, t ≤ 0, α < 0, or the
        score returns an array of the wrong shape or a non-finite value.

    Notes
    -----
    Exact for the true score: :math:`\nabla\log p_t(y) = -(y - a_t\,\mathbb E[X_0\mid X_t = y])/v_t`
    (paper002 §1.1). A perturbed score :math:`s + e` moves the estimate by :math:`v_t e / a_t`.
    """
    _check_callable("score", score)
    y = check_finite("y", y)
    if y.ndim != 2 or y.shape[0] < 1 or y.shape[1] < 1:
        raise ValueError(f"y must have shape (n, d) with n, d >= 1 (got {y.shape})")
    t = _time(t)
    alpha = _check_alpha(alpha)
    s = evaluate_score(score, y, t, "t")
    return (y + float(ou_v(t, alpha)) * s) / float(ou_a(t, alpha))


def reverse_euler_maruyama(
    score: Score,
    x_init,
    ts,
    rng: np.random.Generator,
    *,
    alpha=1.0,
    tweedie: bool = False,
    return_trajectory: bool = False,
    progress: bool = False,
):
    r"""Euler–Maruyama on the time reversal of :math:`dX = -\alpha X\,dt + \sqrt2\,dB` (paper002 §6).

    Parameters
    ----------
    score : callable ``score(x, t)``
        Score in OU time, :math:`s(t, x) \approx \nabla\log p_t(x)`, (n, d) -> (n, d); e.g.
        :func:`ou_score` of a VE field, perturbed or not.
    x_init : (n, d) array
        Starting points, drawn from (an approximation of) :math:`p_{t_0}`, e.g.
        :func:`prior_sample`.
    ts : (K + 1,) array
        Strictly decreasing OU times :math:`T = t_0 > \dots > t_K = t_{min} > 0`, K ≥ 1, e.g.
        :func:`geometric_times` or :func:`linear_beta_times`.
    rng : numpy.random.Generator
        Source of the injected noise (one (n, d) standard normal draw per step, in step order).
    alpha : float
        Drift rate α ≥ 0.
    tweedie : bool
        If true, return :func:`tweedie_denoise` of the final state with ``score`` at
        :math:`t_{min}`.
    return_trajectory : bool
        If true, also return the states at every grid time, shape (K + 1, n, d); entry 0 is
        ``x_init`` and entry K the state before any Tweedie step.
    progress : bool
        Show a tqdm progress bar over the K steps.

    Returns
    -------
    samples : (n, d) float64 array
    trajectory : (K + 1, n, d) float64 array, only if ``return_trajectory``

    Raises
    ------
    ValueError
        If ``ts`` is not 1-D, has fewer than 2 points, holds NaN or an entry ≤ 0, or is not
        strictly decreasing; if ``x_init`` is not a finite 2-D array; if α < 0; if ``score`` is
        not callable, or returns an array of the wrong shape or a non-finite value.
    TypeError
        If ``rng`` is not a ``numpy.random.Generator``.

    Notes
    -----
    With :math:`h_k = t_k - t_{k+1} > 0` and :math:`\xi_k \sim \mathcal N(0, I)` independent,

    .. math:: Y_{k+1} = Y_k + h_k\big(\alpha Y_k + 2\, s(t_k, Y_k)\big) + \sqrt{2 h_k}\;\xi_k ,

    the score evaluated at the step's upper end :math:`t_k`. At α = 1 this is
    :func:`empirical.sampling.sample_euler_maruyama_vp` written for a score in OU time.

    **The linear-β VP demo.** Song et al.'s VP SDE :math:`dX = -\tfrac12\beta(t)X\,dt +
    \sqrt{\beta(t)}\,dB` is the α = 1 process on the clock :math:`s(t) = \tfrac12\int_0^t\beta`.
    On the grid :math:`t_k` of uniform steps Δt in β-time, EM in OU time on :math:`s(t_k)`
    (:func:`linear_beta_times`) has :math:`h_k = s(t_k) - s(t_{k+1}) = \tfrac12\bar\beta_k\Delta t`,
    with :math:`\bar\beta_k` the mean of β over the step, and its step is then exactly the VP-β
    Euler–Maruyama step

    .. math:: x \leftarrow x + \tfrac12\bar\beta_k\Delta t\, x + \bar\beta_k\Delta t\, s
              + \sqrt{\bar\beta_k\Delta t}\; z ,

    the score taken at β-time :math:`t_k`. For linear β, :math:`\bar\beta_k` is β at the step's
    midpoint; a VP-β loop that uses :math:`\beta(t_k)` instead takes steps longer by
    :math:`\tfrac14(\beta_{max} - \beta_{min})\Delta t^2` in OU time, a first-order difference of
    the discretisations, not of the process.
    """
    _check_rng(rng, required=True)
    _check_callable("score", score)
    alpha = _check_alpha(alpha)
    ts = _check_grid("ts", ts)
    x = _check_x_init(x_init)

    def step(y, t, t_next):
        h = t - t_next
        s = evaluate_score(score, y, t, "t")
        return y + h * (alpha * y + 2.0 * s) + np.sqrt(2.0 * h) * rng.standard_normal(y.shape)

    y, trajectory = _integrate(
        step,
        x,
        ts,
        return_trajectory=return_trajectory,
        progress=progress,
        desc="reverse_euler_maruyama",
    )
    if tweedie:
        y = tweedie_denoise(score, y, float(ts[-1]), alpha=alpha)
    return _finish(y, trajectory, return_trajectory)
