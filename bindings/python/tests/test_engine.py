"""Engines: options, the clock, posting, starting and cancelling runs, shutting down."""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
import time
import weakref
from typing import Any, List

import pytest
from conftest import Step, wait_for

import cano


def blocking_workflow(started: threading.Event, release: threading.Event) -> cano.Workflow:
    workflow = cano.Workflow(Step, exit_states=[Step.Done])

    @workflow.task(Step.Fetch, mode="worker", retry=cano.Retry.none())
    def fetch(ctx: cano.TaskContext) -> Step:
        started.set()
        while not ctx.cancelled and not release.is_set():
            time.sleep(0.001)
        return Step.Done

    return workflow


def test_options_and_information() -> None:
    with cano.Engine(workers=3, spin_us=-1, seed=42) as engine:
        assert engine.workers == 3
        assert engine.clock is cano.ClockKind.REAL
        assert engine.runs_in_flight == 0
        assert engine.on_loop_thread() is False
        assert repr(engine) == "<cano.Engine workers=3 clock=real>"
    assert engine.closed
    assert repr(engine) == "<cano.Engine (closed)>"
    with cano.Engine() as engine:
        assert engine.workers >= 2  # 0 = one per CPU, at least 2
    with pytest.raises(ValueError, match="unknown clock"):
        cano.Engine(clock="sundial")


def test_the_real_clock_moves_and_cannot_be_advanced(engine: cano.Engine) -> None:
    first = engine.now_ms()
    time.sleep(0.02)
    assert engine.now_ms() >= first + 15
    assert engine.now() == pytest.approx(engine.now_ms() / 1000.0, abs=0.1)
    with pytest.raises(cano.BadStateError, match="CANO_CLOCK_MANUAL"):
        engine.advance_ms(1)


def test_the_manual_clock() -> None:
    with cano.Engine(clock="manual", clock_start_ms=1000) as engine:
        assert engine.clock is cano.ClockKind.MANUAL
        assert engine.now_ms() == 1000
        time.sleep(0.01)
        assert engine.now_ms() == 1000
        engine.advance_ms(250)
        assert engine.now_ms() == 1250
        engine.advance(0.5)
        assert engine.now() == 1.75
        assert engine.next_deadline_ms() is None
        assert engine.next_deadline() is None


def test_next_deadline_reports_a_pending_retry(manual: cano.Engine) -> None:
    workflow = cano.Workflow(Step, exit_states=[Step.Done])
    workflow.register(Step.Fetch, lambda ctx: 1 / 0, mode="inline", retry=cano.Retry.fixed(1, 0.3))
    handle = workflow.start(manual, Step.Fetch)
    assert wait_for(manual.next_deadline_ms) == 300
    assert manual.next_deadline() == 0.3
    manual.advance_ms(299)
    assert not handle.done() and manual.next_deadline_ms() == 300
    manual.advance_ms(1)
    with pytest.raises(cano.RetryExhaustedError):
        handle.wait(10)


def test_post_runs_on_the_loop_thread(engine: cano.Engine) -> None:
    seen: List[Any] = []
    done = threading.Event()
    engine.post(lambda: (seen.append(engine.on_loop_thread()), done.set()))
    assert done.wait(10)
    assert seen == [True]
    with pytest.raises(TypeError):
        engine.post(42)  # type: ignore[arg-type]


def test_exceptions_in_posted_functions_are_logged(
    engine: cano.Engine, caplog: pytest.LogCaptureFixture
) -> None:
    done = threading.Event()

    def broken() -> None:
        done.set()
        raise RuntimeError("posted and broken")

    with caplog.at_level(logging.ERROR, logger="cano"):
        engine.post(broken)
        done.wait(10)
        wait_for(lambda: caplog.records)
    assert "a function posted to an engine" in caplog.records[0].getMessage()
    assert "posted and broken" in caplog.text


