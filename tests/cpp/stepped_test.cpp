// Stepped tasks through the C++ wrapper: step_result, more() and done(), the cursor codecs,
// register_stepped (cursors carried from step to step, per-step retries and attempt timeouts
// with the same cursor, typed cursors), and a plainly registered task that steps (the whole
// loop one attempt, a retry restarting without a cursor). Timed with the manual clock.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cano/cano.hpp"
#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using cano_test::lifetime_counter;
using cano_test::tracked;

enum class Step { Work, Check, Done };

cano::workflow<Step> make_workflow() {
  cano::workflow<Step> wf{{Step::Work, "Work"}, {Step::Check, "Check"}, {Step::Done, "Done"}};
  wf.add_exit_state(Step::Done);
  return wf;
}

// One line per body call: "<cursor or -> a<attempt> t<clock>", shared by the copies of a body.
struct call_log {
  std::mutex mutex;
  std::vector<std::string> lines;

  void note(const cano::task_context& ctx, std::optional<std::string_view> cursor) {
    std::string line = (cursor ? std::string(*cursor) : std::string("-")) + " a" +
                       std::to_string(ctx.attempt()) + " t" +
                       std::to_string(cano_engine_clock_now(ctx.engine()));
    std::lock_guard<std::mutex> lock(mutex);
    lines.push_back(std::move(line));
  }
  std::vector<std::string> get() {
    std::lock_guard<std::mutex> lock(mutex);
    return lines;
  }
};

cano::run_result<Step> drive(cano::workflow<Step>& wf, cano::engine& engine,
                             Step initial = Step::Work) {
  cano::run_handle<Step> run = wf.start(engine, initial);
  EXPECT_TRUE(cano_test::drive_to_end(engine, run));
  return run.result();
}

cano::engine manual_engine() { return cano::engine(cano::engine_options().with_manual_clock()); }

TEST(CppStepResult, MoreAndDone) {
  cano::step_result<Step> done = cano::done(Step::Done);
  EXPECT_TRUE(done.is_done());
  EXPECT_FALSE(done.is_more());
  EXPECT_EQ(done.next(), Step::Done);
  EXPECT_EQ(done.cursor(), "");
  cano::step_result<Step> implicit = Step::Check;
  EXPECT_TRUE(implicit.is_done());
  EXPECT_EQ(implicit.next(), Step::Check);
  EXPECT_EQ(cano::step_result<Step>::done(Step::Work).next(), Step::Work);

  cano::step_result<Step> more = cano::more(std::string("page-2"));
  EXPECT_TRUE(more.is_more());
  EXPECT_EQ(more.cursor(), "page-2");
  EXPECT_EQ(cano::step_result<Step>(cano::more("c-string")).cursor(), "c-string");
  EXPECT_EQ(cano::step_result<Step>(cano::more(std::string_view("view"))).cursor(), "view");
  EXPECT_EQ(cano::step_result<Step>::more(42).cursor(), "42");
  EXPECT_EQ(cano::more(std::vector<std::uint8_t>{0, 255, 'a'}).cursor,
            std::string("\0\xff" "a", 3));
  EXPECT_EQ(cano::more(-7L).cursor, "-7");
  EXPECT_EQ(cano::more(std::uint64_t{18446744073709551615u}).cursor, "18446744073709551615");
}

TEST(CppCursorCodec, DecodesWhatItEncodes) {
  EXPECT_EQ(cano::cursor_codec<int>::decode("42"), 42);
  EXPECT_EQ(cano::cursor_codec<long long>::decode("-9000000000"), -9000000000LL);
  EXPECT_EQ(cano::cursor_codec<std::string>::decode("text"), "text");
  EXPECT_EQ(cano::cursor_codec<std::string_view>::decode("view"), "view");
  EXPECT_EQ(cano::cursor_codec<std::vector<std::uint8_t>>::decode(std::string_view("\0a", 2)),
            (std::vector<std::uint8_t>{0, 'a'}));
  for (std::string_view bad : {"", "4x", " 4", "x", "1.5"}) {
    EXPECT_THROW(cano::cursor_codec<int>::decode(bad), cano::task_execution_error) << bad;
  }
}

