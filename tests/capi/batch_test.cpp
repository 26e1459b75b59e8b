// Batch tasks through the C API (cano/batch.h): load, items under a concurrency limit with their
// own retries, finish with every outcome in input order, and how failures at each step end.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "batch_support.hpp"

using namespace cano_test;

namespace {

struct BatchFixture : BatchWorkflow {
  std::mutex mutex;
  std::vector<std::string> outcomes;  // what finish saw, one line per item
  std::atomic<int> finish_calls{0};

  explicit BatchFixture(bool manual_clock = false) : BatchWorkflow(manual_clock) {}

  // A finish step that records every outcome and goes to Done when all succeeded.
  Body recording_finish() {
    return [this](cano_task_ctx* ctx) {
      ++finish_calls;
      const cano_split_result* results = cano_task_ctx_batch_results(ctx);
      EXPECT_NE(results, nullptr);
      std::lock_guard<std::mutex> lock(mutex);
      outcomes.clear();
      for (size_t i = 0; i < cano_split_result_count(results); ++i) {
        if (cano_split_result_status(results, i) == CANO_BRANCH_SUCCEEDED) {
          size_t len = 0;
          const void* value = cano_split_result_value(results, i, &len);
          outcomes.push_back("ok " + std::string(static_cast<const char*>(value), len));
        } else {
          const cano_error* error = cano_split_result_error(results, i);
          outcomes.push_back(std::string("err ") + cano_status_name(cano_error_code(error)) + " " +
                             cano_error_task_name(error) + ": " + cano_error_message(error));
        }
      }
      bool all = cano_split_result_succeeded(results) == cano_split_result_count(results);
      return cano_task_ctx_next(ctx, all ? kDone : kPartial);
    };
  }

  struct Outcome {
    cano_status status = CANO_OK;
    int32_t final_state = 0;
    std::string message;
  };

  // Runs to the end, advancing a manual clock whenever the run waits on a timer.
  Outcome run() {
    RunResult result;
    EXPECT_EQ(cano_run_start(nullptr, engine.get(), wf.get(), kWork, &RunResult::callback, &result,
                             nullptr),
              CANO_OK);
    wait_advancing_clock(engine.get(), result);
    std::lock_guard<std::mutex> lock(result.mutex);
    return Outcome{result.status, result.final_state, result.message};
  }
};

// Squares the item's number.
cano_status square(cano_task_ctx* ctx) {
  long n = std::stol(item_text(ctx));
  std::string out = std::to_string(n * n);
  return cano_task_ctx_set_value(ctx, out.data(), out.size());
}

}  // namespace

class BatchModes : public ::testing::TestWithParam<cano_task_mode> {};

TEST_P(BatchModes, FinishSeesEveryOutputInInputOrder) {
  BatchFixture f;
  ErrorPtr err;
  cano_batch_options batch = CANO_BATCH_OPTIONS_INIT;
  batch.concurrency = 3;
  // Later items finish first on workers, so the order of results must come from the input.
  Body item = [](cano_task_ctx* ctx) {
    size_t index = 0;
    EXPECT_EQ(cano_task_ctx_batch_item(ctx, &index, nullptr, nullptr), 1);
    if (cano_task_ctx_engine(ctx) != nullptr && index % 3 == 0) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return square(ctx);
  };
  ASSERT_EQ(
      f.register_batch({load_numbers(10), item, f.recording_finish()}, GetParam(), batch, &err),
      CANO_OK)
      << err.message();
  BatchFixture::Outcome result = f.run();
  EXPECT_EQ(result.status, CANO_OK) << result.message;
  EXPECT_EQ(result.final_state, kDone);
  std::vector<std::string> expected;
  for (int i = 0; i < 10; ++i) expected.push_back("ok " + std::to_string(i * i));
  EXPECT_EQ(f.outcomes, expected);
}

TEST_P(BatchModes, ItemFailuresDoNotFailTheBatch) {
  BatchFixture f;
  ErrorPtr err;
  Body item = [](cano_task_ctx* ctx) {
    if (item_text(ctx) == "1") return cano_task_ctx_fail(ctx, CANO_E_TASK_EXECUTION, "odd one");
    return square(ctx);
  };
  ASSERT_EQ(f.register_batch({load_numbers(3), item, f.recording_finish()}, GetParam(),
                             CANO_BATCH_OPTIONS_INIT, &err),
            CANO_OK);
  BatchFixture::Outcome result = f.run();
  EXPECT_EQ(result.status, CANO_OK) << result.message;
  EXPECT_EQ(result.final_state, kPartial);
  EXPECT_EQ(f.outcomes,
            (std::vector<std::string>{"ok 0", "err TASK_EXECUTION Work[1]: odd one", "ok 4"}));
}

