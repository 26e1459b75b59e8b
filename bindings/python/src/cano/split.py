"""Split states: run several branch bodies in parallel, then join (cano 0.13, spec section 4).

::

    workflow.register_split(
        Step.Fan,
        [fetch_prices, fetch_stock, (fetch_reviews, {"mode": "inline"})],
        join=cano.Join.quorum(2),
        join_state=Step.Merge,
        timeout=5.0,
        bulkhead=2,
    )

    @workflow.task(Step.Merge, mode="inline")
    def merge(ctx):
        result = ctx.split_result          # what every branch did
        prices = result[0].json()          # a branch's return value, decoded
        ...

A branch body takes the context like any task body. It succeeds when it returns without raising;
what it returns is its *value*, handed to the join state's task: ``None`` leaves no value,
``bytes`` (or ``bytearray``, ``memoryview``) are kept as they are, a ``str`` is encoded as UTF-8,
anything else is serialised as compact JSON. Raising fails the branch's attempt (retries apply;
``cano.Fatal`` ends them at once).

The :class:`Join` strategy decides when the split is done and whether it succeeded:

==================  =====================================================  ===============
strategy            succeeds when                                          ends early
==================  =====================================================  ===============
``all()``           every branch succeeded                                 no
``any()``           at least one succeeded                                 first success
``quorum(n)``       at least ``n`` succeeded                               no
``percentage(p)``   at least ``ceil(total * p)`` succeeded, p in (0, 1]    no
``partial_results`` at least ``n`` succeeded                               once ``n`` have
``partial_timeout`` at least one branch *completed* by the split timeout   no
==================  =====================================================  ===============

Then the run moves to ``join_state``; otherwise it fails with a :class:`~cano.WorkflowError`
("Join condition not met: ...", "Partial results condition not met: ...", "PartialTimeout: No
tasks completed before timeout", or "Split task timeout exceeded" when ``timeout`` passed under
any strategy but ``partial_timeout``). Branches that lose (an early exit, the timeout) are
cancelled: ``ctx.cancelled`` turns true in their bodies and their late results are discarded.
"""

from __future__ import annotations

import collections
import ctypes
import datetime
import enum
import json
import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterator, List, Optional, Sequence, Tuple, Union, overload

from . import _errors
from . import _capi as C

Seconds = Union[float, int, datetime.timedelta]


class JoinStrategy(enum.IntEnum):
    """cano's JoinStrategy (cano_join_strategy)."""

    ALL = C.CANO_JOIN_ALL
    ANY = C.CANO_JOIN_ANY
    QUORUM = C.CANO_JOIN_QUORUM
    PERCENTAGE = C.CANO_JOIN_PERCENTAGE
    PARTIAL_RESULTS = C.CANO_JOIN_PARTIAL_RESULTS
    PARTIAL_TIMEOUT = C.CANO_JOIN_PARTIAL_TIMEOUT


