"""Rule-based tagging and normalisation of date and time expressions in English news text.

Pure Python, standard library only. Three entry points:

* :func:`find_dates` tags every date/time expression in a text and resolves it against the publication
  date the caller passes (``published``), the way a news reader would.
* :func:`normalize_date` normalises one expression (more lenient: the caller says it is a date).
* :func:`parse_published` turns ``'2018-01-26'``, a ``date`` or a ``datetime`` into a ``date``.

Offsets are Python ``str`` indices into the exact text passed in, so ``text[hit.start:hit.end] == hit.text``
holds for any text (accents, CJK, emoji).

Values (ISO 8601 and TIMEX3 conventions)
-----------------------------------------
========================  ====================================  ======================================
expression                value                                 GUM (``when`` / ``from``+``to``) mapping
========================  ====================================  ======================================
day                       ``YYYY-MM-DD``                        ``when`` equal
month                     ``YYYY-MM``                           ``when`` equal
year                      ``YYYY``                              ``when`` equal
decade ("the 1970s")      ``YYYX`` (``197X``)                   (no GUM example)
century                   ``YYXX`` ("the 19th century" 18XX)    (no GUM example)
week ("last week")        ``YYYY-Www`` (ISO week, Mon-Sun)      ``from``/``to`` = that Monday/Sunday
weekend                   ``YYYY-Www-WE``                       ``from``/``to`` = that Saturday/Sunday
clock time ("15:11 GMT")  ``HH:MM:SS`` (zone dropped)           ``when`` equal (GUM ``<time>``)
end of a period           last day: ``YYYY-12-31``              ``when`` equal
vague period              ``None`` (see below)                  ``notBefore``/``notAfter`` (not scored)
========================  ====================================  ======================================

GUM resolves relative expressions against the article's own dateline (e.g. "Tuesday, June 19, 2018" on the
second line), not the ``date_created`` metadata; pass whichever date you trust as ``published``.
Ranges ("from 2004 to 2009", "2000 - 2050", "July 2003 and December 2004") are tagged as their separate
end points, as GUM does. Durations without an anchor ("for twelve years", "two weeks") are not tagged.

Resolution rules (news conventions, relative to ``published``)
--------------------------------------------------------------
* A bare weekday ("Thursday", "on Thursday", "late on Thursday" -> span "Thursday") is the most recent such
  day on or before ``published``; the publication weekday itself is ``published``. If its clause is future
  tense ("will meet on Friday", "On Wednesday, they are to travel"), the next such day on or after is used.
  Tense is read from the clause (cut at sentence ends, ";", ", and", ", but", dashes): the nearest tense
  marker *before* the expression decides ("said on Thursday it will ..." is past), else the nearest after;
  markers are will/'ll/shall/is to/due to/set to/plans to/... (future) and was/were/had/said/-ed forms
  (past; passive participles after "be"/"been" are ignored).
  "last Tuesday" is the most recent one strictly before, "next Friday"/"this coming Friday" the first one
  strictly after, "this Friday" the one in the same ISO week.
* Month and day without a year ("January 25") take the publication year, or the previous year when that would
  be more than ~6 months (183 days) after ``published`` or after it at all in a past-tense clause ("she died
  on March 12" in January); the next year in a future-tense clause when the date would otherwise be past and
  the next one is within ~6 months. A day range "January 26-28, 2018" is one hit valued at its first day.
* A month without a year ("in October") is the nearest such month not after the publication month (the
  nearest not before it in a future-tense clause); "last October" is strictly before the publication month,
  "next October" strictly after, "this October" in the publication year.
* today / tonight / this morning / this afternoon / this evening / earlier today -> ``published``;
  yesterday, last night -> the day before; tomorrow -> the day after.
* this/last/next week -> ISO week; this/last/next month -> ``YYYY-MM``; this/last/next year -> ``YYYY``;
  "earlier this month", "late last year" and the like take the value of the period.
* "N days ago" -> a day, "N weeks ago" -> an ISO week, "N months ago" -> a month, "N years ago" -> a year,
  "N decades ago" -> a decade; "N hours/minutes ago" -> the day it falls on.
* "this weekend" is the most recent weekend in a past-tense clause, the coming one in a future-tense clause,
  and otherwise the last one when published Monday-Wednesday, the coming one Thursday-Sunday.
* "the end of the year/month", "the end of 2017", "the end of October" -> the last day of that period.
* Clock times: "15:11 GMT", "8:49 PM", "3 p.m.", "10.30am", "0900 GMT", "noon", "midnight" -> ``HH:MM:SS``
  (a bare "10:30" needs a preposition such as "at"/"by"/"until" before it).
* Fixed-date holidays (Christmas, Christmas Eve, New Year's Day/Eve, Valentine's Day, Halloween, Boxing Day)
  resolve like a month and day without a year.

What is *not* tagged, or is tagged with ``value=None``
----------------------------------------------------------
* Bare adverbs are **not tagged**: "now", "currently", "recently", "years ago" (no number), "later",
  "every year". Neither are durations ("for 15 years"), ages ("14-year-old") or narrative-relative
  expressions ("the next day", "two weeks later").
* Expressions that are clearly dates but denote a vague or rolling period are **tagged with value None**:
  "the past few days", "the last two years", "over the past week", "in recent years", "the coming weeks",
  "a few years ago", "several months ago".
* Anything relative (weekdays, "yesterday", "January 25", ...) is tagged with ``value=None`` when
  ``published`` is None. (``published`` may also be a ``datetime`` or an ISO string at run time; it goes
  through :func:`parse_published`.)
* Not supported (known gaps): seasons ("last summer"), quarters ("Q1 2018"), moveable feasts (Easter),
  event-relative expressions ("day five", "the opening night", "four months in advance of the competition"),
  quotes whose "today" means the day the quote was given, and non-English text.

False-positive guards
---------------------
Month names must be capitalised; a month name alone needs a preposition or modifier ("in May", "last
March", "early June") and may not be followed by a capitalised word ("by August Wilson"); "May", "March",
"April", "June" and "August" accept fewer prepositions (not "by", "of", "from", "to"). A four-digit number
is a year only when it is 1000-2099, stands alone (not "2,000", "1.5", "$ 2000", "2000%"), is not followed
by a count noun or unit ("1500 people", "2000 year old") and, for 1000-1799, has temporal context ("in
1500", "1500 AD").
Approximators ("about 2000", "more than 2000") rule a year out unless it is part of a year range.
"""

from __future__ import annotations

import bisect
import calendar
import datetime as _dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

__all__ = ["RULES", "DateHit", "DateRule", "find_dates", "normalize_date", "parse_published"]


@dataclass(frozen=True)
class DateHit:
    """One date/time expression: ``text == source[start:end]``; ``value`` is ISO 8601 (see module doc)."""

    start: int
    end: int
    text: str
    value: str | None


# ---------------------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------------------

_MONTHS: dict[str, int] = {
    "january": 1,
    "february": 2,
    "march": 3,
    "april": 4,
    "may": 5,
    "june": 6,
    "july": 7,
    "august": 8,
    "september": 9,
    "october": 10,
    "november": 11,
    "december": 12,
}
_MONTH_ABBR: dict[str, int] = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "sept": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_WEEKDAYS: dict[str, int] = {
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}


