"""Timer tasks ("wait, then run"): :class:`WaitFor` and :class:`WaitUntil`.

A timer task waits before its body runs, on a loop timer (no thread is held while it waits);
its body then picks the next state as any task's does. The wait is fixed at registration, or
decided each attempt by a ``wait`` callable::

    workflow.register_timer(Step.Cooldown, lambda ctx: Step.Retry, delay=30)
    workflow.register_timer(Step.Report, send_report, until=engine.now() + 3600)

    def backoff(ctx):
        return cano.WaitFor(2 ** ctx.attempt)  # or cano.WaitUntil(clock_seconds)

    @workflow.timer(Step.Poke, wait=backoff, retry=cano.Retry.fixed(3))
    def poke(ctx):
        return Step.Done

Times are in seconds on the engine's clock (``engine.now()``, which a manual clock moves only
when told to); a time in the past waits no time. The ``wait`` callable runs on the engine's loop
thread before each attempt's wait (keep it short): it gets the attempt's context and returns a
:class:`WaitFor` or a :class:`WaitUntil`; raising (or returning anything else) fails the
attempt, which is then retried as any failed attempt (a :class:`~cano.Fatal` ends the task's
retries at once).

cano 0.15's TimerTask (spec section 15): the attempt timeout bounds the wait and the body
together, and the default retry policy is cano's ``TaskConfig::minimal()`` (one attempt;
``Retry.default()`` means the same here). A retried attempt waits again in full.
"""

from __future__ import annotations

import datetime
from typing import Union

Seconds = Union[float, int, datetime.timedelta]


def _ms(value: int, what: str) -> int:
    value = int(value)
    if not 0 <= value < 2**64:
        raise ValueError(f"{what} must be in [0, 2**64), not {value}")
    return value


class WaitFor:
    """A wait callable's answer: wait ``delay`` seconds (a number or a timedelta, rounded to
    whole milliseconds). :meth:`ms` builds one from milliseconds."""

    __slots__ = ("delay_ms",)

    def __init__(self, delay: Seconds) -> None:
        from .task import to_ms

        self.delay_ms: int = to_ms(delay, "delay")

    @classmethod
    def ms(cls, delay_ms: int) -> "WaitFor":
        """``WaitFor`` with a delay in whole milliseconds."""
        wait = cls.__new__(cls)
        wait.delay_ms = _ms(delay_ms, "delay_ms")
        return wait

    @property
    def delay(self) -> float:
        """The delay in seconds."""
        return self.delay_ms / 1000.0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WaitFor) and other.delay_ms == self.delay_ms

    def __hash__(self) -> int:
        return hash(("cano.WaitFor", self.delay_ms))

    def __repr__(self) -> str:
        return f"cano.WaitFor({self.delay_ms / 1000.0!r})"


class WaitUntil:
    """A wait callable's answer: wait until the engine's clock reads ``clock`` seconds
    (``engine.now()``; a number or a timedelta, rounded to whole milliseconds). :meth:`ms`
    builds one from a reading in milliseconds (``engine.now_ms()``)."""

    __slots__ = ("clock_ms",)

    def __init__(self, clock: Seconds) -> None:
        from .task import to_ms

        self.clock_ms: int = to_ms(clock, "clock")

    @classmethod
    def ms(cls, clock_ms: int) -> "WaitUntil":
        """``WaitUntil`` with a clock reading in whole milliseconds."""
        wait = cls.__new__(cls)
        wait.clock_ms = _ms(clock_ms, "clock_ms")
        return wait

    @property
    def clock(self) -> float:
        """The clock reading in seconds."""
        return self.clock_ms / 1000.0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WaitUntil) and other.clock_ms == self.clock_ms

    def __hash__(self) -> int:
        return hash(("cano.WaitUntil", self.clock_ms))

    def __repr__(self) -> str:
        return f"cano.WaitUntil({self.clock_ms / 1000.0!r})"
