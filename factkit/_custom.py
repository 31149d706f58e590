"""User schemas: any field typed :class:`~factkit.Evidence` is asked as an exact quote and grounded.

The model sees a derived *wire* model in which every ``Evidence`` becomes a string (an exact quote).
After validation each quote is located in the source; a list item whose evidence can't be found is
dropped into ``rejected``, an optional field's becomes ``None`` (and goes to ``rejected`` too); a required
evidence that can't be found fails the call.
"""

from __future__ import annotations

import functools
import types
import typing
from typing import Any, Union

from pydantic import BaseModel, Field, create_model

from ._document import Document
from ._errors import UsageError
from ._grounding import best_sentence, content_words, locate, overlap
from ._models import Evidence, Rejected
from ._wire import _Grounded

QUOTE_DESCRIPTION = "An exact quote from the article, copied word for word (a short sentence or phrase)."


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _mentions_evidence(tp: Any, seen: set[type] | None = None) -> bool:
    seen = seen or set()
    if tp is Evidence:
        return True
    if _is_model(tp):
        if tp in seen:
            return False
        seen.add(tp)
        return any(_mentions_evidence(f.annotation, seen) for f in tp.model_fields.values())
    return any(_mentions_evidence(a, seen) for a in typing.get_args(tp))


def _is_quote(tp: Any) -> bool:
    """``Evidence``, ``Evidence | None`` or ``list[Evidence]``: a field the model fills with exact quotes."""
    if tp is Evidence:
        return True
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (list, typing.List):  # noqa: UP006
        return bool(args) and args[0] is Evidence
    if origin in (Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        return len(options) == 1 and _is_quote(options[0])
    return False


def _wire_type(tp: Any) -> Any:
    if tp is Evidence:
        return str
    if _is_model(tp):
        return wire_model_for(tp, root=False) if _mentions_evidence(tp) else tp
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (list, typing.List):  # noqa: UP006
        return list[_wire_type(args[0])]  # type: ignore[misc]
    if origin in (Union, types.UnionType):
        mapped = tuple(_wire_type(a) for a in args)
        return functools.reduce(lambda a, b: a | b, mapped)
    if origin is not None and any(_mentions_evidence(a) for a in args):
        raise UsageError(f"factkit grounds Evidence in plain fields, lists and optionals, not in {tp!r}")
    return tp


@functools.lru_cache(maxsize=128)
def wire_model_for(schema: type[BaseModel], root: bool = True) -> type[BaseModel]:
    """The model the LLM fills for ``schema``: Evidence fields become exact-quote strings."""
    if not _is_model(schema):
        raise UsageError(f"schema must be a pydantic BaseModel subclass, got {schema!r}")
    fields: dict[str, Any] = {}
    for name, info in schema.model_fields.items():
        annotation = _wire_type(info.annotation)
        description = info.description
        if _is_quote(info.annotation):  # not on a list of nested models: their own quote fields say it
            description = (description + " " if description else "") + QUOTE_DESCRIPTION
        default = ... if info.is_required() else info.get_default(call_default_factory=True)
        fields[name] = (annotation, Field(default, description=description))
    base = _Grounded if root else BaseModel
    model: type[BaseModel] = create_model(schema.__name__, __base__=base, __doc__=schema.__doc__, **fields)
    return model


class _Walker:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.problems: list[str] = []
        self.rejected: list[Rejected] = []
        self.fatal: list[str] = []

    def value(self, tp: Any, value: Any, path: str, near: str) -> tuple[Any, bool]:
        """(user-side value, ok). ``ok`` is False when evidence inside could not be grounded."""
        if value is None:
            return None, True
        if tp is Evidence:
            found = locate(self.doc, str(value), near=near)
            if found is None:
                self.problems.append(f"{path}: the quote {str(value)[:80]!r} is not in the article")
                return None, False
            return found.model_dump(), True
        if _is_model(tp):
            return self.model(tp, value, path)
        origin, args = typing.get_origin(tp), typing.get_args(tp)
        if origin in (list, typing.List):  # noqa: UP006
            items = []
            for i, item in enumerate(value):
                converted, ok = self.value(args[0], item, f"{path}[{i}]", near)
                if ok:
                    items.append(converted)
                else:
                    dumped = item.model_dump() if isinstance(item, BaseModel) else {"value": item}
                    self.rejected.append(Rejected(kind="field", item=dumped, reason=self.problems[-1]))
            return items, True
        if origin in (Union, types.UnionType):
            for option in args:
                if option is type(None):
                    continue
                if option is Evidence or _is_model(option) or typing.get_origin(option):
                    converted, ok = self.value(option, value, path, near)
                    if not ok and type(None) in args:
                        # optional: an ungrounded value becomes None and goes to rejected, like a list item
                        dumped = value.model_dump() if isinstance(value, BaseModel) else {"value": value}
                        self.rejected.append(Rejected(kind="field", item=dumped, reason=self.problems[-1]))
                        return None, True
                    return converted, ok
        return value, True

    def model(self, schema: type[BaseModel], obj: Any, path: str) -> tuple[dict[str, Any], bool]:
        data = obj if isinstance(obj, dict) else obj.__dict__
        near = " ".join(str(v) for v in data.values() if isinstance(v, str))
        out: dict[str, Any] = {}
        ok = True
        for name, info in schema.model_fields.items():
            if name not in data:
                continue
            converted, field_ok = self.value(info.annotation, data[name], f"{path}.{name}" if path else name, near)
            out[info.alias or name] = converted  # the user's model validates by alias where it has one
            ok = ok and field_ok
        # an Evidence field stands for the model's other text fields: it must state them, not sit beside them
        stated = " ".join(
            str(data[n]) for n, info in schema.model_fields.items() if n in data and info.annotation is str and data[n]
        )
        for name, info in schema.model_fields.items():
            key = info.alias or name
            if _is_plain_evidence(info.annotation) and isinstance(out.get(key), dict):
                out[key] = self.supported(out[key], stated, f"{path}.{name}" if path else name)
        return out, ok

    def supported(self, evidence: dict[str, Any], stated: str, path: str) -> dict[str, Any]:
        """``evidence`` unless its sentences hold less than :data:`EVIDENCE_FLOOR` of the words of ``stated``; then a
        problem (a remote model is re-asked first) and the article's sentence that holds the most of them (at least
        :data:`EVIDENCE_SUPPORT`) in its place, the model's quote and why in ``rejected``; with no such sentence,
        ``evidence`` as it was."""
        if len(content_words(stated)) < 2:
            return evidence
        share = overlap(stated, _sentences_around(self.doc, evidence["start"], evidence["end"]))
        if share >= EVIDENCE_FLOOR:
            return evidence
        reason = (
            f"{path}: the quote {evidence['text'][:80]!r} does not state {stated[:80]!r} (only {share:.0%} of its "
            "words are there)"
        )
        self.problems.append(reason)
        best = best_sentence(self.doc, stated)
        if best is None or best[1] < EVIDENCE_SUPPORT:
            return evidence
        self.rejected.append(Rejected(kind="field", item={"evidence": evidence["text"]}, reason=reason))
        sentence = best[0]
        found = Evidence(start=sentence.start, end=sentence.end, text=sentence.text, match="sentence", score=1.0)
        return found.model_dump()


#: An Evidence field whose sentences hold less than this share of the content words of the text fields beside it
#: (what it stands for) does not support them: the quote of the raids for a ruling's decision.
EVIDENCE_FLOOR = 1 / 3
#: The sentence put in its place must hold at least this share of them.
EVIDENCE_SUPPORT = 0.5


def _is_plain_evidence(tp: Any) -> bool:
    return tp is Evidence or (typing.get_origin(tp) in (Union, types.UnionType) and Evidence in typing.get_args(tp))


def _sentences_around(doc: Document, start: int, end: int) -> str:
    """The text of the sentences the span touches (a quote may be a piece of its sentence)."""
    return " ".join(s.text for s in doc.sentences if s.start < end and start < s.end)


def ground_custom(
    doc: Document, schema: type[BaseModel], wire: BaseModel
) -> tuple[BaseModel | None, list[str], list[Rejected]]:
    """The user's model with grounded Evidence (None when a required one failed), problems, rejected items."""
    walker = _Walker(doc)
    data, ok = walker.model(schema, wire, "")
    if not ok:
        return None, walker.problems, walker.rejected
    return schema.model_validate(data), walker.problems, walker.rejected
