"""The conformance suite's expectations (tests/conformance/README.md "expect"): reading a
scenario's "expect" block strictly (:class:`ExpectParser`) and comparing a run's outcome with it
(:func:`check`), every mismatch naming the scenario and the field as the C++ and Go runners do.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from _conformance_runner import Outcome
from _conformance_scenario import (
    ABSENT,
    STATUS,
    UINT32_MAX,
    UINT64_MAX,
    Fields,
    ParserBase,
    Scenario,
    ScenarioError,
    StateRef,
    compact,
    to_unsigned,
)

# --- reading ------------------------------------------------------------------------------------


class ExpectParser(ParserBase):
    """Reads the "expect" block; its state names and "F[i]" / "W[i]" keys must name what the
    rest of the scenario declared."""

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
            if item is not ABSENT:
                if item is not None and not isinstance(item, str):
                    raise ScenarioError(f"{fields.at(key)}: must be a string or null")
                expect[key] = item
        item = fields.get("error_state")
        if item is not ABSENT:
            expect["error_state"] = (
                None if item is None else self.state_ref(item, fields.at("error_state"))
            )
        attempt = fields.unsigned("error_attempt", UINT32_MAX)
        if attempt is not None:
            expect["error_attempt"] = attempt
        item = fields.get("final_state")
        if item is not ABSENT:
            expect["final_state"] = self.state_ref(item, fields.at("final_state"))
        trail = fields.strings("trail")
        if trail is not None:
            for state in trail:
                self.declared(state, fields.at("trail"))
            expect["trail"] = trail
        item = fields.get("attempts")
        if item is not ABSENT:
            expect["attempts"] = self.per_state(
                item, fields.at("attempts"), lambda v, at: to_unsigned(v, at, UINT32_MAX)
            )
        item = fields.get("attempt_times_ms")
        if item is not ABSENT:

            def times(v: Any, at: str) -> List[int]:
                if not isinstance(v, list):
                    raise ScenarioError(f"{at}: must be an array of integers")
                return [to_unsigned(e, at, UINT64_MAX) for e in v]

            expect["attempt_times_ms"] = self.per_state(item, fields.at("attempt_times_ms"), times)
        events = fields.strings("resource_events")
        if events is not None:
            expect["resource_events"] = events
        item = fields.get("store")
        if item is not ABSENT:
            if not isinstance(item, dict):
                raise ScenarioError(f"{fields.at('store')}: must be an object")
            expect["store"] = dict(item)
        item = fields.get("split_seen")
        if item is not ABSENT:
            expect["split_seen"] = self.parse_split_seen(item, fields.at("split_seen"))
        item = fields.get("cursors")
        if item is not ABSENT:
            expect["cursors"] = self.parse_cursors(item, fields.at("cursors"))
        item = fields.get("batch_seen")
        if item is not ABSENT:
            expect["batch_seen"] = self.parse_batch_seen(item, fields.at("batch_seen"))
        item = fields.get("cancel_notices")
        if item is not ABSENT:
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


# --- comparing ----------------------------------------------------------------------------


#: The expect fields about the run's error: a run without one fails every such expectation.
ERROR_FIELDS = (
    "category",
    "message",
    "message_contains",
    "cause_message",
    "error_state",
    "error_task",
    "error_attempt",
)


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
