package cano

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// counterCursor is the cursor of the counting step functions.
type counterCursor struct {
	N int `json:"n"`
}

// counter counts 0..limit-1 in its cursor, failing once when it reaches failAt (when >= 0). It
// journals "step N attempt A@clock" per call, as the C tests do.
type counter struct {
	limit, failAt int
	failed        atomic.Bool
	log           journal
	cursors       journal
}

func (c *counter) step(ctx *TaskContext, cursor json.RawMessage) (StepResult[Step], error) {
	n := 0
	if cursor != nil {
		var cur counterCursor
		if err := json.Unmarshal(cursor, &cur); err != nil {
			return StepResult[Step]{}, err
		}
		n = cur.N
		c.cursors.add(string(cursor))
	} else {
		c.cursors.add("<none>")
	}
	c.log.add(fmt.Sprintf("step %d attempt %d@%v", n, ctx.Attempt(), ctx.Engine().Now()))
	if n == c.failAt && !c.failed.Swap(true) {
		return StepResult[Step]{}, NewError(CodeTaskExecution, "step failed")
	}
	if n+1 >= c.limit {
		return Finish(Done), nil
	}
	return More[Step](counterCursor{N: n + 1}), nil
}

// runStepped registers c.step for Work with register (RegisterStepped or RegisterStepLoop)
// and runs it to the end on a manual-clock engine.
func runSteps(t *testing.T, register func(*Workflow[Step]) error) RunResult[Step] {
	t.Helper()
	checkHandlesReleased(t)
	e := newManualEngine(t)
	wf := newTestWorkflow(t, nil)
	must(t, register(wf))
	must(t, wf.AddExitState(Done))
	_, ch := startRun(t, wf, e, Work)
	return awaitRun(t, e, ch)
}

