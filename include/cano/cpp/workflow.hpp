// cano/cpp/workflow.hpp - cano::workflow<State>, a state machine over an enum class.
//
//   enum class Step { Fetch, Process, Done };
//   cano::workflow<Step> wf{resources, {{Step::Fetch, "Fetch"}, {Step::Process, "Process"},
//                                       {Step::Done, "Done"}}};
//   wf.register_task(Step::Fetch, FetchTask{})
//       .register_task(Step::Process, ProcessTask{})
//       .add_exit_state(Step::Done);
//   Step final_state = wf.orchestrate(engine, Step::Fetch);
//
// A workflow without resources (cano's Workflow::bare()) takes only the names:
//   cano::workflow<Step> wf{{Step::Compute, "Compute"}, {Step::Done, "Done"}};
//
// Tasks are lambdas or function objects, callable (as non-const lvalues) in one of these forms:
//   State(cano::task_context&)     the full context (resources, attempt, run id, cancelled)
//   State(cano::resources&)        cano's run(&Resources)
//   State()                        cano's run_bare()
//   void(cano::task_context&)      async only: finish later with ctx.complete_later<State>()
//   void(cano::completion<State>)  async only: finish later with the completion
// Where State is returned, cano::step_result<State> may be too: cano::more(cursor) calls the
// body again at once with that cursor (task_context::cursor()), within the same attempt
// (cano/cpp/stepped.hpp).
// A task object may be called concurrently by different runs (cano's `&self`): give it no
// unsynchronised mutable state. It is destroyed exactly once, when the workflow and its last
// run are gone. An exception leaving a task fails the attempt (and so is retried under the
// task's retry policy): a cano::error keeps its code and message, any other std::exception
// becomes task_execution_error with what().
//
// An async task may also be told when a pending attempt is abandoned, so that it can stop the
// work it started: give its config an on-cancel hook (task_config::with_on_cancel), which gets
// the attempt's token on the loop thread.
//
// Beyond plain tasks, a state may hold a router (register_router: a task that only picks the
// next state), a poll task (register_poll: "wait until", cano/cpp/poll.hpp), a stepped task
// (register_stepped: resumable work one step at a time, cano/cpp/stepped.hpp), a timer task
// (register_timer: wait, then run, cano/cpp/timer.hpp), a batch task (register_batch: load
// items, process each under a concurrency limit, finish with every outcome,
// cano/cpp/batch.hpp) or a split (register_split: branches in parallel, then a join state,
// cano/cpp/split.hpp). Throwing cano::fatal_error from any of them fails the task without
// retries (cano's panic).
//
// A workflow is a handle: copies share one definition. Its first run freezes it; the builder
// members then throw bad_state_error. Build it on one thread; once frozen, any thread may run
// it concurrently.
//
// Since 0.1.0.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <future>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "cano/batch.h"
#include "cano/poll.h"
#include "cano/run.h"
#include "cano/split.h"
#include "cano/stepped.h"
#include "cano/timer.h"
#include "cano/workflow.h"
#include "cano/cpp/batch.hpp"
#include "cano/cpp/detail/native_object.hpp"
#include "cano/cpp/engine.hpp"
#include "cano/cpp/error.hpp"
#include "cano/cpp/poll.hpp"
#include "cano/cpp/resources.hpp"
#include "cano/cpp/run.hpp"
#include "cano/cpp/split.hpp"
#include "cano/cpp/state.hpp"
#include "cano/cpp/stepped.hpp"
#include "cano/cpp/string_ref.hpp"
#include "cano/cpp/task.hpp"
#include "cano/cpp/timer.hpp"

