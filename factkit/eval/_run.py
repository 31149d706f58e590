"""Running an evaluation: extract (or replay) every case, score it, aggregate, and build the report."""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import statistics
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError

from factkit._errors import FactkitError, InputError, UsageError, describe
from factkit._models import CustomExtraction, Evidence, Extraction, Quantity, Summary, Usage

from ._fixtures import Case, case_schema
from ._matchers import (
    FACT_FLOOR,
    FACT_THRESHOLD,
    Similarity,
    match_dates,
    match_entities,
    match_facts,
    match_quantities,
    match_quotes,
)
from ._metrics import grounding, hallucination, prf
from ._record import RecordedCase, Recording, RecordingHeader, text_sha256, write_recording
from ._schema import score_fields
from ._scores import (
    OVERALL_TYPES,
    TYPES,
    Accuracy,
    CaseResult,
    CaseSummary,
    CostScores,
    EvalReport,
    ItemType,
    OverallScores,
    Ratio,
    RunInfo,
    SummaryScores,
    TypeResult,
    TypeScores,
)
from ._summary import key_fact_coverage, rouge, summary_sentences, summary_text
from ._text import lexical_similarity
from .judge import Judge

log = logging.getLogger("factkit")

__all__ = [
    "LOWER_IS_BETTER",
    "ScoreOptions",
    "SupportsExtract",
    "aggregate",
    "metric_names",
    "run_eval",
    "schema_metrics",
    "score_case",
    "scored_types",
]


class SupportsExtract(Protocol):
    """What the harness needs of an extractor: :meth:`factkit.Extractor.extract`."""

    def extract(self, text: str, *, published: Any = None) -> Extraction:
        """Extract everything from one article."""
        ...


@dataclass(frozen=True)
class ScoreOptions:
    """How cases are scored: the fact similarity and its thresholds, and the faithfulness judge (if any)."""

    similarity: Similarity = lexical_similarity
    fact_threshold: float = FACT_THRESHOLD
    fact_floor: float = FACT_FLOOR
    judge: Judge | None = None
    matcher: str = "lexical"
    #: The parts extracted (``Extractor.only``; ``None``: all). A part not run is not scored: it is "not run",
    #: left out of the case and of the overall scores, never counted as all missed.
    parts: frozenset[str] | None = None
    #: Your own metrics (:func:`load_metric`): each ``fn(case, extraction)`` gives a number for the case (or ``None``
    #: where it does not apply); the run's value is the mean over the cases that have one: ``custom.<name>``.
    metrics: tuple[CustomMetric, ...] = ()


# --------------------------------------------------------------------------------------------- one case


#: The part of an extraction (``Extractor.only``) each item type comes from.
_PART_OF: dict[str, str] = {
    "entities": "entities",
    "entities_typed": "entities",
    "dates": "dates",
    "quotes": "quotes",
    "facts": "facts",
    "quantities": "quantities",
}


def scored_types(case: Case) -> list[ItemType]:
    """The item types a case is scored on.

    A case with a user ``schema`` has none: it is scored on that schema's fields. Otherwise entities, dates and
    quotes are always labelled (an empty list means "none in the article"); facts and
    quantities only where the case has some (the GUM cases label none). ``metadata.unlabelled`` (a list of
    type names) drops more; dropping ``entities`` drops ``entities_typed`` too.
    """
    if case.schema_ref is not None:  # scored on its user schema's fields alone
        return []
    skip = set(case.metadata.get("unlabelled") or [])
    if "entities" in skip:
        skip.add("entities_typed")
    types: list[ItemType] = ["entities", "entities_typed", "dates", "quotes"]
    if case.facts:
        types.append("facts")
    if case.quantities:
        types.append("quantities")
    return [t for t in types if t not in skip]


def _quantities(extraction: Extraction) -> list[Quantity]:
    """The record's quantities, then the facts' (a run without ``quantities`` in its parts has only the facts')."""
    seen: set[tuple[float, str, int | None]] = set()
    out = []
    in_facts = [q for fact in extraction.facts for q in fact.quantities or ([fact.quantity] if fact.quantity else [])]
    for q in [*extraction.quantities, *in_facts]:
        key = (q.value, q.unit.casefold(), q.span.start if q.span is not None else None)
        if key not in seen:
            seen.add(key)
            out.append(q)
    return out


