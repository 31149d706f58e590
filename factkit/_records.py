"""Build grounded public records from wire records. Pure functions of (Document, wire record).

Here: what grounding produced (:class:`Grounded`), facts (the model's, grounded by the sentences they cite, or the
article's own sentences), their links to entities, quotes, dates and quantities, and key points. Entities are
grounded in ``_entities.py``, the headline and tldr checked in ``_summary.py``; the rules for quotes and page
furniture are in ``factkit/rules/``."""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from ._document import Document, Sentence, article_dates, looks_like_injection, per_document
from ._entities import fix_initials, ground_entities
from ._errors import InputError
from ._grounding import (
    best_sentence,
    find_numbers,
    find_value,
    normalize,
    normalize_with_map,
    overlap,
    same_number,
    sentences_span,
    span_of,
    unsupported_numbers,
)
from ._models import (
    DateMention,
    Entity,
    Evidence,
    Fact,
    FactKind,
    KeyPoint,
    Quantity,
    Quote,
    Rejected,
    Span,
    Summary,
)
from ._ner import Pipeline, finite_verb_test
from ._wire import STATEMENT_CHARS, WireEntities, WireFact
from .checker import Verdict, verify
from .rules import dates as _dates
from .rules.furniture import (
    DATELINE,
    LIST_ITEM,
    NO_COMMENT,
    TIME_STAMP,
    furniture_match,
    is_furniture,
    layout_rule,
    pull_quote_credit,
)
from .rules.quantities import concept_of, find_quantities, has_concept
from .rules.quotes import ATTRIBUTION, open_quotation, passages, quotation_spans, speaker_near
from .rules.statements import QUOTE_MARKS, bare_quote, stands_alone, unbalanced_quote

#: A statement sharing less than this share of content words with its cited sentences is re-checked.
MIN_SUPPORT = 0.34
#: ... and rejected when no sentence supports it at least this well.
REJECT_SUPPORT = 0.2
KEY_POINTS = 5


@dataclass
class Grounded:
    """What grounding produced from one wire record."""

    facts: list[Fact] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
    key_points: list[KeyPoint] = field(default_factory=list)
    headline: str = ""
    tldr: str = ""
    rejected: list[Rejected] = field(default_factory=list)

    def reject(self, kind: str, item: Any, reason: str, problems: list[str]) -> None:
        data = item.model_dump(exclude_none=True) if hasattr(item, "model_dump") else dict(item)
        self.rejected.append(Rejected(kind=kind, item=data, reason=reason))
        problems.append(reason)


# ---- facts ---------------------------------------------------------------------------------------------


def _cited(doc: Document, numbers: list[int]) -> list[Sentence] | None:
    found = [doc.sentence(n) for n in dict.fromkeys(numbers)]
    if not found or any(s is None for s in found):
        return None
    return [s for s in found if s is not None]


def _support(doc: Document, statement: str, numbers: list[int]) -> tuple[Evidence | None, str | None]:
    """Evidence for a statement from its cited sentences, re-pointed when another sentence fits better."""
    cited = _cited(doc, numbers)
    if cited is None:
        bad = [n for n in numbers if doc.sentence(n) is None]
        return None, f"cites sentence {bad[0]}, but the article has {len(doc.sentences)} sentences"
    if len(cited) > 1:
        # several sentences cited: keep the one that carries the statement, if one does on its own
        best_one = max(cited, key=lambda s: overlap(statement, s.text))
        if overlap(statement, best_one.text) >= overlap(statement, " ".join(s.text for s in cited)) - 0.05:
            cited = [best_one]
    if any(looks_like_injection(s.text) for s in cited):
        return None, "cites a sentence that gives orders to AI systems (hidden from the model)"
    evidence = sentences_span(doc, cited)
    score = overlap(statement, evidence.text)
    if score < MIN_SUPPORT:
        best = best_sentence(doc, statement)
        if best is not None and best[1] >= max(0.5, score + 0.2):
            evidence = sentences_span(doc, [best[0]])
            score = best[1]
    if unsupported_numbers(statement, evidence.text):
        # the statement's numbers are elsewhere: a sentence that has them and fits the statement wins
        fits = [
            (s, overlap(statement, s.text))
            for s in doc.sentences
            if not unsupported_numbers(statement, s.text) and not looks_like_injection(s.text)
        ]
        fits = [f for f in fits if f[1] >= max(0.5, score - 0.1)]
        if fits:
            best_fit = max(fits, key=lambda f: f[1])
            evidence, score = sentences_span(doc, [best_fit[0]]), best_fit[1]
    if score < REJECT_SUPPORT:
        return None, f"is not supported by sentence(s) {', '.join(map(str, numbers))}"
    return evidence.model_copy(update={"score": round(min(1.0, score), 4)}), None


