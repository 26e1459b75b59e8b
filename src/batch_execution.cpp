#include "src/batch_execution.hpp"

#include <utility>

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
  next_item_ = 0;
  ended_items_ = 0;
  active_lanes_ = concurrency < count ? concurrency : count;
  while (lanes_.size() < active_lanes_) {
    lanes_.push_back(std::make_unique<Lane>(this, lanes_.size()));
  }
  idle_.clear();
  // Lower slots are used first: with inline items only slot 0 ever runs.
  for (size_t slot = active_lanes_; slot-- > 0;) idle_.push_back(slot);
  running_ = true;
  return pump();
}

void BatchExecution::abandon() {
  if (!running_) return;
  running_ = false;
  for (auto& lane : lanes_) {
    if (lane->busy) {
      lane->execution.abandon();
      lane->busy = false;
    }
  }
}

bool BatchExecution::pump() {
  const size_t count = items_->size();
  while (next_item_ < count && !idle_.empty()) {
    Lane& lane = *lanes_[idle_.back()];
    idle_.pop_back();
    lane.item = next_item_++;
    lane.busy = true;
    lane.execution.set_batch_item(items_, lane.item);
    if (lane.execution.start(item_, state_, nullptr, /*branch=*/true) && !record(lane)) {
      return true;
    }
  }
  if (ended_items_ == count) {
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

}  // namespace cano::detail
