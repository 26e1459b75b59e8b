// cano_resources: the named resource dictionary of a workflow (include/cano/resources.h).
//
// Lookups run on any thread without a lock once the set is frozen (before its first run): only
// unfrozen sets accept inserts, so a frozen set never changes again. Until then inserts take
// mutex_ exclusively and readers share it, so a set being filled may be read from any thread.
// setup_all/teardown_all carry cano's exact lifecycle semantics; the sharing of one set-up
// between concurrent runs lives in src/resource_lifecycle.hpp.
#pragma once

#include <atomic>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "cano/resources.h"
#include "src/error.hpp"
#include "src/refcount.hpp"

struct cano_store;

struct cano_resources : cano::detail::RefCounted {
  struct Entry {
    std::string key;
    std::string type;
    void* object = nullptr;
    cano_resource_fn setup = nullptr;
    cano_resource_fn teardown = nullptr;
    cano_health_fn health = nullptr;
    void (*destroy)(void*) = nullptr;
    cano_store* store = nullptr;  // set (and retained) for cano_resources_insert_store
  };

  cano_resources() = default;
  cano_resources(const cano_resources&) = delete;
  cano_resources& operator=(const cano_resources&) = delete;
  ~cano_resources();  // runs destroy hooks in reverse insertion order, releases stores

  // Throws Failure (duplicate key, bad arguments, frozen). On failure the destroy hook of the
  // options has already run.
  void insert(std::string_view key, const cano_resource_options& options);
  void insert_store(std::string_view key, cano_store* store);

  // Throws Failure (not found / type mismatch), naming the key.
  void* get(std::string_view key, std::string_view type) const;
  cano_store* get_store(std::string_view key) const;

  size_t size() const noexcept;
  bool contains(std::string_view key) const noexcept;

  // True when at least one resource has a setup or teardown callback.
  bool has_lifecycle() const noexcept;

  // cano's setup_all(): insertion order; on failure at N, teardown of 0..N-1 in reverse order,
  // then the failure is returned (naming the key). Runs on the calling thread. Freezes the set
  // first, as every run does, so callbacks never race with an insert.
  std::optional<cano::detail::Error> setup_all();
  // cano's teardown_all(): reverse order; errors are logged (warn) and never stop the sequence.
  // Freezes the set too.
  void teardown_all();

  struct Health {
    cano_health_level level = CANO_HEALTH_HEALTHY;
    std::optional<std::string> message;
  };
  Health health_of(std::string_view key) const;  // throws Failure (not found)
  // cano's aggregate_health(): first worst in insertion order; key empty when all healthy.
  Health aggregate_health(std::string* worst_key) const;
  std::string check_all_health_json() const;

  // Takes the insert lock, so an insert racing with the freeze either lands before it or fails.
  void freeze() noexcept;
  bool frozen() const noexcept { return frozen_.load(std::memory_order_acquire); }

 private:
  // What a health probe needs, copied out so that no lock is held while user code runs.
  struct Probe {
    std::string key;
    cano_health_fn health = nullptr;
    void* object = nullptr;
  };
  // Shares mutex_ while the set may still change; a frozen set is read without a lock.
  class ReadLock {
   public:
    explicit ReadLock(const cano_resources& resources);

   private:
    std::shared_lock<std::shared_mutex> lock_;
  };

  const Entry* find(std::string_view key) const noexcept;  // callers hold a ReadLock
  std::vector<Probe> probes() const;
  static Health probe(const Probe& probe);
  void insert_entry(Entry entry);
  // Tears down entries_[0..count) in reverse order, logging failures.
  void teardown_first(size_t count) noexcept;

  std::vector<Entry> entries_;
  std::atomic<bool> frozen_{false};
  mutable std::shared_mutex mutex_;
};
