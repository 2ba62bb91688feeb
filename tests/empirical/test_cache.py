"""The model cache never hands back the wrong model: damaged or foreign entries are misses.

References: two small networks trained once per module (seeds 0 and 1, the same shapes). A
hand-damaged copy of the seed-0 entry must load as a miss with a warning, and ``train`` must then
retrain and give exactly the seed-0 network again (same seed, same weights).
"""

import hashlib
import io
import json
import os
import subprocess
import sys
import threading
import time
from types import SimpleNamespace

import equinox as eqx
import jax
import numpy as np
import pytest

from empirical import cache
from empirical.models import NetworkConfig, build_network
from empirical.training import TrainingConfig, train
from theory.distributions import LinearGaussian

SPEC = LinearGaussian([1.0], 2)
TINY = NetworkConfig(width=16, depth=1)
CFG = TrainingConfig(steps=100, chunk_steps=100, warmup_steps=10, n_data=500, batch_size=64)


def _leaves(network):
    return [np.asarray(a) for a in jax.tree_util.tree_leaves(network)]


def _assert_same_weights(a, b):
    la, lb = _leaves(a), _leaves(b)
    assert len(la) == len(lb)
    for x, y in zip(la, lb, strict=True):
        np.testing.assert_array_equal(x, y)


def _members(path):
    """The arrays of an entry (``__meta__`` included), read without the cache module."""
    with np.load(path, allow_pickle=False) as f:
        return {name: f[name] for name in f.files}


def _write_npz(path, arrays):
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    path.write_bytes(buf.getvalue())


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The seed-0 ``model`` and seed-1 ``other`` model and the bytes of their cache entries
    (``entry``, ``other_entry``), trained once."""
    folder = tmp_path_factory.mktemp("reference_models")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SGV_CACHE_DIR", str(folder))
        models = [train(SPEC, TINY, CFG, seed=s, progress=False) for s in (0, 1)]
    entries = [(folder / f"{m.meta['cache_key']}.npz").read_bytes() for m in models]
    assert models[0].meta["cache_key"] != models[1].meta["cache_key"]
    for a, b in zip(_leaves(models[0].network), _leaves(models[1].network), strict=True):
        assert a.shape == b.shape and a.dtype == b.dtype  # same shapes, other values
    assert not np.array_equal(_leaves(models[0].network)[0], _leaves(models[1].network)[0])
    return SimpleNamespace(
        model=models[0], other=models[1], entry=entries[0], other_entry=entries[1]
    )


@pytest.fixture
def entry(trained, model_cache):
    """The seed-0 entry copied into this test's cache folder: (its path, its key)."""
    model_cache.mkdir(parents=True)
    key = trained.model.meta["cache_key"]
    path = model_cache / f"{key}.npz"
    path.write_bytes(trained.entry)
    return path, key


def _empty(path, other):
    path.write_bytes(b"")


def _truncated(path, other):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _random_bytes(path, other):
    path.write_bytes(np.random.default_rng(7).bytes(path.stat().st_size))


def _not_an_archive(path, other):
    buf = io.BytesIO()
    np.save(buf, np.zeros(3))  # a plain .npy array under the entry's name
    path.write_bytes(buf.getvalue())


def _record_swapped(path, other):
    """The other entry's record with this entry's weights."""
    mine = _members(path)
    _write_npz(path, {**mine, "__meta__": _members(other)["__meta__"]})


def _weights_swapped(path, other):
    """The other model's weights (same names and shapes) under this entry's record."""
    _write_npz(path, {**_members(other), "__meta__": _members(path)["__meta__"]})


def _whole_entry_copied(path, other):
    path.write_bytes(other.read_bytes())


def _one_weight_changed(path, other):
    """One weight moved to its next float32, written as a well-formed archive with the same record."""
    arrays = _members(path)
    leaf = arrays["leaf_0000"].copy()
    leaf.flat[0] = np.nextafter(leaf.flat[0], np.float32(np.inf))
    _write_npz(path, {**arrays, "leaf_0000": leaf})


def _record_edited(path, other):
    """The record's seed edited, its key and hash left as they were."""
    arrays = _members(path)
    text = bytes(arrays["__meta__"]).decode().replace('"seed": 0', '"seed": 1')
    assert '"seed": 1' in text
    _write_npz(path, {**arrays, "__meta__": np.frombuffer(text.encode(), np.uint8)})


