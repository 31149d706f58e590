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
        "--entities-ab",
        action="store_true",
        help="also time cold runs that ask the model for entities (FACTKIT_ENTITIES=llm, as before NER) interleaved "
        "with the default (entities from NER, one model call)",
    )
    parser.add_argument(
        "--kernels-ab",
        action="store_true",
        help="also time cold runs with llama.cpp's portable kernels (FACTKIT_LOCAL_KERNELS=safe, what a build with "
        "AMX kernels gets) interleaved with the default ones",
    )
    parser.add_argument(
        "--isolation-ab",
        action="store_true",
        help="also time cold runs with the model loaded in this process (as before it moved to a child process), "
        "interleaved with the child-process runs: what the isolation costs an article",
    )
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

    iso: dict[str, list[float]] = {"child": [], "in_process": []}
    if args.isolation_ab:
        inproc = in_process_extractor(backend, settings)
        for _ in range(args.runs):
            iso["child"].append(once(True)[0])
            inproc.backend.runner.handle("reset", {})  # type: ignore[attr-defined]
            start = time.perf_counter()
            inproc.extract(text, published="2018-01-26")
            iso["in_process"].append(time.perf_counter() - start)

    def against(other: factkit.Extractor) -> tuple[list[float], list[float]]:
        """Cold runs of the default extractor interleaved with cold runs of ``other`` (their ratio holds on a
        machine whose speed drifts)."""
        mine, theirs = [], []
        for _ in range(args.runs):
            mine.append(once(True)[0])
            other.backend.call("reset")  # type: ignore[attr-defined]
            start = time.perf_counter()
            other.extract(text, published="2018-01-26")
            theirs.append(time.perf_counter() - start)
        return mine, theirs

    ents: dict[str, list[float]] = {"ner": [], "llm": []}
    if args.entities_ab:
        ents["ner"], ents["llm"] = against(factkit.Extractor(settings=settings.model_copy(update={"entities": "llm"})))

    kern: dict[str, list[float]] = {"auto": [], "safe": []}
    if args.kernels_ab:
        safe = factkit.Extractor(settings=settings.model_copy(update={"local_kernels": "safe"}))
        kern["auto"], kern["safe"] = against(safe)
        safe.backend.close()  # type: ignore[attr-defined]

    # what the claim checker's model half costs: the seed, cold (the checker's question evicts the article's cached
    # prefix, so warm runs would not compare), with the checks asking the model (the default) against the rules
    # alone, interleaved; and factkit.verify on the hand-written seed claims, one by one
    checks: dict[str, list[float]] = {"model": [], "rules": []}
    checks["model"], checks["rules"] = against(
        factkit.Extractor(settings=settings.model_copy(update={"verify": "rules"}))
    )
    from factkit.checker._verify import verify

    claims = [json.loads(line)["summary"] for line in (ROOT / "benchmarks/claims/seed.jsonl").open(encoding="utf-8")]
    verify_s = []
    for claim in claims:
        start = time.perf_counter()
        verify(claim, text, model=backend)
        verify_s.append(time.perf_counter() - start)

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
        "seed_cold_checks_by_model_median_s": round(statistics.median(checks["model"]), 2),
        "seed_cold_checks_by_rules_median_s": round(statistics.median(checks["rules"]), 2),
        "verify_claim_median_s": round(statistics.median(verify_s), 2),
        "verify_claim_max_s": round(max(verify_s), 2),
    }
    print(f"model load                 {figures['model_load_s']:>6} s")
    print(f"seed extraction, cold      {figures['seed_cold_median_s']:>6} s median of {args.runs} {times_list(cold)}")
    print(f"seed extraction, warm      {figures['seed_warm_median_s']:>6} s median of {args.runs} {times_list(warm)}")
    print(
        f"seed, cold, checks by model {figures['seed_cold_checks_by_model_median_s']:>6} s median; rules alone "
        f"{figures['seed_cold_checks_by_rules_median_s']} s (interleaved)"
    )
    print(
        f"factkit.verify, a claim     {figures['verify_claim_median_s']:>6} s median of {len(verify_s)} "
        f"(max {figures['verify_claim_max_s']} s)"
    )
    print(f"peak RSS                   {figures['peak_rss_gb']:>6} GB (this process + the model's)")
    print(
        f"child-process round trip   {trip_ms:>6.3f} ms a call ({len(text):,} characters each way; an extraction "
        "makes 1 or 2 calls)"
    )
    print(f"fresh `factkit extract`    {figures['fresh_process_s']:>6} s (exit {proc.returncode})")
    print(
        f"tokens per extraction      {result.usage.prompt_tokens} prompt + {result.usage.completion_tokens} completion"
    )
    comparisons = [
        (args.ab, "sampler", ("factkit", ab["factkit"]), ("llama-cpp-python", ab["stock"]), "x"),
        (args.entities_ab, "entities", ("from NER", ents["ner"]), ("from the model", ents["llm"]), "saved"),
        (args.kernels_ab, "kernels", ("default", kern["auto"]), ("portable (safe)", kern["safe"]), "x"),
        (args.isolation_ab, "isolation", ("child process", iso["child"]), ("in-process", iso["in_process"]), "%"),
    ]
    for wanted, name, (label_a, runs_a), (label_b, runs_b), verdict in comparisons:
        if wanted:
            print(report_ab(figures, name, label_a, runs_a, label_b, runs_b, verdict))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    return 0 if proc.returncode == 0 else 1


def report_ab(
    figures: dict[str, object], name: str, label_a: str, a: list[float], label_b: str, b: list[float], verdict: str
) -> str:
    """Record an interleaved A/B in ``figures`` and say it in one line (medians; ``verdict``: how B compares)."""
    ma, mb = statistics.median(a), statistics.median(b)
    figures[f"{name}_a_runs_s"] = [round(t, 1) for t in a]
    figures[f"{name}_b_runs_s"] = [round(t, 1) for t in b]
    compared = {"x": f"{mb / ma:.2f}x", "saved": f"{mb - ma:.1f} s saved", "%": f"{100 * (ma / mb - 1):+.1f} %"}
    return (
        f"{name} A/B, cold, interleaved: {label_a} {ma:.1f} s {times_list(a)} vs {label_b} {mb:.1f} s "
        f"{times_list(b)}: {compared[verdict]}"
    )


def in_process_extractor(child: object, settings: object) -> object:
    """An Extractor whose model is loaded in this process, as before the child process: the same runner and
    request handling, without the pipe."""
    import factkit
    from factkit.backends.base import ChatBackend, Mode, RetryPolicy
    from factkit.backends.local import LlamaRunner, complete_with

    runner = LlamaRunner(dict(child.config))  # type: ignore[attr-defined]

    def create(**kwargs: object) -> object:
        return complete_with(lambda request: runner.handle("chat", request), kwargs)

    backend = ChatBackend(
        create,
        model=child.model,  # type: ignore[attr-defined]
        modes=[Mode.JSON_SCHEMA],
        retry=RetryPolicy(retries=0),
        endpoint="in-process",
        sampling=dict(child.sampling),  # type: ignore[attr-defined]
    )
    backend.name = "local"
    backend.default_reasks = 0  # type: ignore[attr-defined]
    backend.max_chars = child.max_chars  # type: ignore[attr-defined]
    backend.runner = runner  # type: ignore[attr-defined]
    return factkit.Extractor(backend=backend, settings=settings)  # type: ignore[arg-type]


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
