package cano

import (
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Step is the state type of most tests.
type Step int32

const (
	Start Step = iota
	Fetch
	Process
	Work
	Done
	Failed
)

var stepNames = [...]string{"Start", "Fetch", "Process", "Work", "Done", "Failed"}

func (s Step) String() string {
	if s >= 0 && int(s) < len(stepNames) {
		return stepNames[s]
	}
	return "Step?"
}

// newTestEngine creates an engine closed at the end of the test.
func newTestEngine(t testing.TB, opts ...EngineOption) *Engine {
	t.Helper()
	e, err := NewEngine(opts...)
	if err != nil {
		t.Fatalf("NewEngine: %v", err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("Engine.Close: %v", err)
		}
	})
	return e
}

// newManualEngine creates an engine with a manual clock at 0 and a fixed seed.
func newManualEngine(t testing.TB) *Engine {
	return newTestEngine(t, WithManualClock(0), WithRandomSeed(1), WithWorkers(2))
}

// newTestWorkflow creates a workflow closed at the end of the test.
func newTestWorkflow(t testing.TB, res *Resources) *Workflow[Step] {
	t.Helper()
	wf, err := NewWorkflow[Step](res)
	if err != nil {
		t.Fatalf("NewWorkflow: %v", err)
	}
	t.Cleanup(wf.Close)
	return wf
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// asError extracts the *Error from err, failing the test when there is none.
func asError(t testing.TB, err error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("expected a *cano.Error, got %T: %v", err, err)
	}
	return e
}

// wantCode checks that err is a *Error with code and (when non-empty) message.
func wantCode(t testing.TB, err error, code Code, message string) *Error {
	t.Helper()
	if err == nil {
		t.Fatalf("expected a %v error, got nil", code)
	}
	e := asError(t, err)
	if e.Code != code {
		t.Fatalf("code = %v, want %v (%v)", e.Code, code, err)
	}
	if message != "" && e.Message != message {
		t.Fatalf("message = %q, want %q", e.Message, message)
	}
	return e
}

// wantContains checks that s contains every fragment.
func wantContains(t testing.TB, s string, fragments ...string) {
	t.Helper()
	for _, f := range fragments {
		if !strings.Contains(s, f) {
			t.Fatalf("%q does not contain %q", s, f)
		}
	}
}

// startRun starts a run and returns a channel with its result.
func startRun(t testing.TB, wf *Workflow[Step], e *Engine, initial Step) (uint64, <-chan RunResult[Step]) {
	t.Helper()
	ch := make(chan RunResult[Step], 1)
	id, err := wf.Start(e, initial, func(r RunResult[Step]) { ch <- r })
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	return id, ch
}

// driveUntilDone advances a manual clock to each pending deadline until the run's result
// arrives; settle says how long to let worker threads get to their next timer.
func driveUntilDone(t testing.TB, e *Engine, ch <-chan RunResult[Step]) RunResult[Step] {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case r := <-ch:
			return r
		case <-time.After(2 * time.Millisecond):
		}
		if next, err := e.NextDeadline(); err == nil {
			now := e.Now()
			step := time.Duration(0)
			if next > now {
				step = next - now
			}
			must(t, e.Advance(step))
		}
	}
	t.Fatalf("the run did not end")
	return RunResult[Step]{}
}

// waitFor polls cond until it holds or a few seconds passed.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// journal is a goroutine-safe list of events.
type journal struct {
	mu     sync.Mutex
	events []string
}

func (j *journal) add(e string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.events = append(j.events, e)
}

func (j *journal) get() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]string(nil), j.events...)
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// checkHandlesReleased fails when cgo handles made during the test are still alive once the
// objects were closed (the library's destroy hooks delete them).
func checkHandlesReleased(t *testing.T) {
	t.Helper()
	before := liveHandles.Load()
	t.Cleanup(func() {
		waitFor(t, "handles to be released", func() bool {
			runtime.Gosched()
			return liveHandles.Load() <= before
		})
	})
}