def _quantity(doc: Document, fact: WireFact, statement: str, evidence: Evidence) -> tuple[Quantity | None, str | None]:
    value = fact.value
    if value is None:
        if fact.kind != "quantity":
            return None, None
        # the model forgot the number: take the first one the statement and its evidence share
        shared = [h for h in find_numbers(statement) if find_value(evidence.text, h.value)]
        if not shared:
            return None, None
        value = shared[0].value
    hit = find_value(evidence.text, value)
    if hit is None:
        if fact.kind != "quantity":
            return None, None  # a stray number on a fact that isn't about one: drop the number, keep the fact
        return None, f"has the number {value:g}, which its evidence does not contain"
    a, b = evidence.start + hit.start, evidence.start + hit.end
    for q in article_quantities(doc):  # the rules' reading of the same number: its unit normalised, its bound
        if q.span is not None and q.span.start <= a < q.span.end and (hit.means(q.value) or q.low is not None):
            return q, None
    unit = (fact.unit or "").strip()
    return Quantity(
        value=value, unit=unit, approximate=hit.approximate, span=span_of(doc.text, a, b), surface=unit
    ), None


def _without_known_dates(doc: Document, statement: str, evidence: Evidence) -> str:
    """``statement`` with the dates blanked that resolve to a date its evidence states ('on Thursday, January 25,
    2018' for 'on Thursday' in an article of January 26): their numbers are the evidence's, written out."""
    known = {h.value for h in article_dates(doc) if evidence.start <= h.start < evidence.end}
    out = statement
    for h in _dates.find_dates(statement, doc.published):
        if h.value and h.value in known:
            out = out[: h.start] + " " * (h.end - h.start) + out[h.end :]
    return out


def checked(text: str, doc: Document, nlp: Pipeline | None, judge: Any) -> Verdict:
    """:func:`verify` for a sentence the model wrote: one too long to be a claim (the model ignored its length cap)
    is not supported, with the reason, rather than an error that would end the whole extraction."""
    try:
        return verify(text, doc, nlp=nlp, model=judge)
    except InputError as exc:
        return Verdict(claim=text[:2000], label="not_found", evidence=[], reason=str(exc), score=0.0, rule="bounds")


def ground_facts(
    doc: Document,
    wire_facts: list[WireFact],
    out: Grounded,
    problems: list[str],
    nlp: Pipeline | None = None,
    judge: Any = None,
) -> None:
    """The model's facts, each grounded by its cited sentences; with ``judge`` (a backend), a statement in the
    model's own words must also be one the checker finds the article states (:func:`verify`)."""
    for i, f in enumerate(wire_facts, 1):
        statement = fix_initials(" ".join(f.statement.split()), doc.text)
        label = f"fact {i} ({statement[:60]!r})"
        evidence, problem = _support(doc, statement, f.s)
        if evidence is None:
            out.reject("fact", f, f"{label} {problem}", problems)
            continue
        statement = snap_to_source(statement, evidence.text)
        if was_cut(statement):
            # cut mid-phrase by the length cap: the exact evidence says it whole, when it is one sentence
            if len(_cited(doc, f.s) or []) != 1 or len(evidence.text) > 2 * STATEMENT_CHARS + 100:
                out.reject("fact", f, f"{label} was cut off by the length cap, and its evidence is too long", problems)
                continue
            statement = " ".join(evidence.text.split())
        if unbalanced_quote(statement) and not unbalanced_quote(evidence.text) and len(_cited(doc, f.s) or []) == 1:
            # a piece of a quotation that lost its opening mark ('It is disingenuous...," Carney wrote.'): the
            # sentence says it whole, with its marks
            statement = " ".join(evidence.text.split())
        missing = unsupported_numbers(_without_known_dates(doc, statement, evidence), evidence.text)
        if missing:
            out.reject("fact", f, f"{label} states {', '.join(missing)}, which its evidence does not say", problems)
            continue
        quantity, problem = _quantity(doc, f, statement, evidence)
        if problem:
            out.reject("fact", f, f"{label} {problem}", problems)
            continue
        kind = f.kind if (f.kind != "quantity" or quantity is not None) else "event"
        if furniture := furniture_match(evidence.text):
            reason = f"{label} is page furniture (a caption, byline or credit), not a fact {furniture[0].tag}"
            out.reject("fact", f, reason, problems)
            continue
        if layout := layout_rule(doc, evidence.start, evidence.end, finite_verb_test(nlp)):
            out.reject("fact", f, f"{label} cites {layout.what}, not a statement of news {layout.tag}", problems)
            continue
        if any(_same_fact(statement, evidence, other) for other in out.facts):
            continue
        if judge is not None and statement not in doc.text:
            verdict = checked(statement, doc, nlp, judge)
            if verdict.label != "supported":
                what = verdict.label.replace("_", " ")
                out.reject("fact", f, f"{label} is {what} in the article: {verdict.reason}", problems)
                continue
        out.facts.append(Fact(statement=statement, kind=kind, evidence=evidence, quantity=quantity))


