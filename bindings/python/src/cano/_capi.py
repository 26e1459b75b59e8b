"""The raw C ABI: structs, callback types and argtypes/restype for every exported symbol.

This module mirrors ``include/cano/*.h`` one to one. Every symbol listed in
``abi/symbols.txt`` has an entry in :data:`PROTOTYPES` (a test checks the two lists are equal),
and is bound as a module attribute of the same name, e.g. ``_capi.cano_engine_create``.

Opaque handles (``cano_engine *``, ``cano_store *``, ...) are passed as ``c_void_p`` (Python
ints). Strings the library hands out for ``cano_free`` are typed ``c_void_p`` so that their
address survives to be freed; borrowed strings are typed ``c_char_p`` (copied to bytes).
Every function that may block or call back goes through :class:`ctypes.CDLL`, which releases
the GIL for the call; the trivial accessors in :data:`HOLDS_GIL` keep it.
"""

from __future__ import annotations

import ctypes
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_char_p,
    c_double,
    c_int,
    c_int32,
    c_int64,
    c_size_t,
    c_uint32,
    c_uint64,
    c_void_p,
)
from typing import Any, Dict, List, Tuple

from . import _loader

lib = _loader.library()

# --- error.h -----------------------------------------------------------------------------------

CANO_OK = 0
CANO_PENDING = 1
CANO_E_TASK_EXECUTION = -1
CANO_E_STORE = -2
CANO_E_WORKFLOW = -3
CANO_E_CONFIGURATION = -4
CANO_E_RETRY_EXHAUSTED = -5
CANO_E_TIMEOUT = -6
CANO_E_CIRCUIT_OPEN = -7
CANO_E_CHECKPOINT_STORE = -8
CANO_E_COMPENSATION_FAILED = -9
CANO_E_GENERIC = -10
CANO_E_RESOURCE_NOT_FOUND = -11
CANO_E_RESOURCE_TYPE_MISMATCH = -12
CANO_E_RESOURCE_DUPLICATE_KEY = -13
CANO_E_STORE_KEY_NOT_FOUND = -20
CANO_E_STORE_TYPE_MISMATCH = -21
CANO_E_STORE_APPEND_TYPE_MISMATCH = -22
CANO_E_INVALID_ARGUMENT = -40
CANO_E_NO_MEMORY = -41
CANO_E_WRONG_THREAD = -42
CANO_E_BAD_STATE = -43
CANO_E_CANCELLED = -44
CANO_E_SHUTDOWN = -45
CANO_E_VERSION = -46
CANO_E_NOT_FOUND = -47
CANO_E_INTERNAL = -48
CANO_E_USER = -49

# --- log.h -------------------------------------------------------------------------------------

CANO_LOG_TRACE, CANO_LOG_DEBUG, CANO_LOG_INFO, CANO_LOG_WARN = 0, 1, 2, 3
CANO_LOG_ERROR, CANO_LOG_CRITICAL, CANO_LOG_OFF = 4, 5, 6

# --- engine.h ----------------------------------------------------------------------------------

CANO_CLOCK_REAL = 0
CANO_CLOCK_MANUAL = 1


class cano_engine_options(Structure):  # noqa: N801 - the C name
    _fields_ = [
        ("struct_size", c_uint32),
        ("worker_threads", c_uint32),
        ("clock", c_int),
        ("manual_clock_start_ms", c_uint64),
        ("random_seed", c_uint64),
        ("spin_us", c_int32),
    ]


def engine_options_init() -> cano_engine_options:
    """CANO_ENGINE_OPTIONS_INIT."""
    return cano_engine_options(ctypes.sizeof(cano_engine_options), 0, CANO_CLOCK_REAL, 0, 0, 0)


# --- task.h ------------------------------------------------------------------------------------

CANO_TASK_WORKER = 0
CANO_TASK_INLINE = 1
CANO_TASK_ASYNC = 2

