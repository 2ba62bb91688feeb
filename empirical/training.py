r"""Denoising score matching with EDM weighting, jit-compiled with ``lax.scan``, cached on disk.

Loss (VE, :math:`x_\sigma = x_0 + \sigma\varepsilon`, σ log-uniform on [σ_min, σ_max], or
:math:`t = \sigma^2` uniform on [σ_min², σ_max²] with ``noise_sampling="uniform_t"``):

.. math:: \mathcal L(\theta) = \mathbb E_{x_0,\sigma,\varepsilon}\,
          \frac{1}{d}\Big\| \frac{D_\theta(x_0+\sigma\varepsilon;\sigma) - x_0}{c_{out}(\sigma)} \Big\|^2 ,

i.e. the EDM weight :math:`\lambda(\sigma) = 1/c_{out}^2` (Karras et al. 2022), with Adam, linear
warm-up and cosine decay (paper000 §3.3 R1).

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
from empirical.models import NetworkConfig, ScoreModel, build_network, edm_preconditioning

__all__ = ["NOISE_SAMPLING", "TrainingConfig", "dsm_loss", "fit", "sharded_value_and_grad", "train"]

NOISE_SAMPLING = ("log_uniform", "uniform_t")


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

    def to_dict(self) -> dict:
        return asdict(self)


def _optimizer(cfg: TrainingConfig) -> optax.GradientTransformation:
    schedule = optax.warmup_cosine_decay_schedule(
        init_value=0.0,
        peak_value=cfg.learning_rate,
        warmup_steps=cfg.warmup_steps,
        decay_steps=cfg.steps,
        end_value=cfg.learning_rate * 1e-2,
    )
    return optax.adam(schedule)


def dsm_loss(network, x0, log_sigma, eps):
    """EDM-weighted denoising score-matching loss on one batch (see the module docstring)."""
    sigma = jnp.exp(log_sigma)
    x = x0 + sigma[:, None] * eps
    denoised = jax.vmap(network.denoise)(x, sigma)
    _, c_out, _, _ = edm_preconditioning(sigma, network.sigma_data)
    return jnp.mean(((denoised - x0) / c_out[:, None]) ** 2)


def sharded_value_and_grad(params, static, x0, log_sigma, eps, shards: int):
    """:func:`dsm_loss` and its gradient in ``params``, as the mean over ``shards`` equal batch slices.

    Equal to ``jax.value_and_grad`` of the loss on the whole batch up to the order of float sums.
    One ``value_and_grad`` per slice, unrolled in Python: a vmap would fuse the slices back into
    one product, and XLA could no longer execute them concurrently.
    """
    h = x0.shape[0] // shards
    parts = [
        jax.value_and_grad(
            lambda p, i=i: dsm_loss(
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


def _make_chunk(static, optimizer, data, cfg: TrainingConfig):
    lo, hi = np.log(cfg.sigma_min), np.log(cfg.sigma_max)
    b, d = cfg.batch_size, data.shape[1]

    def step(carry, key):
        params, opt_state = carry
        k_idx, k_sigma, k_eps = jax.random.split(key, 3)
        x0 = data[jax.random.randint(k_idx, (b,), 0, data.shape[0])]
        if cfg.noise_sampling == "log_uniform":
            log_sigma = jax.random.uniform(k_sigma, (b,), jnp.float32, lo, hi)
        else:
            t = jax.random.uniform(k_sigma, (b,), jnp.float32, cfg.sigma_min**2, cfg.sigma_max**2)
            log_sigma = 0.5 * jnp.log(t)
        eps = jax.random.normal(k_eps, (b, d), jnp.float32)
        loss, grads = sharded_value_and_grad(params, static, x0, log_sigma, eps, cfg.shards)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), loss

    def chunk(params, opt_state, key):
        keys = jax.random.split(key, cfg.chunk_steps)
        (params, opt_state), losses = jax.lax.scan(step, (params, opt_state), keys)
        return params, opt_state, losses

    return jax.jit(chunk)


def fit(
    data,
    network: NetworkConfig,
    training: TrainingConfig,
    seed: int,
    *,
    progress: bool = True,
    description: str = "training",
) -> ScoreModel:
    """Train a fresh network on the array ``data`` (n, d); no cache. ``seed`` fixes init and batches."""
    data = np.asarray(data, dtype=np.float64)
    if data.ndim != 2 or not np.all(np.isfinite(data)):
        raise ValueError(f"data must be a finite (n, d) array (got shape {data.shape})")
    key = jax.random.PRNGKey(int(seed))
    k_init, k_train = jax.random.split(key)
    net = build_network(network, data.shape[1], k_init)
    params, static = eqx.partition(net, eqx.is_array)
    optimizer = _optimizer(training)
    opt_state = optimizer.init(params)
    chunk = _make_chunk(static, optimizer, jnp.asarray(data, jnp.float32), training)

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
            params, opt_state, chunk_losses = chunk(
                params, opt_state, jax.random.fold_in(k_train, i)
            )
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
    return ScoreModel(eqx.combine(params, static), data.shape[1], meta)


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

    The cache key hashes ``spec.to_dict()``, both configs, the seed and the cache format version;
    entries are written atomically, so a run killed midway leaves nothing that loads.
    """
    record = {
        "spec": spec.to_dict(),
        "network": network.to_dict(),
        "training": training.to_dict(),
        "seed": int(seed),
    }
    key, path = cache.entry_path(record, cache_path)
    like = build_network(network, spec.d, jax.random.PRNGKey(0))
    hit = cache.load(path, like)
    if hit is not None:
        net, meta = hit
        return ScoreModel(net, spec.d, {**meta, "cache": "hit", "cache_key": key})
    data = sample(spec, training.n_data, seed)
    model = fit(data, network, training, seed, progress=progress, description=f"training {key[:8]}")
    meta = {**model.meta, "spec": record["spec"]["type"], "cache_key": key}
    cache.save(path, model.network, meta)
    return ScoreModel(model.network, spec.d, {**meta, "cache": "miss"})
