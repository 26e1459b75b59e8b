// Parses the JSON scenario files of the conformance suite (format: README.md) with cJSON.
//
// Parsing is strict: an unknown field or a field of the wrong JSON type is an error, because a
// misspelt expectation would otherwise be silently skipped and the scenario would prove nothing.
#include "scenario.hpp"

#include <cjson/cJSON.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>
#include <stdexcept>

#include "json_fields.hpp"

namespace conformance {

namespace {

class Parser {
 public:
  explicit Parser(std::string file) : file_(std::move(file)) {}

  Scenario parse(const cJSON* root) {
    Fields top(root, file_);
    scenario_.name = top.required_string("name");
    top.string("description");
    std::optional<std::vector<std::string>> states = top.strings("states");
    if (!states) fail_at(top.path_of("states"), "is required");
    for (const std::string& state : *states) {
      if (std::find(scenario_.states.begin(), scenario_.states.end(), state) !=
          scenario_.states.end()) {
        fail_at(top.path_of("states"), "declares \"" + state + "\" twice");
      }
      scenario_.states.push_back(state);
    }
    scenario_.initial = state_ref(top.require("initial"), top.path_of("initial"));
    for (const std::string& name :
         top.strings("exit_states").value_or(std::vector<std::string>{})) {
      scenario_.exit_states.push_back(declared(name, top.path_of("exit_states")));
    }
    scenario_.timeout_ms = top.unsigned_integer("timeout_ms", UINT64_MAX).value_or(0);
    if (const cJSON* resources = top.get("resources")) parse_resources(resources, top);
    if (const cJSON* tasks = top.get("tasks")) parse_tasks(tasks, top.path_of("tasks"));
    parse_expect(top.require("expect"), top.path_of("expect"));
    top.finish();
    return std::move(scenario_);
  }

 private:
  // What a list of steps belongs to: a state's task (of any kind but batch), a split branch, a
  // batch task's finish step or a batch item. They take different step kinds.
  enum class Role { kTask, kBranch, kFinish, kItem };

  int32_t declared(const std::string& name, const std::string& path) const {
    auto it = std::find(scenario_.states.begin(), scenario_.states.end(), name);
    if (it == scenario_.states.end()) fail_at(path, "\"" + name + "\" is not in \"states\"");
    return static_cast<int32_t>(it - scenario_.states.begin());
  }

  StateRef state_ref(const cJSON* item, const std::string& path) const {
    StateRef ref;
    if (cJSON_IsString(item)) {
      ref.name = item->valuestring;
      ref.code = declared(*ref.name, path);
      return ref;
    }
    if (cJSON_IsNumber(item)) {
      double value = item->valuedouble;
      if (std::floor(value) != value || value < std::numeric_limits<int32_t>::min() ||
          value > std::numeric_limits<int32_t>::max()) {
        fail_at(path, "must be a state name or a 32-bit integer code");
      }
      ref.code = static_cast<int32_t>(value);
      return ref;
    }
    fail_at(path, "must be a state name or an integer code");
  }

  void parse_resources(const cJSON* list, Fields& top) {
    std::string path = top.path_of("resources");
    if (!cJSON_IsArray(list)) fail_at(path, "must be an array");
    int index = 0;
    const cJSON* item = nullptr;
    cJSON_ArrayForEach(item, list) {
      Fields fields(item, path + "[" + std::to_string(index++) + "]");
      ResourceSpec spec;
      spec.key = fields.required_string("key");
      if (spec.key == "store") fail_at(fields.path_of("key"), "\"store\" is the suite's store");
      spec.setup_ok = outcome(fields, "setup");
      spec.teardown_ok = outcome(fields, "teardown");
      spec.message = fields.string("message");
      fields.finish();
      scenario_.resources.push_back(std::move(spec));
    }
  }

  static bool outcome(Fields& fields, const char* key) {
    std::string value = fields.string(key).value_or("ok");
    if (value != "ok" && value != "fail") {
      fail_at(fields.path_of(key), "must be \"ok\" or \"fail\"");
    }
    return value == "ok";
  }