CANO_RETRY_DEFAULT = 0
CANO_RETRY_NONE = 1
CANO_RETRY_FIXED = 2
CANO_RETRY_EXPONENTIAL = 3

#: cano_task_fn: cano_status (*)(cano_task_ctx *ctx, void *user_data)
cano_task_fn = CFUNCTYPE(c_int32, c_void_p, c_void_p)
#: void (*destroy)(void *user_data), used by tasks, resources, store objects and the log.
cano_destroy_fn = CFUNCTYPE(None, c_void_p)
#: cano_task_options.cancel: void (*)(uint64_t token, void *user_data)
cano_cancel_fn = CFUNCTYPE(None, c_uint64, c_void_p)


class cano_task_options(Structure):  # noqa: N801 - the C name
    _fields_ = [
        ("struct_size", c_uint32),
        ("run", cano_task_fn),
        ("user_data", c_void_p),
        ("destroy", cano_destroy_fn),
        ("name", c_char_p),
        ("mode", c_int),
        ("retry", c_int),
        ("retry_max_retries", c_uint32),
        ("retry_delay_ms", c_uint64),
        ("retry_multiplier", c_double),
        ("retry_max_delay_ms", c_uint64),
        ("retry_jitter", c_double),
        ("attempt_timeout_ms", c_uint64),
        ("cancel", cano_cancel_fn),
    ]


def task_options_init() -> cano_task_options:
    """CANO_TASK_OPTIONS_INIT."""
    options = cano_task_options()
    options.struct_size = ctypes.sizeof(cano_task_options)
    options.mode = CANO_TASK_WORKER
    options.retry = CANO_RETRY_DEFAULT
    return options


# --- split.h -----------------------------------------------------------------------------------

CANO_JOIN_ALL = 0
CANO_JOIN_ANY = 1
CANO_JOIN_QUORUM = 2
CANO_JOIN_PERCENTAGE = 3
CANO_JOIN_PARTIAL_RESULTS = 4
CANO_JOIN_PARTIAL_TIMEOUT = 5

CANO_BRANCH_SUCCEEDED = 0
CANO_BRANCH_FAILED = 1
CANO_BRANCH_CANCELLED = 2


class cano_join_options(Structure):  # noqa: N801 - the C name
    _fields_ = [
        ("struct_size", c_uint32),
        ("strategy", c_int),
        ("count", c_uint32),
        ("percentage", c_double),
        ("timeout_ms", c_uint64),
        ("join_state", c_int32),
        ("bulkhead", c_uint32),
    ]


def join_options_init() -> cano_join_options:
    """CANO_JOIN_OPTIONS_INIT."""
    options = cano_join_options()
    options.struct_size = ctypes.sizeof(cano_join_options)
    options.strategy = CANO_JOIN_ALL
    return options


# --- batch.h -----------------------------------------------------------------------------------


class cano_batch_options(Structure):  # noqa: N801 - the C name
    _fields_ = [
        ("struct_size", c_uint32),
        ("load", cano_task_fn),
        ("process_item", cano_task_fn),
        ("concurrency", c_uint32),
        ("item_retry", c_int),
        ("item_retry_max_retries", c_uint32),
        ("item_retry_delay_ms", c_uint64),
        ("item_retry_multiplier", c_double),
        ("item_retry_max_delay_ms", c_uint64),
        ("item_retry_jitter", c_double),
    ]


def batch_options_init() -> cano_batch_options:
    """CANO_BATCH_OPTIONS_INIT."""
    options = cano_batch_options()
    options.struct_size = ctypes.sizeof(cano_batch_options)
    options.item_retry = CANO_RETRY_DEFAULT
    return options


# --- poll.h ------------------------------------------------------------------------------------

CANO_POLL_AGAIN = 2
CANO_POLL_FAIL_FAST = 0
CANO_POLL_RETRY_ON_ERROR = 1


class cano_poll_options(Structure):  # noqa: N801 - the C name
    _fields_ = [
        ("struct_size", c_uint32),
        ("policy", c_int),
        ("max_errors", c_uint32),
    ]


