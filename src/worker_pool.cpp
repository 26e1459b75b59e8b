#include "src/worker_pool.hpp"

#include <algorithm>
#include <chrono>

namespace cano::detail {

void WorkerPool::start(uint32_t threads, uint32_t spin_us) {
  spin_us_ = spin_us;
  threads_.reserve(threads);
  for (uint32_t i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
  for (const auto& thread : threads_) ids_.push_back(thread.get_id());
}

void WorkerPool::submit(Job job) {
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    jobs_.push_back(job);
    queued_.fetch_add(1, std::memory_order_release);
    wake = sleepers_ > 0;
  }
  if (wake) wake_.notify_one();
}

bool WorkerPool::try_pop(Job& job) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (jobs_.empty()) return false;
  job = jobs_.front();
  jobs_.pop_front();
  queued_.fetch_sub(1, std::memory_order_relaxed);
  return true;
}

void WorkerPool::work() {
  using Clock = std::chrono::steady_clock;
  for (;;) {
    Job job{};
    bool have = false;
    if (spin_us_ > 0) {
      auto until = Clock::now() + std::chrono::microseconds(spin_us_);
      do {
        if (queued_.load(std::memory_order_acquire) > 0 && try_pop(job)) {
          have = true;
          break;
        }
        std::this_thread::yield();
      } while (Clock::now() < until);
    }
    if (!have) {
      std::unique_lock<std::mutex> lock(mutex_);
      ++sleepers_;
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      --sleepers_;
      if (jobs_.empty()) return;  // stopping, and nothing is left to run
      job = jobs_.front();
      jobs_.pop_front();
      queued_.fetch_sub(1, std::memory_order_relaxed);
    }
    job.fn(job.arg);
  }
}

void WorkerPool::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
}

bool WorkerPool::on_worker_thread() const {
  auto self = std::this_thread::get_id();
  return std::find(ids_.begin(), ids_.end(), self) != ids_.end();
}

}  // namespace cano::detail
