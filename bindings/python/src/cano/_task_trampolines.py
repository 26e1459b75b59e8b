"""The C callbacks every Python task, router, poll, stepped and timer task and split branch is
registered with (:data:`RUN_TASK`, :data:`RUN_BRANCH`, :data:`RUN_WAIT`, :data:`CANCEL`), and
the pieces the batch trampolines share with them (:func:`guarded`, :func:`status_for`).

Each trampoline is one ``CFUNCTYPE`` object created at import, so it can never be collected
while the library holds its address; the registry token in ``user_data`` says which body to
call (a :class:`~cano._task_spec.TaskSpec`). A trampoline never lets an exception unwind into C:
a body's exception fails the attempt (:func:`~cano._task_failures.fail_attempt`), and any other
one (a bug of the binding) fails it with an internal error.
"""

from __future__ import annotations

from typing import Any, Callable

from . import _callbacks, _errors
from . import _capi as C
from ._task_context import Completion, TaskContext, pending_completions
from ._task_failures import fail_attempt
from ._task_spec import KIND_BATCH, KIND_BRANCH, KIND_POLL, KIND_STEPPED, TaskSpec, task_name
from .poll import Pending
from .split import encode_value
from .stepped import More
from .task import PENDING
from .timer import WaitFor, WaitUntil

# Module globals bound once, so that the trampolines pay one dictionary lookup per name.
_tls = _callbacks._tls
_registry_get = _callbacks.REGISTRY.get
_ctx_next = C.cano_task_ctx_next
_ctx_fail = C.cano_task_ctx_fail
_ctx_set_value = C.cano_task_ctx_set_value
_ctx_step_more = C.cano_task_ctx_step_more
_PENDING_STATUS = C.CANO_PENDING
_OK = C.CANO_OK


def fail_with_message(ptr: int, message: str) -> int:
    """Fails the attempt with a ``task_execution`` error saying ``message``: what a trampoline
    does when a body answered something it cannot use."""
    return _ctx_fail(ptr, C.CANO_E_TASK_EXECUTION, message.encode("utf-8", "replace"))


def internal_failure(ptr: int, exc: BaseException) -> int:
    """The status of a trampoline that failed itself (a bug of the binding, never a body's
    exception): an internal error, reported without ever raising."""
    try:
        return _ctx_fail(ptr, C.CANO_E_INTERNAL, _errors.describe_exception(exc).encode())
    except BaseException:
        return C.CANO_E_INTERNAL


def guarded(step: Callable[[int, TaskSpec], int]) -> Callable[[int, int], int]:
    """Turns ``step(ptr, spec)`` into a task callback ``(ptr, user_data) -> status``: it pins
    the engine's thread on its first callback, counts the callback depth that
    :func:`cano._callbacks.in_callback` reads, looks the spec up and never lets an exception
    unwind into C. (:func:`_run_task` spells the same out for speed.)"""

    def trampoline(ptr: int, user_data: int) -> int:
        try:
            depth = _tls.depth
        except AttributeError:
            _callbacks.pin_thread()
            depth = 0
        _tls.depth = depth + 1
        try:
            return step(ptr, _registry_get(user_data))
        except BaseException as exc:  # pragma: no cover - defensive: never unwind into C
            return internal_failure(ptr, exc)
        finally:
            _tls.depth = depth

    return trampoline


# --- what a body returned -------------------------------------------------------------------


def status_for(ptr: int, spec: TaskSpec, result: Any) -> int:
    """Turns what a body returned into the attempt's status: the next state (a member of the
    state enum, or anything else the workflow's states accept), another step (:class:`More`),
    a poll again (:class:`Pending`), or a failure naming what was wrong. Used by the task
    trampoline and by a batch task's finish step."""
    if result.__class__ is spec.enum:
        return _ctx_next(ptr, result._value_)
    try:
        code = spec.states.code(result)
    except (TypeError, ValueError):
        if result.__class__ is More:
            return _step_more(ptr, spec, result)
        if result.__class__ is Pending or result is Pending:
            return _not_ready(ptr, result)
        return _bad_result(ptr, spec, result, False)
    return _ctx_next(ptr, code)


def _step_more(ptr: int, spec: TaskSpec, more: More) -> int:
    """A body returned :class:`More`: hands its cursor to the library, which calls the body
    again (a stepped task's next step, or the next turn of any other task's loop)."""
    try:
        data = more.data
    except (TypeError, ValueError) as exc:
        return fail_with_message(ptr, f"serialize cursor for `{task_name(ptr, spec)}`: {exc}")
    return _ctx_step_more(ptr, data, len(data))


def _bad_result(ptr: int, spec: TaskSpec, result: Any, deferred: bool) -> int:
    poll = spec.kind == KIND_POLL
    if deferred:
        message = (
            f"async task body returned {result!r} after ctx.defer(); return None and finish "
            "through the Completion"
        )
    elif result is PENDING:
        message = (
            "task body returned cano.PENDING without ctx.defer()"
            + ("; return cano.Pending(delay) to be polled again" if poll else "")
        )
    elif result is None:
        if poll:
            message = "poll task body returned None; return the next state or cano.Pending(delay)"
        elif spec.kind == KIND_BATCH:
            message = "batch finish returned None; return the next state"
        elif spec.kind == KIND_STEPPED:
            message = "stepped task body returned None; return the next state or cano.More(cursor)"
        else:
            message = "task body returned None; return the next state"
    else:
        message = f"task body returned {result!r}, which is not a state of {spec.enum.__name__}"
    return fail_with_message(ptr, message)


