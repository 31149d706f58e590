"""factkit against an OpenAI-compatible server that answers every request after a fixed 50 ms.

Run from the repository root (``make bench-remote``)::

    .venv/bin/python benchmarks/bench_remote.py [--delay 0.05] [--articles 1000] [--profile]

Prints three figures (targets in brackets):

1. library overhead per extraction: the median time of ``Extractor.extract`` (2 model calls sent together,
   cache off) against the median time of the same two requests made with a bare ``openai`` client, sent
   together too (and, for reference, one after the other) [under 5%];
2. throughput with 32 articles in flight (``extract_many(concurrency=32)``) over the sequential rate
   (``concurrency=1``) [at least 25x], and what a bare ``openai`` client reaches with as many requests in
   flight (the ceiling the machine and client set); then the same with worker processes (``workers=N``);
3. 1,000 articles already in the cache, re-extracted with ``extract_many`` [under 2 s].

The server is :class:`factkit.testing.FakeOpenAIServer` in its own process (as a real endpoint would be), so
its work doesn't compete with the client for the interpreter lock. Its replies are correct extractions of
each article (names and sentences that are really there), so the full grounding work is measured.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "seeds" / "reuters-2018-01-26-cambodians-deportation.txt"


def _serve(delay: float, ready: Any, stop: Any) -> None:
    from factkit.testing import FakeOpenAIServer, Reply, grounded_answer
    from factkit.testing import _server as _fakeserver

    # The handler writes headers and body in two sends; with Nagle's algorithm on, the body then waits for
    # the client's delayed ACK (~40 ms on Linux), which would add 40 ms to every "50 ms" reply.
    _fakeserver._Handler.disable_nagle_algorithm = True

    with FakeOpenAIServer(handler=lambda request: Reply.json(grounded_answer(request), delay=delay)) as server:
        ready.put(server.base_url)
        stop.wait()


_PEOPLE = ["Maria Lopez", "John Carter", "Kenji Watanabe", "Amara Okafor", "Lena Fischer", "Rahul Mehta"]
_PLACES = ["Lagos", "Paris", "Osaka", "Denver", "Lyon", "Pune"]
_OBJECTS = ["a new budget", "the audit", "a bridge contract", "the merger", "a hiring plan", "the flood report"]


def articles(n: int, chars: int = 2000, seed: int = 1) -> list[str]:
    """``n`` distinct news-like articles of about ``chars`` characters."""
    rng = random.Random(seed)
    out = []
    for k in range(n):
        parts, size, i = [], 0, 0
        while size < chars:
            s = (
                f"{rng.choice(_PEOPLE)} said in {rng.choice(_PLACES)} on Tuesday that the council had reviewed "
                f"{rng.randint(2, 900)} pages of {rng.choice(_OBJECTS)} in case {k}-{i}."
            )
            parts.append(s)
            size += len(s) + 1
            i += 1
        out.append(" ".join(parts))
    return out


def _settings(base_url: str, **kw: Any) -> Any:
    from factkit import resolve_settings

    return resolve_settings(base_url=base_url, api_key="sk-bench-not-a-key", model="fake-model", timeout=30, **kw)


def bare_requests(ex: Any, texts: list[str]) -> list[dict[str, Any]]:
    """The requests factkit sends for each text (entities, then facts), as arguments for a bare openai client."""
    from factkit._document import Document
    from factkit._prompts import escape_article
    from factkit._wire import WireEntities, WireFacts

    requests = []
    for text in texts:
        doc = Document.from_text(text)
        published = doc.published.isoformat() if doc.published else None
        for task, model in (("entities", WireEntities), ("facts", WireFacts)):
            messages = ex.prompt.render(task, article=escape_article(doc.numbered()), published=published)
            fmt = {"type": "json_schema", "json_schema": {"name": model.__name__, "schema": model.model_json_schema()}}
            requests.append({"messages": messages, "response_format": fmt})
    return requests


def bare_sender(base_url: str) -> Any:
    """Sends one request with a bare openai client and reads its JSON answer, nothing more."""
    import openai

    client = openai.OpenAI(base_url=base_url, api_key="sk-bench-not-a-key", max_retries=0, timeout=30)

    def send(req: dict[str, Any]) -> None:
        reply = client.chat.completions.create(model="fake-model", temperature=0.0, **req)
        json.loads(reply.choices[0].message.content or "{}")

    return send


def overhead(base_url: str, runs: int) -> tuple[float, float, float]:
    """Median seconds per article: factkit's extract (its two calls sent together), and the same two requests
    with a bare openai client, one after the other and sent together (two threads), as factkit sends them."""
    from factkit import Extractor

    text = SEED.read_text(encoding="utf-8")
    ex = Extractor(settings=_settings(base_url, cache=False))
    ex.extract(text)  # warm up: the client's connection, imports, the prompt
    lib = []
    for _ in range(runs):
        started = time.perf_counter()
        ex.extract(text)
        lib.append(time.perf_counter() - started)

    requests = bare_requests(ex, [text])
    send = bare_sender(base_url)

    pool = ThreadPoolExecutor(max_workers=1)
    sequential, concurrent = [], []
    for i in range(runs + 1):
        started = time.perf_counter()
        for req in requests:
            send(req)
        mid = time.perf_counter()
        other = pool.submit(send, requests[1])
        send(requests[0])
        other.result()
        if i:
            sequential.append(mid - started)
            concurrent.append(time.perf_counter() - mid)
    pool.shutdown()
    return statistics.median(lib), statistics.median(sequential), statistics.median(concurrent)


def raw_ceiling(base_url: str, n_articles: int, in_flight: int) -> tuple[float, float]:
    """Articles per second a bare openai client reaches with the same number of requests in flight (two
    requests an article, no parsing beyond json.loads): the ceiling this machine and client put on any library;
    and the client's CPU seconds per article."""
    from factkit import Extractor

    requests = bare_requests(Extractor(settings=_settings(base_url, cache=False)), articles(n_articles, seed=5))
    send = bare_sender(base_url)

    with ThreadPoolExecutor(max_workers=in_flight) as pool:
        list(pool.map(send, requests[:in_flight]))  # warm up the connections
        started, cpu = time.perf_counter(), time.process_time()
        list(pool.map(send, requests))
    return n_articles / (time.perf_counter() - started), (time.process_time() - cpu) / n_articles