namespace cano {

namespace detail {

// Which of the task forms a callable F has; the checks run in order, so a generic lambda
// taking `auto&` is called with the task context.
template <class State, class F>
struct task_form {
  static constexpr bool with_context = std::is_invocable_v<F&, task_context&>;
  static constexpr bool with_completion =
      !with_context && std::is_invocable_v<F&, completion<State>>;
  static constexpr bool with_resources =
      !with_context && !with_completion && std::is_invocable_v<F&, resources&>;
  static constexpr bool bare =
      !with_context && !with_completion && !with_resources && std::is_invocable_v<F&>;
};

// True when F finishes its attempt later (returns void): such a task must be async.
template <class State, class F>
constexpr bool is_deferred_task() {
  using form = task_form<State, F>;
  if constexpr (form::with_context) {
    return std::is_void_v<std::invoke_result_t<F&, task_context&>>;
  } else {
    return form::with_completion;
  }
}

// Records what a task returned as the body call's result: a state (or a step_result that is
// done) as the next state, a step_result with more as the next step's cursor.
template <class State, class Result>
cano_status next_state(cano_task_ctx* ctx, Result&& result) {
  if constexpr (std::is_convertible_v<Result, State>) {
    return cano_task_ctx_next(ctx, state_code(static_cast<State>(std::forward<Result>(result))));
  } else {
    static_assert(std::is_convertible_v<Result, step_result<State>>,
                  "cano: a task must return the workflow's state type or "
                  "cano::step_result<State>");
    return answer_step<State>(ctx, step_result<State>(std::forward<Result>(result)));
  }
}

// Calls a task in its form and turns an escaping exception into the attempt's failure, since
// no exception may cross into the library.
template <class State, class F>
cano_status call_task(cano_task_ctx* ctx, F& task) noexcept {
  using form = task_form<State, F>;
  try {
    task_context context(ctx);
    if constexpr (form::with_context) {
      if constexpr (is_deferred_task<State, F>()) {
        std::invoke(task, context);
        return CANO_PENDING;
      } else {
        return next_state<State>(ctx, std::invoke(task, context));
      }
    } else if constexpr (form::with_completion) {
      std::invoke(task, context.complete_later<State>());
      return CANO_PENDING;
    } else if constexpr (form::with_resources) {
      cano::resources res = context.resources();
      return next_state<State>(ctx, std::invoke(task, res));
    } else {
      static_assert(form::bare,
                    "cano: a task must be callable as State(cano::task_context&), "
                    "State(cano::resources&), State(), void(cano::task_context&) or "
                    "void(cano::completion<State>)");
      return next_state<State>(ctx, std::invoke(task));
    }
  } catch (...) {
    return fail_attempt(ctx, std::current_exception());
  }
}

// The C body of every C++ task registered with register_task() or register_router(): its user
// data is a task_holder<F>.
template <class State, class F>
cano_status run_task(cano_task_ctx* ctx, void* user_data) noexcept {
  return call_task<State, F>(ctx, static_cast<task_holder<F>*>(user_data)->body);
}

// The C body of a poll task: one call of F, answered with a next state or a re-poll delay.
template <class State, class F>
cano_status run_poll(cano_task_ctx* ctx, void* user_data) noexcept {
  F& body = *static_cast<F*>(user_data);
  try {
    task_context context(ctx);
    poll_result<State> answer = invoke_plain(body, context);
    if (answer.is_ready()) return cano_task_ctx_next(ctx, state_code(answer.next()));
    return cano_task_ctx_poll_again(ctx, static_cast<std::uint64_t>(answer.delay().count()));
  } catch (...) {
    return fail_attempt(ctx, std::current_exception());
  }
}

// Which form a stepped body F with cursor type Cursor has: with the context and the cursor, or
// with the cursor only (checked in that order, stopping at the first that fits).
template <class F, class Cursor>
struct stepped_form {
  using takes_context = std::is_invocable<F&, task_context&, std::optional<Cursor>>;
  using takes_cursor = std::is_invocable<F&, std::optional<Cursor>>;
  static constexpr bool with_context = takes_context::value;
  static constexpr bool any = std::disjunction_v<takes_context, takes_cursor>;
};

template <class F, class Cursor, class = void>
struct stepped_result {
  using type = void;
};
template <class F, class Cursor>
struct stepped_result<F, Cursor, std::enable_if_t<stepped_form<F, Cursor>::with_context>> {
  using type = std::invoke_result_t<F&, task_context&, std::optional<Cursor>>;
};
template <class F, class Cursor>
struct stepped_result<F, Cursor,
                      std::enable_if_t<!stepped_form<F, Cursor>::with_context &&
                                       stepped_form<F, Cursor>::any>> {
  using type = std::invoke_result_t<F&, std::optional<Cursor>>;
};

// The C body of a stepped task: decodes the cursor the previous step left, calls F, and
// answers with another step or the next state.
template <class State, class Cursor, class F>
cano_status run_stepped(cano_task_ctx* ctx, void* user_data) noexcept {
  F& body = *static_cast<F*>(user_data);
  try {
    task_context context(ctx);
    std::optional<Cursor> cursor;
    if (std::optional<std::string_view> bytes = context.cursor()) {
      cursor.emplace(cursor_codec<Cursor>::decode(*bytes));
    }
    if constexpr (stepped_form<F, Cursor>::with_context) {
      return next_state<State>(ctx, std::invoke(body, context, std::move(cursor)));
    } else {
      return next_state<State>(ctx, std::invoke(body, std::move(cursor)));
    }
  } catch (...) {
    return fail_attempt(ctx, std::current_exception());
  }
}

// The C body of a timer task: the body F of its timer_task, called as a task.
template <class State, class F>
cano_status run_timer_body(cano_task_ctx* ctx, void* user_data) noexcept {
  return call_task<State, F>(ctx, static_cast<timer_task<F>*>(user_data)->body);
}

// The C completion callback of workflow::start(): builds the run_result and hands it over. An
// exception escaping the user's callback terminates the program (the callback runs on the
// loop thread, where nothing could handle it), as one escaping a std::thread would.
template <class State, class F>
void run_done(std::uint64_t run_id, cano_status status, std::int32_t final_state,
              const cano_error* failure, void* user_data) noexcept {
  std::unique_ptr<F> callback(static_cast<F*>(user_data));
  std::optional<cano::error> err;
  if (status < 0) {
    cano_error* copy = failure != nullptr ? cano_error_clone(failure) : nullptr;
    if (copy != nullptr) {
      err.emplace(adopt, copy);
    } else {
      // Cloning failed for lack of memory: keep at least the code and the message.
      err.emplace(status,
                  failure != nullptr ? cano_error_message(failure) : cano_status_name(status));
    }
  }
  (*callback)(run_result<State>(run_id, state_from_code<State>(final_state), std::move(err)));
}

}  // namespace detail

template <class State>
class workflow {
  static_assert(std::is_enum_v<State>, "cano::workflow<State>: State must be an enum type");

