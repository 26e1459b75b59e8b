// C API tests of cano/store.h, through the public headers only.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstring>
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
  std::string display() const { return cano_error_display(err_); }

 private:
  cano_error* err_ = nullptr;
};

// Takes a string the library allocated and frees it.
std::string take(char* text) {
  std::string copy = text != nullptr ? text : "<NULL>";
  cano_free(text);
  return copy;
}

struct Counter {
  std::atomic<int> destroyed{0};
  std::atomic<int> value{0};
};

// A native object that counts its destruction in a shared counter.
struct Boxed {
  int value;
  Counter* counter;
};

void destroy_boxed(void* object) {
  auto* boxed = static_cast<Boxed*>(object);
  boxed->counter->destroyed.fetch_add(1);
  delete boxed;
}

class StoreCapiTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(cano_store_create(&store_, nullptr), CANO_OK); }
  void TearDown() override { cano_store_destroy(store_); }
  cano_store* store_ = nullptr;
};

TEST(StoreCapiNullTest, DestroyAndReleaseAreNullSafe) {
  cano_store_destroy(nullptr);
  cano_object_ref_release(nullptr);
  EXPECT_EQ(cano_object_ref_get(nullptr), nullptr);
  EXPECT_EQ(cano_store_contains(nullptr, "k"), 0);
  EXPECT_EQ(cano_store_len(nullptr), 0u);
  ErrorSlot err;
  EXPECT_EQ(cano_store_create(nullptr, err.out()), CANO_E_INVALID_ARGUMENT);
  EXPECT_EQ(err.category(), "api");
  EXPECT_NE(err.message().find("out"), std::string::npos);
}

TEST_F(StoreCapiTest, NullArgumentsAreNamed) {
  ErrorSlot err;
  void* bytes = nullptr;
  size_t len = 0;
  char* text = nullptr;
  cano_object_ref* ref = nullptr;
  cano_value_kind kind;
  EXPECT_EQ(cano_store_put_bytes(nullptr, "k", "x", 1, err.out()), CANO_E_INVALID_ARGUMENT);
  EXPECT_NE(err.message().find("store"), std::string::npos);
  EXPECT_EQ(cano_store_put_bytes(store_, nullptr, "x", 1, err.out()), CANO_E_INVALID_ARGUMENT);
  EXPECT_NE(err.message().find("key"), std::string::npos);
  EXPECT_EQ(cano_store_put_bytes(store_, "k", nullptr, 1, err.out()), CANO_E_INVALID_ARGUMENT);
  EXPECT_NE(err.message().find("data"), std::string::npos);
  EXPECT_EQ(cano_store_put_json(store_, "k", nullptr, err.out()), CANO_E_INVALID_ARGUMENT);
  EXPECT_NE(err.message().find("json"), std::string::npos);
  EXPECT_EQ(cano_store_get_bytes(&bytes, nullptr, store_, "k", err.out()), CANO_E_INVALID_ARGUMENT);
  EXPECT_NE(err.message().find("out_len"), std::string::npos);
  EXPECT_EQ(cano_store_get_bytes(nullptr, &len, store_, "k", err.out()), CANO_E_INVALID_ARGUMENT);
  EXPECT_EQ(cano_store_get_json(&text, store_, nullptr, err.out()), CANO_E_INVALID_ARGUMENT);
  EXPECT_EQ(cano_store_get_object(&ref, store_, "k", nullptr, err.out()), CANO_E_INVALID_ARGUMENT);
  EXPECT_NE(err.message().find("type"), std::string::npos);
  EXPECT_EQ(cano_store_kind(nullptr, nullptr, store_, "k", err.out()), CANO_E_INVALID_ARGUMENT);
  EXPECT_EQ(cano_store_kind(&kind, nullptr, nullptr, "k", err.out()), CANO_E_INVALID_ARGUMENT);
  EXPECT_EQ(cano_store_append_json(store_, "k", nullptr, err.out()), CANO_E_INVALID_ARGUMENT);
  EXPECT_NE(err.message().find("item_json"), std::string::npos);
  EXPECT_EQ(cano_store_append_object(store_, "k", "t", nullptr, nullptr, err.out()),
            CANO_E_INVALID_ARGUMENT);
  EXPECT_NE(err.message().find("fn"), std::string::npos);
  EXPECT_EQ(cano_store_remove(store_, nullptr, err.out()), CANO_E_INVALID_ARGUMENT);
  EXPECT_EQ(cano_store_keys(nullptr, store_, err.out()), CANO_E_INVALID_ARGUMENT);
  EXPECT_EQ(cano_store_keys(&text, nullptr, err.out()), CANO_E_INVALID_ARGUMENT);
  EXPECT_EQ(cano_store_clear(nullptr, err.out()), CANO_E_INVALID_ARGUMENT);
  EXPECT_EQ(err.category(), "api");
  // The error out-parameter is optional.
  EXPECT_EQ(cano_store_clear(nullptr, nullptr), CANO_E_INVALID_ARGUMENT);
  EXPECT_EQ(cano_store_len(store_), 0u);
}

