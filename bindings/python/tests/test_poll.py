"""Poll tasks: re-polling on the manual clock, both error policies, the attempt timeout bounding
the whole wait, retries restarting it, minimal() as the default, and the misuses."""

from __future__ import annotations

import datetime
import enum
import threading
from typing import Any, List

import pytest
from conftest import drive

import cano
from cano import _callbacks


class Poll(enum.IntEnum):
    Wait = 0
    Done = 1


class Script:
    """A poll body driven by a script: 'p' = Pending(0.1), 'e' = raise, 'r' = ready, 'z' =
    Pending with no delay, 'f' = raise cano.Fatal. Records the clock at every call."""

    def __init__(self, engine: cano.Engine, script: str) -> None:
        self.engine = engine
        self.script = script
        self.start = engine.now_ms()
        self.calls: List[int] = []
        self.attempts: List[int] = []
        self.lock = threading.Lock()

    def __call__(self, ctx: cano.TaskContext) -> Any:
        with self.lock:
            n = len(self.calls)
            self.calls.append(self.engine.now_ms() - self.start)
            self.attempts.append(ctx.attempt)
        step = self.script[n] if n < len(self.script) else self.script[-1]
        if step == "p":
            return cano.Pending(0.1)
        if step == "z":
            return cano.Pending
        if step == "e":
            raise RuntimeError(f"flaky {n}")
        if step == "f":
            raise cano.Fatal(f"fatal {n}")
        return Poll.Done


def start(
    engine: cano.Engine, body: Any, **options: Any
) -> "tuple[cano.RunHandle, cano.Workflow]":
    workflow = cano.Workflow(Poll, exit_states=[Poll.Done])
    options.setdefault("mode", "inline")
    workflow.register_poll(Poll.Wait, body, **options)
    return drive(engine, workflow.start(engine, Poll.Wait)), workflow


@pytest.mark.parametrize("mode", ["inline", "worker", "async"])
def test_repolls_after_each_delay_until_ready(manual: cano.Engine, mode: str) -> None:
    script = Script(manual, "pppr")
    handle, _ = start(manual, script, mode=mode)
    assert handle.wait(5) is Poll.Done
    assert script.calls == [0, 100, 200, 300]
    assert script.attempts == [1, 1, 1, 1], "the whole wait is one attempt"


def test_delays_in_every_form(manual: cano.Engine) -> None:
    delays = [cano.Pending(datetime.timedelta(milliseconds=40)), cano.Pending.ms(250),
              cano.Pending(0), cano.Pending, cano.Pending(1)]
    calls: List[int] = []
    begin = manual.now_ms()

    def body(ctx: cano.TaskContext) -> Any:
        calls.append(manual.now_ms() - begin)
        return delays[len(calls) - 1] if len(calls) <= len(delays) else Poll.Done

    handle, _ = start(manual, body)
    assert handle.wait(5) is Poll.Done
    assert calls == [0, 40, 290, 290, 290, 1290]


def test_a_zero_delay_repolls_on_the_next_loop_turn(engine: cano.Engine) -> None:
    count = [0]

    def body(ctx: cano.TaskContext) -> Any:
        count[0] += 1
        return Poll.Done if count[0] == 50 else cano.Pending(0)

    workflow = cano.Workflow(Poll, exit_states=[Poll.Done])
    workflow.register_poll(Poll.Wait, body, mode="inline")
    assert workflow.run(engine, Poll.Wait) is Poll.Done
    assert count[0] == 50


def test_fail_fast_ends_at_the_first_error_with_one_attempt(manual: cano.Engine) -> None:
    script = Script(manual, "pper")
    handle, _ = start(manual, script)
    with pytest.raises(cano.TaskExecutionError) as caught:
        handle.wait(5)
    # minimal() by default: the raw error, not RetryExhausted.
    assert caught.value.message == "RuntimeError: flaky 2"
    assert caught.value.attempt == 1
    assert isinstance(caught.value.exception, RuntimeError)
    assert script.calls == [0, 100, 200]


def test_fail_fast_is_the_default_and_accepts_names(manual: cano.Engine) -> None:
    script = Script(manual, "er")
    handle, _ = start(manual, script, policy="fail_fast")
    with pytest.raises(cano.TaskExecutionError):
        handle.wait(5)
    assert len(script.calls) == 1


