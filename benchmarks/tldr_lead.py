"""The TL;DR against human summaries: ROUGE-1 (F, stemmed) of the lead sentence alone, and of the lead with the
sentences after it that read alone while it is shorter than a bound (``factkit._summary.fuller_tldr``), for a
sweep of bounds (the shipped one is ``TLDR_WORDS``).

References: the first human summary of each article of ``../shared/data/gum-news/`` and, with ``--xsum N``, the
reference summary of the first N articles of ``../shared/data/xsum-faith/`` (one-sentence summaries; XSum removed
each article's first sentence, which was its summary). Nothing of the BBC texts is written anywhere.

    FACTKIT_NER=auto .venv/bin/python benchmarks/tldr_lead.py [--xsum 80]
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
SHARED = REPO.parent / "shared"
BOUNDS = (0, 20, 25, 30, 35, 40, 45)


def articles(xsum: int) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {"gum": []}
    with (SHARED / "data/gum-news/gum_news_dev.jsonl").open(encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            ref = next(s["text"] for s in row["summaries"] if s["key"] == "summary1")
            out["gum"].append((row["text"], ref))
    if xsum:
        out["xsum"] = []
        with gzip.open(SHARED / "data/xsum-faith/xsum_faith_dev.jsonl.gz", "rt", encoding="utf-8") as f:
            for line in f:
                row = json.loads(line)
                if row["system"] == "Gold" and len(out["xsum"]) < xsum:
                    out["xsum"].append((row["document"], row["summary"]))
    return out


def main() -> int:
    import factkit._summary as summary
    from factkit import Extractor
    from factkit._document import Document
    from factkit._ner import PIPELINE, load_pipeline
    from factkit._records import sentence_facts
    from factkit.eval._summary import rouge

    nlp = load_pipeline(PIPELINE)

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--xsum", type=int, default=0, help="also the first N BBC articles' reference summaries")
    args = parser.parse_args()
    extractor = Extractor()
    for name, rows in articles(args.xsum).items():
        records = []
        for text, ref in rows:
            result = extractor.extract(text, only={"facts", "summary"})
            first = sentence_facts(Document.from_text(text), nlp)  # the lead sentence, before anything joins it
            records.append((text, result.facts, first[0].statement if first else "", ref))
        scores = {}
        for bound in BOUNDS:
            summary.TLDR_WORDS = bound
            scores[bound] = statistics.mean(
                rouge(summary.fuller_tldr(text, facts, lead), [ref])[0].rouge1 for text, facts, lead, ref in records
            )
        line = ", ".join(f"{b}: {s:.4f}" for b, s in scores.items())
        print(f"{name} ({len(records)} articles) ROUGE-1 by bound in words (0 = the lead alone): {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
