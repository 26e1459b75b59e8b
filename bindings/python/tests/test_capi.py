"""The raw binding: every exported symbol is wrapped, and the structs match the C layout."""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT

import cano
from cano import _capi as C


def symbols_txt() -> list:
    lines = (ROOT / "abi" / "symbols.txt").read_text().splitlines()
    return [line.split()[0] for line in lines if line.strip()]


def test_wrapped_symbols_equal_abi_symbols_txt() -> None:
    assert sorted(C.PROTOTYPES) == sorted(symbols_txt())


def test_every_prototype_is_bound_with_types() -> None:
    for name, (restype, argtypes) in C.PROTOTYPES.items():
        function = getattr(C, name)
        assert function.restype is restype, name
        assert list(function.argtypes) == list(argtypes), name


#: Every function that keeps the GIL, listed here so that adding one is a deliberate decision:
#: it must never block, never take a lock another thread may hold while waiting for the GIL,
#: and never call back into Python.
KEEPS_THE_GIL = {
    # version.h, error.h
    "cano_abi_major",
    "cano_version_number",
    "cano_version_string",
    "cano_status_name",
    "cano_free",
    "cano_error_attempt",
    "cano_error_category",
    "cano_error_cause",
    "cano_error_clone",
    "cano_error_code",
    "cano_error_describe",
    "cano_error_display",
    "cano_error_free",
    "cano_error_message",
    "cano_error_new",
    "cano_error_run_id",
    "cano_error_state",
    "cano_error_state_name",
    "cano_error_task_name",
    # task.h: the context accessors a body calls, and the pure option helpers
    "cano_task_ctx_attempt",
    "cano_task_ctx_cancelled",
    "cano_task_ctx_engine",
    "cano_task_ctx_fail",
    "cano_task_ctx_fail_fatal",
    "cano_task_ctx_next",
    "cano_task_ctx_resources",
    "cano_task_ctx_run_id",
    "cano_task_ctx_state",
    "cano_task_ctx_token",
    "cano_task_options_max_attempts",
    "cano_task_options_retry_delay",
    "cano_task_options_retry_exponential",
    "cano_task_options_retry_fixed",
    "cano_task_options_retry_none",
    # poll.h, split.h: what a poll, branch or join body calls
    "cano_task_ctx_poll_again",
    "cano_task_ctx_set_value",
    "cano_task_ctx_split_result",
    "cano_split_result_cancelled",
    "cano_split_result_count",
    "cano_split_result_error",
    "cano_split_result_failed",
    "cano_split_result_status",
    "cano_split_result_succeeded",
    "cano_split_result_value",
    # stepped.h, timer.h: what a stepped body or a timer's wait callback calls (a field read or
    # a copy into the context; no lock, no callback)
    "cano_task_ctx_cursor",
    "cano_task_ctx_step_more",
    "cano_task_ctx_wait_for",
    "cano_task_ctx_wait_until",
    # batch.h: what a load, process_item or finish call reads or adds (a copy into the context
    # or a field read; no lock, no callback)
    "cano_task_ctx_batch_add",
    "cano_task_ctx_batch_item",
    "cano_task_ctx_batch_results",
    # engine.h, log.h: atomic reads
    "cano_engine_on_loop_thread",
    "cano_engine_worker_count",
    "cano_engine_clock_now",
    "cano_engine_runs_in_flight",
    "cano_log_get_level",
}


def test_only_trivial_functions_keep_the_gil() -> None:
    assert C.HOLDS_GIL == KEEPS_THE_GIL
    assert C.HOLDS_GIL <= set(C.PROTOTYPES)
    pythonapi = ctypes._FUNCFLAG_PYTHONAPI  # type: ignore[attr-defined]
    for name in C.PROTOTYPES:
        keeps_gil = bool(getattr(C, name)._flags_ & pythonapi)
        assert keeps_gil == (name in C.HOLDS_GIL), name
    # Everything that may block or call back into Python releases it.
    for name in (
        "cano_run_wait",
        "cano_engine_shutdown",
        "cano_engine_clock_advance",
        "cano_store_append_object",
        "cano_resources_health",
        "cano_log_set_handler",
        "cano_workflow_destroy",
        "cano_object_ref_release",
        "cano_workflow_register",
        "cano_workflow_register_router",
        "cano_workflow_register_poll",
        "cano_workflow_register_split",  # runs the branches' destroy hooks on failure
        "cano_workflow_register_stepped",
        "cano_workflow_register_timer",  # runs the task's destroy hook on failure
        "cano_workflow_register_batch",  # runs the task's destroy hook on failure
    ):
        assert name not in C.HOLDS_GIL


