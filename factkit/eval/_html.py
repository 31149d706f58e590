"""One self-contained HTML file: the scores, and each article with gold and predicted spans highlighted.

No script, no external asset: inline CSS, and ``<details>`` to fold the cases. Every piece of text that
comes from an article, a fixture or a model is escaped with :func:`html.escape`, so an article holding
``<script>`` shows it as text.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Iterable
from typing import Any

from ._metrics import prf
from ._render import other_rows, score_rows
from ._render import shown_value as _shown
from ._scores import CaseResult, CaseSummary, EvalReport, Item, TypeResult

__all__ = ["render_comparison_html", "render_html"]

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1200px;
  color:#1d1d1f;line-height:1.45;padding:0 16px}
h1{font-size:1.5em;margin:0 0 4px}h2{font-size:1.2em;margin-top:28px}
table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #d0d0d5;padding:3px 8px;text-align:left;
  vertical-align:top}th{background:#f3f3f6}td.n{text-align:right;font-variant-numeric:tabular-nums}
.meta{color:#555;font-size:.92em}
.legend span{margin-right:14px;padding:1px 6px}
.article{white-space:pre-wrap;border:1px solid #ddd;border-radius:6px;padding:12px;background:#fcfcfd;
  font-family:Georgia,serif;font-size:15px}
mark{color:inherit;border-radius:2px;padding:0 1px}
.g{background:#ffe7c7;text-decoration:underline;text-decoration-color:#e8590c;text-decoration-thickness:3px;
  text-underline-offset:3px}
.x{background:#ffc9c9}
.m{background:#b2f2bb}
details.case{border:1px solid #ccc;border-radius:8px;padding:6px 12px;margin:10px 0}
details.case>summary{font-weight:600;cursor:pointer}
details.type{margin:8px 0 8px 12px}details.type>summary{cursor:pointer}
.err{color:#c92a2a;font-weight:600}
.items td{font-size:.9em;max-width:520px}
.ok{color:#2b8a3e}.bad{color:#c92a2a}.miss{color:#e8590c}
table.cmp td{font-size:.88em;max-width:420px}ul.cmp{margin:4px 0;padding-left:18px}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _f1(t: TypeResult) -> str:
    if t.tp + t.fp + t.fn == 0:
        return "nothing to match"
    s = prf(t.tp, t.fp, t.fn)
    return f"P {s.precision:.2f} R {s.recall:.2f} F1 {s.f1:.2f}"


def highlight(text: str, marks: Iterable[tuple[int, int, str, str]]) -> str:
    """``text`` escaped, each stretch covered by marks ``(start, end, css_class, label)`` wrapped in
    ``<mark class="...">`` with the labels as its title. Overlapping marks split the text at every edge."""
    marks = [(max(0, a), min(len(text), b), c, lab) for a, b, c, lab in marks if b > a and a < len(text)]
    edges = sorted({0, len(text), *(a for a, _, _, _ in marks), *(b for _, b, _, _ in marks)})
    out: list[str] = []
    for a, b in itertools.pairwise(edges):
        covering = [(c, lab) for (s, e, c, lab) in marks if s <= a and b <= e]
        piece = _e(text[a:b])
        if not covering:
            out.append(piece)
            continue
        classes = " ".join(sorted({c for c, _ in covering}))
        labels = "; ".join(dict.fromkeys(lab for _, lab in covering))
        out.append(f'<mark class="{classes}" title="{_e(labels[:300])}">{piece}</mark>')
    return "".join(out)


#: A missed entity's pronoun mentions ("we", "they") are not painted as misses of their own: the entity is one miss,
#: listed in the table, and its names show where it is.
_PRONOUNS = frozenset(
    [
        "i",
        "me",
        "my",
        "mine",
        "we",
        "us",
        "our",
        "ours",
        "you",
        "your",
        "yours",
        "he",
        "him",
        "his",
        "she",
        "her",
        "hers",
        "it",
        "its",
        "they",
        "them",
        "their",
        "theirs",
        "this",
        "that",
        "these",
        "those",
        "who",
        "whom",
        "whose",
        "which",
    ]
)


def _marks(result: TypeResult, text: str = "") -> list[tuple[int, int, str, str]]:
    marks = []
    for m in result.matched:
        for s in m.gold.spans:
            marks.append((s.start, s.end, "m", f"matched: {m.gold.label}"))
        for s in m.pred.spans:
            marks.append((s.start, s.end, "m", f"matched: {m.pred.label}"))
    for item in result.missed:
        for s in item.spans:
            if text and text[s.start : s.end].strip().lower() in _PRONOUNS:
                continue
            marks.append((s.start, s.end, "g", f"missed: {item.label}"))
    for item in result.spurious:
        for s in item.spans:
            marks.append((s.start, s.end, "x", f"spurious: {item.label}"))
    return marks


def _label(item: Item) -> str:
    detail = f' <span class="meta">({_e(item.detail)})</span>' if item.detail else ""
    return _e(item.label[:240]) + detail


def _items_table(result: TypeResult) -> str:
    rows = []
    for m in result.matched:
        ok = ""
        if m.attribute_ok is not None:
            ok = '<span class="ok">✓</span>' if m.attribute_ok else '<span class="bad">✗</span>'
        rows.append(
            f'<tr><td class="m">matched</td><td>{_label(m.gold)}</td><td>{_label(m.pred)} {ok}</td>'
            f'<td class="n">{m.score:.2f}</td></tr>'
        )
    rows += [f'<tr><td class="g">missed</td><td>{_label(i)}</td><td></td><td></td></tr>' for i in result.missed]
    rows += [f'<tr><td class="x">spurious</td><td></td><td>{_label(i)}</td><td></td></tr>' for i in result.spurious]
    if not rows:
        return '<p class="meta">No gold and no predicted items.</p>'
    head = "<tr><th></th><th>gold</th><th>predicted</th><th>score</th></tr>"
    return f'<table class="items">{head}{"".join(rows)}</table>'


def _summary_block(summary: CaseSummary) -> str:
    parts = [f"<p><b>Headline:</b> {_e(summary.headline) or '<i>(none)</i>'}</p>"] if summary.headline else []
    parts.append(f"<p><b>Summary scored:</b> {_e(summary.text) or '<i>(empty)</i>'}</p>")
    if summary.references:
        cells = "".join(
            f'<tr><td>{i}</td><td class="n">{r.rouge1:.3f}</td><td class="n">{r.rouge2:.3f}</td>'
            f'<td class="n">{r.rougeL:.3f}</td></tr>'
            for i, r in enumerate(summary.references, start=1)
        )
        parts.append(
            f"<table><tr><th>reference</th><th>ROUGE-1</th><th>ROUGE-2</th><th>ROUGE-L</th></tr>{cells}</table>"
        )
    if summary.verdicts:
        items = "".join(
            f'<li class="{"ok" if v.supported else "bad"}">{"supported" if v.supported else "not supported"}: '
            f'{_e(v.sentence)} <span class="meta">{_e(v.reason)}</span></li>'
            for v in summary.verdicts
        )
        parts.append(f"<p><b>Faithfulness</b></p><ul>{items}</ul>")
    if summary.judge_error:
        parts.append(f'<p class="err">judge failed: {_e(summary.judge_error)}</p>')
    if summary.key_facts is not None:
        missed = "".join(f"<li>{_e(f)}</li>" for f in summary.missed_key_facts)
        parts.append(
            f"<p><b>Key facts covered:</b> {summary.key_facts.count}/{summary.key_facts.total}</p>"
            + (f"<p>Missed:</p><ul>{missed}</ul>" if missed else "")
        )
    return "".join(parts)


def _spans_of(value: object) -> list[tuple[int, int]]:
    items = value if isinstance(value, list) else [value]
    return [
        (v["start"], v["end"])
        for v in items
        if isinstance(v, dict) and isinstance(v.get("start"), int) and isinstance(v.get("end"), int)
    ]


def _fields_block(case: CaseResult) -> str:
    """A user-schema case: each field's score, expected and predicted values; the evidence painted on the article
    (gold in the missed colour, predicted in the spurious one, both where they agree)."""
    rows = "".join(
        f'<tr><td>{_e(case.schema_class)}.{_e(path)}</td><td class="n">{f.score:.3f}</td><td>{_e(f.matcher)}</td>'
        f"<td>{_e(_shown(f.expected))}</td><td>{_e(_shown(f.predicted))}</td></tr>"
        for path, f in case.fields.items()
    )
    table = (
        '<table class="items"><tr><th>field</th><th>score</th><th>matcher</th><th>expected</th><th>predicted</th>'
        f"</tr>{rows}</table>"
    )
    marks: list[tuple[int, int, str, str]] = []
    for path, f in case.fields.items():
        if f.matcher != "evidence":
            continue
        gold, pred = _spans_of(f.expected), _spans_of(f.predicted)
        marks += [(a, b, "m" if any(a < d and c < b for c, d in pred) else "g", f"gold {path}") for a, b in gold]
        marks += [(a, b, "m" if any(a < d and c < b for c, d in gold) else "x", f"predicted {path}") for a, b in pred]
    article = f'<div class="article">{highlight(case.text, marks)}</div>' if marks else ""
    return table + article


def _case(case: CaseResult, open_: bool) -> str:
    head = f"{_e(case.id)}"
    if case.title:
        head += f' <span class="meta">— {_e(case.title)}</span>'
    if "entities" in case.types:
        head += f' <span class="meta">· entities {_f1(case.types["entities"])}</span>'
    if case.schema_score is not None:
        head += f' <span class="meta">· {_e(case.schema_class)} fields {case.schema_score:.3f}</span>'
    if case.error:
        head += f' <span class="err">· failed: {_e(case.error)}</span>'
    body = [_fields_block(case)] if case.fields else []
    for i, (name, result) in enumerate(case.types.items()):
        body.append(
            f'<details class="type"{" open" if i == 0 else ""}><summary><b>{_e(name)}</b>: '
            f"{result.tp} matched, {result.fn} missed, {result.fp} spurious · {_f1(result)}</summary>"
            f'<div class="article">{highlight(case.text, _marks(result, case.text))}</div>'
            f"{_items_table(result)}</details>"
        )
    if case.unsupported:
        items = "".join(f"<li>{_label(i)}</li>" for i in case.unsupported)
        body.append(f"<p><b>Unsupported (hallucinated) items:</b></p><ul>{items}</ul>")
    if case.summary is not None:
        body.append(_summary_block(case.summary))
    return (
        f'<details class="case" id="case-{_e(case.id)}"{" open" if open_ else ""}><summary>{head}</summary>'
        + "".join(body)
        + "</details>"
    )


def render_html(report: EvalReport) -> str:
    """The whole report as one HTML page (UTF-8 text; no script, no external asset)."""
    r = report.run
    rows = "".join(
        f'<tr><td>{_e(x.name)}</td><td class="n">{_e(x.precision)}</td><td class="n">{_e(x.recall)}</td>'
        f'<td class="n">{_e(x.f1)}</td><td class="n">{_e(x.support)}</td><td class="n">{_e(x.predicted)}</td>'
        f"<td>{_e(x.note)}</td></tr>"
        for x in score_rows(report)
    )
    scores = (
        '<table id="scores"><tr><th>type</th><th>precision</th><th>recall</th><th>F1</th><th>gold</th>'
        f"<th>predicted</th><th></th></tr>{rows}</table>"
    )
    other = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in other_rows(report))
    meta = (
        f"model <b>{_e(r.model)}</b> ({_e(r.backend)}, prompt {_e(r.prompt_version)}) · {r.cases} cases from "
        f"{_e(r.fixtures or '-')} · {_e(r.source)}"
        + (f" · {r.repeats} runs (first run shown; scores are means ± sd)" if r.repeats > 1 else "")
        + f" · started {_e(r.started.isoformat(timespec='seconds'))} · factkit {_e(r.factkit_version)}"
    )
    legend = (
        '<p class="legend"><b>Legend:</b> <span class="m">matched</span>'
        '<span class="g">missed (gold only)</span><span class="x">spurious (predicted only)</span></p>'
    )
    cases = "".join(_case(c, True) for c in report.cases)  # every case open: each section is one click away
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>factkit eval: {_e(r.model)}</title><style>{_CSS}</style></head><body>"
        f'<h1>factkit eval report</h1><p class="meta">{meta}</p>'
        f"<h2>Scores</h2>{scores}<table>{other}</table>"
        f"<h2>Articles</h2>{legend}{cases}</body></html>\n"
    )


# ------------------------------------------------------------------------------------------ comparisons


def _item_label(item: dict[str, Any]) -> str:
    label = str(item.get("label", ""))
    detail = item.get("detail")
    return f"{label} ({detail})" if detail else label


def _type_cell(result: dict[str, Any] | None) -> str:
    """One setup's items of one type in one case: F1, then what it matched, missed and added."""
    if result is None:
        return '<td class="meta">not scored</td>'
    tp, fp, fn = result.get("tp", 0), result.get("fp", 0), result.get("fn", 0)
    f1 = prf(tp, fp, fn).f1 if tp + fp + fn else None
    head = f"<b>F1 {f1:.3f}</b> " if f1 is not None else ""
    head += f'<span class="meta">{tp} matched, {fn} missed, {fp} spurious</span>'
    rows = [f'<li class="ok">✓ {_e(_item_label(m["pred"]))}</li>' for m in result.get("matched") or []]
    rows += [f'<li class="miss">missed: {_e(_item_label(i))}</li>' for i in result.get("missed") or []]
    rows += [f'<li class="bad">✗ {_e(_item_label(i))}</li>' for i in result.get("spurious") or []]
    return f'<td>{head}<ul class="cmp">{"".join(rows)}</ul></td>'


