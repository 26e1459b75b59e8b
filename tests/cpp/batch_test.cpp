// Batch tasks through the C++ wrapper: workflow<State>::register_batch with cano::batch_config
// and cano::batch_item over cano/batch.h. Outputs in input order, item failures and their raw
// last errors after item retries, load and finish failures through the task's retries, fatal
// items, empty batches, the concurrency limit, the attempt timeout, typed items and outputs,
// the body forms, ownership of the callables, and the registration rules.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cano/cano.hpp"
#include "test_support.hpp"

// A user type with its own codec: "x,y" as text.
struct point {
  int x;
  int y;
  static inline std::atomic<bool> refuse_decode{false};
};

namespace cano {
template <>
struct cursor_codec<point> {
  static std::string encode(const point& p) {
    return std::to_string(p.x) + "," + std::to_string(p.y);
  }
  static point decode(std::string_view bytes) {
    std::string text(bytes);
    std::size_t comma = text.find(',');
    if (point::refuse_decode || comma == std::string::npos) {
      throw cano::task_execution_error("not a point: " + text);
    }
    return point{std::stoi(text.substr(0, comma)), std::stoi(text.substr(comma + 1))};
  }
};
}  // namespace cano

namespace {

using namespace std::chrono_literals;
using cano_test::lifetime_counter;
using cano_test::tracked;

enum class Step { Work, Done, Partial };

cano::workflow<Step> make_workflow() {
  cano::workflow<Step> wf{{Step::Work, "Work"}, {Step::Done, "Done"}, {Step::Partial, "Partial"}};
  wf.add_exit_states({Step::Done, Step::Partial});
  return wf;
}

// 0, 1, ..., n-1.
std::vector<int> numbers(int n) {
  std::vector<int> items(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) items[static_cast<std::size_t>(i)] = i;
  return items;
}

// One line per outcome: "ok <value>" or "err <code> <task name> #<attempt>: <message>".
template <class Output>
std::vector<std::string> describe(const cano::batch_results<Output>& results) {
  std::vector<std::string> lines;
  lines.reserve(results.size());
  for (const auto& item : results) {
    if (item.ok()) {
      if constexpr (std::is_void_v<Output>) {
        lines.emplace_back("ok");
      } else if constexpr (std::is_integral_v<Output>) {
        lines.push_back("ok " + std::to_string(item.value()));
      } else {
        lines.push_back("ok " + std::string(item.value().begin(), item.value().end()));
      }
    } else {
      const cano::error& e = *item.error();
      lines.push_back(std::string("err ") + e.code_name() + " " + e.task_name() + " #" +
                      std::to_string(e.attempt()) + ": " + e.message());
    }
  }
  return lines;
}

// What a finish step saw, shared with the test.
struct seen_log {
  std::mutex mutex;
  std::vector<std::string> lines;
  std::atomic<int> calls{0};

