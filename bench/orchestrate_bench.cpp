// cano's `orchestrate_overhead`: the fixed cost of a whole run that does no work.
//
// The workflow's initial state is its exit state, so a run only validates, checks the initial
// state, acquires and releases its resources and reports. One dummy state is registered because
// validation refuses a workflow without any task.
//
// Two ways of starting runs are measured, because they cost very different amounts:
// - blocking cano_run_wait from the benchmark thread, which pays a round trip to the loop
//   thread (queue, wake-up, completion signal) for every run;
// - cano_run_start from the loop thread itself (through cano_engine_post), where a run without
//   resource callbacks completes synchronously, so the figure is the engine's own overhead.
// The variants with a resource set (setup/teardown callbacks and a MemoryStore, as in cano's
// bench) are there for reference: their callbacks run on a worker thread.

#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>

#include "bench/bench_support.hpp"
#include "cano/cano.h"

namespace {

constexpr int32_t kStart = 0;
constexpr int32_t kDone = 1;
constexpr int64_t kBatch = 10000;

using cano_bench::Clock;
using cano_bench::ok;

// The dummy task; it never runs because every run starts in the exit state.
cano_status dummy_task(cano_task_ctx* ctx, void* /*user_data*/) {
  return cano_task_ctx_next(ctx, kDone);
}

// Setup and teardown do nothing but count, so the figure is the engine's cost of calling them.
std::atomic<uint64_t> g_setups{0};
cano_status count_setup(cano_error** /*err*/, void* /*object*/) {
  g_setups.fetch_add(1, std::memory_order_relaxed);
  return CANO_OK;
}
cano_status noop_teardown(cano_error** /*err*/, void* /*object*/) { return CANO_OK; }

// Owns the engine and the workflow so every exit path of a benchmark cleans up.
struct Fixture {
  cano_engine* engine = nullptr;
  cano_workflow* workflow = nullptr;

  ~Fixture() {
    cano_engine_destroy(engine);
    cano_workflow_destroy(workflow);
  }

  bool build(benchmark::State& state, bool with_resources) {
    cano_error* err = nullptr;
    if (!ok(state, cano_engine_create(&engine, nullptr, &err), err, "cano_engine_create")) {
      return false;
    }
    cano_resources* resources = nullptr;
    if (with_resources && !make_resources(state, &resources)) return false;
    cano_status status = cano_workflow_create(&workflow, resources, &err);
    // The workflow holds its own reference to the set, so ours can go now.
    cano_resources_destroy(resources);
    if (!ok(state, status, err, "cano_workflow_create")) return false;

    cano_task_options task = CANO_TASK_OPTIONS_INIT;
    task.run = dummy_task;
    task.mode = CANO_TASK_INLINE;
    cano_task_options_retry_none(&task);
    return ok(state, cano_workflow_add_state(workflow, kStart, "Start", &err), err,
              "cano_workflow_add_state") &&
           ok(state, cano_workflow_add_state(workflow, kDone, "Done", &err), err,
              "cano_workflow_add_state") &&
           ok(state, cano_workflow_register(workflow, kStart, &task, &err), err,
              "cano_workflow_register") &&
           ok(state, cano_workflow_add_exit_state(workflow, kDone, &err), err,
              "cano_workflow_add_exit_state");
  }

  // One resource with setup and teardown callbacks plus a MemoryStore, like cano's bench.
  static bool make_resources(benchmark::State& state, cano_resources** out) {
    cano_error* err = nullptr;
    if (!ok(state, cano_resources_create(out, &err), err, "cano_resources_create")) return false;
    cano_resource_options options = CANO_RESOURCE_OPTIONS_INIT;
    options.type = "bench.Counter";
    options.setup = count_setup;
    options.teardown = noop_teardown;
    cano_store* store = nullptr;
    bool good = ok(state, cano_resources_insert(*out, "counter", &options, &err), err,
                   "cano_resources_insert") &&
                ok(state, cano_store_create(&store, &err), err, "cano_store_create") &&
                ok(state, cano_resources_insert_store(*out, "store", store, &err), err,
                   "cano_resources_insert_store");
    cano_store_destroy(store);  // The set retains the store.
    if (!good) {
      cano_resources_destroy(*out);
      *out = nullptr;
    }
    return good;
  }
};

// (a) One blocking run per iteration from the benchmark thread.
void run_blocking(benchmark::State& state, bool with_resources) {
  Fixture f;
  if (!f.build(state, with_resources)) return;
  cano_error* err = nullptr;
  int32_t final_state = -1;
  uint64_t setups_before = g_setups.load();
  auto start = Clock::now();
  for (auto _ : state) {
    if (!ok(state, cano_run_wait(&final_state, f.engine, f.workflow, kDone, &err), err,
            "cano_run_wait")) {
      break;
    }
  }
  double elapsed_ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
  double runs = static_cast<double>(state.iterations());
  state.SetItemsProcessed(state.iterations());
  if (runs > 0) {
    state.counters["ns_per_run"] = elapsed_ns / runs;
    state.counters["setups_per_run"] = static_cast<double>(g_setups.load() - setups_before) / runs;
  }
}

// State shared between the benchmark thread and the loop thread for one batch of runs. The
// batch is finished once the posted function has returned and every run it started has called
// back; both sides decide that under the mutex, so the benchmark thread never frees the batch
// while the loop thread still touches it.
struct Batch {
  cano_engine* engine = nullptr;
  cano_workflow* workflow = nullptr;
  std::mutex mutex;
  std::condition_variable cv;
  int64_t started = 0;             // runs cano_run_start accepted
  int64_t done = 0;                // done callbacks so far
  int64_t done_synchronously = 0;  // done callbacks before the posted function returned
  bool posted_returned = false;
  bool finished = false;
  cano_status start_status = CANO_OK;

