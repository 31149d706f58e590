"""Time ``factkit eval --config benchmarks/compare-recorded.yaml``: three setups replayed over the 14 shipped
fixtures (13 of factkit's schema, one of a user schema), compared with paired bootstrap intervals (target: at most
10 s on 2 cores). Median of 5 runs, each a fresh process (imports included), as a user runs it.

    .venv/bin/python benchmarks/bench_compare.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(5):
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "factkit", "eval", "--config", "benchmarks/compare-recorded.yaml", "-q",
                 "--json", str(Path(tmp) / "c.json")],
                cwd=REPO, check=True, capture_output=True,
            )  # fmt: skip
            times.append(time.perf_counter() - started)
    print(f"factkit eval --config (3 setups x 14 cases, replayed): median {statistics.median(times):.2f} s "
          f"(min {min(times):.2f}, max {max(times):.2f}; target <= 10 s)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
