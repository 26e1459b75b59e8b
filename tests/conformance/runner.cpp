// The conformance runner: builds a scenario's engine, resources and workflow through the public
// C API, runs it on the manual clock exactly as README.md prescribes, and records the outcome.
#include "runner.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>

namespace conformance {

namespace {

using Clock = std::chrono::steady_clock;

// README.md "How runners drive time": settle for 2 ms before looking for a timer, poll running
// worker bodies about every millisecond, and give a run 30 s of wall-clock time.
constexpr auto kSettle = std::chrono::milliseconds(2);
constexpr auto kPoll = std::chrono::milliseconds(1);
constexpr auto kRunLimit = std::chrono::seconds(30);
// A blocked worker body that is never cancelled would hang the engine's shutdown; past this
// limit it gives up and the scenario fails instead.
constexpr auto kBlockLimit = std::chrono::seconds(60);

struct ErrorFree {
  void operator()(cano_error* error) const { cano_error_free(error); }
};
using ErrorPtr = std::unique_ptr<cano_error, ErrorFree>;

ErrorInfo info_of(const cano_error* error) {
  ErrorInfo info;
  info.code = cano_error_code(error);
  info.category = cano_error_category(error);
  info.message = cano_error_message(error);
  if (const cano_error* cause = cano_error_cause(error)) {
    info.cause_message = cano_error_message(cause);
  }
  int32_t state = 0;
  if (cano_error_state(error, &state) != 0) info.state = state;
  if (const char* name = cano_error_state_name(error)) info.state_name = name;
  if (const char* task = cano_error_task_name(error)) info.task_name = task;
  info.attempt = cano_error_attempt(error);
  return info;
}

// What one attempt decided: a next state, or a failure with a status and a message.
struct Decision {
  bool chose_next = false;
  int32_t next = 0;
  cano_status code = CANO_E_TASK_EXECUTION;
  std::string message;

  static Decision next_state(int32_t state) { return Decision{true, state, CANO_OK, {}}; }
  static Decision failure(cano_status code, std::string message) {
    return Decision{false, 0, code, std::move(message)};
  }
  // Takes a library error (the attempt fails with its code and message) and frees it.
  static Decision from_error(cano_status status, cano_error* raw) {
    ErrorPtr error(raw);
    if (!error) return failure(status, "the library returned no error object");
    return failure(cano_error_code(error.get()), cano_error_message(error.get()));
  }
};

class Runner;

// The user_data of a registered task and of a journaled resource. The runner owns them and
// keeps them until the engine is destroyed, so no destroy hooks are needed.
struct TaskBinding {
  Runner* runner;
  int32_t state;  // the state, or the split state of a branch
  const TaskSpec* spec;
  std::string key;  // where its calls are counted: the state's name, or "F[i]"
  bool branch;      // a split branch
};

struct ResourceBinding {
  Runner* runner;
  const ResourceSpec* spec;
};

// A retry policy's kind and fields, as cano_task_options and cano_batch_options spell them.
struct RetryFields {
  cano_retry_kind kind = CANO_RETRY_DEFAULT;
  uint32_t max_retries = 0;
  uint64_t delay_ms = 0;
  double multiplier = 0.0;
  uint64_t max_delay_ms = 0;
  double jitter = 0.0;
};

// README.md: "none" is cano's minimal(), "default" is CANO_RETRY_DEFAULT, and "fixed" and
// "exponential" carry exactly the fields they need.
RetryFields retry_fields(const RetrySpec& retry) {
  RetryFields out;
  if (retry.kind == "none") {
    out.kind = CANO_RETRY_NONE;
  } else if (retry.kind == "fixed") {
    out.kind = CANO_RETRY_FIXED;
    out.max_retries = retry.max_retries;
    out.delay_ms = retry.delay_ms;
  } else if (retry.kind == "exponential") {
    out.kind = CANO_RETRY_EXPONENTIAL;
    out.max_retries = retry.max_retries;
    out.delay_ms = retry.delay_ms;
    out.multiplier = retry.multiplier;
    out.max_delay_ms = retry.max_delay_ms;
    out.jitter = retry.jitter;
  }
  return out;
}

class Runner {
 public:
  explicit Runner(const Scenario& scenario) : scenario_(scenario) {}

