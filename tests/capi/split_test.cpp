// Split states through the C API (cano/split.h): every join strategy with cano's success rules,
// early exits and texts, the edge cases, the split timeout, the bulkhead, cancellation of the
// branches that lose, and the split result the join state's task reads.
#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

using namespace cano_test;

namespace {

enum : int32_t { kSplit = 0, kJoin = 1, kDone = 2 };

// A branch body: succeeds (leaving `value`) or fails with `message`.
Body branch(bool ok, std::string value = "", std::string message = "boom") {
  return [=](cano_task_ctx* ctx) {
    if (!ok) return cano_task_ctx_fail(ctx, CANO_E_TASK_EXECUTION, message.c_str());
    if (!value.empty()) cano_task_ctx_set_value(ctx, value.data(), value.size());
    return CANO_OK;
  };
}

struct SplitFixture {
  EnginePtr engine;
  WorkflowPtr wf;
  std::vector<std::string> seen;  // what the join task read, one line per branch
  std::mutex seen_mutex;

  explicit SplitFixture(bool manual = false) : engine(make_engine(manual)) {
    cano_workflow* raw = nullptr;
    EXPECT_EQ(cano_workflow_create(&raw, nullptr, nullptr), CANO_OK);
    wf.reset(raw);
    EXPECT_EQ(cano_workflow_add_state(raw, kSplit, "Fan", nullptr), CANO_OK);
    EXPECT_EQ(cano_workflow_add_state(raw, kJoin, "Join", nullptr), CANO_OK);
    EXPECT_EQ(cano_workflow_add_state(raw, kDone, "Done", nullptr), CANO_OK);
    EXPECT_EQ(cano_workflow_add_exit_state(raw, kDone, nullptr), CANO_OK);
    auto join = task([this](cano_task_ctx* ctx) {
      const cano_split_result* result = cano_task_ctx_split_result(ctx);
      std::lock_guard<std::mutex> lock(seen_mutex);
      if (result == nullptr) {
        seen.push_back("no result");
        return cano_task_ctx_next(ctx, kDone);
      }
      for (size_t i = 0; i < cano_split_result_count(result); ++i) {
        size_t len = 0;
        const void* value = cano_split_result_value(result, i, &len);
        const cano_error* error = cano_split_result_error(result, i);
        std::string line = std::to_string(cano_split_result_status(result, i));
        if (value != nullptr) line += " " + std::string(static_cast<const char*>(value), len);
        if (error != nullptr) line += std::string(" ") + cano_error_message(error);
        seen.push_back(line);
      }
      return cano_task_ctx_next(ctx, kDone);
    });
    EXPECT_EQ(cano_workflow_register(raw, kJoin, &join, nullptr), CANO_OK);
  }

  cano_status split(std::vector<cano_task_options> branches, cano_join_options join,
                    cano_error** err = nullptr) {
    join.join_state = kJoin;
    return cano_workflow_register_split(wf.get(), kSplit, branches.data(), branches.size(), &join,
                                        err);
  }

  cano_status run(ErrorPtr& err, int32_t* final_state = nullptr) {
    return cano_run_wait(final_state, engine.get(), wf.get(), kSplit, err.out());
  }
};

cano_join_options strategy(cano_join_strategy s, uint32_t count = 0, double percentage = 0.0) {
  cano_join_options join = CANO_JOIN_OPTIONS_INIT;
  join.strategy = s;
  join.count = count;
  join.percentage = percentage;
  return join;
}

}  // namespace

TEST(Split, AllSucceedsAndTheJoinTaskReadsEveryValue) {
  SplitFixture f;
  ASSERT_EQ(f.split({task(branch(true, "a")), task(branch(true, "b"), CANO_TASK_WORKER),
                     task(branch(true))},
                    strategy(CANO_JOIN_ALL)),
            CANO_OK);
  ErrorPtr err;
  int32_t final_state = -1;
  ASSERT_EQ(f.run(err, &final_state), CANO_OK) << err.describe();
  EXPECT_EQ(final_state, kDone);
  EXPECT_EQ(f.seen, (std::vector<std::string>{"0 a", "0 b", "0"}));
}

