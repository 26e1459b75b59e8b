package cano

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Split tests use Work as the split state, Process as its join state (a task that reads the
// split result and goes to Done) and Done as the exit state.

// outcomeBranches makes inline, single-attempt branches from a pattern: 's' succeeds with the
// value "v<i>", 'f' fails with "boom <i>".
func outcomeBranches(pattern string) []Branch {
	branches := make([]Branch, len(pattern))
	for i, c := range pattern {
		i, c := i, c
		branches[i] = NewBranch(func(*TaskContext) ([]byte, error) {
			if c == 'f' {
				return nil, fmt.Errorf("boom %d", i)
			}
			return []byte(fmt.Sprintf("v%d", i)), nil
		}, WithMode(Inline), WithRetry(RetryNone))
	}
	return branches
}

// splitRun is one run of a split workflow: how it ended and what the join task saw.
type splitRun struct {
	final  Step
	err    error
	seen   *SplitResult
	joined bool
}

// runSplitWorkflow registers the split at Work with a join task at Process, and runs it from
// Work on e (with the manual clock driven when e has one).
func runSplitWorkflow(t *testing.T, e *Engine, branches []Branch, strategy JoinStrategy,
	opts ...SplitOption) splitRun {
	t.Helper()
	wf := newTestWorkflow(t, nil)
	var out splitRun
	var mu sync.Mutex
	must(t, wf.RegisterSplit(Work, branches, strategy, Process, opts...))
	must(t, wf.RegisterFunc(Process, func(ctx *TaskContext) (Step, error) {
		mu.Lock()
		defer mu.Unlock()
		out.seen = ctx.SplitResult()
		out.joined = true
		return Done, nil
	}, WithMode(Inline)))
	must(t, wf.AddExitState(Done))
	_, ch := startRun(t, wf, e, Work)
	r := awaitRun(t, e, ch)
	out.final, out.err = r.State, r.Err
	return out
}

// statuses renders a split result as "s:v0 f c ..." for compact comparisons.
func statuses(r *SplitResult) string {
	if r == nil {
		return "<nil>"
	}
	parts := make([]string, len(r.Branches))
	for i, b := range r.Branches {
		switch b.Status {
		case BranchSucceeded:
			parts[i] = "s"
			if b.Value != nil {
				parts[i] += ":" + string(b.Value)
			}
		case BranchFailed:
			parts[i] = "f"
		default:
			parts[i] = "c"
		}
	}
	return strings.Join(parts, " ")
}

func TestSplitStrategies(t *testing.T) {
	const te = "Task execution error: "
	for _, c := range []struct {
		name     string
		pattern  string
		strategy JoinStrategy
		seen     string // the join task's view, when the join succeeds
		message  string // the run's error message, when it fails
	}{
		{"all/ok", "sss", JoinAll(), "s:v0 s:v1 s:v2", ""},
		{"all/one-failure-waits-for-all", "fss", JoinAll(), "",
			"Join condition not met: 2 of 3 tasks completed successfully, strategy: All; errors: task 0: " + te + "boom 0"},
		{"any/first-success-cancels-rest", "fsf", JoinAny(), "f s:v1 c", ""},
		{"any/all-fail", "ff", JoinAny(), "",
			"Join condition not met: 0 of 2 tasks completed successfully, strategy: Any; errors: task 0: " + te + "boom 0; task 1: " + te + "boom 1"},
		{"quorum/met-waits-for-all", "sfsf", JoinQuorum(2), "s:v0 f s:v2 f", ""},
		{"quorum/not-met", "sfff", JoinQuorum(2), "",
			"Join condition not met: 1 of 4 tasks completed successfully, strategy: Quorum(2); errors: task 1: " + te + "boom 1; task 2: " + te + "boom 2; task 3: " + te + "boom 3"},
		{"quorum/zero-always", "fff", JoinQuorum(0), "f f f", ""},
		{"quorum/more-than-total", "sss", JoinQuorum(4), "",
			"Join condition not met: 3 of 3 tasks completed successfully, strategy: Quorum(4)"},
		{"percentage/met", "ssff", JoinPercentage(0.5), "s:v0 s:v1 f f", ""},
		{"percentage/ceil", "ssf", JoinPercentage(0.9), "",
			"Join condition not met: 2 of 3 tasks completed successfully, strategy: Percentage(0.9); errors: task 2: " + te + "boom 2"},
		{"percentage/one", "ss", JoinPercentage(1), "s:v0 s:v1", ""},
		{"partial-results/early-exit", "fssss", JoinPartialResults(2), "f s:v1 s:v2 c c", ""},
		{"partial-results/not-met", "sff", JoinPartialResults(2), "",
			"Partial results condition not met: 1 completed successfully, 2 required; errors: task 1: " + te + "boom 1; task 2: " + te + "boom 2"},
		{"partial-results/zero-first-completion", "fs", JoinPartialResults(0), "f c", ""},
		{"error-summary-limit", "fffff", JoinAll(), "",
			"Join condition not met: 0 of 5 tasks completed successfully, strategy: All; errors: task 0: " + te + "boom 0; task 1: " + te + "boom 1; task 2: " + te + "boom 2; ... and 2 more error(s)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			checkHandlesReleased(t)
			e := newTestEngine(t)
			r := runSplitWorkflow(t, e, outcomeBranches(c.pattern), c.strategy)
			if c.message != "" {
				ce := wantCode(t, r.err, CodeWorkflow, c.message)
				if !errors.Is(r.err, ErrWorkflow) || ce.State != "Work" || r.final != Work || r.joined {
					t.Fatalf("error %+v, final %v, joined %v", ce, r.final, r.joined)
				}
				return
			}
			must(t, r.err)
			if r.final != Done || statuses(r.seen) != c.seen {
				t.Fatalf("final %v, join saw %q, want %q", r.final, statuses(r.seen), c.seen)
			}
			n := func(status BranchStatus) int {
				k := 0
				for _, b := range r.seen.Branches {
					if b.Status == status {
						k++
					}
				}
				return k
			}
			if r.seen.Succeeded != n(BranchSucceeded) || r.seen.Failed != n(BranchFailed) ||
				r.seen.Cancelled != n(BranchCancelled) || len(r.seen.Branches) != len(c.pattern) {
				t.Fatalf("counts %+v", r.seen)
			}
		})
	}
}

