"""Quantities: every number an article states, as data a program can use.

:func:`find_quantities` reads a text once, model-free, and gives each quantity its

- ``value``: signed and scaled ("-1.3%" -> -1.3, "$4.2bn" -> 4.2e9, "twenty-eight thousand six hundred" -> 28600,
  "a third of" -> 0.333...), the lower end of a range (with ``low`` and ``high``);
- ``unit``: normalised to a small vocabulary: ISO 4217 codes for money ("US$1,200", "RM120,000", "50 euros"),
  ``percent``, ``percentage point``, measurement units by pint's names ("km" -> ``kilometer``, "mph" ->
  ``mile_per_hour``), else the counted thing by its noun's lemma ("92 Cambodian citizens" -> ``citizen``, through
  lemminflect); ``surface`` keeps the unit as written;
- ``bound``: ``=``, ``~`` (about), ``>``, ``>=``, ``<``, ``<=`` (more than, at least, fewer than, up to);
- ``change``: ``up`` or ``down`` where the number is a change ("rose 19 per cent", "a 5% drop").

What is not a quantity is left out, each kind by a rule of :data:`SKIPS` with its reason: numbers inside dates
(but a duration in one, "the past two years", is kept), clock times, ordinals, numbers that are part of a name
("S&P 500", "Game 7", "COVID-19"), sports scores ("won 2-1").
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any, Literal

from ._table import alternation
from .dates import NUM_TENS, NUM_UNITS

__all__ = ["BOUNDS", "SKIPS", "QuantityHit", "concept_of", "find_quantities", "has_concept", "normalise_unit"]

Bound = Literal["=", "~", ">", ">=", "<", "<="]
Change = Literal["up", "down"]


@dataclass(frozen=True)
class QuantityHit:
    """One quantity: ``text[start:end]`` is the number as written (a range: both ends)."""

    start: int
    end: int
    value: float
    unit: str = ""
    surface: str = ""
    bound: Bound = "="
    change: Change | None = None
    low: float | None = None
    high: float | None = None

    @property
    def approximate(self) -> bool:
        """Hedged: about, nearly, more than, up to..."""
        return self.bound != "="


# ------------------------------------------------------------------------------------------ numbers

_WORD_UNITS = {w: n for w, n in NUM_UNITS.items() if w not in ("a", "an")} | {"zero": 0}
_WORD_TENS = dict(NUM_TENS)
_WORD_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_WORD_SCALES["trillion"] = 1_000_000_000_000
_NUMBER_WORD = "|".join(sorted([*_WORD_UNITS, *_WORD_TENS, *_WORD_SCALES, "dozen"], key=len, reverse=True))
#: Scale words and abbreviations after a number written in digits ("4.2bn", "$1tn", "5 million", "8k").
_SCALES = {
    "hundred": 1e2,
    "thousand": 1e3,
    "k": 1e3,
    "million": 1e6,
    "mn": 1e6,
    "mln": 1e6,
    "m": 1e6,
    "billion": 1e9,
    "bn": 1e9,
    "bln": 1e9,
    "b": 1e9,
    "trillion": 1e12,
    "tn": 1e12,
    "trn": 1e12,
}
_DIGITS = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+"
_NUMBER = re.compile(
    rf"(?:(?<![\w.,/])|(?<=RM)|(?<=Rs)|(?<=Rs\.)|(?<=EUR)|(?<=USD)|(?<=GBP)|(?<=CHF)|(?<=INR))(?P<num>{_DIGITS})(?:(?P<sp>\s?)(?P<scale>hundred|thousand|million|billion|trillion|mn|mln|bn|bln|"
    rf"trn|tn|k|m|b)\b(?:\s(?P<scale2>thousand|million|billion|trillion)\b)?)?"
    rf"|(?<![\w-])(?P<words>(?:{_NUMBER_WORD})(?:(?:[\s-]+|\s+and\s+)(?:{_NUMBER_WORD}))*)\b",
    re.IGNORECASE,
)
#: "a dozen", "a hundred", "a thousand", "a million": the article counts as one.
_A_SCALE = re.compile(r"\ba\s+(dozen|hundred|thousand|million|billion)\b", re.IGNORECASE)
#: Fractions: "a third of", "two-thirds of", "half of", "a quarter of", "1/16 of".
_FRACTIONS = {"half": 2, "halves": 2, "third": 3, "thirds": 3, "quarter": 4, "quarters": 4, "fifth": 5, "fifths": 5}
_FRACTION = re.compile(
    r"\b(?P<count>a|one|two|three|four)?[\s-]?(?P<part>half|halves|thirds?|quarters?|fifths?)\s+(?=of\b)"
    r"|\b(?P<count2>two|three|four)-(?P<part2>thirds|quarters|fifths)\b"
    r"|\b(?P<half>half|a\s+quarter|three\s+quarters)\s+(?:of\s+)?an?\s+(?P<what>(?:dozen|hundred|thousand|million|billion)"
    r"\b|[a-z]+)"
    r"|(?<![\w/])(?P<n>\d+)/(?P<d>\d+)(?![\w/])",
    re.IGNORECASE,
)
#: Vague amounts: "tens of millions", "hundreds of", "dozens of", "thousands of": the least they can mean, ``>``.
_VAGUE = re.compile(
    r"(?<![\w-])(?:(?P<tens>tens|hundreds)\s+of\s+(?P<of>thousands|millions|billions)\b(?:\s+of\b)?|(?P<alone>dozens|"
    r"hundreds|thousands|millions|billions)\b(?:\s+of\b)?)",
    re.IGNORECASE,
)
#: "twice", "three times" are counts of events; "twice as many" is a ratio and stays out.
_TWICE = re.compile(
    r"\b(?P<word>twice|thrice)\b(?!-|\s+(?:as|the|that|daily|weekly|monthly|yearly|annually|nightly|a\s+"
    r"(?:day|week|month|year)\b))",
    re.IGNORECASE,
)
#: "one in three visits", "1 in 5 adults": a share.
_ONE_IN = re.compile(
    rf"(?<![\w-])(?P<n>\d+|{_NUMBER_WORD})\s+in\s+(?P<d>\d{{1,3}}(?:,\d{{3}})*|{_NUMBER_WORD})\b"
    r"(?![\d.]|\s*(?:%|per\b)|\s+(?:seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?)\b)",
    re.IGNORECASE,
)
_VAGUE_VALUE = {"tens": 10, "dozens": 12, "hundreds": 100, "thousands": 1e3, "millions": 1e6, "billions": 1e9}


def words_value(text: str) -> float | None:
    """'twenty-eight thousand six hundred' -> 28600; 'a dozen' -> 12; None when the words are no number."""
    total, current, seen = 0.0, 0.0, False
    for word in re.split(r"[\s-]+", text.casefold()):
        if word in ("and", "a", ""):
            continue
        if word in _WORD_UNITS:
            current += _WORD_UNITS[word]
        elif word in _WORD_TENS:
            current += _WORD_TENS[word]
        elif word == "dozen":
            current = (current or 1) * 12
        elif word == "hundred":
            current = (current or 1) * 100
        elif word in _WORD_SCALES:
            total += (current or 1) * _WORD_SCALES[word]
            current = 0
        else:
            return None
        seen = True
    return total + current if seen else None


# ------------------------------------------------------------------------------------------ what is skipped


@dataclass(frozen=True)
class Skip:
    """A rule that says a number is not a quantity: its id, why, and what it looks at (the text before the number,
    the number, the text after it)."""

    id: str
    reason: str
    test: Callable[[str, str, str], bool]
    examples: tuple[str, ...] = ()
    counter_examples: tuple[str, ...] = ()


_ORDINAL = re.compile(r"^(?:st|nd|rd|th)\b", re.IGNORECASE)
_CLOCK_BEFORE = re.compile(r"\d:$|\d\.$")
_CLOCK_AFTER = re.compile(r"^(?::\d\d|\s?(?:a\.?m\.?|p\.?m\.?)(?!\w))", re.IGNORECASE)
#: A capitalised word right before the number names it ("Game 7", "Route 66", "S&P 500", "iPhone 11", "Boeing
#: 737"); money and measures written before the number are not names ("USD 50", "Rs 100", "RM120,000"); never
#: across a line's end ("by Operation Resolve\n11,000 statements": \Z, as $ would match before the newline).
_NAME_BEFORE = re.compile(r"(?:(?<![.!?]\s)(?<!^)\b(?:[A-Z][\w&]*|[a-z]+[A-Z]\w*)|&P|No\.|#)[^\S\n]?\Z")
_NOT_NAMES = frozenset(
    [
        "USD",
        "EUR",
        "GBP",
        "JPY",
        "CNY",
        "INR",
        "AUD",
        "CAD",
        "CHF",
        "MYR",
        "SGD",
        "HKD",
        "NZD",
        "ZAR",
        "RUB",
        "BRL",
        "KRW",
        "MXN",
        "RM",
        "Rs",
        "US",
        "A",
        "C",
        "NZ",
        "HK",
        "S",
        "R",
        "I",
        "We",
        "They",
        "He",
        "She",
        "It",
        "The",
        "A",
        "An",
        "In",
        "On",
        "At",
        "By",
        "About",
        "Some",
        "Nearly",
        "Almost",
        "Only",
        "Just",
        "Over",
        "Under",
        "More",
        "Less",
        "Up",
        "To",
        "From",
        "Between",
        "And",
        "Or",
        "But",
        "Of",
        "For",
        "With",
        "Around",
        "Roughly",
        "Approximately",
        "Least",
        "Most",
        "Than",
        "Another",
        "Every",
        "Each",
        "All",
        "Its",
        "Their",
        "His",
        "Her",
        "Our",
    ]
)
_HYPHEN_NAME = re.compile(r"[A-Za-z]-$")
#: An earthquake's size: "a magnitude-6 quake", "magnitude 4.8".
_MAGNITUDE_BEFORE = re.compile(r"\bmagnitude[-\s]$", re.IGNORECASE)
_LABEL_BEFORE = re.compile(
    r"(?<!\bevery\s)(?<!\beach\s)(?<!\bnext\s)(?<!\bthis\s)(?<!\bthat\s)(?<!\bsame\s)(?<!\bper\s)(?<!\bone\s)"
    r"\b(?:day|number|no\.|page|part|chapter|section|round|stage|leg|phase|level|grade|episode|volume|vol\.|issue|"
    r"platform|gate|seat|exit|item|clause|paragraph|article|schedule|appendix|figure|table)\s$",
    re.IGNORECASE,
)
_ADDRESS_AFTER = re.compile(
    r"^\s(?:[A-Z][\w'’-]*\s){1,2}(?:Street|St\.|Road|Rd\.|Avenue|Ave\.|Lane|Square|Place|Drive|Boulevard|Way)\b"
    r"(?!\s+(?!says\b|is\b|was\b|has\b)[a-z]+(?:es|s)\b)"
)
_PRONOUN_ONE_BEFORE = re.compile(
    r"\b(?:a|an|the|this|that|which|each|every|any|another|no)\s+((?:[a-z][\w-]*\s+){0,2})$", re.IGNORECASE
)


def _describes_only(words: str) -> bool:
    """Words between a determiner and 'one' that only describe it ('very serious', 'first'): no noun or verb
    ('The blast killed one' counts a victim)."""
    import lemminflect

    for word in words.split():
        if word.endswith("ly") or word in ("very", "most", "more", "less", "least", "so", "too"):
            continue
        if not lemminflect.getAllLemmas(word, upos="ADJ") or lemminflect.getAllLemmas(word, upos="VERB"):
            return False
    return True


_RANK_BEFORE = re.compile(r"\b(?:first|second|third|last|next|only|same|other|latest|new|old|biggest|best)\s$")
_PRONOUN_ONE_AFTER = re.compile(r"^(?:\s*[.,;:!?\"'”’)]|\s+(?:who|that|which|whose|where|of)\b|\s*$)")
_SCORE_WORDS = re.compile(
    r"\b(?:won|win|wins|winning|beat|beats|defeated|defeat|lost|loses|lose|drew|draw|tied|victory|score|scored|"
    r"scoreline|scoreboard|lead|led|trail(?:ed|ing)?|ended|half-time|full-time)\b",
    re.IGNORECASE,
)
#: Words that make a pair a score only right beside it: "leading 1-0", "made it 24-10", "a 2-0 deficit" (not "the
#: leading cause of death among people 15-24", "made it clear that 10-12 hospitals", "a deficit of 10-15 billion").
_SCORE_RIGHT_BEFORE = re.compile(r"\b(?:leading|made\s+it)\s$", re.IGNORECASE)
_SCORE_RIGHT_AFTER = re.compile(r"^\s(?:deficit|advantage)\b", re.IGNORECASE)
#: The other half of a score: "2-1", "1 – 0" (a dash, spaced or not, and one or two digits).
_SCORE_AFTER = re.compile(r"^\s?[-–—]\s?\d{1,2}(?![\d.,]*\s?(?:%|per\s?cent|percent))\b")
_SCORE_BEFORE = re.compile(r"(?<![\d.,])\d{1,2}\s?[-–—]\s?$")
#: A team's name beside a score: "Sweden 1 – 0 Korea", "Panama 3 – 0".
_TEAM_BEFORE = re.compile(r"(?<![.!?]\s)(?<!^)\b([A-Z][\w.'’-]*)\s$")
_TEAM_AFTER = re.compile(
    r"^\s(?:[A-Z][\w.'’-]*)(?:\s+[A-Z][\w.'’-]*){0,3}(?:\s*[,.;:!?)\n]|\s*$|\s+(?:in|at|on|after)\b)"
)
_CLAUSE_END = re.compile(r"^\s*(?:[,.;:!?)\n]|$)|^\s+(?:up|down|ahead|behind|win|victory|draw|lead)\b")


def _is_score(before: str, number: str, after: str) -> bool:
    first = _SCORE_AFTER.match(after)
    second = _SCORE_BEFORE.search(before)
    if not (first or second) or not number.isdigit() or len(number) > 2:
        return False
    if _SCORE_WORDS.search(before[-40:] + " " + after[:40]):
        return True
    # without a score word, a team's name must stand right before the pair ("Panama 3 – 0;", "Sweden 1 – 0 Korea"),
    # and after it another name or the end of the clause: "Officials said 10-15 Palestinians" is a range
    if first:
        head, tail = before, after[first.end() :]
    else:
        head, tail = before[: second.start() if second else 0], after
    if _SCORE_RIGHT_BEFORE.search(head) or _SCORE_RIGHT_AFTER.match(tail):
        return True
    team = _TEAM_BEFORE.search(head)
    if team is None or team.group(1) in _NOT_NAMES:
        return False
    return bool(_TEAM_AFTER.match(tail) or _CLAUSE_END.match(tail))


_GLUED_UNIT = re.compile(
    r"(?:st|nd|rd|th|pc|k|m|b|bn|bln|tn|trn|mn|mln|kg|kgs|km|kms|cm|mm|g|mph|kph|kwh|kw|mw|gw|gb|mb|tb|ft|lb|lbs|oz|"
    r"l|am|pm|a\.m|p\.m|c|f|mi)(?![a-z])",
    re.IGNORECASE,
)


def _is_name(before: str, number: str, after: str) -> bool:
    m = _NAME_BEFORE.search(before)
    if m is None:
        return False
    word = m.group(0).strip()
    if word in _NOT_NAMES or word.upper() in _CURRENCY_CODES:
        return False
    # a rate or a measure after it says it is an amount: "Updated 16 minutes ago", "Shares 5% up"
    if re.fullmatch(r"1[5-9]\d\d|20\d\d", number):  # "World Cup 2018 day five": a year in a name
        return True
    unit = _MEASURE_AFTER.match(after)
    return not (_PERCENT_AFTER.match(after) or (unit and len(unit.group(1)) > 2))


SKIPS: tuple[Skip, ...] = (
    Skip(
        "ordinal",
        "an ordinal ranks, it does not count: '22nd amendment', '10th place'",
        lambda b, n, a: bool(_ORDINAL.match(a)),
        examples=("the 22nd amendment", "finished 10th place"),
        counter_examples=("22 amendments",),
    ),
    Skip(
        "clock",
        "a clock time is a date part, not an amount: '8:49 PM', '15:11', '3 p.m.'",
        lambda b, n, a: bool(_CLOCK_BEFORE.search(b)) or bool(_CLOCK_AFTER.match(a)),
        examples=("at 8:49 PM", "until 3 p.m. today"),
        counter_examples=("3 people",),
    ),
    Skip(
        "name",
        "a number right after a capitalised word is part of a name: 'Game 7', 'Route 66', 'S&P 500', 'iPhone 11'",
        _is_name,
        examples=("won Game 7 of the series", "along Route 66 today", "the S&P 500 rose", "the new iPhone 11 is"),
        counter_examples=(
            "more than 500 people",
            "the company paid USD 50 each",
            "In 2015 92 people",
            "Updated 16 minutes ago",
        ),
    ),
    Skip(
        "hyphen-name",
        "a number joined to letters by a hyphen is part of a name: 'COVID-19', 'F-16', 'MH-17'",
        lambda b, n, a: bool(_HYPHEN_NAME.search(b)) and not _MAGNITUDE_BEFORE.search(b),
        examples=("the COVID-19 pandemic", "two F-16 jets"),
        counter_examples=("a 5-year plan", "the magnitude-4.8 quake"),
    ),
    Skip(
        "title-number",
        "a number word in capitals inside a sentence, before a capitalised word, is a name: 'the Six Nations'",
        lambda b, n, a: (
            n[:1].isupper()
            and not n[:1].isdigit()
            and bool(re.search(r"[a-z,]\s$", b))
            and bool(re.match(r"^\s[A-Z][a-z]", a))
        ),
        examples=("in his maiden Six Nations as coach", "they begin their Six Nations bid"),
        counter_examples=("Six Nations teams met. Three people died.", "He has Two goals this season."),
    ),
    Skip(
        "one-off",
        "'one-off' says a thing happens once, it counts nothing: 'a one-off fee'",
        lambda b, n, a: n.casefold() == "one" and a.startswith("-off"),
        examples=("schools pay a one-off fee of $14",),
        counter_examples=("one officer was hurt",),
    ),
    Skip(
        "season-years",
        "the second year of a season or a span written short is part of a date: 'the 2015-16 season', '2014–15'",
        lambda b, n, a: len(n) == 2 and n.isdigit() and bool(re.search(r"(?<!\d)(?:19|20)\d\d[-–/]$", b)),
        examples=("spending the 2015-16 season with Gateshead", "at the end of the 2014–15 campaign"),
        counter_examples=("scored 15-16 points", "from 2015 to 16 May"),
    ),
    Skip(
        "one-of",
        "'one of the ...' and 'no one' pick out, they do not count: 'one of the nations', 'there was no one there'",
        lambda b, n, a: n.casefold() == "one" and (bool(re.match(r"^\s+of\b", a)) or bool(re.search(r"\bno\s$", b))),
        examples=("Afghanistan is not one of the nations covered", "there was no one there"),
        counter_examples=("one person died",),
    ),
    Skip(
        "glued-name",
        "digits glued to letters that are no unit or scale are a name: '4chan', '3D'",
        lambda b, n, a: bool(re.match(r"^[A-Za-z]", a)) and not _GLUED_UNIT.match(a),
        examples=("a spinoff of 4chan", "a 3D printer"),
        counter_examples=("5kg of rice", "a 37m-long ship", "sales grew 12pc", "$4.2bn in all"),
    ),
    Skip(
        "score",
        "a sports score is not an amount: 'won 2-1', 'a 3-3 draw', 'Sweden 1 – 0 Korea'",
        _is_score,
        examples=("they won 2-1 at home", "a 3-3 draw", "Group F — Sweden 1 – 0 Korea Republic", "as it ended 0 – 0."),
        counter_examples=(
            "between 10-20 people",
            "Some 10 – 20 people came",
            "it fell 5-6% on Monday",
            "Officials said 10-15 Palestinians were killed.",
            "Expect 3 - 4 inches of snow.",
            "A 10-20 minute wait is normal.",
        ),
    ),
    Skip(
        "label-number",
        "a number after a word that labels a step or a place in a list names it, it does not count: 'day five', "
        "'number 3', 'page 12', 'round 2'",
        lambda b, n, a: bool(_LABEL_BEFORE.search(b)) and not _measure_after(a),
        examples=("Yesterday, day five of the cup", "it rose to number 3 in the list", "see page 12 for more"),
        counter_examples=(
            "five days later",
            "a number of 3 people",
            "for 12 pages",
            "Every day 2,000 migrants arrive.",
            "At this stage 40 people remain missing.",
        ),
    ),
    Skip(
        "address",
        "a number before a capitalised street name is an address or a title: '10 Downing Street', '22 Jump Street'",
        lambda b, n, a: bool(_ADDRESS_AFTER.match(a)),
        examples=("said 10 Downing Street on Monday", "star of 22 Jump Street and"),
        counter_examples=(
            "22 Street vendors were fined",
            "10 people on Downing Street",
            "About 40 Main Street businesses",
        ),
    ),
    Skip(
        "pronoun-one",
        "'one' standing for a noun already named is no count: 'a very serious one.', 'the one'",
        lambda b, n, a: (
            n.casefold() == "one"
            and bool(_PRONOUN_ONE_BEFORE.search(b))
            and _describes_only(_PRONOUN_ONE_BEFORE.search(b).group(1))  # type: ignore[union-attr]
            and (bool(_PRONOUN_ONE_AFTER.match(a)) or bool(_RANK_BEFORE.search(b)))
        ),
        examples=(
            "a problem, and potentially a very serious one.",
            'a commercial one" he said',
            "the one who left",
            "he soon had the first one in his lab",
        ),
        counter_examples=("only one.", "one man died", "the one man who left", "The blast killed one."),
    ),
)


# ------------------------------------------------------------------------------------------ units

#: Money written before the number, longest first: a sign or an ISO code ("US$", "€", "RM", "USD ").
_CURRENCY_CODES = {
    "US$": "USD",
    "USD": "USD",
    "$": "USD",
    "A$": "AUD",
    "AU$": "AUD",
    "C$": "CAD",
    "CA$": "CAD",
    "NZ$": "NZD",
    "HK$": "HKD",
    "S$": "SGD",
    "€": "EUR",
    "EUR": "EUR",
    "£": "GBP",
    "GBP": "GBP",
    "¥": "JPY",
    "JPY": "JPY",
    "CNY": "CNY",
    "RMB": "CNY",
    "₹": "INR",
    "RS": "INR",
    "RS.": "INR",
    "INR": "INR",
    "RM": "MYR",
    "MYR": "MYR",
    "CHF": "CHF",
    "₩": "KRW",
    "₽": "RUB",
    "R$": "BRL",
    "AUD": "AUD",
    "CAD": "CAD",
    "NZD": "NZD",
    "HKD": "HKD",
    "SGD": "SGD",
    "ZAR": "ZAR",
    "KRW": "KRW",
    "RUB": "RUB",
    "BRL": "BRL",
    "MXN": "MXN",
}
_CURRENCY_BEFORE = re.compile(
    r"(?:^|(?<=[\s(\[\"'“\-Â]))("  # "Â£45m": a pound sign whose UTF-8 was read as Latin-1
    + "|".join(re.escape(c) for c in sorted(_CURRENCY_CODES, key=len, reverse=True))
    + r")\s?$",
    re.IGNORECASE,
)
#: Money named after the number ("50 euros", "3 million yuan"); "US dollars" and "pounds sterling" too.
_CURRENCY_WORDS = {
    "us dollars": "USD",
    "dollars": "USD",
    "dollar": "USD",
    "euros": "EUR",
    "euro": "EUR",
    "pounds sterling": "GBP",
    "sterling": "GBP",
    "yen": "JPY",
    "yuan": "CNY",
    "renminbi": "CNY",
    "rupees": "INR",
    "rupee": "INR",
    "ringgit": "MYR",
    "won": "KRW",
    "roubles": "RUB",
    "rubles": "RUB",
    "francs": "CHF",
    "rand": "ZAR",
    "reais": "BRL",
    "pesos": "MXN",
    **{code.casefold(): code for code in set(_CURRENCY_CODES.values())},
}
#: Measurement units as written, to pint's unit expression (pint gives the canonical name).
_MEASURES = {
    "km": "km", "kms": "km", "kilometres": "km", "kilometers": "km", "kilometre": "km", "kilometer": "km",
    "m": "m", "metres": "m", "meters": "m", "metre": "m", "meter": "m",
    "cm": "cm", "centimetres": "cm", "centimeters": "cm", "mm": "mm", "millimetres": "mm", "millimeters": "mm",
    "miles": "mile", "mile": "mile", "mi": "mile", "ft": "ft", "feet": "ft", "foot": "ft",
    "inches": "inch", "inch": "inch", "yards": "yard", "yard": "yard",
    "kg": "kg", "kgs": "kg", "kilograms": "kg", "kilogram": "kg", "kilos": "kg", "g": "g", "grams": "g",
    "gram": "g", "tonnes": "t", "tonne": "t", "tons": "ton", "ton": "ton", "lb": "lb", "lbs": "lb",
    "pounds": "lb", "pound": "lb", "ounces": "oz", "ounce": "oz", "oz": "oz",
    "litres": "l", "liters": "l", "litre": "l", "liter": "l", "gallons": "gallon", "gallon": "gallon",
    "barrels": "oil_barrel", "barrel": "oil_barrel", "pints": "pint", "pint": "pint",
    "mph": "mph", "m.p.h.": "mph", "km/h": "km/h", "kph": "km/h", "knots": "knot",
    "acres": "acre", "acre": "acre", "hectares": "hectare", "hectare": "hectare",
    "square metres": "m**2", "square meters": "m**2", "square metre": "m**2", "square meter": "m**2",
    "square kilometres": "km**2", "square kilometers": "km**2", "sq km": "km**2", "km2": "km**2",
    "square miles": "mile**2", "square feet": "ft**2", "sq ft": "ft**2",
    "degrees celsius": "degC", "degrees fahrenheit": "degF", "°c": "degC", "°f": "degF", "c": "degC",
    "mw": "MW", "megawatts": "MW", "gw": "GW", "gigawatts": "GW", "kw": "kW", "kilowatts": "kW", "kwh": "kWh",
    "watts": "W", "volts": "V", "gb": "GB", "mb": "MB", "tb": "TB", "gigabytes": "GB", "megabytes": "MB",
    "seconds": "s", "second": "s", "secs": "s", "minutes": "minute", "minute": "minute", "mins": "minute",
    "min": "minute", "hours": "hour", "hour": "hour", "hrs": "hour", "hr": "hour",
    "days": "day", "day": "day", "weeks": "week", "week": "week", "months": "month", "month": "month",
    "years": "year", "year": "year", "decades": "decade", "decade": "decade", "centuries": "century",
    "century": "century",
}  # fmt: skip
_DURATION_UNITS = frozenset(["seconds", "minutes", "hours", "days", "weeks", "months", "years", "decades", "centuries"])
_PERCENT_AFTER = re.compile(r"\s?(?:%|per\s?cent\b|percent\b|pc\b)", re.IGNORECASE)
_POINTS_AFTER = re.compile(r"\s?(?:percentage|%|per\s?cent(?:age)?)\s?points?\b|\s?pts?\b|\s?ppts?\b", re.IGNORECASE)
_MEASURE_AFTER = re.compile(
    r"\s?-?(" + "|".join(re.escape(k) for k in sorted(_MEASURES, key=len, reverse=True)) + r")(?![\w/°])",
    re.IGNORECASE,
)
_CURRENCY_AFTER = re.compile(
    r"\s(" + "|".join(re.escape(k) for k in sorted(_CURRENCY_WORDS, key=len, reverse=True)) + r")\b", re.IGNORECASE
)


def _measure_after(after: str) -> bool:
    """A unit of measure right after a number ("20 km away")."""
    return bool(_MEASURE_AFTER.match(after))


#: After a number and "m", these say metres, not millions: "a 37m-long ship", "100m away".
_METRE_AFTER = re.compile(r"^-?(?:long|high|tall|wide|deep)\b|^\s(?:away|long|high|tall|wide|deep|above|below)\b")
_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "who",
        "whom",
        "whose",
        "which",
        "that",
        "this",
        "these",
        "those",
        "from",
        "in",
        "on",
        "at",
        "to",
        "for",
        "with",
        "by",
        "as",
        "than",
        "still",
        "have",
        "has",
        "had",
        "were",
        "was",
        "are",
        "is",
        "be",
        "been",
        "being",
        "said",
        "says",
        "others",
        "last",
        "next",
        "today",
        "yesterday",
        "tomorrow",
        "tonight",
        "will",
        "would",
        "could",
        "can",
        "may",
        "might",
        "of",
        "per",
        "each",
        "were",
        "more",
        "less",
        "over",
        "under",
        "about",
        "into",
        "out",
        "up",
        "down",
        "after",
        "before",
        "since",
        "during",
        "while",
        "when",
        "where",
        "if",
        "so",
        "its",
        "their",
        "his",
        "her",
        "our",
        "he",
        "she",
        "it",
        "they",
        "we",
        "you",
        "i",
        "him",
        "them",
        "us",
        *_WORD_UNITS,
        *_WORD_TENS,
    ]
)


@functools.lru_cache(maxsize=512)
def normalise_unit(expression: str) -> str:
    """pint's canonical name of a unit expression ('km' -> 'kilometer', 'mph' -> 'mile_per_hour'); the expression
    itself when pint does not know it."""
    try:
        return str(_registry().parse_units(expression))
    except Exception:  # pint raises several kinds for an unknown or malformed unit
        return expression


@functools.lru_cache(maxsize=1)
def _registry():  # type: ignore[no-untyped-def]
    import pint

    return pint.UnitRegistry()


@functools.lru_cache(maxsize=4096)
def _dictionary_lemma(word: str) -> str | None:
    """The noun lemma lemminflect's dictionary gives ``word`` ('citizens' -> 'citizen'), or ``None``."""
    import lemminflect

    known = lemminflect.getAllLemmas(word, upos="NOUN").get("NOUN")
    return str(known[0]) if known else None


