"""The fake OpenAI server, exercised through the real ``openai`` client over HTTP."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import openai
import pytest

from factkit.testing._server import FakeOpenAIServer, Reply

MESSAGES: list[Any] = [{"role": "user", "content": "Summarise: the cat sat on the mat."}]
TOOLS: list[Any] = [
    {
        "type": "function",
        "function": {
            "name": "Summary",
            "description": "A summary",
            "parameters": {"type": "object", "properties": {"text": {"type": "string"}}},
        },
    }
]


def make_client(server: FakeOpenAIServer, *, max_retries: int = 0, timeout: float = 5.0) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key="test-key", max_retries=max_retries, timeout=timeout)


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as srv:
        yield srv


def chat(client: openai.OpenAI, **kwargs: Any) -> Any:
    kwargs.setdefault("model", "fake-model")
    kwargs.setdefault("messages", MESSAGES)
    return client.chat.completions.create(**kwargs)


def test_json_reply_is_content_with_usage(server: FakeOpenAIServer) -> None:
    server.push(Reply.json({"text": "A cat sat."}, prompt_tokens=11, completion_tokens=7))
    with make_client(server) as client:
        completion = chat(client, model="some-model")
    assert completion.object == "chat.completion"
    assert completion.model == "some-model"
    choice = completion.choices[0]
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    assert choice.message.tool_calls is None
    assert json.loads(choice.message.content or "") == {"text": "A cat sat."}
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (11, 7)
    assert completion.usage.total_tokens == 18


def test_text_reply_estimates_tokens(server: FakeOpenAIServer) -> None:
    server.push(Reply.text("x" * 40, finish_reason="length"))
    with make_client(server) as client:
        completion = chat(client)
    assert completion.choices[0].message.content == "x" * 40
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage is not None
    assert completion.usage.completion_tokens == 10
    assert completion.usage.prompt_tokens > 0


def test_reply_becomes_tool_call_when_tools_are_sent(server: FakeOpenAIServer) -> None:
    other = {"type": "function", "function": {"name": "Other", "parameters": {"type": "object"}}}
    server.push(Reply.json({"text": "A cat sat."}), Reply.json({"text": "forced"}))
    with make_client(server) as client:
        first = chat(client, tools=TOOLS)
        second = chat(client, tools=[*TOOLS, other], tool_choice={"type": "function", "function": {"name": "Other"}})
    message = first.choices[0].message
    assert message.content is None
    assert message.tool_calls is not None and len(message.tool_calls) == 1
    call = message.tool_calls[0]
    assert call.type == "function"
    assert call.function.name == "Summary"
    assert json.loads(call.function.arguments) == {"text": "A cat sat."}
    forced = second.choices[0].message.tool_calls
    assert forced is not None and forced[0].function.name == "Other"


def test_tool_call_false_keeps_content(server: FakeOpenAIServer) -> None:
    server.push(Reply.text("plain words", tool_call=False))
    with make_client(server) as client:
        message = chat(client, tools=TOOLS).choices[0].message
    assert message.content == "plain words"
    assert message.tool_calls is None


def test_instructor_tools_mode_parses_a_scripted_reply(server: FakeOpenAIServer) -> None:
    instructor = pytest.importorskip("instructor")
    from pydantic import BaseModel

    class Summary(BaseModel):
        text: str

    server.push(Reply.json({"text": "A cat sat."}))
    with make_client(server) as client:
        patched = instructor.from_openai(client, mode=instructor.Mode.TOOLS)
        result = patched.chat.completions.create(
            model="fake-model", messages=MESSAGES, response_model=Summary, max_retries=0
        )
    assert isinstance(result, Summary)
    assert result.text == "A cat sat."
    assert server.requests[0].json["tools"][0]["function"]["name"] == "Summary"


def test_rate_limit_raises_without_retries(server: FakeOpenAIServer) -> None:
    server.push(Reply.error(429, headers={"Retry-After": "0"}))
    with make_client(server) as client, pytest.raises(openai.RateLimitError) as info:
        chat(client)
    assert info.value.status_code == 429
    assert info.value.response.headers["retry-after"] == "0"
    assert len(server.requests) == 1


def test_rate_limit_is_retried_by_the_client(server: FakeOpenAIServer) -> None:
    server.push(Reply.error(429, headers={"Retry-After": "0"}), Reply.json({"ok": True}))
    with make_client(server, max_retries=1) as client:
        completion = chat(client)
    assert json.loads(completion.choices[0].message.content or "") == {"ok": True}
    assert len(server.requests) == 2
    assert server.pending_replies == 0


def test_server_error_and_custom_body(server: FakeOpenAIServer) -> None:
    server.push(Reply.error(500), Reply.error(503, body={"error": {"message": "overloaded"}}))
    with make_client(server) as client:
        with pytest.raises(openai.InternalServerError) as first:
            chat(client)
        with pytest.raises(openai.InternalServerError) as second:
            chat(client)
    assert first.value.status_code == 500
    assert second.value.status_code == 503
    assert "overloaded" in str(second.value)


def test_empty_queue_without_handler_answers_500(server: FakeOpenAIServer) -> None:
    with make_client(server) as client, pytest.raises(openai.InternalServerError, match="no scripted reply"):
        chat(client)


def test_handler_sees_the_request(server: FakeOpenAIServer) -> None:
    seen: list[dict[str, Any]] = []

    def handler(request: dict[str, Any]) -> Reply:
        seen.append(request)
        return Reply.text(request["messages"][-1]["content"].upper())

    server.push(Reply.text("scripted first"))
    server.set_handler(handler)
    with make_client(server) as client:
        assert chat(client).choices[0].message.content == "scripted first"
        assert chat(client).choices[0].message.content == MESSAGES[0]["content"].upper()
    assert len(seen) == 1 and seen[0]["model"] == "fake-model"


def test_drop_raises_connection_error_and_is_retried(server: FakeOpenAIServer) -> None:
    server.push(Reply.drop(), Reply.drop(), Reply.text("after drop"))
    with make_client(server) as client, pytest.raises(openai.APIConnectionError):
        chat(client)
    with make_client(server, max_retries=1) as client:
        assert chat(client).choices[0].message.content == "after drop"
    assert len(server.requests) == 3


def test_hang_triggers_client_timeout(server: FakeOpenAIServer) -> None:
    server.push(Reply.hang(5.0))
    started = time.monotonic()
    with make_client(server, timeout=0.2) as client, pytest.raises(openai.APITimeoutError):
        chat(client)
    assert time.monotonic() - started < 2.0


def test_hang_answers_504_when_it_ends(server: FakeOpenAIServer) -> None:
    server.push(Reply.hang(0.05))
    with make_client(server) as client, pytest.raises(openai.InternalServerError) as info:
        chat(client)
    assert info.value.status_code == 504


def test_truncated_response_is_a_client_error(server: FakeOpenAIServer) -> None:
    server.push(Reply.truncated('{"text": "cut"}'))
    with make_client(server) as client, pytest.raises(openai.APIConnectionError):
        chat(client)


def test_authorization_is_never_recorded(server: FakeOpenAIServer) -> None:
    secret = "sk-test-very-secret-key-0123456789"
    server.push(Reply.text("ok"))
    with openai.OpenAI(base_url=server.base_url, api_key=secret, max_retries=0, timeout=5) as client:
        chat(client)
        client.models.list()
    assert len(server.requests) == 2
    for request in server.requests:
        assert request.headers["authorization"] == "[present]"
        assert secret not in repr(request)


def test_models_endpoint() -> None:
    with FakeOpenAIServer(model_ids=("a", "b")) as srv, make_client(srv) as client:
        assert [m.id for m in client.models.list()] == ["a", "b"]
        assert client.models.retrieve("b").id == "b"
        with pytest.raises(openai.NotFoundError):
            client.models.retrieve("c")
    assert srv.pending_replies == 0


def test_stream_is_refused(server: FakeOpenAIServer) -> None:
    server.push(Reply.text("unused"))
    with make_client(server) as client, pytest.raises(openai.BadRequestError):
        chat(client, stream=True)
    assert server.pending_replies == 1


def test_32_concurrent_requests_are_all_answered(server: FakeOpenAIServer) -> None:
    n = 32
    barrier = threading.Barrier(n, timeout=5)

    def handler(request: dict[str, Any]) -> Reply:
        barrier.wait()  # passes only once all n requests are in flight at the same time
        return Reply.json({"echo": request["messages"][0]["content"]})

    server.set_handler(handler)
    with make_client(server) as client:

        def one(i: int) -> str:
            completion = chat(client, messages=[{"role": "user", "content": f"request {i}"}])
            return str(json.loads(completion.choices[0].message.content or "")["echo"])

        with ThreadPoolExecutor(max_workers=n) as pool:
            answers = list(pool.map(one, range(n)))
    assert answers == [f"request {i}" for i in range(n)]
    assert len(server.requests) == n


def test_stop_is_prompt_while_a_hang_is_in_progress() -> None:
    srv = FakeOpenAIServer([Reply.hang(30.0)]).start()
    errors: list[BaseException] = []

    def call() -> None:
        with make_client(srv, timeout=10.0) as client:
            try:
                chat(client)
            except openai.APIError as exc:
                errors.append(exc)

    caller = threading.Thread(target=call, daemon=True)
    caller.start()
    deadline = time.monotonic() + 5
    while not srv.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    assert srv.requests, "the request never reached the server"
    started = time.monotonic()
    srv.stop()
    assert time.monotonic() - started < 1.0
    caller.join(timeout=2)
    assert not caller.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], openai.APIConnectionError)


def test_reject_response_format() -> None:
    json_schema = {
        "type": "json_schema",
        "json_schema": {"name": "S", "schema": {"type": "object"}},
    }
    with FakeOpenAIServer([Reply.json({"a": 1})], reject_response_format={"json_schema"}) as srv:
        with make_client(srv) as client:
            with pytest.raises(openai.InternalServerError):
                chat(client, response_format=json_schema)
            assert srv.pending_replies == 1
            completion = chat(client, response_format={"type": "json_object"})
            assert json.loads(completion.choices[0].message.content or "") == {"a": 1}
            srv.reject_response_format({"json_object"}, status=400)
            with pytest.raises(openai.BadRequestError):
                chat(client, response_format={"type": "json_object"})
        assert [r.response_format for r in srv.requests] == [
            json_schema,
            {"type": "json_object"},
            {"type": "json_object"},
        ]
