"""The evaluation fixtures: their models, loaders and error messages, and the data shipped in evals/."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the package is used from the checkout, not installed
    sys.path.insert(0, str(ROOT))

from factkit._errors import InputError  # noqa: E402
from factkit.eval._fixtures import Case, FixtureError, dump_case_yaml, load_cases  # noqa: E402

EVALS = ROOT / "evals"
GUM_SRC = ROOT.parent / "shared" / "data" / "gum-news" / "gum_news_dev.jsonl"
SEED_ID = "reuters-2018-01-26-cambodians-deportation"
GUM_NAMES = [
    "afghan", "clock", "defector", "expo", "hackers", "homeopathic", "imprisoned", "iodine", "lanterns",
    "soccer", "taxes", "warming",
]  # fmt: skip


@pytest.fixture(scope="module")
def shipped() -> dict[str, Case]:
    return {case.id: case for case in load_cases(EVALS)}


# ------------------------------------------------------------------------------------ shipped data


def test_all_shipped_fixtures_load(shipped: dict[str, Case]) -> None:
    assert len(shipped) == 14
    assert set(shipped) == {SEED_ID, "ruling-seed"} | {f"gum-news-{n}" for n in GUM_NAMES}
    for case in shipped.values():
        assert case.text, case.id
        assert case.provenance.licence and case.provenance.source
        assert case.summaries or case.schema_ref, f"{case.id} has no reference summary"
        assert case.published is not None


def test_every_gold_span_matches_its_text(shipped: dict[str, Case]) -> None:
    checked = 0
    for case in shipped.values():
        for where, span in case.spans():
            assert case.article[span.start : span.end] == span.text, (case.id, where)
            assert span.text.strip(), (case.id, where)
            checked += 1
        for entity in case.entities:
            assert entity.mentions, (case.id, entity.name)
            assert entity.mentions == sorted(entity.mentions, key=lambda m: (m.start, m.end))
        for quote in case.quotes:  # the quoted words only: no quotation marks at either end
            assert quote.text[0] not in '"“”' and quote.text[-1] not in '"“”,', (case.id, quote.text)
    assert checked > 900


def test_entity_names_are_unique_per_case(shipped: dict[str, Case]) -> None:
    for case in shipped.values():
        names = [e.name for e in case.entities]
        assert len(names) == len(set(names)), case.id


def test_gum_cases_match_the_conversion_rules(shipped: dict[str, Case]) -> None:
    gum = {k: v for k, v in shipped.items() if k.startswith("gum-news-")}
    assert len(gum) == 12
    for case in gum.values():
        assert case.facts == [] and case.quantities == []
        assert case.provenance.licence == "annotations CC BY 4.0; text CC BY 2.5"
        assert "Zeldes" in (case.provenance.credit or "") and "Wikinews" in (case.provenance.credit or "")
        assert case.provenance.source.startswith("https://en.wikinews.org/wiki/")
        assert {e.type for e in case.entities} <= {"person", "organization", "location", "other"}
        assert case.metadata["published_from"] == "dateline"
        # the dateline (second line) is the first date and carries the published date
        dateline = case.article.split("\n")[1]
        first = next(d for d in case.dates if d.text == dateline)
        assert first.value == case.published.isoformat()  # type: ignore[union-attr]
    assert [len(gum[f"gum-news-{n}"].summaries) for n in ("homeopathic", "iodine", "afghan")] == [5, 5, 1]
    afghan = gum["gum-news-afghan"]
    assert afghan.published == date(2017, 7, 21)  # not date_created (2017-07-18)
    assert afghan.metadata["date_created"] == "2017-07-18"
    assert {d.text: d.value for d in afghan.dates}["last week"] == "2017-07-10/2017-07-16"
    assert gum["gum-news-soccer"].published == date(2018, 6, 19)
    trump = next(e for e in afghan.entities if e.name == "Donald Trump")
    assert trump.type == "person" and "Trump" in trump.aliases and "his" not in trump.aliases
    assert any(m.text == "his" for m in trump.mentions)  # mentions keep GUM's pronouns
    us = next(e for e in afghan.entities if e.name == "United States")
    assert us.type == "location" and "U.S." in us.aliases
    hackers = {d.text: d.value for d in gum["gum-news-hackers"].dates}
    assert hackers["15 years"] == "1994/2008" and hackers["24 hours ago"] is None
    # clusters GUM split but linked to the same Wikipedia page are merged
    assert sum(e.name == "Google" for e in gum["gum-news-clock"].entities) == 1
    assert sum(e.name == "Harry Kane" for e in gum["gum-news-soccer"].entities) == 1


@pytest.mark.skipif(not GUM_SRC.exists(), reason="the GUM source data is not available")
def test_gum_fixtures_keep_the_source_text_exactly(shipped: dict[str, Case]) -> None:
    for line in GUM_SRC.read_text(encoding="utf-8").splitlines():
        doc = json.loads(line)
        case = shipped["gum-news-" + doc["doc_id"].removeprefix("GUM_news_")]
        assert case.text == doc["text"]
        assert case.title == doc["title"]
        assert [s.text for s in case.summaries] == [s["text"] for s in doc["summaries"] if s["is_human"]]
        named = {e["identity"] for e in doc["entities"] if e["identity"]}
        assert set(case.metadata["wikipedia"].values()) == named
        assert sum(len(e.mentions) for e in case.entities) == len(
            {(m["start"], m["end"]) for e in doc["entities"] if e["identity"] for m in e["mentions"]}
        )
        assert len(case.dates) == len(doc["dates"])
        assert len(case.quotes) == sum(q["tag"] == "quote" for q in doc["quotes"])


@pytest.mark.skipif(not GUM_SRC.exists(), reason="the GUM source data is not available")
def test_gum_converter_is_deterministic_and_matches_the_committed_files(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(EVALS / "convert_gum.py"), "--src", str(GUM_SRC), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    produced = sorted(p.name for p in tmp_path.glob("*.yaml"))
    assert produced == sorted(p.name for p in (EVALS / "gum").glob("*.yaml"))
    for name in produced:
        assert (tmp_path / name).read_bytes() == (EVALS / "gum" / name).read_bytes(), name


def test_gum_text_is_a_block_literal() -> None:
    for path in sorted((EVALS / "gum").glob("*.yaml")):
        assert "\ntext: |-\n" in path.read_text(encoding="utf-8"), path.name


def test_seed_case_has_the_expected_key_items(shipped: dict[str, Case]) -> None:
    seed = shipped[SEED_ID]
    assert seed.text_path == f"../../seeds/{SEED_ID}.txt"
    assert seed.text == (ROOT / "seeds" / f"{SEED_ID}.txt").read_bytes().decode("utf-8")
    assert seed.published == date(2018, 1, 26)

    entities = {e.name: e for e in seed.entities}
    expected = {
        "Donald Trump": "person",
        "Cormac Carney": "person",
        "Lee Gelernt": "person",
        "Dan Levine": "person",
        "Mica Rosenberg": "person",
        "Roberta Rampton": "person",
        "Alistair Bell": "person",
        "Reuters": "organization",
        "United States Department of Justice": "organization",
        "American Civil Liberties Union": "organization",
        "Khmer Rouge": "organization",
        "San Francisco": "location",
        "New York City": "location",
        "United States": "location",
        "Cambodia": "location",
        "Santa Ana, California": "location",
        "California": "location",
        "Washington, D.C.": "location",
        "Iraqis": "other",
    }
    for name, etype in expected.items():
        assert entities[name].type == etype, name
    carney = [m.text for m in entities["Cormac Carney"].mentions]
    assert carney == [
        "U.S. judge",
        "A federal judge",
        "U.S. District Judge Cormac Carney",
        "the judge",
        "Carney",
    ]
    assert len(entities["United States"].mentions) == 9

    assert {q.speaker for q in seed.quotes} == {"Cormac Carney", "Lee Gelernt"}
    assert all("serious questions" not in q.text for q in seed.quotes)
    assert seed.quotes[0].text.startswith("It is disingenuous") and seed.quotes[0].text.endswith("country")

    quantities = {(q.value, q.unit, q.approximate) for q in seed.quantities}
    assert (92, "Cambodian citizens", False) in quantities
    assert (100, "Cambodians", True) in quantities
    assert (3, "judges", False) in quantities

    dates = {d.text: d.value for d in seed.dates}
    assert dates["January 26, 2018"] == "2018-01-26"
    assert dates["late on Thursday"] == "2018-01-25" and dates["Thursday"] == "2018-01-25"
    assert dates["last October"] == "2017-10"
    assert dates["the 1970s"] == "197X"
    assert dates["last year"] == "2017"
    assert dates["years ago"] is None

    assert 8 <= len(seed.facts) <= 12
    key = [f for f in seed.facts if f.key]
    assert len(key) == 5
    key_text = " ".join(f.statement for f in key)
    for needle in (
        "92 Cambodian",
        "Cormac Carney",
        "approximately 100",
        "refused to repatriate",
        "disingenuous",
    ):
        assert needle in key_text, needle
    assert all(f.evidence is not None for f in seed.facts)
    assert len(seed.summaries) == 1 and 2 <= seed.summaries[0].text.count(". ") + 1 <= 3


# ------------------------------------------------------------------------------------ loading


def _case(**overrides: object) -> dict[str, object]:
    text = "Jane Doe met John Roe in Paris on Monday."
    case: dict[str, object] = {
        "id": "tiny",
        "published": "2020-01-07",
        "provenance": {"source": "test", "licence": "CC0"},
        "text": text,
        "entities": [
            {"name": "Jane Doe", "type": "person", "mentions": [{"start": 0, "end": 8, "text": "Jane Doe"}]},
            {"name": "Paris", "type": "location", "mentions": [{"start": 25, "end": 30, "text": "Paris"}]},
        ],
        "dates": [{"start": 34, "end": 40, "text": "Monday", "value": "2020-01-06"}],
    }
    case.update(overrides)
    return case


def _write_yaml(path: Path, data: object) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def _error(path: Path) -> FixtureError:
    with pytest.raises(FixtureError) as info:
        load_cases(path)
    message = str(info.value)
    assert "Traceback" not in message and "validation error" not in message, message
    assert "https://errors.pydantic.dev" not in message, message
    assert isinstance(info.value, InputError)
    return info.value


def test_yaml_single_list_and_cases_key_and_jsonl_all_load(tmp_path: Path) -> None:
    one = _write_yaml(tmp_path / "one.yaml", _case(id="one"))
    many = _write_yaml(tmp_path / "many.yml", [_case(id="two"), _case(id="three")])
    keyed = _write_yaml(tmp_path / "keyed.yaml", {"cases": [_case(id="four")]})
    jsonl = tmp_path / "sub" / "more.jsonl"
    jsonl.parent.mkdir()
    jsonl.write_text(
        json.dumps(_case(id="five")) + "\n\n" + json.dumps(_case(id="six"), ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    assert [c.id for c in load_cases(one)] == ["one"]
    assert [c.id for c in load_cases(many)] == ["two", "three"]
    assert [c.id for c in load_cases(keyed)] == ["four"]
    assert [c.id for c in load_cases(jsonl)] == ["five", "six"]
    # a directory: every fixture file, recursively, in sorted path order
    assert [c.id for c in load_cases(tmp_path)] == ["four", "two", "three", "one", "five", "six"]
    case = load_cases(one)[0]
    assert case.published == date(2020, 1, 7)
    assert case.entities[0].aliases == [] and case.dates[0].value == "2020-01-06"


def test_text_path_is_resolved_relative_to_the_fixture_file(tmp_path: Path) -> None:
    (tmp_path / "articles").mkdir()
    article = "Caf\u00e9 owner Jane Doe  \r\nsaid \u201chello\u201d. "
    (tmp_path / "articles" / "a.txt").write_bytes(article.encode("utf-8"))
    (tmp_path / "cases").mkdir()
    data = _case(text=None, text_path="../articles/a.txt", entities=[], dates=[])
    start = article.index("hello")
    data["quotes"] = [{"start": start, "end": start + 5, "text": "hello", "speaker": "Jane Doe"}]
    del data["text"]
    path = _write_yaml(tmp_path / "cases" / "c.yaml", data)
    (case,) = load_cases(path)
    assert case.text == article  # exact: CRLF, trailing spaces and non-ASCII kept
    assert case.quotes[0].speaker == "Jane Doe"


def test_unquoted_yaml_dates_and_years_become_iso_text(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    text = yaml.safe_dump(_case(), sort_keys=False).replace("value: '2020-01-06'", "value: 2020-01-06")
    path.write_text(text, encoding="utf-8")
    assert load_cases(path)[0].dates[0].value == "2020-01-06"


def test_dump_case_yaml_round_trips(tmp_path: Path) -> None:
    case = Case.model_validate(
        _case(text="Line one  \nline two \u2014 \u00e9\n\n  indented\ttab", entities=[], dates=[])
    )
    path = tmp_path / "c.yaml"
    path.write_text(dump_case_yaml(case), encoding="utf-8")
    assert load_cases(path)[0] == case


def test_missing_field_names_file_case_and_field(tmp_path: Path) -> None:
    data = _case()
    del data["provenance"]
    error = _error(_write_yaml(tmp_path / "bad.yaml", data))
    assert "bad.yaml" in str(error) and "case 'tiny'" in str(error)
    assert "provenance: required field is missing" in str(error)
    assert (error.case, error.field) == ("tiny", "provenance")

    data = _case()
    del data["entities"][0]["type"]  # type: ignore[index]
    error = _error(_write_yaml(tmp_path / "bad2.yaml", data))
    assert "entities[0].type: required field is missing" in str(error)


def test_wrong_span_text_names_the_field_path_and_where_the_text_is(tmp_path: Path) -> None:
    data = _case()
    data["entities"][1]["mentions"] = [{"start": 24, "end": 29, "text": "Paris"}]  # type: ignore[index]
    error = _error(_write_yaml(tmp_path / "bad.yaml", data))
    message = str(error)
    assert "bad.yaml" in message and "'tiny'" in message
    assert "entities[1].mentions[0].text: 'Paris' is not the article text at [24:29], which is ' Pari'" in message
    assert "occurs at [25:30]" in message
    assert error.field == "entities[1].mentions[0].text"

    data = _case()
    data["dates"] = [{"start": 34, "end": 99, "text": "Monday", "value": None}]
    assert "dates[0].end: 99 is past the end of the article" in str(_error(_write_yaml(tmp_path / "bad2.yaml", data)))


def test_unknown_field_is_an_error_with_the_allowed_fields(tmp_path: Path) -> None:
    data = _case()
    data["entities"][0]["colour"] = "red"  # type: ignore[index]
    message = str(_error(_write_yaml(tmp_path / "bad.yaml", data)))
    assert "bad.yaml" in message and "'tiny'" in message
    assert "entities[0].colour: unknown field" in message and "aliases" in message

    message = str(_error(_write_yaml(tmp_path / "bad2.yaml", _case(summary="x"))))
    assert "summary: unknown field" in message and "summaries" in message


def test_both_or_neither_text_and_text_path(tmp_path: Path) -> None:
    message = str(_error(_write_yaml(tmp_path / "both.yaml", _case(text_path="a.txt"))))
    assert "both.yaml" in message and "'tiny'" in message and "text/text_path: both given" in message

    data = _case()
    del data["text"]
    assert "text/text_path: neither given" in str(_error(_write_yaml(tmp_path / "neither.yaml", data)))

    data["text_path"] = "missing.txt"
    message = str(_error(_write_yaml(tmp_path / "missing.yaml", data)))
    assert "text_path: cannot read 'missing.txt'" in message


def test_bad_values_are_explained(tmp_path: Path) -> None:
    data = _case()
    data["entities"][0]["type"] = "people"  # type: ignore[index]
    data["dates"][0]["start"] = "x"  # type: ignore[index]
    message = str(_error(_write_yaml(tmp_path / "bad.yaml", data)))
    assert "entities[0].type: Input should be 'person', 'organization', 'location' or 'other'" in message
    assert "dates[0].start: Input should be a valid integer" in message
    message = str(_error(_write_yaml(tmp_path / "bad2.yaml", _case(id="has space"))))
    assert "id: String should match pattern" in message


def test_bad_yaml_syntax_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("id: x\nprovenance: {source: a, licence: b\ntext: hi\n", encoding="utf-8")
    message = str(_error(path))
    assert "broken.yaml" in message and "invalid YAML: line" in message

    path.write_text("", encoding="utf-8")
    assert "the file is empty" in str(_error(path))
    path.write_text("- just\n- strings\n", encoding="utf-8")
    message = str(_error(path))
    assert "case #1: expected a mapping of case fields, got a str" in message


def test_bad_jsonl_line_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_text(json.dumps(_case(id="a")) + "\n{not json}\n", encoding="utf-8")
    error = _error(path)
    assert "cases.jsonl" in str(error) and "line 2: invalid JSON" in str(error)
    assert error.case == "line 2"

    bad = _case(id="b")
    del bad["provenance"]
    path.write_text(json.dumps(_case(id="a")) + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
    message = str(_error(path))
    assert "case 'b' (line 2): provenance: required field is missing" in message


def test_duplicate_ids_across_files_are_an_error(tmp_path: Path) -> None:
    _write_yaml(tmp_path / "a.yaml", _case(id="same"))
    (tmp_path / "b.jsonl").write_text(json.dumps(_case(id="same")) + "\n", encoding="utf-8")
    error = _error(tmp_path)
    message = str(error)
    assert "b.jsonl" in message and "a.yaml" in message and "'same'" in message
    assert (error.case, error.field) == ("same", "id")


def test_paths_that_hold_no_cases(tmp_path: Path) -> None:
    assert "no such file or directory" in str(_error(tmp_path / "nope"))
    (tmp_path / "empty").mkdir()
    assert "no fixture files" in str(_error(tmp_path / "empty"))
    other = tmp_path / "case.txt"
    other.write_text("x", encoding="utf-8")
    assert "unknown fixture format '.txt'" in str(_error(other))


def test_many_span_problems_are_summarised(tmp_path: Path) -> None:
    data = _case()
    data["entities"] = [
        {
            "name": "X",
            "type": "other",
            "mentions": [{"start": i, "end": i + 1, "text": "#"} for i in range(20)],
        }
    ]
    message = str(_error(_write_yaml(tmp_path / "bad.yaml", data)))
    assert "entities[0].mentions[7].text" in message and "and 12 more problems" in message
