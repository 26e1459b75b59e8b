// cano's RetryMode arithmetic (spec section 2.4).
#include "src/retry.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using cano::detail::RetryPolicy;

namespace {
RetryPolicy exponential(uint32_t retries, uint64_t base, double multiplier, uint64_t cap,
                        double jitter) {
  cano_task_options options = CANO_TASK_OPTIONS_INIT;
  options.retry = CANO_RETRY_EXPONENTIAL;
  options.retry_max_retries = retries;
  options.retry_delay_ms = base;
  options.retry_multiplier = multiplier;
  options.retry_max_delay_ms = cap;
  options.retry_jitter = jitter;
  return RetryPolicy::from(options);
}
}  // namespace

TEST(Retry, DefaultIsExponentialThreeRetries) {
  cano_task_options options = CANO_TASK_OPTIONS_INIT;
  RetryPolicy policy = RetryPolicy::from(options);
  EXPECT_EQ(policy.kind, CANO_RETRY_EXPONENTIAL);
  EXPECT_EQ(policy.max_attempts(), 4u);
  EXPECT_EQ(policy.delay_for_attempt(0, 0.0), 100);
  EXPECT_EQ(policy.delay_for_attempt(2, 0.0), 400);
  EXPECT_EQ(policy.delay_for_attempt(3, 0.0), -1);
}

TEST(Retry, JitterStaysWithinItsBand) {
  RetryPolicy policy = exponential(3, 100, 2.0, 30000, 0.1);
  for (double unit = -1.0; unit <= 1.0; unit += 0.125) {
    int64_t delay = policy.delay_for_attempt(1, unit);
    EXPECT_GE(delay, 180);
    EXPECT_LE(delay, 220);
  }
}

TEST(Retry, HugeExponentsSaturateAtTheCap) {
  RetryPolicy policy = exponential(100, 100, 10.0, 30000, 0.0);
  EXPECT_EQ(policy.delay_for_attempt(90, 0.0), 30000);
  RetryPolicy uncapped = exponential(100, 100, 10.0, std::numeric_limits<uint64_t>::max(), 0.0);
  EXPECT_EQ(uncapped.delay_for_attempt(90, 0.0), std::numeric_limits<int64_t>::max());
}

TEST(Retry, NanMultiplierFallsBackToTheCapAndNegativeDelaysClampToZero) {
  RetryPolicy nan = exponential(3, 100, std::nan(""), 5000, 0.0);
  EXPECT_EQ(nan.delay_for_attempt(1, 0.0), 5000);
  RetryPolicy negative = exponential(3, 100, -2.0, 5000, 0.0);
  EXPECT_EQ(negative.delay_for_attempt(1, 0.0), 0);
}

TEST(Retry, NoneAndFixed) {
  cano_task_options options = CANO_TASK_OPTIONS_INIT;
  options.retry = CANO_RETRY_NONE;
  EXPECT_EQ(RetryPolicy::from(options).max_attempts(), 1u);
  options.retry = CANO_RETRY_FIXED;
  options.retry_max_retries = std::numeric_limits<uint32_t>::max();
  EXPECT_EQ(RetryPolicy::from(options).max_attempts(), std::numeric_limits<uint32_t>::max());
}
