"""Setups side by side: the same cases scored by two or more setups, each metric's difference against the first
setup with a paired bootstrap interval over cases, and per-case wins, losses and ties.

Everything is computed from the per-case records of saved reports (``factkit eval --json``), so a comparison can be
made again from files, and a metric means the same here as in the report: a per-type precision, recall or F1 is
micro over the cases (the sums of their tp, fp and fn), a rate is a sum over a sum, a ROUGE score the mean over
cases of the best reference. The bootstrap resamples the *cases* (the same draw for every setup: paired), seeded,
so a report can be reproduced exactly; a difference whose 95% interval excludes 0 is marked as one.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .._errors import UsageError

__all__ = ["BOOTSTRAP_RESAMPLES", "BOOTSTRAP_SEED", "MIN_CASES", "compare_reports", "comparison_markdown"]

BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0
#: Two values closer than this are a tie.
TIE = 1e-9
#: A difference is called significant only over at least this many paired cases (one case's "interval" is a point).
MIN_CASES = 5

Stats = tuple[float, ...]


@dataclass(frozen=True)
class Metric:
    """A metric as sufficient statistics per case, and how to combine a sample of cases into its value."""

    name: str
    stats: Callable[[dict[str, Any]], Stats | None]
    combine: Callable[[list[Stats]], float | None]
    lower_is_better: bool = False


def _sum(sample: list[Stats], i: int) -> float:
    return sum(s[i] for s in sample)


def _precision(sample: list[Stats]) -> float | None:
    tp, fp = _sum(sample, 0), _sum(sample, 1)
    return tp / (tp + fp) if tp + fp else None


def _recall(sample: list[Stats]) -> float | None:
    tp, fn = _sum(sample, 0), _sum(sample, 2)
    return tp / (tp + fn) if tp + fn else None


def _f1(sample: list[Stats]) -> float | None:
    tp, fp, fn = _sum(sample, 0), _sum(sample, 1), _sum(sample, 2)
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None


def _ratio(sample: list[Stats]) -> float | None:
    den = _sum(sample, 1)
    return _sum(sample, 0) / den if den else None


def _mean(sample: list[Stats]) -> float | None:
    return _sum(sample, 0) / len(sample) if sample else None


def _counts(kind: str) -> Callable[[dict[str, Any]], Stats | None]:
    def get(case: dict[str, Any]) -> Stats | None:
        t = (case.get("types") or {}).get(kind)
        return None if t is None else (float(t["tp"]), float(t["fp"]), float(t["fn"]))

    return get


def _type_ratio(kind: str, field: str) -> Callable[[dict[str, Any]], Stats | None]:
    def get(case: dict[str, Any]) -> Stats | None:
        part = ((case.get("types") or {}).get(kind) or {}).get(field)
        return None if not part or not part.get("total") else (float(part["correct"]), float(part["total"]))

    return get


def _case_ratio(field: str) -> Callable[[dict[str, Any]], Stats | None]:
    def get(case: dict[str, Any]) -> Stats | None:
        part = case.get(field)
        return None if not part or not part.get("total") else (float(part["count"]), float(part["total"]))

    return get


def _rouge(which: str) -> Callable[[dict[str, Any]], Stats | None]:
    def get(case: dict[str, Any]) -> Stats | None:
        refs = (case.get("summary") or {}).get("references") or []
        return (max(float(r[which]) for r in refs),) if refs else None

    return get


def _tokens(case: dict[str, Any]) -> Stats | None:
    if case.get("error"):
        return None
    return (float((case.get("prompt_tokens") or 0) + (case.get("completion_tokens") or 0)),)


def _custom(name: str) -> Callable[[dict[str, Any]], Stats | None]:
    def get(case: dict[str, Any]) -> Stats | None:
        value = (case.get("custom") or {}).get(name)
        return (float(value),) if isinstance(value, int | float) else None

    return get


def _schema_score(case: dict[str, Any]) -> Stats | None:
    value = case.get("schema_score")
    return (float(value),) if isinstance(value, int | float) else None


def _schema_field(cls: str, path: str) -> Callable[[dict[str, Any]], Stats | None]:
    def get(case: dict[str, Any]) -> Stats | None:
        if case.get("schema_class") != cls:
            return None
        value = ((case.get("fields") or {}).get(path) or {}).get("score")
        return (float(value),) if isinstance(value, int | float) else None

    return get


def schema_metrics_for(cases: Iterable[dict[str, Any]]) -> list[Metric]:
    """``schema.score`` and ``schema.<Class>.<field>`` for the user-schema fields the cases score."""
    fields = sorted({(c["schema_class"], p) for c in cases if c.get("schema_class") for p in c.get("fields") or {}})
    if not fields:
        return []
    return [
        Metric("schema.score", _schema_score, _mean),
        *(Metric(f"schema.{cls}.{path}", _schema_field(cls, path), _mean) for cls, path in fields),
    ]


def metrics_for(kinds: Sequence[str]) -> list[Metric]:
    """The metrics compared: precision, recall and F1 of each kind of item, then rates, ROUGE and tokens."""
    out: list[Metric] = []
    for kind in kinds:
        out += [
            Metric(f"{kind}.f1", _counts(kind), _f1),
            Metric(f"{kind}.precision", _counts(kind), _precision),
            Metric(f"{kind}.recall", _counts(kind), _recall),
        ]
    out += [
        Metric("dates.normalised_accuracy", _type_ratio("dates", "normalised"), _ratio),
        Metric("quotes.speaker_accuracy", _type_ratio("quotes", "speakers"), _ratio),
        Metric("grounding.rate", _case_ratio("grounding"), _ratio),
        Metric("hallucination.rate", _case_ratio("hallucination"), _ratio, lower_is_better=True),
        Metric("summary.rouge1", _rouge("rouge1"), _mean),
        Metric("summary.rouge2", _rouge("rouge2"), _mean),
        Metric("summary.rougeL", _rouge("rougeL"), _mean),
        Metric("cost.tokens_per_doc", _tokens, _mean, lower_is_better=True),
    ]
    return out


def _cases(report: dict[str, Any], name: str) -> dict[str, dict[str, Any]]:
    cases = report.get("cases")
    if not isinstance(cases, list):
        raise UsageError(f"{name} is not a factkit eval report (no 'cases'); write one with 'factkit eval --json'")
    for i, case in enumerate(cases):
        problem = _case_problem(case)
        if problem:
            raise UsageError(f"{name}: case #{i + 1} {problem}; compare reports written by 'factkit eval --json'")
    return {str(c["id"]): c for c in cases}


def _case_problem(case: Any) -> str | None:
    if not isinstance(case, dict):
        return f"is a {type(case).__name__}, not a case record"
    if not isinstance(case.get("id"), str):
        return "has no id"
    types = case.get("types") or {}
    if not isinstance(types, dict):
        return "has 'types' that is not a mapping"
    for kind, t in types.items():
        if not isinstance(t, dict) or not all(isinstance(t.get(k), int | float) for k in ("tp", "fp", "fn")):
            return f"has no tp/fp/fn counts for {kind!r}"
    return None


def _check_case_sets(named: dict[str, dict[str, dict[str, Any]]], common_cases: bool) -> list[str]:
    """The case ids every setup has; refuses different sets (or a case whose text changed) unless asked."""
    names = list(named)
    first = named[names[0]]
    common = [cid for cid in first if all(cid in cases for cases in named.values())]
    changed = [cid for cid in common if len({str(cases[cid].get("text_sha256", "")) for cases in named.values()}) > 1]
    if changed:
        raise UsageError(
            f"case(s) {', '.join(changed[:5])} have different texts in the reports: they were scored on different "
            "fixtures; score both setups on the same fixtures"
        )
    differ = [
        f"{name} lacks {len(set(first) - set(cases))} and adds {len(set(cases) - set(first))} "
        f"(e.g. {sorted(set(first) ^ set(cases))[0]!r})"
        for name, cases in named.items()
        if set(cases) != set(first)
    ]
    if differ and not common_cases:
        raise UsageError(
            f"the reports cover different cases ({names[0]}: {len(first)} cases; " + "; ".join(differ) + "); "
            "compare only the cases they share with --common-cases"
        )
    if not common:
        raise UsageError("the reports share no case")
    return common


def _value(metric: Metric, cases: list[dict[str, Any]]) -> float | None:
    sample = [s for s in (metric.stats(c) for c in cases) if s is not None]
    return metric.combine(sample) if sample else None


def compare_reports(
    reports: dict[str, dict[str, Any]],
    *,
    common_cases: bool = False,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> dict[str, Any]:
    """Compare saved reports (``{setup name: report JSON}``, the first the reference): every setup's metrics on
    the shared cases, and for each later setup and metric its difference from the first, a paired bootstrap 95%
    interval over cases, and the cases it wins, loses and ties (by the metric on that case alone)."""
    if len(reports) < 2:
        raise UsageError("compare needs two or more reports")
    named = {name: _cases(report, name) for name, report in reports.items()}
    ids = _check_case_sets(named, common_cases)
    kinds = sorted({k for cases in named.values() for cid in ids for k in (cases[cid].get("types") or {})})
    metrics = metrics_for(kinds)
    lower = {n for r in reports.values() for n in (r.get("run") or {}).get("custom_lower_is_better") or []}
    for name in sorted({n for cases in named.values() for cid in ids for n in (cases[cid].get("custom") or {})}):
        metrics.append(Metric(f"custom.{name}", _custom(name), _mean, lower_is_better=name in lower))
    metrics += schema_metrics_for(cases[cid] for cases in named.values() for cid in ids)
    per_setup = {name: [cases[cid] for cid in ids] for name, cases in named.items()}
    setups = {
        name: {
            "run": reports[name].get("run", {}),
            "metrics": {
                m.name: (None if (v := _value(m, cases)) is None else round(v, 4))
                for m in metrics
                if any(m.stats(c) is not None for c in cases)
            },
        }
        for name, cases in per_setup.items()
    }
    names = list(reports)
    comparisons: list[dict[str, Any]] = []
    for other in names[1:]:
        for m in metrics:
            a_all = [m.stats(c) for c in per_setup[names[0]]]
            b_all = [m.stats(c) for c in per_setup[other]]
            # paired: only the cases where both setups have data for the metric (a case one setup failed is not
            # a case the other one won on cost)
            pairs = [(sa, sb) for sa, sb in zip(a_all, b_all, strict=True) if sa is not None and sb is not None]
            if not pairs:
                continue
            a, b = m.combine([p[0] for p in pairs]), m.combine([p[1] for p in pairs])
            if a is None or b is None:
                continue
            rng = random.Random(f"{seed}:{m.name}:{other}")
            diffs: list[float] = []
            for _ in range(resamples):
                draw = [pairs[rng.randrange(len(pairs))] for _ in pairs]
                da, db = m.combine([p[0] for p in draw]), m.combine([p[1] for p in draw])
                if da is not None and db is not None:
                    diffs.append(db - da)
            diffs.sort()
            lo = diffs[int(0.025 * (len(diffs) - 1))] if diffs else None
            hi = diffs[int(0.975 * (len(diffs) - 1))] if diffs else None
            wins = losses = ties = 0
            for sa, sb in pairs:
                va, vb = m.combine([sa]), m.combine([sb])
                if va is None or vb is None:
                    continue
                better = (va - vb) if m.lower_is_better else (vb - va)
                if better > TIE:
                    wins += 1
                elif better < -TIE:
                    losses += 1
                else:
                    ties += 1
            significant = len(pairs) >= MIN_CASES and lo is not None and hi is not None and (lo > TIE or hi < -TIE)
            comparisons.append(
                {
                    "metric": m.name,
                    "a": names[0],
                    "b": other,
                    "cases": len(pairs),
                    "a_value": round(a, 4),
                    "b_value": round(b, 4),
                    "diff": round(b - a, 4),
                    "ci95": None if lo is None or hi is None else [round(lo, 4), round(hi, 4)],
                    "resamples": len(diffs),
                    "significant": significant,
                    "lower_is_better": m.lower_is_better,
                    "wins": wins,
                    "losses": losses,
                    "ties": ties,
                }
            )
    return {
        "setups": setups,
        "comparisons": comparisons,
        "cases": ids,
        "bootstrap": {
            "resamples": resamples,
            "seed": seed,
            "paired_over": "the cases both setups have data for",
            "interval": "percentile 95%",
            "significant_needs_cases": MIN_CASES,
        },
    }


def failed_cases(report: dict[str, Any], thresholds: Sequence[Any]) -> list[str]:
    """The ids of a saved report's cases that errored, or whose own value of a gated metric fails its gate
    (``thresholds``: objects with ``metric``, ``value`` and ``kind`` "under" or "over")."""
    cases = _cases(report, "the report")
    kinds = sorted({k for c in cases.values() for k in (c.get("types") or {})})
    custom = sorted({n for c in cases.values() for n in (c.get("custom") or {})})
    by_name = {m.name: m for m in metrics_for(kinds)}
    by_name.update({f"custom.{n}": Metric(f"custom.{n}", _custom(n), _mean) for n in custom})
    by_name.update({m.name: m for m in schema_metrics_for(cases.values())})
    out: list[str] = []
    for cid, case in cases.items():
        failed = bool(case.get("error"))
        for t in thresholds:
            metric = by_name.get(t.metric)
            stats = metric.stats(case) if metric is not None else None
            value = metric.combine([stats]) if metric is not None and stats is not None else None
            if value is not None and (value < t.value if t.kind == "under" else value > t.value):
                failed = True
        if failed:
            out.append(cid)
    return out


def comparison_rows(result: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """The table: a row per metric, a column per setup, then each later setup's difference from the first."""
    names = list(result["setups"])
    by_metric: dict[str, dict[str, dict[str, Any]]] = {}
    for c in result["comparisons"]:
        by_metric.setdefault(c["metric"], {})[c["b"]] = c
    header = ["metric", *names, *(f"{n} − {names[0]} [95% CI] · W/L/T" for n in names[1:])]
    rows: list[list[str]] = []
    for metric in dict.fromkeys(m for s in result["setups"].values() for m in s["metrics"]):
        values = [result["setups"][n]["metrics"].get(metric) for n in names]
        cells = ["–" if v is None else f"{v:.3f}" for v in values]
        for n in names[1:]:
            c = by_metric.get(metric, {}).get(n)
            if c is None:
                cells.append("–")
                continue
            ci = c["ci95"]
            mark = " *" if c["significant"] else ""
            interval = f" [{ci[0]:+.3f}, {ci[1]:+.3f}]" if ci else ""
            cells.append(f"{c['diff']:+.3f}{interval}{mark} · {c['wins']}/{c['losses']}/{c['ties']}")
        rows.append([metric, *cells])
    return header, rows


def comparison_markdown(result: dict[str, Any]) -> str:
    header, rows = comparison_rows(result)
    boot = result["bootstrap"]
    lines = [
        "# factkit eval: setups compared",
        "",
        f"{len(result['cases'])} cases. Differences against `{header[1]}`; 95% intervals from a paired bootstrap over "
        f"cases ({boot['resamples']} resamples, seed {boot['seed']}); `*`: the interval excludes 0. W/L/T: the cases "
        "where the setup did better, worse, the same (by the metric on that case alone).",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(row) + " |" for row in rows),
    ]
    return "\n".join(lines) + "\n"
