#!/usr/bin/env python3
"""A stepped task and a timer task through the Python binding.

    Import (stepped: one page per step, the cursor says which; page 3 fails once and is
            retried with the same cursor)
      -> Cooldown (timer: waits what its wait callable decides, then runs)
      -> Done

The stepped task's retries are per step, so the flaky page costs one retry of that page only.
The program checks the outcome and exits non-zero on any mismatch.

Run it with the library on the loader's path, e.g. from the repository's root::

    CANO_LIBRARY=build/libcano.so PYTHONPATH=bindings/python/src \\
        python3 examples/python/stepped_timer.py
"""

from __future__ import annotations

import enum
import sys
import time
from typing import Any, List, Tuple

import cano

PAGES = {0: ["a", "b"], 1: ["c"], 2: ["d", "e"], 3: ["f"]}


class Job(enum.IntEnum):
    Import = 0
    Cooldown = 1
    Done = 2


def main() -> int:
    store = cano.MemoryStore()
    workflow = cano.Workflow(Job, cano.Resources().insert_store("store", store),
                             exit_states=[Job.Done])
    steps: List[Tuple[Any, int]] = []
    flaky = {"page 3": True}

    @workflow.stepped(Job.Import, mode="worker", retry=cano.Retry.fixed(2, 0.01))
    def import_pages(ctx: cano.TaskContext) -> Any:
        cursor = ctx.cursor or {"page": 0, "rows": 0}  # None on the first step
        steps.append((cursor["page"], ctx.attempt))
        page = cursor["page"]
        if page == 3 and flaky.pop("page 3", False):
            raise ConnectionError("page 3: connection reset")
        rows = PAGES.get(page)
        if rows is None:  # no more pages
            ctx.store.put("imported", cursor["rows"])
            return Job.Cooldown
        for row in rows:
            ctx.store.append("rows", row)
        return cano.More({"page": page + 1, "rows": cursor["rows"] + len(rows)})

    def cooldown_wait(ctx: cano.TaskContext) -> Any:
        return cano.WaitFor(0.02 * ctx.attempt)  # on the loop thread, before each attempt

    @workflow.timer(Job.Cooldown, wait=cooldown_wait, mode="inline")
    def cooldown(ctx: cano.TaskContext) -> Job:
        ctx.store.put("cooled_at", time.monotonic())
        return Job.Done

    with cano.Engine(workers=2) as engine:
        began = time.monotonic()
        final = workflow.run(engine, Job.Import)

    waited = store.get("cooled_at") - began
    checks = [
        (final is Job.Done, f"final state {final!r}"),
        (store.get("rows") == list("abcdef"), f"rows {store.get('rows')!r}"),
        (store.get("imported") == 6, f"imported {store.get('imported')!r}"),
        (steps == [(0, 1), (1, 1), (2, 1), (3, 1), (3, 2), (4, 1)], f"steps {steps!r}"),
        (waited >= 0.02, f"the timer waited {waited:.3f} s"),
    ]
    failed = [text for ok, text in checks if not ok]
    for text in failed:
        print(f"MISMATCH: {text}", file=sys.stderr)
    if not failed:
        print(f"imported {store.get('imported')} rows in {len(steps)} steps; "
              f"cooled down after {waited * 1000:.0f} ms")
        print("stepped_timer: ok")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
