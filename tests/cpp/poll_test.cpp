// Poll tasks, routers and fatal failures through the C++ wrapper: re-polling on engine timers
// (timed with the manual clock), both error policies, the attempt timeout bounding the whole
// wait, the default and explicit retry configs; register_router with RouterTask's default
// retries; cano::fatal_error never retried, from every kind of task.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "cano/cano.hpp"
#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using cano_test::lifetime_counter;
using cano_test::tracked;

enum class Step { Wait, Left, Right, Done };

cano::workflow<Step> make_workflow() {
  cano::workflow<Step> wf{{Step::Wait, "Wait"}, {Step::Left, "Left"}, {Step::Right, "Right"},
                          {Step::Done, "Done"}};
  wf.add_exit_states({Step::Left, Step::Right, Step::Done});
  return wf;
}

// A poll body driven by a script, one letter per call: 'p' = pending 100 ms, 'z' = pending 0,
// 'e' = throws, 'f' = throws cano::fatal_error, 'r' = ready. Records the clock at every call.
struct scripted_poll {
  struct shared {
    std::mutex mutex;
    std::vector<std::int64_t> calls;  // clock readings (ms) of every call
  };
  std::string script;
  std::shared_ptr<shared> log = std::make_shared<shared>();

  cano::poll_result<Step> operator()(cano::task_context& ctx) const {
    std::size_t n;
    {
      std::lock_guard<std::mutex> lock(log->mutex);
      n = log->calls.size();
      log->calls.push_back(static_cast<std::int64_t>(cano_engine_clock_now(ctx.engine())));
    }
    char step = n < script.size() ? script[n] : script.back();
    switch (step) {
      case 'p': return cano::pending(100ms);
      case 'z': return cano::pending(0ms);
      case 'e': throw std::runtime_error("flaky");
      case 'f': throw cano::fatal_error("broken");
      default: return Step::Done;
    }
  }

  std::vector<std::int64_t> calls() const {
    std::lock_guard<std::mutex> lock(log->mutex);
    return log->calls;
  }
};

// Runs `wf` from Step::Wait on a manual-clock engine to its end.
cano::run_result<Step> drive(cano::workflow<Step>& wf, cano::engine& engine) {
  cano::run_handle<Step> run = wf.start(engine, Step::Wait);
  EXPECT_TRUE(cano_test::drive_to_end(engine, run));
  return run.result();
}

TEST(CppPollResult, ReadyAndPending) {
  cano::poll_result<Step> ready = cano::ready(Step::Done);
  EXPECT_TRUE(ready.is_ready());
  EXPECT_EQ(ready.next(), Step::Done);
  cano::poll_result<Step> implicit = Step::Left;
  EXPECT_TRUE(implicit.is_ready());
  EXPECT_EQ(implicit.next(), Step::Left);
  EXPECT_EQ(cano::poll_result<Step>::ready(Step::Right).next(), Step::Right);

  cano::poll_result<Step> pending = cano::pending(250ms);
  EXPECT_FALSE(pending.is_ready());
  EXPECT_EQ(pending.delay(), 250ms);
  // Finer than a millisecond rounds up; negative means "at once".
  EXPECT_EQ(cano::poll_result<Step>::pending(1500us).delay(), 2ms);
  EXPECT_EQ(cano::poll_result<Step>(cano::pending(-5s)).delay(), 0ms);
  EXPECT_EQ(cano::pending(std::chrono::seconds(1)).delay, 1000ms);
}

TEST(CppPollPolicy, FailFastAndRetryOnError) {
  EXPECT_FALSE(cano::poll_policy().retries_on_error());
  EXPECT_FALSE(cano::poll_policy::fail_fast().retries_on_error());
  EXPECT_EQ(cano::poll_policy::fail_fast().native().policy, CANO_POLL_FAIL_FAST);
  auto retrying = cano::poll_policy::retry_on_error(3);
  EXPECT_TRUE(retrying.retries_on_error());
  EXPECT_EQ(retrying.max_errors(), 3u);
  EXPECT_EQ(retrying.native().policy, CANO_POLL_RETRY_ON_ERROR);
  EXPECT_EQ(retrying.native().max_errors, 3u);
}