def _gold_cell(result: dict[str, Any] | None) -> str:
    if result is None:
        return "<td></td>"
    gold = [m["gold"] for m in result.get("matched") or []] + list(result.get("missed") or [])
    gold.sort(key=lambda i: min((s["start"] for s in i.get("spans") or []), default=0))
    items = "".join(f"<li>{_e(_item_label(i))}</li>" for i in gold)
    return f'<td><span class="meta">{len(gold)} gold</span><ul class="cmp">{items}</ul></td>'


def _comparison_case(case_id: str, cases: dict[str, dict[str, Any]]) -> str:
    """One case: a row per scored type (the gold, then each setup's items), the summaries, the schema fields."""
    names = list(cases)
    first = cases[names[0]]
    head = f"<th>{_e(case_id)}</th><th>gold</th>" + "".join(f"<th>{_e(n)}</th>" for n in names)
    rows = []
    errors = [f"{n}: {c['error']}" for n, c in cases.items() if c.get("error")]
    kinds = list(dict.fromkeys(k for c in cases.values() for k in (c.get("types") or {})))
    for kind in kinds:
        gold_from = next((c["types"][kind] for c in cases.values() if kind in (c.get("types") or {})), None)
        cells = "".join(_type_cell((c.get("types") or {}).get(kind)) for c in cases.values())
        rows.append(f"<tr><th>{_e(kind)}</th>{_gold_cell(gold_from)}{cells}</tr>")
    if any(c.get("summary") for c in cases.values()):
        for label, key in (("headline", "headline"), ("summary", "text")):
            cells = "".join(f"<td>{_e((c.get('summary') or {}).get(key) or '')}</td>" for c in cases.values())
            rows.append(f"<tr><th>{label}</th><td></td>{cells}</tr>")
        rouge = []
        for c in cases.values():
            refs = (c.get("summary") or {}).get("references") or []
            rouge.append(f'<td class="n">{max(r["rouge1"] for r in refs):.3f}</td>' if refs else "<td></td>")
        rows.append(f"<tr><th>ROUGE-1 (best ref)</th><td></td>{''.join(rouge)}</tr>")
    paths = list(dict.fromkeys(p for c in cases.values() for p in (c.get("fields") or {})))
    for path in paths:
        scored = [c["fields"][path] for c in cases.values() if path in (c.get("fields") or {})]
        gold = scored[0].get("expected") if scored else None
        cells = ""
        for c in cases.values():
            f = (c.get("fields") or {}).get(path)
            cells += "<td></td>" if f is None else f"<td><b>{f['score']:.3f}</b> {_e(_shown(f.get('predicted')))}</td>"
        cls = next((c["schema_class"] for c in cases.values() if c.get("schema_class")), "")
        label = f"{cls}.{path}"
        rows.append(f"<tr><th>{_e(label)}</th><td>{_e(_shown(gold))}</td>{cells}</tr>")
    error = f'<p class="err">{_e("; ".join(errors))}</p>' if errors else ""
    title = f' <span class="meta">— {_e(first.get("title"))}</span>' if first.get("title") else ""
    return (
        f'<details class="case" id="case-{_e(case_id)}" open><summary>{_e(case_id)}{title}</summary>{error}'
        f'<table class="cmp"><tr>{head}</tr>{"".join(rows)}</table></details>'
    )


