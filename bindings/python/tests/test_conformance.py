"""The Python runner of the conformance suite (tests/conformance/README.md).

One test per ``scenarios/*.json`` file. Each scenario is parsed strictly (an unknown field or a
field of the wrong JSON type fails the scenario), built through the public Python API (engine,
resources, store, workflow, tasks, routers, poll tasks, stepped tasks, timer tasks, batch tasks,
splits; every async task and branch with a ``cancel`` callable that counts cancel notices),
run on the manual clock
exactly as the README's "How runners drive time" prescribes, and compared with its ``expect``
block. Every mismatch names the scenario and the field, as the C++ and Go runners do.

``CANO_CONFORMANCE_SCENARIOS`` overrides the scenarios directory.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest

import cano

ROOT = Path(__file__).resolve().parents[3]
SCENARIOS = Path(
    os.environ.get("CANO_CONFORMANCE_SCENARIOS", ROOT / "tests" / "conformance" / "scenarios")
)

SETTLE = 0.002  # README: sleep 2 ms so that the loop settles
POLL = 0.001  # README: poll running worker bodies about every millisecond
RUN_LIMIT = 30.0  # README: give up after 30 s of wall-clock time
BLOCK_LIMIT = 60.0  # a blocked worker body that is never cancelled gives up eventually

UINT32_MAX = 2**32 - 1
UINT64_MAX = 2**64 - 1
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
RESOURCE_TAG = "conformance.Resource"
_ABSENT = object()


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


# --- strict parsing ------------------------------------------------------------------------------


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
        return self.obj.get(key, _ABSENT)

    def require(self, key: str) -> Any:
        value = self.get(key)
        if value is _ABSENT:
            raise ScenarioError(f"{self.at(key)}: is required")
        return value

    def string(self, key: str, default: Any = None) -> Any:
        value = self.get(key)
        if value is _ABSENT:
            return default
        if not isinstance(value, str):
            raise ScenarioError(f"{self.at(key)}: must be a string")
        return value

    def required_string(self, key: str) -> str:
        value = self.string(key, _ABSENT)
        if value is _ABSENT:
            raise ScenarioError(f"{self.at(key)}: is required")
        return value

    def unsigned(self, key: str, maximum: int, default: Any = None) -> Any:
        value = self.get(key)
        if value is _ABSENT:
            return default
        return to_unsigned(value, self.at(key), maximum)

    def number(self, key: str) -> Any:
        value = self.get(key)
        if value is _ABSENT:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ScenarioError(f"{self.at(key)}: must be a number")
        return float(value)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.get(key)
        if value is _ABSENT:
            return default
        if not isinstance(value, bool):
            raise ScenarioError(f"{self.at(key)}: must be true or false")
        return value

    def strings(self, key: str) -> Optional[List[str]]:
        value = self.get(key)
        if value is _ABSENT:
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


ERROR_FIELDS = (
    "category",
    "message",
    "message_contains",
    "cause_message",
    "error_state",
    "error_task",
    "error_attempt",
)


class Parser:
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

    def parse(self, root: Any) -> Scenario:
        top = Fields(root, self.file)
        name = top.required_string("name")
        top.string("description")
        states = top.strings("states")
        if states is None:
            raise ScenarioError(f"{top.at('states')}: is required")
        for state in states:
            if state in self.states:
                raise ScenarioError(f'{top.at("states")}: declares "{state}" twice')
            self.states.append(state)
        initial = self.state_ref(top.require("initial"), top.at("initial"))
        exits = [self.declared(s, top.at("exit_states")) for s in top.strings("exit_states") or []]
        timeout_ms = top.unsigned("timeout_ms", UINT64_MAX, 0)
        resources = self.parse_resources(top.get("resources"), top.at("resources"))
        tasks_value = top.get("tasks")
        tasks = {} if tasks_value is _ABSENT else self.parse_tasks(tasks_value, top.at("tasks"))
        expect = self.parse_expect(top.require("expect"), top.at("expect"))
        top.finish()
        return Scenario(
            name,
            list(self.states),
            initial,
            exits,
            timeout_ms,
            resources,
            tasks,
            dict(self.splits),
            expect,
        )

    def parse_resources(self, value: Any, path: str) -> List[ResourceSpec]:
        if value is _ABSENT:
            return []
        if not isinstance(value, list):
            raise ScenarioError(f"{path}: must be an array")
        out = []
        for index, item in enumerate(value):
            fields = Fields(item, f"{path}[{index}]")
            key = fields.required_string("key")
            if key == "store":
                raise ScenarioError(f'{fields.at("key")}: "store" is the suite\'s store')
            spec = ResourceSpec(key)
            spec.setup_ok = self.outcome(fields, "setup")
            spec.teardown_ok = self.outcome(fields, "teardown")
            spec.message = fields.string("message")
            fields.finish()
            out.append(spec)
        return out

    @staticmethod
    def outcome(fields: Fields, key: str) -> bool:
        value = fields.string(key, "ok")
        if value not in ("ok", "fail"):
            raise ScenarioError(f'{fields.at(key)}: must be "ok" or "fail"')
        return value == "ok"

    def parse_tasks(self, value: Any, path: str) -> Dict[int, TaskSpec]:
        fields = Fields(value, path)
        tasks = {}
        for code, state in enumerate(self.states):
            item = fields.get(state)
            if item is _ABSENT:
                continue
            at = f"{path}.{state}"
            if isinstance(item, dict) and "split" in item:
                # A split entry holds "split" only: finish() rejects anything beside it.
                entry = Fields(item, at)
                self.splits[code] = self.parse_split(entry.require("split"), entry.at("split"))
                entry.finish()
            else:
                tasks[code] = self.parse_task(item, at, branch=False)
                batch = tasks[code].batch
                if batch is not None:
                    self.batches[code] = batch
        fields.finish()
        return tasks

    def parse_split(self, value: Any, path: str) -> SplitSpec:
        fields = Fields(value, path)
        strategy = fields.required_string("strategy")
        if strategy not in STRATEGIES:
            raise ScenarioError(
                f'{fields.at("strategy")}: must be "all", "any", "quorum", "percentage", '
                '"partial_results" or "partial_timeout"'
            )
        count = fields.unsigned("count", UINT32_MAX, 0)
        percentage = fields.number("percentage")
        timeout_ms = fields.unsigned("timeout_ms", UINT64_MAX, 0)
        join_state = self.state_ref(fields.require("join_state"), fields.at("join_state"))
        bulkhead = fields.unsigned("bulkhead", UINT32_MAX, 0)
        items = fields.require("branches")
        if not isinstance(items, list):
            raise ScenarioError(f"{fields.at('branches')}: must be an array")
        branches = [
            self.parse_task(item, f"{fields.at('branches')}[{index}]", branch=True)
            for index, item in enumerate(items)
        ]
        fields.finish()
        return SplitSpec(
            strategy,
            count,
            0.0 if percentage is None else percentage,
            timeout_ms,
            join_state,
            bulkhead,
            branches,
        )

    def parse_task(self, value: Any, path: str, branch: bool) -> TaskSpec:
        fields = Fields(value, path)
        task = TaskSpec()
        if not branch:  # a branch has no kind (README "Split states"): finish() rejects it
            task.kind = fields.string("kind", "task")
            if task.kind not in KINDS:
                raise ScenarioError(
                    f'{fields.at("kind")}: must be "task", "router", "poll", "stepped", "timer" '
                    'or "batch"'
                )
            poll = fields.get("poll")
            if poll is not _ABSENT:
                if task.kind != "poll":
                    raise ScenarioError(f"{fields.at('poll')}: is for poll tasks only")
                self.parse_poll(poll, fields.at("poll"), task)
            timer = fields.get("timer")
            if timer is not _ABSENT:
                if task.kind != "timer":
                    raise ScenarioError(f"{fields.at('timer')}: is for timer tasks only")
                task.timer = self.parse_timer(timer, fields.at("timer"))
            elif task.kind == "timer":
                raise ScenarioError(f"{fields.at('timer')}: is required for a timer task")
            batch = fields.get("batch")
            if batch is not _ABSENT:
                if task.kind != "batch":
                    raise ScenarioError(f"{fields.at('batch')}: is for batch tasks only")
                task.batch = self.parse_batch(batch, fields.at("batch"))
            elif task.kind == "batch":
                raise ScenarioError(f"{fields.at('batch')}: is required for a batch task")
        task.mode = fields.string("mode", "inline")
        if task.mode not in ("inline", "worker", "async"):
            raise ScenarioError(f'{fields.at("mode")}: must be "inline", "worker" or "async"')
        if task.kind == "batch" and task.mode == "async":
            raise ScenarioError(f'{fields.at("mode")}: a batch task is "inline" or "worker"')
        task.name = fields.string("name")
        retry = fields.get("retry")
        if retry is not _ABSENT:
            task.retry = self.parse_retry(retry, fields.at("retry"))
        task.attempt_timeout_ms = fields.unsigned("attempt_timeout_ms", UINT64_MAX, 0)
        steps = fields.require("steps")
        if not isinstance(steps, list) or not steps:
            raise ScenarioError(f"{fields.at('steps')}: must be a non-empty array")
        role = "branch" if branch else ("finish" if task.kind == "batch" else "task")
        for index, item in enumerate(steps):
            step = self.parse_step(item, f"{fields.at('steps')}[{index}]", role)
            if step.kind == "block" and task.mode == "inline":
                raise ScenarioError(f"{path}: an inline task cannot block")
            task.steps.append(step)
        fields.finish()
        return task

    def parse_batch(self, value: Any, path: str) -> BatchSpec:
        """A batch task's "batch": concurrency, item_retry, load (README "Batch tasks")."""
        fields = Fields(value, path)
        batch = BatchSpec()
        batch.concurrency = fields.unsigned("concurrency", UINT32_MAX, 0)
        item_retry = fields.get("item_retry")
        if item_retry is not _ABSENT:
            batch.item_retry = self.parse_retry(item_retry, fields.at("item_retry"))
        loads = fields.require("load")
        if not isinstance(loads, list) or not loads:
            raise ScenarioError(f"{fields.at('load')}: must be a non-empty array")
        for index, item in enumerate(loads):
            batch.loads.append(self.parse_load(item, f"{fields.at('load')}[{index}]"))
        fields.finish()
        return batch

    def parse_load(self, value: Any, path: str) -> LoadSpec:
        """A LOAD: {"items": [ITEM, ...]} or {"fail": M, "code": C, "fatal": F}."""
        fields = Fields(value, path)
        load = LoadSpec()
        items = fields.get("items")
        message = fields.string("fail")
        if (items is _ABSENT) == (message is None):
            raise ScenarioError(f"{path}: must have exactly one of items and fail")
        if message is not None:
            load.fail = message
            load.code = self.error_code(fields)
            load.fatal = fields.boolean("fatal", False)
        else:
            if not isinstance(items, list):
                raise ScenarioError(f"{fields.at('items')}: must be an array")
            for index, item in enumerate(items):
                at = f"{fields.at('items')}[{index}]"
                entry = Fields(item, at)
                steps = entry.require("steps")
                if not isinstance(steps, list) or not steps:
                    raise ScenarioError(f"{entry.at('steps')}: must be a non-empty array")
                parsed = [
                    self.parse_step(step, f"{entry.at('steps')}[{i}]", "item")
                    for i, step in enumerate(steps)
                ]
                entry.finish()
                load.items.append((compact(item), parsed))
        fields.finish()
        return load

    @staticmethod
    def error_code(fields: Fields) -> int:
        """A "code" field: an error status name (default TASK_EXECUTION)."""
        code_name = fields.string("code", "TASK_EXECUTION")
        code = STATUS.get(code_name)
        if code is None or code >= 0:
            raise ScenarioError(f'{fields.at("code")}: "{code_name}" is no error status')
        return code

    @staticmethod
    def parse_poll(value: Any, path: str, task: TaskSpec) -> None:
        fields = Fields(value, path)
        policy = fields.required_string("policy")
        if policy not in ("fail_fast", "retry_on_error"):
            raise ScenarioError(f'{fields.at("policy")}: must be "fail_fast" or "retry_on_error"')
        task.poll_policy = policy
        task.poll_max_errors = fields.unsigned("max_errors", UINT32_MAX, 0)
        fields.finish()

    @staticmethod
    def parse_timer(value: Any, path: str) -> TimerSpec:
        fields = Fields(value, path)
        timer = TimerSpec()
        timer.delay_ms = fields.unsigned("delay_ms", UINT64_MAX)
        timer.until_ms = fields.unsigned("until_ms", UINT64_MAX)
        waits = fields.get("wait")
        if waits is not _ABSENT:
            if not isinstance(waits, list) or not waits:
                raise ScenarioError(f"{fields.at('wait')}: must be a non-empty array")
            for index, item in enumerate(waits):
                timer.waits.append(Parser.parse_wait(item, f"{fields.at('wait')}[{index}]"))
        given = (timer.delay_ms is not None) + (timer.until_ms is not None) + bool(timer.waits)
        if given != 1:
            raise ScenarioError(f"{path}: must have exactly one of delay_ms, until_ms and wait")
        fields.finish()
        return timer

    @staticmethod
    def parse_wait(value: Any, path: str) -> WaitSpec:
        fields = Fields(value, path)
        found = []
        delay = fields.unsigned("for", UINT64_MAX)
        if delay is not None:
            found.append(WaitSpec("for", ms=delay))
        until = fields.unsigned("until", UINT64_MAX)
        if until is not None:
            found.append(WaitSpec("until", ms=until))
        message = fields.string("fail")
        if message is not None:
            found.append(WaitSpec("fail", message=message))
        if len(found) != 1:
            raise ScenarioError(f"{path}: must have exactly one of for, until and fail")
        fields.finish()
        return found[0]

    @staticmethod
    def parse_retry(value: Any, path: str) -> cano.Retry:
        fields = Fields(value, path)
        kind = fields.required_string("kind")

        def need_unsigned(key: str, maximum: int) -> int:
            found = fields.unsigned(key, maximum)
            if found is None:
                raise ScenarioError(f"{fields.at(key)}: is required for this retry kind")
            return found

        def need_number(key: str) -> float:
            found = fields.number(key)
            if found is None:
                raise ScenarioError(f"{fields.at(key)}: is required for this retry kind")
            return found

        if kind == "none":
            retry = cano.Retry.none()
        elif kind == "default":
            retry = cano.Retry.default()
        elif kind == "fixed":
            retries = need_unsigned("max_retries", UINT32_MAX)
            retry = cano.Retry.fixed(retries, need_unsigned("delay_ms", UINT64_MAX) / 1000.0)
        elif kind == "exponential":
            retries = need_unsigned("max_retries", UINT32_MAX)
            delay = need_unsigned("delay_ms", UINT64_MAX)
            retry = cano.Retry.exponential(
                retries,
                base_delay=delay / 1000.0,
                multiplier=need_number("multiplier"),
                max_delay=need_unsigned("max_delay_ms", UINT64_MAX) / 1000.0,
                jitter=need_number("jitter"),
            )
        else:
            raise ScenarioError(
                f'{fields.at("kind")}: must be "none", "fixed", "exponential" or "default"'
            )
        fields.finish()  # rejects the fields this kind does not take
        return retry

    #: The step kinds each role takes: a split branch, a batch item, a batch task's finish
    #: step, and every other task (every kind but succeed).
    ROLE_KINDS = {
        "branch": ("succeed", "fail", "block"),
        "item": ("succeed", "fail"),
        "finish": ("goto", "fail"),
    }
    ROLE_NAMES = {
        "branch": "a split branch",
        "item": "a batch item",
        "finish": "a batch task (its finish step)",
        "task": "a task",
    }

    def parse_step(self, value: Any, path: str, role: str) -> Step:
        """One step of a task ("task"), a split branch ("branch"), a batch task's finish step
        ("finish") or a batch item ("item")."""
        fields = Fields(value, path)
        kind = fields.required_string("do")
        step = Step(kind)
        step.times = fields.unsigned("times", UINT32_MAX, 1)
        if step.times == 0:
            raise ScenarioError(f"{fields.at('times')}: must be at least 1")
        allowed = self.ROLE_KINDS.get(role)
        if (kind not in allowed) if allowed is not None else kind == "succeed":
            raise ScenarioError(
                f'{fields.at("do")}: "{kind}" is no step kind of {self.ROLE_NAMES[role]}'
            )

        def then(key: str) -> int:
            return self.state_ref(fields.require(key), fields.at(key)).code

        if kind == "goto":
            step.next = then("state")
            step.read_split = fields.boolean("read_split", False)
            if role == "finish":  # README: a batch's "goto" may read its results
                step.read_batch = fields.boolean("read_batch", False)
        elif kind == "fail":
            step.code = self.error_code(fields)
            step.message = fields.string("message", "fail")
            step.fatal = fields.boolean("fatal", False)
        elif kind == "block":
            pass
        elif kind == "succeed":
            step.value = fields.string("value")
        elif kind == "more":
            step.cursor = json.loads(compact(fields.require("cursor")))
        elif kind == "pending":
            delay = fields.unsigned("delay_ms", UINT64_MAX)
            if delay is None:
                raise ScenarioError(f"{fields.at('delay_ms')}: is required")
            step.delay_ms = delay
        elif kind in ("store_put", "store_append"):
            step.key = fields.required_string("key")
            step.json = compact(fields.require("json"))
            step.next = then("then")
        elif kind in ("store_get", "store_get_bytes"):
            step.key = fields.required_string("key")
            step.next = then("then")
        elif kind == "resource_get":
            step.key = fields.required_string("key")
            step.type = fields.required_string("type")
            step.next = then("then")
        else:
            raise ScenarioError(f'{fields.at("do")}: "{kind}" is no step kind')
        fields.finish()
        return step

    def parse_expect(self, value: Any, path: str) -> Dict[str, Any]:
        fields = Fields(value, path)
        expect: Dict[str, Any] = {}
        status = fields.string("status")
        if status is not None:
            if status not in STATUS:
                raise ScenarioError(f'{fields.at("status")}: "{status}" is no status name')
            expect["status"] = status
        for key in ("category", "message"):
            text = fields.string(key)
            if text is not None:
                expect[key] = text
        contains = fields.strings("message_contains")
        if contains is not None:
            expect["message_contains"] = contains
        for key in ("cause_message", "error_task"):
            item = fields.get(key)
            if item is not _ABSENT:
                if item is not None and not isinstance(item, str):
                    raise ScenarioError(f"{fields.at(key)}: must be a string or null")
                expect[key] = item
        item = fields.get("error_state")
        if item is not _ABSENT:
            expect["error_state"] = (
                None if item is None else self.state_ref(item, fields.at("error_state"))
            )
        attempt = fields.unsigned("error_attempt", UINT32_MAX)
        if attempt is not None:
            expect["error_attempt"] = attempt
        item = fields.get("final_state")
        if item is not _ABSENT:
            expect["final_state"] = self.state_ref(item, fields.at("final_state"))
        trail = fields.strings("trail")
        if trail is not None:
            for state in trail:
                self.declared(state, fields.at("trail"))
            expect["trail"] = trail
        item = fields.get("attempts")
        if item is not _ABSENT:
            expect["attempts"] = self.per_state(
                item, fields.at("attempts"), lambda v, at: to_unsigned(v, at, UINT32_MAX)
            )
        item = fields.get("attempt_times_ms")
        if item is not _ABSENT:

            def times(v: Any, at: str) -> List[int]:
                if not isinstance(v, list):
                    raise ScenarioError(f"{at}: must be an array of integers")
                return [to_unsigned(e, at, UINT64_MAX) for e in v]

            expect["attempt_times_ms"] = self.per_state(item, fields.at("attempt_times_ms"), times)
        events = fields.strings("resource_events")
        if events is not None:
            expect["resource_events"] = events
        item = fields.get("store")
        if item is not _ABSENT:
            if not isinstance(item, dict):
                raise ScenarioError(f"{fields.at('store')}: must be an object")
            expect["store"] = dict(item)
        item = fields.get("split_seen")
        if item is not _ABSENT:
            expect["split_seen"] = self.parse_split_seen(item, fields.at("split_seen"))
        item = fields.get("cursors")
        if item is not _ABSENT:
            expect["cursors"] = self.parse_cursors(item, fields.at("cursors"))
        item = fields.get("batch_seen")
        if item is not _ABSENT:
            expect["batch_seen"] = self.parse_batch_seen(item, fields.at("batch_seen"))
        item = fields.get("cancel_notices")
        if item is not _ABSENT:
            expect["cancel_notices"] = self.per_state(
                item, fields.at("cancel_notices"), lambda v, at: to_unsigned(v, at, UINT64_MAX)
            )
        expect["started"] = fields.boolean("started", True)
        fields.finish()
        if not expect["started"] and "final_state" in expect:
            raise ScenarioError(f"{fields.at('final_state')}: only applies to a run that started")
        return expect

    def parse_cursors(self, value: Any, path: str) -> Dict[str, List[Any]]:
        """expect.cursors: by declared state name, the JSON value each call saw (null: none)."""
        if not isinstance(value, dict):
            raise ScenarioError(f"{path}: must be an object keyed by state name")
        out = {}
        for state, item in value.items():
            at = f"{path}.{state}"
            self.declared(state, at)
            if not isinstance(item, list):
                raise ScenarioError(f"{at}: must be an array of JSON values (null: none)")
            out[state] = list(item)
        return out

    @staticmethod
    def parse_split_seen(value: Any, path: str) -> List[Optional[List[str]]]:
        shape = "must be an array whose entries are null or arrays of strings"
        if not isinstance(value, list):
            raise ScenarioError(f"{path}: {shape}")
        for index, entry in enumerate(value):
            if entry is None:
                continue
            if not isinstance(entry, list) or any(not isinstance(t, str) for t in entry):
                raise ScenarioError(f"{path}[{index}]: {shape}")
        return list(value)

    @staticmethod
    def parse_batch_seen(value: Any, path: str) -> List[List[str]]:
        shape = "must be an array whose entries are arrays of strings"
        if not isinstance(value, list):
            raise ScenarioError(f"{path}: {shape}")
        for index, entry in enumerate(value):
            if not isinstance(entry, list) or any(not isinstance(t, str) for t in entry):
                raise ScenarioError(f"{path}[{index}]: {shape}")
        return list(value)

    def attempt_key(self, key: str, path: str) -> None:
        """A key of attempts, attempt_times_ms or cancel_notices: a declared state, "F[i]" for
        branch i of the split state F, or "W[i]" for item i of the batch state W (i below the
        largest number of items a load entry adds)."""
        for code, split in self.splits.items():
            for index in range(len(split.branches)):
                if key == f"{self.states[code]}[{index}]":
                    return
        for code, batch in self.batches.items():
            for index in range(batch.max_items()):
                if key == f"{self.states[code]}[{index}]":
                    return
        if key not in self.states:
            raise ScenarioError(
                f'{path}: "{key}" is neither a state in "states", a split branch "F[i]" nor a '
                'batch item "W[i]"'
            )

    def per_state(self, value: Any, path: str, read: Any) -> Dict[str, Any]:
        if not isinstance(value, dict):
            raise ScenarioError(f'{path}: must be an object keyed by state name or "F[i]"')
        out = {}
        for state, item in value.items():
            at = f"{path}.{state}"
            self.attempt_key(state, at)
            out[state] = read(item, at)
        return out


