// Task configuration: retry policies and their arithmetic, retries counted in real runs,
// attempt timeouts, and where each mode runs its body.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cano/cano.hpp"
#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

enum class Step { Work, Done };

cano::workflow<Step> make_workflow() {
  return cano::workflow<Step>{{Step::Work, "Work"}, {Step::Done, "Done"}};
}

TEST(CppTask, RetryPoliciesMirrorCano) {
  // TaskConfig::default(): exponential, 3 retries, 100 ms x2.
  cano::task_config defaults;
  EXPECT_EQ(defaults.max_attempts(), 4u);
  EXPECT_EQ(defaults.retry().delay_for_attempt(0), std::optional(100ms));
  EXPECT_EQ(defaults.retry().delay_for_attempt(1), std::optional(200ms));
  EXPECT_EQ(defaults.retry().delay_for_attempt(2), std::optional(400ms));
  EXPECT_EQ(defaults.retry().delay_for_attempt(3), std::nullopt);
  EXPECT_EQ(defaults.mode(), cano::task_mode::worker);
  EXPECT_FALSE(defaults.attempt_timeout().has_value());

  // TaskConfig::minimal(): one attempt.
  cano::task_config minimal = cano::task_config::minimal();
  EXPECT_EQ(minimal.max_attempts(), 1u);
  EXPECT_EQ(minimal.retry().delay_for_attempt(0), std::nullopt);

  auto fixed = cano::task_config().with_fixed_retry(2, 10ms);
  EXPECT_EQ(fixed.max_attempts(), 3u);
  EXPECT_EQ(fixed.retry().delay_for_attempt(0), std::optional(10ms));
  EXPECT_EQ(fixed.retry().delay_for_attempt(1), std::optional(10ms));
  EXPECT_EQ(fixed.retry().delay_for_attempt(2), std::nullopt);

  EXPECT_EQ(cano::task_config().with_exponential_retry(5).max_attempts(), 6u);

  // The cap applies before the jitter, and a jitter above 1 is clamped.
  auto custom = cano::retry_mode::exponential_custom(3, 100ms, 3.0, 500ms, 0.1);
  EXPECT_EQ(custom.delay_for_attempt(0, 1.0), std::optional(110ms));
  EXPECT_EQ(custom.delay_for_attempt(2, 0.0), std::optional(500ms));
  EXPECT_EQ(custom.delay_for_attempt(2, -1.0), std::optional(450ms));
  auto clamped = cano::retry_mode::exponential_custom(1, 100ms, 2.0, 1s, 7.0);
  EXPECT_EQ(clamped.delay_for_attempt(0, -1.0), std::optional(0ms));

  // Builders return modified copies.
  auto timed = minimal.with_attempt_timeout(1500us).with_name("named");
  EXPECT_EQ(timed.attempt_timeout(), std::optional(2ms));
  EXPECT_EQ(timed.name(), std::optional<std::string>("named"));
  EXPECT_FALSE(minimal.name().has_value());
}

TEST(CppTask, FixedRetryCountsAttemptsUntilSuccess) {
  std::vector<std::uint32_t> attempts;
  std::mutex mutex;
  auto workflow = make_workflow();
  workflow
      .register_task(Step::Work,
                     [&](cano::task_context& ctx) {
                       std::lock_guard<std::mutex> lock(mutex);
                       attempts.push_back(ctx.attempt());
                       if (ctx.attempt() < 3) throw std::runtime_error("not yet");
                       return Step::Done;
                     },
                     cano::task_config().with_fixed_retry(2, 0ms))
      .add_exit_state(Step::Done);
  cano::engine engine;
  EXPECT_EQ(workflow.orchestrate(engine, Step::Work), Step::Done);
  EXPECT_EQ(attempts, (std::vector<std::uint32_t>{1, 2, 3}));
}