 public:
  using state_type = State;
  using state_name = std::pair<State, const char*>;

  // A resource-free workflow (cano's Workflow::bare()) with the given state names.
  workflow(std::initializer_list<state_name> names) : workflow(nullptr, names) {}
  workflow() : workflow(nullptr, {}) {}

  // A workflow over `res` (shared with the caller) with the given state names.
  explicit workflow(const cano::resources& res, std::initializer_list<state_name> names = {})
      : workflow(res.native(), names) {}

  // cano's Workflow::bare(), spelled as in cano.
  static workflow bare(std::initializer_list<state_name> names = {}) { return workflow(names); }

  // Declares one state: its code is the enum's value, its name must be unique and non-empty.
  // Throws configuration_error (already declared), invalid_argument_error, bad_state_error.
  workflow& add_state(State state, string_ref name) {
    cano_error* err = nullptr;
    detail::check(cano_workflow_add_state(native(), detail::state_code(state), name.c_str(), &err),
                  err);
    return *this;
  }

  // Registers `task` (copied or moved into the workflow) for a declared state, replacing any
  // previous one. A task that returns cano::step_result<State> may step: its whole step loop
  // is one attempt (one attempt timeout for all the steps; a retry starts again without a
  // cursor). With task_mode::async, config's on-cancel hook (task_config::with_on_cancel) is
  // told, on the loop thread, the token of every pending attempt that is abandoned (its attempt
  // timeout, a cancelled or timed-out run, shutdown); the workflow keeps a copy of the hook
  // with the task and destroys both together. Throws configuration_error (state not declared,
  // or a task that finishes later registered without task_mode::async), bad_state_error
  // (frozen).
  template <class F>
  workflow& register_task(State state, F&& task, const task_config& config = task_config()) {
    return register_with(&cano_workflow_register, state, std::forward<F>(task), config);
  }