def render_comparison_html(result: dict[str, Any], reports: dict[str, dict[str, Any]]) -> str:
    """A comparison (:func:`~factkit.eval._compare.compare_reports`) as one HTML page: the metrics side by side with
    each difference, its interval and wins/losses/ties; then every case with the gold and each setup's output."""
    from ._compare import comparison_rows

    header, rows = comparison_rows(result)
    table = (
        "<table><tr>"
        + "".join(f"<th>{_e(h)}</th>" for h in header)
        + "</tr>"
        + "".join("<tr>" + "".join(f"<td>{_e(cell)}</td>" for cell in row) + "</tr>" for row in rows)
        + "</table>"
    )
    setups = "".join(
        f"<li><b>{_e(name)}</b>: {_e(run.get('model', '?'))} ({_e(run.get('backend', '?'))}, prompt "
        f"{_e(run.get('prompt_version', '?'))}), {_e(run.get('source', '?'))}"
        + (f" of {_e(run['recording'])}" if run.get("recording") else "")
        + "</li>"
        for name, run in ((n, s.get("run") or {}) for n, s in result["setups"].items())
    )
    boot = result.get("bootstrap") or {}
    note = (
        f"{len(result['cases'])} cases · differences against <b>{_e(next(iter(result['setups'])))}</b> · paired "
        f"bootstrap, {boot.get('resamples')} resamples, seed {boot.get('seed')} · * : the 95% interval excludes 0 "
        f"(needs {boot.get('significant_needs_cases')} cases or more)"
    )
    by_case = {name: {c["id"]: c for c in report["cases"]} for name, report in reports.items()}
    cases = "".join(
        _comparison_case(cid, {name: by_case[name][cid] for name in reports if cid in by_case[name]})
        for cid in result["cases"]
    )
    legend = (
        '<p class="legend"><b>Each cell:</b> <span class="ok">✓ matched</span><span class="miss">missed</span>'
        '<span class="bad">✗ spurious</span></p>'
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>factkit eval: comparison</title><style>{_CSS}</style></head><body>"
        f'<h1>factkit eval: {len(reports)} setups compared</h1><ul>{setups}</ul><p class="meta">{note}</p>'
        f"<h2>Metrics</h2>{table}<h2>Cases</h2>{legend}{cases}</body></html>\n"
    )
