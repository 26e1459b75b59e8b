// Review tests for batch tasks (cano/batch.h) and the async cancel callback: lifetimes of
// abandoned batches and their worker jobs, re-entrancy, and step semantics. Public headers only.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "batch_support.hpp"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
extern "C" size_t __sanitizer_get_current_allocated_bytes();
static size_t heap_in_use() { return __sanitizer_get_current_allocated_bytes(); }
#elif defined(__GLIBC__)
// The main arena only: allocations by worker threads are not counted (an under-estimate).
#include <malloc.h>
static size_t heap_in_use() { return mallinfo2().uordblks; }
#else
static size_t heap_in_use() { return 0; }
#endif

using namespace cano_test;

namespace {

cano_status echo(cano_task_ctx* ctx) {
  std::string text = item_text(ctx);
  return cano_task_ctx_set_value(ctx, text.data(), text.size());
}

struct Fx : BatchWorkflow {
  explicit Fx(bool manual = false, uint32_t workers = 4) : BatchWorkflow(manual, workers) {}

  uint64_t start(RunResult& result) {
    uint64_t id = 0;
    EXPECT_EQ(
        cano_run_start(&id, engine.get(), wf.get(), kWork, &RunResult::callback, &result, nullptr),
        CANO_OK);
    return id;
  }
};

// Reads every outcome as "ok V" / "err MESSAGE".
std::vector<std::string> outcomes_of(cano_task_ctx* ctx) {
  std::vector<std::string> out;
  const cano_split_result* results = cano_task_ctx_batch_results(ctx);
  for (size_t i = 0; i < cano_split_result_count(results); ++i) {
    if (cano_split_result_status(results, i) == CANO_BRANCH_SUCCEEDED) {
      size_t len = 0;
      const void* v = cano_split_result_value(results, i, &len);
      out.push_back("ok " + std::string(v ? static_cast<const char*>(v) : "", len));
    } else {
      out.push_back(std::string("err ") + cano_error_message(cano_split_result_error(results, i)));
    }
  }
  return out;
}

}  // namespace

class BatchReviewModes : public ::testing::TestWithParam<cano_task_mode> {};

INSTANTIATE_TEST_SUITE_P(Modes, BatchReviewModes,
                         ::testing::Values(CANO_TASK_WORKER, CANO_TASK_INLINE),
                         [](const auto& info) {
                           return info.param == CANO_TASK_WORKER ? "Worker" : "Inline";
                         });

// A load that returns CANO_STEP_MORE is called again (with a cursor), but what it added before
// is dropped: the items it added in its first call never reach process_item or finish. The
// header documents load as CANO_OK or a failure; items that return CANO_STEP_MORE get a clear
// error. Expected: either every added item is processed, or the attempt fails with a clear
// error -- never a silently shorter batch.
TEST_P(BatchReviewModes, ALoadThatReturnsStepMoreNeverDropsItemsSilently) {
  Fx f;
  std::vector<std::string> seen;
  std::atomic<int> loads{0};
  Body load = [&](cano_task_ctx* ctx) -> cano_status {
    if (++loads == 1) {
      EXPECT_EQ(cano_task_ctx_batch_add(ctx, "a", 1), CANO_OK);
      return cano_task_ctx_step_more(ctx, "1", 1);
    }
    EXPECT_EQ(cano_task_ctx_batch_add(ctx, "b", 1), CANO_OK);
    return CANO_OK;
  };
  Body finish = [&](cano_task_ctx* ctx) {
    seen = outcomes_of(ctx);
    return cano_task_ctx_next(ctx, kDone);
  };
  ASSERT_EQ(f.register_batch({load, echo, finish}, GetParam(), CANO_BATCH_OPTIONS_INIT), CANO_OK);
  RunResult result;
  f.start(result);
  ASSERT_TRUE(result.wait());
  if (result.status == CANO_OK) {
    EXPECT_EQ(seen, (std::vector<std::string>{"ok a", "ok b"}))
        << "load returned CANO_STEP_MORE after adding \"a\"; \"a\" was dropped";
  } else {
    EXPECT_NE(result.message.find("load"), std::string::npos) << result.message;
  }
}

