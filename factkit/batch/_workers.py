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
import os
import pickle
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from .._config import Settings
from .._document import Document
from .._errors import TransportError, UsageError, describe
from .._models import Extraction
from .._prompts import Prompt

if TYPE_CHECKING:
    from .._extract import Pipeline as Extractor

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
        if not extractor.backend_from_settings:
            raise UsageError(
                "workers rebuild the extractor from its settings, and this one was given a backend object; "
                "build it from settings (base_url=, model=, api_key=) to use workers"
            )
        local = extractor.settings.backend == "local"  # decided before the backend is built: no model load
        if local:
            raise UsageError(
                "workers need a remote endpoint; the local backend runs one article at a time in this "
                "process (each worker would load its own copy of the model); leave workers at 0"
            )
        if not extractor.backend.parallel_calls:
            raise UsageError(
                f"workers need a server that runs several requests at once; {extractor.backend.endpoint or 'this one'}"
                " runs one at a time (more workers would only queue on it); leave workers at 0"
            )
        return cls(
            settings=extractor.settings,
            prompt=extractor.prompt,
            custom_prompt=extractor.custom_prompt,
            max_chars=extractor.max_chars,
            log_level=logging.getLogger("factkit").getEffectiveLevel(),
        )


#: How long a worker may take to start (import factkit, build its client) before the batch gives up.
START_TIMEOUT_S = 120.0


class _ToParent(logging.Handler):
    """Sends a worker's log records to the parent, which hands them to its own ``factkit`` logger."""

    def __init__(self, send: Callable[[tuple[Any, ...]], None]) -> None:
        super().__init__()
        self._send = send

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):  # the parent is gone: nothing to log to
            self._send(("log", record.levelno, record.getMessage()))


def _child(spec: WorkerSpec, conn: Connection, threads: int, parent: int | None = None) -> None:
    """A worker process: extract what the parent sends, on ``threads`` threads, and send back each outcome.

    Messages to the parent: ``("ready",)`` once, ``("done", task, ok, value_or_error)`` per article,
    ``("log", level, text)`` per log line, or ``("failed", why)`` if it cannot start.
    """
    from ..backends._child import die_with_parent

    die_with_parent(parent)  # a killed parent (kill -9), even one killed while we started, must not leave workers
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it stops the workers
    send_lock = threading.Lock()

    def send(message: tuple[Any, ...]) -> None:
        with send_lock:
            conn.send(message)

    log = logging.getLogger("factkit")
    log.addHandler(_ToParent(send))
    log.setLevel(spec.log_level)
    log.propagate = False
    try:
        from .._extract import Pipeline as Extractor

        extractor = Extractor(settings=spec.settings)
        extractor.prompt, extractor.custom_prompt = spec.prompt, spec.custom_prompt
        extractor.max_chars = spec.max_chars
        extractor.backend  # noqa: B018  (built now, so a bad setting fails the start, not every article)
    except BaseException as exc:
        send(("failed", describe(exc)))
        return
    send(("ready",))

    def run(task: int, text: str, published: Any) -> None:
        try:
            reply: tuple[Any, ...] = ("done", task, True, extractor.extract(text, published=published))
        except BaseException as exc:  # every outcome goes back: the parent turns it into the article's record
            reply = ("done", task, False, _portable(exc))
        try:
            send(reply)
        except (OSError, ValueError):  # the parent is gone
            pass
        except Exception as exc:  # the value would not pickle: the article still gets its record
            send(("done", task, False, RuntimeError(describe(exc))))

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
    """The error as it can cross to the parent: its type, message and usage, without the traceback or the
    client's exception it wraps (which holds sockets); one that won't pickle becomes its one-line description."""
    if getattr(exc, "original", None) is not None:
        exc.original = None  # type: ignore[attr-defined]
    exc.__cause__ = exc.__context__ = exc.__traceback__ = None
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(describe(exc))
    return exc


class WorkersGone(TransportError):
    """Every worker process of a batch has ended: the batch stops (a re-run picks up what is left)."""


@dataclass(eq=False)
class _Worker:
    process: Any
    conn: Connection
    lock: threading.Lock = field(default_factory=threading.Lock)
    pending: dict[int, Future[Extraction]] = field(default_factory=dict)
    alive: bool = True