TEST(CppTask, ExhaustedRetriesWrapTheLastError) {
  std::atomic<int> calls{0};
  auto workflow = make_workflow();
  workflow
      .register_task(Step::Work,
                     [&]() -> Step {
                       ++calls;
                       throw std::runtime_error("boom");
                     },
                     cano::task_config().with_fixed_retry(2, 1ms))
      .add_exit_state(Step::Done);
  cano::engine engine;
  try {
    workflow.orchestrate(engine, Step::Work);
    FAIL() << "no exception";
  } catch (const cano::retry_exhausted_error& e) {
    EXPECT_STREQ(e.category(), "retry_exhausted");
    EXPECT_STREQ(e.message(), "Task failed after 3 attempt(s): Task execution error: boom");
    EXPECT_EQ(e.state_name(), "Work");
    EXPECT_EQ(e.attempt(), 3u);
    std::optional<cano::error> cause = e.cause();
    ASSERT_TRUE(cause.has_value());
    EXPECT_EQ(cause->code(), CANO_E_TASK_EXECUTION);
    EXPECT_STREQ(cause->message(), "boom");
    EXPECT_THROW(cause->rethrow(), cano::task_execution_error);
  }
  EXPECT_EQ(calls.load(), 3);
}

TEST(CppTask, ModesRunOnTheirThreads) {
  cano::engine engine;
  for (cano::task_mode mode : {cano::task_mode::worker, cano::task_mode::inline_,
                               cano::task_mode::async}) {
    SCOPED_TRACE(static_cast<int>(mode));
    std::atomic<int> on_loop{-1};
    auto workflow = make_workflow();
    workflow
        .register_task(Step::Work,
                       [&on_loop](cano::task_context& ctx) {
                         on_loop = cano_engine_on_loop_thread(ctx.engine());
                         // An async body may also finish at once by returning the state.
                         return Step::Done;
                       },
                       cano::task_config::minimal().with_mode(mode))
        .add_exit_state(Step::Done);
    EXPECT_EQ(workflow.orchestrate(engine, Step::Work), Step::Done);
    // Worker bodies run on the pool; inline and async bodies start on the loop thread.
    EXPECT_EQ(on_loop.load(), mode == cano::task_mode::worker ? 0 : 1);
  }
}

TEST(CppTask, InlineTasksRetryToo) {
  std::atomic<int> calls{0};
  auto workflow = make_workflow();
  workflow
      .register_task(Step::Work,
                     [&]() -> Step {
                       if (++calls < 2) throw std::runtime_error("first");
                       return Step::Done;
                     },
                     cano::task_config()
                         .with_fixed_retry(1, 0ms)
                         .with_mode(cano::task_mode::inline_))
      .add_exit_state(Step::Done);
  cano::engine engine;
  EXPECT_EQ(workflow.orchestrate(engine, Step::Work), Step::Done);
  EXPECT_EQ(calls.load(), 2);
}

TEST(CppTask, AttemptTimeoutUnderAManualClock) {
  std::atomic<bool> started{false};
  std::atomic<bool> saw_cancel{false};
  auto workflow = make_workflow();
  workflow
      .register_task(Step::Work,
                     [&](cano::task_context& ctx) {
                       started = true;
                       // Blocks until the engine abandons the attempt, then returns late.
                       saw_cancel = cano_test::wait_until([&] { return ctx.cancelled(); });
                       return Step::Done;
                     },
                     cano::task_config::minimal().with_attempt_timeout(100ms))
      .add_exit_state(Step::Done);
  cano::engine engine(cano::engine_options().with_manual_clock(1000));
  EXPECT_EQ(engine.now(), 1000ms);
  cano::run_handle<Step> run = workflow.start(engine, Step::Work);
  // A worker attempt abandoned before a worker picked it up never starts at all, so let the
  // body start before the timeout fires.
  ASSERT_TRUE(cano_test::wait_until([&] { return started.load(); }));
  ASSERT_TRUE(cano_test::wait_until([&] { return engine.next_deadline().has_value(); }));
  EXPECT_EQ(engine.next_deadline(), std::optional(1100ms));
  engine.advance(100ms);
  try {
    run.get();
    FAIL() << "no exception";
  } catch (const cano::timeout_error& e) {
    EXPECT_STREQ(e.message(), "task attempt exceeded attempt_timeout");
  }
  EXPECT_TRUE(cano_test::wait_until([&] { return saw_cancel.load(); }));
}

}  // namespace
