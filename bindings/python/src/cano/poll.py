"""Poll tasks ("wait until"): :class:`Pending` and :class:`PollPolicy`.

A poll task's body answers "ready" by returning the next state, or "not yet" by returning
:class:`Pending` with the delay after which it wants to be called again::

    @workflow.poll(Step.WaitForJob, mode="inline", attempt_timeout=30)
    def wait_for_job(ctx):
        if ctx.resources.get("jobs", Jobs).finished("42"):
            return Step.Collect
        return cano.Pending(0.5)  # poll again in half a second

The engine re-polls on a loop timer, so no thread is held while the task waits (a delay of 0
re-polls on the loop's next turn). The whole wait is one attempt (cano 0.13, spec section 3.2):
``attempt_timeout`` bounds the total wait and a retrying policy restarts the whole wait. A poll
task's default retry policy is cano's ``TaskConfig::minimal()`` (one attempt): ``Retry.default()``
means ``Retry.none()`` for a poll task.

Errors raised by the body follow the :class:`PollPolicy`: ``FAIL_FAST`` (the default) fails the
attempt at the first error; ``RETRY_ON_ERROR`` calls the body again at once and fails the attempt
when more than ``max_errors`` errors came in a row (a ``Pending`` resets the count, so
``max_errors=0`` fails at the first error).
"""

from __future__ import annotations

import datetime
import enum
from typing import Union

from . import _capi as C


class PollPolicy(enum.IntEnum):
    """What a poll task does when its body raises (cano's PollErrorPolicy)."""

    FAIL_FAST = C.CANO_POLL_FAIL_FAST
    RETRY_ON_ERROR = C.CANO_POLL_RETRY_ON_ERROR

    @classmethod
    def of(cls, policy: Union["PollPolicy", str, int, None]) -> "PollPolicy":
        """Accepts a member, its name in any case ("retry_on_error"), or its int value."""
        if policy is None:
            return cls.FAIL_FAST
        if isinstance(policy, str):
            try:
                return cls[policy.upper()]
            except KeyError:
                raise ValueError(
                    f"unknown poll policy {policy!r}; use 'fail_fast' or 'retry_on_error'"
                ) from None
        return cls(policy)


class Pending:
    """What a poll task's body returns to be polled again after ``delay`` seconds (a number or a
    timedelta, rounded to whole milliseconds; 0 re-polls on the loop's next turn).
    :meth:`ms` builds one from milliseconds. Returning the class itself (``return cano.Pending``)
    means a delay of 0.

    Only poll tasks (``workflow.register_poll`` / ``@workflow.poll``) may return it; any other
    task fails its attempt when it does ("task returned CANO_POLL_AGAIN but is not registered as
    a poll task"). An async poll task returns it from its body, without ``ctx.defer()``. Not to
    be confused with :data:`cano.PENDING`, what an async body returns after ``ctx.defer()``.
    """

    __slots__ = ("delay_ms",)

    def __init__(self, delay: Union[float, int, datetime.timedelta] = 0) -> None:
        from .task import to_ms

        self.delay_ms: int = to_ms(delay, "delay")

    @classmethod
    def ms(cls, delay_ms: int) -> "Pending":
        """``Pending`` with a delay in whole milliseconds."""
        delay_ms = int(delay_ms)
        if not 0 <= delay_ms < 2**64:
            raise ValueError(f"delay_ms must be in [0, 2**64), not {delay_ms}")
        pending = cls.__new__(cls)
        pending.delay_ms = delay_ms
        return pending

    @property
    def delay(self) -> float:
        """The delay in seconds."""
        return self.delay_ms / 1000.0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pending) and other.delay_ms == self.delay_ms

    def __hash__(self) -> int:
        return hash(("cano.Pending", self.delay_ms))

    def __repr__(self) -> str:
        return f"cano.Pending({self.delay_ms / 1000.0!r})"
