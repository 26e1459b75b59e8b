// Split states through the C++ wrapper: cano::branch and cano::join over cano/split.h. Every
// strategy with cano's success rules, early exits and error texts, the split timeout under a
// manual clock, the bulkhead, cancelled branches, and what the join state's task reads through
// task_context::split_result() (statuses, values, errors, counts); plus validation, ownership
// of the branch callables, and the builder's rules.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cano/cano.hpp"
#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using cano_test::lifetime_counter;
using cano_test::tracked;

enum class Step { Fan, Join, After, Done };

// The quick branches run inline, one after the other on the loop thread, so that they complete
// in index order: the join's error summary lists errors in completion order.
const cano::task_config quick = cano::task_config::minimal().with_mode(cano::task_mode::inline_);

// A branch that succeeds, leaving `value`.
cano::branch ok(std::string value) {
  return cano::branch([value](cano::task_context&) { return value; }, quick);
}

// A branch that succeeds without a value.
cano::branch ok() { return cano::branch([] {}, quick); }

// A branch that fails with std::runtime_error(message).
cano::branch fails(std::string message) {
  return cano::branch([message]() { throw std::runtime_error(message); }, quick);
}

// How many blocking branches started, and how many of them saw their cancelled flag.
struct blockers {
  std::atomic<int> started{0};
  std::atomic<int> saw_cancel{0};
};

// A worker branch that blocks until it is cancelled (it then returns; its result is discarded).
// A worker attempt abandoned before a worker picked it up never starts at all, so tests that
// count cancellations first make sure the blockers are running (ok_once_started).
cano::branch blocks_until_cancelled(std::shared_ptr<blockers> counts) {
  return cano::branch(
      [counts](cano::task_context& ctx) {
        ++counts->started;
        if (cano_test::wait_until([&] { return ctx.cancelled(); })) ++counts->saw_cancel;
        return std::string("late");
      },
      cano::task_config::minimal());
}

// A worker branch that succeeds with `value` once `n` blockers are running.
cano::branch ok_once_started(std::shared_ptr<blockers> counts, int n, std::string value) {
  return cano::branch(
      [counts, n, value] {
        cano_test::wait_until([&] { return counts->started.load() >= n; });
        return value;
      },
      cano::task_config::minimal());
}

// What the join task saw: one line per branch, "<status> [value] [error message]", plus the
// counts "S/F/C of N".
struct seen_log {
  std::mutex mutex;
  std::vector<std::string> lines;
  std::string counts;
  bool called = false;

  std::vector<std::string> get() {
    std::lock_guard<std::mutex> lock(mutex);
    return lines;
  }
};

const char* status_name(cano::branch_status status) {
  switch (status) {
    case cano::branch_status::succeeded: return "ok";
    case cano::branch_status::failed: return "failed";
    case cano::branch_status::cancelled: return "cancelled";
  }
  return "?";
}

// A workflow Fan -(split)-> Join -> Done whose join task records what it reads.
cano::workflow<Step> split_workflow(const std::shared_ptr<seen_log>& seen) {
  cano::workflow<Step> wf{{Step::Fan, "Fan"}, {Step::Join, "Join"}, {Step::Done, "Done"}};
  wf.register_task(
        Step::Join,
        [seen](cano::task_context& ctx) {
          std::optional<cano::split_result> split = ctx.split_result();
          std::lock_guard<std::mutex> lock(seen->mutex);
          seen->called = true;
          if (!split) {
            seen->lines.push_back("no result");
            return Step::Done;
          }
          for (std::size_t i = 0; i < split->size(); ++i) {
            std::string line = status_name(split->status(i));
            if (auto value = split->value(i)) line += " " + std::string(*value);
            if (auto error = split->error(i)) line += std::string(" ") + error->message();
            seen->lines.push_back(line);
          }
          seen->counts = std::to_string(split->succeeded()) + "/" +
                         std::to_string(split->failed()) + "/" +
                         std::to_string(split->cancelled()) + " of " +
                         std::to_string(split->size());
          return Step::Done;
        },
        cano::task_config::minimal())
      .add_exit_state(Step::Done);
  return wf;
}

