"""Cancel notices of async attempts (cano_task_options.cancel): the ``cancel=`` callable gets the
abandoned attempt's Completion, which turns ``cancelled``, whatever abandoned it (its attempt
timeout, a lost split branch, a cancelled run, shutdown); attempts that finish are never told."""

from __future__ import annotations

import enum
import logging
import threading
from typing import Any, List

import pytest
from conftest import drive, wait_for

import cano


class S(enum.IntEnum):
    Work = 0
    Join = 1
    Done = 2


class Notices:
    """A cancel callable that records what it was told, and where."""

    def __init__(self, engine: cano.Engine) -> None:
        self.engine = engine
        self.told: List[cano.Completion] = []
        self.on_loop: List[bool] = []
        self.lock = threading.Lock()

    def __call__(self, completion: cano.Completion) -> None:
        with self.lock:
            self.told.append(completion)
            self.on_loop.append(self.engine.on_loop_thread())
        assert completion.cancelled

    def count(self) -> int:
        with self.lock:
            return len(self.told)


class Pending:
    """An async body that defers, keeps its Completion and stays pending."""

    def __init__(self) -> None:
        self.completions: List[cano.Completion] = []
        self.lock = threading.Lock()

    def __call__(self, ctx: cano.TaskContext) -> None:
        completion = ctx.defer()
        with self.lock:
            self.completions.append(completion)

    def count(self) -> int:
        with self.lock:
            return len(self.completions)


def workflow() -> cano.Workflow:
    return cano.Workflow(S, exit_states=[S.Done])


def test_a_timed_out_attempt_is_told_with_its_own_completion(manual: cano.Engine) -> None:
    notices = Notices(manual)
    body = Pending()
    wf = workflow().register(
        S.Work,
        body,
        mode="async",
        retry=cano.Retry.fixed(1, 0),
        attempt_timeout=0.1,
        cancel=notices,
    )
    handle = wf.start(manual, S.Work)
    wait_for(lambda: manual.next_deadline_ms() == 100)
    manual.advance_ms(100)
    # Attempt 1 is told; attempt 2 starts and is still pending, so it is not.
    wait_for(lambda: notices.count() == 1 and body.count() == 2)
    first, second = body.completions
    assert notices.told == [first] and notices.told[0] is first
    assert notices.on_loop == [True]
    assert first.cancelled and not second.cancelled
    assert "cancelled" in repr(first)
    first.complete(S.Done)  # still accepted and ignored
    second.complete(S.Done)
    assert handle.wait(5) is S.Done
    manual.close()
    assert notices.count() == 1
    assert not second.cancelled


def test_a_losing_async_branch_is_told_and_the_winner_is_not(engine: cano.Engine) -> None:
    winner_notices = Notices(engine)
    loser_notices = Notices(engine)
    losers = Pending()
    winners: List[cano.Completion] = []

    def winner(ctx: cano.TaskContext) -> None:
        completion = ctx.defer()
        winners.append(completion)
        ctx.set_value("first")
        completion.complete()  # the split ends with this success (Join.any)

    wf = workflow().register_split(
        S.Work,
        [
            cano.Branch(winner, mode="async", cancel=winner_notices),
            cano.Branch(losers, mode="async", cancel=loser_notices),
            (losers, {"mode": "async", "cancel": loser_notices}),
        ],
        join=cano.Join.any(),
        join_state=S.Done,
    )
    assert wf.run(engine, S.Work) is S.Done
    wait_for(lambda: loser_notices.count() == 2)
    assert sorted(c.token for c in loser_notices.told) == sorted(
        c.token for c in losers.completions
    )
    assert all(c.cancelled for c in losers.completions)
    engine.close()  # nothing else is told, not even at shutdown
    assert winner_notices.count() == 0
    assert loser_notices.count() == 2
    assert not winners[0].cancelled


def test_the_split_builder_takes_cancel_too(engine: cano.Engine) -> None:
    notices = Notices(engine)
    wf = workflow()
    fan = wf.split(S.Work, join=cano.Join.any(), join_state=S.Done)
    body = Pending()
    fan.branch(mode="async", cancel=notices)(body)  # starts first and stays pending
    fan.add(lambda ctx: "quick", mode="inline")  # then wins at once
    assert wf.run(engine, S.Work) is S.Done
    engine.close()
    assert body.count() == 1
    assert notices.told == body.completions