  // Registers a router for a declared state (cano's register_router with a RouterTask): a
  // side-effect-free task that only picks the next state. It takes the same task forms, modes
  // and config as register_task() and runs the same way; its default config is cano's
  // TaskConfig::default() (retries!), as RouterTask's is. The difference is that a router
  // state will write no checkpoint row and take no sequence number once checkpoints exist.
  // Same ownership rules, threads and errors as register_task(). Since 0.1.0.
  template <class F>
  workflow& register_router(State state, F&& router, const task_config& config = task_config()) {
    return register_with(&cano_workflow_register_router, state, std::forward<F>(router), config);
  }

  // Registers a poll task ("wait until", cano's PollTask) for a declared state, replacing any
  // previous task. `poll` is callable (as a non-const lvalue) as R(cano::task_context&),
  // R(cano::resources&) or R(), where R converts to cano::poll_result<State>: return
  // cano::ready(next) when what it waits for is ready, cano::pending(delay) to be called again
  // after `delay` on an engine timer (no thread is held meanwhile; see cano/cpp/poll.hpp).
  //
  // The whole wait is one attempt: config's attempt timeout bounds it, and its retries restart
  // it. A poll task's default retry policy is cano's PollTask::config(), TaskConfig::minimal()
  // (one attempt): a config whose retry policy was left at the default (task_config() without
  // with_retry) means one attempt here, as CANO_RETRY_DEFAULT does in the C ABI and in the
  // other bindings; with_exponential_retry(3) is TaskConfig::default() itself.
  // `policy` decides what an exception thrown by the body does:
  // poll_policy::fail_fast() (the default) fails the attempt, poll_policy::retry_on_error(n)
  // re-polls at once up to n errors in a row.
  //
  // The poll object is moved or copied into the workflow, may be called concurrently by
  // different runs (one call at a time per run) and is destroyed exactly once, when the
  // workflow and its last run are gone (at once if registering fails). The body runs inline on
  // the loop thread (keep it short) or on a worker, as config's mode says. Build on one thread.
  // Throws configuration_error (state not declared, or task_mode::async: a poll task answers
  // each call at once), bad_state_error (frozen). Since 0.1.0.
  template <class F>
  workflow& register_poll(State state, F&& poll, const poll_policy& policy = poll_policy(),
                          const task_config& config = task_config::minimal()) {
    using stored = std::decay_t<F>;
    static_assert(detail::plain_form<stored>::any,
                  "cano: a poll task must be callable as R(cano::task_context&), "
                  "R(cano::resources&) or R(), with R convertible to cano::poll_result<State>");
    static_assert(std::is_convertible_v<detail::plain_result_t<stored>, poll_result<State>>,
                  "cano: a poll task must return cano::poll_result<State> (cano::ready(state) "
                  "or cano::pending(delay))");
    if (config.mode() == task_mode::async) {
      throw configuration_error("a poll task answers every call at once: register it with "
                                "task_mode::worker or task_mode::inline_, not task_mode::async");
    }
    auto owned = std::make_unique<stored>(std::forward<F>(poll));
    cano_task_options options = CANO_TASK_OPTIONS_INIT;
    config.apply(options);
    options.run = &detail::run_poll<State, stored>;
    options.user_data = owned.get();
    options.destroy = &detail::delete_object<stored>;
    // From the call on the workflow owns the poll object, even when registering fails.
    owned.release();
    cano_error* err = nullptr;
    detail::check(cano_workflow_register_poll(native(), detail::state_code(state), &options,
                                              &policy.native(), &err),
                  err);
    return *this;
  }

  // register_poll() with the fail_fast() policy and `config`.
  template <class F>
  workflow& register_poll(State state, F&& poll, const task_config& config) {
    return register_poll(state, std::forward<F>(poll), poll_policy(), config);
  }