def _lemma(word: str) -> str:
    """The singular of a counted noun ('citizens' -> 'citizen', 'children' -> 'child'), by lemminflect."""
    if re.fullmatch(r"[A-Z]{2,}s", word):  # "CDs", "MPs"
        return word[:-1]
    known = _dictionary_lemma(word)
    if known:
        return known
    if "-" in word.strip("-"):  # a compound's last part: "man-hours" -> "man-hour", "centre-halves" -> "centre-half"
        head, _, last = word.rpartition("-")
        return f"{head}-{_lemma(last)}"
    # not in the dictionary: only a plain plural loses its s ('Cambodians', 'Iraqis'; not 'Texas', 'was')
    if re.fullmatch(r"[A-Za-z]+[^sui]s", word) and not word.isupper() and len(word) > 4:
        return word[:-1]
    return word


def _counted(text: str, end: int) -> tuple[str, str]:
    """(lemma, surface) of what a number counts, from the words after it: '92 Cambodian citizens from' ->
    ('citizen', 'Cambodian citizens'); '92 of the Cambodians' -> ('Cambodian', 'Cambodians')."""
    rest = text[end : end + 80]
    lead = re.match(r"^\s*(?:of\s+(?:the\s+|them\s+|whom\s+|those\s+|these\s+)?)?", rest)
    lead_of = bool(lead and lead.group().strip())
    rest = rest[lead.end() if lead else 0 :]
    words: list[str] = []
    for word in rest.split()[:4]:
        clean = word.strip(',;:!?()"“”')
        clean = clean if clean.count(".") > 1 else clean.rstrip(".")
        if not words and not lead_of and re.fullmatch(r"[A-Za-z]+s['’]", clean):
            words.append(clean[:-1])  # a possessive right after the number is what it counts: "two sides' meeting"
            break  # (after "of", the next noun is: "22 of the victims' families")
        if not clean or clean.casefold() in _STOP or not re.fullmatch(r"[A-Za-z][\w’'.-]*", clean):
            break
        words.append(clean)
        if (clean != word.rstrip(".") and word[-1:] in ',;:!?)"”') or (word.endswith(".") and "." not in clean):
            break  # the phrase ends at a comma, a bracket or the sentence's end
    if not words:
        return "", ""
    # the phrase ends at its first plural noun ("92 Cambodian citizens", "8bn people live" -> "people")
    end_at = next((i for i, w in enumerate(words) if _plural(w)), None)
    if end_at is None:  # one thing: the first noun ("one international goal"), else the first word ("3 dead")
        end_at = next((i for i, w in enumerate(words) if w.islower() and _is_noun(w)), 0)
        if end_at > 0 and words[end_at].endswith(("s", "ed")) and _is_verb(words[end_at]):
            end_at -= 1  # the verb after the thing: "One suspect remains at large"
    if (
        words[end_at].casefold() in _PLURAL_ALWAYS
        and end_at + 1 < len(words)
        and words[end_at + 1].islower()
        and _is_noun(words[end_at + 1])
        and not _is_verb(words[end_at + 1])
    ):
        # a collective noun before another noun modifies it: "police officers", "staff members"; not before a verb
        # that is a noun too ("200 people protest", "12 staff work there")
        end_at += 1
    words = words[: end_at + 1]
    return _lemma(words[-1]), " ".join(words)


