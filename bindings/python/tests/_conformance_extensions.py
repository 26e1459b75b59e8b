"""The Python runner's own scenarios of the format extension (task kinds, splits, stepped and
timer tasks, batch tasks, cancel notices), so that test_conformance.py checks the runner
independently of which scenarios the shared suite holds.
"""

from __future__ import annotations

from typing import Any, Dict, List

EXTENSION_SCENARIOS: List[Dict[str, Any]] = [
    {
        # Split values, a fatal branch, a cancelled one; split_seen and the F[i] counts.
        "name": "split",
        "states": ["Start", "Fan", "Join", "Done"],
        "initial": "Start",
        "exit_states": ["Done"],
        "tasks": {
            "Start": {"steps": [{"do": "goto", "state": "Fan", "read_split": True}]},
            "Fan": {
                "split": {
                    "strategy": "partial_timeout",
                    "timeout_ms": 100,
                    "join_state": "Join",
                    "branches": [
                        {"steps": [{"do": "succeed", "value": "a"}]},
                        {
                            "retry": {"kind": "fixed", "max_retries": 2, "delay_ms": 10},
                            "steps": [{"do": "fail", "fatal": True, "message": "panic"}],
                        },
                        {"mode": "async", "steps": [{"do": "block"}]},
                        {"mode": "async", "steps": [{"do": "succeed"}]},
                    ],
                }
            },
            "Join": {"steps": [{"do": "goto", "state": "Done", "read_split": True}]},
        },
        "expect": {
            "status": "OK",
            "trail": ["Start", "Fan", "Join"],
            "attempts": {"Fan[0]": 1, "Fan[1]": 1, "Fan[2]": 1, "Fan[3]": 1, "Fan": 0},
            "attempt_times_ms": {"Join": [100]},
            "split_seen": [None, ["succeeded:a", "failed:panic", "cancelled", "succeeded"]],
        },
    },
    {
        # A poll task (re-polls, RetryOnError), a router with retries, the poll trail rule.
        "name": "poll_router",
        "states": ["Wait", "Route", "Done"],
        "initial": "Wait",
        "exit_states": ["Done"],
        "tasks": {
            "Wait": {
                "kind": "poll",
                "poll": {"policy": "retry_on_error", "max_errors": 1},
                "steps": [
                    {"do": "pending", "delay_ms": 30},
                    {"do": "fail"},
                    {"do": "goto", "state": "Route"},
                    {"do": "pending", "delay_ms": 5},
                    {"do": "goto", "state": "Done"},
                ],
            },
            "Route": {
                "kind": "router",
                "retry": {"kind": "fixed", "max_retries": 1, "delay_ms": 10},
                "steps": [{"do": "fail"}, {"do": "goto", "state": "Wait"}],
            },
        },
        "expect": {
            "status": "OK",
            "trail": ["Wait", "Route", "Wait"],
            "attempt_times_ms": {"Wait": [0, 30, 30, 40, 45], "Route": [30, 40]},
        },
    },
    {
        # A fatal failure of an async task: one attempt, unwrapped, its own code.
        "name": "fatal",
        "states": ["A", "Done"],
        "initial": "A",
        "exit_states": ["Done"],
        "tasks": {
            "A": {
                "mode": "async",
                "retry": {"kind": "fixed", "max_retries": 3, "delay_ms": 10},
                "steps": [{"do": "fail", "code": "STORE", "message": "boom", "fatal": True}],
            }
        },
        "expect": {
            "status": "STORE",
            "message": "boom",
            "cause_message": None,
            "error_attempt": 1,
            "attempts": {"A": 1},
        },
    },
]


