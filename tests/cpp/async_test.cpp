// Async tasks completed from other threads, runs started without blocking, cancellation and
// shutdown; and the on-cancel hook (task_config::with_on_cancel) that abandoned async attempts
// are told through: a timed-out attempt, a losing async split branch, a cancelled run, shutdown,
// a timer's async body; never a completed attempt or a task that is not async.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
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

// What an on-cancel hook was told, and the tokens of the attempts that started.
struct cancel_log {
  std::mutex mutex;
  std::vector<std::uint64_t> started;
  std::vector<std::uint64_t> told;
  std::atomic<int> told_off_loop{0};

  void start(std::uint64_t token) {
    std::lock_guard<std::mutex> lock(mutex);
    started.push_back(token);
  }
  std::size_t started_count() {
    std::lock_guard<std::mutex> lock(mutex);
    return started.size();
  }
  std::size_t told_count() {
    std::lock_guard<std::mutex> lock(mutex);
    return told.size();
  }
  // A hook that records its token and whether it ran on `engine`'s loop thread.
  cano::task_config::cancel_hook hook(cano::engine& engine) {
    return [this, &engine](std::uint64_t token) {
      if (!engine.on_loop_thread()) ++told_off_loop;
      std::lock_guard<std::mutex> lock(mutex);
      told.push_back(token);
    };
  }
};

TEST(CppAsyncCancel, ConfigKeepsTheHook) {
  cano::task_config plain;
  EXPECT_FALSE(static_cast<bool>(plain.on_cancel()));
  int calls = 0;
  std::uint64_t seen = 0;
  auto with_token = plain.with_on_cancel([&](std::uint64_t token) {
    ++calls;
    seen = token;
  });
  EXPECT_FALSE(static_cast<bool>(plain.on_cancel())) << "builders return a modified copy";
  ASSERT_TRUE(static_cast<bool>(with_token.on_cancel()));
  with_token.on_cancel()(42);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(seen, 42u);
  // A hook without the token is called all the same.
  auto bare = plain.with_on_cancel([&] { ++calls; });
  bare.on_cancel()(7);
  EXPECT_EQ(calls, 2);
  // Other builders keep the hook; an empty cancel_hook removes it.
  EXPECT_TRUE(static_cast<bool>(with_token.with_mode(cano::task_mode::async)
                                    .with_fixed_retry(1, 0ms)
                                    .with_name("n")
                                    .on_cancel()));
  EXPECT_FALSE(
      static_cast<bool>(with_token.with_on_cancel(cano::task_config::cancel_hook()).on_cancel()));
}

TEST(CppAsyncCancel, ATimedOutAttemptIsToldItsTokenAndTheCompletedOneIsNot) {
  cano::engine engine(cano::engine_options().with_manual_clock());
  cancel_log log;
  auto workflow = make_workflow();
  workflow
      .register_task(
          Step::Wait,
          [&log](cano::task_context& ctx) { log.start(ctx.complete_later<Step>().token()); },
          cano::task_config()
              .with_fixed_retry(1, 0ms)
              .with_attempt_timeout(100ms)
              .with_mode(cano::task_mode::async)
              .with_on_cancel(log.hook(engine)))
      .add_exit_state(Step::Done);
  auto run = workflow.start(engine, Step::Wait);
  ASSERT_TRUE(cano_test::wait_until([&] { return log.started_count() == 1; }));
  EXPECT_EQ(log.told_count(), 0u) << "a pending attempt is not told before it is abandoned";
  engine.advance(100ms);
  // Attempt 1 is told; attempt 2 starts and is still pending, so it is not.
  ASSERT_TRUE(
      cano_test::wait_until([&] { return log.told_count() == 1 && log.started_count() == 2; }));
  std::uint64_t first = 0;
  std::uint64_t second = 0;
  {
    std::lock_guard<std::mutex> lock(log.mutex);
    first = log.started[0];
    second = log.started[1];
    EXPECT_EQ(log.told[0], first);
    EXPECT_NE(first, second);
  }
  // A completion of the told attempt is still accepted and ignored.
  EXPECT_NO_THROW(engine.complete(first, Step::Done));
  engine.complete(second, Step::Done);
  EXPECT_EQ(run.get(), Step::Done);
  engine.shutdown();
  EXPECT_EQ(log.told_count(), 1u) << "the completed attempt is never told";
  EXPECT_EQ(log.told_off_loop.load(), 0) << "the hook runs on the loop thread";
}

enum class Fan { Split, Join, Done };