_PLURAL_ALWAYS = frozenset(["people", "police", "staff", "cattle", "personnel", "troops", "data"])


@functools.lru_cache(maxsize=4096)
def _plural(word: str) -> bool:
    """A plural noun: its noun lemma differs from it ('citizens', 'children'), or one of a few collective nouns."""
    if word.casefold() in _PLURAL_ALWAYS:
        return True
    if not word[-1:].isalpha() or len(word) < 3:
        return False
    return _lemma(word) != word


# ------------------------------------------------------------------------------------------ bounds and changes

#: Words before a number that bound it, longest first.
BOUNDS: dict[str, Bound] = {
    "more than": ">",
    "greater than": ">",
    "higher than": ">",
    "over": ">",
    "above": ">",
    "in excess of": ">",
    "upwards of": ">",
    "exceeding": ">",
    "exceeded": ">",
    "exceeds": ">",
    "topped": ">",
    "just over": ">",
    "over the age of": ">",
    "above the age of": ">",
    "under the age of": "<",
    "below the age of": "<",
    "at least": ">=",
    "no fewer than": ">=",
    "no less than": ">=",
    "a minimum of": ">=",
    "fewer than": "<",
    "less than": "<",
    "under": "<",
    "below": "<",
    "just under": "<",
    "up to": "<=",
    "at most": "<=",
    "no more than": "<=",
    "as many as": "<=",
    "a maximum of": "<=",
    "about": "~",
    "something like": "~",
    "approximately": "~",
    "approx.": "~",
    "around": "~",
    "roughly": "~",
    "nearly": "~",
    "almost": "~",
    "some": "~",
    "an estimated": "~",
    "estimated": "~",
    "close to": "~",
    "or so": "~",
    "~": "~",
}
_BOUND_BEFORE = re.compile(
    r"(?:^|\W)("
    + "|".join(re.escape(k) for k in sorted(BOUNDS, key=len, reverse=True))
    + r")\s*(?:an?\s+)?(?:US)?[$€£¥₹]?\s*$",
    re.IGNORECASE,
)
_OR_MORE_AFTER = re.compile(r"^(?:\S+|\s+[A-Za-z][\w'’-]*)?\s+or\s+(more|fewer|less)\b", re.IGNORECASE)
_UP = (
    "rose|rise|rises|risen|rising|increased|increase|increases|grew|grow|grows|grown|gained|gains|jumped|jumps|"
    "climbed|climbs|soared|soars|surged|surges|up|added|higher|boosted|raised"
)
_DOWN = (
    "fell|fall|falls|fallen|falling|dropped|drops|declined|declines|decreased|decreases|lost|loses|slid|slides|"
    "plunged|plunges|tumbled|tumbles|sank|down|lower|cut|cuts|shrank|shrinks|slumped|dipped|eased|reduced"
)
_CHANGE_BEFORE = re.compile(
    rf"\b(?:(?P<up>{_UP})|(?P<down>{_DOWN}))\s+(?:by\s+)?(?:(?:about|around|nearly|almost|some|more than|"
    rf"over|roughly)\s+)?(?:US)?[$€£¥₹]?\s*$",
    re.IGNORECASE,
)
#: A change verb earlier in the clause and "by" right before the number: "increase food needs by 50 percent".
_CHANGE_BY = re.compile(
    rf"\b(?:(?P<up>{_UP})|(?P<down>{_DOWN}))\b(?:\s+(?!(?:after|before|according|to|in|on|at|with|from|for|during|"
    rf"of|than|since|when|while|as)\b)[\w'’-]+){{0,6}}\s+by\s+(?:either\s+)?(?:(?:about|around|nearly|almost|"
    rf"some|more than|over|roughly)\s+)?(?:US)?[$€£¥₹]?\s*$",
    re.IGNORECASE,
)
_CHANGE_AFTER = re.compile(
    r"^\s*(?:(?P<up>rise|increase|jump|gain|hike|growth|surge|higher|more|up)|(?P<down>drop|fall|decline|decrease|"
    r"cut|loss|reduction|slump|lower|less|down))\b",
    re.IGNORECASE,
)

