// A split state's execution (spec section 4.2): its branches run as parallel task executions,
// at most `bulkhead` at a time, and the join strategy decides when and how the split ends.
//
// Like TaskExecution, start() either ends synchronously (every branch inline) or returns
// pending, and the owner is called back once. Every callback to the owner is the last thing
// the split does, so the owner may destroy the split inside it. Loop thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cano/split.h"
#include "src/error.hpp"
#include "src/task_execution.hpp"
#include "src/timer_heap.hpp"

struct cano_engine;
struct cano_workflow;

// The outcome of every branch, handed to the join state's task.
struct cano_split_result {
  struct Branch {
    cano_branch_status status = CANO_BRANCH_CANCELLED;
    bool has_value = false;
    std::string value;
    std::unique_ptr<cano_error> error;
  };
  std::vector<Branch> branches;
  size_t succeeded = 0;
  size_t failed = 0;
  size_t cancelled = 0;
};

namespace cano::detail {

struct SplitDef;
struct StateInfo;

// cano's join-config checks (spec 1.2, step 3), in its order and words; nullopt when valid.
std::optional<Error> validate_join(const SplitDef& split);
// cano's Debug rendering of a strategy: All, Any, Quorum(2), Percentage(0.5), ...
std::string strategy_label(const SplitDef& split);

class SplitExecution {
 public:
  class Owner {
   public:
    virtual void split_finished(SplitExecution& split) = 0;

   protected:
    ~Owner() = default;
  };

  SplitExecution(cano_engine* engine, cano_workflow* workflow, uint64_t run_id,
                 const StateInfo& state, Owner* owner);
  ~SplitExecution();
  SplitExecution(const SplitExecution&) = delete;
  SplitExecution& operator=(const SplitExecution&) = delete;

  // Returns true when the split already ended (succeeded() tells how).
  bool start();
  // Stops every branch; the owner is not called back.
  void abandon();

  bool succeeded() const { return succeeded_; }
  std::optional<Error>& error() { return error_; }
  std::shared_ptr<const cano_split_result> result() const { return result_; }

 private:
  enum class BranchPhase { kQueued, kRunning, kDone };
  struct Branch final : TaskExecution::Owner {
    Branch(SplitExecution* split, size_t index);
    void execution_finished(TaskExecution& execution) override;
    SplitExecution* split;
    size_t index;
    BranchPhase phase = BranchPhase::kQueued;
    TaskExecution execution;
  };

  // Starts queued branches while slots are free and records what finishes synchronously, then
  // applies the join rules. Returns true once the split has ended.
  bool pump();
  void record(size_t index);
  bool early_exit_reached() const;
  void cancel_rest();
  void decide();
  void end_with(std::optional<Error> error);
  std::string error_summary() const;
  void branch_finished(size_t index);
  static void on_timeout(void* self);

  cano_engine* engine_;
  cano_workflow* workflow_;
  const StateInfo& state_;
  const SplitDef& def_;
  Owner* owner_;
  std::vector<std::unique_ptr<Branch>> branches_;
  std::vector<size_t> finished_;    // finished synchronously, not yet recorded
  std::vector<size_t> completion_;  // completion order, for the error summary
  size_t next_queued_ = 0;
  size_t running_ = 0;
  size_t successes_ = 0;
  size_t failures_ = 0;
  bool ended_ = false;
  bool succeeded_ = false;
  bool timed_out_ = false;
  std::optional<Error> error_;
  std::shared_ptr<cano_split_result> result_;
  Timer timeout_timer_;
  uint64_t run_id_;
};

}  // namespace cano::detail
