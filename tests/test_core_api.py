"""The public surface: exported names, the error tree, and secrets kept out of messages, logs and results."""

from __future__ import annotations

import logging
import pickle
from collections.abc import Callable
from typing import Any

import pytest
from conftest import SECRET_KEY, TaskScript

import factkit
import factkit.testing
from factkit import Extractor, resolve_settings
from factkit._errors import describe, redact, register_secret
from factkit.testing import FakeOpenAIServer, Reply

pytestmark = pytest.mark.usefixtures("no_local_model")

ARTICLE = "Ann Lee opened a bakery on Main Street on Monday. It sells 40 kinds of bread."
ENTITIES = {"people": ["Ann Lee"], "organizations": [], "places": ["Main Street"], "other": []}
FACTS = {
    "headline": "Ann Lee opens bakery",
    "tldr": "Ann Lee opened a bakery on Main Street.",
    "facts": [
        {"s": [1], "kind": "event", "statement": "Ann Lee opened a bakery on Main Street on Monday."},
        {
            "s": [2],
            "kind": "quantity",
            "statement": "The bakery sells 40 kinds of bread.",
            "value": 40,
            "unit": "kinds",
        },
    ],
}


# ---- exported names (like httpx's tests/test_exported_members.py) ---------------------------------------


def test_all_is_sorted_unique_and_every_name_exists() -> None:
    assert factkit.__all__ == sorted(factkit.__all__)
    assert len(set(factkit.__all__)) == len(factkit.__all__)
    for name in factkit.__all__:
        assert hasattr(factkit, name), name


def test_every_public_attribute_is_exported() -> None:
    public = {
        name
        for name, value in vars(factkit).items()
        if not name.startswith("_") and not getattr(value, "__name__", "").startswith(("factkit.", "logging"))
    }
    public -= {"annotations", "logging"}
    assert public <= set(factkit.__all__) | {"testing", "backends", "cli", "eval"}, public - set(factkit.__all__)


def test_the_three_first_calls_are_exported() -> None:
    assert callable(factkit.extract)
    assert callable(factkit.summarize)
    assert isinstance(factkit.Extractor, type)
    assert factkit.__version__.count(".") == 2


def test_testing_module_exports() -> None:
    assert factkit.testing.__all__ == sorted(factkit.testing.__all__)
    for name in factkit.testing.__all__:
        assert hasattr(factkit.testing, name), name
    assert {"FakeModel", "FakeOpenAIServer", "Reply"} <= set(factkit.testing.__all__)


def test_library_is_quiet_by_default() -> None:
    handlers = logging.getLogger("factkit").handlers
    assert any(isinstance(h, logging.NullHandler) for h in handlers)


# ---- the error tree ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cls",
    [
        factkit.UsageError,
        factkit.InputError,
        factkit.ConfigError,
        factkit.ModelError,
        factkit.TransportError,
        factkit.OutputError,
        factkit.BudgetError,
    ],
)
def test_every_error_is_a_factkit_error(cls: type[Exception]) -> None:
    assert issubclass(cls, factkit.FactkitError)
    assert issubclass(cls, Exception)


def test_error_tree_shape() -> None:
    assert issubclass(factkit.TransportError, factkit.ModelError)
    for a in (factkit.UsageError, factkit.InputError, factkit.ConfigError, factkit.OutputError):
        for b in (factkit.UsageError, factkit.InputError, factkit.ConfigError, factkit.OutputError):
            assert (a is b) == issubclass(a, b)
    # the tree is drawn in the module docstring
    doc = factkit.FactkitError.__module__
    import importlib

    text = importlib.import_module(doc).__doc__ or ""
    for name in ("FactkitError", "UsageError", "InputError", "ConfigError", "ModelError", "TransportError"):
        assert name in text


def test_error_attributes() -> None:
    original = ValueError("boom")
    err = factkit.TransportError("down", provider="openai", original=original)
    assert (err.provider, err.original, err.message) == ("openai", original, "down")
    out = factkit.OutputError("bad", last_output="{", attempts=3)
    assert (out.last_output, out.attempts, out.usage) == ("{", 3, None)
    inp = factkit.InputError("empty", source="a.txt")
    assert str(inp) == "a.txt: empty" and inp.source == "a.txt"


def test_redact_removes_registered_and_shaped_keys() -> None:
    register_secret("plain-registered-secret")
    text = (
        "key plain-registered-secret, sk-proj-ABCDEFGH12345678, Authorization: Bearer abc.def-123456789, "
        "api_key='zzzzzzzzzzzz'"
    )
    out = redact(text)
    for secret in ("plain-registered-secret", "sk-proj-ABCDEFGH12345678", "abc.def-123456789", "zzzzzzzzzzzz"):
        assert secret not in out
    assert out.count("[REDACTED]") == 4
    assert "Bearer [REDACTED]" in out
    assert redact("nothing to hide here") == "nothing to hide here"


