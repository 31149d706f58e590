"""The batch runner: bounded concurrency, one record per input, the results file, resume, the whole-article
cache (see :mod:`factkit.batch`)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import json
import logging
import math
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import CancelledError, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import TypeAdapter

from .._cost import PriceTable, format_usd, resolve_prices
from .._document import decode_bytes
from .._errors import (
    BudgetError,
    ConfigError,
    FactkitError,
    InputError,
    ModelInterrupted,
    UsageError,
    describe,
    redact,
)
from .._models import CallUsage, Extraction, Usage
from ._results import BatchFailure, BatchRecord, ResultsFile
from ._workers import WorkerPool, WorkersGone, WorkerSpec

if TYPE_CHECKING:
    from .._extract import Pipeline as Extractor

from ._budget import Budget
from ._inputs import BatchInput, sha256_of
from ._progress import _Display

log = logging.getLogger("factkit")
R = TypeVar("R")


#: Articles in flight against a remote endpoint when neither the caller nor the backend says otherwise.
DEFAULT_CONCURRENCY = 16
#: Completion tokens per model call assumed by the budget until the batch has seen real ones.
DEFAULT_COMPLETION_TOKENS = 250


@dataclass
class BatchOutcome:
    """What a batch did; ``records`` (input order) only when the caller keeps them."""

    records: list[BatchRecord] = field(default_factory=list)
    total: int = 0
    extracted: int = 0
    failed: int = 0
    skipped: int = 0
    #: Of the skipped inputs, those whose earlier record is a (permanent) error.
    failed_before: int = 0
    not_started: int = 0
    usage: Usage = field(default_factory=Usage)
    #: USD of the inputs whose cost is known (``None``: no price for the model).
    cost_usd: float | None = 0.0
    #: Inputs whose cost is unknown although the model has a price (the server reported impossible token counts).
    cost_unknown: int = 0
    budget: Budget | None = None
    elapsed_s: float = 0.0

    def summary(self, out: Path | None = None) -> str:
        where = f" (see {out})" if out is not None and self.failed else ""
        parts = [f"{self.extracted} extracted", f"{self.failed} failed{where}"]
        if self.skipped:
            before = f", {self.failed_before} of them failed" if self.failed_before else ""
            parts.append(f"{self.skipped} already done{before}")
        if self.not_started:
            parts.append(f"{self.not_started} not started")
        u = self.usage
        cached = sum(1 for c in u.calls if c.cached)
        return (
            f"{self.total} input(s): {', '.join(parts)} in {self.elapsed_s:.1f} s; "
            f"{u.prompt_tokens:,} prompt + {u.completion_tokens:,} completion tokens in {len(u.calls)} call(s)"
            f" ({cached} from the cache); cost {format_usd(self.cost_usd)}{self._unknown()}"
        )

    def _unknown(self) -> str:
        if not self.cost_unknown or self.cost_usd is None:
            return ""
        return f" + {self.cost_unknown} input(s) of unknown cost (the server reported impossible token counts)"


@functools.lru_cache(maxsize=1)
def code_identity() -> str:
    """A hash of factkit's own source: a whole-article cache entry is only reused by the same code."""
    digest = hashlib.sha256()
    root = Path(__file__).resolve().parent
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        with contextlib.suppress(OSError):
            digest.update(path.read_bytes())
    return digest.hexdigest()


@dataclass
class _Job:
    """An input read and hashed, waiting for the model."""

    id: str
    source: str
    sha: str
    data: str | bytes
    published: Any
    key: str | None = None


_CALLS = TypeAdapter(list[CallUsage])


def _dump_cached(result: Extraction) -> str:
    """Two lines of JSON: the calls, then the result without its usage (whose totals don't parse back)."""
    calls = _CALLS.dump_json(result.usage.calls).decode()
    return calls + "\n" + result.model_dump_json(exclude={"usage"})


def _load_cached(text: str) -> Extraction | None:
    """An entry of :func:`_dump_cached`, its calls marked as cache hits; ``None`` if it doesn't parse."""
    calls_json, _, result_json = text.partition("\n")
    try:
        calls = [c.model_copy(update={"cached": True, "latency_s": 0.0}) for c in _CALLS.validate_json(calls_json)]
        result = Extraction.model_validate_json(result_json)
    except ValueError:
        return None
    result.usage = Usage(calls=calls)
    return result


