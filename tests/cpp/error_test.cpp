// The exception hierarchy: codes, categories, texts and the mapping from C errors to classes.
#include <gtest/gtest.h>

#include <string>

#include "cano/cano.hpp"

namespace {

// Throws a library-made error with `code` through the wrapper's conversion helper.
[[noreturn]] void throw_code(cano_status code, const char* message = "m") {
  cano::detail::throw_error(code, cano_error_new(code, message));
}

template <class Expected>
void expect_mapped(cano_status code, const char* category) {
  SCOPED_TRACE(cano_status_name(code));
  try {
    throw_code(code);
  } catch (const Expected& e) {
    EXPECT_EQ(e.code(), code);
    EXPECT_STREQ(e.category(), category);
    EXPECT_STREQ(e.message(), "m");
    return;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "caught the wrong class: " << e.what();
    return;
  }
}

TEST(CppError, ConstructedErrorCarriesCodeCategoryAndTexts) {
  cano::task_execution_error e("boom");
  EXPECT_EQ(e.code(), CANO_E_TASK_EXECUTION);
  EXPECT_STREQ(e.code_name(), "TASK_EXECUTION");
  EXPECT_STREQ(e.category(), "task_execution");
  EXPECT_STREQ(e.message(), "boom");
  EXPECT_STREQ(e.display(), "Task execution error: boom");
  EXPECT_EQ(std::string(e.what()).rfind("Task execution error: boom", 0), 0u) << e.what();
  EXPECT_STREQ(e.what(), e.describe());
  EXPECT_FALSE(e.state_code().has_value());
  EXPECT_EQ(e.state_name(), "");
  EXPECT_EQ(e.task_name(), "");
  EXPECT_EQ(e.attempt(), 0u);
  EXPECT_EQ(e.run_id(), 0u);
  EXPECT_FALSE(e.cause().has_value());
}

TEST(CppError, NonNegativeCodeBecomesTaskExecution) {
  cano::error e(7, "positive");
  EXPECT_EQ(e.code(), CANO_E_TASK_EXECUTION);
}

TEST(CppError, EachCanoCategoryMapsToItsClass) {
  expect_mapped<cano::task_execution_error>(CANO_E_TASK_EXECUTION, "task_execution");
  expect_mapped<cano::store_error>(CANO_E_STORE, "store");
  expect_mapped<cano::workflow_error>(CANO_E_WORKFLOW, "workflow");
  expect_mapped<cano::configuration_error>(CANO_E_CONFIGURATION, "configuration");
  expect_mapped<cano::retry_exhausted_error>(CANO_E_RETRY_EXHAUSTED, "retry_exhausted");
  expect_mapped<cano::timeout_error>(CANO_E_TIMEOUT, "timeout");
  expect_mapped<cano::circuit_open_error>(CANO_E_CIRCUIT_OPEN, "circuit_open");
  expect_mapped<cano::checkpoint_store_error>(CANO_E_CHECKPOINT_STORE, "checkpoint_store");
  expect_mapped<cano::compensation_failed_error>(CANO_E_COMPENSATION_FAILED,
                                                 "compensation_failed");
  expect_mapped<cano::generic_error>(CANO_E_GENERIC, "generic");
  expect_mapped<cano::resource_not_found_error>(CANO_E_RESOURCE_NOT_FOUND, "resource_not_found");
  expect_mapped<cano::resource_type_mismatch_error>(CANO_E_RESOURCE_TYPE_MISMATCH,
                                                    "resource_type_mismatch");
  expect_mapped<cano::resource_duplicate_key_error>(CANO_E_RESOURCE_DUPLICATE_KEY,
                                                    "resource_duplicate_key");
}

TEST(CppError, StoreCodesAreStoreErrors) {
  expect_mapped<cano::key_not_found_error>(CANO_E_STORE_KEY_NOT_FOUND, "store");
  expect_mapped<cano::type_mismatch_error>(CANO_E_STORE_TYPE_MISMATCH, "store");
  expect_mapped<cano::append_type_mismatch_error>(CANO_E_STORE_APPEND_TYPE_MISMATCH, "store");
  // The finer classes derive from store_error, so one handler catches all of them.
  expect_mapped<cano::store_error>(CANO_E_STORE_KEY_NOT_FOUND, "store");
  expect_mapped<cano::store_error>(CANO_E_STORE_APPEND_TYPE_MISMATCH, "store");
}

TEST(CppError, ApiCodesAreApiErrors) {
  expect_mapped<cano::invalid_argument_error>(CANO_E_INVALID_ARGUMENT, "api");
  expect_mapped<cano::no_memory_error>(CANO_E_NO_MEMORY, "api");
  expect_mapped<cano::wrong_thread_error>(CANO_E_WRONG_THREAD, "api");
  expect_mapped<cano::bad_state_error>(CANO_E_BAD_STATE, "api");
  expect_mapped<cano::cancelled_error>(CANO_E_CANCELLED, "api");
  expect_mapped<cano::shutdown_error>(CANO_E_SHUTDOWN, "api");
  expect_mapped<cano::version_error>(CANO_E_VERSION, "api");
  expect_mapped<cano::not_found_error>(CANO_E_NOT_FOUND, "api");
  expect_mapped<cano::internal_error>(CANO_E_INTERNAL, "api");
  expect_mapped<cano::user_error>(CANO_E_USER, "api");
  expect_mapped<cano::api_error>(CANO_E_CANCELLED, "api");
}

TEST(CppError, EveryClassIsACanoErrorAndAStdException) {
  try {
    throw_code(CANO_E_RESOURCE_NOT_FOUND);
  } catch (const std::exception& e) {
    EXPECT_NE(dynamic_cast<const cano::error*>(&e), nullptr);
    EXPECT_EQ(dynamic_cast<const cano::store_error*>(&e), nullptr);
  }
}

TEST(CppError, MissingErrorObjectStillThrowsWithTheStatusName) {
  try {
    cano::detail::throw_error(CANO_E_SHUTDOWN, nullptr);
  } catch (const cano::shutdown_error& e) {
    EXPECT_EQ(e.code(), CANO_E_SHUTDOWN);
    EXPECT_STREQ(e.message(), "SHUTDOWN");
  }
}

TEST(CppError, CheckPassesSuccessAndThrowsFailure) {
  EXPECT_EQ(cano::detail::check(CANO_OK, nullptr), CANO_OK);
  EXPECT_THROW(cano::detail::check(CANO_E_TIMEOUT, cano_error_new(CANO_E_TIMEOUT, "slow")),
               cano::timeout_error);
}

TEST(CppError, CopiesShareOneImmutableError) {
  cano::workflow_error original("x");
  cano::workflow_error copy = original;
  EXPECT_EQ(copy.native(), original.native());
  EXPECT_EQ(copy.what(), original.what());
}

TEST(CppError, RethrowKeepsTheMostSpecificClass) {
  cano::error base(CANO_E_STORE_TYPE_MISMATCH, "wrong type");
  EXPECT_THROW(base.rethrow(), cano::type_mismatch_error);
}

TEST(CppError, SubclassesUseTheirOwnCode) {
  EXPECT_EQ(cano::timeout_error("t").code(), CANO_E_TIMEOUT);
  EXPECT_EQ(cano::key_not_found_error("k").code(), CANO_E_STORE_KEY_NOT_FOUND);
  EXPECT_EQ(cano::cancelled_error("c").code(), CANO_E_CANCELLED);
  EXPECT_EQ(cano::cancelled_error::default_code, CANO_E_CANCELLED);
}

}  // namespace