TEST_F(StoreCapiTest, BytesRoundTrip) {
  const unsigned char data[] = {0, 1, 2, 255};
  ASSERT_EQ(cano_store_put_bytes(store_, "k", data, sizeof data, nullptr), CANO_OK);
  void* out = nullptr;
  size_t len = 99;
  ASSERT_EQ(cano_store_get_bytes(&out, &len, store_, "k", nullptr), CANO_OK);
  ASSERT_EQ(len, sizeof data);
  EXPECT_EQ(std::memcmp(out, data, len), 0);
  cano_free(out);

  ASSERT_EQ(cano_store_put_bytes(store_, "empty", nullptr, 0, nullptr), CANO_OK);
  ASSERT_EQ(cano_store_get_bytes(&out, &len, store_, "empty", nullptr), CANO_OK);
  EXPECT_NE(out, nullptr);  // non-NULL even for 0 bytes
  EXPECT_EQ(len, 0u);
  cano_free(out);

  cano_value_kind kind = CANO_VALUE_OBJECT;
  char* type = nullptr;
  ASSERT_EQ(cano_store_kind(&kind, &type, store_, "k", nullptr), CANO_OK);
  EXPECT_EQ(kind, CANO_VALUE_BYTES);
  EXPECT_EQ(take(type), "bytes");
}

TEST_F(StoreCapiTest, MissingKeyAndTypeMismatchHaveCanoTexts) {
  ErrorSlot err;
  char* text = reinterpret_cast<char*>(1);
  EXPECT_EQ(cano_store_get_json(&text, store_, "absent", err.out()), CANO_E_STORE_KEY_NOT_FOUND);
  EXPECT_EQ(text, nullptr);  // cleared on error
  EXPECT_EQ(err.message(), "Key not found: Key 'absent' not found in store");
  EXPECT_EQ(err.display(), "Store error: Key not found: Key 'absent' not found in store");
  EXPECT_EQ(err.category(), "store");
  EXPECT_EQ(err.code(), CANO_E_STORE_KEY_NOT_FOUND);

  cano_value_kind kind;
  EXPECT_EQ(cano_store_kind(&kind, nullptr, store_, "absent", err.out()),
            CANO_E_STORE_KEY_NOT_FOUND);

  ASSERT_EQ(cano_store_put_json(store_, "j", "{\"a\":1}", nullptr), CANO_OK);
  void* bytes = nullptr;
  size_t len = 0;
  EXPECT_EQ(cano_store_get_bytes(&bytes, &len, store_, "j", err.out()), CANO_E_STORE_TYPE_MISMATCH);
  EXPECT_EQ(err.message(), "Type mismatch: Cannot downcast value for key 'j' to requested type");
  EXPECT_EQ(err.category(), "store");
  cano_object_ref* ref = nullptr;
  EXPECT_EQ(cano_store_get_object(&ref, store_, "j", "json", err.out()),
            CANO_E_STORE_TYPE_MISMATCH);
  EXPECT_EQ(ref, nullptr);
}

TEST_F(StoreCapiTest, JsonIsValidatedAndReturnedAsGiven) {
  ErrorSlot err;
  EXPECT_EQ(cano_store_put_json(store_, "cfg", "{\"a\":", err.out()), CANO_E_INVALID_ARGUMENT);
  EXPECT_NE(err.message().find("'cfg'"), std::string::npos);
  EXPECT_EQ(cano_store_contains(store_, "cfg"), 0);
  ASSERT_EQ(cano_store_put_json(store_, "cfg", "{ \"retries\": 3 }", err.out()), CANO_OK);
  char* text = nullptr;
  ASSERT_EQ(cano_store_get_json(&text, store_, "cfg", err.out()), CANO_OK);
  EXPECT_EQ(take(text), "{ \"retries\": 3 }");
  cano_value_kind kind;
  char* type = nullptr;
  ASSERT_EQ(cano_store_kind(&kind, &type, store_, "cfg", nullptr), CANO_OK);
  EXPECT_EQ(kind, CANO_VALUE_JSON);
  EXPECT_EQ(take(type), "json");
}