  // Registers a stepped task for a declared state (cano's StepTask, spec section 3.4),
  // replacing any previous task: resumable iterative work, one step at a time.
  // `step` is callable (as a non-const lvalue) as R(cano::task_context&, std::optional<Cursor>)
  // or R(std::optional<Cursor>), where R converts to cano::step_result<State>: each call gets
  // the cursor the previous step left (empty on the first step of each entry into the state)
  // and returns cano::more(cursor) for another step or cano::done(next) (or just a state) to
  // finish. Cursor defaults to std::string_view, the cursor's bytes, borrowed and valid during
  // the call only; another type goes through cano::cursor_codec<Cursor> (register_stepped<int>
  // hands the body a std::optional<int>; see cano/cpp/stepped.hpp). A cursor that does not
  // decode fails that step's attempt.
  //
  // Each step is its own attempt loop: config's retry policy and attempt timeout apply to every
  // step anew (task_context::attempt() restarts at 1 for each step), a retry calls the body
  // again with the same cursor, and a step that fails for good fails the task (retry_exhausted
  // "Task failed after N attempt(s): ..." for that step, or the raw error with one attempt).
  // The default config is cano's TaskConfig::default(), per step.
  //
  // The step object is moved or copied into the workflow, may be called concurrently by
  // different runs (one step at a time per run) and is destroyed exactly once, when the
  // workflow and its last run are gone (at once if registering fails). The body runs inline on
  // the loop thread (keep steps short: a long run of inline steps yields the loop now and then)
  // or on a worker, one worker call per step, as config's mode says. Build on one thread.
  // Throws configuration_error (state not declared, or task_mode::async: a step answers at
  // once), bad_state_error (frozen). Since 0.1.0.
  template <class Cursor = std::string_view, class F>
  workflow& register_stepped(State state, F&& step, const task_config& config = task_config()) {
    using stored = std::decay_t<F>;
    static_assert(detail::stepped_form<stored, Cursor>::any,
                  "cano: a stepped task must be callable as R(cano::task_context&, "
                  "std::optional<Cursor>) or R(std::optional<Cursor>)");
    static_assert(std::is_convertible_v<typename detail::stepped_result<stored, Cursor>::type,
                                        step_result<State>>,
                  "cano: a stepped task must return cano::step_result<State> (cano::more(cursor) "
                  "or cano::done(state)) or a state");
    if (config.mode() == task_mode::async) {
      throw configuration_error("a stepped task answers every step at once: register it with "
                                "task_mode::worker or task_mode::inline_, not task_mode::async");
    }
    auto owned = std::make_unique<stored>(std::forward<F>(step));
    cano_task_options options = CANO_TASK_OPTIONS_INIT;
    config.apply(options);
    options.run = &detail::run_stepped<State, Cursor, stored>;
    options.user_data = owned.get();
    options.destroy = &detail::delete_object<stored>;
    // From the call on the workflow owns the step object, even when registering fails.
    owned.release();
    cano_error* err = nullptr;
    detail::check(
        cano_workflow_register_stepped(native(), detail::state_code(state), &options, &err), err);
    return *this;
  }

  // Registers a timer task for a declared state (cano's TimerTask, spec section 15), replacing
  // any previous task: each attempt first waits as `when` says (cano::timer::after(delay),
  // cano::timer::until(clock_reading) or cano::timer::wait(callable); cano/cpp/timer.hpp) on
  // an engine timer, holding no thread, then calls `body`, which picks the next state. `body`
  // takes the same forms and modes as register_task()'s (async included) and may return
  // cano::step_result<State> the same way.
  //
  // config's attempt timeout bounds the wait and the body together (expiry during the wait
  // fails the attempt without calling the body), and its retries wait again before each new
  // attempt. A timer task's default retry policy is cano's TaskConfig::minimal(), one attempt:
  // a config whose retry policy was left at the default (task_config() without with_retry)
  // means one attempt here, as CANO_RETRY_DEFAULT does in the C ABI and the other bindings.
  //
  // When an async body's pending attempt is abandoned, config's on-cancel hook is told its
  // token, as for register_task() (an attempt abandoned during its wait has started no body,
  // so it is not told).
  //
  // `body`, a copy of `when`'s wait callable and a copy of config's on-cancel hook are moved or
  // copied into the workflow and destroyed exactly once, when the workflow and its last run are
  // gone (at once if registering fails); different runs may call them concurrently. The wait
  // callable runs on the loop thread; the body runs as config's mode says. Build on one thread.
  // Throws configuration_error (state not declared, or a body that finishes later registered
  // without task_mode::async), bad_state_error (frozen), std::bad_alloc. Since 0.1.0.
  template <class F>
  workflow& register_timer(State state, F&& body, const timer& when,
                           const task_config& config = task_config::minimal()) {
    using stored = std::decay_t<F>;
    if (detail::is_deferred_task<State, stored>() && config.mode() != task_mode::async) {
      throw configuration_error("a task that finishes later (returns void) must be registered "
                                "with task_mode::async");
    }
    using holder = detail::timer_task<stored>;
    auto owned = std::make_unique<holder>(
        holder{std::forward<F>(body), when.wait_callable(), config.on_cancel()});
    cano_task_options options = CANO_TASK_OPTIONS_INIT;
    config.apply(options);
    options.run = &detail::run_timer_body<State, stored>;
    options.user_data = owned.get();
    options.destroy = &detail::delete_object<holder>;
    if (config.on_cancel()) options.cancel = &detail::run_cancel<holder>;
    cano_timer_options timer_options = when.native();
    if (when.has_wait()) timer_options.wait = &detail::run_timer_wait<stored>;
    // From the call on the workflow owns the task, even when registering fails.
    owned.release();
    cano_error* err = nullptr;
    detail::check(cano_workflow_register_timer(native(), detail::state_code(state), &options,
                                               &timer_options, &err),
                  err);
    return *this;
  }

