"""The three C callbacks of every Python batch task (:data:`RUN_BATCH_LOAD`,
:data:`RUN_BATCH_ITEM`, :data:`RUN_BATCH_FINISH`): its load step, one attempt of one item, and
its finish step (see :mod:`cano.batch` for what each callable gets and returns).

Items and outputs cross the C ABI as bytes (compact JSON, or an output's own bytes), so these
trampolines encode and decode them; everything else (the callback depth, a body's exception,
what the finish step returns) works as for any task, through :mod:`cano._task_trampolines`.
"""

from __future__ import annotations

import ctypes

from . import _capi as C
from ._task_context import TaskContext
from ._task_failures import fail_attempt
from ._task_spec import TaskSpec, task_name
from ._task_trampolines import fail_with_message, guarded, status_for
from .batch import BatchBodies, BatchResults, decode_item, encode_item, encode_output

_batch_add = C.cano_task_ctx_batch_add
_batch_item = C.cano_task_ctx_batch_item
_ctx_set_value = C.cano_task_ctx_set_value
_OK = C.CANO_OK


def _run_batch_load(ptr: int, spec: TaskSpec) -> int:
    """A batch task's load step: calls ``load(ctx)`` and adds every item it returns."""
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
            context._ptr = None
            return fail_with_message(
                ptr,
                f"batch load for `{task_name(ptr, spec)}` returned {items!r}; return an "
                "iterable of items (a list, or a generator; an empty list for none)",
            )
        for index, item in enumerate(iterator):
            try:
                data = encode_item(item)
            except (TypeError, ValueError) as exc:
                context._ptr = None
                return fail_with_message(
                    ptr, f"serialize item {index} for `{task_name(ptr, spec)}`: {exc}"
                )
            _batch_add(ptr, data, len(data))
    except BaseException as exc:  # noqa: B902 - a body must never unwind into C
        context._ptr = None
        return fail_attempt(ptr, spec, exc)
    context._ptr = None
    return _OK


def _run_batch_item(ptr: int, spec: TaskSpec) -> int:
    """A batch task's process_item step: one attempt of one item. Its return value is the
    item's output."""
    bodies: BatchBodies = spec.batch  # type: ignore[assignment]
    index = ctypes.c_size_t()
    address = ctypes.c_void_p()
    size = ctypes.c_size_t()
    _batch_item(ptr, ctypes.byref(index), ctypes.byref(address), ctypes.byref(size))
    data = ctypes.string_at(address.value, size.value) if size.value else b""
    try:
        item = decode_item(data)
    except ValueError as exc:
        return fail_with_message(
            ptr, f"deserialize item for `{task_name(ptr, spec)}[{index.value}]`: {exc}"
        )
    context = TaskContext(ptr, spec)
    context._item = item
    try:
        if bodies.item_context:
            result = bodies.process_item(context, item)
        else:
            result = bodies.process_item(item)
    except BaseException as exc:  # noqa: B902 - a body must never unwind into C
        context._ptr = None
        return fail_attempt(ptr, spec, exc, index.value)
    context._ptr = None
    try:
        output = encode_output(result)
    except (TypeError, ValueError) as exc:
        return fail_with_message(
            ptr, f"serialize output of `{task_name(ptr, spec)}[{index.value}]`: {exc}"
        )
    if output is not None:
        _ctx_set_value(ptr, output, len(output))
    return _OK


def _run_batch_finish(ptr: int, spec: TaskSpec) -> int:
    """A batch task's finish step: ``finish(ctx, results)`` picks the next state, read as a
    task body's return value is."""
    context = TaskContext(ptr, spec)
    try:
        results = context.batch_results
        if results is None:  # pragma: no cover - the library calls run only to finish
            results = BatchResults()
        result = spec.fn(context, results)  # type: ignore[call-arg]
    except BaseException as exc:  # noqa: B902 - a body must never unwind into C
        context._ptr = None
        return fail_attempt(ptr, spec, exc)
    context._ptr = None
    return status_for(ptr, spec, result)


#: The load, process_item and finish trampolines of every Python batch task.
RUN_BATCH_LOAD = C.cano_task_fn(guarded(_run_batch_load))
RUN_BATCH_ITEM = C.cano_task_fn(guarded(_run_batch_item))
RUN_BATCH_FINISH = C.cano_task_fn(guarded(_run_batch_finish))
