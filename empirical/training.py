r"""Score-network training, jit-compiled with ``lax.scan``, cached on disk.

Objectives (``TrainingConfig.objective``; VE, :math:`x_\sigma = x_0 + \sigma\varepsilon`):

``"dsm"`` (default)
    denoising score matching with the EDM weight :math:`\lambda(\sigma) = 1/c_{out}^2`
    (Karras et al. 2022; paper000 §3.3 R1),

    .. math:: \mathcal L(\theta) = \mathbb E_{x_0,\sigma,\varepsilon}\,
              \frac{1}{d}\Big\| \frac{D_\theta(x_0+\sigma\varepsilon;\sigma) - x_0}{c_{out}(\sigma)} \Big\|^2 .

``"score_regression"``
    regression onto the exact empirical score of the training points :math:`y_1..y_n` (the
    score_smoothing notebook's objective, shared/research/external_facts.md): for
    :math:`x = y_k + \sqrt t\,\varepsilon \sim p_t^{(n)}` the target is :math:`\sqrt t\,s_t(x)`,

    .. math:: \mathcal L(\theta) = \mathbb E_{k,t,\varepsilon}
              \big\|\sqrt t\,s_t(x) - \sigma\,g_\theta(x;\sigma)\big\|^2, \qquad \sigma = \sqrt t,

    and the score used afterwards is the network's output divided by σ. Its minimiser is the
    same as DSM's (the two losses differ by a θ-independent constant at each t); it has no label
    noise. Only for a :class:`theory.distributions.FiniteSet` (whose points are the data).

Noise levels (``noise_sampling``): σ log-uniform on [σ_min, σ_max] (``"log_uniform"``), t = σ²
uniform on [σ_min², σ_max²] (``"uniform_t"``), or the notebook's cube law (``"cube_t"``),
:math:`t = (U(t_{max}^{1/3} - t_{min}^{1/3}) + t_{min}^{1/3})^3`, U uniform on [0, 1].

Optimiser: Adam with linear warm-up and cosine decay to 1% (``schedule="warmup_cosine"``), or a
constant learning rate (``schedule="constant"``, the notebook's). ``weight_decay > 0`` makes it
AdamW (optax's decoupled decay, :math:`\theta \leftarrow \theta - \eta(\hat m/(\sqrt{\hat v}+\epsilon) +
\lambda\theta)`) on the leaves :func:`empirical.models.decay_mask` selects. ``ema_decay > 0``
keeps an exponential moving average of the weights (:func:`ema_update`, started at the initial
weights); the returned and cached model then carries the EMA weights.

The configuration fields added after the cache's format 2 (``objective``, ``schedule``,
``weight_decay``, ``ema_decay``) are left out of :meth:`TrainingConfig.to_dict` at their default
values, so every model trained before them keeps its cache key.

Speed on a CPU: XLA runs a layer product of these networks (batch 512 × width 128) on one core
(``make bench`` shows two cores gain nothing on it), so each step computes the gradient as the
mean over ``shards`` equal slices of the batch, written as independent computations that XLA's
CPU runtime executes concurrently, one per core. The objective and the batch are unchanged; only
the order of the floating-point sums differs.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from tqdm.auto import tqdm

from empirical import cache
from empirical.data import sample
from empirical.models import (
    NetworkConfig,
    ScoreModel,
    build_network,
    decay_mask,
    edm_preconditioning,
)
from theory.distributions import FiniteSet

__all__ = [
    "NOISE_SAMPLING",
    "OBJECTIVES",
    "SCHEDULES",
    "TrainingConfig",
    "dsm_loss",
    "ema_update",
    "fit",
    "load_or_fit",
    "regression_loss",
    "regression_target",
    "sample_t",
    "scaled_score",
    "sharded_value_and_grad",
    "train",
]

NOISE_SAMPLING = ("log_uniform", "uniform_t", "cube_t")
OBJECTIVES = ("dsm", "score_regression")
SCHEDULES = ("warmup_cosine", "constant")

#: Fields added after cache format 2, with their defaults: :meth:`TrainingConfig.to_dict` omits
#: a field at its default, so the cache key of every earlier configuration is unchanged.
_LATER_FIELDS = {
    "objective": "dsm",
    "schedule": "warmup_cosine",
    "weight_decay": 0.0,
    "ema_decay": 0.0,
}


@dataclass(frozen=True)
class TrainingConfig:
    """How a network is trained (one hashable record, part of the cache key)."""

    steps: int = 30_000  # Adam steps; a multiple of chunk_steps
    batch_size: int = 512  # points per step
    learning_rate: float = 2e-3  # peak learning rate after warm-up
    warmup_steps: int = 1_000  # linear warm-up, then cosine decay to 1% of the peak
    sigma_min: float = 0.01  # VE noise levels are drawn log-uniformly from [sigma_min, sigma_max]
    sigma_max: float = 5.0
    n_data: int = 20_000  # size of the fixed training set drawn from the data spec
    chunk_steps: int = 1_000  # steps per compiled lax.scan call (one progress-bar update)
    # How noise levels are drawn: "log_uniform" (σ log-uniform, EDM-style) or "uniform_t"
    # (t = σ² uniform on [σ_min², σ_max²], the time-uniform objective of paper004 §1.1).
    noise_sampling: str = "log_uniform"
    # Independent slices of each batch whose gradients run concurrently (see the module notes).
    shards: int = 2
    # "dsm" (EDM-weighted denoising score matching) or "score_regression" (onto √t·ESF, FiniteSet only).
    objective: str = "dsm"
    # "warmup_cosine" (linear warm-up, cosine decay to 1%) or "constant" (needs warmup_steps = 0).
    schedule: str = "warmup_cosine"
    # Decoupled (AdamW) weight decay on the leaves of the network's decay_mask; 0 = plain Adam.
    weight_decay: float = 0.0
    ema_decay: float = 0.0  # EMA of the weights, kept and returned when > 0; 0 = off

    def __post_init__(self):
        for name in ("steps", "batch_size", "n_data", "chunk_steps", "shards"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1 (got {getattr(self, name)})")
        if self.steps % self.chunk_steps:
            raise ValueError(
                f"steps ({self.steps}) must be a multiple of chunk_steps ({self.chunk_steps})"
            )
        if self.batch_size % self.shards:
            raise ValueError(
                f"batch_size ({self.batch_size}) must be a multiple of shards ({self.shards})"
            )
        if not 0 <= self.warmup_steps < self.steps:
            raise ValueError(f"warmup_steps must lie in [0, steps) (got {self.warmup_steps})")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0 (got {self.learning_rate})")
        if self.noise_sampling not in NOISE_SAMPLING:
            raise ValueError(
                f"noise_sampling must be one of {NOISE_SAMPLING} (got {self.noise_sampling!r})"
            )
        if not 0 < self.sigma_min < self.sigma_max:
            raise ValueError(
                f"need 0 < sigma_min < sigma_max (got {self.sigma_min}, {self.sigma_max})"
            )
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES} (got {self.objective!r})")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES} (got {self.schedule!r})")
        if self.schedule == "constant" and self.warmup_steps != 0:
            raise ValueError(
                f"schedule='constant' has no warm-up: warmup_steps must be 0 (got {self.warmup_steps})"
            )
        if not self.weight_decay >= 0:
            raise ValueError(f"weight_decay must be >= 0 (got {self.weight_decay})")
        if not 0 <= self.ema_decay < 1:
            raise ValueError(f"ema_decay must lie in [0, 1) (got {self.ema_decay})")

    def to_dict(self) -> dict:
        """Every field, except the later ones (:data:`_LATER_FIELDS`) at their default value."""
        record = asdict(self)
        for name, default in _LATER_FIELDS.items():
            if record[name] == default:
                del record[name]
        return record


def _optimizer(cfg: TrainingConfig, mask=None) -> optax.GradientTransformation:
    """Adam (or AdamW on ``mask`` when ``cfg.weight_decay > 0``) on the configured schedule."""
    if cfg.schedule == "constant":
        schedule = cfg.learning_rate
    else:
        schedule = optax.warmup_cosine_decay_schedule(
            init_value=0.0,
            peak_value=cfg.learning_rate,
            warmup_steps=cfg.warmup_steps,
            decay_steps=cfg.steps,
            end_value=cfg.learning_rate * 1e-2,
        )
    if cfg.weight_decay > 0:
        return optax.adamw(schedule, weight_decay=cfg.weight_decay, mask=mask)
    return optax.adam(schedule)


def ema_update(ema, params, decay: float):
    r"""One step of the exponential moving average of the weights,
    :math:`\bar\theta \leftarrow \beta\bar\theta + (1 - \beta)\theta` leaf by leaf (β = ``decay``)."""
    return jax.tree.map(lambda e, p: decay * e + (1.0 - decay) * p, ema, params)


def sample_t(key, shape, cfg: TrainingConfig):
    """Noise variances t = σ² drawn by ``cfg.noise_sampling`` on [σ_min², σ_max²] (float32)."""
    t_min, t_max = cfg.sigma_min**2, cfg.sigma_max**2
    if cfg.noise_sampling == "log_uniform":
        lo, hi = np.log(cfg.sigma_min), np.log(cfg.sigma_max)
        return jnp.exp(2.0 * jax.random.uniform(key, shape, jnp.float32, lo, hi))
    if cfg.noise_sampling == "uniform_t":
        return jax.random.uniform(key, shape, jnp.float32, t_min, t_max)
    a, b = np.cbrt(t_min), np.cbrt(t_max)
    return (jax.random.uniform(key, shape, jnp.float32) * (b - a) + a) ** 3


def dsm_loss(network, x0, log_sigma, eps):
    """EDM-weighted denoising score-matching loss on one batch (see the module docstring)."""
    sigma = jnp.exp(log_sigma)
    x = x0 + sigma[:, None] * eps
    denoised = jax.vmap(network.denoise)(x, sigma)
    _, c_out, _, _ = edm_preconditioning(sigma, network.sigma_data)
    return jnp.mean(((denoised - x0) / c_out[:, None]) ** 2)


def scaled_score(network, x, sigma):
    """σ·(score of ``network``) at one point: the network's own ``scaled_score`` if it has one
    (no cancellation), else (D(x; σ) − x)/σ from its denoiser."""
    own = getattr(network, "scaled_score", None)
    if own is not None:
        return own(x, sigma)
    return (network.denoise(x, sigma) - x) / sigma


def regression_target(x0, sigma, eps, points):
    r""":math:`\sqrt t\,s_t(x)` at :math:`x = x_0 + \sqrt t\,\varepsilon` for the empirical score of ``points``.

    :math:`s_t(x) = \sum_k w_k (y_k - x)/t` with :math:`w_k \propto \exp(-\|x - y_k\|^2/2t)`, so
    with :math:`u_k = (x - y_k)/\sqrt t = (x_0 - y_k)/\sqrt t + \varepsilon` (formed from the clean
    differences, no cancellation): :math:`\sqrt t\,s_t(x) = -\sum_k \mathrm{softmax}_k(-\|u_k\|^2/2)\,u_k`.
    Shapes: ``x0`` (b, d), ``sigma`` (b,), ``eps`` (b, d), ``points`` (n, d).
    """
    u = (x0[:, None, :] - points[None, :, :]) / sigma[:, None, None] + eps[:, None, :]
    w = jax.nn.softmax(-0.5 * jnp.sum(u**2, axis=2), axis=1)
    return -jnp.einsum("bk,bkd->bd", w, u)


def regression_loss(network, x0, log_sigma, eps, points):
    """Mean over the batch of ‖√t·s_t(x) − σ·g_θ(x; σ)‖² (see the module docstring), σ = √t."""
    sigma = jnp.exp(log_sigma)
    x = x0 + sigma[:, None] * eps
    out = jax.vmap(lambda xi, si: scaled_score(network, xi, si))(x, sigma)
    target = regression_target(x0, sigma, eps, points)
    return jnp.mean(jnp.sum((target - out) ** 2, axis=1))


def sharded_value_and_grad(params, static, x0, log_sigma, eps, shards: int, loss=dsm_loss):
    """``loss`` (default :func:`dsm_loss`) and its gradient in ``params``, as the mean over
    ``shards`` equal batch slices. ``loss(network, x0, log_sigma, eps)`` is a batch mean.

    Equal to ``jax.value_and_grad`` of the loss on the whole batch up to the order of float sums.
    One ``value_and_grad`` per slice, unrolled in Python: a vmap would fuse the slices back into
    one product, and XLA could no longer execute them concurrently.
    """
    h = x0.shape[0] // shards
    parts = [
        jax.value_and_grad(
            lambda p, i=i: loss(
                eqx.combine(p, static),
                x0[i * h : (i + 1) * h],
                log_sigma[i * h : (i + 1) * h],
                eps[i * h : (i + 1) * h],
            )
        )(params)
        for i in range(shards)
    ]
    loss = sum(part[0] for part in parts) / shards
    grads = jax.tree.map(lambda *g: sum(g) / shards, *[part[1] for part in parts])
    return loss, grads


def _make_chunk(static, optimizer, data, cfg: TrainingConfig, loss=None):
    """One compiled call of ``cfg.chunk_steps`` steps on the carry (params, opt_state[, ema]);
    ``loss(network, x0, log_sigma, eps)``, when given, replaces the objective's loss."""
    lo, hi = np.log(cfg.sigma_min), np.log(cfg.sigma_max)
    b, d = cfg.batch_size, data.shape[1]
    if loss is not None:
        loss_fn = loss
    elif cfg.objective == "dsm":
        loss_fn = dsm_loss
    else:

        def loss_fn(network, x0, log_sigma, eps):
            return regression_loss(network, x0, log_sigma, eps, data)

    def step(carry, key):
        params, opt_state = carry[:2]
        k_idx, k_sigma, k_eps = jax.random.split(key, 3)
        x0 = data[jax.random.randint(k_idx, (b,), 0, data.shape[0])]
        if cfg.noise_sampling == "log_uniform":
            log_sigma = jax.random.uniform(k_sigma, (b,), jnp.float32, lo, hi)
        else:
            log_sigma = 0.5 * jnp.log(sample_t(k_sigma, (b,), cfg))
        eps = jax.random.normal(k_eps, (b, d), jnp.float32)
        loss, grads = sharded_value_and_grad(
            params, static, x0, log_sigma, eps, cfg.shards, loss=loss_fn
        )
        updates, opt_state = optimizer.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
        if cfg.ema_decay > 0:
            return (params, opt_state, ema_update(carry[2], params, cfg.ema_decay)), loss
        return (params, opt_state), loss

    def chunk(carry, key):
        keys = jax.random.split(key, cfg.chunk_steps)
        return jax.lax.scan(step, carry, keys)

    return jax.jit(chunk)


