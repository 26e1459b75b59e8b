// The engine's multi-producer queue: everything that reaches the loop from another thread
// (task completions, posted work, runs started elsewhere, clock commands) goes through it, and
// one uv_async_t wakes the loop. libuv coalesces wake-ups, so the loop drains the whole queue
// each time it is woken.
//
// A message is a function pointer and an argument, so that posting never allocates.
#pragma once

#include <uv.h>

#include <atomic>
#include <mutex>
#include <vector>

namespace cano::detail {

struct Message {
  void (*fn)(void* arg);
  void* arg;
};

class Mailbox {
 public:
  // Binds the queue to the loop's async handle. Called on the loop thread before any post.
  void bind(uv_async_t* wake) { wake_ = wake; }

  // Queues a message and wakes the loop. Returns false once the mailbox is closed, in which case
  // the message was not queued. The wake-up is sent under the lock, so that close() can be
  // sure no other thread is inside uv_async_send when it lets the loop close the handle.
  bool post(Message message) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return false;
    queue_.push_back(message);
    nonempty_.store(true, std::memory_order_release);
    // While the loop polls the queue in its spin phase it needs no wake-up (an eventfd write).
    if (!wake_pending_ && !loop_spinning_) {
      wake_pending_ = true;
      uv_async_send(wake_);
    }
    return true;
  }

  // Moves every queued message into `out` (which the caller reuses to avoid allocations).
  void drain(std::vector<Message>& out) {
    std::lock_guard<std::mutex> lock(mutex_);
    wake_pending_ = false;
    nonempty_.store(false, std::memory_order_relaxed);
    out.swap(queue_);
  }

  // True when a message is waiting: a lock-free check for the loop's spin phase.
  bool has_messages() const { return nonempty_.load(std::memory_order_acquire); }

  // The loop announces that it polls the queue itself (no wake-ups needed) or that it is about
  // to sleep; leaving the spin phase returns whether messages arrived meanwhile, so that none
  // is left waiting for a wake-up that was skipped.
  bool set_loop_spinning(bool spinning) {
    std::lock_guard<std::mutex> lock(mutex_);
    loop_spinning_ = spinning;
    return !queue_.empty();
  }

  // Refuses every later post. Messages already queued stay for a last drain.
  void close() {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
  }

  bool closed() {
    std::lock_guard<std::mutex> lock(mutex_);
    return closed_;
  }

 private:
  std::mutex mutex_;
  std::vector<Message> queue_;
  uv_async_t* wake_ = nullptr;
  bool wake_pending_ = false;
  bool loop_spinning_ = false;
  bool closed_ = false;
  std::atomic<bool> nonempty_{false};
};

}  // namespace cano::detail
