"""The exception hierarchy and the attributes errors carry."""

from __future__ import annotations

import pickle

import pytest
from conftest import Step

import cano
from cano import _capi as C
from cano import _errors

CATEGORIES = {
    cano.TaskExecutionError: ("task_execution", "Task execution error: "),
    cano.StoreError: ("store", "Store error: "),
    cano.WorkflowError: ("workflow", "Workflow error: "),
    cano.ConfigurationError: ("configuration", "Configuration error: "),
    cano.RetryExhaustedError: ("retry_exhausted", "Retry exhausted: "),
    cano.CanoTimeoutError: ("timeout", "Timeout error: "),
    cano.CircuitOpenError: ("circuit_open", "Circuit open: "),
    cano.CheckpointStoreError: ("checkpoint_store", "Checkpoint store error: "),
    cano.GenericError: ("generic", "Error: "),
    cano.ResourceNotFoundError: ("resource_not_found", "Resource not found: "),
    cano.ResourceTypeMismatchError: ("resource_type_mismatch", "Resource type mismatch: "),
    cano.ResourceDuplicateKeyError: ("resource_duplicate_key", "Resource duplicate key: "),
}


@pytest.mark.parametrize("cls", sorted(CATEGORIES, key=lambda c: c.__name__))
def test_python_constructed_errors_get_cano_categories_and_prefixes(cls: type) -> None:
    error = cls("boom")
    category, prefix = CATEGORIES[cls]
    assert isinstance(error, cano.CanoError)
    assert error.code == cls.default_code
    assert error.category == category
    assert error.message == "boom"
    assert error.display == prefix + "boom"
    assert str(error) == error.description
    assert error.description.startswith(prefix + "boom")
    assert (error.state, error.task, error.attempt, error.run_id, error.cause) == (
        None,
        None,
        0,
        0,
        None,
    )


def test_api_errors_have_category_api_and_their_codes() -> None:
    expected = {
        cano.InvalidArgumentError: "INVALID_ARGUMENT",
        cano.NoMemoryError: "NO_MEMORY",
        cano.WrongThreadError: "WRONG_THREAD",
        cano.BadStateError: "BAD_STATE",
        cano.CancelledError: "CANCELLED",
        cano.ShutdownError: "SHUTDOWN",
        cano.VersionError: "VERSION",
        cano.NotFoundError: "NOT_FOUND",
        cano.InternalError: "INTERNAL",
        cano.UserError: "USER",
    }
    for cls, status in expected.items():
        error = cls("misuse")
        assert isinstance(error, cano.ApiError)
        assert error.category == "api"
        assert error.status == status
        assert cano.error_for(error.code, "x").__class__ is cls


def test_store_errors_subclass_store_error() -> None:
    for cls in (cano.KeyNotFoundError, cano.TypeMismatchError, cano.AppendTypeMismatchError):
        assert issubclass(cls, cano.StoreError)
        assert cls("x").category == "store"
    assert issubclass(cano.KeyNotFoundError, KeyError)
    assert cano.KeyNotFoundError("x").status == "STORE_KEY_NOT_FOUND"


def test_error_for_maps_codes_and_normalises_non_negative_codes() -> None:
    assert type(cano.error_for(C.CANO_E_RETRY_EXHAUSTED, "m")) is cano.RetryExhaustedError
    assert type(cano.error_for(-999, "m")) is cano.CanoError
    error = cano.CanoError("m", code=5)  # a non-negative code becomes TASK_EXECUTION
    assert error.code == C.CANO_E_TASK_EXECUTION
    assert error.category == "task_execution"


def test_errors_from_the_library_carry_message_display_and_description() -> None:
    store = cano.MemoryStore()
    with pytest.raises(cano.KeyNotFoundError) as caught:
        store.get("k")
    error = caught.value
    assert error.code == C.CANO_E_STORE_KEY_NOT_FOUND
    assert error.category == "store"
    assert error.message == "Key not found: Key 'k' not found in store"
    assert error.display == "Store error: Key not found: Key 'k' not found in store"
    assert str(error).startswith(error.display)
    assert repr(error) == (
        "KeyNotFoundError(\"Key not found: Key 'k' not found in store\", code=STORE_KEY_NOT_FOUND)"
    )


