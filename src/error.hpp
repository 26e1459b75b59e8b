// The library's error value and the exception that carries it through the core.
//
// The core reports failures by throwing Failure; capi/ catches it at the ABI boundary and turns
// it into a status plus an owned cano_error. Run failures travel as Error values (never thrown)
// because they cross threads and outlive the call that produced them.
#pragma once

#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>

#include "cano/error.h"

namespace cano::detail {

struct Error {
  cano_status code = CANO_E_GENERIC;
  std::string message;
  std::unique_ptr<Error> cause;
  std::optional<int32_t> state;
  std::string state_name;
  std::string task_name;
  uint32_t attempt = 0;
  uint64_t run_id = 0;

  Error() = default;
  Error(cano_status c, std::string m) : code(c), message(std::move(m)) {}
  Error(const Error& other);
  Error& operator=(const Error& other);
  Error(Error&&) noexcept = default;
  Error& operator=(Error&&) noexcept = default;
  ~Error() = default;

  // cano's Display text: the category prefix followed by the message.
  std::string display() const;
  // The Display text followed by the context (state, task, attempt, run) when there is one.
  std::string describe() const;
};

// The category name of a status, as cano's CanoError::category() spells it, or "api".
const char* category_of(cano_status code);
// cano's Display prefix for a status ("Task execution error: ", "Store error: ", ...).
const char* display_prefix_of(cano_status code);
// The constant's name without CANO_/CANO_E_, or "UNKNOWN".
const char* status_name_of(cano_status code);
// Maps a status a user callback returned to an error code (non-negative -> TASK_EXECUTION).
cano_status normalize_failure_code(cano_status code);

class Failure : public std::exception {
 public:
  explicit Failure(Error error) : error_(std::move(error)) {}
  Failure(cano_status code, std::string message) : error_(code, std::move(message)) {}
  const char* what() const noexcept override { return error_.message.c_str(); }
  const Error& error() const noexcept { return error_; }
  Error& error() noexcept { return error_; }

 private:
  Error error_;
};

[[noreturn]] inline void fail(cano_status code, std::string message) {
  throw Failure(code, std::move(message));
}

}  // namespace cano::detail

// The opaque C handle wraps an Error and caches the strings the getters lend out.
struct cano_error {
  cano::detail::Error error;
  std::unique_ptr<cano_error> cause_handle;
  mutable std::string display_cache;
  mutable std::string describe_cache;
};

namespace cano::detail {
// Converts an Error into an owned handle (the cause chain too).
cano_error* to_handle(Error error);
// Stores a new handle in *out when out is not NULL.
void store_error(cano_error** out, Error error);
}  // namespace cano::detail
