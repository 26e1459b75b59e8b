"""Tasks: modes, the context, exceptions, retries and timeouts, async completion."""

from __future__ import annotations

import datetime
import threading
import time
from typing import Any, List

import pytest
from conftest import Step, drive, wait_for

import cano
from cano import _capi as C


def one_state(task: Any, **options: Any) -> cano.Workflow:
    workflow = cano.Workflow(Step, exit_states=[Step.Done])
    workflow.register(Step.Fetch, task, **options)
    return workflow


# --- modes and the context ----------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["inline", "worker", "async"])
def test_the_context_describes_the_attempt(engine: cano.Engine, mode: str) -> None:
    seen: dict = {}

    def body(ctx: cano.TaskContext) -> Step:
        seen.update(
            state=ctx.state,
            attempt=ctx.attempt,
            run_id=ctx.run_id,
            cancelled=ctx.cancelled,
            engine=ctx.engine,
            mode=ctx.mode,
            token=ctx.token,
            on_loop=engine.on_loop_thread(),
            thread=threading.get_ident(),
            text=repr(ctx),
        )
        return Step.Done

    handle = one_state(body, mode=mode, retry=cano.Retry.none()).start(engine, Step.Fetch)
    assert handle.wait(10) is Step.Done
    assert seen["state"] is Step.Fetch
    assert seen["attempt"] == 1
    assert seen["run_id"] == handle.id > 0
    assert seen["cancelled"] is False
    assert seen["engine"] is engine
    assert seen["mode"] is cano.TaskMode[mode.upper()]
    assert (seen["token"] != 0) == (mode == "async")
    # inline and async bodies run on the loop thread, worker bodies elsewhere.
    assert seen["on_loop"] == (mode != "worker")
    assert seen["thread"] != threading.get_ident()
    assert seen["text"].startswith("<TaskContext state=<Step.Fetch: 0> attempt=1")


def test_the_context_is_dead_after_the_body(engine: cano.Engine) -> None:
    kept: List[cano.TaskContext] = []

    def body(ctx: cano.TaskContext) -> Step:
        kept.append(ctx)
        return Step.Done

    one_state(body, mode="inline").run(engine, Step.Fetch)
    with pytest.raises(cano.BadStateError, match="only valid while the task body runs"):
        _ = kept[0].attempt
    with pytest.raises(cano.BadStateError):
        _ = kept[0].resources
    assert repr(kept[0]) == "<TaskContext (finished)>"


def test_run_ids_are_unique(engine: cano.Engine) -> None:
    ids: List[int] = []
    workflow = one_state(lambda ctx: ids.append(ctx.run_id) or Step.Done, mode="inline")
    for _ in range(5):
        workflow.run(engine, Step.Fetch)
    assert len(set(ids)) == 5 and 0 not in ids


# --- exceptions -----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["inline", "worker", "async"])
def test_an_exception_becomes_a_task_execution_error(engine: cano.Engine, mode: str) -> None:
    class Boom(Exception):
        pass

    def body(ctx: cano.TaskContext) -> Step:
        raise Boom("it broke")

    with pytest.raises(cano.TaskExecutionError) as caught:
        one_state(body, mode=mode, retry=cano.Retry.none()).run(engine, Step.Fetch)
    error = caught.value
    assert error.message == "Boom: it broke"
    assert error.display == "Task execution error: Boom: it broke"
    assert (error.state, error.task, error.attempt) == (Step.Fetch, "Fetch", 1)
    assert isinstance(error.exception, Boom)
    assert error.__cause__ is error.exception
    assert error.exception.__traceback__ is not None


def test_base_exceptions_never_escape_a_body(engine: cano.Engine) -> None:
    def body(ctx: cano.TaskContext) -> Step:
        raise KeyboardInterrupt

    with pytest.raises(cano.TaskExecutionError, match="KeyboardInterrupt"):
        one_state(body, mode="inline", retry=cano.Retry.none()).run(engine, Step.Fetch)


