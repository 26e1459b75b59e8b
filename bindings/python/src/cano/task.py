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

import collections
import ctypes
import datetime
import enum
import threading
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Optional, Tuple, Union

from . import _callbacks, _errors
from . import _capi as C
from ._states import StateLike, StateSpace
from .batch import BatchBodies, BatchResults, batch_results, decode_item, encode_item, encode_output
from .poll import Pending
from .split import SplitResult, encode_value, read_split_result, remember_branch_exception
from .stepped import More, decode_cursor
from .timer import WaitFor, WaitUntil

if TYPE_CHECKING:  # pragma: no cover
    from .engine import Engine
    from .resources import Resources
    from .store import MemoryStore

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


#: What a registered body is (``_Spec.kind``).
KIND_TASK, KIND_ROUTER, KIND_POLL, KIND_BRANCH = "task", "router", "poll", "branch"
KIND_STEPPED, KIND_TIMER, KIND_BATCH = "stepped", "timer", "batch"


class _Spec:
    """Everything the task trampoline needs for one registered task (immutable once built)."""

    __slots__ = (
        "fn",
        "states",
        "enum",
        "resources",
        "mode",
        "name",
        "kind",
        "index",
        "wait",
        "batch",
        "cancel",
    )

    def __init__(
        self,
        fn: Callable[["TaskContext"], Any],
        states: StateSpace,
        resources: "Resources",
        mode: TaskMode,
        name: Optional[str],
        kind: str = KIND_TASK,
        index: int = -1,
        wait: Optional[Callable[["TaskContext"], Any]] = None,
        batch: Optional[BatchBodies] = None,
        cancel: Optional[Callable[["Completion"], Any]] = None,
    ) -> None:
        self.fn = fn
        self.states = states
        self.enum = states.enum
        self.resources = resources
        self.mode = mode
        self.name = name
        #: KIND_TASK, KIND_ROUTER, KIND_POLL or KIND_BRANCH.
        self.kind = kind
        #: A branch's index in its split; -1 for the other kinds.
        self.index = index
        #: A timer task's wait callable (None for the other kinds, and for fixed waits).
        self.wait = wait
        #: A batch task's load and process_item (``fn`` is its finish step); None otherwise.
        self.batch = batch
        #: An async task's cancel callable (None: only the Completion is marked cancelled).
        self.cancel = cancel