def _count(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, not {value!r}")
    if not 0 <= value < 2**32:
        raise ValueError(f"{what} must be in [0, 2**32), not {value}")
    return int(value)


@dataclass(frozen=True)
class Join:
    """A split's join strategy. Immutable; build one with :meth:`all`, :meth:`any`,
    :meth:`quorum`, :meth:`percentage`, :meth:`partial_results` or :meth:`partial_timeout`.

    The library checks the strategy when the workflow is validated (``workflow.validate()``, and
    so when the first run starts), with cano's texts: ``percentage`` needs a finite value in
    (0, 1], ``partial_timeout`` needs a split ``timeout``. ``str(join)`` is cano's name for it,
    as in error messages (``"Quorum(2)"``).
    """

    strategy: JoinStrategy = JoinStrategy.ALL
    count: int = 0
    fraction: float = 0.0

    @classmethod
    def all(cls) -> "Join":
        """Every branch must succeed; waits for all of them (failures do not end it early)."""
        return cls(JoinStrategy.ALL)

    @classmethod
    def any(cls) -> "Join":
        """At least one branch must succeed; ends at the first success."""
        return cls(JoinStrategy.ANY)

    @classmethod
    def quorum(cls, n: int) -> "Join":
        """At least ``n`` branches must succeed; waits for all of them. ``quorum(0)`` always
        succeeds; more than the number of branches always fails."""
        return cls(JoinStrategy.QUORUM, _count(n, "quorum"))

    @classmethod
    def percentage(cls, p: float) -> "Join":
        """At least ``ceil(total * p)`` branches must succeed, ``p`` in (0, 1]; waits for all."""
        if isinstance(p, bool) or not isinstance(p, (int, float)):
            raise TypeError(f"percentage must be a number, not {p!r}")
        return cls(JoinStrategy.PERCENTAGE, 0, float(p))

    @classmethod
    def partial_results(cls, n: int) -> "Join":
        """At least ``n`` branches must succeed; ends (cancelling the rest) as soon as ``n``
        have."""
        return cls(JoinStrategy.PARTIAL_RESULTS, _count(n, "partial_results"))

    @classmethod
    def partial_timeout(cls) -> "Join":
        """Runs until the split ``timeout`` (required) and succeeds when at least one branch
        completed by then, successfully or not."""
        return cls(JoinStrategy.PARTIAL_TIMEOUT)

    def __str__(self) -> str:
        strategy = self.strategy
        if strategy is JoinStrategy.QUORUM:
            return f"Quorum({self.count})"
        if strategy is JoinStrategy.PERCENTAGE:
            return f"Percentage({self.fraction!r})"
        if strategy is JoinStrategy.PARTIAL_RESULTS:
            return f"PartialResults({self.count})"
        return {
            JoinStrategy.ALL: "All",
            JoinStrategy.ANY: "Any",
            JoinStrategy.PARTIAL_TIMEOUT: "PartialTimeout",
        }[strategy]

    def apply(self, options: C.cano_join_options) -> None:
        """Writes the strategy fields of a ``cano_join_options``."""
        options.strategy = int(self.strategy)
        options.count = self.count
        options.percentage = self.fraction


class Branch:
    """One branch of a split with its own options; a plain callable (or a ``cano.Task``) in the
    branch list is the same as ``Branch(callable)``, and so is a ``(callable, {options})``
    tuple.

    Options not given come from the body's ``mode``, ``retry``, ``attempt_timeout`` and ``name``
    attributes, then from the C defaults, as for ``workflow.register``: ``"worker"`` mode and
    ``Retry.default()``. A branch holds its bulkhead slot through its retries. ``cancel`` (async
    branches only) gets the attempt's :class:`~cano.Completion` when the engine abandons it
    while pending: the branch lost (an early exit, the split timeout), its attempt timed out,
    or its run ended.
    """

    __slots__ = ("body", "mode", "retry", "attempt_timeout", "name", "cancel")

    def __init__(
        self,
        body: Any,
        *,
        mode: Any = None,
        retry: Any = None,
        attempt_timeout: Optional[Seconds] = None,
        name: Optional[str] = None,
        cancel: Optional[Callable[[Any], Any]] = None,
    ) -> None:
        self.body = body
        self.mode = mode
        self.retry = retry
        self.attempt_timeout = attempt_timeout
        self.name = name
        self.cancel = cancel

    _OPTIONS = ("mode", "retry", "attempt_timeout", "name", "cancel")

    @classmethod
    def of(cls, item: Any) -> "Branch":
        """Accepts a Branch, a callable, a Task (class or instance), or ``(body, {options})``."""
        if isinstance(item, Branch):
            return item
        if isinstance(item, tuple):
            if len(item) != 2 or not isinstance(item[1], dict):
                raise TypeError(
                    f"a branch tuple is (body, {{options}}), not {item!r}; or use cano.Branch"
                )
            unknown = set(item[1]) - set(cls._OPTIONS)
            if unknown:
                raise TypeError(
                    f"unknown branch option(s) {sorted(unknown)}; use {', '.join(cls._OPTIONS)}"
                )
            return cls(item[0], **item[1])
        return cls(item)

    def __repr__(self) -> str:
        return f"cano.Branch({self.body!r}, mode={self.mode!r}, name={self.name!r})"


def encode_value(value: Any) -> Optional[bytes]:
    """A branch's return value as the bytes handed to the join task: None stays None (no
    value), bytes-like objects are copied, a str is UTF-8, anything else compact JSON.
    Raises TypeError for a value JSON cannot represent."""
    if value is None:
        return None
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"a branch returned {value!r}, which is neither None, bytes, str nor JSON: {exc}"
        ) from None


