// cano/cpp/poll.hpp - poll tasks ("wait until"): poll_result<State> and poll_policy.
//
// A poll task (workflow<State>::register_poll) is called again and again until what it waits
// for is ready. Each call answers with a poll_result: ready(next state) ends the wait, and
// pending(delay) asks to be called again after the delay, on an engine timer, so no thread is
// held while it waits (cano 0.13 PollOutcome, spec section 3.2):
//
//   wf.register_poll(Step::Wait, [&](cano::task_context&) -> cano::poll_result<Step> {
//     if (job.finished()) return cano::ready(Step::Done);
//     return cano::pending(std::chrono::milliseconds(100));
//   });
//
// The whole wait is one attempt: the task's attempt timeout bounds it, and a retrying config
// restarts it. An exception thrown by the body is handled by the poll_policy: fail_fast()
// (the default) fails the attempt at once; retry_on_error(n) calls the body again at once,
// forgiving up to n errors in a row (a pending answer resets the count). A cano::fatal_error
// is never forgiven: like a panic in cano, it fails the task at once, without retries.
//
// Since 0.1.0.
#pragma once

#include <chrono>
#include <cstdint>
#include <type_traits>

#include "cano/poll.h"

namespace cano {

// What a pending answer carries: the delay before the next call. Made by cano::pending();
// converts to poll_result<State> for every State. Since 0.1.0.
struct poll_pending {
  std::chrono::milliseconds delay{0};
};

// "Not yet: call me again after `delay`" (PollOutcome::Pending). A delay finer than a
// millisecond rounds up, and a negative or zero delay re-polls on the loop's next turn.
// Since 0.1.0.
template <class Rep, class Period>
poll_pending pending(std::chrono::duration<Rep, Period> delay) {
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(delay);
  return poll_pending{ms.count() < 0 ? std::chrono::milliseconds(0) : ms};
}

// The answer of one call of a poll task: ready with the next state, or pending with a delay.
// A plain value type. Since 0.1.0.
template <class State>
class poll_result {
  static_assert(std::is_enum_v<State>, "cano::poll_result<State>: State must be an enum type");

 public:
  // Ready: the wait is over and the run moves to `next` (PollOutcome::Ready). Implicit, so a
  // body declared `-> cano::poll_result<Step>` may `return Step::Done;`.
  poll_result(State next) noexcept : ready_(true), next_(next) {}  // NOLINT

  // Pending: call the body again after the delay (PollOutcome::Pending).
  poll_result(poll_pending answer) noexcept  // NOLINT
      : ready_(false), next_(), delay_(answer.delay) {}

  static poll_result ready(State next) noexcept { return poll_result(next); }
  template <class Rep, class Period>
  static poll_result pending(std::chrono::duration<Rep, Period> delay) {
    return poll_result(cano::pending(delay));
  }

  bool is_ready() const noexcept { return ready_; }
  // The next state; meaningful only when is_ready().
  State next() const noexcept { return next_; }
  // The delay before the next call; meaningful only when !is_ready().
  std::chrono::milliseconds delay() const noexcept { return delay_; }

 private:
  bool ready_;
  State next_;
  std::chrono::milliseconds delay_{0};
};

// "Ready: go to `next`", as a poll_result<State> deduced from the state. Since 0.1.0.
template <class State>
poll_result<State> ready(State next) noexcept {
  return poll_result<State>(next);
}

// How a poll task treats the exceptions its body throws (cano's PollErrorPolicy).
// Since 0.1.0.
class poll_policy {
 public:
  // PollErrorPolicy::FailFast (the default): the first error fails the attempt.
  poll_policy() noexcept = default;
  static poll_policy fail_fast() noexcept { return poll_policy(); }

  // PollErrorPolicy::RetryOnError: an error re-polls at once (no delay) and fails the attempt
  // only when more than `max_errors` came in a row; a pending answer resets the count, so
  // retry_on_error(0) fails at the first error.
  static poll_policy retry_on_error(std::uint32_t max_errors) noexcept {
    poll_policy policy;
    policy.options_.policy = CANO_POLL_RETRY_ON_ERROR;
    policy.options_.max_errors = max_errors;
    return policy;
  }

  bool retries_on_error() const noexcept { return options_.policy == CANO_POLL_RETRY_ON_ERROR; }
  std::uint32_t max_errors() const noexcept { return options_.max_errors; }

  // The C options this policy stands for.
  const cano_poll_options& native() const noexcept { return options_; }

 private:
  cano_poll_options options_ = CANO_POLL_OPTIONS_INIT;
};

}  // namespace cano
