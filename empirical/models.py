r"""Score networks: an EDM-preconditioned MLP denoiser, and its conservative (gradient) counterpart.

Convention: VE, :math:`x_\sigma = x_0 + \sigma\varepsilon`. A network is a denoiser :math:`D(x;\sigma)`;
its score is :math:`g_\sigma(x) = (D(x;\sigma) - x)/\sigma^2` (Tweedie). Networks compute in float32;
:class:`ScoreModel` exposes them on numpy float64 arrays.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from theory._validation import as_points, as_sigma

__all__ = [
    "ACTIVATIONS",
    "ConservativeDenoiser",
    "EDMDenoiser",
    "NetworkConfig",
    "ScoreModel",
    "build_network",
    "edm_preconditioning",
]

ACTIVATIONS = {
    "relu": jax.nn.relu,
    "silu": jax.nn.silu,
    "gelu": jax.nn.gelu,
    "tanh": jnp.tanh,
    "softplus": jax.nn.softplus,
}


@dataclass(frozen=True)
class NetworkConfig:
    """Architecture of a score network (one hashable record, part of the cache key)."""

    kind: str = "edm"  # "edm": a free vector field; "conservative": score = ∇ₓ of a scalar network
    width: int = 128  # hidden units per layer
    depth: int = 3  # hidden layers
    activation: str = "silu"  # a key of ACTIVATIONS
    sigma_data: float = 1.0  # σ_d of the EDM preconditioning (data scale)

    def __post_init__(self):
        if self.kind not in ("edm", "conservative"):
            raise ValueError(f"kind must be 'edm' or 'conservative' (got {self.kind!r})")
        if self.width < 1 or self.depth < 1:
            raise ValueError(f"width and depth must be >= 1 (got {self.width}, {self.depth})")
        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {sorted(ACTIVATIONS)} (got {self.activation!r})"
            )
        if not self.sigma_data > 0:
            raise ValueError(f"sigma_data must be > 0 (got {self.sigma_data})")

    def to_dict(self) -> dict:
        return asdict(self)


def edm_preconditioning(sigma, sigma_data):
    r"""EDM preconditioning coefficients (Karras et al. 2022, Table 1; paper000 §3.3 R1), VE σ.

    Notes
    -----
    .. math:: c_{skip} = \frac{\sigma_d^2}{\sigma^2+\sigma_d^2},\quad
              c_{out} = \frac{\sigma\sigma_d}{\sqrt{\sigma^2+\sigma_d^2}},\quad
              c_{in} = \frac{1}{\sqrt{\sigma^2+\sigma_d^2}},\quad
              c_{noise} = \tfrac14 \log\sigma

    and :math:`D(x;\sigma) = c_{skip} x + c_{out} F(c_{in} x, c_{noise})`.
    """
    s2 = sigma**2 + sigma_data**2
    return (
        sigma_data**2 / s2,
        sigma * sigma_data / jnp.sqrt(s2),
        1.0 / jnp.sqrt(s2),
        jnp.log(sigma) / 4.0,
    )


# EDM-preconditioned denoiser D = c_skip x + c_out F(c_in x, c_noise) with F an MLP (Karras et al. 2022).
class EDMDenoiser(eqx.Module):
    """Unconstrained denoiser; its score field may be non-conservative."""

    net: eqx.nn.MLP
    sigma_data: float = eqx.field(static=True)

    def denoise(self, x, sigma):
        """D(x; σ) for one point x of shape (d,) and a scalar σ."""
        c_skip, c_out, c_in, c_noise = edm_preconditioning(sigma, self.sigma_data)
        return c_skip * x + c_out * self.net(jnp.append(c_in * x, c_noise))


# Conservative counterpart: the score is jax.grad of a scalar energy with the same preconditioning.
class ConservativeDenoiser(eqx.Module):
    r"""Denoiser whose score is an exact gradient, :math:`g_\sigma = \nabla_x E_\theta(x,\sigma)`.

    Notes
    -----
    With a scalar MLP :math:`\phi` and the EDM coefficients,

    .. math:: E_\theta(x,\sigma) = \sigma^{-2}\Big[\tfrac12 (c_{skip}-1)\|x\|^2
              + \frac{c_{out}}{c_{in}}\,\phi(c_{in}x, c_{noise})\Big],

    so :math:`D = x + \sigma^2\nabla_x E_\theta = c_{skip}x + c_{out}\nabla_u\phi(u, c_{noise})|_{u=c_{in}x}`:
    the EDM parametrisation with :math:`F = \nabla_u\phi`. Its Jacobian is symmetric by construction
    (the control of paper000 T-A3).
    """

    net: eqx.nn.MLP
    sigma_data: float = eqx.field(static=True)

    def energy(self, x, sigma):
        c_skip, c_out, c_in, c_noise = edm_preconditioning(sigma, self.sigma_data)
        phi = self.net(jnp.append(c_in * x, c_noise))
        return (0.5 * (c_skip - 1.0) * jnp.sum(x**2) + c_out / c_in * phi) / sigma**2

    def denoise(self, x, sigma):
        return x + sigma**2 * jax.grad(self.energy)(x, sigma)


def build_network(config: NetworkConfig, d: int, key) -> eqx.Module:
    """Initialise a float32 network of ``config`` for data in R^d."""
    out = d if config.kind == "edm" else "scalar"
    mlp = eqx.nn.MLP(
        d + 1,
        out,
        config.width,
        config.depth,
        activation=ACTIVATIONS[config.activation],
        dtype=jnp.float32,
        key=key,
    )
    cls = EDMDenoiser if config.kind == "edm" else ConservativeDenoiser
    return cls(mlp, float(config.sigma_data))


def _batched(fn):
    return jax.jit(jax.vmap(fn))


# Numpy front end of a trained network: the same score(x, sigma) API as the exact fields.
class ScoreModel:
    """A trained score network on numpy float64 arrays, the same API as :mod:`theory.distributions`.

    ``score``, ``denoiser``, ``jacobian`` (of the score) and ``denoiser_jacobian`` take ``x`` of shape
    (d,) or (n, d) and ``sigma`` (a positive scalar or one value per point). Evaluation is jit-compiled,
    vmapped and chunked (``chunk`` points per call; Jacobians of large batches would blow memory).
    ``meta`` holds the training record (configs, seed, seconds, loss curve).
    """

    def __init__(self, network: eqx.Module, d: int, meta: dict | None = None, chunk: int = 1024):
        self.network = network
        self.d = int(d)
        self.meta = dict(meta or {})
        self.chunk = int(chunk)
        denoise = network.denoise
        self._denoise = _batched(denoise)
        self._jac_denoise = _batched(jax.jacfwd(denoise))

    def _evaluate(self, fn, x, sigma):
        pts, single = as_points(x, self.d)
        sig = as_sigma(sigma, pts.shape[0])
        n = pts.shape[0]
        size = min(self.chunk, n)
        outs = []
        for start in range(0, n, size):
            xs = pts[start : start + size]
            ss = sig[start : start + size]
            pad = size - xs.shape[0]  # pad the last chunk: one compiled shape per chunk size
            if pad:
                xs = np.concatenate([xs, np.repeat(xs[-1:], pad, axis=0)])
                ss = np.concatenate([ss, np.repeat(ss[-1:], pad)])
            out = np.asarray(
                fn(jnp.asarray(xs, jnp.float32), jnp.asarray(ss, jnp.float32)), np.float64
            )
            outs.append(out[: size - pad])
        res = np.concatenate(outs)
        return (res[0] if single else res), pts, sig, single

    def denoiser(self, x, sigma) -> np.ndarray:
        """:math:`D(x;\\sigma)` (VE)."""
        return self._evaluate(self._denoise, x, sigma)[0]

    def score(self, x, sigma) -> np.ndarray:
        """:math:`g_\\sigma(x) = (D(x;\\sigma) - x)/\\sigma^2` (VE), in float64 from the float32 denoiser."""
        d_x, pts, sig, single = self._evaluate(self._denoise, x, sigma)
        s = (np.atleast_2d(d_x) - pts) / sig[:, None] ** 2
        return s[0] if single else s

    def denoiser_jacobian(self, x, sigma) -> np.ndarray:
        """:math:`\\partial D/\\partial x` by forward-mode autodiff, one d×d matrix per point."""
        return self._evaluate(self._jac_denoise, x, sigma)[0]

    def jacobian(self, x, sigma) -> np.ndarray:
        r"""Score Jacobian :math:`J = (\partial D/\partial x - I)/\sigma^2` (VE), autodiff of the network.

        Forming it from the denoiser Jacobian in float64 keeps the identity exact, so the normal
        singular values near :math:`1/\sigma^2` do not lose precision at small σ.
        """
        jd, _pts, sig, single = self._evaluate(self._jac_denoise, x, sigma)
        jd = jd[None] if single else jd
        j = (jd - np.eye(self.d)) / sig[:, None, None] ** 2
        return j[0] if single else j
