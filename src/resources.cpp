#include "src/resources.hpp"

#include <cjson/cJSON.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <utility>

#include "src/log.hpp"
#include "src/store.hpp"

using cano::detail::Error;
using cano::detail::fail;

namespace {

struct JsonDeleter {
  void operator()(cJSON* json) const noexcept { cJSON_Delete(json); }
};
using JsonPtr = std::unique_ptr<cJSON, JsonDeleter>;

std::string quoted(std::string_view key) {
  std::string text = "'";
  text.append(key);
  text += '\'';
  return text;
}

// Takes an error handle a callback handed over and turns it back into an Error, cause chain
// included, so that a callback may pass on an error it got from the library.
Error take_handle(cano_error* handle) {
  std::unique_ptr<cano_error> owned(handle);
  Error error = std::move(owned->error);
  if (owned->cause_handle) {
    error.cause = std::make_unique<Error>(take_handle(owned->cause_handle.release()));
  }
  return error;
}

// Runs a setup or teardown callback. A failure keeps the callback's error when it gave one;
// otherwise the status names it, and a status that is not a known error code (a positive
// value, say) becomes a generic error so that the result is always a real error code.
std::optional<Error> run_callback(cano_resource_fn fn, void* object) {
  cano_error* raw = nullptr;
  cano_status status = fn(&raw, object);
  std::unique_ptr<cano_error> handle(raw);
  if (status == CANO_OK) return std::nullopt;  // An error left behind on success is dropped.
  if (handle) return take_handle(handle.release());
  bool known = status < 0 && std::strcmp(cano::detail::status_name_of(status), "UNKNOWN") != 0;
  return Error(known ? status : CANO_E_GENERIC, "callback returned status " +
                                                    std::to_string(status) + " (" +
                                                    cano::detail::status_name_of(status) + ")");
}

const char* level_name(cano_health_level level) {
  switch (level) {
    case CANO_HEALTH_HEALTHY:
      return "healthy";
    case CANO_HEALTH_DEGRADED:
      return "degraded";
    default:
      return "unhealthy";
  }
}

}  // namespace

cano_resources::ReadLock::ReadLock(const cano_resources& resources) {
  // A frozen set never changes again, and the freeze happened under the exclusive lock after
  // the last insert, so the acquire load is all a reader needs.
  if (!resources.frozen()) lock_ = std::shared_lock<std::shared_mutex>(resources.mutex_);
}

cano_resources::~cano_resources() {
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    if (it->destroy != nullptr) it->destroy(it->object);
    if (it->store != nullptr) cano::detail::release(it->store);
  }
}

void cano_resources::freeze() noexcept {
  std::unique_lock<std::shared_mutex> lock(mutex_);
  frozen_.store(true, std::memory_order_release);
}

void cano_resources::insert_entry(Entry entry) {
  std::unique_lock<std::shared_mutex> lock(mutex_);
  if (frozen()) {
    fail(CANO_E_BAD_STATE, "cannot insert resource " + quoted(entry.key) +
                               ": the set is frozen because a workflow run has used it");
  }
  if (find(entry.key) != nullptr) {
    fail(CANO_E_RESOURCE_DUPLICATE_KEY,
         "duplicate resource key inserted into Resources (key " + quoted(entry.key) + ")");
  }
  entries_.push_back(std::move(entry));
}

void cano_resources::insert(std::string_view key, const cano_resource_options& options) {
  try {
    if (key.empty()) fail(CANO_E_INVALID_ARGUMENT, "key must be a non-empty string");
    if (options.type == nullptr || *options.type == '\0') {
      fail(CANO_E_INVALID_ARGUMENT,
           "options.type must be a non-empty string (key " + quoted(key) + ")");
    }
    // get_store() trusts that an entry with the store tag holds a real store, so only
    // insert_store() may use that tag.
    if (std::strcmp(options.type, CANO_STORE_TYPE) == 0) {
      fail(CANO_E_INVALID_ARGUMENT, "type tag '" CANO_STORE_TYPE
                                    "' is reserved for cano_resources_insert_store (key " +
                                        quoted(key) + ")");
    }
    Entry entry;
    entry.key.assign(key);
    entry.type = options.type;
    entry.object = options.object;
    entry.setup = options.setup;
    entry.teardown = options.teardown;
    entry.health = options.health;
    entry.destroy = options.destroy;
    insert_entry(std::move(entry));
  } catch (...) {
    // Ownership of the object passes with the call, so a rejected resource is freed here.
    if (options.destroy != nullptr) options.destroy(options.object);
    throw;
  }
}

void cano_resources::insert_store(std::string_view key, cano_store* store) {
  if (key.empty()) fail(CANO_E_INVALID_ARGUMENT, "key must be a non-empty string");
  if (store == nullptr) fail(CANO_E_INVALID_ARGUMENT, "store must not be NULL");
  Entry entry;
  entry.key.assign(key);
  entry.type = CANO_STORE_TYPE;
  entry.object = store;
  entry.store = store;
  store->retain();
  try {
    insert_entry(std::move(entry));
  } catch (...) {
    cano::detail::release(store);
    throw;
  }
}

const cano_resources::Entry* cano_resources::find(std::string_view key) const noexcept {
  // Resource sets are small, so a linear scan beats a hash index and keeps insertion order.
  for (const Entry& entry : entries_) {
    if (entry.key == key) return &entry;
  }
  return nullptr;
}

