"""The command line, in-process through ``factkit.cli.main`` against the fake server."""

from __future__ import annotations

import io
import json
import logging
import sys
from pathlib import Path

import pytest
from conftest import SECRET_KEY, TaskScript, task_of

from factkit.cli import main
from factkit.testing import FakeOpenAIServer, Reply

pytestmark = pytest.mark.usefixtures("no_local_model")

ARTICLE = "Ann Lee opened a bakery on Main Street on Monday. The bakery sells 40 kinds of bread.\n"
ENTITIES = {"people": ["Ann Lee"], "organizations": [], "places": ["Main Street"], "other": []}
FACTS = {
    "headline": "Ann Lee opens a bakery",
    "tldr": "Ann Lee opened a bakery.",
    "facts": [
        {"s": [1], "kind": "event", "statement": "Ann Lee opened a bakery on Main Street on Monday."},
        {"s": [2], "kind": "quantity", "statement": "The bakery sells 40 kinds of bread.", "value": 40},
    ],
}
SUMMARY = {
    "headline": "Ann Lee opens a bakery",
    "tldr": "Ann Lee opened a bakery.",
    "points": [{"text": "Ann Lee opened a bakery on Main Street.", "s": [1]}],
}


@pytest.fixture
def article(tmp_path: Path) -> Path:
    path = tmp_path / "article.txt"
    path.write_text(ARTICLE, encoding="utf-8")
    return path


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch, fake_server: FakeOpenAIServer, script: TaskScript) -> FakeOpenAIServer:
    """FACTKIT_BASE_URL points at the fake server, which answers every task."""
    monkeypatch.setenv("FACTKIT_BASE_URL", fake_server.base_url)
    monkeypatch.setenv("FACTKIT_API_KEY", SECRET_KEY)
    script.on("entities", ENTITIES).on("facts", FACTS).on("summary", SUMMARY)
    return fake_server


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def set_stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


# ---- extract -------------------------------------------------------------------------------------------


def test_extract_json(capsys: pytest.CaptureFixture[str], endpoint: FakeOpenAIServer, article: Path) -> None:
    code, out, err = run(capsys, "extract", str(article), "--no-cache")
    assert code == 0, err
    result = json.loads(out)
    assert [f["evidence"]["text"] for f in result["facts"]] == [
        "Ann Lee opened a bakery on Main Street on Monday.",
        "The bakery sells 40 kinds of bread.",
    ]
    for fact in result["facts"]:
        ev = fact["evidence"]
        assert ARTICLE[ev["start"] : ev["end"]] == ev["text"]
    assert result["backend"] == "openai" and result["prompt_version"].startswith("extract@")
    assert out.count("\n") > 10  # indented
    assert SECRET_KEY not in out + err


def test_extract_jsonl_and_several_files(
    capsys: pytest.CaptureFixture[str], endpoint: FakeOpenAIServer, article: Path, tmp_path: Path
) -> None:
    second = tmp_path / "second.txt"
    second.write_text("Bob Ray sold 3 cars on Friday. He was pleased.", encoding="utf-8")
    code, out, _ = run(capsys, "extract", str(article), str(second), "--format", "jsonl", "--no-cache")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 2
    first, other = json.loads(lines[0]), json.loads(lines[1])
    assert first["facts"][0]["evidence"]["text"].startswith("Ann Lee")
    assert other["facts"] == [] and len(other["rejected"]) >= 2  # the scripted facts are not in that article
    # each article: one entities call and one facts call (re-asked once for the second), sent concurrently
    tasks = [task_of(r.json) for r in endpoint.chat_requests]
    assert sorted(tasks[:2]) == ["entities", "facts"] and sorted(tasks[2:]) == ["entities"] * 2 + ["facts"] * 2


def test_extract_markdown(capsys: pytest.CaptureFixture[str], endpoint: FakeOpenAIServer, article: Path) -> None:
    code, out, _ = run(capsys, "extract", str(article), "--format", "md", "--no-cache")
    assert code == 0
    assert out.startswith("# Ann Lee opens a bakery\n")
    assert "## Facts" in out and "## Entities" in out and "## Dates" in out
    # the unit normalised by the rules: the lemma of the counted noun
    assert "- **quantity** The bakery sells 40 kinds of bread. (quantity 40 kind) — evidence [50:85] (sentence)" in out
    assert "Ann Lee (person)" in out