TEST(Split, AllWaitsForEveryBranchAndListsTheErrors) {
  SplitFixture f;
  ASSERT_EQ(f.split({task(branch(true)), task(branch(false, "", "one")),
                     task(branch(false, "", "two"), CANO_TASK_WORKER)},
                    strategy(CANO_JOIN_ALL)),
            CANO_OK);
  ErrorPtr err;
  int32_t final_state = -1;
  ASSERT_EQ(f.run(err, &final_state), CANO_E_WORKFLOW);
  EXPECT_EQ(final_state, kSplit);
  EXPECT_EQ(err.message(),
            "Join condition not met: 1 of 3 tasks completed successfully, strategy: All; errors: "
            "task 1: Task execution error: one; task 2: Task execution error: two");
  EXPECT_STREQ(cano_error_state_name(err.err), "Fan");
}

TEST(Split, ErrorSummaryListsThreeThenCountsTheRest) {
  SplitFixture f;
  std::vector<cano_task_options> branches;
  for (int i = 0; i < 5; ++i) branches.push_back(task(branch(false, "", "e" + std::to_string(i))));
  ASSERT_EQ(f.split(branches, strategy(CANO_JOIN_QUORUM, 1)), CANO_OK);
  ErrorPtr err;
  ASSERT_EQ(f.run(err), CANO_E_WORKFLOW);
  EXPECT_EQ(err.message(),
            "Join condition not met: 0 of 5 tasks completed successfully, strategy: Quorum(1); "
            "errors: task 0: Task execution error: e0; task 1: Task execution error: e1; task 2: "
            "Task execution error: e2; ... and 2 more error(s)");
}

TEST(Split, AnyEndsAtTheFirstSuccessAndCancelsTheBlockedWorkers) {
  SplitFixture f;
  std::atomic<int> started{0}, saw_cancel{0};
  auto blocker = [&started, &saw_cancel](cano_task_ctx* ctx) {
    ++started;
    while (!cano_task_ctx_cancelled(ctx))
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    ++saw_cancel;
    return CANO_OK;  // discarded: the split has moved on
  };
  ASSERT_EQ(f.split({task(blocker, CANO_TASK_WORKER), task(branch(true, "win"), CANO_TASK_WORKER),
                     task(blocker, CANO_TASK_WORKER)},
                    strategy(CANO_JOIN_ANY)),
            CANO_OK);
  ErrorPtr err;
  ASSERT_EQ(f.run(err), CANO_OK) << err.describe();
  EXPECT_EQ(f.seen, (std::vector<std::string>{"2", "0 win", "2"}));
  // With two workers one blocker may still be queued when the winner ends the split: the engine
  // then never starts it. Every blocker that did start is told to stop.
  EXPECT_TRUE(
      eventually([&] { return started.load() >= 1 && saw_cancel.load() == started.load(); }));
}

TEST(Split, QuorumAndPercentageWaitForAllAndCountSuccesses) {
  {
    SplitFixture f;
    ASSERT_EQ(f.split({task(branch(true)), task(branch(false)), task(branch(true))},
                      strategy(CANO_JOIN_QUORUM, 2)),
              CANO_OK);
    ErrorPtr err;
    EXPECT_EQ(f.run(err), CANO_OK) << err.describe();
    EXPECT_EQ(f.seen.size(), 3u) << "the failed branch ran too";
  }
  {
    SplitFixture f;
    ASSERT_EQ(f.split({task(branch(true)), task(branch(false)), task(branch(true))},
                      strategy(CANO_JOIN_PERCENTAGE, 0, 0.66)),
              CANO_OK);
    ErrorPtr err;
    EXPECT_EQ(f.run(err), CANO_OK) << "ceil(3 * 0.66) = 2 successes needed";
  }
  {
    SplitFixture f;
    ASSERT_EQ(f.split({task(branch(true)), task(branch(false)), task(branch(true))},
                      strategy(CANO_JOIN_PERCENTAGE, 0, 0.7)),
              CANO_OK);
    ErrorPtr err;
    EXPECT_EQ(f.run(err), CANO_E_WORKFLOW);
    EXPECT_NE(err.message().find("strategy: Percentage(0.7); errors: task 1:"), std::string::npos)
        << err.message();
  }
}

