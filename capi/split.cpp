// C ABI: split states and their results (include/cano/split.h).
#include "cano/split.h"

#include <vector>

#include "capi/guard.hpp"
#include "src/split_execution.hpp"
#include "src/task_ctx.hpp"
#include "src/workflow.hpp"

using cano::capi::guard;
using cano::detail::fail;

extern "C" {

CANO_API cano_status cano_workflow_register_split(cano_workflow* workflow, int32_t state,
                                                  const cano_task_options* branches, size_t count,
                                                  const cano_join_options* join, cano_error** err) {
  return guard(err, [&] {
    if (branches == nullptr && count > 0) {
      fail(CANO_E_INVALID_ARGUMENT,
           "branches must not be NULL when count is " + std::to_string(count));
    }
    // Copy every branch first: from here on the library owns their user data, so every error
    // below must run their destroy hooks (the TaskDefs built from the copies do).
    std::vector<cano_task_options> copies;
    copies.reserve(count);
    auto destroy_all = [&copies] {
      for (auto& copy : copies) {
        if (copy.destroy != nullptr) copy.destroy(copy.user_data);
      }
    };
    for (size_t i = 0; i < count; ++i) {
      try {
        copies.push_back(
            cano::capi::read_options(&branches[i], sizeof(cano_task_options), "cano_task_options"));
      } catch (...) {
        destroy_all();  // the branches read so far; a struct too small cannot be read at all
        throw;
      }
    }
    if (workflow == nullptr || join == nullptr) {
      destroy_all();
      fail(CANO_E_INVALID_ARGUMENT,
           workflow == nullptr ? "workflow must not be NULL" : "join must not be NULL");
    }
    cano_join_options join_copy{};
    try {
      join_copy = cano::capi::read_options(join, sizeof(cano_join_options), "cano_join_options");
    } catch (...) {
      destroy_all();
      throw;
    }
    workflow->register_split(state, copies, join_copy);
    return CANO_OK;
  });
}

CANO_API cano_status cano_task_ctx_set_value(cano_task_ctx* ctx, const void* data, size_t len) {
  return guard(nullptr, [&] {
    if (ctx == nullptr) fail(CANO_E_INVALID_ARGUMENT, "ctx must not be NULL");
    if (data == nullptr && len > 0) fail(CANO_E_INVALID_ARGUMENT, "data must not be NULL");
    ctx->value.assign(static_cast<const char*>(data), len);
    ctx->has_value = true;
    return CANO_OK;
  });
}

CANO_API const cano_split_result* cano_task_ctx_split_result(const cano_task_ctx* ctx) {
  return ctx ? ctx->split_result.get() : nullptr;
}

CANO_API size_t cano_split_result_count(const cano_split_result* result) {
  return result ? result->branches.size() : 0;
}

CANO_API size_t cano_split_result_succeeded(const cano_split_result* result) {
  return result ? result->succeeded : 0;
}

CANO_API size_t cano_split_result_failed(const cano_split_result* result) {
  return result ? result->failed : 0;
}

CANO_API size_t cano_split_result_cancelled(const cano_split_result* result) {
  return result ? result->cancelled : 0;
}

CANO_API cano_branch_status cano_split_result_status(const cano_split_result* result,
                                                     size_t index) {
  if (result == nullptr || index >= result->branches.size()) return CANO_BRANCH_CANCELLED;
  return result->branches[index].status;
}

CANO_API const void* cano_split_result_value(const cano_split_result* result, size_t index,
                                             size_t* len) {
  if (len != nullptr) *len = 0;
  if (result == nullptr || index >= result->branches.size()) return nullptr;
  const auto& branch = result->branches[index];
  if (branch.status != CANO_BRANCH_SUCCEEDED || !branch.has_value) return nullptr;
  if (len != nullptr) *len = branch.value.size();
  return branch.value.data();
}

CANO_API const cano_error* cano_split_result_error(const cano_split_result* result, size_t index) {
  if (result == nullptr || index >= result->branches.size()) return nullptr;
  return result->branches[index].error.get();
}

}  // extern "C"
