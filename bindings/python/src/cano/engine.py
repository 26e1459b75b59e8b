"""The engine: one event loop on its own thread and a pool of worker threads.

::

    with cano.Engine(workers=2) as engine:
        final = workflow.run(engine, Step.Fetch)

Threads: create, shut down and close an engine from any thread but the engine's own (a task
body, a resource hook or a run callback); ``post``, the clock methods, ``cancel``, starting runs
and async completions may be called from any thread. Every blocking call (``run``,
``shutdown``, ``advance``) releases the GIL while it waits, so Python task bodies on the
engine's threads keep running.

Lifetime: :meth:`close` (or leaving the ``with`` block, or garbage collection) shuts the engine
down and frees it. Shutting down cancels the runs in flight (their callbacks get
:class:`~cano.ShutdownError`) and waits for worker bodies that are still running, so a worker
body that loops forever must poll ``ctx.cancelled``. At interpreter exit every engine still
open is shut down by an ``atexit`` handler, before Python starts tearing itself down.
"""

from __future__ import annotations

import atexit
import ctypes
import enum
import threading
import weakref
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

from . import _callbacks, _errors
from . import _capi as C
from .task import Seconds, to_ms

if TYPE_CHECKING:  # pragma: no cover
    from ._states import StateLike
    from .run import RunHandle
    from .workflow import Workflow


class ClockKind(enum.IntEnum):
    """The engine's clock (cano_clock_kind)."""

    REAL = C.CANO_CLOCK_REAL
    MANUAL = C.CANO_CLOCK_MANUAL

    @classmethod
    def of(cls, clock: Union["ClockKind", str, int]) -> "ClockKind":
        if isinstance(clock, str):
            try:
                return cls[clock.upper()]
            except KeyError:
                raise ValueError(f"unknown clock {clock!r}; use 'real' or 'manual'") from None
        return cls(clock)


def _post(user_data: int) -> None:
    _callbacks.pin_thread()
    fn = _callbacks.REGISTRY.pop(user_data)
    with _callbacks.CallbackScope():
        try:
            fn()
        except BaseException as exc:  # noqa: B902 - never unwind into C
            _callbacks.report("a function posted to an engine", exc)


POST = C.cano_post_fn(_post)

# Live engines by address, for TaskContext.engine, and the set the atexit handler shuts down.
_BY_ADDRESS: "weakref.WeakValueDictionary[int, Engine]" = weakref.WeakValueDictionary()
_LIVE: "weakref.WeakSet[Engine]" = weakref.WeakSet()


