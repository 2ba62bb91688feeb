"""Atomic writes: the written file has a plain file's mode, not the temporary file's 0600."""

import os
import stat

import pytest

from empirical._atomic import atomic_writer


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_written_file_has_the_mode_open_would_give_it(tmp_path):
    mask = os.umask(0)
    os.umask(mask)
    plain = tmp_path / "plain.txt"
    plain.write_bytes(b"x")
    with atomic_writer(tmp_path / "atomic.txt", prefix="atomic.txt.") as f:
        f.write(b"x")
    mode = stat.S_IMODE((tmp_path / "atomic.txt").stat().st_mode)
    assert mode == stat.S_IMODE(plain.stat().st_mode) == 0o666 & ~mask
    assert (tmp_path / "atomic.txt").read_bytes() == b"x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["atomic.txt", "plain.txt"]
