"""Resources: lookups by key and type, the lifecycle around runs, health, ownership."""

from __future__ import annotations

import gc
import logging
import threading
import weakref
from typing import Any, List, Optional

import pytest
from conftest import Step, wait_for

import cano


class Journal:
    def __init__(self) -> None:
        self.events: List[str] = []
        self.threads: List[int] = []
        self.lock = threading.Lock()

    def add(self, event: str) -> None:
        with self.lock:
            self.events.append(event)
            self.threads.append(threading.get_ident())


class Tracked:
    """A resource with every hook; ``fail`` names the hook that raises."""

    def __init__(self, name: str, journal: Journal, fail: Optional[str] = None) -> None:
        self.name = name
        self.journal = journal
        self.fail = fail

    def setup(self) -> None:
        self.journal.add(f"setup {self.name}")
        if self.fail == "setup":
            raise ConnectionError(f"{self.name} is down")

    def teardown(self) -> None:
        self.journal.add(f"teardown {self.name}")
        if self.fail == "teardown":
            raise cano.GenericError(f"{self.name} would not close")


class Config:
    def __init__(self, batch_size: int) -> None:
        self.batch_size = batch_size


class SubConfig(Config):
    pass


def workflow_over(resources: cano.Resources, task: Any = None) -> cano.Workflow:
    workflow = cano.Workflow(Step, resources, exit_states=[Step.Done])
    workflow.register(
        Step.Fetch, task or (lambda ctx: Step.Done), mode="inline", retry=cano.Retry.none()
    )
    return workflow


def test_get_by_key_and_type() -> None:
    config = Config(3)
    store = cano.MemoryStore()
    resources = cano.Resources().insert("config", config).insert("store", store)
    assert len(resources) == 2
    assert "config" in resources and "nope" not in resources and 3 not in resources
    assert resources.keys() == ["config", "store"] == list(resources)
    assert resources.get("config", Config) is config
    assert resources.get("config") is config
    assert resources.get("config", cano.type_tag(Config)) is config
    assert cano.type_tag(Config) == f"{__name__}.Config"
    assert resources.get("store", cano.MemoryStore) is store
    assert resources.get_store("store") is store
    assert resources.get("store") is store
    assert cano.type_tag(cano.MemoryStore) == "cano.MemoryStore"
    assert "config" in repr(resources)


def test_lookup_errors_name_the_key_and_types() -> None:
    resources = cano.Resources().insert("config", SubConfig(1))
    with pytest.raises(cano.ResourceNotFoundError) as caught:
        resources.get("missing", Config)
    assert caught.value.message == (
        f"no resource found for the given key (requested type: {__name__}.Config) (key 'missing')"
    )
    assert caught.value.category == "resource_not_found"
    with pytest.raises(cano.ResourceTypeMismatchError) as caught2:
        resources.get("config", Config)  # exact types: a subclass does not match
    assert caught2.value.message == (
        f"resource found but the requested type {__name__}.Config does not match the stored "
        f"type (key 'config', stored type {__name__}.SubConfig)"
    )
    with pytest.raises(cano.ResourceTypeMismatchError):
        resources.get_store("config")
    with pytest.raises(cano.ResourceNotFoundError):
        resources.get("missing")


def test_insert_errors() -> None:
    resources = cano.Resources().insert("a", Config(1))
    with pytest.raises(cano.ResourceDuplicateKeyError) as caught:
        resources.insert("a", Config(2))
    assert "duplicate resource key inserted into Resources" in caught.value.message
    assert "'a'" in caught.value.message
    with pytest.raises(cano.InvalidArgumentError):
        resources.insert("", Config(1))
    with pytest.raises(cano.InvalidArgumentError, match="reserved"):
        resources.insert("fake", Config(1), type="cano.MemoryStore")
    with pytest.raises(TypeError):
        resources.insert("x", Config(1), type=3)  # type: ignore[arg-type]
    assert len(resources) == 1


def test_a_custom_type_tag() -> None:
    resources = cano.Resources().insert("db", {"dsn": "x"}, type="app.Database")
    assert resources.get("db", "app.Database") == {"dsn": "x"}
    with pytest.raises(cano.ResourceTypeMismatchError):
        resources.get("db", dict)


def test_tasks_see_the_resources(engine: cano.Engine) -> None:
    seen: List[Any] = []
    config = Config(3)

    def task(ctx: cano.TaskContext) -> Step:
        seen.append(ctx.resources.get("config", Config))
        seen.append(ctx.store)
        return Step.Done

    store = cano.MemoryStore()
    workflow = workflow_over(cano.Resources().insert("config", config).insert("store", store), task)
    assert workflow.run(engine, Step.Fetch) is Step.Done
    assert seen == [config, store]


