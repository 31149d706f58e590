"""The model seam through the real openai client over HTTP: both retry loops, modes, errors and usage."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import openai
import pytest
from conftest import SECRET_KEY
from pydantic import BaseModel, Field, field_validator

import factkit
from factkit import resolve_settings
from factkit._context import current_context
from factkit.backends.base import ChatBackend, Mode, RetryPolicy, is_transient
from factkit.backends.openai_backend import OpenAIBackend
from factkit.testing import FakeModel, FakeOpenAIServer, Reply

MESSAGES = [{"role": "system", "content": "You answer in JSON."}, {"role": "user", "content": "Name a city."}]
GOOD = {"city": "Lyon", "population": 522000}


class City(BaseModel):
    city: str
    population: int = Field(ge=0)

    @field_validator("city")
    @classmethod
    def _capitalised(cls, value: str) -> str:
        if not value[:1].isupper():
            raise ValueError("city must start with a capital letter")
        return value


class Waits:
    """Records transport backoff waits instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def backend(fake_server: FakeOpenAIServer) -> Iterator[OpenAIBackend]:
    settings = resolve_settings(
        base_url=fake_server.base_url,
        api_key=SECRET_KEY,
        model="fake-model",
        retry_wait_multiplier=0.0,
        timeout=5.0,
        cache=False,
    )
    yield OpenAIBackend(settings)


def texts(server: FakeOpenAIServer) -> list[str]:
    return [json.dumps(r.messages) for r in server.chat_requests]


# ---- valid output ---------------------------------------------------------------------------------------


def test_valid_reply_with_usage(fake_server: FakeOpenAIServer, backend: OpenAIBackend) -> None:
    fake_server.push(Reply.json(GOOD, prompt_tokens=30, completion_tokens=12))
    done = backend.complete(MESSAGES, City, purpose="test")
    assert done.value.model_dump() == GOOD
    assert (done.usage.purpose, done.usage.prompt_tokens, done.usage.completion_tokens) == ("test", 30, 12)
    assert done.usage.attempts == 1 and done.usage.latency_s >= 0 and not done.usage.cached
    assert json.loads(done.raw) == GOOD
    (request,) = fake_server.chat_requests
    assert request.json["model"] == "fake-model" and request.json["temperature"] == 0.0
    assert request.response_format is not None and request.response_format["type"] == "json_schema"
    assert request.messages[:2] == MESSAGES