// Runs the workflow and returns the workflow_error it fails with ("" when it succeeds).
std::string run_expecting_failure(cano::workflow<Step>& wf, cano::engine& engine) {
  try {
    wf.orchestrate(engine, Step::Fan);
  } catch (const cano::workflow_error& e) {
    EXPECT_EQ(e.state_name(), "Fan");
    return e.message();
  }
  return "";
}

TEST(CppSplit, AllSucceedsAndTheJoinTaskReadsEveryValue) {
  auto seen = std::make_shared<seen_log>();
  auto wf = split_workflow(seen);
  wf.register_split(Step::Fan,
                    {
                        // Every branch form and value type.
                        [](cano::task_context&) { return std::string("ctx"); },
                        [](cano::resources& res) {
                          return std::string(res.empty() ? "no resources" : "resources");
                        },
                        [] { return "literal"; },
                        [] { return std::vector<std::uint8_t>{'b', 'y', 't', 'e', 's'}; },
                        [](auto& ctx) { return std::string(ctx.cancelled() ? "?" : "generic"); },
                        [] {},
                    },
                    cano::join::all(), Step::Join);
  cano::engine engine;
  EXPECT_EQ(wf.orchestrate(engine, Step::Fan), Step::Done);
  EXPECT_EQ(seen->get(), (std::vector<std::string>{"ok ctx", "ok no resources", "ok literal",
                                                    "ok bytes", "ok generic", "ok"}));
  EXPECT_EQ(seen->counts, "6/0/0 of 6");
}

TEST(CppSplit, ValuesAreBytesAndAnEmptyValueIsPresent) {
  std::optional<std::vector<std::uint8_t>> binary;
  std::optional<std::string_view> empty_value;
  bool void_has_value = true;
  std::optional<std::vector<std::uint8_t>> out_of_range;
  const std::vector<std::uint8_t> payload{0, 1, 0, 255, 7};
  cano::workflow<Step> wf{{Step::Fan, "Fan"}, {Step::Join, "Join"}, {Step::Done, "Done"}};
  wf.register_split(Step::Fan,
                    {[payload] { return payload; }, [] { return std::string(); }, [] {}},
                    cano::join::all(), Step::Join)
      .register_task(Step::Join,
                     [&](cano::task_context& ctx) {
                       auto split = ctx.split_result();
                       binary = split->bytes(0);
                       // The view is valid during the call only: compare it here.
                       empty_value = split->value(1);
                       EXPECT_TRUE(empty_value.has_value());
                       EXPECT_TRUE(empty_value->empty());
                       void_has_value = split->value(2).has_value();
                       out_of_range = split->bytes(3);
                       EXPECT_EQ(split->status(3), cano::branch_status::cancelled);
                       EXPECT_FALSE(split->error(3).has_value());
                       EXPECT_NE(split->native(), nullptr);
                       return Step::Done;
                     })
      .add_exit_state(Step::Done);
  cano::engine engine;
  EXPECT_EQ(wf.orchestrate(engine, Step::Fan), Step::Done);
  EXPECT_EQ(binary, std::optional(payload));
  EXPECT_FALSE(void_has_value);
  EXPECT_FALSE(out_of_range.has_value());
}

TEST(CppSplit, AllWaitsForEveryBranchAndListsTheErrors) {
  auto seen = std::make_shared<seen_log>();
  auto wf = split_workflow(seen);
  wf.register_split(Step::Fan, {ok(), fails("one"), fails("two")}, cano::join::all(),
                    Step::Join);
  cano::engine engine;
  EXPECT_EQ(run_expecting_failure(wf, engine),
            "Join condition not met: 1 of 3 tasks completed successfully, strategy: All; errors: "
            "task 1: Task execution error: one; task 2: Task execution error: two");
  EXPECT_FALSE(seen->called) << "a failed join never reaches the join state";
}