EXTENSION_SCENARIOS += [
    {
        # A stepped task retried per step with its cursor; a plain task whose retry restarts
        # its loop; the trail counts each entry once.
        "name": "stepped",
        "states": ["Steps", "Loop", "Done"],
        "initial": "Steps",
        "exit_states": ["Done"],
        "tasks": {
            "Steps": {
                "kind": "stepped",
                "mode": "worker",
                "retry": {"kind": "fixed", "max_retries": 1, "delay_ms": 10},
                "steps": [
                    {"do": "more", "cursor": {"page": 1}},
                    {"do": "fail"},
                    {"do": "more", "cursor": [2, "two"]},
                    {"do": "goto", "state": "Loop"},
                ],
            },
            "Loop": {
                "mode": "async",
                "retry": {"kind": "fixed", "max_retries": 1, "delay_ms": 5},
                "steps": [
                    {"do": "more", "cursor": 1},
                    {"do": "fail", "message": "lost"},
                    {"do": "more", "cursor": True},
                    {"do": "goto", "state": "Done"},
                ],
            },
        },
        "expect": {
            "status": "OK",
            "trail": ["Steps", "Loop"],
            "attempts": {"Steps": 4, "Loop": 4},
            "attempt_times_ms": {"Steps": [0, 0, 10, 10], "Loop": [10, 10, 15, 15]},
            "cursors": {
                "Steps": [None, {"page": 1}, {"page": 1}, [2, "two"]],
                "Loop": [None, 1, None, True],
            },
        },
    },
    {
        # Timer waits: a wait list (for, a failure, until), then a fixed delay.
        "name": "timer",
        "states": ["Wait", "Later", "Done"],
        "initial": "Wait",
        "exit_states": ["Done"],
        "tasks": {
            "Wait": {
                "kind": "timer",
                "timer": {"wait": [{"for": 20}, {"fail": "no clock"}, {"until": 100}]},
                "retry": {"kind": "fixed", "max_retries": 2, "delay_ms": 5},
                "steps": [{"do": "fail"}, {"do": "goto", "state": "Later"}],
            },
            "Later": {
                "kind": "timer",
                "mode": "worker",
                "timer": {"delay_ms": 30},
                "steps": [{"do": "goto", "state": "Done"}],
            },
        },
        "expect": {
            "status": "OK",
            "trail": ["Wait", "Later"],
            "attempts": {"Wait": 2, "Later": 1},
            "attempt_times_ms": {"Wait": [20, 100], "Later": [130]},
            "cursors": {"Wait": [None, None]},
        },
    },
    {
        # A router and a poll task that loop with more, and a failing wait with no retries:
        # the raw error, no body call.
        "name": "loops",
        "states": ["R", "P", "W", "Done"],
        "initial": "R",
        "exit_states": ["Done"],
        "tasks": {
            "R": {
                "kind": "router",
                "steps": [{"do": "more", "cursor": "r"}, {"do": "goto", "state": "P"}],
            },
            "P": {
                "kind": "poll",
                "steps": [
                    {"do": "pending", "delay_ms": 7},
                    {"do": "more", "cursor": 2},
                    {"do": "goto", "state": "W"},
                ],
            },
            "W": {
                "kind": "timer",
                "timer": {"wait": [{"fail": "no clock"}]},
                "steps": [{"do": "goto", "state": "Done"}],
            },
        },
        "expect": {
            "status": "TASK_EXECUTION",
            "message": "no clock",
            "error_state": "W",
            "error_attempt": 1,
            "trail": ["R", "P"],
            "attempts": {"R": 2, "P": 3, "W": 0},
            "attempt_times_ms": {"P": [0, 7, 7]},
            "cursors": {"R": [None, "r"], "P": [None, None, 2], "W": []},
        },
    },
    {
        # A failing wait with no retries: the raw error, no body call.
        "name": "timer_wait_fails",
        "states": ["Wait", "Done"],
        "initial": "Wait",
        "exit_states": ["Done"],
        "tasks": {
            "Wait": {
                "kind": "timer",
                "timer": {"wait": [{"fail": "no clock"}]},
                "steps": [{"do": "goto", "state": "Done"}],
            }
        },
        "expect": {
            "status": "TASK_EXECUTION",
            "message": "no clock",
            "error_attempt": 1,
            "attempts": {"Wait": 0},
        },
    },
]


