"""Resources: named Python objects with an optional lifecycle, shared with a workflow's tasks.

Any Python object can be a resource. When it has ``setup()``, ``teardown()`` or ``health()``
methods, the engine calls them (cano's Resource trait)::

    class Database:
        def setup(self) -> None: ...          # before a run (insertion order)
        def teardown(self) -> None: ...       # after it (reverse order), even on failure
        def health(self) -> cano.HealthStatus: return cano.HealthStatus.healthy()

    resources = cano.Resources().insert("db", Database()).insert("store", cano.MemoryStore())
    db = resources.get("db", Database)

``setup`` raising fails the run (a CanoError keeps its code and message, other exceptions
become ``generic`` errors ``"ExcType: message"``), after the resources already set up were torn
down; ``teardown`` raising is logged and never stops the others. The engine calls setup and
teardown on one of its worker threads, one resource at a time; ``health`` runs on the thread
that asks. Lookups are exact: ``get(key, T)`` matches only objects inserted with T's type tag
(``module.QualName``), not subclasses.

Ownership: an inserted object is kept alive by the set until the set is freed (the C destroy
hook releases it). A set is frozen once a run uses it; inserting then raises BadStateError.
"""

from __future__ import annotations

import ctypes
import enum
import json
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Tuple, Union

from . import _callbacks, _errors
from . import _capi as C
from .store import MemoryStore

TypeSpec = Union[type, str, None]


def type_tag(kind: Union[type, str]) -> str:
    """The type tag for a Python class (``module.QualName``), or a tag given as a string.

    MemoryStore maps to the library's store tag, ``"cano.MemoryStore"``.
    """
    if isinstance(kind, str):
        return kind
    if isinstance(kind, type):
        if kind is MemoryStore:
            return C.CANO_STORE_TYPE
        return f"{kind.__module__}.{kind.__qualname__}"
    raise TypeError(f"a type tag is a class or a string, not {kind!r}")


class HealthLevel(enum.IntEnum):
    """cano's HealthStatus severity; the values order it."""

    HEALTHY = C.CANO_HEALTH_HEALTHY
    DEGRADED = C.CANO_HEALTH_DEGRADED
    UNHEALTHY = C.CANO_HEALTH_UNHEALTHY


@dataclass(frozen=True)
class HealthStatus:
    """A health probe's result: a level and an optional message."""

    level: HealthLevel
    message: Optional[str] = None

    @classmethod
    def healthy(cls) -> "HealthStatus":
        return cls(HealthLevel.HEALTHY)

    @classmethod
    def degraded(cls, message: str) -> "HealthStatus":
        return cls(HealthLevel.DEGRADED, message)

    @classmethod
    def unhealthy(cls, message: str) -> "HealthStatus":
        return cls(HealthLevel.UNHEALTHY, message)

    @property
    def is_healthy(self) -> bool:
        return self.level == HealthLevel.HEALTHY

    def __str__(self) -> str:
        name = self.level.name.capitalize()
        return name if self.message is None else f"{name}({self.message})"


def _normalise_health(result: Any) -> Tuple[int, Optional[str]]:
    if result is None or result is True:
        return C.CANO_HEALTH_HEALTHY, None
    if result is False:
        return C.CANO_HEALTH_UNHEALTHY, None
    if isinstance(result, HealthStatus):
        return int(result.level), result.message
    if isinstance(result, tuple) and len(result) == 2:
        return int(HealthLevel(result[0])), None if result[1] is None else str(result[1])
    return int(HealthLevel(result)), None


# --- trampolines ---------------------------------------------------------------------------------

_registry = _callbacks.REGISTRY


def _lifecycle(err: Any, user_data: int, method: str) -> int:
    _callbacks.pin_thread()
    with _callbacks.CallbackScope():
        try:
            getattr(_registry.get(user_data), method)()
            return C.CANO_OK
        except BaseException as exc:  # noqa: B902 - never unwind into C
            code, message = _errors.failure_of(exc, C.CANO_E_GENERIC)
            if err:
                err[0] = C.cano_error_new(code, message.encode("utf-8", "replace"))
            return code


def _setup(err: Any, user_data: int) -> int:
    return _lifecycle(err, user_data, "setup")


def _teardown(err: Any, user_data: int) -> int:
    return _lifecycle(err, user_data, "teardown")


