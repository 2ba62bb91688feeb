"""On-disk cache of trained networks: one ``.npz`` file per model, written atomically, read without pickle.

A cache entry holds the network's array leaves and a JSON record (the configs, seed, training cost).
It is keyed by a hash of everything that determines the weights (data spec, network, training
config, seed and :data:`KEY_VERSION`), so a change to any of them trains a new model.

The record also names the entry's key (``cache_key``) and a SHA-256 of its content (``sha256``:
every leaf's name, dtype, shape and bytes, in order, then the rest of the record). :func:`load`
checks both, so an entry copied or renamed from another model, one whose weights or record were
replaced, and an empty, truncated or unreadable file are all treated as missing, with a
:class:`CacheEntryWarning` that names the file and the reason; the caller then retrains and
replaces it.

Stray temporary files (``<entry>.<random>.tmp``, left when a process is killed during a save) are
removed by the next :func:`save` into the same folder, once nothing writes them any more (see
:func:`remove_stale_temporaries`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path

import equinox as eqx
import jax
import numpy as np

from empirical import _atomic
from empirical._atomic import MIN_TMP_AGE_SECONDS, STALE_SECONDS

__all__ = [
    "FORMAT_VERSION",
    "KEY_VERSION",
    "LEGACY_FORMAT",
    "MIN_TMP_AGE_SECONDS",
    "STALE_SECONDS",
    "CacheEntryWarning",
    "NotCachedError",
    "cache_dir",
    "cache_key",
    "entry_path",
    "load",
    "recording",
    "remove_stale_temporaries",
    "save",
]

#: Bump when the network or the training arithmetic changes, i.e. when the same configs no longer
#: give the same weights: old entries then no longer match any key. (Hashed under the name
#: ``format_version``, which it was called when it also stood for the file layout.)
KEY_VERSION = 2  # 2: gradients summed over concurrent batch slices (TrainingConfig.shards)

#: The file layout. 3: the record names its key and the SHA-256 of the entry, checked on load.
FORMAT_VERSION = 3

#: Entries of this layout (written before the key and hash were recorded) are trusted once, on
#: their first load: their record's key, where it has one, must match, and they are rewritten in
#: the current layout with their key and hash, checked from then on.
LEGACY_FORMAT = 2

_ENV = "SGV_CACHE_DIR"
CACHE_ONLY_ENV = "SGV_CACHE_ONLY"

_ZIP_MAGIC = b"PK\x03\x04"  # how an .npz archive (a zip file) begins

# The open :func:`recording` lists of this process; every hit and every save is appended to each.
_RECORDINGS: list[list[dict]] = []


class CacheEntryWarning(UserWarning):
    """A cache entry was found but does not load: it is treated as missing (and retrained)."""


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


def _record(key: str, cache: str, meta: dict) -> None:
    entry = {"key": key, "cache": cache, "seconds": meta.get("seconds")}
    for log in _RECORDINGS:
        log.append(entry)


def cache_dir() -> Path:
    """The model cache folder: ``$SGV_CACHE_DIR`` if set, else ``.cache/models`` below the working dir."""
    return Path(os.environ.get(_ENV, Path(".cache") / "models"))


def cache_key(record: dict) -> str:
    """A short stable hash of a JSON-serialisable record (keys sorted, floats by repr)."""
    text = json.dumps({**record, "format_version": KEY_VERSION}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def entry_path(record: dict, cache_path=None) -> tuple[str, Path]:
    """The key of ``record`` and its file: ``cache_path`` if given, else ``<cache_dir>/<key>.npz``."""
    key = cache_key(record)
    return key, Path(cache_path) if cache_path is not None else cache_dir() / f"{key}.npz"


def _digest(arrays: dict[str, np.ndarray], record: dict) -> str:
    """SHA-256 of each array's name, dtype, shape and bytes (in the given order), then of ``record``
    as sorted JSON."""
    h = hashlib.sha256()
    for name, a in arrays.items():
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(np.ascontiguousarray(a).tobytes())
    h.update(json.dumps(record, sort_keys=True).encode())
    return h.hexdigest()


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Remove the temporary files of saves into ``folder`` that no longer run; return them
    (:func:`empirical._atomic.remove_stale_temporaries`: unlocked and old enough)."""
    return _atomic.remove_stale_temporaries(folder, "*.npz.*.tmp")


def save(path: Path, network: eqx.Module, meta: dict, key: str | None = None) -> None:
    """Write ``network``'s array leaves and ``meta`` to ``path`` atomically (temporary file, then rename).

    The stored record is ``meta`` plus ``format_version``, ``cache_key`` (``key``, default the
    file's stem) and ``sha256`` (see the module docstring). An interrupted write leaves at most a
    stray temporary file, never an entry that loads; the next save into the folder removes such
    files (:func:`remove_stale_temporaries`).
    """
    path = Path(path)
    key = path.stem if key is None else key
    if meta.get("cache_key", key) != key:
        raise ValueError(f"meta['cache_key'] ({meta['cache_key']!r}) must equal key ({key!r})")
    _write(path, network, meta, key)
    _record(key, "miss", meta)