class BranchStatus(enum.IntEnum):
    """How a branch ended (cano_branch_status)."""

    SUCCEEDED = C.CANO_BRANCH_SUCCEEDED
    FAILED = C.CANO_BRANCH_FAILED
    CANCELLED = C.CANO_BRANCH_CANCELLED


_NO_VALUE = object()


@dataclass(frozen=True)
class BranchOutcome:
    """What one branch of a split did.

    Attributes:
        index: the branch's position in the split's branch list.
        status: SUCCEEDED, FAILED or CANCELLED (it lost an early exit or the split timeout, or
            never started).
        value: the bytes the branch left (its return value, encoded), or None when it left none
            or did not succeed.
        error: the branch's error (a CanoError: its last attempt's error, or RetryExhaustedError
            wrapping it) when it failed, else None. When the branch raised a Python exception,
            the innermost level carries it as ``.exception`` and ``__cause__``.
    """

    index: int
    status: BranchStatus
    value: Optional[bytes] = None
    error: Optional[_errors.CanoError] = None

    @property
    def succeeded(self) -> bool:
        return self.status is BranchStatus.SUCCEEDED

    @property
    def failed(self) -> bool:
        return self.status is BranchStatus.FAILED

    @property
    def cancelled(self) -> bool:
        return self.status is BranchStatus.CANCELLED

    def text(self, encoding: str = "utf-8") -> Optional[str]:
        """The value decoded as text (None when there is no value)."""
        return None if self.value is None else self.value.decode(encoding)

    def json(self, default: Any = _NO_VALUE) -> Any:
        """The value parsed as JSON. Without a value, returns ``default`` when given, else
        raises ValueError (so that a missing value is never mistaken for JSON ``null``)."""
        if self.value is None:
            if default is _NO_VALUE:
                raise ValueError(f"branch {self.index} left no value ({self.status.name})")
            return default
        return json.loads(self.value)

    def __repr__(self) -> str:
        if self.status is BranchStatus.SUCCEEDED:
            detail = "" if self.value is None else f", value={self.value!r}"
        elif self.status is BranchStatus.FAILED:
            detail = f", error={self.error!r}"
        else:
            detail = ""
        return f"BranchOutcome({self.index}, {self.status.name}{detail})"


class SplitResult(Sequence[BranchOutcome]):
    """The outcome of the split the run just left, as the join state's task sees it through
    ``ctx.split_result``: a sequence of :class:`BranchOutcome` (one per branch, in the order the
    branches were given) and the counts. A plain snapshot: keep it as long as you like."""

    __slots__ = ("_branches", "succeeded", "failed", "cancelled")

    def __init__(
        self, branches: Sequence[BranchOutcome], succeeded: int, failed: int, cancelled: int
    ) -> None:
        self._branches: Tuple[BranchOutcome, ...] = tuple(branches)
        #: How many branches succeeded, failed, were cancelled.
        self.succeeded = succeeded
        self.failed = failed
        self.cancelled = cancelled

    @property
    def count(self) -> int:
        """The number of branches (``len(result)``)."""
        return len(self._branches)

    @property
    def branches(self) -> Tuple[BranchOutcome, ...]:
        return self._branches

    def __len__(self) -> int:
        return len(self._branches)

    @overload
    def __getitem__(self, index: int) -> BranchOutcome: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[BranchOutcome]: ...

    def __getitem__(self, index: Any) -> Any:
        return self._branches[index]

    def __iter__(self) -> Iterator[BranchOutcome]:
        return iter(self._branches)

    def values(self) -> List[Optional[bytes]]:
        """Every succeeded branch's value (None for one that left none), in branch order."""
        return [b.value for b in self._branches if b.status is BranchStatus.SUCCEEDED]

    def errors(self) -> List[_errors.CanoError]:
        """Every failed branch's error, in branch order."""
        return [b.error for b in self._branches if b.error is not None]

    def __repr__(self) -> str:
        return (
            f"<cano.SplitResult {len(self)} branches: {self.succeeded} succeeded, "
            f"{self.failed} failed, {self.cancelled} cancelled>"
        )


