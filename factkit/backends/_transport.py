"""Every HTTP request ends within its deadline and reads at most so many bytes, whatever the server does.

httpx's timeouts are per operation: a server that sends one byte a second (of the headers or of the body) never
trips a read timeout, and a completion padded to 100 MB is read whole. So factkit's client reads through a
network backend that checks, on every read and write of the connection, the deadline and the byte budget of
the request being served on this thread (set by a request hook as each request starts; the sync client
connects, writes and reads a request's response on the thread that sent it). Past the deadline the read raises
a read timeout (a transport fault: retried, then a ``TransportError``); past the budget it raises
:class:`ResponseTooLarge` (not retried: one error for the call).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any

import httpcore2
import httpx2

_current = threading.local()


class ResponseTooLarge(Exception):
    """The server sent more than the response size cap."""


def _remaining(timeout: float | None) -> float | None:
    deadline = getattr(_current, "deadline", None)
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise httpcore2.ReadTimeout("the request's deadline passed (FACTKIT_TIMEOUT)")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore2.NetworkStream):
    def __init__(self, inner: httpcore2.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data = self._inner.read(max_bytes, _remaining(timeout))
        budget = getattr(_current, "budget", None)
        if budget is not None:
            _current.budget = budget - len(data)
            if _current.budget < 0:
                raise ResponseTooLarge(
                    f"the response is larger than {_current.cap:,} bytes (FACTKIT_MAX_RESPONSE_BYTES)"
                )
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _remaining(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None) -> Any:
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, _remaining(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore2.NetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore2.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.NetworkStream:
        return _Stream(self._inner.connect_tcp(host, port, _remaining(timeout), local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore2.NetworkStream:
        return _Stream(self._inner.connect_unix_socket(path, _remaining(timeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def bounded_client(*, deadline_s: float, max_bytes: int, **kwargs: Any) -> httpx2.Client:
    """The openai client's default HTTP client (its connection limits, its proxies from the environment), with
    every connection read through the bounded network backend and every request given its deadline and byte
    budget as it starts (an event hook). Responses come uncompressed, so the cap counts what is kept in memory.
    """
    import openai

    def start(request: httpx2.Request) -> None:
        from .._context import seconds_left
        from ._child import exit_if_parent_gone

        exit_if_parent_gone()  # a worker whose parent was killed (kill -9) sends nothing more

        left = seconds_left()  # the article's deadline, when it comes first
        _current.deadline = time.monotonic() + (deadline_s if left is None else min(deadline_s, left))
        _current.budget = _current.cap = max_bytes

    hooks = kwargs.pop("event_hooks", {})
    hooks = {**hooks, "request": [start, *hooks.get("request", [])]}
    headers = {"Accept-Encoding": "identity", **kwargs.pop("headers", {})}
    client: httpx2.Client = openai.DefaultHttpxClient(event_hooks=hooks, headers=headers, **kwargs)
    for transport in [client._transport, *client._mounts.values()]:
        pool = getattr(transport, "_pool", None)
        if pool is not None and hasattr(pool, "_network_backend"):
            pool._network_backend = _Backend()
    return client


def too_large(exc: BaseException) -> ResponseTooLarge | None:
    """The :class:`ResponseTooLarge` behind ``exc`` (the openai client wraps it), if any."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, ResponseTooLarge):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return None
