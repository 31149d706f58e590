"""``factkit eval``: score an extraction setup against labelled fixtures, and gate CI on the scores.

::

    factkit eval evals/                                   # the configured model on the shipped fixtures
    factkit eval evals/ --replay evals/recorded/local-default.jsonl   # re-score a recorded run, no model
    factkit eval evals/ --json out.json --html out.html --fail-under entities.f1=0.6
    factkit eval faithfulness --data ../shared/data/xsum-faith/xsum_faith_dev.jsonl.gz --judge lexical
    factkit eval --config compare.yaml --md compare.md      # two or more setups side by side, with intervals
    factkit eval compare a.json b.json                      # the same, from two saved reports

Exit codes: 0 every gate passed, 1 a gate failed (each named, with by how much), 2 a usage or input
error (a bad fixture names its file, case and field).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .._errors import ConfigError, InputError, UsageError
from ..eval._fixtures import Case, load_cases
from ..eval._gates import (
    GateFailure,
    Threshold,
    check_baseline,
    check_same_cases,
    check_thresholds,
    load_report,
    parse_threshold,
)
from ..eval._html import render_html
from ..eval._matchers import FACT_FLOOR, FACT_THRESHOLD
from ..eval._record import read_recording
from ..eval._render import markdown, print_report
from ..eval._run import LOWER_IS_BETTER, CustomMetric, ScoreOptions, load_metric, metric_names, run_eval
from ..eval._schema import schema_names
from ..eval._scores import CaseResult, EvalReport
from ..eval._text import lexical_similarity
from ..eval.judge import JUDGES, MODEL_JUDGES, Judge, JudgeScores, XsumPair, load_xsum, measure_judge
from ._common import add_model_options, extractor_from

__all__ = ["add_parser", "run"]

FAITHFULNESS = "faithfulness"
COMPARE = "compare"
#: What a setup of ``--config`` may set.
SETUP_KEYS = ("replay", "base_url", "model", "backend", "prompt", "api_key_env", "max_tokens", "only", "cache")
JUDGE_METRICS = ("accuracy", "balanced_accuracy", "faithful_recall", "unfaithful_f1", "unfaithful_precision",
                 "unfaithful_recall")  # fmt: skip


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``eval`` to the ``factkit`` subcommands; ``args.func`` is :func:`run`."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "eval",
        help="score extractions against labelled fixtures; gate CI on the scores",
        description=(
            "Score the configured model (or a recorded run) against labelled fixtures: per-type precision, "
            "recall and F1, grounding and hallucination rates, summary metrics and cost. "
            "'factkit eval faithfulness --data FILE' measures the faithfulness judge against human labels. "
            "Exit codes: 0 pass, 1 a gate failed, 2 usage or input error."
        ),
        epilog="metrics for --fail-under/--fail-over: " + ", ".join(metric_names()),
    )
    parser.add_argument(
        "target",
        metavar="FIXTURES",
        nargs="?",
        help="a fixture file or folder (e.g. evals/); 'faithfulness' to measure the judge (with --data); 'compare' "
        "to compare saved reports",
    )
    parser.add_argument("reports", nargs="*", metavar="REPORT", help="with 'compare': two or more JSON reports")
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="a YAML file naming the fixtures and two or more setups (replay: FILE, or base_url/model/prompt/...): "
        "runs each, prints them side by side with paired bootstrap intervals (see docs/eval.md)",
    )
    parser.add_argument(
        "--common-cases", action="store_true", help="compare only the cases every report shares (else refused)"
    )
    add_model_options(parser)
    runs = parser.add_argument_group("what to score")
    runs.add_argument("--replay", metavar="FILE", help="score a recorded predictions file instead of calling a model")
    runs.add_argument("--record", metavar="FILE", help="write the predictions to FILE (JSONL) for --replay")
    runs.add_argument("--case", action="append", metavar="ID", help="score only this case (repeatable)")
    runs.add_argument("--limit", type=int, metavar="N", help="score only the first N cases (or xsum pairs)")
    runs.add_argument(
        "--failed-from",
        metavar="REPORT",
        help="run only the cases of a saved JSON report that errored or whose own value fails a gate given here",
    )
    runs.add_argument("--repeats", type=int, default=1, metavar="N", help="run N times; report mean and spread")
    runs.add_argument(
        "--only",
        metavar="PARTS",
        help="extract only these parts (comma-separated; entities,quotes,dates needs no model where NER is "
        "installed): e.g. quotes and speakers of evals/polnear in seconds",
    )
    runs.add_argument(
        "--metric",
        action="append",
        default=[],
        metavar="MODULE:FUNCTION",
        help="a metric of your own, fn(case, extraction) -> number or None per case; reported, gated and compared "
        "as custom.<name> (repeatable; see docs/eval.md)",
    )
    runs.add_argument(
        "--matcher",
        choices=["lexical", "embeddings"],
        default="lexical",
        help="fact similarity: content-word F1 (default) or sentence embeddings (needs sentence-transformers)",
    )
    runs.add_argument(
        "--judge",
        nargs="?",
        const="model",
        choices=["model", "evidence", "lexical", "verify", "rules"],
        help="judge summary faithfulness: with the configured model (costs calls), with the checker of 'factkit "
        "verify' (its rules, then the model's yes/no on the evidence: one short call a sentence), with the older "
        "evidence judge, lexically, or with the checker's rules alone ('rules', no model); off by default for "
        "fixtures, 'verify' for 'factkit eval faithfulness'",
    )
    reports = parser.add_argument_group("reports")
    reports.add_argument("--json", metavar="FILE", help="write the JSON report (schema: docs/eval.md)")
    reports.add_argument("--md", metavar="FILE", help="write a Markdown report")
    reports.add_argument("--html", metavar="FILE", help="write a self-contained HTML report with highlighted spans")
    reports.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no table")
    gates = parser.add_argument_group("gates (exit 1 when one fails)")
    gates.add_argument(
        "--fail-under", action="append", default=[], metavar="METRIC=VALUE", help="fail if METRIC < VALUE"
    )
    gates.add_argument(
        "--fail-over", action="append", default=[], metavar="METRIC=VALUE", help="fail if METRIC > VALUE"
    )
    gates.add_argument("--baseline", metavar="FILE", help="a JSON report to compare with")
    gates.add_argument(
        "--max-drop", type=float, default=0.02, metavar="X", help="largest drop allowed against --baseline (0.02)"
    )
    cost = parser.add_argument_group("cost")
    cost.add_argument("--price-in", type=float, metavar="USD", help="price per 1M prompt tokens")
    cost.add_argument("--price-out", type=float, metavar="USD", help="price per 1M completion tokens")
    faith = parser.add_argument_group("factkit eval faithfulness")
    faith.add_argument("--data", metavar="FILE", help="XSum faithfulness data (xsum_faith_dev.jsonl.gz)")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Run ``factkit eval``; returns the exit code (0 pass, 1 a gate failed, 2 usage or input error)."""
    err = Console(stderr=True, highlight=False)
    try:
        if args.config:
            if args.target or args.reports:
                raise UsageError("--config names the fixtures and the setups; give no FIXTURES with it")
            _refuse_with_compare(args, "--config")
            return _compare(_run_config(args, err), args)
        if args.target == COMPARE and not Path(args.target).exists():
            _refuse_with_compare(args, "compare")
            return _compare(_load_reports(args.reports), args)
        if args.target is None:
            raise UsageError("give FIXTURES (e.g. evals/), 'compare REPORT REPORT...', or --config FILE")
        if args.reports:
            raise UsageError(f"one FIXTURES path, not {1 + len(args.reports)}; 'compare' takes several reports")
        if args.target == FAITHFULNESS and not Path(args.target).exists():
            return _faithfulness(args, err)
        return _evaluate(args, err)
    except (UsageError, InputError, ConfigError) as exc:
        _say(f"factkit eval: error: {exc}")
        return 2


