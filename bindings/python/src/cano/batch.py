"""Batch tasks: load items, process each under a concurrency limit, then finish (cano 0.13's
BatchTask, spec section 3.3): :class:`BatchTask`, :class:`ItemResult`, :class:`BatchResults`.

::

    def load(ctx):
        return ctx.store.get("order_ids")            # any iterable of JSON values

    def process_item(order_id):                      # or process_item(ctx, order_id)
        return {"id": order_id, "total": price(order_id)}   # the item's output (JSON)

    def finish(ctx, results):                        # results: one ItemResult per item, in order
        ctx.store.put("totals", [r.value for r in results if r.ok])
        return Step.Report if results.failed == 0 else Step.Partial

    workflow.register_batch(
        Step.Price, load=load, process_item=process_item, finish=finish,
        concurrency=4, item_retry=cano.Retry.fixed(2, 0.1), mode="worker",
    )

One attempt of a batch task is three steps, each a call of one of its callables, all run where
the task's ``mode`` says (``"worker"``, the default, or ``"inline"``; ``"async"`` is refused):

``load(ctx)``
    returns the items: any iterable (a list, a generator) of JSON values. Every item travels
    through the library as its compact JSON text, so ``process_item`` gets a fresh parsed copy
    (a tuple comes back as a list). Raising fails the attempt, and ``finish`` is not called.
``process_item(item)``
    called once per item, at most ``concurrency`` items at a time (cano's default 1; 0 means 1).
    What it returns is the item's output: ``None`` leaves none, ``bytes`` (``bytearray``,
    ``memoryview``) are kept as they are, anything else is stored as its JSON text. With two
    required positional parameters it is called as ``process_item(ctx, item)``, where ``ctx`` is
    the item attempt's :class:`~cano.TaskContext` (``ctx.attempt`` is the item's attempt,
    ``ctx.item_index`` its input index, ``ctx.cancelled`` turns true when the batch is
    abandoned). Raising fails the item's attempt: the item is retried as ``item_retry`` says
    (default one attempt) and its final error is the last attempt's, raw (never a
    RetryExhaustedError); a failed item does not fail the batch. Raising :class:`~cano.Fatal`
    is cano's panic in ``process_item``: it fails the whole task at once with that error, without
    retries, and ``finish`` is not called.
``finish(ctx, results)``
    gets :class:`BatchResults`, a list with one :class:`ItemResult` per item in input order (also
    ``ctx.batch_results``), and returns the next state, as a task body does.

A failure of ``load`` or ``finish`` fails the attempt, and the task's own ``retry`` (default
``Retry.default()``, cano's ``TaskConfig::default()``) runs ``load``, the items and ``finish``
again. ``attempt_timeout`` bounds the whole attempt. Item errors name the task ``"NAME[i]"``
(``i`` the item's input index).
"""

from __future__ import annotations

import inspect
import json
from typing import TYPE_CHECKING, Any, Callable, Iterable, List, Optional, Union

from . import _errors

if TYPE_CHECKING:  # pragma: no cover
    from .split import SplitResult
    from .task import Retry, TaskContext, TaskMode

_NO_VALUE = object()