def _empty_extraction(model: str = "", backend: str = "", prompt_version: str = "") -> Extraction:
    return Extraction(
        summary=Summary(headline="", tldr="", key_points=[]),
        model=model,
        backend=backend,
        prompt_version=prompt_version,
    )


def _score_summary(case: Case, summary: Summary, judge: Judge | None, failed: bool) -> tuple[CaseSummary, Usage]:
    text = summary_text(summary)
    references = rouge(text, [s.text for s in case.summaries]) if case.summaries else []
    coverage = key_fact_coverage(summary, case.facts)
    result = CaseSummary(
        text=text,
        headline=summary.headline,
        references=references,
        key_facts=coverage[0] if coverage else None,
        missed_key_facts=coverage[1] if coverage else [],
    )
    usage = Usage()
    sentences = summary_sentences(summary)
    if judge is not None and not failed:
        if not sentences:
            result.faithfulness = Ratio(count=0, total=0)
        else:
            try:
                judged = judge.judge(case.article, sentences)
            except FactkitError as exc:
                log.warning("faithfulness judge failed on %s: %s", case.id, describe(exc))
                result.judge_error = describe(exc)
                usage = exc.usage or usage
            else:
                result.verdicts = judged.verdicts
                result.faithfulness = Ratio(count=sum(v.supported for v in judged.verdicts), total=len(sentences))
                usage = judged.usage
    return result, usage


def score_case(
    case: Case,
    extraction: Extraction | CustomExtraction[Any] | None,
    *,
    options: ScoreOptions | None = None,
    error: str | None = None,
    latency_s: float = 0.0,
    usage: Usage | None = None,
) -> CaseResult:
    """Score one case's extraction against its gold labels. ``extraction=None`` (a failed extraction, with
    its ``error``) scores as all missed. A case with a user ``schema`` takes that schema's ``CustomExtraction``
    and is scored field by field."""
    options = options or ScoreOptions()
    if case.schema_ref is not None:
        return _score_schema_case(case, extraction, options, error, latency_s, usage)
    if isinstance(extraction, CustomExtraction):
        raise UsageError(f"case {case.id!r} has no schema, but its prediction is a CustomExtraction")
    failed = extraction is None
    ex = extraction if extraction is not None else _empty_extraction()
    article = case.article
    types: dict[ItemType, TypeResult] = {}
    for t in scored_types(case):
        if options.parts is not None and _PART_OF[t] not in options.parts:
            continue
        if t == "entities":
            types[t] = match_entities(case.entities, ex.entities)
        elif t == "entities_typed":
            types[t] = match_entities(case.entities, ex.entities, typed=True)
        elif t == "dates":
            types[t] = match_dates(case.dates, ex.dates)
        elif t == "quotes":
            types[t] = match_quotes(case.quotes, ex.quotes)
        elif t == "facts":
            types[t] = match_facts(
                case.facts,
                ex.facts,
                similarity=options.similarity,
                threshold=options.fact_threshold,
                floor=options.fact_floor,
            )
        else:
            types[t] = match_quantities(case.quantities, _quantities(ex))
    halluc, unsupported = hallucination(article, ex)
    custom: dict[str, float] = {}
    for metric in options.metrics:
        value = metric.score(case, None if failed else ex)
        if value is not None:
            custom[metric.name] = value
    if options.parts is None or "summary" in options.parts:
        summary, judge_usage = _score_summary(case, ex.summary, options.judge, failed)
    else:
        summary, judge_usage = None, Usage()
    used = usage if usage is not None else ex.usage
    return CaseResult(
        id=case.id,
        title=case.title,
        text=article,
        text_sha256=text_sha256(article),
        error=error if error is not None else ("extraction failed" if failed else None),
        latency_s=round(latency_s, 4),
        prompt_tokens=used.prompt_tokens,
        completion_tokens=used.completion_tokens,
        calls=len(used.calls),
        cached_calls=sum(1 for c in used.calls if c.cached),
        types=types,
        grounding=grounding(article, ex),
        hallucination=halluc,
        unsupported=unsupported,
        summary=summary,
        custom=custom,
        judge_prompt_tokens=judge_usage.prompt_tokens,
        judge_completion_tokens=judge_usage.completion_tokens,
    )


