"""An example of a metric of your own for ``factkit eval --metric eval_metrics_example:headline_words``
(used by ``tests/test_eval_compare.py``; the same shape works from any importable module)."""

from __future__ import annotations

from factkit import Extraction
from factkit.eval import Case


def headline_words(case: Case, extraction: Extraction | None) -> float | None:
    """Words in the headline; ``None`` for a failed case and for a user-schema case (not scored)."""
    if not isinstance(extraction, Extraction):  # None (failed), or a CustomExtraction (a case with a schema)
        return None
    return float(len(extraction.summary.headline.split()))


headline_words.lower_is_better = True  # type: ignore[attr-defined]  # shorter headlines are better, say


def broken(case: Case, extraction: Extraction | None) -> float | None:
    return "many"  # type: ignore[return-value]