def fit(
    data,
    network: NetworkConfig,
    training: TrainingConfig,
    seed: int,
    *,
    progress: bool = True,
    description: str = "training",
    loss=None,
) -> ScoreModel:
    """Train a fresh network on the array ``data`` (n, d); no cache. ``seed`` fixes init and batches.

    With ``objective="score_regression"`` the rows of ``data`` are the training points whose
    empirical score is the target (a repeated row counts twice). ``loss(network, x0, log_sigma,
    eps)``, a batch mean, replaces the objective's loss when given (e.g. a distillation onto
    another network's denoiser, :mod:`empirical.distillation`); the noise levels, batches and
    optimiser are those of ``training``.
    """
    data = np.asarray(data, dtype=np.float64)
    if data.ndim != 2 or not np.all(np.isfinite(data)):
        raise ValueError(f"data must be a finite (n, d) array (got shape {data.shape})")
    key = jax.random.PRNGKey(int(seed))
    k_init, k_train = jax.random.split(key)
    net = build_network(network, data.shape[1], k_init)
    params, static = eqx.partition(net, eqx.is_array)
    optimizer = _optimizer(training, decay_mask(net))
    carry = (params, optimizer.init(params))
    if training.ema_decay > 0:
        carry = (*carry, params)  # the average starts at the initial weights
    chunk = _make_chunk(static, optimizer, jnp.asarray(data, jnp.float32), training, loss)

    n_chunks = training.steps // training.chunk_steps
    losses, chunk_seconds = [], []
    start = last = time.perf_counter()
    with tqdm(
        total=training.steps,
        desc=description,
        unit="step",
        disable=not progress,
        leave=False,
        mininterval=1.0,
    ) as bar:
        for i in range(n_chunks):
            carry, chunk_losses = chunk(carry, jax.random.fold_in(k_train, i))
            chunk_losses = np.asarray(chunk_losses)
            if not np.all(np.isfinite(chunk_losses)):
                raise FloatingPointError(f"training diverged in chunk {i} (non-finite loss)")
            losses.append(float(chunk_losses.mean()))
            now = time.perf_counter()
            chunk_seconds.append(now - last)  # the first includes jit compilation
            last = now
            bar.update(training.chunk_steps)
            bar.set_postfix(loss=f"{losses[-1]:.4f}")
    seconds = time.perf_counter() - start
    meta = {
        "network": network.to_dict(),
        "training": training.to_dict(),
        "seed": int(seed),
        "seconds": seconds,
        "seconds_first_chunk": chunk_seconds[0],
        "seconds_per_chunk": chunk_seconds,
        "loss_per_chunk": losses,
        "jax_version": jax.__version__,
    }
    final = carry[2] if training.ema_decay > 0 else carry[0]  # the EMA weights when kept
    return ScoreModel(eqx.combine(final, static), data.shape[1], meta)