# ------------------------------------------------------------------------------------------ the finder


def _skip(text: str, start: int, end: int) -> str | None:
    before, number, after = text[max(0, start - 60) : start], text[start:end], text[end : end + 60]
    return next((rule.id for rule in SKIPS if rule.test(before, number, after)), None)


#: Words for a person that an age can follow ("the former captain, 36,").
_PERSON_NOUNS = (
    "captain",
    "man",
    "woman",
    "boy",
    "girl",
    "mother",
    "father",
    "son",
    "daughter",
    "wife",
    "husband",
    "player",
    "driver",
    "student",
    "teacher",
    "victim",
    "singer",
    "actor",
    "actress",
    "striker",
    "midfielder",
    "defender",
    "goalkeeper",
    "manager",
    "pensioner",
    "teenager",
    "pupil",
)
#: An age: "aged 14", "at age seventeen", "Thomas Sam, 42, and his wife"; the last only for a whole number after a
#: capitalised name and its comma, closed by a comma, "and" or a bracket.
_AGE_BEFORE = re.compile(
    r"\b(?:aged|age|ages|age\s+of|turned|aged\s+between|(?:aged|ages)\s+\d{1,3},?\s+(?:and|or))\s$", re.IGNORECASE
)
#: A name, or a word for a person (and a name), then the comma before the age: "Thomas Sam, 42,", "The former Reds
#: captain, 36,", "her daughter Cassidy, 13,", "daughters Victoria, 15, and Sarah, 19,"; a one-word name only where
#: it opens a sentence ("Pulido, 25, was"; not "arrested in London, 12, were") or follows another age's "and".
_NAME_COMMA_BEFORE = re.compile(
    r"(?:\b[A-Z][a-z][\w'’-]*\s[A-Z][a-z][\w'’-]*|\b"
    + alternation(_PERSON_NOUNS)
    + r"(?:s\s[A-Z][a-z][\w'’-]*|(?:\s[A-Z][a-z][\w'’-]*)?)),\s$"
)
_ONE_NAME_COMMA_BEFORE = re.compile(r"(?:(?<=[.!?]\s)|(?<=\n))([A-Z][a-z]{2,}),\s$")
#: A one-word name after another age and "and": "Victoria, 15, and Sarah, 19," (an age only if the first one is).
_AND_NAME_COMMA_BEFORE = re.compile(r"(?<![\d.,])(\d{1,3}),\sand\s([A-Z][a-z]{2,}),\s$")
_AGE_AFTER = re.compile(r"^(?:,|\)|;|\s+and\b)")
#: After a one-word name's age, the sentence goes on ("Pulido, 25, was abducted"), not a list or a tally
#: ("Republicans, 52, and Democrats, 48", "Tesco, 12, and").
_ONE_NAME_AGE_AFTER = re.compile(r"^,\s+(?!and\b|or\b)[a-z]")
#: A person's age with no "aged": "when she was six", "until he was eighteen and then", "at 18 he chose", "at 40,
#: she". A number a person "was" closes its clause (nothing counted after it, no "of"); "at N" needs the person
#: right after it (not "at 5 the market opened").
_PERSON_WAS_BEFORE = re.compile(
    r"(?:\b(?:[Hh]e|[Ss]he|I)\s+(?:was|is|turned)\s+(?:now\s+|still\s+)?|"
    r"\b[A-Z][a-z][\w'’-]*\s[A-Z][a-z][\w'’-]*\s+(?:is|was)\s+now\s+)$"
)
_CLAUSE_END_AFTER = re.compile(r"^(?:[,.;:)]|\s+(?:and|so|when|but|then|before|after|until|or|that)\b|\s*$)")
_AT_BEFORE = re.compile(r"\b[Aa]t\s$")
#: "at 18 he chose", "At 28, she was"; not "At 30, he said, the shares..." (a price or a time with a speaker)
_PERSON_AFTER = re.compile(r"^,?\s+(?:he|she|I)\b(?!,?\s+(?:said|says|added|told|tells)\b)")


