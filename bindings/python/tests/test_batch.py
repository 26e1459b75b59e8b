"""Batch tasks: load, items under a concurrency limit with their own retries, finish with every
outcome in input order; how failures at each step end; the class and decorator forms; and the
argument checks."""

from __future__ import annotations

import enum
import threading
import time
from typing import Any, Dict, List

import pytest
from conftest import drive, wait_for

import cano


class S(enum.IntEnum):
    Work = 0
    Done = 1
    Partial = 2


MODES = ["inline", "worker"]


def workflow() -> cano.Workflow:
    return cano.Workflow(S, exit_states=[S.Done, S.Partial])


class Recorder:
    """A finish step that keeps what it saw and goes to Done when every item succeeded."""

    def __init__(self) -> None:
        self.calls = 0
        self.results: List[cano.BatchResults] = []
        self.lock = threading.Lock()

    def __call__(self, ctx: cano.TaskContext, results: cano.BatchResults) -> S:
        with self.lock:
            self.calls += 1
            self.results.append(results)
        assert ctx.batch_results is results
        return S.Done if results.failed == 0 else S.Partial

    @property
    def last(self) -> cano.BatchResults:
        return self.results[-1]


def outcomes(results: cano.BatchResults) -> List[str]:
    """Each item as the C tests write it: "ok VALUE" or "err STATUS TASK: MESSAGE"."""
    out = []
    for result in results:
        if result.ok:
            out.append(f"ok {result.value}")
        else:
            error = result.error
            assert error is not None
            out.append(f"err {error.status} {error.task}: {error.message}")
    return out


# --- the happy path ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_finish_sees_every_output_in_input_order(engine: cano.Engine, mode: str) -> None:
    finish = Recorder()

    def square(n: int) -> int:
        if mode == "worker" and n % 3 == 0:
            time.sleep(0.002)  # later items finish first on workers
        return n * n

    wf = workflow().register_batch(
        S.Work,
        load=lambda ctx: range(10),
        process_item=square,
        finish=finish,
        concurrency=3,
        mode=mode,
    )
    assert wf.run(engine, S.Work) is S.Done
    assert finish.calls == 1
    assert [r.value for r in finish.last] == [n * n for n in range(10)]
    assert [r.index for r in finish.last] == list(range(10))
    assert isinstance(finish.last, list)
    assert (finish.last.succeeded, finish.last.failed) == (10, 0)
    assert finish.last.values() == [n * n for n in range(10)]
    assert finish.last.errors() == []


def test_items_and_outputs_travel_as_json(engine: cano.Engine) -> None:
    """Items are JSON (a tuple comes back as a list, a fresh copy each time); an output is JSON,
    raw bytes, or nothing (None)."""
    seen: List[Any] = []
    source = [{"id": 1, "tags": ("a", "b")}, "text", None, 2.5, [1, [2]]]

    def process(item: Any) -> Any:
        seen.append(item)
        if item is None:
            return None
        if item == "text":
            return b"\x00raw"
        return {"echo": item}

    finish = Recorder()
    wf = workflow().register_batch(
        S.Work, load=lambda ctx: iter(source), process_item=process, finish=finish, mode="inline"
    )
    assert wf.run(engine, S.Work) is S.Done
    assert seen == [{"id": 1, "tags": ["a", "b"]}, "text", None, 2.5, [1, [2]]]
    assert seen[0] is not source[0]
    results = finish.last
    assert results[0].raw == b'{"echo":{"id":1,"tags":["a","b"]}}'
    assert results[0].value == {"echo": {"id": 1, "tags": ["a", "b"]}}
    assert results[0].unwrap() == results[0].value
    assert (results[1].raw, results[1].ok) == (b"\x00raw", True)
    with pytest.raises(ValueError, match="item 1 is not JSON"):
        results[1].value
    assert (results[2].raw, results[2].value, results[2].ok) == (None, None, True)
    assert results[3].value == {"echo": 2.5}