class WorkerPool:
    """``workers`` child processes sharing ``in_flight`` articles; :meth:`extract` blocks like
    :meth:`Extractor.extract` and may be called from many threads. Starting returns once every worker is ready,
    or raises :class:`UsageError` saying why one could not start."""

    def __init__(self, extractor: Extractor, workers: int, in_flight: int) -> None:
        if workers < 1:
            raise UsageError(f"workers={workers}; give at least 1 (or 0 for none)")
        spec = WorkerSpec.of(extractor)
        context = multiprocessing.get_context("spawn")
        threads = max(1, -(-in_flight // workers))
        self._ids = itertools.count()
        self._workers: list[_Worker] = []
        self._closing = False
        try:
            for n in range(workers):
                parent_end, child_end = context.Pipe()
                process = context.Process(
                    target=_child,
                    args=(spec, child_end, threads, os.getpid()),
                    name=f"factkit-worker-{n}",
                    daemon=True,
                )
                process.start()
                child_end.close()
                self._workers.append(_Worker(process, parent_end))
            deadline = time.monotonic() + START_TIMEOUT_S
            for worker in self._workers:
                self._wait_ready(worker, deadline)
        except BaseException:
            self.close()
            raise
        for worker in self._workers:
            name = f"{worker.process.name}-reader"
            threading.Thread(target=self._read, args=(worker,), name=name, daemon=True).start()
        log.info("factkit: %d worker processes, up to %d articles each at a time", workers, threads)

    def _wait_ready(self, worker: _Worker, deadline: float) -> None:
        name = worker.process.name
        while True:
            if not worker.conn.poll(max(0.0, deadline - time.monotonic())):
                raise UsageError(f"{name} did not start within {START_TIMEOUT_S:.0f} s; run without workers")
            try:
                message = worker.conn.recv()
            except (EOFError, OSError):
                worker.process.join(timeout=5)
                raise UsageError(
                    f"{name} ended while starting (exit code {worker.process.exitcode}). Worker processes re-import "
                    'the script that started them: call factkit from under `if __name__ == "__main__":`, or run '
                    "without workers"
                ) from None
            if message[0] == "ready":
                return
            if message[0] == "failed":
                raise UsageError(f"{name} could not start: {message[1]}")
            if message[0] == "log":
                log.log(message[1], "%s", message[2])

    def extract(self, text: str, published: Any = None) -> Extraction:
        future: Future[Extraction] = Future()
        while True:
            alive = [w for w in self._workers if w.alive]
            if not alive:
                raise WorkersGone("every worker process has ended (see the log for why); run the batch again")
            worker = min(alive, key=lambda w: len(w.pending))
            task = next(self._ids)
            with worker.lock:
                if not worker.alive:
                    continue
                worker.pending[task] = future
                try:
                    worker.conn.send((task, text, published))
                except (OSError, ValueError):  # it died just now: try another
                    worker.pending.pop(task, None)
                    continue
                except Exception:  # an argument that won't pickle: a published value that is no date
                    worker.pending.pop(task, None)
                    Document.from_text(text, published)  # raises the error the extraction itself would give
                    raise
            return future.result()

    def _read(self, worker: _Worker) -> None:
        why = ""
        while True:
            try:
                message = worker.conn.recv()
            except (EOFError, OSError):
                break
            except Exception as exc:  # a reply that won't unpickle: this worker can't be trusted any more
                why = f": {describe(exc)}"
                worker.process.terminate()
                break
            if message[0] == "log":
                log.log(message[1], "%s", message[2])
                continue
            _, task, ok, payload = message
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
        if self._closing:  # the batch is being torn down (interrupted): nothing will record these
            for future in held.values():
                future.cancel()
            return
        if held:
            worker.process.join(timeout=1)
            code, name = worker.process.exitcode, worker.process.name
            log.warning("factkit: %s ended (exit code %s%s) with %d article(s) in flight", name, code, why, len(held))
        for future in held.values():
            future.set_exception(
                TransportError(
                    f"the worker process extracting this article ended (exit code {worker.process.exitcode}) before "
                    "it finished; run the batch again to retry it"
                )
            )

    def close(self) -> None:
        """Stop the children. After a finished batch they hold nothing; after an interrupted one what they hold
        is abandoned (a resumed batch redoes it), so together they get two seconds before being terminated."""
        self._closing = True
        for worker in self._workers:
            with worker.lock, contextlib.suppress(OSError, ValueError):
                worker.conn.send(None)
        deadline = time.monotonic() + 2.0
        for worker in self._workers:
            worker.process.join(timeout=max(0.0, deadline - time.monotonic()))
        for worker in self._workers:
            if worker.process.is_alive():
                worker.process.terminate()
                worker.process.join(timeout=5)
            worker.conn.close()
