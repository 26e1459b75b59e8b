// cano_engine: one libuv loop on one thread, a worker pool, the mailbox that feeds the loop, the
// timers, the clock, the runs in flight and the pending async completions.
//
// Everything but the mailbox, the completion-token table and a few atomics is loop-thread only.
#pragma once

#include <uv.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "cano/engine.h"
#include "src/error.hpp"
#include "src/mailbox.hpp"
#include "src/timer_heap.hpp"
#include "src/worker_pool.hpp"

struct cano_task_ctx;
struct cano_resources;

namespace cano::detail {
struct Run;
class ResourceLifecycle;
}  // namespace cano::detail

struct cano_engine {
  explicit cano_engine(const cano_engine_options& options);
  ~cano_engine();
  cano_engine(const cano_engine&) = delete;
  cano_engine& operator=(const cano_engine&) = delete;

  // Starts the loop thread and the workers. Throws Failure.
  void start();
  // Blocking, final shutdown (see engine.h). Must not run on an engine thread.
  void shutdown();

  bool on_loop_thread() const { return std::this_thread::get_id() == loop_thread_id_; }
  bool on_engine_thread() const { return on_loop_thread() || pool_.on_worker_thread(); }

  // Any thread. False once the engine shuts down.
  bool post(void (*fn)(void*), void* arg) { return mailbox_.post({fn, arg}); }
  // Runs fn(arg) on the loop and waits for it; runs it directly on the loop thread.
  // Returns false (fn not run) once the engine shuts down.
  bool call_on_loop(void (*fn)(void*), void* arg);

  // --- loop thread ----------------------------------------------------------------------------
  uint64_t now() const;
  void arm(cano::detail::Timer& timer, uint64_t delay_ms);
  void cancel(cano::detail::Timer& timer) { timers_.cancel(timer); }
  bool next_deadline(uint64_t* out) const;
  void advance_clock(uint64_t ms);
  // Uniform in [-1, 1], for retry jitter.
  double random_unit();
  // Queues a job on the workers; its completion must come back through post() and call
  // job_finished() on the loop, so that shutdown can wait for every body to return.
  void submit(void (*fn)(void*), void* arg);
  void job_finished() { --outstanding_jobs_; }
  bool stopping() const { return stopping_; }
  // Completes the shutdown once no run and no worker job is left. Loop thread.
  void maybe_finish_shutdown();

  void add_run(cano::detail::Run* run);
  void remove_run(cano::detail::Run* run);
  cano::detail::Run* find_run(uint64_t id) const;
  cano::detail::ResourceLifecycle& lifecycle_of(cano_resources* resources);

  // --- any thread -----------------------------------------------------------------------------
  uint64_t allocate_run_id() { return next_run_id_.fetch_add(1, std::memory_order_relaxed); }
  uint64_t runs_in_flight() const { return runs_in_flight_.load(std::memory_order_acquire); }
  void count_run(int delta) { runs_in_flight_.fetch_add(static_cast<uint64_t>(delta)); }
  bool manual_clock() const { return manual_clock_; }
  uint64_t clock_reading() const { return clock_reading_.load(std::memory_order_acquire); }
  uint32_t worker_count() const { return pool_.size(); }
  uint32_t spin_us() const { return spin_us_; }

  // Async completion tokens. register_token retains the context for the table.
  uint64_t register_token(cano_task_ctx* ctx);
  // Removes and returns the context of a token, or nullptr when it is unknown or used. The
  // caller receives the table's reference.
  cano_task_ctx* claim_token(uint64_t token);
  bool tokens_closed();

 private:
  static void on_wake(uv_async_t* handle);
  static void on_timer(uv_timer_t* handle);
  static void on_prepare(uv_prepare_t* handle);
  static void begin_shutdown(void* self);
  void drain_mailbox();
  void fire_due_timers(uint64_t now);
  void rearm_uv_timer();
  void run_loop();

  cano_engine_options options_;
  uv_loop_t loop_{};
  uv_async_t wake_{};
  uv_timer_t uv_timer_{};
  uv_prepare_t prepare_{};
  std::thread loop_thread_;
  std::thread::id loop_thread_id_;
  cano::detail::Mailbox mailbox_;
  std::vector<cano::detail::Message> drained_;
  cano::detail::WorkerPool pool_;
  cano::detail::TimerHeap timers_;
  uint64_t armed_deadline_ = UINT64_MAX;

  bool manual_clock_ = false;
  uint64_t manual_now_ = 0;
  std::atomic<uint64_t> clock_reading_{0};
  uint64_t rng_state_ = 0;
  uint32_t spin_us_ = 0;
  std::chrono::steady_clock::time_point last_message_{};

  bool stopping_ = false;
  bool handles_closed_ = false;
  int64_t outstanding_jobs_ = 0;
  std::unordered_map<uint64_t, cano::detail::Run*> runs_;
  std::unordered_map<cano_resources*, std::unique_ptr<cano::detail::ResourceLifecycle>> lifecycles_;
  std::atomic<uint64_t> next_run_id_{1};
  std::atomic<uint64_t> runs_in_flight_{0};

  std::mutex token_mutex_;
  std::unordered_map<uint64_t, cano_task_ctx*> tokens_;
  uint64_t next_token_ = 1;
  bool tokens_closed_ = false;

  std::mutex shutdown_mutex_;
  bool shut_down_ = false;
  bool started_ = false;
};