TEST_P(BatchModes, AnItemRetriesAndReturnsItsLastErrorRaw) {
  BatchFixture f(/*manual_clock=*/true);
  ErrorPtr err;
  std::mutex mutex;
  std::vector<std::string> calls;
  Body item = [&](cano_task_ctx* ctx) {
    std::string text = item_text(ctx);
    uint32_t attempt = cano_task_ctx_attempt(ctx);
    {
      std::lock_guard<std::mutex> lock(mutex);
      calls.push_back(text + "#" + std::to_string(attempt));
    }
    // Item 0 succeeds on its third attempt; item 1 never does.
    if (text == "0" && attempt == 3) return square(ctx);
    std::string why = "attempt " + std::to_string(attempt);
    return cano_task_ctx_fail(ctx, CANO_E_STORE, why.c_str());
  };
  cano_batch_options batch = CANO_BATCH_OPTIONS_INIT;
  batch.item_retry = CANO_RETRY_FIXED;
  batch.item_retry_max_retries = 2;
  batch.item_retry_delay_ms = 50;
  ASSERT_EQ(
      f.register_batch({load_numbers(2), item, f.recording_finish()}, GetParam(), batch, &err),
      CANO_OK);
  BatchFixture::Outcome result = f.run();
  EXPECT_EQ(result.status, CANO_OK) << result.message;
  // No RetryExhausted wrapping, as cano's item retry loop: the raw last error.
  EXPECT_EQ(f.outcomes, (std::vector<std::string>{"ok 0", "err STORE Work[1]: attempt 3"}));
  std::sort(calls.begin(), calls.end());
  EXPECT_EQ(calls, (std::vector<std::string>{"0#1", "0#2", "0#3", "1#1", "1#2", "1#3"}));
  // Concurrency 1: the second item waited for the first item's retries (2 delays of 50 ms).
  EXPECT_GE(cano_engine_clock_now(f.engine.get()), 200u);
}

TEST_P(BatchModes, ALoadFailureSkipsFinishAndGoesThroughTheTaskRetries) {
  BatchFixture f;
  ErrorPtr err;
  std::atomic<int> loads{0};
  std::atomic<int> items{0};
  Body load = [&](cano_task_ctx* ctx) {
    if (++loads == 1) return cano_task_ctx_fail(ctx, CANO_E_TASK_EXECUTION, "source down");
    return load_numbers(2)(ctx);
  };
  Body item = [&](cano_task_ctx* ctx) {
    ++items;
    return square(ctx);
  };
  ASSERT_EQ(f.register_batch({load, item, f.recording_finish()}, GetParam(),
                             CANO_BATCH_OPTIONS_INIT, &err, /*task_retries=*/1),
            CANO_OK);
  BatchFixture::Outcome result = f.run();
  EXPECT_EQ(result.status, CANO_OK) << result.message;
  EXPECT_EQ(loads.load(), 2);
  EXPECT_EQ(items.load(), 2);
  EXPECT_EQ(f.finish_calls.load(), 1);
}

TEST_P(BatchModes, ALoadFailureWithoutRetriesFailsTheRunWithoutFinish) {
  BatchFixture f;
  ErrorPtr err;
  Body load = [](cano_task_ctx* ctx) {
    return cano_task_ctx_fail(ctx, CANO_E_TASK_EXECUTION, "source down");
  };
  ASSERT_EQ(f.register_batch({load, square, f.recording_finish()}, GetParam(),
                             CANO_BATCH_OPTIONS_INIT, &err),
            CANO_OK);
  BatchFixture::Outcome result = f.run();
  EXPECT_EQ(result.status, CANO_E_TASK_EXECUTION);
  EXPECT_EQ(result.message, "source down");
  EXPECT_EQ(f.finish_calls.load(), 0);
}