class Engine(_callbacks.OwnedHandle):
    """A libcano engine (cano_engine).

    Args:
        workers: worker threads; 0 = one per CPU, at least 2.
        clock: ``"real"`` (the loop's monotonic clock) or ``"manual"`` (moves only when
            :meth:`advance` is called, so retry delays and timeouts take no wall time).
        clock_start_ms: the manual clock's first reading.
        seed: seeds retry jitter; 0 = from the OS.
        spin_us: how long idle threads poll before sleeping; 0 = the library default,
            negative = never spin.
    """

    def __init__(
        self,
        workers: int = 0,
        *,
        clock: Union[ClockKind, str, int] = ClockKind.REAL,
        clock_start_ms: int = 0,
        seed: int = 0,
        spin_us: int = 0,
    ) -> None:
        options = C.engine_options_init()
        options.worker_threads = int(workers)
        options.clock = int(ClockKind.of(clock))
        options.manual_clock_start_ms = int(clock_start_ms)
        options.random_seed = int(seed)
        options.spin_us = int(spin_us)
        out = ctypes.c_void_p()
        err = ctypes.c_void_p()
        self._ptr: Optional[int] = None
        self._lock = threading.Condition(threading.Lock())
        self._users = 0
        status = C.cano_engine_create(ctypes.byref(out), ctypes.byref(options), ctypes.byref(err))
        _errors.check(status, err)
        self._ptr = out.value
        self._address: int = out.value or 0
        self._clock = ClockKind(options.clock)
        _BY_ADDRESS[self._address] = self
        _LIVE.add(self)

    @classmethod
    def _lookup(cls, address: Optional[int]) -> "Engine":
        engine = _BY_ADDRESS.get(address or 0)
        if engine is None:
            raise _errors.ShutdownError("the engine is gone", code=C.CANO_E_SHUTDOWN)
        return engine

    # --- guarded access to the handle -------------------------------------------------------

    def _acquire(self) -> int:
        with self._lock:
            if self._ptr is None:
                raise _errors.ShutdownError("the engine was closed", code=C.CANO_E_SHUTDOWN)
            self._users += 1
            return self._ptr

    def _release(self) -> None:
        with self._lock:
            self._users -= 1
            if self._users == 0:
                self._lock.notify_all()

    @property
    def _handle(self) -> int:
        """The handle for calls that cannot race with close (same-thread use)."""
        ptr = self._ptr
        if ptr is None:
            raise _errors.ShutdownError("the engine was closed", code=C.CANO_E_SHUTDOWN)
        return ptr

    # --- lifetime ---------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once :meth:`close` freed the engine."""
        return self._ptr is None

    def shutdown(self) -> None:
        """Stops the engine and waits until it has stopped (cano_engine_shutdown): new runs are
        refused, runs in flight end with ShutdownError after their resources were released.
        When it returns no callback of this engine runs any more. Idempotent. Raises
        WrongThreadError on one of the engine's own threads."""
        ptr = self._acquire()
        try:
            status = C.cano_engine_shutdown(ptr)
        finally:
            self._release()
        if status < 0:
            raise _errors.error_for(
                status,
                "an engine cannot be shut down from one of its own threads"
                if status == C.CANO_E_WRONG_THREAD
                else "shutdown failed",
            )

    def close(self) -> None:
        """Shuts the engine down (if it is not already) and frees it. Idempotent. Objects that
        still refer to it (run handles, completions) raise ShutdownError from then on."""
        with self._lock:
            ptr = self._ptr
        if ptr is None:
            return
        self.shutdown()
        with self._lock:
            if self._ptr is None:
                return
            while self._users > 0:
                self._lock.wait()
            self._ptr = None
        _LIVE.discard(self)
        C.cano_engine_destroy(ptr)

    def __del__(self, _state: Any = _callbacks.STATE) -> None:
        try:
            if self._ptr is None or _state.finalizing:
                return
            if _callbacks.in_callback():
                # Dropped on one of the engine's threads (or inside a callback): an engine
                # cannot be stopped from its own threads, so another thread does it.
                threading.Thread(target=self.close, name="cano-engine-close").start()
            else:
                self.close()
        except Exception:  # pragma: no cover - interpreter teardown
            pass

    # --- information ------------------------------------------------------------------------

    @property
    def workers(self) -> int:
        """The number of worker threads."""
        return C.cano_engine_worker_count(self._handle)

    @property
    def clock(self) -> ClockKind:
        return self._clock

    def on_loop_thread(self) -> bool:
        """True when called on the engine's loop thread (inline and async bodies run there)."""
        return bool(C.cano_engine_on_loop_thread(self._handle))

    @property
    def runs_in_flight(self) -> int:
        """The number of runs in flight (a snapshot)."""
        return C.cano_engine_runs_in_flight(self._handle)

    # --- the clock --------------------------------------------------------------------------

    def now_ms(self) -> int:
        """The engine clock's reading in milliseconds."""
        return C.cano_engine_clock_now(self._handle)

    def now(self) -> float:
        """The engine clock's reading in seconds."""
        return self.now_ms() / 1000.0

    def advance_ms(self, ms: int) -> None:
        """Moves a manual clock forward by ``ms``, firing the timers that fall due in deadline
        order; blocks (GIL released) until they have fired. Raises BadStateError for a real
        clock, WrongThreadError from an inline or async task body (the engine's loop thread),
        ShutdownError once shut down."""
        ptr = self._acquire()
        try:
            err = ctypes.c_void_p()
            _errors.check(C.cano_engine_clock_advance(ptr, int(ms), ctypes.byref(err)), err)
        finally:
            self._release()

    def advance(self, seconds: Seconds) -> None:
        """:meth:`advance_ms` in seconds (or a timedelta)."""
        self.advance_ms(to_ms(seconds, "seconds"))

    def next_deadline_ms(self) -> Optional[int]:
        """The clock reading (ms) at which the earliest pending timer fires, or None."""
        ptr = self._acquire()
        try:
            out = ctypes.c_uint64()
            err = ctypes.c_void_p()
            status = C.cano_engine_clock_next_deadline(ctypes.byref(out), ptr, ctypes.byref(err))
        finally:
            self._release()
        if status == C.CANO_E_NOT_FOUND:
            C.cano_error_free(err.value)
            return None
        _errors.check(status, err)
        return out.value

    def next_deadline(self) -> Optional[float]:
        """:meth:`next_deadline_ms` in seconds."""
        deadline = self.next_deadline_ms()
        return None if deadline is None else deadline / 1000.0

    # --- work -------------------------------------------------------------------------------

    def post(self, fn: Callable[[], Any]) -> None:
        """Runs ``fn()`` on the loop thread, soon. Any thread. Exceptions it raises are logged
        to the ``cano`` logger. Raises ShutdownError once the engine stopped taking work."""
        if not callable(fn):
            raise TypeError("post() needs a callable")
        token = _callbacks.REGISTRY.add(fn)
        ptr = self._acquire()
        try:
            err = ctypes.c_void_p()
            status = C.cano_engine_post(ptr, POST, token, ctypes.byref(err))
        finally:
            self._release()
        if status < 0:
            _callbacks.REGISTRY.pop(token)
            raise _errors.take(err.value, status)

    def run(self, workflow: "Workflow", initial: "StateLike") -> Any:
        """Same as ``workflow.run(self, initial)``."""
        return workflow.run(self, initial)

    def start(
        self,
        workflow: "Workflow",
        initial: "StateLike",
        callback: Optional[Callable[["RunHandle"], Any]] = None,
    ) -> "RunHandle":
        """Same as ``workflow.start(self, initial, callback)``."""
        return workflow.start(self, initial, callback)

    def cancel(self, run_id: int) -> None:
        """Cancels run ``run_id``: its attempt is abandoned, its resources released, and it
        ends with CancelledError. Raises NotFoundError when no such run is in flight. From an
        inline or async task body (the engine's loop thread) the run is only marked and ends at
        its next transition; the result of the step in progress is discarded."""
        ptr = self._acquire()
        try:
            err = ctypes.c_void_p()
            status = C.cano_run_cancel(ptr, int(run_id), ctypes.byref(err))
        finally:
            self._release()
        _errors.check(status, err)

    # --- async completion (used by Completion) ----------------------------------------------

    def _complete(self, token: int, code: int) -> None:
        ptr = self._acquire()
        try:
            err = ctypes.c_void_p()
            status = C.cano_task_complete(ptr, token, code, ctypes.byref(err))
        finally:
            self._release()
        _errors.check(status, err)

    def _complete_error(self, token: int, code: int, message: str) -> None:
        ptr = self._acquire()
        try:
            err = ctypes.c_void_p()
            status = C.cano_task_complete_error(
                ptr, token, code, message.encode("utf-8", "replace"), ctypes.byref(err)
            )
        finally:
            self._release()
        _errors.check(status, err)

    def __repr__(self) -> str:
        if self._ptr is None:
            return "<cano.Engine (closed)>"
        return f"<cano.Engine workers={self.workers} clock={self._clock.name.lower()}>"


def _shutdown_all() -> None:
    """atexit: shut every open engine down while the interpreter is still whole, then stop
    routing log records into Python and let finalizers leak instead of calling into C."""
    for engine in list(_LIVE):
        try:
            engine.close()
        except Exception as exc:  # pragma: no cover - best effort at exit
            _callbacks.report("closing an engine at exit", exc)
    try:
        from . import log

        log._reset_at_exit()
    except Exception:  # pragma: no cover
        pass
    _callbacks.STATE.finalizing = True


atexit.register(_shutdown_all)