def _words(s: str) -> frozenset[str]:
    return frozenset(s.split())


def _alt(words: list[str]) -> str:
    return "|".join(sorted(words, key=len, reverse=True))


_MONTH_FULL = _alt([m.capitalize() for m in _MONTHS] + [m.upper() for m in _MONTHS])
_MONTH_SHORT = r"(?:" + _alt([a.capitalize() for a in _MONTH_ABBR]) + r")\.?"
_MON = rf"(?:{_MONTH_FULL}|{_MONTH_SHORT})(?![A-Za-z])"
_WD = r"(?:" + _alt([w.capitalize() for w in _WEEKDAYS] + [w.upper() for w in _WEEKDAYS]) + r")"
_DAY = r"(?<![\d.,])(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?(?![\d]|[.:]\d|,\d{3}(?!\d))"
_Y4 = r"(?:1\d{3}|20\d{2})(?![\d])"

NUM_UNITS: dict[str, int] = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
NUM_TENS: dict[str, int] = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_ONES = "one|two|three|four|five|six|seven|eight|nine"
_NUM = (
    rf"(?:\d{{1,3}}(?![\d,.])|(?:{_alt(list(NUM_TENS))})(?:[-\s](?:{_ONES}))?"
    rf"|{_alt([w for w in NUM_UNITS if w not in ('a', 'an')])}|an?)"
)

_TZ = (
    r"(?:GMT|UTC|BST|CET|CEST|EET|EEST|EST|EDT|CST|CDT|MST|MDT|PST|PDT|IST|JST|KST|HKT|SGT|AEST|AEDT|AWST"
    r"|ET|PT|CT|MT|Z|local\s+time)(?![A-Za-z])"
)

# Count nouns and units: a number right before one of these is a quantity, not a year.
_COUNT_NOUNS = _words(
    """people persons men women children kids boys girls babies students schoolchildren pupils teachers
    soldiers troops police policemen officers workers employees staff residents inhabitants citizens
    civilians refugees migrants immigrants protesters protestors demonstrators fans spectators visitors
    tourists participants delegates members voters votes patients cases deaths dead victims casualties
    injured families households homes houses buildings jobs animals birds cattle sheep trees miles mile
    km kilometres kilometers kilometre kilometer metres meters metre meter m ft feet foot yards inches
    acres hectares square tons tonnes ton tonne kg kilograms grams pounds lbs lb ounces litres liters
    gallons barrels dollars euros yen yuan rupees pesos francs pounds units vehicles cars trucks ships
    boats aircraft planes jets tanks guns weapons rockets missiles signatures copies times year years yr
    yrs days months weeks hours minutes seconds calories points goals runs words pages letters emails
    messages rooms beds seats schools companies firms stores shops branches sites locations villages
    towns cities countries flights passengers customers users subscribers followers views downloads
    games matches products items pieces samples species cells bottles boxes bags packages doses tests
    tweets posts articles books titles films songs per percent"""
)
# Plural nouns that do follow years ("1990 levels", "the 2016 elections").
_YEAR_NOUNS = _words(
    """levels elections games olympics figures prices rates standards results estimates accounts accords
    protests riots floods attacks talks negotiations championships finals playoffs primaries polls
    midterms budgets values emissions numbers data census statistics records awards nominations rankings"""
)
_APPROX = _words(
    "about around approximately nearly almost some over than roughly only just estimated least up under exactly"
)
_TEMPORAL_PREP = _words(
    "in since until till by from to through throughout during before after circa c ca year years early mid"
    " late between and or of the spring summer autumn fall winter"
)
_STRONG_YEAR_PREP = _words("in since until till during before after")
_UNITS = _words(
    """miles mile km kilometres kilometers metres meters m ft feet yards inches acres hectares tons tonnes
    kg kilograms grams pounds lbs lb ounces litres liters gallons barrels dollars euros yen yuan rupees
    pesos francs per percent year years yr yrs days months weeks hours minutes seconds calories"""
)
_QUANTITY_HEADS = _words(
    """total population crowd maximum minimum average sum score tally capacity group team force army fleet
    fine budget salary cost price bill debt loss profit revenue"""
)
_OLD_YEAR_PREP = _words("in since until till from during before after circa c ca year early mid late")
_NOT_YEAR_PREV = _words(
    """no number nos room flight route highway page pages pp section article chapter resolution model rule
    bus platform gate channel code interstate line item seat box suite unit apartment apt"""
)
_MONTH_PREP = _words(
    "in on since until till through throughout during before after by from to of between and or early mid"
    " late last next this"
)
_MONTH_PREP_AMBIG = _words("in since until till through throughout during before after")
_AMBIG_MONTHS = frozenset({5, 3, 4, 6, 8})
_WEEKDAY_BLOCK_BEFORE = _words("Good Black Super Ash Cyber Bloody Easter Palm Maundy Holy Shrove Fat Giving Man Girl")
_WEEKDAY_BLOCK_AFTER = _words(
    """Times Telegraph Mirror Express Post Herald Mail Star Independent Tribune Observer School Schools
    Service Market Club Edition Magazine Review Sport Sports Night Morning Evening Afternoon Football"""
)
_PAST_WORDS = _words(
    """was were had did said told went came took made gave met held began begun won lost left saw wrote
    found rose fell ran got brought sent spent kept paid sold bought heard thought felt became struck
    chose spoke led knew fled fought shot stood sat drew grew threw broke caught taught meant wore beat
    withdrew sought hung flew swept sank shook tore stole woke froze hid ago yesterday"""
)
_NOT_PAST_ED = _words(
    """scheduled expected planned slated proposed needed intended supposed aimed hundred need feed seed
    deed heed weed speed breed greed bleed sacred naked wicked kindred beloved"""
)
_FUTURE_WORDS = _words("will shall won't upcoming tomorrow scheduled slated")
_FUTURE_BIGRAMS = _words(
    """going_to due_to set_to plans_to plan_to planning_to expected_to is_to are_to intends_to aims_to
    hopes_to"""
)

_HOLIDAYS: dict[str, tuple[int, int]] = {
    "christmas eve": (12, 24),
    "christmas day": (12, 25),
    "christmas": (12, 25),
    "new year's eve": (12, 31),
    "new year's day": (1, 1),
    "new year's": (1, 1),
    "valentine's day": (2, 14),
    "halloween": (10, 31),
    "boxing day": (12, 26),
}


# ---------------------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------------------


def parse_published(value: str | _dt.date | _dt.datetime | None) -> _dt.date | None:
    """Return the publication date as a ``date`` (None stays None).

    Accepts a ``date``, a ``datetime`` (its date is used), an ISO string ("2018-01-26",
    "2018-01-26T20:49:00Z") or a full written date ("January 26, 2018"). Raises ``ValueError`` for a string
    that is not one full date, and ``TypeError`` for any other type.
    """
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    if not isinstance(value, str):
        raise TypeError(f"published must be a str, date, datetime or None, not {type(value).__name__}")
    s = value.strip()
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?", s)
    if m:
        try:
            return _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError as exc:
            raise ValueError(f"published {value!r} is not a valid calendar date: {exc}") from None
    if s:
        v = normalize_date(s)
        if v is not None and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
            return _dt.date.fromisoformat(v)
    raise ValueError(
        f"cannot read publication date {value!r}: expected an ISO date like '2018-01-26', "
        "a full written date like 'January 26, 2018', a datetime.date or a datetime.datetime"
    )


