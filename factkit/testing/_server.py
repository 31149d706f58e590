"""A scriptable, OpenAI-compatible HTTP server for offline tests.

The server speaks just enough of the OpenAI REST API for the real ``openai`` client (and ``instructor``
on top of it) to run against it over HTTP on ``127.0.0.1``::

    from factkit.testing._server import FakeOpenAIServer, Reply

    with FakeOpenAIServer([Reply.error(429, headers={"Retry-After": "0"}), Reply.json({"a": 1})]) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="test-key", max_retries=1)
        client.chat.completions.create(model="fake-model", messages=[...])
        assert len(server.requests) == 2

Each ``POST /v1/chat/completions`` takes the next scripted :class:`Reply` from the queue; when the queue is
empty the ``handler`` (if any) is asked for one, else the server answers a 500. ``GET /v1/models`` lists
``model_ids`` and consumes nothing. Only non-streaming chat completions are supported.

Things worth knowing about the ``openai`` 3.x client when scripting replies:

* it retries on its own (``DEFAULT_MAX_RETRIES = 2``) on connection errors, timeouts, 408, 409, 429 and
  5xx, unless the response carries ``x-should-retry: false``; pass ``max_retries=0`` to see every failure;
* it reads ``retry-after-ms`` first, then ``retry-after`` (seconds, floats allowed, or an HTTP date), but
  only honours values with ``0 < value <= 120``: ``Retry-After: 0`` falls back to its exponential backoff
  (about 0.4-0.5 s for the first retry). Use ``Retry-After: 0.01`` (or ``retry-after-ms``) for a fast retry.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal, cast

__all__ = ["FakeOpenAIServer", "RecordedRequest", "Reply", "ReplyHandler"]

ReplyKind = Literal["content", "error", "drop", "hang", "truncated"]
ReplyHandler = Callable[[dict[str, Any]], "Reply"]

#: Replaces the value of every credential header in :attr:`RecordedRequest.headers`.
SECRET_MARKER = "[present]"
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "api-key", "x-api-key"})
_STEP = 0.02  # seconds; granularity of interruptible sleeps


@dataclass(frozen=True)
class Reply:
    """One scripted response of the fake server. Build it with one of the class-method constructors."""

    kind: ReplyKind
    content: str | None = None
    status: int = 200
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str = "stop"
    tool_call: bool | None = None
    #: The first token's top log-probabilities (token -> logprob), sent as ``choices[0].logprobs``.
    logprobs: Mapping[str, float] | None = None

    @classmethod
    def yes_no(cls, p_yes: float | None, *, delay: float = 0.0) -> Reply:
        """A one-token answer to a yes/no question: "yes" or "no" (whichever is likelier), with the first token's
        log-probabilities of both when ``p_yes`` is a number, and none at all when it is ``None`` (an endpoint
        that gives no log-probabilities)."""
        import math

        word = "yes" if (p_yes if p_yes is not None else 1.0) >= 0.5 else "no"
        probs = None
        if p_yes is not None:
            p = min(max(p_yes, 1e-9), 1 - 1e-9)
            probs = {"yes": math.log(p), "no": math.log(1 - p)}
        return cls(kind="content", content=word, completion_tokens=1, delay=delay, logprobs=probs)

    @classmethod
    def json(
        cls,
        obj_or_text: Any,
        *,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        finish_reason: str = "stop",
        delay: float = 0.0,
        tool_call: bool | None = None,
    ) -> Reply:
        """An assistant answer with text ``obj_or_text``: a ``str`` as is, anything else ``json.dumps``-ed.

        If the request carried ``tools`` (or legacy ``functions``) the text is returned as the ``arguments``
        of a call to the requested function (``tool_choice``'s, else ``tools[0]``'s) and ``content`` is
        ``None``. ``tool_call=True``/``False`` forces or forbids that. Token counts default to an estimate.
        """
        text = obj_or_text if isinstance(obj_or_text, str) else json.dumps(obj_or_text)
        return cls.text(
            text,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            finish_reason=finish_reason,
            delay=delay,
            tool_call=tool_call,
        )

    @classmethod
    def text(
        cls,
        text: str,
        *,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        finish_reason: str = "stop",
        delay: float = 0.0,
        tool_call: bool | None = None,
    ) -> Reply:
        """An assistant answer with raw ``text`` as content; the same tool-call rule as :meth:`json`."""
        return cls(
            kind="content",
            content=text,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            finish_reason=finish_reason,
            delay=delay,
            tool_call=tool_call,
        )

    @classmethod
    def error(
        cls,
        status: int,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        delay: float = 0.0,
    ) -> Reply:
        """An HTTP error ``status``. ``body``: a dict/list (sent as JSON), a str/bytes (sent raw) or ``None``
        (an OpenAI-style ``{"error": {...}}`` body). ``headers`` are added, e.g. ``{"Retry-After": "0"}``.
        """
        return cls(kind="error", status=status, body=body, headers=dict(headers or {}), delay=delay)

    @classmethod
    def drop(cls) -> Reply:
        """Close the connection without sending any response (the client sees a connection error)."""
        return cls(kind="drop")

    @classmethod
    def hang(cls, seconds: float) -> Reply:
        """Send nothing for ``seconds`` (to trigger client timeouts), then answer 504.

        The wait ends early, without a response, when the server stops.
        """
        return cls(kind="hang", delay=seconds, status=504)

    @classmethod
    def truncated(cls, text: str) -> Reply:
        """A 200 whose body is cut off: the completion JSON for ``text`` is announced with its full
        ``Content-Length`` but only its first half is sent before the connection closes.
        """
        return cls(kind="truncated", content=text)


@dataclass(frozen=True)
class RecordedRequest:
    """One request the server received. ``headers`` has lower-cased names and credentials replaced by
    ``"[present]"``, so no API key is ever stored."""

    method: str
    path: str
    headers: dict[str, str]
    json: Any
    body: bytes = b""

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The request's ``messages`` (empty when absent)."""
        if isinstance(self.json, dict) and isinstance(self.json.get("messages"), list):
            return cast(list[dict[str, Any]], self.json["messages"])
        return []

    @property
    def response_format(self) -> dict[str, Any] | None:
        """The request's ``response_format``, if it sent one."""
        if isinstance(self.json, dict) and isinstance(self.json.get("response_format"), dict):
            return cast(dict[str, Any], self.json["response_format"])
        return None


