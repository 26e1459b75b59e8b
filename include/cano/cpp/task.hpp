// cano/cpp/task.hpp - task configuration, the task context, and async completion.
//
// task_config mirrors cano's TaskConfig: a retry policy (retry_mode), a per-attempt timeout,
// plus what a C++ task registration also chooses: where the body runs (task_mode), the task's
// name in errors and, for async tasks, a hook told when a pending attempt is abandoned.
// Builders return a modified copy, like cano's `#[must_use]` builders:
//
//   auto config = cano::task_config::minimal().with_mode(cano::task_mode::inline_);
//   auto retried = cano::task_config().with_fixed_retry(2, std::chrono::milliseconds(10));
//   auto stoppable = cano::task_config::minimal()
//                        .with_mode(cano::task_mode::async)
//                        .with_on_cancel([&jobs](std::uint64_t token) { jobs.stop(token); });
//
// task_context is what a body receives: the run's resources, the attempt number, the run id,
// the cancelled flag, for async tasks a completion to finish the attempt later from any
// thread (see cano/task.h for the modes and the retry rules), in a split's join state the
// split's outcome (cano/cpp/split_result.hpp) and, in a task that steps, the cursor the
// previous step left (cano/cpp/stepped.hpp).
//
// Since 0.1.0.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "cano/engine.h"
#include "cano/stepped.h"
#include "cano/task.h"
#include "cano/cpp/error.hpp"
#include "cano/cpp/resources.hpp"
#include "cano/cpp/split_result.hpp"
#include "cano/cpp/state.hpp"
#include "cano/cpp/string_ref.hpp"

namespace cano {

// Where a task body runs (cano_task_mode). `inline_` carries an underscore because `inline` is
// a keyword.
enum class task_mode {
  worker = CANO_TASK_WORKER,   // on the worker pool; may block (the default)
  inline_ = CANO_TASK_INLINE,  // on the loop thread; short, never blocking
  async = CANO_TASK_ASYNC      // starts work and finishes later through a completion
};

// cano's RetryMode: how many attempts a task gets and how long to wait between them.
class retry_mode {
 public:
  // cano's default: exponential, 3 retries, 100 ms base, x2, 30 s cap, 10 % jitter.
  retry_mode() noexcept = default;

  // One attempt, no retry (RetryMode::None).
  static retry_mode none() {
    retry_mode mode;
    cano_task_options_retry_none(&mode.fields_);
    return mode;
  }

  // `retries` + 1 attempts with `delay` between them (RetryMode::fixed).
  static retry_mode fixed(std::uint32_t retries, std::chrono::milliseconds delay) {
    retry_mode mode;
    cano_task_options_retry_fixed(&mode.fields_, retries, to_ms(delay));
    return mode;
  }

  // `max_retries` + 1 attempts with cano's default backoff (RetryMode::exponential).
  static retry_mode exponential(std::uint32_t max_retries) {
    retry_mode mode;
    cano_task_options_retry_exponential(&mode.fields_, max_retries);
    return mode;
  }

  // RetryMode::exponential_custom: the delay after failed attempt i (0-based) is
  // min(base * multiplier^i, max_delay) times (1 + jitter * r), r uniform in [-1, 1]; jitter
  // is clamped into [0, 1].
  static retry_mode exponential_custom(std::uint32_t max_retries, std::chrono::milliseconds base,
                                       double multiplier, std::chrono::milliseconds max_delay,
                                       double jitter) {
    retry_mode mode;
    mode.fields_.retry = CANO_RETRY_EXPONENTIAL;
    mode.fields_.retry_max_retries = max_retries;
    mode.fields_.retry_delay_ms = to_ms(base);
    mode.fields_.retry_multiplier = multiplier;
    mode.fields_.retry_max_delay_ms = to_ms(max_delay);
    mode.fields_.retry_jitter = jitter < 0.0 ? 0.0 : (jitter > 1.0 ? 1.0 : jitter);
    return mode;
  }

