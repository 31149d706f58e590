"""Grounding: quotes located exactly, normalised or fuzzily, always with offsets into the original text."""

from __future__ import annotations

import random

import pytest

from factkit._document import Document, split_sentences
from factkit._grounding import (
    FUZZY_THRESHOLD,
    best_sentence,
    content_words,
    find_numbers,
    find_value,
    locate,
    normalize,
    normalize_with_map,
    overlap,
    unsupported_numbers,
)
from factkit._models import Evidence
from factkit.rules.quotes import quotation_spans


def doc_of(text: str) -> Document:
    return Document.from_text(text, published="2020-01-01")


def found(text: str, quote: str, **kwargs: object) -> Evidence:
    evidence = locate(doc_of(text), quote, **kwargs)  # type: ignore[arg-type]
    assert evidence is not None, f"{quote!r} not found"
    assert text[evidence.start : evidence.end] == evidence.text  # offsets always point into the original
    return evidence


# ---- the three passes ----------------------------------------------------------------------------------


def test_exact_match() -> None:
    text = "The council met on Monday. It approved the budget."
    e = found(text, "approved the budget")
    assert (e.start, e.end, e.match, e.score) == (text.index("approved"), text.index("approved") + 19, "exact", 1.0)


@pytest.mark.parametrize(
    ("text", "quote", "expected"),
    [
        # whitespace: runs, newlines, tabs, no-break spaces
        ("The  council\nmet\ton Monday.", "the council met on Monday", "The  council\nmet\ton Monday"),
        ("A\u00a0quiet start.", "A quiet start", "A\u00a0quiet start"),
        # curly vs straight quotes, both ways
        ("He said “no comment” to us.", 'He said "no comment" to us', "He said “no comment” to us"),
        ("It’s the mayor’s car.", "It's the mayor's car", "It’s the mayor’s car"),
        ("It's done.", "It’s done", "It's done"),
        # case
        ("The Federal Reserve raised rates.", "the federal reserve RAISED rates", "The Federal Reserve raised rates"),
        # "U. S." vs "U.S."
        ("The U.S. judge ruled.", "The U. S. judge ruled", "The U.S. judge ruled"),
        ("The U. S. judge ruled.", "The U.S. judge ruled", "The U. S. judge ruled"),
        # dashes and ellipses
        ("Prices rose — sharply — in May.", "Prices rose - sharply - in May", "Prices rose — sharply — in May"),
        ("Wait… what?", "Wait... what", "Wait… what"),
        # accents
        ("Le café était très bon.", "le cafe etait tres bon", "Le café était très bon"),
    ],
)
def test_normalised_match_maps_back_to_the_original(text: str, quote: str, expected: str) -> None:
    e = found(text, quote)
    assert e.text == expected
    assert e.match == "normalized"


def test_fuzzy_match_above_the_threshold() -> None:
    text = "Intro. The quick brown fox jumps over the lazy dog near the river bank. Outro."
    e = found(text, "The quick brown fox jumped over the lazy dog near the river")
    assert e.match == "fuzzy"
    assert FUZZY_THRESHOLD <= e.score < 1.0
    assert e.text.startswith("The quick brown fox jumps") and "river" in e.text


def test_fuzzy_spans_two_sentences() -> None:
    text = "Intro here. The mayor resigned on Monday. She cited health reasons. Outro text."
    e = found(text, "The mayor resigned Monday. She cited her health reasons")
    assert e.match == "fuzzy"
    assert e.text.startswith("The mayor resigned") and e.text.endswith("health reasons")


@pytest.mark.parametrize(
    "quote",
    [
        "The mayor was arrested for fraud on Tuesday night",
        "completely unrelated words that are nowhere",
        "river",  # too short to match fuzzily, and not there exactly
        "",
        "   ",
        "“”",
    ],
)
def test_absent_quotes_are_not_found(quote: str) -> None:
    text = "Intro. The quick brown fox jumps over the lazy dog near the river bank. Outro."
    if quote == "river":
        text = text.replace("river", "lake")
    assert locate(doc_of(text), quote) is None


@pytest.mark.parametrize(
    ("quote", "found_text"),
    [
        ("Officials arrested approximately 200 Cambodians in raids", None),  # another number
        ("Officials arrested approximately Cambodians in raids", None),  # a number dropped
        ("The council did approve the budget on Monday", None),  # negation dropped
        ("The council never approved the budget on Monday", "The council did not approve the budget on Monday"),
        ("The council didn't approve the budget on Monday", "The council did not approve the budget on Monday"),
        (
            "Officials arrested approx. 100 Cambodians in raids",
            "Officials arrested approximately 100 Cambodians in raids",
        ),
    ],
)
def test_a_fuzzy_match_never_changes_numbers_or_negation(quote: str, found_text: str | None) -> None:
    text = (
        "Intro. Officials arrested approximately 100 Cambodians in raids last October. "
        "The council did not approve the budget on Monday. Outro."
    )
    evidence = locate(doc_of(text), quote)
    if found_text is None:
        assert evidence is None
    else:
        assert evidence is not None and evidence.text == found_text and evidence.match == "fuzzy"


