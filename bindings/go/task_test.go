package cano

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestRetryPolicies(t *testing.T) {
	ms := time.Millisecond
	type delay struct {
		index int
		unit  float64
		want  time.Duration
		ok    bool
	}
	for _, c := range []struct {
		name     string
		retry    Retry
		attempts int
		delays   []delay
	}{
		{"none", RetryNone, 1, []delay{{0, 0, 0, false}}},
		{"default", RetryDefault, 4, []delay{
			{0, 0, 100 * ms, true}, {1, 0, 200 * ms, true}, {2, 0, 400 * ms, true}, {3, 0, 0, false},
			{0, 1, 110 * ms, true}, {0, -1, 90 * ms, true}}},
		{"fixed", RetryFixed(3, 100*ms), 4, []delay{
			{0, 0, 100 * ms, true}, {2, 1, 100 * ms, true}, {3, 0, 0, false}}},
		{"fixed-submillisecond", RetryFixed(1, 10*time.Microsecond), 2, []delay{{0, 0, ms, true}}},
		{"exponential", RetryExponential(2), 3, []delay{
			{0, 0, 100 * ms, true}, {1, 0, 200 * ms, true}, {1, 0.5, 210 * ms, true}, {2, 0, 0, false}}},
		{"custom", RetryExponentialCustom(3, 10*ms, 3.0, 50*ms, 2.0), 4, []delay{
			{0, 0, 10 * ms, true}, {1, 0, 30 * ms, true}, {2, 0, 50 * ms, true},
			// jitter was clamped to 1: the cap applies before the jitter, as in cano
			{2, 1, 100 * ms, true}, {2, -1, 0, true}, {3, 0, 0, false}}},
		{"custom-negative-jitter", RetryExponentialCustom(1, 10*ms, 2, time.Second, -3), 2, []delay{{0, 1, 10 * ms, true}}},
		{"negative-retries", RetryFixed(-2, ms), 1, nil},
	} {
		if got := c.retry.MaxAttempts(); got != c.attempts {
			t.Errorf("%s: MaxAttempts = %d, want %d", c.name, got, c.attempts)
		}
		for _, d := range c.delays {
			got, ok := c.retry.Delay(d.index, d.unit)
			if got != d.want || ok != d.ok {
				t.Errorf("%s: Delay(%d, %v) = %v, %v; want %v, %v", c.name, d.index, d.unit, got, ok, d.want, d.ok)
			}
		}
	}
}

// attemptRecorder is a task body that records the manual clock at each attempt and fails the
// first `failures` attempts.
type attemptRecorder struct {
	e        *Engine
	failures int
	next     Step
	mu       sync.Mutex
	times    []time.Duration
}

func (a *attemptRecorder) Run(ctx *TaskContext) (Step, error) {
	a.mu.Lock()
	a.times = append(a.times, a.e.Now())
	n := len(a.times)
	a.mu.Unlock()
	if n != ctx.Attempt() {
		return Failed, fmt.Errorf("attempt %d reported as %d", n, ctx.Attempt())
	}
	if n <= a.failures {
		return Failed, errors.New("boom")
	}
	return a.next, nil
}

func (a *attemptRecorder) recorded() []time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]time.Duration(nil), a.times...)
}

func TestFixedRetryWithManualClock(t *testing.T) {
	for _, mode := range []Mode{Inline, Worker} {
		t.Run(mode.String(), func(t *testing.T) {
			e := newManualEngine(t)
			wf := newTestWorkflow(t, nil)
			rec := &attemptRecorder{e: e, failures: 2, next: Done}
			must(t, wf.Register(Work, rec, WithMode(mode), WithRetry(RetryFixed(3, 100*time.Millisecond))))
			must(t, wf.AddExitState(Done))
			_, ch := startRun(t, wf, e, Work)
			r := driveUntilDone(t, e, ch)
			must(t, r.Err)
			if r.State != Done {
				t.Fatalf("final = %v", r.State)
			}
			want := []time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond}
			got := rec.recorded()
			if len(got) != len(want) {
				t.Fatalf("attempt times = %v, want %v", got, want)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("attempt times = %v, want %v", got, want)
				}
			}
		})
	}
}