# ---- the validation loop: re-ask on bad output ---------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        Reply.text("this is not JSON at all"),  # invalid JSON
        Reply.text('{"city": "Lyon", "popul'),  # truncated JSON
        Reply.json({"city": "Lyon"}),  # a missing field
        Reply.json({"city": "lyon", "population": 1}),  # a failing validator
        Reply.json({"city": "Lyon", "population": -5}),  # a failing constraint
    ],
)
def test_bad_output_is_reasked_then_accepted(fake_server: FakeOpenAIServer, backend: OpenAIBackend, bad: Reply) -> None:
    fake_server.push(bad, Reply.json(GOOD, prompt_tokens=50, completion_tokens=10))
    done = backend.complete(MESSAGES, City, max_reasks=1)
    assert done.value.city == "Lyon"
    assert done.usage.attempts == 2
    first, second = fake_server.chat_requests
    assert len(second.messages) == len(first.messages) + 2
    assert second.messages[-2]["role"] == "assistant" and second.messages[-2]["content"] == bad.content
    assert second.messages[-1]["role"] == "user"  # the validation error, for the model to fix
    assert done.usage.completion_tokens == 10 + max(1, len(bad.content or "") // 4)


def test_bad_output_every_time_is_an_output_error_with_the_last_output_and_usage(
    fake_server: FakeOpenAIServer, backend: OpenAIBackend
) -> None:
    fake_server.push(
        Reply.json({"city": "Lyon"}, prompt_tokens=10, completion_tokens=3),
        Reply.json({"city": "Paris"}, prompt_tokens=20, completion_tokens=4),
        Reply.json({"city": "Nice"}, prompt_tokens=30, completion_tokens=5),
    )
    with pytest.raises(factkit.OutputError) as err:
        backend.complete(MESSAGES, City, max_reasks=2, purpose="facts")
    exc = err.value
    assert "did not validate after 3 attempt(s)" in str(exc)
    assert "population: Field required" in str(exc)
    assert "\n" not in str(exc) and len(str(exc)) < 700
    assert exc.attempts == 3
    assert exc.last_output is not None and json.loads(exc.last_output) == {"city": "Nice"}
    assert exc.usage is not None
    (call,) = exc.usage.calls
    assert (call.purpose, call.prompt_tokens, call.completion_tokens, call.attempts) == ("facts", 60, 12, 3)
    assert len(fake_server.chat_requests) == 3


def test_no_reasks_means_one_attempt(fake_server: FakeOpenAIServer, backend: OpenAIBackend) -> None:
    fake_server.push(Reply.text("nope"), Reply.json(GOOD))
    with pytest.raises(factkit.OutputError):
        backend.complete(MESSAGES, City, max_reasks=0)
    assert len(fake_server.chat_requests) == 1


def test_reask_context_stays_bounded(fake_server: FakeOpenAIServer, backend: OpenAIBackend) -> None:
    """Each re-ask carries the original messages plus only the latest bad output and its error."""
    fake_server.push(*(Reply.text(f"bad output {i}") for i in range(4)), Reply.json(GOOD))
    done = backend.complete(MESSAGES, City, max_reasks=4)
    assert done.usage.attempts == 5
    requests = fake_server.chat_requests
    assert [len(r.messages) for r in requests] == [2, 4, 4, 4, 4]
    for i, request in enumerate(requests[1:]):
        assert request.messages[:2] == MESSAGES
        assert request.messages[2]["content"] == f"bad output {i}"
        assert "bad output" not in json.dumps(request.messages[3:]).replace(f"bad output {i}", "")
    sizes = [len(r.body) for r in requests[1:]]
    assert max(sizes) - min(sizes) < 50


def test_final_attempt_flag_is_set_for_validators(fake_server: FakeOpenAIServer, backend: OpenAIBackend) -> None:
    seen: list[bool] = []

    class Strict(BaseModel):
        city: str

        @field_validator("city")
        @classmethod
        def _record(cls, value: str, info: Any) -> str:
            seen.append(bool(current_context(info)["final_attempt"]))
            if not current_context(info)["final_attempt"]:
                raise ValueError("try again")
            return value

    fake_server.push(Reply.json({"city": "A"}), Reply.json({"city": "B"}))
    done = backend.complete(MESSAGES, Strict, context={}, max_reasks=1)
    assert done.value.city == "B" and seen == [False, True]


def test_cut_off_output_is_an_output_error(fake_server: FakeOpenAIServer, backend: OpenAIBackend) -> None:
    fake_server.push(Reply.text('{"city": "Ly', finish_reason="length"))
    with pytest.raises(factkit.OutputError, match="cut off") as err:
        backend.complete(MESSAGES, City)
    assert err.value.usage is not None and err.value.usage.calls[0].completion_tokens > 0
    assert len(fake_server.chat_requests) == 1


# ---- the transport loop: tenacity, never the prompt ------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [
        Reply.error(429, headers={"Retry-After": "0"}),
        Reply.error(500),
        Reply.error(502),
        Reply.error(503),
        Reply.error(408),
        Reply.drop(),
        Reply.truncated(json.dumps({"choices": []})),
    ],
    ids=["429", "500", "502", "503", "408", "dropped", "truncated-body"],
)
def test_transport_faults_are_retried_without_touching_the_prompt(
    fake_server: FakeOpenAIServer, backend: OpenAIBackend, fault: Reply
) -> None:
    fake_server.push(fault, fault, Reply.json(GOOD))
    done = backend.complete(MESSAGES, City, max_reasks=0)
    assert done.value.city == "Lyon"
    assert done.usage.attempts == 3
    first, second, third = texts(fake_server)
    assert first == second == third  # the retry resends the same request: no error text in it


def test_transport_error_after_a_reask_is_not_pasted_into_the_prompt(
    fake_server: FakeOpenAIServer, backend: OpenAIBackend
) -> None:
    fake_server.push(
        Reply.text("not json"),
        Reply.error(500, body={"error": {"message": "upstream exploded: KABOOM-500"}}),
        Reply.json(GOOD),
    )
    done = backend.complete(MESSAGES, City, max_reasks=1)
    assert done.value.city == "Lyon"
    _, failed, retried = texts(fake_server)
    assert failed == retried
    assert all("KABOOM" not in t and "500" not in t for t in texts(fake_server))


