"""Date normalisation as the pipeline uses it: spans into the original text, values against publication."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import TaskScript

from factkit import Extractor, UsageError
from factkit._document import Document
from factkit._records import date_mentions
from factkit.rules.dates import normalize_date, parse_published
from factkit.testing import FakeModel

TEXT = (
    "Zürich, 🎉 Friday — The café said on Thursday that it had opened last October. "
    "It will close next week, the owner said in the 1990s style."
)


def test_date_mentions_slice_the_original_text() -> None:
    doc = Document.from_text(TEXT, published="2018-01-26")
    mentions = date_mentions(doc)
    assert mentions, "expected dates"
    for m in mentions:
        assert TEXT[m.span.start : m.span.end] == m.span.text
    values = {m.span.text: m.value for m in mentions}
    assert values["Thursday"] == "2018-01-25"
    assert values["last October"] == "2017-10"
    assert values["next week"] == "2018-W05"


def test_relative_dates_stay_unresolved_without_a_publication_date() -> None:
    doc = Document.from_text("The café said on Thursday that it had opened in March 2017.")
    values = {m.span.text: m.value for m in date_mentions(doc)}
    assert values.get("Thursday", "missing") is None
    assert values["March 2017"] == "2017-03"


@pytest.mark.parametrize(
    "published",
    ["2018-01-26", "2018-01-26T20:49:00Z", "January 26, 2018", dt.date(2018, 1, 26), dt.datetime(2018, 1, 26, 20, 49)],
)
def test_published_forms(published: object) -> None:
    assert Document.from_text("Some text.", published=published).published == dt.date(2018, 1, 26)


@pytest.mark.parametrize("bad", ["2018-02-30", "yesterday", "January 2018", 20180126])
def test_bad_published_is_a_usage_error(bad: object) -> None:
    with pytest.raises(UsageError, match="is not a date"):
        Document.from_text("Some text.", published=bad)


def test_normalize_date_against_publication() -> None:
    friday = parse_published("2018-01-26")
    assert normalize_date("late on Thursday", friday) == "2018-01-25"
    assert normalize_date("two years ago", friday) == "2016"
    assert normalize_date("the 1970s") == "197X"
    assert normalize_date("yesterday") is None


def test_facts_carry_the_date_of_their_evidence() -> None:
    text = "The council met on Thursday. It approved the budget on Monday, officials said."
    script = TaskScript()
    script.on("entities", {"people": [], "organizations": [], "places": [], "other": []})
    script.on(
        "facts",
        {
            "headline": "h",
            "tldr": "t",
            "facts": [
                {"s": [1], "kind": "event", "statement": "The council met on Thursday."},
                {"s": [2], "kind": "event", "statement": "The council approved the budget on Monday."},
            ],
        },
    )
    result = Extractor(backend=FakeModel(handler=script.model_reply), cache=False).extract(text, published="2024-03-08")
    assert [(f.date, f.date_span.text if f.date_span else None) for f in result.facts] == [
        ("2024-03-07", "Thursday"),
        ("2024-03-04", "Monday"),
    ]
    assert result.published == "2024-03-08"
    for fact in result.facts:
        assert fact.date_span is not None and text[fact.date_span.start : fact.date_span.end] == fact.date_span.text
