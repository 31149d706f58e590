"""Statements and names, read alone: when a sentence cannot be a key point on its own, and how a name the parser
found is cleaned before it is grounded.

A key point is read without the article around it, so a statement that leans on the sentence before it, or is a
piece of a quotation, is left out of the key points (:func:`leaning_rule`; it stays a fact, flagged by
``factkit._standalone`` where the parse says what it leans on). A name from the parser's entity spans goes through
:data:`NAME_RULES` (``factkit._ner``): each rule names what it cuts or drops.
"""

from __future__ import annotations

import re

from ._table import Rule
from .lexicon import PICTURE_WORDS
from .quotes import QUOTE_MARKS, open_quotation, passages

__all__ = [
    "KEY_POINT_RULES",
    "NAME_RULES",
    "QUOTE_MARKS",
    "bare_quote",
    "cut_caption",
    "cut_score",
    "leaning_rule",
    "split_joined",
    "stands_alone",
    "unbalanced_quote",
]


def unbalanced_quote(text: str) -> bool:
    """A piece of a quotation that runs over several sentences (:func:`factkit.rules.quotes.open_quotation`)."""
    return open_quotation(text)


_LEANS_BACK = re.compile(
    r"^(?:He|She|It|Its|They|Their|Them|His|Her|I|I'm|I've|We|We're|My|Our|This\s+(?:is|was)|"
    r"These\s+(?:are|were)|But|And|Or|So|Yet)\b(?![-.])"
)
_BARE_QUOTE = re.compile(r'["“‘][^"“”‘]*["”’][.!?]?')
_LOWER_START = re.compile(r"^[a-z]+\b")


def bare_quote(text: str) -> bool:
    """A quotation and nothing else: no one to say it ('"We will appeal."', or one over several paragraphs,
    each opening with a mark again)."""
    text = text.strip()
    if _BARE_QUOTE.fullmatch(text) is not None:
        return True
    quoted = passages(text)
    outside = text
    for a, b in reversed(quoted):
        outside = outside[:a] + outside[b:]
    return bool(quoted) and not any(c.isalnum() for c in outside)


KEY_POINT_RULES: tuple[Rule[str], ...] = (
    Rule(
        "leans-back",
        "a statement that opens on a pronoun or a linking word leans on the sentence before it",
        pattern=_LEANS_BACK,
        examples=("Its round shape symbolizes wealth.", "But it's a long game.", "We will appeal the ruling."),
        counter_examples=("I-95 was closed for hours.", "I.B.M. reported a loss.", "So-called experts disagreed."),
    ),
    Rule(
        "open-quotation",
        "an opening quotation mark with no closing one is a piece of a quotation that runs over several sentences",
        pattern=QUOTE_MARKS,
        test=unbalanced_quote,
        examples=("\"So far, it's the Internet: 1, Scientology: 0.",),
        counter_examples=('"We will appeal," the lawyer said.', 'A 65" screen costs more than a 55" one now.'),
    ),
    Rule(
        "bare-quote",
        "a quotation and nothing else has no one to say it",
        pattern=_BARE_QUOTE,
        test=lambda s: bare_quote(s),
        examples=('"A new obsession is taking hold on the internet."', "‘We will not raise taxes’."),
        counter_examples=('"We will appeal," the lawyer said.', "The lawyer said they would appeal."),
    ),
    Rule(
        "lead-in",
        "a statement that ends on a colon introduces a list or a quotation that is not in it",
        test=lambda s: s.rstrip().endswith(":"),
        examples=("Microsoft is promising to improve the experience by:",),
        counter_examples=("The council said: the bridge will open in May.",),
    ),
    Rule(
        "lower-start",
        "a statement that starts on a word in lower case is a piece of a sentence, not one",
        pattern=_LOWER_START,
        examples=("faster updates that arrive on a schedule",),
        counter_examples=("eBay reported a loss.", "iPhone sales rose in March."),
    ),
)


