// C ABI: stepped tasks (include/cano/stepped.h) and timer tasks (include/cano/timer.h).
#include "cano/stepped.h"

#include "cano/timer.h"
#include "capi/guard.hpp"
#include "src/task_ctx.hpp"
#include "src/workflow.hpp"

using cano::capi::guard;
using cano::detail::fail;

namespace {

// Registers a task of one of the models whose extra options (if any) were already read.
cano_status register_model(cano_workflow* workflow, int32_t state, const cano_task_options* options,
                           cano::detail::TaskModel model) {
  if (options == nullptr) fail(CANO_E_INVALID_ARGUMENT, "options must not be NULL");
  auto copy = cano::capi::read_options(options, sizeof(cano_task_options), "cano_task_options");
  if (workflow == nullptr) {
    if (copy.destroy != nullptr) copy.destroy(copy.user_data);
    fail(CANO_E_INVALID_ARGUMENT, "workflow must not be NULL");
  }
  workflow->register_task(state, copy, model);
  return CANO_OK;
}

}  // namespace

extern "C" {

CANO_API cano_status cano_workflow_register_stepped(cano_workflow* workflow, int32_t state,
                                                    const cano_task_options* options,
                                                    cano_error** err) {
  return guard(err, [&] {
    cano::detail::TaskModel model;
    model.stepped = true;
    return register_model(workflow, state, options, model);
  });
}

CANO_API cano_status cano_task_ctx_step_more(cano_task_ctx* ctx, const void* cursor, size_t len) {
  if (ctx == nullptr || (cursor == nullptr && len > 0)) return CANO_E_INVALID_ARGUMENT;
  try {
    ctx->next_cursor.assign(static_cast<const char*>(cursor), len);
  } catch (...) {
    return CANO_E_NO_MEMORY;
  }
  return CANO_STEP_MORE;
}

CANO_API int cano_task_ctx_cursor(const cano_task_ctx* ctx, const void** data, size_t* len) {
  if (data != nullptr) *data = nullptr;
  if (len != nullptr) *len = 0;
  if (ctx == nullptr || !ctx->has_cursor) return 0;
  if (data != nullptr) *data = ctx->cursor.data();
  if (len != nullptr) *len = ctx->cursor.size();
  return 1;
}

CANO_API cano_status cano_workflow_register_timer(cano_workflow* workflow, int32_t state,
                                                  const cano_task_options* options,
                                                  const cano_timer_options* timer,
                                                  cano_error** err) {
  return guard(err, [&] {
    cano_timer_options timer_copy{};
    if (timer == nullptr || timer->struct_size < sizeof(cano_timer_options)) {
      // The task's user data is ours either way: release it before failing.
      if (options != nullptr && options->struct_size >= sizeof(cano_task_options) &&
          options->destroy != nullptr) {
        options->destroy(options->user_data);
      }
      if (timer == nullptr) fail(CANO_E_INVALID_ARGUMENT, "timer must not be NULL");
      fail(CANO_E_VERSION, "cano_timer_options.struct_size is " +
                               std::to_string(timer->struct_size) +
                               ", smaller than any released layout");
    }
    timer_copy = cano::capi::read_options(timer, sizeof(cano_timer_options), "cano_timer_options");
    cano::detail::TaskModel model;
    model.timer = &timer_copy;
    return register_model(workflow, state, options, model);
  });
}

CANO_API cano_status cano_task_ctx_wait_for(cano_task_ctx* ctx, uint64_t delay_ms) {
  if (ctx == nullptr) return CANO_E_INVALID_ARGUMENT;
  ctx->wait_kind = 1;
  ctx->wait_ms = delay_ms;
  return CANO_OK;
}

CANO_API cano_status cano_task_ctx_wait_until(cano_task_ctx* ctx, uint64_t clock_ms) {
  if (ctx == nullptr) return CANO_E_INVALID_ARGUMENT;
  ctx->wait_kind = 2;
  ctx->wait_ms = clock_ms;
  return CANO_OK;
}

}  // extern "C"