def test_transport_faults_every_time_are_a_transport_error_with_usage(
    fake_server: FakeOpenAIServer, backend: OpenAIBackend
) -> None:
    fake_server.push(*[Reply.error(503)] * 5, Reply.json(GOOD))
    with pytest.raises(factkit.TransportError) as err:
        backend.complete(MESSAGES, City)
    exc = err.value
    assert "kept failing after 5 tries" in str(exc) and "503" in str(exc)
    assert exc.provider == "openai" and isinstance(exc.original, openai.APIStatusError)
    assert exc.__cause__ is None and exc.__suppress_context__
    assert exc.usage is not None and exc.usage.calls[0].attempts == 5
    assert len(fake_server.chat_requests) == 5  # 1 + transport_retries (4), and no validation re-ask
    assert fake_server.pending_replies == 1


def test_slow_reply_times_out_and_is_retried(fake_server: FakeOpenAIServer) -> None:
    settings = resolve_settings(
        base_url=fake_server.base_url, model="m", retry_wait_multiplier=0.0, timeout=0.25, cache=False
    )
    fake_server.push(Reply.json(GOOD, delay=2.0), Reply.json(GOOD))
    started = time.perf_counter()
    done = OpenAIBackend(settings).complete(MESSAGES, City)
    assert done.usage.attempts == 2
    assert time.perf_counter() - started < 1.5


def test_slow_replies_every_time_are_a_timeout_error_that_says_what_to_raise(fake_server: FakeOpenAIServer) -> None:
    settings = resolve_settings(
        base_url=fake_server.base_url,
        model="m",
        retry_wait_multiplier=0.0,
        timeout=0.2,
        transport_retries=1,
        cache=False,
    )
    fake_server.push(Reply.hang(3), Reply.hang(3))
    with pytest.raises(factkit.TransportError) as err:
        OpenAIBackend(settings).complete(MESSAGES, City)
    assert "did not answer in time" in str(err.value) and "FACTKIT_TIMEOUT" in str(err.value)
    assert "2 tries" in str(err.value)


def test_a_timeout_against_a_one_slot_server_still_busy_is_not_retried_and_says_the_timeout_it_needs() -> None:
    # llama-cpp-python's server runs one request at a time and keeps generating after the client gives up: a retry
    # would queue behind the abandoned request (the seed once failed after 642 s of such retries)
    with FakeOpenAIServer(single_slot=True) as server:
        settings = resolve_settings(
            base_url=server.base_url,
            model="m",
            retry_wait_multiplier=0.0,
            timeout=0.4,
            transport_retries=4,
            cache=False,
        )
        server.push(Reply.json(GOOD, delay=0.9))
        started = time.perf_counter()
        with pytest.raises(factkit.TransportError) as err:
            OpenAIBackend(settings).complete(MESSAGES, City)
        took = time.perf_counter() - started
    message = str(err.value)
    assert len(server.chat_requests) == 1  # no retry queued behind the busy slot
    assert "one request at a time" in message and "FACTKIT_TIMEOUT=0.4" in message
    need = int(re.search(r"needs FACTKIT_TIMEOUT=(\d+)", message).group(1))  # type: ignore[union-attr]
    assert 1 <= need <= 3  # the reply took 0.9 s: 1.25 times that, rounded up, or a little more on a slow machine
    assert took < 5


def test_a_timeout_against_a_server_that_answers_other_requests_is_retried_as_before(
    fake_server: FakeOpenAIServer,
) -> None:
    settings = resolve_settings(
        base_url=fake_server.base_url,
        model="m",
        retry_wait_multiplier=0.0,
        timeout=0.3,
        transport_retries=2,
        cache=False,
    )
    fake_server.push(Reply.hang(2), Reply.json(GOOD))
    assert OpenAIBackend(settings).complete(MESSAGES, City).value.city == "Lyon"
    assert len(fake_server.chat_requests) == 2
    # its slots were asked once (it reports none), and no busy probe followed the timeout
    assert [r.path for r in fake_server.requests if r.method == "GET"] == ["/v1/models", "/props"]