# ---------------------------------------------------------------------------------------------- eval


def _thresholds(args: argparse.Namespace, valid: Sequence[str]) -> list[Threshold]:
    out = [parse_threshold(t, valid, kind="under") for t in args.fail_under]
    out += [parse_threshold(t, valid, kind="over") for t in args.fail_over]
    return out


def _check_args(args: argparse.Namespace) -> None:
    if args.repeats < 1:
        raise UsageError(f"--repeats must be at least 1, not {args.repeats}")
    if args.limit is not None and args.limit < 1:
        raise UsageError(f"--limit must be at least 1, not {args.limit}")
    if args.max_drop < 0:
        raise UsageError(f"--max-drop must not be negative, not {args.max_drop}")
    for name in ("price_in", "price_out"):
        value = getattr(args, name)
        if value is not None and value < 0:
            raise UsageError(f"--{name.replace('_', '-')} must not be negative")


def _select(cases: list[Case], args: argparse.Namespace) -> list[Case]:
    if args.case:
        known = {c.id for c in cases}
        unknown = [c for c in args.case if c not in known]
        if unknown:
            raise UsageError(f"--case: no case {', '.join(map(repr, unknown))}; cases: {', '.join(sorted(known))}")
        cases = [c for c in cases if c.id in set(args.case)]
    return cases[: args.limit] if args.limit else cases


