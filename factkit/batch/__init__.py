"""Many articles at once: bounded concurrency, one record per input, a resumable JSONL file, a cost budget.

Used by :meth:`Extractor.extract_many` / :meth:`Extractor.aextract_many` and ``factkit extract --out``.

* **One record per input.** Every input ends as a :class:`BatchRecord`: ``ok`` with the
  :class:`~factkit.Extraction`, or an error that says why (its type and a secret-free message). An exception
  while extracting one article becomes that article's error record; it never stops the batch.
* **Concurrency.** Extractions run on a thread pool (the ``openai`` client is thread-safe) driven by one
  ``asyncio`` loop with a bound of ``concurrency`` articles in flight: by default 16 for a remote endpoint,
  and the backend's ``max_concurrency`` where it has one (the in-process local model: 1).
* **The results file** (:mod:`factkit.batch._results`): one complete JSON line per record, fsynced at least once a
  second, locked while in use; a ``kill -9`` loses at most the articles in flight.
* **Resume.** Re-running with the same results file skips every input whose ``(id, sha256)`` already has a
  record there (a result, or a permanent error); transient errors are retried (``retry_errors=True`` retries
  every error).
* **Budget.** With ``max_cost``, each article's cost is estimated before it starts (characters / 4 tokens
  for every call it needs, plus the completion tokens seen so far) and the batch stops when the money spent,
  plus what the articles in flight may cost, plus this estimate would exceed the budget. The inputs not
  started get a ``BudgetError`` record in Python and no line in the results file, so a resume picks them up.
* **Whole-article cache.** With the call cache on, a finished :class:`~factkit.Extraction` is also stored
  by a key over the text, the publication date, the prompt, the backend's identity, the chunk size and
  factkit's own source code, so re-extracting a cached article skips the grounding work too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, Unpack, cast

from ._budget import Budget
from ._inputs import (
    DEFAULT_MAX_INPUT_CHARS,
    TEXT_SUFFIXES,
    BatchInput,
    _collect,
    as_input,
    jsonl_count,
    read_inputs,
    sha256_of,
)
from ._results import PERMANENT_ERRORS, BatchFailure, BatchRecord, ResultsFile
from ._runner import DEFAULT_COMPLETION_TOKENS, DEFAULT_CONCURRENCY, BatchOutcome, BatchRunner, code_identity, run_sync

if TYPE_CHECKING:
    from .._extract import Pipeline as Extractor

__all__ = [
    "DEFAULT_COMPLETION_TOKENS",
    "DEFAULT_CONCURRENCY",
    "DEFAULT_MAX_INPUT_CHARS",
    "PERMANENT_ERRORS",
    "TEXT_SUFFIXES",
    "BatchFailure",
    "BatchInput",
    "BatchOptions",
    "BatchOutcome",
    "BatchRecord",
    "BatchRunner",
    "Budget",
    "ResultsFile",
    "RunnerOptions",
    "aextract_many",
    "arun",
    "as_input",
    "code_identity",
    "jsonl_count",
    "read_inputs",
    "run",
    "run_sync",
    "sha256_of",
]


class RunnerOptions(TypedDict, total=False):
    concurrency: int | None  # articles in flight (default: 16 for a remote endpoint, the backend's own bound)
    out: str | Path | None  # a JSONL results file, appended to and resumed
    on_result: Callable[[BatchRecord], Any] | None  # called with each record as it completes
    progress: bool | None  # a progress bar (default: on a terminal)
    max_cost: float | None  # a budget in USD
    prices: str | Path | None  # a price table file (default: built in, or FACTKIT_PRICES)
    max_input_chars: int | None  # longer inputs get an error record
    retry_errors: bool  # on resume, retry every earlier error, not only transient ones
    workers: int | None  # extract in this many child processes (remote endpoints; default 0: in this process)
    keep: bool  # keep every record in the outcome (False: a CLI run writes them out and keeps only counts)


class BatchOptions(RunnerOptions, total=False):
    """The options of :meth:`Extractor.extract_many` and :meth:`Extractor.aextract_many` (all optional)."""

    published: Any  # default publication date for inputs that don't carry their own


def run(
    extractor: Extractor,
    inputs: Iterable[Any],
    *,
    published: Any = None,
    total: int | None = None,
    **options: Unpack[RunnerOptions],
) -> BatchOutcome:
    """The one way into batching, for :meth:`Extractor.extract_many` and ``factkit extract --out`` alike: every
    input ends as one record (see the module docs); returns the outcome with the records and the counts."""
    return run_sync(lambda: arun(extractor, inputs, published=published, total=total, **options))


async def arun(
    extractor: Extractor,
    inputs: Iterable[Any],
    *,
    published: Any = None,
    total: int | None = None,
    **options: Unpack[RunnerOptions],
) -> BatchOutcome:
    """:func:`run` for asyncio code."""
    items, counted = _collect(inputs, published)
    return await BatchRunner(extractor, **options).run(items, counted if total is None else total)


async def aextract_many(
    extractor: Extractor, inputs: Iterable[Any], **options: Unpack[BatchOptions]
) -> list[BatchRecord]:
    """See :meth:`Extractor.aextract_many`."""
    published = options.pop("published", None)
    outcome = await arun(extractor, inputs, published=published, **cast(RunnerOptions, options))
    return outcome.records
