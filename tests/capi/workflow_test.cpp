// Building and validating workflows through the C API (cano/workflow.h).
#include <string>

#include "test_support.hpp"

using namespace cano_test;

namespace {
WorkflowPtr empty_workflow() {
  cano_workflow* raw = nullptr;
  EXPECT_EQ(cano_workflow_create(&raw, nullptr, nullptr), CANO_OK);
  return WorkflowPtr(raw);
}
int destroyed = 0;
cano_status noop(cano_task_ctx* ctx, void*) { return cano_task_ctx_next(ctx, 1); }
cano_task_options counted_task() {
  cano_task_options options = CANO_TASK_OPTIONS_INIT;
  options.run = &noop;
  options.user_data = &destroyed;
  options.destroy = [](void* p) { ++*static_cast<int*>(p); };
  return options;
}
}  // namespace

TEST(Workflow, ValidateFollowsCanosOrderAndTexts) {
  auto wf = empty_workflow();
  ErrorPtr err;
  EXPECT_EQ(cano_workflow_validate(wf.get(), err.out()), CANO_E_CONFIGURATION);
  EXPECT_EQ(err.message(), "Workflow has no registered state handlers");
  ASSERT_EQ(cano_workflow_add_state(wf.get(), 0, "Start", nullptr), CANO_OK);
  ASSERT_EQ(cano_workflow_add_state(wf.get(), 1, "End", nullptr), CANO_OK);
  auto options = counted_task();
  ASSERT_EQ(cano_workflow_register(wf.get(), 0, &options, nullptr), CANO_OK);
  EXPECT_EQ(cano_workflow_validate(wf.get(), err.out()), CANO_E_CONFIGURATION);
  EXPECT_EQ(err.message(), "Workflow has no exit states defined — orchestration may loop forever");
  ASSERT_EQ(cano_workflow_add_exit_state(wf.get(), 1, nullptr), CANO_OK);
  ASSERT_EQ(cano_workflow_add_exit_state(wf.get(), 1, nullptr), CANO_OK) << "duplicates ignored";
  EXPECT_EQ(cano_workflow_validate(wf.get(), err.out()), CANO_OK);
  EXPECT_EQ(err.err, nullptr);
}

TEST(Workflow, ValidateInitialStateNamesTheState) {
  auto wf = empty_workflow();
  ASSERT_EQ(cano_workflow_add_state(wf.get(), 0, "Start", nullptr), CANO_OK);
  ASSERT_EQ(cano_workflow_add_state(wf.get(), 1, "End", nullptr), CANO_OK);
  ASSERT_EQ(cano_workflow_add_state(wf.get(), 2, "Orphan", nullptr), CANO_OK);
  ASSERT_EQ(cano_workflow_add_exit_state(wf.get(), 1, nullptr), CANO_OK);
  ErrorPtr err;
  EXPECT_EQ(cano_workflow_validate_initial_state(wf.get(), 1, err.out()), CANO_OK);
  EXPECT_EQ(cano_workflow_validate_initial_state(wf.get(), 2, err.out()), CANO_E_CONFIGURATION);
  EXPECT_EQ(err.message(), "Initial state Orphan is neither registered nor an exit state");
  int32_t code = -1;
  EXPECT_EQ(cano_error_state(err.err, &code), 1);
  EXPECT_EQ(code, 2);
}

TEST(Workflow, StatesHaveUniqueCodesAndNames) {
  auto wf = empty_workflow();
  ErrorPtr err;
  ASSERT_EQ(cano_workflow_add_state(wf.get(), 5, "Fetch", nullptr), CANO_OK);
  EXPECT_EQ(cano_workflow_add_state(wf.get(), 5, "Other", err.out()), CANO_E_CONFIGURATION);
  EXPECT_NE(err.message().find("\"Fetch\""), std::string::npos) << err.message();
  EXPECT_EQ(cano_workflow_add_state(wf.get(), 6, "Fetch", err.out()), CANO_E_CONFIGURATION);
  EXPECT_NE(err.message().find("state code 5"), std::string::npos) << err.message();
  EXPECT_EQ(cano_workflow_add_state(wf.get(), 7, "", err.out()), CANO_E_INVALID_ARGUMENT);
  EXPECT_EQ(cano_workflow_add_state(wf.get(), 7, nullptr, err.out()), CANO_E_INVALID_ARGUMENT);
  EXPECT_STREQ(cano_workflow_state_name(wf.get(), 5), "Fetch");
  EXPECT_EQ(cano_workflow_state_name(wf.get(), 9), nullptr);
  int32_t code = 0;
  EXPECT_EQ(cano_workflow_state_code(&code, wf.get(), "Fetch", nullptr), CANO_OK);
  EXPECT_EQ(code, 5);
  EXPECT_EQ(cano_workflow_state_code(&code, wf.get(), "Nope", err.out()), CANO_E_NOT_FOUND);
  EXPECT_NE(err.message().find("Nope"), std::string::npos);
}

