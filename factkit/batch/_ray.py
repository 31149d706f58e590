"""The Ray side of :mod:`factkit.ray`: what runs inside the actors, the one actor that holds a run's budget and
rate limit, and the JSONL shards a run writes.

Nothing here imports ray at module level: ray is optional (``factkit[ray]``), and this module is only imported by
:mod:`factkit.ray`. Every ray object is typed ``Any``.

* :class:`RunLimits` (made a Ray actor by :func:`start_limits`): the budget of the whole run (reserve / settle, the
  same :class:`Budget` as a local batch) and a semaphore over the model requests in flight across every actor,
  paused for everyone when one request gets a 429 with ``Retry-After``.
* :class:`ActorExtractor`: one per actor; rebuilds the extractor from a :class:`WorkerSpec` (as worker processes
  do) and turns a batch of rows into one :class:`BatchRecord` line per row through :class:`BatchRunner`'s own
  per-article steps, so the lines are those ``extract_many`` writes.
* :class:`ShardWriter` and :func:`done_keys`: the output folder; resume is an anti-join of the inputs against the
  ``(id, sha256)`` of the records already in its shards.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, cast

from .._cost import PriceTable, resolve_prices
from .._errors import UsageError
from ._budget import Budget
from ._inputs import BatchInput
from ._results import BatchRecord, ResultsFile
from ._runner import BatchRunner, _Job
from ._workers import WorkerSpec

log = logging.getLogger("factkit")

#: Columns of the rows :class:`ActorExtractor` returns.
OUTPUT_COLUMNS = ("id", "sha256", "ok", "status", "record")


class RunLimits:
    """One per run, as an async Ray actor: the budget and the requests in flight of every actor together."""

    def __init__(self, max_cost: float | None, max_in_flight: int | None) -> None:
        self.budget = Budget(max_cost) if max_cost is not None else None
        self.slots = asyncio.Semaphore(max_in_flight) if max_in_flight else None
        self.paused_until = 0.0
        self.in_flight = 0
        self.peak = 0
        self.requests = 0
        self.pauses = 0

    async def reserve(self, estimate: float) -> bool:
        return True if self.budget is None else self.budget.reserve(estimate)

    async def settle(self, estimate: float, actual: float) -> None:
        if self.budget is not None:
            self.budget.settle(estimate, actual)

    async def spent(self) -> tuple[float, float]:
        """``(limit, spent)`` of the budget (``inf``, spent when there is none)."""
        return (self.budget.limit, self.budget.spent) if self.budget is not None else (float("inf"), 0.0)

    async def acquire(self) -> None:
        """Wait for a request slot, and for the end of any pause a 429 asked for."""
        while True:
            wait = self.paused_until - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            if self.slots is not None:
                await self.slots.acquire()
                if self.paused_until > time.monotonic():  # a 429 arrived while we queued: give the slot back
                    self.slots.release()
                    continue
            break
        self.in_flight += 1
        self.requests += 1
        self.peak = max(self.peak, self.in_flight)

    async def release(self) -> None:
        self.in_flight -= 1
        if self.slots is not None:
            self.slots.release()

    async def pause(self, seconds: float) -> None:
        """Every actor waits ``seconds`` before its next request (a 429 with Retry-After)."""
        self.pauses += 1
        self.paused_until = max(self.paused_until, time.monotonic() + seconds)

    async def stats(self) -> dict[str, Any]:
        _, spent = await self.spent()
        return {"requests": self.requests, "peak_in_flight": self.peak, "pauses": self.pauses, "spent": spent}


def start_limits(ray: Any, max_cost: float | None, max_in_flight: int | None) -> Any:
    """The :class:`RunLimits` actor of one run (a handle). It needs no CPU, and restarts if its node dies."""
    if max_cost is not None:
        Budget(max_cost)  # refuse a bad budget here, not inside the actor
    if max_in_flight is not None and max_in_flight < 1:
        raise UsageError(f"max_in_flight={max_in_flight}; give at least 1")
    actor = ray.remote(num_cpus=0, max_restarts=-1, max_concurrency=10_000)(RunLimits)
    return actor.remote(max_cost, max_in_flight)


class _SharedBudget:
    """The run's budget seen from one actor (a :class:`Budget` to :class:`BatchRunner`): every reserve and settle
    goes to :class:`RunLimits`."""

    def __init__(self, ray: Any, limits: Any) -> None:
        self._ray, self._limits = ray, limits

    def reserve(self, estimate: float) -> bool:
        return bool(self._ray.get(self._limits.reserve.remote(estimate)))

    def settle(self, estimate: float, actual: float) -> None:
        self._ray.get(self._limits.settle.remote(estimate, actual))

    def add(self, actual: float) -> None:
        self.settle(0.0, actual)

    @property
    def limit(self) -> float:
        return float(self._ray.get(self._limits.spent.remote())[0])

    @property
    def spent(self) -> float:
        return float(self._ray.get(self._limits.spent.remote())[1])


def _limit_requests(ray: Any, backend: Any, limits: Any) -> None:
    """Every model request of ``backend`` takes a slot of the run's limiter first; a 429 with Retry-After pauses
    every actor of the run (the backend's own retry then waits as it always does)."""
    import openai

    from ..backends.base import _retry_after

    create = backend._create

    def limited(*args: Any, **kwargs: Any) -> Any:
        ray.get(limits.acquire.remote())
        try:
            return create(*args, **kwargs)
        except openai.APIStatusError as exc:
            wait = _retry_after(exc) if exc.status_code == 429 else None
            if wait:
                limits.pause.remote(min(wait, 120.0))
            raise
        finally:
            limits.release.remote()

    backend._create = limited


def published_value(value: Any) -> Any:
    """A ``published`` cell as factkit takes it: Arrow/pandas/numpy dates (``read_json`` turns "2018-01-26" into
    a timestamp) back to ISO text, a date at midnight to its day; missing values (None, NaN, NaT) to ``None``."""
    if value is None:
        return None
    if type(value).__module__ == "numpy":
        import numpy as np

        if isinstance(value, np.datetime64):
            if np.isnat(value):
                return None
            value = value.astype("datetime64[us]").item()  # a datetime (or a date for a day unit)
        elif isinstance(value, np.floating) and np.isnan(value):
            return None
        elif isinstance(value, np.generic):
            value = value.item()
    if isinstance(value, float) and value != value:
        return None
    to_py = getattr(value, "to_pydatetime", None)  # pandas.Timestamp
    if callable(to_py):
        value = to_py()
    if isinstance(value, dt.datetime):
        if value.tzinfo is None and value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _cell(value: Any) -> Any:
    value = value.item() if type(value).__module__ == "numpy" and hasattr(value, "item") else value
    return None if isinstance(value, float) and value != value else value


class ActorExtractor:
    """What one actor holds: the extractor (rebuilt from ``spec``), a :class:`BatchRunner` for its per-article
    steps, the run's shared budget and limiter, and the ``(id, sha256)`` keys to skip (resume)."""

    def __init__(
        self,
        spec: WorkerSpec,
        *,
        limits: Any = None,
        threads: int = 8,
        prices: str | Path | None = None,
        max_input_chars: int | None = None,
        published: Any = None,
        budgeted: bool = False,
        skip: Iterable[tuple[str, str]] = (),
    ) -> None:
        import ray

        from .._extract import Pipeline

        logging.getLogger("factkit").setLevel(spec.log_level)
        extractor = Pipeline(settings=spec.settings)
        extractor.prompt, extractor.custom_prompt = spec.prompt, spec.custom_prompt
        extractor.max_chars = spec.max_chars
        backend = extractor.backend  # built now: a bad setting fails the actor's start, not every article
        if limits is not None:
            _limit_requests(ray, backend, limits)
        table: PriceTable = resolve_prices(prices or spec.settings.prices_path)
        self.runner = BatchRunner(
            extractor, concurrency=threads, prices=table, max_input_chars=max_input_chars, progress=False
        )
        if budgeted and limits is not None:
            self.runner.budget = cast(Budget, _SharedBudget(ray, limits))
        self.skip = frozenset(skip)
        self.published = published_value(published)
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="factkit-ray")

    def rows(self, batch: Mapping[str, Any]) -> dict[str, list[Any]]:
        """One output row per input row (the records in input order), less the rows ``skip`` holds."""
        texts = list(batch["text"])
        n = len(texts)
        ids = list(batch["id"]) if "id" in batch else [None] * n
        sources = list(batch["source"]) if "source" in batch else [None] * n
        dates = list(batch["published"]) if "published" in batch else [None] * n
        items: list[BatchInput] = []
        for text, rid, source, published in zip(texts, ids, sources, dates, strict=True):
            text, rid, source = _cell(text), _cell(rid), _cell(source)
            if isinstance(text, bytearray | memoryview):
                text = bytes(text)
            item_id = "" if rid is None else str(rid)
            pub = published_value(published)
            pub = self.published if pub is None else pub
            if not isinstance(text, str | bytes):
                items.append(BatchInput(id=item_id, source=str(source or ""), problem="the row has no 'text' string"))
            else:
                items.append(BatchInput(text=text, id=item_id, source=str(source or ""), published=pub))
        results: list[tuple[BatchRecord, str] | None] = [None] * n
        jobs: dict[int, Any] = {}
        for i, item in enumerate(items):
            if not item.id:  # no id column: the text's sha256 names it (stable across runs, so resumable)
                from ._inputs import sha256_of

                try:
                    data = item.load()
                except Exception:
                    data = b""
                item = BatchInput(**{**item.__dict__, "id": "sha256:" + sha256_of(data)})
                items[i] = item
            prepared = self.runner._prepare(item)
            if isinstance(prepared, _Job):
                if (prepared.id, prepared.sha) in self.skip:
                    continue
                jobs[i] = self.pool.submit(self.runner._run, prepared)
            else:
                record = prepared[0]
                if (record.id, record.sha256) in self.skip:
                    continue
                results[i] = prepared
        for i, future in jobs.items():
            results[i] = future.result()
        out: dict[str, list[Any]] = {name: [] for name in OUTPUT_COLUMNS}
        for done in results:
            if done is None:
                continue
            record, status = done
            out["id"].append(record.id)
            out["sha256"].append(record.sha256)
            out["ok"].append(record.ok)
            out["status"].append(status)
            out["record"].append(record.to_line())
        return out


