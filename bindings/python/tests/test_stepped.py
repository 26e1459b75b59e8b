"""Stepped and timer tasks: cursors carried from step to step, per-step retries (stepped) versus
whole-loop restarts (plain), waits on the manual clock (delay, until, a wait callable), the
timer's one-attempt default, the attempt timeout bounding the wait, and the failures."""

from __future__ import annotations

import datetime
import enum
import threading
from typing import Any, List, Optional, Tuple

import pytest
from conftest import drive, wait_for

import cano
from cano import _callbacks


class S(enum.IntEnum):
    Work = 0
    Done = 1


def start(engine: cano.Engine, register: str, body: Any, **options: Any) -> cano.RunHandle:
    """Registers ``body`` for S.Work with ``workflow.<register>`` and drives a run to its end."""
    workflow = cano.Workflow(S, exit_states=[S.Done])
    options.setdefault("mode", "inline")
    getattr(workflow, register)(S.Work, body, **options)
    handle = drive(engine, workflow.start(engine, S.Work))
    workflow.close()
    return handle


class Counter:
    """Counts 0..limit-1 in the cursor, failing once when it reaches ``fail_at``. Records
    "step N attempt A" per call (the C tests' log) and the clock of each call."""

    def __init__(self, engine: cano.Engine, limit: int, fail_at: int = -1) -> None:
        self.engine = engine
        self.begin = engine.now_ms()
        self.limit = limit
        self.fail_at = fail_at
        self.failed = False
        self.log: List[str] = []
        self.times: List[int] = []
        self.cursors: List[Any] = []
        self.lock = threading.Lock()

    def __call__(self, ctx: cano.TaskContext) -> Any:
        cursor = ctx.cursor
        n = 0 if cursor is None else cursor["n"]
        with self.lock:
            self.cursors.append(cursor)
            self.log.append(f"step {n} attempt {ctx.attempt}")
            self.times.append(self.engine.now_ms() - self.begin)
        if n == self.fail_at and not self.failed:
            self.failed = True
            raise cano.TaskExecutionError("step failed")
        if n + 1 >= self.limit:
            return S.Done
        return cano.More({"n": n + 1})


# --- stepped tasks ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["inline", "worker", "async"])
def test_carries_the_cursor_from_step_to_step(manual: cano.Engine, mode: str) -> None:
    counter = Counter(manual, 4)
    handle = start(manual, "register_stepped", counter, mode=mode)
    assert handle.wait(5) is S.Done
    assert counter.log == [f"step {n} attempt 1" for n in range(4)]
    assert counter.cursors == [None, {"n": 1}, {"n": 2}, {"n": 3}]
    assert counter.times == [0, 0, 0, 0], "steps follow each other at once"


def test_each_step_retries_with_the_same_input_cursor(manual: cano.Engine) -> None:
    counter = Counter(manual, 4, fail_at=2)
    handle = start(manual, "register_stepped", counter, retry=cano.Retry.fixed(1, 0.05))
    assert handle.wait(5) is S.Done
    assert counter.log == [
        "step 0 attempt 1",
        "step 1 attempt 1",
        "step 2 attempt 1",
        "step 2 attempt 2",
        "step 3 attempt 1",
    ]
    assert counter.times == [0, 0, 0, 50, 50]


def test_registered_plainly_the_whole_loop_is_one_attempt(manual: cano.Engine) -> None:
    counter = Counter(manual, 4, fail_at=2)
    handle = start(manual, "register", counter, retry=cano.Retry.fixed(1, 0.05))
    assert handle.wait(5) is S.Done
    assert counter.log == [
        "step 0 attempt 1",
        "step 1 attempt 1",
        "step 2 attempt 1",
        "step 0 attempt 2",
        "step 1 attempt 2",
        "step 2 attempt 2",
        "step 3 attempt 2",
    ], "a retry starts again without a cursor"
    assert counter.times == [0, 0, 0, 50, 50, 50, 50]


def test_plain_loop_in_a_worker_and_a_router(manual: cano.Engine) -> None:
    counter = Counter(manual, 3)
    assert start(manual, "register", counter, mode="worker").wait(5) is S.Done
    assert counter.cursors == [None, {"n": 1}, {"n": 2}]
    router = Counter(manual, 2)
    assert start(manual, "register_router", router).wait(5) is S.Done
    assert router.log == ["step 0 attempt 1", "step 1 attempt 1"]


