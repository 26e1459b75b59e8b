// Timer tasks through the C++ wrapper: cano::timer (after, until, wait), wait_for and
// wait_until, register_timer waiting on an engine timer before the body (timed with the manual
// clock), the wait callable per attempt and its failures, the one-attempt default, the attempt
// timeout bounding the wait, and ownership.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "cano/cano.hpp"
#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using cano_test::lifetime_counter;
using cano_test::tracked;

enum class Step { Wait, Done };

cano::workflow<Step> make_workflow() {
  cano::workflow<Step> wf{{Step::Wait, "Wait"}, {Step::Done, "Done"}};
  wf.add_exit_state(Step::Done);
  return wf;
}

// The clock readings (ms) at which a body ran, shared by the copies of a body.
struct clock_log {
  std::mutex mutex;
  std::vector<std::int64_t> readings;

  void note(const cano::task_context& ctx) {
    std::lock_guard<std::mutex> lock(mutex);
    readings.push_back(static_cast<std::int64_t>(cano_engine_clock_now(ctx.engine())));
  }
  std::vector<std::int64_t> get() {
    std::lock_guard<std::mutex> lock(mutex);
    return readings;
  }
};

// A body that notes the clock and goes to Done (or throws "again" on the attempts listed).
struct noting_body {
  std::shared_ptr<clock_log> log;
  std::uint32_t failing_attempts = 0;  // attempts 1..failing_attempts throw

  Step operator()(cano::task_context& ctx) const {
    log->note(ctx);
    if (ctx.attempt() <= failing_attempts) throw std::runtime_error("again");
    return Step::Done;
  }
};

cano::run_result<Step> drive(cano::workflow<Step>& wf, cano::engine& engine) {
  cano::run_handle<Step> run = wf.start(engine, Step::Wait);
  EXPECT_TRUE(cano_test::drive_to_end(engine, run));
  return run.result();
}

cano::engine manual_engine(std::uint64_t start_ms = 0) {
  return cano::engine(cano::engine_options().with_manual_clock(start_ms));
}

TEST(CppTimerValues, AfterUntilWaitAndTheirRounding) {
  cano::timer after = cano::timer::after(1500us);
  EXPECT_EQ(after.delay(), 2ms) << "rounds up";
  EXPECT_EQ(after.native().delay_ms, 2u);
  EXPECT_EQ(after.native().until_ms, 0u);
  EXPECT_FALSE(after.has_wait());
  EXPECT_EQ(cano::timer::after(-3s).delay(), 0ms);

  cano::timer until = cano::timer::until(2s);
  EXPECT_EQ(until.until_reading(), 2000ms);
  EXPECT_EQ(until.native().until_ms, 2000u);
  EXPECT_EQ(until.native().wait, nullptr);

  cano::timer wait = cano::timer::wait([] { return cano::wait_for(1s); });
  EXPECT_TRUE(wait.has_wait());
  EXPECT_EQ(wait.native().wait, nullptr) << "register_timer sets the callback";

  cano::timer_wait delay = cano::wait_for(250us);
  EXPECT_TRUE(delay.is_delay());
  EXPECT_EQ(delay.value(), 1ms);
  EXPECT_EQ(cano::wait_for(-1s).value(), 0ms);
  cano::timer_wait reading = cano::wait_until(std::chrono::seconds(3));
  EXPECT_TRUE(reading.is_until());
  EXPECT_EQ(reading.what(), cano::timer_wait::kind::until);
  EXPECT_EQ(reading.value(), 3000ms);
}

class CppTimerModes : public ::testing::TestWithParam<cano::task_mode> {};

TEST_P(CppTimerModes, WaitsItsDelayThenRunsTheBody) {
  auto log = std::make_shared<clock_log>();
  auto wf = make_workflow();
  wf.register_timer(Step::Wait, noting_body{log}, cano::timer::after(250ms),
                    cano::task_config::minimal().with_mode(GetParam()));
  cano::engine engine = manual_engine(1000);
  auto result = drive(wf, engine);
  ASSERT_TRUE(result.ok()) << result.failure()->what();
  EXPECT_EQ(result.state(), Step::Done);
  EXPECT_EQ(log->get(), (std::vector<std::int64_t>{1250}));
}

INSTANTIATE_TEST_SUITE_P(Modes, CppTimerModes,
                         ::testing::Values(cano::task_mode::inline_, cano::task_mode::worker),
                         [](const ::testing::TestParamInfo<cano::task_mode>& info) {
                           return std::string(info.param == cano::task_mode::inline_ ? "Inline"
                                                                                     : "Worker");
                         });

