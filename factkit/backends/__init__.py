"""Backends behind the one model seam (:class:`~factkit.backends.base.ChatBackend`)."""

from __future__ import annotations

import logging

from .._config import Settings
from .._errors import UsageError
from .base import ChatBackend, Completion, RetryPolicy

__all__ = ["ChatBackend", "Completion", "RetryPolicy", "make_backend"]
log = logging.getLogger("factkit")


def make_backend(settings: Settings) -> ChatBackend:
    """The backend the settings name: an OpenAI(-compatible) endpoint or the embedded local model."""
    if settings.backend == "openai":
        from .openai_backend import OpenAIBackend

        return OpenAIBackend(settings)
    if settings.backend == "local":
        from .local import LocalBackend

        return LocalBackend.shared(settings)
    raise UsageError("the fake backend is built with factkit.testing.FakeModel, not from settings")