  Outcome run() {
    if (build()) start_and_drive();
    // Destroying the engine first waits for every worker body, abandoned blocks included, so
    // that the attempt counts below are complete and no body touches this runner afterwards.
    cano_engine_destroy(engine_);
    engine_ = nullptr;
    cano_workflow_destroy(workflow_);
    cano_resources_destroy(resources_);
    collect();
    cano_store_destroy(store_);
    return std::move(outcome_);
  }

 private:
  // Records a runner failure and returns false when a setup call failed.
  bool check(cano_status status, cano_error* raw, const std::string& what) {
    ErrorPtr error(raw);
    if (status == CANO_OK) return true;
    problem(what + " failed: " + cano_status_name(status) + " " +
            (error ? cano_error_describe(error.get()) : ""));
    return false;
  }

  void problem(const std::string& text) {
    std::lock_guard<std::mutex> lock(mutex_);
    outcome_.problems.push_back(text);
  }

  bool build() {
    cano_error* err = nullptr;
    cano_engine_options options = CANO_ENGINE_OPTIONS_INIT;
    options.worker_threads = 2;
    options.clock = CANO_CLOCK_MANUAL;
    options.manual_clock_start_ms = 0;
    options.random_seed = 1;
    if (!check(cano_engine_create(&engine_, &options, &err), err, "cano_engine_create")) {
      return false;
    }
    if (!check(cano_store_create(&store_, &err), err, "cano_store_create") ||
        !check(cano_resources_create(&resources_, &err), err, "cano_resources_create") ||
        !check(cano_resources_insert_store(resources_, "store", store_, &err), err,
               "cano_resources_insert_store")) {
      return false;
    }
    for (const ResourceSpec& spec : scenario_.resources) {
      resource_bindings_.push_back(std::make_unique<ResourceBinding>(ResourceBinding{this, &spec}));
      cano_resource_options resource = CANO_RESOURCE_OPTIONS_INIT;
      resource.type = "conformance.Resource";
      resource.object = resource_bindings_.back().get();
      resource.setup = &Runner::resource_setup;
      resource.teardown = &Runner::resource_teardown;
      if (!check(cano_resources_insert(resources_, spec.key.c_str(), &resource, &err), err,
                 "cano_resources_insert " + spec.key)) {
        return false;
      }
    }
    if (!check(cano_workflow_create(&workflow_, resources_, &err), err, "cano_workflow_create")) {
      return false;
    }
    for (size_t code = 0; code < scenario_.states.size(); ++code) {
      if (!check(cano_workflow_add_state(workflow_, static_cast<int32_t>(code),
                                         scenario_.states[code].c_str(), &err),
                 err, "cano_workflow_add_state " + scenario_.states[code])) {
        return false;
      }
    }
    for (const auto& [state, spec] : scenario_.tasks) {
      if (!register_task(state, spec)) return false;
    }
    for (const auto& [state, split] : scenario_.splits) {
      if (!register_split(state, split)) return false;
    }
    for (int32_t state : scenario_.exit_states) {
      if (!check(cano_workflow_add_exit_state(workflow_, state, &err), err,
                 "cano_workflow_add_exit_state " + scenario_.label(state))) {
        return false;
      }
    }
    if (scenario_.timeout_ms > 0 &&
        !check(cano_workflow_set_timeout(workflow_, scenario_.timeout_ms, &err), err,
               "cano_workflow_set_timeout")) {
      return false;
    }
    return true;
  }

  // The options of a task or branch; the binding keeps `spec` and is owned by the runner.
  cano_task_options task_options(int32_t state, const TaskSpec& spec, std::string key,
                                 bool branch) {
    task_bindings_.push_back(
        std::make_unique<TaskBinding>(TaskBinding{this, state, &spec, std::move(key), branch}));
    cano_task_options options = CANO_TASK_OPTIONS_INIT;
    options.run = &Runner::task_body;
    options.user_data = task_bindings_.back().get();
    options.name = spec.name ? spec.name->c_str() : nullptr;
    options.mode = spec.mode;
    options.attempt_timeout_ms = spec.attempt_timeout_ms;
    // README.md "Cancel notices": every async task and branch counts its notices.
    if (spec.mode == CANO_TASK_ASYNC) options.cancel = &Runner::on_cancel;
    const RetryFields retry = retry_fields(spec.retry);
    options.retry = retry.kind;
    options.retry_max_retries = retry.max_retries;
    options.retry_delay_ms = retry.delay_ms;
    options.retry_multiplier = retry.multiplier;
    options.retry_max_delay_ms = retry.max_delay_ms;
    options.retry_jitter = retry.jitter;
    return options;
  }