def test_extract_from_stdin(
    capsys: pytest.CaptureFixture[str], endpoint: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_stdin(monkeypatch, ARTICLE.encode("utf-8"))
    code, out, _ = run(capsys, "extract", "-", "--format", "jsonl", "--no-cache")
    assert code == 0
    assert json.loads(out)["facts"][0]["evidence"]["start"] == 0


def test_model_and_base_url_options_win_over_the_environment(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    fake_server: FakeOpenAIServer,
    script: TaskScript,
    article: Path,
) -> None:
    monkeypatch.setenv("FACTKIT_BASE_URL", "http://127.0.0.1:9/v1")  # nothing there
    monkeypatch.setenv("FACTKIT_MODEL", "env-model")
    script.on("entities", ENTITIES).on("facts", FACTS)
    code, out, err = run(
        capsys, "extract", str(article), "--base-url", fake_server.base_url, "--model", "cli-model", "--no-cache"
    )
    assert code == 0, err
    assert json.loads(out)["model"] == "cli-model"
    assert {r.json["model"] for r in fake_server.chat_requests} == {"cli-model"}


def test_published_option(capsys: pytest.CaptureFixture[str], endpoint: FakeOpenAIServer, article: Path) -> None:
    code, out, _ = run(capsys, "extract", str(article), "--published", "2024-03-06", "--no-cache")
    assert code == 0
    result = json.loads(out)
    assert result["published"] == "2024-03-06"
    assert any(d["span"]["text"] == "Monday" and d["value"] == "2024-03-04" for d in result["dates"])
    assert "Publication date: 2024-03-06" in endpoint.chat_requests[0].messages[1]["content"]


def test_own_prompt_template(
    capsys: pytest.CaptureFixture[str], endpoint: FakeOpenAIServer, article: Path, tmp_path: Path
) -> None:
    from factkit._prompts import load_prompt

    shipped = load_prompt("extract")
    mine = tmp_path / "mine.md"
    mine.write_text(
        Path(shipped.path).read_text(encoding="utf-8").replace(f"version: {shipped.version}", "version: 99"),
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "extract", str(article), "--prompt", str(mine), "--no-cache")
    assert code == 0 and json.loads(out)["prompt_version"] == "extract@99"


def test_extract_with_a_schema(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    fake_server: FakeOpenAIServer,
    article: Path,
    tmp_path: Path,
) -> None:
    package = tmp_path / "myschemas"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "bakery.py").write_text(
        "from pydantic import BaseModel\n"
        "import factkit\n\n"
        "class Opening(BaseModel):\n"
        "    owner: str\n"
        "    evidence: factkit.Evidence\n"
        "    extra: list[factkit.Evidence] = []\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "modules", dict(sys.modules))  # forget the module afterwards
    fake_server.set_handler(
        lambda request: Reply.json({"owner": "Ann Lee", "evidence": "Ann Lee opened a bakery", "extra": ["nope nope"]})
    )
    code, out, err = run(
        capsys,
        "extract",
        str(article),
        "--schema",
        "myschemas.bakery:Opening",
        "--base-url",
        fake_server.base_url,
        "--no-cache",
    )
    assert code == 0, err
    result = json.loads(out)
    assert result["data"]["owner"] == "Ann Lee"
    assert result["data"]["evidence"] == {
        "start": 0,
        "end": 23,
        "text": "Ann Lee opened a bakery",
        "match": "exact",
        "score": 1.0,
    }
    assert result["data"]["extra"] == [] and len(result["rejected"]) == 1
    assert result["prompt_version"].endswith("+Opening")
    code, out, _ = run(
        capsys, "extract", str(article), "--schema", "myschemas.bakery:Opening", "--format", "md", "--no-cache",
        "--base-url", fake_server.base_url,
    )  # fmt: skip
    assert code == 0 and out.startswith("```json\n") and '"owner": "Ann Lee"' in out


def test_a_schema_module_that_fails_to_import(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    endpoint: FakeOpenAIServer,
    article: Path,
    tmp_path: Path,
) -> None:
    (tmp_path / "broken_schema_mod.py").write_text("class Broken(BaseModel:\n    pass\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "extract", str(article), "--schema", "broken_schema_mod:Broken")
    assert code == 2 and "cannot import broken_schema_mod (SyntaxError" in err and err.count("\n") == 1
    assert endpoint.requests == []


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ("nocolon", "write it as package.module:ClassName"),
        ("no_such_module_xyz:Thing", "cannot import no_such_module_xyz"),
        ("json:JSONDecoder", "is not a pydantic BaseModel class"),
    ],
)
def test_bad_schema_specs(
    capsys: pytest.CaptureFixture[str], endpoint: FakeOpenAIServer, article: Path, spec: str, needle: str
) -> None:
    code, out, err = run(capsys, "extract", str(article), "--schema", spec)
    assert code == 2 and out == ""
    assert err.startswith("factkit: error: ") and needle in err and err.count("\n") == 1
    assert endpoint.requests == []


