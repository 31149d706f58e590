"""``factkit verify CLAIM FILE|-``: does the article support the claim? Supported, contradicted or not found,
with the evidence sentences, the reason, the score and which check decided. Exit 0 when supported, 1 when not
(for scripts and CI). The model answers a yes/no question on the evidence (the configured one, else the embedded
one); ``--rules-only`` asks none."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..checker import verify
from ._common import add_model_options, extractor_from, read_input


def add_parser(sub: Any) -> None:
    p = sub.add_parser("verify", help="check a claim against an article (rules, then the model's yes/no)")
    p.add_argument("claim", metavar="CLAIM", help="the sentence(s) to check")
    p.add_argument("input", metavar="INPUT", help="the article: a text file, or - for stdin")
    p.add_argument("--format", choices=["json", "md"], default="md", help="output format")
    p.add_argument("--rules-only", action="store_true", help="the checker's rules alone: no model call")
    add_model_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    text = read_input(args.input)
    if args.rules_only:
        model: Any = None
    elif args.model or args.base_url or args.backend:
        model = extractor_from(args).backend
    else:
        model = "auto"
    verdict = verify(args.claim, text, model=model)
    if args.format == "json":
        sys.stdout.write(verdict.model_dump_json(indent=2) + "\n")
    else:
        lines = [f"**{verdict.label}** ({verdict.score:.2f}, decided by the {verdict.decided_by}): {verdict.reason}"]
        lines += [f"- [{e.start}:{e.end}] {e.text}" for e in verdict.evidence]
        sys.stdout.write("\n".join(lines) + "\n")
    return 0 if verdict.label == "supported" else 1
