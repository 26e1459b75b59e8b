#!/usr/bin/env python3
"""A batch task through the Python binding: load, process each item, finish.

The Import state is a batch task named "import", a cano.BatchTask: ``load`` returns the order
ids 1..8, ``process_item`` prices one order (id * 10; order 5 is out of stock and raises, is
retried once and fails again), at most 3 orders at a time, and ``finish`` gets every outcome in
input order: it totals the priced orders and moves to Review when some failed, to Done
otherwise. The program checks the total (10+20+30+40+60+70+80 = 310), the failure (item 4,
task "import[4]", after 2 attempts) and the final state, and exits non-zero on any mismatch.

Run it with the library on the loader's path, e.g. from the repository's root::

    CANO_LIBRARY=build/libcano.so PYTHONPATH=bindings/python/src \\
        python3 examples/python/batch.py
"""

from __future__ import annotations

import enum
import sys
from typing import List

import cano


class Step(enum.IntEnum):
    Import = 0
    Review = 1
    Done = 2


class Import(cano.BatchTask):
    name = "import"
    concurrency = 3
    item_retry = cano.Retry.fixed(1)  # one retry, no delay

    def __init__(self) -> None:
        # What finish found, for main to check.
        self.total = 0
        self.errors: List[cano.CanoError] = []

    def load(self, ctx: cano.TaskContext) -> List[int]:
        return list(range(1, 9))

    def process_item(self, order_id: int) -> int:  # on a worker, at most three at a time
        if order_id == 5:
            raise LookupError("order 5 is out of stock")
        return order_id * 10

    def finish(self, ctx: cano.TaskContext, results: cano.BatchResults) -> Step:
        # results: every item's outcome, in input order.
        self.total = sum(results.values())
        self.errors = results.errors()
        return Step.Review if self.errors else Step.Done


def main() -> int:
    workflow = cano.Workflow(Step, exit_states=[Step.Review, Step.Done])
    task = Import()
    workflow.register_batch(Step.Import, task)

    with cano.Engine() as engine:
        final = workflow.run(engine, Step.Import)

    total, errors = task.total, task.errors
    print(f"priced total: {total}, failed orders: {len(errors)}")
    for error in errors:
        print(f"failure: {error}")
    print(f"final state: {final.name}")
    checks = [
        (final is Step.Review, f"final state {final!r}"),
        (total == 310, f"total {total}"),
        (len(errors) == 1, f"errors {errors!r}"),
        (all(e.task == "import[4]" and e.attempt == 2 and "order 5 is out of stock" in str(e)
             for e in errors), f"errors {[str(e) for e in errors]!r}"),
    ]
    mismatches = [text for ok, text in checks if not ok]
    for text in mismatches:
        print(f"MISMATCH: {text}", file=sys.stderr)
    if not mismatches:
        print("batch: ok")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