  void parse_tasks(const cJSON* map, const std::string& path) {
    Fields tasks(map, path);
    for (size_t code = 0; code < scenario_.states.size(); ++code) {
      const std::string& state = scenario_.states[code];
      const cJSON* item = tasks.get(state.c_str());
      if (item == nullptr) continue;
      std::string at = path + "." + state;
      if (cJSON_IsObject(item) && cJSON_GetObjectItemCaseSensitive(item, "split") != nullptr) {
        // A split entry holds "split" only: finish() rejects anything beside it.
        Fields entry(item, at);
        scenario_.splits[static_cast<int32_t>(code)] =
            parse_split(entry.require("split"), entry.path_of("split"));
        entry.finish();
      } else {
        scenario_.tasks[static_cast<int32_t>(code)] = parse_task(item, at, Role::kTask);
      }
    }
    tasks.finish();  // a key that is not a declared state is rejected here
  }

  SplitSpec parse_split(const cJSON* item, const std::string& path) {
    Fields fields(item, path);
    SplitSpec split;
    std::string strategy = fields.required_string("strategy");
    if (strategy == "all") {
      split.strategy = CANO_JOIN_ALL;
    } else if (strategy == "any") {
      split.strategy = CANO_JOIN_ANY;
    } else if (strategy == "quorum") {
      split.strategy = CANO_JOIN_QUORUM;
    } else if (strategy == "percentage") {
      split.strategy = CANO_JOIN_PERCENTAGE;
    } else if (strategy == "partial_results") {
      split.strategy = CANO_JOIN_PARTIAL_RESULTS;
    } else if (strategy == "partial_timeout") {
      split.strategy = CANO_JOIN_PARTIAL_TIMEOUT;
    } else {
      fail_at(fields.path_of("strategy"),
              "must be \"all\", \"any\", \"quorum\", \"percentage\", \"partial_results\" or "
              "\"partial_timeout\"");
    }
    split.count = static_cast<uint32_t>(fields.unsigned_integer("count", UINT32_MAX).value_or(0));
    split.percentage = fields.number("percentage").value_or(0.0);
    split.timeout_ms = fields.unsigned_integer("timeout_ms", UINT64_MAX).value_or(0);
    split.join_state = state_ref(fields.require("join_state"), fields.path_of("join_state"));
    split.bulkhead =
        static_cast<uint32_t>(fields.unsigned_integer("bulkhead", UINT32_MAX).value_or(0));
    const cJSON* branches = fields.require("branches");
    if (!cJSON_IsArray(branches)) fail_at(fields.path_of("branches"), "must be an array");
    int index = 0;
    const cJSON* branch = nullptr;
    cJSON_ArrayForEach(branch, branches) {
      split.branches.push_back(parse_task(
          branch, fields.path_of("branches") + "[" + std::to_string(index++) + "]", Role::kBranch));
    }
    fields.finish();
    return split;
  }

