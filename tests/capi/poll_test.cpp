// Poll tasks and routers through the C API (cano/poll.h, cano_workflow_register_router):
// re-polling on loop timers, the error policies, the attempt timeout bounding the whole wait,
// and minimal() as a poll task's default retry policy.
#include <atomic>
#include <string>
#include <vector>

#include "test_support.hpp"

using namespace cano_test;

namespace {

enum : int32_t { kWait = 0, kDone = 1 };

struct PollFixture {
  EnginePtr engine = make_engine(/*manual=*/true);
  WorkflowPtr wf;
  std::vector<uint64_t> calls;  // clock readings of every poll call
  std::mutex calls_mutex;

  PollFixture() {
    cano_workflow* raw = nullptr;
    EXPECT_EQ(cano_workflow_create(&raw, nullptr, nullptr), CANO_OK);
    wf.reset(raw);
    EXPECT_EQ(cano_workflow_add_state(raw, kWait, "Wait", nullptr), CANO_OK);
    EXPECT_EQ(cano_workflow_add_state(raw, kDone, "Done", nullptr), CANO_OK);
    EXPECT_EQ(cano_workflow_add_exit_state(raw, kDone, nullptr), CANO_OK);
  }

  // A poll body driven by a script: 'p' = pending (delay 100), 'e' = error, 'r' = ready.
  cano_task_options poller(std::string script, cano_task_mode mode = CANO_TASK_INLINE) {
    auto options = task(
        [this, script](cano_task_ctx* ctx) {
          size_t n;
          {
            std::lock_guard<std::mutex> lock(calls_mutex);
            n = calls.size();
            calls.push_back(cano_engine_clock_now(cano_task_ctx_engine(ctx)));
          }
          char step = n < script.size() ? script[n] : script.back();
          if (step == 'p') return cano_task_ctx_poll_again(ctx, 100);
          if (step == 'e') return cano_task_ctx_fail(ctx, CANO_E_TASK_EXECUTION, "flaky");
          return cano_task_ctx_next(ctx, kDone);
        },
        mode);
    options.retry = CANO_RETRY_DEFAULT;  // a poll task's default is minimal()
    return options;
  }

  size_t call_count() {
    std::lock_guard<std::mutex> lock(calls_mutex);
    return calls.size();
  }

  // Runs to the end, advancing the manual clock whenever the run waits on a timer.
  cano_status run(ErrorPtr& err) {
    RunResult result;
    EXPECT_EQ(cano_run_start(nullptr, engine.get(), wf.get(), kWait, &RunResult::callback, &result,
                             nullptr),
              CANO_OK);
    wait_advancing_clock(engine.get(), result);
    if (result.status != CANO_OK)
      *err.out() = cano_error_new(result.status, result.message.c_str());
    return result.status;
  }
};

}  // namespace

class PollModes : public ::testing::TestWithParam<cano_task_mode> {};

TEST_P(PollModes, RepollsAfterEachDelayUntilReady) {
  PollFixture f;
  auto options = f.poller("pppr", GetParam());
  ASSERT_EQ(cano_workflow_register_poll(f.wf.get(), kWait, &options, nullptr, nullptr), CANO_OK);
  ErrorPtr err;
  ASSERT_EQ(f.run(err), CANO_OK) << err.message();
  ASSERT_EQ(f.calls.size(), 4u);
  for (size_t i = 1; i < f.calls.size(); ++i) EXPECT_EQ(f.calls[i] - f.calls[i - 1], 100u);
}

INSTANTIATE_TEST_SUITE_P(Modes, PollModes, ::testing::Values(CANO_TASK_INLINE, CANO_TASK_WORKER));

TEST(Poll, FailFastEndsAtTheFirstErrorWithOneAttempt) {
  PollFixture f;
  auto options = f.poller("pper");
  ASSERT_EQ(cano_workflow_register_poll(f.wf.get(), kWait, &options, nullptr, nullptr), CANO_OK);
  ErrorPtr err;
  EXPECT_EQ(f.run(err), CANO_E_TASK_EXECUTION) << "minimal(): no RetryExhausted wrapping";
  EXPECT_EQ(err.message(), "flaky");
  EXPECT_EQ(f.call_count(), 3u);
}

TEST(Poll, RetryOnErrorForgivesUpToMaxErrorsInARow) {
  PollFixture f;
  cano_poll_options poll = CANO_POLL_OPTIONS_INIT;
  poll.policy = CANO_POLL_RETRY_ON_ERROR;
  poll.max_errors = 2;
  // Two errors, a pending (resets the count), two errors, ready.
  auto options = f.poller("eepeer");
  ASSERT_EQ(cano_workflow_register_poll(f.wf.get(), kWait, &options, &poll, nullptr), CANO_OK);
  ErrorPtr err;
  ASSERT_EQ(f.run(err), CANO_OK) << err.message();
  EXPECT_EQ(f.call_count(), 6u);

  PollFixture g;
  auto failing = g.poller("eeer");
  ASSERT_EQ(cano_workflow_register_poll(g.wf.get(), kWait, &failing, &poll, nullptr), CANO_OK);
  EXPECT_EQ(g.run(err), CANO_E_TASK_EXECUTION) << "the third error in a row is one too many";
  EXPECT_EQ(g.call_count(), 3u);

  PollFixture h;
  poll.max_errors = 0;
  auto strict = h.poller("er");
  ASSERT_EQ(cano_workflow_register_poll(h.wf.get(), kWait, &strict, &poll, nullptr), CANO_OK);
  EXPECT_EQ(h.run(err), CANO_E_TASK_EXECUTION) << "max_errors 0 fails at the first error";
}