TEST(CppSplit, ErrorSummaryListsThreeThenCountsTheRest) {
  auto seen = std::make_shared<seen_log>();
  auto wf = split_workflow(seen);
  std::vector<cano::branch> branches;
  for (int i = 0; i < 5; ++i) branches.push_back(fails("e" + std::to_string(i)));
  wf.register_split(Step::Fan, branches, cano::join::quorum(1), Step::Join);
  cano::engine engine;
  EXPECT_EQ(run_expecting_failure(wf, engine),
            "Join condition not met: 0 of 5 tasks completed successfully, strategy: Quorum(1); "
            "errors: task 0: Task execution error: e0; task 1: Task execution error: e1; task 2: "
            "Task execution error: e2; ... and 2 more error(s)");
}

TEST(CppSplit, AnyEndsAtTheFirstSuccessAndCancelsTheBlockedBranches) {
  auto seen = std::make_shared<seen_log>();
  auto counts = std::make_shared<blockers>();
  auto wf = split_workflow(seen);
  wf.register_split(Step::Fan,
                    {blocks_until_cancelled(counts), ok_once_started(counts, 2, "win"),
                     blocks_until_cancelled(counts)},
                    cano::join::any(), Step::Join);
  cano::engine engine(cano::engine_options().with_worker_threads(4));
  EXPECT_EQ(wf.orchestrate(engine, Step::Fan), Step::Done);
  EXPECT_EQ(seen->get(), (std::vector<std::string>{"cancelled", "ok win", "cancelled"}));
  EXPECT_EQ(seen->counts, "1/0/2 of 3");
  // The losers see their cancelled flag; their late values are discarded.
  EXPECT_TRUE(cano_test::wait_until([&] { return counts->saw_cancel.load() == 2; }));
}

TEST(CppSplit, AnyFailsWhenNoBranchSucceeds) {
  auto seen = std::make_shared<seen_log>();
  auto wf = split_workflow(seen);
  wf.register_split(Step::Fan, {fails("x"), fails("y")}, cano::join::any(), Step::Join);
  cano::engine engine;
  EXPECT_EQ(run_expecting_failure(wf, engine),
            "Join condition not met: 0 of 2 tasks completed successfully, strategy: Any; errors: "
            "task 0: Task execution error: x; task 1: Task execution error: y");
}

TEST(CppSplit, QuorumAndPercentageWaitForAllAndCountSuccesses) {
  cano::engine engine;
  {
    auto seen = std::make_shared<seen_log>();
    auto wf = split_workflow(seen);
    wf.register_split(Step::Fan, {ok("a"), fails("f"), ok("c")}, cano::join::quorum(2),
                      Step::Join);
    EXPECT_EQ(wf.orchestrate(engine, Step::Fan), Step::Done);
    EXPECT_EQ(seen->get(), (std::vector<std::string>{"ok a", "failed f", "ok c"}))
        << "the failed branch ran too; its error message is the branch's own";
    EXPECT_EQ(seen->counts, "2/1/0 of 3");
  }
  {
    auto seen = std::make_shared<seen_log>();
    auto wf = split_workflow(seen);
    wf.register_split(Step::Fan, {ok(), ok()}, cano::join::quorum(3), Step::Join);
    EXPECT_EQ(run_expecting_failure(wf, engine),
              "Join condition not met: 2 of 2 tasks completed successfully, strategy: Quorum(3)");
  }
  {
    auto seen = std::make_shared<seen_log>();
    auto wf = split_workflow(seen);
    wf.register_split(Step::Fan, {ok(), fails("f"), ok()}, cano::join::percentage(0.66),
                      Step::Join);
    EXPECT_EQ(wf.orchestrate(engine, Step::Fan), Step::Done) << "ceil(3 * 0.66) = 2 needed";
  }
  {
    auto seen = std::make_shared<seen_log>();
    auto wf = split_workflow(seen);
    wf.register_split(Step::Fan, {ok(), fails("f"), ok()}, cano::join::percentage(0.7),
                      Step::Join);
    EXPECT_EQ(run_expecting_failure(wf, engine),
              "Join condition not met: 2 of 3 tasks completed successfully, strategy: "
              "Percentage(0.7); errors: task 1: Task execution error: f");
  }
}