def test_lifecycle_order_around_each_run(engine: cano.Engine) -> None:
    journal = Journal()
    resources = cano.Resources()
    for name in "abc":
        resources.insert(name, Tracked(name, journal))
    resources.insert("plain", Config(1))  # no hooks: never called

    def task(ctx: cano.TaskContext) -> Step:
        journal.add("task")
        return Step.Done

    workflow = workflow_over(resources, task)
    workflow.run(engine, Step.Fetch)
    assert journal.events == [
        "setup a",
        "setup b",
        "setup c",
        "task",
        "teardown c",
        "teardown b",
        "teardown a",
    ]
    # Hooks run on a worker thread, not on the caller's.
    assert threading.get_ident() not in journal.threads
    workflow.run(engine, Step.Fetch)  # runs one after another: set up and torn down each time
    assert journal.events.count("setup a") == 2 and journal.events.count("teardown a") == 2


def test_teardown_runs_after_a_failed_task(engine: cano.Engine) -> None:
    journal = Journal()
    workflow = workflow_over(cano.Resources().insert("a", Tracked("a", journal)), lambda ctx: 1 / 0)
    with pytest.raises(cano.TaskExecutionError):
        workflow.run(engine, Step.Fetch)
    assert journal.events == ["setup a", "teardown a"]


def test_a_failing_setup_rolls_back_and_fails_the_run(engine: cano.Engine) -> None:
    journal = Journal()
    ran: List[int] = []
    resources = (
        cano.Resources()
        .insert("a", Tracked("a", journal))
        .insert("b", Tracked("b", journal, fail="setup"))
        .insert("c", Tracked("c", journal))
    )
    workflow = workflow_over(resources, lambda ctx: ran.append(1) or Step.Done)
    with pytest.raises(cano.GenericError) as caught:
        workflow.run(engine, Step.Fetch)
    assert caught.value.message == "setup of resource 'b' failed: ConnectionError: b is down"
    assert caught.value.category == "generic"
    assert journal.events == ["setup a", "setup b", "teardown a"]
    assert ran == []


def test_a_setup_raising_a_cano_error_keeps_its_code(engine: cano.Engine) -> None:
    class Picky:
        def setup(self) -> None:
            raise cano.ConfigurationError("missing dsn")

    workflow = workflow_over(cano.Resources().insert("db", Picky()))
    with pytest.raises(cano.ConfigurationError) as caught:
        workflow.run(engine, Step.Fetch)
    assert caught.value.message == "setup of resource 'db' failed: missing dsn"


def test_failing_teardowns_are_logged_and_never_stop_the_others(
    engine: cano.Engine, caplog: pytest.LogCaptureFixture
) -> None:
    journal = Journal()
    resources = (
        cano.Resources()
        .insert("a", Tracked("a", journal))
        .insert("b", Tracked("b", journal, fail="teardown"))
        .insert("c", Tracked("c", journal))
    )
    cano.log.route_to_logging()
    try:
        with caplog.at_level(logging.WARNING, logger="cano"):
            assert workflow_over(resources).run(engine, Step.Fetch) is Step.Done
            wait_for(lambda: caplog.records)
    finally:
        cano.log.reset_handler()
    assert journal.events == [
        "setup a",
        "setup b",
        "setup c",
        "teardown c",
        "teardown b",
        "teardown a",
    ]
    record = caplog.records[0]
    assert record.levelno == logging.WARNING
    assert "resource teardown error" in record.getMessage()
    assert "b would not close" in record.getMessage()


def test_a_used_set_is_frozen(engine: cano.Engine) -> None:
    resources = cano.Resources()
    workflow_over(resources).run(engine, Step.Fetch)
    with pytest.raises(cano.BadStateError):
        resources.insert("late", Config(1))