def _not_ready(ptr: int, result: Any) -> int:
    """A body returned :class:`Pending` (or the class itself). The library fails the attempt of
    a task that is not a poll task ("task returned CANO_POLL_AGAIN but is not registered as a
    poll task"), as it does for every binding."""
    return C.cano_task_ctx_poll_again(ptr, 0 if result is Pending else result.delay_ms)


# --- the trampolines ------------------------------------------------------------------------


def _run_task(ptr: int, user_data: int) -> int:
    # Every transition of every Python task runs through here, so this trampoline spells out
    # what guarded() and status_for() do instead of calling them: a member of the state enum,
    # the common answer, then costs no Python call besides the body's. (Calling both cost
    # about 60 ns, 5 %, of an inline transition in bench/transition_bench.py.)
    try:
        depth = _tls.depth
    except AttributeError:
        _callbacks.pin_thread()
        depth = 0
    _tls.depth = depth + 1
    try:
        spec: TaskSpec = _registry_get(user_data)
        context = TaskContext(ptr, spec)
        try:
            result = spec.fn(context)
        except BaseException as exc:  # noqa: B902 - a body must never unwind into C
            context._ptr = None
            return fail_attempt(ptr, spec, exc)
        context._ptr = None
        if context._completion is not None:
            if result is None or result is PENDING:
                return _PENDING_STATUS
            return _bad_result(ptr, spec, result, True)
        if result.__class__ is spec.enum:
            return _ctx_next(ptr, result._value_)
        return status_for(ptr, spec, result)
    except BaseException as exc:  # pragma: no cover - defensive: never unwind into C
        return internal_failure(ptr, exc)
    finally:
        _tls.depth = depth


#: The one task trampoline every Python task, router, poll, stepped and timer task is
#: registered with.
RUN_TASK = C.cano_task_fn(_run_task)


def _run_branch(ptr: int, spec: TaskSpec) -> int:
    """A split branch's body: what it returns is its value, not a state."""
    context = TaskContext(ptr, spec)
    try:
        result = spec.fn(context)
    except BaseException as exc:  # noqa: B902 - a body must never unwind into C
        context._ptr = None
        return fail_attempt(ptr, spec, exc)
    context._ptr = None
    if context._completion is not None:
        if result is None or result is PENDING:
            return _PENDING_STATUS
        return fail_with_message(
            ptr,
            f"async branch body returned {result!r} after ctx.defer(); set its value with "
            "ctx.set_value() before deferring, return None and finish through the Completion",
        )
    if result is None or result.__class__ is spec.enum:
        return _OK  # no value; a state chosen by a branch is ignored
    if isinstance(result, More):
        return fail_with_message(
            ptr, "a split branch cannot return cano.More (branches have no steps)"
        )
    try:
        data = encode_value(result)
    except TypeError as exc:
        return fail_with_message(ptr, str(exc))
    _ctx_set_value(ptr, data, len(data))  # type: ignore[arg-type]
    return _OK


#: The trampoline every branch of a Python split is registered with.
RUN_BRANCH = C.cano_task_fn(guarded(_run_branch))


def _run_wait(ptr: int, spec: TaskSpec) -> int:
    """A timer task's wait callback (on the loop thread): asks the task's ``wait`` callable and
    records its answer; an exception fails the attempt as a raising body would."""
    context = TaskContext(ptr, spec)
    try:
        result = spec.wait(context)  # type: ignore[misc]
    except BaseException as exc:  # noqa: B902 - a callback must never unwind into C
        context._ptr = None
        return fail_attempt(ptr, spec, exc)
    context._ptr = None
    if context._completion is not None:
        message = "a timer's wait callable cannot defer (ctx.defer() is for async bodies)"
    elif isinstance(result, WaitFor):
        return C.cano_task_ctx_wait_for(ptr, result.delay_ms)
    elif isinstance(result, WaitUntil):
        return C.cano_task_ctx_wait_until(ptr, result.clock_ms)
    else:
        message = (
            f"timer wait callable returned {result!r}; return cano.WaitFor(seconds) or "
            "cano.WaitUntil(clock_seconds)"
        )
    return fail_with_message(ptr, message)


#: The wait callback of every Python timer task that has a ``wait`` callable.
RUN_WAIT = C.cano_timer_wait_fn(guarded(_run_wait))


def _cancel_notice(token: int, user_data: int) -> None:
    """cano_task_options.cancel of every async Python task and branch (on the loop thread):
    marks the abandoned attempt's Completion cancelled and hands it to the ``cancel``
    callable."""
    try:
        depth = _tls.depth
    except AttributeError:
        _callbacks.pin_thread()
        depth = 0
    _tls.depth = depth + 1
    try:
        spec: TaskSpec = _registry_get(user_data)
        completion = pending_completions().pop(token, None)
        if completion is None:
            # Nobody kept it: a fresh one stands for the attempt (same token, same engine).
            from .engine import _BY_ADDRESS

            engine = _BY_ADDRESS.get(getattr(_tls, "loop_engine", 0))
            completion = Completion(engine, token, spec.states, spec.kind == KIND_BRANCH)
        completion._cancelled = True
        if spec.cancel is not None:
            spec.cancel(completion)
    except BaseException as exc:  # noqa: B902 - a callback must never unwind into C
        _callbacks.report("an async task's cancel callback", exc)
    finally:
        _tls.depth = depth


#: The cancel callback of every async Python task and branch.
CANCEL = C.cano_cancel_fn(_cancel_notice)