TEST(CppTimer, NoThreadIsHeldWhileItWaits) {
  auto log = std::make_shared<clock_log>();
  auto wf = make_workflow();
  wf.register_timer(Step::Wait, noting_body{log}, cano::timer::after(100ms));
  cano::engine engine = manual_engine();
  cano::run_handle<Step> run = wf.start(engine, Step::Wait);
  ASSERT_TRUE(cano_test::wait_until([&] { return engine.next_deadline().has_value(); }));
  EXPECT_EQ(engine.next_deadline(), std::optional(100ms));
  EXPECT_FALSE(run.wait_for(20ms));
  engine.advance(99ms);
  EXPECT_TRUE(log->get().empty());
  engine.advance(1ms);
  EXPECT_EQ(run.get(), Step::Done);
  EXPECT_EQ(log->get(), (std::vector<std::int64_t>{100}));
}

TEST(CppTimer, UntilAClockReadingAndAReadingInThePast) {
  {
    auto log = std::make_shared<clock_log>();
    auto wf = make_workflow();
    wf.register_timer(Step::Wait, noting_body{log}, cano::timer::until(1400ms));
    cano::engine engine = manual_engine(1000);
    ASSERT_TRUE(drive(wf, engine).ok());
    EXPECT_EQ(log->get(), (std::vector<std::int64_t>{1400}));
  }
  {
    auto log = std::make_shared<clock_log>();
    auto wf = make_workflow();
    wf.register_timer(Step::Wait, noting_body{log}, cano::timer::until(500ms));
    cano::engine engine = manual_engine(1000);
    ASSERT_TRUE(drive(wf, engine).ok());
    EXPECT_EQ(log->get(), (std::vector<std::int64_t>{1000})) << "a past reading waits no time";
  }
}

TEST(CppTimer, TheWaitCallableDecidesEachAttempt) {
  auto log = std::make_shared<clock_log>();
  auto asked = std::make_shared<std::vector<std::uint32_t>>();
  auto wf = make_workflow();
  wf.register_timer(Step::Wait, noting_body{log, 1},
                    cano::timer::wait([asked](cano::task_context& ctx) {
                      asked->push_back(ctx.attempt());
                      return ctx.attempt() == 1 ? cano::wait_for(100ms)
                                                : cano::wait_until(1000ms);
                    }),
                    cano::task_config().with_fixed_retry(1, 50ms));
  cano::engine engine = manual_engine();
  auto result = drive(wf, engine);
  ASSERT_TRUE(result.ok()) << result.failure()->what();
  // Attempt 1 waits 100 ms and fails; attempt 2 starts at 150 and waits until 1000.
  EXPECT_EQ(log->get(), (std::vector<std::int64_t>{100, 1000}));
  EXPECT_EQ(*asked, (std::vector<std::uint32_t>{1, 2}));
}

TEST(CppTimer, AWaitCallableThatThrowsFailsTheAttemptWithoutTheBody) {
  cano::engine engine = manual_engine();
  {
    // Retried: the second attempt's wait succeeds.
    auto log = std::make_shared<clock_log>();
    auto wf = make_workflow();
    wf.register_timer(Step::Wait, noting_body{log},
                      cano::timer::wait([](cano::task_context& ctx) {
                        if (ctx.attempt() == 1) throw cano::resource_not_found_error("no clock");
                        return cano::wait_for(10ms);
                      }),
                      cano::task_config().with_fixed_retry(1, 100ms));
    auto result = drive(wf, engine);
    ASSERT_TRUE(result.ok()) << result.failure()->what();
    EXPECT_EQ(log->get(), (std::vector<std::int64_t>{110}));
  }
  {
    // Exhausted: the wait's error, wrapped, and the body never ran.
    auto log = std::make_shared<clock_log>();
    auto wf = make_workflow();
    wf.register_timer(Step::Wait, noting_body{log},
                      cano::timer::wait([]() -> cano::timer_wait {
                        throw std::runtime_error("no clock");
                      }),
                      cano::task_config().with_fixed_retry(2, 0ms));
    auto result = drive(wf, engine);
    ASSERT_FALSE(result.ok());
    EXPECT_THROW(result.get(), cano::retry_exhausted_error);
    EXPECT_STREQ(result.failure()->message(),
                 "Task failed after 3 attempt(s): Task execution error: no clock");
    EXPECT_TRUE(log->get().empty());
  }
  {
    // A fatal error: the raw error at once, whatever the retries.
    auto log = std::make_shared<clock_log>();
    auto wf = make_workflow();
    wf.register_timer(Step::Wait, noting_body{log},
                      cano::timer::wait([](cano::resources&) -> cano::timer_wait {
                        throw cano::fatal_error("no clock", CANO_E_RESOURCE_NOT_FOUND);
                      }),
                      cano::task_config().with_fixed_retry(2, 0ms));
    auto result = drive(wf, engine);
    ASSERT_FALSE(result.ok());
    EXPECT_THROW(result.get(), cano::resource_not_found_error);
    EXPECT_STREQ(result.failure()->message(), "no clock");
    EXPECT_EQ(result.failure()->attempt(), 1u);
    EXPECT_TRUE(log->get().empty());
  }
}

