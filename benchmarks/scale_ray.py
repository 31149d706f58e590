"""factkit on Ray against fake OpenAI endpoints: Ray's overhead per article, and throughput as actors grow.

    .venv/bin/python benchmarks/scale_ray.py            # ~2-3 minutes on 2 cores; needs factkit[ray]

1. Overhead: the same short articles through ``extract_many`` (one process) and through ``factkit.ray`` on a
   zero-latency fake endpoint, where all that is measured is factkit's and Ray's own work.
2. Scale: a simulated cluster (``ray.cluster_utils.Cluster``, several logical nodes on this machine) against a fake
   endpoint with a realistic latency per request, with 1, 2, 4 actors and a run-wide limit of requests in flight:
   throughput grows with actors until the shared limit holds it at ``limit / latency`` requests a second.
Prints a table (and writes it as JSON with --json FILE).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
os.environ.setdefault("FACTKIT_NER", "off")
os.environ.setdefault("RAY_DATA_DISABLE_PROGRESS_BARS", "1")

import ray
from ray.cluster_utils import Cluster
from test_batch_support import SECRET, short_articles

import factkit.ray as fr
from factkit import Extractor, resolve_settings
from factkit.testing import FakeOpenAIServer, Reply, grounded_answer

CALLS_PER_ARTICLE = 2  # entities + facts, the fake model's answers (prompts/extract.md)


def settings_for(server: FakeOpenAIServer) -> Any:
    return resolve_settings(
        base_url=server.base_url, api_key=SECRET, model="fake-model", retry_wait_multiplier=0.0, cache=False
    )


def rows_of(n: int, seed: int) -> list[dict[str, Any]]:
    return [{"id": f"s{seed}-{i}", "text": t} for i, t in enumerate(short_articles(n, seed=seed))]


def timed_ray(rows: list[dict[str, Any]], **options: Any) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    out = fr.extract_dataset(ray.data.from_items(rows), **options).take_all()
    elapsed = time.perf_counter() - started
    assert len(out) == len(rows) and all(r["status"] == "extracted" for r in out), {r["status"] for r in out}
    return elapsed, {}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=120, help="articles per measured run")
    parser.add_argument("--latency", type=float, default=0.25, help="seconds per request of the slow endpoint")
    parser.add_argument("--in-flight", type=int, default=8, help="run-wide limit of requests in flight")
    parser.add_argument("--nodes", type=int, default=3, help="logical nodes of the simulated cluster")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args()
    results: dict[str, Any] = {"articles": args.articles, "nodes": args.nodes}

    cluster = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 1, "object_store_memory": 150 * 1024**2, "include_dashboard": False},
    )
    for _ in range(args.nodes - 1):
        cluster.add_node(num_cpus=1, object_store_memory=100 * 1024**2)
    ray.init(address=cluster.address, log_to_driver=False, runtime_env={"env_vars": {"FACTKIT_NER": "off"}})
    ray.data.DataContext.get_current().enable_progress_bars = False
    try:
        # 1. overhead on a zero-latency endpoint
        with FakeOpenAIServer(handler=lambda r: Reply.json(grounded_answer(r))) as server:
            settings = settings_for(server)
            rows = rows_of(args.articles, seed=1)
            ex = Extractor(settings=settings)
            ex.extract_many(rows[:4], progress=False)  # warm: imports, the structured-output mode
            started = time.perf_counter()
            ex.extract_many(rows, concurrency=8, progress=False)
            local_s = time.perf_counter() - started
            fr.extract_dataset(ray.data.from_items(rows_of(4, seed=9)), settings=settings, concurrency=2).take_all()
            cold_s, _ = timed_ray(rows_of(args.articles, seed=2), settings=settings, concurrency=2, threads=4)
            results["overhead"] = {
                "extract_many_s": round(local_s, 2),
                "extract_many_ms_per_article": round(1000 * local_s / args.articles, 1),
                "ray_s": round(cold_s, 2),
                "ray_ms_per_article": round(1000 * cold_s / args.articles, 1),
                "ray_overhead_ms_per_article": round(1000 * (cold_s - local_s) / args.articles, 1),
            }
            print("overhead:", json.dumps(results["overhead"]), flush=True)

        # 2. a slow endpoint: actors x threads against one run-wide limit of requests in flight
        def slow(request: dict[str, Any]) -> Reply:
            return Reply.json(grounded_answer(request), delay=args.latency)

        with FakeOpenAIServer(handler=slow) as server:
            settings = settings_for(server)
            scale = []
            for actors, limit in ((1, None), (2, None), (4, None), (4, args.in_flight)):
                limits = fr.run_limits(max_in_flight=limit) if limit else fr.run_limits()
                rows = rows_of(args.articles, seed=10 + actors + (limit or 0))
                elapsed, _ = timed_ray(
                    rows, settings=settings, concurrency=actors, threads=4, limits=limits, batch_size=8
                )
                stats = ray.get(limits.stats.remote())
                entry = {
                    "actors": actors,
                    "threads_per_actor": 4,
                    "in_flight_limit": limit,
                    "seconds": round(elapsed, 2),
                    "articles_per_s": round(args.articles / elapsed, 1),
                    "requests_per_s": round(stats["requests"] / elapsed, 1),
                    "peak_in_flight": stats["peak_in_flight"],
                    "bound_requests_per_s": round(
                        min(actors * 4 * CALLS_PER_ARTICLE, limit or 10**9) / args.latency, 1
                    ),
                }
                scale.append(entry)
                print("scale:", json.dumps(entry), flush=True)
            results["scale"] = scale
            results["latency_s"] = args.latency
    finally:
        ray.shutdown()
        cluster.shutdown()
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
