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
      user_data_(user_data) {
  workflow_->retain();
  attempt_timer_.fn = &Run::on_attempt_timeout;
  retry_timer_.fn = &Run::on_retry_timer;
  workflow_timer_.fn = &Run::on_workflow_timeout;
  yield_timer_.fn = &Run::on_continue;
  attempt_timer_.arg = retry_timer_.arg = workflow_timer_.arg = yield_timer_.arg = this;
  inline_ctx_.engine = engine;
  inline_ctx_.workflow = workflow;
  inline_ctx_.resources = workflow->resources();
  inline_ctx_.run_id = id;
  inline_ctx_.run = this;
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

void Run::add_state_context(Error& error) const {
  error.state = current_;
  const StateInfo* state = workflow_->lookup(current_);
  if (state != nullptr) error.state_name = state->name;
  error.run_id = id_;
}

Error Run::task_error(cano_status code, std::string message) const {
  Error error(code, std::move(message));
  add_state_context(error);
  if (task_ != nullptr) error.task_name = task_->name;
  error.attempt = attempt_;
  return error;
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
    if (state == nullptr || !state->task) {
      task_ = nullptr;
      attempt_ = 0;
      Error error(CANO_E_WORKFLOW, "No task registered for state: " + workflow_->label(current_));
      add_state_context(error);
      finish(CANO_E_WORKFLOW, std::move(error));
      return;
    }
    task_ = state->task.get();
    attempt_ = 0;
    if (run_attempts() != Next::kAdvance) return;
    if (--budget == 0) {
      // Let timers, completions and other runs in before going on.
      engine_->arm(yield_timer_, 0);
      return;
    }
  }
}

Run::Next Run::run_attempts() {
  for (;;) {
    ++attempt_;
    const cano_task_options& options = task_->options;
    if (options.mode == CANO_TASK_WORKER) {
      dispatch_worker();
      return Next::kWait;
    }
    cano_task_ctx* ctx = &inline_ctx_;
    if (options.mode == CANO_TASK_ASYNC) {
      ctx = new_heap_ctx();
      ctx->token = engine_->register_token(ctx);
    } else {
      prepare_ctx(*ctx);
    }
    // The status stays in a local until the token is withdrawn: once the body has seen its
    // token, a completion on another thread may be writing the context's result fields.
    cano_status status = options.run(ctx, options.user_data);
    if (options.mode == CANO_TASK_ASYNC) {
      cano_task_ctx* claimed = status == CANO_PENDING ? nullptr : engine_->claim_token(ctx->token);
      if (claimed == nullptr) {
        // Pending, or a completion already claimed the token: that completion decides.
        in_flight_ = ctx;
        if (options.attempt_timeout_ms > 0)
          engine_->arm(attempt_timer_, options.attempt_timeout_ms);
        return Next::kWait;
      }
      release_ctx(claimed);  // the token table's reference
      ctx->run = nullptr;
    }
    ctx->body_status = status;
    Next next = conclude(*ctx);
    if (ctx != &inline_ctx_) release_ctx(ctx);
    if (next != Next::kRetryNow) return next;
  }
}

void Run::prepare_ctx(cano_task_ctx& ctx) {
  ctx.reset_result();
  ctx.task = task_;
  ctx.state = current_;
  ctx.attempt = attempt_;
  ctx.cancelled.store(false, std::memory_order_relaxed);
}

cano_task_ctx* Run::new_heap_ctx() {
  auto* ctx = new cano_task_ctx();
  ctx->heap_allocated = true;
  ctx->engine = engine_;
  ctx->workflow = workflow_;
  workflow_->retain();
  ctx->resources = workflow_->resources();
  ctx->run_id = id_;
  ctx->run = this;
  prepare_ctx(*ctx);
  return ctx;
}

void Run::dispatch_worker() {
  cano_task_ctx* ctx = new_heap_ctx();
  in_flight_ = ctx;
  retain_ctx(ctx);  // the worker job's reference
  engine_->submit(&Run::run_worker_body, ctx);
  if (task_->options.attempt_timeout_ms > 0) {
    engine_->arm(attempt_timer_, task_->options.attempt_timeout_ms);
  }
}

void Run::run_worker_body(void* arg) {
  auto* ctx = static_cast<cano_task_ctx*>(arg);
  const cano_task_options& options = ctx->task->options;
  ctx->body_status = options.run(ctx, options.user_data);
  ctx->engine->post(&Run::on_worker_done, ctx);
}

