// The conformance suite's scenario model: a JSON scenario file (see README.md) parsed into plain
// structs, so that the runner and the comparison never touch cJSON. Public headers only.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cano/cano.h"

namespace conformance {

// A state as a scenario names it: a declared name, or an integer for an undeclared code. The
// parser resolves names to their codes (the index in "states"), so `code` is always valid.
struct StateRef {
  int32_t code = 0;
  std::optional<std::string> name;  // set when the scenario gave a name
};

struct RetrySpec {
  std::string kind = "none";  // "none", "fixed", "exponential" or "default"
  uint32_t max_retries = 0;
  uint64_t delay_ms = 0;
  double multiplier = 0.0;
  uint64_t max_delay_ms = 0;
  double jitter = 0.0;
};

enum class StepKind {
  kGoto,
  kFail,
  kBlock,
  kStorePut,
  kStoreGet,
  kStoreAppend,
  kStoreGetBytes,
  kResourceGet,
  kPending,  // return cano_task_ctx_poll_again(ctx, delay_ms)
  kSucceed,  // split branches and batch items only: leave `value` (if any) and return CANO_OK
  kMore,     // return cano_task_ctx_step_more(ctx, cursor)
};

struct Step {
  StepKind kind = StepKind::kGoto;
  uint32_t times = 1;
  int32_t next = 0;  // goto's "state", or the store and resource steps' "then"
  cano_status code = CANO_E_TASK_EXECUTION;  // fail
  std::string message = "fail";              // fail
  std::string key;                           // store and resource steps
  std::string json;                          // store_put, store_append: compact JSON text
  std::string type;                          // resource_get
  bool fatal = false;                        // fail: cano_task_ctx_fail_fatal
  bool read_split = false;                   // goto: record cano_task_ctx_split_result
  bool read_batch = false;                   // goto (batch finish): cano_task_ctx_batch_results
  uint64_t delay_ms = 0;                     // pending
  std::optional<std::string> value;          // succeed: cano_task_ctx_set_value
  std::string cursor;                        // more: compact JSON text
};

enum class TaskKind { kTask, kRouter, kPoll, kStepped, kTimer, kBatch };

// The step of `steps` that serves the n-th call (1-based), each step serving `times` calls in
// turn and the last one every call after that.
const Step& step_for(const std::vector<Step>& steps, uint32_t call);

// One entry of a timer's "wait" list: what the wait callback does for one attempt.
struct WaitSpec {
  enum class Kind { kFor, kUntil, kFail };
  Kind kind = Kind::kFor;
  uint64_t ms = 0;      // for: the delay; until: the clock reading
  std::string message;  // fail
};

// A timer task's "timer": exactly one of delay_ms, until_ms and wait.
struct TimerSpec {
  uint64_t delay_ms = 0;
  uint64_t until_ms = 0;
  std::vector<WaitSpec> waits;  // non-empty when the scenario gave "wait"

  // The entry that serves the n-th wait callback call (1-based); the last one repeats.
  const WaitSpec& wait_for(uint32_t call) const;
};

// One entry of a batch's "load" list: the items one load call adds, or its failure.
struct LoadSpec {
  bool fails = false;
  // The items' compact JSON texts, in order: what cano_task_ctx_batch_add gets.
  std::vector<std::string> items;
  cano_status code = CANO_E_TASK_EXECUTION;  // fails
  std::string message;                       // fails
  bool fatal = false;                        // fails
};

// A batch task's "batch" (README.md "Batch tasks").
struct BatchSpec {
  uint32_t concurrency = 0;
  RetrySpec item_retry{"default"};
  std::vector<LoadSpec> loads;  // non-empty
  // Each item's script, by the item's compact JSON text (which is what process_item reads
  // back with cano_task_ctx_batch_item): items that read the same have the same steps.
  std::map<std::string, std::vector<Step>> scripts;