# (damage, what the warning must say)
DAMAGES = [
    (_empty, "empty file"),
    (_truncated, "unreadable"),
    (_random_bytes, "not an .npz archive"),
    (_not_an_archive, "not an .npz archive"),
    (_record_swapped, "names key"),
    (_weights_swapped, "SHA-256"),
    (_whole_entry_copied, "names key"),
    (_one_weight_changed, "SHA-256"),
    (_record_edited, "SHA-256"),
]
IDS = [d.__name__.strip("_") for d, _ in DAMAGES]
# train() takes the same path for every damage (a miss, then fit and save): these retrain.
RETRAINED = [_empty, _truncated, _random_bytes, _record_swapped, _weights_swapped]


def _damage(damage, path, trained, tmp_path):
    other = tmp_path / "other.npz"
    other.write_bytes(trained.other_entry)
    damage(path, other)


def _only_warning(record, path, reason):
    messages = [str(w.message) for w in record if issubclass(w.category, cache.CacheEntryWarning)]
    assert len(messages) == 1, messages
    (message,) = messages
    assert str(path) in message and reason in message and "\n" not in message
    return message


class TestDamagedEntries:
    @pytest.mark.parametrize(("damage", "reason"), DAMAGES, ids=IDS)
    def test_load_is_a_miss_with_a_warning(self, trained, entry, tmp_path, damage, reason):
        path, key = entry
        _damage(damage, path, trained, tmp_path)
        with pytest.warns(cache.CacheEntryWarning) as record, cache.recording() as log:
            assert cache.load(path, trained.model.network, key) is None
        _only_warning(record, path, reason)
        assert log == []  # a rejected entry is no hit

    @pytest.mark.parametrize(
        ("damage", "reason"),
        [d for d in DAMAGES if d[0] in RETRAINED],
        ids=[i for d, i in zip(DAMAGES, IDS, strict=True) if d[0] in RETRAINED],
    )
    def test_train_retrains_the_right_model_and_replaces_the_entry(
        self, trained, entry, tmp_path, damage, reason
    ):
        path, key = entry
        _damage(damage, path, trained, tmp_path)
        with pytest.warns(cache.CacheEntryWarning) as record, cache.recording() as log:
            model = train(SPEC, TINY, CFG, seed=0, progress=False)
        _only_warning(record, path, reason)
        assert model.meta["cache"] == "miss"
        assert [(r["key"], r["cache"]) for r in log] == [(key, "miss")]
        _assert_same_weights(model.network, trained.model.network)
        # the entry was replaced: a hit now, with no warning (warnings are errors here)
        again = train(SPEC, TINY, CFG, seed=0, progress=False)
        assert again.meta["cache"] == "hit"
        _assert_same_weights(again.network, trained.model.network)

    def test_another_requested_key(self, trained, entry):
        path, _ = entry
        other_key = trained.other.meta["cache_key"]
        with pytest.warns(cache.CacheEntryWarning, match="names key"):
            assert cache.load(path, trained.model.network, other_key) is None

    def test_shapes_of_another_network(self, trained, entry):
        path, key = entry
        narrow = build_network(NetworkConfig(width=8, depth=1), 2, jax.random.PRNGKey(0))
        with pytest.warns(cache.CacheEntryWarning, match="leaf_0000 is float32"):
            assert cache.load(path, narrow, key) is None


