package cano

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Batch tests register the batch task at Work; Done and Failed are exit states.

// numbers loads the items 0..n-1 and counts its calls.
func numbers(n int, calls *atomic.Int32) func(*TaskContext) ([]int, error) {
	return func(*TaskContext) ([]int, error) {
		if calls != nil {
			calls.Add(1)
		}
		items := make([]int, n)
		for i := range items {
			items[i] = i
		}
		return items, nil
	}
}

// squareItem squares its item as text.
func squareItem(_ *TaskContext, n int) (string, error) { return strconv.Itoa(n * n), nil }

// describeResults renders results as "ok V" or "err CODE TASK: MESSAGE", one per item.
func describeResults[O any](t testing.TB, results []ItemResult[O]) []string {
	t.Helper()
	out := make([]string, len(results))
	for i, r := range results {
		if r.Index != i {
			t.Errorf("results[%d].Index = %d", i, r.Index)
		}
		if r.OK() {
			out[i] = fmt.Sprintf("ok %v", r.Value)
			continue
		}
		e := asError(t, r.Err)
		out[i] = fmt.Sprintf("err %v %s: %s", e.Code, e.Task, e.Message)
	}
	return out
}

// recordingFinish records what it saw and goes to Done when every item succeeded, else to
// Failed.
type recordingFinish[O any] struct {
	mu    sync.Mutex
	seen  []string
	calls atomic.Int32
}

func (f *recordingFinish[O]) finish(t testing.TB) func(*TaskContext, []ItemResult[O]) (Step, error) {
	return func(ctx *TaskContext, results []ItemResult[O]) (Step, error) {
		f.calls.Add(1)
		seen := describeResults(t, results)
		f.mu.Lock()
		f.seen = seen
		f.mu.Unlock()
		for _, r := range results {
			if !r.OK() {
				return Failed, nil
			}
		}
		return Done, nil
	}
}

func (f *recordingFinish[O]) get() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.seen...)
}

// runBatch runs a workflow from Work on e and returns how it ended.
func runBatch(t *testing.T, e *Engine, wf *Workflow[Step]) RunResult[Step] {
	t.Helper()
	must(t, wf.AddExitState(Done, Failed))
	_, ch := startRun(t, wf, e, Work)
	return awaitRun(t, e, ch)
}

func TestBatchFinishSeesOutputsInInputOrder(t *testing.T) {
	checkHandlesReleased(t)
	for _, mode := range []Mode{Worker, Inline} {
		t.Run(mode.String(), func(t *testing.T) {
			e := newTestEngine(t, WithWorkers(4))
			wf := newTestWorkflow(t, nil)
			var rec recordingFinish[string]
			var mu sync.Mutex
			var completed []int // the order in which items finished
			process := func(ctx *TaskContext, n int) (string, error) {
				if index, ok := ctx.BatchIndex(); !ok || index != n {
					return "", fmt.Errorf("BatchIndex = %d, %v for item %d", index, ok, n)
				}
				// On workers item 0 takes longest, so the others finish before it.
				if mode == Worker && n == 0 {
					time.Sleep(50 * time.Millisecond)
				}
				mu.Lock()
				completed = append(completed, n)
				mu.Unlock()
				return squareItem(ctx, n)
			}
			must(t, RegisterBatch(wf, Work, numbers(10, nil), process, rec.finish(t),
				WithMode(mode), WithConcurrency(3)))
			r := runBatch(t, e, wf)
			if r.Err != nil || r.State != Done {
				t.Fatalf("run = %v, %v", r.State, r.Err)
			}
			var want []string
			for i := 0; i < 10; i++ {
				want = append(want, fmt.Sprintf("ok %d", i*i))
			}
			if got := rec.get(); !equalStrings(got, want) {
				t.Fatalf("finish saw %q, want %q", got, want)
			}
			mu.Lock()
			defer mu.Unlock()
			if mode == Worker && (len(completed) != 10 || completed[0] == 0) {
				t.Fatalf("items completed in the order %v: item 0 should have been overtaken", completed)
			}
			if mode == Inline && !sort.IntsAreSorted(completed) {
				t.Fatalf("inline items completed in the order %v", completed)
			}
		})
	}
}