def test_retry_on_error_forgives_up_to_max_errors_in_a_row(manual: cano.Engine) -> None:
    # Two errors, a pending (resets the count), two errors, ready.
    script = Script(manual, "eepeer")
    handle, _ = start(manual, script, policy=cano.PollPolicy.RETRY_ON_ERROR, max_errors=2)
    assert handle.wait(5) is Poll.Done
    # Errors re-poll at once; only the pending waits.
    assert script.calls == [0, 0, 0, 100, 100, 100]

    script = Script(manual, "eeer")
    handle, _ = start(manual, script, policy="retry_on_error", max_errors=2)
    with pytest.raises(cano.TaskExecutionError, match="flaky 2"):
        handle.wait(5)
    assert len(script.calls) == 3, "the third error in a row is one too many"

    script = Script(manual, "er")
    handle, _ = start(manual, script, policy="RETRY_ON_ERROR")
    with pytest.raises(cano.TaskExecutionError, match="flaky 0"):
        handle.wait(5)
    assert len(script.calls) == 1, "max_errors defaults to 0: fails at the first error"


def test_the_attempt_timeout_bounds_the_whole_wait(manual: cano.Engine) -> None:
    script = Script(manual, "p")  # never ready
    handle, _ = start(manual, script, attempt_timeout=0.25, retry=cano.Retry.fixed(1, 0))
    with pytest.raises(cano.RetryExhaustedError) as caught:
        handle.wait(5)
    assert caught.value.message == (
        "Task failed after 2 attempt(s): Timeout error: task attempt exceeded attempt_timeout"
    )
    # Polls at 0, 100, 200 in each attempt; the retry restarts the wait at 250.
    assert script.calls == [0, 100, 200, 250, 350, 450]
    assert script.attempts == [1, 1, 1, 2, 2, 2]


def test_a_single_attempt_times_out_unwrapped(manual: cano.Engine) -> None:
    script = Script(manual, "p")
    handle, _ = start(manual, script, attempt_timeout=0.15)
    with pytest.raises(cano.CanoTimeoutError) as caught:
        handle.wait(5)
    assert caught.value.message == "task attempt exceeded attempt_timeout"
    assert script.calls == [0, 100]


def test_retry_default_means_one_attempt_for_a_poll_task(manual: cano.Engine) -> None:
    script = Script(manual, "er")
    handle, _ = start(manual, script, retry=cano.Retry.default())
    with pytest.raises(cano.TaskExecutionError):
        handle.wait(5)
    assert len(script.calls) == 1


def test_a_retrying_policy_restarts_the_wait(manual: cano.Engine) -> None:
    script = Script(manual, "pepepr")
    handle, _ = start(manual, script, retry=cano.Retry.fixed(2, 0.05))
    assert handle.wait(5) is Poll.Done
    assert script.attempts == [1, 1, 2, 2, 3, 3]
    assert script.calls == [0, 100, 150, 250, 300, 400]


def test_a_fatal_error_is_not_retried(manual: cano.Engine) -> None:
    script = Script(manual, "pfr")
    handle, _ = start(manual, script, retry=cano.Retry.fixed(3, 0))
    with pytest.raises(cano.TaskExecutionError) as caught:
        handle.wait(5)
    assert caught.value.message == "fatal 1"
    assert script.attempts == [1, 1]


def test_a_fatal_error_escapes_retry_on_error(manual: cano.Engine) -> None:
    script = Script(manual, "fr")
    handle, _ = start(manual, script, policy="retry_on_error", max_errors=3)
    with pytest.raises(cano.TaskExecutionError, match="fatal 0"):
        handle.wait(5)
    assert len(script.calls) == 1


def test_the_decorator_form(manual: cano.Engine) -> None:
    workflow = cano.Workflow(Poll, exit_states=[Poll.Done])
    calls: List[int] = []

    @workflow.poll(Poll.Wait, mode="inline", policy="retry_on_error", max_errors=1)
    def wait(ctx: cano.TaskContext) -> Any:
        calls.append(ctx.attempt)
        if len(calls) == 1:
            raise RuntimeError("once")
        return cano.Pending(0.01) if len(calls) < 4 else "Done"

    assert callable(wait)
    assert drive(manual, workflow.start(manual, Poll.Wait)).wait(5) is Poll.Done
    assert calls == [1, 1, 1, 1]


