"""Entailment by the model: does the article state one sentence of a claim?

The checker's model half (:func:`factkit.verify` combines it with the rules of :mod:`factkit.checker._verify`):

1. **Evidence.** The few article sentences that best cover the claim sentence, by its content words weighted by
   how rare they are in the article (a name or a number counts for more than "said"), and by the names they
   share; the article's first sentence comes along when it is among the close ones (news states its point there).
2. **Question.** The model reads only that evidence and the claim (``prompts/verify_entail.md``) and is scored by
   the probability of "yes" against "no" for the first token of its answer: no text is generated. The embedded
   model does this in one forward pass; a remote endpoint is asked for one token with its log-probabilities, and
   an endpoint that gives none answers a constrained yes/no (a score of 1 or 0).

Everything here is deterministic for a given model: greedy, no sampling.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._document import Document, Sentence, per_document
from .._grounding import content_words
from .._prompts import escape_article, load_prompt
from ..rules.furniture import is_furniture

if TYPE_CHECKING:
    from ..backends.base import ChatBackend

__all__ = ["ENTAIL_PROMPT", "Entailment", "choose_evidence", "entailment"]

ENTAIL_PROMPT = "verify_entail"
#: Sentences of evidence the model reads for one claim sentence, and their length in characters at most.
EVIDENCE_SENTENCES = 5
EVIDENCE_CHARS = 3000

_CAPITALISED = re.compile(r"\b[A-Z][\w'’.-]*[A-Za-z]")


@dataclass(frozen=True)
class Entailment:
    """The model's answer for one claim sentence: P(yes), and the sentences it read."""

    p_yes: float
    evidence: tuple[Sentence, ...]


@per_document
def _idf(doc: Document) -> dict[str, float]:
    counts: Counter[str] = Counter()
    for s in doc.sentences:
        counts.update(content_words(s.text))
    n = len(doc.sentences) or 1
    return {w: math.log(1 + n / c) for w, c in counts.items()}


def _names(text: str) -> frozenset[str]:
    return frozenset(w for m in _CAPITALISED.finditer(text) for w in content_words(m.group()))


def _coverage(
    claim_words: frozenset[str], names: frozenset[str], sentence: Sentence, idf: dict[str, float], rare: float
) -> float:
    have = content_words(sentence.text)
    weight = {w: idf.get(w, rare) * (2.0 if w in names else 1.0) for w in claim_words}
    total = sum(weight.values()) or 1.0
    return sum(v for w, v in weight.items() if w in have) / total


def choose_evidence(doc: Document, claim: str, k: int = EVIDENCE_SENTENCES) -> list[Sentence]:
    """The ``k`` article sentences that cover most of ``claim`` (rare words and names weigh more), in article
    order, within :data:`EVIDENCE_CHARS`. The lead sentence is added when it covers at least half as much as
    the best one and is not already there. Page furniture (a byline, "3 Min Read", a time stamp) is never
    evidence, nor the lead."""
    sents = [s for s in doc.sentences if not is_furniture(s.text)] or doc.sentences  # a byline states nothing
    if not sents:
        return []
    words = content_words(claim)
    names = _names(claim)
    idf = _idf(doc)
    rare = max(idf.values(), default=1.0)  # a word the article lacks counts as its rarest
    scored = sorted(((_coverage(words, names, s, idf, rare), s) for s in sents), key=lambda p: (-p[0], p[1].index))
    chosen: list[Sentence] = []
    size = 0
    best = scored[0][0]
    for score, s in scored:
        if len(chosen) >= k or (chosen and score <= 0):
            break
        if size + len(s.text) > EVIDENCE_CHARS and chosen:
            continue
        chosen.append(s)
        size += len(s.text)
    lead = sents[0]
    close = _coverage(words, names, lead, idf, rare) >= best / 2
    if lead not in chosen and close and size + len(lead.text) <= 2 * EVIDENCE_CHARS:
        chosen.append(lead)
    return sorted(chosen, key=lambda s: s.start)


def entailment(backend: ChatBackend, doc: Document, claim: str) -> Entailment:
    """Ask the model whether the evidence for ``claim`` (one sentence) states it."""
    evidence = choose_evidence(doc, claim)
    # bounded whatever the article: a one-sentence article of a megabyte still makes a prompt of a few thousand
    # characters (each sentence cut to its share)
    share = max(200, EVIDENCE_CHARS // max(1, len(evidence)))
    text = "\n".join(" ".join(s.text.split())[:share] for s in evidence)
    messages = load_prompt(ENTAIL_PROMPT).render(article=escape_article(text), claim=" ".join(claim.split()))
    answer = backend.yes_probability(messages)
    return Entailment(p_yes=answer.p_yes, evidence=tuple(evidence))
