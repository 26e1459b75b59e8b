"""Runs started asynchronously: :class:`RunHandle`.

``workflow.start(engine, initial, callback)`` returns at once with a handle. The run's end is
reported once, on the engine's loop thread: the handle resolves (``done()`` turns true,
``wait()`` returns), then ``callback(handle)`` is called. ``await handle`` works in asyncio code,
and ``handle.future`` is a :class:`concurrent.futures.Future` of the final state.
"""

from __future__ import annotations

import concurrent.futures
from typing import TYPE_CHECKING, Any, Callable, Generator, Optional

from . import _callbacks, _errors
from . import _capi as C
from ._task_failures import attach_exception, forget_exception

if TYPE_CHECKING:  # pragma: no cover
    from ._states import StateSpace
    from .engine import Engine


class RunHandle:
    """One run in flight or finished. Thread-safe: any thread may wait on it or cancel it."""

    def __init__(
        self,
        engine: "Engine",
        states: "StateSpace",
        callback: Optional[Callable[["RunHandle"], Any]],
    ) -> None:
        self._engine = engine
        self._states = states
        self._callback = callback
        self._future: "concurrent.futures.Future[Any]" = concurrent.futures.Future()
        self.id: int = 0
        #: The state the run ended in (its exit state, or the state it failed in); None
        #: while it runs.
        self.final_state: Any = None
        #: The run's error (a CanoError), or None.
        self.error: Optional[_errors.CanoError] = None

    @property
    def engine(self) -> "Engine":
        return self._engine

    @property
    def future(self) -> "concurrent.futures.Future[Any]":
        """A Future that resolves to the final state or raises the run's error."""
        return self._future

    def done(self) -> bool:
        """True once the run has ended (its resources released)."""
        return self._future.done()

    def wait(self, timeout: Optional[float] = None) -> Any:
        """Blocks until the run ends and returns its final state, or raises its error
        (a CanoError subclass). Raises :class:`TimeoutError` (the builtin) after ``timeout``
        seconds. Interruptible with Ctrl-C."""
        try:
            return self._future.result(timeout)
        except concurrent.futures.TimeoutError:
            raise TimeoutError(f"run {self.id} did not finish within {timeout} s") from None

    result = wait

    def cancel(self) -> None:
        """Cancels the run (it ends with CancelledError). Raises NotFoundError when it already
        ended."""
        self._engine.cancel(self.id)

    def __await__(self) -> Generator[Any, None, Any]:
        import asyncio

        return asyncio.wrap_future(self._future).__await__()

    def _finish(self, run_id: int, status: int, final_state: int, error: Optional[int]) -> None:
        self.id = run_id
        self.final_state = self._states.member(final_state)
        if status != C.CANO_OK:
            if error:
                failure = _errors.from_handle(error, self._states.member)
            else:
                failure = _errors.error_for(status, f"run {run_id} failed")
            attach_exception(failure, self._engine._address)
            self.error = failure
            self._future.set_exception(failure)
        else:
            forget_exception(self._engine._address, run_id)  # from attempts that were retried
            self._future.set_result(self.final_state)
        callback, self._callback = self._callback, None
        if callback is not None:
            try:
                callback(self)
            except BaseException as exc:  # noqa: B902 - never unwind into C
                _callbacks.report(f"the completion callback of run {run_id}", exc)

    def __repr__(self) -> str:
        if not self.done():
            return f"<cano.RunHandle id={self.id} running>"
        if self.error is not None:
            return f"<cano.RunHandle id={self.id} failed: {self.error.status}>"
        return f"<cano.RunHandle id={self.id} final_state={self.final_state!r}>"


def _run_done(
    run_id: int, status: int, final_state: int, error: Optional[int], user_data: int
) -> None:
    _callbacks.pin_thread()
    handle: RunHandle = _callbacks.REGISTRY.pop(user_data)
    with _callbacks.CallbackScope():
        try:
            handle._finish(run_id, status, final_state, error)
        except BaseException as exc:  # noqa: B902 - never unwind into C
            _callbacks.report(f"finishing run {run_id}", exc)


#: The one completion trampoline every started run uses.
RUN_DONE = C.cano_run_done_fn(_run_done)
