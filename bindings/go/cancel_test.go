package cano

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"
)

// closed reports whether ch is closed, without blocking.
func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// waitClosed waits until ch is closed, and fails the test with message when it is not within
// a few seconds.
func waitClosed(t *testing.T, ch <-chan struct{}, message string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal(message)
	}
}

// tokenLog records the tokens a WithOnCancel function was told (pass its add method).
type tokenLog = journalOf[uint64]

// checkNoPendingAttempts fails when the test leaves async attempts tracked.
func checkNoPendingAttempts(t *testing.T) {
	t.Helper()
	before := pendingAttemptCount()
	t.Cleanup(func() {
		if n := pendingAttemptCount(); n > before {
			t.Errorf("%d pending async attempts are still tracked (%d before)", n, before)
		}
	})
}

func TestCancelTimedOutAsyncAttempt(t *testing.T) {
	checkHandlesReleased(t)
	checkNoPendingAttempts(t)
	e := newManualEngine(t)
	wf := newTestWorkflow(t, nil)
	var told tokenLog
	completions := make(chan *Completion[Step], 2)
	must(t, wf.RegisterAsync(Work, func(ctx *TaskContext, done *Completion[Step]) { completions <- done },
		WithAttemptTimeout(100*time.Millisecond), WithRetry(RetryFixed(1, 0)), WithOnCancel(told.add)))
	must(t, wf.AddExitState(Done))
	_, ch := startRun(t, wf, e, Work)
	first := <-completions
	if closed(first.Done()) || first.Context().Err() != nil {
		t.Fatal("the pending attempt is cancelled before its timeout")
	}
	ctx := first.Context() // made before the notice: it is cancelled by it
	waitFor(t, "the attempt timeout to be armed", func() bool {
		next, err := e.NextDeadline()
		return err == nil && next == 100*time.Millisecond
	})
	must(t, e.Advance(100*time.Millisecond))
	// Attempt 1 is told; attempt 2 starts and is pending, so it is not.
	second := <-completions
	waitClosed(t, first.Done(), "the timed-out attempt's Done channel was never closed")
	if !errors.Is(ctx.Err(), context.Canceled) || !errors.Is(first.Context().Err(), context.Canceled) {
		t.Fatalf("the timed-out attempt's context: %v, %v", ctx.Err(), first.Context().Err())
	}
	if got := told.get(); len(got) != 1 || got[0] != first.Token() {
		t.Fatalf("WithOnCancel told %v, want [%d]", got, first.Token())
	}
	if closed(second.Done()) || second.Context().Err() != nil || second.Token() == first.Token() {
		t.Fatal("the pending second attempt is cancelled")
	}
	// The late completion of the abandoned attempt is accepted and ignored.
	must(t, first.Complete(Failed))
	must(t, second.Complete(Done))
	r := <-ch
	if r.Err != nil || r.State != Done {
		t.Fatalf("run = %v, %v", r.State, r.Err)
	}
	must(t, e.Close())
	if closed(second.Done()) || len(told.get()) != 1 {
		t.Fatalf("the completed attempt was told (told %v)", told.get())
	}
}

func TestCancelLosingAsyncSplitBranches(t *testing.T) {
	checkHandlesReleased(t)
	checkNoPendingAttempts(t)
	e := newTestEngine(t)
	var winnerTold, losersTold tokenLog
	var mu sync.Mutex
	var losers []*BranchCompletion
	var winner *BranchCompletion
	pending := func(ctx *TaskContext, done *BranchCompletion) {
		mu.Lock()
		defer mu.Unlock()
		losers = append(losers, done)
	}
	branches := []Branch{
		AsyncBranch(func(ctx *TaskContext, done *BranchCompletion) {
			mu.Lock()
			winner = done
			mu.Unlock()
			// Completes from another goroutine once the losers have started.
			go func() {
				for giveUp := time.Now().Add(10 * time.Second); time.Now().Before(giveUp); {
					mu.Lock()
					started := len(losers)
					mu.Unlock()
					if started == 2 {
						break
					}
					time.Sleep(time.Millisecond)
				}
				_ = done.Succeed()
			}()
		}, WithOnCancel(winnerTold.add)),
		AsyncBranch(pending, WithOnCancel(losersTold.add)),
		AsyncBranch(pending, WithOnCancel(losersTold.add)),
	}
	out := runSplitWorkflow(t, e, branches, JoinAny())
	if out.err != nil || out.final != Done || out.seen == nil || out.seen.Succeeded != 1 || out.seen.Cancelled != 2 {
		t.Fatalf("split = %+v", out)
	}
	mu.Lock()
	lost := append([]*BranchCompletion(nil), losers...)
	won := winner
	mu.Unlock()
	for i, l := range lost {
		waitClosed(t, l.Done(), fmt.Sprintf("loser %d was never told", i))
		if l.Context().Err() == nil {
			t.Fatalf("loser %d: its context is not cancelled", i)
		}
	}
	waitFor(t, "both notices", func() bool { return len(losersTold.get()) == 2 })
	told := losersTold.get()
	sort.Slice(told, func(i, j int) bool { return told[i] < told[j] })
	want := []uint64{lost[0].Token(), lost[1].Token()}
	sort.Slice(want, func(i, j int) bool { return want[i] < want[j] })
	if told[0] != want[0] || told[1] != want[1] {
		t.Fatalf("losers told %v, want %v", told, want)
	}
	// A loser completing late is accepted and ignored.
	must(t, lost[0].Fail(errors.New("too late")))
	must(t, e.Close()) // nothing else is told, not even at shutdown
	if closed(won.Done()) || len(winnerTold.get()) != 0 || len(losersTold.get()) != 2 {
		t.Fatalf("winner told %v (done closed %v); losers told %v", winnerTold.get(), closed(won.Done()), losersTold.get())
	}
}

