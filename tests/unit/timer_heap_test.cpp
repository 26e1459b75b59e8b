// The timer heap orders by deadline, then by arming order, and cancels in place.
#include "src/timer_heap.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

using cano::detail::Timer;
using cano::detail::TimerHeap;

TEST(TimerHeap, PopsInDeadlineThenArmingOrder) {
  TimerHeap heap;
  std::vector<Timer> timers(5);
  heap.arm(timers[0], 30);
  heap.arm(timers[1], 10);
  heap.arm(timers[2], 20);
  heap.arm(timers[3], 10);
  heap.arm(timers[4], 5);
  std::vector<Timer*> order;
  while (!heap.empty()) order.push_back(&heap.pop());
  EXPECT_EQ(order,
            (std::vector<Timer*>{&timers[4], &timers[1], &timers[3], &timers[2], &timers[0]}));
  for (auto& t : timers) EXPECT_FALSE(t.armed());
}

TEST(TimerHeap, CancelAndRearmKeepTheHeapValid) {
  TimerHeap heap;
  std::mt19937 rng(7);
  std::vector<Timer> timers(200);
  for (auto& t : timers) heap.arm(t, rng() % 1000);
  for (size_t i = 0; i < timers.size(); i += 3) heap.cancel(timers[i]);
  for (size_t i = 1; i < timers.size(); i += 5) heap.arm(timers[i], rng() % 1000);
  heap.cancel(timers[0]);  // cancelling twice is harmless
  uint64_t last = 0;
  size_t popped = 0;
  while (!heap.empty()) {
    Timer& t = heap.pop();
    EXPECT_GE(t.deadline, last);
    last = t.deadline;
    ++popped;
  }
  size_t expected = 0;
  for (size_t i = 0; i < timers.size(); ++i) expected += (i % 3 != 0) || (i % 5 == 1);
  EXPECT_EQ(popped, expected);
}
