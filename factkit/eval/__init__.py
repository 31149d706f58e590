"""The evaluation harness: score extractions against hand-labelled fixtures.

>>> from factkit.eval import load_cases, run_eval  # doctest: +SKIP
>>> report = run_eval(load_cases("evals"))  # the configured model  # doctest: +SKIP
>>> report.metrics["entities.f1"]  # doctest: +SKIP

``factkit eval evals/`` is the same from the command line (``factkit/cli/eval.py``). The metrics, the
matching rules and the report schema are documented in ``docs/eval.md``.
"""

from __future__ import annotations

from ._assign import assign
from ._fixtures import Case, FixtureError, load_cases
from ._gates import GateFailure, check_baseline, check_thresholds
from ._html import render_html
from ._matchers import match_dates, match_entities, match_facts, match_quantities, match_quotes
from ._metrics import grounding, hallucination, prf
from ._record import Recording, read_recording
from ._render import markdown
from ._run import ScoreOptions, aggregate, metric_names, run_eval, score_case
from ._scores import CaseResult, EvalReport, TypeResult
from ._summary import key_fact_coverage, rouge
from .judge import LexicalJudge, ModelJudge, load_xsum, measure_judge

__all__ = [
    "Case",
    "CaseResult",
    "EvalReport",
    "FixtureError",
    "GateFailure",
    "LexicalJudge",
    "ModelJudge",
    "Recording",
    "ScoreOptions",
    "TypeResult",
    "aggregate",
    "assign",
    "check_baseline",
    "check_thresholds",
    "grounding",
    "hallucination",
    "key_fact_coverage",
    "load_cases",
    "load_xsum",
    "markdown",
    "match_dates",
    "match_entities",
    "match_facts",
    "match_quantities",
    "match_quotes",
    "measure_judge",
    "metric_names",
    "prf",
    "read_recording",
    "render_html",
    "rouge",
    "run_eval",
    "score_case",
]
