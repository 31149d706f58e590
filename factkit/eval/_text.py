"""Text helpers shared by the matchers: name normalisation, span overlap, lexical similarity.

Everything here is pure and small; the matchers and metrics are built from these pieces.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from factkit._grounding import content_words

__all__ = [
    "lexical_similarity",
    "name_in_text",
    "norm_name",
    "span_iou",
    "spans_overlap",
    "speaker_matches",
    "split_sentences",
    "token_f1",
]

# Removed without a trace, so "U.S." = "US" and "O'Brien" = "OBrien"; other punctuation becomes a space.
_GLUE = {".", "'", "’", "‘", "`", "´"}
_LEADING_THE = re.compile(r"^the\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’')\]]*\s+(?=[\"“‘'(\[]?[A-Z0-9])")


def norm_name(text: str) -> str:
    """The form names are compared in: casefolded, accents and punctuation stripped, whitespace collapsed,
    a leading "the" dropped. ``norm_name("The U.S.") == norm_name("us")``."""
    decomposed = unicodedata.normalize("NFKD", text)
    out: list[str] = []
    for ch in decomposed:
        if unicodedata.combining(ch) or ch in _GLUE:
            continue
        if ch.isalnum():
            out.append(ch.casefold())
        else:
            out.append(" ")
    collapsed = " ".join("".join(out).split())
    return _LEADING_THE.sub("", collapsed)


def name_in_text(name: str, normalised_text: str) -> bool:
    """True when ``name`` (raw) occurs as whole words in ``normalised_text`` (already :func:`norm_name`-ed).

    The leading "the" is not dropped from the haystack, so pass ``norm_name`` of the whole article.
    """
    needle = norm_name(name)
    if not needle:
        return False
    return f" {needle} " in f" {normalised_text} "


def spans_overlap(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    """True when the half-open ranges [a_start, a_end) and [b_start, b_end) share a character."""
    return a_start < b_end and b_start < a_end


def span_iou(a_start: int, a_end: int, b_start: int, b_end: int) -> float:
    """Characters shared by two spans over characters covered by either (0..1)."""
    inter = max(0, min(a_end, b_end) - max(a_start, b_start))
    union = max(a_end, b_end) - min(a_start, b_start)
    return inter / union if union > 0 else 0.0


def token_f1(a: str, b: str) -> float:
    """F1 of the two texts' content-word sets (casefolded, stop words dropped, crude stemming), 0..1."""
    wa, wb = content_words(a), content_words(b)
    if not wa or not wb:
        return 0.0
    common = len(wa & wb)
    if common == 0:
        return 0.0
    precision, recall = common / len(wb), common / len(wa)
    return 2 * precision * recall / (precision + recall)


def lexical_similarity(golds: Sequence[str], preds: Sequence[str]) -> list[list[float]]:
    """The :func:`token_f1` matrix of every gold text against every predicted text."""
    return [[token_f1(g, p) for p in preds] for g in golds]


def speaker_matches(predicted: str | None, gold: str | None) -> bool:
    """Same speaker: equal normalised names, or the same surname ("Carney" = "Judge Cormac Carney")."""
    if not predicted or not gold:
        return False
    p, g = norm_name(predicted), norm_name(gold)
    if not p or not g:
        return False
    return p == g or p.split()[-1] == g.split()[-1]


def split_sentences(text: str) -> list[str]:
    """A plain sentence splitter for summaries: after . ! ? and before a capital or digit."""
    parts = [p.strip() for p in _SENTENCE_END.split(text.strip())]
    return [p for p in parts if p]
