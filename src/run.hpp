// A run: one walk of a workflow's state machine from an initial state to an exit state
// (spec section 1.4), with cano's retry loop around each task (section 2.4).
//
// Loop thread only. A run owns its timers and the execution of the state it is in
// (src/task_execution.hpp).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "cano/run.h"
#include "src/error.hpp"
#include "src/split_execution.hpp"
#include "src/task_execution.hpp"
#include "src/timer_heap.hpp"

struct cano_engine;
struct cano_workflow;

namespace cano::detail {

struct StateInfo;
struct TaskDef;

struct Run final : TaskExecution::Owner, SplitExecution::Owner {
  Run(cano_engine* engine, cano_workflow* workflow, uint64_t id, int32_t initial,
      cano_run_done_fn done, void* user_data);
  ~Run();
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;

  // Starts the run on the loop: registers it, acquires the resources, enters the FSM.
  void begin();
  // Ends the run with `status` (CANO_E_CANCELLED or CANO_E_SHUTDOWN) wherever it is.
  void abort(cano_status status, const std::string& message);
  // cano_run_cancel: abort() with CANO_E_CANCELLED and its message.
  void cancel();
  // A cancel made on the loop thread, perhaps inside one of this run's own bodies, where ending
  // the run (and freeing it) would pull it from under the caller: the run stops at its next
  // transition, or when the mailbox message the caller also posted arrives, whichever is first.
  void request_cancel() {
    cancel_requested_ = true;
    execution_.request_stop();
  }

  // Called by ResourceLifecycle.
  void resources_ready();
  void resources_failed(const Error& error);
  void resources_released();

  uint64_t id() const { return id_; }
  int32_t current_state() const { return current_; }

 private:
  enum class Phase { kCreated, kAcquiring, kRunning, kReleasing, kDone };

  void advance();
  // Takes the outcome of the state's finished execution. Returns true when the FSM moved on.
  bool take_outcome();
  void execution_finished(TaskExecution& execution) override;
  // Takes the outcome of the split state's finished split. Returns true when the FSM moved on.
  bool take_split_outcome();
  void split_finished(SplitExecution& split) override;
  void finish(cano_status status, std::optional<Error> error);
  void report();
  void add_state_context(Error& error) const;
  static void on_workflow_timeout(void* self);
  static void on_continue(void* self);

  cano_engine* engine_;
  cano_workflow* workflow_;
  uint64_t id_;
  int32_t current_;
  cano_run_done_fn done_;
  void* user_data_;
  Phase phase_ = Phase::kCreated;

  TaskExecution execution_;
  // The split of the current split state. Replaced when the next split starts; a split's
  // callbacks end with the call to the run, so replacing it inside one is safe.
  std::unique_ptr<SplitExecution> split_;
  // The outcome of the split the run just left, for its join state's task.
  std::shared_ptr<const cano_split_result> last_split_;
  bool resources_held_ = false;
  bool cancel_requested_ = false;
  std::optional<Error> aborted_;  // a cancel that arrived while the resources were being set up

  Timer workflow_timer_;
  Timer yield_timer_;

  cano_status status_ = CANO_OK;
  std::optional<Error> error_;
};

}  // namespace cano::detail