  TaskSpec parse_task(const cJSON* item, const std::string& path, Role role) {
    Fields fields(item, path);
    TaskSpec task;
    if (role == Role::kTask) {
      std::string kind = fields.string("kind").value_or("task");
      if (kind == "task") {
        task.kind = TaskKind::kTask;
      } else if (kind == "router") {
        task.kind = TaskKind::kRouter;
      } else if (kind == "poll") {
        task.kind = TaskKind::kPoll;
      } else if (kind == "stepped") {
        task.kind = TaskKind::kStepped;
      } else if (kind == "timer") {
        task.kind = TaskKind::kTimer;
      } else if (kind == "batch") {
        task.kind = TaskKind::kBatch;
      } else {
        fail_at(fields.path_of("kind"),
                "must be \"task\", \"router\", \"poll\", \"stepped\", \"timer\" or \"batch\"");
      }
      if (const cJSON* poll = fields.get("poll")) {
        if (task.kind != TaskKind::kPoll) fail_at(fields.path_of("poll"), "is for poll tasks only");
        parse_poll(poll, fields.path_of("poll"), task);
      }
      const cJSON* timer = fields.get("timer");
      if (timer != nullptr && task.kind != TaskKind::kTimer) {
        fail_at(fields.path_of("timer"), "is for timer tasks only");
      }
      if (task.kind == TaskKind::kTimer) {
        if (timer == nullptr) fail_at(fields.path_of("timer"), "is required for a timer task");
        task.timer = parse_timer(timer, fields.path_of("timer"));
      }
      const cJSON* batch = fields.get("batch");
      if (batch != nullptr && task.kind != TaskKind::kBatch) {
        fail_at(fields.path_of("batch"), "is for batch tasks only");
      }
      if (task.kind == TaskKind::kBatch) {
        if (batch == nullptr) fail_at(fields.path_of("batch"), "is required for a batch task");
        task.batch = parse_batch(batch, fields.path_of("batch"));
      }
    }
    std::string mode = fields.string("mode").value_or("inline");
    if (mode == "inline") {
      task.mode = CANO_TASK_INLINE;
    } else if (mode == "worker") {
      task.mode = CANO_TASK_WORKER;
    } else if (mode == "async") {
      task.mode = CANO_TASK_ASYNC;
    } else {
      fail_at(fields.path_of("mode"), "must be \"inline\", \"worker\" or \"async\"");
    }
    if (task.kind == TaskKind::kBatch && task.mode == CANO_TASK_ASYNC) {
      fail_at(fields.path_of("mode"), "must be \"inline\" or \"worker\" for a batch task");
    }
    task.name = fields.string("name");
    if (const cJSON* retry = fields.get("retry")) {
      task.retry = parse_retry(retry, fields.path_of("retry"));
    }
    task.attempt_timeout_ms = fields.unsigned_integer("attempt_timeout_ms", UINT64_MAX).value_or(0);
    const Role step_role = role == Role::kBranch           ? Role::kBranch
                           : task.kind == TaskKind::kBatch ? Role::kFinish
                                                           : Role::kTask;
    task.steps = parse_steps(fields, step_role);
    for (const Step& step : task.steps) {
      if (step.kind == StepKind::kBlock && task.mode == CANO_TASK_INLINE) {
        fail_at(path, "an inline task cannot block");
      }
    }
    fields.finish();
    return task;
  }

  // The required, non-empty "steps" of a task, branch or batch item.
  std::vector<Step> parse_steps(Fields& fields, Role role) {
    const cJSON* steps = fields.require("steps");
    if (!cJSON_IsArray(steps) || cJSON_GetArraySize(steps) == 0) {
      fail_at(fields.path_of("steps"), "must be a non-empty array");
    }
    std::vector<Step> out;
    int index = 0;
    const cJSON* step = nullptr;
    cJSON_ArrayForEach(step, steps) {
      out.push_back(
          parse_step(step, fields.path_of("steps") + "[" + std::to_string(index++) + "]", role));
    }
    return out;
  }

  // A batch task's "batch" (README.md "Batch tasks").
  BatchSpec parse_batch(const cJSON* item, const std::string& path) {
    Fields fields(item, path);
    BatchSpec batch;
    batch.concurrency =
        static_cast<uint32_t>(fields.unsigned_integer("concurrency", UINT32_MAX).value_or(0));
    if (const cJSON* retry = fields.get("item_retry")) {
      batch.item_retry = parse_retry(retry, fields.path_of("item_retry"));
    }
    const cJSON* loads = fields.require("load");
    if (!cJSON_IsArray(loads) || cJSON_GetArraySize(loads) == 0) {
      fail_at(fields.path_of("load"), "must be a non-empty array");
    }
    int index = 0;
    const cJSON* load = nullptr;
    cJSON_ArrayForEach(load, loads) {
      batch.loads.push_back(
          parse_load(load, fields.path_of("load") + "[" + std::to_string(index++) + "]", batch));
    }
    fields.finish();
    return batch;
  }

