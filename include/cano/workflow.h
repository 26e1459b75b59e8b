/*
 * cano/workflow.h - a workflow: named states, one task per state, exit states.
 *
 * A workflow is built first (states, tasks, exit states, timeout) and then run, any number of
 * times and concurrently (cano/run.h). Its first run freezes it: from then on it is immutable
 * and shared by its runs without locks, and the builder functions return CANO_E_BAD_STATE.
 *
 * Threads: build a workflow on one thread at a time; once frozen, any thread may start runs.
 *
 * Since 0.1.0.
 */
#ifndef CANO_WORKFLOW_H
#define CANO_WORKFLOW_H

#include <stdint.h>

#include "cano/error.h"
#include "cano/export.h"
#include "cano/types.h"
#include "cano/task.h"

CANO_EXTERN_C_BEGIN


/* Creates an empty workflow over `resources` (retained; NULL = a resource-free workflow, cano's
 * Workflow::bare()). The caller owns *out and releases it with cano_workflow_destroy(). Errors:
 * CANO_E_INVALID_ARGUMENT. Since 0.1.0. */
CANO_API cano_status cano_workflow_create(cano_workflow **out, cano_resources *resources,
                                          cano_error **err);

/* Drops the caller's reference. Runs in flight keep the workflow alive; the tasks' destroy
 * hooks run when the last reference goes. NULL-safe. Any thread. Since 0.1.0. */
CANO_API void cano_workflow_destroy(cano_workflow *workflow);

/* Declares a state: its code and its unique name (copied; names appear in errors, logs and,
 * later, checkpoints). Errors: CANO_E_INVALID_ARGUMENT (NULL or empty name),
 * CANO_E_CONFIGURATION (the code or the name is already declared), CANO_E_BAD_STATE (frozen).
 * Since 0.1.0. */
CANO_API cano_status cano_workflow_add_state(cano_workflow *workflow, int32_t state,
                                             const char *name, cano_error **err);

/* Registers the task for a declared state, replacing any previous one (whose destroy hook runs
 * at once). `options` is copied. On error the task's destroy hook is called before this returns,
 * so ownership of user_data always passes to the library; the one exception is CANO_E_VERSION,
 * where the struct is too small to be read at all. Errors: CANO_E_INVALID_ARGUMENT
 * (NULL options or run, bad mode or retry kind), CANO_E_VERSION (struct_size too small),
 * CANO_E_CONFIGURATION (state not declared), CANO_E_BAD_STATE (frozen). Since 0.1.0. */
CANO_API cano_status cano_workflow_register(cano_workflow *workflow, int32_t state,
                                            const cano_task_options *options, cano_error **err);

/* Registers a router for a declared state: a side-effect-free task that only picks the next
 * state (cano's RouterTask). It runs like any task (same options, modes, retries; its default
 * retry policy is cano's TaskConfig::default(), as for RouterTask); the difference is that a
 * router state will write no checkpoint row and take no sequence number once checkpoints exist.
 * Same ownership rules and errors as cano_workflow_register(). Since 0.1.0. */
CANO_API cano_status cano_workflow_register_router(cano_workflow *workflow, int32_t state,
                                                   const cano_task_options *options,
                                                   cano_error **err);

/* Marks a declared state as an exit state (duplicates are ignored). A run that enters an exit
 * state ends there; a task registered on an exit state never runs. Errors:
 * CANO_E_CONFIGURATION (state not declared), CANO_E_BAD_STATE (frozen). Since 0.1.0. */
CANO_API cano_status cano_workflow_add_exit_state(cano_workflow *workflow, int32_t state,
                                                  cano_error **err);

/* A wall-clock limit for each run's state machine (not its resource setup and teardown), cano's
 * with_timeout: on expiry the in-flight attempt is abandoned, teardown still runs, and the run
 * fails with CANO_E_WORKFLOW "Workflow timeout exceeded". 0 = none (the default).
 * Errors: CANO_E_BAD_STATE (frozen). Since 0.1.0. */
CANO_API cano_status cano_workflow_set_timeout(cano_workflow *workflow, uint64_t timeout_ms,
                                               cano_error **err);

/* cano's validate(), in its order: "Workflow has no registered state handlers", then "Workflow
 * has no exit states defined — orchestration may loop forever" (CANO_E_CONFIGURATION).
 * Any thread. Since 0.1.0. */
CANO_API cano_status cano_workflow_validate(const cano_workflow *workflow, cano_error **err);

/* cano's validate_initial_state(): CANO_E_CONFIGURATION "Initial state Name is neither
 * registered nor an exit state" (an undeclared code is shown as a number). Since 0.1.0. */
CANO_API cano_status cano_workflow_validate_initial_state(const cano_workflow *workflow,
                                                          int32_t state, cano_error **err);

/* The name declared for `state`, or NULL. Borrowed from the workflow. Since 0.1.0. */
CANO_API const char *cano_workflow_state_name(const cano_workflow *workflow, int32_t state);

/* The code of the state named `name`. Errors: CANO_E_NOT_FOUND. Since 0.1.0. */
CANO_API cano_status cano_workflow_state_code(int32_t *out, const cano_workflow *workflow,
                                              const char *name, cano_error **err);

/* The workflow's resources (borrowed; an empty set for a bare workflow). Since 0.1.0. */
CANO_API cano_resources *cano_workflow_resources(const cano_workflow *workflow);

CANO_EXTERN_C_END

#endif /* CANO_WORKFLOW_H */
