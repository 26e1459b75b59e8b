"""How a raising body fails its attempt (:func:`fail_attempt`), and how the run's error gets the
Python exception back (:func:`attach_exception`).

The library carries only a code and a message across the C ABI, so the exception object itself
stays on the Python side: the latest one each run's tasks raised is kept here, keyed by engine
and run, until the run ends. A failed run's error then carries it as ``.exception`` (and the
innermost error as ``__cause__``); a run that succeeded after all drops it. Branches and batch
items keep theirs with the split's outcomes instead (:func:`cano.split.remember_branch_exception`),
since the join state's task or the batch's finish step reads them, not the run's error.
"""

from __future__ import annotations

import collections
import threading
from typing import Optional, Tuple

from . import _capi as C
from . import _errors
from ._task_spec import KIND_BRANCH, TaskSpec, task_name
from .split import remember_branch_exception
from .task import Fatal

# The latest exception each run's tasks raised, so that a failed run can hand it back:
# (engine address, run id) -> (task name, attempt, exception). Bounded; oldest dropped first.
_EXCEPTIONS: "collections.OrderedDict[Tuple[int, int], Tuple[Optional[str], int, BaseException]]"
_EXCEPTIONS = collections.OrderedDict()
_EXCEPTIONS_MAX = 256
_exceptions_lock = threading.Lock()


def _remember(ptr: int, spec: TaskSpec, exc: BaseException, name: Optional[str] = None) -> None:
    key = (C.cano_task_ctx_engine(ptr) or 0, C.cano_task_ctx_run_id(ptr))
    attempt = C.cano_task_ctx_attempt(ptr)
    with _exceptions_lock:
        _EXCEPTIONS[key] = (spec.name if name is None else name, attempt, exc)
        _EXCEPTIONS.move_to_end(key)
        while len(_EXCEPTIONS) > _EXCEPTIONS_MAX:
            _EXCEPTIONS.popitem(last=False)


def attach_exception(error: _errors.CanoError, engine_address: int) -> None:
    """Gives a run's error the Python exception behind it, when a task body raised it.

    The innermost error (the last attempt's) gets it as ``__cause__``; every level gets it as
    ``.exception``.
    """
    with _exceptions_lock:
        entry = _EXCEPTIONS.pop((engine_address, error.run_id), None)
    if entry is None:
        return
    name, attempt, exc = entry
    _errors.attach_exception_of_attempt(error, attempt, exc, name)


def forget_exception(engine_address: int, run_id: int) -> None:
    """Drops what :func:`_remember` kept for a run that succeeded after all."""
    with _exceptions_lock:
        _EXCEPTIONS.pop((engine_address, run_id), None)


def fail_attempt(ptr: int, spec: TaskSpec, exc: BaseException, item: int = -1) -> int:
    """Fails the attempt with what ``exc`` says, and keeps the exception for the error that
    will carry it. ``item`` is a batch item's index (-1 for every other body)."""
    fatal = isinstance(exc, Fatal)
    if fatal:
        code, message, original = exc.failure()  # type: ignore[attr-defined]
    else:
        code, message = _errors.failure_of(exc, C.CANO_E_TASK_EXECUTION)
        original = exc
    try:
        if item >= 0 and fatal:
            # A fatal item fails the whole task with its error, named "NAME[i]".
            _remember(ptr, spec, original, f"{task_name(ptr, spec)}[{item}]")
        elif item >= 0 or spec.kind == KIND_BRANCH:
            # An item's failure reaches the finish step's results as a branch's reaches its
            # join: by its index in the outcome list.
            remember_branch_exception(
                C.cano_task_ctx_engine(ptr) or 0,
                C.cano_task_ctx_run_id(ptr),
                C.cano_task_ctx_state(ptr),
                item if item >= 0 else spec.index,
                C.cano_task_ctx_attempt(ptr),
                original,
            )
        else:
            _remember(ptr, spec, original)
    except Exception:  # pragma: no cover - bookkeeping must never hide the failure
        pass
    fail = C.cano_task_ctx_fail_fatal if fatal else C.cano_task_ctx_fail
    return fail(ptr, code, message.encode("utf-8", "replace"))
