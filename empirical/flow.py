r"""Probability-flow integration in the variance-t convention of paper004.

Convention (paper004, note §1.1 [N]): VE with noise **variance** τ, :math:`p_\tau = p_0 *
\mathcal N(0,\tau I)`; denoising follows the probability-flow ODE written in forward time,

.. math:: \frac{dx}{d\tau} = -\tfrac12\, s_\tau(x),

integrated backwards from a start time t down to an end time s < t. A score here is any callable
``score(x, tau)`` with ``x`` of shape (n, d) and ``tau`` a positive float, returning (n, d): the
closed forms of :mod:`theory.smoothing` directly, or a trained network through
:func:`from_sigma_score`.

Two integrators:

* :func:`integrate_rk45` — adaptive RK45 (scipy) in the variable :math:`u = \log\tau`,
  :math:`dx/du = -\tfrac12\,\tau\, s_\tau(x)`. The right side stays O(1) as τ → 0 (the PL-ESF
  collapse :math:`x - y \propto \sqrt\tau` is :math:`e^{u/2}`), so tight tolerances reach
  τ = 1e-10 in a few hundred steps.
* :func:`integrate_euler` — Euler with steps uniform in :math:`\sigma = \sqrt\tau`, on
  :math:`dx/d\sigma = -\sigma\, s_{\sigma^2}(x)`:

  .. math:: x_{i+1} = x_i + (\sigma_i - \sigma_{i+1})\,\sigma_i\, s_{\sigma_i^2}(x_i).

  The score is only evaluated at :math:`\sigma_i > 0`, so the end time may be 0. For a score
  that is locally :math:`-(x-y)/\tau` (the outer regions of the PL-ESF and S-PL-ESF, and the
  normal part of every score in paper004) a step is exact:
  :math:`x_{i+1} - y = (x_i - y)\,\sigma_{i+1}/\sigma_i`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.integrate import solve_ivp
from tqdm.auto import tqdm

from empirical._fields import evaluate_score
from theory._validation import check_finite, check_scalar

__all__ = ["from_sigma_score", "integrate_euler", "integrate_euler_refined", "integrate_rk45"]

Score = Callable[[np.ndarray, float], np.ndarray]


def _states(x) -> np.ndarray:
    x = check_finite("x", x)
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        raise ValueError(f"x must have shape (n, d) with n, d >= 1 (got {x.shape})")
    return x


def _times(t, s) -> tuple[float, float]:
    t = check_scalar("t", t)
    s = check_scalar("s", s)
    if not t > 0:
        raise ValueError(f"t must be > 0 (got {t})")
    if not 0 <= s < t:
        raise ValueError(f"s must satisfy 0 <= s < t = {t:.6g} (got s = {s:.6g})")
    return t, s


def _evaluate(score: Score, x: np.ndarray, tau: float) -> np.ndarray:
    return evaluate_score(score, x, tau, "tau")


def from_sigma_score(score_sigma: Callable[[np.ndarray, float], np.ndarray]) -> Score:
    r"""Adapt a VE score ``score(x, sigma)`` (σ the noise std, e.g. a trained
    :class:`empirical.models.ScoreModel`) to ``score(x, tau)`` with τ = σ² the variance."""

    def score(x, tau):
        return score_sigma(x, float(np.sqrt(tau)))

    return score


def integrate_rk45(score: Score, x, t, s, *, rtol: float = 1e-10, atol: float = 1e-12):
    r"""Flow ``x`` (n, d) from time t down to time s > 0 with adaptive RK45 in log τ.

    Parameters
    ----------
    score : callable ``score(x, tau)``
        Score field in the variance convention (see the module docstring).
    x : array_like, shape (n, d)
        States at time t.
    t, s : float, 0 < s < t
        Start and end noise variances.
    rtol, atol : float
        Tolerances of :func:`scipy.integrate.solve_ivp`. The error norm is taken over the whole
        batch, so pass few trajectories at a time when each must meet ``rtol`` on its own.

    Returns
    -------
    ndarray, shape (n, d)
        States at time s.

    Notes
    -----
    Solves :math:`dx/du = -\tfrac12\,e^{u}\,s_{e^u}(x)` for u from log t down to log s, which is
    the PF-ODE :math:`dx/d\tau = -\tfrac12 s_\tau(x)` (VE, variance τ; paper004 note §1.1 [N]).
    """
    x = _states(x)
    t, s = _times(t, s)
    if not s > 0:
        raise ValueError(f"s must be > 0 for integration in log tau (got {s}); use integrate_euler")
    for name, tol in (("rtol", rtol), ("atol", atol)):
        if not tol > 0:
            raise ValueError(f"{name} must be > 0 (got {tol})")
    shape = x.shape

    def rhs(u, y):
        tau = float(np.exp(u))
        return (-0.5 * tau * _evaluate(score, y.reshape(shape), tau)).ravel()

    sol = solve_ivp(rhs, (np.log(t), np.log(s)), x.ravel(), method="RK45", rtol=rtol, atol=atol)
    if not sol.success:
        raise RuntimeError(f"RK45 failed between t = {t:.3g} and s = {s:.3g}: {sol.message}")
    return sol.y[:, -1].reshape(shape)


def integrate_euler(
    score: Score,
    x,
    t,
    s,
    n_steps: int,
    *,
    return_trajectory: bool = False,
    progress: bool = False,
):
    r"""Flow ``x`` (n, d) from time t down to time s >= 0 with Euler uniform in √τ.

    Parameters
    ----------
    score : callable ``score(x, tau)``
    x : array_like, shape (n, d)
        States at time t.
    t : float, t > 0
    s : float, 0 <= s < t
        End noise variance; 0 is allowed (the score is never evaluated there).
    n_steps : int, >= 1
        Steps, uniform in σ = √τ from √t to √s.
    return_trajectory : bool
        Also return the states at every grid time, shape (n_steps + 1, n, d), and the grid of
        times τ_i (n_steps + 1,).
    progress : bool
        Show a tqdm bar.

    Returns
    -------
    ndarray (n, d), or (ndarray, trajectory, taus) with ``return_trajectory``.

    Notes
    -----
    :math:`x_{i+1} = x_i + (\sigma_i - \sigma_{i+1})\sigma_i\, s_{\sigma_i^2}(x_i)`, the Euler
    scheme for :math:`dx/d\sigma = -\sigma s_{\sigma^2}(x)`, i.e. the PF-ODE
    :math:`dx/d\tau = -\tfrac12 s_\tau` in τ = σ² (VE, variance τ; paper004 note §2.3 [D], "Euler
    steps uniform in √t").
    """
    x = _states(x).copy()
    t, s = _times(t, s)
    if isinstance(n_steps, bool) or not isinstance(n_steps, int | np.integer) or n_steps < 1:
        raise ValueError(f"n_steps must be a positive integer (got {n_steps!r})")
    sigmas = np.linspace(np.sqrt(t), np.sqrt(s), int(n_steps) + 1)
    traj = [x.copy()] if return_trajectory else None
    for i in tqdm(range(int(n_steps)), desc="pf euler √t", disable=not progress, leave=False):
        sig = sigmas[i]
        x = x + (sig - sigmas[i + 1]) * sig * _evaluate(score, x, float(sig**2))
        if traj is not None:
            traj.append(x.copy())
    if return_trajectory:
        return x, np.stack(traj), sigmas**2
    return x


def integrate_euler_refined(
    score: Score, x, t, s, n_steps: int, *, n_check: int = 2_000, progress=False
):
    r""":func:`integrate_euler` with ``n_steps``, and its discretisation error measured, not assumed.

    Returns the states at time s and :math:`\max |x_N - x_{4N}|` over the first ``n_check``
    states, flowed again with 4N steps. Euler is first order, so the error of :math:`x_N` itself
    is about 4/3 of that (VE, variance τ; see :func:`integrate_euler`).
    """
    if isinstance(n_check, bool) or not isinstance(n_check, int | np.integer) or n_check < 1:
        raise ValueError(f"n_check must be a positive integer (got {n_check!r})")
    y = integrate_euler(score, x, t, s, n_steps, progress=progress)
    head = _states(x)[:n_check]
    fine = integrate_euler(score, head, t, s, 4 * n_steps)
    return y, float(np.max(np.abs(y[:n_check] - fine)))
