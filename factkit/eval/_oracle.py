"""The gold labels of a case as an :class:`Extraction`: a perfect prediction, to check the harness itself.

Scoring a case's oracle extraction must give F1 = 1 for every labelled type; tests perturb it to check
each matcher and metric end to end. ``factkit eval`` never uses it.
"""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from factkit._models import (
    CustomExtraction,
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

from ._fixtures import Case, GoldSpan, case_schema

__all__ = ["OracleExtractor", "oracle_custom", "oracle_extraction"]


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


def _first_alternatives(schema: type[BaseModel], expected: dict[str, Any]) -> dict[str, Any]:
    """The expected values with each Evidence given as alternatives replaced by the first one."""
    out: dict[str, Any] = {}
    for name, value in expected.items():
        annotation = schema.model_fields[name].annotation  # the fixture's fields were checked against the schema
        options = (annotation, *typing.get_args(annotation))
        if Evidence in options and isinstance(value, list):  # one Evidence given as alternatives: the first
            value = value[0] if value else None
        nested = next((a for a in options if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if nested is not None and nested is not Evidence and isinstance(value, dict):
            value = _first_alternatives(nested, value)
        out[name] = value
    return out


def oracle_custom(case: Case) -> CustomExtraction[Any]:
    """The expected values of a user-schema case as its prediction (fields it leaves out stay unset)."""
    schema = case_schema(case)
    assert schema is not None
    values = _first_alternatives(schema, case.expected)
    try:
        data = schema.model_validate(values)
    except ValidationError:  # expected values for some fields only
        data = schema.model_construct(**values)
    return CustomExtraction[schema](  # type: ignore[valid-type]
        data=data, model="oracle", backend="oracle", prompt_version="gold"
    )


class OracleExtractor:
    """An extractor that returns the gold labels of the case whose article it is given."""

    def __init__(self, cases: list[Case]) -> None:
        self._by_text = {(c.article, c.schema_ref is not None): c for c in cases}

    def extract(self, text: str, *, published: Any = None, schema: Any = None) -> Any:
        """The oracle extraction of the case with this article (with ``schema``: its expected values)."""
        case = self._by_text[(text, schema is not None)]
        return oracle_custom(case) if schema is not None else oracle_extraction(case)
