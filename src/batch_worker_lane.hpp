// The fast path of a batch whose items have one attempt each (cano's default item_retry,
// RetryMode::None): each concurrency slot of worker items is one worker job that takes items
// from a shared cursor and runs them back to back, reporting to the loop every kLaneBudget,
// instead of one loop-to-worker round trip per item; inline items run back to back on the loop
// in one lane. Items that may be retried take the general path (a TaskExecution per slot),
// because their retry delays live on loop timers.
//
// A lane outlives an abandoned batch until its worker job returns: it holds the workflow (and so
// the item task and its user data) through its context, and shares the items and results.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "src/error.hpp"
#include "src/split_execution.hpp"
#include "src/task_ctx.hpp"

namespace cano::detail {

class BatchExecution;
struct TaskDef;

// What every lane of one batch start shares.
struct WorkerLaneShared {
  std::shared_ptr<const std::vector<std::string>> items;
  std::shared_ptr<cano_split_result> results;  // each slot written by the lane that ran it
  std::atomic<size_t> next{0};                 // the next item to take
  std::atomic<bool> cancelled{false};
  const TaskDef* item = nullptr;
  int32_t state = 0;
  std::string state_name;
  uint64_t run_id = 0;
};

struct WorkerLane {
  WorkerLane(cano_engine* engine, cano_workflow* workflow, std::shared_ptr<WorkerLaneShared> shared,
             BatchExecution* owner);
  ~WorkerLane();
  WorkerLane(const WorkerLane&) = delete;
  WorkerLane& operator=(const WorkerLane&) = delete;

  // Queues the lane's next job on the workers.
  void submit();
  // Runs items until the shared cursor runs out or one fails fatally, on the calling thread
  // (inline items, on the loop).
  void run_all();

  std::shared_ptr<WorkerLaneShared> shared;
  cano_task_ctx* ctx;  // reused for every item the lane runs; retains the workflow
  // Loop thread: the batch this lane reports to; nullptr once the batch abandoned it.
  BatchExecution* owner;
  // Written by the worker job, read by the loop after the job's report (the mailbox orders them).
  size_t succeeded = 0;
  size_t failed = 0;
  std::optional<Error> fatal;  // an item that failed fatally ends the batch
  bool exhausted = false;      // the shared cursor ran out while this job ran

 private:
  static void run(void* arg);
  static void on_report(void* arg);
  // Runs items until the cursor runs out, one fails fatally, or (when `budgeted`) the job's
  // time budget is spent.
  void run_items(bool budgeted);
  cano_engine* engine_;
};

}  // namespace cano::detail
