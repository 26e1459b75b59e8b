// C ABI: engines and their clock (include/cano/engine.h).
#include "cano/engine.h"

#include <memory>

#include "capi/guard.hpp"
#include "src/engine.hpp"

using cano::capi::guard;
using cano::capi::require;
using cano::detail::fail;

namespace {
struct ClockCall {
  cano_engine* engine;
  uint64_t ms;
  uint64_t deadline;
  bool found;
};
}  // namespace

extern "C" {

CANO_API cano_status cano_engine_create(cano_engine** out, const cano_engine_options* options,
                                        cano_error** err) {
  return guard(err, [&] {
    require(out, "out");
    *out = nullptr;
    auto copy =
        cano::capi::read_options(options, sizeof(cano_engine_options), "cano_engine_options");
    if (copy.clock != CANO_CLOCK_REAL && copy.clock != CANO_CLOCK_MANUAL) {
      fail(CANO_E_INVALID_ARGUMENT,
           "cano_engine_options.clock has an unknown value " + std::to_string(copy.clock));
    }
    auto engine = std::make_unique<cano_engine>(copy);
    engine->start();
    *out = engine.release();
    return CANO_OK;
  });
}

CANO_API cano_status cano_engine_shutdown(cano_engine* engine) {
  if (engine == nullptr) return CANO_E_INVALID_ARGUMENT;
  if (engine->on_engine_thread()) return CANO_E_WRONG_THREAD;
  return guard(nullptr, [&] {
    engine->shutdown();
    return CANO_OK;
  });
}

CANO_API void cano_engine_destroy(cano_engine* engine) {
  if (engine == nullptr) return;
  // Destroying an engine from one of its own threads would join that thread from itself.
  if (engine->on_engine_thread()) return;
  delete engine;
}

CANO_API cano_status cano_engine_post(cano_engine* engine, void (*fn)(void*), void* user_data,
                                      cano_error** err) {
  return guard(err, [&] {
    require(engine, "engine");
    if (fn == nullptr) fail(CANO_E_INVALID_ARGUMENT, "fn must not be NULL");
    if (!engine->post(fn, user_data)) fail(CANO_E_SHUTDOWN, "the engine is shut down");
    return CANO_OK;
  });
}

CANO_API int cano_engine_on_loop_thread(const cano_engine* engine) {
  return engine != nullptr && engine->on_loop_thread() ? 1 : 0;
}

CANO_API uint32_t cano_engine_worker_count(const cano_engine* engine) {
  return engine ? engine->worker_count() : 0;
}

CANO_API uint64_t cano_engine_clock_now(const cano_engine* engine) {
  if (engine == nullptr) return 0;
  if (engine->manual_clock()) return engine->clock_reading();
  if (engine->on_loop_thread()) return engine->now();
  return uv_hrtime() / 1000000;
}

CANO_API cano_status cano_engine_clock_advance(cano_engine* engine, uint64_t ms, cano_error** err) {
  return guard(err, [&] {
    require(engine, "engine");
    if (!engine->manual_clock()) {
      fail(CANO_E_BAD_STATE,
           "cano_engine_clock_advance needs an engine created with CANO_CLOCK_MANUAL");
    }
    if (engine->on_loop_thread()) {
      fail(CANO_E_WRONG_THREAD,
           "cano_engine_clock_advance called on the engine's loop thread (inside a task body or "
           "callback), where the timers it fires would run inside the caller");
    }
    ClockCall call{engine, ms, 0, false};
    bool ran = engine->call_on_loop(
        [](void* p) {
          auto* c = static_cast<ClockCall*>(p);
          c->engine->advance_clock(c->ms);
        },
        &call);
    if (!ran) fail(CANO_E_SHUTDOWN, "the engine is shut down");
    return CANO_OK;
  });
}

CANO_API cano_status cano_engine_clock_next_deadline(uint64_t* out, cano_engine* engine,
                                                     cano_error** err) {
  return guard(err, [&] {
    require(out, "out");
    require(engine, "engine");
    ClockCall call{engine, 0, 0, false};
    bool ran = engine->call_on_loop(
        [](void* p) {
          auto* c = static_cast<ClockCall*>(p);
          c->found = c->engine->next_deadline(&c->deadline);
        },
        &call);
    if (!ran) fail(CANO_E_SHUTDOWN, "the engine is shut down");
    if (!call.found) fail(CANO_E_NOT_FOUND, "no timer is pending");
    *out = call.deadline;
    return CANO_OK;
  });
}

}  // extern "C"
