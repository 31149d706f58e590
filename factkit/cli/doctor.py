"""``factkit doctor``: what factkit sees on this machine, and one real generation in a child process.

Prints one line a check (``ok``, ``info`` or ``FAIL``); exits 0 when every check passes, 1 otherwise, the
failing lines saying what to do. Never prints a secret: an API key is reported as set or not set.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import stat
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from .._config import Settings, backend_forced, cache_root, resolve_settings
from .._errors import FactkitError, describe, redact

_FLAGS = ("avx2", "avx512f", "avx512_vnni", "amx_tile", "amx_int8", "asimd", "neon", "sve")


def add_parser(sub: Any) -> None:
    p = sub.add_parser("doctor", help="check the installation, the CPU and the model, and generate one token")
    p.add_argument("--no-generate", action="store_true", help="skip the one-token generation")
    p.set_defaults(func=run)


class Report:
    def __init__(self) -> None:
        self.failed: list[str] = []

    def line(self, status: str, what: str, text: str) -> None:
        print(f"{status:<5} {what:<14} {redact(text)}", flush=True)
        if status == "FAIL":
            self.failed.append(what)


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu() -> tuple[str, set[str]]:
    name, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and name in ("", platform.machine(), platform.processor()):
                name = value.strip()
            elif key.strip() in ("flags", "Features"):
                flags |= set(value.split())
    except OSError:
        pass
    return name, flags


def _why_backend(settings: Settings) -> str:
    if backend_forced():
        return "FACTKIT_BACKEND says so"
    if settings.backend == "local":
        return "no API key and no base URL are set"
    key = "an API key is set" if settings.api_key else "no API key"
    where = f"base URL {settings.base_url}" if settings.base_url else "no base URL (OpenAI)"
    return f"{key}, {where}"


def _mode(path: Path) -> str:
    return oct(stat.S_IMODE(path.stat().st_mode))


def run(args: argparse.Namespace) -> int:
    report = Report()
    report.line("ok", "python", f"{platform.python_version()} ({sys.executable})")
    report.line("ok", "factkit", _version("factkit"))
    for package in ("openai", "instructor", "pydantic", "llama-cpp-python"):
        report.line("info", package, _version(package))
    name, flags = _cpu()
    shown = " ".join(f for f in _FLAGS if f in flags) or "none of " + ", ".join(_FLAGS)
    report.line("info", "cpu", f"{platform.machine()}, {name}, {os.cpu_count()} cores; {shown}")
    try:
        settings = resolve_settings()
    except FactkitError as exc:
        report.line("FAIL", "settings", str(exc))
        return 1
    report.line("ok", "backend", f"{settings.describe()}: {_why_backend(settings)}")
    if settings.backend == "openai":
        report.line("info", "api key", "set" if settings.api_key else "not set")
    cache_ok = _check_cache(report, settings)
    if settings.backend == "local" and not cache_ok:
        report.line("FAIL", "local model", "not checked: the embedded model is assembled in the cache folder")
    elif settings.backend == "local":
        _check_local(report, settings, generate=not args.no_generate)
    elif not args.no_generate:
        _check_remote(report, settings)
    if report.failed:
        print(f"factkit doctor: {len(report.failed)} check(s) failed: {', '.join(report.failed)}", file=sys.stderr)
        return 1
    return 0


def _check_cache(report: Report, settings: Settings) -> bool:
    """Whether the cache folder is usable: a writable folder, or one factkit can create (tried for real, in the
    nearest folder that exists, and removed again)."""
    root = cache_root(settings)
    fix = "set FACTKIT_CACHE_DIR to a folder you can write"
    if root.exists() and not root.is_dir():
        report.line("FAIL", "cache", f"{root} is a file, not a folder; {fix}")
        return False
    if not root.exists():
        parent = root.parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if not parent.is_dir():
            report.line("FAIL", "cache", f"{root} can't be created: {parent} is a file, not a folder; {fix}")
            return False
        try:
            os.rmdir(tempfile.mkdtemp(prefix=".factkit-doctor-", dir=parent))
        except OSError as exc:
            report.line("FAIL", "cache", f"{root} can't be created in {parent} ({describe(exc)}); {fix}")
            return False
        report.line("ok", "cache", f"{root} (not created yet; factkit creates it, mode 0o700)")
        return True
    if not os.access(root, os.W_OK | os.X_OK):
        report.line("FAIL", "cache", f"{root} is not writable ({_mode(root)}); fix its permissions or {fix}")
        return False
    report.line("ok", "cache", f"{root} (mode {_mode(root)}, writable; cache {'on' if settings.cache else 'off'})")
    return True


def _model_sha256(path: Path, settings: Settings) -> tuple[str, bool]:
    """The file's sha256 and whether it was remembered: hashing 1.1 GB takes seconds, so the digest is kept in the
    cache folder by path, size and modification time (a changed file is hashed again)."""
    stat = path.stat()
    key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    store = cache_root(settings) / "doctor-hashes.json"
    try:
        known = json.loads(store.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    if isinstance(known, dict) and isinstance(known.get(key), str):
        return known[key], True
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(8 << 20):
            digest.update(chunk)
    sha = digest.hexdigest()
    with contextlib.suppress(OSError):
        store.parent.mkdir(parents=True, exist_ok=True)
        store.write_text(json.dumps({key: sha}), encoding="utf-8")
    return sha, False


def _check_local(report: Report, settings: Settings, *, generate: bool) -> None:
    from ..backends import local

    if not local._llama_installed():
        report.line("FAIL", "local model", f"llama-cpp-python is not installed; {local._INSTALL_HINT}")
        return
    try:
        path = local.model_path(settings)
    except FactkitError as exc:
        report.line("FAIL", "model file", str(exc))
        return
    with open(path, "rb") as handle:
        magic = handle.read(4)
    if magic != b"GGUF":
        report.line("FAIL", "model file", f"{path} is not a GGUF file (it starts with {magic!r}); point at a .gguf")
        return
    started = time.perf_counter()
    sha, remembered_hash = _model_sha256(path, settings)
    took = time.perf_counter() - started
    timing = "remembered by size and date" if remembered_hash else f"{took:.1f} s"
    if settings.local_model_path is None and sha != local.MODEL_SHA256:
        report.line("FAIL", "model file", f"{path}: sha256 {sha} is not the pinned {local.MODEL_SHA256}; reinstall")
        return
    pinned = "matches the pinned hash" if settings.local_model_path is None else "your FACTKIT_LOCAL_MODEL"
    report.line("ok", "model file", f"{path} ({path.stat().st_size:,} bytes), sha256 {sha[:12]}… {pinned} ({timing})")
    verdicts = local.KernelVerdicts(cache_root(settings) / "local-kernels.json")
    remembered = (
        " (this machine crashed with the fast kernels before)" if verdicts.safe_only(local.machine_key(path)) else ""
    )
    report.line("info", "kernels", f"FACTKIT_LOCAL_KERNELS={settings.local_kernels}{remembered}")
    if not generate:
        return
    try:
        started = time.perf_counter()
        backend = local.LocalBackend(settings)
        loaded = time.perf_counter() - started
        info = backend.process.loaded.get("info", {})
        report.line("info", "llama.cpp", str(info.get("system", "?")).replace("CPU : ", "").rstrip(" |"))
        chosen = "fast (repacked weights)" if info.get("extra_buffer_types") else "portable (no extra buffer types)"
        report.line("ok", "kernels used", f"{chosen}; {'; '.join(backend.process.loaded.get('notes', [])) or 'as set'}")
        started = time.perf_counter()
        answer = backend.call("chat", {"messages": [{"role": "user", "content": "Say OK."}], "max_tokens": 1})
        took = time.perf_counter() - started
        text = answer["choices"][0]["message"]["content"]
        report.line("ok", "generation", f"one token ({text!r}) in a child process: load {loaded:.1f} s, {took:.2f} s")
        backend.close()
    except FactkitError as exc:
        report.line("FAIL", "generation", str(exc))
    except Exception as exc:
        report.line("FAIL", "generation", describe(exc))


def _check_remote(report: Report, settings: Settings) -> None:
    from ..backends.openai_backend import OpenAIBackend

    try:
        backend = OpenAIBackend(settings)
        started = time.perf_counter()
        backend._create(model=settings.model, messages=[{"role": "user", "content": "Say OK."}], max_tokens=1)
        report.line(
            "ok",
            "generation",
            f"one token from {settings.base_url or 'OpenAI'} in {time.perf_counter() - started:.2f} s",
        )
    except Exception as exc:
        report.line("FAIL", "generation", f"{describe(exc)}; check FACTKIT_BASE_URL, FACTKIT_MODEL and the API key")
