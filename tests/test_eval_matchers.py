"""The eval matchers and the one-to-one assignment, on hand-built gold items and predictions."""

from __future__ import annotations

import itertools
import random

import pytest

from factkit import DateMention, Entity, Evidence, Fact, Quantity, Quote, Span
from factkit.eval import assign, match_dates, match_entities, match_facts, match_quantities, match_quotes, prf
from factkit.eval._fixtures import GoldDate, GoldEntity, GoldFact, GoldQuantity, GoldQuote, GoldSpan
from factkit.eval._text import norm_name, speaker_matches, split_sentences, token_f1

ARTICLE = (
    "The U.S. Department of Justice said on Thursday that 92 Cambodians would stay. "
    "Judge Cormac Carney ruled so. \u201cIt is disingenuous,\u201d Carney wrote. "
    "The United States had arrested about 100 Cambodians last October."
)


def span(text: str, occurrence: int = 0) -> Span:
    start = -1
    for _ in range(occurrence + 1):
        start = ARTICLE.index(text, start + 1)
    return Span(start=start, end=start + len(text), text=text)


def gspan(text: str, occurrence: int = 0) -> GoldSpan:
    s = span(text, occurrence)
    return GoldSpan(start=s.start, end=s.end, text=s.text)


def entity(name: str, type_: str, *mentions: str) -> Entity:
    return Entity(name=name, type=type_, mentions=[span(m) for m in (mentions or (name,))])


def gold_entity(name: str, type_: str, aliases: list[str], *mentions: str) -> GoldEntity:
    return GoldEntity(name=name, type=type_, aliases=aliases, mentions=[gspan(m) for m in mentions])


# ------------------------------------------------------------------------------------------ assignment


def test_assign_prefers_more_pairs_over_higher_scores() -> None:
    # Greedy would pair gold 0 with pred 0 (0.9) and leave gold 1 unmatched.
    pairs = assign([[0.9, 0.1], [0.8, None]])
    assert [(g, p) for g, p, _ in pairs] == [(0, 1), (1, 0)]


def test_assign_handles_empty_and_rectangular_inputs() -> None:
    assert assign([]) == []
    assert assign([[], []]) == []
    assert assign([[None, None]]) == []
    assert [(g, p) for g, p, _ in assign([[0.2], [0.9], [0.5]])] == [(1, 0)]


def test_assign_is_optimal_against_brute_force() -> None:
    rng = random.Random(7)
    for _ in range(200):
        n, m = rng.randint(1, 4), rng.randint(1, 4)
        scores = [[round(rng.random(), 2) if rng.random() < 0.6 else None for _ in range(m)] for _ in range(n)]
        best = (0, 0.0)
        for k in range(min(n, m) + 1):
            for rows in itertools.combinations(range(n), k):
                for cols in itertools.permutations(range(m), k):
                    cells = [scores[r][c] for r, c in zip(rows, cols, strict=True)]
                    if all(c is not None for c in cells):
                        best = max(best, (k, round(sum(c for c in cells if c is not None), 6)))
        pairs = assign(scores)
        assert len({g for g, _, _ in pairs}) == len({p for _, p, _ in pairs}) == len(pairs)
        assert (len(pairs), round(sum(s for _, _, s in pairs), 6)) == best


def test_prf_edge_cases() -> None:
    assert prf(0, 0, 0).f1 == 0.0
    s = prf(2, 1, 1)
    assert (round(s.precision, 3), round(s.recall, 3), round(s.f1, 3)) == (0.667, 0.667, 0.667)
    assert prf(0, 3, 0).precision == 0.0


# -------------------------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("U.S.", "US"),
        ("The United States", "united states"),
        ("Café  Zürich", "cafe zurich"),
        ("Washington, D.C.", "washington dc"),
        ("O\u2019Brien", "OBrien"),
    ],
)
def test_norm_name_equalities(a: str, b: str) -> None:
    assert norm_name(a) == norm_name(b)


def test_norm_name_keeps_inner_the_and_distinguishes_names() -> None:
    assert norm_name("Bank of the West") == "bank of the west"
    assert norm_name("Theodore") == "theodore"
    assert norm_name("U.S.") != norm_name("U.K.")


def test_speaker_matching_accepts_surnames() -> None:
    assert speaker_matches("Carney", "Cormac Carney")
    assert speaker_matches("Judge Cormac Carney", "Cormac Carney")
    assert not speaker_matches("Lee Gelernt", "Cormac Carney")
    assert not speaker_matches(None, "Cormac Carney")