def poll_options_init() -> cano_poll_options:
    """CANO_POLL_OPTIONS_INIT."""
    options = cano_poll_options()
    options.struct_size = ctypes.sizeof(cano_poll_options)
    options.policy = CANO_POLL_FAIL_FAST
    return options


# --- stepped.h ---------------------------------------------------------------------------------

CANO_STEP_MORE = 3

# --- timer.h -----------------------------------------------------------------------------------

#: cano_timer_wait_fn: cano_status (*)(cano_task_ctx *ctx, void *user_data)
cano_timer_wait_fn = CFUNCTYPE(c_int32, c_void_p, c_void_p)


class cano_timer_options(Structure):  # noqa: N801 - the C name
    _fields_ = [
        ("struct_size", c_uint32),
        ("delay_ms", c_uint64),
        ("until_ms", c_uint64),
        ("wait", cano_timer_wait_fn),
    ]


def timer_options_init() -> cano_timer_options:
    """CANO_TIMER_OPTIONS_INIT."""
    options = cano_timer_options()
    options.struct_size = ctypes.sizeof(cano_timer_options)
    return options


# --- run.h -------------------------------------------------------------------------------------

#: cano_run_done_fn(run_id, status, final_state, const cano_error *error, user_data)
cano_run_done_fn = CFUNCTYPE(None, c_uint64, c_int32, c_int32, c_void_p, c_void_p)
#: cano_engine_post's fn(user_data)
cano_post_fn = CFUNCTYPE(None, c_void_p)

# --- resources.h -------------------------------------------------------------------------------

CANO_HEALTH_HEALTHY = 0
CANO_HEALTH_DEGRADED = 1
CANO_HEALTH_UNHEALTHY = 2
CANO_STORE_TYPE = "cano.MemoryStore"

#: cano_resource_fn: cano_status (*)(cano_error **err, void *user_data)
cano_resource_fn = CFUNCTYPE(c_int32, POINTER(c_void_p), c_void_p)
#: cano_health_fn: cano_health_level (*)(const char **message, void *user_data)
cano_health_fn = CFUNCTYPE(c_int, POINTER(c_void_p), c_void_p)


class cano_resource_options(Structure):  # noqa: N801 - the C name
    _fields_ = [
        ("struct_size", c_uint32),
        ("type", c_char_p),
        ("object", c_void_p),
        ("setup", cano_resource_fn),
        ("teardown", cano_resource_fn),
        ("health", cano_health_fn),
        ("destroy", cano_destroy_fn),
    ]


def resource_options_init() -> cano_resource_options:
    """CANO_RESOURCE_OPTIONS_INIT."""
    options = cano_resource_options()
    options.struct_size = ctypes.sizeof(cano_resource_options)
    return options


# --- store.h -----------------------------------------------------------------------------------

CANO_VALUE_BYTES = 0
CANO_VALUE_JSON = 1
CANO_VALUE_OBJECT = 2

#: cano_store_append_fn(void **out_object, void (**out_destroy)(void *), const void *current,
#:                      void *user_data)
cano_store_append_fn = CFUNCTYPE(c_int32, POINTER(c_void_p), POINTER(c_void_p), c_void_p, c_void_p)

# --- log.h -------------------------------------------------------------------------------------

#: cano_log_fn(cano_log_level level, const char *message, void *user_data)
cano_log_fn = CFUNCTYPE(None, c_int, c_char_p, c_void_p)

# --- prototypes --------------------------------------------------------------------------------

_P = c_void_p  # an opaque handle
_PP = POINTER(c_void_p)  # a handle (or buffer) out-parameter, also cano_error **
_status = c_int32

