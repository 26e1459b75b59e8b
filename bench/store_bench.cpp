// cano's `store_operations`: put and get of 10, 100 and 1,000 keys ("key_i") in a MemoryStore.
//
// Puts go into a fresh store every iteration, so the figure includes the growth of the map;
// gets read from a store filled beforehand. Both are measured for bytes values and for JSON
// values (whose put also validates the text). The ns_per_op counter is the figure to compare.
//
// The store is used from one thread only here: this measures the cost of an operation, lock
// included, not contention.

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "bench/bench_support.hpp"
#include "cano/cano.h"

namespace {

using Clock = std::chrono::steady_clock;

enum class Kind { kBytes, kJson };

using cano_bench::ok;

// Keys and values are built before timing starts, so the figures hold the store's cost and not
// the formatting of strings (which cano's bench includes; it is small next to a put).
struct Data {
  std::vector<std::string> keys;
  std::vector<uint64_t> bytes;    // an 8-byte value per key
  std::vector<std::string> json;  // a small JSON object per key

  explicit Data(int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
      keys.push_back("key_" + std::to_string(i));
      bytes.push_back(static_cast<uint64_t>(i));
      json.push_back("{\"value\":" + std::to_string(i) + "}");
    }
  }
};

cano_status put_one(cano_store* store, const Data& d, size_t i, Kind kind, cano_error** err) {
  if (kind == Kind::kBytes) {
    return cano_store_put_bytes(store, d.keys[i].c_str(), &d.bytes[i], sizeof d.bytes[i], err);
  }
  return cano_store_put_json(store, d.keys[i].c_str(), d.json[i].c_str(), err);
}

// Reads one key and frees the copy the store hands out, as every caller must.
cano_status get_one(const cano_store* store, const Data& d, size_t i, Kind kind, cano_error** err) {
  if (kind == Kind::kBytes) {
    void* out = nullptr;
    size_t len = 0;
    cano_status status = cano_store_get_bytes(&out, &len, store, d.keys[i].c_str(), err);
    benchmark::DoNotOptimize(out);
    cano_free(out);
    return status;
  }
  char* out = nullptr;
  cano_status status = cano_store_get_json(&out, store, d.keys[i].c_str(), err);
  benchmark::DoNotOptimize(out);
  cano_free(out);
  return status;
}

void report(benchmark::State& state, double ns, int64_t n) {
  double ops = static_cast<double>(state.iterations()) * static_cast<double>(n);
  state.SetItemsProcessed(static_cast<int64_t>(ops));
  if (ops > 0) state.counters["ns_per_op"] = ns / ops;
}

// Creating and destroying the store are kept out of the measured time (manual timing), because
// destroying a store of 1,000 keys would otherwise be charged to the puts.
void run_put(benchmark::State& state, Kind kind) {
  const int64_t n = state.range(0);
  Data d(n);
  cano_error* err = nullptr;
  double total_ns = 0;
  for (auto _ : state) {
    cano_store* store = nullptr;
    if (!ok(state, cano_store_create(&store, &err), err, "cano_store_create")) break;
    auto start = Clock::now();
    cano_status status = CANO_OK;
    for (size_t i = 0; i < d.keys.size() && status == CANO_OK; ++i) {
      status = put_one(store, d, i, kind, &err);
    }
    double ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
    cano_store_destroy(store);
    if (!ok(state, status, err, "put")) break;
    state.SetIterationTime(ns * 1e-9);
    total_ns += ns;
  }
  report(state, total_ns, n);
}

void run_get(benchmark::State& state, Kind kind) {
  const int64_t n = state.range(0);
  Data d(n);
  cano_error* err = nullptr;
  cano_store* store = nullptr;
  if (!ok(state, cano_store_create(&store, &err), err, "cano_store_create")) return;
  for (size_t i = 0; i < d.keys.size(); ++i) {
    if (!ok(state, put_one(store, d, i, kind, &err), err, "prefill put")) {
      cano_store_destroy(store);
      return;
    }
  }
  auto start = Clock::now();
  for (auto _ : state) {
    cano_status status = CANO_OK;
    for (size_t i = 0; i < d.keys.size() && status == CANO_OK; ++i) {
      status = get_one(store, d, i, kind, &err);
    }
    if (!ok(state, status, err, "get")) break;
  }
  double ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
  cano_store_destroy(store);
  report(state, ns, n);
}

void BM_StorePutBytes(benchmark::State& state) { run_put(state, Kind::kBytes); }
void BM_StoreGetBytes(benchmark::State& state) { run_get(state, Kind::kBytes); }
void BM_StorePutJson(benchmark::State& state) { run_put(state, Kind::kJson); }
void BM_StoreGetJson(benchmark::State& state) { run_get(state, Kind::kJson); }

}  // namespace

BENCHMARK(BM_StorePutBytes)->ArgName("keys")->Arg(10)->Arg(100)->Arg(1000)->UseManualTime();
BENCHMARK(BM_StoreGetBytes)->ArgName("keys")->Arg(10)->Arg(100)->Arg(1000);
BENCHMARK(BM_StorePutJson)->ArgName("keys")->Arg(10)->Arg(100)->Arg(1000)->UseManualTime();
BENCHMARK(BM_StoreGetJson)->ArgName("keys")->Arg(10)->Arg(100)->Arg(1000);

BENCHMARK_MAIN();
