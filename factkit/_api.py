"""The public :class:`Extractor`: the one-article pipeline, and many articles at once through :mod:`factkit.batch`
(the one path the CLI takes too). Module-level ``extract`` and ``summarize`` reuse one Extractor per settings."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar, Unpack, overload

from pydantic import BaseModel

from ._extract import Pipeline
from ._models import CustomExtraction, Extraction, Summary
from .batch import BatchOptions, BatchRecord, aextract_many, run_sync

M = TypeVar("M", bound=BaseModel)


class Extractor(Pipeline):
    """Extracts grounded summaries and facts with one configured model. Reuse it: it holds the client.

    >>> ex = Extractor(base_url="http://localhost:11434/v1", model="qwen2.5:7b")  # doctest: +SKIP
    >>> result = ex.extract(text, published="2018-01-26")  # doctest: +SKIP
    """

    def extract_many(self, inputs: Iterable[Any], **options: Unpack[BatchOptions]) -> list[BatchRecord]:
        """Extract many articles concurrently; one :class:`BatchRecord` per input, in input order.

        ``inputs``: texts, bytes, paths (``pathlib.Path``), mappings ``{"text", "id"?, "published"?}`` or
        :class:`BatchInput`. A failing article gets an error record and the batch goes on. Options
        (:class:`factkit.batch.BatchOptions`): ``published``, ``concurrency``, ``out`` (a JSONL results file,
        appended to and resumed: inputs it already holds are skipped), ``on_result`` (called with each record as
        it completes), ``progress``, ``max_cost`` (a budget in USD: inputs that would exceed it get a
        ``BudgetError`` record), ``prices``, ``max_input_chars``, ``retry_errors``. See :mod:`factkit.batch`.
        """
        return run_sync(lambda: aextract_many(self, inputs, **options))

    async def aextract_many(self, inputs: Iterable[Any], **options: Unpack[BatchOptions]) -> list[BatchRecord]:
        """:meth:`extract_many` for asyncio code (the model calls run on a thread pool)."""
        return await aextract_many(self, inputs, **options)


# Module-level conveniences use one Extractor per settings, so the client (and a local model) is reused.
_default: dict[tuple[Any, ...], Extractor] = {}


def _extractor(**kwargs: Any) -> Extractor:
    key = tuple(sorted((k, str(v)) for k, v in kwargs.items()))
    if key not in _default:
        _default[key] = Extractor(**kwargs)
    return _default[key]


@overload
def extract(text: str | bytes, *, published: Any = None, schema: None = None, **kwargs: Any) -> Extraction: ...
@overload
def extract(text: str | bytes, *, published: Any = None, schema: type[M], **kwargs: Any) -> CustomExtraction[M]: ...


def extract(
    text: str | bytes, *, published: Any = None, schema: type[M] | None = None, **kwargs: Any
) -> Extraction | CustomExtraction[M]:
    """Extract a grounded summary and facts from one article (see :class:`Extractor` for the options)."""
    return _extractor(**kwargs).extract(text, published=published, schema=schema)


def summarize(text: str | bytes, *, published: Any = None, **kwargs: Any) -> Summary:
    """A grounded summary of one article (see :class:`Extractor` for the options)."""
    return _extractor(**kwargs).summarize(text, published=published)