func TestSplitZeroBranches(t *testing.T) {
	e := newManualEngine(t)
	for _, c := range []struct {
		strategy JoinStrategy
		opts     []SplitOption
		message  string
	}{
		{JoinAll(), nil, ""},
		{JoinQuorum(0), nil, ""},
		{JoinPercentage(0.5), nil, ""},
		{JoinPartialResults(0), nil, ""},
		{JoinAny(), nil, "Join condition not met: 0 of 0 tasks completed successfully, strategy: Any"},
		{JoinQuorum(1), nil, "Join condition not met: 0 of 0 tasks completed successfully, strategy: Quorum(1)"},
		{JoinPartialResults(1), nil, "Partial results condition not met: 0 completed successfully, 1 required"},
		{JoinPartialTimeout(), []SplitOption{WithSplitTimeout(50 * time.Millisecond)},
			"PartialTimeout: No tasks completed before timeout"},
	} {
		t.Run(c.strategy.String(), func(t *testing.T) {
			r := runSplitWorkflow(t, e, nil, c.strategy, c.opts...)
			if c.message == "" {
				must(t, r.err)
				if r.final != Done || r.seen == nil || len(r.seen.Branches) != 0 {
					t.Fatalf("final %v, seen %+v", r.final, r.seen)
				}
				return
			}
			wantCode(t, r.err, CodeWorkflow, c.message)
		})
	}
}

// blockingBranch is a worker branch that waits until its attempt is cancelled, and reports
// that it saw the cancellation.
// blockTracker counts the blocking branches that started and those that saw their
// cancellation. The engine never starts a worker attempt that was abandoned while it waited for
// a free worker, so a test can only expect every blocker that started to see its cancellation.
type blockTracker struct {
	started, cancelled atomic.Int32
}

func blockingBranch(tr *blockTracker) Branch {
	return NewBranch(func(ctx *TaskContext) ([]byte, error) {
		tr.started.Add(1)
		for !ctx.Cancelled() {
			time.Sleep(time.Millisecond)
		}
		tr.cancelled.Add(1)
		return nil, errors.New("cancelled")
	}, WithRetry(RetryNone))
}

