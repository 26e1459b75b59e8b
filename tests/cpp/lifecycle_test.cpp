// Resource lifecycles driven by runs: setup in insertion order, teardown in reverse, rollback
// of a failed setup, and the setup()/teardown() members found at compile time.
#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "cano/cano.hpp"
#include "test_support.hpp"

namespace {

using cano_test::lifetime_counter;
using cano_test::tracked;

enum class Step { Use, Done };

// The engine may put the resource's key in front of a setup error's text (cano returns the
// error as it is), so these tests check the text the resource produced at the end.
bool ends_with(const std::string& text, const std::string& tail) {
  return text.size() >= tail.size() &&
         text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
}

// A log the resources and the task write to. The engine runs lifecycle callbacks on a worker
// and the task wherever its mode says, so the log takes a lock.
class event_log {
 public:
  void add(std::string event) {
    std::lock_guard<std::mutex> lock(mutex_);
    events_.push_back(std::move(event));
  }
  std::vector<std::string> events() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return events_;
  }
  void clear() {
    std::lock_guard<std::mutex> lock(mutex_);
    events_.clear();
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> events_;
};

struct logged_resource {
  std::string name;
  std::shared_ptr<event_log> log;
  bool fail_setup = false;
  tracked tracker;

  void setup() {
    log->add("setup " + name);
    if (fail_setup) throw cano::generic_error("cannot set up " + name);
  }
  void teardown() { log->add("teardown " + name); }
};

// A resource with bool-returning members.
struct flag_resource {
  std::shared_ptr<event_log> log;
  bool setup() {
    log->add("setup flag");
    return false;
  }
  bool teardown() { return true; }
};

// A resource whose setup throws a plain std::exception.
struct std_throwing_resource {
  void setup() { throw std::runtime_error("disk full"); }
};

static_assert(cano::detail::has_setup<logged_resource>::value);
static_assert(cano::detail::has_teardown<logged_resource>::value);
static_assert(!cano::detail::has_health<logged_resource>::value);
static_assert(!cano::detail::has_setup<int>::value);

cano::workflow<Step> logging_workflow(const cano::resources& res,
                                      const std::shared_ptr<event_log>& log) {
  cano::workflow<Step> workflow{res, {{Step::Use, "Use"}, {Step::Done, "Done"}}};
  workflow
      .register_task(Step::Use,
                     [log] {
                       log->add("task");
                       return Step::Done;
                     },
                     cano::task_config::minimal())
      .add_exit_state(Step::Done);
  return workflow;
}

TEST(CppLifecycle, SetupInOrderTeardownInReverseAroundEachRun) {
  auto log = std::make_shared<event_log>();
  auto counter = std::make_shared<lifetime_counter>();
  cano::resources res;
  res.insert("a", logged_resource{"a", log, false, tracked(counter)})
      .insert("b", logged_resource{"b", log, false, tracked(counter)});
  auto workflow = logging_workflow(res, log);
  cano::engine engine;

  EXPECT_EQ(workflow.orchestrate(engine, Step::Use), Step::Done);
  const std::vector<std::string> expected{"setup a", "setup b", "task", "teardown b",
                                          "teardown a"};
  EXPECT_EQ(log->events(), expected);

  // Runs one after another see cano's setup/run/teardown each time.
  log->clear();
  EXPECT_EQ(workflow.orchestrate(engine, Step::Use), Step::Done);
  EXPECT_EQ(log->events(), expected);

  // A frozen set refuses new resources.
  EXPECT_THROW(res.insert("c", 1), cano::bad_state_error);
}

TEST(CppLifecycle, FailedSetupRollsBackAndFailsTheRun) {
  auto log = std::make_shared<event_log>();
  auto counter = std::make_shared<lifetime_counter>();
  cano::resources res;
  res.insert("a", logged_resource{"a", log, false, tracked(counter)})
      .insert("b", logged_resource{"b", log, true, tracked(counter)})
      .insert("c", logged_resource{"c", log, false, tracked(counter)});
  auto workflow = logging_workflow(res, log);
  cano::engine engine;
  try {
    workflow.orchestrate(engine, Step::Use);
    FAIL() << "no exception";
  } catch (const cano::generic_error& e) {
    EXPECT_TRUE(ends_with(e.message(), "cannot set up b")) << e.message();
  }
  // The failed one and the ones after it are not torn down; the task never ran.
  EXPECT_EQ(log->events(), (std::vector<std::string>{"setup a", "setup b", "teardown a"}));
}

TEST(CppLifecycle, BoolSetupReturningFalseFails) {
  auto log = std::make_shared<event_log>();
  cano::resources res;
  res.insert("flag", flag_resource{log});
  auto workflow = logging_workflow(res, log);
  cano::engine engine;
  try {
    workflow.orchestrate(engine, Step::Use);
    FAIL() << "no exception";
  } catch (const cano::generic_error& e) {
    EXPECT_TRUE(ends_with(e.message(), "setup() returned false")) << e.message();
  }
  EXPECT_EQ(log->events(), (std::vector<std::string>{"setup flag"}));
}

TEST(CppLifecycle, StdExceptionFromSetupBecomesGeneric) {
  auto log = std::make_shared<event_log>();
  cano::resources res;
  res.insert("disk", std_throwing_resource{});
  auto workflow = logging_workflow(res, log);
  cano::engine engine;
  try {
    workflow.orchestrate(engine, Step::Use);
    FAIL() << "no exception";
  } catch (const cano::generic_error& e) {
    EXPECT_TRUE(ends_with(e.message(), "disk full")) << e.message();
  }
}

TEST(CppLifecycle, ResourcesOutliveTheCallersHandleUntilTheWorkflowGoes) {
  auto log = std::make_shared<event_log>();
  auto counter = std::make_shared<lifetime_counter>();
  std::optional<cano::workflow<Step>> workflow;
  {
    cano::resources res;
    res.insert("a", logged_resource{"a", log, false, tracked(counter)});
    workflow.emplace(logging_workflow(res, log));
  }
  EXPECT_EQ(counter->alive(), 1);  // the workflow retains the set
  {
    cano::engine engine;
    EXPECT_EQ(workflow->orchestrate(engine, Step::Use), Step::Done);
    EXPECT_EQ(workflow->resources().len(), 1u);
  }
  workflow.reset();
  EXPECT_EQ(counter->alive(), 0);  // destroyed exactly once, with the last reference
  EXPECT_EQ(counter->constructed.load(), counter->destroyed.load());
}

}  // namespace