def sentence_facts(doc: Document, nlp: Pipeline | None = None) -> list[Fact]:
    """The article's sentence facts (:func:`_sentence_facts`), computed once per document and parser."""
    return doc.derived(_sentence_facts_with(nlp))


@functools.cache
def _sentence_facts_with(nlp: Pipeline | None) -> Callable[[Document], list[Fact]]:
    return lambda doc: _sentence_facts(doc, nlp)


def _sentence_facts(doc: Document, nlp: Pipeline | None) -> list[Fact]:
    """A fact for every sentence of the article that states one, as written (exact, so nothing can be cut,
    misquoted or invented): not page furniture, not a question, not a 'could not be reached for comment',
    not a caption, the title or a heading (:func:`layout_furniture`), not text addressed to AI systems; a dateline
    ('SAN FRANCISCO (Reuters) -') is left out of the statement.
    The kind comes from the sentence: a quotation, a speech verb, a number (not a date), else an event."""
    facts: list[Fact] = []
    finite = finite_verb_test(nlp)
    for sentence in doc.sentences:
        text = sentence.text
        shaped: list[str] = []
        start = sentence.start
        if m := DATELINE.search(text):
            start += m.end()
            shaped.append(DATELINE.id)
        stamp = TIME_STAMP.search(doc.text[start : sentence.end])
        if stamp and doc.text[start + stamp.end() : start + stamp.end() + 1].isupper():
            start += stamp.end()  # a page's date line glued to the sentence: "Thursday, May 7, 2015 On Tuesday, ..."
            shaped.append(TIME_STAMP.id)
        if bullet := LIST_ITEM.search(doc.text[start : sentence.end]):
            start += bullet.end()  # a list item's marker is not part of its statement
            shaped.append(LIST_ITEM.id)
        while start < sentence.end and doc.text[start].isspace():
            start += 1
        end = sentence.end
        if (credit := pull_quote_credit(doc, start, end)) is not None and start < credit < end:
            end = credit  # a quotation with its pull quote's credit glued on
            while end > start and doc.text[end - 1].isspace():
                end -= 1
            shaped.append("pull-quote-credit")
        body = doc.text[start:end]
        if (
            len(body.split()) < 5
            or body.rstrip("”\"’' ").endswith("?")
            or is_furniture(body)
            or layout_rule(doc, sentence.start, sentence.end, finite)
            or NO_COMMENT.fires(body)
            or looks_like_injection(body)
        ):
            continue
        evidence = Evidence(start=start, end=end, text=body, match="sentence", score=1.0)
        statement = " ".join(body.split())
        if any(_same_fact(statement, evidence, other) for other in facts):
            continue
        if any(len(q.text.split()) >= 4 for q in quotation_spans(body)):
            kind: FactKind = "quote"
        elif ATTRIBUTION.fires(body):
            kind = "attribution"
        elif _counts(doc, evidence):
            kind = "quantity"
        else:
            kind = "event"
        facts.append(Fact(statement=statement, kind=kind, evidence=evidence, shaped_by=shaped))
    return _whole_quotations(doc, facts)


