// cano/cpp/split_result.hpp - what the join state's task reads about the split it follows.
//
// After a split state (workflow<State>::register_split, cano/cpp/split.hpp) the run moves to
// the join state, and that state's task reads every branch's outcome through
// task_context::split_result():
//
//   wf.register_task(Step::Join, [](cano::task_context& ctx) {
//     std::optional<cano::split_result> split = ctx.split_result();
//     for (std::size_t i = 0; split && i < split->size(); ++i) {
//       if (split->status(i) == cano::branch_status::succeeded) use(split->value(i));
//       else if (auto e = split->error(i)) log(e->what());
//     }
//     return Step::Done;
//   });
//
// split_result is a borrowed view of the library's cano_split_result: it and the string views
// it hands out are valid only during the body call that obtained them (copy what must outlive
// it; error() already returns an owned copy). It is read-only, so the body may read it from
// any thread while the call lasts. This is the C API's addition to cano 0.13, whose docs
// promise such a result and whose code never hands it to user code (cano/split.h).
//
// Since 0.1.0.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <optional>
#include <string_view>
#include <vector>

#include "cano/split.h"
#include "cano/cpp/error.hpp"

namespace cano {

// The outcome of one split branch (cano_branch_status). Since 0.1.0.
enum class branch_status {
  succeeded = CANO_BRANCH_SUCCEEDED,  // its body returned (after any retries)
  failed = CANO_BRANCH_FAILED,        // its last attempt failed (or it failed fatally)
  cancelled = CANO_BRANCH_CANCELLED   // it lost: an early exit or the split timeout stopped it
};

// A borrowed, read-only view of a split's outcome; see the file comment for its lifetime.
// Copies are cheap (one pointer) and view the same result. Since 0.1.0.
class split_result {
 public:
  // Views `result` (must not be NULL; borrowed). Used by task_context::split_result().
  explicit split_result(const cano_split_result* result) noexcept : result_(result) {}

  // The number of branches, in registration order.
  std::size_t size() const noexcept { return cano_split_result_count(result_); }

  // How many branches succeeded, failed and were cancelled; the three add up to size().
  std::size_t succeeded() const noexcept { return cano_split_result_succeeded(result_); }
  std::size_t failed() const noexcept { return cano_split_result_failed(result_); }
  std::size_t cancelled() const noexcept { return cano_split_result_cancelled(result_); }

  // Branch `index`'s outcome; branch_status::cancelled for an index out of range.
  branch_status status(std::size_t index) const noexcept {
    return static_cast<branch_status>(cano_split_result_status(result_, index));
  }

  // The value branch `index` returned (std::string or bytes, as raw bytes): empty when it
  // returned void, did not succeed, or the index is out of range. An empty string a branch
  // returned is a present, empty value. Borrowed: valid during the body call only.
  std::optional<std::string_view> value(std::size_t index) const noexcept {
    std::size_t len = 0;
    const void* data = cano_split_result_value(result_, index, &len);
    if (data == nullptr) return std::nullopt;
    return std::string_view(static_cast<const char*>(data), len);
  }

  // The same value copied into bytes, for branches that return std::vector<std::uint8_t>.
  // Throws std::bad_alloc only.
  std::optional<std::vector<std::uint8_t>> bytes(std::size_t index) const {
    std::optional<std::string_view> view = value(index);
    if (!view) return std::nullopt;
    return std::vector<std::uint8_t>(view->begin(), view->end());
  }

  // The error branch `index` failed with (an owned copy, valid after the body returns;
  // rethrow() it to throw its most specific subclass); empty unless that branch failed.
  // Its message is the branch's own error, e.g. the what() of the exception it threw, or
  // retry_exhausted's "Task failed after N attempt(s): ..." when its retries ran out.
  // Throws std::bad_alloc when the copy cannot be made.
  std::optional<cano::error> error(std::size_t index) const {
    const cano_error* failure = cano_split_result_error(result_, index);
    if (failure == nullptr) return std::nullopt;
    cano_error* copy = cano_error_clone(failure);
    if (copy == nullptr) throw std::bad_alloc();
    return cano::error(detail::adopt, copy);
  }

  // The C result, borrowed (valid during the body call).
  const cano_split_result* native() const noexcept { return result_; }

 private:
  const cano_split_result* result_;
};

}  // namespace cano
