// A strict reader for the members of one cJSON object, shared by the scenario parser: it names
// the offending field in every error and, in finish(), rejects the members nobody read.
#pragma once

#include <cjson/cJSON.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace conformance {

struct JsonDeleter {
  void operator()(cJSON* json) const { cJSON_Delete(json); }
};
using JsonPtr = std::unique_ptr<cJSON, JsonDeleter>;

[[noreturn]] inline void fail_at(const std::string& path, const std::string& problem) {
  throw std::runtime_error(path + ": " + problem);
}

inline std::string compact(const cJSON* item) {
  std::unique_ptr<char, void (*)(void*)> text(cJSON_PrintUnformatted(item), cJSON_free);
  if (!text) throw std::runtime_error("cJSON could not print a value");
  return text.get();
}

// Reads the members of one JSON object and remembers which ones were read, so that finish()
// can reject the members nobody asked for.
class Fields {
 public:
  Fields(const cJSON* object, std::string path) : object_(object), path_(std::move(path)) {
    if (!cJSON_IsObject(object)) fail_at(path_, "must be a JSON object");
  }

  const std::string& path() const { return path_; }
  std::string path_of(const char* key) const { return path_ + "." + key; }

  // The member `key`, or nullptr when it is absent.
  const cJSON* get(const char* key) {
    used_.insert(key);
    return cJSON_GetObjectItemCaseSensitive(object_, key);
  }

  const cJSON* require(const char* key) {
    const cJSON* item = get(key);
    if (item == nullptr) fail_at(path_of(key), "is required");
    return item;
  }

  std::optional<std::string> string(const char* key) {
    const cJSON* item = get(key);
    if (item == nullptr) return std::nullopt;
    if (!cJSON_IsString(item)) fail_at(path_of(key), "must be a string");
    return std::string(item->valuestring);
  }

  std::string required_string(const char* key) {
    std::optional<std::string> value = string(key);
    if (!value) fail_at(path_of(key), "is required");
    return *value;
  }

  std::optional<uint64_t> unsigned_integer(const char* key, uint64_t max) {
    const cJSON* item = get(key);
    if (item == nullptr) return std::nullopt;
    return to_unsigned(item, path_of(key), max);
  }

  std::optional<double> number(const char* key) {
    const cJSON* item = get(key);
    if (item == nullptr) return std::nullopt;
    if (!cJSON_IsNumber(item)) fail_at(path_of(key), "must be a number");
    return item->valuedouble;
  }

  std::optional<bool> boolean(const char* key) {
    const cJSON* item = get(key);
    if (item == nullptr) return std::nullopt;
    if (!cJSON_IsBool(item)) fail_at(path_of(key), "must be true or false");
    return cJSON_IsTrue(item) != 0;
  }

  std::optional<std::vector<std::string>> strings(const char* key) {
    const cJSON* item = get(key);
    if (item == nullptr) return std::nullopt;
    if (!cJSON_IsArray(item)) fail_at(path_of(key), "must be an array of strings");
    std::vector<std::string> out;
    const cJSON* element = nullptr;
    cJSON_ArrayForEach(element, item) {
      if (!cJSON_IsString(element)) fail_at(path_of(key), "must be an array of strings");
      out.emplace_back(element->valuestring);
    }
    return out;
  }

  void finish() const {
    const cJSON* member = nullptr;
    cJSON_ArrayForEach(member, object_) {
      if (used_.count(member->string) == 0) {
        fail_at(path_ + "." + member->string, "is not a field this suite defines (README.md)");
      }
    }
  }

  static uint64_t to_unsigned(const cJSON* item, const std::string& path, uint64_t max) {
    if (!cJSON_IsNumber(item)) fail_at(path, "must be a non-negative integer");
    double value = item->valuedouble;
    if (value < 0 || std::floor(value) != value || value > static_cast<double>(max)) {
      fail_at(path, "must be a non-negative integer no greater than " + std::to_string(max));
    }
    return static_cast<uint64_t>(value);
  }

 private:
  const cJSON* object_;
  std::string path_;
  std::set<std::string> used_;
};

}  // namespace conformance
