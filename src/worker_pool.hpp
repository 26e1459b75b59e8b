// A fixed pool of worker threads that run blocking task bodies and resource callbacks.
//
// Jobs are function pointer + argument pairs in one FIFO. An idle worker polls the queue for a
// short, configurable time before it sleeps on a condition variable: waking a sleeping thread
// costs tens of microseconds in a VM, which dwarfs a short task, while a worker that is still
// polling picks a job up in well under a microsecond.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace cano::detail {

class WorkerPool {
 public:
  struct Job {
    void (*fn)(void* arg);
    void* arg;
  };

  WorkerPool() = default;
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;
  ~WorkerPool() { stop(); }

  // Starts `threads` workers that poll for `spin_us` microseconds before sleeping.
  void start(uint32_t threads, uint32_t spin_us);
  // Queues a job. Any thread.
  void submit(Job job);
  // Lets the workers finish every queued job, then joins them. Idempotent.
  void stop();
  bool on_worker_thread() const;
  uint32_t size() const { return static_cast<uint32_t>(threads_.size()); }

 private:
  void work();
  bool try_pop(Job& job);

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;
  std::atomic<uint32_t> queued_{0};
  uint32_t sleepers_ = 0;
  bool stopping_ = false;
  uint32_t spin_us_ = 0;
  std::vector<std::thread> threads_;
  std::vector<std::thread::id> ids_;
};

}  // namespace cano::detail