def test_short_quotes_never_match_fuzzily() -> None:
    assert locate(doc_of("The cat sat on the mat."), "The cat sat") is not None
    assert locate(doc_of("The cat sat on the mat."), "The bat sat") is None


def test_surrounding_quotation_marks_are_ignored_but_inner_ones_kept() -> None:
    text = "He said “hello there” and left."
    assert found(text, "“hello there”").text == "hello there"
    assert found(text, '"hello there"').text == "hello there"
    assert found(text, 'said "hello there"').text == "said “hello there”"


# ---- non-ASCII offsets ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "quote", "expected"),
    [
        ("東京で会議が開かれた。参加者は100人だった。", "参加者は100人", "参加者は100人"),
        ("参加者は１００人だった。", "参加者は100人", "参加者は１００人"),  # full-width digits
        ("We love 🎉 parties 🎉 so much. Yes.", "PARTIES 🎉 SO MUCH", "parties 🎉 so much"),
        ("Thumbs 👍🏽 up from the crowd.", "Thumbs 👍🏽 up", "Thumbs 👍🏽 up"),
        ("The ﬁrst ﬂoor opened.", "first floor", "ﬁrst ﬂoor"),
        ("Die Straße ist lang.", "die strasse ist lang", "Die Straße ist lang"),
        # decomposed accents: the combining mark stays with its letter
        ("Le cafe\u0301 e\u0301tait bon.", "café était", "cafe\u0301 e\u0301tait"),
        ("Zoë Kravitz and Beyoncé attended.", "zoe kravitz and beyonce", "Zoë Kravitz and Beyoncé"),
    ],
)
def test_offsets_on_non_ascii_text(text: str, quote: str, expected: str) -> None:
    assert found(text, quote).text == expected


def test_offsets_after_astral_characters() -> None:
    text = "🎉🎉🎉 " * 20 + "The real sentence is here."
    e = found(text, "the REAL sentence")
    assert e.start == text.index("The real") and e.text == "The real sentence"


def test_random_variants_map_back_exactly() -> None:
    """Property: whatever is found, the offsets slice the original, and it normalises like the quote."""
    palette = [*"abc ABC..  \n\t“”‘’\"'-—…", "é", "e\u0301", "ﬁ", "ß", "東京", "🎉", "👍🏽", "U. S.", "\u00a0", "１"]
    rng = random.Random(3)
    checked = 0
    for _ in range(1500):
        text = "".join(rng.choice(palette) for _ in range(rng.randint(5, 40)))
        if not text.strip():
            continue
        a = rng.randrange(len(text))
        quote = text[a : rng.randint(a + 1, len(text))]
        if rng.random() < 0.5:
            quote = quote.upper()
        if rng.random() < 0.5:
            quote = quote.replace("“", '"').replace("”", '"').replace("’", "'")
        doc = Document(text=text, sentences=split_sentences(text))
        e = locate(doc, quote)
        if e is None:
            continue
        checked += 1
        assert text[e.start : e.end] == e.text
        if e.match in ("exact", "normalized"):
            assert normalize(e.text) in (normalize(quote.strip()), normalize(quote.strip().strip("\"'“”‘’")))
    assert checked > 500


def test_normalize_map_points_at_the_original_characters() -> None:
    text = "The  “U. S.” Café\u00a0—\tﬁne…"
    norm, pos = normalize_with_map(text)
    assert norm == 'the "u.s." cafe - fine...'
    assert len(pos) == len(norm)
    assert pos == sorted(pos)
    assert all(0 <= p < len(text) for p in pos)
    assert text[pos[norm.index("cafe")]] == "C"


# ---- duplicates ----------------------------------------------------------------------------------------


DUPLICATE = (
    "The mayor spoke about taxes. The plant closed. The union spoke about strikes. The plant closed. "
    "Workers were angry."
)


def test_the_occurrence_whose_context_fits_the_claim_wins() -> None:
    first, second = DUPLICATE.index("The plant closed"), DUPLICATE.rindex("The plant closed")
    assert found(DUPLICATE, "The plant closed", near="The plant closed, the union said after the strikes").start == (
        second
    )
    assert found(DUPLICATE, "The plant closed", near="After the mayor's tax speech the plant closed").start == first
    assert found(DUPLICATE, "The plant closed", near="The plant closed and workers were angry").start == second


