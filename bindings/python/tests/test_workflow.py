"""Workflows: declaring states, registering tasks, validation, transitions and exit states."""

from __future__ import annotations

import ctypes
import enum
import gc
import threading
import weakref
from typing import List

import pytest
from conftest import Step, drive, wait_for

import cano
from cano import _callbacks
from cano import _capi as C


def linear(trail: List[str], mode: str = "inline") -> cano.Workflow:
    workflow = cano.Workflow(Step, exit_states=[Step.Done])

    @workflow.task(Step.Fetch, mode=mode, retry=cano.Retry.none())
    def fetch(ctx: cano.TaskContext) -> Step:
        trail.append(ctx.state.name)
        return Step.Process

    @workflow.task(Step.Process, mode=mode, retry=cano.Retry.none())
    def process(ctx: cano.TaskContext) -> Step:
        trail.append(ctx.state.name)
        return Step.Done

    return workflow


@pytest.mark.parametrize("mode", ["inline", "worker", "async"])
def test_a_linear_run_visits_every_state_in_order(engine: cano.Engine, mode: str) -> None:
    trail: List[str] = []
    workflow = linear(trail, mode)
    assert workflow.run(engine, Step.Fetch) is Step.Done
    assert trail == ["Fetch", "Process"]
    # A workflow runs any number of times.
    assert workflow.run(engine, "Process") is Step.Done
    assert trail == ["Fetch", "Process", "Process"]


def test_states_are_declared_with_enum_names_and_values() -> None:
    class Odd(enum.Enum):
        Start = 10
        Stop = -3
        Halt = -3  # an alias: declared once

    workflow = cano.Workflow(Odd, exit_states=[Odd.Stop])
    assert workflow.states is Odd
    assert workflow.state_name(Odd.Start) == "Start"
    assert workflow.state_name(-3) == "Stop"
    assert workflow.state_name(99) is None
    assert workflow.state_code("Start") is Odd.Start
    with pytest.raises(cano.NotFoundError):
        workflow.state_code("Halt")


def test_states_from_a_list_of_names_become_an_int_enum(engine: cano.Engine) -> None:
    workflow = cano.Workflow(["A", "B"], exit_states=["B"])
    A, B = list(workflow.states)
    assert (int(A), int(B)) == (0, 1)
    workflow.register("A", lambda ctx: "B", mode="inline")
    assert workflow.run(engine, "A") is B


def test_state_enums_need_int_values() -> None:
    class Named(enum.Enum):
        A = "a"

    with pytest.raises(TypeError, match="need int values"):
        cano.Workflow(Named)
    with pytest.raises(TypeError):
        cano.Workflow([1, 2])  # type: ignore[list-item]


def test_validation_messages_in_canos_order(engine: cano.Engine) -> None:
    workflow = cano.Workflow(Step)
    with pytest.raises(cano.ConfigurationError) as caught:
        workflow.validate()
    assert caught.value.message == "Workflow has no registered state handlers"
    workflow.register(Step.Fetch, lambda ctx: Step.Done)
    with pytest.raises(cano.ConfigurationError) as caught:
        workflow.validate()
    assert caught.value.message == (
        "Workflow has no exit states defined — orchestration may loop forever"
    )
    workflow.add_exit_state(Step.Done)
    workflow.validate()
    workflow.validate_initial_state(Step.Fetch)
    workflow.validate_initial_state(Step.Done)
    with pytest.raises(cano.ConfigurationError) as caught:
        workflow.validate_initial_state(Step.Process)
    assert caught.value.message == "Initial state Process is neither registered nor an exit state"
    with pytest.raises(cano.ConfigurationError) as caught:
        workflow.validate_initial_state(42)
    assert caught.value.message == "Initial state 42 is neither registered nor an exit state"
    # run() checks the same before anything runs.
    with pytest.raises(cano.ConfigurationError, match="Initial state Process"):
        workflow.run(engine, Step.Process)


def test_a_run_that_cannot_start_never_calls_back(engine: cano.Engine) -> None:
    workflow = cano.Workflow(Step)
    called = []
    with pytest.raises(cano.ConfigurationError, match="no registered state handlers"):
        workflow.start(engine, Step.Fetch, called.append)
    assert called == []


def test_registering_on_an_undeclared_state_is_a_configuration_error() -> None:
    workflow = cano.Workflow(Step)
    with pytest.raises(cano.ConfigurationError):
        workflow.register(17, lambda ctx: Step.Done)
    with pytest.raises(cano.ConfigurationError):
        workflow.add_exit_state(17)
    with pytest.raises(TypeError):
        workflow.register(object(), lambda ctx: Step.Done)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no state named 'Nope'"):
        workflow.register("Nope", lambda ctx: Step.Done)


