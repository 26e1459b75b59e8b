// Per-transition cost of a 1,000-state linear workflow of no-op tasks.
//
// States 0..999 each hold a task that moves to the next state and state 1000 is the exit, so
// one run makes exactly 1,000 transitions. Each benchmark iteration is one whole blocking run
// (cano_run_wait) from state 0; the figure that matters is the ns_per_transition counter, which
// divides the measured wall time by the number of transitions made.
//
// The worker benchmarks are repeated for several values of cano_engine_options.spin_us, because
// on a small machine (2 cores) it is not obvious whether polling before sleeping pays: it saves
// the wake-up of the loop and the worker on every transition but burns the core the other
// thread needs.

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "bench/bench_support.hpp"
#include "cano/cano.h"

namespace {

constexpr int32_t kTransitions = 1000;
constexpr int32_t kExitState = kTransitions;

using cano_bench::Clock;
using cano_bench::ok;

// The whole task: move to the state after the current one. The next state is derived from the
// context rather than from user_data so that one function serves all 1,000 states.
cano_status next_state(cano_task_ctx* ctx, void* /*user_data*/) {
  return cano_task_ctx_next(ctx, cano_task_ctx_state(ctx) + 1);
}

// Owns an engine and the linear workflow, so every exit path of a benchmark cleans up.
struct Fixture {
  cano_engine* engine = nullptr;
  cano_workflow* workflow = nullptr;

  ~Fixture() {
    // The engine goes first: shutting it down ends every run that might still hold the
    // workflow, and the workflow's own destroy then frees it at once.
    cano_engine_destroy(engine);
    cano_workflow_destroy(workflow);
  }

  bool build(benchmark::State& state, cano_task_mode mode, int32_t spin_us) {
    cano_error* err = nullptr;
    cano_engine_options options = CANO_ENGINE_OPTIONS_INIT;
    options.spin_us = spin_us;
    if (!ok(state, cano_engine_create(&engine, &options, &err), err, "cano_engine_create")) {
      return false;
    }
    if (!ok(state, cano_workflow_create(&workflow, nullptr, &err), err, "cano_workflow_create")) {
      return false;
    }
    for (int32_t s = 0; s <= kExitState; ++s) {
      std::string name = "s" + std::to_string(s);
      if (!ok(state, cano_workflow_add_state(workflow, s, name.c_str(), &err), err,
              "cano_workflow_add_state")) {
        return false;
      }
    }
    cano_task_options task = CANO_TASK_OPTIONS_INIT;
    task.run = next_state;
    task.mode = mode;
    cano_task_options_retry_none(&task);
    for (int32_t s = 0; s < kExitState; ++s) {
      if (!ok(state, cano_workflow_register(workflow, s, &task, &err), err,
              "cano_workflow_register")) {
        return false;
      }
    }
    return ok(state, cano_workflow_add_exit_state(workflow, kExitState, &err), err,
              "cano_workflow_add_exit_state");
  }
};

// Runs the workflow once per iteration and reports the time per transition. The wall time is
// measured here as well as by the library so that ns_per_transition is a plain number of
// nanoseconds rather than a rate the console would print with an SI suffix.
void run_linear(benchmark::State& state, cano_task_mode mode, int32_t spin_us) {
  Fixture f;
  if (!f.build(state, mode, spin_us)) return;

  // One untimed run freezes the workflow and warms up the threads, so that the first timed
  // iteration is not charged for either.
  cano_error* err = nullptr;
  int32_t final_state = -1;
  if (!ok(state, cano_run_wait(&final_state, f.engine, f.workflow, 0, &err), err,
          "cano_run_wait (warm-up)")) {
    return;
  }

  auto start = Clock::now();
  for (auto _ : state) {
    cano_status status = cano_run_wait(&final_state, f.engine, f.workflow, 0, &err);
    if (!ok(state, status, err, "cano_run_wait")) break;
    if (final_state != kExitState) {
      state.SkipWithError("the run ended outside the exit state");
      break;
    }
  }
  double elapsed_ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count();

  double transitions = static_cast<double>(state.iterations()) * kTransitions;
  state.SetItemsProcessed(static_cast<int64_t>(transitions));
  if (transitions > 0) state.counters["ns_per_transition"] = elapsed_ns / transitions;
}

// Inline tasks never leave the loop thread: this is the engine's own cost per transition.
void BM_TransitionInline(benchmark::State& state) { run_linear(state, CANO_TASK_INLINE, 0); }

// Worker tasks cross to a worker and back on every transition, with the library's default spin.
void BM_TransitionWorker(benchmark::State& state) { run_linear(state, CANO_TASK_WORKER, 0); }

// The same worker workflow for each spin_us argument: 0 is the library default, -1 never spins.
void BM_TransitionWorkerSpin(benchmark::State& state) {
  run_linear(state, CANO_TASK_WORKER, static_cast<int32_t>(state.range(0)));
}

}  // namespace

// Every benchmark involves the loop thread (and the worker ones the workers), so the benchmark
// thread's CPU time says nothing: wall time is what is measured.
BENCHMARK(BM_TransitionInline)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_TransitionWorker)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_TransitionWorkerSpin)
    ->ArgName("spin_us")
    ->Arg(-1)
    ->Arg(0)
    ->Arg(5)
    ->Arg(20)
    ->Arg(50)
    ->Arg(200)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