TEST_F(StoreCapiTest, ObjectsAreTypedAndCountedReferences) {
  Counter counter;
  ASSERT_EQ(
      cano_store_put_object(store_, "o", "int32", new Boxed{7, &counter}, destroy_boxed, nullptr),
      CANO_OK);
  ErrorSlot err;
  cano_object_ref* ref = nullptr;
  EXPECT_EQ(cano_store_get_object(&ref, store_, "o", "int64", err.out()),
            CANO_E_STORE_TYPE_MISMATCH);
  EXPECT_NE(err.message().find("'o'"), std::string::npos);
  ASSERT_EQ(cano_store_get_object(&ref, store_, "o", "int32", err.out()), CANO_OK);
  EXPECT_EQ(static_cast<Boxed*>(cano_object_ref_get(ref))->value, 7);

  // Replace and remove while the reference is out: the old object stays alive and unchanged.
  ASSERT_EQ(
      cano_store_put_object(store_, "o", "int32", new Boxed{8, &counter}, destroy_boxed, nullptr),
      CANO_OK);
  ASSERT_EQ(cano_store_remove(store_, "o", nullptr), CANO_OK);
  EXPECT_EQ(counter.destroyed.load(), 1);  // only the second one, which nobody holds
  EXPECT_EQ(static_cast<Boxed*>(cano_object_ref_get(ref))->value, 7);
  cano_object_ref_release(ref);
  EXPECT_EQ(counter.destroyed.load(), 2);

  cano_value_kind kind;
  char* type = nullptr;
  ASSERT_EQ(cano_store_put_object(store_, "n", "my.Type", nullptr, nullptr, nullptr), CANO_OK);
  ASSERT_EQ(cano_store_kind(&kind, &type, store_, "n", nullptr), CANO_OK);
  EXPECT_EQ(kind, CANO_VALUE_OBJECT);
  EXPECT_EQ(take(type), "my.Type");
}

TEST_F(StoreCapiTest, PutObjectDestroysTheObjectOnEveryError) {
  Counter counter;
  ErrorSlot err;
  EXPECT_EQ(
      cano_store_put_object(nullptr, "k", "t", new Boxed{1, &counter}, destroy_boxed, err.out()),
      CANO_E_INVALID_ARGUMENT);
  EXPECT_EQ(
      cano_store_put_object(store_, nullptr, "t", new Boxed{1, &counter}, destroy_boxed, err.out()),
      CANO_E_INVALID_ARGUMENT);
  EXPECT_EQ(
      cano_store_put_object(store_, "k", "", new Boxed{1, &counter}, destroy_boxed, err.out()),
      CANO_E_INVALID_ARGUMENT);
  EXPECT_NE(err.message().find("type"), std::string::npos);
  EXPECT_EQ(counter.destroyed.load(), 3);
  EXPECT_EQ(cano_store_len(store_), 0u);
}

TEST_F(StoreCapiTest, DestroyingTheStoreRunsEveryDestroyHookOnce) {
  Counter counter;
  cano_store* store = nullptr;
  ASSERT_EQ(cano_store_create(&store, nullptr), CANO_OK);
  for (const char* key : {"a", "b", "c"}) {
    ASSERT_EQ(
        cano_store_put_object(store, key, "t", new Boxed{1, &counter}, destroy_boxed, nullptr),
        CANO_OK);
  }
  cano_object_ref* ref = nullptr;
  ASSERT_EQ(cano_store_get_object(&ref, store, "b", "t", nullptr), CANO_OK);
  cano_store_destroy(store);
  EXPECT_EQ(counter.destroyed.load(), 2);  // "b" is still referenced
  cano_object_ref_release(ref);
  EXPECT_EQ(counter.destroyed.load(), 3);
}

