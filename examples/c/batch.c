/*
 * batch.c - cano's batch_task example through the C API: load, process each item, finish.
 *
 * The Import state is a batch task. `load` adds the order ids 1..8, `process_item` prices one
 * order (the price is id * 10; order 5 is out of stock and fails, and is retried once, which
 * fails again), at most 3 orders at a time, and `finish` reads every outcome in input order:
 * it totals the priced orders and moves to Review when some failed, to Done otherwise. The
 * program checks the total (10+20+30+40+60+70+80 = 310), the failure and the final state, and
 * exits non-zero on any mismatch.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cano/cano.h"

enum step { STEP_IMPORT = 0, STEP_REVIEW = 1, STEP_DONE = 2 };

/* What finish found; main reads it after cano_run_wait() returned. */
typedef struct import_report {
  uint32_t total;
  size_t failed;
  char first_error[128];
} import_report;

static cano_status load_orders(cano_task_ctx* ctx, void* user_data) {
  uint32_t id;
  (void)user_data;
  for (id = 1; id <= 8; ++id) {
    cano_status status = cano_task_ctx_batch_add(ctx, &id, sizeof id);
    if (status != CANO_OK) return cano_task_ctx_fail(ctx, status, "could not add an order");
  }
  return CANO_OK;
}

/* Runs on a worker thread, at most three at a time. */
static cano_status price_order(cano_task_ctx* ctx, void* user_data) {
  const void* data = NULL;
  size_t len = 0;
  uint32_t id = 0;
  uint32_t price;
  (void)user_data;
  if (!cano_task_ctx_batch_item(ctx, NULL, &data, &len) || len != sizeof id) {
    return cano_task_ctx_fail(ctx, CANO_E_TASK_EXECUTION, "malformed order");
  }
  memcpy(&id, data, sizeof id);
  if (id == 5) return cano_task_ctx_fail(ctx, CANO_E_TASK_EXECUTION, "order 5 is out of stock");
  price = id * 10;
  return cano_task_ctx_set_value(ctx, &price, sizeof price);
}

static cano_status finish_import(cano_task_ctx* ctx, void* user_data) {
  import_report* report = user_data;
  const cano_split_result* results = cano_task_ctx_batch_results(ctx);
  size_t i;
  for (i = 0; i < cano_split_result_count(results); ++i) {
    if (cano_split_result_status(results, i) == CANO_BRANCH_SUCCEEDED) {
      uint32_t price = 0;
      memcpy(&price, cano_split_result_value(results, i, NULL), sizeof price);
      report->total += price;
    } else if (report->failed++ == 0) {
      snprintf(report->first_error, sizeof report->first_error, "%s",
               cano_error_describe(cano_split_result_error(results, i)));
    }
  }
  return cano_task_ctx_next(ctx, report->failed > 0 ? STEP_REVIEW : STEP_DONE);
}

int main(void) {
  cano_engine* engine = NULL;
  cano_workflow* workflow = NULL;
  cano_task_options options = CANO_TASK_OPTIONS_INIT;
  cano_batch_options batch = CANO_BATCH_OPTIONS_INIT;
  import_report report = {0, 0, ""};
  cano_error* err = NULL;
  int32_t final_state = -1;
  int failures = 0;

  if (cano_engine_create(&engine, NULL, &err) != CANO_OK ||
      cano_workflow_create(&workflow, NULL, &err) != CANO_OK) {
    fprintf(stderr, "setup failed: %s\n", cano_error_describe(err));
    return 1;
  }
  cano_workflow_add_state(workflow, STEP_IMPORT, "Import", NULL);
  cano_workflow_add_state(workflow, STEP_REVIEW, "Review", NULL);
  cano_workflow_add_state(workflow, STEP_DONE, "Done", NULL);
  cano_workflow_add_exit_state(workflow, STEP_REVIEW, NULL);
  cano_workflow_add_exit_state(workflow, STEP_DONE, NULL);

  options.run = &finish_import;
  options.user_data = &report;
  options.name = "import";
  batch.load = &load_orders;
  batch.process_item = &price_order;
  batch.concurrency = 3;
  batch.item_retry = CANO_RETRY_FIXED; /* one retry, no delay */
  batch.item_retry_max_retries = 1;
  if (cano_workflow_register_batch(workflow, STEP_IMPORT, &options, &batch, &err) != CANO_OK ||
      cano_run_wait(&final_state, engine, workflow, STEP_IMPORT, &err) != CANO_OK) {
    fprintf(stderr, "run failed: %s\n", cano_error_describe(err));
    cano_error_free(err);
    cano_workflow_destroy(workflow);
    cano_engine_destroy(engine);
    return 1;
  }
  printf("priced total: %u, failed orders: %zu\n", report.total, report.failed);
  printf("first failure: %s\n", report.first_error);
  printf("final state: %s\n", final_state == STEP_REVIEW ? "Review" : "other");
  if (report.total != 310 || report.failed != 1 || final_state != STEP_REVIEW ||
      strstr(report.first_error, "order 5 is out of stock") == NULL ||
      strstr(report.first_error, "import[4]") == NULL) {
    fprintf(stderr, "unexpected outcome\n");
    ++failures;
  }
  cano_workflow_destroy(workflow);
  cano_engine_destroy(engine);
  return failures == 0 ? 0 : 1;
}
