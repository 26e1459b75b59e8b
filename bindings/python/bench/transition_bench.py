#!/usr/bin/env python3
"""Per-transition cost of Python tasks: a 1,000-state linear workflow.

States S0 .. S999; the task of S(i) is a Python function returning S(i+1); S999 is the exit
state, so one run makes 999 transitions. Each mode (inline: the body runs on the loop thread;
worker: on a worker thread) is measured over several blocking runs (``workflow.run``), after a
warm-up run, and reported as the median nanoseconds per transition, as JSON::

    CANO_LIBRARY=build/libcano.so PYTHONPATH=bindings/python/src \\
        python3 bindings/python/bench/transition_bench.py [--runs 9] [--states 1000]

The C equivalent (bench/transition_bench.cpp) measures the engine alone; the difference is the
binding's cost: the ctypes callback (GIL, argument conversion), the context object and one
ctypes call to record the next state.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from typing import Any, Callable, Dict, List

import cano


def linear_workflow(states: int, mode: str) -> cano.Workflow:
    workflow = cano.Workflow([f"S{i}" for i in range(states)])
    members = list(workflow.states)
    for current, following in zip(members, members[1:]):
        workflow.register(current, _returning(following), mode=mode, retry=cano.Retry.none())
    workflow.add_exit_state(members[-1])
    return workflow


def _returning(state: Any) -> Callable[[cano.TaskContext], Any]:
    def task(ctx: cano.TaskContext) -> Any:
        return state

    return task


def measure(engine: cano.Engine, states: int, mode: str, runs: int) -> Dict[str, Any]:
    workflow = linear_workflow(states, mode)
    first, last = list(workflow.states)[0], list(workflow.states)[-1]
    transitions = states - 1
    assert workflow.run(engine, first) is last  # warm-up (and pins the engine's threads)
    samples: List[float] = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        final = workflow.run(engine, first)
        elapsed = time.perf_counter_ns() - start
        assert final is last
        samples.append(elapsed / transitions)
    workflow.close()
    return {
        "mode": mode,
        "transitions_per_run": transitions,
        "runs": runs,
        "ns_per_transition_median": round(statistics.median(samples), 1),
        "ns_per_transition_min": round(min(samples), 1),
        "ns_per_transition_max": round(max(samples), 1),
    }


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--states", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--modes", default="inline,worker")
    args = parser.parse_args(argv)
    results = []
    with cano.Engine(workers=args.workers) as engine:
        for mode in args.modes.split(","):
            results.append(measure(engine, args.states, mode, args.runs))
    print(
        json.dumps(
            {
                "benchmark": "python.transition",
                "python": platform.python_version(),
                "implementation": platform.python_implementation(),
                "libcano": cano.library_version(),
                "workers": args.workers,
                "results": results,
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
