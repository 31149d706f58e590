"""CI gates: absolute thresholds (``--fail-under``, ``--fail-over``) and a baseline comparison
(``--baseline old.json --max-drop 0.02``). Pure functions over flat ``name -> value`` metrics."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from factkit._errors import InputError, UsageError

from ._scores import EvalReport

__all__ = [
    "GateFailure",
    "Threshold",
    "check_baseline",
    "check_same_cases",
    "check_thresholds",
    "load_baseline",
    "load_report",
    "parse_threshold",
]


@dataclass(frozen=True)
class Threshold:
    """``metric`` must be at least (``under``) or at most (``over``) ``value``."""

    metric: str
    value: float
    kind: str = "under"  # "under": fail when below; "over": fail when above

    def __str__(self) -> str:
        return f"{self.metric}{'>=' if self.kind == 'under' else '<='}{self.value:g}"


@dataclass(frozen=True)
class GateFailure:
    """One failed gate, with a message that says which metric and by how much."""

    metric: str
    message: str


def parse_threshold(text: str, valid: Iterable[str], *, kind: str = "under") -> Threshold:
    """``"entities.f1=0.6"`` -> Threshold; :class:`UsageError` (listing the valid names) when malformed."""
    names = sorted(valid)
    option = f"--fail-{kind}"
    if "=" not in text:
        raise UsageError(f"{option} {text!r}: write METRIC=VALUE, e.g. {option} entities.f1=0.6")
    metric, _, raw = text.partition("=")
    metric = metric.strip()
    if metric not in names:
        raise UsageError(f"{option}: unknown metric {metric!r}; valid metrics: {', '.join(names)}")
    try:
        value = float(raw)
    except ValueError:
        raise UsageError(f"{option} {text!r}: {raw!r} is not a number") from None
    return Threshold(metric=metric, value=value, kind=kind)


def check_thresholds(metrics: Mapping[str, float], thresholds: Sequence[Threshold]) -> list[GateFailure]:
    """Every threshold the metrics break. A metric the run did not measure fails its gate (it cannot pass)."""
    failures = []
    for t in thresholds:
        value = metrics.get(t.metric)
        if value is None:
            failures.append(GateFailure(t.metric, f"{t.metric}: not measured in this run (gate {t})"))
        elif t.kind == "under" and value < t.value:
            failures.append(
                GateFailure(t.metric, f"{t.metric} = {value:.4f} is below {t.value:g} by {t.value - value:.4f}")
            )
        elif t.kind == "over" and value > t.value:
            failures.append(
                GateFailure(t.metric, f"{t.metric} = {value:.4f} is above {t.value:g} by {value - t.value:.4f}")
            )
    return failures


def check_baseline(
    metrics: Mapping[str, float],
    baseline: Mapping[str, float],
    *,
    max_drop: float,
    lower_is_better: Iterable[str] = (),
    ignore_prefixes: Sequence[str] = ("cost.",),
) -> list[GateFailure]:
    """Metrics present in both runs that got worse by more than ``max_drop`` (for ``lower_is_better``
    metrics, worse means higher). Cost metrics are not compared: timings vary with the machine."""
    lower = set(lower_is_better)
    failures = []
    for name in sorted(set(metrics) & set(baseline)):
        if name.startswith(tuple(ignore_prefixes)):
            continue
        new, old = metrics[name], baseline[name]
        drop = new - old if name in lower else old - new
        if drop > max_drop + 1e-12:
            direction = "rose" if name in lower else "dropped"
            failures.append(
                GateFailure(name, f"{name} {direction} by {drop:.4f} ({old:.4f} -> {new:.4f}; max drop {max_drop:g})")
            )
    return failures


def load_baseline(path: str | os.PathLike[str]) -> dict[str, float]:
    """The flat metrics of a JSON report written earlier (``--json``); :class:`InputError` if unreadable."""
    return dict(load_report(path).metrics)


def check_same_cases(baseline: EvalReport, cases: dict[str, str], source: str) -> None:
    """Refuse a baseline scored on other cases (``{case id: text sha256}`` of this run): its metrics would not
    compare (one case against thirteen fails gates for nothing)."""
    theirs = {c.id: c.text_sha256 for c in baseline.cases}
    if theirs == cases:
        return
    missing, extra = sorted(set(theirs) - set(cases)), sorted(set(cases) - set(theirs))
    changed = sorted(cid for cid in set(theirs) & set(cases) if theirs[cid] != cases[cid])
    what = "; ".join(
        f"{label}: {', '.join(ids[:3])}{' ...' if len(ids) > 3 else ''} ({len(ids)})"
        for label, ids in (("only in the baseline", missing), ("only in this run", extra), ("texts differ", changed))
        if ids
    )
    raise UsageError(
        f"{source}: the baseline was scored on other cases ({what}); run the same cases (--case, --limit), or "
        "compare the cases both share with 'factkit eval compare BASELINE.json THIS.json --common-cases'"
    )


def load_report(path: str | os.PathLike[str]) -> EvalReport:
    """A JSON report written earlier (``--json``); :class:`InputError` if unreadable."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read the baseline report: {exc.strerror}", source=str(p)) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"the baseline is not a JSON report ({exc})", source=str(p)) from None
    try:
        report = EvalReport.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        loc = ".".join(str(x) for x in err["loc"])
        raise InputError(
            f"the baseline is not a factkit eval report ({loc}: {err['msg']}); write one with --json", source=str(p)
        ) from None
    return report
