"""Check one claim against an article: ``verify(claim, article)`` -> a :class:`Verdict`.

Each sentence of the claim is checked against the article's sentences, with rules (and a spaCy parse when a
pipeline is given):

* support: the share of the claim's content words found in the whole article (90%) and in the best window of one
  or two article sentences (10%), less a penalty for each name, number or year of the claim the article does not have;
* contradiction: the best evidence for a part of the claim says the opposite: a negation in one and not the
  other ("did not approve" / "approved", "lack of criminal charges" / "convicted of criminal charges"), an
  antonym ("acquitted" / "convicted"), a different number for the same thing, another actor for the same act
  ("police rescued the hikers" / "volunteers rescued the hikers"), or one place for what the article calls global
  ("a movement in Texas" / "a global movement").

Rules alone (:func:`rules_verdict`, ``verify(model=None)``): ``contradicted`` when a contradiction is found, else
``supported`` when the support score reaches :data:`SUPPORT_THRESHOLD`, else ``not_found``.

With a model (:func:`verify`'s default), the rules' sure verdicts stay final (a number the article gives otherwise
or lacks, a narrowed place) and everything else is decided by entailment (:mod:`factkit.checker._entail`): the model's
P(yes) on the evidence, combined with the support score by :data:`CALIBRATION`.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .._document import Document, Sentence, article_dates, split_sentences
from .._errors import InputError
from .._gazetteer import PLACES
from .._grounding import (
    _NEGATION,
    article_numbers,
    article_words,
    content_words,
    find_numbers,
    normalize,
    overlap,
    span_of,
    unsupported_numbers,
)
from .._models import Span
from .._ner import PIPELINE, Pipeline, load_pipeline, parse_text
from ..rules import dates as _dates

if TYPE_CHECKING:
    from ..backends.base import ChatBackend

__all__ = ["SUPPORT_THRESHOLD", "Verdict", "rules_verdict", "verify"]
log = logging.getLogger("factkit")

#: Support score at or above which a claim without contradiction is "supported". Chosen by 5-fold
#: cross-validation (folds grouped by article) on the XSum faithfulness annotations (Maynez et al. 2020),
#: ``benchmarks/faithfulness_cv.py``: all five folds picked 0.60, with rules only and with spaCy.
SUPPORT_THRESHOLD = 0.6
#: What one name of the claim missing from the article takes off the support score (a number or year missing
#: takes off enough to fail any threshold CV picks).
NAME_PENALTY = 0.2
NUMBER_PENALTY = 0.5

Label = Literal["supported", "contradicted", "not_found"]


class Verdict(BaseModel):
    """What the article says about one claim."""

    model_config = ConfigDict(extra="forbid")

    claim: str
    label: Label
    evidence: list[Span]
    reason: str
    score: float = Field(
        description="How sure the checker is that the article states the claim, 0-1: the calibrated combination of "
        "the rules and the model when the model judged, else the rules' support score"
    )
    decided_by: Literal["rules", "model"] = Field(
        "rules", description="Which check decided the label: a rule (a contradiction; or no model asked) or the model"
    )
    rule_score: float = Field(0.0, description="The rules' support score (share of the claim's words, less penalties)")
    model_score: float | None = Field(
        None, description="The model's P(yes) for the claim's weakest sentence; None when no model was asked"
    )
    rule: str = Field(
        "support",
        description="The rule behind the rules' label: support (the share of the claim's words in the article), "
        "number (another number for the same thing), number_missing, polarity, actor, actor_elsewhere, narrowed "
        "(each a :data:`CHECKS` entry with its reason and examples)",
    )


@dataclass(frozen=True)
class Check:
    """One of the checker's rules, as data: its id (``Verdict.rule``), why it exists, and claims about an article
    that it must decide (``examples``: it gives the label) and must leave alone (``counter_examples``). The checks
    run in this order on each sentence of a claim; the first that fires decides (``_check_sentence``)."""

    id: str
    reason: str
    label: Label
    examples: tuple[tuple[str, str], ...]
    counter_examples: tuple[tuple[str, str], ...]
    needs_parse: bool = False


_HIKERS = "Volunteers rescued the hikers on Sunday; police arrived later. The mayor approved the budget on Monday."
_RAIDS = "Authorities arrested approximately 100 Cambodians in raids last October."
_TEAMS = (
    "Afghan girls received a silver medal on Tuesday at the Robot Olympics in Washington. Officials praised the "
    "team. This year, the European team won the competition overall."
)
_CLOCK = (
    "News of police response to a boy's digital clock in Texas last week has inspired a global social movement in "
    "support of the youth. Ahmed Mohamed, a 14-year-old boy from Irving, Texas, was arrested at his school."
)
CHECKS: tuple[Check, ...] = (
    Check(
        "number",
        "the article gives another number for the same thing: a fluent claim can't hide a wrong count",
        "contradicted",
        (("Authorities arrested about 300 Cambodians in raids last October.", _RAIDS),),
        (("Authorities arrested about 100 Cambodians in raids last October.", _RAIDS),),
    ),
    Check(
        "number_missing",
        "a number or year the article does not have (69 of 74 such XSum summaries were unfaithful)",
        "not_found",
        (("Authorities arrested 100 Cambodians in raids in 2015.", "Authorities arrested Cambodians in raids."),),
        (("Authorities arrested Cambodians in raids.", "Authorities arrested Cambodians in raids."),),
    ),
    Check(
        "polarity",
        "the claim denies what the article states, or states what it denies",
        "contradicted",
        (("The mayor did not approve the budget.", _HIKERS),),
        (("The mayor approved the budget.", _HIKERS),),
    ),
    Check(
        "actor",
        "the sentence that states the act names another doer: who did what is read, not counted",
        "contradicted",
        (("Police rescued the hikers.", _HIKERS),),
        (("Volunteers rescued the hikers.", _HIKERS),),
    ),
    Check(
        "actor_elsewhere",
        "wherever the article uses the claim's verb, another named party does it, never the claim's",
        "contradicted",
        (("Afghan girls won the competition.", _TEAMS),),
        (("The European team won the competition.", _TEAMS),),
        needs_parse=True,
    ),
    Check(
        "narrowed",
        "the claim puts in one place what the article calls global or nationwide",
        "contradicted",
        (("Ahmed Mohamed inspires social movement in Texas", _CLOCK),),
        (("Ahmed Mohamed inspires a global social movement", _CLOCK),),
    ),
    Check(
        "support",
        "the share of the claim's content words (names and numbers weigh more) in its best sentences: below "
        "SUPPORT_THRESHOLD the article does not state it",
        "not_found",
        (("The Finnish parliament voted to raise fishing quotas in the Baltic.", _RAIDS),),
        (("Immigration authorities arrested about 100 Cambodians in raids last October.", _RAIDS),),
    ),
)


# A negation, or a word that denies or stops what follows it ("lack of evidence", "failed to appear", "blocks
# the deportation" = "cannot deport").
_NEGATIVE = re.compile(
    _NEGATION.pattern + r"|\b(?:lack|lacks|lacked|lacking|absence|absent|fail|fails|failed|cannot|denied|denies|"
    r"block|blocks|blocked|blocking|halt|halts|halted|bar|bars|barred|prevent|prevents|prevented|stop|stops|"
    r"stopped|ban|bans|banned)\b",
    re.IGNORECASE,
)
# Pairs of words (content-word stems) that say opposite things about the same matter.
_ANTONYMS = [
    ("convict", "acquit"),
    ("guilty", "innocent"),
    ("convict", "acquitt"),
    ("win", "lost"),
    ("won", "lost"),
    ("win", "lose"),
    ("rise", "fell"),
    ("rise", "fall"),
    ("increas", "decreas"),
    ("approv", "reject"),
    ("accept", "reject"),
    ("support", "oppos"),
    ("favor", "against"),
    ("favour", "against"),
    ("open", "clos"),
    ("alive", "dead"),
    ("higher", "lower"),
    ("larg", "small"),
]
_OPPOSITE: dict[str, set[str]] = {}
for _a, _b in _ANTONYMS:
    _OPPOSITE.setdefault(_a, set()).add(_b)
    _OPPOSITE.setdefault(_b, set()).add(_a)
_CLAUSE = re.compile(r"\s*(?:[,;:]|\s-\s|\band\b|\bbut\b|\bwhile\b|\bwhereas\b)\s*", re.IGNORECASE)
_YEAR = re.compile(r"\b(?:1[89]|20)\d\d\b")
_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)?", re.UNICODE)
_PASSIVE_AUX = frozenset(["was", "were", "is", "are", "been", "being", "be"])


@dataclass
class _Check:
    label: Label
    score: float
    evidence: list[Sentence]
    reason: str
    extra: list[Sentence] = field(default_factory=list)
    rule: str = "support"


def rules_verdict(claim: str, article: str | Document, *, nlp: Pipeline | Literal["auto"] | None = "auto") -> Verdict:
    """The rules' half of :func:`factkit.verify`: whether ``article`` supports, contradicts or does not contain
    ``claim`` (one or more sentences) by its words, names, numbers, negation and who did what, with the evidence
    sentences (exact offsets) and the reason.

    ``nlp``: a spaCy pipeline; ``"auto"`` (the default) is the pinned one when installed. With it, names come
    from its entities and who did what from its parse; with ``None``, rules only.

    >>> factkit.verify("The judge ruled for the Cambodians, citing no criminal charges.", article)  # doctest: +SKIP
    Verdict(label='contradicted', ...)
    """
    if isinstance(nlp, str):
        nlp = load_pipeline(PIPELINE if nlp == "auto" else nlp)
    if not isinstance(claim, str) or not claim.strip():
        raise InputError("verify: the claim is empty; pass the sentence to check as a non-empty string")
    doc = article if isinstance(article, Document) else Document.from_text(article)
    parts = [s.text for s in split_sentences(claim)] or [claim]
    checks = [_check_sentence(part, doc, nlp) for part in parts]
    order: dict[Label, int] = {"contradicted": 0, "not_found": 1, "supported": 2}
    # a final verdict of one sentence (a number the article lacks or gives otherwise) is the claim's, whatever the
    # other sentences say: a worse-ranked sentence must not hide it from the combination
    final = CALIBRATION.hard_rules
    worst = min(checks, key=lambda c: (not (c.label != "supported" and c.rule in final), order[c.label], c.score))
    seen: dict[int, Sentence] = {}
    for c in [worst, *checks]:
        for s in c.evidence + c.extra:
            seen.setdefault(s.index, s)
    evidence = [span_of(doc.text, s.start, s.end) for s in sorted(seen.values(), key=lambda s: s.start)]
    score = round(min(c.score for c in checks), 4)
    return Verdict(
        claim=claim,
        label=worst.label,
        evidence=evidence,
        reason=worst.reason,
        score=score,
        rule_score=score,
        rule=worst.rule,
    )


def verify(
    claim: str,
    article: str | Document,
    *,
    nlp: Pipeline | Literal["auto"] | None = "auto",
    model: ChatBackend | Literal["auto"] | None = "auto",
    max_chars: int | None = None,
) -> Verdict:
    """Whether ``article`` supports, contradicts or does not contain ``claim`` (a sentence or a few), with the
    evidence sentences (exact offsets), the reason, a score and which check decided.

    Two halves (see the module docstring): the rules (:func:`rules_verdict`) give final verdicts where they are
    sure (a number the article gives otherwise or does not have, a place put on what the article calls global:
    ``CALIBRATION.hard_rules``); every other claim is judged by entailment: the model reads the few sentences that
    cover each sentence of the claim and answers yes or no (:mod:`factkit.checker._entail`), and its P(yes) for the
    weakest sentence is combined with the rules' support score by a logistic model fitted on human faithfulness
    labels (``benchmarks/verify_calibrate.py``, :data:`CALIBRATION`). A contradiction by a rule that is often
    wrong alone (who did what, negation) stands when the model agrees, and is overruled when it does not.

    ``model``: a backend (``factkit.Extractor().backend``), ``"auto"`` (the default: the configured model, the
    embedded one when nothing is configured; the rules alone when none is installed or ``FACTKIT_VERIFY=rules``)
    or ``None`` (the rules alone: no model call, ``decided_by="rules"``). ``nlp``: a spaCy pipeline for the rules;
    ``"auto"`` is the pinned one when installed. ``max_chars``: the article limit (default
    ``FACTKIT_MAX_INPUT_CHARS``).

    >>> factkit.verify("The judge ruled for the Cambodians, citing no criminal charges.", article)  # doctest: +SKIP
    Verdict(label='contradicted', ...)
    """
    if not isinstance(claim, str) or not claim.strip():
        raise InputError("verify: the claim is empty; pass the sentence to check as a non-empty string")
    if isinstance(article, Document):
        doc = article
    else:
        if max_chars is None:
            from .._config import resolve_settings

            max_chars = resolve_settings().max_input_chars
        doc = Document.from_text(article, max_chars=max_chars)
    sentences = _claim_sentences(claim)
    rules = rules_verdict(claim, doc, nlp=nlp)
    if not content_words(claim) and not find_numbers(claim):
        reason = "the claim has no words to check (only punctuation, symbols or spaces)"
        return rules.model_copy(update={"label": "not_found", "reason": reason, "score": 0.0, "rule": "empty"})
    salad = _word_salad(sentences, doc)
    if salad is not None:
        return rules.model_copy(update={"label": "not_found", "reason": salad, "score": 0.0, "rule": "salad"})
    backend = _judge_backend(model)
    if backend is None or (rules.label != "supported" and rules.rule in CALIBRATION.hard_rules):
        return rules
    from ._entail import entailment

    answers = [entailment(backend, doc, s) for s in sentences]
    weakest = min(answers, key=lambda a: a.p_yes)
    score = combine(rules.rule_score, weakest.p_yes)
    supported = score >= CALIBRATION.threshold
    where = f' ("{_short(sentences[answers.index(weakest)], 80)}")' if len(sentences) > 1 else ""
    doubt = rules.label == "contradicted"  # a rule that is often wrong alone (who did what, negation)
    if supported:
        reason = f"the evidence states it (model P(yes) {weakest.p_yes:.2f}; checker {score:.2f})"
        if doubt:
            reason += f"; the {rules.rule} rule doubted it ({rules.reason}), the model did not"
        label: Label = "supported"
    elif doubt:
        reason = f"{rules.reason}; the model agrees (P(yes) {weakest.p_yes:.2f}; checker {score:.2f})"
        label = "contradicted"
    else:
        reason = (
            f"the evidence does not state it{where}: model P(yes) {weakest.p_yes:.2f}; checker {score:.2f}, "
            f"below {CALIBRATION.threshold:.2f}"
        )
        if rules.label == "not_found":
            reason += f"; rules: {rules.reason}"
        label = "not_found"
    seen = {(sp.start, sp.end): sp for sp in rules.evidence}
    for sent in weakest.evidence:
        seen.setdefault((sent.start, sent.end), span_of(doc.text, sent.start, sent.end))
    return rules.model_copy(
        update={
            "label": label,
            "reason": reason,
            "score": round(score, 4),
            "decided_by": "model",
            "model_score": round(weakest.p_yes, 4),
            "evidence": sorted(seen.values(), key=lambda sp: sp.start),
        }
    )


#: A claim is a sentence or a few, not a document: longer ones are refused (check them a sentence at a time).
MAX_CLAIM_CHARS = 2000
MAX_CLAIM_SENTENCES = 8


def _claim_sentences(claim: str) -> list[str]:
    if len(claim) > MAX_CLAIM_CHARS:
        raise InputError(
            f"verify: the claim has {len(claim):,} characters, more than {MAX_CLAIM_CHARS:,}; a claim is a sentence "
            "or a few: check a long text a sentence at a time"
        )
    parts = [s.text for s in split_sentences(claim)] or [claim]
    if len(parts) > MAX_CLAIM_SENTENCES:
        raise InputError(
            f"verify: the claim has {len(parts)} sentences, more than {MAX_CLAIM_SENTENCES}; a claim is a sentence "
            "or a few: check a long text a sentence at a time"
        )
    return parts


def _word_salad(sentences: list[str], doc: Document) -> str | None:
    """A run of the article's content words with nothing to hold them together ('Carney deportation Cambodians
    judge immigration custody Santa Ana federal court ruled ...'): fifteen words or more, nearly all of them the
    article's, and fewer than one in ten a function word ('the', 'of', 'that', 'was'). English sentences of that
    length have more: of the 1,489 summaries of ``../shared/data/xsum-faith/`` and ``qags-xsum/``, the one flagged
    is in Welsh. (A salad that keeps the function words is left to the model's entailment.)"""
    words = article_words(doc)
    for sent in sentences:
        tokens = [t.lower() for t in _TOKEN.findall(sent)]
        if len(tokens) < 15:
            continue
        inside = sum(1 for t in tokens if content_words(t) <= words) / len(tokens)
        function = sum(1 for t in tokens if not content_words(t)) / len(tokens)
        if inside >= 0.8 and function < 0.1:
            return (
                f"the claim is not a sentence: {inside:.0%} of its words are the article's, but only {function:.0%} "
                "are the words that hold a sentence together"
            )
    return None


class Calibration(BaseModel):
    """The combination of the two halves, fitted by ``benchmarks/verify_calibrate.py`` (see its docstring)."""

    features: list[str]
    weights: list[float]
    hinge: float
    hard_rules: list[str]
    threshold: float
    fitted_on: dict[str, int] = Field(default_factory=dict)
    cross_validated: dict[str, dict[str, float]] = Field(default_factory=dict)


CALIBRATION = Calibration.model_validate_json(
    (Path(__file__).with_name("calibration.json")).read_text(encoding="utf-8")
)


def combine(rule_score: float, p_yes: float, calibration: Calibration | None = None) -> float:
    """P(faithful) from the model's P(yes) and how far the rules' support score falls below the hinge, by the
    fitted logistic model."""
    cal = calibration or CALIBRATION
    p = min(max(p_yes, 1e-4), 1 - 1e-4)
    z = cal.weights[0] + cal.weights[1] * math.log(p / (1 - p)) + cal.weights[2] * max(0.0, cal.hinge - rule_score)
    return 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))


