/*
 * cano/task.h - tasks: the callback registered for a state, where it runs, its retries.
 *
 * A task body is a C function. It reads what it needs through its context, then either picks
 * the next state (`return cano_task_ctx_next(ctx, NEXT)`), fails
 * (`return cano_task_ctx_fail(ctx, CANO_E_TASK_EXECUTION, "why")`), or, when registered as
 * CANO_TASK_ASYNC, returns CANO_PENDING and finishes later from any thread with
 * cano_task_complete() or cano_task_complete_error().
 *
 * Retries and timeouts follow cano 0.13 (spec sections 2.3 and 2.4) exactly: an attempt that
 * fails is retried after delay_for_attempt(i); when max_attempts > 1 and every attempt failed,
 * the run fails with CANO_E_RETRY_EXHAUSTED ("Task failed after N attempt(s): <last error>",
 * whose cause is the last attempt's error); with a single attempt the raw error is returned.
 *
 * Since 0.1.0.
 */
#ifndef CANO_TASK_H
#define CANO_TASK_H

#include <stddef.h>
#include <stdint.h>

#include "cano/error.h"
#include "cano/export.h"
#include "cano/types.h"

CANO_EXTERN_C_BEGIN


/* Where a task body runs. */
typedef enum cano_task_mode {
  /* On the engine's worker pool (the default). The body may block. When its attempt times
   * out, the run moves on (retry or failure) at once, the context's cancelled flag is set, and
   * the body's late result is discarded when it returns. */
  CANO_TASK_WORKER = 0,
  /* On the loop thread, for short bodies that never block: the fastest path. An attempt
   * timeout cannot interrupt such a body (as a cano task that never awaits). */
  CANO_TASK_INLINE = 1,
  /* On the loop thread; the body starts work and returns CANO_PENDING, and any thread finishes
   * the attempt later with exactly one cano_task_complete*() call on its token. */
  CANO_TASK_ASYNC = 2,
  CANO_TASK_MODE_FORCE32 = 0x7fffffff
} cano_task_mode;

/* cano's RetryMode. */
typedef enum cano_retry_kind {
  /* cano's TaskConfig::default(): exponential, 3 retries, 100 ms base, x2, 30 s cap, 10 %
   * jitter. The other retry fields are ignored. */
  CANO_RETRY_DEFAULT = 0,
  /* One attempt (cano's TaskConfig::minimal()). */
  CANO_RETRY_NONE = 1,
  /* retry_max_retries + 1 attempts, retry_delay_ms between them. */
  CANO_RETRY_FIXED = 2,
  /* retry_max_retries + 1 attempts; the delay after failed attempt i (0-based) is
   * min(retry_delay_ms * retry_multiplier^i, retry_max_delay_ms), times (1 + jitter * r) with r
   * uniform in [-1, 1], truncated to whole milliseconds. retry_jitter is clamped into [0, 1]
   * (as RetryMode::exponential_custom does). */
  CANO_RETRY_EXPONENTIAL = 3,
  CANO_RETRY_KIND_FORCE32 = 0x7fffffff
} cano_retry_kind;

/* The body of a task. `ctx` and everything borrowed from it live only during the call (for
 * CANO_TASK_ASYNC, keep the token instead). Runs on the thread its mode names. Returns the
 * value of cano_task_ctx_next() or cano_task_ctx_fail(), or CANO_PENDING (async mode only); any
 * other negative value fails the attempt with that code. */
typedef cano_status (*cano_task_fn)(cano_task_ctx *ctx, void *user_data);

typedef struct cano_task_options {
  uint32_t struct_size;     /* set by CANO_TASK_OPTIONS_INIT */
  cano_task_fn run;         /* required */
  void *user_data;          /* handed to run */
  /* Called exactly once with user_data after the task's last use: when the workflow that holds
   * it is destroyed and its last run has finished, or when registering fails. May be NULL. */
  void (*destroy)(void *user_data);
  const char *name;         /* the task's name in errors and logs; NULL = the state's name */
  cano_task_mode mode;      /* CANO_TASK_WORKER by default */
  cano_retry_kind retry;    /* CANO_RETRY_DEFAULT by default */
  uint32_t retry_max_retries;
  uint64_t retry_delay_ms;      /* fixed delay, or the exponential base */
  double retry_multiplier;      /* exponential only */
  uint64_t retry_max_delay_ms;  /* exponential only */
  double retry_jitter;          /* exponential only */
  uint64_t attempt_timeout_ms;  /* 0 = none; each attempt gets a fresh deadline */
  /* CANO_TASK_ASYNC only (ignored otherwise): called when a pending attempt is abandoned, so
   * that the body can stop the work it started: its attempt timed out, its split branch lost (an
   * early exit or the split timeout), or its run was cancelled, timed out or ended by shutdown.
   * Called once per abandoned attempt, on the loop thread, as soon as the loop has finished the
   * step that abandoned it (never inside the body's own call), with the attempt's token and
   * user_data. An attempt whose completion was already on its way when it was abandoned (a
   * completion the loop had not taken yet) is told too, and that completion is accepted and
   * ignored, as any completion after the notice is. Must not block. NULL = not told.
   * Since 0.1.0. */
  void (*cancel)(uint64_t token, void *user_data);
} cano_task_options;

