// The resource lifecycle around runs (cano/run.h, cano/resources.h): cano's order for one run,
// the rollback of a failed setup, and one shared set-up for runs in flight at the same time.
#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "test_support.hpp"

using namespace cano_test;

namespace {

enum : int32_t { kWork = 0, kDone = 1 };

// A journal of lifecycle and task events shared by the resources of one test.
struct Journal {
  std::mutex mutex;
  std::vector<std::string> events;
  void add(std::string event) {
    std::lock_guard<std::mutex> lock(mutex);
    events.push_back(std::move(event));
  }
  std::vector<std::string> snapshot() {
    std::lock_guard<std::mutex> lock(mutex);
    return events;
  }
  int count(const std::string& event) {
    std::lock_guard<std::mutex> lock(mutex);
    int n = 0;
    for (const auto& e : events) n += e == event;
    return n;
  }
};

struct Tracked {
  Journal* journal;
  std::string name;
  bool fail_setup = false;
};

cano_status tracked_setup(cano_error** err, void* user_data) {
  auto* t = static_cast<Tracked*>(user_data);
  t->journal->add("setup " + t->name);
  if (t->fail_setup) {
    *err = cano_error_new(CANO_E_GENERIC, ("cannot open " + t->name).c_str());
    return CANO_E_GENERIC;
  }
  return CANO_OK;
}

cano_status tracked_teardown(cano_error**, void* user_data) {
  auto* t = static_cast<Tracked*>(user_data);
  t->journal->add("teardown " + t->name);
  return CANO_OK;
}

void insert_tracked(cano_resources* resources, Journal* journal, const std::string& name,
                    bool fail_setup = false) {
  cano_resource_options options = CANO_RESOURCE_OPTIONS_INIT;
  options.type = "tracked";
  options.object = new Tracked{journal, name, fail_setup};
  options.setup = &tracked_setup;
  options.teardown = &tracked_teardown;
  options.destroy = [](void* p) { delete static_cast<Tracked*>(p); };
  ASSERT_EQ(cano_resources_insert(resources, name.c_str(), &options, nullptr), CANO_OK);
}

struct Harness {
  EnginePtr engine = make_engine();
  cano_resources* resources = nullptr;
  WorkflowPtr wf;
  Journal journal;

  explicit Harness(cano_task_mode mode = CANO_TASK_WORKER, bool async_work = false) {
    EXPECT_EQ(cano_resources_create(&resources, nullptr), CANO_OK);
    cano_workflow* raw = nullptr;
    EXPECT_EQ(cano_workflow_create(&raw, resources, nullptr), CANO_OK);
    wf.reset(raw);
    EXPECT_EQ(cano_workflow_add_state(raw, kWork, "Work", nullptr), CANO_OK);
    EXPECT_EQ(cano_workflow_add_state(raw, kDone, "Done", nullptr), CANO_OK);
    EXPECT_EQ(cano_workflow_add_exit_state(raw, kDone, nullptr), CANO_OK);
    auto options = async_work ? task([](cano_task_ctx*) { return CANO_PENDING; }, CANO_TASK_ASYNC)
                              : task(
                                    [this](cano_task_ctx* ctx) {
                                      journal.add("task");
                                      return cano_task_ctx_next(ctx, kDone);
                                    },
                                    mode);
    EXPECT_EQ(cano_workflow_register(raw, kWork, &options, nullptr), CANO_OK);
  }
  ~Harness() {
    wf.reset();
    engine.reset();
    cano_resources_destroy(resources);
  }
};

}  // namespace

TEST(RunResources, OneRunSetsUpInOrderRunsThenTearsDownInReverse) {
  Harness s;
  insert_tracked(s.resources, &s.journal, "a");
  insert_tracked(s.resources, &s.journal, "b");
  ASSERT_EQ(cano_run_wait(nullptr, s.engine.get(), s.wf.get(), kWork, nullptr), CANO_OK);
  EXPECT_EQ(s.journal.snapshot(),
            (std::vector<std::string>{"setup a", "setup b", "task", "teardown b", "teardown a"}));
  // Runs one after another each get cano's full setup/teardown.
  ASSERT_EQ(cano_run_wait(nullptr, s.engine.get(), s.wf.get(), kWork, nullptr), CANO_OK);
  EXPECT_EQ(s.journal.count("setup a"), 2);
  EXPECT_EQ(s.journal.count("teardown a"), 2);
}