class TaskContext:
    """What a task body gets. Valid only during the body's call, on the body's thread
    (``cancelled`` may also be read from other threads during the call); afterwards every
    attribute raises :class:`~cano.BadStateError`. For async work, keep the
    :class:`Completion` from :meth:`defer` instead."""

    __slots__ = ("_ptr", "_spec", "_completion", "_split", "_cursor", "_item", "_batch")

    def __init__(self, ptr: int, spec: _Spec) -> None:
        self._ptr: Optional[int] = ptr
        self._spec = spec
        self._completion: Optional[Completion] = None
        # _split (the split result, once read), _cursor (the parsed cursor, once read), _item
        # (a batch item, parsed) and _batch (a batch's results, once read) stay unset: nothing
        # on the hot path.

    def _live(self) -> int:
        ptr = self._ptr
        if ptr is None:
            raise _errors.BadStateError(
                "the task context is only valid while the task body runs; keep a Completion "
                "(ctx.defer()) for work that finishes later",
                code=C.CANO_E_BAD_STATE,
            )
        return ptr

    @property
    def attempt(self) -> int:
        """The 1-based attempt number."""
        return C.cano_task_ctx_attempt(self._live())

    @property
    def run_id(self) -> int:
        """The run's id (unique within the engine, never 0)."""
        return C.cano_task_ctx_run_id(self._live())

    @property
    def state(self) -> Any:
        """The state the task runs for (a member of the workflow's enum)."""
        return self._spec.states.member(C.cano_task_ctx_state(self._live()))

    @property
    def cancelled(self) -> bool:
        """True once the attempt is abandoned (timed out, run cancelled or timed out, engine
        shutting down); a long worker body should poll it and return early."""
        return bool(C.cano_task_ctx_cancelled(self._live()))

    @property
    def resources(self) -> "Resources":
        """The run's resources (``ctx.resources.get("config", FetchConfig)``): the workflow's
        :class:`~cano.Resources` object, or a view of the same set if that object was closed."""
        resources = self._spec.resources
        if resources._ptr is None:
            # The set lives on (the run holds the workflow, which retains it).
            return resources._view(C.cano_task_ctx_resources(self._live()), None)
        self._live()
        return resources

    @property
    def store(self) -> "MemoryStore":
        """Shortcut for ``ctx.resources.get_store("store")``, cano's usual store key."""
        return self.resources.get_store("store")

    @property
    def engine(self) -> "Engine":
        """The engine running the task."""
        from .engine import Engine

        return Engine._lookup(C.cano_task_ctx_engine(self._live()))

    @property
    def mode(self) -> TaskMode:
        """The mode the task was registered with."""
        return self._spec.mode

    @property
    def token(self) -> int:
        """The async completion token (0 unless the task is registered as async)."""
        return C.cano_task_ctx_token(self._live())

    @property
    def split_result(self) -> Optional[SplitResult]:
        """What every branch of the split the run just left did, when this task runs for that
        split's join state: a :class:`~cano.SplitResult` (a snapshot, valid after the body
        too); None otherwise (no split led here)."""
        ptr = self._live()
        try:
            return self._split  # type: ignore[no-any-return]
        except AttributeError:
            handle = C.cano_task_ctx_split_result(ptr)
            if handle:
                result = read_split_result(
                    handle,
                    self._spec.states.member,
                    C.cano_task_ctx_engine(ptr) or 0,
                    C.cano_task_ctx_run_id(ptr),
                )
            else:
                result = None
            self._split: Optional[SplitResult] = result
            return result

    @property
    def raw_cursor(self) -> Optional[bytes]:
        """The bytes of the cursor the previous step left (a stepped task's, or any body's that
        returned :class:`~cano.More`): its JSON text, or what ``More.raw()`` carried; None on
        the first step (and in bodies that never step)."""
        ptr = self._live()
        data = ctypes.c_void_p()
        size = ctypes.c_size_t()
        if not C.cano_task_ctx_cursor(ptr, ctypes.byref(data), ctypes.byref(size)):
            return None
        return ctypes.string_at(data.value, size.value) if size.value else b""

    @property
    def cursor(self) -> Any:
        """The cursor the previous step left, parsed from its JSON text (a fresh copy); None on
        the first step. Raises :class:`~cano.TaskExecutionError` "deserialize cursor for
        `NAME`: ..." when the bytes are not JSON (see ``raw_cursor``)."""
        self._live()
        try:
            return self._cursor
        except AttributeError:
            pass
        data = self.raw_cursor
        if data is None:
            value = None
        else:
            try:
                value = decode_cursor(data)
            except ValueError as exc:
                raise _errors.TaskExecutionError(
                    f"deserialize cursor for `{_task_name(self._live(), self._spec)}`: {exc}"
                ) from None
        self._cursor: Any = value
        return value

    @property
    def item_index(self) -> Optional[int]:
        """Inside a batch task's ``process_item``: the item's index in the list ``load``
        returned; None elsewhere."""
        index = ctypes.c_size_t()
        if not C.cano_task_ctx_batch_item(self._live(), ctypes.byref(index), None, None):
            return None
        return index.value

    @property
    def raw_item(self) -> Optional[bytes]:
        """Inside a batch task's ``process_item``: the item's bytes (its JSON text); None
        elsewhere."""
        data = ctypes.c_void_p()
        size = ctypes.c_size_t()
        ptr = self._live()
        if not C.cano_task_ctx_batch_item(ptr, None, ctypes.byref(data), ctypes.byref(size)):
            return None
        return ctypes.string_at(data.value, size.value) if size.value else b""

    @property
    def item(self) -> Any:
        """Inside a batch task's ``process_item``: the item, parsed from its JSON text (the
        same object ``process_item`` gets). Raises BadStateError elsewhere (None is an item
        like any other)."""
        self._live()
        try:
            return self._item
        except AttributeError:
            pass
        data = self.raw_item
        if data is None:
            raise _errors.BadStateError(
                "ctx.item is only for a batch task's process_item", code=C.CANO_E_BAD_STATE
            )
        self._item: Any = decode_item(data)
        return self._item

    @property
    def batch_results(self) -> Optional[BatchResults]:
        """Inside a batch task's finish step: every item's :class:`~cano.ItemResult`, in input
        order (the list ``finish`` gets; a snapshot, valid after the body too); None
        elsewhere."""
        ptr = self._live()
        try:
            return self._batch  # type: ignore[no-any-return]
        except AttributeError:
            pass
        handle = C.cano_task_ctx_batch_results(ptr)
        results: Optional[BatchResults] = None
        if handle:
            results = batch_results(
                read_split_result(
                    handle,
                    self._spec.states.member,
                    C.cano_task_ctx_engine(ptr) or 0,
                    C.cano_task_ctx_run_id(ptr),
                )
            )
        self._batch: Optional[BatchResults] = results
        return results

    def set_value(self, value: Any) -> None:
        """Inside a split branch's body: leaves ``value`` for the join state's task (encoded as
        a returned value is: bytes as they are, str as UTF-8, anything else as JSON); a later
        call, or the body's non-None return value, replaces it. Mostly for async branches, which
        finish through a Completion and so return no value. Raises BadStateError outside branch
        bodies and TypeError for None or a value JSON cannot represent."""
        ptr = self._live()
        if self._spec.kind != KIND_BRANCH:
            raise _errors.BadStateError(
                "ctx.set_value() is only for the bodies of split branches",
                code=C.CANO_E_BAD_STATE,
            )
        data = encode_value(value)
        if data is None:
            raise TypeError("ctx.set_value() needs a value (a branch that sets none leaves none)")
        C.cano_task_ctx_set_value(ptr, data, len(data))

    def defer(self) -> "Completion":
        """Turns this async attempt into one that finishes later: returns a :class:`Completion`
        that any thread completes exactly once. The body then returns None (or
        :data:`PENDING`). Only for tasks registered with ``mode="async"``; calling it again
        returns the same Completion."""
        ptr = self._live()
        if self._completion is None:
            token = C.cano_task_ctx_token(ptr)
            if token == 0:
                raise _errors.BadStateError(
                    "ctx.defer() needs a task registered with mode='async'",
                    code=C.CANO_E_BAD_STATE,
                )
            completion = Completion(
                self.engine, token, self._spec.states, self._spec.kind == KIND_BRANCH
            )
            # Async bodies run on the loop thread, where the engine's cancel notices arrive too.
            _pending_completions()[token] = completion
            _tls.loop_engine = C.cano_task_ctx_engine(ptr) or 0
            self._completion = completion
        return self._completion

    def __repr__(self) -> str:
        if self._ptr is None:
            return "<TaskContext (finished)>"
        return f"<TaskContext state={self.state!r} attempt={self.attempt} run={self.run_id}>"