def test_errors_redact_their_message() -> None:
    register_secret(SECRET_KEY)
    err = factkit.ModelError(f"server said: bad key {SECRET_KEY}")
    assert SECRET_KEY not in str(err)
    out = factkit.OutputError("x", last_output=f'{{"echo": "{SECRET_KEY}"}}')
    assert out.last_output is not None and SECRET_KEY not in out.last_output
    assert SECRET_KEY not in describe(RuntimeError(f"first line {SECRET_KEY}\nsecond line"))
    assert describe(RuntimeError("first\nsecond")) == "RuntimeError: first"
    assert describe(KeyError()) == "KeyError"


# ---- secrets end to end --------------------------------------------------------------------------------


def _everything(result: Any) -> str:
    return result.model_dump_json() if hasattr(result, "model_dump_json") else repr(result)


def test_key_never_in_results_logs_or_errors(
    fake_server: FakeOpenAIServer,
    script: TaskScript,
    make_extractor: Callable[..., Extractor],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, the openai client's and httpx's included
    script.on("entities", ENTITIES).on("facts", FACTS)
    ex = make_extractor()
    result = ex.extract(ARTICLE)
    assert result.facts
    assert SECRET_KEY not in _everything(result)
    assert SECRET_KEY not in repr(ex.settings) and SECRET_KEY not in ex.settings.model_dump_json()

    # a server that echoes the key back in its error body, a transient one, then a bad output
    echo = {"error": {"message": f"Incorrect API key provided: {SECRET_KEY}", "type": "invalid_request_error"}}
    fake_server.push(*[Reply.error(401, body=echo)] * 2)  # the entities and facts calls run concurrently
    with pytest.raises(factkit.ConfigError) as auth:
        ex.extract(ARTICLE)
    assert "API key" in str(auth.value) and "FACTKIT_API_KEY" in str(auth.value)
    fake_server.push(*[Reply.error(503, body=echo)] * 10)  # 5 tries for each of the two calls
    with pytest.raises(factkit.TransportError) as down:
        ex.extract(ARTICLE)
    for exc in (auth.value, down.value):
        assert SECRET_KEY not in str(exc)
        assert SECRET_KEY not in repr(exc)
    assert any(r.name == "factkit" and "retry" in r.getMessage() for r in caplog.records)
    assert SECRET_KEY not in caplog.text
    # the key reached the server in the Authorization header only, never in a prompt
    assert all(r.headers.get("authorization") == "[present]" for r in fake_server.chat_requests)
    assert all(SECRET_KEY not in r.body.decode() for r in fake_server.chat_requests)

    # even a model that repeats the key: the error and its last_output are redacted
    fake_server.push(*[Reply.text(f'{{"echo": "{SECRET_KEY}"')] * 4)
    with pytest.raises(factkit.OutputError) as bad:
        ex.extract(ARTICLE)
    assert SECRET_KEY not in str(bad.value)
    assert bad.value.last_output is not None and SECRET_KEY not in bad.value.last_output
    # the key did reach the server, in the header only (recorded as present, never stored)
    assert all(r.headers.get("authorization") == "[present]" for r in fake_server.chat_requests)


def test_hand_built_settings_key_is_still_redacted(fake_server: FakeOpenAIServer) -> None:
    from pydantic import SecretStr

    hand_made = "hand-built-key-31337"
    settings = factkit.Settings(
        backend="openai",
        model="m",
        base_url=fake_server.base_url,
        api_key=SecretStr(hand_made),
        cache=False,
        transport_retries=0,
    )
    body = {"error": {"message": f"key {hand_made} is revoked"}}
    fake_server.push(*[Reply.error(403, body=body)] * 2)  # one for each of the two concurrent calls
    with pytest.raises(factkit.ConfigError) as err:
        Extractor(settings=settings).extract(ARTICLE)
    assert hand_made not in str(err.value)


def test_errors_pickle_roundtrip_keeps_message() -> None:
    err = factkit.UsageError("bad argument")
    assert str(pickle.loads(pickle.dumps(err))) == "bad argument"


def test_resolve_settings_registers_the_key() -> None:
    resolve_settings(base_url="http://127.0.0.1:9/v1", api_key="registered-by-settings-42")
    assert "registered-by-settings-42" not in redact("echo registered-by-settings-42")
