"""The public records factkit returns. Every offset points into the exact text the caller passed."""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

EntityType = Literal["person", "organization", "location", "other"]
FactKind = Literal["event", "quantity", "quote", "attribution", "relation", "other"]
MatchKind = Literal["exact", "normalized", "fuzzy", "sentence"]

T = TypeVar("T", bound=BaseModel)


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Span(_Record):
    """A stretch of the source text: ``source[start:end] == text``."""

    start: int = Field(ge=0, description="Offset of the first character, in Python str indices.")
    end: int = Field(ge=0, description="Offset one past the last character.")
    text: str = Field(description="Exactly source[start:end].")

    @model_validator(mode="after")
    def _check(self) -> Span:
        if self.end < self.start:
            raise ValueError(f"span end {self.end} is before start {self.start}")
        if len(self.text) != self.end - self.start:
            raise ValueError(f"span text has {len(self.text)} characters but covers {self.end - self.start}")
        return self


class Evidence(Span):
    """A span that supports a claim, with how it was located in the source.

    In a user schema, a field typed ``Evidence`` is asked of the model as an exact quote and grounded by
    factkit into offsets; the model never sees ``start``/``end``.
    """

    match: MatchKind = Field("exact", description="How the quote was found: exact, normalized, fuzzy, sentence.")
    score: float = Field(1.0, ge=0, le=1, description="Similarity of the model's quote to the located text.")


class KeyPoint(_Record):
    text: str = Field(description="One key point of the article, a short sentence.")
    evidence: list[Evidence] = Field(min_length=1, description="The spans that support this key point.")


class Summary(_Record):
    headline: str = Field(description="A headline of at most 15 words.")
    tldr: str = Field(
        description="What happened, in a sentence: the model's, or the article's lead (with the one or two sentences "
        "after it that read alone, when the lead is under 30 words)."
    )
    key_points: list[KeyPoint] = Field(description="Up to 5 key points, each a sentence that reads alone.")


class Quantity(_Record):
    """A number the source states, with what it counts or measures (see ``docs/quantities.md``)."""

    value: float = Field(
        description="The number, signed and scaled ('-1.3%' -> -1.3, '$4.2bn' -> 4.2e9); a range's low end."
    )
    unit: str = Field(
        "",
        description="Normalised: an ISO 4217 code for money ('USD'), 'percent', 'percentage point', a pint unit name "
        "('kilometer'), 'fraction', else the counted noun's lemma ('citizen').",
    )
    approximate: bool = Field(
        False, description="True when the text hedges: about, more than, up to (bound is not '=')."
    )
    span: Span | None = Field(None, description="Where the number is written in the source.")
    surface: str = Field("", description="The unit as written: 'per cent', 'Cambodian citizens', 'US$'.")
    bound: Literal["=", "~", ">", ">=", "<", "<="] = Field(
        "=", description="'~' about, '>' more than, '>=' at least, '<' fewer than, '<=' up to; '=' as stated."
    )
    change: Literal["up", "down"] | None = Field(None, description="A change: 'rose 19 per cent' -> up.")
    low: float | None = Field(None, description="A range's low end ('10-20 people' -> 10).")
    high: float | None = Field(None, description="A range's high end ('10-20 people' -> 20).")
    concept: str | None = Field(
        None,
        description="What is measured, from the parse ('Profits rose 19 per cent' -> 'Profits'); None for a counted "
        "noun (the unit says it), without a parse (only={'quantities'}), or when the parse gives none.",
    )


class DateMention(_Record):
    """A date or time expression in the source, normalised against the publication date."""

    span: Span
    value: str | None = Field(
        None, description="ISO 8601 value: 2018-01-25, 2017-10, 2017, 197X (a decade), or None if unknown."
    )


class Entity(_Record):
    name: str = Field(description="Canonical name, as written most fully in the article.")
    type: EntityType
    mentions: list[Span] = Field(min_length=1, description="Every place the entity is named in the source.")


