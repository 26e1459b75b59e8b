// C ABI: logging (include/cano/log.h).
#include "cano/log.h"

#include "capi/guard.hpp"
#include "src/log.hpp"

extern "C" {

CANO_API cano_status cano_log_set_level(cano_log_level level) {
  if (level < CANO_LOG_TRACE || level > CANO_LOG_OFF) return CANO_E_INVALID_ARGUMENT;
  cano::detail::log().set_level(static_cast<spdlog::level::level_enum>(level));
  return CANO_OK;
}

CANO_API cano_log_level cano_log_get_level(void) {
  return static_cast<cano_log_level>(cano::detail::log().level());
}

CANO_API cano_status cano_log_set_handler(cano_log_fn fn, void* user_data, void (*destroy)(void*)) {
  return cano::capi::guard(nullptr, [&] {
    cano::detail::set_log_handler(fn, user_data, destroy);
    return CANO_OK;
  });
}

}  // extern "C"
