"""Per-type matchers: gold items of a case against predicted items, one-to-one, as a :class:`TypeResult`.

Each matcher builds a score matrix (None where a pair may not match) and hands it to :func:`assign`, which
maximises the number of pairs, then their total score. The rules (``docs/eval.md`` has them in full):

* entities: the normalised name or any mention text of the prediction equals the normalised name, an
  alias or any mention text of the gold entity (:func:`norm_name`); typed matching also needs equal types;
* dates and quotes: the spans overlap; the date's ISO value / the quote's speaker are then checked;
* facts: statement similarity >= ``threshold``, or overlapping evidence and similarity >= ``floor``;
* quantities: value within 1 % (relative) and a shared unit word (or no gold unit).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from factkit._grounding import content_words
from factkit._models import DateMention, Entity, Fact, Quantity, Quote

from ._assign import assign
from ._fixtures import GoldDate, GoldEntity, GoldFact, GoldQuantity, GoldQuote
from ._scores import Accuracy, Item, Match, SpanRef, TypeResult
from ._text import lexical_similarity, norm_name, span_iou, spans_overlap, speaker_matches

__all__ = [
    "FACT_FLOOR",
    "FACT_THRESHOLD",
    "QUANTITY_TOLERANCE",
    "Similarity",
    "match_dates",
    "match_entities",
    "match_facts",
    "match_quantities",
    "match_quotes",
]

#: Statement similarity (content-word F1) at which a predicted fact matches a gold fact on its own.
FACT_THRESHOLD = 0.5
#: Lower similarity accepted when the evidence spans overlap.
FACT_FLOOR = 0.25
#: Relative tolerance of a quantity's value.
QUANTITY_TOLERANCE = 0.01

#: ``similarity(gold_texts, predicted_texts)`` -> matrix of scores in 0..1 (lexical, or embeddings).
Similarity = Callable[[Sequence[str], Sequence[str]], list[list[float]]]

_Scores = list[list[float | None]]


def _result(
    scores: _Scores,
    gold: Sequence[Item],
    pred: Sequence[Item],
    attribute: Callable[[int, int], bool | None] | None = None,
) -> TypeResult:
    pairs = assign(scores)
    used_gold = {g for g, _, _ in pairs}
    used_pred = {p for _, p, _ in pairs}
    matched = [
        Match(
            gold=gold[g],
            pred=pred[p],
            score=round(s, 4),
            attribute_ok=attribute(g, p) if attribute is not None else None,
        )
        for g, p, s in pairs
    ]
    return TypeResult(
        tp=len(pairs),
        fp=len(pred) - len(pairs),
        fn=len(gold) - len(pairs),
        matched=matched,
        missed=[item for i, item in enumerate(gold) if i not in used_gold],
        spurious=[item for j, item in enumerate(pred) if j not in used_pred],
    )


# ------------------------------------------------------------------------------------------- entities


def _gold_entity_item(g: GoldEntity) -> Item:
    return Item(label=g.name, spans=[SpanRef(start=m.start, end=m.end) for m in g.mentions], detail=g.type)


def _pred_entity_item(e: Entity) -> Item:
    return Item(label=e.name, spans=[SpanRef(start=m.start, end=m.end) for m in e.mentions], detail=e.type)


def gold_entity_keys(g: GoldEntity) -> set[str]:
    """Every normalised form a gold entity is known by: name, aliases and mention texts."""
    return {norm_name(t) for t in (g.name, *g.aliases, *(m.text for m in g.mentions))} - {""}


def pred_entity_keys(e: Entity) -> set[str]:
    """Every normalised form a predicted entity is given by: its name and its mention texts."""
    return {norm_name(t) for t in (e.name, *(m.text for m in e.mentions))} - {""}


def match_entities(gold: Sequence[GoldEntity], pred: Sequence[Entity], *, typed: bool = False) -> TypeResult:
    """Entities, one-to-one, by normalised names (with aliases and mention texts); ``typed`` also needs
    ``type`` equal. A prediction whose own name is the gold name or an alias scores above one matched only
    through a mention text."""
    gold_keys = [gold_entity_keys(g) for g in gold]
    gold_names = [{norm_name(t) for t in (g.name, *g.aliases)} for g in gold]
    pred_keys = [pred_entity_keys(e) for e in pred]
    scores: _Scores = []
    for g, keys, names in zip(gold, gold_keys, gold_names, strict=True):
        row: list[float | None] = []
        for e, pkeys in zip(pred, pred_keys, strict=True):
            if not keys & pkeys or (typed and e.type != g.type):
                row.append(None)
            else:
                row.append(1.0 if norm_name(e.name) in names else 0.5)
        scores.append(row)
    return _result(scores, [_gold_entity_item(g) for g in gold], [_pred_entity_item(e) for e in pred])


# ---------------------------------------------------------------------------------------------- dates


def same_date_value(predicted: str | None, gold: str | None) -> bool:
    """Equal ISO values, ignoring case and surrounding space (``197x`` = ``197X``)."""
    if predicted is None or gold is None:
        return False
    return predicted.strip().casefold() == gold.strip().casefold()


def match_dates(gold: Sequence[GoldDate], pred: Sequence[DateMention]) -> TypeResult:
    """Date expressions, one-to-one by overlapping spans; ``normalised`` counts matched pairs whose value
    equals the gold value, out of gold dates that have a value."""
    scores: _Scores = [
        [
            span_iou(g.start, g.end, d.span.start, d.span.end)
            if spans_overlap(g.start, g.end, d.span.start, d.span.end)
            else None
            for d in pred
        ]
        for g in gold
    ]

    def value_ok(i: int, j: int) -> bool | None:
        return None if gold[i].value is None else same_date_value(pred[j].value, gold[i].value)

    result = _result(
        scores,
        [Item(label=g.text, spans=[SpanRef(start=g.start, end=g.end)], detail=g.value) for g in gold],
        [Item(label=d.span.text, spans=[SpanRef(start=d.span.start, end=d.span.end)], detail=d.value) for d in pred],
        value_ok,
    )
    correct = sum(1 for m in result.matched if m.attribute_ok)
    result.normalised = Accuracy(correct=correct, total=sum(1 for g in gold if g.value is not None))
    return result


# --------------------------------------------------------------------------------------------- quotes


def match_quotes(gold: Sequence[GoldQuote], pred: Sequence[Quote]) -> TypeResult:
    """Quotes, one-to-one by overlapping spans; ``attribution`` counts matched quotes whose gold speaker is
    known and whose predicted speaker is the same person (normalised name or surname)."""
    scores: _Scores = [
        [
            span_iou(g.start, g.end, q.span.start, q.span.end)
            if spans_overlap(g.start, g.end, q.span.start, q.span.end)
            else None
            for q in pred
        ]
        for g in gold
    ]

    def speaker_ok(i: int, j: int) -> bool | None:
        return None if gold[i].speaker is None else speaker_matches(pred[j].speaker, gold[i].speaker)

    result = _result(
        scores,
        [Item(label=g.text, spans=[SpanRef(start=g.start, end=g.end)], detail=g.speaker) for g in gold],
        [Item(label=q.text, spans=[SpanRef(start=q.span.start, end=q.span.end)], detail=q.speaker) for q in pred],
        speaker_ok,
    )
    judged = [m for m in result.matched if m.attribute_ok is not None]
    correct = sum(1 for m in judged if m.attribute_ok)
    result.attribution = Accuracy(correct=correct, total=len(judged))
    # over every gold quote with a known speaker: a missed quote's speaker is a missed speaker
    result.speakers = Accuracy(correct=correct, total=sum(1 for g in gold if g.speaker is not None))
    return result


# ---------------------------------------------------------------------------------------------- facts


def match_facts(
    gold: Sequence[GoldFact],
    pred: Sequence[Fact],
    *,
    similarity: Similarity = lexical_similarity,
    threshold: float = FACT_THRESHOLD,
    floor: float = FACT_FLOOR,
) -> TypeResult:
    """Facts, one-to-one: statement similarity >= ``threshold``, or evidence spans that overlap and a
    similarity >= ``floor``. The default similarity is the F1 of the statements' content words."""
    sims = similarity([g.statement for g in gold], [f.statement for f in pred]) if gold and pred else []
    scores: _Scores = []
    for i, g in enumerate(gold):
        row: list[float | None] = []
        for j, f in enumerate(pred):
            sim = sims[i][j]
            near = g.evidence is not None and spans_overlap(
                g.evidence.start, g.evidence.end, f.evidence.start, f.evidence.end
            )
            row.append(sim if sim >= threshold or (near and sim >= floor) else None)
        scores.append(row)
    gold_items = [
        Item(label=g.statement, spans=[SpanRef(start=g.evidence.start, end=g.evidence.end)] if g.evidence else [])
        for g in gold
    ]
    pred_items = [
        Item(label=f.statement, spans=[SpanRef(start=f.evidence.start, end=f.evidence.end)], detail=f.kind)
        for f in pred
    ]
    return _result(scores, gold_items, pred_items)


