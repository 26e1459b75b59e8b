// The FSM loop through the C API: transitions, exit states, unregistered states, many runs in
// flight, the blocking call's thread rule, cancellation and shutdown (cano/run.h).
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

using namespace cano_test;

namespace {

enum Step : int32_t { kFetch = 0, kProcess = 1, kDone = 2, kLost = 3 };

WorkflowPtr linear_workflow(cano_task_mode mode, std::vector<int32_t>* trail = nullptr,
                            std::mutex* trail_mutex = nullptr) {
  cano_workflow* raw = nullptr;
  EXPECT_EQ(cano_workflow_create(&raw, nullptr, nullptr), CANO_OK);
  WorkflowPtr wf(raw);
  EXPECT_EQ(cano_workflow_add_state(raw, kFetch, "Fetch", nullptr), CANO_OK);
  EXPECT_EQ(cano_workflow_add_state(raw, kProcess, "Process", nullptr), CANO_OK);
  EXPECT_EQ(cano_workflow_add_state(raw, kDone, "Done", nullptr), CANO_OK);
  auto record = [trail, trail_mutex](int32_t state) {
    if (trail == nullptr) return;
    std::lock_guard<std::mutex> lock(*trail_mutex);
    trail->push_back(state);
  };
  auto fetch = task(
      [record](cano_task_ctx* ctx) {
        record(cano_task_ctx_state(ctx));
        return cano_task_ctx_next(ctx, kProcess);
      },
      mode);
  auto process = task(
      [record](cano_task_ctx* ctx) {
        record(cano_task_ctx_state(ctx));
        return cano_task_ctx_next(ctx, kDone);
      },
      mode);
  EXPECT_EQ(cano_workflow_register(raw, kFetch, &fetch, nullptr), CANO_OK);
  EXPECT_EQ(cano_workflow_register(raw, kProcess, &process, nullptr), CANO_OK);
  EXPECT_EQ(cano_workflow_add_exit_state(raw, kDone, nullptr), CANO_OK);
  return wf;
}

}  // namespace

class RunModes : public ::testing::TestWithParam<cano_task_mode> {};

TEST_P(RunModes, WalksTheStatesInOrderToTheExitState) {
  auto engine = make_engine();
  std::vector<int32_t> trail;
  std::mutex trail_mutex;
  auto wf = linear_workflow(GetParam() == CANO_TASK_ASYNC ? CANO_TASK_INLINE : GetParam(), &trail,
                            &trail_mutex);
  int32_t final_state = -1;
  ErrorPtr err;
  ASSERT_EQ(cano_run_wait(&final_state, engine.get(), wf.get(), kFetch, err.out()), CANO_OK)
      << err.describe();
  EXPECT_EQ(final_state, kDone);
  EXPECT_EQ(trail, (std::vector<int32_t>{kFetch, kProcess}));
}

INSTANTIATE_TEST_SUITE_P(Modes, RunModes, ::testing::Values(CANO_TASK_INLINE, CANO_TASK_WORKER));

TEST(Run, InitialExitStateEndsAtOnceWithoutRunningItsTask) {
  auto engine = make_engine();
  auto wf = linear_workflow(CANO_TASK_INLINE);
  std::atomic<int> ran{0};
  cano_workflow* raw = nullptr;
  ASSERT_EQ(cano_workflow_create(&raw, nullptr, nullptr), CANO_OK);
  WorkflowPtr exit_wf(raw);
  ASSERT_EQ(cano_workflow_add_state(raw, kDone, "Done", nullptr), CANO_OK);
  ASSERT_EQ(cano_workflow_add_state(raw, kFetch, "Fetch", nullptr), CANO_OK);
  auto on_exit = task([&ran](cano_task_ctx* ctx) {
    ++ran;
    return cano_task_ctx_next(ctx, kDone);
  });
  ASSERT_EQ(cano_workflow_register(raw, kDone, &on_exit, nullptr), CANO_OK);
  ASSERT_EQ(cano_workflow_add_exit_state(raw, kDone, nullptr), CANO_OK);
  int32_t final_state = -1;
  ASSERT_EQ(cano_run_wait(&final_state, engine.get(), raw, kDone, nullptr), CANO_OK);
  EXPECT_EQ(final_state, kDone);
  EXPECT_EQ(ran.load(), 0) << "the exit check comes before the handler lookup";
}