  // One entry of "load": exactly one of "items" (with nothing else) and "fail" (with "code" and
  // "fatal"). Each item's script goes into batch.scripts under the item's compact JSON text.
  LoadSpec parse_load(const cJSON* item, const std::string& path, BatchSpec& batch) {
    Fields fields(item, path);
    LoadSpec load;
    const cJSON* items = fields.get("items");
    std::optional<std::string> message = fields.string("fail");
    if ((items != nullptr) == message.has_value()) {
      fail_at(path, "must have exactly one of items and fail");
    }
    if (message) {
      load.fails = true;
      load.message = *message;
      load.code = error_code(fields, "code");
      load.fatal = fields.boolean("fatal").value_or(false);
    } else {
      std::string at = fields.path_of("items");
      if (!cJSON_IsArray(items)) fail_at(at, "must be an array");
      int index = 0;
      const cJSON* entry = nullptr;
      cJSON_ArrayForEach(entry, items) {
        Fields script(entry, at + "[" + std::to_string(index++) + "]");
        std::vector<Step> steps = parse_steps(script, Role::kItem);
        script.finish();
        std::string text = compact(entry);
        batch.scripts[text] = std::move(steps);
        load.items.push_back(std::move(text));
      }
    }
    fields.finish();
    return load;
  }

  // A fail step's or failing load's "code": an error status name, TASK_EXECUTION by default.
  static cano_status error_code(Fields& fields, const char* key) {
    std::string code = fields.string(key).value_or("TASK_EXECUTION");
    std::optional<cano_status> status = status_from_name(code);
    if (!status || *status >= 0) {
      fail_at(fields.path_of(key), "\"" + code + "\" is no error status");
    }
    return *status;
  }

  static void parse_poll(const cJSON* item, const std::string& path, TaskSpec& task) {
    Fields fields(item, path);
    std::string policy = fields.required_string("policy");
    if (policy == "fail_fast") {
      task.poll_policy = CANO_POLL_FAIL_FAST;
    } else if (policy == "retry_on_error") {
      task.poll_policy = CANO_POLL_RETRY_ON_ERROR;
    } else {
      fail_at(fields.path_of("policy"), "must be \"fail_fast\" or \"retry_on_error\"");
    }
    task.poll_max_errors =
        static_cast<uint32_t>(fields.unsigned_integer("max_errors", UINT32_MAX).value_or(0));
    task.has_poll_options = true;
    fields.finish();
  }

  // "timer": exactly one of delay_ms, until_ms and wait (README.md "Stepped and timer tasks").
  static TimerSpec parse_timer(const cJSON* item, const std::string& path) {
    Fields fields(item, path);
    TimerSpec timer;
    int given = 0;
    if (auto delay = fields.unsigned_integer("delay_ms", UINT64_MAX)) {
      timer.delay_ms = *delay;
      ++given;
    }
    if (auto until = fields.unsigned_integer("until_ms", UINT64_MAX)) {
      timer.until_ms = *until;
      ++given;
    }
    if (const cJSON* waits = fields.get("wait")) {
      ++given;
      std::string at = fields.path_of("wait");
      if (!cJSON_IsArray(waits) || cJSON_GetArraySize(waits) == 0) {
        fail_at(at, "must be a non-empty array");
      }
      int index = 0;
      const cJSON* entry = nullptr;
      cJSON_ArrayForEach(entry, waits) {
        timer.waits.push_back(parse_wait(entry, at + "[" + std::to_string(index++) + "]"));
      }
    }
    if (given != 1) fail_at(path, "must have exactly one of delay_ms, until_ms and wait");
    fields.finish();
    return timer;
  }

  // One entry of a timer's wait list: exactly one of "for", "until" and "fail".
  static WaitSpec parse_wait(const cJSON* item, const std::string& path) {
    Fields fields(item, path);
    WaitSpec wait;
    int given = 0;
    if (auto delay = fields.unsigned_integer("for", UINT64_MAX)) {
      wait.kind = WaitSpec::Kind::kFor;
      wait.ms = *delay;
      ++given;
    }
    if (auto until = fields.unsigned_integer("until", UINT64_MAX)) {
      wait.kind = WaitSpec::Kind::kUntil;
      wait.ms = *until;
      ++given;
    }
    if (auto message = fields.string("fail")) {
      wait.kind = WaitSpec::Kind::kFail;
      wait.message = *message;
      ++given;
    }
    if (given != 1) fail_at(path, "must have exactly one of for, until and fail");
    fields.finish();
    return wait;
  }

