"""What the trampolines know about one registered body (:class:`TaskSpec`), and the name its
errors show (:func:`task_name`).

Every Python body the library may call (a task, a router, a poll, stepped, timer or batch task,
a split branch) is registered as one TaskSpec under a registry token; the trampolines in
:mod:`cano._task_trampolines` and :mod:`cano._batch_trampolines` look it up by that token on
every call, so it holds exactly what they need and nothing is computed per call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Optional

from . import _capi as C
from ._states import StateSpace

if TYPE_CHECKING:  # pragma: no cover
    from ._task_context import Completion, TaskContext
    from .batch import BatchBodies
    from .resources import Resources
    from .task import TaskMode

#: What a registered body is (``TaskSpec.kind``).
KIND_TASK, KIND_ROUTER, KIND_POLL, KIND_BRANCH = "task", "router", "poll", "branch"
KIND_STEPPED, KIND_TIMER, KIND_BATCH = "stepped", "timer", "batch"


class TaskSpec:
    """Everything the task trampoline needs for one registered task (immutable once built)."""

    __slots__ = (
        "fn",
        "states",
        "enum",
        "resources",
        "mode",
        "name",
        "kind",
        "index",
        "wait",
        "batch",
        "cancel",
    )

    def __init__(
        self,
        fn: Callable[["TaskContext"], Any],
        states: StateSpace,
        resources: "Resources",
        mode: "TaskMode",
        name: Optional[str],
        kind: str = KIND_TASK,
        index: int = -1,
        wait: Optional[Callable[["TaskContext"], Any]] = None,
        batch: Optional["BatchBodies"] = None,
        cancel: Optional[Callable[["Completion"], Any]] = None,
    ) -> None:
        self.fn = fn
        self.states = states
        self.enum = states.enum
        self.resources = resources
        self.mode = mode
        self.name = name
        #: One of the KIND_* constants above.
        self.kind = kind
        #: A branch's index in its split; -1 for the other kinds.
        self.index = index
        #: A timer task's wait callable (None for the other kinds, and for fixed waits).
        self.wait = wait
        #: A batch task's load and process_item (``fn`` is its finish step); None otherwise.
        self.batch = batch
        #: An async task's cancel callable (None: only the Completion is marked cancelled).
        self.cancel = cancel


def task_name(ptr: int, spec: TaskSpec) -> str:
    """The task's name as errors show it: its own, else its state's."""
    if spec.name is not None:
        return spec.name
    code = C.cano_task_ctx_state(ptr)
    try:
        return str(spec.states.member(code).name)
    except (TypeError, ValueError, AttributeError):  # pragma: no cover - declared states only
        return str(code)
