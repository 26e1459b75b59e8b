// cano_task_ctx: one attempt of one task. The loop creates it, the body reads it and writes its
// result into it, the loop reads the result back.
//
// An inline attempt uses a context embedded in its run. A worker or async attempt gets its own,
// reference counted, because the run may move on (attempt timeout, cancellation) while a worker
// still runs the body or an async completion is still to come; the context then keeps the
// workflow (and so the resources the body may be using) alive until the body lets go.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cano/task.h"
#include "src/refcount.hpp"

struct cano_engine;
struct cano_workflow;
struct cano_split_result;

namespace cano::detail {
class TaskExecution;
struct TaskDef;

// What a batch step's call reads and writes: the items a load adds, the item a process_item call
// reads (shared, because a worker may still read it after its batch was abandoned), and the
// items' outcomes for the finish step. Kept out of line so that other tasks' contexts stay small.
struct BatchCtx {
  std::vector<std::string> loaded;
  std::shared_ptr<const std::vector<std::string>> items;
  size_t index = 0;
  std::shared_ptr<const cano_split_result> results;
};
}  // namespace cano::detail

struct cano_task_ctx {
  // Identity, copied at creation so that the body never touches loop-owned state.
  cano_engine* engine = nullptr;
  cano_workflow* workflow = nullptr;  // retained by worker/async contexts
  cano_resources* resources = nullptr;
  const cano::detail::TaskDef* task = nullptr;
  uint64_t run_id = 0;
  uint64_t token = 0;
  int32_t state = 0;
  uint32_t attempt = 0;
  std::atomic<bool> cancelled{false};

  // The result. Written by the body's thread, read by the loop after a happens-before edge (the
  // mailbox lock, or the body returning on the loop thread).
  bool has_next = false;
  int32_t next = 0;
  bool has_failure = false;
  bool fatal = false;  // cano_task_ctx_fail_fatal: no retry, no RetryExhausted wrapping
  cano_status failure_code = CANO_OK;
  std::string failure_message;
  cano_status body_status = CANO_OK;
  uint64_t poll_delay_ms = 0;  // cano_task_ctx_poll_again
  // Stepped tasks: the cursor the previous step left (input) and the one this step leaves.
  bool has_cursor = false;
  std::string cursor;
  std::string next_cursor;
  // Timer tasks: what the wait callback decided (0 none, 1 a delay, 2 a clock reading).
  int wait_kind = 0;
  uint64_t wait_ms = 0;
  // A split branch's value (cano_task_ctx_set_value).
  bool has_value = false;
  std::string value;
  // The outcome of the split the run just left, for its join state's task.
  std::shared_ptr<const cano_split_result> split_result;
  // Batch tasks: which step this call is (its callback: load, process_item or the finish run),
  // and that step's data, allocated the first time this context serves a batch step.
  enum class BatchStep : uint8_t { kNone, kLoad, kItem, kFinish };
  BatchStep batch_step = BatchStep::kNone;
  std::unique_ptr<cano::detail::BatchCtx> batch;

  // Loop thread only.
  // The execution this attempt reports to; nullptr once it abandoned the attempt.
  cano::detail::TaskExecution* execution = nullptr;
  std::atomic<uint32_t> refs{1};
  bool heap_allocated = false;

  void reset_result() {
    has_next = false;
    has_failure = false;
    fatal = false;
    failure_code = CANO_OK;
    failure_message.clear();
    body_status = CANO_OK;
    has_value = false;
    value.clear();
    poll_delay_ms = 0;
    next_cursor.clear();
    wait_kind = 0;
  }
};

namespace cano::detail {
void retain_ctx(cano_task_ctx* ctx);
void release_ctx(cano_task_ctx* ctx);
}  // namespace cano::detail
