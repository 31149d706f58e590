"""The model-call cache: hits, owner-only files, several processes at once."""

from __future__ import annotations

import multiprocessing
import stat
from pathlib import Path

from factkit import Extractor
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


def test_loose_permissions_are_tightened(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o755)
    path = folder / "calls.sqlite3"
    path.touch(mode=0o644)
    path.chmod(0o644)
    CallCache(path).close()
    assert _mode(folder) == 0o700 and _mode(path) == 0o600


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
