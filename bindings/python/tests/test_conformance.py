"""The Python runner of the conformance suite (tests/conformance/README.md).

One test per ``scenarios/*.json`` file. Each scenario is parsed strictly (an unknown field or a
field of the wrong JSON type fails the scenario), built through the public Python API (engine,
resources, store, workflow, tasks, routers, poll tasks, stepped tasks, timer tasks, batch tasks,
splits; every async task and branch with a ``cancel`` callable that counts cancel notices),
run on the manual clock
exactly as the README's "How runners drive time" prescribes, and compared with its ``expect``
block. Every mismatch names the scenario and the field, as the C++ and Go runners do.

The pieces live beside this file: the scenario model in _conformance_scenario.py, the parser in
_conformance_parser.py, the expect block (reading and comparing) in _conformance_expect.py, the
runner in _conformance_runner.py, and the runner's own scenarios of the format extension in
_conformance_extensions.py. The tests here also check the runner itself: its strict parsing
and its reports of mismatches.

``CANO_CONFORMANCE_SCENARIOS`` overrides the scenarios directory.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest
from _conformance_expect import check
from _conformance_extensions import EXTENSION_SCENARIOS
from _conformance_parser import load_scenario
from _conformance_runner import Runner
from _conformance_scenario import ScenarioError

ROOT = Path(__file__).resolve().parents[3]
SCENARIOS = Path(
    os.environ.get("CANO_CONFORMANCE_SCENARIOS", ROOT / "tests" / "conformance" / "scenarios")
)


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


def assert_rejected(tmp_path: Path, cases: List[Tuple[str, Dict[str, Any]]]) -> None:
    """Every case's scenario fails to load with a ScenarioError matching its fragment."""
    for fragment, data in cases:
        path = tmp_path / "x.json"
        path.write_text(json.dumps(data))
        with pytest.raises(ScenarioError, match=fragment):
            load_scenario(path)


def run_written(path: Path, data: Dict[str, Any]) -> List[str]:
    """Writes ``data`` as the scenario file ``path``, runs it and returns every mismatch."""
    path.write_text(json.dumps(data))
    scenario = load_scenario(path)
    return check(scenario, Runner(scenario).run())


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
    assert_rejected(tmp_path, cases)
    assert run_written(tmp_path / "x.json", base) == []


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
    assert_rejected(tmp_path, cases)


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
    assert_rejected(tmp_path, cases)


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
        problems = run_written(tmp_path / f"{name}.json", data)
        assert any(fragment in problem for problem in problems), (fragment, problems)


@pytest.mark.parametrize("data", EXTENSION_SCENARIOS, ids=lambda d: d["name"])
def test_the_runner_drives_the_format_extension(tmp_path: Path, data: Dict[str, Any]) -> None:
    """The runner's own check of task kinds, splits and split_seen, independent of which
    scenarios the shared suite holds."""
    assert run_written(tmp_path / f"{data['name']}.json", data) == []