TEST(Split, PartialResultsExitsOnceEnoughSucceeded) {
  SplitFixture f;
  ASSERT_EQ(f.split({task(branch(false, "", "x")), task(branch(true, "1")), task(branch(true, "2")),
                     task(branch(true, "3"))},
                    strategy(CANO_JOIN_PARTIAL_RESULTS, 2)),
            CANO_OK);
  ErrorPtr err;
  ASSERT_EQ(f.run(err), CANO_OK) << err.describe();
  EXPECT_EQ(f.seen, (std::vector<std::string>{"1 x", "0 1", "0 2", "2"}));

  SplitFixture g;
  ASSERT_EQ(g.split({task(branch(false, "", "x")), task(branch(true))},
                    strategy(CANO_JOIN_PARTIAL_RESULTS, 2)),
            CANO_OK);
  EXPECT_EQ(g.run(err), CANO_E_WORKFLOW);
  EXPECT_EQ(err.message(),
            "Partial results condition not met: 1 completed successfully, 2 required; errors: task "
            "0: Task execution error: x");
}

TEST(Split, EdgeCasesOfZeroBranchesAndQuorumBounds) {
  struct Case {
    cano_join_strategy strategy;
    uint32_t count;
    double percentage;
    bool ok;
  };
  const Case zero_branch_cases[] = {{CANO_JOIN_ALL, 0, 0, true},
                                    {CANO_JOIN_QUORUM, 0, 0, true},
                                    {CANO_JOIN_PERCENTAGE, 0, 0.5, true},
                                    {CANO_JOIN_ANY, 0, 0, false},
                                    {CANO_JOIN_PARTIAL_RESULTS, 0, 0, true}};
  for (const Case& c : zero_branch_cases) {
    SplitFixture f;
    ASSERT_EQ(f.split({}, strategy(c.strategy, c.count, c.percentage)), CANO_OK);
    ErrorPtr err;
    EXPECT_EQ(f.run(err) == CANO_OK, c.ok) << "strategy " << c.strategy << ": " << err.message();
  }
  SplitFixture any;
  ASSERT_EQ(any.split({}, strategy(CANO_JOIN_ANY)), CANO_OK);
  ErrorPtr err;
  EXPECT_EQ(any.run(err), CANO_E_WORKFLOW);
  EXPECT_EQ(err.message(),
            "Join condition not met: 0 of 0 tasks completed successfully, strategy: Any");

  SplitFixture too_many;
  ASSERT_EQ(too_many.split({task(branch(true)), task(branch(true))}, strategy(CANO_JOIN_QUORUM, 3)),
            CANO_OK);
  EXPECT_EQ(too_many.run(err), CANO_E_WORKFLOW);

  SplitFixture quorum_zero;
  ASSERT_EQ(quorum_zero.split({task(branch(false))}, strategy(CANO_JOIN_QUORUM, 0)), CANO_OK);
  EXPECT_EQ(quorum_zero.run(err), CANO_OK);
}

TEST(Split, SplitTimeoutFailsEveryStrategyButPartialTimeout) {
  SplitFixture f(/*manual=*/true);
  auto never = task([](cano_task_ctx*) { return CANO_PENDING; }, CANO_TASK_ASYNC);
  cano_join_options join = strategy(CANO_JOIN_ALL);
  join.timeout_ms = 100;
  ASSERT_EQ(f.split({task(branch(true)), never}, join), CANO_OK);
  std::thread advancer([&] {
    wait_for_timer(f.engine.get());
    cano_engine_clock_advance(f.engine.get(), 100, nullptr);
  });
  ErrorPtr err;
  EXPECT_EQ(f.run(err), CANO_E_WORKFLOW);
  advancer.join();
  EXPECT_EQ(err.message(), "Split task timeout exceeded");
}

TEST(Split, PartialTimeoutSucceedsWhenAnyBranchCompleted) {
  SplitFixture f(/*manual=*/true);
  auto never = task([](cano_task_ctx*) { return CANO_PENDING; }, CANO_TASK_ASYNC);
  cano_join_options join = strategy(CANO_JOIN_PARTIAL_TIMEOUT);
  join.timeout_ms = 100;
  ASSERT_EQ(f.split({task(branch(false, "", "bad")), never}, join), CANO_OK);
  std::thread advancer([&] {
    wait_for_timer(f.engine.get());
    cano_engine_clock_advance(f.engine.get(), 100, nullptr);
  });
  ErrorPtr err;
  EXPECT_EQ(f.run(err), CANO_OK) << err.describe();
  advancer.join();
  EXPECT_EQ(f.seen, (std::vector<std::string>{"1 bad", "2"}));

  SplitFixture none(/*manual=*/true);
  auto never2 = task([](cano_task_ctx*) { return CANO_PENDING; }, CANO_TASK_ASYNC);
  ASSERT_EQ(none.split({never2}, join), CANO_OK);
  std::thread advancer2([&] {
    wait_for_timer(none.engine.get());
    cano_engine_clock_advance(none.engine.get(), 100, nullptr);
  });
  EXPECT_EQ(none.run(err), CANO_E_WORKFLOW);
  advancer2.join();
  EXPECT_EQ(err.message(), "PartialTimeout: No tasks completed before timeout");
}

