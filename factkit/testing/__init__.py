"""Test doubles for code that uses factkit — no network, no API key.

* :class:`FakeModel`: a scripted backend, in-process. Give it replies (dicts, JSON strings, Pydantic
  objects, ``Reply.json(...)``, exceptions, or a function of the request returning any of those) and pass it
  as ``Extractor(backend=FakeModel(...))``.
  It goes through the same instructor parsing, validation, re-asking and grounding as a real model.
* :class:`CrashingModel`: a runner for the embedded model's child process
  (``LocalBackend(settings, runner="factkit.testing:CrashingModel")``) that answers like
  :func:`grounded_answer` and kills its own process with a real SIGSEGV when the request holds a marker, so
  the isolation of native crashes can be tested without a broken CPU.
* :class:`FakeOpenAIServer`: a scriptable OpenAI-compatible HTTP server on 127.0.0.1, for testing the real
  ``openai`` client path: scripted replies, 429 with Retry-After, 500s, dropped connections, hangs,
  truncated bodies. Point ``base_url`` at ``server.base_url``.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from openai.types.chat import ChatCompletion, ChatCompletionMessage
from openai.types.chat.chat_completion import Choice
from openai.types.completion_usage import CompletionUsage
from pydantic import BaseModel

from .._errors import UsageError
from ..backends.base import ChatBackend, Mode, RetryPolicy
from ._batch import FakeBatchServer
from ._server import FakeOpenAIServer, RecordedRequest, Reply

__all__ = [
    "CrashingModel",
    "FakeBatchServer",
    "FakeModel",
    "FakeOpenAIServer",
    "RecordedRequest",
    "Reply",
    "grounded_answer",
    "request_article",
]

ScriptedReply = dict[str, Any] | list[Any] | str | BaseModel | Reply | BaseException | Callable[[dict[str, Any]], Any]


class FakeModel(ChatBackend):
    """A scripted model. Each call takes the next reply; ``handler`` answers once the script runs out."""

    name = "fake"
    #: Scripted replies answer extraction calls: no yes/no questions of the claim checker are put to it.
    judges = False

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


# ---- a model that answers correctly --------------------------------------------------------------------

_SENTENCE = re.compile(r"^\[(\d+)\] (.*)$", re.M)
_NAME = re.compile(r"\b[A-Z][a-z]{2,}(?: [A-Z][a-z]{2,})*")
_WEEKDAYS = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}


def request_article(request: dict[str, Any]) -> tuple[list[tuple[int, str]], str]:
    """The numbered sentences of the request's article block, and the task text after it."""
    user = ""
    for message in request.get("messages") or []:
        content = message.get("content") or ""
        if message.get("role") == "user" and "<article>" in content:
            user = content
            break
    a, b = user.find("<article>"), user.rfind("</article>")
    if a == -1 or b == -1:
        return [], user
    return [(int(n), t) for n, t in _SENTENCE.findall(user[a + len("<article>") : b])], user[b:]


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0]


def grounded_answer(request: dict[str, Any]) -> dict[str, Any]:
    """What a well-behaved model answers to factkit's entities or facts request: names and sentences that
    are really in the numbered article of the request, so every item grounds. Works as a :class:`FakeModel`
    handler (its ``kwargs``) and inside a :class:`FakeOpenAIServer` handler (the request JSON)."""
    sentences, task = request_article(request)
    if "named entities" in task:
        names: list[str] = []
        for _, text in sentences:
            for m in _NAME.finditer(text):
                if m.group() not in names and m.group() not in _WEEKDAYS:
                    names.append(m.group())
        return {
            "people": [n for n in names if " " in n][:12],
            "organizations": [n for n in names if " " not in n][:12],
            "places": [],
            "other": [],
        }
    picks = [s for s in sentences if len(s[1]) >= 20][:4] or sentences[:1]
    first = sentences[0][1] if sentences else "nothing"
    return {
        "headline": _cut(first, 60),
        "tldr": _cut(first, 200),
        "facts": [{"s": [n], "kind": "event", "statement": _cut(text, 90)} for n, text in picks],
    }


class CrashingModel:
    """A runner for :class:`factkit.backends._child.ModelProcess` that crashes for real.

    Config keys: ``crash_on`` (a text; a request whose messages hold it crashes the child with SIGSEGV),
    ``crash_unless_safe`` (crash on every request, and at load, unless ``kernels`` is ``safe``: a machine whose
    fast kernels are broken), ``slow_on`` and ``slow_s`` (a request whose messages hold that text takes that many
    seconds: a long article). Other requests get :func:`grounded_answer`'s reply.
    """

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.notes: list[str] = []
        self.info = {"kernels": config.get("kernels")}
        self.calls = 0
        if config.get("crash_at_load_unless_safe") and config.get("kernels") != "safe":
            self._crash()

    @staticmethod
    def _crash() -> None:
        import os
        import signal

        os.kill(os.getpid(), signal.SIGSEGV)

    def handle(self, op: str, args: dict[str, Any]) -> Any:
        if op == "reset":
            return None
        if op == "echo":  # for tests of the pipe: the value back, after ``sleep`` seconds
            time.sleep(float(args.get("sleep", 0)))
            return args.get("value")
        if op == "unserialisable":
            return {1, 2}
        if op != "chat":
            raise ValueError(f"unknown operation {op!r}")
        self.calls += 1
        text = json.dumps(args.get("messages"))
        marker = self.config.get("crash_on")
        if (marker and marker in text) or (
            self.config.get("crash_unless_safe") and self.config.get("kernels") != "safe"
        ):
            self._crash()
        if self.config.get("slow_on") and self.config["slow_on"] in text:
            time.sleep(float(self.config.get("slow_s", 60)))
        content = json.dumps(grounded_answer(args))
        return {
            "id": f"crashing-{self.calls}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": "crashing-model",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
            "usage": {
                "prompt_tokens": len(text) // 4,
                "completion_tokens": len(content) // 4,
                "total_tokens": len(text) // 4 + len(content) // 4,
            },
        }


# ---- python -m factkit.testing serve ----------------------------------------------------------------------


def _serve_reply(request: dict[str, Any]) -> Reply:
    """What the trial server answers: the claim checker's yes/no questions "yes"; everything else
    :func:`grounded_answer`'s well-behaved reply."""
    if request.get("max_tokens") == 1 and request.get("logprobs"):
        return Reply.yes_no(0.9)
    return Reply.json(grounded_answer(request))


def main(argv: list[str] | None = None) -> int:
    """``python -m factkit.testing serve [--batch]``: a fake OpenAI-compatible server (or Batch API) on 127.0.0.1
    for trying the command line without a model or a key. It prints ``FACTKIT_BASE_URL=...`` on its first line
    and serves until Ctrl-C."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m factkit.testing", description=main.__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve well-behaved fake answers until Ctrl-C")
    serve.add_argument("--batch", action="store_true", help="the Batch API too (files, batches), for factkit batch")
    serve.add_argument("--polls", type=int, default=1, help="status polls before a batch completes (--batch)")
    args = parser.parse_args(argv)
    server: FakeOpenAIServer | FakeBatchServer
    if args.batch:
        server = FakeBatchServer(handler=_serve_reply, polls=args.polls)
    else:
        server = FakeOpenAIServer(handler=_serve_reply)
    server.start()
    print(f"FACTKIT_BASE_URL={server.base_url}", flush=True)
    print(
        "factkit: a fake server for trials; also set FACTKIT_API_KEY=test and FACTKIT_MODEL=fake-model. "
        "Ctrl-C stops it.",
        file=sys.stderr,
        flush=True,
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0
