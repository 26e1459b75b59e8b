package cano

// The conformance runner: every JSON scenario in tests/conformance/scenarios runs through the Go
// API exactly as tests/conformance/README.md prescribes, so that Go behaves as C, C++ and
// Python do. CANO_CONFORMANCE_SCENARIOS names another directory of scenarios.
//
// This file holds the tests. The runner's other parts: conformance_fields_test.go reads JSON
// strictly; conformance_scenario_test.go and conformance_parse_test.go hold the scenario model
// and its parser; conformance_batch_test.go the batch tasks; conformance_runner_test.go and
// conformance_bodies_test.go run a scenario; conformance_expect_test.go compares the run with
// its expectations.

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// conformanceDir is the directory of scenarios.
func conformanceDir() string {
	if dir := os.Getenv("CANO_CONFORMANCE_SCENARIOS"); dir != "" {
		return dir
	}
	return filepath.Join("..", "..", "tests", "conformance", "scenarios")
}

func TestConformance(t *testing.T) {
	dir := conformanceDir()
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	must(t, err)
	if len(files) == 0 {
		t.Skipf("no scenarios in %s", dir)
	}
	sort.Strings(files)
	for _, file := range files {
		data, err := os.ReadFile(file)
		must(t, err)
		sc, err := parseScenario(data, file)
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			if err != nil {
				t.Fatalf("malformed scenario: %v", err)
			}
			runScenario(t, sc)
		})
	}
	t.Logf("%d scenarios from %s", len(files), dir)
}

