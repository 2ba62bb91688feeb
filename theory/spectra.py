r"""Spectra of score Jacobians in closed form, and the local-dimension staircase (VE convention).

For data :math:`x_0 = Q_T z`, :math:`z\sim\mathcal N(0,\operatorname{diag}\lambda)` on a k-dimensional
subspace of :math:`\mathbb R^d`, noised as :math:`x_\sigma = x_0 + \sigma\varepsilon`, the score Jacobian
is :math:`J_\sigma = -\sigma^{-2}(I - Q_TQ_T^\top) - Q_T(\Lambda+\sigma^2 I)^{-1}Q_T^\top`
(paper000 §1.4; paper001 §2.2 with t = σ²).
"""

from __future__ import annotations

import numpy as np

from theory._validation import check_positive, check_probability

__all__ = ["linear_gaussian_singular_values", "local_dimension", "staircase_steps"]


def _variances(variances) -> np.ndarray:
    lam = check_positive("variances", variances)
    if lam.ndim != 1 or lam.size == 0:
        raise ValueError(f"variances must be a non-empty 1-D array (got shape {lam.shape})")
    return lam


def linear_gaussian_singular_values(variances, d: int, sigma) -> np.ndarray:
    r"""Singular values of the linear-Gaussian score Jacobian, sorted in decreasing order.

    Arguments
    ---------
    variances : (k,) tangent variances :math:`\lambda_j > 0`.
    d : ambient dimension, d ≥ k.
    sigma : VE noise level(s) σ > 0, scalar or any shape S.

    Returns
    -------
    Array of shape S + (d,).

    Notes
    -----
    .. math:: \{s_i\} = \{\sigma^{-2}\}^{\times (d-k)} \cup \{(\lambda_j + \sigma^2)^{-1}\}_{j=1}^k

    (paper000 §1.4 and T-A0; paper001 T1–T3). Since :math:`J_\sigma` is symmetric negative definite
    these are also :math:`-\mathrm{eig}(J_\sigma)`, and :math:`u_i = -v_i` for every singular pair.
    """
    lam = _variances(variances)
    if int(d) != d or d < lam.size:
        raise ValueError(f"d must be an integer >= k = {lam.size} (got {d})")
    s2 = check_positive("sigma", sigma)[..., None] ** 2
    normal = np.broadcast_to(1.0 / s2, (*s2.shape[:-1], int(d) - lam.size))
    tangent = 1.0 / (lam + s2)
    return -np.sort(-np.concatenate([normal, tangent], axis=-1), axis=-1)


def local_dimension(variances, sigma, c: float = 0.5) -> np.ndarray:
    r"""Local dimension of linear-Gaussian data by rule D1: the number of noise-normalised
    singular values :math:`\sigma^2 s_i` below ``c``.

    Arguments
    ---------
    variances : (k,) tangent variances :math:`\lambda_j > 0`.
    sigma : VE noise level(s) σ > 0, scalar or any shape.
    c : threshold in (0, 1); default 1/2.

    Returns
    -------
    Integer array of the shape of ``sigma``.

    Notes
    -----
    With :math:`s_j = 1/(\lambda_j+\sigma^2)`, :math:`\sigma^2 s_j < c \iff \lambda_j > (1/c - 1)\sigma^2`,
    so (paper000 §2.2 D1, reading [R])

    .. math:: d_{loc}(\sigma; c) = \#\{ j : \lambda_j > (1/c - 1)\,\sigma^2 \}.

    Normal directions have :math:`\sigma^2 s = 1 \geq c` and never count.
    """
    lam = _variances(variances)
    c = check_probability("c", c)
    s2 = check_positive("sigma", sigma) ** 2
    return np.sum(lam > (1.0 / c - 1.0) * s2[..., None], axis=-1)


def staircase_steps(variances, c: float = 0.5) -> np.ndarray:
    r"""Noise levels at which the D1 local dimension steps, in decreasing order.

    Notes
    -----
    .. math:: \sigma_j = \sqrt{\lambda_j}\,(1/c - 1)^{-1/2}

    (paper000 §2.2, T-A5): :math:`d_{loc} = j` for :math:`\sigma_{j+1} < \sigma < \sigma_j`. Changing c
    moves every step by the same factor :math:`(1/c-1)^{-1/2}`.
    """
    lam = _variances(variances)
    c = check_probability("c", c)
    return np.sort(np.sqrt(lam / (1.0 / c - 1.0)))[::-1]
