// Unit tests of the resource dictionary core (src/resources.hpp): lookups and their exact
// errors, ownership of inserted objects, cano's setup/rollback/teardown order, health.
#include "src/resources.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "src/error.hpp"
#include "src/log.hpp"
#include "src/store.hpp"

namespace {

using cano::detail::Error;
using cano::detail::Failure;

template <class Body>
Error failure_of(Body&& body) {
  try {
    body();
  } catch (const Failure& failure) {
    return failure.error();
  }
  ADD_FAILURE() << "expected a Failure";
  return {};
}

// Every callback appends "<event>:<name>" here, so a test can compare whole sequences.
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
  cano_status setup_status = CANO_OK;
  bool setup_gives_error = false;
  cano_status teardown_status = CANO_OK;
  cano_health_level level = CANO_HEALTH_HEALTHY;
  const char* message = nullptr;
};

cano_status setup_res(cano_error** err, void* object) {
  auto* res = static_cast<Res*>(object);
  res->journal->add("setup:" + res->name);
  if (res->setup_status != CANO_OK && res->setup_gives_error) {
    *err = cano::detail::to_handle(Error(res->setup_status, "cannot connect"));
  }
  return res->setup_status;
}

cano_status teardown_res(cano_error** err, void* object) {
  auto* res = static_cast<Res*>(object);
  res->journal->add("teardown:" + res->name);
  if (res->teardown_status != CANO_OK) {
    *err = cano::detail::to_handle(Error(res->teardown_status, "cannot close " + res->name));
  }
  return res->teardown_status;
}

cano_health_level health_res(const char** message, void* object) {
  auto* res = static_cast<Res*>(object);
  *message = res->message;
  return res->level;
}

void destroy_res(void* object) {
  auto* res = static_cast<Res*>(object);
  res->journal->add("destroy:" + res->name);
  delete res;
}

cano_resource_options options_for(Res* res) {
  cano_resource_options options = CANO_RESOURCE_OPTIONS_INIT;
  options.type = "Res";
  options.object = res;
  options.setup = setup_res;
  options.teardown = teardown_res;
  options.health = health_res;
  options.destroy = destroy_res;
  return options;
}

class ResourcesTest : public ::testing::Test {
 protected:
  ~ResourcesTest() override { cano::detail::release(resources_); }

  Res* add(const std::string& name) {
    auto* res = new Res{&journal_, name};
    resources_->insert(name, options_for(res));
    return res;
  }

  Journal journal_;
  cano_resources* resources_ = new cano_resources();
};

TEST_F(ResourcesTest, LookupByKeyAndExactType) {
  Res* db = add("db");
  EXPECT_EQ(resources_->get("db", "Res"), db);
  EXPECT_EQ(resources_->size(), 1u);
  EXPECT_TRUE(resources_->contains("db"));
  EXPECT_FALSE(resources_->contains("cache"));

  Error error = failure_of([&] { resources_->get("cache", "Res"); });
  EXPECT_EQ(error.code, CANO_E_RESOURCE_NOT_FOUND);
  EXPECT_EQ(error.message,
            "no resource found for the given key (requested type: Res) (key 'cache')");

  error = failure_of([&] { resources_->get("db", "Pool"); });
  EXPECT_EQ(error.code, CANO_E_RESOURCE_TYPE_MISMATCH);
  EXPECT_EQ(error.message,
            "resource found but the requested type Pool does not match the stored type (key "
            "'db', stored type Res)");
}

TEST_F(ResourcesTest, RejectedInsertsStillDestroyTheObject) {
  add("db");
  auto* duplicate = new Res{&journal_, "dup"};
  Error error = failure_of([&] { resources_->insert("db", options_for(duplicate)); });
  EXPECT_EQ(error.code, CANO_E_RESOURCE_DUPLICATE_KEY);
  EXPECT_EQ(error.message, "duplicate resource key inserted into Resources (key 'db')");

  cano_resource_options untyped = options_for(new Res{&journal_, "untyped"});
  untyped.type = "";
  EXPECT_EQ(failure_of([&] { resources_->insert("x", untyped); }).code, CANO_E_INVALID_ARGUMENT);

  cano_resource_options reserved = options_for(new Res{&journal_, "reserved"});
  reserved.type = CANO_STORE_TYPE;
  EXPECT_EQ(failure_of([&] { resources_->insert("y", reserved); }).code, CANO_E_INVALID_ARGUMENT);

  resources_->freeze();
  error = failure_of([&] { resources_->insert("late", options_for(new Res{&journal_, "late"})); });
  EXPECT_EQ(error.code, CANO_E_BAD_STATE);
  EXPECT_NE(error.message.find("'late'"), std::string::npos);

  EXPECT_EQ(journal_.events, (std::vector<std::string>{"destroy:dup", "destroy:untyped",
                                                       "destroy:reserved", "destroy:late"}));
  EXPECT_EQ(resources_->size(), 1u);
}

TEST_F(ResourcesTest, DestroyHooksRunInReverseOrderAndStoresAreReleased) {
  auto* resources = new cano_resources();
  auto* store = new cano_store();
  for (const char* name : {"a", "b", "c"}) {
    resources->insert(name, options_for(new Res{&journal_, name}));
  }
  resources->insert_store("store", store);
  EXPECT_EQ(store->use_count(), 2u);
  EXPECT_EQ(resources->get_store("store"), store);
  EXPECT_EQ(resources->get("store", CANO_STORE_TYPE), store);
  EXPECT_TRUE(resources->has_lifecycle());
  cano::detail::release(resources);
  EXPECT_EQ(journal_.events, (std::vector<std::string>{"destroy:c", "destroy:b", "destroy:a"}));
  EXPECT_EQ(store->use_count(), 1u);
  cano::detail::release(store);
}

