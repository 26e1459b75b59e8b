// cano_workflow: declared states, their tasks, exit states and the run timeout.
//
// Built on one thread, then frozen by its first run; a frozen workflow is immutable, so runs on
// any engine read it without locks. Runs and task contexts hold references to it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "cano/batch.h"
#include "cano/poll.h"
#include "cano/split.h"
#include "cano/task.h"
#include "cano/timer.h"
#include "src/error.hpp"
#include "src/refcount.hpp"
#include "src/retry.hpp"

namespace cano::detail {

// A registered task: the user's options plus what the engine derives from them once.
struct BatchDef;

struct TaskDef {
  cano_task_options options{};
  std::string name;
  RetryPolicy retry;
  uint32_t max_attempts = 1;
  // The processing model (cano's RouterTask / PollTask); a plain task is neither.
  bool router = false;
  bool poll = false;
  cano_poll_error_policy poll_policy = CANO_POLL_FAIL_FAST;
  uint32_t poll_max_errors = 0;
  bool stepped = false;  // registered with register_stepped: one attempt loop per step
  bool timer = false;
  uint64_t timer_delay_ms = 0;
  uint64_t timer_until_ms = 0;
  cano_timer_wait_fn timer_wait = nullptr;
  // Registered with register_batch: `options.run` is the finish step.
  std::unique_ptr<BatchDef> batch;
  // A batch item (cano's process_item): the last attempt's error is returned raw, never
  // wrapped in RetryExhausted.
  bool raw_retry_error = false;

  TaskDef() = default;
  TaskDef(const TaskDef&) = delete;
  TaskDef& operator=(const TaskDef&) = delete;
  ~TaskDef();
};

// cano's BatchTask: the load step, the item task and the concurrency limit.
struct BatchDef {
  cano_task_fn load = nullptr;
  uint32_t concurrency = 1;
  // process_item with the item retry policy; shares the batch task's user data but not its
  // destroy hook, which belongs to the batch task alone.
  TaskDef item;
};

inline TaskDef::~TaskDef() {
  batch.reset();
  if (options.destroy != nullptr) options.destroy(options.user_data);
}

// How a task is registered: plain, or as one of cano's processing models.
struct TaskModel {
  bool router = false;
  const cano_poll_options* poll = nullptr;
  bool stepped = false;
  const cano_timer_options* timer = nullptr;
  const cano_batch_options* batch = nullptr;
};

// A split state's branches and join configuration (cano's JoinConfig).
struct SplitDef {
  std::vector<std::unique_ptr<TaskDef>> branches;
  cano_join_strategy strategy = CANO_JOIN_ALL;
  uint32_t count = 0;
  double percentage = 0.0;
  uint64_t timeout_ms = 0;
  int32_t join_state = 0;
  uint32_t bulkhead = 0;
};

struct StateInfo {
  int32_t code = 0;
  std::string name;
  std::unique_ptr<TaskDef> task;
  std::unique_ptr<SplitDef> split;
  bool exit = false;
  bool has_handler() const { return task != nullptr || split != nullptr; }
};

}  // namespace cano::detail

struct cano_workflow : cano::detail::RefCounted {
  explicit cano_workflow(cano_resources* resources);
  ~cano_workflow();
  cano_workflow(const cano_workflow&) = delete;
  cano_workflow& operator=(const cano_workflow&) = delete;

  void add_state(int32_t code, const char* name);
  void register_task(int32_t code, const cano_task_options& options,
                     const cano::detail::TaskModel& model = {});
  // Takes ownership of the branches' user data even when it fails (their destroy hooks run).
  void register_split(int32_t code, const std::vector<cano_task_options>& branches,
                      const cano_join_options& join);
  void add_exit_state(int32_t code);
  void set_timeout(uint64_t ms);

  // cano's validate() and validate_initial_state(); return the error instead of throwing.
  std::optional<cano::detail::Error> validate() const;
  std::optional<cano::detail::Error> validate_initial_state(int32_t code) const;

  // Freezes the workflow (and its resources) and returns the cached validate() result.
  const std::optional<cano::detail::Error>& freeze();
  bool frozen() const { return frozen_.load(std::memory_order_acquire); }

  // The state with this code, or nullptr. After freeze() this is a dense array index when the
  // codes are compact, so that an inline transition costs one bounds check and one load.
  const cano::detail::StateInfo* lookup(int32_t code) const {
    if (!dense_.empty()) {
      uint64_t slot = static_cast<uint64_t>(static_cast<int64_t>(code) - dense_base_);
      return slot < dense_.size() ? dense_[slot] : nullptr;
    }
    auto it = states_.find(code);
    return it == states_.end() ? nullptr : it->second.get();
  }
  // The state's name, or its number when it was never declared (for error texts).
  std::string label(int32_t code) const;
  const cano::detail::StateInfo* find_by_name(const std::string& name) const;

  cano_resources* resources() const { return resources_; }
  uint64_t timeout_ms() const { return timeout_ms_; }

 private:
  void require_unfrozen(const char* what) const;
  // Builds a TaskDef from checked options; `task` already owns the user data.
  void complete_task_def(cano::detail::TaskDef& task, const cano::detail::StateInfo& state,
                         const char* what) const;
  // Adds a batch task's load step and item task (cano's BatchTask) to a completed TaskDef.
  void complete_batch_def(cano::detail::TaskDef& task, const cano_batch_options& batch,
                          const cano::detail::StateInfo& state) const;
  void set_handler(cano::detail::StateInfo& state, std::unique_ptr<cano::detail::TaskDef> task,
                   std::unique_ptr<cano::detail::SplitDef> split);
  cano::detail::StateInfo& require_declared(int32_t code, const char* what);
  void build_dense_index();

  cano_resources* resources_;
  std::unordered_map<int32_t, std::unique_ptr<cano::detail::StateInfo>> states_;
  std::unordered_map<std::string, int32_t> codes_by_name_;
  std::vector<int32_t> exit_order_;
  size_t handler_count_ = 0;
  uint64_t timeout_ms_ = 0;

  std::atomic<bool> frozen_{false};
  std::mutex freeze_mutex_;
  std::optional<cano::detail::Error> validation_;
  std::vector<const cano::detail::StateInfo*> dense_;
  int64_t dense_base_ = 0;
};
