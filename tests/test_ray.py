"""factkit on Ray Data (factkit.ray): the records extract_many writes, resume, a dying actor, one budget and one
rate limit per run, read_json's dates. One small local Ray cluster for the whole module."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ray = pytest.importorskip("ray")

from test_batch_support import SECRET, assert_grounded, read_records, short_articles  # noqa: E402

from factkit import BatchRecord, Extraction, Extractor, resolve_settings  # noqa: E402
from factkit.cli import main  # noqa: E402
from factkit.testing import FakeOpenAIServer, Reply, grounded_answer  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("no_local_model")]

POISON = "Nobody answers for this article."


@pytest.fixture(scope="module", autouse=True)
def ray_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    cache = tmp_path_factory.mktemp("ray-cache")
    env = {"FACTKIT_NER": "off", "FACTKIT_CACHE_DIR": str(cache)}
    ray.init(
        num_cpus=2,
        object_store_memory=200 * 1024**2,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": env},
    )
    ray.data.DataContext.get_current().enable_progress_bars = False
    try:
        yield
    finally:
        ray.shutdown()


def handler(request: dict[str, Any]) -> Reply:
    if POISON in json.dumps(request["messages"]):
        return Reply.error(400, {"error": {"message": "this article is refused"}})
    return Reply.json(grounded_answer(request))


def settings_for(server: FakeOpenAIServer, **kw: Any) -> Any:
    return resolve_settings(
        base_url=server.base_url,
        api_key=SECRET,
        model="fake-model",
        retry_wait_multiplier=0.0,
        timeout=5.0,
        cache=False,
        **kw,
    )


def comparable(line: str | dict[str, Any]) -> dict[str, Any]:
    data = json.loads(line) if isinstance(line, str) else line
    for part in (data.get("result") or {}, data.get("error") or {}):
        for call in (part.get("usage") or {}).get("calls", []):
            call.pop("latency_s", None)
    return data


def test_records_are_those_of_extract_many() -> None:
    import factkit.ray as fr

    texts = short_articles(6, seed=11)
    rows: list[dict[str, Any]] = [
        {"id": f"a{i}", "text": t, "published": "2018-01-26" if i % 2 else None} for i, t in enumerate(texts)
    ]
    rows += [
        {"id": "empty", "text": "   \n", "published": None},
        {"id": "poison", "text": f"{POISON} It says so twice.", "published": None},
    ]
    with FakeOpenAIServer(handler=handler) as server:
        settings = settings_for(server)
        local = Extractor(settings=settings).extract_many(rows, concurrency=4, progress=False)
        out = fr.extract_dataset(ray.data.from_items(rows), settings=settings, concurrency=2, threads=4).take_all()
    got = {row["id"]: row for row in out}
    assert len(out) == len(rows) == len(got)
    for record in local:
        row = got[record.id]
        assert comparable(row["record"]) == comparable(record.to_line())
        # byte for byte, latencies aside: same keys, same order, same serialisation
        assert (
            BatchRecord.from_line(row["record"]).to_line().split('"latency_s"')[0]
            == row["record"].split('"latency_s"')[0]
        )
        assert row["sha256"] == record.sha256 and bool(row["ok"]) == record.ok
    assert [got[f"a{i}"]["status"] for i in range(6)] == ["extracted"] * 6
    errors = {i: json.loads(got[i]["record"])["error"]["type"] for i in ("empty", "poison")}
    assert errors == {"empty": "InputError", "poison": "ModelError"}
    for i, text in enumerate(texts):
        result = BatchRecord.from_line(got[f"a{i}"]["record"]).result
        assert isinstance(result, Extraction)
        assert_grounded(text, result)


def test_read_json_dates_are_turned_back_into_text(tmp_path: Path) -> None:
    import numpy as np

    import factkit.ray as fr

    assert fr.published_value(np.datetime64("2018-01-26")) == "2018-01-26"
    assert fr.published_value(np.datetime64("2018-01-26T00:00:00.000000")) == "2018-01-26"
    assert fr.published_value(np.datetime64("NaT")) is None
    assert fr.published_value(float("nan")) is None
    assert fr.published_value("2018-01-26") == "2018-01-26"

    texts = short_articles(3, seed=5)
    path = tmp_path / "in.jsonl"
    path.write_text(
        "".join(json.dumps({"id": f"j{i}", "text": t, "published": "2018-01-26"}) + "\n" for i, t in enumerate(texts))
    )
    ds = ray.data.read_json(str(path))
    assert "date" in str(ds.schema().types[-1]) or "timestamp" in str(ds.schema()), ds.schema()  # the trap
    with FakeOpenAIServer(handler=handler) as server:
        out = fr.extract_dataset(ds, settings=settings_for(server), concurrency=1, threads=3).take_all()
    records = [json.loads(r["record"]) for r in out]
    assert [r["ok"] for r in records] == [True] * 3
    assert {r["result"]["published"] for r in records} == {"2018-01-26"}


def _crashing_udf(flag: Path, marker: str) -> type:
    """Extract, except that the actor that meets an article holding ``marker`` dies (os._exit) the first time."""
    import factkit.ray as fr

    class Crashing(fr.Extract):
        def __call__(self, batch: Any) -> dict[str, list[Any]]:
            if any(marker in str(t) for t in batch["text"]) and not flag.exists():
                flag.touch()
                os._exit(1)
            return super().__call__(batch)

    return Crashing


def test_cli_shards_resume_and_a_dying_actor_loses_and_repeats_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import factkit.ray as fr

    texts = short_articles(12, seed=7)
    rows = [{"id": f"r{i}", "text": t} for i, t in enumerate(texts)]
    flag, marker = tmp_path / "crashed", texts[7].split(". ")[0]
    out = tmp_path / "shards"
    with FakeOpenAIServer(handler=handler) as server:
        outcome = fr.extract_to_folder(
            ray.data.from_items(rows),
            out,
            settings=settings_for(server),
            concurrency=2,
            threads=2,
            batch_size=2,
            udf=_crashing_udf(flag, marker),
        )
        assert flag.exists()  # an actor died mid-run
        assert outcome.extracted == 12 and outcome.failed == 0
        records = [r for p in sorted(out.glob("*.jsonl")) for r in read_records(p)]
        assert sorted(r["id"] for r in records) == sorted(r["id"] for r in rows)  # each exactly once

        # the CLI on the same folder: everything is done, nothing is asked again
        jsonl = tmp_path / "in.jsonl"
        jsonl.write_text("".join(json.dumps(r) + "\n" for r in rows))
        before = len(server.chat_requests)
        argv = ["extract", str(jsonl), "--engine", "ray", "--out", str(out), "--base-url", server.base_url]
        argv += ["--model", "fake-model", "--no-progress"]
        monkeypatch.setenv("FACTKIT_API_KEY", SECRET)
        assert main(argv) == 0
        assert len(server.chat_requests) == before
        # one more input: only it is extracted, into a new shard
        extra = {"id": "new", "text": short_articles(1, seed=99)[0]}
        jsonl.write_text(jsonl.read_text() + json.dumps(extra) + "\n")
        assert main(argv) == 0
        assert len(server.chat_requests) == before + 2
    records = [r for p in sorted(out.glob("*.jsonl")) for r in read_records(p)]
    assert sorted(r["id"] for r in records) == sorted([*(r["id"] for r in rows), "new"])
    assert all(r["ok"] for r in records)


def test_one_budget_and_one_rate_limit_across_actors(tmp_path: Path) -> None:
    import factkit.ray as fr

    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"fake-model": {"input": 1000.0, "output": 1000.0}}))
    texts = short_articles(12, seed=3)
    rows = [{"id": f"b{i}", "text": t} for i, t in enumerate(texts)]
    lock = threading.Lock()
    state = {"now": 0, "peak": 0}
    arrivals: list[tuple[float, int]] = []
    limited = threading.Event()

    def slow(request: dict[str, Any]) -> Reply:
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
            arrivals.append((time.monotonic(), 0))
            first = not limited.is_set()
            limited.set()
        try:
            if first:
                with lock:
                    arrivals[-1] = (arrivals[-1][0], 429)
                return Reply.error(429, {"error": {"message": "slow down"}}, headers={"Retry-After": "0.8"})
            time.sleep(0.05)
            return Reply.json(grounded_answer(request))
        finally:
            with lock:
                state["now"] -= 1

    out = tmp_path / "shards"
    with FakeOpenAIServer(handler=slow) as server:
        settings = settings_for(server)
        probe = fr.extract_to_folder(
            ray.data.from_items(rows[:1]), tmp_path / "probe", settings=settings, prices=str(prices), concurrency=1
        )
        per_article = probe.cost_usd
        with lock:
            arrivals.clear()
            limited.clear()  # the probe took the 429 (and retried it); the run below gets one of its own
        assert per_article > 0
        budget = per_article * 4.5  # affords four articles at most (the estimate is a bound, so maybe fewer)
        outcome = fr.extract_to_folder(
            ray.data.from_items(rows),
            out,
            settings=settings,
            prices=str(prices),
            max_cost=budget,
            max_in_flight=2,
            concurrency=2,
            threads=4,
            batch_size=3,
        )
    assert 1 <= outcome.extracted <= 4 and outcome.not_started == 12 - outcome.extracted
    records = [r for p in sorted(out.glob("*.jsonl")) for r in read_records(p)]
    assert len(records) == outcome.extracted and all(r["ok"] for r in records)  # no BudgetError line: resumable
    assert sum(r["cost_usd"] for r in records) <= budget
    assert state["peak"] <= 2 and outcome.limits["peak_in_flight"] <= 2
    assert outcome.limits["pauses"] == 1
    # after the 429 with Retry-After 0.8, no actor sent anything for most of those 0.8 s
    t429 = next(t for t, status in arrivals if status == 429)
    assert not [t for t, _ in arrivals if t429 + 0.1 < t < t429 + 0.7]

    # a resume with a higher budget does the rest, each input once
    with FakeOpenAIServer(handler=handler) as server:
        again = fr.extract_to_folder(
            ray.data.from_items(rows), out, settings=settings_for(server), prices=str(prices), max_cost=budget * 10
        )
    assert again.skipped == outcome.extracted and again.extracted == 12 - outcome.extracted
    records = [r for p in sorted(out.glob("*.jsonl")) for r in read_records(p)]
    assert sorted(r["id"] for r in records) == sorted(r["id"] for r in rows)


def test_import_factkit_does_not_import_ray() -> None:
    import subprocess
    import sys

    code = "import sys, factkit, factkit.batch; assert 'ray' not in sys.modules, 'ray imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_ray_engine_refuses_an_id_on_two_lines_like_the_local_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    jsonl = tmp_path / "in.jsonl"
    rows = [{"id": "d1", "text": t} for t in short_articles(3)]
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in rows))
    for engine in ("local", "ray"):
        out = tmp_path / f"out-{engine}"
        argv = ["extract", str(jsonl), "--engine", engine, "--out", str(out), "--base-url", "http://127.0.0.1:9/v1"]
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "id 'd1' on lines 1, 2, 3" in err, (engine, err)
        assert not list(out.glob("*.jsonl")) if out.is_dir() else not out.exists()


def test_no_cluster_starts_when_the_shards_already_hold_every_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text("".join(json.dumps({"id": f"d{i}", "text": t}) + "\n" for i, t in enumerate(short_articles(3))))
    out = tmp_path / "shards"
    out.mkdir()
    with FakeOpenAIServer(handler=lambda request: Reply.json(grounded_answer(request))) as server:
        monkeypatch.setenv("FACTKIT_API_KEY", "sk-test-0123456789abcdef")
        base = ["--base-url", server.base_url, "--model", "m", "--no-progress"]
        assert main(["extract", str(jsonl), "--out", str(out / "part-local.jsonl"), *base]) == 0
        capsys.readouterr()

        started: list[bool] = []

        def no_cluster(*args: Any, **kwargs: Any) -> None:
            started.append(True)
            raise RuntimeError("a cluster was started")

        monkeypatch.setattr(ray, "is_initialized", lambda: False)
        monkeypatch.setattr(ray, "init", no_cluster)
        assert main(["extract", str(jsonl), "--engine", "ray", "--out", str(out), *base]) == 0
        assert "3 input(s), all already done" in capsys.readouterr().err and not started
        # one input more: not all done, so the cluster is asked for
        jsonl.write_text(jsonl.read_text() + json.dumps({"id": "new", "text": short_articles(4)[3]}) + "\n")
        main(["extract", str(jsonl), "--engine", "ray", "--out", str(out), *base])
        assert started == [True]
