// C API tests of cano/resources.h, through the public headers only.
#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cano/cano.h"

namespace {

// Owns the cano_error of one call at a time.
class ErrorSlot {
 public:
  ~ErrorSlot() { cano_error_free(err_); }
  cano_error** out() {
    cano_error_free(err_);
    err_ = nullptr;
    return &err_;
  }
  cano_status code() const { return cano_error_code(err_); }
  std::string message() const { return cano_error_message(err_); }
  std::string category() const { return cano_error_category(err_); }

 private:
  cano_error* err_ = nullptr;
};

std::string take(char* text) {
  std::string copy = text != nullptr ? text : "<NULL>";
  cano_free(text);
  return copy;
}

// Records destroy hooks so tests can check that each runs once, and in which order.
struct Journal {
  std::mutex mutex;
  std::vector<std::string> events;
  void add(const std::string& event) {
    std::lock_guard<std::mutex> lock(mutex);
    events.push_back(event);
  }
};

struct Res {
  Journal* journal;
  std::string name;
  cano_health_level level;
  const char* message;
};

void destroy_res(void* object) {
  auto* res = static_cast<Res*>(object);
  res->journal->add("destroy:" + res->name);
  delete res;
}

cano_health_level probe_res(const char** message, void* object) {
  auto* res = static_cast<Res*>(object);
  *message = res->message;
  return res->level;
}

cano_resource_options options_for(Res* res, const char* type = "Res") {
  cano_resource_options options = CANO_RESOURCE_OPTIONS_INIT;
  options.type = type;
  options.object = res;
  options.health = probe_res;
  options.destroy = destroy_res;
  return options;
}

class ResourcesCapiTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(cano_resources_create(&resources_, nullptr), CANO_OK); }
  void TearDown() override { cano_resources_destroy(resources_); }

  Res* add(const std::string& name, cano_health_level level = CANO_HEALTH_HEALTHY,
           const char* message = nullptr) {
    auto* res = new Res{&journal_, name, level, message};
    cano_resource_options options = options_for(res);
    EXPECT_EQ(cano_resources_insert(resources_, name.c_str(), &options, nullptr), CANO_OK);
    return res;
  }

  Journal journal_;
  cano_resources* resources_ = nullptr;
};

TEST(ResourcesCapiNullTest, NullHandles) {
  cano_resources_destroy(nullptr);
  EXPECT_EQ(cano_resources_len(nullptr), 0u);
  EXPECT_EQ(cano_resources_contains(nullptr, "k"), 0);
  ErrorSlot err;
  EXPECT_EQ(cano_resources_create(nullptr, err.out()), CANO_E_INVALID_ARGUMENT);
  EXPECT_EQ(err.category(), "api");
  void* object = nullptr;
  EXPECT_EQ(cano_resources_get(&object, nullptr, "k", "T", err.out()), CANO_E_INVALID_ARGUMENT);
  EXPECT_NE(err.message().find("resources"), std::string::npos);
  cano_store* store = nullptr;
  EXPECT_EQ(cano_resources_get_store(&store, nullptr, "k", err.out()), CANO_E_INVALID_ARGUMENT);
  cano_health_level level;
  EXPECT_EQ(cano_resources_health(&level, nullptr, nullptr, "k", err.out()),
            CANO_E_INVALID_ARGUMENT);
  EXPECT_EQ(cano_resources_aggregate_health(&level, nullptr, nullptr, nullptr, err.out()),
            CANO_E_INVALID_ARGUMENT);
  char* text = nullptr;
  EXPECT_EQ(cano_resources_check_all_health(&text, nullptr, err.out()), CANO_E_INVALID_ARGUMENT);
  EXPECT_EQ(cano_resources_insert_store(nullptr, "k", nullptr, err.out()), CANO_E_INVALID_ARGUMENT);
}