class CppPollModes : public ::testing::TestWithParam<cano::task_mode> {};

TEST_P(CppPollModes, RepollsAfterEachDelayUntilReady) {
  scripted_poll poll{"pppr"};
  auto wf = make_workflow();
  wf.register_poll(Step::Wait, poll, cano::task_config::minimal().with_mode(GetParam()));
  cano::engine engine(cano::engine_options().with_manual_clock(1000));
  auto result = drive(wf, engine);
  ASSERT_TRUE(result.ok()) << result.failure()->what();
  EXPECT_EQ(result.state(), Step::Done);
  EXPECT_EQ(poll.calls(), (std::vector<std::int64_t>{1000, 1100, 1200, 1300}));
}

INSTANTIATE_TEST_SUITE_P(Modes, CppPollModes,
                         ::testing::Values(cano::task_mode::inline_, cano::task_mode::worker),
                         [](const ::testing::TestParamInfo<cano::task_mode>& info) {
                           return std::string(info.param == cano::task_mode::inline_ ? "Inline"
                                                                                     : "Worker");
                         });

TEST(CppPoll, ZeroDelayRepollsWithoutMovingTheClock) {
  scripted_poll poll{"zzr"};
  auto wf = make_workflow();
  wf.register_poll(Step::Wait, poll);
  cano::engine engine(cano::engine_options().with_manual_clock(500));
  auto result = drive(wf, engine);
  ASSERT_TRUE(result.ok()) << result.failure()->what();
  EXPECT_EQ(poll.calls(), (std::vector<std::int64_t>{500, 500, 500}));
}

TEST(CppPoll, NoThreadIsHeldWhileItWaits) {
  scripted_poll poll{"pr"};
  auto wf = make_workflow();
  wf.register_poll(Step::Wait, poll);
  cano::engine engine(cano::engine_options().with_manual_clock(0));
  cano::run_handle<Step> run = wf.start(engine, Step::Wait);
  // The run now waits on a timer 100 ms ahead, and nothing happens until the clock moves.
  ASSERT_TRUE(cano_test::wait_until([&] { return engine.next_deadline().has_value(); }));
  EXPECT_EQ(engine.next_deadline(), std::optional(100ms));
  EXPECT_FALSE(run.wait_for(20ms));
  EXPECT_EQ(poll.calls().size(), 1u);
  engine.advance(99ms);
  EXPECT_EQ(poll.calls().size(), 1u);
  engine.advance(1ms);
  EXPECT_EQ(run.get(), Step::Done);
  EXPECT_EQ(poll.calls(), (std::vector<std::int64_t>{0, 100}));
}

TEST(CppPoll, FailFastEndsAtTheFirstErrorWithOneAttempt) {
  scripted_poll poll{"pper"};
  auto wf = make_workflow();
  wf.register_poll(Step::Wait, poll, cano::poll_policy::fail_fast());
  cano::engine engine(cano::engine_options().with_manual_clock());
  auto result = drive(wf, engine);
  ASSERT_FALSE(result.ok());
  // minimal() by default: the raw error, not retry_exhausted.
  EXPECT_THROW(result.get(), cano::task_execution_error);
  EXPECT_STREQ(result.failure()->message(), "flaky");
  EXPECT_EQ(result.failure()->state_name(), "Wait");
  EXPECT_EQ(poll.calls().size(), 3u);
}

