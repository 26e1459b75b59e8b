"""Workflows: named states, one task per state (a task, a router, a poll task, a stepped task,
a timer task or a split), exit states, a timeout.

::

    class Step(enum.IntEnum):
        Fetch = 0
        Process = 1
        Done = 2

    workflow = cano.Workflow(Step, resources, exit_states=[Step.Done])

    @workflow.task(Step.Fetch, mode="inline", retry=cano.Retry.fixed(3, 0.1))
    def fetch(ctx):
        return Step.Process

    final = workflow.run(engine, Step.Fetch)

Besides plain tasks a state may have a router (:meth:`Workflow.register_router`), a poll task
(:meth:`Workflow.register_poll`, see :mod:`cano.poll`), a stepped task
(:meth:`Workflow.register_stepped`, see :mod:`cano.stepped`), a timer task
(:meth:`Workflow.register_timer`, see :mod:`cano.timer`), a batch task
(:meth:`Workflow.register_batch`, see :mod:`cano.batch`) or a split
(:meth:`Workflow.register_split`, see :mod:`cano.split`).

Every registration that accepts ``mode="async"`` also takes ``cancel=``: a callable that gets
the attempt's :class:`~cano.Completion` when the engine abandons a pending async attempt (see
:mod:`cano.task`).

Every member of the state enum is declared with its int value as the state's code and its
name as the state's name. A workflow is built on one thread; its first run freezes it (the
builder methods then raise BadStateError) and from then on any thread may start runs, also
several at once and on several engines.
"""

from __future__ import annotations

import ctypes
import enum
from typing import Any, Callable, Iterable, Optional, Type, TypeVar, Union

from . import _callbacks, _errors
from . import _capi as C
from ._fan_out_models import FanOutModels, SplitBuilder
from ._state_models import StateModels
from ._states import StateLike
from ._task_failures import attach_exception
from ._task_spec import KIND_TASK
from ._workflow_base import registering
from .engine import Engine
from .resources import Resources
from .run import RUN_DONE, RunHandle
from .task import CancelFn, Retry, Seconds, TaskMode, to_ms

# SplitBuilder (built by Workflow.split) and CancelFn are part of this module's API too.
__all__ = ["CancelFn", "SplitBuilder", "Workflow"]

T = TypeVar("T")