def _score_schema_case(
    case: Case,
    extraction: Extraction | CustomExtraction[Any] | None,
    options: ScoreOptions,
    error: str | None,
    latency_s: float,
    usage: Usage | None,
) -> CaseResult:
    schema = case_schema(case)
    assert schema is not None
    if extraction is not None and not isinstance(extraction, CustomExtraction):
        raise UsageError(f"case {case.id!r} is scored on {case.schema_ref}: its prediction must be a CustomExtraction")
    data = extraction.data if extraction is not None else None
    if data is not None and not isinstance(data, schema):
        data = schema.model_validate(data.model_dump() if isinstance(data, BaseModel) else data)
    fields = score_fields(schema, case.expected, data, case.article, similarity=options.similarity)
    spans = list(_evidence_spans(data))
    custom: dict[str, float] = {}
    for metric in options.metrics:
        value = metric.score(case, extraction)  # type: ignore[arg-type]  # documented: a CustomExtraction here
        if value is not None:
            custom[metric.name] = value
    used = usage if usage is not None else (extraction.usage if extraction is not None else Usage())
    return CaseResult(
        id=case.id,
        title=case.title,
        text=case.article,
        text_sha256=text_sha256(case.article),
        error=error if error is not None else ("extraction failed" if extraction is None else None),
        latency_s=round(latency_s, 4),
        prompt_tokens=used.prompt_tokens,
        completion_tokens=used.completion_tokens,
        calls=len(used.calls),
        cached_calls=sum(1 for c in used.calls if c.cached),
        grounding=Ratio(count=sum(case.article[s.start : s.end] == s.text for s in spans), total=len(spans)),
        custom=custom,
        schema_class=schema.__name__,
        fields=fields,
        schema_score=round(statistics.fmean(f.score for f in fields.values()), 4) if fields else None,
    )


def _evidence_spans(value: Any) -> Iterator[Evidence]:
    """Every Evidence inside a user schema's value."""
    if isinstance(value, Evidence):
        yield value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _evidence_spans(getattr(value, name))
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _evidence_spans(item)


# ---------------------------------------------------------------------------------------------- totals


def _sum_accuracy(parts: Sequence[Accuracy | None]) -> Accuracy | None:
    present = [p for p in parts if p is not None]
    if not present:
        return None
    return Accuracy(correct=sum(p.correct for p in present), total=sum(p.total for p in present))


def _sum_ratio(parts: Sequence[Ratio | None]) -> Ratio | None:
    present = [p for p in parts if p is not None]
    if not present:
        return None
    return Ratio(count=sum(p.count for p in present), total=sum(p.total for p in present))


def _type_scores(results: Sequence[CaseResult]) -> dict[ItemType, TypeScores]:
    out: dict[ItemType, TypeScores] = {}
    for t in TYPES:
        parts = [r.types[t] for r in results if t in r.types]
        if not parts:
            continue
        tp, fp, fn = sum(p.tp for p in parts), sum(p.fp for p in parts), sum(p.fn for p in parts)
        s = prf(tp, fp, fn)
        out[t] = TypeScores(
            precision=round(s.precision, 4),
            recall=round(s.recall, 4),
            f1=round(s.f1, 4),
            support=tp + fn,
            predicted=tp + fp,
            tp=tp,
            fp=fp,
            fn=fn,
            cases=len(parts),
            normalised=_sum_accuracy([p.normalised for p in parts]),
            attribution=_sum_accuracy([p.attribution for p in parts]),
            speakers=_sum_accuracy([p.speakers for p in parts]),
            units=_sum_accuracy([p.units for p in parts]),
            bounds=_sum_accuracy([p.bounds for p in parts]),
            changes=_sum_accuracy([p.changes for p in parts]),
        )
    return out