def find_dates(text: str, published: _dt.date | None = None) -> list[DateHit]:
    """Tag the date/time expressions in ``text``, resolved against ``published``.

    Returns hits sorted by start, never overlapping (the longest candidate wins). See the module docstring
    for the value formats and the resolution rules.
    """
    return _find(text, _coerce(published), lenient=False)


def normalize_date(expression: str, published: _dt.date | None = None) -> str | None:
    """Normalise one date expression to ISO 8601 (see the module docstring), or None.

    The expression is trusted to be a date, so context checks are relaxed ("May", "1500" are accepted). If it
    holds several expressions, the value of the longest one is returned.
    """
    hits = _find(expression, _coerce(published), lenient=True)
    if not hits:
        return None
    best = max(hits, key=lambda h: (h.end - h.start, -h.start))
    return best.value


def _coerce(published: object) -> _dt.date | None:
    if published is None or (isinstance(published, _dt.date) and not isinstance(published, _dt.datetime)):
        return published
    return parse_published(published)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------------
# Machinery
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Cand:
    start: int
    end: int
    value: str | None
    prio: int = 0


@dataclass(frozen=True)
class _Ctx:
    text: str
    pub: _dt.date | None
    lenient: bool


_Rule = Callable[[_Ctx], Iterator[_Cand]]
_RULES: list[_Rule] = []


@dataclass(frozen=True)
class DateRule:
    """One kind of date expression, as data: its id, why it is read so, the texts it must find a date in
    (``examples``, published 2018-01-26) and those it must find none in (``counter_examples``)."""

    id: str
    reason: str
    find: _Rule
    examples: tuple[str, ...]
    counter_examples: tuple[str, ...]


#: Every date rule, in the order they run (one longest-match resolver picks among their candidates).
RULES: list[DateRule] = []


def _rule(
    id: str, reason: str, *, examples: tuple[str, ...], counter_examples: tuple[str, ...]
) -> Callable[[_Rule], _Rule]:
    def register(fn: _Rule) -> _Rule:
        _RULES.append(fn)
        RULES.append(DateRule(id, reason, fn, examples, counter_examples))
        return fn

    return register


def _find(text: str, pub: _dt.date | None, lenient: bool) -> list[DateHit]:
    ctx = _Ctx(text, pub, lenient)
    cands: list[_Cand] = []
    for rule in _RULES:
        cands.extend(rule(ctx))
    cands.sort(key=lambda c: (-(c.end - c.start), -c.prio, c.start))
    taken: list[_Cand] = []  # kept sorted by start; its spans never overlap
    starts: list[int] = []
    for c in cands:
        if c.end <= c.start:
            continue
        i = bisect.bisect_left(starts, c.start)
        if i < len(taken) and taken[i].start < c.end:
            continue  # overlaps the next taken span
        if i > 0 and taken[i - 1].end > c.start:
            continue  # overlaps the previous one
        taken.insert(i, c)
        starts.insert(i, c.start)
    return [DateHit(c.start, c.end, text[c.start : c.end], c.value) for c in taken]


_WORD_RE = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)*|[^\sA-Za-z0-9]")


def _prev_tokens(text: str, pos: int, n: int = 2) -> list[str]:
    """The ``n`` tokens (words or punctuation marks) right before ``pos``, in text order."""
    window = text[max(0, pos - 80) : pos]
    toks = _WORD_RE.findall(window)
    if pos - 80 > 0 and toks and window[:1].isalnum():
        toks = toks[1:]  # the first one may be cut
    return toks[-n:]


def _next_tokens(text: str, pos: int, n: int = 2) -> list[str]:
    window = text[pos : pos + 80]
    toks = _WORD_RE.findall(window)
    return toks[:n]


def _prev_word(text: str, pos: int) -> str:
    toks = _prev_tokens(text, pos, 1)
    return toks[0] if toks else ""


def _next_word(text: str, pos: int) -> str:
    toks = _next_tokens(text, pos, 1)
    return toks[0] if toks else ""


_CLAUSE_BREAK = r"(?<![A-Z])[.!?][\"”’)]?(?=\s|$)|\n|;|,\s+(?:and|but|while|whereas)\s|\s[—–]\s"


def _clause_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """The clause around [start, end): cut at sentence ends, line breaks, ';', ', and', ', but', dashes."""
    lo = max(0, start - 300)
    left = lo
    for m in re.finditer(_CLAUSE_BREAK, text[lo:start]):
        left = lo + m.end()
    hi = min(len(text), end + 300)
    m2 = re.search(_CLAUSE_BREAK, text[end:hi])
    right = end + m2.start() if m2 else hi
    return left, right


def _tense_marker(words: list[str], i: int) -> int:
    w = words[i]
    lw = w.lower().replace("’", "'")
    nxt = words[i + 1].lower() if i + 1 < len(words) else ""
    if lw in _FUTURE_WORDS or lw.endswith("'ll") or f"{lw}_{nxt}" in _FUTURE_BIGRAMS:
        return 1
    prv = words[i - 1].lower() if i > 0 else ""
    if prv in ("be", "been", "being"):
        return 0  # a passive participle: "will be held", "has been scheduled"
    if lw in _PAST_WORDS:
        return -1
    if w.islower() and len(w) >= 4 and w.endswith("ed") and lw not in _NOT_PAST_ED:
        return -1
    return 0


def _tense(text: str, start: int, end: int) -> int:
    """+1 if the clause around [start, end) is future tense, -1 past, 0 unknown.

    The verb that governs a time adverbial usually comes before it ("will meet on Monday", "said on
    Thursday it will ..."), so the nearest tense marker before the expression decides; only when there is
    none does the nearest one after it ("On Wednesday, the team is to travel").
    """
    left, right = _clause_bounds(text, start, end)
    word = r"[A-Za-z]+(?:['’][A-Za-z]+)?"
    before = re.findall(word, text[left:start])
    for i in range(len(before) - 1, -1, -1):
        k = _tense_marker(before, i)
        if k:
            return k
    after = re.findall(word, text[end:right])
    for i in range(len(after)):
        k = _tense_marker(after, i)
        if k:
            return k
    return 0


# ---------------------------------------------------------------------------------------------------------
# Value helpers
# ---------------------------------------------------------------------------------------------------------


def _iso_week(d: _dt.date) -> str:
    y, w, _ = d.isocalendar()
    return f"{y}-W{w:02d}"


def _add_months(y: int, m: int, k: int) -> tuple[int, int]:
    idx = y * 12 + (m - 1) + k
    return idx // 12, idx % 12 + 1


def _month_value(y: int, m: int) -> str:
    return f"{y:04d}-{m:02d}"


def _last_day(y: int, m: int) -> str:
    return _dt.date(y, m, calendar.monthrange(y, m)[1]).isoformat()