#: name -> (restype, argtypes) for every exported symbol, in abi/symbols.txt order.
PROTOTYPES: Dict[str, Tuple[object, List[object]]] = {
    # version.h
    "cano_abi_major": (c_int, []),
    # engine.h
    "cano_engine_clock_advance": (_status, [_P, c_uint64, _PP]),
    "cano_engine_clock_next_deadline": (_status, [POINTER(c_uint64), _P, _PP]),
    "cano_engine_clock_now": (c_uint64, [_P]),
    "cano_engine_create": (_status, [_PP, POINTER(cano_engine_options), _PP]),
    "cano_engine_destroy": (None, [_P]),
    "cano_engine_on_loop_thread": (c_int, [_P]),
    "cano_engine_post": (_status, [_P, cano_post_fn, c_void_p, _PP]),
    "cano_engine_runs_in_flight": (c_uint64, [_P]),
    "cano_engine_shutdown": (_status, [_P]),
    "cano_engine_worker_count": (c_uint32, [_P]),
    # error.h
    "cano_error_attempt": (c_uint32, [_P]),
    "cano_error_category": (c_char_p, [_P]),
    "cano_error_cause": (c_void_p, [_P]),
    "cano_error_clone": (c_void_p, [_P]),
    "cano_error_code": (_status, [_P]),
    "cano_error_describe": (c_char_p, [_P]),
    "cano_error_display": (c_char_p, [_P]),
    "cano_error_free": (None, [_P]),
    "cano_error_message": (c_char_p, [_P]),
    "cano_error_new": (c_void_p, [_status, c_char_p]),
    "cano_error_run_id": (c_uint64, [_P]),
    "cano_error_state": (c_int, [_P, POINTER(c_int32)]),
    "cano_error_state_name": (c_char_p, [_P]),
    "cano_error_task_name": (c_char_p, [_P]),
    "cano_free": (None, [c_void_p]),
    # log.h
    "cano_log_get_level": (c_int, []),
    "cano_log_set_handler": (_status, [cano_log_fn, c_void_p, cano_destroy_fn]),
    "cano_log_set_level": (_status, [c_int]),
    # store.h (object references)
    "cano_object_ref_get": (c_void_p, [_P]),
    "cano_object_ref_release": (None, [_P]),
    # resources.h
    "cano_resources_aggregate_health": (_status, [POINTER(c_int), _PP, _PP, _P, _PP]),
    "cano_resources_check_all_health": (_status, [_PP, _P, _PP]),
    "cano_resources_contains": (c_int, [_P, c_char_p]),
    "cano_resources_create": (_status, [_PP, _PP]),
    "cano_resources_destroy": (None, [_P]),
    "cano_resources_get": (_status, [_PP, _P, c_char_p, c_char_p, _PP]),
    "cano_resources_get_store": (_status, [_PP, _P, c_char_p, _PP]),
    "cano_resources_health": (_status, [POINTER(c_int), _PP, _P, c_char_p, _PP]),
    "cano_resources_insert": (_status, [_P, c_char_p, POINTER(cano_resource_options), _PP]),
    "cano_resources_insert_store": (_status, [_P, c_char_p, _P, _PP]),
    "cano_resources_len": (c_size_t, [_P]),
    # run.h
    "cano_run_cancel": (_status, [_P, c_uint64, _PP]),
    "cano_run_start": (
        _status,
        [POINTER(c_uint64), _P, _P, c_int32, cano_run_done_fn, c_void_p, _PP],
    ),
    "cano_run_wait": (_status, [POINTER(c_int32), _P, _P, c_int32, _PP]),
    # split.h
    "cano_split_result_cancelled": (c_size_t, [_P]),
    "cano_split_result_count": (c_size_t, [_P]),
    "cano_split_result_error": (c_void_p, [_P, c_size_t]),
    "cano_split_result_failed": (c_size_t, [_P]),
    "cano_split_result_status": (c_int, [_P, c_size_t]),
    "cano_split_result_succeeded": (c_size_t, [_P]),
    "cano_split_result_value": (c_void_p, [_P, c_size_t, POINTER(c_size_t)]),
    # error.h
    "cano_status_name": (c_char_p, [_status]),
    # store.h
    "cano_store_append_json": (_status, [_P, c_char_p, c_char_p, _PP]),
    "cano_store_append_object": (
        _status,
        [_P, c_char_p, c_char_p, cano_store_append_fn, c_void_p, _PP],
    ),
    "cano_store_clear": (_status, [_P, _PP]),
    "cano_store_contains": (c_int, [_P, c_char_p]),
    "cano_store_create": (_status, [_PP, _PP]),
    "cano_store_destroy": (None, [_P]),
    "cano_store_get_bytes": (_status, [_PP, POINTER(c_size_t), _P, c_char_p, _PP]),
    "cano_store_get_json": (_status, [_PP, _P, c_char_p, _PP]),
    "cano_store_get_object": (_status, [_PP, _P, c_char_p, c_char_p, _PP]),
    "cano_store_keys": (_status, [_PP, _P, _PP]),
    "cano_store_kind": (_status, [POINTER(c_int), _PP, _P, c_char_p, _PP]),
    "cano_store_len": (c_size_t, [_P]),
    "cano_store_put_bytes": (_status, [_P, c_char_p, c_void_p, c_size_t, _PP]),
    "cano_store_put_json": (_status, [_P, c_char_p, c_char_p, _PP]),
    "cano_store_put_object": (_status, [_P, c_char_p, c_char_p, c_void_p, cano_destroy_fn, _PP]),
    "cano_store_remove": (_status, [_P, c_char_p, _PP]),
    # task.h
    "cano_task_complete": (_status, [_P, c_uint64, c_int32, _PP]),
    "cano_task_complete_error": (_status, [_P, c_uint64, _status, c_char_p, _PP]),
    "cano_task_ctx_attempt": (c_uint32, [_P]),
    # batch.h
    "cano_task_ctx_batch_add": (_status, [_P, c_void_p, c_size_t]),
    "cano_task_ctx_batch_item": (c_int, [_P, POINTER(c_size_t), _PP, POINTER(c_size_t)]),
    "cano_task_ctx_batch_results": (c_void_p, [_P]),
    # task.h
    "cano_task_ctx_cancelled": (c_int, [_P]),
    "cano_task_ctx_cursor": (c_int, [_P, _PP, POINTER(c_size_t)]),
    "cano_task_ctx_engine": (c_void_p, [_P]),
    "cano_task_ctx_fail": (_status, [_P, _status, c_char_p]),
    "cano_task_ctx_fail_fatal": (_status, [_P, _status, c_char_p]),
    "cano_task_ctx_next": (_status, [_P, c_int32]),
    "cano_task_ctx_poll_again": (_status, [_P, c_uint64]),
    "cano_task_ctx_resources": (c_void_p, [_P]),
    "cano_task_ctx_run_id": (c_uint64, [_P]),
    "cano_task_ctx_set_value": (_status, [_P, c_void_p, c_size_t]),
    "cano_task_ctx_split_result": (c_void_p, [_P]),
    "cano_task_ctx_state": (c_int32, [_P]),
    "cano_task_ctx_step_more": (_status, [_P, c_void_p, c_size_t]),
    "cano_task_ctx_token": (c_uint64, [_P]),
    "cano_task_ctx_wait_for": (_status, [_P, c_uint64]),
    "cano_task_ctx_wait_until": (_status, [_P, c_uint64]),
    "cano_task_options_max_attempts": (c_uint32, [POINTER(cano_task_options)]),
    "cano_task_options_retry_delay": (c_int64, [POINTER(cano_task_options), c_uint32, c_double]),
    "cano_task_options_retry_exponential": (None, [POINTER(cano_task_options), c_uint32]),
    "cano_task_options_retry_fixed": (None, [POINTER(cano_task_options), c_uint32, c_uint64]),
    "cano_task_options_retry_none": (None, [POINTER(cano_task_options)]),
    # version.h
    "cano_version_number": (c_int, []),
    "cano_version_string": (c_char_p, []),
    # workflow.h
    "cano_workflow_add_exit_state": (_status, [_P, c_int32, _PP]),
    "cano_workflow_add_state": (_status, [_P, c_int32, c_char_p, _PP]),
    "cano_workflow_create": (_status, [_PP, _P, _PP]),
    "cano_workflow_destroy": (None, [_P]),
    "cano_workflow_register": (_status, [_P, c_int32, POINTER(cano_task_options), _PP]),
    "cano_workflow_register_batch": (
        _status,
        [_P, c_int32, POINTER(cano_task_options), POINTER(cano_batch_options), _PP],
    ),
    "cano_workflow_register_poll": (
        _status,
        [_P, c_int32, POINTER(cano_task_options), POINTER(cano_poll_options), _PP],
    ),
    "cano_workflow_register_router": (_status, [_P, c_int32, POINTER(cano_task_options), _PP]),
    "cano_workflow_register_split": (
        _status,
        [_P, c_int32, POINTER(cano_task_options), c_size_t, POINTER(cano_join_options), _PP],
    ),
    "cano_workflow_register_stepped": (_status, [_P, c_int32, POINTER(cano_task_options), _PP]),
    "cano_workflow_register_timer": (
        _status,
        [_P, c_int32, POINTER(cano_task_options), POINTER(cano_timer_options), _PP],
    ),
    "cano_workflow_resources": (c_void_p, [_P]),
    "cano_workflow_set_timeout": (_status, [_P, c_uint64, _PP]),
    "cano_workflow_state_code": (_status, [POINTER(c_int32), _P, c_char_p, _PP]),
    "cano_workflow_state_name": (c_char_p, [_P, c_int32]),
    "cano_workflow_validate": (_status, [_P, _PP]),
    "cano_workflow_validate_initial_state": (_status, [_P, c_int32, _PP]),
}


