"""Tests for factkit.rules.dates: the rule-based date/time tagger and normaliser."""

from __future__ import annotations

import datetime as dt
import importlib.util
import itertools
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from factkit.rules.dates import DateHit, find_dates, normalize_date, parse_published  # noqa: E402

FRI = dt.date(2018, 1, 26)  # a Friday, the seed article's publication date
SEED = ROOT / "seeds" / "reuters-2018-01-26-cambodians-deportation.txt"
GUM = ROOT.parent / "shared" / "data" / "gum-news" / "gum_news_dev.jsonl"


def tags(text: str, published: dt.date | None = FRI) -> dict[str, str | None]:
    """{hit text: value} for every hit, after checking the offsets invariant."""
    hits = find_dates(text, published)
    for h in hits:
        assert text[h.start : h.end] == h.text
    return {h.text: h.value for h in hits}


def one(text: str, published: dt.date | None = FRI) -> DateHit:
    hits = find_dates(text, published)
    assert len(hits) == 1, hits
    return hits[0]


# ----------------------------------------------------------------------------------------- seed article


def test_seed_article() -> None:
    text = SEED.read_text(encoding="utf-8")
    hits = find_dates(text, FRI)
    for h in hits:
        assert text[h.start : h.end] == h.text
    got = [(h.text, h.value) for h in hits]
    assert ("January 26, 2018", "2018-01-26") in got
    assert ("last October", "2017-10") in got
    assert ("the 1970s", "197X") in got
    assert ("last year", "2017") in got
    thursdays = [h for h in hits if h.text == "Thursday"]
    assert len(thursdays) == 2
    assert all(h.value == "2018-01-25" for h in thursdays)
    # "late on Thursday": the span is the weekday itself
    late = text.index("late on Thursday")
    assert any(h.start == late + len("late on ") for h in thursdays)
    # "years ago" / "many years" have no number: not tagged; "100 Cambodians" and "92" are not years
    assert not any("years" in h.text and "ago" in h.text and h.value is None for h in hits)
    assert all(h.text not in ("100", "92", "years ago") for h in hits)
    assert got[0] == ("January 26, 2018", "2018-01-26") and hits[0].start == 0


# ----------------------------------------------------------------------------------------- absolute


@pytest.mark.parametrize(
    ("text", "span", "value"),
    [
        ("It happened on January 26, 2018 in Paris.", "January 26, 2018", "2018-01-26"),
        ("It happened on 26 January 2018 in Paris.", "26 January 2018", "2018-01-26"),
        ("It happened on the 26th of January, 2018.", "the 26th of January, 2018", "2018-01-26"),
        ("Filed Jan. 26, 2018.", "Jan. 26, 2018", "2018-01-26"),
        ("Filed Sept. 3, 2017.", "Sept. 3, 2017", "2017-09-03"),
        ("The law passed in January 2018.", "January 2018", "2018-01"),
        ("Prices rose in 2018.", "2018", "2018"),
        ("Filed 2018-01-26.", "2018-01-26", "2018-01-26"),
        ("Filed 1/26/2018.", "1/26/2018", "2018-01-26"),
        ("Filed 26/1/2018.", "26/1/2018", "2018-01-26"),
        ("Filed 26.01.2018.", "26.01.2018", "2018-01-26"),
        ("Growth slowed in mid-2017.", "mid-2017", "2017"),
        ("Growth slowed in early 2017.", "early 2017", "2017"),
        ("They fled in the 1970s.", "the 1970s", "197X"),
        ("It peaked in the 1990s.", "the 1990s", "199X"),
        ("It peaked in the late 1990s.", "the late 1990s", "199X"),
        ("Music of the '80s returned.", "the '80s", "198X"),
        ("It was built in the 19th century.", "the 19th century", "18XX"),
        ("Friday, July 21, 2017", "Friday, July 21, 2017", "2017-07-21"),
        ("Built around 1500 AD.", "1500", "1500"),
        ("Ratified in 1648, the treaty held.", "1648", "1648"),
        ("The deal is due by the end of 2019.", "the end of 2019", "2019-12-31"),
    ],
)
def test_absolute(text: str, span: str, value: str) -> None:
    h = one(text)
    assert (h.text, h.value) == (span, value)
    assert text[h.start : h.end] == span


