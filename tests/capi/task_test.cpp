// Tasks through the C API: results, failures, retries and their delays, attempt timeouts, and
// the three execution modes (cano/task.h). Time-dependent tests use the manual clock.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

using namespace cano_test;

namespace {

enum : int32_t { kWork = 0, kDone = 1 };

struct Fixture {
  EnginePtr engine;
  WorkflowPtr wf;
  explicit Fixture(bool manual = true) : engine(make_engine(manual)) {
    cano_workflow* raw = nullptr;
    EXPECT_EQ(cano_workflow_create(&raw, nullptr, nullptr), CANO_OK);
    wf.reset(raw);
    EXPECT_EQ(cano_workflow_add_state(raw, kWork, "Work", nullptr), CANO_OK);
    EXPECT_EQ(cano_workflow_add_state(raw, kDone, "Done", nullptr), CANO_OK);
    EXPECT_EQ(cano_workflow_add_exit_state(raw, kDone, nullptr), CANO_OK);
  }
  void set(cano_task_options options) {
    ASSERT_EQ(cano_workflow_register(wf.get(), kWork, &options, nullptr), CANO_OK);
  }
};

// A body that fails its first `failures` attempts, recording each attempt's clock reading.
Body flaky(int failures, std::vector<uint64_t>* times, std::atomic<int>* attempts) {
  return [=](cano_task_ctx* ctx) {
    times->push_back(cano_engine_clock_now(cano_task_ctx_engine(ctx)));
    int n = ++*attempts;
    EXPECT_EQ(cano_task_ctx_attempt(ctx), static_cast<uint32_t>(n));
    if (n <= failures) return cano_task_ctx_fail(ctx, CANO_E_TASK_EXECUTION, "boom");
    return cano_task_ctx_next(ctx, kDone);
  };
}

}  // namespace

TEST(TaskOptions, DefaultsAreCanosExponentialPolicy) {
  cano_task_options options = CANO_TASK_OPTIONS_INIT;
  EXPECT_EQ(cano_task_options_max_attempts(&options), 4u);
  EXPECT_EQ(cano_task_options_retry_delay(&options, 0, 0.0), 100);
  EXPECT_EQ(cano_task_options_retry_delay(&options, 1, 0.0), 200);
  EXPECT_EQ(cano_task_options_retry_delay(&options, 2, 0.0), 400);
  EXPECT_EQ(cano_task_options_retry_delay(&options, 3, 0.0), -1);
  EXPECT_EQ(cano_task_options_retry_delay(&options, 0, 1.0), 110);
  EXPECT_EQ(cano_task_options_retry_delay(&options, 0, -1.0), 90);
}

TEST(TaskOptions, MinimalFixedAndExponentialHelpers) {
  cano_task_options options = CANO_TASK_OPTIONS_INIT;
  cano_task_options_retry_none(&options);
  EXPECT_EQ(cano_task_options_max_attempts(&options), 1u);
  EXPECT_EQ(cano_task_options_retry_delay(&options, 0, 0.0), -1);
  cano_task_options_retry_fixed(&options, 2, 250);
  EXPECT_EQ(cano_task_options_max_attempts(&options), 3u);
  EXPECT_EQ(cano_task_options_retry_delay(&options, 1, 0.7), 250);
  EXPECT_EQ(cano_task_options_retry_delay(&options, 2, 0.0), -1);
  cano_task_options_retry_exponential(&options, 5);
  EXPECT_EQ(cano_task_options_max_attempts(&options), 6u);
  EXPECT_EQ(cano_task_options_retry_delay(&options, 4, 0.0), 1600);
}

TEST(TaskOptions, ExponentialCapComesBeforeJitterAndJitterIsClamped) {
  cano_task_options options = CANO_TASK_OPTIONS_INIT;
  options.retry = CANO_RETRY_EXPONENTIAL;
  options.retry_max_retries = 10;
  options.retry_delay_ms = 1000;
  options.retry_multiplier = 10.0;
  options.retry_max_delay_ms = 5000;
  options.retry_jitter = 7.0;  // clamped to 1.0
  EXPECT_EQ(cano_task_options_retry_delay(&options, 3, 0.0), 5000);
  EXPECT_EQ(cano_task_options_retry_delay(&options, 3, 0.5), 7500) << "cap then jitter";
  EXPECT_EQ(cano_task_options_retry_delay(&options, 3, -1.0), 0);
  options.retry_jitter = 0.1;
  options.retry_delay_ms = 7;
  options.retry_multiplier = 1.5;
  EXPECT_EQ(cano_task_options_retry_delay(&options, 1, 0.0), 10) << "10.5 truncates to 10";
}

