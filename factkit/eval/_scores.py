"""Typed scores: what the matchers return and what the JSON report is made of.

The report's schema is :class:`EvalReport` (``schema_version`` 1); ``docs/eval.md`` documents each field.
Every model forbids unknown fields, so a report written by one version and read by another fails loudly.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "OVERALL_TYPES",
    "SCHEMA_VERSION",
    "TYPES",
    "Accuracy",
    "CaseResult",
    "CaseSummary",
    "CostScores",
    "EvalReport",
    "FieldScore",
    "Item",
    "Match",
    "OverallScores",
    "Ratio",
    "RougeScore",
    "RunInfo",
    "SentenceVerdict",
    "SpanRef",
    "SummaryScores",
    "TypeResult",
    "TypeScores",
]

SCHEMA_VERSION = 1

ItemType = Literal["entities", "entities_typed", "dates", "quotes", "facts", "quantities"]
#: Every item type scored, in report order. ``entities_typed`` is ``entities`` with the type required too.
TYPES: tuple[ItemType, ...] = ("entities", "entities_typed", "dates", "quotes", "facts", "quantities")
#: The types that make up the overall micro/macro scores (``entities_typed`` would count entities twice).
OVERALL_TYPES: tuple[ItemType, ...] = ("entities", "dates", "quotes", "facts", "quantities")


class _Score(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SpanRef(_Score):
    """A stretch of the article, ``[start, end)``."""

    start: int
    end: int


class Item(_Score):
    """One gold or predicted item, as shown in reports."""

    label: str = Field(description="What the item says: a name, a date expression, a quote, a statement.")
    spans: list[SpanRef] = Field(default_factory=list, description="Where it is in the article.")
    detail: str | None = Field(None, description="Its attribute: entity type, ISO value, speaker, quantity.")


class Match(_Score):
    """A gold item and the prediction assigned to it."""

    gold: Item
    pred: Item
    score: float = Field(description="How well they match (0..1); the assignment maximises its sum.")
    attribute_ok: bool | None = Field(
        None, description="Dates: same ISO value; quotes: same speaker; None where not judged."
    )


class Accuracy(_Score):
    """``correct`` out of ``total``; ``accuracy`` is None when ``total`` is 0."""

    correct: int = 0
    total: int = 0
    accuracy: float | None = Field(None, description="correct / total (computed; None when total is 0).")

    @model_validator(mode="after")
    def _compute(self) -> Accuracy:
        self.accuracy = self.correct / self.total if self.total else None
        return self


class Ratio(_Score):
    """``count`` out of ``total`` (e.g. grounded spans out of all spans)."""

    count: int = 0
    total: int = 0
    rate: float | None = Field(None, description="count / total (computed; None when total is 0).")

    @model_validator(mode="after")
    def _compute(self) -> Ratio:
        self.rate = self.count / self.total if self.total else None
        return self


class TypeResult(_Score):
    """The matching of one item type in one case."""

    tp: int = Field(description="Gold items matched one-to-one by a prediction.")
    fp: int = Field(description="Predictions left unmatched (spurious).")
    fn: int = Field(description="Gold items left unmatched (missed).")
    matched: list[Match] = Field(default_factory=list)
    missed: list[Item] = Field(default_factory=list)
    spurious: list[Item] = Field(default_factory=list)
    normalised: Accuracy | None = Field(None, description="Dates: matched pairs with the gold ISO value.")
    attribution: Accuracy | None = Field(None, description="Quotes: matched quotes with the gold speaker.")
    speakers: Accuracy | None = Field(
        None, description="Quotes: gold quotes with a known speaker that were found with that speaker."
    )
    units: Accuracy | None = Field(None, description="Quantities: matched pairs with the gold normalised unit.")
    bounds: Accuracy | None = Field(None, description="Quantities: matched pairs with the gold bound.")
    changes: Accuracy | None = Field(None, description="Quantities: matched pairs with the gold change (or none).")


class RougeScore(_Score):
    """ROUGE F-measures of the summary against one reference."""

    rouge1: float
    rouge2: float
    rougeL: float


class SentenceVerdict(_Score):
    """A judge's verdict on one summary sentence."""

    sentence: str
    supported: bool
    reason: str = ""


class CaseSummary(_Score):
    """The summary of one case and its scores."""

    text: str = Field(description="The scored summary: the tldr followed by the key points.")
    headline: str = Field("", description="The headline (shown, not scored).")
    references: list[RougeScore] = Field(default_factory=list, description="ROUGE against each reference.")
    faithfulness: Ratio | None = Field(None, description="Sentences the judge found supported; None: no judge.")
    verdicts: list[SentenceVerdict] = Field(default_factory=list)
    judge_error: str | None = Field(None, description="Why the judge failed on this summary, if it did.")
    key_facts: Ratio | None = Field(None, description="Gold key facts the summary covers; None: none labelled.")
    missed_key_facts: list[str] = Field(default_factory=list)


class FieldScore(_Score):
    """One scored field of a user schema (a case with ``schema``): its score, 0..1, and how it was matched."""

    score: float
    matcher: str = Field(description="text, number, exact, date, evidence, supports, set, none, missing, failed.")
    expected: Any = None
    predicted: Any = None


