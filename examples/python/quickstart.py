#!/usr/bin/env python3
"""cano's Quick Start through the Python binding.

Three states, Fetch -> Process -> Done. A typed configuration object (FetchConfig with
batch_size = 3) and a MemoryStore are shared with the tasks as resources. Fetch stores the
numbers 1..batch_size under "data"; Process sums them into "sum". The program checks that the
run ends in Done with sum 6, prints the state trail and the result, and exits non-zero on any
mismatch.

Run it with the library on the loader's path, e.g. from the repository's root::

    CANO_LIBRARY=build/libcano.so PYTHONPATH=bindings/python/src \
        python3 examples/python/quickstart.py
"""

from __future__ import annotations

import enum
import sys
from dataclasses import dataclass

import cano


class Step(enum.IntEnum):
    Fetch = 0
    Process = 1
    Done = 2


@dataclass
class FetchConfig:
    """A typed configuration resource; lookups name its class."""

    batch_size: int


def fetch(ctx: cano.TaskContext) -> Step:
    config = ctx.resources.get("config", FetchConfig)
    store = ctx.resources.get("store", cano.MemoryStore)
    store.append("trail", ctx.state.name)
    # Produce batch_size items and store them for the next task.
    store.put("data", list(range(1, config.batch_size + 1)))
    return Step.Process


def process(ctx: cano.TaskContext) -> Step:
    store = ctx.store  # shortcut for ctx.resources.get_store("store")
    store.append("trail", ctx.state.name)
    data = store.get("data")
    store.put("sum", sum(data))
    return Step.Done


def main() -> int:
    store = cano.MemoryStore()
    resources = cano.Resources().insert("config", FetchConfig(batch_size=3)).insert("store", store)
    # As in the seed, the tasks get cano's default TaskConfig (worker threads, 3 retries).
    workflow = (
        cano.Workflow(Step, resources)
        .register(Step.Fetch, fetch)
        .register(Step.Process, process)
        .add_exit_state(Step.Done)
    )

    with cano.Engine() as engine:
        final_state = workflow.run(engine, Step.Fetch)  # orchestrate()

    failures = 0
    if final_state is not Step.Done:
        print(f"quickstart: final state {final_state!r}, expected Done", file=sys.stderr)
        failures += 1
    # The sum of 1..=3 is 6.
    total = store.get("sum")
    if total != 6:
        print(f"quickstart: sum is {total}, expected 6", file=sys.stderr)
        failures += 1
    print("trail: " + " -> ".join(store.get("trail") + [final_state.name]))
    print(f"sum: {total}")
    if failures == 0:
        print("quickstart: ok")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