def test_token_f1_and_sentence_split() -> None:
    assert token_f1("The judge ruled on Thursday.", "On Thursday the judge ruled") == 1.0
    assert token_f1("", "x") == 0.0
    assert split_sentences("One thing. Two things! Three?") == ["One thing.", "Two things!", "Three?"]
    assert split_sentences("The U.S. court ruled.") == ["The U.S. court ruled."]


# ------------------------------------------------------------------------------------------ entities


def test_entity_alias_us_equals_united_states() -> None:
    gold = [gold_entity("United States", "location", ["U.S."], "United States")]
    result = match_entities(gold, [entity("U.S.", "location")])
    assert (result.tp, result.fp, result.fn) == (1, 0, 0)


def test_entity_matches_through_a_predicted_mention_text() -> None:
    gold = [gold_entity("Cormac Carney", "person", [], "Judge Cormac Carney")]
    pred = [Entity(name="Judge Carney", type="person", mentions=[span("Judge Cormac Carney")])]
    result = match_entities(gold, pred)
    assert result.tp == 1
    assert result.matched[0].score == 0.5  # through a mention, not the name


def test_entity_no_double_credit() -> None:
    gold = [gold_entity("Cormac Carney", "person", ["Carney"], "Judge Cormac Carney", "Carney")]
    pred = [entity("Cormac Carney", "person", "Cormac Carney"), entity("Carney", "person", "Carney")]
    result = match_entities(gold, pred)
    assert (result.tp, result.fp, result.fn) == (1, 1, 0)
    assert result.matched[0].pred.label == "Cormac Carney"  # the exact-name prediction is preferred
    assert [i.label for i in result.spurious] == ["Carney"]


def test_entity_typed_vs_untyped() -> None:
    gold = [gold_entity("U.S. Department of Justice", "organization", [], "U.S. Department of Justice")]
    pred = [entity("U.S. Department of Justice", "location")]
    assert match_entities(gold, pred).tp == 1
    typed = match_entities(gold, pred, typed=True)
    assert (typed.tp, typed.fp, typed.fn) == (0, 1, 1)


def test_entity_leading_the_and_punctuation() -> None:
    gold = [gold_entity("United States", "location", [], "The United States")]
    assert match_entities(gold, [entity("the United States", "location", "United States")]).tp == 1


def test_entity_one_to_one_finds_the_full_matching() -> None:
    # Prediction "Carney" could take either gold; the assignment must leave "Cormac Carney" for the other.
    gold = [
        gold_entity("Cormac Carney", "person", ["Carney"], "Judge Cormac Carney"),
        gold_entity("Carney", "person", [], "Carney"),
    ]
    pred = [entity("Carney", "person", "Carney"), entity("Cormac Carney", "person", "Cormac Carney")]
    assert match_entities(gold, pred).tp == 2


# --------------------------------------------------------------------------------------------- dates


def test_dates_overlap_and_normalisation() -> None:
    gold = [
        GoldDate(**gspan("Thursday").model_dump(), value="2018-01-25"),
        GoldDate(**gspan("last October").model_dump(), value="2017-10"),
        GoldDate(**gspan("October").model_dump(), value=None),
    ]
    pred = [
        DateMention(span=span("on Thursday"), value="2018-01-25"),
        DateMention(span=span("last October"), value="2018-10"),
    ]
    result = match_dates(gold[:2], pred)
    assert (result.tp, result.fp, result.fn) == (2, 0, 0)
    assert result.normalised is not None
    assert (result.normalised.correct, result.normalised.total) == (1, 2)
    # A gold date without a value is not counted in the normalisation accuracy.
    only_valueless = match_dates(gold[2:], pred[1:])
    assert only_valueless.tp == 1
    assert only_valueless.normalised is not None and only_valueless.normalised.total == 0


def test_dates_one_prediction_cannot_cover_two_golds() -> None:
    gold = [
        GoldDate(**gspan("about 100").model_dump(), value="x"),
        GoldDate(**gspan("100 Cambodians").model_dump(), value="y"),
    ]
    pred = [DateMention(span=span("about 100 Cambodians"), value="y")]
    result = match_dates(gold, pred)
    assert (result.tp, result.fp, result.fn) == (1, 0, 1)


def test_dates_value_compare_ignores_case() -> None:
    gold = [GoldDate(**gspan("last October").model_dump(), value="197X")]
    result = match_dates(gold, [DateMention(span=span("last October"), value="197x")])
    assert result.normalised is not None and result.normalised.correct == 1


# -------------------------------------------------------------------------------------------- quotes


