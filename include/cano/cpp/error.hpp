// cano/cpp/error.hpp - the exception hierarchy of the C++ wrapper.
//
// Every failing call of the wrapper throws a subclass of cano::error. The class mirrors the C
// error categories (cano/error.h), which are cano 0.13's CanoError variants plus the C API's own
// "api" category, so `catch (const cano::store_error&)` catches every store failure and
// `catch (const cano::error&)` catches everything the library reports. An error object shares
// one immutable cano_error with its copies, so copying an exception is cheap and never fails.
//
// Tasks may throw these classes too: the wrapper turns a thrown cano::error into the task's
// failure with the same code and message (see cano/cpp/workflow.hpp), and a thrown
// cano::fatal_error into a failure that is never retried.
//
// Thread safety: error objects are immutable; copies may be used from any thread.
// Since 0.1.0.
#pragma once

#include <cstdint>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <utility>

#include "cano/error.h"
#include "cano/cpp/string_ref.hpp"

namespace cano {

namespace detail {

// Adoption tag: the constructor takes ownership of a cano_error the library handed out.
struct adopt_t {
  explicit adopt_t() = default;
};
inline constexpr adopt_t adopt{};

using error_handle = std::shared_ptr<const cano_error>;

// Wraps an owned cano_error (never NULL) in a shared handle that frees it with the last copy.
inline error_handle own_error(cano_error* err) {
  // When the control block cannot be allocated, shared_ptr calls the deleter itself, so the
  // error is released on every path.
  return error_handle(err, [](const cano_error* e) {
    cano_error_free(const_cast<cano_error*>(e));
  });
}

// Creates a new error with `code` and `message`, as a user callback would.
inline error_handle new_error(cano_status code, string_ref message) {
  cano_error* err = cano_error_new(code, message.c_str());
  if (err == nullptr) throw std::bad_alloc();
  return own_error(err);
}

}  // namespace detail

// The base of every exception the wrapper throws. what() is cano_error_describe(): the
// Display text followed by the state, task, attempt and run the error came from.
class error : public std::exception {
 public:
  // An error with `code` (a CANO_E_* value; a non-negative code becomes
  // CANO_E_TASK_EXECUTION, as in cano_error_new()) and `message`. Throws std::bad_alloc only.
  error(cano_status code, string_ref message) : handle_(detail::new_error(code, message)) {}

  // Takes ownership of `err` (must not be NULL). Used by the wrapper; rarely needed by users.
  error(detail::adopt_t, cano_error* err) : handle_(detail::own_error(err)) {}

  // Shares an existing error handle (e.g. a cause borrowed from its parent).
  error(detail::adopt_t, detail::error_handle handle) : handle_(std::move(handle)) {}

  const char* what() const noexcept override { return cano_error_describe(handle_.get()); }

  // The status code, a CANO_E_* value.
  cano_status code() const noexcept { return cano_error_code(handle_.get()); }
  // The constant's name without its prefix, e.g. "STORE_KEY_NOT_FOUND".
  const char* code_name() const noexcept { return cano_status_name(code()); }
  // cano's category(): "task_execution", "store", ... or "api" for C API misuse.
  const char* category() const noexcept { return cano_error_category(handle_.get()); }
  // cano's message(): the text without the category prefix.
  const char* message() const noexcept { return cano_error_message(handle_.get()); }
  // cano's Display: the message with its category prefix, e.g. "Store error: ...".
  const char* display() const noexcept { return cano_error_display(handle_.get()); }
  // The Display text plus its context; the same as what().
  const char* describe() const noexcept { return what(); }

  // The state the error came from, when it came from a workflow state.
  std::optional<std::int32_t> state_code() const noexcept {
    std::int32_t state = 0;
    if (cano_error_state(handle_.get(), &state) == 0) return std::nullopt;
    return state;
  }
  // The names of the state and task the error came from, or "" when there are none.
  std::string state_name() const { return nonnull(cano_error_state_name(handle_.get())); }
  std::string task_name() const { return nonnull(cano_error_task_name(handle_.get())); }
  // The 1-based attempt the error came from, or 0.
  std::uint32_t attempt() const noexcept { return cano_error_attempt(handle_.get()); }
  // The id of the run the error came from, or 0.
  std::uint64_t run_id() const noexcept { return cano_error_run_id(handle_.get()); }

  // The error this one wraps (a retry_exhausted_error wraps the last attempt's error). The
  // cause shares ownership with this error, so it stays valid after this object is gone.
  std::optional<error> cause() const {
    const cano_error* cause = cano_error_cause(handle_.get());
    if (cause == nullptr) return std::nullopt;
    return error(detail::adopt, detail::error_handle(handle_, cause));
  }

  // The underlying C error, borrowed for the life of this object and its copies.
  const cano_error* native() const noexcept { return handle_.get(); }