TEST(Task, FixedRetriesRunAfterTheirDelaysAndThenSucceed) {
  Fixture f;
  std::vector<uint64_t> times;
  std::atomic<int> attempts{0};
  auto options = task(flaky(2, &times, &attempts));
  cano_task_options_retry_fixed(&options, 3, 100);
  f.set(options);
  RunResult result;
  ASSERT_EQ(cano_run_start(nullptr, f.engine.get(), f.wf.get(), kWork, &RunResult::callback,
                           &result, nullptr),
            CANO_OK);
  uint64_t start = wait_for_timer(f.engine.get()) - 100;
  ASSERT_EQ(cano_engine_clock_advance(f.engine.get(), 99, nullptr), CANO_OK);
  EXPECT_EQ(attempts.load(), 1) << "the retry waits its full delay";
  ASSERT_EQ(cano_engine_clock_advance(f.engine.get(), 1000, nullptr), CANO_OK);
  ASSERT_TRUE(result.wait());
  EXPECT_EQ(result.status, CANO_OK);
  EXPECT_EQ(result.final_state, kDone);
  EXPECT_EQ(attempts.load(), 3);
  EXPECT_EQ(times, (std::vector<uint64_t>{start, start + 100, start + 200}));
}

TEST(Task, RetryExhaustionWrapsTheLastErrorAndNamesStateTaskAndAttempt) {
  Fixture f;
  std::vector<uint64_t> times;
  std::atomic<int> attempts{0};
  auto options = task(flaky(100, &times, &attempts));
  options.name = "fetch-task";
  cano_task_options_retry_fixed(&options, 2, 10);
  f.set(options);
  std::thread advancer([&] {
    wait_for_timer(f.engine.get());
    cano_engine_clock_advance(f.engine.get(), 1000, nullptr);
  });
  ErrorPtr err;
  int32_t final_state = -1;
  EXPECT_EQ(cano_run_wait(&final_state, f.engine.get(), f.wf.get(), kWork, err.out()),
            CANO_E_RETRY_EXHAUSTED);
  advancer.join();
  EXPECT_EQ(attempts.load(), 3);
  EXPECT_EQ(final_state, kWork);
  EXPECT_EQ(err.message(), "Task failed after 3 attempt(s): Task execution error: boom");
  EXPECT_STREQ(cano_error_category(err.err), "retry_exhausted");
  EXPECT_STREQ(cano_error_state_name(err.err), "Work");
  EXPECT_STREQ(cano_error_task_name(err.err), "fetch-task");
  EXPECT_EQ(cano_error_attempt(err.err), 3u);
  const cano_error* cause = cano_error_cause(err.err);
  ASSERT_NE(cause, nullptr);
  EXPECT_EQ(cano_error_code(cause), CANO_E_TASK_EXECUTION);
  EXPECT_STREQ(cano_error_message(cause), "boom");
  EXPECT_EQ(cano_error_attempt(cause), 3u);
  std::string described = cano_error_describe(err.err);
  EXPECT_NE(described.find("state Work"), std::string::npos) << described;
  EXPECT_NE(described.find("task fetch-task"), std::string::npos) << described;
  EXPECT_NE(described.find("attempt 3"), std::string::npos) << described;
}

TEST(Task, ASingleAttemptReturnsTheRawErrorWithItsCode) {
  Fixture f;
  f.set(task([](cano_task_ctx* ctx) {
    return cano_task_ctx_fail(ctx, CANO_E_STORE_KEY_NOT_FOUND, "no data");
  }));
  ErrorPtr err;
  EXPECT_EQ(cano_run_wait(nullptr, f.engine.get(), f.wf.get(), kWork, err.out()),
            CANO_E_STORE_KEY_NOT_FOUND);
  EXPECT_EQ(err.message(), "no data");
  EXPECT_STREQ(cano_error_category(err.err), "store");
  EXPECT_EQ(cano_error_cause(err.err), nullptr);
}

