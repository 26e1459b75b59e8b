// cano's RetryMode arithmetic (spec section 2.4), as pure functions over the C options.
#pragma once

#include <cstdint>

#include "cano/task.h"

namespace cano::detail {

struct RetryPolicy {
  cano_retry_kind kind = CANO_RETRY_DEFAULT;
  uint32_t max_retries = 0;
  uint64_t delay_ms = 0;
  double multiplier = 0.0;
  uint64_t max_delay_ms = 0;
  double jitter = 0.0;

  // Reads the retry fields of task options, resolving CANO_RETRY_DEFAULT to cano's default
  // exponential policy and clamping exponential jitter into [0, 1].
  static RetryPolicy from(const cano_task_options& options);

  uint32_t max_attempts() const;
  // The delay after failed attempt `index` (0-based) with jitter draw `unit` in [-1, 1], in whole
  // milliseconds; -1 when no retry follows.
  int64_t delay_for_attempt(uint32_t index, double unit) const;
};

}  // namespace cano::detail
