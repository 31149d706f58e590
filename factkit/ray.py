"""factkit on Ray Data: many articles over a Ray cluster, with the records ``extract_many`` writes.

Needs the ``ray`` extra (``pip install 'factkit[ray]'``); ``import factkit`` never imports ray.

>>> import ray, factkit.ray  # doctest: +SKIP
>>> ds = ray.data.read_json("articles.jsonl")  # rows {"id", "text", "published"?}  # doctest: +SKIP
>>> out = factkit.ray.extract_dataset(ds, settings=factkit.resolve_settings(model="gpt-4o-mini"))  # doctest: +SKIP
>>> out.take(1)[0]["record"]  # the JSON line factkit extract --out writes  # doctest: +SKIP

* :class:`Extract` is the callable class for ``Dataset.map_batches`` (an actor pool): each actor rebuilds the
  extractor from its settings once, as worker processes do, and returns one row per input row: ``id``,
  ``sha256``, ``ok``, ``status`` (extracted, failed, not_started) and ``record``, the JSON line of the
  :class:`~factkit.BatchRecord`, byte for byte the line a local batch writes for the same input (latencies aside).
* Input rows: ``text`` (str or bytes), and optionally ``id`` (default: ``sha256:<hash of the text>``),
  ``published`` (dates that ``read_json`` turned into timestamps are turned back) and ``source`` (default: the id).
* One budget and one rate limit per run: :func:`run_limits` starts one small actor that every :class:`Extract`
  actor asks before each article (``max_cost``: reserve / settle, as a local batch's budget) and before each model
  request (``max_in_flight`` requests at once across the run; a 429 with ``Retry-After`` pauses every actor).
* The actors are I/O bound: each takes ``num_cpus=0.25`` by default (a whole CPU per actor starves the read tasks
  on small machines) and runs ``threads`` articles at a time. A dead actor is restarted and its batch retried
  (``max_restarts``, ``max_task_retries``): an article is written once, though its model calls may be paid twice.
* :func:`extract_to_folder` (``factkit extract IN --engine ray --out DIR/``) writes JSONL shards into a folder and
  resumes: inputs whose ``(id, sha256)`` already has a record there are skipped (an anti-join), error records
  that a resume retries are dropped from the old shards first, so every input ends with exactly one record.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._config import Settings
from ._cost import format_usd
from ._errors import ConfigError, UsageError
from ._extract import Pipeline
from .batch import BatchRunner
from .batch._ray import OUTPUT_COLUMNS, ActorExtractor, RunLimits, ShardWriter, done_keys, published_value, start_limits
from .batch._workers import WorkerSpec

__all__ = [
    "OUTPUT_COLUMNS",
    "Extract",
    "RayOutcome",
    "RunLimits",
    "extract_dataset",
    "extract_to_folder",
    "published_value",
    "run_limits",
]

#: CPUs each extraction actor asks for: they wait on the network, and whole CPUs would starve the read tasks.
ACTOR_CPUS = 0.25


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise UsageError("the ray engine needs ray: pip install 'factkit[ray]'") from None
    return ray


class Extract:
    """The callable class for ``Dataset.map_batches``: one extractor per actor, one output row per input row.

    ``spec``: what rebuilds the extractor (``WorkerSpec.of(extractor)``; :func:`extract_dataset` makes it).
    ``limits``: the run's :class:`RunLimits` actor (shared budget and rate limit), or ``None``. ``budgeted``:
    whether ``limits`` holds a budget. ``skip``: ``(id, sha256)`` pairs (or an object ref of them) to leave out.
    """

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
        skip: Any = None,
    ) -> None:
        ray = _ray()
        keys: Iterable[tuple[str, str]] = ()
        if skip is not None:
            keys = ray.get(skip) if isinstance(skip, ray.ObjectRef) else skip
        self.inner = ActorExtractor(
            spec,
            limits=limits,
            threads=threads,
            prices=prices,
            max_input_chars=max_input_chars,
            published=published,
            budgeted=budgeted,
            skip=keys,
        )

    def __call__(self, batch: Mapping[str, Any]) -> dict[str, list[Any]]:
        return self.inner.rows(batch)


def run_limits(*, max_cost: float | None = None, max_in_flight: int | None = None) -> Any:
    """The actor (a handle) that holds one run's budget (USD) and its bound on model requests in flight."""
    return start_limits(_ray(), max_cost, max_in_flight)


def _spec(settings: Settings | None, extractor: Pipeline | None) -> WorkerSpec:
    if (settings is None) == (extractor is None):
        raise UsageError("give either settings= or extractor= (an extractor built from settings)")
    return WorkerSpec.of(extractor if extractor is not None else Pipeline(settings=settings))


