"""MemoryStore: JSON, bytes and Python objects, exact type matching, errors, ownership."""

from __future__ import annotations

import gc
import threading
import weakref
from typing import Any, List

import pytest

import cano


@pytest.fixture
def store() -> cano.MemoryStore:
    with cano.MemoryStore() as created:
        yield created


class Point:
    def __init__(self, x: int, y: int) -> None:
        self.x, self.y = x, y


def test_json_values_round_trip(store: cano.MemoryStore) -> None:
    values = [6, -1.5, "text ü", True, None, [1, 2, 3], {"a": {"b": [None]}}]
    for index, value in enumerate(values):
        store.put(f"k{index}", value)
        assert store.get(f"k{index}") == value
    assert store.get_json("k5") == "[1,2,3]"
    store.put_json("raw", '{"n": 1}')
    assert store.get("raw") == {"n": 1}
    store.put("k0", "replaced")
    assert store.get("k0") == "replaced"
    assert store.kind("k0") == (cano.ValueKind.JSON, "json")
    with pytest.raises(ValueError):
        store.put("nan", float("nan"))
    with pytest.raises(TypeError):
        store.put("set", {1, 2})
    with pytest.raises(cano.InvalidArgumentError) as caught:
        store.put_json("bad", "{not json")
    assert "'bad'" in caught.value.message


def test_missing_keys(store: cano.MemoryStore) -> None:
    with pytest.raises(cano.KeyNotFoundError) as caught:
        store.get("nope")
    assert caught.value.message == "Key not found: Key 'nope' not found in store"
    assert caught.value.display == "Store error: Key not found: Key 'nope' not found in store"
    assert store.get("nope", "fallback") == "fallback"
    for call in (store.get_json, store.get_bytes, store.get_object, store.kind):
        with pytest.raises(cano.KeyNotFoundError):
            call("nope")
    with pytest.raises(KeyError):  # also a KeyError
        store.get("nope")


def test_bytes(store: cano.MemoryStore) -> None:
    store.put_bytes("b", b"\x00\x01binary\xff")
    assert store.get_bytes("b") == b"\x00\x01binary\xff"
    store.put_bytes("empty", b"")
    assert store.get_bytes("empty") == b""
    store.put_bytes("view", memoryview(bytearray(b"abc")))
    assert store.get_bytes("view") == b"abc"
    assert store.kind("b") == (cano.ValueKind.BYTES, "bytes")


def test_type_matching_is_exact(store: cano.MemoryStore) -> None:
    store.put("json", [1])
    store.put_bytes("bytes", b"x")
    store.put_object("point", Point(1, 2))
    message = "Type mismatch: Cannot downcast value for key 'json' to requested type"
    with pytest.raises(cano.TypeMismatchError) as caught:
        store.get_bytes("json")
    assert caught.value.message == message
    with pytest.raises(cano.TypeMismatchError):
        store.get("bytes")
    with pytest.raises(cano.TypeMismatchError):
        store.get("point")
    with pytest.raises(cano.TypeMismatchError):
        store.get_object("point", dict)
    with pytest.raises(cano.TypeMismatchError):
        store.get_object("json")


def test_python_objects(store: cano.MemoryStore) -> None:
    point = Point(1, 2)
    store.put_object("p", point)
    assert store.get_object("p") is point
    assert store.get_object("p", Point) is point
    assert store.get_object("p", f"{__name__}.Point") is point
    assert store.kind("p") == (cano.ValueKind.OBJECT, f"{__name__}.Point")
    store.put_object("tagged", {"any": "thing"}, type="app.Settings")
    assert store.get_object("tagged", "app.Settings") == {"any": "thing"}
    with pytest.raises(cano.InvalidArgumentError):
        store.put_object("x", point, type="")


def test_stored_objects_live_until_replaced_removed_or_cleared(store: cano.MemoryStore) -> None:
    def stored(key: str) -> "weakref.ref[Point]":
        point = Point(0, 0)
        store.put_object(key, point)
        return weakref.ref(point)

    replaced, removed, cleared, closed = stored("a"), stored("b"), stored("c"), stored("d")
    gc.collect()
    assert all(ref() is not None for ref in (replaced, removed, cleared, closed))
    store.put("a", 1)
    store.remove("b")
    gc.collect()
    assert replaced() is None and removed() is None and cleared() is not None
    store.remove("d")
    store.put_object("d", closed())
    store.clear()
    gc.collect()
    assert cleared() is None and closed() is None
    # A reader's object outlives its removal from the store.
    point = Point(5, 5)
    store.put_object("r", point)
    held = store.get_object("r")
    del point
    store.remove("r")
    gc.collect()
    assert held.x == 5


def test_a_closed_store_releases_its_objects() -> None:
    store = cano.MemoryStore()
    point = Point(0, 0)
    ref = weakref.ref(point)
    store.put_object("p", point)
    del point
    store.close()
    gc.collect()
    assert ref() is None
    with pytest.raises(cano.BadStateError, match="closed"):
        store.len()
    assert repr(store) == "<cano.MemoryStore (closed)>"
    store.close()  # idempotent


def test_append_json(store: cano.MemoryStore) -> None:
    store.append("list", 1)
    store.append("list", {"two": 2})
    store.append_json("list", '"three"')
    assert store.get("list") == [1, {"two": 2}, "three"]
    assert store.get_json("list") == '[1,{"two":2},"three"]'
    store.put("scalar", 5)
    with pytest.raises(cano.AppendTypeMismatchError) as caught:
        store.append("scalar", 6)
    assert caught.value.message == (
        "Append type mismatch: Cannot append to key 'scalar': existing value is not a Vec<TState>"
    )
    assert store.get("scalar") == 5  # untouched
    with pytest.raises(cano.InvalidArgumentError):
        store.append_json("list", "nope")


def test_append_object(store: cano.MemoryStore) -> None:
    store.append_object("items", Point(1, 1))
    first = store.get_object("items")
    store.append_object("items", Point(2, 2))
    second = store.get_object("items", list)
    assert [p.x for p in first] == [1]  # copy-on-write: the old list is unchanged
    assert [p.x for p in second] == [1, 2]
    store.put_object("tuple", (1,))
    with pytest.raises(cano.AppendTypeMismatchError):
        store.append_object("tuple", 2)
    store.put("json", [1])
    with pytest.raises(cano.AppendTypeMismatchError):
        store.append_object("json", 2)
    store.append_object("tagged", "a", type="app.Names")
    assert store.get_object("tagged", "app.Names") == ["a"]


def test_keys_len_contains_remove_clear(store: cano.MemoryStore) -> None:
    assert store.is_empty() and len(store) == 0 and store.keys() == []
    for key in ("b", "a", "c"):
        store.put(key, key)
    assert store.keys() == ["a", "b", "c"] == list(store)
    assert len(store) == store.len() == 3
    assert "a" in store and store.contains("a") and "z" not in store and 1 not in store
    store.remove("a")
    store.remove("a")  # a missing key is fine
    assert store.keys() == ["b", "c"]
    store.clear()
    assert len(store) == 0
    assert repr(store) == "<cano.MemoryStore len=0>"


def test_concurrent_appends_from_threads(store: cano.MemoryStore) -> None:
    def work(n: int) -> None:
        for i in range(100):
            store.append("nums", n * 1000 + i)
            store.append_object("objs", i)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    nums: List[Any] = store.get("nums")
    assert sorted(nums) == sorted(n * 1000 + i for n in range(4) for i in range(100))
    assert len(store.get_object("objs")) == 400