TEST_F(ResourcesCapiTest, NullArgumentsAreNamed) {
  ErrorSlot err;
  void* object = nullptr;
  EXPECT_EQ(cano_resources_get(nullptr, resources_, "k", "T", err.out()), CANO_E_INVALID_ARGUMENT);
  EXPECT_NE(err.message().find("out"), std::string::npos);
  EXPECT_EQ(cano_resources_get(&object, resources_, nullptr, "T", err.out()),
            CANO_E_INVALID_ARGUMENT);
  EXPECT_NE(err.message().find("key"), std::string::npos);
  EXPECT_EQ(cano_resources_get(&object, resources_, "k", nullptr, err.out()),
            CANO_E_INVALID_ARGUMENT);
  EXPECT_NE(err.message().find("type"), std::string::npos);
  EXPECT_EQ(cano_resources_insert(resources_, "k", nullptr, err.out()), CANO_E_INVALID_ARGUMENT);
  EXPECT_NE(err.message().find("options"), std::string::npos);
  EXPECT_EQ(cano_resources_insert_store(resources_, "k", nullptr, err.out()),
            CANO_E_INVALID_ARGUMENT);
  EXPECT_NE(err.message().find("store"), std::string::npos);
  cano_health_level level;
  EXPECT_EQ(cano_resources_health(nullptr, nullptr, resources_, "k", err.out()),
            CANO_E_INVALID_ARGUMENT);
  EXPECT_EQ(cano_resources_health(&level, nullptr, resources_, nullptr, err.out()),
            CANO_E_INVALID_ARGUMENT);
  EXPECT_EQ(cano_resources_aggregate_health(nullptr, nullptr, nullptr, resources_, err.out()),
            CANO_E_INVALID_ARGUMENT);
  EXPECT_EQ(cano_resources_check_all_health(nullptr, resources_, err.out()),
            CANO_E_INVALID_ARGUMENT);
  EXPECT_EQ(cano_resources_contains(resources_, nullptr), 0);
}

TEST_F(ResourcesCapiTest, InsertAndLookUp) {
  Res* db = add("db");
  ErrorSlot err;
  void* object = nullptr;
  ASSERT_EQ(cano_resources_get(&object, resources_, "db", "Res", err.out()), CANO_OK);
  EXPECT_EQ(object, db);
  EXPECT_EQ(cano_resources_len(resources_), 1u);
  EXPECT_EQ(cano_resources_contains(resources_, "db"), 1);
  EXPECT_EQ(cano_resources_contains(resources_, "cache"), 0);

  object = db;
  EXPECT_EQ(cano_resources_get(&object, resources_, "cache", "Res", err.out()),
            CANO_E_RESOURCE_NOT_FOUND);
  EXPECT_EQ(object, nullptr);
  EXPECT_EQ(err.category(), "resource_not_found");
  EXPECT_EQ(err.message(),
            "no resource found for the given key (requested type: Res) (key 'cache')");

  EXPECT_EQ(cano_resources_get(&object, resources_, "db", "Pool", err.out()),
            CANO_E_RESOURCE_TYPE_MISMATCH);
  EXPECT_EQ(err.category(), "resource_type_mismatch");
  EXPECT_EQ(err.message(),
            "resource found but the requested type Pool does not match the stored type (key "
            "'db', stored type Res)");
}

TEST_F(ResourcesCapiTest, FailedInsertsDestroyTheObjectExactlyOnce) {
  add("db");
  ErrorSlot err;
  auto insert = [&](cano_resources* set, const char* key, cano_resource_options options) {
    return cano_resources_insert(set, key, &options, err.out());
  };

  EXPECT_EQ(insert(resources_, "db", options_for(new Res{&journal_, "dup"})),
            CANO_E_RESOURCE_DUPLICATE_KEY);
  EXPECT_EQ(err.category(), "resource_duplicate_key");
  EXPECT_EQ(err.message(), "duplicate resource key inserted into Resources (key 'db')");

  EXPECT_EQ(insert(nullptr, "x", options_for(new Res{&journal_, "no-set"})),
            CANO_E_INVALID_ARGUMENT);
  EXPECT_EQ(insert(resources_, nullptr, options_for(new Res{&journal_, "null-key"})),
            CANO_E_INVALID_ARGUMENT);
  EXPECT_EQ(insert(resources_, "", options_for(new Res{&journal_, "empty-key"})),
            CANO_E_INVALID_ARGUMENT);
  EXPECT_EQ(insert(resources_, "x", options_for(new Res{&journal_, "no-type"}, nullptr)),
            CANO_E_INVALID_ARGUMENT);
  EXPECT_NE(err.message().find("'x'"), std::string::npos);
  EXPECT_EQ(insert(resources_, "x", options_for(new Res{&journal_, "reserved"}, CANO_STORE_TYPE)),
            CANO_E_INVALID_ARGUMENT);
  cano_resource_options old = options_for(new Res{&journal_, "old-struct"});
  old.struct_size = 8;
  EXPECT_EQ(insert(resources_, "x", old), CANO_E_VERSION);

  EXPECT_EQ(journal_.events,
            (std::vector<std::string>{"destroy:dup", "destroy:no-set", "destroy:null-key",
                                      "destroy:empty-key", "destroy:no-type", "destroy:reserved",
                                      "destroy:old-struct"}));
  EXPECT_EQ(cano_resources_len(resources_), 1u);
}

