// Stepped and timer tasks through the C API (cano/stepped.h, cano/timer.h): cursors carried
// from step to step, per-step retries with the same input cursor, the whole loop as one attempt
// when registered plainly, and waits on loop timers before a timer task's body.
#include <atomic>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "test_support.hpp"

using namespace cano_test;

namespace {

enum : int32_t { kWork = 0, kDone = 1 };

struct ModelFixture {
  EnginePtr engine = make_engine(/*manual=*/true);
  WorkflowPtr wf;
  std::mutex mutex;
  std::vector<std::string> log;  // one line per body call

  ModelFixture() {
    cano_workflow* raw = nullptr;
    EXPECT_EQ(cano_workflow_create(&raw, nullptr, nullptr), CANO_OK);
    wf.reset(raw);
    EXPECT_EQ(cano_workflow_add_state(raw, kWork, "Work", nullptr), CANO_OK);
    EXPECT_EQ(cano_workflow_add_state(raw, kDone, "Done", nullptr), CANO_OK);
    EXPECT_EQ(cano_workflow_add_exit_state(raw, kDone, nullptr), CANO_OK);
  }

  void note(std::string line) {
    std::lock_guard<std::mutex> lock(mutex);
    log.push_back(std::move(line));
  }

  // Runs to the end, advancing the manual clock whenever the run waits on a timer.
  cano_status run(ErrorPtr& err) {
    RunResult result;
    EXPECT_EQ(cano_run_start(nullptr, engine.get(), wf.get(), kWork, &RunResult::callback, &result,
                             nullptr),
              CANO_OK);
    wait_advancing_clock(engine.get(), result);
    if (result.status != CANO_OK) {
      *err.out() = cano_error_new(result.status, result.message.c_str());
    }
    return result.status;
  }
};

// Counts 0..limit-1 in the cursor (an int), failing once at `fail_at` when it is >= 0.
Body counter(ModelFixture* f, int limit, int fail_at = -1) {
  auto failed = std::make_shared<bool>(false);
  return [=](cano_task_ctx* ctx) {
    int n = 0;
    const void* data = nullptr;
    size_t len = 0;
    if (cano_task_ctx_cursor(ctx, &data, &len) == 1) std::memcpy(&n, data, sizeof n);
    f->note("step " + std::to_string(n) + " attempt " + std::to_string(cano_task_ctx_attempt(ctx)));
    if (n == fail_at && !*failed) {
      *failed = true;
      return cano_task_ctx_fail(ctx, CANO_E_TASK_EXECUTION, "step failed");
    }
    if (n + 1 >= limit) return cano_task_ctx_next(ctx, kDone);
    int next = n + 1;
    return cano_task_ctx_step_more(ctx, &next, sizeof next);
  };
}

}  // namespace

class SteppedModes : public ::testing::TestWithParam<cano_task_mode> {};

TEST_P(SteppedModes, CarriesTheCursorFromStepToStep) {
  ModelFixture f;
  auto options = task(counter(&f, 4), GetParam());
  ASSERT_EQ(cano_workflow_register_stepped(f.wf.get(), kWork, &options, nullptr), CANO_OK);
  ErrorPtr err;
  ASSERT_EQ(f.run(err), CANO_OK) << err.message();
  EXPECT_EQ(f.log, (std::vector<std::string>{"step 0 attempt 1", "step 1 attempt 1",
                                             "step 2 attempt 1", "step 3 attempt 1"}));
}

INSTANTIATE_TEST_SUITE_P(Modes, SteppedModes,
                         ::testing::Values(CANO_TASK_INLINE, CANO_TASK_WORKER));

TEST(Stepped, EachStepRetriesWithTheSameInputCursor) {
  ModelFixture f;
  auto options = task(counter(&f, 4, /*fail_at=*/2));
  cano_task_options_retry_fixed(&options, 1, 50);
  ASSERT_EQ(cano_workflow_register_stepped(f.wf.get(), kWork, &options, nullptr), CANO_OK);
  ErrorPtr err;
  ASSERT_EQ(f.run(err), CANO_OK) << err.message();
  EXPECT_EQ(f.log,
            (std::vector<std::string>{"step 0 attempt 1", "step 1 attempt 1", "step 2 attempt 1",
                                      "step 2 attempt 2", "step 3 attempt 1"}));
}