def test_process_item_with_two_parameters_gets_the_item_context(engine: cano.Engine) -> None:
    seen: List[Any] = []
    lock = threading.Lock()

    def process(ctx: cano.TaskContext, item: Any) -> Any:
        with lock:
            seen.append((ctx.item_index, ctx.item, ctx.raw_item, ctx.attempt, ctx.state))
        assert ctx.item is item
        assert ctx.batch_results is None
        return item["n"] + 100

    def load(ctx: cano.TaskContext) -> Any:
        assert ctx.item_index is None and ctx.raw_item is None
        with pytest.raises(cano.BadStateError, match="process_item"):
            ctx.item
        assert ctx.batch_results is None
        return [{"n": 0}, {"n": 1}]

    finish = Recorder()
    wf = workflow().register_batch(
        S.Work, load=load, process_item=process, finish=finish, concurrency=2, mode="worker"
    )
    assert wf.run(engine, S.Work) is S.Done
    assert sorted(seen) == [
        (0, {"n": 0}, b'{"n":0}', 1, S.Work),
        (1, {"n": 1}, b'{"n":1}', 1, S.Work),
    ]
    assert finish.last.values() == [100, 101]


# --- item failures ----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_item_failures_do_not_fail_the_batch(engine: cano.Engine, mode: str) -> None:
    finish = Recorder()

    def process(n: int) -> int:
        if n == 1:
            raise ValueError("odd one")
        if n == 3:
            raise cano.StoreError("no store")
        return n * n

    wf = workflow().register_batch(
        S.Work, load=lambda ctx: range(4), process_item=process, finish=finish, mode=mode
    )
    assert wf.run(engine, S.Work) is S.Partial
    assert outcomes(finish.last) == [
        "ok 0",
        "err TASK_EXECUTION Work[1]: ValueError: odd one",
        "ok 4",
        "err STORE Work[3]: no store",
    ]
    failed = finish.last[1]
    assert failed.failed and not failed.ok and failed.value is None and failed.raw is None
    assert isinstance(failed.exception, ValueError)
    assert failed.error is not None and failed.error.__cause__ is failed.exception
    assert failed.error.state is S.Work and failed.error.attempt == 1
    with pytest.raises(cano.TaskExecutionError, match="odd one"):
        failed.unwrap()
    assert (finish.last.succeeded, finish.last.failed) == (2, 2)
    assert [e.task for e in finish.last.errors()] == ["Work[1]", "Work[3]"]


@pytest.mark.parametrize("mode", MODES)
def test_an_item_retries_and_keeps_its_last_error_raw(manual: cano.Engine, mode: str) -> None:
    calls: List[str] = []
    lock = threading.Lock()

    def process(ctx: cano.TaskContext, item: str) -> Any:
        with lock:
            calls.append(f"{item}#{ctx.attempt}@{manual.now_ms()}")
        if item == "a" and ctx.attempt == 3:
            return "done"
        raise cano.StoreError(f"attempt {ctx.attempt}")

    finish = Recorder()
    wf = workflow().register_batch(
        S.Work,
        load=lambda ctx: ["a", "b"],
        process_item=process,
        finish=finish,
        item_retry=cano.Retry.fixed(2, 0.05),
        mode=mode,
        name="prices",
    )
    # One timer at a time (concurrency 1, no attempt timeout): a retry delay is armed only
    # once its item's attempt has ended, so moving the clock to it is safe on workers too.
    handle = drive(manual, wf.start(manual, S.Work))
    assert handle.wait(5) is S.Partial
    # No RetryExhausted wrapping, as cano's item retry loop: the raw last error.
    assert outcomes(finish.last) == ["ok done", "err STORE prices[1]: attempt 3"]
    assert finish.last[1].error.cause is None  # type: ignore[union-attr]
    # Concurrency 1: "b" waited for "a"'s retries (two delays of 50 ms), then had its own.
    assert calls == ["a#1@0", "a#2@50", "a#3@100", "b#1@100", "b#2@150", "b#3@200"]


def test_item_retry_defaults_to_one_attempt(engine: cano.Engine) -> None:
    attempts: Dict[int, int] = {}

    def process(n: int) -> Any:
        attempts[n] = attempts.get(n, 0) + 1
        raise RuntimeError("no")

    for item_retry in (None, cano.Retry.default(), cano.Retry.none()):
        attempts.clear()
        finish = Recorder()
        wf = workflow().register_batch(
            S.Work,
            load=lambda ctx: [0, 1],
            process_item=process,
            finish=finish,
            item_retry=item_retry,
            mode="inline",
        )
        assert wf.run(engine, S.Work) is S.Partial
        assert attempts == {0: 1, 1: 1}, item_retry
        assert finish.last.failed == 2


