// Engines through the C API: options, threads, posting, the manual clock (cano/engine.h).
#include <atomic>
#include <thread>

#include "test_support.hpp"

using namespace cano_test;

TEST(Engine, CreatesWithDefaultsAndAtLeastTwoWorkers) {
  cano_engine* engine = nullptr;
  ASSERT_EQ(cano_engine_create(&engine, nullptr, nullptr), CANO_OK);
  EXPECT_GE(cano_engine_worker_count(engine), 2u);
  EXPECT_EQ(cano_engine_on_loop_thread(engine), 0);
  cano_engine_destroy(engine);
  cano_engine_destroy(nullptr);
}

TEST(Engine, RejectsBadOptions) {
  ErrorPtr err;
  cano_engine* engine = nullptr;
  EXPECT_EQ(cano_engine_create(nullptr, nullptr, err.out()), CANO_E_INVALID_ARGUMENT);
  cano_engine_options options = CANO_ENGINE_OPTIONS_INIT;
  options.struct_size = 2;
  EXPECT_EQ(cano_engine_create(&engine, &options, err.out()), CANO_E_VERSION);
  EXPECT_NE(err.message().find("struct_size"), std::string::npos);
  options = CANO_ENGINE_OPTIONS_INIT;
  options.clock = static_cast<cano_clock_kind>(7);
  EXPECT_EQ(cano_engine_create(&engine, &options, err.out()), CANO_E_INVALID_ARGUMENT);
  EXPECT_NE(err.message().find("clock"), std::string::npos);
  EXPECT_EQ(engine, nullptr);
}

TEST(Engine, PostRunsOnTheLoopThreadInOrder) {
  auto engine = make_engine();
  struct Probe {
    cano_engine* engine;
    std::atomic<int> order{0};
    std::atomic<int> first{-1}, second{-1};
    std::atomic<bool> on_loop{false};
  } probe{engine.get()};
  ASSERT_EQ(cano_engine_post(
                engine.get(),
                [](void* p) {
                  auto* probe = static_cast<Probe*>(p);
                  probe->on_loop = cano_engine_on_loop_thread(probe->engine) == 1;
                  probe->first = probe->order++;
                },
                &probe, nullptr),
            CANO_OK);
  ASSERT_EQ(cano_engine_post(
                engine.get(),
                [](void* p) { static_cast<Probe*>(p)->second = static_cast<Probe*>(p)->order++; },
                &probe, nullptr),
            CANO_OK);
  ASSERT_TRUE(eventually([&] { return probe.second.load() >= 0; }));
  EXPECT_TRUE(probe.on_loop.load());
  EXPECT_EQ(probe.first.load(), 0);
  EXPECT_EQ(probe.second.load(), 1);
  ErrorPtr err;
  EXPECT_EQ(cano_engine_post(engine.get(), nullptr, nullptr, err.out()), CANO_E_INVALID_ARGUMENT);
  ASSERT_EQ(cano_engine_shutdown(engine.get()), CANO_OK);
  int called = 0;
  EXPECT_EQ(cano_engine_post(
                engine.get(), [](void* p) { ++*static_cast<int*>(p); }, &called, err.out()),
            CANO_E_SHUTDOWN);
  EXPECT_EQ(called, 0);
}

TEST(Engine, ManualClockMovesOnlyWhenAdvanced) {
  cano_engine_options options = CANO_ENGINE_OPTIONS_INIT;
  options.clock = CANO_CLOCK_MANUAL;
  options.manual_clock_start_ms = 1000;
  cano_engine* raw = nullptr;
  ASSERT_EQ(cano_engine_create(&raw, &options, nullptr), CANO_OK);
  EnginePtr engine(raw);
  EXPECT_EQ(cano_engine_clock_now(raw), 1000u);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(cano_engine_clock_now(raw), 1000u);
  ASSERT_EQ(cano_engine_clock_advance(raw, 250, nullptr), CANO_OK);
  EXPECT_EQ(cano_engine_clock_now(raw), 1250u);
  uint64_t deadline = 0;
  ErrorPtr err;
  EXPECT_EQ(cano_engine_clock_next_deadline(&deadline, raw, err.out()), CANO_E_NOT_FOUND);
}

TEST(Engine, RealClockRefusesManualAdvance) {
  auto engine = make_engine(false);
  ErrorPtr err;
  EXPECT_EQ(cano_engine_clock_advance(engine.get(), 1, err.out()), CANO_E_BAD_STATE);
  EXPECT_NE(err.message().find("CANO_CLOCK_MANUAL"), std::string::npos);
  uint64_t a = cano_engine_clock_now(engine.get());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_GE(cano_engine_clock_now(engine.get()), a + 10);
}

TEST(Engine, ShutdownFromAnEngineThreadIsRefused) {
  auto engine = make_engine();
  struct Probe {
    cano_engine* engine;
    std::atomic<cano_status> status{CANO_OK};
    std::atomic<bool> done{false};
  } probe{engine.get()};
  ASSERT_EQ(cano_engine_post(
                engine.get(),
                [](void* p) {
                  auto* probe = static_cast<Probe*>(p);
                  probe->status = cano_engine_shutdown(probe->engine);
                  probe->done = true;
                },
                &probe, nullptr),
            CANO_OK);
  ASSERT_TRUE(eventually([&] { return probe.done.load(); }));
  EXPECT_EQ(probe.status.load(), CANO_E_WRONG_THREAD);
  EXPECT_EQ(cano_engine_shutdown(nullptr), CANO_E_INVALID_ARGUMENT);
}

TEST(Engine, ManualClockCannotBeAdvancedFromTheLoopThread) {
  auto engine = make_engine(/*manual_clock=*/true);
  struct Probe {
    cano_engine* engine;
    std::atomic<cano_status> status{CANO_OK};
    std::atomic<bool> done{false};
  } probe{engine.get()};
  ASSERT_EQ(cano_engine_post(
                engine.get(),
                [](void* p) {
                  auto* probe = static_cast<Probe*>(p);
                  probe->status = cano_engine_clock_advance(probe->engine, 10, nullptr);
                  probe->done = true;
                },
                &probe, nullptr),
            CANO_OK);
  ASSERT_TRUE(eventually([&] { return probe.done.load(); }));
  EXPECT_EQ(probe.status.load(), CANO_E_WRONG_THREAD);
  EXPECT_EQ(cano_engine_clock_now(engine.get()), 0u);
  EXPECT_EQ(cano_engine_clock_advance(engine.get(), 10, nullptr), CANO_OK);  // from here it works
  EXPECT_EQ(cano_engine_clock_now(engine.get()), 10u);
}
