"""The one seam to a model: messages and a response model in, a validated object and usage out.

Every backend is a :class:`ChatBackend` around one function that takes OpenAI chat-completion arguments and
returns an ``openai`` ``ChatCompletion``: the ``openai`` client (OpenAI or any compatible ``base_url``), the
in-process llama.cpp model, or the scripted fake in :mod:`factkit.testing`. So parsing, validation,
re-asking and usage accounting are the same code for all of them.

Two retry loops, never mixed:

* transport faults (429 honouring Retry-After, 5xx, timeouts, dropped connections) are retried by tenacity
  *inside* one model call, with capped exponential backoff and jitter; their errors never reach the prompt;
* output that fails validation or grounding is re-asked by instructor, at most ``max_reasks`` times, each
  re-ask adding only the last bad output and its error (bounded context).

On the last attempt, validators that support it (``context["final_attempt"]``) stop raising and move
ungrounded items to ``context["rejected"]`` instead, so one bad item doesn't cost the whole answer.
"""

from __future__ import annotations

import contextlib
import copy
import email.utils
import functools
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

import instructor
import openai
from pydantic import BaseModel, ValidationError
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, stop_any
from tenacity.stop import stop_base

from .._context import article_deadline, seconds_left, validation_context
from .._errors import (
    ConfigError,
    FactkitError,
    ModelError,
    ModelTimeoutError,
    OutputError,
    TransportError,
    has_secrets,
    redact,
)
from .._models import CallUsage, Usage
from ._transport import too_large

log = logging.getLogger("factkit")
# instructor logs every failed attempt as a multi-line block at WARNING/ERROR. Where the caller configured no
# logging, Python's last-resort handler would print them all to stderr; factkit reports one line per failure
# instead (and its CLI shows instructor's lines with -vv). A caller's own handlers still get them.
logging.getLogger("instructor").addHandler(logging.NullHandler())
T = TypeVar("T", bound=BaseModel)
Mode = instructor.Mode

CreateFn = Callable[..., Any]


_sending = threading.local()


@contextlib.contextmanager
def on_request_sent(callback: Callable[[], None]) -> Iterator[None]:
    """Call ``callback`` when this thread's next model request leaves (or is about to), so work that competes for
    the interpreter lock can wait until then instead of delaying the request."""
    previous = getattr(_sending, "callback", None)
    _sending.callback = callback
    try:
        yield
    finally:
        _sending.callback = previous


def request_sent() -> None:
    """Tell whoever waits on this thread (:func:`on_request_sent`) that its request is built and on its way."""
    callback = getattr(_sending, "callback", None)
    if callback is not None:
        callback()


@functools.cache
def prepared_model(response_model: type[T]) -> type[T]:
    """``response_model`` as instructor wants it, built once per model instead of once per call.

    instructor wraps a plain model in a new ``ResponseSchema`` subclass (``pydantic.create_model``) and asks it
    for its JSON schema on every call; that was ~4 ms of Python per call here, most of the library's own cost
    against a fast endpoint. Handing it the wrapped class skips the wrapping, and the schema is computed once.
    Models are immutable once defined, so caching by class is safe.
    """
    wrapped: Any = instructor.openai_schema(response_model)
    schema = wrapped.model_json_schema()
    original = wrapped.model_json_schema

    def model_json_schema(*args: Any, **kwargs: Any) -> dict[str, Any]:
        if args or kwargs:
            return original(*args, **kwargs)
        return copy.deepcopy(schema)

    wrapped.model_json_schema = model_json_schema
    return wrapped


@dataclass
class Completion(Generic[T]):
    value: T
    usage: CallUsage
    raw: str = ""


@dataclass
class YesNo:
    """The model's answer to a yes/no question: P(yes) against no for its first token, and what it cost."""

    p_yes: float
    usage: CallUsage
    #: "logprobs" (the first token's probabilities) or "answer" (a constrained yes/no: 1.0 or 0.0).
    how: str = "logprobs"


class _Answer(BaseModel):
    answer: Literal["yes", "no"]


_YES = frozenset(["yes", "y", "true"])
_NO = frozenset(["no", "n", "false"])