TEST(CppSplit, PartialResultsExitsOnceEnoughSucceeded) {
  cano::engine engine;
  {
    auto seen = std::make_shared<seen_log>();
    auto counts = std::make_shared<blockers>();
    auto wf = split_workflow(seen);
    wf.register_split(Step::Fan,
                      {fails("x"), ok("1"), ok_once_started(counts, 1, "2"),
                       blocks_until_cancelled(counts)},
                      cano::join::partial_results(2), Step::Join);
    EXPECT_EQ(wf.orchestrate(engine, Step::Fan), Step::Done);
    EXPECT_EQ(seen->get(),
              (std::vector<std::string>{"failed x", "ok 1", "ok 2", "cancelled"}))
        << "the early exit cancels the branch still running";
    EXPECT_EQ(seen->counts, "2/1/1 of 4");
    EXPECT_TRUE(cano_test::wait_until([&] { return counts->saw_cancel.load() == 1; }));
  }
  {
    auto seen = std::make_shared<seen_log>();
    auto wf = split_workflow(seen);
    wf.register_split(Step::Fan, {fails("x"), ok()}, cano::join::partial_results(2), Step::Join);
    EXPECT_EQ(run_expecting_failure(wf, engine),
              "Partial results condition not met: 1 completed successfully, 2 required; errors: "
              "task 0: Task execution error: x");
  }
}

TEST(CppSplit, EdgeCasesOfZeroBranches) {
  cano::engine engine;
  struct Case {
    cano::join how;
    bool ok;
  };
  const Case cases[] = {{cano::join::all(), true},
                        {cano::join::quorum(0), true},
                        {cano::join::percentage(0.5), true},
                        {cano::join::partial_results(0), true},
                        {cano::join::any(), false}};
  for (const Case& c : cases) {
    SCOPED_TRACE(static_cast<int>(c.how.strategy()));
    auto seen = std::make_shared<seen_log>();
    auto wf = split_workflow(seen);
    wf.register_split(Step::Fan, {}, c.how, Step::Join);
    if (c.ok) {
      EXPECT_EQ(wf.orchestrate(engine, Step::Fan), Step::Done);
      EXPECT_EQ(seen->counts, "0/0/0 of 0");
    } else {
      EXPECT_EQ(run_expecting_failure(wf, engine),
                "Join condition not met: 0 of 0 tasks completed successfully, strategy: Any");
    }
  }
}

TEST(CppSplit, SplitTimeoutFailsEveryStrategyButPartialTimeout) {
  auto seen = std::make_shared<seen_log>();
  auto counts = std::make_shared<blockers>();
  auto wf = split_workflow(seen);
  wf.register_split(Step::Fan, {ok("fast"), blocks_until_cancelled(counts)},
                    cano::join::all().with_timeout(100ms), Step::Join);
  cano::engine engine(cano::engine_options().with_manual_clock(1000));
  cano::run_handle<Step> run = wf.start(engine, Step::Fan);
  ASSERT_TRUE(cano_test::wait_until([&] { return counts->started.load() == 1; }));
  ASSERT_TRUE(cano_test::wait_until([&] { return engine.next_deadline().has_value(); }));
  EXPECT_EQ(engine.next_deadline(), std::optional(1100ms));
  engine.advance(100ms);
  try {
    run.get();
    FAIL() << "no exception";
  } catch (const cano::workflow_error& e) {
    EXPECT_STREQ(e.message(), "Split task timeout exceeded");
  }
  EXPECT_FALSE(seen->called);
  EXPECT_TRUE(cano_test::wait_until([&] { return counts->saw_cancel.load() == 1; }));
}

