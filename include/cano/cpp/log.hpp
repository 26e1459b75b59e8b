// cano/cpp/log.hpp - the library's log level and log handler.
//
// The library logs through one process-wide logger (cano/log.h): by default to stderr, only
// warnings and worse. set_handler() routes every record to a C++ callable instead; it is
// called on whichever thread logs, one call at a time. Exceptions thrown by the handler are
// dropped, because a log record must never fail the operation that wrote it.
//
// Since 0.1.0.
#pragma once

#include <memory>
#include <string_view>
#include <type_traits>
#include <utility>

#include "cano/log.h"
#include "cano/cpp/detail/native_object.hpp"
#include "cano/cpp/error.hpp"

namespace cano::log {

enum class level {
  trace = CANO_LOG_TRACE,
  debug = CANO_LOG_DEBUG,
  info = CANO_LOG_INFO,
  warn = CANO_LOG_WARN,
  error = CANO_LOG_ERROR,
  critical = CANO_LOG_CRITICAL,
  off = CANO_LOG_OFF
};

inline void set_level(level minimum) {
  cano_status status = cano_log_set_level(static_cast<cano_log_level>(minimum));
  if (status < 0) cano::detail::throw_error(status, nullptr);
}

inline level get_level() noexcept { return static_cast<level>(cano_log_get_level()); }

namespace detail {

template <class F>
void forward_record(cano_log_level lvl, const char* message, void* user_data) noexcept {
  try {
    (*static_cast<F*>(user_data))(static_cast<level>(lvl),
                                  std::string_view(message == nullptr ? "" : message));
  } catch (...) {
  }
}

}  // namespace detail

// Routes every record to `handler(cano::log::level, std::string_view message)`; the message
// lives only during the call. The previous handler is destroyed once no record can reach it.
template <class F>
void set_handler(F&& handler) {
  using stored = std::decay_t<F>;
  static_assert(std::is_invocable_v<stored&, level, std::string_view>,
                "cano::log::set_handler: the handler must take (cano::log::level, "
                "std::string_view)");
  auto owned = std::make_unique<stored>(std::forward<F>(handler));
  cano_status status = cano_log_set_handler(&detail::forward_record<stored>, owned.get(),
                                            &cano::detail::delete_object<stored>);
  if (status < 0) cano::detail::throw_error(status, nullptr);
  owned.release();
}

// Restores the stderr sink.
inline void reset_handler() {
  cano_status status = cano_log_set_handler(nullptr, nullptr, nullptr);
  if (status < 0) cano::detail::throw_error(status, nullptr);
}

}  // namespace cano::log