def test_a_class_item_retry_attribute_applies(engine: cano.Engine) -> None:
    class Job(cano.BatchTask):
        mode = "inline"
        item_retry = cano.Retry.fixed(3, 0)
        calls = 0

        def load(self, ctx: cano.TaskContext) -> Any:
            return [7]

        def process_item(self, item: int) -> int:
            Job.calls += 1
            if Job.calls < 4:
                raise RuntimeError("flaky")
            return item

        def finish(self, ctx: cano.TaskContext, results: cano.BatchResults) -> S:
            return S.Done if results[0].value == 7 else S.Partial

    assert workflow().register_batch(S.Work, Job).run(engine, S.Work) is S.Done
    assert Job.calls == 4


# --- load and finish failures -----------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_a_load_failure_goes_through_the_task_retries(engine: cano.Engine, mode: str) -> None:
    loads: List[int] = []
    items: List[int] = []

    def load(ctx: cano.TaskContext) -> Any:
        loads.append(ctx.attempt)
        if len(loads) == 1:
            raise ConnectionError("source down")
        return [1, 2]

    def process(n: int) -> int:
        items.append(n)
        return n

    finish = Recorder()
    wf = workflow().register_batch(
        S.Work,
        load=load,
        process_item=process,
        finish=finish,
        retry=cano.Retry.fixed(1, 0),
        mode=mode,
    )
    assert wf.run(engine, S.Work) is S.Done
    assert loads == [1, 2]
    assert items == [1, 2]
    assert finish.calls == 1


def test_a_load_failure_without_retries_fails_the_run_without_finish(
    engine: cano.Engine,
) -> None:
    finish = Recorder()
    boom = ConnectionError("source down")

    def load(ctx: cano.TaskContext) -> Any:
        raise boom

    wf = workflow().register_batch(
        S.Work,
        load=load,
        process_item=lambda n: n,
        finish=finish,
        retry=cano.Retry.none(),
        mode="inline",
    )
    with pytest.raises(cano.TaskExecutionError) as caught:
        wf.run(engine, S.Work)
    assert caught.value.message == "ConnectionError: source down"
    assert caught.value.task == "Work" and caught.value.state is S.Work
    assert caught.value.exception is boom
    assert finish.calls == 0


def test_the_default_retry_is_cano_task_config_default(manual: cano.Engine) -> None:
    loads: List[int] = []

    def load(ctx: cano.TaskContext) -> Any:
        loads.append(ctx.attempt)
        raise RuntimeError("down")

    wf = workflow().register_batch(
        S.Work, load=load, process_item=lambda n: n, finish=Recorder(), mode="inline"
    )
    handle = drive(manual, wf.start(manual, S.Work))
    with pytest.raises(cano.RetryExhaustedError, match="after 4 attempt"):
        handle.wait(5)
    assert loads == [1, 2, 3, 4]


@pytest.mark.parametrize("mode", MODES)
def test_a_finish_failure_runs_the_whole_batch_again(engine: cano.Engine, mode: str) -> None:
    counts = {"loads": 0, "items": 0, "finishes": 0}
    lock = threading.Lock()

    def load(ctx: cano.TaskContext) -> Any:
        counts["loads"] += 1
        return [0, 1, 2]

    def process(n: int) -> int:
        with lock:
            counts["items"] += 1
        return n

    def finish(ctx: cano.TaskContext, results: cano.BatchResults) -> S:
        counts["finishes"] += 1
        if counts["finishes"] == 1:
            raise RuntimeError("sink down")
        assert len(results) == 3
        return S.Done

    wf = workflow().register_batch(
        S.Work,
        load=load,
        process_item=process,
        finish=finish,
        retry=cano.Retry.fixed(2, 0),
        concurrency=2,
        mode=mode,
    )
    assert wf.run(engine, S.Work) is S.Done
    assert counts == {"loads": 2, "items": 6, "finishes": 2}


