"""The summary's sentences: the headline and the tldr, checked against the article (its words, its numbers, the
checker), cleaned of page furniture, replaced when they fail; and the two calls that give them, with the facts and
the key points (:func:`ground_fact_list`, :func:`ground_headline`)."""

from __future__ import annotations

from typing import Any

from ._document import Document, looks_like_injection
from ._entities import fix_initials
from ._grounding import article_numbers, article_words, content_words, unsupported_numbers
from ._models import Fact, Rejected
from ._ner import Pipeline
from ._records import Grounded, checked, ground_facts, key_points_of, sentence_facts
from ._wire import HEADLINE_CHARS, TLDR_CHARS, WireFacts, WireHeadline
from .rules._table import tags
from .rules.furniture import (
    TITLE_CHARS,
    clean_title,
    furniture_match,
    is_furniture,
    layout_furniture,
    strip_title_furniture,
)
from .rules.statements import QUOTE_MARKS, stands_alone


def title_of(doc: Document) -> str:
    """The article's title line ('' when the text starts with its story)."""
    first = next((s for s in doc.sentences if not looks_like_injection(s.text)), None)
    if first is None or layout_furniture(doc, first.start, first.end) != "the title":
        return ""
    title = clean_title(first.text)
    if is_furniture(title) or len(content_words(title)) < 2:
        return ""
    return title if len(title) <= TITLE_CHARS else ""


#: A headline or tldr sharing less than this share of content words with the article is not trusted.
MIN_SUMMARY_SUPPORT = 0.5


def check_headline(
    doc: Document, out: Grounded, problems: list[str], nlp: Pipeline | None = None, judge: Any = None
) -> None:
    """Headline and tldr have no span, but they must be about the article: mostly its words, only its numbers,
    and supported by :func:`verify` (with ``judge``, a backend, the model's entailment too: a sentence copied from
    the article is supported by construction and asks no model).

    One that isn't is rejected and replaced: a headline by the article's title line when it has one, otherwise (and
    a tldr always) by the first key point (or the first sentence that isn't hidden from the model as text addressed
    to AI systems: what is hidden never reaches any output).
    """
    visible = (s.text for s in doc.sentences if not looks_like_injection(s.text))
    lead = out.key_points[0].text if out.key_points else next(visible, "")
    for field_name, cap in (("headline", HEADLINE_CHARS), ("tldr", TLDR_CHARS)):
        fallback = (title_of(doc) or lead) if field_name == "headline" else lead
        value = getattr(out, field_name)
        cleaned, fired = strip_title_furniture(value) if field_name == "headline" and value else (value, ())
        if cleaned != value:
            # a headline copied with the page's furniture (a byline, "3 Min Read", a time stamp): kept without it,
            # noted but not a problem to re-ask about
            reason = f"headline {value[:60]!r} carried page furniture; kept {cleaned[:60]!r} {tags(fired)}"
            out.rejected.append(Rejected(kind="summary", item={field_name: value}, reason=reason))
            value = cleaned
            setattr(out, field_name, value)
        if field_name == "headline" and value and (furniture := furniture_match(value)):
            rule, what = furniture
            reason = f"headline {value[:60]!r} holds page furniture ({what.group().strip()[:40]!r}) {rule.tag}"
            out.reject("summary", {field_name: value}, reason, problems)
            setattr(out, field_name, fallback)
            continue
        if value and len(value) >= cap - 2 and not value.rstrip("”\"’' )").endswith((".", "!", "?")):
            head = value.split(", ")[0]
            if field_name == "headline" and head != value and len(head.split()) >= 4:
                # a headline the cap stopped in a second clause: its first clause is whole, and is checked as usual
                setattr(out, field_name, head)
                value = head
        if value and len(value) >= cap - 2 and not value.rstrip("”\"’' )").endswith((".", "!", "?")):
            # cut mid-phrase by the grammar's length cap: never returned as if whole
            out.reject(
                "summary", {field_name: value}, f"{field_name} {value[:60]!r} was cut off by the length cap", problems
            )
            setattr(out, field_name, fallback)
            continue
        missing = unsupported_numbers(value, doc.text, article_numbers(doc))
        words = content_words(value) if value else frozenset()
        support = len(words & article_words(doc)) / len(words) if words else 0.0
        hidden = bool(value) and looks_like_injection(value)
        checkable = value and support >= MIN_SUMMARY_SUPPORT and not missing and not hidden
        copied = value.strip() in doc.text
        verdict = checked(value, doc, nlp, None if copied else judge) if checkable else None
        if verdict is not None and verdict.label == "supported":
            continue
        if verdict is not None:
            reason = (
                f"{field_name} {value[:60]!r} is {verdict.label.replace('_', ' ')} in the article: {verdict.reason}"
            )
        elif hidden:
            reason = f"{field_name} {value[:60]!r} repeats text addressed to AI systems"
        elif missing:
            reason = f"{field_name} {value[:60]!r} states {', '.join(missing)}, which the article does not say"
        else:
            reason = f"{field_name} {value[:60]!r} is not about the article (only {support:.0%} of its words are in it)"
        out.reject("summary", {field_name: value}, reason, problems)
        setattr(out, field_name, fallback)