TEST(Split, BulkheadCapsConcurrentBranchesThroughTheirRetries) {
  SplitFixture f;
  std::atomic<int> running{0}, peak{0}, attempts{0};
  auto body = [&](cano_task_ctx* ctx) {
    int now = ++running;
    int seen = peak.load();
    while (now > seen && !peak.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    --running;
    ++attempts;
    // Each branch fails its first attempt: its retry must keep its slot.
    if (cano_task_ctx_attempt(ctx) == 1) return cano_task_ctx_fail(ctx, -1, "again");
    return CANO_OK;
  };
  std::vector<cano_task_options> branches;
  for (int i = 0; i < 6; ++i) {
    auto options = task(body, CANO_TASK_WORKER);
    cano_task_options_retry_fixed(&options, 1, 1);
    branches.push_back(options);
  }
  cano_join_options join = strategy(CANO_JOIN_ALL);
  join.bulkhead = 2;
  cano_engine_options options = CANO_ENGINE_OPTIONS_INIT;
  options.worker_threads = 4;
  cano_engine* raw = nullptr;
  ASSERT_EQ(cano_engine_create(&raw, &options, nullptr), CANO_OK);
  f.engine.reset(raw);
  ASSERT_EQ(f.split(branches, join), CANO_OK);
  ErrorPtr err;
  ASSERT_EQ(f.run(err), CANO_OK) << err.describe();
  EXPECT_EQ(attempts.load(), 12);
  EXPECT_LE(peak.load(), 2);
}

TEST(Split, ValidationFollowsCanosOrderAndTexts) {
  {
    SplitFixture f;
    ASSERT_EQ(f.split({task(branch(true))}, strategy(CANO_JOIN_PARTIAL_TIMEOUT)), CANO_OK);
    ErrorPtr err;
    EXPECT_EQ(cano_workflow_validate(f.wf.get(), err.out()), CANO_E_CONFIGURATION);
    EXPECT_EQ(err.message(), "PartialTimeout strategy requires a timeout to be configured");
  }
  for (double bad : {0.0, 1.5, -1.0}) {
    SplitFixture f;
    ASSERT_EQ(f.split({task(branch(true))}, strategy(CANO_JOIN_PERCENTAGE, 0, bad)), CANO_OK);
    ErrorPtr err;
    EXPECT_EQ(cano_workflow_validate(f.wf.get(), err.out()), CANO_E_CONFIGURATION);
    EXPECT_EQ(
        err.message().rfind("Percentage strategy requires a finite value in (0.0, 1.0], got ", 0),
        0u)
        << err.message();
  }
  {
    SplitFixture f;
    ASSERT_EQ(f.split({task(branch(true))}, strategy(CANO_JOIN_PERCENTAGE, 0, 2.0)), CANO_OK);
    ErrorPtr err;
    EXPECT_EQ(cano_workflow_validate(f.wf.get(), err.out()), CANO_E_CONFIGURATION);
    EXPECT_EQ(err.message(), "Percentage strategy requires a finite value in (0.0, 1.0], got 2");
  }
  {
    SplitFixture f;
    cano_join_options join = strategy(CANO_JOIN_ALL);
    auto options = task(branch(true));
    join.join_state = 77;
    ASSERT_EQ(cano_workflow_register_split(f.wf.get(), kSplit, &options, 1, &join, nullptr),
              CANO_OK);
    ErrorPtr err;
    EXPECT_EQ(cano_workflow_validate(f.wf.get(), err.out()), CANO_E_CONFIGURATION);
    EXPECT_EQ(err.message(), "Split join_state 77 is neither registered nor an exit state");
  }
}

TEST(Split, RegistrationReleasesBranchUserDataOnError) {
  SplitFixture f;
  int destroyed = 0;
  auto counted = [&destroyed] {
    cano_task_options options = CANO_TASK_OPTIONS_INIT;
    options.run = [](cano_task_ctx*, void*) { return CANO_OK; };
    options.user_data = &destroyed;
    options.destroy = [](void* p) { ++*static_cast<int*>(p); };
    return options;
  };
  std::vector<cano_task_options> branches{counted(), counted()};
  cano_join_options join = strategy(CANO_JOIN_ALL);
  ErrorPtr err;
  EXPECT_EQ(cano_workflow_register_split(f.wf.get(), 99, branches.data(), 2, &join, err.out()),
            CANO_E_CONFIGURATION);
  EXPECT_EQ(destroyed, 2);
  branches[1].run = nullptr;
  EXPECT_EQ(cano_workflow_register_split(f.wf.get(), kSplit, branches.data(), 2, &join, err.out()),
            CANO_E_INVALID_ARGUMENT);
  EXPECT_EQ(destroyed, 4);
  join.strategy = static_cast<cano_join_strategy>(42);
  branches[1].run = branches[0].run;
  EXPECT_EQ(cano_workflow_register_split(f.wf.get(), kSplit, branches.data(), 2, &join, err.out()),
            CANO_E_INVALID_ARGUMENT);
  EXPECT_EQ(destroyed, 6);
  EXPECT_EQ(cano_workflow_register_split(f.wf.get(), kSplit, nullptr, 1, &join, err.out()),
            CANO_E_INVALID_ARGUMENT);
  join.strategy = CANO_JOIN_ALL;
  EXPECT_EQ(cano_workflow_register_split(f.wf.get(), kSplit, branches.data(), 2, &join, err.out()),
            CANO_OK);
  f.wf.reset();
  EXPECT_EQ(destroyed, 8);
}

TEST(Split, ResultAccessorsAreNullSafe) {
  EXPECT_EQ(cano_split_result_count(nullptr), 0u);
  EXPECT_EQ(cano_split_result_succeeded(nullptr), 0u);
  EXPECT_EQ(cano_split_result_failed(nullptr), 0u);
  EXPECT_EQ(cano_split_result_cancelled(nullptr), 0u);
  EXPECT_EQ(cano_split_result_status(nullptr, 0), CANO_BRANCH_CANCELLED);
  size_t len = 7;
  EXPECT_EQ(cano_split_result_value(nullptr, 0, &len), nullptr);
  EXPECT_EQ(len, 0u);
  EXPECT_EQ(cano_split_result_error(nullptr, 0), nullptr);
  EXPECT_EQ(cano_task_ctx_split_result(nullptr), nullptr);
  EXPECT_EQ(cano_task_ctx_set_value(nullptr, "x", 1), CANO_E_INVALID_ARGUMENT);
}

TEST(Split, CountsAreReportedAndOnlyTheJoinStateSeesTheResult) {
  SplitFixture f;
  ASSERT_EQ(f.split({task(branch(true)), task(branch(false))}, strategy(CANO_JOIN_ANY)), CANO_OK);
  // A state after the join sees no split result.
  cano_workflow* raw = f.wf.get();
  ASSERT_EQ(cano_workflow_add_state(raw, 3, "After", nullptr), CANO_OK);
  std::atomic<int> counts{-1};
  auto join = task([&counts](cano_task_ctx* ctx) {
    const cano_split_result* r = cano_task_ctx_split_result(ctx);
    counts = static_cast<int>(cano_split_result_succeeded(r) * 100 +
                              cano_split_result_failed(r) * 10 + cano_split_result_cancelled(r));
    return cano_task_ctx_next(ctx, 3);
  });
  std::atomic<bool> after_saw_none{false};
  auto after = task([&after_saw_none](cano_task_ctx* ctx) {
    after_saw_none = cano_task_ctx_split_result(ctx) == nullptr;
    return cano_task_ctx_next(ctx, kDone);
  });
  ASSERT_EQ(cano_workflow_register(raw, kJoin, &join, nullptr), CANO_OK);
  ASSERT_EQ(cano_workflow_register(raw, 3, &after, nullptr), CANO_OK);
  ErrorPtr err;
  ASSERT_EQ(f.run(err), CANO_OK) << err.describe();
  EXPECT_EQ(counts.load(), 101) << "one success, branch 1 cancelled by Any's early exit";
  EXPECT_TRUE(after_saw_none.load());
}
