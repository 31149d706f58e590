"""Document: the exact source text, its sentences with character offsets, its publication date."""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ._errors import InputError, UsageError
from .rules import dates as _dates

T = TypeVar("T")

# Words after which a period does not end a sentence.
_ABBREVIATIONS = {
    "mr",
    "mrs",
    "ms",
    "dr",
    "prof",
    "sr",
    "jr",
    "st",
    "mt",
    "gen",
    "gov",
    "sen",
    "rep",
    "lt",
    "col",
    "capt",
    "sgt",
    "cpl",
    "maj",
    "adm",
    "rev",
    "hon",
    "pres",
    "supt",
    "insp",
    "det",
    "no",
    "vs",
    "etc",
    "inc",
    "ltd",
    "co",
    "corp",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "approx",
    "est",
    "dept",
    "univ",
    "ave",
    "blvd",
    "fig",
    "al",
    "e.g",
    "i.e",
    "u.s",
    "u.k",
    "u.n",
}
# Western sentence ends need a space after them; CJK ones (。！？) don't, as those scripts use no spaces.
# Abbreviations that are also ordinary words: they abbreviate only before a number ("No. 5", "Fig. 2").
_BEFORE_NUMBERS = {"no", "nos", "fig", "figs"}
_BOUNDARY = re.compile(r"""[.!?]+["'”’)\]]*\s+|[。！？]+[」』”’）)]*\s*|\n+""")
_WORD_BEFORE = re.compile(r"([\w.]+)[.!?]*[\"'”’)\]]*\s*$")


@dataclass(frozen=True)
class Sentence:
    index: int  # 1-based, as shown to the model
    start: int
    end: int
    text: str


@dataclass
class Document:
    """An article ready for the model. Offsets everywhere refer to :attr:`text`, the caller's exact text."""

    text: str
    published: dt.date | None = None
    sentences: list[Sentence] = field(default_factory=list)
    _derived: dict[Callable[[Document], Any], Any] = field(default_factory=dict, repr=False, compare=False)

    def derived(self, compute: Callable[[Document], T]) -> T:
        """``compute(self)``, computed once per document (its normalised text, numbers, words, places).

        The extractor fills these while the model calls are in flight, so grounding the replies finds them ready.
        """
        try:
            value: T = self._derived[compute]
        except KeyError:
            value = self._derived[compute] = compute(self)
        return value

    @classmethod
    def from_text(
        cls, text: object, published: object = None, *, source: str | None = None, max_chars: int | None = None
    ) -> Document:
        text = check_text(text, source=source, max_chars=max_chars)
        try:
            pub = _dates.parse_published(published)  # type: ignore[arg-type]
        except (ValueError, TypeError) as exc:
            raise UsageError(f"published={published!r} is not a date: {exc}; pass e.g. '2018-01-26'") from None
        if pub is None and published is None:
            pub = guess_published(text)
        return cls(text=text, published=pub, sentences=split_sentences(text))

    def sentence(self, number: int) -> Sentence | None:
        if 1 <= number <= len(self.sentences):
            return self.sentences[number - 1]
        return None

    def sentence_at(self, offset: int) -> Sentence | None:
        for s in self.sentences:
            if s.start <= offset < s.end:
                return s
        return None

    def numbered(self, sentences: list[Sentence] | None = None) -> str:
        """The article as the model sees it: one numbered sentence per line.

        A sentence that addresses instructions to an AI ("ignore previous instructions", "you must now
        reply...") is shown as a placeholder: a small model can't be trusted to treat it as data. The
        sentence stays in the document (offsets don't move); only the model doesn't read it.
        """
        sentences = sentences or self.sentences
        if not looks_like_injection(self.text):  # one pass over the text instead of one per sentence
            return "\n".join(f"[{s.index}] {s.text}" for s in sentences)
        return "\n".join(
            f"[{s.index}] {INJECTION_PLACEHOLDER if looks_like_injection(s.text) else s.text}" for s in sentences
        )


def per_document(compute: Callable[[Document], T]) -> Callable[[Document], T]:
    """Decorator: ``compute(doc)`` is computed once per document and kept on it (:meth:`Document.derived`)."""

    @functools.wraps(compute)
    def once(doc: Document) -> T:
        return doc.derived(compute)

    return once


@per_document
def article_dates(doc: Document) -> list[_dates.DateHit]:
    """The date tagger's hits on the whole article, computed once per document (dates, quantities, facts and the
    claim checker's dates)."""
    return list(_dates.find_dates(doc.text, doc.published))


INJECTION_PLACEHOLDER = "(text addressed to AI systems, omitted)"
# Orders to an AI, not news: "ignore (all) previous instructions", "disregard the above". Plain news words
# stay visible: "drivers who ignore the rules", "the court may disregard prior convictions", "new instructions
# to staff" must reach the model.
_INJECTION = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b[^.!?\n]{0,40}\b(?:instructions?|prompts?|directives?)\b|"
    r"\b(?:ignore|disregard|forget)\s+(?:all\s+|everything\s+)?(?:of\s+)?(?:the\s+|what\s+is\s+)?above\b|"
    r"\byou (?:must|should|will) now\b|\byou are now\b|\bnew instructions?\s*:|\bsystem prompt\b|"
    r"\b(?:as an ai|language model)\b[^.!?\n]{0,30}\b(?:must|should|reply|respond|output)\b",
    re.IGNORECASE,
)


def looks_like_injection(sentence: str) -> bool:
    """True for text that gives orders to an AI system rather than reporting news."""
    return bool(_INJECTION.search(sentence))


_YEAR = re.compile(r"(?<!\d)\d{4}(?!\d)")