def test_absolute_dates_need_no_publication_date() -> None:
    assert tags("On January 26, 2018 and in the 1970s.", None) == {
        "January 26, 2018": "2018-01-26",
        "the 1970s": "197X",
    }


def test_year_ranges_are_tagged_as_end_points() -> None:
    assert tags("from 2004 to 2009", None) == {"2004": "2004", "2009": "2009"}
    assert tags("ozone pollution over 2000 - 2050 on crops", None) == {"2000": "2000", "2050": "2050"}
    assert tags("between July 2003 and December 2004", None) == {
        "July 2003": "2003-07",
        "December 2004": "2004-12",
    }


def test_month_day_without_year() -> None:
    assert one("The judge ruled on January 25.").value == "2018-01-25"
    # more than ~6 months in the future -> previous year
    assert one("Talks began on August 30.").value == "2017-08-30"
    assert one("Talks begin on July 30.").value == "2017-07-30"  # 185 days ahead
    # a near-future date in a present/neutral clause stays in the publication year
    assert one("The festival runs through March 11.").value == "2018-03-11"
    # a future date in a clearly past-tense clause is last year's
    assert one("She died on the 12th of March.").value == "2017-03-12"
    # a past date in a clearly future clause is next year's when that is close
    assert one("It will open on December 30.", dt.date(2018, 11, 20)).value == "2018-12-30"
    assert one("It will reopen on January 4.", dt.date(2018, 11, 20)).value == "2019-01-04"
    assert one("The judge ruled on January 25.", None).value is None


# ----------------------------------------------------------------------------------------- weekdays


@pytest.mark.parametrize(
    ("text", "span", "value"),
    [
        ("A judge ruled on Thursday.", "Thursday", "2018-01-25"),
        ("A federal judge late on Thursday said so.", "Thursday", "2018-01-25"),
        ("Thursday's vote was close.", "Thursday", "2018-01-25"),
        ("Officials met Monday night.", "Monday", "2018-01-22"),
        ("Officials met Saturday.", "Saturday", "2018-01-20"),
        ("The verdict came Friday.", "Friday", "2018-01-26"),  # publication weekday -> publication date
        ("It rained last Tuesday.", "last Tuesday", "2018-01-23"),
        ("It rained last Friday.", "last Friday", "2018-01-19"),
        ("They meet next Friday.", "next Friday", "2018-02-02"),
        ("They meet next Monday.", "next Monday", "2018-01-29"),
        ("They meet this coming Monday.", "this coming Monday", "2018-01-29"),
        ("The summit will be held on Monday.", "Monday", "2018-01-29"),
        ("On Wednesday, the team is to travel to Geneva.", "Wednesday", "2018-01-31"),
        ("The company said on Thursday it will cut jobs.", "Thursday", "2018-01-25"),
    ],
)
def test_weekdays(text: str, span: str, value: str) -> None:
    h = one(text)
    assert (h.text, h.value) == (span, value)


def test_tense_is_read_from_the_governing_clause() -> None:
    thu = dt.date(2019, 3, 14)
    text = "The House passed the resolution in February, and lawmakers will meet again on Monday."
    assert tags(text, thu) == {"February": "2019-02", "Monday": "2019-03-18"}
    assert tags("In a statement late Tuesday, the ministry said 18 people had died since January.", thu) == {
        "Tuesday": "2019-03-12",
        "January": "2019-01",
    }
    assert tags("The report, released Wednesday, covers the period.", thu) == {"Wednesday": "2019-03-13"}