func TestAdvanceRunsARetryChainInOneCall(t *testing.T) {
	e := newManualEngine(t)
	wf := newTestWorkflow(t, nil)
	rec := &attemptRecorder{e: e, failures: 3, next: Done}
	must(t, wf.Register(Work, rec, WithMode(Inline), WithRetry(RetryFixed(3, 10*time.Millisecond))))
	must(t, wf.AddExitState(Done))
	_, ch := startRun(t, wf, e, Work)
	waitFor(t, "the first retry timer", func() bool {
		d, err := e.NextDeadline()
		return err == nil && d == 10*time.Millisecond
	})
	must(t, e.Advance(time.Second))
	r := <-ch
	must(t, r.Err)
	if got := rec.recorded(); len(got) != 4 || got[3] != 30*time.Millisecond {
		t.Fatalf("attempt times = %v", got)
	}
	if e.Now() != time.Second {
		t.Fatalf("Now = %v", e.Now())
	}
	if _, err := e.NextDeadline(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("NextDeadline with no timer: %v", err)
	}
}

func TestRetryExhausted(t *testing.T) {
	e := newManualEngine(t)
	wf := newTestWorkflow(t, nil)
	rec := &attemptRecorder{e: e, failures: 100, next: Done}
	must(t, wf.Register(Fetch, rec, WithMode(Inline), WithName("fetch"),
		WithRetry(RetryFixed(2, 50*time.Millisecond))))
	must(t, wf.AddExitState(Done))
	id, ch := startRun(t, wf, e, Fetch)
	r := driveUntilDone(t, e, ch)
	ce := wantCode(t, r.Err, CodeRetryExhausted, "Task failed after 3 attempt(s): Task execution error: boom")
	if r.State != Fetch {
		t.Fatalf("final = %v", r.State)
	}
	if ce.Category != "retry_exhausted" || ce.Display != "Retry exhausted: "+ce.Message {
		t.Fatalf("error = %+v", ce)
	}
	if ce.State != "Fetch" || ce.Task != "fetch" || ce.Attempt != 3 || ce.RunID != id {
		t.Fatalf("context = %+v (run %d)", ce, id)
	}
	wantContains(t, ce.Error(), "Retry exhausted: Task failed after 3 attempt(s)", "Fetch", "fetch")
	if ce.Cause == nil || ce.Cause.Code != CodeTaskExecution || ce.Cause.Message != "boom" {
		t.Fatalf("cause = %+v", ce.Cause)
	}
	if !errors.Is(r.Err, ErrRetryExhausted) || !errors.Is(r.Err, ErrTaskExecution) || errors.Is(r.Err, ErrTimeout) {
		t.Fatal("errors.Is does not follow the cause chain")
	}
	if got := rec.recorded(); len(got) != 3 || got[1] != 50*time.Millisecond || got[2] != 100*time.Millisecond {
		t.Fatalf("attempt times = %v", got)
	}
}

func TestSingleAttemptReturnsTheRawError(t *testing.T) {
	e := newTestEngine(t)
	wf := newTestWorkflow(t, nil)
	must(t, wf.RegisterFunc(Start, func(*TaskContext) (Step, error) {
		return Failed, errors.New("plain failure")
	}, WithMode(Inline), WithRetry(RetryNone)))
	must(t, wf.AddExitState(Done))
	_, err := wf.Run(context.Background(), e, Start)
	ce := wantCode(t, err, CodeTaskExecution, "plain failure")
	if ce.Cause != nil || ce.Display != "Task execution error: plain failure" {
		t.Fatalf("error = %+v", ce)
	}
}

