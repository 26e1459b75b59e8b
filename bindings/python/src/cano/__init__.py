"""cano: Python bindings for libcano, an embeddable workflow engine (cano 0.13 semantics).

Pure ctypes over libcano's stable C ABI. Quick start::

    import enum
    import cano

    class Step(enum.IntEnum):
        Fetch = 0
        Process = 1
        Done = 2

    store = cano.MemoryStore()
    resources = cano.Resources().insert("store", store)
    workflow = cano.Workflow(Step, resources, exit_states=[Step.Done])

    @workflow.task(Step.Fetch, mode="inline", retry=cano.Retry.none())
    def fetch(ctx):
        ctx.store.put("data", [1, 2, 3])
        return Step.Process

    @workflow.task(Step.Process, mode="inline", retry=cano.Retry.none())
    def process(ctx):
        ctx.store.put("sum", sum(ctx.store.get("data")))
        return Step.Done

    with cano.Engine() as engine:
        assert workflow.run(engine, Step.Fetch) is Step.Done
    assert store.get("sum") == 6

The library is found through ``CANO_LIBRARY`` (a path), a copy inside this package, or the
system's ``libcano.so.0``; importing fails with ImportError when none is found or its ABI major
is not the one this binding was written for (:data:`ABI_MAJOR`).
"""

from __future__ import annotations

from . import _capi, log
from ._errors import (
    ApiError,
    AppendTypeMismatchError,
    BadStateError,
    CancelledError,
    CanoError,
    CanoTimeoutError,
    CheckpointStoreError,
    CircuitOpenError,
    CompensationFailedError,
    ConfigurationError,
    GenericError,
    InternalError,
    InvalidArgumentError,
    KeyNotFoundError,
    NoMemoryError,
    NotFoundError,
    ResourceDuplicateKeyError,
    ResourceNotFoundError,
    ResourceTypeMismatchError,
    RetryExhaustedError,
    ShutdownError,
    StoreError,
    TaskExecutionError,
    TypeMismatchError,
    UserError,
    VersionError,
    WorkflowError,
    WrongThreadError,
    error_for,
    status_name,
)
from ._loader import ABI_MAJOR, library_path
from .batch import BatchResults, BatchTask, ItemResult
from .engine import ClockKind, Engine
from .log import LogLevel
from .poll import Pending, PollPolicy
from .resources import HealthLevel, HealthStatus, Resources, type_tag
from .run import RunHandle
from .split import Branch, BranchOutcome, BranchStatus, Join, JoinStrategy, SplitResult
from .stepped import More
from .store import MemoryStore, ValueKind
from .task import (
    PENDING,
    Completion,
    Fatal,
    Retry,
    RetryKind,
    Task,
    TaskContext,
    TaskMode,
)
from .timer import WaitFor, WaitUntil
from .workflow import SplitBuilder, Workflow

__version__ = "0.1.0"


def library_version() -> str:
    """The loaded libcano's version, "MAJOR.MINOR.PATCH"."""
    return _capi.cano_version_string().decode()


def library_version_number() -> int:
    """The loaded libcano's MAJOR*10000 + MINOR*100 + PATCH."""
    return int(_capi.cano_version_number())


def abi_major() -> int:
    """The loaded libcano's ABI major (equal to :data:`ABI_MAJOR`, or import would have
    failed)."""
    return int(_capi.cano_abi_major())


__all__ = [
    "ABI_MAJOR",
    "ApiError",
    "AppendTypeMismatchError",
    "BadStateError",
    "BatchResults",
    "BatchTask",
    "Branch",
    "BranchOutcome",
    "BranchStatus",
    "CancelledError",
    "CanoError",
    "CanoTimeoutError",
    "CheckpointStoreError",
    "CircuitOpenError",
    "ClockKind",
    "CompensationFailedError",
    "Completion",
    "ConfigurationError",
    "Engine",
    "Fatal",
    "GenericError",
    "HealthLevel",
    "HealthStatus",
    "InternalError",
    "InvalidArgumentError",
    "ItemResult",
    "Join",
    "JoinStrategy",
    "KeyNotFoundError",
    "LogLevel",
    "MemoryStore",
    "More",
    "NoMemoryError",
    "NotFoundError",
    "PENDING",
    "Pending",
    "PollPolicy",
    "ResourceDuplicateKeyError",
    "ResourceNotFoundError",
    "ResourceTypeMismatchError",
    "Resources",
    "Retry",
    "RetryExhaustedError",
    "RetryKind",
    "RunHandle",
    "ShutdownError",
    "SplitBuilder",
    "SplitResult",
    "StoreError",
    "Task",
    "TaskContext",
    "TaskExecutionError",
    "TaskMode",
    "TypeMismatchError",
    "UserError",
    "ValueKind",
    "VersionError",
    "WaitFor",
    "WaitUntil",
    "Workflow",
    "WorkflowError",
    "WrongThreadError",
    "abi_major",
    "error_for",
    "library_path",
    "library_version",
    "library_version_number",
    "log",
    "status_name",
    "type_tag",
]
