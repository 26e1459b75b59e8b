// Error objects, status names, versions and logging through the C API (cano/error.h,
// cano/version.h, cano/log.h).
#include <cstring>
#include <string>
#include <vector>

#include "test_support.hpp"

using namespace cano_test;

TEST(Error, NewErrorsCarryCodeCategoryAndCanosDisplayPrefix) {
  cano_error* err = cano_error_new(CANO_E_CONFIGURATION, "bad config");
  ASSERT_NE(err, nullptr);
  EXPECT_EQ(cano_error_code(err), CANO_E_CONFIGURATION);
  EXPECT_STREQ(cano_error_category(err), "configuration");
  EXPECT_STREQ(cano_error_message(err), "bad config");
  EXPECT_STREQ(cano_error_display(err), "Configuration error: bad config");
  EXPECT_STREQ(cano_error_describe(err), "Configuration error: bad config");
  EXPECT_EQ(cano_error_cause(err), nullptr);
  EXPECT_EQ(cano_error_state(err, nullptr), 0);
  EXPECT_EQ(cano_error_state_name(err), nullptr);
  EXPECT_EQ(cano_error_task_name(err), nullptr);
  EXPECT_EQ(cano_error_attempt(err), 0u);
  EXPECT_EQ(cano_error_run_id(err), 0u);
  cano_error* copy = cano_error_clone(err);
  cano_error_free(err);
  EXPECT_STREQ(cano_error_message(copy), "bad config");
  cano_error_free(copy);
  cano_error_free(nullptr);
  EXPECT_EQ(cano_error_clone(nullptr), nullptr);
}

TEST(Error, EveryCanoCategoryHasItsNameAndPrefix) {
  struct Row {
    cano_status code;
    const char* category;
    const char* prefix;
  };
  const Row rows[] = {
      {CANO_E_TASK_EXECUTION, "task_execution", "Task execution error: "},
      {CANO_E_STORE, "store", "Store error: "},
      {CANO_E_WORKFLOW, "workflow", "Workflow error: "},
      {CANO_E_CONFIGURATION, "configuration", "Configuration error: "},
      {CANO_E_RETRY_EXHAUSTED, "retry_exhausted", "Retry exhausted: "},
      {CANO_E_TIMEOUT, "timeout", "Timeout error: "},
      {CANO_E_CIRCUIT_OPEN, "circuit_open", "Circuit open: "},
      {CANO_E_CHECKPOINT_STORE, "checkpoint_store", "Checkpoint store error: "},
      {CANO_E_COMPENSATION_FAILED, "compensation_failed", "Compensation failed: "},
      {CANO_E_GENERIC, "generic", "Error: "},
      {CANO_E_RESOURCE_NOT_FOUND, "resource_not_found", "Resource not found: "},
      {CANO_E_RESOURCE_TYPE_MISMATCH, "resource_type_mismatch", "Resource type mismatch: "},
      {CANO_E_RESOURCE_DUPLICATE_KEY, "resource_duplicate_key", "Resource duplicate key: "},
      {CANO_E_STORE_KEY_NOT_FOUND, "store", "Store error: "},
      {CANO_E_INVALID_ARGUMENT, "api", "API error: "},
  };
  for (const Row& row : rows) {
    cano_error* err = cano_error_new(row.code, "m");
    EXPECT_STREQ(cano_error_category(err), row.category) << row.code;
    EXPECT_EQ(std::string(cano_error_display(err)), std::string(row.prefix) + "m") << row.code;
    EXPECT_STRNE(cano_status_name(row.code), "UNKNOWN") << row.code;
    cano_error_free(err);
  }
  EXPECT_STREQ(cano_status_name(CANO_OK), "OK");
  EXPECT_STREQ(cano_status_name(CANO_E_STORE_KEY_NOT_FOUND), "STORE_KEY_NOT_FOUND");
  EXPECT_STREQ(cano_status_name(-999), "UNKNOWN");
}

TEST(Error, NonNegativeCodesBecomeTaskExecution) {
  cano_error* err = cano_error_new(7, nullptr);
  EXPECT_EQ(cano_error_code(err), CANO_E_TASK_EXECUTION);
  EXPECT_STREQ(cano_error_message(err), "");
  cano_error_free(err);
  EXPECT_EQ(cano_error_code(nullptr), CANO_E_INVALID_ARGUMENT);
  EXPECT_STREQ(cano_error_message(nullptr), "");
}