func TestExponentialRetryCountsWithJitter(t *testing.T) {
	e := newManualEngine(t)
	wf := newTestWorkflow(t, nil)
	rec := &attemptRecorder{e: e, failures: 100, next: Done}
	must(t, wf.Register(Work, rec, WithMode(Inline), WithRetry(RetryExponential(2))))
	must(t, wf.AddExitState(Done))
	_, ch := startRun(t, wf, e, Work)
	r := driveUntilDone(t, e, ch)
	wantCode(t, r.Err, CodeRetryExhausted, "Task failed after 3 attempt(s): Task execution error: boom")
	got := rec.recorded()
	if len(got) != 3 {
		t.Fatalf("attempts = %v", got)
	}
	// 100 ms then 200 ms, each within 10 % jitter.
	if d := got[1] - got[0]; d < 90*time.Millisecond || d > 110*time.Millisecond {
		t.Fatalf("first delay %v", d)
	}
	if d := got[2] - got[1]; d < 180*time.Millisecond || d > 220*time.Millisecond {
		t.Fatalf("second delay %v", d)
	}
}

func TestDefaultRetryIsCanosDefault(t *testing.T) {
	e := newManualEngine(t)
	wf := newTestWorkflow(t, nil)
	rec := &attemptRecorder{e: e, failures: 100, next: Done}
	must(t, wf.Register(Work, rec, WithMode(Inline))) // no WithRetry: cano's TaskConfig::default()
	must(t, wf.AddExitState(Done))
	_, ch := startRun(t, wf, e, Work)
	r := driveUntilDone(t, e, ch)
	wantCode(t, r.Err, CodeRetryExhausted, "Task failed after 4 attempt(s): Task execution error: boom")
	if n := len(rec.recorded()); n != 4 {
		t.Fatalf("attempts = %d", n)
	}
}

func TestAttemptTimeout(t *testing.T) {
	e := newManualEngine(t)
	wf := newTestWorkflow(t, nil)
	var started, cancelled atomic.Int32
	var times journal
	must(t, wf.RegisterFunc(Work, func(ctx *TaskContext) (Step, error) {
		started.Add(1)
		times.add(e.Now().String())
		for !ctx.Cancelled() {
			time.Sleep(100 * time.Microsecond)
		}
		cancelled.Add(1)
		return Done, nil // discarded: the attempt was abandoned
	}, WithMode(Worker), WithAttemptTimeout(50*time.Millisecond), WithRetry(RetryFixed(1, 10*time.Millisecond))))
	must(t, wf.AddExitState(Done))
	_, ch := startRun(t, wf, e, Work)
	// Each body must start before its timeout fires: the engine never starts a worker attempt
	// that was abandoned before a worker took it.
	waitFor(t, "attempt 1 to start", func() bool { return started.Load() == 1 })
	must(t, e.Advance(50*time.Millisecond))
	waitFor(t, "the retry delay", func() bool {
		next, err := e.NextDeadline()
		return err == nil && next == 60*time.Millisecond
	})
	must(t, e.Advance(10*time.Millisecond))
	waitFor(t, "attempt 2 to start", func() bool { return started.Load() == 2 })
	r := driveUntilDone(t, e, ch)
	ce := wantCode(t, r.Err, CodeRetryExhausted,
		"Task failed after 2 attempt(s): Timeout error: task attempt exceeded attempt_timeout")
	if ce.Cause == nil || ce.Cause.Code != CodeTimeout || ce.Cause.Message != "task attempt exceeded attempt_timeout" {
		t.Fatalf("cause = %+v", ce.Cause)
	}
	if !errors.Is(r.Err, ErrTimeout) {
		t.Fatal("errors.Is(ErrTimeout) is false")
	}
	if got := times.get(); !equalStrings(got, []string{"0s", "60ms"}) {
		t.Fatalf("attempt times = %v", got)
	}
	if e.Now() != 110*time.Millisecond {
		t.Fatalf("Now = %v", e.Now())
	}
	waitFor(t, "both bodies to see the cancellation", func() bool { return cancelled.Load() == 2 })
	if started.Load() != 2 {
		t.Fatalf("started = %d", started.Load())
	}
}

