"""The conformance suite's runner (tests/conformance/README.md): builds one parsed scenario
through the public Python API (engine, resources, store, workflow, tasks, routers, poll tasks,
stepped tasks, timer tasks, batch tasks, splits; every async task and branch with a ``cancel``
callable that counts cancel notices), runs it on the manual clock exactly as the README's "How
runners drive time" prescribes, and records what happened as an :class:`Outcome`.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from _conformance_scenario import ResourceSpec, Scenario, Step, TaskSpec, step_for

import cano

SETTLE = 0.002  # README: sleep 2 ms so that the loop settles
POLL = 0.001  # README: poll running worker bodies about every millisecond
RUN_LIMIT = 30.0  # README: give up after 30 s of wall-clock time
BLOCK_LIMIT = 60.0  # a blocked worker body that is never cancelled gives up eventually
RESOURCE_TAG = "conformance.Resource"


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
