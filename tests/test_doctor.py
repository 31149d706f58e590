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


@pytest.mark.parametrize("where", ["file", "under-a-file", "proc"])
def test_doctor_says_a_cache_folder_is_unusable_and_does_not_crash(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, where: str
) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    folder = {"file": a_file, "under-a-file": a_file / "cache", "proc": Path("/proc/factkit-cache")}[where]
    monkeypatch.setenv("FACTKIT_CACHE_DIR", str(folder))
    monkeypatch.setenv("FACTKIT_BACKEND", "local")
    assert main(["doctor", "--no-generate"]) == 1
    out, err = capsys.readouterr()
    assert "internal error" not in out + err
    cache = [line for line in out.splitlines() if " cache " in f" {line} "]
    assert cache and cache[0].startswith("FAIL") and "FACTKIT_CACHE_DIR" in cache[0]


def test_doctor_refuses_a_model_file_that_is_not_gguf(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pytest.importorskip("llama_cpp")
    garbage = tmp_path / "model.gguf"
    garbage.write_bytes(b"\x00garbage" * 640)
    monkeypatch.setenv("FACTKIT_BACKEND", "local")
    monkeypatch.setenv("FACTKIT_LOCAL_MODEL", str(garbage))
    assert main(["doctor", "--no-generate"]) == 1
    out, _ = capsys.readouterr()
    assert any(line.startswith("FAIL") and "not a GGUF file" in line for line in out.splitlines())


def test_doctor_remembers_the_model_hash_by_size_and_date(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pytest.importorskip("llama_cpp")
    model = tmp_path / "model.gguf"
    model.write_bytes(b"GGUF" + b"\x00" * 4096)
    monkeypatch.setenv("FACTKIT_BACKEND", "local")
    monkeypatch.setenv("FACTKIT_LOCAL_MODEL", str(model))
    assert main(["doctor", "--no-generate"]) == 0
    first = capsys.readouterr().out
    assert main(["doctor", "--no-generate"]) == 0
    second = capsys.readouterr().out
    assert "remembered" not in first and "remembered by size and date" in second
    assert "in a child process" in second and "in-process" not in second
    model.write_bytes(b"GGUF" + b"\x01" * 4097)  # changed: hashed again
    assert main(["doctor", "--no-generate"]) == 0
    assert "remembered" not in capsys.readouterr().out
