#include "src/batch_execution.hpp"

#include <algorithm>
#include <utility>

#include "src/batch_worker_lane.hpp"
#include "src/workflow.hpp"

namespace cano::detail {

BatchExecution::Lane::Lane(BatchExecution* owner, size_t index)
    : batch(owner),
      slot(index),
      execution(owner->engine_, owner->workflow_, owner->run_id_, this) {}

void BatchExecution::Lane::execution_finished(TaskExecution& /*execution*/) {
  batch->lane_finished(*this);
}

BatchExecution::BatchExecution(cano_engine* engine, cano_workflow* workflow, uint64_t run_id,
                               TaskExecution* parent)
    : engine_(engine), workflow_(workflow), run_id_(run_id), parent_(parent) {}

BatchExecution::~BatchExecution() { abandon(); }

bool BatchExecution::start(const TaskDef* item, int32_t state, uint32_t concurrency,
                           std::vector<std::string> items) {
  abandon();
  item_ = item;
  state_ = state;
  const size_t count = items.size();
  items_ = std::make_shared<const std::vector<std::string>>(std::move(items));
  // A fresh results object each time: the previous attempt's finish step may still hold one.
  results_ = std::make_shared<cano_split_result>();
  results_->branches.resize(count);
  fatal_error_.reset();
  stopped_ = false;
  next_item_ = 0;
  ended_items_ = 0;
  active_lanes_ = concurrency < count ? concurrency : count;
  running_ = true;
  if (item->max_attempts == 1 && count > 0) {
    if (item->options.mode == CANO_TASK_INLINE) return run_inline_items();
    start_worker_lanes(active_lanes_);
    return false;
  }
  while (lanes_.size() < active_lanes_) {
    lanes_.push_back(std::make_unique<Lane>(this, lanes_.size()));
  }
  idle_.clear();
  // Lower slots are used first: with inline items only slot 0 ever runs.
  for (size_t slot = active_lanes_; slot-- > 0;) idle_.push_back(slot);
  return pump();
}

void BatchExecution::abandon() {
  if (!running_) return;
  running_ = false;
  drop_worker_lanes();
  for (auto& lane : lanes_) {
    if (lane->busy) {
      lane->execution.abandon();
      lane->busy = false;
    }
  }
}

void BatchExecution::stop() {
  stopped_ = true;
  if (worker_shared_) worker_shared_->cancelled.store(true, std::memory_order_relaxed);
}

void BatchExecution::release() {
  items_.reset();
  results_.reset();
  for (auto& lane : lanes_) lane->execution.clear_batch_item();
}

bool BatchExecution::pump() {
  const size_t count = items_->size();
  while (!stopped_ && next_item_ < count && !idle_.empty()) {
    Lane& lane = *lanes_[idle_.back()];
    idle_.pop_back();
    lane.item = next_item_++;
    lane.busy = true;
    lane.execution.set_batch_item(items_, lane.item);
    if (lane.execution.start(item_, state_, nullptr, /*branch=*/true) && !record(lane)) {
      return true;
    }
  }
  if (ended_items_ == count && !stopped_) {
    running_ = false;
    return true;
  }
  return false;
}

bool BatchExecution::record(Lane& lane) {
  lane.busy = false;
  idle_.push_back(lane.slot);
  ++ended_items_;
  TaskExecution& execution = lane.execution;
  cano_split_result::Branch& out = results_->branches[lane.item];
  if (execution.status() == TaskExecution::Status::kSucceeded) {
    ++results_->succeeded;
    out.status = CANO_BRANCH_SUCCEEDED;
    out.has_value = execution.has_value();
    out.value = std::move(execution.value());
    return true;
  }
  std::optional<Error>& failure = execution.error();
  Error error = failure ? std::move(*failure) : Error(CANO_E_INTERNAL, "no error");
  // cano's BatchTask has no item ids; ours name the item by its input index, as split branches.
  error.task_name += "[" + std::to_string(lane.item) + "]";
  if (execution.failed_fatally()) {
    fatal_error_ = std::move(error);
    abandon();
    return false;
  }
  ++results_->failed;
  out.status = CANO_BRANCH_FAILED;
  out.error.reset(to_handle(std::move(error)));
  return true;
}

void BatchExecution::lane_finished(Lane& lane) {
  if (!running_) return;
  if (!record(lane) || pump()) {
    running_ = false;
    // The last thing this batch does: the parent may start it again or destroy it.
    parent_->batch_finished();
  }
}

std::shared_ptr<WorkerLaneShared> BatchExecution::lane_shared() const {
  auto shared = std::make_shared<WorkerLaneShared>();
  shared->items = items_;
  shared->results = results_;
  shared->item = item_;
  shared->state = state_;
  shared->state_name = workflow_->label(state_);
  shared->run_id = run_id_;
  return shared;
}

bool BatchExecution::run_inline_items() {
  // Inline items run one after another on the loop whatever the concurrency, as they would on
  // the general path (each finishes before the next starts).
  // Shared through worker_shared_ while it runs, so that stop() reaches it.
  worker_shared_ = lane_shared();
  WorkerLane lane(engine_, workflow_, worker_shared_, this);
  lane.run_all();
  worker_shared_.reset();
  if (stopped_) return false;
  take_tallies(lane);
  running_ = false;
  return true;
}

void BatchExecution::take_tallies(WorkerLane& lane) {
  results_->succeeded += lane.succeeded;
  results_->failed += lane.failed;
  ended_items_ += lane.succeeded + lane.failed;
  if (lane.fatal) fatal_error_ = std::move(lane.fatal);
}

void BatchExecution::forget_worker_lane(WorkerLane& lane) {
  worker_lanes_.erase(std::find(worker_lanes_.begin(), worker_lanes_.end(), &lane));
  delete &lane;
}

void BatchExecution::start_worker_lanes(size_t lanes) {
  worker_shared_ = lane_shared();
  worker_lanes_.reserve(lanes);
  for (size_t i = 0; i < lanes; ++i) {
    auto* lane = new WorkerLane(engine_, workflow_, worker_shared_, this);
    worker_lanes_.push_back(lane);
    lane->submit();
  }
}

void BatchExecution::drop_worker_lanes() {
  if (!worker_shared_) return;
  // The jobs still in flight stop at their next item and delete themselves when they report.
  worker_shared_->cancelled.store(true, std::memory_order_relaxed);
  for (WorkerLane* lane : worker_lanes_) {
    lane->owner = nullptr;
    lane->ctx->cancelled.store(true, std::memory_order_release);
  }
  worker_lanes_.clear();
  worker_shared_.reset();
}

void BatchExecution::worker_lane_reported(WorkerLane& lane) {
  if (stopped_) {
    forget_worker_lane(lane);
    return;
  }
  take_tallies(lane);
  if (!fatal_error_ && !lane.exhausted) {
    lane.submit();  // more items: the same lane takes its next turn
    return;
  }
  forget_worker_lane(lane);
  if (fatal_error_) {
    abandon();
  } else if (!worker_lanes_.empty()) {
    return;
  }
  running_ = false;
  worker_shared_.reset();
  // The last thing this batch does: the parent may start it again or destroy it.
  parent_->batch_finished();
}

}  // namespace cano::detail