  static RetrySpec parse_retry(const cJSON* item, const std::string& path) {
    Fields fields(item, path);
    RetrySpec retry;
    retry.kind = fields.required_string("kind");
    auto need_unsigned = [&fields](const char* key, uint64_t max) {
      std::optional<uint64_t> value = fields.unsigned_integer(key, max);
      if (!value) fail_at(fields.path_of(key), "is required for this retry kind");
      return *value;
    };
    auto need_number = [&fields](const char* key) {
      std::optional<double> value = fields.number(key);
      if (!value) fail_at(fields.path_of(key), "is required for this retry kind");
      return *value;
    };
    if (retry.kind == "fixed" || retry.kind == "exponential") {
      retry.max_retries = static_cast<uint32_t>(need_unsigned("max_retries", UINT32_MAX));
      retry.delay_ms = need_unsigned("delay_ms", UINT64_MAX);
    }
    if (retry.kind == "exponential") {
      retry.multiplier = need_number("multiplier");
      retry.max_delay_ms = need_unsigned("max_delay_ms", UINT64_MAX);
      retry.jitter = need_number("jitter");
    } else if (retry.kind != "none" && retry.kind != "fixed" && retry.kind != "default") {
      fail_at(fields.path_of("kind"),
              "must be \"none\", \"fixed\", \"exponential\" or \"default\"");
    }
    // finish() rejects the fields that this kind does not take.
    fields.finish();
    return retry;
  }

  Step parse_step(const cJSON* item, const std::string& path, Role role) {
    Fields fields(item, path);
    Step step;
    std::string kind = fields.required_string("do");
    step.times = static_cast<uint32_t>(fields.unsigned_integer("times", UINT32_MAX).value_or(1));
    if (step.times == 0) fail_at(fields.path_of("times"), "must be at least 1");
    auto then = [&](const char* key) {
      return state_ref(fields.require(key), fields.path_of(key)).code;
    };
    // A branch takes succeed, fail and block; a batch's finish step goto and fail; a batch item
    // succeed and fail; any other task everything but succeed.
    bool allowed = false;
    const char* owner = "a task";
    switch (role) {
      case Role::kTask:
        allowed = kind != "succeed";
        break;
      case Role::kBranch:
        allowed = kind == "succeed" || kind == "fail" || kind == "block";
        owner = "a split branch";
        break;
      case Role::kFinish:
        allowed = kind == "goto" || kind == "fail";
        owner = "a batch task's finish step";
        break;
      case Role::kItem:
        allowed = kind == "succeed" || kind == "fail";
        owner = "a batch item";
        break;
    }
    if (!allowed) {
      fail_at(fields.path_of("do"), "\"" + kind + "\" is no step kind of " + owner);
    }
    if (kind == "goto") {
      step.kind = StepKind::kGoto;
      step.next = then("state");
      step.read_split = fields.boolean("read_split").value_or(false);
      if (fields.get("read_batch") != nullptr && role != Role::kFinish) {
        fail_at(fields.path_of("read_batch"), "is for a batch task's finish steps only");
      }
      step.read_batch = fields.boolean("read_batch").value_or(false);
    } else if (kind == "fail") {
      step.kind = StepKind::kFail;
      step.code = error_code(fields, "code");
      step.message = fields.string("message").value_or("fail");
      step.fatal = fields.boolean("fatal").value_or(false);
    } else if (kind == "block") {
      step.kind = StepKind::kBlock;
    } else if (kind == "succeed") {
      step.kind = StepKind::kSucceed;
      step.value = fields.string("value");
    } else if (kind == "more") {
      step.kind = StepKind::kMore;
      step.cursor = compact(fields.require("cursor"));
    } else if (kind == "pending") {
      step.kind = StepKind::kPending;
      std::optional<uint64_t> delay = fields.unsigned_integer("delay_ms", UINT64_MAX);
      if (!delay) fail_at(fields.path_of("delay_ms"), "is required");
      step.delay_ms = *delay;
    } else if (kind == "store_put" || kind == "store_append") {
      step.kind = kind == "store_put" ? StepKind::kStorePut : StepKind::kStoreAppend;
      step.key = fields.required_string("key");
      step.json = compact(fields.require("json"));
      step.next = then("then");
    } else if (kind == "store_get" || kind == "store_get_bytes") {
      step.kind = kind == "store_get" ? StepKind::kStoreGet : StepKind::kStoreGetBytes;
      step.key = fields.required_string("key");
      step.next = then("then");
    } else if (kind == "resource_get") {
      step.kind = StepKind::kResourceGet;
      step.key = fields.required_string("key");
      step.type = fields.required_string("type");
      step.next = then("then");
    } else {
      fail_at(fields.path_of("do"), "\"" + kind + "\" is no step kind");
    }
    fields.finish();
    return step;
  }