def _overall(types: Mapping[ItemType, TypeScores], results: Sequence[CaseResult]) -> OverallScores:
    used = [types[t] for t in OVERALL_TYPES if t in types and types[t].tp + types[t].fp + types[t].fn > 0]
    micro = prf(sum(s.tp for s in used), sum(s.fp for s in used), sum(s.fn for s in used))

    def mean(values: list[float]) -> float:
        return round(sum(values) / len(values), 4) if values else 0.0

    return OverallScores(
        micro_precision=round(micro.precision, 4),
        micro_recall=round(micro.recall, 4),
        micro_f1=round(micro.f1, 4),
        macro_precision=mean([s.precision for s in used]),
        macro_recall=mean([s.recall for s in used]),
        macro_f1=mean([s.f1 for s in used]),
        grounding=_sum_ratio([r.grounding for r in results]) or Ratio(),
        hallucination=_sum_ratio([r.hallucination for r in results]) or Ratio(),
    )


def _summary_scores(results: Sequence[CaseResult]) -> SummaryScores | None:
    summaries = [r.summary for r in results if r.summary is not None]
    with_refs = [s for s in summaries if s.references]
    faith = _sum_ratio([s.faithfulness for s in summaries])
    keys = _sum_ratio([s.key_facts for s in summaries])
    if not with_refs and faith is None and keys is None:
        return None

    def mean_of(pick: Callable[[CaseSummary], float]) -> float:
        return round(sum(pick(s) for s in with_refs) / len(with_refs), 4) if with_refs else 0.0

    return SummaryScores(
        cases=len(with_refs),
        rouge1=mean_of(lambda s: max(r.rouge1 for r in s.references)),
        rouge2=mean_of(lambda s: max(r.rouge2 for r in s.references)),
        rougeL=mean_of(lambda s: max(r.rougeL for r in s.references)),
        rouge1_mean=mean_of(lambda s: statistics.fmean(r.rouge1 for r in s.references)),
        rouge2_mean=mean_of(lambda s: statistics.fmean(r.rouge2 for r in s.references)),
        rougeL_mean=mean_of(lambda s: statistics.fmean(r.rougeL for r in s.references)),
        faithfulness=faith,
        key_facts=keys,
    )


def _cost(results: Sequence[CaseResult], price_in: float | None, price_out: float | None) -> CostScores:
    n = len(results)
    latency = sum(r.latency_s for r in results)
    prompt = sum(r.prompt_tokens for r in results)
    completion = sum(r.completion_tokens for r in results)
    money: float | None = None
    if price_in is not None or price_out is not None:
        money = (prompt * (price_in or 0.0) + completion * (price_out or 0.0)) / 1_000_000
    return CostScores(
        documents=n,
        errors=sum(1 for r in results if r.error),
        latency_s=round(latency, 3),
        latency_s_per_doc=round(latency / n, 3) if n else 0.0,
        prompt_tokens=prompt,
        completion_tokens=completion,
        tokens_per_doc=round((prompt + completion) / n, 1) if n else 0.0,
        calls=sum(r.calls for r in results),
        cached_calls=sum(r.cached_calls for r in results),
        price_in=price_in,
        price_out=price_out,
        money=round(money, 6) if money is not None else None,
        money_per_doc=round(money / n, 6) if money is not None and n else None,
        judge_prompt_tokens=sum(r.judge_prompt_tokens for r in results),
        judge_completion_tokens=sum(r.judge_completion_tokens for r in results),
    )


#: Metrics where a lower value is better (a "drop" against a baseline is a rise).
LOWER_IS_BETTER = frozenset(
    {"hallucination.rate", "cost.latency_s_per_doc", "cost.tokens_per_doc", "cost.money_per_doc"}
)


def metric_names() -> list[str]:
    """Every metric name a report can hold (and a gate can name), sorted."""
    names = {f"{t}.{m}" for t in TYPES for m in ("precision", "recall", "f1")}
    names |= {"dates.normalised_accuracy", "quotes.attribution_accuracy", "quotes.speaker_accuracy"}
    names |= {"quantities.unit_accuracy", "quantities.bound_accuracy", "quantities.change_accuracy"}
    names |= {f"overall.{k}_{m}" for k in ("micro", "macro") for m in ("precision", "recall", "f1")}
    names |= {"grounding.rate", "hallucination.rate"}
    names |= {f"summary.{r}{s}" for r in ("rouge1", "rouge2", "rougeL") for s in ("", "_mean")}
    names |= {"summary.faithfulness", "summary.key_fact_coverage"}
    names |= set(LOWER_IS_BETTER) - {"hallucination.rate"}
    return sorted(names)