def with_workers(base_url: str, n: int, workers: int) -> float:
    """Articles per second with 32 in flight shared by ``workers`` worker processes (cache off; a batch starts
    its own workers, ~1-2 s, and that is counted)."""
    from factkit import Extractor

    ex = Extractor(settings=_settings(base_url, cache=False))
    texts = articles(n, seed=7)
    started = time.perf_counter()
    records = ex.extract_many(texts, concurrency=32, progress=False, workers=workers)
    assert all(r.ok for r in records), [r.error for r in records if r.error][:3]
    return n / (time.perf_counter() - started)


def throughput(base_url: str, sequential_n: int, parallel_n: int) -> tuple[float, float, float]:
    """Articles per second with one in flight and with 32 in flight (cache off), and CPU seconds per article
    (all of the client's threads) with 32 in flight."""
    from factkit import Extractor

    ex = Extractor(settings=_settings(base_url, cache=False))
    ex.extract_many(articles(4, seed=99), concurrency=4, progress=False)  # warm up
    texts = articles(sequential_n + parallel_n, seed=2)
    started = time.perf_counter()
    records = ex.extract_many(texts[:sequential_n], concurrency=1, progress=False)
    sequential = sequential_n / (time.perf_counter() - started)
    started, cpu = time.perf_counter(), time.process_time()
    records += ex.extract_many(texts[sequential_n:], concurrency=32, progress=False)
    parallel = parallel_n / (time.perf_counter() - started)
    cpu_per_article = (time.process_time() - cpu) / parallel_n
    assert all(r.ok for r in records), [r.error for r in records if r.error][:3]
    return sequential, parallel, cpu_per_article


