/*
 * cano/batch.h - batch tasks: load items, process each with a concurrency limit, then finish.
 *
 * cano 0.13's BatchTask (spec section 3.3). One attempt of a batch task is three steps:
 *
 *   load          the `load` callback adds every item with cano_task_ctx_batch_add() and
 *                 returns CANO_OK (or fails: the attempt fails and `finish` is not called);
 *   process_item  called once per item, at most `concurrency` items at a time; it reads its
 *                 item with cano_task_ctx_batch_item(), may leave an output with
 *                 cano_task_ctx_set_value(), and returns CANO_OK or fails (cano_task_ctx_fail);
 *   finish        the task's own body (`options->run`) reads every item's outcome in input
 *                 order with cano_task_ctx_batch_results() and picks the next state.
 *
 * Item failures do not fail the batch: `finish` decides. Each item has its own retry loop
 * (the item_retry fields; one attempt by default, as cano's item_retry() = RetryMode::None)
 * whose final error is the last attempt's, raw (never CANO_E_RETRY_EXHAUSTED), as in cano; an
 * item holds its concurrency slot through its retry delays. An item that fails with
 * cano_task_ctx_fail_fatal() is cano's panic in process_item: it fails the whole attempt at once
 * with that error (the other items in flight are abandoned). Load and finish failures go through
 * the task's own retries (options' retry fields, cano's TaskConfig::default() by default), and a
 * retry runs load, the items and finish again. The attempt timeout bounds the whole attempt.
 *
 * All three callbacks run where the task's mode says (worker or inline; CANO_TASK_ASYNC is
 * refused because an asynchronous load or item could not hand its items or output back) and
 * get the task's user_data. An item's errors name the task as "NAME[i]", i its input index.
 *
 * Since 0.1.0.
 */
#ifndef CANO_BATCH_H
#define CANO_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "cano/error.h"
#include "cano/export.h"
#include "cano/split.h"
#include "cano/task.h"
#include "cano/types.h"

CANO_EXTERN_C_BEGIN

typedef struct cano_batch_options {
  uint32_t struct_size;      /* set by CANO_BATCH_OPTIONS_INIT */
  cano_task_fn load;         /* required: adds the items */
  cano_task_fn process_item; /* required: processes one item */
  uint32_t concurrency;      /* items processed at once; 0 means 1 (cano's default and clamp) */
  /* The per-item retry policy, read as cano_task_options' retry fields are, except that
   * CANO_RETRY_DEFAULT means CANO_RETRY_NONE here (cano's item_retry() default). */
  cano_retry_kind item_retry;
  uint32_t item_retry_max_retries;
  uint64_t item_retry_delay_ms;
  double item_retry_multiplier;
  uint64_t item_retry_max_delay_ms;
  double item_retry_jitter;
} cano_batch_options;

#define CANO_BATCH_OPTIONS_INIT \
  { sizeof(cano_batch_options), NULL, NULL, 0, CANO_RETRY_DEFAULT, 0, 0, 0.0, 0, 0.0 }

/* Registers a batch task for a declared state (replacing any previous task). `options->run` is
 * the finish step; `batch` is copied. Same ownership rules and errors as
 * cano_workflow_register() (on error the destroy hook has run), plus CANO_E_INVALID_ARGUMENT for
 * a NULL `batch`, a missing load or process_item, an unknown item retry kind, or
 * CANO_TASK_ASYNC. Any thread, before the workflow's first run. Since 0.1.0. */
CANO_API cano_status cano_workflow_register_batch(cano_workflow* workflow, int32_t state,
                                                  const cano_task_options* options,
                                                  const cano_batch_options* batch,
                                                  cano_error** err);

/* Inside `load`: adds an item (copied; data may be NULL when len is 0). Returns CANO_OK;
 * CANO_E_BAD_STATE outside a load call; CANO_E_INVALID_ARGUMENT for NULL data with len > 0.
 * Since 0.1.0. */
CANO_API cano_status cano_task_ctx_batch_add(cano_task_ctx* ctx, const void* data, size_t len);

/* Inside `process_item`: 1, the item's input index in *index, and its bytes in *data / *len
 * (borrowed, valid during the call; any out-parameter may be NULL); 0 elsewhere.
 * Since 0.1.0. */
CANO_API int cano_task_ctx_batch_item(const cano_task_ctx* ctx, size_t* index, const void** data,
                                      size_t* len);

/* Inside the finish step (`options->run`): every item's outcome, in input order, read with the
 * cano_split_result_* functions: entry i is CANO_BRANCH_SUCCEEDED with the value item i left
 * (cano_task_ctx_set_value) or CANO_BRANCH_FAILED with its error; never CANO_BRANCH_CANCELLED.
 * Borrowed, valid during the call; NULL outside a finish step. Since 0.1.0. */
CANO_API const cano_split_result* cano_task_ctx_batch_results(const cano_task_ctx* ctx);

CANO_EXTERN_C_END

#endif /* CANO_BATCH_H */
