"""Registering the processing models that run one body per state besides a plain task:
routers (:meth:`~cano.Workflow.register_router`), poll tasks
(:meth:`~cano.Workflow.register_poll`), stepped tasks (:meth:`~cano.Workflow.register_stepped`)
and timer tasks (:meth:`~cano.Workflow.register_timer`), each with its decorator form.

:class:`StateModels` is a mixin of :class:`~cano.Workflow`; its methods are documented as the
workflow's own. Each checks its model's options, then registers through
:meth:`~cano._workflow_base.WorkflowBase._register_one`.
"""

from __future__ import annotations

import ctypes
from typing import TYPE_CHECKING, Any, Callable, Optional, TypeVar, Union

from . import _capi as C
from ._states import StateLike
from ._task_spec import KIND_POLL, KIND_ROUTER, KIND_STEPPED, KIND_TIMER
from ._task_trampolines import RUN_WAIT
from ._workflow_base import WorkflowBase, registering
from .poll import PollPolicy
from .task import CancelFn, Retry, Seconds, TaskMode, _is_function, to_ms

if TYPE_CHECKING:  # pragma: no cover
    from .workflow import Workflow

T = TypeVar("T")


class StateModels(WorkflowBase):
    """The router, poll, stepped and timer registrations of a :class:`~cano.Workflow`."""

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
        return registering(
            self.register_router,
            state,
            mode=mode,
            retry=retry,
            attempt_timeout=attempt_timeout,
            name=name,
            cancel=cancel,
        )

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
        return registering(
            self.register_poll,
            state,
            policy=policy,
            max_errors=max_errors,
            mode=mode,
            retry=retry,
            attempt_timeout=attempt_timeout,
            name=name,
            cancel=cancel,
        )

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
        return registering(
            self.register_stepped,
            state,
            mode=mode,
            retry=retry,
            attempt_timeout=attempt_timeout,
            name=name,
            cancel=cancel,
        )

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
        return registering(
            self.register_timer,
            state,
            delay=delay,
            until=until,
            wait=wait,
            mode=mode,
            retry=retry,
            attempt_timeout=attempt_timeout,
            name=name,
            cancel=cancel,
        )