class CppSteppedModes : public ::testing::TestWithParam<cano::task_mode> {};

TEST_P(CppSteppedModes, CarriesTheCursorFromStepToStep) {
  auto log = std::make_shared<call_log>();
  auto wf = make_workflow();
  wf.register_stepped(
      Step::Work,
      [log](cano::task_context& ctx,
            std::optional<std::string_view> cursor) -> cano::step_result<Step> {
        log->note(ctx, cursor);
        if (!cursor) return cano::more("a");
        if (*cursor == "a") return cano::more(std::string("b"));
        return cano::done(Step::Done);
      },
      cano::task_config::minimal().with_mode(GetParam()));
  cano::engine engine = manual_engine();
  auto result = drive(wf, engine);
  ASSERT_TRUE(result.ok()) << result.failure()->what();
  EXPECT_EQ(result.state(), Step::Done);
  EXPECT_EQ(log->get(), (std::vector<std::string>{"- a1 t0", "a a1 t0", "b a1 t0"}));
}

INSTANTIATE_TEST_SUITE_P(Modes, CppSteppedModes,
                         ::testing::Values(cano::task_mode::inline_, cano::task_mode::worker),
                         [](const ::testing::TestParamInfo<cano::task_mode>& info) {
                           return std::string(info.param == cano::task_mode::inline_ ? "Inline"
                                                                                     : "Worker");
                         });

TEST(CppStepped, AnEmptyCursorIsACursor) {
  auto log = std::make_shared<call_log>();
  auto wf = make_workflow();
  wf.register_stepped(
      Step::Work,
      [log](cano::task_context& ctx,
            std::optional<std::string_view> cursor) -> cano::step_result<Step> {
        log->note(ctx, cursor);
        if (!cursor) return cano::more("");
        return Step::Done;
      },
      cano::task_config::minimal().with_mode(cano::task_mode::inline_));
  cano::engine engine = manual_engine();
  EXPECT_EQ(wf.orchestrate(engine, Step::Work), Step::Done);
  EXPECT_EQ(log->get(), (std::vector<std::string>{"- a1 t0", " a1 t0"}));
}