// Worker items on the one-attempt fast path, abandoned again and again by the attempt timeout:
// every abandoned job must stop at its next item and free itself, with no race between what
// the jobs still write and what the retried attempt reads (run under ASan and TSan).
TEST(BatchReview, AttemptTimeoutsAbandonFastWorkerLanesCleanly) {
  Fx f(false, 4);
  std::atomic<int> loads{0};
  std::atomic<int> finishes{0};
  Body item = [&](cano_task_ctx* ctx) {
    // The first two attempts are far too slow for their 50 ms; the third is quick.
    if (loads.load() < 3) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return echo(ctx);
  };
  std::vector<std::string> seen;
  Body finish = [&](cano_task_ctx* ctx) {
    ++finishes;
    seen = outcomes_of(ctx);
    return cano_task_ctx_next(ctx, kDone);
  };
  cano_batch_options batch = CANO_BATCH_OPTIONS_INIT;
  batch.concurrency = 3;
  ASSERT_EQ(
      f.register_batch({load_numbers(400, &loads), item, finish}, CANO_TASK_WORKER, batch, nullptr,
                       /*task_retries=*/2, /*attempt_timeout_ms=*/50),
      CANO_OK);
  RunResult result;
  f.start(result);
  ASSERT_TRUE(result.wait());
  EXPECT_EQ(result.status, CANO_OK) << result.message;
  EXPECT_EQ(loads.load(), 3);
  EXPECT_EQ(finishes.load(), 1);
  ASSERT_EQ(seen.size(), 400u);
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], "ok " + std::to_string(i));
  f.engine.reset();  // waits for the abandoned jobs, which must stop and free themselves
}

// A fatal item among worker items that run concurrently on the fast path: the attempt fails at
// once with that error, finish never runs, and the other lanes stop and free themselves.
TEST(BatchReview, AFatalFastWorkerItemWhileOtherLanesRun) {
  for (int round = 0; round < 20; ++round) {
    Fx f(false, 4);
    std::atomic<int> finishes{0};
    std::atomic<int> items{0};
    Body item = [&](cano_task_ctx* ctx) {
      ++items;
      size_t index = 0;
      cano_task_ctx_batch_item(ctx, &index, nullptr, nullptr);
      if (index == 37) return cano_task_ctx_fail_fatal(ctx, CANO_E_STORE, "boom");
      std::this_thread::sleep_for(std::chrono::microseconds(20));
      return echo(ctx);
    };
    Body finish = [&](cano_task_ctx* ctx) {
      ++finishes;
      return cano_task_ctx_next(ctx, kDone);
    };
    cano_batch_options batch = CANO_BATCH_OPTIONS_INIT;
    batch.concurrency = 4;
    ASSERT_EQ(f.register_batch({load_numbers(2000), item, finish}, CANO_TASK_WORKER, batch, nullptr,
                               /*task_retries=*/2),
              CANO_OK);
    RunResult result;
    f.start(result);
    ASSERT_TRUE(result.wait());
    EXPECT_EQ(result.status, CANO_E_STORE);
    EXPECT_EQ(result.message, "boom");
    EXPECT_EQ(finishes.load(), 0);
    f.engine.reset();
    EXPECT_LT(items.load(), 2000) << "the other lanes should have stopped";
  }
}

// Engine shutdown with batch items in flight on both paths (fast worker lanes, and worker items
// with retries on lanes of executions): shutdown waits for them and frees everything.
TEST(BatchReview, ShutdownWithBatchItemsInFlightOnBothPaths) {
  for (uint32_t retries : {0u, 2u}) {
    std::atomic<int> started{0};
    RunResult result;
    {
      Fx f(false, 4);
      Body item = [&](cano_task_ctx* ctx) {
        ++started;
        while (cano_task_ctx_cancelled(ctx) == 0) {
          std::this_thread::sleep_for(std::chrono::microseconds(100));
        }
        return echo(ctx);
      };
      cano_batch_options batch = CANO_BATCH_OPTIONS_INIT;
      batch.concurrency = 3;
      batch.item_retry = CANO_RETRY_FIXED;
      batch.item_retry_max_retries = retries;
      ASSERT_EQ(
          f.register_batch({load_numbers(50), item,
                            [](cano_task_ctx* ctx) { return cano_task_ctx_next(ctx, kDone); }},
                           CANO_TASK_WORKER, batch),
          CANO_OK);
      f.start(result);
      ASSERT_TRUE(eventually([&] { return started.load() == 3; }));
    }  // engine destroyed here, items still running
    ASSERT_TRUE(result.wait());
    EXPECT_EQ(result.status, CANO_E_SHUTDOWN) << result.message;
    EXPECT_EQ(started.load(), 3);
  }
}

