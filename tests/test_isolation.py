"""A crash in the embedded model's native code ends its child process, never the caller's (issue: every CPU).

These tests crash a real child process with a real SIGSEGV (``factkit.testing.CrashingModel``): no llama.cpp,
no model file, so they run everywhere in a few seconds.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

import factkit
from factkit import ModelCrashError, resolve_settings
from factkit.backends._child import ModelProcess
from factkit.backends.local import LocalBackend
from factkit.batch import PERMANENT_ERRORS

pytestmark = pytest.mark.slow

RUNNER = "factkit.testing:CrashingModel"
ARTICLE = (
    "The city council of Springfield voted on Tuesday to build a new bridge over the river, Mayor Ann Lopez said. "
    "The bridge will cost 12 million dollars and open in 2021, the council said in a statement."
)


def _backend(tmp_path: Path, **config: Any) -> LocalBackend:
    settings = resolve_settings(backend="local", env={}, cache_dir=tmp_path / "cache")
    return LocalBackend(settings, runner=RUNNER, config=config)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0): read its state
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return True
    return state != "Z"


def test_a_segfault_in_the_model_is_an_error_and_the_next_call_works(tmp_path: Path) -> None:
    backend = _backend(tmp_path, crash_on="KABOOM")
    extractor = factkit.Extractor(backend=backend, cache=False)
    first_pid = backend.process.pid
    with pytest.raises(ModelCrashError) as err:
        extractor.extract(ARTICLE + " KABOOM.", published="2019-03-08")
    message = str(err.value)
    assert "SIGSEGV" in message and "crashed in native code" in message and "factkit doctor" in message
    assert err.value.signal == "SIGSEGV"
    assert "Segmentation fault" in err.value.trace  # the child's own fault trace, for the bug report
    assert isinstance(err.value, factkit.ModelError) and isinstance(err.value, factkit.FactkitError)
    assert first_pid is not None and not _alive(first_pid)
    # this process is alive (we are here), and the next article gets a new child
    result = extractor.extract(ARTICLE, published="2019-03-08")
    assert result.facts and backend.process.pid not in (None, first_pid)
    backend.close()


def test_a_batch_gets_one_error_record_per_crashed_article_and_loses_no_line(tmp_path: Path) -> None:
    backend = _backend(tmp_path, crash_on="KABOOM")
    extractor = factkit.Extractor(backend=backend, cache=False)
    items = [
        {"id": f"a{i}", "text": ARTICLE + (" KABOOM." if i in (1, 4) else f" Item {i}."), "published": "2019-03-08"}
        for i in range(6)
    ]
    out = tmp_path / "results.jsonl"
    records = extractor.extract_many(items, out=out)
    assert [r.id for r in records] == [f"a{i}" for i in range(6)]
    failed = {r.id: r.error.type for r in records if not r.ok and r.error is not None}
    assert failed == {"a1": "ModelCrashError", "a4": "ModelCrashError"}
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(line["id"] for line in lines) == [f"a{i}" for i in range(6)]  # each once: none lost, none twice
    assert {line["id"] for line in lines if not line["ok"]} == {"a1", "a4"}
    # a crash may come from the machine, not the article: a resume retries those records
    assert "ModelCrashError" not in PERMANENT_ERRORS
    backend.close()


def test_broken_fast_kernels_fall_back_to_the_portable_ones_and_the_verdict_is_kept(tmp_path: Path) -> None:
    backend = _backend(tmp_path, crash_unless_safe=True)
    assert backend.config["kernels"] == "auto"
    result = factkit.Extractor(backend=backend, cache=False).extract(ARTICLE, published="2019-03-08")
    assert result.facts  # the request that crashed was answered by the restarted child
    assert backend.config["kernels"] == "safe"
    verdicts = json.loads((tmp_path / "cache" / "local-kernels.json").read_text())
    assert verdicts[backend.machine] == "safe"
    backend.close()
    again = _backend(tmp_path, crash_unless_safe=True)  # a later process starts with the portable kernels at once
    assert again.config["kernels"] == "safe"
    again.close()


def test_a_crash_while_loading_falls_back_too(tmp_path: Path) -> None:
    backend = _backend(tmp_path, crash_at_load_unless_safe=True)
    assert backend.config["kernels"] == "safe" and backend.process.loaded["info"]["kernels"] == "safe"
    backend.close()


def test_without_the_fallback_a_crash_at_load_is_a_clear_error(tmp_path: Path) -> None:
    settings = resolve_settings(backend="local", env={"FACTKIT_LOCAL_KERNELS": "fast"}, cache_dir=tmp_path)
    with pytest.raises(ModelCrashError, match="while loading"):
        LocalBackend(settings, runner=RUNNER, config={"crash_at_load_unless_safe": True})


def test_a_python_error_in_the_child_keeps_its_type_and_the_child() -> None:
    proc = ModelProcess(RUNNER, {})
    proc.start()
    pid = proc.pid
    with pytest.raises(ValueError, match="unknown operation 'explode'"):
        proc.call("explode")
    messages = [{"role": "user", "content": "<article>\n[1] Ann Lopez spoke.\n</article> facts"}]
    answer = proc.call("chat", {"messages": messages})
    assert answer["choices"][0]["message"]["content"] and proc.pid == pid
    proc.close()


def test_the_child_dies_with_its_parent(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys, time
        from factkit import resolve_settings
        from factkit.backends.local import LocalBackend
        b = LocalBackend(resolve_settings(backend="local", env={{}}, cache_dir={str(tmp_path)!r}), runner={RUNNER!r})
        print(b.process.pid, flush=True)
        time.sleep(60)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    assert _alive(child)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child)


def test_an_interrupted_call_never_hands_its_answer_to_the_next_one() -> None:
    import threading

    proc = ModelProcess(RUNNER, {})
    proc.start()
    main_thread = threading.main_thread().ident
    assert main_thread is not None
    timer = threading.Timer(0.3, lambda: signal.pthread_kill(main_thread, signal.SIGINT))
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        proc.call("echo", {"value": 1, "sleep": 1.0})
    assert proc.call("echo", {"value": 2}) == 2
    proc.close()


def test_only_a_crash_of_the_code_falls_back_and_is_remembered(tmp_path: Path) -> None:
    backend = _backend(tmp_path)
    os.kill(backend.process.pid, signal.SIGKILL)  # the OOM killer, say: not the kernels' fault
    with pytest.raises(ModelCrashError, match="SIGKILL"):
        backend.call("echo", {"value": 1})
    assert backend.config["kernels"] == "auto" and not (tmp_path / "cache" / "local-kernels.json").exists()
    assert backend.call("echo", {"value": 3}) == 3
    backend.close()


def test_a_value_the_runner_cant_send_is_a_python_error_not_a_crash() -> None:
    proc = ModelProcess(RUNNER, {})
    with pytest.raises(TypeError, match="not JSON serializable"):
        proc.call("unserialisable")
    assert proc.call("echo", {"value": 4}) == 4
    proc.close()


def test_a_module_in_the_callers_folder_does_not_shadow_the_childs(tmp_path: Path) -> None:
    (tmp_path / "json.py").write_text("raise ImportError('the caller folder was on the path')\n")
    here = os.getcwd()
    os.chdir(tmp_path)
    try:
        proc = ModelProcess(RUNNER, {})
        assert proc.call("echo", {"value": 5}) == 5
        proc.close()
    finally:
        os.chdir(here)


def test_after_fork_the_child_starts_a_model_process_of_its_own() -> None:
    proc = ModelProcess(RUNNER, {})
    proc.start()
    parent_child = proc.pid
    pid = os.fork()
    if pid == 0:  # the forked process: must not talk through the parent's pipes
        try:
            ok = proc.call("echo", {"value": 6}) == 6 and proc.pid != parent_child
        except BaseException:
            ok = False
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert proc.pid == parent_child and proc.call("echo", {"value": 7}) == 7
    proc.close()


def test_a_child_whose_parent_died_while_it_started_exits_at_once() -> None:
    code = (
        "from factkit.backends._child import die_with_parent; import time; die_with_parent(2**22 + 1); time.sleep(30)"
    )
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", code], timeout=20, check=False)
    assert proc.returncode == 1 and time.monotonic() - started < 10


def test_a_stopped_child_is_killed_at_its_deadline_and_the_next_call_works(tmp_path: Path) -> None:
    settings = resolve_settings(backend="local", env={}, cache_dir=tmp_path / "cache", timeout=1.0)
    backend = LocalBackend(settings, runner=RUNNER, config={})
    pid = backend.process.pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)  # a wedged model: alive, never answering
    started = time.monotonic()
    with pytest.raises(factkit.ModelTimeoutError, match=r"did not answer within 1(\.\d+)? s"):
        backend.call("echo", {"value": 1})
    assert time.monotonic() - started < 10
    assert not _alive(pid)
    assert backend.call("echo", {"value": 2}) == 2  # a new child
    backend.close()


def test_the_deadline_grows_with_the_prompt_and_the_answer(tmp_path: Path) -> None:
    backend = _backend(tmp_path)
    short = backend.deadline("chat", {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 10})
    long = backend.deadline("chat", {"messages": [{"role": "user", "content": "x" * 40_000}], "max_tokens": 1024})
    assert 120 <= short < 125 and long > short + 1000 * 0.1 + 256
    backend.close()


def test_a_killed_child_is_reported_as_killed_with_advice_on_memory(tmp_path: Path) -> None:
    backend = _backend(tmp_path)
    assert backend.process.pid is not None
    os.kill(backend.process.pid, signal.SIGKILL)
    with pytest.raises(ModelCrashError) as err:
        backend.call("echo", {"value": 1})
    message = str(err.value)
    assert "was killed" in message and "memory" in message
    assert "native code" not in message and "KERNELS" not in message
    backend.close()


_INTERRUPTIBLE_CLI = f"""
import os, sys
from factkit.backends.local import LocalBackend
original = LocalBackend.__init__
def init(self, settings, *, runner=None, config=None):
    original(self, settings, runner={RUNNER!r}, config={{"slow_on": "SLOW", "slow_s": float(os.environ["SLOW_S"])}})
