"""A model that runs in a child process, so that a crash in its native code ends the child, never the caller.

llama.cpp is C++: a bad kernel for some CPU (the AMX kernels on some Sapphire Rapids machines) ends the process
with SIGSEGV, and Python cannot catch that. So the embedded model lives in a child process started with
``python -m factkit.backends._child`` (not ``multiprocessing``: a user's script without a main guard must work).
The parent sends requests over a pipe and reads the answers; when the child dies, the parent gets a
:class:`~factkit.ModelCrashError` that names the signal, shows the tail of the child's own trace
(``faulthandler``), and says what to do. The next request starts a new child.

The protocol is one JSON message each way per request, framed by :class:`multiprocessing.connection.Connection`
over two pipes the child inherits (its stdout and stderr go to a log file, so nothing native writes can mix
with the caller's output). The child dies with its parent (a thread watches the parent's pid). A runner is any
class ``Runner(config: dict)`` with ``handle(op: str, args: dict) -> JSON`` and a ``notes`` list; the embedded
model's is :class:`factkit.backends.local.LlamaRunner`.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from .._config import child_environment
from .._errors import ModelCrashError, ModelTimeoutError

log = logging.getLogger("factkit")

_PACKAGE_PARENT = str(Path(__file__).resolve().parent.parent.parent)
_TRACE_LINES = 12


def _signal_name(returncode: int | None) -> str:
    if returncode is None:
        return "no exit status"
    if returncode < 0:
        try:
            return signal.Signals(-returncode).name
        except ValueError:
            return f"signal {-returncode}"
    return f"exit code {returncode}"


class ModelProcess:
    """The parent's handle on one child process running ``runner`` with ``config``. Thread-safe."""

    def __init__(self, runner: str, config: dict[str, Any], *, what: str = "the embedded model", fix: str = "") -> None:
        self.runner = runner
        self.config = config
        self.what = what
        self.fix = fix
        self.loaded: dict[str, Any] = {}  # what the runner reported when it started
        self._proc: subprocess.Popen[bytes] | None = None
        self._send: Connection | None = None
        self._recv: Connection | None = None
        self._log: Any = None
        self._owner = os.getpid()
        self._lock = threading.Lock()
        self._killed_on_purpose = False  # set by kill_now(): the next call starts a new child without a crash error

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def call(self, op: str, args: dict[str, Any] | None = None, *, deadline: float | None = None) -> Any:
        """Run ``op`` in the child (started first if needed) and return its answer.

        A Python error in the runner comes back as the same builtin type (``ValueError``, ``RuntimeError``...);
        the child's death is a :class:`ModelCrashError`, after which the next call starts a new child. With
        ``deadline`` (seconds), a child that has not answered by then (stopped, wedged) is killed and the call is a
        :class:`ModelTimeoutError`; the next call starts a new child.
        """
        with self._lock:
            self._forget_if_forked()
            if self._killed_on_purpose and self._proc is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._proc.wait(timeout=5)  # SIGKILLed by kill_now(): gone in a moment
                self._stop()  # killed between calls: not a crash to report, just start anew
            self._killed_on_purpose = False
            if self._proc is None:
                self._start()
            return self._exchange(op, args or {}, doing=f"running {op!r}", deadline=deadline)

    def start(self) -> dict[str, Any]:
        """Start the child and load the runner, unless it runs already; what the runner reported."""
        with self._lock:
            self._forget_if_forked()
            if self._proc is None:
                self._start()
            return self.loaded

    def close(self) -> None:
        with self._lock:
            self._forget_if_forked()
            self._stop()

    def kill_now(self) -> None:
        """SIGKILL the child without waiting for the call in flight (which then ends as a crash): for Ctrl-C."""
        proc = self._proc
        if proc is not None and self._owner == os.getpid() and proc.poll() is None:
            self._killed_on_purpose = True
            with contextlib.suppress(OSError):
                proc.kill()

    def _forget_if_forked(self) -> None:
        """After ``fork()`` (a pre-loading web server, say) the child and its pipes are the parent's: start anew."""
        if self._proc is not None and self._owner != os.getpid():
            self._proc = self._send = self._recv = self._log = None

    # -- internals ------------------------------------------------------------------------------------------
    def _start(self) -> None:
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        self._log = tempfile.TemporaryFile(prefix="factkit-model-")  # noqa: SIM115  # the child's output, kept open
        env = child_environment(_PACKAGE_PARENT, PYTHONFAULTHANDLER="1")
        try:
            self._proc = subprocess.Popen(
                # -c, not -m: the caller's current folder must not come first on the child's path (a json.py
                # there would break it), and the child's path is factkit's own
                [sys.executable, "-c", _CHILD_MAIN, str(req_r), str(rep_w), self.runner, str(os.getpid())],
                pass_fds=(req_r, rep_w),
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=self._log,
                env=env,
                close_fds=True,
                start_new_session=True,  # a Ctrl-C in the terminal is the caller's to handle, not a crash
            )
        except BaseException:
            for fd in (req_w, rep_r):
                os.close(fd)
            self._log.close()
            self._log = None
            raise
        finally:
            os.close(req_r)
            os.close(rep_w)
        self._owner = os.getpid()
        self._send = Connection(req_w, readable=False)
        self._recv = Connection(rep_r, writable=False)
        self.loaded = {}
        try:
            self.loaded = self._exchange("load", self.config, doing="loading") or {}
        except BaseException:
            self._stop()
            raise
        for note in self.loaded.get("notes", []):
            log.info("factkit: %s", note)

    def _exchange(self, op: str, args: dict[str, Any], *, doing: str, deadline: float | None = None) -> Any:
        assert self._send is not None and self._recv is not None
        try:
            self._send.send_bytes(json.dumps({"op": op, "args": args}).encode())
            if deadline is not None and not self._recv.poll(deadline):
                self._kill()
                raise ModelTimeoutError(
                    f"{self.what} did not answer within {deadline:.3g} s while {doing} (stopped, or stuck); it was "
                    "killed and the next call starts it again. If this machine is only slow, raise FACTKIT_TIMEOUT "
                    "(the base of the embedded model's deadline, which grows with the prompt and max_tokens)",
                    provider="local",
                )
            reply = json.loads(self._recv.recv_bytes())
        except (EOFError, OSError) as exc:
            raise self._crashed(doing) from exc
        except ModelTimeoutError:
            raise
        except BaseException:  # interrupted (Ctrl-C) mid-call: its late answer must never be the next call's
            self._stop()
            raise
        if not reply.get("ok"):
            error_type = _BUILTIN_ERRORS.get(reply.get("type", ""), RuntimeError)
            raise error_type(reply.get("message", "the model process failed"))
        return reply.get("value")

    def _crashed(self, doing: str) -> ModelCrashError:
        proc = self._proc
        returncode: int | None = None
        if proc is not None:
            try:
                returncode = proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                returncode = proc.wait()
        trace = self._trace()
        self._stop()
        why = _signal_name(returncode)
        first = next((line for line in trace.splitlines() if "Fatal Python error" in line), "")
        if why == "SIGKILL":  # not the code's fault: the out-of-memory killer, or a user
            message = (
                f"{self.what} was killed while {doing} (SIGKILL: by the out-of-memory killer or a user); factkit and "
                "this process are unharmed and the next call starts it again. If memory is short (the model needs "
                "about 2.3 GB), close other programs, run fewer workers, or use a remote model (FACTKIT_BASE_URL)"
            )
            return ModelCrashError(message, provider="local", signal=why, trace=trace)
        message = (
            f"{self.what} crashed in native code while {doing} ({why}{'; ' + first.strip() if first else ''}); "
            f"factkit and this process are unharmed and the next call starts it again. {self.fix}".strip()
        )
        return ModelCrashError(message, provider="local", signal=why, trace=trace)

    def _trace(self) -> str:
        if self._log is None:
            return ""
        try:
            self._log.seek(0, os.SEEK_END)
            size = self._log.tell()
            self._log.seek(max(0, size - 16_000))
            tail = self._log.read().decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""
        return "\n".join(tail.splitlines()[-_TRACE_LINES * 4 :])

    def _kill(self) -> None:
        """End a child that does not answer at once (SIGKILL works on a stopped process too), and forget it."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(OSError):
                proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
        self._stop()

    def _stop(self) -> None:
        for conn in (self._send, self._recv):
            if conn is not None:
                with contextlib.suppress(OSError):
                    conn.close()
        self._send = self._recv = None
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._log is not None:
            with contextlib.suppress(OSError):
                self._log.close()
            self._log = None

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self._stop()


_CHILD_MAIN = "import sys; del sys.path[0]; from factkit.backends._child import main; sys.exit(main(sys.argv[1:]))"

_BUILTIN_ERRORS: dict[str, type[Exception]] = {
    e.__name__: e for e in (ValueError, RuntimeError, TypeError, KeyError, MemoryError, OSError, FileNotFoundError)
}


# -- the child ----------------------------------------------------------------------------------------------


#: The parent this process dies with (:func:`die_with_parent`); ``None`` in a process that has no such parent.
_WATCHED_PARENT: int | None = None


def exit_if_parent_gone() -> None:
    """Called as each model request is about to leave: a worker whose parent was killed sends nothing more (the
    watch thread would notice within its interval; this closes that window for requests)."""
    if _WATCHED_PARENT is not None and os.getppid() != _WATCHED_PARENT:
        os._exit(1)


def die_with_parent(parent: int | None = None, interval: float = 0.05) -> None:
    """End this process soon after its parent dies, even in the middle of native code.

    A thread watches the parent's pid (the child is re-parented when it dies); ``parent`` is the pid the parent
    gave, so a parent that died while this process was still starting is noticed at once. ``PR_SET_PDEATHSIG``
    is not used: it fires when the parent's *thread* that started the child ends, which in a pool is any time.
    """
    global _WATCHED_PARENT
    parent = os.getppid() if parent is None else parent
    if os.getppid() != parent:
        os._exit(1)
    _WATCHED_PARENT = parent

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(1)

    threading.Thread(target=watch, name="factkit-parent-watch", daemon=True).start()


def _load_runner(spec: str) -> Any:
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def serve(req_fd: int, rep_fd: int, runner_spec: str) -> int:
    recv = Connection(req_fd, writable=False)
    send = Connection(rep_fd, readable=False)
    runner: Any = None
    while True:
        try:
            message = json.loads(recv.recv_bytes())
        except EOFError:
            return 0  # the parent closed the pipe: its work is done, or it died
        op, args = message.get("op", ""), message.get("args") or {}
        started = time.perf_counter()
        try:
            if op == "load":
                runner = _load_runner(runner_spec)(args)
                value: Any = {
                    "notes": list(getattr(runner, "notes", [])),
                    "info": dict(getattr(runner, "info", {})),
                    "seconds": round(time.perf_counter() - started, 3),
                    "pid": os.getpid(),
                }
            elif runner is None:
                raise RuntimeError("the model process got a request before 'load'")
            else:
                value = runner.handle(op, args)
            data = json.dumps({"ok": True, "value": value}).encode()
        except Exception as exc:  # a Python error: report it, the process stays usable
            data = json.dumps({"ok": False, "type": type(exc).__name__, "message": str(exc)}).encode()
        send.send_bytes(data)


def main(argv: list[str]) -> int:
    die_with_parent(int(argv[3]) if len(argv) > 3 else None)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the caller's: it stops calling, or closes the pipe
    import faulthandler

    faulthandler.enable(all_threads=True)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    return serve(int(argv[0]), int(argv[1]), argv[2])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
