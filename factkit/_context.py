"""The validation context of the model call in progress.

Validators of wire records read it (grounding needs the document). It travels in a ContextVar rather than
through instructor's ``context=``, because instructor renders the messages as Jinja templates whenever a
context is given: an article containing ``{{ 7 * 7 }}`` would reach the model as ``49``.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

validation_context: ContextVar[dict[str, Any] | None] = ContextVar("factkit_validation_context", default=None)

#: The article's deadline (``time.monotonic()`` seconds) and the setting that made it (``FACTKIT_ARTICLE_TIMEOUT``):
#: every model call of the article, retries and waits included, ends by then. ``None``: no deadline.
article_deadline: ContextVar[tuple[float, float] | None] = ContextVar("factkit_article_deadline", default=None)


def seconds_left() -> float | None:
    """Seconds to the article's deadline (0 once it has passed), or ``None`` without one."""
    current = article_deadline.get()
    if current is None:
        return None
    import time

    return max(0.0, current[0] - time.monotonic())


def current_context(info: Any) -> dict[str, Any] | None:
    """The validation context for a pydantic validator: pydantic's own (cache replays), else the call's."""
    ctx = getattr(info, "context", None)
    return ctx if isinstance(ctx, dict) else validation_context.get()
