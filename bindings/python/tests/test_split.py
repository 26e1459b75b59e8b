"""Split states: every join strategy's success rule, early exits and cano's texts, the edge
cases, the split timeout, the bulkhead, validation, branch values and errors as the join task
sees them, cancelled branches, and ownership of the branch bodies."""

from __future__ import annotations

import enum
import gc
import json
import threading
import time
from typing import Any, Callable, List, Optional

import pytest
from conftest import drive, wait_for

import cano
from cano import _callbacks


class Fan(enum.IntEnum):
    Split = 0
    Join = 1
    Done = 2
    After = 3


NONE = cano.Retry.none()


def ok(value: Any = None) -> Callable[[cano.TaskContext], Any]:
    return lambda ctx: value


def fail(message: str = "boom") -> Callable[[cano.TaskContext], Any]:
    def body(ctx: cano.TaskContext) -> Any:
        raise cano.TaskExecutionError(message)

    return body


def inline(body: Any, **options: Any) -> cano.Branch:
    return cano.Branch(body, mode="inline", retry=NONE, **options)


def blocker(seen_cancel: Optional[List[str]] = None, value: Any = "late") -> cano.Branch:
    """A worker branch that runs until it is cancelled, then returns a (discarded) value.

    It records "start" and "cancel" in `seen_cancel`: the engine never starts a worker attempt
    that was abandoned while it waited for a free worker, so a test can only expect every
    blocker that started to see its cancellation.
    """

    def body(ctx: cano.TaskContext) -> Any:
        if seen_cancel is not None:
            seen_cancel.append("start")
        deadline = time.monotonic() + 30
        while not ctx.cancelled and time.monotonic() < deadline:
            time.sleep(0.0005)
        if seen_cancel is not None:
            seen_cancel.append("cancel")
        return value

    return cano.Branch(body, mode="worker", retry=NONE)


def all_started_were_cancelled(seen: List[str]) -> bool:
    return seen.count("cancel") == seen.count("start")


def never() -> cano.Branch:
    """An async branch that never completes."""

    def body(ctx: cano.TaskContext) -> Any:
        ctx.defer()
        return cano.PENDING

    return cano.Branch(body, mode="async", retry=NONE)


class Fixture:
    """A workflow Split -> Join -> Done whose join task records what it reads."""

    def __init__(self) -> None:
        self.workflow = cano.Workflow(Fan, exit_states=[Fan.Done])
        self.seen: List[Optional[cano.SplitResult]] = []

        @self.workflow.task(Fan.Join, mode="inline", retry=NONE)
        def join(ctx: cano.TaskContext) -> Fan:
            self.seen.append(ctx.split_result)
            return Fan.Done

    def split(self, branches: List[Any], join: cano.Join, **options: Any) -> "Fixture":
        self.workflow.register_split(
            Fan.Split, branches, join=join, join_state=Fan.Join, **options
        )
        return self

    def run(self, engine: cano.Engine) -> Any:
        return self.workflow.run(engine, Fan.Split)

    def result(self) -> cano.SplitResult:
        assert len(self.seen) == 1
        result = self.seen[0]
        assert result is not None
        return result

    def lines(self) -> List[str]:
        out = []
        for branch in self.result():
            line = branch.status.name
            if branch.value is not None:
                line += " " + branch.value.decode()
            if branch.error is not None:
                line += " " + branch.error.message
            out.append(line)
        return out


def join_error(fixture: Fixture, engine: cano.Engine) -> cano.WorkflowError:
    with pytest.raises(cano.WorkflowError) as caught:
        fixture.run(engine)
    assert fixture.seen == [], "the join task must not run when the join fails"
    return caught.value


# --- the strategies -----------------------------------------------------------------------------


