"""Scoring a user schema's fields: a fixture names the schema and gives the expected values.

A case with ``schema: module:Class`` is extracted with ``extract(text, schema=Class)`` and scored field by
field against its ``expected`` values (only the fields it gives). The matcher follows the field's type:

==================  ============================================================================================
field type          score (0..1)
==================  ============================================================================================
``str``             1 when equal after normalising (case, accents, punctuation, a leading "the"), else their
                    similarity (``--matcher``: by default the F1 of their content words, SQuAD-style partial
                    credit; ``embeddings``: cosine similarity)
``int``/``float``   1 when within :data:`NUMBER_TOLERANCE` (relative) of the expected number, else 0
``bool``, enums,    1 when equal, else 0
``Literal``
``date``            1 when the same date (or date-time) value, else 0
``Evidence``        the character F1 of the predicted span against the gold span (a list of gold spans for
                    one ``Evidence`` lists alternatives: the best counts); and, as
                    ``<field>.supports``, 1 when the evidence's sentences state the text fields beside it
                    (at least :data:`~factkit._custom.EVIDENCE_FLOOR` of their content words), else 0
``list[...]``       F1 of a one-to-one matching of the items (a pair matches when its item score is at least
                    :data:`ITEM_MATCH`); a list of ``Evidence`` is scored as one set of characters
nested model        each of its expected fields, as ``<field>.<subfield>``
``None`` expected   1 when the prediction is None or empty, else 0
==================  ============================================================================================

A case's ``schema_score`` is the mean of its field scores; a failed extraction scores 0 on every field.
"""

from __future__ import annotations

import enum
import importlib
import math
import sys
import types
import typing
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, Union

from pydantic import BaseModel, TypeAdapter, ValidationError

from factkit._custom import EVIDENCE_FLOOR, _sentences_around
from factkit._document import Document
from factkit._grounding import content_words, overlap
from factkit._models import Evidence

from ._assign import assign
from ._fixtures import Case, case_schema
from ._matchers import Similarity
from ._scores import FieldScore
from ._text import lexical_similarity, norm_name

__all__ = [
    "ITEM_MATCH",
    "NUMBER_TOLERANCE",
    "expected_problems",
    "import_schema",
    "schema_names",
    "score_fields",
]

#: Numbers within this share of the expected value (relative; absolute for an expected 0) are right.
NUMBER_TOLERANCE = 0.01
#: Two list items pair up when their score is at least this.
ITEM_MATCH = 0.5


# ------------------------------------------------------------------------------------------- the schema