def _safe_date(y: int, m: int, d: int) -> _dt.date | None:
    try:
        return _dt.date(y, m, d)
    except ValueError:
        return None


def _month_num(word: str) -> int:
    w = word.lower().rstrip(".")
    return _MONTHS.get(w) or _MONTH_ABBR[w]


def _parse_num(word: str) -> int:
    w = word.lower().strip()
    if w.isdigit():
        return int(w)
    parts = re.split(r"[-\s]+", w)
    total = 0
    for p in parts:
        total += NUM_TENS.get(p, 0) or NUM_UNITS.get(p, 0)
    return total


def _resolve_month_day(m: int, d: int, pub: _dt.date, tense: int) -> _dt.date | None:
    cand = _safe_date(pub.year, m, d)
    if cand is None:
        return None
    if (cand - pub).days > 183 or (tense < 0 and cand > pub):
        return _safe_date(pub.year - 1, m, d)
    if tense > 0 and cand < pub:
        nxt = _safe_date(pub.year + 1, m, d)
        if nxt is not None and (nxt - pub).days <= 183:
            return nxt
    return cand


def _resolve_month(m: int, pub: _dt.date, mode: str, tense: int) -> tuple[int, int]:
    y = pub.year
    if mode == "last":
        y = pub.year if m < pub.month else pub.year - 1
    elif mode == "next":
        y = pub.year if m > pub.month else pub.year + 1
    elif mode == "this":
        y = pub.year
    elif tense > 0:
        y = pub.year if m >= pub.month else pub.year + 1
    else:
        y = pub.year if m <= pub.month else pub.year - 1
    return y, m


def _resolve_weekday(wd: int, pub: _dt.date, mode: str, tense: int) -> _dt.date:
    back = (pub.weekday() - wd) % 7
    fwd = (wd - pub.weekday()) % 7
    if mode == "last":
        return pub - _dt.timedelta(days=back or 7)
    if mode == "next":
        return pub + _dt.timedelta(days=fwd or 7)
    if mode == "this":
        return pub - _dt.timedelta(days=pub.weekday()) + _dt.timedelta(days=wd)
    if tense > 0:
        return pub + _dt.timedelta(days=fwd)
    return pub - _dt.timedelta(days=back)


def _weekend(pub: _dt.date, mode: str, tense: int) -> str:
    wd = pub.weekday()
    if mode == "last":
        sat = pub - _dt.timedelta(days=wd + 2)  # the Saturday of the previous ISO week
    elif mode == "next":
        sat = pub - _dt.timedelta(days=wd) + _dt.timedelta(days=12)
    else:
        past = tense < 0 or (tense == 0 and wd <= 2)
        if mode == "past":
            past = True
        elif mode == "coming":
            past = False
        if wd >= 5:
            sat = pub - _dt.timedelta(days=wd - 5)
        elif past:
            sat = pub - _dt.timedelta(days=wd + 2)
        else:
            sat = pub + _dt.timedelta(days=5 - wd)
    return _iso_week(sat) + "-WE"


def _capitalised_mid_sentence(text: str, start: int) -> bool:
    """True if text[start] is upper case and the word does not open a sentence, line or quote."""
    if not text[start : start + 1].isupper():
        return False
    i = start - 1
    while i >= 0 and text[i] in " \t":
        i -= 1
    if i < 0:
        return False
    return text[i] not in "\n.!?:;\"“‘'(—–-[" and not text[i].isdigit()


# ---------------------------------------------------------------------------------------------------------
# Rules. Each yields candidates; _find keeps the longest non-overlapping ones.
# ---------------------------------------------------------------------------------------------------------

_RE_MDY = re.compile(
    rf"(?:(?P<wd>{_WD})(?:['’]s)?,?\s+)?(?P<mon>{_MON})\s*(?P<day>{_DAY})(?:\s*[-–]\s*{_DAY})?"
    rf"(?:(?:,\s*|\s+)(?P<year>{_Y4}))?"
)
_RE_DMY = re.compile(
    rf"(?:(?P<wd>{_WD}),?\s+)?(?:the\s+)?(?P<day>{_DAY})(?:\s+of)?\s+(?P<mon>{_MON})"
    rf"(?:,?\s+(?P<year>{_Y4}))?"
)
_RE_MY = re.compile(rf"(?P<mon>{_MON}),?(?:\s+of)?\s+(?P<year>{_Y4})")


@_rule(
    "month-day",
    "a month name with a day, with or without the year: 'March 3, 2018', '26 January'",
    examples=("The vote is on March 3, 2018.", "It ended on 26 January."),
    counter_examples=("He marched 3 miles.",),
)
def _month_day(ctx: _Ctx) -> Iterator[_Cand]:
    for rx in (_RE_MDY, _RE_DMY):
        for m in rx.finditer(ctx.text):
            if m.start() > 0 and ctx.text[m.start() - 1].isalnum():
                continue
            mon = _month_num(m.group("mon"))
            day = int(re.match(r"\d+", m.group("day")).group())  # type: ignore[union-attr]
            year = m.group("year")
            value: str | None = None
            if year:
                d = _safe_date(int(year), mon, day)
                if d is None:
                    continue
                value = d.isoformat()
            else:
                if _safe_date(2000, mon, day) is None:  # 2000 is a leap year: Feb 29 stays possible
                    continue
                if ctx.pub is not None:
                    t = _tense(ctx.text, m.start(), m.end())
                    d2 = _resolve_month_day(mon, day, ctx.pub, t)
                    value = d2.isoformat() if d2 else None
            yield _Cand(m.start(), m.end(), value, 3)


@_rule(
    "month-year",
    "a month name with a year: 'March 2017'",
    examples=("Sales rose in March 2017.",),
    counter_examples=("She sold 2017 marches.",),
)
def _month_year(ctx: _Ctx) -> Iterator[_Cand]:
    for m in _RE_MY.finditer(ctx.text):
        if m.start() > 0 and ctx.text[m.start() - 1].isalnum():
            continue
        mon = _month_num(m.group("mon"))
        start = m.start()
        pre = re.search(r"(?i:\b(early|mid|late)[\s-]+|\bmid-)$", ctx.text[max(0, start - 8) : start])
        if pre:
            start -= len(pre.group())
        yield _Cand(start, m.end(), _month_value(int(m.group("year")), mon), 2)


_RE_ISO = re.compile(r"(?<![\d/.-])(\d{4})-(\d{2})-(\d{2})(?![\d-])")
_RE_YMD_SLASH = re.compile(r"(?<![\d/.])(\d{4})/(\d{1,2})/(\d{1,2})(?![\d/])")
_RE_NUMERIC = re.compile(r"(?<![\d/.,])(\d{1,2})([/.])(\d{1,2})\2(\d{4}|\d{2})(?![\d/]|\.\d)")
_RE_ISO_MONTH = re.compile(r"^\s*(\d{4})-(\d{2})\s*$")