func wantJournal(t *testing.T, j *journal, want ...string) {
	t.Helper()
	if got := j.get(); !equalStrings(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestSteppedCarriesTheCursorFromStepToStep(t *testing.T) {
	for _, mode := range []Mode{Inline, Worker, Async} {
		t.Run(mode.String(), func(t *testing.T) {
			c := &counter{limit: 4, failAt: -1}
			r := runSteps(t, func(wf *Workflow[Step]) error {
				return wf.RegisterStepped(Work, c.step, WithMode(mode))
			})
			if r.Err != nil || r.State != Done {
				t.Fatalf("run: %v, %v", r.State, r.Err)
			}
			wantJournal(t, &c.log, "step 0 attempt 1@0s", "step 1 attempt 1@0s", "step 2 attempt 1@0s",
				"step 3 attempt 1@0s")
			wantJournal(t, &c.cursors, "<none>", `{"n":1}`, `{"n":2}`, `{"n":3}`)
		})
	}
}

func TestSteppedRetriesEachStepWithTheSameCursor(t *testing.T) {
	c := &counter{limit: 4, failAt: 2}
	r := runSteps(t, func(wf *Workflow[Step]) error {
		return wf.RegisterStepped(Work, c.step, WithMode(Inline), WithRetry(RetryFixed(1, 50*time.Millisecond)))
	})
	must(t, r.Err)
	wantJournal(t, &c.log, "step 0 attempt 1@0s", "step 1 attempt 1@0s", "step 2 attempt 1@0s",
		"step 2 attempt 2@50ms", "step 3 attempt 1@50ms")
}

func TestStepLoopIsOneAttemptAndARetryRestarts(t *testing.T) {
	for _, mode := range []Mode{Inline, Worker} {
		t.Run(mode.String(), func(t *testing.T) {
			c := &counter{limit: 4, failAt: 2}
			r := runSteps(t, func(wf *Workflow[Step]) error {
				return wf.RegisterStepLoop(Work, c.step, WithMode(mode), WithRetry(RetryFixed(1, 50*time.Millisecond)))
			})
			must(t, r.Err)
			wantJournal(t, &c.log, "step 0 attempt 1@0s", "step 1 attempt 1@0s", "step 2 attempt 1@0s",
				"step 0 attempt 2@50ms", "step 1 attempt 2@50ms", "step 2 attempt 2@50ms", "step 3 attempt 2@50ms")
			wantJournal(t, &c.cursors, "<none>", `{"n":1}`, `{"n":2}`, "<none>", `{"n":1}`, `{"n":2}`, `{"n":3}`)
		})
	}
}

func TestSteppedFailedStepExhaustsItsRetries(t *testing.T) {
	var calls journal
	r := runSteps(t, func(wf *Workflow[Step]) error {
		return wf.RegisterStepped(Work, func(ctx *TaskContext, cursor json.RawMessage) (StepResult[Step], error) {
			calls.add(fmt.Sprintf("%s/%d", cursor, ctx.Attempt()))
			if cursor == nil {
				return More[Step]("x"), nil
			}
			return StepResult[Step]{}, errors.New("broken")
		}, WithMode(Inline), WithRetry(RetryFixed(2, 0)))
	})
	ce := wantCode(t, r.Err, CodeRetryExhausted, "Task failed after 3 attempt(s): Task execution error: broken")
	if ce.Cause == nil || ce.Cause.Attempt != 3 || ce.State != "Work" || r.State != Work {
		t.Fatalf("error %+v", ce)
	}
	wantJournal(t, &calls, "/1", `"x"/1`, `"x"/2`, `"x"/3`)
}

func TestSteppedDefaultPolicyIsPerStep(t *testing.T) {
	var calls atomic.Int32
	r := runSteps(t, func(wf *Workflow[Step]) error {
		return wf.RegisterStepped(Work, func(ctx *TaskContext, cursor json.RawMessage) (StepResult[Step], error) {
			calls.Add(1)
			if cursor == nil {
				return More[Step](1), nil
			}
			return StepResult[Step]{}, errors.New("always")
		}, WithMode(Inline))
	})
	wantCode(t, r.Err, CodeRetryExhausted, "Task failed after 4 attempt(s): Task execution error: always")
	if n := calls.Load(); n != 5 {
		t.Fatalf("%d calls, want 1 + 4", n)
	}
}

func TestSteppedFatalAndPanicAreNotRetried(t *testing.T) {
	for name, fail := range map[string]func() error{
		"fatal": func() error { return Fatal(NewError(CodeStore, "corrupt page")) },
		"panic": func() error { panic("step exploded") },
	} {
		t.Run(name, func(t *testing.T) {
			var calls atomic.Int32
			r := runSteps(t, func(wf *Workflow[Step]) error {
				return wf.RegisterStepped(Work, func(ctx *TaskContext, cursor json.RawMessage) (StepResult[Step], error) {
					calls.Add(1)
					if cursor == nil {
						return More[Step]([]int{1, 2}), nil
					}
					return StepResult[Step]{}, fail()
				}, WithMode(Inline), WithRetry(RetryFixed(3, 0)))
			})
			ce := asError(t, r.Err)
			if ce.Cause != nil || calls.Load() != 2 {
				t.Fatalf("%d calls, error %+v", calls.Load(), ce)
			}
			if name == "fatal" && (ce.Code != CodeStore || ce.Message != "corrupt page") ||
				name == "panic" && ce.Message != "panic: step exploded" {
				t.Fatalf("error %+v", ce)
			}
		})
	}
}

func TestSteppedAsyncStepsAnswerDirectlyOrLater(t *testing.T) {
	var seen journal
	r := runSteps(t, func(wf *Workflow[Step]) error {
		return wf.RegisterStepped(Work, func(ctx *TaskContext, cursor json.RawMessage) (StepResult[Step], error) {
			seen.add(string(cursor))
			if cursor == nil {
				return More[Step](json.RawMessage(`{"page":1}`)), nil
			}
			done, err := Later[Step](ctx)
			if err != nil {
				return StepResult[Step]{}, err
			}
			go func() { _ = done.Complete(Done) }()
			return StepResult[Step]{}, nil
		}, WithMode(Async))
	})
	if r.Err != nil || r.State != Done {
		t.Fatalf("run: %v, %v", r.State, r.Err)
	}
	wantJournal(t, &seen, "", `{"page":1}`)
}

func TestCursorsRawAndDecoded(t *testing.T) {
	var seen journal
	r := runSteps(t, func(wf *Workflow[Step]) error {
		return wf.RegisterStepped(Work, func(ctx *TaskContext, cursor json.RawMessage) (StepResult[Step], error) {
			raw, ok := ctx.Cursor()
			seen.add(fmt.Sprintf("%v:%q:%v", ok, raw, cursor == nil))
			switch {
			case !ok:
				return More[Step]([]byte{0, 1}), nil
			case len(raw) == 2:
				return More[Step]([]byte{}), nil
			case len(raw) == 0:
				return More[Step](map[string]any{"k": []any{1.5, nil, true, "✓"}}), nil
			}
			v, ok, err := CursorAs[map[string][]any](ctx)
			if err != nil || !ok || len(v["k"]) != 4 || v["k"][3] != "✓" {
				t.Errorf("CursorAs = %v, %v, %v", v, ok, err)
			}
			return Finish(Done), nil
		}, WithMode(Inline))
	})
	must(t, r.Err)
	wantJournal(t, &seen, `false:"":true`, `true:"\x00\x01":false`, `true:"":false`,
		`true:"{\"k\":[1.5,null,true,\"✓\"]}":false`)
}

func TestCursorErrors(t *testing.T) {
	t.Run("serialize", func(t *testing.T) {
		r := runSteps(t, func(wf *Workflow[Step]) error {
			return wf.RegisterStepped(Work, func(*TaskContext, json.RawMessage) (StepResult[Step], error) {
				return More[Step](func() {}), nil
			}, WithMode(Inline), WithRetry(RetryNone))
		})
		ce := wantCode(t, r.Err, CodeTaskExecution, "")
		wantContains(t, ce.Message, "serialize cursor for `Work`: json: unsupported type: func()")
	})
	t.Run("deserialize", func(t *testing.T) {
		r := runSteps(t, func(wf *Workflow[Step]) error {
			return wf.RegisterStepped(Work, func(ctx *TaskContext, cursor json.RawMessage) (StepResult[Step], error) {
				if cursor == nil {
					return More[Step]([]byte("not json")), nil
				}
				_, _, err := CursorAs[int](ctx)
				return StepResult[Step]{}, err
			}, WithMode(Inline), WithRetry(RetryNone), WithName("pages"))
		})
		ce := wantCode(t, r.Err, CodeTaskExecution, "")
		if !strings.HasPrefix(ce.Message, "deserialize cursor for `pages`: ") {
			t.Fatalf("message %q", ce.Message)
		}
	})
}

func TestManySynchronousSteps(t *testing.T) {
	r := runSteps(t, func(wf *Workflow[Step]) error {
		return wf.RegisterStepped(Work, func(ctx *TaskContext, _ json.RawMessage) (StepResult[Step], error) {
			n, _, err := CursorAs[int](ctx)
			if err != nil || n+1 >= 3000 {
				return Finish(Done), err
			}
			return More[Step](n + 1), nil
		}, WithMode(Inline))
	})
	must(t, r.Err)
}

func TestABodyWithoutStepsHasNoCursor(t *testing.T) {
	e := newTestEngine(t)
	wf := newTestWorkflow(t, nil)
	var seen atomic.Bool
	must(t, wf.RegisterFunc(Work, func(ctx *TaskContext) (Step, error) {
		raw, ok := ctx.Cursor()
		_, found, err := CursorAs[int](ctx)
		seen.Store(!ok && raw == nil && !found && err == nil)
		return Done, nil
	}, WithMode(Inline)))
	must(t, wf.AddExitState(Done))
	if _, err := wf.Wait(e, Work); err != nil || !seen.Load() {
		t.Fatalf("err %v, no cursor %v", err, seen.Load())
	}
	closed := &TaskContext{}
	if raw, ok := closed.Cursor(); ok || raw != nil {
		t.Fatal("a closed context has a cursor")
	}
}

func TestSteppedOptionsAndResults(t *testing.T) {
	wf := newTestWorkflow(t, nil)
	wantCode(t, wf.RegisterStepped(Work, nil), CodeInvalidArgument, "RegisterStepped needs a function")
	wantCode(t, wf.RegisterStepLoop(Work, nil), CodeInvalidArgument, "RegisterStepLoop needs a function")
	step := func(*TaskContext, json.RawMessage) (StepResult[Step], error) { return Finish(Done), nil }
	wantCode(t, wf.RegisterStepped(Work, step, WithPollPolicy(FailFast)), CodeInvalidArgument, "")
	more, done, bad := More[Step](map[string]int{"a": 1}), Finish(Done), More[Step](make(chan int))
	if !more.IsMore() || string(more.Cursor()) != `{"a":1}` || more.Err() != nil || more.String() != `More({"a":1})` ||
		done.IsMore() || done.Next() != Done || done.Cursor() != nil || done.String() != "Finish(Done)" ||
		(StepResult[Step]{}).IsMore() || bad.Err() == nil || bad.Cursor() != nil ||
		!strings.HasPrefix(bad.String(), "More(<json: unsupported type") {
		t.Errorf("StepResult accessors: %v %v %v", more, done, bad)
	}
	raw := []byte("abc")
	copied := More[Step](raw)
	raw[0] = 'x'
	if string(copied.Cursor()) != "abc" {
		t.Error("More keeps the caller's slice")
	}
}

// ---- timer tasks ----------------------------------------------------------------------------

// afterWait is a timer body that journals the clock and fails the attempts in fail.
type afterWait struct {
	fail  map[int]bool
	times journal
}

func (a *afterWait) run(ctx *TaskContext) (Step, error) {
	a.times.add(ctx.Engine().Now().String())
	if a.fail[ctx.Attempt()] {
		return Work, fmt.Errorf("attempt %d", ctx.Attempt())
	}
	return Done, nil
}

// runTimer registers a at Work with timer and opts and runs it on a manual-clock engine,
// after moving the clock to start.
func runTimer(t *testing.T, a *afterWait, timer Timer, start time.Duration, opts ...TaskOption) RunResult[Step] {
	t.Helper()
	checkHandlesReleased(t)
	e := newManualEngine(t)
	must(t, e.Advance(start))
	wf := newTestWorkflow(t, nil)
	must(t, wf.RegisterTimer(Work, a.run, timer, opts...))
	must(t, wf.AddExitState(Done))
	_, ch := startRun(t, wf, e, Work)
	return awaitRun(t, e, ch)
}

func TestTimerWaitsItsDelayThenRunsTheBody(t *testing.T) {
	for _, mode := range []Mode{Inline, Worker, Async} {
		t.Run(mode.String(), func(t *testing.T) {
			a := &afterWait{}
			r := runTimer(t, a, TimerDelay(250*time.Millisecond), 0, WithMode(mode))
			if r.Err != nil || r.State != Done {
				t.Fatalf("run: %v, %v", r.State, r.Err)
			}
			wantJournal(t, &a.times, "250ms")
		})
	}
	t.Run("rounded-up", func(t *testing.T) {
		a := &afterWait{}
		must(t, runTimer(t, a, TimerDelay(1500*time.Microsecond), 0).Err)
		wantJournal(t, &a.times, "2ms")
	})
}

func TestTimerWaitsUntilAClockReading(t *testing.T) {
	a := &afterWait{}
	must(t, runTimer(t, a, TimerUntil(400*time.Millisecond), 0, WithMode(Inline)).Err)
	wantJournal(t, &a.times, "400ms")
	// A reading in the past waits no time.
	b := &afterWait{}
	must(t, runTimer(t, b, TimerUntil(500*time.Millisecond), time.Second, WithMode(Inline)).Err)
	wantJournal(t, &b.times, "1s")
}

func TestTimerWaitDecidesEachAttempt(t *testing.T) {
	a := &afterWait{fail: map[int]bool{1: true}}
	var decided journal
	r := runTimer(t, a, TimerWait(func(ctx *TaskContext) (Wait, error) {
		decided.add(fmt.Sprintf("%d loop=%v", ctx.Attempt(), ctx.Engine().OnLoopThread()))
		if ctx.Attempt() == 1 {
			return WaitFor(100 * time.Millisecond), nil
		}
		return WaitUntil(time.Second), nil
	}), 0, WithRetry(RetryFixed(1, 0)))
	must(t, r.Err)
	wantJournal(t, &a.times, "100ms", "1s")
	wantJournal(t, &decided, "1 loop=true", "2 loop=true")
}

func TestTimerDefaultsToOneAttempt(t *testing.T) {
	for name, opts := range map[string][]TaskOption{
		"absent":        {WithMode(Inline)},
		"retry-default": {WithMode(Inline), WithRetry(RetryDefault)},
	} {
		t.Run(name, func(t *testing.T) {
			a := &afterWait{fail: map[int]bool{1: true, 2: true, 3: true, 4: true}}
			r := runTimer(t, a, TimerDelay(10*time.Millisecond), 0, opts...)
			ce := wantCode(t, r.Err, CodeTaskExecution, "attempt 1")
			if ce.Cause != nil || len(a.times.get()) != 1 {
				t.Fatalf("calls %q, error %+v", a.times.get(), ce)
			}
		})
	}
	t.Run("a-retry-waits-again", func(t *testing.T) {
		a := &afterWait{fail: map[int]bool{1: true}}
		must(t, runTimer(t, a, TimerDelay(100*time.Millisecond), 0, WithRetry(RetryFixed(1, 50*time.Millisecond))).Err)
		wantJournal(t, &a.times, "100ms", "250ms")
	})
}

func TestTimerAttemptTimeoutBoundsTheWait(t *testing.T) {
	a := &afterWait{}
	r := runTimer(t, a, TimerDelay(500*time.Millisecond), 0, WithAttemptTimeout(100*time.Millisecond))
	ce := wantCode(t, r.Err, CodeTimeout, "task attempt exceeded attempt_timeout")
	if ce.Cause != nil || len(a.times.get()) != 0 {
		t.Fatalf("calls %q, error %+v", a.times.get(), ce)
	}
	r = runTimer(t, a, TimerDelay(500*time.Millisecond), 0, WithAttemptTimeout(100*time.Millisecond),
		WithRetry(RetryFixed(1, 0)))
	wantCode(t, r.Err, CodeRetryExhausted,
		"Task failed after 2 attempt(s): Timeout error: task attempt exceeded attempt_timeout")
	if len(a.times.get()) != 0 {
		t.Fatalf("the body ran: %q", a.times.get())
	}
}

func TestTimerWaitFailures(t *testing.T) {
	t.Run("error", func(t *testing.T) {
		a := &afterWait{}
		r := runTimer(t, a, TimerWait(func(*TaskContext) (Wait, error) { return Wait{}, errors.New("no clock") }), 0)
		ce := wantCode(t, r.Err, CodeTaskExecution, "no clock")
		if ce.State != "Work" || ce.Attempt != 1 || len(a.times.get()) != 0 {
			t.Fatalf("calls %q, error %+v", a.times.get(), ce)
		}
	})
	t.Run("code-kept", func(t *testing.T) {
		r := runTimer(t, &afterWait{}, TimerWait(func(*TaskContext) (Wait, error) {
			return Wait{}, NewError(CodeResourceNotFound, "no clock")
		}), 0)
		wantCode(t, r.Err, CodeResourceNotFound, "no clock")
	})
	t.Run("retried", func(t *testing.T) {
		a := &afterWait{}
		var calls atomic.Int32
		r := runTimer(t, a, TimerWait(func(ctx *TaskContext) (Wait, error) {
			calls.Add(1)
			if ctx.Attempt() == 1 {
				return Wait{}, errors.New("not yet")
			}
			return WaitFor(20 * time.Millisecond), nil
		}), 0, WithRetry(RetryFixed(2, 10*time.Millisecond)))
		must(t, r.Err)
		if calls.Load() != 2 {
			t.Fatalf("%d wait calls", calls.Load())
		}
		wantJournal(t, &a.times, "30ms")
	})
	for name, fail := range map[string]func() (Wait, error){
		"fatal": func() (Wait, error) { return Wait{}, Fatal(NewError(CodeStore, "gone")) },
		"panic": func() (Wait, error) { panic("wait exploded") },
	} {
		t.Run(name, func(t *testing.T) {
			var calls atomic.Int32
			r := runTimer(t, &afterWait{}, TimerWait(func(*TaskContext) (Wait, error) {
				calls.Add(1)
				return fail()
			}), 0, WithRetry(RetryFixed(2, 0)))
			ce := asError(t, r.Err)
			if ce.Cause != nil || calls.Load() != 1 ||
				name == "fatal" && (ce.Code != CodeStore || ce.Message != "gone") ||
				name == "panic" && ce.Message != "panic: wait exploded" {
				t.Fatalf("%d calls, error %+v", calls.Load(), ce)
			}
		})
	}
	t.Run("later-is-refused", func(t *testing.T) {
		r := runTimer(t, &afterWait{}, TimerWait(func(ctx *TaskContext) (Wait, error) {
			_, err := Later[Step](ctx)
			return Wait{}, err
		}), 0, WithMode(Async))
		wantCode(t, r.Err, CodeBadState, "Later needs a task registered with cano.Async")
	})
}

func TestTimerOptionsAndValues(t *testing.T) {
	wf := newTestWorkflow(t, nil)
	wantCode(t, wf.RegisterTimer(Work, nil, TimerDelay(0)), CodeInvalidArgument, "RegisterTimer needs a function")
	body := func(*TaskContext) (Step, error) { return Done, nil }
	wantCode(t, wf.RegisterTimer(Work, body, TimerDelay(0), WithPollPolicy(FailFast)), CodeInvalidArgument, "")
	if TimerDelay(time.Second).String() != "Delay(1s)" || TimerUntil(2*time.Second).String() != "Until(2s)" ||
		TimerWait(func(*TaskContext) (Wait, error) { return Wait{}, nil }).String() != "Wait(func)" ||
		(Timer{}).String() != "Delay(0s)" {
		t.Error("Timer strings")
	}
	f, u := WaitFor(time.Second), WaitUntil(3*time.Second)
	if f.IsUntil() || f.Duration() != time.Second || f.String() != "WaitFor(1s)" ||
		!u.IsUntil() || u.Duration() != 3*time.Second || u.String() != "WaitUntil(3s)" || (Wait{}).String() != "WaitFor(0s)" {
		t.Error("Wait accessors")
	}
}