TEST_P(BatchModes, AFinishFailureRetriesTheWholeBatch) {
  BatchFixture f;
  ErrorPtr err;
  std::atomic<int> loads{0};
  std::atomic<int> items{0};
  std::atomic<int> finishes{0};
  Body item = [&](cano_task_ctx* ctx) {
    ++items;
    return square(ctx);
  };
  Body finish = [&](cano_task_ctx* ctx) {
    if (++finishes == 1) return cano_task_ctx_fail(ctx, CANO_E_TASK_EXECUTION, "sink down");
    EXPECT_EQ(cano_split_result_count(cano_task_ctx_batch_results(ctx)), 3u);
    return cano_task_ctx_next(ctx, kDone);
  };
  ASSERT_EQ(f.register_batch({load_numbers(3, &loads), item, finish}, GetParam(),
                             CANO_BATCH_OPTIONS_INIT, &err, /*task_retries=*/2),
            CANO_OK);
  BatchFixture::Outcome result = f.run();
  EXPECT_EQ(result.status, CANO_OK) << result.message;
  EXPECT_EQ(loads.load(), 2);
  EXPECT_EQ(items.load(), 6);
  EXPECT_EQ(finishes.load(), 2);
}

TEST_P(BatchModes, AFatalItemFailsTheTaskAtOnceWithoutRetry) {
  BatchFixture f;
  ErrorPtr err;
  std::atomic<int> loads{0};
  Body item = [](cano_task_ctx* ctx) {
    if (item_text(ctx) == "2") return cano_task_ctx_fail_fatal(ctx, CANO_E_TASK_EXECUTION, "boom");
    return square(ctx);
  };
  ASSERT_EQ(f.register_batch({load_numbers(5, &loads), item, f.recording_finish()}, GetParam(),
                             CANO_BATCH_OPTIONS_INIT, &err, /*task_retries=*/3),
            CANO_OK);
  BatchFixture::Outcome result = f.run();
  EXPECT_EQ(result.status, CANO_E_TASK_EXECUTION);
  EXPECT_EQ(result.message, "boom");
  EXPECT_EQ(loads.load(), 1);
  EXPECT_EQ(f.finish_calls.load(), 0);
}

TEST_P(BatchModes, AnEmptyBatchStillFinishes) {
  BatchFixture f;
  ErrorPtr err;
  std::atomic<int> items{0};
  Body item = [&](cano_task_ctx* ctx) {
    ++items;
    return square(ctx);
  };
  ASSERT_EQ(f.register_batch({load_numbers(0), item, f.recording_finish()}, GetParam(),
                             CANO_BATCH_OPTIONS_INIT, &err),
            CANO_OK);
  BatchFixture::Outcome result = f.run();
  EXPECT_EQ(result.status, CANO_OK) << result.message;
  EXPECT_EQ(result.final_state, kDone);
  EXPECT_EQ(items.load(), 0);
  EXPECT_EQ(f.finish_calls.load(), 1);
  EXPECT_TRUE(f.outcomes.empty());
}

TEST_P(BatchModes, TheAttemptTimeoutBoundsTheWholeBatch) {
  BatchFixture f(/*manual_clock=*/true);
  ErrorPtr err;
  Body item = [](cano_task_ctx* ctx) {
    return cano_task_ctx_fail(ctx, CANO_E_TASK_EXECUTION, "not yet");
  };
  cano_batch_options batch = CANO_BATCH_OPTIONS_INIT;
  batch.item_retry = CANO_RETRY_FIXED;
  batch.item_retry_max_retries = 5;
  batch.item_retry_delay_ms = 100;
  ASSERT_EQ(f.register_batch({load_numbers(2), item, f.recording_finish()}, GetParam(), batch, &err,
                             /*task_retries=*/0, /*attempt_timeout_ms=*/250),
            CANO_OK);
  BatchFixture::Outcome result = f.run();
  EXPECT_EQ(result.status, CANO_E_TIMEOUT);
  EXPECT_EQ(result.message, "task attempt exceeded attempt_timeout");
  EXPECT_EQ(f.finish_calls.load(), 0);
}

INSTANTIATE_TEST_SUITE_P(Modes, BatchModes, ::testing::Values(CANO_TASK_WORKER, CANO_TASK_INLINE),
                         [](const auto& info) {
                           return info.param == CANO_TASK_WORKER ? "Worker" : "Inline";
                         });

