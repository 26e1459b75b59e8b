// The cancel callback of async tasks (cano_task_options.cancel): an abandoned pending attempt is
// told at once, with its token, whatever abandoned it: its attempt timeout, a lost split
// branch, a cancelled run, engine shutdown. Attempts that finish are never told.
#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "test_support.hpp"

using namespace cano_test;

namespace {

enum : int32_t { kWork = 0, kJoin = 1, kDone = 2 };

// What the cancel callback saw: the tokens it was told about, and on which thread.
struct Notices {
  std::mutex mutex;
  std::vector<uint64_t> tokens;
  std::vector<uint64_t> started;  // tokens of every attempt that started
  std::thread::id thread;

  void started_with(uint64_t token) {
    std::lock_guard<std::mutex> lock(mutex);
    started.push_back(token);
  }
  size_t count() {
    std::lock_guard<std::mutex> lock(mutex);
    return tokens.size();
  }
  size_t started_count() {
    std::lock_guard<std::mutex> lock(mutex);
    return started.size();
  }
};

struct CancelContext {
  Body body;
  Notices* notices;
};

cano_status call_cancel_body(cano_task_ctx* ctx, void* user_data) {
  return static_cast<CancelContext*>(user_data)->body(ctx);
}
void record_cancel(uint64_t token, void* user_data) {
  Notices* notices = static_cast<CancelContext*>(user_data)->notices;
  std::lock_guard<std::mutex> lock(notices->mutex);
  notices->tokens.push_back(token);
  notices->thread = std::this_thread::get_id();
}
void delete_cancel_context(void* user_data) { delete static_cast<CancelContext*>(user_data); }

cano_task_options async_task(Body body, Notices* notices) {
  cano_task_options options = CANO_TASK_OPTIONS_INIT;
  options.run = &call_cancel_body;
  options.cancel = &record_cancel;
  options.user_data = new CancelContext{std::move(body), notices};
  options.destroy = &delete_cancel_context;
  options.mode = CANO_TASK_ASYNC;
  cano_task_options_retry_none(&options);
  return options;
}

// An async body that records its token and stays pending.
Body pending(Notices* notices) {
  return [notices](cano_task_ctx* ctx) {
    notices->started_with(cano_task_ctx_token(ctx));
    return CANO_PENDING;
  };
}

struct Fixture {
  EnginePtr engine;
  WorkflowPtr wf;
  explicit Fixture(bool manual) : engine(make_engine(manual)) {
    cano_workflow* raw = nullptr;
    EXPECT_EQ(cano_workflow_create(&raw, nullptr, nullptr), CANO_OK);
    wf.reset(raw);
    EXPECT_EQ(cano_workflow_add_state(raw, kWork, "Work", nullptr), CANO_OK);
    EXPECT_EQ(cano_workflow_add_state(raw, kJoin, "Join", nullptr), CANO_OK);
    EXPECT_EQ(cano_workflow_add_state(raw, kDone, "Done", nullptr), CANO_OK);
    EXPECT_EQ(cano_workflow_add_exit_state(raw, kDone, nullptr), CANO_OK);
  }
};

}  // namespace

TEST(TaskCancel, AnAttemptTimeoutTellsTheAbandonedAttemptItsToken) {
  Fixture f(/*manual=*/true);
  Notices notices;
  cano_task_options options = async_task(pending(&notices), &notices);
  cano_task_options_retry_fixed(&options, 1, 0);
  options.attempt_timeout_ms = 100;
  ASSERT_EQ(cano_workflow_register(f.wf.get(), kWork, &options, nullptr), CANO_OK);
  RunResult result;
  ASSERT_EQ(cano_run_start(nullptr, f.engine.get(), f.wf.get(), kWork, &RunResult::callback,
                           &result, nullptr),
            CANO_OK);
  wait_for_timer(f.engine.get());
  ASSERT_EQ(cano_engine_clock_advance(f.engine.get(), 100, nullptr), CANO_OK);
  // Attempt 1 is told; attempt 2 starts and is still pending, so it is not.
  ASSERT_TRUE(eventually([&] { return notices.count() == 1 && notices.started_count() == 2; }));
  {
    std::lock_guard<std::mutex> lock(notices.mutex);
    EXPECT_EQ(notices.tokens[0], notices.started[0]);
  }
  // A completion of the told attempt is still accepted and ignored.
  EXPECT_EQ(cano_task_complete(f.engine.get(), notices.started[0], kDone, nullptr), CANO_OK);
  EXPECT_EQ(cano_task_complete(f.engine.get(), notices.started[1], kDone, nullptr), CANO_OK);
  ASSERT_TRUE(result.wait());
  EXPECT_EQ(result.status, CANO_OK);
  EXPECT_EQ(notices.count(), 1u);
}