def _failed_only(cases: list[Case], path: str, thresholds: Sequence[Threshold]) -> list[Case]:
    from ..eval._compare import failed_cases

    failed = set(failed_cases(_report_json(path), thresholds))
    return [c for c in cases if c.id in failed]


def _options(args: argparse.Namespace, judge: Judge | None) -> ScoreOptions:
    if args.matcher == "embeddings":
        from ..eval._embeddings import EMBEDDING_FLOOR, EMBEDDING_THRESHOLD, check_available, embedding_similarity

        check_available()
        return ScoreOptions(
            similarity=embedding_similarity,
            fact_threshold=EMBEDDING_THRESHOLD,
            fact_floor=EMBEDDING_FLOOR,
            judge=judge,
            matcher="embeddings",
        )
    return ScoreOptions(
        similarity=lexical_similarity, fact_threshold=FACT_THRESHOLD, fact_floor=FACT_FLOOR, judge=judge
    )


def _progress(err: Console, quiet: bool) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[status]}"),
        console=err,
        disable=quiet,
        transient=False,
    )


def _custom_metrics(args: argparse.Namespace) -> tuple[CustomMetric, ...]:
    metrics = tuple(load_metric(spec) for spec in args.metric)
    names = [m.name for m in metrics]
    if len(set(names)) != len(names):
        raise UsageError(f"--metric: two metrics share a name ({', '.join(names)})")
    return metrics


def _evaluate(args: argparse.Namespace, err: Console) -> int:
    _check_args(args)
    custom = _custom_metrics(args)
    if args.data:
        raise UsageError("--data is for 'factkit eval faithfulness --data FILE'")
    if args.replay and args.record:
        raise UsageError("--replay and --record together: a replayed run is already recorded")
    if args.replay and (args.model or args.base_url or args.no_cache) and args.judge not in MODEL_JUDGES:
        raise UsageError("--replay scores a recorded run without any model; drop --model/--base-url/--no-cache")
    baseline_report = load_report(args.baseline) if args.baseline else None
    cases = _select(load_cases(args.target), args)
    thresholds = _thresholds(args, [*metric_names(), *(f"custom.{m.name}" for m in custom), *schema_names(cases)])
    if args.failed_from:
        cases = _failed_only(cases, args.failed_from, thresholds)
        if not cases:
            _say(f"factkit eval: no case of {args.failed_from} errored or failed a gate given here; nothing to run")
            return 0
    if baseline_report is not None:
        from ..eval._record import text_sha256

        check_same_cases(baseline_report, {c.id: text_sha256(c.article) for c in cases}, args.baseline)
    baseline = dict(baseline_report.metrics) if baseline_report is not None else None
    recording = read_recording(args.replay) if args.replay else None

    extractor = None
    if recording is None or args.judge in MODEL_JUDGES:
        extractor = extractor_from(args)
        if args.only:
            from .._extract import _parts

            extractor.only = _parts(args.only)
    judge: Judge | None = JUDGES[args.judge](extractor) if args.judge else None
    options = _options(args, judge)
    if custom:
        import dataclasses

        options = dataclasses.replace(options, metrics=custom)
    if args.only:  # the parts not run (or not replayed) are "not run", never scored as all missed
        import dataclasses

        from .._extract import _parts

        options = dataclasses.replace(options, parts=_parts(args.only))

    runs = recording.repeats if recording is not None and args.repeats == 1 else args.repeats
    scores: dict[str, list[float]] = {}
    with _progress(err, args.quiet) as progress:
        task = progress.add_task("eval", total=len(cases) * runs, status="")

        def on_case(repeat: int, result: CaseResult) -> None:
            ents = result.types.get("entities")
            if ents is not None:
                scores.setdefault("tp", []).append(ents.tp)
                scores.setdefault("fp", []).append(ents.fp)
                scores.setdefault("fn", []).append(ents.fn)
            tp, fp, fn = (sum(scores.get(k, [])) for k in ("tp", "fp", "fn"))
            f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
            status = f"{result.id}{' (failed)' if result.error else ''} · entities F1 so far {f1:.3f}"
            if result.schema_score is not None:
                status = f"{result.id}{' (failed)' if result.error else ''} · schema score {result.schema_score:.3f}"
            progress.update(task, advance=1, status=status, description=f"run {repeat + 1}/{runs}")

        report = run_eval(
            cases,
            extractor if recording is None else None,
            predictions=recording,
            options=options,
            repeats=args.repeats,
            record=args.record,
            price_in=args.price_in,
            price_out=args.price_out,
            fixtures=args.target,
            on_case=on_case,
        )
    _write_reports(report, args)
    if not args.quiet:
        print_report(report, _stdout())
    if report.cost.errors == len(report.cases):
        _say(
            f"factkit eval: error: every case failed to extract (first: {report.cases[0].error}); "
            "check the model settings"
        )
        return 2
    failures = check_thresholds(report.metrics, thresholds)
    if baseline is not None:
        lower = (*LOWER_IS_BETTER, *(f"custom.{m.name}" for m in custom if m.lower_is_better))
        failures += check_baseline(report.metrics, baseline, max_drop=args.max_drop, lower_is_better=lower)
    return _verdict(failures)


