/*
 * bare.c - cano's resource-free workflow through the C API (Workflow::bare()).
 *
 * One task, Compute, sums 1..100 without looking up any resource and moves to Done. The
 * workflow is created with NULL resources. The program checks the sum (5050) and the final
 * state, and exits non-zero on any mismatch.
 */
#include <stdint.h>
#include <stdio.h>

#include "cano/cano.h"

enum step { STEP_COMPUTE = 0, STEP_DONE = 1 };

/* The task writes its result here; main reads it after cano_run_wait() returned, which
 * happens after the task finished, so no lock is needed. */
typedef struct compute_result {
  uint32_t sum;
} compute_result;

static cano_status compute_task(cano_task_ctx *ctx, void *user_data) {
  compute_result *result = user_data;
  uint32_t sum = 0;
  uint32_t i;
  /* Pure computation: no resource lookup needed. */
  for (i = 1; i <= 100; ++i) sum += i;
  result->sum = sum;
  if (sum != 5050) return cano_task_ctx_fail(ctx, CANO_E_TASK_EXECUTION, "wrong sum");
  return cano_task_ctx_next(ctx, STEP_DONE);
}

int main(void) {
  cano_engine *engine = NULL;
  cano_workflow *workflow = NULL;
  cano_task_options options = CANO_TASK_OPTIONS_INIT;
  compute_result result = {0};
  cano_error *err = NULL;
  int32_t final_state = -1;
  int failures = 0;

  options.run = compute_task;
  options.user_data = &result; /* borrowed: main's frame outlives the workflow */
  if (cano_workflow_create(&workflow, NULL, &err) != CANO_OK ||
      cano_workflow_add_state(workflow, STEP_COMPUTE, "Compute", &err) != CANO_OK ||
      cano_workflow_add_state(workflow, STEP_DONE, "Done", &err) != CANO_OK ||
      cano_workflow_register(workflow, STEP_COMPUTE, &options, &err) != CANO_OK ||
      cano_workflow_add_exit_state(workflow, STEP_DONE, &err) != CANO_OK ||
      cano_engine_create(&engine, NULL, &err) != CANO_OK ||
      cano_run_wait(&final_state, engine, workflow, STEP_COMPUTE, &err) != CANO_OK) {
    fprintf(stderr, "bare: %s\n", err != NULL ? cano_error_describe(err) : "failed");
    cano_error_free(err);
    ++failures;
  } else {
    if (final_state != STEP_DONE) {
      fprintf(stderr, "bare: final state %d, expected Done\n", (int)final_state);
      ++failures;
    }
    if (result.sum != 5050) {
      fprintf(stderr, "bare: sum %u, expected 5050\n", (unsigned)result.sum);
      ++failures;
    }
    printf("trail: Compute -> %s\n", cano_workflow_state_name(workflow, final_state));
    printf("sum: %u\n", (unsigned)result.sum);
  }

  cano_engine_destroy(engine);
  cano_workflow_destroy(workflow);
  if (failures == 0) printf("bare: ok\n");
  return failures == 0 ? 0 : 1;
}
