"""Settings are resolved in one place: arguments, then FACTKIT_* / OPENAI_* variables, then defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

import factkit
from factkit import ConfigError, Extractor, UsageError, resolve_settings
from factkit._config import DEFAULT_OPENAI_MODEL, ENV_VARS, LOCAL_MODEL_NAME, cache_root
from factkit.backends import make_backend
from factkit.backends.base import Mode
from factkit.backends.openai_backend import OpenAIBackend

pytestmark = pytest.mark.usefixtures("no_local_model")


def test_nothing_configured_means_the_local_model() -> None:
    s = resolve_settings(env={})
    assert (s.backend, s.model, s.base_url, s.api_key) == ("local", LOCAL_MODEL_NAME, None, None)


def test_openai_key_alone_means_openai_with_its_default_model() -> None:
    s = resolve_settings(env={"OPENAI_API_KEY": "sk-env-0000000000"})
    assert (s.backend, s.model, s.base_url) == ("openai", DEFAULT_OPENAI_MODEL, None)
    assert s.api_key is not None and s.api_key.get_secret_value() == "sk-env-0000000000"


def test_base_url_alone_means_a_compatible_server() -> None:
    s = resolve_settings(env={"OPENAI_BASE_URL": "http://localhost:11434/v1"})
    assert (s.backend, s.model, s.base_url, s.api_key) == ("openai", "default", "http://localhost:11434/v1", None)


def test_factkit_variables_win_over_openai_ones() -> None:
    env = {
        "OPENAI_API_KEY": "openai-key-1111",
        "FACTKIT_API_KEY": "factkit-key-2222",
        "OPENAI_BASE_URL": "http://openai.example/v1",
        "FACTKIT_BASE_URL": "http://factkit.example/v1",
        "FACTKIT_MODEL": "env-model",
    }
    s = resolve_settings(env=env)
    assert s.api_key is not None and s.api_key.get_secret_value() == "factkit-key-2222"
    assert (s.base_url, s.model) == ("http://factkit.example/v1", "env-model")


def test_arguments_win_over_the_environment() -> None:
    env = {"FACTKIT_API_KEY": "env-key-3333", "FACTKIT_BASE_URL": "http://env/v1", "FACTKIT_MODEL": "env-model"}
    s = resolve_settings(model="arg-model", base_url="http://arg/v1", api_key="arg-key-4444", env=env)
    assert (s.model, s.base_url) == ("arg-model", "http://arg/v1")
    assert s.api_key is not None and s.api_key.get_secret_value() == "arg-key-4444"


def test_blank_variables_count_as_unset() -> None:
    s = resolve_settings(env={"FACTKIT_API_KEY": "  ", "OPENAI_API_KEY": "real-key-5555", "FACTKIT_MODEL": ""})
    assert s.api_key is not None and s.api_key.get_secret_value() == "real-key-5555"
    assert s.model == DEFAULT_OPENAI_MODEL


def test_the_real_environment_is_read_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACTKIT_BASE_URL", "http://from-env/v1")
    monkeypatch.setenv("FACTKIT_TIMEOUT", "7.5")
    monkeypatch.setenv("FACTKIT_CACHE", "0")
    s = resolve_settings()
    assert (s.base_url, s.timeout, s.cache) == ("http://from-env/v1", 7.5, False)


def test_numbers_caches_and_paths_from_the_environment(tmp_path: Path) -> None:
    env = {
        "FACTKIT_BASE_URL": "http://x/v1",
        "FACTKIT_TIMEOUT": "12",
        "FACTKIT_LOCAL_THREADS": "3",
        "FACTKIT_CACHE": "off",
        "FACTKIT_CACHE_DIR": str(tmp_path / "c"),
        "FACTKIT_LOCAL_MODEL": str(tmp_path / "m.gguf"),
    }
    s = resolve_settings(env=env)
    assert (s.timeout, s.local_threads, s.cache) == (12.0, 3, False)
    assert s.cache_dir == tmp_path / "c" and cache_root(s) == tmp_path / "c"
    assert s.local_model_path == tmp_path / "m.gguf"


@pytest.mark.parametrize(
    ("value", "cache"), [("0", False), ("OFF", False), ("False", False), ("no", False), ("1", True)]
)
def test_cache_switch(value: str, cache: bool) -> None:
    assert resolve_settings(env={"FACTKIT_BASE_URL": "http://x/v1", "FACTKIT_CACHE": value}).cache is cache


def test_overrides_beat_the_environment_and_none_is_ignored() -> None:
    s = resolve_settings(env={"FACTKIT_BASE_URL": "http://x/v1", "FACTKIT_TIMEOUT": "12"}, timeout=3.0, max_tokens=None)
    assert (s.timeout, s.max_tokens) == (3.0, None)


def test_backend_can_be_forced() -> None:
    assert resolve_settings(backend="local", env={"OPENAI_API_KEY": "k-123456"}).backend == "local"
    assert resolve_settings(env={"FACTKIT_BACKEND": "openai"}).backend == "openai"


@pytest.mark.parametrize(
    ("kwargs", "env", "needle"),
    [
        ({}, {"FACTKIT_BACKEND": "gemini"}, "unknown backend 'gemini'"),
        ({}, {"FACTKIT_TIMEOUT": "soon"}, "FACTKIT_TIMEOUT='soon' is not a number"),
        ({}, {"FACTKIT_LOCAL_THREADS": "2.5"}, "FACTKIT_LOCAL_THREADS='2.5' is not a number"),
        ({"timeout": -1.0}, {}, "timeout: Input should be greater than 0 (got -1.0)"),
        ({"temperature": 9}, {}, "temperature"),
        ({"no_such_setting": 1}, {}, "no_such_setting: Extra inputs are not permitted"),
    ],
)
def test_bad_settings_are_one_line_usage_errors(kwargs: dict[str, object], env: dict[str, str], needle: str) -> None:
    with pytest.raises(UsageError) as err:
        resolve_settings(env={"FACTKIT_BASE_URL": "http://x/v1", **env}, **kwargs)  # type: ignore[arg-type]
    assert needle in str(err.value)
    assert "\n" not in str(err.value)


def test_settings_are_frozen_and_describe_themselves() -> None:
    s = resolve_settings(env={"FACTKIT_BASE_URL": "http://x/v1"})
    with pytest.raises(Exception, match="frozen"):
        s.model = "other"  # type: ignore[misc]
    assert s.describe() == "openai backend, model default (http://x/v1)"
    assert "api.openai.com" in resolve_settings(env={"OPENAI_API_KEY": "k-123456"}).describe()


def test_env_vars_are_documented_in_one_table() -> None:
    for name in ("FACTKIT_MODEL", "FACTKIT_BASE_URL", "FACTKIT_API_KEY", "FACTKIT_TIMEOUT", "FACTKIT_CACHE_DIR"):
        assert name in ENV_VARS


def test_only_the_config_module_reads_the_environment() -> None:
    root = Path(factkit.__file__).parent
    readers = sorted(
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if "os.environ" in p.read_text(encoding="utf-8") or "os.getenv" in p.read_text(encoding="utf-8")
    )
    assert readers == ["_config.py"]


# ---- missing key, unreachable endpoint -----------------------------------------------------------------


def test_missing_key_is_a_config_error_that_says_how_to_fix_it() -> None:
    settings = resolve_settings(backend="openai", env={})
    with pytest.raises(ConfigError) as err:
        make_backend(settings)
    message = str(err.value)
    assert "OPENAI_API_KEY" in message and "FACTKIT_BASE_URL" in message


def test_missing_key_fails_at_the_first_call_not_before_input_checks() -> None:
    ex = Extractor(settings=resolve_settings(backend="openai", env={}))
    with pytest.raises(factkit.InputError):
        ex.extract("   ")
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        ex.extract("Some real text. More of it.")


def test_unreachable_endpoint_is_a_transport_error_with_a_hint() -> None:
    import socket

    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = resolve_settings(
        base_url=f"http://127.0.0.1:{port}/v1", retry_wait_multiplier=0.0, transport_retries=1, cache=False, env={}
    )
    with pytest.raises(factkit.TransportError) as err:
        Extractor(settings=settings).extract("Some real text. More of it.")
    message = str(err.value)
    assert f"127.0.0.1:{port}" in message
    assert "FACTKIT_BASE_URL" in message and "after 2 tries" in message
    assert err.value.provider == "openai" and err.value.original is not None
    assert err.value.usage is not None and err.value.usage.calls[0].attempts == 2


def test_modes_per_backend() -> None:
    openai_itself = OpenAIBackend(resolve_settings(api_key="sk-test-0000000000", env={}))
    assert openai_itself.modes == [Mode.JSON_SCHEMA, Mode.TOOLS, Mode.JSON]
    assert openai_itself.endpoint == "api.openai.com"
    compatible = OpenAIBackend(resolve_settings(base_url="http://127.0.0.1:9/v1", env={}))
    assert compatible.modes == [Mode.JSON_SCHEMA, Mode.JSON, Mode.MD_JSON]


def test_backend_receives_settings() -> None:
    s = resolve_settings(
        base_url="http://127.0.0.1:9/v1",
        model="m1",
        temperature=0.3,
        max_tokens=99,
        transport_retries=2,
        retry_wait_max=5.0,
        env={},
    )
    b = OpenAIBackend(s)
    assert b.model == "m1"
    assert b.sampling == {"temperature": 0.3, "max_tokens": 99}
    assert (b.retry.retries, b.retry.wait_max, b.retry.multiplier) == (2, 5.0, 1.0)
    assert b.cache_identity() == {
        "backend": "openai",
        "model": "m1",
        "endpoint": "http://127.0.0.1:9/v1",
        "sampling": {"temperature": 0.3, "max_tokens": 99},
    }


def test_fake_backend_is_not_built_from_settings() -> None:
    with pytest.raises(UsageError, match="FakeModel"):
        make_backend(resolve_settings(backend="fake", env={}))


def test_no_key_and_no_local_extra_names_both_fixes(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from factkit.backends.local import LocalBackend

    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # as if the extra were not installed
    with pytest.raises(ConfigError) as err:
        LocalBackend(resolve_settings(env={}))
    assert "factkit[local]" in str(err.value)
    assert "OPENAI_API_KEY" in str(err.value)
