"""``factkit eval`` through its own argparse entry: exit codes, gates, reports, replay and the judge measurement."""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from factkit.cli.eval import add_parser
from factkit.eval import load_cases, run_eval
from factkit.eval._oracle import OracleExtractor, oracle_extraction
from factkit.eval.judge import load_xsum
from factkit.testing import FakeOpenAIServer, Reply

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "evals" / "gum" / "gum-news-clock.yaml"
SEED_FIXTURE = ROOT / "evals" / "seed" / "reuters-2018-01-26-cambodians-deportation.yaml"


def cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="factkit")
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["eval", *argv])
    code: int = args.func(args)
    return code


@pytest.fixture
def recorded(tmp_path: Path) -> Path:
    """A recorded run of a perfect extractor on one GUM fixture."""
    cases = load_cases(FIXTURE)
    path = tmp_path / "perfect.jsonl"
    run_eval(cases, OracleExtractor(cases), record=path)
    return path


@pytest.fixture
def degraded(tmp_path: Path) -> Path:
    """A recorded run that finds only half of the entities."""
    cases = load_cases(FIXTURE)
    ex = oracle_extraction(cases[0])
    ex.entities = ex.entities[: len(ex.entities) // 2]
    path = tmp_path / "degraded.jsonl"
    run_eval(cases, predictions={cases[0].id: ex}, record=path)
    return path


def test_pass_writes_every_report(recorded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code = cli(
        str(FIXTURE),
        "--replay",
        str(recorded),
        "--fail-under",
        "entities.f1=0.6",
        "--fail-over",
        "hallucination.rate=0.1",
        "--json",
        str(out / "r.json"),
        "--md",
        str(out / "r.md"),
        "--html",
        str(out / "r.html"),
    )
    assert code == 0
    stdout = capsys.readouterr().out
    assert "entities_typed" in stdout and "overall (micro)" in stdout and "grounding rate" in stdout
    report = json.loads((out / "r.json").read_text(encoding="utf-8"))
    assert report["schema_version"] == 1 and report["metrics"]["entities.f1"] == 1.0
    assert report["run"]["source"] == "replay"
    assert "| entities | 1.000 | 1.000 | 1.000 |" in (out / "r.md").read_text(encoding="utf-8")
    assert "<mark class=" in (out / "r.html").read_text(encoding="utf-8")


def test_a_failed_gate_exits_1_and_says_by_how_much(degraded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli(
        str(FIXTURE), "--replay", str(degraded), "--fail-under", "entities.f1=0.9", "--fail-under", "dates.f1=0.5", "-q"
    )
    assert code == 1
    err = capsys.readouterr().err
    assert "gate failed: entities.f1 = 0.6486 is below 0.9 by 0.2514" in err
    assert "dates.f1" not in err.replace("dates.f1=", "")  # dates pass
    assert "1 gate(s) failed" in err


def test_baseline_comparison(
    recorded: Path, degraded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = tmp_path / "base.json"
    assert cli(str(FIXTURE), "--replay", str(recorded), "--json", str(base), "-q") == 0
    assert cli(str(FIXTURE), "--replay", str(degraded), "--baseline", str(base), "--max-drop", "0.02", "-q") == 1
    err = capsys.readouterr().err
    assert "gate failed: entities.f1 dropped by 0.3514 (1.0000 -> 0.6486; max drop 0.02)" in err
    assert "gate failed: entities.recall dropped by 0.5200" in err
    assert cli(str(FIXTURE), "--replay", str(degraded), "--baseline", str(base), "--max-drop", "0.6", "-q") == 0


def test_usage_errors_exit_2(recorded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(str(FIXTURE), "--replay", str(recorded), "--fail-under", "entity.f1=0.5") == 2
    err = capsys.readouterr().err
    assert "unknown metric 'entity.f1'" in err and "entities.f1" in err and "overall.micro_f1" in err
    assert cli(str(FIXTURE), "--replay", str(tmp_path / "missing.jsonl")) == 2
    assert "cannot read the predictions file" in capsys.readouterr().err
    assert cli(str(FIXTURE), "--replay", str(recorded), "--case", "nope") == 2
    assert "no case 'nope'" in capsys.readouterr().err
    assert cli(str(FIXTURE), "--replay", str(recorded), "--repeats", "0") == 2
    assert cli(str(FIXTURE), "--replay", str(recorded), "--baseline", str(tmp_path / "nothing.json")) == 2
    assert cli(str(tmp_path / "no-such-folder")) == 2
    assert "no such file or directory" in capsys.readouterr().err


def test_a_bad_fixture_names_file_case_and_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "id: tiny\nprovenance: {source: test, licence: CC0}\ntext: Hello Paris.\n"
        "entities:\n- name: Paris\n  type: location\n  mentions:\n  - {start: 5, end: 10, text: Paris}\n",
        encoding="utf-8",
    )
    assert cli(str(bad), "-q") == 2
    err = capsys.readouterr().err
    assert "bad.yaml" in err and "case 'tiny'" in err and "entities[0].mentions[0].text" in err
    assert "Traceback" not in err


def test_replay_of_a_changed_fixture_exits_2(
    recorded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    changed = tmp_path / "changed.yaml"
    changed.write_text(
        FIXTURE.read_text(encoding="utf-8").replace("has inspired a global", "has inspired a GLOBAL", 1),
        encoding="utf-8",
    )
    assert cli(str(changed), "--replay", str(recorded), "-q") == 2
    assert "article changed since the run was recorded" in capsys.readouterr().err


# ---------------------------------------------------------------------------------- with a model (fake)


def _extraction_reply(request: dict[str, Any]) -> Reply:
    name = (request.get("response_format") or {}).get("json_schema", {}).get("name")
    if name == "WireEntities":
        return Reply.json(
            {"people": ["Ahmed Mohamed", "Barack Obama"], "organizations": ["Google"], "places": ["Texas"], "other": []}
        )
    return Reply.json(
        {
            "headline": "Texas student inspires movement",
            "tldr": "A 14-year-old arrested over a homemade clock drew global support.",
            "facts": [
                {"s": [3], "kind": "event", "statement": "News of the police response inspired a social movement."}
            ],
        }
    )


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("FACTKIT_API_KEY", "sk-test-0123456789abcdef")
    with FakeOpenAIServer() as srv:
        yield srv


def test_eval_against_a_model_records_and_replays(server: FakeOpenAIServer, tmp_path: Path) -> None:
    server.set_handler(_extraction_reply)
    path = tmp_path / "model.jsonl"
    base = ["--base-url", server.base_url, "--model", "fake-model", "-q"]
    assert cli(str(FIXTURE), *base, "--record", str(path), "--json", str(tmp_path / "live.json")) == 0
    requests = len(server.chat_requests)
    assert requests >= 2
    live = json.loads((tmp_path / "live.json").read_text(encoding="utf-8"))
    assert live["run"]["backend"] == "openai"
    # GUM links no Wikipedia page to Ahmed Mohamed: the other three are named entities of the fixture, and so
    # are the four places factkit adds from its word lists when the text names them (7 of 8 predictions).
    assert live["metrics"]["entities.precision"] == 0.875
    assert [i["label"] for i in live["cases"][0]["types"]["entities"]["spurious"]] == ["Ahmed Mohamed"]
    # A second run is answered by the model-call cache; --no-cache calls the model again.
    assert cli(str(FIXTURE), *base) == 0
    assert len(server.chat_requests) == requests
    assert cli(str(FIXTURE), *base, "--no-cache") == 0
    assert len(server.chat_requests) == 2 * requests
    assert cli(str(FIXTURE), "--replay", str(path), "--json", str(tmp_path / "replay.json"), "-q") == 0
    replay = json.loads((tmp_path / "replay.json").read_text(encoding="utf-8"))
    assert replay["metrics"]["entities.f1"] == live["metrics"]["entities.f1"]


def test_every_case_failing_exits_2(server: FakeOpenAIServer, capsys: pytest.CaptureFixture[str]) -> None:
    server.set_handler(lambda request: Reply.error(401, "bad key"))
    assert cli(str(FIXTURE), "--base-url", server.base_url, "-q", "--no-cache") == 2
    assert "every case failed to extract" in capsys.readouterr().err


# ------------------------------------------------------------------------------------- faithfulness


def _xsum(tmp_path: Path) -> Path:
    article = "The council approved a new park in Leeds on Monday after a two-year campaign by residents."
    rows = [
        ("1", "Gold", "The council approved a new park in Leeds after a campaign by residents.", True),
        ("1", "PtGen", "Leeds council approved a new park on Monday.", True),
        ("1", "BERTS2S", "The prime minister opened a stadium in Manchester.", False),
        ("1", "TConvS2S", "The council rejected 40 plans for a park.", False),
    ]
    path = tmp_path / "xsum.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for bbcid, system, summary, faithful in rows:
            record = {"bbcid": int(bbcid), "system": system, "document": article, "summary": summary,
                      "faithful_majority": faithful, "factual_votes": ["yes"]}  # fmt: skip
            fh.write(json.dumps(record) + "\n")
    return path


def test_xsum_loader(tmp_path: Path) -> None:
    path = _xsum(tmp_path)
    pairs = load_xsum(path)
    assert len(pairs) == 4 and pairs[0].bbcid == "1" and pairs[2].faithful_majority is False
    assert len(load_xsum(path, limit=2)) == 2
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"bbcid": "1"}\n', encoding="utf-8")
    with pytest.raises(Exception, match=r"broken.jsonl: line 1: not an XSum pair"):
        load_xsum(broken)


def test_faithfulness_with_the_lexical_judge(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _xsum(tmp_path)
    out = tmp_path / "judge.json"
    assert cli("faithfulness", "--data", str(data), "--judge", "lexical", "--json", str(out)) == 0
    scores = json.loads(out.read_text(encoding="utf-8"))
    assert scores["judge"] == "lexical" and scores["pairs"] == 4
    assert (scores["tp"], scores["fp"], scores["fn"], scores["tn"]) == (2, 0, 0, 2)
    assert scores["balanced_accuracy"] == 1.0
    assert "balanced accuracy" in capsys.readouterr().out
    assert cli("faithfulness", "--data", str(data), "--judge", "lexical", "--limit", "2", "-q",
               "--fail-under", "unfaithful_recall=0.5") == 1  # fmt: skip
    assert cli("faithfulness", "--judge", "lexical") == 2
    assert "needs --data" in capsys.readouterr().err
    assert cli("faithfulness", "--data", str(data), "--fail-under", "entities.f1=0.5") == 2


def test_faithfulness_with_the_model_judge(server: FakeOpenAIServer, tmp_path: Path) -> None:
    def judge(request: dict[str, Any]) -> Reply:
        prompt = request["messages"][-1]["content"]
        supported = "stadium" not in prompt and "rejected" not in prompt
        return Reply.json({"verdicts": [{"n": 1, "reason": "", "supported": supported}]})

    server.set_handler(judge)
    out = tmp_path / "judge.json"
    data = str(_xsum(tmp_path))
    code = cli(
        "faithfulness", "--data", data, "--judge", "model", "--base-url", server.base_url, "--json", str(out), "-q"
    )
    assert code == 0
    scores = json.loads(out.read_text(encoding="utf-8"))
    assert scores["judge"] == "model" and scores["balanced_accuracy"] == 1.0 and scores["errors"] == 0
    assert scores["prompt_tokens"] > 0
    assert len(server.chat_requests) == 4


def test_faithfulness_uses_the_verify_checker_by_default(
    server: FakeOpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the checker's rules, then one yes/no question to the model for each summary the rules do not contradict
    monkeypatch.setenv("FACTKIT_VERIFY", "model")
    server.set_handler(lambda request: Reply.yes_no(0.99))
    out = tmp_path / "verify.json"
    assert cli(
        "faithfulness", "--data", str(_xsum(tmp_path)), "--base-url", server.base_url, "--json", str(out), "-q"
    ) in (0, 1)
    scores = json.loads(out.read_text(encoding="utf-8"))
    assert scores["judge"] == "verify" and scores["errors"] == 0 and scores["pairs"] == 4
    questions = [json.loads(r.body) for r in server.chat_requests]
    assert questions and all(q["max_tokens"] == 1 and q["logprobs"] for q in questions)
    assert len(questions) < 4  # "rejected 40 plans" is contradicted by the rules: the model is not asked


def test_the_rules_judge_makes_no_model_call(server: FakeOpenAIServer, tmp_path: Path) -> None:
    out = tmp_path / "rules.json"
    args = ("faithfulness", "--data", str(_xsum(tmp_path)), "--judge", "rules", "--base-url", server.base_url)
    assert cli(*args, "--json", str(out), "-q") in (0, 1)
    scores = json.loads(out.read_text(encoding="utf-8"))
    assert scores["judge"] == "rules" and scores["pairs"] == 4 and scores["prompt_tokens"] == 0
    assert not server.chat_requests


def test_lexical_judge_and_case_selection(recorded: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    assert cli(str(FIXTURE), "--replay", str(recorded), "--judge", "lexical", "--case", "gum-news-clock",
               "--json", str(out), "-q", "--fail-under", "summary.faithfulness=0.5") == 0  # fmt: skip
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["run"]["judge"] == "lexical" and report["summary"]["faithfulness"]["total"] >= 1


def test_embeddings_matcher_without_its_packages_is_a_clear_error(
    recorded: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys

    from factkit.eval import _embeddings

    _embeddings._model.cache_clear()
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # import fails as if not installed
    assert cli(str(FIXTURE), "--replay", str(recorded), "--matcher", "embeddings", "-q") == 2
    err = capsys.readouterr().err
    assert "--matcher embeddings needs sentence-transformers" in err and "pip install" in err
    _embeddings._model.cache_clear()


def test_the_evidence_judge_asks_the_model_only_about_what_the_checker_passes(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    asked: list[str] = []

    def judge(request: dict[str, Any]) -> Reply:
        prompt = request["messages"][-1]["content"]
        claim = prompt.split("Claim:", 1)[1].split("\n", 1)[0].strip()
        asked.append(claim)
        # the model reads the evidence and finds 'on Monday' wrong for the second faithful-looking summary
        return Reply.json({"answer": "no" if "Leeds council" in claim else "yes", "reason": "wrong council"})

    server.set_handler(judge)
    out = tmp_path / "judge.json"
    data = str(_xsum(tmp_path))
    code = cli(
        "faithfulness", "--data", data, "--judge", "evidence", "--base-url", server.base_url, "--json", str(out), "-q"
    )
    assert code == 0
    scores = json.loads(out.read_text(encoding="utf-8"))
    assert scores["judge"] == "evidence" and scores["errors"] == 0 and scores["pairs"] == 4
    # the stadium and the rejected plans fail the checker: no call for them
    assert sorted(asked) == [
        "Leeds council approved a new park on Monday.",
        "The council approved a new park in Leeds after a campaign by residents.",
    ]
    # the model's 'no' makes a faithful pair (by the labels) unfaithful: 3 of 4 right
    assert (scores["tp"], scores["fp"], scores["fn"], scores["tn"]) == (2, 1, 0, 1)
    prompt = server.chat_requests[0].messages[-1]["content"]
    assert "<evidence>" in prompt and "two-year campaign" in prompt
