"""Set-level metrics: precision/recall/F1, grounding rate and hallucination rate. Small and pure."""

from __future__ import annotations

from dataclasses import dataclass

from factkit._grounding import overlap
from factkit._models import Extraction, Span

from ._scores import Item, Ratio, SpanRef
from ._text import name_in_text, norm_name

__all__ = ["HALLUCINATION_FLOOR", "PRF", "grounding", "hallucination", "prf"]

#: A fact whose statement shares fewer of its content words than this with its evidence is unsupported.
HALLUCINATION_FLOOR = 0.3


@dataclass(frozen=True)
class PRF:
    """Precision, recall and F1 from counts."""

    precision: float
    recall: float
    f1: float


def prf(tp: int, fp: int, fn: int) -> PRF:
    """Precision tp/(tp+fp), recall tp/(tp+fn), F1 their harmonic mean; 0 where a denominator is 0."""
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PRF(precision, recall, f1)


def _grounded(article: str, span: Span) -> bool:
    return 0 <= span.start <= span.end <= len(article) and article[span.start : span.end] == span.text


def grounding(article: str, extraction: Extraction) -> Ratio:
    """Predicted items whose span is exactly ``article[start:end] == text``, out of all of them.

    Items: each fact (its evidence), each key point (all its evidence spans), each entity mention and
    each quote. factkit itself should score 1.0; the metric catches regressions and scores other tools.
    """
    checks = [_grounded(article, f.evidence) for f in extraction.facts]
    checks += [all(_grounded(article, e) for e in kp.evidence) for kp in extraction.summary.key_points]
    checks += [_grounded(article, m) for e in extraction.entities for m in e.mentions]
    checks += [_grounded(article, q.span) for q in extraction.quotes]
    return Ratio(count=sum(checks), total=len(checks))


def hallucination(article: str, extraction: Extraction) -> tuple[Ratio, list[Item]]:
    """Predicted facts and entities with no support in the article, out of all predicted facts and entities.

    * an entity is unsupported when neither its name nor any mention text occurs in the article (both
      normalised by :func:`norm_name`, as whole words);
    * a fact is unsupported when its evidence text is not in the article (at its offsets or anywhere), or
      fewer than :data:`HALLUCINATION_FLOOR` of its statement's content words occur in the evidence.
    """
    normalised_article = norm_name(article)
    unsupported: list[Item] = []
    for e in extraction.entities:
        if not any(name_in_text(t, normalised_article) for t in (e.name, *(m.text for m in e.mentions))):
            unsupported.append(
                Item(label=e.name, spans=[SpanRef(start=m.start, end=m.end) for m in e.mentions], detail=e.type)
            )
    for f in extraction.facts:
        ev = f.evidence
        in_article = _grounded(article, ev) or (bool(ev.text) and ev.text in article)
        if not in_article or overlap(f.statement, ev.text) < HALLUCINATION_FLOOR:
            reason = "evidence not in the article" if not in_article else "statement not supported by its evidence"
            unsupported.append(Item(label=f.statement, spans=[SpanRef(start=ev.start, end=ev.end)], detail=reason))
    total = len(extraction.entities) + len(extraction.facts)
    return Ratio(count=len(unsupported), total=total), unsupported