def leaning_rule(statement: str) -> Rule[str] | None:
    """The first key-point rule a statement fails, or ``None`` when it stands alone."""
    return next((rule for rule in KEY_POINT_RULES if rule.fires(statement)), None)


def stands_alone(statement: str) -> bool:
    """Whether a statement can be a key point on its own (:data:`KEY_POINT_RULES`)."""
    return leaning_rule(statement) is None


# Each starts only where a run of spaces starts and never gives back a space it read.
_EDGE_NUMBER = re.compile(r"^\d++\s++|(?<!\s)\s++\d++$")
_JOINED = re.compile(r"(?<!\s)\s++(?:in|the|at)\s++")
_JOINS_OK = re.compile(r"^(?:The\s+)?(?:Council|Committee|Commission|Conference|Institute|Office|Court)\b")
_PICTURES = frozenset(PICTURE_WORDS)
#: Letters written after a name ('Mark Tedeschi, QC'), not names themselves.
POSTNOMINALS = frozenset(["QC", "KC", "SC", "MP", "MEP", "MBE", "OBE", "CBE", "KBE", "PhD", "MD", "Jr", "Sr", "Esq"])

NAME_RULES: dict[str, Rule[str]] = {
    r.id: r
    for r in (
        Rule(
            "caption-tail",
            "a picture label after a name ('Image', 'Photo:') is the caption's, not the name's",
            test=lambda n: cut_caption(n) != n.strip(),
            examples=("Tom Cruise Image", "Valeska Paris Photo:"),
            counter_examples=("Photo Agency Ltd", "Tom Cruise"),
        ),
        Rule(
            "edge-number",
            "a number at either end of a name is a score beside a team ('Sweden 1'), not part of the name",
            pattern=_EDGE_NUMBER,
            examples=("Sweden 1", "2 England"),
            counter_examples=("Boeing 747-8", "Apollo Theater"),
        ),
        Rule(
            "unclosed-bracket",
            "a span that opens a bracket and does not close it holds two names, the second unfinished",
            test=lambda n: n.count("(") != n.count(")"),
            examples=("The World Health Organisation (WHO",),
            counter_examples=("The World Health Organisation (WHO)", "Tom Cruise"),
        ),
        Rule(
            "joined-names",
            "two names joined by 'in', 'the' or 'at' are two names, unless the first is a body that names its seat",
            pattern=_JOINED,
            test=lambda n: _JOINED.search(n) is not None and _JOINS_OK.match(n) is None,
            examples=("Freewinds in Bonaire", "Rathbun the Scientology"),
            counter_examples=("Court of Appeal in London", "Mark Rathbun"),
        ),
        Rule(
            "no-name",
            "a span with no capital letter, a social-media handle or letters after a name (QC, MP) is no name",
            test=lambda n: not n or not any(ch.isupper() for ch in n) or n.startswith("@") or n in POSTNOMINALS,
            examples=("the government", "@factkit", "QC"),
            counter_examples=("Mark Tedeschi", "eBay"),
        ),
    )
}


def cut_caption(name: str) -> str:
    """A name without the picture labels at its end (``caption-tail``): read word by word from the end, so that a
    long run of labels costs one pass ("Tom" + " Photo" * 8000 + " y" is read once, and stays as it is)."""
    end = len(name) - 1 if name.endswith("\n") else len(name)  # a last line break is no word
    cut = end
    while True:
        start = cut
        while start > 0 and not name[start - 1].isspace():
            start -= 1
        if start == 0 or start == cut or name[start:cut].removesuffix(":") not in _PICTURES:
            return (name[:cut] + name[end:]).strip()
        cut = start
        while cut > 0 and name[cut - 1].isspace():
            cut -= 1


def cut_score(name: str) -> str:
    """A name without a number at either end (``edge-number``)."""
    return _EDGE_NUMBER.sub("", name).strip()


def split_joined(name: str) -> list[str]:
    """The names a span of two joined names holds (``joined-names``)."""
    return _JOINED.split(name)