  // Reads a member that may be null: nullopt when absent, an empty optional when null.
  template <class Read>
  static auto nullable(Fields& fields, const char* key, Read read)
      -> std::optional<std::optional<decltype(read(static_cast<const cJSON*>(nullptr)))>> {
    const cJSON* item = fields.get(key);
    using Value = decltype(read(item));
    if (item == nullptr) return std::nullopt;
    if (cJSON_IsNull(item)) return std::optional<Value>();
    return std::optional<Value>(read(item));
  }

  void parse_expect(const cJSON* item, const std::string& path) {
    Fields fields(item, path);
    Expect& expect = scenario_.expect;
    expect.status = fields.string("status");
    if (expect.status && !status_from_name(*expect.status)) {
      fail_at(fields.path_of("status"), "\"" + *expect.status + "\" is no status name");
    }
    expect.category = fields.string("category");
    expect.message = fields.string("message");
    expect.message_contains = fields.strings("message_contains");
    auto text = [&fields](const char* key) {
      return [&fields, key](const cJSON* value) {
        if (!cJSON_IsString(value)) fail_at(fields.path_of(key), "must be a string or null");
        return std::string(value->valuestring);
      };
    };
    expect.cause_message = nullable(fields, "cause_message", text("cause_message"));
    expect.error_task = nullable(fields, "error_task", text("error_task"));
    expect.error_state = nullable(fields, "error_state", [&](const cJSON* value) {
      return state_ref(value, fields.path_of("error_state"));
    });
    if (auto attempt = fields.unsigned_integer("error_attempt", UINT32_MAX)) {
      expect.error_attempt = static_cast<uint32_t>(*attempt);
    }
    if (const cJSON* state = fields.get("final_state")) {
      expect.final_state = state_ref(state, fields.path_of("final_state"));
    }
    expect.trail = fields.strings("trail");
    if (expect.trail) {
      for (const auto& state : *expect.trail) declared(state, fields.path_of("trail"));
    }
    if (const cJSON* attempts = fields.get("attempts")) {
      expect.attempts = parse_per_state<uint32_t>(
          attempts, fields.path_of("attempts"), [](const cJSON* value, const std::string& at) {
            return static_cast<uint32_t>(Fields::to_unsigned(value, at, UINT32_MAX));
          });
    }
    if (const cJSON* times = fields.get("attempt_times_ms")) {
      expect.attempt_times_ms = parse_per_state<std::vector<uint64_t>>(
          times, fields.path_of("attempt_times_ms"), [](const cJSON* value, const std::string& at) {
            if (!cJSON_IsArray(value)) fail_at(at, "must be an array of integers");
            std::vector<uint64_t> out;
            const cJSON* element = nullptr;
            cJSON_ArrayForEach(element, value) {
              out.push_back(Fields::to_unsigned(element, at, UINT64_MAX));
            }
            return out;
          });
    }
    expect.resource_events = fields.strings("resource_events");
    if (const cJSON* store = fields.get("store")) {
      if (!cJSON_IsObject(store)) fail_at(fields.path_of("store"), "must be an object");
      expect.store.emplace();
      const cJSON* member = nullptr;
      cJSON_ArrayForEach(member, store) { (*expect.store)[member->string] = compact(member); }
    }
    if (const cJSON* seen = fields.get("split_seen")) {
      expect.split_seen = parse_split_seen(seen, fields.path_of("split_seen"));
    }
    if (const cJSON* cursors = fields.get("cursors")) {
      expect.cursors = parse_cursors(cursors, fields.path_of("cursors"));
    }
    if (const cJSON* seen = fields.get("batch_seen")) {
      expect.batch_seen = parse_batch_seen(seen, fields.path_of("batch_seen"));
    }
    if (const cJSON* notices = fields.get("cancel_notices")) {
      expect.cancel_notices = parse_per_state<uint32_t>(
          notices, fields.path_of("cancel_notices"),
          [](const cJSON* value, const std::string& at) {
            return static_cast<uint32_t>(Fields::to_unsigned(value, at, UINT32_MAX));
          },
          /*items=*/false);
    }
    expect.started = fields.boolean("started").value_or(true);
    fields.finish();
    if (!expect.started && expect.final_state) {
      fail_at(fields.path_of("final_state"), "only applies to a run that started");
    }
  }