# ---- the output folder ------------------------------------------------------------------------------------


def shard_paths(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.jsonl") if p.is_file() and not p.name.startswith("."))


def done_keys(folder: Path, *, retry_errors: bool = False) -> set[tuple[str, str]]:
    """The ``(id, sha256)`` of every record already in ``folder``'s shards that a resume keeps. Opening each shard
    as a :class:`ResultsFile` drops (rewrites away) the error records to retry and any line cut by a kill, so a
    rerun writes those inputs once more and every input still has exactly one record in the folder."""
    keys: set[tuple[str, str]] = set()
    for path in shard_paths(folder):
        results = ResultsFile(path, retry_errors=retry_errors).open()
        try:
            keys.update(results.done)
        finally:
            results.close()
    return keys


class ShardWriter:
    """Writes one run's records into new shards of ``folder`` (``part-<time>-<pid>-<n>.jsonl``), each a locked,
    fsynced :class:`ResultsFile`, a new shard every ``per_shard`` records; an input is written at most once."""

    def __init__(self, folder: str | Path, *, per_shard: int = 100_000) -> None:
        self.folder = Path(folder)
        if self.folder.exists() and not self.folder.is_dir():
            raise UsageError(f"--out {self.folder} is a file; the ray engine writes shards into a folder")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.per_shard = per_shard
        self.stamp = time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}"
        self.shards = 0
        self.count = 0
        self.written: set[tuple[str, str]] = set()
        self._file: ResultsFile | None = None

    def write(self, line: str) -> bool:
        record = BatchRecord.from_line(line)
        key = (record.id, record.sha256)
        if key in self.written:
            return False
        if self._file is None or self.count >= self.per_shard:
            self.close()
            self.shards += 1
            self.count = 0
            self._file = ResultsFile(self.folder / f"part-{self.stamp}-{self.shards:05d}.jsonl").open()
        self._file.write(record)
        self.written.add(key)
        self.count += 1
        return True

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