def test_a_failed_step_fails_the_task_after_its_retries(manual: cano.Engine) -> None:
    calls: List[Tuple[Any, int]] = []
    broken = cano.TaskExecutionError("broken")

    def body(ctx: cano.TaskContext) -> Any:
        calls.append((ctx.cursor, ctx.attempt))
        if ctx.cursor is None:
            return cano.More("x")
        raise broken

    handle = start(manual, "register_stepped", body, retry=cano.Retry.fixed(2, 0))
    with pytest.raises(cano.RetryExhaustedError) as info:
        handle.wait(5)
    error = info.value
    assert error.message == "Task failed after 3 attempt(s): Task execution error: broken"
    assert error.state is S.Work
    assert isinstance(error.cause, cano.TaskExecutionError)
    assert error.cause.attempt == 3
    assert error.exception is broken
    assert calls == [(None, 1), ("x", 1), ("x", 2), ("x", 3)], "one step, then three attempts"


def test_stepped_default_policy_retries_each_step(manual: cano.Engine) -> None:
    calls: List[int] = []

    def body(ctx: cano.TaskContext) -> Any:
        calls.append(ctx.attempt)
        if ctx.cursor is None:
            return cano.More(1)
        raise RuntimeError("always")

    handle = start(manual, "register_stepped", body)  # Retry.default(): four attempts a step
    with pytest.raises(cano.RetryExhaustedError, match="after 4 attempt"):
        handle.wait(5)
    assert calls == [1, 1, 2, 3, 4]


def test_a_fatal_step_is_not_retried(manual: cano.Engine) -> None:
    calls: List[Any] = []

    def body(ctx: cano.TaskContext) -> Any:
        calls.append(ctx.cursor)
        if ctx.cursor is None:
            return cano.More([1, 2])
        raise cano.Fatal("corrupt page", code=cano.StoreError.default_code)

    handle = start(manual, "register_stepped", body, retry=cano.Retry.fixed(3, 0))
    with pytest.raises(cano.StoreError) as info:
        handle.wait(5)
    assert info.value.message == "corrupt page" and info.value.cause is None
    assert calls == [None, [1, 2]]


def test_cursors_are_json_values(manual: cano.Engine) -> None:
    cursors = [("a", 1), {"nested": {"list": [1.5, None, True]}}, "text ✓", 0, None]
    seen: List[Any] = []
    raw: List[Optional[bytes]] = []

    workflow = cano.Workflow(S, exit_states=[S.Done])

    @workflow.stepped(S.Work, mode="inline")
    def body(ctx: cano.TaskContext) -> Any:
        seen.append(ctx.cursor)
        raw.append(ctx.raw_cursor)
        if len(seen) <= len(cursors):
            return cano.More(cursors[len(seen) - 1])
        return S.Done

    assert drive(manual, workflow.start(manual, S.Work)).wait(5) is S.Done
    assert seen == [None, ["a", 1], {"nested": {"list": [1.5, None, True]}}, "text ✓", 0, None]
    assert raw[0] is None and raw[1] == b'["a",1]' and raw[-1] == b"null"
    assert raw[3] == '"text ✓"'.encode()


def test_raw_cursors(manual: cano.Engine) -> None:
    seen: List[Any] = []

    def body(ctx: cano.TaskContext) -> Any:
        seen.append(ctx.raw_cursor)
        if ctx.raw_cursor is None:
            return cano.More.raw(b"\x00\x01")
        if ctx.raw_cursor == b"\x00\x01":
            return cano.More.raw(b"")
        return S.Done

    assert start(manual, "register_stepped", body).wait(5) is S.Done
    assert seen == [None, b"\x00\x01", b""]

    def parses(ctx: cano.TaskContext) -> Any:
        if ctx.raw_cursor is None:
            return cano.More.raw(b"not json")
        return ctx.cursor  # raises

    handle = start(manual, "register_stepped", parses, retry=cano.Retry.none(), name="pages")
    with pytest.raises(cano.TaskExecutionError) as info:
        handle.wait(5)
    assert info.value.message.startswith("deserialize cursor for `pages`: ")


def test_a_cursor_json_cannot_carry_fails_the_attempt(manual: cano.Engine) -> None:
    calls: List[int] = []

    def body(ctx: cano.TaskContext) -> Any:
        calls.append(ctx.attempt)
        return cano.More({"when": datetime.date(2024, 1, 1)})

    handle = start(manual, "register_stepped", body, retry=cano.Retry.fixed(1, 0))
    with pytest.raises(cano.RetryExhaustedError) as info:
        handle.wait(5)
    assert info.value.cause.message.startswith("serialize cursor for `Work`: ")
    assert "date" in info.value.cause.message
    assert calls == [1, 2]
    handle = start(manual, "register_stepped", lambda ctx: cano.More(float("nan")),
                   retry=cano.Retry.none())
    with pytest.raises(cano.TaskExecutionError, match="serialize cursor for `Work`"):
        handle.wait(5)


