"""``factkit extract FILE|-``: grounded summary, facts, entities, quotes and dates of an article."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ._common import add_model_options, extractor_from, load_schema, read_input
from ._render import custom_markdown, extraction_markdown


def add_parser(sub: Any) -> None:
    p = sub.add_parser("extract", help="extract a grounded summary and facts from an article")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="a text file, or - for stdin")
    p.add_argument("--format", choices=["json", "jsonl", "md"], default="json", help="output format")
    p.add_argument("--published", help="publication date (YYYY-MM-DD) to resolve relative dates against")
    p.add_argument("--schema", help="your own pydantic model, as package.module:Class")
    add_model_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    schema = load_schema(args.schema) if args.schema else None
    texts = [(source, read_input(source)) for source in args.inputs]  # all inputs checked before any call
    extractor = extractor_from(args)
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
