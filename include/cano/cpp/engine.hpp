// cano/cpp/engine.hpp - cano::engine, the event loop and worker pool that run workflows.
//
// An engine is move-only: it owns one cano_engine, and its destructor shuts the engine down
// (cancelling runs in flight, waiting for running task bodies) and frees it. Create and
// destroy it on a thread of your own, never on one of the engine's threads. Workflows do not
// depend on an engine, so they may outlive it; completions and run handles must not.
//
// Since 0.1.0.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "cano/engine.h"
#include "cano/run.h"
#include "cano/task.h"
#include "cano/cpp/error.hpp"
#include "cano/cpp/state.hpp"
#include "cano/cpp/string_ref.hpp"

namespace cano {

// cano_engine_options with C++ types. All defaults are the library's.
struct engine_options {
  std::uint32_t worker_threads = 0;  // 0 = one per CPU, at least 2
  bool manual_clock = false;         // a clock that moves only with engine::advance()
  std::uint64_t manual_clock_start_ms = 0;
  std::uint64_t random_seed = 0;     // retry jitter seed; 0 = from the OS
  std::int32_t spin_us = 0;          // 0 = library default, negative = never spin

  [[nodiscard]] engine_options with_worker_threads(std::uint32_t n) const {
    engine_options copy = *this;
    copy.worker_threads = n;
    return copy;
  }
  [[nodiscard]] engine_options with_manual_clock(std::uint64_t start_ms = 0) const {
    engine_options copy = *this;
    copy.manual_clock = true;
    copy.manual_clock_start_ms = start_ms;
    return copy;
  }
  [[nodiscard]] engine_options with_random_seed(std::uint64_t seed) const {
    engine_options copy = *this;
    copy.random_seed = seed;
    return copy;
  }
};

class engine {
 public:
  // Starts an engine with the library defaults. Throws internal_error when a thread or the
  // loop cannot start.
  engine() : engine(engine_options{}) {}

  explicit engine(const engine_options& options) {
    cano_engine_options c = CANO_ENGINE_OPTIONS_INIT;
    c.worker_threads = options.worker_threads;
    c.clock = options.manual_clock ? CANO_CLOCK_MANUAL : CANO_CLOCK_REAL;
    c.manual_clock_start_ms = options.manual_clock_start_ms;
    c.random_seed = options.random_seed;
    c.spin_us = options.spin_us;
    cano_error* err = nullptr;
    detail::check(cano_engine_create(&engine_, &c, &err), err);
  }

  // Takes ownership of an engine created through the C API.
  explicit engine(cano_engine* adopted) noexcept : engine_(adopted) {}

  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;
  engine(engine&& other) noexcept : engine_(std::exchange(other.engine_, nullptr)) {}
  engine& operator=(engine&& other) noexcept {
    if (this != &other) {
      cano_engine_destroy(engine_);
      engine_ = std::exchange(other.engine_, nullptr);
    }
    return *this;
  }

  // Shuts down (if needed) and frees the engine; blocks until no callback runs.
  ~engine() { cano_engine_destroy(engine_); }

  // Stops the engine and waits: runs in flight end with shutdown_error, and when this returns
  // no callback runs or will run. Idempotent. Throws wrong_thread_error on an engine thread.
  void shutdown() {
    cano_status status = cano_engine_shutdown(engine_);
    if (status < 0) detail::throw_error(status, nullptr);
  }

  // Runs `fn()` on the loop thread, soon. Any thread. Throws shutdown_error (and `fn` is
  // destroyed unrun) when the engine is shutting down. `fn` must not throw: an exception
  // escaping it on the loop thread terminates the program, as one escaping a std::thread does.
  template <class F>
  void post(F&& fn) {
    using box = std::decay_t<F>;
    auto owned = std::make_unique<box>(std::forward<F>(fn));
    cano_error* err = nullptr;
    cano_status status = cano_engine_post(engine_, &run_posted<box>, owned.get(), &err);
    detail::check(status, err);
    // Accepted: the posted call owns the function from now on and deletes it after running.
    owned.release();
  }

  // True on the engine's loop thread.
  bool on_loop_thread() const noexcept { return cano_engine_on_loop_thread(engine_) != 0; }
  std::uint32_t worker_count() const noexcept { return cano_engine_worker_count(engine_); }
  std::uint64_t runs_in_flight() const noexcept { return cano_engine_runs_in_flight(engine_); }

  // The clock's reading. Any thread.
  std::chrono::milliseconds now() const noexcept {
    return std::chrono::milliseconds(cano_engine_clock_now(engine_));
  }

  // Moves a manual clock forward, firing the timers that fall due; blocks until they fired.
  // Throws bad_state_error on a real clock, shutdown_error.
  void advance(std::chrono::milliseconds by) {
    cano_error* err = nullptr;
    std::uint64_t ms = by.count() < 0 ? 0 : static_cast<std::uint64_t>(by.count());
    detail::check(cano_engine_clock_advance(engine_, ms, &err), err);
  }

  // The deadline of the earliest pending timer, or empty when none is pending.
  std::optional<std::chrono::milliseconds> next_deadline() const {
    std::uint64_t deadline = 0;
    cano_error* err = nullptr;
    cano_status status = cano_engine_clock_next_deadline(&deadline, engine_, &err);
    if (status == CANO_E_NOT_FOUND) {
      cano_error_free(err);
      return std::nullopt;
    }
    detail::check(status, err);
    return std::chrono::milliseconds(deadline);
  }

  // Cancels a run in flight: it ends with cancelled_error. Throws not_found_error when the run
  // is not in flight (it may have ended), shutdown_error.
  void cancel(std::uint64_t run_id) {
    cano_error* err = nullptr;
    detail::check(cano_run_cancel(engine_, run_id, &err), err);
  }

  // Finishes the async attempt `token` (see completion<State> in cano/cpp/task.hpp).
  template <class State>
  void complete(std::uint64_t token, State next) {
    cano_error* err = nullptr;
    detail::check(cano_task_complete(engine_, token, detail::state_code(next), &err), err);
  }
  void fail(std::uint64_t token, string_ref message, cano_status code = CANO_E_TASK_EXECUTION) {
    cano_error* err = nullptr;
    detail::check(cano_task_complete_error(engine_, token, code, message.c_str(), &err), err);
  }

  // The C handle, borrowed; NULL for a moved-from engine.
  cano_engine* native() const noexcept { return engine_; }

  // Gives up ownership: the caller destroys the engine with cano_engine_destroy().
  cano_engine* release() noexcept { return std::exchange(engine_, nullptr); }

 private:
  template <class F>
  static void run_posted(void* user_data) noexcept {
    std::unique_ptr<F> fn(static_cast<F*>(user_data));
    (*fn)();
  }

  cano_engine* engine_ = nullptr;
};

}  // namespace cano