def load_scenario(path: Path) -> Scenario:
    with open(path, encoding="utf-8") as handle:
        root = json.load(handle)
    scenario = Parser(path).parse(root)
    if not scenario.name or not all(c.isalnum() or c == "_" for c in scenario.name):
        raise ScenarioError(f"{path}: name must use letters, digits and '_' only")
    if path.stem != scenario.name:
        raise ScenarioError(f"{path}: the file must be named {scenario.name}.json")
    return scenario


# --- running ------------------------------------------------------------------------------


class JournaledResource:
    """A scenario resource: records its setup and teardown in the shared journal."""

    def __init__(self, spec: ResourceSpec, runner: "Runner") -> None:
        self.spec = spec
        self.runner = runner

    def _phase(self, phase: str, ok: bool) -> None:
        with self.runner.lock:
            self.runner.resource_events.append(f"{phase} {self.spec.key}")
        if not ok:
            message = self.spec.message
            if message is None:
                message = f"{phase} {self.spec.key} failed"
            raise cano.GenericError(message)

    def setup(self) -> None:
        self._phase("setup", self.spec.setup_ok)

    def teardown(self) -> None:
        self._phase("teardown", self.spec.teardown_ok)


@dataclass
class Outcome:
    started: bool = True
    status: str = "OK"
    error: Optional[cano.CanoError] = None
    final_state: Optional[int] = None
    trail: List[str] = field(default_factory=list)
    attempts: Dict[str, int] = field(default_factory=dict)
    attempt_times_ms: Dict[str, List[int]] = field(default_factory=dict)
    resource_events: List[str] = field(default_factory=list)
    store: Dict[str, Any] = field(default_factory=dict)
    split_seen: List[Optional[List[str]]] = field(default_factory=list)
    cursors: Dict[str, List[Any]] = field(default_factory=dict)
    batch_seen: List[List[str]] = field(default_factory=list)
    cancel_notices: Dict[str, int] = field(default_factory=dict)
    problems: List[str] = field(default_factory=list)


