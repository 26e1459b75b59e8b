#include "src/store.hpp"

#include <cjson/cJSON.h>

#include <mutex>
#include <new>
#include <utility>

#include "src/error.hpp"

namespace cano::detail {
namespace {

struct JsonDeleter {
  void operator()(cJSON* json) const noexcept { cJSON_Delete(json); }
};
using JsonPtr = std::unique_ptr<cJSON, JsonDeleter>;

struct JsonTextDeleter {
  void operator()(char* text) const noexcept { cJSON_free(text); }
};
using JsonText = std::unique_ptr<char, JsonTextDeleter>;

std::string quoted(std::string_view key) {
  std::string text = "'";
  text.append(key);
  text += '\'';
  return text;
}

[[noreturn]] void key_not_found(std::string_view key) {
  fail(CANO_E_STORE_KEY_NOT_FOUND, "Key not found: Key " + quoted(key) + " not found in store");
}

[[noreturn]] void type_mismatch(std::string_view key) {
  fail(CANO_E_STORE_TYPE_MISMATCH,
       "Type mismatch: Cannot downcast value for key " + quoted(key) + " to requested type");
}

[[noreturn]] void append_type_mismatch(std::string_view key) {
  fail(CANO_E_STORE_APPEND_TYPE_MISMATCH, "Append type mismatch: Cannot append to key " +
                                              quoted(key) +
                                              ": existing value is not a Vec<TState>");
}

// Parses NUL-terminated JSON text, rejecting trailing garbage such as "1 2". `what` names the
// argument in the error.
JsonPtr parse_json(const char* text, std::string_view key, const char* what) {
  const char* end = nullptr;
  JsonPtr json(cJSON_ParseWithOpts(text, &end, 1));
  if (!json) {
    std::string message = std::string(what) + " for key " + quoted(key) + " is not valid JSON";
    if (end != nullptr && end >= text) {
      message += " (error at byte " + std::to_string(end - text) + ")";
    }
    fail(CANO_E_INVALID_ARGUMENT, std::move(message));
  }
  return json;
}

std::string print_json(const cJSON* json) {
  JsonText text(cJSON_PrintUnformatted(json));
  if (!text) throw std::bad_alloc();
  return std::string(text.get());
}

}  // namespace

ObjectPtr make_object(std::string_view type, void* object, void (*destroy)(void*)) {
  try {
    return std::make_shared<StoredObject>(std::string(type), object, destroy);
  } catch (...) {
    // The holder never existed, so its destructor cannot free the object: do it here.
    if (destroy != nullptr) destroy(object);
    throw;
  }
}

}  // namespace cano::detail

using cano::detail::fail;

cano_store::Value cano_store::replace(std::string_view key, Value value) {
  std::unique_lock<std::shared_mutex> lock(mutex_);
  auto it = values_.find(key);
  if (it == values_.end()) {
    values_.emplace(std::string(key), std::move(value));
    return Value{};
  }
  Value previous = std::move(it->second);
  it->second = std::move(value);
  return previous;
}

const cano_store::Value& cano_store::find_or_fail(std::string_view key) const {
  auto it = values_.find(key);
  if (it == values_.end()) cano::detail::key_not_found(key);
  return it->second;
}

void cano_store::put_bytes(std::string_view key, const void* data, size_t len) {
  Value value;
  value.kind = CANO_VALUE_BYTES;
  if (len != 0) value.text.assign(static_cast<const char*>(data), len);
  replace(key, std::move(value));
}

void cano_store::put_json(std::string_view key, const char* json) {
  cano::detail::parse_json(json, key, "json");
  Value value;
  value.kind = CANO_VALUE_JSON;
  value.text = json;
  replace(key, std::move(value));
}

void cano_store::put_object(std::string_view key, std::string_view type, void* object,
                            void (*destroy)(void*)) {
  Value value;
  value.kind = CANO_VALUE_OBJECT;
  value.object = cano::detail::make_object(type, object, destroy);
  // From here the holder owns the object: if replace() throws, the holder frees it.
  replace(key, std::move(value));
}

std::string cano_store::get_bytes(std::string_view key) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  const Value& value = find_or_fail(key);
  if (value.kind != CANO_VALUE_BYTES) cano::detail::type_mismatch(key);
  return value.text;
}

std::string cano_store::get_json(std::string_view key) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  const Value& value = find_or_fail(key);
  if (value.kind != CANO_VALUE_JSON) cano::detail::type_mismatch(key);
  return value.text;
}

cano::detail::ObjectPtr cano_store::get_object(std::string_view key, std::string_view type) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  const Value& value = find_or_fail(key);
  if (value.kind != CANO_VALUE_OBJECT || value.object->type() != type) {
    cano::detail::type_mismatch(key);
  }
  return value.object;
}

