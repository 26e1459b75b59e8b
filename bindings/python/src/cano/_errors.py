"""The exception hierarchy, one class per C status category.

Every failing C call hands back an owned ``cano_error``; :func:`raise_for` turns it into the
matching :class:`CanoError` subclass (reading every field, the cause chain included) and frees
it. The classes mirror cano 0.13's ``CanoError`` categories (spec section 12), the finer store
codes, and the C API's own codes (category ``"api"``)::

    CanoError
    ├── TaskExecutionError         task_execution
    ├── StoreError                 store
    │   ├── KeyNotFoundError       (also a KeyError)
    │   ├── TypeMismatchError
    │   └── AppendTypeMismatchError
    ├── WorkflowError              workflow
    ├── ConfigurationError         configuration
    ├── RetryExhaustedError        retry_exhausted
    ├── CanoTimeoutError           timeout
    ├── CircuitOpenError           circuit_open
    ├── CheckpointStoreError       checkpoint_store
    ├── CompensationFailedError    compensation_failed
    ├── GenericError               generic
    ├── ResourceNotFoundError      resource_not_found
    ├── ResourceTypeMismatchError  resource_type_mismatch
    ├── ResourceDuplicateKeyError  resource_duplicate_key
    └── ApiError                   api
        ├── InvalidArgumentError, NoMemoryError, WrongThreadError, BadStateError,
        ├── CancelledError, ShutdownError, VersionError, NotFoundError, InternalError
        └── UserError

Instances are plain Python objects (no C memory), safe to keep and pass between threads.
Raising one inside a task body fails the attempt with that error's code and message.
"""

from __future__ import annotations

import ctypes
from typing import Any, Callable, Dict, Optional, Type

from . import _capi as C


def status_name(status: int) -> str:
    """The C constant's name without its prefix ("OK", "STORE_KEY_NOT_FOUND", ...)."""
    return C.cano_status_name(int(status)).decode()


class CanoError(Exception):
    """The base of every cano error.

    Attributes:
        code: the C status (a negative int, e.g. ``-5`` for RETRY_EXHAUSTED).
        status: the status name, e.g. ``"RETRY_EXHAUSTED"``.
        category: cano's snake_case category ("retry_exhausted"), or "api" for C API misuse.
        message: the message alone, as cano's ``message()``.
        display: the message with cano's Display prefix ("Retry exhausted: ...").
        description: the Display text and the context (state, task, attempt, run).
        state: the state the error came from: a member of the workflow's state enum when the
            error came out of a run and the code is declared, else the raw int, else None.
        state_name: the declared name of that state, or None.
        task: the task's name, or None.
        attempt: the 1-based attempt, or 0.
        run_id: the run's id, or 0.
        cause: the wrapped error (a RetryExhaustedError wraps the last attempt's error), or None.
        exception: the Python exception a task body raised to cause this error, when known.

    Constructing one in Python (``cano.TaskExecutionError("boom")``) gives an error with the
    class's code; raise it in a task body to fail the attempt with exactly that code and message.
    """

    #: The code a Python-constructed instance of this class gets.
    default_code: int = C.CANO_E_GENERIC

    def __init__(self, message: str = "", *, code: Optional[int] = None) -> None:
        super().__init__(message)
        self.code: int = self.default_code if code is None else int(code)
        self.message: str = message
        self.state: Any = None
        self.state_name: Optional[str] = None
        self.task: Optional[str] = None
        self.attempt: int = 0
        self.run_id: int = 0
        self.cause: Optional[CanoError] = None
        self.exception: Optional[BaseException] = None
        # Let the library normalise the code and compute the category and prefixes.
        handle = C.cano_error_new(self.code, message.encode("utf-8", "replace"))
        if handle:
            try:
                self.code = C.cano_error_code(handle)
                self.category: str = C.cano_error_category(handle).decode()
                self.display: str = _text(C.cano_error_display(handle))
                self.description: str = _text(C.cano_error_describe(handle))
            finally:
                C.cano_error_free(handle)
        else:  # pragma: no cover - out of memory
            self.category, self.display, self.description = "generic", message, message

    @property
    def status(self) -> str:
        """The status name, e.g. ``"TASK_EXECUTION"``."""
        return status_name(self.code)

    def __str__(self) -> str:
        return self.description

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, code={self.status})"

    def __reduce__(self) -> Any:
        return (_rebuild, (type(self), self.__dict__.copy()))


def _rebuild(cls: Type[CanoError], state: Dict[str, Any]) -> CanoError:
    error = cls.__new__(cls)
    Exception.__init__(error, state.get("message", ""))
    error.__dict__.update(state)
    return error


