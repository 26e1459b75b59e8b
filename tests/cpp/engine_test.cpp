// cano::engine: ownership, posting to the loop, the manual clock, thread rules; plus the
// version and log helpers.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <utility>

#include "cano/cano.hpp"
#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using cano_test::lifetime_counter;
using cano_test::tracked;

enum class Step { Go, Done };

TEST(CppEngine, OptionsReachTheEngine) {
  cano::engine engine(cano::engine_options().with_worker_threads(3).with_random_seed(7));
  EXPECT_EQ(engine.worker_count(), 3u);
  EXPECT_EQ(engine.runs_in_flight(), 0u);
  EXPECT_FALSE(engine.on_loop_thread());
}

TEST(CppEngine, MoveTransfersOwnership) {
  cano::engine first;
  cano_engine* native = first.native();
  cano::engine second = std::move(first);
  EXPECT_EQ(first.native(), nullptr);  // NOLINT: checking the moved-from state on purpose
  EXPECT_EQ(second.native(), native);
  cano::engine third;
  third = std::move(second);  // the engine third had is destroyed
  EXPECT_EQ(third.native(), native);
  cano::engine adopted(third.release());
  EXPECT_EQ(adopted.native(), native);
  EXPECT_EQ(third.native(), nullptr);  // NOLINT
}

TEST(CppEngine, PostRunsOnTheLoopThread) {
  cano::engine engine;
  std::promise<bool> on_loop;
  engine.post([&] { on_loop.set_value(engine.on_loop_thread()); });
  EXPECT_TRUE(on_loop.get_future().get());
}

TEST(CppEngine, PostAfterShutdownThrowsAndDestroysTheFunction) {
  auto counter = std::make_shared<lifetime_counter>();
  cano::engine engine;
  engine.shutdown();
  EXPECT_THROW(engine.post([t = tracked(counter)] {}), cano::shutdown_error);
  EXPECT_EQ(counter->alive(), 0);
}

TEST(CppEngine, PostedFunctionsAreDestroyedAfterRunning) {
  auto counter = std::make_shared<lifetime_counter>();
  {
    cano::engine engine;
    std::promise<void> ran;
    engine.post([t = tracked(counter), &ran] { ran.set_value(); });
    ran.get_future().get();
  }
  EXPECT_EQ(counter->alive(), 0);
}

TEST(CppEngine, ManualClockMovesOnlyWhenAdvanced) {
  cano::engine engine(cano::engine_options().with_manual_clock(500));
  EXPECT_EQ(engine.now(), 500ms);
  EXPECT_EQ(engine.next_deadline(), std::nullopt);
  engine.advance(250ms);
  EXPECT_EQ(engine.now(), 750ms);

  cano::engine real;
  EXPECT_THROW(real.advance(1ms), cano::bad_state_error);
}

TEST(CppEngine, BlockingRunOnTheLoopThreadIsRefused) {
  auto workflow = cano::workflow<Step>{{Step::Go, "Go"}, {Step::Done, "Done"}};
  workflow.register_task(Step::Go, [] { return Step::Done; }).add_exit_state(Step::Done);
  cano::engine engine;
  std::promise<cano_status> refused;
  engine.post([&] {
    try {
      workflow.orchestrate(engine, Step::Go);
      refused.set_value(CANO_OK);
    } catch (const cano::wrong_thread_error& e) {
      refused.set_value(e.code());
    } catch (...) {
      refused.set_value(CANO_E_INTERNAL);
    }
  });
  EXPECT_EQ(refused.get_future().get(), CANO_E_WRONG_THREAD);
}

TEST(CppEngine, CancellingAnUnknownRunThrowsNotFound) {
  cano::engine engine;
  EXPECT_THROW(engine.cancel(123456), cano::not_found_error);
}

TEST(CppVersion, RuntimeMatchesTheHeaders) {
  EXPECT_TRUE(cano::abi_compatible());
  EXPECT_EQ(cano::abi_major(), cano::compiled_abi_major);
  EXPECT_EQ(cano::version_number(), cano::compiled_version_number);
  EXPECT_EQ(cano::version_string(), CANO_VERSION_STRING);
}

TEST(CppLog, LevelRoundTripsAndHandlersAreReleased) {
  cano::log::level before = cano::log::get_level();
  cano::log::set_level(cano::log::level::debug);
  EXPECT_EQ(cano::log::get_level(), cano::log::level::debug);
  cano::log::set_level(before);

  auto counter = std::make_shared<lifetime_counter>();
  cano::log::set_handler([t = tracked(counter)](cano::log::level, std::string_view) {});
  EXPECT_EQ(counter->alive(), 1);
  cano::log::reset_handler();
  EXPECT_EQ(counter->alive(), 0);
}

}  // namespace