  static std::vector<std::optional<std::vector<std::string>>> parse_split_seen(
      const cJSON* item, const std::string& path) {
    const char* shape = "must be an array whose entries are null or arrays of strings";
    if (!cJSON_IsArray(item)) fail_at(path, shape);
    std::vector<std::optional<std::vector<std::string>>> out;
    int index = 0;
    const cJSON* entry = nullptr;
    cJSON_ArrayForEach(entry, item) {
      std::string at = path + "[" + std::to_string(index++) + "]";
      if (cJSON_IsNull(entry)) {
        out.emplace_back();
        continue;
      }
      if (!cJSON_IsArray(entry)) fail_at(at, shape);
      std::vector<std::string> branches;
      const cJSON* text = nullptr;
      cJSON_ArrayForEach(text, entry) {
        if (!cJSON_IsString(text)) fail_at(at, shape);
        branches.emplace_back(text->valuestring);
      }
      out.emplace_back(std::move(branches));
    }
    return out;
  }

  static std::vector<std::vector<std::string>> parse_batch_seen(const cJSON* item,
                                                                const std::string& path) {
    const char* shape = "must be an array of arrays of strings";
    if (!cJSON_IsArray(item)) fail_at(path, shape);
    std::vector<std::vector<std::string>> out;
    const cJSON* entry = nullptr;
    cJSON_ArrayForEach(entry, item) {
      if (!cJSON_IsArray(entry)) fail_at(path, shape);
      std::vector<std::string> items;
      const cJSON* text = nullptr;
      cJSON_ArrayForEach(text, entry) {
        if (!cJSON_IsString(text)) fail_at(path, shape);
        items.emplace_back(text->valuestring);
      }
      out.push_back(std::move(items));
    }
    return out;
  }

  // expect.cursors: by declared state name, an array of JSON values (null: no cursor).
  std::map<std::string, std::vector<std::optional<std::string>>> parse_cursors(
      const cJSON* item, const std::string& path) const {
    if (!cJSON_IsObject(item)) fail_at(path, "must be an object keyed by state name");
    std::map<std::string, std::vector<std::optional<std::string>>> out;
    const cJSON* member = nullptr;
    cJSON_ArrayForEach(member, item) {
      std::string at = path + "." + member->string;
      declared(member->string, at);
      if (!cJSON_IsArray(member)) fail_at(at, "must be an array of JSON values (null: none)");
      std::vector<std::optional<std::string>> seen;
      const cJSON* cursor = nullptr;
      cJSON_ArrayForEach(cursor, member) {
        if (cJSON_IsNull(cursor)) {
          seen.emplace_back();
        } else {
          seen.emplace_back(compact(cursor));
        }
      }
      out[member->string] = std::move(seen);
    }
    return out;
  }

