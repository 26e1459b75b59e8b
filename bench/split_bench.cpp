// cano's large_split_collect: a whole run of a workflow whose one split state fans out to N no-op
// branches joined with All, then exits. Reported as time per run and per branch, for inline and
// for worker branches, at 10, 100, 1,000 and 10,000 branches.
#include <benchmark/benchmark.h>

#include <vector>

#include "bench/bench_support.hpp"
#include "cano/cano.h"

namespace {

using cano_bench::ok;

constexpr int32_t kSplit = 0;
constexpr int32_t kDone = 1;

cano_status no_op_branch(cano_task_ctx* /*ctx*/, void* /*user_data*/) { return CANO_OK; }

void BM_LargeSplitCollect(benchmark::State& state) {
  const auto branches = static_cast<size_t>(state.range(0));
  const auto mode = static_cast<cano_task_mode>(state.range(1));
  cano_engine* engine = nullptr;
  cano_workflow* workflow = nullptr;
  cano_error* err = nullptr;
  if (!ok(state, cano_engine_create(&engine, nullptr, &err), err, "engine")) return;
  if (!ok(state, cano_workflow_create(&workflow, nullptr, &err), err, "workflow")) return;
  cano_workflow_add_state(workflow, kSplit, "Fan", nullptr);
  cano_workflow_add_state(workflow, kDone, "Done", nullptr);
  cano_workflow_add_exit_state(workflow, kDone, nullptr);
  std::vector<cano_task_options> options(branches);
  for (auto& branch : options) {
    branch = CANO_TASK_OPTIONS_INIT;
    branch.run = &no_op_branch;
    branch.mode = mode;
    cano_task_options_retry_none(&branch);
  }
  cano_join_options join = CANO_JOIN_OPTIONS_INIT;
  join.join_state = kDone;
  if (!ok(state,
          cano_workflow_register_split(workflow, kSplit, options.data(), branches, &join, &err),
          err, "register_split")) {
    return;
  }
  for (auto _ : state) {
    int32_t final_state = -1;
    if (!ok(state, cano_run_wait(&final_state, engine, workflow, kSplit, &err), err, "run")) break;
  }
  state.counters["us_per_run"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * 1e-6,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["ns_per_branch"] =
      benchmark::Counter(static_cast<double>(state.iterations() * branches) * 1e-9,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  cano_workflow_destroy(workflow);
  cano_engine_destroy(engine);
}

BENCHMARK(BM_LargeSplitCollect)
    ->ArgNames({"branches", "mode"})
    ->ArgsProduct({{10, 100, 1000, 10000}, {CANO_TASK_INLINE, CANO_TASK_WORKER}})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