def test_a_raised_cano_error_keeps_its_code_and_message(engine: cano.Engine) -> None:
    def body(ctx: cano.TaskContext) -> Step:
        raise cano.CanoTimeoutError("too slow")

    with pytest.raises(cano.CanoTimeoutError) as caught:
        one_state(body, mode="inline", retry=cano.Retry.none()).run(engine, Step.Fetch)
    assert caught.value.message == "too slow"
    assert caught.value.category == "timeout"
    # A store error inside a task propagates with the store's code, as in cano.
    workflow = one_state(
        lambda ctx: ctx.store.get("missing"), mode="inline", retry=cano.Retry.none()
    )
    workflow.resources.insert("store", cano.MemoryStore())
    with pytest.raises(cano.KeyNotFoundError) as caught2:
        workflow.run(engine, Step.Fetch)
    assert caught2.value.message == "Key not found: Key 'missing' not found in store"
    assert caught2.value.state is Step.Fetch


def test_exceptions_are_retried(manual: cano.Engine) -> None:
    attempts: List[int] = []

    def body(ctx: cano.TaskContext) -> Step:
        attempts.append(ctx.attempt)
        if ctx.attempt < 3:
            raise ValueError(f"attempt {ctx.attempt}")
        return Step.Done

    workflow = one_state(body, mode="inline", retry=cano.Retry.fixed(3, 0.05))
    handle = drive(manual, workflow.start(manual, Step.Fetch))
    assert handle.wait(1) is Step.Done
    assert attempts == [1, 2, 3]


# --- retries on the manual clock ----------------------------------------------------------------


def timed_failures(manual: cano.Engine, retry: cano.Retry, succeed_on: int = 0) -> Any:
    times: List[int] = []
    start = manual.now_ms()

    def body(ctx: cano.TaskContext) -> Step:
        times.append(manual.now_ms() - start)
        if ctx.attempt == succeed_on:
            return Step.Done
        raise RuntimeError(f"fail {ctx.attempt}")

    handle = drive(manual, one_state(body, mode="inline", retry=retry).start(manual, Step.Fetch))
    return handle, times


def test_fixed_retry_attempt_times(manual: cano.Engine) -> None:
    handle, times = timed_failures(manual, cano.Retry.fixed(3, 0.1), succeed_on=3)
    assert handle.wait(1) is Step.Done
    assert times == [0, 100, 200]


def test_fixed_retry_exhausted(manual: cano.Engine) -> None:
    handle, times = timed_failures(manual, cano.Retry.fixed(2, datetime.timedelta(seconds=0.25)))
    assert times == [0, 250, 500]
    with pytest.raises(cano.RetryExhaustedError) as caught:
        handle.wait(1)
    assert caught.value.message == (
        "Task failed after 3 attempt(s): Task execution error: RuntimeError: fail 3"
    )
    assert caught.value.cause.message == "RuntimeError: fail 3"
    assert caught.value.attempt == 3


def test_exponential_retry_attempt_times(manual: cano.Engine) -> None:
    retry = cano.Retry.exponential(4, base_delay=0.1, multiplier=3.0, max_delay=0.5, jitter=0.0)
    handle, times = timed_failures(manual, retry)
    # delays: 100, 300, min(900, 500), min(2700, 500)
    assert times == [0, 100, 400, 900, 1400]
    with pytest.raises(cano.RetryExhaustedError, match="after 5 attempt"):
        handle.wait(1)


def test_default_retry_makes_four_attempts(manual: cano.Engine) -> None:
    handle, times = timed_failures(manual, cano.Retry.default())
    assert len(times) == 4
    gaps = [b - a for a, b in zip(times, times[1:])]
    for gap, nominal in zip(gaps, (100, 200, 400)):
        assert nominal * 0.9 - 1 <= gap <= nominal * 1.1 + 1  # 10 % jitter
    with pytest.raises(cano.RetryExhaustedError, match="after 4 attempt"):
        handle.wait(1)


def test_a_single_attempt_returns_the_raw_error(manual: cano.Engine) -> None:
    handle, times = timed_failures(manual, cano.Retry.none())
    assert times == [0]
    with pytest.raises(cano.TaskExecutionError, match="RuntimeError: fail 1"):
        handle.wait(1)