def _estimate_tokens(text: str) -> int:
    return max(1, len(text) // 4)


def _prompt_text(request: Mapping[str, Any]) -> str:
    messages = request.get("messages")
    if not isinstance(messages, list):
        return ""
    parts: list[str] = []
    for message in messages:
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return "\n".join(parts)


def _requested_function(request: Mapping[str, Any]) -> tuple[str, str] | None:
    """``("tools" | "functions", name)`` of the function the reply should call, or ``None``."""
    tools = request.get("tools")
    if isinstance(tools, list) and tools:
        choice = request.get("tool_choice")
        if isinstance(choice, dict):
            name = (choice.get("function") or {}).get("name")
            if isinstance(name, str):
                return "tools", name
        first = tools[0] if isinstance(tools[0], dict) else {}
        name = (first.get("function") or {}).get("name") or first.get("name") or "function"
        return "tools", str(name)
    functions = request.get("functions")
    if isinstance(functions, list) and functions:
        call = request.get("function_call")
        if isinstance(call, dict) and isinstance(call.get("name"), str):
            return "functions", call["name"]
        first = functions[0] if isinstance(functions[0], dict) else {}
        return "functions", str(first.get("name") or "function")
    return None


def _error_body(message: str, kind: str = "fake_server_error") -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = False

    def __init__(self, fake: FakeOpenAIServer) -> None:
        self.fake = fake
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def close_all_connections(self) -> None:
        with self.connections_lock:
            connections = list(self.connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet: dropped connections and shutdowns are expected here."""


class _Handler(BaseHTTPRequestHandler):
    # headers and body go out in separate sends: without this, Nagle's algorithm adds ~40 ms to every reply
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"
    server_version = "FakeOpenAI/1.0"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        """Silence http.server's per-request logging."""

    @property
    def fake(self) -> FakeOpenAIServer:
        return cast(_HTTPServer, self.server).fake

    # -- plumbing -------------------------------------------------------------------------------------

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _record(self, body: bytes) -> RecordedRequest:
        headers = {k.lower(): (SECRET_MARKER if k.lower() in _SECRET_HEADERS else v) for k, v in self.headers.items()}
        parsed: Any = None
        if body:
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
        recorded = RecordedRequest(method=self.command, path=self.path, headers=headers, json=parsed, body=body)
        self.fake._record(recorded)
        return recorded

    def _send_json(self, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> None:
        if isinstance(payload, bytes):
            data = payload
        elif isinstance(payload, str):
            data = payload.encode()
        else:
            data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", f"req_{uuid.uuid4().hex[:24]}")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _route(self) -> str:
        path = self.path.split("?", 1)[0].rstrip("/")
        return path[3:] if path.startswith("/v1/") else path

    # -- endpoints ------------------------------------------------------------------------------------

    def do_GET(self) -> None:
        with self.fake._slot:
            self._get()

    def _get(self) -> None:
        self._record(self._read_body())
        route = self._route()
        created = int(time.time())
        models = [
            {"id": m, "object": "model", "created": created, "owned_by": "factkit-fake"} for m in self.fake.model_ids
        ]
        if route == "/models":
            self._send_json(200, {"object": "list", "data": models})
            return
        if route == "/props" and self.fake.single_slot:  # llama.cpp's server says how many requests it runs at once
            self._send_json(200, {"total_slots": 1})
            return
        for model in models:
            if route == f"/models/{model['id']}":
                self._send_json(200, model)
                return
        self._send_json(404, _error_body(f"unknown path {self.path}", "invalid_request_error"))

    def do_POST(self) -> None:
        with self.fake._slot:
            self._post()

    def _post(self) -> None:
        body = self._read_body()
        recorded = self._record(body)
        if self._route() != "/chat/completions":
            self._send_json(404, _error_body(f"unknown path {self.path}", "invalid_request_error"))
            return
        request = recorded.json
        if not isinstance(request, dict):
            self._send_json(400, _error_body("request body is not a JSON object", "invalid_request_error"))
            return
        if request.get("stream"):
            message = "the fake server does not support stream=true"
            self._send_json(400, _error_body(message, "invalid_request_error"))
            return
        rejected = self.fake._rejection(request)
        if rejected is not None:
            self._play(rejected, request)
            return
        self._play(self.fake._next_reply(request), request)

    # -- replies --------------------------------------------------------------------------------------

    def _play(self, reply: Reply, request: dict[str, Any]) -> None:
        if reply.kind == "drop":
            self.close_connection = True
            return
        if reply.delay > 0 and not self.fake._sleep(reply.delay):
            self.close_connection = True  # the server is stopping: give no answer
            return
        if reply.kind == "hang":
            message = f"fake gateway timeout after {reply.delay:g} s"
            self._send_json(504, _error_body(message, "timeout"))
            return
        if reply.kind == "error":
            payload = reply.body
            if payload is None:
                payload = _error_body(f"fake error {reply.status}")
            self._send_json(reply.status, payload, reply.headers)
            return
        completion = json.dumps(self._completion(reply, request)).encode()
        if reply.kind == "truncated":
            self.close_connection = True
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(completion)))
            self.end_headers()
            self.wfile.write(completion[: len(completion) // 2])
            self.wfile.flush()
            return
        self._send_json(200, completion, {"openai-processing-ms": "1"})

    def _completion(self, reply: Reply, request: dict[str, Any]) -> dict[str, Any]:
        text = reply.content or ""
        message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": None}
        target = _requested_function(request)
        if reply.tool_call if reply.tool_call is not None else target is not None:
            style, name = target or ("tools", "function")
            message["content"] = None
            if style == "functions":
                message["function_call"] = {"name": name, "arguments": text}
            else:
                call_id = f"call_{uuid.uuid4().hex[:24]}"
                function = {"name": name, "arguments": text}
                message["tool_calls"] = [{"id": call_id, "type": "function", "function": function}]
        prompt_tokens = (
            reply.prompt_tokens if reply.prompt_tokens is not None else _estimate_tokens(_prompt_text(request))
        )
        completion_tokens = reply.completion_tokens if reply.completion_tokens is not None else _estimate_tokens(text)
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": str(request.get("model") or self.fake.model_ids[0]),
            "choices": [
                {"index": 0, "message": message, "finish_reason": reply.finish_reason, "logprobs": _logprobs(reply)}
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
            "system_fingerprint": None,
        }


def _logprobs(reply: Reply) -> dict[str, Any] | None:
    if not reply.logprobs:
        return None
    word = max(reply.logprobs, key=lambda t: reply.logprobs[t] if reply.logprobs else 0.0)
    top = [{"token": t, "logprob": lp, "bytes": None} for t, lp in reply.logprobs.items()]
    first = {"token": word, "logprob": reply.logprobs[word], "bytes": None}
    return {"content": [{**first, "top_logprobs": top}], "refusal": None}


class FakeOpenAIServer:
    """A scriptable OpenAI-compatible server on ``127.0.0.1`` (an OS-chosen port).

    ``replies`` are answered in order, one per chat completion; :meth:`push` adds more at any time.
    When the queue is empty, ``handler`` (called with the parsed request JSON) decides; without one the
    server answers 500 ``{"error": {"message": "no scripted reply left"}}``. Requests whose
    ``response_format.type`` is in ``reject_response_format`` get a 500 without consuming a reply.
    ``single_slot=True`` serves one request at a time (a model listing included) and says so at ``GET /props``
    (``total_slots: 1``), like llama.cpp's servers run with one slot.
    Use it as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(
        self,
        replies: Iterable[Reply] | None = None,
        *,
        handler: ReplyHandler | None = None,
        model_ids: Iterable[str] = ("fake-model",),
        reject_response_format: Collection[str] = (),
        single_slot: bool = False,
    ) -> None:
        self.model_ids: tuple[str, ...] = tuple(model_ids) or ("fake-model",)
        #: With ``single_slot``, one request at a time, a model listing included, like llama-cpp-python's server:
        #: a request the client gave up on keeps the server busy until its reply is done.
        self.single_slot = single_slot
        self._slot: contextlib.AbstractContextManager[Any] = (
            threading.Lock() if single_slot else contextlib.nullcontext()
        )
        self._lock = threading.Lock()
        self._queue: deque[Reply] = deque(replies or ())
        self._handler = handler
        self._requests: list[RecordedRequest] = []
        self._rejected_formats: frozenset[str] = frozenset(reject_response_format)
        self._rejected_status = 500
        self._stopping = threading.Event()
        self._server: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------------

    def start(self) -> FakeOpenAIServer:
        """Bind to ``127.0.0.1`` on a free port and serve in a daemon thread. Returns ``self``."""
        if self._server is not None:
            return self
        if self._stopping.is_set():
            raise RuntimeError("a stopped FakeOpenAIServer cannot be restarted; make a new one")
        self._server = _HTTPServer(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"FakeOpenAIServer:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving promptly: hanging or delayed replies are abandoned and open connections closed."""
        self._stopping.set()
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.shutdown()
        server.close_all_connections()
        server.server_close()
        thread.join(timeout=1.0)

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The TCP port the server listens on (after :meth:`start`)."""
        if self._server is None:
            raise RuntimeError("FakeOpenAIServer is not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``, for ``openai.OpenAI(base_url=...)``."""
        return f"http://127.0.0.1:{self.port}/v1"

    # -- scripting ------------------------------------------------------------------------------------

    def push(self, *replies: Reply) -> None:
        """Append ``replies`` to the scripted queue."""
        with self._lock:
            self._queue.extend(replies)

    def set_handler(self, handler: ReplyHandler | None) -> None:
        """Set (or with ``None`` remove) the handler asked for a reply when the queue is empty."""
        with self._lock:
            self._handler = handler

    def reject_response_format(self, types: Collection[str], status: int = 500) -> None:
        """Answer ``status`` (without consuming a scripted reply) to every chat completion whose
        ``response_format.type`` is in ``types``, as llama.cpp's server does for ``json_schema``."""
        with self._lock:
            self._rejected_formats = frozenset(types)
            self._rejected_status = status

    @property
    def pending_replies(self) -> int:
        """How many scripted replies are still queued."""
        with self._lock:
            return len(self._queue)

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        """The chat completion requests among :attr:`requests`."""
        return [r for r in self.requests if r.method == "POST" and "/chat/completions" in r.path]

    # -- used by the request handler ------------------------------------------------------------------

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _rejection(self, request: Mapping[str, Any]) -> Reply | None:
        fmt = request.get("response_format")
        fmt_type = fmt.get("type") if isinstance(fmt, dict) else None
        with self._lock:
            if not isinstance(fmt_type, str) or fmt_type not in self._rejected_formats:
                return None
            status = self._rejected_status
        message = f"response_format type {fmt_type!r} is not supported by this server"
        return Reply.error(status, _error_body(message, "internal_server_error"))

    def _next_reply(self, request: dict[str, Any]) -> Reply:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
            handler = self._handler
        if handler is None:
            return Reply.error(500, body={"error": {"message": "no scripted reply left"}})
        try:
            return handler(request)
        except Exception as exc:
            message = f"fake server handler raised {type(exc).__name__}: {exc}"
            return Reply.error(500, body=_error_body(message))

    def _sleep(self, seconds: float) -> bool:
        """Sleep ``seconds`` in small steps; ``False`` if the server began stopping meanwhile."""
        deadline = time.monotonic() + seconds
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return not self._stopping.is_set()
            if self._stopping.wait(min(_STEP, remaining)):
                return False
