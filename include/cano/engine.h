/*
 * cano/engine.h - the engine: one event loop on one thread, a fixed pool of workers.
 *
 * Every run, timer and retry of an engine lives on its loop thread, so engine state needs no
 * locks. Task bodies run where their registration says (cano/task.h): on the loop thread
 * (inline), on a worker (worker), or anywhere, finishing later (async).
 *
 * Threads: cano_engine_create/shutdown/destroy from any thread but the engine's own threads.
 * cano_engine_post, the clock functions, cano_task_complete*, cano_run_start and cano_run_cancel
 * may be called from any thread; they reach the loop through one queue and one wake-up.
 *
 * Since 0.1.0.
 */
#ifndef CANO_ENGINE_H
#define CANO_ENGINE_H

#include <stdint.h>

#include "cano/error.h"
#include "cano/export.h"
#include "cano/types.h"

CANO_EXTERN_C_BEGIN


typedef enum cano_clock_kind {
  /* The loop's monotonic clock (libuv's loop time, milliseconds). */
  CANO_CLOCK_REAL = 0,
  /* A clock that moves only when cano_engine_clock_advance() is called, for tests: retry
   * delays, attempt timeouts and workflow timeouts then take no wall-clock time. */
  CANO_CLOCK_MANUAL = 1,
  CANO_CLOCK_KIND_FORCE32 = 0x7fffffff
} cano_clock_kind;

typedef struct cano_engine_options {
  uint32_t struct_size;     /* sizeof(cano_engine_options); set by CANO_ENGINE_OPTIONS_INIT */
  uint32_t worker_threads;  /* 0 = one per CPU, at least 2 */
  cano_clock_kind clock;    /* CANO_CLOCK_REAL (default) or CANO_CLOCK_MANUAL */
  uint64_t manual_clock_start_ms; /* the manual clock's initial reading */
  uint64_t random_seed;     /* seeds retry jitter; 0 = seeded from the OS */
  /* How long an idle worker, and the loop while worker tasks are in flight, poll for work
   * before they sleep. 0 = the library default (see README "Performance"); negative = never. */
  int32_t spin_us;
} cano_engine_options;

#define CANO_ENGINE_OPTIONS_INIT \
  { sizeof(cano_engine_options), 0, CANO_CLOCK_REAL, 0, 0, 0 }

/* Creates an engine and starts its loop thread and workers. `options` may be NULL (defaults).
 * Errors: CANO_E_INVALID_ARGUMENT (out is NULL), CANO_E_VERSION (struct_size too small),
 * CANO_E_INTERNAL (a thread or the loop could not start). The caller owns *out and releases it
 * with cano_engine_destroy(). Since 0.1.0. */
CANO_API cano_status cano_engine_create(cano_engine **out, const cano_engine_options *options,
                                        cano_error **err);

/* Stops the engine and blocks until it has stopped. New runs are refused with CANO_E_SHUTDOWN;
 * runs in flight are cancelled: their in-flight attempts see the cancelled flag, their resources
 * are released (teardown runs as usual) and their completion callbacks are called with
 * CANO_E_SHUTDOWN. Shutdown waits for worker task bodies that are still running to return.
 * When it returns, no callback of this engine is running and none will run. Idempotent.
 * Must not be called on one of the engine's own threads (CANO_E_WRONG_THREAD). Since 0.1.0. */
CANO_API cano_status cano_engine_shutdown(cano_engine *engine);

/* Shuts the engine down (if it is not already) and frees it. NULL-safe. Calling any function
 * with the engine afterwards, cano_task_complete*() included, is undefined. Called on one of the
 * engine's own threads (a task body, a callback) it does nothing, since the engine cannot join
 * the thread it runs on. Since 0.1.0. */
CANO_API void cano_engine_destroy(cano_engine *engine);

/* Runs `fn(user_data)` on the loop thread, soon. Any thread. A function accepted here always
 * runs, even when shutdown starts before its turn. Once the engine has stopped taking work,
 * returns CANO_E_SHUTDOWN and `fn` is never called. Since 0.1.0. */
CANO_API cano_status cano_engine_post(cano_engine *engine, void (*fn)(void *user_data),
                                      void *user_data, cano_error **err);

/* 1 when the calling thread is the engine's loop thread, else 0. Since 0.1.0. */
CANO_API int cano_engine_on_loop_thread(const cano_engine *engine);

/* The number of worker threads. Since 0.1.0. */
CANO_API uint32_t cano_engine_worker_count(const cano_engine *engine);

/* The engine clock's reading in milliseconds. Any thread. Since 0.1.0. */
CANO_API uint64_t cano_engine_clock_now(const cano_engine *engine);

/* Moves a manual clock forward by `ms`, firing the timers that fall due in deadline order; the
 * clock reads each timer's deadline while it fires, so a chain of retries that fits in `ms`
 * completes within one call (as far as the tasks involved run on the loop). Blocks until those
 * timers have fired. Any thread but the engine's loop thread. Errors: CANO_E_BAD_STATE (the
 * engine has a real clock), CANO_E_WRONG_THREAD (called on the loop thread, from an inline or
 * async body or a callback), CANO_E_SHUTDOWN. Since 0.1.0. */
CANO_API cano_status cano_engine_clock_advance(cano_engine *engine, uint64_t ms,
                                               cano_error **err);

/* The deadline (clock milliseconds) of the engine's earliest pending timer. Tests use it to
 * wait until a run is waiting for its retry delay or its timeout. Any thread. Errors:
 * CANO_E_NOT_FOUND (no timer is pending), CANO_E_SHUTDOWN. Since 0.1.0. */
CANO_API cano_status cano_engine_clock_next_deadline(uint64_t *out, cano_engine *engine,
                                                     cano_error **err);

CANO_EXTERN_C_END

#endif /* CANO_ENGINE_H */
