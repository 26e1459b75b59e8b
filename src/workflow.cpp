#include "src/workflow.hpp"

#include <algorithm>
#include <limits>

#include "src/resources.hpp"
#include "src/split_execution.hpp"

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

void cano_workflow::complete_task_def(TaskDef& task, const StateInfo& state,
                                      const char* what) const {
  const cano_task_options& options = task.options;
  if (options.run == nullptr) {
    fail(CANO_E_INVALID_ARGUMENT,
         std::string(what) + ": the task for state \"" + state.name + "\" has no run function");
  }
  if (options.mode < CANO_TASK_WORKER || options.mode > CANO_TASK_ASYNC) {
    fail(CANO_E_INVALID_ARGUMENT, std::string(what) + ": the task for state \"" + state.name +
                                      "\" has an unknown mode " + std::to_string(options.mode));
  }
  if (options.retry < CANO_RETRY_DEFAULT || options.retry > CANO_RETRY_EXPONENTIAL) {
    fail(CANO_E_INVALID_ARGUMENT, std::string(what) + ": the task for state \"" + state.name +
                                      "\" has an unknown retry kind " +
                                      std::to_string(options.retry));
  }
  task.name = (options.name != nullptr && *options.name != '\0') ? options.name : state.name;
  task.options.name = nullptr;  // the caller's string is not kept; task.name is
  task.retry = cano::detail::RetryPolicy::from(options);
  task.max_attempts = task.retry.max_attempts();
}

void cano_workflow::set_handler(StateInfo& state, std::unique_ptr<TaskDef> task,
                                std::unique_ptr<cano::detail::SplitDef> split) {
  if (!state.has_handler()) ++handler_count_;
  // A replaced task's (or split's) destroy hooks run here.
  state.task = std::move(task);
  state.split = std::move(split);
}

void cano_workflow::register_task(int32_t code, const cano_task_options& options,
                                  const cano::detail::TaskModel& model) {
  // The caller has already copied the options into a full-size struct; ownership of user_data
  // passes to the TaskDef first, so that every failure path below runs its destroy hook.
  auto task = std::make_unique<TaskDef>();
  task->options = options;
  const char* what = model.poll      ? "register_poll"
                     : model.router  ? "register_router"
                     : model.stepped ? "register_stepped"
                     : model.timer   ? "register_timer"
                     : model.batch   ? "register_batch"
                                     : "register";
  require_unfrozen(what);
  StateInfo& state = require_declared(code, what);
  if (model.poll != nullptr) {
    const cano_poll_options* poll = model.poll;
    if (poll->policy != CANO_POLL_FAIL_FAST && poll->policy != CANO_POLL_RETRY_ON_ERROR) {
      fail(CANO_E_INVALID_ARGUMENT, std::string(what) + ": the poll task for state \"" +
                                        state.name + "\" has an unknown error policy " +
                                        std::to_string(poll->policy));
    }
    task->poll = true;
    task->poll_policy = poll->policy;
    task->poll_max_errors = poll->max_errors;
  }
  if (model.timer != nullptr) {
    task->timer = true;
    task->timer_delay_ms = model.timer->delay_ms;
    task->timer_until_ms = model.timer->until_ms;
    task->timer_wait = model.timer->wait;
  }
  // PollTask's and TimerTask's default config is TaskConfig::minimal(), not the exponential
  // default.
  if ((task->poll || task->timer) && task->options.retry == CANO_RETRY_DEFAULT) {
    task->options.retry = CANO_RETRY_NONE;
  }
  task->router = model.router;
  task->stepped = model.stepped;
  complete_task_def(*task, state, what);
  if (model.batch != nullptr) complete_batch_def(*task, *model.batch, state);
  set_handler(state, std::move(task), nullptr);
}