def test_the_occurrence_in_the_sentence_that_fits_wins() -> None:
    text = "Sales fell in March, the bank said. Sales fell in March, the airline said in its report."
    e = found(text, "Sales fell in March", near="The airline reported that its sales fell in March")
    assert e.start == text.rindex("Sales fell")


def test_without_context_the_first_or_the_nearest_to_the_hint_wins() -> None:
    first, second = DUPLICATE.index("The plant closed"), DUPLICATE.rindex("The plant closed")
    assert found(DUPLICATE, "The plant closed").start == first
    assert found(DUPLICATE, "The plant closed", hint=second - 3).start == second


# ---- numbers -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("92 Cambodians and 1,000 others", [92, 1000]),
        ("approximately 100 people", [100]),
        ("$5.5 million and 2bn and 3 thousand", [5.5e6, 2e9, 3000]),
        ("three judges and twenty-one cases", [3, 20, 1]),
        ("a dozen eggs", [12]),
        ("version 2.0 of 12% growth", [2.0, 12]),
        ("the 1970s", [1970]),
        ("参加者は１００人", [100]),
    ],
)
def test_find_numbers(text: str, values: list[float]) -> None:
    assert [h.value for h in find_numbers(text)] == values
    for h in find_numbers(text):
        assert text[h.start : h.end].strip()


def test_approximate_numbers_are_flagged() -> None:
    hits = find_numbers("about 100 people, exactly 7 dogs and nearly 3 million cats")
    assert [(h.value, h.approximate) for h in hits] == [(100, True), (7, False), (3e6, True)]


def test_find_value_reads_scales_and_units() -> None:
    assert find_value("raised $5m last year", 5e6) is not None
    assert find_value("1.5 million people", 1.5e6) is not None
    assert find_value("1.5 million people", 1.5) is not None  # value as written, with unit "million people"
    hit = find_value("The wall is 5 m high", 5)  # metres, not millions
    assert hit is not None and hit.start == 12
    assert find_value("about 100 people", 250) is None


def test_unsupported_numbers() -> None:
    evidence = "Officials arrested approximately 100 Cambodians in October 2017."
    assert unsupported_numbers("Officials arrested 100 Cambodians.", evidence) == []
    assert unsupported_numbers("Officials arrested 250 Cambodians.", evidence) == ["250"]
    assert unsupported_numbers("In 2017 one raid took place.", evidence) == []  # years and words are loose
    assert unsupported_numbers("It cost $3.5 million.", "It cost $3,500,000.") == []


# ---- words, sentences, quotations ----------------------------------------------------------------------


def test_overlap_counts_content_words_only() -> None:
    assert content_words("The judges ruled on the cases") == {"judg", "ruled", "case"}
    assert content_words("judge judged judging") == {"judg"}
    assert content_words("process processes") == {"process"}
    assert overlap("The judge ruled", "A judge has ruled today") == 1.0
    assert overlap("The judge ruled", "Nothing here") == 0.0
    assert overlap("the of and", "anything") == 0.0


def test_best_sentence() -> None:
    doc = doc_of("The weather was fine. The judge blocked the deportation. Lunch followed.")
    best = best_sentence(doc, "A judge blocked deportations")
    assert best is not None and best[0].index == 2 and best[1] == 1.0


def test_quotation_spans() -> None:
    text = 'He said “we will win this” and ‘no’. She said "not a chance at all". «Oui, bien sûr» too.'
    spans = quotation_spans(text, min_words=2)
    assert [s.text for s in spans] == ["we will win this", "not a chance at all", "Oui, bien sûr"]
    for s in spans:
        assert text[s.start : s.end] == s.text


def test_quotations_mixed_marks_nesting_and_paragraphs() -> None:
    from factkit.rules.quotes import quotations

    text = (
        '"We do not see a link," the mayor said, adding it would take "more hours\u201d before. '
        "He is 6'3\" tall.\n\u201cI\u2019d rather live in what he calls \u201chell\u201d than there.\u201d\n\n"
        "\u201cA quotation that goes on\n\n\u201cand on.\u201d"
    )
    found = quotations(text)
    assert [(s.text, c) for s, c in found] == [
        ("We do not see a link", False),
        ("more hours", False),
        ("I\u2019d rather live in what he calls \u201chell\u201d than there.", False),
        ("A quotation that goes on", False),
        ("and on.", True),
    ]
    assert all(text[s.start : s.end] == s.text for s, _ in found)


