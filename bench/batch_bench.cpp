// A batch task of N no-op items: a whole run of a workflow whose one batch state loads N
// one-byte items, processes each (no work, no output) at a concurrency limit, and finishes by
// reading every outcome. Reported as time per run and per item, for inline and for worker
// tasks, at concurrency 2 (the target: 100,000 items in at most 100 ms) and 16.
#include <benchmark/benchmark.h>

#include <cstdint>

#include "bench/bench_support.hpp"
#include "cano/cano.h"

namespace {

using cano_bench::ok;

constexpr int32_t kBatch = 0;
constexpr int32_t kDone = 1;

struct Workload {
  size_t items = 0;
};

cano_status load(cano_task_ctx* ctx, void* user_data) {
  const size_t items = static_cast<Workload*>(user_data)->items;
  for (size_t i = 0; i < items; ++i) {
    cano_status status = cano_task_ctx_batch_add(ctx, "x", 1);
    if (status != CANO_OK) return cano_task_ctx_fail(ctx, status, "batch_add failed");
  }
  return CANO_OK;
}

cano_status process_item(cano_task_ctx* /*ctx*/, void* /*user_data*/) { return CANO_OK; }

cano_status finish(cano_task_ctx* ctx, void* user_data) {
  const cano_split_result* results = cano_task_ctx_batch_results(ctx);
  if (cano_split_result_succeeded(results) != static_cast<Workload*>(user_data)->items) {
    return cano_task_ctx_fail(ctx, CANO_E_TASK_EXECUTION, "an item did not succeed");
  }
  return cano_task_ctx_next(ctx, kDone);
}

void BM_Batch(benchmark::State& state) {
  Workload workload{static_cast<size_t>(state.range(0))};
  const auto concurrency = static_cast<uint32_t>(state.range(1));
  const auto mode = static_cast<cano_task_mode>(state.range(2));
  cano_engine* engine = nullptr;
  cano_workflow* workflow = nullptr;
  cano_error* err = nullptr;
  if (!ok(state, cano_engine_create(&engine, nullptr, &err), err, "engine")) return;
  if (!ok(state, cano_workflow_create(&workflow, nullptr, &err), err, "workflow")) return;
  cano_workflow_add_state(workflow, kBatch, "Batch", nullptr);
  cano_workflow_add_state(workflow, kDone, "Done", nullptr);
  cano_workflow_add_exit_state(workflow, kDone, nullptr);
  cano_task_options options = CANO_TASK_OPTIONS_INIT;
  options.run = &finish;
  options.user_data = &workload;
  options.mode = mode;
  cano_task_options_retry_none(&options);
  cano_batch_options batch = CANO_BATCH_OPTIONS_INIT;
  batch.load = &load;
  batch.process_item = &process_item;
  batch.concurrency = concurrency;
  if (!ok(state, cano_workflow_register_batch(workflow, kBatch, &options, &batch, &err), err,
          "register_batch")) {
    return;
  }
  for (auto _ : state) {
    int32_t final_state = -1;
    if (!ok(state, cano_run_wait(&final_state, engine, workflow, kBatch, &err), err, "run")) break;
  }
  state.counters["ms_per_run"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * 1e-3,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["ns_per_item"] =
      benchmark::Counter(static_cast<double>(state.iterations() * workload.items) * 1e-9,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  cano_workflow_destroy(workflow);
  cano_engine_destroy(engine);
}

BENCHMARK(BM_Batch)
    ->ArgNames({"items", "concurrency", "mode"})
    ->ArgsProduct({{1000, 100000}, {2, 16}, {CANO_TASK_INLINE, CANO_TASK_WORKER}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