@pytest.mark.parametrize("mode", MODES)
def test_a_fatal_item_fails_the_task_at_once(engine: cano.Engine, mode: str) -> None:
    loads: List[int] = []
    finish = Recorder()
    cause = KeyError("missing")

    def process(n: int) -> int:
        if n == 2:
            raise cano.Fatal(cause)
        return n

    wf = workflow().register_batch(
        S.Work,
        load=lambda ctx: loads.append(1) or range(5),
        process_item=process,
        finish=finish,
        retry=cano.Retry.fixed(3, 0),
        mode=mode,
    )
    with pytest.raises(cano.TaskExecutionError) as caught:
        wf.run(engine, S.Work)
    error = caught.value
    assert error.message == "KeyError: 'missing'"
    assert error.task == "Work[2]"
    assert error.cause is None  # never wrapped in RetryExhausted
    assert error.exception is cause
    assert loads == [1]
    assert finish.calls == 0


def test_a_fatal_load_ends_the_retries(engine: cano.Engine) -> None:
    loads: List[int] = []

    def load(ctx: cano.TaskContext) -> Any:
        loads.append(ctx.attempt)
        raise cano.Fatal("no source", code=cano.StoreError.default_code)

    wf = workflow().register_batch(
        S.Work,
        load=load,
        process_item=lambda n: n,
        finish=Recorder(),
        retry=cano.Retry.fixed(3, 0),
        mode="inline",
    )
    with pytest.raises(cano.StoreError, match="no source"):
        wf.run(engine, S.Work)
    assert loads == [1]


@pytest.mark.parametrize("mode", MODES)
def test_an_empty_batch_still_finishes(engine: cano.Engine, mode: str) -> None:
    items: List[Any] = []
    finish = Recorder()
    wf = workflow().register_batch(
        S.Work, load=lambda ctx: [], process_item=items.append, finish=finish, mode=mode
    )
    assert wf.run(engine, S.Work) is S.Done
    assert items == []
    assert finish.calls == 1
    assert finish.last == [] and (finish.last.succeeded, finish.last.failed) == (0, 0)


# --- concurrency, timeouts, cancellation ------------------------------------------------------


@pytest.mark.parametrize("concurrency", [0, 1, 2, 3])
def test_at_most_concurrency_items_run_at_once(concurrency: int) -> None:
    running = 0
    peak = 0
    lock = threading.Lock()

    def process(n: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.003)
        with lock:
            running -= 1
        return n

    finish = Recorder()
    wf = workflow().register_batch(
        S.Work,
        load=lambda ctx: range(12),
        process_item=process,
        finish=finish,
        concurrency=concurrency,
        mode="worker",
    )
    with cano.Engine(workers=4) as engine:  # only the batch's limit holds items back
        assert wf.run(engine, S.Work) is S.Done
    limit = max(concurrency, 1)  # cano clamps 0 to 1
    assert peak == limit
    assert len(finish.last) == 12


def test_the_default_concurrency_is_one() -> None:
    running = 0
    peak = 0
    lock = threading.Lock()

    def process(n: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.002)
        with lock:
            running -= 1
        return n

    wf = workflow().register_batch(
        S.Work, load=lambda ctx: range(6), process_item=process, finish=Recorder()
    )
    with cano.Engine(workers=4) as engine:
        assert wf.run(engine, S.Work) is S.Done
    assert peak == 1


def test_the_attempt_timeout_bounds_the_whole_batch(manual: cano.Engine) -> None:
    finish = Recorder()

    def process(n: int) -> int:
        raise RuntimeError("not yet")

    wf = workflow().register_batch(
        S.Work,
        load=lambda ctx: [1, 2],
        process_item=process,
        finish=finish,
        item_retry=cano.Retry.fixed(5, 0.1),
        retry=cano.Retry.none(),
        attempt_timeout=0.25,
        mode="inline",
    )
    handle = drive(manual, wf.start(manual, S.Work))
    with pytest.raises(cano.CanoTimeoutError, match="task attempt exceeded attempt_timeout"):
        handle.wait(5)
    assert finish.calls == 0
    assert manual.now_ms() == 250


def test_cancelling_a_run_stops_its_items(engine: cano.Engine) -> None:
    started: List[int] = []
    lock = threading.Lock()

    def process(ctx: cano.TaskContext, n: int) -> int:
        with lock:
            started.append(n)
        while not ctx.cancelled:
            time.sleep(0.0005)
        return n

    finish = Recorder()
    wf = workflow().register_batch(
        S.Work,
        load=lambda ctx: range(10),
        process_item=process,
        finish=finish,
        concurrency=2,
        mode="worker",
    )
    handle = wf.start(engine, S.Work)
    wait_for(lambda: len(started) == 2)
    handle.cancel()
    with pytest.raises(cano.CancelledError):
        handle.wait(5)
    assert sorted(started) == [0, 1]
    assert finish.calls == 0


