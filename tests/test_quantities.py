"""Quantities a program can use: normalised units, signs and scales, bounds, changes and ranges, and what is not
a quantity (names, ordinals, scores, clock times), each kind in a table; ``only={"quantities"}`` runs rules alone."""

from __future__ import annotations

import json
from typing import Any

import pytest

import factkit
from factkit.cli import main
from factkit.eval._fixtures import GoldQuantity
from factkit.eval._matchers import match_quantities
from factkit.rules.quantities import SKIPS, QuantityHit, find_quantities, words_value
from factkit.testing import FakeModel


def only(text: str) -> QuantityHit:
    (q,) = find_quantities(text)
    return q


def case(text: str, **want: Any) -> Any:
    return pytest.param(text, want, id=text[:40])


@pytest.mark.parametrize(
    ("text", "want"),
    [
        # money: ISO 4217 codes, the sign or code before the number or the word after it
        case("The firm paid US$1,200 to each.", value=1200, unit="USD", surface="US$"),
        case("It cost RM120,000 in all.", value=120000, unit="MYR"),
        case("Fines of EUR50m were imposed.", value=50e6, unit="EUR"),
        case("The club spent £3.2bn on players.", value=3.2e9, unit="GBP"),
        case("The deal is worth $4.2b, analysts said.", value=4.2e9, unit="USD"),
        case("Debt reached $1tn last year.", value=1e12, unit="USD"),
        case("They raised 50 million euros for it.", value=50e6, unit="EUR", surface="euros"),
        case("A ticket costs 300 yuan there.", value=300, unit="CNY"),
        case("He owes A$10 to the bank.", value=10, unit="AUD"),
        # rates
        case("Sales grew 12pc in the quarter.", value=12, unit="percent"),
        case("Turnout was 40 per cent this time.", value=40, unit="percent", surface="per cent"),
        case("Support fell 3 percentage points.", value=3, unit="percentage point", change="down"),
        # signs
        case("Prices fell -1.3% in the year.", value=-1.3, unit="percent"),
        case("It dropped to minus 40 degrees overnight.", value=-40, unit="degree"),
        # measures, by pint's names
        case("A 37m-long ship ran aground.", value=37, unit="meter"),
        case("The car went 80 m.p.h. down the road.", value=80, unit="mile_per_hour"),
        case("The fire burned 40 hectares of forest.", value=40, unit="hectare"),
        case("The road is 12 km long.", value=12, unit="kilometer", surface="km"),
        case("It weighs 5kg at most.", value=5, unit="kilogram"),
        case("The storm covered 300 square miles.", value=300, unit="mile ** 2"),
        # counted things: the noun's lemma
        case("The judge freed 92 Cambodian citizens.", value=92, unit="citizen", surface="Cambodian citizens"),
        case("Police arrested 14 children and their parents.", value=14, unit="child"),
        # scale words and numbers in words
        case("About 8bn people live on Earth.", value=8e9, unit="people", bound="~"),
        case("The fund holds 4 hundred million reserves.", value=4e8),
        case("The crowd was twenty-eight thousand six hundred people strong.", value=28600, unit="people"),
        case("A dozen eggs broke.", value=12, unit="egg"),
        # fractions and vague amounts
        case("A third of voters stayed home.", value=1 / 3, unit="fraction"),
        case("Two-thirds of the members agreed.", value=2 / 3, unit="fraction"),
        case("Add 1/16 of a pint of milk.", value=1 / 16, unit="fraction"),
        case("They lost tens of millions of dollars.", value=1e7, unit="USD", bound=">"),
        case("Hundreds of protesters gathered.", value=100, unit="protester", bound=">"),
        # bounds
        case("Authorities arrested approximately 100 Cambodians.", value=100, bound="~"),
        case("More than 500 people attended.", value=500, bound=">"),
        case("At least 3 people died.", value=3, bound=">="),
        case("Up to 20 children were hurt.", value=20, bound="<="),
        case("Fewer than 10 votes separated them.", value=10, bound="<"),
        case("It will take 50 years or more to recover.", value=50, bound=">=", unit="year"),
        case("Ghana must beat Egypt by two goals or more to go through.", value=2, bound=">=", unit="goal"),
        case("Taxpayers are giving over Â£300m a year.", value=3e8, bound=">", unit="GBP"),  # the mis-read pound sign
        case("Something like a fifth of freight moved.", value=0.2, bound="~", unit="fraction"),
        case("We focused on three co-morbidities in the study.", value=3, unit="co-morbidity"),
        case("It's hundreds of thousands of man-hours every year.", value=1e5, bound=">", unit="man-hour"),
        # changes
        case("Profits rose 19 per cent in March.", value=19, unit="percent", change="up"),
        case("Exports fell by 4% last year.", value=4, change="down"),
        case("It reported a 5% drop in sales.", value=5, change="down"),
        case("Shares were up 7% on Monday.", value=7, change="up"),
        case("The rate is 5% this year.", value=5, change=None),
        # ranges
        case("Between 10 and 20 km of road were lost.", value=10, low=10, high=20, unit="kilometer"),
        case("The trip takes 5-7 days each way.", value=5, low=5, high=7, unit="day"),
        case("Estimates run from $5m to $7m for it.", value=5e6, low=5e6, high=7e6, unit="USD"),
        case("He scored one or two points for them.", value=1, low=1, high=2, unit="point"),
        # ages
        case("Thomas Sam, 42, and his wife were jailed.", value=42, unit="year"),
        case("She joined the group aged 14 in London.", value=14, unit="year"),
        case("He would have turned 41 this week.", value=41, unit="year"),
        case("A lower dose for those over the age of 65 is advised.", value=65, unit="year", bound=">"),
        case("Her parents moved her when she was six so they could be near.", value=6, unit="year"),
        case("He stayed there until he was eighteen and then left.", value=18, unit="year"),
        case("At 18 he chose to devote his life to the sea.", value=18, unit="year"),
        case("At 40, she ran her first marathon.", value=40, unit="year"),
        case("At 5 the market opened higher.", value=5, unit=""),  # no person after it: not an age
        case("The former Reds captain, 36, is to return to the club.", value=36, unit="year"),
        case("Police said it happened fast. Pulido, 25, was abducted at gunpoint.", value=25, unit="year"),
        case("Jocelyn McKay is now 81 and said she feels released.", value=81, unit="year"),
        case("It wasn't until I was 69 that I plucked up the courage.", value=69, unit="year"),
        case("Most of them are aged between 18 and 25.", value=18, unit="year", low=18, high=25),
        case("Diane Hickey's daughter Cassidy, 13, was sent home.", value=13, unit="year"),
        case("They played with a back four today.", value=4, unit=""),  # 'today' is no counted thing
        case("Clarkson, 30, joined the club for a second spell.", value=30, unit="year"),  # the text's first word
        case("Two others were arrested later.", value=2, unit=""),
        case("The number of victims stood at 59 last year.", value=59, unit=""),
        case("He has one international goal to his name.", value=1, unit="goal"),
        case("The UK will have two new operational aircraft carriers.", value=2, unit="carrier"),
        case("Pete Weatherby represents 22 of the victims' families.", value=22, unit="family"),
        case("The two sides' only previous meeting came in May.", value=2, unit="side"),
        case("Inquiries by Operation Resolve\n11,000 statements taken", value=11000, unit="statement"),  # a list line
        # a collective noun before another noun modifies it
        case("It emerged that one police officer had been suspended.", value=1, unit="officer"),
        case("The firm cut 20 staff members last year.", value=20, unit="member"),
        case("About 300 police were on duty.", value=300, unit="police", bound="~"),
        case("Some 200 people protest outside.", value=200, unit="people", bound="~"),
        case("Only 12 staff work there now.", value=12, unit="staff"),
        case("The score was 4 and it stayed there.", value=4, unit=""),  # no person before it
        # events counted, shares, halves
        case("They were twice denied visas.", value=2, unit="time"),
        case("At that time, one in three visits came from there.", value=1 / 3, unit="fraction"),
        case("After nearly half an hour, the team lost.", value=0.5, unit="hour", bound="~"),
        case("Half a million people marched.", value=5e5, unit="people"),
        case("About two-thirds took a phone to bed.", value=2 / 3, unit="fraction", bound="~"),
        case("Almost half of all children lack it.", value=0.5, unit="fraction", bound="~"),
        # vague amounts without "of", compounds, quakes, mis-decoded pound signs
        case("The show drew thousands to the hall.", value=1000, bound=">"),
        case("The six-member team arrived.", value=6, unit="member"),
        case("The six - member team arrived.", value=6, unit="member"),
        case("The magnitude-4.8 quake struck at dawn.", value=4.8, unit="magnitude"),
        case("It was worth 700,000 yuan (Â£72,000) then.", value=72000, unit="GBP", nth=1),
        case("The AAM made more than 200 CDs in all.", value=200, unit="CD", bound=">"),
        case("Updated 16 minutes ago by the desk.", value=16, unit="minute"),
        # a change verb earlier in the clause, "by" before the number; a conversion shares the bound
        case("It would increase world food needs by 50 percent.", value=50, change="up"),
        case("Crop yields fell sharply by 10%.", value=10, change="down"),
        case("Prices rose after a vote by 12 members.", value=12, change=None),
        case("They travelled about 500 miles (800 km) from home.", value=800, unit="kilometer", bound="~", nth=1),
        case("The crop losses exceeded 10% of the total.", value=10, bound=">"),
    ],
)
def test_each_kind_of_quantity(text: str, want: dict[str, Any]) -> None:
    nth = want.pop("nth", None)
    q = only(text) if nth is None else find_quantities(text)[nth]
    for name, value in want.items():
        got = getattr(q, name)
        if isinstance(value, float | int) and not isinstance(value, bool) and got is not None:
            assert got == pytest.approx(value), (name, q)
        else:
            assert got == value, (name, q)
    assert text[q.start : q.end].strip() == text[q.start : q.end] and q.end > q.start