TEST(Run, UnregisteredStateEndsTheRunWithAWorkflowErrorNamingIt) {
  auto engine = make_engine();
  cano_workflow* raw = nullptr;
  ASSERT_EQ(cano_workflow_create(&raw, nullptr, nullptr), CANO_OK);
  WorkflowPtr wf(raw);
  ASSERT_EQ(cano_workflow_add_state(raw, kFetch, "Fetch", nullptr), CANO_OK);
  ASSERT_EQ(cano_workflow_add_state(raw, kLost, "Lost", nullptr), CANO_OK);
  ASSERT_EQ(cano_workflow_add_state(raw, kDone, "Done", nullptr), CANO_OK);
  auto fetch = task(go_to(kLost));
  ASSERT_EQ(cano_workflow_register(raw, kFetch, &fetch, nullptr), CANO_OK);
  ASSERT_EQ(cano_workflow_add_exit_state(raw, kDone, nullptr), CANO_OK);
  int32_t final_state = -1;
  ErrorPtr err;
  EXPECT_EQ(cano_run_wait(&final_state, engine.get(), raw, kFetch, err.out()), CANO_E_WORKFLOW);
  EXPECT_EQ(final_state, kLost);
  EXPECT_EQ(err.message(), "No task registered for state: Lost");
  EXPECT_STREQ(cano_error_category(err.err), "workflow");
  EXPECT_STREQ(cano_error_state_name(err.err), "Lost");
  EXPECT_EQ(std::string(cano_error_display(err.err)),
            "Workflow error: No task registered for state: Lost");
}

TEST(Run, AnUndeclaredNextStateIsNamedByItsNumber) {
  auto engine = make_engine();
  cano_workflow* raw = nullptr;
  ASSERT_EQ(cano_workflow_create(&raw, nullptr, nullptr), CANO_OK);
  WorkflowPtr wf(raw);
  ASSERT_EQ(cano_workflow_add_state(raw, kFetch, "Fetch", nullptr), CANO_OK);
  ASSERT_EQ(cano_workflow_add_state(raw, kDone, "Done", nullptr), CANO_OK);
  auto fetch = task(go_to(77));
  ASSERT_EQ(cano_workflow_register(raw, kFetch, &fetch, nullptr), CANO_OK);
  ASSERT_EQ(cano_workflow_add_exit_state(raw, kDone, nullptr), CANO_OK);
  ErrorPtr err;
  EXPECT_EQ(cano_run_wait(nullptr, engine.get(), raw, kFetch, err.out()), CANO_E_WORKFLOW);
  EXPECT_EQ(err.message(), "No task registered for state: 77");
}

TEST(Run, ValidationAndInitialStateErrorsAreSynchronousAndRunNothing) {
  auto engine = make_engine();
  cano_workflow* raw = nullptr;
  ASSERT_EQ(cano_workflow_create(&raw, nullptr, nullptr), CANO_OK);
  WorkflowPtr wf(raw);
  ASSERT_EQ(cano_workflow_add_state(raw, kFetch, "Fetch", nullptr), CANO_OK);
  RunResult result;
  ErrorPtr err;
  EXPECT_EQ(
      cano_run_start(nullptr, engine.get(), raw, kFetch, &RunResult::callback, &result, err.out()),
      CANO_E_CONFIGURATION);
  EXPECT_EQ(err.message(), "Workflow has no registered state handlers");
  EXPECT_FALSE(result.wait(std::chrono::milliseconds(50))) << "a failed start never calls back";

  auto wf2 = linear_workflow(CANO_TASK_INLINE);
  EXPECT_EQ(cano_run_wait(nullptr, engine.get(), wf2.get(), 42, err.out()), CANO_E_CONFIGURATION);
  EXPECT_EQ(err.message(), "Initial state 42 is neither registered nor an exit state");
}