def test_start_returns_a_handle_and_calls_back_on_the_loop(engine: cano.Engine) -> None:
    workflow = cano.Workflow(Step, exit_states=[Step.Done])
    workflow.register(Step.Fetch, lambda ctx: Step.Done, mode="inline")
    called: List[Any] = []
    handle = workflow.start(
        engine, Step.Fetch, lambda h: called.append((h, h.done(), engine.on_loop_thread()))
    )
    assert handle.wait(10) is Step.Done
    wait_for(lambda: called)
    assert called == [(handle, True, True)]
    assert handle.id > 0 and handle.final_state is Step.Done and handle.error is None
    assert handle.result() is Step.Done
    assert handle.future.result() is Step.Done
    assert repr(handle) == f"<cano.RunHandle id={handle.id} final_state=<Step.Done: 2>>"
    assert engine.start(workflow, Step.Fetch).wait(10) is Step.Done


def test_exceptions_in_run_callbacks_are_logged(
    engine: cano.Engine, caplog: pytest.LogCaptureFixture
) -> None:
    workflow = cano.Workflow(Step, exit_states=[Step.Done])
    workflow.register(Step.Fetch, lambda ctx: Step.Done, mode="inline")

    def callback(handle: cano.RunHandle) -> None:
        raise ValueError("callback broke")

    with caplog.at_level(logging.ERROR, logger="cano"):
        handle = workflow.start(engine, Step.Fetch, callback)
        assert handle.wait(10) is Step.Done
        wait_for(lambda: "callback broke" in caplog.text)
    assert f"the completion callback of run {handle.id}" in caplog.text


def test_await_a_run(engine: cano.Engine) -> None:
    workflow = cano.Workflow(Step, exit_states=[Step.Done])
    workflow.register(Step.Fetch, lambda ctx: Step.Done, mode="worker")

    async def main() -> Any:
        return await workflow.start(engine, Step.Fetch)

    assert asyncio.run(main()) is Step.Done


def test_wait_with_a_timeout(engine: cano.Engine) -> None:
    started, release = threading.Event(), threading.Event()
    handle = blocking_workflow(started, release).start(engine, Step.Fetch)
    with pytest.raises(TimeoutError, match=f"run {handle.id} did not finish"):
        handle.wait(0.05)
    assert "running" in repr(handle)
    assert engine.runs_in_flight == 1
    release.set()
    assert handle.wait(10) is Step.Done
    wait_for(lambda: engine.runs_in_flight == 0)


def test_cancel_a_run(engine: cano.Engine) -> None:
    started, release = threading.Event(), threading.Event()
    events: List[str] = []

    class Resource:
        def setup(self) -> None:
            events.append("setup")

        def teardown(self) -> None:
            events.append("teardown")

    workflow = blocking_workflow(started, release)
    workflow.resources.insert("r", Resource())
    handle = workflow.start(engine, Step.Fetch)
    assert started.wait(10)
    handle.cancel()
    with pytest.raises(cano.CancelledError) as caught:
        handle.wait(10)
    assert caught.value.message == f"run {handle.id} was cancelled"
    assert caught.value.state is Step.Fetch
    assert events == ["setup", "teardown"]  # released before the run reported
    assert "failed: CANCELLED" in repr(handle)
    with pytest.raises(cano.NotFoundError, match="is not in flight"):
        handle.cancel()
    with pytest.raises(cano.NotFoundError):
        engine.cancel(987654)


def test_a_body_cancelling_its_own_run_ends_it_at_the_next_transition(
    engine: cano.Engine,
) -> None:
    processed: List[Step] = []
    workflow = cano.Workflow(Step, exit_states=[Step.Done])

    @workflow.task(Step.Fetch, mode="inline", retry=cano.Retry.none())
    def fetch(ctx: cano.TaskContext) -> Step:
        ctx.engine.cancel(ctx.run_id)
        return Step.Process  # discarded: the run was cancelled

    @workflow.task(Step.Process, mode="inline")
    def process(ctx: cano.TaskContext) -> Step:
        processed.append(Step.Process)
        return Step.Done

    with pytest.raises(cano.CancelledError) as caught:
        workflow.run(engine, Step.Fetch)
    assert caught.value.state is Step.Fetch
    assert processed == []