TEST(Stepped, RegisteredPlainlyTheWholeLoopIsOneAttemptAndARetryRestarts) {
  ModelFixture f;
  auto options = task(counter(&f, 4, /*fail_at=*/2));
  cano_task_options_retry_fixed(&options, 1, 50);
  ASSERT_EQ(cano_workflow_register(f.wf.get(), kWork, &options, nullptr), CANO_OK);
  ErrorPtr err;
  ASSERT_EQ(f.run(err), CANO_OK) << err.message();
  EXPECT_EQ(f.log,
            (std::vector<std::string>{"step 0 attempt 1", "step 1 attempt 1", "step 2 attempt 1",
                                      "step 0 attempt 2", "step 1 attempt 2", "step 2 attempt 2",
                                      "step 3 attempt 2"}));
}

TEST(Stepped, AFailedStepFailsTheTaskAfterItsRetries) {
  ModelFixture f;
  auto options = task([&f](cano_task_ctx* ctx) {
    f.note("call");
    if (cano_task_ctx_cursor(ctx, nullptr, nullptr) == 0)
      return cano_task_ctx_step_more(ctx, "x", 1);
    return cano_task_ctx_fail(ctx, CANO_E_TASK_EXECUTION, "broken");
  });
  cano_task_options_retry_fixed(&options, 2, 0);
  ASSERT_EQ(cano_workflow_register_stepped(f.wf.get(), kWork, &options, nullptr), CANO_OK);
  ErrorPtr err;
  EXPECT_EQ(f.run(err), CANO_E_RETRY_EXHAUSTED);
  EXPECT_EQ(err.message(), "Task failed after 3 attempt(s): Task execution error: broken");
  EXPECT_EQ(f.log.size(), 4u) << "one step, then three attempts of the second";
}

TEST(Stepped, ManySynchronousStepsDoNotStarveTheLoop) {
  ModelFixture f;
  auto options = task(counter(&f, 5000));
  ASSERT_EQ(cano_workflow_register_stepped(f.wf.get(), kWork, &options, nullptr), CANO_OK);
  ErrorPtr err;
  ASSERT_EQ(f.run(err), CANO_OK) << err.message();
  EXPECT_EQ(f.log.size(), 5000u);
  EXPECT_EQ(f.log.back(), "step 4999 attempt 1");
}

TEST(Stepped, CursorAccessorsOutsideAStep) {
  const void* data = &data;
  size_t len = 9;
  EXPECT_EQ(cano_task_ctx_cursor(nullptr, &data, &len), 0);
  EXPECT_EQ(data, nullptr);
  EXPECT_EQ(len, 0u);
  EXPECT_EQ(cano_task_ctx_step_more(nullptr, "x", 1), CANO_E_INVALID_ARGUMENT);
  ModelFixture f;
  ErrorPtr err;
  EXPECT_EQ(cano_workflow_register_stepped(f.wf.get(), kWork, nullptr, err.out()),
            CANO_E_INVALID_ARGUMENT);
  auto options = task(go_to(kDone));
  EXPECT_EQ(cano_workflow_register_stepped(f.wf.get(), 7, &options, err.out()),
            CANO_E_CONFIGURATION);
}

TEST(Timer, WaitsItsDelayThenRunsTheBody) {
  ModelFixture f;
  auto options = task([&f](cano_task_ctx* ctx) {
    f.note("after " + std::to_string(cano_engine_clock_now(cano_task_ctx_engine(ctx))));
    return cano_task_ctx_next(ctx, kDone);
  });
  cano_timer_options timer = CANO_TIMER_OPTIONS_INIT;
  timer.delay_ms = 250;
  ASSERT_EQ(cano_workflow_register_timer(f.wf.get(), kWork, &options, &timer, nullptr), CANO_OK);
  ErrorPtr err;
  ASSERT_EQ(f.run(err), CANO_OK) << err.message();
  EXPECT_EQ(f.log, (std::vector<std::string>{"after 250"}));
}

TEST(Timer, UntilAndTheWaitCallback) {
  {
    ModelFixture f;
    auto options = task([&f](cano_task_ctx* ctx) {
      f.note("after " + std::to_string(cano_engine_clock_now(cano_task_ctx_engine(ctx))));
      return cano_task_ctx_next(ctx, kDone);
    });
    cano_timer_options timer = CANO_TIMER_OPTIONS_INIT;
    timer.until_ms = 400;
    ASSERT_EQ(cano_workflow_register_timer(f.wf.get(), kWork, &options, &timer, nullptr), CANO_OK);
    ErrorPtr err;
    ASSERT_EQ(f.run(err), CANO_OK) << err.message();
    EXPECT_EQ(f.log, (std::vector<std::string>{"after 400"}));
  }
  {
    // The callback decides per attempt: 100 ms, then until 1000; the first body fails.
    ModelFixture f;
    auto options = task([&f](cano_task_ctx* ctx) {
      f.note("after " + std::to_string(cano_engine_clock_now(cano_task_ctx_engine(ctx))));
      if (cano_task_ctx_attempt(ctx) == 1) return cano_task_ctx_fail(ctx, -1, "again");
      return cano_task_ctx_next(ctx, kDone);
    });
    cano_task_options_retry_fixed(&options, 1, 0);
    cano_timer_options timer = CANO_TIMER_OPTIONS_INIT;
    timer.wait = [](cano_task_ctx* ctx, void*) {
      return cano_task_ctx_attempt(ctx) == 1 ? cano_task_ctx_wait_for(ctx, 100)
                                             : cano_task_ctx_wait_until(ctx, 1000);
    };
    ASSERT_EQ(cano_workflow_register_timer(f.wf.get(), kWork, &options, &timer, nullptr), CANO_OK);
    ErrorPtr err;
    ASSERT_EQ(f.run(err), CANO_OK) << err.message();
    EXPECT_EQ(f.log, (std::vector<std::string>{"after 100", "after 1000"}));
  }
}

