"""A content-addressed on-disk cache of model calls (SQLite, WAL), safe for several processes at once.

The key hashes everything that decides the model's answer: backend, model, endpoint, sampling settings,
prompt version, response schema and the rendered messages (which hold the input text). API keys are never
part of a key or a value. A folder factkit creates is readable by its owner only (0700), the database and its
WAL/SHM side files too (0600); a folder or file that exists already keeps the mode its owner gave it.

A cache that can't be used (a truncated or corrupt file, a read-only folder, a full disk) never stops an
extraction: factkit warns once and goes on without it.

Besides model calls, the file holds whole-article results for batch runs (``results``): derived data, keyed
by the article, every call's identity and the code that grounds them (see :mod:`factkit.batch`).

Several processes may read and write one cache file at once: SQLite's WAL mode lets readers run beside one
writer, and a busy timeout makes a second writer wait instead of failing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ._models import CallUsage

log = logging.getLogger("factkit")

#: Seconds a writer waits for another process's write to finish.
BUSY_TIMEOUT_S = 30.0


def cache_key(
    identity: dict[str, Any], prompt_id: str, response_model: type[BaseModel], messages: list[dict[str, str]]
) -> str:
    payload = {
        "identity": identity,
        "prompt": prompt_id,
        "schema": response_model.model_json_schema(),
        "messages": messages,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _private_file(path: Path) -> None:
    """Create ``path`` (if missing) readable and writable by its owner only; an existing file keeps its mode."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def private_folder(path: Path) -> None:
    """Create ``path`` and the folders above it that are missing, each 0700; existing ones keep their mode."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    path.mkdir(parents=True, exist_ok=True)
    for folder in missing:
        with contextlib.suppress(OSError):
            os.chmod(folder, 0o700)


def _use_wal(conn: sqlite3.Connection) -> None:
    """Switch the file to WAL (persistent, so once per file). The switch needs a moment of exclusivity, and
    SQLite reports "database is locked" at once, without its busy timeout, when another connection opens the
    same new file at that moment (threads of one process, or processes): so wait and try again."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


class CallCache:
    """``get``/``put`` of raw model output by key; one connection per thread. Never raises on a broken cache:
    the first failure is logged once and the cache is off from then on (``get`` finds nothing, ``put`` keeps
    nothing)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.broken: str | None = None
        self._local = threading.local()
        self._warn_lock = threading.Lock()
        try:
            private_folder(path.parent)
            # SQLite gives its -wal and -shm files the database file's permissions, so 0600 covers all three.
            _private_file(path)
            conn = self._conn()
            conn.execute(
                "CREATE TABLE IF NOT EXISTS calls (key TEXT PRIMARY KEY, output TEXT NOT NULL, usage TEXT NOT NULL,"
                " created REAL NOT NULL)"
            )
            conn.execute(
                "CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, output TEXT NOT NULL, created REAL)"
            )
        except (sqlite3.Error, OSError) as exc:
            self._fail(exc)

    def _fail(self, exc: BaseException) -> None:
        with self._warn_lock:
            if self.broken is None:
                self.broken = f"{type(exc).__name__}: {exc}"
                log.warning(
                    "factkit: the cache %s can't be used (%s); going on without it. Move it aside or set "
                    "FACTKIT_CACHE_DIR to a writable folder (FACTKIT_CACHE=0 turns it off)",
                    self.path,
                    self.broken,
                )

    def _run(self, sql: str, args: tuple[Any, ...] = ()) -> Any:
        """One statement, or ``None`` once the cache is broken."""
        if self.broken is not None:
            return None
        try:
            return self._conn().execute(sql, args).fetchone()
        except (sqlite3.Error, OSError, ValueError) as exc:
            self._fail(exc)
            return None

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            # ``timeout`` is SQLite's busy timeout: it applies to the pragmas below too, which matters when
            # several processes open a new file at once (switching to WAL needs a moment of exclusivity).
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
            _use_wal(conn)
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    def get(self, key: str) -> tuple[str, CallUsage] | None:
        row = self._run("SELECT output, usage FROM calls WHERE key = ?", (key,))
        if row is None:
            return None
        try:
            return str(row[0]), CallUsage.model_validate_json(row[1])
        except ValueError as exc:
            self._fail(exc)
            return None

    def put(self, key: str, output: str, usage: CallUsage) -> None:
        self._run(
            "INSERT OR REPLACE INTO calls (key, output, usage, created) VALUES (?, ?, ?, ?)",
            (key, output, usage.model_dump_json(), time.time()),
        )

    def get_result(self, key: str) -> str | None:
        """A whole-article result stored by :meth:`put_result`, or ``None``."""
        row = self._run("SELECT output FROM results WHERE key = ?", (key,))
        return None if row is None else str(row[0])

    def put_result(self, key: str, output: str) -> None:
        self._run("INSERT OR REPLACE INTO results (key, output, created) VALUES (?, ?, ?)", (key, output, time.time()))

    def __bool__(self) -> bool:
        return True  # an empty cache is still a cache: ``if cache:`` must not fall back on __len__

    def __len__(self) -> int:
        """Number of cached model calls (0 for a broken cache)."""
        row = self._run("SELECT COUNT(*) FROM calls")
        return 0 if row is None else int(row[0])

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