def test_completed_attempts_are_never_told(engine: cano.Engine) -> None:
    notices = Notices(engine)
    later: List[cano.Completion] = []

    def in_body(ctx: cano.TaskContext) -> None:
        ctx.defer().complete(S.Join)

    def from_a_thread(ctx: cano.TaskContext) -> None:
        completion = ctx.defer()
        later.append(completion)
        threading.Timer(0.01, completion.complete, args=(S.Done,)).start()

    wf = workflow()
    wf.register(S.Work, in_body, mode="async", cancel=notices)
    wf.register(S.Join, from_a_thread, mode="async", cancel=notices)
    for _ in range(3):
        assert wf.run(engine, S.Work) is S.Done
    engine.close()
    assert notices.count() == 0
    assert [c.cancelled for c in later] == [False, False, False]


def test_a_body_that_fails_or_returns_a_state_is_never_told(engine: cano.Engine) -> None:
    notices = Notices(engine)
    calls: List[int] = []

    def body(ctx: cano.TaskContext) -> Any:
        calls.append(ctx.attempt)
        if ctx.attempt == 1:
            ctx.defer()
            raise RuntimeError("gave up before the work started")
        return S.Done  # synchronous completion

    wf = workflow().register(
        S.Work, body, mode="async", retry=cano.Retry.fixed(1, 0), cancel=notices
    )
    assert wf.run(engine, S.Work) is S.Done
    engine.close()
    assert calls == [1, 2]
    assert notices.count() == 0


def test_cancelling_a_run_tells_its_pending_attempt(engine: cano.Engine) -> None:
    notices = Notices(engine)
    body = Pending()
    wf = workflow().register(S.Work, body, mode="async", cancel=notices)
    handle = wf.start(engine, S.Work)
    wait_for(lambda: body.count() == 1)
    handle.cancel()
    with pytest.raises(cano.CancelledError):
        handle.wait(5)
    wait_for(lambda: notices.count() == 1)
    assert notices.told == body.completions
    assert notices.on_loop == [True]


def test_the_workflow_timeout_tells_the_pending_attempt(manual: cano.Engine) -> None:
    notices = Notices(manual)
    body = Pending()
    wf = workflow().register(S.Work, body, mode="async", cancel=notices).set_timeout(0.03)
    handle = drive(manual, wf.start(manual, S.Work))
    with pytest.raises(cano.WorkflowError, match="Workflow timeout exceeded"):
        handle.wait(5)
    wait_for(lambda: notices.count() == 1)
    assert body.completions[0].cancelled


def test_shutdown_tells_every_pending_attempt_before_it_returns() -> None:
    engine = cano.Engine(workers=2)
    notices = Notices(engine)
    body = Pending()
    wf = workflow().register(S.Work, body, mode="async", cancel=notices)
    handles = [wf.start(engine, S.Work) for _ in range(2)]
    wait_for(lambda: body.count() == 2)
    engine.close()
    assert notices.count() == 2
    assert all(c.cancelled for c in body.completions)
    for handle in handles:
        with pytest.raises(cano.ShutdownError):
            handle.wait(5)
    with pytest.raises(cano.ShutdownError):
        body.completions[0].complete(S.Done)


def test_a_completion_nobody_kept_is_told_through_a_fresh_one(manual: cano.Engine) -> None:
    notices = Notices(manual)
    tokens: List[int] = []

    def body(ctx: cano.TaskContext) -> None:
        tokens.append(ctx.defer().token)  # the Completion itself is dropped

    wf = workflow().register(
        S.Work, body, mode="async", attempt_timeout=0.05, retry=cano.Retry.none(), cancel=notices
    )
    handle = drive(manual, wf.start(manual, S.Work))
    with pytest.raises(cano.CanoTimeoutError):
        handle.wait(5)
    wait_for(lambda: notices.count() == 1)
    told = notices.told[0]
    assert told.token == tokens[0] and told.cancelled
    told.complete(S.Done)  # accepted and ignored, as any late completion