  // Throws this error again as the most specific subclass its code maps to.
  [[noreturn]] void rethrow() const;

 private:
  static std::string nonnull(const char* text) { return text == nullptr ? std::string() : text; }

  detail::error_handle handle_;
};

// Every subclass can be thrown by user code from a message, keeps the code it stands for, and
// is built by the wrapper from a library error of that code.
#define CANO_CPP_DEFINE_ERROR(name, base, status)                                        \
  class name : public base {                                                             \
   public:                                                                               \
    static constexpr cano_status default_code = status;                                  \
    explicit name(string_ref message) : base(status, message) {}                         \
    name(detail::adopt_t tag, detail::error_handle handle) : base(tag, std::move(handle)) {} \
                                                                                         \
   protected:                                                                            \
    name(cano_status code, string_ref message) : base(code, message) {}                  \
  };

// The cano 0.13 categories (cano/error.h).
CANO_CPP_DEFINE_ERROR(task_execution_error, error, CANO_E_TASK_EXECUTION)
CANO_CPP_DEFINE_ERROR(store_error, error, CANO_E_STORE)
CANO_CPP_DEFINE_ERROR(workflow_error, error, CANO_E_WORKFLOW)
CANO_CPP_DEFINE_ERROR(configuration_error, error, CANO_E_CONFIGURATION)
CANO_CPP_DEFINE_ERROR(retry_exhausted_error, error, CANO_E_RETRY_EXHAUSTED)
CANO_CPP_DEFINE_ERROR(timeout_error, error, CANO_E_TIMEOUT)
CANO_CPP_DEFINE_ERROR(circuit_open_error, error, CANO_E_CIRCUIT_OPEN)
CANO_CPP_DEFINE_ERROR(checkpoint_store_error, error, CANO_E_CHECKPOINT_STORE)
CANO_CPP_DEFINE_ERROR(compensation_failed_error, error, CANO_E_COMPENSATION_FAILED)
CANO_CPP_DEFINE_ERROR(generic_error, error, CANO_E_GENERIC)
CANO_CPP_DEFINE_ERROR(resource_not_found_error, error, CANO_E_RESOURCE_NOT_FOUND)
CANO_CPP_DEFINE_ERROR(resource_type_mismatch_error, error, CANO_E_RESOURCE_TYPE_MISMATCH)
CANO_CPP_DEFINE_ERROR(resource_duplicate_key_error, error, CANO_E_RESOURCE_DUPLICATE_KEY)

// The finer store codes, all of category "store".
CANO_CPP_DEFINE_ERROR(key_not_found_error, store_error, CANO_E_STORE_KEY_NOT_FOUND)
CANO_CPP_DEFINE_ERROR(type_mismatch_error, store_error, CANO_E_STORE_TYPE_MISMATCH)
CANO_CPP_DEFINE_ERROR(append_type_mismatch_error, store_error, CANO_E_STORE_APPEND_TYPE_MISMATCH)

// Misuse of the C API (category "api"). api_error catches every such code; constructed from a
// message alone it uses CANO_E_INVALID_ARGUMENT, so throw the specific subclass instead.
CANO_CPP_DEFINE_ERROR(api_error, error, CANO_E_INVALID_ARGUMENT)
CANO_CPP_DEFINE_ERROR(invalid_argument_error, api_error, CANO_E_INVALID_ARGUMENT)
CANO_CPP_DEFINE_ERROR(no_memory_error, api_error, CANO_E_NO_MEMORY)
CANO_CPP_DEFINE_ERROR(wrong_thread_error, api_error, CANO_E_WRONG_THREAD)
CANO_CPP_DEFINE_ERROR(bad_state_error, api_error, CANO_E_BAD_STATE)
CANO_CPP_DEFINE_ERROR(cancelled_error, api_error, CANO_E_CANCELLED)
CANO_CPP_DEFINE_ERROR(shutdown_error, api_error, CANO_E_SHUTDOWN)
CANO_CPP_DEFINE_ERROR(version_error, api_error, CANO_E_VERSION)
CANO_CPP_DEFINE_ERROR(not_found_error, api_error, CANO_E_NOT_FOUND)
CANO_CPP_DEFINE_ERROR(internal_error, api_error, CANO_E_INTERNAL)
CANO_CPP_DEFINE_ERROR(user_error, api_error, CANO_E_USER)

#undef CANO_CPP_DEFINE_ERROR

// Thrown from a task body (a task, a router, a poll task or a split branch) to fail the task
// at once: no retry follows, and the error is returned as it is, never wrapped in
// retry_exhausted_error. This is what cano does with a panic (cano_task_ctx_fail_fatal()), so
// use it for failures that retrying cannot cure (a broken invariant, a corrupt input). A poll
// task's retry_on_error policy does not forgive it either.
//
// The failure keeps `code` and `message`, so the run fails with the subclass its code maps to
// (task_execution_error by default), not with fatal_error: fatal_error only marks the throw.
// Thrown into an async completion (completion<State>::fail(std::exception_ptr)) it is an
// ordinary failure, because the C ABI finishes async attempts without a fatal variant.
// Immutable, like every cano::error; copies may be used from any thread. Since 0.1.0.
class fatal_error : public error {
 public:
  // A fatal failure with `message` and `code` (a CANO_E_* value; a non-negative code becomes
  // CANO_E_TASK_EXECUTION). Throws std::bad_alloc only.
  explicit fatal_error(string_ref message, cano_status code = CANO_E_TASK_EXECUTION)
      : error(code, message) {}