TEST(CppTimer, DefaultsToOneAttempt) {
  cano::engine engine = manual_engine();
  for (const cano::task_config& config :
       {cano::task_config::minimal(), cano::task_config(), cano::task_config().with_name("t")}) {
    auto log = std::make_shared<clock_log>();
    auto wf = make_workflow();
    wf.register_timer(Step::Wait, noting_body{log, 5}, cano::timer::after(10ms), config);
    auto result = drive(wf, engine);
    ASSERT_FALSE(result.ok());
    EXPECT_THROW(result.get(), cano::task_execution_error) << "the raw error: one attempt";
    EXPECT_STREQ(result.failure()->message(), "again");
    EXPECT_EQ(log->get().size(), 1u);
  }
  // The default argument is minimal() too.
  auto log = std::make_shared<clock_log>();
  auto wf = make_workflow();
  wf.register_timer(Step::Wait, noting_body{log, 5}, cano::timer::after(10ms));
  EXPECT_THROW(drive(wf, engine).get(), cano::task_execution_error);
  EXPECT_EQ(log->get().size(), 1u);
}

TEST(CppTimer, TheAttemptTimeoutBoundsTheWait) {
  auto log = std::make_shared<clock_log>();
  auto wf = make_workflow();
  wf.register_timer(Step::Wait, noting_body{log}, cano::timer::after(500ms),
                    cano::task_config().with_fixed_retry(1, 50ms).with_attempt_timeout(100ms));
  cano::engine engine = manual_engine();
  auto result = drive(wf, engine);
  ASSERT_FALSE(result.ok());
  EXPECT_THROW(result.get(), cano::retry_exhausted_error);
  EXPECT_STREQ(result.failure()->message(),
               "Task failed after 2 attempt(s): Timeout error: task attempt exceeded "
               "attempt_timeout");
  EXPECT_TRUE(log->get().empty()) << "the body never ran";
  EXPECT_EQ(engine.now(), 250ms) << "timeouts at 100 and 150 + 100";
}

TEST(CppTimer, AnAsyncBodyFinishesLater) {
  auto wf = make_workflow();
  std::atomic<std::int64_t> at{-1};
  wf.register_timer(
      Step::Wait,
      [&at](cano::task_context& ctx) {
        at = static_cast<std::int64_t>(cano_engine_clock_now(ctx.engine()));
        ctx.complete_later<Step>().complete(Step::Done);
      },
      cano::timer::after(40ms), cano::task_config::minimal().with_mode(cano::task_mode::async));
  cano::engine engine = manual_engine();
  auto result = drive(wf, engine);
  ASSERT_TRUE(result.ok()) << result.failure()->what();
  EXPECT_EQ(at.load(), 40);
}

TEST(CppTimer, ABodyMayStepWithinItsAttempt) {
  auto wf = make_workflow();
  auto cursors = std::make_shared<std::vector<std::string>>();
  wf.register_timer(
      Step::Wait,
      [cursors](cano::task_context& ctx) -> cano::step_result<Step> {
        auto cursor = ctx.cursor();
        cursors->push_back(cursor ? std::string(*cursor) : "-");
        if (!cursor) return cano::more(1);
        return Step::Done;
      },
      cano::timer::after(5ms), cano::task_config::minimal().with_mode(cano::task_mode::inline_));
  cano::engine engine = manual_engine();
  ASSERT_TRUE(drive(wf, engine).ok());
  EXPECT_EQ(*cursors, (std::vector<std::string>{"-", "1"}));
}

struct counted_body {
  tracked tracker;
  Step operator()() const { return Step::Done; }
};

TEST(CppTimer, RegistrationRulesAndOwnership) {
  auto counter = std::make_shared<lifetime_counter>();
  {
    cano::timer when = cano::timer::wait([t = tracked(counter)] { return cano::wait_for(1ms); });
    EXPECT_EQ(counter->alive(), 1);
    auto wf = make_workflow();
    EXPECT_THROW(wf.register_timer(Step::Wait, [](cano::task_context&) {}, when),
                 cano::configuration_error)
        << "finishing later needs task_mode::async";
    cano::workflow<Step> partial{{Step::Done, "Done"}};
    EXPECT_THROW(partial.register_timer(Step::Wait, counted_body{tracked(counter)}, when),
                 cano::configuration_error);
    EXPECT_EQ(counter->alive(), 1) << "a failed registration destroys what it copied";

    wf.register_timer(Step::Wait, counted_body{tracked(counter)}, when);
    EXPECT_EQ(counter->alive(), 3) << "the body and a copy of the wait callable";
    cano::engine engine(cano::engine_options().with_manual_clock());
    auto result = drive(wf, engine);
    EXPECT_TRUE(result.ok());
    EXPECT_THROW(wf.register_timer(Step::Wait, counted_body{tracked(counter)}, when),
                 cano::bad_state_error);
    EXPECT_EQ(counter->alive(), 3);
  }
  EXPECT_EQ(counter->alive(), 0);
  EXPECT_EQ(counter->constructed.load(), counter->destroyed.load());
}

}  // namespace
