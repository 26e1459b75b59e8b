/*
 * quickstart.c - cano's Quick Start through the C API.
 *
 * Three states, Fetch -> Process -> Done. A typed configuration struct ({batch_size = 3}) and a
 * MemoryStore are shared with the tasks as resources. Fetch stores the numbers 1..batch_size as
 * the JSON array "data"; Process sums them into "sum". The program checks that the run ends in
 * Done with sum 6, prints the state trail and the result, and exits non-zero on any mismatch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cano/cano.h"

enum step { STEP_FETCH = 0, STEP_PROCESS = 1, STEP_DONE = 2 };

/* The typed configuration resource; its type tag is what lookups must name. */
typedef struct fetch_config {
  unsigned batch_size;
} fetch_config;
#define FETCH_CONFIG_TYPE "example.FetchConfig"

/* Prints a failed call's error and releases it; returns 1 so callers can count failures. */
static int report(const char *what, cano_status status, cano_error *err) {
  fprintf(stderr, "quickstart: %s failed: %s\n", what,
          err != NULL ? cano_error_describe(err) : cano_status_name(status));
  cano_error_free(err);
  return 1;
}

/* Every task records the state it ran for, so that main can print the trail. */
static cano_status record_trail(cano_store *store, const char *state, cano_task_ctx *ctx) {
  char item[64];
  cano_error *err = NULL;
  snprintf(item, sizeof item, "\"%s\"", state);
  if (cano_store_append_json(store, "trail", item, &err) != CANO_OK) {
    cano_status code = cano_error_code(err);
    cano_status failed = cano_task_ctx_fail(ctx, code, cano_error_message(err));
    cano_error_free(err);
    return failed;
  }
  return CANO_OK;
}

/* Fails the attempt with a lookup's error, keeping its code and message. */
static cano_status fail_with(cano_task_ctx *ctx, cano_error *err) {
  cano_status failed = cano_task_ctx_fail(ctx, cano_error_code(err), cano_error_message(err));
  cano_error_free(err);
  return failed;
}

static cano_status fetch_task(cano_task_ctx *ctx, void *user_data) {
  cano_resources *res = cano_task_ctx_resources(ctx);
  void *object = NULL;
  cano_store *store = NULL;
  cano_error *err = NULL;
  char json[256] = "[";
  size_t used = 1;
  unsigned i;
  cano_status status;
  (void)user_data;

  if (cano_resources_get(&object, res, "config", FETCH_CONFIG_TYPE, &err) != CANO_OK) {
    return fail_with(ctx, err);
  }
  if (cano_resources_get_store(&store, res, "store", &err) != CANO_OK) return fail_with(ctx, err);
  if ((status = record_trail(store, "Fetch", ctx)) != CANO_OK) return status;

  /* Produce batch_size items, 1..batch_size, and store them for the next task. */
  for (i = 1; i <= ((const fetch_config *)object)->batch_size; ++i) {
    int n = snprintf(json + used, sizeof json - used, i == 1 ? "%u" : ",%u", i);
    if (n < 0 || (size_t)n >= sizeof json - used) {
      return cano_task_ctx_fail(ctx, CANO_E_TASK_EXECUTION, "batch too large");
    }
    used += (size_t)n;
  }
  if (used + 2 > sizeof json) return cano_task_ctx_fail(ctx, CANO_E_TASK_EXECUTION, "too large");
  strcat(json, "]");
  if (cano_store_put_json(store, "data", json, &err) != CANO_OK) return fail_with(ctx, err);
  return cano_task_ctx_next(ctx, STEP_PROCESS);
}

static cano_status process_task(cano_task_ctx *ctx, void *user_data) {
  cano_store *store = NULL;
  cano_error *err = NULL;
  char *data = NULL;
  char *p;
  char sum_text[32];
  unsigned long sum = 0;
  cano_status status;
  (void)user_data;

  if (cano_resources_get_store(&store, cano_task_ctx_resources(ctx), "store", &err) != CANO_OK) {
    return fail_with(ctx, err);
  }
  if ((status = record_trail(store, "Process", ctx)) != CANO_OK) return status;
  if (cano_store_get_json(&data, store, "data", &err) != CANO_OK) return fail_with(ctx, err);

  /* The array holds only unsigned integers, so reading every run of digits is enough. */
  for (p = data; *p != '\0';) {
    if (*p >= '0' && *p <= '9') {
      sum += strtoul(p, &p, 10);
    } else {
      ++p;
    }
  }
  cano_free(data);

  snprintf(sum_text, sizeof sum_text, "%lu", sum);
  if (cano_store_put_json(store, "sum", sum_text, &err) != CANO_OK) return fail_with(ctx, err);
  return cano_task_ctx_next(ctx, STEP_DONE);
}

