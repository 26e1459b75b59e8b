#include "src/task_execution.hpp"

#include "cano/stepped.h"
#include "src/batch_execution.hpp"
#include "src/engine.hpp"
#include "src/log.hpp"
#include "src/workflow.hpp"

namespace cano::detail {

// A batch task's execution: the item lanes and the items' outcomes for the finish step. An item
// lane's execution: the items and the index of the one it runs.
struct TaskExecution::BatchState {
  std::unique_ptr<BatchExecution> runner;
  std::shared_ptr<const std::vector<std::string>> items;
  size_t index = 0;
  std::shared_ptr<const cano_split_result> results;
};

namespace {
// The callback a body call makes: a batch's load step, or the task's run (which is the finish
// step of a batch and process_item for a batch's item task).
cano_task_fn body_of(const cano_task_ctx& ctx) {
  return ctx.batch_step == cano_task_ctx::BatchStep::kLoad ? ctx.task->batch->load
                                                           : ctx.task->options.run;
}

// Steps a stepped body may take back to back before the loop gets to do other work.
constexpr uint32_t kStepBudget = 1024;
}  // namespace

std::string failure_message(const cano_task_ctx& ctx, cano_status status) {
  switch (status) {
    case CANO_POLL_AGAIN:
      return "task returned CANO_POLL_AGAIN but is not registered as a poll task";
    case CANO_PENDING:
      return "task returned CANO_PENDING but is not registered as CANO_TASK_ASYNC";
    case CANO_STEP_MORE:
      // Only batch steps get here: other tasks take CANO_STEP_MORE as a step.
      return ctx.batch_step == cano_task_ctx::BatchStep::kLoad
                 ? "a batch load returned CANO_STEP_MORE, but load is not stepped"
                 : "a batch item returned CANO_STEP_MORE, but items are not stepped";
    default:
      break;
  }
  if (status > 0) return "task returned an invalid status " + std::to_string(status);
  return ctx.has_failure ? ctx.failure_message
                         : std::string("task failed with status ") + status_name_of(status);
}

TaskExecution::TaskExecution(cano_engine* engine, cano_workflow* workflow, uint64_t run_id,
                             Owner* owner)
    : engine_(engine), workflow_(workflow), run_id_(run_id), owner_(owner) {
  attempt_timer_.fn = &TaskExecution::on_attempt_timeout;
  retry_timer_.fn = &TaskExecution::on_retry_timer;
  poll_timer_.fn = &TaskExecution::on_poll_timer;
  attempt_timer_.arg = retry_timer_.arg = poll_timer_.arg = this;
  inline_ctx_.engine = engine;
  inline_ctx_.workflow = workflow;
  inline_ctx_.resources = workflow->resources();
  inline_ctx_.run_id = run_id;
  inline_ctx_.execution = this;
}

TaskExecution::~TaskExecution() { abandon(); }

bool TaskExecution::start(const TaskDef* task, int32_t state,
                          std::shared_ptr<const cano_split_result> split_result, bool branch) {
  task_ = task;
  state_ = state;
  attempt_ = 0;
  next_ = 0;
  error_.reset();
  branch_ = branch;
  has_value_ = false;
  value_.clear();
  has_cursor_ = false;
  cursor_.clear();
  split_result_ = std::move(split_result);
  fatal_ = false;
  // A lane of a batch runs items; any other execution starts outside every batch step.
  batch_step_ = batch_state_ && batch_state_->items ? cano_task_ctx::BatchStep::kItem
                                                    : cano_task_ctx::BatchStep::kNone;
  status_ = Status::kRunning;
  return run_attempts() == Next::kDone;
}

void TaskExecution::set_batch_item(std::shared_ptr<const std::vector<std::string>> items,
                                   size_t index) {
  batch_step_ = cano_task_ctx::BatchStep::kItem;
  batch_state().items = std::move(items);
  batch_state_->index = index;
}

void TaskExecution::request_stop() {
  if (in_flight_ != nullptr) in_flight_->cancelled.store(true, std::memory_order_release);
  if (batch_state_ && batch_state_->runner) batch_state_->runner->stop();
}

void TaskExecution::clear_batch_item() {
  if (batch_state_) batch_state_->items.reset();
  if (inline_ctx_.batch) inline_ctx_.batch->items.reset();
}

TaskExecution::BatchState& TaskExecution::batch_state() {
  if (!batch_state_) batch_state_ = std::make_unique<BatchState>();
  return *batch_state_;
}

void TaskExecution::drop_batch_results() {
  if (batch_state_) batch_state_->results.reset();
  // The inline context keeps what its last call read until its next call, which may be long.
  if (inline_ctx_.batch) inline_ctx_.batch->results.reset();
}

void TaskExecution::abandon() {
  engine_->cancel(retry_timer_);
  engine_->cancel(poll_timer_);
  abandon_attempt();
  if (status_ == Status::kRunning) status_ = Status::kIdle;
}

Error TaskExecution::task_error(cano_status code, std::string message) const {
  Error error(code, std::move(message));
  error.state = state_;
  const StateInfo* state = workflow_->lookup(state_);
  if (state != nullptr) error.state_name = state->name;
  error.run_id = run_id_;
  if (task_ != nullptr) error.task_name = task_->name;
  error.attempt = attempt_;
  return error;
}

TaskExecution::Next TaskExecution::run_attempts() {
  for (;;) {
    ++attempt_;
    poll_errors_ = 0;
    // A stepped task's retry gets the same input cursor; any other task's attempt runs its whole
    // step loop, so a retry starts again without one.
    if (!task_->stepped) {
      has_cursor_ = false;
      cursor_.clear();
    }
    // A batch attempt runs load, the items and finish again.
    if (task_->batch) {
      batch_step_ = cano_task_ctx::BatchStep::kLoad;
      drop_batch_results();
    }
    // One deadline per attempt: for a poll task it bounds the whole wait, across its calls.
    if (task_->options.attempt_timeout_ms > 0) {
      engine_->arm(attempt_timer_, task_->options.attempt_timeout_ms);
    }
    Next next = task_->timer ? begin_wait() : invoke();
    while (next == Next::kInvokeAgain) next = invoke();
    if (next != Next::kRetryNow) return next;
  }
}

TaskExecution::Next TaskExecution::begin_wait() {
  uint64_t now = engine_->now();
  uint64_t delay = task_->timer_delay_ms;
  if (task_->timer_wait != nullptr) {
    prepare_ctx(inline_ctx_);
    cano_status status = task_->timer_wait(&inline_ctx_, task_->options.user_data);
    if (status != CANO_OK) {
      inline_ctx_.body_status = status < 0 ? status : CANO_E_TASK_EXECUTION;
      return conclude(inline_ctx_);
    }
    if (inline_ctx_.wait_kind == 0) {
      return attempt_failed(
          task_error(CANO_E_TASK_EXECUTION,
                     "the timer's wait callback chose no wait (call cano_task_ctx_wait_for or "
                     "cano_task_ctx_wait_until)"));
    }
    delay = inline_ctx_.wait_kind == 1
                ? inline_ctx_.wait_ms
                : (inline_ctx_.wait_ms > now ? inline_ctx_.wait_ms - now : 0);
  } else if (task_->timer_until_ms != 0) {
    delay = task_->timer_until_ms > now ? task_->timer_until_ms - now : 0;
  }
  // The body (cano's after_wait) runs when the timer fires, as a poll's next call does.
  engine_->arm(poll_timer_, delay);
  return Next::kWait;
}

TaskExecution::Next TaskExecution::invoke() {
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
  cano_status status = body_of(*ctx)(ctx, options.user_data);
  if (options.mode == CANO_TASK_ASYNC) {
    cano_task_ctx* claimed = status == CANO_PENDING ? nullptr : engine_->claim_token(ctx->token);
    if (claimed == nullptr) {
      // Pending, or a completion already claimed the token: that completion decides.
      in_flight_ = ctx;
      return Next::kWait;
    }
    release_ctx(claimed);  // the token table's reference
    ctx->execution = nullptr;
  }
  ctx->body_status = status;
  Next next = conclude(*ctx);
  if (ctx != &inline_ctx_) release_ctx(ctx);
  return next;
}

void TaskExecution::prepare_ctx(cano_task_ctx& ctx) {
  ctx.reset_result();
  ctx.task = task_;
  ctx.state = state_;
  ctx.attempt = attempt_;
  ctx.cancelled.store(false, std::memory_order_relaxed);
  ctx.split_result = split_result_;
  ctx.batch_step = batch_step_;
  // Out of line: a plain task's transition pays two compares for batches.
  if (batch_step_ != cano_task_ctx::BatchStep::kNone || ctx.batch) prepare_batch_ctx(ctx);
  ctx.has_cursor = has_cursor_;
  if (has_cursor_) {
    ctx.cursor = cursor_;
  } else {
    ctx.cursor.clear();
  }
}

void TaskExecution::prepare_batch_ctx(cano_task_ctx& ctx) {
  if (batch_step_ == cano_task_ctx::BatchStep::kNone) {
    ctx.batch->results.reset();  // do not keep a finished batch's outcomes alive
    return;
  }
  if (!ctx.batch) ctx.batch = std::make_unique<BatchCtx>();
  BatchCtx& batch = *ctx.batch;
  switch (batch_step_) {
    case cano_task_ctx::BatchStep::kLoad:
      batch.loaded.clear();
      break;
    case cano_task_ctx::BatchStep::kItem:
      if (batch.items != batch_state_->items) batch.items = batch_state_->items;
      batch.index = batch_state_->index;
      break;
    case cano_task_ctx::BatchStep::kFinish:
      batch.results = batch_state_->results;
      break;
    case cano_task_ctx::BatchStep::kNone:
      break;
  }
}

cano_task_ctx* TaskExecution::new_heap_ctx() {
  auto* ctx = new cano_task_ctx();
  ctx->heap_allocated = true;
  ctx->engine = engine_;
  ctx->workflow = workflow_;
  workflow_->retain();
  ctx->resources = workflow_->resources();
  ctx->run_id = run_id_;
  ctx->execution = this;
  prepare_ctx(*ctx);
  return ctx;
}

void TaskExecution::dispatch_worker() {
  cano_task_ctx* ctx = new_heap_ctx();
  in_flight_ = ctx;
  retain_ctx(ctx);  // the worker job's reference
  engine_->submit(&TaskExecution::run_worker_body, ctx);
}

void TaskExecution::run_worker_body(void* arg) {
  auto* ctx = static_cast<cano_task_ctx*>(arg);
  const cano_task_options& options = ctx->task->options;
  // An attempt abandoned while it waited for a worker (a split that ended, a cancelled run) is
  // not started at all: its result would be discarded anyway.
  if (ctx->cancelled.load(std::memory_order_acquire)) {
    ctx->body_status = CANO_E_CANCELLED;
  } else {
    ctx->body_status = body_of(*ctx)(ctx, options.user_data);
  }
  ctx->engine->post(&TaskExecution::on_worker_done, ctx);
}

void TaskExecution::on_worker_done(void* arg) {
  auto* ctx = static_cast<cano_task_ctx*>(arg);
  cano_engine* engine = ctx->engine;
  engine->job_finished();
  TaskExecution* execution = ctx->execution;
  if (execution == nullptr) {
    log().debug("discarded the late result of task '{}' (run {}, attempt {})", ctx->task->name,
                ctx->run_id, ctx->attempt);
  } else {
    execution->attempt_done(ctx);
  }
  release_ctx(ctx);
  engine->maybe_finish_shutdown();
}

void TaskExecution::on_async_done(void* arg) {
  auto* ctx = static_cast<cano_task_ctx*>(arg);
  TaskExecution* execution = ctx->execution;
  if (execution != nullptr && execution->in_flight_ == ctx) execution->attempt_done(ctx);
  release_ctx(ctx);
}

void TaskExecution::attempt_done(cano_task_ctx* ctx) {
  in_flight_ = nullptr;
  ctx->execution = nullptr;
  Next next = conclude(*ctx);
  release_ctx(ctx);  // the in-flight reference
  continue_after(next);
}

void TaskExecution::continue_after(Next next) {
  while (next == Next::kInvokeAgain) next = invoke();
  if (next == Next::kRetryNow) next = run_attempts();
  if (next == Next::kDone) owner_->execution_finished(*this);
}

TaskExecution::Next TaskExecution::conclude(cano_task_ctx& ctx) {
  cano_status status = ctx.body_status;
  if (status == CANO_POLL_AGAIN && task_->poll) {
    // Not ready: a "not yet" also ends a run of forgiven errors. A zero delay still goes
    // through the timer, so that a poll that is never ready cannot starve the loop.
    poll_errors_ = 0;
    engine_->arm(poll_timer_, ctx.poll_delay_ms);
    return Next::kWait;
  }
  // A fatal failure is cano's panic: it leaves the poll loop too, whatever the error policy.
  if (status < 0 && task_->poll && task_->poll_policy == CANO_POLL_RETRY_ON_ERROR &&
      !(ctx.has_failure && ctx.fatal) && ++poll_errors_ <= task_->poll_max_errors) {
    return Next::kInvokeAgain;
  }
  if (status == CANO_OK && batch_step_ == cano_task_ctx::BatchStep::kLoad) {
    return start_items(std::move(ctx.batch->loaded));
  }
  if (status == CANO_OK) {
    engine_->cancel(attempt_timer_);
    if (ctx.has_next || branch_) {
      next_ = ctx.next;
      has_value_ = ctx.has_value;
      value_ = std::move(ctx.value);
      status_ = Status::kSucceeded;
      split_result_.reset();
      drop_batch_results();
      return Next::kDone;
    }
    return attempt_failed(task_error(
        CANO_E_TASK_EXECUTION,
        "task returned CANO_OK without choosing a next state (call cano_task_ctx_next)"));
  }
  // A load or an item is one call: going round again would drop what a load added.
  if (status == CANO_STEP_MORE && (batch_step_ == cano_task_ctx::BatchStep::kLoad ||
                                   batch_step_ == cano_task_ctx::BatchStep::kItem)) {
    return attempt_failed(task_error(CANO_E_TASK_EXECUTION, failure_message(ctx, status)));
  }
  if (status == CANO_STEP_MORE) {
    cursor_ = std::move(ctx.next_cursor);
    has_cursor_ = true;
    if (task_->stepped) {
      // The step succeeded: the next one is a new attempt loop from the new cursor.
      engine_->cancel(attempt_timer_);
      attempt_ = 0;
    }
    // A long run of synchronous steps yields the loop now and then, through a zero timer.
    if (++steps_since_yield_ >= kStepBudget) {
      steps_since_yield_ = 0;
      if (task_->stepped) {
        engine_->arm(retry_timer_, 0);
      } else {
        engine_->arm(poll_timer_, 0);
      }
      return Next::kWait;
    }
    return task_->stepped ? Next::kRetryNow : Next::kInvokeAgain;
  }
  // CANO_POLL_AGAIN from a task that does not poll, CANO_PENDING from one that is not async, or
  // an unknown positive status: a failure of the attempt, never of the engine.
  if (status > 0) {
    return attempt_failed(task_error(CANO_E_TASK_EXECUTION, failure_message(ctx, status)));
  }
  std::string message = failure_message(ctx, status);
  if (ctx.has_failure && ctx.fatal) return fail_fatally(task_error(status, std::move(message)));
  return attempt_failed(task_error(status, std::move(message)));
}

TaskExecution::Next TaskExecution::fail_fatally(Error error) {
  // As a panic in cano: it escapes the retry loop, unwrapped.
  engine_->cancel(attempt_timer_);
  engine_->cancel(poll_timer_);
  status_ = Status::kFailed;
  fatal_ = true;
  split_result_.reset();
  drop_batch_results();
  error_ = std::move(error);
  return Next::kDone;
}

TaskExecution::Next TaskExecution::start_items(std::vector<std::string> items) {
  BatchState& state = batch_state();
  if (!state.runner)
    state.runner = std::make_unique<BatchExecution>(engine_, workflow_, run_id_, this);
  batch_step_ = cano_task_ctx::BatchStep::kItem;
  if (!state.runner->start(&task_->batch->item, state_, task_->batch->concurrency,
                           std::move(items))) {
    return Next::kWait;
  }
  return after_items();
}

TaskExecution::Next TaskExecution::after_items() {
  // An item that failed fatally is cano's panic in process_item: it fails the whole task.
  BatchExecution& runner = *batch_state_->runner;
  std::optional<Error> fatal = std::move(runner.fatal_error());
  batch_state_->results = runner.results();
  // The items and outcomes live on in the finish step's results only, not in the lanes.
  runner.release();
  if (fatal) return fail_fatally(std::move(*fatal));
  batch_step_ = cano_task_ctx::BatchStep::kFinish;
  return Next::kInvokeAgain;
}

void TaskExecution::batch_finished() { continue_after(after_items()); }

TaskExecution::Next TaskExecution::attempt_failed(Error error) {
  engine_->cancel(attempt_timer_);
  engine_->cancel(poll_timer_);
  uint32_t max_attempts = task_->max_attempts;
  if (attempt_ >= max_attempts) {
    status_ = Status::kFailed;
    split_result_.reset();
    drop_batch_results();
    if (max_attempts <= 1 || task_->raw_retry_error) {
      error_ = std::move(error);
    } else {
      Error exhausted =
          task_error(CANO_E_RETRY_EXHAUSTED, "Task failed after " + std::to_string(attempt_) +
                                                 " attempt(s): " + error.display());
      exhausted.cause = std::make_unique<Error>(std::move(error));
      error_ = std::move(exhausted);
    }
    return Next::kDone;
  }
  int64_t delay = task_->retry.delay_for_attempt(attempt_ - 1, engine_->random_unit());
  log().debug("task '{}' attempt {} failed ({}); retrying in {} ms", task_->name, attempt_,
              error.display(), delay);
  if (delay <= 0) return Next::kRetryNow;
  engine_->arm(retry_timer_, static_cast<uint64_t>(delay));
  return Next::kWait;
}

void TaskExecution::abandon_attempt() {
  engine_->cancel(attempt_timer_);
  if (batch_state_ && batch_state_->runner) batch_state_->runner->abandon();
  if (in_flight_ == nullptr) return;
  in_flight_->cancelled.store(true, std::memory_order_release);
  in_flight_->execution = nullptr;
  const cano_task_options& options = task_->options;
  if (options.mode == CANO_TASK_ASYNC && options.cancel != nullptr) {
    // Told through the mailbox, so that the user's callback never runs inside the engine's own
    // bookkeeping (a split cancelling its branches, a run ending); the mailbox is drained before
    // shutdown closes it, so a shutdown's cancellations are delivered too. The in-flight
    // reference moves to the message.
    if (engine_->post(&TaskExecution::on_cancel_notice, in_flight_)) {
      in_flight_ = nullptr;
      return;
    }
  }
  release_ctx(in_flight_);
  in_flight_ = nullptr;
}

void TaskExecution::on_cancel_notice(void* arg) {
  auto* ctx = static_cast<cano_task_ctx*>(arg);
  const cano_task_options& options = ctx->task->options;
  options.cancel(ctx->token, options.user_data);
  release_ctx(ctx);
}

void TaskExecution::on_attempt_timeout(void* self) {
  auto* execution = static_cast<TaskExecution*>(self);
  Error error = execution->task_error(CANO_E_TIMEOUT, "task attempt exceeded attempt_timeout");
  execution->abandon_attempt();
  execution->continue_after(execution->attempt_failed(std::move(error)));
}

void TaskExecution::on_retry_timer(void* self) {
  static_cast<TaskExecution*>(self)->continue_after(Next::kRetryNow);
}

void TaskExecution::on_poll_timer(void* self) {
  static_cast<TaskExecution*>(self)->continue_after(Next::kInvokeAgain);
}

}  // namespace cano::detail