def test_join_constructors_and_names() -> None:
    assert str(cano.Join.all()) == "All"
    assert str(cano.Join.any()) == "Any"
    assert str(cano.Join.quorum(2)) == "Quorum(2)"
    assert str(cano.Join.percentage(0.5)) == "Percentage(0.5)"
    assert str(cano.Join.percentage(1)) == "Percentage(1.0)"
    assert str(cano.Join.partial_results(3)) == "PartialResults(3)"
    assert str(cano.Join.partial_timeout()) == "PartialTimeout"
    assert cano.Join.quorum(2) == cano.Join(cano.JoinStrategy.QUORUM, 2)
    assert cano.Join() == cano.Join.all()
    with pytest.raises(ValueError):
        cano.Join.quorum(-1)
    with pytest.raises(TypeError):
        cano.Join.partial_results(1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        cano.Join.percentage("half")  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", ["inline", "worker", "async"])
def test_all_succeeds_and_the_join_task_reads_every_value(engine: cano.Engine, mode: str) -> None:
    def returning(value: Any) -> Callable[[cano.TaskContext], Any]:
        def body(ctx: cano.TaskContext) -> Any:
            if mode != "async":
                return value
            if value is not None:
                ctx.set_value(value)
            completion = ctx.defer()
            threading.Thread(target=completion.complete).start()
            return None

        return body

    values = [b"raw\x00bytes", "text é", {"n": [1, 2]}, None, 7, b""]
    f = Fixture().split(
        [cano.Branch(returning(v), mode=mode, retry=NONE) for v in values], cano.Join.all()
    )
    assert f.run(engine) is Fan.Done
    result = f.result()
    assert (len(result), result.count) == (6, 6)
    assert (result.succeeded, result.failed, result.cancelled) == (6, 0, 0)
    assert [b.status for b in result] == [cano.BranchStatus.SUCCEEDED] * 6
    assert [b.value for b in result] == [
        b"raw\x00bytes",
        "text é".encode(),
        b'{"n":[1,2]}',
        None,
        b"7",
        b"",
    ]
    assert result[1].text() == "text é"
    assert result[2].json() == {"n": [1, 2]}
    assert result[4].json() == 7
    assert result[5].text() == ""
    assert result[3].text() is None
    assert result[3].json(default="absent") == "absent"
    with pytest.raises(ValueError, match="left no value"):
        result[3].json()
    assert result.values() == [b.value for b in result]
    assert result.errors() == []
    assert all(b.succeeded and not b.failed and not b.cancelled for b in result)
    assert [b.index for b in result] == list(range(6))


def test_a_branch_may_return_a_state_which_is_ignored(engine: cano.Engine) -> None:
    f = Fixture().split([inline(lambda ctx: Fan.After), inline(ok([1]))], cano.Join.all())
    assert f.run(engine) is Fan.Done
    assert f.lines() == ["SUCCEEDED", "SUCCEEDED [1]"]


def test_all_waits_for_every_branch_and_lists_the_errors(engine: cano.Engine) -> None:
    f = Fixture().split(
        [inline(ok()), inline(fail("one")), cano.Branch(fail("two"), mode="worker", retry=NONE)],
        cano.Join.all(),
    )
    error = join_error(f, engine)
    assert error.message == (
        "Join condition not met: 1 of 3 tasks completed successfully, strategy: All; errors: "
        "task 1: Task execution error: one; task 2: Task execution error: two"
    )
    assert error.category == "workflow"
    assert error.state is Fan.Split
    assert error.state_name == "Split"


def test_the_error_summary_lists_three_then_counts_the_rest(engine: cano.Engine) -> None:
    f = Fixture().split([inline(fail(f"e{i}")) for i in range(5)], cano.Join.quorum(1))
    assert join_error(f, engine).message == (
        "Join condition not met: 0 of 5 tasks completed successfully, strategy: Quorum(1); "
        "errors: task 0: Task execution error: e0; task 1: Task execution error: e1; task 2: "
        "Task execution error: e2; ... and 2 more error(s)"
    )


def test_any_ends_at_the_first_success_and_cancels_the_rest(engine: cano.Engine) -> None:
    cancelled: List[str] = []
    f = Fixture().split(
        [blocker(cancelled), cano.Branch(ok("win"), mode="worker", retry=NONE), blocker(cancelled)],
        cano.Join.any(),
    )
    assert f.run(engine) is Fan.Done
    assert f.lines() == ["CANCELLED", "SUCCEEDED win", "CANCELLED"]
    result = f.result()
    assert (result.succeeded, result.failed, result.cancelled) == (1, 0, 2)
    assert result[0].cancelled and result[0].value is None and result[0].error is None
    # The losers saw ctx.cancelled; their late values were discarded.
    wait_for(lambda: all_started_were_cancelled(cancelled))


def test_any_fails_when_nothing_succeeds(engine: cano.Engine) -> None:
    f = Fixture().split([inline(fail("a")), inline(fail("b"))], cano.Join.any())
    assert join_error(f, engine).message == (
        "Join condition not met: 0 of 2 tasks completed successfully, strategy: Any; errors: "
        "task 0: Task execution error: a; task 1: Task execution error: b"
    )


def test_any_with_inline_branches_never_starts_the_later_result(engine: cano.Engine) -> None:
    # Inline branches finish as they start; the first success ends the split, and a branch
    # whose result was not collected yet counts as cancelled, as in cano.
    f = Fixture().split([inline(ok("a")), inline(fail("b"))], cano.Join.any())
    assert f.run(engine) is Fan.Done
    assert f.lines() == ["SUCCEEDED a", "CANCELLED"]


def test_quorum_waits_for_every_branch(engine: cano.Engine) -> None:
    f = Fixture().split(
        [inline(ok("1")), inline(fail("x")), cano.Branch(ok("3"), mode="worker", retry=NONE)],
        cano.Join.quorum(2),
    )
    assert f.run(engine) is Fan.Done
    assert f.lines() == ["SUCCEEDED 1", "FAILED x", "SUCCEEDED 3"]
    g = Fixture().split([inline(ok()), inline(fail("x")), inline(fail("y"))], cano.Join.quorum(2))
    assert join_error(g, engine).message.startswith(
        "Join condition not met: 1 of 3 tasks completed successfully, strategy: Quorum(2); "
        "errors: task 1: Task execution error: x; task 2:"
    )


def test_percentage_rounds_up(engine: cano.Engine) -> None:
    branches = [inline(ok()), inline(fail("x")), inline(ok())]
    assert Fixture().split(branches, cano.Join.percentage(0.66)).run(engine) is Fan.Done
    error = join_error(Fixture().split(branches, cano.Join.percentage(0.7)), engine)
    assert error.message == (
        "Join condition not met: 2 of 3 tasks completed successfully, strategy: Percentage(0.7); "
        "errors: task 1: Task execution error: x"
    )
    assert "Percentage(1.0)" in join_error(
        Fixture().split(branches, cano.Join.percentage(1.0)), engine
    ).message


def test_partial_results_exits_once_enough_succeeded(engine: cano.Engine) -> None:
    f = Fixture().split(
        [inline(fail("x")), inline(ok("1")), inline(ok("2")), inline(ok("3"))],
        cano.Join.partial_results(2),
    )
    assert f.run(engine) is Fan.Done
    assert f.lines() == ["FAILED x", "SUCCEEDED 1", "SUCCEEDED 2", "CANCELLED"]
    result = f.result()
    assert (result.succeeded, result.failed, result.cancelled) == (2, 1, 1)

    g = Fixture().split([inline(fail("x")), inline(ok())], cano.Join.partial_results(2))
    assert join_error(g, engine).message == (
        "Partial results condition not met: 1 completed successfully, 2 required; errors: task "
        "0: Task execution error: x"
    )


def test_partial_results_cancels_blocked_workers(engine: cano.Engine) -> None:
    cancelled: List[str] = []
    f = Fixture().split(
        [blocker(cancelled), inline(ok("a")), blocker(cancelled)], cano.Join.partial_results(1)
    )
    assert f.run(engine) is Fan.Done
    assert f.lines() == ["CANCELLED", "SUCCEEDED a", "CANCELLED"]
    wait_for(lambda: all_started_were_cancelled(cancelled))


def test_partial_results_zero_exits_after_the_first_completion(engine: cano.Engine) -> None:
    f = Fixture().split([blocker(), inline(fail("x"))], cano.Join.partial_results(0))
    assert f.run(engine) is Fan.Done
    assert f.lines() == ["CANCELLED", "FAILED x"]


def test_partial_timeout_succeeds_when_any_branch_completed(manual: cano.Engine) -> None:
    f = Fixture().split([inline(fail("bad")), never()], cano.Join.partial_timeout(), timeout=0.1)
    start = manual.now_ms()
    handle = drive(manual, f.workflow.start(manual, Fan.Split))
    assert handle.wait(5) is Fan.Done
    assert manual.now_ms() - start == 100
    assert f.lines() == ["FAILED bad", "CANCELLED"]

    g = Fixture().split([never()], cano.Join.partial_timeout(), timeout=0.1)
    handle = drive(manual, g.workflow.start(manual, Fan.Split))
    with pytest.raises(cano.WorkflowError) as caught:
        handle.wait(5)
    assert caught.value.message == "PartialTimeout: No tasks completed before timeout"


@pytest.mark.parametrize(
    "join",
    [cano.Join.all(), cano.Join.any(), cano.Join.quorum(1), cano.Join.partial_results(1)],
    ids=str,
)
def test_the_split_timeout_fails_every_other_strategy(manual: cano.Engine, join: Any) -> None:
    # One branch already failed, one never finishes: the timeout decides, even under Quorum.
    f = Fixture().split([inline(fail("x")), never()], join, timeout=0.25)
    start = manual.now_ms()
    handle = drive(manual, f.workflow.start(manual, Fan.Split))
    with pytest.raises(cano.WorkflowError) as caught:
        handle.wait(5)
    assert caught.value.message == "Split task timeout exceeded"
    assert caught.value.state is Fan.Split
    assert manual.now_ms() - start == 250
    assert f.seen == []


def test_the_split_timeout_fails_even_with_successes(manual: cano.Engine) -> None:
    f = Fixture().split([inline(ok("a")), never()], cano.Join.all(), timeout=0.05)
    handle = drive(manual, f.workflow.start(manual, Fan.Split))
    with pytest.raises(cano.WorkflowError, match="Split task timeout exceeded"):
        handle.wait(5)


# --- edge cases -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "join, succeeds",
    [
        (cano.Join.all(), True),
        (cano.Join.quorum(0), True),
        (cano.Join.percentage(0.5), True),
        (cano.Join.partial_results(0), True),
        (cano.Join.any(), False),
    ],
    ids=lambda v: str(v),
)
def test_zero_branches(engine: cano.Engine, join: cano.Join, succeeds: bool) -> None:
    f = Fixture().split([], join)
    if succeeds:
        assert f.run(engine) is Fan.Done
        result = f.result()
        assert (len(result), result.succeeded, result.failed, result.cancelled) == (0, 0, 0, 0)
    else:
        assert join_error(f, engine).message == (
            "Join condition not met: 0 of 0 tasks completed successfully, strategy: Any"
        )


