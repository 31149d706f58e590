"""Terminal tables (rich) and Markdown for an :class:`EvalReport`."""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

from ._scores import TYPES, Accuracy, EvalReport, Ratio

__all__ = ["markdown", "other_rows", "print_report", "schema_rows", "score_rows", "shown_value"]


@dataclass(frozen=True)
class Row:
    """One line of the per-type table, already formatted."""

    name: str
    precision: str
    recall: str
    f1: str
    support: str
    predicted: str
    note: str


def _num(report: EvalReport, metric: str, fallback: float | None) -> str:
    value = report.metrics.get(metric, fallback)
    if value is None:
        return "-"
    spread = report.spread.get(metric)
    return f"{value:.3f}" + (f" ± {spread:.3f}" if spread is not None and report.run.repeats > 1 else "")


def _acc(label: str, acc: Accuracy | None) -> str:
    if acc is None or not acc.total:
        return ""
    return f"{label} {acc.correct}/{acc.total} ({acc.correct / acc.total:.0%})"


def _ratio(r: Ratio | None) -> str:
    if r is None or r.rate is None:
        return "-"
    return f"{r.rate:.3f} ({r.count}/{r.total})"


def score_rows(report: EvalReport) -> list[Row]:
    """The per-type rows, then the micro and macro rows."""
    rows = []
    for t in TYPES:
        s = report.types.get(t)
        if s is None:
            continue
        note = _acc("normalised", s.normalised) if t == "dates" else ""
        if t == "quotes":
            note = ", ".join(x for x in (_acc("attributed", s.attribution), _acc("speakers", s.speakers)) if x)
        if s.tp + s.fp + s.fn == 0:  # nothing labelled and nothing predicted: no score
            rows.append(Row(t, "-", "-", "-", "0", "0", "none labelled or predicted"))
            continue
        rows.append(
            Row(
                t,
                _num(report, f"{t}.precision", s.precision),
                _num(report, f"{t}.recall", s.recall),
                _num(report, f"{t}.f1", s.f1),
                str(s.support),
                str(s.predicted),
                note,
            )
        )
    o = report.overall
    for kind in ("micro", "macro"):
        if f"overall.{kind}_f1" not in report.metrics:  # only user schemas scored: their fields are below
            continue
        rows.append(
            Row(
                f"overall ({kind})",
                _num(report, f"overall.{kind}_precision", getattr(o, f"{kind}_precision")),
                _num(report, f"overall.{kind}_recall", getattr(o, f"{kind}_recall")),
                _num(report, f"overall.{kind}_f1", getattr(o, f"{kind}_f1")),
                "",
                "",
                "",
            )
        )
    return rows


def other_rows(report: EvalReport) -> list[tuple[str, str]]:
    o = report.overall
    rows = [("grounding rate", _ratio(o.grounding)), ("hallucination rate", _ratio(o.hallucination))]
    s = report.summary
    if s is not None:
        if s.cases:
            rows += [
                ("ROUGE-1 / 2 / L (best ref)", f"{s.rouge1:.3f} / {s.rouge2:.3f} / {s.rougeL:.3f}  ({s.cases} cases)"),
                ("ROUGE-1 / 2 / L (mean ref)", f"{s.rouge1_mean:.3f} / {s.rouge2_mean:.3f} / {s.rougeL_mean:.3f}"),
            ]
        if s.faithfulness is not None:
            rows.append((f"faithfulness ({report.run.judge} judge)", _ratio(s.faithfulness)))
        if s.key_facts is not None:
            rows.append(("key-fact coverage", _ratio(s.key_facts)))
    rows += schema_rows(report)
    c = report.cost
    rows.append(("latency per doc", f"{c.latency_s_per_doc:.2f} s  (total {c.latency_s:.1f} s)"))
    cached = f", {c.cached_calls}/{c.calls} calls cached" if c.calls else ""
    rows.append(
        (
            "tokens per doc",
            f"{c.tokens_per_doc:.0f}  (prompt {c.prompt_tokens}, completion {c.completion_tokens}{cached})",
        )
    )
    if c.money is not None:
        rows.append(("money per doc", f"{c.money_per_doc or 0:.6f}  (total {c.money:.6f})"))
    if c.judge_prompt_tokens or c.judge_completion_tokens:
        rows.append(("judge tokens", f"prompt {c.judge_prompt_tokens}, completion {c.judge_completion_tokens}"))
    if c.errors:
        rows.append(("failed cases", str(c.errors)))
    return rows


def schema_rows(report: EvalReport) -> list[tuple[str, str]]:
    """``schema score`` and each user-schema field's mean score (over the cases that score it)."""
    if "schema.score" not in report.metrics:
        return []
    scored = sum(1 for c in report.cases if c.schema_score is not None)
    rows = [("schema score (mean of fields)", f"{_num(report, 'schema.score', None)}  ({scored} cases)")]
    rows += [
        (f"  {name.removeprefix('schema.')}", _num(report, name, None))
        for name in report.metrics
        if name.startswith("schema.") and name != "schema.score"
    ]
    return rows


