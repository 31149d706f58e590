"""The model-call cache: hits, owner-only files, several processes at once."""

from __future__ import annotations

import contextlib
import multiprocessing
import stat
from pathlib import Path

import pytest

from factkit import Extractor, resolve_settings
from factkit._cache import CallCache
from factkit._models import CallUsage
from factkit.testing import FakeModel

ARTICLE = "Maria Lopez opened the Lagos office of Acme Corporation on Tuesday. She hired 40 engineers there."
ENTITIES = {"people": ["Maria Lopez"], "organizations": ["Acme Corporation"], "places": ["Lagos"], "other": []}
FACTS = {
    "headline": "Acme opens Lagos office",
    "tldr": "Maria Lopez opened the Lagos office of Acme Corporation.",
    "facts": [{"s": [1], "kind": "event", "statement": "Maria Lopez opened the Lagos office of Acme Corporation."}],
}


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_an_empty_cache_is_still_used(isolated_env: Path) -> None:
    model = FakeModel([ENTITIES, FACTS])
    ex = Extractor(backend=model, cache=True)
    assert ex.cache is not None and len(ex.cache) == 0 and bool(ex.cache)
    first = ex.extract(ARTICLE)
    second = ex.extract(ARTICLE)  # no scripted reply left: a model call would raise
    assert len(model.requests) == 2
    assert [c.cached for c in first.usage.calls] == [False, False]
    assert [c.cached for c in second.usage.calls] == [True, True]
    assert second.facts == first.facts and second.entities == first.entities


def test_cache_files_are_owner_only(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    cache = CallCache(folder / "calls.sqlite3")
    cache.put("k", "{}", CallUsage(purpose="facts"))
    assert cache.get("k") is not None
    assert _mode(folder) == 0o700
    files = sorted(folder.iterdir())
    assert {f.name for f in files} >= {"calls.sqlite3", "calls.sqlite3-wal", "calls.sqlite3-shm"}
    for f in files:
        assert _mode(f) == 0o600, f
    cache.close()


def test_modes_are_set_only_on_what_factkit_creates(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)  # a user's shared folder (or their home) given as FACTKIT_CACHE_DIR
    CallCache(shared / "calls.sqlite3").close()
    assert _mode(shared) == 0o1777
    assert _mode(shared / "calls.sqlite3") == 0o600  # the file factkit created is private
    mine = tmp_path / "kept"
    mine.mkdir()
    existing = mine / "calls.sqlite3"
    CallCache(existing).close()
    existing.chmod(0o444)
    cache = CallCache(existing)  # read-only now: the cache is off, the mode stays the owner's
    cache.put("k", "{}", CallUsage(purpose="facts"))
    assert _mode(existing) == 0o444
    cache.close()
    nested = tmp_path / "new" / "deeper"
    CallCache(nested / "calls.sqlite3").close()
    assert _mode(nested) == _mode(nested.parent) == 0o700


def test_a_broken_cache_warns_once_and_extraction_goes_on(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    import os

    folder = tmp_path / "cache"
    folder.mkdir()
    good = CallCache(folder / "calls.sqlite3")
    for i in range(300):
        good.put(f"k{i}", "x" * 500, CallUsage(purpose="facts"))
    good.close()
    path = folder / "calls.sqlite3"
    for side in ("-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{path}{side}")
    damaged = {
        "truncated": lambda data: data[: len(data) // 3],
        "garbage": lambda data: b"not a database at all " * 100,
        "corrupt page": lambda data: data[:8192] + b"\xff" * 4096 + data[12288:],
    }
    for name, damage in damaged.items():
        path.write_bytes(
            damage((folder / "calls.sqlite3").read_bytes() if name == "truncated" else _pristine(tmp_path))
        )
        for side in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{path}{side}")
        caplog.clear()
        model = FakeModel(handler=lambda kw: ENTITIES if "named entities" in str(kw["messages"]) else FACTS)
        settings = resolve_settings(backend="fake", model="fake", cache_dir=folder, env={})
        ex = Extractor(backend=model, settings=settings)
        for _ in range(3):
            for i in range(2):
                ex.cache.get(f"k{i * 150}") if ex.cache is not None else None
            assert ex.extract(ARTICLE).facts, name
        warnings = [r for r in caplog.records if "can't be used" in r.getMessage()]
        assert len(warnings) <= 1, name
        if ex.cache is not None and ex.cache.broken:
            assert len(warnings) == 1


def _pristine(tmp_path: Path) -> bytes:
    cache = CallCache(tmp_path / "pristine" / "calls.sqlite3")
    for i in range(300):
        cache.put(f"k{i}", "x" * 500, CallUsage(purpose="facts"))
    cache.close()
    return (tmp_path / "pristine" / "calls.sqlite3").read_bytes()


def test_a_read_only_cache_folder_is_no_error(tmp_path: Path) -> None:
    import os

    if os.geteuid() == 0:
        folder = Path("/proc/factkit-cache")  # root can write to any mode
    else:
        folder = tmp_path / "ro"
        folder.mkdir(mode=0o500)
    cache = CallCache(folder / "calls.sqlite3")
    cache.put("k", "{}", CallUsage(purpose="facts"))
    assert cache.get("k") is None and cache.broken


def _worker(path: str, worker: int, n: int, workers: int) -> int:
    cache = CallCache(Path(path))
    for i in range(n):
        cache.put(f"w{worker}-{i}", f"out-{worker}-{i}", CallUsage(purpose="facts", prompt_tokens=i))
        other = f"w{(worker + 1) % workers}-{i // 2}"
        hit = cache.get(other)
        assert hit is None or hit[0] == f"out-{(worker + 1) % workers}-{i // 2}"
        cache.put_result(f"r{i % 10}", f"result-{worker}")  # contended writes to the same keys
    seen = sum(cache.get(f"w{worker}-{i}") is not None for i in range(n))
    cache.close()
    return seen


def test_several_processes_share_one_cache(tmp_path: Path) -> None:
    path = tmp_path / "shared" / "calls.sqlite3"
    workers, n = 4, 150
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(workers) as pool:
        seen = pool.starmap(_worker, [(str(path), w, n, workers) for w in range(workers)])
    assert seen == [n] * workers
    cache = CallCache(path)
    assert len(cache) == workers * n
    for w in range(workers):
        for i in range(0, n, 37):
            hit = cache.get(f"w{w}-{i}")
            assert hit is not None and hit[0] == f"out-{w}-{i}" and hit[1].prompt_tokens == i
    assert cache.get_result("r3") in {f"result-{w}" for w in range(workers)}
    cache.close()
