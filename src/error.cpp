#include "src/error.hpp"

#include <new>

namespace cano::detail {

Error::Error(const Error& other)
    : code(other.code),
      message(other.message),
      cause(other.cause ? std::make_unique<Error>(*other.cause) : nullptr),
      state(other.state),
      state_name(other.state_name),
      task_name(other.task_name),
      attempt(other.attempt),
      run_id(other.run_id) {}

Error& Error::operator=(const Error& other) {
  if (this != &other) {
    Error copy(other);
    *this = std::move(copy);
  }
  return *this;
}

std::string Error::display() const { return std::string(display_prefix_of(code)) + message; }

std::string Error::describe() const {
  std::string text = display();
  std::string context;
  auto add = [&context](const std::string& part) {
    context += context.empty() ? " (" : ", ";
    context += part;
  };
  if (!state_name.empty()) {
    add("state " + state_name);
  } else if (state) {
    add("state " + std::to_string(*state));
  }
  if (!task_name.empty()) add("task " + task_name);
  if (attempt != 0) add("attempt " + std::to_string(attempt));
  if (run_id != 0) add("run " + std::to_string(run_id));
  if (!context.empty()) text += context + ")";
  return text;
}

const char* category_of(cano_status code) {
  switch (code) {
    case CANO_E_TASK_EXECUTION:
      return "task_execution";
    case CANO_E_STORE:
    case CANO_E_STORE_KEY_NOT_FOUND:
    case CANO_E_STORE_TYPE_MISMATCH:
    case CANO_E_STORE_APPEND_TYPE_MISMATCH:
      return "store";
    case CANO_E_WORKFLOW:
      return "workflow";
    case CANO_E_CONFIGURATION:
      return "configuration";
    case CANO_E_RETRY_EXHAUSTED:
      return "retry_exhausted";
    case CANO_E_TIMEOUT:
      return "timeout";
    case CANO_E_CIRCUIT_OPEN:
      return "circuit_open";
    case CANO_E_CHECKPOINT_STORE:
      return "checkpoint_store";
    case CANO_E_COMPENSATION_FAILED:
      return "compensation_failed";
    case CANO_E_GENERIC:
      return "generic";
    case CANO_E_RESOURCE_NOT_FOUND:
      return "resource_not_found";
    case CANO_E_RESOURCE_TYPE_MISMATCH:
      return "resource_type_mismatch";
    case CANO_E_RESOURCE_DUPLICATE_KEY:
      return "resource_duplicate_key";
    default:
      return "api";
  }
}

const char* display_prefix_of(cano_status code) {
  switch (code) {
    case CANO_E_TASK_EXECUTION:
      return "Task execution error: ";
    case CANO_E_STORE:
    case CANO_E_STORE_KEY_NOT_FOUND:
    case CANO_E_STORE_TYPE_MISMATCH:
    case CANO_E_STORE_APPEND_TYPE_MISMATCH:
      return "Store error: ";
    case CANO_E_WORKFLOW:
      return "Workflow error: ";
    case CANO_E_CONFIGURATION:
      return "Configuration error: ";
    case CANO_E_RETRY_EXHAUSTED:
      return "Retry exhausted: ";
    case CANO_E_TIMEOUT:
      return "Timeout error: ";
    case CANO_E_CIRCUIT_OPEN:
      return "Circuit open: ";
    case CANO_E_CHECKPOINT_STORE:
      return "Checkpoint store error: ";
    case CANO_E_COMPENSATION_FAILED:
      return "Compensation failed: ";
    case CANO_E_GENERIC:
      return "Error: ";
    case CANO_E_RESOURCE_NOT_FOUND:
      return "Resource not found: ";
    case CANO_E_RESOURCE_TYPE_MISMATCH:
      return "Resource type mismatch: ";
    case CANO_E_RESOURCE_DUPLICATE_KEY:
      return "Resource duplicate key: ";
    case CANO_E_CANCELLED:
      return "Cancelled: ";
    case CANO_E_SHUTDOWN:
      return "Shutdown: ";
    default:
      return "API error: ";
  }
}

const char* status_name_of(cano_status code) {
  switch (code) {
    case CANO_OK:
      return "OK";
    case CANO_PENDING:
      return "PENDING";
    case CANO_E_TASK_EXECUTION:
      return "TASK_EXECUTION";
    case CANO_E_STORE:
      return "STORE";
    case CANO_E_WORKFLOW:
      return "WORKFLOW";
    case CANO_E_CONFIGURATION:
      return "CONFIGURATION";
    case CANO_E_RETRY_EXHAUSTED:
      return "RETRY_EXHAUSTED";
    case CANO_E_TIMEOUT:
      return "TIMEOUT";
    case CANO_E_CIRCUIT_OPEN:
      return "CIRCUIT_OPEN";
    case CANO_E_CHECKPOINT_STORE:
      return "CHECKPOINT_STORE";
    case CANO_E_COMPENSATION_FAILED:
      return "COMPENSATION_FAILED";
    case CANO_E_GENERIC:
      return "GENERIC";
    case CANO_E_RESOURCE_NOT_FOUND:
      return "RESOURCE_NOT_FOUND";
    case CANO_E_RESOURCE_TYPE_MISMATCH:
      return "RESOURCE_TYPE_MISMATCH";
    case CANO_E_RESOURCE_DUPLICATE_KEY:
      return "RESOURCE_DUPLICATE_KEY";
    case CANO_E_STORE_KEY_NOT_FOUND:
      return "STORE_KEY_NOT_FOUND";
    case CANO_E_STORE_TYPE_MISMATCH:
      return "STORE_TYPE_MISMATCH";
    case CANO_E_STORE_APPEND_TYPE_MISMATCH:
      return "STORE_APPEND_TYPE_MISMATCH";
    case CANO_E_INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case CANO_E_NO_MEMORY:
      return "NO_MEMORY";
    case CANO_E_WRONG_THREAD:
      return "WRONG_THREAD";
    case CANO_E_BAD_STATE:
      return "BAD_STATE";
    case CANO_E_CANCELLED:
      return "CANCELLED";
    case CANO_E_SHUTDOWN:
      return "SHUTDOWN";
    case CANO_E_VERSION:
      return "VERSION";
    case CANO_E_NOT_FOUND:
      return "NOT_FOUND";
    case CANO_E_INTERNAL:
      return "INTERNAL";
    case CANO_E_USER:
      return "USER";
    default:
      return "UNKNOWN";
  }
}

cano_status normalize_failure_code(cano_status code) {
  return code >= 0 ? CANO_E_TASK_EXECUTION : code;
}

cano_error* to_handle(Error error) {
  auto* handle = new (std::nothrow) cano_error{};
  if (handle == nullptr) return nullptr;
  if (error.cause) handle->cause_handle.reset(to_handle(std::move(*error.cause)));
  error.cause.reset();
  handle->error = std::move(error);
  return handle;
}

void store_error(cano_error** out, Error error) {
  if (out != nullptr) *out = to_handle(std::move(error));
}

}  // namespace cano::detail
