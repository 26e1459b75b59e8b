// C ABI: starting, waiting for and cancelling runs (include/cano/run.h).
#include "cano/run.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "capi/guard.hpp"
#include "src/engine.hpp"
#include "src/run.hpp"
#include "src/workflow.hpp"

using cano::capi::guard;
using cano::capi::require;
using cano::detail::Error;
using cano::detail::fail;
using cano::detail::Run;

namespace {

// Checks everything cano checks before orchestrate does any work; throws Failure.
void check_startable(cano_workflow* workflow, int32_t initial) {
  const auto& validation = workflow->freeze();
  if (validation) throw cano::detail::Failure(*validation);
  auto initial_error = workflow->validate_initial_state(initial);
  if (initial_error) throw cano::detail::Failure(std::move(*initial_error));
}

uint64_t start(cano_engine* engine, cano_workflow* workflow, int32_t initial, cano_run_done_fn done,
               void* user_data) {
  check_startable(workflow, initial);
  uint64_t id = engine->allocate_run_id();
  auto* run = new Run(engine, workflow, id, initial, done, user_data);
  engine->count_run(1);
  if (engine->on_loop_thread()) {
    run->begin();
    return id;
  }
  if (!engine->post([](void* p) { static_cast<Run*>(p)->begin(); }, run)) {
    engine->count_run(-1);
    delete run;
    fail(CANO_E_SHUTDOWN, "the engine is shut down");
  }
  return id;
}

struct Waiter {
  std::mutex mutex;
  std::condition_variable cv;
  bool done = false;
  std::atomic<bool> finished{false};
  cano_status status = CANO_OK;
  int32_t final_state = 0;
  std::optional<Error> error;
};

void on_waited_run_done(uint64_t, cano_status status, int32_t final_state, const cano_error* error,
                        void* user_data) {
  auto* waiter = static_cast<Waiter*>(user_data);
  std::lock_guard<std::mutex> lock(waiter->mutex);
  waiter->status = status;
  waiter->final_state = final_state;
  if (error != nullptr) {
    // Rebuild the cause chain from the handle.
    waiter->error = error->error;
    Error* tail = &*waiter->error;
    for (const cano_error* cause = error->cause_handle.get(); cause != nullptr;
         cause = cause->cause_handle.get()) {
      tail->cause = std::make_unique<Error>(cause->error);
      tail = tail->cause.get();
    }
  }
  waiter->done = true;
  waiter->finished.store(true, std::memory_order_release);
  waiter->cv.notify_one();
}

struct CancelCall {
  cano_engine* engine;
  uint64_t id;
  bool found;
};

}  // namespace

extern "C" {

CANO_API cano_status cano_run_start(uint64_t* out, cano_engine* engine, cano_workflow* workflow,
                                    int32_t initial, cano_run_done_fn done, void* user_data,
                                    cano_error** err) {
  return guard(err, [&] {
    require(engine, "engine");
    require(workflow, "workflow");
    uint64_t id = start(engine, workflow, initial, done, user_data);
    if (out != nullptr) *out = id;
    return CANO_OK;
  });
}

CANO_API cano_status cano_run_wait(int32_t* out, cano_engine* engine, cano_workflow* workflow,
                                   int32_t initial, cano_error** err) {
  return guard(err, [&] {
    require(engine, "engine");
    require(workflow, "workflow");
    if (engine->on_loop_thread()) {
      fail(CANO_E_WRONG_THREAD,
           "cano_run_wait called on the engine's loop thread, where it would wait on itself; "
           "use cano_run_start with a callback");
    }
    Waiter waiter;
    start(engine, workflow, initial, &on_waited_run_done, &waiter);
    // A short run ends within microseconds; polling for that long spares the caller the cost of
    // being woken from a condition variable, which is tens of microseconds in a VM.
    auto spin_until =
        std::chrono::steady_clock::now() + std::chrono::microseconds(engine->spin_us());
    while (!waiter.finished.load(std::memory_order_acquire) &&
           std::chrono::steady_clock::now() < spin_until) {
      std::this_thread::yield();
    }
    std::unique_lock<std::mutex> lock(waiter.mutex);
    waiter.cv.wait(lock, [&waiter] { return waiter.done; });
    if (out != nullptr) *out = waiter.final_state;
    if (waiter.status != CANO_OK) {
      Error error = waiter.error ? std::move(*waiter.error) : Error(waiter.status, "run failed");
      throw cano::detail::Failure(std::move(error));
    }
    return CANO_OK;
  });
}

CANO_API cano_status cano_run_cancel(cano_engine* engine, uint64_t run_id, cano_error** err) {
  return guard(err, [&] {
    require(engine, "engine");
    if (engine->on_loop_thread()) {
      // Called from a body or callback on the loop: aborting here would end (and free) the run
      // while the caller is still inside one of its steps. The run is looked up now and aborted
      // once the caller has returned to the loop.
      Run* run = engine->find_run(run_id);
      if (run == nullptr || engine->stopping()) {
        fail(CANO_E_NOT_FOUND, "run " + std::to_string(run_id) + " is not in flight");
      }
      run->request_cancel();
      auto* deferred = new CancelCall{engine, run_id, false};
      bool posted = engine->post(
          [](void* p) {
            std::unique_ptr<CancelCall> c(static_cast<CancelCall*>(p));
            Run* run = c->engine->find_run(c->id);
            if (run == nullptr || c->engine->stopping()) return;
            run->cancel();
          },
          deferred);
      if (!posted) {
        delete deferred;
        fail(CANO_E_SHUTDOWN, "the engine is shut down");
      }
      return CANO_OK;
    }
    CancelCall call{engine, run_id, false};
    bool ran = engine->call_on_loop(
        [](void* p) {
          auto* c = static_cast<CancelCall*>(p);
          Run* run = c->engine->find_run(c->id);
          if (run == nullptr || c->engine->stopping()) return;
          c->found = true;
          run->cancel();
        },
        &call);
    if (!ran) fail(CANO_E_SHUTDOWN, "the engine is shut down");
    if (!call.found) {
      fail(CANO_E_NOT_FOUND, "run " + std::to_string(run_id) + " is not in flight");
    }
    return CANO_OK;
  });
}

CANO_API uint64_t cano_engine_runs_in_flight(const cano_engine* engine) {
  return engine ? engine->runs_in_flight() : 0;
}

}  // extern "C"