  // The number of attempts this policy allows.
  std::uint32_t max_attempts() const noexcept { return cano_task_options_max_attempts(&fields_); }

  // The delay after failed attempt `attempt_index` (0-based), with `random_unit` in [-1, 1]
  // standing for the jitter draw; empty when no retry follows that attempt.
  std::optional<std::chrono::milliseconds> delay_for_attempt(std::uint32_t attempt_index,
                                                             double random_unit = 0.0) const {
    std::int64_t ms = cano_task_options_retry_delay(&fields_, attempt_index, random_unit);
    if (ms < 0) return std::nullopt;
    return std::chrono::milliseconds(ms);
  }

  // Copies the retry fields into a C options struct.
  void apply(cano_task_options& options) const noexcept {
    options.retry = fields_.retry;
    options.retry_max_retries = fields_.retry_max_retries;
    options.retry_delay_ms = fields_.retry_delay_ms;
    options.retry_multiplier = fields_.retry_multiplier;
    options.retry_max_delay_ms = fields_.retry_max_delay_ms;
    options.retry_jitter = fields_.retry_jitter;
  }

 private:
  static std::uint64_t to_ms(std::chrono::milliseconds d) noexcept {
    return d.count() < 0 ? 0 : static_cast<std::uint64_t>(d.count());
  }

  cano_task_options fields_ = CANO_TASK_OPTIONS_INIT;
};

// cano's TaskConfig plus the task's mode, its name and the async on-cancel hook.
class task_config {
 public:
  // The on-cancel hook of an async task (see with_on_cancel()): called with the completion
  // token of the abandoned attempt. Empty means no hook. Since 0.1.0.
  using cancel_hook = std::function<void(std::uint64_t token)>;

  // cano's TaskConfig::default(): the default exponential retry policy, worker mode.
  task_config() = default;

  // cano's TaskConfig::minimal(): a single attempt.
  static task_config minimal() { return task_config().with_retry(retry_mode::none()); }

  [[nodiscard]] task_config with_retry(const retry_mode& retry) const {
    task_config copy = *this;
    copy.retry_ = retry;
    return copy;
  }
  [[nodiscard]] task_config with_fixed_retry(std::uint32_t retries,
                                             std::chrono::milliseconds delay) const {
    return with_retry(retry_mode::fixed(retries, delay));
  }
  [[nodiscard]] task_config with_exponential_retry(std::uint32_t max_retries) const {
    return with_retry(retry_mode::exponential(max_retries));
  }
  // Each attempt gets a fresh deadline; expiry fails the attempt with timeout_error.
  // Durations finer than a millisecond round up, so a short timeout never becomes "none".
  template <class Rep, class Period>
  [[nodiscard]] task_config with_attempt_timeout(std::chrono::duration<Rep, Period> timeout) const {
    task_config copy = *this;
    copy.attempt_timeout_ = std::chrono::ceil<std::chrono::milliseconds>(timeout);
    return copy;
  }
  [[nodiscard]] task_config with_mode(task_mode mode) const {
    task_config copy = *this;
    copy.mode_ = mode;
    return copy;
  }
  // The task's name in errors and logs; the state's name when unset.
  [[nodiscard]] task_config with_name(std::string name) const {
    task_config copy = *this;
    copy.name_ = std::move(name);
    return copy;
  }