EXTENSION_SCENARIOS += [
    {
        # A batch whose first load fails (task retry), items with their own retries (raw last
        # error), concurrency 2, the finish step's results in input order.
        "name": "batch",
        "states": ["Start", "W", "Done", "Partial"],
        "initial": "Start",
        "exit_states": ["Done", "Partial"],
        "tasks": {
            "Start": {"steps": [{"do": "goto", "state": "W"}]},
            "W": {
                "kind": "batch",
                "mode": "inline",
                "retry": {"kind": "fixed", "max_retries": 1, "delay_ms": 10},
                "batch": {
                    "concurrency": 2,
                    "item_retry": {"kind": "fixed", "max_retries": 2, "delay_ms": 5},
                    "load": [
                        {"fail": "source down"},
                        {
                            "items": [
                                {"steps": [{"do": "succeed", "value": "a"}]},
                                {"steps": [{"do": "fail", "message": "x1"}, {"do": "succeed"}]},
                                {"steps": [{"do": "fail", "code": "STORE", "message": "never"}]},
                            ]
                        },
                    ],
                },
                "steps": [{"do": "goto", "state": "Partial", "read_batch": True}],
            },
        },
        "expect": {
            "status": "OK",
            "final_state": "Partial",
            "trail": ["Start", "W"],
            "attempts": {"W": 2, "W[0]": 1, "W[1]": 2, "W[2]": 3},
            "attempt_times_ms": {"W": [0, 10], "W[0]": [10], "W[1]": [10, 15]},
            "batch_seen": [["succeeded:a", "succeeded", "failed:never"]],
        },
    },
    {
        # A fatal item in a worker batch: the task fails at once with the item's error.
        "name": "batch_fatal_item",
        "states": ["W", "Done"],
        "initial": "W",
        "exit_states": ["Done"],
        "tasks": {
            "W": {
                "kind": "batch",
                "mode": "worker",
                "retry": {"kind": "fixed", "max_retries": 3, "delay_ms": 10},
                "batch": {
                    "load": [
                        {
                            "items": [
                                {"steps": [{"do": "succeed"}]},
                                {"steps": [
                                    {"do": "fail", "code": "STORE", "message": "boom",
                                     "fatal": True}
                                ]},
                                {"steps": [{"do": "succeed"}]},
                            ]
                        }
                    ]
                },
                "steps": [{"do": "goto", "state": "Done"}],
            }
        },
        "expect": {
            "status": "STORE",
            "message": "boom",
            "error_task": "W[1]",
            "cause_message": None,
            "attempts": {"W": 1, "W[0]": 1, "W[1]": 1, "W[2]": 0},
        },
    },
    {
        # A finish failure runs the whole batch again (the second load adds no items).
        "name": "batch_finish_retry",
        "states": ["W", "Done"],
        "initial": "W",
        "exit_states": ["Done"],
        "tasks": {
            "W": {
                "kind": "batch",
                "retry": {"kind": "fixed", "max_retries": 2, "delay_ms": 7},
                "batch": {
                    "load": [{"items": [{"steps": [{"do": "succeed", "value": "1"}]}]},
                             {"items": []}]
                },
                "steps": [
                    {"do": "fail", "message": "sink down"},
                    {"do": "goto", "state": "Done", "read_batch": True},
                ],
            }
        },
        "expect": {
            "status": "OK",
            "trail": ["W"],
            "attempts": {"W": 2, "W[0]": 1},
            "attempt_times_ms": {"W": [0, 7], "W[0]": [0]},
            "batch_seen": [[]],
        },
    },
    {
        # Cancel notices: an async attempt that timed out, a losing async branch; never for the
        # attempts that finished.
        "name": "cancel",
        "states": ["A", "F", "J", "Done"],
        "initial": "A",
        "exit_states": ["Done"],
        "tasks": {
            "A": {
                "mode": "async",
                "attempt_timeout_ms": 50,
                "retry": {"kind": "fixed", "max_retries": 1, "delay_ms": 0},
                "steps": [{"do": "block"}, {"do": "goto", "state": "F"}],
            },
            "F": {
                "split": {
                    "strategy": "any",
                    "join_state": "J",
                    "branches": [
                        {"mode": "async", "steps": [{"do": "block"}]},
                        {"mode": "inline", "steps": [{"do": "succeed"}]},
                    ],
                }
            },
            "J": {"mode": "async", "steps": [{"do": "goto", "state": "Done"}]},
        },
        "expect": {
            "status": "OK",
            "attempts": {"A": 2},
            "attempt_times_ms": {"A": [0, 50]},
            "cancel_notices": {"A": 1, "F[0]": 1, "F[1]": 0, "J": 0},
        },
    },
    {
        # The workflow timeout abandons a pending async attempt: one notice.
        "name": "cancel_workflow_timeout",
        "states": ["A", "Done"],
        "initial": "A",
        "exit_states": ["Done"],
        "timeout_ms": 30,
        "tasks": {"A": {"mode": "async", "steps": [{"do": "block"}]}},
        "expect": {"status": "WORKFLOW", "cancel_notices": {"A": 1}},
    },
]