void* cano_resources::get(std::string_view key, std::string_view type) const {
  ReadLock lock(*this);
  const Entry* entry = find(key);
  if (entry == nullptr) {
    fail(CANO_E_RESOURCE_NOT_FOUND, "no resource found for the given key (requested type: " +
                                        std::string(type) + ") (key " + quoted(key) + ")");
  }
  if (entry->type != type) {
    fail(CANO_E_RESOURCE_TYPE_MISMATCH, "resource found but the requested type " +
                                            std::string(type) +
                                            " does not match the stored type (key " + quoted(key) +
                                            ", stored type " + entry->type + ")");
  }
  return entry->object;
}

cano_store* cano_resources::get_store(std::string_view key) const {
  return static_cast<cano_store*>(get(key, CANO_STORE_TYPE));
}

size_t cano_resources::size() const noexcept {
  ReadLock lock(*this);
  return entries_.size();
}

bool cano_resources::contains(std::string_view key) const noexcept {
  ReadLock lock(*this);
  return find(key) != nullptr;
}

bool cano_resources::has_lifecycle() const noexcept {
  ReadLock lock(*this);
  return std::any_of(entries_.begin(), entries_.end(), [](const Entry& entry) {
    return entry.setup != nullptr || entry.teardown != nullptr;
  });
}

std::optional<Error> cano_resources::setup_all() {
  freeze();
  for (size_t i = 0; i < entries_.size(); ++i) {
    const Entry& entry = entries_[i];
    if (entry.setup == nullptr) continue;
    std::optional<Error> failure;
    try {
      failure = run_callback(entry.setup, entry.object);
      if (failure) {
        failure->message =
            "setup of resource " + quoted(entry.key) + " failed: " + failure->message;
      }
    } catch (...) {
      // Only building the error can throw, and only when memory runs out; the resource still
      // counts as failed, so the rollback below must happen all the same.
      failure = Error(CANO_E_NO_MEMORY, "out of memory");
    }
    if (!failure) continue;
    // cano: the failed resource and the ones after it are not torn down.
    teardown_first(i);
    return failure;
  }
  return std::nullopt;
}

void cano_resources::teardown_all() {
  freeze();
  teardown_first(entries_.size());
}

void cano_resources::teardown_first(size_t count) noexcept {
  for (size_t i = count; i-- > 0;) {
    const Entry& entry = entries_[i];
    if (entry.teardown == nullptr) continue;
    try {
      std::optional<Error> failure = run_callback(entry.teardown, entry.object);
      if (failure) {
        cano::detail::log().warn("resource teardown error: resource {}: {}", quoted(entry.key),
                                 failure->display());
      }
    } catch (...) {
      // Nothing may stop the sequence: a failure to report a failure is dropped.
    }
  }
}

std::vector<cano_resources::Probe> cano_resources::probes() const {
  ReadLock lock(*this);
  std::vector<Probe> result;
  result.reserve(entries_.size());
  for (const Entry& entry : entries_) {
    result.push_back(Probe{entry.key, entry.health, entry.object});
  }
  return result;
}

cano_resources::Health cano_resources::probe(const Probe& probe) {
  Health health;
  if (probe.health == nullptr) return health;
  const char* message = nullptr;
  cano_health_level level = probe.health(&message, probe.object);
  if (level == CANO_HEALTH_HEALTHY || level == CANO_HEALTH_DEGRADED ||
      level == CANO_HEALTH_UNHEALTHY) {
    health.level = level;
    if (message != nullptr) health.message = std::string(message);
    return health;
  }
  // A probe that returns garbage is itself a sign of trouble: report it as unhealthy.
  health.level = CANO_HEALTH_UNHEALTHY;
  health.message =
      "health probe returned an invalid level " + std::to_string(static_cast<long long>(level));
  if (message != nullptr) *health.message += std::string(": ") + message;
  return health;
}

cano_resources::Health cano_resources::health_of(std::string_view key) const {
  Probe target;
  {
    ReadLock lock(*this);
    const Entry* entry = find(key);
    if (entry == nullptr) {
      fail(CANO_E_RESOURCE_NOT_FOUND,
           "no resource found for the given key (key " + quoted(key) + ")");
    }
    target = Probe{entry->key, entry->health, entry->object};
  }
  return probe(target);
}

cano_resources::Health cano_resources::aggregate_health(std::string* worst_key) const {
  Health worst;
  std::string key;
  for (const Probe& candidate : probes()) {
    Health health = probe(candidate);
    // Strictly worse only, so that the first of equally bad resources wins, as in cano.
    if (health.level > worst.level) {
      worst = std::move(health);
      key = candidate.key;
    }
  }
  if (worst_key != nullptr) *worst_key = std::move(key);
  return worst;
}

std::string cano_resources::check_all_health_json() const {
  JsonPtr root(cJSON_CreateObject());
  if (!root) throw std::bad_alloc();
  for (const Probe& candidate : probes()) {
    Health health = probe(candidate);
    cJSON* item = cJSON_CreateObject();
    if (item == nullptr || !cJSON_AddItemToObject(root.get(), candidate.key.c_str(), item)) {
      cJSON_Delete(item);
      throw std::bad_alloc();
    }
    cJSON* status = cJSON_AddStringToObject(item, "status", level_name(health.level));
    cJSON* message = health.message
                         ? cJSON_AddStringToObject(item, "message", health.message->c_str())
                         : cJSON_AddNullToObject(item, "message");
    if (status == nullptr || message == nullptr) throw std::bad_alloc();
  }
  std::unique_ptr<char, void (*)(void*)> text(cJSON_PrintUnformatted(root.get()), cJSON_free);
  if (!text) throw std::bad_alloc();
  return std::string(text.get());
}