// waitAllStartedCancelled waits until every blocker that started has seen its cancellation.
func (tr *blockTracker) waitAllStartedCancelled(t *testing.T) {
	t.Helper()
	waitFor(t, "started blockers to see Cancelled", func() bool {
		return tr.cancelled.Load() == tr.started.Load()
	})
}

func TestSplitTimeouts(t *testing.T) {
	t.Run("split-timeout-fails-even-with-successes", func(t *testing.T) {
		e := newManualEngine(t)
		var tr blockTracker
		branches := append(outcomeBranches("s"), blockingBranch(&tr))
		start := e.Now()
		r := runSplitWorkflow(t, e, branches, JoinAll(), WithSplitTimeout(100*time.Millisecond))
		wantCode(t, r.err, CodeWorkflow, "Split task timeout exceeded")
		if got := e.Now() - start; got != 100*time.Millisecond {
			t.Fatalf("the split ended after %v", got)
		}
		tr.waitAllStartedCancelled(t)
	})
	t.Run("partial-timeout-decides-on-completions", func(t *testing.T) {
		e := newManualEngine(t)
		var tr blockTracker
		branches := append(outcomeBranches("f"), blockingBranch(&tr))
		r := runSplitWorkflow(t, e, branches, JoinPartialTimeout(), WithSplitTimeout(100*time.Millisecond))
		must(t, r.err)
		// A failure counts as a completion for PartialTimeout.
		if statuses(r.seen) != "f c" || r.seen.Branches[0].Err == nil {
			t.Fatalf("join saw %q", statuses(r.seen))
		}
		tr.waitAllStartedCancelled(t)
	})
	t.Run("partial-timeout-none-completed", func(t *testing.T) {
		e := newManualEngine(t)
		var tr blockTracker
		branches := []Branch{blockingBranch(&tr), blockingBranch(&tr)}
		r := runSplitWorkflow(t, e, branches, JoinPartialTimeout(), WithSplitTimeout(30*time.Millisecond))
		wantCode(t, r.err, CodeWorkflow, "PartialTimeout: No tasks completed before timeout")
		tr.waitAllStartedCancelled(t)
	})
	t.Run("partial-timeout-all-complete-early", func(t *testing.T) {
		e := newManualEngine(t)
		start := e.Now()
		r := runSplitWorkflow(t, e, outcomeBranches("sf"), JoinPartialTimeout(), WithSplitTimeout(time.Hour))
		must(t, r.err)
		if e.Now() != start || statuses(r.seen) != "s:v0 f" {
			t.Fatalf("clock %v, join saw %q", e.Now()-start, statuses(r.seen))
		}
		// The split timeout was disarmed with the join.
		if _, err := e.NextDeadline(); !errors.Is(err, ErrNotFound) {
			t.Fatalf("NextDeadline = %v", err)
		}
	})
	t.Run("any-cancels-a-blocked-worker", func(t *testing.T) {
		e := newTestEngine(t, WithWorkers(2))
		var tr blockTracker
		release := make(chan struct{})
		fast := NewBranch(func(*TaskContext) ([]byte, error) {
			<-release
			return []byte("fast"), nil
		}, WithRetry(RetryNone))
		go func() { time.Sleep(5 * time.Millisecond); close(release) }()
		r := runSplitWorkflow(t, e, []Branch{blockingBranch(&tr), fast}, JoinAny())
		must(t, r.err)
		if statuses(r.seen) != "c s:fast" || r.seen.Cancelled != 1 {
			t.Fatalf("join saw %q", statuses(r.seen))
		}
		tr.waitAllStartedCancelled(t)
	})
}

