"""What every registration of a :class:`~cano.Workflow` builds on (:class:`WorkflowBase`): the
workflow's handle, and turning a body with its options into a ``cano_task_options`` that the
library calls back through the right trampoline.

:class:`~cano.Workflow` registers plain tasks itself; the other processing models register
through the mixins in :mod:`cano._state_models` (routers, poll, stepped and timer tasks) and
:mod:`cano._fan_out_models` (batch tasks and splits), which share this base.
"""

from __future__ import annotations

import ctypes
import enum
from typing import TYPE_CHECKING, Any, Callable, Iterable, NoReturn, Optional, Type, TypeVar, Union

from . import _callbacks, _errors
from . import _capi as C
from ._batch_trampolines import RUN_BATCH_FINISH
from ._states import StateLike, StateSpace
from ._task_spec import KIND_BATCH, KIND_BRANCH, TaskSpec
from ._task_trampolines import CANCEL, RUN_BRANCH, RUN_TASK
from .task import CancelFn, Retry, Seconds, TaskMode, resolve, resolve_cancel

if TYPE_CHECKING:  # pragma: no cover
    from .batch import BatchBodies
    from .resources import Resources
    from .workflow import Workflow


T = TypeVar("T")


def registering(register: Callable[..., Any], *args: Any, **options: Any) -> Callable[[T], T]:
    """The decorator forms of the register_* methods: a decorator that calls
    ``register(*args, target, **options)`` with what it decorates and returns that unchanged."""

    def decorate(target: T) -> T:
        register(*args, target, **options)
        return target

    return decorate


class WorkflowBase(_callbacks.OwnedHandle):
    """The handle and the registration helpers of a workflow (see the module docstring)."""

    def __init__(self, states: Union[Type[enum.Enum], Iterable[str]]) -> None:
        # Workflow.__init__ sets the handle once the library created the workflow, and the
        # resources with it.
        self._ptr: Optional[int] = None
        self._states = StateSpace(states)
        self._resources: Resources

    @property
    def _handle(self) -> int:
        if self._ptr is None:
            raise _errors.BadStateError("the workflow was closed", code=C.CANO_E_BAD_STATE)
        return self._ptr

    def _call(self, fn: Callable[..., int], *args: Any) -> None:
        err = ctypes.c_void_p()
        _errors.check(fn(self._handle, *args, ctypes.byref(err)), err, self._states.member)

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
        batch: Optional["BatchBodies"] = None,
    ) -> "tuple[C.cano_task_options, int]":
        """A filled cano_task_options for ``task`` and the registry token it refers to (the
        caller hands the token to the library, or pops it on a failure before that)."""
        if isinstance(task, type):
            task = task()
        body, task_mode, task_retry, timeout_ms, task_name = resolve(
            task, mode, retry, attempt_timeout, name
        )
        task_cancel = resolve_cancel(task, task_mode, cancel, where)
        spec = TaskSpec(
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
        """Registers one body for ``state`` through ``c_register`` (``cano_workflow_register``
        or one of its kin), with ``extra`` the model's own C options before the error out."""
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
            self._raise_dropping([token], err, status)
        return self  # type: ignore[return-value]

    def _raise_dropping(self, tokens: "list[int]", err: ctypes.c_void_p, status: int) -> NoReturn:
        """Raises the error of a call that was to keep the objects behind ``tokens`` (tasks, a
        run's handle), after dropping their registry entries: the library keeps none of them
        (for tasks it ran their destroy hooks already, except on a VERSION error)."""
        for token in tokens:
            _callbacks.REGISTRY.pop(token)
        raise _errors.take(err.value, status, self._states.member)
