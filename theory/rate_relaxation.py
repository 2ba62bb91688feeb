r"""Tangential relaxation of Tempered-Score (TS) Langevin on a circle (rate separation, paper003).

Convention: σ is the noise standard deviation at a fixed level (VE :math:`x_\sigma = x + \sigma Z`
or VP alike: only the normal stiffness enters). TS Langevin, paper003 eq. (8) [P],
:math:`dX = \sigma^\alpha s(X,\sigma)\,dt + \sqrt2\,dW`, is run in the paper's hat form (App. C.1
[P]) :math:`dX = \hat s(X,\sigma)\,d\tau + \sqrt{2\sigma^{2-\alpha}}\,dW` with
:math:`\hat s = \sigma^2 s` and the hat time :math:`\tau = \sigma^{\alpha-2}t`.
"""

from __future__ import annotations

import numpy as np

from theory._validation import check_positive, check_scalar

__all__ = ["ts_relaxation_rate"]


def ts_relaxation_rate(sigma, alpha, radius=1.0) -> np.ndarray:
    r"""Relaxation rate of the first angular moment of TS Langevin on a circle, per unit hat time τ.

    Arguments
    ---------
    sigma : noise standard deviation(s) σ > 0, any shape S.
    alpha : tempering exponent, 0 ≤ α < 2 (α = 0: plain Langevin in the hat form).
    radius : the circle's radius R > 0.

    Returns
    -------
    Array of shape S: the rate λ with :math:`m(\tau) - m_\infty \propto e^{-\lambda\tau}` for
    :math:`m = \mathbb E\cos\theta` (or :math:`\mathbb E\sin\theta`).

    Notes
    -----
    With the exact score, the tangential drift on M is :math:`\sigma^\alpha\nabla_M\log q \to 0`
    (in t units) while the noise stays √2, so on M the angle performs a drift-free Brownian motion
    of diffusion coefficient :math:`1/R^2` per unit t; in hat time, :math:`t = \sigma^{2-\alpha}\tau`,
    the first Fourier mode of the angle law decays at (paper003 §2 C3 "Why it works" [D]; summary
    table row "TS tangential relaxation"; T-C11)

    .. math:: \lambda = \frac{\sigma^{2-\alpha}}{R^2} \qquad (\text{exponent } 2 - \alpha),

    i.e. about :math:`R^2/(h\,\sigma^{2-\alpha})` Euler steps of size h. The exact score's own
    tangential drift, of relative size :math:`k = \sigma^\alpha\kappa` for von Mises(κ) data, raises
    the rate by the factor :math:`1 + k^2/6 + O(k^4)` (the gap of :math:`\partial_\theta^2 - k\sin\theta\,
    \partial_\theta`, second-order perturbation); the cloud's thickness :math:`\sigma^{1-\alpha/2}`
    adds an O(σ^{2−α}/R²) relative correction (diffusion at radius r is slower by R²/r²).

    Raises
    ------
    ValueError
        If ``sigma`` holds an entry ≤ 0 or non-finite, ``alpha`` is not in [0, 2), or ``radius``
        is not a finite scalar > 0.
    """
    sigma = check_positive("sigma", sigma)
    alpha = check_scalar("alpha", alpha)
    if not 0.0 <= alpha < 2.0:
        raise ValueError(f"alpha must lie in [0, 2) (got {alpha:.6g})")
    radius = check_scalar("radius", radius, positive=True)
    return sigma ** (2.0 - alpha) / radius**2