void Run::on_worker_done(void* arg) {
  auto* ctx = static_cast<cano_task_ctx*>(arg);
  cano_engine* engine = ctx->engine;
  engine->job_finished();
  Run* run = ctx->run;
  if (run == nullptr) {
    log().debug("discarded the late result of task '{}' (run {}, attempt {})", ctx->task->name,
                ctx->run_id, ctx->attempt);
  } else {
    run->attempt_done(ctx);
  }
  release_ctx(ctx);
  engine->maybe_finish_shutdown();
}

void Run::on_async_done(void* arg) {
  auto* ctx = static_cast<cano_task_ctx*>(arg);
  Run* run = ctx->run;
  if (run != nullptr && run->in_flight_ == ctx) run->attempt_done(ctx);
  release_ctx(ctx);
}

void Run::attempt_done(cano_task_ctx* ctx) {
  in_flight_ = nullptr;
  ctx->run = nullptr;
  engine_->cancel(attempt_timer_);
  Next next = conclude(*ctx);
  release_ctx(ctx);  // the in-flight reference
  continue_after(next);
}

void Run::continue_after(Next next) {
  if (next == Next::kRetryNow) next = run_attempts();
  if (next == Next::kAdvance) advance();
}

Run::Next Run::conclude(cano_task_ctx& ctx) {
  cano_status status = ctx.body_status;
  if (status == CANO_OK) {
    if (ctx.has_next) {
      current_ = ctx.next;
      return Next::kAdvance;
    }
    return attempt_failed(task_error(
        CANO_E_TASK_EXECUTION,
        "task returned CANO_OK without choosing a next state (call cano_task_ctx_next)"));
  }
  if (status == CANO_PENDING) {
    return attempt_failed(
        task_error(CANO_E_TASK_EXECUTION,
                   "task returned CANO_PENDING but is not registered as CANO_TASK_ASYNC"));
  }
  if (status > 0) {
    return attempt_failed(task_error(CANO_E_TASK_EXECUTION,
                                     "task returned an invalid status " + std::to_string(status)));
  }
  std::string message = ctx.has_failure
                            ? ctx.failure_message
                            : std::string("task failed with status ") + status_name_of(status);
  return attempt_failed(task_error(status, std::move(message)));
}

Run::Next Run::attempt_failed(Error error) {
  uint32_t max_attempts = task_->max_attempts;
  if (attempt_ >= max_attempts) {
    if (max_attempts <= 1) {
      cano_status code = error.code;
      finish(code, std::move(error));
    } else {
      Error exhausted =
          task_error(CANO_E_RETRY_EXHAUSTED, "Task failed after " + std::to_string(attempt_) +
                                                 " attempt(s): " + error.display());
      exhausted.cause = std::make_unique<Error>(std::move(error));
      finish(CANO_E_RETRY_EXHAUSTED, std::move(exhausted));
    }
    return Next::kEnded;
  }
  int64_t delay = task_->retry.delay_for_attempt(attempt_ - 1, engine_->random_unit());
  log().debug("task '{}' attempt {} failed ({}); retrying in {} ms", task_->name, attempt_,
              error.display(), delay);
  if (delay <= 0) return Next::kRetryNow;
  engine_->arm(retry_timer_, static_cast<uint64_t>(delay));
  return Next::kWait;
}

void Run::abandon_attempt() {
  engine_->cancel(attempt_timer_);
  if (in_flight_ == nullptr) return;
  in_flight_->cancelled.store(true, std::memory_order_release);
  in_flight_->run = nullptr;
  release_ctx(in_flight_);
  in_flight_ = nullptr;
}

void Run::on_attempt_timeout(void* self) {
  auto* run = static_cast<Run*>(self);
  Error error = run->task_error(CANO_E_TIMEOUT, "task attempt exceeded attempt_timeout");
  run->abandon_attempt();
  run->continue_after(run->attempt_failed(std::move(error)));
}

void Run::on_retry_timer(void* self) { static_cast<Run*>(self)->continue_after(Next::kRetryNow); }

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
  engine_->cancel(retry_timer_);
  engine_->cancel(workflow_timer_);
  engine_->cancel(yield_timer_);
  abandon_attempt();
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
  if (done_ != nullptr) {
    cano_error* handle = error_ ? to_handle(*error_) : nullptr;
    done_(id_, status_, current_, handle, user_data_);
    delete handle;
  }
  delete this;
  engine->count_run(-1);
  engine->maybe_finish_shutdown();
}

}  // namespace cano::detail
