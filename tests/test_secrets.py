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

from factkit import Extractor, FactkitError, resolve_settings
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
        records = ex.extract_many(texts, out=tmp_path / "out" / "results.jsonl")
        assert [r.ok for r in records] == [True, True, True, False, False]
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
            assert main(["-vv", "extract", str(folder), "--out", str(tmp_path / "cli.jsonl")]) == 1
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