class TestGoodEntries:
    def test_loads_bit_for_bit(self, trained, entry):
        path, key = entry
        with cache.recording() as log:
            net, meta = cache.load(path, trained.model.network, key)
        _assert_same_weights(net, trained.model.network)
        assert (meta["cache_key"], meta["format_version"]) == (key, cache.FORMAT_VERSION)
        assert meta["seconds"] == trained.model.meta["seconds"]
        assert len(meta["sha256"]) == 64
        assert log == [{"key": key, "cache": "hit", "seconds": meta["seconds"]}]
        model = train(SPEC, TINY, CFG, seed=0, progress=False)
        assert model.meta["cache"] == "hit"
        _assert_same_weights(model.network, trained.model.network)

    def test_a_loaded_record_saves_again(self, trained, entry, tmp_path):
        path, key = entry
        net, meta = cache.load(path, trained.model.network, key)
        again = tmp_path / "again.npz"
        cache.save(again, net, meta, key)  # the old sha256 in meta is replaced, not hashed
        net2, meta2 = cache.load(again, net, key)
        _assert_same_weights(net2, net)
        assert meta2 == meta

    def test_an_entry_of_an_older_format_is_a_plain_miss(self, trained, tmp_path, monkeypatch):
        net = trained.model.network
        path = tmp_path / "old.npz"
        monkeypatch.setattr(cache, "FORMAT_VERSION", cache.LEGACY_FORMAT - 1)
        cache.save(path, net, {"seconds": 1.0})
        monkeypatch.undo()
        assert cache.load(path, net) is None  # and no warning: warnings are errors here

    @staticmethod
    def _legacy(path, network, meta):
        """An entry as the previous layout wrote it: leaves and a record without key or hash."""
        arrays = jax.tree_util.tree_leaves(eqx.filter(network, eqx.is_array))
        leaves = {f"leaf_{i:04d}": np.asarray(a) for i, a in enumerate(arrays)}
        record = {**meta, "format_version": cache.LEGACY_FORMAT}
        _write_npz(
            path, {"__meta__": np.frombuffer(json.dumps(record).encode(), np.uint8), **leaves}
        )

    def test_a_legacy_entry_is_trusted_once_and_rewritten(self, trained, tmp_path):
        net = trained.model.network
        path = tmp_path / "abc.npz"
        self._legacy(path, net, {"seconds": 2.0})
        loaded, meta = cache.load(path, net)
        _assert_same_weights(loaded, net)
        assert (meta["cache_key"], meta["format_version"]) == ("abc", cache.FORMAT_VERSION)
        stored = json.loads(bytes(_members(path)["__meta__"]).decode())
        assert (stored["format_version"], stored["cache_key"]) == (cache.FORMAT_VERSION, "abc")
        assert len(stored["sha256"]) == 64  # from now on checked like any entry
        tampered = _members(path)
        tampered["leaf_0000"] = tampered["leaf_0000"] + 1
        _write_npz(path, tampered)
        with pytest.warns(cache.CacheEntryWarning, match="SHA-256"):
            assert cache.load(path, net) is None

    def test_a_legacy_entry_naming_another_key_is_refused(self, trained, tmp_path):
        net = trained.model.network
        path = tmp_path / "abc.npz"
        self._legacy(path, net, {"seconds": 2.0, "cache_key": "xyz"})
        with pytest.warns(cache.CacheEntryWarning, match="names key"):
            assert cache.load(path, net) is None

    def test_keys_do_not_change_with_the_file_layout(self):
        # the keys of the models trained before the layout gained key and hash still find them
        record = {"spec": {"type": "x"}, "seed": 0}
        text = json.dumps({**record, "format_version": 2}, sort_keys=True)
        assert cache.cache_key(record) == hashlib.sha256(text.encode()).hexdigest()[:24]

    def test_the_key_defaults_to_the_file_stem(self, trained, tmp_path):
        net = trained.model.network
        path = tmp_path / "abc.npz"
        cache.save(path, net, {"seconds": 1.0})
        assert cache.load(path, net) is not None
        renamed = tmp_path / "xyz.npz"
        os.replace(path, renamed)
        with pytest.warns(cache.CacheEntryWarning, match="names key 'abc', not 'xyz'"):
            assert cache.load(renamed, net) is None

    def test_meta_naming_another_key_is_refused(self, trained, tmp_path):
        with pytest.raises(ValueError, match="cache_key"):
            cache.save(tmp_path / "a.npz", trained.model.network, {"cache_key": "b"}, "a")


def _age(path, seconds):
    t = time.time() - seconds
    os.utime(path, (t, t))


_HOLDER = """
import fcntl, sys
with open(sys.argv[1], "wb") as f:
    fcntl.flock(f.fileno(), fcntl.LOCK_EX)
    f.write(b"PK half a zip file")
    f.flush()
    print("locked", flush=True)
    sys.stdin.read()
"""


