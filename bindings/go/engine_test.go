package cano

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestVersion(t *testing.T) {
	if Version() != HeaderVersion {
		t.Fatalf("library %s, headers %s", Version(), HeaderVersion)
	}
	parts := strings.Split(Version(), ".")
	if len(parts) != 3 {
		t.Fatalf("Version = %q", Version())
	}
	if VersionNumber() < 100 {
		t.Fatalf("VersionNumber = %d", VersionNumber())
	}
	if ABIMajor() != ABIMajorSupported || CheckABI() != nil {
		t.Fatalf("ABI %d, supported %d: %v", ABIMajor(), ABIMajorSupported, CheckABI())
	}
	if err := checkABI(ABIMajorSupported + 1); err == nil || !strings.Contains(err.Error(), "ABI major") {
		t.Fatalf("checkABI of another major: %v", err)
	}
}

func TestEngineOptions(t *testing.T) {
	e := newTestEngine(t, WithWorkers(3), WithSpin(-1))
	if e.WorkerCount() != 3 {
		t.Fatalf("WorkerCount = %d", e.WorkerCount())
	}
	d := newTestEngine(t, WithWorkers(-5), WithSpin(time.Nanosecond), WithRandomSeed(7))
	if d.WorkerCount() < 2 {
		t.Fatalf("default WorkerCount = %d", d.WorkerCount())
	}
	newTestEngine(t, WithSpin(time.Hour*1000), WithSpin(0), WithSpin(20*time.Microsecond))

	m := newTestEngine(t, WithManualClock(1500*time.Microsecond))
	if m.Now() != 2*time.Millisecond {
		t.Fatalf("manual start = %v (rounded up to whole ms)", m.Now())
	}
	must(t, m.Advance(3*time.Millisecond))
	must(t, m.Advance(0))
	if m.Now() != 5*time.Millisecond {
		t.Fatalf("Now after Advance = %v", m.Now())
	}
	if _, err := m.NextDeadline(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("NextDeadline: %v", err)
	}
	// A real clock cannot be advanced.
	if err := e.Advance(time.Millisecond); !errors.Is(err, ErrBadState) {
		t.Fatalf("Advance on a real clock: %v", err)
	}
	before := e.Now()
	time.Sleep(20 * time.Millisecond)
	if after := e.Now(); after <= before {
		t.Fatalf("real clock did not move: %v -> %v", before, after)
	}
}

func TestEnginePost(t *testing.T) {
	e := newTestEngine(t)
	onLoop := make(chan bool, 1)
	must(t, e.Post(func() { onLoop <- e.OnLoopThread() }))
	if !<-onLoop {
		t.Fatal("the posted function did not run on the loop thread")
	}
	if err := e.Post(nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("Post(nil): %v", err)
	}
	// A panic in a posted function is recovered and reported to the log handler.
	var records journal
	must(t, SetLogHandler(func(level LogLevel, message string) { records.add(message) }))
	defer func() { must(t, SetLogHandler(nil)) }()
	must(t, e.Post(func() { panic("posted panic") }))
	ran := make(chan struct{})
	must(t, e.Post(func() { close(ran) }))
	<-ran
	waitFor(t, "the panic report", func() bool {
		for _, r := range records.get() {
			if strings.Contains(r, "panic: posted panic") && strings.Contains(r, "Engine.Post") {
				return true
			}
		}
		return false
	})
}

