"""Speed and memory of the embedded local model on the seed article (issue targets, not unit tests).

Prints three figures, measured on this machine:
  1. full extraction of the seed article, model loaded: median of 5 runs (warm: the previous run's
     article prefix is still in llama.cpp's KV cache, as in a long-lived process; cold: cache reset first);
  2. peak RSS of this process and the model's child process;
  3. `factkit extract seeds/...` as a fresh process, model already assembled, call cache off;
  4. what the model's child process costs a call: the median round trip of an article-sized message.

With --ab, also cold runs with llama-cpp-python's own sampler interleaved with factkit's (their ratio holds
on a machine whose speed drifts; absolute times here vary by ~40% between quiet and busy hours).

Usage: .venv/bin/python benchmarks/bench_local.py [--runs 5] [--json out.json] [--ab]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "reuters-2018-01-26-cambodians-deportation.txt"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument(
        "--ab",
        action="store_true",
        help="also time cold runs with llama-cpp-python's own sampler, interleaved with factkit's (a ratio that "
        "holds on a noisy machine)",
    )
    args = parser.parse_args()

    import factkit
    from factkit import resolve_settings

    settings = resolve_settings(backend="local", cache=False)
    extractor = factkit.Extractor(settings=settings)
    text = SEED.read_text(encoding="utf-8")
    t0 = time.perf_counter()
    backend = extractor.backend
    load_s = time.perf_counter() - t0

    # what running the model in a child process costs a call: a round trip of a prompt-sized message
    payload = {"pad": text}
    trips = []
    for _ in range(200):
        t = time.perf_counter()
        backend.call("reset", payload)  # type: ignore[attr-defined]
        trips.append(time.perf_counter() - t)
    trip_ms = statistics.median(trips) * 1000

    def once(cold: bool) -> tuple[float, factkit.Extraction]:
        if cold:
            backend.call("reset")  # type: ignore[attr-defined]  # forget the KV prefix of the previous run
        start = time.perf_counter()
        result = extractor.extract(text, published="2018-01-26")
        return time.perf_counter() - start, result

    cold = [once(True)[0] for _ in range(args.runs)]
    warm_runs = [once(False) for _ in range(args.runs)]
    warm = [t for t, _ in warm_runs]
    result = warm_runs[-1][1]
    # the model runs in a child process: its peak (VmHWM) plus this process's
    rss_gb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss + child_peak_kb(backend)) / 1024 / 1024

    ab: dict[str, list[float]] = {"factkit": [], "stock": []}
    if args.ab:
        for _ in range(args.runs):
            ab["factkit"].append(once(True)[0])
            backend.call("sampler", {"name": "stock"})  # type: ignore[attr-defined]
            try:
                ab["stock"].append(once(True)[0])
            finally:
                backend.call("sampler", {"name": "fast"})  # type: ignore[attr-defined]

    env = {**os.environ, "FACTKIT_CACHE": "0"}
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "factkit", "extract", str(SEED), "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    fresh_s = time.perf_counter() - start

    figures = {
        "model_load_s": round(load_s, 2),
        "seed_cold_median_s": round(statistics.median(cold), 1),
        "seed_cold_runs_s": [round(t, 1) for t in cold],
        "seed_warm_median_s": round(statistics.median(warm), 1),
        "seed_warm_runs_s": [round(t, 1) for t in warm],
        "peak_rss_gb": round(rss_gb, 2),
        "child_round_trip_ms": round(trip_ms, 3),
        "fresh_process_s": round(fresh_s, 1),
        "fresh_process_rc": proc.returncode,
        "prompt_tokens": result.usage.prompt_tokens,
        "completion_tokens": result.usage.completion_tokens,
        "facts": len(result.facts),
        "entities": len(result.entities),
        "quotes": len(result.quotes),
        "cpu_count": os.cpu_count(),
    }
    print(f"model load                 {figures['model_load_s']:>6} s")
    print(f"seed extraction, cold      {figures['seed_cold_median_s']:>6} s median of {args.runs} {times_list(cold)}")
    print(f"seed extraction, warm      {figures['seed_warm_median_s']:>6} s median of {args.runs} {times_list(warm)}")
    print(f"peak RSS                   {figures['peak_rss_gb']:>6} GB (this process + the model's)")
    print(
        f"child-process round trip   {trip_ms:>6.3f} ms a call ({len(text):,} characters each way; an extraction "
        "makes 2 calls)"
    )
    print(f"fresh `factkit extract`    {figures['fresh_process_s']:>6} s (exit {proc.returncode})")
    print(
        f"tokens per extraction      {result.usage.prompt_tokens} prompt + {result.usage.completion_tokens} completion"
    )
    if args.ab:
        fast, stock = statistics.median(ab["factkit"]), statistics.median(ab["stock"])
        figures["ab_factkit_runs_s"] = [round(t, 1) for t in ab["factkit"]]
        figures["ab_stock_runs_s"] = [round(t, 1) for t in ab["stock"]]
        print(
            f"sampler A/B, cold, interleaved: factkit {fast:.1f} s {times_list(ab['factkit'])} vs llama-cpp-python "
            f"{stock:.1f} s {times_list(ab['stock'])}: {stock / fast:.2f}x"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    return 0 if proc.returncode == 0 else 1


def child_peak_kb(backend: object) -> int:
    pid = getattr(getattr(backend, "process", None), "pid", None)
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def times_list(times: list[float]) -> str:
    return "[" + ", ".join(f"{t:.1f}" for t in times) + "]"


if __name__ == "__main__":
    sys.exit(main())
