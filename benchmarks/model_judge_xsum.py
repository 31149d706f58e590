"""The model judge against people on the XSum hallucination annotations (Maynez et al. 2020), on a balanced random
sample (the embedded model takes seconds a summary, too long for all 1,250 pairs on 2 cores), beside the ``verify``
checker on the same pairs.

For each pair it prints a JSON line (bbcid, system, gold, each judge's verdict and seconds); at the end, balanced
accuracy, the recall of each class, and the median seconds a summary, per judge. Model calls go through the call
cache, so a second run of the same sample is free.

Run from the repository root (reads ``../shared``; nothing is written into the repository)::

    .venv/bin/python benchmarks/model_judge_xsum.py [--per-class 40] [--judges model,verify] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
SHARED = REPO.parent / "shared"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", nargs="?", default=str(SHARED / "data" / "xsum-faith" / "xsum_faith_dev.jsonl.gz"))
    parser.add_argument("--per-class", type=int, default=40, help="faithful and unfaithful pairs each")
    parser.add_argument("--judges", default="model,verify", help="comma list of: model, evidence, verify, lexical")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backend", default="local")
    args = parser.parse_args()

    from factkit import Extractor
    from factkit._config import resolve_settings
    from factkit.eval.judge import JUDGES, load_xsum

    pairs = load_xsum(args.data)
    rng = random.Random(args.seed)
    faithful = [p for p in pairs if p.faithful_majority]
    unfaithful = [p for p in pairs if not p.faithful_majority]
    sample = rng.sample(faithful, args.per_class) + rng.sample(unfaithful, args.per_class)
    rng.shuffle(sample)

    names = [n.strip() for n in args.judges.split(",") if n.strip()]
    extractor = None
    if any(n in ("model", "evidence", "cascade") for n in names):
        extractor = Extractor(settings=resolve_settings(backend=args.backend))
    judges = {n: JUDGES[n](extractor) for n in names}
    verdicts: dict[str, list[bool]] = {n: [] for n in names}
    seconds: dict[str, list[float]] = {n: [] for n in names}
    gold = [p.faithful_majority for p in sample]
    for p in sample:
        row: dict[str, object] = {"bbcid": p.bbcid, "system": p.system, "gold": p.faithful_majority}
        for n, judge in judges.items():
            started = time.perf_counter()
            result = judge.judge(p.document, [p.summary])
            seconds[n].append(time.perf_counter() - started)
            verdicts[n].append(result.faithful)
            row[n] = result.faithful
            row[n + "_why"] = result.verdicts[0].reason[:120]
            row[n + "_s"] = round(seconds[n][-1], 2)
        print(json.dumps(row), flush=True)

    def recall(cls: bool, judged: list[bool]) -> float:
        idx = [i for i, g in enumerate(gold) if g == cls]
        return sum(judged[i] == cls for i in idx) / len(idx)

    print()
    print(f"pairs: {len(sample)}")
    print("| judge | balanced accuracy | faithful recall | unfaithful recall | median s/summary |")
    print("|---|---|---|---|---|")
    for n in names:
        fr, ur = recall(True, verdicts[n]), recall(False, verdicts[n])
        print(f"| {n} | {(fr + ur) / 2:.3f} | {fr:.3f} | {ur:.3f} | {statistics.median(seconds[n]):.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
