// Helpers shared by the C++ wrapper tests.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <thread>

namespace cano_test {

// Counts constructions and destructions of every instance (copies and moved-from ones too),
// so a test can tell that an object handed to the library was destroyed exactly once: while
// the library holds it, one instance is alive; afterwards none is, and a double delete would
// make the destructions outnumber the constructions (or crash under AddressSanitizer).
struct lifetime_counter {
  std::atomic<int> constructed{0};
  std::atomic<int> destroyed{0};
  int alive() const { return constructed.load() - destroyed.load(); }
};

class tracked {
 public:
  explicit tracked(std::shared_ptr<lifetime_counter> counter) : counter_(std::move(counter)) {
    ++counter_->constructed;
  }
  tracked(const tracked& other) : counter_(other.counter_) { ++counter_->constructed; }
  tracked(tracked&& other) noexcept : counter_(other.counter_) { ++counter_->constructed; }
  tracked& operator=(const tracked&) = default;
  tracked& operator=(tracked&&) = default;
  ~tracked() { ++counter_->destroyed; }

 private:
  std::shared_ptr<lifetime_counter> counter_;
};

// Polls `condition` until it holds or `timeout` passes; true when it held.
inline bool wait_until(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// Drives a run on an engine with a manual clock to its end: whenever the run waits, moves the
// clock to the earliest pending timer (a retry delay, a re-poll, a timeout) and fires it.
// Returns false when the run has not ended after `timeout` of wall-clock time.
template <class Engine, class Handle>
bool drive_to_end(Engine& engine, Handle& run,
                  std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!run.wait_for(std::chrono::milliseconds(1))) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    if (auto next = engine.next_deadline()) {
      auto now = engine.now();
      engine.advance(*next > now ? *next - now : std::chrono::milliseconds(0));
    }
  }
  return true;
}

}  // namespace cano_test