def test_health_probes() -> None:
    class Probe:
        def __init__(self, result: Any) -> None:
            self.result = result

        def health(self) -> Any:
            if isinstance(self.result, Exception):
                raise self.result
            return self.result

    resources = (
        cano.Resources()
        .insert("quiet", Config(1))  # no probe: healthy
        .insert("ok", Probe(cano.HealthStatus.healthy()))
        .insert("slow", Probe(cano.HealthStatus.degraded("p99 high")))
        .insert("down", Probe(cano.HealthStatus.unhealthy("no route")))
        .insert("down2", Probe((cano.HealthLevel.UNHEALTHY, "second")))
        .insert("bool", Probe(False))
        .insert("broken", Probe(OSError("probe crashed")))
    )
    assert resources.health("quiet") == cano.HealthStatus(cano.HealthLevel.HEALTHY, None)
    assert resources.health("ok").is_healthy
    assert resources.health("slow") == cano.HealthStatus.degraded("p99 high")
    assert str(resources.health("slow")) == "Degraded(p99 high)"
    assert resources.health("down") == cano.HealthStatus.unhealthy("no route")
    assert resources.health("bool") == cano.HealthStatus(cano.HealthLevel.UNHEALTHY)
    assert resources.health("broken") == cano.HealthStatus.unhealthy("OSError: probe crashed")
    with pytest.raises(cano.ResourceNotFoundError):
        resources.health("missing")
    # The first worst one, in insertion order.
    assert resources.aggregate_health() == (cano.HealthStatus.unhealthy("no route"), "down")
    everything = resources.check_all_health()
    assert list(everything) == ["quiet", "ok", "slow", "down", "down2", "bool", "broken"]
    assert everything["slow"] == cano.HealthStatus.degraded("p99 high")
    assert everything["quiet"] == cano.HealthStatus.healthy()
    assert cano.Resources().aggregate_health() == (cano.HealthStatus.healthy(), None)
    assert cano.Resources().check_all_health() == {}


def test_health_probes_from_many_threads() -> None:
    class Counter:
        def __init__(self) -> None:
            self.n = 0

        def health(self) -> cano.HealthStatus:
            self.n += 1
            return cano.HealthStatus.degraded(f"probe {self.n}")

    resources = cano.Resources().insert("c", Counter())
    results: List[str] = []

    def probe() -> None:
        for _ in range(200):
            status = resources.health("c")
            results.append(status.message or "")

    threads = [threading.Thread(target=probe) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 800 and all(r.startswith("probe ") for r in results)


def test_inserted_objects_live_as_long_as_the_set() -> None:
    config = Config(1)
    ref = weakref.ref(config)
    resources = cano.Resources().insert("config", config)
    del config
    gc.collect()
    assert ref() is not None
    workflow = workflow_over(resources)  # the workflow retains the set
    resources.close()
    resources.close()  # idempotent
    gc.collect()
    assert ref() is not None
    with pytest.raises(cano.BadStateError, match="closed"):
        len(resources)
    workflow.close()
    gc.collect()
    assert ref() is None


def test_a_failed_insert_releases_the_object() -> None:
    resources = cano.Resources().insert("a", Config(1))
    duplicate = Config(2)
    ref = weakref.ref(duplicate)
    with pytest.raises(cano.ResourceDuplicateKeyError):
        resources.insert("a", duplicate)
    del duplicate
    gc.collect()
    assert ref() is None


def test_a_store_inserted_through_the_c_api_is_viewed() -> None:
    import ctypes

    from cano import _capi as C

    out = ctypes.c_void_p()
    assert C.cano_store_create(ctypes.byref(out), None) == 0
    resources = cano.Resources()
    assert C.cano_resources_insert_store(resources._handle, b"raw", out.value, None) == 0
    C.cano_store_destroy(out.value)  # the set retains it
    view = resources.get_store("raw")
    view.put("k", [1])
    assert view.get("k") == [1]
    assert resources.get_store("raw") is view
    view.close()  # a view never frees the store
    assert resources.get_store("raw").get("k") == [1]


def test_a_closed_store_object_is_still_reachable_through_the_set(engine: cano.Engine) -> None:
    store = cano.MemoryStore()
    resources = cano.Resources().insert("store", store)
    store.close()  # the set retains the store itself

    def task(ctx: cano.TaskContext) -> Step:
        ctx.store.put("after", True)
        return Step.Done

    assert workflow_over(resources, task).run(engine, Step.Fetch) is Step.Done
    assert resources.get_store("store").get("after") is True


def test_a_closed_resources_object_is_still_reachable_through_the_workflow(
    engine: cano.Engine,
) -> None:
    config = Config(4)
    store = cano.MemoryStore()
    resources = cano.Resources().insert("config", config).insert("store", store)
    seen: List[Any] = []

    def task(ctx: cano.TaskContext) -> Step:
        seen.append(ctx.resources.get("config", Config))
        seen.append(ctx.resources.get("config"))  # the tags survive in the view
        ctx.store.put("n", 1)
        return Step.Done

    workflow = workflow_over(resources, task)
    resources.close()  # the workflow retains the set
    assert workflow.run(engine, Step.Fetch) is Step.Done
    assert seen == [config, config]
    view = workflow.resources
    assert view is not resources
    assert len(view) == 2 and view.get("config", Config) is config
    assert view.get_store("store").get("n") == 1
    view.close()  # a view never frees the set
    assert workflow.run(engine, Step.Fetch) is Step.Done