func TestBatchItemFailureIsVisibleInFinish(t *testing.T) {
	checkHandlesReleased(t)
	for _, mode := range []Mode{Worker, Inline} {
		t.Run(mode.String(), func(t *testing.T) {
			e := newTestEngine(t)
			wf := newTestWorkflow(t, nil)
			var rec recordingFinish[string]
			process := func(ctx *TaskContext, n int) (string, error) {
				switch n {
				case 1:
					return "", errors.New("odd one")
				case 2:
					return "", NewError(CodeStore, "no space")
				}
				return squareItem(ctx, n)
			}
			// The task's own retries are not used for item failures: one finish call.
			must(t, RegisterBatch(wf, Work, numbers(4, nil), process, rec.finish(t),
				WithMode(mode), WithRetry(RetryFixed(3, 0))))
			r := runBatch(t, e, wf)
			if r.Err != nil || r.State != Failed {
				t.Fatalf("run = %v, %v; want Failed (chosen by finish), no error", r.State, r.Err)
			}
			want := []string{"ok 0", "err TASK_EXECUTION Work[1]: odd one", "err STORE Work[2]: no space", "ok 9"}
			if got := rec.get(); !equalStrings(got, want) {
				t.Fatalf("finish saw %q, want %q", got, want)
			}
			if rec.calls.Load() != 1 {
				t.Fatalf("finish calls = %d", rec.calls.Load())
			}
		})
	}
}

func TestBatchItemRetriesReturnTheRawLastError(t *testing.T) {
	checkHandlesReleased(t)
	e := newManualEngine(t)
	wf := newTestWorkflow(t, nil)
	var rec recordingFinish[string]
	var calls journal
	process := func(ctx *TaskContext, n int) (string, error) {
		calls.add(fmt.Sprintf("%d#%d@%v", n, ctx.Attempt(), e.Now()))
		// Item 0 succeeds on its third attempt; item 1 never does.
		if n == 0 && ctx.Attempt() == 3 {
			return squareItem(ctx, n)
		}
		return "", NewError(CodeStore, fmt.Sprintf("attempt %d", ctx.Attempt()))
	}
	must(t, RegisterBatch(wf, Work, numbers(2, nil), process, rec.finish(t), WithMode(Inline),
		WithItemRetry(RetryFixed(2, 50*time.Millisecond))))
	r := runBatch(t, e, wf)
	if r.Err != nil || r.State != Failed {
		t.Fatalf("run = %v, %v", r.State, r.Err)
	}
	// No RetryExhausted wrapping, as cano's item retry loop: the raw last error.
	want := []string{"ok 0", "err STORE Work[1]: attempt 3"}
	if got := rec.get(); !equalStrings(got, want) {
		t.Fatalf("finish saw %q, want %q", got, want)
	}
	// Concurrency 1: item 1 waits for item 0's retries (two delays of 50 ms).
	wantCalls := []string{"0#1@0s", "0#2@50ms", "0#3@100ms", "1#1@100ms", "1#2@150ms", "1#3@200ms"}
	if got := calls.get(); !equalStrings(got, wantCalls) {
		t.Fatalf("item calls = %q, want %q", got, wantCalls)
	}
}

func TestBatchItemRetryDefaultIsOneAttempt(t *testing.T) {
	e := newTestEngine(t)
	for _, opts := range [][]TaskOption{nil, {WithItemRetry(RetryDefault)}} {
		wf := newTestWorkflow(t, nil)
		var attempts atomic.Int32
		process := func(*TaskContext, int) (string, error) {
			attempts.Add(1)
			return "", errors.New("no")
		}
		var rec recordingFinish[string]
		must(t, RegisterBatch(wf, Work, numbers(1, nil), process, rec.finish(t), opts...))
		r := runBatch(t, e, wf)
		if r.Err != nil || attempts.Load() != 1 {
			t.Fatalf("run = %v; item attempts = %d, want 1", r.Err, attempts.Load())
		}
	}
}

