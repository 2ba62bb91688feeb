r"""Score networks: an EDM-preconditioned MLP denoiser, its conservative (gradient) counterpart, and
the time-conditioned ReLU network of the score_smoothing notebook (paper004 §6).

Convention: VE, :math:`x_\sigma = x_0 + \sigma\varepsilon`. A network is a denoiser :math:`D(x;\sigma)`;
its score is :math:`g_\sigma(x) = (D(x;\sigma) - x)/\sigma^2` (Tweedie). A network that computes the
scaled score :math:`\sigma g_\sigma(x)` itself (``scaled_score``, e.g. :class:`TimeConditionedScore`)
also has ``denoise = x + σ·scaled_score``, so every sampler sees the same interface. Networks compute
in float32; :class:`ScoreModel` exposes them on numpy float64 arrays.

Weight decay (:mod:`empirical.training`) is applied to the leaves :func:`decay_mask` selects: every
array of the EDM and conservative MLPs, only the main net of :class:`TimeConditionedScore`.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from theory._validation import as_points, as_sigma

__all__ = [
    "ACTIVATIONS",
    "KINDS",
    "ConservativeDenoiser",
    "EDMDenoiser",
    "NetworkConfig",
    "ScoreModel",
    "TimeConditionedScore",
    "build_network",
    "decay_mask",
    "edm_preconditioning",
]

ACTIVATIONS = {
    "relu": jax.nn.relu,
    "silu": jax.nn.silu,
    "gelu": jax.nn.gelu,
    "tanh": jnp.tanh,
    "softplus": jax.nn.softplus,
}


#: Network kinds: "edm" a free vector field; "conservative" score = ∇ₓ of a scalar network;
#: "time_conditioned" the notebook's ReLU MLP on [x, emb(log t)] (:class:`TimeConditionedScore`).
KINDS = ("edm", "conservative", "time_conditioned")


@dataclass(frozen=True)
class NetworkConfig:
    """Architecture of a score network (one hashable record, part of the cache key).

    For ``kind="time_conditioned"`` the main net has ``depth`` hidden layers of ``width`` units
    (the notebook's "2-layer" net is ``depth=1``) and ``sigma_data`` is not used.
    """

    kind: str = "edm"  # a key of KINDS
    width: int = 128  # hidden units per layer
    depth: int = 3  # hidden layers
    activation: str = "silu"  # a key of ACTIVATIONS
    sigma_data: float = 1.0  # σ_d of the EDM preconditioning (data scale)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS} (got {self.kind!r})")
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


#: The time embedding of :class:`TimeConditionedScore`: a 1 → EMBED_HIDDEN → EMBED_FEATURES ReLU net.
EMBED_HIDDEN, EMBED_FEATURES = 32, 3


# The notebook's time-conditioned network (paper004 §6.1-6.2; shared/research/external_facts.md).
class TimeConditionedScore(eqx.Module):
    r"""A ReLU MLP of :math:`[x, e(\log t)]` whose output is the scaled score :math:`\sqrt t\,s_t(x)`.

    Notes
    -----
    With :math:`t = \sigma^2` and :math:`\ell = \log t`,

    .. math:: e(\ell) = [\ell,\ \mathrm{MLP}_{1\to32\to3}(\ell)], \qquad
              o(x, t) = M([x, e(\ell)])\,\big(1 + h(e(\ell))\big), \qquad
              s_t(x) = o(x, t)/\sqrt t ,

    with M the main ReLU MLP (``depth`` hidden layers of ``width``, output in R^d) and h a scalar
    linear head. From the facts: the embedding is a small 1→32→3 ReLU net with a concat skip,
    the main net sees [x, embedding], the output is multiplied by (1 + a zero-initialised scalar
    head of log t), the output is √t·score, and weight decay acts on the main net only.

    Choices where the facts are silent (documented here, part of the network's definition):

    * the concat skip passes ℓ = log t itself, so the embedding has 1 + 3 = 4 features;
    * the head reads the 4 embedding features (a function of log t only), weights and bias zero;
    * the main net's first layer is initialised as the notebook's fixed-t net (Fig. 2):
      weights N(0, 1)/√(fan_in + width), biases 0; its output layer (weights and bias) starts at
      0, as the fixed-t net's second layer does;
    * the embedding MLP keeps equinox's default initialisation (uniform ±1/√fan_in);
    * the embedding's hidden layer is ReLU (as the main net); its 3 outputs are linear.
    """

    embed: eqx.nn.MLP
    main: eqx.nn.MLP
    head: eqx.nn.Linear

    def __init__(self, d: int, width: int, depth: int, activation, key):
        k_embed, k_main, k_first, k_head = jax.random.split(key, 4)
        self.embed = eqx.nn.MLP(
            1,
            EMBED_FEATURES,
            EMBED_HIDDEN,
            1,
            activation=jax.nn.relu,
            dtype=jnp.float32,
            key=k_embed,
        )
        n_in = d + 1 + EMBED_FEATURES
        main = eqx.nn.MLP(
            n_in, d, width, depth, activation=activation, dtype=jnp.float32, key=k_main
        )
        first, last = main.layers[0], main.layers[-1]
        main = eqx.tree_at(
            lambda m: (
                m.layers[0].weight,
                m.layers[0].bias,
                m.layers[-1].weight,
                m.layers[-1].bias,
            ),
            main,
            (
                jax.random.normal(k_first, first.weight.shape, jnp.float32)
                / jnp.sqrt(jnp.float32(n_in + width)),
                jnp.zeros_like(first.bias),
                jnp.zeros_like(last.weight),
                jnp.zeros_like(last.bias),
            ),
        )
        self.main = main
        head = eqx.nn.Linear(1 + EMBED_FEATURES, "scalar", dtype=jnp.float32, key=k_head)
        self.head = eqx.tree_at(
            lambda h: (h.weight, h.bias),
            head,
            (jnp.zeros_like(head.weight), jnp.zeros_like(head.bias)),
        )

    def features(self, log_t):
        r"""The time embedding :math:`[\ell, \mathrm{MLP}(\ell)]` of a scalar ℓ = log t."""
        ell = jnp.reshape(log_t, (1,))
        return jnp.concatenate([ell, self.embed(ell)])

    def scaled_score(self, x, sigma):
        r""":math:`\sigma\,s(x; \sigma)` = the raw output, for one point x of shape (d,) and σ = √t."""
        e = self.features(2.0 * jnp.log(sigma))
        return self.main(jnp.concatenate([x, e])) * (1.0 + self.head(e))

    def denoise(self, x, sigma):
        r"""Tweedie's denoiser :math:`x + \sigma^2 s = x + \sigma\cdot` :meth:`scaled_score`."""
        return x + sigma * self.scaled_score(x, sigma)

    def decay_mask(self):
        """Weight decay on the main net's weights and biases only (not the embedding, not the head)."""
        mask = jax.tree_util.tree_map(lambda _: False, eqx.filter(self, eqx.is_array))
        main = jax.tree_util.tree_map(lambda _: True, eqx.filter(self.main, eqx.is_array))
        return eqx.tree_at(lambda m: m.main, mask, main)


def decay_mask(network: eqx.Module):
    """Which array leaves of ``network`` weight decay acts on: a pytree of bools, the structure of
    ``eqx.filter(network, eqx.is_array)``. The network's own ``decay_mask()`` if it has one, else
    every array (the EDM and conservative MLPs are one main net)."""
    own = getattr(network, "decay_mask", None)
    if own is not None:
        return own()
    return jax.tree_util.tree_map(lambda _: True, eqx.filter(network, eqx.is_array))


def build_network(config: NetworkConfig, d: int, key) -> eqx.Module:
    """Initialise a float32 network of ``config`` for data in R^d."""
    if config.kind == "time_conditioned":
        return TimeConditionedScore(
            d, config.width, config.depth, ACTIVATIONS[config.activation], key
        )
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


@eqx.filter_jit
def _over_points(network: eqx.Module, method: str, xs, ss):
    """``method`` of ``network`` at each point: vmapped, compiled once per architecture (the
    weights are arguments, so networks of the same shapes share the program)."""
    fns = {
        "denoise": lambda: network.denoise,
        "jac_denoise": lambda: jax.jacfwd(network.denoise),
        "scaled_score": lambda: network.scaled_score,
    }
    return jax.vmap(fns[method]())(xs, ss)


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
        self._denoise = functools.partial(_over_points, network, "denoise")
        self._jac_denoise = functools.partial(_over_points, network, "jac_denoise")
        has_scaled = getattr(network, "scaled_score", None) is not None
        self._scaled = (
            functools.partial(_over_points, network, "scaled_score") if has_scaled else None
        )

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
        """:math:`g_\\sigma(x) = (D(x;\\sigma) - x)/\\sigma^2` (VE), in float64 from the float32 denoiser.

        A network with a ``scaled_score`` (it outputs σ·g itself) is divided by σ directly, which
        avoids the cancellation in D − x at small σ.
        """
        if self._scaled is not None:
            out, _pts, sig, single = self._evaluate(self._scaled, x, sigma)
            s = np.atleast_2d(out) / sig[:, None]
            return s[0] if single else s
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
