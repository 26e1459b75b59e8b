"""MemoryStore: cano's thread-safe key/value store, shared by a run's tasks.

Three kinds of values, matched exactly on read (cano's type rules, spec section 6):

* JSON (the default): ``put(key, value)`` stores ``json.dumps(value)``, ``get(key)`` parses it;
  ``put_json``/``get_json`` take and give the text itself; ``append`` adds to a JSON array.
* bytes: ``put_bytes``/``get_bytes`` (a JSON value cannot be read as bytes, nor the reverse).
* Python objects: ``put_object(key, obj)`` stores a reference tagged with the object's class
  (``module.QualName``) or an explicit tag; ``get_object(key, T)`` returns the same object.
  The store keeps the object alive until the value is replaced, removed or cleared and the
  last reader let go, or the store is freed. ``append_object`` grows a Python list
  copy-on-write.

Every method may be called from any thread; each is one call into the library (which releases
the GIL) and is atomic there.
"""

from __future__ import annotations

import ctypes
import enum
import json
from typing import Any, Iterator, List, Optional, Tuple, Union

from . import _callbacks, _errors
from . import _capi as C

_registry = _callbacks.REGISTRY
_MISSING = object()

#: The tag ``append_object`` uses by default: the library's tag for a Python list.
LIST_TAG = "builtins.list"


class ValueKind(enum.IntEnum):
    """The kind of a stored value (cano_value_kind)."""

    BYTES = C.CANO_VALUE_BYTES
    JSON = C.CANO_VALUE_JSON
    OBJECT = C.CANO_VALUE_OBJECT


def _tag(kind: Union[type, str]) -> str:
    if isinstance(kind, str):
        return kind
    if isinstance(kind, type):
        return f"{kind.__module__}.{kind.__qualname__}"
    raise TypeError(f"a type tag is a class or a string, not {kind!r}")


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def _append(out_object: Any, out_destroy: Any, current: Optional[int], user_data: int) -> int:
    _callbacks.pin_thread()
    try:
        item = _registry.get(user_data)
        items = [] if not current else _registry.get(current)
        if not isinstance(items, list):
            return C.CANO_E_STORE_APPEND_TYPE_MISMATCH
        out_object[0] = _registry.add(items + [item])
        out_destroy[0] = _callbacks.DESTROY_ADDRESS
        return C.CANO_OK
    except BaseException:  # noqa: B902 - never unwind into C
        return C.CANO_E_INTERNAL


APPEND = C.cano_store_append_fn(_append)