TEST(TaskCancel, ALosingSplitBranchIsToldAndTheWinnerIsNot) {
  Fixture f(/*manual=*/false);
  Notices winner;
  Notices losers;
  std::vector<cano_task_options> branches;
  branches.push_back(async_task(
      [&](cano_task_ctx* ctx) {
        winner.started_with(cano_task_ctx_token(ctx));
        // Finishes inside the body: the split ends with this success (Any).
        cano_task_complete(cano_task_ctx_engine(ctx), cano_task_ctx_token(ctx), kJoin, nullptr);
        return CANO_PENDING;
      },
      &winner));
  branches.push_back(async_task(pending(&losers), &losers));
  branches.push_back(async_task(pending(&losers), &losers));
  cano_join_options join = CANO_JOIN_OPTIONS_INIT;
  join.strategy = CANO_JOIN_ANY;
  join.join_state = kDone;
  ASSERT_EQ(cano_workflow_register_split(f.wf.get(), kWork, branches.data(), branches.size(), &join,
                                         nullptr),
            CANO_OK);
  RunResult result;
  ASSERT_EQ(cano_run_start(nullptr, f.engine.get(), f.wf.get(), kWork, &RunResult::callback,
                           &result, nullptr),
            CANO_OK);
  ASSERT_TRUE(result.wait());
  EXPECT_EQ(result.status, CANO_OK) << result.message;
  ASSERT_TRUE(eventually([&] { return losers.count() == 2; }));
  std::vector<uint64_t> told = losers.tokens;
  std::vector<uint64_t> started = losers.started;
  std::sort(told.begin(), told.end());
  std::sort(started.begin(), started.end());
  EXPECT_EQ(told, started);
  f.engine.reset();  // nothing else is told, not even at shutdown
  EXPECT_EQ(winner.count(), 0u);
  EXPECT_EQ(losers.count(), 2u);
}

TEST(TaskCancel, CancellingARunTellsItsPendingAttemptOnTheLoopThread) {
  Fixture f(/*manual=*/false);
  Notices notices;
  std::atomic<std::thread::id> body_thread{};
  cano_task_options options = async_task(
      [&](cano_task_ctx* ctx) {
        body_thread = std::this_thread::get_id();
        notices.started_with(cano_task_ctx_token(ctx));
        return CANO_PENDING;
      },
      &notices);
  ASSERT_EQ(cano_workflow_register(f.wf.get(), kWork, &options, nullptr), CANO_OK);
  RunResult result;
  uint64_t run_id = 0;
  ASSERT_EQ(cano_run_start(&run_id, f.engine.get(), f.wf.get(), kWork, &RunResult::callback,
                           &result, nullptr),
            CANO_OK);
  ASSERT_TRUE(eventually([&] { return notices.started_count() == 1; }));
  ASSERT_EQ(cano_run_cancel(f.engine.get(), run_id, nullptr), CANO_OK);
  ASSERT_TRUE(result.wait());
  EXPECT_EQ(result.status, CANO_E_CANCELLED);
  ASSERT_TRUE(eventually([&] { return notices.count() == 1; }));
  std::lock_guard<std::mutex> lock(notices.mutex);
  EXPECT_EQ(notices.tokens[0], notices.started[0]);
  EXPECT_EQ(notices.thread, body_thread.load()) << "told on the loop thread";
}

TEST(TaskCancel, ShutdownTellsPendingAttemptsBeforeItReturns) {
  Fixture f(/*manual=*/false);
  Notices notices;
  cano_task_options options = async_task(pending(&notices), &notices);
  ASSERT_EQ(cano_workflow_register(f.wf.get(), kWork, &options, nullptr), CANO_OK);
  RunResult first;
  RunResult second;
  ASSERT_EQ(cano_run_start(nullptr, f.engine.get(), f.wf.get(), kWork, &RunResult::callback, &first,
                           nullptr),
            CANO_OK);
  ASSERT_EQ(cano_run_start(nullptr, f.engine.get(), f.wf.get(), kWork, &RunResult::callback,
                           &second, nullptr),
            CANO_OK);
  ASSERT_TRUE(eventually([&] { return notices.started_count() == 2; }));
  f.engine.reset();
  EXPECT_EQ(first.status, CANO_E_SHUTDOWN);
  EXPECT_EQ(second.status, CANO_E_SHUTDOWN);
  EXPECT_EQ(notices.count(), 2u);
}

TEST(TaskCancel, FinishedAttemptsAndOtherModesAreNeverTold) {
  Fixture f(/*manual=*/false);
  Notices notices;
  // An async attempt that completes, then a worker whose options carry a cancel callback and
  // whose attempt times out: neither is told (worker bodies watch cano_task_ctx_cancelled).
  cano_task_options first = async_task(
      [&](cano_task_ctx* ctx) {
        cano_task_complete(cano_task_ctx_engine(ctx), cano_task_ctx_token(ctx), kJoin, nullptr);
        return CANO_PENDING;
      },
      &notices);
  ASSERT_EQ(cano_workflow_register(f.wf.get(), kWork, &first, nullptr), CANO_OK);
  cano_task_options second = async_task(
      [](cano_task_ctx* ctx) {
        while (cano_task_ctx_cancelled(ctx) == 0) {
          std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
        return cano_task_ctx_fail(ctx, CANO_E_TASK_EXECUTION, "cancelled");
      },
      &notices);
  second.mode = CANO_TASK_WORKER;
  second.attempt_timeout_ms = 20;
  ASSERT_EQ(cano_workflow_register(f.wf.get(), kJoin, &second, nullptr), CANO_OK);
  ErrorPtr err;
  int32_t final_state = -1;
  EXPECT_EQ(cano_run_wait(&final_state, f.engine.get(), f.wf.get(), kWork, err.out()),
            CANO_E_TIMEOUT);
  f.engine.reset();
  EXPECT_EQ(notices.count(), 0u);
}
