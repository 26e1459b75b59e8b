package cano

// A conformance scenario's "expect" (tests/conformance/README.md): parsing it, and comparing a
// run with it. Every present field is checked; absent ones are not.

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
)

// nullable is an expectation that may be absent, null, or a value.
type nullable[T any] struct {
	present, null bool
	value         T
}

type confExpect struct {
	status          *string
	category        *string
	message         *string
	messageContains []string
	causeMessage    nullable[string]
	errorTask       nullable[string]
	errorState      nullable[stateRef]
	errorAttempt    *uint64
	finalState      *stateRef
	trail           []string
	attempts        map[string]uint64
	attemptTimes    map[string][]uint64
	resourceEvents  []string
	store           map[string]string
	splitSeen       *[]*[]string         // null entries are nil
	cursors         map[string][]*string // by state: compact JSON texts, nil for null
	batchSeen       *[][]string
	cancelNotices   map[string]uint64 // by state name or "F[i]"
	started         bool
}

func (e *confExpect) checksError() bool {
	return e.category != nil || e.message != nil || e.messageContains != nil || e.causeMessage.present ||
		e.errorTask.present || e.errorState.present || e.errorAttempt != nil
}

func nullableString(f *fields, key string) nullable[string] {
	raw, ok := f.get(key)
	if !ok {
		return nullable[string]{}
	}
	if isNull(raw) {
		return nullable[string]{present: true, null: true}
	}
	var s string
	decodeAt(raw, f.at(key), "a string or null", &s)
	return nullable[string]{present: true, value: s}
}

func (sc *confScenario) parseExpect(raw json.RawMessage, path string) {
	f := newFields(raw, path)
	e := &sc.expect
	e.status = f.str("status")
	if e.status != nil {
		if _, ok := ParseCode(*e.status); !ok {
			failAt(f.at("status"), "%q is no status name", *e.status)
		}
	}
	e.category = f.str("category")
	e.message = f.str("message")
	e.messageContains = f.strs("message_contains")
	e.causeMessage = nullableString(f, "cause_message")
	e.errorTask = nullableString(f, "error_task")
	if raw, ok := f.get("error_state"); ok {
		e.errorState.present = true
		if isNull(raw) {
			e.errorState.null = true
		} else {
			e.errorState.value = sc.stateRef(raw, f.at("error_state"))
		}
	}
	e.errorAttempt = f.unsigned("error_attempt", math.MaxUint32)
	if raw, ok := f.get("final_state"); ok {
		s := sc.stateRef(raw, f.at("final_state"))
		e.finalState = &s
	}
	e.trail = f.strs("trail")
	for _, s := range e.trail {
		sc.declared(s, f.at("trail"))
	}
	e.attempts = objectOf(f, "attempts", sc.countAt(true))
	e.attemptTimes = objectOf(f, "attempt_times_ms", func(key, path string, raw json.RawMessage) []uint64 {
		sc.attemptKey(key, path, true)
		var list []json.RawMessage
		decodeAt(raw, path, "an array of integers", &list)
		times := []uint64{}
		for _, item := range list {
			times = append(times, toUnsigned(item, path, math.MaxUint64))
		}
		return times
	})
	e.resourceEvents = f.strs("resource_events")
	e.store = objectOf(f, "store", func(_, path string, raw json.RawMessage) string {
		return compactJSON(raw, path)
	})
	if raw, ok := f.get("split_seen"); ok {
		const shape = "an array whose entries are null or arrays of strings"
		seen := parseStringLists(raw, f.at("split_seen"), shape, true)
		e.splitSeen = &seen
	}
	e.cursors = objectOf(f, "cursors", func(key, path string, raw json.RawMessage) []*string {
		sc.declared(key, path)
		var list []json.RawMessage
		decodeAt(raw, path, "an array of JSON values (null: none)", &list)
		seen := []*string{}
		for _, item := range list {
			if isNull(item) {
				seen = append(seen, nil)
				continue
			}
			text := compactJSON(item, path)
			seen = append(seen, &text)
		}
		return seen
	})
	if raw, ok := f.get("batch_seen"); ok {
		seen := [][]string{}
		const shape = "an array of arrays of strings"
		for _, entry := range parseStringLists(raw, f.at("batch_seen"), shape, false) {
			seen = append(seen, *entry)
		}
		e.batchSeen = &seen
	}
	e.cancelNotices = objectOf(f, "cancel_notices", sc.countAt(false))
	e.started = true
	if b := f.boolean("started"); b != nil {
		e.started = *b
	}
	f.finish()
	if !e.started && e.finalState != nil {
		failAt(f.at("final_state"), "only applies to a run that started")
	}
}

