"""The one exception tree of factkit.

::

    FactkitError
    ├── UsageError            the caller used the API wrongly (bad argument, bad schema)
    ├── InputError            the article itself is unusable (empty, binary, not UTF-8, missing file)
    ├── ConfigError           settings are missing or wrong (no key, missing extra, bad model file)
    ├── ModelError            the model or its transport failed (carries ``provider`` and ``original``)
    │   ├── TransportError    network, timeout, rate limit, 5xx after every retry
    │   └── ModelCrashError   the embedded model's native code crashed (its child process died)
    ├── OutputError           the model answered, but never with valid output (carries ``last_output``, ``usage``)
    └── BudgetError           a cost budget would be exceeded

Every message says what went wrong, where, and how to fix it. No message ever contains an API key:
:func:`redact` is applied to every message built from foreign text.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._models import Usage

_SECRET_PATTERNS = [
    re.compile(r"sk-[A-Za-z0-9_\-]{8,}"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9_\-\.=]{8,}"),
    re.compile(r"(?i)(api[_-]?key['\"]?\s*[:=]\s*['\"]?)[A-Za-z0-9_\-\.]{8,}"),
]
_registered_secrets: set[str] = set()
#: A run of this many characters of a registered secret is a leak of it (a proxy that echoes "the key minus its
#: first characters", say); shorter secrets are matched whole.
FRAGMENT_CHARS = 12
_fragments: re.Pattern[str] | None = None


def register_secret(secret: str | None) -> None:
    """Remember a secret so that :func:`redact` removes it, and any long fragment of it, from any text."""
    global _fragments
    if secret and len(secret) >= 4 and secret not in _registered_secrets:
        _registered_secrets.add(secret)
        grams = {
            s[i : i + FRAGMENT_CHARS]
            for s in _registered_secrets
            if len(s) >= FRAGMENT_CHARS + 4
            for i in range(len(s) - FRAGMENT_CHARS + 1)
        }
        _fragments = re.compile("(?=(" + "|".join(re.escape(g) for g in sorted(grams)) + "))") if grams else None


def has_secrets() -> bool:
    return bool(_registered_secrets)


def _cut_fragments(text: str) -> str:
    if _fragments is None:
        return text
    spans: list[list[int]] = []
    for match in _fragments.finditer(text):
        start, end = match.start(), match.start() + len(match.group(1))
        if spans and start <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], end)
        else:
            spans.append([start, end])
    if not spans:
        return text
    out, last = [], 0
    for start, end in spans:
        out += [text[last:start], "[REDACTED]"]
        last = end
    return "".join([*out, text[last:]])


def redact(text: str) -> str:
    """Remove API keys (registered ones, any run of 12+ of their characters, common key shapes) from ``text``."""
    for secret in _registered_secrets:
        text = text.replace(secret, "[REDACTED]")
    text = _cut_fragments(text)
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "[REDACTED]", text)
    return text


class FactkitError(Exception):
    """Root of every error factkit raises on purpose."""

    #: Tokens spent before the failure, where a model was called.
    usage: Usage | None = None

    def __init__(self, message: str) -> None:
        super().__init__(redact(message))

    @property
    def message(self) -> str:
        return str(self)


class UsageError(FactkitError):
    """The caller used the API wrongly: a bad argument, schema or option."""


class InputError(FactkitError):
    """The article is unusable: empty, binary, not UTF-8, or a path that does not exist."""

    def __init__(self, message: str, *, source: str | None = None) -> None:
        self.source = source
        super().__init__(f"{source}: {message}" if source else message)


class ConfigError(FactkitError):
    """Settings are missing or wrong: no API key, a missing extra, a bad model file."""


class ModelError(FactkitError):
    """The model or its transport failed."""

    def __init__(self, message: str, *, provider: str = "", original: BaseException | None = None) -> None:
        self.provider = provider
        self.original = original
        super().__init__(message)


class TransportError(ModelError):
    """The endpoint could not be reached or kept failing (timeouts, 429, 5xx) after every retry."""


class ModelCrashError(ModelError):
    """The embedded model's process died in native code (a signal such as SIGSEGV, or an abort).

    The model runs in a child process, so the caller's process lives on; ``signal`` names how the child ended
    and ``trace`` holds the tail of its own fault trace. The next call starts a new child.
    """

    def __init__(self, message: str, *, provider: str = "local", signal: str = "", trace: str = "") -> None:
        self.signal = signal
        self.trace = redact(trace)
        super().__init__(message, provider=provider)


class ModelTimeoutError(ModelError):
    """The embedded model's process did not answer within its deadline (stopped or stuck); it was killed."""


class ModelInterrupted(ModelError):
    """The call was stopped because its run was interrupted (Ctrl-C during a batch): not the article's fault, so
    a batch writes no record for it and a re-run does it again."""


class OutputError(FactkitError):
    """The model answered, but its output never validated, even after re-asking."""

    def __init__(
        self, message: str, *, last_output: str | None = None, usage: Usage | None = None, attempts: int = 0
    ) -> None:
        self.last_output = redact(last_output) if last_output else last_output
        self.usage = usage
        self.attempts = attempts
        super().__init__(message)


class BudgetError(FactkitError):
    """Going on would exceed the cost budget the caller set."""


class StorageError(FactkitError):
    """A results file could not be written (a full disk, a quota, a vanished folder); what was written is kept."""


def describe(exc: BaseException) -> str:
    """A one-line, secret-free description of any exception, for error records and logs."""
    name = type(exc).__name__
    text: Any = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return redact(f"{name}: {text}" if text else name)
