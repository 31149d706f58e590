"""Human-readable renderings of results (Markdown)."""

from __future__ import annotations

from .._models import CustomExtraction, Extraction, Span, Summary


def _at(span: Span) -> str:
    return f"[{span.start}:{span.end}]"


def summary_markdown(summary: Summary) -> str:
    lines = [f"# {summary.headline}", "", f"**TL;DR** {summary.tldr}", "", "## Key points"]
    for kp in summary.key_points:
        lines.append(f"- {kp.text} {' '.join(_at(e) for e in kp.evidence)}")
    return "\n".join(lines)


def extraction_markdown(result: Extraction) -> str:
    lines = [summary_markdown(result.summary), "", "## Facts"]
    for f in result.facts:
        extra = []
        if f.quantity:
            approx = "~" if f.quantity.approximate else ""
            extra.append(f"quantity {approx}{f.quantity.value:g} {f.quantity.unit}".rstrip())
        if f.date:
            extra.append(f"date {f.date}")
        if f.speaker:
            extra.append(f"speaker {f.speaker}")
        tail = f" ({'; '.join(extra)})" if extra else ""
        lines.append(f"- **{f.kind}** {f.statement}{tail} — evidence {_at(f.evidence)} ({f.evidence.match})")
    lines += ["", "## Entities"]
    for e in result.entities:
        lines.append(f"- {e.name} ({e.type}) — {len(e.mentions)} mention(s), first at {_at(e.mentions[0])}")
    lines += ["", "## Quotes"]
    for q in result.quotes:
        lines.append(f"- {q.speaker or 'unattributed'}: “{q.text}” {_at(q.span)}")
    lines += ["", "## Dates"]
    for d in result.dates:
        lines.append(f"- {d.span.text!r} → {d.value or 'unresolved'} {_at(d.span)}")
    u = result.usage
    latency = sum(c.latency_s for c in u.calls)
    lines += [
        "",
        f"_{len(result.rejected)} item(s) rejected by grounding · model {result.model} ({result.backend}) · "
        f"prompt {result.prompt_version} · {u.prompt_tokens} prompt + {u.completion_tokens} completion tokens · "
        f"{latency:.1f} s_",
    ]
    return "\n".join(lines)


def custom_markdown(result: CustomExtraction) -> str:
    return "```json\n" + result.data.model_dump_json(indent=2) + "\n```"