class Runner:
    """Builds one scenario through the Python API and drives it on the manual clock."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.lock = threading.Lock()
        self.resource_events: List[str] = []
        self.trail: List[str] = []
        self.attempts: Dict[str, int] = {}  # by key: the state's name, or "F[i]"
        self.times: Dict[str, List[int]] = {}
        self.split_seen: List[Optional[List[str]]] = []
        self.cursors: Dict[str, List[Any]] = {}  # by key: the cursor each body call saw
        self.waits: Dict[str, int] = {}  # timer wait callable calls, by key
        self.loads: Dict[str, int] = {}  # batch load calls, by state
        self.finishes: Dict[str, int] = {}  # batch finish calls, by state
        self.batch_seen: List[List[str]] = []
        self.cancel_notices: Dict[str, int] = {}  # by key: the state's name, or "F[i]"
        self.last_call: Optional[Tuple[Tuple[bool, str], int]] = None  # (binding, attempt)
        self.running = 0  # worker bodies that will finish on their own
        self.starts = 0  # bodies started, of every mode
        self.done = threading.Event()
        self.start_ms = 0
        self.outcome = Outcome()

    def problem(self, text: str) -> None:
        with self.lock:
            self.outcome.problems.append(text)

    def run(self) -> Outcome:
        scenario = self.scenario
        engine = cano.Engine(workers=2, clock="manual", clock_start_ms=0, seed=1)
        self.engine = engine
        store = cano.MemoryStore()
        try:
            resources = cano.Resources().insert_store("store", store)
            for spec in scenario.resources:
                resources.insert(spec.key, JournaledResource(spec, self), type=RESOURCE_TAG)
            workflow = cano.Workflow(scenario.states, resources)
            for code, spec in scenario.tasks.items():
                self.register(workflow, code, spec)
            for code, split in scenario.splits.items():
                branches = [
                    cano.Branch(
                        self.body(code, spec, scenario.branch_key(code, index), branch=True),
                        mode=spec.mode,
                        retry=spec.retry,
                        attempt_timeout=spec.attempt_timeout_ms / 1000.0,
                        name=spec.name,
                        cancel=self.cancel_counter(spec, scenario.branch_key(code, index)),
                    )
                    for index, spec in enumerate(split.branches)
                ]
                workflow.register_split(
                    code,
                    branches,
                    join=split.join(),
                    join_state=split.join_state.code,
                    timeout=split.timeout_ms / 1000.0,
                    bulkhead=split.bulkhead or None,  # 0 = no limit
                )
            for code in scenario.exit_states:
                workflow.add_exit_state(code)
            if scenario.timeout_ms > 0:
                workflow.set_timeout(scenario.timeout_ms / 1000.0)
            self.start_and_drive(workflow)
        except cano.CanoError as exc:
            self.problem(f"building the scenario failed: {exc!r}: {exc}")
        finally:
            # Closing the engine first waits for every worker body, abandoned blocks included,
            # so that the attempt counts are complete.
            engine.close()
        self.collect(store)
        store.close()
        return self.outcome

    def register(self, workflow: cano.Workflow, code: int, spec: TaskSpec) -> None:
        options: Dict[str, Any] = dict(
            mode=spec.mode,
            retry=spec.retry,
            attempt_timeout=spec.attempt_timeout_ms / 1000.0,
            name=spec.name,
        )
        key = self.scenario.label(code)
        if spec.kind == "batch":
            self.register_batch(workflow, code, spec, options)
            return
        options["cancel"] = self.cancel_counter(spec, key)
        body = self.body(code, spec, key, branch=False)
        if spec.kind == "router":
            workflow.register_router(code, body, **options)
        elif spec.kind == "poll":
            if spec.poll_policy == "retry_on_error":
                options.update(
                    policy=cano.PollPolicy.RETRY_ON_ERROR, max_errors=spec.poll_max_errors
                )
            # fail_fast, or no "poll" (NULL options in C): the same; max_errors is unused then
            workflow.register_poll(code, body, **options)
        elif spec.kind == "stepped":
            workflow.register_stepped(code, body, **options)
        elif spec.kind == "timer":
            timer = spec.timer
            assert timer is not None
            if timer.waits:
                options["wait"] = self.wait(spec, self.scenario.label(code))
            elif timer.until_ms is not None:
                options["until"] = timer.until_ms / 1000.0
            else:
                options["delay"] = (timer.delay_ms or 0) / 1000.0
            workflow.register_timer(code, body, **options)
        else:
            workflow.register(code, body, **options)

    def cancel_counter(self, spec: TaskSpec, key: str) -> Any:
        """README "Cancel notices": every async task and branch counts, under its key, the
        cancel notices it gets (None for the other modes, which get none)."""
        if spec.mode != "async":
            return None

        def count(completion: cano.Completion) -> None:
            if not completion.cancelled:
                self.problem(f"a cancel notice of {key} came with a Completion not cancelled")
            with self.lock:
                self.cancel_notices[key] = self.cancel_notices.get(key, 0) + 1

        return count

    def register_batch(
        self, workflow: cano.Workflow, code: int, spec: TaskSpec, options: Dict[str, Any]
    ) -> None:
        """README "Batch tasks": load calls serve the "load" entries (and count as the task's
        attempts), items follow their own scripts (counted under "W[i]"), finish calls serve
        the steps."""
        batch = spec.batch
        assert batch is not None
        label = self.scenario.label(code)
        worker = spec.mode == "worker"
        binding = (False, label)
        scripts = {text: steps for load in batch.loads for text, steps in load.items}

        def load(ctx: cano.TaskContext) -> Any:
            with self.lock:
                if worker:
                    self.running += 1
                self.starts += 1
                self.attempts[label] = self.attempts.get(label, 0) + 1
                self.times.setdefault(label, []).append(self.engine.now_ms() - self.start_ms)
                self.note_trail(code, spec, binding, ctx.attempt)
                self.cursors.setdefault(label, []).append(None)
                call = self.loads.get(label, 0) + 1
                self.loads[label] = call
            try:
                entry = batch.load_for(call)
                if entry.fail is not None:
                    error = cano.error_for(entry.code, entry.fail)
                    raise cano.Fatal(error) if entry.fatal else error
                return [json.loads(text) for text, _ in entry.items]
            finally:
                if worker:
                    with self.lock:
                        self.running -= 1

        def process_item(ctx: cano.TaskContext, item: Any) -> Any:
            index = ctx.item_index
            key = f"{label}[{index}]"
            with self.lock:
                if worker:
                    self.running += 1
                self.starts += 1
                self.attempts[key] = self.attempts.get(key, 0) + 1
                self.times.setdefault(key, []).append(self.engine.now_ms() - self.start_ms)
            try:
                raw = ctx.raw_item
                steps = scripts.get(raw.decode("utf-8")) if raw is not None else None
                if steps is None:
                    self.problem(f"item {key} is no item of the scenario: {raw!r} ({item!r})")
                    raise cano.Fatal("unknown item")
                step = step_for(steps, ctx.attempt)
                if step.kind == "fail":
                    error = cano.error_for(step.code, step.message)
                    raise cano.Fatal(error) if step.fatal else error
                # "succeed": the value's bytes as they are (raw, not JSON), or no value.
                return None if step.value is None else step.value.encode("utf-8")
            finally:
                if worker:
                    with self.lock:
                        self.running -= 1

        def finish(ctx: cano.TaskContext, results: cano.BatchResults) -> Any:
            with self.lock:
                if worker:
                    self.running += 1
                self.starts += 1
                call = self.finishes.get(label, 0) + 1
                self.finishes[label] = call
                step = spec.step_for(call)
            try:
                if step.kind == "fail":
                    error = cano.error_for(step.code, step.message)
                    raise cano.Fatal(error) if step.fatal else error
                if step.read_split:
                    self.record_split(ctx)
                if step.read_batch:
                    self.record_batch(results)
                return step.next
            finally:
                if worker:
                    with self.lock:
                        self.running -= 1

        workflow.register_batch(
            code,
            load=load,
            process_item=process_item,
            finish=finish,
            concurrency=batch.concurrency,
            item_retry=batch.item_retry,
            **options,
        )

    def record_batch(self, results: cano.BatchResults) -> None:
        """README "batch_seen": every item's outcome, in input order, spelled as split_seen."""
        seen = []
        for result in results:
            if result.ok:
                raw = result.raw
                seen.append("succeeded" if raw is None else f"succeeded:{raw.decode('utf-8')}")
            else:
                message = result.error.message if result.error else "<no error object>"
                seen.append(f"failed:{message}")
        with self.lock:
            self.batch_seen.append(seen)

    def wait(self, spec: TaskSpec, key: str) -> Any:
        """A timer's wait callable (README "Stepped and timer tasks"): the next entry of its wait
        list, counted per state across every entry into it. Not a body call: it counts no
        attempt and records nothing else."""
        timer = spec.timer
        assert timer is not None

        def decide(ctx: cano.TaskContext) -> Any:
            with self.lock:
                call = self.waits.get(key, 0) + 1
                self.waits[key] = call
            wait = timer.wait_for(call)
            if wait.kind == "for":
                return cano.WaitFor.ms(wait.ms)
            if wait.kind == "until":
                return cano.WaitUntil.ms(wait.ms)
            raise cano.TaskExecutionError(wait.message)

        return decide

    def start_and_drive(self, workflow: cano.Workflow) -> None:
        self.start_ms = self.engine.now_ms()
        try:
            handle = workflow.start(self.engine, self.scenario.initial.code, self.on_done)
        except cano.CanoError as exc:
            self.outcome.started = False
            self.outcome.status = exc.status
            self.outcome.error = exc
            return
        self.handle = handle
        self.drive()

    def on_done(self, handle: cano.RunHandle) -> None:
        with self.lock:
            error = handle.error
            self.outcome.status = error.status if error is not None else "OK"
            self.outcome.error = error
            state = handle.final_state
            self.outcome.final_state = None if state is None else int(state)
        self.done.set()

    def drive(self) -> None:
        """README "How runners drive time"."""
        engine = self.engine
        give_up = time.monotonic() + RUN_LIMIT
        while not self.done.is_set():
            if time.monotonic() > give_up:
                self.problem("the run did not finish within 30 s of wall-clock time")
                return
            with self.lock:
                running = self.running
            if running > 0:
                time.sleep(POLL)
                continue
            time.sleep(SETTLE)
            if self.done.is_set():
                return
            with self.lock:
                starts = self.starts
            deadline = engine.next_deadline_ms()
            with self.lock:
                if self.starts != starts:
                    continue
            if deadline is None:
                continue
            now = engine.now_ms()
            engine.advance_ms(deadline - now if deadline > now else 0)

    def note_trail(
        self,
        code: int,
        spec: TaskSpec,
        binding: Tuple[bool, str],
        attempt: int,
        saw_cursor: bool = False,
    ) -> None:
        """README "trail": a task's state on its attempt 1; a poll task's once per attempt 1
        (its attempt-1 calls right after its own attempt-1 call belong to the same wait); a
        split state when one of its branches starts attempt 1 and the trail does not already
        end with it; never for a call that saw a cursor (it continues the entry its first step
        began). Called with the lock held."""
        label = self.scenario.label(code)
        if attempt == 1 and not saw_cursor:
            if binding[0]:
                if not self.trail or self.trail[-1] != label:
                    self.trail.append(label)
            elif spec.kind == "poll":
                if self.last_call != (binding, 1):
                    self.trail.append(label)
            else:
                self.trail.append(label)
        self.last_call = (binding, attempt)

    def body(self, code: int, spec: TaskSpec, key: str, branch: bool) -> Any:
        """The body of a state's task (code = its state) or of a split branch (code = the
        split state, key = "F[i]")."""
        worker = spec.mode == "worker"
        binding = (branch, key)

        def run(ctx: cano.TaskContext) -> Any:
            # README "cursors": the cursor this call saw (parsed), or None for none.
            saw_cursor = False if branch else ctx.raw_cursor is not None
            cursor = ctx.cursor if saw_cursor else None
            with self.lock:
                if worker:
                    self.running += 1
                self.starts += 1
                count = self.attempts.get(key, 0) + 1
                self.attempts[key] = count
                self.times.setdefault(key, []).append(self.engine.now_ms() - self.start_ms)
                self.note_trail(code, spec, binding, ctx.attempt, saw_cursor)
                if not branch:
                    self.cursors.setdefault(key, []).append(cursor)
                step = spec.step_for(count)
            if step.kind == "block":
                if worker:
                    with self.lock:
                        self.running -= 1
                return self.block(spec, ctx)
            try:
                return self.finish(step, spec, key, ctx)
            finally:
                if worker:
                    with self.lock:
                        self.running -= 1

        return run

    def finish(self, step: Step, spec: TaskSpec, key: str, ctx: cano.TaskContext) -> Any:
        """Ends a body call (every step but block) the way its mode finishes an attempt."""
        asynchronous = spec.mode == "async"
        if step.kind == "pending":
            # Returned directly in every mode: the engine polls again after the delay.
            return cano.Pending.ms(step.delay_ms)
        if step.kind == "more":
            # Returned directly in every mode too: the engine calls the body again.
            return cano.More(step.cursor)
        if step.kind == "fail" and step.fatal:
            # Raised in every mode: an async completion cannot be fatal.
            raise cano.Fatal(cano.error_for(step.code, step.message))
        if step.kind == "succeed":
            if not asynchronous:
                return step.value  # a str becomes the branch's value; None leaves none
            if step.value is not None:
                ctx.set_value(step.value)
            try:
                ctx.defer().complete()
            except cano.CanoError as exc:
                self.problem(f"completing the async attempt of {key} failed: {exc}")
            return cano.PENDING
        if step.kind == "goto" and step.read_split:
            self.record_split(ctx)
        decision = self.perform(step, ctx)
        if asynchronous:
            # The completion comes before the body returns (README), so no completion is
            # outstanding while the driver moves the clock.
            completion = ctx.defer()
            try:
                if isinstance(decision, tuple):
                    completion.fail(decision[1], code=decision[0])
                else:
                    completion.complete(decision)
            except cano.CanoError as exc:
                self.problem(f"completing the async attempt of {key} failed: {exc}")
            return cano.PENDING
        if isinstance(decision, tuple):
            raise cano.error_for(*decision)
        return decision

    def record_split(self, ctx: cano.TaskContext) -> None:
        """README "split_seen": what ctx.split_result shows this body."""
        result = ctx.split_result
        seen: Optional[List[str]] = None
        if result is not None:
            seen = []
            for branch in result:
                if branch.status is cano.BranchStatus.SUCCEEDED:
                    text = branch.text("utf-8")
                    seen.append("succeeded" if text is None else f"succeeded:{text}")
                elif branch.status is cano.BranchStatus.FAILED:
                    message = branch.error.message if branch.error else "<no error object>"
                    seen.append(f"failed:{message}")
                else:
                    seen.append("cancelled")
        with self.lock:
            self.split_seen.append(seen)

    def block(self, spec: TaskSpec, ctx: cano.TaskContext) -> Any:
        if spec.mode == "async":
            ctx.defer()  # and never complete it
            return cano.PENDING
        give_up = time.monotonic() + BLOCK_LIMIT
        while not ctx.cancelled:
            if time.monotonic() > give_up:
                self.problem("a blocked worker body was never cancelled")
                break
            time.sleep(POLL)
        raise cano.TaskExecutionError("cancelled")

    @staticmethod
    def perform(step: Step, ctx: cano.TaskContext) -> Any:
        """The attempt's decision: a next state code, or (code, message) for a failure."""
        if step.kind == "goto":
            return step.next
        if step.kind == "fail":
            return (step.code, step.message)
        try:
            if step.kind == "resource_get":
                ctx.resources.get(step.key, step.type)
                return step.next
            store = ctx.store
            if step.kind == "store_put":
                store.put_json(step.key, step.json)
            elif step.kind == "store_append":
                store.append_json(step.key, step.json)
            elif step.kind == "store_get":
                store.get_json(step.key)
            elif step.kind == "store_get_bytes":
                store.get_bytes(step.key)
            return step.next
        except cano.CanoError as exc:
            return (exc.code, exc.message)

    def collect(self, store: cano.MemoryStore) -> None:
        outcome = self.outcome
        outcome.trail = list(self.trail)
        outcome.resource_events = list(self.resource_events)
        outcome.split_seen = list(self.split_seen)
        outcome.batch_seen = list(self.batch_seen)
        for state in self.scenario.states:
            outcome.cursors[state] = list(self.cursors.get(state, []))
        for key in self.scenario.attempt_keys():
            outcome.attempts[key] = self.attempts.get(key, 0)
            outcome.attempt_times_ms[key] = list(self.times.get(key, []))
            outcome.cancel_notices[key] = self.cancel_notices.get(key, 0)
        for key in self.scenario.expect.get("store", {}):
            try:
                outcome.store[key] = json.loads(store.get_json(key))
            except cano.CanoError as exc:
                outcome.store[key] = f"<error: {exc.message}>"