# ---- summarize -----------------------------------------------------------------------------------------


def test_summarize_markdown_and_json(
    capsys: pytest.CaptureFixture[str], endpoint: FakeOpenAIServer, article: Path
) -> None:
    code, out, _ = run(capsys, "summarize", str(article), "--no-cache")
    assert code == 0
    assert out == (
        "# Ann Lee opens a bakery\n\n**TL;DR** Ann Lee opened a bakery.\n\n## Key points\n"
        "- Ann Lee opened a bakery on Main Street on Monday. [0:49]\n"
        "- The bakery sells 40 kinds of bread. [50:85]\n"
    )
    code, out, _ = run(capsys, "summarize", str(article), "--format", "json", "--no-cache")
    assert code == 0
    summary = json.loads(out)
    assert summary["key_points"][0]["evidence"][0]["text"] == "Ann Lee opened a bakery on Main Street on Monday."
    # the summary extract gives: its facts call, and no entities call (a summary needs none)
    assert [task_of(r.json) for r in endpoint.chat_requests] == ["facts", "facts"]
    code, out, _ = run(capsys, "extract", str(article), "--format", "json", "--no-cache")
    assert json.loads(out)["summary"] == summary


def test_summarize_from_stdin(
    capsys: pytest.CaptureFixture[str], endpoint: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_stdin(monkeypatch, ARTICLE.encode("utf-8"))
    code, out, _ = run(capsys, "summarize", "-", "--format", "json", "--no-cache")
    assert code == 0 and json.loads(out)["headline"] == "Ann Lee opens a bakery"


# ---- bad input: one line on stderr, exit code 2, no model call -----------------------------------------


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"", "empty or only whitespace"),
        (b"  \n\t \n", "empty or only whitespace"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00", "binary"),
        ("café crème".encode("latin-1"), "not valid UTF-8"),
        (b"\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f\x10\x11\x12\x13\x14\x15" * 4, "binary"),
    ],
    ids=["empty", "whitespace", "binary", "latin-1", "control-chars"],
)
@pytest.mark.parametrize("command", ["extract", "summarize"])
def test_bad_files(
    capsys: pytest.CaptureFixture[str],
    endpoint: FakeOpenAIServer,
    tmp_path: Path,
    content: bytes,
    needle: str,
    command: str,
) -> None:
    path = tmp_path / "input.txt"
    path.write_bytes(content)
    code, out, err = run(capsys, command, str(path))
    assert code == 2 and out == ""
    assert err == f"factkit: error: {path}: {err.split(f'{path}: ', 1)[1]}"  # names the file
    assert needle in err and err.count("\n") == 1
    assert endpoint.requests == []


@pytest.mark.parametrize("command", ["extract", "summarize"])
def test_missing_file_and_folder(
    capsys: pytest.CaptureFixture[str], endpoint: FakeOpenAIServer, tmp_path: Path, command: str
) -> None:
    missing = tmp_path / "nope.txt"
    code, out, err = run(capsys, command, str(missing))
    assert (code, out, err) == (2, "", f"factkit: error: {missing}: no such file; check the path\n")
    if command == "summarize":  # a folder is a batch for extract
        code, _, err = run(capsys, command, str(tmp_path))
        assert code == 2 and "is a folder" in err
    assert endpoint.requests == []