def _keep_message(text: str) -> int:
    """Keeps a probe's message alive until the next probe on this thread. The library calls a
    probe on the thread that asked and copies its message before that thread can probe again,
    so one buffer per thread is exactly enough, however many threads probe at once."""
    buffer = ctypes.create_string_buffer(text.encode("utf-8", "replace"))
    _callbacks._tls.health_message = buffer
    return ctypes.addressof(buffer)


def _health(message: Any, user_data: int) -> int:
    _callbacks.pin_thread()
    with _callbacks.CallbackScope():
        try:
            level, text = _normalise_health(_registry.get(user_data).health())
        except BaseException as exc:  # noqa: B902 - a failing probe reports unhealthy
            level, text = C.CANO_HEALTH_UNHEALTHY, _errors.describe_exception(exc)
        if text is not None and message:
            message[0] = _keep_message(text)
        return level


SETUP = C.cano_resource_fn(_setup)
TEARDOWN = C.cano_resource_fn(_teardown)
HEALTH = C.cano_health_fn(_health)


class Resources(_callbacks.OwnedHandle):
    """A dictionary of named resources with a lifecycle (cano's Resources).

    Build it on one thread, then hand it to a :class:`~cano.Workflow`; lookups and health
    checks may be called from any thread. ``insert`` returns the set, so calls chain.
    """

    def __init__(self) -> None:
        out = ctypes.c_void_p()
        err = ctypes.c_void_p()
        _errors.check(C.cano_resources_create(ctypes.byref(out), ctypes.byref(err)), err)
        self._ptr: Optional[int] = out.value
        self._owned = True
        self._owner: Any = None
        self._tags: Dict[str, str] = {}
        self._stores: Dict[int, MemoryStore] = {}

    def _view(self, address: int, owner: Any) -> "Resources":
        """A view of the same set at ``address`` (which a workflow or a task context still
        holds) for when this object was closed; ``owner`` keeps the set alive. Views never free
        the set; they share this object's type tags and stores."""
        view = Resources.__new__(Resources)
        view._ptr = address
        view._owned = False
        view._owner = owner
        view._tags = self._tags
        view._stores = self._stores
        return view

    @property
    def _handle(self) -> int:
        if self._ptr is None:
            raise _errors.BadStateError("the resource set was closed", code=C.CANO_E_BAD_STATE)
        return self._ptr

    def insert(self, key: str, obj: Any, *, type: TypeSpec = None) -> "Resources":
        """Inserts ``obj`` under ``key`` with the type tag of ``type`` (default: the object's
        class). A :class:`~cano.MemoryStore` goes through :meth:`insert_store`.

        Raises ResourceDuplicateKeyError for a key already present, InvalidArgumentError for an
        empty key, BadStateError once a run used the set.
        """
        if isinstance(obj, MemoryStore) and type in (None, MemoryStore, C.CANO_STORE_TYPE):
            return self.insert_store(key, obj)
        tag = type_tag(type if type is not None else obj.__class__)
        options = C.resource_options_init()
        options.type = tag.encode()
        # Only the hooks the object has: a set without hooks needs no worker round trip.
        for hook, trampoline in (("setup", SETUP), ("teardown", TEARDOWN), ("health", HEALTH)):
            if callable(getattr(obj, hook, None)):
                setattr(options, hook, trampoline)
        token = _registry.add(_Holder(obj))
        options.object = token
        options.destroy = _callbacks.DESTROY
        err = ctypes.c_void_p()
        status = C.cano_resources_insert(
            self._handle, key.encode(), ctypes.byref(options), ctypes.byref(err)
        )
        if status < 0:
            _registry.pop(token)  # the destroy hook ran already, except for CANO_E_VERSION
            raise _errors.take(err.value, status)
        self._tags[key] = tag
        return self

    def insert_store(self, key: str, store: MemoryStore) -> "Resources":
        """Inserts a MemoryStore (retained by the set) under ``key``."""
        err = ctypes.c_void_p()
        _errors.check(
            C.cano_resources_insert_store(
                self._handle, key.encode(), store._handle, ctypes.byref(err)
            ),
            err,
        )
        self._tags[key] = C.CANO_STORE_TYPE
        self._stores[store._handle] = store
        return self

    def get(self, key: str, type: TypeSpec = None) -> Any:
        """The object under ``key``, which must have been inserted with ``type``'s tag
        (a class or a tag string; default: whatever tag it was inserted with).

        Raises ResourceNotFoundError or ResourceTypeMismatchError. Any thread.
        """
        if type is None:
            tag = self._tags.get(key)
            if tag is None:
                tag = "builtins.object"  # absent: let the library report it
        else:
            tag = type_tag(type)
        if tag == C.CANO_STORE_TYPE:
            return self.get_store(key)
        out = ctypes.c_void_p()
        err = ctypes.c_void_p()
        status = C.cano_resources_get(
            ctypes.byref(out), self._handle, key.encode(), tag.encode(), ctypes.byref(err)
        )
        if status < 0:
            raise _errors.take(err.value, status)
        token = out.value or 0
        holder = _registry.get(token) if token in _registry else None
        if holder is None:
            raise _errors.ResourceTypeMismatchError(
                f"resource {key!r} was not inserted from Python",
                code=C.CANO_E_RESOURCE_TYPE_MISMATCH,
            )
        return holder.obj

    def get_store(self, key: str) -> MemoryStore:
        """The MemoryStore under ``key``. Raises ResourceNotFoundError or
        ResourceTypeMismatchError. Any thread."""
        out = ctypes.c_void_p()
        err = ctypes.c_void_p()
        status = C.cano_resources_get_store(
            ctypes.byref(out), self._handle, key.encode(), ctypes.byref(err)
        )
        if status < 0:
            raise _errors.take(err.value, status)
        address = out.value or 0
        store = self._stores.get(address)
        if store is None or store._ptr is None:
            # Inserted by C code, or its Python object was closed: the set still holds the
            # store, so hand out a view of it (which never frees it).
            store = MemoryStore._borrow(address, self)
            self._stores[address] = store
        return store

    def __len__(self) -> int:
        return C.cano_resources_len(self._handle)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and bool(C.cano_resources_contains(self._handle, key.encode()))

    def keys(self) -> List[str]:
        """The keys inserted through this object, in insertion order."""
        return list(self._tags)

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def health(self, key: str) -> HealthStatus:
        """Probes one resource on the calling thread. Raises ResourceNotFoundError."""
        level = ctypes.c_int()
        message = ctypes.c_void_p()
        err = ctypes.c_void_p()
        status = C.cano_resources_health(
            ctypes.byref(level),
            ctypes.byref(message),
            self._handle,
            key.encode(),
            ctypes.byref(err),
        )
        if status < 0:
            raise _errors.take(err.value, status)
        text = C.take_string(message.value) if message.value else None
        return HealthStatus(HealthLevel(level.value), text)

    def aggregate_health(self) -> Tuple[HealthStatus, Optional[str]]:
        """cano's aggregate_health(): the first worst status in insertion order and its key
        (``(HealthStatus.healthy(), None)`` when all are healthy or the set is empty)."""
        level = ctypes.c_int()
        message = ctypes.c_void_p()
        key = ctypes.c_void_p()
        err = ctypes.c_void_p()
        status = C.cano_resources_aggregate_health(
            ctypes.byref(level),
            ctypes.byref(message),
            ctypes.byref(key),
            self._handle,
            ctypes.byref(err),
        )
        if status < 0:
            raise _errors.take(err.value, status)
        text = C.take_string(message.value) if message.value else None
        name = C.take_string(key.value) if key.value else None
        return HealthStatus(HealthLevel(level.value), text), name

    def check_all_health(self) -> Dict[str, HealthStatus]:
        """cano's check_all_health(): every key's status, in insertion order."""
        out = ctypes.c_void_p()
        err = ctypes.c_void_p()
        _errors.check(
            C.cano_resources_check_all_health(ctypes.byref(out), self._handle, ctypes.byref(err)),
            err,
        )
        data = json.loads(C.take_string(out.value or 0))
        return {
            key: HealthStatus(HealthLevel[value["status"].upper()], value["message"])
            for key, value in data.items()
        }

    def close(self) -> None:
        """Drops this object's reference to the set (workflows using it keep it alive, and
        ``workflow.resources`` and ``ctx.resources`` still reach it). Idempotent."""
        ptr, self._ptr = self._ptr, None
        if ptr is not None and self._owned:
            C.cano_resources_destroy(ptr)

    def __repr__(self) -> str:
        return f"<cano.Resources keys={self.keys()!r}>"


class _Holder:
    """What the registry keeps for an inserted object (the callbacks read ``obj``)."""

    __slots__ = ("obj",)

    def __init__(self, obj: Any) -> None:
        self.obj = obj

    def setup(self) -> None:
        self.obj.setup()

    def teardown(self) -> None:
        self.obj.teardown()

    def health(self) -> Any:
        return self.obj.health()