// A batch state entered again and again from its own finish step, with items that wait out a
// retry delay (lanes of executions, restarted from inside their own callbacks).
TEST_P(BatchReviewModes, ABatchStateReenteredWhileItsLanesUnwind) {
  Fx f(/*manual=*/true, 2);
  std::mutex mutex;
  std::vector<std::string> calls;
  std::atomic<int> finishes{0};
  Body item = [&](cano_task_ctx* ctx) {
    std::string text = item_text(ctx);
    if (cano_task_ctx_attempt(ctx) == 1 && text != "0") {
      return cano_task_ctx_fail(ctx, CANO_E_STORE, "again");
    }
    return echo(ctx);
  };
  std::vector<std::vector<std::string>> seen;
  Body finish = [&](cano_task_ctx* ctx) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      seen.push_back(outcomes_of(ctx));
    }
    return cano_task_ctx_next(ctx, ++finishes < 5 ? kWork : kDone);
  };
  cano_batch_options batch = CANO_BATCH_OPTIONS_INIT;
  batch.concurrency = 2;
  batch.item_retry = CANO_RETRY_FIXED;
  batch.item_retry_max_retries = 1;
  batch.item_retry_delay_ms = 10;
  ASSERT_EQ(f.register_batch({load_numbers(5), item, finish}, GetParam(), batch), CANO_OK);
  RunResult result;
  f.start(result);
  wait_advancing_clock(f.engine.get(), result);
  EXPECT_EQ(result.status, CANO_OK) << result.message;
  ASSERT_EQ(seen.size(), 5u);
  for (const auto& entry : seen) {
    EXPECT_EQ(entry, (std::vector<std::string>{"ok 0", "ok 1", "ok 2", "ok 3", "ok 4"}));
  }
}

// Cancelling runs while their worker items with retries run (lanes of executions) and while
// fast worker lanes run, many times, so that cancellations land at every point.
TEST(BatchReview, CancelledRunsWhileItemsRunOnBothPaths) {
  for (uint32_t retries : {0u, 1u}) {  // 0: fast worker lanes; 1: lanes of executions
    Fx f(false, 4);
    Body item = [](cano_task_ctx* ctx) {
      std::this_thread::sleep_for(std::chrono::microseconds(30));
      if (item_text(ctx).back() == '3' && cano_task_ctx_attempt(ctx) == 1) {
        return cano_task_ctx_fail(ctx, CANO_E_STORE, "again");
      }
      return echo(ctx);
    };
    Body finish = [](cano_task_ctx* ctx) { return cano_task_ctx_next(ctx, kDone); };
    cano_batch_options batch = CANO_BATCH_OPTIONS_INIT;
    batch.concurrency = 3;
    batch.item_retry = CANO_RETRY_FIXED;
    batch.item_retry_max_retries = retries;
    ASSERT_EQ(f.register_batch({load_numbers(60), item, finish}, CANO_TASK_WORKER, batch), CANO_OK);
    std::vector<std::unique_ptr<RunResult>> results;
    for (int i = 0; i < 40; ++i) {
      results.push_back(std::make_unique<RunResult>());
      uint64_t id = f.start(*results.back());
      std::this_thread::sleep_for(std::chrono::microseconds(100 * (i % 7)));
      cano_run_cancel(f.engine.get(), id, nullptr);
    }
    for (auto& r : results) {
      ASSERT_TRUE(r->wait());
      EXPECT_TRUE(r->status == CANO_OK || r->status == CANO_E_CANCELLED) << r->message;
    }
  }
}

namespace {
cano_status ok_setup(cano_error**, void*) { return CANO_OK; }
cano_status ok_teardown(cano_error**, void*) { return CANO_OK; }
}  // namespace