_JUDGES: dict[str, ChatBackend] = {}
_JUDGES_LOCK = threading.Lock()


def _judge_backend(model: ChatBackend | Literal["auto"] | None) -> ChatBackend | None:
    """The backend that answers the entailment questions: the one given, or the configured one for "auto" (built
    once per process; ``None`` when nothing can run: no key, no URL and the embedded model not installed)."""
    if model is None or not isinstance(model, str):
        return model
    from .._config import resolve_settings
    from .._errors import ConfigError
    from ..backends import make_backend

    settings = resolve_settings()
    if settings.verify == "rules" or settings.backend not in ("openai", "local"):
        return None
    secret = settings.api_key.get_secret_value() if settings.api_key else ""
    key = settings.model_dump_json(exclude={"api_key"}) + hashlib.sha256(secret.encode()).hexdigest()
    with _JUDGES_LOCK:
        if key not in _JUDGES:
            try:
                _JUDGES[key] = make_backend(settings)
            except ConfigError as exc:  # not remembered: installing the model or setting a key fixes it
                log.info("factkit: verify uses its rules alone (%s)", exc)
                return None
        return _JUDGES[key]


# ------------------------------------------------------------------------------------------------ support


def _best_window(doc: Document, text: str) -> tuple[list[Sentence], float]:
    """The one or two adjacent sentences that hold most of ``text``'s content words."""
    sents = doc.sentences
    singles = [overlap(text, s.text) for s in sents]
    best: tuple[list[Sentence], float] = ([], -1.0)
    for i, s in enumerate(sents):
        if singles[i] > best[1]:
            best = ([s], singles[i])
        if i + 1 < len(sents):
            two = overlap(text, doc.text[s.start : sents[i + 1].end])
            if two > max(best[1], singles[i] + 0.15, singles[i + 1] + 0.15):  # the second sentence must add
                best = ([s, sents[i + 1]], two)
    return best[0], max(0.0, best[1])


