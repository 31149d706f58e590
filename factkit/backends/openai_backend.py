"""OpenAI and any OpenAI-compatible endpoint (Ollama, vLLM, llama.cpp's server, LM Studio)."""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
import time
from typing import Any
from urllib.parse import SplitResult, urlsplit

import openai

from .._config import Settings
from .._context import seconds_left
from .._errors import ConfigError, register_secret
from ._transport import bounded_client
from .base import ChatBackend, Mode, RetryPolicy, request_sent


def _trace_request(request: Any) -> None:
    request.extensions["trace"] = _on_trace


def _on_trace(event: str, info: Any) -> None:
    # The request is written and the client starts waiting for the answer: the moment other work may run.
    if event.endswith("receive_response_headers.started"):
        request_sent()


#: The structured-output modes an endpoint accepts, found once per process and shared by every backend (and so
#: every call) that talks to the same endpoint and model: a fallback one call learned is every call's.
_MODES: dict[tuple[str, str], tuple[list[Mode], threading.Lock]] = {}
_MODES_LOCK = threading.Lock()


class OpenAIBackend(ChatBackend):
    name = "openai"
    signals_sent = True

    def __init__(self, settings: Settings) -> None:
        key = settings.api_key.get_secret_value() if settings.api_key else None
        register_secret(key)  # Settings may be built by hand, not by resolve_settings: redact the key anyway
        if not key and not settings.base_url:
            raise ConfigError(
                "no API key for OpenAI: set OPENAI_API_KEY (or FACTKIT_API_KEY), or point FACTKIT_BASE_URL "
                "at an OpenAI-compatible server, or install factkit[local] to run the embedded model"
            )
        client = openai.OpenAI(
            api_key=key or "not-needed",  # local servers ignore it, the client insists on one
            base_url=settings.base_url,
            timeout=settings.timeout,
            max_retries=0,  # transport retries are ours (tenacity), so they are counted and bounded once
            # Tells the extractor when a request is built and leaving, so its own work waits until then.
            # Every request has a deadline (the timeout, however slowly the server sends) and a size cap.
            http_client=bounded_client(
                deadline_s=settings.timeout,
                max_bytes=settings.max_response_bytes,
                event_hooks={"request": [_trace_request]},
            ),
        )
        # OpenAI itself: native structured outputs, then tools. Compatible servers differ: try the JSON
        # schema first, then plain JSON mode with the schema in the prompt, then JSON in a markdown block.
        modes = (
            [Mode.JSON_SCHEMA, Mode.TOOLS, Mode.JSON]
            if not settings.base_url
            else [Mode.JSON_SCHEMA, Mode.JSON, Mode.MD_JSON]
        )
        sampling: dict[str, object] = {"temperature": settings.temperature}
        if settings.max_tokens:
            sampling["max_tokens"] = settings.max_tokens
        super().__init__(
            client.chat.completions.create,
            model=settings.model,
            modes=modes,
            retry=RetryPolicy(
                retries=settings.transport_retries,
                wait_max=settings.retry_wait_max,
                multiplier=settings.retry_wait_multiplier,
            ),
            endpoint=str(settings.base_url or "api.openai.com"),
            sampling=sampling,
        )
        with _MODES_LOCK:
            self.modes, self._mode_lock = _MODES.setdefault((self.endpoint, self.model), (self.modes, self._mode_lock))
        self.timeout = settings.timeout
        self._client = client
        self._local = bool(settings.base_url) and is_local(str(settings.base_url))

    @property
    def slots(self) -> int | None:
        """How many requests the server runs at once, where a server on this machine or the local network says
        so (llama.cpp's ``/props``; llama-cpp-python's server runs one); None: unknown, as for any remote API.
        A server that gave no answer at all (not up yet, busy) is asked again next time."""
        if not self._local:
            return None
        key = str(self._client.base_url)
        with _SLOTS_LOCK:  # its own lock: a slow local server never holds up other backends
            if key not in _SLOTS:
                budget = min(SLOTS_S, self.timeout / 4)
                left = seconds_left()
                answered, slots = _server_slots(key, budget if left is None else min(budget, left / 4))
                if not answered:
                    return None
                _SLOTS[key] = slots
            return _SLOTS[key]

    def prepare(self) -> None:
        self.slots  # noqa: B018 (asked while the server is idle, and kept)

    @property
    def parallel_calls(self) -> bool:  # type: ignore[override]
        """An article's calls go at once, except to a server that runs one request at a time (they would queue
        there, each waiting on the other's clock)."""
        return self.slots != 1

    @property
    def max_concurrency(self) -> int | None:
        """A batch sends no more articles at once than the server has slots (a lower bound only: a server that
        reports many slots does not raise the batch's own default)."""
        slots = self.slots
        return slots if slots is not None and slots <= MAX_SLOTS_BOUND else None

    def server_busy(self) -> bool:
        """Only for a local server that runs one request at a time (:attr:`slots` is 1): whether it sends not one
        byte of an answer to a request for its models within a few seconds, i.e. still works on the request the
        client gave up on. Any other server is never called busy: its timeouts are retried as usual."""
        if self.slots != 1:
            return False
        seconds = min(PROBE_S, self.timeout / 2)
        left = seconds_left()
        if left is not None:
            if left <= 0:
                return False
            seconds = min(seconds, left)
        return _silent(str(self._client.base_url), seconds)


