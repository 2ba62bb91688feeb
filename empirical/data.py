"""Draw samples from the data specs of :mod:`theory.distributions`, with an explicit seed."""

from __future__ import annotations

import numpy as np

from theory._validation import check_positive
from theory.distributions import FiniteSet, GaussianMixture, LinearGaussian
from theory.graph_surface import GraphSurface

__all__ = ["add_noise", "linear_manifold", "random_projection", "sample"]


def _rng(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer or a numpy Generator (got {seed!r})")
    return np.random.default_rng(int(seed))


def _count(n) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n must be a positive integer (got {n!r})")
    return int(n)


def sample(spec, n: int, seed) -> np.ndarray:
    """Draw ``n`` clean data points :math:`x_0 \\sim p_0` from ``spec``; returns (n, d) float64.

    ``seed`` is a non-negative integer or a ``numpy.random.Generator``: the same seed gives the
    same points.
    """
    n = _count(n)
    rng = _rng(seed)
    if isinstance(spec, LinearGaussian):
        z = rng.standard_normal((n, spec.k)) * np.sqrt(spec.variances)
        return z @ spec.basis.T
    if isinstance(spec, GaussianMixture):
        comp = rng.choice(spec.weights.size, size=n, p=spec.weights)
        eps = rng.standard_normal((n, spec.d))
        root = spec.eigvecs * np.sqrt(spec.eigvals)[:, None, :]  # Σ_k = R_k R_kᵀ
        return spec.means[comp] + np.einsum("nde,ne->nd", root[comp], eps)
    if isinstance(spec, FiniteSet):
        return spec.points[rng.integers(0, spec.points.shape[0], size=n)].copy()
    if isinstance(spec, GraphSurface):
        return spec.embed(_graph_surface_chart(spec, n, rng))
    raise ValueError(
        "spec must be a LinearGaussian, GaussianMixture, FiniteSet or GraphSurface "
        f"(got {type(spec).__name__})"
    )


def _graph_surface_chart(spec: GraphSurface, n: int, rng: np.random.Generator) -> np.ndarray:
    r"""n chart points u ~ p(u) ∝ q₀(u)|J_φ(u)| on the square, by rejection from the mixture q₀.

    A draw from q₀ is kept if it lies in the square and with probability
    :math:`|J_\varphi(u)| / \sqrt{1 + A^2 f^2}` (the bound of the area factor).
    """
    bound = np.sqrt(1.0 + (spec.amplitude * spec.frequency) ** 2)
    out = np.empty((0, 2))
    while out.shape[0] < n:
        u = spec.means[rng.integers(0, 4, size=2 * n)] + spec.std * rng.standard_normal((2 * n, 2))
        keep = np.all(np.abs(u) <= spec.half_width, axis=1)
        keep &= rng.uniform(size=2 * n) * bound <= spec.area_factor(u)
        out = np.concatenate([out, u[keep]])
    return out[:n]


def add_noise(x0, sigma, seed) -> np.ndarray:
    """VE forward noising :math:`x_\\sigma = x_0 + \\sigma\\varepsilon`; ``sigma`` scalar or one per point."""
    x0 = np.asarray(x0, dtype=np.float64)
    if x0.ndim != 2:
        raise ValueError(f"x0 must have shape (n, d) (got {x0.shape})")
    s = check_positive("sigma", sigma)
    if s.ndim == 1:
        if s.shape[0] != x0.shape[0]:
            raise ValueError(
                f"sigma must be a scalar or have shape ({x0.shape[0]},) (got {s.shape})"
            )
        s = s[:, None]
    return x0 + s * _rng(seed).standard_normal(x0.shape)


def random_projection(n_ambient: int, n_latent: int, seed) -> np.ndarray:
    """F ∈ R^{N×D} with i.i.d. N(0, 1/N) entries (paper001 §2.2, the note's variant (a)), seeded."""
    n_ambient, n_latent = _count(n_ambient), _count(n_latent)
    if n_latent >= n_ambient:
        raise ValueError(f"n_latent must be < n_ambient = {n_ambient} (got {n_latent})")
    return _rng(seed).standard_normal((n_ambient, n_latent)) / np.sqrt(n_ambient)


def linear_manifold(projection, taus) -> GaussianMixture:
    """Data x_0 = F z, z ~ N(0, diag(τ)): the Gaussian N(0, F diag(τ) Fᵀ) of rank D (paper001 §2.2)."""
    f = np.asarray(projection, dtype=np.float64)
    taus = check_positive("taus", taus)
    if f.ndim != 2 or taus.shape != (f.shape[1],):
        raise ValueError(
            f"taus must have one entry per column of the projection ({f.shape[1:]}), got {taus.shape}"
        )
    cov = (f * taus) @ f.T
    cov = 0.5 * (cov + cov.T)
    return GaussianMixture([1.0], np.zeros((1, f.shape[0])), cov[None])