func TestCancelIsNotToldToCompletedAttempts(t *testing.T) {
	checkNoPendingAttempts(t)
	e := newTestEngine(t)
	wf := newTestWorkflow(t, nil)
	var told tokenLog
	var kept []*Completion[Step]
	var mu sync.Mutex
	body := func(ctx *TaskContext, done *Completion[Step]) {
		mu.Lock()
		kept = append(kept, done)
		mu.Unlock()
		go func() {
			if ctx := done.Context(); ctx.Err() != nil {
				_ = done.Fail(ctx.Err())
				return
			}
			_ = done.Complete(Process)
		}()
	}
	must(t, wf.RegisterAsync(Work, body, WithOnCancel(told.add)))
	must(t, wf.RegisterAsync(Process, func(ctx *TaskContext, done *Completion[Step]) {
		mu.Lock()
		kept = append(kept, done)
		mu.Unlock()
		_ = done.Fail(errors.New("failed attempts are completed too"))
	}, WithOnCancel(told.add), WithRetry(RetryFixed(1, 0))))
	must(t, wf.AddExitState(Done))
	_, err := wf.Run(context.Background(), e, Work)
	wantCode(t, err, CodeRetryExhausted, "")
	must(t, e.Close())
	if len(kept) != 3 {
		t.Fatalf("%d attempts, want 3", len(kept))
	}
	for i, done := range kept {
		if closed(done.Done()) || done.Context().Err() != nil {
			t.Fatalf("completed attempt %d was cancelled", i)
		}
	}
	if len(told.get()) != 0 {
		t.Fatalf("told %v", told.get())
	}
}

func TestCancelOnRunCancelAndContext(t *testing.T) {
	checkHandlesReleased(t)
	checkNoPendingAttempts(t)
	e := newTestEngine(t)
	wf := newTestWorkflow(t, nil)
	onLoop := make(chan bool, 2)
	stopped := make(chan error, 2)
	must(t, wf.RegisterAsync(Work, func(ctx *TaskContext, done *Completion[Step]) {
		// Work that stops when the engine abandons the attempt.
		go func() {
			select {
			case <-done.Context().Done():
				stopped <- done.Context().Err()
			case <-time.After(20 * time.Second):
				stopped <- errors.New("never cancelled")
			}
		}()
	}, WithOnCancel(func(uint64) { onLoop <- e.OnLoopThread() })))
	must(t, wf.AddExitState(Done))

	// Engine.Cancel abandons the pending attempt.
	id, ch := startRun(t, wf, e, Work)
	waitFor(t, "the attempt to be pending", func() bool { return pendingAttemptCount() > 0 })
	must(t, e.Cancel(id))
	wantCode(t, (<-ch).Err, CodeCancelled, "")
	if err := <-stopped; !errors.Is(err, context.Canceled) {
		t.Fatalf("the work stopped with %v", err)
	}
	if !<-onLoop {
		t.Fatal("WithOnCancel did not run on the loop thread")
	}

	// So does a Run whose context ends.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := wf.Run(ctx, e, Work)
	if !errors.Is(err, ErrCancelled) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run: %v", err)
	}
	if err := <-stopped; !errors.Is(err, context.Canceled) {
		t.Fatalf("the work stopped with %v", err)
	}
	<-onLoop
}

func TestCancelOnShutdown(t *testing.T) {
	checkHandlesReleased(t)
	checkNoPendingAttempts(t)
	e, err := NewEngine()
	must(t, err)
	wf := newTestWorkflow(t, nil)
	var told tokenLog
	completions := make(chan *Completion[Step], 2)
	must(t, wf.RegisterAsync(Work, func(ctx *TaskContext, done *Completion[Step]) { completions <- done },
		WithOnCancel(told.add)))
	must(t, wf.AddExitState(Done))
	_, ch1 := startRun(t, wf, e, Work)
	_, ch2 := startRun(t, wf, e, Work)
	a, b := <-completions, <-completions
	must(t, e.Close())
	// Shutdown tells the pending attempts before it returns.
	if !closed(a.Done()) || !closed(b.Done()) || len(told.get()) != 2 {
		t.Fatalf("after Close: done %v %v, told %v", closed(a.Done()), closed(b.Done()), told.get())
	}
	wantCode(t, (<-ch1).Err, CodeShutdown, "")
	wantCode(t, (<-ch2).Err, CodeShutdown, "")
	// A context asked for after the notice is cancelled already.
	if a.Context().Err() == nil {
		t.Fatal("a late context is not cancelled")
	}
}