def test_versions() -> None:
    assert cano.abi_major() == cano.ABI_MAJOR == 0
    version = cano.library_version()
    major, minor, patch = (int(part) for part in version.split("."))
    assert cano.library_version_number() == major * 10000 + minor * 100 + patch
    assert cano.__version__ == version


def test_status_names() -> None:
    assert cano.status_name(0) == "OK"
    assert cano.status_name(1) == "PENDING"
    assert cano.status_name(-5) == "RETRY_EXHAUSTED"
    assert cano.status_name(-20) == "STORE_KEY_NOT_FOUND"
    assert cano.status_name(-49) == "USER"
    assert cano.status_name(12345) == "UNKNOWN"


def test_options_init_macros() -> None:
    engine = C.engine_options_init()
    assert engine.struct_size == ctypes.sizeof(C.cano_engine_options)
    assert (engine.worker_threads, engine.clock, engine.spin_us) == (0, C.CANO_CLOCK_REAL, 0)
    task = C.task_options_init()
    assert task.struct_size == ctypes.sizeof(C.cano_task_options)
    assert (task.mode, task.retry, task.retry_max_retries) == (C.CANO_TASK_WORKER, 0, 0)
    assert not task.cancel  # the new last field: NULL, as in CANO_TASK_OPTIONS_INIT
    resource = C.resource_options_init()
    assert resource.struct_size == ctypes.sizeof(C.cano_resource_options)
    assert not resource.type and not resource.object
    join = C.join_options_init()
    assert join.struct_size == ctypes.sizeof(C.cano_join_options)
    assert (join.strategy, join.count, join.percentage) == (C.CANO_JOIN_ALL, 0, 0.0)
    assert (join.timeout_ms, join.join_state, join.bulkhead) == (0, 0, 0)
    poll = C.poll_options_init()
    assert poll.struct_size == ctypes.sizeof(C.cano_poll_options)
    assert (poll.policy, poll.max_errors) == (C.CANO_POLL_FAIL_FAST, 0)
    timer = C.timer_options_init()
    assert timer.struct_size == ctypes.sizeof(C.cano_timer_options)
    assert (timer.delay_ms, timer.until_ms, bool(timer.wait)) == (0, 0, False)
    batch = C.batch_options_init()
    assert batch.struct_size == ctypes.sizeof(C.cano_batch_options)
    assert (bool(batch.load), bool(batch.process_item), batch.concurrency) == (False, False, 0)
    assert (batch.item_retry, batch.item_retry_max_retries) == (C.CANO_RETRY_DEFAULT, 0)
    assert (batch.item_retry_delay_ms, batch.item_retry_multiplier) == (0, 0.0)
    assert (batch.item_retry_max_delay_ms, batch.item_retry_jitter) == (0, 0.0)


