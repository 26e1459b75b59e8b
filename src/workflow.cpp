#include "src/workflow.hpp"

#include <algorithm>
#include <limits>

#include "src/resources.hpp"

using cano::detail::Error;
using cano::detail::fail;
using cano::detail::StateInfo;
using cano::detail::TaskDef;

cano_workflow::cano_workflow(cano_resources* resources) : resources_(resources) {
  if (resources_ == nullptr) {
    resources_ = new cano_resources();
  } else {
    resources_->retain();
  }
}

cano_workflow::~cano_workflow() {
  // Task destroy hooks run here, through ~TaskDef, before the resources go.
  states_.clear();
  cano::detail::release(resources_);
}

void cano_workflow::require_unfrozen(const char* what) const {
  if (frozen()) {
    fail(CANO_E_BAD_STATE,
         std::string(what) + ": the workflow is frozen because it has started runs");
  }
}

StateInfo& cano_workflow::require_declared(int32_t code, const char* what) {
  auto it = states_.find(code);
  if (it == states_.end()) {
    fail(CANO_E_CONFIGURATION, std::string(what) + ": state " + std::to_string(code) +
                                   " is not declared (call cano_workflow_add_state first)");
  }
  return *it->second;
}

void cano_workflow::add_state(int32_t code, const char* name) {
  require_unfrozen("add_state");
  if (name == nullptr || *name == '\0') {
    fail(CANO_E_INVALID_ARGUMENT,
         "add_state: the name of state " + std::to_string(code) + " must be a non-empty string");
  }
  auto existing = states_.find(code);
  if (existing != states_.end()) {
    fail(CANO_E_CONFIGURATION, "add_state: state code " + std::to_string(code) +
                                   " is already declared as \"" + existing->second->name + "\"");
  }
  auto named = codes_by_name_.find(name);
  if (named != codes_by_name_.end()) {
    fail(CANO_E_CONFIGURATION, std::string("add_state: state name \"") + name +
                                   "\" is already declared for state code " +
                                   std::to_string(named->second));
  }
  auto info = std::make_unique<StateInfo>();
  info->code = code;
  info->name = name;
  codes_by_name_.emplace(info->name, code);
  states_.emplace(code, std::move(info));
}

void cano_workflow::register_task(int32_t code, const cano_task_options& options) {
  // The caller has already copied the options into a full-size struct; ownership of user_data
  // passes to the TaskDef first, so that every failure path below runs its destroy hook.
  auto task = std::make_unique<TaskDef>();
  task->options = options;
  require_unfrozen("register");
  StateInfo& state = require_declared(code, "register");
  if (options.run == nullptr) {
    fail(CANO_E_INVALID_ARGUMENT,
         "register: the task for state \"" + state.name + "\" has no run function");
  }
  if (options.mode < CANO_TASK_WORKER || options.mode > CANO_TASK_ASYNC) {
    fail(CANO_E_INVALID_ARGUMENT, "register: the task for state \"" + state.name +
                                      "\" has an unknown mode " + std::to_string(options.mode));
  }
  if (options.retry < CANO_RETRY_DEFAULT || options.retry > CANO_RETRY_EXPONENTIAL) {
    fail(CANO_E_INVALID_ARGUMENT, "register: the task for state \"" + state.name +
                                      "\" has an unknown retry kind " +
                                      std::to_string(options.retry));
  }
  task->name = (options.name != nullptr && *options.name != '\0') ? options.name : state.name;
  task->options.name = nullptr;  // the caller's string is not kept; task->name is
  task->retry = cano::detail::RetryPolicy::from(options);
  task->max_attempts = task->retry.max_attempts();
  if (!state.task) ++handler_count_;
  state.task = std::move(task);  // a replaced task's destroy hook runs here
}

void cano_workflow::add_exit_state(int32_t code) {
  require_unfrozen("add_exit_state");
  StateInfo& state = require_declared(code, "add_exit_state");
  if (!state.exit) {
    state.exit = true;
    exit_order_.push_back(code);
  }
}

void cano_workflow::set_timeout(uint64_t ms) {
  require_unfrozen("set_timeout");
  timeout_ms_ = ms;
}

std::optional<Error> cano_workflow::validate() const {
  if (handler_count_ == 0) {
    return Error(CANO_E_CONFIGURATION, "Workflow has no registered state handlers");
  }
  if (exit_order_.empty()) {
    return Error(CANO_E_CONFIGURATION,
                 "Workflow has no exit states defined — orchestration may loop forever");
  }
  return std::nullopt;
}

std::optional<Error> cano_workflow::validate_initial_state(int32_t code) const {
  const StateInfo* state = lookup(code);
  if (state != nullptr && (state->task || state->exit)) return std::nullopt;
  Error error(CANO_E_CONFIGURATION,
              "Initial state " + label(code) + " is neither registered nor an exit state");
  error.state = code;
  if (state != nullptr) error.state_name = state->name;
  return error;
}

const std::optional<Error>& cano_workflow::freeze() {
  if (!frozen()) {
    std::lock_guard<std::mutex> lock(freeze_mutex_);
    if (!frozen()) {
      validation_ = validate();
      build_dense_index();
      resources_->freeze();
      frozen_.store(true, std::memory_order_release);
    }
  }
  return validation_;
}

void cano_workflow::build_dense_index() {
  if (states_.empty()) return;
  int64_t low = std::numeric_limits<int64_t>::max();
  int64_t high = std::numeric_limits<int64_t>::min();
  for (const auto& entry : states_) {
    low = std::min<int64_t>(low, entry.first);
    high = std::max<int64_t>(high, entry.first);
  }
  uint64_t span = static_cast<uint64_t>(high - low) + 1;
  // Only when the codes are compact: a sparse enum keeps the hash map.
  if (span > 4 * states_.size() + 64) return;
  dense_.assign(span, nullptr);
  dense_base_ = low;
  for (const auto& entry : states_) dense_[entry.first - low] = entry.second.get();
}

std::string cano_workflow::label(int32_t code) const {
  auto it = states_.find(code);
  return it == states_.end() ? std::to_string(code) : it->second->name;
}

const StateInfo* cano_workflow::find_by_name(const std::string& name) const {
  auto it = codes_by_name_.find(name);
  return it == codes_by_name_.end() ? nullptr : lookup(it->second);
}