class Workflow(StateModels, FanOutModels):
    """A cano workflow (cano_workflow).

    Args:
        states: an :class:`enum.Enum` class with int values (``enum.IntEnum`` is simplest), or
            a list of names (they become an IntEnum numbered from 0, available as ``.states``).
        resources: the resources tasks see through ``ctx.resources``; None for a bare workflow
            (cano's ``Workflow::bare()``). The workflow keeps the set alive.
        exit_states: states where a run ends (:meth:`add_exit_state`).
        timeout: a limit in seconds for each run's state machine (:meth:`set_timeout`).
    """

    def __init__(
        self,
        states: Union[Type[enum.Enum], Iterable[str]],
        resources: Optional[Resources] = None,
        *,
        exit_states: Iterable[StateLike] = (),
        timeout: Optional[Seconds] = None,
    ) -> None:
        super().__init__(states)
        if resources is None:
            # A bare workflow: an empty set of our own, so ctx.resources never refers to memory
            # only the workflow owns.
            resources = Resources()
        out = ctypes.c_void_p()
        err = ctypes.c_void_p()
        status = C.cano_workflow_create(ctypes.byref(out), resources._handle, ctypes.byref(err))
        _errors.check(status, err)
        self._ptr = out.value
        self._resources = resources
        for member in self._states.enum:
            self._call(C.cano_workflow_add_state, self._states.codes[member], member.name.encode())
        for state in exit_states:
            self.add_exit_state(state)
        if timeout is not None:
            self.set_timeout(timeout)

    # --- helpers ----------------------------------------------------------------------------
    # (_handle, _call and the registration helpers are in WorkflowBase.)

    @property
    def states(self) -> Type[enum.Enum]:
        """The state enum."""
        return self._states.enum

    @property
    def resources(self) -> Resources:
        """The workflow's resources (an empty set for a bare workflow); a view of the same set
        when the Resources object given to the constructor was closed."""
        if self._resources._ptr is None:
            return self._resources._view(C.cano_workflow_resources(self._handle), self)
        return self._resources

    # --- building ---------------------------------------------------------------------------
    # (register_router, _poll, _stepped and _timer are in StateModels; register_batch and
    # register_split in FanOutModels.)

    def register(
        self,
        state: StateLike,
        task: Any,
        *,
        mode: Union[TaskMode, str, None] = None,
        retry: Optional[Retry] = None,
        attempt_timeout: Optional[Seconds] = None,
        name: Optional[str] = None,
        cancel: Optional[CancelFn] = None,
    ) -> "Workflow":
        """Registers the task for ``state``, replacing any previous one.

        ``task`` is a function ``f(ctx) -> next_state``, a callable object, a
        :class:`~cano.Task` (or any object with ``run(ctx)``), or such a class (instantiated
        with no arguments). Options not given come from the task's ``mode``, ``retry``,
        ``attempt_timeout`` and ``name`` attributes, then from the C defaults: ``"worker"``
        mode and ``Retry.default()`` (cano's TaskConfig::default(), 4 attempts).
        ``attempt_timeout`` is in seconds; ``name`` defaults to the state's name.

        The body may also return :class:`~cano.More` ``(cursor)`` to be called again at once
        with ``ctx.cursor`` set (see :mod:`cano.stepped`): registered here, the whole loop is
        one attempt (a retry starts again from no cursor); :meth:`register_stepped` makes each
        step its own attempt loop.

        The workflow keeps the task alive until the library releases it (when the workflow is
        freed and its last run has ended). Raises ConfigurationError (undeclared state),
        BadStateError (frozen), InvalidArgumentError. Returns the workflow.
        """
        return self._register_one(
            C.cano_workflow_register,
            state,
            task,
            KIND_TASK,
            mode,
            retry,
            attempt_timeout,
            name,
            cancel=cancel,
        )

    def task(
        self,
        state: StateLike,
        *,
        mode: Union[TaskMode, str, None] = None,
        retry: Optional[Retry] = None,
        attempt_timeout: Optional[Seconds] = None,
        name: Optional[str] = None,
        cancel: Optional[CancelFn] = None,
    ) -> Callable[[T], T]:
        """Decorator form of :meth:`register`; returns the function (or class) unchanged."""
        return registering(
            self.register,
            state,
            mode=mode,
            retry=retry,
            attempt_timeout=attempt_timeout,
            name=name,
            cancel=cancel,
        )

    def add_exit_state(self, *states: StateLike) -> "Workflow":
        """Marks states as exit states (duplicates are ignored). A run that enters one ends
        there; a task registered on an exit state never runs. Returns the workflow."""
        for state in states:
            self._call(C.cano_workflow_add_exit_state, self._states.code(state))
        return self

    add_exit_states = add_exit_state

    def set_timeout(self, timeout: Optional[Seconds]) -> "Workflow":
        """A wall-clock limit (seconds) for each run's state machine, not counting resource
        setup and teardown; on expiry the run fails with WorkflowError "Workflow timeout
        exceeded". None or 0 = no limit. Returns the workflow."""
        self._call(C.cano_workflow_set_timeout, to_ms(timeout, "timeout"))
        return self

    # --- checking ---------------------------------------------------------------------------

    def validate(self) -> None:
        """cano's validate(): raises ConfigurationError "Workflow has no registered state
        handlers", then "Workflow has no exit states defined — orchestration may loop
        forever". Any thread."""
        err = ctypes.c_void_p()
        _errors.check(C.cano_workflow_validate(self._handle, ctypes.byref(err)), err)

    def validate_initial_state(self, state: StateLike) -> None:
        """cano's validate_initial_state(): raises ConfigurationError "Initial state X is
        neither registered nor an exit state"."""
        self._call(C.cano_workflow_validate_initial_state, self._states.code(state))

    def state_name(self, state: StateLike) -> Optional[str]:
        """The name declared for ``state`` (None for an undeclared code)."""
        name = C.cano_workflow_state_name(self._handle, self._states.code(state))
        return name.decode() if name is not None else None

    def state_code(self, name: str) -> Any:
        """The state named ``name`` (an enum member). Raises NotFoundError."""
        out = ctypes.c_int32()
        err = ctypes.c_void_p()
        status = C.cano_workflow_state_code(
            ctypes.byref(out), self._handle, name.encode(), ctypes.byref(err)
        )
        _errors.check(status, err)
        return self._states.member(out.value)

    # --- running ----------------------------------------------------------------------------

    def run(self, engine: Engine, initial: StateLike) -> Any:
        """Runs from ``initial`` and blocks until the run ends (cano's orchestrate()); returns
        the exit state reached (an enum member).

        Raises the run's error: ConfigurationError before anything runs, the task's error
        (TaskExecutionError, RetryExhaustedError, CanoTimeoutError, ...), WorkflowError,
        CancelledError, ShutdownError. ``error.state`` is the state the run failed in. The GIL
        is released while waiting; the wait cannot be interrupted (use :meth:`start` and
        ``wait()`` for that). Raises WrongThreadError on the engine's loop thread.
        """
        code = self._states.code(initial)
        out = ctypes.c_int32()
        err = ctypes.c_void_p()
        ptr = engine._acquire()
        try:
            status = C.cano_run_wait(ctypes.byref(out), ptr, self._handle, code, ctypes.byref(err))
        finally:
            engine._release()
        if status < 0:
            error = _errors.take(err.value, status, self._states.member)
            attach_exception(error, engine._address)
            raise error
        return self._states.member(out.value)

    def start(
        self,
        engine: Engine,
        initial: StateLike,
        callback: Optional[Callable[[RunHandle], Any]] = None,
    ) -> RunHandle:
        """Starts a run and returns at once with its :class:`~cano.RunHandle`.

        ``callback(handle)``, if given, is called once when the run has ended (after its
        resources were released), on the engine's loop thread: keep it short. Raises
        ConfigurationError (validation, initial state; nothing runs and the callback is never
        called) or ShutdownError. Any thread.
        """
        code = self._states.code(initial)
        handle = RunHandle(engine, self._states, callback)
        token = _callbacks.REGISTRY.add(handle)
        out = ctypes.c_uint64()
        err = ctypes.c_void_p()
        ptr = engine._acquire()
        try:
            status = C.cano_run_start(
                ctypes.byref(out), ptr, self._handle, code, RUN_DONE, token, ctypes.byref(err)
            )
        finally:
            engine._release()
        if status < 0:
            self._raise_dropping([token], err, status)
        if handle.id == 0:
            handle.id = out.value
        return handle

    # --- lifetime ---------------------------------------------------------------------------

    def close(self) -> None:
        """Drops this object's reference; runs in flight keep the workflow alive and the tasks
        are released when the last one ends. Idempotent."""
        ptr, self._ptr = self._ptr, None
        if ptr is not None:
            C.cano_workflow_destroy(ptr)

    def __repr__(self) -> str:
        return f"<cano.Workflow states={self._states.enum.__name__}>"
