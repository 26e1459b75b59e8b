// C ABI: the MemoryStore (include/cano/store.h).
#include "cano/store.h"

#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <string_view>

#include "capi/guard.hpp"
#include "src/store.hpp"

namespace {

using cano::capi::guard;
using cano::capi::require;
using cano::capi::require_text;

// Copies `size` bytes into a buffer from malloc, which cano_free() releases. Never returns
// NULL: at least one byte is allocated, so an empty value still yields a valid pointer.
char* malloc_copy(const char* data, size_t size, bool terminate) {
  size_t total = size + (terminate ? 1 : 0);
  auto* buffer = static_cast<char*>(std::malloc(total == 0 ? 1 : total));
  if (buffer == nullptr) throw std::bad_alloc();
  if (size != 0) std::memcpy(buffer, data, size);
  if (terminate) buffer[size] = '\0';
  return buffer;
}

char* malloc_string(const std::string& text) { return malloc_copy(text.data(), text.size(), true); }

// A store's object hooks belong to the store once the call is made, even when an argument is
// wrong: this runs them and then fails.
[[noreturn]] void reject_object(void* object, void (*destroy)(void*)) {
  if (destroy != nullptr) destroy(object);
  throw;
}

}  // namespace

extern "C" {

CANO_API cano_status cano_store_create(cano_store** out, cano_error** err) {
  return guard(err, [&] {
    require(out, "out");
    *out = nullptr;
    *out = new cano_store();
    return CANO_OK;
  });
}

CANO_API void cano_store_destroy(cano_store* store) { cano::detail::release(store); }

CANO_API cano_status cano_store_put_bytes(cano_store* store, const char* key, const void* data,
                                          size_t len, cano_error** err) {
  return guard(err, [&] {
    require(store, "store");
    require(key, "key");
    if (data == nullptr && len != 0) {
      cano::detail::fail(CANO_E_INVALID_ARGUMENT, "data must not be NULL when len is not 0");
    }
    store->put_bytes(key, data, len);
    return CANO_OK;
  });
}

CANO_API cano_status cano_store_put_json(cano_store* store, const char* key, const char* json,
                                         cano_error** err) {
  return guard(err, [&] {
    require(store, "store");
    require(key, "key");
    require(json, "json");
    store->put_json(key, json);
    return CANO_OK;
  });
}

CANO_API cano_status cano_store_put_object(cano_store* store, const char* key, const char* type,
                                           void* object, void (*destroy)(void* object),
                                           cano_error** err) {
  return guard(err, [&] {
    try {
      require(store, "store");
      require(key, "key");
      require_text(type, "type");
    } catch (...) {
      reject_object(object, destroy);
    }
    store->put_object(key, type, object, destroy);
    return CANO_OK;
  });
}

CANO_API cano_status cano_store_get_bytes(void** out, size_t* out_len, const cano_store* store,
                                          const char* key, cano_error** err) {
  return guard(err, [&] {
    require(out, "out");
    *out = nullptr;
    require(out_len, "out_len");
    *out_len = 0;
    require(store, "store");
    require(key, "key");
    std::string bytes = store->get_bytes(key);
    *out = malloc_copy(bytes.data(), bytes.size(), false);
    *out_len = bytes.size();
    return CANO_OK;
  });
}

CANO_API cano_status cano_store_get_json(char** out, const cano_store* store, const char* key,
                                         cano_error** err) {
  return guard(err, [&] {
    require(out, "out");
    *out = nullptr;
    require(store, "store");
    require(key, "key");
    *out = malloc_string(store->get_json(key));
    return CANO_OK;
  });
}

CANO_API cano_status cano_store_get_object(cano_object_ref** out, const cano_store* store,
                                           const char* key, const char* type, cano_error** err) {
  return guard(err, [&] {
    require(out, "out");
    *out = nullptr;
    require(store, "store");
    require(key, "key");
    require_text(type, "type");
    *out = new cano_object_ref{store->get_object(key, type)};
    return CANO_OK;
  });
}

CANO_API void* cano_object_ref_get(const cano_object_ref* ref) {
  return ref != nullptr ? ref->holder->get() : nullptr;
}

CANO_API void cano_object_ref_release(cano_object_ref* ref) { delete ref; }

CANO_API cano_status cano_store_kind(cano_value_kind* out, char** out_type, const cano_store* store,
                                     const char* key, cano_error** err) {
  return guard(err, [&] {
    require(out, "out");
    if (out_type != nullptr) *out_type = nullptr;
    require(store, "store");
    require(key, "key");
    cano_store::KindInfo info = store->kind(key);
    if (out_type != nullptr) *out_type = malloc_string(info.type);
    *out = info.kind;
    return CANO_OK;
  });
}

CANO_API cano_status cano_store_append_json(cano_store* store, const char* key,
                                            const char* item_json, cano_error** err) {
  return guard(err, [&] {
    require(store, "store");
    require(key, "key");
    require(item_json, "item_json");
    store->append_json(key, item_json);
    return CANO_OK;
  });
}

CANO_API cano_status cano_store_append_object(cano_store* store, const char* key, const char* type,
                                              cano_store_append_fn fn, void* user_data,
                                              cano_error** err) {
  return guard(err, [&] {
    require(store, "store");
    require(key, "key");
    require_text(type, "type");
    if (fn == nullptr) cano::detail::fail(CANO_E_INVALID_ARGUMENT, "fn must not be NULL");
    store->append_object(key, type, fn, user_data);
    return CANO_OK;
  });
}

CANO_API cano_status cano_store_remove(cano_store* store, const char* key, cano_error** err) {
  return guard(err, [&] {
    require(store, "store");
    require(key, "key");
    store->remove(key);
    return CANO_OK;
  });
}

CANO_API int cano_store_contains(const cano_store* store, const char* key) {
  if (store == nullptr || key == nullptr) return 0;
  return store->contains(key) ? 1 : 0;
}

CANO_API size_t cano_store_len(const cano_store* store) {
  return store != nullptr ? store->size() : 0;
}

CANO_API cano_status cano_store_keys(char** out, const cano_store* store, cano_error** err) {
  return guard(err, [&] {
    require(out, "out");
    *out = nullptr;
    require(store, "store");
    *out = malloc_string(store->keys_json());
    return CANO_OK;
  });
}

CANO_API cano_status cano_store_clear(cano_store* store, cano_error** err) {
  return guard(err, [&] {
    require(store, "store");
    store->clear();
    return CANO_OK;
  });
}

}  // extern "C"