#: How long a status request may take before the server counts as busy.
PROBE_S = 5.0
#: The most time asking a local server for its slots may take (both requests; a quarter of the request timeout at
#: most, and of what is left of the article's deadline).
SLOTS_S = 2.0
#: Reported slots above this do not bound a batch (the batch's own default stays).
MAX_SLOTS_BOUND = 16
#: Slots per local endpoint that answered, asked once per process.
_SLOTS: dict[str, int | None] = {}
_SLOTS_LOCK = threading.Lock()


def _host(parts: SplitResult) -> str:
    """``host[:port]`` for a Host header: never the user name or password a URL may carry."""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{parts.port}" if parts.port else host


def _server_slots(base_url: str, seconds: float) -> tuple[bool, int | None]:
    """(whether the server answered at all, the slots it reports): llama.cpp's ``GET /props`` (``total_slots``,
    beside the API's path: ``/v1`` off), or 1 for llama-cpp-python's server (its model listing says ``owned_by:
    me``); None when it says neither."""
    parts = urlsplit(base_url)
    path = parts.path.rstrip("/")
    root = path[: -len("/v1")] if path.endswith("/v1") else path
    deadline = time.monotonic() + seconds
    listing = _get_json(base_url.rstrip("/") + "/models", seconds / 2)
    data = listing.get("data") if isinstance(listing, dict) else None
    if isinstance(data, list) and any(isinstance(m, dict) and m.get("owned_by") == "me" for m in data):
        return True, 1
    props = _get_json(f"{parts.scheme}://{parts.netloc}{root}/props", max(0.0, deadline - time.monotonic()))
    total = props.get("total_slots") if isinstance(props, dict) else None
    if isinstance(total, int) and not isinstance(total, bool) and total > 0:
        return True, total
    return listing is not None or props is not None, None


def _get_json(url: str, seconds: float = 2.0) -> Any:
    """A small JSON answer from a local plain-HTTP server, or None: no whole answer within ``seconds`` all told
    (a server that drips its bytes too), an error status, not JSON (or JSON nested too deep), over 64 KB. An
    answer that is no JSON object or list counts as an answer (``{}``)."""
    import json

    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname or seconds <= 0:
        return None
    deadline = time.monotonic() + seconds
    data = b""
    try:
        with socket.create_connection((parts.hostname, parts.port or 80), timeout=seconds) as conn:
            request = f"GET {parts.path or '/'} HTTP/1.0\r\nHost: {_host(parts)}\r\nAccept: application/json\r\n\r\n"
            conn.sendall(request.encode())
            while len(data) <= 65536:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                conn.settimeout(left)
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
    except OSError:
        return None
    head, _, body = data.partition(b"\r\n\r\n")
    if not re.match(rb"HTTP/1\.[01] \d{3}", head):
        return None
    if len(data) > 65536 or not re.match(rb"HTTP/1\.[01] 200 ", head):
        return {}  # it answered, with nothing to read
    try:
        answer = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, or nested deep enough to exhaust the stack
        return {}
    return answer if isinstance(answer, dict | list) else {}


def _silent(base_url: str, seconds: float) -> bool:
    """Whether a plain-HTTP server takes the connection but gives no first byte of an answer to ``GET
    <base>/models`` within ``seconds``. A server that can't be reached at all is not silent (not busy: down)."""
    parts = urlsplit(base_url)
    if parts.scheme != "http" or not parts.hostname:
        return False
    path = parts.path.rstrip("/") + "/models"
    try:
        conn = socket.create_connection((parts.hostname, parts.port or 80), timeout=seconds)
    except OSError:  # refused, unreachable, or no connection within the time: nothing says it is busy
        return False
    with conn:
        try:
            conn.sendall(f"GET {path} HTTP/1.1\r\nHost: {_host(parts)}\r\nConnection: close\r\n\r\n".encode())
            conn.recv(1)
        except TimeoutError:
            return True
        except OSError:
            return False
    return False


def is_local(url: str) -> bool:
    """An endpoint on this machine or a private network ("localhost", 127.0.0.1, 10.x, 192.168.x, ::1)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".local"):
        return True
    try:
        return ipaddress.ip_address(host).is_private  # a name other than localhost is not looked up
    except ValueError:
        return False