def _is_age(text: str, start: int, end: int) -> bool:
    before = ("\n" if start <= 30 else "") + text[max(0, start - 30) : start]  # the text's start opens a sentence
    if _AGE_BEFORE.search(before):
        return True
    number = text[start:end]
    digits = number.isdigit() and len(number) <= 3
    years = words_value(number) if not number[:1].isdigit() else (int(number) if digits else None)
    if years is None or not 0 < years < 120 or years != int(years):
        return False  # a rating, a score or runs ("Carlsen is 2830", "Root was 254 when")
    after = text[end : end + 24]
    if _PERSON_WAS_BEFORE.search(before) and _CLAUSE_END_AFTER.match(after):
        return True
    if _AT_BEFORE.search(before) and years > 12 and _PERSON_AFTER.match(after):
        return True  # not a clock's hour: "At 5 he left the office"
    if not number.isdigit():
        return False
    if _NAME_COMMA_BEFORE.search(before):
        return bool(_AGE_AFTER.match(after))
    one = _ONE_NAME_COMMA_BEFORE.search(before)
    if one:
        return not _plural_noun(one.group(1)) and bool(_ONE_NAME_AGE_AFTER.match(after))
    window = max(0, start - 40)
    pair = _AND_NAME_COMMA_BEFORE.search(text[window:start])
    return bool(
        pair
        and not _plural_noun(pair.group(2))
        and _AGE_AFTER.match(after)
        and _is_age(text, window + pair.start(1), window + pair.end(1))
    )