def flatten(
    types: Mapping[ItemType, TypeScores],
    overall: OverallScores,
    summary: SummaryScores | None,
    cost: CostScores,
) -> dict[str, float]:
    """The flat ``name -> value`` metrics of a run; a metric with nothing to measure is left out."""
    out: dict[str, float] = {}
    for t, s in types.items():
        if s.tp + s.fp + s.fn == 0:
            continue
        out[f"{t}.precision"], out[f"{t}.recall"], out[f"{t}.f1"] = s.precision, s.recall, s.f1
    if "dates" in types and types["dates"].normalised and types["dates"].normalised.accuracy is not None:
        out["dates.normalised_accuracy"] = round(types["dates"].normalised.accuracy, 4)
    if "quotes" in types and types["quotes"].attribution and types["quotes"].attribution.accuracy is not None:
        out["quotes.attribution_accuracy"] = round(types["quotes"].attribution.accuracy, 4)
    if "quotes" in types and types["quotes"].speakers and types["quotes"].speakers.accuracy is not None:
        out["quotes.speaker_accuracy"] = round(types["quotes"].speakers.accuracy, 4)
    if "quantities" in types:
        for name in ("units", "bounds", "changes"):
            acc = getattr(types["quantities"], name)
            if acc is not None and acc.accuracy is not None:
                out[f"quantities.{name[:-1]}_accuracy"] = round(acc.accuracy, 4)
    if any(s.tp + s.fp + s.fn for t, s in types.items() if t in OVERALL_TYPES):  # none: only user schemas scored
        for key in ("micro_precision", "micro_recall", "micro_f1", "macro_precision", "macro_recall", "macro_f1"):
            out[f"overall.{key}"] = getattr(overall, key)
    if overall.grounding.rate is not None:
        out["grounding.rate"] = round(overall.grounding.rate, 4)
    if overall.hallucination.rate is not None:
        out["hallucination.rate"] = round(overall.hallucination.rate, 4)
    if summary is not None:
        if summary.cases:
            for key in ("rouge1", "rouge2", "rougeL", "rouge1_mean", "rouge2_mean", "rougeL_mean"):
                out[f"summary.{key}"] = getattr(summary, key)
        if summary.faithfulness is not None and summary.faithfulness.rate is not None:
            out["summary.faithfulness"] = round(summary.faithfulness.rate, 4)
        if summary.key_facts is not None and summary.key_facts.rate is not None:
            out["summary.key_fact_coverage"] = round(summary.key_facts.rate, 4)
    if cost.documents:
        out["cost.latency_s_per_doc"] = cost.latency_s_per_doc
        out["cost.tokens_per_doc"] = cost.tokens_per_doc
        if cost.money_per_doc is not None:
            out["cost.money_per_doc"] = cost.money_per_doc
    return out


@dataclass
class Aggregate:
    """Everything computed from one run's case results."""

    types: dict[ItemType, TypeScores]
    overall: OverallScores
    summary: SummaryScores | None
    cost: CostScores
    metrics: dict[str, float] = field(default_factory=dict)


def aggregate(
    results: Sequence[CaseResult], *, price_in: float | None = None, price_out: float | None = None
) -> Aggregate:
    """Per-type, overall, summary and cost scores of one run, and its flat metrics."""
    types = _type_scores(results)
    overall = _overall(types, results)
    summary = _summary_scores(results)
    cost = _cost(results, price_in, price_out)
    metrics = flatten(types, overall, summary, cost)
    for name in sorted({n for r in results for n in r.custom}):
        values = [r.custom[name] for r in results if name in r.custom]
        metrics[f"custom.{name}"] = round(sum(values) / len(values), 4)
    metrics.update(schema_metrics(results))
    return Aggregate(types, overall, summary, cost, metrics)