TEST_F(ResourcesTest, StoresHaveNoLifecycle) {
  auto* store = new cano_store();
  resources_->insert_store("store", store);
  cano::detail::release(store);  // The set keeps its own reference.
  resources_->get_store("store")->put_bytes("k", "v", 1);
  EXPECT_EQ(resources_->get_store("store")->get_bytes("k"), "v");
  EXPECT_FALSE(resources_->has_lifecycle());
  EXPECT_EQ(failure_of([&] { resources_->get_store("nope"); }).code, CANO_E_RESOURCE_NOT_FOUND);
}

TEST_F(ResourcesTest, SetupInOrderTeardownInReverse) {
  add("a");
  add("b");
  add("c");
  EXPECT_TRUE(resources_->has_lifecycle());
  EXPECT_FALSE(resources_->setup_all().has_value());
  EXPECT_TRUE(resources_->frozen());
  resources_->teardown_all();
  EXPECT_EQ(journal_.events, (std::vector<std::string>{"setup:a", "setup:b", "setup:c",
                                                       "teardown:c", "teardown:b", "teardown:a"}));
}

TEST_F(ResourcesTest, FailedSetupRollsBackTheEarlierOnesOnly) {
  add("a");
  add("b");
  Res* c = add("c");
  add("d");
  c->setup_status = CANO_E_USER;
  c->setup_gives_error = true;
  std::optional<Error> error = resources_->setup_all();
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code, CANO_E_USER);
  EXPECT_EQ(error->message, "setup of resource 'c' failed: cannot connect");
  EXPECT_EQ(journal_.events, (std::vector<std::string>{"setup:a", "setup:b", "setup:c",
                                                       "teardown:b", "teardown:a"}));
}

TEST_F(ResourcesTest, SetupStatusWithoutErrorObject) {
  Res* a = add("a");
  a->setup_status = CANO_E_TIMEOUT;
  std::optional<Error> error = resources_->setup_all();
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code, CANO_E_TIMEOUT);
  EXPECT_NE(error->message.find("'a'"), std::string::npos);

  a->setup_status = 7;  // not an error code at all
  error = resources_->setup_all();
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code, CANO_E_GENERIC);
}

struct Captured {
  std::mutex mutex;
  std::vector<std::string> lines;
};

void capture(cano_log_level level, const char* message, void* user_data) {
  auto* captured = static_cast<Captured*>(user_data);
  std::lock_guard<std::mutex> lock(captured->mutex);
  if (level == CANO_LOG_WARN) captured->lines.emplace_back(message);
}

TEST_F(ResourcesTest, TeardownErrorsAreLoggedAndNeverStopTheSequence) {
  Captured captured;
  cano::detail::set_log_handler(capture, &captured, nullptr);
  add("a")->teardown_status = CANO_E_USER;
  add("b");
  add("c")->teardown_status = CANO_E_TIMEOUT;
  resources_->teardown_all();
  cano::detail::set_log_handler(nullptr, nullptr, nullptr);

  EXPECT_EQ(journal_.events, (std::vector<std::string>{"teardown:c", "teardown:b", "teardown:a"}));
  ASSERT_EQ(captured.lines.size(), 2u);
  EXPECT_EQ(captured.lines[0],
            "resource teardown error: resource 'c': Timeout error: cannot close c");
  EXPECT_EQ(captured.lines[1], "resource teardown error: resource 'a': API error: cannot close a");
}

TEST_F(ResourcesTest, HealthProbesAndAggregation) {
  EXPECT_EQ(resources_->aggregate_health(nullptr).level, CANO_HEALTH_HEALTHY);
  EXPECT_EQ(resources_->check_all_health_json(), "{}");

  add("z");
  Res* y = add("y");
  Res* x = add("x");
  Res* w = add("w");
  y->level = CANO_HEALTH_DEGRADED;
  y->message = "slow";
  x->level = CANO_HEALTH_UNHEALTHY;
  x->message = "down";
  w->level = CANO_HEALTH_UNHEALTHY;
  w->message = "also down";

  std::string worst;
  cano_resources::Health health = resources_->aggregate_health(&worst);
  EXPECT_EQ(health.level, CANO_HEALTH_UNHEALTHY);
  EXPECT_EQ(health.message, std::optional<std::string>("down"));
  EXPECT_EQ(worst, "x");  // the first of the two unhealthy ones

  EXPECT_EQ(resources_->health_of("y").message, std::optional<std::string>("slow"));
  EXPECT_EQ(resources_->health_of("z").level, CANO_HEALTH_HEALTHY);
  EXPECT_FALSE(resources_->health_of("z").message.has_value());
  EXPECT_EQ(failure_of([&] { resources_->health_of("nope"); }).code, CANO_E_RESOURCE_NOT_FOUND);

  EXPECT_EQ(resources_->check_all_health_json(),
            "{\"z\":{\"status\":\"healthy\",\"message\":null},"
            "\"y\":{\"status\":\"degraded\",\"message\":\"slow\"},"
            "\"x\":{\"status\":\"unhealthy\",\"message\":\"down\"},"
            "\"w\":{\"status\":\"unhealthy\",\"message\":\"also down\"}}");

  w->level = static_cast<cano_health_level>(9);
  EXPECT_EQ(resources_->health_of("w").level, CANO_HEALTH_UNHEALTHY);
}

TEST_F(ResourcesTest, InsertsAndLookupsFromSeveralThreads) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < 50; ++i) {
        std::string key = "r" + std::to_string(t) + "_" + std::to_string(i);
        resources_->insert(key, options_for(new Res{&journal_, key}));
        EXPECT_TRUE(resources_->contains(key));
        (void)resources_->aggregate_health(nullptr);
        (void)resources_->size();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(resources_->size(), 200u);
}

}  // namespace
