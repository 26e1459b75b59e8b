"""The conformance suite's strict scenario parser (tests/conformance/README.md "Fields"): every
field but "expect" (read by _conformance_expect.ExpectParser), and :func:`load_scenario`.

An unknown field, or a field of the wrong JSON type, fails the scenario with a
:class:`~_conformance_scenario.ScenarioError` naming its path.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List

from _conformance_expect import ExpectParser
from _conformance_scenario import (
    ABSENT,
    KINDS,
    STATUS,
    STRATEGIES,
    UINT32_MAX,
    UINT64_MAX,
    BatchSpec,
    Fields,
    LoadSpec,
    ResourceSpec,
    Scenario,
    ScenarioError,
    SplitSpec,
    Step,
    TaskSpec,
    TimerSpec,
    WaitSpec,
    compact,
)

import cano


class Parser(ExpectParser):
    """Reads one scenario file's JSON (see the module docstring)."""

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
        tasks = {} if tasks_value is ABSENT else self.parse_tasks(tasks_value, top.at("tasks"))
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
        if value is ABSENT:
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
            if item is ABSENT:
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
            if poll is not ABSENT:
                if task.kind != "poll":
                    raise ScenarioError(f"{fields.at('poll')}: is for poll tasks only")
                self.parse_poll(poll, fields.at("poll"), task)
            timer = fields.get("timer")
            if timer is not ABSENT:
                if task.kind != "timer":
                    raise ScenarioError(f"{fields.at('timer')}: is for timer tasks only")
                task.timer = self.parse_timer(timer, fields.at("timer"))
            elif task.kind == "timer":
                raise ScenarioError(f"{fields.at('timer')}: is required for a timer task")
            batch = fields.get("batch")
            if batch is not ABSENT:
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
        if retry is not ABSENT:
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
        if item_retry is not ABSENT:
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
        if (items is ABSENT) == (message is None):
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
        if waits is not ABSENT:
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


def load_scenario(path: Path) -> Scenario:
    with open(path, encoding="utf-8") as handle:
        root = json.load(handle)
    scenario = Parser(path).parse(root)
    if not scenario.name or not all(c.isalnum() or c == "_" for c in scenario.name):
        raise ScenarioError(f"{path}: name must use letters, digits and '_' only")
    if path.stem != scenario.name:
        raise ScenarioError(f"{path}: the file must be named {scenario.name}.json")
    return scenario
