#include "src/run.hpp"

#include "src/engine.hpp"
#include "src/log.hpp"
#include "src/resource_lifecycle.hpp"
#include "src/resources.hpp"
#include "src/workflow.hpp"

namespace cano::detail {

namespace {
// Consecutive inline transitions a run may make before it yields the loop to other work.
constexpr int kInlineBudget = 4096;
}  // namespace

Run::Run(cano_engine* engine, cano_workflow* workflow, uint64_t id, int32_t initial,
         cano_run_done_fn done, void* user_data)
    : engine_(engine),
      workflow_(workflow),
      id_(id),
      current_(initial),
      done_(done),
      user_data_(user_data),
      execution_(engine, workflow, id, this) {
  workflow_->retain();
  workflow_timer_.fn = &Run::on_workflow_timeout;
  yield_timer_.fn = &Run::on_continue;
  workflow_timer_.arg = yield_timer_.arg = this;
}

Run::~Run() { release(workflow_); }

void Run::begin() {
  engine_->add_run(this);
  if (engine_->stopping()) {
    phase_ = Phase::kReleasing;
    status_ = CANO_E_SHUTDOWN;
    error_ = Error(CANO_E_SHUTDOWN,
                   "the engine shut down before run " + std::to_string(id_) + " could start");
    error_->run_id = id_;
    report();
    return;
  }
  phase_ = Phase::kAcquiring;
  engine_->lifecycle_of(workflow_->resources()).acquire(this);
}

void Run::resources_ready() {
  resources_held_ = true;
  if (aborted_) {
    phase_ = Phase::kRunning;
    finish(aborted_->code, std::move(aborted_));
    return;
  }
  phase_ = Phase::kRunning;
  if (workflow_->timeout_ms() > 0) engine_->arm(workflow_timer_, workflow_->timeout_ms());
  advance();
}

void Run::resources_failed(const Error& error) {
  phase_ = Phase::kReleasing;
  if (aborted_) {
    status_ = aborted_->code;
    error_ = std::move(aborted_);
  } else {
    status_ = error.code;
    error_ = error;
    error_->run_id = id_;
  }
  report();
}

void Run::resources_released() { report(); }

void Run::abort(cano_status status, const std::string& message) {
  Error error(status, message);
  error.run_id = id_;
  switch (phase_) {
    case Phase::kAcquiring:
      // Setup is running on a worker; the run ends as soon as it comes back.
      if (!aborted_) aborted_ = std::move(error);
      break;
    case Phase::kRunning:
      add_state_context(error);
      finish(status, std::move(error));
      break;
    default:
      break;
  }
}

void Run::cancel() { abort(CANO_E_CANCELLED, "run " + std::to_string(id_) + " was cancelled"); }

void Run::add_state_context(Error& error) const {
  error.state = current_;
  const StateInfo* state = workflow_->lookup(current_);
  if (state != nullptr) error.state_name = state->name;
  error.run_id = id_;
}

void Run::advance() {
  int budget = kInlineBudget;
  while (phase_ == Phase::kRunning) {
    const StateInfo* state = workflow_->lookup(current_);
    // The exit check comes before the handler lookup: a task on an exit state never runs.
    if (state != nullptr && state->exit) {
      finish(CANO_OK, std::nullopt);
      return;
    }
    if (state != nullptr && state->split) {
      last_split_.reset();
      split_ = std::make_unique<SplitExecution>(engine_, workflow_, id_, *state, this);
      if (!split_->start()) return;  // it calls back when done
      if (!take_split_outcome()) return;
      continue;
    }
    if (state == nullptr || !state->task) {
      Error error(CANO_E_WORKFLOW, "No task registered for state: " + workflow_->label(current_));
      add_state_context(error);
      finish(CANO_E_WORKFLOW, std::move(error));
      return;
    }
    // Only the split's join state sees the split's outcome.
    if (!execution_.start(state->task.get(), current_, std::move(last_split_))) return;
    if (!take_outcome()) return;
    if (--budget == 0) {
      // Let timers, completions and other runs in before going on.
      engine_->arm(yield_timer_, 0);
      return;
    }
  }
}

bool Run::take_outcome() {
  if (cancel_requested_) {
    // A body of this run cancelled it: its result is discarded, here, outside every body.
    cancel();
    return false;
  }
  if (execution_.status() == TaskExecution::Status::kSucceeded) {
    current_ = execution_.next_state();
    return true;
  }
  std::optional<Error> error = std::move(execution_.error());
  cano_status code = error ? error->code : CANO_E_INTERNAL;
  finish(code, std::move(error));
  return false;
}

void Run::execution_finished(TaskExecution& /*execution*/) {
  if (take_outcome()) advance();
}

bool Run::take_split_outcome() {
  if (cancel_requested_) {
    // A body of this run cancelled it: its result is discarded, here, outside every body.
    cancel();
    return false;
  }
  if (split_->succeeded()) {
    last_split_ = split_->result();
    current_ = workflow_->lookup(current_)->split->join_state;
    return true;
  }
  std::optional<Error> error = std::move(split_->error());
  cano_status code = error ? error->code : CANO_E_INTERNAL;
  finish(code, std::move(error));
  return false;
}

void Run::split_finished(SplitExecution& /*split*/) {
  if (take_split_outcome()) advance();
}

void Run::on_workflow_timeout(void* self) {
  auto* run = static_cast<Run*>(self);
  Error error(CANO_E_WORKFLOW, "Workflow timeout exceeded");
  run->add_state_context(error);
  run->finish(CANO_E_WORKFLOW, std::move(error));
}

void Run::on_continue(void* self) {
  auto* run = static_cast<Run*>(self);
  if (run->phase_ == Phase::kRunning) run->advance();
}

void Run::finish(cano_status status, std::optional<Error> error) {
  if (phase_ != Phase::kRunning) return;
  phase_ = Phase::kReleasing;
  engine_->cancel(workflow_timer_);
  engine_->cancel(yield_timer_);
  execution_.abandon();
  if (split_) split_->abandon();
  last_split_.reset();
  status_ = status;
  error_ = std::move(error);
  if (error_ && error_->run_id == 0) error_->run_id = id_;
  if (resources_held_) {
    resources_held_ = false;
    engine_->lifecycle_of(workflow_->resources()).release(this);
  } else {
    report();
  }
}

void Run::report() {
  phase_ = Phase::kDone;
  cano_engine* engine = engine_;
  engine->remove_run(this);
  // Counted out before the callback, so that a waiter woken by it never sees its run in flight.
  engine->count_run(-1);
  if (done_ != nullptr) {
    cano_error* handle = error_ ? to_handle(*error_) : nullptr;
    done_(id_, status_, current_, handle, user_data_);
    delete handle;
  }
  delete this;
  engine->maybe_finish_shutdown();
}

}  // namespace cano::detail
