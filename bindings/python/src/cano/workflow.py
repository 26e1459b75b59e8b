"""Workflows: named states, one task per state, exit states, a timeout.

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
from ._states import StateLike, StateSpace
from .engine import Engine
from .resources import Resources
from .run import RUN_DONE, RunHandle
from .task import (
    RUN_TASK,
    Retry,
    Seconds,
    TaskMode,
    _Spec,
    attach_exception,
    resolve,
    to_ms,
)

T = TypeVar("T")


class Workflow:
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
        self._ptr: Optional[int] = None
        self._states = StateSpace(states)
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

    @property
    def _handle(self) -> int:
        if self._ptr is None:
            raise _errors.BadStateError("the workflow was closed", code=C.CANO_E_BAD_STATE)
        return self._ptr

    def _call(self, fn: Callable[..., int], *args: Any) -> None:
        err = ctypes.c_void_p()
        _errors.check(fn(self._handle, *args, ctypes.byref(err)), err, self._states.member)

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

    def register(
        self,
        state: StateLike,
        task: Any,
        *,
        mode: Union[TaskMode, str, None] = None,
        retry: Optional[Retry] = None,
        attempt_timeout: Optional[Seconds] = None,
        name: Optional[str] = None,
    ) -> "Workflow":
        """Registers the task for ``state``, replacing any previous one.

        ``task`` is a function ``f(ctx) -> next_state``, a callable object, a
        :class:`~cano.Task` (or any object with ``run(ctx)``), or such a class (instantiated
        with no arguments). Options not given come from the task's ``mode``, ``retry``,
        ``attempt_timeout`` and ``name`` attributes, then from the C defaults: ``"worker"``
        mode and ``Retry.default()`` (cano's TaskConfig::default(), 4 attempts).
        ``attempt_timeout`` is in seconds; ``name`` defaults to the state's name.

        The workflow keeps the task alive until the library releases it (when the workflow is
        freed and its last run has ended). Raises ConfigurationError (undeclared state),
        BadStateError (frozen), InvalidArgumentError. Returns the workflow.
        """
        body, task_mode, task_retry, timeout_ms, task_name = resolve(
            task, mode, retry, attempt_timeout, name
        )
        code = self._states.code(state)
        spec = _Spec(body, self._states, self._resources, task_mode, task_name)
        options = C.task_options_init()
        options.run = RUN_TASK
        options.destroy = _callbacks.DESTROY
        options.name = task_name.encode() if task_name is not None else None
        options.mode = int(task_mode)
        task_retry.apply(options)
        options.attempt_timeout_ms = timeout_ms
        token = _callbacks.REGISTRY.add(spec)
        options.user_data = token
        err = ctypes.c_void_p()
        status = C.cano_workflow_register(
            self._handle, code, ctypes.byref(options), ctypes.byref(err)
        )
        if status < 0:
            _callbacks.REGISTRY.pop(token)  # released by the hook already, but for VERSION
            raise _errors.take(err.value, status, self._states.member)
        return self

    def task(
        self,
        state: StateLike,
        *,
        mode: Union[TaskMode, str, None] = None,
        retry: Optional[Retry] = None,
        attempt_timeout: Optional[Seconds] = None,
        name: Optional[str] = None,
    ) -> Callable[[T], T]:
        """Decorator form of :meth:`register`; returns the function (or class) unchanged."""

        def decorate(task: T) -> T:
            self.register(
                state, task, mode=mode, retry=retry, attempt_timeout=attempt_timeout, name=name
            )
            return task

        return decorate

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
            _callbacks.REGISTRY.pop(token)
            raise _errors.take(err.value, status, self._states.member)
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

    def __enter__(self) -> "Workflow":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self, _state: Any = _callbacks.STATE) -> None:
        try:
            if not _state.finalizing:
                self.close()
        except Exception:  # pragma: no cover - interpreter teardown
            pass

    def __repr__(self) -> str:
        return f"<cano.Workflow states={self._states.enum.__name__}>"
