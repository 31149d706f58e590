"""Batch inputs: files, folders, JSONL and Python items, read lazily, each with its id and sha256."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence, Sized
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .._errors import InputError, UsageError

if TYPE_CHECKING:
    pass

log = logging.getLogger("factkit")
R = TypeVar("R")

#: Longer inputs get an InputError record (raise it with ``max_input_chars`` / ``--max-input-chars``).
DEFAULT_MAX_INPUT_CHARS = 1_000_000
#: File suffixes taken from a folder.
TEXT_SUFFIXES = (".txt", ".md")


@dataclass(frozen=True)
class BatchInput:
    """One article for :meth:`Extractor.extract_many`: its text (or a file to read), an id, a date."""

    text: str | bytes | None = None
    id: str = ""
    published: Any = None
    source: str = ""
    path: Path | None = None
    #: Why the input is unusable before any reading (a JSONL line that isn't an object with "text").
    problem: str | None = None

    def load(self) -> str | bytes:
        if self.problem is not None:
            raise InputError(self.problem, source=self.source or None)
        if self.text is not None:
            return self.text
        if self.path is None:
            raise InputError("the input has neither text nor a path", source=self.source or None)
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            raise InputError("no such file; check the path", source=self.source or None) from None
        except IsADirectoryError:
            raise InputError("is a folder; pass a text file", source=self.source or None) from None
        except OSError as exc:
            raise InputError(f"cannot read it ({exc.strerror})", source=self.source or None) from None


# ---- inputs ---------------------------------------------------------------------------------------------


def sha256_of(data: str | bytes) -> str:
    raw = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")
    return hashlib.sha256(raw).hexdigest()


def _folder_files(folder: Path) -> tuple[list[Path], list[tuple[Path, str]]]:
    """The text files under ``folder`` (sorted, hidden ones skipped), and the folders that could not be read."""
    files: list[Path] = []
    unreadable: list[tuple[Path, str]] = []

    def failed(exc: OSError) -> None:
        unreadable.append((Path(exc.filename or folder), exc.strerror or str(exc)))

    for root, dirs, names in os.walk(folder, onerror=failed):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in names:
            p = Path(root) / name
            if not name.startswith(".") and p.suffix.lower() in TEXT_SUFFIXES and p.is_file():
                files.append(p)
    if not files and not unreadable:
        log.warning("factkit: %s holds no %s files", folder, " or ".join(f"*{s}" for s in TEXT_SUFFIXES))
    return sorted(files, key=lambda p: p.relative_to(folder).as_posix()), unreadable


def jsonl_count(path: Path) -> int:
    """Lines of a JSONL file; refuses ids used on two lines (they would share one record)."""
    count = 0
    lines_of: dict[str, list[int]] = {}
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            count += 1
            if b'"id"' not in line:
                continue
            try:
                obj = json.loads(line)
            except (ValueError, RecursionError):
                continue
            raw_id = obj.get("id") if isinstance(obj, dict) else None
            if isinstance(raw_id, str | int) and not isinstance(raw_id, bool):
                lines_of.setdefault(str(raw_id), []).append(number)
    repeated = {i: n for i, n in lines_of.items() if len(n) > 1}
    if repeated:
        shown = "; ".join(f"id {i!r} on lines {', '.join(map(str, n[:5]))}" for i, n in list(repeated.items())[:3])
        more = f" (and {len(repeated) - 3} more ids)" if len(repeated) > 3 else ""
        raise UsageError(
            f'{path}: {shown}{more}: each line needs its own id (7 and "7" are the same id); make them '
            "unique, or drop 'id' to use file:line"
        )
    return count


def _jsonl_inputs(path: Path, published: Any) -> Iterator[BatchInput]:
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, 1):
            if not raw.strip():
                continue
            source = f"{path}:{number}"
            yield _jsonl_item(raw, source, published)


def _jsonl_item(raw: bytes, source: str, published: Any) -> BatchInput:
    fallback_id = source
    try:
        obj = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        problem = f"the line is not JSON ({_short(str(exc))}); write one object per line with a 'text' string"
        return BatchInput(text=raw, id=fallback_id, source=source, problem=problem)
    if not isinstance(obj, dict):
        problem = f"the line is a JSON {type(obj).__name__}, not an object with a 'text' string"
        return BatchInput(text=raw, id=fallback_id, source=source, problem=problem)
    raw_id = obj.get("id")
    if raw_id is not None and not (isinstance(raw_id, str | int) and not isinstance(raw_id, bool)):
        problem = f"the line's 'id' is {json.dumps(raw_id)[:40]}; give a string (or an integer), or drop it"
        return BatchInput(text=raw, id=fallback_id, source=source, problem=problem)
    item_id = fallback_id if raw_id is None else str(raw_id)
    text = obj.get("text")
    if not isinstance(text, str):
        what = "has no 'text'" if text is None else f"has a 'text' that is a {type(text).__name__}, not a string"
        return BatchInput(text=raw, id=item_id, source=source, problem=f"the line {what}")
    return BatchInput(text=text, id=item_id, source=source, published=obj.get("published") or published)


def read_inputs(paths: Sequence[str | Path], *, published: Any = None) -> tuple[Iterator[BatchInput], int]:
    """The inputs named on a command line, lazily read, and how many there are.

    A folder gives every ``*.txt`` / ``*.md`` file inside it (recursively, sorted, hidden ones skipped; id =
    the path inside the folder); a ``*.jsonl`` file one input per non-empty line (``{"text", "id"?,
    "published"?}``; id = its "id", else ``file:line``); any other path one input (id = the path as given).
    A missing path is an input too: it ends as an error record.
    """
    parts: list[tuple[str, Any]] = []
    total = 0
    for given in paths:
        path = Path(given)
        if path.is_dir():
            files, unreadable = _folder_files(path)
            parts.append(("folder", (path, files, unreadable)))
            total += len(files) + len(unreadable)
        elif path.suffix.lower() == ".jsonl" and path.is_file():
            parts.append(("jsonl", path))
            total += jsonl_count(path)
        else:
            parts.append(("file", path))
            total += 1

    def generate() -> Iterator[BatchInput]:
        for kind, value in parts:
            if kind == "folder":
                folder, files, unreadable = value
                for f in files:
                    yield BatchInput(id=f.relative_to(folder).as_posix(), source=str(f), path=f, published=published)
                for where, why in unreadable:  # its articles can't be listed: one error record says so
                    rel = where.relative_to(folder).as_posix() if where.is_relative_to(folder) else str(where)
                    yield BatchInput(id=rel + "/", source=str(where), problem=f"cannot read this folder ({why})")
            elif kind == "jsonl":
                yield from _jsonl_inputs(value, published)
            else:
                yield BatchInput(id=str(value), source=str(value), path=value, published=published)

    return generate(), total


def as_input(item: Any, index: int, published: Any) -> BatchInput:
    """A caller's input as a :class:`BatchInput`: text, bytes, a path, a mapping with "text", or one already."""
    if isinstance(item, BatchInput):
        changes: dict[str, Any] = {}
        if not item.id:
            changes["id"] = str(index)
        if item.published is None and published is not None:
            changes["published"] = published
        return BatchInput(**{**item.__dict__, **changes}) if changes else item
    if isinstance(item, str | bytes | bytearray):
        return BatchInput(text=bytes(item) if isinstance(item, bytearray) else item, id=str(index), published=published)
    if isinstance(item, os.PathLike):
        path = Path(item)
        return BatchInput(path=path, id=str(path), source=str(path), published=published)
    if isinstance(item, Mapping):
        text = item.get("text")
        raw_id = item.get("id")
        item_id = str(raw_id) if raw_id is not None else str(index)
        if not isinstance(text, str | bytes):
            return BatchInput(id=item_id, problem="the input mapping has no 'text' string")
        return BatchInput(text=text, id=item_id, published=item.get("published") or published)
    return BatchInput(
        id=str(index), problem=f"an input must be text, bytes, a path or a mapping, not {type(item).__name__}"
    )


# ---- the budget -----------------------------------------------------------------------------------------


def _collect(inputs: Iterable[Any], published: Any) -> tuple[Iterator[BatchInput], int | None]:
    total = len(inputs) if isinstance(inputs, Sized) else None
    return (as_input(item, i, published) for i, item in enumerate(inputs)), total


def _short(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