@pytest.mark.parametrize(
    ("text", "units"),
    [
        # score words count only right beside the pair
        ("Suicide is the leading cause of death among people 15-24 years old.", [(15, "year")]),
        ("Leading economists expect 2-3 rate cuts.", [(2, "cut")]),
        ("He made it clear that 10-12 hospitals would shut.", [(10, "hospital")]),
        # no age: a rating, a poll figure, a clock's hour, a price with its speaker, a tally, a partitive
        ("Kamala Harris is 47, while Donald Trump is 45.", [(47, ""), (45, "")]),
        ("Magnus Carlsen is 2830, the best of all.", [(2830, "")]),
        ("At 5 he left the office.", [(5, "")]),
        ("At 30, he said, the shares were cheap.", [(30, "")]),
        ("Republicans, 52, and Democrats, 48, voted.", [(52, ""), (48, "")]),
        ("Tesco, 12, and Sainsbury, 9, were fined.", [(12, ""), (9, "")]),
        ("Of the 40 victims, 12, all of them children, died.", [(40, "victim"), (12, "")]),
        # one thing, then its verb
        ("One suspect remains at large.", [(1, "suspect")]),
    ],
)
def test_what_an_adversarial_review_found(text: str, units: list[tuple[float, str]]) -> None:
    assert [(q.value, q.unit) for q in find_quantities(text)] == units