def schema_metrics(results: Sequence[CaseResult]) -> dict[str, float]:
    """``schema.score`` (the mean over the cases with a user schema of their mean field score) and
    ``schema.<Class>.<field>`` (the mean of that field over the cases that score it)."""
    scored = [r for r in results if r.schema_score is not None]
    if not scored:
        return {}
    out = {"schema.score": round(statistics.fmean(r.schema_score or 0.0 for r in scored), 4)}
    by_field: dict[str, list[float]] = {}
    for r in scored:
        for path, f in r.fields.items():
            by_field.setdefault(f"schema.{r.schema_class}.{path}", []).append(f.score)
    out.update({name: round(statistics.fmean(values), 4) for name, values in sorted(by_field.items())})
    return out


@dataclass(frozen=True)
class CustomMetric:
    """A metric of your own: ``score(case, extraction)`` (``extraction`` is ``None`` for a failed case) gives a
    number for the case, or ``None`` where it does not apply. Higher is better unless ``lower_is_better``."""

    name: str
    score: Callable[[Case, Extraction | None], float | None]
    lower_is_better: bool = False


def load_metric(spec: str) -> CustomMetric:
    """``module:function`` -> a :class:`CustomMetric` named after the function (or its ``metric_name``); the
    function's ``lower_is_better`` attribute, when true, says lower values are better."""
    import importlib
    import re

    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise UsageError(f"--metric {spec!r}: give module:function, e.g. mymetrics:headline_length")
    try:
        fn = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise UsageError(f"--metric {spec!r}: cannot import it ({type(exc).__name__}: {exc})") from None
    if not callable(fn):
        raise UsageError(f"--metric {spec!r} is not a function")
    name = str(getattr(fn, "metric_name", attr))
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise UsageError(f"--metric {spec!r}: its name {name!r} must be letters, digits and _")

    def score(case: Case, extraction: Extraction | None) -> float | None:
        try:
            value = fn(case, extraction)
        except Exception as exc:  # a user's metric failing on one case is that case's problem, said once per case
            log.warning("metric %s failed on %s: %s", name, case.id, describe(exc))
            return None
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise UsageError(f"metric {name} returned {value!r} on {case.id}: return a finite number or None")
        return float(value)

    return CustomMetric(name=name, score=score, lower_is_better=bool(getattr(fn, "lower_is_better", False)))


# ---------------------------------------------------------------------------------------------- the run


def _uncached(extractor: SupportsExtract) -> SupportsExtract:
    """The same extractor with the model-call cache off (for repeats, which must call the model again)."""
    from factkit._api import Extractor

    if not isinstance(extractor, Extractor):
        return extractor
    return Extractor(
        settings=extractor.settings.model_copy(update={"cache": False}),
        backend=extractor.backend,
        prompt=extractor.prompt.path,
        custom_prompt=extractor.custom_prompt.path,
        max_chars=extractor.max_chars,
    )


def _extract(
    extractor: SupportsExtract, case: Case
) -> tuple[Extraction | CustomExtraction[Any] | None, str | None, float, Usage]:
    started = time.perf_counter()
    schema = case_schema(case)
    try:
        if schema is not None:
            extraction: Extraction | CustomExtraction[Any] = extractor.extract(  # type: ignore[call-arg]
                case.article, published=case.published, schema=schema
            )
        else:
            extraction = extractor.extract(case.article, published=case.published)
    except Exception as exc:  # one failing case is recorded and the run goes on
        latency = time.perf_counter() - started
        usage = getattr(exc, "usage", None)
        log.warning("extraction failed on %s: %s", case.id, describe(exc))
        return None, describe(exc), latency, usage if isinstance(usage, Usage) else Usage()
    return extraction, None, time.perf_counter() - started, extraction.usage


