"""Stepped tasks (resumable iterative work): :class:`More`.

A stepped task's body does one step of the work at a time. It reads the cursor the previous
step left in ``ctx.cursor`` (None on the first step) and either returns :class:`More` with the
cursor for the next step, or the next state when the work is done::

    @workflow.stepped(Step.Import, mode="worker", retry=cano.Retry.fixed(2, 0.1))
    def import_pages(ctx):
        page = ctx.cursor or 0
        rows = fetch_page(page)
        if not rows:
            return Step.Report
        save(rows)
        return cano.More(page + 1)  # call me again with cursor page + 1

Cursors are JSON values (whatever :func:`json.dumps` takes: numbers, strings, lists, dicts,
...); they travel through the library as their compact JSON text, so ``ctx.cursor`` is a fresh
parsed copy (a tuple comes back as a list). :meth:`More.raw` and ``ctx.raw_cursor`` carry raw
bytes instead, for cursors shared with bodies written in C.

Registered with :meth:`Workflow.register_stepped` (cano 0.13, spec section 3.4), every step is
its own attempt loop: ``retry`` and ``attempt_timeout`` apply per step, a retried step gets the
same input cursor again, and a step whose retries run out fails the task. The default retry is
``Retry.default()`` per step. Any other task (``workflow.register``, a router, a poll task) may
also return :class:`More`: there the whole loop is one attempt, so ``attempt_timeout`` bounds
all the steps and a retry starts again from no cursor.
"""

from __future__ import annotations

import json
from typing import Any, Optional, Union


class More:
    """What a body returns to be called again at once with ``cursor`` as ``ctx.cursor``.

    ``cursor`` is any JSON value (it is encoded when the body returns; a value JSON cannot
    represent fails the attempt with ``TaskExecutionError`` "serialize cursor for `NAME`:
    ..."). ``More.raw(data)`` carries bytes as they are. Only task bodies may return it (a
    split branch may not), and an async body returns it directly, without ``ctx.defer()``.
    """

    __slots__ = ("cursor", "_data")

    def __init__(self, cursor: Any) -> None:
        self.cursor: Any = cursor
        self._data: Optional[bytes] = None

    @classmethod
    def raw(cls, data: Union[bytes, bytearray, memoryview]) -> "More":
        """``More`` whose cursor is ``data`` itself, not JSON (``ctx.raw_cursor`` reads it; the
        next step's ``ctx.cursor`` parses it as JSON)."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"More.raw() takes bytes, not {data!r}")
        more = cls(None)
        more._data = bytes(data)
        return more

    @property
    def data(self) -> bytes:
        """The cursor as the bytes handed to the library: its compact JSON text in UTF-8, or
        the raw bytes. Raises TypeError or ValueError for a value JSON cannot represent."""
        data = self._data
        if data is None:
            data = json.dumps(
                self.cursor, separators=(",", ":"), ensure_ascii=False, allow_nan=False
            ).encode("utf-8")
        return data

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, More)
            and other._data == self._data
            and (self._data is not None or other.cursor == self.cursor)
        )

    def __hash__(self) -> int:
        return hash(("cano.More", self.data))

    def __repr__(self) -> str:
        if self._data is not None:
            return f"cano.More.raw({self._data!r})"
        return f"cano.More({self.cursor!r})"


def decode_cursor(data: bytes) -> Any:
    """Parses a cursor's JSON text (raises ValueError when it is not JSON)."""
    return json.loads(data.decode("utf-8"))