def guess_published(text: str) -> dt.date | None:
    """The dateline: a full date in the first three lines of a news article ("January 26, 2018 / 8:49 PM")."""
    head = "\n".join(text.lstrip()[:2000].splitlines()[:3])[:400]
    # A full date holds a four-digit year: tagging a few words around each one is much cheaper than tagging the
    # whole head (this runs before the first request can leave). The whole head is the fallback.
    around_years = []
    for m in _YEAR.finditer(head):  # whole words on both sides: a cut "07/16/2018" would read as 2020
        start = max(head.rfind(" ", 0, max(0, m.start() - 32)), head.rfind("\n", 0, max(0, m.start() - 32))) + 1
        ends = [i for i in (head.find(" ", m.end() + 12), head.find("\n", m.end() + 12)) if i != -1]
        around_years.append(head[start : min(ends, default=len(head))])
    for piece in [*around_years, head]:
        for hit in _dates.find_dates(piece, None):
            if hit.value and len(hit.value) == 10 and hit.value[4] == "-":
                try:
                    return dt.date.fromisoformat(hit.value)
                except ValueError:
                    continue
    return None


_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def check_text(text: object, *, source: str | None = None, max_chars: int | None = None) -> str:
    """Reject unusable input before any model call, with a message that says how to fix it."""
    if max_chars is not None and isinstance(text, bytes | bytearray) and len(text) > 4 * max_chars:
        text = text[: 4 * max_chars + 4]  # enough to know it is too long, without decoding megabytes more
    if isinstance(text, bytes | bytearray):
        text = decode_bytes(bytes(text), source=source)
    if isinstance(text, os.PathLike):
        raise UsageError(
            f"article text must be str, got the path {os.fspath(text)!r}; pass its text, e.g. "
            "Path(...).read_text(encoding='utf-8')"
        )
    if not isinstance(text, str):
        raise UsageError(f"article text must be str, got {type(text).__name__}")
    if max_chars is not None and len(text) > max_chars:
        raise InputError(
            f"the article has {len(text):,}{'+' * (len(text) > 4 * max_chars)} characters, more than the limit of "
            f"{max_chars:,}; split it, or raise the limit (FACTKIT_MAX_INPUT_CHARS / max_input_chars= / "
            "--max-input-chars)",
            source=source,
        )
    if not text.strip():
        raise InputError("the article is empty or only whitespace; pass the article's text", source=source)
    surrogate = _SURROGATE.search(text)
    if surrogate is not None:
        raise InputError(
            f"the article holds a lone surrogate (U+{ord(surrogate.group()):04X}) at offset {surrogate.start()}, "
            "which is not text; decode the source with errors='replace' or fix it",
            source=source,
        )
    if "\x00" in text:
        raise InputError("the article contains NUL bytes, so it looks like a binary file; pass text", source=source)
    controls = len(_CONTROL.findall(text, 0, 4096))
    if controls > max(8, len(text[:4096]) // 20):
        raise InputError("the article is mostly control characters, so it looks binary; pass text", source=source)
    return text


def decode_bytes(data: bytes, *, source: str | None = None) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(
            "this is UTF-16 text, not UTF-8; convert it first, e.g. `iconv -f utf-16 -t utf-8`", source=source
        )
    if b"\x00" in data[:8192]:
        raise InputError("this is a binary file, not text; pass a UTF-8 text file", source=source)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "convert it first, e.g. `iconv -f latin1 -t utf-8`",
            source=source,
        ) from None


def split_sentences(text: str) -> list[Sentence]:
    """Split on sentence ends and line breaks, keeping exact offsets; abbreviations don't end sentences."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        if "\n" not in m.group() and _is_abbreviation(text, m.start(), m.group()):
            continue
        if m.group()[0] in ".!?" and m.end() < len(text) and text[m.end()].islower():
            continue  # "... 3 p.m. on Friday": a lowercase next word means the sentence goes on
        spans.append((start, m.start() + len(m.group().rstrip())))
        start = m.end()
    spans.append((start, len(text)))
    out: list[Sentence] = []
    for a, b in spans:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            out.append(Sentence(len(out) + 1, a, b, text[a:b]))
    return out


def _is_abbreviation(text: str, pos: int, boundary: str) -> bool:
    if not boundary.startswith("."):
        return False
    m = _WORD_BEFORE.search(text, max(0, pos - 40), pos + 1)
    if not m:
        return False
    word = m.group(1).lower().rstrip(".")
    if word in _BEFORE_NUMBERS:
        # "No. 5" abbreviates "number"; "He said no." ends a sentence
        rest = text[pos + len(boundary) : pos + len(boundary) + 1]
        return rest[:1].isdigit() or rest[:1] == "#"
    if word in _ABBREVIATIONS:
        return True
    # Initials and dotted acronyms: "J.", "U.S.", "D.C."
    return bool(re.fullmatch(r"(?:\w\.)*\w", word)) and len(word.replace(".", "")) <= 3 and word[-1:].isalpha()


def chunk_sentences(sentences: list[Sentence], max_chars: int, overlap: int = 1) -> list[list[Sentence]]:
    """Sentence-aligned windows of at most ``max_chars`` characters, overlapping by ``overlap`` sentences."""
    if not sentences:
        return []
    chunks: list[list[Sentence]] = []
    i = 0
    while i < len(sentences):
        j, size = i, 0
        while j < len(sentences) and (j == i or size + len(sentences[j].text) <= max_chars):
            size += len(sentences[j].text) + 1
            j += 1
        chunks.append(sentences[i:j])
        if j >= len(sentences):
            break
        i = max(j - overlap, i + 1)
    return chunks
