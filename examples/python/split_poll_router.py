#!/usr/bin/env python3
"""Split/join, a poll task and a router through the Python binding.

    Quote (split: three suppliers asked in parallel, Join.quorum(2))
      -> Pick (join: reads every branch's quote, keeps the cheapest)
      -> Route (router: big orders need approval)
      -> AwaitApproval (poll: "not yet" twice, then approved) -> Done

One supplier is down (its branch raises), which a quorum of two tolerates; the join task sees
the failure next to the two quotes. The program checks the outcome and exits non-zero on any
mismatch.

Run it with the library on the loader's path, e.g. from the repository's root::

    CANO_LIBRARY=build/libcano.so PYTHONPATH=bindings/python/src \\
        python3 examples/python/split_poll_router.py
"""

from __future__ import annotations

import enum
import sys
import threading
from typing import Any, List

import cano


class Order(enum.IntEnum):
    Quote = 0
    Pick = 1
    Route = 2
    AwaitApproval = 3
    Done = 4


def supplier(name: str, price: float) -> Any:
    """A branch body: returns its quote (any JSON value becomes the branch's value)."""

    def ask(ctx: cano.TaskContext) -> Any:
        return {"supplier": name, "price": price}

    return ask


def supplier_down(ctx: cano.TaskContext) -> Any:
    raise ConnectionError("supplier C is down")


def main() -> int:
    store = cano.MemoryStore()
    workflow = cano.Workflow(
        Order, cano.Resources().insert_store("store", store), exit_states=[Order.Done]
    )

    workflow.register_split(
        Order.Quote,
        [
            cano.Branch(supplier("A", 12.5), mode="worker", retry=cano.Retry.none()),
            cano.Branch(supplier("B", 9.75), mode="worker", retry=cano.Retry.none()),
            cano.Branch(supplier_down, mode="worker", retry=cano.Retry.fixed(1, 0.01)),
        ],
        join=cano.Join.quorum(2),
        join_state=Order.Pick,
        timeout=5.0,
    )

    @workflow.task(Order.Pick, mode="inline", retry=cano.Retry.none())
    def pick(ctx: cano.TaskContext) -> Order:
        result = ctx.split_result
        quotes = [branch.json() for branch in result if branch.succeeded]
        failures = [branch.error.message for branch in result if branch.failed]
        best = min(quotes, key=lambda quote: quote["price"])
        ctx.store.put("best", best)
        ctx.store.put("failures", failures)
        print(f"quotes: {quotes}; failed: {failures}; best: {best}")
        return Order.Route

    @workflow.router(Order.Route, mode="inline", retry=cano.Retry.none())
    def route(ctx: cano.TaskContext) -> Order:
        return Order.AwaitApproval if ctx.store.get("best")["price"] > 5 else Order.Done

    polls: List[int] = []
    lock = threading.Lock()

    @workflow.poll(Order.AwaitApproval, mode="inline", attempt_timeout=10.0)
    def await_approval(ctx: cano.TaskContext) -> Any:
        with lock:
            polls.append(ctx.attempt)
            count = len(polls)
        if count < 3:
            return cano.Pending(0.02)  # not yet: ask again in 20 ms
        ctx.store.put("approved", True)
        return Order.Done

    with cano.Engine(workers=3) as engine:
        final = workflow.run(engine, Order.Quote)

    best = store.get("best")
    failures = store.get("failures")
    expected_failure = (
        "Task failed after 2 attempt(s): Task execution error: ConnectionError: supplier C is down"
    )
    checks = [
        (final is Order.Done, f"final state {final!r}"),
        (best == {"supplier": "B", "price": 9.75}, f"best quote {best!r}"),
        (failures == [expected_failure], f"failures {failures!r}"),
        (polls == [1, 1, 1], f"poll calls {polls!r} (one attempt, three calls)"),
        (store.get("approved") is True, "approval"),
    ]
    failed = [text for ok, text in checks if not ok]
    for text in failed:
        print(f"MISMATCH: {text}", file=sys.stderr)
    if not failed:
        print(f"ok: {final.name}, approved after {len(polls)} polls")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
