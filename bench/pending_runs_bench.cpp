// Runs in flight: what 100,000 runs parked on an async task cost in memory and in time.
//
// The workflow is A -> B -> C (exit). A is CANO_TASK_ASYNC and returns CANO_PENDING after
// recording its completion token, so every run stays in flight until the benchmark thread
// completes it; B is an inline no-op. The benchmark starts all runs, waits until all of them are
// parked, reads the resident set size, then completes every token and waits for every done
// callback. It reports bytes per pending run and the time per run of both phases.

#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "bench/bench_support.hpp"
#include "cano/cano.h"

namespace {

constexpr int32_t kA = 0;
constexpr int32_t kB = 1;
constexpr int32_t kC = 2;
constexpr int64_t kRuns = 100000;

using cano_bench::Clock;
using cano_bench::ok;

// VmRSS from /proc/self/status in bytes, or -1 where it cannot be read.
int64_t resident_bytes() {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return -1;
  char line[256];
  int64_t kib = -1;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strncmp(line, "VmRSS:", 6) == 0) {
      kib = std::strtoll(line + 6, nullptr, 10);
      break;
    }
  }
  std::fclose(f);
  return kib < 0 ? -1 : kib * 1024;
}

// Heap bytes in use (all malloc arenas), or -1 without glibc's mallinfo2. Unlike VmRSS it does
// not depend on how much freed memory the allocator kept from an earlier repetition, so the
// two figures together separate the engine's allocations from the allocator's behaviour.
int64_t heap_in_use() {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  struct mallinfo2 info = mallinfo2();
  return static_cast<int64_t>(info.uordblks + info.hblkhd);
#else
  return -1;
#endif
}

// Where the async bodies leave their tokens. The array is allocated and touched before the
// first RSS reading, so its pages are not charged to the runs. Bodies run on the loop thread
// only, but the benchmark thread reads the tokens, so `recorded` is published with release
// order after each token is written and read with acquire order before the tokens are used.
struct Tokens {
  std::unique_ptr<uint64_t[]> slots{new uint64_t[kRuns]()};
  std::atomic<int64_t> next{0};
  std::atomic<int64_t> recorded{0};
  std::atomic<int64_t> done{0};
  std::atomic<int64_t> failed{0};
};

cano_status park(cano_task_ctx* ctx, void* user_data) {
  auto* t = static_cast<Tokens*>(user_data);
  int64_t i = t->next.fetch_add(1, std::memory_order_relaxed);
  if (i >= kRuns) return cano_task_ctx_fail(ctx, CANO_E_TASK_EXECUTION, "token array full");
  t->slots[i] = cano_task_ctx_token(ctx);
  t->recorded.fetch_add(1, std::memory_order_release);
  return CANO_PENDING;
}

cano_status to_c(cano_task_ctx* ctx, void* /*user_data*/) { return cano_task_ctx_next(ctx, kC); }

void count_done(uint64_t /*run_id*/, cano_status status, int32_t /*final_state*/,
                const cano_error* /*error*/, void* user_data) {
  auto* t = static_cast<Tokens*>(user_data);
  if (status != CANO_OK) t->failed.fetch_add(1, std::memory_order_relaxed);
  t->done.fetch_add(1, std::memory_order_release);
}

// Waits without spinning, so the loop thread has a core to itself on a 2-core machine; the
// 100 us granularity is negligible next to phases that take tens of milliseconds.
template <typename Pred>
void wait_until(Pred pred) {
  while (!pred()) std::this_thread::sleep_for(std::chrono::microseconds(100));
}

struct Fixture {
  cano_engine* engine = nullptr;
  cano_workflow* workflow = nullptr;

  ~Fixture() {
    // Runs still parked (after a failure) end with CANO_E_SHUTDOWN here, before the tokens
    // array they would call back into goes away (the fixture is declared after it).
    cano_engine_destroy(engine);
    cano_workflow_destroy(workflow);
  }

