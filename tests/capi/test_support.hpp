// Shared helpers for the C API tests: RAII for handles, a recording of runs, and tasks built
// from std::function so that each test reads as a small story. Public headers only.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cano/cano.h"

namespace cano_test {

struct ErrorPtr {
  cano_error* err = nullptr;
  ~ErrorPtr() { cano_error_free(err); }
  cano_error** out() {
    cano_error_free(err);
    err = nullptr;
    return &err;
  }
  std::string message() const { return err ? cano_error_message(err) : ""; }
  std::string describe() const { return err ? cano_error_describe(err) : ""; }
};

struct EngineDeleter {
  void operator()(cano_engine* e) const { cano_engine_destroy(e); }
};
using EnginePtr = std::unique_ptr<cano_engine, EngineDeleter>;

inline EnginePtr make_engine(bool manual_clock = false, uint32_t workers = 2) {
  cano_engine_options options = CANO_ENGINE_OPTIONS_INIT;
  options.worker_threads = workers;
  options.clock = manual_clock ? CANO_CLOCK_MANUAL : CANO_CLOCK_REAL;
  options.random_seed = 42;
  cano_engine* engine = nullptr;
  EXPECT_EQ(cano_engine_create(&engine, &options, nullptr), CANO_OK);
  return EnginePtr(engine);
}

struct WorkflowDeleter {
  void operator()(cano_workflow* w) const { cano_workflow_destroy(w); }
};
using WorkflowPtr = std::unique_ptr<cano_workflow, WorkflowDeleter>;

// A task body as a std::function; the registration owns it and frees it in destroy.
using Body = std::function<cano_status(cano_task_ctx*)>;

inline cano_status call_body(cano_task_ctx* ctx, void* user_data) {
  return (*static_cast<Body*>(user_data))(ctx);
}
inline void delete_body(void* user_data) { delete static_cast<Body*>(user_data); }

inline cano_task_options task(Body body, cano_task_mode mode = CANO_TASK_INLINE) {
  cano_task_options options = CANO_TASK_OPTIONS_INIT;
  options.run = &call_body;
  options.user_data = new Body(std::move(body));
  options.destroy = &delete_body;
  options.mode = mode;
  cano_task_options_retry_none(&options);
  return options;
}

// A body that moves to `next`.
inline Body go_to(int32_t next) {
  return [next](cano_task_ctx* ctx) { return cano_task_ctx_next(ctx, next); };
}

// The outcome of an asynchronous run, filled by its done callback.
struct RunResult {
  std::mutex mutex;
  std::condition_variable cv;
  bool done = false;
  int calls = 0;
  uint64_t run_id = 0;
  cano_status status = 0;
  int32_t final_state = 0;
  std::string message;
  std::string category;
  std::thread::id thread;

  static void callback(uint64_t id, cano_status status, int32_t final_state,
                       const cano_error* error, void* user_data) {
    auto* self = static_cast<RunResult*>(user_data);
    std::lock_guard<std::mutex> lock(self->mutex);
    self->run_id = id;
    self->status = status;
    self->final_state = final_state;
    self->message = error ? cano_error_message(error) : "";
    self->category = error ? cano_error_category(error) : "";
    self->thread = std::this_thread::get_id();
    ++self->calls;
    self->done = true;
    self->cv.notify_all();
  }

  bool wait(std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    std::unique_lock<std::mutex> lock(mutex);
    return cv.wait_for(lock, limit, [this] { return done; });
  }
};

// Polls `condition` until it holds or `limit` passes.
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return condition();
}

// Waits until the engine has a pending timer (a retry delay or a timeout is armed).
inline uint64_t wait_for_timer(cano_engine* engine) {
  uint64_t deadline = 0;
  bool found = eventually(
      [&] { return cano_engine_clock_next_deadline(&deadline, engine, nullptr) == CANO_OK; });
  EXPECT_TRUE(found) << "no timer was armed";
  return deadline;
}

// Waits for `result`, moving a manual clock to the next pending deadline whenever the run has
// been idle for 2 ms, so that retry delays, polls and timeouts pass at once.
inline void wait_advancing_clock(cano_engine* engine, RunResult& result) {
  while (!result.wait(std::chrono::milliseconds(2))) {
    uint64_t deadline = 0;
    if (cano_engine_clock_next_deadline(&deadline, engine, nullptr) == CANO_OK) {
      uint64_t now = cano_engine_clock_now(engine);
      cano_engine_clock_advance(engine, deadline > now ? deadline - now : 0, nullptr);
    }
  }
}

}  // namespace cano_test
