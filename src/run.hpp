// A run: one walk of a workflow's state machine from an initial state to an exit state
// (spec section 1.4), with cano's retry loop around each task (section 2.4).
//
// Loop thread only. A run owns its timers and its inline attempt context; worker and async
// attempts live in their own reference-counted contexts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "cano/run.h"
#include "src/error.hpp"
#include "src/task_ctx.hpp"
#include "src/timer_heap.hpp"

struct cano_engine;
struct cano_workflow;

namespace cano::detail {

struct StateInfo;
struct TaskDef;

struct Run {
  Run(cano_engine* engine, cano_workflow* workflow, uint64_t id, int32_t initial,
      cano_run_done_fn done, void* user_data);
  ~Run();
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;

  // Starts the run on the loop: registers it, acquires the resources, enters the FSM.
  void begin();
  // Ends the run with `status` (CANO_E_CANCELLED or CANO_E_SHUTDOWN) wherever it is.
  void abort(cano_status status, const std::string& message);

  // Called by ResourceLifecycle.
  void resources_ready();
  void resources_failed(const Error& error);
  void resources_released();

  // Mailbox handlers: a worker body returned, an async completion arrived (arg: the context).
  static void on_worker_done(void* arg);
  static void on_async_done(void* arg);

  uint64_t id() const { return id_; }
  int32_t current_state() const { return current_; }

 private:
  enum class Phase { kCreated, kAcquiring, kRunning, kReleasing, kDone };
  // What the FSM does after an attempt: go to the next state, wait (worker, async, retry timer),
  // nothing (the run ended), or start the next attempt at once (a zero retry delay).
  enum class Next { kAdvance, kWait, kEnded, kRetryNow };

  void advance();
  Next run_attempts();
  void prepare_ctx(cano_task_ctx& ctx);
  cano_task_ctx* new_heap_ctx();
  void dispatch_worker();
  void attempt_done(cano_task_ctx* ctx);
  void continue_after(Next next);
  Next conclude(cano_task_ctx& ctx);
  Next attempt_failed(Error error);
  void abandon_attempt();
  void finish(cano_status status, std::optional<Error> error);
  void report();
  void add_state_context(Error& error) const;
  Error task_error(cano_status code, std::string message) const;
  static void on_attempt_timeout(void* self);
  static void on_retry_timer(void* self);
  static void on_workflow_timeout(void* self);
  static void on_continue(void* self);
  static void run_worker_body(void* arg);

  cano_engine* engine_;
  cano_workflow* workflow_;
  uint64_t id_;
  int32_t current_;
  cano_run_done_fn done_;
  void* user_data_;
  Phase phase_ = Phase::kCreated;

  const TaskDef* task_ = nullptr;
  uint32_t attempt_ = 0;
  cano_task_ctx* in_flight_ = nullptr;  // worker/async attempt, retained
  cano_task_ctx inline_ctx_;
  bool resources_held_ = false;
  std::optional<Error> aborted_;  // a cancel that arrived while the resources were being set up

  Timer attempt_timer_;
  Timer retry_timer_;
  Timer workflow_timer_;
  Timer yield_timer_;

  cano_status status_ = CANO_OK;
  std::optional<Error> error_;
};

}  // namespace cano::detail