def test_a_line_that_closes_a_quotation_it_never_opened_continues_the_one_left_open() -> None:
    from factkit.rules.quotes import open_quotation, passages, quotations

    text = 'He said, "In the first half it felt good.\nWe could have scored three." Then he left.'
    assert [(s.text, c) for s, c in quotations(text)] == [
        ("In the first half it felt good.\nWe could have scored three.", False),
    ]
    assert passages(text) == [(10, text.index('three."') + len("three."))]
    # one quotation over two lines is whole; with the second line's own mark (news paragraphs) too
    assert not open_quotation('He said, "In the first half it felt good.\nWe could have scored three."')
    assert not open_quotation('He said: "We won.\n"We will win again."')
    assert open_quotation('He said: "We won.\n"We will win again.')
    assert open_quotation('We could have scored three."')
    # a mark after a number closes a quotation before punctuation, and is an inch mark before a word
    assert not open_quotation('"We lost the final 2-1", the coach said.')
    assert not open_quotation('A 65" screen costs more than a 55" one.')
    # a closing mark on a line after a closed quotation continues nothing; nor does an inch mark after an open one
    assert [c for _, c in quotations('"We won," he said.\nIt was a 65" screen.')] == [False]
    assert [s.text for s, _ in quotations('He said: "We won.\nThe shop sells a 65" television for $500.')] == [
        "We won."
    ]
    # a line that ends on its opening mark leaves nothing open: the next paragraph's quotation is a new one
    text = '"We will win," Smith said.\nThe crowd cheered.\nJones told them: "\n"The vote is lost," she said.'
    assert passages(text) == [(1, 12), (text.index("The vote"), text.index(" is lost") + len(" is lost"))]


def test_a_quotation_ends_before_the_comma_that_introduces_its_speaker() -> None:
    text = "“We will appeal the ruling,” Carney wrote. He added: “No comment.”"
    spans = quotation_spans(text, min_words=1)
    assert [s.text for s in spans] == ["We will appeal the ruling", "No comment."]
    assert all(text[s.start : s.end] == s.text for s in spans)


def test_a_dotted_acronym_is_found_before_the_next_word() -> None:
    from factkit._document import Document
    from factkit._entities import find_mentions

    doc = Document.from_text("A U.S. judge ruled. The United States appealed in the U. S. court.")
    texts = [m.text for m in find_mentions(doc, "U.S.")]
    assert texts == ["U.S.", "United States", "U. S."]


@pytest.mark.parametrize(
    ("name", "demonym"),
    [
        ("Iraqis", True),
        ("Cambodian", True),
        ("Germans", True),
        ("Italian", True),
        ("Chinese", True),
        ("Jordanian", True),
        ("Jordan", False),  # the place itself
        ("Malik", False),  # a name, though Mali is a country
        ("Texas", False),
        ("Morgan", False),
        ("Cormac Carney", False),
    ],
)
def test_nationalities_are_told_from_names(name: str, demonym: bool) -> None:
    from factkit._gazetteer import is_demonym

    assert is_demonym(name) is demonym


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        # an exact copy of the evidence's second clause: the source from there on, spaces tidied, a capital first
        ("the judge ruled that 92 Cambodians may stay", "The judge ruled that 92 Cambodians may stay  for now."),
        # a copy with a slip (a comma left out) is aligned, then replaced by the source
        (
            "On Friday the judge ruled that 92 Cambodians may stay",
            "On Friday, the judge ruled that 92 Cambodians may stay for now.",
        ),
        # not a copy: kept as written
        (
            "Ninety-two people from Cambodia won a reprieve in court",
            "Ninety-two people from Cambodia won a reprieve in court",
        ),
    ],
)
def test_a_statement_copied_from_its_evidence_becomes_the_source_text(statement: str, expected: str) -> None:
    from factkit._records import snap_to_source

    evidence = "On Friday, the judge ruled that 92 Cambodians may stay  for now."
    assert snap_to_source(statement, evidence) == " ".join(expected.split())


def test_places_named_in_the_text_are_found_by_exact_spelling_once_per_document() -> None:
    from factkit._entities import article_places

    doc = Document.from_text(
        "Officials of Cambodia met envoys from South Sudan; cambodia in lowercase is not a spelling."
    )
    found = article_places(doc)
    assert "Cambodia" in found and "South Sudan" in found and "Sudan" in found  # grounding then keeps whole words
    assert "France" not in found
    assert article_places(doc) is found  # kept on the document: grounding each answer reads it again


def test_an_acronym_keeps_its_last_period_so_its_alias_is_found() -> None:
    from factkit._entities import clean_name

    assert clean_name("U.S.") == "U.S." and clean_name("the U.N.,") == "U.N."
    assert clean_name("Acme Corp.") == "Acme Corp"  # a plain abbreviation still loses it, as before
