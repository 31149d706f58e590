"""The HTML report: escaping, highlights, and (marked ``browser``) how headless Chromium renders it."""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from factkit import DateMention, Entity, Extraction, Span, Summary
from factkit.eval import render_html, run_eval
from factkit.eval._fixtures import Case, GoldDate, GoldEntity, GoldSpan, Provenance
from factkit.eval._html import highlight

ARTICLE = 'Hello <script>alert(1)</script> from Paris on Monday. <img src=x onerror="alert(2)"> Berlin & "Rome".'


def at(text: str) -> tuple[int, int]:
    start = ARTICLE.index(text)
    return start, start + len(text)


def span(text: str) -> Span:
    start, end = at(text)
    return Span(start=start, end=end, text=text)


def gspan(text: str) -> GoldSpan:
    start, end = at(text)
    return GoldSpan(start=start, end=end, text=text)


def hostile_case() -> tuple[Case, Extraction]:
    case = Case(
        id="xss",
        title="<i>title</i>",
        provenance=Provenance(source="test", licence="CC0"),
        text=ARTICLE,
        entities=[
            GoldEntity(name="Paris", type="location", mentions=[gspan("Paris")]),
            GoldEntity(name="Rome", type="location", mentions=[gspan("Rome")]),
        ],
        dates=[GoldDate(**gspan("Monday").model_dump(), value="2024-01-01")],
    )
    extraction = Extraction(
        summary=Summary(headline="x", tldr="<script>alert(3)</script>", key_points=[]),
        entities=[
            Entity(name="Paris", type="location", mentions=[span("Paris")]),
            Entity(name="<script>alert(4)</script>", type="other", mentions=[span("<script>alert(1)</script>")]),
        ],
        dates=[DateMention(span=span("Monday"), value="2024-01-01")],
        model="<b>model</b>",
        backend="fake",
        prompt_version="p@1",
    )
    return case, extraction


def report_html() -> str:
    case, extraction = hostile_case()
    return render_html(run_eval([case], predictions={case.id: extraction}))


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []
        self.marks: list[str] = []
        self._classes: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "mark":
            self._classes.append(dict(attrs).get("class") or "")

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._classes:
            self.marks.append(f"{self._classes[-1]}:{data}")

    def handle_endtag(self, tag: str) -> None:
        if tag == "mark" and self._classes:
            self._classes.pop()


def parse(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    return parser


def test_article_text_and_labels_are_escaped() -> None:
    page = report_html()
    tags = parse(page)
    assert "script" not in tags.tags and "img" not in tags.tags and "i" not in tags.tags
    text = "".join(tags.text)
    assert "<script>alert(1)</script>" in text  # shown as text
    assert "<script>alert(4)</script>" in text and "<script>alert(3)</script>" in text
    assert '<img src=x onerror="alert(2)">' in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_highlights_are_matched_missed_and_spurious() -> None:
    tags = parse(report_html())
    assert "m:Paris" in tags.marks  # matched
    assert "g:Rome" in tags.marks  # missed (gold only)
    assert "x:<script>alert(1)</script>" in tags.marks  # spurious (predicted only)
    assert "m:Monday" in tags.marks


def test_highlight_splits_overlapping_marks() -> None:
    out = highlight("abcdef", [(0, 4, "m", "one"), (2, 6, "x", "two")])
    assert out == (
        '<mark class="m" title="one">ab</mark><mark class="m x" title="one; two">cd</mark>'
        '<mark class="x" title="two">ef</mark>'
    )
    assert highlight("a<b", []) == "a&lt;b"


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.browser
@pytest.mark.skipif(_chromium() is None, reason="headless chromium is not installed")
def test_chromium_renders_the_report(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(report_html(), encoding="utf-8")
    browser = _chromium()
    assert browser is not None
    common = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    shot = tmp_path / "report.png"
    subprocess.run(
        [*common, f"--screenshot={shot}", "--window-size=1280,2000", page.as_uri()],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    dom = subprocess.run(
        [*common, "--dump-dom", page.as_uri()], check=True, capture_output=True, text=True, timeout=120
    ).stdout
    tags = parse(dom)
    # The article's <script> and <img> never became elements, so nothing from the article can run.
    assert "script" not in tags.tags and "img" not in tags.tags
    text = "".join(tags.text)
    assert "<script>alert(1)</script>" in text
    assert "Legend:" in text and "matched" in text and "missed (gold only)" in text
    assert "spurious (predicted only)" in text
    assert "m:Paris" in tags.marks and "g:Rome" in tags.marks
    assert "entities_typed" in text  # the per-type score table


def test_the_headline_is_shown_every_case_is_open_and_a_missed_entitys_pronouns_are_not_misses() -> None:
    text = "Ann Lee opened a bakery. She sells bread. Bob Day visited it on Monday."
    ann = [GoldSpan(start=0, end=7, text="Ann Lee"), GoldSpan(start=25, end=28, text="She")]
    cases = [
        Case(
            id=f"c{i}",
            provenance=Provenance(source="test", licence="CC0"),
            text=text,
            entities=[GoldEntity(name="Ann Lee", type="person", mentions=ann)],
        )
        for i in range(2)
    ]
    extraction = Extraction(
        summary=Summary(headline="Ann Lee opens a bakery", tldr="Ann Lee opened a bakery.", key_points=[]),
        model="m",
        backend="fake",
        prompt_version="p@1",
    )
    html = render_html(run_eval(cases, predictions={c.id: extraction for c in cases}))
    assert "<b>Headline:</b> Ann Lee opens a bakery" in html
    assert html.count('<details class="case"') == html.count('<details class="case" id="c') == 2
    assert html.count('" open><summary>c') == 2  # both cases open
    assert '<mark class="g" title="missed: Ann Lee">Ann Lee</mark>' in html
    assert ">She</mark>" not in html  # the pronoun of the missed entity is not a miss of its own
