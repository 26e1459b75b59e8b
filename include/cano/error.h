/*
 * cano/error.h - status codes and owned error objects.
 *
 * Every fallible call returns a cano_status (CANO_OK is 0, errors are negative) and, when the
 * caller passes a non-NULL trailing `cano_error **err`, stores a new error object there that the
 * caller owns and releases with cano_error_free(). There is no thread-local "last error".
 * When a call that takes a callback fails synchronously, that callback is never called.
 *
 * The codes from CANO_E_TASK_EXECUTION down to CANO_E_RESOURCE_DUPLICATE_KEY are the error
 * categories of cano 0.13's CanoError (spec section 12); cano_error_category() returns the
 * category's snake_case name exactly as cano's category() does. The store codes are finer
 * grained codes of the "store" category. The remaining codes describe misuse of the C API.
 *
 * Since 0.1.0.
 */
#ifndef CANO_ERROR_H
#define CANO_ERROR_H

#include <stdint.h>

#include "cano/export.h"

CANO_EXTERN_C_BEGIN

typedef int32_t cano_status;

#define CANO_OK 0
/* Returned by an async task body that will finish later through cano_task_complete*(). */
#define CANO_PENDING 1

/* cano 0.13 error categories. */
#define CANO_E_TASK_EXECUTION (-1)
#define CANO_E_STORE (-2)
#define CANO_E_WORKFLOW (-3)
#define CANO_E_CONFIGURATION (-4)
#define CANO_E_RETRY_EXHAUSTED (-5)
#define CANO_E_TIMEOUT (-6)
#define CANO_E_CIRCUIT_OPEN (-7)
#define CANO_E_CHECKPOINT_STORE (-8)
#define CANO_E_COMPENSATION_FAILED (-9)
#define CANO_E_GENERIC (-10)
#define CANO_E_RESOURCE_NOT_FOUND (-11)
#define CANO_E_RESOURCE_TYPE_MISMATCH (-12)
#define CANO_E_RESOURCE_DUPLICATE_KEY (-13)

/* Store errors (category "store"). */
#define CANO_E_STORE_KEY_NOT_FOUND (-20)
#define CANO_E_STORE_TYPE_MISMATCH (-21)
#define CANO_E_STORE_APPEND_TYPE_MISMATCH (-22)

/* C API errors (category "api"). */
#define CANO_E_INVALID_ARGUMENT (-40) /* a NULL, empty or out-of-range argument */
#define CANO_E_NO_MEMORY (-41)
#define CANO_E_WRONG_THREAD (-42)   /* e.g. a blocking call made on the engine's loop thread */
#define CANO_E_BAD_STATE (-43)      /* e.g. a second completion, a frozen workflow */
#define CANO_E_CANCELLED (-44)      /* the run was cancelled */
#define CANO_E_SHUTDOWN (-45)       /* the engine is shutting down or shut down */
#define CANO_E_VERSION (-46)        /* an options struct smaller than any released layout */
#define CANO_E_NOT_FOUND (-47)      /* a lookup by id found nothing */
#define CANO_E_INTERNAL (-48)       /* a bug or an unexpected exception inside the library */
#define CANO_E_USER (-49)           /* raised by a user callback; never produced by the library */

typedef struct cano_error cano_error;

/* The constant's name without the prefix ("OK", "TASK_EXECUTION", "STORE_KEY_NOT_FOUND", ...),
 * or "UNKNOWN". Static storage. Any thread. Since 0.1.0. */
CANO_API const char *cano_status_name(cano_status status);

/* Creates an error a callback hands to the library (a task failure, a resource setup failure).
 * `message` is copied; NULL means "". A non-negative `code` becomes CANO_E_TASK_EXECUTION.
 * Returns NULL only when memory is exhausted. The caller owns the result. Since 0.1.0. */
CANO_API cano_error *cano_error_new(cano_status code, const char *message);

/* Releases an error and its cause chain. NULL-safe. Since 0.1.0. */
CANO_API void cano_error_free(cano_error *err);

/* Deep copy (the cause chain too); NULL for NULL or on exhausted memory. Since 0.1.0. */
CANO_API cano_error *cano_error_clone(const cano_error *err);

/* The status code; CANO_E_INVALID_ARGUMENT for NULL. Since 0.1.0. */
CANO_API cano_status cano_error_code(const cano_error *err);

/* The category name: one of cano's snake_case categories ("task_execution", "store",
 * "workflow", "configuration", "retry_exhausted", "timeout", "circuit_open",
 * "checkpoint_store", "compensation_failed", "generic", "resource_not_found",
 * "resource_type_mismatch", "resource_duplicate_key") or "api" for C API misuse. Static storage.
 * Since 0.1.0. */
CANO_API const char *cano_error_category(const cano_error *err);

/* The message alone, as cano's message(), e.g. "Task failed after 4 attempt(s): Task execution
 * error: boom". Borrowed: valid until the error is freed. Never NULL. Since 0.1.0. */
CANO_API const char *cano_error_message(const cano_error *err);

/* The message with cano's Display prefix, e.g. "Retry exhausted: Task failed after ...".
 * Borrowed: valid until the error is freed. Never NULL. Since 0.1.0. */
CANO_API const char *cano_error_display(const cano_error *err);

/* The full description: the Display text followed by the context the error came from, e.g.
 * "Retry exhausted: Task failed after 4 attempt(s): ... (state Fetch, task fetch, attempt 4,
 * run 7)". Borrowed: valid until the error is freed. Never NULL. Since 0.1.0. */
CANO_API const char *cano_error_describe(const cano_error *err);

/* The error this one wraps (a RetryExhausted error wraps the last attempt's error), or NULL.
 * Borrowed from `err`. Since 0.1.0. */
CANO_API const cano_error *cano_error_cause(const cano_error *err);

/* 1 when the error came from a workflow state, then *out (may be NULL) gets the state code;
 * 0 otherwise. Since 0.1.0. */
CANO_API int cano_error_state(const cano_error *err, int32_t *out);

/* The name of the state the error came from, or NULL. Borrowed from `err`. Since 0.1.0. */
CANO_API const char *cano_error_state_name(const cano_error *err);

/* The name of the task the error came from, or NULL. Borrowed from `err`. Since 0.1.0. */
CANO_API const char *cano_error_task_name(const cano_error *err);

/* The 1-based attempt the error came from, or 0 when it did not come from a task attempt.
 * Since 0.1.0. */
CANO_API uint32_t cano_error_attempt(const cano_error *err);

/* The id of the run the error came from, or 0. Since 0.1.0. */
CANO_API uint64_t cano_error_run_id(const cano_error *err);

/* Releases memory the library handed out (strings and buffers documented as "free with
 * cano_free"). NULL-safe. Any thread. Since 0.1.0. */
CANO_API void cano_free(void *ptr);

CANO_EXTERN_C_END

#endif /* CANO_ERROR_H */
