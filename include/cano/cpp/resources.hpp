// cano/cpp/resources.hpp - cano::resources, cano's Resources dictionary with typed lookups.
//
// A resources object is a handle: copies share one set, and a workflow built over it keeps
// the set alive (cano/workflow.h). insert() takes any C++ value: the set owns a heap copy and
// destroys it exactly once, when the set itself goes (after the last workflow and run using it).
// If the type has member functions setup(), teardown() or health(), they are found at compile
// time and become the resource's lifecycle callbacks, cano's Resource trait:
//
//   struct Database {
//     void setup();                 // or bool setup(): false fails the setup
//     void teardown();              // or bool teardown()
//     cano::health_status health(); // or cano::health_level health()
//   };
//
// The engine calls setup (insertion order) and teardown (reverse order) on a worker thread,
// one resource at a time (cano/resources.h), so these members need no locking of their own
// against each other. A lifecycle member that throws fails with the thrown cano::error's code
// and message, or CANO_E_GENERIC with what() for any other exception; a health() that throws
// reports "unhealthy" with the exception's text.
//
// Lookups (get, get_store, contains, health) may be called from any thread. A set is frozen
// once a run uses it: insert() then throws bad_state_error.
//
// Since 0.1.0.
#pragma once

#include <cstddef>
#include <exception>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "cano/resources.h"
#include "cano/cpp/detail/c_memory.hpp"
#include "cano/cpp/detail/native_object.hpp"
#include "cano/cpp/error.hpp"
#include "cano/cpp/store.hpp"
#include "cano/cpp/string_ref.hpp"
#include "cano/cpp/type_tag.hpp"

namespace cano {

// cano's HealthStatus severity (cano_health_level).
enum class health_level {
  healthy = CANO_HEALTH_HEALTHY,
  degraded = CANO_HEALTH_DEGRADED,
  unhealthy = CANO_HEALTH_UNHEALTHY
};

// cano's HealthStatus: a level and, for degraded and unhealthy, a message.
struct health_status {
  health_level level = health_level::healthy;
  std::string message;

  health_status() = default;
  health_status(health_level level, std::string message = {})  // NOLINT: implicit on purpose
      : level(level), message(std::move(message)) {}

  static health_status healthy() { return {}; }
  static health_status degraded(std::string message) {
    return {health_level::degraded, std::move(message)};
  }
  static health_status unhealthy(std::string message) {
    return {health_level::unhealthy, std::move(message)};
  }
  bool is_healthy() const noexcept { return level == health_level::healthy; }
};

// The result of resources::aggregate_health(): the first worst status and its key ("" when
// every resource is healthy).
struct health_report {
  health_status status;
  std::string key;
};

namespace detail {

template <class T, class = void>
struct has_setup : std::false_type {};
template <class T>
struct has_setup<T, std::void_t<decltype(std::declval<T&>().setup())>> : std::true_type {};

template <class T, class = void>
struct has_teardown : std::false_type {};
template <class T>
struct has_teardown<T, std::void_t<decltype(std::declval<T&>().teardown())>> : std::true_type {};

template <class T, class = void>
struct has_health : std::false_type {};
template <class T>
struct has_health<T, std::void_t<decltype(std::declval<T&>().health())>> : std::true_type {};

// Hands a failure to the library as a lifecycle callback's error: a cano::error keeps its code
// and context, anything else becomes CANO_E_GENERIC with its text.
inline cano_status report_callback_failure(cano_error** err, std::exception_ptr failure) noexcept {
  cano_status code = CANO_E_GENERIC;
  cano_error* made = nullptr;
  try {
    std::rethrow_exception(failure);
  } catch (const error& e) {
    code = e.code();
    made = cano_error_clone(e.native());
  } catch (const std::exception& e) {
    made = cano_error_new(code, e.what());
  } catch (...) {
    made = cano_error_new(code, "unknown exception");
  }
  if (err != nullptr) {
    *err = made;
  } else {
    cano_error_free(made);
  }
  return code;
}

// Runs one lifecycle member (setup or teardown) and turns its outcome into a status.
template <class Member>
cano_status run_lifecycle(cano_error** err, const char* what, Member&& member) noexcept {
  try {
    using result = decltype(member());
    static_assert(std::is_void_v<result> || std::is_same_v<result, bool>,
                  "cano::resources: setup() and teardown() must return void or bool");
    if constexpr (std::is_same_v<result, bool>) {
      if (!member()) {
        if (err != nullptr) *err = cano_error_new(CANO_E_GENERIC, what);
        return CANO_E_GENERIC;
      }
    } else {
      member();
    }
    return CANO_OK;
  } catch (...) {
    return report_callback_failure(err, std::current_exception());
  }
}

template <class T>
cano_status resource_setup(cano_error** err, void* object) noexcept {
  return run_lifecycle(err, "setup() returned false",
                       [object]() -> decltype(auto) { return static_cast<T*>(object)->setup(); });
}

template <class T>
cano_status resource_teardown(cano_error** err, void* object) noexcept {
  return run_lifecycle(err, "teardown() returned false", [object]() -> decltype(auto) {
    return static_cast<T*>(object)->teardown();
  });
}

template <class T>
cano_health_level resource_health(const char** message, void* object) noexcept {
  // The library copies the message at once, so one buffer per thread keeps it valid long
  // enough without storing anything next to the user's object.
  thread_local std::string text;
  health_status status;
  try {
    status = health_status(static_cast<T*>(object)->health());
  } catch (const std::exception& e) {
    status = health_status(health_level::unhealthy);
    try {
      status.message = e.what();
    } catch (...) {
    }
  } catch (...) {
    status = health_status(health_level::unhealthy);
  }
  try {
    text = std::move(status.message);
  } catch (...) {
    text.clear();
  }
  if (message != nullptr) *message = text.empty() ? nullptr : text.c_str();
  return static_cast<cano_health_level>(status.level);
}

}  // namespace detail

class resources {
 public:
  // Creates an empty set. Throws no_memory_error.
  resources() {
    cano_resources* set = nullptr;
    cano_error* err = nullptr;
    detail::check(cano_resources_create(&set, &err), err);
    set_.reset(set, &cano_resources_destroy);
  }