@_rule(
    "numeric",
    "a date in digits: ISO '2018-01-25' or slashed '1/25/2018'",
    examples=("Posted 2018-01-25 by the desk.", "It was filed on 1/25/2018."),
    counter_examples=("The score was 25-18.",),
)
def _numeric(ctx: _Ctx) -> Iterator[_Cand]:
    for m in _RE_ISO.finditer(ctx.text):
        d = _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        if d is not None:
            yield _Cand(m.start(), m.end(), d.isoformat(), 4)
    for m in _RE_YMD_SLASH.finditer(ctx.text):
        d = _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        if d is not None:
            yield _Cand(m.start(), m.end(), d.isoformat(), 4)
    for m in _RE_NUMERIC.finditer(ctx.text):
        a, sep, b, ys = int(m.group(1)), m.group(2), int(m.group(3)), m.group(4)
        if len(ys) == 2:
            if sep == ".":
                continue  # "3.14.15" is more likely a version number
            yy = int(ys)
            ref = ctx.pub.year if ctx.pub else _dt.date.today().year
            y = 2000 + yy if 2000 + yy <= ref + 1 else 1900 + yy
        else:
            y = int(ys)
        if sep == "." or a > 12:  # day first: European dotted dates, or the first number can't be a month
            mon, day = b, a
        else:  # US order by default (M/D/Y)
            mon, day = a, b
        d = _safe_date(y, mon, day)
        if d is not None:
            yield _Cand(m.start(), m.end(), d.isoformat(), 4)
    if ctx.lenient:
        mm = _RE_ISO_MONTH.match(ctx.text)
        if mm and 1 <= int(mm.group(2)) <= 12:
            yield _Cand(mm.start(1), mm.end(2), _month_value(int(mm.group(1)), int(mm.group(2))), 4)


_RE_DECADE = re.compile(
    r"(?:\b(?i:the)\s+)?(?:\b(?i:early|mid|late)[\s-]+|\b(?i:mid)-)?(?<![\d'’])(?P<dec>1\d{2}|20\d)0['’]?s\b"
)
_RE_DECADE2 = re.compile(r"(?:\b(?i:the)\s+)?(?:\b(?i:early|mid|late)[\s-]+|\b(?i:mid)-)?['’](?P<d>\d)0s\b")
_SPELLED_DECADES = {
    "twenties": 2,
    "thirties": 3,
    "forties": 4,
    "fifties": 5,
    "sixties": 6,
    "seventies": 7,
    "eighties": 8,
    "nineties": 9,
}
_RE_DECADE3 = re.compile(
    r"\b(?i:the)\s+(?:(?i:early|mid|late)[\s-]+)?(?P<w>" + _alt(list(_SPELLED_DECADES)) + r"|"
    r"" + _alt([w.capitalize() for w in _SPELLED_DECADES]) + r")\b"
)
_ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    "thirteenth": 13,
    "fourteenth": 14,
    "fifteenth": 15,
    "sixteenth": 16,
    "seventeenth": 17,
    "eighteenth": 18,
    "nineteenth": 19,
    "twentieth": 20,
    "twenty-first": 21,
}
_RE_CENTURY = re.compile(
    r"\b(?i:the)\s+(?:(?i:early|mid|late)[\s-]+)?(?P<n>\d{1,2}(?:st|nd|rd|th)|(?i:"
    + _alt(list(_ORDINALS))
    + r"))[\s-]+(?i:century)\b"
)


@_rule(
    "decade",
    "a decade: 'the 1980s', 'the 80s'",
    examples=("Music of the 1980s returned.",),
    counter_examples=("He scored 1980 points.",),
)
def _decades(ctx: _Ctx) -> Iterator[_Cand]:
    # every match of the two digit patterns holds "0s", "0's" or "0’s": a substring test skips their slow scan
    written = "0s" in ctx.text or "0's" in ctx.text or "0’s" in ctx.text
    for m in _RE_DECADE.finditer(ctx.text) if written else ():
        yield _Cand(m.start(), m.end(), f"{m.group('dec')}X", 2)
    for m in _RE_DECADE2.finditer(ctx.text) if written else ():
        d = int(m.group("d"))
        ref = ctx.pub.year if ctx.pub else 1999
        century = 20 if 2000 + d * 10 <= ref else 19
        yield _Cand(m.start(), m.end(), f"{century}{d}X", 2)
    for m in _RE_DECADE3.finditer(ctx.text):
        yield _Cand(m.start(), m.end(), f"19{_SPELLED_DECADES[m.group('w').lower()]}X", 2)
    for m in _RE_CENTURY.finditer(ctx.text):
        n_s = m.group("n").lower()
        n = int(n_s[:-2]) if n_s[0].isdigit() else _ORDINALS[n_s]
        if 1 <= n <= 21:
            yield _Cand(m.start(), m.end(), f"{n - 1:02d}XX", 2)


_RE_YEAR = re.compile(r"(?<![\w$€£¥#@/])(1\d{3}|20\d{2})(?!\w)")
_RE_YEAR_RANGE_AFTER = re.compile(r"^\s*(?:[-–—]|to|and|or|through|until|till)\s*(1\d{3}|20\d{2})(?!\w)")
_RE_YEAR_RANGE_BEFORE = re.compile(r"(?<![\w$€£¥#])(1\d{3}|20\d{2})\s*(?:[-–—]|to|and|or|through)\s*$")
_RE_AFTER_NOT_YEAR = re.compile(
    r"^(?:[.,:]\d|/(?!(?:\d{2}|\d{4})(?!\d))|\s*(?:%|per\s*cent|percent|GMT|UTC|hrs\b|hours\b)|[-–](?i:year|yr|strong|member|page|seat|mile|km|meter|metre|"
    r"foot|ft|acre|hectare|room|bed|word|day|hour|minute|person|man|square))"
)


_RE_STREET = re.compile(
    r"^\s+(?:[A-Z][a-z]+\s+){1,2}(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Way|Place"
    r"|Square|Court|Highway|Parkway|Terrace)\b"
)


def _year_blocked(text: str, s: int, e: int) -> bool:
    """Hard evidence that the 4-digit number at [s, e) is a quantity or an identifier."""
    before = text[max(0, s - 12) : s]
    after = text[e : e + 40]
    if re.search(r"(?:[$€£¥#]|US\$|A\$|C\$|Rs\.?|\d[.,:/])\s*$", before):
        return True
    if re.search(r"\d[-–]$", before) and not _RE_YEAR_RANGE_BEFORE.search(text[max(0, s - 12) : s]):
        return True
    if _RE_AFTER_NOT_YEAR.match(after):
        return True
    if _RE_STREET.match(after):
        return True  # "2000 Pennsylvania Avenue"
    if re.match(r"^[-–]\d", after) and not re.match(r"^[-–](?:\d{2}|1\d{3}|20\d{2})(?!\d)", after):
        return True
    prev = _prev_word(text, s).lower().rstrip(".")
    nxt = _next_word(text, e)
    if nxt.lower() in _COUNT_NOUNS and nxt.islower():
        # "in 2019 schools closed": a temporal preposition outweighs a count noun, but not a unit
        return prev not in _STRONG_YEAR_PREP or nxt in _UNITS
    return prev in _NOT_YEAR_PREV


