// One task's execution for one state entry: cano's retry loop (spec section 2.4) with attempt
// timeouts, over the three places a body can run (inline, worker, async).
//
// A run drives one execution per state it enters; a split drives one per branch. The owner
// starts it; start() either finishes synchronously (inline bodies, which keeps inline chains a
// tight loop without recursion) or returns pending, and the owner's execution_finished() is
// called once when it ends. abandon() stops it: no callback follows.
//
// Loop thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "src/error.hpp"
#include "src/task_ctx.hpp"
#include "src/timer_heap.hpp"

struct cano_engine;
struct cano_workflow;
struct cano_split_result;

namespace cano::detail {

struct TaskDef;
class BatchExecution;

// The message of a failed body call: the one it reported, or what was wrong with the status it
// returned (any status but CANO_OK that its kind of call may not return). Shared with the batch
// worker lanes, which conclude item calls themselves.
std::string failure_message(const cano_task_ctx& ctx, cano_status status);

class TaskExecution {
 public:
  class Owner {
   public:
    virtual void execution_finished(TaskExecution& execution) = 0;

   protected:
    ~Owner() = default;
  };

  enum class Status { kIdle, kRunning, kSucceeded, kFailed };

  TaskExecution(cano_engine* engine, cano_workflow* workflow, uint64_t run_id, Owner* owner);
  ~TaskExecution();
  TaskExecution(const TaskExecution&) = delete;
  TaskExecution& operator=(const TaskExecution&) = delete;

  // Starts the retry loop of `task` for `state`. Returns true when the execution already ended
  // (status() tells how); false when it is pending and the owner will be called back.
  // `split_result` is what the join state's task may read (nullptr for other states). A branch
  // execution (`branch` true) succeeds on CANO_OK without a next state.
  bool start(const TaskDef* task, int32_t state,
             std::shared_ptr<const cano_split_result> split_result = nullptr, bool branch = false);
  // Stops a pending execution: timers cancelled, the in-flight attempt told it is cancelled and
  // its late result discarded. The owner is not called back.
  void abandon();
  // Makes the next start() a batch item's execution: its body reads item `index` of `items`.
  void set_batch_item(std::shared_ptr<const std::vector<std::string>> items, size_t index);
  // Called by this execution's batch once its items have ended (see BatchExecution).
  void batch_finished();
  // The run was cancelled from the loop thread: tells a worker attempt in flight (its cancelled
  // flag) and stops a batch from starting more items; the run's abort follows.
  void request_stop();
  // Forgets the item set by set_batch_item (a lane whose batch ended keeps nothing alive).
  void clear_batch_item();

  Status status() const { return status_; }
  int32_t next_state() const { return next_; }
  // The failure, once status() is kFailed; moved out by the owner.
  std::optional<Error>& error() { return error_; }
  uint32_t attempt() const { return attempt_; }
  // True when the failure was fatal (cano_task_ctx_fail_fatal, cano's panic).
  bool failed_fatally() const { return fatal_; }
  // The value the successful attempt left (split branches).
  bool has_value() const { return has_value_; }
  std::string& value() { return value_; }
  const TaskDef* task() const { return task_; }

  // Mailbox handlers: a worker body returned, an async completion arrived (arg: the context).
  static void on_worker_done(void* arg);
  static void on_async_done(void* arg);
  // Mailbox handler: tells an abandoned async attempt's cancel callback (arg: the context).
  static void on_cancel_notice(void* arg);

 private:
  // What to do after a body call: done (success or final failure), wait (worker, async, retry or
  // poll
  // timer), start the next attempt at once (a zero retry delay), or call the body again within
  // the same attempt (a poll that is not ready, or a poll error its policy forgives).
  enum class Next { kDone, kWait, kRetryNow, kInvokeAgain };

  Next run_attempts();
  // A timer task's wait at the start of an attempt: asks the wait callback, arms the timer.
  Next begin_wait();
  // Calls the body once for the current attempt.
  Next invoke();
  void prepare_ctx(cano_task_ctx& ctx);
  void prepare_batch_ctx(cano_task_ctx& ctx);
  cano_task_ctx* new_heap_ctx();
  void dispatch_worker();
  void attempt_done(cano_task_ctx* ctx);
  void continue_after(Next next);
  Next conclude(cano_task_ctx& ctx);
  Next attempt_failed(Error error);
  // Ends the execution with a fatal failure: no retry, no RetryExhausted wrapping.
  Next fail_fatally(Error error);
  // A batch task's load step succeeded: process `items`, then the finish step.
  Next start_items(std::vector<std::string> items);
  Next after_items();
  void abandon_attempt();
  void finish_async();
  Error task_error(cano_status code, std::string message) const;
  static void on_attempt_timeout(void* self);
  static void on_retry_timer(void* self);
  static void on_poll_timer(void* self);
  static void run_worker_body(void* arg);

  cano_engine* engine_;
  cano_workflow* workflow_;
  uint64_t run_id_;
  Owner* owner_;

  const TaskDef* task_ = nullptr;
  int32_t state_ = 0;
  uint32_t attempt_ = 0;
  Status status_ = Status::kIdle;
  int32_t next_ = 0;
  std::optional<Error> error_;
  bool branch_ = false;
  bool has_value_ = false;
  std::string value_;
  std::shared_ptr<const cano_split_result> split_result_;
  bool fatal_ = false;
  // Batch tasks: the step the next body call makes, and the rest of the batch's state (allocated
  // by the first batch step, so that other tasks' executions stay small).
  struct BatchState;
  cano_task_ctx::BatchStep batch_step_ = cano_task_ctx::BatchStep::kNone;
  std::unique_ptr<BatchState> batch_state_;
  BatchState& batch_state();
  void drop_batch_results();

  cano_task_ctx* in_flight_ = nullptr;  // worker/async attempt, retained
  cano_task_ctx inline_ctx_;
  Timer attempt_timer_;
  Timer retry_timer_;
  Timer poll_timer_;
  uint32_t poll_errors_ = 0;  // poll errors in a row, for CANO_POLL_RETRY_ON_ERROR
  // The cursor the next step starts from (stepped work); none on the first step.
  bool has_cursor_ = false;
  std::string cursor_;
  uint32_t steps_since_yield_ = 0;
};

}  // namespace cano::detail