def _plural_noun(word: str) -> bool:
    """A plural the dictionary knows ('Republicans', 'Ayes'): a group, not a person's name ('Jones', 'Evans')."""
    known = _dictionary_lemma(word)
    return known is not None and known != word


def _unit(text: str, start: int, end: int, money_before: str | None) -> tuple[str, str, int]:
    """(unit, surface, end of the unit) of the number at ``text[start:end]``."""
    if money_before is not None:
        return _CURRENCY_CODES[money_before.upper()], money_before, end
    m = _POINTS_AFTER.match(text, end)
    if m:
        return "percentage point", m.group(0).strip(), m.end()
    m = _PERCENT_AFTER.match(text, end)
    if m:
        return "percent", m.group(0).strip(), m.end()
    m = _CURRENCY_AFTER.match(text, end)
    if m:
        return _CURRENCY_WORDS[m.group(1).casefold()], m.group(1), m.end()
    m = _MEASURE_AFTER.match(text, end)
    if m and not (m.group(1) == "c" or (m.group(1) == "C" and m.start(1) > end)):  # "30C" and "30°C", not "30 c"
        return normalise_unit(_MEASURES[m.group(1).casefold()]), m.group(1), m.end()
    if _is_age(text, start, end) and not _counted(text, end)[0]:  # "turned 41"; not "turned 90 degrees"
        return "year", "", end
    if _MAGNITUDE_BEFORE.search(text[max(0, start - 12) : start]):
        return "magnitude", "magnitude", end
    compound = _COMPOUND_AFTER.match(text, end)
    if compound and _is_noun(compound.group(1)):  # "a six-member team", "a 12 - person jury"
        return _lemma(compound.group(1)), compound.group(1), compound.end()
    lemma, surface = _counted(text, end)
    if lemma.casefold() in _CURRENCY_WORDS:
        return _CURRENCY_WORDS[lemma.casefold()], surface, end
    return lemma, surface, end


_COMPOUND_AFTER = re.compile(r"\s?-\s?([a-z]{3,})\b(?!-)")


