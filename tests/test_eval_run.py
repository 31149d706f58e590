"""run_eval and score_case end to end: the shipped fixtures, record/replay, repeats, judges, the report schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from factkit import Extraction, Extractor, InputError, ModelError, UsageError
from factkit._cache import CallCache
from factkit.eval import (
    EvalReport,
    LexicalJudge,
    ModelJudge,
    ScoreOptions,
    load_cases,
    read_recording,
    run_eval,
    score_case,
)
from factkit.eval._fixtures import Case
from factkit.eval._oracle import OracleExtractor, oracle_extraction
from factkit.eval._record import is_recording
from factkit.eval._scores import SCHEMA_VERSION
from factkit.testing import FakeModel

ROOT = Path(__file__).resolve().parent.parent
EVALS = ROOT / "evals"
SEED_ID = "reuters-2018-01-26-cambodians-deportation"


@pytest.fixture(scope="module")
def cases() -> list[Case]:
    return load_cases(EVALS)


@pytest.fixture(scope="module")
def seed(cases: list[Case]) -> Case:
    return next(c for c in cases if c.id == SEED_ID)


def test_oracle_scores_perfectly_on_the_shipped_fixtures(cases: list[Case]) -> None:
    report = run_eval(cases, OracleExtractor(cases), fixtures="evals")
    m = report.metrics
    for name in ("entities", "entities_typed", "dates", "quotes", "facts", "quantities"):
        assert m[f"{name}.f1"] == 1.0, name
    assert m["overall.micro_f1"] == m["overall.macro_f1"] == 1.0
    assert m["dates.normalised_accuracy"] == 1.0
    assert m["quotes.attribution_accuracy"] == 1.0
    assert m["grounding.rate"] == 1.0
    assert m["hallucination.rate"] == 0.0
    assert m["summary.key_fact_coverage"] == 1.0
    assert report.types["facts"].cases == 1  # only the seed labels facts
    own = [c for c in cases if c.schema_ref is None]
    assert report.types["entities"].cases == len(own)
    assert report.run.source == "model" and report.run.cases == len(cases)
    # the user-schema case (the README's Ruling on the seed): every field right
    assert len(own) < len(cases) and m["schema.score"] == 1.0


def test_score_case_counts_misses_and_spurious_items(seed: Case) -> None:
    ex = oracle_extraction(seed)
    ex.entities = ex.entities[2:]  # miss two
    ex.dates = [*ex.dates[1:], ex.dates[0].model_copy(update={"value": "1999"})]  # one value wrong
    ex.quotes[0] = ex.quotes[0].model_copy(update={"speaker": "Somebody Else"})
    result = score_case(seed, ex)
    ents = result.types["entities"]
    assert (ents.tp, ents.fp, ents.fn) == (len(seed.entities) - 2, 0, 2)
    assert result.types["dates"].normalised is not None
    assert result.types["dates"].normalised.correct == result.types["dates"].normalised.total - 1
    assert result.types["quotes"].attribution is not None
    assert (result.types["quotes"].attribution.correct, result.types["quotes"].attribution.total) == (1, 2)
    assert [i.label for i in ents.missed] == [e.name for e in seed.entities[:2]]


def test_a_failed_case_counts_as_all_missed_and_the_run_goes_on(cases: list[Case]) -> None:
    oracle = OracleExtractor(cases)

    class Flaky:
        def extract(self, text: str, *, published: Any = None) -> Extraction:
            if text == cases[0].article:
                raise ModelError("the server fell over", provider="fake")
            return oracle.extract(text)

    report = run_eval(cases[:3], Flaky())
    failed = report.cases[0]
    assert failed.error == "ModelError: the server fell over"
    assert failed.types["entities"].tp == 0 and failed.types["entities"].fn == len(cases[0].entities)
    assert report.cases[1].error is None and report.cases[1].types["entities"].fn == 0
    assert report.cost.errors == 1
    assert 0 < report.metrics["entities.recall"] < 1


def test_record_then_replay_gives_the_same_scores(cases: list[Case], tmp_path: Path) -> None:
    path = tmp_path / "recorded" / "oracle.jsonl"
    recorded = run_eval(cases, OracleExtractor(cases), record=path, fixtures="evals")
    header = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    assert header["factkit_recording"] == 1 and header["model"] == "oracle" and header["cases"] == len(cases)
    assert is_recording(path)
    replayed = run_eval(cases, predictions=read_recording(path))
    assert replayed.run.source == "replay" and replayed.run.recording == str(path)
    assert {k: v for k, v in replayed.metrics.items() if not k.startswith("cost.")} == {
        k: v for k, v in recorded.metrics.items() if not k.startswith("cost.")
    }


def test_a_recording_next_to_the_fixtures_is_not_loaded_as_a_fixture(cases: list[Case], tmp_path: Path) -> None:
    fixture = EVALS / "seed" / f"{SEED_ID}.yaml"
    folder = tmp_path / "evals"
    (folder / "seed").mkdir(parents=True)
    text = fixture.read_text(encoding="utf-8").replace("../../seeds/", str(ROOT / "seeds") + "/")
    (folder / "seed" / fixture.name).write_text(text, encoding="utf-8")
    loaded = load_cases(folder)
    run_eval(loaded, OracleExtractor(loaded), record=folder / "recorded" / "run.jsonl")
    assert [c.id for c in load_cases(folder)] == [SEED_ID]


def test_replay_refuses_a_changed_fixture(seed: Case, tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    run_eval([seed], OracleExtractor([seed]), record=path)
    changed = seed.model_copy(update={"text": seed.article + " More text."})
    with pytest.raises(InputError, match="article changed since the run was recorded"):
        run_eval([changed], predictions=read_recording(path))
    other = seed.model_copy(update={"id": "another-case"})
    with pytest.raises(InputError, match="no recorded prediction for case 'another-case'"):
        run_eval([other], predictions=read_recording(path))


def test_read_recording_errors_name_the_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.jsonl: line 1: not a predictions file"):
        read_recording(bad)
    bad.write_text(
        '{"factkit_recording": 1, "model": "m", "backend": "b", "prompt_version": "p", "created": "now", '
        '"factkit_version": "0"}\n{"case_id": "x"}\n',
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"line 2: text_sha256: Field required"):
        read_recording(bad)


def test_predictions_mapping_and_argument_checks(seed: Case) -> None:
    report = run_eval([seed], predictions={seed.id: oracle_extraction(seed)})
    assert report.metrics["entities.f1"] == 1.0
    with pytest.raises(UsageError, match="not both"):
        run_eval([seed], OracleExtractor([seed]), predictions={})
    with pytest.raises(UsageError, match="no prediction for case"):
        run_eval([seed], predictions={})
    with pytest.raises(UsageError, match="repeats"):
        run_eval([seed], OracleExtractor([seed]), repeats=0)


def test_report_json_round_trips(cases: list[Case]) -> None:
    report = run_eval(cases[-2:], OracleExtractor(cases), options=ScoreOptions(judge=LexicalJudge()))
    data = json.loads(report.model_dump_json())
    assert data["schema_version"] == SCHEMA_VERSION == 1
    assert set(data) == {
        "schema_version",
        "run",
        "types",
        "overall",
        "summary",
        "cost",
        "metrics",
        "spread",
        "runs",
        "cases",
    }
    again = EvalReport.model_validate_json(report.model_dump_json())
    assert again == report
    assert again.summary is not None and again.summary.faithfulness is not None
    assert "summary.faithfulness" in again.metrics


def test_repeats_report_mean_and_spread(seed: Case) -> None:
    calls = {"n": 0}

    class Alternating:
        def extract(self, text: str, *, published: Any = None) -> Extraction:
            calls["n"] += 1
            ex = oracle_extraction(seed)
            if calls["n"] % 2 == 0:
                ex.entities = ex.entities[: len(ex.entities) // 2]
            return ex

    report = run_eval([seed], Alternating(), repeats=2)
    assert calls["n"] == 2 and report.run.repeats == 2 and len(report.runs) == 2
    first, second = (r["entities.recall"] for r in report.runs)
    assert first == 1.0 and second < 1.0
    assert report.metrics["entities.recall"] == pytest.approx((first + second) / 2, abs=1e-4)
    assert report.spread["entities.recall"] > 0
    assert report.spread["dates.f1"] == 0.0


def test_repeats_turn_the_model_cache_off_after_the_first_run(seed: Case) -> None:
    fake = FakeModel(handler=_fake_reply)
    extractor = Extractor(backend=fake, cache=True)
    run_eval([seed], extractor, repeats=2)
    first_run_calls = 2  # entities + facts
    assert len(fake.requests) == 2 * first_run_calls  # the second run called the model again


def _fake_reply(request: dict[str, Any]) -> dict[str, Any]:
    """A scripted model: a few entities from the seed article, and one fact."""
    name = request["response_format"]["json_schema"]["name"]
    if name == "WireEntities":
        return {
            "people": ["Cormac Carney", "Lee Gelernt"],
            "organizations": ["Reuters"],
            "places": ["Cambodia"],
            "other": [],
        }
    if name == "WireFacts":
        return {
            "headline": "Judge blocks deportation of Cambodians",
            "tldr": "A U.S. judge ruled that 92 Cambodians cannot be deported immediately.",
            "facts": [
                {"s": [3], "kind": "event", "statement": "A federal judge blocked the deportation of 92 Cambodians."}
            ],
        }
    raise AssertionError(f"unexpected request for {name}")


def test_the_real_extractor_with_a_fake_model(seed: Case, tmp_path: Path) -> None:
    extractor = Extractor(backend=FakeModel(handler=_fake_reply), cache=False)
    report = run_eval([seed], extractor, record=tmp_path / "fake.jsonl", price_in=1.0, price_out=2.0)
    case = report.cases[0]
    assert case.error is None, case.error
    assert report.run.backend == "fake" and report.run.model == "fake-model"
    matched = {m.gold.label for m in case.types["entities"].matched}
    assert {"Cormac Carney", "Lee Gelernt", "Reuters", "Cambodia"} <= matched
    assert report.metrics["grounding.rate"] == 1.0
    assert report.cost.prompt_tokens > 0 and report.cost.calls == 2
    assert report.cost.money == pytest.approx((report.cost.prompt_tokens + 2 * report.cost.completion_tokens) / 1e6)
    replayed = run_eval([seed], predictions=read_recording(tmp_path / "fake.jsonl"))
    assert replayed.metrics["entities.f1"] == report.metrics["entities.f1"]
    assert replayed.cost.prompt_tokens == report.cost.prompt_tokens


# ----------------------------------------------------------------------------------------------- judges


def test_model_judge_with_a_fake_model(tmp_path: Path) -> None:
    reply = {
        "verdicts": [
            {"n": 1, "reason": "supported", "supported": True},
            {"n": 2, "reason": "the article names no minister", "supported": False},
        ]
    }
    fake = FakeModel([reply])
    judge = ModelJudge(fake, cache=CallCache(tmp_path / "calls.sqlite3"))
    article = "A federal judge blocked the deportation of 92 Cambodians."
    result = judge.judge(article, ["A judge blocked a deportation.", "The minister resigned."])
    assert [v.supported for v in result.verdicts] == [True, False]
    assert result.verdicts[1].reason == "the article names no minister"
    assert not result.faithful
    assert result.usage.calls[0].purpose == "judge"
    prompt = fake.requests[0]["messages"][1]["content"]
    assert "1. A judge blocked a deportation.\n2. The minister resigned." in prompt and article in prompt
    # The same question again comes from the cache: no new request.
    again = judge.judge(article, ["A judge blocked a deportation.", "The minister resigned."])
    assert len(fake.requests) == 1 and again.usage.calls[0].cached
    assert [v.supported for v in again.verdicts] == [True, False]


def test_model_judge_reasks_for_missing_verdicts_then_counts_them_unsupported() -> None:
    partial = {"verdicts": [{"n": 1, "reason": "ok", "supported": True}]}
    fake = FakeModel([partial, partial])
    result = ModelJudge(fake, max_reasks=1).judge("Some article.", ["One.", "Two."])
    assert len(fake.requests) == 2  # re-asked once
    assert [v.supported for v in result.verdicts] == [True, False]
    assert result.verdicts[1].reason == "no verdict given"


def test_lexical_judge() -> None:
    judge = LexicalJudge()
    article = "The federal judge in Santa Ana blocked the deportation of 92 Cambodians on Thursday."
    result = judge.judge(
        article,
        [
            "A federal judge blocked the deportation of Cambodians.",
            "The judge blocked 95 deportations.",
            "Paris is lovely.",
        ],
    )
    assert [v.supported for v in result.verdicts] == [True, False, False]
    assert "95" in result.verdicts[1].reason


def test_judge_in_a_run(seed: Case) -> None:
    ex = oracle_extraction(seed)
    fake = FakeModel(handler=lambda req: {"verdicts": [{"n": 1, "reason": "", "supported": True}]})
    result = score_case(seed, ex, options=ScoreOptions(judge=ModelJudge(fake)))
    assert result.summary is not None and result.summary.faithfulness is not None
    n = len(result.summary.verdicts)
    assert n == 1 + len(ex.summary.key_points)
    assert result.summary.faithfulness.count == 1  # only sentence 1 got a verdict
    assert result.judge_prompt_tokens > 0
