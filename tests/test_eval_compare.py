"""``factkit eval --config`` and ``factkit eval compare``: setups side by side, paired bootstrap intervals over
cases, per-case wins/losses/ties, and refusals of mismatched case sets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_eval_cli import cli  # the same 'factkit eval' runner

from factkit.eval import run_eval
from factkit.eval._compare import compare_reports
from factkit.eval._fixtures import load_cases
from factkit.eval._oracle import OracleExtractor, oracle_extraction
from factkit.testing import FakeOpenAIServer, Reply, grounded_answer

ROOT = Path(__file__).resolve().parent.parent
GUM = ROOT / "evals" / "gum"


def _report(tmp_path: Path, name: str, keep: float) -> Path:
    """A saved report of a run that keeps the first ``keep`` share of each case's gold entities."""
    cases = load_cases(GUM)
    predictions = {}
    for case in cases:
        ex = oracle_extraction(case)
        ex.entities = ex.entities[: int(len(ex.entities) * keep)]
        predictions[case.id] = ex
    out = tmp_path / f"{name}.json"
    report = run_eval(cases, predictions=predictions)
    out.write_text(report.model_dump_json(), encoding="utf-8")
    return out


def test_compare_two_saved_reports_gives_paired_intervals_and_per_case_wins(tmp_path: Path) -> None:
    half, full = _report(tmp_path, "half", 0.5), _report(tmp_path, "full", 1.0)
    out = tmp_path / "cmp.json"
    assert cli("compare", str(half), str(full), "-q", "--json", str(out), "--md", str(tmp_path / "cmp.md")) == 0
    result = json.loads(out.read_text())
    n = len(result["cases"])
    assert n == len(load_cases(GUM)) >= 5
    assert set(result["setups"]) == {"half", "full"}
    saved = json.loads(half.read_text())["metrics"]
    assert result["setups"]["half"]["metrics"]["entities.recall"] == pytest.approx(saved["entities.recall"], abs=1e-4)
    recall = next(c for c in result["comparisons"] if c["metric"] == "entities.recall")
    assert recall["a"] == "half" and recall["b"] == "full" and recall["diff"] > 0.3
    lo, hi = recall["ci95"]
    assert 0 < lo <= recall["diff"] <= hi and recall["significant"]
    assert recall["wins"] == n and recall["losses"] == 0 and recall["ties"] == 0
    dates = next(c for c in result["comparisons"] if c["metric"] == "dates.f1")
    assert dates["diff"] == 0 and dates["ci95"] == [0, 0] and not dates["significant"] and dates["ties"] == n
    with_ci = [c for c in result["comparisons"] if c["ci95"] is not None]
    assert len(with_ci) >= 5 and all({"wins", "losses", "ties"} <= set(c) for c in with_ci)
    assert result["bootstrap"]["seed"] == 0 and result["bootstrap"]["resamples"] >= 1000
    assert "| entities.recall |" in (tmp_path / "cmp.md").read_text()


def test_the_html_of_a_comparison_shows_each_case_with_the_gold_and_every_setups_output(tmp_path: Path) -> None:
    half, full = _report(tmp_path, "half", 0.5), _report(tmp_path, "full", 1.0)
    out = tmp_path / "cmp.html"
    assert cli("compare", str(half), str(full), "-q", "--html", str(out)) == 0
    page = out.read_text(encoding="utf-8")
    cases = load_cases(GUM)
    assert page.count('<details class="case"') == len(cases)
    assert "<th>half</th><th>full</th>" in page and "entities.recall" in page and "excludes 0" in page
    # the first case: every gold entity listed, the half setup missing the ones it dropped, the full one none
    case = cases[0]
    section = page[page.index(f'id="case-{case.id}"') :]
    section = section[: section.index("</details>")]
    entities_row = section[section.index("<th>entities</th>") :]
    entities_row = entities_row[: entities_row.index("</tr>")]
    gold_cell, half_cell, full_cell = entities_row.split("<td>")[1:4]
    assert f"{len(case.entities)} gold" in gold_cell
    dropped = case.entities[int(len(case.entities) * 0.5) :]
    assert all(f"missed: {e.name}" in half_cell.replace("&#x27;", "'") for e in dropped)
    assert "missed:" not in full_cell and half_cell.count("✓") == len(case.entities) - len(dropped)
    # and through --config, which used to refuse --html
    recording = ROOT / "evals" / "recorded" / "local-default.jsonl"
    config = tmp_path / "c.yaml"
    config.write_text(
        f"fixtures: {ROOT / 'evals'}\nsetups:\n  a: {{replay: {recording}}}\n  b: {{replay: {recording}}}\n"
    )
    assert cli("--config", str(config), "-q", "--html", str(tmp_path / "config.html")) == 0
    page = (tmp_path / "config.html").read_text(encoding="utf-8")
    assert "Ruling.judge" in page and "<th>headline</th>" in page