class MemoryStore(_callbacks.OwnedHandle):
    """A thread-safe key/value store (cano's MemoryStore).

    Insert it into :class:`~cano.Resources` (usually under ``"store"``) to share it with tasks;
    the set retains it, so closing this object early is safe.
    """

    def __init__(self) -> None:
        out = ctypes.c_void_p()
        err = ctypes.c_void_p()
        _errors.check(C.cano_store_create(ctypes.byref(out), ctypes.byref(err)), err)
        self._ptr: Optional[int] = out.value
        self._owned = True
        self._owner: Any = None

    @classmethod
    def _borrow(cls, ptr: int, owner: Any) -> "MemoryStore":
        view = cls.__new__(cls)
        view._ptr = ptr
        view._owned = False
        view._owner = owner
        return view

    @property
    def _handle(self) -> int:
        if self._ptr is None:
            raise _errors.BadStateError("the store was closed", code=C.CANO_E_BAD_STATE)
        return self._ptr

    # --- JSON ----------------------------------------------------------------------------------

    def put(self, key: str, value: Any) -> None:
        """Stores ``value`` as JSON (compact), replacing any value under ``key``.
        Raises TypeError/ValueError for values json cannot encode (NaN included)."""
        self._put_json(key, _dumps(value))

    def get(self, key: str, default: Any = _MISSING) -> Any:
        """The JSON value under ``key``, parsed. Raises KeyNotFoundError (unless ``default`` is
        given) and TypeMismatchError (a bytes or object value)."""
        try:
            return json.loads(self.get_json(key))
        except _errors.KeyNotFoundError:
            if default is _MISSING:
                raise
            return default

    def put_json(self, key: str, text: str) -> None:
        """Stores JSON text as is. Raises InvalidArgumentError when it is not valid JSON."""
        self._put_json(key, text.encode())

    def _put_json(self, key: str, data: bytes) -> None:
        err = ctypes.c_void_p()
        status = C.cano_store_put_json(self._handle, key.encode(), data, ctypes.byref(err))
        if status < 0:
            raise _errors.take(err.value, status)

    def get_json(self, key: str) -> str:
        """The JSON text under ``key`` (compact after ``append``)."""
        out = ctypes.c_void_p()
        err = ctypes.c_void_p()
        status = C.cano_store_get_json(
            ctypes.byref(out), self._handle, key.encode(), ctypes.byref(err)
        )
        if status < 0:
            raise _errors.take(err.value, status)
        return C.take_string(out.value or 0)

    def append(self, key: str, item: Any) -> None:
        """Appends ``item`` (as JSON) to the JSON array under ``key``; a missing key becomes
        ``[item]``. Atomic. Raises AppendTypeMismatchError when the value is not an array."""
        self._append_json(key, _dumps(item))

    def append_json(self, key: str, item_text: str) -> None:
        """:meth:`append` with the item given as JSON text. Raises InvalidArgumentError when
        it is not valid JSON."""
        self._append_json(key, item_text.encode())

    def _append_json(self, key: str, data: bytes) -> None:
        err = ctypes.c_void_p()
        status = C.cano_store_append_json(self._handle, key.encode(), data, ctypes.byref(err))
        if status < 0:
            raise _errors.take(err.value, status)

    # --- bytes ---------------------------------------------------------------------------------

    def put_bytes(self, key: str, data: Union[bytes, bytearray, memoryview]) -> None:
        """Stores a copy of ``data``."""
        raw = bytes(data)
        err = ctypes.c_void_p()
        status = C.cano_store_put_bytes(
            self._handle, key.encode(), raw, len(raw), ctypes.byref(err)
        )
        if status < 0:
            raise _errors.take(err.value, status)

    def get_bytes(self, key: str) -> bytes:
        """A copy of the bytes under ``key``. Raises KeyNotFoundError, TypeMismatchError."""
        out = ctypes.c_void_p()
        size = ctypes.c_size_t()
        err = ctypes.c_void_p()
        status = C.cano_store_get_bytes(
            ctypes.byref(out), ctypes.byref(size), self._handle, key.encode(), ctypes.byref(err)
        )
        if status < 0:
            raise _errors.take(err.value, status)
        try:
            return ctypes.string_at(out.value or 0, size.value) if size.value else b""
        finally:
            C.cano_free(out.value)

    # --- Python objects ------------------------------------------------------------------------

    def put_object(self, key: str, obj: Any, *, type: Union[type, str, None] = None) -> None:
        """Stores a reference to ``obj`` tagged with ``type`` (default: the object's class).
        The store keeps ``obj`` alive while the value (or a reader's reference) exists."""
        tag = _tag(type if type is not None else obj.__class__)
        token = _registry.add(obj)
        err = ctypes.c_void_p()
        status = C.cano_store_put_object(
            self._handle, key.encode(), tag.encode(), token, _callbacks.DESTROY, ctypes.byref(err)
        )
        if status < 0:
            _registry.pop(token)  # already released by the destroy hook; harmless
            raise _errors.take(err.value, status)

    def get_object(self, key: str, type: Union[type, str, None] = None) -> Any:
        """The object under ``key``; it must be tagged ``type`` (default: whatever it is tagged
        with, as long as it is an object). Raises KeyNotFoundError, TypeMismatchError."""
        if type is None:
            kind, tag = self.kind(key)
            if kind is not ValueKind.OBJECT:
                tag = "builtins.object"  # let the library report the mismatch
        else:
            tag = _tag(type)
        ref = ctypes.c_void_p()
        err = ctypes.c_void_p()
        status = C.cano_store_get_object(
            ctypes.byref(ref), self._handle, key.encode(), tag.encode(), ctypes.byref(err)
        )
        if status < 0:
            raise _errors.take(err.value, status)
        try:
            token = C.cano_object_ref_get(ref.value)
            if not token or token not in _registry:
                raise _errors.TypeMismatchError(
                    f"the object under {key!r} was not stored from Python",
                    code=C.CANO_E_STORE_TYPE_MISMATCH,
                )
            return _registry.get(token)
        finally:
            C.cano_object_ref_release(ref.value)

    def append_object(self, key: str, item: Any, *, type: Union[type, str] = LIST_TAG) -> None:
        """Appends ``item`` to the Python list stored as an object under ``key`` (tag
        ``"builtins.list"`` by default); a missing key becomes ``[item]``. Copy-on-write:
        readers holding the old list keep it unchanged. Raises AppendTypeMismatchError when
        the value is of another kind or tag."""
        token = _registry.add(item)
        err = ctypes.c_void_p()
        try:
            status = C.cano_store_append_object(
                self._handle, key.encode(), _tag(type).encode(), APPEND, token, ctypes.byref(err)
            )
        finally:
            _registry.pop(token)
        if status < 0:
            raise _errors.take(err.value, status)

    # --- keys ----------------------------------------------------------------------------------

    def kind(self, key: str) -> Tuple[ValueKind, str]:
        """The kind of the value under ``key`` and its tag ("bytes", "json" or the object's).
        Raises KeyNotFoundError."""
        kind = ctypes.c_int()
        tag = ctypes.c_void_p()
        err = ctypes.c_void_p()
        status = C.cano_store_kind(
            ctypes.byref(kind), ctypes.byref(tag), self._handle, key.encode(), ctypes.byref(err)
        )
        if status < 0:
            raise _errors.take(err.value, status)
        return ValueKind(kind.value), C.take_string(tag.value or 0)

    def remove(self, key: str) -> None:
        """Removes ``key``; a missing key is fine (cano's remove)."""
        err = ctypes.c_void_p()
        _errors.check(C.cano_store_remove(self._handle, key.encode(), ctypes.byref(err)), err)

    def contains(self, key: str) -> bool:
        """True when ``key`` is present."""
        return bool(C.cano_store_contains(self._handle, key.encode()))

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.contains(key)

    def keys(self) -> List[str]:
        """The keys in ascending byte order."""
        out = ctypes.c_void_p()
        err = ctypes.c_void_p()
        _errors.check(C.cano_store_keys(ctypes.byref(out), self._handle, ctypes.byref(err)), err)
        keys: List[str] = json.loads(C.take_string(out.value or 0))
        return keys

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def len(self) -> int:
        """The number of keys (also ``len(store)``)."""
        return C.cano_store_len(self._handle)

    def __len__(self) -> int:
        return self.len()

    def is_empty(self) -> bool:
        return self.len() == 0

    def clear(self) -> None:
        """Removes every key."""
        err = ctypes.c_void_p()
        _errors.check(C.cano_store_clear(self._handle, ctypes.byref(err)), err)

    # --- lifetime ------------------------------------------------------------------------------

    def close(self) -> None:
        """Drops this object's reference (resource sets holding the store keep it alive).
        Idempotent."""
        ptr, self._ptr = self._ptr, None
        if ptr is not None and self._owned:
            C.cano_store_destroy(ptr)

    def __repr__(self) -> str:
        if self._ptr is None:
            return "<cano.MemoryStore (closed)>"
        return f"<cano.MemoryStore len={self.len()}>"