# --- comparing ----------------------------------------------------------------------------


def check(scenario: Scenario, outcome: Outcome) -> List[str]:
    """Every mismatch as "scenario S: expect.F: got X, want Y"."""
    problems: List[str] = []
    expect = scenario.expect

    def equal(name: str, got: Any, want: Any) -> None:
        if got != want:
            problems.append(f"scenario {scenario.name}: expect.{name}: got {got!r}, want {want!r}")

    def fail(name: str, text: str) -> None:
        problems.append(f"scenario {scenario.name}: expect.{name}: {text}")

    for text in outcome.problems:
        fail("(runner)", text)
    equal("started", outcome.started, expect["started"])
    if "status" in expect:
        equal("status", outcome.status, expect["status"])
    error = outcome.error
    if error is not None:
        check_error(equal, fail, scenario, expect, error)
    elif any(key in expect for key in ERROR_FIELDS):
        fail("(error fields)", f"the run has no error (status {outcome.status})")
    if "final_state" in expect and outcome.started:
        got = None if outcome.final_state is None else scenario.label(outcome.final_state)
        equal("final_state", got, scenario.label(expect["final_state"].code))
    if "trail" in expect:
        equal("trail", outcome.trail, expect["trail"])
    for state, want in expect.get("attempts", {}).items():
        equal(f"attempts.{state}", outcome.attempts[state], want)
    for state, want in expect.get("attempt_times_ms", {}).items():
        equal(f"attempt_times_ms.{state}", outcome.attempt_times_ms[state], want)
    if "resource_events" in expect:
        equal("resource_events", outcome.resource_events, expect["resource_events"])
    for key, want in expect.get("store", {}).items():
        equal(f"store.{key}", outcome.store[key], want)
    if "split_seen" in expect:
        equal("split_seen", outcome.split_seen, expect["split_seen"])
    if "batch_seen" in expect:
        equal("batch_seen", outcome.batch_seen, expect["batch_seen"])
    for key, want in expect.get("cancel_notices", {}).items():
        equal(f"cancel_notices.{key}", outcome.cancel_notices[key], want)
    for state, want in expect.get("cursors", {}).items():
        got = outcome.cursors[state]
        if not same_json(got, want):
            problems.append(
                f"scenario {scenario.name}: expect.cursors.{state}: got {compact(got)}, "
                f"want {compact(want)}"
            )
    return problems


