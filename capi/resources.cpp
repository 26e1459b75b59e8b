// C ABI: the resource dictionary (include/cano/resources.h).
#include "cano/resources.h"

#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>

#include "capi/guard.hpp"
#include "src/resources.hpp"

namespace {

using cano::capi::guard;
using cano::capi::require;
using cano::capi::require_text;

struct FreeDeleter {
  void operator()(char* text) const noexcept { std::free(text); }
};
using MallocText = std::unique_ptr<char, FreeDeleter>;

// A copy of `text` from malloc, which cano_free() releases.
MallocText malloc_string(const std::string& text) {
  auto* buffer = static_cast<char*>(std::malloc(text.size() + 1));
  if (buffer == nullptr) throw std::bad_alloc();
  std::memcpy(buffer, text.c_str(), text.size() + 1);
  return MallocText(buffer);
}

// The first layout of cano_resource_options, released in 0.1.0.
constexpr size_t kOldestOptionsSize = sizeof(cano_resource_options);

}  // namespace

extern "C" {

CANO_API cano_status cano_resources_create(cano_resources** out, cano_error** err) {
  return guard(err, [&] {
    require(out, "out");
    *out = nullptr;
    *out = new cano_resources();
    return CANO_OK;
  });
}

CANO_API void cano_resources_destroy(cano_resources* resources) {
  cano::detail::release(resources);
}

CANO_API cano_status cano_resources_insert(cano_resources* resources, const char* key,
                                           const cano_resource_options* options, cano_error** err) {
  return guard(err, [&] {
    require(options, "options");  // Without options there is no destroy hook to run.
    cano_resource_options copy{};
    try {
      require(resources, "resources");
      require_text(key, "key");
      copy = cano::capi::read_options(options, kOldestOptionsSize, "options");
    } catch (...) {
      // Ownership passes with the call, so a rejected object is freed before we return. On a
      // version error struct_size is wrong, but every caller built against any released
      // header has the whole 0.1.0 layout in memory, so reading `destroy` is safe.
      if (options->destroy != nullptr) options->destroy(options->object);
      throw;
    }
    resources->insert(key, copy);  // Runs the destroy hook itself if it fails.
    return CANO_OK;
  });
}

CANO_API cano_status cano_resources_insert_store(cano_resources* resources, const char* key,
                                                 cano_store* store, cano_error** err) {
  return guard(err, [&] {
    require(resources, "resources");
    require_text(key, "key");
    require(store, "store");
    resources->insert_store(key, store);
    return CANO_OK;
  });
}

CANO_API cano_status cano_resources_get(void** out, const cano_resources* resources,
                                        const char* key, const char* type, cano_error** err) {
  return guard(err, [&] {
    require(out, "out");
    *out = nullptr;
    require(resources, "resources");
    require(key, "key");
    require_text(type, "type");
    *out = resources->get(key, type);
    return CANO_OK;
  });
}

CANO_API cano_status cano_resources_get_store(cano_store** out, const cano_resources* resources,
                                              const char* key, cano_error** err) {
  return guard(err, [&] {
    require(out, "out");
    *out = nullptr;
    require(resources, "resources");
    require(key, "key");
    *out = resources->get_store(key);
    return CANO_OK;
  });
}

CANO_API size_t cano_resources_len(const cano_resources* resources) {
  return resources != nullptr ? resources->size() : 0;
}

CANO_API int cano_resources_contains(const cano_resources* resources, const char* key) {
  if (resources == nullptr || key == nullptr) return 0;
  return resources->contains(key) ? 1 : 0;
}

CANO_API cano_status cano_resources_health(cano_health_level* out, char** out_message,
                                           const cano_resources* resources, const char* key,
                                           cano_error** err) {
  return guard(err, [&] {
    require(out, "out");
    if (out_message != nullptr) *out_message = nullptr;
    require(resources, "resources");
    require(key, "key");
    cano_resources::Health health = resources->health_of(key);
    MallocText message;
    if (out_message != nullptr && health.message) message = malloc_string(*health.message);
    *out = health.level;
    if (out_message != nullptr) *out_message = message.release();
    return CANO_OK;
  });
}

CANO_API cano_status cano_resources_aggregate_health(cano_health_level* out, char** out_message,
                                                     char** out_key,
                                                     const cano_resources* resources,
                                                     cano_error** err) {
  return guard(err, [&] {
    require(out, "out");
    if (out_message != nullptr) *out_message = nullptr;
    if (out_key != nullptr) *out_key = nullptr;
    require(resources, "resources");
    std::string worst_key;
    cano_resources::Health health = resources->aggregate_health(&worst_key);
    // Allocate everything before publishing anything, so a failure leaks nothing.
    MallocText message;
    MallocText key;
    if (out_message != nullptr && health.message) message = malloc_string(*health.message);
    if (out_key != nullptr && !worst_key.empty()) key = malloc_string(worst_key);
    *out = health.level;
    if (out_message != nullptr) *out_message = message.release();
    if (out_key != nullptr) *out_key = key.release();
    return CANO_OK;
  });
}

CANO_API cano_status cano_resources_check_all_health(char** out, const cano_resources* resources,
                                                     cano_error** err) {
  return guard(err, [&] {
    require(out, "out");
    *out = nullptr;
    require(resources, "resources");
    *out = malloc_string(resources->check_all_health_json()).release();
    return CANO_OK;
  });
}

}  // extern "C"