def import_schema(spec: str, base_dir: Path | None = None) -> type[BaseModel]:
    """``module:Class`` -> the class. The module is looked up in ``base_dir`` (the fixture's folder) first, then
    in the current directory, then on the usual path. Raises ``ValueError`` with what to fix."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ValueError(f"schema: {spec!r} is not module:Class; write it e.g. as mypkg.models:Ruling")
    beside = _beside(base_dir, module_name)
    extra = [str(p) for p in (base_dir, Path.cwd()) if p is not None]
    sys.path[:0] = extra
    try:
        module = _load_file(beside, module_name) if beside is not None else importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise ValueError(
            f"schema: cannot import {module_name!r} ({exc}); put it beside the fixture, in the current folder, or "
            "install it"
        ) from None
    except Exception as exc:  # the module itself failing
        raise ValueError(f"schema: importing {module_name!r} failed: {type(exc).__name__}: {exc}") from None
    finally:
        del sys.path[: len(extra)]
    schema = getattr(module, attr, None)
    if not (isinstance(schema, type) and issubclass(schema, BaseModel)):
        raise ValueError(f"schema: {attr!r} is not a pydantic BaseModel class in {module_name}")
    return schema


def _beside(base_dir: Path | None, module_name: str) -> Path | None:
    if base_dir is None:
        return None
    path = base_dir.joinpath(*module_name.split(".")).with_suffix(".py")
    return path if path.is_file() else None


def _load_file(path: Path, module_name: str) -> Any:
    """The module of the file beside a fixture, under a name of its own: two fixtures' ``models.py`` in two folders
    are two modules, and a module of the same name imported elsewhere does not shadow it."""
    import hashlib
    import importlib.util

    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
    unique = f"factkit_fixture_{digest}_{module_name.replace('.', '_')}"
    if unique in sys.modules:
        return sys.modules[unique]
    spec = importlib.util.spec_from_file_location(unique, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[unique] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[unique]
        raise
    return module


def _options(tp: Any) -> tuple[Any, bool]:
    """``X | None`` -> (X, True); anything else -> (tp, False)."""
    if typing.get_origin(tp) in (Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(args) < len(typing.get_args(tp)):
            return args[0], True
    return tp, False


def _is_model(tp: Any) -> bool:
    """A nested model scored field by field (an Evidence is scored as a span)."""
    return isinstance(tp, type) and issubclass(tp, BaseModel) and not issubclass(tp, Evidence)


def _is_evidence(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, Evidence)


def _list_item(tp: Any) -> Any | None:
    if typing.get_origin(tp) in (list, typing.List, set, frozenset, tuple):  # noqa: UP006
        args = typing.get_args(tp)
        return args[0] if args else Any
    return None


def expected_problems(schema: type[BaseModel], expected: dict[str, Any], article: str) -> Iterator[str]:
    """What is wrong with a fixture's ``expected`` values for ``schema``: unknown fields, values the field's type
    refuses, and gold evidence that is not ``article[start:end]``. Each problem names its field path."""
    yield from _problems(schema, expected, article, "expected")


def _problems(schema: type[BaseModel], expected: Any, article: str, path: str) -> Iterator[str]:
    if not isinstance(expected, dict):
        yield f"{path}: give the expected values of {schema.__name__} as a mapping of field name to value"
        return
    fields = schema.model_fields
    for name, value in expected.items():
        where = f"{path}.{name}"
        if name not in fields:
            yield f"{where}: {schema.__name__} has no field {name!r}; its fields: {', '.join(fields)}"
            continue
        yield from _value_problems(fields[name].annotation, value, article, where)


def _value_problems(tp: Any, value: Any, article: str, where: str) -> Iterator[str]:
    inner, optional = _options(tp)
    if value is None:
        if not optional:
            yield f"{where}: null, but the field is not optional"
        return
    item = _list_item(inner)
    if item is not None:
        if not isinstance(value, list):
            yield f"{where}: give a list"
            return
        for i, v in enumerate(value):
            yield from _value_problems(item, v, article, f"{where}[{i}]")
        return
    if _is_evidence(inner) and isinstance(value, list):  # alternatives: any of these spans is right
        if not value:
            yield f"{where}: an empty list of alternatives; give one gold span or more, or null"
        for i, v in enumerate(value):
            yield from _value_problems(inner, v, article, f"{where}[{i}]")
        return
    if _is_evidence(inner):
        if not (isinstance(value, dict) and {"start", "end", "text"} <= set(value)):
            yield f"{where}: give the gold evidence as {{start, end, text}} with text == article[start:end]"
            return
        start, end, text = value["start"], value["end"], value["text"]
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start <= end <= len(article)):
            yield f"{where}: start/end {start!r}/{end!r} are not offsets into the article ({len(article)} characters)"
        elif article[start:end] != text:
            found = article.find(str(text))
            hint = f"; the text occurs at [{found}:{found + len(str(text))}]" if found >= 0 else ""
            yield (
                f"{where}.text: {str(text)[:60]!r} is not the article text at [{start}:{end}]{hint}. "
                "Fix start/end or the text."
            )
        return
    if _is_model(inner):
        yield from _problems(inner, value, article, where)
        return
    try:
        TypeAdapter(inner).validate_python(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        yield f"{where}: {value!r} is not a valid {getattr(inner, '__name__', inner)} ({first['msg']})"


# ------------------------------------------------------------------------------------------- the scores


def _text_score(expected: Any, predicted: Any, similarity: Similarity) -> float:
    e, p = str(expected), str(predicted)
    if norm_name(e) == norm_name(p):
        return 1.0
    return round(max(0.0, min(1.0, similarity([e], [p])[0][0])), 4)


def _number_score(expected: Any, predicted: Any, tolerance: float = NUMBER_TOLERANCE) -> float:
    try:
        e, p = float(expected), float(predicted)
    except (TypeError, ValueError):
        return 0.0
    if not (math.isfinite(e) and math.isfinite(p)):
        return 1.0 if e == p else 0.0
    return 1.0 if abs(e - p) <= tolerance * max(abs(e), 1e-9 if e else 1.0) else 0.0


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return value


def _scalar(tp: Any, expected: Any, predicted: Any, similarity: Similarity) -> tuple[float, str]:
    """Score and matcher name of one scalar value of type ``tp``."""
    if tp is bool:
        return (1.0 if bool(expected) == bool(predicted) and isinstance(predicted, bool) else 0.0), "exact"
    if tp is int or (isinstance(tp, type) and issubclass(tp, int) and not issubclass(tp, enum.Enum | bool)):
        return (1.0 if _number_score(expected, predicted, tolerance=0.0) else 0.0), "exact"
    if tp is float or tp is Decimal or (isinstance(tp, type) and issubclass(tp, float)):
        return _number_score(expected, predicted), "number"
    if isinstance(tp, type) and issubclass(tp, date | datetime):
        adapter = TypeAdapter(tp)
        try:
            same = adapter.validate_python(expected) == adapter.validate_python(predicted)
        except ValidationError:
            same = False
        return (1.0 if same else 0.0), "date"
    if (isinstance(tp, type) and issubclass(tp, enum.Enum)) or typing.get_origin(tp) is Literal:
        return (1.0 if _plain(expected) == _plain(predicted) else 0.0), "exact"
    if tp is str or (isinstance(tp, type) and issubclass(tp, str)):
        return _text_score(expected, predicted, similarity), "text"
    return (1.0 if _plain(expected) == _plain(predicted) else 0.0), "exact"


def _spans(value: Any) -> list[tuple[int, int]]:
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        data = item.model_dump() if isinstance(item, BaseModel) else item
        if isinstance(data, dict) and isinstance(data.get("start"), int) and isinstance(data.get("end"), int):
            out.append((data["start"], data["end"]))
    return out


def _span_f1(expected: Any, predicted: Any) -> float:
    gold = {i for s, e in _spans(expected) for i in range(s, e)}
    pred = {i for s, e in _spans(predicted) for i in range(s, e)}
    common = len(gold & pred)
    if not gold and not pred:
        return 1.0
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(gold)
    return round(2 * precision * recall / (precision + recall), 4)


def _supports(predicted: Any, stated: str, article: str) -> float:
    """1 when the sentences the predicted evidence touches hold at least EVIDENCE_FLOOR of ``stated``'s words."""
    spans = _spans(predicted)
    if not spans:
        return 0.0
    doc = Document.from_text(article)
    around = " ".join(_sentences_around(doc, start, end) for start, end in spans)
    return 1.0 if overlap(stated, around) >= EVIDENCE_FLOOR else 0.0