def test_a_one_slot_server_gets_one_request_at_a_time(fake_server: FakeOpenAIServer) -> None:
    from factkit.batch import BatchRunner

    with FakeOpenAIServer(single_slot=True) as server:
        settings = resolve_settings(base_url=server.base_url, model="m", cache=False)
        extractor = factkit.Extractor(settings=settings)
        assert extractor.backend.parallel_calls is False  # an article's calls in turn, not queued on each other
        assert BatchRunner(extractor).concurrency == 1  # and a batch sends one article at a time
    # a server that says nothing of its slots keeps the defaults
    extractor = factkit.Extractor(settings=resolve_settings(base_url=fake_server.base_url, model="m", cache=False))
    assert extractor.backend.parallel_calls is True and BatchRunner(extractor).concurrency > 1


def test_only_endpoints_on_this_machine_or_network_are_asked_whether_they_are_busy() -> None:
    from factkit.backends.openai_backend import is_local

    for url in ("http://127.0.0.1:8080/v1", "http://localhost:11434/v1", "http://192.168.1.5/v1", "http://[::1]:80/v1"):
        assert is_local(url), url
    for url in ("https://api.openai.com/v1", "https://example.org/v1", "http://8.8.8.8/v1"):
        assert not is_local(url), url


@pytest.mark.parametrize(
    ("status", "error", "needle"),
    [
        (401, factkit.ConfigError, "FACTKIT_API_KEY"),
        (403, factkit.ConfigError, "FACTKIT_API_KEY"),
        (404, factkit.ConfigError, "FACTKIT_MODEL"),
        (413, factkit.ModelError, "413"),
    ],
)
def test_permanent_http_errors_are_not_retried(
    fake_server: FakeOpenAIServer, backend: OpenAIBackend, status: int, error: type[Exception], needle: str
) -> None:
    fake_server.push(Reply.error(status), Reply.json(GOOD))
    with pytest.raises(error, match=needle) as caught:
        backend.complete(MESSAGES, City)
    assert not isinstance(caught.value, factkit.TransportError)
    assert len(fake_server.chat_requests) == 1
    assert backend.modes[0] == Mode.JSON_SCHEMA  # an unrelated error is no reason to give up the schema


def test_retry_after_is_honoured_and_backoff_is_capped_with_jitter(fake_server: FakeOpenAIServer) -> None:
    settings = resolve_settings(base_url=fake_server.base_url, model="m", cache=False, retry_wait_max=8.0)
    backend = OpenAIBackend(settings)
    waits = Waits()
    backend.retry.sleep = waits
    fake_server.push(
        Reply.error(429, headers={"Retry-After": "3"}),
        Reply.error(429, headers={"retry-after-ms": "250"}),
        Reply.error(429, headers={"Retry-After": "600"}),  # capped at retry_wait_max
        Reply.error(500),
        Reply.json(GOOD),
    )
    done = backend.complete(MESSAGES, City)
    assert done.usage.attempts == 5
    assert waits.waits[:3] == [3.0, 0.25, 8.0]
    assert 0.5 * 8.0 <= waits.waits[3] <= 8.0  # 4th attempt: min(8, 2**3) with jitter in [0.5, 1]


def test_backoff_grows_exponentially_up_to_the_cap() -> None:
    policy = RetryPolicy(retries=6, wait_max=10.0, multiplier=1.0, initial=1.0)
    error = openai.APIConnectionError(request=SimpleNamespace())  # type: ignore[arg-type]
    outcome = SimpleNamespace(exception=lambda: error)
    for attempt, cap in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 10.0), (6, 10.0)]:
        waits = [policy.wait(SimpleNamespace(outcome=outcome, attempt_number=attempt)) for _ in range(20)]  # type: ignore[arg-type]
        assert all(cap * 0.5 <= w <= cap for w in waits), (attempt, waits)
        assert len(set(waits)) > 1  # jitter
    zero = RetryPolicy(multiplier=0.0)
    assert zero.wait(SimpleNamespace(outcome=outcome, attempt_number=3)) == 0.0  # type: ignore[arg-type]


def test_retry_after_as_an_http_date() -> None:
    from email.utils import formatdate

    from factkit.backends.base import _retry_after

    response = SimpleNamespace(headers={"retry-after": formatdate(time.time() + 5, usegmt=True)})
    wait = _retry_after(SimpleNamespace(response=response))  # type: ignore[arg-type]
    assert wait is not None and 3.0 <= wait <= 5.0
    assert _retry_after(SimpleNamespace(response=SimpleNamespace(headers={"retry-after": "soon"}))) is None  # type: ignore[arg-type]
    assert _retry_after(ValueError("no response")) is None