TEST(CppAsyncCancel, LosingAsyncSplitBranchesAreToldAndTheWinnerIsNot) {
  // The engine is declared first so that the threads are joined before it goes.
  auto engine = std::make_unique<cano::engine>();
  std::optional<thread_pool_guard> threads;
  threads.emplace();
  cancel_log winner;
  cancel_log losers;
  auto async_config = cano::task_config::minimal().with_mode(cano::task_mode::async);
  // The winner finishes from another thread once both losers have started, so that the split
  // ends with losers pending (Any ends at the first success).
  cano::branch wins(
      [&](cano::task_context& ctx) {
        cano::completion<Fan> done = ctx.complete_later<Fan>();
        winner.start(done.token());
        threads->spawn([&losers, done] {
          cano_test::wait_until([&] { return losers.started_count() == 2; });
          done.complete(Fan::Join);  // the state is ignored: a split goes to its join state
        });
      },
      async_config.with_on_cancel(winner.hook(*engine)));
  cano::branch loses(
      [&losers](cano::task_context& ctx) { losers.start(ctx.complete_later<Fan>().token()); },
      async_config.with_on_cancel(losers.hook(*engine)));
  EXPECT_TRUE(wins.can_finish_later());
  std::vector<std::string> statuses;
  cano::workflow<Fan> workflow{{Fan::Split, "Split"}, {Fan::Join, "Join"}, {Fan::Done, "Done"}};
  workflow.register_split(Fan::Split, {wins, loses, loses}, cano::join::any(), Fan::Join)
      .register_task(Fan::Join,
                     [&statuses](cano::task_context& ctx) {
                       auto split = ctx.split_result();
                       for (std::size_t i = 0; split && i < split->size(); ++i) {
                         cano::branch_status status = split->status(i);
                         statuses.push_back(status == cano::branch_status::succeeded   ? "ok"
                                            : status == cano::branch_status::cancelled ? "cancelled"
                                                                                       : "failed");
                         EXPECT_FALSE(split->value(i).has_value()) << "async branches leave none";
                       }
                       return Fan::Done;
                     })
      .add_exit_state(Fan::Done);
  EXPECT_EQ(workflow.orchestrate(*engine, Fan::Split), Fan::Done);
  EXPECT_EQ(statuses, (std::vector<std::string>{"ok", "cancelled", "cancelled"}));
  ASSERT_TRUE(cano_test::wait_until([&] { return losers.told_count() == 2; }));
  {
    std::lock_guard<std::mutex> lock(losers.mutex);
    std::vector<std::uint64_t> told = losers.told;
    std::vector<std::uint64_t> started = losers.started;
    std::sort(told.begin(), told.end());
    std::sort(started.begin(), started.end());
    EXPECT_EQ(told, started) << "each loser is told its own token";
  }
  threads.reset();
  engine.reset();  // nothing else is told, not even at shutdown
  EXPECT_EQ(winner.told_count(), 0u);
  EXPECT_EQ(losers.told_count(), 2u);
  EXPECT_EQ(losers.told_off_loop.load(), 0);
}

TEST(CppAsyncCancel, AnAsyncBranchThatAnswersByReturningIsStillRefused) {
  cano::workflow<Fan> workflow{{Fan::Split, "Split"}, {Fan::Join, "Join"}};
  auto async_config = cano::task_config::minimal().with_mode(cano::task_mode::async);
  cano::branch returns_value([](cano::task_context&) { return std::string("v"); }, async_config);
  cano::branch bare([] {}, async_config);
  EXPECT_FALSE(returns_value.can_finish_later());
  EXPECT_FALSE(bare.can_finish_later()) << "without the context it has no completion";
  for (const cano::branch& b : {returns_value, bare}) {
    try {
      workflow.register_split(Fan::Split, {b}, cano::join::all(), Fan::Join);
      FAIL() << "no exception";
    } catch (const cano::configuration_error& e) {
      EXPECT_NE(std::string(e.message()).find("task_mode::async"), std::string::npos)
          << e.message();
    }
  }
}

TEST(CppAsyncCancel, AsyncBranchesSucceedAndFailThroughTheirCompletions) {
  // The engine is declared first so that the threads are joined before it goes.
  cano::engine engine;
  thread_pool_guard threads;
  auto async_config = cano::task_config::minimal().with_mode(cano::task_mode::async);
  cano::branch ok(
      [&threads](cano::task_context& ctx) {
        threads.spawn([done = ctx.complete_later<Fan>()] { done.complete(Fan::Done); });
      },
      async_config);
  cano::branch fails(
      [&threads](cano::task_context& ctx) {
        threads.spawn([done = ctx.complete_later<Fan>()] { done.fail("remote said no"); });
      },
      async_config);
  cano::workflow<Fan> workflow{{Fan::Split, "Split"}, {Fan::Join, "Join"}, {Fan::Done, "Done"}};
  workflow.register_split(Fan::Split, {ok, fails}, cano::join::all(), Fan::Join)
      .register_task(Fan::Join, [] { return Fan::Done; })
      .add_exit_state(Fan::Done);
  try {
    workflow.orchestrate(engine, Fan::Split);
    FAIL() << "no exception";
  } catch (const cano::workflow_error& e) {
    EXPECT_NE(std::string(e.message()).find("1 of 2 tasks completed successfully"),
              std::string::npos)
        << e.message();
    EXPECT_NE(std::string(e.message()).find("remote said no"), std::string::npos) << e.message();
  }
}

