"""The results file of a batch, and the records in it.

* **One record per input.** :class:`BatchRecord`: ``ok`` with the :class:`~factkit.Extraction`, or a
  :class:`BatchFailure` that says why (its type and a secret-free message).
* **Writing.** Each record is written as one complete JSON line by a single ``write()`` on a file opened for
  appending, and the file is fsynced at least once a second and at the end. A process killed with ``kill -9``
  loses at most the articles in flight. A run takes an exclusive lock on the file.
* **Resume.** Opening an existing file collects every ``(id, sha256)`` that already has a record: a result, or
  an error about the article itself (:data:`PERMANENT_ERRORS`: unusable input, output that never validated).
  Every other error record (transport, budget, configuration, a crashed model, a full disk...) is dropped so
  that input is retried (``retry_errors=True`` drops every error). A trailing partial record (cut by a kill) is
  dropped; the file is then rewritten through a temporary file and an atomic rename, locked before it takes
  the name. A file that holds any line that is not a factkit record is refused, never rewritten: factkit only
  rewrites files it wrote.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import re
import stat
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .._errors import StorageError, UsageError
from .._models import Extraction, Usage

log = logging.getLogger("factkit")

#: Error records a resume keeps: the error is about the article itself, so a retry would fail the same way.
#: Any other error (transport, budget, configuration, a crashed model, a full disk) is retried on resume.
PERMANENT_ERRORS = frozenset({"InputError", "OutputError"})
#: Seconds between two fsyncs of the results file (it is also synced when the batch ends).
FSYNC_INTERVAL_S = 1.0


class BatchFailure(BaseModel):
    """Why an input has no result."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(description="The error class: InputError, TransportError, OutputError, BudgetError...")
    message: str = Field(description="What went wrong and how to fix it; never contains an API key.")
    usage: Usage | None = Field(None, description="Tokens spent on the input before it failed.")

    @property
    def retried(self) -> bool:
        """Whether a resume retries this input (a transient error) rather than keeping the record."""
        return self.type not in PERMANENT_ERRORS


class BatchRecord(BaseModel):
    """The outcome of one batch input: one JSON line of the results file."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="The input's id: the path inside a folder, a JSONL 'id', a file path, an index.")
    source: str = Field(description="Where the input came from: a file, or file:line for JSONL.")
    sha256: str = Field(description="SHA-256 of the input's text (of its bytes for a file); '' if unreadable.")
    ok: bool
    result: Extraction | None = None
    error: BatchFailure | None = None
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


def _open_locked(path: Path) -> int:
    """Open and lock the file that ``path`` names *after* the lock is taken.

    A run that rewrites the file renames a new one into place; a second run that opened the old file just before
    could otherwise lock that orphan and both would write. So after locking, check that the path still names
    the locked file, and start again if it doesn't.
    """
    for _ in range(100):
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        _lock(fd, path)
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)
    raise UsageError(f"{path} keeps being replaced by another process; choose another --out")


#: How every line factkit writes starts: a line that starts so but isn't JSON is factkit's, cut short.
_RECORD_START = re.compile(rb'^\s*\{\s*"id"\s*:')


def _check_is_results_file(path: Path, data: bytes) -> None:
    """Refuse a file that holds anything but factkit records: it was not written by factkit."""
    lines = data.split(b"\n")
    tail = lines.pop()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError):  # a record cut short can only be factkit's if it starts like one
            obj, foreign = None, not _RECORD_START.match(line)
        else:  # valid JSON that is not a record (an input line, say) is never factkit's
            foreign = _record_key(obj) is None
        if foreign:
            raise UsageError(
                f"{path} line {number} is not a factkit record ({line[:40].decode('utf-8', 'replace')!r}...): "
                "factkit never rewrites a file it did not write; choose another --out"
            )
    try:
        tail_obj = json.loads(tail) if tail.strip() else None
    except (ValueError, RecursionError):
        tail_obj = None
    if tail.strip() and (not _RECORD_START.match(tail) or (tail_obj is not None and _record_key(tail_obj) is None)):
        raise UsageError(
            f"{path} ends with a line that is not a factkit record ({tail[:40].decode('utf-8', 'replace')!r}...): "
            "factkit never rewrites a file it did not write; choose another --out"
        )


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
        self.path = Path(os.path.realpath(self.path))  # a symlink's target is the results file, not the link
        if self.path.exists() and not stat.S_ISREG(self.path.stat().st_mode):
            raise UsageError(f"--out {self.path} is not a regular file (a folder or a device); name a file")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = _open_locked(self.path)
        except PermissionError:
            raise UsageError(f"--out {self.path}: permission denied; choose a place you can write to") from None
        except OSError as exc:
            raise UsageError(f"--out {self.path}: {exc.strerror or exc}; choose another file") from None
        try:
            data = self.path.read_bytes()
            _check_is_results_file(self.path, data)
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
            except (ValueError, RecursionError):
                obj = None
            key = _record_key(obj)
            if key is None:
                drops["invalid line"] += 1
                continue
            ok = bool(obj["ok"])
            if not ok and (self.retry_errors or str(obj["error"].get("type")) not in PERMANENT_ERRORS):
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
        mode = os.fstat(old_fd).st_mode & 0o777
        fd, name = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        tmp = Path(name)
        try:
            os.fchmod(fd, mode)
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
            try:
                _write_all(self._fd, data)
                self._written.add(key)
                self._unsynced = True
                if time.monotonic() - self._last_sync >= FSYNC_INTERVAL_S:
                    self._sync()
            except OSError as exc:
                raise _storage_error(self.path, exc) from None
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


def _storage_error(path: Path, exc: OSError) -> StorageError:
    full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
    fix = "free some disk space" if full else "fix that"
    return StorageError(
        f"could not write {path}: {exc.strerror or exc} ({'the disk is full' if full else f'errno {exc.errno}'}); "
        f"{fix}, then run the same command again: the records already written are kept and their articles skipped"
    )


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
