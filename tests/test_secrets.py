"""API keys never appear in logs, cache files, results, batch files, CLI output or exception messages.

The fake server is made as indiscreet as real ones can be: its error bodies quote the key it was sent.
Every artefact is then searched for the key, and for a key that doesn't look like one (``sk-...``).
"""

from __future__ import annotations

import logging
import traceback
from pathlib import Path
from typing import Any

import pytest
from test_batch_support import SECRET, short_articles, wire_for

from factkit import ConfigError, Extractor, FactkitError, resolve_settings
from factkit.cli import main
from factkit.testing import FakeOpenAIServer, Reply

OPAQUE = "opaque-KEY-9f8e7d6c5b4a3210"  # no known key shape: only registration can redact it


def _leaky(key: str) -> Any:
    """Answers articles about 'fail' with errors that quote the key, the rest correctly."""

    def handler(request: dict[str, Any]) -> Reply:
        text = str(request.get("messages"))
        if "case 401" in text:
            return Reply.error(401, {"error": {"message": f"Incorrect API key provided: {key}", "code": "invalid"}})
        if "case 500" in text:
            body = {"error": {"message": f"internal error for Bearer {key}"}}
            return Reply.error(500, body, {"Retry-After": "0.001"})  # the CLI can't zero its backoff
        return Reply.json(wire_for(request))

    return handler


def _everything(tmp_path: Path) -> bytes:
    """The bytes of every file under ``tmp_path`` (cache, results, outputs)."""
    return b"\n".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())


def _exception_texts(exc: BaseException) -> str:
    parts = [str(exc), repr(exc), "".join(traceback.format_exception(exc)), repr(exc.args)]
    if isinstance(exc, FactkitError):
        parts.append(exc.message)
    return "\n".join(parts)


