"""Registering the processing models that fan one state out to many body calls: batch tasks
(:meth:`~cano.Workflow.register_batch`, one call per item) and splits
(:meth:`~cano.Workflow.register_split`, one body per branch, also built one branch at a time
with :class:`SplitBuilder`), each with its decorator form.

:class:`FanOutModels` is a mixin of :class:`~cano.Workflow`; its methods are documented as the
workflow's own. Both register several Python bodies under one state, each under its own
registry token, and hand the library their model's own C options besides the task options.
"""

from __future__ import annotations

import ctypes
from typing import TYPE_CHECKING, Any, Callable, Iterable, List, Optional, TypeVar, Union

from . import _callbacks
from . import _capi as C
from ._batch_trampolines import RUN_BATCH_ITEM, RUN_BATCH_LOAD
from ._states import StateLike
from ._task_spec import KIND_BATCH, KIND_BRANCH
from ._workflow_base import WorkflowBase, registering
from .batch import BatchBodies
from .split import Branch, Join, branch_list
from .task import CancelFn, Retry, Seconds, TaskMode, to_ms

if TYPE_CHECKING:  # pragma: no cover
    from .workflow import Workflow

T = TypeVar("T")


class FanOutModels(WorkflowBase):
    """The batch and split registrations of a :class:`~cano.Workflow`."""

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
            self._raise_dropping([token], err, status)
        return self  # type: ignore[return-value]

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
        return registering(
            self.register_batch,
            state,
            concurrency=concurrency,
            item_retry=item_retry,
            mode=mode,
            retry=retry,
            attempt_timeout=attempt_timeout,
            name=name,
        )

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
            self._raise_dropping(tokens, err, status)
        return self  # type: ignore[return-value]

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
        workflow: Any = self  # a Workflow: this class is one of its mixins
        return SplitBuilder(workflow, state, join_state, join, timeout, bulkhead)


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
        return registering(
            self.add,
            mode=mode,
            retry=retry,
            attempt_timeout=attempt_timeout,
            name=name,
            cancel=cancel,
        )

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