// An inline item that cancels its own run (cano_run_cancel is "any thread"). The workflow has a
// resource with a teardown, so that the run is not freed inside the cancel (its teardown runs
// on a worker first) and what follows is only about the batch: once the run is cancelled, no
// further item and no finish step may run. Without the resource the run is freed inside the
// cancel, and the loop then runs on in freed memory (a use-after-free under ASan; plain inline
// tasks share that older problem).
TEST(BatchReview, AnInlineItemThatCancelsItsRunStopsTheBatch) {
  const cano_retry_kind kinds[] = {CANO_RETRY_NONE, CANO_RETRY_FIXED};
  for (cano_retry_kind kind : kinds) {
    EnginePtr engine = make_engine();
    cano_resources* resources = nullptr;
    ASSERT_EQ(cano_resources_create(&resources, nullptr), CANO_OK);
    cano_resource_options r = CANO_RESOURCE_OPTIONS_INIT;
    r.type = "held";
    r.setup = &ok_setup;
    r.teardown = &ok_teardown;
    ASSERT_EQ(cano_resources_insert(resources, "held", &r, nullptr), CANO_OK);
    cano_workflow* raw = nullptr;
    ASSERT_EQ(cano_workflow_create(&raw, resources, nullptr), CANO_OK);
    WorkflowPtr wf(raw);
    ASSERT_EQ(cano_workflow_add_state(raw, kWork, "Work", nullptr), CANO_OK);
    ASSERT_EQ(cano_workflow_add_state(raw, kDone, "Done", nullptr), CANO_OK);
    ASSERT_EQ(cano_workflow_add_exit_state(raw, kDone, nullptr), CANO_OK);

    std::atomic<int> after_cancel{0};
    std::atomic<int> finishes{0};
    std::atomic<bool> cancelled{false};
    Body item = [&](cano_task_ctx* ctx) {
      if (cancelled.load()) ++after_cancel;
      if (item_text(ctx) == "1") {
        EXPECT_EQ(cano_run_cancel(cano_task_ctx_engine(ctx), cano_task_ctx_run_id(ctx), nullptr),
                  CANO_OK);
        cancelled = true;
      }
      return echo(ctx);
    };
    Body finish = [&](cano_task_ctx* ctx) {
      ++finishes;
      return cano_task_ctx_next(ctx, kDone);
    };
    cano_task_options options = CANO_TASK_OPTIONS_INIT;
    options.run = &call_finish;
    options.user_data = new BatchBodies{load_numbers(10), item, finish};
    options.destroy = &delete_bodies;
    options.mode = CANO_TASK_INLINE;
    cano_task_options_retry_none(&options);
    cano_batch_options batch = CANO_BATCH_OPTIONS_INIT;
    batch.load = &call_load;
    batch.process_item = &call_item;
    batch.concurrency = 2;
    batch.item_retry = kind;
    batch.item_retry_max_retries = 1;
    ASSERT_EQ(cano_workflow_register_batch(raw, kWork, &options, &batch, nullptr), CANO_OK);
    RunResult result;
    ASSERT_EQ(
        cano_run_start(nullptr, engine.get(), raw, kWork, &RunResult::callback, &result, nullptr),
        CANO_OK);
    ASSERT_TRUE(result.wait());
    EXPECT_EQ(result.status, CANO_E_CANCELLED) << result.message;
    EXPECT_EQ(after_cancel.load(), 0)
        << (kind == CANO_RETRY_NONE ? "fast inline path" : "lanes of executions")
        << ": items kept running after their run was cancelled";
    EXPECT_EQ(finishes.load(), 0) << (kind == CANO_RETRY_NONE ? "fast inline path"
                                                              : "lanes of executions")
                                  << ": the finish step ran for a cancelled run";
    engine.reset();
    wf.reset();
    cano_resources_destroy(resources);
  }
}

// Once the finish step has run and the run has moved on, a batch's items and outcomes are
// garbage: the engine drops its own reference to the outcomes after finish
// (drop_batch_results, "do not keep a finished batch's outcomes alive"). But the batch runner
// kept in the run's execution still holds every item and every output until the run ends or
// enters a batch state again: here 16 items of 2 MiB and their 2 MiB outputs (64 MiB) stay
// allocated while the run waits in the next state.
TEST_P(BatchReviewModes, AFinishedBatchDoesNotKeepItsItemsAndOutputsAlive) {
  constexpr int32_t kHold = 3;
  constexpr size_t kSize = size_t{2} << 20;
  Fx f;
  ASSERT_EQ(cano_workflow_add_state(f.wf.get(), kHold, "Hold", nullptr), CANO_OK);
  std::atomic<uint64_t> token{0};
  cano_task_options hold = task(
      [&](cano_task_ctx* ctx) {
        token = cano_task_ctx_token(ctx);
        return static_cast<cano_status>(CANO_PENDING);
      },
      CANO_TASK_ASYNC);
  ASSERT_EQ(cano_workflow_register(f.wf.get(), kHold, &hold, nullptr), CANO_OK);
  Body load = [&](cano_task_ctx* ctx) {
    std::string big(kSize, 'x');
    for (int i = 0; i < 16; ++i)
      EXPECT_EQ(cano_task_ctx_batch_add(ctx, big.data(), big.size()), CANO_OK);
    return CANO_OK;
  };
  Body finish = [](cano_task_ctx* ctx) { return cano_task_ctx_next(ctx, kHold); };
  ASSERT_EQ(f.register_batch({load, echo, finish}, GetParam(), CANO_BATCH_OPTIONS_INIT), CANO_OK);
  size_t before = heap_in_use();
  RunResult result;
  f.start(result);
  ASSERT_TRUE(eventually([&] { return token.load() != 0; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // let the loop settle
  size_t held = heap_in_use();
  EXPECT_LT(held, before + 8 * kSize)
      << "while the run waits in Hold, " << (held - before) / (1 << 20)
      << " MiB of the finished batch are still allocated";
  ASSERT_EQ(cano_task_complete(f.engine.get(), token.load(), kDone, nullptr), CANO_OK);
  ASSERT_TRUE(result.wait());
  EXPECT_EQ(result.status, CANO_OK) << result.message;
}