#: ``Fact.shaped_by`` ids: sentences joined because one quotation runs over them, or because a quotation and nothing
#: else resumes the speaker of the quotation before it.
WHOLE_QUOTATION = "whole-quotation"
QUOTATION_RESUMED = "quotation-resumed"
#: A quotation is kept whole over at most this many sentences and characters; a longer one stays in pieces.
QUOTATION_SENTENCES = 6
QUOTATION_CHARS = 1200


def _whole_quotations(doc: Document, facts: list[Fact]) -> list[Fact]:
    """A quotation that runs over several sentences or paragraphs is one fact, its attribution included ('After the
    match, the coach said, "I think we have learned a lot. It was a very emotional day."'), not pieces with no one to
    say them. A fact is joined by the fact right after it (within :data:`QUOTATION_SENTENCES` and
    :data:`QUOTATION_CHARS`) when:

    * a quotation runs on from one to the other, in the same paragraph or in the next one, which opens with a
      mark again (news style: the paragraph before leaves the quotation open), or
    * the one after is a quotation and nothing else, and the fact before has a quotation and says who says it
      ('"I am happy," Latham told the BBC.' then '"I was in a decent position."'): news resumes a speaker's words so.

    The joined fact must not end or start inside a quotation; where it would, the facts stay as they are."""
    quoted = passages(doc.text)  # in order, none inside another: their ends are in order too
    starts, ends = [a for a, _ in quoted], [b for _, b in quoted]

    def crosses(end: int, start: int) -> bool:
        """A quotation runs from before ``end`` to after ``start``."""
        i = bisect.bisect_right(ends, start)  # the first quotation that ends after ``start``
        return i < len(starts) and starts[i] < end

    out: list[Fact] = []
    i = 0
    while i < len(facts):
        first = facts[i]
        j = i
        how: list[str] = []
        marked = QUOTE_MARKS.search(first.evidence.text) is not None
        while (
            j + 1 < len(facts)
            and j + 1 - i < QUOTATION_SENTENCES
            and facts[j + 1].evidence.end - first.evidence.start <= QUOTATION_CHARS
            and (
                # a short sentence between is its too; a stray mark after the group's opening fact opens nothing
                (marked and crosses(facts[j].evidence.end, facts[j + 1].evidence.start))
                or (
                    not doc.text[facts[j].evidence.end : facts[j + 1].evidence.start].strip()
                    and (
                        open_quotation(doc.text[first.evidence.start : facts[j].evidence.end])
                        or _resumes(
                            doc.text[first.evidence.start : facts[j].evidence.end],
                            facts[j + 1].evidence.text,
                            doc.text[facts[j + 1].evidence.end : facts[j + 1].evidence.end + 80],
                        )
                    )
                )
            )
        ):
            j += 1
            runs_on = (
                crosses(facts[j - 1].evidence.end, facts[j].evidence.start)
                or open_quotation(  # else resumed
                    doc.text[first.evidence.start : facts[j - 1].evidence.end]
                )
            )
            how.append(WHOLE_QUOTATION if runs_on else QUOTATION_RESUMED)
        while j > i and open_quotation(doc.text[first.evidence.start : facts[j].evidence.end]):
            j -= 1  # cut short by the limits: no whole quotation to give
            how.pop()
        if j > i:
            start, end = first.evidence.start, facts[j].evidence.end
            body = doc.text[start:end]
            evidence = Evidence(start=start, end=end, text=body, match="sentence", score=1.0)
            shaped = [*dict.fromkeys([r for f in facts[i : j + 1] for r in f.shaped_by] + how)]
            out.append(Fact(statement=" ".join(body.split()), kind="quote", evidence=evidence, shaped_by=shaped))
            i = j + 1
        else:
            out.append(first)
            i += 1
    return out


_OTHER_CLAUSE = re.compile(r"\b(?:but|while|whereas|although|though|however)\b|[;:]", re.IGNORECASE)


def _resumes(before: str, after: str, following: str) -> bool:
    """``after`` is a quotation and nothing else, and ``before`` (not one itself) ends on a quotation and the words
    that say who said it ('"I am happy," Latham told the BBC.'), with no other clause after them ('..., but Jones
    disagreed'): the same speaker's words go on. Not when the line after ``after`` credits it to someone
    (``following`` opening on a dash: a pull quote's credit)."""
    spans = quotation_spans(before, min_words=3)
    if not spans or not bare_quote(after) or open_quotation(before) or bare_quote(before):
        return False
    tail = before[spans[-1].end :]  # what follows the last quotation: its attribution
    credited = following.lstrip()[:1] in ("―", "—", "–", "-")
    return ATTRIBUTION.fires(tail) and _OTHER_CLAUSE.search(tail) is None and not credited


