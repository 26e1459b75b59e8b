"""Shared fixtures: engines (real and manual clock), a state enum, and a clock driver."""

from __future__ import annotations

import enum
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

import cano

ROOT = Path(__file__).resolve().parents[3]
SRC = Path(__file__).resolve().parents[1] / "src"


class Step(enum.IntEnum):
    Fetch = 0
    Process = 1
    Done = 2
    Failed = 3


@pytest.fixture
def engine() -> Iterator[cano.Engine]:
    """A real-clock engine with two workers."""
    with cano.Engine(workers=2) as created:
        yield created


@pytest.fixture
def manual() -> Iterator[cano.Engine]:
    """A manual-clock engine (start 0, seed 1, two workers)."""
    with cano.Engine(workers=2, clock="manual", seed=1) as created:
        yield created


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Polls ``predicate`` until it returns something truthy; fails the test on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail("timed out waiting for a condition")
        time.sleep(0.001)


def drive(engine: cano.Engine, handle: cano.RunHandle, timeout: float = 10.0) -> Any:
    """Advances a manual clock from timer to timer until the run ends; returns its handle.

    Tests that use it keep their tasks inline or async, so every step happens on the loop and
    a 2 ms settle is enough before looking for the next timer.
    """
    deadline = time.monotonic() + timeout
    while not handle.done():
        if time.monotonic() > deadline:
            pytest.fail("the run did not finish")
        time.sleep(0.002)
        if handle.done():
            break
        next_deadline = engine.next_deadline_ms()
        if next_deadline is not None:
            engine.advance_ms(max(0, next_deadline - engine.now_ms()))
    return handle


def subprocess_env() -> dict:
    """The environment for a child interpreter that imports this checkout's package."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    env["CANO_LIBRARY"] = cano.library_path()
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


PYTHON = sys.executable