def test_the_batch_state_runs_again_when_the_run_comes_back(engine: cano.Engine) -> None:
    loads: List[int] = []
    finishes: List[int] = []

    def finish(ctx: cano.TaskContext, results: cano.BatchResults) -> S:
        finishes.append(results.succeeded)
        return S.Work if len(finishes) < 3 else S.Done

    wf = workflow().register_batch(
        S.Work,
        load=lambda ctx: loads.append(len(loads)) or range(len(loads)),
        process_item=lambda n: n,
        finish=finish,
        concurrency=2,
        mode="worker",
    )
    assert wf.run(engine, S.Work) is S.Done
    assert loads == [0, 1, 2]
    assert finishes == [1, 2, 3]


# --- results that are not what they should be -------------------------------------------------


def test_load_must_return_an_iterable_of_json_items(engine: cano.Engine) -> None:
    def run(load: Any) -> cano.CanoError:
        wf = workflow().register_batch(
            S.Work,
            load=load,
            process_item=lambda n: n,
            finish=Recorder(),
            retry=cano.Retry.none(),
            mode="inline",
        )
        with pytest.raises(cano.CanoError) as caught:
            wf.run(engine, S.Work)
        return caught.value

    error = run(lambda ctx: None)
    assert isinstance(error, cano.TaskExecutionError)
    assert error.message.startswith("batch load for `Work` returned None; return an iterable")
    assert "returned 5" in run(lambda ctx: 5).message
    assert "returned 'abc'" in run(lambda ctx: "abc").message
    error = run(lambda ctx: [1, object()])
    assert error.message.startswith("serialize item 1 for `Work`: ")
    error = run(lambda ctx: [float("nan")])
    assert error.message.startswith("serialize item 0 for `Work`: ")


def test_an_output_json_cannot_encode_fails_the_item(engine: cano.Engine) -> None:
    finish = Recorder()
    wf = workflow().register_batch(
        S.Work,
        load=lambda ctx: [0, 1],
        process_item=lambda n: object() if n else n,
        finish=finish,
        mode="inline",
    )
    assert wf.run(engine, S.Work) is S.Partial
    assert finish.last[0].value == 0
    message = finish.last[1].error.message  # type: ignore[union-attr]
    assert message.startswith("serialize output of `Work[1]`: ")


def test_finish_must_return_a_state(engine: cano.Engine) -> None:
    wf = workflow().register_batch(
        S.Work,
        load=lambda ctx: [],
        process_item=lambda n: n,
        finish=lambda ctx, results: None,
        retry=cano.Retry.none(),
        mode="inline",
    )
    with pytest.raises(cano.TaskExecutionError, match="batch finish returned None"):
        wf.run(engine, S.Work)
    wf = workflow().register_batch(
        S.Work,
        load=lambda ctx: [],
        process_item=lambda n: n,
        finish=lambda ctx, results: "Done",  # a declared name works as for any task
        mode="inline",
    )
    assert wf.run(engine, S.Work) is S.Done


# --- the class and decorator forms ------------------------------------------------------------


def test_the_class_form_and_the_decorator(engine: cano.Engine) -> None:
    wf = workflow()
    finished: List[List[Any]] = []

    @wf.batch(S.Work, concurrency=2)
    class Prices(cano.BatchTask):
        mode = "worker"
        name = "prices"
        retry = cano.Retry.none()

        def __init__(self) -> None:
            self.factor = 10

        def load(self, ctx: cano.TaskContext) -> Any:
            return [1, 2, 3]

        def process_item(self, item: int) -> int:
            if item == 2:
                raise RuntimeError("two")
            return item * self.factor

        def finish(self, ctx: cano.TaskContext, results: cano.BatchResults) -> S:
            finished.append([r.value if r.ok else r.error.task for r in results])
            return S.Done

    assert isinstance(Prices, type)  # the decorator returns the class unchanged
    assert wf.run(engine, S.Work) is S.Done
    assert finished == [[10, "prices[1]", 30]]


