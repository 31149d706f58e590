"""The ``factkit`` command line: one module per subcommand, each with ``add_parser`` and ``run``."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence

from .._config import ENV_VARS
from .._errors import ConfigError, FactkitError, InputError, StorageError, UsageError, redact


def build_parser() -> argparse.ArgumentParser:
    import importlib

    from . import batch, doctor, extract, summarize, verify

    try:
        eval_cmd = importlib.import_module("factkit.cli.eval")
    except ImportError:  # pragma: no cover - the eval subcommand is being written
        eval_cmd = None

    settings = "\n".join(f"  {name:<22} {what}" for name, what in ENV_VARS.items())
    parser = argparse.ArgumentParser(
        prog="factkit",
        description="Typed, grounded summaries and fact records from article text.",
        epilog=f"settings (arguments win over the environment):\n{settings}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log progress (-vv: debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    extract.add_parser(sub)
    summarize.add_parser(sub)
    doctor.add_parser(sub)
    verify.add_parser(sub)
    batch.add_parser(sub)
    if eval_cmd is not None:
        eval_cmd.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    _listen_for_ctrl_c()
    level = logging.WARNING if args.verbose == 0 else logging.INFO if args.verbose == 1 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log = logging.getLogger("factkit")
    previous_level = log.level
    log.addHandler(handler)
    log.setLevel(level)
    noisy = logging.getLogger("instructor")  # its multi-line retry blocks: only with -vv
    if args.verbose >= 2:
        noisy.addHandler(handler)
    try:
        code: int = args.func(args)
        return code
    except (InputError, UsageError) as exc:
        print(f"factkit: error: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    except StorageError as exc:
        print(f"factkit: error: {_one_line(str(exc))}", file=sys.stderr)
        return 1
    except FactkitError as exc:
        kind = "configuration" if isinstance(exc, ConfigError) else "model"
        print(f"factkit: {kind} error: {_one_line(str(exc))}", file=sys.stderr)
        return 2 if kind == "configuration" else 1
    except KeyboardInterrupt:
        print("factkit: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # last resort: one line, no secrets
        print(f"factkit: internal error: {_one_line(redact(type(exc).__name__ + ': ' + str(exc)))}", file=sys.stderr)
        return 1
    finally:
        log.removeHandler(handler)
        noisy.removeHandler(handler)
        log.setLevel(previous_level)  # main() runs in-process too (tests, notebooks): leave logging as it was


def _listen_for_ctrl_c() -> None:
    """A shell without job control starts background commands with SIGINT ignored, and Python keeps it so: a
    Ctrl-C (or ``kill -INT``) would then never stop a long batch. factkit always stops on it, cleanly."""
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _one_line(message: str) -> str:
    """Error messages print on one line, however the exception wrote them."""
    return "; ".join(line.strip() for line in message.splitlines() if line.strip())