class Completion:
    """Finishes one async attempt, from any thread, exactly once.

    A second completion raises :class:`~cano.BadStateError`; completing after the engine shut
    down raises :class:`~cano.ShutdownError`. Completing an attempt that already timed out (or
    whose run ended) is accepted and ignored, as in the C API. Holds a strong reference to its
    engine; it is safe to use after the engine was closed (it raises ShutdownError).

    :attr:`cancelled` turns true when the engine abandons the pending attempt (the C ABI's
    cancel notice); the registration's ``cancel`` callable, if any, gets this object then.
    """

    __slots__ = ("_engine", "_token", "_states", "_branch", "_cancelled", "__weakref__")

    def __init__(
        self, engine: Optional["Engine"], token: int, states: StateSpace, branch: bool = False
    ) -> None:
        self._engine = engine
        self._token = token
        self._states = states
        self._branch = branch
        self._cancelled = False

    @property
    def token(self) -> int:
        """The C completion token."""
        return self._token

    @property
    def cancelled(self) -> bool:
        """True once the engine told this attempt it was abandoned while pending: its attempt
        timed out, its split branch lost (an early exit or the split timeout), or its run was
        cancelled, timed out or ended by shutdown. Stop the work and drop the completion;
        completing it now is still accepted and ignored (or raises ShutdownError after
        shutdown). Set on the loop thread, readable from any thread. Never true for an attempt
        that ended otherwise (completed, or failed by its body)."""
        return self._cancelled

    def _engine_or_shutdown(self) -> "Engine":
        engine = self._engine
        if engine is None:
            raise _errors.ShutdownError("the engine is gone", code=C.CANO_E_SHUTDOWN)
        return engine

    def complete(self, state: Optional[StateLike] = None) -> None:
        """Finishes the attempt with ``state`` as the next state. A split branch succeeds with
        ``complete()`` (a state, if given, is ignored; set its value with ``ctx.set_value()``
        in the body)."""
        if state is None:
            if not self._branch:
                raise TypeError("complete() needs the next state (only branches may omit it)")
            code = 0
        else:
            code = self._states.code(state)
        self._engine_or_shutdown()._complete(self._token, code)

    def fail(
        self, error: Union[str, BaseException] = "", code: int = C.CANO_E_TASK_EXECUTION
    ) -> None:
        """Fails the attempt. ``error`` is a message (with ``code``) or an exception, which is
        reported as a raising body would be (a CanoError keeps its code and message, others
        become ``"ExcType: message"`` task_execution failures)."""
        if isinstance(error, Fatal):
            raise TypeError(
                "an async completion cannot be fatal; raise cano.Fatal in the body instead"
            )
        if isinstance(error, BaseException):
            code, message = _errors.failure_of(error, C.CANO_E_TASK_EXECUTION)
        else:
            message = str(error)
        self._engine_or_shutdown()._complete_error(self._token, code, message)

    def __repr__(self) -> str:
        cancelled = " cancelled" if self._cancelled else ""
        return f"<Completion token={self._token}{cancelled}>"