def _replayed(
    predictions: Recording | Mapping[str, Extraction | CustomExtraction[Any]], case: Case, repeat: int
) -> tuple[Extraction | CustomExtraction[Any] | None, str | None, float]:
    if not isinstance(predictions, Recording):
        if case.id not in predictions:
            raise UsageError(f"no prediction for case {case.id!r}; give one for every case scored")
        return predictions[case.id], None, 0.0
    source = predictions.path or "the predictions file"
    recorded = predictions.get(case.id, repeat)
    if recorded is None:
        raise InputError(
            f"no recorded prediction for case {case.id!r}"
            + (f" in run {repeat}" if repeat else "")
            + "; record the run again with --record, or score only the recorded cases",
            source=source,
        )
    if recorded.text_sha256 != text_sha256(case.article):
        raise InputError(
            f"case {case.id!r}: the fixture's article changed since the run was recorded (text_sha256 differs); "
            "record the run again with --record",
            source=source,
        )
    schema = case_schema(case)
    if schema is None:
        return recorded.extraction, recorded.error, recorded.latency_s
    if recorded.custom is None:
        if recorded.error is not None:
            return None, recorded.error, recorded.latency_s
        raise InputError(
            f"case {case.id!r} is scored on {case.schema_ref}, but its recorded prediction is not one; "
            "record the run again with --record",
            source=source,
        )
    try:
        custom = CustomExtraction[schema].model_validate(recorded.custom)  # type: ignore[valid-type]
    except ValidationError as exc:
        raise InputError(
            f"case {case.id!r}: the recorded {schema.__name__} does not fit the schema any more "
            f"({exc.errors()[0]['msg']} at {'.'.join(map(str, exc.errors()[0]['loc']))}); record the run again",
            source=source,
        ) from None
    return custom, recorded.error, recorded.latency_s


def run_eval(
    cases: Sequence[Case],
    extractor: SupportsExtract | None = None,
    *,
    predictions: Recording | Mapping[str, Extraction | CustomExtraction[Any]] | None = None,
    options: ScoreOptions | None = None,
    repeats: int = 1,
    record: str | os.PathLike[str] | None = None,
    price_in: float | None = None,
    price_out: float | None = None,
    fixtures: str | None = None,
    on_case: Callable[[int, CaseResult], None] | None = None,
) -> EvalReport:
    """Score ``cases``: extract each with ``extractor`` (default: ``factkit.Extractor()``, the configured
    model), or replay ``predictions`` (a :class:`Recording` read by ``read_recording``, or a mapping of
    case id to :class:`Extraction`) without any model.

    ``repeats`` runs the extraction that many times (the model-call cache off after the first run) and
    reports the mean and standard deviation of every metric. ``record`` writes the predictions to a file
    that ``predictions=read_recording(path)`` replays. ``on_case(run, result)`` is called after each case.
    A failed extraction is recorded in its case (which counts as all missed) and the run goes on.
    """
    if not cases:
        raise UsageError("no cases to score")
    if extractor is not None and predictions is not None:
        raise UsageError("give an extractor or predictions to replay, not both")
    if repeats < 1:
        raise UsageError(f"repeats must be at least 1, not {repeats}")
    options = options or ScoreOptions()
    only = getattr(extractor, "only", None)
    if options.parts is None and only is not None:
        options = dataclasses.replace(options, parts=frozenset(only))  # parts not run are not scored
    if options.parts is not None and any(c.schema_ref is not None for c in cases):
        # a user schema is none of factkit's parts: a run of some parts does not run it
        log.info("--only: the cases of a user schema are not run")
        cases = [c for c in cases if c.schema_ref is None]
        if not cases:
            raise UsageError("every case is scored on a user schema, which --only does not run; drop --only")
    started_at = datetime.now(timezone.utc)
    clock = time.perf_counter()
    replay = predictions is not None
    if isinstance(predictions, Recording):
        if repeats > predictions.repeats:
            raise UsageError(
                f"the predictions file holds {predictions.repeats} run(s); cannot replay {repeats} repeats"
            )
        repeats = predictions.repeats if repeats == 1 else repeats
    if not replay and extractor is None:
        from factkit._api import Extractor

        extractor = Extractor()

    runs: list[list[CaseResult]] = []
    recorded: list[RecordedCase] = []
    identity: tuple[str, str, str] | None = None
    from_schema = False
    for repeat in range(repeats):
        current = extractor if repeat == 0 or extractor is None else _uncached(extractor)
        results: list[CaseResult] = []
        for case in cases:
            usage: Usage | None = None
            if predictions is not None:
                extraction, error, latency = _replayed(predictions, case, repeat)
            else:
                assert current is not None
                extraction, error, latency, usage = _extract(current, case)
            if extraction is not None and (identity is None or (from_schema and isinstance(extraction, Extraction))):
                # factkit's own prompt names the run; a user schema's only when every case has one
                identity = (extraction.model, extraction.backend, extraction.prompt_version)
                from_schema = isinstance(extraction, CustomExtraction)
            result = score_case(case, extraction, options=options, error=error, latency_s=latency, usage=usage)
            results.append(result)
            if record is not None:
                recorded.append(
                    RecordedCase(
                        case_id=case.id,
                        text_sha256=result.text_sha256,
                        repeat=repeat,
                        latency_s=round(latency, 4),
                        extraction=extraction if isinstance(extraction, Extraction) else None,
                        custom=_dump_custom(extraction) if isinstance(extraction, CustomExtraction) else None,
                        error=error,
                    )
                )
            if on_case is not None:
                on_case(repeat, result)
        runs.append(results)

    model, backend, prompt_version = identity or _identity(extractor, predictions)
    if record is not None:
        from factkit import __version__

        header = RecordingHeader(
            model=model,
            backend=backend,
            prompt_version=prompt_version,
            created=started_at.isoformat(timespec="seconds"),
            factkit_version=__version__,
            fixtures=fixtures,
            cases=len(cases),
        )
        write_recording(record, header, recorded)

    totals = [aggregate(r, price_in=price_in, price_out=price_out) for r in runs]
    first = totals[0]
    metrics, spread = _mean_and_spread([t.metrics for t in totals])
    from factkit import __version__ as version

    info = RunInfo(
        model=model,
        backend=backend,
        prompt_version=prompt_version,
        started=started_at,
        duration_s=round(time.perf_counter() - clock, 3),
        fixtures=fixtures,
        cases=len(cases),
        source="replay" if replay else "model",
        recording=str(record)
        if record is not None
        else (predictions.path if isinstance(predictions, Recording) else None),
        repeats=repeats,
        matcher=options.matcher,
        judge=options.judge.name if options.judge is not None else None,
        parts=sorted(options.parts) if options.parts is not None else None,
        custom_lower_is_better=[m.name for m in options.metrics if m.lower_is_better],
        factkit_version=version,
    )
    return EvalReport(
        run=info,
        types=first.types,
        overall=first.overall,
        summary=first.summary,
        cost=first.cost,
        metrics=metrics,
        spread=spread if repeats > 1 else {},
        runs=[t.metrics for t in totals] if repeats > 1 else [],
        cases=runs[0],
    )