func TestEngineClose(t *testing.T) {
	checkHandlesReleased(t)
	e, err := NewEngine(WithWorkers(2))
	must(t, err)
	if engineOf(e.ptr) != e {
		t.Fatal("the engine is not registered")
	}
	must(t, e.Shutdown())
	must(t, e.Shutdown()) // idempotent
	if err := e.Post(func() {}); !errors.Is(err, ErrShutdown) {
		t.Fatalf("Post after Shutdown: %v", err)
	}
	wf := newTestWorkflow(t, nil)
	must(t, wf.RegisterFunc(Start, gotoTask(nil, Done)))
	must(t, wf.AddExitState(Done))
	if _, err := wf.Run(context.Background(), e, Start); !errors.Is(err, ErrShutdown) {
		t.Fatalf("Run after Shutdown: %v", err)
	}
	must(t, e.Close())
	must(t, e.Close())
	must(t, e.Shutdown())
	for name, err := range map[string]error{
		"Post":    e.Post(func() {}),
		"Advance": e.Advance(time.Millisecond),
		"Cancel":  e.Cancel(1),
	} {
		if !errors.Is(err, ErrShutdown) {
			t.Errorf("%s after Close: %v", name, err)
		}
	}
	if _, err := e.NextDeadline(); !errors.Is(err, ErrShutdown) {
		t.Errorf("NextDeadline after Close: %v", err)
	}
	if e.Now() != 0 || e.WorkerCount() != 0 || e.RunsInFlight() != 0 || e.OnLoopThread() {
		t.Error("a closed engine reports values")
	}
}

func TestManyEngines(t *testing.T) {
	// Engines own threads; creating and closing many must not leak them into Go.
	before := runtime.NumGoroutine()
	for i := 0; i < 20; i++ {
		e, err := NewEngine(WithWorkers(2))
		must(t, err)
		wf, err := NewWorkflow[Step](nil)
		must(t, err)
		must(t, wf.RegisterFunc(Start, gotoTask(nil, Done), WithMode(Worker)))
		must(t, wf.AddExitState(Done))
		if _, err := wf.Run(context.Background(), e, Start); err != nil {
			t.Fatal(err)
		}
		wf.Close()
		must(t, e.Close())
	}
	waitFor(t, "goroutines to settle", func() bool { return runtime.NumGoroutine() <= before+2 })
}

func TestABIConstantMatchesTheHeader(t *testing.T) {
	if ABIMajorSupported != cGoABIMajor() {
		t.Fatalf("ABIMajorSupported %d, CANO_GO_ABI_MAJOR %d", ABIMajorSupported, cGoABIMajor())
	}
}

func TestABodyCancellingItsOwnRunEndsItAtTheNextTransition(t *testing.T) {
	e := newTestEngine(t)
	wf := newTestWorkflow(t, nil)
	var cancelErr error
	var processed atomic.Int32
	must(t, wf.RegisterFunc(Fetch, func(ctx *TaskContext) (Step, error) {
		cancelErr = ctx.Engine().Cancel(ctx.RunID())
		return Process, nil // discarded: the run was cancelled
	}, WithMode(Inline), WithRetry(RetryNone)))
	must(t, wf.RegisterFunc(Process, func(*TaskContext) (Step, error) {
		processed.Add(1)
		return Done, nil
	}, WithMode(Inline)))
	must(t, wf.AddExitState(Done))
	final, err := wf.Run(context.Background(), e, Fetch)
	if !errors.Is(err, ErrCancelled) {
		t.Fatalf("Run = %v, %v; want ErrCancelled", final, err)
	}
	if cancelErr != nil {
		t.Fatalf("Cancel from the body: %v", cancelErr)
	}
	if final != Fetch || processed.Load() != 0 {
		t.Fatalf("final = %v, processed = %d; want Fetch, 0", final, processed.Load())
	}
}

func TestTheManualClockCannotBeAdvancedFromATaskBody(t *testing.T) {
	e := newManualEngine(t)
	wf := newTestWorkflow(t, nil)
	must(t, wf.RegisterFunc(Fetch, func(ctx *TaskContext) (Step, error) {
		return Done, ctx.Engine().Advance(10 * time.Millisecond)
	}, WithMode(Inline), WithRetry(RetryNone)))
	must(t, wf.AddExitState(Done))
	_, err := wf.Run(context.Background(), e, Fetch)
	wantCode(t, err, CodeWrongThread,
		"cano_engine_clock_advance called on the engine's loop thread (inside a task body or "+
			"callback), where the timers it fires would run inside the caller")
	if e.Now() != 0 {
		t.Fatalf("Now = %v, want 0", e.Now())
	}
}
