// cano/cpp/split.hpp - split states: branches that run in parallel, and how they are joined.
//
// A split state (workflow<State>::register_split) runs its branches at once, at most
// `bulkhead` at a time when one is set, and moves the run to its join state when the join
// strategy is satisfied (cano 0.13, spec section 4; cano/split.h):
//
//   wf.register_split(Step::Fan,
//                     {[](cano::task_context&) { return std::string("a"); },
//                      cano::branch([] { check(); }, cano::task_config::minimal()),
//                      [](cano::resources& res) { res.get<Api>("api").ping(); }},
//                     cano::join::quorum(2).with_timeout(std::chrono::seconds(5)), Step::Join);
//   wf.register_task(Step::Join, [](cano::task_context& ctx) {
//     auto split = ctx.split_result();  // every branch's status, value and error
//     return Step::Done;
//   });
//
// A branch is a lambda or function object, callable (as a non-const lvalue) with the task
// context, with the run's resources, or with nothing, that returns
//   void                        success without a value
//   std::string (or anything convertible to std::string_view, e.g. a string literal)
//   std::vector<std::uint8_t>   success with that value, read back by the join state's task
// It succeeds when it returns and fails when it throws (a cano::error keeps its code and
// message, any other std::exception becomes task_execution_error with what()); each branch has
// its own task_config (retries, attempt timeout, worker or inline mode, name). A thrown
// cano::fatal_error ends that branch's retries at once. Branches that lose (an early exit or
// the split timeout) are cancelled: a long worker body should poll task_context::cancelled().
// The branch's own value is ignored for the next state, which is always the join state.
//
// A branch of the form void(cano::task_context&) may also be registered with task_mode::async:
// it then starts work and finishes later, from any thread, through
// ctx.complete_later<State>() (complete() with any state succeeds without a value, as the
// state is ignored; fail() fails the attempt). When such a branch loses, its config's
// on-cancel hook (task_config::with_on_cancel) is told the abandoned attempt's token on the
// loop thread, so that it can stop its work:
//
//   cano::branch(
//       [&jobs](cano::task_context& ctx) { jobs.start(ctx.complete_later<Step>()); },
//       cano::task_config::minimal()
//           .with_mode(cano::task_mode::async)
//           .with_on_cancel([&jobs](std::uint64_t token) { jobs.stop(token); }))
//
// A failed join fails the run with workflow_error and cano's texts, e.g. "Join condition not
// met: 1 of 3 tasks completed successfully, strategy: Quorum(2); errors: task 1: Task execution
// error: boom", "Partial results condition not met: ...", "PartialTimeout: No tasks completed
// before timeout" or "Split task timeout exceeded".
//
// Since 0.1.0.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "cano/split.h"
#include "cano/task.h"
#include "cano/cpp/detail/native_object.hpp"
#include "cano/cpp/error.hpp"
#include "cano/cpp/resources.hpp"
#include "cano/cpp/split_result.hpp"
#include "cano/cpp/task.hpp"

namespace cano {

// cano's JoinStrategy (cano_join_strategy). Since 0.1.0.
enum class join_strategy {
  all = CANO_JOIN_ALL,                          // every branch succeeded; waits for all
  any = CANO_JOIN_ANY,                          // one succeeded; ends at the first success
  quorum = CANO_JOIN_QUORUM,                    // at least count() succeeded; waits for all
  percentage = CANO_JOIN_PERCENTAGE,            // at least ceil(total * fraction()) succeeded
  partial_results = CANO_JOIN_PARTIAL_RESULTS,  // count() succeeded; ends as soon as they have
  partial_timeout = CANO_JOIN_PARTIAL_TIMEOUT   // one branch completed by the split timeout
};

// cano's JoinConfig without its join state (register_split takes that as its own argument): a
// strategy, an optional split timeout and an optional bulkhead. A plain value type whose
// builders return a modified copy, like task_config:
//
//   cano::join::any().with_timeout(std::chrono::seconds(2)).with_bulkhead(4)
//
// The strategy's arguments are checked by workflow<State>::validate() (and so by the first
// run), in cano's order and words: "PartialTimeout strategy requires a timeout to be
// configured", "Percentage strategy requires a finite value in (0.0, 1.0], got P".
// Since 0.1.0.
class join {
 public:
  // JoinStrategy::All, the default.
  join() noexcept = default;

  static join all() noexcept { return join(CANO_JOIN_ALL, 0, 0.0); }
  static join any() noexcept { return join(CANO_JOIN_ANY, 0, 0.0); }
  // At least `n` branches succeeded; waits for every branch. quorum(0) always succeeds, and a
  // quorum above the number of branches always fails.
  static join quorum(std::uint32_t n) noexcept { return join(CANO_JOIN_QUORUM, n, 0.0); }
  // At least ceil(branches * fraction) succeeded, with `fraction` in (0, 1]; waits for all.
  static join percentage(double fraction) noexcept {
    return join(CANO_JOIN_PERCENTAGE, 0, fraction);
  }
  // At least `min` branches succeeded; ends (cancelling the rest) as soon as they have.
  static join partial_results(std::uint32_t min) noexcept {
    return join(CANO_JOIN_PARTIAL_RESULTS, min, 0.0);
  }
  // Succeeds when at least one branch completed, successfully or not, by the split timeout
  // (which it requires: add with_timeout()).
  static join partial_timeout() noexcept { return join(CANO_JOIN_PARTIAL_TIMEOUT, 0, 0.0); }