TEST(Batch, AtMostConcurrencyItemsRunAtOnce) {
  for (uint32_t concurrency : {0u, 1u, 2u, 3u}) {
    BatchFixture f;
    ErrorPtr err;
    std::atomic<int> running{0};
    std::atomic<int> peak{0};
    Body item = [&](cano_task_ctx* ctx) {
      int now = ++running;
      int seen = peak.load();
      while (now > seen && !peak.compare_exchange_weak(seen, now)) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      --running;
      return square(ctx);
    };
    cano_batch_options batch = CANO_BATCH_OPTIONS_INIT;
    batch.concurrency = concurrency;
    // Four workers, so that only the batch's limit can hold items back.
    f.engine = make_engine(false, 4);
    ASSERT_EQ(f.register_batch({load_numbers(12), item, f.recording_finish()}, CANO_TASK_WORKER,
                               batch, &err),
              CANO_OK);
    BatchFixture::Outcome result = f.run();
    EXPECT_EQ(result.status, CANO_OK) << result.message;
    uint32_t limit = concurrency == 0 ? 1 : concurrency;  // cano clamps 0 to 1
    EXPECT_LE(peak.load(), static_cast<int>(limit)) << "concurrency " << concurrency;
    EXPECT_EQ(peak.load(), static_cast<int>(limit)) << "concurrency " << concurrency;
    EXPECT_EQ(f.outcomes.size(), 12u);
  }
}

TEST(Batch, CancellingARunStopsItsItems) {
  BatchFixture f;
  ErrorPtr err;
  std::atomic<int> started{0};
  Body item = [&](cano_task_ctx* ctx) {
    ++started;
    while (cano_task_ctx_cancelled(ctx) == 0)
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    return square(ctx);
  };
  cano_batch_options batch = CANO_BATCH_OPTIONS_INIT;
  batch.concurrency = 2;
  ASSERT_EQ(f.register_batch({load_numbers(10), item, f.recording_finish()}, CANO_TASK_WORKER,
                             batch, &err),
            CANO_OK);
  RunResult result;
  uint64_t run_id = 0;
  ASSERT_EQ(cano_run_start(&run_id, f.engine.get(), f.wf.get(), kWork, &RunResult::callback,
                           &result, nullptr),
            CANO_OK);
  ASSERT_TRUE(eventually([&] { return started.load() == 2; }));
  ASSERT_EQ(cano_run_cancel(f.engine.get(), run_id, nullptr), CANO_OK);
  ASSERT_TRUE(result.wait());
  EXPECT_EQ(result.status, CANO_E_CANCELLED);
  EXPECT_EQ(started.load(), 2);
  EXPECT_EQ(f.finish_calls.load(), 0);
}

TEST(Batch, AnAttemptTimeoutAbandonsWorkerItemsAndDiscardsTheirLateResults) {
  BatchFixture f;
  ErrorPtr err;
  std::atomic<int> loads{0};
  std::atomic<int> late{0};
  // Attempt 1's items block until they are told they were abandoned, then report a value the
  // finish step must never see; attempt 2's items answer at once.
  Body item = [&](cano_task_ctx* ctx) {
    if (loads.load() == 1) {
      while (cano_task_ctx_cancelled(ctx) == 0) {
        std::this_thread::sleep_for(std::chrono::microseconds(100));
      }
      ++late;
      return cano_task_ctx_set_value(ctx, "late", 4);
    }
    return square(ctx);
  };
  cano_batch_options batch = CANO_BATCH_OPTIONS_INIT;
  batch.concurrency = 2;
  ASSERT_EQ(f.register_batch({load_numbers(6, &loads), item, f.recording_finish()},
                             CANO_TASK_WORKER, batch, &err, /*task_retries=*/1,
                             /*attempt_timeout_ms=*/30),
            CANO_OK);
  BatchFixture::Outcome result = f.run();
  EXPECT_EQ(result.status, CANO_OK) << result.message;
  EXPECT_EQ(loads.load(), 2);
  EXPECT_EQ(f.outcomes,
            (std::vector<std::string>{"ok 0", "ok 1", "ok 4", "ok 9", "ok 16", "ok 25"}));
  f.engine.reset();  // waits for the abandoned bodies
  EXPECT_EQ(late.load(), 2) << "each of the two slots had one item in flight";
}

