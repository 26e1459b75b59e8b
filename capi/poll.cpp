// C ABI: poll tasks (include/cano/poll.h).
#include "cano/poll.h"

#include "capi/guard.hpp"
#include "src/task_ctx.hpp"
#include "src/workflow.hpp"

using cano::capi::guard;
using cano::detail::fail;

extern "C" {

CANO_API cano_status cano_workflow_register_poll(cano_workflow* workflow, int32_t state,
                                                 const cano_task_options* options,
                                                 const cano_poll_options* poll, cano_error** err) {
  return guard(err, [&] {
    if (options == nullptr) fail(CANO_E_INVALID_ARGUMENT, "options must not be NULL");
    auto copy = cano::capi::read_options(options, sizeof(cano_task_options), "cano_task_options");
    // From here on the library owns user_data: every failure must run its destroy hook.
    auto release = [&copy] {
      if (copy.destroy != nullptr) copy.destroy(copy.user_data);
    };
    cano_poll_options poll_copy{};
    try {
      poll_copy = cano::capi::read_options(poll, sizeof(cano_poll_options), "cano_poll_options");
    } catch (...) {
      release();
      throw;
    }
    if (workflow == nullptr) {
      release();
      fail(CANO_E_INVALID_ARGUMENT, "workflow must not be NULL");
    }
    workflow->register_task(state, copy, {false, &poll_copy, false, nullptr});
    return CANO_OK;
  });
}

CANO_API cano_status cano_task_ctx_poll_again(cano_task_ctx* ctx, uint64_t delay_ms) {
  if (ctx == nullptr) return CANO_E_INVALID_ARGUMENT;
  ctx->poll_delay_ms = delay_ms;
  return CANO_POLL_AGAIN;
}

}  // extern "C"