func TestSplitBulkhead(t *testing.T) {
	for _, limit := range []int{1, 2} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			e := newTestEngine(t, WithWorkers(4))
			var gauge concurrencyGauge
			branches := make([]Branch, 6)
			for i := range branches {
				branches[i] = NewBranch(func(*TaskContext) ([]byte, error) {
					gauge.enter()
					time.Sleep(15 * time.Millisecond)
					gauge.leave()
					return nil, nil
				}, WithRetry(RetryNone))
			}
			r := runSplitWorkflow(t, e, branches, JoinAll(), WithBulkhead(limit))
			must(t, r.err)
			if r.seen.Succeeded != 6 {
				t.Fatalf("join saw %q", statuses(r.seen))
			}
			if gauge.peak.Load() != int32(limit) {
				t.Fatalf("at most %d branches ran at once, want %d", gauge.peak.Load(), limit)
			}
		})
	}
	t.Run("slot-held-through-retries", func(t *testing.T) {
		// Bulkhead 1: branch 0 fails twice (10 ms apart) before it succeeds; branch 1 starts
		// only when branch 0 is done.
		e := newManualEngine(t)
		var journal journal
		var calls atomic.Int32
		flaky := NewBranch(func(ctx *TaskContext) ([]byte, error) {
			journal.add(fmt.Sprintf("b0@%v", ctx.Engine().Now()))
			if calls.Add(1) < 3 {
				return nil, errors.New("not yet")
			}
			return nil, nil
		}, WithMode(Inline), WithRetry(RetryFixed(2, 10*time.Millisecond)))
		second := NewBranch(func(ctx *TaskContext) ([]byte, error) {
			journal.add(fmt.Sprintf("b1@%v", ctx.Engine().Now()))
			return nil, nil
		}, WithMode(Inline))
		r := runSplitWorkflow(t, e, []Branch{flaky, second}, JoinAll(), WithBulkhead(1))
		must(t, r.err)
		want := []string{"b0@0s", "b0@10ms", "b0@20ms", "b1@20ms"}
		if got := journal.get(); !equalStrings(got, want) {
			t.Fatalf("calls %q, want %q", got, want)
		}
	})
}

func TestSplitValuesAndErrorsReachTheJoin(t *testing.T) {
	checkHandlesReleased(t)
	e := newTestEngine(t)
	var attempts atomic.Int32
	branches := []Branch{
		NewBranch(func(*TaskContext) ([]byte, error) { return []byte("payload"), nil }),
		NewBranch(func(*TaskContext) ([]byte, error) { return nil, nil }),
		NewBranch(func(*TaskContext) ([]byte, error) { return []byte{}, nil }),
		NewBranch(func(*TaskContext) ([]byte, error) {
			return nil, NewError(CodeStore, "no shelf")
		}, WithRetry(RetryNone)),
		NewBranch(func(*TaskContext) ([]byte, error) {
			attempts.Add(1)
			return []byte("lost"), errors.New("flaky")
		}, WithRetry(RetryFixed(1, 0)), WithName("flaky-branch")),
		NewBranch(func(ctx *TaskContext) ([]byte, error) {
			// SetValue, then a returned nil keeps it; a later SetValue replaces it.
			must(t, ctx.SetValue([]byte("first")))
			must(t, ctx.SetValue([]byte("second")))
			return nil, nil
		}),
	}
	r := runSplitWorkflow(t, e, branches, JoinQuorum(1))
	must(t, r.err)
	b := r.seen.Branches
	if string(b[0].Value) != "payload" || b[1].Value != nil || b[2].Value == nil || len(b[2].Value) != 0 ||
		string(b[5].Value) != "second" {
		t.Fatalf("values %q %q %q %q", b[0].Value, b[1].Value, b[2].Value, b[5].Value)
	}
	for i, br := range b {
		if br.Index != i {
			t.Fatalf("branch %d has index %d", i, br.Index)
		}
	}
	if b[3].Status != BranchFailed || b[3].Value != nil {
		t.Fatalf("branch 3: %+v", b[3])
	}
	wantCode(t, b[3].Err, CodeStore, "no shelf")
	if !errors.Is(b[3].Err, ErrStore) || b[3].Err.State != "Work" {
		t.Fatalf("branch 3 error %+v", b[3].Err)
	}
	e4 := wantCode(t, b[4].Err, CodeRetryExhausted, "Task failed after 2 attempt(s): Task execution error: flaky")
	if e4.Cause == nil || e4.Cause.Message != "flaky" || e4.Task != "flaky-branch[4]" || attempts.Load() != 2 {
		t.Fatalf("branch 4 error %+v (cause %+v), %d attempts", e4, e4.Cause, attempts.Load())
	}
	if b[0].Err != nil || r.seen.Succeeded != 4 || r.seen.Failed != 2 || r.seen.Cancelled != 0 {
		t.Fatalf("result %+v", r.seen)
	}
}