  bool register_task(int32_t state, const TaskSpec& spec) {
    cano_task_options options = task_options(state, spec, scenario_.label(state), false);
    cano_error* err = nullptr;
    switch (spec.kind) {
      case TaskKind::kRouter:
        return check(cano_workflow_register_router(workflow_, state, &options, &err), err,
                     "cano_workflow_register_router " + scenario_.label(state));
      case TaskKind::kPoll: {
        cano_poll_options poll = CANO_POLL_OPTIONS_INIT;
        poll.policy = spec.poll_policy;
        poll.max_errors = spec.poll_max_errors;
        return check(cano_workflow_register_poll(workflow_, state, &options,
                                                 spec.has_poll_options ? &poll : nullptr, &err),
                     err, "cano_workflow_register_poll " + scenario_.label(state));
      }
      case TaskKind::kStepped:
        return check(cano_workflow_register_stepped(workflow_, state, &options, &err), err,
                     "cano_workflow_register_stepped " + scenario_.label(state));
      case TaskKind::kTimer: {
        cano_timer_options timer = CANO_TIMER_OPTIONS_INIT;
        timer.delay_ms = spec.timer.delay_ms;
        timer.until_ms = spec.timer.until_ms;
        if (!spec.timer.waits.empty()) timer.wait = &Runner::timer_wait;
        return check(cano_workflow_register_timer(workflow_, state, &options, &timer, &err), err,
                     "cano_workflow_register_timer " + scenario_.label(state));
      }
      case TaskKind::kBatch: {
        // README.md "Batch tasks": the task's body is the finish step.
        options.run = &Runner::finish_body;
        cano_batch_options batch = CANO_BATCH_OPTIONS_INIT;
        batch.load = &Runner::load_body;
        batch.process_item = &Runner::item_body;
        batch.concurrency = spec.batch.concurrency;
        const RetryFields retry = retry_fields(spec.batch.item_retry);
        batch.item_retry = retry.kind;
        batch.item_retry_max_retries = retry.max_retries;
        batch.item_retry_delay_ms = retry.delay_ms;
        batch.item_retry_multiplier = retry.multiplier;
        batch.item_retry_max_delay_ms = retry.max_delay_ms;
        batch.item_retry_jitter = retry.jitter;
        return check(cano_workflow_register_batch(workflow_, state, &options, &batch, &err), err,
                     "cano_workflow_register_batch " + scenario_.label(state));
      }
      case TaskKind::kTask:
        break;
    }
    return check(cano_workflow_register(workflow_, state, &options, &err), err,
                 "cano_workflow_register " + scenario_.label(state));
  }

  bool register_split(int32_t state, const SplitSpec& split) {
    std::vector<cano_task_options> branches;
    for (size_t i = 0; i < split.branches.size(); ++i) {
      branches.push_back(
          task_options(state, split.branches[i], scenario_.branch_key(state, i), true));
    }
    cano_join_options join = CANO_JOIN_OPTIONS_INIT;
    join.strategy = split.strategy;
    join.count = split.count;
    join.percentage = split.percentage;
    join.timeout_ms = split.timeout_ms;
    join.join_state = split.join_state.code;
    join.bulkhead = split.bulkhead;
    cano_error* err = nullptr;
    return check(cano_workflow_register_split(workflow_, state, branches.data(), branches.size(),
                                              &join, &err),
                 err, "cano_workflow_register_split " + scenario_.label(state));
  }

  void start_and_drive() {
    start_ms_ = cano_engine_clock_now(engine_);
    cano_error* raw = nullptr;
    cano_status status = cano_run_start(nullptr, engine_, workflow_, scenario_.initial.code,
                                        &Runner::on_done, this, &raw);
    ErrorPtr error(raw);
    if (status != CANO_OK) {
      outcome_.started = false;
      outcome_.status = status;
      if (error) outcome_.error = info_of(error.get());
      return;
    }
    outcome_.started = true;
    drive();
  }