# --- the exceptions branches raised ------------------------------------------------------------

# (engine address, run id, state, branch index) -> (attempt, exception), so that the join task's
# split result can hand a failed branch's Python exception back. Bounded; oldest dropped first.
_BRANCH_EXCEPTIONS: "collections.OrderedDict[Tuple[int, int, int, int], Tuple[int, BaseException]]"
_BRANCH_EXCEPTIONS = collections.OrderedDict()
_BRANCH_EXCEPTIONS_MAX = 256
_lock = threading.Lock()


def remember_branch_exception(
    engine: int, run_id: int, state: int, index: int, attempt: int, exc: BaseException
) -> None:
    key = (engine, run_id, state, index)
    with _lock:
        _BRANCH_EXCEPTIONS[key] = (attempt, exc)
        _BRANCH_EXCEPTIONS.move_to_end(key)
        while len(_BRANCH_EXCEPTIONS) > _BRANCH_EXCEPTIONS_MAX:
            _BRANCH_EXCEPTIONS.popitem(last=False)


def _attach(error: _errors.CanoError, engine: int, run_id: int, state: int, index: int) -> None:
    with _lock:
        entry = _BRANCH_EXCEPTIONS.pop((engine, run_id, state, index), None)
    if entry is None:
        return
    attempt, exc = entry
    _errors.attach_exception_of_attempt(error, attempt, exc)


def read_split_result(
    handle: int, states: Callable[[int], Any], engine: int, run_id: int
) -> SplitResult:
    """Copies a borrowed ``const cano_split_result *`` into a :class:`SplitResult`."""
    count = C.cano_split_result_count(handle)
    length = ctypes.c_size_t()
    raw_state = ctypes.c_int32()
    branches: List[BranchOutcome] = []
    for index in range(count):
        status = BranchStatus(C.cano_split_result_status(handle, index))
        value: Optional[bytes] = None
        error: Optional[_errors.CanoError] = None
        if status is BranchStatus.SUCCEEDED:
            address = C.cano_split_result_value(handle, index, ctypes.byref(length))
            if address is not None:
                value = ctypes.string_at(address, length.value)
        elif status is BranchStatus.FAILED:
            error_handle = C.cano_split_result_error(handle, index)
            if error_handle:
                error = _errors.from_handle(error_handle, states)
                if C.cano_error_state(error_handle, ctypes.byref(raw_state)):
                    _attach(error, engine, run_id, raw_state.value, index)
        branches.append(BranchOutcome(index, status, value, error))
    return SplitResult(
        branches,
        C.cano_split_result_succeeded(handle),
        C.cano_split_result_failed(handle),
        C.cano_split_result_cancelled(handle),
    )


def branch_list(branches: Any) -> List[Branch]:
    """The branches of ``register_split`` as :class:`Branch` objects."""
    if isinstance(branches, (str, bytes)) or not hasattr(branches, "__iter__"):
        raise TypeError(f"branches must be a list of branch bodies, not {branches!r}")
    return [Branch.of(item) for item in branches]
