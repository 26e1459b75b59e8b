"""The conformance suite's scenario model (tests/conformance/README.md "Fields"): strict reading
of JSON objects (:class:`Fields`), the parsed scenario (:class:`Scenario` and its parts), and
:class:`ParserBase`, what every part of the parser knows about the states declared so far.

Used by the Python runner, test_conformance.py; parsing is in _conformance_parser.py and
_conformance_expect.py, running in _conformance_runner.py.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import cano

UINT32_MAX = 2**32 - 1
UINT64_MAX = 2**64 - 1
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
#: What Fields.get returns for a member the object does not have.
ABSENT = object()


class ScenarioError(Exception):
    """The scenario file is invalid (README "Fields")."""


def _status_codes() -> Dict[str, int]:
    codes = {}
    for code in range(-100, 2):
        name = cano.status_name(code)
        if name != "UNKNOWN":
            codes[name] = code
    return codes


STATUS = _status_codes()


# --- strict reading -----------------------------------------------------------------------------


class Fields:
    """Reads one JSON object's members and rejects those nobody asked for."""

    def __init__(self, obj: Any, path: str) -> None:
        if not isinstance(obj, dict):
            raise ScenarioError(f"{path}: must be a JSON object")
        self.obj = obj
        self.path = path
        self.used: set = set()

    def at(self, key: str) -> str:
        return f"{self.path}.{key}"

    def get(self, key: str) -> Any:
        self.used.add(key)
        return self.obj.get(key, ABSENT)

    def require(self, key: str) -> Any:
        value = self.get(key)
        if value is ABSENT:
            raise ScenarioError(f"{self.at(key)}: is required")
        return value

    def string(self, key: str, default: Any = None) -> Any:
        value = self.get(key)
        if value is ABSENT:
            return default
        if not isinstance(value, str):
            raise ScenarioError(f"{self.at(key)}: must be a string")
        return value

    def required_string(self, key: str) -> str:
        value = self.string(key, ABSENT)
        if value is ABSENT:
            raise ScenarioError(f"{self.at(key)}: is required")
        return value

    def unsigned(self, key: str, maximum: int, default: Any = None) -> Any:
        value = self.get(key)
        if value is ABSENT:
            return default
        return to_unsigned(value, self.at(key), maximum)

    def number(self, key: str) -> Any:
        value = self.get(key)
        if value is ABSENT:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ScenarioError(f"{self.at(key)}: must be a number")
        return float(value)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.get(key)
        if value is ABSENT:
            return default
        if not isinstance(value, bool):
            raise ScenarioError(f"{self.at(key)}: must be true or false")
        return value

    def strings(self, key: str) -> Optional[List[str]]:
        value = self.get(key)
        if value is ABSENT:
            return None
        if not isinstance(value, list) or any(not isinstance(v, str) for v in value):
            raise ScenarioError(f"{self.at(key)}: must be an array of strings")
        return list(value)

    def finish(self) -> None:
        for key in self.obj:
            if key not in self.used:
                raise ScenarioError(
                    f"{self.path}.{key}: is not a field this suite defines (README.md)"
                )


