// C ABI: stepped tasks (include/cano/stepped.h) and timer tasks (include/cano/timer.h).
#include "cano/stepped.h"

#include "cano/timer.h"
#include "capi/guard.hpp"
#include "capi/register_task.hpp"
#include "src/task_ctx.hpp"
#include "src/workflow.hpp"

using cano::capi::guard;
using cano::detail::fail;

extern "C" {

CANO_API cano_status cano_workflow_register_stepped(cano_workflow* workflow, int32_t state,
                                                    const cano_task_options* options,
                                                    cano_error** err) {
  return guard(err, [&] {
    return cano::capi::register_task(workflow, state, options,
                                     [](cano::detail::TaskModel& model) { model.stepped = true; });
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
    return cano::capi::register_task(workflow, state, options, [&](cano::detail::TaskModel& model) {
      if (timer == nullptr) fail(CANO_E_INVALID_ARGUMENT, "timer must not be NULL");
      timer_copy =
          cano::capi::read_options(timer, sizeof(cano_timer_options), "cano_timer_options");
      model.timer = &timer_copy;
    });
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
