"""Page furniture: the parts of a news page that are not news (captions, bylines, credits, headings, datelines,
time stamps, "3 Min Read", pull quotes' credits), as tables of rules.

- :data:`FURNITURE`: text that is furniture wherever it stands (:func:`is_furniture`, :func:`furniture_match`).
- :data:`TITLE_FURNITURE`: what a page glues to its title line: time stamps before it, a dateline, a byline and
  "N Min Read" after it (:func:`strip_title_furniture`, :func:`clean_title`).
- :data:`LAYOUT`: a line that the page's layout shows is no statement of news: a caption, a pull quote's
  credit, the title, a heading (:func:`layout_rule`, :func:`layout_furniture`). Whether a line has a finite verb
  comes from the parser (``finite_verb_test`` in ``factkit/_ner.py``), passed in as ``finite``.
- :data:`NO_COMMENT` and :data:`LIST_ITEM`: a "could not be reached for comment" line and a list item's marker.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .._document import Document
from ._table import Rule, alternation, first
from .lexicon import CREDIT_LABELS, PICTURE_WORDS

__all__ = [
    "BYLINE_CHARS",
    "CREDIT_WORDS",
    "FURNITURE",
    "HEADING_WORDS",
    "LAYOUT",
    "LIST_ITEM",
    "NO_COMMENT",
    "RULES",
    "TITLE_CHARS",
    "TITLE_FURNITURE",
    "Line",
    "clean_title",
    "furniture_match",
    "is_furniture",
    "layout_furniture",
    "layout_rule",
    "pull_quote_credit",
    "strip_title_furniture",
]

# ---- furniture wherever it stands ----------------------------------------------------------------------------

#: Text that is page furniture, not news. A text is furniture when one of the rules is found in it.
FURNITURE: tuple[Rule[str], ...] = (
    Rule(
        "reporting-by",
        "a wire story's reporter credit: 'Reporting by Dan Levine'",
        re.compile(r"^\s*(?:Additional\s+)?[Rr]eporting\s+by"),
        examples=("Reporting by Dan Levine; Editing by Alistair Bell", "Additional reporting by Ann Lee"),
        counter_examples=("The reporting by the Post was wrong.",),
        what="a byline",
    ),
    Rule(
        "editing-by",
        "a wire story's editor credit: 'Editing by Alistair Bell'",
        re.compile(r"^\s*[Ee]dit(?:ing|ed)\s+by"),
        examples=("Editing by Alistair Bell", "Edited by Ann Lee"),
        counter_examples=("The film was edited by Ann Lee.",),
        what="a byline",
    ),
    Rule(
        "writing-by",
        "a wire story's writer credit: 'Writing by Ann Lee'",
        re.compile(r"^\s*[Ww]riting\s+by"),
        examples=("Writing by Ann Lee",),
        counter_examples=("Her writing by hand was praised.",),
        what="a byline",
    ),
    Rule(
        "credit-label",
        "a line that opens with a credit's label: 'Image: Jane Doe', 'Source: Reuters'",
        re.compile(r"^\s*" + alternation((*PICTURE_WORDS, *CREDIT_LABELS)) + r"s?\s*:"),
        examples=("Image: Protesters outside the courthouse.", "Photos: AP", "Picture: AP", "Source: Reuters"),
        counter_examples=("The image showed protesters.", "Sources said the deal was close."),
        what="a credit",
    ),
    Rule(
        "read-more",
        "a link to another story: 'Read more: ...'",
        re.compile(r"^\s*Read\s+more"),
        examples=("Read more: Judge blocks deportations",),
        counter_examples=("Voters read more news than before.",),
        what="a link",
    ),
    Rule(
        "follow-on",
        "a line that asks readers to follow someone: 'Follow Ann Lee on Twitter'",
        re.compile(r"^\s*Follow\s.{1,60}\son\s+(?:Twitter|X)"),
        examples=("Follow Ann Lee on Twitter @annlee", "Follow us on X"),
        counter_examples=("Follow the money.", "Many follow her on Twitter."),
        what="a link",
    ),
    Rule(
        "follow-updates",
        "a line that sends readers to a live page: 'Follow updates on this story and other news from Essex'",
        re.compile(r"^\s*Follow\s+(?:(?:all\s+)?(?:the\s+)?(?:latest|live)\s+)?updates\b", re.IGNORECASE),
        examples=("Follow updates on this story and other news from Essex", "Follow live updates here"),
        counter_examples=("Follow-up talks are planned.", "Followers get updates on the story."),
        what="a link",
    ),
    Rule(
        "media-playback",
        "a video player's notice: 'Media playback is not supported on this device'",
        re.compile(r"^\s*Media\s+playback\s+is\s+(?:not\s+supported|unsupported)\b", re.IGNORECASE),
        examples=("Media playback is not supported on this device", "Media playback is unsupported on your device"),
        counter_examples=("The media said playback of the tape was not supported by the court.",),
        what="a notice",
    ),
    Rule(
        "copyright",
        "a copyright notice",
        re.compile(r"^\s*(?:Copyright\b|©)"),
        examples=("Copyright 2018 Reuters.", "© 2018 The Associated Press"),
        counter_examples=("The copyright case went to court.",),
        what="a notice",
    ),
    Rule(
        "sign-up",
        "a newsletter's call to sign up",
        re.compile(r"^\s*Sign\s+up\b"),
        examples=("Sign up for our daily newsletter",),
        counter_examples=("Voters can sign up until Friday.",),
        what="a notice",
    ),
    Rule(
        "min-read",
        "a page's reading time: '3 Min Read'",
        re.compile(r"\b\d+\s+Min\s+Read\b"),
        examples=("Judge blocks deportations 3 Min Read",),
        counter_examples=("He waited 3 minutes to read it.",),
        what="a reading time",
    ),
    Rule(
        "updated-ago",
        "a page's time stamp: 'Updated 16 minutes ago'",
        re.compile(r"\bUpdated\s+\d+\s+(?:minutes?|hours?)\s+ago\b"),
        examples=("January 26, 2018 / Updated 16 minutes ago",),
        counter_examples=("The list was updated 16 times.",),
        what="a time stamp",
    ),
    Rule(
        "picture-credit-end",
        "a picture's credit at the end of a line: '(Image: Jane Doe)'",
        re.compile(r"\(?" + alternation(PICTURE_WORDS) + r"\s*:\s*[^)]*\)?\s*$"),
        examples=("Protesters outside the courthouse (Image: Jane Doe)", "The ship in port. Photo: AP", "(Video: AP)"),
        counter_examples=("The image showed protesters.", "Photo: AP) and then the court ruled"),
        what="a caption",
    ),
)


def furniture_match(text: str) -> tuple[Rule[str], re.Match[str]] | None:
    """The furniture in ``text`` that starts first (on a tie, the rule listed first), with its rule."""
    found = [(m, rule) for rule in FURNITURE if (m := rule.search(text)) is not None]
    if not found:
        return None
    m, rule = min(found, key=lambda f: f[0].start())  # min keeps the first of equal starts: the table's order
    return rule, m


def is_furniture(text: str) -> bool:
    """Page furniture, not news: a caption, a byline, a credit, a 'Min Read' header (:data:`FURNITURE`)."""
    return any(rule.fires(text) for rule in FURNITURE)


# ---- what a page glues to its title ----------------------------------------------------------------------------

_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
_SEP = r"[/|·•,–—-]"
# A page's time stamps before its title: "January 26, 2018 / 8:49 PM / Updated 16 minutes ago", "Published 3 hours
# ago |", "Updated: 10:02 AM EST". Each piece is a whole stamp: a date, a time with AM/PM or a separator after it
# ("3:10 to Yuma" is a title), "Updated"/"Published"/"Posted" only with ":", "on <date>" or "N minutes ago" ("Updated
# Apple maps...", "Published author wins..." are titles). Matched from the start only; each stamp is an atomic group
# (the match never backtracks into a stamp it has read), so a long line is read in linear time.
_STAMP_HEAD = re.compile(
    rf"^(?:(?>\s*(?:(?:(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day,?\s+)?{_MONTH}\s+\d{{1,2}},?\s+\d{{4}}\b"
    rf"|\d{{1,2}}\s+{_MONTH}\s+\d{{4}}\b"
    rf"|\d{{1,2}}:\d{{2}}\s*[AaPp]\.?[Mm]\b\.?(?:\s+[A-Z]{{2,4}}\b)?|\d{{1,2}}:\d{{2}}(?=\s*{_SEP})"
    r"|(?:Last\s+)?(?:Updated|Published|Posted)(?::|\s+on\b(?=\s+(?:[A-Z][a-z]+day|" + _MONTH + r"|\d))"
    r"|\s+\d+\s+(?:seconds?|minutes?|hours?|days?)\s+ago\b))"
    rf"\s*{_SEP}?))+\s*"
)
_DATELINE = re.compile(r"^[A-Z][A-Z .,/'’-]{2,60}\s*\((?:Reuters|AP|AFP|UPI|Bloomberg|dpa)\)\s*[-–—]+\s*")
# A person's name in a byline: a first name, an optional initial, a last name ("Dan Levine", "Mica J. Rosenberg").
# A name's word has at most 40 letters, so that a list of names is read in linear time.
_BYLINE_NAME = r"[A-Z][a-z’'-]{1,40}(?:\s[A-Z]\.)?\s[A-Z][A-Za-z’'-]{1,40}"
_BYLINES = rf"{_BYLINE_NAME}(?:\s?(?:,|&|\band\b)\s?{_BYLINE_NAME})*"
# After the title: names (or "By" names) and "N Min Read"; or "By" names after a separator ("... | By Dan Levine").
# Not "by Name" alone: "Abortion ban blocked by Supreme Court" is a title.
_BYLINE_TAIL = re.compile(
    rf"(?:(?:\bBy\s)?{_BYLINES}\s?)?\b\d+\s?[Mm]in(?:ute)?s?\s[Rr]ead\s*$|\s?{_SEP}\s?[Bb]y\s{_BYLINES}\s*$"
)
#: The byline is looked for in the title's last characters only (and with its whitespace collapsed): a bounded search.
BYLINE_CHARS = 200


def _byline_tail(text: str) -> str:
    return " ".join(text.split())[-BYLINE_CHARS:]


TIME_STAMP: Rule[str] = Rule(
    "time-stamp",
    "a page's date, time and 'Updated ... ago' stamps before its title",
    _STAMP_HEAD,
    examples=(
        "January 26, 2018 / 8:49 PM / Updated 16 minutes ago U.S. judge blocks deportations",
        "Published 3 hours ago | Judge blocks deportations",
        "Updated: 10:02 AM EST Judge blocks deportations",
    ),
    counter_examples=(
        "3:10 to Yuma remake opens in theaters",
        "12:45 Amazon shares fall sharply",
        "Updated Apple maps will ship in March",
        "Published author wins Booker Prize",
    ),
    what="a time stamp",
)
DATELINE: Rule[str] = Rule(
    "dateline",
    "a wire story's dateline: 'SAN FRANCISCO (Reuters) - '",
    _DATELINE,
    examples=("SAN FRANCISCO (Reuters) - A federal judge said", "PARIS (AFP) — The minister resigned."),
    counter_examples=("San Francisco (Reuters) - A judge said", "WASHINGTON - A judge said"),
    what="a dateline",
)
BYLINE: Rule[str] = Rule(
    "byline",
    "a byline and a reading time after the title: 'Dan Levine , Mica Rosenberg 3 Min Read', '| By Dan Levine'",
    _BYLINE_TAIL,
    test=lambda text: _BYLINE_TAIL.search(_byline_tail(text)) is not None,
    examples=(
        "U.S. judge blocks deportation Dan Levine , Mica Rosenberg 3 Min Read",
        "Judge blocks deportations | By Dan Levine",
    ),
    counter_examples=("Abortion ban blocked by Supreme Court", "Twitter bought by Elon Musk"),
    what="a byline",
)
#: What a page glues to its title line, in the order they are taken off.
TITLE_FURNITURE: tuple[Rule[str], ...] = (TIME_STAMP, DATELINE, BYLINE)


def strip_title_furniture(text: str) -> tuple[str, tuple[Rule[str], ...]]:
    """A title line or a headline without its page furniture (:data:`TITLE_FURNITURE`), and the rules that took
    some off. Text without furniture comes back as it was."""
    fired: list[Rule[str]] = []
    out = _STAMP_HEAD.sub("", text, count=1)
    if out != text:
        fired.append(TIME_STAMP)
    undated = _DATELINE.sub("", out, count=1)
    if undated != out:
        fired.append(DATELINE)
    out = undated
    flat = " ".join(out.split())
    head, tail = flat[:-BYLINE_CHARS], flat[-BYLINE_CHARS:]
    cut = _BYLINE_TAIL.sub("", tail, count=1)
    if cut != tail:
        out = head + cut
        fired.append(BYLINE)
    return (out.strip(" \t|/·•–—-") if out != text else text), tuple(fired)


def clean_title(text: str) -> str:
    """A title line or a headline without its page furniture: the time stamps before it, a dateline ("SAN
    FRANCISCO (Reuters) -"), a byline and "N Min Read" after it. "January 26, 2018 / 8:49 PM / Updated 16 minutes
    ago U.S. judge blocks prompt deportation of Cambodians Dan Levine , Mica Rosenberg 3 Min Read" -> "U.S. judge
    blocks prompt deportation of Cambodians". Text without furniture comes back as it was."""
    return strip_title_furniture(text)[0]


# ---- lines the layout shows are no news ------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """A line of a page as the layout rules read it: its text (stripped), whether it is the page's first line, and
    whether the parser finds a finite verb in it (``None`` without a parser)."""

    text: str
    first: bool = False
    finite: bool | None = None


# A line that ends with a picture's credit is a caption, all of it: "An example of severe eczema. Image: Jambula."
_CREDIT_END = re.compile(r"(?:^|\s)\(?" + alternation((*PICTURE_WORDS, *CREDIT_LABELS)) + r"s?\s*:\s*[^\n:]{1,120}$")
# A pull quote: a line that is a quotation, then its credit: a dash and a name ('"... But it's a long game." - Matthew
# Ingram'), or a name and a quoted title ('"... against The Church of Scientology." Anonymous blogger, "Anon declares
# war on Church of Scientology"'). Not a paragraph that goes on after a quotation ('"We are done." Acme laid off ...').
# The credit's length is bounded so that a long line full of quotation marks is matched in linear time.
_PULL_QUOTE = re.compile(
    r'^["“‘].*?(?:["”’]\s*(?P<dash>[-–—―]\s*[A-Z][^"“”]{0,150}[^\s.!?])|[.!?…]["”]\s*(?P<titled>[A-Z][^"“”,]{0,80},\s*["“][^"“”]{1,150}["”]))$'
)
#: A pull quote's credit has at most this many words.
CREDIT_WORDS = 12
_SENTENCE_END = re.compile(r"[.!?:;。．！？…][\"”’')\]]*$")
#: A title line longer than this is not used as a headline.
TITLE_CHARS = 160
#: Without a parser, a line this short that does not end a sentence is taken for a heading.
HEADING_WORDS = 8


def _ends_sentence(text: str) -> bool:
    return bool(_SENTENCE_END.search(text))


def _credit_start(line: str) -> int | None:
    """Where the credit starts in ``line`` (stripped), when the line is a pull quote (:data:`_PULL_QUOTE`)."""
    pull = _PULL_QUOTE.match(line)
    if pull is None:
        return None
    group = "dash" if pull["dash"] else "titled"
    if len(pull[group].split()) > CREDIT_WORDS:
        return None
    return pull.start(group)


CAPTION_CREDIT: Rule[Line] = Rule(
    "caption-credit",
    "a line that ends with a picture's credit is a caption, all of it",
    _CREDIT_END,
    test=lambda line: _CREDIT_END.search(line.text) is not None,
    examples=(
        Line("An example of severe eczema. Image: Jambula."),
        Line("The ship in port. Photo: Jane Doe"),
        Line("Unemployment by state, 2017. Source: Labor Department"),
    ),
    counter_examples=(Line("The image: a ship in port, seen from the shore."), Line("Image: a ship: in port")),
    what="a caption",
)
PULL_QUOTE_CREDIT: Rule[Line] = Rule(
    "pull-quote-credit",
    "a line that is a quotation and its credit is a pull quote: the credit is no statement of news",
    _PULL_QUOTE,
    test=lambda line: _credit_start(line.text) is not None,
    examples=(
        Line('"... But it\'s a long game." - Matthew Ingram'),
        Line('"We will fight this." Anonymous blogger, "Anon declares war on Church of Scientology"'),
    ),
    counter_examples=(Line('"We are done." Acme laid off 200 workers on Friday.'), Line("A line with no quotation.")),
    what="a pull quote's credit",
)
TITLE_LINE: Rule[Line] = Rule(
    "title-line",
    "the page's first line, above the story, that ends no sentence is its title",
    test=lambda line: line.first and not _ends_sentence(line.text),
    examples=(Line("Judge blocks deportations of Cambodians", first=True),),
    counter_examples=(
        Line("A judge blocked the deportations.", first=True),
        Line("Judge blocks deportations of Cambodians", first=False),
    ),
    what="the title",
)
SHORT_HEADING: Rule[Line] = Rule(
    "short-heading",
    f"without a parser, a line of its own of at most {HEADING_WORDS} words that ends no sentence is a heading",
    test=lambda line: (
        line.finite is None and not _ends_sentence(line.text) and len(re.findall(r"\w+", line.text)) <= HEADING_WORDS
    ),
    examples=(Line("Group F — Sweden 1 – 0 Korea Republic"),),
    counter_examples=(
        Line("Sweden won the match."),
        Line("Sweden edges South Korea in a World Cup opener in Nizhny Novgorod on Monday"),
        Line("Group F — Sweden 1 – 0 Korea Republic", finite=False),
    ),
    what="a heading",
)
VERBLESS_HEADING: Rule[Line] = Rule(
    "verbless-heading",
    "a line of its own with no finite verb that ends no sentence is a heading",
    test=lambda line: line.finite is False and not _ends_sentence(line.text),
    examples=(Line("Outrage, but few options on the table", finite=False),),
    counter_examples=(Line("Sweden edges South Korea", finite=True), Line("The ship in Bonaire.", finite=False)),
    what="a heading",
)
VERBLESS_CAPTION: Rule[Line] = Rule(
    "verbless-caption",
    "a line of its own that is one sentence with no finite verb is a caption or a heading",
    test=lambda line: line.finite is False and _ends_sentence(line.text),
    examples=(Line("The Church of Scientology's cruise ship Freewinds in Bonaire.", finite=False),),
    counter_examples=(Line("The ship sailed to Bonaire.", finite=True), Line("The ship in Bonaire", finite=False)),
    what="a caption or a heading",
)
#: Lines that are no statement of news, in the order they are tried (:func:`layout_rule`).
LAYOUT: tuple[Rule[Line], ...] = (
    CAPTION_CREDIT,
    PULL_QUOTE_CREDIT,
    TITLE_LINE,
    SHORT_HEADING,
    VERBLESS_HEADING,
    VERBLESS_CAPTION,
)

#: A list item's marker: not part of its statement, and a list item is never a heading.
LIST_ITEM: Rule[str] = Rule(
    "list-item",
    "a line that opens with a bullet or a number and a space is a list item",
    re.compile(r"^\s*(?:[-*•–—]|\d{1,2}[.)])\s"),
    examples=("- faster updates", "• one", "2) the second"),
    counter_examples=("2018 was a good year.", "-5 degrees", "Faster updates"),
)
#: A line that says someone could not be reached is no fact about the news.
NO_COMMENT: Rule[str] = Rule(
    "no-comment",
    "'could not be reached for comment', 'declined to comment': the absence of a statement is no fact",
    re.compile(
        r"\b(?:could\s+not|couldn't|did\s+not|didn't|has\s+not|hasn't)\s+(?:immediately\s+)?(?:be\s+reached|respond|"
        r"return|reply)|\bdeclined\s+to\s+comment\b|\bnot\s+(?:immediately\s+)?(?:be\s+)?available\s+for\s+comment\b",
        re.IGNORECASE,
    ),
    examples=(
        "A Justice Department spokesman could not immediately be reached for comment.",
        "The company declined to comment.",
    ),
    counter_examples=("The spokesman said the company would comment later.",),
)


def _line(text: str, start: int, end: int) -> tuple[int, int]:
    a = text.rfind("\n", 0, start) + 1
    b = text.find("\n", end)
    return a, (len(text) if b == -1 else b)


def layout_rule(doc: Document, start: int, end: int, finite: Callable[[str], bool] | None = None) -> Rule[Line] | None:
    """The rule of :data:`LAYOUT` that says the text at ``start:end`` is no statement of news, by the page's layout:
    a line that ends with a picture's credit; the credit after a line's quotation; a first line that ends no
    sentence, above the story; a line of its own that ends no sentence and has no finite verb (or, without a parser,
    ``finite``, has at most :data:`HEADING_WORDS` words), or is one sentence with no finite verb. ``None`` for the
    story's sentences, and for list items."""
    a, b = _line(doc.text, start, end)
    text = doc.text[a:b].strip()
    if not text:
        return None
    if CAPTION_CREDIT.fires(Line(text)):
        return CAPTION_CREDIT
    credit = pull_quote_credit(doc, start, end)
    if credit is not None and start >= credit:
        return PULL_QUOTE_CREDIT
    if doc.text[a:start].strip() or doc.text[end:b].strip() or LIST_ITEM.fires(text) or not doc.text[b:].strip():
        return None  # part of a paragraph, a list item, or the last line (a heading or a caption is above something)
    if TITLE_LINE.fires(Line(text, first=not doc.text[:a].strip())):
        return TITLE_LINE
    line = Line(text, finite=None if finite is None else finite(text))
    return first((SHORT_HEADING, VERBLESS_HEADING, VERBLESS_CAPTION), line)


def layout_furniture(doc: Document, start: int, end: int, finite: Callable[[str], bool] | None = None) -> str | None:
    """What the text at ``start:end`` is when the page's layout says it is not a statement of news (the ``what`` of
    :func:`layout_rule`): 'a caption', "a pull quote's credit", 'the title', 'a heading', 'a caption or a heading'."""
    rule = layout_rule(doc, start, end, finite)
    return rule.what if rule is not None else None


def pull_quote_credit(doc: Document, start: int, end: int) -> int | None:
    """Where the credit of a pull quote begins, when the line holding ``start:end`` is one (:data:`_PULL_QUOTE`)."""
    a, b = _line(doc.text, start, end)
    raw = doc.text[a:b]
    at = _credit_start(raw.strip())
    return None if at is None else a + len(raw) - len(raw.lstrip()) + at


#: Every rule of this module.
RULES: tuple[Rule[str] | Rule[Line], ...] = (*FURNITURE, *TITLE_FURNITURE, *LAYOUT, LIST_ITEM, NO_COMMENT)