class Quote(_Record):
    text: str = Field(description="The quoted words, without the quotation marks.")
    span: Span = Field(description="The quoted words in the source.")
    speaker: str | None = Field(None, description="Who said it, by name when the article names them.")


class Fact(_Record):
    statement: str = Field(description="A self-contained statement, readable without the article.")
    kind: FactKind
    subject: str = Field("", description="Who or what the fact is about.")
    evidence: Evidence
    entities: list[str] = Field(default_factory=list, description="Names of the entities the fact involves.")
    quantity: Quantity | None = Field(None, description="The fact's main number (the first of ``quantities``).")
    quantities: list[Quantity] = Field(default_factory=list, description="Every number the fact states.")
    date: str | None = Field(None, description="ISO 8601 date the fact refers to, resolved against publication.")
    date_span: Span | None = Field(None, description="The date expression in the source.")
    speaker: str | None = Field(None, description="For quotes and attributions, who said it.")
    needs_context: str | None = Field(
        None,
        description="What the statement still leans on in the article (a pronoun or 'that X' whose referent is in an "
        "earlier sentence, a piece of a longer quotation); None when it reads alone.",
    )
    shaped_by: list[str] = Field(
        default_factory=list,
        description="Ids of the rules that made the statement differ from one sentence as written: 'dateline', "
        "'time-stamp', 'list-item', 'pull-quote-credit' (cut off); 'whole-quotation', 'quotation-resumed' (sentences "
        "joined into one quotation with its speaker); 'sentence-before' (the sentence a pronoun leans on, taken in); "
        "'pronoun-named' (a he/she given the name the article leaves no doubt about). Empty for a sentence as written "
        "and for a model's own statement.",
    )


class Rejected(_Record):
    """An item the model returned that failed grounding or checks; never part of the grounded output."""

    kind: str = Field(description="fact, key_point, entity, quote or field.")
    item: dict[str, Any]
    reason: str


class CallUsage(_Record):
    purpose: str = Field(description="What the call was for: extract, summarize, judge...")
    prompt_tokens: int = 0
    completion_tokens: int = 0
    attempts: int = Field(1, description="Model calls made, re-asks and transport retries included.")
    latency_s: float = 0.0
    cached: bool = False
    usage_unknown: bool = Field(
        False, description="The endpoint reported impossible token counts (negative, huge): they are not counted."
    )


class Usage(_Record):
    calls: list[CallUsage] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _drop_totals(cls, data: Any) -> Any:
        # the totals are computed; accept them back from our own JSON so results round-trip
        if isinstance(data, dict):
            data = {k: v for k, v in data.items() if k not in ("prompt_tokens", "completion_tokens", "total_tokens")}
        return data

    @computed_field  # type: ignore[prop-decorator]
    @property
    def prompt_tokens(self) -> int:
        return sum(c.prompt_tokens for c in self.calls)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def completion_tokens(self) -> int:
        return sum(c.completion_tokens for c in self.calls)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add(self, other: Usage) -> Usage:
        return Usage(calls=[*self.calls, *other.calls])


class _Result(_Record):
    model: str = Field(description="The model that produced it.")
    backend: str = Field(description="openai, local, fake...")
    prompt_version: str = Field(description="name@version of the prompt template.")
    rejected: list[Rejected] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)


class Extraction(_Result):
    """Everything factkit extracts from one article."""

    summary: Summary
    facts: list[Fact] = Field(default_factory=list)
    entities: list[Entity] = Field(default_factory=list)
    quotes: list[Quote] = Field(default_factory=list)
    dates: list[DateMention] = Field(default_factory=list)
    quantities: list[Quantity] = Field(
        default_factory=list, description="Every quantity the article states (dates and names excepted), model-free."
    )
    published: str | None = Field(None, description="Publication date the dates were resolved against.")


class CustomExtraction(_Result, Generic[T]):
    """A user schema filled by the model, every ``Evidence`` field grounded."""

    data: T