func TestBatchLoadFailureGoesThroughTheTaskRetries(t *testing.T) {
	checkHandlesReleased(t)
	e := newTestEngine(t)
	wf := newTestWorkflow(t, nil)
	var loads, items atomic.Int32
	load := func(ctx *TaskContext) ([]int, error) {
		if loads.Add(1) == 1 {
			return nil, errors.New("source down")
		}
		return []int{1, 2}, nil
	}
	process := func(ctx *TaskContext, n int) (string, error) {
		items.Add(1)
		return squareItem(ctx, n)
	}
	var rec recordingFinish[string]
	must(t, RegisterBatch(wf, Work, load, process, rec.finish(t), WithRetry(RetryFixed(1, 0))))
	r := runBatch(t, e, wf)
	if r.Err != nil || r.State != Done {
		t.Fatalf("run = %v, %v", r.State, r.Err)
	}
	if loads.Load() != 2 || items.Load() != 2 || rec.calls.Load() != 1 {
		t.Fatalf("loads %d, items %d, finish calls %d; want 2, 2, 1", loads.Load(), items.Load(), rec.calls.Load())
	}

	// Without retries the load's error fails the run, and finish never runs.
	wf = newTestWorkflow(t, nil)
	var rec2 recordingFinish[string]
	failing := func(*TaskContext) ([]int, error) { return nil, NewError(CodeStore, "source down") }
	must(t, RegisterBatch(wf, Work, failing, squareItem, rec2.finish(t), WithRetry(RetryNone)))
	r = runBatch(t, e, wf)
	err := wantCode(t, r.Err, CodeStore, "source down")
	if err.State != "Work" || err.Attempt != 1 || rec2.calls.Load() != 0 {
		t.Fatalf("error %+v, finish calls %d", err, rec2.calls.Load())
	}

	// With retries that run out: RetryExhausted wrapping the last load error, as any task.
	wf = newTestWorkflow(t, nil)
	must(t, RegisterBatch(wf, Work, failing, squareItem, rec2.finish(t), WithRetry(RetryFixed(1, 0))))
	r = runBatch(t, e, wf)
	err = wantCode(t, r.Err, CodeRetryExhausted, "")
	if !errors.Is(r.Err, ErrStore) || err.Cause == nil || err.Cause.Message != "source down" {
		t.Fatalf("error %v", r.Err)
	}
}

func TestBatchFinishFailureRunsLoadAgain(t *testing.T) {
	checkHandlesReleased(t)
	e := newTestEngine(t)
	wf := newTestWorkflow(t, nil)
	var loads, items, finishes atomic.Int32
	process := func(ctx *TaskContext, n int) (string, error) {
		items.Add(1)
		return squareItem(ctx, n)
	}
	finish := func(ctx *TaskContext, results []ItemResult[string]) (Step, error) {
		if finishes.Add(1) == 1 {
			return Failed, errors.New("sink down")
		}
		if len(results) != 3 {
			return Failed, fmt.Errorf("%d results", len(results))
		}
		return Done, nil
	}
	must(t, RegisterBatch(wf, Work, numbers(3, &loads), process, finish, WithRetry(RetryFixed(2, 0))))
	r := runBatch(t, e, wf)
	if r.Err != nil || r.State != Done {
		t.Fatalf("run = %v, %v", r.State, r.Err)
	}
	if loads.Load() != 2 || items.Load() != 6 || finishes.Load() != 2 {
		t.Fatalf("loads %d, items %d, finishes %d; want 2, 6, 2", loads.Load(), items.Load(), finishes.Load())
	}
}

func TestBatchPanicInAnItemFailsTheTask(t *testing.T) {
	checkHandlesReleased(t)
	e := newTestEngine(t)
	for _, c := range []struct {
		name    string
		fail    func() (string, error)
		code    Code
		message string
	}{
		{"panic", func() (string, error) { panic("boom") }, CodeTaskExecution, "panic: boom"},
		{"fatal", func() (string, error) { return "", Fatal(NewError(CodeStore, "broken")) }, CodeStore, "broken"},
	} {
		t.Run(c.name, func(t *testing.T) {
			wf := newTestWorkflow(t, nil)
			var loads atomic.Int32
			var rec recordingFinish[string]
			process := func(ctx *TaskContext, n int) (string, error) {
				if n == 2 {
					return c.fail()
				}
				return squareItem(ctx, n)
			}
			// Neither the task's retries nor the item's apply.
			must(t, RegisterBatch(wf, Work, numbers(5, &loads), process, rec.finish(t),
				WithRetry(RetryFixed(3, 0)), WithItemRetry(RetryFixed(3, 0))))
			r := runBatch(t, e, wf)
			err := wantCode(t, r.Err, c.code, c.message)
			if err.Cause != nil || loads.Load() != 1 || rec.calls.Load() != 0 {
				t.Fatalf("error %v (cause %v), loads %d, finish calls %d", err, err.Cause, loads.Load(), rec.calls.Load())
			}
		})
	}
	// A panic in load or finish fails the task at once too.
	for _, where := range []string{"load", "finish"} {
		wf := newTestWorkflow(t, nil)
		var loads atomic.Int32
		load := func(ctx *TaskContext) ([]int, error) {
			loads.Add(1)
			if where == "load" {
				panic("no items")
			}
			return []int{1}, nil
		}
		finish := func(*TaskContext, []ItemResult[string]) (Step, error) { panic("no sink") }
		must(t, RegisterBatch(wf, Work, load, squareItem, finish, WithRetry(RetryFixed(3, 0))))
		r := runBatch(t, e, wf)
		want := map[string]string{"load": "panic: no items", "finish": "panic: no sink"}[where]
		wantCode(t, r.Err, CodeTaskExecution, want)
		if loads.Load() != 1 {
			t.Fatalf("%s: loads = %d, want 1 (no retry)", where, loads.Load())
		}
	}
}

