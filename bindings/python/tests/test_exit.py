"""Interpreter exit with engines still open and runs in flight: no hang, no crash."""

from __future__ import annotations

import subprocess
import textwrap

from conftest import PYTHON, subprocess_env

SCRIPT = textwrap.dedent(
    """
    import enum, logging, sys, threading, time
    import cano

    logging.basicConfig(level=logging.WARNING, stream=sys.stdout, format="log %(message)s")
    cano.log.route_to_logging()

    class Step(enum.IntEnum):
        Work = 0
        Done = 1

    class Resource:
        def setup(self):
            print("setup", flush=True)

        def teardown(self):
            print("teardown", flush=True)

    store = cano.MemoryStore()
    store.put_object("kept", Resource())
    resources = cano.Resources().insert("r", Resource()).insert("store", store)
    engines = [cano.Engine(workers=2), cano.Engine(workers=2, clock="manual")]
    started = threading.Semaphore(0)
    completions = []

    def polling(ctx):
        started.release()
        while not ctx.cancelled:
            time.sleep(0.001)
        print("worker saw cancel", flush=True)
        return Step.Done

    def busy(ctx):
        started.release()
        deadline = time.monotonic() + 0.2
        while time.monotonic() < deadline:  # pure Python, never polls
            sum(range(1000))
        return Step.Done

    def pending(ctx):
        completions.append(ctx.defer())
        started.release()

    def retrying(ctx):
        started.release()
        raise RuntimeError("again")

    def done(handle):
        status = handle.error.status if handle.error else "OK"
        print(f"run {handle.id} ended: {status}", flush=True)

    for engine in engines:
        for body, mode, retry in ((polling, "worker", cano.Retry.none()),
                                  (busy, "worker", cano.Retry.none()),
                                  (pending, "async", cano.Retry.none()),
                                  (retrying, "inline", cano.Retry.fixed(5, 60.0))):
            workflow = cano.Workflow(Step, resources if engine is engines[0] else None,
                                     exit_states=[Step.Done])
            workflow.register(Step.Work, body, mode=mode, retry=retry)
            workflow.start(engine, Step.Work, done)

    for _ in range(8):
        assert started.acquire(timeout=10)

    def late_completer():
        while True:  # a daemon thread still completing while the interpreter exits
            for completion in completions:
                try:
                    completion.complete(Step.Done)
                except cano.CanoError:
                    pass
            time.sleep(0.001)

    threading.Thread(target=late_completer, daemon=True).start()
    print("exiting", flush=True)
    MODE
    """
)


def run_script(tail: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, "-c", SCRIPT.replace("MODE", tail)],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )


def check(result: subprocess.CompletedProcess, code: int) -> None:
    assert result.returncode == code, result.stdout + result.stderr
    out = result.stdout
    assert "exiting" in out
    assert "worker saw cancel" in out
    # Every run reported its end: SHUTDOWN, or OK for the busy body and the async attempts the
    # daemon thread completed before the engines shut down.
    assert out.count("ended: ") == 8, out
    assert out.count("ended: SHUTDOWN") >= 4, out
    assert out.count("setup") == 1 and out.count("teardown") == 1, out
    assert "Traceback" not in result.stderr, result.stderr
    assert "Fatal Python error" not in result.stderr, result.stderr


def test_falling_off_the_end_of_the_script() -> None:
    check(run_script("pass"), 0)


def test_sys_exit() -> None:
    check(run_script("sys.exit(3)"), 3)


def test_an_exception_at_top_level() -> None:
    result = run_script("raise SystemExit('bye')")
    check(result, 1)
    assert "bye" in result.stderr