def test_zero_branches_under_partial_timeout_fail(engine: cano.Engine) -> None:
    f = Fixture().split([], cano.Join.partial_timeout(), timeout=10)
    assert join_error(f, engine).message == "PartialTimeout: No tasks completed before timeout"


def test_quorum_zero_always_succeeds_and_too_large_always_fails(engine: cano.Engine) -> None:
    f = Fixture().split([inline(fail("x"))], cano.Join.quorum(0))
    assert f.run(engine) is Fan.Done
    assert f.lines() == ["FAILED x"]
    g = Fixture().split([inline(ok()), inline(ok())], cano.Join.quorum(3))
    assert join_error(g, engine).message == (
        "Join condition not met: 2 of 2 tasks completed successfully, strategy: Quorum(3)"
    )


# --- the bulkhead ---------------------------------------------------------------------------------


def test_the_bulkhead_caps_concurrent_branches_through_their_retries() -> None:
    lock = threading.Lock()
    state = {"running": 0, "peak": 0, "attempts": 0}

    def body(ctx: cano.TaskContext) -> Any:
        with lock:
            state["running"] += 1
            state["peak"] = max(state["peak"], state["running"])
        time.sleep(0.003)
        with lock:
            state["running"] -= 1
            state["attempts"] += 1
        if ctx.attempt == 1:  # the retry must keep the branch's slot
            raise RuntimeError("again")
        return ctx.attempt

    branches = [cano.Branch(body, mode="worker", retry=cano.Retry.fixed(1, 0.001))] * 6
    f = Fixture().split(branches, cano.Join.all(), bulkhead=2)
    with cano.Engine(workers=4) as engine:
        assert f.run(engine) is Fan.Done
    assert state["attempts"] == 12
    assert state["peak"] <= 2
    assert [b.json() for b in f.result()] == [2] * 6


