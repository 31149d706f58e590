"""Summary metrics: ROUGE against references and coverage of the gold key facts. Small and pure."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from factkit._errors import ConfigError
from factkit._grounding import overlap
from factkit._models import Summary

from ._fixtures import GoldFact
from ._scores import Ratio, RougeScore

__all__ = ["KEY_FACT_COVERAGE", "key_fact_coverage", "rouge", "summary_sentences", "summary_text"]

#: A key fact is covered when at least this share of its content words occurs in the summary.
KEY_FACT_COVERAGE = 0.5


def summary_sentences(summary: Summary) -> list[str]:
    """The sentences a summary asserts: the tldr, then each key point (the headline is not judged)."""
    return [s for s in (summary.tldr, *(kp.text for kp in summary.key_points)) if s.strip()]


def summary_text(summary: Summary) -> str:
    """The text ROUGE is computed on: the tldr followed by the key points."""
    return " ".join(summary_sentences(summary))


@functools.lru_cache(maxsize=1)
def _scorer() -> Any:
    try:
        from rouge_score import rouge_scorer
    except ImportError:
        raise ConfigError(
            "ROUGE needs the rouge-score package; install the eval extra: pip install 'factkit[eval]'"
        ) from None
    return rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)


def rouge(candidate: str, references: Sequence[str]) -> list[RougeScore]:
    """ROUGE-1, ROUGE-2 and ROUGE-L F-measures (stemmed, rouge-score) of ``candidate`` against each reference."""
    scorer = _scorer()
    out = []
    for ref in references:
        s = scorer.score(ref, candidate)
        out.append(
            RougeScore(
                rouge1=round(s["rouge1"].fmeasure, 4),
                rouge2=round(s["rouge2"].fmeasure, 4),
                rougeL=round(s["rougeL"].fmeasure, 4),
            )
        )
    return out


def key_fact_coverage(summary: Summary, facts: Sequence[GoldFact]) -> tuple[Ratio, list[str]] | None:
    """Gold key facts covered by the summary (headline, tldr and key points together), and those missed.

    A key fact is covered when at least :data:`KEY_FACT_COVERAGE` of its statement's content words occur in
    the summary. None when the case labels no key fact.
    """
    keys = [f for f in facts if f.key]
    if not keys:
        return None
    text = " ".join([summary.headline, summary_text(summary)])
    missed = [f.statement for f in keys if overlap(f.statement, text) < KEY_FACT_COVERAGE]
    return Ratio(count=len(keys) - len(missed), total=len(keys)), missed