TEST(Error, CloneKeepsTheCauseChainOfARunError) {
  auto engine = make_engine(true);
  cano_workflow* raw = nullptr;
  ASSERT_EQ(cano_workflow_create(&raw, nullptr, nullptr), CANO_OK);
  WorkflowPtr wf(raw);
  ASSERT_EQ(cano_workflow_add_state(raw, 0, "Work", nullptr), CANO_OK);
  ASSERT_EQ(cano_workflow_add_state(raw, 1, "Done", nullptr), CANO_OK);
  auto options = task([](cano_task_ctx* ctx) { return cano_task_ctx_fail(ctx, -1, "boom"); });
  cano_task_options_retry_fixed(&options, 1, 0);
  ASSERT_EQ(cano_workflow_register(raw, 0, &options, nullptr), CANO_OK);
  ASSERT_EQ(cano_workflow_add_exit_state(raw, 1, nullptr), CANO_OK);
  ErrorPtr err;
  uint64_t id = 0;
  ASSERT_EQ(cano_run_wait(nullptr, engine.get(), raw, 0, err.out()), CANO_E_RETRY_EXHAUSTED);
  id = cano_error_run_id(err.err);
  EXPECT_NE(id, 0u);
  cano_error* copy = cano_error_clone(err.err);
  ASSERT_NE(cano_error_cause(copy), nullptr);
  EXPECT_STREQ(cano_error_message(cano_error_cause(copy)), "boom");
  EXPECT_EQ(cano_error_run_id(copy), id);
  cano_error_free(copy);
}

TEST(Version, RuntimeMatchesTheHeader) {
  EXPECT_STREQ(cano_version_string(), CANO_VERSION_STRING);
  EXPECT_EQ(cano_version_number(), CANO_VERSION_NUMBER);
  EXPECT_EQ(cano_abi_major(), CANO_ABI_MAJOR);
  EXPECT_TRUE(CANO_VERSION_AT_LEAST(0, 1, 0));
}

namespace {
struct Captured {
  std::mutex mutex;
  std::vector<std::pair<cano_log_level, std::string>> records;
  int destroyed = 0;
};
void capture(cano_log_level level, const char* message, void* user_data) {
  auto* captured = static_cast<Captured*>(user_data);
  std::lock_guard<std::mutex> lock(captured->mutex);
  captured->records.emplace_back(level, message);
}
}  // namespace

TEST(Log, QuietByDefaultAndRoutesRecordsToTheHandler) {
  EXPECT_EQ(cano_log_get_level(), CANO_LOG_WARN);
  EXPECT_EQ(cano_log_set_level(static_cast<cano_log_level>(42)), CANO_E_INVALID_ARGUMENT);
  Captured captured;
  ASSERT_EQ(cano_log_set_handler(&capture, &captured,
                                 [](void* p) { ++static_cast<Captured*>(p)->destroyed; }),
            CANO_OK);
  ASSERT_EQ(cano_log_set_level(CANO_LOG_DEBUG), CANO_OK);
  {
    // A retried task logs a debug record naming the task.
    auto engine = make_engine(true);
    cano_workflow* raw = nullptr;
    ASSERT_EQ(cano_workflow_create(&raw, nullptr, nullptr), CANO_OK);
    WorkflowPtr wf(raw);
    ASSERT_EQ(cano_workflow_add_state(raw, 0, "Work", nullptr), CANO_OK);
    ASSERT_EQ(cano_workflow_add_state(raw, 1, "Done", nullptr), CANO_OK);
    auto options = task([](cano_task_ctx* ctx) {
      return cano_task_ctx_attempt(ctx) == 1 ? cano_task_ctx_fail(ctx, -1, "first")
                                             : cano_task_ctx_next(ctx, 1);
    });
    options.name = "logged-task";
    cano_task_options_retry_fixed(&options, 1, 0);
    ASSERT_EQ(cano_workflow_register(raw, 0, &options, nullptr), CANO_OK);
    ASSERT_EQ(cano_workflow_add_exit_state(raw, 1, nullptr), CANO_OK);
    ASSERT_EQ(cano_run_wait(nullptr, engine.get(), raw, 0, nullptr), CANO_OK);
  }
  ASSERT_EQ(cano_log_set_level(CANO_LOG_WARN), CANO_OK);
  ASSERT_EQ(cano_log_set_handler(nullptr, nullptr, nullptr), CANO_OK);
  EXPECT_EQ(captured.destroyed, 1);
  std::lock_guard<std::mutex> lock(captured.mutex);
  bool found = false;
  for (const auto& record : captured.records) {
    if (record.first == CANO_LOG_DEBUG && record.second.find("logged-task") != std::string::npos) {
      found = true;
    }
  }
  EXPECT_TRUE(found);
}