  // README.md "How runners drive time".
  void drive() {
    const auto give_up = Clock::now() + kRunLimit;
    while (!done_.load(std::memory_order_acquire)) {
      if (Clock::now() > give_up) {
        problem("the run did not finish within 30 s of wall-clock time");
        return;
      }
      if (running_.load(std::memory_order_acquire) > 0) {
        std::this_thread::sleep_for(kPoll);
        continue;
      }
      std::this_thread::sleep_for(kSettle);
      if (done_.load(std::memory_order_acquire)) return;
      // The question is answered on the loop after the messages queued before it. A completion
      // among them may start the next body, whose own completion then queues behind the
      // question, so an answer given while a body started may predate a timer that is about to
      // be armed: ask again from the top.
      const uint64_t starts = starts_.load(std::memory_order_acquire);
      uint64_t deadline = 0;
      cano_error* raw = nullptr;
      cano_status status = cano_engine_clock_next_deadline(&deadline, engine_, &raw);
      if (starts_.load(std::memory_order_acquire) != starts) {
        cano_error_free(raw);
        continue;
      }
      if (status == CANO_E_NOT_FOUND) {
        cano_error_free(raw);
        continue;
      }
      if (!check(status, raw, "cano_engine_clock_next_deadline")) return;
      uint64_t now = cano_engine_clock_now(engine_);
      if (!check(cano_engine_clock_advance(engine_, deadline > now ? deadline - now : 0, &raw), raw,
                 "cano_engine_clock_advance")) {
        return;
      }
    }
  }

  static void on_done(uint64_t, cano_status status, int32_t final_state, const cano_error* error,
                      void* user_data) {
    auto* self = static_cast<Runner*>(user_data);
    {
      std::lock_guard<std::mutex> lock(self->mutex_);
      self->outcome_.status = status;
      self->outcome_.final_state = final_state;
      if (error != nullptr) self->outcome_.error = info_of(error);
    }
    self->done_.store(true, std::memory_order_release);
  }

  static cano_status task_body(cano_task_ctx* ctx, void* user_data) {
    auto* binding = static_cast<TaskBinding*>(user_data);
    return binding->runner->attempt(*binding, ctx);
  }

  // A timer's wait callback (README.md "Stepped and timer tasks"): the next entry of its wait
  // list, counted per state across every entry into it. Not a body call: it counts no attempt
  // and records nothing else.
  static cano_status timer_wait(cano_task_ctx* ctx, void* user_data) {
    auto* binding = static_cast<TaskBinding*>(user_data);
    Runner& self = *binding->runner;
    const WaitSpec* wait = nullptr;
    {
      std::lock_guard<std::mutex> lock(self.mutex_);
      wait = &binding->spec->timer.wait_for(++self.waits_[binding->key]);
    }
    switch (wait->kind) {
      case WaitSpec::Kind::kFor:
        return cano_task_ctx_wait_for(ctx, wait->ms);
      case WaitSpec::Kind::kUntil:
        return cano_task_ctx_wait_until(ctx, wait->ms);
      case WaitSpec::Kind::kFail:
        break;
    }
    return cano_task_ctx_fail(ctx, CANO_E_TASK_EXECUTION, wait->message.c_str());
  }

  // Counts a body from its start (README.md "How runners drive time"), and a worker body as
  // running until end() or its destruction, so that the driver never advances the clock under a
  // body that is about to choose.
  class BodyScope {
   public:
    BodyScope(Runner& runner, const TaskSpec& spec)
        : runner_(runner), worker_(spec.mode == CANO_TASK_WORKER) {
      if (worker_) runner_.running_.fetch_add(1, std::memory_order_acq_rel);
      runner_.starts_.fetch_add(1, std::memory_order_acq_rel);
    }
    ~BodyScope() { end(); }
    BodyScope(const BodyScope&) = delete;
    BodyScope& operator=(const BodyScope&) = delete;
    // A block step waits for a timer: it no longer counts as running.
    void end() {
      if (worker_) runner_.running_.fetch_sub(1, std::memory_order_acq_rel);
      worker_ = false;
    }