// countAt parses a count under an attempt key (see attemptKey; items says whether batch item
// keys are allowed), as attempts and cancel_notices have.
func (sc *confScenario) countAt(items bool) func(key, path string, raw json.RawMessage) uint64 {
	return func(key, path string, raw json.RawMessage) uint64 {
		sc.attemptKey(key, path, items)
		return toUnsigned(raw, path, math.MaxUint32)
	}
}

// parseStringLists parses an array of arrays of strings (split_seen, batch_seen), described by
// shape; a null entry is nil where nulls are allowed, and an error where not.
func parseStringLists(raw json.RawMessage, path, shape string, nulls bool) []*[]string {
	var entries []json.RawMessage
	decodeAt(raw, path, shape, &entries)
	out := []*[]string{}
	for i, entry := range entries {
		if nulls && isNull(entry) {
			out = append(out, nil)
			continue
		}
		texts := []string{}
		decodeAt(entry, indexed(path, i), shape, &texts)
		out = append(out, &texts)
	}
	return out
}

func checkExpectations(t *testing.T, sc *confScenario, run *confRun, store *MemoryStore, out confOutcome) {
	t.Helper()
	e := &sc.expect
	if out.started != e.started {
		t.Errorf("started = %v, want %v (error: %v)", out.started, e.started, out.err)
	}
	if e.status != nil {
		got := "OK"
		if out.err != nil {
			got = out.err.Code.String()
		}
		if got != *e.status {
			t.Errorf("status = %s, want %s (%v)", got, *e.status, out.err)
		}
	}
	if e.checksError() && out.err == nil {
		t.Errorf("the error fields are expected, but the run has no error")
	}
	if out.err != nil {
		checkError(t, e, out.err)
	}
	if e.finalState != nil && out.state != e.finalState.code {
		t.Errorf("final state = %s, want %s", sc.label(out.state), sc.label(e.finalState.code))
	}
	if e.trail != nil && !equalStrings(run.trail, e.trail) {
		t.Errorf("trail = %q, want %q", run.trail, e.trail)
	}
	checkCounts(t, "attempts", run.attempts, e.attempts)
	for name, want := range e.attemptTimes {
		got := run.times[name]
		if len(got) != len(want) || (len(got) > 0 && !reflect.DeepEqual(got, want)) {
			t.Errorf("attempt_times_ms[%s] = %v, want %v", name, got, want)
		}
	}
	for state, want := range e.cursors {
		if got := run.cursors[state]; !sameCursors(got, want) {
			t.Errorf("cursors[%s] = %s, want %s", state, showCursors(got), showCursors(want))
		}
	}
	if e.splitSeen != nil && showSplitSeen(run.splitSeen) != showSplitSeen(*e.splitSeen) {
		t.Errorf("split_seen = %s, want %s", showSplitSeen(run.splitSeen), showSplitSeen(*e.splitSeen))
	}
	if e.batchSeen != nil && fmt.Sprintf("%q", run.batchSeen) != fmt.Sprintf("%q", *e.batchSeen) {
		t.Errorf("batch_seen = %q, want %q", run.batchSeen, *e.batchSeen)
	}
	checkCounts(t, "cancel_notices", run.notices, e.cancelNotices)
	if e.resourceEvents != nil && !equalStrings(run.events, e.resourceEvents) {
		t.Errorf("resource events = %q, want %q", run.events, e.resourceEvents)
	}
	for key, want := range e.store {
		text, err := store.GetJSON(key)
		if err != nil {
			t.Errorf("store[%s]: %v", key, err)
			continue
		}
		var gotV, wantV any
		if err := json.Unmarshal([]byte(text), &gotV); err != nil {
			t.Errorf("store[%s] = %s: %v", key, text, err)
			continue
		}
		must(t, json.Unmarshal([]byte(want), &wantV))
		if !reflect.DeepEqual(gotV, wantV) {
			t.Errorf("store[%s] = %s, want %s", key, text, want)
		}
	}
}