func TestErrorCodesFromTasks(t *testing.T) {
	e := newTestEngine(t)
	store, err := NewMemoryStore()
	must(t, err)
	defer store.Close()
	for _, c := range []struct {
		name    string
		err     func() error
		code    Code
		message string
	}{
		{"cano-error", func() error { return NewError(CodeConfiguration, "bad config") }, CodeConfiguration, "bad config"},
		{"store-error", func() error { _, err := store.GetJSON("missing"); return err }, CodeKeyNotFound,
			"Key not found: Key 'missing' not found in store"},
		{"wrapped", func() error { return fmt.Errorf("loading: %w", NewError(CodeGeneric, "inner")) }, CodeGeneric, ""},
		{"plain", func() error { return errors.New("plain") }, CodeTaskExecution, "plain"},
		{"positive-code", func() error { return NewError(Code(3), "positive") }, CodeTaskExecution, "positive"},
	} {
		wf := newTestWorkflow(t, nil)
		must(t, wf.RegisterFunc(Start, func(*TaskContext) (Step, error) { return Failed, c.err() },
			WithMode(Inline), WithRetry(RetryNone)))
		must(t, wf.AddExitState(Done))
		_, runErr := wf.Run(context.Background(), e, Start)
		ce := wantCode(t, runErr, c.code, c.message)
		if c.name == "wrapped" {
			wantContains(t, ce.Message, "loading: ", "inner")
		}
		if c.name == "store-error" && (!errors.Is(runErr, ErrStore) || !errors.Is(runErr, ErrKeyNotFound)) {
			t.Fatalf("store error kind lost: %+v", ce)
		}
	}
}

func TestPanicsBecomeFailures(t *testing.T) {
	// A panic fails the task at once, as in cano: never retried (the task allows 4 attempts
	// here), the raw error, no RetryExhausted wrapping.
	for _, c := range []struct {
		mode  Mode
		value any
		want  string
	}{
		{Inline, "boom", "panic: boom"},
		{Worker, errors.New("an error value"), "panic: an error value"},
		{Worker, 42, "panic: 42"},
		{Async, "async boom", "panic: async boom"},
	} {
		t.Run(fmt.Sprintf("%v-%v", c.mode, c.value), func(t *testing.T) {
			checkHandlesReleased(t)
			e := newTestEngine(t)
			wf := newTestWorkflow(t, nil)
			var attempts atomic.Int32
			value := c.value
			if c.mode == Async {
				must(t, wf.RegisterAsync(Work, func(*TaskContext, *Completion[Step]) {
					attempts.Add(1)
					panic(value)
				}, WithRetry(RetryFixed(3, 0))))
			} else {
				must(t, wf.RegisterFunc(Work, func(*TaskContext) (Step, error) {
					attempts.Add(1)
					panic(value)
				}, WithMode(c.mode), WithRetry(RetryFixed(3, 0))))
			}
			must(t, wf.AddExitState(Done))
			final, err := wf.Run(context.Background(), e, Work)
			ce := wantCode(t, err, CodeTaskExecution, c.want)
			if final != Work || ce.State != "Work" || ce.Attempt != 1 || ce.Cause != nil || attempts.Load() != 1 {
				t.Fatalf("final %v, error %+v, attempts %d", final, ce, attempts.Load())
			}
		})
	}
}

