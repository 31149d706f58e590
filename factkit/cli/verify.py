"""``factkit verify CLAIM FILE|-``: does the article support the claim? Supported, contradicted or not found,
with the evidence sentences and the reason. Exit 0 when supported, 1 when not (for scripts and CI)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .._verify import verify
from ._common import read_input


def add_parser(sub: Any) -> None:
    p = sub.add_parser("verify", help="check a claim against an article (no model call)")
    p.add_argument("claim", metavar="CLAIM", help="the sentence(s) to check")
    p.add_argument("input", metavar="INPUT", help="the article: a text file, or - for stdin")
    p.add_argument("--format", choices=["json", "md"], default="md", help="output format")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    verdict = verify(args.claim, read_input(args.input))
    if args.format == "json":
        sys.stdout.write(verdict.model_dump_json(indent=2) + "\n")
    else:
        lines = [f"**{verdict.label}** ({verdict.score:.2f}): {verdict.reason}"]
        lines += [f"- [{e.start}:{e.end}] {e.text}" for e in verdict.evidence]
        sys.stdout.write("\n".join(lines) + "\n")
    return 0 if verdict.label == "supported" else 1
