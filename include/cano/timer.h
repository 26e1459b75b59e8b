/*
 * cano/timer.h - timer tasks: wait for a duration or until a time, then run.
 *
 * cano 0.15's TimerTask (spec section 15): each attempt first decides how long to wait, waits on
 * a loop timer (no thread is held), then calls the task's body (cano's after_wait), which picks
 * the next state as any task does. The wait is `delay_ms`, or `until_ms` (an engine clock
 * reading, cano_engine_clock_now) when that is not 0, or what the optional `wait` callback
 * decides each attempt with cano_task_ctx_wait_for() / cano_task_ctx_wait_until(). A time in
 * the past waits no time. The attempt timeout bounds the wait and the body together; a timer
 * task's default retry policy is cano's TaskConfig::minimal(): CANO_RETRY_DEFAULT means
 * CANO_RETRY_NONE here.
 *
 * Since 0.1.0.
 */
#ifndef CANO_TIMER_H
#define CANO_TIMER_H

#include <stdint.h>

#include "cano/error.h"
#include "cano/export.h"
#include "cano/task.h"
#include "cano/types.h"

CANO_EXTERN_C_BEGIN

/* Decides an attempt's wait: calls cano_task_ctx_wait_for() or cano_task_ctx_wait_until() and
 * returns CANO_OK, or fails the attempt by returning an error (cano_task_ctx_fail). Runs on the
 * loop thread; `user_data` is the task's. */
typedef cano_status (*cano_timer_wait_fn)(cano_task_ctx *ctx, void *user_data);

typedef struct cano_timer_options {
  uint32_t struct_size;     /* set by CANO_TIMER_OPTIONS_INIT */
  uint64_t delay_ms;        /* wait this long (when until_ms and wait are not set) */
  uint64_t until_ms;        /* wait until this engine clock reading; 0 = not set */
  cano_timer_wait_fn wait;  /* decides the wait each attempt; NULL = not set */
} cano_timer_options;

#define CANO_TIMER_OPTIONS_INIT { sizeof(cano_timer_options), 0, 0, NULL }

/* Registers a timer task for a declared state (replacing any previous task). `options->run` is
 * the body that runs after the wait. Same ownership rules and errors as
 * cano_workflow_register(); `timer` must not be NULL. Since 0.1.0. */
CANO_API cano_status cano_workflow_register_timer(cano_workflow *workflow, int32_t state,
                                                  const cano_task_options *options,
                                                  const cano_timer_options *timer,
                                                  cano_error **err);

/* Inside a timer's wait callback: wait `delay_ms` (cano's TimerOutcome::Duration). Returns
 * CANO_OK. Since 0.1.0. */
CANO_API cano_status cano_task_ctx_wait_for(cano_task_ctx *ctx, uint64_t delay_ms);

/* Inside a timer's wait callback: wait until the engine clock reads `clock_ms` (cano's
 * TimerOutcome::Until). Returns CANO_OK. Since 0.1.0. */
CANO_API cano_status cano_task_ctx_wait_until(cano_task_ctx *ctx, uint64_t clock_ms);

CANO_EXTERN_C_END

#endif /* CANO_TIMER_H */