  // A handle that does not own `set`: the set must outlive it and every copy. Tasks receive
  // such a handle for their run's resources (task_context::resources()).
  static resources borrow(cano_resources* set) noexcept { return resources(detail::borrow(set)); }

  // A handle over `set` that shares ownership with `owner` (borrows it when `owner` is empty),
  // e.g. a workflow's set kept alive by the workflow handle.
  resources(std::shared_ptr<void> owner, cano_resources* set) noexcept : set_(owner, set) {}

  // Inserts `value` (moved or copied into a heap object the set owns) under `key`. Throws
  // resource_duplicate_key_error, invalid_argument_error (empty key), bad_state_error (frozen);
  // on any error the value is destroyed before the call returns. Returns *this for chaining:
  //   resources.insert("config", Config{3}).insert("store", store);
  template <class T,
            class = std::enable_if_t<!std::is_same_v<std::decay_t<T>, memory_store>>>
  resources& insert(string_ref key, T&& value) {
    using stored = detail::stored_type_t<T>;
    auto object = std::make_unique<stored>(std::forward<T>(value));
    cano_resource_options options = CANO_RESOURCE_OPTIONS_INIT;
    options.type = type_tag_of<stored>();
    options.object = object.get();
    if constexpr (detail::has_setup<stored>::value) {
      options.setup = &detail::resource_setup<stored>;
    }
    if constexpr (detail::has_teardown<stored>::value) {
      options.teardown = &detail::resource_teardown<stored>;
    }
    if constexpr (detail::has_health<stored>::value) {
      options.health = &detail::resource_health<stored>;
    }
    options.destroy = &detail::delete_object<stored>;
    // From the call on the set owns the object, even when the call fails.
    object.release();
    cano_error* err = nullptr;
    detail::check(cano_resources_insert(native(), key.c_str(), &options, &err), err);
    return *this;
  }

  // Inserts a memory store (shared, as cano's store.clone()) under `key`, with the type tag
  // CANO_STORE_TYPE that every language uses for stores. Same errors as insert().
  resources& insert(string_ref key, const memory_store& store) {
    cano_error* err = nullptr;
    detail::check(cano_resources_insert_store(native(), key.c_str(), store.native(), &err), err);
    return *this;
  }

  // The T under `key`, borrowed for the life of the set. Throws resource_not_found_error and
  // resource_type_mismatch_error, as cano's get::<R, _>(). get<cano::memory_store>(key) is
  // get_store(key).
  template <class T>
  decltype(auto) get(string_ref key) const {
    if constexpr (std::is_same_v<std::remove_cv_t<T>, memory_store>) {
      return get_store(key);
    } else {
      void* object = nullptr;
      cano_error* err = nullptr;
      detail::check(cano_resources_get(&object, native(), key.c_str(), type_tag_of<T>(), &err),
                    err);
      return *static_cast<T*>(object);
    }
  }

  // The memory store under `key`. The handle keeps an owned set alive; from a borrowed set
  // (inside a task) it is valid while the set is. Same errors as get().
  memory_store get_store(string_ref key) const {
    cano_store* store = nullptr;
    cano_error* err = nullptr;
    detail::check(cano_resources_get_store(&store, native(), key.c_str(), &err), err);
    return memory_store(set_, store);
  }

  std::size_t len() const { return cano_resources_len(native()); }
  std::size_t size() const { return len(); }
  bool empty() const { return len() == 0; }
  bool contains(string_ref key) const { return cano_resources_contains(native(), key.c_str()); }

  // Probes the resource under `key` on the calling thread. Throws resource_not_found_error.
  health_status health(string_ref key) const {
    cano_health_level level = CANO_HEALTH_HEALTHY;
    char* message = nullptr;
    cano_error* err = nullptr;
    detail::check(cano_resources_health(&level, &message, native(), key.c_str(), &err), err);
    return health_status(static_cast<health_level>(level), detail::take_string(message));
  }

  // cano's aggregate_health(): the first worst status in insertion order.
  health_report aggregate_health() const {
    cano_health_level level = CANO_HEALTH_HEALTHY;
    char* message = nullptr;
    char* key = nullptr;
    cano_error* err = nullptr;
    cano_status status =
        cano_resources_aggregate_health(&level, &message, &key, native(), &err);
    detail::c_ptr<char> owned_message(message);
    detail::c_ptr<char> owned_key(key);
    detail::check(status, err);
    std::string text = detail::take_string(owned_message.release());
    return health_report{health_status(static_cast<health_level>(level), std::move(text)),
                         detail::take_string(owned_key.release())};
  }

  // cano's check_all_health() as JSON text (see cano_resources_check_all_health()).
  std::string check_all_health() const {
    char* json = nullptr;
    cano_error* err = nullptr;
    detail::check(cano_resources_check_all_health(&json, native(), &err), err);
    return detail::take_string(json);
  }

  // The C handle, borrowed for the life of this handle.
  cano_resources* native() const noexcept { return set_.get(); }

 private:
  explicit resources(std::shared_ptr<cano_resources> set) noexcept : set_(std::move(set)) {}

  std::shared_ptr<cano_resources> set_;
};

}  // namespace cano
