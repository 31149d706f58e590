"""Time the quantity finder (model-free) on every sentence of the GUM news articles and the seed: milliseconds a
sentence, median of 5 passes (target: at most 2 ms a sentence on 2 cores).

    .venv/bin/python benchmarks/bench_quantities.py
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from factkit._document import split_sentences
from factkit.rules.quantities import find_quantities

REPO = Path(__file__).resolve().parent.parent
GUM = REPO.parent / "shared" / "data" / "gum-news" / "gum_news_dev.jsonl"


def main() -> int:
    texts = [(REPO / "seeds" / "reuters-2018-01-26-cambodians-deportation.txt").read_text(encoding="utf-8")]
    if GUM.is_file():
        texts += [json.loads(line)["text"] for line in GUM.read_text(encoding="utf-8").splitlines() if line.strip()]
    sentences = [s.text for text in texts for s in split_sentences(text)]
    find_quantities("warm up: 5 km, $3bn, 40 per cent")  # loads pint and lemminflect once
    times = []
    found = 0
    for _ in range(5):
        started = time.perf_counter()
        found = sum(len(find_quantities(s)) for s in sentences)
        times.append(time.perf_counter() - started)
    per = statistics.median(times) / len(sentences) * 1000
    print(f"quantities: {len(sentences)} sentences, {found} quantities; median {per:.3f} ms a sentence "
          "(target <= 2 ms)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