  // Registers a batch task for a declared state (cano's BatchTask, spec section 3.3; see
  // cano/cpp/batch.hpp), replacing any previous task. Each attempt calls
  //   `load`, as std::vector<Item>(cano::task_context&), std::vector<Item>(cano::resources&)
  //       or std::vector<Item>(), for the items;
  //   `process_item`, as Output(cano::task_context&, Item) or Output(Item), once per item, at
  //       most batch.concurrency() at a time, each item with batch.item_retry()'s attempts
  //       (task_context::attempt() counts the item's attempts); Output may be void;
  //   `finish`, as State(cano::task_context&, cano::batch_results<Output>),
  //       State(cano::resources&, cano::batch_results<Output>) or
  //       State(cano::batch_results<Output>), with every item's output or error in input order,
  //       which picks the next state.
  // Items and outputs are encoded with cano::cursor_codec (Item and Output must have one). An
  // exception from process_item fails that item only (its raw last error reaches finish); a
  // cano::fatal_error from it fails the attempt at once and for good; an exception from load or
  // finish fails the attempt, and config's retries (cano's TaskConfig::default() by default,
  // as BatchTask's config()) run load, the items and finish again. config's attempt timeout
  // bounds the whole attempt.
  //
  // The three callables are moved or copied into one object the workflow owns; it is destroyed
  // exactly once, when the workflow and its last run are gone (at once if registering fails).
  // They may be called concurrently: process_item for several items of one run (on workers),
  // all three by different runs; give them no unsynchronised mutable state. They run on
  // workers or inline on the loop thread, as config's mode says. Build on one thread. Throws
  // configuration_error (state not declared, or task_mode::async, which a batch task cannot
  // use), bad_state_error (frozen), std::bad_alloc. Since 0.1.0.
  template <class Load, class Process, class Finish>
  workflow& register_batch(State state, Load&& load, Process&& process_item, Finish&& finish,
                           const batch_config& batch = batch_config(),
                           const task_config& config = task_config()) {
    using holder =
        detail::batch_task<State, std::decay_t<Load>, std::decay_t<Process>, std::decay_t<Finish>>;
    if (config.mode() == task_mode::async) {
      throw configuration_error(
          "a batch task hands its items and outputs back at once: register it with "
          "task_mode::worker or task_mode::inline_, not task_mode::async");
    }
    auto owned = std::make_unique<holder>(holder{std::forward<Load>(load),
                                                 std::forward<Process>(process_item),
                                                 std::forward<Finish>(finish)});
    cano_task_options options = CANO_TASK_OPTIONS_INIT;
    config.apply(options);
    options.run = &detail::run_batch_finish<State, holder>;
    options.user_data = owned.get();
    options.destroy = &detail::delete_object<holder>;
    cano_batch_options batch_options = batch.native();
    batch_options.load = &detail::run_batch_load<holder>;
    batch_options.process_item = &detail::run_batch_item<holder>;
    // From the call on the workflow owns the bodies, even when registering fails.
    owned.release();
    cano_error* err = nullptr;
    detail::check(cano_workflow_register_batch(native(), detail::state_code(state), &options,
                                               &batch_options, &err),
                  err);
    return *this;
  }