def test_weekday_without_publication_date_is_none() -> None:
    assert one("He resigned on Thursday.", None).value is None


# ----------------------------------------------------------------------------------------- relative


@pytest.mark.parametrize(
    ("text", "span", "value"),
    [
        ("The report came out today.", "today", "2018-01-26"),
        ("Stocks fell yesterday.", "yesterday", "2018-01-25"),
        ("Yesterday's game was long.", "Yesterday", "2018-01-25"),
        ("Voting starts tomorrow.", "tomorrow", "2018-01-27"),
        ("He spoke this morning.", "this morning", "2018-01-26"),
        ("He speaks tonight.", "tonight", "2018-01-26"),
        ("He speaks this evening.", "this evening", "2018-01-26"),
        ("Fires broke out last night.", "last night", "2018-01-25"),
        ("Someone emailed me earlier today.", "earlier today", "2018-01-26"),
        ("It was announced last week.", "last week", "2018-W03"),
        ("It was announced this week.", "this week", "2018-W04"),
        ("It will be announced next week.", "next week", "2018-W05"),
        ("Sales fell last month.", "last month", "2017-12"),
        ("Sales fell earlier this month.", "earlier this month", "2018-01"),
        ("Sales rose this year.", "this year", "2018"),
        ("Sales rose last year.", "last year", "2017"),
        ("Last Year over 4 million visitors came.", "Last Year", "2017"),
        ("Sales will rise next year.", "next year", "2019"),
        ("Sales fell late last year.", "late last year", "2017"),
        ("Raids took place last October.", "last October", "2017-10"),
        ("Raids took place in October.", "October", "2017-10"),
        ("Raids took place in January.", "January", "2018-01"),
        ("Talks will resume in March.", "March", "2018-03"),
        ("He moved there two years ago.", "two years ago", "2016"),
        ("Seventeen years ago, this would not have happened.", "Seventeen years ago", "2001"),
        ("It was posted three days ago.", "three days ago", "2018-01-23"),
        ("It was posted 24 hours ago.", "24 hours ago", "2018-01-25"),
        ("It was posted a month ago.", "a month ago", "2017-12"),
        ("It was posted two weeks ago.", "two weeks ago", "2018-W02"),
        ("The plan is due by the end of the year.", "the end of the year", "2018-12-31"),
        ("The season opens this weekend.", "this weekend", "2018-W04-WE"),
        ("They won over the weekend.", "the weekend", "2018-W03-WE"),
    ],
)
def test_relative(text: str, span: str, value: str) -> None:
    h = one(text)
    assert (h.text, h.value) == (span, value)


def test_this_weekend_follows_tense_and_weekday() -> None:
    tue = dt.date(2015, 9, 22)
    assert one("He was a guest at the fair this weekend.", tue).value == "2015-W38-WE"  # Sep 19-20
    assert one("He will be a guest at the fair this weekend.", tue).value == "2015-W39-WE"  # Sep 26-27


def test_relative_without_publication_date_is_none() -> None:
    assert tags("yesterday, last year and last October", None) == {
        "yesterday": None,
        "last year": None,
        "last October": None,
    }


def test_vague_periods_are_tagged_with_none() -> None:
    got = tags("In the past few days, in recent years and a few years ago, prices rose.")
    assert got == {"the past few days": None, "recent years": None, "a few years ago": None}


def test_bare_adverbs_are_not_tagged() -> None:
    assert tags("He was deported years ago and is now currently and recently at home. It happens every year.") == {}
    assert tags("The last five months of her life were hard.") == {}
    assert tags("He stayed two weeks, then twelve years, aged 14; a 14-year-old boy.") == {}


# ----------------------------------------------------------------------------------------- times