def test_the_interval_is_reproducible_and_wide_when_the_difference_is_noise() -> None:
    def case(i: int, tp: int) -> dict[str, Any]:
        return {"id": f"c{i}", "text_sha256": str(i), "types": {"entities": {"tp": tp, "fp": 1, "fn": 3 - tp}}}

    a = {"cases": [case(i, tp) for i, tp in enumerate([1, 2, 1, 2, 1, 2])]}
    b = {"cases": [case(i, tp) for i, tp in enumerate([2, 1, 2, 1, 1, 2])]}
    first = compare_reports({"a": a, "b": b})
    again = compare_reports({"a": a, "b": b})
    assert first == again  # seeded
    f1 = next(c for c in first["comparisons"] if c["metric"] == "entities.f1")
    assert f1["diff"] == 0 and f1["ci95"][0] < 0 < f1["ci95"][1] and not f1["significant"]
    assert (f1["wins"], f1["losses"], f1["ties"]) == (2, 2, 2)


def test_mismatched_case_sets_are_refused_unless_asked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    full = _report(tmp_path, "full", 1.0)
    one = tmp_path / "one.json"
    data = json.loads(full.read_text())
    data["cases"] = data["cases"][:1]
    one.write_text(json.dumps(data))
    assert cli("compare", str(full), str(one), "-q") == 2
    err = capsys.readouterr().err
    assert "cover different cases" in err and "--common-cases" in err
    assert cli("compare", str(full), str(one), "-q", "--common-cases", "--json", str(tmp_path / "c.json")) == 0
    assert len(json.loads((tmp_path / "c.json").read_text())["cases"]) == 1
    changed = json.loads(full.read_text())
    changed["cases"][0]["text_sha256"] = "0" * 64
    (tmp_path / "changed.json").write_text(json.dumps(changed))
    assert cli("compare", str(full), str(tmp_path / "changed.json"), "-q") == 2
    assert "different texts" in capsys.readouterr().err
    assert cli("compare", str(full), "-q") == 2  # one report is not a comparison


