"""Tasks: where a body runs (:class:`TaskMode`), its retries (:class:`Retry`), the context it
gets (:class:`TaskContext`) and async completion (:class:`Completion`).

A task body is any callable taking one argument, the context, and returning the next state::

    def fetch(ctx: cano.TaskContext) -> Step:
        config = ctx.resources.get("config", FetchConfig)
        ctx.store.put("data", list(range(1, config.batch_size + 1)))
        return Step.Process

Raising fails the attempt: a :class:`~cano.CanoError` keeps its code and message; any other
exception becomes a ``task_execution`` failure whose message is ``"ExcType: message"``. Failed
attempts are retried as the task's :class:`Retry` says, except a :class:`Fatal` one, which ends
the task's retries at once. A body never crashes the engine and an exception never vanishes:
when the run fails, the raised error carries it in ``.exception``.

Threads: an ``inline`` body runs on the engine's loop thread (keep it short, never block); a
``worker`` body on one of the engine's worker threads (it may block; poll ``ctx.cancelled``);
an ``async`` body on the loop thread, and it may call ``ctx.defer()`` to finish later from any
thread through the returned :class:`Completion`. Every body holds the GIL while it runs.

Cancel notices: when the engine abandons a pending async attempt (its attempt timed out, its
split branch lost, its run was cancelled or timed out, the engine shut down), its
:class:`Completion` turns ``cancelled`` and the registration's ``cancel`` callable, if any, is
called with it on the loop thread, so that the body can stop the work it started::

    def fetch(ctx):
        completion = ctx.defer()
        request = client.get_async(url, on_done=lambda r: completion.complete(Step.Parse))
        requests[completion.token] = request

    workflow.register(Step.Fetch, fetch, mode="async", attempt_timeout=5,
                      cancel=lambda completion: requests.pop(completion.token).abort())
"""

from __future__ import annotations

import ctypes
import datetime
import enum
from dataclasses import dataclass
from typing import Any, Callable, Optional, Tuple, Union

from . import _capi as C
from . import _errors

# TaskContext and Completion live in their own module; they are part of this module's API too.
from ._task_context import Completion, TaskContext

Seconds = Union[float, int, datetime.timedelta]