# ----------------------------------------------------------------------------------------- quantities


def quantity_matches(value: float, unit: str, gold: GoldQuantity, *, tolerance: float = QUANTITY_TOLERANCE) -> bool:
    """Value within ``tolerance`` (relative to the gold value) and a content word of the units shared, or no
    gold unit. Units are compared as content words, so "Cambodians" = "Cambodian citizens"."""
    if abs(value - gold.value) > tolerance * abs(gold.value) + 1e-12:
        return False
    gold_words = content_words(gold.unit) | content_words(gold.unit_normalised or "")
    return not gold_words or bool(gold_words & content_words(unit))


def _quantity_label(q: Quantity) -> str:
    value = f"{q.value:g}"
    return f"{value} {q.unit}".strip()


def match_quantities(
    gold: Sequence[GoldQuantity], pred: Sequence[Quantity], *, tolerance: float = QUANTITY_TOLERANCE
) -> TypeResult:
    """Quantities, one-to-one by :func:`quantity_matches`; among matching pairs, those whose spans overlap
    and whose units share more words are preferred."""
    scores: _Scores = []
    for g in gold:
        row: list[float | None] = []
        gold_words = content_words(g.unit)
        for q in pred:
            if not quantity_matches(q.value, f"{q.unit} {q.surface}", g, tolerance=tolerance):
                row.append(None)
                continue
            words = content_words(f"{q.unit} {q.surface}")
            unit_sim = len(words & gold_words) / len(words | gold_words) if words | gold_words else 1.0
            place = span_iou(g.start, g.end, q.span.start, q.span.end) if q.span is not None else 0.0
            row.append(0.5 * unit_sim + 0.5 * place)
        scores.append(row)
    gold_items = [
        Item(label=g.text, spans=[SpanRef(start=g.start, end=g.end)], detail=f"{g.value:g} {g.unit}".strip())
        for g in gold
    ]
    pred_items = [
        Item(
            label=q.span.text if q.span is not None else _quantity_label(q),
            spans=[SpanRef(start=q.span.start, end=q.span.end)] if q.span is not None else [],
            detail=_quantity_label(q),
        )
        for q in pred
    ]
    result = _result(scores, gold_items, pred_items)
    pairs = [(gold[g], pred[p]) for g, p, _ in assign(scores)]

    def accuracy(label: Callable[[GoldQuantity], str | None], got: Callable[[Quantity], str]) -> Accuracy | None:
        judged = [(label(g), got(q)) for g, q in pairs if label(g) is not None]
        return Accuracy(correct=sum(a == b for a, b in judged), total=len(judged)) if judged else None

    result.units = accuracy(lambda g: g.unit_normalised, lambda q: q.unit)
    result.bounds = accuracy(lambda g: g.bound, lambda q: q.bound)
    result.changes = accuracy(lambda g: g.change, lambda q: q.change or "none")
    return result