def test_duplicate_states_are_rejected_by_the_library() -> None:
    workflow = cano.Workflow(Step)
    err = ctypes.c_void_p()
    status = C.cano_workflow_add_state(workflow._handle, 0, b"Again", ctypes.byref(err))
    assert status == C.CANO_E_CONFIGURATION
    C.cano_error_free(err.value)
    status = C.cano_workflow_add_state(workflow._handle, 9, b"", ctypes.byref(err))
    assert status == C.CANO_E_INVALID_ARGUMENT
    C.cano_error_free(err.value)


def test_the_first_run_freezes_the_workflow(engine: cano.Engine) -> None:
    trail: List[str] = []
    workflow = linear(trail)
    workflow.run(engine, Step.Fetch)
    with pytest.raises(cano.BadStateError):
        workflow.register(Step.Fetch, lambda ctx: Step.Done)
    with pytest.raises(cano.BadStateError):
        workflow.add_exit_state(Step.Failed)
    with pytest.raises(cano.BadStateError):
        workflow.set_timeout(1.0)


def test_an_unregistered_next_state_fails_the_run(engine: cano.Engine) -> None:
    workflow = cano.Workflow(Step, exit_states=[Step.Done])
    workflow.register(Step.Fetch, lambda ctx: Step.Process, mode="inline")
    with pytest.raises(cano.WorkflowError) as caught:
        workflow.run(engine, Step.Fetch)
    error = caught.value
    assert error.message == "No task registered for state: Process"
    assert error.state is Step.Process
    assert error.task is None and error.attempt == 0
    # An undeclared code is shown as a number and kept as an int.
    workflow2 = cano.Workflow(Step, exit_states=[Step.Done])
    workflow2.register(Step.Fetch, lambda ctx: 77, mode="inline")
    handle = workflow2.start(engine, Step.Fetch)
    with pytest.raises(cano.WorkflowError, match="No task registered for state: 77"):
        handle.wait(10)
    assert handle.final_state == 77 and handle.error.state == 77


def test_a_task_on_an_exit_state_never_runs(engine: cano.Engine) -> None:
    ran = []
    workflow = cano.Workflow(Step, exit_states=[Step.Done])
    workflow.register(Step.Fetch, lambda ctx: Step.Done, mode="inline")
    workflow.register(Step.Done, lambda ctx: ran.append(1) or Step.Fetch, mode="inline")
    assert workflow.run(engine, Step.Fetch) is Step.Done
    assert workflow.run(engine, Step.Done) is Step.Done
    assert ran == []


def test_loops_and_several_exit_states(engine: cano.Engine) -> None:
    workflow = cano.Workflow(Step, exit_states=[Step.Done, Step.Failed])
    visits = {"n": 0}

    @workflow.task(Step.Fetch, mode="inline")
    def fetch(ctx: cano.TaskContext) -> Step:
        visits["n"] += 1
        return Step.Process if visits["n"] < 5 else Step.Failed

    workflow.register(Step.Process, lambda ctx: Step.Fetch, mode="inline")
    assert workflow.run(engine, Step.Fetch) is Step.Failed
    assert visits["n"] == 5


def test_bad_task_results_fail_the_attempt(engine: cano.Engine) -> None:
    class Other(enum.IntEnum):
        X = 2

    cases = [
        (None, "task body returned None; return the next state"),
        ("Nope", "task body returned 'Nope', which is not a state of Step"),
        (Other.X, "task body returned <Other.X: 2>, which is not a state of Step"),
        (1.5, "task body returned 1.5, which is not a state of Step"),
    ]
    for result, message in cases:
        workflow = cano.Workflow(Step, exit_states=[Step.Done])
        workflow.register(
            Step.Fetch, lambda ctx, r=result: r, mode="inline", retry=cano.Retry.none()
        )
        with pytest.raises(cano.TaskExecutionError) as caught:
            workflow.run(engine, Step.Fetch)
        assert caught.value.message == message


def test_names_ints_and_members_are_all_valid_results(engine: cano.Engine) -> None:
    workflow = cano.Workflow(Step, exit_states=[Step.Done])
    workflow.register(Step.Fetch, lambda ctx: "Process", mode="inline")
    workflow.register(Step.Process, lambda ctx: 2, mode="worker")
    assert workflow.run(engine, 0) is Step.Done