def test_without_a_bulkhead_branches_run_at_once() -> None:
    barrier = threading.Barrier(3, timeout=10)

    def body(ctx: cano.TaskContext) -> Any:
        barrier.wait()  # only passes when all three run together
        return "met"

    f = Fixture().split([cano.Branch(body, mode="worker", retry=NONE)] * 3, cano.Join.all())
    with cano.Engine(workers=3) as engine:
        assert f.run(engine) is Fan.Done
    assert f.lines() == ["SUCCEEDED met"] * 3


def test_the_bulkhead_counts_against_the_split_timeout(manual: cano.Engine) -> None:
    # With one slot, the second branch waits behind the first, which never finishes.
    f = Fixture().split([never(), inline(ok())], cano.Join.partial_timeout(), timeout=0.1,
                        bulkhead=1)
    handle = drive(manual, f.workflow.start(manual, Fan.Split))
    with pytest.raises(cano.WorkflowError, match="PartialTimeout: No tasks completed"):
        handle.wait(5)


# --- validation -----------------------------------------------------------------------------------


def test_validation_uses_canos_texts(engine: cano.Engine) -> None:
    f = Fixture().split([inline(ok())], cano.Join.partial_timeout())
    with pytest.raises(cano.ConfigurationError) as caught:
        f.workflow.validate()
    assert caught.value.message == "PartialTimeout strategy requires a timeout to be configured"
    with pytest.raises(cano.ConfigurationError, match="requires a timeout"):
        f.run(engine)  # the run refuses to start as well

    for bad, shown in ((0.0, "0"), (1.5, "1.5"), (-1.0, "-1"), (2.0, "2"), (float("nan"), "NaN")):
        g = Fixture().split([inline(ok())], cano.Join.percentage(bad))
        with pytest.raises(cano.ConfigurationError) as caught:
            g.workflow.validate()
        assert caught.value.message == (
            f"Percentage strategy requires a finite value in (0.0, 1.0], got {shown}"
        )

    h = Fixture()
    h.workflow.register_split(Fan.Split, [inline(ok())], join_state=77)
    with pytest.raises(cano.ConfigurationError) as caught:
        h.workflow.validate()
    assert caught.value.message == "Split join_state 77 is neither registered nor an exit state"

    # An exit state is a valid join state.
    k = Fixture()
    k.workflow.register_split(Fan.Split, [inline(ok())], join_state=Fan.Done)
    k.workflow.validate()
    assert k.run(engine) is Fan.Done