  // Sets the hook that a task_mode::async task (or async split branch) is told through when
  // one of its pending attempts is abandoned, so that it can stop the work it started: the
  // attempt timed out, its split branch lost (an early exit or the split timeout), or its run
  // was cancelled, timed out or ended by shutdown (cano_task_options.cancel, cano/task.h).
  // `hook` is callable (as a non-const lvalue) as void(std::uint64_t token) or void(); the
  // token is the one the attempt's completion<State>::token() and task_context::token() name,
  // so a body that keys its work by token can find what to stop. A completion of that token
  // that arrives afterwards is still accepted and ignored.
  //
  // Ownership: `hook` is copied (it must be copyable) into this config, and from there into
  // every registration that uses the config; each registration destroys its copy with its task.
  // Thread: the hook runs on the engine's loop thread, once per abandoned attempt, after the
  // loop has finished the step that abandoned it (never inside the body's own call), so it must
  // be quick, must not block, and may be called for different runs one after the other. It must
  // not throw: an exception escaping it on the loop thread terminates the program, as one
  // escaping a std::thread does. Attempts that complete are never told, and the hook is never
  // called for tasks that are not async (a worker body polls task_context::cancelled()
  // instead), as in the C ABI. An empty cancel_hook removes the hook. Throws std::bad_alloc
  // only. Since 0.1.0.
  template <class F>
  [[nodiscard]] task_config with_on_cancel(F&& hook) const {
    using stored = std::decay_t<F>;
    static_assert(std::is_invocable_v<stored&, std::uint64_t> || std::is_invocable_v<stored&>,
                  "cano: an on-cancel hook must be callable as void(std::uint64_t token) or "
                  "void()");
    task_config copy = *this;
    if constexpr (std::is_invocable_v<stored&, std::uint64_t>) {
      copy.on_cancel_ = cancel_hook(std::forward<F>(hook));
    } else {
      copy.on_cancel_ = [fn = stored(std::forward<F>(hook))](std::uint64_t) mutable {
        std::invoke(fn);
      };
    }
    return copy;
  }

  const retry_mode& retry() const noexcept { return retry_; }
  std::optional<std::chrono::milliseconds> attempt_timeout() const noexcept {
    return attempt_timeout_;
  }
  task_mode mode() const noexcept { return mode_; }
  const std::optional<std::string>& name() const noexcept { return name_; }
  std::uint32_t max_attempts() const noexcept { return retry_.max_attempts(); }

  // The hook set by with_on_cancel() (empty when none), borrowed from this config. Any thread
  // that does not modify the config concurrently. Since 0.1.0.
  const cancel_hook& on_cancel() const noexcept { return on_cancel_; }

  // Fills the C options (all but run, user_data, destroy and cancel: the registrations set
  // those, because the C cancel callback reaches the hook through the task's user data). The
  // name stays borrowed from this object, so it must outlive the registration call that reads
  // `options`.
  void apply(cano_task_options& options) const noexcept {
    retry_.apply(options);
    options.mode = static_cast<cano_task_mode>(mode_);
    options.name = name_ ? name_->c_str() : nullptr;
    if (attempt_timeout_ && attempt_timeout_->count() > 0) {
      options.attempt_timeout_ms = static_cast<std::uint64_t>(attempt_timeout_->count());
    }
  }

 private:
  retry_mode retry_;
  std::optional<std::chrono::milliseconds> attempt_timeout_;
  task_mode mode_ = task_mode::worker;
  std::optional<std::string> name_;
  cancel_hook on_cancel_;
};

// Kept for readers who think of it as the C API's options struct.
using task_options = task_config;

namespace detail {

// The code and message a failure becomes when it leaves a task: a cano::error keeps its code
// and message, a std::exception becomes CANO_E_TASK_EXECUTION with what(), anything else
// CANO_E_TASK_EXECUTION "unknown exception".
inline std::pair<cano_status, std::string> describe_failure(std::exception_ptr failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const error& e) {
    return {e.code(), e.message()};
  } catch (const std::exception& e) {
    return {CANO_E_TASK_EXECUTION, e.what()};
  } catch (...) {
    return {CANO_E_TASK_EXECUTION, "unknown exception"};
  }
}

// Records the failure an exception escaping a task body stands for, and returns the status
// the body returns: cano_task_ctx_fail_fatal() for a fatal_error, cano_task_ctx_fail() with
// describe_failure()'s code and message for anything else.
inline cano_status fail_attempt(cano_task_ctx* ctx, std::exception_ptr failure) noexcept {
  try {
    try {
      std::rethrow_exception(failure);
    } catch (const fatal_error& e) {
      return cano_task_ctx_fail_fatal(ctx, e.code(), e.message());
    } catch (...) {
      // Not fatal: mapped below, outside this handler.
    }
    auto [code, message] = describe_failure(std::move(failure));
    return cano_task_ctx_fail(ctx, code, message.c_str());
  } catch (...) {
    // Only copying the message can fail here; the failure itself must still be reported.
    return cano_task_ctx_fail(ctx, CANO_E_NO_MEMORY, "out of memory");
  }
}

// The user data of a task registered with register_task() or register_router(): the task
// callable and its copy of the config's on-cancel hook (empty when none).
template <class F>
struct task_holder {
  F body;
  task_config::cancel_hook on_cancel;
};

// The C cancel callback (cano_task_options.cancel) of a C++ task whose user data `Holder` keeps
// an on-cancel hook in its member `on_cancel`; set only when that hook is not empty. Runs on
// the loop thread; an exception escaping the hook terminates the program (noexcept), since
// nothing on the loop thread could handle it.
template <class Holder>
void run_cancel(std::uint64_t token, void* user_data) noexcept {
  static_cast<Holder*>(user_data)->on_cancel(token);
}

}  // namespace detail