def _names(claim: str, nlp: Pipeline | None) -> list[str]:
    """Names in the claim: the pipeline's entities, or capitalised words not opening the sentence."""
    if nlp is not None:
        numeric = ("CARDINAL", "ORDINAL", "QUANTITY", "PERCENT")
        return [e.text for e in parse_text(nlp, claim).ents if e.label_ not in numeric]
    tokens = list(_TOKEN.finditer(claim))
    return [m.group() for m in tokens[1:] if m.group()[0].isupper() and content_words(m.group())]


#: What a country's or region's name takes to name its people or language ('Iraq' -> 'Iraqis', 'Somalia' ->
#: 'Somalians', 'China' -> 'Chinese', 'Denmark' -> 'Danish' is not covered): the article naming the people names
#: the place, for a claim ('rulings involved Iraq, Indonesia and Somalia' for 'Iraqis, Indonesians and Somalians').
_DEMONYM = ("i", "n", "an", "ian", "ese", "es", "ish")  # "es": "Chinese" as content_words stems it


def _has_name(word: str, words: frozenset[str]) -> bool:
    if word in words:
        return True
    if word not in PLACES:  # only a known place is named by its people ('Dan' is not named by 'Danish')
        return False
    stem = word[:-1] if word.endswith(("a", "e")) else word
    return len(stem) >= 3 and any(stem + end in words or word + end in words for end in _DEMONYM)