TEST(Poll, AttemptTimeoutBoundsTheWholeWaitAndRetriesRestartIt) {
  PollFixture f;
  auto options = f.poller("p");  // never ready
  options.attempt_timeout_ms = 250;
  cano_task_options_retry_fixed(&options, 1, 0);
  ASSERT_EQ(cano_workflow_register_poll(f.wf.get(), kWait, &options, nullptr, nullptr), CANO_OK);
  ErrorPtr err;
  EXPECT_EQ(f.run(err), CANO_E_RETRY_EXHAUSTED);
  EXPECT_EQ(err.message(),
            "Task failed after 2 attempt(s): Timeout error: task attempt exceeded attempt_timeout");
  // Polls at 0, 100, 200 in each attempt; the second attempt starts at 250.
  EXPECT_EQ(f.calls, (std::vector<uint64_t>{0, 100, 200, 250, 350, 450}));
}

TEST(Poll, PollAgainFromAPlainTaskFailsItsAttempt) {
  PollFixture f;
  auto options = f.poller("pr");
  cano_task_options_retry_none(&options);
  ASSERT_EQ(cano_workflow_register(f.wf.get(), kWait, &options, nullptr), CANO_OK);
  ErrorPtr err;
  EXPECT_EQ(f.run(err), CANO_E_TASK_EXECUTION);
  EXPECT_NE(err.message().find("not registered as a poll task"), std::string::npos);
  EXPECT_EQ(cano_task_ctx_poll_again(nullptr, 1), CANO_E_INVALID_ARGUMENT);
}

TEST(Poll, RegistrationChecksThePolicyAndOwnsUserData) {
  PollFixture f;
  int destroyed = 0;
  cano_task_options options = CANO_TASK_OPTIONS_INIT;
  options.run = [](cano_task_ctx* ctx, void*) { return cano_task_ctx_next(ctx, kDone); };
  options.user_data = &destroyed;
  options.destroy = [](void* p) { ++*static_cast<int*>(p); };
  cano_poll_options poll = CANO_POLL_OPTIONS_INIT;
  poll.policy = static_cast<cano_poll_error_policy>(9);
  ErrorPtr err;
  EXPECT_EQ(cano_workflow_register_poll(f.wf.get(), kWait, &options, &poll, err.out()),
            CANO_E_INVALID_ARGUMENT);
  EXPECT_NE(err.message().find("\"Wait\""), std::string::npos) << err.message();
  EXPECT_EQ(destroyed, 1);
  EXPECT_EQ(cano_workflow_register_poll(nullptr, kWait, &options, nullptr, err.out()),
            CANO_E_INVALID_ARGUMENT);
  EXPECT_EQ(destroyed, 2);
  EXPECT_EQ(cano_workflow_register_poll(f.wf.get(), kWait, nullptr, nullptr, err.out()),
            CANO_E_INVALID_ARGUMENT);
}

TEST(Router, RoutesLikeATaskWithTheDefaultRetryPolicy) {
  auto engine = make_engine(/*manual=*/true);
  cano_workflow* raw = nullptr;
  ASSERT_EQ(cano_workflow_create(&raw, nullptr, nullptr), CANO_OK);
  WorkflowPtr wf(raw);
  ASSERT_EQ(cano_workflow_add_state(raw, 0, "Route", nullptr), CANO_OK);
  ASSERT_EQ(cano_workflow_add_state(raw, 1, "Left", nullptr), CANO_OK);
  ASSERT_EQ(cano_workflow_add_state(raw, 2, "Right", nullptr), CANO_OK);
  ASSERT_EQ(cano_workflow_add_exit_state(raw, 1, nullptr), CANO_OK);
  ASSERT_EQ(cano_workflow_add_exit_state(raw, 2, nullptr), CANO_OK);
  std::atomic<int> attempts{0};
  auto router = task([&attempts](cano_task_ctx* ctx) {
    return ++attempts < 3 ? cano_task_ctx_fail(ctx, -1, "not yet") : cano_task_ctx_next(ctx, 2);
  });
  router.retry = CANO_RETRY_DEFAULT;  // RouterTask's default: 3 exponential retries
  router.retry_jitter = 0;
  ErrorPtr err;
  EXPECT_EQ(cano_workflow_register_router(raw, 0, nullptr, err.out()), CANO_E_INVALID_ARGUMENT);
  auto undeclared = task(go_to(1));
  EXPECT_EQ(cano_workflow_register_router(raw, 9, &undeclared, err.out()), CANO_E_CONFIGURATION);
  ASSERT_EQ(cano_workflow_register_router(raw, 0, &router, nullptr), CANO_OK);
  RunResult result;
  ASSERT_EQ(cano_run_start(nullptr, engine.get(), raw, 0, &RunResult::callback, &result, nullptr),
            CANO_OK);
  wait_advancing_clock(engine.get(), result);
  EXPECT_EQ(result.status, CANO_OK);
  EXPECT_EQ(result.final_state, 2);
  EXPECT_EQ(attempts.load(), 3);
}
