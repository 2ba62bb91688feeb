r"""A univariate two-layer ReLU network fitted to the empirical score at one noise level, with
weight decay (paper004 §2.1 and Fig. 2; note §3 and claim C9).

Convention: VE with noise **variance** t. The network models the dimensionless score
:math:`g(x) = t\,f(x)`,

.. math:: g_\theta(x) = \sum_{i=1}^m a_i\,\mathrm{relu}(w_i x + b_i) + c ,

and is fitted by full-batch Adam on a fixed sample :math:`x_j \sim p_t^{(n)}` to

.. math:: \mathcal J(\theta) = \frac1N\sum_j \big(g_\theta(x_j) - t\,s_t(x_j)\big)^2
          + \lambda\,\big(\|w\|^2 + \|a\|^2\big),

where :math:`s_t` is the exact empirical score. The first term is :math:`t\,L_t[f]` with the
note's score-matching loss :math:`L_t[f] = t\,\mathbb E\|f - \nabla\log p_t\|^2` (§1.1 [N]).
Weight decay on the input and output weights (not the biases) is the setting in which the minimal
norm of a univariate two-layer ReLU network is the non-smoothness :math:`\int|g''|`
(Savarese et al. 2019, as used by paper004).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from empirical import cache
from theory._validation import check_finite, check_scalar
from theory.smoothing import empirical_score

__all__ = ["FixedTimeConfig", "FixedTimeFit", "TwoLayerReLU", "fit_fixed_time", "train_fixed_time"]


class TwoLayerReLU(eqx.Module):
    r""":math:`g(x) = \sum_i a_i\,\mathrm{relu}(w_i x + b_i) + c` for scalar x (float32)."""

    w: jax.Array
    b: jax.Array
    a: jax.Array
    c: jax.Array

    def __init__(self, width: int, key, *, scale: float = 2.0):
        """Kinks :math:`-b_i/w_i` uniform on [−scale, scale], w = ±1, a ~ N(0, 1/m), c = 0."""
        k_w, k_k, k_a = jax.random.split(key, 3)
        self.w = jnp.where(jax.random.bernoulli(k_w, 0.5, (width,)), 1.0, -1.0).astype(jnp.float32)
        kinks = jax.random.uniform(k_k, (width,), jnp.float32, -scale, scale)
        self.b = -self.w * kinks
        self.a = jax.random.normal(k_a, (width,), jnp.float32) / jnp.sqrt(width)
        self.c = jnp.zeros((), jnp.float32)

    def __call__(self, x):
        """Evaluate on an array of scalars (any shape)."""
        lead = (1,) * jnp.ndim(x)  # explicit broadcasting (no implicit rank promotion)
        w, b, a = (p.reshape((*lead, -1)) for p in (self.w, self.b, self.a))
        return jnp.sum(a * jax.nn.relu(jnp.expand_dims(x, -1) * w + b), axis=-1) + self.c

    def weight_norm(self):
        r""":math:`\|w\|^2 + \|a\|^2`, the weight-decay penalty."""
        return jnp.sum(self.w**2) + jnp.sum(self.a**2)


@dataclass(frozen=True)
class FixedTimeConfig:
    """How the fixed-t network is fitted."""

    width: int = 256
    steps: int = 20_000  # full-batch Adam steps
    n_samples: int = 4_000  # fixed sample from p_t
    learning_rate: float = 3e-3  # peak, cosine decay to 1% after a 5% warm-up

    def __post_init__(self):
        for name in ("width", "steps", "n_samples"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive integer (got {v!r})")
        if self.steps < 20:
            raise ValueError(f"steps must be >= 20 (got {self.steps})")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0 (got {self.learning_rate})")


@dataclass
class FixedTimeFit:
    """A fitted network with its problem: ``g`` is :math:`t f` as a numpy callable."""

    network: TwoLayerReLU
    t: float
    lam: float
    points: np.ndarray  # (n, 1)
    config: FixedTimeConfig
    seed: int
    loss: float  # t·L_t[f] part of the objective at the end (without the penalty)
    seconds: float

    def g(self, x) -> np.ndarray:
        r""":math:`t\,f(x)` at scalar positions ``x`` (any shape), float64."""
        x = check_finite("x", x)
        return np.asarray(self.network(jnp.asarray(x, jnp.float32)), np.float64)

    def score(self, x) -> np.ndarray:
        r"""The network's score :math:`f(x) = g(x)/t`."""
        return self.g(x) / self.t

    def to_dict(self) -> dict:
        return {"t": self.t, "lam": self.lam, "config": asdict(self.config), "seed": self.seed}