_RANGE = re.compile(r"\d\s*(?:[-–—]|to|and|through)\s*\d", re.IGNORECASE)


def _without_article_dates(claim: str, doc: Document) -> str:
    """``claim`` with its dates blanked that resolve to a date the article states ('on Thursday, January 25, 2018'
    where an article of January 26 says 'late on Thursday'; 'in October 2017' for 'last October'): their numbers
    are the article's, written out."""
    known = {h.value for h in article_dates(doc) if h.value}
    out = claim
    for h in _dates.find_dates(claim, doc.published):
        if _RANGE.search(claim[h.start : h.end]):
            continue  # 'January 25-29': the range's end is a number of its own, checked as one
        if h.value and (h.value in known or any(k.startswith(h.value) for k in known)):
            out = out[: h.start] + " " * (h.end - h.start) + out[h.end :]
    return out


def _missing(claim: str, doc: Document, nlp: Pipeline | None) -> tuple[list[str], list[str]]:
    """The claim's names and numbers (years included) that the article does not have (a date the article states in
    other words is not missing)."""
    dated = _without_article_dates(claim, doc)
    words = article_words(doc)
    names = [n for n in dict.fromkeys(_names(dated, nlp)) if not all(_has_name(w, words) for w in content_words(n))]
    numbers = unsupported_numbers(dated, doc.text, article_numbers(doc))
    years = [y for y in _YEAR.findall(dated) if y not in doc.text]
    names = [n for n in names if not find_numbers(n) or not any(x in n for x in numbers + years)]
    return names, numbers + years