def ground_fact_list(
    doc: Document, wire: WireFacts, nlp: Pipeline | None = None, judge: Any = None
) -> tuple[Grounded, list[str]]:
    """Facts grounded against the document (:func:`link_facts` adds their entities afterwards)."""
    out = Grounded(
        headline=fix_initials(wire.headline.strip(), doc.text), tldr=fix_initials(wire.tldr.strip(), doc.text)
    )
    problems: list[str] = []
    ground_facts(doc, wire.facts, out, problems, nlp, judge)
    out.key_points = key_points_of(out.facts)
    check_headline(doc, out, problems, nlp, judge)
    return out, problems


def ground_headline(
    doc: Document, wire: WireHeadline, nlp: Pipeline | None = None, judge: Any = None
) -> tuple[Grounded, list[str]]:
    """Headline and tldr checked against the article; the facts are the article's sentences."""
    out = Grounded(headline=fix_initials(wire.headline.strip(), doc.text))
    out.facts = [f.model_copy(deep=True) for f in sentence_facts(doc, nlp)]
    out.key_points = key_points_of(out.facts)
    # the tldr is the lead fact, in the article's own words (its evidence is that sentence)
    out.tldr = out.facts[0].statement if out.facts else ""
    problems: list[str] = []
    check_headline(doc, out, problems, nlp, judge)
    # the key points follow the tldr and do not say it again (a one-sentence article has none)
    out.key_points = key_points_of(out.facts, out.tldr)
    return out, problems


#: A lead sentence shorter than this many words is a thin TL;DR: the sentences right after it that read alone are
#: added, up to :data:`TLDR_MORE` of them. ROUGE-1 against human summaries (``benchmarks/tldr_lead.py --xsum 80``):
#: every bound from 25 to 45 words lifts the 12 GUM articles from 0.406 (the lead alone) to 0.433-0.436, and 80 BBC
#: articles of ``../shared/data/xsum-faith/`` from 0.170 to 0.187-0.191; 30 is inside both plateaus, not a peak.
TLDR_WORDS = 30
TLDR_MORE = 2


def fuller_tldr(text: str, facts: list[Fact], tldr: str) -> str:
    """The TL;DR that is the article's lead sentence, with the sentences right after it in ``text`` (at most
    :data:`TLDR_MORE`; each next to the one before, stopping at the first that does not qualify) that read alone,
    quote no one and end as sentences do, while it has fewer than :data:`TLDR_WORDS` words: still the article's
    own words, so still supported. The lead as its fact reads it: with its pronoun named, or with the sentence after
    it that leaned on it (when that one qualifies too). A TL;DR the model wrote is returned as it is."""
    ordered = sorted(facts, key=lambda f: f.evidence.start)
    if not ordered:
        return tldr
    first = ordered[0]
    written = " ".join(first.evidence.text.split())
    if written != tldr and not (written.startswith(tldr + " ") and _may_follow(written[len(tldr) :], TLDR_WORDS)):
        return tldr  # the model's own, or a lead that took in more than a TL;DR should say
    tldr = first.statement  # the lead (its pronoun named where the article leaves no doubt; what leaned on it)
    end = first.evidence.end
    for fact in ordered[1 : 1 + TLDR_MORE]:
        if len(tldr.split()) >= TLDR_WORDS or text[end : fact.evidence.start].strip():
            break  # long enough, or something stands between (a question, a short sentence, a heading)
        if fact.needs_context or not stands_alone(fact.statement) or not _may_follow(fact.statement, 2 * TLDR_WORDS):
            break  # the next sentence does not qualify: none after it is taken, so nothing is skipped
        tldr = f"{tldr} {fact.statement}"
        end = fact.evidence.end
    return tldr


def _may_follow(sentence: str, words: int) -> bool:
    """A sentence a TL;DR may take: no quotation, ends as a sentence does (not a credit line), not too long."""
    sentence = sentence.strip()
    return not QUOTE_MARKS.search(sentence) and sentence[-1:] in (".", "!") and len(sentence.split()) <= words