TEST(Timer, DefaultsToOneAttemptAndTheAttemptTimeoutBoundsTheWait) {
  ModelFixture f;
  std::atomic<int> calls{0};
  auto options = task([&calls](cano_task_ctx* ctx) {
    ++calls;
    return cano_task_ctx_next(ctx, kDone);
  });
  options.retry = CANO_RETRY_DEFAULT;  // minimal() for a timer task
  options.attempt_timeout_ms = 100;
  cano_timer_options timer = CANO_TIMER_OPTIONS_INIT;
  timer.delay_ms = 500;
  ASSERT_EQ(cano_workflow_register_timer(f.wf.get(), kWork, &options, &timer, nullptr), CANO_OK);
  ErrorPtr err;
  EXPECT_EQ(f.run(err), CANO_E_TIMEOUT) << "one attempt, raw error";
  EXPECT_EQ(err.message(), "task attempt exceeded attempt_timeout");
  EXPECT_EQ(calls.load(), 0);
}

TEST(Timer, AWaitCallbackThatChoosesNothingOrFailsFailsTheAttempt) {
  ModelFixture f;
  auto options = task(go_to(kDone));
  cano_timer_options timer = CANO_TIMER_OPTIONS_INIT;
  timer.wait = [](cano_task_ctx*, void*) { return CANO_OK; };
  ASSERT_EQ(cano_workflow_register_timer(f.wf.get(), kWork, &options, &timer, nullptr), CANO_OK);
  ErrorPtr err;
  EXPECT_EQ(f.run(err), CANO_E_TASK_EXECUTION);
  EXPECT_NE(err.message().find("chose no wait"), std::string::npos) << err.message();

  ModelFixture g;
  auto failing = task(go_to(kDone));
  timer.wait = [](cano_task_ctx* ctx, void*) { return cano_task_ctx_fail(ctx, -11, "no clock"); };
  ASSERT_EQ(cano_workflow_register_timer(g.wf.get(), kWork, &failing, &timer, nullptr), CANO_OK);
  EXPECT_EQ(g.run(err), CANO_E_RESOURCE_NOT_FOUND);
  EXPECT_EQ(err.message(), "no clock");
}

TEST(Timer, RegistrationErrorsReleaseTheUserData) {
  ModelFixture f;
  int destroyed = 0;
  cano_task_options options = CANO_TASK_OPTIONS_INIT;
  options.run = [](cano_task_ctx* ctx, void*) { return cano_task_ctx_next(ctx, kDone); };
  options.user_data = &destroyed;
  options.destroy = [](void* p) { ++*static_cast<int*>(p); };
  ErrorPtr err;
  EXPECT_EQ(cano_workflow_register_timer(f.wf.get(), kWork, &options, nullptr, err.out()),
            CANO_E_INVALID_ARGUMENT);
  EXPECT_EQ(destroyed, 1);
  cano_timer_options timer = CANO_TIMER_OPTIONS_INIT;
  EXPECT_EQ(cano_workflow_register_timer(f.wf.get(), 9, &options, &timer, err.out()),
            CANO_E_CONFIGURATION);
  EXPECT_EQ(destroyed, 2);
  timer.struct_size = 2;
  EXPECT_EQ(cano_workflow_register_timer(f.wf.get(), kWork, &options, &timer, err.out()),
            CANO_E_VERSION);
  EXPECT_EQ(destroyed, 3);
  EXPECT_EQ(cano_task_ctx_wait_for(nullptr, 1), CANO_E_INVALID_ARGUMENT);
  EXPECT_EQ(cano_task_ctx_wait_until(nullptr, 1), CANO_E_INVALID_ARGUMENT);
}