def test_an_async_poll_task_may_defer_its_answer(manual: cano.Engine) -> None:
    calls: List[int] = []

    def body(ctx: cano.TaskContext) -> Any:
        calls.append(manual.now_ms())
        if len(calls) < 3:
            return cano.Pending(0.05)
        ctx.defer().complete(Poll.Done)
        return None

    handle, _ = start(manual, body, mode="async")
    assert handle.wait(5) is Poll.Done
    assert [c - calls[0] for c in calls] == [0, 50, 100]


# --- misuse ------------------------------------------------------------------------------------


def plain(engine: cano.Engine, result: Any) -> cano.TaskExecutionError:
    workflow = cano.Workflow(Poll, exit_states=[Poll.Done])
    workflow.register(Poll.Wait, lambda ctx: result, mode="inline", retry=cano.Retry.none())
    with pytest.raises(cano.TaskExecutionError) as caught:
        workflow.run(engine, Poll.Wait)
    return caught.value


def test_pending_from_a_plain_task_fails_its_attempt(engine: cano.Engine) -> None:
    # The library's words, as in every binding.
    assert plain(engine, cano.Pending(0.1)).message == (
        "task returned CANO_POLL_AGAIN but is not registered as a poll task"
    )
    assert "not registered as a poll task" in plain(engine, cano.Pending).message


def test_a_poll_body_must_return_a_state_or_pending(engine: cano.Engine) -> None:
    def run(result: Any) -> str:
        workflow = cano.Workflow(Poll, exit_states=[Poll.Done])
        workflow.register_poll(Poll.Wait, lambda ctx: result, mode="inline")
        with pytest.raises(cano.TaskExecutionError) as caught:
            workflow.run(engine, Poll.Wait)
        return caught.value.message

    assert run(None) == (
        "poll task body returned None; return the next state or cano.Pending(delay)"
    )
    assert run(cano.PENDING) == (
        "task body returned cano.PENDING without ctx.defer(); return cano.Pending(delay) to be "
        "polled again"
    )
    assert "is not a state of Poll" in run(3.5)


def test_registration_checks_the_policy(engine: cano.Engine) -> None:
    workflow = cano.Workflow(Poll, exit_states=[Poll.Done])
    before = len(_callbacks.REGISTRY)
    body = Script(engine, "r")
    with pytest.raises(ValueError, match="unknown poll policy"):
        workflow.register_poll(Poll.Wait, body, policy="sometimes")
    with pytest.raises(ValueError, match="only applies to PollPolicy.RETRY_ON_ERROR"):
        workflow.register_poll(Poll.Wait, body, max_errors=2)
    with pytest.raises(ValueError, match="max_errors"):
        workflow.register_poll(Poll.Wait, body, policy="retry_on_error", max_errors=-1)
    with pytest.raises(TypeError, match="max_errors"):
        workflow.register_poll(Poll.Wait, body, policy="retry_on_error", max_errors="2")
    with pytest.raises(ValueError):
        workflow.register_poll(Poll.Wait, body, policy=7)
    with pytest.raises(cano.ConfigurationError):
        workflow.register_poll(9, body)
    assert len(_callbacks.REGISTRY) == before
    workflow.register_poll(Poll.Wait, body, mode="inline")
    assert len(_callbacks.REGISTRY) == before + 1
    workflow.close()
    assert len(_callbacks.REGISTRY) == before


def test_pending_values() -> None:
    assert cano.Pending(0.25).delay_ms == 250
    assert cano.Pending(0.25).delay == 0.25
    assert cano.Pending().delay_ms == 0
    assert cano.Pending.ms(7) == cano.Pending(0.007)
    assert hash(cano.Pending.ms(7)) == hash(cano.Pending(0.007))
    assert repr(cano.Pending.ms(1500)) == "cano.Pending(1.5)"
    with pytest.raises(ValueError):
        cano.Pending(-1)
    with pytest.raises(ValueError):
        cano.Pending.ms(-1)
    with pytest.raises(TypeError):
        cano.Pending("soon")  # type: ignore[arg-type]
    assert cano.PollPolicy.of(None) is cano.PollPolicy.FAIL_FAST
    assert cano.PollPolicy.of(1) is cano.PollPolicy.RETRY_ON_ERROR