// Finishes one async attempt from any thread, exactly once. Copyable; every copy names the
// same attempt, and only the first completion counts. The engine must still exist when a
// completion is called (after cano_engine_destroy() a call is undefined, cano/engine.h).
template <class State>
class completion {
 public:
  completion(cano_engine* engine, std::uint64_t token) noexcept : engine_(engine), token_(token) {}

  // Finishes the attempt with `next`. Throws bad_state_error for a second completion and
  // shutdown_error once the engine shuts down. A completion that arrives after the attempt
  // timed out or the run ended is accepted and ignored.
  void complete(State next) const {
    cano_error* err = nullptr;
    detail::check(cano_task_complete(engine_, token_, detail::state_code(next), &err), err);
  }

  // Fails the attempt with `code` (a CANO_E_* value) and `message`. Same errors as complete().
  void fail(string_ref message, cano_status code = CANO_E_TASK_EXECUTION) const {
    cano_error* err = nullptr;
    detail::check(cano_task_complete_error(engine_, token_, code, message.c_str(), &err), err);
  }

  // Fails the attempt with a cano::error's code and message.
  void fail(const error& failure) const { fail(failure.message(), failure.code()); }

  // Fails the attempt with what `failure` holds, mapped as a thrown exception would be, except
  // that a fatal_error is an ordinary (retried) failure here: the C ABI has no fatal completion.
  void fail(std::exception_ptr failure) const {
    auto [code, message] = detail::describe_failure(std::move(failure));
    fail(message, code);
  }

  std::uint64_t token() const noexcept { return token_; }
  cano_engine* engine() const noexcept { return engine_; }

 private:
  cano_engine* engine_;
  std::uint64_t token_;
};

// What a task body receives. Valid only during the body's call; keep a completion, not the
// context, for work that outlives the call.
class task_context {
 public:
  explicit task_context(cano_task_ctx* ctx) noexcept : ctx_(ctx) {}

  // The run's resources, borrowed: valid while the run is.
  cano::resources resources() const {
    return cano::resources::borrow(cano_task_ctx_resources(ctx_));
  }

  // The 1-based attempt number.
  std::uint32_t attempt() const noexcept { return cano_task_ctx_attempt(ctx_); }
  // The run's id, unique within its engine.
  std::uint64_t run_id() const noexcept { return cano_task_ctx_run_id(ctx_); }
  // True once the attempt is abandoned (timeout, cancel, shutdown): a long worker body should
  // poll it and return early; its result is discarded anyway.
  bool cancelled() const noexcept { return cano_task_ctx_cancelled(ctx_) != 0; }

  // The state the task runs for.
  template <class State>
  State state() const noexcept {
    return detail::state_from_code<State>(cano_task_ctx_state(ctx_));
  }
  std::int32_t state_code() const noexcept { return cano_task_ctx_state(ctx_); }

