#include "src/timer_heap.hpp"

namespace cano::detail {

void TimerHeap::arm(Timer& timer, uint64_t deadline) {
  if (timer.armed()) remove_at(timer.index);
  timer.deadline = deadline;
  timer.order = next_order_++;
  heap_.push_back(&timer);
  timer.index = heap_.size() - 1;
  sift_up(timer.index);
}

void TimerHeap::cancel(Timer& timer) {
  if (timer.armed()) remove_at(timer.index);
}

Timer& TimerHeap::pop() {
  Timer& first = *heap_.front();
  remove_at(0);
  return first;
}

void TimerHeap::remove_at(size_t index) {
  Timer* removed = heap_[index];
  Timer* last = heap_.back();
  heap_.pop_back();
  removed->index = Timer::kNotArmed;
  if (index < heap_.size()) {
    place(index, last);
    sift_up(index);
    sift_down(last->index);
  }
}

void TimerHeap::sift_up(size_t index) {
  Timer* moving = heap_[index];
  while (index > 0) {
    size_t parent = (index - 1) / 2;
    if (!before(moving, heap_[parent])) break;
    place(index, heap_[parent]);
    index = parent;
  }
  place(index, moving);
}

void TimerHeap::sift_down(size_t index) {
  Timer* moving = heap_[index];
  size_t count = heap_.size();
  for (;;) {
    size_t child = 2 * index + 1;
    if (child >= count) break;
    if (child + 1 < count && before(heap_[child + 1], heap_[child])) ++child;
    if (!before(heap_[child], moving)) break;
    place(index, heap_[child]);
    index = child;
  }
  place(index, moving);
}

}  // namespace cano::detail
