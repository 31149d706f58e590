"""Entities: a wire record's names grounded in the article (every mention located by exact offsets, one entity per
referent: full name, surname, aliases; typed with the word lists), and the names written beside a quotation
resolved to them. Pure functions of (Document, wire record)."""

from __future__ import annotations

import re

from ._document import Document, per_document
from ._gazetteer import AUTO_PLACES, is_demonym, location_head, looks_like_org, place_type, strip_title
from ._grounding import normalize, normalized_article, span_of
from ._models import Entity, EntityType, Rejected, Span
from ._wire import WireEntities

_ALIASES = {
    "united states": ["u.s.", "us", "usa", "u.s.a.", "america", "united states of america"],
    "united kingdom": ["uk", "u.k.", "britain", "great britain"],
    "united nations": ["un", "u.n."],
    "european union": ["eu", "e.u."],
    "soviet union": ["ussr", "u.s.s.r."],
}
_ALIAS_CANON = {alias: canon for canon, aliases in _ALIASES.items() for alias in aliases}


def aliases_of(name: str) -> list[str]:
    """Other ways the article may write ``name``: known aliases and the acronym of a multi-word name."""
    key = normalize(name)
    canon = _ALIAS_CANON.get(key, key)
    out = {canon, *_ALIASES.get(canon, [])}
    words = [w for w in re.findall(r"[A-Z][\w'’-]*", name)]
    if len(words) >= 3:
        out.add("".join(w[0] for w in words).casefold())
    out.discard(key)
    return sorted(out)


def find_mentions(doc: Document, name: str, *, include_aliases: bool = True) -> list[Span]:
    """Every whole-word occurrence of ``name`` (or an alias) in the document, case and accents ignored.

    A capitalised name only matches capitalised text, so "US" never matches "us".
    """
    hay, pos = normalized_article(doc)
    text = doc.text
    names = [name, *(aliases_of(name) if include_aliases else [])]
    spans: dict[int, Span] = {}
    for variant in names:
        needle = normalize(variant)
        if len(needle) < 2:
            continue
        capitalised = variant[:1].isupper() or variant in _ALIAS_CANON
        i = hay.find(needle)
        while i != -1:
            j = i + len(needle)
            left_ok = i == 0 or not hay[i - 1].isalnum()
            # normalised text drops the space after a period, so a name ending in one ('U.S.') ends there
            right_ok = j >= len(hay) or not hay[j].isalnum() or needle.endswith(".")
            a, b = pos[i], pos[j - 1] + 1
            if left_ok and right_ok and (not capitalised or text[a].isupper() or text[a].isdigit()):
                spans.setdefault(a, span_of(text, a, b))
            i = hay.find(needle, i + 1)
    return sorted(spans.values(), key=lambda s: s.start)


def outermost(spans: list[Span]) -> list[Span]:
    """Drop spans inside another one ('Lee' inside 'Ann Lee'); sorted by start."""
    ordered = sorted(spans, key=lambda m: (m.start, -m.end))
    out: list[Span] = []
    for m in ordered:
        if out and m.end <= out[-1].end:
            continue
        out.append(m)
    return out


def _surname(name: str) -> str | None:
    parts = name.split()
    if len(parts) >= 2 and len(parts[-1]) >= 3 and parts[-1][:1].isupper():
        return parts[-1]
    return None


_LISTS: dict[str, EntityType] = {
    "people": "person",
    "organizations": "organization",
    "places": "location",
    "other": "other",
}


_SPACED_INITIALS = re.compile(r"\b([A-Z])\. (?=[A-Z]\.)")
_EDGE_WORDS = re.compile(r"^(?:(?:the|a|an|of)\s+)+|(?:\s+(?:[a-z][\w'’-]*))+$")


_ACRONYM = re.compile(r"\b(?:[A-Z]\.){2,}")
_ACRONYM_END = re.compile(r"(?:\b[A-Z]\.){2,}$")
_LONE_INITIAL = re.compile(r"(?<![.\w])([A-Z])\. (?=[A-Za-z]{2})")


def fix_initials(text: str, source: str | None = None) -> str:
    """'U. S. District Judge' -> 'U.S. District Judge'; with the source, 'U. Judge' -> 'U.S. Judge'.

    Small models under a JSON grammar space out initials or drop the second one; when the source has
    exactly one dotted acronym starting with that letter, the lone initial is restored to it.
    """
    text = _SPACED_INITIALS.sub(r"\1.", text)
    if source is None or not _LONE_INITIAL.search(text):
        return text
    acronyms: dict[str, set[str]] = {}
    for m in _ACRONYM.finditer(source):
        acronyms.setdefault(m.group()[0], set()).add(m.group())

    def restore(m: re.Match[str]) -> str:
        options = acronyms.get(m.group(1), set())
        return (next(iter(options)) + " ") if len(options) == 1 else m.group()

    return _LONE_INITIAL.sub(restore, text)


