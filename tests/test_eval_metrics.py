"""Set-level metrics: grounding, hallucination, ROUGE, key-fact coverage, judge scores and gates."""

from __future__ import annotations

import pytest

from factkit import Entity, Evidence, Extraction, Fact, KeyPoint, Quote, Span, Summary, UsageError
from factkit.eval import check_baseline, check_thresholds, grounding, hallucination, key_fact_coverage, rouge
from factkit.eval._fixtures import GoldFact
from factkit.eval._gates import Threshold, parse_threshold
from factkit.eval._run import LOWER_IS_BETTER, metric_names
from factkit.eval._summary import summary_sentences, summary_text
from factkit.eval.judge import judge_scores

ARTICLE = "A federal judge blocked the deportation of 92 Cambodians on Thursday. Cormac Carney wrote the ruling."


def sp(text: str) -> Span:
    start = ARTICLE.index(text)
    return Span(start=start, end=start + len(text), text=text)


def ev(text: str) -> Evidence:
    s = sp(text)
    return Evidence(start=s.start, end=s.end, text=s.text)


def extraction(**kwargs: object) -> Extraction:
    summary = kwargs.pop("summary", Summary(headline="h", tldr="t", key_points=[]))
    return Extraction(summary=summary, model="m", backend="fake", prompt_version="p@1", **kwargs)


def test_grounding_counts_each_item() -> None:
    good = ev("Cormac Carney wrote the ruling.")
    shifted = Evidence(start=good.start + 1, end=good.end + 1, text=good.text)  # offsets off by one
    ex = extraction(
        facts=[Fact(statement="Carney wrote it.", kind="event", evidence=good)],
        entities=[
            Entity(name="Cormac Carney", type="person", mentions=[sp("Cormac Carney"), Span(start=0, end=1, text="x")])
        ],
        quotes=[Quote(text="92", span=sp("92"))],
        summary=Summary(headline="h", tldr="t", key_points=[KeyPoint(text="k", evidence=[good, shifted])]),
    )
    ratio = grounding(ARTICLE, ex)
    # fact ok, key point not (one evidence is off), mention ok, mention wrong, quote ok
    assert (ratio.count, ratio.total) == (3, 5)
    assert ratio.rate == pytest.approx(0.6)


def test_grounding_of_an_empty_extraction_has_no_rate() -> None:
    assert grounding(ARTICLE, extraction()).rate is None


def test_hallucination_flags_invented_entities_and_unsupported_facts() -> None:
    ex = extraction(
        entities=[
            Entity(name="Cormac Carney", type="person", mentions=[sp("Cormac Carney")]),
            Entity(name="Angela Merkel", type="person", mentions=[Span(start=0, end=6, text="Merkel")]),
        ],
        facts=[
            Fact(
                statement="Cormac Carney wrote the ruling.",
                kind="event",
                evidence=ev("Cormac Carney wrote the ruling."),
            ),
            Fact(
                statement="Germany closed its borders in March.",
                kind="event",
                evidence=ev("Cormac Carney wrote the ruling."),
            ),
            Fact(
                statement="A judge blocked deportations.",
                kind="event",
                evidence=Evidence(start=0, end=12, text="not in text!"),
            ),
        ],
    )
    ratio, items = hallucination(ARTICLE, ex)
    assert (ratio.count, ratio.total) == (3, 5)
    assert [i.label for i in items] == [
        "Angela Merkel",
        "Germany closed its borders in March.",
        "A judge blocked deportations.",
    ]
    assert items[2].detail == "evidence not in the article"


def test_rouge_against_each_reference() -> None:
    scores = rouge("a judge blocked the deportation", ["a judge blocked the deportation", "completely different words"])
    assert scores[0].rouge1 == 1.0 and scores[0].rougeL == 1.0
    assert scores[1].rouge1 == 0.0