# ---------------------------------------------------------------------------------------------- compare


#: Options of a single run that a comparison would silently ignore: refused instead.
_NOT_WITH_COMPARE = (
    ("fail_under", "--fail-under"),
    ("fail_over", "--fail-over"),
    ("baseline", "--baseline"),
    ("model", "--model"),
    ("base_url", "--base-url"),
    ("backend", "--backend"),
    ("prompt", "--prompt"),
    ("no_cache", "--no-cache"),
    ("replay", "--replay"),
    ("record", "--record"),
    ("judge", "--judge"),
    ("only", "--only"),
    ("data", "--data"),
    ("price_in", "--price-in"),
    ("price_out", "--price-out"),
    ("max_tokens", "--max-tokens"),
    ("failed_from", "--failed-from"),
)


def _refuse_with_compare(args: argparse.Namespace, how: str) -> None:
    given = [flag for name, flag in _NOT_WITH_COMPARE if getattr(args, name, None)]
    if args.repeats != 1:
        given.append("--repeats")
    if how == "compare" and (args.case or args.limit):
        given += [flag for flag, value in (("--case", args.case), ("--limit", args.limit)) if value]
    if given:
        raise UsageError(
            f"{', '.join(given)} can't be combined with {how}: each setup of a comparison says its own model, prompt "
            "and parts (in the --config file), and a comparison has no gates yet; run 'factkit eval FIXTURES' with "
            "them on one setup"
        )


def _load_reports(paths: Sequence[str]) -> dict[str, dict[str, Any]]:
    if len(paths) < 2:
        raise UsageError("'factkit eval compare' needs two or more JSON reports (written by 'factkit eval --json')")
    reports: dict[str, dict[str, Any]] = {}
    for path in paths:
        name, n = Path(path).stem, 1
        while name in reports:
            n += 1
            name = f"{Path(path).stem}#{n}"
        reports[name] = _report_json(path)
    return reports


def _report_json(path: str) -> dict[str, Any]:
    import json

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read the report: {exc.strerror}", source=path) from None
    except ValueError as exc:
        raise InputError(f"not a JSON report: {exc}", source=path) from None
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        raise InputError("not a factkit eval report (no 'cases'); write one with 'factkit eval --json'", source=path)
    return data


