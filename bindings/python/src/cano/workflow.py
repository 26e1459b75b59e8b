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
from typing import Any, Callable, Iterable, List, Optional, Type, TypeVar, Union

from . import _callbacks, _errors
from . import _capi as C
from ._states import StateLike, StateSpace
from .batch import BatchBodies
from .engine import Engine
from .poll import PollPolicy
from .resources import Resources
from .run import RUN_DONE, RunHandle
from .split import Branch, Join, branch_list
from .task import (
    CANCEL,
    KIND_BATCH,
    KIND_BRANCH,
    KIND_POLL,
    KIND_ROUTER,
    KIND_STEPPED,
    KIND_TASK,
    KIND_TIMER,
    RUN_BATCH_FINISH,
    RUN_BATCH_ITEM,
    RUN_BATCH_LOAD,
    RUN_BRANCH,
    RUN_TASK,
    RUN_WAIT,
    Completion,
    Retry,
    Seconds,
    TaskMode,
    _is_function,
    _Spec,
    attach_exception,
    resolve,
    resolve_cancel,
    to_ms,
)

T = TypeVar("T")
#: A cancel callable: gets the abandoned attempt's Completion.
CancelFn = Callable[[Completion], Any]


class Workflow(_callbacks.OwnedHandle):
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

    def _where(self, code: int, index: int = -1) -> str:
        """Names a registration in argument errors: "state 'Fetch'" or "branch 1 of ..."."""
        member = self._states.member(code)
        state = f"state {getattr(member, 'name', member)!r}"
        return state if index < 0 else f"branch {index} of {state}"

    def _options(
        self,
        task: Any,
        kind: str,
        mode: Union[TaskMode, str, None],
        retry: Optional[Retry],
        attempt_timeout: Optional[Seconds],
        name: Optional[str],
        index: int = -1,
        wait: Optional[Callable[..., Any]] = None,
        cancel: Optional[CancelFn] = None,
        where: str = "",
        batch: Optional[BatchBodies] = None,
    ) -> "tuple[C.cano_task_options, int]":
        """A filled cano_task_options for ``task`` and the registry token it refers to (the
        caller hands the token to the library, or pops it on a failure before that)."""
        if isinstance(task, type):
            task = task()
        body, task_mode, task_retry, timeout_ms, task_name = resolve(
            task, mode, retry, attempt_timeout, name
        )
        task_cancel = resolve_cancel(task, task_mode, cancel, where)
        spec = _Spec(
            body,
            self._states,
            self._resources,
            task_mode,
            task_name,
            kind,
            index,
            wait,
            batch,
            task_cancel,
        )
        options = C.task_options_init()
        if kind == KIND_BRANCH:
            options.run = RUN_BRANCH
        elif kind == KIND_BATCH:
            options.run = RUN_BATCH_FINISH
        else:
            options.run = RUN_TASK
        if task_mode is TaskMode.ASYNC:
            # Always told, so that Completion.cancelled works without a cancel callable too.
            options.cancel = CANCEL
        options.destroy = _callbacks.DESTROY
        options.name = task_name.encode() if task_name is not None else None
        options.mode = int(task_mode)
        task_retry.apply(options)
        options.attempt_timeout_ms = timeout_ms
        token = _callbacks.REGISTRY.add(spec)
        options.user_data = token
        return options, token

    def _register_one(
        self,
        c_register: Callable[..., int],
        state: StateLike,
        task: Any,
        kind: str,
        mode: Union[TaskMode, str, None],
        retry: Optional[Retry],
        attempt_timeout: Optional[Seconds],
        name: Optional[str],
        *extra: Any,
        wait: Optional[Callable[..., Any]] = None,
        cancel: Optional[CancelFn] = None,
    ) -> "Workflow":
        code = self._states.code(state)
        handle = self._handle
        options, token = self._options(
            task,
            kind,
            mode,
            retry,
            attempt_timeout,
            name,
            wait=wait,
            cancel=cancel,
            where=self._where(code),
        )
        err = ctypes.c_void_p()
        status = c_register(handle, code, ctypes.byref(options), *extra, ctypes.byref(err))
        if status < 0:
            _callbacks.REGISTRY.pop(token)  # released by the hook already, but for VERSION
            raise _errors.take(err.value, status, self._states.member)
        return self

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

        def decorate(task: T) -> T:
            self.register(
                state,
                task,
                mode=mode,
                retry=retry,
                attempt_timeout=attempt_timeout,
                name=name,
                cancel=cancel,
            )
            return task

        return decorate

    def register_router(
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
        """Registers a router for ``state``: a side-effect-free task that only picks the next
        state (cano's RouterTask). It runs exactly like a task registered with
        :meth:`register` (same body, options and defaults; note that cano's RouterTask default
        is ``Retry.default()``, with retries); the difference is that a router state will write
        no checkpoint once checkpoints exist. Same errors as :meth:`register`."""
        return self._register_one(
            C.cano_workflow_register_router,
            state,
            task,
            KIND_ROUTER,
            mode,
            retry,
            attempt_timeout,
            name,
            cancel=cancel,
        )

    def router(
        self,
        state: StateLike,
        *,
        mode: Union[TaskMode, str, None] = None,
        retry: Optional[Retry] = None,
        attempt_timeout: Optional[Seconds] = None,
        name: Optional[str] = None,
        cancel: Optional[CancelFn] = None,
    ) -> Callable[[T], T]:
        """Decorator form of :meth:`register_router`."""

        def decorate(task: T) -> T:
            self.register_router(
                state,
                task,
                mode=mode,
                retry=retry,
                attempt_timeout=attempt_timeout,
                name=name,
                cancel=cancel,
            )
            return task

        return decorate

    def register_poll(
        self,
        state: StateLike,
        task: Any,
        *,
        policy: Union[PollPolicy, str, None] = None,
        max_errors: Optional[int] = None,
        mode: Union[TaskMode, str, None] = None,
        retry: Optional[Retry] = None,
        attempt_timeout: Optional[Seconds] = None,
        name: Optional[str] = None,
        cancel: Optional[CancelFn] = None,
    ) -> "Workflow":
        """Registers a poll task for ``state`` (cano's PollTask, see :mod:`cano.poll`): its
        body returns the next state when what it waits for is ready, or
        :class:`~cano.Pending` ``(delay)`` to be called again after ``delay`` seconds.

        ``policy`` says what an exception does: ``PollPolicy.FAIL_FAST`` (the default) fails
        the attempt; ``PollPolicy.RETRY_ON_ERROR`` polls again at once and fails the attempt
        when more than ``max_errors`` (default 0) errors came in a row. The whole wait is one
        attempt: ``attempt_timeout`` bounds it, and a retrying ``retry`` restarts it. The
        default retry is cano's ``minimal()`` (one attempt; ``Retry.default()`` means the same
        here). Other options as for :meth:`register`."""
        poll_policy = PollPolicy.of(policy)
        options = C.poll_options_init()
        options.policy = int(poll_policy)
        if max_errors is not None:
            if poll_policy is not PollPolicy.RETRY_ON_ERROR:
                raise ValueError("max_errors only applies to PollPolicy.RETRY_ON_ERROR")
            if isinstance(max_errors, bool) or not isinstance(max_errors, int):
                raise TypeError(f"max_errors must be an int, not {max_errors!r}")
            if not 0 <= max_errors < 2**32:
                raise ValueError(f"max_errors must be in [0, 2**32), not {max_errors}")
            options.max_errors = max_errors
        return self._register_one(
            C.cano_workflow_register_poll,
            state,
            task,
            KIND_POLL,
            mode,
            retry,
            attempt_timeout,
            name,
            ctypes.byref(options),
            cancel=cancel,
        )

    def poll(
        self,
        state: StateLike,
        *,
        policy: Union[PollPolicy, str, None] = None,
        max_errors: Optional[int] = None,
        mode: Union[TaskMode, str, None] = None,
        retry: Optional[Retry] = None,
        attempt_timeout: Optional[Seconds] = None,
        name: Optional[str] = None,
        cancel: Optional[CancelFn] = None,
    ) -> Callable[[T], T]:
        """Decorator form of :meth:`register_poll`."""

        def decorate(task: T) -> T:
            self.register_poll(
                state,
                task,
                policy=policy,
                max_errors=max_errors,
                mode=mode,
                retry=retry,
                attempt_timeout=attempt_timeout,
                name=name,
                cancel=cancel,
            )
            return task

        return decorate

    def register_stepped(
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
        """Registers a stepped task for ``state`` (cano's SteppedTask, see :mod:`cano.stepped`):
        its body reads ``ctx.cursor`` (None on the first step) and returns
        :class:`~cano.More` ``(cursor)`` for another step, or the next state when done.

        Each step is its own attempt loop: ``retry`` (default ``Retry.default()``) and
        ``attempt_timeout`` apply per step, a retried step sees the same cursor again, and a
        step whose retries run out fails the task (RetryExhaustedError, as any task's). Other
        options and errors as for :meth:`register`."""
        return self._register_one(
            C.cano_workflow_register_stepped,
            state,
            task,
            KIND_STEPPED,
            mode,
            retry,
            attempt_timeout,
            name,
            cancel=cancel,
        )

    def stepped(
        self,
        state: StateLike,
        *,
        mode: Union[TaskMode, str, None] = None,
        retry: Optional[Retry] = None,
        attempt_timeout: Optional[Seconds] = None,
        name: Optional[str] = None,
        cancel: Optional[CancelFn] = None,
    ) -> Callable[[T], T]:
        """Decorator form of :meth:`register_stepped`."""

        def decorate(task: T) -> T:
            self.register_stepped(
                state,
                task,
                mode=mode,
                retry=retry,
                attempt_timeout=attempt_timeout,
                name=name,
                cancel=cancel,
            )
            return task

        return decorate

    def register_timer(
        self,
        state: StateLike,
        task: Any,
        *,
        delay: Optional[Seconds] = None,
        until: Optional[Seconds] = None,
        wait: Optional[Callable[[Any], Any]] = None,
        mode: Union[TaskMode, str, None] = None,
        retry: Optional[Retry] = None,
        attempt_timeout: Optional[Seconds] = None,
        name: Optional[str] = None,
        cancel: Optional[CancelFn] = None,
    ) -> "Workflow":
        """Registers a timer task for ``state`` (cano's TimerTask, see :mod:`cano.timer`):
        each attempt waits on a loop timer, then runs the body, which returns the next state
        as any task's does.

        The wait is one of (exactly one must be given): ``delay`` seconds; ``until`` a reading
        of the engine's clock in seconds (``engine.now()``; a time in the past waits no time);
        ``wait``, a callable ``wait(ctx)`` run on the loop thread before each attempt's wait
        that returns :class:`~cano.WaitFor` ``(seconds)`` or :class:`~cano.WaitUntil`
        ``(clock_seconds)`` (an exception fails the attempt). With none of them, a task object
        with a ``wait(ctx)`` method uses that method.

        ``attempt_timeout`` bounds the wait and the body together. The default retry is
        cano's ``minimal()`` (one attempt; ``Retry.default()`` means the same here); a retried
        attempt waits again. Other options and errors as for :meth:`register`."""
        if isinstance(task, type):
            task = task()
        given = [value is not None for value in (delay, until, wait)].count(True)
        if given == 0 and callable(getattr(task, "wait", None)) and not _is_function(task):
            wait = task.wait
            given = 1
        if given != 1:
            raise TypeError("a timer task needs exactly one of delay=, until= or wait=")
        if wait is not None and not callable(wait):
            raise TypeError(f"wait must be callable, not {wait!r}")
        timer = C.timer_options_init()
        timer.delay_ms = to_ms(delay, "delay")
        timer.until_ms = to_ms(until, "until")
        if wait is not None:
            timer.wait = RUN_WAIT
        return self._register_one(
            C.cano_workflow_register_timer,
            state,
            task,
            KIND_TIMER,
            mode,
            retry,
            attempt_timeout,
            name,
            ctypes.byref(timer),
            wait=wait,
            cancel=cancel,
        )

    def timer(
        self,
        state: StateLike,
        *,
        delay: Optional[Seconds] = None,
        until: Optional[Seconds] = None,
        wait: Optional[Callable[[Any], Any]] = None,
        mode: Union[TaskMode, str, None] = None,
        retry: Optional[Retry] = None,
        attempt_timeout: Optional[Seconds] = None,
        name: Optional[str] = None,
        cancel: Optional[CancelFn] = None,
    ) -> Callable[[T], T]:
        """Decorator form of :meth:`register_timer`."""

        def decorate(task: T) -> T:
            self.register_timer(
                state,
                task,
                delay=delay,
                until=until,
                wait=wait,
                mode=mode,
                retry=retry,
                attempt_timeout=attempt_timeout,
                name=name,
                cancel=cancel,
            )
            return task

        return decorate

    def register_batch(
        self,
        state: StateLike,
        task: Any = None,
        *,
        load: Optional[Callable[[Any], Any]] = None,
        process_item: Optional[Callable[..., Any]] = None,
        finish: Optional[Callable[[Any, Any], Any]] = None,
        concurrency: Optional[int] = None,
        item_retry: Optional[Retry] = None,
        mode: Union[TaskMode, str, None] = None,
        retry: Optional[Retry] = None,
        attempt_timeout: Optional[Seconds] = None,
        name: Optional[str] = None,
    ) -> "Workflow":
        """Registers a batch task for ``state`` (cano's BatchTask, see :mod:`cano.batch`): each
        attempt calls ``load(ctx)`` for the items (an iterable of JSON values), then
        ``process_item(item)`` (or ``process_item(ctx, item)``) once per item, at most
        ``concurrency`` at a time, then ``finish(ctx, results)``, which gets one
        :class:`~cano.ItemResult` per item in input order and returns the next state.

        The three callables come from the keyword arguments, else from ``task``: a
        :class:`~cano.BatchTask` (or any object with ``load``, ``process_item`` and ``finish``
        methods), or such a class (instantiated with no arguments), whose ``concurrency``,
        ``item_retry``, ``mode``, ``retry``, ``attempt_timeout`` and ``name`` attributes supply
        the options not given here.

        ``concurrency`` defaults to 1 (cano's; 0 means 1). ``item_retry`` is each item's own
        retry policy (default one attempt; ``Retry.default()`` means the same here); an item's
        final error is its last attempt's, never a RetryExhaustedError, and does not fail the
        batch. ``retry`` (default ``Retry.default()``) retries the whole attempt (load, items,
        finish) when load or finish fails, and ``attempt_timeout`` bounds the whole attempt.
        ``mode`` is ``"worker"`` (default) or ``"inline"``; ``"async"`` is refused (a batch
        step cannot finish later).

        Raises TypeError or ValueError (naming the state) for a missing or malformed argument,
        ConfigurationError (undeclared state), BadStateError (frozen), InvalidArgumentError.
        Returns the workflow."""
        code = self._states.code(state)
        where = self._where(code)
        if isinstance(task, type):
            task = task()

        def pick(given: Any, attr: str) -> Any:
            if given is not None or task is None:
                return given
            return getattr(task, attr, None)

        load = pick(load, "load")
        process_item = pick(process_item, "process_item")
        finish = pick(finish, "finish")
        for what, fn in (("load", load), ("process_item", process_item), ("finish", finish)):
            if fn is None:
                raise TypeError(
                    f"register_batch: the batch task for {where} needs {what}= (or a task with "
                    f"a {what} method)"
                )
            if not callable(fn):
                raise TypeError(
                    f"register_batch: {what} of the batch task for {where} must be callable, "
                    f"not {fn!r}"
                )
        concurrency = pick(concurrency, "concurrency")
        item_retry = pick(item_retry, "item_retry")
        if concurrency is None:
            concurrency = 1
        if isinstance(concurrency, bool) or not isinstance(concurrency, int):
            raise TypeError(
                f"register_batch: concurrency of the batch task for {where} must be an int, "
                f"not {concurrency!r}"
            )
        if not 0 <= concurrency < 2**32:
            raise ValueError(
                f"register_batch: concurrency of the batch task for {where} must be in "
                f"[0, 2**32) (0 means 1), not {concurrency}"
            )
        if item_retry is None:
            item_retry = Retry.none()
        if not isinstance(item_retry, Retry):
            raise TypeError(
                f"register_batch: item_retry of the batch task for {where} must be a cano.Retry, "
                f"not {item_retry!r}"
            )
        mode = pick(mode, "mode")
        try:
            task_mode = TaskMode.of(mode)
        except ValueError as exc:
            raise ValueError(f"register_batch: the batch task for {where}: {exc}") from None
        if task_mode is TaskMode.ASYNC:
            raise ValueError(
                f"register_batch: the batch task for {where} cannot be mode='async' (use "
                "'worker' or 'inline')"
            )
        # The finish step is the task's body: its options come from `task` (mode, retry, ...).
        body = _FinishStep(finish, task)
        batch = C.batch_options_init()
        batch.load = RUN_BATCH_LOAD
        batch.process_item = RUN_BATCH_ITEM
        batch.concurrency = concurrency
        batch.item_retry = int(item_retry.kind)
        batch.item_retry_max_retries = item_retry.max_retries
        batch.item_retry_delay_ms = item_retry.delay_ms
        batch.item_retry_multiplier = item_retry.multiplier
        batch.item_retry_max_delay_ms = item_retry.max_delay_ms
        batch.item_retry_jitter = item_retry.jitter
        handle = self._handle
        options, token = self._options(
            body,
            KIND_BATCH,
            mode,
            retry,
            attempt_timeout,
            name,
            where=where,
            batch=BatchBodies(load, process_item),
        )
        err = ctypes.c_void_p()
        status = C.cano_workflow_register_batch(
            handle, code, ctypes.byref(options), ctypes.byref(batch), ctypes.byref(err)
        )
        if status < 0:
            _callbacks.REGISTRY.pop(token)  # released by the hook already, but for VERSION
            raise _errors.take(err.value, status, self._states.member)
        return self

    def batch(
        self,
        state: StateLike,
        *,
        concurrency: Optional[int] = None,
        item_retry: Optional[Retry] = None,
        mode: Union[TaskMode, str, None] = None,
        retry: Optional[Retry] = None,
        attempt_timeout: Optional[Seconds] = None,
        name: Optional[str] = None,
    ) -> Callable[[T], T]:
        """Decorator form of :meth:`register_batch` for a :class:`~cano.BatchTask` class (or
        instance); returns it unchanged."""

        def decorate(task: T) -> T:
            self.register_batch(
                state,
                task,
                concurrency=concurrency,
                item_retry=item_retry,
                mode=mode,
                retry=retry,
                attempt_timeout=attempt_timeout,
                name=name,
            )
            return task

        return decorate

    def register_split(
        self,
        state: StateLike,
        branches: Iterable[Any],
        *,
        join_state: StateLike,
        join: Optional[Join] = None,
        timeout: Optional[Seconds] = None,
        bulkhead: Optional[int] = None,
    ) -> "Workflow":
        """Registers a split for ``state`` (see :mod:`cano.split`): its branches run in
        parallel, and when ``join`` (default ``Join.all()``) is satisfied the run moves to
        ``join_state``, whose task reads every branch's outcome in ``ctx.split_result``.

        ``branches`` lists branch bodies: functions ``f(ctx) -> value`` (or Tasks), each
        optionally with its options as :class:`~cano.Branch` ``(f, mode=, retry=,
        attempt_timeout=, name=, cancel=)`` or a ``(f, {"mode": ...})`` tuple; an empty list
        is allowed. An async branch's ``cancel`` gets its Completion when the branch loses
        while pending (an early exit, the split timeout) or its run ends.
        ``timeout`` (seconds; None = none) is the split timeout, counted from the start of the
        split; ``bulkhead`` caps how many branches run at once (None = no limit; a branch holds
        its slot through its retries).

        ``join`` is checked when the workflow is validated (ConfigurationError with cano's
        texts), and so is ``join_state`` ("Split join_state J is neither registered nor an
        exit state"). Raises ConfigurationError (undeclared state), BadStateError (frozen),
        InvalidArgumentError, TypeError/ValueError for malformed arguments. Returns the
        workflow."""
        items = branch_list(branches)
        if join is None:
            join = Join.all()
        if not isinstance(join, Join):
            raise TypeError(f"join must be a cano.Join, not {join!r}")
        code = self._states.code(state)
        join_code = self._states.code(join_state)
        join_options = C.join_options_init()
        join.apply(join_options)
        join_options.timeout_ms = to_ms(timeout, "timeout")
        join_options.join_state = join_code
        if bulkhead is not None:
            if isinstance(bulkhead, bool) or not isinstance(bulkhead, int):
                raise TypeError(f"bulkhead must be an int or None, not {bulkhead!r}")
            if not 1 <= bulkhead < 2**32:
                raise ValueError(
                    f"bulkhead must be at least 1 (None means no limit), not {bulkhead}"
                )
            join_options.bulkhead = bulkhead
        handle = self._handle
        array = (C.cano_task_options * max(len(items), 1))()
        tokens: List[int] = []
        try:
            for index, item in enumerate(items):
                options, token = self._options(
                    item.body,
                    KIND_BRANCH,
                    item.mode,
                    item.retry,
                    item.attempt_timeout,
                    item.name,
                    index,
                    cancel=item.cancel,
                    where=self._where(code, index),
                )
                tokens.append(token)
                array[index] = options
        except BaseException:
            for token in tokens:  # the library never saw them
                _callbacks.REGISTRY.pop(token)
            raise
        err = ctypes.c_void_p()
        status = C.cano_workflow_register_split(
            handle, code, array, len(items), ctypes.byref(join_options), ctypes.byref(err)
        )
        if status < 0:
            for token in tokens:  # released by the hooks already, but for VERSION
                _callbacks.REGISTRY.pop(token)
            raise _errors.take(err.value, status, self._states.member)
        return self

    def split(
        self,
        state: StateLike,
        *,
        join_state: StateLike,
        join: Optional[Join] = None,
        timeout: Optional[Seconds] = None,
        bulkhead: Optional[int] = None,
    ) -> "SplitBuilder":
        """Registers a split with no branches yet and returns a :class:`SplitBuilder` whose
        ``@builder.branch(...)`` decorator adds branches one at a time (each addition
        re-registers the split with every branch so far)::

            fan = workflow.split(Step.Fan, join=cano.Join.any(), join_state=Step.Merge)

            @fan.branch(mode="worker")
            def ask_mirror_a(ctx):
                return download("a")
        """
        return SplitBuilder(self, state, join_state, join, timeout, bulkhead)

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

    def __repr__(self) -> str:
        return f"<cano.Workflow states={self._states.enum.__name__}>"


class SplitBuilder:
    """Adds the branches of one split state one at a time (see :meth:`Workflow.split`)."""

    def __init__(
        self,
        workflow: Workflow,
        state: StateLike,
        join_state: StateLike,
        join: Optional[Join],
        timeout: Optional[Seconds],
        bulkhead: Optional[int],
    ) -> None:
        self._workflow = workflow
        self._state = state
        self._settings = dict(join_state=join_state, join=join, timeout=timeout, bulkhead=bulkhead)
        self._branches: List[Branch] = []
        self._register()

    def _register(self) -> None:
        self._workflow.register_split(self._state, self._branches, **self._settings)

    @property
    def branches(self) -> List[Branch]:
        """The branches added so far (a copy)."""
        return list(self._branches)

    def add(
        self,
        body: Any,
        *,
        mode: Union[TaskMode, str, None] = None,
        retry: Optional[Retry] = None,
        attempt_timeout: Optional[Seconds] = None,
        name: Optional[str] = None,
        cancel: Optional[CancelFn] = None,
    ) -> "SplitBuilder":
        """Adds a branch and re-registers the split. Returns the builder."""
        branch = Branch(
            body,
            mode=mode,
            retry=retry,
            attempt_timeout=attempt_timeout,
            name=name,
            cancel=cancel,
        )
        self._branches.append(branch)
        try:
            self._register()
        except BaseException:
            self._branches.pop()
            raise
        return self

    def branch(
        self,
        *,
        mode: Union[TaskMode, str, None] = None,
        retry: Optional[Retry] = None,
        attempt_timeout: Optional[Seconds] = None,
        name: Optional[str] = None,
        cancel: Optional[CancelFn] = None,
    ) -> Callable[[T], T]:
        """Decorator form of :meth:`add`; returns the function unchanged."""

        def decorate(body: T) -> T:
            self.add(
                body,
                mode=mode,
                retry=retry,
                attempt_timeout=attempt_timeout,
                name=name,
                cancel=cancel,
            )
            return body

        return decorate

    def __repr__(self) -> str:
        return f"<cano.SplitBuilder state={self._state!r} branches={len(self._branches)}>"


class _FinishStep:
    """A batch task's finish step as the task body :func:`~cano.task.resolve` reads: the
    ``finish`` callable, with the batch task's ``mode``, ``retry``, ``attempt_timeout`` and
    ``name`` attributes as the defaults of the registration."""

    __slots__ = ("finish", "mode", "retry", "attempt_timeout", "name")

    def __init__(self, finish: Callable[..., Any], task: Any) -> None:
        self.finish = finish
        self.mode = getattr(task, "mode", None)
        self.retry = getattr(task, "retry", None)
        self.attempt_timeout = getattr(task, "attempt_timeout", None)
        name = getattr(task, "name", None)
        self.name = name if isinstance(name, str) else None

    def run(self, ctx: Any, results: Any) -> Any:
        return self.finish(ctx, results)