def _text(value: Optional[bytes]) -> str:
    return value.decode("utf-8", "replace") if value is not None else ""


class TaskExecutionError(CanoError):
    """A task failed (category task_execution); Python exceptions in tasks become this."""

    default_code = C.CANO_E_TASK_EXECUTION


class StoreError(CanoError):
    """A MemoryStore failure (category store)."""

    default_code = C.CANO_E_STORE


class KeyNotFoundError(StoreError, KeyError):
    """``Key not found: Key 'k' not found in store``."""

    default_code = C.CANO_E_STORE_KEY_NOT_FOUND

    def __str__(self) -> str:  # KeyError would quote the text
        return self.description


class TypeMismatchError(StoreError):
    """``Type mismatch: Cannot downcast value for key 'k' to requested type``."""

    default_code = C.CANO_E_STORE_TYPE_MISMATCH


class AppendTypeMismatchError(StoreError):
    """``Append type mismatch: Cannot append to key 'k': existing value is not a Vec<TState>``."""

    default_code = C.CANO_E_STORE_APPEND_TYPE_MISMATCH


class WorkflowError(CanoError):
    """A workflow failure: no task for a state, workflow timeout (category workflow)."""

    default_code = C.CANO_E_WORKFLOW


class ConfigurationError(CanoError):
    """Validation and initial-state errors (category configuration)."""

    default_code = C.CANO_E_CONFIGURATION


class RetryExhaustedError(CanoError):
    """Every attempt failed; ``cause`` is the last attempt's error (category retry_exhausted)."""

    default_code = C.CANO_E_RETRY_EXHAUSTED


class CanoTimeoutError(CanoError):
    """An attempt exceeded its attempt_timeout (category timeout)."""

    default_code = C.CANO_E_TIMEOUT


class CircuitOpenError(CanoError):
    """A circuit breaker rejected the call (category circuit_open)."""

    default_code = C.CANO_E_CIRCUIT_OPEN


class CheckpointStoreError(CanoError):
    """A checkpoint store failure (category checkpoint_store)."""

    default_code = C.CANO_E_CHECKPOINT_STORE


class CompensationFailedError(CanoError):
    """A saga rollback failed (category compensation_failed)."""

    default_code = C.CANO_E_COMPENSATION_FAILED


class GenericError(CanoError):
    """cano's Generic error (category generic)."""

    default_code = C.CANO_E_GENERIC


class ResourceNotFoundError(CanoError):
    """No resource under the key (category resource_not_found)."""

    default_code = C.CANO_E_RESOURCE_NOT_FOUND


class ResourceTypeMismatchError(CanoError):
    """The resource under the key has another type tag (category resource_type_mismatch)."""

    default_code = C.CANO_E_RESOURCE_TYPE_MISMATCH


class ResourceDuplicateKeyError(CanoError):
    """A key was inserted twice (category resource_duplicate_key)."""

    default_code = C.CANO_E_RESOURCE_DUPLICATE_KEY


class ApiError(CanoError):
    """Misuse of the C API (category api)."""

    default_code = C.CANO_E_INVALID_ARGUMENT


class InvalidArgumentError(ApiError):
    """A NULL, empty or out-of-range argument."""

    default_code = C.CANO_E_INVALID_ARGUMENT


class NoMemoryError(ApiError):
    """The library ran out of memory."""

    default_code = C.CANO_E_NO_MEMORY


class WrongThreadError(ApiError):
    """A call made on a thread where it is not allowed (e.g. a blocking run on the loop)."""

    default_code = C.CANO_E_WRONG_THREAD


class BadStateError(ApiError):
    """E.g. a second completion of an async attempt, or building a frozen workflow."""

    default_code = C.CANO_E_BAD_STATE


class CancelledError(ApiError):
    """The run was cancelled."""

    default_code = C.CANO_E_CANCELLED


class ShutdownError(ApiError):
    """The engine is shutting down or shut down."""

    default_code = C.CANO_E_SHUTDOWN


class VersionError(ApiError):
    """An options struct smaller than any released layout."""

    default_code = C.CANO_E_VERSION


class NotFoundError(ApiError):
    """A lookup by id found nothing (a run no longer in flight, no pending timer)."""

    default_code = C.CANO_E_NOT_FOUND


class InternalError(ApiError):
    """A bug or an unexpected exception inside the library."""

    default_code = C.CANO_E_INTERNAL


