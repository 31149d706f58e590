"""``factkit extract``: grounded summary, facts, entities, quotes and dates of articles.

One article (a file or ``-`` for stdin) prints its result. A batch (``--out FILE``, a folder, or a ``.jsonl``
input) writes one JSON record per input, resumably; see :mod:`factkit.batch`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .. import batch
from .._cost import format_usd
from .._errors import UsageError
from ..batch import DEFAULT_CONCURRENCY, DEFAULT_MAX_INPUT_CHARS, BatchRecord, jsonl_count, read_inputs
from ._common import add_model_options, extractor_from, load_schema, read_input
from ._render import custom_markdown, extraction_markdown


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "extract",
        help="extract a grounded summary and facts from articles",
        description=(
            "Extract a grounded summary and facts from one article, or from many: a folder of .txt/.md files, a "
            '.jsonl file ({"text": ..., "id"?: ..., "published"?: ...} per line) or several files, with --out '
            "FILE.jsonl to write one record per input. Re-running the same command resumes: inputs already in "
            "FILE (same id and text) are skipped, and those that failed on a transient error are retried."
        ),
    )
    p.add_argument(
        "inputs", nargs="+", metavar="INPUT", help="a text file, - for stdin, a folder, or a .jsonl file (a batch)"
    )
    p.add_argument("--format", choices=["json", "jsonl", "md"], default="json", help="output format (one article)")
    p.add_argument(
        "--only",
        metavar="PARTS",
        help="only these parts, comma-separated: entities,quotes,dates,quantities,facts,summary (entities,quotes,dates "
        "makes no model call where the NER pipeline is installed)",
    )
    p.add_argument("--published", help="publication date (YYYY-MM-DD) to resolve relative dates against")
    p.add_argument("--schema", help="your own pydantic model, as package.module:Class (one article)")
    add_model_options(p)
    batch = p.add_argument_group("batches")
    batch.add_argument(
        "--out", metavar="FILE.jsonl", help="write one JSON record per input to FILE (resumable); else to stdout"
    )
    batch.add_argument(
        "--concurrency",
        type=int,
        metavar="N",
        help=f"articles in flight (default: {DEFAULT_CONCURRENCY} for an endpoint, 1 for the local model)",
    )
    batch.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="extract in N processes (a fast remote endpoint on a machine with cores to spare; default: this one)",
    )
    batch.add_argument("--max-cost", type=float, metavar="USD", help="stop before the estimated spend would exceed USD")
    batch.add_argument(
        "--prices", metavar="FILE", help='prices in USD per million tokens: {"model": {"input": .., "output": ..}}'
    )
    batch.add_argument(
        "--max-input-chars",
        type=int,
        metavar="N",
        help=f"longer articles are refused (an error record in a batch; default {DEFAULT_MAX_INPUT_CHARS:,}, "
        "or FACTKIT_MAX_INPUT_CHARS)",
    )
    batch.add_argument(
        "--retry-errors", action="store_true", help="retry every input whose record is an error (not only transient)"
    )
    batch.add_argument("--no-progress", action="store_true", help="no progress bar (there is none unless a terminal)")
    batch.add_argument(
        "--engine",
        choices=["local", "ray"],
        default="local",
        help="local: this machine (default); ray: a Ray cluster (needs factkit[ray]; --out names a folder of shards)",
    )
    batch.add_argument(
        "--address", metavar="ADDR", help="the Ray cluster to join (default: RAY_ADDRESS, else a local one)"
    )
    p.set_defaults(func=run)


def _is_batch(args: argparse.Namespace) -> bool:
    if args.out:
        return True
    return any(s != "-" and (Path(s).is_dir() or s.lower().endswith(".jsonl")) for s in args.inputs)


def _only(args: argparse.Namespace) -> frozenset[str] | None:
    from .._extract import _parts

    return None if not args.only else _parts(args.only)


def run(args: argparse.Namespace) -> int:
    if args.engine == "ray":
        return run_ray(args)
    if args.address:
        raise UsageError("--address names a Ray cluster; give it with --engine ray")
    if _is_batch(args):
        return run_batch(args)
    schema = load_schema(args.schema) if args.schema else None
    texts = [(source, read_input(source)) for source in args.inputs]  # all inputs checked before any call
    extractor = extractor_from(args)
    extractor.only = _only(args)
    for _source, text in texts:
        result = extractor.extract(text, published=args.published, schema=schema)
        if args.format == "md":
            out = custom_markdown(result) if schema else extraction_markdown(result)  # type: ignore[arg-type]
        elif args.format == "jsonl":
            out = result.model_dump_json()
        else:
            out = result.model_dump_json(indent=2)
        sys.stdout.write(out + "\n")
    return 0


def run_batch(args: argparse.Namespace) -> int:
    if args.schema:
        raise UsageError("--schema works on one article at a time; it can't be combined with a batch")
    if "-" in args.inputs:
        raise UsageError("stdin (-) can't be part of a batch; write the articles to files or a .jsonl file")
    if args.out and any(Path(s).resolve() == Path(args.out).resolve() for s in args.inputs):
        raise UsageError(f"--out {args.out} is also an input; write the results to another file")
    items, total = read_inputs(args.inputs, published=args.published)
    extractor = extractor_from(args)
    extractor.only = _only(args)
    if extractor.only is not None and args.workers:
        raise UsageError("--only can't be combined with --workers yet; a model-free sweep needs no workers")

    def to_stdout(record: BatchRecord) -> None:
        if record.error is None or record.error.type != "BudgetError":
            sys.stdout.write(record.to_line() + "\n")
            sys.stdout.flush()

    try:
        outcome = batch.run(
            extractor,
            items,
            total=total,
            concurrency=args.concurrency,
            out=args.out,
            on_result=None if args.out else to_stdout,
            progress=False if args.no_progress else None,
            max_cost=args.max_cost,
            prices=args.prices,
            max_input_chars=args.max_input_chars,
            retry_errors=args.retry_errors,
            workers=args.workers,
            keep=False,
        )
    except KeyboardInterrupt:
        if args.out:
            how = (
                f"the records written so far are whole in {args.out}; run the same command again to go on (what "
                "is done there is skipped)"
            )
        else:
            how = "the records printed so far are whole; give --out FILE to be able to resume a batch"
        print(f"factkit: interrupted; {how}", file=sys.stderr)
        return 130
    out = Path(args.out) if args.out else None
    print(f"factkit: {outcome.summary(out)}", file=sys.stderr)
    budget = outcome.budget
    if outcome.not_started and budget is not None:
        print(
            f"factkit: stopped by --max-cost {format_usd(budget.limit)}: {format_usd(budget.spent)} spent, "
            f"{outcome.not_started} input(s) not started; re-run the same command with a higher --max-cost "
            "to do them",
            file=sys.stderr,
        )
        return 1
    return 1 if outcome.failed or outcome.failed_before else 0


def run_ray(args: argparse.Namespace) -> int:
    """``--engine ray``: the batch on a Ray cluster, into JSONL shards in the folder ``--out`` (see factkit.ray)."""
    if not args.out:
        raise UsageError("--engine ray needs --out DIR/: a folder for the result shards")
    if args.schema or args.only or args.workers:
        raise UsageError("--schema, --only and --workers can't be combined with --engine ray")
    if "-" in args.inputs:
        raise UsageError("stdin (-) can't be part of a batch; write the articles to files or a .jsonl file")
    jsonl = [s for s in args.inputs if s.lower().endswith(".jsonl") and Path(s).is_file()]
    for path in jsonl:
        jsonl_count(Path(path))  # one input contract for every engine: an id on two lines is refused (exit 2)
    done, all_done = _done(args)
    if all_done:
        print(
            f"factkit: {all_done} input(s), all already done in {args.out}; nothing to do (no cluster started)",
            file=sys.stderr,
        )
        return 0
    import logging

    import ray

    from .. import ray as factkit_ray

    if not args.verbose:  # Ray Data's progress lines (a dozen a run at INFO) only with -v
        import ray.data  # it sets its loggers up when imported: quieten them after

        for name in ("ray", "ray.data", *(n for n in logging.root.manager.loggerDict if n.startswith("ray.data"))):
            logging.getLogger(name).setLevel(logging.WARNING)
    if not ray.is_initialized():
        # no dashboard (its agents outlived the run) and Ray's own INFO lines only with -v
        ray.init(
            address=args.address,
            log_to_driver=False,
            include_dashboard=False,
            logging_level=logging.INFO if args.verbose else logging.WARNING,
        )
    if len(jsonl) == len(args.inputs):
        ds = ray.data.read_json(jsonl)  # each line {"text", "id"?, "published"?}, read by the cluster
    else:  # folders and text files: listed and read here, as a local batch reads them
        items, _ = read_inputs(args.inputs, published=args.published)
        rows = []
        for item in items:
            try:
                text: str | bytes | None = item.load()
            except UsageError:
                raise
            except Exception:
                text = None
            rows.append({"id": item.id, "source": item.source or item.id, "text": text, "published": item.published})
        ds = ray.data.from_items(rows)
    extractor = extractor_from(args)
    outcome = factkit_ray.extract_to_folder(
        ds,
        args.out,
        extractor=extractor,
        threads=args.concurrency or 8,
        max_cost=args.max_cost,
        prices=args.prices,
        max_input_chars=args.max_input_chars,
        published=args.published,
        retry_errors=args.retry_errors,
        done=done,
    )
    print(f"factkit: {outcome.summary(Path(args.out))}", file=sys.stderr)
    if outcome.not_started:
        print(
            f"factkit: stopped by --max-cost {format_usd(args.max_cost)}: {outcome.not_started} input(s) not "
            "started; re-run the same command with a higher --max-cost to do them",
            file=sys.stderr,
        )
        return 1
    return 1 if outcome.failed else 0


def _done(args: argparse.Namespace) -> tuple[set[tuple[str, str]], int]:
    """The ``(id, sha256)`` keys the shards in ``--out`` already hold (read once, for the run too), and how many
    inputs there are when those hold every one (then no cluster needs to start); 0 otherwise, or when that can't be
    told cheaply."""
    from ..batch._inputs import sha256_of
    from ..batch._ray import done_keys

    folder = Path(args.out)
    done = done_keys(folder, retry_errors=args.retry_errors) if folder.is_dir() else set()
    if not done:
        return done, 0
    items, _ = read_inputs(args.inputs, published=args.published)
    count = 0
    for item in items:
        try:
            data = item.load()
        except Exception:  # an unreadable input has its error record written by the run
            return done, 0
        if (item.id, sha256_of(data)) not in done:
            return done, 0
        count += 1
    return done, count
