"""Evaluation fixtures: hand-labelled (or converted) articles with their gold annotations.

A fixture file holds one or more :class:`Case` records, as YAML (one case, a list of cases, or
``{cases: [...]}``) or as JSONL (one case per line). :func:`load_cases` reads a file or a whole directory,
resolves ``text_path`` and checks that every gold span's ``text`` is exactly ``article[start:end]``.

Every problem is reported as a :class:`FixtureError` naming the file, the case and the field path, e.g.::

    evals/seed/x.yaml: case 'reuters-cambodia': entities[2].mentions[0].text: 'Trump' is not the article
    text at [120:125], which is 'Donal'; the text 'Trump' occurs at [126:131]. Fix start/end or the text.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from factkit._errors import InputError
from factkit._models import EntityType

__all__ = [
    "FIXTURE_SUFFIXES",
    "Case",
    "FixtureError",
    "GoldDate",
    "GoldEntity",
    "GoldFact",
    "GoldQuantity",
    "GoldQuote",
    "GoldSpan",
    "Provenance",
    "RefSummary",
    "case_schema",
    "dump_case_yaml",
    "load_cases",
]

FIXTURE_SUFFIXES = (".yaml", ".yml", ".jsonl")
_MAX_REPORTED = 8


class FixtureError(InputError):
    """A fixture file is unreadable or a case in it is invalid.

    ``source`` is the file, ``case`` the case id (or ``line N`` / ``case #N`` when the id is unknown) and
    ``field`` the dotted field path of the first problem, when there is one.
    """

    def __init__(
        self, message: str, *, source: str | None = None, case: str | None = None, field: str | None = None
    ) -> None:
        self.case = case
        self.field = field
        super().__init__(message, source=source)


# --------------------------------------------------------------------------------------------- models


class _Fixture(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GoldSpan(_Fixture):
    """A stretch of the article: ``article[start:end] == text`` (Python str indices)."""

    start: int = Field(ge=0, description="Offset of the first character, in Python str indices.")
    end: int = Field(ge=0, description="Offset one past the last character.")
    text: str = Field(description="Exactly article[start:end].")

    @model_validator(mode="after")
    def _ordered(self) -> GoldSpan:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}; swap them or fix the offsets")
        return self


class RefSummary(_Fixture):
    """A reference summary written by a person."""

    text: str = Field(min_length=1, description="The summary text.")
    author: str | None = Field(None, description="Who wrote it (a name or an anonymous label like human1).")


class GoldEntity(_Fixture):
    """A named entity of the article with every place it is mentioned."""

    name: str = Field(min_length=1, description="Canonical name (e.g. the Wikipedia title, readable form).")
    type: EntityType = Field(description="person, organization, location or other.")
    aliases: list[str] = Field(
        default_factory=list, description="Other names the article uses for it (proper-name mentions)."
    )
    mentions: list[GoldSpan] = Field(
        default_factory=list, description="Every mention span, in text order (may include pronouns)."
    )


class GoldFact(_Fixture):
    """A fact the article states, for recall scoring of extracted facts."""

    statement: str = Field(min_length=1, description="A self-contained statement, readable alone.")
    evidence: GoldSpan | None = Field(None, description="The article span that supports it.")
    key: bool = Field(False, description="True for the few facts a good extraction must not miss.")


class GoldQuote(GoldSpan):
    """Quoted speech: the span covers the quoted words, without the quotation marks."""

    speaker: str | None = Field(None, description="Who said it (an entity name), or None if unlabelled.")


class GoldQuantity(GoldSpan):
    """A number the article states, with what it counts or measures."""

    value: float = Field(description="The number as stated ('approximately 100' -> 100).")
    unit: str = Field(description="What is counted or measured: 'Cambodian citizens', 'USD', 'km'.")
    approximate: bool = Field(False, description="True when the text hedges: about, approximately, nearly.")
    unit_normalised: str | None = Field(
        None,
        description="The unit in factkit's vocabulary ('USD', 'percent', 'kilometer', 'citizen'); None: not labelled.",
    )
    bound: Literal["=", "~", ">", ">=", "<", "<="] | None = Field(
        None,
        description="'~' about, '>' more than, '>=' at least, '<' fewer than, '<=' up to, '='; None: not labelled.",
    )
    change: Literal["up", "down", "none"] | None = Field(
        None, description="'up' or 'down' for a change ('rose 19 per cent'), 'none' for a level; None: not labelled."
    )


class GoldDate(GoldSpan):
    """A date or time expression, normalised against the case's ``published`` date."""

    value: str | None = Field(
        None,
        description="ISO 8601 value: 2018-01-25, 2017-10, 2017, 197X (a decade), a range "
        "2017-07-10/2017-07-16, a time 15:11:00; None when the text fixes no value.",
    )

    @field_validator("value", mode="before")
    @classmethod
    def _iso(cls, value: Any) -> Any:
        # Unquoted YAML turns 2018-01-25 into a date and 2017 into an int: accept both as their ISO text.
        if isinstance(value, (date, datetime)):
            return value.isoformat()
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value


class Provenance(_Fixture):
    """Where the article and its labels come from, and under which licence."""

    source: str = Field(min_length=1, description="URL or citation of the article.")
    licence: str = Field(min_length=1, description="Licence of the text and of the annotations.")
    credit: str | None = Field(None, description="Attribution the licence asks for.")


class Case(_Fixture):
    """One evaluation case: an article and its gold labels.

    Exactly one of ``text`` and ``text_path`` is given in the file; after validation ``text`` is always
    the article (``text_path`` is read as UTF-8, relative to the fixture file's folder).
    """

    id: str = Field(
        min_length=1,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        description="Unique id across all fixtures: letters, digits, '.', '_', '-'.",
    )
    title: str | None = Field(None, description="The article's headline, if known.")
    published: date | None = Field(None, description="Publication date that relative dates resolve against.")
    provenance: Provenance = Field(description="Source, licence and credit of the article and labels.")
    metadata: dict[str, Any] = Field(default_factory=dict, description="Free-form extra information.")
    text_path: str | None = Field(
        None, description="Path of the article (UTF-8), relative to the fixture file; or give text."
    )
    text: str | None = Field(None, description="The article itself; or give text_path.")
    summaries: list[RefSummary] = Field(default_factory=list, description="Human reference summaries.")
    entities: list[GoldEntity] = Field(default_factory=list, description="Named entities with mentions.")
    facts: list[GoldFact] = Field(default_factory=list, description="Facts the article states.")
    quotes: list[GoldQuote] = Field(default_factory=list, description="Quoted speech with speakers.")
    quantities: list[GoldQuantity] = Field(default_factory=list, description="Numbers with units.")
    dates: list[GoldDate] = Field(default_factory=list, description="Date/time expressions, normalised.")
    schema_ref: str | None = Field(
        None,
        alias="schema",
        description="A user schema, module:Class (looked up beside the fixture first): the case is extracted with "
        "extract(text, schema=Class) and scored on the fields of `expected` alone.",
    )
    expected: dict[str, Any] = Field(
        default_factory=dict,
        description="The user schema's expected values, by field name (only the fields given are scored); an "
        "Evidence field's value is a gold span {start, end, text}.",
    )

    _schema: type[BaseModel] | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _resolve_and_check(self, info: ValidationInfo) -> Case:
        if (self.text is None) == (self.text_path is None):
            given = "both" if self.text is not None else "neither"
            raise ValueError(
                f"text/text_path: {given} given; give exactly one: the article inline as `text`, "
                "or its file as `text_path` (relative to the fixture file)"
            )
        if self.text is None:
            assert self.text_path is not None
            base = (info.context or {}).get("base_dir") if info is not None else None
            self.text = _read_article(Path(self.text_path), Path(base) if base else None)
        problems = list(_span_problems(self))
        if self.schema_ref is not None or self.expected:
            problems += _schema_problems(self, info)
        if problems:
            shown = problems[:_MAX_REPORTED]
            more = len(problems) - len(shown)
            raise ValueError("\n".join(shown) + (f"\n... and {more} more span problems" if more else ""))
        return self

    @property
    def article(self) -> str:
        """The article text (always set once the case is validated)."""
        assert self.text is not None
        return self.text

    def spans(self) -> Iterator[tuple[str, GoldSpan]]:
        """Every gold span with its field path, e.g. ``('entities[0].mentions[3]', span)``."""
        for i, entity in enumerate(self.entities):
            for j, mention in enumerate(entity.mentions):
                yield f"entities[{i}].mentions[{j}]", mention
        for i, fact in enumerate(self.facts):
            if fact.evidence is not None:
                yield f"facts[{i}].evidence", fact.evidence
        for name, items in (("quotes", self.quotes), ("quantities", self.quantities), ("dates", self.dates)):
            for i, item in enumerate(items):
                yield f"{name}[{i}]", item


def _schema_problems(case: Case, info: ValidationInfo | None) -> list[str]:
    from ._schema import expected_problems, import_schema

    if case.schema_ref is None:
        return ["expected: given without a schema; name the schema as `schema: module:Class`"]
    if not case.expected:
        return [f"expected: none given; give the values {case.schema_ref} should be filled with, by field name"]
    base = (info.context or {}).get("base_dir") if info is not None else None
    try:
        schema = import_schema(case.schema_ref, Path(base) if base else None)
    except ValueError as exc:
        return [str(exc)]
    case._schema = schema
    return list(expected_problems(schema, case.expected, case.article))


def case_schema(case: Case) -> type[BaseModel] | None:
    """The user schema a case is scored on (``None`` for a case of factkit's own schema)."""
    return case._schema


def _read_article(path: Path, base: Path | None) -> str:
    full = path if path.is_absolute() or base is None else base / path
    try:
        data = full.read_bytes()
    except OSError as exc:
        raise ValueError(
            f"text_path: cannot read {str(path)!r} (looked for {str(full)!r}: {exc.strerror}); "
            "the path is relative to the fixture file's folder"
        ) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"text_path: {str(path)!r} is not UTF-8 (byte {exc.start}); re-save the article as UTF-8"
        ) from None


