r"""Exact scores, score Jacobians, denoisers and log-densities of noised data laws (VE convention).

Private: the computation behind the fields of :mod:`theory.distributions` (and the loss in
:mod:`theory.smoothing`), kept apart from their input checks as ``scipy.stats`` keeps ``_logpdf``
apart from ``_process_parameters``. Every function here takes points ``x`` of shape (n, d) and a
noise level ``sigma`` of shape (n,), already validated by the caller, and works in float64; it
checks nothing. Call them through :class:`theory.distributions.LinearGaussian`,
:class:`~theory.distributions.GaussianMixture` and :class:`~theory.distributions.FiniteSet`. The noised law is
:math:`p_\sigma = p_0 * \mathcal N(0, \sigma^2 I)` (VE: :math:`x_\sigma = x_0 + \sigma\varepsilon`).
Tweedie's formula ties the three vector fields together:

.. math:: D(x;\sigma) = \mathbb E[x_0 \mid x_\sigma = x] = x + \sigma^2 \nabla_x \log p_\sigma(x).

Jacobians are of the score unless a name says denoiser.
"""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp, softmax

__all__ = [
    "finite_set_fields",
    "finite_set_log_density",
    "linear_gaussian_jacobian",
    "linear_gaussian_log_density",
    "linear_gaussian_score",
    "mixture_fields",
    "mixture_log_density",
]

_LOG_2PI = np.log(2.0 * np.pi)


# --------------------------------------------------------------------------------------------
# Gaussian on a k-dimensional linear subspace


def linear_gaussian_score(x, sigma, variances, basis):
    r"""Score of :math:`x_0 = Q_T z`, :math:`z \sim \mathcal N(0, \Lambda)`, noised to level σ (VE).

    Notes
    -----
    With :math:`P_T = Q_T Q_T^\top` (paper000 §1.4):

    .. math:: \nabla \log p_\sigma(x) = -\frac{(I - P_T)x}{\sigma^2}
              - Q_T (\Lambda + \sigma^2 I_k)^{-1} Q_T^\top x .
    """
    s2 = sigma[:, None] ** 2
    z = x @ basis  # tangent coordinates, (n, k)
    normal = x - z @ basis.T
    return -normal / s2 - (z / (variances[None, :] + s2)) @ basis.T


def linear_gaussian_jacobian(x, sigma, variances, basis):
    r"""Score Jacobian of the noised linear-subspace Gaussian (constant in x; VE).

    Notes
    -----
    .. math:: J_\sigma = -\sigma^{-2}(I - Q_T Q_T^\top) - Q_T(\Lambda + \sigma^2 I_k)^{-1} Q_T^\top

    Its singular values are :math:`1/\sigma^2` (multiplicity d − k) and :math:`1/(\lambda_j+\sigma^2)`
    (paper000 §1.4, paper001 §2.2).
    """
    _n, d = x.shape
    s2 = sigma**2
    eye = np.eye(d)
    p_t = basis @ basis.T
    tangent = np.einsum("ik,nk,jk->nij", basis, 1.0 / (variances[None, :] + s2[:, None]), basis)
    return -(eye - p_t)[None] / s2[:, None, None] - tangent


def linear_gaussian_log_density(x, sigma, variances, basis):
    r"""Log-density of the noised linear-subspace Gaussian (VE).

    Notes
    -----
    With tangent coordinates :math:`z = Q_T^\top x` and normal residual :math:`r = x - Q_T z`:

    .. math:: \log p_\sigma(x) = -\tfrac12 \sum_j \frac{z_j^2}{\lambda_j+\sigma^2}
              - \frac{\|r\|^2}{2\sigma^2} - \tfrac12\sum_j \log 2\pi(\lambda_j+\sigma^2)
              - \tfrac{d-k}{2}\log 2\pi\sigma^2 .
    """
    d = x.shape[1]
    k = variances.shape[0]
    s2 = sigma**2
    z = x @ basis
    r = x - z @ basis.T
    var_t = variances[None, :] + s2[:, None]
    return (
        -0.5 * np.sum(z**2 / var_t, axis=1)
        - 0.5 * np.sum(r**2, axis=1) / s2
        - 0.5 * np.sum(_LOG_2PI + np.log(var_t), axis=1)
        - 0.5 * (d - k) * (_LOG_2PI + np.log(s2))
    )


# --------------------------------------------------------------------------------------------
# Gaussian mixture (covariances may be singular: a component may sit on a subspace)


def _component_terms(x, sigma, weights, means, eigvals, eigvecs):
    """Per-component scores s_k, inverse variances and log posterior weights, all (n, K, ...)."""
    s2 = sigma[:, None, None] ** 2
    y = x[:, None, :] - means[None, :, :]  # (n, K, d)
    coords = np.einsum("nkd,kde->nke", y, eigvecs)  # coordinates in each eigenbasis
    inv_var = 1.0 / (eigvals[None, :, :] + s2)  # (n, K, d)
    s_k = -np.einsum("kde,nke->nkd", eigvecs, inv_var * coords)
    log_norm = -0.5 * np.sum(inv_var * coords**2 - np.log(inv_var) + _LOG_2PI, axis=2)
    log_joint = np.log(weights)[None, :] + log_norm  # (n, K)
    return s_k, inv_var, log_joint