def _dump_custom(extraction: CustomExtraction[Any]) -> dict[str, Any]:
    """A CustomExtraction as JSON that validates back: the schema's fields by alias, its computed fields left out."""
    out = extraction.model_dump(mode="json", exclude={"data"})
    data = extraction.data
    out["data"] = data.model_dump(mode="json", by_alias=True, exclude=set(type(data).model_computed_fields))
    return out


def _identity(
    extractor: SupportsExtract | None, predictions: Recording | Mapping[str, Extraction | CustomExtraction[Any]] | None
) -> tuple[str, str, str]:
    if isinstance(predictions, Recording):
        h = predictions.header
        return h.model, h.backend, h.prompt_version
    settings = getattr(extractor, "settings", None)
    prompt = getattr(extractor, "prompt", None)
    return (
        str(getattr(settings, "model", "unknown")),
        str(getattr(settings, "backend", "unknown")),
        str(getattr(prompt, "id", "unknown")),
    )


def _mean_and_spread(runs: Sequence[Mapping[str, float]]) -> tuple[dict[str, float], dict[str, float]]:
    """Mean and sample standard deviation of each metric over the runs that measured it."""
    names = sorted({name for run in runs for name in run})
    mean: dict[str, float] = {}
    spread: dict[str, float] = {}
    for name in names:
        values = [run[name] for run in runs if name in run and not math.isnan(run[name])]
        if not values:
            continue
        mean[name] = round(statistics.fmean(values), 4)
        spread[name] = round(statistics.stdev(values), 4) if len(values) > 1 else 0.0
    return mean, spread