def _year_ok(text: str, s: int, e: int) -> bool:
    y = int(text[s:e])
    if _year_blocked(text, s, e):
        return False
    if re.match(r"^\s*(?:AD|BC|BCE|CE|A\.D\.|B\.C\.)(?![A-Za-z])", text[e : e + 8]):
        return True  # "1500 AD"
    prevs = [t.lower() for t in _prev_tokens(text, s, 3)]
    prev = prevs[-1] if prevs else ""
    after = text[e : e + 40]
    ra = _RE_YEAR_RANGE_AFTER.match(after)
    rb = _RE_YEAR_RANGE_BEFORE.search(text[max(0, s - 14) : s])
    partner_ok = False
    if ra and not _year_blocked(text, e + ra.start(1), e + ra.end(1)):
        partner_ok = True
    if rb:
        ps = max(0, s - 14) + rb.start(1)
        partner_ok = partner_ok or not _year_blocked(text, ps, ps + 4)
    # a range "1500 to 2000 people": the count noun after the second number rules out the first too
    if ra and _year_blocked(text, e + ra.start(1), e + ra.end(1)):
        return False
    if prev == "of" and len(prevs) >= 2 and prevs[-2] in _QUANTITY_HEADS:
        return False  # "a total of 1900", "a crowd of 2000"
    if prev in _APPROX:
        before_approx = prevs[-2] if len(prevs) >= 2 else ""
        if prev == "than" or prev == "least" or prev == "to":  # "more than", "at least", "up to"
            before_approx = prevs[-3] if len(prevs) >= 3 else ""
        if not partner_ok and before_approx not in _TEMPORAL_PREP - {"the", "of", "and", "or", "to"}:
            return False
    nxt = _next_word(text, e)
    if (
        nxt.islower()
        and len(nxt) > 3
        and nxt.endswith("s")
        and not nxt.endswith(("ss", "us", "is"))
        and nxt not in _YEAR_NOUNS
        and prev not in _TEMPORAL_PREP - {"of", "and", "or"}
        and not partner_ok
    ):
        return False  # "2000 schools", "of 1900 homes"
    if y < 1800:
        era = re.match(r"^\s*(?:AD|BC|BCE|CE|A\.D\.|B\.C\.)(?![A-Za-z])", after)
        if not (era or prev in _OLD_YEAR_PREP or partner_ok):
            return False
    return True


@_rule(
    "year",
    "a year where the words around it say it is one ('in 2015'), not a count ('2015 points')",
    examples=("The law passed in 2015.",),
    counter_examples=("He scored 2015 points.",),
)
def _years(ctx: _Ctx) -> Iterator[_Cand]:
    text = ctx.text
    for m in _RE_YEAR.finditer(text):
        s, e = m.span(1)
        if not ctx.lenient and not _year_ok(text, s, e):
            continue
        value = m.group(1)
        start = s
        pre = re.search(
            r"(?i:\b(?:the\s+)?(early|mid|late)[\s-]+|\bmid-|\b(?:the\s+)?(?:end|start|beginning)\s+of\s+)$",
            text[max(0, s - 24) : s],
        )
        if pre:
            start = s - len(pre.group())
            if re.search(r"(?i:end)", pre.group()):
                value = f"{value}-12-31"
        yield _Cand(start, e, value, 1)


_RE_MONTH_ALONE = re.compile(
    r"(?:\b(?P<mod>(?i:last|next|this|early|late|mid|(?:the\s+)?(?:end|beginning|start|middle)\s+of))"
    rf"[\s-]+|\b(?P<mid>(?i:mid))-)?(?<!\w)(?P<mon>{_MONTH_FULL})(?![\w-])"
)


@_rule(
    "month-alone",
    "a month name alone, resolved to the nearest one ('in March'); 'May' as a name or a verb is none",
    examples=("Talks resume in March.",),
    counter_examples=("The May family moved.", "She may go."),
)
def _month_alone(ctx: _Ctx) -> Iterator[_Cand]:
    text = ctx.text
    for m in _RE_MONTH_ALONE.finditer(text):
        mon = _MONTHS[m.group("mon").lower()]
        mod = (m.group("mod") or m.group("mid") or "").lower()
        ms = m.start("mon")
        if not mod and ms > 0 and text[ms - 1] == "-":
            continue
        nxt = _next_word(text, m.end())
        nxt_is_name = bool(nxt[:1].isupper()) and nxt.lower() not in _WEEKDAYS
        if not ctx.lenient:
            if nxt_is_name:
                continue
            if not mod:
                prevs = _prev_tokens(text, ms, 3)
                prev = prevs[-1].lower() if prevs else ""
                allowed = _MONTH_PREP_AMBIG if mon in _AMBIG_MONTHS else _MONTH_PREP
                ok = prev in allowed
                if prev in ("and", "or", "to", "-", "–", "through", "until") and len(prevs) >= 2:
                    ok = ok or prevs[-2].lower() in _MONTHS
                if prev in ("and", "or") and len(prevs) >= 2 and prevs[-2].lower() not in _MONTHS:
                    ok = False
                if not ok:
                    continue
        value: str | None = None
        if ctx.pub is not None:
            mode = mod if mod in ("last", "next", "this") else ""
            t = _tense(text, m.start(), m.end())
            y, mo = _resolve_month(mon, ctx.pub, mode, t)
            value = _last_day(y, mo) if "end" in mod else _month_value(y, mo)
        yield _Cand(m.start(), m.end(), value, 1)


_RE_WEEKDAY = re.compile(
    r"(?:\b(?P<mod>(?i:this\s+past|this\s+coming|last|next|this|coming|past))\s+)?"
    rf"(?<![\w-])(?P<wd>{_WD})(?![\w-])"
)


@_rule(
    "weekday",
    "a weekday, resolved to the nearest one before publication unless the words say next",
    examples=("The judge ruled on Tuesday.",),
    counter_examples=("Fans of Super Tuesday Records came.", "On Tuesdays he swims."),
)
def _weekdays(ctx: _Ctx) -> Iterator[_Cand]:
    text = ctx.text
    for m in _RE_WEEKDAY.finditer(text):
        ws = m.start("wd")
        mod = re.sub(r"\s+", " ", (m.group("mod") or "").lower())
        if not ctx.lenient:
            prev = _prev_word(text, m.start())
            if prev in _WEEKDAY_BLOCK_BEFORE or prev.lower() in ("every", "a", "an", "each"):
                continue
            nt = _next_tokens(text, m.end(), 2)
            if nt and nt[0] in _WEEKDAY_BLOCK_AFTER:
                if nt[0] not in ("Night", "Morning", "Evening", "Afternoon"):
                    continue
                if len(nt) > 1 and nt[1][:1].isupper():
                    continue  # "Saturday Night Live", "Monday Night Football"
            if prev == "on" and _prev_word(text, m.start() - 3).endswith("Mail"):
                continue  # The Mail on Sunday
        if mod == "this past" or mod == "past":
            mode = "last"
        elif mod in ("this coming", "coming", "next"):
            mode = "next"
        else:
            mode = mod
        value: str | None = None
        if ctx.pub is not None:
            t = _tense(text, m.start(), m.end()) if not mode else 0
            value = _resolve_weekday(_WEEKDAYS[m.group("wd").lower()], ctx.pub, mode, t).isoformat()
        start = m.start() if mod else ws
        yield _Cand(start, m.end("wd"), value, 1)