   private:
    Runner& runner_;
    bool worker_;
  };

  // Records a body call of a state's task (a batch task's load call included): its attempt,
  // time, trail entry and cursor. Returns how many body calls the binding's key has made.
  uint32_t record_call(const TaskBinding& binding, cano_task_ctx* ctx) {
    // README.md "cursors": the cursor this call saw, as its bytes (compared as JSON later).
    const void* data = nullptr;
    size_t len = 0;
    std::optional<std::string> cursor;
    if (cano_task_ctx_cursor(ctx, &data, &len) != 0) {
      cursor.emplace(static_cast<const char*>(data), len);
    }
    std::lock_guard<std::mutex> lock(mutex_);
    uint32_t count = ++attempts_[binding.key];
    times_[binding.key].push_back(cano_engine_clock_now(engine_) - start_ms_);
    note_trail(binding, cano_task_ctx_attempt(ctx), cursor.has_value());
    cursors_[binding.key].push_back(std::move(cursor));
    return count;
  }

  cano_status attempt(const TaskBinding& binding, cano_task_ctx* ctx) {
    const TaskSpec& spec = *binding.spec;
    BodyScope scope(*this, spec);
    const Step& step = spec.step_for(record_call(binding, ctx));
    if (step.kind == StepKind::kBlock) {
      scope.end();
      return block(spec, ctx);
    }
    return perform_step(binding, step, ctx);
  }

  // README.md "Batch tasks": a batch task's load call is its body call for attempts,
  // attempt_times_ms, trail and cursors; it is served by the next entry of "load".
  static cano_status load_body(cano_task_ctx* ctx, void* user_data) {
    auto* binding = static_cast<TaskBinding*>(user_data);
    return binding->runner->load(*binding, ctx);
  }

  cano_status load(const TaskBinding& binding, cano_task_ctx* ctx) {
    BodyScope scope(*this, *binding.spec);
    record_call(binding, ctx);
    const LoadSpec* load = nullptr;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      load = &binding.spec->batch.load_for(++loads_[binding.key]);
    }
    if (load->fails) {
      return load->fatal ? cano_task_ctx_fail_fatal(ctx, load->code, load->message.c_str())
                         : cano_task_ctx_fail(ctx, load->code, load->message.c_str());
    }
    for (const std::string& item : load->items) {
      cano_status status = cano_task_ctx_batch_add(ctx, item.data(), item.size());
      if (status != CANO_OK) {
        problem("cano_task_ctx_batch_add in " + binding.key +
                " failed: " + cano_status_name(status));
      }
    }
    return CANO_OK;
  }

  // An item call: counted under "W[i]", served by the steps of the item's own script (the
  // item's text is its compact JSON) by the item's attempt number.
  static cano_status item_body(cano_task_ctx* ctx, void* user_data) {
    auto* binding = static_cast<TaskBinding*>(user_data);
    return binding->runner->item(*binding, ctx);
  }

  cano_status item(const TaskBinding& binding, cano_task_ctx* ctx) {
    BodyScope scope(*this, *binding.spec);
    size_t index = 0;
    const void* data = nullptr;
    size_t len = 0;
    if (cano_task_ctx_batch_item(ctx, &index, &data, &len) == 0) {
      problem("cano_task_ctx_batch_item answered 0 in a process_item call of " + binding.key);
      return cano_task_ctx_fail(ctx, CANO_E_INTERNAL, "no batch item");
    }
    const std::string key = scenario_.branch_key(binding.state, index);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++attempts_[key];
      times_[key].push_back(cano_engine_clock_now(engine_) - start_ms_);
      last_call_ = &binding;
      last_call_attempt_ = 0;
    }
    const auto& scripts = binding.spec->batch.scripts;
    auto script = scripts.find(std::string(static_cast<const char*>(data), len));
    if (script == scripts.end()) {
      problem("item " + key + " is no item the scenario loads");
      return cano_task_ctx_fail(ctx, CANO_E_INTERNAL, "unknown batch item");
    }
    return perform_step(binding, step_for(script->second, cano_task_ctx_attempt(ctx)), ctx);
  }