class TestTemporaryFiles:
    def test_an_old_stray_temporary_is_removed_by_the_next_save(self, trained, tmp_path):
        net = trained.model.network
        stray = tmp_path / "abc.npz.k3j_x9q2.tmp"  # what a save killed midway leaves
        stray.write_bytes(b"PK\x03\x04 half a zip file")
        _age(stray, 10 * 60)
        young = tmp_path / "def.npz.a8b7c6d5.tmp"  # a save that may just be starting
        young.write_bytes(b"")
        cache.save(tmp_path / "other.npz", net, {"seconds": 1.0})
        assert not stray.exists()
        assert young.exists()
        assert sorted(p.name for p in tmp_path.iterdir()) == ["def.npz.a8b7c6d5.tmp", "other.npz"]

    @pytest.mark.skipif(os.name != "posix", reason="flock is POSIX")
    def test_a_live_writers_temporary_is_kept_until_it_is_gone(self, trained, tmp_path):
        net = trained.model.network
        tmp = tmp_path / "abc.npz.k3j_x9q2.tmp"
        holder = subprocess.Popen(
            [sys.executable, "-c", _HOLDER, str(tmp)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert holder.stdout.readline().strip() == "locked"
            _age(tmp, 2 * 3600)  # older than any age rule: only the lock protects it
            cache.save(tmp_path / "other.npz", net, {"seconds": 1.0})
            assert tmp.exists()
        finally:
            holder.kill()  # the writer dies mid-save; the kernel drops its lock
            holder.wait()
            holder.stdout.close()
            holder.stdin.close()
        assert cache.remove_stale_temporaries(tmp_path) == [tmp]
        assert not tmp.exists()

    def test_a_save_in_progress_keeps_its_temporary(self, trained, tmp_path, monkeypatch):
        """Another save's cleanup runs while this one writes: its file survives, the entry loads."""
        net = trained.model.network
        path = tmp_path / "abc.npz"
        real_savez, removed = np.savez, []

        def savez_with_a_cleanup_midway(f, **arrays):
            real_savez(f, **arrays)
            (tmp,) = tmp_path.glob("abc.npz.*.tmp")
            _age(tmp, 2 * 3600)
            removed.extend(cache.remove_stale_temporaries(tmp_path))

        monkeypatch.setattr(np, "savez", savez_with_a_cleanup_midway)
        cache.save(path, net, {"seconds": 1.0})
        monkeypatch.undo()
        assert removed == []
        assert cache.load(path, net) is not None
        assert [p.name for p in tmp_path.iterdir()] == ["abc.npz"]

    def test_two_saves_of_the_same_key_do_not_conflict(self, trained, tmp_path, monkeypatch):
        """Both writers are inside their write at once; each renames its own file; one wins."""
        path = tmp_path / "abc.npz"
        real_savez = np.savez
        together = threading.Barrier(2, timeout=30)

        def savez_side_by_side(f, **arrays):
            real_savez(f, **arrays)
            together.wait()  # both temporaries exist now

        monkeypatch.setattr(np, "savez", savez_side_by_side)
        errors = []

        def one_save(i):
            try:
                cache.save(path, trained.model.network, {"seconds": float(i)}, "abc")
            except Exception as e:  # reported below
                errors.append(e)

        threads = [threading.Thread(target=one_save, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        monkeypatch.undo()
        assert errors == []
        net, meta = cache.load(path, trained.model.network, "abc")
        _assert_same_weights(net, trained.model.network)
        assert meta["seconds"] in (0.0, 1.0)
        assert [p.name for p in tmp_path.iterdir()] == ["abc.npz"]


def test_the_damages_change_what_they_say(trained, tmp_path):
    """The hand-made damages keep a readable archive and change only what they name, so each
    test above exercises the check it names (the key, or the hash of weights or record)."""
    path, other = tmp_path / "a.npz", tmp_path / "b.npz"
    other.write_bytes(trained.other_entry)
    mine, theirs = _members(_fresh(path, trained)), _members(other)
    changed = {}
    for damage in (_record_swapped, _weights_swapped, _one_weight_changed, _record_edited):
        _fresh(path, trained)
        damage(path, other)
        now = _members(path)
        assert set(now) == set(mine)
        changed[damage] = {n for n in mine if not np.array_equal(now[n], mine[n])}
        if damage is _record_swapped:
            np.testing.assert_array_equal(now["__meta__"], theirs["__meta__"])
        if damage is _weights_swapped:
            assert all(np.array_equal(now[n], theirs[n]) for n in now if n != "__meta__")
    leaves = set(mine) - {"__meta__"}
    assert changed == {
        _record_swapped: {"__meta__"},
        _weights_swapped: leaves,
        _one_weight_changed: {"leaf_0000"},
        _record_edited: {"__meta__"},
    }


def _fresh(path, trained):
    path.write_bytes(trained.entry)
    return path


class TestCacheOnly:
    def test_a_miss_raises_and_a_hit_loads(self, trained, entry, tmp_path, monkeypatch):
        path, key = entry
        monkeypatch.setenv(cache.CACHE_ONLY_ENV, "1")
        assert cache.load(path, trained.model.network, key) is not None
        with pytest.raises(cache.NotCachedError, match=r"missing\.npz"):
            cache.load(tmp_path / "missing.npz", trained.model.network)

    def test_train_does_not_train(self, model_cache, monkeypatch):
        monkeypatch.setenv(cache.CACHE_ONLY_ENV, "1")
        with pytest.raises(cache.NotCachedError):
            train(SPEC, TINY, CFG, seed=5, progress=False)
        assert not model_cache.exists() or not list(model_cache.glob("*.npz"))

    def test_zero_means_off(self, trained, tmp_path, monkeypatch):
        monkeypatch.setenv(cache.CACHE_ONLY_ENV, "0")
        assert cache.load(tmp_path / "missing.npz", trained.model.network) is None
