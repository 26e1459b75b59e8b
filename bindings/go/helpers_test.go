package cano

import (
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
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

// newStoreResources creates resources holding a new MemoryStore under "store", both closed at
// the end of the test.
func newStoreResources(t *testing.T) (*MemoryStore, *Resources) {
	t.Helper()
	store := newTestStore(t)
	res, err := NewResources()
	must(t, err)
	t.Cleanup(res.Close)
	must(t, res.Insert("store", store))
	return store, res
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
// arrives.
func driveUntilDone(t testing.TB, e *Engine, ch <-chan RunResult[Step]) RunResult[Step] {
	t.Helper()
	return driveRun(t, e, ch, false)
}

// awaitRun waits for a run's result; on an engine with a manual clock it advances the clock
// to each pending deadline meanwhile (as driveUntilDone does). An engine on the system clock
// refuses Advance (ErrBadState) and moves on by itself.
func awaitRun(t testing.TB, e *Engine, ch <-chan RunResult[Step]) RunResult[Step] {
	t.Helper()
	return driveRun(t, e, ch, true)
}

// driveRun is driveUntilDone and awaitRun: anyClock lets Advance be refused with ErrBadState.
func driveRun(t testing.TB, e *Engine, ch <-chan RunResult[Step], anyClock bool) RunResult[Step] {
	t.Helper()
	giveUp := time.Now().Add(20 * time.Second)
	for time.Now().Before(giveUp) {
		select {
		case r := <-ch:
			return r
		case <-time.After(2 * time.Millisecond):
		}
		if next, err := e.NextDeadline(); err == nil {
			if err := advanceTo(e, next); err != nil && !(anyClock && errors.Is(err, ErrBadState)) {
				t.Fatalf("Advance: %v", err)
			}
		}
	}
	t.Fatalf("the run did not end")
	return RunResult[Step]{}
}

// advanceTo advances a manual clock to deadline, or by 0 when the deadline has passed (which
// still runs the timers that are due).
func advanceTo(e *Engine, deadline time.Duration) error {
	var step time.Duration
	if now := e.Now(); deadline > now {
		step = deadline - now
	}
	return e.Advance(step)
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

// journalOf is a goroutine-safe list of records; journal, a list of events, is the usual one.
type journalOf[T any] struct {
	mu      sync.Mutex
	records []T
}

type journal = journalOf[string]

func (j *journalOf[T]) add(record T) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.records = append(j.records, record)
}

func (j *journalOf[T]) get() []T {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]T(nil), j.records...)
}

// concurrencyGauge measures how many calls run at once at the most: each call enters when it
// starts and leaves when it ends.
type concurrencyGauge struct{ running, peak atomic.Int32 }

func (g *concurrencyGauge) enter() {
	now := g.running.Add(1)
	for {
		seen := g.peak.Load()
		if now <= seen || g.peak.CompareAndSwap(seen, now) {
			return
		}
	}
}

func (g *concurrencyGauge) leave() { g.running.Add(-1) }

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