  // The completion of this async attempt. Throws bad_state_error when the task is not
  // registered with task_mode::async (only async attempts have a completion token).
  template <class State>
  completion<State> complete_later() const {
    std::uint64_t token = cano_task_ctx_token(ctx_);
    if (token == 0) {
      throw bad_state_error("complete_later() needs a task registered with task_mode::async");
    }
    return completion<State>(cano_task_ctx_engine(ctx_), token);
  }

  // In the task of a split's join state, entered from that split: a view of every branch's
  // outcome (valid during this body call only, cano/cpp/split_result.hpp). Empty in every
  // other task, including later states of the same run.
  std::optional<cano::split_result> split_result() const noexcept {
    const cano_split_result* result = cano_task_ctx_split_result(ctx_);
    if (result == nullptr) return std::nullopt;
    return cano::split_result(result);
  }

  // The cursor the previous step left (cano/cpp/stepped.hpp): its bytes, borrowed and valid
  // during this body call only, or empty on a task's first step and in a task that never
  // answered cano::more(). A stepped task's retry sees the same cursor again; a task
  // registered with register_task() starts again without one on a retry. Since 0.1.0.
  std::optional<std::string_view> cursor() const noexcept {
    const void* data = nullptr;
    std::size_t len = 0;
    if (cano_task_ctx_cursor(ctx_, &data, &len) == 0) return std::nullopt;
    if (len == 0) return std::string_view();
    return std::string_view(static_cast<const char*>(data), len);
  }

  // The async completion token (0 for tasks that are not async) and the engine (borrowed).
  std::uint64_t token() const noexcept { return cano_task_ctx_token(ctx_); }
  cano_engine* engine() const noexcept { return cano_task_ctx_engine(ctx_); }

  cano_task_ctx* native() const noexcept { return ctx_; }

 private:
  cano_task_ctx* ctx_;
};

namespace detail {

// The forms of a body that answers synchronously (a split branch, a poll task): callable (as a
// non-const lvalue) with the task context, with the run's resources, or with nothing, checked
// in that order so that a generic lambda taking `auto&` gets the context. The checks stop at
// the first form that fits (std::conjunction/disjunction), because asking whether such a
// lambda takes the resources would instantiate its body with them.
template <class F>
struct plain_form {
  using takes_context = std::is_invocable<F&, task_context&>;
  using takes_resources = std::is_invocable<F&, cano::resources&>;
  using takes_nothing = std::is_invocable<F&>;
  static constexpr bool with_context = takes_context::value;
  static constexpr bool with_resources =
      std::conjunction_v<std::negation<takes_context>, takes_resources>;
  static constexpr bool bare = std::conjunction_v<std::negation<takes_context>,
                                                  std::negation<takes_resources>, takes_nothing>;
  static constexpr bool any = std::disjunction_v<takes_context, takes_resources, takes_nothing>;
};

// What F returns when called in its plain form (void when F has none, for static_asserts).
template <class F, class = void>
struct plain_result {
  using type = void;
};
template <class F>
struct plain_result<F, std::enable_if_t<plain_form<F>::with_context>> {
  using type = std::invoke_result_t<F&, task_context&>;
};
template <class F>
struct plain_result<F, std::enable_if_t<plain_form<F>::with_resources>> {
  using type = std::invoke_result_t<F&, cano::resources&>;
};
template <class F>
struct plain_result<F, std::enable_if_t<plain_form<F>::bare>> {
  using type = std::invoke_result_t<F&>;
};
template <class F>
using plain_result_t = typename plain_result<F>::type;

// Calls `body` in its plain form.
template <class F>
plain_result_t<F> invoke_plain(F& body, task_context& context) {
  if constexpr (plain_form<F>::with_context) {
    return std::invoke(body, context);
  } else if constexpr (plain_form<F>::with_resources) {
    cano::resources res = context.resources();
    return std::invoke(body, res);
  } else {
    return std::invoke(body);
  }
}

}  // namespace detail

}  // namespace cano