  // Called with the mutex held. The notify happens under the mutex so that the waiter cannot
  // wake, return and destroy the condition variable before notify_one is done with it.
  void finish_if_complete() {
    if (posted_returned && done == started) {
      finished = true;
      cv.notify_one();
    }
  }
};

// Done callbacks run on the loop thread; most arrive while start_batch still holds no lock, so
// the mutex is uncontended and its cost is part of what the user's callback would cost anyway.
void count_done(uint64_t /*run_id*/, cano_status /*status*/, int32_t /*final_state*/,
                const cano_error* /*error*/, void* user_data) {
  auto* batch = static_cast<Batch*>(user_data);
  std::lock_guard<std::mutex> lock(batch->mutex);
  ++batch->done;
  batch->finish_if_complete();
}

// Runs on the loop thread: starts the whole batch; a run without resource callbacks completes
// before cano_run_start returns, the others when a worker has set their resources up.
void start_batch(void* user_data) {
  auto* batch = static_cast<Batch*>(user_data);
  cano_status status = CANO_OK;
  int64_t started = 0;
  for (; started < kBatch; ++started) {
    status =
        cano_run_start(nullptr, batch->engine, batch->workflow, kDone, count_done, batch, nullptr);
    if (status != CANO_OK) break;
  }
  std::lock_guard<std::mutex> lock(batch->mutex);
  batch->started = started;
  batch->start_status = status;
  batch->done_synchronously = batch->done;
  batch->posted_returned = true;
  batch->finish_if_complete();
}

// (b) Batches of kBatch runs started on the loop thread. Timed from the post to the last done
// callback, so the one cross-thread hand-off per batch is included but amortised to nothing.
void run_loop_batches(benchmark::State& state, bool with_resources) {
  Fixture f;
  if (!f.build(state, with_resources)) return;
  cano_error* err = nullptr;
  int64_t synchronous = 0;
  uint64_t setups_before = g_setups.load();
  auto start = Clock::now();
  for (auto _ : state) {
    Batch batch;
    batch.engine = f.engine;
    batch.workflow = f.workflow;
    if (!ok(state, cano_engine_post(f.engine, start_batch, &batch, &err), err,
            "cano_engine_post")) {
      break;
    }
    {
      std::unique_lock<std::mutex> lock(batch.mutex);
      batch.cv.wait(lock, [&] { return batch.finished; });
    }
    if (batch.start_status != CANO_OK) {
      state.SkipWithError(cano_status_name(batch.start_status));
      break;
    }
    synchronous += batch.done_synchronously;
  }
  double elapsed_ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
  double runs = static_cast<double>(state.iterations()) * kBatch;
  state.SetItemsProcessed(static_cast<int64_t>(runs));
  if (runs > 0) {
    state.counters["ns_per_run"] = elapsed_ns / runs;
    state.counters["sync_fraction"] = static_cast<double>(synchronous) / runs;
    state.counters["setups_per_run"] = static_cast<double>(g_setups.load() - setups_before) / runs;
  }
}

void BM_OrchestrateBlocking(benchmark::State& state) { run_blocking(state, false); }
void BM_OrchestrateBlockingResources(benchmark::State& state) { run_blocking(state, true); }
void BM_OrchestrateOnLoop(benchmark::State& state) { run_loop_batches(state, false); }
void BM_OrchestrateOnLoopResources(benchmark::State& state) { run_loop_batches(state, true); }

}  // namespace

// Every benchmark waits for the loop thread, so wall time is the measure.
BENCHMARK(BM_OrchestrateBlocking)->UseRealTime();
BENCHMARK(BM_OrchestrateBlockingResources)->UseRealTime();
BENCHMARK(BM_OrchestrateOnLoop)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_OrchestrateOnLoopResources)->UseRealTime()->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
