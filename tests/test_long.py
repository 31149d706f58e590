"""Long articles: split on sentences with overlap, extracted per part, merged with global offsets."""

from __future__ import annotations

import itertools
import re
from typing import Any

from test_batch_support import article, assert_grounded, wire_for

from factkit import Extractor
from factkit._extract import DEFAULT_MAX_CHARS
from factkit.testing import FakeModel, request_article


def overlapping_wire(request: dict[str, Any]) -> dict[str, Any]:
    """:func:`wire_for`, plus a fact on the chunk's last sentence: the next chunk starts with it again.

    Entities: people only, which keeps the test quick (grounding an entity scans the whole article).
    """
    reply = wire_for(request)
    sentences, _ = request_article(request)
    if "people" in reply:
        reply["organizations"] = []
    if "facts" in reply and sentences:
        n, text = sentences[-1]
        reply["facts"] = [*reply["facts"][:3], {"s": [n], "kind": "event", "statement": text[:90].rsplit(" ", 1)[0]}]
    return reply


def test_a_200_kb_article_is_split_extracted_and_merged() -> None:
    text = article(200_000, seed=2)
    assert len(text.encode()) >= 200_000
    model = FakeModel(handler=overlapping_wire)
    result = Extractor(backend=model, cache=False).extract(text)

    # split on sentence boundaries, each part within the context budget, consecutive parts overlapping
    parts = [request_article(r)[0] for r in model.requests if "named entities" in request_article(r)[1]]
    assert len(parts) >= len(text) // DEFAULT_MAX_CHARS
    assert len(model.requests) == 2 * len(parts)
    numbers = [[n for n, _ in part] for part in parts]
    for a, b in itertools.pairwise(numbers):
        assert b == list(range(b[0], b[-1] + 1)) and b[0] <= a[-1] < b[-1]
    assert numbers[0][0] == 1 and numbers[-1][-1] == max(n for part in numbers for n in part)
    for part in parts:
        assert sum(len(s) for _, s in part) <= DEFAULT_MAX_CHARS

    # offsets are relative to the whole article and point at the right text
    assert_grounded(text, result)
    assert not result.rejected
    assert max(f.evidence.start for f in result.facts) > 0.9 * len(text)

    # facts cited twice (end of one part, start of the next) are kept once
    starts = [f.evidence.start for f in result.facts]
    assert len(starts) == len(set(starts))
    cited = {n for part in parts for n in (part[0][0], part[-1][0])}
    assert len(result.facts) < 4 * len(parts) and len(cited) < 2 * len(parts)

    # entities are merged across parts, with every mention in the article
    names = [e.name for e in result.entities]
    assert len(names) == len(set(names))
    maria = next(e for e in result.entities if e.name == "Maria Lopez")
    assert [m.start for m in maria.mentions] == sorted({m.start for m in maria.mentions})
    assert len(maria.mentions) >= len(re.findall(r"Maria Lopez", text))
    assert maria.mentions[-1].start > 0.9 * len(text)


def test_a_smaller_context_gives_more_parts_and_the_same_grounding() -> None:
    text = article(20_000, seed=4)
    model = FakeModel(handler=wire_for)
    result = Extractor(backend=model, cache=False, max_chars=3_000).extract(text)
    assert len(model.requests) >= 2 * (len(text) // 3_000)
    assert_grounded(text, result)
    assert not result.rejected
