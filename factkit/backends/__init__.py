"""Backends behind the one model seam (:class:`~factkit.backends.base.ChatBackend`)."""

from __future__ import annotations

import logging

from .._config import Settings
from .._errors import UsageError
from .base import ChatBackend, Completion, RetryPolicy

__all__ = ["ChatBackend", "Completion", "RetryPolicy", "backend_class", "make_backend"]
log = logging.getLogger("factkit")


def backend_class(settings: Settings) -> type[ChatBackend]:
    """The class :func:`make_backend` builds for these settings, without building it (no model load): what the
    pipeline asks of a backend (its capabilities) is on the class."""
    if settings.backend == "openai":
        from .openai_backend import OpenAIBackend

        return OpenAIBackend
    if settings.backend == "local":
        from .local import LocalBackend

        return LocalBackend
    return ChatBackend


def make_backend(settings: Settings) -> ChatBackend:
    """The backend the settings name: an OpenAI(-compatible) endpoint or the embedded local model."""
    if settings.backend == "openai":
        from .openai_backend import OpenAIBackend

        return OpenAIBackend(settings)
    if settings.backend == "local":
        from .local import LocalBackend

        return LocalBackend.shared(settings)
    raise UsageError("the fake backend is built with factkit.testing.FakeModel, not from settings")