LocalBackend.__init__ = init
from factkit.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_ctrl_c_stops_a_batch_on_the_embedded_model_at_once_and_a_rerun_goes_on(tmp_path: Path) -> None:
    """Ctrl-C during a long article: the command stops within seconds (not when the article ends), says how to
    resume, leaves whole records; the same command then finishes. Started with SIGINT ignored, as a shell without
    job control starts a background command, it still listens."""
    inputs = tmp_path / "in.jsonl"
    texts = [ARTICLE, ARTICLE.replace("Springfield", "SLOW Shelbyville"), ARTICLE.replace("Ann", "Bea")]
    inputs.write_text("".join(json.dumps({"id": f"a{i}", "text": t}) + "\n" for i, t in enumerate(texts)))
    out = tmp_path / "out.jsonl"
    env = {**os.environ, "FACTKIT_VERIFY": "rules", "FACTKIT_CACHE_DIR": str(tmp_path / "cache"), "SLOW_S": "300"}
    for name in ("OPENAI_API_KEY", "FACTKIT_BASE_URL", "OPENAI_BASE_URL"):
        env.pop(name, None)
    command = [sys.executable, "-c", _INTERRUPTIBLE_CLI, "extract", str(inputs), "--out", str(out), "--no-progress"]
    proc = subprocess.Popen(
        command,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    deadline = time.monotonic() + 240
    while not (out.exists() and out.read_text().count("\n") >= 1):
        assert proc.poll() is None and time.monotonic() < deadline, "the first article never finished"
        time.sleep(0.1)
    time.sleep(1.0)  # the slow article is in flight now
    proc.send_signal(signal.SIGINT)
    try:
        _, stderr = proc.communicate(timeout=60)  # the slow article alone would take 300 s
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr and "run the same command again" in stderr and "Traceback" not in stderr
    lines = out.read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["a0"]
    rerun = subprocess.run(command, env={**env, "SLOW_S": "0"}, capture_output=True, text=True, timeout=240)
    assert rerun.returncode == 0, rerun.stderr
    assert sorted(json.loads(line)["id"] for line in out.read_text().splitlines()) == ["a0", "a1", "a2"]


def test_an_interrupt_between_calls_is_no_crash_for_the_next_call(tmp_path: Path) -> None:
    backend = _backend(tmp_path)
    first = backend.process.pid
    backend.interrupt()  # Ctrl-C lands while no call is in flight
    assert backend.call("echo", {"value": 5}) == 5  # a new child, no "was killed" error for an article
    assert backend.process.pid not in (None, first)
    backend.close()


def test_the_article_deadline_names_itself_when_it_ends_an_embedded_call(tmp_path: Path) -> None:
    settings = resolve_settings(backend="local", env={}, cache_dir=tmp_path / "cache", article_timeout=0.5)
    backend = LocalBackend(settings, runner=RUNNER, config={"slow_on": "SLOW", "slow_s": 30})
    extractor = factkit.Extractor(backend=backend, settings=settings, cache=False)
    started = time.monotonic()
    with pytest.raises(factkit.TransportError, match=r"FACTKIT_ARTICLE_TIMEOUT=0.5 s"):
        extractor.extract(ARTICLE + " SLOW.")
    assert time.monotonic() - started < 10
    backend.close()