  // The split timeout, counted from the moment the branches start (bulkhead queueing counts):
  // when it passes, the branches still running are cancelled and, under every strategy but
  // partial_timeout, the run fails with workflow_error "Split task timeout exceeded". Rounds
  // up to whole milliseconds; zero or negative means none.
  template <class Rep, class Period>
  [[nodiscard]] join with_timeout(std::chrono::duration<Rep, Period> timeout) const {
    join copy = *this;
    auto ms = std::chrono::ceil<std::chrono::milliseconds>(timeout).count();
    copy.options_.timeout_ms = ms <= 0 ? 0 : static_cast<std::uint64_t>(ms);
    return copy;
  }
  // The same as with_timeout(): `cano::join::all().timeout(1s)`.
  template <class Rep, class Period>
  [[nodiscard]] join timeout(std::chrono::duration<Rep, Period> timeout) const {
    return with_timeout(timeout);
  }

  // At most `permits` branches run at once; a branch holds its slot through its retries.
  // Throws configuration_error "bulkhead requires a positive permit count, got 0" (cano's text)
  // for 0, which the C ABI cannot express.
  [[nodiscard]] join with_bulkhead(std::uint32_t permits) const {
    if (permits == 0) {
      throw configuration_error("bulkhead requires a positive permit count, got 0");
    }
    join copy = *this;
    copy.options_.bulkhead = permits;
    return copy;
  }
  // The same as with_bulkhead(): `cano::join::all().bulkhead(2)`.
  [[nodiscard]] join bulkhead(std::uint32_t permits) const { return with_bulkhead(permits); }

  // The strategy, its argument, the split timeout (empty: none) and the bulkhead (empty: no
  // limit), as given to the builders.
  join_strategy strategy() const noexcept {
    return static_cast<join_strategy>(options_.strategy);
  }
  // quorum's n or partial_results' minimum; 0 for the other strategies.
  std::uint32_t count() const noexcept { return options_.count; }
  // percentage's fraction; 0 for the other strategies.
  double fraction() const noexcept { return options_.percentage; }
  std::optional<std::chrono::milliseconds> timeout() const noexcept {
    if (options_.timeout_ms == 0) return std::nullopt;
    return std::chrono::milliseconds(static_cast<std::int64_t>(options_.timeout_ms));
  }
  std::optional<std::uint32_t> bulkhead() const noexcept {
    if (options_.bulkhead == 0) return std::nullopt;
    return options_.bulkhead;
  }

  // The C options (join_state left at 0: register_split fills it in).
  const cano_join_options& native() const noexcept { return options_; }

 private:
  join(cano_join_strategy strategy, std::uint32_t count, double fraction) noexcept {
    options_.strategy = strategy;
    options_.count = count;
    options_.percentage = fraction;
  }