def test_retry_policies_and_their_math() -> None:
    assert cano.Retry.none().kind is cano.RetryKind.NONE
    assert cano.Retry.none().max_attempts == 1
    assert cano.Retry.none().delay_ms_for_attempt(0) is None
    fixed = cano.Retry.fixed(3, 0.1)
    assert (fixed.kind, fixed.max_retries, fixed.delay_ms) == (cano.RetryKind.FIXED, 3, 100)
    assert fixed.max_attempts == 4
    assert [fixed.delay_ms_for_attempt(i) for i in range(4)] == [100, 100, 100, None]
    assert fixed.delay_for_attempt(1) == pytest.approx(0.1)
    exponential = cano.Retry.exponential(3)
    assert (
        exponential.delay_ms,
        exponential.multiplier,
        exponential.max_delay_ms,
        exponential.jitter,
    ) == (100, 2.0, 30000, 0.1)
    assert [exponential.delay_ms_for_attempt(i) for i in range(4)] == [100, 200, 400, None]
    assert exponential.delay_ms_for_attempt(0, 1.0) == 110
    assert exponential.delay_ms_for_attempt(0, -1.0) == 90
    capped = cano.Retry.exponential(5, 1, 10.0, 5, 0.0)
    assert [capped.delay_ms_for_attempt(i) for i in range(5)] == [1000, 5000, 5000, 5000, 5000]
    assert cano.Retry.default().max_attempts == 4
    assert cano.Retry.default().delay_ms_for_attempt(2) == 400
    assert cano.Retry.exponential(1, jitter=7.0).delay_ms_for_attempt(0, 1.0) == 200  # clamped
    with pytest.raises(ValueError):
        cano.Retry.fixed(-1, 0)
    with pytest.raises(TypeError):
        cano.Retry.fixed(1, "soon")  # type: ignore[arg-type]


# --- attempt timeouts ---------------------------------------------------------------------------


def test_a_worker_attempt_timeout_sets_the_cancelled_flag(manual: cano.Engine) -> None:
    observed: List[bool] = []
    started = threading.Event()

    def body(ctx: cano.TaskContext) -> Step:
        started.set()
        deadline = time.monotonic() + 10
        while not ctx.cancelled and time.monotonic() < deadline:
            time.sleep(0.001)
        observed.append(ctx.cancelled)
        return Step.Done  # discarded: the attempt was abandoned

    workflow = one_state(body, mode="worker", retry=cano.Retry.none(), attempt_timeout=0.2)
    handle = workflow.start(manual, Step.Fetch)
    started.wait(10)
    assert wait_for(manual.next_deadline_ms) == 200
    manual.advance_ms(200)
    with pytest.raises(cano.CanoTimeoutError) as caught:
        handle.wait(10)
    assert caught.value.message == "task attempt exceeded attempt_timeout"
    assert caught.value.attempt == 1
    wait_for(lambda: observed)
    assert observed == [True]


def test_async_attempt_timeouts_are_retried(manual: cano.Engine) -> None:
    completions: List[cano.Completion] = []

    def body(ctx: cano.TaskContext) -> None:
        completions.append(ctx.defer())

    workflow = one_state(body, mode="async", retry=cano.Retry.fixed(1, 0.05), attempt_timeout=0.1)
    start = manual.now_ms()
    handle = drive(manual, workflow.start(manual, Step.Fetch))
    assert manual.now_ms() - start == 250  # 100 timeout + 50 delay + 100 timeout
    with pytest.raises(cano.RetryExhaustedError) as caught:
        handle.wait(1)
    assert caught.value.cause.message == "task attempt exceeded attempt_timeout"
    assert len(completions) == 2
    # A late completion of a timed-out attempt is accepted and ignored...
    completions[0].complete(Step.Done)
    # ...but only once.
    with pytest.raises(cano.BadStateError):
        completions[0].complete(Step.Done)


# --- async completion ----------------------------------------------------------------------------


def test_async_completion_from_another_thread(engine: cano.Engine) -> None:
    threads: List[int] = []

    def body(ctx: cano.TaskContext) -> Any:
        completion = ctx.defer()
        assert ctx.defer() is completion

        def finish() -> None:
            threads.append(threading.get_ident())
            time.sleep(0.01)
            completion.complete(Step.Done)

        threading.Thread(target=finish).start()
        return cano.PENDING

    assert one_state(body, mode="async").run(engine, Step.Fetch) is Step.Done
    assert len(threads) == 1