def _pending_completions() -> "weakref.WeakValueDictionary[int, Completion]":
    """The Completions of the async attempts deferred on this loop thread, by token (weakly:
    a Completion nobody keeps is forgotten). Only the loop thread touches it: async bodies run
    there, and so do cancel notices."""
    try:
        return _tls.pending  # type: ignore[no-any-return]
    except AttributeError:
        pending: "weakref.WeakValueDictionary[int, Completion]" = weakref.WeakValueDictionary()
        _tls.pending = pending
        return pending


# --- the trampoline -----------------------------------------------------------------------------

_tls = _callbacks._tls
_registry_get = _callbacks.REGISTRY.get
_ctx_next = C.cano_task_ctx_next
_ctx_fail = C.cano_task_ctx_fail
_ctx_fail_fatal = C.cano_task_ctx_fail_fatal
_ctx_set_value = C.cano_task_ctx_set_value
_ctx_step_more = C.cano_task_ctx_step_more
_PENDING_STATUS = C.CANO_PENDING
_OK = C.CANO_OK

# The latest exception each run's tasks raised, so that a failed run can hand it back:
# (engine address, run id) -> (task name, attempt, exception). Bounded; oldest dropped first.
_EXCEPTIONS: "collections.OrderedDict[Tuple[int, int], Tuple[Optional[str], int, BaseException]]"
_EXCEPTIONS = collections.OrderedDict()
_EXCEPTIONS_MAX = 256
_exceptions_lock = threading.Lock()


def _remember(ptr: int, spec: _Spec, exc: BaseException, name: Optional[str] = None) -> None:
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
    innermost = error
    while innermost.cause is not None:
        innermost = innermost.cause
    if innermost.attempt != attempt:
        return
    if name is not None and innermost.task != name:
        return
    level: Optional[_errors.CanoError] = error
    while level is not None:
        level.exception = exc
        level = level.cause
    innermost.__cause__ = exc


def forget_exception(engine_address: int, run_id: int) -> None:
    """Drops what :func:`_remember` kept for a run that succeeded after all."""
    with _exceptions_lock:
        _EXCEPTIONS.pop((engine_address, run_id), None)