func TestCancelSameTokenOnTwoEngines(t *testing.T) {
	// One workflow on two engines: both first attempts have token 1. Each engine's notice goes
	// to its own attempt.
	checkNoPendingAttempts(t)
	e1, e2 := newTestEngine(t), newTestEngine(t)
	wf := newTestWorkflow(t, nil)
	completions := make(chan *Completion[Step], 2)
	must(t, wf.RegisterAsync(Work, func(ctx *TaskContext, done *Completion[Step]) { completions <- done }))
	must(t, wf.AddExitState(Done))
	id1, ch1 := startRun(t, wf, e1, Work)
	c1 := <-completions
	_, ch2 := startRun(t, wf, e2, Work)
	c2 := <-completions
	if c1.Token() != c2.Token() {
		t.Logf("tokens %d and %d differ: the engines number them apart", c1.Token(), c2.Token())
	}
	must(t, e1.Cancel(id1))
	wantCode(t, (<-ch1).Err, CodeCancelled, "")
	waitClosed(t, c1.Done(), "engine 1's attempt was never told")
	if closed(c2.Done()) {
		t.Fatal("engine 2's attempt was told of engine 1's cancellation")
	}
	must(t, c2.Complete(Done))
	if r := <-ch2; r.Err != nil || r.State != Done {
		t.Fatalf("run on engine 2 = %v, %v", r.State, r.Err)
	}
}

func TestWithOnCancelNeedsAsync(t *testing.T) {
	checkHandlesReleased(t)
	wf := newTestWorkflow(t, nil)
	const message = "WithOnCancel applies to Async tasks and branches only (the engine tells only pending async attempts)"
	body := func(*TaskContext) (Step, error) { return Done, nil }
	hook := WithOnCancel(func(uint64) {})
	wantCode(t, wf.RegisterFunc(Work, body, hook), CodeInvalidArgument, message)
	wantCode(t, wf.RegisterFunc(Work, body, hook, WithMode(Inline)), CodeInvalidArgument, message)
	wantCode(t, wf.RegisterPoll(Work, func(*TaskContext) (PollResult[Step], error) { return Ready(Done), nil }, hook),
		CodeInvalidArgument, message)
	wantCode(t, wf.RegisterSplit(Work, []Branch{NewBranch(func(*TaskContext) ([]byte, error) { return nil, nil }, hook)},
		JoinAll(), Done), CodeInvalidArgument, message)
	// Async registrations take it.
	must(t, wf.RegisterFunc(Work, body, hook, WithMode(Async)))
	must(t, wf.RegisterAsync(Work, func(*TaskContext, *Completion[Step]) {}, hook))
	must(t, wf.RegisterSplit(Work, []Branch{AsyncBranch(func(*TaskContext, *BranchCompletion) {}, hook)}, JoinAll(), Done))
}

func TestWithOnCancelPanicIsReported(t *testing.T) {
	var logged journal
	must(t, SetLogHandler(func(level LogLevel, message string) { logged.add(message) }))
	defer func() { must(t, SetLogHandler(nil)) }()
	e := newManualEngine(t)
	wf := newTestWorkflow(t, nil)
	completions := make(chan *Completion[Step], 1)
	must(t, wf.RegisterAsync(Work, func(ctx *TaskContext, done *Completion[Step]) { completions <- done },
		WithAttemptTimeout(10*time.Millisecond), WithRetry(RetryNone),
		WithOnCancel(func(uint64) { panic("hook trouble") })))
	must(t, wf.AddExitState(Done))
	_, ch := startRun(t, wf, e, Work)
	done := <-completions
	r := driveUntilDone(t, e, ch)
	wantCode(t, r.Err, CodeTimeout, "")
	waitClosed(t, done.Done(), "never told") // closed although the hook panicked
	waitFor(t, "the panic to be reported", func() bool {
		for _, m := range logged.get() {
			if m == "cano: recovered panic: hook trouble in a WithOnCancel function" {
				return true
			}
		}
		return false
	})
}

func TestCancelPanicAfterLaterIsNotTracked(t *testing.T) {
	checkNoPendingAttempts(t)
	e := newTestEngine(t)
	wf := newTestWorkflow(t, nil)
	var kept *Completion[Step]
	must(t, wf.RegisterFunc(Work, func(ctx *TaskContext) (Step, error) {
		done, err := Later[Step](ctx)
		if err != nil {
			return Failed, err
		}
		kept = done
		panic("after Later")
	}, WithMode(Async)))
	must(t, wf.AddExitState(Done))
	_, err := wf.Run(context.Background(), e, Work)
	wantCode(t, err, CodeTaskExecution, "panic: after Later")
	if n := pendingAttemptCount(); n != 0 {
		t.Fatalf("%d attempts still tracked after the body panicked", n)
	}
	must(t, e.Close())
	if kept == nil || closed(kept.Done()) {
		t.Fatal("the attempt that failed by its panic was told it was abandoned")
	}
}
