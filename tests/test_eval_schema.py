"""``factkit eval`` on a user schema: a fixture names ``schema: module:Class`` and its ``expected`` values, and every
field is scored by a matcher chosen by its type."""

from __future__ import annotations

import enum
import itertools
import json
from datetime import date
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import BaseModel

from factkit import Evidence
from factkit._models import CustomExtraction
from factkit.eval import load_cases, run_eval
from factkit.eval._compare import compare_reports
from factkit.eval._fixtures import FixtureError, case_schema
from factkit.eval._schema import score_fields
from factkit.testing import FakeOpenAIServer, Reply
from tests.test_eval_cli import cli

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = (
    "Immigration authorities arrested approximately 100 Cambodians in raids last October. "
    "Many of them had fled the Khmer Rouge government in the 1970s. "
    "Judge Cormac Carney ruled on 25 January 2018 that 92 of the Cambodians could challenge their deportation "
    "orders in court."
)
RULING_AT = ARTICLE.index("Judge Cormac")
RAIDS_AT = 0


def span(start: int, end: int) -> dict[str, Any]:
    return {"start": start, "end": end, "text": ARTICLE[start:end]}


def ruling_span() -> dict[str, Any]:
    return span(RULING_AT, len(ARTICLE))


class Court(enum.Enum):
    district = "district"
    appeals = "appeals"


class Place(BaseModel):
    city: str
    state: str | None = None


class Everything(BaseModel):
    judge: str
    people: int
    share: float
    final: bool
    court: Court
    level: Literal["federal", "state"]
    day: date
    places: list[str]
    where: Place
    note: str | None = None
    evidence: Evidence
    quotes: list[Evidence] = []


# ----------------------------------------------------------------------------------------- the matchers

_counter = itertools.count()


@pytest.mark.parametrize(
    ("field", "expected", "predicted", "score", "matcher"),
    [
        ("judge", "Cormac Carney", "cormac carney.", 1.0, "text"),  # normalised: case and punctuation
        ("judge", "The Cormac Carney", "Cormac Carney", 1.0, "text"),  # a leading "the"
        ("judge", "Cormac Carney", "Judge Cormac Carney", 0.8, "text"),  # content-word F1: partial credit
        ("judge", "Cormac Carney", "Dan Levine", 0.0, "text"),
        ("people", 92, 92, 1.0, "exact"),
        ("people", 2018, 2000, 0.0, "exact"),  # an int is a count or a year: exact, no tolerance
        ("share", 0.5, 0.504, 1.0, "number"),  # within 1%
        ("share", 0.5, 0.51, 0.0, "number"),
        ("people", 92, 100, 0.0, "exact"),
        ("final", "false", False, 1.0, "exact"),  # the expected value as the field's type reads it
        ("people", "92", 92, 1.0, "exact"),
        ("final", True, True, 1.0, "exact"),
        ("final", True, False, 0.0, "exact"),
        ("court", "district", Court.district, 1.0, "exact"),
        ("court", "district", Court.appeals, 0.0, "exact"),
        ("level", "federal", "federal", 1.0, "exact"),
        ("level", "federal", "state", 0.0, "exact"),
        ("day", "2018-01-25", date(2018, 1, 25), 1.0, "date"),
        ("day", "2018-01-25", date(2018, 1, 26), 0.0, "date"),
        ("places", ["Santa Ana", "New York"], ["New York", "santa ana"], 1.0, "set"),
        ("places", ["Santa Ana", "New York"], ["New York", "Boston", "Chicago"], 0.4, "set"),  # P 1/3 R 1/2
        ("places", [], [], 1.0, "set"),
        ("places", ["Cormac Carney"], ["Dana Carney"], 0.5, "set"),  # a pair counts by its score
        ("note", None, None, 1.0, "none"),
        ("note", None, "made up", 0.0, "none"),
        ("judge", "Cormac Carney", None, 0.0, "missing"),
    ],
)
def test_each_field_type_is_scored_by_its_matcher(
    field: str, expected: Any, predicted: Any, score: float, matcher: str
) -> None:
    got = score_fields(Everything, {field: expected}, _partial(**{field: predicted}), ARTICLE)
    assert (got[field].score, got[field].matcher) == (pytest.approx(score, abs=1e-3), matcher)


