"""Quotations and who said them: the scanner that finds the words inside quotation marks, the rules that leave
out what is no quotation, and the rules that name its speaker.

A quotation's speaker comes from, in order: a transcript's label inside it (:data:`TRANSCRIPT_LABEL`), the news
patterns after it (:data:`SPEAKER_AFTER`) and before it (:data:`SPEAKER_BEFORE`), the dependency parse (the
subject of a speech verb in its sentence: ``speaker_finder`` in ``factkit/_ner.py``, passed in as
``find_speaker``), the speaker of the quotation it continues. The speech verbs and pronouns are the lexicon's
(:mod:`factkit.rules.lexicon`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from .._models import Entity, Evidence, Quote, Span
from ._table import Rule, first
from .lexicon import SMALL_WORDS, SPEAKER_PRONOUNS, SPEECH

__all__ = [
    "ATTRIBUTION",
    "NOT_QUOTATIONS",
    "QUOTE_MARKS",
    "RULES",
    "SHORT_TERM",
    "SPEAKER_AFTER",
    "SPEAKER_BEFORE",
    "SPEAKER_BESIDE",
    "TRANSCRIPT_LABEL",
    "attribute_quotes",
    "is_title",
    "open_quotation",
    "passages",
    "quotation_spans",
    "quotations",
    "speaker_near",
]

# ---- the scanner ---------------------------------------------------------------------------------------------

#: Quotation marks, not an inch mark after a number ('a 65" screen'); a mark after a number and before punctuation
#: closes a quotation ('"We lost 2-1", the coach said').
QUOTE_MARKS = re.compile(r'(?<!\d)"|(?<=\d)"(?=[,.;:!?])|[“”„«»]')
_DOUBLE_MARKS = frozenset('"\u201c\u201d\u201e\u00ab\u00bb')
_OPEN_AFTER = "([{\u2014\u2013-/:;"  # what may stand right before an opening mark (besides a space)


def quotations(text: str) -> list[tuple[Span, bool]]:
    """Every quotation in ``text`` (the words inside double quotation marks, marks excluded), in order, each with
    whether it continues an unclosed quotation of the paragraph before it.

    Straight, curly, low and angle marks are read alike, whichever way round a writer typed them: a mark after a
    space (or a line start, a bracket, a dash) opens, a mark before a space or punctuation closes, and a mark
    that opens inside a quotation nests ('"I'd rather live in what he calls "hell" than..."'). A quotation left
    open at the end of its paragraph runs to that end: news style continues a long quotation in the next
    paragraph, which opens with a mark again and has the flag set. A line that closes a quotation it never
    opened continues the one left open before it (text cut into a line a sentence): one quotation over both.
    """
    found: list[tuple[Span, bool]] = []
    carried = False  # the paragraph before ended inside a quotation
    pos = 0
    for line in text.split("\n"):
        start, end = pos, pos + len(line)
        pos = end + 1
        if not line.strip():
            continue  # a blank line between paragraphs: a quotation may still carry over it
        depth, opened = 0, -1
        lead = start + len(line) - len(line.lstrip())
        continues = False
        for i in range(start, end):
            if text[i] not in _DOUBLE_MARKS:
                continue
            prev = text[i - 1] if i > start else " "
            nxt = text[i + 1] if i + 1 < end else " "
            opens = prev.isspace() or prev in _OPEN_AFTER or prev in _DOUBLE_MARKS
            closes = nxt.isspace() or not nxt.isalnum()
            if depth == 0:
                if opens:
                    depth, opened = 1, i
                    continues = carried and i == lead
                elif carried and closes and not prev.isdigit() and not any(c in _DOUBLE_MARKS for c in text[lead:i]):
                    # the line closes a quotation it never opened: the one left open before it runs on (a
                    # sentence break, not a new paragraph, cut the line), one quotation over both lines
                    left_open, its_flag = found.pop()
                    _add_quotation(found, text, left_open.start, i, its_flag)
            elif opens and not closes:
                depth += 1  # a quotation inside a quotation
            else:
                depth -= 1
                if depth == 0:
                    _add_quotation(found, text, opened + 1, i, continues)
        # a quotation left open runs on into the next paragraph; an empty one (a line ending on its opening mark)
        # has nothing to continue
        carried = depth > 0 and _add_quotation(found, text, opened + 1, end, continues)
    return found


def _add_quotation(found: list[tuple[Span, bool]], text: str, a: int, b: int, continues: bool) -> bool:
    """Add the quotation ``text[a:b]`` (trimmed); whether there was one to add."""
    while a < b and text[a].isspace():
        a += 1
    while b > a and (text[b - 1].isspace() or text[b - 1] in ",;:"):
        b -= 1  # '"... in the country," Carney wrote': the comma belongs to the sentence, not the quote
    if a < b:
        found.append((Span(start=a, end=b, text=text[a:b]), continues))
    return a < b


def passages(text: str) -> list[tuple[int, int]]:
    """(start, end) of each quotation of ``text`` with the paragraphs that continue it joined on: one speaker's
    words, however many paragraphs and sentences they run over (see :func:`quotations`)."""
    out: list[tuple[int, int]] = []
    for span, continues in quotations(text):
        if continues and out:
            out[-1] = (out[-1][0], span.end)
        else:
            out.append((span.start, span.end))
    return out


def open_quotation(text: str) -> bool:
    """Whether ``text`` is a piece of a quotation: it opens one it does not close, or closes one it did not open.
    Marks are counted, less the one that opens each paragraph continuing a quotation left open ('He said: "We
    won.\n"We will win again."' is whole); an inch mark after a number ('a 65" screen') is no quotation mark."""
    marks = len(QUOTE_MARKS.findall(text))
    again = sum(1 for span, on in quotations(text) if on and text[: span.start].rstrip()[-1:] in _DOUBLE_MARKS)
    return (marks - again) % 2 == 1


def quotation_spans(text: str, min_words: int = 1) -> list[Span]:
    """Spans of the words inside quotation marks (marks excluded), in order (see :func:`quotations`)."""
    return [s for s, _ in quotations(text) if len(s.text.split()) >= min_words]


# ---- what is no quotation --------------------------------------------------------------------------------------


def is_title(text: str) -> bool:
    """A quoted name of a work, show or slogan ('"Fox News Sunday"', '"Contract with America"'): a few words, all
    capitalised but the small ones, with no closing punctuation. Not a quotation of anybody's words."""
    words = text.split()
    if not words or len(words) > 8 or text[-1] in ".!?…":
        return False
    return words[0][:1].isupper() and all(w[:1].isupper() or not w[:1].isalpha() or w in SMALL_WORDS for w in words)


#: Words in quotation marks that are never a quotation (they are left out of the quotes).
NOT_QUOTATIONS: tuple[Rule[str], ...] = (
    Rule(
        "quoted-title",
        "a quoted name of a work, show or slogan is nobody's words: a few capitalised words, no closing punctuation",
        test=is_title,
        examples=("Fox News Sunday", "Contract with America"),
        counter_examples=("We will appeal.", "we will appeal the ruling"),
    ),
    Rule(
        "markup",
        "quotation marks around markup ('<a href=\"...\">') hold code, not words",
        test=lambda text: "<" in text,
        examples=("<a href=", "/><img src="),
        counter_examples=("We will appeal.",),
    ),
)

#: Words in quotation marks that no speaker says and that continue no quotation are a term, not a quotation.
SHORT_TERM: Rule[str] = Rule(
    "short-term",
    "a few words in quotation marks with no speaker are a term ('the \"sex tape\" reference'), not anybody's words",
    test=lambda text: len(text.split()) < 4,
    examples=("sex tape", "outlaw nation"),
    counter_examples=("We will appeal the ruling.",),
)

# ---- who said it ---------------------------------------------------------------------------------------------

#: The speaker patterns read this many characters after a quotation, and before it.
AFTER_CHARS = 80
BEFORE_CHARS = 80

_NAME = r"((?:[A-Z][\w'’.-]*\s+){0,3}[A-Z][\w'’-]*|he|she|they|He|She|They)"
_CLOSE = r"^[\s,;:.!?\"'”’»]*"  # the closing mark and punctuation between a quotation and its speaker

#: A transcript's speaker label at the start of the quotation: '"WALLACE: Let's start with ...'.
TRANSCRIPT_LABEL: Rule[str] = Rule(
    "transcript-label",
    "a transcript names its speaker in capitals before a colon, inside the quotation",
    re.compile(r"^([A-Z][A-Z.' -]{1,30}):\s"),
    examples=("WALLACE: Let's start with the economy.", "MR. TRUMP: We will win."),
    counter_examples=("Wallace: let's start", "We will win: all of us."),
)

#: The speaker named right after a quotation (group 1 is the name), read from its closing mark on.
SPEAKER_AFTER: tuple[Rule[str], ...] = (
    Rule(
        "after-dash-name",
        "a vox pop credits its speaker after a dash: '...\" ― Veronica Cruz'",
        re.compile(r"^[\s,;:.!?\"'”’»]*[―—–]\s*" + _NAME),
        examples=('." ― Veronica Cruz', "” — Ann Lee, 34"),
        counter_examples=('," said Lee Gelernt', '." It was over.'),
        window=AFTER_CHARS,
    ),
    Rule(
        "after-said-name",
        "news style names the speaker after the verb: '...,\" said Lee Gelernt'",
        re.compile(_CLOSE + SPEECH + r"\s+(?:the\s+)?" + _NAME),
        examples=('," said Lee Gelernt, a lawyer', '," said the Democrat'),
        counter_examples=('," Carney wrote.', '." The court said on Monday'),
        window=AFTER_CHARS,
    ),
    Rule(
        "after-name-said",
        "news style names the speaker before the verb: '...,\" Carney wrote'",
        re.compile(_CLOSE + _NAME + r"\s+" + SPEECH + r"\b"),
        examples=('," Carney wrote.', '," she said.'),
        counter_examples=('," said Lee Gelernt', '." Carney left the room.'),
        window=AFTER_CHARS,
    ),
    Rule(
        "after-according-to",
        "'according to' names the source after a quotation: '...,\" according to Lee'",
        re.compile(_CLOSE + r"according to\s+" + _NAME),
        examples=('," according to Lee Gelernt.',),
        counter_examples=('," the report said, according to Lee',),
        window=AFTER_CHARS,
    ),
    Rule(
        "after-name-role-said",
        "a speaker's role may stand between the name and the verb: '...,\" Flynn, a Trump surrogate, said'",
        re.compile(_CLOSE + _NAME + r",[^,\"“”\n]{3,80},\s+" + SPEECH + r"\b"),
        examples=('," Flynn, a Trump surrogate, said.',),
        counter_examples=('," Flynn, a Trump surrogate, left.', '," Flynn said.'),
        window=AFTER_CHARS,
    ),
)

#: The speaker named right before a quotation (group 1 is the name), read up to its opening mark.
SPEAKER_BEFORE: tuple[Rule[str], ...] = (
    Rule(
        "before-name-said",
        "a speaker and a speech verb lead into the quotation: 'Carney said: \"...'",
        re.compile(_NAME + r"\s+" + SPEECH + r"(?:\s+\w+){0,3}\s*[:,]?\s*$"),
        examples=("Carney said: ", "He told reporters on Monday, "),
        counter_examples=("Carney said the court would rule on ", "The court ruled: "),
        window=-BEFORE_CHARS,
    ),
    Rule(
        "before-according-to",
        "'according to' names the source before a quotation: 'according to Lee, \"...'",
        re.compile(r"according to\s+" + _NAME + r"\s*,?\s*$"),
        examples=("according to Lee Gelernt, ",),
        counter_examples=("according to Lee Gelernt, the court was ",),
        window=-BEFORE_CHARS,
    ),
    Rule(
        "before-said-name",
        "an inverted lead-in: 'Said Ellis: \"...'",
        re.compile(r"\b[Ss]aid\s+" + _NAME + r"\s*[:,]\s*$"),
        examples=("Said Ellis: ",),
        counter_examples=("Ellis said: ", "Said Ellis today "),
        window=-BEFORE_CHARS,
    ),
)


def _speaker_by_patterns(quoted: str, after: str, before: str) -> str | None:
    label = TRANSCRIPT_LABEL.search(quoted)
    if label:
        return label.group(1).strip().title()
    for rules, text in ((SPEAKER_AFTER, after), (SPEAKER_BEFORE, before)):
        for rule in rules:
            m = rule.search(text)
            if m:
                return m.group(1)
    return None


def attribute_quotes(
    text: str,
    entities: Sequence[Entity],
    resolve: Callable[[str], str],
    find_speaker: Callable[[int, int], str | None] | None = None,
) -> list[Quote]:
    """Quotations (the words inside quotation marks; not :data:`NOT_QUOTATIONS`) with their speakers: a
    transcript's label, the news patterns around them, the speaker of the paragraph a continued quotation started
    in, else ``find_speaker`` (the dependency parse: the subject of a speech verb in the quotation's sentence).

    ``resolve``: the name of the speaker a name written beside a quotation stands for (the entity's name); a
    pronoun is resolved here, to whoever spoke last nearby, else the last person of ``entities`` named before."""
    persons = [e for e in entities if e.type == "person"]
    quotes: list[Quote] = []
    last_speaker: str | None = None
    chained: list[bool] = []  # per quote: it continues the one before
    for region, continues in quotations(text):
        if first(NOT_QUOTATIONS, region.text):
            continue
        after = text[region.end : region.end + AFTER_CHARS]
        before = text[max(0, region.start - BEFORE_CHARS - 1) : max(0, region.start - 1)]
        name = _speaker_by_patterns(region.text, after, before)
        if name is not None:  # 'Monday. She said': a sentence ended inside what the pattern took for a name
            last = re.split(r"(?<=[a-z])\.\s+", name)[-1]
            name = last if last.casefold() in SPEAKER_PRONOUNS else name
        if (name is None or name.casefold() in SPEAKER_PRONOUNS) and find_speaker is not None:
            name = find_speaker(region.start, region.end) or name
        prev = quotes[-1] if quotes else None
        between = text[prev.span.end : region.start] if prev is not None else "\n"
        speaker: str | None = None
        if name is None and prev is not None and (continues or ("\n" not in between and len(between) < 120)):
            speaker = prev.speaker  # a quotation continued, or resumed after its attribution ('," he said. "...')
        elif name and name.casefold() in SPEAKER_PRONOUNS:
            # 'she said': whoever spoke last nearby, else the last person named before
            prior = [(mm.start, e.name) for e in persons for mm in e.mentions if mm.start < region.start]
            recent = prev is not None and region.start - prev.span.end < 1500 and prev.speaker in {p for _, p in prior}
            speaker = last_speaker if recent or not prior else max(prior)[1]
        elif name:
            speaker = resolve(name)
        if speaker is None and not continues and SHORT_TERM.fires(region.text):
            continue
        quotes.append(Quote(text=region.text, span=region, speaker=speaker))
        chained.append(continues)
        last_speaker = speaker or last_speaker
    # a quotation run over paragraphs is often attributed in a later one: its first parts take that speaker
    for i in range(len(quotes) - 2, -1, -1):
        if chained[i + 1] and quotes[i].speaker is None:
            quotes[i].speaker = quotes[i + 1].speaker
    return quotes


# ---- attributions without quotation marks ------------------------------------------------------------------------

#: A sentence with a speech verb or 'according to' attributes what it says (a fact's kind: an attribution).
ATTRIBUTION: Rule[str] = Rule(
    "attribution",
    "a speech verb or 'according to' makes a sentence say who says so",
    re.compile(r"\b" + SPEECH + r"\b|\baccording to\b", re.IGNORECASE),
    examples=("The judge said the ruling stands.", "According to the police, 100 people were arrested."),
    counter_examples=("The judge blocked the deportations.", "The sayings of the week."),
)

#: A person named right beside a speech verb is the speaker of an attribution (a person merely mentioned is not).
SPEAKER_BESIDE: tuple[Rule[str], ...] = (
    Rule(
        "verb-after-name",
        "the speech verb right after the name: 'Gelernt said', 'Gelernt, said'",
        re.compile(r"^\s*(?:,\s*)?" + SPEECH + r"\b"),
        examples=(" said on Monday", ", said"),
        counter_examples=(" and others said", " saidx"),
    ),
    Rule(
        "verb-before-name",
        "the speech verb right before the name: 'said Lee Gelernt'",
        re.compile(SPEECH + r",?\s+$"),
        examples=("the ruling is wrong, said ", "wrote, "),
        counter_examples=("said the lawyer ", "the ruling was wrong "),
    ),
)


def speaker_near(evidence: Evidence, entities: Sequence[Entity]) -> str | None:
    """The person named right beside a speech verb in ``evidence`` ('said Lee Gelernt', 'Gelernt said'), if any:
    a person merely mentioned in an attribution is not its speaker."""
    text, base = evidence.text, evidence.start
    after_name, before_name = SPEAKER_BESIDE
    for ent in entities:
        if ent.type != "person":
            continue
        for m in ent.mentions:
            a, b = m.start - base, m.end - base
            if a >= 0 and b <= len(text) and (after_name.fires(text[b:]) or before_name.fires(text[:a])):
                return ent.name
    return None


#: Every rule of this module.
RULES: tuple[Rule[str], ...] = (
    *NOT_QUOTATIONS,
    SHORT_TERM,
    TRANSCRIPT_LABEL,
    *SPEAKER_AFTER,
    *SPEAKER_BEFORE,
    ATTRIBUTION,
    *SPEAKER_BESIDE,
)