def test_the_second_of_two_ages_and_of_a_season_s_years() -> None:
    hits = find_quantities("Ms Taylor, who has two children aged 13 and 11, said it was unfair.")
    assert [(q.value, q.unit) for q in hits][-2:] == [(13, "year"), (11, "year")]
    hits = find_quantities("Trevor Hicks, whose daughters Victoria, 15, and Sarah, 19, died in the disaster, spoke.")
    assert [(q.value, q.unit) for q in hits] == [(15, "year"), (19, "year")]
    assert 16 not in [q.value for q in find_quantities("He spent the 2015-16 season with Gateshead.")]


@pytest.mark.parametrize(
    "text",
    [
        "The S&P 500 rose on the news.",
        "He bought the new iPhone 11 yesterday.",
        "They won Game 7 of the series.",
        "They drove along Route 66 again.",
        "The COVID-19 pandemic changed that.",
        "The 22nd amendment limits it.",
        "She finished in 10th place.",
        "They won 2-1 at home.",
        "It ended in a 3-3 draw.",
        "The alarm rang at 8:49 PM sharp.",
        "The meeting ends at 3 p.m. today.",
        "Group F — Sweden 1 – 0 Korea Republic",
        "Belgium defeated debutants Panama 3 – 0 on Monday.",
        "The first half ended 0 – 0 on the scoreboard.",
        "Yesterday, day five of the cup began.",
        "The site rose to number 3 in the list.",
        "It is a problem, and potentially a very serious one.",
        "He soon had the first one in his lab.",
        "She starred in 22 Jump Street last year.",
        "They were twice as likely to leave.",
        "The Tunisians were leading 1-0 in the 90th minute.",
        "Tries from Atkins and Bridge made it 24-10.",
        "After a lull caused by a 2-0 deficit, the noise came back.",
        "Schools pay a one-off fee for it.",
        "Wales begin their Six Nations bid on Friday.",
    ],
)
def test_numbers_that_are_no_quantity(text: str) -> None:
    assert find_quantities(text) == []