def _fail(ptr: int, spec: _Spec, exc: BaseException, item: int = -1) -> int:
    """Fails the attempt with what ``exc`` says, and keeps the exception for the error that
    will carry it. ``item`` is a batch item's index (-1 for every other body)."""
    fatal = isinstance(exc, Fatal)
    if fatal:
        code, message, original = exc.failure()  # type: ignore[union-attr]
    else:
        code, message = _errors.failure_of(exc, C.CANO_E_TASK_EXECUTION)
        original = exc
    try:
        if item >= 0 and fatal:
            # A fatal item fails the whole task with its error, named "NAME[i]".
            _remember(ptr, spec, original, f"{_task_name(ptr, spec)}[{item}]")
        elif item >= 0:
            # An item's failure reaches the finish step's results, as a branch's its join.
            remember_branch_exception(
                C.cano_task_ctx_engine(ptr) or 0,
                C.cano_task_ctx_run_id(ptr),
                C.cano_task_ctx_state(ptr),
                item,
                C.cano_task_ctx_attempt(ptr),
                original,
            )
        elif spec.kind == KIND_BRANCH:
            remember_branch_exception(
                C.cano_task_ctx_engine(ptr) or 0,
                C.cano_task_ctx_run_id(ptr),
                C.cano_task_ctx_state(ptr),
                spec.index,
                C.cano_task_ctx_attempt(ptr),
                original,
            )
        else:
            _remember(ptr, spec, original)
    except Exception:  # pragma: no cover - bookkeeping must never hide the failure
        pass
    return (_ctx_fail_fatal if fatal else _ctx_fail)(ptr, code, message.encode("utf-8", "replace"))


def _task_name(ptr: int, spec: _Spec) -> str:
    """The task's name as errors show it: its own, else its state's."""
    if spec.name is not None:
        return spec.name
    code = C.cano_task_ctx_state(ptr)
    try:
        return str(spec.states.member(code).name)
    except (TypeError, ValueError, AttributeError):  # pragma: no cover - declared states only
        return str(code)


def _step_more(ptr: int, spec: _Spec, more: More) -> int:
    """A body returned :class:`More`: hands its cursor to the library, which calls the body
    again (a stepped task's next step, or the next turn of any other task's loop)."""
    try:
        data = more.data
    except (TypeError, ValueError) as exc:
        message = f"serialize cursor for `{_task_name(ptr, spec)}`: {exc}"
        return _ctx_fail(ptr, C.CANO_E_TASK_EXECUTION, message.encode("utf-8", "replace"))
    return _ctx_step_more(ptr, data, len(data))


def _bad_result(ptr: int, spec: _Spec, result: Any, deferred: bool) -> int:
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
    return _ctx_fail(ptr, C.CANO_E_TASK_EXECUTION, message.encode("utf-8", "replace"))


def _not_ready(ptr: int, result: Any) -> int:
    """A body returned :class:`Pending` (or the class itself). The library fails the attempt of
    a task that is not a poll task ("task returned CANO_POLL_AGAIN but is not registered as a
    poll task"), as it does for every binding."""
    return C.cano_task_ctx_poll_again(ptr, 0 if result is Pending else result.delay_ms)


def _run_task(ptr: int, user_data: int) -> int:
    try:
        depth = _tls.depth
    except AttributeError:
        _callbacks.pin_thread()
        depth = 0
    _tls.depth = depth + 1
    try:
        spec: _Spec = _registry_get(user_data)
        context = TaskContext(ptr, spec)
        try:
            result = spec.fn(context)
        except BaseException as exc:  # noqa: B902 - a body must never unwind into C
            context._ptr = None
            return _fail(ptr, spec, exc)
        context._ptr = None
        if context._completion is not None:
            if result is None or result is PENDING:
                return _PENDING_STATUS
            return _bad_result(ptr, spec, result, True)
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
    except BaseException as exc:  # pragma: no cover - defensive: never unwind into C
        try:
            return _ctx_fail(ptr, C.CANO_E_INTERNAL, _errors.describe_exception(exc).encode())
        except BaseException:
            return C.CANO_E_INTERNAL
    finally:
        _tls.depth = depth


#: The one task trampoline every Python task, router and poll task is registered with.
RUN_TASK = C.cano_task_fn(_run_task)


