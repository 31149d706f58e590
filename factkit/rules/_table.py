"""A rule as data: its id, why it exists, how it decides, and the texts it must and must not fire on.

``tests/test_rules.py`` runs every rule of every table on its examples and counter-examples, checks the shape of
its regex (no unbounded repeat that may backtrack inside another unbounded repeat) and runs it on a
32,000-character line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar, cast

S = TypeVar("S")

_ID = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")


@dataclass(frozen=True)
class Rule(Generic[S]):
    """One rule. It fires on a text (``S`` is ``str`` for all but the layout rules, which read a
    :class:`~factkit.rules.furniture.Line`) when ``test`` says so, or, without a ``test``, when ``pattern`` is found
    in the text (in its first ``window`` characters when ``window`` > 0, its last ``-window`` when < 0).

    ``id`` (short, kebab-case) is what a rejection reason names; ``what`` says what a text the rule fires on is,
    for messages ('a caption'). A rule with a ``test`` keeps its ``pattern`` too where it has one, so that the
    pattern's shape is checked."""

    id: str
    reason: str
    pattern: re.Pattern[str] | None = None
    test: Callable[[S], bool] | None = None
    examples: tuple[S, ...] = ()
    counter_examples: tuple[S, ...] = ()
    window: int = 0
    what: str = ""

    def __post_init__(self) -> None:
        if not _ID.fullmatch(self.id):
            raise ValueError(f"rule id {self.id!r} is not short kebab-case")
        if self.pattern is None and self.test is None:
            raise ValueError(f"rule {self.id!r} has neither a pattern nor a test")

    def search(self, text: str) -> re.Match[str] | None:
        """The rule's pattern in ``text`` (in its window), or ``None``."""
        if self.pattern is None:
            raise TypeError(f"rule {self.id!r} has no pattern")
        if self.window > 0:
            text = text[: self.window]
        elif self.window < 0:
            text = text[self.window :]
        return self.pattern.search(text)

    def fires(self, subject: S) -> bool:
        """Whether the rule fires on ``subject``."""
        if self.test is not None:
            return self.test(subject)
        return self.search(cast(str, subject)) is not None

    @property
    def tag(self) -> str:
        """How a reason names the rule: ``(rule: caption-credit)``."""
        return f"(rule: {self.id})"


def first(rules: Iterable[Rule[S]], subject: S) -> Rule[S] | None:
    """The first of ``rules`` that fires on ``subject``, or ``None``."""
    return next((rule for rule in rules if rule.fires(subject)), None)


def tags(rules: Iterable[Rule[S]]) -> str:
    """How a reason names the rules that fired: ``(rule: time-stamp, byline)``."""
    return f"(rule: {', '.join(rule.id for rule in rules)})"


def alternation(words: Iterable[str]) -> str:
    """A non-capturing regex alternation of ``words``, longest first (so that 'said' is tried before 'say')."""
    return "(?:" + "|".join(re.escape(w) for w in sorted(set(words), key=lambda w: (-len(w), w))) + ")"