def _validated(tp: Any, value: Any) -> Any:
    """The expected value as the field's type reads it ('false' -> False for a bool, '2' -> 2 for an IntEnum)."""
    try:
        return TypeAdapter(tp).validate_python(value)
    except (ValidationError, TypeError, ValueError):
        return value


def _value_score(tp: Any, expected: Any, predicted: Any, similarity: Similarity) -> tuple[float, str]:
    """The score of one (non-model) value against its expected value, and the matcher used."""
    inner, _ = _options(tp)
    if expected is not None and not _is_evidence(inner) and not _is_model(inner) and _list_item(inner) is None:
        expected = _validated(inner, expected)
    if expected is None:
        empty = predicted is None or predicted == [] or predicted == ""
        return (1.0 if empty else 0.0), "none"
    if predicted is None:
        return 0.0, "missing"
    item = _list_item(inner)
    if item is not None:
        if _is_evidence(_options(item)[0]):
            return _span_f1(expected, predicted), "evidence"
        return _list_score(item, list(expected), list(predicted), similarity), "set"
    if _is_evidence(inner):  # a list of gold spans for one Evidence: alternatives, the best one counts
        alternatives = expected if isinstance(expected, list) else [expected]
        return max(_span_f1(alt, predicted) for alt in alternatives), "evidence"
    if _is_model(inner):
        scores = [s.score for s in _model_scores(inner, expected, predicted, "", "", similarity).values()]
        return (round(sum(scores) / len(scores), 4) if scores else 1.0), "fields"
    return _scalar(inner, expected, predicted, similarity)