TEST(CppAsyncCancel, CancellingARunTellsItsPendingAttemptOnTheLoopThread) {
  std::atomic<int> told{0};
  std::atomic<bool> on_loop{false};
  std::atomic<std::uint64_t> token{0};
  cano::engine engine;
  auto workflow = make_workflow();
  workflow
      .register_task(
          Step::Wait, [&token](cano::completion<Step> done) { token = done.token(); },
          async_once.with_on_cancel([&] {  // the hook without the token
            on_loop = engine.on_loop_thread();
            ++told;
          }))
      .add_exit_state(Step::Done);
  auto run = workflow.start(engine, Step::Wait);
  ASSERT_TRUE(cano_test::wait_until([&] { return token.load() != 0; }));
  run.cancel();
  EXPECT_THROW(run.get(), cano::cancelled_error);
  ASSERT_TRUE(cano_test::wait_until([&] { return told.load() == 1; }));
  EXPECT_TRUE(on_loop.load());
}

TEST(CppAsyncCancel, ShutdownTellsPendingAttemptsBeforeItReturns) {
  cano::engine engine;
  cancel_log log;
  auto workflow = make_workflow();
  workflow
      .register_task(
          Step::Wait, [&log](cano::completion<Step> done) { log.start(done.token()); },
          async_once.with_on_cancel(log.hook(engine)))
      .add_exit_state(Step::Done);
  auto first = workflow.start(engine, Step::Wait);
  auto second = workflow.start(engine, Step::Wait);
  ASSERT_TRUE(cano_test::wait_until([&] { return log.started_count() == 2; }));
  engine.shutdown();
  EXPECT_THROW(first.get(), cano::shutdown_error);
  EXPECT_THROW(second.get(), cano::shutdown_error);
  EXPECT_EQ(log.told_count(), 2u);
}

TEST(CppAsyncCancel, ATimerTasksAsyncBodyIsToldWhenItsAttemptTimesOut) {
  cano::engine engine(cano::engine_options().with_manual_clock());
  cancel_log log;
  auto workflow = make_workflow();
  workflow
      .register_timer(
          Step::Wait, [&log](cano::completion<Step> done) { log.start(done.token()); },
          cano::timer::after(10ms),
          async_once.with_attempt_timeout(50ms).with_on_cancel(log.hook(engine)))
      .add_exit_state(Step::Done);
  auto run = workflow.start(engine, Step::Wait);
  ASSERT_TRUE(cano_test::drive_to_end(engine, run));
  EXPECT_THROW(run.get(), cano::timeout_error);
  ASSERT_TRUE(cano_test::wait_until([&] { return log.told_count() == 1; }));
  std::lock_guard<std::mutex> lock(log.mutex);
  ASSERT_EQ(log.started.size(), 1u);
  EXPECT_EQ(log.told[0], log.started[0]);
}

TEST(CppAsyncCancel, CompletedAttemptsAndOtherModesAreNeverTold) {
  auto counter = std::make_shared<cano_test::lifetime_counter>();
  std::atomic<int> told{0};
  {
    // The engine is declared first so that the threads are joined before it goes.
    cano::engine engine;
    thread_pool_guard threads;
    auto hook = [&told, t = cano_test::tracked(counter)](std::uint64_t) { ++told; };

    // An async attempt that completes from another thread.
    auto completes = make_workflow();
    completes
        .register_task(
            Step::Wait,
            [&threads](cano::completion<Step> done) {
              threads.spawn([done] { done.complete(Step::Done); });
            },
            async_once.with_on_cancel(hook))
        .add_exit_state(Step::Done);
    EXPECT_EQ(completes.orchestrate(engine, Step::Wait), Step::Done);

    // A worker whose config carries the hook and whose attempt times out: worker bodies watch
    // task_context::cancelled() instead.
    auto worker = make_workflow();
    worker
        .register_task(
            Step::Wait,
            [](cano::task_context& ctx) {
              cano_test::wait_until([&] { return ctx.cancelled(); });
              return Step::Done;
            },
            cano::task_config::minimal().with_attempt_timeout(20ms).with_on_cancel(hook))
        .add_exit_state(Step::Done);
    EXPECT_THROW(worker.orchestrate(engine, Step::Wait), cano::timeout_error);
    // The registrations keep their own copies of the hook (and the caller's is alive too).
    EXPECT_EQ(counter->alive(), 3);
    engine.shutdown();
    EXPECT_EQ(told.load(), 0);
  }
  EXPECT_EQ(told.load(), 0);
  EXPECT_EQ(counter->alive(), 0) << "each registration's copy went with its task";
}

}  // namespace