def mixture_fields(x, sigma, weights, means, eigvals, eigvecs, *, jacobian: bool):
    r"""Score (and optionally Jacobian) of a noised Gaussian mixture (VE).

    Notes
    -----
    With :math:`C_k = \Sigma_k + \sigma^2 I`, :math:`s_k = -C_k^{-1}(x - m_k)`, posterior weights
    :math:`w_k \propto \pi_k \mathcal N(x; m_k, C_k)` and :math:`s = \sum_k w_k s_k` (paper000 §1.4):

    .. math:: J = -\sum_k w_k C_k^{-1} + \sum_k w_k (s_k - s)(s_k - s)^\top ,

    which equals :math:`\sum_k w_k(-C_k^{-1}) + \sum_k w_k s_k s_k^\top - s s^\top`; the centred
    form is used because it loses no precision when one component dominates.
    """
    s_k, inv_var, log_joint = _component_terms(x, sigma, weights, means, eigvals, eigvecs)
    w = softmax(log_joint, axis=1)  # (n, K)
    score = np.einsum("nk,nkd->nd", w, s_k)
    if not jacobian:
        return score, None
    precision = np.einsum("kde,nke,kfe->nkdf", eigvecs, inv_var, eigvecs)
    dev = s_k - score[:, None, :]
    jac = -np.einsum("nk,nkdf->ndf", w, precision) + np.einsum("nk,nkd,nkf->ndf", w, dev, dev)
    return score, jac


def mixture_log_density(x, sigma, weights, means, eigvals, eigvecs):
    r"""Log-density of a noised Gaussian mixture: :math:`\log\sum_k \pi_k\mathcal N(x; m_k, C_k)`."""
    _, _, log_joint = _component_terms(x, sigma, weights, means, eigvals, eigvecs)
    return logsumexp(log_joint, axis=1)


# --------------------------------------------------------------------------------------------
# Finite training set (the empirical score)


def _finite_set_logits(x, sigma, points):
    """Differences :math:`y_i - x` as a (d, m, n) array and the logits, (m, n).

    The batch axis n is innermost and contiguous, and the sums over the d coordinates run as
    loops over (m, n) rows: numpy is several times faster so than with a short innermost axis.
    """
    diff = points.T[:, :, None] - np.ascontiguousarray(x.T)[:, None, :]  # y_i - x, formed directly
    sq = diff[0] ** 2
    for row in diff[1:]:
        sq += row**2
    logits = -0.5 * sq / sigma**2
    return diff, logits


# Below this, exp(z) is under the smallest normal float64 (2.2e-308): such a weight changes no sum,
# and exp's subnormal and underflow paths are slow (the common case at small σ), so it is set to 0.
_LOG_TINY = float(np.log(np.finfo(np.float64).tiny))


def _softmax_points(logits):
    """Softmax over the points (axis 0) of (m, n) logits, shifted by their maximum per column."""
    z = logits - logits.max(axis=0)
    w = np.zeros_like(z)
    np.exp(z, out=w, where=z > _LOG_TINY)
    w /= w.sum(axis=0)
    return w


def finite_set_fields(x, sigma, points, *, jacobian: bool):
    r"""Empirical score (and Jacobian) of the noised uniform law on a finite set (VE).

    Notes
    -----
    With :math:`w_i(x) = \operatorname{softmax}_i(-\|x - y_i\|^2 / 2\sigma^2)` (log-sum-exp, so it is
    stable down to σ = 1e-4) and :math:`\mu(x) = \sum_i w_i (y_i - x)`:

    .. math:: \nabla \log p_\sigma(x) = \mu(x) / \sigma^2, \qquad
              J = -\frac{I}{\sigma^2} + \frac{1}{\sigma^4}\sum_i w_i (y_i - x - \mu)(y_i - x - \mu)^\top .
    """
    diff, logits = _finite_set_logits(x, sigma, points)
    w = _softmax_points(logits)  # (m, n)
    mu = np.stack([np.sum(w * row, axis=0) for row in diff])  # (d, n)
    s2 = sigma**2
    score = (mu / s2).T
    if not jacobian:
        return score, None
    dev = diff - mu[:, None, :]
    cov = np.einsum("mn,dmn,fmn->ndf", w, dev, dev)
    d = x.shape[1]
    jac = -np.eye(d)[None] / s2[:, None, None] + cov / (s2**2)[:, None, None]
    return score, jac


def finite_set_log_density(x, sigma, points):
    r"""Log-density :math:`\log \frac1m \sum_i \mathcal N(x; y_i, \sigma^2 I)` of the noised point set."""
    _, logits = _finite_set_logits(x, sigma, points)
    m, d = points.shape
    return logsumexp(logits, axis=0) - np.log(m) - 0.5 * d * (_LOG_2PI + 2.0 * np.log(sigma))
