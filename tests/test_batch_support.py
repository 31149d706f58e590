"""Helpers for the batch, long-article, fault, bad-input and secrets tests (plus checks of the helpers).

:func:`wire_for` (:func:`factkit.testing.grounded_answer`) plays a well-behaved model: every answer grounds.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from factkit import Extraction, Extractor, resolve_settings
from factkit.testing import FakeModel, FakeOpenAIServer
from factkit.testing import grounded_answer as wire_for

SECRET = "sk-test-SECRET-0123456789abcdef"


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