def same_json(a: Any, b: Any) -> bool:
    """JSON equality: numbers by value (1 == 1.0), but true is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def check_error(
    equal: Any, fail: Any, scenario: Scenario, expect: Dict[str, Any], error: Any
) -> None:
    if "category" in expect:
        equal("category", error.category, expect["category"])
    if "message" in expect:
        equal("message", error.message, expect["message"])
    for fragment in expect.get("message_contains", []):
        if fragment not in error.message:
            fail("message_contains", f"message {error.message!r} lacks {fragment!r}")
    if "cause_message" in expect:
        got = error.cause.message if error.cause is not None else None
        equal("cause_message", got, expect["cause_message"])
    if "error_state" in expect:
        want: Optional[StateRef] = expect["error_state"]
        got_code = None if error.state is None else int(error.state)
        equal(
            "error_state",
            None if got_code is None else scenario.label(got_code),
            None if want is None else scenario.label(want.code),
        )
        if want is not None:
            equal("error_state (cano_error_state_name)", error.state_name, want.name)
    if "error_task" in expect:
        equal("error_task", error.task, expect["error_task"])
    if "error_attempt" in expect:
        equal("error_attempt", error.attempt, expect["error_attempt"])


def scenario_files() -> List[Path]:
    if not SCENARIOS.is_dir():
        return []
    return sorted(SCENARIOS.glob("*.json"))


@pytest.mark.parametrize("path", scenario_files(), ids=lambda p: p.stem)
def test_scenario(path: Path) -> None:
    try:
        scenario = load_scenario(path)
    except (ScenarioError, ValueError) as exc:
        pytest.fail(f"invalid scenario: {exc}")
    problems = check(scenario, Runner(scenario).run())
    assert not problems, "\n".join(problems)


def test_parser_rejects_unknown_fields_and_wrong_types(tmp_path: Path) -> None:
    """The runner's own check: strict parsing, as the README demands."""
    base = {
        "name": "x",
        "states": ["A", "Done"],
        "initial": "A",
        "exit_states": ["Done"],
        "tasks": {"A": {"steps": [{"do": "goto", "state": "Done"}]}},
        "expect": {"status": "OK"},
    }
    cases: List[Tuple[str, Dict[str, Any]]] = [
        ("is not a field", {**base, "expct": {}}),
        ("must be a string", {**base, "name": 3}),
        ("is not in", {**base, "exit_states": ["Nope"]}),
        ("cannot block", {**base, "tasks": {"A": {"steps": [{"do": "block"}]}}}),
        (
            "is required for this retry kind",
            {
                **base,
                "tasks": {
                    "A": {
                        "retry": {"kind": "fixed", "max_retries": 1},
                        "steps": [{"do": "goto", "state": "Done"}],
                    }
                },
            },
        ),
        (
            "is not a field",
            {
                **base,
                "tasks": {
                    "A": {
                        "retry": {"kind": "none", "delay_ms": 1},
                        "steps": [{"do": "goto", "state": "Done"}],
                    }
                },
            },
        ),
        ("is no status name", {**base, "expect": {"status": "NOPE"}}),
        (
            "must be at least 1",
            {**base, "tasks": {"A": {"steps": [{"do": "goto", "state": "Done", "times": 0}]}}},
        ),
    ]
    for fragment, data in cases:
        path = tmp_path / "x.json"
        path.write_text(json.dumps(data))
        with pytest.raises(ScenarioError, match=fragment):
            load_scenario(path)
    good = tmp_path / "x.json"
    good.write_text(json.dumps(base))
    scenario = load_scenario(good)
    assert check(scenario, Runner(scenario).run()) == []


