r"""1-D diffusions on the circle (paper003 T-C10, T-C13): the exact stationary law of a non-gradient
drift (the NESS) and the spectral gap of a reversible generator.

The on-manifold reduction of (tempered-score) Langevin on the unit circle is the angle diffusion

.. math:: d\theta = b(\theta)\,dt + \sqrt{2D}\,dW, \qquad \text{generator } L = b\,\partial_\theta
          + D\,\partial_\theta^2,

with b periodic. When :math:`\oint b \ne 0` the drift is not a gradient on the circle and the law
carries a constant probability current (a non-equilibrium steady state, Thm 5.2's setting [P]).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import eigsh
from scipy.special import logsumexp

from theory._validation import check_integer, check_scalar

__all__ = ["circle_generator_gap", "circle_ness"]


def _grid(n: int) -> tuple[np.ndarray, float]:
    h = 2.0 * np.pi / n
    return h * (np.arange(n) + 0.5), h


def _periodic_values(name: str, fn: Callable[[np.ndarray], np.ndarray], theta: np.ndarray):
    if not callable(fn):
        raise ValueError(f"{name} must be a callable of the angle (got {type(fn).__name__})")
    values = np.asarray(fn(theta), dtype=np.float64)
    if values.shape != theta.shape or not np.all(np.isfinite(values)):
        raise ValueError(f"{name} must map angles (n,) to finite values of shape (n,)")
    return values


def circle_ness(drift, n: int = 4_320, diffusion=1.0) -> tuple[np.ndarray, np.ndarray]:
    r"""The stationary law of dθ = b(θ) dt + √(2D) dW on the circle, as midpoint-cell masses.

    Arguments
    ---------
    drift : b, a periodic function of the angle, vectorised (angles (n,) → values (n,)).
    n : number of equal cells of [0, 2π) (≥ 16).
    diffusion : D > 0.

    Returns
    -------
    ``(theta, mass)``: the n cell midpoints and the law's cell masses (summing to 1).

    Notes
    -----
    With :math:`U' = -b/D` (U is not periodic: :math:`U(\theta + 2\pi) = U(\theta) - C`,
    :math:`C = \oint b/D`), the stationary Fokker–Planck equation :math:`(b\rho - D\rho')' = 0` with a
    constant current is solved by (paper003 T-C10)

    .. math:: \rho(\theta) \propto e^{-U(\theta)}\int_\theta^{\theta+2\pi} e^{U(\varphi)}\,d\varphi
              = e^{-P(\theta)}\int_0^{2\pi} e^{-\bar b s/D + P(\theta + s)}\,ds,

    where :math:`\bar b` is the mean of b and P the periodic part of U (from the FFT of b: spectral
    accuracy). The s-integral is a circular correlation (FFT) with trapezoid end weights (second
    order in the cell width), computed in log space: no overflow for large drifts. For a gradient
    drift (C = 0) it reduces to the Gibbs law :math:`\propto e^{-U}`.

    Raises
    ------
    ValueError
        If ``drift`` is not callable or not finite of the right shape, n < 16, or D ≤ 0.
    """
    n = check_integer("n", n, minimum=16)
    diffusion = check_scalar("diffusion", diffusion, positive=True)
    theta, h = _grid(n)
    b = _periodic_values("drift", drift, theta) / diffusion
    mean = b.mean()
    k = np.fft.rfftfreq(n, d=1.0 / n)
    coeffs = np.fft.rfft(b - mean)
    integral = np.zeros_like(coeffs)
    integral[1:] = coeffs[1:] / (1j * k[1:])
    p = -np.fft.irfft(integral, n=n)  # periodic part of U = −∫b/D
    s = h * np.arange(n)
    log_kernel = -mean * s + np.log(h)
    shift = log_kernel.max()
    kernel = np.exp(log_kernel - shift)
    top = p.max()
    g = np.exp(p - top)
    # S_i = Σ_j kernel_j g_{i+j}: a circular correlation
    corr = np.fft.irfft(np.conj(np.fft.rfft(kernel)) * np.fft.rfft(g), n=n)
    end = 0.5 * h * (np.exp(-2.0 * np.pi * mean) - 1.0) * np.exp(-shift)  # trapezoid ends
    corr = corr + end * g
    if np.any(corr <= 0):
        raise ValueError("drift is too strong for this grid (the NESS integral underflows)")
    log_rho = -p + np.log(corr)
    return theta, np.exp(log_rho - logsumexp(log_rho))


def circle_generator_gap(potential, n: int = 2_000) -> float:
    r"""Spectral gap of :math:`L = -U'\partial_\theta + \partial_\theta^2` on the circle (reversible).

    Arguments
    ---------
    potential : U, a periodic function of the angle, vectorised (angles (n,) → values (n,)).
    n : grid points (≥ 16); the note uses 2 000.

    Returns
    -------
    The smallest non-zero eigenvalue of −L (the Poincaré constant of :math:`e^{-U}d\theta`).

    Notes
    -----
    Detailed-balance finite differences (paper003 T-C13): neighbours jump at rates
    :math:`h^{-2}e^{-(U_j - U_i)/2}`, a Markov generator reversible for :math:`\pi_i \propto
    e^{-U_i}` and consistent to second order. Symmetrised by :math:`\pi^{1/2}` it is the periodic
    tridiagonal matrix with off-diagonal :math:`h^{-2}` and diagonal
    :math:`-h^{-2}(e^{-(U_{i+1}-U_i)/2} + e^{-(U_{i-1}-U_i)/2})`, whose null vector is
    :math:`\pi^{1/2}`. The two eigenvalues nearest a small negative shift come from shift-invert
    Lanczos; the gap is the larger. With U ≡ 0 it is :math:`(2/h^2)(1 - \cos h) = 1 - h^2/12 + \dots`.

    Raises
    ------
    ValueError
        If ``potential`` is not callable or not finite of the right shape, or n < 16.
    """
    n = check_integer("n", n, minimum=16)
    theta, h = _grid(n)
    u = _periodic_values("potential", potential, theta)
    up, down = np.roll(u, -1) - u, np.roll(u, 1) - u
    diag = (np.exp(-0.5 * up) + np.exp(-0.5 * down)) / h**2
    off = np.full(n, -1.0 / h**2)
    i = np.arange(n)
    rows = np.concatenate([i, i, i])
    cols = np.concatenate([i, (i + 1) % n, (i - 1) % n])
    matrix = sparse.csc_matrix((np.concatenate([diag, off, off]), (rows, cols)), shape=(n, n))
    values = eigsh(matrix, k=2, sigma=-1e-3, which="LM", return_eigenvectors=False, tol=0)
    return float(np.max(values))