def _run_branch(ptr: int, user_data: int) -> int:
    try:
        depth = _tls.depth
    except AttributeError:
        _callbacks.pin_thread()
        depth = 0
    _tls.depth = depth + 1
    try:
        spec: _Spec = _registry_get(user_data)
        context = TaskContext(ptr, spec)
        try:
            result = spec.fn(context)
        except BaseException as exc:  # noqa: B902 - a body must never unwind into C
            context._ptr = None
            return _fail(ptr, spec, exc)
        context._ptr = None
        if context._completion is not None:
            if result is None or result is PENDING:
                return _PENDING_STATUS
            message = (
                f"async branch body returned {result!r} after ctx.defer(); set its value with "
                "ctx.set_value() before deferring, return None and finish through the Completion"
            )
            return _ctx_fail(ptr, C.CANO_E_TASK_EXECUTION, message.encode("utf-8", "replace"))
        if result is None or result.__class__ is spec.enum:
            return _OK  # no value; a state chosen by a branch is ignored
        if isinstance(result, More):
            message = "a split branch cannot return cano.More (branches have no steps)"
            return _ctx_fail(ptr, C.CANO_E_TASK_EXECUTION, message.encode())
        try:
            data = encode_value(result)
        except TypeError as exc:
            return _ctx_fail(ptr, C.CANO_E_TASK_EXECUTION, str(exc).encode("utf-8", "replace"))
        _ctx_set_value(ptr, data, len(data))  # type: ignore[arg-type]
        return _OK
    except BaseException as exc:  # pragma: no cover - defensive: never unwind into C
        try:
            return _ctx_fail(ptr, C.CANO_E_INTERNAL, _errors.describe_exception(exc).encode())
        except BaseException:
            return C.CANO_E_INTERNAL
    finally:
        _tls.depth = depth


#: The trampoline every branch of a Python split is registered with.
RUN_BRANCH = C.cano_task_fn(_run_branch)


def _run_wait(ptr: int, user_data: int) -> int:
    """A timer task's wait callback (on the loop thread): asks the task's ``wait`` callable and
    records its answer; an exception fails the attempt as a raising body would."""
    try:
        depth = _tls.depth
    except AttributeError:
        _callbacks.pin_thread()
        depth = 0
    _tls.depth = depth + 1
    try:
        spec: _Spec = _registry_get(user_data)
        context = TaskContext(ptr, spec)
        try:
            result = spec.wait(context)  # type: ignore[misc]
        except BaseException as exc:  # noqa: B902 - a callback must never unwind into C
            context._ptr = None
            return _fail(ptr, spec, exc)
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
        return _ctx_fail(ptr, C.CANO_E_TASK_EXECUTION, message.encode("utf-8", "replace"))
    except BaseException as exc:  # pragma: no cover - defensive: never unwind into C
        try:
            return _ctx_fail(ptr, C.CANO_E_INTERNAL, _errors.describe_exception(exc).encode())
        except BaseException:
            return C.CANO_E_INTERNAL
    finally:
        _tls.depth = depth


#: The wait callback of every Python timer task that has a ``wait`` callable.
RUN_WAIT = C.cano_timer_wait_fn(_run_wait)


def _run_batch_load(ptr: int, user_data: int) -> int:
    """A batch task's load step: calls ``load(ctx)`` and adds every item it returns."""
    try:
        depth = _tls.depth
    except AttributeError:
        _callbacks.pin_thread()
        depth = 0
    _tls.depth = depth + 1
    try:
        spec: _Spec = _registry_get(user_data)
        context = TaskContext(ptr, spec)
        try:
            items = spec.batch.load(context)  # type: ignore[union-attr]
            iterator = None
            if not isinstance(items, (str, bytes, bytearray, dict)):
                try:
                    iterator = iter(items)
                except TypeError:
                    pass
            if iterator is None:
                # A str or a dict iterates, but as characters or keys: surely not the items.
                message = (
                    f"batch load for `{_task_name(ptr, spec)}` returned {items!r}; return an "
                    "iterable of items (a list, or a generator; an empty list for none)"
                )
                context._ptr = None
                return _ctx_fail(ptr, C.CANO_E_TASK_EXECUTION, message.encode("utf-8", "replace"))
            for index, item in enumerate(iterator):
                try:
                    data = encode_item(item)
                except (TypeError, ValueError) as exc:
                    message = f"serialize item {index} for `{_task_name(ptr, spec)}`: {exc}"
                    context._ptr = None
                    return _ctx_fail(
                        ptr, C.CANO_E_TASK_EXECUTION, message.encode("utf-8", "replace")
                    )
                _batch_add(ptr, data, len(data))
        except BaseException as exc:  # noqa: B902 - a body must never unwind into C
            context._ptr = None
            return _fail(ptr, spec, exc)
        context._ptr = None
        return _OK
    except BaseException as exc:  # pragma: no cover - defensive: never unwind into C
        try:
            return _ctx_fail(ptr, C.CANO_E_INTERNAL, _errors.describe_exception(exc).encode())
        except BaseException:
            return C.CANO_E_INTERNAL
    finally:
        _tls.depth = depth