void cano_workflow::complete_batch_def(TaskDef& task, const cano_batch_options& batch,
                                       const StateInfo& state) const {
  const std::string where = "register_batch: the batch task for state \"" + state.name + "\"";
  if (batch.load == nullptr) fail(CANO_E_INVALID_ARGUMENT, where + " has no load function");
  if (batch.process_item == nullptr) {
    fail(CANO_E_INVALID_ARGUMENT, where + " has no process_item function");
  }
  if (task.options.mode == CANO_TASK_ASYNC) {
    fail(CANO_E_INVALID_ARGUMENT,
         where + " cannot be CANO_TASK_ASYNC (use CANO_TASK_WORKER or CANO_TASK_INLINE)");
  }
  if (batch.item_retry < CANO_RETRY_DEFAULT || batch.item_retry > CANO_RETRY_EXPONENTIAL) {
    fail(CANO_E_INVALID_ARGUMENT,
         where + " has an unknown item retry kind " + std::to_string(batch.item_retry));
  }
  auto def = std::make_unique<cano::detail::BatchDef>();
  def->load = batch.load;
  def->concurrency = batch.concurrency == 0 ? 1 : batch.concurrency;
  TaskDef& item = def->item;
  item.options = task.options;
  item.options.run = batch.process_item;
  item.options.destroy = nullptr;
  item.options.attempt_timeout_ms = 0;  // cano's item retry loop has no timeout
  // cano's item_retry() defaults to RetryMode::None.
  item.options.retry = batch.item_retry == CANO_RETRY_DEFAULT ? CANO_RETRY_NONE : batch.item_retry;
  item.options.retry_max_retries = batch.item_retry_max_retries;
  item.options.retry_delay_ms = batch.item_retry_delay_ms;
  item.options.retry_multiplier = batch.item_retry_multiplier;
  item.options.retry_max_delay_ms = batch.item_retry_max_delay_ms;
  item.options.retry_jitter = batch.item_retry_jitter;
  item.name = task.name;
  item.retry = cano::detail::RetryPolicy::from(item.options);
  item.max_attempts = item.retry.max_attempts();
  item.raw_retry_error = true;
  task.batch = std::move(def);
}

void cano_workflow::register_split(int32_t code, const std::vector<cano_task_options>& branches,
                                   const cano_join_options& join) {
  auto split = std::make_unique<cano::detail::SplitDef>();
  split->branches.reserve(branches.size());
  for (const auto& options : branches) {
    auto task = std::make_unique<TaskDef>();
    task->options = options;
    split->branches.push_back(std::move(task));
  }
  require_unfrozen("register_split");
  StateInfo& state = require_declared(code, "register_split");
  if (join.strategy < CANO_JOIN_ALL || join.strategy > CANO_JOIN_PARTIAL_TIMEOUT) {
    fail(CANO_E_INVALID_ARGUMENT, "register_split: the split of state \"" + state.name +
                                      "\" has an unknown join strategy " +
                                      std::to_string(join.strategy));
  }
  for (size_t i = 0; i < split->branches.size(); ++i) {
    TaskDef& branch = *split->branches[i];
    complete_task_def(branch, state, "register_split");
    // cano names a branch "{task name}[{index}]" in its observer events; errors use it too.
    branch.name += "[" + std::to_string(i) + "]";
  }
  split->strategy = join.strategy;
  split->count = join.count;
  split->percentage = join.percentage;
  split->timeout_ms = join.timeout_ms;
  split->join_state = join.join_state;
  split->bulkhead = join.bulkhead;
  set_handler(state, nullptr, std::move(split));
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
  // Split entries in ascending state order, so that the first error reported is stable.
  std::vector<const StateInfo*> splits;
  for (const auto& entry : states_) {
    if (entry.second->split) splits.push_back(entry.second.get());
  }
  std::sort(splits.begin(), splits.end(),
            [](const StateInfo* a, const StateInfo* b) { return a->code < b->code; });
  for (const StateInfo* state : splits) {
    auto error = cano::detail::validate_join(*state->split);
    if (!error) {
      const StateInfo* join = lookup(state->split->join_state);
      if (join == nullptr || !(join->has_handler() || join->exit)) {
        error = Error(CANO_E_CONFIGURATION, "Split join_state " + label(state->split->join_state) +
                                                " is neither registered nor an exit state");
      }
    }
    if (error) {
      error->state = state->code;
      error->state_name = state->name;
      return error;
    }
  }
  return std::nullopt;
}

std::optional<Error> cano_workflow::validate_initial_state(int32_t code) const {
  const StateInfo* state = lookup(code);
  if (state != nullptr && (state->has_handler() || state->exit)) return std::nullopt;
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