  // The entry that serves the n-th load call (1-based); the last one repeats.
  const LoadSpec& load_for(uint32_t call) const;
  // The most items any entry of "load" adds: the "W[i]" keys go up to this.
  size_t max_items() const;
};

// A task, or one branch of a split state (then `kind` is kTask and the poll fields are unused).
struct TaskSpec {
  TaskKind kind = TaskKind::kTask;
  cano_task_mode mode = CANO_TASK_INLINE;
  std::optional<std::string> name;
  RetrySpec retry;
  uint64_t attempt_timeout_ms = 0;
  std::vector<Step> steps;
  cano_poll_error_policy poll_policy = CANO_POLL_FAIL_FAST;  // poll only
  uint32_t poll_max_errors = 0;                              // poll only
  bool has_poll_options = false;  // "poll" given: pass options instead of NULL
  TimerSpec timer;                // timer only
  BatchSpec batch;                // batch only; `steps` are the finish step's

  // The step that serves the n-th body call (1-based) counted across every entry into the state.
  const Step& step_for(uint32_t attempt) const;
};

struct SplitSpec {
  cano_join_strategy strategy = CANO_JOIN_ALL;
  uint32_t count = 0;
  double percentage = 0.0;
  uint64_t timeout_ms = 0;
  StateRef join_state;
  uint32_t bulkhead = 0;
  std::vector<TaskSpec> branches;
};

struct ResourceSpec {
  std::string key;
  bool setup_ok = true;
  bool teardown_ok = true;
  std::optional<std::string> message;
};

// Each expectation is optional: only present fields are checked. A nested optional tells
// "absent" (not checked) from "null" (checked to be missing).
struct Expect {
  std::optional<std::string> status;
  std::optional<std::string> category;
  std::optional<std::string> message;
  std::optional<std::vector<std::string>> message_contains;
  std::optional<std::optional<std::string>> cause_message;
  std::optional<std::optional<StateRef>> error_state;
  std::optional<std::optional<std::string>> error_task;
  std::optional<uint32_t> error_attempt;
  std::optional<StateRef> final_state;
  std::optional<std::vector<std::string>> trail;
  std::optional<std::map<std::string, uint32_t>> attempts;
  std::optional<std::map<std::string, std::vector<uint64_t>>> attempt_times_ms;
  std::optional<std::vector<std::string>> resource_events;
  std::optional<std::map<std::string, std::string>> store;  // key -> compact JSON text
  // One entry per read_split step that ran: null (no split result) or one text per branch.
  std::optional<std::vector<std::optional<std::vector<std::string>>>> split_seen;
  // By state name: the cursor each body call saw, as compact JSON text, or null for none.
  std::optional<std::map<std::string, std::vector<std::optional<std::string>>>> cursors;
  // One entry per read_batch step that ran: one text per item, in input order.
  std::optional<std::vector<std::vector<std::string>>> batch_seen;
  // By key (a state's name, or "F[i]"): how many cancel notices its async attempts got.
  std::optional<std::map<std::string, uint32_t>> cancel_notices;
  bool started = true;

  // True when any field that describes the error is present.
  bool checks_error() const;
};

struct Scenario {
  std::string name;
  std::vector<std::string> states;
  StateRef initial;
  std::vector<int32_t> exit_states;
  uint64_t timeout_ms = 0;
  std::vector<ResourceSpec> resources;
  std::map<int32_t, TaskSpec> tasks;    // by state code
  std::map<int32_t, SplitSpec> splits;  // by state code; a state is in at most one of the maps
  Expect expect;

  // The name of a state code, or the code as text for an undeclared one.
  std::string label(int32_t code) const;
  // The key of branch `index` of split state `code` (or of item `index` of batch state `code`)
  // in attempts and attempt_times_ms: "F[i]".
  std::string branch_key(int32_t code, size_t index) const;
};

// Parses a scenario file. Throws std::runtime_error naming the file and the offending field.
Scenario load_scenario(const std::string& path);

// The scenario files of a directory, sorted by name.
std::vector<std::string> list_scenarios(const std::string& dir);

// The status whose cano_status_name is `name`; nullopt for a name the library does not know.
std::optional<cano_status> status_from_name(const std::string& name);

// True when two JSON texts parse to equal values.
bool json_equal(const std::string& a, const std::string& b);

}  // namespace conformance