func TestSplitResultOnlyForTheJoinState(t *testing.T) {
	e := newTestEngine(t)
	wf := newTestWorkflow(t, nil)
	var seen journal
	note := func(ctx *TaskContext) {
		if r := ctx.SplitResult(); r == nil {
			seen.add(fmt.Sprintf("%v:nil", StateOf[Step](ctx)))
		} else {
			seen.add(fmt.Sprintf("%v:%d", StateOf[Step](ctx), len(r.Branches)))
		}
	}
	must(t, wf.RegisterFunc(Start, func(ctx *TaskContext) (Step, error) { note(ctx); return Work, nil }))
	must(t, wf.RegisterSplit(Work, outcomeBranches("ss"), JoinAll(), Process))
	must(t, wf.RegisterFunc(Process, func(ctx *TaskContext) (Step, error) { note(ctx); return Fetch, nil }))
	must(t, wf.RegisterFunc(Fetch, func(ctx *TaskContext) (Step, error) { note(ctx); return Done, nil }))
	must(t, wf.AddExitState(Done))
	final, err := wf.Run(context.Background(), e, Start)
	must(t, err)
	if want := []string{"Start:nil", "Process:2", "Fetch:nil"}; final != Done || !equalStrings(seen.get(), want) {
		t.Fatalf("final %v, seen %q", final, seen.get())
	}
}

func TestSplitJoinStateIsExit(t *testing.T) {
	e := newTestEngine(t)
	wf := newTestWorkflow(t, nil)
	must(t, wf.RegisterSplit(Work, outcomeBranches("sf"), JoinAny(), Done))
	must(t, wf.AddExitState(Done))
	final, err := wf.Run(context.Background(), e, Work)
	if err != nil || final != Done {
		t.Fatalf("Run = %v, %v", final, err)
	}
}

func TestSplitBranchPanicsAndFatalFailures(t *testing.T) {
	checkHandlesReleased(t)
	e := newTestEngine(t)
	var panics, fatals, ordinary atomic.Int32
	branches := []Branch{
		NewBranch(func(*TaskContext) ([]byte, error) { return []byte("ok"), nil }, WithMode(Inline)),
		NewBranch(func(*TaskContext) ([]byte, error) {
			panics.Add(1)
			panic("kaboom")
		}, WithRetry(RetryFixed(3, 0))),
		NewBranch(func(*TaskContext) ([]byte, error) {
			fatals.Add(1)
			return nil, Fatal(NewError(CodeStore, "store gone"))
		}, WithRetry(RetryFixed(3, 0))),
		NewBranch(func(*TaskContext) ([]byte, error) {
			ordinary.Add(1)
			return nil, errors.New("again")
		}, WithRetry(RetryFixed(3, 0))),
	}
	r := runSplitWorkflow(t, e, branches, JoinQuorum(1))
	must(t, r.err)
	b := r.seen.Branches
	wantCode(t, b[1].Err, CodeTaskExecution, "panic in split task 1: kaboom")
	wantCode(t, b[2].Err, CodeStore, "store gone")
	wantCode(t, b[3].Err, CodeRetryExhausted, "Task failed after 4 attempt(s): Task execution error: again")
	if panics.Load() != 1 || fatals.Load() != 1 || ordinary.Load() != 4 {
		t.Fatalf("attempts: panic %d, fatal %d, ordinary %d", panics.Load(), fatals.Load(), ordinary.Load())
	}
}

func TestSplitAsyncBranches(t *testing.T) {
	checkHandlesReleased(t)
	e := newTestEngine(t)
	second := make(chan error, 1)
	branches := []Branch{
		AsyncBranch(func(ctx *TaskContext, done *BranchCompletion) {
			must(t, ctx.SetValue([]byte("async value")))
			go func() {
				time.Sleep(2 * time.Millisecond)
				if err := done.Succeed(); err != nil {
					second <- err
					return
				}
				second <- done.Succeed() // exactly one completion per attempt
			}()
		}),
		AsyncBranch(func(ctx *TaskContext, done *BranchCompletion) {
			if done.Token() == 0 || done.Token() != ctx.Token() {
				panic("token mismatch")
			}
			go func() { _ = done.Fail(NewError(CodeTimeout, "too slow")) }()
		}, WithRetry(RetryNone)),
		NewBranch(func(ctx *TaskContext) ([]byte, error) {
			// A branch that is not async cannot finish later.
			_, err := LaterBranch(ctx)
			return nil, err
		}, WithMode(Inline), WithRetry(RetryNone)),
	}
	r := runSplitWorkflow(t, e, branches, JoinQuorum(1))
	must(t, r.err)
	b := r.seen.Branches
	if statuses(r.seen) != "s:async value f f" {
		t.Fatalf("join saw %q", statuses(r.seen))
	}
	wantCode(t, b[1].Err, CodeTimeout, "too slow")
	wantCode(t, b[2].Err, CodeBadState, "LaterBranch needs a task registered with cano.Async")
	wantCode(t, <-second, CodeBadState, "")
}