func TestFatalFailuresAreNotRetried(t *testing.T) {
	for _, c := range []struct {
		name    string
		mode    Mode
		err     error
		code    Code
		message string
	}{
		{"fatal-plain", Inline, Fatal(errors.New("bad input")), CodeTaskExecution, "bad input"},
		{"fatal-keeps-code", Worker, Fatal(NewError(CodeStore, "store gone")), CodeStore, "store gone"},
		{"wraps-sentinel", Inline, fmt.Errorf("config %q: %w", "x", ErrFatal), CodeTaskExecution,
			`config "x": cano: fatal task failure`},
		// As for any wrapped *Error: its code, and the whole text as the message.
		{"wrapped-fatal", Worker, fmt.Errorf("outer: %w", Fatal(NewError(CodeTimeout, "late"))), CodeTimeout,
			"outer: " + NewError(CodeTimeout, "late").Error()},
		// An async body that returns its failure instead of calling Later can fail fatally.
		{"async-returned", Async, Fatal(errors.New("async fatal")), CodeTaskExecution, "async fatal"},
	} {
		t.Run(c.name, func(t *testing.T) {
			checkHandlesReleased(t)
			e := newTestEngine(t)
			wf := newTestWorkflow(t, nil)
			var attempts atomic.Int32
			fail := c.err
			must(t, wf.RegisterFunc(Work, func(*TaskContext) (Step, error) {
				attempts.Add(1)
				return Done, fail
			}, WithMode(c.mode), WithRetry(RetryFixed(3, 0))))
			must(t, wf.AddExitState(Done))
			final, err := wf.Run(context.Background(), e, Work)
			ce := wantCode(t, err, c.code, "")
			if ce.Message != c.message {
				t.Fatalf("message %q, want %q", ce.Message, c.message)
			}
			if final != Work || ce.Attempt != 1 || ce.Cause != nil || attempts.Load() != 1 {
				t.Fatalf("final %v, error %+v, attempts %d", final, ce, attempts.Load())
			}
		})
	}
	t.Run("ordinary-failure-is-retried", func(t *testing.T) {
		e := newTestEngine(t)
		wf := newTestWorkflow(t, nil)
		var attempts atomic.Int32
		must(t, wf.RegisterFunc(Work, func(*TaskContext) (Step, error) {
			if attempts.Add(1) < 3 {
				return Done, errors.New("transient")
			}
			return Done, Fatal(errors.New("now fatal"))
		}, WithMode(Inline), WithRetry(RetryFixed(5, 0))))
		must(t, wf.AddExitState(Done))
		_, err := wf.Run(context.Background(), e, Work)
		ce := wantCode(t, err, CodeTaskExecution, "now fatal")
		if ce.Attempt != 3 || attempts.Load() != 3 || ce.Cause != nil {
			t.Fatalf("error %+v, attempts %d", ce, attempts.Load())
		}
	})
	t.Run("completion-fail-is-not-fatal", func(t *testing.T) {
		e := newTestEngine(t)
		wf := newTestWorkflow(t, nil)
		var attempts atomic.Int32
		must(t, wf.RegisterAsync(Work, func(_ *TaskContext, done *Completion[Step]) {
			attempts.Add(1)
			go func() { _ = done.Fail(Fatal(errors.New("via completion"))) }()
		}, WithRetry(RetryFixed(1, 0))))
		must(t, wf.AddExitState(Done))
		_, err := wf.Run(context.Background(), e, Work)
		wantCode(t, err, CodeRetryExhausted, "Task failed after 2 attempt(s): Task execution error: via completion")
		if attempts.Load() != 2 {
			t.Fatalf("attempts %d", attempts.Load())
		}
	})
}

func TestFatalWrapper(t *testing.T) {
	if Fatal(nil) != nil {
		t.Fatal("Fatal(nil) is not nil")
	}
	inner := NewError(CodeStore, "x")
	err := Fatal(inner)
	var ce *Error
	if !errors.Is(err, ErrFatal) || !errors.Is(err, ErrStore) || !errors.As(err, &ce) || ce != inner ||
		errors.Unwrap(err) != inner || err.Error() != inner.Error() {
		t.Fatalf("Fatal(%v) = %v", inner, err)
	}
	if errors.Is(inner, ErrFatal) || errors.Is(errors.New("plain"), ErrFatal) {
		t.Fatal("a plain error matches ErrFatal")
	}
	if code, message := failureOf(err, CodeGeneric); code != CodeStore || message != "x" {
		t.Fatalf("failureOf = %v, %q", code, message)
	}
}

func TestAsyncCompletion(t *testing.T) {
	e := newTestEngine(t)
	wf := newTestWorkflow(t, nil)
	second := make(chan error, 1)
	must(t, wf.RegisterAsync(Work, func(ctx *TaskContext, done *Completion[Step]) {
		if done.Token() == 0 || done.Token() != ctx.Token() {
			panic("token mismatch")
		}
		go func() {
			if err := done.Complete(Done); err != nil {
				second <- err
				return
			}
			// Exactly one completion per attempt: the second one is refused.
			second <- done.Complete(Failed)
		}()
	}))
	must(t, wf.AddExitState(Done, Failed))
	final, err := wf.Run(context.Background(), e, Work)
	must(t, err)
	if final != Done {
		t.Fatalf("final = %v", final)
	}
	err = <-second
	wantCode(t, err, CodeBadState, "")
	if !errors.Is(err, ErrBadState) {
		t.Fatal("not ErrBadState")
	}
}