cano_store::KindInfo cano_store::kind(std::string_view key) const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  const Value& value = find_or_fail(key);
  KindInfo info;
  info.kind = value.kind;
  switch (value.kind) {
    case CANO_VALUE_BYTES:
      info.type = "bytes";
      break;
    case CANO_VALUE_JSON:
      info.type = "json";
      break;
    default:
      info.type = value.object->type();
      break;
  }
  return info;
}

void cano_store::append_json(std::string_view key, const char* item_json) {
  // Parse the item before locking: a bad item fails without touching the store, and the lock
  // is held only for the read-modify-write itself.
  cano::detail::JsonPtr item = cano::detail::parse_json(item_json, key, "item_json");
  std::unique_lock<std::shared_mutex> lock(mutex_);
  auto it = values_.find(key);
  cano::detail::JsonPtr array;
  if (it == values_.end()) {
    array.reset(cJSON_CreateArray());
    if (!array) throw std::bad_alloc();
  } else {
    if (it->second.kind != CANO_VALUE_JSON) cano::detail::append_type_mismatch(key);
    array.reset(cJSON_Parse(it->second.text.c_str()));
    // The text was validated when it was stored, so only memory or cJSON's nesting limit
    // (an array appended to until it nests too deep) can make this fail.
    if (!array) {
      fail(CANO_E_STORE, "Cannot append to key " + cano::detail::quoted(key) +
                             ": the stored JSON could not be parsed again");
    }
    if (!cJSON_IsArray(array.get())) cano::detail::append_type_mismatch(key);
  }
  if (!cJSON_AddItemToArray(array.get(), item.get())) throw std::bad_alloc();
  item.release();  // The array owns the item now.
  std::string text = cano::detail::print_json(array.get());
  if (it == values_.end()) {
    Value value;
    value.kind = CANO_VALUE_JSON;
    value.text = std::move(text);
    values_.emplace(std::string(key), std::move(value));
  } else {
    // Moving the new text in cannot throw, so the stored value changes all at once or not at
    // all.
    it->second.text = std::move(text);
  }
}

void cano_store::append_object(std::string_view key, std::string_view type, cano_store_append_fn fn,
                               void* user_data) {
  Value previous;
  {
    std::unique_lock<std::shared_mutex> lock(mutex_);
    auto it = values_.find(key);
    const void* current = nullptr;
    if (it != values_.end()) {
      const Value& value = it->second;
      if (value.kind != CANO_VALUE_OBJECT || value.object->type() != type) {
        cano::detail::append_type_mismatch(key);
      }
      current = value.object->get();
    }
    void* next = nullptr;
    void (*next_destroy)(void*) = nullptr;
    cano_status status = fn(&next, &next_destroy, current, user_data);
    if (status != CANO_OK) {
      // The callback cannot hand over an error object, so name the key and its status. A
      // status that is not an error code becomes a generic error: callers test for < 0.
      cano_status code = status < 0 ? status : CANO_E_GENERIC;
      fail(code, "append callback for key " + cano::detail::quoted(key) + " failed with status " +
                     std::to_string(status) + " (" + cano::detail::status_name_of(status) + ")");
    }
    Value value;
    value.kind = CANO_VALUE_OBJECT;
    value.object = cano::detail::make_object(type, next, next_destroy);
    if (it == values_.end()) {
      values_.emplace(std::string(key), std::move(value));
    } else {
      // The old list leaves the map here but is dropped only after the lock is released, and
      // readers holding references keep it unchanged.
      previous = std::move(it->second);
      it->second = std::move(value);
    }
  }
}

void cano_store::remove(std::string_view key) {
  Value previous;  // Declared before the lock, so destroyed after it is released.
  std::unique_lock<std::shared_mutex> lock(mutex_);
  auto it = values_.find(key);
  if (it == values_.end()) return;
  previous = std::move(it->second);
  values_.erase(it);
}

void cano_store::clear() {
  Map previous;
  {
    std::unique_lock<std::shared_mutex> lock(mutex_);
    previous.swap(values_);
  }
}

bool cano_store::contains(std::string_view key) const noexcept {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  return values_.find(key) != values_.end();
}

size_t cano_store::size() const noexcept {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  return values_.size();
}

std::vector<std::string> cano_store::keys() const {
  std::vector<std::string> result;
  std::shared_lock<std::shared_mutex> lock(mutex_);
  result.reserve(values_.size());
  for (const auto& entry : values_) result.push_back(entry.first);
  return result;
}

std::string cano_store::keys_json() const {
  std::vector<std::string> names = keys();
  cano::detail::JsonPtr array(cJSON_CreateArray());
  if (!array) throw std::bad_alloc();
  for (const std::string& name : names) {
    cJSON* item = cJSON_CreateString(name.c_str());
    if (item == nullptr || !cJSON_AddItemToArray(array.get(), item)) {
      cJSON_Delete(item);
      throw std::bad_alloc();
    }
  }
  return cano::detail::print_json(array.get());
}