def test_clock_times() -> None:
    assert tags("As of 15:11 GMT the site was down.") == {"15:11 GMT": "15:11:00"}
    assert tags("She worked from 6:00am to midnight.") == {"6:00am": "06:00:00", "midnight": "00:00:00"}
    assert tags("The vote opens at 3 p.m. local time.") == {"3 p.m. local time": "15:00:00"}
    assert tags("The score was 3:2 at half time and 1 – 0 later.") == {}
    assert tags("The jet crashed at 10.30am local time.") == {"10.30am local time": "10:30:00"}
    assert tags("Polls close at 2000 GMT.") == {"2000 GMT": "20:00:00"}
    assert tags("It was 8:49 PM when he left.") == {"8:49 PM": "20:49:00"}


# ----------------------------------------------------------------------------------------- false positives


@pytest.mark.parametrize(
    "text",
    [
        "He may go to the market.",
        "Theresa May said so.",
        "May I ask a question?",
        "The March on Washington drew crowds.",
        "Thousands march through the city.",
        "April Ryan asked the first question.",
        "A play by August Wilson opened.",
        "About 100 Cambodians were detained.",
        "They walked 500 miles.",
        "Some 2,000 protesters gathered.",
        "1500 people attended the rally.",
        "A crowd of 1900 watched.",
        "Between 1500 and 2000 people came.",
        "Only 1999 votes separated them.",
        "A survey of 1709 schoolchildren was done.",
        "He paid $ 2000 for it, or US$ 20,000 bail.",
        "Sales grew 2017% in a decade.",
        "It continues a 2000 year old tradition.",
        "It is a 2000-year-old tradition.",
        "Route 2000 was closed for repairs.",
        "The temperature was 1.2018 degrees.",
        "USA Today reported it; so did The Tonight Show.",
        "Black Friday sales rose; the Sunday Times reported it.",
        "The Mail on Sunday ran it, as did Saturday Night Live.",
        "Shops open every Friday and on Sundays.",
        "He flew to Christmas Island with Johnnie Christmas.",
        "Chinese New Year celebrations drew crowds.",
        "january and monday in lower case are not dates here.",
    ],
)
def test_false_positives(text: str) -> None:
    assert find_dates(text, FRI) == []


def test_year_context() -> None:
    assert tags("Emissions fell to 1990 levels before the 2016 elections.") == {
        "1990": "1990",
        "2016": "2016",
    }
    assert tags("In 2019 schools closed.") == {"2019": "2019"}
    assert tags("FIFA World Cup 2018 opened.") == {"2018": "2018"}
    assert tags("the first match since 1958.") == {"1958": "1958"}
    assert tags("in 1997 and 1998, she was tasked") == {"1997": "1997", "1998": "1998"}


def test_day_ranges_seasons_and_addresses() -> None:
    assert tags("Held January 26–28, 2018 in Davos.") == {"January 26–28, 2018": "2018-01-26"}
    assert tags("The 2017/18 season ended.") == {"2017": "2017"}
    assert tags("He lives at 2000 Pennsylvania Avenue.") == {}
    assert tags("Revenue for fiscal 2018 was $101 billion, up from 2017.") == {"2018": "2018", "2017": "2017"}


def test_may_and_march_need_context() -> None:
    assert tags("In May, sales rose.") == {"May": "2017-05"}
    assert tags("He may resign by May 5.") == {"May 5": "2018-05-05"}
    assert tags("Elections are due in May 2018.") == {"May 2018": "2018-05"}
    assert tags("Protests began last March.") == {"last March": "2017-03"}


# ----------------------------------------------------------------------------------------- offsets


@pytest.mark.parametrize(
    "prefix",
    ["Café crème — ", "東京で発表された。", "🎉🇰🇭 ", "naïve résumé 👩‍👩‍👧 ", "Ⅻ ünïcödé\u200b "],
)
def test_offsets_on_non_ascii_text(prefix: str) -> None:
    text = f"{prefix}On Thursday, January 25, 2018 and last year, 🚀 then on Thursday again."
    hits = find_dates(text, FRI)
    assert [h.text for h in hits] == ["Thursday, January 25, 2018", "last year", "Thursday"]
    for h in hits:
        assert text[h.start : h.end] == h.text
    assert hits[0].start == len(prefix) + len("On ")
    assert [h.value for h in hits] == ["2018-01-25", "2017", "2018-01-25"]