def test_parser_rejects_malformed_task_kinds_and_splits(tmp_path: Path) -> None:
    """Strict parsing of the format extension: task kinds, split states, split_seen."""
    split = {
        "strategy": "all",
        "join_state": "Done",
        "branches": [{"steps": [{"do": "succeed", "value": "v"}]}],
    }
    base = {
        "name": "x",
        "states": ["A", "Done"],
        "initial": "A",
        "exit_states": ["Done"],
        "tasks": {"A": {"split": split}},
        "expect": {"status": "OK", "attempts": {"A[0]": 1}},
    }

    def with_split(**changes: Any) -> Dict[str, Any]:
        changed = {**split, **changes}
        return {**base, "tasks": {"A": {"split": {k: v for k, v in changed.items() if v != ()}}}}

    def with_task(task: Dict[str, Any]) -> Dict[str, Any]:
        return {**base, "tasks": {"A": task}, "expect": {"status": "OK"}}

    goto = [{"do": "goto", "state": "Done"}]
    cases: List[Tuple[str, Dict[str, Any]]] = [
        ("is not a field", {**base, "tasks": {"A": {"split": split, "mode": "inline"}}}),
        ("strategy: is required", with_split(strategy=())),
        ("must be \"all\"", with_split(strategy="most")),
        ("join_state: is required", with_split(join_state=())),
        ("branches: is required", with_split(branches=())),
        ("branches: must be an array", with_split(branches={})),
        ("is not a field", with_split(branches=[{"kind": "task", "steps": [{"do": "succeed"}]}])),
        ("no step kind of a split branch", with_split(branches=[{"steps": goto}])),
        ("no step kind of a split branch", with_split(branches=[
            {"steps": [{"do": "pending", "delay_ms": 1}]}])),
        ("cannot block", with_split(branches=[{"steps": [{"do": "block"}]}])),
        ("no step kind of a task", with_task({"steps": [{"do": "succeed"}]})),
        (
            'must be "task", "router", "poll", "stepped", "timer" or "batch"',
            with_task({"kind": "split", "steps": goto}),
        ),
        ("is for poll tasks only", with_task({"poll": {"policy": "fail_fast"}, "steps": goto})),
        ("policy: is required", with_task({"kind": "poll", "poll": {}, "steps": goto})),
        ("delay_ms: is required", with_task({"kind": "poll", "steps": [{"do": "pending"}]})),
        ("must be true or false", with_task({"steps": [
            {"do": "goto", "state": "Done", "read_split": 1}]})),
        ("is not a field", with_task({"steps": [{"do": "goto", "state": "Done", "fatal": True}]})),
        ("neither a state", {**base, "expect": {"attempts": {"A[1]": 1}}}),
        # Stepped and timer tasks, cursors.
        ("cursor: is required", with_task({"kind": "stepped", "steps": [{"do": "more"}]})),
        ("no step kind of a split branch", with_split(branches=[
            {"steps": [{"do": "more", "cursor": 1}]}])),
        ("is for timer tasks only", with_task({"timer": {"delay_ms": 1}, "steps": goto})),
        ("is required for a timer task", with_task({"kind": "timer", "steps": goto})),
        ("exactly one of delay_ms, until_ms and wait", with_task(
            {"kind": "timer", "timer": {"delay_ms": 1, "until_ms": 2}, "steps": goto})),
        ("exactly one of delay_ms, until_ms and wait", with_task(
            {"kind": "timer", "timer": {}, "steps": goto})),
        ("wait: must be a non-empty array", with_task(
            {"kind": "timer", "timer": {"wait": []}, "steps": goto})),
        ("exactly one of for, until and fail", with_task(
            {"kind": "timer", "timer": {"wait": [{"for": 1, "fail": "x"}]}, "steps": goto})),
        ("is not a field", with_task(
            {"kind": "timer", "timer": {"wait": [{"for": 1, "after": 1}]}, "steps": goto})),
        ("is not a field", with_task(
            {"kind": "timer", "timer": {"delay_ms": 1, "jitter": 0}, "steps": goto})),
        ("must be a non-negative integer", with_task(
            {"kind": "timer", "timer": {"delay_ms": "1"}, "steps": goto})),
        ("is not in", {**base, "expect": {"cursors": {"A[0]": []}}}),
        ("must be an array of JSON values", {**base, "expect": {"cursors": {"A": 1}}}),
        ("keyed by state name", {**base, "expect": {"cursors": []}}),
        ("null or arrays of strings", {**base, "expect": {"split_seen": [["ok", 1]]}}),
    ]
    for fragment, data in cases:
        path = tmp_path / "x.json"
        path.write_text(json.dumps(data))
        with pytest.raises(ScenarioError, match=fragment):
            load_scenario(path)


