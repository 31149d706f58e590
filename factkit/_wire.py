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


class WireFact(BaseModel):
    s: list[int] = Field(min_length=1, max_length=3, description="Numbers of the sentences that state it.")
    kind: FactKind
    # A cap in the schema is a cap in the grammar: a model that starts copying a long sentence is cut off
    # (and the library snaps a cut copy back to the exact source sentence), which bounds output tokens.
    statement: str = Field(max_length=STATEMENT_CHARS, description="One short self-contained sentence.")
    value: float | None = Field(None, description="For kind quantity: the number.")
    unit: str | None = Field(None, max_length=60, description="For kind quantity: what is counted.")


class WireFacts(_Grounded):
    headline: str = Field(max_length=100)
    tldr: str = Field(max_length=220)
    # The schema asks for at least 3 (a grammar-constrained model then can't stop after one); validation
    # accepts 1, so a short article is not an error.
    facts: list[WireFact] = Field(min_length=1, max_length=6, json_schema_extra={"minItems": 4})


_Name = Annotated[str, Field(max_length=70)]


class WireEntities(_Grounded):
    people: list[_Name] = Field(max_length=12)
    organizations: list[_Name] = Field(max_length=12)
    places: list[_Name] = Field(max_length=12)
    other: list[_Name] = Field(max_length=4)


class WirePoint(BaseModel):
    text: str = Field(max_length=240)
    s: list[int] = Field(min_length=1, max_length=4)


class WireSummary(_Grounded):
    headline: str = Field(max_length=120)
    tldr: str = Field(max_length=300)
    points: list[WirePoint] = Field(min_length=1, max_length=7, json_schema_extra={"minItems": 3})