def _list_score(item: Any, expected: list[Any], predicted: list[Any], similarity: Similarity) -> float:
    if not expected and not predicted:
        return 1.0
    if not expected or not predicted:
        return 0.0
    matrix: list[list[float | None]] = []
    for e in expected:
        row: list[float | None] = []
        for p in predicted:
            s, _ = _value_score(item, e, p, similarity)
            row.append(s if s >= ITEM_MATCH else None)
        matrix.append(row)
    tp = sum(score for _, _, score in assign(matrix))  # a pair counts by its score: "Dana Carney" is half right
    precision, recall = tp / len(predicted), tp / len(expected)
    return round(2 * precision * recall / (precision + recall), 4) if tp else 0.0


def _get(predicted: Any, name: str) -> Any:
    if predicted is None:
        return None
    if isinstance(predicted, dict):
        return predicted.get(name)
    return getattr(predicted, name, None)


def _model_scores(
    schema: type[BaseModel], expected: dict[str, Any], predicted: Any, prefix: str, article: str, similarity: Similarity
) -> dict[str, FieldScore]:
    out: dict[str, FieldScore] = {}
    fields = schema.model_fields
    stated = " ".join(str(v) for n, v in ((n, _get(predicted, n)) for n in fields) if isinstance(v, str) and v)
    for name, value in expected.items():
        tp = fields[name].annotation
        got = _get(predicted, name)
        path = f"{prefix}{name}"
        inner, _ = _options(tp)
        if _is_model(inner) and isinstance(value, dict):
            out.update(_model_scores(inner, value, got, f"{path}.", article, similarity))
            continue
        score, matcher = _value_score(tp, value, got, similarity)
        out[path] = FieldScore(score=score, matcher=matcher, expected=_plain(value), predicted=_plain(got))
        if _has_supports(tp, value) and len(content_words(stated)) >= 2:
            # no evidence predicted where some is expected: it supports nothing
            supports = _supports(got, stated, article) if _spans(got) else 0.0
            out[f"{path}.supports"] = FieldScore(
                score=supports, matcher="supports", expected=None, predicted={"stated": stated, "evidence": _plain(got)}
            )
    return out


def _has_supports(tp: Any, expected: Any) -> bool:
    """An Evidence field (or a list of them) with gold evidence gets a ``.supports`` score."""
    inner, _ = _options(tp)
    item = _list_item(inner)
    evidence = _is_evidence(inner) or (item is not None and _is_evidence(_options(item)[0]))
    return evidence and bool(expected)


def score_fields(
    schema: type[BaseModel],
    expected: dict[str, Any],
    predicted: BaseModel | None,
    article: str,
    *,
    similarity: Similarity = lexical_similarity,
) -> dict[str, FieldScore]:
    """Every expected field's score (see the module's table), by dotted path; ``predicted=None`` (a failed
    extraction) scores 0 on every field. ``similarity`` scores text that is not equal (``--matcher``)."""
    if predicted is None:
        out: dict[str, FieldScore] = {}
        for path, tp, value in _typed_paths(schema, expected, ""):
            out[path] = FieldScore(score=0.0, matcher="failed", expected=_plain(value))
            if _has_supports(tp, value):
                out[f"{path}.supports"] = FieldScore(score=0.0, matcher="failed")
        return out
    return _model_scores(schema, expected, predicted, "", article, similarity)


def _typed_paths(schema: type[BaseModel], expected: dict[str, Any], prefix: str) -> Iterator[tuple[str, Any, Any]]:
    for name, value in expected.items():
        inner, _ = _options(schema.model_fields[name].annotation)
        if _is_model(inner) and isinstance(value, dict):
            yield from _typed_paths(inner, value, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", inner, value


def schema_names(cases: Iterable[Case]) -> list[str]:
    """The metric names the user-schema cases among ``cases`` can give (for checking gates before a run)."""
    names: set[str] = set()
    for case in cases:
        schema = case_schema(case)
        if schema is None:
            continue
        names.add("schema.score")
        for path, tp, _ in _typed_paths(schema, case.expected, ""):
            names.add(f"schema.{schema.__name__}.{path}")
            if _has_supports(tp, True):
                names.add(f"schema.{schema.__name__}.{path}.supports")
    return sorted(names)
