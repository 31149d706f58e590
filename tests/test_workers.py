"""Batches in worker processes: the same records as in one process, a dying worker loses only what it held."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import task_of
from test_batch_support import SECRET, assert_grounded, fake_extractor, read_records, remote_extractor, short_articles

from factkit import BatchRecord, UsageError
from factkit.cli import main
from factkit.testing import FakeOpenAIServer, Reply, grounded_answer

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("no_local_model")]

POISON = "Nobody answers for this article."  # the server refuses it with a 400 (a permanent error)


def handler(request: dict[str, Any]) -> Reply:
    if POISON in json.dumps(request["messages"]):
        return Reply.error(400, {"error": {"message": "this article is refused"}})
    return Reply.json(grounded_answer(request))


def rate_limited_once() -> Callable[[dict[str, Any]], Reply]:
    """:func:`handler`, except that the first request gets a 429 (retried at once: Retry-After 0)."""
    limited = threading.Event()

    def once_limited(request: dict[str, Any]) -> Reply:
        if not limited.is_set():
            limited.set()
            return Reply.error(429, {"error": {"message": "slow down"}}, headers={"Retry-After": "0"})
        return handler(request)

    return once_limited


def comparable(record: BatchRecord) -> dict[str, Any]:
    """A record without what differs run to run (latencies)."""
    data = record.model_dump(mode="json")
    for part in (data.get("result") or {}, data.get("error") or {}):
        for call in (part.get("usage") or {}).get("calls", []):
            call.pop("latency_s", None)
    return data


def test_workers_give_the_same_records_as_one_process() -> None:
    inputs: list[Any] = [*short_articles(6), "", "   \n", f"{POISON} It says so twice.", b"\xff\xfe not utf-8"]
    with FakeOpenAIServer(handler=handler) as server:
        ex = remote_extractor(server)
        alone = ex.extract_many(inputs, concurrency=4, progress=False)
        in_workers = ex.extract_many(inputs, concurrency=4, progress=False, workers=2)
    assert [comparable(r) for r in in_workers] == [comparable(r) for r in alone]
    assert [r.ok for r in in_workers] == [True] * 6 + [False] * 4
    errors = [r.error for r in in_workers if r.error is not None]
    assert [e.type for e in errors] == ["InputError", "InputError", "ModelError", "InputError"]
    assert "refused" in errors[2].message and errors[2].usage is not None  # the tokens it cost came back too
    for text, record in zip(inputs[:6], in_workers[:6], strict=True):
        assert record.result is not None
        assert_grounded(text, record.result)


def test_a_worker_that_dies_fails_only_its_articles_and_a_rerun_finishes_them(tmp_path: Path) -> None:
    texts = short_articles(12, seed=4)
    victim = texts[5].split(". ")[0]  # its first sentence, as the prompt shows it
    killed = threading.Event()

    def killing_handler(request: dict[str, Any]) -> Reply:
        if victim in json.dumps(request["messages"]) and not killed.is_set():
            killed.set()
            # one of this test process's worker children is killed while it waits for this reply
            children = sorted(multiprocessing.active_children(), key=lambda p: p.name)
            os.kill(children[0].pid or 0, signal.SIGKILL)
            return Reply.json(grounded_answer(request), delay=0.5)
        return Reply.json(grounded_answer(request), delay=0.05)

    out = tmp_path / "results.jsonl"
    with FakeOpenAIServer(handler=killing_handler) as server:
        ex = remote_extractor(server)
        first = ex.extract_many(texts, concurrency=6, progress=False, workers=2, out=out)
        assert killed.is_set()
        lost = [r for r in first if not r.ok]
        assert lost and len(lost) < len(texts)  # the other worker went on
        for record in lost:
            assert record.error is not None and record.error.type == "TransportError"
            assert "worker process" in record.error.message and "run the batch again" in record.error.message
        assert len(first) == 12 and len({r.id for r in first}) == 12  # one record per article, killed or not
        again = ex.extract_many(texts, concurrency=6, progress=False, workers=2, out=out)
    assert all(r.ok for r in again)
    lines = read_records(out)
    assert sorted(r["id"] for r in lines if r["ok"]) == sorted(str(i) for i in range(12))  # each one done once


def test_workers_need_a_backend_they_can_rebuild() -> None:
    ex, _ = fake_extractor(cache=False)  # a hand-made backend object can't be sent to another process
    with pytest.raises(UsageError, match="build it from settings"):
        ex.extract_many(["One sentence here."], workers=2)
    with FakeOpenAIServer(handler=handler) as server, pytest.raises(UsageError, match="workers=-1"):
        remote_extractor(server).extract_many(["One sentence here."], workers=-1)


def test_workers_refuse_the_embedded_model(monkeypatch: pytest.MonkeyPatch) -> None:
    from factkit import Extractor, resolve_settings
    from factkit.backends.base import ChatBackend

    class OneAtATime(ChatBackend):
        name = "local"
        parallel_calls = False

    monkeypatch.setattr("factkit._extract.make_backend", lambda settings: OneAtATime(lambda **kw: None, model="m"))
    ex = Extractor(settings=resolve_settings(backend="local"))
    with pytest.raises(UsageError, match="runs one article at a time"):
        ex.extract_many(["One sentence here."], workers=2)


def test_cli_workers(tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The workers' log lines reach the terminal (a retried 429 here), and no key reaches them or the results."""
    folder = tmp_path / "in"
    folder.mkdir()
    for i, text in enumerate(short_articles(4, seed=9)):
        (folder / f"a{i}.txt").write_text(text, encoding="utf-8")
    out = tmp_path / "results.jsonl"
    with FakeOpenAIServer(handler=rate_limited_once()) as server:
        monkeypatch.setenv("FACTKIT_BASE_URL", server.base_url)
        monkeypatch.setenv("FACTKIT_API_KEY", SECRET)
        monkeypatch.setenv("FACTKIT_MODEL", "fake-model")
        monkeypatch.setenv("FACTKIT_CACHE", "0")
        code = main(["-v", "extract", str(folder), "--out", str(out), "--workers", "2"])
        assert {task_of(r.json) for r in server.chat_requests} == {"entities", "facts"}
    err = capfd.readouterr().err
    assert code == 0, err
    assert "HTTP 429" in err and "retry 1 of" in err  # logged by a worker
    assert "2 worker processes" in err and SECRET not in err
    records = read_records(out)
    assert len(records) == 4 and all(r["ok"] for r in records)
    assert SECRET not in out.read_text(encoding="utf-8")