def test_registration_checks_its_arguments() -> None:
    workflow = cano.Workflow(Fan, exit_states=[Fan.Done])
    bad: Any = None
    before = len(_callbacks.REGISTRY)
    with pytest.raises(ValueError, match="bulkhead must be at least 1"):
        workflow.register_split(Fan.Split, [ok()], join_state=Fan.Join, bulkhead=0)
    with pytest.raises(TypeError, match="bulkhead"):
        bad = 1.5
        workflow.register_split(Fan.Split, [ok()], join_state=Fan.Join, bulkhead=bad)
    with pytest.raises(TypeError, match="cano.Join"):
        bad = "all"
        workflow.register_split(Fan.Split, [ok()], join_state=Fan.Join, join=bad)
    with pytest.raises(TypeError, match="list of branch bodies"):
        workflow.register_split(Fan.Split, ok(), join_state=Fan.Join)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not callable"):
        workflow.register_split(Fan.Split, [ok(), 42], join_state=Fan.Join)
    with pytest.raises(TypeError, match="unknown branch option"):
        workflow.register_split(Fan.Split, [(ok(), {"moed": "inline"})], join_state=Fan.Join)
    with pytest.raises(TypeError, match="a branch tuple"):
        workflow.register_split(Fan.Split, [(ok(), "inline")], join_state=Fan.Join)
    with pytest.raises(ValueError, match="timeout"):
        workflow.register_split(Fan.Split, [ok()], join_state=Fan.Join, timeout=-1)
    with pytest.raises(ValueError, match="unknown task mode"):
        workflow.register_split(Fan.Split, [(ok(), {"mode": "eager"})], join_state=Fan.Join)
    with pytest.raises(cano.ConfigurationError):
        workflow.register_split(99, [ok(), ok()], join_state=Fan.Join)
    assert len(_callbacks.REGISTRY) == before, "every failed registration released its branches"
    workflow.close()