def test_bad_stdin(
    capsys: pytest.CaptureFixture[str], endpoint: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_stdin(monkeypatch, b"\xff\xfe\x00\x00binary")
    code, _, err = run(capsys, "extract", "-")
    assert code == 2 and err.startswith("factkit: error: <stdin>: ") and err.count("\n") == 1
    set_stdin(monkeypatch, b"   ")
    code, _, err = run(capsys, "summarize", "-")
    assert code == 2 and "<stdin>: the article is empty" in err
    assert endpoint.requests == []


def test_every_input_is_checked_before_the_first_call(
    capsys: pytest.CaptureFixture[str], endpoint: FakeOpenAIServer, article: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("   ", encoding="utf-8")
    code, out, err = run(capsys, "extract", str(article), str(empty))
    assert code == 2 and out == "" and str(empty) in err
    assert endpoint.requests == []


def test_bad_published_date(capsys: pytest.CaptureFixture[str], endpoint: FakeOpenAIServer, article: Path) -> None:
    code, _, err = run(capsys, "extract", str(article), "--published", "someday")
    assert code == 2 and "published='someday' is not a date" in err and err.count("\n") == 1
    assert endpoint.requests == []


def test_bad_settings_are_one_line(
    capsys: pytest.CaptureFixture[str], endpoint: FakeOpenAIServer, article: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FACTKIT_TIMEOUT", "-3")
    code, _, err = run(capsys, "extract", str(article))
    assert code == 2 and err == "factkit: error: invalid settings: timeout: Input should be greater than 0 (got -3.0)\n"


# ---- configuration and model errors --------------------------------------------------------------------


def test_missing_key_is_a_configuration_error(
    capsys: pytest.CaptureFixture[str], article: Path, fake_server: FakeOpenAIServer
) -> None:
    code, out, err = run(capsys, "extract", str(article), "--backend", "openai")
    assert code == 2 and out == ""
    assert err.startswith("factkit: configuration error: no API key") and "OPENAI_API_KEY" in err
    assert err.count("\n") == 1


def test_a_rejected_key_never_shows_the_key(
    capsys: pytest.CaptureFixture[str], endpoint: FakeOpenAIServer, article: Path
) -> None:
    echo = {"error": {"message": f"Incorrect API key provided: {SECRET_KEY}"}}
    endpoint.set_handler(lambda request: Reply.error(401, body=echo))
    code, out, err = run(capsys, "extract", str(article), "--no-cache")
    assert code == 2 and out == ""
    assert err.startswith("factkit: configuration error: ") and "FACTKIT_API_KEY" in err
    assert SECRET_KEY not in err and "[REDACTED]" in err


def test_a_model_error_exits_1(capsys: pytest.CaptureFixture[str], endpoint: FakeOpenAIServer, article: Path) -> None:
    endpoint.set_handler(lambda request: Reply.error(422, body={"error": {"message": "unprocessable\nsecond line"}}))
    code, out, err = run(capsys, "summarize", str(article), "--no-cache")
    assert code == 1 and out == ""
    assert err.startswith("factkit: model error: ") and err.count("\n") == 1


def test_output_errors_exit_1_on_one_line(
    capsys: pytest.CaptureFixture[str], endpoint: FakeOpenAIServer, article: Path
) -> None:
    endpoint.set_handler(lambda request: Reply.text("{not json"))
    code, _, err = run(capsys, "summarize", str(article), "--no-cache")
    assert code == 1 and err.startswith("factkit: model error: the model's output did not validate")
    assert err.count("\n") == 1


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys)
    assert code == 2 and out == "" and "usage: factkit" in err and "FACTKIT_BASE_URL" in err


def test_bad_options_exit_2(capsys: pytest.CaptureFixture[str], article: Path) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["extract", str(article), "--format", "xml"])
    assert exit_.value.code == 2
    assert "invalid choice: 'xml'" in capsys.readouterr().err


def test_main_leaves_logging_as_it_found_it(
    capsys: pytest.CaptureFixture[str], endpoint: FakeOpenAIServer, article: Path
) -> None:
    log = logging.getLogger("factkit")
    before = (log.level, list(log.handlers))
    run(capsys, "-vv", "summarize", str(article), "--no-cache")
    assert (log.level, list(log.handlers)) == before


def test_verbose_logs_go_to_stderr(
    capsys: pytest.CaptureFixture[str], endpoint: FakeOpenAIServer, article: Path
) -> None:
    endpoint.push(Reply.error(503, headers={"Retry-After": "0"}))
    code, out, err = run(capsys, "-v", "summarize", str(article), "--no-cache", "--format", "json")
    assert code == 0 and json.loads(out)["headline"]
    assert "transient error from" in err and "retry 1 of 4" in err
    assert SECRET_KEY not in err


def test_max_tokens_is_a_setting_and_a_cut_answer_names_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, endpoint: FakeOpenAIServer, article: Path
) -> None:
    code, _, _ = run(capsys, "extract", str(article), "--max-tokens", "77", "--no-cache")
    assert code == 0 and endpoint.chat_requests[-1].json["max_tokens"] == 77
    monkeypatch.setenv("FACTKIT_MAX_TOKENS", "55")
    endpoint.set_handler(lambda request: Reply.json({"facts": []}, finish_reason="length"))
    code, _, err = run(capsys, "extract", str(article), "--no-cache")
    assert code == 1 and "FACTKIT_MAX_TOKENS" in err and "now 55" in err
    assert endpoint.chat_requests[-1].json["max_tokens"] == 55
