"""``factkit summarize FILE|-``: headline, tldr and grounded key points."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ._common import add_model_options, extractor_from, read_input
from ._render import summary_markdown


def add_parser(sub: Any) -> None:
    p = sub.add_parser("summarize", help="a grounded summary of an article")
    p.add_argument("input", metavar="INPUT", help="a text file, or - for stdin")
    p.add_argument("--format", choices=["json", "md"], default="md", help="output format")
    p.add_argument("--published", help="publication date (YYYY-MM-DD)")
    add_model_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    text = read_input(args.input)
    summary = extractor_from(args).summarize(text, published=args.published)
    out = summary_markdown(summary) if args.format == "md" else summary.model_dump_json(indent=2)
    sys.stdout.write(out + "\n")
    return 0
