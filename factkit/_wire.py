"""Wire records: the compact JSON the model fills. The library builds the rich public records from them.

The model cites evidence by sentence number instead of re-typing it, which keeps output short (output
tokens dominate the cost on a CPU) and makes an invented location impossible: a number either names a
sentence of the article or is rejected.

Each wire root grounds itself in a validator, through ``context["ground"]``: problems raise a validation
error (instructor re-asks with the list of problems) until the last attempt, where ungrounded items are
rejected instead and the grounded result is left in ``context["result"]``.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from ._context import current_context
from ._models import FactKind

MAX_PROBLEMS_SHOWN = 8


class _Grounded(BaseModel):
    model_config = ConfigDict(extra="ignore")

    @model_validator(mode="after")
    def _ground(self, info: ValidationInfo) -> Any:
        ctx = current_context(info)
        if not isinstance(ctx, dict) or "ground" not in ctx:
            return self
        result, problems = ctx["ground"](self)
        if problems and not ctx.get("final_attempt", True):
            shown = "; ".join(problems[:MAX_PROBLEMS_SHOWN])
            more = f" (and {len(problems) - MAX_PROBLEMS_SHOWN} more)" if len(problems) > MAX_PROBLEMS_SHOWN else ""
            hint = ctx.get("reask_hint", "Cite the right sentence numbers, fix the items, or leave them out.")
            raise ValueError(f"these items are not supported by the article: {shown}{more}. {hint}")
        ctx["result"] = result
        return self


STATEMENT_CHARS = 100
HEADLINE_CHARS = 100
TLDR_CHARS = 220


def _chars(n: int) -> dict[str, Any]:
    """A length cap for the schema, so for a grammar, but not for validation: a server that can't enforce it
    (JSON mode without a grammar) must not fail the call; grounding snaps, trims or rejects what is too long."""
    return {"maxLength": n}


def _items(n: int, at_least: int | None = None) -> dict[str, Any]:
    """A count cap for the schema only (see :func:`_chars`); ``at_least`` asks for more than validation needs."""
    return {"maxItems": n} if at_least is None else {"maxItems": n, "minItems": at_least}


class WireFact(BaseModel):
    s: list[int] = Field(
        min_length=1, json_schema_extra=_items(3), description="Numbers of the sentences that state it."
    )
    kind: FactKind
    # A cap in the schema is a cap in the grammar: a model that starts copying a long sentence is cut off
    # (and the library snaps a cut copy back to the exact source sentence), which bounds output tokens.
    statement: str = Field(json_schema_extra=_chars(STATEMENT_CHARS), description="One short self-contained sentence.")
    value: float | None = Field(None, description="For kind quantity: the number.")
    unit: Annotated[str, Field(json_schema_extra=_chars(60))] | None = Field(
        None, description="For kind quantity: what is counted."
    )


class WireFacts(_Grounded):
    """Headline, tldr and the facts, each a statement the model writes (remote models). No cap on the number of
    facts: every distinct fact of the article (the schema asks for at least 4, so a grammar-constrained model
    can't stop after one; validation accepts 1, so a short article is not an error)."""

    headline: str = Field(json_schema_extra=_chars(HEADLINE_CHARS))
    tldr: str = Field(json_schema_extra=_chars(TLDR_CHARS))
    facts: list[WireFact] = Field(min_length=1, json_schema_extra={"minItems": 4})


class WireHeadline(_Grounded):
    """The headline alone: the embedded model's facts are the article's own sentences and its tldr is the lead
    fact (measured on the 13 fixtures: the small model's own tldrs misstated 3 of 13 articles, and 2 more were
    cut by the length cap)."""

    headline: str = Field(json_schema_extra=_chars(HEADLINE_CHARS))


_Name = Annotated[str, Field(json_schema_extra=_chars(70))]


class WireEntities(_Grounded):
    people: list[_Name] = Field(json_schema_extra=_items(12))
    organizations: list[_Name] = Field(json_schema_extra=_items(12))
    places: list[_Name] = Field(json_schema_extra=_items(12))
    other: list[_Name] = Field(json_schema_extra=_items(4))