_RE_DAYWORD = re.compile(
    r"\b(?:(?P<mod>(?i:earlier|later|early|late))\s+)?"
    r"(?P<w>(?i:today|tonight|yesterday|tomorrow|this\s+morning|this\s+afternoon|this\s+evening|last\s+night"
    r"|the\s+day\s+before\s+yesterday|the\s+day\s+after\s+tomorrow))(?![\w-])"
)
_DAYWORD_OFFSET = {
    "today": 0,
    "tonight": 0,
    "this morning": 0,
    "this afternoon": 0,
    "this evening": 0,
    "yesterday": -1,
    "last night": -1,
    "tomorrow": 1,
    "the day before yesterday": -2,
    "the day after tomorrow": 2,
}


@_rule(
    "dayword",
    "'today', 'yesterday', 'tomorrow', 'tonight', resolved against the publication date",
    examples=("The talks ended yesterday.",),
    counter_examples=("He sang the song Yesterday at the show.",),
)
def _daywords(ctx: _Ctx) -> Iterator[_Cand]:
    text = ctx.text
    for m in _RE_DAYWORD.finditer(text):
        w = re.sub(r"\s+", " ", m.group("w").lower())
        if not ctx.lenient:
            if _capitalised_mid_sentence(text, m.start()):
                continue  # "USA Today", "The Tonight Show"
            nxt = _next_word(text, m.end())
            if w == "today" and nxt.lower() in ("show", "programme", "program"):
                continue
        value = None
        if ctx.pub is not None:
            value = (ctx.pub + _dt.timedelta(days=_DAYWORD_OFFSET[w])).isoformat()
        yield _Cand(m.start(), m.end(), value, 2)


_RE_REL_PERIOD = re.compile(
    r"\b(?:(?P<mod>(?i:earlier|later|early|late))\s+)?(?P<rel>(?i:this|last|next))\s+"
    r"(?P<unit>(?i:week|month|year))(?P<s>s(?=\s+[a-z]))?(?![\w-])"
)


@_rule(
    "relative-period",
    "'last year', 'this month', 'next week', resolved against the publication date",
    examples=("Prices rose last year.",),
    counter_examples=("It was the year of the dog.",),
)
def _relative_periods(ctx: _Ctx) -> Iterator[_Cand]:
    text = ctx.text
    for m in _RE_REL_PERIOD.finditer(text):
        rel = m.group("rel").lower()
        unit = m.group("unit").lower()
        if m.group("s") and not (rel == "this" and unit == "year"):
            continue  # "in last years" is a duration; "this years" is a common typo of "this year's"
        if not m.group("mod") and _prev_word(text, m.start()).lower() in ("the", "a", "every", "each"):
            continue  # "the last week of March", "the next year" (narrative)
        if (
            not ctx.lenient
            and not m.group("mod")
            and _capitalised_mid_sentence(text, m.start())
            and m.group("unit")[0].islower()
        ):
            continue  # "the film This year": a title, not "Next Year" headline style
        value: str | None = None
        pub = ctx.pub
        if pub is not None:
            k = {"this": 0, "last": -1, "next": 1}[rel]
            if unit == "week":
                value = _iso_week(pub + _dt.timedelta(days=7 * k))
            elif unit == "month":
                value = _month_value(*_add_months(pub.year, pub.month, k))
            else:
                value = str(pub.year + k)
        yield _Cand(m.start(), m.end(), value, 2)


_RE_END_OF = re.compile(
    r"\b(?i:the\s+)?(?P<which>(?i:end|beginning|start))\s+of\s+(?P<rel>(?i:the|this|last|next))\s+"
    r"(?P<unit>(?i:year|month))\b(?!\s+(?:of|before|after)\b)"
)


@_rule(
    "end-of",
    "'the end of the month', 'late this year': the part of a period",
    examples=("The deal closes by the end of the month.",),
    counter_examples=("The end of the road came.",),
)
def _end_of(ctx: _Ctx) -> Iterator[_Cand]:
    for m in _RE_END_OF.finditer(ctx.text):
        value: str | None = None
        pub = ctx.pub
        if pub is not None:
            k = {"the": 0, "this": 0, "last": -1, "next": 1}[m.group("rel").lower()]
            end = m.group("which").lower() == "end"
            if m.group("unit").lower() == "year":
                value = f"{pub.year + k}-12-31" if end else str(pub.year + k)
            else:
                y, mo = _add_months(pub.year, pub.month, k)
                value = _last_day(y, mo) if end else _month_value(y, mo)
        yield _Cand(m.start(), m.end(), value, 2)


_RE_WEEKEND = re.compile(
    r"\b(?P<mod>(?i:this\s+past|this\s+coming|the|this|last|next|past|coming))\s+(?i:weekend)(?![\w-])"
    r"(?!\s+(?:of|before|after)\b)"
)


_WEEKEND_MODES = {"this past": "past", "past": "past", "this coming": "coming", "coming": "coming"}


@_rule(
    "weekend",
    "'this weekend', 'last weekend': a Saturday-Sunday range",
    examples=("Crowds gathered this weekend.",),
    counter_examples=("A weekend bag was sold.",),
)
def _weekends(ctx: _Ctx) -> Iterator[_Cand]:
    for m in _RE_WEEKEND.finditer(ctx.text):
        mod = re.sub(r"\s+", " ", m.group("mod").lower())
        mode = _WEEKEND_MODES.get(mod, mod)
        value: str | None = None
        if ctx.pub is not None:
            t = _tense(ctx.text, m.start(), m.end())
            if mode == "the":
                t = t or -1  # "over the weekend": the last one unless the clause is future
                mode = ""
            value = _weekend(ctx.pub, "" if mode == "this" else mode, t)
        if mode == "last" and _prev_word(ctx.text, m.start()).lower() == "the":
            continue
        yield _Cand(m.start(), m.end(), value, 2)


_UNIT = r"(?P<unit>(?i:minutes?|hours?|days?|weeks?|months?|years?|decades?))"
_RE_AGO = re.compile(rf"\b(?P<n>(?i:{_NUM}))\s+{_UNIT}\s+(?i:ago)\b")
_RE_VAGUE_AGO = re.compile(
    r"\b(?i:a\s+few|a\s+couple\s+of|several|many|some|a\s+number\s+of)\s+"
    r"(?i:minutes|hours|days|weeks|months|years|decades)\s+(?i:ago)\b"
)
_RE_VAGUE_PERIOD = re.compile(
    r"\b(?i:the)\s+(?i:past|last|previous|coming)\s+"
    rf"(?:(?i:few|several|couple\s+of|{_NUM})\s+)?"
    r"(?i:days|weeks|months|years|decades|week|month|year|decade)\b(?!\s+(?:of|before|after)\b)"
)
_RE_RECENT = re.compile(r"(?<=\b(?i:in)\s)(?i:recent)\s+(?i:days|weeks|months|years|decades)\b")