def encode_item(item: Any) -> bytes:
    """An item as the bytes handed to the library: its compact JSON text in UTF-8. Raises
    TypeError or ValueError for a value JSON cannot represent."""
    return json.dumps(item, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode(
        "utf-8"
    )


def decode_item(data: bytes) -> Any:
    """Parses an item's JSON text (raises ValueError when it is not JSON)."""
    return json.loads(data.decode("utf-8"))


def encode_output(value: Any) -> Optional[bytes]:
    """An item's output as the bytes the finish step reads: None stays None (no output),
    bytes-like objects are copied, anything else is compact JSON. Raises TypeError or ValueError
    for a value JSON cannot represent."""
    if value is None:
        return None
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode(
        "utf-8"
    )


class ItemResult:
    """What one item of a batch did, as the finish step sees it.

    Attributes:
        index: the item's position in the list ``load`` returned.
        raw: the bytes of the item's output (its JSON text, or the bytes it returned as they
            are); None when it left none or failed.
        error: the item's error when it failed (a :class:`~cano.CanoError`: its last attempt's,
            raw, whose ``task`` is ``"NAME[i]"``), else None. When the item raised a Python
            exception, the error carries it as ``.exception`` and ``__cause__``.
    """

    __slots__ = ("index", "raw", "error", "_value")

    def __init__(
        self, index: int, raw: Optional[bytes], error: Optional[_errors.CanoError]
    ) -> None:
        self.index = index
        self.raw = raw
        self.error = error
        self._value: Any = _NO_VALUE

    @property
    def ok(self) -> bool:
        """True when the item succeeded."""
        return self.error is None

    @property
    def failed(self) -> bool:
        """True when the item failed (its retries ran out)."""
        return self.error is not None

    @property
    def value(self) -> Any:
        """The item's output, parsed from its JSON text (a fresh copy, parsed once); None when
        it left none or failed. Raises ValueError when the item returned bytes that are not JSON
        (read :attr:`raw` for those)."""
        if self._value is _NO_VALUE:
            raw = self.raw
            if raw is None:
                return None
            try:
                self._value = decode_item(raw)
            except ValueError as exc:
                raise ValueError(
                    f"the output of item {self.index} is not JSON ({exc}); read .raw"
                ) from None
        return self._value

    @property
    def exception(self) -> Optional[BaseException]:
        """The Python exception the item's last attempt raised, if it failed by raising."""
        return None if self.error is None else self.error.exception

    def unwrap(self) -> Any:
        """The value of a succeeded item; raises the item's error for a failed one."""
        if self.error is not None:
            raise self.error
        return self.value

    def __repr__(self) -> str:
        if self.error is not None:
            return f"ItemResult({self.index}, error={self.error!r})"
        if self.raw is None:
            return f"ItemResult({self.index}, ok)"
        return f"ItemResult({self.index}, ok, raw={self.raw!r})"


class BatchResults(List[ItemResult]):
    """Every item's :class:`ItemResult`, in input order: a plain list (a snapshot; keep it as
    long as you like) with the counts as attributes."""

    @property
    def succeeded(self) -> int:
        """How many items succeeded."""
        return sum(1 for result in self if result.error is None)

    @property
    def failed(self) -> int:
        """How many items failed."""
        return sum(1 for result in self if result.error is not None)

    def values(self) -> List[Any]:
        """Every succeeded item's value (None for one that left none), in input order."""
        return [result.value for result in self if result.error is None]

    def errors(self) -> List[_errors.CanoError]:
        """Every failed item's error, in input order."""
        return [result.error for result in self if result.error is not None]

    def __repr__(self) -> str:
        return f"<cano.BatchResults {len(self)} items: {self.succeeded} ok, {self.failed} failed>"


def batch_results(split: "SplitResult") -> BatchResults:
    """The finish step's results, from the library's outcome list (read as a split's)."""
    return BatchResults(ItemResult(b.index, b.value, b.error) for b in split)


class BatchTask:
    """Optional base class for class-based batch tasks: override :meth:`load`,
    :meth:`process_item` and :meth:`finish`.

    Class attributes supply registration defaults that explicit arguments override::

        class PriceOrders(cano.BatchTask):
            mode = "worker"
            concurrency = 4
            item_retry = cano.Retry.fixed(2, 0.1)

            def load(self, ctx):
                return ctx.store.get("order_ids")

            def process_item(self, order_id):
                return price(order_id)

            def finish(self, ctx, results):
                return Step.Report

        workflow.register_batch(Step.Price, PriceOrders)   # or @workflow.batch(Step.Price)

    A registered instance is kept alive by the workflow until the library releases it.
    """

    mode: Union["TaskMode", str, None] = None
    retry: Optional["Retry"] = None
    attempt_timeout: Optional[float] = None
    name: Optional[str] = None
    #: Items processed at once (cano's default 1; 0 means 1).
    concurrency: Optional[int] = None
    #: The per-item retry policy (default one attempt).
    item_retry: Optional["Retry"] = None

    def load(self, ctx: "TaskContext") -> Iterable[Any]:  # pragma: no cover - abstract
        raise NotImplementedError("override BatchTask.load(ctx)")

    def process_item(self, item: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError("override BatchTask.process_item(item)")

    def finish(self, ctx: "TaskContext", results: BatchResults) -> Any:  # pragma: no cover
        raise NotImplementedError("override BatchTask.finish(ctx, results)")


def wants_context(fn: Callable[..., Any]) -> bool:
    """True when ``process_item`` takes the context too: it has at least two required
    positional parameters (``process_item(ctx, item)``); otherwise it is called with the item
    alone. A callable whose signature cannot be read is called with the item alone."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return False
    required = 0
    for parameter in signature.parameters.values():
        if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            if parameter.default is parameter.empty:
                required += 1
    return required >= 2


class BatchBodies:
    """The load and process_item callables of one registered batch task (the finish step is
    the task spec's ``fn``)."""

    __slots__ = ("load", "process_item", "item_context")

    def __init__(self, load: Callable[..., Any], process_item: Callable[..., Any]) -> None:
        self.load = load
        self.process_item = process_item
        #: Whether process_item is called as (ctx, item) rather than (item).
        self.item_context = wants_context(process_item)
