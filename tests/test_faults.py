"""Faults: 1,000 articles over HTTP while a fifth of the requests fail, a kill -9 in the middle, a resume.

The real ``openai`` client talks to :class:`~factkit.testing.FakeOpenAIServer`, whose handler fails about 20%
of the requests with a deterministic mix of 429 (Retry-After), 500, dropped connections, hangs past the
client timeout, invalid JSON and truncated bodies. Backoff waits are zeroed.
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from test_batch_support import SECRET, assert_grounded, read_records, remote_extractor, short_articles, wire_text

from factkit.testing import FakeOpenAIServer, Reply

pytestmark = pytest.mark.slow

KINDS = ("429", "500", "drop", "hang", "invalid", "truncated")
TIMEOUT = 0.5
HANG = 1.5


class Faults:
    """A handler failing ``rate`` of the requests; which ones depends only on the request and its retry count."""

    def __init__(self, rate: float = 0.2, *, seed: int = 7, delay: float = 0.0) -> None:
        self.rate = rate
        self.seed = seed
        self.delay = delay
        self.lock = threading.Lock()
        self.tries: collections.Counter[str] = collections.Counter()
        self.served: collections.Counter[str] = collections.Counter()

    def __call__(self, request: dict[str, Any]) -> Reply:
        key = hashlib.sha256(json.dumps(request.get("messages"), sort_keys=True).encode()).hexdigest()
        with self.lock:
            n = self.tries[key]
            self.tries[key] += 1
        roll = int(hashlib.sha256(f"{self.seed}:{key}:{n}".encode()).hexdigest()[:8], 16) / 2**32
        kind = KINDS[min(len(KINDS) - 1, int(roll / self.rate * len(KINDS)))] if roll < self.rate else "ok"
        with self.lock:
            self.served[kind] += 1
        if kind == "429":
            return Reply.error(429, headers={"Retry-After": "0.001"})
        if kind == "500":
            return Reply.error(500)
        if kind == "drop":
            return Reply.drop()
        if kind == "hang":
            return Reply.hang(HANG)
        if kind == "invalid":
            return Reply.text('{"people": ["Maria Lopez", oops')
        if kind == "truncated":
            return Reply.truncated(wire_text(request))
        return Reply.json(json.loads(wire_text(request)), delay=self.delay)


def _check(out: Path, ids: list[str], texts: dict[str, str]) -> collections.Counter[str]:
    lines = read_records(out)
    got = [r["id"] for r in lines]
    assert len(got) == len(set(got)), "an input has two records"
    assert sorted(got) == sorted(ids), "an input has no record"
    outcome: collections.Counter[str] = collections.Counter()
    for r in lines:
        if r["ok"]:
            outcome["ok"] += 1
            assert r["sha256"] == hashlib.sha256(texts[r["id"]].encode()).hexdigest()
        else:
            outcome[r["error"]["type"]] += 1
            assert r["error"]["message"]
    return outcome


def test_a_thousand_articles_through_faults_end_as_one_record_each(tmp_path: Path) -> None:
    faults = Faults()
    texts = {f"a{i}": t for i, t in enumerate(short_articles(1000, seed=11))}
    inputs = [{"id": k, "text": t} for k, t in texts.items()]
    out = tmp_path / "results.jsonl"
    with FakeOpenAIServer(handler=faults) as server:
        ex = remote_extractor(server, timeout=TIMEOUT)
        records = ex.extract_many(inputs, out=out, concurrency=32)
        assert len(records) == 1000 and [r.id for r in records] == list(texts)
        outcome = _check(out, list(texts), texts)
        assert outcome["ok"] >= 950, outcome
        assert set(outcome) <= {"ok", "TransportError", "OutputError"}, outcome
        assert all(faults.served[k] > 0 for k in KINDS), faults.served
        failed = sum(faults.served[k] for k in KINDS)
        assert 0.15 < failed / sum(faults.served.values()) < 0.25
        for r in records[:50]:
            if r.result is not None:
                assert_grounded(texts[r.id], r.result)
        # a re-run retries the transient failures only and still leaves one record per input
        again = ex.extract_many(inputs, out=out, concurrency=32)
        assert [r.id for r in again] == list(texts)
        after = _check(out, list(texts), texts)
        assert after["ok"] >= outcome["ok"] and after["TransportError"] <= outcome["TransportError"]
        assert after["OutputError"] == outcome["OutputError"]


_CHILD = """
import sys
from factkit.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_kill_in_the_middle_loses_nothing_and_a_rerun_finishes(tmp_path: Path) -> None:
    faults = Faults(delay=0.02)
    texts = {f"k{i}": t for i, t in enumerate(short_articles(300, seed=5))}
    jsonl = tmp_path / "articles.jsonl"
    jsonl.write_text("".join(json.dumps({"id": k, "text": t}) + "\n" for k, t in texts.items()), encoding="utf-8")
    out = tmp_path / "results.jsonl"
    with FakeOpenAIServer(handler=faults) as server:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("FACTKIT_", "OPENAI_"))},
            "FACTKIT_BASE_URL": server.base_url,
            "FACTKIT_API_KEY": SECRET,
            "FACTKIT_MODEL": "fake-model",
            "FACTKIT_TIMEOUT": str(TIMEOUT),
            "FACTKIT_CACHE_DIR": str(tmp_path / "cache"),
        }
        cmd = [sys.executable, "-c", _CHILD, "extract", str(jsonl), "--out", str(out), "--concurrency", "16"]
        child = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and child.poll() is None:
                if out.exists() and out.read_bytes().count(b"\n") >= 40:
                    break
                time.sleep(0.02)
            assert child.poll() is None, "the batch ended before it could be killed"
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=10)
        finally:
            if child.poll() is None:
                child.kill()
            assert child.stderr is not None
            child.stderr.close()
        data = out.read_bytes()
        complete = data[: data.rfind(b"\n") + 1]
        killed_with = [json.loads(line) for line in complete.splitlines()]  # every complete line is a record
        assert 40 <= len(killed_with) < 300
        assert len({r["id"] for r in killed_with}) == len(killed_with)

        ex = remote_extractor(server, timeout=TIMEOUT)
        records = ex.extract_many([{"id": k, "text": t} for k, t in texts.items()], out=out, concurrency=32)
        assert len(records) == 300
        outcome = _check(out, list(texts), texts)
        assert outcome["ok"] >= 280, outcome
        kept = {r["id"]: r for r in read_records(out)}
        for r in killed_with:
            if r["ok"]:
                assert kept[r["id"]] == r  # what was done before the kill was kept, not redone
