/*
 * cano/split.h - split states: run several branch tasks in parallel, then join.
 *
 * A split state runs its branches at once (at most `bulkhead` at a time when set) and moves to
 * its join state when the join strategy is satisfied, exactly as cano 0.13 (spec section 4):
 *
 *   ALL             every branch succeeded (waits for all; failures do not end it early)
 *   ANY             at least one succeeded (ends at the first success)
 *   QUORUM          at least `count` succeeded (waits for all)
 *   PERCENTAGE      at least ceil(total * percentage) succeeded (waits for all)
 *   PARTIAL_RESULTS at least `count` succeeded (ends as soon as `count` have)
 *   PARTIAL_TIMEOUT at least one branch completed, successfully or not, by the split timeout
 *
 * A failed join fails the run with CANO_E_WORKFLOW and cano's texts: "Join condition not met:
 * S of T tasks completed successfully, strategy: Quorum(2); errors: task 1: ...", "Partial
 * results condition not met: S completed successfully, M required", "PartialTimeout: No tasks
 * completed before timeout", or "Split task timeout exceeded" (the split timeout passed under
 * any strategy but PARTIAL_TIMEOUT). At most three branch errors are listed, then "... and K
 * more error(s)".
 *
 * Each branch is a task with its own mode, retries and attempt timeout, named "NAME[i]" (NAME
 * being its options' name or the state's, i its index, as cano's observer ids). A branch
 * succeeds when its body returns CANO_OK (choosing a next state is optional and ignored) and may
 * leave a value with cano_task_ctx_set_value(). Branches that lose (an early exit or the split timeout) are
 * cancelled: their cancelled flag is set and their late results are discarded.
 *
 * Beyond cano: the join state's task reads every branch's outcome (success with its value,
 * error, or cancelled) through cano_task_ctx_split_result(), which cano's docs promise and its
 * code never delivers.
 *
 * Since 0.1.0.
 */
#ifndef CANO_SPLIT_H
#define CANO_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#include "cano/error.h"
#include "cano/export.h"
#include "cano/task.h"
#include "cano/types.h"

CANO_EXTERN_C_BEGIN

typedef struct cano_split_result cano_split_result;

typedef enum cano_join_strategy {
  CANO_JOIN_ALL = 0,
  CANO_JOIN_ANY = 1,
  CANO_JOIN_QUORUM = 2,
  CANO_JOIN_PERCENTAGE = 3,
  CANO_JOIN_PARTIAL_RESULTS = 4,
  CANO_JOIN_PARTIAL_TIMEOUT = 5,
  CANO_JOIN_STRATEGY_FORCE32 = 0x7fffffff
} cano_join_strategy;

typedef struct cano_join_options {
  uint32_t struct_size;         /* set by CANO_JOIN_OPTIONS_INIT */
  cano_join_strategy strategy;  /* CANO_JOIN_ALL by default */
  uint32_t count;               /* QUORUM's n, PARTIAL_RESULTS' minimum */
  double percentage;            /* PERCENTAGE's fraction, in (0, 1] */
  uint64_t timeout_ms;          /* the split timeout; 0 = none (PARTIAL_TIMEOUT requires one) */
  int32_t join_state;           /* where the run goes when the join succeeds */
  /* At most this many branches run at once; a branch holds its slot through its retries.
   * 0 = no limit. (cano's bulkhead of 0, a configuration error there, cannot be expressed.) */
  uint32_t bulkhead;
} cano_join_options;

#define CANO_JOIN_OPTIONS_INIT \
  { sizeof(cano_join_options), CANO_JOIN_ALL, 0, 0.0, 0, 0, 0 }

/* The outcome of one branch. */
typedef enum cano_branch_status {
  CANO_BRANCH_SUCCEEDED = 0,
  CANO_BRANCH_FAILED = 1,
  CANO_BRANCH_CANCELLED = 2,
  CANO_BRANCH_STATUS_FORCE32 = 0x7fffffff
} cano_branch_status;

/* Registers a split state: `count` branch tasks (each options struct copied; count may be 0)
 * joined by `join`. Replaces any previous task of the state. The join options are checked by
 * cano_workflow_validate() (and so when the first run starts), in cano's order and words:
 * "PartialTimeout strategy requires a timeout to be configured", "Percentage strategy requires
 * a finite value in (0.0, 1.0], got P", "Split join_state J is neither registered nor an exit
 * state". On error every branch's destroy hook has run before this returns. Errors:
 * CANO_E_INVALID_ARGUMENT (NULL branches with count > 0, a branch without run, an unknown
 * strategy), CANO_E_VERSION, CANO_E_CONFIGURATION (state not declared), CANO_E_BAD_STATE
 * (frozen). Since 0.1.0. */
CANO_API cano_status cano_workflow_register_split(cano_workflow *workflow, int32_t state,
                                                  const cano_task_options *branches, size_t count,
                                                  const cano_join_options *join, cano_error **err);

/* Inside a branch body: leaves a value (copied; data may be NULL when len is 0) for the join
 * state's task, or a batch item's output for the finish step (cano/batch.h). A later call
 * replaces it. Ignored elsewhere. Since 0.1.0. */
CANO_API cano_status cano_task_ctx_set_value(cano_task_ctx *ctx, const void *data, size_t len);

/* Inside a task body: the outcome of the split the run just left, when the state it runs for
 * is that split's join state; NULL otherwise. Borrowed: valid during the body call.
 * Since 0.1.0. */
CANO_API const cano_split_result *cano_task_ctx_split_result(const cano_task_ctx *ctx);

/* The number of branches. Since 0.1.0. */
CANO_API size_t cano_split_result_count(const cano_split_result *result);

/* How many branches succeeded, failed, were cancelled. Since 0.1.0. */
CANO_API size_t cano_split_result_succeeded(const cano_split_result *result);
CANO_API size_t cano_split_result_failed(const cano_split_result *result);
CANO_API size_t cano_split_result_cancelled(const cano_split_result *result);

/* Branch `index`'s outcome; CANO_BRANCH_CANCELLED for an index out of range. Since 0.1.0. */
CANO_API cano_branch_status cano_split_result_status(const cano_split_result *result,
                                                     size_t index);

/* Branch `index`'s value (borrowed from the result; NULL when it left none or did not
 * succeed), with its length in *len (may be NULL). Since 0.1.0. */
CANO_API const void *cano_split_result_value(const cano_split_result *result, size_t index,
                                             size_t *len);

/* Branch `index`'s error (borrowed; NULL unless it failed). Since 0.1.0. */
CANO_API const cano_error *cano_split_result_error(const cano_split_result *result, size_t index);

CANO_EXTERN_C_END

#endif /* CANO_SPLIT_H */