TEST(CppSplit, PartialTimeoutSucceedsWhenAnyBranchCompleted) {
  cano::engine engine(cano::engine_options().with_manual_clock());
  {
    auto seen = std::make_shared<seen_log>();
    auto counts = std::make_shared<blockers>();
    auto wf = split_workflow(seen);
    wf.register_split(Step::Fan, {fails("bad"), blocks_until_cancelled(counts)},
                      cano::join::partial_timeout().timeout(100ms), Step::Join);
    cano::run_handle<Step> run = wf.start(engine, Step::Fan);
    ASSERT_TRUE(cano_test::drive_to_end(engine, run));
    EXPECT_EQ(run.get(), Step::Done);
    EXPECT_EQ(seen->get(), (std::vector<std::string>{"failed bad", "cancelled"}));
    EXPECT_EQ(seen->counts, "0/1/1 of 2");
  }
  {
    auto seen = std::make_shared<seen_log>();
    auto counts = std::make_shared<blockers>();
    auto wf = split_workflow(seen);
    wf.register_split(Step::Fan, {blocks_until_cancelled(counts)},
                      cano::join::partial_timeout().with_timeout(100ms), Step::Join);
    cano::run_handle<Step> run = wf.start(engine, Step::Fan);
    ASSERT_TRUE(cano_test::drive_to_end(engine, run));
    try {
      run.get();
      FAIL() << "no exception";
    } catch (const cano::workflow_error& e) {
      EXPECT_STREQ(e.message(), "PartialTimeout: No tasks completed before timeout");
    }
  }
}

TEST(CppSplit, BulkheadCapsConcurrentBranchesThroughTheirRetries) {
  auto seen = std::make_shared<seen_log>();
  auto wf = split_workflow(seen);
  auto running = std::make_shared<std::atomic<int>>(0);
  auto peak = std::make_shared<std::atomic<int>>(0);
  auto attempts = std::make_shared<std::atomic<int>>(0);
  auto body = [running, peak, attempts](cano::task_context& ctx) {
    int now = ++*running;
    int seen_peak = peak->load();
    while (now > seen_peak && !peak->compare_exchange_weak(seen_peak, now)) {
    }
    std::this_thread::sleep_for(2ms);
    --*running;
    ++*attempts;
    // Each branch fails its first attempt: its retry keeps its slot.
    if (ctx.attempt() == 1) throw std::runtime_error("again");
    return std::to_string(ctx.attempt());
  };
  std::vector<cano::branch> branches;
  for (int i = 0; i < 6; ++i) {
    branches.emplace_back(body, cano::task_config().with_fixed_retry(1, 1ms));
  }
  auto how = cano::join::all().with_bulkhead(2);
  EXPECT_EQ(how.bulkhead(), std::optional<std::uint32_t>(2));
  wf.register_split(Step::Fan, branches, how, Step::Join);
  cano::engine engine(cano::engine_options().with_worker_threads(4));
  EXPECT_EQ(wf.orchestrate(engine, Step::Fan), Step::Done);
  EXPECT_EQ(attempts->load(), 12);
  EXPECT_LE(peak->load(), 2);
  EXPECT_EQ(seen->get(), std::vector<std::string>(6, "ok 2"));
}

