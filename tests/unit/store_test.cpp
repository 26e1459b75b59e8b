// Unit tests of the MemoryStore core (src/store.hpp): values, exact errors, ownership of native
// objects and atomicity of the appends.
#include "src/store.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "src/error.hpp"

namespace {

using cano::detail::Failure;

// Runs `body` and returns the Failure it throws; fails the test when it throws nothing.
template <class Body>
cano::detail::Error failure_of(Body&& body) {
  try {
    body();
  } catch (const Failure& failure) {
    return failure.error();
  }
  ADD_FAILURE() << "expected a Failure";
  return {};
}

struct Tracked {
  explicit Tracked(int v, std::atomic<int>* c) : value(v), destroyed(c) {}
  int value;
  std::atomic<int>* destroyed;
};

void destroy_tracked(void* object) {
  auto* tracked = static_cast<Tracked*>(object);
  tracked->destroyed->fetch_add(1);
  delete tracked;
}

class StoreTest : public ::testing::Test {
 protected:
  ~StoreTest() override { cano::detail::release(store_); }
  cano_store* store_ = new cano_store();
};

TEST_F(StoreTest, BytesRoundTripIncludingEmbeddedZeros) {
  const char data[] = {'a', '\0', 'b'};
  store_->put_bytes("k", data, sizeof data);
  EXPECT_EQ(store_->get_bytes("k"), std::string(data, sizeof data));
  store_->put_bytes("empty", nullptr, 0);
  EXPECT_EQ(store_->get_bytes("empty"), "");
  EXPECT_EQ(store_->kind("k").kind, CANO_VALUE_BYTES);
  EXPECT_EQ(store_->kind("k").type, "bytes");
}

TEST_F(StoreTest, MissingKeyHasCanoText) {
  cano::detail::Error error = failure_of([&] { store_->get_bytes("nope"); });
  EXPECT_EQ(error.code, CANO_E_STORE_KEY_NOT_FOUND);
  EXPECT_EQ(error.message, "Key not found: Key 'nope' not found in store");
  EXPECT_EQ(error.display(), "Store error: Key not found: Key 'nope' not found in store");
  EXPECT_EQ(failure_of([&] { store_->kind("nope"); }).code, CANO_E_STORE_KEY_NOT_FOUND);
  EXPECT_EQ(failure_of([&] { store_->get_json("nope"); }).code, CANO_E_STORE_KEY_NOT_FOUND);
  EXPECT_EQ(failure_of([&] { store_->get_object("nope", "t"); }).code, CANO_E_STORE_KEY_NOT_FOUND);
}

TEST_F(StoreTest, TypeMatchingIsExact) {
  std::atomic<int> destroyed{0};
  store_->put_json("j", "[1,2]");
  store_->put_bytes("b", "x", 1);
  store_->put_object("o", "int32", new Tracked(1, &destroyed), destroy_tracked);

  cano::detail::Error error = failure_of([&] { store_->get_bytes("j"); });
  EXPECT_EQ(error.code, CANO_E_STORE_TYPE_MISMATCH);
  EXPECT_EQ(error.message, "Type mismatch: Cannot downcast value for key 'j' to requested type");
  EXPECT_EQ(failure_of([&] { store_->get_json("b"); }).code, CANO_E_STORE_TYPE_MISMATCH);
  EXPECT_EQ(failure_of([&] { store_->get_object("o", "int64"); }).code, CANO_E_STORE_TYPE_MISMATCH);
  EXPECT_EQ(failure_of([&] { store_->get_object("b", "bytes"); }).code, CANO_E_STORE_TYPE_MISMATCH);
  EXPECT_EQ(static_cast<Tracked*>(store_->get_object("o", "int32")->get())->value, 1);
  EXPECT_EQ(store_->kind("o").type, "int32");
  EXPECT_EQ(store_->kind("j").kind, CANO_VALUE_JSON);
  // The object's destroy hook counts into `destroyed`, which lives on this frame: free it here.
  store_->clear();
  EXPECT_EQ(destroyed.load(), 1);
}

TEST_F(StoreTest, InvalidJsonIsRejectedAndKeepsTheOldValue) {
  store_->put_json("k", " {\"a\": 1} ");
  for (const char* bad : {"", "{", "1 2", "[1,]", "nul"}) {
    cano::detail::Error error = failure_of([&] { store_->put_json("k", bad); });
    EXPECT_EQ(error.code, CANO_E_INVALID_ARGUMENT) << bad;
    EXPECT_NE(error.message.find("'k'"), std::string::npos) << error.message;
  }
  EXPECT_EQ(store_->get_json("k"), " {\"a\": 1} ");  // stored as given
}

TEST_F(StoreTest, ReplacedObjectLivesWhileAReaderHoldsIt) {
  std::atomic<int> destroyed{0};
  store_->put_object("o", "t", new Tracked(1, &destroyed), destroy_tracked);
  cano::detail::ObjectPtr held = store_->get_object("o", "t");
  store_->put_object("o", "t", new Tracked(2, &destroyed), destroy_tracked);
  EXPECT_EQ(destroyed.load(), 0);
  EXPECT_EQ(static_cast<Tracked*>(held->get())->value, 1);
  held.reset();
  EXPECT_EQ(destroyed.load(), 1);
  store_->remove("o");
  EXPECT_EQ(destroyed.load(), 2);
}

TEST_F(StoreTest, DestroyingTheStoreDestroysItsObjects) {
  std::atomic<int> destroyed{0};
  auto* store = new cano_store();
  store->put_object("a", "t", new Tracked(1, &destroyed), destroy_tracked);
  store->put_object("b", "t", new Tracked(2, &destroyed), destroy_tracked);
  cano::detail::release(store);
  EXPECT_EQ(destroyed.load(), 2);
}

TEST_F(StoreTest, AppendJsonBuildsAndExtendsArrays) {
  store_->append_json("list", "1");
  store_->append_json("list", "{\"x\":\"y\"}");
  EXPECT_EQ(store_->get_json("list"), "[1,{\"x\":\"y\"}]");
  store_->put_json("existing", "[ true ]");
  store_->append_json("existing", "null");
  EXPECT_EQ(store_->get_json("existing"), "[true,null]");
}

TEST_F(StoreTest, AppendJsonToNonArrayFailsAndLeavesItUntouched) {
  store_->put_json("scalar", "\"[1]\"");
  store_->put_bytes("bytes", "ab", 2);
  cano::detail::Error error = failure_of([&] { store_->append_json("scalar", "1"); });
  EXPECT_EQ(error.code, CANO_E_STORE_APPEND_TYPE_MISMATCH);
  EXPECT_EQ(error.message,
            "Append type mismatch: Cannot append to key 'scalar': existing value is not a "
            "Vec<TState>");
  EXPECT_EQ(failure_of([&] { store_->append_json("bytes", "1"); }).code,
            CANO_E_STORE_APPEND_TYPE_MISMATCH);
  EXPECT_EQ(store_->get_json("scalar"), "\"[1]\"");
  EXPECT_EQ(store_->get_bytes("bytes"), "ab");
  EXPECT_EQ(failure_of([&] { store_->append_json("new", "[1,"); }).code, CANO_E_INVALID_ARGUMENT);
  EXPECT_FALSE(store_->contains("new"));
}

// The native list used by the append_object tests: a vector of ints.
using IntList = std::vector<int>;
void destroy_list(void* list) { delete static_cast<IntList*>(list); }

cano_status push_item(void** out, void (**out_destroy)(void*), const void* current, void* item) {
  auto* next = current ? new IntList(*static_cast<const IntList*>(current)) : new IntList();
  next->push_back(*static_cast<int*>(item));
  *out = next;
  *out_destroy = destroy_list;
  return CANO_OK;
}

cano_status refuse(void**, void (**)(void*), const void*, void*) { return CANO_E_USER; }

TEST_F(StoreTest, AppendObjectSwapsInANewListAndReadersKeepTheOld) {
  int one = 1;
  int two = 2;
  store_->append_object("l", "ints", push_item, &one);
  cano::detail::ObjectPtr before = store_->get_object("l", "ints");
  store_->append_object("l", "ints", push_item, &two);
  EXPECT_EQ(*static_cast<IntList*>(before->get()), IntList({1}));
  EXPECT_EQ(*static_cast<IntList*>(store_->get_object("l", "ints")->get()), IntList({1, 2}));

  cano::detail::Error error =
      failure_of([&] { store_->append_object("l", "floats", push_item, &one); });
  EXPECT_EQ(error.code, CANO_E_STORE_APPEND_TYPE_MISMATCH);
  EXPECT_NE(error.message.find("'l'"), std::string::npos);

  error = failure_of([&] { store_->append_object("l", "ints", refuse, nullptr); });
  EXPECT_EQ(error.code, CANO_E_USER);
  EXPECT_NE(error.message.find("'l'"), std::string::npos);
  EXPECT_EQ(*static_cast<IntList*>(store_->get_object("l", "ints")->get()), IntList({1, 2}));
}

TEST_F(StoreTest, KeysAreSortedAndClearEmpties) {
  for (const char* key : {"b", "a", "c", "B"}) store_->put_bytes(key, nullptr, 0);
  EXPECT_EQ(store_->keys(), (std::vector<std::string>{"B", "a", "b", "c"}));
  EXPECT_EQ(store_->keys_json(), "[\"B\",\"a\",\"b\",\"c\"]");
  EXPECT_EQ(store_->size(), 4u);
  store_->remove("missing");  // silent
  store_->remove("a");
  EXPECT_FALSE(store_->contains("a"));
  store_->clear();
  EXPECT_EQ(store_->size(), 0u);
  EXPECT_EQ(store_->keys_json(), "[]");
}

TEST_F(StoreTest, ConcurrentAppendsAreAtomic) {
  constexpr int kThreads = 4;
  constexpr int kItems = 100;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < kItems; ++i) {
        store_->append_json("log", std::to_string(t * kItems + i).c_str());
        int value = i;
        store_->append_object("ints", "ints", push_item, &value);
        store_->put_bytes("t" + std::to_string(t), &i, sizeof i);
        (void)store_->get_object("ints", "ints");
        (void)store_->keys_json();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(static_cast<IntList*>(store_->get_object("ints", "ints")->get())->size(),
            size_t{kThreads * kItems});
  std::string log = store_->get_json("log");
  EXPECT_EQ(std::count(log.begin(), log.end(), ','), kThreads * kItems - 1);
}

}  // namespace