def _title(report: EvalReport) -> str:
    r = report.run
    repeats = f", {r.repeats} runs (mean ± sd)" if r.repeats > 1 else ""
    parts = f", only {', '.join(r.parts)} (the other parts not run)" if r.parts is not None else ""
    return f"factkit eval: {r.model} ({r.backend}, {r.prompt_version}), {r.cases} cases, {r.source}{repeats}{parts}"


def print_report(report: EvalReport, console: Console) -> None:
    """The per-type table, the other metrics and any failed cases, on ``console``."""
    table = Table(title=_title(report), title_justify="left")
    for name, justify in (
        ("type", "left"),
        ("precision", "right"),
        ("recall", "right"),
        ("F1", "right"),
        ("gold", "right"),
        ("predicted", "right"),
        ("", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    rows = score_rows(report)
    for i, row in enumerate(rows):
        if row.name.startswith("overall") and i and not rows[i - 1].name.startswith("overall"):
            table.add_section()
        table.add_row(row.name, row.precision, row.recall, row.f1, row.support, row.predicted, row.note)
    if rows:
        console.print(table)
    else:  # only user schemas scored: their fields follow
        console.print(_title(report), highlight=False, markup=False)
    other = Table(show_header=False, box=None, padding=(0, 2))
    other.add_column(style="bold")
    other.add_column()
    for name, value in other_rows(report):
        other.add_row(name, value)
    console.print(other)
    for case in report.cases:
        if case.error:
            console.print(f"[red]{case.id}[/red]: {case.error}", markup=True, highlight=False)


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(report: EvalReport) -> str:
    """The report as Markdown: run, per-type table, other metrics, per-case F1 and failures."""
    r = report.run
    lines = [
        "# factkit eval report",
        "",
        f"- model: `{r.model}` ({r.backend}), prompt `{r.prompt_version}`",
        f"- {r.cases} cases from `{r.fixtures or '-'}`, {r.source}"
        + (f" of `{r.recording}`" if r.source == "replay" and r.recording else ""),
        f"- started {r.started.isoformat(timespec='seconds')}, took {r.duration_s:.1f} s; matcher {r.matcher}"
        + (f", judge {r.judge}" if r.judge else ""),
    ]
    if r.parts is not None:
        lines.append(f"- only {', '.join(r.parts)} extracted and scored: the other parts were not run")
    if r.repeats > 1:
        lines.append(f"- {r.repeats} runs: values are means, ± the standard deviation")
    rows = score_rows(report)
    if rows:
        lines += ["", "| type | precision | recall | F1 | gold | predicted | |", "|---|---:|---:|---:|---:|---:|---|"]
    for row in rows:
        lines.append(
            f"| {row.name} | {row.precision} | {row.recall} | {row.f1} | {row.support} | {row.predicted} | {row.note} |"
        )
    lines += ["", "| metric | value |", "|---|---|"]
    lines += [f"| {name} | {_md_escape(value)} |" for name, value in other_rows(report)]
    own = [c for c in report.cases if c.schema_class is None]
    if own:
        lines += [
            "",
            "## Cases",
            "",
            "| case | entities F1 | dates F1 | quotes F1 | facts F1 | error |",
            "|---|---:|---:|---:|---:|---|",
        ]
    for case in own:
        cells = []
        for t in ("entities", "dates", "quotes", "facts"):
            tr = case.types.get(t)
            if tr is None or tr.tp + tr.fp + tr.fn == 0:
                cells.append("-")
            else:
                p = tr.tp / (tr.tp + tr.fp) if tr.tp + tr.fp else 0.0
                rc = tr.tp / (tr.tp + tr.fn) if tr.tp + tr.fn else 0.0
                cells.append(f"{2 * p * rc / (p + rc):.3f}" if p + rc else "0.000")
        lines.append(f"| {case.id} | " + " | ".join(cells) + f" | {_md_escape(case.error or '')} |")
    schema_cases = [c for c in report.cases if c.schema_class is not None]
    if schema_cases:
        lines += ["", "## User-schema fields", "", "| case | field | score | matcher | expected | predicted |"]
        lines.append("|---|---|---:|---|---|---|")
        for case in schema_cases:
            if case.error:
                lines.append(f"| {case.id} | | | | | error: {_md_escape(case.error)} |")
            for path, f in case.fields.items():
                lines.append(
                    f"| {case.id} | {case.schema_class}.{path} | {f.score:.3f} | {f.matcher} | "
                    f"{_md_escape(shown_value(f.expected))} | {_md_escape(shown_value(f.predicted))} |"
                )
    return "\n".join(lines) + "\n"


def shown_value(value: object, limit: int = 120) -> str:
    """A field value in a table cell: a span by its text, anything else as written, cut at ``limit``."""
    if isinstance(value, dict) and "text" in value:
        value = value["text"]
    elif isinstance(value, list) and value and all(isinstance(v, dict) and "text" in v for v in value):
        value = " | ".join(str(v["text"]) for v in value)
    text = "–" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