@_rule(
    "ago",
    "'two weeks ago', 'a year ago': a point counted back from publication",
    examples=("The raid happened two weeks ago.",),
    counter_examples=("Agog, he left.",),
)
def _ago(ctx: _Ctx) -> Iterator[_Cand]:
    text = ctx.text
    pub = ctx.pub
    for m in _RE_AGO.finditer(text):
        n = _parse_num(m.group("n"))
        unit = m.group("unit").lower().rstrip("s")
        if n <= 0:
            continue
        value: str | None = None
        if pub is not None:
            if unit in ("minute", "hour"):
                days = n // 24 if unit == "hour" else n // 1440
                value = (pub - _dt.timedelta(days=days)).isoformat()
            elif unit == "day":
                value = (pub - _dt.timedelta(days=n)).isoformat()
            elif unit == "week":
                value = _iso_week(pub - _dt.timedelta(days=7 * n))
            elif unit == "month":
                value = _month_value(*_add_months(pub.year, pub.month, -n))
            elif unit == "year":
                value = str(pub.year - n)
            else:
                value = f"{(pub.year - 10 * n) // 10}X"
        yield _Cand(m.start(), m.end(), value, 2)
    for rx in (_RE_VAGUE_AGO, _RE_VAGUE_PERIOD, _RE_RECENT):
        for m in rx.finditer(text):
            yield _Cand(m.start(), m.end(), None, 0)


_RE_CLOCK = re.compile(
    r"(?<![\d:.,])(?P<h>[01]?\d|2[0-3]):(?P<m>[0-5]\d)(?::(?P<s>[0-5]\d))?(?![\d:])"
    r"(?:\s*(?P<ap>[ap]\.m\.|[AP]\.M\.|[ap]m\b|[AP]M\b))?"
    rf"(?:\s*(?:\(\s*)?(?P<tz>{_TZ})(?:\s*\))?)?"
)
_RE_HOUR_AMPM = re.compile(
    r"(?<![\d:.,])(?P<h>1[0-2]|0?[1-9])\s*(?P<ap>[ap]\.m\.|[AP]\.M\.|[ap]m\b|[AP]M\b)"
    rf"(?:\s*(?P<tz>{_TZ}))?"
)
_RE_MILITARY = re.compile(
    r"(?<![\d:.,$])(?P<h>[01]\d|2[0-3])(?P<m>[0-5]\d)\s*(?P<tz>GMT|UTC|Z|hrs|hours|h|local\s+time)(?![A-Za-z])"
)
_RE_DOTTED_AMPM = re.compile(
    r"(?<![\d:.,])(?P<h>1[0-2]|0?[1-9])\.(?P<m>[0-5]\d)\s*(?P<ap>[ap]\.m\.|[AP]\.M\.|[ap]m\b|[AP]M\b)"
    rf"(?:\s*(?P<tz>{_TZ}))?"
)
_RE_NOON = re.compile(r"\b(?P<w>noon|midnight|midday|mid-day)\b")
_TIME_PREP = _words("at by until till from to around about before after of since between and approximately")


def _clock_value(h: int, mi: int, s: int, ap: str | None) -> str | None:
    if ap:
        if not 1 <= h <= 12:
            return None
        pm = ap.lower().startswith("p")
        h = h % 12 + (12 if pm else 0)
    return f"{h:02d}:{mi:02d}:{s:02d}"


@_rule(
    "clock-time",
    "a clock time with am/pm, a zone or 'at': '8:49 PM'; a bare ratio is none",
    examples=("The alarm rang at 8:49 PM.",),
    counter_examples=("The ratio was 8:49 in all.",),
)
def _times(ctx: _Ctx) -> Iterator[_Cand]:
    text = ctx.text
    for m in _RE_CLOCK.finditer(text):
        ap, tz = m.group("ap"), m.group("tz")
        if not (ap or tz or ctx.lenient or _prev_word(text, m.start()).lower() in _TIME_PREP):
            continue
        v = _clock_value(int(m.group("h")), int(m.group("m")), int(m.group("s") or 0), ap)
        if v is not None:
            yield _Cand(m.start(), m.end(), v, 1)
    for m in _RE_HOUR_AMPM.finditer(text):
        ap = m.group("ap")
        if ap.isupper() and "." not in ap and _next_word(text, m.end())[:1].isupper() and not m.group("tz"):
            continue  # "5 PM Modi" (prime minister), not "5 PM"
        v = _clock_value(int(m.group("h")), 0, 0, ap)
        if v is not None:
            yield _Cand(m.start(), m.end(), v, 1)
    for m in _RE_MILITARY.finditer(text):  # "0900 GMT", "1530 hrs"
        yield _Cand(m.start(), m.end(), _clock_value(int(m.group("h")), int(m.group("m")), 0, None), 1)
    for m in _RE_DOTTED_AMPM.finditer(text):  # British style: "10.30am"
        v = _clock_value(int(m.group("h")), int(m.group("m")), 0, m.group("ap"))
        if v is not None:
            yield _Cand(m.start(), m.end(), v, 1)
    for m in _RE_NOON.finditer(text):
        v = "00:00:00" if m.group("w") == "midnight" else "12:00:00"
        yield _Cand(m.start(), m.end(), v, 0)


_RE_HOLIDAY = re.compile(
    r"(?:\b(?P<mod>(?i:last|next|this))\s+)?(?<![\w-])(?P<h>Christmas\s+Eve|Christmas\s+Day|Christmas|"
    r"New\s+Year['’]s\s+Eve|New\s+Year['’]s\s+Day|New\s+Year['’]s|Valentine['’]s\s+Day|Halloween|Boxing\s+Day)"
    r"(?![\w-])"
)


@_rule(
    "holiday",
    "a fixed holiday: 'Christmas Day', 'New Year's Eve'",
    examples=("Shops close on Christmas Day.",),
    counter_examples=("Christmas Island is remote.",),
)
def _holidays(ctx: _Ctx) -> Iterator[_Cand]:
    text = ctx.text
    for m in _RE_HOLIDAY.finditer(text):
        if not ctx.lenient:
            prev = _prev_word(text, m.start())
            if prev in ("Chinese", "Lunar", "Jewish", "Persian", "Orthodox", "Islamic", "Hindu", "Tamil"):
                continue
            if _next_word(text, m.end())[:1].isupper():
                continue  # "Christmas Island", "Halloween Parade" (a name)
            if not m.group("mod") and prev[:1].isupper() and _capitalised_mid_sentence(text, m.start() - len(prev) - 1):
                continue  # "Johnnie Christmas" (a surname)
        key = re.sub(r"\s+", " ", m.group("h").lower().replace("’", "'"))
        mon, day = _HOLIDAYS[key]
        value: str | None = None
        pub = ctx.pub
        if pub is not None:
            mod = (m.group("mod") or "").lower()
            this = _dt.date(pub.year, mon, day)
            if mod == "last":
                d = this if this < pub else _dt.date(pub.year - 1, mon, day)
            elif mod == "next":
                d = this if this > pub else _dt.date(pub.year + 1, mon, day)
            elif mod == "this":
                d = this
            else:
                d = _resolve_month_day(mon, day, pub, _tense(text, m.start(), m.end())) or this
            value = d.isoformat()
        yield _Cand(m.start(), m.end(), value, 1)
