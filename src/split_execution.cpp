#include "src/split_execution.hpp"

#include <charconv>
#include <cmath>
#include <limits>

#include "src/engine.hpp"
#include "src/workflow.hpp"

namespace cano::detail {

namespace {

// Rust's Display of an f64: the shortest text that reads back the same, "NaN", "inf", "-inf".
std::string rust_display(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value < 0 ? "-inf" : "inf";
  char buffer[64];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

// Rust's Debug of an f64: like Display, but a whole number keeps ".0".
std::string rust_debug(double value) {
  std::string text = rust_display(value);
  if (text.find_first_of(".eEaN") == std::string::npos && text.find("inf") == std::string::npos) {
    text += ".0";
  }
  return text;
}

}  // namespace

std::optional<Error> validate_join(const SplitDef& split) {
  if (split.strategy == CANO_JOIN_PARTIAL_TIMEOUT && split.timeout_ms == 0) {
    return Error(CANO_E_CONFIGURATION,
                 "PartialTimeout strategy requires a timeout to be configured");
  }
  if (split.strategy == CANO_JOIN_PERCENTAGE &&
      !(std::isfinite(split.percentage) && split.percentage > 0.0 && split.percentage <= 1.0)) {
    return Error(CANO_E_CONFIGURATION,
                 "Percentage strategy requires a finite value in (0.0, 1.0], got " +
                     rust_display(split.percentage));
  }
  return std::nullopt;
}

std::string strategy_label(const SplitDef& split) {
  switch (split.strategy) {
    case CANO_JOIN_ALL:
      return "All";
    case CANO_JOIN_ANY:
      return "Any";
    case CANO_JOIN_QUORUM:
      return "Quorum(" + std::to_string(split.count) + ")";
    case CANO_JOIN_PERCENTAGE:
      return "Percentage(" + rust_debug(split.percentage) + ")";
    case CANO_JOIN_PARTIAL_RESULTS:
      return "PartialResults(" + std::to_string(split.count) + ")";
    case CANO_JOIN_PARTIAL_TIMEOUT:
      return "PartialTimeout";
    default:
      return "Unknown";
  }
}

SplitExecution::Branch::Branch(SplitExecution* owner, size_t i)
    : split(owner), index(i), execution(owner->engine_, owner->workflow_, owner->run_id_, this) {}

void SplitExecution::Branch::execution_finished(TaskExecution& /*execution*/) {
  split->branch_finished(index);
}

SplitExecution::SplitExecution(cano_engine* engine, cano_workflow* workflow, uint64_t run_id,
                               const StateInfo& state, Owner* owner)
    : engine_(engine),
      workflow_(workflow),
      state_(state),
      def_(*state.split),
      owner_(owner),
      result_(std::make_shared<cano_split_result>()),
      run_id_(run_id) {
  timeout_timer_.fn = &SplitExecution::on_timeout;
  timeout_timer_.arg = this;
  branches_.reserve(def_.branches.size());
  for (size_t i = 0; i < def_.branches.size(); ++i) {
    branches_.push_back(std::make_unique<Branch>(this, i));
  }
  result_->branches.resize(def_.branches.size());
}

SplitExecution::~SplitExecution() { abandon(); }

bool SplitExecution::start() {
  if (pump()) return true;
  // The deadline starts once the branches are spawned, so time queued behind the bulkhead
  // counts against it, as in cano.
  if (def_.timeout_ms > 0) engine_->arm(timeout_timer_, def_.timeout_ms);
  return false;
}

void SplitExecution::abandon() {
  engine_->cancel(timeout_timer_);
  for (auto& branch : branches_) {
    if (branch->phase == BranchPhase::kRunning) branch->execution.abandon();
  }
}

bool SplitExecution::pump() {
  const size_t total = branches_.size();
  for (;;) {
    while (next_queued_ < total && (def_.bulkhead == 0 || running_ < def_.bulkhead)) {
      Branch& branch = *branches_[next_queued_++];
      branch.phase = BranchPhase::kRunning;
      ++running_;
      if (branch.execution.start(def_.branches[branch.index].get(), state_.code, nullptr, true)) {
        finished_.push_back(branch.index);
      }
    }
    if (finished_.empty()) break;
    std::vector<size_t> batch;
    batch.swap(finished_);
    for (size_t index : batch) {
      record(index);
      if (early_exit_reached()) {
        cancel_rest();
        decide();
        return true;
      }
    }
  }
  if (completion_.size() == total) {
    decide();
    return true;
  }
  return false;
}

void SplitExecution::record(size_t index) {
  Branch& branch = *branches_[index];
  branch.phase = BranchPhase::kDone;
  --running_;
  completion_.push_back(index);
  cano_split_result::Branch& out = result_->branches[index];
  if (branch.execution.status() == TaskExecution::Status::kSucceeded) {
    ++successes_;
    out.status = CANO_BRANCH_SUCCEEDED;
    out.has_value = branch.execution.has_value();
    out.value = std::move(branch.execution.value());
  } else {
    ++failures_;
    out.status = CANO_BRANCH_FAILED;
    std::optional<Error>& error = branch.execution.error();
    out.error.reset(to_handle(error ? std::move(*error) : Error(CANO_E_INTERNAL, "no error")));
  }
}

bool SplitExecution::early_exit_reached() const {
  // Only Any and PartialResults end early; All, Quorum and Percentage wait for every branch.
  switch (def_.strategy) {
    case CANO_JOIN_ANY:
      return successes_ >= 1;
    case CANO_JOIN_PARTIAL_RESULTS:
      return successes_ >= def_.count;
    default:
      return false;
  }
}

void SplitExecution::cancel_rest() {
  for (auto& branch : branches_) {
    if (branch->phase == BranchPhase::kDone) continue;
    if (branch->phase == BranchPhase::kRunning) {
      branch->execution.abandon();
      --running_;
    }
    branch->phase = BranchPhase::kDone;
    result_->branches[branch->index].status = CANO_BRANCH_CANCELLED;
  }
  // Branches that finished in a batch but were not collected before the early exit count as
  // cancelled too: their result never reached the join, as in cano.
  for (size_t index : finished_) result_->branches[index].status = CANO_BRANCH_CANCELLED;
  finished_.clear();
}

std::string SplitExecution::error_summary() const {
  std::string summary;
  size_t listed = 0;
  size_t errors = 0;
  for (size_t index : completion_) {
    const cano_split_result::Branch& branch = result_->branches[index];
    if (branch.status != CANO_BRANCH_FAILED) continue;
    ++errors;
    if (listed == 3) continue;
    summary += listed == 0 ? "; errors: " : "; ";
    summary += "task " + std::to_string(index) + ": " + branch.error->error.display();
    ++listed;
  }
  if (errors > listed) summary += "; ... and " + std::to_string(errors - listed) + " more error(s)";
  return summary;
}

void SplitExecution::decide() {
  const size_t total = branches_.size();
  const size_t completed = successes_ + failures_;
  bool ok = false;
  std::string message;
  switch (def_.strategy) {
    case CANO_JOIN_PARTIAL_RESULTS:
      ok = successes_ >= def_.count;
      if (!ok) {
        message = "Partial results condition not met: " + std::to_string(successes_) +
                  " completed successfully, " + std::to_string(def_.count) + " required" +
                  error_summary();
      }
      break;
    case CANO_JOIN_PARTIAL_TIMEOUT:
      ok = completed >= 1;
      if (!ok) message = "PartialTimeout: No tasks completed before timeout";
      break;
    default: {
      switch (def_.strategy) {
        case CANO_JOIN_ALL:
          ok = successes_ >= total;
          break;
        case CANO_JOIN_ANY:
          ok = successes_ >= 1;
          break;
        case CANO_JOIN_QUORUM:
          ok = successes_ >= def_.count;
          break;
        case CANO_JOIN_PERCENTAGE: {
          double needed = std::ceil(static_cast<double>(total) * def_.percentage);
          ok = !(needed > static_cast<double>(successes_));
          break;
        }
        default:
          break;
      }
      if (!ok) {
        message = "Join condition not met: " + std::to_string(successes_) + " of " +
                  std::to_string(total) +
                  " tasks completed successfully, strategy: " + strategy_label(def_) +
                  error_summary();
      }
    }
  }
  end_with(ok ? std::nullopt : std::optional<Error>(Error(CANO_E_WORKFLOW, std::move(message))));
}

void SplitExecution::end_with(std::optional<Error> error) {
  engine_->cancel(timeout_timer_);
  ended_ = true;
  succeeded_ = !error;
  if (error) {
    error->state = state_.code;
    error->state_name = state_.name;
    error->run_id = run_id_;
    error_ = std::move(error);
  }
  size_t cancelled = 0;
  for (const auto& branch : result_->branches) cancelled += branch.status == CANO_BRANCH_CANCELLED;
  result_->succeeded = successes_;
  result_->failed = failures_;
  result_->cancelled = cancelled;
}

void SplitExecution::branch_finished(size_t index) {
  record(index);
  if (early_exit_reached()) {
    cancel_rest();
    decide();
  } else if (!pump()) {
    return;
  }
  owner_->split_finished(*this);  // last: the owner may destroy this split
}

void SplitExecution::on_timeout(void* self) {
  auto* split = static_cast<SplitExecution*>(self);
  split->timed_out_ = true;
  split->cancel_rest();
  if (split->def_.strategy == CANO_JOIN_PARTIAL_TIMEOUT) {
    split->decide();
  } else {
    split->end_with(Error(CANO_E_WORKFLOW, "Split task timeout exceeded"));
  }
  split->owner_->split_finished(*split);  // last: the owner may destroy this split
}

}  // namespace cano::detail
