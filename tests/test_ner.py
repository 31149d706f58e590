"""Named entities from the spaCy pipeline (the NER path), and the model-free pass ``only=``."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

import factkit
from factkit import UsageError, resolve_settings
from factkit._ner import PIPELINE, load_pipeline
from factkit.cli import main
from factkit.testing import FakeModel, grounded_answer

pytest.importorskip("spacy")
if load_pipeline(PIPELINE) is None:
    pytest.skip(f"the pinned spaCy pipeline {PIPELINE} is not installed", allow_module_level=True)

ARTICLE = (
    "WASHINGTON (Reuters) - U.S. District Judge Cormac Carney ruled on Thursday in Santa Ana, California, that "
    "the Department of Justice cannot deport 92 Cambodians, the American Civil Liberties Union said.\n"
    "\u201cThis is a victory,\u201d said Lee Gelernt, a lawyer with the ACLU. Carney wrote that the government "
    "had waited too long. Trump administration officials did not comment.\n"
    "Reporting by Dan Levine; Editing by Alistair Bell\n"
)


def _settings(**env: str) -> factkit.Settings:
    return resolve_settings(backend="fake", model="fake", cache=False, env={"FACTKIT_NER": "auto", **env})


def test_entities_come_from_the_pipeline_grounded_and_typed() -> None:
    model = FakeModel(handler=grounded_answer)
    result = factkit.Extractor(backend=model, settings=_settings(FACTKIT_ENTITIES="ner")).extract(ARTICLE)
    by_name = {e.name: e for e in result.entities}
    assert by_name["Cormac Carney"].type == "person"
    assert [m.text for m in by_name["Cormac Carney"].mentions] == ["Cormac Carney", "Carney"]  # the surname too
    assert by_name["Lee Gelernt"].type == "person"
    assert any(e.type == "location" and e.name == "Santa Ana" for e in result.entities)
    assert {"Dan Levine", "Alistair Bell"} <= set(by_name)  # journalists named in the byline are people too
    for entity in result.entities:
        for m in entity.mentions:
            assert ARTICLE[m.start : m.end] == m.text
    assert {q.speaker for q in result.quotes} == {"Lee Gelernt"}
    assert all("named entities" not in str(r["messages"]) for r in model.requests)  # no LLM entity call


def test_a_model_free_pass_makes_no_call_and_loads_no_model(monkeypatch: pytest.MonkeyPatch) -> None:
    from factkit.backends import local

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model was loaded")

    monkeypatch.setattr(local.LocalBackend, "shared", classmethod(refuse))
    settings = resolve_settings(backend="local", cache=False, env={"FACTKIT_NER": "auto"})
    extractor = factkit.Extractor(settings=settings)
    extractor.extract(ARTICLE, only="entities")  # the pipeline loads once
    start = time.perf_counter()
    result = extractor.extract(ARTICLE, published="2018-01-26", only={"entities", "quotes", "dates"})
    assert time.perf_counter() - start < 5
    assert result.usage.calls == [] and result.facts == [] and result.summary.headline == ""
    assert result.entities and result.quotes and result.dates
    assert [d.value for d in result.dates] == ["2018-01-25"]
    with pytest.raises(UsageError, match="choose among"):
        extractor.extract(ARTICLE, only={"names"})


def test_its_records_are_those_of_a_full_extraction() -> None:
    model = FakeModel(handler=grounded_answer)
    extractor = factkit.Extractor(backend=model, settings=_settings(FACTKIT_ENTITIES="ner"))
    full = extractor.extract(ARTICLE, published="2018-01-26")
    calls = len(model.requests)
    sweep = extractor.extract(ARTICLE, published="2018-01-26", only={"entities", "quotes", "dates"})
    assert len(model.requests) == calls
    assert sweep.entities == full.entities and sweep.quotes == full.quotes and sweep.dates == full.dates


def test_cli_only(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACTKIT_NER", "auto")
    path = tmp_path / "a.txt"
    path.write_text(ARTICLE, encoding="utf-8")
    assert main(["extract", str(path), "--only", "entities,quotes,dates", "--published", "2018-01-26"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["usage"]["calls"] == [] and out["entities"] and out["facts"] == []
    assert main(["extract", str(path), "--only", "entities,gossip"]) == 2


def test_a_tampered_pipeline_is_refused(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from factkit import _ner

    monkeypatch.setattr(_ner, "PIPELINE_SHA256", "0" * 64)
    monkeypatch.setattr(_ner, "_loaded", {})  # what this process loaded is back after the test
    with caplog.at_level("WARNING", logger="factkit"):
        assert _ner.load_pipeline(PIPELINE) is None
    assert any("not the pinned" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        ('Clinton said on the other hand, "I will do better than that for all of you."', "Clinton"),
        (
            '"We have a duty to move forward," Italian Prime Minister Matteo Renzi said after the meeting.',
            "Matteo Renzi",
        ),
        ('Japan branded North Korea an "outlaw nation in the neighborhood" on Friday.', "Japan"),
        ('Trump tweeted that, "the media is totally rigged against us" on Sunday.', "Trump"),
        ('"This is only the beginning of a long fight," said Maria Lopez, a union leader.', "Maria Lopez"),
        ('The plan was "a disaster for working families" across the state.', None),
    ],
)
def test_quote_speakers_from_the_parse(text: str, speaker: str | None) -> None:
    extractor = factkit.Extractor(backend=FakeModel(handler=grounded_answer), settings=_settings())
    quotes = extractor.extract(text, only={"quotes"}).quotes
    assert len(quotes) == 1
    got = quotes[0].speaker
    assert (got is None) if speaker is None else (got is not None and speaker in got), got


def test_a_pronoun_speaker_is_the_last_person_named() -> None:
    text = (
        "Senator Ann Lopez spoke in Denver on Monday. She said the bill was "
        '"the worst idea this chamber has had in a decade" and left.'
    )
    extractor = factkit.Extractor(backend=FakeModel(handler=grounded_answer), settings=_settings())
    assert extractor.extract(text, only={"quotes"}).quotes[0].speaker == "Ann Lopez"


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        # a description where the article gives no name
        ('"We do not see a link to terrorism," the mayor said on Sunday.', "the mayor"),
        # the name in an apposition, and a pronoun that gives way to the sayer higher up
        ('"It is a severe disconnect," Flynn, a top surrogate, said Thursday morning on Fox.', "Flynn"),
        ('Donald Trump said he thought that drugs were a "very, very big factor" in the violence.', "Donald Trump"),
        # a pronoun stands for the person named as a subject before, not the last name written
        ('Clinton says Trump\'s "latest meltdown is unhinged, even for him." She says it underscores that.', "Clinton"),
        # an inverted attribution
        ('Said Ellis: "I do not get the sense she is the least bit interested in tax reform."', "Ellis"),
    ],
)
def test_more_speakers_from_the_parse_and_the_patterns(text: str, speaker: str) -> None:
    extractor = factkit.Extractor(backend=FakeModel(handler=grounded_answer), settings=_settings())
    quotes = extractor.extract(text, only={"quotes"}).quotes
    assert len(quotes) == 1 and quotes[0].speaker is not None and speaker in quotes[0].speaker, quotes


def test_continued_and_resumed_quotations_keep_their_speaker() -> None:
    text = (
        "\u201cWe will achieve justice in this case,\u201d Tulsa police Chief Chuck Jordan said Monday. "
        "\u201cI want to assure our community.\u201d\n\n"
        "Governor Mary Fallin spoke next. \u201cThis is a long statement that runs on over a paragraph break\n\n"
        "\u201cand it ends here with the rest of the point,\u201d she said.\n\n"
        'Partial transcript:\n\n"WALLACE: Let us start with the debate tonight, Governor."'
    )
    extractor = factkit.Extractor(backend=FakeModel(handler=grounded_answer), settings=_settings())
    quotes = extractor.extract(text, only={"entities", "quotes"}).quotes
    assert [(q.speaker or "").casefold() for q in quotes] == [
        "chuck jordan",
        "chuck jordan",
        "mary fallin",
        "mary fallin",
        "wallace",  # a transcript's label
    ]
    assert quotes[2].text.endswith("paragraph break") and quotes[3].text.startswith("and it ends")


def test_titles_and_terms_in_quotation_marks_are_not_quotes() -> None:
    text = (
        'Pence spoke on "Fox News Sunday" about the "sex tape" story. Clinton called them "deplorables." '
        "\u201dMr. Trump embodies the lasting legacy of racism here.\u201d \u2015 Sonya Herridge"
    )
    extractor = factkit.Extractor(backend=FakeModel(handler=grounded_answer), settings=_settings())
    quotes = extractor.extract(text, only={"quotes"}).quotes
    assert [(q.text, q.speaker) for q in quotes] == [
        ("deplorables.", "Clinton"),  # a word or two with a speaker is a partial quote
        ("Mr. Trump embodies the lasting legacy of racism here.", "Sonya Herridge"),  # marks typed the wrong way
    ]


SHARED = Path(__file__).resolve().parent.parent.parent / "shared"


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED / "data" / "polnear" / "polnear_dev.jsonl.gz").exists(), reason="needs ../shared")
def test_polnear_converts_to_fixtures_that_score_quotes_and_speakers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    monkeypatch.setenv("FACTKIT_NER", "auto")  # the model-free pass (conftest turns NER off)
    from factkit.eval._fixtures import load_cases

    spec = importlib.util.spec_from_file_location("convert_polnear", Path("evals/convert_polnear.py").resolve())
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--out", str(tmp_path)]) == 0
    cases = load_cases(tmp_path)
    assert len(cases) == 84 and sum(len(c.quotes) for c in cases) == 624  # as the shared scorer counts them
    named = [q for c in cases for q in c.quotes if q.speaker]
    assert len(named) > 300 and not any("(" in q.speaker or "," in q.speaker for q in named if q.speaker)
    assert (
        main(["eval", str(tmp_path), "--only", "entities,quotes", "--no-cache", "--json", str(tmp_path / "r.json")])
        == 0
    )
    report = json.loads((tmp_path / "r.json").read_text())
    assert 0 < report["metrics"]["quotes.speaker_accuracy"] <= 1


@pytest.mark.parametrize(
    ("span", "names"),
    [
        ("Sweden 1", ["Sweden"]),  # a score beside a team
        ("The World Health Organisation (WHO", ["The World Health Organisation", "WHO"]),  # an unclosed bracket
        ("Freewinds in Bonaire", ["Freewinds", "Bonaire"]),  # two names the CNN ran together
        ("Council on American-Islamic Relations", ["Council on American-Islamic Relations"]),
        ("Government", []),  # the article also writes "government": a common word at a sentence start
        ("@POTUS", []),  # a handle
        ("NASA", ["NASA"]),
    ],
)
def test_entity_spans_are_cleaned_into_names(span: str, names: list[str]) -> None:
    from factkit._ner import _clean_parts

    assert _clean_parts(span, {"government", "the", "nasa"}) == names


def test_the_pipeline_loads_once_however_many_threads_ask(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from factkit import _ner

    loads: list[str] = []

    def slow_load(name: str) -> object:
        loads.append(name)
        time.sleep(0.05)  # long enough for every thread to ask before the first load ends
        return object()

    monkeypatch.setattr(_ner, "_loaded", {})
    monkeypatch.setattr(_ner, "_load", slow_load)
    got: list[object] = []
    threads = [threading.Thread(target=lambda: got.append(_ner.load_pipeline("x"))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert loads == ["x"] and len(got) == 8 and len({id(g) for g in got}) == 1


def test_every_parse_runs_on_the_one_pipeline_thread() -> None:
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from factkit import _ner

    seen: set[str] = set()

    def fake_nlp(text: str) -> str:
        seen.add(threading.current_thread().name)
        return text.upper()

    with ThreadPoolExecutor(8) as pool:
        out = list(pool.map(lambda i: _ner.run_pipeline(fake_nlp, f"t{i}"), range(40)))
    assert out == [f"T{i}" for i in range(40)]
    assert len(seen) == 1 and next(iter(seen)).startswith("factkit-nlp")


def test_ner_off_never_loads_a_pipeline_not_even_to_check_the_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    from factkit import _ner

    def refuse(name: str) -> None:
        raise AssertionError(f"FACTKIT_NER=off, yet the pipeline {name} was loaded")

    monkeypatch.setattr(_ner, "_loaded", {})
    monkeypatch.setattr(_ner, "_load", refuse)
    model = FakeModel(handler=grounded_answer)
    result = factkit.Extractor(backend=model, settings=_settings(FACTKIT_NER="off")).extract(ARTICLE)
    assert result.summary.headline and result.entities  # checked with the rules, entities from the model


WHOLE = (
    "The match in Sochi was decided late. Swedish captain Andreas Granqvist scored from the spot, and English "
    "defender Kyle Walker was booked. The team trains at Fisht Stadium in Sochi.\n"
    "The church's headquarters are in Clearwater, Florida, where Facebook co-founder Mark Zuckerberg has never "
    "been. The players come from Sweden, Belgium and England.\n"
)


def test_a_mention_is_the_whole_phrase_that_names_the_entity() -> None:
    model = FakeModel(handler=grounded_answer)
    result = factkit.Extractor(backend=model, settings=_settings(FACTKIT_ENTITIES="ner")).extract(
        WHOLE, only={"entities"}
    )
    mentions = {e.name: [m.text for m in e.mentions] for e in result.entities}
    assert mentions["Andreas Granqvist"] == ["Swedish captain Andreas Granqvist"]
    assert mentions["Kyle Walker"] == ["English defender Kyle Walker"]
    assert "Clearwater, Florida" in mentions["Clearwater"]
    assert mentions["Mark Zuckerberg"] == ["Mark Zuckerberg"]  # never half a word ('founder Mark Zuckerberg')
    assert mentions["Sweden"] == ["Sweden"]  # a list is not a city and its region
    for ent in result.entities:
        for m in ent.mentions:
            assert WHOLE[m.start : m.end] == m.text