TEST(CppSplit, JoinTaskReadsBranchErrorsAsOwnedCanoErrors) {
  std::optional<cano::error> kept;  // outlives the join task's call
  std::string exhausted_message;
  std::string fatal_message;
  std::atomic<int> retried_calls{0}, fatal_calls{0};
  cano::workflow<Step> wf{{Step::Fan, "Fan"}, {Step::Join, "Join"}, {Step::Done, "Done"}};
  wf.register_split(
        Step::Fan,
        {
            // A cano::error keeps its code and message.
            cano::branch([]() { throw cano::timeout_error("too slow"); },
                         cano::task_config::minimal()),
            // Retries run out: retry_exhausted wraps the last error.
            cano::branch(
                [&retried_calls]() -> std::string {
                  ++retried_calls;
                  throw std::runtime_error("flaky");
                },
                cano::task_config().with_fixed_retry(1, 0ms).with_name("retrier")),
            // A fatal error ends the branch's retries at once and is not wrapped.
            cano::branch(
                [&fatal_calls] {
                  ++fatal_calls;
                  throw cano::fatal_error("corrupt input");
                },
                cano::task_config().with_fixed_retry(5, 0ms)),
            ok("fine"),
        },
        cano::join::quorum(1), Step::Join)
      .register_task(Step::Join,
                     [&](cano::task_context& ctx) {
                       auto split = ctx.split_result();
                       EXPECT_EQ(split->status(0), cano::branch_status::failed);
                       kept = split->error(0);
                       exhausted_message = split->error(1)->message();
                       EXPECT_THROW(split->error(1)->rethrow(), cano::retry_exhausted_error);
                       auto fatal = split->error(2);
                       fatal_message = fatal->message();
                       EXPECT_EQ(fatal->code(), CANO_E_TASK_EXECUTION);
                       EXPECT_FALSE(split->error(3).has_value());
                       EXPECT_EQ(split->failed(), 3u);
                       return Step::Done;
                     })
      .add_exit_state(Step::Done);
  cano::engine engine;
  EXPECT_EQ(wf.orchestrate(engine, Step::Fan), Step::Done);
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(kept->code(), CANO_E_TIMEOUT);
  EXPECT_STREQ(kept->message(), "too slow");
  EXPECT_STREQ(kept->display(), "Timeout error: too slow");
  EXPECT_THROW(kept->rethrow(), cano::timeout_error);
  EXPECT_EQ(exhausted_message, "Task failed after 2 attempt(s): Task execution error: flaky");
  EXPECT_EQ(retried_calls.load(), 2);
  EXPECT_EQ(fatal_message, "corrupt input");
  EXPECT_EQ(fatal_calls.load(), 1) << "a fatal error is never retried";
}

TEST(CppSplit, OnlyTheJoinStateSeesTheResult) {
  std::atomic<bool> fan_saw_none{false}, after_saw_none{false};
  std::atomic<int> join_count{-1};
  cano::workflow<Step> wf{{Step::Fan, "Fan"},
                          {Step::Join, "Join"},
                          {Step::After, "After"},
                          {Step::Done, "Done"}};
  wf.register_split(Step::Fan,
                    {[&fan_saw_none](cano::task_context& ctx) {
                      fan_saw_none = !ctx.split_result().has_value();
                    }},
                    cano::join::all(), Step::Join)
      .register_task(Step::Join,
                     [&join_count](cano::task_context& ctx) {
                       join_count = static_cast<int>(ctx.split_result()->size());
                       return Step::After;
                     })
      .register_task(Step::After,
                     [&after_saw_none](cano::task_context& ctx) {
                       after_saw_none = !ctx.split_result().has_value();
                       return Step::Done;
                     })
      .add_exit_state(Step::Done);
  cano::engine engine;
  EXPECT_EQ(wf.orchestrate(engine, Step::Fan), Step::Done);
  EXPECT_TRUE(fan_saw_none.load()) << "a branch is not a join task";
  EXPECT_EQ(join_count.load(), 1);
  EXPECT_TRUE(after_saw_none.load());
}