def test_parser_rejects_malformed_batch_tasks_and_cancel_notices(tmp_path: Path) -> None:
    """Strict parsing of batch tasks ("kind": "batch", "batch", read_batch, batch_seen) and
    cancel_notices (README "Batch tasks", "Cancel notices")."""
    item = {"steps": [{"do": "succeed", "value": "v"}]}
    batch = {"concurrency": 2, "load": [{"items": [item, item]}]}
    finish = [{"do": "goto", "state": "Done", "read_batch": True}]
    task = {"kind": "batch", "batch": batch, "steps": finish}
    base = {
        "name": "x",
        "states": ["A", "Done"],
        "initial": "A",
        "exit_states": ["Done"],
        "tasks": {"A": task},
        "expect": {"status": "OK", "attempts": {"A[1]": 1}, "batch_seen": [["succeeded:v"] * 2]},
    }

    def with_task(**changes: Any) -> Dict[str, Any]:
        changed = {**task, **changes}
        return {**base, "tasks": {"A": {k: v for k, v in changed.items() if v != ()}}}

    def with_batch(**changes: Any) -> Dict[str, Any]:
        changed = {**batch, **changes}
        return with_task(batch={k: v for k, v in changed.items() if v != ()})

    def with_load(load: Any) -> Dict[str, Any]:
        return with_batch(load=[load])

    goto = [{"do": "goto", "state": "Done"}]
    cases: List[Tuple[str, Dict[str, Any]]] = [
        ("batch: is required for a batch task", with_task(batch=())),
        ("is for batch tasks only", with_task(kind="task")),
        ('a batch task is "inline" or "worker"', with_task(mode="async")),
        ("no step kind of a batch task", with_task(steps=[{"do": "more", "cursor": 1}])),
        ("no step kind of a batch task", with_task(steps=[{"do": "block"}])),
        ("is not a field", {**base, "tasks": {"A": {"steps": [
            {"do": "goto", "state": "Done", "read_batch": True}]}}}),
        ("must be true or false", with_task(steps=[
            {"do": "goto", "state": "Done", "read_batch": "yes"}])),
        ("load: is required", with_batch(load=())),
        ("load: must be a non-empty array", with_batch(load=[])),
        ("is not a field", with_batch(parallel=2)),
        ("must be a non-negative integer", with_batch(concurrency=-1)),
        ("is required for this retry kind", with_batch(item_retry={"kind": "fixed"})),
        ("exactly one of items and fail", with_load({})),
        ("exactly one of items and fail", with_load({"items": [], "fail": "x"})),
        ("is not a field", with_load({"items": [], "code": "STORE"})),
        ("is no error status", with_load({"fail": "x", "code": "OK"})),
        ("items: must be an array", with_load({"items": {}})),
        ("steps: is required", with_load({"items": [{}]})),
        ("steps: must be a non-empty array", with_load({"items": [{"steps": []}]})),
        ("is not a field", with_load({"items": [{"steps": [{"do": "succeed"}], "id": 1}]})),
        ("no step kind of a batch item", with_load({"items": [{"steps": goto}]})),
        ("no step kind of a batch item", with_load({"items": [{"steps": [{"do": "block"}]}]})),
        ("must be a JSON object", with_load({"items": [3]})),
        ("neither a state", {**base, "expect": {"attempts": {"A[2]": 1}}}),
        ("must be an array whose entries are arrays", {**base, "expect": {"batch_seen": [None]}}),
        ("must be an array whose entries are arrays", {**base, "expect": {"batch_seen": {}}}),
        ("neither a state", {**base, "expect": {"cancel_notices": {"B": 1}}}),
        ("must be a non-negative integer", {**base, "expect": {"cancel_notices": {"A": -1}}}),
        ("keyed by state name", {**base, "expect": {"cancel_notices": [1]}}),
    ]
    for fragment, data in cases:
        path = tmp_path / "x.json"
        path.write_text(json.dumps(data))
        with pytest.raises(ScenarioError, match=fragment):
            load_scenario(path)


EXTENSION_SCENARIOS: List[Dict[str, Any]] = [
    {
        # Split values, a fatal branch, a cancelled one; split_seen and the F[i] counts.
        "name": "split",
        "states": ["Start", "Fan", "Join", "Done"],
        "initial": "Start",
        "exit_states": ["Done"],
        "tasks": {
            "Start": {"steps": [{"do": "goto", "state": "Fan", "read_split": True}]},
            "Fan": {
                "split": {
                    "strategy": "partial_timeout",
                    "timeout_ms": 100,
                    "join_state": "Join",
                    "branches": [
                        {"steps": [{"do": "succeed", "value": "a"}]},
                        {
                            "retry": {"kind": "fixed", "max_retries": 2, "delay_ms": 10},
                            "steps": [{"do": "fail", "fatal": True, "message": "panic"}],
                        },
                        {"mode": "async", "steps": [{"do": "block"}]},
                        {"mode": "async", "steps": [{"do": "succeed"}]},
                    ],
                }
            },
            "Join": {"steps": [{"do": "goto", "state": "Done", "read_split": True}]},
        },
        "expect": {
            "status": "OK",
            "trail": ["Start", "Fan", "Join"],
            "attempts": {"Fan[0]": 1, "Fan[1]": 1, "Fan[2]": 1, "Fan[3]": 1, "Fan": 0},
            "attempt_times_ms": {"Join": [100]},
            "split_seen": [None, ["succeeded:a", "failed:panic", "cancelled", "succeeded"]],
        },
    },
    {
        # A poll task (re-polls, RetryOnError), a router with retries, the poll trail rule.
        "name": "poll_router",
        "states": ["Wait", "Route", "Done"],
        "initial": "Wait",
        "exit_states": ["Done"],
        "tasks": {
            "Wait": {
                "kind": "poll",
                "poll": {"policy": "retry_on_error", "max_errors": 1},
                "steps": [
                    {"do": "pending", "delay_ms": 30},
                    {"do": "fail"},
                    {"do": "goto", "state": "Route"},
                    {"do": "pending", "delay_ms": 5},
                    {"do": "goto", "state": "Done"},
                ],
            },
            "Route": {
                "kind": "router",
                "retry": {"kind": "fixed", "max_retries": 1, "delay_ms": 10},
                "steps": [{"do": "fail"}, {"do": "goto", "state": "Wait"}],
            },
        },
        "expect": {
            "status": "OK",
            "trail": ["Wait", "Route", "Wait"],
            "attempt_times_ms": {"Wait": [0, 30, 30, 40, 45], "Route": [30, 40]},
        },
    },
    {
        # A fatal failure of an async task: one attempt, unwrapped, its own code.
        "name": "fatal",
        "states": ["A", "Done"],
        "initial": "A",
        "exit_states": ["Done"],
        "tasks": {
            "A": {
                "mode": "async",
                "retry": {"kind": "fixed", "max_retries": 3, "delay_ms": 10},
                "steps": [{"do": "fail", "code": "STORE", "message": "boom", "fatal": True}],
            }
        },
        "expect": {
            "status": "STORE",
            "message": "boom",
            "cause_message": None,
            "error_attempt": 1,
            "attempts": {"A": 1},
        },
    },
]


