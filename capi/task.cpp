// C ABI: task options, the task context and async completion (include/cano/task.h).
#include "cano/task.h"

#include "capi/guard.hpp"
#include "src/engine.hpp"
#include "src/retry.hpp"
#include "src/task_ctx.hpp"
#include "src/task_execution.hpp"

using cano::capi::guard;
using cano::capi::require;
using cano::detail::fail;

namespace {

// Delivers a completion to the loop. The token table's reference travels with the message.
cano_status deliver(cano_engine* engine, uint64_t token, bool success, int32_t next,
                    cano_status code, const char* message) {
  cano_task_ctx* ctx = engine->claim_token(token);
  if (ctx == nullptr) {
    if (engine->tokens_closed()) fail(CANO_E_SHUTDOWN, "the engine is shut down");
    fail(CANO_E_BAD_STATE,
         "completion token " + std::to_string(token) + " is unknown or was already completed");
  }
  if (success) {
    ctx->has_next = true;
    ctx->next = next;
    ctx->body_status = CANO_OK;
  } else {
    ctx->has_failure = true;
    ctx->failure_code = cano::detail::normalize_failure_code(code);
    ctx->failure_message = message ? message : "";
    ctx->body_status = ctx->failure_code;
  }
  if (!engine->post(&cano::detail::TaskExecution::on_async_done, ctx)) {
    cano::detail::release_ctx(ctx);
    fail(CANO_E_SHUTDOWN, "the engine is shut down");
  }
  return CANO_OK;
}

}  // namespace

extern "C" {

CANO_API void cano_task_options_retry_none(cano_task_options* options) {
  if (options == nullptr) return;
  options->retry = CANO_RETRY_NONE;
  options->retry_max_retries = 0;
}

CANO_API void cano_task_options_retry_fixed(cano_task_options* options, uint32_t retries,
                                            uint64_t delay_ms) {
  if (options == nullptr) return;
  options->retry = CANO_RETRY_FIXED;
  options->retry_max_retries = retries;
  options->retry_delay_ms = delay_ms;
}

CANO_API void cano_task_options_retry_exponential(cano_task_options* options,
                                                  uint32_t max_retries) {
  if (options == nullptr) return;
  options->retry = CANO_RETRY_EXPONENTIAL;
  options->retry_max_retries = max_retries;
  options->retry_delay_ms = 100;
  options->retry_multiplier = 2.0;
  options->retry_max_delay_ms = 30000;
  options->retry_jitter = 0.1;
}

CANO_API int64_t cano_task_options_retry_delay(const cano_task_options* options,
                                               uint32_t attempt_index, double random_unit) {
  if (options == nullptr) return -1;
  return cano::detail::RetryPolicy::from(*options).delay_for_attempt(attempt_index, random_unit);
}

CANO_API uint32_t cano_task_options_max_attempts(const cano_task_options* options) {
  if (options == nullptr) return 0;
  return cano::detail::RetryPolicy::from(*options).max_attempts();
}

CANO_API cano_status cano_task_ctx_next(cano_task_ctx* ctx, int32_t next_state) {
  if (ctx == nullptr) return CANO_E_INVALID_ARGUMENT;
  ctx->has_next = true;
  ctx->next = next_state;
  return CANO_OK;
}

CANO_API cano_status cano_task_ctx_fail(cano_task_ctx* ctx, cano_status code, const char* message) {
  cano_status normalized = cano::detail::normalize_failure_code(code);
  if (ctx == nullptr) return normalized;
  try {
    ctx->failure_message = message ? message : "";
  } catch (...) {
    ctx->failure_message.clear();
  }
  ctx->has_failure = true;
  ctx->failure_code = normalized;
  return normalized;
}

CANO_API cano_status cano_task_ctx_fail_fatal(cano_task_ctx* ctx, cano_status code,
                                              const char* message) {
  cano_status normalized = cano_task_ctx_fail(ctx, code, message);
  if (ctx != nullptr) ctx->fatal = true;
  return normalized;
}

CANO_API cano_resources* cano_task_ctx_resources(const cano_task_ctx* ctx) {
  return ctx ? ctx->resources : nullptr;
}

CANO_API uint32_t cano_task_ctx_attempt(const cano_task_ctx* ctx) { return ctx ? ctx->attempt : 0; }

CANO_API uint64_t cano_task_ctx_run_id(const cano_task_ctx* ctx) { return ctx ? ctx->run_id : 0; }

CANO_API int32_t cano_task_ctx_state(const cano_task_ctx* ctx) { return ctx ? ctx->state : 0; }

CANO_API cano_engine* cano_task_ctx_engine(const cano_task_ctx* ctx) {
  return ctx ? ctx->engine : nullptr;
}

CANO_API int cano_task_ctx_cancelled(const cano_task_ctx* ctx) {
  return ctx != nullptr && ctx->cancelled.load(std::memory_order_acquire) ? 1 : 0;
}

CANO_API uint64_t cano_task_ctx_token(const cano_task_ctx* ctx) { return ctx ? ctx->token : 0; }

CANO_API cano_status cano_task_complete(cano_engine* engine, uint64_t token, int32_t next_state,
                                        cano_error** err) {
  return guard(err, [&] {
    require(engine, "engine");
    return deliver(engine, token, true, next_state, CANO_OK, nullptr);
  });
}

CANO_API cano_status cano_task_complete_error(cano_engine* engine, uint64_t token, cano_status code,
                                              const char* message, cano_error** err) {
  return guard(err, [&] {
    require(engine, "engine");
    return deliver(engine, token, false, 0, code, message);
  });
}

}  // extern "C"