@pytest.mark.parametrize("key", [SECRET, OPAQUE])
def test_the_key_appears_nowhere(
    key: str, tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, factkit's, openai's and httpx's included
    texts = [*short_articles(3), "Maria Lopez reported case 401 to Acme.", "John Carter saw case 500 at Globex."]
    with FakeOpenAIServer(handler=_leaky(key)) as server:
        settings = resolve_settings(
            base_url=server.base_url,
            api_key=key,
            model="fake-model",
            retry_wait_multiplier=0.0,
            transport_retries=1,
            cache_dir=tmp_path / "cache",
        )
        ex = Extractor(settings=settings)
        seen: list[str] = []

        # one article at a time: a result, and two failures
        seen.append(ex.extract(texts[0]).model_dump_json())
        for text in texts[3:]:
            with pytest.raises(FactkitError) as info:
                ex.extract(text)
            seen.append(_exception_texts(info.value))
            original = getattr(info.value, "original", None)
            assert original is None or isinstance(original, Exception)

        # a batch with a results file
        # a batch with a results file: the rejected key stops it (a configuration error), the rest is written
        with pytest.raises(ConfigError) as stopped:
            ex.extract_many(texts, out=tmp_path / "out" / "results.jsonl", concurrency=1)
        seen.append(_exception_texts(stopped.value))
        records = ex.extract_many([texts[i] for i in (0, 1, 2, 4)], out=tmp_path / "out" / "more.jsonl")
        assert [r.ok for r in records] == [True, True, True, False]
        seen.extend(r.to_line() for r in records)

        # the command line, batch and single article, at -vv
        folder = tmp_path / "articles"
        folder.mkdir()
        for i, text in enumerate(texts):
            (folder / f"{i}.txt").write_text(text, encoding="utf-8")
        env = {"FACTKIT_BASE_URL": server.base_url, "FACTKIT_API_KEY": key, "FACTKIT_CACHE_DIR": str(tmp_path / "c2")}
        with pytest.MonkeyPatch.context() as mp:
            for name, value in env.items():
                mp.setenv(name, value)
            assert main(["-vv", "extract", str(folder), "--out", str(tmp_path / "cli.jsonl")]) == 2
            assert main(["-vv", "extract", str(folder / "3.txt")]) != 0
            assert main(["-vv", "extract", str(folder / "0.txt"), "--format", "md"]) == 0
        captured = capsys.readouterr()
        seen += [captured.out, captured.err]

    seen.append(caplog.text)
    seen.extend(str(r.args) for r in caplog.records)
    assert any("[REDACTED]" in s for s in seen)  # the key did reach factkit's messages, and was removed
    for i, text in enumerate(seen):
        assert key not in text, f"artefact {i} contains the key: {text[:300]}"
    files = _everything(tmp_path)
    assert key.encode() not in files
    assert list((tmp_path / "cache").glob("calls.sqlite3*"))


def _fragments(key: str) -> list[str]:
    return [key, key[3:], key[6:], key[:-4], key[5:17]]


def test_a_server_that_echoes_the_key_in_its_answers_leaks_it_nowhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A hostile or misconfigured proxy puts the key, or the key minus its first characters, into the model's
    output (which lands in ``rejected`` and the cache) and into error bodies (which instructor logs)."""
    key = "sk-proj-A1b2C3d4E5f6G7h8I9j0K1l2M3n4"

    def handler(request: dict[str, Any]) -> Reply:
        text = str(request.get("messages"))
        if "case 400" in text:
            return Reply.error(400, {"error": {"message": f"bad request for key {key[3:]}"}})
        reply = wire_for(request)
        if "people" in reply:
            reply["people"] = [*reply["people"], f"Agent {key[6:]}", key[3:]]
        else:
            reply["facts"].append({"s": [1], "kind": "event", "statement": f"The token {key[8:]} was used."})
        return Reply.json(reply)

    texts = [*short_articles(2), "Maria Lopez filed case 400 at Acme."]
    with FakeOpenAIServer(handler=handler) as server:
        env = {"FACTKIT_BASE_URL": server.base_url, "FACTKIT_API_KEY": key, "FACTKIT_CACHE_DIR": str(tmp_path / "c")}
        folder = tmp_path / "articles"
        folder.mkdir()
        for i, text in enumerate(texts):
            (folder / f"{i}.txt").write_text(text, encoding="utf-8")
        with pytest.MonkeyPatch.context() as mp:
            for name, value in env.items():
                mp.setenv(name, value)
            main(["extract", str(folder), "--out", str(tmp_path / "results.jsonl")])
            main(["extract", str(folder / "0.txt")])
    captured = capsys.readouterr()
    artefacts = [captured.out, captured.err, _everything(tmp_path).decode("utf-8", "replace")]
    assert "[REDACTED]" in artefacts[2]  # the echoed key reached the records and was removed
    for text in artefacts:
        for fragment in _fragments(key):
            assert fragment not in text, f"{fragment!r} leaked: {text[:200]}"


def test_default_verbosity_prints_at_most_one_line_per_failed_article(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def handler(request: dict[str, Any]) -> Reply:
        if "case 500" in str(request.get("messages")):
            return Reply.error(500, {"error": {"message": "boom"}}, {"Retry-After": "0"})
        if "bad output" in str(request.get("messages")):
            return Reply.json({"nonsense": True})
        return Reply.json(wire_for(request))

    texts = [*short_articles(2), "John Carter saw case 500 at Globex.", "Ann Lopez wrote bad output at Acme."]
    folder = tmp_path / "articles"
    folder.mkdir()
    for i, text in enumerate(texts):
        (folder / f"{i}.txt").write_text(text, encoding="utf-8")
    with FakeOpenAIServer(handler=handler) as server, pytest.MonkeyPatch.context() as mp:
        mp.setenv("FACTKIT_BASE_URL", server.base_url)
        mp.setenv("FACTKIT_API_KEY", SECRET)
        mp.setenv("FACTKIT_CACHE", "0")
        assert main(["extract", str(folder), "--out", str(tmp_path / "r.jsonl"), "--no-progress"]) == 1
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) <= 2 + 1, err  # two failed articles, one summary line