def _support(claim: str, doc: Document, window: float, nlp: Pipeline | None) -> tuple[float, list[str], list[str]]:
    dated = _without_article_dates(claim, doc)  # a date the article states in other words counts as present
    claim_words = content_words(dated) or content_words(claim)
    words = article_words(doc)
    capitalised = {w for m in _TOKEN.finditer(dated) if m.group()[0].isupper() for w in content_words(m.group())}
    present = {w for w in claim_words if w in words or (w in capitalised and _has_name(w, words))}
    in_article = len(present) / len(claim_words) if claim_words else 0.0
    names, numbers = _missing(claim, doc, nlp)
    score = 0.9 * in_article + 0.1 * window - NAME_PENALTY * len(names) - NUMBER_PENALTY * len(numbers)
    return max(0.0, min(1.0, score)), names, numbers


# ------------------------------------------------------------------------------------------ contradictions


def _negates(text: str, shared: frozenset[str], reach: int = 4) -> bool:
    """Whether a negation stands within ``reach`` words before one of the ``shared`` words ("lack of evidence of
    criminal charges"; a negation elsewhere in a long sentence does not deny them)."""
    tokens = [m.group() for m in _TOKEN.finditer(normalize(text))]
    cues = [i for i, t in enumerate(tokens) if _NEGATIVE.fullmatch(t) or t.endswith("n't")]
    hits = [i for i, t in enumerate(tokens) if content_words(t) & shared]
    return any(0 < h - c <= reach for c in cues for h in hits)


def _opposite_polarity(claim: str, evidence: str, shared: frozenset[str]) -> bool:
    """One side denies the shared words and the other has no negation anywhere near them: 'blocked the prompt
    deportation of 92 Cambodians' does not say the opposite of 'cannot immediately deport 92 Cambodians'."""
    return (_negates(claim, shared) and not _negates(evidence, shared, 2 * 4)) or (
        _negates(evidence, shared) and not _negates(claim, shared, 2 * 4)
    )


def _clauses(text: str) -> list[str]:
    parts = [p for p in _CLAUSE.split(text) if len(content_words(p)) >= 2]
    return parts or [text]


def _polarity(claim: str, doc: Document) -> tuple[Sentence, str] | None:
    """A part of the claim whose best evidence has the opposite polarity: a negation, or an antonym."""
    for part in _clauses(claim):
        words = content_words(part)
        sents, share = _best_window(doc, part)
        if not sents:
            continue
        sent = max(sents, key=lambda s: overlap(part, s.text))
        have = content_words(sent.text)
        shared = words & have
        if len(shared) >= 2 and share >= 0.5 and _opposite_polarity(part, sent.text, frozenset(shared)):
            return sent, _quote_reason(sent.text, part)
        for w in words - have:
            if _OPPOSITE.get(w, set()) & have and len(shared) >= 1:
                return sent, _quote_reason(sent.text, part)
    return None


def _quote_reason(evidence: str, claim: str) -> str:
    return f'the article says "{_short(evidence)}"; the claim says "{_short(claim)}"'


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3].rsplit(" ", 1)[0] + "..."