TEST(CppPoll, RetryOnErrorForgivesUpToMaxErrorsInARow) {
  cano::engine engine(cano::engine_options().with_manual_clock());
  {
    // Two errors, a pending (resets the count), two errors, ready. Errors re-poll at once.
    scripted_poll poll{"eepeer"};
    auto wf = make_workflow();
    wf.register_poll(Step::Wait, poll, cano::poll_policy::retry_on_error(2));
    auto result = drive(wf, engine);
    ASSERT_TRUE(result.ok()) << result.failure()->what();
    auto calls = poll.calls();
    ASSERT_EQ(calls.size(), 6u);
    EXPECT_EQ(calls[1], calls[0]) << "no delay after an error";
    EXPECT_EQ(calls[3], calls[2] + 100);
  }
  {
    scripted_poll poll{"eeer"};
    auto wf = make_workflow();
    wf.register_poll(Step::Wait, poll, cano::poll_policy::retry_on_error(2));
    auto result = drive(wf, engine);
    ASSERT_FALSE(result.ok()) << "the third error in a row is one too many";
    EXPECT_STREQ(result.failure()->message(), "flaky");
    EXPECT_EQ(poll.calls().size(), 3u);
  }
  {
    scripted_poll poll{"er"};
    auto wf = make_workflow();
    wf.register_poll(Step::Wait, poll, cano::poll_policy::retry_on_error(0));
    auto result = drive(wf, engine);
    EXPECT_FALSE(result.ok()) << "retry_on_error(0) fails at the first error";
    EXPECT_EQ(poll.calls().size(), 1u);
  }
}

TEST(CppPoll, AttemptTimeoutBoundsTheWholeWaitAndRetriesRestartIt) {
  scripted_poll poll{"p"};  // never ready
  auto wf = make_workflow();
  // Inline, so that each poll has run before the test moves the clock on to the next timer
  // (with a worker body the attempt timer could be fired while a re-poll is still queued).
  wf.register_poll(Step::Wait, poll,
                   cano::task_config()
                       .with_fixed_retry(1, 0ms)
                       .with_attempt_timeout(250ms)
                       .with_mode(cano::task_mode::inline_));
  cano::engine engine(cano::engine_options().with_manual_clock());
  auto result = drive(wf, engine);
  ASSERT_FALSE(result.ok());
  EXPECT_THROW(result.get(), cano::retry_exhausted_error);
  EXPECT_STREQ(result.failure()->message(),
               "Task failed after 2 attempt(s): Timeout error: task attempt exceeded "
               "attempt_timeout");
  // Polls at 0, 100, 200 in each attempt; the second attempt starts at 250.
  EXPECT_EQ(poll.calls(), (std::vector<std::int64_t>{0, 100, 200, 250, 350, 450}));
}

TEST(CppPoll, DefaultRetryMeansOneAttemptAndExplicitRetriesApply) {
  cano::engine engine(cano::engine_options().with_manual_clock().with_random_seed(7));
  {
    // A retry policy left at the default is PollTask's minimal(), as in the C ABI.
    scripted_poll poll{"e"};
    auto wf = make_workflow();
    wf.register_poll(Step::Wait, poll, cano::task_config().with_attempt_timeout(1s));
    auto result = drive(wf, engine);
    ASSERT_FALSE(result.ok());
    EXPECT_THROW(result.get(), cano::task_execution_error);
    EXPECT_STREQ(result.failure()->message(), "flaky");
    EXPECT_EQ(poll.calls().size(), 1u);
  }
  {
    // TaskConfig::default() spelled out: 3 exponential retries.
    scripted_poll poll{"e"};
    auto wf = make_workflow();
    wf.register_poll(Step::Wait, poll, cano::task_config().with_exponential_retry(3));
    auto result = drive(wf, engine);
    ASSERT_FALSE(result.ok());
    EXPECT_THROW(result.get(), cano::retry_exhausted_error);
    EXPECT_STREQ(result.failure()->message(),
                 "Task failed after 4 attempt(s): Task execution error: flaky");
    EXPECT_EQ(poll.calls().size(), 4u);
  }
}

