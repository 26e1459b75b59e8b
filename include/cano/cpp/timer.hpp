// cano/cpp/timer.hpp - timer tasks: cano::timer, cano::wait_for() and cano::wait_until().
//
// A timer task (workflow<State>::register_timer) waits, then runs its body, which picks the next
// state as any task does (cano 0.15 TimerTask, spec section 15). Each attempt first decides how
// long to wait, waits on an engine timer (no thread is held meanwhile), then calls the body.
// The cano::timer passed at registration says how long:
//
//   cano::timer::after(500ms)                 the same delay before every attempt
//   cano::timer::until(engine.now() + 1min)   until the engine clock reads this (engine::now())
//   cano::timer::wait([](cano::task_context& ctx) {
//     return ctx.attempt() == 1 ? cano::wait_for(100ms) : cano::wait_until(deadline);
//   })                                        decided by a callable before each attempt
//
// A time that has already passed waits no time. The task's attempt timeout bounds the wait and
// the body together, and its retries start over with a new wait. A timer task's default retry
// policy is cano's TaskConfig::minimal(), one attempt.
//
// Since 0.1.0.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <type_traits>
#include <utility>

#include "cano/timer.h"
#include "cano/cpp/task.hpp"

namespace cano {

// What a timer's wait callable decided for one attempt: wait a delay, or until a clock reading.
// Made by cano::wait_for() and cano::wait_until(). A plain value type. Since 0.1.0.
class timer_wait {
 public:
  enum class kind { delay, until };

  // Wait `ms` milliseconds (kind::delay) or until the engine clock reads `ms` (kind::until).
  // A negative `ms` counts as 0.
  constexpr timer_wait(kind k, std::chrono::milliseconds ms) noexcept
      : kind_(k), ms_(ms.count() < 0 ? std::chrono::milliseconds(0) : ms) {}

  constexpr kind what() const noexcept { return kind_; }
  constexpr bool is_delay() const noexcept { return kind_ == kind::delay; }
  constexpr bool is_until() const noexcept { return kind_ == kind::until; }
  // The delay (kind::delay) or the clock reading (kind::until).
  constexpr std::chrono::milliseconds value() const noexcept { return ms_; }

  // Records the decision in a wait callback's C context (cano_task_ctx_wait_for or
  // cano_task_ctx_wait_until) and returns CANO_OK.
  cano_status apply(cano_task_ctx* ctx) const noexcept {
    auto ms = static_cast<std::uint64_t>(ms_.count());
    return kind_ == kind::delay ? cano_task_ctx_wait_for(ctx, ms)
                                : cano_task_ctx_wait_until(ctx, ms);
  }

 private:
  kind kind_;
  std::chrono::milliseconds ms_;
};

namespace detail {

// A duration in whole milliseconds, rounded up (a timer never fires early), negative as 0.
template <class Rep, class Period>
std::chrono::milliseconds timer_ms(std::chrono::duration<Rep, Period> d) {
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(d);
  return ms.count() < 0 ? std::chrono::milliseconds(0) : ms;
}

}  // namespace detail

// "Wait `delay`, then run the body" (cano's TimerOutcome::Duration). A delay finer than a
// millisecond rounds up; zero or negative runs the body on the loop's next turn. Since 0.1.0.
template <class Rep, class Period>
timer_wait wait_for(std::chrono::duration<Rep, Period> delay) {
  return timer_wait(timer_wait::kind::delay, detail::timer_ms(delay));
}

// "Wait until the engine clock reads `clock_reading`" (cano's TimerOutcome::Until): a reading
// as engine::now() returns it, i.e. cano_engine_clock_now(). One in the past waits no time.
// Since 0.1.0.
template <class Rep, class Period>
timer_wait wait_until(std::chrono::duration<Rep, Period> clock_reading) {
  return timer_wait(timer_wait::kind::until, detail::timer_ms(clock_reading));
}

// How long a timer task waits before each attempt. A copyable value type: register_timer()
// copies what it needs, so a timer may be reused for any number of registrations.
// Since 0.1.0.
class timer {
 public:
  using wait_function = std::function<timer_wait(task_context&)>;

