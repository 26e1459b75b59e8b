// The engine's timers: a binary min-heap of intrusive Timer nodes ordered by deadline, then by
// arming order. Owners embed Timer in their own objects (a run has a retry timer, an attempt
// timer and a workflow timer), so arming never allocates, and cancelling is O(log n).
//
// The heap knows nothing about clocks: the engine asks for the earliest deadline, arms one libuv
// timer for it (real clock) or walks deadlines by hand (manual clock), and pops due timers.
// Loop thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace cano::detail {

struct Timer {
  void (*fn)(void* arg) = nullptr;
  void* arg = nullptr;
  uint64_t deadline = 0;
  uint64_t order = 0;
  size_t index = kNotArmed;
  static constexpr size_t kNotArmed = static_cast<size_t>(-1);
  bool armed() const { return index != kNotArmed; }
};

class TimerHeap {
 public:
  void arm(Timer& timer, uint64_t deadline);
  void cancel(Timer& timer);
  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }
  // The earliest timer; the heap must not be empty.
  Timer& top() const { return *heap_.front(); }
  // Removes and returns the earliest timer; the heap must not be empty.
  Timer& pop();

 private:
  bool before(const Timer* a, const Timer* b) const {
    return a->deadline != b->deadline ? a->deadline < b->deadline : a->order < b->order;
  }
  void place(size_t index, Timer* timer) {
    heap_[index] = timer;
    timer->index = index;
  }
  void sift_up(size_t index);
  void sift_down(size_t index);
  void remove_at(size_t index);

  std::vector<Timer*> heap_;
  uint64_t next_order_ = 0;
};

}  // namespace cano::detail