@functools.lru_cache(maxsize=4096)
def _is_noun(word: str) -> bool:
    """A word lemminflect knows as a noun and not as an adjective ('member', 'person'; not 'strong', 'old')."""
    import lemminflect

    return bool(lemminflect.getAllLemmas(word, upos="NOUN")) and not lemminflect.getAllLemmas(word, upos="ADJ")


def _is_verb(word: str) -> bool:
    """A word lemminflect knows as a verb ('protest', 'work', 'need'; not 'officer', 'member')."""
    import lemminflect

    return bool(lemminflect.getAllLemmas(word, upos="VERB"))


def _numbers(text: str) -> Iterable[tuple[int, int, float, str | None]]:
    """(start, end, value, scale word) of every number written in digits or words."""
    taken: list[tuple[int, int]] = []
    for m in _A_SCALE.finditer(text):
        value = words_value(m.group(1))
        if value is not None:
            taken.append((m.start(), m.end()))
            yield m.start(), m.end(), value, None
    for m in _NUMBER.finditer(text):
        if any(a < m.end() and m.start() < b for a, b in taken):
            continue
        if m.group("num"):
            value = float(m.group("num").replace(",", ""))
            scale = (m.group("scale") or "").casefold() or None
            if scale is not None:
                # a lone "b"/"m"/"k" only written against the number ("$4.2b", "5m"), never "5 m" (metres)
                if scale in ("b", "m", "k") and m.group("sp"):
                    yield m.start(), m.start("scale") - len(m.group("sp")), value, None
                    continue
                if scale == "m" and _METRE_AFTER.search(text[m.end() : m.end() + 12]):
                    yield m.start(), m.start("scale"), value, None
                    continue
                value *= (
                    _SCALES[scale]
                    * _SCALES[(m.group("scale2") or "k").casefold()]
                    / (1e3 if not m.group("scale2") else 1)
                )
            yield m.start(), m.end(), value, scale
        else:
            words = m.group("words")
            value = words_value(words)
            if value is None:
                continue
            yield m.start(), m.end(), value, None


_RANGE_BETWEEN = re.compile(r"^\s*(?:-|–|—|to|and|or)\s*(?:US)?[$€£¥₹]?$")


def find_quantities(text: str, dates: Iterable[tuple[int, int]] = ()) -> list[QuantityHit]:
    """Every quantity ``text`` states, in order (see the module's docstring); ``dates``: the spans of its date
    expressions, whose numbers are not quantities unless they count time ("the past two years")."""
    date_spans = list(dates)
    found: list[QuantityHit] = []
    for start, end, value, scale in _numbers(text):
        if _skip(text, start, end) is not None:
            continue
        money = _CURRENCY_BEFORE.search(text[max(0, start - 4) : start])
        money_before = money.group(1) if money else None
        if money_before is None and scale in ("b", "k"):
            value /= _SCALES[scale]  # "5k run", "4b": only money takes the short scales
            end = start + len(text[start:end].rstrip("bkBK"))
        if any(a < end and start < b for a, b in date_spans):
            after = text[end : end + 12].lstrip().casefold()
            if not any(after.startswith(w.rstrip("s")) for w in _DURATION_UNITS):
                continue  # a date's number; a duration inside a date ("the past two years") stays
        unit, surface, unit_end = _unit(text, start, end, money_before)
        left = start - (len(money.group(0)) if money else 0)  # the bound and the sign stand before the money sign
        if money and text[left - 1 : left] == "Â":
            left -= 1  # "over Â£300m": a pound sign read in the wrong encoding
        negative = re.search(r"(?:(?:^|[\s(\[])[-−–]|\bminus\s)$", text[max(0, left - 7) : left], re.IGNORECASE)
        bound = _bound_before(text, left)
        more = _OR_MORE_AFTER.match(text[unit_end : unit_end + 30]) if bound == "=" else None
        if more:
            bound = ">=" if more.group(1).casefold() == "more" else "<="
        change: Change | None = None
        cm = _CHANGE_BEFORE.search(text[max(0, left - 40) : left]) or _CHANGE_BY.search(text[max(0, left - 100) : left])
        if cm:
            change = "up" if cm.group("up") else "down"
        else:  # "a 5% rise", "a $2m cut": a change written after a rate or an amount of money
            ca = _CHANGE_AFTER.match(text[unit_end : unit_end + 20])
            if ca is not None and (unit in ("percent", "percentage point") or money_before is not None):
                change = "up" if ca.group("up") else "down"
        found.append(
            QuantityHit(
                start=start,
                end=end,
                value=-value if negative else value,
                unit=unit,
                surface=surface,
                bound=bound,
                change=change,
            )
        )
    found += _fractions(text, found) + _vague(text, found)
    found += _times(text, found)
    found.sort(key=lambda q: q.start)
    return _conversions(text, _ranges(text, found))


#: A quantity restated in brackets right after another: "about 500 miles (800 km)".
_CONVERSION_BETWEEN = re.compile(r"^[^()\n]{0,25}\(\s*(?:US)?[$€£¥₹]?\s*$")


def _conversions(text: str, found: list[QuantityHit]) -> list[QuantityHit]:
    """A conversion in brackets shares the bound of the quantity it restates."""
    for i in range(1, len(found)):
        prev, q = found[i - 1], found[i]
        measure = q.unit and has_concept(q.unit) and q.unit not in ("fraction", "time")
        if measure and q.bound == "=" and prev.bound != "=" and _CONVERSION_BETWEEN.match(text[prev.end : q.start]):
            found[i] = replace(q, bound=prev.bound)
    return found


_HALF = {"half": 0.5, "a quarter": 0.25, "three quarters": 0.75}


def _bound_before(text: str, start: int) -> Bound:
    m = _BOUND_BEFORE.search(text[max(0, start - 30) : start])
    return BOUNDS[m.group(1).casefold()] if m else "="


def _fractions(text: str, found: list[QuantityHit]) -> list[QuantityHit]:
    out = []
    for m in _FRACTION.finditer(text):
        if m.group("half"):  # "half an hour", "half a million people", "a quarter of a mile"
            value = _HALF[" ".join(m.group("half").casefold().split())]
            what = m.group("what").casefold()
            if what in _WORD_SCALES or what == "dozen":
                value *= 12 if what == "dozen" else _WORD_SCALES[what]
                unit, surface, _ = _unit(text, m.start(), m.end(), None)
                end = m.end()
            elif what in _MEASURES:
                unit, surface, end = (
                    normalise_unit(_MEASURES[what]),
                    m.group("what"),
                    m.start("half") + len(m.group("half")),
                )
            else:
                continue
            start = m.start("half")
            out.append(
                QuantityHit(
                    start=start, end=end, value=value, unit=unit, surface=surface, bound=_bound_before(text, start)
                )
            )
            continue
        if m.group("n"):
            d = float(m.group("d"))
            if d == 0:
                continue
            value = float(m.group("n")) / d
        else:
            count = (m.group("count") or m.group("count2") or "a").casefold()
            parts = _FRACTIONS[(m.group("part") or m.group("part2")).casefold()]
            value = (1 if count in ("a", "one") else _WORD_UNITS.get(count, 1)) / parts
        part = "part" if m.group("part") else "part2"
        start = m.start() if m.group("n") or m.group("count") or m.group("count2") else m.start(part)
        end = m.end("d") if m.group("n") else m.end(part)
        out.append(
            QuantityHit(
                start=start,
                end=end,
                value=value,
                unit="fraction",
                surface=text[start:end],
                bound=_bound_before(text, start),
            )
        )
    for m in _ONE_IN.finditer(text):  # "one in three visits"
        top, bottom = (words_value(m.group(g)) or _float(m.group(g)) for g in ("n", "d"))
        if top and bottom and top < bottom:
            out.append(
                QuantityHit(
                    start=m.start(),
                    end=m.end(),
                    value=top / bottom,
                    unit="fraction",
                    surface=text[m.start() : m.end()],
                    bound=_bound_before(text, m.start()),
                )
            )
    # a fraction's own digits ("1/16") and count words ("two-thirds") are not quantities of their own
    for q in out:
        found[:] = [f for f in found if not (q.start <= f.start and f.end <= q.end)]
    return out