def test_misuses_fail_the_attempt_with_a_clear_message(manual: cano.Engine) -> None:
    def failure(register: str, body: Any, **options: Any) -> str:
        handle = start(manual, register, body, retry=cano.Retry.none(), **options)
        with pytest.raises(cano.CanoError) as info:
            handle.wait(5)
        return info.value.message

    assert failure("register_stepped", lambda ctx: None) == (
        "stepped task body returned None; return the next state or cano.More(cursor)"
    )

    def deferred(ctx: cano.TaskContext) -> Any:
        ctx.defer()
        return cano.More(1)

    assert "after ctx.defer()" in failure("register_stepped", deferred, mode="async")

    workflow = cano.Workflow(S, exit_states=[S.Done])
    workflow.register_split(S.Work, [lambda ctx: cano.More(1)], join_state=S.Done)
    handle = drive(manual, workflow.start(manual, S.Work))
    with pytest.raises(cano.WorkflowError) as info:
        handle.wait(5)
    assert "a split branch cannot return cano.More" in str(info.value)


def test_many_synchronous_steps(manual: cano.Engine) -> None:
    def body(ctx: cano.TaskContext) -> Any:
        n = ctx.cursor or 0
        return S.Done if n + 1 >= 3000 else cano.More(n + 1)

    assert start(manual, "register_stepped", body).wait(10) is S.Done


def test_a_context_without_steps_has_no_cursor(engine: cano.Engine) -> None:
    seen: List[Any] = []

    def body(ctx: cano.TaskContext) -> Any:
        seen.append((ctx.cursor, ctx.raw_cursor))
        return S.Done

    workflow = cano.Workflow(S, exit_states=[S.Done])
    workflow.register(S.Work, body, mode="inline")
    assert workflow.run(engine, S.Work) is S.Done
    assert seen == [(None, None)]


def test_more_values() -> None:
    assert cano.More(1) == cano.More(1) and cano.More(1) != cano.More(2)
    assert cano.More([1, "a"]).data == b'[1,"a"]'
    assert cano.More.raw(b"\x00").data == b"\x00"
    assert cano.More.raw(b"1") != cano.More(1)
    assert hash(cano.More({"a": 1})) == hash(cano.More({"a": 1}))
    assert repr(cano.More({"a": 1})) == "cano.More({'a': 1})"
    assert repr(cano.More.raw(b"x")) == "cano.More.raw(b'x')"
    with pytest.raises(TypeError):
        cano.More.raw("text")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        cano.More(object()).data


def test_stepped_registration_errors(engine: cano.Engine) -> None:
    workflow = cano.Workflow(S, exit_states=[S.Done])
    before = len(_callbacks.REGISTRY)
    with pytest.raises(cano.ConfigurationError):
        workflow.register_stepped(7, lambda ctx: S.Done)
    with pytest.raises(TypeError):
        workflow.register_stepped(S.Work, 3)
    assert len(_callbacks.REGISTRY) == before
    workflow.register_stepped(S.Work, lambda ctx: S.Done)
    assert len(_callbacks.REGISTRY) == before + 1
    assert workflow.run(engine, S.Work) is S.Done
    with pytest.raises(cano.BadStateError):
        workflow.register_stepped(S.Work, lambda ctx: S.Done)
    workflow.close()
    # The ended run may hold the workflow a moment longer; the task goes with the workflow.
    wait_for(lambda: len(_callbacks.REGISTRY) == before)


# --- timer tasks --------------------------------------------------------------------------------


class After:
    """A timer body: records the clock when it runs; fails the attempts listed in ``fail``."""

    def __init__(self, engine: cano.Engine, fail: Tuple[int, ...] = ()) -> None:
        self.engine = engine
        self.fail = fail
        self.times: List[int] = []

    def __call__(self, ctx: cano.TaskContext) -> Any:
        self.times.append(self.engine.now_ms())
        if ctx.attempt in self.fail:
            raise cano.TaskExecutionError(f"attempt {ctx.attempt}")
        return S.Done


@pytest.mark.parametrize("mode", ["inline", "worker", "async"])
def test_timer_waits_its_delay_then_runs_the_body(manual: cano.Engine, mode: str) -> None:
    after = After(manual)
    assert start(manual, "register_timer", after, delay=0.25, mode=mode).wait(5) is S.Done
    assert after.times == [250]