func TestAsyncFail(t *testing.T) {
	e := newTestEngine(t)
	for _, c := range []struct {
		err     error
		code    Code
		message string
	}{
		{errors.New("async failure"), CodeTaskExecution, "async failure"},
		{NewError(CodeTimeout, "took too long"), CodeTimeout, "took too long"},
		{nil, CodeTaskExecution, "task failed"},
	} {
		wf := newTestWorkflow(t, nil)
		failure := c.err
		must(t, wf.RegisterAsync(Work, func(ctx *TaskContext, done *Completion[Step]) {
			go func() { _ = done.Fail(failure) }()
		}, WithRetry(RetryNone)))
		must(t, wf.AddExitState(Done))
		_, err := wf.Run(context.Background(), e, Work)
		wantCode(t, err, c.code, c.message)
	}
}

func TestAsyncCompletesInsideTheBody(t *testing.T) {
	e := newTestEngine(t)
	wf := newTestWorkflow(t, nil)
	must(t, wf.RegisterAsync(Work, func(ctx *TaskContext, done *Completion[Step]) {
		if err := done.Complete(Done); err != nil {
			panic(err)
		}
	}))
	must(t, wf.AddExitState(Done))
	final, err := wf.Run(context.Background(), e, Work)
	if err != nil || final != Done {
		t.Fatalf("Run = %v, %v", final, err)
	}
}

// laterTask is an async task written against the Task interface: it may finish at once
// (returning normally) or later, through Later.
type laterTask struct{ defer_ bool }

func (l laterTask) Run(ctx *TaskContext) (Step, error) {
	if !l.defer_ {
		return Done, nil
	}
	done, err := Later[Step](ctx)
	if err != nil {
		return Failed, err
	}
	go func() { _ = done.Complete(Process) }()
	return Failed, errors.New("ignored: the attempt finishes later")
}

func TestAsyncTaskInterface(t *testing.T) {
	e := newTestEngine(t)
	wf := newTestWorkflow(t, nil)
	must(t, wf.Register(Start, laterTask{defer_: true}, WithMode(Async)))
	must(t, wf.Register(Process, laterTask{defer_: false}, WithMode(Async)))
	must(t, wf.AddExitState(Done))
	final, err := wf.Run(context.Background(), e, Start)
	if err != nil || final != Done {
		t.Fatalf("Run = %v, %v", final, err)
	}
}

func TestAsyncLateCompletionIsIgnored(t *testing.T) {
	e := newManualEngine(t)
	wf := newTestWorkflow(t, nil)
	tokens := make(chan *Completion[Step], 1)
	must(t, wf.RegisterAsync(Work, func(ctx *TaskContext, done *Completion[Step]) { tokens <- done },
		WithAttemptTimeout(30*time.Millisecond), WithRetry(RetryNone)))
	must(t, wf.AddExitState(Done))
	_, ch := startRun(t, wf, e, Work)
	done := <-tokens
	r := driveUntilDone(t, e, ch)
	wantCode(t, r.Err, CodeTimeout, "task attempt exceeded attempt_timeout")
	// The first completion of a timed-out attempt is accepted and ignored; a second is refused.
	must(t, done.Complete(Done))
	if err := done.Complete(Done); !errors.Is(err, ErrBadState) {
		t.Fatalf("second late completion: %v", err)
	}
}