def _other_number(claim: str, numbers: list[str], sents: list[Sentence]) -> str | None:
    """A number of the evidence standing where the claim has one the article lacks ("200 arrested" vs "100")."""
    for s in sents:
        found = [s.text[h.start : h.end] for h in find_numbers(s.text) if s.text[h.start].isdigit()]
        if found and overlap(claim, s.text) >= 0.5:
            return found[0]
    return None


# who did what: the words right before a shared word (the doer) against the words right after (the done-to)
def _sides(tokens: list[str], i: int) -> tuple[list[str], list[str]]:
    """The doer of the word at ``i`` (the word right before it, or after "by" in a passive) and what follows."""
    before = tokens[i - 1 : i] if i > 0 else []
    after = [t for t in tokens[i + 1 : i + 5] if content_words(t)]
    if i > 0 and tokens[i - 1].lower() in _PASSIVE_AUX and "by" in tokens[i + 1 : i + 3]:
        k = tokens.index("by", i + 1)
        before, after = tokens[k + 1 : k + 3], [t for t in tokens[max(0, i - 4) : i - 1] if content_words(t)]
    return [t for t in before if content_words(t)], after


_OWNER = re.compile(r"\bof\s+(?:the\s+)?((?:[A-Z][\w&.’'-]*\s*){1,4})|([A-Z][\w&.-]*)['’]s\b")


def _owners(text: str) -> frozenset[str]:
    """Names the text gives as an owner ('the office of Acme Corporation', "Acme's office"): a claim crediting
    the owner ('Acme opens Lagos office') names a party to the act, not a different doer."""
    return frozenset(w for m in _OWNER.finditer(text) for w in content_words(m.group(1) or m.group(2)))


def _stems(tokens: list[str]) -> set[str]:
    return {w for t in tokens for w in content_words(t)}


def _actor_rule(claim: str, sent: Sentence) -> str | None:
    """Rules only: the words before the first word the claim shares with a clause of the evidence (its doer)
    differ, while the words after it (what was done to) agree, and the claim's doer is named in the evidence."""
    c_tokens = [m.group() for m in _TOKEN.finditer(claim)]
    in_sentence = content_words(sent.text)
    for clause in _clauses(sent.text) + [p for p in re.split(r"\s+and\s+", sent.text) if p != sent.text]:
        e_tokens = [m.group() for m in _TOKEN.finditer(clause)]
        e_stems = [content_words(t) for t in e_tokens]
        for i, tok in enumerate(c_tokens):
            stem = content_words(tok)
            j = next((k for k, s in enumerate(e_stems) if s and s == stem), None)
            if j is None:
                continue
            if tok[:1].isupper() and i > 0:
                break  # a name or a proper adjective ("Afghan") is not an act: nobody does it
            c_doer, c_done = _sides(c_tokens, i)
            e_doer, e_done = _sides(e_tokens, j)
            if not c_doer or not e_doer:
                continue
            doer = _stems(c_doer)
            owned = doer <= _owners(sent.text)
            # the claim's doer written on the doer's side of the sentence ('U.S. District Judge Cormac Carney in
            # Santa Ana, California federal court ruled'): a comma cut the clause, not a different doer
            lead = sent.text[: sent.text.find(clause)].rpartition(";")[2] if clause in sent.text else ""
            if doer <= content_words(lead + " " + " ".join(e_tokens[:j])):
                break
            if not doer & _stems(e_doer) and doer <= in_sentence and not owned and _stems(c_done) & _stems(e_done):
                return f'the article says "{_short(clause)}"; the claim credits "{" ".join(c_doer)}"'
            break  # only the first word the claim shares with this clause (with a doer) is compared
    return None


def _actor_parse(claim: str, sent: Sentence, nlp: Pipeline) -> str | None:
    """Same verb in the claim and the evidence, with a different doer (subject, or the agent of a passive)."""

    def others(parsed: Any, verb: str) -> frozenset[str]:
        """Who else takes part in the sentence besides the doer of ``verb``: what ``verb`` is done to (its objects),
        and the doers of its other verbs ('Volunteers rescued the hikers; police arrived later')."""
        words: set[str] = set()
        for tok in parsed:
            if tok.pos_ != "VERB":
                continue
            roles = (
                ("dobj", "dative", "prep", "attr") if tok.lemma_.lower() == verb else ("nsubj", "nsubjpass", "agent")
            )
            for child in tok.children:
                if child.dep_ in roles:
                    words |= content_words(" ".join(t.text for t in child.subtree))
        return frozenset(words)

    def doers(parsed: Any) -> dict[str, tuple[frozenset[str], str]]:
        out: dict[str, tuple[frozenset[str], str]] = {}
        for tok in parsed:
            if tok.pos_ != "VERB":
                continue
            for child in tok.children:
                if child.dep_ in ("nsubj", "agent"):
                    phrase = " ".join(t.text for t in child.subtree if t.dep_ != "prep" or child.dep_ == "agent")
                    if child.dep_ == "agent":
                        phrase = phrase.split(" ", 1)[-1]  # "by police" -> "police"
                    out[tok.lemma_.lower()] = (content_words(phrase), phrase)
        return out

    owners = _owners(sent.text)
    parsed = parse_text(nlp, sent.text)
    sent_doers = doers(parsed)
    for verb, (who, phrase) in doers(parse_text(nlp, claim)).items():
        other = sent_doers.get(verb)
        # a different doer only when the claim's doer is another party to the evidence sentence, not a word of
        # the doer's own description ('A U.S. judge ruled' for 'U.S. District Judge Cormac Carney ... ruled')
        if other and other[0] and who and not who & other[0] and who <= others(parsed, verb) and not who <= owners:
            return f'the article says "{_short(sent.text)}"; the claim credits "{phrase}"'
    return None