func TestBatchEmpty(t *testing.T) {
	checkHandlesReleased(t)
	e := newTestEngine(t)
	wf := newTestWorkflow(t, nil)
	var items atomic.Int32
	var got []ItemResult[string]
	finishCalls := 0
	process := func(ctx *TaskContext, n int) (string, error) {
		items.Add(1)
		return squareItem(ctx, n)
	}
	must(t, RegisterBatch(wf, Work, func(*TaskContext) ([]int, error) { return nil, nil }, process,
		func(_ *TaskContext, results []ItemResult[string]) (Step, error) {
			finishCalls++
			got = results
			return Done, nil
		}, WithMode(Inline)))
	r := runBatch(t, e, wf)
	if r.Err != nil || r.State != Done || items.Load() != 0 || finishCalls != 1 || got == nil || len(got) != 0 {
		t.Fatalf("run = %v, %v; items %d, finish calls %d, results %v", r.State, r.Err, items.Load(), finishCalls, got)
	}
}

func TestBatchConcurrencyLimit(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			// Four workers, so that only the batch's limit holds items back.
			e := newTestEngine(t, WithWorkers(4))
			wf := newTestWorkflow(t, nil)
			var gauge concurrencyGauge
			process := func(ctx *TaskContext, item int) (string, error) {
				gauge.enter()
				time.Sleep(3 * time.Millisecond)
				gauge.leave()
				return squareItem(ctx, item)
			}
			var rec recordingFinish[string]
			must(t, RegisterBatch(wf, Work, numbers(12, nil), process, rec.finish(t), WithConcurrency(n)))
			r := runBatch(t, e, wf)
			if r.Err != nil || len(rec.get()) != 12 {
				t.Fatalf("run = %v; finish saw %d results", r.Err, len(rec.get()))
			}
			limit := n
			if limit == 0 {
				limit = 1 // cano clamps 0 to 1
			}
			if int(gauge.peak.Load()) != limit {
				t.Fatalf("peak concurrency = %d, want %d", gauge.peak.Load(), limit)
			}
		})
	}
}

func TestBatchBadArguments(t *testing.T) {
	checkHandlesReleased(t)
	wf := newTestWorkflow(t, nil)
	load := numbers(1, nil)
	var rec recordingFinish[string]
	finish := rec.finish(t)
	check := func(err error, message string) {
		t.Helper()
		wantCode(t, err, CodeInvalidArgument, message)
		if !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("%v is not ErrInvalidArgument", err)
		}
	}
	const where = `RegisterBatch: the batch task for state "Work"`
	check(RegisterBatch(wf, Work, nil, squareItem, finish), where+" has no load function")
	check(RegisterBatch(wf, Work, load, nil, finish), where+" has no process function")
	check(RegisterBatch[Step, int, string](wf, Work, load, squareItem, nil), where+" has no finish function")
	check(RegisterBatch(wf, Work, load, squareItem, finish, WithMode(Async)),
		where+" cannot be Async (use Worker or Inline)")
	check(RegisterBatch(wf, Work, load, squareItem, finish, WithConcurrency(-2)),
		where+" has a negative concurrency (-2)")
	check(RegisterBatch(wf, Work, load, squareItem, finish, WithPollPolicy(FailFast)),
		"WithPollPolicy applies to poll tasks (RegisterPoll) only")
	check(RegisterBatch(wf, Work, load, squareItem, finish, WithOnCancel(func(uint64) {})),
		"WithOnCancel applies to Async tasks and branches only (the engine tells only pending async attempts)")
	check(RegisterBatch[Step, int, string](nil, Work, load, squareItem, finish), "RegisterBatch needs a workflow")
	// The batch options belong to RegisterBatch.
	body := func(*TaskContext) (Step, error) { return Done, nil }
	check(wf.RegisterFunc(Work, body, WithConcurrency(2)), "WithConcurrency applies to batch tasks (RegisterBatch) only")
	check(wf.RegisterFunc(Work, body, WithItemRetry(RetryNone)), "WithItemRetry applies to batch tasks (RegisterBatch) only")
	check(wf.RegisterSplit(Work, []Branch{NewBranch(func(*TaskContext) ([]byte, error) { return nil, nil },
		WithConcurrency(1))}, JoinAll(), Done), "WithConcurrency applies to batch tasks (RegisterBatch) only")
	// A frozen or closed workflow refuses it as any registration.
	must(t, RegisterBatch(wf, Work, load, squareItem, finish))
	must(t, wf.AddExitState(Done, Failed))
	e := newTestEngine(t)
	final, err := wf.Run(context.Background(), e, Work)
	if err != nil || final != Done {
		t.Fatalf("run = %v, %v", final, err)
	}
	wantCode(t, RegisterBatch(wf, Work, load, squareItem, finish), CodeBadState, "")
	wf.Close()
	wantCode(t, RegisterBatch(wf, Work, load, squareItem, finish), CodeBadState, "the workflow is closed")
}

