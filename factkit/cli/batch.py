"""``factkit batch``: the OpenAI Batch API (half the price, answers within 24 hours).

``factkit batch submit IN... --state run.json`` submits every model call of the inputs, ``factkit batch status
run.json`` shows how the batches are doing, ``factkit batch collect run.json --out results.jsonl`` writes the records
of the inputs finished so far (and submits re-asks as the next round; run it again until it says all are done).
See :mod:`factkit.batch._openai_batch`.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .._config import environment_endpoint
from .._cost import format_usd
from .._errors import UsageError
from ..batch import read_inputs
from ..batch._openai_batch import BatchState, collect, load_state, status, submit
from ._common import add_model_options, extractor_from


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "batch",
        help="extract many articles through the OpenAI Batch API (half the price)",
        description=(
            "Extract through the OpenAI Batch API (or any server with /v1/files and /v1/batches): submit, check the "
            "status, collect. Records are the same as factkit extract --out writes; the cost is the batch price."
        ),
    )
    steps = p.add_subparsers(dest="step", metavar="STEP")
    s = steps.add_parser("submit", help="submit the inputs' model calls as batches")
    s.add_argument("inputs", nargs="+", metavar="INPUT", help="text files, folders or .jsonl files")
    s.add_argument("--state", required=True, metavar="FILE.json", help="the run's state file (a new file)")
    s.add_argument("--published", help="publication date (YYYY-MM-DD) for inputs without their own")
    s.add_argument("--only", metavar="PARTS", help="only these parts, comma-separated (as factkit extract --only)")
    add_model_options(s)
    s.set_defaults(func=run_submit)
    t = steps.add_parser("status", help="how the batches of a run are doing")
    t.add_argument("state", metavar="FILE.json", help="the run's state file")
    add_model_options(t)
    t.set_defaults(func=run_status)
    c = steps.add_parser("collect", help="write the records of the finished inputs; submit re-asks")
    c.add_argument("state", metavar="FILE.json", help="the run's state file")
    c.add_argument("--out", required=True, metavar="FILE.jsonl", help="the results file (appended to, resumable)")
    c.add_argument("--prices", metavar="FILE", help="prices in USD per million tokens (the batch pays half)")
    add_model_options(c)
    c.set_defaults(func=run_collect)
    p.set_defaults(func=lambda args: _no_step(p))


def _no_step(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _extractor(args: argparse.Namespace) -> Any:
    from .._extract import _parts

    extractor = extractor_from(args)
    extractor.only = _parts(args.only) if getattr(args, "only", None) else None
    return extractor


def _report(state: BatchState) -> None:
    print(f"factkit: {state.summary()}", file=sys.stderr)
    for job in state.jobs:
        counts = ", ".join(f"{k} {v}" for k, v in job.request_counts.items())
        print(
            f"  round {job.round}: {job.batch_id or '(not created yet)'} {job.status}: "
            f"{len(job.custom_ids)} request(s){f' ({counts})' if counts else ''}",
            file=sys.stderr,
        )


def run_submit(args: argparse.Namespace) -> int:
    if "-" in args.inputs:
        raise UsageError("stdin (-) can't be part of a batch; write the articles to files or a .jsonl file")
    items, _ = read_inputs(args.inputs, published=args.published)
    state = submit(_extractor(args), items, args.state)
    _report(state)
    return 0


def _settings_from_state(args: argparse.Namespace) -> None:
    """``status`` and ``collect`` need the endpoint and model the run was submitted to: the state file has both.
    Arguments win, then the environment, then the state file."""
    state = load_state(args.state)
    env_url, env_model = environment_endpoint()
    if not args.base_url and not env_url and state.endpoint.startswith(("http://", "https://")):
        args.base_url = state.endpoint
    if not args.model and not env_model:
        args.model = state.model


def run_status(args: argparse.Namespace) -> int:
    _settings_from_state(args)
    state = status(args.state, _extractor(args))
    _report(state)
    if state.done:
        print("factkit: every input is answered: run factkit batch collect", file=sys.stderr)
    return 0


def run_collect(args: argparse.Namespace) -> int:
    _settings_from_state(args)
    extractor = _extractor(args)
    records = collect(args.state, extractor, args.out, prices=args.prices)
    state = load_state(args.state)
    failed = sum(1 for r in records if not r.ok)
    costs = [r.cost_usd for r in records]
    cost = None if any(c is None for c in costs) else sum(c or 0.0 for c in costs)
    print(
        f"factkit: {len(records)} record(s) in {args.out}: {len(records) - failed} extracted, {failed} failed; "
        f"cost {format_usd(cost)} (batch price)",
        file=sys.stderr,
    )
    _report(state)
    if not state.done:
        print("factkit: some inputs wait for a batch: run the same command again later", file=sys.stderr)
        return 3
    return 1 if failed else 0
