// cano/cpp/run.hpp - the outcome of a workflow run and a handle to wait for one.
//
// workflow<State>::start() reports a run's end with a run_result: the run id, the final state
// and, for a failed run, its error. The overload without a callback returns a run_handle whose
// get() waits for the end and returns the final state or throws the run's error, like
// orchestrate().
//
// Since 0.1.0.
#pragma once

#include <chrono>
#include <cstdint>
#include <future>
#include <optional>
#include <utility>

#include "cano/run.h"
#include "cano/cpp/error.hpp"

namespace cano {

template <class State>
class run_result {
 public:
  run_result(std::uint64_t run_id, State final_state, std::optional<cano::error> failure)
      : run_id_(run_id), state_(final_state), failure_(std::move(failure)) {}

  std::uint64_t run_id() const noexcept { return run_id_; }
  bool ok() const noexcept { return !failure_.has_value(); }
  explicit operator bool() const noexcept { return ok(); }

  // The exit state reached, or for a failed run the state it was in.
  State state() const noexcept { return state_; }

  // The run's error, empty for a successful run.
  const std::optional<cano::error>& failure() const noexcept { return failure_; }

  // The exit state; throws the run's error (as its most specific subclass) when it failed.
  State get() const {
    if (failure_) failure_->rethrow();
    return state_;
  }

 private:
  std::uint64_t run_id_;
  State state_;
  std::optional<cano::error> failure_;
};

// A run started without a callback. Move-only. The engine must outlive the handle's use.
template <class State>
class run_handle {
 public:
  run_handle(cano_engine* engine, std::uint64_t run_id, std::future<run_result<State>> result)
      : engine_(engine), run_id_(run_id), result_(std::move(result)) {}

  std::uint64_t id() const noexcept { return run_id_; }

  // Waits for the run to end (never call this on the engine's loop thread, which would wait
  // on itself), then returns the exit state or throws the run's error. Call get() or result()
  // once.
  State get() { return result().get(); }
  run_result<State> result() { return result_.get(); }

  // Waits at most `timeout`; true when the run has ended.
  template <class Rep, class Period>
  bool wait_for(std::chrono::duration<Rep, Period> timeout) const {
    return result_.wait_for(timeout) == std::future_status::ready;
  }

  // Cancels the run (see engine::cancel()).
  void cancel() {
    cano_error* err = nullptr;
    detail::check(cano_run_cancel(engine_, run_id_, &err), err);
  }

 private:
  cano_engine* engine_;
  std::uint64_t run_id_;
  std::future<run_result<State>> result_;
};

}  // namespace cano