  // register_batch() with cano's default batch_config (one item at a time, no item retries)
  // and `config`. Same ownership rules, threads and errors. Since 0.1.0.
  template <class Load, class Process, class Finish>
  workflow& register_batch(State state, Load&& load, Process&& process_item, Finish&& finish,
                           const task_config& config) {
    return register_batch(state, std::forward<Load>(load), std::forward<Process>(process_item),
                          std::forward<Finish>(finish), batch_config(), config);
  }

  // Registers a split state (cano's register_split with a JoinConfig): every branch starts at
  // once (at most how.bulkhead() at a time), and when `how` is satisfied the run moves to
  // `join_state`, whose task reads each branch's status, value and error through
  // task_context::split_result(). Branches are callables with their own task_config
  // (cano/cpp/split.hpp); `branches` may be empty. Replaces any previous task of `state`.
  //
  // Ownership: each registered branch shares its callable with the given cano::branch objects
  // (see cano::branch), so `branches` may be destroyed or reused at once; each also keeps a
  // copy of its config's on-cancel hook. Threads: build on one thread; branches run on workers,
  // inline or async, as their configs say, concurrently with each other; an async branch that
  // loses is told through its config's on-cancel hook on the loop thread. The join is checked
  // by validate() (and the first run): configuration_error "Split join_state J is neither
  // registered nor an exit state", and the strategy checks listed at cano::join. Throws
  // configuration_error (state not declared, or a branch registered with task_mode::async that
  // cannot finish later, i.e. is not void(cano::task_context&): one that answers by returning
  // cannot be async), bad_state_error (frozen), std::bad_alloc. Since 0.1.0.
  workflow& register_split(State state, const std::vector<branch>& branches, const join& how,
                           State join_state) {
    for (const branch& b : branches) {
      if (b.config().mode() == task_mode::async && !b.can_finish_later()) {
        throw configuration_error(
            "a split branch that answers by returning cannot be task_mode::async: register it "
            "with task_mode::worker or task_mode::inline_, or make it void(cano::task_context&) "
            "and finish it through task_context::complete_later()");
      }
    }
    std::vector<cano_task_options> options;
    options.reserve(branches.size());
    try {
      for (const branch& b : branches) options.push_back(b.native_options());
    } catch (...) {
      for (cano_task_options& made : options) made.destroy(made.user_data);
      throw;
    }
    cano_join_options join_options = how.native();
    join_options.join_state = detail::state_code(join_state);
    // From the call on the library owns every branch's reference, even when registering fails.
    cano_error* err = nullptr;
    detail::check(cano_workflow_register_split(native(), detail::state_code(state),
                                               options.data(), options.size(), &join_options,
                                               &err),
                  err);
    return *this;
  }

  // Marks a declared state as an exit state. Throws configuration_error, bad_state_error.
  workflow& add_exit_state(State state) {
    cano_error* err = nullptr;
    detail::check(cano_workflow_add_exit_state(native(), detail::state_code(state), &err), err);
    return *this;
  }
  workflow& add_exit_states(std::initializer_list<State> states) {
    for (State state : states) add_exit_state(state);
    return *this;
  }

  // cano's with_timeout: a wall-clock limit for each run's state machine; expiry fails the run
  // with workflow_error "Workflow timeout exceeded". Throws bad_state_error.
  template <class Rep, class Period>
  workflow& with_timeout(std::chrono::duration<Rep, Period> timeout) {
    auto ms = std::chrono::ceil<std::chrono::milliseconds>(timeout).count();
    cano_error* err = nullptr;
    detail::check(cano_workflow_set_timeout(native(), ms < 0 ? 0 : static_cast<std::uint64_t>(ms),
                                            &err),
                  err);
    return *this;
  }

  // cano's validate() and validate_initial_state(): throw configuration_error.
  void validate() const {
    cano_error* err = nullptr;
    detail::check(cano_workflow_validate(native(), &err), err);
  }
  void validate_initial_state(State state) const {
    cano_error* err = nullptr;
    detail::check(
        cano_workflow_validate_initial_state(native(), detail::state_code(state), &err), err);
  }

  // The name declared for `state`, or "" when it is not declared.
  std::string name_of(State state) const {
    const char* name = cano_workflow_state_name(native(), detail::state_code(state));
    return name == nullptr ? std::string() : std::string(name);
  }