TEST_F(StoreCapiTest, AppendJson) {
  ErrorSlot err;
  ASSERT_EQ(cano_store_append_json(store_, "trail", "\"Start\"", err.out()), CANO_OK);
  ASSERT_EQ(cano_store_append_json(store_, "trail", "{\"n\":2}", err.out()), CANO_OK);
  char* text = nullptr;
  ASSERT_EQ(cano_store_get_json(&text, store_, "trail", nullptr), CANO_OK);
  EXPECT_EQ(take(text), "[\"Start\",{\"n\":2}]");

  EXPECT_EQ(cano_store_append_json(store_, "trail", "not json", err.out()),
            CANO_E_INVALID_ARGUMENT);
  EXPECT_NE(err.message().find("'trail'"), std::string::npos);

  ASSERT_EQ(cano_store_put_json(store_, "obj", "{\"a\":[]}", nullptr), CANO_OK);
  EXPECT_EQ(cano_store_append_json(store_, "obj", "1", err.out()),
            CANO_E_STORE_APPEND_TYPE_MISMATCH);
  EXPECT_EQ(err.message(),
            "Append type mismatch: Cannot append to key 'obj': existing value is not a "
            "Vec<TState>");
  EXPECT_EQ(err.category(), "store");
  ASSERT_EQ(cano_store_get_json(&text, store_, "obj", nullptr), CANO_OK);
  EXPECT_EQ(take(text), "{\"a\":[]}");  // untouched

  ASSERT_EQ(cano_store_put_bytes(store_, "raw", "[]", 2, nullptr), CANO_OK);
  EXPECT_EQ(cano_store_append_json(store_, "raw", "1", err.out()),
            CANO_E_STORE_APPEND_TYPE_MISMATCH);
}

// A native list for cano_store_append_object: a vector of ints.
using IntList = std::vector<int>;
void destroy_list(void* list) { delete static_cast<IntList*>(list); }

cano_status push_int(void** out, void (**out_destroy)(void*), const void* current,
                     void* user_data) {
  auto* next = current ? new IntList(*static_cast<const IntList*>(current)) : new IntList();
  next->push_back(*static_cast<const int*>(user_data));
  *out = next;
  *out_destroy = destroy_list;
  return CANO_OK;
}

cano_status fail_append(void**, void (**)(void*), const void*, void* calls) {
  ++*static_cast<int*>(calls);
  return CANO_E_USER;
}

TEST_F(StoreCapiTest, AppendObject) {
  int one = 1;
  int two = 2;
  ASSERT_EQ(cano_store_append_object(store_, "ints", "IntList", push_int, &one, nullptr), CANO_OK);
  cano_object_ref* before = nullptr;
  ASSERT_EQ(cano_store_get_object(&before, store_, "ints", "IntList", nullptr), CANO_OK);
  ASSERT_EQ(cano_store_append_object(store_, "ints", "IntList", push_int, &two, nullptr), CANO_OK);
  cano_object_ref* after = nullptr;
  ASSERT_EQ(cano_store_get_object(&after, store_, "ints", "IntList", nullptr), CANO_OK);
  EXPECT_EQ(*static_cast<IntList*>(cano_object_ref_get(before)), IntList({1}));
  EXPECT_EQ(*static_cast<IntList*>(cano_object_ref_get(after)), IntList({1, 2}));
  cano_object_ref_release(before);
  cano_object_ref_release(after);

  ErrorSlot err;
  int calls = 0;
  EXPECT_EQ(cano_store_append_object(store_, "ints", "IntList", fail_append, &calls, err.out()),
            CANO_E_USER);
  EXPECT_EQ(calls, 1);
  EXPECT_NE(err.message().find("'ints'"), std::string::npos);
  EXPECT_EQ(cano_store_append_object(store_, "ints", "Other", fail_append, &calls, err.out()),
            CANO_E_STORE_APPEND_TYPE_MISMATCH);
  EXPECT_EQ(calls, 1);  // a mismatch never calls the callback
  EXPECT_NE(err.message().find("'ints'"), std::string::npos);
  ASSERT_EQ(cano_store_put_json(store_, "json", "[]", nullptr), CANO_OK);
  EXPECT_EQ(cano_store_append_object(store_, "json", "IntList", push_int, &one, err.out()),
            CANO_E_STORE_APPEND_TYPE_MISMATCH);
  char* text = nullptr;
  ASSERT_EQ(cano_store_get_json(&text, store_, "json", nullptr), CANO_OK);
  EXPECT_EQ(take(text), "[]");
}