TEST(Run, StartCallsBackOnceOnTheLoopThreadWithTheRunId) {
  auto engine = make_engine();
  auto wf = linear_workflow(CANO_TASK_WORKER);
  RunResult result;
  uint64_t id = 0;
  ASSERT_EQ(
      cano_run_start(&id, engine.get(), wf.get(), kFetch, &RunResult::callback, &result, nullptr),
      CANO_OK);
  ASSERT_TRUE(result.wait());
  EXPECT_NE(id, 0u);
  EXPECT_EQ(result.run_id, id);
  EXPECT_EQ(result.status, CANO_OK);
  EXPECT_EQ(result.final_state, kDone);
  EXPECT_NE(result.thread, std::this_thread::get_id());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(result.calls, 1);
}

TEST(Run, ManyConcurrentRunsEachKeepTheirOwnState) {
  auto engine = make_engine();
  cano_workflow* raw = nullptr;
  ASSERT_EQ(cano_workflow_create(&raw, nullptr, nullptr), CANO_OK);
  WorkflowPtr wf(raw);
  ASSERT_EQ(cano_workflow_add_state(raw, kFetch, "Fetch", nullptr), CANO_OK);
  ASSERT_EQ(cano_workflow_add_state(raw, kProcess, "Process", nullptr), CANO_OK);
  ASSERT_EQ(cano_workflow_add_state(raw, kDone, "Done", nullptr), CANO_OK);
  ASSERT_EQ(cano_workflow_add_state(raw, kLost, "Lost", nullptr), CANO_OK);
  // Odd runs end in Done, even runs in Lost: the branch depends on the run's own id.
  auto fetch = task(
      [](cano_task_ctx* ctx) {
        return cano_task_ctx_next(ctx, cano_task_ctx_run_id(ctx) % 2 ? kProcess : kLost);
      },
      CANO_TASK_WORKER);
  auto process = task(go_to(kDone), CANO_TASK_WORKER);
  ASSERT_EQ(cano_workflow_register(raw, kFetch, &fetch, nullptr), CANO_OK);
  ASSERT_EQ(cano_workflow_register(raw, kProcess, &process, nullptr), CANO_OK);
  ASSERT_EQ(cano_workflow_add_exit_state(raw, kDone, nullptr), CANO_OK);
  ASSERT_EQ(cano_workflow_add_exit_state(raw, kLost, nullptr), CANO_OK);

  constexpr int kRuns = 200;
  std::vector<RunResult> results(kRuns);
  std::vector<uint64_t> ids(kRuns);
  for (int i = 0; i < kRuns; ++i) {
    ASSERT_EQ(cano_run_start(&ids[i], engine.get(), raw, kFetch, &RunResult::callback, &results[i],
                             nullptr),
              CANO_OK);
  }
  for (int i = 0; i < kRuns; ++i) {
    ASSERT_TRUE(results[i].wait());
    EXPECT_EQ(results[i].status, CANO_OK);
    EXPECT_EQ(results[i].final_state, ids[i] % 2 ? kDone : kLost) << "run " << ids[i];
  }
  EXPECT_TRUE(eventually([&] { return cano_engine_runs_in_flight(engine.get()) == 0; }));
}

TEST(Run, WaitRefusesTheLoopThread) {
  auto engine = make_engine();
  auto wf = linear_workflow(CANO_TASK_INLINE);
  struct Probe {
    cano_engine* engine;
    cano_workflow* wf;
    std::atomic<cano_status> status{CANO_OK};
    std::atomic<bool> done{false};
  } probe{engine.get(), wf.get()};
  ASSERT_EQ(cano_engine_post(
                engine.get(),
                [](void* p) {
                  auto* probe = static_cast<Probe*>(p);
                  probe->status = cano_run_wait(nullptr, probe->engine, probe->wf, kFetch, nullptr);
                  probe->done = true;
                },
                &probe, nullptr),
            CANO_OK);
  ASSERT_TRUE(eventually([&] { return probe.done.load(); }));
  EXPECT_EQ(probe.status.load(), CANO_E_WRONG_THREAD);
}