_NAMED = frozenset(["PROPN"])
_NAME_ENTS = frozenset(["PERSON", "ORG", "GPE", "NORP", "LOC", "FAC", "EVENT", "PRODUCT", "WORK_OF_ART"])


def _doer_names(subject: Any) -> frozenset[str]:
    """The named words of a doer phrase (its proper nouns, and words of its named entities: 'the European team' ->
    {'european'})."""
    words: set[str] = set()
    for tok in subject.subtree:
        if tok.pos_ in _NAMED or (tok.ent_type_ in _NAME_ENTS and tok.pos_ in ("ADJ", "PROPN", "NOUN")):
            words |= content_words(tok.text)
    return frozenset(words)


def _doers_of(parsed: Any) -> list[tuple[str, Any]]:
    """(verb lemma, doer token) for each verb of a parse with a subject (or the agent of a passive)."""
    out = []
    for tok in parsed:
        if tok.pos_ != "VERB":
            continue
        for child in tok.children:
            if child.dep_ == "nsubj":
                out.append((tok.lemma_.lower(), child))
            elif child.dep_ == "agent":
                out.extend((tok.lemma_.lower(), g) for g in child.children if g.dep_ == "pobj")
    return out


# Verbs that many parties of one article do ('said', 'told'): another doer of them is no contradiction.
_COMMON_ACTS = frozenset(
    [
        "say",
        "tell",
        "add",
        "state",
        "write",
        "report",
        "describe",
        "call",
        "confirm",
        "announce",
        "explain",
        "claim",
        "believe",
        "think",
        "know",
        "see",
        "want",
        "warn",
        "ask",
        "urge",
        "agree",
        "speak",
        "comment",
        "note",
        "insist",
        "suggest",
        "argue",
        "accuse",
        "praise",
        "criticise",
        "criticize",
    ]
)


def _is_name(subject: Any) -> bool:
    return bool(subject.pos_ == "PROPN" or subject.ent_type_ in ("PERSON", "ORG", "GPE"))


def _actor_elsewhere(claim: str, doc: Document, nlp: Pipeline) -> tuple[Sentence, str] | None:
    """The claim's doer is named ('Afghan girls win the Robot Olympics'), and wherever the article uses that verb,
    its doer is another named party ('the European team won the competition') and never the claim's, nor a pronoun
    that could stand for it. Descriptions ('the judge ruled' for 'Carney ruled') are not other parties."""
    for verb, subject in _doers_of(parse_text(nlp, claim)):
        mine = _doer_names(subject)
        if not mine or subject.pos_ == "PRON" or verb in _COMMON_ACTS:
            continue
        mine_words = content_words(" ".join(t.text for t in subject.subtree))
        other: tuple[Sentence, str] | None = None
        for sent in doc.sentences:
            for v, doer in _doers_of(parse_text(nlp, sent.text)):
                if v != verb:
                    continue
                phrase = " ".join(t.text for t in doer.subtree)
                theirs = _doer_names(doer)
                if doer.pos_ == "PRON" or content_words(phrase) & mine_words or mine <= _owners(sent.text):
                    return None  # the claim's own doer (or one that may be it) does this in the article
                # a name against a description ('Andrew Travers' / 'the chief executive of Barnet council') may
                # be one party: only two names, or two descriptions, are compared
                if theirs and other is None and _is_name(doer) == _is_name(subject):
                    other = (sent, f'the article says "{_short(sent.text)}"; the claim credits "{subject.text}"')
        if other is not None:
            return other
    return None


# the claim puts a thing in one place ("a social movement in Texas"); the article calls that thing global
_IN_PLACE = re.compile(
    r"\b([A-Za-z][a-z-]{2,})\s+(?:in|across|throughout)\s+((?:the\s+)?[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*)*)"
)
_WIDE = ("global", "worldwide", "nationwide", "world-wide", "nation-wide")
_END = r"(?![\w'’])"  # a place name ends here ('Paris', not 'Parisian'; 'U.S.' with its full stop)


