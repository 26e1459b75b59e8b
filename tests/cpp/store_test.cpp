// cano::memory_store: typed values, exact type matching, shared reads, appends, JSON, bytes.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "cano/cano.hpp"
#include "test_support.hpp"

namespace {

using cano_test::lifetime_counter;
using cano_test::tracked;

struct point {
  int x;
  int y;
};

TEST(CppStore, PutThenGetReturnsACopyOfTheValue) {
  cano::memory_store store;
  store.put("n", std::uint32_t{42});
  store.put("p", point{1, 2});
  EXPECT_EQ(store.get<std::uint32_t>("n"), 42u);
  EXPECT_EQ(store.get<point>("p").y, 2);
  store.put("n", std::uint32_t{7});  // replaces
  EXPECT_EQ(store.get<std::uint32_t>("n"), 7u);
}

TEST(CppStore, WrongTypeReadThrowsTypeMismatch) {
  cano::memory_store store;
  store.put("n", std::uint32_t{42});
  // Matching is exact, as in cano: a u32 is not readable as an i64.
  try {
    store.get<std::int64_t>("n");
    FAIL() << "no exception";
  } catch (const cano::type_mismatch_error& e) {
    EXPECT_EQ(e.code(), CANO_E_STORE_TYPE_MISMATCH);
    EXPECT_STREQ(e.category(), "store");
    EXPECT_STREQ(e.message(), "Type mismatch: Cannot downcast value for key 'n' to requested type");
  }
  EXPECT_THROW(store.get_shared<point>("n"), cano::store_error);
  EXPECT_EQ(store.get<std::uint32_t>("n"), 42u);  // the value is untouched
}

TEST(CppStore, MissingKeyThrowsKeyNotFound) {
  cano::memory_store store;
  try {
    store.get<int>("missing");
    FAIL() << "no exception";
  } catch (const cano::key_not_found_error& e) {
    EXPECT_STREQ(e.message(), "Key not found: Key 'missing' not found in store");
    EXPECT_STREQ(e.display(), "Store error: Key not found: Key 'missing' not found in store");
  }
}

TEST(CppStore, StringLiteralsAreStoredAsStdString) {
  cano::memory_store store;
  store.put("s", "hello");
  EXPECT_EQ(store.get<std::string>("s"), "hello");
  EXPECT_EQ(store.type_of("s"), cano::type_tag_of<std::string>());
  EXPECT_EQ(store.kind("s"), cano::value_kind::object);
}

TEST(CppStore, SharedReadOutlivesReplaceAndRemove) {
  cano::memory_store store;
  store.put("v", std::vector<int>{1, 2, 3});
  std::shared_ptr<const std::vector<int>> held = store.get_shared<std::vector<int>>("v");
  store.put("v", std::vector<int>{9});
  store.remove("v");
  EXPECT_FALSE(store.contains("v"));
  EXPECT_EQ(*held, (std::vector<int>{1, 2, 3}));
}

TEST(CppStore, StoredObjectsAreDestroyedExactlyOnce) {
  auto counter = std::make_shared<lifetime_counter>();
  {
    cano::memory_store store;
    store.put("a", tracked(counter));
    EXPECT_EQ(counter->alive(), 1);
    auto held = store.get_shared<tracked>("a");
    store.remove("a");
    EXPECT_EQ(counter->alive(), 1);  // the shared read keeps it
    held.reset();
    EXPECT_EQ(counter->alive(), 0);
    store.put("b", tracked(counter));
    store.put("b", tracked(counter));  // replacing destroys the first one
    EXPECT_EQ(counter->alive(), 1);
  }
  EXPECT_EQ(counter->alive(), 0);  // the store's end destroys the rest
  EXPECT_EQ(counter->constructed.load(), counter->destroyed.load());
}

TEST(CppStore, AppendBuildsAVectorAtomically) {
  cano::memory_store store;
  store.append<int>("list", 1);  // a missing key becomes {item}
  auto before = store.get_shared<std::vector<int>>("list");
  store.append<int>("list", 2);
  store.append("list", 3);
  EXPECT_EQ(store.get<std::vector<int>>("list"), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(*before, (std::vector<int>{1}));  // readers keep the list they got
}

TEST(CppStore, AppendExtendsAVectorThatWasPut) {
  cano::memory_store store;
  store.put("data", std::vector<std::uint32_t>{1, 2});
  store.append<std::uint32_t>("data", 3);
  EXPECT_EQ(store.get<std::vector<std::uint32_t>>("data"), (std::vector<std::uint32_t>{1, 2, 3}));
}

TEST(CppStore, AppendToAnotherTypeThrowsAndLeavesTheValue) {
  cano::memory_store store;
  store.put("x", 1);
  EXPECT_THROW(store.append<int>("x", 2), cano::append_type_mismatch_error);
  store.put("y", std::vector<long>{1});
  EXPECT_THROW(store.append<int>("y", 2), cano::append_type_mismatch_error);
  EXPECT_EQ(store.get<int>("x"), 1);
  EXPECT_EQ(store.get<std::vector<long>>("y"), (std::vector<long>{1}));
}

// An item whose copy throws on demand: append() copies the existing items into the new list.
struct fragile {
  std::shared_ptr<bool> fail_copies;
  explicit fragile(std::shared_ptr<bool> flag) : fail_copies(std::move(flag)) {}
  fragile(const fragile& other) : fail_copies(other.fail_copies) {
    if (*fail_copies) throw std::runtime_error("copy failed");
  }
  fragile(fragile&&) noexcept = default;
};

TEST(CppStore, AppendPropagatesTheItemsExceptionAndChangesNothing) {
  cano::memory_store store;
  auto flag = std::make_shared<bool>(false);
  store.append("f", fragile(flag));
  *flag = true;
  EXPECT_THROW(store.append("f", fragile(flag)), std::runtime_error);
  *flag = false;
  EXPECT_EQ(store.get<std::vector<fragile>>("f").size(), 1u);
}

TEST(CppStore, JsonRoundTripsAndIsItsOwnKind) {
  cano::memory_store store;
  store.put_json("j", "[1,2,3]");
  EXPECT_EQ(store.kind("j"), cano::value_kind::json);
  EXPECT_EQ(store.type_of("j"), "json");
  std::string text = store.get_json("j");
  EXPECT_NE(text.find('1'), std::string::npos);
  store.append_json("j", "4");
  EXPECT_NE(store.get_json("j").find('4'), std::string::npos);
  EXPECT_THROW(store.put_json("bad", "{not json"), cano::invalid_argument_error);
  EXPECT_THROW(store.get<int>("j"), cano::type_mismatch_error);
  EXPECT_THROW(store.get_bytes("j"), cano::type_mismatch_error);
  store.put("o", 1);
  EXPECT_THROW(store.append_json("o", "1"), cano::append_type_mismatch_error);
}

TEST(CppStore, BytesRoundTrip) {
  cano::memory_store store;
  store.put_bytes("b", std::string_view("a\0b", 3));
  EXPECT_EQ(store.kind("b"), cano::value_kind::bytes);
  EXPECT_EQ(store.get_bytes("b"), (std::vector<std::uint8_t>{'a', 0, 'b'}));
  store.put_bytes("empty", nullptr, 0);
  EXPECT_TRUE(store.get_bytes("empty").empty());
  EXPECT_THROW(store.get_json("b"), cano::type_mismatch_error);
}

TEST(CppStore, MapOperations) {
  cano::memory_store store;
  EXPECT_TRUE(store.empty());
  store.put("b", 1);
  store.put_json("a", "true");
  store.put_bytes("quote\"key \xc3\xbc", "x");
  EXPECT_EQ(store.len(), 3u);
  EXPECT_TRUE(store.contains("a"));
  EXPECT_FALSE(store.contains("zzz"));
  EXPECT_EQ(store.keys(), (std::vector<std::string>{"a", "b", "quote\"key \xc3\xbc"}));
  store.remove("a");
  store.remove("a");  // a missing key is not an error
  EXPECT_EQ(store.len(), 2u);
  store.clear();
  EXPECT_TRUE(store.empty());
  EXPECT_TRUE(store.keys().empty());
  EXPECT_THROW(store.kind("a"), cano::key_not_found_error);
}

TEST(CppStore, CopiesShareOneStore) {
  cano::memory_store a;
  cano::memory_store b = a;
  b.put("k", 5);
  EXPECT_EQ(a.get<int>("k"), 5);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, cano::memory_store());
}

TEST(CppStore, JsonStringArrayReaderHandlesEscapes) {
  auto items = cano::detail::parse_json_string_array(
      R"([ "a" , "b\"c", "\\", "\u00fc", "\ud83d\ude00", "tab\t" ])");
  EXPECT_EQ(items, (std::vector<std::string>{"a", "b\"c", "\\", "\xc3\xbc", "\xf0\x9f\x98\x80",
                                             "tab\t"}));
  EXPECT_TRUE(cano::detail::parse_json_string_array("[]").empty());
  EXPECT_THROW(cano::detail::parse_json_string_array("[1]"), std::runtime_error);
}

}  // namespace