def _float(text: str) -> float | None:
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def _times(text: str, found: list[QuantityHit]) -> list[QuantityHit]:
    """'twice', 'thrice': a count of events (``time``)."""
    return [
        QuantityHit(start=m.start(), end=m.end(), value=2.0 if m.group("word").casefold() == "twice" else 3.0,
                    unit="time", surface="", bound=_bound_before(text, m.start()))
        for m in _TWICE.finditer(text)
        if not any(f.start < m.end() and m.start() < f.end for f in found)
    ]  # fmt: skip


def _vague(text: str, found: list[QuantityHit]) -> list[QuantityHit]:
    out = []
    for m in _VAGUE.finditer(text):
        word = m.group("alone") or m.group("tens")
        if word[0].isupper() and m.start() > 0 and not re.search(r"(?:^|[.!?\"“]\s*|\n\s*)$", text[: m.start()]):
            continue  # "Fans of Billions cheered": a title
        if m.group("alone"):
            value = _VAGUE_VALUE[m.group("alone").casefold()]
            end = m.end("alone")
        else:
            value = _VAGUE_VALUE[m.group("tens").casefold()] * _VAGUE_VALUE[m.group("of").casefold()]
            end = m.end("of")
        lemma, surface = _counted(text, end) if re.search(r"\sof$", m.group(0), re.IGNORECASE) else ("", "")
        unit = _CURRENCY_WORDS.get(surface.casefold(), _CURRENCY_WORDS.get(lemma.casefold(), lemma))
        out.append(QuantityHit(start=m.start(), end=end, value=value, unit=unit, surface=surface, bound=">"))
    for q in out:
        found[:] = [f for f in found if not (q.start <= f.start and f.end <= q.end)]
    return out


def _ranges(text: str, found: list[QuantityHit]) -> list[QuantityHit]:
    """'10-20 people', 'between 10 and 20', 'from $5m to $7m': one quantity, ``value`` the low end."""
    out: list[QuantityHit] = []
    i = 0
    while i < len(found):
        q = found[i]
        nxt = found[i + 1] if i + 1 < len(found) else None
        if nxt is not None and q.value <= nxt.value and _RANGE_BETWEEN.match(text[q.end : nxt.start]):
            opener = re.search(
                r"\b(between|from)\s+(?:US)?[$€£¥₹]?\s*$", text[max(0, q.start - 14) : q.start], re.IGNORECASE
            )
            joiner = text[q.end : nxt.start].strip().casefold()
            # "one or two points", "10 or 20 people": an estimate between two close numbers, not a choice
            loose = joiner == "or" and (
                (q.unit and nxt.unit and q.unit != nxt.unit) or not q.value < nxt.value <= 10 * q.value
            )
            if (
                loose
                or (joiner == "and" and opener is None)
                or (joiner == "to" and not q.unit and not nxt.unit and not opener)
            ):
                out.append(q)
                i += 1
                continue
            unit, surface = (nxt.unit, nxt.surface) if not q.unit else (q.unit, q.surface)
            out.append(
                replace(
                    q,
                    end=nxt.end,
                    unit=unit,
                    surface=surface,
                    low=q.value,
                    high=nxt.value,
                    change=q.change or nxt.change,
                )
            )
            i += 2
            continue
        out.append(q)
        i += 1
    return out


# ------------------------------------------------------------------------------------------ the concept, from a parse

#: Dependencies that keep a token inside the quantity's own phrase ("$ 5 million", "19 per cent", "12 km").
_PHRASE_DEPS = frozenset(["nummod", "compound", "quantmod", "nmod", "amod"])
#: Left dependents of a concept's head word that are kept ("the unemployment rate" -> "unemployment rate").
_CONCEPT_LEFT = frozenset(["compound", "amod", "nmod", "poss"])
CONCEPT_TOKENS = 6


@functools.lru_cache(maxsize=1)
def _measured_units() -> frozenset[str]:
    return frozenset(
        [*_CURRENCY_WORDS.values(), "percent", "percentage point", "fraction", "magnitude", "", "time"]
        + [normalise_unit(v) for v in _MEASURES.values()]
    )


def has_concept(unit: str) -> bool:
    """A unit that does not say what is measured (money, a rate, a measure, a bare number), unlike a counted noun
    ("92 citizens"), which is its own concept."""
    return unit in _measured_units()


def concept_of(parsed: Any, start: int, end: int) -> str | None:
    """What the quantity at ``[start, end)`` measures, from a dependency parse of the article (spaCy's ``Doc``):
    the noun after "of" ("40 hectares of forest" -> "forest"), the noun it belongs to ("a rate of 4%" -> "rate"),
    else the subject of the verb it hangs on ("Profits rose 19 per cent" -> "Profits", "The road is 12 km long" ->
    "road"). None when the parse gives none, or gives a pronoun."""
    span = parsed.char_span(start, end, alignment_mode="expand")
    if span is None or len(span) == 0:
        return None
    number = next((t for t in span if t.like_num or t.pos_ == "NUM"), span.root)
    head = number
    for _ in range(6):  # up the quantity's own phrase: "19" -> "cent", "5" -> "million"
        if head.dep_ not in _PHRASE_DEPS or head.head is head or head.head.pos_ not in ("NOUN", "NUM", "SYM", "X"):
            break
        head = head.head
    for child in head.rights:  # "40 hectares of forest", "5% of the vote"
        if child.dep_ == "prep" and child.lower_ == "of":
            objects = [c for c in child.children if c.dep_ == "pobj"]
            if objects:
                return _phrase(objects[0], number.i)
    above = head.head
    if head.dep_ == "pobj" and above.dep_ == "prep":  # "fell by 4%", "a rate of 4%"
        above = above.head
    if above.pos_ in ("NOUN", "PROPN") and above is not head:
        return _phrase(above, number.i)
    if above.pos_ == "ADJ":  # "is worth $4.2bn", "is 12 km long"
        above = above.head
    if above.pos_ in ("VERB", "AUX"):
        subject = next((c for c in above.children if c.dep_ in ("nsubj", "nsubjpass")), None)
        if subject is not None and not (subject.i <= number.i < subject.right_edge.i + 1):
            return _phrase(subject, number.i)
    return None


def _phrase(token: Any, number: int) -> str | None:
    """A noun with its compounds, adjectives and an "of" phrase after it, without determiners: "the unemployment
    rate" -> "unemployment rate", "Prices of wheat"; None for a pronoun or what is no noun."""
    if token.pos_ not in ("NOUN", "PROPN"):
        return None
    left = token.i
    for child in sorted(token.lefts, key=lambda t: -t.i):
        if child.dep_ not in _CONCEPT_LEFT or child.i != left - 1:
            break
        left = child.i
    right = token.i
    for child in token.rights:
        of = child.dep_ == "prep" and child.lower_ == "of" and child.i == token.i + 1
        if of and not child.i <= number <= child.right_edge.i:  # "a rate of 4.5%" -> "rate", not the number itself
            right = child.right_edge.i
        break
    if right - left + 1 > CONCEPT_TOKENS:
        right = token.i
    return str(token.doc[left : right + 1].text)