class UserError(ApiError):
    """Raised by a user callback; never produced by the library."""

    default_code = C.CANO_E_USER


_BY_CODE: Dict[int, Type[CanoError]] = {
    cls.default_code: cls
    for cls in (
        TaskExecutionError,
        StoreError,
        KeyNotFoundError,
        TypeMismatchError,
        AppendTypeMismatchError,
        WorkflowError,
        ConfigurationError,
        RetryExhaustedError,
        CanoTimeoutError,
        CircuitOpenError,
        CheckpointStoreError,
        CompensationFailedError,
        GenericError,
        ResourceNotFoundError,
        ResourceTypeMismatchError,
        ResourceDuplicateKeyError,
        InvalidArgumentError,
        NoMemoryError,
        WrongThreadError,
        BadStateError,
        CancelledError,
        ShutdownError,
        VersionError,
        NotFoundError,
        InternalError,
        UserError,
    )
}


def class_for(code: int) -> Type[CanoError]:
    """The exception class for a status code (CanoError for unknown codes)."""
    return _BY_CODE.get(int(code), CanoError)


def error_for(code: int, message: str = "") -> CanoError:
    """Builds the exception of the right class for ``code`` with ``message``."""
    return class_for(code)(message, code=code)


StateMapper = Callable[[int], Any]


def from_handle(handle: int, states: Optional[StateMapper] = None) -> CanoError:
    """Reads a borrowed ``const cano_error *`` (and its cause chain) into an exception.

    ``states`` maps a state code to the workflow's enum member (or returns the int).
    The handle is not freed.
    """
    code = C.cano_error_code(handle)
    cls = class_for(code)
    error = cls.__new__(cls)
    message = _text(C.cano_error_message(handle))
    Exception.__init__(error, message)
    error.code = code
    error.message = message
    error.category = C.cano_error_category(handle).decode()
    error.display = _text(C.cano_error_display(handle))
    error.description = _text(C.cano_error_describe(handle))
    raw_state = ctypes.c_int32()
    if C.cano_error_state(handle, ctypes.byref(raw_state)):
        error.state = states(raw_state.value) if states is not None else raw_state.value
    else:
        error.state = None
    name = C.cano_error_state_name(handle)
    error.state_name = name.decode() if name is not None else None
    task = C.cano_error_task_name(handle)
    error.task = task.decode() if task is not None else None
    error.attempt = C.cano_error_attempt(handle)
    error.run_id = C.cano_error_run_id(handle)
    error.exception = None
    cause = C.cano_error_cause(handle)
    error.cause = from_handle(cause, states) if cause else None
    if error.cause is not None:
        error.__cause__ = error.cause
    return error


def take(handle: Optional[int], status: int, states: Optional[StateMapper] = None) -> CanoError:
    """Converts an owned error out-parameter (possibly NULL) to an exception and frees it."""
    if not handle:
        return error_for(status, f"failed with status {status_name(status)}")
    try:
        return from_handle(handle, states)
    finally:
        C.cano_error_free(handle)


def check(status: int, err: ctypes.c_void_p, states: Optional[StateMapper] = None) -> int:
    """Raises the error held by ``err`` when ``status`` is negative; returns ``status``."""
    if status < 0:
        raise take(err.value, status, states)
    return status


def attach_exception_of_attempt(
    error: CanoError, attempt: int, exc: BaseException, task: Optional[str] = None
) -> None:
    """Gives ``error`` the Python exception a body raised in attempt ``attempt``, when the
    innermost error of its cause chain is that attempt's (and, if ``task`` is given, that task's):
    every level gets it as ``.exception``, the innermost also as ``__cause__``. Otherwise the
    exception belongs to another failure and ``error`` is left as it is."""
    innermost = error
    while innermost.cause is not None:
        innermost = innermost.cause
    if innermost.attempt != attempt:
        return
    if task is not None and innermost.task != task:
        return
    level: Optional[CanoError] = error
    while level is not None:
        level.exception = exc
        level = level.cause
    innermost.__cause__ = exc


def describe_exception(exc: BaseException) -> str:
    """The text a Python exception contributes to a task failure: ``"ExcType: message"``."""
    text = str(exc)
    name = type(exc).__name__
    return f"{name}: {text}" if text else name


def failure_of(exc: BaseException, default_code: int) -> "tuple[int, str]":
    """The (code, message) a callback reports for ``exc``: a CanoError keeps its own code and
    message; any other exception gets ``default_code`` and ``"ExcType: message"``."""
    if isinstance(exc, CanoError):
        return exc.code, exc.message
    return default_code, describe_exception(exc)