def fit_fixed_time(points, t, lam, config: FixedTimeConfig, seed: int) -> FixedTimeFit:
    r"""Fit :class:`TwoLayerReLU` to :math:`t\,s_t` on a seeded sample of :math:`p_t^{(n)}`.

    Parameters
    ----------
    points : array_like, shape (n, 1), n >= 2
        Training points in one dimension.
    t : float, t > 0
        Noise variance (VE).
    lam : float, lam >= 0
        Weight-decay coefficient λ.
    config : FixedTimeConfig
    seed : int, >= 0
        Fixes the sample, the initialisation and nothing else (full batch).

    Returns
    -------
    FixedTimeFit
    """
    pts = check_finite("points", points)
    if pts.ndim != 2 or pts.shape[1] != 1 or pts.shape[0] < 2:
        raise ValueError(f"points must have shape (n, 1) with n >= 2 (got {pts.shape})")
    t = check_scalar("t", t, positive=True)
    lam = check_scalar("lam", lam)
    if lam < 0:
        raise ValueError(f"lam must be >= 0 (got {lam})")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer (got {seed!r})")
    rng = np.random.default_rng(int(seed))
    centres = pts[rng.integers(0, pts.shape[0], config.n_samples), 0]
    x = centres + np.sqrt(t) * rng.standard_normal(config.n_samples)
    target = t * empirical_score(x[:, None], t, pts)[:, 0]
    xs, ys = jnp.asarray(x, jnp.float32), jnp.asarray(target, jnp.float32)

    net = TwoLayerReLU(config.width, jax.random.PRNGKey(int(seed)))
    schedule = optax.warmup_cosine_decay_schedule(
        0.0, config.learning_rate, config.steps // 20, config.steps, config.learning_rate * 1e-2
    )
    opt = optax.adam(schedule)
    state = opt.init(net)

    def fit_loss(model):
        return jnp.mean((model(xs) - ys) ** 2)

    def objective(model):
        return fit_loss(model) + lam * model.weight_norm()

    @jax.jit
    def run(model, state):
        def step(carry, _):
            model, state = carry
            grads = jax.grad(objective)(model)
            updates, state = opt.update(grads, state, model)
            return (eqx.apply_updates(model, updates), state), None

        (model, state), _ = jax.lax.scan(step, (model, state), None, length=config.steps)
        return model, fit_loss(model)

    start = time.perf_counter()
    net, loss = run(net, state)
    loss = float(loss)
    if not np.isfinite(loss):
        raise FloatingPointError("fixed-t fit diverged (non-finite loss)")
    return FixedTimeFit(
        network=net,
        t=t,
        lam=lam,
        points=np.array(pts),
        config=config,
        seed=int(seed),
        loss=loss,
        seconds=time.perf_counter() - start,
    )


def train_fixed_time(
    points, t, lam, config: FixedTimeConfig, seed: int, *, cache_path=None
) -> FixedTimeFit:
    """:func:`fit_fixed_time`, or the cached fit of the same problem (:mod:`empirical.cache`).

    The key hashes the points, t, λ, the config, the seed and the cache format version; the entry
    is written atomically, so an interrupted fit leaves nothing that loads.
    """
    pts = check_finite("points", points)
    record = {
        "kind": "two_layer_fixed_t",
        "points": pts.tolist(),
        "t": float(t),
        "lam": float(lam),
        "config": asdict(config),
        "seed": int(seed),
    }
    _, path = cache.entry_path(record, cache_path)
    hit = cache.load(path, TwoLayerReLU(config.width, jax.random.PRNGKey(0)))
    if hit is not None:
        net, meta = hit
        return FixedTimeFit(
            net,
            float(t),
            float(lam),
            np.array(pts),
            config,
            int(seed),
            meta["loss"],
            meta["seconds"],
        )
    fit = fit_fixed_time(pts, t, lam, config, seed)
    cache.save(path, fit.network, {**record, "loss": fit.loss, "seconds": fit.seconds})
    return fit
