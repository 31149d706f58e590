"""Settings, resolved in one place: explicit arguments, then the environment, then defaults.

This is the only module that reads ``os.environ`` for factkit settings.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from ._errors import UsageError, redact, register_secret

BackendName = Literal["openai", "local", "fake"]

DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
LOCAL_MODEL_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m"

#: Environment variables factkit reads, with what they set (shown in the README and ``factkit --help``).
ENV_VARS: dict[str, str] = {
    "FACTKIT_MODEL": "model name sent to the endpoint",
    "FACTKIT_BASE_URL": "an OpenAI-compatible endpoint (Ollama, vLLM, llama.cpp, LM Studio); else OPENAI_BASE_URL",
    "FACTKIT_API_KEY": "API key for the endpoint; else OPENAI_API_KEY",
    "FACTKIT_BACKEND": "force a backend: openai, local",
    "FACTKIT_TIMEOUT": "seconds per model request, a deadline however slowly the server answers (default 120)",
    "FACTKIT_ARTICLE_TIMEOUT": "seconds for every model call of one article, retries and waits included (default: "
    "no bound; a call alone takes at most 5 x FACTKIT_TIMEOUT + 15 s)",
    "FACTKIT_MAX_RESPONSE_BYTES": "a model response larger than this is an error (default 4 MiB)",
    "FACTKIT_CACHE_DIR": "where the model-call cache and the assembled local model live",
    "FACTKIT_CACHE": "set to 0 to turn the model-call cache off",
    "FACTKIT_LOCAL_MODEL": "path to a GGUF file to use instead of the bundled model",
    "FACTKIT_LOCAL_THREADS": "CPU threads for the local model (default: all cores)",
    "FACTKIT_LOCAL_KERNELS": "llama.cpp CPU kernels: auto (default: fast, but never the AMX ones), safe, fast",
    "FACTKIT_MAX_INPUT_CHARS": "longer articles are refused before any model call (default 1,000,000)",
    "FACTKIT_NER": "named entities: auto (the pinned spaCy pipeline when installed), off, or a spaCy pipeline name",
    "FACTKIT_ENTITIES": "entities from: auto (NER for the embedded model, NER + LLM for remote ones), ner, llm, both",
    "FACTKIT_FACTS": "facts from: auto (the article's sentences for the embedded model, the LLM for remote ones), "
    "sentences, llm",
    "FACTKIT_MAX_TOKENS": "the most tokens a model answer may have (default: the endpoint's own; 1024 for the "
    "embedded model)",
    "FACTKIT_VERIFY": "how what the model writes is checked: auto (default) or model (rules, then the model's "
    "yes/no on the evidence), rules (no model call)",
    "FACTKIT_PRICES": "a JSON price table (USD per 1M tokens) over the built-in one, for cost and --max-cost",
}


class Settings(BaseModel):
    """Resolved settings. Build with :func:`resolve_settings`; every component receives values from here."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    backend: BackendName
    model: str
    base_url: str | None = None
    api_key: SecretStr | None = None
    timeout: float = Field(120.0, gt=0)
    article_timeout: float | None = Field(
        None, gt=0, description="Seconds for all the model calls of one article, retries included (None: no bound)."
    )
    transport_retries: int = Field(4, ge=0, description="Extra tries after a transport fault.")
    retry_wait_max: float = Field(30.0, ge=0, description="Cap on one backoff wait, seconds.")
    retry_wait_multiplier: float = Field(1.0, ge=0, description="Scales every backoff wait; 0 in tests.")
    max_reasks: int | None = Field(
        None, ge=0, description="Re-asks after output that fails validation or grounding (None: the backend's default)."
    )
    temperature: float = Field(0.0, ge=0, le=2)
    max_tokens: int | None = Field(None, gt=0)
    cache: bool = True
    cache_dir: Path | None = None
    local_model_path: Path | None = None
    local_threads: int | None = Field(None, gt=0)
    local_kernels: Literal["auto", "safe", "fast"] = Field(
        "auto", description="llama.cpp's CPU kernels: auto (fast, but never AMX), safe (portable), fast (all)."
    )
    prices_path: Path | None = None
    ner: str = Field(
        "auto",
        description="Named entities: auto (the pinned spaCy pipeline when installed), off, or a pipeline name.",
    )
    entities: Literal["auto", "ner", "llm", "both"] = Field(
        "auto",
        description="Where entities come from: auto (NER for the embedded model, NER and the LLM merged for "
        "remote ones), ner, llm, both.",
    )
    facts: Literal["auto", "sentences", "llm"] = Field(
        "auto",
        description="Where facts come from: auto (the article's own sentences for the embedded model, statements "
        "the LLM writes for remote ones), sentences, llm.",
    )
    verify: Literal["auto", "model", "rules"] = Field(
        "auto",
        description="How the pipeline checks what the model writes (headline, tldr, key points): auto and model "
        "(the rules, then the model's yes/no on the evidence: one short call a sentence), rules (no model call).",
    )
    max_response_bytes: int = Field(
        4 << 20, gt=0, description="A model response larger than this is an error (bounded memory per request)."
    )
    max_input_chars: int = Field(
        1_000_000, gt=0, description="Longer articles are refused before any model call (an InputError)."
    )

    def describe(self) -> str:
        where = self.base_url or ("in a child process" if self.backend == "local" else "api.openai.com")
        return f"{self.backend} backend, model {self.model} ({where})"


