"""A content-addressed on-disk cache of model calls (SQLite, WAL), safe for several processes at once.

The key hashes everything that decides the model's answer: backend, model, endpoint, sampling settings,
prompt version, response schema and the rendered messages (which hold the input text). API keys are never
part of a key or a value. The file is created readable by its owner only.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ._models import CallUsage


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


class CallCache:
    """``get``/``put`` of raw model output by key; one connection per thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            os.chmod(path.parent, 0o700)
        self._local = threading.local()
        if not path.exists():
            fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
            os.close(fd)
        with contextlib.suppress(OSError):
            os.chmod(path, 0o600)
        conn = self._conn()
        conn.execute(
            "CREATE TABLE IF NOT EXISTS calls (key TEXT PRIMARY KEY, output TEXT NOT NULL, usage TEXT NOT NULL,"
            " created REAL NOT NULL)"
        )

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
        return conn

    def get(self, key: str) -> tuple[str, CallUsage] | None:
        row = self._conn().execute("SELECT output, usage FROM calls WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        return row[0], CallUsage.model_validate_json(row[1])

    def put(self, key: str, output: str, usage: CallUsage) -> None:
        self._conn().execute(
            "INSERT OR REPLACE INTO calls (key, output, usage, created) VALUES (?, ?, ?, ?)",
            (key, output, usage.model_dump_json(), time.time()),
        )

    def __bool__(self) -> bool:
        return True  # a cache with no entries yet is still a cache (``if cache:`` must not call __len__)

    def __len__(self) -> int:
        return int(self._conn().execute("SELECT COUNT(*) FROM calls").fetchone()[0])

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
