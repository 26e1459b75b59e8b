#include "src/batch_worker_lane.hpp"

#include <chrono>

#include "cano/poll.h"
#include "cano/stepped.h"
#include "src/batch_execution.hpp"
#include "src/engine.hpp"
#include "src/refcount.hpp"
#include "src/workflow.hpp"

namespace cano::detail {

namespace {

// How long one job may run items before it reports back, so that a long batch shares the
// workers with other runs and the loop sees its progress (and a cancellation) regularly.
constexpr auto kLaneBudget = std::chrono::microseconds(500);

}  // namespace

WorkerLane::WorkerLane(cano_engine* engine, cano_workflow* workflow,
                       std::shared_ptr<WorkerLaneShared> lane_shared, BatchExecution* batch)
    : shared(std::move(lane_shared)), ctx(new cano_task_ctx()), owner(batch), engine_(engine) {
  ctx->heap_allocated = true;
  ctx->engine = engine;
  ctx->workflow = workflow;
  workflow->retain();
  ctx->resources = workflow->resources();
  ctx->run_id = shared->run_id;
  ctx->task = shared->item;
  ctx->state = shared->state;
  ctx->attempt = 1;
  ctx->batch_step = cano_task_ctx::BatchStep::kItem;
  ctx->batch = std::make_unique<BatchCtx>();
  ctx->batch->items = shared->items;
}

WorkerLane::~WorkerLane() { release_ctx(ctx); }

void WorkerLane::submit() {
  succeeded = 0;
  failed = 0;
  engine_->submit(&WorkerLane::run, this);
}

void WorkerLane::run(void* arg) {
  auto* lane = static_cast<WorkerLane*>(arg);
  lane->run_items(/*budgeted=*/true);
  lane->engine_->post(&WorkerLane::on_report, lane);
}

void WorkerLane::run_all() { run_items(/*budgeted=*/false); }

void WorkerLane::run_items(bool budgeted) {
  WorkerLaneShared& batch = *shared;
  const size_t count = batch.items->size();
  const TaskDef& item = *batch.item;
  const auto until = std::chrono::steady_clock::now() + kLaneBudget;
  while (!batch.cancelled.load(std::memory_order_relaxed)) {
    size_t index = batch.next.fetch_add(1, std::memory_order_relaxed);
    if (index >= count) {
      exhausted = true;
      return;
    }
    ctx->reset_result();
    ctx->batch->index = index;
    cano_status status = item.options.run(ctx, item.options.user_data);
    cano_split_result::Branch& out = batch.results->branches[index];
    if (status == CANO_OK) {
      ++succeeded;
      out.status = CANO_BRANCH_SUCCEEDED;
      out.has_value = ctx->has_value;
      out.value = std::move(ctx->value);
    } else {
      Error error(status < 0 ? status : CANO_E_TASK_EXECUTION, failure_message(*ctx, status));
      error.state = batch.state;
      error.state_name = batch.state_name;
      error.task_name = item.name + "[" + std::to_string(index) + "]";
      error.attempt = 1;
      error.run_id = batch.run_id;
      if (status < 0 && ctx->has_failure && ctx->fatal) {
        fatal = std::move(error);
        return;
      }
      ++failed;
      out.status = CANO_BRANCH_FAILED;
      out.error.reset(to_handle(std::move(error)));
    }
    if (budgeted && std::chrono::steady_clock::now() >= until) return;
  }
}

void WorkerLane::on_report(void* arg) {
  auto* lane = static_cast<WorkerLane*>(arg);
  cano_engine* engine = lane->engine_;
  engine->job_finished();
  if (lane->owner == nullptr) {
    delete lane;  // its batch was abandoned: the results are discarded
  } else {
    lane->owner->worker_lane_reported(*lane);  // may delete the lane
  }
  engine->maybe_finish_shutdown();
}

}  // namespace cano::detail