def clean_name(raw: str) -> str:
    """Trim quotes, punctuation and leading articles or trailing common nouns ('... spokesman')."""
    name = fix_initials(" ".join(raw.split()).strip(" .,;:\"'“”()"))
    if _ACRONYM_END.search(raw.strip(" ,;:\"'“”()")) and not name.endswith("."):
        name += "."  # 'U.S.' keeps its last period: 'U.S' is no alias of 'United States'
    trimmed = _EDGE_WORDS.sub("", name).strip(" ,")
    return trimmed if any(ch.isupper() for ch in trimmed) else name


@per_document
def article_places(doc: Document) -> list[str]:
    """The places of :data:`AUTO_PLACES` spelled exactly so somewhere in the article (whole words or not)."""
    return [p for p in AUTO_PLACES if p in doc.text]


def _typed(name: str, listed: EntityType) -> EntityType:
    """The model's type, corrected where the general word lists know better."""
    canon = _ALIAS_CANON.get(normalize(name), "")
    if place_type(name) or place_type(canon) or location_head(name):
        return "location"
    if looks_like_org(name) and listed != "organization":
        return "organization"
    return listed


def ground_entities(doc: Document, wire: WireEntities) -> tuple[list[Entity], list[Rejected], list[str]]:
    """The entities of ``wire`` grounded in ``doc`` (one per referent, every mention located, typed by the word
    lists, the article's known places added), what was rejected, and the problems a re-ask should fix (a name that is
    not in the article)."""
    rejected: list[Rejected] = []
    problems: list[str] = []

    def reject(item: dict[str, str], reason: str, problem: bool) -> None:
        rejected.append(Rejected(kind="entity", item=item, reason=reason))
        if problem:
            problems.append(reason)

    items: list[tuple[str, EntityType, str]] = []
    seen: set[str] = set()
    for field_name, listed in _LISTS.items():
        for raw in getattr(wire, field_name):
            name = clean_name(raw)
            if listed == "person":
                name = strip_title(name)
            key = normalize(name)
            if not name or key in seen:
                continue
            seen.add(key)
            items.append((name, _typed(name, listed), field_name))
    surnames: dict[str, int] = {}
    for name, etype, _ in items:
        s = _surname(name) if etype == "person" else None
        if s:
            surnames[s] = surnames.get(s, 0) + 1
    by_key: dict[str, Entity] = {}
    for name, etype, field_name in items:
        mentions = find_mentions(doc, name)
        s = _surname(name) if etype == "person" else None
        if s and surnames.get(s) == 1:
            mentions = sorted({m.start: m for m in [*mentions, *find_mentions(doc, s)]}.values(), key=lambda m: m.start)
        if not mentions:
            reject({"name": name, "list": field_name}, f"entity {name!r} does not occur in the article", True)
            continue
        if not any(ch.isupper() for m in mentions for ch in m.text):
            reject({"name": name, "list": field_name}, f"{name!r} is a common noun, not a name", False)
            continue
        if is_demonym(name):
            reject({"name": name, "list": field_name}, f"{name!r} is a nationality, not a name", False)
            continue
        key = _ALIAS_CANON.get(normalize(name), normalize(name))
        existing = by_key.get(key)
        if existing is None and etype == "person":
            # a shorter name for a person already listed ("Trump" after "Donald Trump") merges into it
            existing = next(
                (o for o in by_key.values() if o.type == "person" and normalize(name) in normalize(o.name).split()),
                None,
            )
        if existing is not None:
            merged = {m.start: m for m in [*existing.mentions, *mentions]}
            existing.mentions[:] = sorted(merged.values(), key=lambda m: m.start)
            continue
        by_key[key] = Entity(name=name, type=etype, mentions=mentions)
    # Small models list a handful of places and stop: countries, states and big cities named in the text are
    # added from the word lists (exact spelling only), so a long list of countries isn't cut short.
    taken = {m.start for e in by_key.values() for m in e.mentions}
    for place in article_places(doc):
        key = _ALIAS_CANON.get(normalize(place), normalize(place))
        if key in by_key:
            continue
        found = [m for m in find_mentions(doc, place, include_aliases=False) if m.text == place]
        if found and not any(m.start in taken for m in found):
            by_key[key] = Entity(name=place, type="location", mentions=found)
    for ent in by_key.values():
        ent.mentions[:] = outermost(ent.mentions)
    return sorted(by_key.values(), key=lambda e: e.mentions[0].start), rejected, problems


def _entity_for(name: str, entities: list[Entity]) -> Entity | None:
    key = normalize(name)
    for ent in entities:
        if normalize(ent.name) == key or key in {normalize(a) for a in aliases_of(ent.name)}:
            return ent
    for ent in entities:
        if ent.type == "person" and key and (key in normalize(ent.name).split() or normalize(ent.name) in key):
            return ent
    return None


def speaker_name(name: str, entities: list[Entity]) -> str:
    """Who a name written beside a quotation is (:func:`factkit.rules.quotes.attribute_quotes`): the entity it names,
    else the name without its title ('Judge Cormac Carney' -> 'Cormac Carney')."""
    ent = _entity_for(strip_title(name), entities)
    return ent.name if ent is not None else strip_title(name)