  template <class Output>
  void record(const cano::batch_results<Output>& results) {
    ++calls;
    std::lock_guard<std::mutex> lock(mutex);
    lines = describe(results);
  }
  std::vector<std::string> get() {
    std::lock_guard<std::mutex> lock(mutex);
    return lines;
  }
};

// A finish step that records every outcome and goes to Done when all succeeded, Partial
// otherwise.
template <class Output>
auto recording_finish(std::shared_ptr<seen_log> seen) {
  // By value on purpose: the finish step may take its results as a value it owns.
  // NOLINTNEXTLINE(performance-unnecessary-value-param)
  return [seen = std::move(seen)](cano::batch_results<Output> results) {
    seen->record(results);
    bool all = std::all_of(results.begin(), results.end(), [](const auto& r) { return r.ok(); });
    return all ? Step::Done : Step::Partial;
  };
}

// Runs `wf` from Step::Work on a manual-clock engine to its end, firing every timer it waits
// on (item retry delays, task retry delays, attempt timeouts).
Step run_manual(cano::engine& engine, const cano::workflow<Step>& wf) {
  auto run = wf.start(engine, Step::Work);
  EXPECT_TRUE(cano_test::drive_to_end(engine, run)) << "the run did not end";
  return run.get();
}

class CppBatchModes : public ::testing::TestWithParam<cano::task_mode> {
 protected:
  cano::task_config once() const { return cano::task_config::minimal().with_mode(GetParam()); }
};

TEST_P(CppBatchModes, OutputsArriveInInputOrder) {
  auto seen = std::make_shared<seen_log>();
  std::atomic<int> items_on_loop{0};
  std::atomic<int> items{0};
  auto wf = make_workflow();
  wf.register_batch(
      Step::Work, [] { return numbers(10); },
      [&](cano::task_context& ctx, int n) {
        ++items;
        if (cano_engine_on_loop_thread(ctx.engine()) != 0) ++items_on_loop;
        // On workers the earlier items of each group of three finish last, so the order of the
        // outcomes must come from the input, not from completion.
        if (GetParam() == cano::task_mode::worker) std::this_thread::sleep_for((3 - n % 3) * 1ms);
        return n * n;
      },
      recording_finish<int>(seen), cano::batch_config().with_concurrency(3), once());
  cano::engine engine(cano::engine_options().with_worker_threads(3));
  EXPECT_EQ(wf.orchestrate(engine, Step::Work), Step::Done);
  std::vector<std::string> expected;
  expected.reserve(10);
  for (int i = 0; i < 10; ++i) expected.push_back("ok " + std::to_string(i * i));
  EXPECT_EQ(seen->get(), expected);
  EXPECT_EQ(seen->calls.load(), 1);
  EXPECT_EQ(items.load(), 10);
  if (GetParam() == cano::task_mode::inline_) {
    EXPECT_EQ(items_on_loop.load(), 10) << "inline items run on the loop thread";
  } else {
    EXPECT_EQ(items_on_loop.load(), 0) << "worker items run on the pool";
  }
}

TEST_P(CppBatchModes, ItemFailuresDoNotFailTheBatchAndReachFinish) {
  auto seen = std::make_shared<seen_log>();
  auto wf = make_workflow();
  wf.register_batch(
      Step::Work, [] { return numbers(4); },
      [](int n) -> int {
        if (n == 1) throw std::runtime_error("odd one");
        if (n == 2) throw cano::store_error("no shelf");
        return n * 10;
      },
      recording_finish<int>(seen), cano::batch_config().with_concurrency(2), once());
  cano::engine engine;
  EXPECT_EQ(wf.orchestrate(engine, Step::Work), Step::Partial);
  EXPECT_EQ(seen->get(), (std::vector<std::string>{"ok 0", "err TASK_EXECUTION Work[1] #1: odd one",
                                                   "err STORE Work[2] #1: no shelf", "ok 30"}));
}

TEST_P(CppBatchModes, ReadingAFailedItemsValueThrowsItsError) {
  std::atomic<int> caught{0};
  auto wf = make_workflow();
  wf.register_batch(
      Step::Work, [] { return numbers(2); },
      [](int n) -> int {
        if (n == 1) throw cano::store_error("gone");
        return n;
      },
      [&caught](const cano::batch_results<int>& results) {
        EXPECT_EQ(results.at(0).value(), 0);
        try {
          (void)results.at(1).value();
        } catch (const cano::store_error& e) {
          EXPECT_STREQ(e.message(), "gone");
          ++caught;
        }
        // Read again, uncaught: the finish step fails with the item's own error.
        return results.at(1).value() == 1 ? Step::Done : Step::Partial;
      },
      once());
  cano::engine engine;
  try {
    wf.orchestrate(engine, Step::Work);
    FAIL() << "no exception";
  } catch (const cano::store_error& e) {
    EXPECT_STREQ(e.message(), "gone");
  }
  EXPECT_EQ(caught.load(), 1);
}

TEST_P(CppBatchModes, AnItemRetriesAndFinishSeesItsRawLastError) {
  auto seen = std::make_shared<seen_log>();
  std::mutex mutex;
  std::vector<std::string> calls;
  auto wf = make_workflow();
  wf.register_batch(
      Step::Work,
      [] {
        return std::vector<std::string>{"a", "b"};
      },
      [&](cano::task_context& ctx, const std::string& item) {
        {
          std::lock_guard<std::mutex> lock(mutex);
          calls.push_back(item + "#" + std::to_string(ctx.attempt()));
        }
        // Item "a" succeeds on its third attempt; item "b" never does.
        if (item == "a" && ctx.attempt() == 3) return item + " done";
        throw cano::store_error("attempt " + std::to_string(ctx.attempt()));
      },
      recording_finish<std::string>(seen),
      cano::batch_config().with_item_retry(cano::retry_mode::fixed(2, 50ms)), once());
  cano::engine engine(cano::engine_options().with_manual_clock());
  EXPECT_EQ(run_manual(engine, wf), Step::Partial);
  // No retry_exhausted wrapping, as cano's item retry loop: the raw last error.
  EXPECT_EQ(seen->get(),
            (std::vector<std::string>{"ok a done", "err STORE Work[1] #3: attempt 3"}));
  std::sort(calls.begin(), calls.end());
  EXPECT_EQ(calls, (std::vector<std::string>{"a#1", "a#2", "a#3", "b#1", "b#2", "b#3"}));
  // Concurrency 1: item "b" waited for item "a"'s retries (two delays of 50 ms each), then
  // took two delays of its own.
  EXPECT_GE(engine.now(), 200ms);
}

TEST_P(CppBatchModes, ALoadFailureSkipsFinishAndGoesThroughTheTaskRetries) {
  auto seen = std::make_shared<seen_log>();
  std::atomic<int> loads{0};
  std::atomic<int> items{0};
  auto wf = make_workflow();
  wf.register_batch(
      Step::Work,
      [&loads](cano::resources&) {
        if (++loads == 1) throw std::runtime_error("source down");
        return numbers(2);
      },
      [&items](int n) {
        ++items;
        return n;
      },
      recording_finish<int>(seen), once().with_fixed_retry(1, 0ms));
  cano::engine engine;
  EXPECT_EQ(wf.orchestrate(engine, Step::Work), Step::Done);
  EXPECT_EQ(loads.load(), 2);
  EXPECT_EQ(items.load(), 2);
  EXPECT_EQ(seen->calls.load(), 1);
  EXPECT_EQ(seen->get(), (std::vector<std::string>{"ok 0", "ok 1"}));
}

TEST_P(CppBatchModes, ALoadFailureWithoutRetriesFailsTheRunWithoutFinish) {
  auto seen = std::make_shared<seen_log>();
  std::atomic<int> items{0};
  auto wf = make_workflow();
  wf.register_batch(
      Step::Work, []() -> std::vector<int> { throw std::runtime_error("source down"); },
      [&items](int n) {
        ++items;
        return n;
      },
      recording_finish<int>(seen), once());
  cano::engine engine;
  try {
    wf.orchestrate(engine, Step::Work);
    FAIL() << "no exception";
  } catch (const cano::task_execution_error& e) {
    EXPECT_STREQ(e.message(), "source down");
    EXPECT_EQ(e.task_name(), "Work");
  }
  EXPECT_EQ(items.load(), 0);
  EXPECT_EQ(seen->calls.load(), 0);
}

TEST_P(CppBatchModes, AFinishFailureRunsTheWholeBatchAgain) {
  std::atomic<int> loads{0};
  std::atomic<int> items{0};
  std::atomic<int> finishes{0};
  auto wf = make_workflow();
  wf.register_batch(
      Step::Work,
      [&loads] {
        ++loads;
        return numbers(3);
      },
      [&items](int n) {
        ++items;
        return n;
      },
      [&finishes](cano::task_context& ctx, const cano::batch_results<int>& results) {
        EXPECT_EQ(results.size(), 3u);
        EXPECT_EQ(static_cast<int>(ctx.attempt()), finishes.load() + 1);
        if (++finishes == 1) throw std::runtime_error("sink down");
        return Step::Done;
      },
      once().with_fixed_retry(2, 0ms));
  cano::engine engine;
  EXPECT_EQ(wf.orchestrate(engine, Step::Work), Step::Done);
  EXPECT_EQ(loads.load(), 2);
  EXPECT_EQ(items.load(), 6);
  EXPECT_EQ(finishes.load(), 2);
}

TEST_P(CppBatchModes, AFatalItemFailsTheTaskAtOnceWithoutRetry) {
  auto seen = std::make_shared<seen_log>();
  std::atomic<int> loads{0};
  auto wf = make_workflow();
  wf.register_batch(
      Step::Work,
      [&loads] {
        ++loads;
        return numbers(5);
      },
      [](int n) {
        if (n == 2) throw cano::fatal_error("boom");
        return n;
      },
      recording_finish<int>(seen),
      // Item retries do not forgive it either.
      cano::batch_config().with_item_retry(cano::retry_mode::fixed(3, 0ms)),
      once().with_fixed_retry(3, 0ms));
  cano::engine engine;
  try {
    wf.orchestrate(engine, Step::Work);
    FAIL() << "no exception";
  } catch (const cano::retry_exhausted_error& e) {
    FAIL() << "a fatal item must not be retried: " << e.what();
  } catch (const cano::task_execution_error& e) {
    EXPECT_STREQ(e.message(), "boom");
    EXPECT_EQ(e.task_name(), "Work[2]");
    EXPECT_EQ(e.attempt(), 1u);
  }
  EXPECT_EQ(loads.load(), 1);
  EXPECT_EQ(seen->calls.load(), 0);
}

TEST_P(CppBatchModes, AnEmptyBatchStillFinishes) {
  auto seen = std::make_shared<seen_log>();
  std::atomic<int> items{0};
  auto wf = make_workflow();
  wf.register_batch(
      Step::Work, [] { return std::vector<int>{}; },
      [&items](int n) {
        ++items;
        return n;
      },
      recording_finish<int>(seen), once());
  cano::engine engine;
  EXPECT_EQ(wf.orchestrate(engine, Step::Work), Step::Done);
  EXPECT_EQ(items.load(), 0);
  EXPECT_EQ(seen->calls.load(), 1);
  EXPECT_TRUE(seen->get().empty());
}

TEST_P(CppBatchModes, TheAttemptTimeoutBoundsTheWholeBatch) {
  auto seen = std::make_shared<seen_log>();
  std::atomic<int> items{0};
  auto wf = make_workflow();
  wf.register_batch(
      Step::Work, [] { return numbers(2); },
      [&items](int) -> int {
        ++items;
        throw std::runtime_error("not yet");
      },
      recording_finish<int>(seen),
      cano::batch_config().with_item_retry(cano::retry_mode::fixed(5, 100ms)),
      once().with_attempt_timeout(250ms));
  cano::engine engine(cano::engine_options().with_manual_clock());
  auto run = wf.start(engine, Step::Work);
  ASSERT_TRUE(cano_test::drive_to_end(engine, run));
  try {
    run.get();
    FAIL() << "no exception";
  } catch (const cano::timeout_error& e) {
    EXPECT_STREQ(e.message(), "task attempt exceeded attempt_timeout");
  }
  // Item 0's attempts at 0, 100 and 200 ms; the timeout at 250 ms stopped the rest. (A worker
  // attempt may still be queued or running when the driver moves the clock to the timeout, so
  // a worker batch may get fewer attempts in, never more.)
  if (GetParam() == cano::task_mode::inline_) {
    EXPECT_EQ(items.load(), 3);
  } else {
    EXPECT_LE(items.load(), 3);
  }
  EXPECT_EQ(seen->calls.load(), 0);
}

INSTANTIATE_TEST_SUITE_P(Modes, CppBatchModes,
                         ::testing::Values(cano::task_mode::worker, cano::task_mode::inline_),
                         [](const auto& info) {
                           return info.param == cano::task_mode::worker ? "Worker" : "Inline";
                         });

TEST(CppBatch, AtMostConcurrencyItemsRunAtOnce) {
  for (std::uint32_t concurrency : {0u, 1u, 2u, 3u}) {
    auto seen = std::make_shared<seen_log>();
    std::atomic<int> running{0};
    std::atomic<int> peak{0};
    auto wf = make_workflow();
    wf.register_batch(
        Step::Work, [] { return numbers(12); },
        [&](int n) {
          int now = ++running;
          int before = peak.load();
          while (now > before && !peak.compare_exchange_weak(before, now)) {
          }
          std::this_thread::sleep_for(2ms);
          --running;
          return n;
        },
        recording_finish<int>(seen), cano::batch_config().with_concurrency(concurrency),
        cano::task_config::minimal());
    // Four workers, so that only the batch's limit can hold items back.
    cano::engine engine(cano::engine_options().with_worker_threads(4));
    EXPECT_EQ(wf.orchestrate(engine, Step::Work), Step::Done);
    int limit = concurrency == 0 ? 1 : static_cast<int>(concurrency);  // cano clamps 0 to 1
    EXPECT_EQ(peak.load(), limit) << "concurrency " << concurrency;
    EXPECT_EQ(seen->get().size(), 12u);
  }
}

TEST(CppBatch, TheDefaultTaskConfigIsCanosDefaultRetryPolicy) {
  // cano's BatchTask::config() is TaskConfig::default(): four attempts of load, then
  // retry_exhausted.
  for (int failing_loads : {3, 4}) {
    std::atomic<int> loads{0};
    auto wf = make_workflow();
    wf.register_batch(
        Step::Work,
        [&] {
          if (++loads <= failing_loads) throw std::runtime_error("source down");
          return numbers(1);
        },
        [](int n) { return n; }, [](const cano::batch_results<int>&) { return Step::Done; });
    cano::engine engine(cano::engine_options().with_manual_clock().with_random_seed(7));
    auto run = wf.start(engine, Step::Work);
    ASSERT_TRUE(cano_test::drive_to_end(engine, run));
    if (failing_loads == 3) {
      EXPECT_EQ(run.get(), Step::Done);
      EXPECT_EQ(loads.load(), 4);
    } else {
      try {
        run.get();
        FAIL() << "no exception";
      } catch (const cano::retry_exhausted_error& e) {
        EXPECT_STREQ(e.message(),
                     "Task failed after 4 attempt(s): Task execution error: source down");
      }
      EXPECT_EQ(loads.load(), 4);
    }
  }
}

TEST(CppBatch, ItemsAndOutputsKeepTheirTypesThroughTheirCodecs) {
  auto seen = std::make_shared<seen_log>();
  std::mutex mutex;
  std::vector<std::string> items_seen;
  auto wf = make_workflow();
  wf.register_batch(
      Step::Work,
      [] {
        // Bytes as they are, an embedded NUL and an empty item included.
        return std::vector<std::string>{std::string("a\0b", 3), "", "xyz"};
      },
      [&](std::string_view item) {
        {
          std::lock_guard<std::mutex> lock(mutex);
          items_seen.emplace_back(item);
        }
        return std::vector<std::uint8_t>(item.rbegin(), item.rend());
      },
      [&](const cano::batch_results<std::vector<std::uint8_t>>& results) {
        seen->record(results);
        return Step::Done;
      },
      cano::task_config::minimal().with_mode(cano::task_mode::inline_));
  cano::engine engine;
  EXPECT_EQ(wf.orchestrate(engine, Step::Work), Step::Done);
  EXPECT_EQ(items_seen, (std::vector<std::string>{std::string("a\0b", 3), "", "xyz"}));
  EXPECT_EQ(seen->get(),
            (std::vector<std::string>{"ok " + std::string("b\0a", 3), "ok ", "ok zyx"}));

  // Negative 64-bit integers as items, C strings as items (kept as std::string) and outputs.
  std::vector<std::string> lines;
  auto typed = make_workflow();
  typed.register_batch(
      Step::Work,
      [] {
        return std::vector<std::int64_t>{-5, 0, INT64_MAX};
      },
      [](std::int64_t n) { return n == 0 ? "zero" : (n < 0 ? "negative" : "positive"); },
      [&lines](const cano::batch_results<std::string>& results) {
        lines = describe(results);
        return Step::Done;
      },
      cano::task_config::minimal());
  auto texts = make_workflow();
  std::vector<std::string> text_items;
  texts.register_batch(
      Step::Work,
      [] {
        return std::vector<const char*>{"one", "two"};
      },
      [&text_items](std::string item) { text_items.push_back(std::move(item)); },
      [](const cano::batch_results<void>& results) {
        return results.size() == 2 && results[0].ok() && results[1].ok() ? Step::Done
                                                                         : Step::Partial;
      },
      cano::task_config::minimal().with_mode(cano::task_mode::inline_));
  EXPECT_EQ(typed.orchestrate(engine, Step::Work), Step::Done);
  EXPECT_EQ(lines, (std::vector<std::string>{"ok negative", "ok zero", "ok positive"}));
  EXPECT_EQ(texts.orchestrate(engine, Step::Work), Step::Done);
  EXPECT_EQ(text_items, (std::vector<std::string>{"one", "two"}));
}

TEST(CppBatch, BodiesTakeTheContextTheResourcesOrNothing) {
  cano::resources resources;
  resources.insert("items", std::vector<int>{4, 5, 6});
  resources.insert("offset", 100);
  cano::workflow<Step> wf{resources,
                          {{Step::Work, "Work"}, {Step::Done, "Done"}, {Step::Partial, "Partial"}}};
  wf.add_exit_states({Step::Done, Step::Partial});
  std::atomic<int> item_attempts{0};
  std::atomic<int> finish_offset{0};
  wf.register_batch(
      Step::Work,
      [](cano::task_context& ctx) { return ctx.resources().get<std::vector<int>>("items"); },
      [&item_attempts](cano::task_context& ctx, int n) {
        item_attempts += static_cast<int>(ctx.attempt());
        EXPECT_EQ(ctx.state<Step>(), Step::Work);
        EXPECT_FALSE(ctx.cancelled());
        return n + 1;
      },
      [&finish_offset](cano::resources& res, const cano::batch_results<int>& results) {
        finish_offset = res.get<int>("offset");
        int sum = 0;
        for (const auto& r : results) sum += r.value();
        return sum == 18 ? Step::Done : Step::Partial;
      },
      cano::task_config::minimal());
  cano::engine engine;
  EXPECT_EQ(wf.orchestrate(engine, Step::Work), Step::Done);
  EXPECT_EQ(item_attempts.load(), 3) << "every item ran once, on its first attempt";
  EXPECT_EQ(finish_offset.load(), 100);
}

TEST(CppBatch, VoidOutputsSucceedWithoutAValue) {
  std::vector<std::string> lines;
  auto wf = make_workflow();
  wf.register_batch(
      Step::Work, [] { return numbers(3); },
      [](int n) {
        if (n == 1) throw cano::timeout_error("slow");
      },
      [&lines](const cano::batch_results<void>& results) {
        lines = describe(results);
        EXPECT_NO_THROW(results[0].value());
        EXPECT_THROW(results[1].value(), cano::timeout_error);
        return Step::Done;
      },
      cano::task_config::minimal().with_mode(cano::task_mode::inline_));
  cano::engine engine;
  EXPECT_EQ(wf.orchestrate(engine, Step::Work), Step::Done);
  EXPECT_EQ(lines, (std::vector<std::string>{"ok", "err TIMEOUT Work[1] #1: slow", "ok"}));
}

TEST(CppBatch, CustomTypesGoThroughTheirCursorCodec) {
  std::vector<std::string> lines;
  auto wf = make_workflow();
  wf.register_batch(
      Step::Work,
      [] {
        return std::vector<point>{{1, 2}, {-3, 4}, {0, 0}};
      },
      [](const point& p) {
        if (p.x == 0) throw std::runtime_error("origin");
        return point{p.y, p.x};
      },
      [&lines](const cano::batch_results<point>& results) {
        for (const auto& r : results) {
          lines.push_back(r.ok() ? std::to_string(r.value().x) + "," + std::to_string(r.value().y)
                                 : std::string("err ") + r.error()->message());
        }
        return Step::Done;
      },
      cano::task_config::minimal().with_mode(cano::task_mode::inline_));
  cano::engine engine;
  EXPECT_EQ(wf.orchestrate(engine, Step::Work), Step::Done);
  EXPECT_EQ(lines, (std::vector<std::string>{"2,1", "4,-3", "err origin"}));

  // An item whose bytes do not decode fails that item, with what decode threw.
  std::vector<std::string> bad;
  auto strict = make_workflow();
  strict.register_batch(
      Step::Work,
      [] {
        return std::vector<point>{{7, 7}};
      },
      [](point p) { return p.x; },
      [&bad](const cano::batch_results<int>& results) {
        bad = describe(results);
        return Step::Done;
      },
      cano::task_config::minimal());
  point::refuse_decode = true;
  EXPECT_EQ(strict.orchestrate(engine, Step::Work), Step::Done);
  point::refuse_decode = false;
  EXPECT_EQ(bad, (std::vector<std::string>{"err TASK_EXECUTION Work[0] #1: not a point: 7,7"}));
}

TEST(CppBatch, AsyncModeIsRefusedAndNothingLeaks) {
  auto counter = std::make_shared<lifetime_counter>();
  {
    auto wf = make_workflow();
    try {
      wf.register_batch(
          Step::Work, [t = tracked(counter)] { return numbers(1); }, [](int n) { return n; },
          [](const cano::batch_results<int>&) { return Step::Done; },
          cano::task_config().with_mode(cano::task_mode::async));
      FAIL() << "no exception";
    } catch (const cano::configuration_error& e) {
      EXPECT_NE(std::string(e.message()).find("task_mode::async"), std::string::npos)
          << e.message();
    }
    EXPECT_EQ(counter->alive(), 0);

    // An undeclared state: the library releases the bodies it was given.
    cano::workflow<Step> partial{{Step::Done, "Done"}};
    EXPECT_THROW(
        partial.register_batch(
            Step::Work, [t = tracked(counter)] { return numbers(1); }, [](int n) { return n; },
            [](const cano::batch_results<int>&) { return Step::Done; }),
        cano::configuration_error);
    EXPECT_EQ(counter->alive(), 0);

    // A registered batch keeps exactly one copy of its bodies until the workflow goes.
    wf.register_batch(
        Step::Work, [t = tracked(counter)] { return numbers(2); }, [](int n) { return n; },
        [t = tracked(counter)](const cano::batch_results<int>& results) {
          return results.size() == 2 ? Step::Done : Step::Partial;
        },
        cano::task_config::minimal());
    EXPECT_EQ(counter->alive(), 2);
    cano::engine engine;
    EXPECT_EQ(wf.orchestrate(engine, Step::Work), Step::Done);
    EXPECT_EQ(counter->alive(), 2);

    // The first run froze the workflow.
    EXPECT_THROW(wf.register_batch(
                     Step::Work, [] { return numbers(1); }, [](int n) { return n; },
                     [](const cano::batch_results<int>&) { return Step::Done; }),
                 cano::bad_state_error);
  }
  EXPECT_EQ(counter->alive(), 0);
  EXPECT_EQ(counter->constructed.load(), counter->destroyed.load());
}

TEST(CppBatch, BatchConfigBuildsTheCOptions) {
  cano::batch_config defaults;
  EXPECT_EQ(defaults.concurrency(), 1u);
  EXPECT_EQ(defaults.item_retry().max_attempts(), 1u) << "cano's item_retry() is RetryMode::None";
  cano_batch_options c = defaults.native();
  EXPECT_EQ(c.struct_size, sizeof(cano_batch_options));
  EXPECT_EQ(c.concurrency, 1u);
  EXPECT_EQ(c.item_retry, CANO_RETRY_NONE);
  EXPECT_EQ(c.load, nullptr);
  EXPECT_EQ(c.process_item, nullptr);

  EXPECT_EQ(defaults.with_concurrency(0).concurrency(), 1u) << "0 clamps to 1, as in cano";
  EXPECT_EQ(defaults.with_concurrency(8).native().concurrency, 8u);
  EXPECT_EQ(defaults.concurrency(), 1u) << "builders return a modified copy";

  cano_batch_options fixed = defaults.with_item_retry(cano::retry_mode::fixed(2, 50ms)).native();
  EXPECT_EQ(fixed.item_retry, CANO_RETRY_FIXED);
  EXPECT_EQ(fixed.item_retry_max_retries, 2u);
  EXPECT_EQ(fixed.item_retry_delay_ms, 50u);

  // A default retry_mode is cano's default exponential policy, spelled out for the C ABI,
  // whose unset item retry kind would mean none.
  cano::batch_config exponential = defaults.with_item_retry(cano::retry_mode());
  EXPECT_EQ(exponential.item_retry().max_attempts(), 4u);
  cano_batch_options e = exponential.native();
  EXPECT_EQ(e.item_retry, CANO_RETRY_EXPONENTIAL);
  EXPECT_EQ(e.item_retry_max_retries, 3u);
  EXPECT_EQ(e.item_retry_delay_ms, 100u);
  EXPECT_DOUBLE_EQ(e.item_retry_multiplier, 2.0);
  EXPECT_EQ(e.item_retry_max_delay_ms, 30000u);
  EXPECT_DOUBLE_EQ(e.item_retry_jitter, 0.1);
}

TEST(CppBatch, BatchItemHoldsAValueOrAnError) {
  auto ok = cano::batch_item<std::string>::success("out");
  EXPECT_TRUE(ok.ok());
  EXPECT_TRUE(static_cast<bool>(ok));
  EXPECT_EQ(ok.value(), "out");
  EXPECT_FALSE(ok.error().has_value());
  EXPECT_EQ(std::move(ok).value(), "out");

  auto failed = cano::batch_item<std::string>::failure(cano::store_error("lost"));
  EXPECT_FALSE(failed.ok());
  ASSERT_TRUE(failed.error().has_value());
  EXPECT_EQ(failed.error()->code(), CANO_E_STORE);
  EXPECT_THROW((void)failed.value(), cano::store_error);

  auto done = cano::batch_item<void>::success();
  EXPECT_TRUE(done.ok());
  EXPECT_NO_THROW(done.value());
  auto lost = cano::batch_item<void>::failure(cano::timeout_error("late"));
  EXPECT_FALSE(lost.ok());
  EXPECT_THROW(lost.value(), cano::timeout_error);
}

TEST(CppBatch, CancellingARunStopsItsItems) {
  std::atomic<int> started{0};
  std::atomic<int> finishes{0};
  auto wf = make_workflow();
  wf.register_batch(
      Step::Work, [] { return numbers(10); },
      [&started](cano::task_context& ctx, int n) {
        ++started;
        cano_test::wait_until([&] { return ctx.cancelled(); });
        return n;
      },
      [&finishes](const cano::batch_results<int>&) {
        ++finishes;
        return Step::Done;
      },
      cano::batch_config().with_concurrency(2), cano::task_config::minimal());
  cano::engine engine(cano::engine_options().with_worker_threads(2));
  auto run = wf.start(engine, Step::Work);
  ASSERT_TRUE(cano_test::wait_until([&] { return started.load() == 2; }));
  run.cancel();
  EXPECT_THROW(run.get(), cano::cancelled_error);
  EXPECT_EQ(started.load(), 2);
  EXPECT_EQ(finishes.load(), 0);
}

}  // namespace