TEST(CppSplit, JoinBuildersAndAccessors) {
  cano::join defaults;
  EXPECT_EQ(defaults.strategy(), cano::join_strategy::all);
  EXPECT_EQ(defaults.timeout(), std::nullopt);
  EXPECT_EQ(defaults.bulkhead(), std::nullopt);

  EXPECT_EQ(cano::join::any().strategy(), cano::join_strategy::any);
  EXPECT_EQ(cano::join::quorum(3).strategy(), cano::join_strategy::quorum);
  EXPECT_EQ(cano::join::quorum(3).count(), 3u);
  EXPECT_EQ(cano::join::percentage(0.25).strategy(), cano::join_strategy::percentage);
  EXPECT_DOUBLE_EQ(cano::join::percentage(0.25).fraction(), 0.25);
  EXPECT_EQ(cano::join::partial_results(2).strategy(), cano::join_strategy::partial_results);
  EXPECT_EQ(cano::join::partial_results(2).count(), 2u);
  EXPECT_EQ(cano::join::partial_timeout().strategy(), cano::join_strategy::partial_timeout);

  // Builders return modified copies; timeouts round up to whole milliseconds.
  auto base = cano::join::any();
  auto timed = base.with_timeout(1500us).with_bulkhead(3);
  EXPECT_EQ(timed.timeout(), std::optional(2ms));
  EXPECT_EQ(timed.bulkhead(), std::optional<std::uint32_t>(3));
  EXPECT_EQ(base.timeout(), std::nullopt);
  EXPECT_EQ(cano::join::all().timeout(2s).timeout(), std::optional(2000ms));
  EXPECT_EQ(cano::join::all().bulkhead(5).bulkhead(), std::optional<std::uint32_t>(5));
  EXPECT_EQ(cano::join::all().with_timeout(0ms).timeout(), std::nullopt);
  EXPECT_EQ(timed.native().strategy, CANO_JOIN_ANY);
  EXPECT_EQ(timed.native().timeout_ms, 2u);

  try {
    (void)cano::join::all().with_bulkhead(0);
    FAIL() << "no exception";
  } catch (const cano::configuration_error& e) {
    EXPECT_STREQ(e.message(), "bulkhead requires a positive permit count, got 0");
  }
}

TEST(CppSplit, ValidationFollowsCanosTexts) {
  cano::engine engine;
  {
    auto seen = std::make_shared<seen_log>();
    auto wf = split_workflow(seen);
    wf.register_split(Step::Fan, {ok()}, cano::join::partial_timeout(), Step::Join);
    try {
      wf.validate();
      FAIL() << "no exception";
    } catch (const cano::configuration_error& e) {
      EXPECT_STREQ(e.message(), "PartialTimeout strategy requires a timeout to be configured");
    }
    // The first run checks it too, before anything runs.
    EXPECT_THROW(wf.orchestrate(engine, Step::Fan), cano::configuration_error);
  }
  {
    auto seen = std::make_shared<seen_log>();
    auto wf = split_workflow(seen);
    wf.register_split(Step::Fan, {ok()}, cano::join::percentage(1.5), Step::Join);
    try {
      wf.validate();
      FAIL() << "no exception";
    } catch (const cano::configuration_error& e) {
      EXPECT_STREQ(e.message(), "Percentage strategy requires a finite value in (0.0, 1.0], got 1.5");
    }
  }
  {
    auto seen = std::make_shared<seen_log>();
    auto wf = split_workflow(seen);
    wf.add_state(Step::After, "After");
    wf.register_split(Step::Fan, {ok()}, cano::join::all(), Step::After);
    try {
      wf.validate();
      FAIL() << "no exception";
    } catch (const cano::configuration_error& e) {
      EXPECT_STREQ(e.message(), "Split join_state After is neither registered nor an exit state");
    }
  }
}

struct counted_branch {
  tracked tracker;
  std::string operator()() const { return "counted"; }
};