TEST(Run, StartFromTheLoopThreadRunsInlineTasksAtOnce) {
  auto engine = make_engine();
  auto wf = linear_workflow(CANO_TASK_INLINE);
  struct Probe {
    cano_engine* engine;
    cano_workflow* wf;
    RunResult result;
    std::atomic<bool> finished_inside{false};
    std::atomic<bool> probed{false};
  } probe{engine.get(), wf.get(), {}, {false}, {false}};
  ASSERT_EQ(cano_engine_post(
                engine.get(),
                [](void* p) {
                  auto* probe = static_cast<Probe*>(p);
                  cano_status status =
                      cano_run_start(nullptr, probe->engine, probe->wf, kFetch,
                                     &RunResult::callback, &probe->result, nullptr);
                  std::lock_guard<std::mutex> lock(probe->result.mutex);
                  probe->finished_inside = status == CANO_OK && probe->result.calls == 1;
                  probe->probed = true;
                },
                &probe, nullptr),
            CANO_OK);
  ASSERT_TRUE(eventually([&] { return probe.probed.load(); }));
  EXPECT_TRUE(probe.finished_inside.load());
  EXPECT_EQ(probe.result.final_state, kDone);
}

TEST(Run, CancelEndsABlockedRunAndItsWorkerSeesTheFlag) {
  auto engine = make_engine();
  cano_workflow* raw = nullptr;
  ASSERT_EQ(cano_workflow_create(&raw, nullptr, nullptr), CANO_OK);
  WorkflowPtr wf(raw);
  ASSERT_EQ(cano_workflow_add_state(raw, kFetch, "Fetch", nullptr), CANO_OK);
  ASSERT_EQ(cano_workflow_add_state(raw, kDone, "Done", nullptr), CANO_OK);
  std::atomic<bool> started{false}, saw_cancel{false};
  auto block = task(
      [&](cano_task_ctx* ctx) {
        started = true;
        while (!cano_task_ctx_cancelled(ctx))
          std::this_thread::sleep_for(std::chrono::microseconds(100));
        saw_cancel = true;
        return cano_task_ctx_next(ctx, kDone);
      },
      CANO_TASK_WORKER);
  ASSERT_EQ(cano_workflow_register(raw, kFetch, &block, nullptr), CANO_OK);
  ASSERT_EQ(cano_workflow_add_exit_state(raw, kDone, nullptr), CANO_OK);
  RunResult result;
  uint64_t id = 0;
  ASSERT_EQ(cano_run_start(&id, engine.get(), raw, kFetch, &RunResult::callback, &result, nullptr),
            CANO_OK);
  ASSERT_TRUE(eventually([&] { return started.load(); }));
  ASSERT_EQ(cano_run_cancel(engine.get(), id, nullptr), CANO_OK);
  ASSERT_TRUE(result.wait());
  EXPECT_EQ(result.status, CANO_E_CANCELLED);
  EXPECT_EQ(result.final_state, kFetch);
  EXPECT_TRUE(eventually([&] { return saw_cancel.load(); }));
  ErrorPtr err;
  EXPECT_EQ(cano_run_cancel(engine.get(), id, err.out()), CANO_E_NOT_FOUND);
}