TEST_F(ResourcesCapiTest, DestroyRunsHooksInReverseInsertionOrder) {
  cano_resources* set = nullptr;
  ASSERT_EQ(cano_resources_create(&set, nullptr), CANO_OK);
  for (const char* name : {"first", "second", "third"}) {
    cano_resource_options options = options_for(new Res{&journal_, name});
    ASSERT_EQ(cano_resources_insert(set, name, &options, nullptr), CANO_OK);
  }
  cano_resource_options bare = CANO_RESOURCE_OPTIONS_INIT;  // no hooks at all
  bare.type = "Bare";
  ASSERT_EQ(cano_resources_insert(set, "bare", &bare, nullptr), CANO_OK);
  EXPECT_TRUE(journal_.events.empty());
  cano_resources_destroy(set);
  EXPECT_EQ(journal_.events,
            (std::vector<std::string>{"destroy:third", "destroy:second", "destroy:first"}));
}

TEST_F(ResourcesCapiTest, StoresAreRetainedByTheSet) {
  cano_store* store = nullptr;
  ASSERT_EQ(cano_store_create(&store, nullptr), CANO_OK);
  ASSERT_EQ(cano_resources_insert_store(resources_, "store", store, nullptr), CANO_OK);
  ErrorSlot err;
  EXPECT_EQ(cano_resources_insert_store(resources_, "store", store, err.out()),
            CANO_E_RESOURCE_DUPLICATE_KEY);
  cano_store_destroy(store);  // The set's own reference keeps it alive.

  cano_store* found = nullptr;
  ASSERT_EQ(cano_resources_get_store(&found, resources_, "store", err.out()), CANO_OK);
  ASSERT_EQ(found, store);
  ASSERT_EQ(cano_store_put_json(found, "k", "1", nullptr), CANO_OK);
  void* object = nullptr;
  ASSERT_EQ(cano_resources_get(&object, resources_, "store", CANO_STORE_TYPE, nullptr), CANO_OK);
  EXPECT_EQ(object, store);
  EXPECT_EQ(cano_store_len(static_cast<cano_store*>(object)), 1u);

  add("db");
  EXPECT_EQ(cano_resources_get_store(&found, resources_, "db", err.out()),
            CANO_E_RESOURCE_TYPE_MISMATCH);
  EXPECT_EQ(found, nullptr);
  EXPECT_NE(err.message().find("'db'"), std::string::npos);
  EXPECT_EQ(cano_resources_get_store(&found, resources_, "nope", err.out()),
            CANO_E_RESOURCE_NOT_FOUND);
  EXPECT_NE(err.message().find("'nope'"), std::string::npos);

  // A store's health is always healthy.
  cano_health_level level = CANO_HEALTH_UNHEALTHY;
  ASSERT_EQ(cano_resources_health(&level, nullptr, resources_, "store", nullptr), CANO_OK);
  EXPECT_EQ(level, CANO_HEALTH_HEALTHY);
}

TEST_F(ResourcesCapiTest, HealthOfOneResource) {
  add("db", CANO_HEALTH_DEGRADED, "replica lag");
  add("cache");
  cano_health_level level = CANO_HEALTH_HEALTHY;
  char* message = nullptr;
  ASSERT_EQ(cano_resources_health(&level, &message, resources_, "db", nullptr), CANO_OK);
  EXPECT_EQ(level, CANO_HEALTH_DEGRADED);
  EXPECT_EQ(take(message), "replica lag");
  message = reinterpret_cast<char*>(1);
  ASSERT_EQ(cano_resources_health(&level, &message, resources_, "cache", nullptr), CANO_OK);
  EXPECT_EQ(level, CANO_HEALTH_HEALTHY);
  EXPECT_EQ(message, nullptr);
  ErrorSlot err;
  EXPECT_EQ(cano_resources_health(&level, &message, resources_, "nope", err.out()),
            CANO_E_RESOURCE_NOT_FOUND);
  EXPECT_NE(err.message().find("'nope'"), std::string::npos);
}