// checkError compares the run's error (or the start call's) with the error fields.
func checkError(t *testing.T, e *confExpect, ce *Error) {
	t.Helper()
	if e.category != nil && ce.Category != *e.category {
		t.Errorf("category = %q, want %q", ce.Category, *e.category)
	}
	if e.message != nil && ce.Message != *e.message {
		t.Errorf("message = %q, want %q", ce.Message, *e.message)
	}
	for _, f := range e.messageContains {
		if !strings.Contains(ce.Message, f) {
			t.Errorf("message %q does not contain %q", ce.Message, f)
		}
	}
	if c := e.causeMessage; c.present {
		switch {
		case c.null && ce.Cause != nil:
			t.Errorf("the error has a cause (%q); want none", ce.Cause.Message)
		case !c.null && ce.Cause == nil:
			t.Errorf("the error has no cause; want cause message %q", c.value)
		case !c.null && ce.Cause.Message != c.value:
			t.Errorf("cause message = %q, want %q", ce.Cause.Message, c.value)
		}
	}
	if s := e.errorState; s.present {
		switch {
		case s.null && (ce.HasState || ce.State != ""):
			t.Errorf("the error has state %d %q; want none", ce.StateCode, ce.State)
		case !s.null && (!ce.HasState || ce.StateCode != s.value.code):
			t.Errorf("error state code = %d (has %v), want %d", ce.StateCode, ce.HasState, s.value.code)
		case !s.null && s.value.named && ce.State != s.value.name:
			t.Errorf("error state name = %q, want %q", ce.State, s.value.name)
		}
	}
	if task := e.errorTask; task.present {
		if task.null && ce.Task != "" {
			t.Errorf("error task = %q, want none", ce.Task)
		} else if !task.null && ce.Task != task.value {
			t.Errorf("error task = %q, want %q", ce.Task, task.value)
		}
	}
	if e.errorAttempt != nil && uint64(ce.Attempt) != *e.errorAttempt {
		t.Errorf("error attempt = %d, want %d", ce.Attempt, *e.errorAttempt)
	}
}

// checkCounts compares the counts of the keys an expectation lists (attempts, cancel_notices).
func checkCounts(t *testing.T, what string, got, want map[string]uint64) {
	t.Helper()
	for key, n := range want {
		if got[key] != n {
			t.Errorf("%s[%s] = %d, want %d", what, key, got[key], n)
		}
	}
}

// sameCursors compares cursors as JSON values (nil: none).
func sameCursors(got, want []*string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if (got[i] == nil) != (want[i] == nil) {
			return false
		}
		if got[i] == nil {
			continue
		}
		var g, w any
		if json.Unmarshal([]byte(*got[i]), &g) != nil || json.Unmarshal([]byte(*want[i]), &w) != nil ||
			!reflect.DeepEqual(g, w) {
			return false
		}
	}
	return true
}

func showCursors(cursors []*string) string {
	parts := make([]string, len(cursors))
	for i, c := range cursors {
		if c == nil {
			parts[i] = "null"
		} else {
			parts[i] = *c
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func showSplitSeen(seen []*[]string) string {
	parts := make([]string, len(seen))
	for i, entry := range seen {
		if entry == nil {
			parts[i] = "null"
		} else {
			parts[i] = fmt.Sprintf("%q", *entry)
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