def p_yes_from_logprobs(response: Any) -> float | None:
    """P(yes) / (P(yes) + P(no)) from the first token's top log-probabilities of a chat completion, or None when
    the endpoint sent none, or when yes and no together hold under 1 % of the first token's probability (the model
    meant to say something else).

    Each spelling counts once ("Yes", " yes", "YES" are added up, a token listed twice is not); a side missing from
    the list is taken as likely as the least likely token listed (it was not in the top ones), never as zero."""
    try:
        first = response.choices[0].logprobs.content[0]
    except (AttributeError, IndexError, TypeError):
        return None
    listed: dict[str, float] = {}
    for cand in [first, *(getattr(first, "top_logprobs", None) or [])]:
        token, lp = getattr(cand, "token", None), getattr(cand, "logprob", None)
        if not isinstance(token, str) or not isinstance(lp, int | float) or math.isnan(lp):
            continue
        listed.setdefault(token, math.exp(min(0.0, float(lp))))
    if not listed:
        return None
    mass = {"yes": 0.0, "no": 0.0}
    for token, p in listed.items():
        word = token.strip().lower()
        side = "yes" if word in _YES else "no" if word in _NO else None
        if side is not None:
            mass[side] += p
    floor = min(listed.values()) if len(listed) > 1 else 0.0
    yes, no = mass["yes"] or floor, mass["no"] or floor
    if mass["yes"] + mass["no"] < 0.01 or yes + no <= 0:
        return None
    return yes / (yes + no)


@dataclass
class RetryPolicy:
    """Transport retry settings; ``multiplier=0`` makes every wait zero (tests), ``sleep`` can record them."""

    retries: int = 4
    wait_max: float = 30.0
    multiplier: float = 1.0
    initial: float = 1.0
    sleep: Callable[[float], None] = time.sleep

    def wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        retry_after = _retry_after(exc)
        if retry_after is not None:
            return min(retry_after, self.wait_max) * self.multiplier
        backoff = min(self.wait_max, self.initial * 2 ** (state.attempt_number - 1))
        return backoff * random.uniform(0.5, 1.0) * self.multiplier


class _past_deadline(stop_base):
    """Stop retrying once the article's deadline has passed."""

    def __call__(self, retry_state: RetryCallState) -> bool:
        left = seconds_left()
        return left is not None and left <= 0


def _retry_after(exc: BaseException | None) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value:
            try:
                return max(0.0, float(value) * scale)
            except ValueError:
                pass
            if name == "retry-after":  # the other form of the header: an HTTP date
                try:
                    when = email.utils.parsedate_to_datetime(value)
                except (TypeError, ValueError):
                    continue
                if when.tzinfo is not None:
                    return max(0.0, when.timestamp() - time.time())
    return None


def is_transient(exc: BaseException) -> bool:
    """Transport faults worth retrying: timeouts, dropped connections, 408/409/429 and 5xx."""
    if too_large(exc) is not None:  # the server would send it again: one error, not four more downloads
        return False
    if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in (408, 409, 429) or exc.status_code >= 500
    return isinstance(exc, ConnectionError | TimeoutError)


class ModeRejected(Exception):
    """The server refused the structured-output mode (e.g. 500 on response_format json_schema)."""


_MODE_HINTS = ("response_format", "json_schema", "response format", "tool", "function", "grammar", "schema")


def _looks_like_mode_rejection(exc: BaseException) -> bool:
    """A refusal of the structured-output request itself, not of this particular prompt.

    A 400 or 500 counts only when the server names the feature: a fallback is permanent for the backend,
    so an unrelated 400 (say, a prompt over the context length) must not cost it schema-constrained output.
    """
    if not isinstance(exc, openai.APIStatusError):
        return False
    if exc.status_code == 501:
        return True
    if exc.status_code in (400, 422, 500):
        return any(h in str(exc).lower() for h in _MODE_HINTS)
    return False


#: More tokens than any model's context in one call: a count above it (or below 0) is not believed.
MAX_TOKENS_PER_CALL = 10_000_000


@dataclass
class _CallState:
    attempts: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    last_text: str = ""
    mode_succeeded: bool = False
    usage_unknown: bool = False
    errors: list[str] = field(default_factory=list)
    #: When the last request was sent (monotonic seconds), and, after it timed out against a server that was
    #: still busy with it, how long after sending the server was seen free again (inf: not within the wait).
    sent_at: float = 0.0
    busy_for: float | None = None