TEST(Task, DefaultPolicyMakesFourAttemptsWithJitteredExponentialDelays) {
  Fixture f;
  std::vector<uint64_t> times;
  std::atomic<int> attempts{0};
  auto options = task(flaky(100, &times, &attempts));
  options.retry = CANO_RETRY_DEFAULT;
  f.set(options);
  RunResult result;
  ASSERT_EQ(cano_run_start(nullptr, f.engine.get(), f.wf.get(), kWork, &RunResult::callback,
                           &result, nullptr),
            CANO_OK);
  wait_for_timer(f.engine.get());
  ASSERT_EQ(cano_engine_clock_advance(f.engine.get(), 10000, nullptr), CANO_OK);
  ASSERT_TRUE(result.wait());
  EXPECT_EQ(result.status, CANO_E_RETRY_EXHAUSTED);
  ASSERT_EQ(times.size(), 4u);
  const uint64_t nominal[] = {100, 200, 400};
  for (int i = 0; i < 3; ++i) {
    uint64_t gap = times[i + 1] - times[i];
    EXPECT_GE(gap, nominal[i] * 9 / 10) << "retry " << i;
    EXPECT_LE(gap, nominal[i] * 11 / 10) << "retry " << i;
  }
}

TEST(Task, BodyResultMisuseIsAClearFailure) {
  Fixture f;
  f.set(task([](cano_task_ctx*) { return CANO_OK; }));
  ErrorPtr err;
  EXPECT_EQ(cano_run_wait(nullptr, f.engine.get(), f.wf.get(), kWork, err.out()),
            CANO_E_TASK_EXECUTION);
  EXPECT_NE(err.message().find("without choosing a next state"), std::string::npos);

  Fixture g;
  g.set(task([](cano_task_ctx*) { return CANO_PENDING; }, CANO_TASK_WORKER));
  EXPECT_EQ(cano_run_wait(nullptr, g.engine.get(), g.wf.get(), kWork, err.out()),
            CANO_E_TASK_EXECUTION);
  EXPECT_NE(err.message().find("not registered as CANO_TASK_ASYNC"), std::string::npos);
}

TEST(Task, ContextReportsRunAttemptStateAndResources) {
  Fixture f(false);
  std::atomic<uint64_t> run_id{0};
  std::atomic<bool> has_resources{false};
  std::atomic<int32_t> state{-1};
  f.set(task(
      [&](cano_task_ctx* ctx) {
        run_id = cano_task_ctx_run_id(ctx);
        state = cano_task_ctx_state(ctx);
        has_resources = cano_task_ctx_resources(ctx) != nullptr;
        EXPECT_EQ(cano_task_ctx_token(ctx), 0u);
        EXPECT_EQ(cano_task_ctx_cancelled(ctx), 0);
        return cano_task_ctx_next(ctx, kDone);
      },
      CANO_TASK_WORKER));
  RunResult result;
  uint64_t id = 0;
  ASSERT_EQ(cano_run_start(&id, f.engine.get(), f.wf.get(), kWork, &RunResult::callback, &result,
                           nullptr),
            CANO_OK);
  ASSERT_TRUE(result.wait());
  EXPECT_EQ(run_id.load(), id);
  EXPECT_EQ(state.load(), kWork);
  EXPECT_TRUE(has_resources.load());
}