def test_a_duration_inside_a_date_is_kept_and_the_dates_own_numbers_are_not() -> None:
    text = "Over the past two years, on 25 January 2018 the court met."
    past = text.index("the past two years")
    day = text.index("25 January 2018")
    dates = [(past, past + len("the past two years")), (day, day + len("25 January 2018"))]
    got = [(text[q.start : q.end], q.value, q.unit) for q in find_quantities(text, dates)]
    assert got == [("two", 2, "year")]


@pytest.mark.parametrize("rule", SKIPS, ids=[r.id for r in SKIPS])
def test_every_skip_rule_has_a_reason_matches_its_examples_and_none_of_its_counter_examples(rule: Any) -> None:
    assert rule.reason and rule.examples and rule.counter_examples
    for example in rule.examples:
        assert not [q for q in find_quantities(example) if _fired(example, q) == rule.id], example
        assert any(_skipped_by(example, rule.id)), f"{rule.id} does not fire on {example!r}"
    for counter in rule.counter_examples:
        assert not any(_skipped_by(counter, rule.id)), f"{rule.id} fires on {counter!r}"


def _skipped_by(text: str, rule_id: str) -> list[str]:
    from factkit.rules.quantities import _NUMBER, _skip

    return [m.group(0) for m in _NUMBER.finditer(text) if _skip(text, m.start(), m.end()) == rule_id]


def _fired(text: str, q: QuantityHit) -> str | None:
    from factkit.rules.quantities import _skip

    return _skip(text, q.start, q.end)


def test_the_finder_is_linear_on_a_long_line() -> None:
    """A 32,000-character line of numbers and words: every number found once (a quadratic pass would not finish in
    the test's timeout on a slow machine; the count is what is asserted)."""
    line = "In all 12 people and 3.5% more, " * 1000
    found = find_quantities(line)
    assert len(line) == 32_000 and len(found) == 2000


def test_words_value() -> None:
    assert words_value("twenty-eight thousand six hundred") == 28600
    assert words_value("one hundred and five") == 105
    assert words_value("three million") == 3e6
    assert words_value("seven") == 7
    assert words_value("lots") is None


# --------------------------------------------------------------------------------- in records and the CLI

SEED = "seeds/reuters-2018-01-26-cambodians-deportation.txt"


def test_only_quantities_runs_rules_alone_and_the_record_holds_every_quantity() -> None:
    def no_call(request: dict[str, Any]) -> dict[str, Any]:
        raise AssertionError("no model call for quantities")

    text = (
        "Police arrested approximately 100 Cambodians in raids last October. "
        "Three other U.S. judges ruled that 92 of them could stay, and fines rose 19 per cent to US$1,200."
    )
    result = factkit.Extractor(backend=FakeModel(handler=no_call), cache=False).extract(text, only={"quantities"})
    got = [(q.span.text if q.span else "", q.value, q.unit, q.bound, q.change) for q in result.quantities]
    assert got == [
        ("100", 100, "Cambodian", "~", None),
        ("Three", 3, "judge", "=", None),
        ("92", 92, "", "=", None),  # "92 of them": what they are is in the sentence before
        ("19", 19, "percent", "=", "up"),
        ("1,200", 1200, "USD", "=", None),
    ]
    assert result.facts == [] and result.entities == [] and result.summary.tldr == ""
    for q in result.quantities:
        assert q.span is not None and text[q.span.start : q.span.end] == q.span.text


def test_factkit_extract_only_quantities(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["extract", SEED, "--only", "quantities"]) == 0
    record = json.loads(capsys.readouterr().out)
    got = {(q["span"]["text"], q["unit"]) for q in record["quantities"]}
    assert ("92", "citizen") in got and ("100", "Cambodian") in got
    assert all(q["unit"] != "" for q in record["quantities"])


# --------------------------------------------------------------------------------- the scorer