def cached(base_url: str, n: int, cache_dir: Path) -> tuple[float, float, float, float]:
    """Seconds to extract ``n`` articles (cold); to re-extract them from the warm cache with ``extract_many``
    (all records returned) and as ``factkit extract FILE.jsonl --out NEW.jsonl`` does (records written, not
    kept); and ms/article of a warm ``Extractor.extract`` (model-call cache only: grounding is redone)."""
    from factkit import Extractor
    from factkit.batch import BatchRunner, read_inputs, run_sync

    ex = Extractor(settings=_settings(base_url, cache=True, cache_dir=cache_dir))
    texts = articles(n, seed=3)
    started = time.perf_counter()
    first = ex.extract_many(texts, concurrency=32, progress=False)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    again = ex.extract_many(texts, concurrency=32, progress=False)
    warm = time.perf_counter() - started
    assert all(r.ok for r in first) and all(r.ok for r in again)
    assert all(c.cached for r in again for c in r.usage.calls)
    del first, again

    jsonl = cache_dir / "articles.jsonl"
    jsonl.write_text("".join(json.dumps({"id": str(i), "text": t}) + "\n" for i, t in enumerate(texts)))
    runner = BatchRunner(ex, concurrency=32, out=cache_dir / "results.jsonl", progress=False, keep=False)
    started = time.perf_counter()
    items, total = read_inputs([jsonl])
    outcome = run_sync(lambda: runner.run(items, total))
    warm_cli = time.perf_counter() - started
    assert outcome.extracted == n and all(c.cached for c in outcome.usage.calls)

    sample = texts[:20]
    started = time.perf_counter()
    for text in sample:
        ex.extract(text)
    per_call_cache = (time.perf_counter() - started) / len(sample) * 1000
    return cold, warm, warm_cli, per_call_cache


def profile(base_url: str) -> None:
    import cProfile
    import pstats

    from factkit import Extractor

    text = SEED.read_text(encoding="utf-8")
    ex = Extractor(settings=_settings(base_url, cache=False))
    ex.extract(text)
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(5):
        ex.extract(text)
    prof.disable()
    pstats.Stats(prof, stream=sys.stdout).sort_stats("tottime").print_stats(15)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.05, help="seconds before each reply (default 0.05)")
    parser.add_argument("--articles", type=int, default=1000, help="articles for the cache figure (default 1000)")
    parser.add_argument("--runs", type=int, default=30, help="extractions for the overhead medians (default 30)")
    parser.add_argument("--profile", action="store_true", help="also print where the library's time goes")
    args = parser.parse_args(argv)

    ctx = multiprocessing.get_context("spawn")
    ready, stop = ctx.Queue(), ctx.Event()
    server = ctx.Process(target=_serve, args=(args.delay, ready, stop), daemon=True)
    server.start()
    try:
        base_url = ready.get(timeout=60)
        print(f"factkit remote benchmark: server {base_url}, {args.delay * 1000:.0f} ms per reply")
        lib, raw_seq, raw_conc = overhead(base_url, args.runs)
        pct = (lib - raw_conc) / raw_conc * 100
        print(
            f"1. overhead per extraction: {pct:.1f}% (factkit {lib * 1000:.1f} ms vs {raw_conc * 1000:.1f} ms for the "
            f"same 2 requests sent together with a bare openai client; {(lib - raw_seq) / raw_seq * 100:+.1f}% vs "
            f"{raw_seq * 1000:.1f} ms sent one after the other; median of {args.runs}; target < 5%)"
        )
        seq, par, cpu = throughput(base_url, sequential_n=20, parallel_n=320)
        ceiling, raw_cpu = raw_ceiling(base_url, n_articles=320, in_flight=64)
        print(
            f"2. throughput with 32 articles in flight: {par / seq:.1f}x the sequential rate ({par:.1f} vs {seq:.2f} "
            f"articles/s; target >= 25x), {cpu * 1000:.1f} ms of client CPU an article; a bare openai client with "
            f"the same 64 requests in flight and no parsing: {ceiling:.1f} articles/s, {ceiling / seq:.1f}x "
            f"factkit's sequential rate, {raw_cpu * 1000:.1f} ms of CPU an article ({os.cpu_count()} cores; 25x "
            f"needs at most {1000 / (25 * seq):.1f} ms of CPU an article on one core)"
        )
        workers = max(2, min(8, (os.cpu_count() or 2) - 1))
        multi = with_workers(base_url, n=640, workers=workers)
        print(
            f"   with {workers} worker processes (workers={workers}, 32 in flight, their start included): "
            f"{multi:.1f} articles/s, {multi / seq:.1f}x the sequential rate"
        )
        with tempfile.TemporaryDirectory(prefix="factkit-bench-") as tmp:
            cold, warm, warm_cli, per_call = cached(base_url, args.articles, Path(tmp))
        print(
            f"3. {args.articles} cached articles re-extracted: {warm:.2f} s with extract_many, {warm_cli:.2f} s "
            f"written to a results file as the CLI does (first run {cold:.1f} s; target < 2 s); with the "
            f"model-call cache alone, Extractor.extract takes {per_call:.1f} ms an article"
        )
        if args.profile:
            profile(base_url)
    finally:
        stop.set()
        server.join(timeout=5)
        if server.is_alive():
            server.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