class ChatBackend:
    """A backend around one OpenAI-style ``create`` function. Subclasses only supply ``create`` and modes."""

    name = "openai"
    #: Re-asks after bad output when the caller sets none.
    default_reasks = 1
    #: Whether the calls of one article may run at the same time (a remote endpoint: yes).
    parallel_calls = False
    #: Whether the pipeline asks this backend the claim checker's yes/no questions (:meth:`yes_probability`).
    judges = True
    #: Whether the model's own fact statements are worth asking for (``facts="auto"``); else the facts are the
    #: article's sentences and the model writes the headline alone.
    writes_facts = True
    #: Whether asking the model for entities adds to the parser's (``entities="auto"``).
    lists_entities = True
    #: Whether ``create`` calls :func:`request_sent` itself once the request is built (else it is called just
    #: before ``create``).
    signals_sent = False

    def __init__(
        self,
        create: CreateFn,
        *,
        model: str,
        modes: Sequence[Mode] = (Mode.JSON_SCHEMA, Mode.JSON, Mode.MD_JSON),
        retry: RetryPolicy | None = None,
        endpoint: str = "",
        sampling: dict[str, Any] | None = None,
    ) -> None:
        self._create = create
        self.model = model
        self.modes = list(modes)
        self.retry = retry or RetryPolicy()
        self.endpoint = endpoint
        self.sampling = dict(sampling or {"temperature": 0.0})
        self._mode_lock = threading.Lock()
        self._patched: dict[Mode, Any] = {}
        #: The endpoint refused a request for log-probabilities: yes/no questions ask for an answer instead.
        self._no_logprobs = False

    def _check_deadline(self, exc: BaseException | None) -> None:
        """A :class:`TransportError` naming ``FACTKIT_ARTICLE_TIMEOUT`` once the article's deadline has passed."""
        current = article_deadline.get()
        if current is None or time.monotonic() < current[0]:
            return
        after = f" (the last try: {_describe(exc)})" if exc is not None else ""
        raise TransportError(
            f"the article's deadline passed while calling {self.endpoint or self.name}: FACTKIT_ARTICLE_TIMEOUT="
            f"{current[1]:g} s for all of its model calls{after}; raise it, or unset it for no bound",
            provider=self.name,
        )

    def interrupt(self) -> None:
        """Stop the calls in flight now, from any thread (a batch interrupted by Ctrl-C). Remote calls end with
        their own timeouts, so here nothing; the embedded model kills its child."""

    # -- identity, for cache keys and results --------------------------------------------------------
    def cache_identity(self) -> dict[str, Any]:
        return {
            "backend": self.name,
            "model": self.model,
            "endpoint": self.endpoint,
            "sampling": self.sampling,
        }

    @property
    def mode(self) -> Mode:
        return self.modes[0]

    # -- the seam --------------------------------------------------------------------------------------
    def complete(
        self,
        messages: list[dict[str, str]],
        response_model: type[T],
        *,
        context: dict[str, Any] | None = None,
        max_reasks: int = 1,
        purpose: str = "extract",
    ) -> Completion[T]:
        """Ask the model for ``response_model``; validate, re-ask on bad output, and count every token."""
        context = {} if context is None else context
        state = _CallState()
        started = time.perf_counter()
        while True:
            mode = self.mode
            try:
                value = self._call(mode, messages, response_model, context, max_reasks, state)
                break
            except ModeRejected as exc:
                with self._mode_lock:
                    if len(self.modes) > 1 and self.modes[0] == mode:
                        log.info(
                            "%s rejected mode %s (%s); falling back to %s",
                            self.endpoint or self.name,
                            mode.value,
                            exc,
                            self.modes[1].value,
                        )
                        self.modes.pop(0)
                    elif self.modes[0] == mode:
                        raise ModelError(
                            f"{self.endpoint or self.name} rejected every structured-output mode "
                            f"(last: {exc}); use a server that supports JSON output",
                            provider=self.name,
                        ) from None
            except FactkitError as exc:
                exc.usage = Usage(calls=[self._usage(state, started, purpose)])
                raise
        usage = self._usage(state, started, purpose)
        return Completion(value=value, usage=usage, raw=state.last_text)

    def yes_probability(self, messages: list[dict[str, str]], *, purpose: str = "verify") -> YesNo:
        """P(yes) for a question whose answer is yes or no: one token with its log-probabilities; an endpoint
        that gives none is asked again for a constrained answer (``{"answer": "yes"|"no"}``: 1.0 or 0.0)."""
        state = _CallState()
        started = time.perf_counter()
        kwargs = {
            "model": self.model,
            "messages": [dict(m) for m in messages],
            "max_tokens": 1,
            "temperature": 0.0,
            "logprobs": True,
            "top_logprobs": 10,
        }
        response = None
        if not self._no_logprobs:
            try:
                response = self._create_with_retries(self.mode, state, kwargs)
            except ModeRejected:
                response = None
            except FactkitError as exc:
                # only a refusal of the request itself (HTTP 400 for logprobs, say) is worth another form of the
                # question; a transport failure was retried already and would only be retried again
                if type(exc) is not ModelError:
                    exc.usage = Usage(calls=[self._usage(state, started, purpose)])
                    raise
                self._no_logprobs = True
                log.info("%s refused log-probabilities; asking for a yes/no answer instead", self.endpoint or self.name)
        p = p_yes_from_logprobs(response) if response is not None else None
        if p is not None:
            return YesNo(p, self._usage(state, started, purpose), "logprobs")
        answer = self.complete(messages, _Answer, max_reasks=1, purpose=purpose)
        usage = answer.usage.model_copy(
            update={
                "prompt_tokens": answer.usage.prompt_tokens + state.prompt_tokens,
                "completion_tokens": answer.usage.completion_tokens + state.completion_tokens,
                "attempts": answer.usage.attempts + state.attempts,
                "latency_s": round(time.perf_counter() - started, 4),
            }
        )
        p = 1.0 if answer.value.answer == "yes" else 0.0
        return YesNo(p, usage, "answer")

    def _usage(self, state: _CallState, started: float, purpose: str) -> CallUsage:
        return CallUsage(
            purpose=purpose,
            prompt_tokens=state.prompt_tokens,
            completion_tokens=state.completion_tokens,
            attempts=state.attempts,
            latency_s=round(time.perf_counter() - started, 4),
            usage_unknown=state.usage_unknown,
        )

    def _call(
        self,
        mode: Mode,
        messages: list[dict[str, str]],
        response_model: type[T],
        context: dict[str, Any],
        max_reasks: int,
        state: _CallState,
    ) -> T:
        attempt = {"n": 0, "base": 0, "seen": 0}

        def create(*args: Any, **kwargs: Any) -> Any:
            attempt["n"] += 1
            context["final_attempt"] = attempt["n"] > max_reasks
            context["rejected"] = []
            kwargs = _bounded(kwargs, attempt)
            response = self._create_with_retries(mode, state, kwargs)
            state.mode_succeeded = True
            return response

        patched = instructor.patch(create=create, mode=mode)
        token = validation_context.set(context)  # not instructor's context=: see factkit/_context.py
        try:
            result: T = patched(
                response_model=prepared_model(response_model),
                messages=[dict(m) for m in messages],
                model=self.model,
                max_retries=max_reasks,
                **self.sampling,
            )
            return result
        except instructor.core.exceptions.InstructorRetryException as exc:
            cause = exc.__cause__
            while cause is not None and not isinstance(cause, FactkitError | ModeRejected):
                cause = cause.__cause__
            if isinstance(cause, FactkitError | ModeRejected):
                raise cause from None
            failed = getattr(exc, "failed_attempts", None) or []
            last: BaseException = failed[-1].exception if failed else (exc.__cause__ or exc)
            raise OutputError(
                f"the model's output did not validate after {exc.n_attempts} attempt(s): {_why_invalid(last)}",
                last_output=state.last_text,
                attempts=exc.n_attempts,
            ) from None
        except instructor.core.exceptions.IncompleteOutputException:
            raise OutputError(
                "the model's output was cut off (finish_reason=length); raise FACTKIT_MAX_TOKENS (--max-tokens, "
                f"now {self.sampling.get('max_tokens') or 'the endpoint default'}) or shorten the input",
                last_output=state.last_text,
                attempts=attempt["n"],
            ) from None
        except (FactkitError, ModeRejected):
            raise
        finally:
            validation_context.reset(token)

    def _create_with_retries(self, mode: Mode, state: _CallState, kwargs: dict[str, Any]) -> Any:
        policy = self.retry

        def rejects_mode(exc: BaseException) -> bool:
            # A server that refuses this structured-output mode refuses it every time, whichever call saw it
            # first: never a transient fault, whatever its status (llama-cpp-python's server answers 500).
            return not state.mode_succeeded and _looks_like_mode_rejection(exc)

        def worth_retrying(exc: BaseException) -> bool:
            if isinstance(exc, openai.APITimeoutError) and self.busy_after_timeout(state):
                return False  # a one-slot server still works on it: a retry would only queue behind it
            return not rejects_mode(exc) and is_transient(exc)

        def wait(rs: RetryCallState) -> float:
            left = seconds_left()
            return policy.wait(rs) if left is None else min(policy.wait(rs), left)

        self._check_deadline(None)
        self.prepare()
        retrying = Retrying(
            stop=stop_any(stop_after_attempt(policy.retries + 1), _past_deadline()),
            wait=wait,
            retry=retry_if_exception(worth_retrying),
            sleep=policy.sleep,
            reraise=True,
            # one line per failed article at default verbosity: the retries themselves show with -v
            before_sleep=lambda rs: log.info(
                "transient error from %s (%s); retry %d of %d",
                self.endpoint or self.name,
                _describe(rs.outcome.exception() if rs.outcome else None),
                rs.attempt_number,
                policy.retries,
            ),
        )
        try:
            for attempt in retrying:
                with attempt:
                    state.attempts += 1
                    if not self.signals_sent:
                        request_sent()
                    state.sent_at = time.monotonic()
                    response = self._create(**kwargs)
        except openai.APIStatusError as exc:
            if rejects_mode(exc):
                raise ModeRejected(f"HTTP {exc.status_code}") from None
            self._check_deadline(exc)
            raise self._translate(exc, state) from None
        except Exception as exc:
            if isinstance(exc, FactkitError):
                if isinstance(exc, ModelTimeoutError):
                    self._check_deadline(exc)  # the article's deadline ended it: say so, not "raise FACTKIT_TIMEOUT"
                raise
            self._check_deadline(exc)
            raise self._translate(exc, state) from None
        usage = getattr(response, "usage", None)
        if usage is not None:
            counts = (getattr(usage, "prompt_tokens", 0) or 0, getattr(usage, "completion_tokens", 0) or 0)
            if all(isinstance(n, int) and 0 <= n <= MAX_TOKENS_PER_CALL for n in counts):
                state.prompt_tokens += counts[0]
                state.completion_tokens += counts[1]
            else:
                state.usage_unknown = True
                log.warning(
                    "%s reported impossible token counts (%s prompt, %s completion); counted as unknown",
                    self.endpoint or self.name,
                    str(counts[0])[:24],
                    str(counts[1])[:24],
                )
        if has_secrets():
            _redact_response(response)  # a hostile or broken server echoing the key: gone before parsing
        try:
            message = response.choices[0].message
            state.last_text = message.content or "".join(
                (tc.function.arguments or "") for tc in (message.tool_calls or [])
            )
        except (AttributeError, IndexError, TypeError):
            state.last_text = ""
        return response

    #: The request timeout in seconds (remote endpoints; for messages).
    timeout: float = 0.0

    def prepare(self) -> None:
        """Called before each request is sent (after the first, at no cost): a backend learns what it must know
        of its server while the server is idle (the OpenAI backend: how many requests a local server runs)."""

    def server_busy(self) -> bool:
        """Whether the server is still busy (does not answer a quick status request). Only an endpoint on this
        machine or the local network is asked; the base class asks nothing."""
        return False

    def busy_after_timeout(self, state: _CallState) -> bool:
        """After a request timed out: is the server still working on it? If so, wait (asking again and again, up
        to two more timeouts, within the article's deadline) to see when it is free, and keep that in ``state``
        for the error message."""
        if not self.server_busy():
            return False
        limit = 2 * self.timeout
        left = seconds_left()
        if left is not None:
            limit = min(limit, left)
        started = time.monotonic()
        while time.monotonic() - started < limit:
            if not self.server_busy():
                left = seconds_left()
                if left is not None and left <= 0:
                    break  # the article's deadline cut the last question short: not seen free
                state.busy_for = time.monotonic() - state.sent_at
                return True
        state.busy_for = math.inf
        return True

    def _translate(self, exc: BaseException, state: _CallState) -> FactkitError:
        where = self.endpoint or self.name
        what = _describe(exc)
        big = too_large(exc)
        if big is not None:
            return ModelError(f"{where} sent too much: {big}; raise the cap if that is right", provider=self.name)
        if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
            return ConfigError(f"{where} rejected the API key ({what}); set a valid FACTKIT_API_KEY or OPENAI_API_KEY")
        if isinstance(exc, openai.NotFoundError):
            return ConfigError(
                f"{where} does not know model {self.model!r} or the path ({what}); set FACTKIT_MODEL "
                "or --model to a model the server serves, and check FACTKIT_BASE_URL ends in /v1"
            )
        if isinstance(exc, openai.APITimeoutError) and state.busy_for is not None:
            took = (
                f"was free again {state.busy_for:.0f} s after the request was sent, so it needs "
                f"FACTKIT_TIMEOUT={math.ceil(state.busy_for * 1.25)} or more for such a request"
                if math.isfinite(state.busy_for)
                else f"was still busy {time.monotonic() - state.sent_at:.0f} s after the request was sent, so it "
                "needs a FACTKIT_TIMEOUT well above that"
            )
            return TransportError(
                f"{where} did not answer within FACTKIT_TIMEOUT={self.timeout:g} s and kept working on the request "
                "after factkit gave up (a server that runs one request at a time: a retry would only queue behind "
                f"it, so none was sent); it {took}. Raise FACTKIT_TIMEOUT (seconds per request) or use a faster "
                "model or server",
                provider=self.name,
                original=exc,
            )
        if isinstance(exc, openai.APITimeoutError):
            return TransportError(
                f"{where} did not answer in time ({_tries(state.attempts)}, {what}); raise FACTKIT_TIMEOUT "
                "(seconds per request) or check that the server is not overloaded",
                provider=self.name,
                original=exc,
            )
        if isinstance(exc, openai.APIConnectionError):
            hint = (
                f"could not reach {where} after {_tries(state.attempts)} ({what}); "
                "is the server running and FACTKIT_BASE_URL right?"
            )
            return TransportError(hint, provider=self.name, original=exc)
        if is_transient(exc):
            return TransportError(
                f"{where} kept failing after {_tries(state.attempts)} ({what}); try again later",
                provider=self.name,
                original=exc,
            )
        return ModelError(f"{where} failed: {what}", provider=self.name, original=exc)


