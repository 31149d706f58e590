"""The claim checker on hand-written claims about one article (``benchmarks/claims/seed.jsonl``: 20 true, mostly
paraphrased; 20 false: reversed relations, overstatements, wrong place, date or number, negation, swapped roles,
invented causes), with the model (the default) and with the rules alone. Prints each miss and the counts, and the
median seconds a claim (a benchmark, not a test).

    .venv/bin/python benchmarks/verify_claims.py [benchmarks/claims/seed.jsonl]
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> int:
    from factkit._document import Document
    from factkit.checker._verify import verify

    path = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "benchmarks/claims/seed.jsonl"
    rows = [json.loads(line) for line in path.open(encoding="utf-8")]
    for how, model in (("rules alone", None), ("rules + model", "auto")):
        right = {True: 0, False: 0}
        seconds = []
        for r in rows:
            doc = Document.from_text(r["document"])
            start = time.perf_counter()
            v = verify(r["summary"], doc, model=model)
            seconds.append(time.perf_counter() - start)
            ok = (v.label == "supported") == r["faithful_majority"]
            right[r["faithful_majority"]] += ok
            if not ok:
                print(f"  miss ({how}): {r['system']}: {v.label} by {v.decided_by} ({v.rule}): {r['summary']}")
        n_true = sum(1 for r in rows if r["faithful_majority"])
        print(
            f"{how}: {right[True] + right[False]}/{len(rows)} right; true claims passed {right[True]}/{n_true}, "
            f"false caught {right[False]}/{len(rows) - n_true}; {statistics.median(seconds):.2f} s a claim (median)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
