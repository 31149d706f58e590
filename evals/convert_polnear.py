"""Convert the PolNeAR dev split into factkit evaluation fixtures (quotes and their speakers), one YAML per article.

Usage (from the repository root)::

    .venv/bin/python evals/convert_polnear.py [--src ../shared/data/polnear/polnear_dev.jsonl.gz] [--out evals/polnear]
    .venv/bin/factkit eval evals/polnear        # the configured model on them (quotes: found, speakers)

**Never commit the output** (``evals/polnear/`` is git-ignored): the articles are copyrighted and the corpus states
no licence; it is read from ``../shared`` at evaluation time only.

Conversion, as ``../shared/tools/score_polnear.py`` counts: one annotator per article (the first); a gold quote is
an attribution whose content holds a double quotation mark; its span is the content's stretch from the first
opening mark to the last closing one, marks excluded (the whole content when the marks don't pair up); its speaker
is the attribution's source up to its first comma or parenthesis ("Rep. Elijah E. Cummings (D-Md.)" -> "Rep. Elijah
E. Cummings") when that names someone (a capitalised word that is not a pronoun or a title), else unlabelled
(``he``, ``a spokesman``).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from factkit.eval._fixtures import dump_case_yaml  # noqa: E402

DEFAULT_SRC = ROOT.parent / "shared" / "data" / "polnear" / "polnear_dev.jsonl.gz"
DEFAULT_OUT = ROOT / "evals" / "polnear"
_OPEN, _CLOSE = '"“', '"”'
_PRONOUNS = {"he", "she", "they", "it", "we", "i", "you", "his", "her", "their", "him", "them"}
_TITLES = {"the", "a", "an", "mr", "mrs", "ms", "dr", "sen", "rep", "gov", "president", "of", "and"}


def names_someone(source: str) -> bool:
    words = {w.lower().strip(".,'’s") for w in re.findall(r"[A-Z][\w’'.-]+", source)}
    return bool(words - _PRONOUNS - _TITLES)


def quoted_part(text: str, start: int, end: int) -> tuple[int, int]:
    """The stretch inside the quotation marks of ``text[start:end]`` (marks excluded)."""
    segment = text[start:end]
    first = min((i for i in (segment.find(c) for c in _OPEN) if i != -1), default=-1)
    last = max(segment.rfind(c) for c in _CLOSE)
    if first == -1 or last <= first:
        return start, end
    a, b = start + first + 1, start + last
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return (a, b) if b > a else (start, end)


def convert(record: dict[str, Any]) -> dict[str, Any]:
    text = record["text"]
    quotes = []
    for attribution in record["attributions"]:
        spans = [sp for c in attribution.get("content", []) for sp in c["spans"]]
        if not spans or not any(ch in text[s:e] for s, e in spans for ch in '"“”'):
            continue
        start, end = quoted_part(text, min(s for s, _ in spans), max(e for _, e in spans))
        source = " ".join(" ".join(s["text"] for s in attribution.get("source", [])).split())
        source = re.split(r",|\s\(", source)[0].strip()  # the name, without its apposition or party
        quotes.append(
            {
                "start": start,
                "end": end,
                "text": text[start:end],
                "speaker": source if names_someone(source) else None,
            }
        )
    return {
        "id": "polnear-" + re.sub(r"[^A-Za-z0-9._-]+", "-", record["doc_id"]),
        "title": record.get("title"),
        "published": record.get("publication_date"),
        "provenance": {
            "source": f"PolNeAR ({record.get('publisher')}, {record.get('publication_date')}): {record['doc_id']}",
            "licence": "none stated; the article is copyrighted: research use only, never commit this file",
            "credit": "PolNeAR: Newell, Margolin and Ruths (2018), LREC",
        },
        "metadata": {"annotator": record.get("annotator"), "split": record.get("split")},
        "text": text,
        "quotes": quotes,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--src", default=str(DEFAULT_SRC))
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    seen: set[str] = set()
    quotes = 0
    with gzip.open(args.src, "rt", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            if record["doc_id"] in seen:  # a second annotator of the same article
                continue
            seen.add(record["doc_id"])
            case = convert(record)
            quotes += len(case["quotes"])
            (out / f"{case['id']}.yaml").write_text(dump_case_yaml(case), encoding="utf-8")
    print(f"{len(seen)} articles, {quotes} direct quotes -> {out} (do not commit it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
