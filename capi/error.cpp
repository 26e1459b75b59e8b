// C ABI: status names and error objects (include/cano/error.h).
#include "src/error.hpp"

#include <cstdlib>
#include <new>

using cano::detail::Error;

extern "C" {

CANO_API const char* cano_status_name(cano_status status) {
  return cano::detail::status_name_of(status);
}

CANO_API cano_error* cano_error_new(cano_status code, const char* message) {
  try {
    return cano::detail::to_handle(
        Error(cano::detail::normalize_failure_code(code), message ? message : ""));
  } catch (...) {
    return nullptr;
  }
}

CANO_API void cano_error_free(cano_error* err) { delete err; }

CANO_API cano_error* cano_error_clone(const cano_error* err) {
  if (err == nullptr) return nullptr;
  try {
    // In a handle the cause chain lives in cause_handle; clone it level by level.
    cano_error* clone = cano::detail::to_handle(Error(err->error));
    if (clone != nullptr && err->cause_handle) {
      clone->cause_handle.reset(cano_error_clone(err->cause_handle.get()));
    }
    return clone;
  } catch (...) {
    return nullptr;
  }
}

CANO_API cano_status cano_error_code(const cano_error* err) {
  return err ? err->error.code : CANO_E_INVALID_ARGUMENT;
}

CANO_API const char* cano_error_category(const cano_error* err) {
  return cano::detail::category_of(err ? err->error.code : CANO_E_INVALID_ARGUMENT);
}

CANO_API const char* cano_error_message(const cano_error* err) {
  return err ? err->error.message.c_str() : "";
}

CANO_API const char* cano_error_display(const cano_error* err) {
  if (err == nullptr) return "";
  try {
    if (err->display_cache.empty()) err->display_cache = err->error.display();
  } catch (...) {
    return err->error.message.c_str();
  }
  return err->display_cache.c_str();
}

CANO_API const char* cano_error_describe(const cano_error* err) {
  if (err == nullptr) return "";
  try {
    if (err->describe_cache.empty()) err->describe_cache = err->error.describe();
  } catch (...) {
    return err->error.message.c_str();
  }
  return err->describe_cache.c_str();
}

CANO_API const cano_error* cano_error_cause(const cano_error* err) {
  return err ? err->cause_handle.get() : nullptr;
}

CANO_API int cano_error_state(const cano_error* err, int32_t* out) {
  if (err == nullptr || !err->error.state) return 0;
  if (out != nullptr) *out = *err->error.state;
  return 1;
}

CANO_API const char* cano_error_state_name(const cano_error* err) {
  return (err && !err->error.state_name.empty()) ? err->error.state_name.c_str() : nullptr;
}

CANO_API const char* cano_error_task_name(const cano_error* err) {
  return (err && !err->error.task_name.empty()) ? err->error.task_name.c_str() : nullptr;
}

CANO_API uint32_t cano_error_attempt(const cano_error* err) { return err ? err->error.attempt : 0; }

CANO_API uint64_t cano_error_run_id(const cano_error* err) { return err ? err->error.run_id : 0; }

CANO_API void cano_free(void* ptr) { std::free(ptr); }

}  // extern "C"