def test_a_config_runs_a_recording_and_a_live_endpoint_side_by_side(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = load_cases(GUM)
    recording = tmp_path / "perfect.jsonl"
    run_eval(cases, OracleExtractor(cases), record=recording)
    monkeypatch.setenv("EVAL_KEY", "sk-test-0123456789abcdef")
    with FakeOpenAIServer(handler=lambda request: Reply.json(grounded_answer(request))) as server:
        config = tmp_path / "compare.yaml"
        config.write_text(
            f"fixtures: {GUM}\n"
            "setups:\n"
            f"  recorded: {{replay: {recording}}}\n"
            f"  live: {{base_url: {server.base_url}, model: fake-model, api_key_env: EVAL_KEY, cache: false}}\n"
        )
        out = tmp_path / "cmp.json"
        assert cli("--config", str(config), "--json", str(out)) == 0
        assert server.chat_requests  # the live setup called the endpoint
    result = json.loads(out.read_text())
    assert list(result["setups"]) == ["recorded", "live"]
    assert result["setups"]["recorded"]["metrics"]["entities.f1"] == 1.0
    assert result["setups"]["live"]["run"]["backend"] == "openai"
    f1 = next(c for c in result["comparisons"] if c["metric"] == "entities.f1")
    assert f1["diff"] < 0 and f1["losses"] > 0 and f1["ci95"][1] < 0
    printed = capsys.readouterr().out
    assert "entities.f1" in printed and "live − recorded" in printed
    assert "sk-test-0123456789abcdef" not in out.read_text()


def test_a_bad_config_says_what_and_where(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(f"fixtures: {GUM}\nsetups:\n  a: {{replay: x.jsonl}}\n  b: {{api_key: sk-live-123}}\n")
    assert cli("--config", str(config)) == 2
    err = capsys.readouterr().err
    assert "unknown key(s) api_key" in err and "api_key_env" in err and str(config) in err
    assert "sk-live-123" not in err


def test_parts_not_run_are_not_scored_and_do_not_lower_the_overall_scores(tmp_path: Path) -> None:
    """--only entities,quotes,dates: facts, quantities and the summary are "not run", not all missed (they were
    scored 0 before, and dragged the overall macro F1 down with them)."""
    recording = ROOT / "evals" / "recorded" / "local-default.jsonl"
    full, only = tmp_path / "full.json", tmp_path / "only.json"
    assert cli(str(ROOT / "evals"), "--replay", str(recording), "-q", "--json", str(full)) == 0
    assert (
        cli(
            str(ROOT / "evals"),
            "--replay",
            str(recording),
            "-q",
            "--json",
            str(only),
            "--only",
            "entities,quotes,dates",
        )
        == 0
    )
    a, b = json.loads(full.read_text()), json.loads(only.read_text())
    assert b["run"]["parts"] == ["dates", "entities", "quotes"]
    assert "facts.f1" not in b["metrics"] and "summary.rouge1" not in b["metrics"]
    assert all(set(c["types"]) <= {"entities", "entities_typed", "dates", "quotes"} for c in b["cases"])
    for metric in ("entities.f1", "dates.f1", "quotes.f1"):
        assert b["metrics"][metric] == a["metrics"][metric]
    run = [a["types"][t]["f1"] for t in ("entities", "dates", "quotes")]
    assert b["metrics"]["overall.macro_f1"] == pytest.approx(sum(run) / 3, abs=1e-3)


def test_a_baseline_scored_on_other_cases_is_refused_and_says_which(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recording = ROOT / "evals" / "recorded" / "local-default.jsonl"
    base = tmp_path / "base.json"
    assert cli(str(ROOT / "evals"), "--replay", str(recording), "-q", "--json", str(base)) == 0
    ids = sorted(c["id"] for c in json.loads(base.read_text())["cases"])
    one = ids[0]
    code = cli(str(ROOT / "evals"), "--replay", str(recording), "-q", "--case", one, "--baseline", str(base))
    assert code == 2  # not six failed gates for a one-case run against thirteen
    err = capsys.readouterr().err
    assert "the baseline was scored on other cases" in err and "only in the baseline" in err
    assert f"({len(ids) - 1})" in err
    assert cli(str(ROOT / "evals"), "--replay", str(recording), "-q", "--baseline", str(base)) == 0


def test_one_case_or_unpaired_cases_are_never_significant() -> None:
    def case(i: int, tp: int, tokens: int = 1000, error: str | None = None) -> dict[str, Any]:
        return {
            "id": f"c{i}",
            "text_sha256": str(i),
            "error": error,
            "prompt_tokens": tokens,
            "completion_tokens": 0,
            "types": {"entities": {"tp": tp, "fp": 1, "fn": 3 - tp}},
        }

    one = compare_reports({"a": {"cases": [case(0, 1)]}, "b": {"cases": [case(0, 3)]}})
    f1 = next(c for c in one["comparisons"] if c["metric"] == "entities.f1")
    assert f1["diff"] > 0 and f1["cases"] == 1 and not f1["significant"]  # one case's "interval" is a point
    # b failed the five costly cases and matched a on the rest: no cost difference on the cases both ran
    a = {"cases": [case(i, 2, tokens=3000 if i < 5 else 1000) for i in range(10)]}
    b = {"cases": [case(i, 2, tokens=0, error="boom") if i < 5 else case(i, 2) for i in range(10)]}
    cost = next(c for c in compare_reports({"a": a, "b": b})["comparisons"] if c["metric"] == "cost.tokens_per_doc")
    assert cost["cases"] == 5 and cost["diff"] == 0 and not cost["significant"] and cost["ties"] == 5


@pytest.mark.parametrize(
    "case",
    [{"text_sha256": "x"}, "a string", {"id": "c0", "types": {"entities": {"tp": 1}}}],
    ids=["no-id", "string", "no-counts"],
)
def test_a_malformed_report_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str], case: Any) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"cases": [{"id": "c0", "types": {}}]}))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"cases": [case]}))
    assert cli("compare", str(good), str(bad), "-q") == 2
    err = capsys.readouterr().err
    assert "bad: case #1" in err and "Traceback" not in err


def test_a_comparison_refuses_the_options_of_a_single_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = ROOT / "benchmarks" / "compare-recorded.yaml"
    assert cli("--config", str(config), "-q", "--fail-under", "entities.f1=0.99", "--model", "gpt-x") == 2
    err = capsys.readouterr().err
    assert "--fail-under, --model can't be combined with --config" in err


