// Shared helpers for the batch task tests (cano/batch.h): one user_data for the three callbacks,
// numbered items, and a workflow Work -> Done | Partial whose Work state is the batch.
#pragma once

#include <atomic>
#include <string>

#include "test_support.hpp"

namespace cano_test {

enum : int32_t { kWork = 0, kDone = 1, kPartial = 2 };

// The three callbacks of a batch task share one user_data: this.
struct BatchBodies {
  Body load;
  Body item;
  Body finish;
};

inline cano_status call_load(cano_task_ctx* ctx, void* user_data) {
  return static_cast<BatchBodies*>(user_data)->load(ctx);
}
inline cano_status call_item(cano_task_ctx* ctx, void* user_data) {
  return static_cast<BatchBodies*>(user_data)->item(ctx);
}
inline cano_status call_finish(cano_task_ctx* ctx, void* user_data) {
  return static_cast<BatchBodies*>(user_data)->finish(ctx);
}
inline void delete_bodies(void* user_data) { delete static_cast<BatchBodies*>(user_data); }

// The bytes of the item a process_item call runs for.
inline std::string item_text(cano_task_ctx* ctx) {
  const void* data = nullptr;
  size_t len = 0;
  EXPECT_EQ(cano_task_ctx_batch_item(ctx, nullptr, &data, &len), 1);
  return std::string(static_cast<const char*>(data), len);
}

// A load that adds the items "0".."n-1" (and counts its calls in *calls when given).
inline Body load_numbers(size_t n, std::atomic<int>* calls = nullptr) {
  return [n, calls](cano_task_ctx* ctx) {
    if (calls != nullptr) ++*calls;
    for (size_t i = 0; i < n; ++i) {
      std::string text = std::to_string(i);
      EXPECT_EQ(cano_task_ctx_batch_add(ctx, text.data(), text.size()), CANO_OK);
    }
    return CANO_OK;
  };
}

struct BatchWorkflow {
  EnginePtr engine;
  WorkflowPtr wf;

  explicit BatchWorkflow(bool manual_clock = false, uint32_t workers = 2)
      : engine(make_engine(manual_clock, workers)) {
    cano_workflow* raw = nullptr;
    EXPECT_EQ(cano_workflow_create(&raw, nullptr, nullptr), CANO_OK);
    wf.reset(raw);
    EXPECT_EQ(cano_workflow_add_state(raw, kWork, "Work", nullptr), CANO_OK);
    EXPECT_EQ(cano_workflow_add_state(raw, kDone, "Done", nullptr), CANO_OK);
    EXPECT_EQ(cano_workflow_add_state(raw, kPartial, "Partial", nullptr), CANO_OK);
    EXPECT_EQ(cano_workflow_add_exit_state(raw, kDone, nullptr), CANO_OK);
    EXPECT_EQ(cano_workflow_add_exit_state(raw, kPartial, nullptr), CANO_OK);
  }

  // Registers Work as a batch of `bodies` (the task retries Fixed(task_retries, 0)).
  cano_status register_batch(BatchBodies bodies, cano_task_mode mode, cano_batch_options batch,
                             ErrorPtr* err = nullptr, uint32_t task_retries = 0,
                             uint64_t attempt_timeout_ms = 0) {
    cano_task_options options = CANO_TASK_OPTIONS_INIT;
    options.run = &call_finish;
    options.user_data = new BatchBodies(std::move(bodies));
    options.destroy = &delete_bodies;
    options.mode = mode;
    options.attempt_timeout_ms = attempt_timeout_ms;
    cano_task_options_retry_fixed(&options, task_retries, 0);
    batch.load = &call_load;
    batch.process_item = &call_item;
    return cano_workflow_register_batch(wf.get(), kWork, &options, &batch,
                                        err != nullptr ? err->out() : nullptr);
  }
};

}  // namespace cano_test
