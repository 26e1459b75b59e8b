// Async tasks completed from other threads, runs started without blocking, cancellation and
// shutdown.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "cano/cano.hpp"
#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;

enum class Step { Wait, Done };

cano::workflow<Step> make_workflow() {
  return cano::workflow<Step>{{Step::Wait, "Wait"}, {Step::Done, "Done"}};
}

const cano::task_config async_once =
    cano::task_config::minimal().with_mode(cano::task_mode::async);

// Threads the tasks start; joined before the engine goes, so no completion outlives it.
class thread_pool_guard {
 public:
  template <class F>
  void spawn(F&& fn) {
    std::lock_guard<std::mutex> lock(mutex_);
    threads_.emplace_back(std::forward<F>(fn));
  }
  ~thread_pool_guard() {
    for (auto& t : threads_) t.join();
  }

 private:
  std::mutex mutex_;
  std::vector<std::thread> threads_;
};

TEST(CppAsync, CompletionFromAnotherThread) {
  // The engine is declared first so that the threads are joined before it goes.
  cano::engine engine;
  thread_pool_guard threads;
  auto workflow = make_workflow();
  workflow
      .register_task(Step::Wait,
                     [&threads](cano::completion<Step> done) {
                       threads.spawn([done] {
                         std::this_thread::sleep_for(5ms);
                         done.complete(Step::Done);
                       });
                     },
                     async_once)
      .add_exit_state(Step::Done);
  EXPECT_EQ(workflow.orchestrate(engine, Step::Wait), Step::Done);
}

TEST(CppAsync, ContextCompletionAndEngineCompletion) {
  // The engine is declared first so that the threads are joined before it goes.
  cano::engine engine;
  thread_pool_guard threads;
  std::atomic<std::uint64_t> token{0};
  auto workflow = make_workflow();
  workflow
      .register_task(Step::Wait,
                     [&](cano::task_context& ctx) {
                       cano::completion<Step> later = ctx.complete_later<Step>();
                       EXPECT_EQ(later.token(), ctx.token());
                       EXPECT_NE(later.token(), 0u);
                       token = later.token();
                       // The engine's own completion call finishes the same attempt.
                       threads.spawn([&engine, t = later.token()] {
                         engine.complete(t, Step::Done);
                       });
                     },
                     async_once)
      .add_exit_state(Step::Done);
  EXPECT_EQ(workflow.orchestrate(engine, Step::Wait), Step::Done);
  // A second completion of a finished token changes nothing and is refused.
  EXPECT_THROW(engine.complete(token.load(), Step::Done), cano::bad_state_error);
}

TEST(CppAsync, SecondCompletionThrowsBadState) {
  std::promise<bool> second_refused;
  // The engine is declared first so that the threads are joined before it goes.
  cano::engine engine;
  thread_pool_guard threads;
  auto workflow = make_workflow();
  workflow
      .register_task(Step::Wait,
                     [&](cano::completion<Step> done) {
                       threads.spawn([&, done] {
                         done.complete(Step::Done);
                         try {
                           done.complete(Step::Done);
                           second_refused.set_value(false);
                         } catch (const cano::bad_state_error&) {
                           second_refused.set_value(true);
                         }
                       });
                     },
                     async_once)
      .add_exit_state(Step::Done);
  EXPECT_EQ(workflow.orchestrate(engine, Step::Wait), Step::Done);
  EXPECT_TRUE(second_refused.get_future().get());
}

TEST(CppAsync, FailuresKeepTheirCodes) {
  // The engine is declared first so that the threads are joined before it goes.
  cano::engine engine;
  thread_pool_guard threads;

  auto plain = make_workflow();
  plain
      .register_task(Step::Wait,
                     [&](cano::completion<Step> done) {
                       threads.spawn([done] { done.fail("nope"); });
                     },
                     async_once)
      .add_exit_state(Step::Done);
  try {
    plain.orchestrate(engine, Step::Wait);
    FAIL() << "no exception";
  } catch (const cano::task_execution_error& e) {
    EXPECT_STREQ(e.message(), "nope");
    EXPECT_EQ(e.attempt(), 1u);
  }

  auto typed = make_workflow();
  typed
      .register_task(Step::Wait,
                     [&](cano::completion<Step> done) {
                       threads.spawn([done] { done.fail(cano::timeout_error("late")); });
                     },
                     async_once)
      .add_exit_state(Step::Done);
  EXPECT_THROW(typed.orchestrate(engine, Step::Wait), cano::timeout_error);

  auto from_ptr = make_workflow();
  from_ptr
      .register_task(Step::Wait,
                     [&](cano::completion<Step> done) {
                       threads.spawn([done] {
                         done.fail(std::make_exception_ptr(std::runtime_error("ptr")));
                       });
                     },
                     async_once)
      .add_exit_state(Step::Done);
  try {
    from_ptr.orchestrate(engine, Step::Wait);
    FAIL() << "no exception";
  } catch (const cano::task_execution_error& e) {
    EXPECT_STREQ(e.message(), "ptr");
  }
}