#: Functions that never block, never take a lock another thread could hold while it waits for
#: the GIL, and never call back into Python. They are called through a PyDLL handle, which keeps
#: the GIL: a task body that reads its context and records its next state then never gives the
#: GIL away mid-body (under contention every release costs up to a switch interval, 5 ms).
#: Everything else goes through the CDLL handle and releases the GIL for the call.
HOLDS_GIL = frozenset(
    {
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
        "cano_task_ctx_attempt",
        "cano_task_ctx_cancelled",
        "cano_task_ctx_engine",
        "cano_task_ctx_fail",
        "cano_task_ctx_fail_fatal",
        "cano_task_ctx_next",
        "cano_task_ctx_poll_again",
        "cano_task_ctx_resources",
        "cano_task_ctx_run_id",
        "cano_task_ctx_set_value",
        "cano_task_ctx_split_result",
        "cano_task_ctx_state",
        "cano_task_ctx_token",
        "cano_task_ctx_cursor",
        "cano_task_ctx_step_more",
        "cano_task_ctx_wait_for",
        "cano_task_ctx_wait_until",
        "cano_task_ctx_batch_add",
        "cano_task_ctx_batch_item",
        "cano_task_ctx_batch_results",
        "cano_split_result_cancelled",
        "cano_split_result_count",
        "cano_split_result_error",
        "cano_split_result_failed",
        "cano_split_result_status",
        "cano_split_result_succeeded",
        "cano_split_result_value",
        "cano_task_options_max_attempts",
        "cano_task_options_retry_delay",
        "cano_task_options_retry_exponential",
        "cano_task_options_retry_fixed",
        "cano_task_options_retry_none",
        "cano_engine_on_loop_thread",
        "cano_engine_worker_count",
        "cano_engine_clock_now",
        "cano_engine_runs_in_flight",
        "cano_log_get_level",
    }
)