def test_the_scorer_reports_unit_bound_and_change_accuracy_on_matched_quantities() -> None:
    text = "Profits rose about 19 per cent to US$1,200, and more than 500 people came."
    gold = [
        GoldQuantity(start=19, end=21, text="19", value=19, unit="per cent", unit_normalised="percent", bound="~",
                     change="up"),
        GoldQuantity(start=37, end=42, text="1,200", value=1200, unit="USD", unit_normalised="USD", bound="=",
                     change="none"),
        GoldQuantity(start=58, end=61, text="500", value=500, unit="people", unit_normalised="people", bound=">"),
    ]  # fmt: skip
    assert [text[g.start : g.end] for g in gold] == ["19", "1,200", "500"]
    pred = factkit.Extractor(cache=False).extract(text, only={"quantities"}).quantities
    result = match_quantities(gold, pred)
    assert (result.tp, result.fp, result.fn) == (3, 0, 0)
    assert result.units is not None and (result.units.correct, result.units.total) == (3, 3)
    assert result.bounds is not None and (result.bounds.correct, result.bounds.total) == (3, 3)
    assert result.changes is not None and (result.changes.correct, result.changes.total) == (2, 2)
    wrong = [p.model_copy(update={"bound": "=", "change": None}) for p in pred]
    again = match_quantities(gold, wrong)
    assert again.bounds is not None and again.bounds.correct == 1
    assert again.changes is not None and again.changes.correct == 1


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("Profits rose 19 per cent in March.", "Profits"),
        ("Exports fell by 4% last year.", "Exports"),
        ("The road is 12 km long.", "road"),
        ("The unemployment rate was 4.1% in May.", "unemployment rate"),
        ("The fire burned 40 hectares of forest.", "forest"),
        ("Prices of wheat increased 7%.", "Prices of wheat"),
        ("He won 52% of the vote.", "vote"),
        ("It rose 5%.", None),  # a pronoun is no concept
        ("The judge freed 92 Cambodian citizens.", None),  # a counted noun is its own concept
    ],
)
def test_the_concept_a_quantity_measures_comes_from_the_parse(
    text: str, concept: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from factkit._ner import PIPELINE, load_pipeline

    monkeypatch.setenv("FACTKIT_NER", "auto")  # the model-free pass with the parse (conftest turns NER off)
    pytest.importorskip("spacy")
    if load_pipeline(PIPELINE) is None:
        pytest.skip("the NER pipeline is not installed")
    (q,) = factkit.extract(text, only={"quantities", "entities"}).quantities
    assert q.concept == concept
    # rules alone: no parse, no concept, and the rules' own result is not changed by the run above
    (bare,) = factkit.extract(text, only={"quantities"}).quantities
    assert bare.concept is None


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [
        # ranges next to capitalised words are no scores
        ("Officials said 10-15 Palestinians were killed.", 10, "Palestinian"),
        ("A 10-20 minute wait is normal.", 10, "minute"),
        ("Expect 3 - 4 inches of snow.", 3, "inch"),
        ("Some 10 – 20 people came.", 10, "people"),
        # a label word after every/each/next/this is a time, and a measure after the number is an amount
        ("Every day 2,000 migrants arrive.", 2000, "migrant"),
        ("The next day 12 more bodies were found.", 12, None),
        ("The front line 20 km away was quiet.", 20, "kilometer"),
        # counts that the pronoun, address and age rules must leave alone
        ("The blast killed one.", 1, ""),
        ("About 40 Main Street businesses closed.", 40, "business"),
        ("He turned 90 degrees.", 90, "degree"),
        ("Of those arrested in London, 12, including two minors, were freed.", 12, ""),
        # shares are no dates or spans of time
        ("The store sold 5 in 10 minutes.", 5, None),
    ],
)
def test_the_review_s_counter_examples_keep_their_quantity(text: str, value: float, unit: str | None) -> None:
    q = find_quantities(text)[0]
    assert q.value == pytest.approx(value), q
    if unit is not None:
        assert q.unit == unit, q


def test_numbers_too_long_for_int_and_titles_are_no_crash_and_no_amount() -> None:
    assert [q.value for q in find_quantities("The code was " + "7" * 5000 + " long.")]  # no ValueError
    assert find_quantities("Fans of Billions cheered.") == []
    assert [q.unit for q in find_quantities("The company opened 3 in 2018.")] != ["fraction"]
    assert [q.bound for q in find_quantities("More than 40 people (12 of them children) died.")] == [">", "="]
    assert find_quantities("It is a twice-weekly paper.") == []


def test_page_furniture_states_no_quantity() -> None:
    text = (
        "January 26, 2018 / 8:49 PM / Updated 16 minutes ago\n"
        "U.S. judge blocks deportation Dan Levine, Mica Rosenberg 3 Min Read\n"
        "A federal judge said the administration cannot deport 92 Cambodian citizens.\n"
    )
    found = factkit.Extractor(cache=False).extract(text, only={"quantities"}).quantities
    assert [(q.value, q.unit) for q in found] == [(92, "citizen")]