TEST(CppAsync, AsyncAttemptsAreRetried) {
  // The engine is declared first so that the threads are joined before it goes.
  cano::engine engine;
  thread_pool_guard threads;
  std::atomic<int> calls{0};
  auto workflow = make_workflow();
  workflow
      .register_task(Step::Wait,
                     [&](cano::task_context& ctx) {
                       ++calls;
                       auto done = ctx.complete_later<Step>();
                       bool fail = ctx.attempt() == 1;
                       threads.spawn([done, fail] {
                         if (fail) {
                           done.fail("first attempt");
                         } else {
                           done.complete(Step::Done);
                         }
                       });
                     },
                     cano::task_config()
                         .with_fixed_retry(1, 0ms)
                         .with_mode(cano::task_mode::async))
      .add_exit_state(Step::Done);
  EXPECT_EQ(workflow.orchestrate(engine, Step::Wait), Step::Done);
  EXPECT_EQ(calls.load(), 2);
}

TEST(CppAsync, CompleteLaterOutsideAsyncModeFailsTheTask) {
  auto workflow = make_workflow();
  workflow
      .register_task(Step::Wait,
                     [](cano::task_context& ctx) {
                       ctx.complete_later<Step>();
                       return Step::Done;
                     },
                     cano::task_config::minimal())
      .add_exit_state(Step::Done);
  cano::engine engine;
  EXPECT_THROW(workflow.orchestrate(engine, Step::Wait), cano::bad_state_error);
}

TEST(CppAsync, StartWithCallbackReportsTheResult) {
  auto workflow = make_workflow();
  workflow.register_task(Step::Wait, [] { return Step::Done; }).add_exit_state(Step::Done);
  cano::engine engine;
  std::promise<cano::run_result<Step>> promise;
  std::uint64_t id = workflow.start(engine, Step::Wait, [&](cano::run_result<Step> result) {
    promise.set_value(std::move(result));
  });
  cano::run_result<Step> result = promise.get_future().get();
  EXPECT_NE(id, 0u);
  EXPECT_EQ(result.run_id(), id);
  EXPECT_TRUE(result.ok());
  EXPECT_EQ(result.state(), Step::Done);
  EXPECT_EQ(result.get(), Step::Done);
  EXPECT_FALSE(result.failure().has_value());
}

TEST(CppAsync, RunHandleReturnsOrThrows) {
  auto good = make_workflow();
  good.register_task(Step::Wait, [] { return Step::Done; }).add_exit_state(Step::Done);
  auto bad = make_workflow();
  bad.register_task(Step::Wait, []() -> Step { throw std::runtime_error("bad"); },
                    cano::task_config::minimal())
      .add_exit_state(Step::Done);
  cano::engine engine;

  auto ok_run = good.start(engine, Step::Wait);
  EXPECT_NE(ok_run.id(), 0u);
  EXPECT_EQ(ok_run.get(), Step::Done);

  auto failed = bad.start(engine, Step::Wait);
  cano::run_result<Step> result = failed.result();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.state(), Step::Wait);  // a failed run reports the state it was in
  EXPECT_EQ(result.failure()->code(), CANO_E_TASK_EXECUTION);
  EXPECT_EQ(result.failure()->run_id(), failed.id());
  EXPECT_THROW(result.get(), cano::task_execution_error);

  // A configuration error is reported at once and nothing runs.
  auto empty = make_workflow();
  EXPECT_THROW(empty.start(engine, Step::Wait), cano::configuration_error);
}

TEST(CppAsync, CancelEndsARunWithCancelledError) {
  std::atomic<bool> started{false};
  auto workflow = make_workflow();
  workflow
      .register_task(Step::Wait,
                     // Never completes: only the cancel can end this run.
                     [&](cano::completion<Step>) { started = true; }, async_once)
      .add_exit_state(Step::Done);
  cano::engine engine;
  auto run = workflow.start(engine, Step::Wait);
  ASSERT_TRUE(cano_test::wait_until([&] { return started.load(); }));
  run.cancel();
  EXPECT_THROW(run.get(), cano::cancelled_error);
  EXPECT_THROW(engine.cancel(run.id()), cano::not_found_error);
}

TEST(CppAsync, ShutdownEndsRunsInFlight) {
  std::atomic<bool> started{false};
  auto workflow = make_workflow();
  workflow
      .register_task(Step::Wait, [&](cano::completion<Step>) { started = true; }, async_once)
      .add_exit_state(Step::Done);
  cano::engine engine;
  auto run = workflow.start(engine, Step::Wait);
  ASSERT_TRUE(cano_test::wait_until([&] { return started.load(); }));
  EXPECT_EQ(engine.runs_in_flight(), 1u);
  engine.shutdown();
  engine.shutdown();  // idempotent
  EXPECT_THROW(run.get(), cano::shutdown_error);
  EXPECT_THROW(workflow.start(engine, Step::Wait), cano::shutdown_error);
}

}  // namespace
