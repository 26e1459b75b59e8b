// The C++ runner of the conformance suite: one test per scenario file in
// CANO_CONFORMANCE_SCENARIOS_DIR, each run through the public C API (runner.cpp) and compared
// with its "expect" block. Every mismatch names the scenario and the field, so that a failure
// reads the same as in the Python and Go runners.
#include "runner.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "scenario.hpp"

#ifndef CANO_CONFORMANCE_SCENARIOS_DIR
#error "CANO_CONFORMANCE_SCENARIOS_DIR must name the scenarios directory"
#endif

namespace conformance {
namespace {

// Declared first, so that each can show the others' element types (std::vector<std::optional<
// std::vector<std::string>>> for split_seen).
template <class T>
std::string show(const std::vector<T>& values);
template <class T>
std::string show(const std::optional<T>& value);

template <class T>
std::string show(const T& value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

std::string show(const std::string& value) { return "\"" + value + "\""; }

std::string show(bool value) { return value ? "true" : "false"; }

template <class T>
std::string show(const std::vector<T>& values) {
  std::string text = "[";
  for (size_t i = 0; i < values.size(); ++i) text += (i ? ", " : "") + show(values[i]);
  return text + "]";
}

template <class T>
std::string show(const std::optional<T>& value) {
  return value ? show(*value) : "null";
}

// A list of JSON texts (null for none) as JSON: [null, {"page":2}].
std::string show_json(const std::vector<std::optional<std::string>>& values) {
  std::string text = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    text += (i ? ", " : "") + (values[i] ? *values[i] : std::string("null"));
  }
  return text + "]";
}

// Compares one field and reports "scenario S: expect.F: got X, want Y".
class Checker {
 public:
  explicit Checker(const Scenario& scenario) : scenario_(scenario) {}

  template <class T>
  void equal(const std::string& field, const T& got, const T& want) {
    if (got == want) return;
    ADD_FAILURE() << where(field) << "got " << show(got) << ", want " << show(want);
  }

  void fail(const std::string& field, const std::string& problem) {
    ADD_FAILURE() << where(field) << problem;
  }

  // A state as the scenario would write it: its name when declared, else its code.
  std::string state(int32_t code) const { return scenario_.label(code); }

 private:
  std::string where(const std::string& field) const {
    return "scenario " + scenario_.name + ": expect." + field + ": ";
  }

  const Scenario& scenario_;
};

void check_error(Checker& check, const Expect& expect, const ErrorInfo& error) {
  if (expect.category) check.equal("category", error.category, *expect.category);
  if (expect.message) check.equal("message", error.message, *expect.message);
  if (expect.message_contains) {
    for (const std::string& fragment : *expect.message_contains) {
      if (error.message.find(fragment) == std::string::npos) {
        check.fail("message_contains",
                   "message " + show(error.message) + " lacks " + show(fragment));
      }
    }
  }
  if (expect.cause_message)
    check.equal("cause_message", error.cause_message, *expect.cause_message);
  if (expect.error_state) {
    const std::optional<StateRef>& want = *expect.error_state;
    std::optional<std::string> got =
        error.state ? std::optional<std::string>(check.state(*error.state)) : std::nullopt;
    std::optional<std::string> wanted =
        want ? std::optional<std::string>(check.state(want->code)) : std::nullopt;
    check.equal("error_state", got, wanted);
    // A declared state must also come back by name; an undeclared code has none.
    std::optional<std::string> want_name = want ? want->name : std::nullopt;
    if (want) check.equal("error_state (cano_error_state_name)", error.state_name, want_name);
  }
  if (expect.error_task) check.equal("error_task", error.task_name, *expect.error_task);
  if (expect.error_attempt) check.equal("error_attempt", error.attempt, *expect.error_attempt);
}

void check_outcome(const Scenario& scenario, const Outcome& outcome) {
  const Expect& expect = scenario.expect;
  Checker check(scenario);
  for (const std::string& problem : outcome.problems) check.fail("(runner)", problem);

  check.equal("started", outcome.started, expect.started);
  if (expect.status) {
    check.equal("status", std::string(cano_status_name(outcome.status)), *expect.status);
  }
  if (outcome.error) {
    check_error(check, expect, *outcome.error);
  } else if (expect.checks_error()) {
    check.fail("(error fields)", "the run has no error (status " +
                                     std::string(cano_status_name(outcome.status)) + ")");
  }
  if (expect.final_state && outcome.started) {
    check.equal("final_state", check.state(outcome.final_state),
                check.state(expect.final_state->code));
  }
  if (expect.trail) check.equal("trail", outcome.trail, *expect.trail);
  if (expect.attempts) {
    for (const auto& [state, want] : *expect.attempts) {
      check.equal("attempts." + state, outcome.attempts.at(state), want);
    }
  }
  if (expect.attempt_times_ms) {
    for (const auto& [state, want] : *expect.attempt_times_ms) {
      check.equal("attempt_times_ms." + state, outcome.attempt_times_ms.at(state), want);
    }
  }
  if (expect.resource_events) {
    check.equal("resource_events", outcome.resource_events, *expect.resource_events);
  }
  if (expect.split_seen) check.equal("split_seen", outcome.split_seen, *expect.split_seen);
  if (expect.cursors) {
    for (const auto& [state, want] : *expect.cursors) {
      const std::vector<std::optional<std::string>>& got = outcome.cursors.at(state);
      // Compared as parsed JSON; a cursor that is not JSON never equals a wanted value.
      bool same = got.size() == want.size();
      for (size_t i = 0; same && i < got.size(); ++i) {
        same =
            got[i].has_value() == want[i].has_value() && (!got[i] || json_equal(*got[i], *want[i]));
      }
      if (!same) {
        check.fail("cursors." + state, "got " + show_json(got) + ", want " + show_json(want));
      }
    }
  }
  if (expect.batch_seen) check.equal("batch_seen", outcome.batch_seen, *expect.batch_seen);
  if (expect.cancel_notices) {
    for (const auto& [key, want] : *expect.cancel_notices) {
      check.equal("cancel_notices." + key, outcome.cancel_notices.at(key), want);
    }
  }
  if (expect.store) {
    for (const auto& [key, want] : *expect.store) {
      const std::string& got = outcome.store.at(key);
      if (!json_equal(got, want)) {
        check.fail("store." + key, "got " + got + ", want " + want);
      }
    }
  }
}

class Conformance : public ::testing::TestWithParam<std::string> {};

TEST_P(Conformance, Run) {
  Scenario scenario;
  try {
    scenario = load_scenario(GetParam());
  } catch (const std::exception& e) {
    FAIL() << "invalid scenario: " << e.what();
  }
  check_outcome(scenario, run_scenario(scenario));
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
  // GoogleTest names allow only letters, digits and '_', as scenario names do; anything else
  // becomes '_' here and the scenario's own check rejects the name.
  std::string name = std::filesystem::path(info.param).stem().string();
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(scenarios, Conformance,
                         ::testing::ValuesIn(list_scenarios(CANO_CONFORMANCE_SCENARIOS_DIR)),
                         test_name);

}  // namespace
}  // namespace conformance