  // A key of attempts, attempt_times_ms or cancel_notices: a declared state, "F[i]" for branch
  // i of the split state F, or (with `items`: not for cancel_notices) "W[i]" for item i of the
  // batch state W, i below the most items an entry of W's "load" adds.
  void attempt_key(const std::string& key, const std::string& path, bool items) const {
    for (const auto& [code, split] : scenario_.splits) {
      for (size_t i = 0; i < split.branches.size(); ++i) {
        if (key == scenario_.branch_key(code, i)) return;
      }
    }
    if (items) {
      for (const auto& [code, task] : scenario_.tasks) {
        if (task.kind != TaskKind::kBatch) continue;
        for (size_t i = 0; i < task.batch.max_items(); ++i) {
          if (key == scenario_.branch_key(code, i)) return;
        }
      }
    }
    if (std::find(scenario_.states.begin(), scenario_.states.end(), key) ==
        scenario_.states.end()) {
      fail_at(path, "\"" + key + "\" is neither a state in \"states\" nor a split branch \"F[i]\"" +
                        (items ? " nor a batch item \"W[i]\"" : ""));
    }
  }

  template <class Value, class Read>
  std::map<std::string, Value> parse_per_state(const cJSON* item, const std::string& path,
                                               Read read, bool items = true) const {
    if (!cJSON_IsObject(item)) fail_at(path, "must be an object keyed by state name or \"F[i]\"");
    std::map<std::string, Value> out;
    const cJSON* member = nullptr;
    cJSON_ArrayForEach(member, item) {
      std::string at = path + "." + member->string;
      attempt_key(member->string, at, items);
      out[member->string] = read(member, at);
    }
    return out;
  }

  std::string file_;
  Scenario scenario_;
};

}  // namespace

const Step& step_for(const std::vector<Step>& steps, uint32_t call) {
  uint64_t remaining = call;
  for (const Step& step : steps) {
    if (remaining <= step.times) return step;
    remaining -= step.times;
  }
  return steps.back();
}

const Step& TaskSpec::step_for(uint32_t attempt) const {
  return conformance::step_for(steps, attempt);
}

const LoadSpec& BatchSpec::load_for(uint32_t call) const {
  size_t index = call == 0 ? 0 : call - 1;
  return index < loads.size() ? loads[index] : loads.back();
}

size_t BatchSpec::max_items() const {
  size_t most = 0;
  for (const LoadSpec& load : loads) most = std::max(most, load.items.size());
  return most;
}

const WaitSpec& TimerSpec::wait_for(uint32_t call) const {
  size_t index = call == 0 ? 0 : call - 1;
  return index < waits.size() ? waits[index] : waits.back();
}

std::string Scenario::branch_key(int32_t code, size_t index) const {
  return label(code) + "[" + std::to_string(index) + "]";
}

bool Expect::checks_error() const {
  return category || message || message_contains || cause_message || error_state || error_task ||
         error_attempt;
}

std::string Scenario::label(int32_t code) const {
  if (code >= 0 && static_cast<size_t>(code) < states.size()) return states[code];
  return std::to_string(code);
}

Scenario load_scenario(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot be read");
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  JsonPtr root(cJSON_ParseWithLength(text.data(), text.size()));
  if (!root) throw std::runtime_error(path + ": is not valid JSON");
  Scenario scenario = Parser(path).parse(root.get());
  for (char c : scenario.name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') {
      throw std::runtime_error(path + ".name: \"" + scenario.name +
                               "\" may hold only letters, digits and '_'");
    }
  }
  std::string stem = std::filesystem::path(path).stem().string();
  if (scenario.name != stem) {
    throw std::runtime_error(path + ".name: \"" + scenario.name + "\" must match the file name");
  }
  return scenario;
}

std::vector<std::string> list_scenarios(const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().extension() == ".json") {
      files.push_back(entry.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::optional<cano_status> status_from_name(const std::string& name) {
  // The library is the authority on the spelling: ask it for every code in the range it uses.
  for (cano_status status = -128; status <= CANO_PENDING; ++status) {
    if (name == cano_status_name(status) && name != "UNKNOWN") return status;
  }
  return std::nullopt;
}

bool json_equal(const std::string& a, const std::string& b) {
  JsonPtr left(cJSON_Parse(a.c_str()));
  JsonPtr right(cJSON_Parse(b.c_str()));
  return left && right && cJSON_Compare(left.get(), right.get(), 1) != 0;
}

}  // namespace conformance