def test_class_based_tasks_and_their_defaults(engine: cano.Engine) -> None:
    class Fetch(cano.Task):
        mode = "inline"
        retry = cano.Retry.fixed(1, 0)
        name = "class-fetch"

        def __init__(self) -> None:
            self.calls = 0

        def run(self, ctx: cano.TaskContext) -> Step:
            self.calls += 1
            if ctx.attempt == 1:
                raise RuntimeError("first")
            assert ctx.mode is cano.TaskMode.INLINE
            return Step.Process

    class Process:
        """Any object with run(ctx) works too, as does a callable object."""

        def run(self, ctx: cano.TaskContext) -> Step:
            return Step.Done

    fetch = Fetch()
    workflow = cano.Workflow(Step, exit_states=[Step.Done])
    workflow.register(Step.Fetch, fetch)
    workflow.register(Step.Process, Process)  # a class: instantiated
    assert workflow.run(engine, Step.Fetch) is Step.Done
    assert fetch.calls == 2
    # Explicit arguments override the class attributes.
    failing = cano.Workflow(Step, exit_states=[Step.Done])
    failing.register(Step.Fetch, Fetch(), retry=cano.Retry.none(), name="renamed")
    with pytest.raises(cano.TaskExecutionError) as caught:
        failing.run(engine, Step.Fetch)
    assert caught.value.task == "renamed"
    with pytest.raises(TypeError):
        failing.register(Step.Fetch, 42)
    with pytest.raises(TypeError):
        failing.register(Step.Fetch, lambda ctx: 1, retry=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown task mode"):
        failing.register(Step.Fetch, lambda ctx: 1, mode="turbo")


def test_the_default_task_name_is_the_state_name(engine: cano.Engine) -> None:
    workflow = cano.Workflow(Step, exit_states=[Step.Done])
    workflow.register(Step.Fetch, lambda ctx: 1 / 0, mode="inline", retry=cano.Retry.none())
    with pytest.raises(cano.TaskExecutionError) as caught:
        workflow.run(engine, Step.Fetch)
    assert caught.value.task == "Fetch"


def test_register_replaces_and_releases_the_previous_task() -> None:
    workflow = cano.Workflow(Step, exit_states=[Step.Done])

    class Body:
        def __call__(self, ctx: cano.TaskContext) -> Step:
            return Step.Done

    first = Body()
    ref = weakref.ref(first)
    workflow.register(Step.Fetch, first)
    del first
    gc.collect()
    assert ref() is not None  # the workflow keeps it alive
    workflow.register(Step.Fetch, Body())
    gc.collect()
    assert ref() is None  # replaced: its destroy hook released it


def test_tasks_are_released_when_the_workflow_is_closed_after_its_last_run(
    engine: cano.Engine,
) -> None:
    release = threading.Event()
    started = threading.Event()

    class Body:
        def __call__(self, ctx: cano.TaskContext) -> Step:
            started.set()
            release.wait(10)
            return Step.Done

    body = Body()
    ref = weakref.ref(body)
    workflow = cano.Workflow(Step, exit_states=[Step.Done])
    workflow.register(Step.Fetch, body, mode="worker")
    del body
    handle = workflow.start(engine, Step.Fetch)
    started.wait(10)
    workflow.close()  # a run in flight keeps the workflow and its tasks alive
    gc.collect()
    assert ref() is not None
    release.set()
    assert handle.wait(10) is Step.Done
    # The run lets go of the workflow right after its callback; then the hook releases the task.
    wait_for(lambda: gc.collect() is not None and ref() is None)
    workflow.close()  # idempotent
    with pytest.raises(cano.BadStateError):
        workflow.validate()


def test_a_bare_workflow_has_empty_resources(engine: cano.Engine) -> None:
    workflow = cano.Workflow(Step, exit_states=[Step.Done])
    seen = []

    @workflow.task(Step.Fetch, mode="inline")
    def fetch(ctx: cano.TaskContext) -> Step:
        seen.append(len(ctx.resources))
        return Step.Done

    assert workflow.run(engine, Step.Fetch) is Step.Done
    assert seen == [0]
    assert len(workflow.resources) == 0


def test_workflow_timeout_on_the_manual_clock(manual: cano.Engine) -> None:
    workflow = cano.Workflow(Step, exit_states=[Step.Done], timeout=0.5)
    never = []

    @workflow.task(Step.Fetch, mode="async")
    def fetch(ctx: cano.TaskContext) -> None:
        never.append(ctx.defer())  # never completed

    start = manual.now_ms()
    handle = drive(manual, workflow.start(manual, Step.Fetch))
    assert manual.now_ms() - start == 500
    with pytest.raises(cano.WorkflowError) as caught:
        handle.wait(1)
    assert caught.value.message == "Workflow timeout exceeded"
    assert caught.value.state is Step.Fetch
    assert handle.final_state is Step.Fetch


def test_set_timeout_none_means_no_limit(manual: cano.Engine) -> None:
    workflow = cano.Workflow(Step, exit_states=[Step.Done])
    workflow.set_timeout(0.1).set_timeout(None)
    workflow.register(Step.Fetch, lambda ctx: Step.Done, mode="inline")
    assert workflow.run(manual, Step.Fetch) is Step.Done
    assert manual.next_deadline_ms() is None
    with pytest.raises(ValueError):
        workflow.set_timeout(-1)


def test_workflows_as_context_managers(engine: cano.Engine) -> None:
    with cano.Workflow(Step, exit_states=[Step.Done]) as workflow:
        workflow.register(Step.Fetch, lambda ctx: Step.Done, mode="inline")
        assert engine.run(workflow, Step.Fetch) is Step.Done
    assert "Step" in repr(workflow)


# --- routers --------------------------------------------------------------------------------------


class Route(enum.IntEnum):
    Route = 0
    Left = 1
    Right = 2


def test_a_router_picks_the_next_state(engine: cano.Engine) -> None:
    workflow = cano.Workflow(Route, exit_states=[Route.Left, Route.Right])
    picks: List[str] = []

    @workflow.router(Route.Route, mode="inline", retry=cano.Retry.none())
    def route(ctx: cano.TaskContext) -> Route:
        picks.append(ctx.state.name)
        return Route.Right if "right" in ctx.resources else Route.Left

    assert callable(route)
    assert workflow.run(engine, Route.Route) is Route.Left
    workflow2 = cano.Workflow(
        Route, cano.Resources().insert("right", object()), exit_states=[Route.Left, Route.Right]
    )
    workflow2.register_router(Route.Route, route, mode="worker", name="chooser")
    assert workflow2.run(engine, Route.Route) is Route.Right
    assert picks == ["Route", "Route"]


def test_a_router_retries_with_the_default_policy(manual: cano.Engine) -> None:
    # cano's RouterTask default is TaskConfig::default(): it retries (4 attempts).
    attempts: List[int] = []

    def route(ctx: cano.TaskContext) -> Route:
        attempts.append(ctx.attempt)
        if ctx.attempt < 3:
            raise RuntimeError("not yet")
        return Route.Right

    workflow = cano.Workflow(Route, exit_states=[Route.Left, Route.Right])
    workflow.register_router(Route.Route, route, mode="inline")
    assert drive(manual, workflow.start(manual, Route.Route)).wait(5) is Route.Right
    assert attempts == [1, 2, 3]

    attempts.clear()
    failing = cano.Workflow(Route, exit_states=[Route.Left, Route.Right])
    failing.register_router(Route.Route, lambda ctx: attempts.append(1) or 1 / 0, mode="inline")
    with pytest.raises(cano.RetryExhaustedError, match="after 4 attempt"):
        drive(manual, failing.start(manual, Route.Route)).wait(5)
    assert len(attempts) == 4


def test_router_errors_and_ownership() -> None:
    workflow = cano.Workflow(Route, exit_states=[Route.Left])
    before = len(_callbacks.REGISTRY)
    with pytest.raises(cano.ConfigurationError):
        workflow.register_router(9, lambda ctx: Route.Left)
    with pytest.raises(TypeError):
        workflow.register_router(Route.Route, 42)
    assert len(_callbacks.REGISTRY) == before
    workflow.register_router(Route.Route, lambda ctx: Route.Left)
    # Registering a plain task replaces (and releases) the router.
    workflow.register(Route.Route, lambda ctx: Route.Left)
    assert len(_callbacks.REGISTRY) == before + 1
    workflow.close()
    assert len(_callbacks.REGISTRY) == before


def test_a_router_may_not_ask_to_be_polled(engine: cano.Engine) -> None:
    workflow = cano.Workflow(Route, exit_states=[Route.Left])
    workflow.register_router(
        Route.Route, lambda ctx: cano.Pending(0), mode="inline", retry=cano.Retry.none()
    )
    with pytest.raises(cano.TaskExecutionError, match="not registered as a poll task"):
        workflow.run(engine, Route.Route)