TEST(Batch, WorkerItemsReportEveryKindOfOutcome) {
  // Worker items without retries run back to back on the workers; their outcomes must read the
  // same as the general path's.
  Body item = [](cano_task_ctx* ctx) {
    std::string text = item_text(ctx);
    if (text == "1") return cano_task_ctx_fail(ctx, CANO_E_STORE, "no store");
    if (text == "2") return static_cast<cano_status>(CANO_STEP_MORE);
    if (text == "3") return static_cast<cano_status>(CANO_E_TIMEOUT);
    if (text == "4") return static_cast<cano_status>(77);
    return square(ctx);
  };
  cano_batch_options batch = CANO_BATCH_OPTIONS_INIT;
  batch.concurrency = 2;
  for (cano_task_mode mode : {CANO_TASK_WORKER, CANO_TASK_INLINE}) {
    BatchFixture f;
    ErrorPtr err;
    ASSERT_EQ(f.register_batch({load_numbers(6), item, f.recording_finish()}, mode, batch, &err),
              CANO_OK);
    EXPECT_EQ(f.run().final_state, kPartial);
    EXPECT_EQ(f.outcomes,
              (std::vector<std::string>{
                  "ok 0", "err STORE Work[1]: no store",
                  "err TASK_EXECUTION Work[2]: a batch item returned CANO_STEP_MORE, but items are "
                  "not stepped",
                  "err TIMEOUT Work[3]: task failed with status TIMEOUT",
                  "err TASK_EXECUTION Work[4]: task returned an invalid status 77", "ok 25"}))
        << (mode == CANO_TASK_WORKER ? "worker" : "inline");
  }
}

TEST(Batch, TheSameBatchStateRunsAgainWhenTheRunComesBack) {
  BatchFixture f;
  ErrorPtr err;
  std::atomic<int> finishes{0};
  Body finish = [&](cano_task_ctx* ctx) {
    EXPECT_EQ(cano_split_result_succeeded(cano_task_ctx_batch_results(ctx)), 4u);
    return cano_task_ctx_next(ctx, ++finishes < 3 ? kWork : kDone);
  };
  cano_batch_options batch = CANO_BATCH_OPTIONS_INIT;
  batch.concurrency = 2;
  ASSERT_EQ(f.register_batch({load_numbers(4), square, finish}, CANO_TASK_WORKER, batch, &err),
            CANO_OK);
  BatchFixture::Outcome result = f.run();
  EXPECT_EQ(result.status, CANO_OK) << result.message;
  EXPECT_EQ(finishes.load(), 3);
}

TEST(Batch, RegistrationErrorsNameTheStateAndReleaseTheUserData) {
  BatchFixture f;
  ErrorPtr err;
  static int destroyed = 0;
  destroyed = 0;
  auto options = [] {
    cano_task_options o = CANO_TASK_OPTIONS_INIT;
    o.run = &call_finish;
    o.destroy = [](void*) { ++destroyed; };
    return o;
  };
  cano_task_options o = options();
  EXPECT_EQ(cano_workflow_register_batch(f.wf.get(), kWork, &o, nullptr, err.out()),
            CANO_E_INVALID_ARGUMENT);
  EXPECT_EQ(err.message(),
            "register_batch: the batch task for state \"Work\" has no batch options (batch is "
            "NULL)");

  cano_batch_options batch = CANO_BATCH_OPTIONS_INIT;
  batch.process_item = &call_item;
  EXPECT_EQ(cano_workflow_register_batch(f.wf.get(), kWork, &o, &batch, err.out()),
            CANO_E_INVALID_ARGUMENT);
  EXPECT_EQ(err.message(),
            "register_batch: the batch task for state \"Work\" has no load function");

  batch.load = &call_load;
  batch.process_item = nullptr;
  EXPECT_EQ(cano_workflow_register_batch(f.wf.get(), kWork, &o, &batch, err.out()),
            CANO_E_INVALID_ARGUMENT);
  EXPECT_EQ(err.message(),
            "register_batch: the batch task for state \"Work\" has no process_item function");

  batch.process_item = &call_item;
  o.mode = CANO_TASK_ASYNC;
  EXPECT_EQ(cano_workflow_register_batch(f.wf.get(), kWork, &o, &batch, err.out()),
            CANO_E_INVALID_ARGUMENT);
  EXPECT_EQ(err.message(),
            "register_batch: the batch task for state \"Work\" cannot be CANO_TASK_ASYNC (use "
            "CANO_TASK_WORKER or CANO_TASK_INLINE)");

  o.mode = CANO_TASK_INLINE;
  batch.item_retry = static_cast<cano_retry_kind>(9);
  EXPECT_EQ(cano_workflow_register_batch(f.wf.get(), kWork, &o, &batch, err.out()),
            CANO_E_INVALID_ARGUMENT);
  EXPECT_EQ(err.message(),
            "register_batch: the batch task for state \"Work\" has an unknown item retry kind 9");

  batch.item_retry = CANO_RETRY_NONE;
  o.run = nullptr;
  EXPECT_EQ(cano_workflow_register_batch(f.wf.get(), kWork, &o, &batch, err.out()),
            CANO_E_INVALID_ARGUMENT);
  EXPECT_EQ(err.message(), "register_batch: the task for state \"Work\" has no run function");

  o.run = &call_finish;
  batch.struct_size = 4;
  EXPECT_EQ(cano_workflow_register_batch(f.wf.get(), kWork, &o, &batch, err.out()), CANO_E_VERSION);
  batch.struct_size = sizeof batch;
  EXPECT_EQ(cano_workflow_register_batch(f.wf.get(), 42, &o, &batch, err.out()),
            CANO_E_CONFIGURATION);
  EXPECT_EQ(cano_workflow_register_batch(nullptr, kWork, &o, &batch, err.out()),
            CANO_E_INVALID_ARGUMENT);
  EXPECT_EQ(destroyed, 9);  // every failed registration released the user data once
}