@per_document
def article_quantities(doc: Document) -> list[Quantity]:
    """Every quantity the article states (:func:`factkit.rules.quantities.find_quantities`), computed once per document:
    the record's ``quantities`` and each fact's. Page furniture states none: a sentence that is a caption, a byline, a
    reading time or a time stamp ("3 Min Read", "Updated 16 minutes ago") is left out, as it is of the facts."""
    dates = [(h.start, h.end) for h in article_dates(doc)]
    furniture = [(s.start, s.end) for s in doc.sentences if is_furniture(s.text)]
    return [
        Quantity(
            value=q.value,
            unit=q.unit,
            approximate=q.approximate,
            span=span_of(doc.text, q.start, q.end),
            surface=q.surface,
            bound=q.bound,
            change=q.change,
            low=q.low,
            high=q.high,
        )
        for q in find_quantities(doc.text, dates)
        if not any(a <= q.start < b for a, b in furniture)
    ]


def _counts(doc: Document, evidence: Evidence) -> list[Quantity]:
    """The quantities written inside ``evidence``."""
    return [
        q
        for q in article_quantities(doc)
        if q.span is not None and evidence.start <= q.span.start and q.span.end <= evidence.end
    ]


def link_facts(
    doc: Document, facts: list[Fact], entities: list[Entity], quotes: list[Quote], dates: list[DateMention]
) -> None:
    """Fill each fact's entities, subject, date and (quotes, attributions) speaker.

    Kept apart from :func:`ground_facts` so the facts call need not wait for the entities call, nor for the
    date tagger: grounding decides what is kept (and what a re-ask must fix); linking annotates what was kept.
    """
    for fact in facts:
        ev = fact.evidence
        _link_quantities(doc, fact)
        date = next((d for d in dates if ev.start <= d.span.start < ev.end and d.value), None)
        if date is not None:
            fact.date, fact.date_span = date.value, date.span
        inside = [e for e in entities if any(ev.start <= m.start < ev.end for m in e.mentions)]
        fact.entities = [e.name for e in inside]
        fact.subject = _subject(fact.statement, inside)
        quote = next((q for q in quotes if ev.start <= q.span.start < ev.end), None)
        if fact.kind == "quote" and quote is None:
            # small models call many facts quotes; one is a quote only if its evidence holds a quotation
            fact.kind = "attribution" if ATTRIBUTION.fires(ev.text) else "event"
        if fact.kind in ("quote", "attribution"):
            fact.speaker = quote.speaker if quote else speaker_near(ev, inside)


def _link_quantities(doc: Document, fact: Fact) -> None:
    """Every number the statement states gets its Quantity, located in the evidence (the model's own value and
    unit first, where it gave them)."""
    known = list(fact.quantities) or ([fact.quantity] if fact.quantity else [])
    for q in _counts(doc, fact.evidence):
        if any(same_number(q.value, k.value) for k in known):
            continue
        if find_value(fact.statement, q.value) is not None or fact.statement in fact.evidence.text:
            known.append(q)
    fact.quantities = known
    fact.quantity = known[0] if known else None


def with_concepts(quantities: list[Quantity], parsed: Any) -> list[Quantity]:
    """Copies of ``quantities`` with the concept each measures, from the article's parse (the cached quantities of
    :func:`article_quantities` are not changed: a rules-only run of the same document keeps none)."""
    out = []
    for q in quantities:
        concept = concept_of(parsed, q.span.start, q.span.end) if q.span is not None and has_concept(q.unit) else None
        out.append(q.model_copy(update={"concept": concept}) if concept else q)
    return out


def concepts_for_facts(facts: list[Fact], parsed: Any) -> None:
    """Each fact's quantities get their concepts (see :func:`with_concepts`)."""
    for fact in facts:
        fact.quantities = with_concepts(fact.quantities, parsed)
        fact.quantity = fact.quantities[0] if fact.quantities else None