TEST(Workflow, RegisterOwnsUserDataOnSuccessReplacementAndFailure) {
  destroyed = 0;
  {
    auto wf = empty_workflow();
    ASSERT_EQ(cano_workflow_add_state(wf.get(), 0, "Start", nullptr), CANO_OK);
    auto options = counted_task();
    ASSERT_EQ(cano_workflow_register(wf.get(), 0, &options, nullptr), CANO_OK);
    EXPECT_EQ(destroyed, 0);
    ASSERT_EQ(cano_workflow_register(wf.get(), 0, &options, nullptr), CANO_OK);
    EXPECT_EQ(destroyed, 1) << "the replaced task was destroyed";
    ErrorPtr err;
    EXPECT_EQ(cano_workflow_register(wf.get(), 3, &options, err.out()), CANO_E_CONFIGURATION);
    EXPECT_EQ(destroyed, 2) << "a failed registration still releases user_data";
    EXPECT_NE(err.message().find("state 3 is not declared"), std::string::npos) << err.message();
    cano_task_options bad = counted_task();
    bad.run = nullptr;
    EXPECT_EQ(cano_workflow_register(wf.get(), 0, &bad, err.out()), CANO_E_INVALID_ARGUMENT);
    EXPECT_NE(err.message().find("\"Start\""), std::string::npos);
    EXPECT_EQ(destroyed, 3);
    bad = counted_task();
    bad.mode = static_cast<cano_task_mode>(9);
    EXPECT_EQ(cano_workflow_register(wf.get(), 0, &bad, err.out()), CANO_E_INVALID_ARGUMENT);
    EXPECT_EQ(destroyed, 4);
    bad = counted_task();
    bad.struct_size = 4;
    EXPECT_EQ(cano_workflow_register(wf.get(), 0, &bad, err.out()), CANO_E_VERSION);
    EXPECT_EQ(cano_workflow_register(nullptr, 0, &options, err.out()), CANO_E_INVALID_ARGUMENT);
    EXPECT_EQ(destroyed, 5);
  }
  EXPECT_EQ(destroyed, 6) << "destroying the workflow releases the registered task";
}

TEST(Workflow, FirstRunFreezesTheWorkflow) {
  auto engine = make_engine();
  auto wf = empty_workflow();
  ASSERT_EQ(cano_workflow_add_state(wf.get(), 0, "Start", nullptr), CANO_OK);
  ASSERT_EQ(cano_workflow_add_state(wf.get(), 1, "End", nullptr), CANO_OK);
  auto options = task(go_to(1));
  ASSERT_EQ(cano_workflow_register(wf.get(), 0, &options, nullptr), CANO_OK);
  ASSERT_EQ(cano_workflow_add_exit_state(wf.get(), 1, nullptr), CANO_OK);
  ASSERT_EQ(cano_run_wait(nullptr, engine.get(), wf.get(), 0, nullptr), CANO_OK);
  ErrorPtr err;
  EXPECT_EQ(cano_workflow_add_state(wf.get(), 2, "Late", err.out()), CANO_E_BAD_STATE);
  EXPECT_NE(err.message().find("frozen"), std::string::npos);
  EXPECT_EQ(cano_workflow_add_exit_state(wf.get(), 0, err.out()), CANO_E_BAD_STATE);
  EXPECT_EQ(cano_workflow_set_timeout(wf.get(), 5, err.out()), CANO_E_BAD_STATE);
  auto again = task(go_to(1));
  EXPECT_EQ(cano_workflow_register(wf.get(), 0, &again, err.out()), CANO_E_BAD_STATE);
  EXPECT_NE(cano_workflow_resources(wf.get()), nullptr);
}

TEST(Workflow, SparseStateCodesWork) {
  auto engine = make_engine();
  auto wf = empty_workflow();
  ASSERT_EQ(cano_workflow_add_state(wf.get(), -2000000000, "Low", nullptr), CANO_OK);
  ASSERT_EQ(cano_workflow_add_state(wf.get(), 2000000000, "High", nullptr), CANO_OK);
  auto options = task(go_to(2000000000));
  ASSERT_EQ(cano_workflow_register(wf.get(), -2000000000, &options, nullptr), CANO_OK);
  ASSERT_EQ(cano_workflow_add_exit_state(wf.get(), 2000000000, nullptr), CANO_OK);
  int32_t final_state = 0;
  ASSERT_EQ(cano_run_wait(&final_state, engine.get(), wf.get(), -2000000000, nullptr), CANO_OK);
  EXPECT_EQ(final_state, 2000000000);
}

TEST(Workflow, NullArgumentsAreRejected) {
  ErrorPtr err;
  EXPECT_EQ(cano_workflow_create(nullptr, nullptr, err.out()), CANO_E_INVALID_ARGUMENT);
  EXPECT_NE(err.message().find("out"), std::string::npos);
  EXPECT_EQ(cano_workflow_add_state(nullptr, 0, "x", nullptr), CANO_E_INVALID_ARGUMENT);
  EXPECT_EQ(cano_workflow_validate(nullptr, nullptr), CANO_E_INVALID_ARGUMENT);
  cano_workflow_destroy(nullptr);
}
