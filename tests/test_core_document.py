"""Input checks, sentence splitting with exact offsets, chunking and the publication date."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from pathlib import Path

import pytest

from factkit import InputError, UsageError
from factkit._document import (
    Document,
    check_text,
    chunk_sentences,
    decode_bytes,
    guess_published,
    split_sentences,
)

# ---- bad input -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\n\t \r\n", "\u3000\u00a0"])
def test_empty_or_whitespace_is_an_input_error(text: str) -> None:
    with pytest.raises(InputError, match="empty or only whitespace"):
        check_text(text)


def test_input_error_names_its_source() -> None:
    with pytest.raises(InputError) as err:
        check_text("  ", source="story.txt")
    assert str(err.value).startswith("story.txt: ")
    assert err.value.source == "story.txt"


def test_nul_bytes_mean_binary() -> None:
    with pytest.raises(InputError, match="binary"):
        check_text("PK\x03\x04\x00\x00 zip file")
    with pytest.raises(InputError, match="binary"):
        decode_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")


def test_mostly_control_characters_mean_binary() -> None:
    with pytest.raises(InputError, match="control characters"):
        check_text("\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f\x10\x11" * 3)
    # a few stray ones in real text are fine
    assert check_text("A form feed\x0c and a bell\x07 in a long enough article.").startswith("A form")


def test_bytes_must_be_utf8() -> None:
    with pytest.raises(InputError) as err:
        check_text("café".encode("latin-1"), source="old.txt")
    message = str(err.value)
    assert message.startswith("old.txt: not valid UTF-8")
    assert "0xe9" in message and "offset 3" in message and "iconv" in message


def test_utf16_gets_its_own_hint() -> None:
    with pytest.raises(InputError, match="UTF-16 text, not UTF-8"):
        check_text("Hello there.".encode("utf-16"))


def test_utf8_bytes_are_decoded_and_a_bom_dropped() -> None:
    assert check_text("café ☕".encode()) == "café ☕"
    assert check_text(b"\xef\xbb\xbfHello there.") == "Hello there."
    assert check_text(bytearray(b"plain")) == "plain"


@pytest.mark.parametrize("value", [None, 42, ["a list"], {"text": "x"}])
def test_non_text_is_a_usage_error(value: object) -> None:
    with pytest.raises(UsageError, match="must be str"):
        check_text(value)


def test_a_path_object_gets_a_hint(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="read_text"):
        check_text(tmp_path / "story.txt")


def test_bad_published_date_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="published='someday' is not a date"):
        Document.from_text("Some text here.", published="someday")


# ---- sentences -----------------------------------------------------------------------------------------


def _check_offsets(text: str) -> list[str]:
    sentences = split_sentences(text)
    for i, s in enumerate(sentences, 1):
        assert s.index == i
        assert text[s.start : s.end] == s.text
        assert s.text == s.text.strip() and s.text
    for a, b in itertools.pairwise(sentences):
        assert a.end <= b.start
    return [s.text for s in sentences]


def test_split_keeps_exact_offsets_and_skips_abbreviations() -> None:
    text = (
        "Dr. Smith met Mr. Lee at 3 p.m. on Friday. The U.S. Army said no.  "
        "J. R. R. Tolkien wrote it, e.g. this one! Did he? Yes.\n\nA new paragraph"
    )
    assert _check_offsets(text) == [
        "Dr. Smith met Mr. Lee at 3 p.m. on Friday.",
        "The U.S. Army said no.",
        "J. R. R. Tolkien wrote it, e.g. this one!",
        "Did he?",
        "Yes.",
        "A new paragraph",
    ]


def test_quotes_after_the_period_stay_with_the_sentence() -> None:
    text = "He said, “We will win.” Then he left. ‘Fine.’ She agreed."
    assert _check_offsets(text) == ["He said, “We will win.”", "Then he left.", "‘Fine.’", "She agreed."]


def test_non_ascii_text_keeps_offsets() -> None:
    text = "Le café a ouvert à Zürich. 🎉 Les clients sont ravis! Naïve coöperation."
    assert _check_offsets(text) == ["Le café a ouvert à Zürich.", "🎉 Les clients sont ravis!", "Naïve coöperation."]


def test_cjk_sentence_ends_split_without_spaces() -> None:
    text = "東京で会議が開かれた。参加者は１００人だった！「成功だ」と彼は言った。"
    assert _check_offsets(text) == ["東京で会議が開かれた。", "参加者は１００人だった！", "「成功だ」と彼は言った。"]


def test_random_text_always_has_exact_offsets() -> None:
    rng = random.Random(7)
    pieces = ["word", "Mr.", "U.S.", " ", "  ", "\n", ". ", "! ", "? ", "é", "東京。", "🎉", "“", "”", "a.", "B"]
    for _ in range(300):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 30)))
        _check_offsets(text)


def test_document_numbered_view_and_lookups() -> None:
    doc = Document.from_text("First one. Second one.\nThird one", published="2020-05-01")
    assert doc.numbered() == "[1] First one.\n[2] Second one.\n[3] Third one"
    assert doc.sentence(2) is not None and doc.sentence(2).text == "Second one."  # type: ignore[union-attr]
    assert doc.sentence(0) is None and doc.sentence(4) is None
    assert doc.sentence_at(0).index == 1  # type: ignore[union-attr]
    assert doc.sentence_at(doc.text.index("Third")).index == 3  # type: ignore[union-attr]
    assert doc.sentence_at(10) is None  # the space between sentences
    assert doc.published == dt.date(2020, 5, 1)


# ---- chunks --------------------------------------------------------------------------------------------


def test_chunks_cover_everything_in_order_with_overlap() -> None:
    sentences = split_sentences(" ".join(f"Sentence number {i} is here." for i in range(1, 41)))
    chunks = chunk_sentences(sentences, max_chars=200, overlap=1)
    assert len(chunks) > 3
    seen = [s.index for chunk in chunks for s in chunk]
    assert sorted(set(seen)) == list(range(1, 41))
    for a, b in itertools.pairwise(chunks):
        assert b[0].index == a[-1].index  # one sentence of overlap
    for chunk in chunks:
        assert sum(len(s.text) + 1 for s in chunk) <= 200 + 1


def test_chunks_without_overlap_partition_the_sentences() -> None:
    sentences = split_sentences(" ".join(f"Sentence {i}." for i in range(1, 30)))
    chunks = chunk_sentences(sentences, max_chars=50, overlap=0)
    assert [s.index for chunk in chunks for s in chunk] == list(range(1, 30))


def test_a_sentence_longer_than_a_chunk_is_a_chunk_of_its_own() -> None:
    sentences = split_sentences("Short. " + "Long " * 100 + "sentence. Short again.")
    chunks = chunk_sentences(sentences, max_chars=50, overlap=1)
    assert [len(c) for c in chunks] == [1, 1, 1]
    assert chunk_sentences([], 100) == []


# ---- publication date ----------------------------------------------------------------------------------


def test_published_is_guessed_from_the_dateline_only() -> None:
    text = "January 26, 2018 / 8:49 PM\nJudge blocks deportation.\nMore text."
    assert guess_published(text) == dt.date(2018, 1, 26)
    assert Document.from_text(text).published == dt.date(2018, 1, 26)
    late = "Line one.\nLine two.\nLine three.\nOn January 26, 2018 something happened."
    assert guess_published(late) is None


def test_explicit_published_wins_and_accepts_dates() -> None:
    text = "January 26, 2018 / 8:49 PM\nJudge blocks deportation."
    assert Document.from_text(text, published="2019-03-04").published == dt.date(2019, 3, 4)
    assert Document.from_text(text, published=dt.date(2020, 1, 2)).published == dt.date(2020, 1, 2)
    assert Document.from_text(text, published=dt.datetime(2021, 6, 7, 8, 9)).published == dt.date(2021, 6, 7)


def test_seed_article_sentences(seed_text: str) -> None:
    doc = Document.from_text(seed_text)
    assert doc.published == dt.date(2018, 1, 26)
    assert len(doc.sentences) == 14
    assert doc.sentences[2].text.startswith("U.S. immigration authorities conducted raids")
    for s in doc.sentences:
        assert seed_text[s.start : s.end] == s.text


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        ("Friday, September 26, 2014\nA title", dt.date(2014, 9, 26)),
        ("By J. Smith | 26 January 2018, 10:00", dt.date(2018, 1, 26)),
        ("2018-01-26T08:49Z Reuters", dt.date(2018, 1, 26)),
        ("Posted 1/26/2018 by staff", dt.date(2018, 1, 26)),
        ("The 2018 budget, explained\nJanuary 26, 2018\nThe body.", dt.date(2018, 1, 26)),  # a year alone is no date
        ("Title: 1999 things\nMarch 3rd, 2001", dt.date(2001, 3, 3)),
        ("A very long headline " + "word " * 10 + "on Wednesday, 12 December 2012 and more", dt.date(2012, 12, 12)),
        ("Copyright 2018 on 07/16/2018", dt.date(2018, 7, 16)),  # the first year's words don't cut the date
        ("Page 1999 on 12/31/1998", dt.date(1998, 12, 31)),
        ("Nothing dated here\nat all", None),
    ],
)
def test_the_dateline_is_found_in_its_usual_forms(head: str, expected: dt.date | None) -> None:
    assert guess_published(head + "\nThe article goes on. " * 3) == expected
