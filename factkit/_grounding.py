"""Grounding: find model-given evidence in the source and check numbers and claims against it.

Locating a quote runs three passes, each returning offsets into the *original* text:

1. exact substring;
2. normalised: case, accents, curly vs straight quotes, dashes, runs of whitespace, and spaces around
   periods ("U. S." = "U.S.") are ignored; a map from normalised to original positions keeps offsets exact;
3. fuzzy: the best-aligned window of one to three sentences, accepted above ``FUZZY_THRESHOLD``.

When a quote occurs more than once, the occurrence whose sentence best fits the claim (``near``) wins,
then the one closest to ``hint``.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from ._document import Document, Sentence, looks_like_injection, per_document
from ._models import Evidence, MatchKind, Span
from .rules.dates import NUM_TENS, NUM_UNITS

FUZZY_THRESHOLD = 0.85
_QUOTE_MARKS = "\"'“”‘’«»„"

_QUOTE_MAP = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u2032": "'",
    "`": "'",
    "\u00b4": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u201f": '"',
    "\u2033": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2015": "-",
    "\u2212": "-",
    "\u2026": "...",
}


def span_of(text: str, start: int, end: int) -> Span:
    return Span(start=start, end=end, text=text[start:end])


@functools.lru_cache(maxsize=8192)
def _fold(ch: str) -> str:
    """One character, normalised: quotes and dashes straightened, accents dropped, case folded."""
    mapped = _QUOTE_MAP.get(ch)
    if mapped is not None:
        return mapped
    if ch.isspace():
        return " "
    decomposed = unicodedata.normalize("NFKD", ch)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def normalize_with_map(text: str) -> tuple[str, list[int]]:
    """Normalised text plus, for each of its characters, the index of the original character."""
    out: list[str] = []
    pos: list[int] = []
    last = ""
    for i, ch in enumerate(text):
        mapped = _fold(ch)
        if len(mapped) == 1 and mapped not in " .":
            out.append(mapped)
            pos.append(i)
            last = mapped
            continue
        for c in mapped:
            if c == " ":
                if not out or last == " " or last == ".":
                    continue
            elif c == "." and out and last == " ":
                out.pop()
                pos.pop()
            out.append(c)
            pos.append(i)
            last = c
    if out and out[-1] == " ":
        out.pop()
        pos.pop()
    return "".join(out), pos


@functools.lru_cache(maxsize=16384)
def normalize(text: str) -> str:
    return normalize_with_map(text)[0].strip()


# A word is a run of letters and digits, except that scripts written without spaces (Chinese, Japanese,
# Thai...) are cut into their characters' bigrams: "参加者は100人" -> 参加, 加者, 者は, 100, 人.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0e7f"
_WORD = re.compile(rf"[{_CJK}]+|[^\W_{_CJK}]+", re.UNICODE)
_CJK_RUN = re.compile(rf"[{_CJK}]+")
_STOP = set(
    [
        "a",
        "an",
        "the",
        "of",
        "to",
        "in",
        "on",
        "at",
        "for",
        "by",
        "with",
        "from",
        "and",
        "or",
        "but",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "has",
        "have",
        "had",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "as",
        "he",
        "she",
        "they",
        "his",
        "her",
        "their",
        "them",
        "who",
        "whom",
        "which",
        "what",
        "said",
        "says",
        "say",
        "not",
        "no",
        "than",
        "then",
        "there",
        "here",
        "after",
        "before",
        "over",
        "under",
        "about",
        "into",
        "out",
        "up",
        "down",
        "also",
        "would",
        "could",
        "should",
        "will",
        "can",
        "may",
        "so",
        "such",
        "very",
        "just",
        "more",
        "most",
        "some",
        "any",
        "all",
        "each",
        "other",
        "one",
    ]
)


@functools.lru_cache(maxsize=4096)
def content_words(text: str) -> frozenset[str]:
    """Content words of ``text``, lightly stemmed (cached: sentences are asked for again and again; a whole
    article's are kept on its Document, :func:`article_words`)."""
    return _words_of(normalize(text))


def _words_of(normalized: str) -> frozenset[str]:
    words: set[str] = set()
    for w in _WORD.findall(normalized):
        if _CJK_RUN.fullmatch(w):
            words.update(w[i : i + 2] for i in range(max(1, len(w) - 1)))
            continue
        if w in _STOP or len(w) < 2:
            continue
        for suffix in ("ing", "ed", "es", "s"):
            if len(w) > len(suffix) + 3 and w.endswith(suffix) and not (suffix == "s" and w.endswith("ss")):
                w = w[: -len(suffix)]
                break
        if len(w) > 4 and w.endswith("e"):
            w = w[:-1]  # so "judge" meets "judges" and "judged" (all "judg"), "close" meets "closed"
        words.add(w)
    return frozenset(words)


def overlap(claim: str, evidence: str) -> float:
    """Share of the claim's content words that occur in the evidence (0..1)."""
    c = content_words(claim)
    if not c:
        return 0.0
    return len(c & content_words(evidence)) / len(c)


def _occurrences(hay: str, needle: str) -> list[int]:
    found, i = [], hay.find(needle)
    while i != -1 and needle:
        found.append(i)
        i = hay.find(needle, i + 1)
    return found


def _extend_combining(text: str, end: int) -> int:
    while end < len(text) and unicodedata.combining(text[end]):
        end += 1
    return end


def locate(doc: Document, quote: str, *, near: str | None = None, hint: int | None = None) -> Evidence | None:
    """Find ``quote`` in the document; None when it is not there (not even fuzzily)."""
    text = doc.text
    whole = quote.strip()
    needle = whole.strip(_QUOTE_MARKS).strip()
    if not needle:
        return None
    candidates: list[tuple[int, int, MatchKind, float]] = []
    # A quote wrapped in quotation marks is looked up without them first; one with a mark at one end only
    # ('said "no"') keeps it, as it is part of the text.
    wrapped = whole[:1] in _QUOTE_MARKS and whole[-1:] in _QUOTE_MARKS
    for variant in dict.fromkeys([needle, whole] if wrapped else [whole, needle]):
        candidates = [(i, i + len(variant), "exact", 1.0) for i in _occurrences(text, variant)]
        if not candidates:
            hay, pos = normalized_article(doc)
            norm_needle = normalize(variant)
            for i in _occurrences(hay, norm_needle):
                a, b = pos[i], _extend_combining(text, pos[i + len(norm_needle) - 1] + 1)
                candidates.append((a, b, "normalized", 1.0))
        if candidates:
            break
    if not candidates:
        fuzzy = _fuzzy(doc, needle)
        if fuzzy is not None and _same_claim(needle, text[fuzzy[0] : fuzzy[1]]):
            candidates.append(fuzzy)
    if not candidates:
        return None
    best = max(candidates, key=lambda c: _fit(doc, c[0], c[1], near, hint))
    a, b, kind, score = best
    return Evidence(start=a, end=b, text=text[a:b], match=kind, score=round(score, 4))


_NEGATION = re.compile(r"\b(?:not|no|never|none|nobody|nothing|neither|nor|without)\b|n't\b", re.IGNORECASE)


def _same_claim(quote: str, found: str) -> bool:
    """A near-copy must not change what is said: the same numbers, and negated in both or in neither.

    "arrested 200 people" is 98% like "arrested 100 people", and "did approve" 96% like "did not approve".
    """
    numbers = [h.value for h in find_numbers(quote) if quote[h.start].isdigit()]
    found_numbers = [h.value for h in find_numbers(found) if found[h.start].isdigit()]
    if sorted(numbers) != sorted(found_numbers):
        return False
    return bool(_NEGATION.search(normalize(quote))) == bool(_NEGATION.search(normalize(found)))


def _fit(doc: Document, a: int, b: int, near: str | None, hint: int | None) -> tuple[float, ...]:
    """How well an occurrence fits the claim: its sentence, then the sentence before, then the one after,
    then closeness to ``hint`` (else the earliest).

    The same sentence can occur twice (a lede repeated further down); the sentences around each copy
    then tell which one the claim is about.
    """
    fit = before = after = 0.0
    if near:
        sent = doc.sentence_at(a)
        context = doc.text[sent.start : max(sent.end, b)] if sent else doc.text[a:b]
        fit = overlap(near, context)
        if sent is not None:
            prev, nxt = doc.sentence(sent.index - 1), doc.sentence(sent.index + 1)
            before = overlap(near, doc.text[prev.start : max(sent.end, b)]) if prev else fit
            after = overlap(near, doc.text[sent.start : max(nxt.end, b)]) if nxt else fit
    distance = -abs(a - hint) if hint is not None else -a
    return (round(fit, 3), round(before, 3), round(after, 3), distance)


# What grounding reads of a whole article, computed once per Document (prepared while the calls are in flight).
@per_document
def normalized_article(doc: Document) -> tuple[str, list[int]]:
    """The article normalised (:func:`normalize_with_map`) with the map back to its offsets."""
    return normalize_with_map(doc.text)


@per_document
def article_numbers(doc: Document) -> tuple[NumberHit, ...]:
    return find_numbers(doc.text)


@per_document
def article_words(doc: Document) -> frozenset[str]:
    """The article's content words (as :func:`content_words`)."""
    return _words_of(normalized_article(doc)[0].strip())


def _fuzzy(doc: Document, needle: str) -> tuple[int, int, MatchKind, float] | None:
    norm_needle = normalize(needle)
    if len(norm_needle) < 12:
        return None  # short strings match too much by chance
    best: tuple[int, int, MatchKind, float] | None = None
    sents = doc.sentences
    for i in range(len(sents)):
        for width in (1, 2, 3):
            window = sents[i : i + width]
            if len(window) < width:
                break
            a0, b0 = window[0].start, window[-1].end
            if b0 - a0 > 4 * len(needle) + 200:
                break
            if (b0 - a0) * 2 < len(needle):
                continue
            region = doc.text[a0:b0]
            norm_region, pos = normalize_with_map(region)
            matcher = SequenceMatcher(None, norm_needle, norm_region, autojunk=False)
            blocks = [blk for blk in matcher.get_matching_blocks() if blk.size > 0]
            if not blocks:
                continue
            first, last = blocks[0], blocks[-1]
            ra, rb = first.b, last.b + last.size
            score = SequenceMatcher(None, norm_needle, norm_region[ra:rb], autojunk=False).ratio()
            if score >= FUZZY_THRESHOLD and (best is None or score > best[3]):
                best = (a0 + pos[ra], _extend_combining(doc.text, a0 + pos[rb - 1] + 1), "fuzzy", score)
    return best


# ---- numbers -------------------------------------------------------------------------------------------

# The number words of the date tagger, plus the counting words a quantity may use.
_UNITS = {
    "zero": 0,
    **{word: n for word, n in NUM_UNITS.items() if word not in ("a", "an")},
    **NUM_TENS,
    "dozen": 12,
    "a dozen": 12,
    "hundred": 100,
    "a hundred": 100,
    "thousand": 1000,
    "a thousand": 1000,
}
_SCALES = {
    "hundred": 1e2,
    "thousand": 1e3,
    "million": 1e6,
    "billion": 1e9,
    "trillion": 1e12,
    "k": 1e3,
    "m": 1e6,
    "bn": 1e9,
}
_NUMBER = re.compile(
    r"(?<![A-Za-z\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff\d_.])(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?:\s*(?P<scale>hundred|thousand|million|"
    r"billion|trillion|bn|k|m)\b)?|\b(?P<word>"
    + "|".join(sorted(_UNITS, key=len, reverse=True))
    + r")(?:[\s-]+(?P<wscale>hundred|thousand|million|billion))?\b",
    re.IGNORECASE,
)
_APPROX = re.compile(
    r"\b(about|approximately|approx\.?|around|roughly|nearly|almost|some|more than|over|up to|at least|"
    r"fewer than|less than|an estimated|estimated|close to|upwards of|just under|just over|~)\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class NumberHit:
    start: int
    end: int
    value: float
    approximate: bool
    literal: float  # the number as written, before a scale word ("12 million" -> 12; "5 m" -> 5, maybe metres)

    def means(self, value: float) -> bool:
        """True when ``value`` is this number, scaled ("1.5 million" = 1500000) or as written (1.5)."""
        return same_number(self.value, value) or same_number(self.literal, value)


def find_numbers(text: str) -> tuple[NumberHit, ...]:
    """Every number in ``text``, written in digits or words (short texts cached: the same evidence sentence
    is checked often; whole articles are cached on their Document instead)."""
    return _numbers_cached(text) if len(text) <= 2000 else _numbers(text)


@functools.lru_cache(maxsize=4096)
def _numbers_cached(text: str) -> tuple[NumberHit, ...]:
    return _numbers(text)


def _numbers(text: str) -> tuple[NumberHit, ...]:
    hits = []
    for m in _NUMBER.finditer(text):
        if m.group("num"):
            value = float(m.group("num").replace(",", ""))
            scale = (m.group("scale") or "").lower()
        else:
            value = float(_UNITS[m.group("word").lower()])
            scale = (m.group("wscale") or "").lower()
        literal = value
        if scale:
            value *= _SCALES[scale]
        approx = bool(_APPROX.search(text[max(0, m.start() - 20) : m.start()]))
        hits.append(NumberHit(m.start(), m.end(), value, approx, literal))
    return tuple(hits)


def same_number(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def find_value(text: str, value: float) -> NumberHit | None:
    hits = find_numbers(text)
    # the scaled reading first; "5 m" read as written (metres) only when nothing else matches
    return next((h for h in hits if same_number(h.value, value)), None) or next(
        (h for h in hits if h.means(value)), None
    )


def unsupported_numbers(claim: str, evidence: str, found: Sequence[NumberHit] | None = None) -> list[str]:
    """Numbers written in ``claim`` that ``evidence`` does not contain (years written as digits excepted).

    ``found``: the numbers of ``evidence`` when the caller has them already."""
    have = [h.value for h in (find_numbers(evidence) if found is None else found)]
    missing = []
    for hit in find_numbers(claim):
        literal = claim[hit.start : hit.end]
        if not literal[0].isdigit():
            continue  # words like "one" are used loosely ("one of the judges")
        if re.fullmatch(r"(1[89]|20)\d\d", literal):
            continue  # a year, usually resolved from a relative date
        if not any(same_number(hit.value, v) for v in have):
            missing.append(literal)
    return missing


# ---- sentences -------------------------------------------------------------------------------------------


def sentences_span(doc: Document, sentences: list[Sentence]) -> Evidence:
    a = min(s.start for s in sentences)
    b = max(s.end for s in sentences)
    return Evidence(start=a, end=b, text=doc.text[a:b], match="sentence", score=1.0)


def best_sentence(doc: Document, claim: str) -> tuple[Sentence, float] | None:
    """The sentence that supports ``claim`` best, among those the model was shown."""
    scored = [(s, overlap(claim, s.text)) for s in doc.sentences if not looks_like_injection(s.text)]
    if not scored:
        return None
    return max(scored, key=lambda x: x[1])