def test_branch_bodies_are_released_with_the_workflow(engine: cano.Engine) -> None:
    before = len(_callbacks.REGISTRY)
    workflow = cano.Workflow(Fan, exit_states=[Fan.Done])
    workflow.register_split(Fan.Split, [inline(ok()), inline(ok())], join_state=Fan.Done)
    assert len(_callbacks.REGISTRY) == before + 2
    # Replacing the split releases the previous branches.
    workflow.register_split(Fan.Split, [inline(ok())] * 3, join_state=Fan.Done)
    assert len(_callbacks.REGISTRY) == before + 3
    assert workflow.run(engine, Fan.Split) is Fan.Done
    workflow.close()
    gc.collect()
    assert len(_callbacks.REGISTRY) == before


def test_a_frozen_workflow_refuses_a_split(engine: cano.Engine) -> None:
    f = Fixture().split([inline(ok())], cano.Join.all())
    f.run(engine)
    with pytest.raises(cano.BadStateError):
        f.split([inline(ok())], cano.Join.any())


# --- branch errors, values and the context ------------------------------------------------------


def test_a_failed_branch_error_describes_the_branch(manual: cano.Engine) -> None:
    class Broken(Exception):
        pass

    def flaky(ctx: cano.TaskContext) -> Any:
        raise Broken(f"attempt {ctx.attempt}")

    f = Fixture().split(
        [
            cano.Branch(flaky, mode="inline", retry=cano.Retry.fixed(2, 0.01), name="flaky"),
            cano.Branch(flaky, mode="inline", retry=NONE),
            inline(ok()),
        ],
        cano.Join.quorum(1),
    )
    handle = drive(manual, f.workflow.start(manual, Fan.Split))
    assert handle.wait(5) is Fan.Done
    retried, single, _ = f.result()
    assert isinstance(retried.error, cano.RetryExhaustedError)
    assert retried.error.message == (
        "Task failed after 3 attempt(s): Task execution error: Broken: attempt 3"
    )
    assert (retried.error.task, retried.error.attempt) == ("flaky[0]", 3)  # cano's NAME[i]
    assert retried.error.state is Fan.Split
    assert isinstance(retried.error.cause, cano.TaskExecutionError)
    assert isinstance(retried.error.exception, Broken)
    assert str(retried.error.cause.__cause__) == "attempt 3"
    assert isinstance(single.error, cano.TaskExecutionError)
    assert single.error.message == "Broken: attempt 1"
    assert single.error.task == "Split[1]"  # cano's "{name}[{index}]", name defaulting to the state's
    assert isinstance(single.error.exception, Broken)
    assert single.error.__cause__ is single.error.exception
    assert f.result().errors() == [retried.error, single.error]