def test_timer_delays_in_every_form(manual: cano.Engine) -> None:
    after = After(manual)
    start(manual, "register_timer", after, delay=datetime.timedelta(milliseconds=40)).wait(5)
    start(manual, "register_timer", after, delay=0).wait(5)
    assert after.times == [40, 40]


def test_timer_waits_until_a_clock_reading(manual: cano.Engine) -> None:
    after = After(manual)
    assert start(manual, "register_timer", after, until=0.4).wait(5) is S.Done
    assert after.times == [400]
    # A reading in the past waits no time.
    manual.advance_ms(600)
    assert start(manual, "register_timer", after, until=0.5).wait(5) is S.Done
    assert after.times == [400, 1000]


def test_the_wait_callable_decides_each_attempt(manual: cano.Engine) -> None:
    after = After(manual, fail=(1,))
    decided: List[Tuple[int, bool]] = []

    def wait(ctx: cano.TaskContext) -> Any:
        decided.append((ctx.attempt, manual.on_loop_thread()))
        return cano.WaitFor(0.1) if ctx.attempt == 1 else cano.WaitUntil(1.0)

    handle = start(
        manual, "register_timer", after, wait=wait, retry=cano.Retry.fixed(1, 0), mode="worker"
    )
    assert handle.wait(5) is S.Done
    assert after.times == [100, 1000]
    assert decided == [(1, True), (2, True)], "on the loop thread, once per attempt"


def test_wait_values_in_milliseconds(manual: cano.Engine) -> None:
    after = After(manual, fail=(1,))
    answers = iter([cano.WaitFor.ms(30), cano.WaitUntil.ms(70)])
    handle = start(manual, "register_timer", after, wait=lambda ctx: next(answers),
                   retry=cano.Retry.fixed(1, 0))
    assert handle.wait(5) is S.Done
    assert after.times == [30, 70]


def test_timer_defaults_to_one_attempt(manual: cano.Engine) -> None:
    for retry in (None, cano.Retry.default()):
        after = After(manual, fail=(1, 2, 3, 4))
        handle = start(manual, "register_timer", after, delay=0.01, retry=retry)
        with pytest.raises(cano.TaskExecutionError) as info:
            handle.wait(5)
        assert info.value.message == "attempt 1" and info.value.cause is None
        assert len(after.times) == 1


def test_timer_retries_wait_again(manual: cano.Engine) -> None:
    after = After(manual, fail=(1,))
    begin = manual.now_ms()
    handle = start(manual, "register_timer", after, delay=0.1, retry=cano.Retry.fixed(1, 0.05))
    assert handle.wait(5) is S.Done
    assert [t - begin for t in after.times] == [100, 250], "retry delay, then the full wait"


def test_the_attempt_timeout_bounds_the_wait(manual: cano.Engine) -> None:
    after = After(manual)
    handle = start(manual, "register_timer", after, delay=0.5, attempt_timeout=0.1)
    with pytest.raises(cano.CanoTimeoutError) as info:
        handle.wait(5)
    assert info.value.message == "task attempt exceeded attempt_timeout"
    assert info.value.cause is None, "one attempt: the raw error"
    assert after.times == []
    # With retries every attempt waits again and times out again.
    handle = start(manual, "register_timer", after, delay=0.5, attempt_timeout=0.1,
                   retry=cano.Retry.fixed(1, 0))
    with pytest.raises(cano.RetryExhaustedError, match="after 2 attempt"):
        handle.wait(5)
    assert after.times == []


def test_a_wait_callable_that_raises_fails_the_attempt(manual: cano.Engine) -> None:
    after = After(manual)
    problem = RuntimeError("no clock")

    def raising(ctx: cano.TaskContext) -> Any:
        raise problem

    handle = start(manual, "register_timer", after, wait=raising)
    with pytest.raises(cano.TaskExecutionError) as info:
        handle.wait(5)
    assert info.value.message == "RuntimeError: no clock"
    assert info.value.exception is problem
    assert info.value.state is S.Work

    def missing(ctx: cano.TaskContext) -> Any:
        raise cano.ResourceNotFoundError("no clock")

    handle = start(manual, "register_timer", after, wait=missing)
    with pytest.raises(cano.ResourceNotFoundError, match="no clock"):
        handle.wait(5)
    assert after.times == []


