// C ABI: batch tasks (include/cano/batch.h).
#include "cano/batch.h"

#include "capi/guard.hpp"
#include "capi/register_task.hpp"
#include "src/task_ctx.hpp"
#include "src/workflow.hpp"

using cano::capi::guard;
using cano::detail::fail;
using BatchStep = cano_task_ctx::BatchStep;

extern "C" {

CANO_API cano_status cano_workflow_register_batch(cano_workflow* workflow, int32_t state,
                                                  const cano_task_options* options,
                                                  const cano_batch_options* batch,
                                                  cano_error** err) {
  return guard(err, [&] {
    cano_batch_options batch_copy{};
    return cano::capi::register_task(workflow, state, options, [&](cano::detail::TaskModel& model) {
      if (batch == nullptr) {
        std::string label = workflow != nullptr ? workflow->label(state) : std::to_string(state);
        fail(CANO_E_INVALID_ARGUMENT, "register_batch: the batch task for state \"" + label +
                                          "\" has no batch options (batch is NULL)");
      }
      batch_copy =
          cano::capi::read_options(batch, sizeof(cano_batch_options), "cano_batch_options");
      model.batch = &batch_copy;
    });
  });
}

CANO_API cano_status cano_task_ctx_batch_add(cano_task_ctx* ctx, const void* data, size_t len) {
  if (ctx == nullptr || (data == nullptr && len > 0)) return CANO_E_INVALID_ARGUMENT;
  if (ctx->batch_step != BatchStep::kLoad || !ctx->batch) return CANO_E_BAD_STATE;
  try {
    ctx->batch->loaded.emplace_back(static_cast<const char*>(data), len);
  } catch (...) {
    return CANO_E_NO_MEMORY;
  }
  return CANO_OK;
}

CANO_API int cano_task_ctx_batch_item(const cano_task_ctx* ctx, size_t* index, const void** data,
                                      size_t* len) {
  if (index != nullptr) *index = 0;
  if (data != nullptr) *data = nullptr;
  if (len != nullptr) *len = 0;
  if (ctx == nullptr || ctx->batch_step != BatchStep::kItem || !ctx->batch || !ctx->batch->items) {
    return 0;
  }
  const std::string& item = (*ctx->batch->items)[ctx->batch->index];
  if (index != nullptr) *index = ctx->batch->index;
  if (data != nullptr) *data = item.data();
  if (len != nullptr) *len = item.size();
  return 1;
}

CANO_API const cano_split_result* cano_task_ctx_batch_results(const cano_task_ctx* ctx) {
  if (ctx == nullptr || ctx->batch_step != BatchStep::kFinish || !ctx->batch) return nullptr;
  return ctx->batch->results.get();
}

}  // extern "C"