def test_keyword_callables_override_the_task_methods(engine: cano.Engine) -> None:
    class Base(cano.BatchTask):
        mode = "inline"

        def load(self, ctx: cano.TaskContext) -> Any:
            return [1]

        def process_item(self, item: int) -> int:
            return item

        def finish(self, ctx: cano.TaskContext, results: cano.BatchResults) -> S:
            return S.Partial

    wf = workflow().register_batch(S.Work, Base(), finish=lambda ctx, results: S.Done)
    assert wf.run(engine, S.Work) is S.Done


# --- registration errors ----------------------------------------------------------------------


def test_bad_arguments_are_refused_with_messages_naming_the_state() -> None:
    wf = workflow()
    ok: Dict[str, Any] = dict(
        load=lambda ctx: [], process_item=lambda n: n, finish=lambda ctx, r: S.Done
    )

    def refused(exc: type, fragment: str, **changes: Any) -> None:
        arguments = {**ok, **changes}
        with pytest.raises(exc) as caught:
            wf.register_batch(S.Work, **{k: v for k, v in arguments.items() if v is not None})
        assert fragment in str(caught.value), str(caught.value)
        assert "'Work'" in str(caught.value) or "Work" in str(caught.value)

    refused(TypeError, "state 'Work' needs load=", load=None)
    refused(TypeError, "state 'Work' needs process_item=", process_item=None)
    refused(TypeError, "state 'Work' needs finish=", finish=None)
    refused(TypeError, "process_item of the batch task for state 'Work' must be callable",
            process_item=3)
    refused(ValueError, "the batch task for state 'Work' cannot be mode='async'", mode="async")
    refused(ValueError, "the batch task for state 'Work' cannot be mode='async'",
            mode=cano.TaskMode.ASYNC)
    refused(TypeError, "concurrency of the batch task for state 'Work' must be an int",
            concurrency=True)
    refused(TypeError, "must be an int", concurrency=1.5)
    refused(ValueError, "must be in [0, 2**32)", concurrency=-1)
    refused(TypeError, "item_retry of the batch task for state 'Work' must be a cano.Retry",
            item_retry=3)
    refused(ValueError, "unknown task mode", mode="sometimes")
    with pytest.raises(cano.ConfigurationError):
        wf.register_batch(42, **ok)
    with pytest.raises(TypeError, match="needs load="):
        wf.register_batch(S.Work, object())
    # Nothing was registered by the failures.
    with pytest.raises(cano.ConfigurationError, match="no registered state handlers"):
        wf.validate()


def test_a_failed_registration_releases_the_callables() -> None:
    from cano import _callbacks

    wf = workflow()
    before = len(_callbacks.REGISTRY)
    with pytest.raises(cano.ConfigurationError):
        wf.register_batch(
            7, load=lambda ctx: [], process_item=lambda n: n, finish=lambda ctx, r: S.Done
        )
    assert len(_callbacks.REGISTRY) == before
    wf.register_batch(
        S.Work, load=lambda ctx: [], process_item=lambda n: n, finish=lambda ctx, r: S.Done
    )
    assert len(_callbacks.REGISTRY) == before + 1
    wf.close()
    assert len(_callbacks.REGISTRY) == before


def test_a_frozen_workflow_refuses_a_batch(engine: cano.Engine) -> None:
    wf = workflow().register_batch(
        S.Work, load=lambda ctx: [], process_item=lambda n: n, finish=lambda ctx, r: S.Done,
        mode="inline",
    )
    assert wf.run(engine, S.Work) is S.Done
    with pytest.raises(cano.BadStateError):
        wf.register_batch(
            S.Work, load=lambda ctx: [], process_item=lambda n: n, finish=lambda ctx, r: S.Done
        )


def test_item_results_describe_themselves() -> None:
    ok = cano.ItemResult(0, b"1", None)
    empty = cano.ItemResult(1, None, None)
    failed = cano.ItemResult(2, None, cano.TaskExecutionError("no"))
    assert repr(ok) == "ItemResult(0, ok, raw=b'1')"
    assert repr(empty) == "ItemResult(1, ok)"
    assert repr(failed).startswith("ItemResult(2, error=")
    results = cano.BatchResults([ok, empty, failed])
    assert repr(results) == "<cano.BatchResults 3 items: 2 ok, 1 failed>"
    assert results.values() == [1, None]
    assert [e.message for e in results.errors()] == ["no"]
    assert failed.exception is None