def test_a_wait_callable_failure_is_retried_unless_fatal(manual: cano.Engine) -> None:
    after = After(manual)
    calls: List[int] = []

    def flaky(ctx: cano.TaskContext) -> Any:
        calls.append(ctx.attempt)
        if ctx.attempt == 1:
            raise RuntimeError("not yet")
        return cano.WaitFor(0.02)

    handle = start(manual, "register_timer", after, wait=flaky, retry=cano.Retry.fixed(2, 0.01))
    assert handle.wait(5) is S.Done
    assert calls == [1, 2] and after.times == [30]

    def fatal(ctx: cano.TaskContext) -> Any:
        calls.append(ctx.attempt)
        raise cano.Fatal("gone", code=cano.StoreError.default_code)

    calls.clear()
    handle = start(manual, "register_timer", after, wait=fatal, retry=cano.Retry.fixed(2, 0))
    with pytest.raises(cano.StoreError, match="gone"):
        handle.wait(5)
    assert calls == [1]


@pytest.mark.parametrize(
    "answer, fragment",
    [
        (None, "timer wait callable returned None"),
        (5, "timer wait callable returned 5; return cano.WaitFor(seconds)"),
        (cano.Pending(1), "returned cano.Pending(1.0)"),
    ],
)
def test_a_wait_callable_must_answer_a_wait(
    manual: cano.Engine, answer: Any, fragment: str
) -> None:
    handle = start(manual, "register_timer", After(manual), wait=lambda ctx: answer)
    with pytest.raises(cano.TaskExecutionError) as info:
        handle.wait(5)
    assert fragment in info.value.message


def test_timer_decorator_and_task_objects(manual: cano.Engine) -> None:
    workflow = cano.Workflow(S, exit_states=[S.Done])
    ran: List[int] = []

    @workflow.timer(S.Work, delay=0.07, mode="inline")
    def body(ctx: cano.TaskContext) -> Any:
        ran.append(manual.now_ms())
        return S.Done

    assert drive(manual, workflow.start(manual, S.Work)).wait(5) is S.Done
    assert ran == [70]

    class Reminder(cano.Task):
        mode = "inline"

        def wait(self, ctx: cano.TaskContext) -> Any:
            return cano.WaitUntil(0.2)

        def run(self, ctx: cano.TaskContext) -> Any:
            ran.append(manual.now_ms())
            return S.Done

    assert start(manual, "register_timer", Reminder).wait(5) is S.Done
    assert ran == [70, 200]


def test_timer_registration_errors() -> None:
    workflow = cano.Workflow(S, exit_states=[S.Done])
    before = len(_callbacks.REGISTRY)
    body = lambda ctx: S.Done  # noqa: E731
    with pytest.raises(TypeError, match="exactly one of delay=, until= or wait="):
        workflow.register_timer(S.Work, body)
    with pytest.raises(TypeError, match="exactly one"):
        workflow.register_timer(S.Work, body, delay=1, until=2)
    with pytest.raises(TypeError, match="must be callable"):
        workflow.register_timer(S.Work, body, wait=3)
    with pytest.raises(ValueError):
        workflow.register_timer(S.Work, body, delay=-1)
    with pytest.raises(cano.ConfigurationError):
        workflow.register_timer(9, body, delay=1)
    assert len(_callbacks.REGISTRY) == before
    workflow.register_timer(S.Work, body, wait=lambda ctx: cano.WaitFor(0))
    assert len(_callbacks.REGISTRY) == before + 1
    workflow.close()
    assert len(_callbacks.REGISTRY) == before


def test_wait_values() -> None:
    assert cano.WaitFor(0.25).delay_ms == 250 and cano.WaitFor(0.25).delay == 0.25
    assert cano.WaitFor.ms(7) == cano.WaitFor(0.007)
    assert cano.WaitUntil(datetime.timedelta(seconds=2)).clock_ms == 2000
    assert cano.WaitUntil.ms(1500).clock == 1.5
    assert hash(cano.WaitUntil.ms(3)) == hash(cano.WaitUntil(0.003))
    assert cano.WaitFor.ms(3) != cano.WaitUntil.ms(3)
    assert repr(cano.WaitFor.ms(1500)) == "cano.WaitFor(1.5)"
    assert repr(cano.WaitUntil.ms(20)) == "cano.WaitUntil(0.02)"
    for bad in (
        lambda: cano.WaitFor(-1),
        lambda: cano.WaitUntil.ms(-1),
        lambda: cano.WaitFor.ms(2**64),
    ):
        with pytest.raises(ValueError):
            bad()
    with pytest.raises(TypeError):
        cano.WaitFor("soon")  # type: ignore[arg-type]