func TestLaterBranchOutsideASplit(t *testing.T) {
	e := newTestEngine(t)
	wf := newTestWorkflow(t, nil)
	must(t, wf.RegisterFunc(Work, func(ctx *TaskContext) (Step, error) {
		_, err := LaterBranch(ctx)
		return Done, err
	}, WithMode(Async), WithRetry(RetryNone)))
	must(t, wf.AddExitState(Done))
	_, err := wf.Run(context.Background(), e, Work)
	wantCode(t, err, CodeBadState, "LaterBranch needs a split branch (use Later for a task)")
}

func TestSetValueOutsideABranchAndAfterTheBody(t *testing.T) {
	e := newTestEngine(t)
	wf := newTestWorkflow(t, nil)
	var kept *TaskContext
	must(t, wf.RegisterFunc(Work, func(ctx *TaskContext) (Step, error) {
		kept = ctx
		return Done, ctx.SetValue([]byte("ignored outside a split"))
	}, WithMode(Inline)))
	must(t, wf.AddExitState(Done))
	_, err := wf.Run(context.Background(), e, Work)
	must(t, err)
	wantCode(t, kept.SetValue([]byte("late")), CodeBadState, "")
	if kept.SplitResult() != nil {
		t.Fatal("a closed context has a split result")
	}
}

func TestSplitValidation(t *testing.T) {
	checkHandlesReleased(t)
	branches := outcomeBranches("s")
	t.Run("validate", func(t *testing.T) {
		for _, c := range []struct {
			strategy JoinStrategy
			join     Step
			message  string
		}{
			{JoinPartialTimeout(), Process, "PartialTimeout strategy requires a timeout to be configured"},
			{JoinPercentage(0), Process, "Percentage strategy requires a finite value in (0.0, 1.0], got 0"},
			{JoinPercentage(1.5), Process, "Percentage strategy requires a finite value in (0.0, 1.0], got 1.5"},
			{JoinPercentage(-0.25), Process, "Percentage strategy requires a finite value in (0.0, 1.0], got -0.25"},
			{JoinPercentage(math.NaN()), Process, "Percentage strategy requires a finite value in (0.0, 1.0], got NaN"},
			{JoinPercentage(math.Inf(1)), Process, "Percentage strategy requires a finite value in (0.0, 1.0], got inf"},
			// Fetch is declared, but has no task and is no exit state.
			{JoinAll(), Fetch, "Split join_state Fetch is neither registered nor an exit state"},
		} {
			e := newTestEngine(t)
			wf := newTestWorkflow(t, nil)
			must(t, wf.AddStates(Fetch))
			must(t, wf.RegisterSplit(Work, branches, c.strategy, c.join))
			must(t, wf.RegisterFunc(Process, func(*TaskContext) (Step, error) { return Done, nil }))
			must(t, wf.AddExitState(Done))
			ce := wantCode(t, wf.Validate(), CodeConfiguration, c.message)
			if ce.State != "Work" || !ce.HasState {
				t.Fatalf("the error names state %q", ce.State)
			}
			// The first run fails the same way, and starts nothing.
			_, err := wf.Run(context.Background(), e, Work)
			wantCode(t, err, CodeConfiguration, c.message)
		}
	})
	t.Run("undeclared-join-state", func(t *testing.T) {
		wf := newTestWorkflow(t, nil)
		must(t, wf.RegisterSplit(Work, branches, JoinAll(), Step(42)))
		must(t, wf.AddExitState(Done))
		wantCode(t, wf.Validate(), CodeConfiguration, "Split join_state 42 is neither registered nor an exit state")
	})
	t.Run("refused-at-registration", func(t *testing.T) {
		wf := newTestWorkflow(t, nil)
		for _, c := range []struct {
			err     error
			code    Code
			message string
		}{
			{wf.RegisterSplit(Work, branches, JoinAll(), Done, WithBulkhead(0)), CodeConfiguration,
				"bulkhead requires a positive permit count, got 0"},
			{wf.RegisterSplit(Work, branches, JoinAll(), Done, WithBulkhead(-3)), CodeConfiguration,
				"bulkhead requires a positive permit count, got -3"},
			{wf.RegisterSplit(Work, branches, JoinQuorum(-1), Done), CodeInvalidArgument,
				"Quorum(-1): the count must not be negative"},
			{wf.RegisterSplit(Work, branches, JoinPartialResults(-2), Done), CodeInvalidArgument,
				"PartialResults(-2): the count must not be negative"},
			{wf.RegisterSplit(Work, []Branch{{}}, JoinAll(), Done), CodeInvalidArgument,
				"branch 0 of RegisterSplit has no Run function"},
			{wf.RegisterSplit(Work, []Branch{AsyncBranch(nil)}, JoinAll(), Done), CodeInvalidArgument,
				"branch 0 of RegisterSplit has no Run function"},
			{wf.RegisterSplit(Work, []Branch{NewBranch(branches[0].Run, WithPollPolicy(FailFast))}, JoinAll(), Done),
				CodeInvalidArgument, "WithPollPolicy applies to poll tasks (RegisterPoll) only"},
			// The library refuses a bad mode: every branch's handle is released (checked above).
			{wf.RegisterSplit(Work, append(outcomeBranches("ss"), NewBranch(branches[0].Run, WithMode(Mode(9)))),
				JoinAll(), Done), CodeInvalidArgument, ""},
		} {
			wantCode(t, c.err, c.code, c.message)
		}
		// A frozen workflow refuses a split too.
		e := newTestEngine(t)
		must(t, wf.RegisterSplit(Work, branches, JoinAll(), Done))
		must(t, wf.AddExitState(Done))
		_, err := wf.Run(context.Background(), e, Work)
		must(t, err)
		wantCode(t, wf.RegisterSplit(Work, branches, JoinAll(), Done), CodeBadState, "")
	})
}