PROBE = r"""
#include <stddef.h>
#include <stdio.h>
#include "cano/cano.h"
#define F(T, m) printf(#T "." #m " %zu\n", offsetof(T, m))
int main(void) {
  printf("cano_engine_options %zu\n", sizeof(cano_engine_options));
  F(cano_engine_options, worker_threads); F(cano_engine_options, clock);
  F(cano_engine_options, manual_clock_start_ms); F(cano_engine_options, random_seed);
  F(cano_engine_options, spin_us);
  printf("cano_task_options %zu\n", sizeof(cano_task_options));
  F(cano_task_options, run); F(cano_task_options, user_data); F(cano_task_options, destroy);
  F(cano_task_options, name); F(cano_task_options, mode); F(cano_task_options, retry);
  F(cano_task_options, retry_max_retries); F(cano_task_options, retry_delay_ms);
  F(cano_task_options, retry_multiplier); F(cano_task_options, retry_max_delay_ms);
  F(cano_task_options, retry_jitter); F(cano_task_options, attempt_timeout_ms);
  F(cano_task_options, cancel);
  printf("cano_resource_options %zu\n", sizeof(cano_resource_options));
  F(cano_resource_options, type); F(cano_resource_options, object);
  F(cano_resource_options, setup); F(cano_resource_options, teardown);
  F(cano_resource_options, health); F(cano_resource_options, destroy);
  printf("cano_join_options %zu\n", sizeof(cano_join_options));
  F(cano_join_options, strategy); F(cano_join_options, count); F(cano_join_options, percentage);
  F(cano_join_options, timeout_ms); F(cano_join_options, join_state);
  F(cano_join_options, bulkhead);
  printf("cano_poll_options %zu\n", sizeof(cano_poll_options));
  F(cano_poll_options, policy); F(cano_poll_options, max_errors);
  printf("cano_timer_options %zu\n", sizeof(cano_timer_options));
  F(cano_timer_options, delay_ms); F(cano_timer_options, until_ms); F(cano_timer_options, wait);
  printf("cano_batch_options %zu\n", sizeof(cano_batch_options));
  F(cano_batch_options, load); F(cano_batch_options, process_item);
  F(cano_batch_options, concurrency); F(cano_batch_options, item_retry);
  F(cano_batch_options, item_retry_max_retries); F(cano_batch_options, item_retry_delay_ms);
  F(cano_batch_options, item_retry_multiplier); F(cano_batch_options, item_retry_max_delay_ms);
  F(cano_batch_options, item_retry_jitter);
  printf("CANO_STEP_MORE %d\n", CANO_STEP_MORE);
  printf("CANO_POLL_AGAIN %d\n", CANO_POLL_AGAIN);
  printf("CANO_JOIN_PARTIAL_TIMEOUT %d\n", (int)CANO_JOIN_PARTIAL_TIMEOUT);
  printf("CANO_BRANCH_CANCELLED %d\n", (int)CANO_BRANCH_CANCELLED);
  printf("CANO_POLL_RETRY_ON_ERROR %d\n", (int)CANO_POLL_RETRY_ON_ERROR);
  return 0;
}
"""


def test_struct_layout_matches_the_headers(tmp_path: Path) -> None:
    """Compiles a probe against the public headers (needs a C compiler and a configured
    build tree for cano/version.h) and compares every size and offset."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    library = Path(cano.library_path())
    version_dir = library.parent / "include"
    if compiler is None or not (version_dir / "cano" / "version.h").exists():
        pytest.skip("needs a C compiler and the build tree's generated cano/version.h")
    source = tmp_path / "probe.c"
    source.write_text(PROBE)
    binary = tmp_path / "probe"
    subprocess.run(
        [
            compiler,
            "-std=c99",
            f"-I{ROOT / 'include'}",
            f"-I{version_dir}",
            str(source),
            "-o",
            str(binary),
        ],
        check=True,
    )
    expected = {}
    for line in subprocess.run(
        [str(binary)], check=True, capture_output=True, text=True
    ).stdout.splitlines():
        key, value = line.split()
        expected[key] = int(value)
    structs = {
        "cano_engine_options": C.cano_engine_options,
        "cano_task_options": C.cano_task_options,
        "cano_resource_options": C.cano_resource_options,
        "cano_join_options": C.cano_join_options,
        "cano_poll_options": C.cano_poll_options,
        "cano_timer_options": C.cano_timer_options,
        "cano_batch_options": C.cano_batch_options,
    }
    # Every struct and every member of it is probed (a field added to a header but not here, or
    # to a Structure but not here, fails).
    for name, struct in structs.items():
        assert name in expected, name
        for member, _ in struct._fields_:
            if member != "struct_size":
                assert f"{name}.{member}" in expected, f"{name}.{member} is not probed"
    for key, value in expected.items():
        if key.startswith("CANO_"):
            assert getattr(C, key) == value, key
        elif "." in key:
            struct, member = key.split(".")
            assert getattr(structs[struct], member).offset == value, key
        else:
            assert ctypes.sizeof(structs[key]) == value, key
