// Shares one set-up of a resource set between the runs of one engine (see cano/resources.h).
//
// Phases: down -> setting up -> up -> tearing down -> down. The first run that needs the set
// while it is down triggers setup on a worker; runs arriving meanwhile wait; when the last
// holder releases it, teardown runs on a worker and the releasing runs wait for it before they
// report. Loop thread only.
#pragma once

#include <optional>
#include <vector>

#include "src/error.hpp"

struct cano_engine;
struct cano_resources;

namespace cano::detail {

struct Run;

class ResourceLifecycle {
 public:
  ResourceLifecycle(cano_engine* engine, cano_resources* resources)
      : engine_(engine), resources_(resources) {}

  // The run gets the set now (Run::resources_ready) or later, or fails with the setup error
  // (Run::resources_failed).
  void acquire(Run* run);
  // The run lets go; Run::resources_released is called once teardown (if any) has finished.
  void release(Run* run);

 private:
  enum class Phase { kDown, kSettingUp, kUp, kTearingDown };
  struct Job {
    ResourceLifecycle* owner;
    bool setup;
    std::optional<Error> error;
  };
  static void run_job(void* arg);
  static void job_done(void* arg);
  void start_job(bool setup);
  void on_setup_done(std::optional<Error> error);
  void on_teardown_done();

  cano_engine* engine_;
  cano_resources* resources_;
  Phase phase_ = Phase::kDown;
  size_t holders_ = 0;
  std::vector<Run*> waiting_for_setup_;
  std::vector<Run*> waiting_for_teardown_;
};

}  // namespace cano::detail