def _env(env: Mapping[str, str], *names: str) -> str | None:
    for name in names:
        value = env.get(name, "").strip()
        if value:
            return value
    return None


def _number(env: Mapping[str, str], name: str, kind: type[float] | type[int]) -> float | int | None:
    raw = _env(env, name)
    if raw is None:
        return None
    try:
        return kind(raw)
    except ValueError:
        raise UsageError(f"{name}={raw!r} is not a number; set it to a {kind.__name__} or unset it") from None


#: Numeric settings read from the environment: variable, Settings field, type.
_NUMBERS: tuple[tuple[str, str, type[float] | type[int]], ...] = (
    ("FACTKIT_TIMEOUT", "timeout", float),
    ("FACTKIT_ARTICLE_TIMEOUT", "article_timeout", float),
    ("FACTKIT_LOCAL_THREADS", "local_threads", int),
    ("FACTKIT_MAX_RESPONSE_BYTES", "max_response_bytes", int),
    ("FACTKIT_MAX_INPUT_CHARS", "max_input_chars", int),
    ("FACTKIT_MAX_TOKENS", "max_tokens", int),
)


def secret_from_environment(name: str) -> str | None:
    """The value of the variable ``name`` (an API key a config file names by its variable, never by its value)."""
    return os.environ.get(name) or None


def environment_endpoint(env: Mapping[str, str] | None = None) -> tuple[str | None, str | None]:
    """The base URL and model the environment sets (``FACTKIT_BASE_URL``/``OPENAI_BASE_URL``, ``FACTKIT_MODEL``),
    for commands that fall back to a file's own when the environment says nothing."""
    env = os.environ if env is None else env
    return _env(env, "FACTKIT_BASE_URL", "OPENAI_BASE_URL"), _env(env, "FACTKIT_MODEL")


def _check_base_url(url: str) -> None:
    """A base URL the client could never reach is refused now, not after every try of every call."""
    from urllib.parse import urlsplit

    problem = None
    try:
        parts = urlsplit(url)
        _ = parts.port  # a port that is not a number raises
    except ValueError as exc:
        problem = str(exc)
    else:
        if parts.scheme not in ("http", "https"):
            problem = "it must start with http:// or https://"
        elif not parts.hostname:
            problem = "it names no host"
        elif parts.netloc.endswith(":"):
            problem = "a ':' with no port after it"
    if problem:
        shown = redact(url)
        raise UsageError(
            f"base URL {shown!r} is malformed ({problem}); set FACTKIT_BASE_URL or --base-url to e.g. "
            "http://localhost:11434/v1"
        )