  // Makes `failure` (its code and message) fatal: `throw cano::fatal_error(e);`.
  explicit fatal_error(const error& failure) : error(failure.code(), failure.message()) {}
};

namespace detail {

// Throws `handle` as the subclass its code maps to; unknown codes throw the base class.
[[noreturn]] inline void raise(error_handle handle) {
  switch (cano_error_code(handle.get())) {
    case CANO_E_TASK_EXECUTION: throw task_execution_error(adopt, std::move(handle));
    case CANO_E_STORE: throw store_error(adopt, std::move(handle));
    case CANO_E_WORKFLOW: throw workflow_error(adopt, std::move(handle));
    case CANO_E_CONFIGURATION: throw configuration_error(adopt, std::move(handle));
    case CANO_E_RETRY_EXHAUSTED: throw retry_exhausted_error(adopt, std::move(handle));
    case CANO_E_TIMEOUT: throw timeout_error(adopt, std::move(handle));
    case CANO_E_CIRCUIT_OPEN: throw circuit_open_error(adopt, std::move(handle));
    case CANO_E_CHECKPOINT_STORE: throw checkpoint_store_error(adopt, std::move(handle));
    case CANO_E_COMPENSATION_FAILED: throw compensation_failed_error(adopt, std::move(handle));
    case CANO_E_GENERIC: throw generic_error(adopt, std::move(handle));
    case CANO_E_RESOURCE_NOT_FOUND: throw resource_not_found_error(adopt, std::move(handle));
    case CANO_E_RESOURCE_TYPE_MISMATCH:
      throw resource_type_mismatch_error(adopt, std::move(handle));
    case CANO_E_RESOURCE_DUPLICATE_KEY:
      throw resource_duplicate_key_error(adopt, std::move(handle));
    case CANO_E_STORE_KEY_NOT_FOUND: throw key_not_found_error(adopt, std::move(handle));
    case CANO_E_STORE_TYPE_MISMATCH: throw type_mismatch_error(adopt, std::move(handle));
    case CANO_E_STORE_APPEND_TYPE_MISMATCH:
      throw append_type_mismatch_error(adopt, std::move(handle));
    case CANO_E_INVALID_ARGUMENT: throw invalid_argument_error(adopt, std::move(handle));
    case CANO_E_NO_MEMORY: throw no_memory_error(adopt, std::move(handle));
    case CANO_E_WRONG_THREAD: throw wrong_thread_error(adopt, std::move(handle));
    case CANO_E_BAD_STATE: throw bad_state_error(adopt, std::move(handle));
    case CANO_E_CANCELLED: throw cancelled_error(adopt, std::move(handle));
    case CANO_E_SHUTDOWN: throw shutdown_error(adopt, std::move(handle));
    case CANO_E_VERSION: throw version_error(adopt, std::move(handle));
    case CANO_E_NOT_FOUND: throw not_found_error(adopt, std::move(handle));
    case CANO_E_INTERNAL: throw internal_error(adopt, std::move(handle));
    case CANO_E_USER: throw user_error(adopt, std::move(handle));
    default: throw error(adopt, std::move(handle));
  }
}

// Throws the error a failed C call reported. Takes ownership of `err` (may be NULL: a call
// that reports no detail still throws, with the status name as its message).
[[noreturn]] inline void throw_error(cano_status status, cano_error* err) {
  if (err == nullptr) raise(new_error(status, cano_status_name(status)));
  raise(own_error(err));
}

// The usual epilogue of a C call: throws on a negative status, otherwise releases any error
// object the call may have left (none is expected) and returns the status. `err` is taken by
// reference on purpose: in `check(cano_x(..., &err), err)` the order in which arguments are
// evaluated is unspecified, so a by-value `err` could be read before the call filled it in.
inline cano_status check(cano_status status, cano_error* const& err) {
  if (status < 0) throw_error(status, err);
  cano_error_free(err);
  return status;
}

}  // namespace detail

inline void error::rethrow() const { detail::raise(handle_); }

}  // namespace cano