def snap_to_source(statement: str, evidence: str) -> str:
    """A statement that copies (part of) its evidence becomes the exact source text from there on.

    Small models copy sentences with slips ('U. immigration') or get cut off by the length cap; the source
    has the words right.
    """
    norm_s, norm_e = normalize(statement.rstrip("…")), normalize(evidence)
    if len(norm_s) < 20:
        return statement
    at = norm_e.find(norm_s)  # an exact copy (the usual case) needs no alignment
    if at == -1:
        matcher = SequenceMatcher(None, norm_s, norm_e, autojunk=False)
        blocks = [b for b in matcher.get_matching_blocks() if b.size >= 3]
        if blocks and sum(b.size for b in blocks) >= 0.9 * len(norm_s) and blocks[0].a <= 2:
            at = blocks[0].b
    if at != -1:
        # a copy: take the evidence from where the copy starts, up to the end of its sentence
        _, pos = normalize_with_map(evidence)
        start = pos[at] if at < len(pos) else 0
        snapped = " ".join(evidence[start:].split())
        return snapped[:1].upper() + snapped[1:]  # a statement starts a sentence, even from mid-sentence
    return statement


def was_cut(statement: str, cap: int = STATEMENT_CHARS) -> bool:
    """A statement the grammar's length cap stopped mid-phrase (it fills the cap and does not end a sentence)."""
    return len(statement) >= cap - 2 and not statement.rstrip("”\"’' )").endswith((".", "!", "?"))


def _subject(statement: str, entities: list[Entity]) -> str:
    norm = normalize(statement)
    best: tuple[int, str] | None = None
    for ent in entities:
        for variant in [ent.name, *(m.text for m in ent.mentions)]:
            i = norm.find(normalize(variant))
            if i != -1 and (best is None or i < best[0]):
                best = (i, ent.name)
    return best[1] if best else ""


def _same_fact(statement: str, evidence: Evidence, other: Fact) -> bool:
    if normalize(statement) == normalize(other.statement):
        return True  # one statement given twice, whatever it cites
    if evidence.start >= other.evidence.end or other.evidence.start >= evidence.end:
        return False
    if (evidence.start, evidence.end) == (other.evidence.start, other.evidence.end) and overlap(
        statement, other.statement
    ) >= 0.9:
        return True  # a piece of a fact already kept, citing the same sentence ('Many of whom had fled...')
    return overlap(statement, other.statement) >= 0.8 and overlap(other.statement, statement) >= 0.8


def says_again(statement: str, tldr: str) -> bool:
    """Whether a key point of ``statement`` would repeat the ``tldr``: it is the tldr, a sentence the tldr took in,
    or the lead's fact that holds the tldr."""
    return statement == tldr or (bool(tldr) and (statement in tldr or tldr in statement))


def key_points_of(facts: list[Fact], tldr: str = "") -> list[KeyPoint]:
    """The first facts that stand on their own, most important (first) first, leaving out those the ``tldr``
    already says (:func:`says_again`)."""
    facts = [f for f in facts if not says_again(f.statement, tldr)]
    whole = [f for f in facts if stands_alone(f.statement)] or facts
    return [KeyPoint(text=f.statement, evidence=[f.evidence]) for f in whole[:KEY_POINTS]]


def ground_entity_list(doc: Document, wire: WireEntities) -> tuple[Grounded, list[str]]:
    entities, rejected, problems = ground_entities(doc, wire)
    return Grounded(entities=entities, rejected=rejected), problems


def drop_hidden(doc: Document, known: Grounded, dates: list[DateMention]) -> None:
    """Drop entity mentions, quotes and dates inside sentences hidden from the model as text addressed to AI
    systems: nothing hidden may reach an output field, even what rules found there."""
    if not looks_like_injection(doc.text):
        return
    hidden = [(s.start, s.end) for s in doc.sentences if looks_like_injection(s.text)]

    def inside(span: Span) -> bool:
        return any(a <= span.start and span.end <= b for a, b in hidden)

    for entity in known.entities:
        entity.mentions = [m for m in entity.mentions if not inside(m)]
    known.entities = [e for e in known.entities if e.mentions]
    known.quotes = [q for q in known.quotes if not inside(q.span)]
    dates[:] = [d for d in dates if not inside(d.span)]


def summary_of(g: Grounded) -> Summary:
    return Summary(headline=g.headline, tldr=g.tldr, key_points=g.key_points)


def date_mentions(doc: Document) -> list[DateMention]:
    return [DateMention(span=span_of(doc.text, h.start, h.end), value=h.value) for h in article_dates(doc)]
