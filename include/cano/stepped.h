/*
 * cano/stepped.h - stepped tasks: resumable iterative work, one step at a time.
 *
 * A stepped body reads the cursor the previous step left (cano_task_ctx_cursor; none on the
 * first step) and either asks for another step with a new cursor
 * (`return cano_task_ctx_step_more(ctx, data, len);`) or finishes by picking the next state
 * (cano_task_ctx_next). Cursors are bytes; the bindings carry JSON text in them.
 *
 * As cano 0.13 (spec section 3.4): registered with cano_workflow_register_stepped, each step is
 * its own attempt loop (retries and attempt timeout per step, a retry gets the same input
 * cursor), and a failed step fails the task. A task registered with cano_workflow_register
 * whose body returns CANO_STEP_MORE runs the whole loop as one attempt: an attempt timeout
 * bounds all the steps and a retry starts again without a cursor. Once checkpoints exist, a
 * stepped state's cursors will be persisted so that a resumed run continues from the last one.
 *
 * Since 0.1.0.
 */
#ifndef CANO_STEPPED_H
#define CANO_STEPPED_H

#include <stddef.h>
#include <stdint.h>

#include "cano/error.h"
#include "cano/export.h"
#include "cano/task.h"
#include "cano/types.h"

CANO_EXTERN_C_BEGIN

/* Returned by a body (through cano_task_ctx_step_more) that wants another step. */
#define CANO_STEP_MORE 3

/* Registers a stepped task for a declared state (replacing any previous task). Its default
 * retry policy is cano's TaskConfig::default(), per step. Same ownership rules and errors as
 * cano_workflow_register(). Since 0.1.0. */
CANO_API cano_status cano_workflow_register_stepped(cano_workflow *workflow, int32_t state,
                                                    const cano_task_options *options,
                                                    cano_error **err);

/* Inside a body: records the cursor for the next step (copied; data may be NULL when len is 0)
 * and returns CANO_STEP_MORE, so a body can end with
 * `return cano_task_ctx_step_more(ctx, &i, sizeof i);`. Since 0.1.0. */
CANO_API cano_status cano_task_ctx_step_more(cano_task_ctx *ctx, const void *cursor, size_t len);

/* Inside a body: 1 and the cursor the previous step left in *data / *len (borrowed, valid
 * during the call; either may be NULL), or 0 on the first step. Since 0.1.0. */
CANO_API int cano_task_ctx_cursor(const cano_task_ctx *ctx, const void **data, size_t *len);

CANO_EXTERN_C_END

#endif /* CANO_STEPPED_H */