TEST(Task, WorkerAttemptTimeoutMovesOnAndDiscardsTheLateResult) {
  Fixture f;
  std::atomic<int> attempts{0};
  std::atomic<bool> release_first{false};
  std::atomic<bool> first_saw_cancel{false};
  auto options = task(
      [&](cano_task_ctx* ctx) {
        int n = ++attempts;
        if (n == 1) {
          while (!release_first) std::this_thread::sleep_for(std::chrono::microseconds(100));
          first_saw_cancel = cano_task_ctx_cancelled(ctx) == 1;
          // This late result must be discarded: the run has moved on.
          return cano_task_ctx_next(ctx, kWork);
        }
        return cano_task_ctx_next(ctx, kDone);
      },
      CANO_TASK_WORKER);
  cano_task_options_retry_fixed(&options, 1, 0);
  options.attempt_timeout_ms = 500;
  f.set(options);
  RunResult result;
  ASSERT_EQ(cano_run_start(nullptr, f.engine.get(), f.wf.get(), kWork, &RunResult::callback,
                           &result, nullptr),
            CANO_OK);
  wait_for_timer(f.engine.get());
  // The engine never starts a worker attempt that was abandoned before a worker took it, so let
  // the first body start before its timeout fires.
  ASSERT_TRUE(eventually([&] { return attempts.load() == 1; }));
  ASSERT_EQ(cano_engine_clock_advance(f.engine.get(), 500, nullptr), CANO_OK);
  ASSERT_TRUE(result.wait());
  EXPECT_EQ(result.status, CANO_OK);
  EXPECT_EQ(result.final_state, kDone);
  release_first = true;
  ASSERT_TRUE(eventually([&] { return attempts.load() == 2 && first_saw_cancel.load(); }));
}

TEST(Task, AttemptTimeoutFailsWithCanosTimeoutError) {
  Fixture f;
  std::atomic<bool> release{false};
  auto options = task(
      [&](cano_task_ctx* ctx) {
        while (!release && !cano_task_ctx_cancelled(ctx)) {
          std::this_thread::sleep_for(std::chrono::microseconds(100));
        }
        return cano_task_ctx_next(ctx, kDone);
      },
      CANO_TASK_WORKER);
  options.attempt_timeout_ms = 50;
  f.set(options);
  std::thread advancer([&] {
    wait_for_timer(f.engine.get());
    cano_engine_clock_advance(f.engine.get(), 50, nullptr);
  });
  ErrorPtr err;
  EXPECT_EQ(cano_run_wait(nullptr, f.engine.get(), f.wf.get(), kWork, err.out()), CANO_E_TIMEOUT);
  advancer.join();
  release = true;
  EXPECT_EQ(err.message(), "task attempt exceeded attempt_timeout");
  EXPECT_EQ(std::string(cano_error_display(err.err)),
            "Timeout error: task attempt exceeded attempt_timeout");
}

TEST(Task, AsyncTaskCompletesFromAnotherThreadExactlyOnce) {
  Fixture f(false);
  std::atomic<uint64_t> token{0};
  f.set(task(
      [&](cano_task_ctx* ctx) {
        token = cano_task_ctx_token(ctx);
        return CANO_PENDING;
      },
      CANO_TASK_ASYNC));
  RunResult result;
  ASSERT_EQ(cano_run_start(nullptr, f.engine.get(), f.wf.get(), kWork, &RunResult::callback,
                           &result, nullptr),
            CANO_OK);
  ASSERT_TRUE(eventually([&] { return token.load() != 0; }));
  std::thread completer([&] {
    EXPECT_EQ(cano_task_complete(f.engine.get(), token.load(), kDone, nullptr), CANO_OK);
  });
  completer.join();
  ASSERT_TRUE(result.wait());
  EXPECT_EQ(result.final_state, kDone);
  ErrorPtr err;
  EXPECT_EQ(cano_task_complete(f.engine.get(), token.load(), kDone, err.out()), CANO_E_BAD_STATE);
  EXPECT_NE(err.message().find("already completed"), std::string::npos);
  EXPECT_EQ(cano_task_complete_error(f.engine.get(), 987654, CANO_E_USER, "x", err.out()),
            CANO_E_BAD_STATE);
}

