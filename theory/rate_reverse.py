r"""Terminal mean offsets of VE reverse samplers on a Gaussian line with an x-independent score error.

Outside the paper: the research note's own derivation (paper003 T-C14 [D]), the reverse-time
counterpart of Thm 4.1. Convention: VE in the variance :math:`s = \sigma^2`; the data are Gaussian
with variance λ along a direction (λ = 0 for a normal direction), so the noised coordinate has
variance λ + s and the exact score is :math:`-x/(\lambda + s)`. An error :math:`e(s)` added to the
score moves the mean of the sampler's output and nothing else, because the dynamics stay linear.
"""

from __future__ import annotations

import numpy as np
from scipy import integrate

from theory._validation import check_scalar

__all__ = ["reverse_mean_offset"]

_FLOWS = ("sde", "ode")
_QUAD_RTOL = 1e-11
_QUAD_LIMIT = 200


def reverse_mean_offset(
    s_min, T, gamma, c, *, variance=0.0, flow: str = "sde", s_cut=None
) -> float:
    r"""Mean offset at :math:`s_{min}` of the VE reverse SDE or PF-ODE with the error :math:`c\,s^{-\gamma/2}`.

    Arguments
    ---------
    s_min : the variance σ² where the sampler stops, 0 < s_min < T.
    T : the variance where it starts (exact start, mean 0).
    gamma : the error exponent (any finite real).
    c : the error amplitude (any finite real).
    variance : the data variance λ ≥ 0 along the error's direction (0: a normal direction).
    flow : "sde" (reverse SDE) or "ode" (probability-flow ODE).
    s_cut : optional; the error acts only where s < s_cut (s_min < s_cut).

    Returns
    -------
    The offset m(s_min), a float.

    Notes
    -----
    In the variance clock the reverse SDE's mean solves :math:`dm/ds = m/(\lambda+s) - e(s)`, and the
    PF-ODE's (half the score) :math:`dm/ds = m/(2(\lambda+s)) - e(s)/2`, both with m(T) = 0, so
    (paper003 T-C14 [D])

    .. math:: m_{SDE} = (\lambda + s_{min})\int_{s_{min}}^{T}\frac{e(u)}{\lambda + u}\,du, \qquad
              m_{ODE} = \sqrt{\lambda + s_{min}}\int_{s_{min}}^{T}\frac{e(u)}{2\sqrt{\lambda+u}}\,du,

    with e = 0 above ``s_cut``. For λ = 0 these are the finite-T forms in
    :func:`theory.scaling.reverse_sde_terminal_offset` (:math:`\tfrac{2c}{\gamma}(s^{1-\gamma/2} - sT^{-\gamma/2})`)
    and :func:`theory.scaling.pf_ode_terminal_offset`. The integral is taken in log u by
    :func:`scipy.integrate.quad` (relative accuracy 1e-11).

    Raises
    ------
    ValueError
        Unless 0 < s_min < T (finite), ``gamma`` and ``c`` are finite, ``variance`` ≥ 0, ``flow``
        is "sde" or "ode", and ``s_cut`` is None or > s_min.
    ArithmeticError
        If the quadrature does not reach its accuracy.
    """
    s_min = check_scalar("s_min", s_min, positive=True)
    T = check_scalar("T", T, positive=True)
    if s_min >= T:
        raise ValueError(f"s_min must be < T = {T:.6g} (got {s_min:.6g})")
    gamma = check_scalar("gamma", gamma)
    c = check_scalar("c", c)
    lam = check_scalar("variance", variance)
    if lam < 0:
        raise ValueError(f"variance must be >= 0 (got {lam:.6g})")
    if flow not in _FLOWS:
        raise ValueError(f"flow must be 'sde' or 'ode' (got {flow!r})")
    top = T
    if s_cut is not None:
        s_cut = check_scalar("s_cut", s_cut, positive=True)
        if s_cut <= s_min:
            raise ValueError(f"s_cut must be > s_min = {s_min:.6g} (got {s_cut:.6g})")
        top = min(T, s_cut)
    power = 1.0 if flow == "sde" else 0.5
    weight = 1.0 if flow == "sde" else 0.5

    def integrand(log_u: float) -> float:
        u = np.exp(log_u)
        return weight * c * u ** (1.0 - 0.5 * gamma) / (lam + u) ** power

    value, abserr = integrate.quad(
        integrand, np.log(s_min), np.log(top), epsabs=0.0, epsrel=_QUAD_RTOL, limit=_QUAD_LIMIT
    )
    if not abserr <= 1e3 * _QUAD_RTOL * max(abs(value), 1e-300):
        raise ArithmeticError(
            f"quadrature did not converge (estimate {value:.6g}, error {abserr:.3g})"
        )
    return float((lam + s_min) ** power * value)
