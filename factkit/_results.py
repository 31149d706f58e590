"""The results file of a batch, and the records in it.

* **One record per input.** :class:`BatchRecord`: ``ok`` with the :class:`~factkit.Extraction`, or a
  :class:`BatchError` that says why (its type and a secret-free message).
* **Writing.** Each record is written as one complete JSON line by a single ``write()`` on a file opened for
  appending, and the file is fsynced at least once a second and at the end. A process killed with ``kill -9``
  loses at most the articles in flight. A run takes an exclusive lock on the file.
* **Resume.** Opening an existing file collects every ``(id, sha256)`` that already has a record: a result, or
  an error of a permanent kind. Records of transient errors (:data:`RETRIED_ERRORS`) are dropped so those
  inputs are retried (``retry_errors=True`` drops every error). A trailing partial line or any line that isn't
  a valid record is dropped; the file is then rewritten through a temporary file and an atomic rename.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ._errors import UsageError
from ._models import Extraction, Usage

log = logging.getLogger("factkit")

#: Error records a resume retries; any other error record is permanent and kept.
RETRIED_ERRORS = frozenset({"TransportError", "BudgetError"})
#: Seconds between two fsyncs of the results file (it is also synced when the batch ends).
FSYNC_INTERVAL_S = 1.0


class BatchError(BaseModel):
    """Why an input has no result."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(description="The error class: InputError, TransportError, OutputError, BudgetError...")
    message: str = Field(description="What went wrong and how to fix it; never contains an API key.")
    usage: Usage | None = Field(None, description="Tokens spent on the input before it failed.")

    @property
    def retried(self) -> bool:
        """Whether a resume retries this input (a transient error) rather than keeping the record."""
        return self.type in RETRIED_ERRORS


class BatchRecord(BaseModel):
    """The outcome of one batch input: one JSON line of the results file."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="The input's id: the path inside a folder, a JSONL 'id', a file path, an index.")
    source: str = Field(description="Where the input came from: a file, or file:line for JSONL.")
    sha256: str = Field(description="SHA-256 of the input's text (of its bytes for a file); '' if unreadable.")
    ok: bool
    result: Extraction | None = None
    error: BatchError | None = None
    cost_usd: float | None = Field(None, description="Estimated USD spent on it; None when the price is unknown.")

    @property
    def usage(self) -> Usage:
        """Tokens spent on this input (cache hits included, marked ``cached``)."""
        if self.result is not None:
            return self.result.usage
        if self.error is not None and self.error.usage is not None:
            return self.error.usage
        return Usage()

    def to_line(self) -> str:
        """The record as one line of JSON (no newline inside: JSON escapes them)."""
        return self.model_dump_json(exclude={"error"} if self.ok else {"result"})

    @classmethod
    def from_line(cls, line: str | bytes) -> BatchRecord:
        """A record read back from a results file."""
        return cls.model_validate_json(line)


def _lock(fd: int, path: Path) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise UsageError(f"another factkit run is writing to {path}; wait for it or choose another --out") from None


def _record_key(obj: Any) -> tuple[str, str] | None:
    """``(id, sha256)`` of a parsed line, or ``None`` when it isn't a record."""
    if not isinstance(obj, dict):
        return None
    rid, sha, ok = obj.get("id"), obj.get("sha256"), obj.get("ok")
    if not isinstance(rid, str) or not isinstance(sha, str) or not isinstance(ok, bool):
        return None
    if ok and not isinstance(obj.get("result"), dict):
        return None
    if not ok and not isinstance(obj.get("error"), dict):
        return None
    return rid, sha


class ResultsFile:
    """The JSONL results of a batch: resumable, one complete line per record, locked while in use."""

    def __init__(self, path: str | Path, *, retry_errors: bool = False) -> None:
        self.path = Path(path)
        self.retry_errors = retry_errors
        self.done: dict[tuple[str, str], str] = {}
        self.dropped: dict[str, int] = {}
        self._fd: int | None = None
        self._written: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self._last_sync = time.monotonic()
        self._unsynced = False

    def open(self) -> ResultsFile:
        """Lock the file, read what earlier runs finished, and drop what must be redone."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        _lock(fd, self.path)
        try:
            data = self.path.read_bytes()
            keep = self._scan(data)
            if sum(self.dropped.values()):
                fd = self._rewrite(fd, keep)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        self._written = set(self.done)
        if self.done or self.dropped:
            dropped = ", ".join(f"{n} {why}" for why, n in self.dropped.items() if n)
            log.info(
                "resuming %s: %d input(s) already done%s",
                self.path,
                len(self.done),
                f"; dropped {dropped}" * bool(dropped),
            )
        return self

    def _scan(self, data: bytes) -> list[bytes]:
        lines = data.split(b"\n")
        tail = lines.pop()  # b"" when the file ends with a newline, else a line cut off by a kill
        drops = {"partial line": 1 if tail.strip() else 0, "invalid line": 0, "error to retry": 0, "duplicate": 0}
        keep: dict[tuple[str, str], tuple[bytes, bool]] = {}
        for line in lines:
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                obj = None
            key = _record_key(obj)
            if key is None:
                drops["invalid line"] += 1
                continue
            ok = bool(obj["ok"])
            if not ok and (self.retry_errors or str(obj["error"].get("type")) in RETRIED_ERRORS):
                drops["error to retry"] += 1
                continue
            if key in keep:
                drops["duplicate"] += 1
                if keep[key][1] or not ok:
                    continue  # keep the first result; a result wins over an error
            keep[key] = (line, ok)
        self.dropped = drops
        self.done = {key: line.decode("utf-8", "replace") for key, (line, _) in keep.items()}
        return [line for line, _ in keep.values()]

    def _rewrite(self, old_fd: int, lines: list[bytes]) -> int:
        """Replace the file by ``lines`` atomically; the new file is locked before it takes the name."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        mode = os.fstat(old_fd).st_mode & 0o777
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND, mode)
        try:
            _lock(fd, tmp)
            _write_all(fd, b"".join(line + b"\n" for line in lines))
            os.fsync(fd)
            os.replace(tmp, self.path)
            _fsync_dir(self.path.parent)
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        os.close(old_fd)
        return fd

    def write(self, record: BatchRecord) -> bool:
        """Append one record as one line; ``False`` if this input already has one in the file."""
        key = (record.id, record.sha256)
        data = (record.to_line() + "\n").encode("utf-8", "surrogatepass")
        with self._lock:
            if self._fd is None:
                raise UsageError(f"{self.path} is not open")
            if key in self._written:
                return False
            _write_all(self._fd, data)
            self._written.add(key)
            self._unsynced = True
            if time.monotonic() - self._last_sync >= FSYNC_INTERVAL_S:
                self._sync()
        return True

    def _sync(self) -> None:
        if self._fd is not None and self._unsynced:
            os.fsync(self._fd)
            self._unsynced = False
        self._last_sync = time.monotonic()

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                try:
                    self._sync()
                finally:
                    os.close(self._fd)
                    self._fd = None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
