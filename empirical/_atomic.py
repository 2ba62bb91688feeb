"""Atomic file writes, shared by the model cache and the report and figures.

A file is written to a temporary file in its own folder, which the writer holds an exclusive
``flock`` on, and renamed onto its path when complete: a killed writer leaves the old file or the
new one, never a partial one, plus at most a stray temporary file. Strays are removed by
:func:`remove_stale_temporaries` once nothing writes them any more.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

try:  # POSIX; elsewhere a temporary file is only removed once it is STALE_SECONDS old
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

__all__ = ["MIN_TMP_AGE_SECONDS", "STALE_SECONDS", "atomic_writer", "remove_stale_temporaries"]

#: A temporary file younger than this may be a write that is just starting: never removed.
MIN_TMP_AGE_SECONDS = 60.0
#: Where it cannot be told whether a temporary file is still being written (no ``flock``), it is
#: removed once this old. A write takes well under a second.
STALE_SECONDS = 3600.0


def _plain_file_mode() -> int:
    """The mode ``open(path, "w")`` would give a new file here: 0o666 less the process's umask."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


#: Outputs are shared (reports, figures, the model cache): not the temporary file's 0600.
_FILE_MODE = _plain_file_mode()


def _in_use(tmp: Path) -> bool | None:
    """Whether a writer still holds ``tmp`` (its ``flock``); ``None`` where that cannot be told."""
    if fcntl is None:
        return None
    try:
        with open(tmp, "rb") as fh:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
            return False
    except FileNotFoundError:
        return True  # its writer has just renamed or removed it: nothing to do
    except OSError:
        return None  # a file system without flock


def remove_stale_temporaries(folder: Path, pattern: str) -> list[Path]:
    """Remove the temporary files matching ``pattern`` in ``folder`` that no writer holds; return them.

    Each :func:`atomic_writer` holds an exclusive ``flock`` on its temporary file until it closes
    it, and the kernel drops the lock when the process dies, so a file that is not locked belongs
    to no live writer: processes writing into the same folder in parallel never lose a file they
    are writing. Kept regardless: files younger than :data:`MIN_TMP_AGE_SECONDS` (a writer between
    creating its file and locking it). Where locks are not available, a file is removed once it
    is :data:`STALE_SECONDS` old.
    """
    removed = []
    now = time.time()
    for tmp in Path(folder).glob(pattern):
        try:
            age = now - tmp.stat().st_mtime
        except FileNotFoundError:
            continue
        if age < MIN_TMP_AGE_SECONDS:
            continue
        in_use = _in_use(tmp)
        if in_use or (in_use is None and age < STALE_SECONDS):
            continue
        tmp.unlink(missing_ok=True)
        removed.append(tmp)
    return removed


@contextlib.contextmanager
def atomic_writer(path: Path, *, prefix: str) -> Iterator[BinaryIO]:
    """A binary file to write ``path``'s content into: a locked temporary ``<prefix><random>.tmp``
    in ``path``'s folder, flushed, synced and renamed onto ``path`` when the block ends, removed
    if it raises."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            if fcntl is not None:  # "being written", for remove_stale_temporaries
                with contextlib.suppress(OSError):  # no flock here: the age rule applies
                    fcntl.flock(f.fileno(), fcntl.LOCK_EX)
            yield f
            f.flush()
            os.fsync(f.fileno())
            if hasattr(os, "fchmod"):  # mkstemp makes it 0600: give it a plain file's mode
                os.fchmod(f.fileno(), _FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