def test_a_fatal_branch_is_not_retried(engine: cano.Engine) -> None:
    attempts: List[int] = []

    def body(ctx: cano.TaskContext) -> Any:
        attempts.append(ctx.attempt)
        raise cano.Fatal(KeyError("gone"))

    # The worker branch is alone in its split, so it always starts (an abandoned worker attempt
    # that no worker took yet would never start).
    join_error(
        Fixture().split([cano.Branch(body, mode="worker", retry=cano.Retry.fixed(5, 0))],
                        cano.Join.all()),
        engine,
    )
    assert attempts == [1]
    error = join_error(
        Fixture().split([cano.Branch(body, mode="inline", retry=cano.Retry.fixed(5, 0))],
                        cano.Join.all()),
        engine,
    )
    assert error.message == (
        "Join condition not met: 0 of 1 tasks completed successfully, strategy: All; errors: "
        "task 0: Task execution error: KeyError: 'gone'"
    )
    assert attempts == [1, 1]


def test_an_unencodable_value_fails_the_branch(engine: cano.Engine) -> None:
    f = Fixture().split([inline(ok(object()))], cano.Join.quorum(0))
    assert f.run(engine) is Fan.Done
    (branch,) = f.result()
    assert branch.failed
    assert "neither None, bytes, str nor JSON" in branch.error.message


def test_set_value_is_replaced_by_a_returned_value(engine: cano.Engine) -> None:
    def set_only(ctx: cano.TaskContext) -> Any:
        ctx.set_value("first")
        ctx.set_value(["second"])
        return None

    def set_then_return(ctx: cano.TaskContext) -> Any:
        ctx.set_value("first")
        return "returned"

    f = Fixture().split([inline(set_only), inline(set_then_return)], cano.Join.all())
    assert f.run(engine) is Fan.Done
    assert f.lines() == ['SUCCEEDED ["second"]', "SUCCEEDED returned"]


def test_set_value_outside_a_branch_and_without_a_value(engine: cano.Engine) -> None:
    raised: List[BaseException] = []

    def branch(ctx: cano.TaskContext) -> Any:
        try:
            ctx.set_value(None)
        except TypeError as exc:
            raised.append(exc)
        return None

    workflow = cano.Workflow(Fan, exit_states=[Fan.Done])

    @workflow.task(Fan.Join, mode="inline", retry=NONE)
    def join(ctx: cano.TaskContext) -> Fan:
        try:
            ctx.set_value("x")
        except cano.BadStateError as exc:
            raised.append(exc)
        return Fan.Done

    workflow.register_split(Fan.Split, [inline(branch)], join_state=Fan.Join)
    assert workflow.run(engine, Fan.Split) is Fan.Done
    assert isinstance(raised[0], TypeError)
    assert isinstance(raised[1], cano.BadStateError)
    assert "only for the bodies of split branches" in str(raised[1])


def test_an_async_branch_completes_without_a_state_from_another_thread(
    engine: cano.Engine,
) -> None:
    def body(ctx: cano.TaskContext) -> Any:
        ctx.set_value({"from": "async"})
        completion = ctx.defer()
        threading.Timer(0.01, completion.complete).start()
        return cano.PENDING

    def failing(ctx: cano.TaskContext) -> Any:
        completion = ctx.defer()
        threading.Timer(0.01, completion.fail, args=(ValueError("late"),)).start()
        return None

    def returns_after_defer(ctx: cano.TaskContext) -> Any:
        ctx.defer()
        return "value"

    async_ = dict(mode="async", retry=NONE)
    f = Fixture().split(
        [
            cano.Branch(body, **async_),
            cano.Branch(failing, **async_),
            cano.Branch(returns_after_defer, **async_),
        ],
        cano.Join.quorum(1),
    )
    assert f.run(engine) is Fan.Done
    assert f.lines()[:2] == ['SUCCEEDED {"from":"async"}', "FAILED ValueError: late"]
    assert "set its value with ctx.set_value() before deferring" in f.lines()[2]


