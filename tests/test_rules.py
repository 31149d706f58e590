"""Every rule table: each rule has an id, a reason, examples on both sides, fires on each example and on none of its
counter-examples; its regexes have a shape that reads a line in linear time, and it reads a 32,000-character line.

The tables: ``factkit.rules.quotes``, ``factkit.rules.furniture`` and ``factkit.rules.statements``
(:class:`factkit.rules.Rule`), and the skips
of ``factkit.rules.quantities`` (their own ``Skip`` type: a test of the text before the number, the number and the text
after it). The parse-driven rules of ``factkit._standalone`` are checked for their id, reason and examples here and
run on their examples in ``tests/test_standalone.py`` (they need the parser).
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

import pytest

from factkit import _standalone
from factkit.checker._verify import CHECKS, Check, Verdict, rules_verdict
from factkit.rules import Rule, furniture, lexicon, quotes, statements
from factkit.rules import dates as date_rules
from factkit.rules import quantities as _quantities
from factkit.rules.furniture import Line


@dataclass(frozen=True)
class Entry:
    """A rule of any table, as this test reads it."""

    table: str
    id: str
    reason: str
    examples: tuple[Any, ...]
    counter_examples: tuple[Any, ...]
    fires: Callable[[Any], bool]
    functions: tuple[Callable[..., Any], ...]  # what decides, for the regexes it reads
    patterns: tuple[re.Pattern[str], ...]


def _rule(table: str, rule: Rule[Any]) -> Entry:
    return Entry(
        table,
        rule.id,
        rule.reason,
        rule.examples,
        rule.counter_examples,
        rule.fires,
        (rule.test,) if rule.test is not None else (),
        (rule.pattern,) if rule.pattern is not None else (),
    )


def _skip_fires(skip: _quantities.Skip) -> Callable[[str], bool]:
    """A skip fires on a text when it skips one of the text's numbers, read as the finder reads them (60 characters
    either side)."""

    def fires(text: str) -> bool:
        return any(
            skip.test(text[max(0, m.start() - 60) : m.start()], m.group(), text[m.end() : m.end() + 60])
            for m in _quantities._NUMBER.finditer(text)
        )

    return fires


def _skip(skip: _quantities.Skip) -> Entry:
    return Entry(
        "_quantities.SKIPS",
        skip.id,
        skip.reason,
        skip.examples,
        skip.counter_examples,
        _skip_fires(skip),
        (skip.test,),
        (),
    )


ENTRIES: list[Entry] = [
    *(_rule("quotes", r) for r in quotes.RULES),
    *(_rule("furniture", r) for r in furniture.RULES),
    *(_rule("statements.KEY_POINT_RULES", r) for r in statements.KEY_POINT_RULES),
    *(_rule("statements.NAME_RULES", r) for r in statements.NAME_RULES.values()),
    *(_skip(s) for s in _quantities.SKIPS),
]


def test_every_rule_id_is_unique_and_kebab_case() -> None:
    ids = [e.id for e in ENTRIES] + list(_standalone.RULES)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert all(re.fullmatch(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*", i) for i in ids), ids


def test_the_parse_driven_rules_have_a_reason_and_examples_on_both_sides() -> None:
    for rule in _standalone.RULES.values():
        assert rule.reason and rule.examples and rule.counter_examples, rule.id


@pytest.mark.parametrize("entry", ENTRIES, ids=[f"{e.table}:{e.id}" for e in ENTRIES])
def test_every_rule(entry: Entry) -> None:
    # an id, a one-line reason, examples on both sides
    assert entry.reason.strip() and "\n" not in entry.reason, entry.id
    assert entry.examples and entry.counter_examples, entry.id
    # it fires on each example and on none of its counter-examples
    for example in entry.examples:
        assert entry.fires(example), f"{entry.id} does not fire on {example!r}"
    for counter in entry.counter_examples:
        assert not entry.fires(counter), f"{entry.id} fires on {counter!r}"
    # linear time: no regex it reads has an unbounded repeat that may backtrack inside another ...
    for pattern in _patterns(entry):
        assert _nested_repeat(pattern) is None, f"{entry.id}: {pattern.pattern!r} has {_nested_repeat(pattern)}"
    # ... and it reads 32,000-character lines (it finishes: no timing is asserted, the shape above is the guard)
    for line in _long_lines(entry):
        if isinstance(entry.examples[0], Line):
            for finite in (None, False):
                entry.fires(Line(line, first=True, finite=finite))
        else:
            entry.fires(line)


def _long_lines(entry: Entry) -> Iterator[str]:
    """Lines of 32,000 characters: the rule's own texts over and over, and runs that make a careless regex
    backtrack (spaces, letters, digits, capitalised words, quotation marks)."""
    own = " ".join(e.text if isinstance(e, Line) else e for e in (*entry.examples, *entry.counter_examples)) + " "
    for unit in (own, " ", "a", "A", "1", "Ab Cd, ", '"a" ', "Image: a) "):
        line = (unit * (32_000 // len(unit) + 1))[:32_000]
        assert len(line) == 32_000
        yield line


def _patterns(entry: Entry) -> Iterator[re.Pattern[str]]:
    """The rule's pattern, the module-level regexes its functions read and the regexes they write inline with
    ``re`` (one call deep)."""
    yield from entry.patterns
    seen: set[int] = set()
    todo = [f for f in entry.functions]
    for depth in range(2):
        for fn in list(todo):
            todo.remove(fn)
            code = getattr(fn, "__code__", None)
            if code is None or id(code) in seen:
                continue
            seen.add(id(code))
            if "re" in code.co_names:
                yield from (re.compile(c) for c in code.co_consts if isinstance(c, str))
            for name in code.co_names:
                value = fn.__globals__.get(name)
                if isinstance(value, re.Pattern):
                    yield value
                elif isinstance(value, types.FunctionType) and depth == 0:
                    todo.append(value)


def _nested_repeat(pattern: re.Pattern[str]) -> str | None:
    """The first unbounded repeat (``*``, ``+``, ``{n,}``) that may backtrack inside another unbounded repeat, or
    ``None``. Each way of splitting the text between the two is tried when what follows fails: exponential, or at
    best quadratic. A possessive repeat or an atomic group never gives back what it read: safe inside anything."""

    def walk(items: Any, inside: bool) -> str | None:
        for op, av in items:
            found: str | None = None
            if op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
                low, high, sub = av
                unbounded = high == sre.MAXREPEAT
                if unbounded and inside:
                    return f"a repeat {{{low},}} inside an unbounded repeat"
                found = walk(sub, inside or unbounded)
            elif op is sre.POSSESSIVE_REPEAT:
                found = walk(av[2], False)
            elif op is sre.ATOMIC_GROUP:
                found = walk(av, False)
            elif op is sre.SUBPATTERN:
                found = walk(av[-1], inside)
            elif op is sre.BRANCH:
                found = next((f for branch in av[1] if (f := walk(branch, inside))), None)
            elif op in (sre.ASSERT, sre.ASSERT_NOT):
                found = walk(av[1], inside)
            elif op is sre.GROUPREF_EXISTS:
                found = next((f for branch in av[1:] if branch is not None and (f := walk(branch, inside))), None)
            if found:
                return found
        return None

    return walk(sre_parse.parse(pattern.pattern, pattern.flags), False)


@pytest.mark.parametrize(
    ("pattern", "nested"),
    [
        (r"(?:a+b)*", True),
        (r"(\s*x)+", True),
        (r"(?:\w+\s?)*$", True),
        (r"(?:a{1,3}b)*", False),
        (r"(?:[A-Z]\w*\s+){0,3}", False),
        (r"(?:(?>\s*x\s*))+", False),
        (r"(?:\s*+x)+", False),
        (r"a+b+c*", False),
    ],
)
def test_the_shape_check_finds_nested_unbounded_repeats(pattern: str, nested: bool) -> None:
    assert (_nested_repeat(re.compile(pattern)) is not None) is nested


# ---- what the rules did before they were tables --------------------------------------------------------------


def test_the_surface_speech_forms_are_generated_from_the_one_verb_list() -> None:
    assert set(lexicon.SPEECH_VERBS) == lexicon.SPEECH_LEMMAS and list(lexicon.SPEECH_VERBS) == sorted(
        lexicon.SPEECH_VERBS
    )
    speech = re.compile(lexicon.SPEECH)
    for form in ("said", "says", "say", "told", "wrote", "sang", "quipped", "replied", "testified", "added"):
        assert speech.fullmatch(form), form
    # present forms that are as often plural nouns, and verbs the surface patterns leave to the parse
    for word in ("states", "reports", "claims", "charges", "sayings", "called", "reported", "condemned", "described"):
        assert not speech.fullmatch(word), word
    # the forms the surface patterns read before the two lists were one
    before = (
        "acknowledged added adds admitted announced argued asked asks boasted cautioned chanted charged claimed "
        "commented complained conceded concluded continued countered declared demanded emphasized explained insisted "
        "joked noted predicted quipped recalled remarked replied responded said sang say says shouted sings stated "
        "stressed tells testified told tweeted warned writes wrote yelled"
    )
    assert set(lexicon.SPEECH_FORMS) == set(before.split())


def test_a_speech_verb_the_parse_reads_names_a_described_speaker() -> None:
    """'comment' was in the surface list only: the parse now reads it too (one list for both)."""
    pytest.importorskip("spacy")
    from factkit._ner import PIPELINE, load_pipeline, speaker_finder

    nlp = load_pipeline(PIPELINE)
    if nlp is None:
        pytest.skip("the pinned spaCy pipeline is not installed")
    text = 'During a heated debate, a friend commented: "For you, immigration is the most important reason to vote."'
    found = quotes.attribute_quotes(text, [], str, speaker_finder(nlp(text)))
    assert [(q.text, q.speaker) for q in found] == [
        ("For you, immigration is the most important reason to vote.", "a friend")
    ]


def test_a_furniture_rejection_names_the_rule_that_fired() -> None:
    import factkit
    from factkit.testing import FakeModel

    text = (
        "Judge blocks deportations\n"
        "A federal judge said the administration cannot deport 92 Cambodian citizens.\n"
        "The protesters outside the courthouse in Santa Ana. Image: Jane Doe.\n"
        "Authorities arrested approximately 100 Cambodians in raids last October.\n"
    )
    wire = {
        "headline": "Judge blocks deportations 3 Min Read",
        "tldr": "A federal judge said the administration cannot deport 92 Cambodian citizens.",
        "facts": [
            {"s": [2], "kind": "event", "statement": "A federal judge said the administration cannot deport them."},
            {"s": [3], "kind": "event", "statement": "The protesters outside the courthouse in Santa Ana."},
        ],
    }
    settings = factkit.resolve_settings(
        backend="fake", model="fake", cache=False, env={"FACTKIT_FACTS": "llm", "FACTKIT_NER": "off"}
    )
    extractor = factkit.Extractor(
        backend=FakeModel([{"people": [], "organizations": [], "places": []}, wire]), settings=settings
    )
    result = extractor.extract(text, only={"facts", "summary"})
    reasons = [r.reason for r in result.rejected]
    assert any("cites a caption" in r and r.endswith("(rule: caption-credit)") for r in reasons), reasons
    assert any("carried page furniture" in r and r.endswith("(rule: byline)") for r in reasons), reasons
    assert result.summary.headline == "Judge blocks deportations"


@pytest.mark.parametrize("check", CHECKS, ids=[c.id for c in CHECKS])
def test_every_check_of_the_claim_checker_decides_its_examples_and_none_of_its_counter_examples(check: Check) -> None:
    from factkit._ner import PIPELINE, load_pipeline

    nlp = load_pipeline(PIPELINE)
    if check.needs_parse and nlp is None:
        pytest.skip("this check reads the parse; the pipeline is not installed")
    assert check.reason and check.examples and check.counter_examples
    for claim, article in check.examples:
        verdict = rules_verdict(claim, article, nlp=nlp)
        assert (verdict.rule, verdict.label) == (check.id, check.label), (claim, verdict)
    for claim, article in check.counter_examples:
        verdict = rules_verdict(claim, article, nlp=nlp)
        assert verdict.label == "supported", (claim, verdict)


def test_the_checks_are_the_rules_a_verdict_can_name() -> None:
    field = Verdict.model_fields["rule"].description or ""
    assert len({c.id for c in CHECKS}) == len(CHECKS)
    for check in CHECKS:
        assert check.id in field, check.id


@pytest.mark.parametrize("rule", date_rules.RULES, ids=[r.id for r in date_rules.RULES])
def test_every_date_rule_finds_a_date_in_its_examples_and_none_in_its_counter_examples(
    rule: date_rules.DateRule,
) -> None:
    import datetime as dt

    published = dt.date(2018, 1, 26)
    assert rule.reason and rule.examples and rule.counter_examples
    for text in rule.examples:
        assert list(rule.find(date_rules._Ctx(text, published, False))), (rule.id, text)
    for text in rule.counter_examples:
        assert not list(rule.find(date_rules._Ctx(text, published, False))), (rule.id, text)


def test_the_date_rules_are_every_rule_the_tagger_runs_each_once() -> None:
    assert [r.find for r in date_rules.RULES] == date_rules._RULES
    assert len({r.id for r in date_rules.RULES}) == len(date_rules.RULES)
