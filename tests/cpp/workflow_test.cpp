// cano::workflow<State> end to end: the Quick Start, bare workflows, task forms, the context,
// errors raised by tasks, validation and the builder's rules.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "cano/cano.hpp"
#include "test_support.hpp"

namespace {

using cano_test::lifetime_counter;
using cano_test::tracked;

enum class Step { Fetch, Process, Done };

// The Quick Start's tasks, as the seed writes them.
struct FetchConfig {
  std::size_t batch_size;
};

struct FetchTask {
  Step operator()(cano::resources& res) const {
    const auto& config = res.get<FetchConfig>("config");
    auto store = res.get<cano::memory_store>("store");
    std::vector<std::uint32_t> data(config.batch_size);
    std::iota(data.begin(), data.end(), 1u);
    store.put("data", data);
    return Step::Process;
  }
};

struct ProcessTask {
  Step operator()(cano::resources& res) const {
    auto store = res.get<cano::memory_store>("store");
    auto data = store.get<std::vector<std::uint32_t>>("data");
    store.put("sum", std::accumulate(data.begin(), data.end(), std::uint32_t{0}));
    return Step::Done;
  }
};

cano::workflow<Step> bare_workflow() {
  return cano::workflow<Step>{{Step::Fetch, "Fetch"}, {Step::Process, "Process"},
                              {Step::Done, "Done"}};
}

TEST(CppWorkflow, QuickStartReachesDoneWithSumSix) {
  cano::memory_store store;
  cano::resources resources;
  resources.insert("config", FetchConfig{3}).insert("store", store);
  cano::workflow<Step> workflow{
      resources, {{Step::Fetch, "Fetch"}, {Step::Process, "Process"}, {Step::Done, "Done"}}};
  workflow.register_task(Step::Fetch, FetchTask{})
      .register_task(Step::Process, ProcessTask{})
      .add_exit_state(Step::Done);

  cano::engine engine;
  EXPECT_EQ(workflow.orchestrate(engine, Step::Fetch), Step::Done);
  EXPECT_EQ(store.get<std::uint32_t>("sum"), 6u);
  EXPECT_EQ(store.get<std::vector<std::uint32_t>>("data"), (std::vector<std::uint32_t>{1, 2, 3}));

  // A workflow runs any number of times.
  store.clear();
  EXPECT_EQ(workflow.orchestrate(engine, Step::Fetch), Step::Done);
  EXPECT_EQ(store.get<std::uint32_t>("sum"), 6u);
}

TEST(CppWorkflow, BareWorkflowRunsTasksWithoutArguments) {
  std::atomic<std::uint32_t> result{0};
  auto workflow = cano::workflow<Step>::bare({{Step::Fetch, "Fetch"}, {Step::Done, "Done"}});
  workflow
      .register_task(Step::Fetch,
                     [&result] {
                       std::uint32_t sum = 0;
                       for (std::uint32_t i = 1; i <= 100; ++i) sum += i;
                       result = sum;
                       return Step::Done;
                     })
      .add_exit_state(Step::Done);
  cano::engine engine;
  EXPECT_EQ(workflow.orchestrate(engine, Step::Fetch), Step::Done);
  EXPECT_EQ(result.load(), 5050u);
  EXPECT_TRUE(workflow.resources().empty());
}

TEST(CppWorkflow, ContextExposesStateAttemptRunAndResources) {
  cano::memory_store store;
  cano::resources resources;
  resources.insert("store", store);
  cano::workflow<Step> workflow{
      resources, {{Step::Fetch, "Fetch"}, {Step::Process, "Process"}, {Step::Done, "Done"}}};
  auto record = [](cano::task_context& ctx) {
    auto s = ctx.resources().get_store("store");
    s.append<int>("states", static_cast<int>(ctx.state<Step>()));
    s.append<std::uint32_t>("attempts", ctx.attempt());
    s.append<std::uint64_t>("runs", ctx.run_id());
    s.append<bool>("cancelled", ctx.cancelled());
    s.append<std::uint64_t>("tokens", ctx.token());
    return ctx.state<Step>() == Step::Fetch ? Step::Process : Step::Done;
  };
  workflow.register_task(Step::Fetch, record)
      .register_task(Step::Process, record)
      .add_exit_state(Step::Done);
  cano::engine engine;
  ASSERT_EQ(workflow.orchestrate(engine, Step::Fetch), Step::Done);

  EXPECT_EQ(store.get<std::vector<int>>("states"), (std::vector<int>{0, 1}));
  EXPECT_EQ(store.get<std::vector<std::uint32_t>>("attempts"),
            (std::vector<std::uint32_t>{1, 1}));
  auto runs = store.get<std::vector<std::uint64_t>>("runs");
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_NE(runs[0], 0u);
  EXPECT_EQ(runs[0], runs[1]);  // one run, two states
  EXPECT_EQ(store.get<std::vector<bool>>("cancelled"), (std::vector<bool>{false, false}));
  // Worker tasks have no completion token.
  EXPECT_EQ(store.get<std::vector<std::uint64_t>>("tokens"), (std::vector<std::uint64_t>{0, 0}));
}

TEST(CppWorkflow, StdExceptionBecomesTaskExecutionWithContext) {
  auto workflow = bare_workflow();
  workflow
      .register_task(Step::Fetch, []() -> Step { throw std::runtime_error("boom"); },
                     cano::task_config::minimal().with_name("fetcher"))
      .add_exit_state(Step::Done);
  cano::engine engine;
  try {
    workflow.orchestrate(engine, Step::Fetch);
    FAIL() << "no exception";
  } catch (const cano::task_execution_error& e) {
    EXPECT_EQ(e.code(), CANO_E_TASK_EXECUTION);
    EXPECT_STREQ(e.category(), "task_execution");
    // A single attempt returns the raw error, not retry_exhausted (cano 2.4).
    EXPECT_STREQ(e.message(), "boom");
    EXPECT_STREQ(e.display(), "Task execution error: boom");
    EXPECT_EQ(e.state_name(), "Fetch");
    EXPECT_EQ(e.state_code(), std::optional<std::int32_t>(0));
    EXPECT_EQ(e.task_name(), "fetcher");
    EXPECT_EQ(e.attempt(), 1u);
    EXPECT_NE(e.run_id(), 0u);
    EXPECT_NE(std::string(e.what()).find("Fetch"), std::string::npos) << e.what();
  }
}

TEST(CppWorkflow, TaskNameDefaultsToTheStateName) {
  auto workflow = bare_workflow();
  workflow
      .register_task(Step::Fetch, []() -> Step { throw std::logic_error("x"); },
                     cano::task_config::minimal())
      .add_exit_state(Step::Done);
  cano::engine engine;
  try {
    workflow.orchestrate(engine, Step::Fetch);
    FAIL() << "no exception";
  } catch (const cano::error& e) {
    EXPECT_EQ(e.task_name(), "Fetch");
  }
}

TEST(CppWorkflow, CanoErrorsThrownByTasksKeepTheirCode) {
  cano::memory_store store;
  cano::resources resources;
  resources.insert("store", store);
  cano::workflow<Step> workflow{resources, {{Step::Fetch, "Fetch"}, {Step::Done, "Done"}}};
  workflow
      .register_task(Step::Fetch,
                     [](cano::resources& res) {
                       // A store miss inside a task fails the run with the store's error.
                       res.get_store("store").get<int>("absent");
                       return Step::Done;
                     },
                     cano::task_config::minimal())
      .add_exit_state(Step::Done);
  cano::engine engine;
  try {
    workflow.orchestrate(engine, Step::Fetch);
    FAIL() << "no exception";
  } catch (const cano::key_not_found_error& e) {
    EXPECT_STREQ(e.category(), "store");
    EXPECT_STREQ(e.message(), "Key not found: Key 'absent' not found in store");
    EXPECT_EQ(e.state_name(), "Fetch");
  }

  auto timeouts = bare_workflow();
  timeouts
      .register_task(Step::Fetch, []() -> Step { throw cano::timeout_error("too slow"); },
                     cano::task_config::minimal())
      .add_exit_state(Step::Done);
  EXPECT_THROW(timeouts.orchestrate(engine, Step::Fetch), cano::timeout_error);
}

TEST(CppWorkflow, NonStdExceptionsStillFailTheTask) {
  auto workflow = bare_workflow();
  workflow
      .register_task(Step::Fetch, []() -> Step { throw 42; }, cano::task_config::minimal())
      .add_exit_state(Step::Done);
  cano::engine engine;
  try {
    workflow.orchestrate(engine, Step::Fetch);
    FAIL() << "no exception";
  } catch (const cano::task_execution_error& e) {
    EXPECT_STREQ(e.message(), "unknown exception");
  }
}

TEST(CppWorkflow, GenericLambdaReceivesTheContext) {
  auto workflow = bare_workflow();
  std::atomic<std::uint32_t> attempt{0};
  workflow
      .register_task(Step::Fetch,
                     [&attempt](auto& ctx) {
                       attempt = ctx.attempt();
                       return Step::Done;
                     })
      .add_exit_state(Step::Done);
  cano::engine engine;
  EXPECT_EQ(workflow.orchestrate(engine, Step::Fetch), Step::Done);
  EXPECT_EQ(attempt.load(), 1u);
}

TEST(CppWorkflow, UnregisteredStateFailsWithWorkflowError) {
  auto workflow = bare_workflow();
  workflow.register_task(Step::Fetch, [] { return Step::Process; }).add_exit_state(Step::Done);
  cano::engine engine;
  try {
    workflow.orchestrate(engine, Step::Fetch);
    FAIL() << "no exception";
  } catch (const cano::workflow_error& e) {
    EXPECT_STREQ(e.message(), "No task registered for state: Process");
  }
}

TEST(CppWorkflow, ValidationErrorsAreConfigurationErrors) {
  cano::engine engine;
  auto empty = bare_workflow();
  EXPECT_THROW(empty.validate(), cano::configuration_error);
  try {
    empty.orchestrate(engine, Step::Fetch);
    FAIL() << "no exception";
  } catch (const cano::configuration_error& e) {
    EXPECT_STREQ(e.message(), "Workflow has no registered state handlers");
  }

  auto no_exit = bare_workflow();
  no_exit.register_task(Step::Fetch, [] { return Step::Done; });
  EXPECT_THROW(no_exit.validate(), cano::configuration_error);

  auto workflow = bare_workflow();
  workflow.register_task(Step::Fetch, [] { return Step::Done; }).add_exit_state(Step::Done);
  EXPECT_NO_THROW(workflow.validate());
  EXPECT_NO_THROW(workflow.validate_initial_state(Step::Fetch));
  EXPECT_NO_THROW(workflow.validate_initial_state(Step::Done));
  try {
    workflow.validate_initial_state(Step::Process);
    FAIL() << "no exception";
  } catch (const cano::configuration_error& e) {
    EXPECT_STREQ(e.message(), "Initial state Process is neither registered nor an exit state");
  }
  // An exit state as the initial state ends the run at once.
  EXPECT_EQ(workflow.orchestrate(engine, Step::Done), Step::Done);
}

TEST(CppWorkflow, BuilderRules) {
  auto workflow = bare_workflow();
  EXPECT_THROW(workflow.add_state(Step::Fetch, "Again"), cano::configuration_error);
  cano::workflow<Step> partial{{Step::Fetch, "Fetch"}};
  EXPECT_THROW(partial.register_task(Step::Done, [] { return Step::Done; }),
               cano::configuration_error);
  EXPECT_THROW(partial.add_exit_state(Step::Done), cano::configuration_error);
  partial.add_state(Step::Done, "Done");
  EXPECT_EQ(partial.name_of(Step::Done), "Done");
  EXPECT_EQ(partial.name_of(Step::Process), "");
  EXPECT_EQ(partial.state_named("Fetch"), Step::Fetch);
  EXPECT_THROW(partial.state_named("Nope"), cano::not_found_error);
}

TEST(CppWorkflow, FirstRunFreezesTheWorkflow) {
  auto workflow = bare_workflow();
  workflow.register_task(Step::Fetch, [] { return Step::Done; }).add_exit_state(Step::Done);
  cano::engine engine;
  workflow.orchestrate(engine, Step::Fetch);
  EXPECT_THROW(workflow.register_task(Step::Process, [] { return Step::Done; }),
               cano::bad_state_error);
  EXPECT_THROW(workflow.add_exit_state(Step::Process), cano::bad_state_error);
  EXPECT_THROW(workflow.with_timeout(std::chrono::seconds(1)), cano::bad_state_error);
}

TEST(CppWorkflow, DeferredTaskOutsideAsyncModeIsRejected) {
  auto workflow = bare_workflow();
  EXPECT_THROW(workflow.register_task(Step::Fetch, [](cano::task_context&) {}),
               cano::configuration_error);
  EXPECT_THROW(workflow.register_task(Step::Fetch, [](cano::completion<Step>) {},
                                      cano::task_config().with_mode(cano::task_mode::inline_)),
               cano::configuration_error);
}

struct counted_task {
  tracked tracker;
  Step operator()() const { return Step::Done; }
};

TEST(CppWorkflow, TaskObjectsAreDestroyedExactlyOnce) {
  auto counter = std::make_shared<lifetime_counter>();
  {
    auto workflow = bare_workflow();
    workflow.register_task(Step::Fetch, counted_task{tracked(counter)})
        .add_exit_state(Step::Done);
    EXPECT_EQ(counter->alive(), 1);
    // Replacing a task destroys the previous one at once.
    workflow.register_task(Step::Fetch, counted_task{tracked(counter)});
    EXPECT_EQ(counter->alive(), 1);
    cano::engine engine;
    auto copy = workflow;
    EXPECT_EQ(copy.orchestrate(engine, Step::Fetch), Step::Done);
    EXPECT_EQ(counter->alive(), 1);
  }
  EXPECT_EQ(counter->alive(), 0);
  EXPECT_EQ(counter->constructed.load(), counter->destroyed.load());
}

TEST(CppWorkflow, WorkflowTimeoutFailsTheRun) {
  auto workflow = bare_workflow();
  workflow
      .register_task(Step::Fetch,
                     [](cano::task_context& ctx) {
                       // A long body that polls the cancelled flag, as cano/task.h advises.
                       cano_test::wait_until([&] { return ctx.cancelled(); });
                       return Step::Done;
                     },
                     cano::task_config::minimal())
      .add_exit_state(Step::Done)
      .with_timeout(std::chrono::milliseconds(50));
  cano::engine engine;
  try {
    workflow.orchestrate(engine, Step::Fetch);
    FAIL() << "no exception";
  } catch (const cano::workflow_error& e) {
    EXPECT_STREQ(e.message(), "Workflow timeout exceeded");
  }
}

}  // namespace