def test_quotes_span_overlap_and_attribution() -> None:
    gold = [GoldQuote(**gspan("It is disingenuous").model_dump(), speaker="Cormac Carney")]
    good = match_quotes(gold, [Quote(text="It is disingenuous,", span=span("It is disingenuous,"), speaker="Carney")])
    assert good.tp == 1 and good.attribution is not None
    assert (good.attribution.correct, good.attribution.total) == (1, 1)
    wrong = match_quotes(gold, [Quote(text="It is", span=span("It is"), speaker="Lee Gelernt")])
    assert wrong.tp == 1 and wrong.attribution is not None and wrong.attribution.correct == 0
    missing = match_quotes(gold, [Quote(text="92 Cambodians", span=span("92 Cambodians"), speaker="Carney")])
    assert (missing.tp, missing.fp, missing.fn) == (0, 1, 1)
    assert missing.attribution is not None and missing.attribution.total == 0
    # over all gold quotes, a missed quote is a missed speaker
    assert missing.speakers is not None and (missing.speakers.correct, missing.speakers.total) == (0, 1)
    assert good.speakers is not None and (good.speakers.correct, good.speakers.total) == (1, 1)


def test_quotes_without_gold_speaker_are_not_judged() -> None:
    gold = [GoldQuote(**gspan("It is disingenuous").model_dump(), speaker=None)]
    result = match_quotes(gold, [Quote(text="It is disingenuous", span=span("It is disingenuous"), speaker=None)])
    assert result.tp == 1 and result.attribution is not None and result.attribution.total == 0


# --------------------------------------------------------------------------------------------- facts


def fact(statement: str, evidence: str) -> Fact:
    s = span(evidence)
    return Fact(statement=statement, kind="event", evidence=Evidence(start=s.start, end=s.end, text=s.text))


def test_facts_match_by_statement_similarity() -> None:
    gold = [GoldFact(statement="Judge Cormac Carney ruled that 92 Cambodians would stay.")]
    pred = [fact("92 Cambodians will stay, Judge Cormac Carney ruled.", "Judge Cormac Carney ruled so.")]
    assert match_facts(gold, pred).tp == 1
    unrelated = [fact("The United States arrested Cambodians last October.", "about 100 Cambodians")]
    assert match_facts(gold, unrelated).tp == 0


def test_facts_evidence_overlap_lowers_the_bar_to_the_floor() -> None:
    gold = [
        GoldFact(statement="The Justice Department said 92 Cambodians would stay.", evidence=gspan("92 Cambodians"))
    ]
    weak = "Justice Department officials spoke on Thursday about detainees."
    assert 0.25 <= token_f1(gold[0].statement, weak) < 0.5
    near = [fact(weak, "The U.S. Department of Justice said on Thursday that 92 Cambodians would stay.")]
    far = [fact(weak, "Judge Cormac Carney ruled so.")]
    assert match_facts(gold, near).tp == 1
    assert match_facts(gold, far).tp == 0


def test_facts_custom_similarity() -> None:
    gold = [GoldFact(statement="a"), GoldFact(statement="b")]
    pred = [fact("x", "Judge Cormac Carney ruled so."), fact("y", "Judge Cormac Carney ruled so.")]
    result = match_facts(gold, pred, similarity=lambda g, p: [[1.0, 0.0], [0.0, 0.9]])
    assert result.tp == 2 and [m.pred.label for m in result.matched] == ["x", "y"]


# ---------------------------------------------------------------------------------------- quantities


def gold_quantity(text: str, value: float, unit: str, occurrence: int = 0) -> GoldQuantity:
    return GoldQuantity(**gspan(text, occurrence).model_dump(), value=value, unit=unit)


def test_quantities_tolerance_and_units() -> None:
    gold = [gold_quantity("about 100 Cambodians", 100, "Cambodian citizens")]
    assert match_quantities(gold, [Quantity(value=100.5, unit="Cambodians")]).tp == 1  # within 1 %
    assert match_quantities(gold, [Quantity(value=102, unit="Cambodians")]).tp == 0  # 2 % off
    assert match_quantities(gold, [Quantity(value=100, unit="judges")]).tp == 0  # wrong unit
    no_unit = [gold_quantity("about 100 Cambodians", 100, "")]
    assert match_quantities(no_unit, [Quantity(value=100, unit="anything")]).tp == 1


def test_quantities_prefer_the_same_place() -> None:
    gold = [gold_quantity("92 Cambodians", 92, "Cambodians"), gold_quantity("100 Cambodians", 100, "Cambodians")]
    pred = [
        Quantity(value=100, unit="Cambodians", span=span("100 Cambodians")),
        Quantity(value=92, unit="Cambodians", span=span("92 Cambodians")),
        Quantity(value=92, unit="Cambodians"),
    ]
    result = match_quantities(gold, pred)
    assert (result.tp, result.fp, result.fn) == (2, 1, 0)
    assert all(m.pred.spans for m in result.matched)