def test_what_counts_as_transient() -> None:
    assert is_transient(TimeoutError()) and is_transient(ConnectionResetError())
    assert not is_transient(ValueError("bad"))


# ---- modes: pick per backend, fall back when the server refuses one ------------------------------------


def test_llama_cpp_500_on_json_schema_falls_back_to_json_mode_at_once(
    fake_server: FakeOpenAIServer, backend: OpenAIBackend
) -> None:
    fake_server.reject_response_format(["json_schema"])  # llama.cpp's Python server answers 500
    fake_server.push(Reply.json(GOOD), Reply.json(GOOD))
    done = backend.complete(MESSAGES, City)
    assert done.value.city == "Lyon"
    formats = [(r.response_format or {}).get("type") for r in fake_server.chat_requests]
    assert formats == ["json_schema", "json_object"]  # no transport retries of a refusal
    assert backend.modes == [Mode.JSON, Mode.MD_JSON]
    # JSON mode puts the schema in the prompt instead
    assert '"population"' in fake_server.chat_requests[-1].messages[0]["content"]
    backend.complete(MESSAGES, City)  # the fallback sticks for later calls
    assert [(r.response_format or {}).get("type") for r in fake_server.chat_requests][-1] == "json_object"


def test_falls_back_to_markdown_json_when_every_response_format_is_refused(
    fake_server: FakeOpenAIServer, backend: OpenAIBackend
) -> None:
    fake_server.reject_response_format(["json_schema", "json_object"], status=400)
    fake_server.push(Reply.text("Here you go:\n```json\n" + json.dumps(GOOD) + "\n```"))
    done = backend.complete(MESSAGES, City)
    assert done.value.city == "Lyon"
    formats = [(r.response_format or {}).get("type") for r in fake_server.chat_requests]
    assert formats == ["json_schema", "json_object", None]
    assert backend.modes == [Mode.MD_JSON]
    assert done.usage.attempts == 3


def test_the_last_mode_refused_is_a_model_error(fake_server: FakeOpenAIServer, backend: OpenAIBackend) -> None:
    backend.modes = [Mode.JSON]
    fake_server.reject_response_format(["json_object"])
    with pytest.raises(factkit.ModelError):
        backend.complete(MESSAGES, City)


def test_tools_mode_reads_the_tool_call(fake_server: FakeOpenAIServer, backend: OpenAIBackend) -> None:
    backend.modes = [Mode.TOOLS]
    fake_server.push(Reply.json({"city": "lyon", "population": 1}), Reply.json(GOOD))
    done = backend.complete(MESSAGES, City, max_reasks=1)
    assert done.value.city == "Lyon"
    first, second = fake_server.chat_requests
    assert first.json["tools"][0]["function"]["name"] == "City"
    assert json.loads(done.raw) == GOOD  # the raw output is the tool call's arguments
    assert [m["role"] for m in second.messages[2:]][:1] == ["assistant"]


def test_openai_json_schema_refusal_falls_back_to_tools(fake_server: FakeOpenAIServer) -> None:
    settings = resolve_settings(base_url=fake_server.base_url, model="m", retry_wait_multiplier=0.0, cache=False)
    backend = OpenAIBackend(settings)
    backend.modes = [Mode.JSON_SCHEMA, Mode.TOOLS, Mode.JSON]  # the modes for api.openai.com
    fake_server.reject_response_format(["json_schema"], status=400)
    fake_server.push(Reply.json(GOOD))
    assert backend.complete(MESSAGES, City).value.city == "Lyon"
    assert "tools" in fake_server.chat_requests[-1].json
    assert backend.mode == Mode.TOOLS


# ---- FakeModel: the scripted model users can use in their own tests -----------------------------------


def test_fake_model_takes_every_kind_of_scripted_reply() -> None:
    model = FakeModel(
        [
            GOOD,
            json.dumps(GOOD),
            City(city="Nice", population=3),
            lambda request: {"city": "Metz", "population": len(request["messages"])},
        ]
    )
    values = [model.complete(MESSAGES, City).value.city for _ in range(4)]
    assert values == ["Lyon", "Lyon", "Nice", "Metz"]
    assert len(model.requests) == 4
    assert model.requests[0]["messages"][:2] == MESSAGES


