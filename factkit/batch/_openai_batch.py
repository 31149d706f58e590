"""The OpenAI Batch API: submit every model call of many articles as batch files, at half the price, and collect
records identical to live ones (see ``factkit batch --help``).

* **Same requests, same records.** Nothing here builds a prompt. Each pass runs the ordinary pipeline
  (:meth:`Extractor.extract` through :class:`~factkit.batch.BatchRunner`'s per-article code) on a *replay* backend:
  a :class:`~factkit.backends.ChatBackend` whose ``create`` answers a request from the batch answers collected so
  far, or notes it as still to ask. The requests noted are exactly what the live path would send (the same
  messages, ``response_format`` or tools of the backend's mode), and answers go through the same instructor
  validation, re-asking and grounding, so a finished record is the live record (its cost at the batch price).
* **Rounds.** A pass that meets unanswered requests submits them as the next round: the first round holds every
  call of every article; an answer that fails validation makes instructor re-ask, and the re-ask is the next
  round's request, up to the backend's re-ask limit (then the live path's own error record).
* **Failures.** A request the batch answered with a transient failure (HTTP 408, 409, 429 or 5xx, no response at
  all, a line the batch left unanswered, an expired batch) is asked again in the next round, up to
  :data:`MAX_TRIES` tries in all; then, like an error about the request itself (HTTP 400, a request over the file
  limit, a failed or cancelled batch), it fails its call as the live transport would: the article gets an error
  record that says how many tries it had.
* **Limits.** A round is split into input files of at most ``max_requests`` requests and ``max_bytes`` bytes.
* **The state file** (JSON, written atomically) holds the inputs, the batches and the answers: every step can be
  re-run after a crash. factkit never overwrites a file it did not write, and the API key is never in it.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import hashlib
import json
import logging
import os
import re
import tempfile
import threading
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import openai
from openai.types.chat import ChatCompletion
from pydantic import BaseModel, Field, ValidationError

from .._cost import Price, PriceTable, resolve_prices
from .._document import chunk_sentences
from .._errors import (
    ConfigError,
    FactkitError,
    InputError,
    ModelError,
    TransportError,
    UsageError,
    redact,
    register_secret,
)
from ..backends.base import ChatBackend, Mode, RetryPolicy
from ._inputs import BatchInput, _collect, sha256_of
from ._results import BatchRecord, ResultsFile
from ._runner import BatchRunner

if TYPE_CHECKING:
    from .._extract import Pipeline as Extractor

__all__ = [
    "MAX_BYTES",
    "MAX_REQUESTS",
    "STATE_FORMAT",
    "BatchJob",
    "BatchState",
    "batch_prices",
    "collect",
    "load_state",
    "status",
    "submit",
]

log = logging.getLogger("factkit")

#: The Batch API's limits on one input file.
MAX_REQUESTS = 50_000
MAX_BYTES = 200 * 1024 * 1024
STATE_FORMAT: Literal["factkit-openai-batch/1"] = "factkit-openai-batch/1"
ENDPOINT: Literal["/v1/chat/completions"] = "/v1/chat/completions"
#: How many rounds a request is asked in when the batch keeps failing it transiently (then its failure is final).
MAX_TRIES = 3
#: Errors without a response that are about the request itself, or the user's choice: asking again cannot help.
FINAL_ERROR_CODES = frozenset({"request_too_large", "batch_failed", "batch_cancelled", "invalid_request"})
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})


# ---- the state file ---------------------------------------------------------------------------------------


class StateInput(BaseModel):
    """One input as submitted: enough to run its extraction again in another process."""

    id: str
    source: str = ""
    text: str | None = None
    data_b64: str | None = Field(None, description="The bytes of a file input, base64.")
    published: str | None = None
    problem: str | None = Field(None, description="Why the input could not be read.")

    def as_input(self) -> BatchInput:
        data: str | bytes | None = self.text if self.data_b64 is None else base64.b64decode(self.data_b64)
        return BatchInput(text=data, id=self.id, source=self.source, published=self.published, problem=self.problem)

    @property
    def sha256(self) -> str:
        data = self.as_input().text
        return "" if data is None else sha256_of(data)


class Answer(BaseModel):
    """What the batch answered to one request: a response (any status), or an error without one."""

    status_code: int = Field(0, description="The HTTP status of the response; 0 when there was none.")
    body: Any = None
    error: dict[str, Any] | None = None
    tries: int = Field(1, description="The rounds the request was asked in (transient failures are asked again).")

    @property
    def transient(self) -> bool:
        """A failure that asking again may cure: a busy or failing server, or no answer at all."""
        if self.status_code:
            return self.status_code in (408, 409, 429) or self.status_code >= 500
        return str((self.error or {}).get("code") or "") not in FINAL_ERROR_CODES


class BatchJob(BaseModel):
    """One input file and its batch on the server."""

    key: str = Field(description="factkit's name for the job, in the batch's metadata (found again after a crash).")
    round: int
    custom_ids: list[str]
    input_file_id: str | None = None
    batch_id: str | None = None
    status: str = Field("planned", description="planned, creating, then the server's: validating ... completed.")
    output_file_id: str | None = None
    error_file_id: str | None = None
    request_counts: dict[str, int] = Field(default_factory=dict)
    collected: bool = False

    @property
    def in_flight(self) -> bool:
        return not self.collected


class BatchState(BaseModel):
    """The state file of one Batch API run."""

    factkit_state: Literal["factkit-openai-batch/1"] = STATE_FORMAT
    endpoint: str
    model: str
    mode: str
    config: str = Field(description="A hash of everything that shapes the requests: a mismatch is refused.")
    only: list[str] | None = Field(None, description="The parts extracted (None: all).")
    max_requests: int = MAX_REQUESTS
    max_bytes: int = MAX_BYTES
    inputs: list[StateInput] = Field(default_factory=list)
    jobs: list[BatchJob] = Field(default_factory=list)
    requests: dict[str, str] = Field(default_factory=dict, description="custom_id -> request key (sha256).")
    answers: dict[str, Answer] = Field(default_factory=dict, description="request key -> answer.")
    failed_tries: dict[str, int] = Field(
        default_factory=dict, description="request key -> transient failures so far (the request is asked again)."
    )
    finished: int = Field(0, description="Inputs whose record is final (as of the last pass).")
    waiting: int = Field(0, description="Inputs still waiting for answers.")

    @property
    def round(self) -> int:
        return max((j.round for j in self.jobs), default=-1)

    @property
    def done(self) -> bool:
        return self.waiting == 0 and not any(j.in_flight for j in self.jobs)

    def summary(self) -> str:
        states: dict[str, int] = {}
        for job in self.jobs:
            states[job.status] = states.get(job.status, 0) + 1
        batches = ", ".join(f"{n} {s}" for s, n in sorted(states.items())) or "none"
        return (
            f"{len(self.inputs)} input(s): {self.finished} finished, {self.waiting} waiting; round {self.round}; "
            f"batches: {batches}"
        )


#: The state file's first key, however a JSON tool re-indented it (key order is kept by jq, json.tool...).
_HEAD = re.compile(rb'\A\s*\{\s*"factkit_state"\s*:\s*"' + re.escape(STATE_FORMAT.encode()) + rb'"')


def _is_state(path: Path) -> bool:
    with open(path, "rb") as handle:
        return _HEAD.match(handle.read(4096)) is not None


def _refuse_foreign(path: Path) -> None:
    if path.exists() and (not path.is_file() or (path.stat().st_size > 0 and not _is_state(path))):
        raise UsageError(
            f"{path} is not a factkit batch state file: factkit never overwrites a file it did not write; "
            "choose another --state"
        )


def load_state(path: str | Path) -> BatchState:
    """The state file at ``path``; a missing or foreign file is a :class:`UsageError`."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"no batch state file {path}; start with factkit batch submit")
    _refuse_foreign(path)
    try:
        return BatchState.model_validate_json(path.read_bytes())
    except ValidationError as exc:
        raise UsageError(f"{path}: the batch state file is damaged ({exc.errors()[0]['msg']})") from None