func TestCompletionAfterEngineClose(t *testing.T) {
	e, err := NewEngine()
	must(t, err)
	wf := newTestWorkflow(t, nil)
	tokens := make(chan *Completion[Step], 1)
	must(t, wf.RegisterAsync(Work, func(ctx *TaskContext, done *Completion[Step]) { tokens <- done }))
	must(t, wf.AddExitState(Done))
	_, ch := startRun(t, wf, e, Work)
	done := <-tokens
	must(t, e.Close())
	r := <-ch
	wantCode(t, r.Err, CodeShutdown, "")
	if err := done.Complete(Done); !errors.Is(err, ErrShutdown) {
		t.Fatalf("Complete after Close: %v", err)
	}
	if err := done.Fail(errors.New("x")); !errors.Is(err, ErrShutdown) {
		t.Fatalf("Fail after Close: %v", err)
	}
}

// blockingWork registers a worker task on Work that waits for its cancelled flag.
func blockingWork(t *testing.T, wf *Workflow[Step], started chan<- struct{}) {
	must(t, wf.RegisterFunc(Work, func(ctx *TaskContext) (Step, error) {
		started <- struct{}{}
		for !ctx.Cancelled() {
			time.Sleep(200 * time.Microsecond)
		}
		return Failed, errors.New("cancelled")
	}, WithMode(Worker), WithRetry(RetryNone)))
	must(t, wf.AddExitState(Done))
}

func TestRunHonoursContextCancellation(t *testing.T) {
	e := newTestEngine(t)
	wf := newTestWorkflow(t, nil)
	started := make(chan struct{}, 1)
	blockingWork(t, wf, started)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-started
		cancel()
	}()
	final, err := wf.Run(ctx, e, Work)
	ce := wantCode(t, err, CodeCancelled, "")
	if final != Work {
		t.Fatalf("final = %v", final)
	}
	if !errors.Is(err, context.Canceled) || !errors.Is(err, ErrCancelled) {
		t.Fatalf("errors.Is fails for %v", err)
	}
	if ce.Category != "api" {
		t.Fatalf("category %q", ce.Category)
	}
	wantContains(t, err.Error(), "context canceled")

	// A deadline works the same way.
	dctx, dcancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer dcancel()
	_, err = wf.Run(dctx, e, Work)
	// The body has almost surely started; if the deadline beat the worker to it, the engine never
	// starts the abandoned attempt, so do not wait forever.
	select {
	case <-started:
	case <-time.After(5 * time.Second):
	}
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrCancelled) {
		t.Fatalf("deadline: %v", err)
	}

	// A context that is already done starts nothing.
	_, err = wf.Run(ctx, e, Work)
	if err != context.Canceled {
		t.Fatalf("done context: %v", err)
	}
	select {
	case <-started:
		t.Fatal("a run started with a done context")
	default:
	}
}

func TestEngineCancel(t *testing.T) {
	e := newTestEngine(t)
	wf := newTestWorkflow(t, nil)
	started := make(chan struct{}, 1)
	blockingWork(t, wf, started)
	id, ch := startRun(t, wf, e, Work)
	<-started
	must(t, e.Cancel(id))
	r := <-ch
	wantCode(t, r.Err, CodeCancelled, "")
	if r.State != Work || r.RunID != id {
		t.Fatalf("result = %+v", r)
	}
	if err := e.Cancel(id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Cancel of an ended run: %v", err)
	}
}

func TestEngineCloseEndsRunsInFlight(t *testing.T) {
	e, err := NewEngine()
	must(t, err)
	wf := newTestWorkflow(t, nil)
	started := make(chan struct{}, 1)
	blockingWork(t, wf, started)
	_, ch := startRun(t, wf, e, Work)
	<-started
	must(t, e.Close())
	r := <-ch
	wantCode(t, r.Err, CodeShutdown, "")
	if _, err := wf.Run(context.Background(), e, Work); !errors.Is(err, ErrShutdown) {
		t.Fatalf("Run on a closed engine: %v", err)
	}
	if _, err := wf.Start(nil, Work, nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("Start without engine: %v", err)
	}
	if _, err := wf.Wait(e, Work); !errors.Is(err, ErrShutdown) {
		t.Fatalf("Wait on a closed engine: %v", err)
	}
	if _, err := wf.Wait(nil, Work); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("Wait without engine: %v", err)
	}
}