def test_the_manual_clock_cannot_be_advanced_from_a_task_body(manual: cano.Engine) -> None:
    workflow = cano.Workflow(Step, exit_states=[Step.Done])
    workflow.register(
        Step.Fetch, lambda ctx: ctx.engine.advance_ms(10), mode="inline", retry=cano.Retry.none()
    )
    with pytest.raises(cano.WrongThreadError, match="loop thread"):
        workflow.run(manual, Step.Fetch)
    assert manual.now_ms() == 0


def test_a_blocking_run_on_the_loop_thread_is_refused(engine: cano.Engine) -> None:
    inner = cano.Workflow(Step, exit_states=[Step.Done])
    inner.register(Step.Fetch, lambda ctx: Step.Done, mode="inline")
    outer = cano.Workflow(Step, exit_states=[Step.Done])
    outer.register(
        Step.Fetch,
        lambda ctx: inner.run(ctx.engine, Step.Fetch),
        mode="inline",
        retry=cano.Retry.none(),
    )
    with pytest.raises(cano.WrongThreadError, match="loop thread"):
        outer.run(engine, Step.Fetch)
    # Starting a run from the loop thread is fine.
    nested: List[cano.RunHandle] = []
    starter = cano.Workflow(Step, exit_states=[Step.Done])
    starter.register(
        Step.Fetch,
        lambda ctx: nested.append(inner.start(ctx.engine, Step.Fetch)) or Step.Done,
        mode="inline",
    )
    assert starter.run(engine, Step.Fetch) is Step.Done
    assert nested[0].wait(10) is Step.Done


def test_an_engine_cannot_shut_itself_down(engine: cano.Engine) -> None:
    workflow = cano.Workflow(Step, exit_states=[Step.Done])
    workflow.register(
        Step.Fetch, lambda ctx: ctx.engine.shutdown(), mode="worker", retry=cano.Retry.none()
    )
    with pytest.raises(cano.WrongThreadError, match="own threads"):
        workflow.run(engine, Step.Fetch)


def test_shutdown_ends_runs_in_flight_with_shutdown_errors() -> None:
    engine = cano.Engine(workers=2)
    started, release = threading.Event(), threading.Event()
    workflow = blocking_workflow(started, release)
    called: List[cano.RunHandle] = []
    handle = workflow.start(engine, Step.Fetch, called.append)
    assert started.wait(10)
    engine.shutdown()
    # When shutdown returns, the callback has run.
    assert called == [handle]
    with pytest.raises(cano.ShutdownError, match="shut down while run"):
        handle.wait(0)
    engine.shutdown()  # idempotent
    with pytest.raises(cano.ShutdownError):
        workflow.start(engine, Step.Fetch)
    with pytest.raises(cano.ShutdownError):
        engine.post(lambda: None)
    engine.close()
    engine.close()  # idempotent
    for call in (
        lambda: engine.workers,
        lambda: engine.now_ms(),
        engine.shutdown,
        lambda: workflow.run(engine, Step.Fetch),
    ):
        with pytest.raises(cano.ShutdownError, match="closed"):
            call()


def test_an_engine_dropped_on_its_own_thread_is_closed_elsewhere() -> None:
    holder: List[Any] = [cano.Engine(workers=2)]
    ref = weakref.ref(holder[0])
    workflow = cano.Workflow(Step, exit_states=[Step.Done])
    workflow.register(Step.Fetch, lambda ctx: Step.Done, mode="inline")
    done = threading.Event()

    def callback(handle: cano.RunHandle) -> None:
        holder.clear()  # the handle, dropped on the loop thread, holds the last reference
        done.set()

    workflow.start(holder[0], Step.Fetch, callback)
    assert done.wait(10)
    wait_for(lambda: ref() is None)


def test_engines_are_garbage_collected_and_closed() -> None:
    engine = cano.Engine(workers=2)
    ref = weakref.ref(engine)
    del engine
    gc.collect()
    assert ref() is None