func TestBatchIndexOutsideItems(t *testing.T) {
	e := newTestEngine(t)
	wf := newTestWorkflow(t, nil)
	var outside journal
	note := func(where string, ctx *TaskContext) {
		if i, ok := ctx.BatchIndex(); ok {
			outside.add(fmt.Sprintf("%s saw index %d", where, i))
		}
	}
	must(t, RegisterBatch(wf, Work, func(ctx *TaskContext) ([]int, error) {
		note("load", ctx)
		return []int{7}, nil
	}, squareItem, func(ctx *TaskContext, _ []ItemResult[string]) (Step, error) {
		note("finish", ctx)
		return Done, nil
	}))
	must(t, wf.RegisterFunc(Start, func(ctx *TaskContext) (Step, error) {
		note("a plain task", ctx)
		return Work, nil
	}))
	must(t, wf.AddExitState(Done))
	if _, err := wf.Run(context.Background(), e, Start); err != nil {
		t.Fatal(err)
	}
	if got := outside.get(); len(got) != 0 {
		t.Fatalf("BatchIndex answered outside items: %q", got)
	}
}

func TestBatchAttemptTimeoutBoundsTheWholeBatch(t *testing.T) {
	e := newManualEngine(t)
	wf := newTestWorkflow(t, nil)
	var rec recordingFinish[string]
	var attempts atomic.Int32
	process := func(*TaskContext, int) (string, error) {
		attempts.Add(1)
		return "", errors.New("not yet")
	}
	must(t, RegisterBatch(wf, Work, numbers(2, nil), process, rec.finish(t), WithMode(Inline),
		WithItemRetry(RetryFixed(5, 100*time.Millisecond)), WithAttemptTimeout(250*time.Millisecond),
		WithRetry(RetryNone)))
	r := runBatch(t, e, wf)
	wantCode(t, r.Err, CodeTimeout, "task attempt exceeded attempt_timeout")
	// Item 0's attempts at 0, 100 and 200 ms; the timeout at 250 ms ends the batch.
	if rec.calls.Load() != 0 || attempts.Load() != 3 {
		t.Fatalf("finish calls %d, item attempts %d", rec.calls.Load(), attempts.Load())
	}
}

func TestBatchCancellingTheRunStopsItsItems(t *testing.T) {
	e := newTestEngine(t)
	wf := newTestWorkflow(t, nil)
	var started atomic.Int32
	var rec recordingFinish[string]
	process := func(ctx *TaskContext, n int) (string, error) {
		started.Add(1)
		for !ctx.Cancelled() {
			time.Sleep(100 * time.Microsecond)
		}
		return "", errors.New("cancelled")
	}
	must(t, RegisterBatch(wf, Work, numbers(10, nil), process, rec.finish(t), WithConcurrency(2)))
	must(t, wf.AddExitState(Done, Failed))
	id, ch := startRun(t, wf, e, Work)
	waitFor(t, "two items to start", func() bool { return started.Load() == 2 })
	must(t, e.Cancel(id))
	r := <-ch
	wantCode(t, r.Err, CodeCancelled, "")
	if started.Load() != 2 || rec.calls.Load() != 0 {
		t.Fatalf("items started %d, finish calls %d", started.Load(), rec.calls.Load())
	}
}
