/*
 * cano/poll.h - poll tasks ("wait until"): a body that answers "ready" or "not yet".
 *
 * A poll task's body picks the next state when what it waits for is ready
 * (cano_task_ctx_next) or asks to be polled again after a delay
 * (`return cano_task_ctx_poll_again(ctx, delay_ms);`). The engine re-polls on a loop timer, so
 * no thread is held while it waits, and a delay of 0 re-polls on the loop's next turn. The whole
 * wait is one attempt (cano 0.13 spec section 3.2): the attempt timeout bounds the total wait,
 * and a retrying policy restarts the whole wait. A poll task's default retry policy is cano's
 * TaskConfig::minimal() (one attempt): CANO_RETRY_DEFAULT means CANO_RETRY_NONE here.
 *
 * Errors from the body follow the error policy: CANO_POLL_FAIL_FAST (the default) fails the
 * attempt at the first error; CANO_POLL_RETRY_ON_ERROR re-polls at once, and fails the attempt
 * when more than `max_errors` errors came in a row (a "not yet" resets the count; so
 * max_errors = 0 fails at the first error).
 *
 * Since 0.1.0.
 */
#ifndef CANO_POLL_H
#define CANO_POLL_H

#include <stdint.h>

#include "cano/error.h"
#include "cano/export.h"
#include "cano/task.h"
#include "cano/types.h"

CANO_EXTERN_C_BEGIN

/* Returned by a poll task's body (through cano_task_ctx_poll_again) to be polled again. */
#define CANO_POLL_AGAIN 2

typedef enum cano_poll_error_policy {
  CANO_POLL_FAIL_FAST = 0,
  CANO_POLL_RETRY_ON_ERROR = 1,
  CANO_POLL_ERROR_POLICY_FORCE32 = 0x7fffffff
} cano_poll_error_policy;

typedef struct cano_poll_options {
  uint32_t struct_size;           /* set by CANO_POLL_OPTIONS_INIT */
  cano_poll_error_policy policy;  /* CANO_POLL_FAIL_FAST by default */
  uint32_t max_errors;            /* CANO_POLL_RETRY_ON_ERROR's limit of errors in a row */
} cano_poll_options;

#define CANO_POLL_OPTIONS_INIT { sizeof(cano_poll_options), CANO_POLL_FAIL_FAST, 0 }

/* Registers a poll task for a declared state (replacing any previous task). `poll` may be NULL
 * (fail fast). Same ownership rules and errors as cano_workflow_register(), plus
 * CANO_E_INVALID_ARGUMENT for an unknown policy. Since 0.1.0. */
CANO_API cano_status cano_workflow_register_poll(cano_workflow *workflow, int32_t state,
                                                 const cano_task_options *options,
                                                 const cano_poll_options *poll, cano_error **err);

/* Inside a poll task's body: asks to be polled again after `delay_ms` and returns
 * CANO_POLL_AGAIN, so a body can end with `return cano_task_ctx_poll_again(ctx, 100);`. A task
 * not registered as a poll task fails its attempt when it returns CANO_POLL_AGAIN.
 * Since 0.1.0. */
CANO_API cano_status cano_task_ctx_poll_again(cano_task_ctx *ctx, uint64_t delay_ms);

CANO_EXTERN_C_END

#endif /* CANO_POLL_H */
