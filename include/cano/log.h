/*
 * cano/log.h - the library's logging.
 *
 * The library logs through spdlog to one process-wide logger named "cano". By default it writes
 * to stderr at CANO_LOG_WARN, so a healthy program prints nothing: only problems the library
 * cannot report through a status (a failing resource teardown, a late task result that was
 * discarded) reach the log. A handler replaces the stderr sink, so that Python can route records
 * into `logging` and Go into `log/slog`.
 *
 * Since 0.1.0.
 */
#ifndef CANO_LOG_H
#define CANO_LOG_H

#include <stdint.h>

#include "cano/error.h"
#include "cano/export.h"

CANO_EXTERN_C_BEGIN

typedef enum cano_log_level {
  CANO_LOG_TRACE = 0,
  CANO_LOG_DEBUG = 1,
  CANO_LOG_INFO = 2,
  CANO_LOG_WARN = 3,
  CANO_LOG_ERROR = 4,
  CANO_LOG_CRITICAL = 5,
  CANO_LOG_OFF = 6,
  CANO_LOG_LEVEL_FORCE32 = 0x7fffffff
} cano_log_level;

/* Receives one formatted record. `message` lives only during the call. Called on whichever
 * thread logs (the loop thread, a worker, or the caller of an API function), one call at a
 * time: the library serialises calls to the handler. */
typedef void (*cano_log_fn)(cano_log_level level, const char *message, void *user_data);

/* Sets the minimum level that is logged. Returns CANO_E_INVALID_ARGUMENT for a level outside
 * TRACE..OFF. Any thread. Since 0.1.0. */
CANO_API cano_status cano_log_set_level(cano_log_level level);

/* The current minimum level. Any thread. Since 0.1.0. */
CANO_API cano_log_level cano_log_get_level(void);

/* Routes every record to `fn` instead of stderr; `fn == NULL` restores the stderr sink. The
 * previous handler's `destroy(user_data)` is called once no record can reach it any more.
 * `destroy` may be NULL. Any thread. Since 0.1.0. */
CANO_API cano_status cano_log_set_handler(cano_log_fn fn, void *user_data,
                                          void (*destroy)(void *user_data));

CANO_EXTERN_C_END

#endif /* CANO_LOG_H */