def test_a_key_pasted_as_api_key_env_is_refused_and_never_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        f"fixtures: {GUM}\nsetups:\n  a: {{replay: x.jsonl}}\n"
        "  b: {model: m, api_key_env: tgp_v1-Zk3mQ9xLr2WvT8bN5cJd}\n"
    )
    assert cli("--config", str(config)) == 2
    err = capsys.readouterr().err
    assert "api_key_env must be the name of an environment variable" in err and "Zk3mQ9" not in err
    config.write_bytes(b"fixtures: evals/\nsetups: \xff\xfe\n")
    assert cli("--config", str(config)) == 2
    assert "not UTF-8" in capsys.readouterr().err


def test_a_metric_of_your_own_is_reported_gated_and_compared(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recording = ROOT / "evals" / "recorded" / "local-default.jsonl"
    metric = "eval_metrics_example:headline_words"
    out = tmp_path / "r.json"
    assert cli(str(ROOT / "evals"), "--replay", str(recording), "-q", "--metric", metric, "--json", str(out)) == 0
    report = json.loads(out.read_text())
    words = [c["custom"]["headline_words"] for c in report["cases"] if c["schema_class"] is None]
    assert all("headline_words" not in c["custom"] for c in report["cases"] if c["schema_class"])  # None: not scored
    assert len(words) == 13 and report["metrics"]["custom.headline_words"] == pytest.approx(sum(words) / 13, abs=1e-4)
    assert report["run"]["custom_lower_is_better"] == ["headline_words"]
    # a gate on it, by name
    assert cli(str(ROOT / "evals"), "--replay", str(recording), "-q", "--metric", metric, "--fail-over",
               "custom.headline_words=1") == 1  # fmt: skip
    assert "custom.headline_words" in capsys.readouterr().err
    # in a comparison, lower is better for it
    config = tmp_path / "c.yaml"
    config.write_text(
        f"fixtures: {ROOT / 'evals'}\nsetups:\n  a: {{replay: {recording}}}\n  b: {{replay: {recording}}}\n"
    )
    cmp_out = tmp_path / "cmp.json"
    assert cli("--config", str(config), "-q", "--metric", metric, "--json", str(cmp_out)) == 0
    row = next(c for c in json.loads(cmp_out.read_text())["comparisons"] if c["metric"] == "custom.headline_words")
    assert row["diff"] == 0 and row["lower_is_better"] and row["ties"] == 13


def test_a_bad_metric_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    recording = str(ROOT / "evals" / "recorded" / "local-default.jsonl")
    assert cli(str(ROOT / "evals"), "--replay", recording, "-q", "--metric", "no_such_module:f") == 2
    assert "cannot import it" in capsys.readouterr().err
    assert cli(str(ROOT / "evals"), "--replay", recording, "-q", "--metric", "eval_metrics_example:broken") == 2
    assert "return a finite number or None" in capsys.readouterr().err


def test_failed_from_reruns_only_the_cases_that_errored_or_fail_a_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recording = str(ROOT / "evals" / "recorded" / "local-default.jsonl")
    first = tmp_path / "first.json"
    assert cli(str(ROOT / "evals"), "--replay", recording, "-q", "--json", str(first)) == 0
    data = json.loads(first.read_text())
    per_case = {}
    for c in data["cases"]:
        if c["schema_class"] is not None:  # scored on its fields: no entities.f1 of its own, never re-run by it
            continue
        t = c["types"]["entities"]
        per_case[c["id"]] = 2 * t["tp"] / (2 * t["tp"] + t["fp"] + t["fn"])
    data["cases"][0]["error"] = "OutputError: boom"  # one case errored in that run
    first.write_text(json.dumps(data))
    again = tmp_path / "again.json"
    gate = ["--fail-under", "entities.f1=0.7"]
    code = cli(
        str(ROOT / "evals"), "--replay", recording, "-q", "--failed-from", str(first), *gate, "--json", str(again)
    )
    assert code in (0, 1)
    rerun = {c["id"] for c in json.loads(again.read_text())["cases"]}
    expected = {cid for cid, v in per_case.items() if v < 0.7} | {data["cases"][0]["id"]}
    assert rerun == expected and 0 < len(rerun) < 13
    assert cli(str(ROOT / "evals"), "--replay", recording, "-q", "--failed-from", str(again), "--fail-under",
               "entities.f1=0.0") == 0  # fmt: skip
    assert "nothing to run" in capsys.readouterr().err