class BatchRunner:
    """Runs one batch for one :class:`~factkit.Extractor`; see the module docstring."""

    def __init__(
        self,
        extractor: Extractor,
        *,
        concurrency: int | None = None,
        out: str | Path | None = None,
        on_result: Callable[[BatchRecord], Any] | None = None,
        progress: bool | None = None,
        max_cost: float | None = None,
        prices: PriceTable | str | Path | None = None,
        max_input_chars: int | None = None,
        retry_errors: bool = False,
        workers: int | None = None,
        keep: bool = True,
    ) -> None:
        self.extractor = extractor
        backend = extractor.backend
        self.model, self.backend_name = backend.model, backend.name
        limit = getattr(backend, "max_concurrency", None)
        if concurrency is not None and concurrency < 1:
            raise UsageError(f"concurrency={concurrency}; give at least 1")
        chosen = concurrency or (limit if isinstance(limit, int) and limit > 0 else DEFAULT_CONCURRENCY)
        if isinstance(limit, int) and limit > 0 and chosen > limit:
            log.info("%s runs %d extraction(s) at a time; concurrency %d lowered to it", backend.name, limit, chosen)
            chosen = limit
        self.concurrency = chosen
        self.out = Path(out) if out is not None else None
        self.on_result = on_result
        self.progress = progress
        self.prices = (
            prices if isinstance(prices, PriceTable) else resolve_prices(prices or extractor.settings.prices_path)
        )
        self.price = self.prices.price(self.model, self.backend_name)
        self.budget: Budget | None = None
        if max_cost is not None:
            if self.price is None:
                raise UsageError(
                    f"max_cost needs the price of model {self.model!r}, which factkit doesn't know; give it in a "
                    f'JSON price file (--prices FILE or FACTKIT_PRICES): {{"{self.model}": {{"input": 0.15, '
                    '"output": 0.6}} (USD per million tokens)'
                )
            self.budget = Budget(max_cost)
        if max_input_chars is not None and max_input_chars <= 0:
            raise UsageError(f"max_input_chars={max_input_chars} must be a positive number of characters")
        self.max_input_chars = extractor.settings.max_input_chars if max_input_chars is None else max_input_chars
        self.retry_errors = retry_errors
        if workers is not None and workers < 0:
            raise UsageError(f"workers={workers}; give 0 (extract in this process) or more")
        self.workers = workers or 0
        if self.workers:
            WorkerSpec.of(extractor)  # refuse a backend workers can't rebuild before any input is read
        self.keep = keep
        self._extract: Callable[..., Extraction] = extractor.extract
        self._results: ResultsFile | None = None
        self._stats_lock = threading.Lock()
        self._completion_tokens = 0
        self._completion_calls = 0
        self._overhead: dict[str, int] | None = None
        #: The configuration error (a rejected key, an unknown model) that stopped the batch.
        self._stop: ConfigError | None = None

    # -- per article -----------------------------------------------------------------------------------------
    def _prepare(self, item: BatchInput) -> tuple[BatchRecord, str] | _Job:
        """The quick part, on the loop thread: read, hash, and answer from the results file or the cache.

        Returns the final record and its status (failed, skipped, extracted), or the job still to run.
        """
        rid, source = item.id, item.source or item.id
        try:
            data = item.load()
        except FactkitError as exc:
            return self._failure(rid, source, "", exc), "failed"
        sha = sha256_of(data)
        done = self._results.done.get((rid, sha)) if self._results is not None else None
        if done is not None:
            return BatchRecord.from_line(done), "skipped"
        job = _Job(rid, source, sha, data, item.published)
        if len(data) > (self.max_input_chars if isinstance(data, str) else 4 * self.max_input_chars):
            return self._run(job)  # too long: its error, never a cached result that predates the limit
        cache = self.extractor.cache
        if cache is not None:
            job.key = self._result_key(sha, item.published)
            hit = cache.get_result(job.key)
            if hit is not None:
                result = _load_cached(hit)
                if result is not None:
                    return BatchRecord(
                        id=rid, source=source, sha256=sha, ok=True, result=result, cost_usd=0.0
                    ), "extracted"
        return job

    def _run(self, job: _Job) -> tuple[BatchRecord, str]:
        """The model work, on a worker thread: the record and its status (extracted, failed, not_started)."""
        rid, source, sha = job.id, job.source, job.sha
        estimate = 0.0
        reserved = False
        if self._stop is not None:  # a configuration error stopped the batch: not tried, no record
            return self._failure(rid, source, sha, self._stop), "not_started"
        try:
            text = decode_bytes(job.data, source=source) if isinstance(job.data, bytes) else job.data
            if len(text) > self.max_input_chars:
                raise InputError(
                    f"the article has {len(text):,} characters, more than the limit of {self.max_input_chars:,}; "
                    "split it, or raise the limit (max_input_chars= / --max-input-chars)",
                    source=source,
                )
            if self.budget is not None:
                estimate = self.estimate(len(text))
                if not self.budget.reserve(estimate):
                    return self._not_started(rid, source, sha, estimate), "not_started"
                reserved = True
            result = self._extract(text, published=job.published)
        except (WorkersGone, CancelledError, ModelInterrupted):
            raise  # not this article's failure: the batch stops (or was stopped), a re-run picks up the rest
        except ConfigError as exc:  # a rejected key or unknown model fails every article the same way: stop
            self._stop = self._stop or exc
            record = self._failure(rid, source, sha, exc)
            if reserved and self.budget is not None:
                self.budget.settle(estimate, record.cost_usd or 0.0)
            return record, "failed"
        except Exception as exc:  # one article's failure, whatever it is, is its record
            record = self._failure(rid, source, sha, exc)
            if reserved and self.budget is not None:
                self.budget.settle(estimate, record.cost_usd or 0.0)
            return record, "failed"
        cost = self.prices.cost(result.usage, self.model, self.backend_name)
        if reserved and self.budget is not None:
            # an unknown cost (impossible usage from the server) counts as the estimate: the budget stays a bound
            self.budget.settle(
                estimate, estimate if cost is None and self.prices.price(self.model, self.backend_name) else cost or 0.0
            )
        self._observe(result.usage)
        cache = self.extractor.cache
        if cache is not None and job.key is not None:
            cache.put_result(job.key, _dump_cached(result))
        return BatchRecord(id=rid, source=source, sha256=sha, ok=True, result=result, cost_usd=cost), "extracted"

    def _result_key(self, sha: str, published: Any) -> str:
        ex = self.extractor
        prompt = ex.prompt
        payload = {
            "code": code_identity(),
            "text": sha,
            "published": None if published is None else str(published),
            "prompt": [prompt.id, prompt.system, prompt.user, sorted(prompt.tasks.items())],
            "backend": ex.backend.cache_identity(),
            "chunk": ex._chunk_chars(),
            "reasks": ex.settings.max_reasks,
            "entities": [ex.settings.ner, ex.settings.entities, sorted(ex.only or ())],
        }
        return "article:" + hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()

    def _failure(self, rid: str, source: str, sha: str, exc: BaseException) -> BatchRecord:
        usage = exc.usage if isinstance(exc, FactkitError) else None
        message = str(exc) if isinstance(exc, FactkitError) else describe(exc)
        if isinstance(exc, InputError) and exc.source and message.startswith(f"{exc.source}: "):
            message = message[len(exc.source) + 2 :]  # the record says where already
        cost = self.prices.cost(usage, self.model, self.backend_name) if usage is not None else 0.0
        log.info("%s: %s", source, redact(message))
        error = BatchFailure(type=type(exc).__name__, message=redact(message), usage=usage)
        return BatchRecord(id=rid, source=source, sha256=sha, ok=False, error=error, cost_usd=cost)

    def _not_started(self, rid: str, source: str, sha: str, estimate: float) -> BatchRecord:
        budget = self.budget
        assert budget is not None
        message = (
            f"not started: the budget of {format_usd(budget.limit)} would be exceeded ({format_usd(budget.spent)} "
            f"spent, this article ≈ {format_usd(estimate)}); re-run with a higher max_cost to continue"
        )
        error = BatchFailure(type=BudgetError.__name__, message=message)
        return BatchRecord(id=rid, source=source, sha256=sha, ok=False, error=error, cost_usd=0.0)

    def _observe(self, usage: Usage) -> None:
        fresh = [c for c in usage.calls if not c.cached]
        if fresh:
            with self._stats_lock:
                self._completion_tokens += sum(c.completion_tokens for c in fresh)
                self._completion_calls += len(fresh)

    def estimate(self, chars: int) -> float:
        """USD an article of ``chars`` characters may cost (no cache hit assumed)."""
        price = self.price
        if price is None:
            return 0.0
        overhead = self._prompt_overhead()
        chunk = max(1, self.extractor._chunk_chars())
        chunks = max(1, math.ceil(chars / max(1, int(chunk * 0.9))))
        per_chunk = min(chars, chunk) * 1.1  # sentence numbers add a little
        prompt_tokens = sum(chunks * (per_chunk + extra) / 4 for extra in overhead.values())
        with self._stats_lock:
            per_call = (
                self._completion_tokens / self._completion_calls
                if self._completion_calls
                else DEFAULT_COMPLETION_TOKENS
            )
        completion_tokens = chunks * len(overhead) * per_call
        return price.of(int(prompt_tokens), int(completion_tokens))

    def _prompt_overhead(self) -> dict[str, int]:
        if self._overhead is None:
            prompt = self.extractor.prompt
            tasks: list[str | None] = [t for t in ("entities", "facts") if t in prompt.tasks] or [None]
            self._overhead = {
                str(t): sum(len(m["content"]) for m in prompt.render(t, article="", published=None)) for t in tasks
            }
        return self._overhead

    def _interrupt(self) -> None:
        """Stop the model calls in flight (the pipeline's backend is its judge too); never builds a backend."""
        backend = getattr(self.extractor, "_backend", None)
        if backend is not None:
            backend.interrupt()

    # -- the loop ---------------------------------------------------------------------------------------------
    async def run(self, inputs: Iterable[BatchInput], total: int | None = None) -> BatchOutcome:
        outcome = BatchOutcome(cost_usd=0.0 if self.price is not None else None, budget=self.budget)
        started = time.perf_counter()
        if self.out is not None:
            self._results = ResultsFile(self.out, retry_errors=self.retry_errors).open()
        records: dict[int, BatchRecord] = {}
        calls: list[Any] = []
        loop = asyncio.get_running_loop()
        executor = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="factkit-batch")
        pool: WorkerPool | None = None
        slots = asyncio.Semaphore(self.concurrency)
        display = _Display(total, enabled=self.progress)

        def finish(index: int, record: BatchRecord, status: str) -> None:
            outcome.total += 1
            if status == "extracted":
                outcome.extracted += 1
            elif status == "failed":
                outcome.failed += 1
            elif status == "skipped":
                outcome.skipped += 1
                outcome.failed_before += 0 if record.ok else 1
            else:
                outcome.not_started += 1
            if status in ("extracted", "failed"):
                calls.extend(record.usage.calls)
                if outcome.cost_usd is not None:
                    if record.cost_usd is None:
                        outcome.cost_unknown += 1  # known costs keep adding up: the budget line says the same sum
                    else:
                        outcome.cost_usd += record.cost_usd
            if self._results is not None and status != "not_started":
                self._results.write(record)
            if self.keep:
                records[index] = record
            if self.on_result is not None:
                self.on_result(record)
            display.advance(outcome)

        async def one(index: int, job: _Job) -> None:
            try:
                record, status = await loop.run_in_executor(executor, self._run, job)
                finish(index, record, status)
            finally:
                slots.release()

        tasks: set[asyncio.Task[None]] = set()
        failure: list[BaseException] = []

        def done(task: asyncio.Task[None]) -> None:
            tasks.discard(task)
            if not task.cancelled() and task.exception() is not None:
                failure.append(task.exception())  # type: ignore[arg-type]

        try:
            if self.workers:
                pool = WorkerPool(self.extractor, self.workers, self.concurrency)
            self._extract = pool.extract if pool is not None else self.extractor.extract
            with display:
                for index, item in enumerate(inputs):
                    # Reading, hashing and cache hits are quick: done here, in input order, without a thread.
                    prepared = self._prepare(item)
                    if isinstance(prepared, tuple):
                        finish(index, *prepared)
                        await asyncio.sleep(0)  # let finished extractions report
                        continue
                    await slots.acquire()
                    if failure or self._stop is not None:
                        slots.release()
                        break
                    task = asyncio.ensure_future(one(index, prepared))
                    tasks.add(task)
                    task.add_done_callback(done)
                if tasks:
                    await asyncio.wait(set(tasks))
            if failure:
                raise failure[0]
            if self._stop is not None:
                raise ConfigError(
                    f"{self._stop}; the batch stopped there ({outcome.extracted} extracted, {outcome.failed} failed); "
                    "fix the setting and re-run the same command: the inputs not done are picked up"
                )
        except (asyncio.CancelledError, KeyboardInterrupt):
            # Ctrl-C: the model calls in flight stop now rather than each finishing its article; nothing more is
            # written, so the results file holds whole records only and a re-run goes on from there.
            self._interrupt()
            raise
        finally:
            for task in tasks:
                task.cancel()
            executor.shutdown(wait=False, cancel_futures=True)
            if pool is not None:
                pool.close()
            if self._results is not None:
                self._results.close()
        outcome.records = [records[i] for i in sorted(records)]
        outcome.usage = Usage(calls=calls)
        outcome.elapsed_s = time.perf_counter() - started
        if outcome.not_started:
            log.warning(
                "factkit: budget of %s reached: %s spent; %d input(s) not started",
                format_usd(self.budget.limit if self.budget else None),
                format_usd(self.budget.spent if self.budget else None),
                outcome.not_started,
            )
        return outcome


def run_sync(make: Callable[[], Awaitable[R]]) -> R:
    """Run a coroutine to the end from synchronous code, even when this thread already runs a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())  # type: ignore[arg-type]
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="factkit-batch-loop") as pool:
        return pool.submit(lambda: asyncio.run(make())).result()  # type: ignore[arg-type]