TEST(CppPoll, FatalErrorIsNeverRetriedNorForgiven) {
  cano::engine engine(cano::engine_options().with_manual_clock());
  {
    scripted_poll poll{"pf"};
    auto wf = make_workflow();
    wf.register_poll(Step::Wait, poll, cano::task_config().with_fixed_retry(3, 0ms));
    auto result = drive(wf, engine);
    ASSERT_FALSE(result.ok());
    EXPECT_THROW(result.get(), cano::task_execution_error);
    EXPECT_STREQ(result.failure()->message(), "broken");
    EXPECT_EQ(poll.calls().size(), 2u);
  }
  {
    scripted_poll poll{"pf"};
    auto wf = make_workflow();
    wf.register_poll(Step::Wait, poll, cano::poll_policy::retry_on_error(0),
                     cano::task_config().with_fixed_retry(3, 0ms));
    auto result = drive(wf, engine);
    ASSERT_FALSE(result.ok());
    EXPECT_STREQ(result.failure()->message(), "broken") << "not wrapped in retry_exhausted";
    EXPECT_EQ(poll.calls().size(), 2u) << "the attempt is not retried";
  }
}

TEST(CppPoll, RetryOnErrorDoesNotForgiveAFatalError) {
  // cano never forgives a panic in poll(): it escapes run_poll_loop (spec 2.5, 3.2).
  cano::engine engine(cano::engine_options().with_manual_clock());
  scripted_poll poll{"efr"};
  auto wf = make_workflow();
  wf.register_poll(Step::Wait, poll, cano::poll_policy::retry_on_error(5));
  auto result = drive(wf, engine);
  ASSERT_FALSE(result.ok()) << "retry_on_error forgave a fatal error";
  EXPECT_THROW(result.get(), cano::task_execution_error);
  EXPECT_STREQ(result.failure()->message(), "broken");
  EXPECT_EQ(result.failure()->attempt(), 1u);
  EXPECT_EQ(poll.calls().size(), 2u) << "the ordinary error before it was forgiven";
}

TEST(CppPoll, ResourcesAndBareForms) {
  cano::memory_store store;
  cano::resources resources;
  resources.insert("store", store);
  cano::workflow<Step> wf{resources, {{Step::Wait, "Wait"}, {Step::Done, "Done"}}};
  wf.register_poll(Step::Wait,
                   [](cano::resources& res) -> cano::poll_result<Step> {
                     auto s = res.get_store("store");
                     s.append<int>("polls", 1);
                     if (s.get<std::vector<int>>("polls").size() < 3) return cano::pending(10ms);
                     return Step::Done;
                   })
      .add_exit_state(Step::Done);
  cano::engine engine(cano::engine_options().with_manual_clock());
  cano::run_handle<Step> run = wf.start(engine, Step::Wait);
  ASSERT_TRUE(cano_test::drive_to_end(engine, run));
  EXPECT_EQ(run.get(), Step::Done);
  EXPECT_EQ(store.get<std::vector<int>>("polls").size(), 3u);
  EXPECT_EQ(engine.now(), 20ms);

  auto bare = make_workflow();
  bare.register_poll(Step::Wait, [] { return cano::ready(Step::Right); });
  EXPECT_EQ(bare.orchestrate(engine, Step::Wait), Step::Right);
}

struct counted_poll {
  tracked tracker;
  cano::poll_result<Step> operator()() const { return Step::Done; }
};

TEST(CppPoll, RegistrationRulesAndOwnership) {
  auto counter = std::make_shared<lifetime_counter>();
  {
    auto wf = make_workflow();
    try {
      wf.register_poll(Step::Wait, counted_poll{tracked(counter)},
                       cano::task_config().with_mode(cano::task_mode::async));
      FAIL() << "no exception";
    } catch (const cano::configuration_error& e) {
      EXPECT_NE(std::string(e.message()).find("task_mode::async"), std::string::npos);
    }
    EXPECT_EQ(counter->alive(), 0);
    cano::workflow<Step> partial{{Step::Done, "Done"}};
    EXPECT_THROW(partial.register_poll(Step::Wait, counted_poll{tracked(counter)}),
                 cano::configuration_error);
    EXPECT_EQ(counter->alive(), 0) << "a failed registration destroys the poll object";

    wf.register_poll(Step::Wait, counted_poll{tracked(counter)});
    EXPECT_EQ(counter->alive(), 1);
    cano::engine engine;
    EXPECT_EQ(wf.orchestrate(engine, Step::Wait), Step::Done);
    EXPECT_THROW(wf.register_poll(Step::Wait, counted_poll{tracked(counter)}),
                 cano::bad_state_error);
    EXPECT_EQ(counter->alive(), 1);
  }
  EXPECT_EQ(counter->alive(), 0);
  EXPECT_EQ(counter->constructed.load(), counter->destroyed.load());
}

