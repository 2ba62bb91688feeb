r"""Univariate two-layer ReLU networks fitted to the empirical score at one noise level, with
weight decay (paper004 §2.1 and Fig. 2; note §3 and claim C9).

Convention: VE with noise **variance** t. Two recipes live here.

**The notebook's Fig. 2 recipe** (:class:`SkipReLU`, :func:`fit_regression`,
:func:`train_regression`; shared/research/external_facts.md). The network

.. math:: o_\theta(x) = \sum_{i=1}^m a_i\,\mathrm{relu}(w_i x + b_i) + c + r\,x

(width m = 1024, a linear skip r x and an output bias c) regresses onto :math:`\sqrt t\,s_t` for
fresh samples :math:`x \sim p_t^{(n)}` at every step,

.. math:: \ell(\theta) = \frac1B\sum_{j=1}^B \big(\sqrt t\,s_t(x_j) - o_\theta(x_j)\big)^2 ,

and the score is :math:`o_\theta/\sqrt t`. The expected loss is exactly the note's score-matching
loss :math:`L_t[f] = t\,\mathbb E\|f - \nabla\log p_t\|^2` of :math:`f = o_\theta/\sqrt t`
(§1.1 [N]). Weight decay is decoupled (AdamW): only w, b and a are decayed, not the skip r and
not the output bias c. Adam's moments and ε are optax's defaults (the facts are silent).

**The project's first recipe** (:class:`TwoLayerReLU`, :func:`fit_fixed_time`,
:func:`train_fixed_time`): :math:`g(x) = t\,f(x) = \sum_i a_i\,\mathrm{relu}(w_i x + b_i) + c`,
fitted by full-batch Adam on a fixed sample :math:`x_j \sim p_t^{(n)}` to

.. math:: \mathcal J(\theta) = \frac1N\sum_j \big(g_\theta(x_j) - t\,s_t(x_j)\big)^2
          + \lambda\,\big(\|w\|^2 + \|a\|^2\big),

where :math:`s_t` is the exact empirical score. The first term is :math:`t\,L_t[f]`. Weight decay
on the input and output weights (not the biases) is the setting in which the minimal norm of a
univariate two-layer ReLU network is the non-smoothness :math:`\int|g''|` (Savarese et al. 2019,
as used by paper004). It is kept as a robustness check of C9.
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

__all__ = [
    "RECIPE",
    "FixedTimeConfig",
    "FixedTimeFit",
    "RegressionConfig",
    "RegressionFit",
    "SkipReLU",
    "TwoLayerReLU",
    "decay_mask",
    "fit_fixed_time",
    "fit_regression",
    "fixed_time_loss",
    "make_optimizer",
    "regression_target",
    "sample_noised",
    "train_fixed_time",
    "train_regression",
]


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
    key, path = cache.entry_path(record, cache_path)
    hit = cache.load(
        path, eqx.filter_eval_shape(TwoLayerReLU, config.width, jax.random.PRNGKey(0)), key
    )
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
    cache.save(path, fit.network, {**record, "loss": fit.loss, "seconds": fit.seconds}, key)
    return fit


# --------------------------------------------------------------------------------------------
# The notebook's Fig. 2 recipe: regression onto √t·ESF with a linear skip and decoupled decay

#: What the :func:`fit_regression` arithmetic is, beyond :class:`RegressionConfig`; it enters the
#: cache key, so a change here (documented) refits instead of loading a fit of another recipe.
RECIPE = {
    "objective": "mean over a fresh batch x ~ p_t of (sqrt(t) ESF_t(x) - o(x))^2; score = o / sqrt(t)",
    "network": "o(x) = sum_i a_i relu(w_i x + b_i) + c + r x, float32",
    "init": "w ~ N(0, 1)/sqrt(1 + width), b = 0, a = 0, c = 0, r = 0",
    "optimizer": "optax.adamw(lr, b1=0.9, b2=0.999, eps=1e-8, weight_decay=lam), constant lr",
    "decayed": "w, b, a (not the skip r, not the output bias c)",
    "keys": "PRNGKey(seed) -> (init, data, unused); step keys = split(data, steps)",
}


class SkipReLU(eqx.Module):
    r""":math:`o(x) = \sum_i a_i\,\mathrm{relu}(w_i x + b_i) + c + r\,x` for scalar x (float32).

    The notebook's fixed-t network of Fig. 2: one hidden ReLU layer (weights w, biases b), an
    output layer (weights a, bias c) and a linear skip r. Initialisation as in the notebook: the
    first-layer weights :math:`w_i \sim \mathcal N(0, 1)/\sqrt{1 + m}` (fan-in plus fan-out), the
    output layer and the skip at zero. The notebook's hidden-bias initialisation is not recorded
    in the facts; b = 0 here (the usual default of a dense layer's bias), so every kink starts
    at x = 0 and moves with b.
    """

    w: jax.Array
    b: jax.Array
    a: jax.Array
    c: jax.Array
    r: jax.Array

    def __init__(self, width: int, key):
        self.w = jax.random.normal(key, (width,), jnp.float32) / jnp.sqrt(1.0 + width)
        self.b = jnp.zeros((width,), jnp.float32)
        self.a = jnp.zeros((width,), jnp.float32)
        self.c = jnp.zeros((), jnp.float32)
        self.r = jnp.zeros((), jnp.float32)

    def __call__(self, x):
        """Evaluate on an array of scalars (any shape).

        The output layer is a matrix-vector product (about 1.7 times faster on CPU than the
        fused multiply-and-sum of :class:`TwoLayerReLU`, forward and backward).
        """
        x = jnp.asarray(x)
        flat = x.reshape(-1)
        hidden = jax.nn.relu(flat[:, None] * self.w[None, :] + self.b[None, :])
        return (hidden @ self.a + self.c + self.r * flat).reshape(x.shape)


def decay_mask(net: SkipReLU) -> SkipReLU:
    """The weight-decay mask of ``net``: True for w, b, a; False for the skip r and output bias c."""
    mask = jax.tree_util.tree_map(lambda _: True, net)
    return eqx.tree_at(lambda m: (m.c, m.r), mask, (False, False))


def make_optimizer(lam: float, learning_rate: float, net: SkipReLU):
    """AdamW with decoupled weight decay ``lam`` on the parameters :func:`decay_mask` selects."""
    return optax.adamw(learning_rate, weight_decay=lam, mask=decay_mask(net))


def sample_noised(key, y, t: float, batch: int):
    r"""``batch`` samples of :math:`p_t^{(n)} = \frac1n\sum_k \mathcal N(y_k, t)`; ``y`` has shape (n,)."""
    k_idx, k_eps = jax.random.split(key)
    idx = jax.random.randint(k_idx, (batch,), 0, y.shape[0])
    return y[idx] + jnp.sqrt(jnp.float32(t)) * jax.random.normal(k_eps, (batch,), jnp.float32)


def regression_target(x, t: float, y):
    r""":math:`\sqrt t\,s_t(x)` for the empirical score of the points ``y`` (shape (n,)), in JAX.

    :math:`s_t(x) = \sum_k w_k(x)\,(y_k - x)/t` with softmax weights
    :math:`w_k \propto \exp(-(x - y_k)^2/2t)`; the differences are formed directly.
    """
    diff = jnp.expand_dims(x, -1) - y.reshape((1,) * jnp.ndim(x) + (-1,))
    weights = jax.nn.softmax(-(diff**2) / (2.0 * t), axis=-1)
    return -jnp.sum(weights * diff, axis=-1) / jnp.sqrt(jnp.float32(t))


def fixed_time_loss(score, t, points, *, per_width: int = 20, reach: float = 10.0) -> float:
    r"""The note's :math:`L_t[f] = t\,\mathbb E_{x \sim p_t}|f(x) - s_t(x)|^2` of a 1-D field.

    Deterministic: the trapezoid rule with ``per_width`` nodes per :math:`\min(t, \sqrt t)` (the
    ESF turns over a width of order t between two points), from the lowest point − ``reach``
    standard deviations to the highest + ``reach``. ``score`` maps float64 positions to scores.
    """
    pts = check_finite("points", points)
    t = check_scalar("t", t, positive=True)
    std = np.sqrt(t)
    h = min(std, t) / per_width
    x = np.arange(pts.min() - reach * std, pts.max() + reach * std + h, h)
    density = np.mean(
        np.exp(-((x[:, None] - pts[None, :, 0]) ** 2) / (2 * t)) / np.sqrt(2 * np.pi * t), axis=1
    )
    err = np.asarray(score(x), np.float64) - empirical_score(x[:, None], t, pts)[:, 0]
    return float(t * np.trapezoid(density * err**2, x))


@dataclass(frozen=True)
class RegressionConfig:
    """The notebook's Fig. 2 fit: width, steps, batch and the (constant) Adam learning rate."""

    width: int = 1024
    steps: int = 80_001
    batch: int = 1024  # fresh samples of p_t per step
    learning_rate: float = 3e-4

    def __post_init__(self):
        for name in ("width", "steps", "batch"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive integer (got {v!r})")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0 (got {self.learning_rate})")


@dataclass
class RegressionFit:
    r"""A fitted :class:`SkipReLU` with its problem; its score is :math:`o/\sqrt t`."""

    network: SkipReLU
    t: float
    lam: float
    points: np.ndarray  # (n, 1)
    config: RegressionConfig
    seed: int
    loss: float  # L_t[o/√t] at the end (fixed_time_loss), the expected regression loss
    history: list  # [[last step of a block, mean batch loss over the block], ...]
    seconds: float

    def output(self, x) -> np.ndarray:
        r"""The raw network output :math:`o(x) \approx \sqrt t\,s_t(x)`, float64."""
        x = check_finite("x", x)
        return np.asarray(self.network(jnp.asarray(x, jnp.float32)), np.float64)

    def score(self, x) -> np.ndarray:
        r"""The network's score :math:`f(x) = o(x)/\sqrt t`."""
        return self.output(x) / np.sqrt(self.t)

    def g(self, x) -> np.ndarray:
        r""":math:`t\,f(x) = \sqrt t\,o(x)`, the dimensionless score of the note's shape criteria."""
        return self.t * self.score(x)

    def to_dict(self) -> dict:
        return {"t": self.t, "lam": self.lam, "config": asdict(self.config), "seed": self.seed}


def _check_problem(points, t, lam, seed):
    pts = check_finite("points", points)
    if pts.ndim != 2 or pts.shape[1] != 1 or pts.shape[0] < 2:
        raise ValueError(f"points must have shape (n, 1) with n >= 2 (got {pts.shape})")
    t = check_scalar("t", t, positive=True)
    lam = check_scalar("lam", lam)
    if lam < 0:
        raise ValueError(f"lam must be >= 0 (got {lam})")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer (got {seed!r})")
    return pts, t, lam, int(seed)


def _history(losses: np.ndarray, blocks: int = 100) -> list:
    parts = np.array_split(np.arange(losses.size), min(blocks, losses.size))
    return [[int(p[-1]) + 1, float(np.mean(losses[p]))] for p in parts]


@eqx.filter_jit
def _regress(net: SkipReLU, keys, y, t, lam, learning_rate, batch: int):
    """One ``lax.scan`` over the step keys: masked AdamW on the regression onto √t·ESF."""
    opt = make_optimizer(lam, learning_rate, net)

    def batch_loss(model, key):
        x = sample_noised(key, y, t, batch)
        return jnp.mean((regression_target(x, t, y) - model(x)) ** 2)

    def step(carry, key):
        model, state = carry
        loss, grads = jax.value_and_grad(batch_loss)(model, key)
        updates, state = opt.update(grads, state, model)
        return (eqx.apply_updates(model, updates), state), loss

    (net, _), losses = jax.lax.scan(step, (net, opt.init(net)), keys)
    return net, losses


def fit_regression(points, t, lam, config: RegressionConfig, seed: int) -> RegressionFit:
    r"""Fit :class:`SkipReLU` by the notebook's Fig. 2 recipe (:data:`RECIPE`).

    Parameters
    ----------
    points : array_like, shape (n, 1), n >= 2
        Training points in one dimension.
    t : float, t > 0
        Noise variance (VE).
    lam : float, lam >= 0
        Decoupled weight decay (AdamW ``weight_decay``) on w, b, a.
    config : RegressionConfig
    seed : int, >= 0
        ``PRNGKey(seed)`` fixes the initialisation and every batch.

    Returns
    -------
    RegressionFit
        One ``jit``-compiled ``lax.scan`` over all ``config.steps`` steps (no chunking).
    """
    pts, t, lam, seed = _check_problem(points, t, lam, seed)
    k_init, k_data, _ = jax.random.split(jax.random.PRNGKey(seed), 3)
    net = SkipReLU(config.width, k_init)
    keys = jax.random.split(k_data, config.steps)
    y = jnp.asarray(pts[:, 0], jnp.float32)
    start = time.perf_counter()
    # t, λ and the learning rate go in as arrays (traced): fits that differ only in them, in the
    # seed or in the points' values share one compilation
    net, losses = _regress(
        net, keys, y, *(jnp.float32(v) for v in (t, lam, config.learning_rate)), config.batch
    )
    losses = np.asarray(losses, np.float64)
    seconds = time.perf_counter() - start
    if not np.all(np.isfinite(losses)):
        raise FloatingPointError("fixed-t regression diverged (non-finite loss)")

    def score(x):
        return np.asarray(net(jnp.asarray(x, jnp.float32)), np.float64) / np.sqrt(t)

    return RegressionFit(
        network=net,
        t=t,
        lam=lam,
        points=np.array(pts),
        config=config,
        seed=seed,
        loss=fixed_time_loss(score, t, pts),
        history=_history(losses),
        seconds=seconds,
    )


def train_regression(
    points, t, lam, config: RegressionConfig, seed: int, *, cache_path=None
) -> RegressionFit:
    """:func:`fit_regression`, or the cached fit of the same problem (:mod:`empirical.cache`).

    The key hashes the points, t, λ, the config, the seed, :data:`RECIPE` and the cache format
    version; the entry is written atomically, so an interrupted fit leaves nothing that loads.
    """
    pts, t, lam, seed = _check_problem(points, t, lam, seed)
    record = {
        "kind": "two_layer_fixed_t_regression",
        "points": pts.tolist(),
        "t": t,
        "lam": lam,
        "config": asdict(config),
        "seed": seed,
        "recipe": RECIPE,
    }
    key, path = cache.entry_path(record, cache_path)
    hit = cache.load(
        path, eqx.filter_eval_shape(SkipReLU, config.width, jax.random.PRNGKey(0)), key
    )
    if hit is not None:
        net, meta = hit
        return RegressionFit(
            net, t, lam, np.array(pts), config, seed, meta["loss"], meta["history"], meta["seconds"]
        )
    fit = fit_regression(pts, t, lam, config, seed)
    meta = {**record, "loss": fit.loss, "history": fit.history, "seconds": fit.seconds}
    cache.save(path, fit.network, meta, key)
    return fit