def _save(path: Path, state: BatchState) -> None:
    """Write the state atomically (a temporary file, then a rename), never over a file factkit did not write."""
    _refuse_foreign(path)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(state.model_dump_json().encode("utf-8", "surrogatepass"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One factkit process at a time on a state file (a second could submit a round twice)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock
        yield
        return
    with open(path.parent / f".{path.name}.lock", "a") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(f"another factkit process is working on {path}; wait for it") from None
        yield


# ---- the replay backend -----------------------------------------------------------------------------------


class _Waiting(FactkitError):
    """The batch has not answered this request (yet)."""


class _Asked(NamedTuple):
    key: str
    body: dict[str, Any]
    task: str
    chunk: int


def request_key(body: dict[str, Any]) -> str:
    """The identity of a request: SHA-256 of its canonical JSON."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class _ReplayBackend(ChatBackend):
    """The extractor's backend as seen from the batch: answers from the batch, or a note of what to ask."""

    parallel_calls = True  # every call of an article is made, so a pass sees all of its requests

    def __init__(self, real: ChatBackend, mode: Mode, answers: dict[str, Answer]) -> None:
        super().__init__(
            self._answer,
            model=real.model,
            modes=[mode],
            retry=RetryPolicy(retries=0),
            endpoint=real.endpoint,
            sampling=real.sampling,
        )
        self.name = real.name
        self.default_reasks = real.default_reasks
        self.answers = answers
        self.asked: list[_Asked] = []
        self.where = threading.local()
        self._asked_lock = threading.Lock()

    def _answer(self, **kwargs: Any) -> ChatCompletion:
        body = json.loads(json.dumps(kwargs))
        key = request_key(body)
        answer = self.answers.get(key)
        if answer is None:
            task, chunk = getattr(self.where, "call", ("extract", 0))
            with self._asked_lock:
                self.asked.append(_Asked(key, body, task, chunk))
            raise _Waiting("waiting for the batch's answer")
        if answer.status_code == 200 and isinstance(answer.body, dict):
            return ChatCompletion.construct(**answer.body)
        raise _failure(answer, self.endpoint or self.name)


def _failure(answer: Answer, where: str) -> FactkitError:
    if answer.status_code:
        body = answer.body if isinstance(answer.body, dict) else {}
        raw = body.get("error")
        what = str((raw.get("message") if isinstance(raw, dict) else None) or answer.body or "")[:200]
        status = answer.status_code
        kind = TransportError if answer.transient else ModelError
        return kind(
            f"{where} failed this request in the batch{_tries(answer)}: HTTP {status}: {what}", provider="openai"
        )
    err = answer.error or {}
    what = f"{err.get('code') or 'error'}: {str(err.get('message') or '')[:200]}"
    return TransportError(
        f"{where} gave no answer to this request in the batch{_tries(answer)} ({what})", provider="openai"
    )


def _tries(answer: Answer) -> str:
    return f" ({answer.tries} rounds)" if answer.tries > 1 else ""


def _replay_extractor(extractor: Extractor, backend: _ReplayBackend, only: list[str] | None) -> Extractor:
    """A copy of ``extractor`` on ``backend``, without the call cache, that tells the backend which task and
    chunk each call is for (the custom_id says so)."""
    replay = copy.copy(extractor)
    replay.settings = extractor.settings.model_copy(update={"cache": False})
    replay._backend = backend
    replay._cache = None
    replay._lock = threading.Lock()
    replay.only = None if only is None else frozenset(only)
    original = replay._run_grounded

    def run_grounded(doc: Any, sentences: Any, prompt: Any, task: str | None, *args: Any, **kwargs: Any) -> Any:
        chunks = chunk_sentences(doc.sentences, replay._chunk_chars(), overlap=1)
        first = sentences[0].index if sentences else 0
        backend.where.call = (task or "extract", next((i for i, c in enumerate(chunks) if c[0].index == first), 0))
        return original(doc, sentences, prompt, task, *args, **kwargs)

    replay.__dict__["_run_grounded"] = run_grounded
    return replay


def batch_prices(table: PriceTable) -> PriceTable:
    """``table`` at the Batch API's rate: half the live price."""
    return PriceTable({name: Price(input=p.input / 2, output=p.output / 2) for name, p in table.prices.items()})


# ---- one session on a state file --------------------------------------------------------------------------


def _config(extractor: Extractor, mode: Mode) -> str:
    ex, backend = extractor, extractor.backend
    prompt = ex.prompt
    payload = {
        "prompt": [prompt.id, prompt.system, prompt.user, sorted(prompt.tasks.items())],
        "model": backend.model,
        "endpoint": backend.endpoint,
        "sampling": backend.sampling,
        "mode": mode.value,
        "chunk": ex._chunk_chars(),
        "reasks": ex.settings.max_reasks,
        "entities": [ex.settings.ner, ex.settings.entities, ex.settings.facts],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _check_backend(extractor: Extractor) -> ChatBackend:
    backend = extractor.backend
    if extractor.settings.backend != "openai" or backend.name != "openai" or not extractor.backend_from_settings:
        raise UsageError(
            "the Batch API needs an OpenAI(-compatible) endpoint configured by settings (an API key or "
            "FACTKIT_BASE_URL), not the local model or a backend object"
        )
    return backend


class _Session:
    def __init__(self, path: Path, extractor: Extractor, state: BatchState, prices: str | Path | None) -> None:
        self.path, self.extractor, self.state = path, extractor, state
        backend = _check_backend(extractor)
        if _config(extractor, Mode(state.mode)) != state.config:
            raise UsageError(
                f"{path} was submitted with other settings (model {state.model!r} at {state.endpoint}, or another "
                "prompt, chunk size or re-ask limit); use the same settings to see its status or collect it"
            )
        settings = extractor.settings
        key = settings.api_key.get_secret_value() if settings.api_key else None
        register_secret(key)
        self.where = redact(backend.endpoint or "api.openai.com")
        self.client = openai.OpenAI(
            api_key=key or "not-needed", base_url=settings.base_url, timeout=settings.timeout, max_retries=2
        )
        self.replay = _ReplayBackend(backend, Mode(state.mode), state.answers)
        self.runner = BatchRunner(
            _replay_extractor(extractor, self.replay, state.only),
            prices=batch_prices(resolve_prices(prices or settings.prices_path)),
            progress=False,
        )

    def save(self) -> None:
        _save(self.path, self.state)

    @contextlib.contextmanager
    def api(self, what: str) -> Iterator[None]:
        """Errors of the Files and Batches endpoints as factkit errors, without secrets."""
        try:
            yield
        except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
            raise ConfigError(f"{self.where} rejected the API key while {what} (HTTP {exc.status_code})") from None
        except openai.APIStatusError as exc:
            raise ModelError(
                f"{self.where} failed while {what}: HTTP {exc.status_code}: {str(exc)[:300]}; the state file is "
                "kept: re-run the same command to go on",
                provider="openai",
            ) from None
        except openai.APIError as exc:
            raise TransportError(
                f"could not reach {self.where} while {what} ({type(exc).__name__}); re-run the same command to go on",
                provider="openai",
            ) from None

    # -- a pass over the inputs --------------------------------------------------------------------------
    def replay_all(self) -> tuple[list[BatchRecord], dict[str, tuple[_Asked, StateInput]]]:
        """Run every input on the answers so far: the final records, and the requests still unanswered."""
        records: list[BatchRecord] = []
        asked: dict[str, tuple[_Asked, StateInput]] = {}
        runner = self.runner
        for entry in self.state.inputs:
            self.replay.asked = []
            prepared = runner._prepare(entry.as_input())
            record = prepared[0] if isinstance(prepared, tuple) else runner._run(prepared)[0]
            runner._stop = None  # a configuration error fails its article here, never the other ones
            if self.replay.asked:
                for a in self.replay.asked:
                    asked.setdefault(a.key, (a, entry))
            else:
                records.append(record)
        self.state.finished, self.state.waiting = len(records), len(self.state.inputs) - len(records)
        return records, asked

    # -- rounds ------------------------------------------------------------------------------------------
    def plan(self, asked: dict[str, tuple[_Asked, StateInput]]) -> dict[str, bytes]:
        """Make the next round's jobs from the unanswered requests; returns each request's JSONL line."""
        state, number = self.state, self.state.round + 1
        lines: dict[str, bytes] = {}
        for key, (a, entry) in asked.items():
            custom_id = f"{number}:{a.task}:{a.chunk}:{entry.sha256[:12]}:{entry.id[:64]}"
            base, n = custom_id, 1
            while custom_id in state.requests:
                n += 1
                custom_id = f"{base}#{n}"
            line = json.dumps({"custom_id": custom_id, "method": "POST", "url": ENDPOINT, "body": a.body}).encode()
            if len(line) + 1 > state.max_bytes:
                message = f"the request is {len(line):,} bytes, over the batch file limit of {state.max_bytes:,}"
                state.answers[key] = Answer(error={"code": "request_too_large", "message": message})
                continue
            state.requests[custom_id] = key
            lines[custom_id] = line + b"\n"
        job: BatchJob | None = None
        size = 0
        for custom_id, line in lines.items():
            if job is None or len(job.custom_ids) >= state.max_requests or size + len(line) > state.max_bytes:
                job, size = BatchJob(key=uuid.uuid4().hex, round=number, custom_ids=[]), 0
                state.jobs.append(job)
            job.custom_ids.append(custom_id)
            size += len(line)
        return lines

    def send(self, lines: dict[str, bytes] | None = None) -> None:
        """Upload and start every planned job (the lines rebuilt by a pass when a crash lost them)."""
        todo = [j for j in self.state.jobs if j.status in ("planned", "creating")]
        if todo and lines is None and any(j.input_file_id is None for j in todo):
            _, asked = self.replay_all()
            lines = {}
            for custom_id, key in self.state.requests.items():
                if key in asked:
                    body = asked[key][0].body
                    lines[custom_id] = (
                        json.dumps({"custom_id": custom_id, "method": "POST", "url": ENDPOINT, "body": body}).encode()
                        + b"\n"
                    )
        for job in todo:
            if job.input_file_id is None:
                data = b"".join((lines or {}).get(c, b"") for c in job.custom_ids)
                with self.api("uploading a batch file"):
                    uploaded = self.client.files.create(file=(f"factkit-{job.key}.jsonl", data), purpose="batch")
                job.input_file_id = uploaded.id
                self.save()
            if job.status == "creating":  # a crash may have come after the batch was made: look for it first
                with self.api("listing batches"):
                    for batch in self.client.batches.list(limit=100).data:
                        if (batch.metadata or {}).get("factkit_job") == job.key:
                            job.batch_id, job.status = batch.id, batch.status
                            break
            if job.batch_id is None:
                job.status = "creating"
                self.save()
                with self.api("creating a batch"):
                    batch = self.client.batches.create(
                        input_file_id=job.input_file_id,
                        endpoint=ENDPOINT,
                        completion_window="24h",
                        metadata={"factkit_job": job.key},
                    )
                job.batch_id, job.status = batch.id, batch.status
                self.save()

    def refresh(self) -> None:
        """Ask the server about every batch not finished yet."""
        for job in self.state.jobs:
            if job.batch_id is None or job.status in TERMINAL:
                continue
            with self.api("asking for a batch's status"):
                batch = self.client.batches.retrieve(job.batch_id)
            job.status = batch.status
            job.output_file_id, job.error_file_id = batch.output_file_id, batch.error_file_id
            counts = batch.request_counts
            job.request_counts = {} if counts is None else counts.model_dump()
        self.save()

    def download(self) -> None:
        """Read the answers of every finished batch; a request it did not answer fails."""
        for job in self.state.jobs:
            if job.collected or job.status not in TERMINAL:
                continue
            seen: set[str] = set()
            for file_id in (job.output_file_id, job.error_file_id):
                if file_id:
                    with self.api("downloading batch results"):
                        text = self.client.files.content(file_id).text
                    seen |= self._read_answers(text)
            for custom_id in job.custom_ids:
                key = self.state.requests[custom_id]
                if key not in self.state.answers and key not in seen:
                    code = "batch_" + job.status if job.status != "completed" else "missing"
                    message = f"the batch ended {job.status} without an answer to it"
                    self._answered(key, Answer(error={"code": code, "message": message}))
            job.collected = True
            self.save()

    def _answered(self, key: str, answer: Answer) -> None:
        """Keep an answer; a transient failure before the last try is counted instead, so the next pass asks again."""
        if answer.status_code != 200 and answer.transient:
            tries = self.state.failed_tries.get(key, 0) + 1
            if tries < MAX_TRIES:
                self.state.failed_tries[key] = tries
                return
            answer.tries = tries
        self.state.answers[key] = answer

    def _read_answers(self, text: str) -> set[str]:
        """Take in one result file's lines; returns the request keys it answered (failures counted included)."""
        seen: set[str] = set()
        for line in redact(text).splitlines():
            try:
                entry = json.loads(line)
                key = self.state.requests.get(str(entry["custom_id"]))
            except (ValueError, KeyError, TypeError):
                continue
            if key is None or key in self.state.answers or key in seen:
                continue
            seen.add(key)
            response = entry.get("response")
            if isinstance(response, dict) and isinstance(response.get("status_code"), int):
                self._answered(key, Answer(status_code=response["status_code"], body=response.get("body")))
            else:
                error = entry.get("error")
                self._answered(key, Answer(error=error if isinstance(error, dict) else {"message": str(error)}))
        return seen

    def step(self) -> list[BatchRecord]:
        """Everything that can be done now: finish a submission, refresh, collect answers, submit the next round."""
        self.send()
        self.refresh()
        self.download()
        while True:
            records, asked = self.replay_all()
            if not asked or any(j.in_flight for j in self.state.jobs):
                break
            lines = self.plan(asked)
            self.save()
            if lines:
                self.send(lines)
                break  # else every request was refused at once (too large): the next pass sees those errors
        self.save()
        return records


# ---- the public functions ---------------------------------------------------------------------------------


def submit(
    extractor: Extractor,
    inputs: Iterable[Any],
    state_path: str | Path,
    *,
    published: Any = None,
    prices: str | Path | None = None,
    max_requests: int = MAX_REQUESTS,
    max_bytes: int = MAX_BYTES,
) -> BatchState:
    """Submit every model call of ``inputs`` (as :meth:`Extractor.extract_many` takes them) to the Batch API;
    the run's state goes to ``state_path``, a new file. Returns the state."""
    path = Path(os.path.realpath(state_path))
    if path.exists():
        _refuse_foreign(path)
        if path.stat().st_size:
            raise UsageError(
                f"{path} already holds a batch run; see it (and finish an interrupted submission) with factkit batch "
                "status, or choose a new file"
            )
    if max_requests < 1 or max_bytes < 1024:
        raise UsageError(f"max_requests={max_requests}, max_bytes={max_bytes}: give at least 1 and 1024")
    backend = _check_backend(extractor)
    mode = backend.mode
    state = BatchState(
        endpoint=redact(backend.endpoint),
        model=backend.model,
        mode=mode.value,
        config=_config(extractor, mode),
        only=None if extractor.only is None else sorted(extractor.only),
        max_requests=max_requests,
        max_bytes=max_bytes,
    )
    items, _ = _collect(inputs, published)
    for item in items:
        entry = StateInput(id=item.id, source=item.source, published=_date_text(item.published))
        try:
            data = item.load()
        except InputError as exc:
            message = str(exc)
            entry.problem = message[len(exc.source) + 2 :] if exc.source and message.startswith(exc.source) else message
        else:
            if isinstance(data, bytes):
                entry.data_b64 = base64.b64encode(data).decode()
            else:
                entry.text = data
        state.inputs.append(entry)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(path):
        _save(path, state)
        session = _Session(path, extractor, state, prices)
        session.step()
    return session.state


def status(state_path: str | Path, extractor: Extractor) -> BatchState:
    """The run's state, its batches' statuses asked from the server (an interrupted submission is finished)."""
    path = _existing(state_path)
    with _locked(path):
        session = _Session(path, extractor, load_state(path), None)
        session.send()
        session.refresh()
    return session.state


def collect(
    state_path: str | Path,
    extractor: Extractor,
    out: str | Path | None = None,
    *,
    prices: str | Path | None = None,
) -> list[BatchRecord]:
    """Collect what the batches answered: the records of every input finished so far (input order), also
    appended to the results file ``out`` (resumable, as ``factkit extract --out`` writes it). Re-asks that
    remain are submitted as the next round; call it again once they are done (``status(...).done``)."""
    path = _existing(state_path)
    with _locked(path):
        session = _Session(path, extractor, load_state(path), prices)
        records = session.step()
    if out is not None:
        results = ResultsFile(out).open()
        try:
            for record in records:
                results.write(record)
        finally:
            results.close()
    return records


def _existing(state_path: str | Path) -> Path:
    path = Path(os.path.realpath(state_path))
    load_state(path)  # a missing or foreign file is refused before anything else (even the lock file)
    return path


def _date_text(value: Any) -> str | None:
    if value is None:
        return None
    iso = getattr(value, "isoformat", None)
    return str(iso()) if callable(iso) else str(value)
