"""``factkit.verify`` as a faithfulness judge on the XSum hallucination annotations (Maynez et al. 2020), with its
support threshold chosen by 5-fold cross-validation grouped by article, against the lexical judge cross-validated
the same way.

A summary is judged faithful when ``verify`` labels it "supported" (every sentence supported). For each held-out
fold the threshold is the one that maximises balanced accuracy on the other four folds; the same article (bbcid)
is never in both. Reported: balanced accuracy per held-out fold and their mean, the recall of unfaithful pairs
whose hallucinations the annotators marked intrinsic (any span) vs extrinsic only, and CPU seconds per summary.

Run from the repository root (reads ``../shared``; nothing is written into the repository: the BBC texts may not
be committed)::

    .venv/bin/python benchmarks/faithfulness_cv.py [--nlp auto|off] [--limit N]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
SHARED = REPO.parent / "shared"
FOLDS = 5
GRID = [i / 100 for i in range(0, 101)]


def balanced_accuracy(gold: Sequence[bool], judged: Sequence[bool]) -> float:
    """Mean recall of the faithful and the unfaithful class."""
    pos = [j for g, j in zip(gold, judged, strict=True) if g]
    neg = [j for g, j in zip(gold, judged, strict=True) if not g]
    faithful_recall = sum(pos) / len(pos) if pos else 0.0
    unfaithful_recall = sum(not j for j in neg) / len(neg) if neg else 0.0
    return (faithful_recall + unfaithful_recall) / 2


def cross_validate(
    scores: list[float], vetoed: list[bool], gold: list[bool], folds: list[int]
) -> tuple[list[float], list[float], list[bool]]:
    """Per held-out fold: (balanced accuracy, chosen threshold); and every pair's held-out prediction.

    A pair is judged faithful when it is not vetoed (a contradiction, a missing number) and its score reaches
    the threshold."""

    def judge(i: int, t: float) -> bool:
        return not vetoed[i] and scores[i] >= t

    accuracies, thresholds = [], []
    predicted = [False] * len(scores)
    for k in range(FOLDS):
        train = [i for i, f in enumerate(folds) if f != k]
        test = [i for i, f in enumerate(folds) if f == k]
        best = max(GRID, key=lambda t: (balanced_accuracy([gold[i] for i in train], [judge(i, t) for i in train]), -t))
        thresholds.append(best)
        accuracies.append(balanced_accuracy([gold[i] for i in test], [judge(i, best) for i in test]))
        for i in test:
            predicted[i] = judge(i, best)
    return accuracies, thresholds, predicted


def by_type(types: list[str], gold: list[bool], predicted: list[bool]) -> dict[str, dict[str, float]]:
    """Recall of unfaithful pairs by hallucination type, and balanced accuracy of each type with all faithful
    pairs."""
    out = {}
    for kind in ("intrinsic", "extrinsic"):
        idx = [i for i, t in enumerate(types) if t == kind and not gold[i]]
        keep = idx + [i for i, g in enumerate(gold) if g]
        out[kind] = {
            "unfaithful_pairs": len(idx),
            "unfaithful_recall": round(sum(not predicted[i] for i in idx) / len(idx), 4) if idx else 0.0,
            "balanced_accuracy_with_faithful": round(
                balanced_accuracy([gold[i] for i in keep], [predicted[i] for i in keep]), 4
            ),
        }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", nargs="?", default=str(SHARED / "data" / "xsum-faith" / "xsum_faith_dev.jsonl.gz"))
    parser.add_argument("--nlp", default="auto", help="auto: the pinned spaCy pipeline when installed; off: rules")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from factkit._document import Document
    from factkit._grounding import overlap, unsupported_numbers
    from factkit._ner import PIPELINE, load_pipeline
    from factkit.checker._verify import verify
    from factkit.eval.judge import load_xsum

    pairs = load_xsum(args.data, limit=args.limit)
    # the hallucination type of each pair: "intrinsic" when any annotator marked an intrinsic span
    types: dict[tuple[str, str], str] = {}
    with gzip.open(args.data, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                r = json.loads(line)
                kinds = {s.get("type") for s in r.get("hallucinated_spans", [])}
                kind = "intrinsic" if "intrinsic" in kinds else "extrinsic" if kinds else "none"
                types[(str(r["bbcid"]), r["system"])] = kind
    nlp = load_pipeline(PIPELINE) if args.nlp == "auto" else None

    # folds grouped by article
    ids = sorted({p.bbcid for p in pairs})
    random.Random(args.seed).shuffle(ids)
    fold_of = {b: i % FOLDS for i, b in enumerate(ids)}
    folds = [fold_of[p.bbcid] for p in pairs]
    gold = [p.faithful_majority for p in pairs]

    docs: dict[str, Document] = {}
    scores, vetoed, labels = [], [], []
    started = time.process_time()
    for p in pairs:
        doc = docs.get(p.bbcid) or docs.setdefault(p.bbcid, Document.from_text(p.document))
        v = verify(p.summary, doc, nlp=nlp)
        scores.append(v.score)
        vetoed.append(v.label == "contradicted")
        labels.append(v.label)
    cpu = (time.process_time() - started) / len(pairs)

    lex_scores = [overlap(p.summary, p.document) for p in pairs]
    lex_vetoed = [bool(unsupported_numbers(p.summary, p.document)) for p in pairs]

    def report(
        name: str, s: list[float], veto: list[bool], extra: Callable[[list[bool]], dict[str, Any]]
    ) -> dict[str, Any]:
        acc, thresholds, predicted = cross_validate(s, veto, gold, folds)
        return {
            "judge": name,
            "balanced_accuracy_mean": round(statistics.mean(acc), 4),
            "balanced_accuracy_folds": [round(a, 4) for a in acc],
            "thresholds_chosen": thresholds,
            "pooled_held_out_balanced_accuracy": round(balanced_accuracy(gold, predicted), 4),
            **extra(predicted),
        }

    pair_types = [types.get((p.bbcid, p.system), "none") for p in pairs]
    result: dict[str, Any] = {
        "pairs": len(pairs),
        "faithful_pairs": sum(gold),
        "articles": len(ids),
        "folds": FOLDS,
        "nlp": "spaCy " + PIPELINE if nlp is not None else "off (rules only)",
        "verify": report(
            "verify", scores, vetoed, lambda pred: {"by_hallucination_type": by_type(pair_types, gold, pred)}
        ),
        "verify_labels": {k: labels.count(k) for k in ("supported", "contradicted", "not_found")},
        "lexical": report(
            "lexical", lex_scores, lex_vetoed, lambda pred: {"by_hallucination_type": by_type(pair_types, gold, pred)}
        ),
        "cpu_seconds_per_summary": round(cpu, 5),
    }
    print(json.dumps(result, indent=2))
    v, lex = result["verify"], result["lexical"]
    print()
    print("| judge | CV balanced accuracy (mean) | held-out folds | thresholds |")
    print("|---|---|---|---|")
    for r in (v, lex):
        folds_txt = ", ".join(f"{a:.3f}" for a in r["balanced_accuracy_folds"])
        print(f"| {r['judge']} | {r['balanced_accuracy_mean']:.3f} | {folds_txt} | {r['thresholds_chosen']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