def _run_config(args: argparse.Namespace, err: Console) -> dict[str, dict[str, Any]]:
    """Run every setup of a ``--config`` file on its fixtures; the reports as JSON, by setup name."""
    import dataclasses

    import yaml

    from .._config import resolve_settings, secret_from_environment
    from .._extract import Pipeline, _parts

    try:
        config = yaml.safe_load(Path(args.config).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read the config: {exc.strerror}", source=args.config) from None
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML: {str(exc).splitlines()[0]}", source=args.config) from None
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text; save the config as UTF-8", source=args.config) from None
    if not isinstance(config, dict) or not isinstance(config.get("setups"), dict) or not config.get("fixtures"):
        raise InputError(
            "the config needs 'fixtures: PATH' and 'setups:' with two or more named setups", source=args.config
        )
    setups: dict[str, Any] = config["setups"]
    if len(setups) < 2:
        raise InputError(f"give two or more setups to compare, not {len(setups)}", source=args.config)
    for name, setup in setups.items():
        if not isinstance(setup, dict):
            raise InputError(f"setup {name!r} must be a mapping (e.g. {{replay: FILE}})", source=args.config)
        key_env = setup.get("api_key_env")
        if key_env is not None and not (isinstance(key_env, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key_env)):
            raise InputError(
                f"setup {name!r}: api_key_env must be the name of an environment variable (letters, digits and _), "
                "not a key: the key stays in the environment (its value is not shown here)",
                source=args.config,
            )
        if isinstance(setup.get("only"), list):
            setup["only"] = ",".join(str(part) for part in setup["only"])
        unknown = sorted(set(setup) - set(SETUP_KEYS))
        if unknown:
            raise InputError(
                f"setup {name!r}: unknown key(s) {', '.join(unknown)}; known: {', '.join(SETUP_KEYS)} (an API key is "
                "never written in the file: name the variable that holds it with api_key_env)",
                source=args.config,
            )
    cases = _select(load_cases(str(config["fixtures"])), args)
    custom = _custom_metrics(args)
    reports: dict[str, dict[str, Any]] = {}
    for name, setup in setups.items():
        err.print(f"factkit eval: setup {name}: {len(cases)} case(s)", highlight=False)
        recording = read_recording(str(setup["replay"])) if setup.get("replay") else None
        extractor = None
        if recording is None:
            key_env = setup.get("api_key_env")
            key = secret_from_environment(str(key_env)) if key_env else None
            if key_env and key is None:
                raise ConfigError(f"setup {name!r}: the variable {key_env} named by api_key_env is not set")
            overrides: dict[str, Any] = {}
            for field in ("max_tokens", "cache"):
                if field in setup:
                    overrides[field] = setup[field]
            settings = resolve_settings(
                base_url=setup.get("base_url"),
                model=setup.get("model"),
                backend=setup.get("backend"),
                api_key=key,
                **overrides,
            )
            extractor = Pipeline(settings=settings, prompt=setup.get("prompt"))
        options = dataclasses.replace(_options(args, None), metrics=custom)
        if setup.get("only"):
            options = dataclasses.replace(options, parts=_parts(str(setup["only"])))
            if extractor is not None:
                extractor.only = options.parts
        report = run_eval(
            cases,
            extractor,
            predictions=recording,
            options=options,
            fixtures=str(config["fixtures"]),
        )
        if report.cost.errors == len(report.cases):
            raise ConfigError(f"setup {name!r}: every case failed to extract (first: {report.cases[0].error})")
        reports[str(name)] = report.model_dump(mode="json")
    return reports


def _compare(reports: dict[str, dict[str, Any]], args: argparse.Namespace) -> int:
    import json

    from ..eval._compare import compare_reports, comparison_markdown, comparison_rows
    from ..eval._html import render_comparison_html

    result = compare_reports(reports, common_cases=args.common_cases)
    for path, text in (
        (args.json, lambda: json.dumps(result, indent=2) + "\n"),
        (args.md, lambda: comparison_markdown(result)),
        (args.html, lambda: render_comparison_html(result, reports)),
    ):
        if path:
            _write(path, text())
    if not args.quiet:
        header, rows = comparison_rows(result)
        table = Table(*header, title=f"{len(result['cases'])} cases · * : the 95% interval excludes 0")
        for row in rows:
            table.add_row(*row)
        _stdout().print(table)
    return 0


def _stdout() -> Console:
    # Piped output (CI logs) gets a readable width instead of rich's default 80 columns.
    return Console(highlight=False, width=None if sys.stdout.isatty() else 120)


def _write_reports(report: EvalReport, args: argparse.Namespace) -> None:
    writers: list[tuple[str | None, Callable[[], str]]] = [
        (args.json, lambda: report.model_dump_json(indent=2) + "\n"),
        (args.md, lambda: markdown(report)),
        (args.html, lambda: render_html(report)),
    ]
    for path, render in writers:
        if not path:
            continue
        target = Path(path)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(render(), encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot write the report: {exc.strerror}", source=path) from None


def _say(message: str) -> None:
    # Plain print: messages must not be re-wrapped or marked up by rich.
    print(message, file=sys.stderr, flush=True)


def _verdict(failures: Sequence[GateFailure]) -> int:
    for failure in failures:
        _say(f"gate failed: {failure.message}")
    if failures:
        _say(f"factkit eval: {len(failures)} gate(s) failed")
        return 1
    return 0


# -------------------------------------------------------------------------------------- faithfulness


def _faithfulness(args: argparse.Namespace, err: Console) -> int:
    _check_args(args)
    thresholds = _thresholds(args, JUDGE_METRICS)
    if not args.data:
        raise UsageError(
            "factkit eval faithfulness needs --data FILE, e.g. --data ../shared/data/xsum-faith/xsum_faith_dev.jsonl.gz"
        )
    for flag, value in (("--replay", args.replay), ("--record", args.record), ("--baseline", args.baseline)):
        if value:
            raise UsageError(f"{flag} is not used by 'factkit eval faithfulness'")
    pairs = load_xsum(args.data, limit=args.limit)
    name = args.judge or "verify"
    explicit = bool(args.model or args.base_url or getattr(args, "backend", None))
    wants_model = name in MODEL_JUDGES or (name == "verify" and explicit)
    extractor = extractor_from(args) if wants_model else None
    if name == "verify" and extractor is not None and extractor.settings.verify == "rules":
        name = "rules"  # FACTKIT_VERIFY=rules: the checker asks no model, here as everywhere
    judge = JUDGES[name](extractor)
    with _progress(err, args.quiet) as progress:
        task = progress.add_task(f"{judge.name} judge", total=len(pairs), status="")

        def on_pair(index: int, pair: XsumPair, verdict: bool | None) -> None:
            label = "error" if verdict is None else ("faithful" if verdict else "unfaithful")
            progress.update(task, advance=1, status=f"{pair.bbcid}/{pair.system}: {label}")

        scores = measure_judge(judge, pairs, on_pair=on_pair)
    if args.json:
        _write(args.json, scores.model_dump_json(indent=2) + "\n")
    if args.md:
        _write(args.md, _judge_markdown(scores, args.data))
    if not args.quiet:
        _print_judge(scores, args.data, _stdout())
    return _verdict(check_thresholds(scores.metrics(), thresholds))


def _write(path: str, text: str) -> None:
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write the report: {exc.strerror}", source=path) from None


def _judge_rows(s: JudgeScores) -> list[tuple[str, str]]:
    return [
        ("pairs judged", f"{s.pairs} ({s.unfaithful} unfaithful by majority; {s.errors} errors)"),
        ("balanced accuracy", f"{s.balanced_accuracy:.4f}"),
        ("unfaithful precision", f"{s.unfaithful_precision:.4f}  ({s.tp}/{s.tp + s.fp})"),
        ("unfaithful recall", f"{s.unfaithful_recall:.4f}  ({s.tp}/{s.tp + s.fn})"),
        ("unfaithful F1", f"{s.unfaithful_f1:.4f}"),
        ("faithful recall", f"{s.faithful_recall:.4f}  ({s.tn}/{s.tn + s.fp})"),
        ("accuracy", f"{s.accuracy:.4f}"),
        ("tokens", f"prompt {s.prompt_tokens}, completion {s.completion_tokens}"),
        ("time", f"{s.duration_s:.1f} s"),
    ]


def _print_judge(s: JudgeScores, data: str, console: Console) -> None:
    table = Table(title=f"faithfulness judge '{s.judge}' vs annotators' majority ({data})", title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in _judge_rows(s):
        table.add_row(name, value)
    console.print(table)


def _judge_markdown(s: JudgeScores, data: str) -> str:
    rows = "\n".join(f"| {k} | {v} |" for k, v in _judge_rows(s))
    return f"# Faithfulness judge `{s.judge}`\n\nData: `{data}`\n\n| metric | value |\n|---|---|\n{rows}\n"