  bool build(benchmark::State& state, Tokens* tokens) {
    cano_error* err = nullptr;
    if (!ok(state, cano_engine_create(&engine, nullptr, &err), err, "cano_engine_create") ||
        !ok(state, cano_workflow_create(&workflow, nullptr, &err), err, "cano_workflow_create")) {
      return false;
    }
    cano_task_options a = CANO_TASK_OPTIONS_INIT;
    a.run = park;
    a.user_data = tokens;
    a.mode = CANO_TASK_ASYNC;
    cano_task_options_retry_none(&a);
    cano_task_options b = CANO_TASK_OPTIONS_INIT;
    b.run = to_c;
    b.mode = CANO_TASK_INLINE;
    cano_task_options_retry_none(&b);
    return ok(state, cano_workflow_add_state(workflow, kA, "A", &err), err, "add_state A") &&
           ok(state, cano_workflow_add_state(workflow, kB, "B", &err), err, "add_state B") &&
           ok(state, cano_workflow_add_state(workflow, kC, "C", &err), err, "add_state C") &&
           ok(state, cano_workflow_register(workflow, kA, &a, &err), err, "register A") &&
           ok(state, cano_workflow_register(workflow, kB, &b, &err), err, "register B") &&
           ok(state, cano_workflow_add_exit_state(workflow, kC, &err), err, "add_exit_state");
  }
};

double ns_since(Clock::time_point start) {
  return std::chrono::duration<double, std::nano>(Clock::now() - start).count();
}

void BM_PendingRuns(benchmark::State& state) {
  Tokens tokens;
  Fixture f;
  if (!f.build(state, &tokens)) return;
  cano_error* err = nullptr;

  for (auto _ : state) {
    // Give freed heap back to the OS first, so that a repetition does not reuse the memory of
    // the one before and report too little. glibc does not always release all of it (a later
    // repetition then shows a smaller RSS delta); heap_bytes_per_pending_run is immune to that.
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
    int64_t rss_before = resident_bytes();
    int64_t heap_before = heap_in_use();

    auto start = Clock::now();
    for (int64_t i = 0; i < kRuns; ++i) {
      if (!ok(state, cano_run_start(nullptr, f.engine, f.workflow, kA, count_done, &tokens, &err),
              err, "cano_run_start")) {
        return;
      }
    }
    wait_until([&] {
      return tokens.recorded.load(std::memory_order_acquire) == kRuns &&
             cano_engine_runs_in_flight(f.engine) == static_cast<uint64_t>(kRuns);
    });
    double start_ns = ns_since(start);
    int64_t rss_after = resident_bytes();
    int64_t heap_after = heap_in_use();

    start = Clock::now();
    for (int64_t i = 0; i < kRuns; ++i) {
      if (!ok(state, cano_task_complete(f.engine, tokens.slots[i], kB, &err), err,
              "cano_task_complete")) {
        return;
      }
    }
    wait_until([&] { return tokens.done.load(std::memory_order_acquire) == kRuns; });
    double complete_ns = ns_since(start);

    if (tokens.failed.load() != 0) {
      state.SkipWithError("some runs did not reach the exit state");
      return;
    }
    state.counters["start_ns_per_run"] = start_ns / kRuns;
    state.counters["complete_ns_per_run"] = complete_ns / kRuns;
    if (rss_before >= 0 && rss_after >= 0) {
      state.counters["bytes_per_pending_run"] = static_cast<double>(rss_after - rss_before) / kRuns;
      state.counters["rss_before_MiB"] = static_cast<double>(rss_before) / (1 << 20);
      state.counters["rss_pending_MiB"] = static_cast<double>(rss_after) / (1 << 20);
    }
    if (heap_before >= 0 && heap_after >= 0) {
      state.counters["heap_bytes_per_pending_run"] =
          static_cast<double>(heap_after - heap_before) / kRuns;
    }
  }
  state.SetItemsProcessed(state.iterations() * kRuns);
}

}  // namespace

// One iteration is a whole experiment (100,000 runs); repetitions give more samples.
BENCHMARK(BM_PendingRuns)->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