TEST_F(ResourcesCapiTest, AggregateHealthReportsTheFirstWorst) {
  cano_health_level level = CANO_HEALTH_UNHEALTHY;
  char* message = reinterpret_cast<char*>(1);
  char* key = reinterpret_cast<char*>(1);
  ASSERT_EQ(cano_resources_aggregate_health(&level, &message, &key, resources_, nullptr), CANO_OK);
  EXPECT_EQ(level, CANO_HEALTH_HEALTHY);  // empty set
  EXPECT_EQ(message, nullptr);
  EXPECT_EQ(key, nullptr);

  add("a");
  add("b", CANO_HEALTH_DEGRADED, "slow");
  ASSERT_EQ(cano_resources_aggregate_health(&level, &message, &key, resources_, nullptr), CANO_OK);
  EXPECT_EQ(level, CANO_HEALTH_DEGRADED);
  EXPECT_EQ(take(message), "slow");
  EXPECT_EQ(take(key), "b");

  add("c", CANO_HEALTH_UNHEALTHY, "down");
  add("d", CANO_HEALTH_UNHEALTHY, "down too");
  ASSERT_EQ(cano_resources_aggregate_health(&level, &message, &key, resources_, nullptr), CANO_OK);
  EXPECT_EQ(level, CANO_HEALTH_UNHEALTHY);
  EXPECT_EQ(take(message), "down");
  EXPECT_EQ(take(key), "c");
  // The message and key out-parameters are optional.
  ASSERT_EQ(cano_resources_aggregate_health(&level, nullptr, nullptr, resources_, nullptr),
            CANO_OK);
  EXPECT_EQ(level, CANO_HEALTH_UNHEALTHY);
}

TEST_F(ResourcesCapiTest, CheckAllHealthIsJsonInInsertionOrder) {
  char* text = nullptr;
  ASSERT_EQ(cano_resources_check_all_health(&text, resources_, nullptr), CANO_OK);
  EXPECT_EQ(take(text), "{}");
  add("zeta");
  add("alpha", CANO_HEALTH_UNHEALTHY, "say \"hi\"");
  add("mid", CANO_HEALTH_DEGRADED, nullptr);
  ASSERT_EQ(cano_resources_check_all_health(&text, resources_, nullptr), CANO_OK);
  EXPECT_EQ(take(text),
            "{\"zeta\":{\"status\":\"healthy\",\"message\":null},"
            "\"alpha\":{\"status\":\"unhealthy\",\"message\":\"say \\\"hi\\\"\"},"
            "\"mid\":{\"status\":\"degraded\",\"message\":null}}");
}

