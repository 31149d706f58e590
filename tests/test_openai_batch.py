"""The OpenAI Batch API path: submit, status, collect against the fake /v1/files + /v1/batches server."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import openai
import pytest
from test_batch_support import SECRET, article, read_records, short_articles, wire_for

from factkit import BatchRecord, Extractor, UsageError, resolve_settings
from factkit.batch._openai_batch import batch_prices, collect, load_state, status, submit
from factkit.cli import main
from factkit.testing import FakeBatchServer, FakeOpenAIServer, Reply


def remote_extractor(server: FakeBatchServer | FakeOpenAIServer, **kw: Any) -> Extractor:
    """The real openai client against ``server``: zero retry waits, no cache, settings overridable."""
    values: dict[str, Any] = {"model": "fake-model", "retry_wait_multiplier": 0.0, "timeout": 5.0, "cache": False}
    settings = resolve_settings(base_url=server.base_url, api_key=SECRET, **{**values, **kw})
    return Extractor(settings=settings)


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> Any:
    """``factkit.cli.main`` with the batch subcommand registered (until factkit/cli/__init__.py does it)."""
    import factkit.cli
    from factkit.cli import batch as batch_command

    original = factkit.cli.build_parser

    def build() -> argparse.ArgumentParser:
        parser = original()
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        if "batch" not in sub.choices:
            batch_command.add_parser(sub)
        return parser

    monkeypatch.setattr(factkit.cli, "build_parser", build)
    return main


def good(request: dict[str, Any]) -> Reply:
    return Reply.json(wire_for(request))


def comparable(record: BatchRecord) -> dict[str, Any]:
    """A record as JSON without what differs between two runs of the same calls: latencies, and the cost."""
    data = json.loads(record.model_dump_json())
    data.pop("cost_usd")
    for usage in [(data.get("result") or {}).get("usage"), (data.get("error") or {}).get("usage")]:
        for call in (usage or {}).get("calls", []):
            call.pop("latency_s")
    return data


def live(inputs: list[Any], handler: Any, **kw: Any) -> tuple[list[BatchRecord], FakeOpenAIServer]:
    with FakeOpenAIServer(handler=handler) as server:
        return remote_extractor(server, **kw).extract_many(inputs), server


def run_to_end(state: Path, server: FakeBatchServer, out: Path, **kw: Any) -> list[BatchRecord]:
    for _ in range(10):
        records = collect(state, remote_extractor(server, **kw), out)
        if load_state(state).done:
            return records
    raise AssertionError("the batch run never finished")


def is_reask(request: dict[str, Any]) -> bool:
    return len(request["messages"]) > 2  # system + user; a re-ask adds the bad answer and the error


# ---- records identical to live ones ----------------------------------------------------------------------


def test_batch_records_and_requests_are_the_live_ones(tmp_path: Path) -> None:
    inputs: list[Any] = [
        *short_articles(3),
        article(2500, seed=4),
        {"id": "m", "text": "x" * 3, "published": "2020-01-02"},
    ]
    inputs.append("")  # an unusable input: its error record, no request
    expected, live_server = live(inputs, good)
    with FakeBatchServer(handler=good, polls=2) as server:
        state = tmp_path / "run.json"
        submitted = submit(remote_extractor(server), inputs, state)
        assert submitted.waiting == 5 and not submitted.done
        assert status(state, remote_extractor(server)).jobs[0].status == "in_progress"
        records = run_to_end(state, server, tmp_path / "out.jsonl")
        lines = server.lines()
    assert [comparable(r) for r in records] == [comparable(r) for r in expected]
    assert len(records) == len(inputs) and not records[-1].ok
    # the batch sent exactly the live requests, once each, whatever the order
    key = lambda body: json.dumps(body, sort_keys=True)  # noqa: E731
    assert sorted(key(line["body"]) for line in lines) == sorted(key(r.json) for r in live_server.chat_requests)
    assert {line["url"] for line in lines} == {"/v1/chat/completions"}
    # custom_id: round, task, chunk, sha prefix, input id
    ids = [line["custom_id"].split(":", 4) for line in lines]
    assert {(i[0], i[1]) for i in ids} == {("0", "entities"), ("0", "facts")}
    assert {i[4] for i in ids} == {"0", "1", "2", "3", "m"}
    assert {i[3] for i in ids if i[4] == "m"} == {records[4].sha256[:12]}
    written = read_records(tmp_path / "out.jsonl")
    assert sorted(r["id"] for r in written) == sorted(r.id for r in records)


def test_chunks_of_a_long_article_each_get_their_calls(tmp_path: Path) -> None:
    text = article(6000, seed=2)
    with FakeBatchServer(handler=good) as server:
        state = tmp_path / "run.json"
        ex = remote_extractor(server)
        ex.max_chars = 1500
        submit(ex, [text], state)
        chunks = {line["custom_id"].split(":")[2] for line in server.lines()}
        records = collect(state, ex, tmp_path / "out.jsonl")
    assert len(chunks) >= 4 and chunks == {str(i) for i in range(len(chunks))}
    assert records[0].ok and records[0].result is not None
    with FakeOpenAIServer(handler=good) as live_server:
        live_ex = remote_extractor(live_server)
        live_ex.max_chars = 1500
        expected = live_ex.extract_many([text])
    assert [comparable(r) for r in records] == [comparable(r) for r in expected]


# ---- re-asks ---------------------------------------------------------------------------------------------


def test_an_invalid_answer_is_reasked_in_the_next_round(tmp_path: Path) -> None:
    def handler(request: dict[str, Any]) -> Reply:
        wire = wire_for(request)
        if "facts" in wire and not is_reask(request):
            return Reply.json({"headline": "no facts here"})  # fails validation: re-asked
        return Reply.json(wire)

    texts = short_articles(2)
    expected, _ = live(texts, handler)
    with FakeBatchServer(handler=handler) as server:
        state = tmp_path / "run.json"
        submit(remote_extractor(server), texts, state)
        first = collect(state, remote_extractor(server), tmp_path / "out.jsonl")
        after = load_state(state)
        assert first == [] and after.waiting == 2 and after.round == 1 and not after.done
        rounds = [line["custom_id"].split(":")[:2] for line in server.lines(after.jobs[-1].batch_id)]
        assert rounds == [["1", "facts"], ["1", "facts"]]
        records = collect(state, remote_extractor(server), tmp_path / "out.jsonl")
    assert load_state(state).done
    assert [comparable(r) for r in records] == [comparable(r) for r in expected]
    assert all(r.ok and r.result is not None and r.result.usage.calls[1].attempts == 2 for r in records)


def test_an_answer_that_never_validates_ends_as_the_live_error(tmp_path: Path) -> None:
    def handler(request: dict[str, Any]) -> Reply:
        wire = wire_for(request)
        return Reply.json({"headline": "bad"} if "facts" in wire else wire)

    texts = short_articles(1)
    expected, _ = live(texts, handler)
    with FakeBatchServer(handler=handler) as server:
        records = run_to_end(submit_path(tmp_path, server, texts), server, tmp_path / "out.jsonl")
        assert load_state(tmp_path / "run.json").round == 1  # the default: one re-ask, then the error
    assert records[0].error is not None and records[0].error.type == "OutputError"
    assert [comparable(r) for r in records] == [comparable(r) for r in expected]


def submit_path(tmp_path: Path, server: FakeBatchServer, inputs: list[Any], **kw: Any) -> Path:
    state = tmp_path / "run.json"
    submit(remote_extractor(server), inputs, state, **kw)
    return state


# ---- failures, limits, crashes ---------------------------------------------------------------------------


def test_failed_requests_become_error_records_and_every_input_is_there_once(tmp_path: Path) -> None:
    texts = short_articles(4)

    def handler(request: dict[str, Any]) -> Reply:
        user = json.dumps(request["messages"])
        if texts[1][:30] in user:
            return Reply.drop()  # no answer at all: an error-file entry without a response
        if texts[2][:30] in user and "facts" in wire_for(request):
            return Reply.error(400, {"error": {"message": "bad request, try another"}})
        return good(request)

    out = tmp_path / "out.jsonl"
    with FakeBatchServer(handler=handler) as server:
        records = run_to_end(submit_path(tmp_path, server, texts), server, out)
        error_lines = [
            json.loads(line)
            for f in server.files.values()
            if f["filename"] == "errors.jsonl"
            for line in f["content"].splitlines()
        ]
    assert {bool(e["response"]) for e in error_lines} == {True, False}
    assert [r.ok for r in records] == [True, False, False, True]
    assert records[1].error is not None and records[1].error.type == "TransportError"
    assert records[2].error is not None and records[2].error.type == "ModelError"
    assert "HTTP 400" in records[2].error.message and "bad request" in records[2].error.message
    written = read_records(out)
    assert sorted(r["id"] for r in written) == ["0", "1", "2", "3"]


def test_transient_line_failures_are_asked_again_in_a_later_round_and_nothing_is_lost(tmp_path: Path) -> None:
    """One request in five fails transiently (HTTP 500, 429, 503 or no answer) the first time it is asked: every
    article still ends with its live record, and the failed requests went into the next round."""
    texts = short_articles(10)
    expected, _ = live(texts, good)
    failures = [Reply.error(500, {"error": {"message": "boom"}}), Reply.error(429), Reply.drop(), Reply.error(503)]
    asked: dict[str, int] = {}

    def handler(request: dict[str, Any]) -> Reply:
        key = json.dumps(request, sort_keys=True)
        asked[key] = asked.get(key, 0) + 1
        n = len(asked)
        if asked[key] == 1 and n % 5 == 0:
            return failures[(n // 5) % len(failures)]
        return good(request)

    out = tmp_path / "out.jsonl"
    with FakeBatchServer(handler=handler) as server:
        records = run_to_end(submit_path(tmp_path, server, texts), server, out)
        rounds = {line["custom_id"].split(":")[0] for line in server.lines()}
    assert sum(1 for n in asked.values() if n > 1) == len(asked) // 5 >= 4
    assert [r.ok for r in records] == [True] * 10
    assert [comparable(r)["result"] for r in records] == [comparable(r)["result"] for r in expected]
    assert rounds == {"0", "1"}
    assert sorted(r["id"] for r in read_records(out)) == sorted(str(i) for i in range(10))


def test_a_request_that_keeps_failing_transiently_is_final_after_max_tries(tmp_path: Path) -> None:
    from factkit.batch._openai_batch import MAX_TRIES

    texts = short_articles(2)
    tries: list[int] = []

    def handler(request: dict[str, Any]) -> Reply:
        if texts[0][:30] in json.dumps(request["messages"]):
            tries.append(1)
            return Reply.error(500, {"error": {"message": "still down"}})
        return good(request)

    with FakeBatchServer(handler=handler) as server:
        state = submit_path(tmp_path, server, texts)
        records = run_to_end(state, server, tmp_path / "o.jsonl")
    assert [r.ok for r in records] == [False, True]
    assert records[0].error is not None and records[0].error.type == "TransportError"
    assert f"({MAX_TRIES} rounds)" in records[0].error.message and "HTTP 500" in records[0].error.message
    assert len(tries) == 2 * MAX_TRIES  # the article's two calls, each asked MAX_TRIES times, no more
    assert load_state(state).done


def test_an_expired_batch_fails_its_requests(tmp_path: Path) -> None:
    with FakeBatchServer(handler=good, final_status="expired") as server:
        records = run_to_end(submit_path(tmp_path, server, short_articles(2)), server, tmp_path / "o.jsonl")
    assert [r.ok for r in records] == [False, False]
    assert all(r.error is not None and "expired" in r.error.message for r in records)


def test_rounds_are_split_at_the_file_limits(tmp_path: Path) -> None:
    texts = short_articles(5)
    expected, _ = live(texts, good)
    with FakeBatchServer(handler=good, max_requests=3) as server:
        state = submit_path(tmp_path, server, texts, max_requests=3)
        assert len(load_state(state).jobs) == 4  # 10 requests, at most 3 a file
        records = run_to_end(state, server, tmp_path / "out.jsonl")
        assert all(b["status"] == "completed" for b in server.batches.values())
        sizes = [len(f["content"]) for f in server.files.values() if f["purpose"] == "batch"]
    assert [comparable(r) for r in records] == [comparable(r) for r in expected]
    assert len(read_records(tmp_path / "out.jsonl")) == 5
    with FakeBatchServer(handler=good) as server:
        state = submit_path(tmp_path / "b", server, texts, max_bytes=max(sizes) // 2)
        assert len(load_state(state).jobs) > 4
        assert len(run_to_end(state, server, tmp_path / "b.jsonl")) == 5


def test_a_request_over_the_file_size_limit_is_an_error_record(tmp_path: Path) -> None:
    with FakeBatchServer(handler=good) as server:
        records = run_to_end(
            submit_path(tmp_path, server, [short_articles(1)[0], article(9000)], max_bytes=8192),
            server,
            tmp_path / "o.jsonl",
        )
    assert [r.ok for r in records] == [True, False]
    assert records[1].error is not None and "limit" in records[1].error.message


def test_a_crash_after_submit_resumes_from_the_state_file(tmp_path: Path) -> None:
    texts = short_articles(3)
    expected, _ = live(texts, good)
    with FakeBatchServer(handler=good, polls=1) as server:
        state = submit_path(tmp_path, server, texts)
        del state  # everything else is gone: new objects read the file
        records = run_to_end(tmp_path / "run.json", server, tmp_path / "out.jsonl")
        again = collect(tmp_path / "run.json", remote_extractor(server), tmp_path / "out.jsonl")
        assert len(server.batches) == 1
    assert [comparable(r) for r in records] == [comparable(r) for r in expected] == [comparable(r) for r in again]
    assert len(read_records(tmp_path / "out.jsonl")) == 3


def test_a_crash_while_creating_a_batch_does_not_create_it_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = openai.resources.batches.Batches.create

    def create_then_crash(self: Any, **kwargs: Any) -> Any:
        real(self, **kwargs)
        raise KeyboardInterrupt  # killed before the batch id reached the state file

    texts = short_articles(2)
    with FakeBatchServer(handler=good) as server:
        monkeypatch.setattr(openai.resources.batches.Batches, "create", create_then_crash)
        with pytest.raises(KeyboardInterrupt):
            submit_path(tmp_path, server, texts)
        monkeypatch.setattr(openai.resources.batches.Batches, "create", real)
        assert load_state(tmp_path / "run.json").jobs[0].status == "creating"
        records = run_to_end(tmp_path / "run.json", server, tmp_path / "out.jsonl")
        assert len(server.batches) == 1
    assert all(r.ok for r in records) and len(records) == 2


def test_a_crash_before_the_upload_rebuilds_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(self: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    real = openai.resources.files.Files.create
    with FakeBatchServer(handler=good) as server:
        monkeypatch.setattr(openai.resources.files.Files, "create", crash)
        with pytest.raises(KeyboardInterrupt):
            submit_path(tmp_path, server, short_articles(2))
        monkeypatch.setattr(openai.resources.files.Files, "create", real)
        records = run_to_end(tmp_path / "run.json", server, tmp_path / "out.jsonl")
        assert len(server.lines()) == 4
    assert all(r.ok for r in records)


# ---- cost, the state file, secrets -----------------------------------------------------------------------


def test_the_cost_is_the_batch_price(tmp_path: Path) -> None:
    texts = short_articles(2)
    expected, _ = live(texts, good, model="gpt-4o-mini")
    with FakeBatchServer(handler=good) as server:
        submit(remote_extractor(server, model="gpt-4o-mini"), texts, tmp_path / "run.json")
        records = run_to_end(tmp_path / "run.json", server, tmp_path / "o.jsonl", model="gpt-4o-mini")
    for batch, one in zip(records, expected, strict=True):
        assert batch.cost_usd is not None and one.cost_usd is not None and batch.cost_usd > 0
        assert batch.usage.total_tokens == one.usage.total_tokens
        assert batch.cost_usd == pytest.approx(one.cost_usd / 2)
    assert batch_prices(_table()).price("gpt-4o-mini") is not None


def _table() -> Any:
    from factkit._cost import PriceTable

    return PriceTable.default()


def test_the_state_file_is_never_written_over_a_foreign_file(tmp_path: Path) -> None:
    state = tmp_path / "run.json"
    state.write_text('{"some": "other file"}\n')
    with FakeBatchServer(handler=good) as server:
        with pytest.raises(UsageError, match="not a factkit batch state"):
            submit(remote_extractor(server), short_articles(1), state)
        with pytest.raises(UsageError, match="not a factkit batch state"):
            collect(state, remote_extractor(server), tmp_path / "o.jsonl")
        assert state.read_text() == '{"some": "other file"}\n' and not server.requests
        ours = tmp_path / "ours.json"
        submit(remote_extractor(server), short_articles(1), ours)
        with pytest.raises(UsageError, match="already holds a batch run"):
            submit(remote_extractor(server), short_articles(1), ours)
        with pytest.raises(UsageError, match="other settings"):
            collect(ours, remote_extractor(server, model="gpt-4o"), tmp_path / "o.jsonl")
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_the_key_is_in_no_file_record_or_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, cli: Any
) -> None:
    texts = short_articles(2)

    def handler(request: dict[str, Any]) -> Reply:
        if texts[1][:30] in json.dumps(request["messages"]):
            return Reply.error(500, {"error": {"message": f"upstream saw key {SECRET}"}})
        return Reply.json({**wire_for(request), "note": SECRET} if "facts" in wire_for(request) else wire_for(request))

    out = tmp_path / "out.jsonl"
    with FakeBatchServer(handler=handler) as server:
        records = run_to_end(submit_path(tmp_path, server, texts), server, out)
        assert all(SECRET not in json.dumps(r.headers) for r in server.requests)
        monkeypatch.setenv("FACTKIT_API_KEY", SECRET)
        monkeypatch.setenv("FACTKIT_MODEL", "fake-model")
        assert cli(["batch", "status", str(tmp_path / "run.json"), "--base-url", server.base_url]) == 0
        assert (
            cli(["batch", "collect", str(tmp_path / "run.json"), "--base-url", server.base_url, "--out", str(out)]) == 1
        )
    assert records[1].error is not None and "HTTP 500" in records[1].error.message
    for text in [(tmp_path / "run.json").read_text(), out.read_text(), *(r.model_dump_json() for r in records)]:
        assert SECRET not in text and SECRET[:16] not in text
    assert SECRET not in capsys.readouterr().err


# ---- the command line ------------------------------------------------------------------------------------


def test_cli_submit_status_collect(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Any) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for i, text in enumerate(short_articles(3)):
        (folder / f"a{i}.txt").write_text(text)
    state, out = tmp_path / "run.json", tmp_path / "out.jsonl"
    with FakeBatchServer(handler=good, polls=1) as server:
        monkeypatch.setenv("FACTKIT_BASE_URL", server.base_url)
        monkeypatch.setenv("FACTKIT_API_KEY", SECRET)
        monkeypatch.setenv("FACTKIT_MODEL", "fake-model")
        monkeypatch.setenv("FACTKIT_CACHE", "0")
        assert cli(["batch", "submit", str(folder), "--state", str(state)]) == 0
        assert cli(["batch", "status", str(state)]) == 0
        assert cli(["batch", "collect", str(state), "--out", str(out)]) == 0
        assert cli(["batch", "submit", str(folder), "--state", str(state)]) == 2  # never over a run
    records = read_records(out)
    assert sorted(r["id"] for r in records) == ["a0.txt", "a1.txt", "a2.txt"] and all(r["ok"] for r in records)


def test_status_and_collect_read_the_endpoint_and_model_from_a_reindented_state_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Any
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for i, text in enumerate(short_articles(2)):
        (folder / f"a{i}.txt").write_text(text)
    state, out = tmp_path / "run.json", tmp_path / "out.jsonl"
    with FakeBatchServer(handler=good, polls=1) as server:
        monkeypatch.setenv("FACTKIT_API_KEY", SECRET)
        monkeypatch.setenv("FACTKIT_CACHE", "0")
        args = ["batch", "submit", str(folder), "--state", str(state), "--base-url", server.base_url]
        assert cli([*args, "--model", "fake-model"]) == 0
        # a JSON tool re-indents the file: still factkit's
        state.write_text(json.dumps(json.loads(state.read_text()), indent=2))
        # exactly as the README shows them: no --base-url, no --model
        assert cli(["batch", "status", str(state)]) == 0
        assert cli(["batch", "collect", str(state), "--out", str(out)]) == 0
    assert sorted(r["id"] for r in read_records(out)) == ["a0.txt", "a1.txt"]
    # a file that is not factkit's is still refused
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps({"hello": 1, "factkit_state": "factkit-openai-batch/1"}, indent=2))
    assert cli(["batch", "status", str(foreign)]) == 2


def test_only_backends_from_settings_are_batched(tmp_path: Path) -> None:
    from test_batch_support import fake_extractor

    ex, _ = fake_extractor(cache=False)
    with pytest.raises(UsageError, match="Batch API needs"):
        submit(ex, short_articles(1), tmp_path / "run.json")
    assert not (tmp_path / "run.json").exists()