def test_worker_log_lines_reach_the_callers_handlers(caplog: pytest.LogCaptureFixture) -> None:
    with FakeOpenAIServer(handler=rate_limited_once()) as server, caplog.at_level("INFO", logger="factkit"):
        records = remote_extractor(server).extract_many(short_articles(2), progress=False, workers=1)
    assert all(r.ok for r in records)
    lines = [r.getMessage() for r in caplog.records if r.name == "factkit"]
    assert any("HTTP 429" in line and "retry 1 of" in line for line in lines)  # logged in the worker
    assert not any(SECRET in line for line in lines)


def test_a_published_value_that_cannot_travel_gets_the_same_record() -> None:
    def not_a_date() -> None: ...

    with FakeOpenAIServer(handler=handler) as server:
        ex = remote_extractor(server)
        alone = ex.extract_many(short_articles(1), published=not_a_date, progress=False)
        in_workers = ex.extract_many(short_articles(1), published=not_a_date, progress=False, workers=1)
    assert [comparable(r) for r in in_workers] == [comparable(r) for r in alone]
    assert alone[0].error is not None and alone[0].error.type == "UsageError"


SCRIPT_WITHOUT_GUARD = """
import os, sys
from factkit import Extractor, UsageError
ex = Extractor(base_url=os.environ["URL"], api_key="sk-test-0123456789", model="fake-model", cache=False)
try:
    ex.extract_many(["Maria Lopez said in Paris that the audit was done."], progress=False, workers=1)
except UsageError as exc:
    print("USAGE ERROR:", exc)
"""


def test_a_script_without_a_main_guard_gets_a_clear_error(tmp_path: Path) -> None:
    script = tmp_path / "no_guard.py"
    script.write_text(SCRIPT_WITHOUT_GUARD, encoding="utf-8")
    with FakeOpenAIServer(handler=handler) as server:
        env = {**os.environ, "URL": server.base_url}
        done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, env=env)
    assert "USAGE ERROR:" in done.stdout, done.stderr[-2000:]
    assert 'if __name__ == "__main__":' in done.stdout


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_workers_stop_when_their_parent_is_killed(tmp_path: Path) -> None:
    import time

    folder = tmp_path / "articles"
    folder.mkdir()
    for i, text in enumerate(short_articles(200, seed=3)):
        (folder / f"a{i:03d}.txt").write_text(text, encoding="utf-8")

    def struggling(request: dict[str, Any]) -> Reply:  # the workers retry every 50 ms, with no need of the parent
        return Reply.error(503, {"error": {"message": "overloaded"}}, {"Retry-After": "0.05"})

    with FakeOpenAIServer(handler=struggling) as server:
        env = {**os.environ, "FACTKIT_BASE_URL": server.base_url, "FACTKIT_API_KEY": SECRET, "FACTKIT_CACHE": "0"}
        cmd = [sys.executable, "-m", "factkit", "extract", str(folder), "--out", str(tmp_path / "r.jsonl")]
        parent = subprocess.Popen([*cmd, "--workers", "2", "--concurrency", "4"], env=env, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while len(server.chat_requests) < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        workers = _children(parent.pid)
        assert workers, "no worker processes found"
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        # a request about to leave checks the parent first: only those already on the wire may still arrive
        time.sleep(0.1)
        after_kill = len(server.chat_requests)
        time.sleep(2.0)
        assert len(server.chat_requests) == after_kill  # nobody sends requests any more
        assert not [p for p in workers if _running(p)]


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