def test_a_second_completion_is_a_bad_state_error(engine: cano.Engine) -> None:
    kept: List[cano.Completion] = []

    def body(ctx: cano.TaskContext) -> None:
        completion = ctx.defer()
        kept.append(completion)
        completion.complete(Step.Done)  # completing inside the body is allowed

    assert one_state(body, mode="async").run(engine, Step.Fetch) is Step.Done
    with pytest.raises(cano.BadStateError) as caught:
        kept[0].complete(Step.Done)
    assert "unknown or was already completed" in caught.value.message
    with pytest.raises(cano.BadStateError):
        kept[0].fail("again")
    assert repr(kept[0]) == f"<Completion token={kept[0].token}>"


def test_completion_failures(engine: cano.Engine) -> None:
    def fail_with(error: Any, **kwargs: Any) -> cano.CanoError:
        def body(ctx: cano.TaskContext) -> None:
            completion = ctx.defer()
            threading.Thread(target=lambda: completion.fail(error, **kwargs)).start()

        with pytest.raises(cano.CanoError) as caught:
            one_state(body, mode="async", retry=cano.Retry.none()).run(engine, Step.Fetch)
        return caught.value

    error = fail_with("remote said no")
    assert type(error) is cano.TaskExecutionError and error.message == "remote said no"
    error = fail_with("gone", code=C.CANO_E_STORE_KEY_NOT_FOUND)
    assert type(error) is cano.KeyNotFoundError and error.message == "gone"
    error = fail_with(OSError("disk"))
    assert type(error) is cano.TaskExecutionError and error.message == "OSError: disk"
    error = fail_with(cano.WorkflowError("custom"))
    assert type(error) is cano.WorkflowError and error.message == "custom"


def test_an_async_body_may_finish_synchronously(engine: cano.Engine) -> None:
    assert one_state(lambda ctx: Step.Done, mode="async").run(engine, Step.Fetch) is Step.Done


def test_returning_a_state_after_defer_fails_the_attempt(engine: cano.Engine) -> None:
    kept: List[cano.Completion] = []

    def body(ctx: cano.TaskContext) -> Step:
        kept.append(ctx.defer())
        return Step.Done

    with pytest.raises(cano.TaskExecutionError, match="after ctx.defer()"):
        one_state(body, mode="async", retry=cano.Retry.none()).run(engine, Step.Fetch)
    with pytest.raises(cano.BadStateError):
        kept[0].complete(Step.Done)


def test_an_exception_after_defer_fails_the_attempt(engine: cano.Engine) -> None:
    def body(ctx: cano.TaskContext) -> None:
        ctx.defer()
        raise LookupError("after defer")

    with pytest.raises(cano.TaskExecutionError, match="LookupError: after defer"):
        one_state(body, mode="async", retry=cano.Retry.none()).run(engine, Step.Fetch)


def test_defer_needs_async_mode(engine: cano.Engine) -> None:
    def body(ctx: cano.TaskContext) -> None:
        ctx.defer()

    # A CanoError raised in a body keeps its class: here the binding's own BadStateError.
    with pytest.raises(cano.BadStateError, match="mode='async'") as caught:
        one_state(body, mode="worker", retry=cano.Retry.none()).run(engine, Step.Fetch)
    assert caught.value.state is Step.Fetch and caught.value.attempt == 1


def test_completion_after_the_engine_closed_raises_shutdown() -> None:
    kept: List[cano.Completion] = []
    engine = cano.Engine(workers=2)
    workflow = one_state(lambda ctx: kept.append(ctx.defer()), mode="async")
    handle = workflow.start(engine, Step.Fetch)
    wait_for(lambda: kept)
    engine.shutdown()
    with pytest.raises(cano.ShutdownError):
        handle.wait(10)
    with pytest.raises(cano.ShutdownError):
        kept[0].complete(Step.Done)  # shut down, not yet freed: the library says so
    engine.close()
    with pytest.raises(cano.ShutdownError, match="closed"):
        kept[0].complete(Step.Done)  # freed: the binding refuses


