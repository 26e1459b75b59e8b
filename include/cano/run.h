/*
 * cano/run.h - running a workflow: asynchronously with a completion callback, or blocking.
 *
 * A run follows cano 0.13's orchestrate (spec section 1.3, 1.4): validate (cached when the
 * workflow freezes) and check the initial state before anything runs; acquire the resources;
 * then loop: exit check, handler lookup ("No task registered for state: X"), dispatch; release
 * the resources; report. A failure never moves to another state: it ends the run.
 *
 * Resources: cano sets resources up before and tears them down after every orchestrate call.
 * libcano keeps that for runs one after another, and shares them between runs in flight at the
 * same time: the first run that needs them sets them up, later runs that start meanwhile use
 * them as they are, and the last run to finish tears them down (see cano/resources.h).
 *
 * Since 0.1.0.
 */
#ifndef CANO_RUN_H
#define CANO_RUN_H

#include <stdint.h>

#include "cano/engine.h"
#include "cano/error.h"
#include "cano/export.h"
#include "cano/workflow.h"

CANO_EXTERN_C_BEGIN

/* Called once when a run ends, on the loop thread. `status` is CANO_OK with `final_state` the
 * exit state reached, or an error with `error` (borrowed for the call; cano_error_clone() to
 * keep it) and `final_state` the state the run was in. */
typedef void (*cano_run_done_fn)(uint64_t run_id, cano_status status, int32_t final_state,
                                 const cano_error *error, void *user_data);

/* Starts a run of `workflow` from `initial` and returns at once with its id in *out (may be
 * NULL). Any thread: from the loop thread the run starts immediately, from any other it is
 * queued to the loop. Freezes the workflow. `done` (may be NULL) is called exactly once, after
 * the resources were released, unless this function fails, in which case it is never called.
 * Errors: CANO_E_CONFIGURATION (validation or initial state, nothing runs), CANO_E_SHUTDOWN,
 * CANO_E_INVALID_ARGUMENT. Since 0.1.0. */
CANO_API cano_status cano_run_start(uint64_t *out, cano_engine *engine, cano_workflow *workflow,
                                    int32_t initial, cano_run_done_fn done, void *user_data,
                                    cano_error **err);

/* Runs `workflow` from `initial` and blocks until it ends: cano's orchestrate(). *out (may be
 * NULL) gets the final state. Returns the run's status and error as cano_run_done_fn describes.
 * Refuses to run on the engine's loop thread (CANO_E_WRONG_THREAD), where it would wait on
 * itself. From a worker task body it works, but it holds that worker while it waits: a run
 * that needs more workers than are free then waits forever. Since 0.1.0. */
CANO_API cano_status cano_run_wait(int32_t *out, cano_engine *engine, cano_workflow *workflow,
                                   int32_t initial, cano_error **err);

/* Cancels run `run_id`: its in-flight attempt is abandoned (cancelled flag set, late result
 * discarded), its resources are released, and it ends with CANO_E_CANCELLED. Any thread. From
 * another thread the run has ended when this returns. On the loop thread (inside an inline or
 * async body or a callback, perhaps of that very run) the run is only marked, because ending it
 * there would pull it from under the caller: it ends at its next transition (the result of the
 * step in progress is discarded; a batch step's inline items run to the end of that step) or
 * when the loop next takes its messages, whichever comes first. Errors: CANO_E_NOT_FOUND (no
 * such run in flight; it may already have ended), CANO_E_SHUTDOWN. Since 0.1.0. */
CANO_API cano_status cano_run_cancel(cano_engine *engine, uint64_t run_id, cano_error **err);

/* The number of runs in flight on the engine. Any thread (a snapshot). Since 0.1.0. */
CANO_API uint64_t cano_engine_runs_in_flight(const cano_engine *engine);

CANO_EXTERN_C_END

#endif /* CANO_RUN_H */
