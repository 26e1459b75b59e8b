// The steps every task registration shares (plain tasks and each of cano's processing models).
#pragma once

#include "capi/guard.hpp"
#include "src/workflow.hpp"

namespace cano::capi {

// Copies the task options, reads the model's own options with `read_model(model)` (which fills
// storage the caller owns and may throw), and registers the task. The library owns the task's
// user_data from the moment its options are read, so every later failure (a model option that
// cannot be read, a NULL workflow, a registration the workflow refuses) runs its destroy hook
// before it is reported. An options struct too small to hold the hook is refused untouched.
template <class ReadModel>
cano_status register_task(cano_workflow* workflow, int32_t state, const cano_task_options* options,
                          ReadModel&& read_model) {
  if (options == nullptr) detail::fail(CANO_E_INVALID_ARGUMENT, "options must not be NULL");
  auto copy = read_options(options, sizeof(cano_task_options), "cano_task_options");
  detail::TaskModel model;
  try {
    read_model(model);
    if (workflow == nullptr) detail::fail(CANO_E_INVALID_ARGUMENT, "workflow must not be NULL");
  } catch (...) {
    if (copy.destroy != nullptr) copy.destroy(copy.user_data);
    throw;
  }
  workflow->register_task(state, copy, model);
  return CANO_OK;
}

}  // namespace cano::capi
