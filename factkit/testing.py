"""Test doubles for code that uses factkit — no network, no API key.

* :class:`FakeModel`: a scripted backend, in-process. Give it replies (dicts, JSON strings, Pydantic
  objects, ``Reply.json(...)``, exceptions, or a function of the request returning any of those) and pass it
  as ``Extractor(backend=FakeModel(...))``.
  It goes through the same instructor parsing, validation, re-asking and grounding as a real model.
* :class:`FakeOpenAIServer`: a scriptable OpenAI-compatible HTTP server on 127.0.0.1, for testing the real
  ``openai`` client path: scripted replies, 429 with Retry-After, 500s, dropped connections, hangs,
  truncated bodies. Point ``base_url`` at ``server.base_url``.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from openai.types.chat import ChatCompletion, ChatCompletionMessage
from openai.types.chat.chat_completion import Choice
from openai.types.completion_usage import CompletionUsage
from pydantic import BaseModel

from ._errors import UsageError
from ._fakeserver import FakeOpenAIServer, RecordedRequest, Reply
from .backends.base import ChatBackend, Mode, RetryPolicy

__all__ = ["FakeModel", "FakeOpenAIServer", "RecordedRequest", "Reply"]

ScriptedReply = dict[str, Any] | list[Any] | str | BaseModel | Reply | BaseException | Callable[[dict[str, Any]], Any]


class FakeModel(ChatBackend):
    """A scripted model. Each call takes the next reply; ``handler`` answers once the script runs out."""

    name = "fake"

    def __init__(
        self,
        replies: Iterable[ScriptedReply] = (),
        *,
        handler: Callable[[dict[str, Any]], Any] | None = None,
        model: str = "fake-model",
    ) -> None:
        super().__init__(
            self._create, model=model, modes=[Mode.JSON_SCHEMA], retry=RetryPolicy(retries=0), endpoint="fake"
        )
        self._replies: deque[ScriptedReply] = deque(replies)
        self._lock = threading.Lock()
        self.handler = handler
        self.requests: list[dict[str, Any]] = []

    def push(self, *replies: ScriptedReply) -> None:
        with self._lock:
            self._replies.extend(replies)

    def _create(self, **kwargs: Any) -> ChatCompletion:
        with self._lock:
            self.requests.append(kwargs)
            reply: Any = self._replies.popleft() if self._replies else self.handler
        if reply is None:
            raise UsageError("FakeModel has no scripted reply left; push() more or give it a handler")
        if isinstance(reply, type) and issubclass(reply, BaseException):
            raise reply()  # an exception class scripted instead of an instance
        if isinstance(reply, BaseException):
            raise reply
        if callable(reply) and not isinstance(reply, BaseModel | Reply):
            reply = reply(kwargs)
        if isinstance(reply, BaseException):
            raise reply  # a handler may answer with an exception too
        if isinstance(reply, Reply):
            if reply.kind != "content":
                raise UsageError(f"FakeModel plays only content replies, not {reply.kind!r}; use FakeOpenAIServer")
            reply = reply.content or ""
        if isinstance(reply, BaseModel):
            text = reply.model_dump_json()
        elif isinstance(reply, dict | list):
            text = json.dumps(reply)
        else:
            text = str(reply)
        prompt = sum(len(str(m.get("content", ""))) for m in kwargs.get("messages", [])) // 4
        return ChatCompletion(
            id=f"fake-{len(self.requests)}",
            object="chat.completion",
            created=int(time.time()),
            model=self.model,
            choices=[
                Choice(
                    index=0,
                    finish_reason="stop",
                    message=ChatCompletionMessage(role="assistant", content=text),
                )
            ],
            usage=CompletionUsage(
                prompt_tokens=prompt,
                completion_tokens=max(1, len(text) // 4),
                total_tokens=prompt + max(1, len(text) // 4),
            ),
        )