def _partial(**values: Any) -> BaseModel:
    """An Everything with only some fields set (what a model may give for a field under test)."""
    return Everything.model_construct(**values)


def test_a_nested_model_is_scored_field_by_field() -> None:
    got = score_fields(
        Everything,
        {"where": {"city": "Santa Ana", "state": "California"}},
        _partial(where=Place(city="Santa Ana")),
        ARTICLE,
    )
    assert {k: v.score for k, v in got.items()} == {"where.city": 1.0, "where.state": 0.0}


def test_evidence_scores_its_overlap_with_the_gold_span_and_whether_it_states_the_fields_beside_it() -> None:
    evidence = Evidence(**ruling_span())
    pred = _partial(judge="Cormac Carney", evidence=evidence)
    exact = score_fields(Everything, {"evidence": ruling_span()}, pred, ARTICLE)
    assert exact["evidence"].score == 1.0 and exact["evidence.supports"].score == 1.0
    # half the gold span: precision 1, recall 1/2
    half = Evidence(**span(RULING_AT, RULING_AT + (len(ARTICLE) - RULING_AT) // 2))
    got = score_fields(Everything, {"evidence": ruling_span()}, _partial(judge="Cormac Carney", evidence=half), ARTICLE)
    assert got["evidence"].score == pytest.approx(2 / 3, abs=0.01)
    # a list of gold spans for one Evidence lists alternatives: the best counts
    alternatives = [span(RAIDS_AT, 84), ruling_span()]
    assert score_fields(Everything, {"evidence": alternatives}, pred, ARTICLE)["evidence"].score == 1.0
    # the quote of the raids does not state the judge's name: it does not support the value it stands for
    raids = _partial(judge="Cormac Carney", evidence=Evidence(**span(RAIDS_AT, 84)))
    wrong = score_fields(Everything, {"evidence": ruling_span()}, raids, ARTICLE)
    assert wrong["evidence"].score == 0.0 and wrong["evidence.supports"].score == 0.0
    # a list of Evidence is one set of characters
    quotes = [Evidence(**span(RAIDS_AT, 84))]
    got = score_fields(Everything, {"quotes": [span(RAIDS_AT, 84), ruling_span()]}, _partial(quotes=quotes), ARTICLE)
    assert 0.0 < got["quotes"].score < 1.0


def test_a_failed_extraction_scores_zero_on_every_expected_field() -> None:
    got = score_fields(Everything, {"judge": "Cormac Carney", "where": {"city": "Santa Ana"}}, None, ARTICLE)
    assert {k: (v.score, v.matcher) for k, v in got.items()} == {
        "judge": (0.0, "failed"),
        "where.city": (0.0, "failed"),
    }


# ----------------------------------------------------------------------------------------- the fixtures

RULING_MODULE = """
from pydantic import BaseModel
from factkit import Evidence

class Ruling(BaseModel):
    judge: str
    decision: str
    evidence: Evidence
"""


def _fixture(tmp_path: Path, expected: dict[str, Any], *, schema: str | None = None, module: bool = True) -> Path:
    name = f"ruling_schema_{next(_counter)}"
    if module:
        (tmp_path / f"{name}.py").write_text(RULING_MODULE, encoding="utf-8")
    case = {
        "id": "ruling",
        "provenance": {"source": "written for the test", "licence": "CC0"},
        "text": ARTICLE,
        "schema": schema or f"{name}:Ruling",
        "expected": expected,
    }
    path = tmp_path / "ruling.yaml"
    path.write_text(json.dumps(case), encoding="utf-8")  # JSON is YAML
    return path


GOLD = {
    "judge": "Cormac Carney",
    "decision": "92 Cambodians may challenge their deportation orders in court",
    "evidence": ruling_span(),
}


def test_a_schema_fixture_loads_and_names_its_schema(tmp_path: Path) -> None:
    case = load_cases(_fixture(tmp_path, GOLD))[0]
    schema = case_schema(case)
    assert schema is not None and schema.__name__ == "Ruling" and case.expected["judge"] == "Cormac Carney"


@pytest.mark.parametrize(
    ("expected", "schema", "module", "message"),
    [
        ({**GOLD, "court": "x"}, None, True, "expected.court: Ruling has no field 'court'; its fields: judge"),
        ({**GOLD, "judge": ["a"]}, None, True, "expected.judge: ['a'] is not a valid str"),
        ({**GOLD, "evidence": {"start": 0, "end": 5, "text": "Judge"}}, None, True, "expected.evidence.text: 'Judge'"),
        ({**GOLD, "evidence": "Judge Cormac Carney"}, None, True, "expected.evidence: give the gold evidence as"),
        ({**GOLD, "judge": None}, None, True, "expected.judge: null, but the field is not optional"),
        (GOLD, "no_such_module_here:Ruling", False, "schema: cannot import 'no_such_module_here'"),
        (GOLD, "Ruling", False, "is not module:Class"),
        ({}, None, True, "expected: none given"),
    ],
)
def test_a_bad_schema_fixture_says_which_field_and_how_to_fix_it(
    tmp_path: Path, expected: dict[str, Any], schema: str | None, module: bool, message: str
) -> None:
    with pytest.raises(FixtureError) as err:
        load_cases(_fixture(tmp_path, expected, schema=schema, module=module))
    assert message in str(err.value)
    assert "ruling.yaml" in str(err.value)


def test_expected_values_without_a_schema_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    case = {"id": "x", "provenance": {"source": "s", "licence": "CC0"}, "text": ARTICLE, "expected": GOLD}
    path.write_text(json.dumps(case), encoding="utf-8")
    with pytest.raises(FixtureError, match="given without a schema"):
        load_cases(path)


# --------------------------------------------------------------------------------------- through the CLI


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("FACTKIT_API_KEY", "sk-test-0123456789abcdef")
    with FakeOpenAIServer() as srv:
        yield srv


def test_a_schema_fixture_runs_against_a_model_records_replays_and_reports_every_field(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    wire = {
        "judge": "Judge Cormac Carney",
        "decision": "92 of the Cambodians could challenge their deportation orders",
        "evidence": "Judge Cormac Carney ruled on 25 January 2018 that 92 of the Cambodians could challenge",
    }
    server.set_handler(lambda request: Reply.json(wire))
    fixture = _fixture(tmp_path, GOLD)
    out = tmp_path / "out"
    base = ["--base-url", server.base_url, "--model", "fake-model", "-q", "--no-cache"]
    code = cli(str(fixture), *base, "--record", str(out / "rec.jsonl"), "--json", str(out / "live.json"))
    assert code == 0 and len(server.chat_requests) == 1
    live = json.loads((out / "live.json").read_text(encoding="utf-8"))
    case = live["cases"][0]
    assert case["schema_class"] == "Ruling" and case["types"] == {}
    fields = {k: v["score"] for k, v in case["fields"].items()}
    assert fields["judge"] == 0.8 and fields["evidence.supports"] == 1.0
    assert 0.5 < fields["evidence"] < 1.0 and 0.5 < fields["decision"] < 1.0
    assert live["metrics"]["schema.Ruling.judge"] == 0.8
    assert live["metrics"]["schema.score"] == round(sum(fields.values()) / 4, 4)
    assert "overall.micro_f1" not in live["metrics"]  # nothing of factkit's own schema was scored
    # replayed: the same numbers, no model
    code = cli(
        str(fixture),
        "--replay",
        str(out / "rec.jsonl"),
        "-q",
        "--json",
        str(out / "replay.json"),
        "--md",
        str(out / "r.md"),
        "--html",
        str(out / "r.html"),
    )
    assert code == 0 and len(server.chat_requests) == 1
    replay = json.loads((out / "replay.json").read_text(encoding="utf-8"))
    assert {k: v for k, v in replay["metrics"].items() if k.startswith("schema.")} == {
        k: v for k, v in live["metrics"].items() if k.startswith("schema.")
    }
    assert "| ruling | Ruling.judge | 0.800 | text | Cormac Carney | Judge Cormac Carney |" in (out / "r.md").read_text(
        encoding="utf-8"
    )
    html = (out / "r.html").read_text(encoding="utf-8")
    assert "Ruling.evidence.supports" in html and '<mark class="m"' in html
    # gates name the fields
    assert cli(str(fixture), "--replay", str(out / "rec.jsonl"), "-q", "--fail-under", "schema.Ruling.judge=0.9") == 1
    assert cli(str(fixture), "--replay", str(out / "rec.jsonl"), "-q", "--fail-under", "schema.Ruling.nope=0.9") == 2


def test_the_shipped_ruling_fixture_replays_field_by_field() -> None:
    from factkit.eval._record import read_recording

    cases = load_cases(ROOT / "evals" / "schemas")
    report = run_eval(cases, predictions=read_recording(ROOT / "evals" / "recorded" / "local-default.jsonl"))
    fields = report.cases[0].fields
    assert fields["judge"].score == 1.0 and fields["judge"].predicted == "Cormac Carney"
    assert fields["evidence"].score > 0.5 and fields["evidence.supports"].score == 1.0
    assert report.metrics["grounding.rate"] == 1.0


def test_compare_gives_each_schema_field_an_interval_and_wins(tmp_path: Path) -> None:
    """Two setups over six schema cases: the better one wins the judge field on the cases it gets right."""
    first = load_cases(_fixture(tmp_path, GOLD))[0]
    cases = [first.model_copy(update={"id": f"ruling-{i}"}) for i in range(6)]
    schema = case_schema(cases[0])
    assert schema is not None

    def run(judge: str) -> dict[str, Any]:
        predictions = {
            c.id: CustomExtraction[schema](  # type: ignore[valid-type]
                data=schema(judge=judge, decision=GOLD["decision"], evidence=Evidence(**ruling_span())),
                model="m",
                backend="b",
                prompt_version="p",
            )
            for c in cases
        }
        return run_eval(cases, predictions=predictions).model_dump(mode="json")

    result = compare_reports({"a": run("Dan Levine"), "b": run("Cormac Carney")})
    by_metric = {c["metric"]: c for c in result["comparisons"]}
    judge = by_metric["schema.Ruling.judge"]
    assert (judge["a_value"], judge["b_value"], judge["wins"], judge["losses"]) == (0.0, 1.0, 6, 0)
    assert judge["significant"] and judge["ci95"] == [1.0, 1.0]
    assert by_metric["schema.score"]["diff"] > 0 and by_metric["schema.Ruling.decision"]["ties"] == 6


def test_a_case_of_factkits_own_schema_keeps_its_scores_beside_a_schema_case() -> None:
    """The shipped fixtures replayed: the user-schema case adds its fields and leaves the type scores alone."""
    from factkit.eval._record import read_recording

    recording = read_recording(ROOT / "evals" / "recorded" / "local-default.jsonl")
    everything = run_eval(load_cases(ROOT / "evals"), predictions=recording)
    own = run_eval([c for c in load_cases(ROOT / "evals") if c.schema_ref is None], predictions=recording)
    for name in ("entities.f1", "dates.f1", "quotes.f1", "overall.micro_f1", "summary.rouge1"):
        assert everything.metrics[name] == own.metrics[name]
    assert "schema.score" in everything.metrics and "schema.score" not in own.metrics


def test_evidence_supports_is_zero_for_a_failed_case_and_for_missing_evidence_and_absent_for_no_gold() -> None:
    failed = score_fields(Everything, {"judge": "Cormac Carney", "evidence": ruling_span()}, None, ARTICLE)
    assert failed["evidence.supports"].score == 0.0
    missing = score_fields(
        Everything, {"judge": "Cormac Carney", "evidence": ruling_span()}, _partial(judge="Cormac Carney"), ARTICLE
    )
    assert missing["evidence"].score == 0.0 and missing["evidence.supports"].score == 0.0
    none_due = score_fields(
        Everything, {"judge": "Cormac Carney", "quotes": []}, _partial(judge="x", quotes=[]), ARTICLE
    )
    assert none_due["quotes"].score == 1.0 and "quotes.supports" not in none_due


def test_an_empty_list_of_evidence_alternatives_is_a_fixture_error(tmp_path: Path) -> None:
    with pytest.raises(FixtureError, match="an empty list of alternatives"):
        load_cases(_fixture(tmp_path, {**GOLD, "evidence": []}))


ALIASED = """
from pydantic import BaseModel, ConfigDict, Field, computed_field
from factkit import Evidence

class Named(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(alias="Name")
    evidence: Evidence

    @computed_field
    @property
    def upper(self) -> str:
        return self.name.upper()
"""


def test_a_schema_with_aliases_and_computed_fields_records_and_replays(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    (tmp_path / "aliased_schema.py").write_text(ALIASED, encoding="utf-8")
    case = {
        "id": "named",
        "provenance": {"source": "test", "licence": "CC0"},
        "text": ARTICLE,
        "schema": "aliased_schema:Named",
        "expected": {"name": "Cormac Carney", "evidence": ruling_span()},
    }
    fixture = tmp_path / "named.yaml"
    fixture.write_text(json.dumps(case), encoding="utf-8")
    # the model fills the wire model, by field name; the user's model is built by alias (it failed: "name: Field
    # required"), recorded by alias without its computed field, and replayed (it was refused)
    server.set_handler(lambda request: Reply.json({"name": "Cormac Carney", "evidence": ARTICLE[RULING_AT:]}))
    base = ["--base-url", server.base_url, "--model", "fake-model", "-q", "--no-cache"]
    assert cli(str(fixture), *base, "--record", str(tmp_path / "rec.jsonl"), "--json", str(tmp_path / "a.json")) == 0
    assert cli(str(fixture), "--replay", str(tmp_path / "rec.jsonl"), "-q", "--json", str(tmp_path / "b.json")) == 0
    live, replay = (json.loads((tmp_path / n).read_text())["metrics"] for n in ("a.json", "b.json"))
    assert live["schema.Named.name"] == replay["schema.Named.name"] == 1.0


def test_two_fixtures_with_a_schema_module_of_the_same_name_each_get_their_own(tmp_path: Path) -> None:
    for folder, field in (("a", "name"), ("b", "count")):
        (tmp_path / folder).mkdir()
        kind = "str" if field == "name" else "int"
        (tmp_path / folder / "models.py").write_text(
            f"from pydantic import BaseModel\nclass Thing(BaseModel):\n    {field}: {kind}\n", encoding="utf-8"
        )
        case = {
            "id": f"thing-{folder}",
            "provenance": {"source": "test", "licence": "CC0"},
            "text": ARTICLE,
            "schema": "models:Thing",
            "expected": {field: "x" if field == "name" else 3},
        }
        (tmp_path / folder / "f.yaml").write_text(json.dumps(case), encoding="utf-8")
    cases = {c.id: case_schema(c) for c in load_cases(tmp_path)}
    a, b = cases["thing-a"], cases["thing-b"]
    assert a is not None and b is not None and set(a.model_fields) == {"name"} and set(b.model_fields) == {"count"}


def test_only_does_not_run_the_cases_of_a_user_schema(tmp_path: Path) -> None:
    recording = ROOT / "evals" / "recorded" / "local-default.jsonl"
    out = tmp_path / "r.json"
    assert cli(str(ROOT / "evals"), "--replay", str(recording), "-q", "--only", "entities", "--json", str(out)) == 0
    report = json.loads(out.read_text())
    assert "ruling-seed" not in {c["id"] for c in report["cases"]} and "schema.score" not in report["metrics"]
    assert cli(str(ROOT / "evals" / "schemas"), "--replay", str(recording), "-q", "--only", "entities") == 2