  // The same delay before every attempt (cano_timer_options.delay_ms). Rounds up to whole
  // milliseconds; negative means no wait.
  template <class Rep, class Period>
  static timer after(std::chrono::duration<Rep, Period> delay) {
    timer t;
    t.options_.delay_ms = static_cast<std::uint64_t>(detail::timer_ms(delay).count());
    return t;
  }

  // Until the engine clock reads `clock_reading` (cano_timer_options.until_ms; compare
  // engine::now()). A reading that has passed when an attempt starts waits no time; so does
  // a reading of 0, which the C ABI takes as "not set" and so as a zero delay.
  template <class Rep, class Period>
  static timer until(std::chrono::duration<Rep, Period> clock_reading) {
    timer t;
    t.options_.until_ms = static_cast<std::uint64_t>(detail::timer_ms(clock_reading).count());
    return t;
  }

  // Decided before each attempt by `decide` (copied into the timer; it must be copyable),
  // callable (as a non-const lvalue) as R(cano::task_context&), R(cano::resources&) or R(),
  // with R convertible to cano::timer_wait: return cano::wait_for(d) or cano::wait_until(t).
  // It runs on the loop thread (keep it short) before the attempt's body, with the attempt's
  // context (ctx.attempt() tells which attempt waits). An exception it throws fails that
  // attempt as one thrown by a body would (retried by the config's policy; a
  // cano::fatal_error fails the task at once), and the body does not run. Throws
  // std::bad_alloc, and whatever copying `decide` throws.
  template <class F>
  static timer wait(F&& decide) {
    using stored = std::decay_t<F>;
    static_assert(detail::plain_form<stored>::any,
                  "cano::timer::wait: the callable must take cano::task_context&, "
                  "cano::resources& or nothing");
    static_assert(std::is_convertible_v<detail::plain_result_t<stored>, timer_wait>,
                  "cano::timer::wait: the callable must return cano::timer_wait "
                  "(cano::wait_for(delay) or cano::wait_until(clock_reading))");
    timer t;
    t.wait_ = [fn = stored(std::forward<F>(decide))](task_context& ctx) mutable -> timer_wait {
      return detail::invoke_plain(fn, ctx);
    };
    return t;
  }

  // True for a timer made by wait().
  bool has_wait() const noexcept { return static_cast<bool>(wait_); }
  // The delay of after(), the reading of until() (0 when not set).
  std::chrono::milliseconds delay() const noexcept {
    return std::chrono::milliseconds(options_.delay_ms);
  }
  std::chrono::milliseconds until_reading() const noexcept {
    return std::chrono::milliseconds(options_.until_ms);
  }
  // The wait callable of wait() (empty otherwise).
  const wait_function& wait_callable() const noexcept { return wait_; }

  // The C options this timer stands for, without the wait callback: register_timer() sets
  // that, because the callback reaches the callable through the task's user data.
  const cano_timer_options& native() const noexcept { return options_; }

 private:
  timer() = default;

  cano_timer_options options_ = CANO_TIMER_OPTIONS_INIT;
  wait_function wait_;
};

namespace detail {

// A timer task's user data: its body, its wait callable (empty unless timer::wait) and its
// config's on-cancel hook (empty when none; told only for an async body's abandoned attempt).
template <class F>
struct timer_task {
  F body;
  timer::wait_function wait;
  task_config::cancel_hook on_cancel;
};

// The C wait callback of a timer made by timer::wait(): asks the callable, records its
// decision, and turns an escaping exception into the attempt's failure.
template <class F>
cano_status run_timer_wait(cano_task_ctx* ctx, void* user_data) noexcept {
  auto& task = *static_cast<timer_task<F>*>(user_data);
  try {
    task_context context(ctx);
    return task.wait(context).apply(ctx);
  } catch (...) {
    return fail_attempt(ctx, std::current_exception());
  }
}

}  // namespace detail

}  // namespace cano
