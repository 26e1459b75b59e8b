"""The context a task body gets (:class:`TaskContext`) and the handle that finishes an async
attempt later (:class:`Completion`); both are public as ``cano.TaskContext`` and
``cano.Completion`` (and through :mod:`cano.task`).

A context lives only for its body's call: the trampolines clear it when the body returns, so a
context kept by mistake raises instead of reading freed library memory. A Completion is what an
async body keeps instead; the Completions deferred on a loop thread are remembered by token
(:func:`pending_completions`) so that the engine's cancel notice can reach the same object.
"""

from __future__ import annotations

import ctypes
import weakref
from typing import TYPE_CHECKING, Any, Optional, Union

from . import _callbacks, _errors
from . import _capi as C
from ._states import StateLike, StateSpace
from ._task_spec import KIND_BRANCH, TaskSpec, task_name
from .batch import BatchResults, batch_results, decode_item
from .split import SplitResult, encode_value, read_split_result
from .stepped import decode_cursor

if TYPE_CHECKING:  # pragma: no cover
    from .engine import Engine
    from .resources import Resources
    from .store import MemoryStore
    from .task import TaskMode

_tls = _callbacks._tls


class TaskContext:
    """What a task body gets. Valid only during the body's call, on the body's thread
    (``cancelled`` may also be read from other threads during the call); afterwards every
    attribute raises :class:`~cano.BadStateError`. For async work, keep the
    :class:`Completion` from :meth:`defer` instead."""

    __slots__ = ("_ptr", "_spec", "_completion", "_split", "_cursor", "_item", "_batch")

    def __init__(self, ptr: int, spec: TaskSpec) -> None:
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
            result = self._outcomes(ptr, handle) if handle else None
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
                    f"deserialize cursor for `{task_name(self._live(), self._spec)}`: {exc}"
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
            results = batch_results(self._outcomes(ptr, handle))
        self._batch: Optional[BatchResults] = results
        return results

    def _outcomes(self, ptr: int, handle: int) -> SplitResult:
        """Reads one of the library's outcome lists (a split's branches, or a batch's items,
        which the library keeps in the same form) into a snapshot that outlives the body."""
        return read_split_result(
            handle,
            self._spec.states.member,
            C.cano_task_ctx_engine(ptr) or 0,
            C.cano_task_ctx_run_id(ptr),
        )

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
            pending_completions()[token] = completion
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
        # Imported here: cano.task re-exports this module's classes, so this module cannot
        # import cano.task while it loads.
        from .task import Fatal

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


def pending_completions() -> "weakref.WeakValueDictionary[int, Completion]":
    """The Completions of the async attempts deferred on this loop thread, by token (weakly:
    a Completion nobody keeps is forgotten). Only the loop thread touches it: async bodies run
    there, and so do cancel notices."""
    try:
        return _tls.pending  # type: ignore[no-any-return]
    except AttributeError:
        pending: "weakref.WeakValueDictionary[int, Completion]" = weakref.WeakValueDictionary()
        _tls.pending = pending
        return pending
