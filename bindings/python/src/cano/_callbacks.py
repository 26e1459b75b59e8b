"""Keep-alive registry, thread pinning and the shared destroy trampoline.

Ownership model. Every Python object the library may call back into (a task, a resource, a
stored object, a run's completion callback, a log handler, a posted function) is put into
:data:`REGISTRY` under a fresh integer token, and the token, not a pointer, travels to C as
``user_data``. The library calls the matching destroy hook exactly once when it no longer needs
the object; the hook (:data:`DESTROY`) removes the token, which drops the last strong reference
the binding holds. The ``CFUNCTYPE`` trampolines themselves are module globals created once at
import, so they can never be collected while C holds their addresses.

Threads. Callbacks arrive on threads the engine owns (its loop thread and its workers) or on the
thread calling into the library. ctypes acquires the GIL for each call; for a thread Python did
not create it builds and tears down a fresh thread state every time, which costs microseconds and
forgets thread-locals. :func:`pin_thread` keeps that thread state for the thread's lifetime (one
extra ``PyGILState_Ensure`` that is never released; the GIL itself is still released after each
callback), so repeated callbacks on an engine thread are cheap.
"""

from __future__ import annotations

import ctypes
import itertools
import logging
import sys
import threading
from typing import Any, Dict, Optional, TypeVar

from . import _capi as C

_log = logging.getLogger("cano")


class Registry:
    """Integer tokens for Python objects handed to C. Thread-safe under the GIL.

    Tokens start at 1 (0 would be NULL) and are never reused, so a late or duplicate destroy
    of an old token can never release a newer object.
    """

    def __init__(self) -> None:
        self._objects: Dict[int, Any] = {}
        self._next = itertools.count(1)

    def add(self, obj: Any) -> int:
        token = next(self._next)
        self._objects[token] = obj
        return token

    def get(self, token: int) -> Any:
        return self._objects[token]

    def pop(self, token: Optional[int]) -> Any:
        if token is None:
            return None
        return self._objects.pop(token, None)

    def __contains__(self, token: int) -> bool:
        return token in self._objects

    def __len__(self) -> int:
        return len(self._objects)


#: The one registry every callback's user_data token refers to.
REGISTRY = Registry()


class _State:
    """Interpreter-wide flags. ``finalizing`` is set by the atexit handler: from then on,
    finalizers leak C objects instead of destroying them, so no callback can reach an
    interpreter that is being torn down."""

    finalizing = False


STATE = _State()

_tls = threading.local()

_gil_ensure: Optional[Any]
if sys.implementation.name == "cpython" and hasattr(ctypes, "pythonapi"):
    _gil_ensure = ctypes.pythonapi.PyGILState_Ensure
    _gil_ensure.restype = ctypes.c_int
    _gil_ensure.argtypes = []
else:  # pragma: no cover - other interpreters keep ctypes' default behaviour
    _gil_ensure = None


def pin_thread() -> None:
    """Keeps the calling thread's Python thread state alive (see the module docstring).

    Must be called with the GIL held, i.e. inside a callback. Idempotent per thread.
    """
    if getattr(_tls, "pinned", False):
        return
    if _gil_ensure is not None:
        _gil_ensure()
    _tls.pinned = True


_H = TypeVar("_H", bound="OwnedHandle")


class OwnedHandle:
    """The lifetime boilerplate of an object that owns a library handle: ``with`` closes it,
    and so does the finaliser, unless the interpreter is finalising (calling into the library
    then could meet a half-torn-down interpreter; the handle is leaked instead). Subclasses
    define an idempotent ``close()``."""

    __slots__ = ()

    def close(self) -> None:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def __enter__(self: _H) -> _H:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self, _state: Any = STATE) -> None:
        try:
            if not _state.finalizing:
                self.close()
        except Exception:  # pragma: no cover - interpreter teardown
            pass


class CallbackScope:
    """Marks the current thread as running a library callback (see :func:`in_callback`)."""

    __slots__ = ()

    def __enter__(self) -> None:
        _tls.depth = getattr(_tls, "depth", 0) + 1

    def __exit__(self, *exc: Any) -> None:
        _tls.depth -= 1


def in_callback() -> bool:
    """True while the calling thread runs a callback from the library (a task body on a worker
    or the loop, a resource hook, a run's completion callback, ...), and on any thread that
    ever ran one (engine threads run Python only in callbacks, but may drop references just
    after one). Engine finalizers use it: an engine must not be shut down from one of its own
    threads, so they hand the work to another thread."""
    return getattr(_tls, "depth", 0) > 0 or getattr(_tls, "pinned", False)


def report(what: str, exc: BaseException) -> None:
    """Reports an exception a callback cannot propagate (there is no caller to raise to)."""
    try:
        _log.error("exception in %s", what, exc_info=(type(exc), exc, exc.__traceback__))
    except Exception:  # pragma: no cover - logging itself failed
        pass


def _destroy(user_data: Optional[int]) -> None:
    try:
        REGISTRY.pop(user_data)
    except BaseException as exc:  # pragma: no cover - a finalizer of the released object
        report("a destroy hook", exc)


#: The destroy hook for every token (tasks, resources, store objects, log handlers).
DESTROY = C.cano_destroy_fn(_destroy)
#: DESTROY's address, for ``void (**out_destroy)(void *)`` out-parameters.
DESTROY_ADDRESS: int = ctypes.cast(DESTROY, ctypes.c_void_p).value or 0