def extract_dataset(
    ds: Any,
    *,
    settings: Settings | None = None,
    extractor: Pipeline | None = None,
    concurrency: int | tuple[int, int] = 2,
    threads: int = 8,
    max_in_flight: int | None = None,
    max_cost: float | None = None,
    prices: str | Path | None = None,
    max_input_chars: int | None = None,
    published: Any = None,
    limits: Any = None,
    skip: Iterable[tuple[str, str]] | None = None,
    batch_size: int = 16,
    num_cpus: float = ACTOR_CPUS,
    max_restarts: int = -1,
    max_task_retries: int = -1,
    udf: type[Extract] = Extract,
) -> Any:
    """``ds`` mapped by :class:`Extract` on ``concurrency`` actors: one row per input (see the module docs).

    ``threads``: articles in flight per actor. ``published``: the date of rows that have none. ``max_in_flight`` /
    ``max_cost``: a run-wide bound on model requests at once and a budget in USD (one :class:`RunLimits` actor,
    made here unless ``limits`` is given).
    Inputs over budget get a ``BudgetError`` record with status ``not_started`` (no line for a resume to skip).
    """
    ray = _ray()
    spec = _spec(settings, extractor)
    if max_cost is not None:  # refuses an unknown price before any actor starts
        BatchRunner(Pipeline(settings=spec.settings), max_cost=max_cost, prices=prices)
    if limits is None and (max_cost is not None or max_in_flight is not None):
        limits = run_limits(max_cost=max_cost, max_in_flight=max_in_flight)
    kwargs: dict[str, Any] = {
        "spec": spec,
        "limits": limits,
        "threads": threads,
        "prices": prices,
        "max_input_chars": max_input_chars,
        "published": published,
        "budgeted": max_cost is not None,
        "skip": ray.put(frozenset(skip)) if skip else None,
    }
    size = (
        {"size": concurrency}
        if isinstance(concurrency, int)
        else dict(zip(("min_size", "max_size"), concurrency, strict=True))
    )
    restarts = {"max_restarts": max_restarts, "max_task_retries": max_task_retries}
    with warnings.catch_warnings():  # Ray 2.60 deprecates ray_remote_args_fn and names no replacement for restarts
        warnings.filterwarnings("ignore", message=".*ray_remote_args.*deprecated", category=Warning)
        return _map(ds, udf, kwargs, size, num_cpus, batch_size, restarts)


def _map(ds: Any, udf: Any, kwargs: Any, size: Any, num_cpus: Any, batch_size: Any, restarts: Any) -> Any:
    import ray

    return ds.map_batches(
        udf,
        fn_constructor_kwargs=kwargs,
        compute=ray.data.ActorPoolStrategy(**size),
        num_cpus=num_cpus,
        batch_size=batch_size,
        batch_format="numpy",
        ray_remote_args_fn=lambda: dict(restarts),
    )


@dataclass
class RayOutcome:
    """What :func:`extract_to_folder` did."""

    extracted: int = 0
    failed: int = 0
    skipped: int = 0
    not_started: int = 0
    cost_usd: float = 0.0
    shards: list[Path] = field(default_factory=list)
    limits: dict[str, Any] = field(default_factory=dict)
    config_error: str | None = None
    elapsed_s: float = 0.0

    def summary(self, out: Path) -> str:
        parts = [f"{self.extracted} extracted", f"{self.failed} failed", f"{self.skipped} already done"]
        if self.not_started:
            parts.append(f"{self.not_started} not started")
        return (
            f"{', '.join(parts)} in {self.elapsed_s:.1f} s; cost {format_usd(self.cost_usd)}; "
            f"{len(self.shards)} new shard(s) in {out}"
        )


def extract_to_folder(
    ds: Any,
    out: str | Path,
    *,
    retry_errors: bool = False,
    per_shard: int = 100_000,
    done: set[tuple[str, str]] | None = None,
    **options: Any,
) -> RayOutcome:
    """:func:`extract_dataset` streamed into JSONL shards in the folder ``out``, resuming from the shards already
    there (see the module docs; ``done``: their keys, when the caller has read them already with
    :func:`~factkit.batch._ray.done_keys`); ``options`` go to :func:`extract_dataset`. Raises
    :class:`ConfigError` when a configuration error (a rejected key, an unknown model) left inputs undone, after
    writing what was done."""
    import json

    started = time.perf_counter()
    folder = Path(out)
    if done is None:
        done = done_keys(folder, retry_errors=retry_errors) if folder.is_dir() else set()
    outcome = RayOutcome(skipped=len(done))
    if options.get("limits") is None and (options.get("max_cost") is not None or options.get("max_in_flight")):
        options["limits"] = run_limits(max_cost=options.get("max_cost"), max_in_flight=options.get("max_in_flight"))
    mapped = extract_dataset(ds, skip=done, **options)
    with ShardWriter(folder, per_shard=per_shard) as writer:
        for batch in mapped.iter_batches(batch_format="numpy", batch_size=None):
            for status, line in zip(batch["status"], batch["record"], strict=True):
                line = str(line)
                if status == "not_started":
                    outcome.not_started += 1
                    error = json.loads(line).get("error") or {}
                    if error.get("type") == ConfigError.__name__:
                        outcome.config_error = str(error.get("message"))
                    continue
                if not writer.write(line):
                    continue
                cost = json.loads(line).get("cost_usd")
                outcome.cost_usd += cost or 0.0
                if status == "extracted":
                    outcome.extracted += 1
                else:
                    outcome.failed += 1
        outcome.shards = [folder / f"part-{writer.stamp}-{n:05d}.jsonl" for n in range(1, writer.shards + 1)]
    if options.get("limits") is not None:
        outcome.limits = _ray().get(options["limits"].stats.remote())
    outcome.elapsed_s = time.perf_counter() - started
    if outcome.config_error is not None:
        raise ConfigError(
            f"{outcome.config_error}; the run stopped there ({outcome.summary(folder)}); fix the setting and re-run "
            "the same command: the inputs not done are picked up"
        )
    return outcome
