// C ABI: poll tasks (include/cano/poll.h).
#include "cano/poll.h"

#include "capi/guard.hpp"
#include "capi/register_task.hpp"
#include "src/task_ctx.hpp"
#include "src/workflow.hpp"

using cano::capi::guard;
using cano::detail::fail;

extern "C" {

CANO_API cano_status cano_workflow_register_poll(cano_workflow* workflow, int32_t state,
                                                 const cano_task_options* options,
                                                 const cano_poll_options* poll, cano_error** err) {
  return guard(err, [&] {
    cano_poll_options poll_copy{};
    return cano::capi::register_task(workflow, state, options, [&](cano::detail::TaskModel& model) {
      // NULL reads as the defaults (fail fast).
      poll_copy = cano::capi::read_options(poll, sizeof(cano_poll_options), "cano_poll_options");
      model.poll = &poll_copy;
    });
  });
}

CANO_API cano_status cano_task_ctx_poll_again(cano_task_ctx* ctx, uint64_t delay_ms) {
  if (ctx == nullptr) return CANO_E_INVALID_ARGUMENT;
  ctx->poll_delay_ms = delay_ms;
  return CANO_POLL_AGAIN;
}

}  // extern "C"