func TestSplitConcurrentRuns(t *testing.T) {
	checkHandlesReleased(t)
	e := newTestEngine(t, WithWorkers(4))
	wf := newTestWorkflow(t, nil)
	branches := make([]Branch, 4)
	for i := range branches {
		i := i
		branches[i] = NewBranch(func(ctx *TaskContext) ([]byte, error) {
			return []byte(fmt.Sprintf("%d/%d", ctx.RunID(), i)), nil
		}, WithMode([]Mode{Worker, Inline}[i%2]))
	}
	must(t, wf.RegisterSplit(Work, branches, JoinAll(), Process, WithBulkhead(3)))
	must(t, wf.RegisterFunc(Process, func(ctx *TaskContext) (Step, error) {
		r := ctx.SplitResult()
		for i, b := range r.Branches {
			if string(b.Value) != fmt.Sprintf("%d/%d", ctx.RunID(), i) {
				return Failed, fmt.Errorf("run %d saw %q from branch %d", ctx.RunID(), b.Value, i)
			}
		}
		return Done, nil
	}))
	must(t, wf.AddExitState(Done))
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := wf.Run(context.Background(), e, Work); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestJoinStrategyStrings(t *testing.T) {
	for s, want := range map[JoinStrategy]string{
		JoinAll(): "All", JoinAny(): "Any", JoinQuorum(2): "Quorum(2)", JoinPercentage(0.5): "Percentage(0.5)",
		JoinPercentage(1): "Percentage(1.0)", JoinPartialResults(3): "PartialResults(3)",
		JoinPartialTimeout(): "PartialTimeout", {}: "All",
	} {
		if s.String() != want {
			t.Errorf("%#v.String() = %q, want %q", s, s.String(), want)
		}
	}
	if JoinQuorum(2).Count() != 2 || JoinPercentage(0.25).Percentage() != 0.25 || JoinAll().Count() != 0 {
		t.Error("accessors")
	}
	for s, want := range map[BranchStatus]string{BranchSucceeded: "succeeded", BranchFailed: "failed",
		BranchCancelled: "cancelled", BranchStatus(7): "BranchStatus(7)"} {
		if s.String() != want {
			t.Errorf("%d.String() = %q", int32(s), s.String())
		}
	}
}