def test_summary_sentences_and_text() -> None:
    summary = Summary(
        headline="Judge blocks deportations",
        tldr="A judge blocked it.",
        key_points=[KeyPoint(text="92 people stay.", evidence=[ev("92 Cambodians")])],
    )
    assert summary_sentences(summary) == ["A judge blocked it.", "92 people stay."]
    assert summary_text(summary) == "A judge blocked it. 92 people stay."


def test_key_fact_coverage() -> None:
    facts = [
        GoldFact(statement="A federal judge blocked the deportation of 92 Cambodians.", key=True),
        GoldFact(statement="Cormac Carney wrote the ruling.", key=True),
        GoldFact(statement="Something minor happened.", key=False),
    ]
    summary = Summary(
        headline="Judge blocks deportation", tldr="The judge blocked deporting 92 Cambodians.", key_points=[]
    )
    result = key_fact_coverage(summary, facts)
    assert result is not None
    ratio, missed = result
    assert (ratio.count, ratio.total) == (1, 2)
    assert missed == ["Cormac Carney wrote the ruling."]
    assert key_fact_coverage(summary, facts[2:]) is None


def test_judge_scores_confusion() -> None:
    # gold faithful?  judged faithful?
    gold = [False, False, False, True, True]
    judged = [False, True, False, True, False]
    s = judge_scores("x", gold, judged)
    assert (s.tp, s.fn, s.tn, s.fp) == (2, 1, 1, 1)
    assert s.unfaithful_recall == pytest.approx(2 / 3, abs=1e-4)
    assert s.unfaithful_precision == pytest.approx(2 / 3, abs=1e-4)
    assert s.faithful_recall == 0.5
    assert s.balanced_accuracy == pytest.approx((2 / 3 + 0.5) / 2, abs=1e-4)


# -------------------------------------------------------------------------------------------- gates


def test_parse_threshold() -> None:
    t = parse_threshold("entities.f1=0.6", metric_names())
    assert (t.metric, t.value, t.kind) == ("entities.f1", 0.6, "under")
    with pytest.raises(UsageError, match=r"unknown metric .entity\.f1.; valid metrics: .*entities\.f1"):
        parse_threshold("entity.f1=0.6", metric_names())
    with pytest.raises(UsageError, match="METRIC=VALUE"):
        parse_threshold("entities.f1", metric_names())
    with pytest.raises(UsageError, match="not a number"):
        parse_threshold("entities.f1=high", metric_names())


def test_check_thresholds() -> None:
    metrics = {"entities.f1": 0.55, "hallucination.rate": 0.1}
    failures = check_thresholds(
        metrics,
        [
            Threshold("entities.f1", 0.6),
            Threshold("hallucination.rate", 0.05, "over"),
            Threshold("dates.f1", 0.5),
            Threshold("entities.f1", 0.5),
        ],
    )
    assert [f.message for f in failures] == [
        "entities.f1 = 0.5500 is below 0.6 by 0.0500",
        "hallucination.rate = 0.1000 is above 0.05 by 0.0500",
        "dates.f1: not measured in this run (gate dates.f1>=0.5)",
    ]


def test_check_baseline() -> None:
    old = {"entities.f1": 0.70, "dates.f1": 0.80, "hallucination.rate": 0.10, "cost.latency_s_per_doc": 1.0}
    new = {"entities.f1": 0.67, "dates.f1": 0.79, "hallucination.rate": 0.20, "cost.latency_s_per_doc": 9.0}
    failures = check_baseline(new, old, max_drop=0.02, lower_is_better=LOWER_IS_BETTER)
    assert [f.metric for f in failures] == ["entities.f1", "hallucination.rate"]
    assert failures[0].message == "entities.f1 dropped by 0.0300 (0.7000 -> 0.6700; max drop 0.02)"
    assert "rose by 0.1000" in failures[1].message
    assert check_baseline(new, old, max_drop=0.5, lower_is_better=LOWER_IS_BETTER) == []