TEST(Run, ShutdownEndsRunsInFlightAndLaterStartsAreRefused) {
  auto engine = make_engine();
  auto wf = linear_workflow(CANO_TASK_INLINE);
  cano_workflow* raw = nullptr;
  ASSERT_EQ(cano_workflow_create(&raw, nullptr, nullptr), CANO_OK);
  WorkflowPtr pending_wf(raw);
  ASSERT_EQ(cano_workflow_add_state(raw, kFetch, "Fetch", nullptr), CANO_OK);
  ASSERT_EQ(cano_workflow_add_state(raw, kDone, "Done", nullptr), CANO_OK);
  auto never = task([](cano_task_ctx*) { return CANO_PENDING; }, CANO_TASK_ASYNC);
  ASSERT_EQ(cano_workflow_register(raw, kFetch, &never, nullptr), CANO_OK);
  ASSERT_EQ(cano_workflow_add_exit_state(raw, kDone, nullptr), CANO_OK);
  RunResult result;
  ASSERT_EQ(
      cano_run_start(nullptr, engine.get(), raw, kFetch, &RunResult::callback, &result, nullptr),
      CANO_OK);
  ASSERT_TRUE(eventually([&] { return cano_engine_runs_in_flight(engine.get()) == 1; }));
  ASSERT_EQ(cano_engine_shutdown(engine.get()), CANO_OK);
  EXPECT_TRUE(result.done) << "shutdown returns after the run reported";
  EXPECT_EQ(result.status, CANO_E_SHUTDOWN);
  ErrorPtr err;
  EXPECT_EQ(cano_run_wait(nullptr, engine.get(), wf.get(), kFetch, err.out()), CANO_E_SHUTDOWN);
  EXPECT_EQ(cano_engine_shutdown(engine.get()), CANO_OK) << "idempotent";
}

TEST(Run, AnInlineBodyCancellingItsOwnRunEndsItAtTheNextTransition) {
  // No resources: a run that ended inside its own body would be freed under the caller (ASan
  // catches that), so the cancel only marks the run and it ends once the body has returned.
  auto engine = make_engine();
  cano_workflow* raw = nullptr;
  ASSERT_EQ(cano_workflow_create(&raw, nullptr, nullptr), CANO_OK);
  WorkflowPtr wf(raw);
  ASSERT_EQ(cano_workflow_add_state(raw, kFetch, "Fetch", nullptr), CANO_OK);
  ASSERT_EQ(cano_workflow_add_state(raw, kProcess, "Process", nullptr), CANO_OK);
  ASSERT_EQ(cano_workflow_add_state(raw, kDone, "Done", nullptr), CANO_OK);
  std::atomic<cano_status> own_cancel{CANO_E_GENERIC};
  std::atomic<cano_status> second_cancel{CANO_E_GENERIC};
  std::atomic<int> processed{0};
  auto fetch = task([&](cano_task_ctx* ctx) {
    cano_engine* engine = cano_task_ctx_engine(ctx);
    own_cancel = cano_run_cancel(engine, cano_task_ctx_run_id(ctx), nullptr);
    second_cancel = cano_run_cancel(engine, cano_task_ctx_run_id(ctx), nullptr);
    return cano_task_ctx_next(ctx, kProcess);  // discarded: the run was cancelled
  });
  auto process = task([&](cano_task_ctx* ctx) {
    ++processed;
    return cano_task_ctx_next(ctx, kDone);
  });
  ASSERT_EQ(cano_workflow_register(raw, kFetch, &fetch, nullptr), CANO_OK);
  ASSERT_EQ(cano_workflow_register(raw, kProcess, &process, nullptr), CANO_OK);
  ASSERT_EQ(cano_workflow_add_exit_state(raw, kDone, nullptr), CANO_OK);
  RunResult result;
  ASSERT_EQ(
      cano_run_start(nullptr, engine.get(), raw, kFetch, &RunResult::callback, &result, nullptr),
      CANO_OK);
  ASSERT_TRUE(result.wait());
  EXPECT_EQ(own_cancel.load(), CANO_OK);
  EXPECT_EQ(second_cancel.load(), CANO_OK) << "still in flight until the body returns";
  EXPECT_EQ(result.status, CANO_E_CANCELLED);
  EXPECT_EQ(result.final_state, kFetch);
  EXPECT_EQ(processed.load(), 0);
  engine.reset();  // the deferred cancel message finds no run: nothing happens
  EXPECT_EQ(result.calls, 1);
}