// TestConformanceParserIsStrict checks that the runner rejects what README.md says it must.
func TestConformanceParserIsStrict(t *testing.T) {
	// base is a scenario's states and an expectation of success; noExpect the states alone.
	const noExpect = `"states": ["A", "B"], "initial": "A", "exit_states": ["B"]`
	const base = noExpect + `, "expect": {"status": "OK"}`
	for name, body := range map[string]string{
		"unknown_top":        `{"name": "unknown_top", ` + base + `, "extra": 1}`,
		"unknown_expect":     `{"name": "unknown_expect", "states": ["A"], "initial": "A", "expect": {"stauts": "OK"}}`,
		"wrong_type":         `{"name": "wrong_type", "states": ["A"], "initial": "A", "timeout_ms": "5", "expect": {}}`,
		"undeclared_exit":    `{"name": "undeclared_exit", "states": ["A"], "initial": "A", "exit_states": ["Z"], "expect": {}}`,
		"inline_block":       `{"name": "inline_block", ` + base + `, "tasks": {"A": {"steps": [{"do": "block"}]}}}`,
		"fixed_needs_delay":  `{"name": "fixed_needs_delay", ` + base + `, "tasks": {"A": {"retry": {"kind": "fixed", "max_retries": 1}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"none_takes_nothing": `{"name": "none_takes_nothing", ` + base + `, "tasks": {"A": {"retry": {"kind": "none", "delay_ms": 1}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"step_extra_field":   `{"name": "step_extra_field", ` + base + `, "tasks": {"A": {"steps": [{"do": "goto", "state": "B", "key": "k"}]}}}`,
		"zero_times":         `{"name": "zero_times", ` + base + `, "tasks": {"A": {"steps": [{"do": "goto", "state": "B", "times": 0}]}}}`,
		"ok_fail_code":       `{"name": "ok_fail_code", ` + base + `, "tasks": {"A": {"steps": [{"do": "fail", "code": "OK"}]}}}`,
		"task_for_unknown":   `{"name": "task_for_unknown", ` + base + `, "tasks": {"Z": {"steps": [{"do": "goto", "state": "B"}]}}}`,
		"final_not_started":  `{"name": "final_not_started", "states": ["A"], "initial": "A", "expect": {"started": false, "final_state": "A"}}`,
		"store_key":          `{"name": "store_key", ` + base + `, "resources": [{"key": "store"}]}`,
		"bad_name":           `{"name": "bad-name", "states": ["A"], "initial": "A", "expect": {}}`,
		"file_name_mismatch": `{"name": "other", "states": ["A"], "initial": "A", "expect": {}}`,
		"unknown_kind":       `{"name": "unknown_kind", ` + base + `, "tasks": {"A": {"kind": "flow", "steps": [{"do": "goto", "state": "B"}]}}}`,
		"poll_not_poll":      `{"name": "poll_not_poll", ` + base + `, "tasks": {"A": {"kind": "router", "poll": {"policy": "fail_fast"}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"poll_no_policy":     `{"name": "poll_no_policy", ` + base + `, "tasks": {"A": {"kind": "poll", "poll": {"max_errors": 1}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"pending_no_delay":   `{"name": "pending_no_delay", ` + base + `, "tasks": {"A": {"kind": "poll", "steps": [{"do": "pending"}]}}}`,
		"succeed_in_task":    `{"name": "succeed_in_task", ` + base + `, "tasks": {"A": {"steps": [{"do": "succeed"}]}}}`,
		"fatal_on_goto":      `{"name": "fatal_on_goto", ` + base + `, "tasks": {"A": {"steps": [{"do": "goto", "state": "B", "fatal": true}]}}}`,
		"split_extra":        `{"name": "split_extra", ` + base + `, "tasks": {"A": {"mode": "inline", "split": {"strategy": "all", "join_state": "B", "branches": []}}}}`,
		"split_no_join":      `{"name": "split_no_join", ` + base + `, "tasks": {"A": {"split": {"strategy": "all", "branches": []}}}}`,
		"split_strategy":     `{"name": "split_strategy", ` + base + `, "tasks": {"A": {"split": {"strategy": "most", "join_state": "B", "branches": []}}}}`,
		"branch_goto":        `{"name": "branch_goto", ` + base + `, "tasks": {"A": {"split": {"strategy": "all", "join_state": "B", "branches": [{"steps": [{"do": "goto", "state": "B"}]}]}}}}`,
		"branch_pending":     `{"name": "branch_pending", ` + base + `, "tasks": {"A": {"split": {"strategy": "all", "join_state": "B", "branches": [{"steps": [{"do": "pending", "delay_ms": 1}]}]}}}}`,
		"branch_kind":        `{"name": "branch_kind", ` + base + `, "tasks": {"A": {"split": {"strategy": "all", "join_state": "B", "branches": [{"kind": "task", "steps": [{"do": "succeed"}]}]}}}}`,
		"branch_key_range":   `{"name": "branch_key_range", "states": ["A", "B"], "initial": "A", "exit_states": ["B"], "tasks": {"A": {"split": {"strategy": "all", "join_state": "B", "branches": [{"steps": [{"do": "succeed"}]}]}}}, "expect": {"attempts": {"A[1]": 1}}}`,
		"split_seen_shape":   `{"name": "split_seen_shape", "states": ["A"], "initial": "A", "expect": {"split_seen": [["ok"], 3]}}`,
		// Stepped and timer tasks, cursors.
		"more_no_cursor":     `{"name": "more_no_cursor", ` + base + `, "tasks": {"A": {"kind": "stepped", "steps": [{"do": "more"}]}}}`,
		"branch_more":        `{"name": "branch_more", ` + base + `, "tasks": {"A": {"split": {"strategy": "all", "join_state": "B", "branches": [{"steps": [{"do": "more", "cursor": 1}]}]}}}}`,
		"timer_not_timer":    `{"name": "timer_not_timer", ` + base + `, "tasks": {"A": {"timer": {"delay_ms": 1}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"timer_missing":      `{"name": "timer_missing", ` + base + `, "tasks": {"A": {"kind": "timer", "steps": [{"do": "goto", "state": "B"}]}}}`,
		"timer_two_keys":     `{"name": "timer_two_keys", ` + base + `, "tasks": {"A": {"kind": "timer", "timer": {"delay_ms": 1, "until_ms": 2}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"timer_no_key":       `{"name": "timer_no_key", ` + base + `, "tasks": {"A": {"kind": "timer", "timer": {}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"timer_extra":        `{"name": "timer_extra", ` + base + `, "tasks": {"A": {"kind": "timer", "timer": {"delay_ms": 1, "jitter": 0}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"timer_wait_empty":   `{"name": "timer_wait_empty", ` + base + `, "tasks": {"A": {"kind": "timer", "timer": {"wait": []}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"wait_two_keys":      `{"name": "wait_two_keys", ` + base + `, "tasks": {"A": {"kind": "timer", "timer": {"wait": [{"for": 1, "fail": "x"}]}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"wait_extra":         `{"name": "wait_extra", ` + base + `, "tasks": {"A": {"kind": "timer", "timer": {"wait": [{"for": 1, "after": 1}]}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"timer_delay_type":   `{"name": "timer_delay_type", ` + base + `, "tasks": {"A": {"kind": "timer", "timer": {"delay_ms": "1"}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"cursors_undeclared": `{"name": "cursors_undeclared", "states": ["A"], "initial": "A", "expect": {"cursors": {"Z": []}}}`,
		"cursors_not_array":  `{"name": "cursors_not_array", "states": ["A"], "initial": "A", "expect": {"cursors": {"A": 1}}}`,
		"cursors_not_object": `{"name": "cursors_not_object", "states": ["A"], "initial": "A", "expect": {"cursors": []}}`,
		// Batch tasks and cancel notices.
		"batch_missing":       `{"name": "batch_missing", ` + base + `, "tasks": {"A": {"kind": "batch", "steps": [{"do": "goto", "state": "B"}]}}}`,
		"batch_not_batch":     `{"name": "batch_not_batch", ` + base + `, "tasks": {"A": {"batch": {"load": [{"items": []}]}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"batch_async":         `{"name": "batch_async", ` + base + `, "tasks": {"A": {"kind": "batch", "mode": "async", "batch": {"load": [{"items": []}]}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"batch_extra":         `{"name": "batch_extra", ` + base + `, "tasks": {"A": {"kind": "batch", "batch": {"load": [{"items": []}], "size": 1}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"batch_no_load":       `{"name": "batch_no_load", ` + base + `, "tasks": {"A": {"kind": "batch", "batch": {"concurrency": 1}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"batch_load_empty":    `{"name": "batch_load_empty", ` + base + `, "tasks": {"A": {"kind": "batch", "batch": {"load": []}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"batch_concurrency":   `{"name": "batch_concurrency", ` + base + `, "tasks": {"A": {"kind": "batch", "batch": {"concurrency": -1, "load": [{"items": []}]}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"batch_item_retry":    `{"name": "batch_item_retry", ` + base + `, "tasks": {"A": {"kind": "batch", "batch": {"item_retry": {"kind": "fixed"}, "load": [{"items": []}]}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"load_both":           `{"name": "load_both", ` + base + `, "tasks": {"A": {"kind": "batch", "batch": {"load": [{"items": [], "fail": "x"}]}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"load_neither":        `{"name": "load_neither", ` + base + `, "tasks": {"A": {"kind": "batch", "batch": {"load": [{}]}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"load_items_code":     `{"name": "load_items_code", ` + base + `, "tasks": {"A": {"kind": "batch", "batch": {"load": [{"items": [], "code": "STORE"}]}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"load_bad_code":       `{"name": "load_bad_code", ` + base + `, "tasks": {"A": {"kind": "batch", "batch": {"load": [{"fail": "x", "code": "OK"}]}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"item_not_object":     `{"name": "item_not_object", ` + base + `, "tasks": {"A": {"kind": "batch", "batch": {"load": [{"items": [1]}]}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"item_no_steps":       `{"name": "item_no_steps", ` + base + `, "tasks": {"A": {"kind": "batch", "batch": {"load": [{"items": [{}]}]}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"item_extra":          `{"name": "item_extra", ` + base + `, "tasks": {"A": {"kind": "batch", "batch": {"load": [{"items": [{"steps": [{"do": "succeed"}], "id": 1}]}]}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"item_goto":           `{"name": "item_goto", ` + base + `, "tasks": {"A": {"kind": "batch", "batch": {"load": [{"items": [{"steps": [{"do": "goto", "state": "B"}]}]}]}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"item_block":          `{"name": "item_block", ` + base + `, "tasks": {"A": {"kind": "batch", "mode": "worker", "batch": {"load": [{"items": [{"steps": [{"do": "block"}]}]}]}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"finish_succeed":      `{"name": "finish_succeed", ` + base + `, "tasks": {"A": {"kind": "batch", "batch": {"load": [{"items": []}]}, "steps": [{"do": "succeed"}]}}}`,
		"finish_store":        `{"name": "finish_store", ` + base + `, "tasks": {"A": {"kind": "batch", "batch": {"load": [{"items": []}]}, "steps": [{"do": "store_get", "key": "k", "then": "B"}]}}}`,
		"read_batch_task":     `{"name": "read_batch_task", ` + base + `, "tasks": {"A": {"steps": [{"do": "goto", "state": "B", "read_batch": true}]}}}`,
		"read_batch_type":     `{"name": "read_batch_type", ` + base + `, "tasks": {"A": {"kind": "batch", "batch": {"load": [{"items": []}]}, "steps": [{"do": "goto", "state": "B", "read_batch": 1}]}}}`,
		"batch_seen_shape":    `{"name": "batch_seen_shape", "states": ["A"], "initial": "A", "expect": {"batch_seen": [null]}}`,
		"batch_seen_strings":  `{"name": "batch_seen_strings", "states": ["A"], "initial": "A", "expect": {"batch_seen": [[1]]}}`,
		"item_key_range":      `{"name": "item_key_range", ` + noExpect + `, "tasks": {"A": {"kind": "batch", "batch": {"load": [{"items": [{"steps": [{"do": "succeed"}]}]}]}, "steps": [{"do": "goto", "state": "B"}]}}, "expect": {"attempts": {"A[1]": 1}}}`,
		"notices_item_key":    `{"name": "notices_item_key", ` + noExpect + `, "tasks": {"A": {"kind": "batch", "batch": {"load": [{"items": [{"steps": [{"do": "succeed"}]}]}]}, "steps": [{"do": "goto", "state": "B"}]}}, "expect": {"cancel_notices": {"A[0]": 0}}}`,
		"notices_unknown_key": `{"name": "notices_unknown_key", "states": ["A"], "initial": "A", "expect": {"cancel_notices": {"Z": 0}}}`,
		"notices_type":        `{"name": "notices_type", "states": ["A"], "initial": "A", "expect": {"cancel_notices": {"A": "1"}}}`,
	} {
		if _, err := parseScenario([]byte(body), name+".json"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	good := `{"name": "good", ` + base + `, "tasks": {"A": {"mode": "worker", "retry": {"kind": "exponential",
		"max_retries": 1, "delay_ms": 5, "multiplier": 2, "max_delay_ms": 10, "jitter": 0},
		"steps": [{"do": "store_put", "key": "k", "json": {"a": [1, 2]}, "then": "B", "times": 2}]}}}`
	sc, err := parseScenario([]byte(good), "good.json")
	must(t, err)
	if step := sc.tasks[0].steps[0]; step.json != `{"a":[1,2]}` || step.times != 2 || step.next != 1 {
		t.Fatalf("parsed step = %+v", step)
	}
	split := `{"name": "split", "states": ["F", "J", "P", "D"], "initial": "F", "exit_states": ["D"], "tasks": {
		"F": {"split": {"strategy": "quorum", "count": 2, "timeout_ms": 50, "join_state": "J", "bulkhead": 1,
			"branches": [{"mode": "async", "steps": [{"do": "succeed", "value": ""}]}, {"steps": [{"do": "fail", "fatal": true}]}]}},
		"J": {"kind": "router", "steps": [{"do": "goto", "state": "P", "read_split": true}]},
		"P": {"kind": "poll", "poll": {"policy": "retry_on_error"}, "steps": [{"do": "pending", "delay_ms": 5}, {"do": "goto", "state": "D"}]}},
		"expect": {"attempts": {"F[0]": 1, "F[1]": 1, "J": 1}, "attempt_times_ms": {"F[1]": [0]}, "split_seen": [null, ["succeeded:"]]}}`
	sc, err = parseScenario([]byte(split), "split.json")
	must(t, err)
	f := sc.splits[0]
	if f == nil || f.strategy.String() != "Quorum(2)" || f.timeoutMS != 50 || f.bulkhead != 1 || f.joinState.code != 1 ||
		len(f.branches) != 2 || f.branches[0].mode != Async || *f.branches[0].steps[0].value != "" ||
		!f.branches[1].steps[0].fatal {
		t.Fatalf("parsed split = %+v", f)
	}
	if j, p := sc.tasks[1], sc.tasks[2]; j.kind != "router" || !j.steps[0].readSplit || p.kind != "poll" ||
		p.poll == nil || p.poll.String() != "RetryOnError { max_errors: 0 }" || p.steps[0].delay != 5*time.Millisecond {
		t.Fatalf("parsed tasks = %+v, %+v", j, p)
	}
	if seen := showSplitSeen(*sc.expect.splitSeen); seen != `[null, ["succeeded:"]]` {
		t.Fatalf("split_seen = %s", seen)
	}
	models := `{"name": "models", "states": ["S", "T", "D"], "initial": "S", "exit_states": ["D"], "tasks": {
		"S": {"kind": "stepped", "steps": [{"do": "more", "cursor": {"a": [1, 2]}}, {"do": "goto", "state": "T"}]},
		"T": {"kind": "timer", "timer": {"wait": [{"for": 5}, {"until": 9}, {"fail": "no"}]}, "steps": [{"do": "goto", "state": "D"}]}},
		"expect": {"cursors": {"S": [null, {"a": [1, 2]}]}}}`
	sc, err = parseScenario([]byte(models), "models.json")
	must(t, err)
	if s, tm := sc.tasks[0], sc.tasks[1]; s.kind != "stepped" || s.steps[0].cursor != `{"a":[1,2]}` || tm.kind != "timer" ||
		len(tm.timer.waits) != 3 || entryFor(tm.timer.waits, 2).ms != 9 || entryFor(tm.timer.waits, 7).message != "no" {
		t.Fatalf("parsed tasks = %+v, %+v", s, tm)
	}
	if got := showCursors(sc.expect.cursors["S"]); got != `[null, {"a":[1,2]}]` {
		t.Fatalf("cursors = %s", got)
	}
	batch := `{"name": "batch", "states": ["W", "F", "D"], "initial": "W", "exit_states": ["D"], "tasks": {
		"W": {"kind": "batch", "mode": "worker", "retry": {"kind": "fixed", "max_retries": 1, "delay_ms": 5}, "batch": {
			"concurrency": 2, "item_retry": {"kind": "fixed", "max_retries": 2, "delay_ms": 10},
			"load": [{"fail": "down", "code": "STORE", "fatal": true},
				{"items": [{"steps": [{"do": "fail", "times": 2, "message": "m"}, {"do": "succeed", "value": "v"}]}, {"steps": [{"do": "succeed"}]}]}]},
			"steps": [{"do": "fail", "fatal": true}, {"do": "goto", "state": "F", "read_batch": true}]},
		"F": {"split": {"strategy": "any", "join_state": "D", "branches": [{"mode": "async", "steps": [{"do": "block"}]}]}}},
		"expect": {"attempts": {"W": 2, "W[0]": 3, "W[1]": 1}, "batch_seen": [["succeeded:v", "succeeded"]],
			"cancel_notices": {"W": 0, "F[0]": 1}}}`
	sc, err = parseScenario([]byte(batch), "batch.json")
	must(t, err)
	w := sc.tasks[0]
	if w.kind != "batch" || w.mode != Worker || w.batch == nil || w.batch.concurrency != 2 ||
		w.batch.itemRetry.kind != "fixed" || w.batch.itemRetry.maxRetries != 2 || len(w.batch.loads) != 2 ||
		!w.batch.loads[0].fails || w.batch.loads[0].code != CodeStore || !w.batch.loads[0].fatal ||
		entryFor(w.batch.loads, 9).fails || len(entryFor(w.batch.loads, 2).items) != 2 || w.batch.maxItems() != 2 ||
		!w.steps[0].fatal || !w.steps[1].readBatch {
		t.Fatalf("parsed batch task = %+v, batch %+v", w, w.batch)
	}
	item0 := w.batch.scripts[w.batch.loads[1].items[0]]
	if w.batch.loads[1].items[0] != `{"steps":[{"do":"fail","times":2,"message":"m"},{"do":"succeed","value":"v"}]}` ||
		len(item0) != 2 || stepFor(item0, 2).kind != "fail" || stepFor(item0, 3).kind != "succeed" ||
		*stepFor(item0, 7).value != "v" {
		t.Fatalf("item scripts = %+v", w.batch.scripts)
	}
	if fmt.Sprintf("%q", *sc.expect.batchSeen) != `[["succeeded:v" "succeeded"]]` ||
		sc.expect.cancelNotices["F[0]"] != 1 || len(sc.expect.cancelNotices) != 2 {
		t.Fatalf("expect = %+v", sc.expect)
	}
	// A batch item's default retry is "default" (CANO_RETRY_DEFAULT: one attempt for items).
	sc, err = parseScenario([]byte(`{"name": "item_default", `+noExpect+
		`, "tasks": {"A": {"kind": "batch", "batch": {"load": [{"items": []}]}, "steps": [{"do": "goto", "state": "B"}]}}, "expect": {}}`),
		"item_default.json")
	must(t, err)
	if b := sc.tasks[0].batch; b.itemRetry.kind != "default" || b.concurrency != 0 || b.maxItems() != 0 {
		t.Fatalf("defaults = %+v", b)
	}
}

// TestConformanceRunsBatchAndCancelScenarios is the runner's own check of the batch and
// cancel notice extension, independent of which scenarios the shared suite holds.
func TestConformanceRunsBatchAndCancelScenarios(t *testing.T) {
	runInlineScenarios(t, map[string]string{
		// A load failure retried by the task, items with their own fixed retries (concurrency 2:
		// item 1 runs alongside item 0's retries), a finish that fails once (which reruns load),
		// and the loads counted across attempts.
		"batch": `{"name": "batch", "states": ["W", "D"], "initial": "W", "exit_states": ["D"],
			"tasks": {
				"W": {"kind": "batch", "retry": {"kind": "fixed", "max_retries": 3, "delay_ms": 5},
					"batch": {"concurrency": 2, "item_retry": {"kind": "fixed", "max_retries": 1, "delay_ms": 10},
						"load": [{"fail": "source down"},
							{"items": [{"steps": [{"do": "fail", "message": "flaky"}, {"do": "succeed", "value": "a"}]},
								{"steps": [{"do": "fail", "code": "STORE", "message": "always"}]}]}]},
					"steps": [{"do": "fail", "message": "sink down"}, {"do": "goto", "state": "D", "read_batch": true}]}},
			"expect": {"status": "OK", "final_state": "D", "trail": ["W"],
				"attempts": {"W": 3, "W[0]": 4, "W[1]": 4},
				"attempt_times_ms": {"W": [0, 5, 20], "W[0]": [5, 15, 20, 30], "W[1]": [5, 15, 20, 30]},
				"cursors": {"W": [null, null, null]},
				"batch_seen": [["succeeded:a", "failed:always"]]}}`,
		// A fatal item ends the batch without its finish and without the task's retries.
		"batch_fatal": `{"name": "batch_fatal", "states": ["W", "D"], "initial": "W", "exit_states": ["D"],
			"tasks": {"W": {"kind": "batch", "mode": "worker", "retry": {"kind": "fixed", "max_retries": 2, "delay_ms": 5},
				"batch": {"load": [{"items": [{"steps": [{"do": "succeed"}]}, {"steps": [{"do": "fail", "message": "boom", "fatal": true}]},
					{"steps": [{"do": "succeed"}]}]}]},
				"steps": [{"do": "goto", "state": "D", "read_batch": true}]}},
			"expect": {"status": "TASK_EXECUTION", "message": "boom", "error_task": "W[1]", "cause_message": null,
				"attempts": {"W": 1, "W[0]": 1, "W[1]": 1, "W[2]": 0}, "batch_seen": []}}`,
		// Notices: an async attempt timed out twice, then a split whose blocked async branch loses
		// (Any) to one that completes; completed attempts are never told.
		"cancel": `{"name": "cancel", "states": ["A", "F", "J", "D"], "initial": "A", "exit_states": ["D"],
			"tasks": {
				"A": {"mode": "async", "attempt_timeout_ms": 50, "retry": {"kind": "fixed", "max_retries": 2, "delay_ms": 10},
					"steps": [{"do": "block", "times": 2}, {"do": "goto", "state": "F"}]},
				"F": {"split": {"strategy": "any", "join_state": "J", "branches": [
					{"mode": "async", "steps": [{"do": "block"}]},
					{"mode": "async", "steps": [{"do": "succeed", "value": "w"}]}]}},
				"J": {"mode": "async", "steps": [{"do": "goto", "state": "D", "read_split": true}]}},
			"expect": {"status": "OK", "final_state": "D", "trail": ["A", "F", "J"],
				"attempts": {"A": 3, "F[0]": 1, "F[1]": 1, "J": 1}, "attempt_times_ms": {"A": [0, 60, 120]},
				"split_seen": [["cancelled", "succeeded:w"]],
				"cancel_notices": {"A": 2, "F[0]": 1, "F[1]": 0, "J": 0}}}`,
	})
}

// TestConformanceRunsSteppedAndTimerScenarios is the runner's own check of the stepped and
// timer extension, independent of which scenarios the shared suite holds.
func TestConformanceRunsSteppedAndTimerScenarios(t *testing.T) {
	runInlineScenarios(t, map[string]string{
		// A stepped task retried per step with its cursor; a plain task whose retry restarts its
		// loop; the trail counts each entry once.
		"stepped": `{"name": "stepped", "states": ["Steps", "Loop", "Done"], "initial": "Steps", "exit_states": ["Done"],
			"tasks": {
				"Steps": {"kind": "stepped", "mode": "worker", "retry": {"kind": "fixed", "max_retries": 1, "delay_ms": 10},
					"steps": [{"do": "more", "cursor": {"page": 1}}, {"do": "fail"}, {"do": "more", "cursor": [2, "two"]},
						{"do": "goto", "state": "Loop"}]},
				"Loop": {"mode": "async", "retry": {"kind": "fixed", "max_retries": 1, "delay_ms": 5},
					"steps": [{"do": "more", "cursor": 1}, {"do": "fail", "message": "lost"}, {"do": "more", "cursor": true},
						{"do": "goto", "state": "Done"}]}},
			"expect": {"status": "OK", "trail": ["Steps", "Loop"], "attempts": {"Steps": 4, "Loop": 4},
				"attempt_times_ms": {"Steps": [0, 0, 10, 10], "Loop": [10, 10, 15, 15]},
				"cursors": {"Steps": [null, {"page": 1}, {"page": 1}, [2, "two"]], "Loop": [null, 1, null, true]}}}`,
		// Timer waits: a wait list (for, a failure, until), then a fixed delay in a worker.
		"timer": `{"name": "timer", "states": ["Wait", "Later", "Done"], "initial": "Wait", "exit_states": ["Done"],
			"tasks": {
				"Wait": {"kind": "timer", "timer": {"wait": [{"for": 20}, {"fail": "no clock"}, {"until": 100}]},
					"retry": {"kind": "fixed", "max_retries": 2, "delay_ms": 5},
					"steps": [{"do": "fail"}, {"do": "goto", "state": "Later"}]},
				"Later": {"kind": "timer", "mode": "worker", "timer": {"delay_ms": 30}, "steps": [{"do": "goto", "state": "Done"}]}},
			"expect": {"status": "OK", "trail": ["Wait", "Later"], "attempts": {"Wait": 2, "Later": 1},
				"attempt_times_ms": {"Wait": [20, 100], "Later": [130]}, "cursors": {"Wait": [null, null]}}}`,
		// A router and a poll task that loop with more, and a failing wait with no retries.
		"loops": `{"name": "loops", "states": ["R", "P", "W", "Done"], "initial": "R", "exit_states": ["Done"],
			"tasks": {
				"R": {"kind": "router", "steps": [{"do": "more", "cursor": "r"}, {"do": "goto", "state": "P"}]},
				"P": {"kind": "poll", "steps": [{"do": "pending", "delay_ms": 7}, {"do": "more", "cursor": 2}, {"do": "goto", "state": "W"}]},
				"W": {"kind": "timer", "timer": {"wait": [{"fail": "no clock"}]}, "steps": [{"do": "goto", "state": "Done"}]}},
			"expect": {"status": "TASK_EXECUTION", "message": "no clock", "error_state": "W", "error_attempt": 1,
				"trail": ["R", "P"], "attempts": {"R": 2, "P": 3, "W": 0}, "attempt_times_ms": {"P": [0, 7, 7]},
				"cursors": {"R": [null, "r"], "P": [null, null, 2], "W": []}}}`,
	})
}

// runInlineScenarios runs scenarios written in the test, by name, as TestConformance runs the
// suite's files (a malformed one fails its subtest).
func runInlineScenarios(t *testing.T, scenarios map[string]string) {
	for name, body := range scenarios {
		t.Run(name, func(t *testing.T) {
			sc, err := parseScenario([]byte(body), name+".json")
			must(t, err)
			runScenario(t, sc)
		})
	}
}