TEST(Batch, TheStepAccessorsAnswerOnlyInTheirStep) {
  BatchFixture f;
  ErrorPtr err;
  std::atomic<int> checks{0};
  Body load = [&](cano_task_ctx* ctx) {
    EXPECT_EQ(cano_task_ctx_batch_item(ctx, nullptr, nullptr, nullptr), 0);
    EXPECT_EQ(cano_task_ctx_batch_results(ctx), nullptr);
    EXPECT_EQ(cano_task_ctx_batch_add(ctx, nullptr, 3), CANO_E_INVALID_ARGUMENT);
    EXPECT_EQ(cano_task_ctx_batch_add(ctx, nullptr, 0), CANO_OK);  // an empty item
    ++checks;
    return CANO_OK;
  };
  Body item = [&](cano_task_ctx* ctx) {
    size_t index = 99;
    const void* data = &index;
    size_t len = 99;
    EXPECT_EQ(cano_task_ctx_batch_item(ctx, &index, &data, &len), 1);
    EXPECT_EQ(index, 0u);
    EXPECT_EQ(len, 0u);
    EXPECT_EQ(cano_task_ctx_batch_add(ctx, "x", 1), CANO_E_BAD_STATE);
    EXPECT_EQ(cano_task_ctx_batch_results(ctx), nullptr);
    ++checks;
    return CANO_OK;  // no value: the outcome succeeds without one
  };
  Body finish = [&](cano_task_ctx* ctx) {
    const cano_split_result* results = cano_task_ctx_batch_results(ctx);
    EXPECT_EQ(cano_split_result_count(results), 1u);
    EXPECT_EQ(cano_split_result_value(results, 0, nullptr), nullptr);
    EXPECT_EQ(cano_split_result_cancelled(results), 0u);
    EXPECT_EQ(cano_task_ctx_batch_add(ctx, "x", 1), CANO_E_BAD_STATE);
    EXPECT_EQ(cano_task_ctx_batch_item(ctx, nullptr, nullptr, nullptr), 0);
    ++checks;
    return cano_task_ctx_next(ctx, kDone);
  };
  ASSERT_EQ(f.register_batch({load, item, finish}, CANO_TASK_INLINE, CANO_BATCH_OPTIONS_INIT, &err),
            CANO_OK);
  EXPECT_EQ(f.run().status, CANO_OK);
  EXPECT_EQ(checks.load(), 3);
  EXPECT_EQ(cano_task_ctx_batch_add(nullptr, "x", 1), CANO_E_INVALID_ARGUMENT);
  EXPECT_EQ(cano_task_ctx_batch_item(nullptr, nullptr, nullptr, nullptr), 0);
  EXPECT_EQ(cano_task_ctx_batch_results(nullptr), nullptr);
}

TEST(Batch, APlainTaskCannotAddItems) {
  BatchFixture f;
  ErrorPtr err;
  cano_task_options options = task([](cano_task_ctx* ctx) {
    EXPECT_EQ(cano_task_ctx_batch_add(ctx, "x", 1), CANO_E_BAD_STATE);
    EXPECT_EQ(cano_task_ctx_batch_results(ctx), nullptr);
    return cano_task_ctx_next(ctx, kDone);
  });
  ASSERT_EQ(cano_workflow_register(f.wf.get(), kWork, &options, err.out()), CANO_OK);
  EXPECT_EQ(f.run().status, CANO_OK);
}
