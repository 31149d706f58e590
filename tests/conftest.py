"""Shared fixtures: an isolated environment, zero retry waits, a scripted OpenAI-compatible server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from factkit import ConfigError, Extractor, resolve_settings
from factkit.testing import FakeOpenAIServer, Reply
from factkit.testing import _server as _fakeserver

# The fake server writes a response's headers and body in two sends; without TCP_NODELAY the body waits for
# the client's delayed ACK (~40 ms a request on Linux), which made the HTTP tests ten times slower.
# (Belongs in factkit/testing/_server.py's _Handler; set here until it is.)
_fakeserver._Handler.disable_nagle_algorithm = True

ROOT = Path(__file__).resolve().parent.parent

#: A slow test (``-m slow``) gets this many seconds unless it sets its own: a busy laptop took over 300 s on the
#: process and fault tests; the quick suite (``make test-quick``, ``-m "not slow"``) keeps pytest's 300.
SLOW_TIMEOUT = 900


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("local") is not None:  # the embedded model is slow wherever it runs
            item.add_marker(pytest.mark.slow)
        if item.get_closest_marker("slow") is not None and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(SLOW_TIMEOUT))


SEED = ROOT / "seeds" / "reuters-2018-01-26-cambodians-deportation.txt"


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No test sees the developer's keys or endpoints, and every test has its own cache folder."""
    import os

    for name in list(os.environ):
        if name.startswith(("FACTKIT_", "OPENAI_")):
            monkeypatch.delenv(name, raising=False)
    cache = tmp_path / "factkit-cache"
    monkeypatch.setenv("FACTKIT_CACHE_DIR", str(cache))
    # scripted models answer the LLM's entity task; the NER path has tests of its own (test_ner.py)
    monkeypatch.setenv("FACTKIT_NER", "off")
    # scripted servers answer the extraction calls; the model half of the claim checker has tests of its own
    # (test_verify_model.py), which set FACTKIT_VERIFY=model
    monkeypatch.setenv("FACTKIT_VERIFY", "rules")
    return cache


@pytest.fixture(autouse=True)
def forget_registered_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Secrets a test registers are redacted for that test only: a key such as "test" would otherwise redact
    every later test's tmp_path ("py[REDACTED]-of-root/...") and make assertions on messages depend on order."""
    from factkit import _errors

    monkeypatch.setattr(_errors, "_registered_secrets", set(_errors._registered_secrets))
    monkeypatch.setattr(_errors, "_fragments", _errors._fragments)


@pytest.fixture
def fake_server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture
def remote_extractor(fake_server: FakeOpenAIServer) -> Extractor:
    """An Extractor on the real openai client against the fake server, with zero retry waits and no cache."""
    settings = resolve_settings(
        base_url=fake_server.base_url,
        api_key="sk-test-SECRET-0123456789",
        model="fake-model",
        retry_wait_multiplier=0.0,
        timeout=5.0,
        cache=False,
    )
    return Extractor(settings=settings)


@pytest.fixture
def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


# ---- routing scripted replies by task ------------------------------------------------------------------

#: A key used by tests that check it never leaks; deliberately not shaped like an ``sk-`` key.
SECRET_KEY = "k3y-d0-not-leak-7f3a9c"


def task_of(request: dict[str, Any]) -> str:
    """Which call a chat request is: "entities", "facts", "summary" (prompts/extract.md) or "custom".

    Read from the first user message, which holds the task text; re-asks only append messages after it.
    """
    users = [m for m in request.get("messages", []) if m.get("role") == "user"]
    first = str(users[0].get("content") or "") if users else ""
    if "Task: list the named entities" in first:
        return "entities"
    if '"facts"' in first:
        return "facts"
    if '"points"' in first:
        return "summary"
    return "custom"


class TaskScript:
    """Replies per task for a :class:`FakeOpenAIServer` (as its handler) or a ``FakeModel`` (``.model_reply``).

    ``script.on("facts", reply1, reply2)``: the facts calls get reply1, then reply2 for every later one.
    A reply is a dict (sent as JSON), a str (sent raw), a :class:`Reply`, or a function of the request.
    """

    def __init__(self) -> None:
        self.replies: dict[str, list[Any]] = {}
        self.seen: list[str] = []

    def on(self, task: str, *replies: Any) -> TaskScript:
        self.replies[task] = list(replies)
        return self

    def _next(self, request: dict[str, Any]) -> Any:
        task = task_of(request)
        self.seen.append(task)
        queue = self.replies.get(task)
        if not queue:
            raise AssertionError(f"no scripted reply for a {task!r} call")
        reply = queue.pop(0) if len(queue) > 1 else queue[0]
        return reply(request) if callable(reply) and not isinstance(reply, Reply) else reply

    def server_reply(self, request: dict[str, Any]) -> Reply:
        reply = self._next(request)
        return reply if isinstance(reply, Reply) else Reply.json(reply)

    def model_reply(self, request: dict[str, Any]) -> Any:
        return self._next(request)


@pytest.fixture
def script(fake_server: FakeOpenAIServer) -> TaskScript:
    """A :class:`TaskScript` installed as ``fake_server``'s handler."""
    routes = TaskScript()
    fake_server.set_handler(routes.server_reply)
    return routes


@pytest.fixture
def make_extractor(fake_server: FakeOpenAIServer) -> Callable[..., Extractor]:
    """Extractors on the real openai client against ``fake_server``: zero waits, no cache, settings overridable."""

    def make(**overrides: Any) -> Extractor:
        prompt = overrides.pop("prompt", None)
        max_chars = overrides.pop("max_chars", None)
        values: dict[str, Any] = {
            "base_url": fake_server.base_url,
            "api_key": SECRET_KEY,
            "model": "fake-model",
            "retry_wait_multiplier": 0.0,
            "timeout": 5.0,
            "cache": False,
            **overrides,
        }
        return Extractor(settings=resolve_settings(**values), prompt=prompt, max_chars=max_chars)

    return make


@pytest.fixture
def no_local_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail fast instead of loading the embedded model when a test forgets to point at the fake server."""
    from factkit.backends import local

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise ConfigError("test tried to load the embedded local model; give it a base_url or a FakeModel")

    monkeypatch.setattr(local.LocalBackend, "shared", classmethod(refuse))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A crash of the embedded model's child process fails one test; show the child's own fault trace with it."""
    from factkit import ModelCrashError

    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    error = call.excinfo.value if call.excinfo is not None else None
    if isinstance(error, ModelCrashError) and error.trace:
        report.sections.append(("the model process's trace", error.trace))
