"""Extractions in worker processes, for batches whose Python work outgrows one interpreter lock.

Against a fast remote endpoint a batch is bound by CPU, not by the endpoint: building the requests, parsing
and grounding the answers cost ~15-25 ms of Python an article, all of it under one process's interpreter
lock, so one process tops out at ~40-60 articles a second however many requests are in flight. With
``workers=N`` a batch runs its extractions in N child processes, each with its own client and threads for its
share of the articles in flight. The parent keeps everything that must stay in one place: reading and
hashing inputs, the results file, the budget, the cache of finished articles and the progress bar.

The children are started with ``spawn`` (safe whatever threads the parent runs) and rebuild the extractor from
its settings and prompts, so only an extractor built from settings can be shipped, not a hand-made backend
object. A child that dies (killed, out of memory) fails the articles it held with a :class:`TransportError`,
which a resumed batch retries; the other children carry on.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import multiprocessing
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from ._config import Settings
from ._errors import FactkitError, TransportError, UsageError, describe
from ._models import Extraction
from ._prompts import Prompt

if TYPE_CHECKING:
    from ._extract import Extractor

log = logging.getLogger("factkit")


@dataclass(frozen=True)
class WorkerSpec:
    """What a child needs to rebuild the parent's extractor (all of it picklable)."""

    settings: Settings
    prompt: Prompt
    custom_prompt: Prompt
    max_chars: int | None
    log_level: int

    @classmethod
    def of(cls, extractor: Extractor) -> WorkerSpec:
        backend = extractor.backend
        if not extractor.backend_from_settings:
            raise UsageError(
                "workers rebuild the extractor from its settings, and this one was given a backend object; "
                "build it from settings (base_url=, model=, api_key=) to use workers"
            )
        if not backend.parallel_calls:
            raise UsageError(
                f"workers need a remote endpoint; the {backend.name} backend runs one article at a time in this "
                "process (each worker would load its own copy of the model); leave workers at 0"
            )
        return cls(
            settings=extractor.settings,
            prompt=extractor.prompt,
            custom_prompt=extractor.custom_prompt,
            max_chars=extractor.max_chars,
            log_level=logging.getLogger("factkit").getEffectiveLevel(),
        )


def _child(spec: WorkerSpec, conn: Connection, threads: int) -> None:
    """A worker process: extract what the parent sends, on ``threads`` threads, and send back each outcome."""
    from ._extract import Extractor

    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    logging.getLogger("factkit").addHandler(handler)
    logging.getLogger("factkit").setLevel(spec.log_level)
    extractor = Extractor(settings=spec.settings)
    extractor.prompt, extractor.custom_prompt, extractor.max_chars = spec.prompt, spec.custom_prompt, spec.max_chars
    send_lock = threading.Lock()

    def run(task: int, text: str, published: Any) -> None:
        try:
            reply: tuple[int, bool, Any] = (task, True, extractor.extract(text, published=published))
        except BaseException as exc:  # every outcome goes back: the parent turns it into the article's record
            reply = (task, False, _portable(exc))
        with send_lock:
            conn.send(reply)

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="factkit-worker") as pool:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):  # the parent is gone
                break
            if message is None:
                break
            pool.submit(run, *message)


def _portable(exc: BaseException) -> BaseException:
    """The error as it can cross to the parent: factkit's errors keep their type, message and usage (not the
    client's exception they wrap, which holds sockets); anything else becomes its one-line description."""
    if isinstance(exc, FactkitError):
        if getattr(exc, "original", None) is not None:
            exc.original = None  # type: ignore[attr-defined]
        exc.__cause__ = exc.__context__ = exc.__traceback__ = None
        return exc
    return RuntimeError(describe(exc))


@dataclass(eq=False)
class _Worker:
    process: Any
    conn: Connection
    lock: threading.Lock = field(default_factory=threading.Lock)
    pending: dict[int, Future[Extraction]] = field(default_factory=dict)
    alive: bool = True


class WorkerPool:
    """``workers`` child processes sharing ``in_flight`` articles; :meth:`extract` blocks like
    :meth:`Extractor.extract` and may be called from many threads."""

    def __init__(self, extractor: Extractor, workers: int, in_flight: int) -> None:
        if workers < 1:
            raise UsageError(f"workers={workers}; give at least 1 (or 0 for none)")
        spec = WorkerSpec.of(extractor)
        context = multiprocessing.get_context("spawn")
        threads = max(1, -(-in_flight // workers))
        self._ids = itertools.count()
        self._workers: list[_Worker] = []
        for n in range(workers):
            parent_end, child_end = context.Pipe()
            process = context.Process(
                target=_child, args=(spec, child_end, threads), name=f"factkit-worker-{n}", daemon=True
            )
            process.start()
            child_end.close()
            worker = _Worker(process, parent_end)
            threading.Thread(target=self._read, args=(worker,), name=f"factkit-worker-{n}-reader", daemon=True).start()
            self._workers.append(worker)
        log.info("factkit: %d worker processes, up to %d articles each at a time", workers, threads)

    def extract(self, text: str, published: Any = None) -> Extraction:
        future: Future[Extraction] = Future()
        while True:
            alive = [w for w in self._workers if w.alive]
            if not alive:
                raise TransportError("every worker process has ended; see the log for why, and run the batch again")
            worker = min(alive, key=lambda w: len(w.pending))
            task = next(self._ids)
            with worker.lock:
                if not worker.alive:
                    continue
                worker.pending[task] = future
                try:
                    worker.conn.send((task, text, published))
                except (OSError, ValueError):  # it died just now: its reader fails what it held
                    worker.pending.pop(task, None)
                    continue
            return future.result()

    def _read(self, worker: _Worker) -> None:
        while True:
            try:
                task, ok, payload = worker.conn.recv()
            except (EOFError, OSError):
                break
            with worker.lock:
                future = worker.pending.pop(task, None)
            if future is None:
                continue
            if ok:
                future.set_result(payload)
            else:
                future.set_exception(payload)
        with worker.lock:
            worker.alive = False
            held, worker.pending = worker.pending, {}
        if held:
            worker.process.join(timeout=1)
            code = worker.process.exitcode
            name = worker.process.name
            log.warning("factkit: %s ended (exit code %s) with %d article(s) in flight", name, code, len(held))
            for future in held.values():
                future.set_exception(
                    TransportError(
                        f"the worker process extracting this article ended (exit code {code}) before it finished; "
                        "run the batch again to retry it"
                    )
                )

    def close(self) -> None:
        """Stop the children. After a finished batch they hold nothing; after an interrupted one what they hold
        is abandoned (a resumed batch redoes it), so they get two seconds before they are terminated."""
        for worker in self._workers:
            with worker.lock, contextlib.suppress(OSError, ValueError):
                worker.conn.send(None)
        for worker in self._workers:
            worker.process.join(timeout=2)
            if worker.process.is_alive():
                worker.process.terminate()
                worker.process.join(timeout=5)
            worker.conn.close()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
