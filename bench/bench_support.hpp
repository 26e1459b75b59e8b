// Helpers shared by the benchmark programs.
#pragma once

#include <benchmark/benchmark.h>

#include <chrono>
#include <string>

#include "cano/cano.h"

namespace cano_bench {

using Clock = std::chrono::steady_clock;

// Reports a failed call through the benchmark (so the output shows which call failed and why)
// and frees the error. Returns true when the call succeeded.
inline bool ok(benchmark::State& state, cano_status status, cano_error* err, const char* what) {
  if (status == CANO_OK) return true;
  std::string msg = std::string(what) + ": " + (err ? cano_error_describe(err) : "no error");
  cano_error_free(err);
  state.SkipWithError(msg.c_str());
  return false;
}

}  // namespace cano_bench
