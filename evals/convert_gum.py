"""Convert the GUM news articles into factkit evaluation fixtures, one YAML file per article.

Usage (from the repository root)::

    .venv/bin/python evals/convert_gum.py [--src ../shared/data/gum-news/gum_news_dev.jsonl] [--out evals/gum]

The output is deterministic (same input, same bytes) and is committed; rerun this script after changing it.
Every decision below is documented in evals/README.md ("The GUM conversion").
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from factkit.eval._fixtures import Case, dump_case_yaml, load_cases  # noqa: E402

DEFAULT_SRC = ROOT.parent / "shared" / "data" / "gum-news" / "gum_news_dev.jsonl"
DEFAULT_OUT = ROOT / "evals" / "gum"

GUM_REPO = "https://github.com/amir-zeldes/gum"
GUM_COMMIT = "72ce5ac14978a324c2fd18d49484e65292cbe316"
LICENCE = "annotations CC BY 4.0; text CC BY 2.5"
CREDIT = (
    'GUM corpus: Zeldes, Amir (2017) "The GUM Corpus: Creating Multilayer Resources in the Classroom", '
    f"Language Resources and Evaluation 51(3), {GUM_REPO} @ {GUM_COMMIT}; text from Wikinews (CC BY 2.5)"
)

TYPE_MAP = {"person": "person", "organization": "organization", "place": "location"}

# Words that may be lowercase inside a proper name ("Church of Scientology", "Lantern Festival in Taipei").
FUNCTION_WORDS = {
    "a", "an", "and", "at", "by", "da", "de", "del", "della", "der", "des", "di", "du", "e", "for", "in",
    "la", "le", "of", "on", "the", "to", "van", "von", "vs", "vs.", "y", "&",
}  # fmt: skip
# Pronouns and determiners that are never names on their own, whatever their case ("They", "This").
PRONOUNS = {
    "i", "me", "my", "mine", "we", "us", "our", "ours", "you", "your", "he", "him", "his", "she", "her",
    "hers", "it", "its", "they", "them", "their", "theirs", "this", "that", "these", "those", "here",
    "there", "who", "which", "itself", "himself", "herself", "themselves",
}  # fmt: skip
# Role titles: a mention made only of these ("The President", "Man of the Match") is not a name.
TITLE_WORDS = {
    "president", "ambassador", "chairman", "director", "professor", "minister", "mayor", "judge",
    "captain", "coach", "secretary", "general", "prime", "co-founder", "founder", "man", "match", "mr.",
    "mrs.", "ms.", "dr.",
}  # fmt: skip
QUOTE_CHARS = '"“”„«»'
SINGLE_QUOTES = "'‘’"
_POSSESSIVE = re.compile(r"(?:'s|’s|(?<=s)'|(?<=s)’)$")
_LANG_TAG = re.compile(r"\s*\(\([a-z]{2,3}\)\)$")


# ------------------------------------------------------------------------------------------ entities


def readable_identity(identity: str) -> str:
    """``Washington%2C_D.C.`` -> ``Washington, D.C.``."""
    return unquote(identity).replace("_", " ").strip()


def strip_disambiguator(name: str) -> str:
    """``Joker (character)`` -> ``Joker``."""
    return re.sub(r"\s+\([^()]*\)$", "", name)


def is_sentence_initial(text: str, start: int) -> bool:
    before = text[:start].rstrip(" ")
    return not before or before[-1] in "\n.!?:" or before[-1] in QUOTE_CHARS


def alias_of(mention: str, start: int, text: str, lowercase_words: set[str]) -> str | None:
    """The mention as a name, or None when it is a pronoun or a common-noun phrase.

    A name: after dropping a possessive ('s) and a leading lowercase "the", every word other than the
    FUNCTION_WORDS starts with a capital letter or a digit; it is not a lone pronoun/determiner, not an
    indefinite phrase ("a ..."), not a role ("Chairman of ...") nor made only of role titles; and its first
    word is not capitalised merely because it starts a sentence (a sentence-initial first word that also
    occurs in lowercase elsewhere in the article is a common word).
    """
    name = _POSSESSIVE.sub("", mention.strip()).strip()
    if name.startswith("the "):
        name = name[4:]
    words = name.split()
    if not words or words[0] in ("a", "an"):
        return None  # an indefinite phrase ("a Booker Prize-winner") describes, it does not name
    if len(words) > 2 and words[0].lower() in TITLE_WORDS and words[1] == "of":
        return None  # a role ("Chairman of the ...", "Co-founder of Google", "Man of the Match")
    content = [w for w in words if w.lower() not in FUNCTION_WORDS and re.search(r"\w", w)]
    if not content:
        return None
    first = words[0]
    if len(words) == 1 and first.lower() in PRONOUNS and not (len(first) > 1 and first.isupper()):
        return None
    if any(not (_first_char(w).isupper() or _first_char(w).isdigit()) for w in content):
        return None
    if all(w.lower().strip(",") in TITLE_WORDS for w in content):
        return None
    if (
        first is content[0]
        and name == mention.strip()[: len(name)]
        and is_sentence_initial(text, start)
        and first.lower().strip(",.") in lowercase_words
    ):
        return None
    return name


def _first_char(word: str) -> str:
    stripped = word.lstrip("(\"'“‘[")
    return stripped[:1] or word[:1]


def convert_entities(doc: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    text = doc["text"]
    lowercase_words = {w for w in re.findall(r"[\w-]+", text) if w.islower()}

    groups: dict[str, list[dict[str, Any]]] = {}
    for cluster in doc["entities"]:
        if cluster["identity"] is not None:
            groups.setdefault(cluster["identity"], []).append(cluster)

    readable = {identity: readable_identity(identity) for identity in groups}
    short_counts = Counter(strip_disambiguator(r) for r in readable.values())

    entities: list[dict[str, Any]] = []
    identities: dict[str, str] = {}
    for identity, clusters in groups.items():
        weights: Counter[str] = Counter()
        for cluster in clusters:  # majority type by mention count; ties go to the earliest cluster
            weights[TYPE_MAP.get(cluster["type"], "other")] += len(cluster["mentions"])
        etype = max(weights, key=lambda t: (weights[t], -_first_index(clusters, t)))
        spans = sorted({(m["start"], m["end"], m["text"]) for c in clusters for m in c["mentions"]})
        for start, end, mention in spans:
            assert text[start:end] == mention, (doc["doc_id"], start, end, mention)
        short = strip_disambiguator(readable[identity])
        name = short if short_counts[short] == 1 else readable[identity]
        aliases: list[str] = []
        for start, _end, mention in spans:
            alias = alias_of(mention, start, text, lowercase_words)
            if alias and alias not in aliases:
                aliases.append(alias)
        entities.append(
            {
                "name": name,
                "type": etype,
                "aliases": aliases,
                "mentions": [{"start": s, "end": e, "text": t} for s, e, t in spans],
            }
        )
        identities[name] = identity
    entities.sort(key=lambda e: (e["mentions"][0]["start"], e["name"]))
    return entities, {e["name"]: identities[e["name"]] for e in entities}


def _first_index(clusters: list[dict[str, Any]], etype: str) -> int:
    return next(i for i, c in enumerate(clusters) if TYPE_MAP.get(c["type"], "other") == etype)


# ------------------------------------------------------------------------------------------ dates


def date_value(attrs: dict[str, str]) -> str | None:
    """``when`` if present; a closed range as an ISO 8601 interval ``a/b``; an open range as None."""
    if "when" in attrs:
        return attrs["when"]
    low = attrs.get("from", attrs.get("notBefore"))
    high = attrs.get("to", attrs.get("notAfter"))
    if low and high:
        return f"{low}/{high}"
    return None


def convert_dates(doc: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dates, ranges = [], []
    for item in sorted(doc["dates"], key=lambda d: (d["start"], d["end"])):
        attrs = {k: v for k, v in item["attrs"].items() if k != "rend"}
        dates.append({"start": item["start"], "end": item["end"], "text": item["text"], "value": date_value(attrs)})
        if "when" not in attrs:
            ranges.append({"start": item["start"], "text": item["text"], "gum": attrs})
    return dates, ranges


def find_published(doc: dict[str, Any]) -> tuple[str, str]:
    """The dateline (the line after the headline), as GUM normalised it; else ``date_created``."""
    title_line, _, rest = doc["text"].partition("\n")
    dateline = rest.split("\n", 1)[0]
    start = len(title_line) + 1
    for item in doc["dates"]:
        if item["start"] == start and item["text"] == dateline and "when" in item["attrs"]:
            return item["attrs"]["when"], "dateline"
    return doc["date_created"], "date_created"


# ------------------------------------------------------------------------------------------ quotes


def trim_quote(text: str, start: int, end: int) -> tuple[int, int]:
    """Narrow a <quote> span to the quoted words: no quotation marks, language tags or trailing comma."""
    opened_single = text[start:end].lstrip()[:1] in SINGLE_QUOTES
    changed = True
    while changed and start < end:
        changed = False
        span = text[start:end]
        if span[0].isspace() or span[0] in QUOTE_CHARS or (opened_single and span[0] in SINGLE_QUOTES):
            start += 1
            changed = True
            continue
        tag = _LANG_TAG.search(span)
        if tag:
            end -= len(tag.group(0))
            changed = True
            continue
        last = span[-1]
        if last.isspace() or last in QUOTE_CHARS or last == "," or (opened_single and last in SINGLE_QUOTES):
            end -= 1
            changed = True
        elif last == "." and len(span) > 1 and (span[-2] in QUOTE_CHARS or span[-2] == ")"):
            end -= 1  # a full stop after the closing quotation mark belongs to the reporting sentence
            changed = True
    return start, end


def convert_quotes(doc: dict[str, Any]) -> list[dict[str, Any]]:
    quotes = []
    for item in sorted(doc["quotes"], key=lambda q: (q["start"], q["end"])):
        if item["tag"] != "quote":
            continue  # <q> marks scare quotes and titles, not speech
        start, end = trim_quote(doc["text"], item["start"], item["end"])
        quotes.append({"start": start, "end": end, "text": doc["text"][start:end], "speaker": None})
    return quotes


# ------------------------------------------------------------------------------------------ cases


def case_id(doc_id: str) -> str:
    return "gum-news-" + doc_id.removeprefix("GUM_news_")


def convert(doc: dict[str, Any]) -> dict[str, Any]:
    published, published_from = find_published(doc)
    entities, identities = convert_entities(doc)
    dates, ranges = convert_dates(doc)
    return {
        "id": case_id(doc["doc_id"]),
        "title": doc["title"],
        "published": published,
        "provenance": {"source": doc["source_url"], "licence": LICENCE, "credit": CREDIT},
        "metadata": {
            "gum_doc_id": doc["doc_id"],
            "gum_partition": doc["partition"],
            "gum_commit": GUM_COMMIT,
            "date_created": doc["date_created"],
            "published_from": published_from,
            "author": doc["author"],
            "n_tokens": doc["n_tokens"],
            "wikipedia": identities,
            "date_ranges": ranges,
        },
        "text": doc["text"],
        "summaries": [{"text": s["text"], "author": s["author"]} for s in doc["summaries"] if s["is_human"] is True],
        "entities": entities,
        "facts": [],
        "quotes": convert_quotes(doc),
        "quantities": [],
        "dates": dates,
    }


HEADER = (
    "# Generated by evals/convert_gum.py from the GUM corpus ({doc_id}); do not edit by hand.\n"
    "# Text: Wikinews, CC BY 2.5. Annotations: GUM (Zeldes 2017), CC BY 4.0. See evals/README.md.\n"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=DEFAULT_SRC, help="gum_news_dev.jsonl")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (one YAML per article)")
    args = parser.parse_args(argv)

    docs = [json.loads(line) for line in args.src.read_text(encoding="utf-8").splitlines() if line.strip()]
    args.out.mkdir(parents=True, exist_ok=True)
    written = []
    for doc in sorted(docs, key=lambda d: d["doc_id"]):
        data = convert(doc)
        Case.model_validate(data)  # every span checked before anything is written
        body = HEADER.format(doc_id=doc["doc_id"]) + dump_case_yaml(data)
        target = args.out / f"{data['id']}.yaml"
        target.write_bytes(body.encode("utf-8"))
        written.append(target.name)
    for stale in sorted(args.out.glob("gum-news-*.yaml")):
        if stale.name not in written:
            stale.unlink()

    # Round trip: the written files load back with the exact source text.
    loaded = {case.id: case for case in load_cases(args.out)}
    for doc in docs:
        case = loaded[case_id(doc["doc_id"])]
        if case.text != doc["text"]:
            raise SystemExit(f"round trip changed the text of {doc['doc_id']}")
        if [s.text for s in case.summaries] != [s["text"] for s in doc["summaries"] if s["is_human"]]:
            raise SystemExit(f"round trip changed the summaries of {doc['doc_id']}")
    for name in written:
        case = loaded[name.removesuffix(".yaml")]
        print(
            f"{name}: {len(case.entities)} entities, {len(case.dates)} dates, {len(case.quotes)} quotes, "
            f"{len(case.summaries)} summaries, published {case.published}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
