"""Predictions files: a recorded run that can be re-scored offline, without any model.

A predictions file is JSONL. Line 1 is the header, then one line per case (and per repeat)::

    {"factkit_recording": 1, "model": "...", "backend": "...", "prompt_version": "extract@5",
     "created": "2024-05-01T12:00:00+00:00", "factkit_version": "0.1.0", "fixtures": "evals", "cases": 13}
    {"case_id": "gum-news-clock", "text_sha256": "…", "repeat": 0, "latency_s": 4.2, "extraction": {…}}
    {"case_id": "gum-news-soccer", "text_sha256": "…", "repeat": 0, "latency_s": 1.0, "error": "OutputError: …"}

``extraction`` is the :class:`factkit.Extraction` JSON. Replaying checks each case's ``text_sha256``
against the fixture's article, so a changed fixture is never scored against stale predictions.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from factkit._errors import InputError
from factkit._models import Extraction

__all__ = ["RecordedCase", "Recording", "RecordingHeader", "is_recording", "read_recording", "text_sha256"]

RECORDING_KEY = "factkit_recording"
_USAGE_COMPUTED = ("prompt_tokens", "completion_tokens", "total_tokens")


def text_sha256(text: str) -> str:
    """SHA-256 of the article's UTF-8 bytes, hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class RecordingHeader(BaseModel):
    """The first line of a predictions file."""

    model_config = ConfigDict(extra="ignore")

    factkit_recording: int = 1
    model: str
    backend: str
    prompt_version: str
    created: str
    factkit_version: str
    fixtures: str | None = None
    cases: int = 0


class RecordedCase(BaseModel):
    """One case's recorded prediction (or error)."""

    model_config = ConfigDict(extra="forbid")

    case_id: str
    text_sha256: str
    repeat: int = 0
    latency_s: float = 0.0
    extraction: Extraction | None = None
    #: A case with a user schema: its ``CustomExtraction`` as JSON (read back with the case's schema on replay).
    custom: dict[str, Any] | None = None
    error: str | None = None


class Recording(BaseModel):
    """A whole predictions file."""

    header: RecordingHeader
    cases: list[RecordedCase]
    path: str | None = None

    def get(self, case_id: str, repeat: int = 0) -> RecordedCase | None:
        """The prediction for ``case_id`` in run ``repeat``, if recorded."""
        for case in self.cases:
            if case.case_id == case_id and case.repeat == repeat:
                return case
        return None

    @property
    def repeats(self) -> int:
        """How many runs the file holds."""
        return max((c.repeat for c in self.cases), default=0) + 1


def _dump_case(case: RecordedCase) -> str:
    data = case.model_dump(mode="json", exclude_none=True, exclude={"custom"})
    if case.custom is not None:  # kept whole: a user schema's null values must come back as they were
        data["custom"] = copy.deepcopy(case.custom)
    for part in ("extraction", "custom"):
        usage = (data.get(part) or {}).get("usage")
        if isinstance(usage, dict):
            for key in _USAGE_COMPUTED:  # computed fields: Usage would refuse them back as extra inputs
                usage.pop(key, None)
    return json.dumps(data, ensure_ascii=False, sort_keys=False)


def write_recording(path: str | os.PathLike[str], header: RecordingHeader, cases: Iterable[RecordedCase]) -> Path:
    """Write a predictions file atomically (a crash never leaves half a file)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(header.model_dump(mode="json"), ensure_ascii=False)]
    lines += [_dump_case(c) for c in cases]
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _first_line(path: Path) -> str:
    with path.open("r", encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if line.strip():
                return line
    return ""


def is_recording(path: str | os.PathLike[str]) -> bool:
    """True when the file is a predictions file (its first line is a recording header)."""
    try:
        record = json.loads(_first_line(Path(path)))
    except (OSError, json.JSONDecodeError):
        return False
    return isinstance(record, dict) and RECORDING_KEY in record


def _load_case(record: Any) -> RecordedCase:
    extraction = record.get("extraction") if isinstance(record, dict) else None
    usage = extraction.get("usage") if isinstance(extraction, dict) else None
    if isinstance(usage, dict):
        for key in _USAGE_COMPUTED:
            usage.pop(key, None)
    return RecordedCase.model_validate(record)


def read_recording(path: str | os.PathLike[str]) -> Recording:
    """Read a predictions file; :class:`InputError` names the file and line of any problem."""
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"cannot read the predictions file: {exc.strerror}", source=str(p)) from None
    except UnicodeDecodeError:
        raise InputError("the predictions file is not UTF-8", source=str(p)) from None
    numbered = [(n, line) for n, line in enumerate(lines, start=1) if line.strip()]
    if not numbered:
        raise InputError("the predictions file is empty", source=str(p))
    try:
        first = json.loads(numbered[0][1])
    except json.JSONDecodeError:
        first = None
    if not isinstance(first, dict) or RECORDING_KEY not in first:
        raise InputError(
            f"line {numbered[0][0]}: not a predictions file (no {RECORDING_KEY!r} header); record one with "
            "`factkit eval FIXTURES --record FILE`",
            source=str(p),
        )
    try:
        header = RecordingHeader.model_validate(first)
    except ValidationError as exc:
        raise InputError(f"line {numbered[0][0]}: bad header: {_first_error(exc)}", source=str(p)) from None
    cases: list[RecordedCase] = []
    for number, line in numbered[1:]:
        try:
            cases.append(_load_case(json.loads(line)))
        except json.JSONDecodeError as exc:
            raise InputError(f"line {number}: invalid JSON ({exc.msg})", source=str(p)) from None
        except ValidationError as exc:
            raise InputError(f"line {number}: {_first_error(exc)}", source=str(p)) from None
    return Recording(header=header, cases=cases, path=str(p))


def _first_error(exc: ValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    loc = ".".join(str(x) for x in err["loc"])
    return f"{loc}: {err['msg']}" if loc else str(err["msg"])
