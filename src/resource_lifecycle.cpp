#include "src/resource_lifecycle.hpp"

#include "src/engine.hpp"
#include "src/resources.hpp"
#include "src/run.hpp"

namespace cano::detail {

void ResourceLifecycle::acquire(Run* run) {
  if (!resources_->has_lifecycle()) {
    // Nothing to set up: the set is usable at once, by any number of runs.
    run->resources_ready();
    return;
  }
  switch (phase_) {
    case Phase::kUp:
      ++holders_;
      run->resources_ready();
      break;
    case Phase::kDown:
      waiting_for_setup_.push_back(run);
      start_job(true);
      break;
    case Phase::kSettingUp:
    case Phase::kTearingDown:
      waiting_for_setup_.push_back(run);
      break;
  }
}

void ResourceLifecycle::release(Run* run) {
  if (!resources_->has_lifecycle()) {
    run->resources_released();
    return;
  }
  if (--holders_ > 0) {
    // Other runs still use the set: this one lets go without a teardown.
    run->resources_released();
    return;
  }
  waiting_for_teardown_.push_back(run);
  start_job(false);
}

void ResourceLifecycle::start_job(bool setup) {
  phase_ = setup ? Phase::kSettingUp : Phase::kTearingDown;
  auto* job = new Job{this, setup, std::nullopt};
  engine_->submit(&ResourceLifecycle::run_job, job);
}

void ResourceLifecycle::run_job(void* arg) {
  auto* job = static_cast<Job*>(arg);
  if (job->setup) {
    job->error = job->owner->resources_->setup_all();
  } else {
    job->owner->resources_->teardown_all();
  }
  job->owner->engine_->post(&ResourceLifecycle::job_done, job);
}

void ResourceLifecycle::job_done(void* arg) {
  std::unique_ptr<Job> job(static_cast<Job*>(arg));
  cano_engine* engine = job->owner->engine_;
  engine->job_finished();
  if (job->setup) {
    job->owner->on_setup_done(std::move(job->error));
  } else {
    job->owner->on_teardown_done();
  }
  engine->maybe_finish_shutdown();
}

void ResourceLifecycle::on_setup_done(std::optional<Error> error) {
  std::vector<Run*> runs;
  runs.swap(waiting_for_setup_);
  if (error) {
    // setup_all already rolled back what it had set up.
    phase_ = Phase::kDown;
    for (Run* run : runs) run->resources_failed(*error);
    return;
  }
  phase_ = Phase::kUp;
  holders_ += runs.size();
  // A run may finish synchronously inside resources_ready and release the set; holders_ counts
  // every waiter first so that the set is not torn down while others still start.
  for (Run* run : runs) run->resources_ready();
}

void ResourceLifecycle::on_teardown_done() {
  std::vector<Run*> released;
  released.swap(waiting_for_teardown_);
  phase_ = Phase::kDown;
  if (!waiting_for_setup_.empty()) start_job(true);
  for (Run* run : released) run->resources_released();
}

}  // namespace cano::detail