TEST(CppRouter, RoutesLikeATaskWithTheDefaultRetryPolicy) {
  std::atomic<int> attempts{0};
  auto wf = make_workflow();
  wf.register_router(Step::Wait, [&attempts](cano::task_context& ctx) {
    // RouterTask's default config retries: fail twice, then route.
    if (++attempts < 3) throw std::runtime_error("not yet");
    EXPECT_EQ(ctx.attempt(), 3u);
    return Step::Right;
  });
  cano::engine engine(cano::engine_options().with_manual_clock());
  auto result = drive(wf, engine);
  ASSERT_TRUE(result.ok()) << result.failure()->what();
  EXPECT_EQ(result.state(), Step::Right);
  EXPECT_EQ(attempts.load(), 3);
}

TEST(CppRouter, TakesEveryTaskFormAndTheRegistrationRules) {
  cano::engine engine;
  auto wf = make_workflow();
  std::atomic<int> threshold{5};
  wf.register_router(Step::Wait,
                     [&threshold] { return threshold.load() > 3 ? Step::Left : Step::Right; },
                     cano::task_config::minimal().with_mode(cano::task_mode::inline_));
  EXPECT_EQ(wf.orchestrate(engine, Step::Wait), Step::Left);
  threshold = 1;
  EXPECT_EQ(wf.orchestrate(engine, Step::Wait), Step::Right);

  auto resources_form = make_workflow();
  resources_form.register_router(Step::Wait, [](cano::resources&) { return Step::Left; });
  EXPECT_EQ(resources_form.orchestrate(engine, Step::Wait), Step::Left);

  auto async_form = make_workflow();
  async_form.register_router(
      Step::Wait, [](cano::completion<Step> done) { done.complete(Step::Right); },
      cano::task_config::minimal().with_mode(cano::task_mode::async));
  EXPECT_EQ(async_form.orchestrate(engine, Step::Wait), Step::Right);

  // A router that fails for good fails the run like a task, under its name.
  auto failing = make_workflow();
  failing.register_router(Step::Wait, []() -> Step { throw std::runtime_error("no route"); },
                          cano::task_config::minimal().with_name("router"));
  try {
    failing.orchestrate(engine, Step::Wait);
    FAIL() << "no exception";
  } catch (const cano::task_execution_error& e) {
    EXPECT_STREQ(e.message(), "no route");
    EXPECT_EQ(e.task_name(), "router");
  }

  cano::workflow<Step> partial{{Step::Done, "Done"}};
  EXPECT_THROW(partial.register_router(Step::Wait, [] { return Step::Done; }),
               cano::configuration_error);
  EXPECT_THROW(wf.register_router(Step::Wait, [](cano::task_context&) {}),
               cano::configuration_error)
      << "finishing later needs task_mode::async";
  EXPECT_THROW(wf.register_router(Step::Wait, [] { return Step::Done; }), cano::bad_state_error)
      << "frozen by its first run";
}

TEST(CppFatal, FatalErrorIsNotRetriedAndNotWrapped) {
  std::atomic<int> calls{0};
  auto wf = make_workflow();
  wf.register_task(Step::Wait,
                   [&calls]() -> Step {
                     ++calls;
                     throw cano::fatal_error("panic: index out of range");
                   },
                   cano::task_config().with_fixed_retry(5, 0ms).with_name("worker"));
  cano::engine engine;
  try {
    wf.orchestrate(engine, Step::Wait);
    FAIL() << "no exception";
  } catch (const cano::task_execution_error& e) {
    EXPECT_STREQ(e.message(), "panic: index out of range");
    EXPECT_STREQ(e.display(), "Task execution error: panic: index out of range");
    EXPECT_EQ(e.task_name(), "worker");
    EXPECT_EQ(e.attempt(), 1u);
  }
  EXPECT_EQ(calls.load(), 1);

  // The same task throwing an ordinary error is retried and wrapped, for contrast.
  std::atomic<int> ordinary_calls{0};
  auto ordinary = make_workflow();
  ordinary.register_task(Step::Wait,
                         [&ordinary_calls]() -> Step {
                           ++ordinary_calls;
                           throw std::runtime_error("boom");
                         },
                         cano::task_config().with_fixed_retry(2, 0ms));
  EXPECT_THROW(ordinary.orchestrate(engine, Step::Wait), cano::retry_exhausted_error);
  EXPECT_EQ(ordinary_calls.load(), 3);
}

