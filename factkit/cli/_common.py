"""Options and input handling shared by the subcommands."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from .._api import Extractor
from .._document import check_text, decode_bytes
from .._errors import InputError, UsageError


def add_model_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("model (else FACTKIT_MODEL / FACTKIT_BASE_URL / OPENAI_API_KEY)")
    group.add_argument("--model", help="model name")
    group.add_argument("--base-url", help="OpenAI-compatible endpoint, e.g. http://localhost:11434/v1")
    group.add_argument("--backend", choices=["openai", "local"], help="force a backend")
    group.add_argument("--no-cache", action="store_true", help="always call the model (skip the call cache)")
    group.add_argument("--prompt", help="your own prompt template (see prompts/extract.md)")
    group.add_argument(
        "--max-tokens", type=int, metavar="N", help="the most tokens a model answer may have (FACTKIT_MAX_TOKENS)"
    )


def extractor_from(args: argparse.Namespace) -> Extractor:
    from .._config import resolve_settings

    overrides: dict[str, Any] = {}
    if getattr(args, "no_cache", False):
        overrides["cache"] = False
    if getattr(args, "max_input_chars", None) is not None:
        overrides["max_input_chars"] = args.max_input_chars
    if getattr(args, "max_tokens", None) is not None:
        overrides["max_tokens"] = args.max_tokens
    settings = resolve_settings(
        model=getattr(args, "model", None),
        base_url=getattr(args, "base_url", None),
        backend=getattr(args, "backend", None),
        **overrides,
    )
    return Extractor(settings=settings, prompt=getattr(args, "prompt", None))


def read_input(source: str) -> str:
    """Text of a file, or of stdin for '-': validated as usable UTF-8 text before any model call."""
    if source == "-":
        return check_text(decode_bytes(sys.stdin.buffer.read(), source="<stdin>"), source="<stdin>")
    path = Path(source)
    if not path.exists():
        raise InputError("no such file; check the path", source=source)
    if path.is_dir():
        raise InputError("is a folder; pass a text file", source=source)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read it ({exc.strerror})", source=source) from None
    return check_text(decode_bytes(data, source=source), source=source)


def load_schema(spec: str) -> type[BaseModel]:
    """'pkg.module:Class' -> the class, which must be a pydantic model."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise UsageError(f"--schema {spec!r}: write it as package.module:ClassName")
    sys.path.insert(0, str(Path.cwd()))
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # ImportError, or the module itself failing (SyntaxError, NameError...)
        raise UsageError(f"--schema {spec!r}: cannot import {module_name} ({type(exc).__name__}: {exc})") from None
    finally:
        sys.path.pop(0)
    schema = getattr(module, attr, None)
    if not (isinstance(schema, type) and issubclass(schema, BaseModel)):
        raise UsageError(f"--schema {spec!r}: {attr} is not a pydantic BaseModel class in {module_name}")
    return schema
