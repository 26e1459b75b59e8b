// The worker pool runs every job exactly once, on its own threads, and stops cleanly.
#include "src/worker_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

using cano::detail::WorkerPool;

namespace {
struct Counter {
  std::atomic<int> runs{0};
  std::atomic<int> off_caller{0};
  std::thread::id caller;
  WorkerPool* pool;
};
void count(void* arg) {
  auto* c = static_cast<Counter*>(arg);
  if (std::this_thread::get_id() != c->caller && c->pool->on_worker_thread()) ++c->off_caller;
  ++c->runs;
}
}  // namespace

class WorkerPoolSpin : public ::testing::TestWithParam<uint32_t> {};

TEST_P(WorkerPoolSpin, RunsEveryJobOnceOnAWorker) {
  WorkerPool pool;
  Counter counter;
  counter.caller = std::this_thread::get_id();
  counter.pool = &pool;
  pool.start(3, GetParam());
  EXPECT_EQ(pool.size(), 3u);
  EXPECT_FALSE(pool.on_worker_thread());
  for (int i = 0; i < 10000; ++i) pool.submit({&count, &counter});
  pool.stop();  // lets the queue drain first
  EXPECT_EQ(counter.runs.load(), 10000);
  EXPECT_EQ(counter.off_caller.load(), 10000);
  pool.stop();  // idempotent
}

INSTANTIATE_TEST_SUITE_P(Spin, WorkerPoolSpin, ::testing::Values(0u, 50u));
