// Runs one conformance scenario through the public C API (README.md "How runners drive time")
// and records everything the expectations can look at.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cano/cano.h"
#include "scenario.hpp"

namespace conformance {

// What the run's (or the refused start's) error said.
struct ErrorInfo {
  cano_status code = CANO_OK;
  std::string category;
  std::string message;
  std::optional<std::string> cause_message;
  std::optional<int32_t> state;
  std::optional<std::string> state_name;
  std::optional<std::string> task_name;
  uint32_t attempt = 0;
};

struct Outcome {
  bool started = false;
  cano_status status = CANO_OK;
  int32_t final_state = 0;
  std::optional<ErrorInfo> error;
  std::vector<std::string> trail;
  // By state name, by "F[i]" for branch i of split state F and by "W[i]" for item i of batch
  // state W.
  std::map<std::string, uint32_t> attempts;
  std::map<std::string, std::vector<uint64_t>> attempt_times_ms;
  std::vector<std::string> resource_events;
  // After the run: the JSON text under each key the scenario expects, or the reason it could not
  // be read ("<error: ...>").
  std::map<std::string, std::string> store;
  // What each read_split step saw, in order (README.md "split_seen").
  std::vector<std::optional<std::vector<std::string>>> split_seen;
  // By state name: the cursor bytes each body call saw (cano_task_ctx_cursor), or null for none.
  std::map<std::string, std::vector<std::optional<std::string>>> cursors;
  // What each read_batch step saw, in order (README.md "batch_seen").
  std::vector<std::vector<std::string>> batch_seen;
  // By state name and by "F[i]": the cancel notices its async attempts got (README.md "Cancel
  // notices").
  std::map<std::string, uint32_t> cancel_notices;
  // Anything that went wrong in the runner itself (a setup call failed, the run never ended).
  std::vector<std::string> problems;
};

Outcome run_scenario(const Scenario& scenario);

}  // namespace conformance