  // The state named `name`. Throws not_found_error.
  State state_named(string_ref name) const {
    std::int32_t code = 0;
    cano_error* err = nullptr;
    detail::check(cano_workflow_state_code(&code, native(), name.c_str(), &err), err);
    return detail::state_from_code<State>(code);
  }

  // The workflow's resources (an empty set for a bare workflow), alive while this handle is.
  cano::resources resources() const {
    return cano::resources(workflow_, cano_workflow_resources(native()));
  }

  // cano's orchestrate(): runs from `initial` and blocks until the run ends. Returns the exit
  // state; throws the run's error (configuration_error before anything runs, the task's error,
  // retry_exhausted_error, timeout_error, workflow_error, cancelled_error, shutdown_error ...).
  // Throws wrong_thread_error on the engine's loop thread, where it would wait on itself.
  State orchestrate(engine& eng, State initial) const {
    std::int32_t final_state = 0;
    cano_error* err = nullptr;
    detail::check(
        cano_run_wait(&final_state, eng.native(), native(), detail::state_code(initial), &err),
        err);
    return detail::state_from_code<State>(final_state);
  }

  // Starts a run and returns its id at once. `on_done(run_result<State>)` is called exactly
  // once, on the loop thread, after the run's resources were released; it must not throw and
  // should be quick. Throws configuration_error (nothing runs), shutdown_error; then `on_done`
  // is destroyed uncalled.
  template <class F>
  std::uint64_t start(engine& eng, State initial, F&& on_done) const {
    using stored = std::decay_t<F>;
    static_assert(std::is_invocable_v<stored&, run_result<State>>,
                  "cano: the callback of start() must be callable with cano::run_result<State>");
    auto owned = std::make_unique<stored>(std::forward<F>(on_done));
    std::uint64_t run_id = 0;
    cano_error* err = nullptr;
    cano_status status =
        cano_run_start(&run_id, eng.native(), native(), detail::state_code(initial),
                       &detail::run_done<State, stored>, owned.get(), &err);
    detail::check(status, err);
    // Started: the completion callback owns the callable and deletes it after calling it.
    owned.release();
    return run_id;
  }

  // Starts a run and returns a handle to wait for it. Same errors as start() with a callback.
  run_handle<State> start(engine& eng, State initial) const {
    auto promise = std::make_shared<std::promise<run_result<State>>>();
    std::future<run_result<State>> future = promise->get_future();
    std::uint64_t run_id = start(eng, initial, [promise](run_result<State> result) {
      promise->set_value(std::move(result));
    });
    return run_handle<State>(eng.native(), run_id, std::move(future));
  }

  // The C handle, borrowed for the life of this handle.
  cano_workflow* native() const noexcept { return workflow_.get(); }

 private:
  workflow(cano_resources* res, std::initializer_list<state_name> names) {
    cano_workflow* created = nullptr;
    cano_error* err = nullptr;
    detail::check(cano_workflow_create(&created, res, &err), err);
    workflow_.reset(created, &cano_workflow_destroy);
    for (const state_name& name : names) add_state(name.first, name.second);
  }

  using registrar = cano_status (*)(cano_workflow*, std::int32_t, const cano_task_options*,
                                    cano_error**);

  // register_task() and register_router(): the same task forms and ownership rules, through
  // the C registration function `reg`.
  template <class F>
  workflow& register_with(registrar reg, State state, F&& task, const task_config& config) {
    using stored = std::decay_t<F>;
    if (detail::is_deferred_task<State, stored>() && config.mode() != task_mode::async) {
      throw configuration_error("a task that finishes later (returns void) must be registered "
                                "with task_mode::async");
    }
    using holder = detail::task_holder<stored>;
    auto owned = std::make_unique<holder>(holder{std::forward<F>(task), config.on_cancel()});
    cano_task_options options = CANO_TASK_OPTIONS_INIT;
    config.apply(options);
    options.run = &detail::run_task<State, stored>;
    options.user_data = owned.get();
    options.destroy = &detail::delete_object<holder>;
    if (config.on_cancel()) options.cancel = &detail::run_cancel<holder>;
    // From the call on the workflow owns the task, even when registering fails.
    owned.release();
    cano_error* err = nullptr;
    detail::check(reg(native(), detail::state_code(state), &options, &err), err);
    return *this;
  }

  std::shared_ptr<cano_workflow> workflow_;
};

}  // namespace cano
