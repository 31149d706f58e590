"""The one exception tree of factkit.

::

    FactkitError
    ├── UsageError            the caller used the API wrongly (bad argument, bad schema)
    ├── InputError            the article itself is unusable (empty, binary, not UTF-8, missing file)
    ├── ConfigError           settings are missing or wrong (no key, missing extra, bad model file)
    ├── ModelError            the model or its transport failed (carries ``provider`` and ``original``)
    │   └── TransportError    network, timeout, rate limit, 5xx after every retry
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


def register_secret(secret: str | None) -> None:
    """Remember a secret so that :func:`redact` removes it from any text, whatever its shape."""
    if secret and len(secret) >= 4:
        _registered_secrets.add(secret)


def redact(text: str) -> str:
    """Remove API keys (registered ones and common key shapes) from ``text``."""
    for secret in _registered_secrets:
        text = text.replace(secret, "[REDACTED]")
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


def describe(exc: BaseException) -> str:
    """A one-line, secret-free description of any exception, for error records and logs."""
    name = type(exc).__name__
    text: Any = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return redact(f"{name}: {text}" if text else name)
