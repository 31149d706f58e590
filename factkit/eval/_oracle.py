"""The gold labels of a case as an :class:`Extraction`: a perfect prediction, to check the harness itself.

Scoring a case's oracle extraction must give F1 = 1 for every labelled type; tests perturb it to check
each matcher and metric end to end. ``factkit eval`` never uses it.
"""

from __future__ import annotations

from typing import Any

from factkit._models import (
    DateMention,
    Entity,
    Evidence,
    Extraction,
    Fact,
    KeyPoint,
    Quantity,
    Quote,
    Span,
    Summary,
)

from ._fixtures import Case, GoldSpan

__all__ = ["OracleExtractor", "oracle_extraction"]


def _span(s: GoldSpan) -> Span:
    return Span(start=s.start, end=s.end, text=s.text)


def _evidence(s: GoldSpan) -> Evidence:
    return Evidence(start=s.start, end=s.end, text=s.text)


def oracle_extraction(case: Case) -> Extraction:
    """The gold labels of ``case`` as predictions (entities without mentions and facts without evidence,
    which an Extraction cannot hold, are left out)."""
    facts: list[Fact] = [
        Fact(statement=f.statement, kind="other", evidence=_evidence(f.evidence))
        for f in case.facts
        if f.evidence is not None
    ]
    for q in case.quantities:
        quantity = Quantity(value=q.value, unit=q.unit, approximate=q.approximate, span=_span(q))
        home = next(
            (f for f in facts if f.quantity is None and f.evidence.start <= q.start and q.end <= f.evidence.end), None
        )
        if home is not None:
            home.quantity = quantity
        else:
            facts.append(Fact(statement=q.text, kind="quantity", evidence=_evidence(q), quantity=quantity))
    key_points = [
        KeyPoint(text=f.statement, evidence=[_evidence(f.evidence)]) for f in case.facts if f.key and f.evidence
    ]
    return Extraction(
        summary=Summary(
            headline=case.title or "",
            tldr=case.summaries[0].text if case.summaries else "",
            key_points=key_points,
        ),
        facts=facts,
        entities=[
            Entity(name=e.name, type=e.type, mentions=[_span(m) for m in e.mentions])
            for e in case.entities
            if e.mentions
        ],
        quotes=[Quote(text=q.text, span=_span(q), speaker=q.speaker) for q in case.quotes],
        dates=[DateMention(span=_span(d), value=d.value) for d in case.dates],
        model="oracle",
        backend="oracle",
        prompt_version="gold",
        published=case.published.isoformat() if case.published else None,
    )


class OracleExtractor:
    """An extractor that returns the gold labels of the case whose article it is given."""

    def __init__(self, cases: list[Case]) -> None:
        self._by_text = {c.article: c for c in cases}

    def extract(self, text: str, *, published: Any = None) -> Extraction:
        """The oracle extraction of the case with this article."""
        return oracle_extraction(self._by_text[text])
