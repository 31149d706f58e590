"""``factkit doctor``: one line a check, exit 0 when all is well and 1 naming the failing line; never a secret."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SECRET_KEY

from factkit.cli import main
from factkit.testing import FakeOpenAIServer, Reply


def test_doctor_on_a_remote_endpoint_checks_it_with_one_token(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, fake_server: FakeOpenAIServer
) -> None:
    monkeypatch.setenv("FACTKIT_BASE_URL", fake_server.base_url)
    monkeypatch.setenv("FACTKIT_API_KEY", SECRET_KEY)
    fake_server.push(Reply.json({"ok": True}))
    assert main(["doctor"]) == 0
    out, err = capsys.readouterr()
    for what in ("python", "factkit", "openai", "instructor", "llama-cpp-python", "cpu", "backend", "cache"):
        assert f" {what} " in f" {out}", what
    assert "an API key is set" in out and "generation" in out
    assert SECRET_KEY not in out + err and SECRET_KEY[5:] not in out + err
    assert fake_server.requests[-1].json["max_tokens"] == 1


def test_doctor_fails_with_the_line_that_failed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FACTKIT_BACKEND", "local")
    monkeypatch.setenv("FACTKIT_LOCAL_MODEL", str(tmp_path / "missing.gguf"))
    assert main(["doctor"]) == 1
    out, err = capsys.readouterr()
    failing = [line for line in out.splitlines() if line.startswith("FAIL")]
    assert failing and ("model file" in failing[0] or "local model" in failing[0])
    assert "check(s) failed" in err


def test_doctor_reports_an_unreachable_endpoint(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FACTKIT_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("FACTKIT_API_KEY", SECRET_KEY)
    monkeypatch.setenv("FACTKIT_TIMEOUT", "2")
    assert main(["doctor"]) == 1
    out, _ = capsys.readouterr()
    assert "FAIL  generation" in out and SECRET_KEY not in out