TEST_F(StoreCapiTest, KeysLenContainsRemoveClear) {
  char* text = nullptr;
  ASSERT_EQ(cano_store_keys(&text, store_, nullptr), CANO_OK);
  EXPECT_EQ(take(text), "[]");
  for (const char* key : {"zeta", "alpha", "Beta", "al"}) {
    ASSERT_EQ(cano_store_put_bytes(store_, key, nullptr, 0, nullptr), CANO_OK);
  }
  ASSERT_EQ(cano_store_keys(&text, store_, nullptr), CANO_OK);
  EXPECT_EQ(take(text), "[\"Beta\",\"al\",\"alpha\",\"zeta\"]");
  EXPECT_EQ(cano_store_len(store_), 4u);
  EXPECT_EQ(cano_store_contains(store_, "alpha"), 1);
  EXPECT_EQ(cano_store_contains(store_, "gamma"), 0);
  EXPECT_EQ(cano_store_contains(store_, nullptr), 0);
  EXPECT_EQ(cano_store_remove(store_, "gamma", nullptr), CANO_OK);  // silent
  EXPECT_EQ(cano_store_remove(store_, "alpha", nullptr), CANO_OK);
  EXPECT_EQ(cano_store_contains(store_, "alpha"), 0);
  EXPECT_EQ(cano_store_len(store_), 3u);
  EXPECT_EQ(cano_store_clear(store_, nullptr), CANO_OK);
  EXPECT_EQ(cano_store_len(store_), 0u);
}

TEST_F(StoreCapiTest, ConcurrentWritersAndReaders) {
  constexpr int kThreads = 4;
  constexpr int kRounds = 200;
  Counter counter;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t, &counter] {
      std::string own = "t" + std::to_string(t);
      for (int i = 0; i < kRounds; ++i) {
        EXPECT_EQ(cano_store_append_json(store_, "events", std::to_string(i).c_str(), nullptr),
                  CANO_OK);
        EXPECT_EQ(cano_store_append_object(store_, "ints", "IntList", push_int, &i, nullptr),
                  CANO_OK);
        EXPECT_EQ(cano_store_put_bytes(store_, own.c_str(), &i, sizeof i, nullptr), CANO_OK);
        EXPECT_EQ(cano_store_put_object(store_, "shared", "Boxed", new Boxed{i, &counter},
                                        destroy_boxed, nullptr),
                  CANO_OK);
        cano_object_ref* ref = nullptr;
        if (cano_store_get_object(&ref, store_, "shared", "Boxed", nullptr) == CANO_OK) {
          // Reading through a reference must never see a freed object.
          counter.value.fetch_add(static_cast<Boxed*>(cano_object_ref_get(ref))->value);
          cano_object_ref_release(ref);
        }
        void* bytes = nullptr;
        size_t len = 0;
        EXPECT_EQ(cano_store_get_bytes(&bytes, &len, store_, own.c_str(), nullptr), CANO_OK);
        EXPECT_EQ(len, sizeof i);
        int seen = -1;
        std::memcpy(&seen, bytes, sizeof seen);
        EXPECT_EQ(seen, i);
        cano_free(bytes);
        char* keys = nullptr;
        EXPECT_EQ(cano_store_keys(&keys, store_, nullptr), CANO_OK);
        cano_free(keys);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  char* text = nullptr;
  ASSERT_EQ(cano_store_get_json(&text, store_, "events", nullptr), CANO_OK);
  std::string events = take(text);
  EXPECT_EQ(std::count(events.begin(), events.end(), ','), kThreads * kRounds - 1);
  cano_object_ref* ref = nullptr;
  ASSERT_EQ(cano_store_get_object(&ref, store_, "ints", "IntList", nullptr), CANO_OK);
  EXPECT_EQ(static_cast<IntList*>(cano_object_ref_get(ref))->size(),
            static_cast<size_t>(kThreads * kRounds));
  cano_object_ref_release(ref);
  // Every replaced "shared" object was destroyed exactly once; the last one is still stored.
  EXPECT_EQ(counter.destroyed.load(), kThreads * kRounds - 1);
  EXPECT_EQ(cano_store_len(store_), static_cast<size_t>(3 + kThreads));
  // "shared" counts into `counter`, which lives on this frame: free it before the frame ends.
  ASSERT_EQ(cano_store_clear(store_, nullptr), CANO_OK);
  EXPECT_EQ(counter.destroyed.load(), kThreads * kRounds);
}

}  // namespace