def train(
    spec,
    network: NetworkConfig,
    training: TrainingConfig,
    seed: int,
    *,
    progress: bool = True,
    cache_path=None,
) -> ScoreModel:
    """Train on ``training.n_data`` points drawn from ``spec`` with ``seed``, or load the cached model.

    With ``objective="score_regression"`` the spec must be a :class:`FiniteSet`; its points
    themselves are the data (``n_data`` is not used) and the target is their empirical score.

    The cache key hashes ``spec.to_dict()``, both configs, the seed and the cache format version;
    entries are written atomically, so a run killed midway leaves nothing that loads. An entry
    that is damaged or belongs to another model (its record names another key, or its content
    does not match its SHA-256) is retrained and replaced, with a warning (:mod:`empirical.cache`).
    """
    if training.objective == "score_regression" and not isinstance(spec, FiniteSet):
        raise ValueError(
            "objective='score_regression' needs a FiniteSet spec (an exact empirical score); "
            f"got {type(spec).__name__}"
        )
    record = {
        "spec": spec.to_dict(),
        "network": network.to_dict(),
        "training": training.to_dict(),
        "seed": int(seed),
    }
    label = f"training {cache.entry_path(record, cache_path)[0][:8]}"

    def fit_model():
        if training.objective == "score_regression":
            data = spec.points
        else:
            data = sample(spec, training.n_data, seed)
        return fit(data, network, training, seed, progress=progress, description=label)

    return load_or_fit(
        record, spec.d, network, fit_model, cache_path, {"spec": record["spec"]["type"]}
    )


def load_or_fit(
    record: dict, d: int, network: NetworkConfig, fit_model, cache_path=None, meta=None
) -> ScoreModel:
    """The model cached under ``record`` (its key from :func:`empirical.cache.entry_path`), or
    ``fit_model()`` (a :class:`ScoreModel` of ``network`` in R^d), saved there with ``meta``
    added to its record."""
    key, path = cache.entry_path(record, cache_path)
    # the structure, shapes and dtypes only: no initialiser runs (or compiles) for a cache hit
    like = eqx.filter_eval_shape(build_network, network, d, jax.random.PRNGKey(0))
    hit = cache.load(path, like, key)
    if hit is not None:
        net, stored = hit
        return ScoreModel(net, d, {**stored, "cache": "hit", "cache_key": key})
    model = fit_model()
    stored = {**model.meta, **(meta or {}), "cache_key": key}
    cache.save(path, model.network, stored, key)
    return ScoreModel(model.network, d, {**stored, "cache": "miss"})