def to_ms(value: Optional[Seconds], what: str) -> int:
    """Converts seconds (a number or a timedelta) to whole milliseconds (rounded)."""
    if value is None:
        return 0
    if isinstance(value, datetime.timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        raise TypeError(f"{what} must be a number of seconds or a timedelta, not {value!r}")
    if seconds < 0 or seconds != seconds:
        raise ValueError(f"{what} must be a non-negative duration, not {value!r}")
    return int(round(seconds * 1000.0))


class TaskMode(enum.IntEnum):
    """Where a task body runs (cano_task_mode)."""

    WORKER = C.CANO_TASK_WORKER
    INLINE = C.CANO_TASK_INLINE
    ASYNC = C.CANO_TASK_ASYNC

    @classmethod
    def of(cls, mode: Union["TaskMode", str, int, None]) -> "TaskMode":
        """Accepts a member, its name in any case ("inline"), or its int value."""
        if mode is None:
            return cls.WORKER
        if isinstance(mode, str):
            try:
                return cls[mode.upper()]
            except KeyError:
                raise ValueError(
                    f"unknown task mode {mode!r}; use 'inline', 'worker' or 'async'"
                ) from None
        return cls(mode)


class RetryKind(enum.IntEnum):
    """cano's RetryMode (cano_retry_kind)."""

    DEFAULT = C.CANO_RETRY_DEFAULT
    NONE = C.CANO_RETRY_NONE
    FIXED = C.CANO_RETRY_FIXED
    EXPONENTIAL = C.CANO_RETRY_EXPONENTIAL


@dataclass(frozen=True)
class Retry:
    """A task's retry policy. Immutable; share it freely.

    Build one with :meth:`none`, :meth:`fixed`, :meth:`exponential` or :meth:`default`. Delays
    are kept in whole milliseconds, as the C ABI and cano use them.
    """

    kind: RetryKind = RetryKind.DEFAULT
    max_retries: int = 0
    delay_ms: int = 0
    multiplier: float = 0.0
    max_delay_ms: int = 0
    jitter: float = 0.0

    @classmethod
    def default(cls) -> "Retry":
        """cano's ``TaskConfig::default()``: exponential, 3 retries, 100 ms base, x2, 30 s cap,
        10 % jitter (4 attempts)."""
        return cls(RetryKind.DEFAULT)

    @classmethod
    def none(cls) -> "Retry":
        """One attempt (cano's ``TaskConfig::minimal()``)."""
        options = C.task_options_init()
        C.cano_task_options_retry_none(ctypes.byref(options))
        return cls._of(options)

    @classmethod
    def fixed(cls, retries: int, delay: Seconds = 0.0) -> "Retry":
        """``retries + 1`` attempts with ``delay`` seconds between them."""
        options = C.task_options_init()
        C.cano_task_options_retry_fixed(
            ctypes.byref(options), _u32(retries, "retries"), to_ms(delay, "delay")
        )
        return cls._of(options)

    @classmethod
    def exponential(
        cls,
        max_retries: int,
        base_delay: Optional[Seconds] = None,
        multiplier: Optional[float] = None,
        max_delay: Optional[Seconds] = None,
        jitter: Optional[float] = None,
    ) -> "Retry":
        """``max_retries + 1`` attempts; after failed attempt i (0-based) wait
        ``min(base_delay * multiplier**i, max_delay) * (1 + jitter * r)``, r uniform in [-1, 1].
        Omitted parameters take cano's ``RetryMode::exponential`` values (0.1 s, 2.0, 30 s,
        0.1); the library clamps ``jitter`` into [0, 1]."""
        options = C.task_options_init()
        C.cano_task_options_retry_exponential(
            ctypes.byref(options), _u32(max_retries, "max_retries")
        )
        if base_delay is not None:
            options.retry_delay_ms = to_ms(base_delay, "base_delay")
        if multiplier is not None:
            options.retry_multiplier = float(multiplier)
        if max_delay is not None:
            options.retry_max_delay_ms = to_ms(max_delay, "max_delay")
        if jitter is not None:
            options.retry_jitter = float(jitter)
        return cls._of(options)

    @classmethod
    def _of(cls, options: C.cano_task_options) -> "Retry":
        return cls(
            RetryKind(options.retry),
            options.retry_max_retries,
            options.retry_delay_ms,
            options.retry_multiplier,
            options.retry_max_delay_ms,
            options.retry_jitter,
        )

    def apply(self, options: C.cano_task_options) -> None:
        """Writes the retry fields of a ``cano_task_options``."""
        options.retry = int(self.kind)
        options.retry_max_retries = self.max_retries
        options.retry_delay_ms = self.delay_ms
        options.retry_multiplier = self.multiplier
        options.retry_max_delay_ms = self.max_delay_ms
        options.retry_jitter = self.jitter

    def _options(self) -> C.cano_task_options:
        options = C.task_options_init()
        self.apply(options)
        return options

    @property
    def max_attempts(self) -> int:
        """The number of attempts this policy allows (cano_task_options_max_attempts)."""
        return C.cano_task_options_max_attempts(ctypes.byref(self._options()))

    def delay_ms_for_attempt(self, attempt_index: int, random_unit: float = 0.0) -> Optional[int]:
        """The delay in ms after failed attempt ``attempt_index`` (0-based), with
        ``random_unit`` in [-1, 1] standing for the jitter draw; None when no retry follows."""
        delay = C.cano_task_options_retry_delay(
            ctypes.byref(self._options()), _u32(attempt_index, "attempt_index"), random_unit
        )
        return None if delay < 0 else delay

    def delay_for_attempt(self, attempt_index: int, random_unit: float = 0.0) -> Optional[float]:
        """:meth:`delay_ms_for_attempt` in seconds."""
        delay = self.delay_ms_for_attempt(attempt_index, random_unit)
        return None if delay is None else delay / 1000.0


def _u32(value: int, what: str) -> int:
    value = int(value)
    if not 0 <= value < 2**32:
        raise ValueError(f"{what} must be in [0, 2**32), not {value}")
    return value


#: What an async body returns after :meth:`TaskContext.defer` (``None`` works as well).
PENDING = object()


class Fatal(Exception):
    """Raise it in a task (or branch) body to fail the attempt *without retries*: the failure
    ends the task's retries at once and the run's error is the failure itself, never wrapped in
    a :class:`~cano.RetryExhaustedError` (what cano does with a panic; cano_task_ctx_fail_fatal).

    ``Fatal(exc)`` reports ``exc`` as a raising body would (a CanoError keeps its code and
    message, any other exception becomes a ``task_execution`` failure ``"ExcType: message"``);
    ``Fatal("message", code=...)`` gives the message and code (default TASK_EXECUTION);
    ``raise cano.Fatal() from exc`` is ``Fatal(exc)``. ``code`` overrides the code in every
    form. When the run fails, its error's ``.exception`` is the wrapped exception (or the Fatal
    itself when it wraps none).

    An async attempt is fatal only when its body raises Fatal; a :class:`Completion` cannot fail
    fatally (the C ABI has no such completion).
    """

    def __init__(
        self, error: Union[str, BaseException, None] = None, *, code: Optional[int] = None
    ) -> None:
        super().__init__(error if error is not None else "")
        self.error: Union[str, BaseException, None] = error
        self.code: Optional[int] = None if code is None else int(code)

    def failure(self) -> Tuple[int, str, BaseException]:
        """(code, message, the exception behind it) as the attempt reports them."""
        error = self.error
        if error is None and self.__cause__ is not None:
            error = self.__cause__
        if isinstance(error, BaseException):
            code, message = _errors.failure_of(error, C.CANO_E_TASK_EXECUTION)
            original: BaseException = error
        else:
            code, message, original = C.CANO_E_TASK_EXECUTION, error or "", self
        if self.code is not None:
            code = self.code
        return code, message, original

    def __repr__(self) -> str:
        return f"cano.Fatal({self.error!r})"


class Task:
    """Optional base class for class-based tasks: override :meth:`run`.

    Class attributes supply registration defaults that explicit arguments override::

        class Fetch(cano.Task):
            mode = "inline"
            retry = cano.Retry.fixed(3, 0.1)

            def run(self, ctx):
                return Step.Process

    A registered instance is kept alive by the workflow until the library releases it.
    """

    mode: Union[TaskMode, str, None] = None
    retry: Optional[Retry] = None
    attempt_timeout: Optional[Seconds] = None
    name: Optional[str] = None
    #: For ``mode = "async"``: called with the attempt's :class:`Completion` when a pending
    #: attempt is abandoned (define ``def cancel(self, completion)``); see the module docs.
    cancel: Optional[Callable[["Completion"], Any]] = None

    def run(self, ctx: "TaskContext") -> Any:  # pragma: no cover - abstract
        raise NotImplementedError("override Task.run(ctx)")

    def __call__(self, ctx: "TaskContext") -> Any:
        return self.run(ctx)


#: A cancel callable: gets the abandoned attempt's Completion.
CancelFn = Callable[[Completion], Any]


def resolve_cancel(
    task: Any, mode: TaskMode, cancel: Optional[CancelFn], where: str
) -> Optional[CancelFn]:
    """The cancel callable of a registration: ``cancel`` if given (only for async mode), else a
    :class:`Task`'s ``cancel`` method when it is async. ``where`` names the registration in
    errors ("state 'Fetch'")."""
    if cancel is not None:
        if not callable(cancel):
            raise TypeError(f"{where}: cancel must be callable, not {cancel!r}")
        if mode is not TaskMode.ASYNC:
            raise ValueError(
                f"{where}: cancel= is only for mode='async' (the engine tells only abandoned "
                f"async attempts; a {mode.name.lower()} body polls ctx.cancelled)"
            )
        return cancel
    if mode is TaskMode.ASYNC and isinstance(task, Task):
        method = getattr(task, "cancel", None)
        if callable(method):
            return method  # type: ignore[no-any-return]
    return None


def resolve(
    task: Any,
    mode: Union[TaskMode, str, None],
    retry: Optional[Retry],
    attempt_timeout: Optional[Seconds],
    name: Optional[str],
) -> Tuple[Callable[[TaskContext], Any], TaskMode, Retry, int, Optional[str]]:
    """Turns a function, a callable object, a :class:`Task` instance or a task class (which is
    instantiated with no arguments) into a body and its options. (For a Task's ``cancel``
    method, instantiate the class first and use :func:`resolve_cancel`.)"""
    if isinstance(task, type):
        task = task()
    body: Callable[[TaskContext], Any]
    run = getattr(task, "run", None)
    if not callable(task) and not callable(run):
        raise TypeError(f"{task!r} is not callable and has no run(ctx) method")
    body = run if callable(run) and not _is_function(task) else task
    mode = mode if mode is not None else getattr(task, "mode", None)
    retry = retry if retry is not None else getattr(task, "retry", None)
    if attempt_timeout is None:
        attempt_timeout = getattr(task, "attempt_timeout", None)
    if name is None:
        attr = getattr(task, "name", None)
        name = attr if isinstance(attr, str) else None
    if retry is None:
        retry = Retry.default()
    if not isinstance(retry, Retry):
        raise TypeError(f"retry must be a cano.Retry, not {retry!r}")
    return body, TaskMode.of(mode), retry, to_ms(attempt_timeout, "attempt_timeout"), name


def _is_function(obj: Any) -> bool:
    import types

    return isinstance(obj, (types.FunctionType, types.BuiltinFunctionType, types.MethodType))
