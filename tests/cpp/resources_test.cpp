// cano::resources outside a run: typed lookups, errors, stores, health, ownership.
#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "cano/cano.hpp"
#include "test_support.hpp"

namespace {

using cano_test::lifetime_counter;
using cano_test::tracked;

struct fetch_config {
  std::size_t batch_size;
};

struct slow_service {
  cano::health_status health() const { return cano::health_status::degraded("slow"); }
};

struct broken_service {
  cano::health_level health() const { return cano::health_level::unhealthy; }
};

struct throwing_probe {
  cano::health_status health() const { throw std::runtime_error("probe exploded"); }
};

// A struct a C program shares under the tag "example.Config".
struct shared_config {
  int batch_size;
};

}  // namespace

template <>
struct cano::type_tag<shared_config> {
  static const char* name() noexcept { return "example.Config"; }
};

namespace {

TEST(CppResources, InsertThenGetTyped) {
  cano::resources res;
  res.insert("config", fetch_config{3}).insert("name", "alpha");
  EXPECT_EQ(res.len(), 2u);
  EXPECT_TRUE(res.contains("config"));
  EXPECT_FALSE(res.contains("nope"));
  fetch_config& config = res.get<fetch_config>("config");
  EXPECT_EQ(config.batch_size, 3u);
  config.batch_size = 4;  // a reference to the object the set owns
  EXPECT_EQ(res.get<const fetch_config>("config").batch_size, 4u);
  EXPECT_EQ(res.get<std::string>("name"), "alpha");
}

TEST(CppResources, LookupErrorsMirrorCano) {
  cano::resources res;
  res.insert("config", fetch_config{3});
  try {
    res.get<int>("config");
    FAIL() << "no exception";
  } catch (const cano::resource_type_mismatch_error& e) {
    EXPECT_STREQ(e.category(), "resource_type_mismatch");
    EXPECT_NE(std::string(e.message()).find("does not match the stored type"), std::string::npos)
        << e.message();
  }
  try {
    res.get<fetch_config>("missing");
    FAIL() << "no exception";
  } catch (const cano::resource_not_found_error& e) {
    EXPECT_STREQ(e.category(), "resource_not_found");
    EXPECT_NE(std::string(e.what()).find("missing"), std::string::npos) << e.what();
  }
  EXPECT_THROW(res.get_store("config"), cano::resource_type_mismatch_error);
}

TEST(CppResources, DuplicateKeyThrowsAndDestroysTheRejectedValue) {
  auto counter = std::make_shared<lifetime_counter>();
  cano::resources res;
  res.insert("t", tracked(counter));
  EXPECT_EQ(counter->alive(), 1);
  EXPECT_THROW(res.insert("t", tracked(counter)), cano::resource_duplicate_key_error);
  EXPECT_EQ(counter->alive(), 1);  // the rejected copy is gone, the first one stays
  EXPECT_THROW(res.insert("", 1), cano::invalid_argument_error);
}

TEST(CppResources, ObjectsAreDestroyedExactlyOnceWithTheLastHandle) {
  auto counter = std::make_shared<lifetime_counter>();
  {
    cano::resources res;
    res.insert("a", tracked(counter)).insert("b", tracked(counter));
    cano::resources copy = res;  // copies share the set
    EXPECT_EQ(copy.native(), res.native());
    EXPECT_EQ(counter->alive(), 2);
  }
  EXPECT_EQ(counter->alive(), 0);
  EXPECT_EQ(counter->constructed.load(), counter->destroyed.load());
}

TEST(CppResources, StoresAreSharedWithTheCaller) {
  cano::memory_store store;
  cano::resources res;
  res.insert("store", store);
  cano::memory_store found = res.get_store("store");
  EXPECT_EQ(found, store);
  EXPECT_EQ(res.get<cano::memory_store>("store"), store);
  found.put("k", 1);
  EXPECT_EQ(store.get<int>("k"), 1);
}

TEST(CppResources, StoreHandleKeepsAnOwnedSetAlive) {
  cano::memory_store found = [] {
    cano::resources res;
    res.insert("store", cano::memory_store());
    return res.get_store("store");
  }();
  found.put("k", 2);  // the set (and its store) live on through the handle
  EXPECT_EQ(found.get<int>("k"), 2);
}

TEST(CppResources, HealthMembersAreDetected) {
  cano::resources res;
  res.insert("config", fetch_config{1})
      .insert("slow", slow_service{})
      .insert("broken", broken_service{})
      .insert("throws", throwing_probe{});
  EXPECT_TRUE(res.health("config").is_healthy());
  cano::health_status slow = res.health("slow");
  EXPECT_EQ(slow.level, cano::health_level::degraded);
  EXPECT_EQ(slow.message, "slow");
  EXPECT_EQ(res.health("broken").level, cano::health_level::unhealthy);
  cano::health_status thrown = res.health("throws");
  EXPECT_EQ(thrown.level, cano::health_level::unhealthy);
  EXPECT_EQ(thrown.message, "probe exploded");
  EXPECT_THROW(res.health("missing"), cano::resource_not_found_error);

  // cano's aggregate_health(): the first worst in insertion order.
  cano::health_report report = res.aggregate_health();
  EXPECT_EQ(report.status.level, cano::health_level::unhealthy);
  EXPECT_EQ(report.key, "broken");

  std::string all = res.check_all_health();
  EXPECT_NE(all.find("\"slow\""), std::string::npos) << all;
  EXPECT_NE(all.find("degraded"), std::string::npos) << all;
}

TEST(CppResources, EmptySetIsHealthy) {
  cano::resources res;
  EXPECT_TRUE(res.empty());
  cano::health_report report = res.aggregate_health();
  EXPECT_TRUE(report.status.is_healthy());
  EXPECT_EQ(report.key, "");
}

TEST(CppResources, SpecialisedTypeTagSharesAnObjectWithC) {
  // A C program inserts the struct under its own tag; the specialisation of cano::type_tag
  // lets the wrapper read it as the same type.
  cano::resources res;
  auto* object = new shared_config{5};
  cano_resource_options options = CANO_RESOURCE_OPTIONS_INIT;
  options.type = "example.Config";
  options.object = object;
  options.destroy = [](void* p) { delete static_cast<shared_config*>(p); };
  cano_error* err = nullptr;
  ASSERT_EQ(cano_resources_insert(res.native(), "config", &options, &err), CANO_OK);
  EXPECT_EQ(res.get<shared_config>("config").batch_size, 5);
  EXPECT_STREQ(cano::type_tag_of<shared_config>(), "example.Config");
  // A type without a specialisation has the wrapper's own tag, so it does not match.
  EXPECT_THROW(res.get<fetch_config>("config"), cano::resource_type_mismatch_error);
}

}  // namespace
