"""Batches: one record per input, bounded concurrency, the resumable results file, the CLI, cost and budget."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from test_batch_support import (
    SECRET,
    article,
    assert_grounded,
    fake_extractor,
    read_records,
    remote_extractor,
    short_articles,
    wire_for,
)

from factkit import BatchInput, BatchRecord, Extraction, Extractor, TransportError, UsageError
from factkit._cost import PriceTable, resolve_prices
from factkit._models import CallUsage, Usage
from factkit.batch import DEFAULT_CONCURRENCY, BatchRunner, ResultsFile, read_inputs
from factkit.cli import main
from factkit.testing import FakeModel, FakeOpenAIServer, Reply

# ---- the Python API -------------------------------------------------------------------------------------


def test_one_record_per_input_in_input_order(tmp_path: Path) -> None:
    good = short_articles(3)
    on_disk = tmp_path / "a.txt"
    on_disk.write_text(good[2], encoding="utf-8")
    inputs: list[Any] = [
        good[0],
        "",
        good[1].encode(),
        b"\x00\x01\x02 binary",
        {"id": "m1", "text": good[1], "published": "2020-02-03"},
        on_disk,
        tmp_path / "missing.txt",
        42,
        BatchInput(text=good[0], id="explicit"),
    ]
    ex, _ = fake_extractor(cache=False)
    seen: list[BatchRecord] = []
    records = ex.extract_many(inputs, on_result=seen.append)
    assert len(records) == len(inputs) == len(seen)
    assert sorted(r.id for r in seen) == sorted(r.id for r in records)
    assert [r.id for r in records] == [
        "0",
        "1",
        "2",
        "3",
        "m1",
        str(on_disk),
        str(tmp_path / "missing.txt"),
        "7",
        "explicit",
    ]
    assert [r.ok for r in records] == [True, False, True, False, True, True, False, False, True]
    errors = {r.id: r.error for r in records if r.error is not None}
    assert errors["1"].type == "InputError" and "empty" in errors["1"].message
    assert errors["3"].type == "InputError" and "binary" in errors["3"].message
    assert "no such file" in errors[str(tmp_path / "missing.txt")].message
    assert "not int" in errors["7"].message
    m1 = records[4].result
    assert m1 is not None and m1.published == "2020-02-03"
    for text, rec in [(good[0], records[0]), (good[1], records[2]), (good[2], records[5])]:
        assert rec.result is not None
        assert_grounded(text, rec.result)
    assert records[0].sha256 == records[8].sha256 != records[2].sha256


def test_concurrency_is_bounded_and_results_come_in_completion_order() -> None:
    lock = threading.Lock()
    state = {"now": 0, "max": 0}

    def slow(request: dict[str, Any]) -> dict[str, Any]:
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        time.sleep(0.03 if "case 0." in json.dumps(request) else 0.01)
        with lock:
            state["now"] -= 1
        return wire_for(request)

    ex = Extractor(backend=FakeModel(handler=slow), cache=False)
    order: list[str] = []
    texts = short_articles(24)
    records = ex.extract_many(texts, concurrency=4, on_result=lambda r: order.append(r.id))
    assert all(r.ok for r in records) and [r.id for r in records] == [str(i) for i in range(24)]
    assert 2 <= state["max"] <= 4
    assert sorted(order, key=int) == [r.id for r in records] and order != sorted(order, key=int)


class OneAtATime(FakeModel):
    max_concurrency = 1


def test_a_backend_that_runs_one_at_a_time_gets_one_at_a_time() -> None:
    active = {"now": 0, "max": 0}

    def handler(request: dict[str, Any]) -> dict[str, Any]:
        active["now"] += 1
        active["max"] = max(active["max"], active["now"])
        time.sleep(0.005)
        active["now"] -= 1
        return wire_for(request)

    ex = Extractor(backend=OneAtATime(handler=handler), cache=False)
    assert BatchRunner(ex, concurrency=8).concurrency == 1
    assert all(r.ok for r in ex.extract_many(short_articles(6), concurrency=8))
    assert active["max"] == 1


def test_a_remote_endpoint_gets_tens_in_flight(fake_server: FakeOpenAIServer) -> None:
    assert BatchRunner(remote_extractor(fake_server)).concurrency == DEFAULT_CONCURRENCY >= 16


def test_async_api_and_sync_api_inside_a_running_loop() -> None:
    ex, _ = fake_extractor(cache=False)
    texts = short_articles(5)

    async def main_async() -> tuple[list[BatchRecord], list[BatchRecord]]:
        a = await ex.aextract_many(texts, concurrency=3)
        b = ex.extract_many(texts[:2])  # a loop runs in this thread: the batch runs on its own
        return a, b

    a, b = asyncio.run(main_async())
    assert [r.ok for r in a] == [True] * 5 and [r.id for r in b] == ["0", "1"]


def test_an_article_over_max_input_chars_gets_a_clear_error() -> None:
    ex, model = fake_extractor(cache=False)
    [rec] = ex.extract_many([article(5000)], max_input_chars=4000)
    assert rec.error is not None and rec.error.type == "InputError"
    assert "4,000" in rec.error.message and "max_input_chars" in rec.error.message
    assert model.requests == []


def test_a_model_failure_is_recorded_with_the_tokens_it_cost() -> None:
    model = FakeModel(["not json", "still not json"], handler=wire_for)
    ex = Extractor(backend=model, cache=False)
    [bad, good] = ex.extract_many(short_articles(2), concurrency=1)
    assert bad.error is not None and bad.error.type == "OutputError" and not bad.error.retried
    assert bad.usage.prompt_tokens > 0 and bad.error.usage is not None
    assert good.ok


def test_an_extraction_round_trips_through_json() -> None:
    ex, _ = fake_extractor(cache=False)
    result = ex.extract(short_articles(1)[0])
    assert Extraction.model_validate_json(result.model_dump_json()) == result


def test_records_read_back_from_their_line() -> None:
    ex, _ = fake_extractor(cache=False)
    records = ex.extract_many([short_articles(1)[0], ""])
    for rec in records:
        line = rec.to_line()
        assert "\n" not in line
        assert BatchRecord.from_line(line) == rec
    assert "error" not in json.loads(records[0].to_line()) and "result" not in json.loads(records[1].to_line())


# ---- the results file -----------------------------------------------------------------------------------


def test_a_rerun_skips_what_is_done(tmp_path: Path) -> None:
    out = tmp_path / "results.jsonl"
    ex, model = fake_extractor(cache=False)
    texts = [*short_articles(5), "  "]
    first = ex.extract_many(texts, out=out)
    calls = len(model.requests)
    assert calls == 10 and len(read_records(out)) == 6
    again = ex.extract_many(texts, out=out)
    assert len(model.requests) == calls  # nothing re-extracted, the empty input's error kept
    assert again == first
    texts[2] = texts[2] + " It rained."
    ex.extract_many(texts, out=out)
    assert len(model.requests) == calls + 2
    lines = read_records(out)
    assert len(lines) == 7 and len({(r["id"], r["sha256"]) for r in lines}) == 7


def test_a_partial_last_line_and_corrupt_lines_are_dropped_on_resume(tmp_path: Path) -> None:
    out = tmp_path / "results.jsonl"
    ex, model = fake_extractor(cache=False)
    texts = short_articles(4)
    ex.extract_many(texts[:3], out=out)
    data = out.read_bytes().splitlines(keepends=True)
    # line 2 is corrupt, and the file ends in half a line, as after a kill in the middle of a write
    out.write_bytes(data[0] + b'{"id": "1", "sha' + b"\n" + data[2] + data[1][: len(data[1]) // 2])
    before = len(model.requests)
    records = ex.extract_many(texts, out=out)
    assert all(r.ok for r in records)
    assert len(model.requests) == before + 2 * 2  # the article of the two broken lines and the new one
    lines = read_records(out)
    assert sorted(r["id"] for r in lines) == ["0", "1", "2", "3"]
    assert not list(tmp_path.glob("*.tmp"))


def test_transient_errors_are_retried_and_permanent_ones_kept(tmp_path: Path) -> None:
    out = tmp_path / "results.jsonl"
    texts = short_articles(3)
    flaky = FakeModel([TransportError("endpoint kept failing")], handler=wire_for)
    ex = Extractor(backend=flaky, cache=False)
    first = ex.extract_many([texts[0], "", texts[1]], out=out, concurrency=1)
    assert [r.error.type if r.error else "ok" for r in first] == ["TransportError", "InputError", "ok"]
    assert first[0].error is not None and first[0].error.retried
    second = ex.extract_many([texts[0], "", texts[1]], out=out)
    assert [r.ok for r in second] == [True, False, True]
    lines = read_records(out)
    assert len(lines) == 3 and sorted(r["id"] for r in lines) == ["0", "1", "2"]
    # retry_errors retries the permanent ones too (here it fails the same way again)
    third = ex.extract_many([texts[0], "", texts[1]], out=out, retry_errors=True)
    assert [r.ok for r in third] == [True, False, True] and len(read_records(out)) == 3


def test_duplicate_inputs_are_written_once(tmp_path: Path) -> None:
    out = tmp_path / "results.jsonl"
    ex, _ = fake_extractor(cache=True)
    text = short_articles(1)[0]
    records = ex.extract_many([{"id": "x", "text": text}, {"id": "x", "text": text}], out=out)
    assert [r.ok for r in records] == [True, True]
    assert len(read_records(out)) == 1


def test_one_results_file_one_run(tmp_path: Path) -> None:
    out = tmp_path / "results.jsonl"
    first = ResultsFile(out).open()
    try:
        with pytest.raises(Exception, match="another factkit run is writing"):
            ResultsFile(out).open()
    finally:
        first.close()
    ResultsFile(out).open().close()


def test_read_inputs_from_folders_jsonl_and_files(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    (folder / "b").mkdir(parents=True)
    (folder / ".hidden").mkdir()
    (folder / "b" / "2.md").write_text("two", encoding="utf-8")
    (folder / "1.txt").write_text("one", encoding="utf-8")
    (folder / "skip.html").write_text("<p>no</p>", encoding="utf-8")
    (folder / ".hidden" / "x.txt").write_text("hidden", encoding="utf-8")
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text(
        '{"id": "a", "text": "alpha", "published": "2020-01-02"}\n\nnot json\n[1, 2]\n{"id": 7}\n'
        '{"text": 5}\n{"text": "no id"}\n',
        encoding="utf-8",
    )
    items, total = read_inputs([folder, jsonl, tmp_path / "gone.txt"], published="2019-05-05")
    got = list(items)
    assert total == len(got) == 9
    assert [i.id for i in got] == [
        "1.txt",
        "b/2.md",
        "a",
        f"{jsonl}:3",
        f"{jsonl}:4",
        "7",
        f"{jsonl}:6",
        f"{jsonl}:7",
        str(tmp_path / "gone.txt"),
    ]
    assert got[2].published == "2020-01-02" and got[7].published == "2019-05-05"
    assert [i.problem is not None for i in got] == [False, False, False, True, True, True, True, False, False]
    assert "not JSON" in str(got[3].problem) and "has no 'text'" in str(got[5].problem)
    assert got[2].source == f"{jsonl}:1"


# ---- the command line -----------------------------------------------------------------------------------


def _serve(server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch) -> None:
    server.set_handler(lambda request: Reply.json(wire_for(request)))
    monkeypatch.setenv("FACTKIT_BASE_URL", server.base_url)
    monkeypatch.setenv("FACTKIT_API_KEY", SECRET)
    monkeypatch.setenv("FACTKIT_MODEL", "fake-model")


def test_cli_batch_writes_and_resumes(
    tmp_path: Path, fake_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _serve(fake_server, monkeypatch)
    folder = tmp_path / "articles"
    folder.mkdir()
    for i, text in enumerate(short_articles(4)):
        (folder / f"{i}.txt").write_text(text, encoding="utf-8")
    (folder / "empty.txt").write_text("\n", encoding="utf-8")
    out = tmp_path / "out" / "results.jsonl"
    assert main(["extract", str(folder), "--out", str(out), "--concurrency", "3"]) == 1  # one input failed
    err = capsys.readouterr().err
    assert "5 input(s): 4 extracted, 1 failed" in err and "cost unknown" in err
    lines = read_records(out)
    assert sorted(r["id"] for r in lines) == ["0.txt", "1.txt", "2.txt", "3.txt", "empty.txt"]
    requests = len(fake_server.chat_requests)
    assert requests == 8
    assert main(["extract", str(folder), "--out", str(out)]) == 1
    assert "5 already done, 1 of them failed" in capsys.readouterr().err
    assert len(fake_server.chat_requests) == requests and len(read_records(out)) == 5
    (folder / "empty.txt").unlink()
    assert main(["extract", str(folder), "--out", str(out)]) == 0


def test_a_full_disk_under_out_says_so_exits_1_and_a_rerun_finishes(
    tmp_path: Path, fake_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import errno

    from factkit.batch import _results

    _serve(fake_server, monkeypatch)
    folder = tmp_path / "articles"
    folder.mkdir()
    for i, text in enumerate(short_articles(5)):
        (folder / f"{i}.txt").write_text(text, encoding="utf-8")
    out = tmp_path / "results.jsonl"
    real = _results._write_all
    calls = {"n": 0}

    def fills_up(fd: int, data: bytes) -> None:
        calls["n"] += 1
        if calls["n"] >= 3:  # the disk fills after two records, in the middle of the third
            real(fd, data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")
        real(fd, data)

    monkeypatch.setattr(_results, "_write_all", fills_up)
    assert main(["extract", str(folder), "--out", str(out), "--concurrency", "1"]) == 1
    err = capsys.readouterr().err
    assert "internal" not in err and "No space left on device" in err and "the disk is full" in err
    assert "run the same command again" in err
    monkeypatch.setattr(_results, "_write_all", real)
    assert main(["extract", str(folder), "--out", str(out)]) == 0
    assert sorted(r["id"] for r in read_records(out)) == [f"{i}.txt" for i in range(5)]


def test_cli_jsonl_to_stdout(
    tmp_path: Path, fake_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _serve(fake_server, monkeypatch)
    jsonl = tmp_path / "in.jsonl"
    rows = [{"id": f"n{i}", "text": t} for i, t in enumerate(short_articles(3))]
    jsonl.write_text("\n".join(json.dumps(r) for r in rows) + "\n{oops\n", encoding="utf-8")
    assert main(["extract", str(jsonl), "--no-progress"]) == 1
    captured = capsys.readouterr()
    records = [json.loads(line) for line in captured.out.splitlines()]
    assert sorted(r["id"] for r in records) == sorted(["n0", "n1", "n2", f"{jsonl}:4"])
    assert [r["ok"] for r in records].count(False) == 1
    assert "4 input(s): 3 extracted, 1 failed" in captured.err
    assert "extracting" not in captured.err  # no progress bar off a terminal


def test_cli_rejects_a_schema_or_stdin_in_a_batch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["extract", str(tmp_path), "--schema", "x:Y"]) == 2
    assert main(["extract", "-", "--out", str(tmp_path / "o.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "--schema" in err and "stdin" in err


# ---- cost and budget ------------------------------------------------------------------------------------


def test_price_table() -> None:
    table = PriceTable.default()
    assert table.price("gpt-4o-mini-2024-07-18") == table.price("gpt-4o-mini") != table.price("gpt-4o")
    assert table.price("anything", "local") is not None and table.price("someone-elses-model") is None
    usage = Usage(
        calls=[
            CallUsage(purpose="facts", prompt_tokens=1_000_000, completion_tokens=1_000_000),
            CallUsage(purpose="facts", prompt_tokens=5_000, completion_tokens=5_000, cached=True),
        ]
    )
    assert table.cost(usage, "gpt-4o-mini") == pytest.approx(0.15 + 0.60)
    assert table.cost(usage, "qwen", "local") == 0 and table.cost(usage, "unknown") is None


def test_prices_file_and_env(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text('{"my-model": {"input": 1, "output": 2}, "gpt-4o-mini": {"input": 9, "output": 9}}')
    from factkit import resolve_settings

    settings = resolve_settings(base_url="http://127.0.0.1:9/v1", env={"FACTKIT_PRICES": str(path)})
    table = resolve_prices(settings.prices_path)
    assert (
        table.cost(Usage(calls=[CallUsage(purpose="x", prompt_tokens=10**6, completion_tokens=10**6)]), "my-model") == 3
    )
    assert table.price("gpt-4o-mini") is not None and table.price("gpt-4o") is not None
    path.write_text('{"m": {"input": "cheap"}}')
    with pytest.raises(Exception, match="entry 'm'"):
        resolve_prices(path)
    with pytest.raises(Exception, match="cannot read"):
        resolve_prices(tmp_path / "none.json")


def _price_file(tmp_path: Path, usd_per_million: float) -> Path:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"fake-model": {"input": usd_per_million, "output": usd_per_million}}))
    return path


def test_max_cost_stops_before_the_budget_and_a_resume_finishes(tmp_path: Path) -> None:
    prices = _price_file(tmp_path, 10_000.0)  # $0.01 a token: each of these articles costs about $4
    out = tmp_path / "results.jsonl"
    model = FakeModel(handler=wire_for, model="fake-model")
    model.name = "openai"  # priced like a remote model
    ex = Extractor(backend=model, cache=False)
    texts = short_articles(10)
    records = ex.extract_many(texts, out=out, max_cost=15.0, prices=prices, concurrency=1)
    done = [r for r in records if r.ok]
    stopped = [r for r in records if r.error is not None and r.error.type == "BudgetError"]
    assert len(done) + len(stopped) == 10 and 1 <= len(done) < 10
    spent = sum(r.cost_usd or 0 for r in done)
    assert spent <= 15.0
    assert "budget of $15.00 would be exceeded" in stopped[0].error.message  # type: ignore[union-attr]
    assert len(read_records(out)) == len(done)  # inputs not started have no line: a resume picks them up
    again = ex.extract_many(texts, out=out, max_cost=1000.0, prices=prices)
    assert all(r.ok for r in again) and len(read_records(out)) == 10


def test_max_cost_needs_a_price(fake_server: FakeOpenAIServer) -> None:
    with pytest.raises(Exception, match="price of model 'fake-model'"):
        remote_extractor(fake_server).extract_many(["text"], max_cost=1.0)


def test_cli_max_cost_exits_1_and_says_what_remains(
    tmp_path: Path, fake_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _serve(fake_server, monkeypatch)
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text("\n".join(json.dumps({"text": t}) for t in short_articles(6)) + "\n", encoding="utf-8")
    out = tmp_path / "results.jsonl"
    prices = _price_file(tmp_path, 10_000.0)
    args = ["extract", str(jsonl), "--out", str(out), "--prices", str(prices), "--concurrency", "1"]
    assert main([*args, "--max-cost", "20"]) == 1
    err = capsys.readouterr().err
    assert "stopped by --max-cost $20.00" in err and "not started" in err
    assert 1 <= len(read_records(out)) < 6
    assert main([*args, "--max-cost", "500"]) == 0
    assert len(read_records(out)) == 6


def test_batch_usage_and_cost_are_reported(tmp_path: Path) -> None:
    model = FakeModel(handler=wire_for, model="gpt-4o-mini")
    model.name = "openai"
    ex = Extractor(backend=model, cache=True)
    texts = short_articles(3)
    first = ex.extract_many(texts)
    assert all(r.cost_usd and r.cost_usd > 0 for r in first)
    assert all(r.usage.total_tokens > 0 for r in first)
    second = ex.extract_many(texts)  # from the cache: free
    assert all(r.cost_usd == 0 and all(c.cached for c in r.usage.calls) for r in second)
    assert [r.result.facts for r in second if r.result] == [r.result.facts for r in first if r.result]


def test_a_progress_bar_with_rate_and_eta_on_a_terminal(tmp_path: Path, fake_server: FakeOpenAIServer) -> None:
    pty = pytest.importorskip("pty")
    fake_server.set_handler(lambda request: Reply.json(wire_for(request), delay=0.01))
    folder = tmp_path / "articles"
    folder.mkdir()
    for i, text in enumerate(short_articles(30)):
        (folder / f"{i}.txt").write_text(text, encoding="utf-8")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("FACTKIT_", "OPENAI_"))},
        "FACTKIT_BASE_URL": fake_server.base_url,
        "FACTKIT_API_KEY": SECRET,
        "FACTKIT_MODEL": "gpt-4o-mini",
        "FACTKIT_CACHE_DIR": str(tmp_path / "cache"),
        "COLUMNS": "120",
    }
    leader, follower = pty.openpty()
    cmd = [sys.executable, "-m", "factkit", "extract", str(folder), "--out", str(tmp_path / "r.jsonl")]
    child = subprocess.Popen(cmd, env=env, stdin=follower, stdout=follower, stderr=follower, close_fds=True)
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert child.wait(timeout=60) == 0
    text = shown.decode("utf-8", "replace")
    assert "extracting" in text and "30/30" in text and "/s" in text and "ETA" in text and "0 failed" in text
    assert "30 input(s): 30 extracted" in text


# ---- the results file is factkit's alone ------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [b"name,score\nann,3\n", b'{"text": "an input line, not a record"}\n', b"# notes\n", b"just one line, no newline"],
)
def test_out_never_rewrites_a_file_factkit_did_not_write(tmp_path: Path, content: bytes) -> None:
    out = tmp_path / "notes.csv"
    out.write_bytes(content)
    ex, model = fake_extractor(cache=False)
    with pytest.raises(UsageError, match="not a factkit record"):
        ex.extract_many(short_articles(2), out=out)
    assert out.read_bytes() == content and not model.requests


def test_cli_out_pointed_at_the_input_file_exits_2_and_keeps_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [json.dumps({"id": f"a{i}", "text": t}) + "\n" for i, t in enumerate(short_articles(2))]
    feed, other_feed = tmp_path / "in.jsonl", tmp_path / "tomorrow.jsonl"
    feed.write_text(lines[0])
    other_feed.write_text(lines[1])
    assert main(["extract", str(feed), "--out", str(other_feed), "--base-url", "http://127.0.0.1:9/v1"]) == 2
    assert "not a factkit record" in capsys.readouterr().err
    assert other_feed.read_text() == lines[1]


@pytest.mark.parametrize("where", ["folder", "devnull"])
def test_out_that_is_not_a_regular_file_is_a_usage_error(tmp_path: Path, where: str) -> None:
    out = tmp_path if where == "folder" else Path("/dev/null")
    ex, _ = fake_extractor(cache=False)
    with pytest.raises(UsageError, match="not a regular file"):
        ex.extract_many(short_articles(1), out=out)


def test_out_in_a_read_only_place_is_a_usage_error(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        out = Path("/proc/factkit-results.jsonl")  # root may write anywhere else
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        out = locked / "results.jsonl"
    ex, _ = fake_extractor(cache=False)
    with pytest.raises(UsageError, match="--out"):
        ex.extract_many(short_articles(1), out=out)


def test_a_symlinked_out_stays_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real.jsonl"
    link = tmp_path / "link.jsonl"
    link.symlink_to(real)
    ex, _ = fake_extractor(cache=False)
    ex.extract_many(short_articles(2), out=link)
    real.write_bytes(real.read_bytes() + b'{"id": "2", "sha')  # a cut line: the resume rewrites the file
    ex.extract_many(short_articles(3), out=link)
    assert link.is_symlink() and len(read_records(real)) == 3


def test_a_rewrite_never_clobbers_a_file_next_to_the_results(tmp_path: Path) -> None:
    out = tmp_path / "results.jsonl"
    neighbour = tmp_path / "results.jsonl.tmp"
    neighbour.write_text("mine")
    ex, _ = fake_extractor(cache=False)
    ex.extract_many(short_articles(1), out=out)
    out.write_bytes(out.read_bytes() + b'{"id": "9", "sha')
    ex.extract_many(short_articles(2), out=out)
    assert neighbour.read_text() == "mine"


def test_environment_errors_are_retried_on_resume(tmp_path: Path) -> None:
    import sqlite3

    out = tmp_path / "results.jsonl"
    texts = short_articles(2)
    broken = FakeModel([sqlite3.OperationalError("database or disk is full")], handler=wire_for)
    ex = Extractor(backend=broken, cache=False)
    first = ex.extract_many(texts[:1], out=out)
    assert first[0].error is not None and first[0].error.retried
    second = ex.extract_many(texts[:1], out=out)
    assert second[0].ok and len(read_records(out)) == 1


def test_resume_does_not_lock_a_file_that_was_replaced_meanwhile(tmp_path: Path) -> None:
    """A second run that opened the old file just before the first run's rewrite renamed a new one into place
    must not lock that orphan and write beside the first run."""
    from factkit.batch import _results

    out = tmp_path / "results.jsonl"
    out.write_bytes(b"")
    real_lock = _results._lock
    replaced = {"done": False}

    def lock_after_a_rename(fd: int, path: Path) -> None:
        if not replaced["done"] and path == out:
            replaced["done"] = True
            first = ResultsFile(out).open()  # the first run: it rewrites (a cut line) and holds the new file
            first.close()
            (tmp_path / "swap").write_bytes(b'{"id": "0", "sha')
            os.replace(tmp_path / "swap", out)
            held.append(ResultsFile(out).open())
        real_lock(fd, path)

    held: list[ResultsFile] = []
    _results._lock = lock_after_a_rename  # type: ignore[assignment]
    try:
        with pytest.raises(UsageError, match="another factkit run"):
            ResultsFile(out).open()
    finally:
        _results._lock = real_lock
        for r in held:
            r.close()
