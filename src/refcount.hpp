// An intrusive, thread-safe reference count for the C handles that several owners share
// (a workflow held by the caller and by its runs, a store held by the caller and by resources).
#pragma once

#include <atomic>
#include <cstdint>

namespace cano::detail {

class RefCounted {
 public:
  void retain() const noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  // Returns true when this was the last reference; the caller then deletes the object.
  bool release_last() const noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) return true;
    return false;
  }
  uint32_t use_count() const noexcept { return refs_.load(std::memory_order_acquire); }

 protected:
  RefCounted() = default;
  ~RefCounted() = default;

 private:
  mutable std::atomic<uint32_t> refs_{1};
};

// Releases one reference of a RefCounted object of type T and deletes it when it was the last.
template <class T>
void release(const T* object) noexcept {
  if (object != nullptr && object->release_last()) delete object;
}

}  // namespace cano::detail
