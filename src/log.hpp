// The library's spdlog logger ("cano"), its level and the user's log handler.
#pragma once

#include <spdlog/spdlog.h>

#include "cano/log.h"

namespace cano::detail {

// The process-wide logger. Created on first use with one sink that writes to stderr, or to the
// user's handler once one is set; level WARN.
spdlog::logger& log();

// Routes records to fn (NULL = stderr). The previous handler's destroy runs after the swap, when
// no record can reach it any more.
void set_log_handler(cano_log_fn fn, void* user_data, void (*destroy)(void*));

}  // namespace cano::detail