TEST(Task, AsyncFailureIsRetriedAndLateCompletionAfterTimeoutIsIgnored) {
  Fixture f;
  std::vector<uint64_t> tokens;
  std::mutex tokens_mutex;
  auto options = task(
      [&](cano_task_ctx* ctx) {
        std::lock_guard<std::mutex> lock(tokens_mutex);
        tokens.push_back(cano_task_ctx_token(ctx));
        return CANO_PENDING;
      },
      CANO_TASK_ASYNC);
  cano_task_options_retry_fixed(&options, 2, 0);
  options.attempt_timeout_ms = 100;
  f.set(options);
  RunResult result;
  ASSERT_EQ(cano_run_start(nullptr, f.engine.get(), f.wf.get(), kWork, &RunResult::callback,
                           &result, nullptr),
            CANO_OK);
  wait_for_timer(f.engine.get());
  // Attempt 1 times out; attempt 2 starts at once (zero delay).
  ASSERT_EQ(cano_engine_clock_advance(f.engine.get(), 100, nullptr), CANO_OK);
  auto token_count = [&] {
    std::lock_guard<std::mutex> lock(tokens_mutex);
    return tokens.size();
  };
  ASSERT_TRUE(eventually([&] { return token_count() == 2; }));
  // The late completion of attempt 1 is accepted and ignored.
  EXPECT_EQ(cano_task_complete(f.engine.get(), tokens[0], kDone, nullptr), CANO_OK);
  // Attempt 2 fails; attempt 3 succeeds.
  EXPECT_EQ(cano_task_complete_error(f.engine.get(), tokens[1], 5, "nope", nullptr), CANO_OK);
  ASSERT_TRUE(eventually([&] { return token_count() == 3; }));
  EXPECT_FALSE(result.done) << "the ignored late completion did not finish the run";
  EXPECT_EQ(cano_task_complete(f.engine.get(), tokens[2], kDone, nullptr), CANO_OK);
  ASSERT_TRUE(result.wait());
  EXPECT_EQ(result.status, CANO_OK);
}

TEST(Task, AsyncBodyMayFinishSynchronously) {
  Fixture f(false);
  f.set(task([](cano_task_ctx* ctx) { return cano_task_ctx_next(ctx, kDone); }, CANO_TASK_ASYNC));
  int32_t final_state = -1;
  ASSERT_EQ(cano_run_wait(&final_state, f.engine.get(), f.wf.get(), kWork, nullptr), CANO_OK);
  EXPECT_EQ(final_state, kDone);
}

TEST(Task, WorkflowTimeoutEndsTheRunWithCanosMessage) {
  Fixture f;
  ASSERT_EQ(cano_workflow_set_timeout(f.wf.get(), 1000, nullptr), CANO_OK);
  f.set(task([](cano_task_ctx*) { return CANO_PENDING; }, CANO_TASK_ASYNC));
  std::thread advancer([&] {
    wait_for_timer(f.engine.get());
    cano_engine_clock_advance(f.engine.get(), 1000, nullptr);
  });
  ErrorPtr err;
  int32_t final_state = -1;
  EXPECT_EQ(cano_run_wait(&final_state, f.engine.get(), f.wf.get(), kWork, err.out()),
            CANO_E_WORKFLOW);
  advancer.join();
  EXPECT_EQ(err.message(), "Workflow timeout exceeded");
  EXPECT_EQ(final_state, kWork);
}

TEST(Task, FatalFailureEndsRetriesAndIsNotWrapped) {
  Fixture f;
  std::atomic<int> attempts{0};
  auto options = task([&attempts](cano_task_ctx* ctx) {
    ++attempts;
    return cano_task_ctx_fail_fatal(ctx, CANO_E_TASK_EXECUTION, "panic: index out of range");
  });
  cano_task_options_retry_fixed(&options, 5, 0);
  f.set(options);
  ErrorPtr err;
  EXPECT_EQ(cano_run_wait(nullptr, f.engine.get(), f.wf.get(), kWork, err.out()),
            CANO_E_TASK_EXECUTION);
  EXPECT_EQ(attempts.load(), 1);
  EXPECT_EQ(err.message(), "panic: index out of range");
  EXPECT_EQ(cano_error_attempt(err.err), 1u);
  EXPECT_EQ(cano_task_ctx_fail_fatal(nullptr, 3, "x"), CANO_E_TASK_EXECUTION);
}

TEST(Task, RunsInFlightIsZeroOnceAWaitReturns) {
  Fixture f(false);
  f.set(task(go_to(kDone), CANO_TASK_WORKER));
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(cano_run_wait(nullptr, f.engine.get(), f.wf.get(), kWork, nullptr), CANO_OK);
    ASSERT_EQ(cano_engine_runs_in_flight(f.engine.get()), 0u) << "iteration " << i;
  }
}