def _narrowed(claim: str, doc: Document, nlp: Pipeline | None) -> tuple[Sentence, str] | None:
    """A thing of the claim given a place ('inspires social movement in Texas') where one sentence of the article
    has both: the thing, called global, worldwide or nationwide ('has inspired a global social movement'), and the
    place, put on something else ('a boy's digital clock in Texas'). A place the article gives in another sentence
    is left to the support score: a global thing may well have a local part ('The global pandemic ... In the US, a
    million died'). (A different named place for the same thing, tried on the 1,250 XSum pairs, flagged 2 of 119
    faithful summaries and 9 of 1,131 unfaithful ones: no better than chance, so it is not a rule.)"""
    for m in _IN_PLACE.finditer(claim):
        thing = m.group(1).lower()
        if re.search(rf"\b(?:{'|'.join(_WIDE)})\s+(?:[\w-]+\s+){{0,2}}{re.escape(thing)}\b", claim, re.IGNORECASE):
            continue  # the claim says it is global too
        words = m.group(2).removeprefix("the ").rstrip(".").split()
        # a title-case headline runs on after the place ('Climate Strikes in Paris Draw Thousands'): the place is
        # the longest run of its first words that the article has
        place = next((p for k in range(len(words), 0, -1) if _has(doc.text, p := " ".join(words[:k]))), "")
        stem = thing[:-1] if thing.endswith("s") else thing
        if not place or len(stem) < 3:
            continue
        wide = re.compile(rf"\b(?:{'|'.join(_WIDE)})\s+(?:[a-z-]+\s+){{0,2}}{re.escape(stem)}s?\b", re.IGNORECASE)
        here = re.escape(place) + _END
        same = re.compile(
            rf"\b{re.escape(stem)}s?\s+(?:in|across|throughout)\s+(?:the\s+)?{here}"  # 'protests in Paris'
            rf"|\b{here}(?:['’]s)?\s+(?:[\w-]+\s+){{0,2}}{re.escape(stem)}",  # "Paris's (nationwide) protests"
            re.IGNORECASE,
        )
        if same.search(doc.text):
            continue
        for sent in doc.sentences:
            found = wide.search(sent.text)
            if found and _has(sent.text, place) and not _placed_on(sent.text, found.end(), place, nlp):
                return sent, f'the article says "{found.group(0)}"; the claim puts the {thing} in {place}'
    return None


def _has(text: str, place: str) -> bool:
    return re.search(rf"\b{re.escape(place)}{_END}", text) is not None


def _placed_on(sentence: str, thing_end: int, place: str, nlp: Pipeline | None) -> bool:
    """Whether ``sentence`` puts ``place`` on the thing ending at ``thing_end`` or on what the thing does
    ('Nationwide protests turned violent in Paris'), not on something else ('a clock in Texas ... has inspired a
    global movement'). With the parser, a thing that is not a noun modified by the wide word ('Global oil prices
    rose') is not one either; without it: the place comes after the thing."""
    starts = [m.start() for m in re.finditer(rf"\b{re.escape(place)}{_END}", sentence)]
    if nlp is None:
        return any(a >= thing_end for a in starts)
    parsed = parse_text(nlp, sentence)
    thing = next((t for t in reversed(parsed) if t.idx < thing_end), None)
    if thing is None or thing.pos_ not in ("NOUN", "PROPN") or not any(c.lower_ in _WIDE for c in thing.children):
        return True  # the wide word is not said of this thing: nothing to narrow
    for tok in parsed:
        if tok.idx not in starts:
            continue
        while tok.head is not tok and (tok.head.pos_ in ("ADP", "PROPN") or tok.dep_ in ("compound", "appos")):
            tok = tok.head  # up through the preposition and the rest of the place's name
        if tok.head in (thing, thing.head) or tok.head.head in (thing, thing.head):
            return True
    return False


# ------------------------------------------------------------------------------------------- one sentence


def _check_sentence(claim: str, doc: Document, nlp: Pipeline | None) -> _Check:
    sents, window = _best_window(doc, claim)
    score, names, numbers = _support(claim, doc, window, nlp)
    if not sents:
        return _Check("not_found", 0.0, [], "the article has no sentences", rule="support")
    if numbers:
        other = _other_number(claim, numbers, sents)
        if other is not None:
            reason = f"the article gives {other} where the claim says {', '.join(numbers)}"
            return _Check("contradicted", score, sents, reason, rule="number")
    if numbers:  # a number (or year) the article does not have: 69 of 74 such summaries were unfaithful
        missing_text = ", ".join([*numbers, *names])
        return _Check("not_found", score, sents, f"the article does not have {missing_text}", rule="number_missing")
    polar = _polarity(claim, doc)
    if polar is not None:
        return _Check("contradicted", score, sents, polar[1], extra=[polar[0]], rule="polarity")
    for s in sorted(doc.sentences, key=lambda s: -overlap(claim, s.text))[:2]:
        swap = _actor_parse(claim, s, nlp) if nlp is not None else _actor_rule(claim, s)
        if swap is not None and overlap(claim, s.text) >= 0.5:
            return _Check("contradicted", score, sents, swap, extra=[s], rule="actor")
    elsewhere = _actor_elsewhere(claim, doc, nlp) if nlp is not None else None
    if elsewhere is not None:
        return _Check("contradicted", score, sents, elsewhere[1], extra=[elsewhere[0]], rule="actor_elsewhere")
    narrowed = _narrowed(claim, doc, nlp)
    if narrowed is not None:
        return _Check("contradicted", score, sents, narrowed[1], extra=[narrowed[0]], rule="narrowed")
    if score >= SUPPORT_THRESHOLD:
        return _Check(
            "supported", score, sents, f"{window:.0%} of the claim's content words are in the evidence", rule="support"
        )
    missing = [*numbers, *names]
    if missing:
        reason = f"the article does not have {', '.join(missing)}"
    else:
        reason = f"only {window:.0%} of the claim's content words are in the best matching sentences"
    return _Check("not_found", score, sents, reason, rule="support")