TEST(CppStepped, TypedCursorAndTheCursorOnlyForm) {
  auto seen = std::make_shared<std::vector<int>>();
  auto wf = make_workflow();
  // Counts 0..4 in an int cursor, without the context.
  wf.register_stepped<int>(
      Step::Work,
      [seen](std::optional<int> cursor) -> cano::step_result<Step> {
        int n = cursor.value_or(0);
        seen->push_back(n);
        if (n < 4) return cano::more(n + 1);
        return Step::Done;
      },
      cano::task_config::minimal().with_mode(cano::task_mode::inline_));
  cano::engine engine = manual_engine();
  EXPECT_EQ(wf.orchestrate(engine, Step::Work), Step::Done);
  EXPECT_EQ(*seen, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(CppStepped, ACursorThatDoesNotDecodeFailsTheStep) {
  auto wf = make_workflow();
  wf.register_stepped<int>(
      Step::Work,
      [](cano::task_context&, std::optional<int> cursor) -> cano::step_result<Step> {
        if (!cursor) return cano::more("not a number");
        return Step::Done;
      },
      cano::task_config::minimal().with_mode(cano::task_mode::inline_));
  cano::engine engine = manual_engine();
  auto result = drive(wf, engine);
  ASSERT_FALSE(result.ok());
  EXPECT_THROW(result.get(), cano::task_execution_error);
  EXPECT_STREQ(result.failure()->message(),
               "cursor \"not a number\" is not a decimal integer of the step's cursor type");
}

TEST(CppStepped, EachStepRetriesWithTheSameCursor) {
  auto log = std::make_shared<call_log>();
  auto wf = make_workflow();
  wf.register_stepped(
      Step::Work,
      [log](cano::task_context& ctx,
            std::optional<std::string_view> cursor) -> cano::step_result<Step> {
        log->note(ctx, cursor);
        if (!cursor) return cano::more("1");
        if (*cursor == "1") {
          if (ctx.attempt() < 3) throw std::runtime_error("flaky");
          return cano::more("2");
        }
        return Step::Done;
      },
      cano::task_config().with_fixed_retry(2, 50ms).with_mode(cano::task_mode::inline_));
  cano::engine engine = manual_engine();
  auto result = drive(wf, engine);
  ASSERT_TRUE(result.ok()) << result.failure()->what();
  // The second step fails twice and is retried with its cursor; the third starts at attempt 1.
  EXPECT_EQ(log->get(), (std::vector<std::string>{"- a1 t0", "1 a1 t0", "1 a2 t50", "1 a3 t100",
                                                  "2 a1 t100"}));
}

TEST(CppStepped, AFailedStepFailsTheTaskAfterItsRetries) {
  std::atomic<int> calls{0};
  auto wf = make_workflow();
  wf.register_stepped(
      Step::Work,
      [&calls](cano::task_context&,
               std::optional<std::string_view> cursor) -> cano::step_result<Step> {
        ++calls;
        if (!cursor) return cano::more("x");
        throw std::runtime_error("broken");
      },
      cano::task_config().with_fixed_retry(2, 0ms).with_name("importer"));
  cano::engine engine = manual_engine();
  auto result = drive(wf, engine);
  ASSERT_FALSE(result.ok());
  EXPECT_THROW(result.get(), cano::retry_exhausted_error);
  EXPECT_STREQ(result.failure()->message(),
               "Task failed after 3 attempt(s): Task execution error: broken");
  EXPECT_EQ(result.failure()->attempt(), 3u);
  EXPECT_EQ(result.failure()->task_name(), "importer");
  EXPECT_EQ(result.failure()->state_name(), "Work");
  EXPECT_EQ(calls.load(), 4) << "one step, then three attempts of the second";
}

TEST(CppStepped, AFatalErrorFailsTheTaskWithoutRetries) {
  std::atomic<int> calls{0};
  auto wf = make_workflow();
  wf.register_stepped(
      Step::Work,
      [&calls](std::optional<std::string_view> cursor) -> cano::step_result<Step> {
        ++calls;
        if (!cursor) return cano::more("x");
        throw cano::fatal_error("corrupt page");
      },
      cano::task_config().with_fixed_retry(3, 0ms));
  cano::engine engine = manual_engine();
  auto result = drive(wf, engine);
  ASSERT_FALSE(result.ok());
  EXPECT_THROW(result.get(), cano::task_execution_error);
  EXPECT_STREQ(result.failure()->message(), "corrupt page");
  EXPECT_EQ(calls.load(), 2);
}

// A worker step that holds its worker until its attempt is abandoned, then fails. The test
// moves the clock only once the step is running: an attempt abandoned before a worker picked
// it up would never start.
struct blocking_step {
  std::shared_ptr<call_log> log;
  std::shared_ptr<std::atomic<bool>> blocked;

  cano::step_result<Step> operator()(cano::task_context& ctx,
                                     std::optional<std::string_view> cursor) const {
    log->note(ctx, cursor);
    if (!cursor) return cano::more("1");
    if (ctx.attempt() == 1) {
      blocked->store(true);
      while (!ctx.cancelled()) std::this_thread::sleep_for(1ms);
      throw std::runtime_error("abandoned");
    }
    return Step::Done;
  }
};

TEST(CppStepped, TheAttemptTimeoutBoundsEachStepAndItsRetryKeepsTheCursor) {
  auto log = std::make_shared<call_log>();
  auto blocked = std::make_shared<std::atomic<bool>>(false);
  auto wf = make_workflow();
  wf.register_stepped(Step::Work, blocking_step{log, blocked},
                      cano::task_config()
                          .with_fixed_retry(1, 0ms)
                          .with_attempt_timeout(100ms)
                          .with_mode(cano::task_mode::worker));
  cano::engine engine = manual_engine();
  cano::run_handle<Step> run = wf.start(engine, Step::Work);
  ASSERT_TRUE(cano_test::wait_until([&] { return blocked->load(); }));
  engine.advance(100ms);
  // The rest needs no clock movement; moving it on could time the retry out before a worker
  // picked it up.
  ASSERT_TRUE(run.wait_for(10s));
  EXPECT_EQ(run.get(), Step::Done);
  EXPECT_EQ(log->get(), (std::vector<std::string>{"- a1 t0", "1 a1 t0", "1 a2 t100"}));
}

TEST(CppStepped, RegisteredPlainlyTheLoopIsOneAttemptAndARetryRestartsIt) {
  auto log = std::make_shared<call_log>();
  auto blocked = std::make_shared<std::atomic<bool>>(false);
  auto wf = make_workflow();
  // The same body as a plain task: it reads its cursor from the context.
  wf.register_task(Step::Work,
                   [step = blocking_step{log, blocked}](cano::task_context& ctx) {
                     return step(ctx, ctx.cursor());
                   },
                   cano::task_config()
                       .with_fixed_retry(1, 0ms)
                       .with_attempt_timeout(100ms)
                       .with_mode(cano::task_mode::worker));
  cano::engine engine = manual_engine();
  cano::run_handle<Step> run = wf.start(engine, Step::Work);
  ASSERT_TRUE(cano_test::wait_until([&] { return blocked->load(); }));
  engine.advance(100ms);
  // The rest needs no clock movement; moving it on could time the retry out before a worker
  // picked it up.
  ASSERT_TRUE(run.wait_for(10s));
  EXPECT_EQ(run.get(), Step::Done);
  EXPECT_EQ(log->get(),
            (std::vector<std::string>{"- a1 t0", "1 a1 t0", "- a2 t100", "1 a2 t100"}));
}

TEST(CppStepped, ARetryOfAPlainLoopStartsWithoutACursor) {
  auto log = std::make_shared<call_log>();
  auto wf = make_workflow();
  wf.register_task(
      Step::Work,
      [log](cano::task_context& ctx) -> cano::step_result<Step> {
        std::optional<std::string_view> cursor = ctx.cursor();
        log->note(ctx, cursor);
        if (!cursor) return cano::more("1");
        if (*cursor == "1") return cano::more("2");
        if (ctx.attempt() == 1) throw std::runtime_error("again");
        return Step::Done;
      },
      cano::task_config().with_fixed_retry(1, 30ms).with_mode(cano::task_mode::inline_));
  cano::engine engine = manual_engine();
  auto result = drive(wf, engine);
  ASSERT_TRUE(result.ok()) << result.failure()->what();
  EXPECT_EQ(log->get(), (std::vector<std::string>{"- a1 t0", "1 a1 t0", "2 a1 t0", "- a2 t30",
                                                  "1 a2 t30", "2 a2 t30"}));
}

TEST(CppStepped, EachEntryIntoTheStateStartsWithoutACursor) {
  auto log = std::make_shared<call_log>();
  auto entries = std::make_shared<int>(0);
  auto wf = make_workflow();
  wf.register_stepped(Step::Work,
                      [log](cano::task_context& ctx,
                            std::optional<std::string_view> cursor) -> cano::step_result<Step> {
                        log->note(ctx, cursor);
                        if (!cursor) return cano::more("1");
                        return Step::Check;
                      },
                      cano::task_config::minimal().with_mode(cano::task_mode::inline_))
      .register_task(Step::Check, [entries] { return ++*entries < 2 ? Step::Work : Step::Done; },
                     cano::task_config::minimal().with_mode(cano::task_mode::inline_));
  cano::engine engine = manual_engine();
  EXPECT_EQ(wf.orchestrate(engine, Step::Work), Step::Done);
  EXPECT_EQ(log->get(), (std::vector<std::string>{"- a1 t0", "1 a1 t0", "- a1 t0", "1 a1 t0"}));
}

TEST(CppStepped, ManyInlineStepsComplete) {
  auto wf = make_workflow();
  wf.register_stepped<long>(
      Step::Work,
      [](std::optional<long> n) -> cano::step_result<Step> {
        if (n.value_or(0) < 3000) return cano::more(n.value_or(0) + 1);
        return Step::Done;
      },
      cano::task_config::minimal().with_mode(cano::task_mode::inline_));
  cano::engine engine;
  EXPECT_EQ(wf.orchestrate(engine, Step::Work), Step::Done);
}

TEST(CppStepped, TheDefaultConfigRetriesEachStep) {
  std::atomic<int> calls{0};
  auto wf = make_workflow();
  // TaskConfig::default(): 3 exponential retries per step (jittered: counts only).
  wf.register_stepped(Step::Work,
                      [&calls](cano::task_context& ctx,
                               std::optional<std::string_view> cursor) -> cano::step_result<Step> {
                        ++calls;
                        if (!cursor) return cano::more("1");
                        if (ctx.attempt() < 4) throw std::runtime_error("flaky");
                        return Step::Done;
                      });
  cano::engine engine(cano::engine_options().with_manual_clock().with_random_seed(3));
  auto result = drive(wf, engine);
  ASSERT_TRUE(result.ok()) << result.failure()->what();
  EXPECT_EQ(calls.load(), 5);
}

struct counted_step {
  tracked tracker;
  cano::step_result<Step> operator()(std::optional<std::string_view>) const { return Step::Done; }
};

TEST(CppStepped, RegistrationRulesAndOwnership) {
  auto counter = std::make_shared<lifetime_counter>();
  {
    auto wf = make_workflow();
    try {
      wf.register_stepped(Step::Work, counted_step{tracked(counter)},
                          cano::task_config().with_mode(cano::task_mode::async));
      FAIL() << "no exception";
    } catch (const cano::configuration_error& e) {
      EXPECT_NE(std::string(e.message()).find("task_mode::async"), std::string::npos);
    }
    EXPECT_EQ(counter->alive(), 0);
    cano::workflow<Step> partial{{Step::Done, "Done"}};
    EXPECT_THROW(partial.register_stepped(Step::Work, counted_step{tracked(counter)}),
                 cano::configuration_error);
    EXPECT_EQ(counter->alive(), 0) << "a failed registration destroys the step object";

    wf.register_stepped(Step::Work, counted_step{tracked(counter)});
    EXPECT_EQ(counter->alive(), 1);
    cano::engine engine;
    EXPECT_EQ(wf.orchestrate(engine, Step::Work), Step::Done);
    EXPECT_THROW(wf.register_stepped(Step::Work, counted_step{tracked(counter)}),
                 cano::bad_state_error);
    EXPECT_EQ(counter->alive(), 1);
  }
  EXPECT_EQ(counter->alive(), 0);
  EXPECT_EQ(counter->constructed.load(), counter->destroyed.load());
}

TEST(CppStepped, TheCursorIsEmptyOutsideAStep) {
  auto wf = make_workflow();
  std::atomic<bool> had_cursor{true};
  wf.register_task(Step::Work, [&had_cursor](cano::task_context& ctx) {
    had_cursor = ctx.cursor().has_value();
    return Step::Done;
  });
  cano::engine engine;
  EXPECT_EQ(wf.orchestrate(engine, Step::Work), Step::Done);
  EXPECT_FALSE(had_cursor.load());
}

}  // namespace