def test_many_async_runs_completed_from_a_thread_pool(engine: cano.Engine) -> None:
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(4)

    def body(ctx: cano.TaskContext) -> None:
        completion = ctx.defer()
        pool.submit(completion.complete, Step.Done)

    workflow = one_state(body, mode="async")
    handles = [workflow.start(engine, Step.Fetch) for _ in range(200)]
    assert all(handle.wait(10) is Step.Done for handle in handles)
    pool.shutdown()


# --- fatal failures -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["inline", "worker", "async"])
def test_a_fatal_failure_ends_the_retries_unwrapped(engine: cano.Engine, mode: str) -> None:
    attempts: List[int] = []

    def body(ctx: cano.TaskContext) -> Step:
        attempts.append(ctx.attempt)
        raise cano.Fatal("panic: index out of range")

    workflow = one_state(body, mode=mode, retry=cano.Retry.fixed(5, 0))
    with pytest.raises(cano.TaskExecutionError) as caught:
        workflow.run(engine, Step.Fetch)
    error = caught.value
    assert not isinstance(error, cano.RetryExhaustedError)
    assert error.message == "panic: index out of range"
    assert (error.attempt, error.task, error.state) == (1, "Fetch", Step.Fetch)
    assert attempts == [1]
    assert isinstance(error.exception, cano.Fatal)


def test_fatal_wraps_an_exception_and_keeps_it(engine: cano.Engine) -> None:
    def wrapping(ctx: cano.TaskContext) -> Step:
        raise cano.Fatal(KeyError("gone"))

    def chained(ctx: cano.TaskContext) -> Step:
        try:
            {}["missing"]
        except KeyError as exc:
            raise cano.Fatal() from exc
        return Step.Done  # pragma: no cover

    for body, message in ((wrapping, "KeyError: 'gone'"), (chained, "KeyError: 'missing'")):
        with pytest.raises(cano.TaskExecutionError) as caught:
            one_state(body, mode="inline", retry=cano.Retry.fixed(3, 0)).run(engine, Step.Fetch)
        assert caught.value.message == message
        assert isinstance(caught.value.exception, KeyError)
        assert caught.value.__cause__ is caught.value.exception


def test_fatal_keeps_a_cano_errors_code_or_takes_one(engine: cano.Engine) -> None:
    def timeout(ctx: cano.TaskContext) -> Step:
        raise cano.Fatal(cano.CanoTimeoutError("too slow"))

    with pytest.raises(cano.CanoTimeoutError, match="too slow"):
        one_state(timeout, mode="inline", retry=cano.Retry.fixed(3, 0)).run(engine, Step.Fetch)

    def store(ctx: cano.TaskContext) -> Step:
        raise cano.Fatal("disk on fire", code=cano.StoreError.default_code)

    with pytest.raises(cano.StoreError) as caught:
        one_state(store, mode="inline", retry=cano.Retry.fixed(3, 0)).run(engine, Step.Fetch)
    assert caught.value.message == "disk on fire"
    assert repr(cano.Fatal("x")) == "cano.Fatal('x')"


def test_ordinary_failures_before_a_fatal_one_are_retried(manual: cano.Engine) -> None:
    attempts: List[int] = []

    def body(ctx: cano.TaskContext) -> Step:
        attempts.append(ctx.attempt)
        if ctx.attempt < 3:
            raise RuntimeError("transient")
        raise cano.Fatal("stop")

    workflow = one_state(body, mode="inline", retry=cano.Retry.fixed(9, 0.01))
    with pytest.raises(cano.TaskExecutionError) as caught:
        drive(manual, workflow.start(manual, Step.Fetch)).wait(5)
    assert caught.value.message == "stop"
    assert caught.value.attempt == 3
    assert attempts == [1, 2, 3]


def test_a_completion_cannot_fail_fatally(engine: cano.Engine) -> None:
    problems: List[BaseException] = []

    def body(ctx: cano.TaskContext) -> None:
        completion = ctx.defer()
        try:
            completion.fail(cano.Fatal("x"))
        except TypeError as exc:
            problems.append(exc)
        with pytest.raises(TypeError, match="needs the next state"):
            completion.complete()
        completion.complete(Step.Done)

    assert one_state(body, mode="async").run(engine, Step.Fetch) is Step.Done
    assert "cannot be fatal" in str(problems[0])
