"""Score the quantity finder against hand-labelled quantities: value P/R/F1, and on the matched values the share
whose normalised unit, bound and change are right.

The development set is ``benchmarks/quantities/gum_seed.jsonl``: every quantity of the seed and of the twelve GUM
Wikinews articles (``../shared/data/gum-news/``, texts CC BY 2.5 Wikinews, annotations by the project), labelled by
reading, following ``benchmarks/quantities/GUIDE.md``, without looking at the finder. A second set of BBC articles
from ``../shared/data/xsum-faith/`` may not be copied into the project: its labels and texts live outside it
(``--extra DIR`` holding ``xsum_docs.jsonl`` and ``labels_xsum_*.jsonl``) and are scored only when given.

    .venv/bin/python benchmarks/quantities_dev.py [--extra ~/.cache/factkit-bench/quant] [--misses]

Runs the same path as ``factkit.extract(text, only={"quantities"})``: the whole article, its dates tagged first.
A gold and a found quantity match when their spans overlap and their values agree within 1%.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
GUM = REPO.parent / "shared" / "data" / "gum-news" / "gum_news_dev.jsonl"
SEED = REPO / "seeds" / "reuters-2018-01-26-cambodians-deportation.txt"
DEV = REPO / "benchmarks" / "quantities" / "gum_seed.jsonl"


def _texts() -> dict[str, str]:
    texts = {"seed": SEED.read_text(encoding="utf-8")}
    if GUM.is_file():
        for line in GUM.read_text(encoding="utf-8").splitlines():
            if line.strip():
                d = json.loads(line)
                texts["gum:" + d["doc_id"]] = d["text"]
    return texts


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= 0.01 * max(abs(a), abs(b)) + 1e-9


def _unit(u: str | None) -> str:
    return " ".join((u or "").casefold().replace("_", " ").split())


def score(name: str, texts: dict[str, str], labels: list[dict[str, Any]], misses: bool) -> dict[str, float]:
    from factkit._document import Document
    from factkit._records import article_quantities

    tp = fp = fn = 0
    right = {"unit": 0, "bound": 0, "change": 0}
    for row in labels:
        text = texts.get(row["source"])
        if text is None:
            print(f"  {name}: no text for {row['source']}; skipped")
            continue
        gold = row["quantities"]
        found = article_quantities(Document.from_text(text))
        used: set[int] = set()
        for g in gold:
            assert text[g["start"] : g["end"]] == g["text"], (row["source"], g)
            match = next(
                (
                    i
                    for i, q in enumerate(found)
                    if i not in used
                    and q.span is not None
                    and q.span.start < g["end"]
                    and g["start"] < q.span.end
                    and _same(q.value, g["value"])
                ),
                None,
            )
            if match is None:
                fn += 1
                if misses:
                    near = text[max(0, g["start"] - 40) : g["end"] + 30]
                    print(f"  missed {row['source']}: {near!r} -> {g['value']}")
                continue
            used.add(match)
            tp += 1
            q = found[match]
            checks = {
                "unit": _unit(q.unit) == _unit(g["unit"]),
                "bound": q.bound == g["bound"],
                "change": (q.change or "none") == g["change"],
            }
            for k, ok in checks.items():
                right[k] += ok
                if misses and not ok:
                    got = {"unit": q.unit, "bound": q.bound, "change": q.change or "none"}[k]
                    print(f"  {k} {row['source']}: {text[max(0, g['start'] - 40) : g['end'] + 30]!r}: "
                          f"{got!r}, gold {g[k]!r}")  # fmt: skip
        for i, q in enumerate(found):
            if i not in used:
                fp += 1
                if misses and q.span is not None:
                    s, e = q.span.start, q.span.end
                    print(f"  extra {row['source']}: {text[max(0, s - 40) : e + 30]!r} -> {q.value} {q.unit}")
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    out = {"gold": tp + fn, "found": tp + fp, "precision": p, "recall": r, "f1": f}
    out.update({k: v / tp if tp else 0.0 for k, v in right.items()})
    print(f"{name}: {tp + fn} gold, {tp + fp} found; value P {p:.3f} R {r:.3f} F1 {f:.3f}; on {tp} matched: "
          f"unit {out['unit']:.3f}, bound {out['bound']:.3f}, change {out['change']:.3f}")  # fmt: skip
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--extra", type=Path, help="a folder with xsum_docs.jsonl and labels_xsum_*.jsonl")
    ap.add_argument("--misses", action="store_true", help="print every miss, extra and wrong unit/bound/change")
    ap.add_argument(
        "--look", nargs="*", default=["labels_xsum_a"], help="the extra label files whose misses may be printed"
    )
    args = ap.parse_args()
    labels = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    score("seed + GUM (development)", _texts(), labels, args.misses)
    if args.extra:
        docs = {}
        for line in (args.extra / "xsum_docs.jsonl").read_text(encoding="utf-8").splitlines():
            d = json.loads(line)
            docs[d["source"]] = d["text"]
        for f in sorted(args.extra.glob("labels_xsum_*.jsonl")):
            extra = [json.loads(line) for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
            score(f"XSum sample {f.stem} (not in the project)", docs, extra, args.misses and f.stem in args.look)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