TEST(RunResources, FailedSetupRollsBackAndRunsNoTask) {
  Harness s;
  insert_tracked(s.resources, &s.journal, "a");
  insert_tracked(s.resources, &s.journal, "b");
  insert_tracked(s.resources, &s.journal, "c", /*fail_setup=*/true);
  insert_tracked(s.resources, &s.journal, "d");
  ErrorPtr err;
  EXPECT_EQ(cano_run_wait(nullptr, s.engine.get(), s.wf.get(), kWork, err.out()), CANO_E_GENERIC);
  EXPECT_NE(err.message().find("cannot open c"), std::string::npos) << err.message();
  EXPECT_EQ(s.journal.snapshot(), (std::vector<std::string>{"setup a", "setup b", "setup c",
                                                            "teardown b", "teardown a"}));
}

TEST(RunResources, ConcurrentRunsShareOneSetupAndTheLastTearsDown) {
  Harness s(CANO_TASK_WORKER, /*async_work=*/true);
  insert_tracked(s.resources, &s.journal, "db");
  constexpr int kRuns = 50;
  std::vector<RunResult> results(kRuns);
  for (auto& result : results) {
    ASSERT_EQ(cano_run_start(nullptr, s.engine.get(), s.wf.get(), kWork, &RunResult::callback,
                             &result, nullptr),
              CANO_OK);
  }
  ASSERT_TRUE(eventually([&] { return cano_engine_runs_in_flight(s.engine.get()) == kRuns; }));
  ASSERT_TRUE(eventually([&] { return s.journal.count("setup db") == 1; }));
  // Cancel all but one: none of them tears the shared set down.
  std::vector<uint64_t> ids;
  for (auto& result : results) (void)result;
  for (uint64_t id = 1; id < 100000 && ids.size() < kRuns; ++id) {
    if (cano_run_cancel(s.engine.get(), id, nullptr) == CANO_OK) ids.push_back(id);
    if (ids.size() == kRuns - 1) break;
  }
  ASSERT_EQ(ids.size(), static_cast<size_t>(kRuns - 1));
  ASSERT_TRUE(eventually([&] { return cano_engine_runs_in_flight(s.engine.get()) == 1; }));
  EXPECT_EQ(s.journal.count("teardown db"), 0) << "one run still holds the set";
  ASSERT_EQ(cano_engine_shutdown(s.engine.get()), CANO_OK);
  EXPECT_EQ(s.journal.count("setup db"), 1);
  EXPECT_EQ(s.journal.count("teardown db"), 1);
  int cancelled = 0, shut_down = 0;
  for (auto& result : results) {
    cancelled += result.status == CANO_E_CANCELLED;
    shut_down += result.status == CANO_E_SHUTDOWN;
  }
  EXPECT_EQ(cancelled, kRuns - 1);
  EXPECT_EQ(shut_down, 1);
}

TEST(RunResources, TasksLookUpTheStoreAndTypedResources) {
  Harness s(CANO_TASK_WORKER);
  cano_store* store = nullptr;
  ASSERT_EQ(cano_store_create(&store, nullptr), CANO_OK);
  ASSERT_EQ(cano_resources_insert_store(s.resources, "store", store, nullptr), CANO_OK);
  cano_workflow* raw = s.wf.get();
  auto options = task(
      [](cano_task_ctx* ctx) {
        cano_store* found = nullptr;
        cano_error* err = nullptr;
        if (cano_resources_get_store(&found, cano_task_ctx_resources(ctx), "store", &err) !=
            CANO_OK) {
          cano_status code = cano_error_code(err);
          cano_error_free(err);
          return cano_task_ctx_fail(ctx, code, "no store");
        }
        cano_store_put_json(found, "sum", "6", nullptr);
        void* missing = nullptr;
        cano_status status =
            cano_resources_get(&missing, cano_task_ctx_resources(ctx), "config", "Config", &err);
        std::string message = err ? cano_error_message(err) : "";
        cano_error_free(err);
        if (status != CANO_E_RESOURCE_NOT_FOUND) return cano_task_ctx_fail(ctx, -1, "lookup");
        return cano_task_ctx_next(ctx, kDone);
      },
      CANO_TASK_WORKER);
  ASSERT_EQ(cano_workflow_register(raw, kWork, &options, nullptr), CANO_OK);
  ErrorPtr err;
  ASSERT_EQ(cano_run_wait(nullptr, s.engine.get(), raw, kWork, err.out()), CANO_OK)
      << err.describe();
  char* sum = nullptr;
  ASSERT_EQ(cano_store_get_json(&sum, store, "sum", nullptr), CANO_OK);
  EXPECT_STREQ(sum, "6");
  cano_free(sum);
  cano_store_destroy(store);
  ErrorPtr frozen;
  cano_store* other = nullptr;
  ASSERT_EQ(cano_store_create(&other, nullptr), CANO_OK);
  EXPECT_EQ(cano_resources_insert_store(s.resources, "late", other, frozen.out()),
            CANO_E_BAD_STATE);
  cano_store_destroy(other);
}