  cano_join_options options_ = CANO_JOIN_OPTIONS_INIT;
};

namespace detail {

// True for the types a branch may return (see the file comment).
template <class R>
constexpr bool is_branch_value() {
  if constexpr (std::is_void_v<R>) {
    return true;
  } else {
    using value = std::remove_cv_t<std::remove_reference_t<R>>;
    return std::is_same_v<value, std::vector<std::uint8_t>> ||
           std::is_convertible_v<const value&, std::string_view>;
  }
}

// Leaves a branch's value for the join state's task (copied by the library).
inline void set_branch_value(cano_task_ctx* ctx, const void* data, std::size_t len) {
  cano_status status = cano_task_ctx_set_value(ctx, data, len);
  if (status < 0) throw_error(status, nullptr);
}

// The user data of one registered branch: a reference to the shared callable and the branch
// config's on-cancel hook (empty when none).
struct branch_ref {
  std::shared_ptr<void> body;
  task_config::cancel_hook on_cancel;
};

// True for a branch that can finish later when registered with task_mode::async: one of the
// form void(cano::task_context&), which can take its completion from the context.
template <class F>
constexpr bool is_deferred_branch() {
  if constexpr (plain_form<F>::with_context) {
    return std::is_void_v<plain_result_t<F>>;
  } else {
    return false;
  }
}

// The C body of an async branch: starts the work and leaves the attempt pending; the body
// finishes it later through its completion.
template <class F>
cano_status run_async_branch(cano_task_ctx* ctx, void* user_data) noexcept {
  F& body = *static_cast<F*>(static_cast<branch_ref*>(user_data)->body.get());
  try {
    task_context context(ctx);
    std::invoke(body, context);
    return CANO_PENDING;
  } catch (...) {
    return fail_attempt(ctx, std::current_exception());
  }
}

// The async body of a branch F: run_async_branch<F> when F can finish later, NULL otherwise
// (so that run_async_branch is instantiated only for the forms it can call).
template <class F>
constexpr cano_task_fn async_branch_body() noexcept {
  if constexpr (is_deferred_branch<F>()) {
    return &run_async_branch<F>;
  } else {
    return nullptr;
  }
}

// The C body of every C++ branch that answers by returning: user_data is a branch_ref that
// holds the F.
template <class F>
cano_status run_branch(cano_task_ctx* ctx, void* user_data) noexcept {
  F& body = *static_cast<F*>(static_cast<branch_ref*>(user_data)->body.get());
  try {
    task_context context(ctx);
    using result = plain_result_t<F>;
    if constexpr (std::is_void_v<result>) {
      invoke_plain(body, context);
    } else {
      auto&& value = invoke_plain(body, context);
      using value_type = std::remove_cv_t<std::remove_reference_t<decltype(value)>>;
      if constexpr (std::is_same_v<value_type, std::vector<std::uint8_t>>) {
        set_branch_value(ctx, value.data(), value.size());
      } else if constexpr (std::is_pointer_v<value_type>) {
        // A C string; NULL is read as "", as string_ref does.
        std::string_view text = value == nullptr ? std::string_view() : std::string_view(value);
        set_branch_value(ctx, text.data(), text.size());
      } else {
        std::string_view text(value);
        set_branch_value(ctx, text.data(), text.size());
      }
    }
    // Choosing a next state is optional for a branch: the split always goes to its join state.
    return CANO_OK;
  } catch (...) {
    return fail_attempt(ctx, std::current_exception());
  }
}

}  // namespace detail

// One branch of a split state: a callable (see the file comment) and its task_config.
// Implicitly made from a callable, so a braced list of lambdas is a std::vector<branch>; spell
// cano::branch(f, config) to give a branch its own retries, timeout, mode, name or on-cancel
// hook (the default config is cano's TaskConfig::default(), as each split task's own config()
// is in cano).
//
// Ownership: the callable is moved or copied into one heap object shared by the branch's
// copies and by every split it is registered in; it is destroyed once, after the last of them
// is gone (the workflows that hold it and their last runs included). It may be called
// concurrently, by different runs and, when the same branch appears twice, by one split: give
// it no unsynchronised mutable state. Building a branch throws std::bad_alloc only.
// Since 0.1.0.
class branch {
 public:
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, branch>>>
  branch(F&& body, task_config config = task_config())  // NOLINT: implicit on purpose
      : body_(std::make_shared<std::decay_t<F>>(std::forward<F>(body))),
        run_(&detail::run_branch<std::decay_t<F>>),
        run_later_(detail::async_branch_body<std::decay_t<F>>()),
        config_(std::move(config)) {
    using stored = std::decay_t<F>;
    static_assert(detail::plain_form<stored>::any,
                  "cano: a split branch must be callable as R(cano::task_context&), "
                  "R(cano::resources&) or R()");
    static_assert(detail::is_branch_value<detail::plain_result_t<stored>>(),
                  "cano: a split branch must return void, std::string (or a string view or "
                  "literal) or std::vector<std::uint8_t>");
  }

  // The branch's retries, attempt timeout, mode, name and on-cancel hook.
  const task_config& config() const noexcept { return config_; }

  // True when the callable has the form void(cano::task_context&), so that the branch may be
  // registered with task_mode::async and finish later through ctx.complete_later<State>();
  // register_split() refuses an async branch for which this is false. Any thread.
  // Since 0.1.0.
  bool can_finish_later() const noexcept { return run_later_ != nullptr; }

  // A copy of this branch (sharing its callable) with another config.
  [[nodiscard]] branch with_config(task_config config) const {
    branch copy = *this;
    copy.config_ = std::move(config);
    return copy;
  }

  // The C options of this branch, with a new reference to the callable (and a copy of the
  // config's on-cancel hook, whose C callback is set when the hook is not empty) as user_data
  // and its release as the destroy hook: the caller owns that reference and must hand it to the
  // library or call options.destroy(options.user_data). With task_mode::async, a branch that
  // can_finish_later() gets the body that leaves its attempt pending. The name stays borrowed
  // from this branch. Throws std::bad_alloc only.
  cano_task_options native_options() const {
    cano_task_options options = CANO_TASK_OPTIONS_INIT;
    config_.apply(options);
    options.run = config_.mode() == task_mode::async && run_later_ != nullptr ? run_later_ : run_;
    options.user_data = new detail::branch_ref{body_, config_.on_cancel()};
    options.destroy = &detail::delete_object<detail::branch_ref>;
    if (config_.on_cancel()) options.cancel = &detail::run_cancel<detail::branch_ref>;
    return options;
  }

 private:
  std::shared_ptr<void> body_;
  cano_task_fn run_;
  cano_task_fn run_later_;
  task_config config_;
};

}  // namespace cano