TEST_F(ResourcesCapiTest, LookupsFromSeveralThreads) {
  add("db");
  cano_store* store = nullptr;
  ASSERT_EQ(cano_store_create(&store, nullptr), CANO_OK);
  ASSERT_EQ(cano_resources_insert_store(resources_, "store", store, nullptr), CANO_OK);
  cano_store_destroy(store);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this, t] {
      std::string key = "worker" + std::to_string(t);
      cano_resource_options options = options_for(new Res{&journal_, key});
      EXPECT_EQ(cano_resources_insert(resources_, key.c_str(), &options, nullptr), CANO_OK);
      for (int i = 0; i < 100; ++i) {
        void* object = nullptr;
        EXPECT_EQ(cano_resources_get(&object, resources_, "db", "Res", nullptr), CANO_OK);
        cano_store* found = nullptr;
        EXPECT_EQ(cano_resources_get_store(&found, resources_, "store", nullptr), CANO_OK);
        EXPECT_EQ(cano_store_append_json(found, "seen", "1", nullptr), CANO_OK);
        EXPECT_EQ(cano_resources_contains(resources_, key.c_str()), 1);
        cano_health_level level;
        EXPECT_EQ(cano_resources_aggregate_health(&level, nullptr, nullptr, resources_, nullptr),
                  CANO_OK);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(cano_resources_len(resources_), 6u);
  cano_store* found = nullptr;
  ASSERT_EQ(cano_resources_get_store(&found, resources_, "store", nullptr), CANO_OK);
  char* text = nullptr;
  ASSERT_EQ(cano_store_get_json(&text, found, "seen", nullptr), CANO_OK);
  std::string seen = take(text);
  EXPECT_EQ(std::count(seen.begin(), seen.end(), '1'), 400);
}

// --- The lifecycle as runs see it (setup before, teardown after each run) ---

// A resource whose setup and teardown record themselves and can be told to fail.
struct Life {
  Journal* journal;
  std::string name;
  bool fail_setup = false;
  bool fail_teardown = false;
};

cano_status setup_life(cano_error** err, void* object) {
  auto* life = static_cast<Life*>(object);
  life->journal->add("setup:" + life->name);
  if (!life->fail_setup) return CANO_OK;
  *err = cano_error_new(CANO_E_USER, "no route to host");
  return CANO_E_USER;
}

cano_status teardown_life(cano_error** err, void* object) {
  auto* life = static_cast<Life*>(object);
  life->journal->add("teardown:" + life->name);
  if (!life->fail_teardown) return CANO_OK;
  *err = cano_error_new(CANO_E_USER, "close failed");
  return CANO_E_USER;
}

void destroy_life(void* object) {
  auto* life = static_cast<Life*>(object);
  life->journal->add("destroy:" + life->name);
  delete life;
}

struct Capture {
  std::mutex mutex;
  std::vector<std::string> warnings;
};

void capture_log(cano_log_level level, const char* message, void* user_data) {
  auto* capture = static_cast<Capture*>(user_data);
  std::lock_guard<std::mutex> lock(capture->mutex);
  if (level == CANO_LOG_WARN) capture->warnings.emplace_back(message);
}

constexpr int32_t kWork = 0;
constexpr int32_t kDone = 1;

// The one task of the lifecycle workflow: it records itself, checks that its resource is there,
// and moves to the exit state.
cano_status work(cano_task_ctx* ctx, void* user_data) {
  auto* journal = static_cast<Journal*>(user_data);
  void* object = nullptr;
  cano_status found =
      cano_resources_get(&object, cano_task_ctx_resources(ctx), "a", "Life", nullptr);
  journal->add(found == CANO_OK ? "task" : "task-without-a");
  return cano_task_ctx_next(ctx, kDone);
}

class ResourceLifecycleCapiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(cano_resources_create(&resources_, nullptr), CANO_OK);
    cano_engine_options options = CANO_ENGINE_OPTIONS_INIT;
    options.worker_threads = 2;
    ASSERT_EQ(cano_engine_create(&engine_, &options, nullptr), CANO_OK);
  }
  void TearDown() override {
    cano_workflow_destroy(workflow_);
    cano_engine_destroy(engine_);
    cano_resources_destroy(resources_);
  }

  Life* add(const std::string& name) {
    auto* life = new Life{&journal_, name};
    cano_resource_options options = CANO_RESOURCE_OPTIONS_INIT;
    options.type = "Life";
    options.object = life;
    options.setup = setup_life;
    options.teardown = teardown_life;
    options.destroy = destroy_life;
    EXPECT_EQ(cano_resources_insert(resources_, name.c_str(), &options, nullptr), CANO_OK);
    return life;
  }

  // Builds the workflow over the set on first use, then runs it once and waits.
  cano_status run(cano_error** err) {
    if (workflow_ == nullptr) {
      EXPECT_EQ(cano_workflow_create(&workflow_, resources_, nullptr), CANO_OK);
      EXPECT_EQ(cano_workflow_add_state(workflow_, kWork, "Work", nullptr), CANO_OK);
      EXPECT_EQ(cano_workflow_add_state(workflow_, kDone, "Done", nullptr), CANO_OK);
      cano_task_options task = CANO_TASK_OPTIONS_INIT;
      task.run = work;
      task.user_data = &journal_;
      task.mode = CANO_TASK_WORKER;
      cano_task_options_retry_none(&task);
      EXPECT_EQ(cano_workflow_register(workflow_, kWork, &task, nullptr), CANO_OK);
      EXPECT_EQ(cano_workflow_add_exit_state(workflow_, kDone, nullptr), CANO_OK);
    }
    int32_t final_state = -1;
    return cano_run_wait(&final_state, engine_, workflow_, kWork, err);
  }

  std::vector<std::string> events() {
    std::lock_guard<std::mutex> lock(journal_.mutex);
    return journal_.events;
  }

  Journal journal_;
  cano_resources* resources_ = nullptr;
  cano_engine* engine_ = nullptr;
  cano_workflow* workflow_ = nullptr;
};

