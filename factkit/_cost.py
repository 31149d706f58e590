"""Money estimates: a price table (USD per million tokens) applied to :class:`~factkit.Usage` on the fly.

The default table holds a few OpenAI models at their published list prices; the embedded local model and
the fake test model cost nothing. Override or extend it with a JSON file (``--prices FILE`` or
``FACTKIT_PRICES=FILE``)::

    {"gpt-4o-mini": {"input": 0.15, "output": 0.60}, "my-vllm-model": {"input": 0, "output": 0}}

A model matches its exact name, else the longest table name it starts with followed by ``-`` (so a dated
snapshot such as ``gpt-4o-mini-2024-07-18`` is priced as ``gpt-4o-mini``). Calls answered from the cache
cost nothing. A model the table doesn't know has no price: its cost is ``None`` (unknown), never a guess.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ._errors import UsageError
from ._models import CallUsage, Usage

#: USD per million tokens (input, output), OpenAI list prices; check https://openai.com/api/pricing.
DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
    "o3": (2.00, 8.00),
    "o4-mini": (1.10, 4.40),
}
#: Backends that run on the caller's machine: no money per token.
FREE_BACKENDS = frozenset({"local", "fake"})


class Price(BaseModel):
    """What one model costs, in USD per million tokens."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    input: float = Field(ge=0, description="USD per million prompt tokens.")
    output: float = Field(ge=0, description="USD per million completion tokens.")

    def of(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.input + completion_tokens * self.output) / 1_000_000


class PriceTable:
    """Prices by model name; see the module docstring for the matching rule and the file format."""

    def __init__(self, prices: Mapping[str, Price]) -> None:
        self.prices = dict(prices)

    @classmethod
    def default(cls) -> PriceTable:
        return cls({name: Price(input=i, output=o) for name, (i, o) in DEFAULT_PRICES.items()})

    @classmethod
    def load(cls, path: str | Path) -> PriceTable:
        """The default table, overridden and extended by the JSON file at ``path``."""
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise UsageError(f"cannot read the price file {path}: {exc.strerror}") from None
        except ValueError as exc:
            raise UsageError(f"the price file {path} is not JSON ({exc})") from None
        if not isinstance(raw, dict):
            raise UsageError(
                f'the price file {path} must be a JSON object: {{"model": {{"input": 0.15, "output": 0.6}}}}'
            )
        table = cls.default()
        for name, entry in raw.items():
            try:
                table.prices[str(name)] = Price.model_validate(entry)
            except ValidationError as exc:
                raise UsageError(
                    f'the price file {path}: entry {name!r} must be {{"input": USD, "output": USD}} per million '
                    f"tokens ({exc.errors()[0]['msg']})"
                ) from None
        return table

    def price(self, model: str, backend: str = "openai") -> Price | None:
        """The price of ``model`` on ``backend``; ``None`` when unknown."""
        if backend in FREE_BACKENDS:
            return Price(input=0, output=0)
        if model in self.prices:
            return self.prices[model]
        prefixes = [name for name in self.prices if model.startswith(name + "-")]
        return self.prices[max(prefixes, key=len)] if prefixes else None

    def cost(self, usage: Usage | CallUsage | Iterable[CallUsage], model: str, backend: str = "openai") -> float | None:
        """USD spent on ``usage`` (cache hits are free); ``None`` if the model has no price or a call's usage
        is unknown (the endpoint reported impossible token counts)."""
        price = self.price(model, backend)
        if price is None:
            return None
        if isinstance(usage, Usage):
            calls: Iterable[CallUsage] = usage.calls
        elif isinstance(usage, CallUsage):
            calls = [usage]
        else:
            calls = list(usage)
        if any(c.usage_unknown for c in calls):
            return None
        return sum(price.of(c.prompt_tokens, c.completion_tokens) for c in calls if not c.cached)


def resolve_prices(path: str | Path | None = None) -> PriceTable:
    """The price table: ``path`` (``--prices``, else the settings' ``FACTKIT_PRICES``) over the defaults."""
    return PriceTable.load(path) if path else PriceTable.default()


def format_usd(amount: float | None) -> str:
    if amount is None:
        return "unknown (no price for this model; see --prices)"
    if amount == 0:
        return "$0"
    return f"${amount:.4f}" if amount < 1 else f"${amount:,.2f}"