class CaseResult(_Score):
    """Everything scored for one case (one article)."""

    id: str
    title: str | None = None
    text: str = Field(description="The article, for the HTML report.")
    text_sha256: str
    error: str | None = Field(None, description="Why the extraction failed; the case then counts as all missed.")
    latency_s: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0
    cached_calls: int = 0
    types: dict[ItemType, TypeResult] = Field(
        default_factory=dict, description="The scored item types (facts and quantities only where labelled)."
    )
    grounding: Ratio = Field(default_factory=Ratio, description="Predicted spans equal to article[start:end].")
    hallucination: Ratio = Field(default_factory=Ratio, description="Predicted facts/entities with no support.")
    unsupported: list[Item] = Field(default_factory=list, description="The unsupported facts and entities.")
    summary: CaseSummary | None = None
    custom: dict[str, float] = Field(
        default_factory=dict, description="Your own metrics' values on this case (--metric), by name."
    )
    schema_class: str | None = Field(None, description="The user schema a case with `schema` was scored on.")
    fields: dict[str, FieldScore] = Field(
        default_factory=dict, description="That schema's expected fields, scored, by dotted path."
    )
    schema_score: float | None = Field(None, description="The mean of the field scores.")
    judge_prompt_tokens: int = 0
    judge_completion_tokens: int = 0


class TypeScores(_Score):
    """Precision, recall and F1 of one item type over all cases (micro: counts summed first)."""

    precision: float
    recall: float
    f1: float
    support: int = Field(description="Gold items.")
    predicted: int = Field(description="Predicted items.")
    tp: int
    fp: int
    fn: int
    cases: int = Field(description="Cases in which this type was scored.")
    normalised: Accuracy | None = None
    attribution: Accuracy | None = None
    speakers: Accuracy | None = None
    units: Accuracy | None = None
    bounds: Accuracy | None = None
    changes: Accuracy | None = None


class OverallScores(_Score):
    """Scores over the types of :data:`OVERALL_TYPES`."""

    micro_precision: float
    micro_recall: float
    micro_f1: float
    macro_precision: float
    macro_recall: float
    macro_f1: float
    grounding: Ratio
    hallucination: Ratio


class SummaryScores(_Score):
    """Summary metrics, averaged over the cases that have what each needs."""

    cases: int = Field(description="Cases with at least one reference summary.")
    rouge1: float = Field(description="Mean over cases of the best ROUGE-1 F against any reference.")
    rouge2: float
    rougeL: float
    rouge1_mean: float = Field(description="Mean over cases of the mean ROUGE-1 F over the references.")
    rouge2_mean: float
    rougeL_mean: float
    faithfulness: Ratio | None = Field(None, description="Supported summary sentences, all cases together.")
    key_facts: Ratio | None = Field(None, description="Gold key facts covered, all cases together.")


class CostScores(_Score):
    """What the run cost, per document and in total."""

    documents: int
    errors: int = Field(description="Cases whose extraction failed.")
    latency_s: float = Field(description="Seconds spent extracting, all cases.")
    latency_s_per_doc: float
    prompt_tokens: int
    completion_tokens: int
    tokens_per_doc: float
    calls: int
    cached_calls: int = Field(description="Calls answered by the cache (they cost nothing this time).")
    price_in: float | None = Field(None, description="Price per 1M prompt tokens, when given.")
    price_out: float | None = Field(None, description="Price per 1M completion tokens, when given.")
    money: float | None = Field(None, description="What the tokens cost at those prices (cached calls included).")
    money_per_doc: float | None = None
    judge_prompt_tokens: int = 0
    judge_completion_tokens: int = 0


class RunInfo(_Score):
    """What was run, when, and how."""

    model: str
    backend: str
    prompt_version: str
    started: datetime
    duration_s: float
    fixtures: str | None = Field(None, description="The fixture path given.")
    cases: int
    source: Literal["model", "replay"] = Field(description="Fresh extractions, or a recorded run replayed.")
    recording: str | None = Field(None, description="The predictions file replayed or recorded.")
    repeats: int = 1
    matcher: str = "lexical"
    judge: str | None = None
    parts: list[str] | None = Field(
        None, description="The parts extracted and scored (--only); the others were not run and are not scored."
    )
    custom_lower_is_better: list[str] = Field(
        default_factory=list, description="Your own metrics (--metric) for which lower values are better."
    )
    factkit_version: str


class EvalReport(_Score):
    """The JSON report of ``factkit eval`` (``schema_version`` 1, documented in ``docs/eval.md``).

    ``types``, ``overall``, ``summary``, ``cost`` and ``cases`` describe the first run; ``metrics`` is the
    flat ``name -> value`` view the gates read, averaged over the runs when ``repeats`` > 1, with the
    standard deviation of each in ``spread`` and every run's values in ``runs``.
    """

    schema_version: int = SCHEMA_VERSION
    run: RunInfo
    types: dict[ItemType, TypeScores]
    overall: OverallScores
    summary: SummaryScores | None = None
    cost: CostScores
    metrics: dict[str, float]
    spread: dict[str, float] = Field(default_factory=dict)
    runs: list[dict[str, float]] = Field(default_factory=list)
    cases: list[CaseResult]
