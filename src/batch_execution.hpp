// The item step of a batch task's attempt (cano's run_batch, spec section 3.3): every loaded item
// runs through the item task's own retry loop, at most `concurrency` at a time, and the outcomes
// are collected in input order for the finish step.
//
// Each concurrency slot is a lane: one TaskExecution reused for item after item, so a batch of
// any size costs `concurrency` executions. Inline items finish synchronously inside pump(),
// which keeps a batch of inline items a flat loop. Like SplitExecution, the callback to its
// parent is the last thing it does, so the parent may restart or destroy it there.
// Loop thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "src/error.hpp"
#include "src/split_execution.hpp"
#include "src/task_execution.hpp"

struct cano_engine;
struct cano_workflow;

namespace cano::detail {

struct TaskDef;
struct WorkerLane;
struct WorkerLaneShared;

class BatchExecution {
 public:
  BatchExecution(cano_engine* engine, cano_workflow* workflow, uint64_t run_id,
                 TaskExecution* parent);
  ~BatchExecution();
  BatchExecution(const BatchExecution&) = delete;
  BatchExecution& operator=(const BatchExecution&) = delete;

  // Processes `items` with `item` (the item task), `concurrency` at a time. Returns true when
  // every item already ended (or one failed fatally); otherwise the parent's batch_finished()
  // is called once when they have.
  bool start(const TaskDef* item, int32_t state, uint32_t concurrency,
             std::vector<std::string> items);
  // Stops every item in flight; the parent is not called back.
  void abandon();
  // The run was cancelled from the loop thread (perhaps by one of these items): start no more
  // items and never call the parent back; the run's abort follows. Loop thread.
  void stop();
  // Drops the items and outcomes once the parent has taken results() (and the lanes' references
  // to them), so that a finished batch keeps no memory while its run goes on.
  void release();

  // The error of an item that failed fatally (cano's panic in process_item), which fails the
  // whole attempt; nullopt when every item ended normally.
  std::optional<Error>& fatal_error() { return fatal_error_; }
  // Every item's outcome, in input order (valid once the batch ended without a fatal error).
  std::shared_ptr<const cano_split_result> results() const { return results_; }

  // A worker lane's job reported back (see batch_worker_lane.hpp). Deletes or resubmits it.
  void worker_lane_reported(WorkerLane& lane);

 private:
  struct Lane final : TaskExecution::Owner {
    Lane(BatchExecution* batch, size_t slot);
    void execution_finished(TaskExecution& execution) override;
    BatchExecution* batch;
    size_t slot;
    size_t item = 0;
    bool busy = false;
    TaskExecution execution;
  };

  // Starts items on idle lanes and records those that finish synchronously. Returns true once
  // every item has ended or one failed fatally.
  bool pump();
  // Records the item `lane` just finished; false when it failed fatally.
  bool record(Lane& lane);
  void lane_finished(Lane& lane);
  // The fast paths for items with one attempt: inline items back to back on the loop, worker
  // items in one back-to-back job per slot.
  std::shared_ptr<WorkerLaneShared> lane_shared() const;
  bool run_inline_items();
  void start_worker_lanes(size_t lanes);
  // Adds what a fast-path lane ran to the batch's counts (and its fatal error, if any).
  void take_tallies(WorkerLane& lane);
  void forget_worker_lane(WorkerLane& lane);
  void drop_worker_lanes();

  cano_engine* engine_;
  cano_workflow* workflow_;
  uint64_t run_id_;
  TaskExecution* parent_;
  const TaskDef* item_ = nullptr;
  int32_t state_ = 0;
  std::vector<std::unique_ptr<Lane>> lanes_;  // grows to the largest concurrency used
  std::vector<size_t> idle_;                  // slots of idle lanes
  size_t active_lanes_ = 0;                   // lanes this batch may use
  std::shared_ptr<const std::vector<std::string>> items_;
  std::shared_ptr<cano_split_result> results_;
  std::optional<Error> fatal_error_;
  std::shared_ptr<WorkerLaneShared> worker_shared_;
  std::vector<WorkerLane*> worker_lanes_;  // jobs in flight, owned here until they report
  size_t next_item_ = 0;
  size_t ended_items_ = 0;
  bool running_ = false;
  bool stopped_ = false;
};

}  // namespace cano::detail