def test_fake_model_plays_server_replies_and_exception_classes() -> None:
    model = FakeModel([Reply.json(GOOD), TimeoutError, lambda request: ConnectionResetError("reset")])
    assert model.complete(MESSAGES, City).value.city == "Lyon"
    with pytest.raises(factkit.TransportError):
        model.complete(MESSAGES, City)
    with pytest.raises(factkit.TransportError):
        model.complete(MESSAGES, City)
    with pytest.raises(factkit.UsageError, match="only content replies"):
        FakeModel([Reply.error(500)]).complete(MESSAGES, City)


def test_fake_model_reasks_like_a_real_one_and_counts_usage() -> None:
    model = FakeModel(["{broken", GOOD])
    done = model.complete(MESSAGES, City, max_reasks=1)
    assert done.usage.attempts == 2 and done.usage.prompt_tokens > 0 and done.usage.completion_tokens > 0
    assert model.requests[1]["messages"][-2]["content"] == "{broken"


def test_fake_model_handler_push_and_exhaustion() -> None:
    model = FakeModel(handler=lambda request: GOOD)
    assert model.complete(MESSAGES, City).value.city == "Lyon"
    model.push({"city": "Pau", "population": 1})
    assert model.complete(MESSAGES, City).value.city == "Pau"
    empty = FakeModel()
    with pytest.raises(factkit.UsageError, match="no scripted reply left") as err:
        empty.complete(MESSAGES, City)
    assert err.value.usage is not None


def test_fake_model_scripted_exceptions_go_through_the_transport_loop() -> None:
    model = FakeModel([TimeoutError("slow")])
    with pytest.raises(factkit.TransportError):
        model.complete(MESSAGES, City)
    model = FakeModel([factkit.ConfigError("scripted config problem")])
    with pytest.raises(factkit.ConfigError, match="scripted"):
        model.complete(MESSAGES, City)


def test_a_custom_backend_is_one_function() -> None:
    calls: list[dict[str, Any]] = []
    inner = FakeModel([GOOD])

    def create(**kwargs: Any) -> Any:
        calls.append(kwargs)
        return inner._create(**kwargs)

    backend = ChatBackend(create, model="mine", modes=[Mode.JSON], endpoint="custom")
    assert backend.complete(MESSAGES, City).value.city == "Lyon"
    assert calls[0]["response_format"] == {"type": "json_object"}
    assert backend.cache_identity()["endpoint"] == "custom"


def test_asking_a_local_server_survives_hostile_answers_and_never_sends_a_password() -> None:
    import socket
    import threading

    from factkit.backends.openai_backend import _get_json, _host, _silent

    seen: list[bytes] = []
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        for _ in range(2):
            conn, _ = listener.accept()
            with conn:
                seen.append(conn.recv(65536))
                body = b"[" * 60000  # JSON nested deep enough to exhaust the parser's stack
                conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n" + body)

    threading.Thread(target=serve, daemon=True).start()
    try:
        assert _get_json(f"http://user:pa55word@127.0.0.1:{port}/v1/models", 2.0) == {}  # an answer, no crash
        assert _get_json(f"http://127.0.0.1:{port}/props", 2.0) == {}
    finally:
        listener.close()
    assert seen and all(b"pa55word" not in r and b"user" not in r for r in seen)
    assert _host(__import__("urllib.parse").parse.urlsplit("http://u:p@[::1]:8080/v1")) == "[::1]:8080"
    # a port nobody listens on is down, not busy: its timeouts are retried as usual
    assert _silent(f"http://127.0.0.1:{port}/v1", 0.5) is False


def test_workers_against_a_one_slot_server_are_refused_for_what_they_are() -> None:
    from factkit.batch import BatchRunner

    with FakeOpenAIServer(single_slot=True) as server:
        extractor = factkit.Extractor(settings=resolve_settings(base_url=server.base_url, model="m", cache=False))
        with pytest.raises(factkit.UsageError) as err:
            BatchRunner(extractor, workers=2)
    assert "one at a time" in str(err.value) and "copy of the model" not in str(err.value)