TEST(CppSplit, BranchCallablesAreSharedAndDestroyedExactlyOnce) {
  auto counter = std::make_shared<lifetime_counter>();
  {
    auto seen = std::make_shared<seen_log>();
    auto wf = split_workflow(seen);
    wf.add_state(Step::After, "After");
    {
      std::vector<cano::branch> branches{counted_branch{tracked(counter)}};
      EXPECT_EQ(counter->alive(), 1);
      // One callable, shared by the branch, its copies and every split it is registered in.
      branches.push_back(branches.front());
      wf.register_split(Step::Fan, branches, cano::join::all(), Step::Join);
      wf.register_split(Step::After, branches, cano::join::all(), Step::Join);
      EXPECT_EQ(counter->alive(), 1);
    }
    EXPECT_EQ(counter->alive(), 1) << "the workflow keeps the callable";
    // Replacing a split releases its branches' references at once.
    wf.register_split(Step::After, {}, cano::join::all(), Step::Join);
    EXPECT_EQ(counter->alive(), 1);
    cano::engine engine;
    EXPECT_EQ(wf.orchestrate(engine, Step::Fan), Step::Done);
    EXPECT_EQ(seen->get(), (std::vector<std::string>{"ok counted", "ok counted"}));
  }
  EXPECT_EQ(counter->alive(), 0);
  EXPECT_EQ(counter->constructed.load(), counter->destroyed.load());
}

TEST(CppSplit, FailedRegistrationsLeakNothing) {
  auto counter = std::make_shared<lifetime_counter>();
  {
    cano::workflow<Step> partial{{Step::Join, "Join"}};
    std::vector<cano::branch> branches{counted_branch{tracked(counter)},
                                       counted_branch{tracked(counter)}};
    // An undeclared split state: the library releases the references it was given.
    EXPECT_THROW(partial.register_split(Step::Fan, branches, cano::join::all(), Step::Join),
                 cano::configuration_error);
    // An async branch is refused before anything is handed over.
    std::vector<cano::branch> async_branches{cano::branch(
        counted_branch{tracked(counter)}, cano::task_config().with_mode(cano::task_mode::async))};
    partial.add_state(Step::Fan, "Fan");
    try {
      partial.register_split(Step::Fan, async_branches, cano::join::all(), Step::Join);
      FAIL() << "no exception";
    } catch (const cano::configuration_error& e) {
      EXPECT_NE(std::string(e.message()).find("task_mode::async"), std::string::npos)
          << e.message();
    }
    EXPECT_EQ(counter->alive(), 3) << "only the caller's branches hold the callables now";
  }
  EXPECT_EQ(counter->alive(), 0);
}

TEST(CppSplit, FirstRunFreezesSplits) {
  auto seen = std::make_shared<seen_log>();
  auto wf = split_workflow(seen);
  wf.register_split(Step::Fan, {ok()}, cano::join::all(), Step::Join);
  cano::engine engine;
  EXPECT_EQ(wf.orchestrate(engine, Step::Fan), Step::Done);
  EXPECT_THROW(wf.register_split(Step::Fan, {ok()}, cano::join::any(), Step::Join),
               cano::bad_state_error);
}

TEST(CppSplit, BranchesRunInlineOrOnWorkersAsConfigured) {
  std::atomic<int> inline_on_loop{-1}, worker_on_loop{-1};
  auto seen = std::make_shared<seen_log>();
  auto wf = split_workflow(seen);
  auto inline_config = cano::task_config::minimal().with_mode(cano::task_mode::inline_);
  cano::branch on_loop(
      [&inline_on_loop](cano::task_context& ctx) {
        inline_on_loop = cano_engine_on_loop_thread(ctx.engine());
      },
      inline_config);
  EXPECT_EQ(on_loop.config().mode(), cano::task_mode::inline_);
  cano::branch on_worker = on_loop.with_config(cano::task_config::minimal());
  EXPECT_EQ(on_worker.config().mode(), cano::task_mode::worker);
  wf.register_split(Step::Fan,
                    {on_loop,
                     cano::branch(
                         [&worker_on_loop](cano::task_context& ctx) {
                           worker_on_loop = cano_engine_on_loop_thread(ctx.engine());
                         },
                         cano::task_config::minimal())},
                    cano::join::all(), Step::Join);
  cano::engine engine;
  EXPECT_EQ(wf.orchestrate(engine, Step::Fan), Step::Done);
  EXPECT_EQ(inline_on_loop.load(), 1);
  EXPECT_EQ(worker_on_loop.load(), 0);
}

}  // namespace