TEST_F(ResourceLifecycleCapiTest, SetupInInsertionOrderTeardownInReverseAroundEveryRun) {
  add("a");
  add("b");
  add("c");
  ErrorSlot err;
  ASSERT_EQ(run(err.out()), CANO_OK) << err.message();
  ASSERT_EQ(run(err.out()), CANO_OK) << err.message();
  const std::vector<std::string> once = {"setup:a",    "setup:b",    "setup:c",   "task",
                                         "teardown:c", "teardown:b", "teardown:a"};
  std::vector<std::string> twice = once;
  twice.insert(twice.end(), once.begin(), once.end());
  EXPECT_EQ(events(), twice);
}

TEST_F(ResourceLifecycleCapiTest, FailedSetupRollsBackTheEarlierOnesAndFailsTheRun) {
  add("a");
  add("b");
  add("c")->fail_setup = true;
  add("d");
  ErrorSlot err;
  EXPECT_EQ(run(err.out()), CANO_E_USER);
  EXPECT_EQ(err.code(), CANO_E_USER);
  EXPECT_NE(err.message().find("'c'"), std::string::npos) << err.message();
  EXPECT_NE(err.message().find("no route to host"), std::string::npos) << err.message();
  // c failed, so it is not torn down; d was never set up; the task never ran.
  EXPECT_EQ(events(), (std::vector<std::string>{"setup:a", "setup:b", "setup:c", "teardown:b",
                                                "teardown:a"}));
}

TEST_F(ResourceLifecycleCapiTest, TeardownErrorsAreLoggedAndNeverStopTheOthers) {
  Capture capture;
  ASSERT_EQ(cano_log_set_handler(capture_log, &capture, nullptr), CANO_OK);
  add("a")->fail_teardown = true;
  add("b")->fail_teardown = true;
  add("c");
  ErrorSlot err;
  EXPECT_EQ(run(err.out()), CANO_OK) << err.message();
  ASSERT_EQ(cano_log_set_handler(nullptr, nullptr, nullptr), CANO_OK);
  EXPECT_EQ(events(), (std::vector<std::string>{"setup:a", "setup:b", "setup:c", "task",
                                                "teardown:c", "teardown:b", "teardown:a"}));
  std::lock_guard<std::mutex> lock(capture.mutex);
  ASSERT_EQ(capture.warnings.size(), 2u);
  EXPECT_NE(capture.warnings[0].find("resource teardown error"), std::string::npos);
  EXPECT_NE(capture.warnings[0].find("'b'"), std::string::npos) << capture.warnings[0];
  EXPECT_NE(capture.warnings[0].find("close failed"), std::string::npos);
  EXPECT_NE(capture.warnings[1].find("'a'"), std::string::npos) << capture.warnings[1];
}

TEST_F(ResourceLifecycleCapiTest, ASetThatARunUsedIsFrozen) {
  add("a");
  ErrorSlot err;
  ASSERT_EQ(run(err.out()), CANO_OK) << err.message();
  auto* late = new Life{&journal_, "late"};
  cano_resource_options options = CANO_RESOURCE_OPTIONS_INIT;
  options.type = "Life";
  options.object = late;
  options.destroy = destroy_life;
  EXPECT_EQ(cano_resources_insert(resources_, "late", &options, err.out()), CANO_E_BAD_STATE);
  EXPECT_NE(err.message().find("'late'"), std::string::npos) << err.message();
  cano_store* store = nullptr;
  ASSERT_EQ(cano_store_create(&store, nullptr), CANO_OK);
  EXPECT_EQ(cano_resources_insert_store(resources_, "store", store, err.out()), CANO_E_BAD_STATE);
  cano_store_destroy(store);
  EXPECT_EQ(events().back(), "destroy:late");
  EXPECT_EQ(cano_resources_len(resources_), 1u);
}

}  // namespace
