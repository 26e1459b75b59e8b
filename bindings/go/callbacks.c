// callbacks.c - the C shims between libcano's callback signatures and the Go functions exported
// from callbacks.go. They hold no logic: each one reads the cgo.Handle out of its slot and calls
// the matching Go export, which never lets a panic out (see callbacks.go).
//
// This lives in a .c file because a Go file that uses //export may only declare C functions in
// its preamble.

#include "cano_go.h"
#include "_cgo_export.h"

cano_go_slot *cano_go_slot_new(uintptr_t handle) {
  cano_go_slot *slot = (cano_go_slot *)malloc(sizeof *slot);
  if (slot != NULL) slot->handle = handle;
  return slot;
}

uintptr_t cano_go_slot_handle(const void *slot) {
  return slot != NULL ? ((const cano_go_slot *)slot)->handle : 0;
}

void cano_go_slot_destroy(void *slot) {
  if (slot == NULL) return;
  canoGoHandleDelete(((cano_go_slot *)slot)->handle);
  free(slot);
}

void cano_go_slot_free(void *slot) { free(slot); }

cano_engine_options cano_go_engine_options_init(void) {
  cano_engine_options options = CANO_ENGINE_OPTIONS_INIT;
  return options;
}

cano_task_options cano_go_task_options_init(void) {
  cano_task_options options = CANO_TASK_OPTIONS_INIT;
  return options;
}

cano_resource_options cano_go_resource_options_init(void) {
  cano_resource_options options = CANO_RESOURCE_OPTIONS_INIT;
  return options;
}

cano_join_options cano_go_join_options_init(void) {
  cano_join_options options = CANO_JOIN_OPTIONS_INIT;
  return options;
}

cano_poll_options cano_go_poll_options_init(void) {
  cano_poll_options options = CANO_POLL_OPTIONS_INIT;
  return options;
}

cano_timer_options cano_go_timer_options_init(void) {
  cano_timer_options options = CANO_TIMER_OPTIONS_INIT;
  return options;
}

cano_batch_options cano_go_batch_options_init(void) {
  cano_batch_options options = CANO_BATCH_OPTIONS_INIT;
  return options;
}

cano_status cano_go_task_shim(cano_task_ctx *ctx, void *user_data) {
  return canoGoTaskRun(ctx, cano_go_slot_handle(user_data));
}

// A timer task's wait callback gets the task's own user data (its slot).
cano_status cano_go_timer_wait_shim(cano_task_ctx *ctx, void *user_data) {
  return canoGoTimerWait(ctx, cano_go_slot_handle(user_data));
}

// A batch task's three steps share the task's user data (its slot); the Go side is told which
// step runs (0 load, 1 process_item).
cano_status cano_go_batch_load_shim(cano_task_ctx *ctx, void *user_data) {
  return canoGoBatchStep(ctx, cano_go_slot_handle(user_data), 0);
}

cano_status cano_go_batch_item_shim(cano_task_ctx *ctx, void *user_data) {
  return canoGoBatchStep(ctx, cano_go_slot_handle(user_data), 1);
}

// An async attempt was abandoned: the task's own user data (its slot) names the task.
void cano_go_cancel_shim(uint64_t token, void *user_data) {
  canoGoTaskCancel(token, cano_go_slot_handle(user_data));
}

// The run's slot is used once: the Go side takes the handle's value and deletes the handle.
void cano_go_run_done_shim(uint64_t run_id, cano_status status, int32_t final_state,
                           const cano_error *error, void *user_data) {
  canoGoRunDone(run_id, status, final_state, (cano_error *)error, cano_go_slot_handle(user_data));
  free(user_data);
}

void cano_go_post_shim(void *user_data) {
  canoGoPost(cano_go_slot_handle(user_data));
  free(user_data);
}

cano_status cano_go_resource_setup_shim(cano_error **err, void *user_data) {
  return canoGoResourceCall(err, cano_go_slot_handle(user_data), 0);
}

cano_status cano_go_resource_teardown_shim(cano_error **err, void *user_data) {
  return canoGoResourceCall(err, cano_go_slot_handle(user_data), 1);
}

// The probe's message must stay valid until the probe is called again; the library copies it
// at once on the calling thread, so one buffer per thread is enough and concurrent probes on
// other threads never touch it.
static _Thread_local char *health_message = NULL;

cano_health_level cano_go_resource_health_shim(const char **message, void *user_data) {
  char *text = NULL;
  cano_health_level level =
      (cano_health_level)canoGoResourceHealth(cano_go_slot_handle(user_data), &text);
  free(health_message);
  health_message = text;
  if (message != NULL) *message = text;
  return level;
}

void cano_go_log_shim(cano_log_level level, const char *message, void *user_data) {
  canoGoLog((int32_t)level, (char *)message, cano_go_slot_handle(user_data));
}

cano_status cano_go_append_shim(void **out_object, void (**out_destroy)(void *),
                                const void *current, void *user_data) {
  uintptr_t built = 0;
  cano_status status = canoGoAppend(&built, cano_go_slot_handle(current),
                                    cano_go_slot_handle(user_data));
  if (status != CANO_OK) return status;
  cano_go_slot *slot = cano_go_slot_new(built);
  if (slot == NULL) {
    canoGoHandleDelete(built);
    return CANO_E_NO_MEMORY;
  }
  *out_object = slot;
  *out_destroy = cano_go_slot_destroy;
  return CANO_OK;
}