def resolve_settings(
    *,
    model: str | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    backend: BackendName | None = None,
    env: Mapping[str, str] | None = None,
    **overrides: object,
) -> Settings:
    """Arguments win, then ``FACTKIT_*`` / ``OPENAI_*`` variables, then defaults.

    With no key and no base URL the embedded local model is chosen.
    """
    env = os.environ if env is None else env
    base_url = base_url or _env(env, "FACTKIT_BASE_URL", "OPENAI_BASE_URL")
    if base_url:
        _check_base_url(base_url)
    key = api_key or _env(env, "FACTKIT_API_KEY", "OPENAI_API_KEY")
    register_secret(key)
    chosen = backend or _env(env, "FACTKIT_BACKEND")
    if chosen is None:
        chosen = "openai" if (base_url or key) else "local"
    if chosen not in ("openai", "local", "fake"):
        raise UsageError(f"unknown backend {chosen!r}; use one of: openai, local")
    if chosen == "local":
        default_model = LOCAL_MODEL_NAME
    elif base_url:
        default_model = "default"
    else:
        default_model = DEFAULT_OPENAI_MODEL
    values: dict[str, object] = {
        "backend": chosen,
        "model": model or _env(env, "FACTKIT_MODEL") or default_model,
        "base_url": base_url,
        "api_key": SecretStr(key) if key else None,
    }
    for variable, field_name, kind in _NUMBERS:
        number = _number(env, variable, kind)
        if number is not None:
            values[field_name] = number
    if (_env(env, "FACTKIT_CACHE") or "").lower() in ("0", "false", "no", "off"):
        values["cache"] = False
    cache_dir = _env(env, "FACTKIT_CACHE_DIR")
    if cache_dir:
        values["cache_dir"] = Path(cache_dir).expanduser()
    prices = _env(env, "FACTKIT_PRICES")
    if prices:
        values["prices_path"] = Path(prices).expanduser()
    ner = _env(env, "FACTKIT_NER")
    if ner:
        values["ner"] = ner
    entities = _env(env, "FACTKIT_ENTITIES")
    if entities:
        values["entities"] = entities.lower()
    check = _env(env, "FACTKIT_VERIFY")
    if check:
        values["verify"] = check.lower()
    facts = _env(env, "FACTKIT_FACTS")
    if facts:
        values["facts"] = facts.lower()
    kernels = _env(env, "FACTKIT_LOCAL_KERNELS")
    if kernels:
        values["local_kernels"] = kernels.lower()
    local_model = _env(env, "FACTKIT_LOCAL_MODEL")
    if local_model:
        values["local_model_path"] = Path(local_model).expanduser()
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:  # a factkit error that names the setting, on one line
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}"
            + ("" if err["type"] == "extra_forbidden" else f" (got {err.get('input')!r})")
            for err in exc.errors()
        )
        raise UsageError(f"invalid settings: {problems}") from None


def cache_root(settings: Settings) -> Path:
    """The folder for factkit's caches: FACTKIT_CACHE_DIR, else the platform cache dir."""
    if settings.cache_dir is not None:
        return settings.cache_dir
    import platformdirs

    return Path(platformdirs.user_cache_dir("factkit"))


def backend_forced(env: Mapping[str, str] | None = None) -> bool:
    """Whether FACTKIT_BACKEND chose the backend (for ``factkit doctor``'s "why")."""
    return _env(os.environ if env is None else env, "FACTKIT_BACKEND") is not None


def child_environment(prepend_path: str, **extra: str) -> dict[str, str]:
    """The environment for a child process of factkit's: this one's, with ``prepend_path`` first on PYTHONPATH."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (prepend_path, env.get("PYTHONPATH", "")) if p)
    env.update(extra)
    return env