#define CANO_TASK_OPTIONS_INIT \
  { sizeof(cano_task_options), NULL, NULL, NULL, NULL, CANO_TASK_WORKER, CANO_RETRY_DEFAULT, \
    0, 0, 0.0, 0, 0.0, 0, NULL }

/* Sets the retry fields of `options` to cano's TaskConfig::minimal() (one attempt), Fixed, or
 * ExponentialBackoff with cano's defaults for `max_retries` (RetryMode::exponential(n)). These
 * only fill in fields; they never fail. Since 0.1.0. */
CANO_API void cano_task_options_retry_none(cano_task_options *options);
CANO_API void cano_task_options_retry_fixed(cano_task_options *options, uint32_t retries,
                                            uint64_t delay_ms);
CANO_API void cano_task_options_retry_exponential(cano_task_options *options,
                                                  uint32_t max_retries);

/* The delay in milliseconds cano waits after failed attempt `attempt_index` (0-based) under the
 * retry fields of `options`, with `random_unit` in [-1, 1] standing for the jitter draw; -1 when
 * no retry follows that attempt. A pure function, exposed so that every binding computes and
 * tests the same numbers. Since 0.1.0. */
CANO_API int64_t cano_task_options_retry_delay(const cano_task_options *options,
                                               uint32_t attempt_index, double random_unit);

/* The number of attempts the retry fields allow (retries + 1, or 1). Since 0.1.0. */
CANO_API uint32_t cano_task_options_max_attempts(const cano_task_options *options);

/* --- Inside a task body (the thread the body runs on, during the call) ------------------- */

/* Records `next_state` as the attempt's result and returns CANO_OK, so a body can end with
 * `return cano_task_ctx_next(ctx, S);`. Since 0.1.0. */
CANO_API cano_status cano_task_ctx_next(cano_task_ctx *ctx, int32_t next_state);

/* Records a failure (`message` is copied; NULL = "") and returns `code` (a non-negative code
 * becomes CANO_E_TASK_EXECUTION), so a body can end with `return cano_task_ctx_fail(...)`.
 * The run's error names the state, the task and the attempt. Since 0.1.0. */
CANO_API cano_status cano_task_ctx_fail(cano_task_ctx *ctx, cano_status code, const char *message);

/* Like cano_task_ctx_fail(), but the failure ends the task's retries at once and is returned
 * as it is (never wrapped in CANO_E_RETRY_EXHAUSTED): what cano does with a panic. Bindings use
 * it for a Go panic or a C++ crash-like failure. Since 0.1.0. */
CANO_API cano_status cano_task_ctx_fail_fatal(cano_task_ctx *ctx, cano_status code,
                                             const char *message);

/* The run's resources (borrowed; never NULL, possibly empty). Since 0.1.0. */
CANO_API cano_resources *cano_task_ctx_resources(const cano_task_ctx *ctx);

/* The 1-based attempt number. Since 0.1.0. */
CANO_API uint32_t cano_task_ctx_attempt(const cano_task_ctx *ctx);

/* The run's id (unique within the engine, never 0). Since 0.1.0. */
CANO_API uint64_t cano_task_ctx_run_id(const cano_task_ctx *ctx);

/* The state the task runs for. Since 0.1.0. */
CANO_API int32_t cano_task_ctx_state(const cano_task_ctx *ctx);

/* The engine running the task (borrowed). Since 0.1.0. */
CANO_API cano_engine *cano_task_ctx_engine(const cano_task_ctx *ctx);

/* 1 once the attempt is abandoned (its timeout fired, the run was cancelled or timed out, or
 * the engine shuts down); a worker body that runs long should poll it and return early.
 * Any thread. Since 0.1.0. */
CANO_API int cano_task_ctx_cancelled(const cano_task_ctx *ctx);

/* The completion token of an async attempt: the handle that outlives the context. 0 for
 * tasks that are not CANO_TASK_ASYNC. Since 0.1.0. */
CANO_API uint64_t cano_task_ctx_token(const cano_task_ctx *ctx);

/* --- Finishing an async attempt (any thread) ---------------------------------------------- */

/* Finishes the async attempt `token` with `next_state`. Exactly one completion per token:
 * a second one, or an unknown token, always returns CANO_E_BAD_STATE and changes nothing. The
 * first completion of an attempt that already timed out (or whose run ended) is accepted and
 * ignored (CANO_OK). Errors: CANO_E_SHUTDOWN once the engine shuts down. Since 0.1.0. */
CANO_API cano_status cano_task_complete(cano_engine *engine, uint64_t token, int32_t next_state,
                                        cano_error **err);

/* Finishes the async attempt `token` with a failure (`message` copied; a non-negative code
 * becomes CANO_E_TASK_EXECUTION). Same rules as cano_task_complete(). Since 0.1.0. */
CANO_API cano_status cano_task_complete_error(cano_engine *engine, uint64_t token,
                                              cano_status code, const char *message,
                                              cano_error **err);

CANO_EXTERN_C_END

#endif /* CANO_TASK_H */