def test_only_the_join_state_sees_the_split_result(engine: cano.Engine) -> None:
    seen: List[Any] = []
    workflow = cano.Workflow(Fan, exit_states=[Fan.Done])

    @workflow.task(Fan.Join, mode="inline", retry=NONE)
    def join(ctx: cano.TaskContext) -> Fan:
        first = ctx.split_result
        assert ctx.split_result is first  # read once, then cached
        seen.append(first)
        return Fan.After

    @workflow.task(Fan.After, mode="worker", retry=NONE)
    def after(ctx: cano.TaskContext) -> Fan:
        seen.append(ctx.split_result)
        return Fan.Done

    workflow.register_split(Fan.Split, [inline(ok("a")), inline(fail("b"))], join=cano.Join.any(),
                            join_state=Fan.Join)
    assert workflow.run(engine, Fan.Split) is Fan.Done
    result, after_saw = seen
    assert (result.succeeded, result.failed, result.cancelled) == (1, 0, 1)
    assert after_saw is None
    assert repr(result) == "<cano.SplitResult 2 branches: 1 succeeded, 0 failed, 1 cancelled>"
    assert repr(result[0]) == "BranchOutcome(0, SUCCEEDED, value=b'a')"
    # A plain snapshot: usable after the body.
    assert result[0].text() == "a"
    # A run that starts in the join state has no split to read.
    seen.clear()
    assert workflow.run(engine, Fan.Join) is Fan.Done
    assert seen == [None, None]


def test_the_join_task_reads_the_result_on_every_attempt(manual: cano.Engine) -> None:
    seen: List[Any] = []
    workflow = cano.Workflow(Fan, exit_states=[Fan.Done])

    @workflow.task(Fan.Join, mode="inline", retry=cano.Retry.fixed(2, 0.01))
    def join(ctx: cano.TaskContext) -> Fan:
        seen.append(ctx.split_result.values())
        if ctx.attempt < 3:
            raise RuntimeError("not yet")
        return Fan.Done

    workflow.register_split(Fan.Split, [inline(ok("v"))], join_state=Fan.Join)
    assert drive(manual, workflow.start(manual, Fan.Split)).wait(5) is Fan.Done
    assert seen == [[b"v"]] * 3


def test_a_split_inside_a_loop_runs_its_branches_on_every_entry(engine: cano.Engine) -> None:
    counts: List[int] = []
    workflow = cano.Workflow(Fan, exit_states=[Fan.Done])

    @workflow.task(Fan.Join, mode="inline", retry=NONE)
    def join(ctx: cano.TaskContext) -> Fan:
        counts.append(ctx.split_result.succeeded)
        return Fan.Split if len(counts) < 3 else Fan.Done

    workflow.register_split(Fan.Split, [inline(ok(1)), inline(ok(2))], join_state=Fan.Join)
    assert workflow.run(engine, Fan.Split) is Fan.Done
    assert counts == [2, 2, 2]


# --- the builder form ------------------------------------------------------------------------


def test_the_builder_adds_branches_one_at_a_time(engine: cano.Engine) -> None:
    f = Fixture()
    fan = f.workflow.split(Fan.Split, join=cano.Join.all(), join_state=Fan.Join, bulkhead=2)

    @fan.branch(mode="inline", retry=NONE)
    def first(ctx: cano.TaskContext) -> Any:
        return "first"

    @fan.branch(mode="worker", retry=NONE, name="second-branch")
    def second(ctx: cano.TaskContext) -> Any:
        raise ValueError("second")

    fan.add(ok(json.loads("[3]")), mode="inline", retry=NONE)
    assert callable(first) and callable(second)
    assert len(fan.branches) == 3
    assert "branches=3" in repr(fan)
    error = join_error(f, engine)
    assert error.message.startswith("Join condition not met: 2 of 3 tasks completed")
    assert "task 1: Task execution error: ValueError: second" in error.message


def test_the_builder_keeps_its_branches_when_an_addition_fails() -> None:
    workflow = cano.Workflow(Fan, exit_states=[Fan.Done])
    fan = workflow.split(Fan.Split, join_state=Fan.Join)
    fan.add(ok(), mode="inline")
    with pytest.raises(ValueError):
        fan.add(ok(), mode="eager")
    assert len(fan.branches) == 1
