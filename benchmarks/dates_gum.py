"""Score factkit.rules.dates.find_dates against GUM's human date/time labels (12 Wikinews articles).

Run from the repository root::

    .venv/bin/python benchmarks/dates_gum.py [--anchor dateline|created] [--verbose] [PATH]

* Span P/R/F1: a prediction matches a gold <date>/<time> span when they overlap; matching is one-to-one
  (pairs are taken in order of decreasing overlap).
* Normalisation accuracy: gold spans that have a ``when`` and are matched by a prediction whose value equals
  it, out of all gold spans that have a ``when``.
* Range accuracy (extra): gold spans with ``from``/``to`` whose matched prediction denotes exactly that
  interval (an ISO week ``YYYY-Www`` is Monday-Sunday, ``YYYY-Www-WE`` its Saturday-Sunday, ``YYYY-MM`` and
  ``YYYY`` their first and last days).

GUM resolves relative expressions against the article's dateline (the second line, e.g. "Tuesday, June 19,
2018"), which can differ from ``date_created``; ``--anchor dateline`` (the default) passes the dateline as
``published`` and falls back to ``date_created`` when there is none.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from factkit.rules.dates import DateHit, find_dates  # noqa: E402

DEFAULT_PATH = REPO.parent / "shared" / "data" / "gum-news" / "gum_news_dev.jsonl"


def dateline(text: str) -> dt.date | None:
    """The first full date in the first three lines (the Wikinews dateline), if any."""
    head = "\n".join(text.split("\n")[:3])
    for hit in find_dates(head):
        if hit.value and re.fullmatch(r"\d{4}-\d{2}-\d{2}", hit.value):
            return dt.date.fromisoformat(hit.value)
    return None


def interval(value: str | None) -> tuple[str, str] | None:
    """The first and last day that an ISO value covers (for comparing with GUM from/to)."""
    if value is None:
        return None
    m = re.fullmatch(r"(\d{4})-W(\d{2})(-WE)?", value)
    if m:
        monday = dt.date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
        if m.group(3):
            return (monday + dt.timedelta(days=5)).isoformat(), (monday + dt.timedelta(days=6)).isoformat()
        return monday.isoformat(), (monday + dt.timedelta(days=6)).isoformat()
    m = re.fullmatch(r"(\d{4})-(\d{2})", value)
    if m:
        y, mo = int(m.group(1)), int(m.group(2))
        last = (dt.date(y + mo // 12, mo % 12 + 1, 1) - dt.timedelta(days=1)).isoformat()
        return f"{y:04d}-{mo:02d}-01", last
    if re.fullmatch(r"\d{4}", value):
        return f"{value}-01-01", f"{value}-12-31"
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return value, value
    return None


def match(gold: list[dict[str, Any]], pred: list[DateHit]) -> dict[int, int]:
    """One-to-one overlap matching, largest overlaps first. Returns {gold index: pred index}."""
    pairs = []
    for gi, g in enumerate(gold):
        for pi, p in enumerate(pred):
            ov = min(g["end"], p.end) - max(g["start"], p.start)
            if ov > 0:
                pairs.append((ov, gi, pi))
    pairs.sort(key=lambda x: (-x[0], x[1], x[2]))
    g2p: dict[int, int] = {}
    used: set[int] = set()
    for _, gi, pi in pairs:
        if gi not in g2p and pi not in used:
            g2p[gi] = pi
            used.add(pi)
    return g2p


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path", nargs="?", default=str(DEFAULT_PATH))
    ap.add_argument("--anchor", choices=["dateline", "created"], default="dateline")
    ap.add_argument("--verbose", "-v", action="store_true", help="list misses, false positives, wrong values")
    args = ap.parse_args(argv)

    n_gold = n_pred = n_match = 0
    n_when = n_when_ok = n_range = n_range_ok = 0
    print(f"{'doc':<22} {'anchor':<10} {'gold':>4} {'pred':>4} {'match':>5} {'when ok':>8}")
    for line in Path(args.path).read_text(encoding="utf-8").splitlines():
        doc = json.loads(line)
        text: str = doc["text"]
        anchor = dt.date.fromisoformat(doc["date_created"])
        if args.anchor == "dateline":
            anchor = dateline(text) or anchor
        gold: list[dict[str, Any]] = doc["dates"]
        pred = find_dates(text, anchor)
        g2p = match(gold, pred)
        d_when = d_when_ok = 0
        for gi, g in enumerate(gold):
            attrs = g["attrs"]
            p = pred[g2p[gi]] if gi in g2p else None
            if "when" in attrs:
                d_when += 1
                ok = p is not None and p.value == attrs["when"]
                d_when_ok += ok
            elif "from" in attrs and "to" in attrs:
                n_range += 1
                ok = p is not None and interval(p.value) == (attrs["from"], attrs["to"])
                n_range_ok += ok
            else:
                ok = p is not None
            if args.verbose and not ok:
                got = f"{p.text!r} -> {p.value}" if p else "MISSED"
                print(f"    gold {g['text']!r} {attrs}: {got}")
        if args.verbose:
            for pi, p in enumerate(pred):
                if pi not in g2p.values():
                    print(f"    false positive {p.text!r} -> {p.value} @{p.start}")
        n_gold += len(gold)
        n_pred += len(pred)
        n_match += len(g2p)
        n_when += d_when
        n_when_ok += d_when_ok
        name = doc["doc_id"].removeprefix("GUM_news_")
        counts = f"{len(gold):>4} {len(pred):>4} {len(g2p):>5} {d_when_ok:>4}/{d_when}"
        print(f"{name:<22} {anchor.isoformat():<10} {counts}")

    p = n_match / n_pred if n_pred else 0.0
    r = n_match / n_gold if n_gold else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    print()
    print(f"spans: gold {n_gold}, predicted {n_pred}, matched {n_match}")
    print(f"span precision {p:.3f}  recall {r:.3f}  F1 {f1:.3f}")
    print(f"normalisation accuracy (gold 'when'): {n_when_ok}/{n_when} = {n_when_ok / max(n_when, 1):.3f}")
    print(f"range accuracy (gold 'from'/'to'):    {n_range_ok}/{n_range}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