TEST(CppFatal, FatalErrorKeepsItsCodeAndWrapsCanoErrors) {
  cano::fatal_error plain("x");
  EXPECT_EQ(plain.code(), CANO_E_TASK_EXECUTION);
  cano::fatal_error store("y", CANO_E_STORE);
  EXPECT_EQ(store.code(), CANO_E_STORE);
  EXPECT_STREQ(store.category(), "store");
  cano::fatal_error from(cano::timeout_error("late"));
  EXPECT_EQ(from.code(), CANO_E_TIMEOUT);
  EXPECT_STREQ(from.message(), "late");

  cano::engine engine;
  auto wf = make_workflow();
  std::atomic<int> calls{0};
  wf.register_router(Step::Wait, [&calls](cano::resources&) -> Step {
    ++calls;
    throw cano::fatal_error(cano::timeout_error("upstream gone"));
  });
  try {
    wf.orchestrate(engine, Step::Wait);
    FAIL() << "no exception";
  } catch (const cano::timeout_error& e) {
    EXPECT_STREQ(e.message(), "upstream gone");
  }
  EXPECT_EQ(calls.load(), 1) << "a router's default retries do not apply";
}

TEST(CppFatal, InlineAndAsyncBodies) {
  cano::engine engine;
  std::atomic<int> inline_calls{0};
  auto inline_wf = make_workflow();
  inline_wf.register_task(Step::Wait,
                          [&inline_calls](cano::task_context&) -> Step {
                            ++inline_calls;
                            throw cano::fatal_error("inline");
                          },
                          cano::task_config()
                              .with_fixed_retry(3, 0ms)
                              .with_mode(cano::task_mode::inline_));
  EXPECT_THROW(inline_wf.orchestrate(engine, Step::Wait), cano::task_execution_error);
  EXPECT_EQ(inline_calls.load(), 1);

  // Thrown from an async body before it returns, it is fatal too...
  std::atomic<int> async_calls{0};
  auto async_wf = make_workflow();
  async_wf.register_task(Step::Wait,
                         [&async_calls](cano::completion<Step>) {
                           ++async_calls;
                           throw cano::fatal_error("async start");
                         },
                         cano::task_config()
                             .with_fixed_retry(3, 0ms)
                             .with_mode(cano::task_mode::async));
  EXPECT_THROW(async_wf.orchestrate(engine, Step::Wait), cano::task_execution_error);
  EXPECT_EQ(async_calls.load(), 1);

  // ...but handed to a completion it is an ordinary failure: the C ABI has no fatal completion.
  std::atomic<int> completed_calls{0};
  auto completed_wf = make_workflow();
  completed_wf.register_task(
      Step::Wait,
      [&completed_calls](cano::completion<Step> done) {
        ++completed_calls;
        done.fail(std::make_exception_ptr(cano::fatal_error("later")));
      },
      cano::task_config().with_fixed_retry(2, 0ms).with_mode(cano::task_mode::async));
  try {
    completed_wf.orchestrate(engine, Step::Wait);
    FAIL() << "no exception";
  } catch (const cano::retry_exhausted_error& e) {
    EXPECT_STREQ(e.message(), "Task failed after 3 attempt(s): Task execution error: later");
  }
  EXPECT_EQ(completed_calls.load(), 3);
}

}  // namespace