def test_hits_are_sorted_and_do_not_overlap() -> None:
    text = "Friday, July 21, 2017 — on Tuesday, last week, July 2003 and 2004, the 1990s, 2018-01-26."
    hits = find_dates(text, dt.date(2017, 7, 21))
    assert [h.start for h in hits] == sorted(h.start for h in hits)
    for a, b in itertools.pairwise(hits):
        assert a.end <= b.start
    # longest match wins: the weekday and year are inside the full dateline
    assert hits[0].text == "Friday, July 21, 2017"


def test_datehit_is_frozen() -> None:
    h = DateHit(0, 4, "2018", "2018")
    with pytest.raises(AttributeError):
        h.value = "2019"  # type: ignore[misc]


# ----------------------------------------------------------------------------------------- API helpers


def test_parse_published() -> None:
    assert parse_published("2018-01-26") == FRI
    assert parse_published(" 2018-01-26T20:49:00Z ") == FRI
    assert parse_published("January 26, 2018") == FRI
    assert parse_published(FRI) == FRI
    assert parse_published(dt.datetime(2018, 1, 26, 20, 49)) == FRI
    assert type(parse_published(dt.datetime(2018, 1, 26, 20, 49))) is dt.date
    assert parse_published(None) is None
    for bad in ["", "yesterday", "2018-02-30", "January 2018", "not a date"]:
        with pytest.raises(ValueError, match="date"):
            parse_published(bad)
    with pytest.raises(TypeError):
        parse_published(20180126)  # type: ignore[arg-type]


def test_find_dates_accepts_datetime_published() -> None:
    assert one("Stocks fell yesterday.", dt.datetime(2018, 1, 26, 9, 0)).value == "2018-01-25"  # type: ignore[arg-type]


def test_normalize_date() -> None:
    assert normalize_date("late on Thursday", FRI) == "2018-01-25"
    assert normalize_date("last October", FRI) == "2017-10"
    assert normalize_date("the 1970s") == "197X"
    assert normalize_date("January 26, 2018") == "2018-01-26"
    assert normalize_date("May", FRI) == "2017-05"  # lenient: the caller says it is a date
    assert normalize_date("1500") == "1500"
    assert normalize_date("2017-10") == "2017-10"
    assert normalize_date("two years ago", FRI) == "2016"
    assert normalize_date("next week", FRI) == "2018-W05"
    assert normalize_date("yesterday") is None  # relative, no publication date
    assert normalize_date("banana") is None
    assert normalize_date("") is None


# ----------------------------------------------------------------------------------------- GUM calibration


@pytest.mark.skipif(not GUM.exists(), reason="GUM news sample not available")
def test_gum_benchmark_regression() -> None:
    spec = importlib.util.spec_from_file_location("dates_gum", ROOT / "benchmarks" / "dates_gum.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    import json

    gold_n = pred_n = matched = when_n = when_ok = 0
    for line in GUM.read_text(encoding="utf-8").splitlines():
        doc = json.loads(line)
        anchor = mod.dateline(doc["text"]) or dt.date.fromisoformat(doc["date_created"])
        pred = find_dates(doc["text"], anchor)
        g2p = mod.match(doc["dates"], pred)
        gold_n += len(doc["dates"])
        pred_n += len(pred)
        matched += len(g2p)
        for gi, g in enumerate(doc["dates"]):
            if "when" in g["attrs"]:
                when_n += 1
                when_ok += gi in g2p and pred[g2p[gi]].value == g["attrs"]["when"]
    p, r = matched / pred_n, matched / gold_n
    assert 2 * p * r / (p + r) >= 0.85
    assert when_ok / when_n >= 0.8