def _write(path: Path, network: eqx.Module, meta: dict, key: str) -> None:
    """The atomic write of :func:`save` (no recording)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path.parent)
    leaves = jax.tree_util.tree_leaves(eqx.filter(network, eqx.is_array))
    arrays = {f"leaf_{i:04d}": np.asarray(leaf) for i, leaf in enumerate(leaves)}
    stamped = {**meta, "format_version": FORMAT_VERSION, "cache_key": key}
    record = json.loads(json.dumps({k: v for k, v in stamped.items() if k != "sha256"}))
    record["sha256"] = _digest(arrays, record)
    meta_bytes = np.frombuffer(json.dumps(record).encode(), np.uint8)
    with _atomic.atomic_writer(path, prefix=f"{path.name}.") as f:
        np.savez(f, __meta__=meta_bytes, **arrays)


def _read(path: Path) -> tuple[dict, dict[str, np.ndarray]]:
    """The record and arrays of an entry; ``ValueError`` naming what is wrong if it is not one."""
    with open(path, "rb") as fh:
        head = fh.read(len(_ZIP_MAGIC))
        if not head:
            raise ValueError("empty file")
        if head != _ZIP_MAGIC:
            raise ValueError("not an .npz archive")
        fh.seek(0)
        try:
            with np.load(fh, allow_pickle=False) as f:
                raw = f["__meta__"]
                arrays = {name: f[name] for name in f.files if name != "__meta__"}
        except (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile) as e:
            raise ValueError(f"unreadable: {type(e).__name__}: {e}") from e
    try:
        meta = json.loads(bytes(raw).decode())
    except ValueError as e:
        raise ValueError(f"unreadable record: {e}") from e
    if not isinstance(meta, dict):
        raise ValueError("unreadable record: not a JSON object")
    return meta, arrays


def _reject(path: Path, why: str) -> None:
    warnings.warn(
        f"model cache entry {path} ignored ({' '.join(why.split())}); treated as missing",
        CacheEntryWarning,
        stacklevel=3,
    )


def _is_leaf(x) -> bool:
    """An array leaf of ``like``: an array, or its shape and dtype (``eqx.filter_eval_shape``)."""
    return eqx.is_array(x) or isinstance(x, jax.ShapeDtypeStruct)


class NotCachedError(LookupError):
    """A model is not in the cache while ``$SGV_CACHE_ONLY`` forbids training it."""


def load(path: Path, like: eqx.Module, key: str | None = None) -> tuple[eqx.Module, dict] | None:
    """Load an entry into the structure of ``like``; ``None`` if there is no entry that matches.

    With the environment variable ``SGV_CACHE_ONLY`` set (to anything but ``0`` or empty), a miss
    raises :class:`NotCachedError` instead, so that nothing is trained: ``compare bench`` times the
    warm ``full`` run this way, and only where the cache holds every model.
    """
    found = _load(path, like, key)
    if found is None and os.environ.get(CACHE_ONLY_ENV, "0") not in ("", "0"):
        raise NotCachedError(
            f"model {Path(path).name} is not in the cache ({CACHE_ONLY_ENV} is set)"
        )
    return found


def _load(path: Path, like: eqx.Module, key: str | None = None) -> tuple[eqx.Module, dict] | None:
    """:func:`load` without the ``SGV_CACHE_ONLY`` rule.

    ``key`` is the requested cache key (default: the file's stem). An entry of another format
    version is an old entry: ``None``. An entry that is empty or unreadable, whose record names
    another key, whose content does not match its ``sha256``, or whose leaf count, shapes or
    dtypes differ from ``like`` is treated as missing too, with a :class:`CacheEntryWarning`
    naming the file and the reason; it will be retrained and replaced, never half-loaded.
    """
    path = Path(path)
    if not path.is_file():
        return None
    key = path.stem if key is None else key
    try:
        meta, arrays = _read(path)
    except (OSError, ValueError) as e:
        return _reject(path, str(e))
    version = meta.get("format_version")
    legacy = version == LEGACY_FORMAT and not isinstance(version, bool)
    if isinstance(version, int) and version != FORMAT_VERSION and not legacy:
        return None  # an entry of an older (or newer) format: a plain miss
    if version != FORMAT_VERSION and not legacy:
        return _reject(path, f"format_version {version!r} is not an integer")
    if meta.get("cache_key", key if legacy else None) != key:
        return _reject(path, f"its record names key {meta.get('cache_key')!r}, not {key!r}")
    record = {k: v for k, v in meta.items() if k != "sha256"}
    if not legacy and meta.get("sha256") != _digest(arrays, record):
        return _reject(path, "its content does not match the SHA-256 in its record")
    params, static = eqx.partition(like, _is_leaf)
    leaves, treedef = jax.tree_util.tree_flatten(params)
    names = [f"leaf_{i:04d}" for i in range(len(leaves))]
    if list(arrays) != names:
        return _reject(path, f"{len(arrays)} arrays, the network has {len(leaves)} leaves")
    for name, old in zip(names, leaves, strict=True):
        new = arrays[name]
        if new.shape != old.shape or new.dtype != old.dtype:
            return _reject(
                path,
                f"{name} is {new.dtype}{list(new.shape)}, the network's {old.dtype}{list(old.shape)}",
            )
    restored = jax.tree_util.tree_unflatten(treedef, [jax.numpy.asarray(arrays[n]) for n in names])
    network = eqx.combine(restored, static)
    if legacy:  # trusted this once: rewritten with its key and hash, checked from now on
        meta = {k: v for k, v in meta.items() if k != "format_version"}
        _write(path, network, meta, key)
        meta = {**meta, "format_version": FORMAT_VERSION, "cache_key": key}
    _record(key, "hit", meta)
    return network, meta