/* Prints the JSON array of state names the tasks recorded, then the final state, as
 * "Fetch -> Process -> Done". The names hold no quotes or commas, so no JSON parser is needed. */
static void print_trail(const char *json, const char *final_state) {
  const char *p;
  printf("trail: ");
  for (p = json; *p != '\0'; ++p) {
    if (*p == ',') {
      printf(" -> ");
    } else if (*p != '[' && *p != ']' && *p != '"' && *p != ' ') {
      putchar(*p);
    }
  }
  printf(" -> %s\n", final_state != NULL ? final_state : "?");
}

static cano_status register_task(cano_workflow *wf, int32_t state, cano_task_fn fn,
                                 cano_error **err) {
  /* The seed registers its tasks with cano's default TaskConfig, as these options do. */
  cano_task_options options = CANO_TASK_OPTIONS_INIT;
  options.run = fn;
  return cano_workflow_register(wf, state, &options, err);
}

int main(void) {
  cano_engine *engine = NULL;
  cano_store *store = NULL;
  cano_resources *resources = NULL;
  cano_workflow *workflow = NULL;
  cano_resource_options config = CANO_RESOURCE_OPTIONS_INIT;
  fetch_config *settings = NULL;
  cano_error *err = NULL;
  cano_status status;
  int32_t final_state = -1;
  char *sum = NULL;
  char *trail = NULL;
  int failures = 0;

  /* Resources: the typed config (owned by the set, freed by its destroy hook) and the store. */
  if ((status = cano_store_create(&store, &err)) != CANO_OK) return report("store", status, err);
  if ((status = cano_resources_create(&resources, &err)) != CANO_OK) {
    cano_store_destroy(store);
    return report("resources", status, err);
  }
  settings = malloc(sizeof *settings);
  if (settings == NULL) {
    fprintf(stderr, "quickstart: out of memory\n");
    ++failures;
    goto done;
  }
  settings->batch_size = 3;
  config.type = FETCH_CONFIG_TYPE;
  config.object = settings;
  config.destroy = free;
  if ((status = cano_resources_insert(resources, "config", &config, &err)) != CANO_OK ||
      (status = cano_resources_insert_store(resources, "store", store, &err)) != CANO_OK) {
    failures += report("insert", status, err);
    goto done;
  }

  /* The workflow: states, tasks, exit state. It retains the resources. */
  if ((status = cano_workflow_create(&workflow, resources, &err)) != CANO_OK ||
      (status = cano_workflow_add_state(workflow, STEP_FETCH, "Fetch", &err)) != CANO_OK ||
      (status = cano_workflow_add_state(workflow, STEP_PROCESS, "Process", &err)) != CANO_OK ||
      (status = cano_workflow_add_state(workflow, STEP_DONE, "Done", &err)) != CANO_OK ||
      (status = register_task(workflow, STEP_FETCH, fetch_task, &err)) != CANO_OK ||
      (status = register_task(workflow, STEP_PROCESS, process_task, &err)) != CANO_OK ||
      (status = cano_workflow_add_exit_state(workflow, STEP_DONE, &err)) != CANO_OK) {
    failures += report("workflow", status, err);
    goto done;
  }

  /* orchestrate(): run from Fetch and wait for the final state. */
  if ((status = cano_engine_create(&engine, NULL, &err)) != CANO_OK) {
    failures += report("engine", status, err);
    goto done;
  }
  if ((status = cano_run_wait(&final_state, engine, workflow, STEP_FETCH, &err)) != CANO_OK) {
    failures += report("run", status, err);
    goto done;
  }
  if (final_state != STEP_DONE) {
    fprintf(stderr, "quickstart: final state %d, expected Done\n", (int)final_state);
    ++failures;
  }

  /* The sum of 1..=3 is 6. */
  if ((status = cano_store_get_json(&sum, store, "sum", &err)) != CANO_OK) {
    failures += report("get sum", status, err);
    goto done;
  }
  if (strcmp(sum, "6") != 0) {
    fprintf(stderr, "quickstart: sum is %s, expected 6\n", sum);
    ++failures;
  }
  if ((status = cano_store_get_json(&trail, store, "trail", &err)) != CANO_OK) {
    failures += report("get trail", status, err);
    goto done;
  }
  print_trail(trail, cano_workflow_state_name(workflow, final_state));
  printf("sum: %s\n", sum);

done:
  cano_free(trail);
  cano_free(sum);
  cano_engine_destroy(engine);
  cano_workflow_destroy(workflow);
  cano_resources_destroy(resources);
  cano_store_destroy(store);
  if (failures == 0) printf("quickstart: ok\n");
  return failures == 0 ? 0 : 1;
}