def _span_problems(case: Case) -> Iterator[str]:
    article = case.article
    for where, span in case.spans():
        if span.end > len(article):
            yield (
                f"{where}.end: {span.end} is past the end of the article ({len(article)} characters); fix the offsets"
            )
            continue
        actual = article[span.start : span.end]
        if actual == span.text:
            continue
        hint = ""
        if span.text:
            found = article.find(span.text)
            if found >= 0:
                hint = f"; the text {_short(span.text)} occurs at [{found}:{found + len(span.text)}]"
            else:
                hint = f"; the text {_short(span.text)} does not occur in the article at all"
        yield (
            f"{where}.text: {_short(span.text)} is not the article text at [{span.start}:{span.end}], "
            f"which is {_short(actual)}{hint}. Fix start/end or the text"
        )


def _short(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


# --------------------------------------------------------------------------------------------- loading


def load_cases(path: str | os.PathLike[str]) -> list[Case]:
    """Load every case from a fixture file or directory.

    ``path`` is a directory (every ``*.yaml``, ``*.yml`` and ``*.jsonl`` inside it, recursively, in sorted
    order; predictions files recorded by ``factkit eval --record`` are skipped), a YAML file (one case
    mapping, a list of cases, or ``{cases: [...]}``) or a JSONL file (one case per line). Raises
    :class:`FixtureError` for any problem, duplicate ids across files included.
    """
    root = Path(path)
    if root.is_dir():
        files = sorted(
            (
                p
                for p in root.rglob("*")
                if p.is_file() and p.suffix.lower() in FIXTURE_SUFFIXES and not _is_recording(p)
            ),
            key=lambda p: p.relative_to(root).as_posix(),
        )
        if not files:
            raise FixtureError(
                "no fixture files (*.yaml, *.yml, *.jsonl) in this directory; point at a fixture "
                "file or a folder that holds some",
                source=str(root),
            )
    elif root.is_file():
        files = [root]
    else:
        raise FixtureError("no such file or directory; check the path", source=str(root))

    cases: list[Case] = []
    seen: dict[str, str] = {}
    for file in files:
        for case, where in _load_file(file):
            if case.id in seen:
                raise FixtureError(
                    f"{where}: id {case.id!r} is already used by a case in {seen[case.id]}; "
                    "case ids must be unique across all fixtures: rename one",
                    source=str(file),
                    case=case.id,
                    field="id",
                )
            seen[case.id] = str(file)
            cases.append(case)
    return cases


def _is_recording(file: Path) -> bool:
    """A predictions file of ``factkit eval --record`` (header key ``factkit_recording``), not fixtures;
    skipped when loading a directory so recordings can live next to the fixtures (``evals/recorded/``)."""
    if file.suffix.lower() != ".jsonl":
        return False
    try:
        with file.open("r", encoding="utf-8", errors="replace") as fh:
            first = next((line for line in fh if line.strip()), "")
        record = json.loads(first)
    except (OSError, json.JSONDecodeError):
        return False
    return isinstance(record, dict) and "factkit_recording" in record


def _load_file(file: Path) -> Iterator[tuple[Case, str]]:
    suffix = file.suffix.lower()
    if suffix == ".jsonl":
        raw = list(_jsonl_records(file))
    elif suffix in (".yaml", ".yml"):
        raw = list(_yaml_records(file))
    else:
        raise FixtureError(f"unknown fixture format {suffix!r}; use .yaml, .yml or .jsonl", source=str(file))
    for record, label in raw:
        yield _validate(record, file, label), _describe(record, label)


def _read_text(file: Path) -> str:
    try:
        return file.read_bytes().decode("utf-8")
    except OSError as exc:
        raise FixtureError(f"cannot read the file: {exc.strerror}", source=str(file)) from None
    except UnicodeDecodeError as exc:
        raise FixtureError(f"the file is not UTF-8 (byte {exc.start}); re-save it as UTF-8", source=str(file)) from None


def _jsonl_records(file: Path) -> Iterator[tuple[Any, str]]:
    lines = _read_text(file).splitlines()
    found = False
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        found = True
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise FixtureError(
                f"line {number}: invalid JSON at column {exc.colno}: {exc.msg}; each line must hold one "
                "case as a JSON object",
                source=str(file),
                case=f"line {number}",
            ) from None
        yield record, f"line {number}"
    if not found:
        raise FixtureError("the file holds no cases; add one JSON object per line", source=str(file))


def _yaml_records(file: Path) -> Iterator[tuple[Any, str]]:
    try:
        data = yaml.safe_load(_read_text(file))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        context = getattr(exc, "context", None)
        detail = f"{problem} ({context})" if context else problem
        raise FixtureError(
            f"invalid YAML: {where}{detail}; fix the syntax (quote strings that contain ': ' or start "
            "with a special character)",
            source=str(file),
        ) from None
    if data is None:
        raise FixtureError(
            "the file is empty; write one case mapping, a list of cases or {cases: [...]}", source=str(file)
        )
    if isinstance(data, dict) and "cases" in data:
        others = sorted(str(k) for k in data if k != "cases")
        if others:
            raise FixtureError(
                f"unknown top-level key(s) {', '.join(others)} next to `cases`; a file is one case "
                "mapping, a list of cases or {cases: [...]}",
                source=str(file),
            )
        data = data["cases"]
        if not isinstance(data, list):
            raise FixtureError("`cases` must be a list of case mappings", source=str(file))
    if isinstance(data, dict):
        yield data, "case #1"
    elif isinstance(data, list):
        if not data:
            raise FixtureError("the file holds an empty list of cases; add at least one", source=str(file))
        for index, record in enumerate(data, start=1):
            yield record, f"case #{index}"
    else:
        raise FixtureError(
            f"the file holds a {type(data).__name__}, not a case; write one case mapping, a list of cases "
            "or {cases: [...]}",
            source=str(file),
        )


def _describe(record: Any, label: str) -> str:
    """``case 'id'`` (with the line number for JSONL), or the position when the id is unusable."""
    case_id = record.get("id") if isinstance(record, dict) else None
    if isinstance(case_id, str) and case_id:
        return f"case {case_id!r} ({label})" if label.startswith("line") else f"case {case_id!r}"
    return label


def _validate(record: Any, file: Path, label: str) -> Case:
    where = _describe(record, label)
    case_id = record.get("id") if isinstance(record, dict) else None
    case_name = case_id if isinstance(case_id, str) and case_id else label
    if not isinstance(record, dict):
        raise FixtureError(
            f"{where}: expected a mapping of case fields, got a {type(record).__name__}",
            source=str(file),
            case=case_name,
        )
    try:
        return Case.model_validate(record, context={"base_dir": str(file.parent)})
    except ValidationError as exc:
        lines, hidden, first_field = _explain(exc)
        shown = lines[:_MAX_REPORTED]
        hidden += len(lines) - len(shown)
        more = f"\n  ... and {hidden} more problems" if hidden else ""
        body = " " + shown[0] if len(shown) == 1 and not more else "\n  " + "\n  ".join(shown)
        raise FixtureError(f"{where}:{body}{more}", source=str(file), case=case_name, field=first_field) from None


def _explain(exc: ValidationError) -> tuple[list[str], int, str | None]:
    """One line per problem, the count of problems left unsaid, and the field path of the first."""
    lines: list[str] = []
    hidden = 0
    first_field: str | None = None
    for error in exc.errors(include_url=False):
        loc = _loc(error["loc"])
        kind = error["type"]
        message = str(error["msg"])
        if message.startswith(("Value error, ", "Assertion failed, ")):
            message = message.split(", ", 1)[1]
        if kind == "missing":
            text = f"{loc}: required field is missing; add it"
        elif kind == "extra_forbidden":
            allowed = ", ".join(_allowed_fields(error["loc"]))
            text = f"{loc}: unknown field; remove it or fix its spelling (allowed: {allowed})"
        elif not loc:
            # Case-level checks name their own field paths, one problem per line.
            for part in message.splitlines():
                more = re.fullmatch(r"\.\.\. and (\d+) more span problems", part)
                if more:
                    hidden += int(more.group(1))
                    continue
                lines.append(part)
                if first_field is None and ":" in part:
                    first_field = part.split(":", 1)[0]
            continue
        else:
            got = repr(error["input"]) if "input" in error else ""
            got = got if len(got) <= 40 else got[:37] + "..."
            hint = "; write it as a quoted string" if kind == "string_type" else ""
            text = f"{loc}: {message}" + (f" (got {got})" if got else "") + hint
        if first_field is None:
            first_field = loc or None
        lines.append(text)
    if not lines:  # pragma: no cover - pydantic always reports at least one error
        lines.append(str(exc).splitlines()[0])
    return lines, hidden, first_field


def _loc(loc: Iterable[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


_MODELS_BY_FIELD: dict[str, type[BaseModel]] = {
    "provenance": Provenance,
    "summaries": RefSummary,
    "entities": GoldEntity,
    "mentions": GoldSpan,
    "facts": GoldFact,
    "evidence": GoldSpan,
    "quotes": GoldQuote,
    "quantities": GoldQuantity,
    "dates": GoldDate,
}


def _allowed_fields(loc: Iterable[int | str]) -> list[str]:
    """The field names allowed where an unknown field sits (``loc`` ends with the unknown name)."""
    parts = [p for p in list(loc)[:-1] if isinstance(p, str)]
    model: type[BaseModel] = _MODELS_BY_FIELD.get(parts[-1], Case) if parts else Case
    return list(model.model_fields)


# --------------------------------------------------------------------------------------------- writing


class _FlowMap(dict[str, Any]):
    """A small mapping written on one line: ``{start: 3, end: 8, text: Trump}``."""


class _Dumper(yaml.SafeDumper):
    pass


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    # Block literal (|-) for multi-line text; PyYAML falls back to quoting when a literal cannot hold the
    # string exactly (trailing spaces, special characters), so the text always round-trips.
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _represent_flow(dumper: yaml.SafeDumper, value: _FlowMap) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", value, flow_style=True)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(_FlowMap, _represent_flow)


def _flowify(value: Any) -> Any:
    if isinstance(value, dict):
        items = {k: _flowify(v) for k, v in value.items()}
        leaf = all(not isinstance(v, (dict, list)) and not (isinstance(v, str) and "\n" in v) for v in items.values())
        if leaf and "start" in items and "end" in items:
            return _FlowMap(items)
        return items
    if isinstance(value, list):
        return [_flowify(v) for v in value]
    return value


def dump_case_yaml(case: Case | Mapping[str, Any]) -> str:
    """A case as YAML, as the shipped fixtures are written.

    Multi-line strings use block literals; spans are written one per line as flow mappings. For a
    :class:`Case` loaded from ``text_path`` the inline ``text`` is left out (and vice versa).
    """
    if isinstance(case, Case):
        exclude = {"text"} if case.text_path is not None else {"text_path"}
        if case.schema_ref is None:
            exclude |= {"schema_ref", "expected"}
        data: Any = case.model_dump(mode="json", exclude=exclude, by_alias=True)
    else:
        data = dict(case)
    return yaml.dump(_flowify(data), Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100_000, indent=2)
