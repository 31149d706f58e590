"""Helpers for the batch, long-article, fault, bad-input and secrets tests (plus checks of the helpers).

:func:`wire_for` plays a well-behaved model: it reads the numbered sentences of the article block in the
request and answers the entities or facts task with names and sentences that are really there, so every
answer grounds. It works as a :class:`~factkit.testing.FakeModel` handler (``kwargs``) and inside a
:class:`~factkit.testing.FakeOpenAIServer` handler (the request JSON).
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

from factkit import Extraction, Extractor, resolve_settings
from factkit.testing import FakeModel, FakeOpenAIServer

SECRET = "sk-test-SECRET-0123456789abcdef"

_SENTENCE = re.compile(r"^\[(\d+)\] (.*)$", re.M)
_NAME = re.compile(r"\b[A-Z][a-z]{2,}(?: [A-Z][a-z]{2,})*")
_WEEKDAYS = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}


def request_article(request: dict[str, Any]) -> tuple[list[tuple[int, str]], str]:
    """The numbered sentences of the request's article block, and the task text after it."""
    user = ""
    for message in request.get("messages") or []:
        content = message.get("content") or ""
        if message.get("role") == "user" and "<article>" in content:
            user = content
            break
    a, b = user.find("<article>"), user.rfind("</article>")
    if a == -1 or b == -1:
        return [], user
    return [(int(n), t) for n, t in _SENTENCE.findall(user[a + len("<article>") : b])], user[b:]


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0]


def wire_for(request: dict[str, Any]) -> dict[str, Any]:
    """A correct wire answer to an entities or facts request."""
    sentences, task = request_article(request)
    if "named entities" in task:
        names: list[str] = []
        for _, text in sentences:
            for m in _NAME.finditer(text):
                if m.group() not in names and m.group() not in _WEEKDAYS:
                    names.append(m.group())
        return {
            "people": [n for n in names if " " in n][:12],
            "organizations": [n for n in names if " " not in n][:12],
            "places": [],
            "other": [],
        }
    picks = [s for s in sentences if len(s[1]) >= 20][:4] or sentences[:1]
    first = sentences[0][1] if sentences else "nothing"
    return {
        "headline": _cut(first, 60),
        "tldr": _cut(first, 200),
        "facts": [{"s": [n], "kind": "event", "statement": _cut(text, 90)} for n, text in picks],
    }


def wire_text(request: dict[str, Any]) -> str:
    return json.dumps(wire_for(request))


_PEOPLE = ["Maria Lopez", "John Carter", "Kenji Watanabe", "Amara Okafor", "Lena Fischer", "Rahul Mehta"]
_ORGS = ["Acme Corporation", "the Harbor Authority", "Northwind Bank", "the City Council", "Globex"]
_PLACES = ["Lagos", "Paris", "Osaka", "Denver", "Lyon", "Pune"]
_VERBS = ["announced", "said", "reported", "confirmed", "denied", "disclosed"]
_OBJECTS = ["a new budget", "the audit", "a bridge contract", "the merger", "a hiring plan", "the flood report"]


def sentence(rng: random.Random, i: int) -> str:
    who, org, where = rng.choice(_PEOPLE), rng.choice(_ORGS), rng.choice(_PLACES)
    return (
        f"{who} {rng.choice(_VERBS)} in {where} that {org} had reviewed {rng.randint(2, 900)} pages of "
        f"{rng.choice(_OBJECTS)} in case {i}."
    )


def article(chars: int, seed: int = 0, *, paragraph: int = 5) -> str:
    """A news-like article of at least ``chars`` characters, in paragraphs of ``paragraph`` sentences."""
    rng = random.Random(seed)
    parts: list[str] = []
    size = i = 0
    while size < chars:
        s = sentence(rng, i)
        parts.append(s + ("\n\n" if i % paragraph == paragraph - 1 else " "))
        size += len(parts[-1])
        i += 1
    return "".join(parts).rstrip() + "\n"


def short_articles(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [f"{sentence(rng, i)} {sentence(rng, i + 1)}" for i in range(n)]


def fake_extractor(**kwargs: Any) -> tuple[Extractor, FakeModel]:
    model = FakeModel(handler=wire_for)
    return Extractor(backend=model, **kwargs), model


def remote_extractor(server: FakeOpenAIServer, *, cache: bool = False, timeout: float = 5.0, **kw: Any) -> Extractor:
    settings = resolve_settings(
        base_url=server.base_url,
        api_key=SECRET,
        model="fake-model",
        retry_wait_multiplier=0.0,
        timeout=timeout,
        cache=cache,
        **kw,
    )
    return Extractor(settings=settings)


def assert_grounded(text: str, result: Extraction) -> None:
    """Every offset of the result points at its text in the article."""
    for fact in result.facts:
        assert text[fact.evidence.start : fact.evidence.end] == fact.evidence.text
    for ent in result.entities:
        for m in ent.mentions:
            assert text[m.start : m.end] == m.text
    for q in result.quotes:
        assert text[q.span.start : q.span.end] == q.span.text
    for d in result.dates:
        assert text[d.span.start : d.span.end] == d.span.text
    for kp in result.summary.key_points:
        for e in kp.evidence:
            assert text[e.start : e.end] == e.text


def read_records(path: Path) -> list[dict[str, Any]]:
    """Every line of a results file, parsed; fails on a partial or corrupt line."""
    data = path.read_bytes()
    assert data == b"" or data.endswith(b"\n"), "the results file ends in a partial line"
    return [json.loads(line) for line in data.splitlines()]


# ---- checks of the helpers ------------------------------------------------------------------------------


def test_wire_for_answers_ground_without_rejections() -> None:
    text = article(3000, seed=1)
    ex, model = fake_extractor(cache=False)
    result = ex.extract(text)
    assert len(model.requests) == 2
    assert result.facts and result.entities and not result.rejected
    assert_grounded(text, result)


def test_article_is_deterministic_and_sized() -> None:
    assert article(5000, seed=3) == article(5000, seed=3)
    assert 5000 <= len(article(5000, seed=3)) < 5300