EXTENSION_SCENARIOS += [
    {
        # A stepped task retried per step with its cursor; a plain task whose retry restarts
        # its loop; the trail counts each entry once.
        "name": "stepped",
        "states": ["Steps", "Loop", "Done"],
        "initial": "Steps",
        "exit_states": ["Done"],
        "tasks": {
            "Steps": {
                "kind": "stepped",
                "mode": "worker",
                "retry": {"kind": "fixed", "max_retries": 1, "delay_ms": 10},
                "steps": [
                    {"do": "more", "cursor": {"page": 1}},
                    {"do": "fail"},
                    {"do": "more", "cursor": [2, "two"]},
                    {"do": "goto", "state": "Loop"},
                ],
            },
            "Loop": {
                "mode": "async",
                "retry": {"kind": "fixed", "max_retries": 1, "delay_ms": 5},
                "steps": [
                    {"do": "more", "cursor": 1},
                    {"do": "fail", "message": "lost"},
                    {"do": "more", "cursor": True},
                    {"do": "goto", "state": "Done"},
                ],
            },
        },
        "expect": {
            "status": "OK",
            "trail": ["Steps", "Loop"],
            "attempts": {"Steps": 4, "Loop": 4},
            "attempt_times_ms": {"Steps": [0, 0, 10, 10], "Loop": [10, 10, 15, 15]},
            "cursors": {
                "Steps": [None, {"page": 1}, {"page": 1}, [2, "two"]],
                "Loop": [None, 1, None, True],
            },
        },
    },
    {
        # Timer waits: a wait list (for, a failure, until), then a fixed delay.
        "name": "timer",
        "states": ["Wait", "Later", "Done"],
        "initial": "Wait",
        "exit_states": ["Done"],
        "tasks": {
            "Wait": {
                "kind": "timer",
                "timer": {"wait": [{"for": 20}, {"fail": "no clock"}, {"until": 100}]},
                "retry": {"kind": "fixed", "max_retries": 2, "delay_ms": 5},
                "steps": [{"do": "fail"}, {"do": "goto", "state": "Later"}],
            },
            "Later": {
                "kind": "timer",
                "mode": "worker",
                "timer": {"delay_ms": 30},
                "steps": [{"do": "goto", "state": "Done"}],
            },
        },
        "expect": {
            "status": "OK",
            "trail": ["Wait", "Later"],
            "attempts": {"Wait": 2, "Later": 1},
            "attempt_times_ms": {"Wait": [20, 100], "Later": [130]},
            "cursors": {"Wait": [None, None]},
        },
    },
    {
        # A router and a poll task that loop with more, and a failing wait with no retries:
        # the raw error, no body call.
        "name": "loops",
        "states": ["R", "P", "W", "Done"],
        "initial": "R",
        "exit_states": ["Done"],
        "tasks": {
            "R": {
                "kind": "router",
                "steps": [{"do": "more", "cursor": "r"}, {"do": "goto", "state": "P"}],
            },
            "P": {
                "kind": "poll",
                "steps": [
                    {"do": "pending", "delay_ms": 7},
                    {"do": "more", "cursor": 2},
                    {"do": "goto", "state": "W"},
                ],
            },
            "W": {
                "kind": "timer",
                "timer": {"wait": [{"fail": "no clock"}]},
                "steps": [{"do": "goto", "state": "Done"}],
            },
        },
        "expect": {
            "status": "TASK_EXECUTION",
            "message": "no clock",
            "error_state": "W",
            "error_attempt": 1,
            "trail": ["R", "P"],
            "attempts": {"R": 2, "P": 3, "W": 0},
            "attempt_times_ms": {"P": [0, 7, 7]},
            "cursors": {"R": [None, "r"], "P": [None, None, 2], "W": []},
        },
    },
    {
        # A failing wait with no retries: the raw error, no body call.
        "name": "timer_wait_fails",
        "states": ["Wait", "Done"],
        "initial": "Wait",
        "exit_states": ["Done"],
        "tasks": {
            "Wait": {
                "kind": "timer",
                "timer": {"wait": [{"fail": "no clock"}]},
                "steps": [{"do": "goto", "state": "Done"}],
            }
        },
        "expect": {
            "status": "TASK_EXECUTION",
            "message": "no clock",
            "error_attempt": 1,
            "attempts": {"Wait": 0},
        },
    },
]


EXTENSION_SCENARIOS += [
    {
        # A batch whose first load fails (task retry), items with their own retries (raw last
        # error), concurrency 2, the finish step's results in input order.
        "name": "batch",
        "states": ["Start", "W", "Done", "Partial"],
        "initial": "Start",
        "exit_states": ["Done", "Partial"],
        "tasks": {
            "Start": {"steps": [{"do": "goto", "state": "W"}]},
            "W": {
                "kind": "batch",
                "mode": "inline",
                "retry": {"kind": "fixed", "max_retries": 1, "delay_ms": 10},
                "batch": {
                    "concurrency": 2,
                    "item_retry": {"kind": "fixed", "max_retries": 2, "delay_ms": 5},
                    "load": [
                        {"fail": "source down"},
                        {
                            "items": [
                                {"steps": [{"do": "succeed", "value": "a"}]},
                                {"steps": [{"do": "fail", "message": "x1"}, {"do": "succeed"}]},
                                {"steps": [{"do": "fail", "code": "STORE", "message": "never"}]},
                            ]
                        },
                    ],
                },
                "steps": [{"do": "goto", "state": "Partial", "read_batch": True}],
            },
        },
        "expect": {
            "status": "OK",
            "final_state": "Partial",
            "trail": ["Start", "W"],
            "attempts": {"W": 2, "W[0]": 1, "W[1]": 2, "W[2]": 3},
            "attempt_times_ms": {"W": [0, 10], "W[0]": [10], "W[1]": [10, 15]},
            "batch_seen": [["succeeded:a", "succeeded", "failed:never"]],
        },
    },
    {
        # A fatal item in a worker batch: the task fails at once with the item's error.
        "name": "batch_fatal_item",
        "states": ["W", "Done"],
        "initial": "W",
        "exit_states": ["Done"],
        "tasks": {
            "W": {
                "kind": "batch",
                "mode": "worker",
                "retry": {"kind": "fixed", "max_retries": 3, "delay_ms": 10},
                "batch": {
                    "load": [
                        {
                            "items": [
                                {"steps": [{"do": "succeed"}]},
                                {"steps": [
                                    {"do": "fail", "code": "STORE", "message": "boom",
                                     "fatal": True}
                                ]},
                                {"steps": [{"do": "succeed"}]},
                            ]
                        }
                    ]
                },
                "steps": [{"do": "goto", "state": "Done"}],
            }
        },
        "expect": {
            "status": "STORE",
            "message": "boom",
            "error_task": "W[1]",
            "cause_message": None,
            "attempts": {"W": 1, "W[0]": 1, "W[1]": 1, "W[2]": 0},
        },
    },
    {
        # A finish failure runs the whole batch again (the second load adds no items).
        "name": "batch_finish_retry",
        "states": ["W", "Done"],
        "initial": "W",
        "exit_states": ["Done"],
        "tasks": {
            "W": {
                "kind": "batch",
                "retry": {"kind": "fixed", "max_retries": 2, "delay_ms": 7},
                "batch": {
                    "load": [{"items": [{"steps": [{"do": "succeed", "value": "1"}]}]},
                             {"items": []}]
                },
                "steps": [
                    {"do": "fail", "message": "sink down"},
                    {"do": "goto", "state": "Done", "read_batch": True},
                ],
            }
        },
        "expect": {
            "status": "OK",
            "trail": ["W"],
            "attempts": {"W": 2, "W[0]": 1},
            "attempt_times_ms": {"W": [0, 7], "W[0]": [0]},
            "batch_seen": [[]],
        },
    },
    {
        # Cancel notices: an async attempt that timed out, a losing async branch; never for the
        # attempts that finished.
        "name": "cancel",
        "states": ["A", "F", "J", "Done"],
        "initial": "A",
        "exit_states": ["Done"],
        "tasks": {
            "A": {
                "mode": "async",
                "attempt_timeout_ms": 50,
                "retry": {"kind": "fixed", "max_retries": 1, "delay_ms": 0},
                "steps": [{"do": "block"}, {"do": "goto", "state": "F"}],
            },
            "F": {
                "split": {
                    "strategy": "any",
                    "join_state": "J",
                    "branches": [
                        {"mode": "async", "steps": [{"do": "block"}]},
                        {"mode": "inline", "steps": [{"do": "succeed"}]},
                    ],
                }
            },
            "J": {"mode": "async", "steps": [{"do": "goto", "state": "Done"}]},
        },
        "expect": {
            "status": "OK",
            "attempts": {"A": 2},
            "attempt_times_ms": {"A": [0, 50]},
            "cancel_notices": {"A": 1, "F[0]": 1, "F[1]": 0, "J": 0},
        },
    },
    {
        # The workflow timeout abandons a pending async attempt: one notice.
        "name": "cancel_workflow_timeout",
        "states": ["A", "Done"],
        "initial": "A",
        "exit_states": ["Done"],
        "timeout_ms": 30,
        "tasks": {"A": {"mode": "async", "steps": [{"do": "block"}]}},
        "expect": {"status": "WORKFLOW", "cancel_notices": {"A": 1}},
    },
]


def test_the_runner_checks_batch_and_cancel_expectations(tmp_path: Path) -> None:
    """Wrong batch_seen, item attempts and cancel_notices are reported, naming the field."""
    by_name = {data["name"]: data for data in EXTENSION_SCENARIOS}
    mutations = [
        ("batch", "batch_seen", [["succeeded:a", "succeeded", "failed:x1"]],
         "expect.batch_seen: got"),
        ("batch", "attempts", {"W[2]": 2}, "expect.attempts.W[2]: got 3, want 2"),
        ("batch_fatal_item", "error_task", "W", "expect.error_task: got 'W[1]', want 'W'"),
        ("cancel", "cancel_notices", {"F[0]": 0}, "expect.cancel_notices.F[0]: got 1, want 0"),
        ("cancel", "cancel_notices", {"J": 1}, "expect.cancel_notices.J: got 0, want 1"),
    ]
    for name, key, value, fragment in mutations:
        data = json.loads(json.dumps(by_name[name]))
        data["expect"][key] = value
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(data))
        scenario = load_scenario(path)
        problems = check(scenario, Runner(scenario).run())
        assert any(fragment in problem for problem in problems), (fragment, problems)


@pytest.mark.parametrize("data", EXTENSION_SCENARIOS, ids=lambda d: d["name"])
def test_the_runner_drives_the_format_extension(tmp_path: Path, data: Dict[str, Any]) -> None:
    """The runner's own check of task kinds, splits and split_seen, independent of which
    scenarios the shared suite holds."""
    path = tmp_path / f"{data['name']}.json"
    path.write_text(json.dumps(data))
    scenario = load_scenario(path)
    assert check(scenario, Runner(scenario).run()) == []
