"""The library's log: levels, handlers, routing into logging."""

from __future__ import annotations

import gc
import logging
import threading
import weakref
from typing import Iterator, List, Tuple

import pytest
from conftest import Step, drive, wait_for

import cano


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    level = cano.log.get_level()
    yield
    cano.log.reset_handler()
    cano.log.set_level(level)


def retrying_run(engine: cano.Engine) -> None:
    workflow = cano.Workflow(Step, exit_states=[Step.Done])
    workflow.register(
        Step.Fetch,
        lambda ctx: 1 / 0 if ctx.attempt == 1 else Step.Done,
        mode="inline",
        retry=cano.Retry.fixed(1, 0.01),
        name="flaky",
    )
    drive(engine, workflow.start(engine, Step.Fetch)).wait(10)


def test_levels() -> None:
    assert cano.log.get_level() is cano.LogLevel.WARN  # the library's default
    cano.log.set_level(cano.LogLevel.DEBUG)
    assert cano.log.get_level() is cano.LogLevel.DEBUG
    cano.log.set_level("warning")
    assert cano.log.get_level() is cano.LogLevel.WARN
    cano.log.set_level("off")
    assert cano.log.get_level() is cano.LogLevel.OFF
    cano.log.set_level(0)
    assert cano.log.get_level() is cano.LogLevel.TRACE
    with pytest.raises(cano.InvalidArgumentError):
        cano.log.set_level(99)
    with pytest.raises(ValueError):
        cano.log.set_level("loud")
    assert cano.LogLevel.WARN.logging_level == logging.WARNING
    assert cano.LogLevel.TRACE.logging_level == 5


def test_a_handler_receives_records_from_engine_threads(manual: cano.Engine) -> None:
    records: List[Tuple[cano.LogLevel, str, int]] = []
    cano.log.set_handler(
        lambda level, message: records.append((level, message, threading.get_ident()))
    )
    cano.log.set_level(cano.LogLevel.DEBUG)
    retrying_run(manual)
    wait_for(lambda: records)
    level, message, thread = records[0]
    assert level is cano.LogLevel.DEBUG
    assert message.startswith(
        "task 'flaky' attempt 1 failed (Task execution error: "
        "ZeroDivisionError: division by zero); retrying in 10 ms"
    )
    assert thread != threading.get_ident()  # the loop thread logged it


def test_levels_filter_records(manual: cano.Engine) -> None:
    records: List[str] = []
    cano.log.set_handler(lambda level, message: records.append(message))
    cano.log.set_level(cano.LogLevel.INFO)
    retrying_run(manual)
    assert records == []


def test_route_to_logging(manual: cano.Engine, caplog: pytest.LogCaptureFixture) -> None:
    logger = cano.log.route_to_logging()
    assert logger is logging.getLogger("cano")
    cano.log.set_level("debug")
    with caplog.at_level(logging.DEBUG, logger="cano"):
        retrying_run(manual)
        wait_for(lambda: caplog.records)
    assert caplog.records[0].name == "cano"
    assert caplog.records[0].levelno == logging.DEBUG
    assert "attempt 1 failed" in caplog.records[0].getMessage()
    # Any logger, by name or object.
    other = logging.getLogger("app.engine")
    cano.log.set_handler(other)
    with caplog.at_level(logging.DEBUG, logger="app.engine"):
        retrying_run(manual)
        wait_for(lambda: any(r.name == "app.engine" for r in caplog.records))


def test_handler_exceptions_are_swallowed(manual: cano.Engine) -> None:
    calls: List[int] = []

    def broken(level: cano.LogLevel, message: str) -> None:
        calls.append(1)
        raise RuntimeError("handler broke")

    cano.log.set_handler(broken)
    cano.log.set_level("debug")
    retrying_run(manual)  # the run is unaffected
    assert calls


def test_replaced_handlers_are_released() -> None:
    class Handler:
        def __call__(self, level: cano.LogLevel, message: str) -> None:
            pass

    handler = Handler()
    ref = weakref.ref(handler)
    cano.log.set_handler(handler)
    del handler
    gc.collect()
    assert ref() is not None  # the library holds it
    cano.log.reset_handler()
    gc.collect()
    assert ref() is None
    with pytest.raises(TypeError):
        cano.log.set_handler(42)  # type: ignore[arg-type]