def test_without_a_cancel_callable_the_completion_still_turns_cancelled(
    manual: cano.Engine,
) -> None:
    body = Pending()
    wf = workflow().register(
        S.Work, body, mode="async", attempt_timeout=0.05, retry=cano.Retry.none()
    )
    handle = drive(manual, wf.start(manual, S.Work))
    with pytest.raises(cano.CanoTimeoutError):
        handle.wait(5)
    wait_for(lambda: body.completions[0].cancelled)


def test_a_task_class_cancel_method_is_used(manual: cano.Engine) -> None:
    told: List[cano.Completion] = []

    class Fetch(cano.Task):
        mode = "async"
        retry = cano.Retry.none()
        attempt_timeout = 0.05

        def run(self, ctx: cano.TaskContext) -> None:
            ctx.defer()

        def cancel(self, completion: cano.Completion) -> None:
            told.append(completion)

    wf = workflow().register(S.Work, Fetch)
    handle = drive(manual, wf.start(manual, S.Work))
    with pytest.raises(cano.CanoTimeoutError):
        handle.wait(5)
    wait_for(lambda: len(told) == 1)
    assert told[0].cancelled


def test_async_poll_and_stepped_tasks_take_cancel(manual: cano.Engine) -> None:
    notices = Notices(manual)
    wf = workflow()
    wf.register_poll(
        S.Work, Pending(), mode="async", attempt_timeout=0.05, retry=cano.Retry.fixed(1, 0),
        cancel=notices,
    )
    handle = drive(manual, wf.start(manual, S.Work))
    with pytest.raises(cano.RetryExhaustedError):
        handle.wait(5)
    wait_for(lambda: notices.count() == 2)
    wf = workflow()
    wf.register_stepped(S.Work, Pending(), mode="async", attempt_timeout=0.05, cancel=notices,
                        retry=cano.Retry.none())
    handle = drive(manual, wf.start(manual, S.Work))
    with pytest.raises(cano.CanoTimeoutError):
        handle.wait(5)
    wait_for(lambda: notices.count() == 3)


def test_an_exception_in_the_cancel_callable_is_logged(
    manual: cano.Engine, caplog: pytest.LogCaptureFixture
) -> None:
    body = Pending()

    def cancel(completion: cano.Completion) -> None:
        raise RuntimeError("cleanup failed")

    wf = workflow().register(
        S.Work, body, mode="async", attempt_timeout=0.05, retry=cano.Retry.none(), cancel=cancel
    )
    with caplog.at_level(logging.ERROR, logger="cano"):
        handle = drive(manual, wf.start(manual, S.Work))
        with pytest.raises(cano.CanoTimeoutError):
            handle.wait(5)
        wait_for(lambda: body.completions[0].cancelled)
        manual.close()
    assert any(
        "cancel callback" in r.getMessage() and "cleanup failed" in str(r.exc_info)
        for r in caplog.records
    )


def test_cancel_is_refused_where_it_would_never_be_called() -> None:
    wf = workflow()
    with pytest.raises(ValueError, match="state 'Work': cancel= is only for mode='async'"):
        wf.register(S.Work, lambda ctx: S.Done, mode="worker", cancel=print)
    with pytest.raises(ValueError, match="state 'Work': cancel= is only for mode='async'"):
        wf.register(S.Work, lambda ctx: S.Done, cancel=print)  # the default mode is worker
    with pytest.raises(TypeError, match="state 'Work': cancel must be callable"):
        wf.register(S.Work, lambda ctx: S.Done, mode="async", cancel=3)
    with pytest.raises(ValueError, match="branch 1 of state 'Work': cancel= is only for"):
        wf.register_split(
            S.Work,
            [lambda ctx: None, cano.Branch(lambda ctx: None, mode="inline", cancel=print)],
            join_state=S.Done,
        )
    with pytest.raises(TypeError, match="unknown branch option"):
        cano.Branch.of((lambda ctx: None, {"on_cancel": print}))
    with pytest.raises(cano.ConfigurationError, match="no registered state handlers"):
        wf.validate()  # nothing was registered