def _run_batch_item(ptr: int, user_data: int) -> int:
    """A batch task's process_item step: one attempt of one item. Its return value is the
    item's output."""
    try:
        depth = _tls.depth
    except AttributeError:
        _callbacks.pin_thread()
        depth = 0
    _tls.depth = depth + 1
    try:
        spec: _Spec = _registry_get(user_data)
        bodies: BatchBodies = spec.batch  # type: ignore[assignment]
        index = ctypes.c_size_t()
        address = ctypes.c_void_p()
        size = ctypes.c_size_t()
        _batch_item(ptr, ctypes.byref(index), ctypes.byref(address), ctypes.byref(size))
        data = ctypes.string_at(address.value, size.value) if size.value else b""
        try:
            item = decode_item(data)
        except ValueError as exc:
            message = f"deserialize item for `{_task_name(ptr, spec)}[{index.value}]`: {exc}"
            return _ctx_fail(ptr, C.CANO_E_TASK_EXECUTION, message.encode("utf-8", "replace"))
        context = TaskContext(ptr, spec)
        context._item = item
        try:
            if bodies.item_context:
                result = bodies.process_item(context, item)
            else:
                result = bodies.process_item(item)
        except BaseException as exc:  # noqa: B902 - a body must never unwind into C
            context._ptr = None
            return _fail(ptr, spec, exc, index.value)
        context._ptr = None
        try:
            output = encode_output(result)
        except (TypeError, ValueError) as exc:
            message = f"serialize output of `{_task_name(ptr, spec)}[{index.value}]`: {exc}"
            return _ctx_fail(ptr, C.CANO_E_TASK_EXECUTION, message.encode("utf-8", "replace"))
        if output is not None:
            _ctx_set_value(ptr, output, len(output))
        return _OK
    except BaseException as exc:  # pragma: no cover - defensive: never unwind into C
        try:
            return _ctx_fail(ptr, C.CANO_E_INTERNAL, _errors.describe_exception(exc).encode())
        except BaseException:
            return C.CANO_E_INTERNAL
    finally:
        _tls.depth = depth


def _run_batch_finish(ptr: int, user_data: int) -> int:
    """A batch task's finish step: ``finish(ctx, results)`` picks the next state."""
    try:
        depth = _tls.depth
    except AttributeError:
        _callbacks.pin_thread()
        depth = 0
    _tls.depth = depth + 1
    try:
        spec: _Spec = _registry_get(user_data)
        context = TaskContext(ptr, spec)
        try:
            results = context.batch_results
            if results is None:  # pragma: no cover - the library calls run only to finish
                results = BatchResults()
            result = spec.fn(context, results)  # type: ignore[call-arg]
        except BaseException as exc:  # noqa: B902 - a body must never unwind into C
            context._ptr = None
            return _fail(ptr, spec, exc)
        context._ptr = None
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
    except BaseException as exc:  # pragma: no cover - defensive: never unwind into C
        try:
            return _ctx_fail(ptr, C.CANO_E_INTERNAL, _errors.describe_exception(exc).encode())
        except BaseException:
            return C.CANO_E_INTERNAL
    finally:
        _tls.depth = depth


_batch_add = C.cano_task_ctx_batch_add
_batch_item = C.cano_task_ctx_batch_item

#: The load, process_item and finish trampolines of every Python batch task.
RUN_BATCH_LOAD = C.cano_task_fn(_run_batch_load)
RUN_BATCH_ITEM = C.cano_task_fn(_run_batch_item)
RUN_BATCH_FINISH = C.cano_task_fn(_run_batch_finish)


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
        spec: _Spec = _registry_get(user_data)
        completion = _pending_completions().pop(token, None)
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


def resolve_cancel(
    task: Any, mode: TaskMode, cancel: Optional[Callable[["Completion"], Any]], where: str
) -> Optional[Callable[["Completion"], Any]]:
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