def to_unsigned(value: Any, path: str, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ScenarioError(f"{path}: must be a non-negative integer")
    if value < 0 or math.floor(value) != value or value > maximum:
        raise ScenarioError(f"{path}: must be a non-negative integer no greater than {maximum}")
    return int(value)


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@dataclass
class StateRef:
    code: int
    name: Optional[str] = None


@dataclass
class Step:
    kind: str
    times: int = 1
    next: int = 0
    code: int = cano.TaskExecutionError.default_code
    message: str = "fail"
    key: str = ""
    json: str = ""
    type: str = ""
    fatal: bool = False  # "fail": cano_task_ctx_fail_fatal (cano.Fatal)
    read_split: bool = False  # "goto": record ctx.split_result into split_seen
    read_batch: bool = False  # "goto" of a batch finish step: record its results in batch_seen
    value: Optional[str] = None  # "succeed": the branch's value
    delay_ms: int = 0  # "pending": poll again after this delay
    cursor: Any = None  # "more": the cursor (a parsed JSON value)


@dataclass
class WaitSpec:
    """One entry of a timer's wait list: ("for", ms), ("until", ms) or ("fail", message)."""

    kind: str
    ms: int = 0
    message: str = ""


@dataclass
class TimerSpec:
    """A timer task's "timer": exactly one of delay_ms, until_ms and wait."""

    delay_ms: Optional[int] = None
    until_ms: Optional[int] = None
    waits: List[WaitSpec] = field(default_factory=list)

    def wait_for(self, call: int) -> WaitSpec:
        """The entry serving the n-th wait callback call (1-based); the last one repeats."""
        return self.waits[min(call, len(self.waits)) - 1]


def step_for(steps: List[Step], attempt: int) -> Step:
    """The step serving the n-th attempt (1-based): each step serves ``times`` attempts, the
    last one every attempt after that."""
    for step in steps:
        if attempt <= step.times:
            return step
        attempt -= step.times
    return steps[-1]


@dataclass
class LoadSpec:
    """One entry of a batch's "load": the items to add (each ITEM's compact JSON text and its
    parsed steps), or a failure."""

    items: List[Tuple[str, List[Step]]] = field(default_factory=list)
    fail: Optional[str] = None  # the message of a failing load call; None = add the items
    code: int = cano.TaskExecutionError.default_code
    fatal: bool = False


@dataclass
class BatchSpec:
    """A batch task's "batch" (README "Batch tasks")."""

    concurrency: int = 0
    item_retry: cano.Retry = field(default_factory=cano.Retry.default)
    loads: List[LoadSpec] = field(default_factory=list)

    def load_for(self, call: int) -> LoadSpec:
        """The entry serving the n-th load call (1-based); the last one repeats."""
        return self.loads[min(call, len(self.loads)) - 1]

    def max_items(self) -> int:
        return max(len(load.items) for load in self.loads)


@dataclass
class TaskSpec:
    mode: str = "inline"
    name: Optional[str] = None
    retry: cano.Retry = field(default_factory=cano.Retry.none)
    attempt_timeout_ms: int = 0
    steps: List[Step] = field(default_factory=list)
    kind: str = "task"  # "task", "router", "poll", "stepped" or "timer"; branches are "task"
    poll_policy: Optional[str] = None  # "fail_fast" or "retry_on_error"; None = absent
    poll_max_errors: int = 0
    timer: Optional[TimerSpec] = None  # timer tasks only
    batch: Optional[BatchSpec] = None  # batch tasks only (steps are the finish step's)

    def step_for(self, attempt: int) -> Step:
        """The step serving the n-th attempt (1-based) counted across every entry."""
        return step_for(self.steps, attempt)


@dataclass
class SplitSpec:
    strategy: str
    count: int
    percentage: float
    timeout_ms: int
    join_state: StateRef
    bulkhead: int
    branches: List[TaskSpec]

    def join(self) -> cano.Join:
        return {
            "all": cano.Join.all,
            "any": cano.Join.any,
            "quorum": lambda: cano.Join.quorum(self.count),
            "percentage": lambda: cano.Join.percentage(self.percentage),
            "partial_results": lambda: cano.Join.partial_results(self.count),
            "partial_timeout": cano.Join.partial_timeout,
        }[self.strategy]()


STRATEGIES = ("all", "any", "quorum", "percentage", "partial_results", "partial_timeout")
KINDS = ("task", "router", "poll", "stepped", "timer", "batch")


@dataclass
class ResourceSpec:
    key: str
    setup_ok: bool = True
    teardown_ok: bool = True
    message: Optional[str] = None


@dataclass
class Scenario:
    name: str
    states: List[str]
    initial: StateRef
    exit_states: List[int]
    timeout_ms: int
    resources: List[ResourceSpec]
    tasks: Dict[int, TaskSpec]
    splits: Dict[int, SplitSpec]
    expect: Dict[str, Any]

    def label(self, code: int) -> str:
        return self.states[code] if 0 <= code < len(self.states) else str(code)

    def branch_key(self, code: int, index: int) -> str:
        """Where branch ``index`` of split state ``code`` is counted: "F[i]"."""
        return f"{self.label(code)}[{index}]"

    def attempt_keys(self) -> List[str]:
        """Every key of attempts, attempt_times_ms and cancel_notices: the states, "F[i]" for
        branch i of split F, "W[i]" for item i of batch W."""
        keys = list(self.states)
        for code, split in self.splits.items():
            keys.extend(self.branch_key(code, i) for i in range(len(split.branches)))
        for code, task in self.tasks.items():
            if task.batch is not None:
                keys.extend(self.branch_key(code, i) for i in range(task.batch.max_items()))
        return keys


class ParserBase:
    """The declared states, splits and batch tasks, as the parser reads them, and how state
    references resolve against them. The expect block is read last, so its checks see every
    split and batch task."""

    def __init__(self, path: Path) -> None:
        self.file = str(path)
        self.states: List[str] = []
        self.splits: Dict[int, SplitSpec] = {}
        self.batches: Dict[int, BatchSpec] = {}

    def declared(self, name: str, path: str) -> int:
        if name not in self.states:
            raise ScenarioError(f'{path}: "{name}" is not in "states"')
        return self.states.index(name)

    def state_ref(self, value: Any, path: str) -> StateRef:
        if isinstance(value, str):
            return StateRef(self.declared(value, path), value)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if math.floor(value) != value or not INT32_MIN <= value <= INT32_MAX:
                raise ScenarioError(f"{path}: must be a state name or a 32-bit integer code")
            return StateRef(int(value))
        raise ScenarioError(f"{path}: must be a state name or an integer code")