def test_run_errors_carry_state_task_attempt_run_and_cause(manual: cano.Engine) -> None:
    workflow = cano.Workflow(Step, exit_states=[Step.Done])

    @workflow.task(Step.Fetch, mode="inline", retry=cano.Retry.fixed(2, 0), name="fetcher")
    def fetch(ctx: cano.TaskContext) -> Step:
        raise ValueError(f"bad attempt {ctx.attempt}")

    with pytest.raises(cano.RetryExhaustedError) as caught:
        workflow.run(manual, Step.Fetch)
    error = caught.value
    assert error.message == (
        "Task failed after 3 attempt(s): Task execution error: ValueError: bad attempt 3"
    )
    assert error.state is Step.Fetch
    assert error.state_name == "Fetch"
    assert error.task == "fetcher"
    assert error.attempt == 3
    assert error.run_id > 0
    assert error.description.endswith(f"(state Fetch, task fetcher, attempt 3, run {error.run_id})")
    cause = error.cause
    assert isinstance(cause, cano.TaskExecutionError)
    assert cause.message == "ValueError: bad attempt 3"
    assert (cause.state, cause.task, cause.attempt) == (Step.Fetch, "fetcher", 3)
    assert error.__cause__ is cause
    # The Python exception behind the last attempt is kept.
    assert isinstance(cause.exception, ValueError)
    assert str(cause.exception) == "bad attempt 3"
    assert cause.__cause__ is cause.exception
    assert error.exception is cause.exception


def test_errors_pickle_with_their_attributes(manual: cano.Engine) -> None:
    workflow = cano.Workflow(Step, exit_states=[Step.Done])
    workflow.register(Step.Fetch, lambda ctx: 1 / 0, mode="inline", retry=cano.Retry.none())
    with pytest.raises(cano.TaskExecutionError) as caught:
        workflow.run(manual, Step.Fetch)
    copy = pickle.loads(pickle.dumps(caught.value))
    assert type(copy) is cano.TaskExecutionError
    assert copy.message == "ZeroDivisionError: division by zero"
    assert (copy.code, copy.category, copy.state, copy.attempt) == (
        C.CANO_E_TASK_EXECUTION,
        "task_execution",
        Step.Fetch,
        1,
    )


def test_take_without_an_error_object_builds_one() -> None:
    error = _errors.take(None, C.CANO_E_SHUTDOWN)
    assert isinstance(error, cano.ShutdownError)
    assert error.message == "failed with status SHUTDOWN"


def test_failure_of_keeps_cano_errors_and_describes_others() -> None:
    assert _errors.failure_of(cano.WorkflowError("w"), -1) == (C.CANO_E_WORKFLOW, "w")
    assert _errors.failure_of(KeyError("k"), -1) == (-1, "KeyError: 'k'")
    assert _errors.failure_of(RuntimeError(), -10) == (-10, "RuntimeError")


def test_a_cloned_error_keeps_its_fields_and_cause_chain(manual: cano.Engine) -> None:
    """cano_error_clone through the raw binding: the clone outlives the original."""
    import ctypes

    workflow = cano.Workflow(Step, exit_states=[Step.Done])
    workflow.register(Step.Fetch, lambda ctx: 1 / 0, mode="inline", retry=cano.Retry.fixed(1, 0))
    out = ctypes.c_int32()
    err = ctypes.c_void_p()
    status = C.cano_run_wait(
        ctypes.byref(out), manual._handle, workflow._handle, 0, ctypes.byref(err)
    )
    assert status == C.CANO_E_RETRY_EXHAUSTED and out.value == 0
    clone = C.cano_error_clone(err.value)
    C.cano_error_free(err.value)
    try:
        copy = _errors.from_handle(clone)
        assert isinstance(copy, cano.RetryExhaustedError)
        assert copy.state == 0 and copy.state_name == "Fetch" and copy.attempt == 2
        assert copy.cause.message == "ZeroDivisionError: division by zero"
    finally:
        C.cano_error_free(clone)
    assert C.cano_error_clone(None) is None
