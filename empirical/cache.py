"""On-disk cache of trained networks: one ``.npz`` file per model, written atomically, read without pickle.

A cache entry holds the network's array leaves and a JSON record (the configs, seed, training cost).
It is keyed by a hash of everything that determines the weights (data spec, network, training
config, seed and :data:`FORMAT_VERSION`), so a change to any of them trains a new model.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import equinox as eqx
import jax
import numpy as np

__all__ = ["FORMAT_VERSION", "cache_dir", "cache_key", "entry_path", "load", "recording", "save"]

#: Bump when the network, the file layout or the training arithmetic changes: old entries then no
#: longer match any key.
FORMAT_VERSION = 2  # 2: gradients summed over concurrent batch slices (TrainingConfig.shards)

_ENV = "SGV_CACHE_DIR"

# The open :func:`recording` lists of this process; every hit and every save is appended to each.
_RECORDINGS: list[list[dict]] = []


@contextlib.contextmanager
def recording() -> Iterator[list[dict]]:
    """Collect ``{"key", "cache", "seconds"}`` for every model loaded (hit) or saved (miss) inside.

    ``seconds`` is the training time stored with the entry (for a hit, what it cost when trained).
    The runner uses this to put each claim's training cost in the report.
    """
    log: list[dict] = []
    _RECORDINGS.append(log)
    try:
        yield log
    finally:
        _RECORDINGS.remove(log)


def _record(path: Path, cache: str, meta: dict) -> None:
    seconds = meta.get("seconds")
    entry = {"key": Path(path).stem, "cache": cache, "seconds": seconds}
    for log in _RECORDINGS:
        log.append(entry)


def cache_dir() -> Path:
    """The model cache folder: ``$SGV_CACHE_DIR`` if set, else ``.cache/models`` below the working dir."""
    return Path(os.environ.get(_ENV, Path(".cache") / "models"))


def cache_key(record: dict) -> str:
    """A short stable hash of a JSON-serialisable record (keys sorted, floats by repr)."""
    text = json.dumps({**record, "format_version": FORMAT_VERSION}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def entry_path(record: dict, cache_path=None) -> tuple[str, Path]:
    """The key of ``record`` and its file: ``cache_path`` if given, else ``<cache_dir>/<key>.npz``."""
    key = cache_key(record)
    return key, Path(cache_path) if cache_path is not None else cache_dir() / f"{key}.npz"


def save(path: Path, network: eqx.Module, meta: dict) -> None:
    """Write ``network``'s array leaves and ``meta`` to ``path`` atomically (temporary file, then rename).

    An interrupted write leaves at most a stray temporary file, never an entry that loads.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    leaves = jax.tree_util.tree_leaves(eqx.filter(network, eqx.is_array))
    arrays = {f"leaf_{i:04d}": np.asarray(leaf) for i, leaf in enumerate(leaves)}
    meta_bytes = np.frombuffer(
        json.dumps({**meta, "format_version": FORMAT_VERSION}).encode(), np.uint8
    )
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, __meta__=meta_bytes, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _record(path, "miss", meta)


def load(path: Path, like: eqx.Module) -> tuple[eqx.Module, dict] | None:
    """Load an entry into the structure of ``like``; ``None`` if there is no entry that matches.

    An entry whose format version, leaf count, shapes or dtypes differ from ``like`` is treated as
    missing (it will be retrained and replaced), never half-loaded.
    """
    path = Path(path)
    if not path.is_file():
        return None
    params, static = eqx.partition(like, eqx.is_array)
    leaves, treedef = jax.tree_util.tree_flatten(params)
    try:
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as f:
            meta = json.loads(bytes(f["__meta__"]).decode())
            stored = [f[f"leaf_{i:04d}"] for i in range(len(leaves))]
            extra = len(f.files) - 1 - len(leaves)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):  # damaged or foreign file
        return None
    if meta.get("format_version") != FORMAT_VERSION or extra != 0:
        return None
    for new, old in zip(stored, leaves, strict=True):
        if new.shape != old.shape or new.dtype != old.dtype:
            return None
    restored = jax.tree_util.tree_unflatten(treedef, [jax.numpy.asarray(a) for a in stored])
    _record(path, "hit", meta)
    return eqx.combine(restored, static), meta