  // A finish call: served by the task's steps, one per finish call of the state (across its
  // entries); it counts as no attempt.
  static cano_status finish_body(cano_task_ctx* ctx, void* user_data) {
    auto* binding = static_cast<TaskBinding*>(user_data);
    return binding->runner->finish(*binding, ctx);
  }

  cano_status finish(const TaskBinding& binding, cano_task_ctx* ctx) {
    BodyScope scope(*this, *binding.spec);
    const Step* step = nullptr;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      step = &binding.spec->step_for(++finishes_[binding.key]);
      last_call_ = &binding;
      last_call_attempt_ = 0;
    }
    return perform_step(binding, *step, ctx);
  }

  // README.md "Cancel notices": counted per key, on the loop thread.
  static void on_cancel(uint64_t /*token*/, void* user_data) {
    auto* binding = static_cast<TaskBinding*>(user_data);
    Runner& self = *binding->runner;
    std::lock_guard<std::mutex> lock(self.mutex_);
    ++self.cancel_notices_[binding->key];
  }

  // README.md "trail": a task's state on its attempt 1; a poll's once per attempt 1 (its calls
  // with attempt 1 that follow its own attempt-1 call belong to the same wait); a split state
  // when one of its branches starts attempt 1 and the trail does not already end with it; never
  // for a call that saw a cursor (it continues the entry its first step began).
  // Called with mutex_ held.
  void note_trail(const TaskBinding& binding, uint32_t attempt, bool saw_cursor) {
    const std::string label = scenario_.label(binding.state);
    std::vector<std::string>& trail = outcome_.trail;
    if (attempt == 1 && !saw_cursor) {
      if (binding.branch) {
        if (trail.empty() || trail.back() != label) trail.push_back(label);
      } else if (binding.spec->kind == TaskKind::kPoll) {
        if (!(last_call_ == &binding && last_call_attempt_ == 1)) trail.push_back(label);
      } else {
        trail.push_back(label);
      }
    }
    last_call_ = &binding;
    last_call_attempt_ = attempt;
  }

  // Ends a body call (every step but block) the way its mode finishes an attempt.
  cano_status perform_step(const TaskBinding& binding, const Step& step, cano_task_ctx* ctx) {
    const TaskSpec& spec = *binding.spec;
    const bool async = spec.mode == CANO_TASK_ASYNC;
    switch (step.kind) {
      case StepKind::kPending:
        // Returned directly in every mode (README.md): the engine polls again after the delay.
        return cano_task_ctx_poll_again(ctx, step.delay_ms);
      case StepKind::kMore:
        // Returned directly in every mode too: the engine calls the body again with the cursor.
        return cano_task_ctx_step_more(ctx, step.cursor.data(), step.cursor.size());
      case StepKind::kFail:
        // A fatal failure is returned directly in every mode: there is no fatal completion.
        if (step.fatal) return cano_task_ctx_fail_fatal(ctx, step.code, step.message.c_str());
        break;
      case StepKind::kSucceed: {
        if (step.value) cano_task_ctx_set_value(ctx, step.value->data(), step.value->size());
        if (!async) return CANO_OK;
        cano_error* raw = nullptr;
        check(cano_task_complete(engine_, cano_task_ctx_token(ctx), 0, &raw), raw,
              "completing async attempt of " + binding.key);
        return CANO_PENDING;
      }
      case StepKind::kGoto:
        if (step.read_split) record_split(ctx);
        if (step.read_batch) record_batch(ctx);
        break;
      default:
        break;
    }
    Decision decision = perform(step, ctx);
    if (async) {
      // The completion comes before CANO_PENDING, still inside the body (README.md), so it is
      // queued to the loop by the time the body returns and never races with the clock.
      cano_error* raw = nullptr;
      uint64_t token = cano_task_ctx_token(ctx);
      cano_status status = decision.chose_next
                               ? cano_task_complete(engine_, token, decision.next, &raw)
                               : cano_task_complete_error(engine_, token, decision.code,
                                                          decision.message.c_str(), &raw);
      check(status, raw, "completing async attempt of " + binding.key);
      return CANO_PENDING;
    }
    return decision.chose_next ? cano_task_ctx_next(ctx, decision.next)
                               : cano_task_ctx_fail(ctx, decision.code, decision.message.c_str());
  }

  // README.md "split_seen": one text per branch (or batch item) of a split result.
  static std::vector<std::string> describe(const cano_split_result* result) {
    std::vector<std::string> seen;
    for (size_t i = 0; i < cano_split_result_count(result); ++i) {
      switch (cano_split_result_status(result, i)) {
        case CANO_BRANCH_SUCCEEDED: {
          size_t len = 0;
          const void* value = cano_split_result_value(result, i, &len);
          seen.push_back(value == nullptr
                             ? std::string("succeeded")
                             : "succeeded:" + std::string(static_cast<const char*>(value), len));
          break;
        }
        case CANO_BRANCH_FAILED: {
          const cano_error* error = cano_split_result_error(result, i);
          seen.push_back(std::string("failed:") +
                         (error ? cano_error_message(error) : "<no error object>"));
          break;
        }
        case CANO_BRANCH_CANCELLED:
          seen.push_back("cancelled");
          break;
        default:
          seen.push_back("<unknown branch status>");
          break;
      }
    }
    return seen;
  }

  // README.md "split_seen": what cano_task_ctx_split_result shows this body.
  void record_split(cano_task_ctx* ctx) {
    std::optional<std::vector<std::string>> seen;
    if (const cano_split_result* result = cano_task_ctx_split_result(ctx)) {
      seen = describe(result);
    }
    std::lock_guard<std::mutex> lock(mutex_);
    outcome_.split_seen.push_back(std::move(seen));
  }

  // README.md "batch_seen": what cano_task_ctx_batch_results shows this finish call.
  void record_batch(cano_task_ctx* ctx) {
    const cano_split_result* result = cano_task_ctx_batch_results(ctx);
    if (result == nullptr) problem("cano_task_ctx_batch_results returned NULL in a finish call");
    std::vector<std::string> seen = result ? describe(result) : std::vector<std::string>{};
    std::lock_guard<std::mutex> lock(mutex_);
    outcome_.batch_seen.push_back(std::move(seen));
  }

  cano_status block(const TaskSpec& spec, cano_task_ctx* ctx) {
    if (spec.mode == CANO_TASK_ASYNC) return CANO_PENDING;  // and never completes
    const auto give_up = Clock::now() + kBlockLimit;
    while (cano_task_ctx_cancelled(ctx) == 0) {
      if (Clock::now() > give_up) {
        problem("a blocked worker body was never cancelled");
        break;
      }
      std::this_thread::sleep_for(kPoll);
    }
    return cano_task_ctx_fail(ctx, CANO_E_TASK_EXECUTION, "cancelled");
  }

  Decision perform(const Step& step, cano_task_ctx* ctx) {
    if (step.kind == StepKind::kGoto) return Decision::next_state(step.next);
    if (step.kind == StepKind::kFail) return Decision::failure(step.code, step.message);
    cano_resources* resources = cano_task_ctx_resources(ctx);
    cano_error* raw = nullptr;
    cano_status status = CANO_OK;
    if (step.kind == StepKind::kResourceGet) {
      void* object = nullptr;
      status = cano_resources_get(&object, resources, step.key.c_str(), step.type.c_str(), &raw);
      return status == CANO_OK ? Decision::next_state(step.next)
                               : Decision::from_error(status, raw);
    }
    cano_store* store = nullptr;
    status = cano_resources_get_store(&store, resources, "store", &raw);
    if (status != CANO_OK) return Decision::from_error(status, raw);
    const char* key = step.key.c_str();
    switch (step.kind) {
      case StepKind::kStorePut:
        status = cano_store_put_json(store, key, step.json.c_str(), &raw);
        break;
      case StepKind::kStoreAppend:
        status = cano_store_append_json(store, key, step.json.c_str(), &raw);
        break;
      case StepKind::kStoreGet: {
        char* json = nullptr;
        status = cano_store_get_json(&json, store, key, &raw);
        cano_free(json);
        break;
      }
      case StepKind::kStoreGetBytes: {
        void* bytes = nullptr;
        size_t len = 0;
        status = cano_store_get_bytes(&bytes, &len, store, key, &raw);
        cano_free(bytes);
        break;
      }
      default:
        return Decision::failure(CANO_E_INTERNAL, "the runner has no such step");
    }
    return status == CANO_OK ? Decision::next_state(step.next) : Decision::from_error(status, raw);
  }

  static cano_status resource_setup(cano_error** err, void* object) {
    return static_cast<ResourceBinding*>(object)->runner->lifecycle(
        *static_cast<ResourceBinding*>(object), "setup", err);
  }

  static cano_status resource_teardown(cano_error** err, void* object) {
    return static_cast<ResourceBinding*>(object)->runner->lifecycle(
        *static_cast<ResourceBinding*>(object), "teardown", err);
  }

  cano_status lifecycle(const ResourceBinding& binding, const std::string& phase,
                        cano_error** err) {
    const ResourceSpec& spec = *binding.spec;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      outcome_.resource_events.push_back(phase + " " + spec.key);
    }
    bool ok = phase == "setup" ? spec.setup_ok : spec.teardown_ok;
    if (ok) return CANO_OK;
    std::string message = spec.message.value_or(phase + " " + spec.key + " failed");
    if (err != nullptr) *err = cano_error_new(CANO_E_GENERIC, message.c_str());
    return CANO_E_GENERIC;
  }

  // Runs after the engine is gone: no other thread touches the runner any more.
  void collect() {
    auto take = [this](const std::string& key) {
      outcome_.attempts[key] = attempts_.count(key) ? attempts_[key] : 0;
      outcome_.attempt_times_ms[key] = times_[key];
    };
    auto notices = [this](const std::string& key) {
      outcome_.cancel_notices[key] = cancel_notices_.count(key) ? cancel_notices_[key] : 0;
    };
    for (const std::string& name : scenario_.states) {
      take(name);
      notices(name);
      outcome_.cursors[name] = cursors_[name];
    }
    for (const auto& [state, split] : scenario_.splits) {
      for (size_t i = 0; i < split.branches.size(); ++i) {
        take(scenario_.branch_key(state, i));
        notices(scenario_.branch_key(state, i));
      }
    }
    for (const auto& [state, task] : scenario_.tasks) {
      if (task.kind != TaskKind::kBatch) continue;
      for (size_t i = 0; i < task.batch.max_items(); ++i) take(scenario_.branch_key(state, i));
    }
    if (!scenario_.expect.store || store_ == nullptr) return;
    for (const auto& entry : *scenario_.expect.store) {
      char* json = nullptr;
      cano_error* raw = nullptr;
      if (cano_store_get_json(&json, store_, entry.first.c_str(), &raw) == CANO_OK) {
        outcome_.store[entry.first] = json;
      } else {
        outcome_.store[entry.first] = std::string("<error: ") + cano_error_message(raw) + ">";
      }
      cano_free(json);
      cano_error_free(raw);
    }
  }

  const Scenario& scenario_;
  cano_engine* engine_ = nullptr;
  cano_store* store_ = nullptr;
  cano_resources* resources_ = nullptr;
  cano_workflow* workflow_ = nullptr;
  std::vector<std::unique_ptr<TaskBinding>> task_bindings_;
  std::vector<std::unique_ptr<ResourceBinding>> resource_bindings_;
  uint64_t start_ms_ = 0;

  std::mutex mutex_;  // guards outcome_ and the attempt records while the engine runs
  Outcome outcome_;
  std::map<std::string, uint32_t> attempts_;  // by TaskBinding::key
  std::map<std::string, std::vector<uint64_t>> times_;
  std::map<std::string, std::vector<std::optional<std::string>>> cursors_;
  std::map<std::string, uint32_t> waits_;     // timer wait callback calls, by TaskBinding::key
  std::map<std::string, uint32_t> loads_;     // batch load calls, by TaskBinding::key
  std::map<std::string, uint32_t> finishes_;  // batch finish calls, by TaskBinding::key
  std::map<std::string, uint32_t> cancel_notices_;  // by TaskBinding::key
  const TaskBinding* last_call_ = nullptr;  // the previous body call, for the poll trail rule
  uint32_t last_call_attempt_ = 0;
  std::atomic<int> running_{0};      // worker bodies that will finish on their own
  std::atomic<uint64_t> starts_{0};  // bodies started, of every mode
  std::atomic<bool> done_{false};
};

}  // namespace

Outcome run_scenario(const Scenario& scenario) { return Runner(scenario).run(); }

}  // namespace conformance
