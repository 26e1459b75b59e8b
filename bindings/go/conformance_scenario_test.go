package cano

// The conformance scenario model: what parseScenario makes of a scenario file
// (tests/conformance/README.md "Fields"), and the look-ups the parser and the runner share. The
// batch parts are in conformance_batch_test.go, the expectations in conformance_expect_test.go.

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"time"
)

type stateRef struct {
	code  int32
	name  string // "" for an undeclared code
	named bool
}

type confScenario struct {
	name       string
	states     []string
	initial    stateRef
	exitStates []int32
	timeoutMS  uint64
	resources  []confResource
	tasks      map[int32]*confTask  // by state code
	splits     map[int32]*confSplit // by state code; a state is in at most one of the maps
	expect     confExpect
}

// confSplit is a split state's entry.
type confSplit struct {
	strategy  JoinStrategy
	timeoutMS uint64
	joinState stateRef
	bulkhead  uint64
	branches  []*confTask
}

type confResource struct {
	key        string
	setupOK    bool
	teardownOK bool
	message    *string
}

type confRetry struct {
	kind       string
	maxRetries uint32
	delayMS    uint64
	multiplier float64
	maxDelayMS uint64
	jitter     float64
}

// confTask is a state's task (of any kind) or a split branch.
type confTask struct {
	kind             string // "task", "router", "poll", "stepped", "timer" or "batch"; "task" for a branch
	poll             *PollPolicy
	timer            *confTimer // timer tasks only
	batch            *confBatch // batch tasks only; steps are then the finish step's
	mode             Mode
	name             *string
	retry            confRetry
	attemptTimeoutMS uint64
	steps            []confStep
}

type confStep struct {
	kind      string
	times     uint64
	next      int32
	code      Code
	message   string
	key       string
	json      string
	typ       string
	fatal     bool          // fail: cano_task_ctx_fail_fatal
	readSplit bool          // goto: record the split result first
	readBatch bool          // goto (a batch's finish step): record the batch results first
	delay     time.Duration // pending
	value     *string       // succeed: the branch's value
	cursor    string        // more: the cursor's compact JSON text
}

// confTimer is a timer task's "timer": exactly one of delay_ms, until_ms and wait.
type confTimer struct {
	delayMS, untilMS *uint64
	waits            []confWait
}

// confWait is one entry of a timer's wait list: "for", "until" or "fail".
type confWait struct {
	kind    string
	ms      uint64
	message string
}

// entryFor is the entry of list serving the call-th call (1-based): one entry per call, the
// last one repeating. A timer's wait list and a batch's load list are served so.
func entryFor[T any](list []T, call uint64) T {
	if call == 0 || call > uint64(len(list)) {
		return list[len(list)-1]
	}
	return list[call-1]
}

// stepFor returns the step serving the call-th body call (1-based, over every entry).
func (t *confTask) stepFor(call uint64) confStep { return stepFor(t.steps, call) }

// stepFor returns the step of steps serving the call-th call (1-based): each step serves
// `times` calls in turn, the last one every call after that.
func stepFor(steps []confStep, call uint64) confStep {
	for _, s := range steps {
		if call <= s.times {
			return s
		}
		call -= s.times
	}
	return steps[len(steps)-1]
}

// hasStep reports whether any of the task's steps is of kind.
func (t *confTask) hasStep(kind string) bool {
	for _, s := range t.steps {
		if s.kind == kind {
			return true
		}
	}
	return false
}

// millis is a scenario's millisecond count as a duration.
func millis(ms uint64) time.Duration { return time.Duration(ms) * time.Millisecond }

var scenarioName = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

func (sc *confScenario) declared(name, path string) int32 {
	for i, s := range sc.states {
		if s == name {
			return int32(i)
		}
	}
	failAt(path, "%q is not in \"states\"", name)
	return 0
}

func (sc *confScenario) stateRef(raw json.RawMessage, path string) stateRef {
	var name string
	if isKind(raw, '"') {
		decodeAt(raw, path, "a state name", &name)
		return stateRef{code: sc.declared(name, path), name: name, named: true}
	}
	var n float64
	if err := json.Unmarshal(raw, &n); err != nil || isNull(raw) {
		failAt(path, "must be a state name or an integer code")
	}
	if n != math.Floor(n) || n < math.MinInt32 || n > math.MaxInt32 {
		failAt(path, "must be a state name or a 32-bit integer code")
	}
	return stateRef{code: int32(n)}
}

func (sc *confScenario) label(code int32) string {
	if code >= 0 && int(code) < len(sc.states) {
		return sc.states[code]
	}
	return fmt.Sprint(code)
}

// branchKey is where branch index of split state code is counted: "F[i]" (and item index of
// batch state code: "W[i]").
func (sc *confScenario) branchKey(code int32, index int) string {
	return indexed(sc.label(code), index)
}

// attemptKey checks a key of attempts, attempt_times_ms or cancel_notices: a declared state,
// "F[i]" for branch i of split state F, or (with items: not for cancel_notices) "W[i]" for item
// i of batch state W, i below the most items an entry of W's "load" adds.
func (sc *confScenario) attemptKey(key, path string, items bool) {
	for code, split := range sc.splits {
		for i := range split.branches {
			if key == sc.branchKey(code, i) {
				return
			}
		}
	}
	if items {
		for code, task := range sc.tasks {
			if task.batch == nil {
				continue
			}
			for i := 0; i < task.batch.maxItems(); i++ {
				if key == sc.branchKey(code, i) {
					return
				}
			}
		}
	}
	for _, s := range sc.states {
		if s == key {
			return
		}
	}
	if items {
		failAt(path, "%q is neither a state in \"states\", a split branch \"F[i]\" nor a batch item \"W[i]\"", key)
	}
	failAt(path, "%q is neither a state in \"states\" nor a split branch \"F[i]\"", key)
}
