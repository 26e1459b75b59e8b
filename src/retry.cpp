#include "src/retry.hpp"

#include <cmath>
#include <cstdint>

namespace cano::detail {

RetryPolicy RetryPolicy::from(const cano_task_options& options) {
  RetryPolicy policy;
  policy.kind = options.retry;
  switch (options.retry) {
    case CANO_RETRY_NONE:
      break;
    case CANO_RETRY_FIXED:
      policy.max_retries = options.retry_max_retries;
      policy.delay_ms = options.retry_delay_ms;
      break;
    case CANO_RETRY_EXPONENTIAL:
      policy.max_retries = options.retry_max_retries;
      policy.delay_ms = options.retry_delay_ms;
      policy.multiplier = options.retry_multiplier;
      policy.max_delay_ms = options.retry_max_delay_ms;
      // RetryMode::exponential_custom clamps jitter into [0, 1]; NaN becomes 0.
      policy.jitter = std::isnan(options.retry_jitter)
                          ? 0.0
                          : std::fmin(1.0, std::fmax(0.0, options.retry_jitter));
      break;
    case CANO_RETRY_DEFAULT:
    default:
      // TaskConfig::default(): RetryMode::exponential(3).
      policy.kind = CANO_RETRY_EXPONENTIAL;
      policy.max_retries = 3;
      policy.delay_ms = 100;
      policy.multiplier = 2.0;
      policy.max_delay_ms = 30000;
      policy.jitter = 0.1;
      break;
  }
  return policy;
}

uint32_t RetryPolicy::max_attempts() const {
  if (kind == CANO_RETRY_NONE) return 1;
  // Saturate: u32::MAX retries cannot add one more attempt.
  return max_retries == UINT32_MAX ? UINT32_MAX : max_retries + 1;
}

int64_t RetryPolicy::delay_for_attempt(uint32_t index, double unit) const {
  switch (kind) {
    case CANO_RETRY_FIXED:
      if (index >= max_retries) return -1;
      return delay_ms > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX
                                                         : static_cast<int64_t>(delay_ms);
    case CANO_RETRY_EXPONENTIAL: {
      if (index >= max_retries) return -1;
      // As cano: whole-millisecond base, the cap applied before the jitter, then truncation.
      double delay =
          static_cast<double>(delay_ms) * std::pow(multiplier, static_cast<double>(index));
      delay = std::fmin(delay, static_cast<double>(max_delay_ms));
      if (jitter > 0.0) delay *= 1.0 + jitter * unit;
      delay = std::fmax(delay, 0.0);
      if (!(delay < 9.2e18)) return INT64_MAX;
      return static_cast<int64_t>(delay);
    }
    default:
      return -1;
  }
}

}  // namespace cano::detail