def _redact_response(response: Any) -> None:
    """Redact API keys (and long fragments of them) from a completion's text, before anything parses, logs,
    caches or writes it."""
    for choice in getattr(response, "choices", None) or []:
        message = getattr(choice, "message", None)
        if message is None:
            continue
        if isinstance(getattr(message, "content", None), str):
            message.content = redact(message.content)
        for call in getattr(message, "tool_calls", None) or []:
            function = getattr(call, "function", None)
            if function is not None and isinstance(getattr(function, "arguments", None), str):
                function.arguments = redact(function.arguments)


def _describe(exc: BaseException | None) -> str:
    if exc is None:
        return "unknown error"
    status = getattr(exc, "status_code", None)
    text = str(exc).splitlines()[0] if str(exc) else ""
    label = f"HTTP {status}" if status else type(exc).__name__
    return redact(f"{label}: {_short(text, 160)}" if text else label)


def _tries(n: int) -> str:
    return "1 try" if n == 1 else f"{n} tries"


def _bounded(kwargs: dict[str, Any], attempt: dict[str, int]) -> dict[str, Any]:
    """Keep a re-ask's context bounded: the original messages plus only the latest bad output and its error.

    instructor appends every failed attempt to the conversation, so ten re-asks would resend nine stale
    answers; the first call's messages are ``attempt["base"]`` long, ``attempt["seen"]`` is the length of the
    conversation instructor sent last time, so what it added since is the latest re-ask.
    """
    messages = kwargs.get("messages")
    if not isinstance(messages, list):
        return kwargs
    if attempt["n"] == 1:
        attempt["base"] = attempt["seen"] = len(messages)
        return kwargs
    latest = messages[attempt["seen"] :]
    attempt["seen"] = len(messages)
    return {**kwargs, "messages": [*messages[: attempt["base"]], *latest]}


def _why_invalid(exc: BaseException) -> str:
    """The validation problems of one attempt, briefly: 'facts.0.s: Field required; ...'."""
    if isinstance(exc, ValidationError):
        parts = []
        for err in exc.errors()[:5]:
            where = ".".join(str(p) for p in err.get("loc", ())) or exc.title
            parts.append(f"{where}: {err.get('msg', '')}")
        more = f" (and {exc.error_count() - 5} more)" if exc.error_count() > 5 else ""
        return _short("; ".join(parts) + more)
    return _short(f"{type(exc).__name__}: {exc}")


def _short(text: str, limit: int = 600) -> str:
    text = redact(" ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def total(usages: Sequence[CallUsage]) -> Usage:
    return Usage(calls=list(usages))