#: The same library through a handle whose calls keep the GIL (see HOLDS_GIL).
pylib = ctypes.PyDLL(lib._name, handle=lib._handle)


def _fn(name: str) -> Any:
    """Binds one symbol with its prototype from PROTOTYPES."""
    restype, argtypes = PROTOTYPES[name]
    try:
        function = getattr(pylib if name in HOLDS_GIL else lib, name)
    except AttributeError as exc:
        raise ImportError(
            f"cano: {_loader.library_path()} does not export {name}; it is older than this binding"
        ) from exc
    function.restype = restype
    function.argtypes = argtypes
    return function


cano_abi_major = _fn("cano_abi_major")
cano_engine_clock_advance = _fn("cano_engine_clock_advance")
cano_engine_clock_next_deadline = _fn("cano_engine_clock_next_deadline")
cano_engine_clock_now = _fn("cano_engine_clock_now")
cano_engine_create = _fn("cano_engine_create")
cano_engine_destroy = _fn("cano_engine_destroy")
cano_engine_on_loop_thread = _fn("cano_engine_on_loop_thread")
cano_engine_post = _fn("cano_engine_post")
cano_engine_runs_in_flight = _fn("cano_engine_runs_in_flight")
cano_engine_shutdown = _fn("cano_engine_shutdown")
cano_engine_worker_count = _fn("cano_engine_worker_count")
cano_error_attempt = _fn("cano_error_attempt")
cano_error_category = _fn("cano_error_category")
cano_error_cause = _fn("cano_error_cause")
cano_error_clone = _fn("cano_error_clone")
cano_error_code = _fn("cano_error_code")
cano_error_describe = _fn("cano_error_describe")
cano_error_display = _fn("cano_error_display")
cano_error_free = _fn("cano_error_free")
cano_error_message = _fn("cano_error_message")
cano_error_new = _fn("cano_error_new")
cano_error_run_id = _fn("cano_error_run_id")
cano_error_state = _fn("cano_error_state")
cano_error_state_name = _fn("cano_error_state_name")
cano_error_task_name = _fn("cano_error_task_name")
cano_free = _fn("cano_free")
cano_log_get_level = _fn("cano_log_get_level")
cano_log_set_handler = _fn("cano_log_set_handler")
cano_log_set_level = _fn("cano_log_set_level")
cano_object_ref_get = _fn("cano_object_ref_get")
cano_object_ref_release = _fn("cano_object_ref_release")
cano_resources_aggregate_health = _fn("cano_resources_aggregate_health")
cano_resources_check_all_health = _fn("cano_resources_check_all_health")
cano_resources_contains = _fn("cano_resources_contains")
cano_resources_create = _fn("cano_resources_create")
cano_resources_destroy = _fn("cano_resources_destroy")
cano_resources_get = _fn("cano_resources_get")
cano_resources_get_store = _fn("cano_resources_get_store")
cano_resources_health = _fn("cano_resources_health")
cano_resources_insert = _fn("cano_resources_insert")
cano_resources_insert_store = _fn("cano_resources_insert_store")
cano_resources_len = _fn("cano_resources_len")
cano_run_cancel = _fn("cano_run_cancel")
cano_run_start = _fn("cano_run_start")
cano_run_wait = _fn("cano_run_wait")
cano_split_result_cancelled = _fn("cano_split_result_cancelled")
cano_split_result_count = _fn("cano_split_result_count")
cano_split_result_error = _fn("cano_split_result_error")
cano_split_result_failed = _fn("cano_split_result_failed")
cano_split_result_status = _fn("cano_split_result_status")
cano_split_result_succeeded = _fn("cano_split_result_succeeded")
cano_split_result_value = _fn("cano_split_result_value")
cano_status_name = _fn("cano_status_name")
cano_store_append_json = _fn("cano_store_append_json")
cano_store_append_object = _fn("cano_store_append_object")
cano_store_clear = _fn("cano_store_clear")
cano_store_contains = _fn("cano_store_contains")
cano_store_create = _fn("cano_store_create")
cano_store_destroy = _fn("cano_store_destroy")
cano_store_get_bytes = _fn("cano_store_get_bytes")
cano_store_get_json = _fn("cano_store_get_json")
cano_store_get_object = _fn("cano_store_get_object")
cano_store_keys = _fn("cano_store_keys")
cano_store_kind = _fn("cano_store_kind")
cano_store_len = _fn("cano_store_len")
cano_store_put_bytes = _fn("cano_store_put_bytes")
cano_store_put_json = _fn("cano_store_put_json")
cano_store_put_object = _fn("cano_store_put_object")
cano_store_remove = _fn("cano_store_remove")
cano_task_complete = _fn("cano_task_complete")
cano_task_complete_error = _fn("cano_task_complete_error")
cano_task_ctx_attempt = _fn("cano_task_ctx_attempt")
cano_task_ctx_batch_add = _fn("cano_task_ctx_batch_add")
cano_task_ctx_batch_item = _fn("cano_task_ctx_batch_item")
cano_task_ctx_batch_results = _fn("cano_task_ctx_batch_results")
cano_task_ctx_cancelled = _fn("cano_task_ctx_cancelled")
cano_task_ctx_cursor = _fn("cano_task_ctx_cursor")
cano_task_ctx_engine = _fn("cano_task_ctx_engine")
cano_task_ctx_fail = _fn("cano_task_ctx_fail")
cano_task_ctx_fail_fatal = _fn("cano_task_ctx_fail_fatal")
cano_task_ctx_next = _fn("cano_task_ctx_next")
cano_task_ctx_poll_again = _fn("cano_task_ctx_poll_again")
cano_task_ctx_resources = _fn("cano_task_ctx_resources")
cano_task_ctx_run_id = _fn("cano_task_ctx_run_id")
cano_task_ctx_set_value = _fn("cano_task_ctx_set_value")
cano_task_ctx_split_result = _fn("cano_task_ctx_split_result")
cano_task_ctx_state = _fn("cano_task_ctx_state")
cano_task_ctx_step_more = _fn("cano_task_ctx_step_more")
cano_task_ctx_token = _fn("cano_task_ctx_token")
cano_task_ctx_wait_for = _fn("cano_task_ctx_wait_for")
cano_task_ctx_wait_until = _fn("cano_task_ctx_wait_until")
cano_task_options_max_attempts = _fn("cano_task_options_max_attempts")
cano_task_options_retry_delay = _fn("cano_task_options_retry_delay")
cano_task_options_retry_exponential = _fn("cano_task_options_retry_exponential")
cano_task_options_retry_fixed = _fn("cano_task_options_retry_fixed")
cano_task_options_retry_none = _fn("cano_task_options_retry_none")
cano_version_number = _fn("cano_version_number")
cano_version_string = _fn("cano_version_string")
cano_workflow_add_exit_state = _fn("cano_workflow_add_exit_state")
cano_workflow_add_state = _fn("cano_workflow_add_state")
cano_workflow_create = _fn("cano_workflow_create")
cano_workflow_destroy = _fn("cano_workflow_destroy")
cano_workflow_register = _fn("cano_workflow_register")
cano_workflow_register_batch = _fn("cano_workflow_register_batch")
cano_workflow_register_poll = _fn("cano_workflow_register_poll")
cano_workflow_register_router = _fn("cano_workflow_register_router")
cano_workflow_register_split = _fn("cano_workflow_register_split")
cano_workflow_register_stepped = _fn("cano_workflow_register_stepped")
cano_workflow_register_timer = _fn("cano_workflow_register_timer")
cano_workflow_resources = _fn("cano_workflow_resources")
cano_workflow_set_timeout = _fn("cano_workflow_set_timeout")
cano_workflow_state_code = _fn("cano_workflow_state_code")
cano_workflow_state_name = _fn("cano_workflow_state_name")
cano_workflow_validate = _fn("cano_workflow_validate")
cano_workflow_validate_initial_state = _fn("cano_workflow_validate_initial_state")


def take_string(address: int) -> str:
    """Decodes a NUL-terminated string the library allocated and frees it with cano_free."""
    try:
        return ctypes.string_at(address).decode("utf-8")
    finally:
        cano_free(address)
