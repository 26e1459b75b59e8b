package cano

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// pollScript is a poll body that answers from a script, one entry per call: "p<ms>" is
// Pending(ms), "e" an error ("not ready <n>"), "r" Ready(Done); the last entry repeats. It
// journals "<attempt>@<clock>" per call.
type pollScript struct {
	script []string
	calls  atomic.Int32
	log    journal
}

func (p *pollScript) poll(ctx *TaskContext) (PollResult[Step], error) {
	n := int(p.calls.Add(1))
	p.log.add(fmt.Sprintf("%d@%v", ctx.Attempt(), ctx.Engine().Now()))
	entry := p.script[len(p.script)-1]
	if n <= len(p.script) {
		entry = p.script[n-1]
	}
	switch {
	case entry == "r":
		return Ready(Done), nil
	case entry == "e":
		return PollResult[Step]{}, fmt.Errorf("not ready %d", n)
	default:
		var ms int
		fmt.Sscanf(entry, "p%d", &ms)
		return Pending[Step](time.Duration(ms) * time.Millisecond), nil
	}
}

// runPoll registers script at Work (with opts) and runs it on a manual-clock engine.
func runPoll(t *testing.T, script []string, opts ...TaskOption) (*pollScript, RunResult[Step]) {
	t.Helper()
	checkHandlesReleased(t)
	e := newManualEngine(t)
	wf := newTestWorkflow(t, nil)
	p := &pollScript{script: script}
	must(t, wf.RegisterPoll(Work, p.poll, opts...))
	must(t, wf.AddExitState(Done))
	_, ch := startRun(t, wf, e, Work)
	return p, awaitRun(t, e, ch)
}

func wantLog(t *testing.T, p *pollScript, want ...string) {
	t.Helper()
	if got := p.log.get(); !equalStrings(got, want) {
		t.Fatalf("calls %q, want %q", got, want)
	}
}

func TestPollRepollsAfterEachDelay(t *testing.T) {
	for _, mode := range []Mode{Inline, Worker, Async} {
		t.Run(mode.String(), func(t *testing.T) {
			p, r := runPoll(t, []string{"p100", "p250", "p0", "r"}, WithMode(mode))
			if r.Err != nil || r.State != Done {
				t.Fatalf("run: %v, %v", r.State, r.Err)
			}
			// One attempt; a zero delay re-polls on the loop's next turn, at the same time.
			wantLog(t, p, "1@0s", "1@100ms", "1@350ms", "1@350ms")
		})
	}
}

func TestPollDelayRoundsUpToMilliseconds(t *testing.T) {
	checkHandlesReleased(t)
	e := newManualEngine(t)
	wf := newTestWorkflow(t, nil)
	var times journal
	var calls atomic.Int32
	must(t, wf.RegisterPoll(Work, func(ctx *TaskContext) (PollResult[Step], error) {
		times.add(ctx.Engine().Now().String())
		switch calls.Add(1) {
		case 1:
			return Pending[Step](1500 * time.Microsecond), nil
		case 2:
			return Pending[Step](-time.Second), nil // negative: at once
		}
		return Ready(Done), nil
	}, WithMode(Inline)))
	must(t, wf.AddExitState(Done))
	_, ch := startRun(t, wf, e, Work)
	r := awaitRun(t, e, ch)
	must(t, r.Err)
	if want := []string{"0s", "2ms", "2ms"}; !equalStrings(times.get(), want) {
		t.Fatalf("times %q, want %q", times.get(), want)
	}
}

func TestPollFailFast(t *testing.T) {
	for name, opts := range map[string][]TaskOption{
		"default":  {WithMode(Inline)},
		"explicit": {WithMode(Inline), WithPollPolicy(FailFast)},
	} {
		t.Run(name, func(t *testing.T) {
			p, r := runPoll(t, []string{"p10", "e", "r"}, opts...)
			// The default retry policy is one attempt: the raw error.
			ce := wantCode(t, r.Err, CodeTaskExecution, "not ready 2")
			if ce.Cause != nil || ce.Attempt != 1 || r.State != Work {
				t.Fatalf("error %+v", ce)
			}
			wantLog(t, p, "1@0s", "1@10ms")
		})
	}
}

func TestPollRetryOnError(t *testing.T) {
	t.Run("forgiven", func(t *testing.T) {
		// Errors re-poll at once, without a delay.
		p, r := runPoll(t, []string{"e", "e", "p10", "e", "e", "r"}, WithMode(Inline), WithPollPolicy(RetryOnError(2)))
		must(t, r.Err)
		wantLog(t, p, "1@0s", "1@0s", "1@0s", "1@10ms", "1@10ms", "1@10ms")
	})
	t.Run("exceeded", func(t *testing.T) {
		p, r := runPoll(t, []string{"e", "e", "e", "r"}, WithMode(Inline), WithPollPolicy(RetryOnError(2)))
		wantCode(t, r.Err, CodeTaskExecution, "not ready 3")
		wantLog(t, p, "1@0s", "1@0s", "1@0s")
	})
	t.Run("pending-resets-the-count", func(t *testing.T) {
		p, r := runPoll(t, []string{"e", "p5", "e", "p5", "e", "r"}, WithMode(Inline), WithPollPolicy(RetryOnError(1)))
		must(t, r.Err)
		if len(p.log.get()) != 6 {
			t.Fatalf("calls %q", p.log.get())
		}
	})
	t.Run("zero-fails-at-the-first-error", func(t *testing.T) {
		p, r := runPoll(t, []string{"e", "r"}, WithMode(Inline), WithPollPolicy(RetryOnError(0)))
		wantCode(t, r.Err, CodeTaskExecution, "not ready 1")
		wantLog(t, p, "1@0s")
	})
}

func TestPollAttemptTimeoutBoundsTheWait(t *testing.T) {
	t.Run("single-attempt", func(t *testing.T) {
		p, r := runPoll(t, []string{"p100"}, WithMode(Inline), WithAttemptTimeout(250*time.Millisecond))
		ce := wantCode(t, r.Err, CodeTimeout, "task attempt exceeded attempt_timeout")
		if !errors.Is(r.Err, ErrTimeout) || ce.Attempt != 1 {
			t.Fatalf("error %+v", ce)
		}
		wantLog(t, p, "1@0s", "1@100ms", "1@200ms")
	})
	t.Run("retry-restarts-the-wait", func(t *testing.T) {
		p, r := runPoll(t, []string{"p100"}, WithMode(Inline), WithAttemptTimeout(250*time.Millisecond),
			WithRetry(RetryFixed(1, 50*time.Millisecond)))
		ce := wantCode(t, r.Err, CodeRetryExhausted,
			"Task failed after 2 attempt(s): Timeout error: task attempt exceeded attempt_timeout")
		if ce.Cause == nil || ce.Cause.Code != CodeTimeout {
			t.Fatalf("error %+v", ce)
		}
		wantLog(t, p, "1@0s", "1@100ms", "1@200ms", "2@300ms", "2@400ms", "2@500ms")
	})
	t.Run("worker", func(t *testing.T) {
		p, r := runPoll(t, []string{"p100"}, WithAttemptTimeout(250*time.Millisecond))
		wantCode(t, r.Err, CodeTimeout, "task attempt exceeded attempt_timeout")
		if n := p.calls.Load(); n != 3 {
			t.Fatalf("%d calls, want 3", n)
		}
	})
}

func TestPollRetryPolicies(t *testing.T) {
	t.Run("retry-default-means-one-attempt", func(t *testing.T) {
		p, r := runPoll(t, []string{"e"}, WithMode(Inline), WithRetry(RetryDefault))
		wantCode(t, r.Err, CodeTaskExecution, "not ready 1")
		wantLog(t, p, "1@0s")
	})
	t.Run("exponential-restarts", func(t *testing.T) {
		p, r := runPoll(t, []string{"e"}, WithMode(Inline), WithRetry(RetryExponential(3)))
		wantCode(t, r.Err, CodeRetryExhausted, "Task failed after 4 attempt(s): Task execution error: not ready 4")
		if n := p.calls.Load(); n != 4 {
			t.Fatalf("%d calls", n)
		}
	})
	t.Run("fixed-restarts-with-policy", func(t *testing.T) {
		// Each attempt forgives one error; the second attempt gets further.
		p, r := runPoll(t, []string{"e", "e", "e", "r"}, WithMode(Inline), WithPollPolicy(RetryOnError(1)),
			WithRetry(RetryFixed(1, 10*time.Millisecond)))
		must(t, r.Err)
		wantLog(t, p, "1@0s", "1@0s", "2@10ms", "2@10ms")
	})
}

func TestPollFatalAndPanicsAreNotRetried(t *testing.T) {
	for _, c := range []struct {
		name    string
		body    PollFunc[Step]
		code    Code
		message string
	}{
		{"fatal", func(*TaskContext) (PollResult[Step], error) {
			return PollResult[Step]{}, Fatal(NewError(CodeStore, "gone"))
		}, CodeStore, "gone"},
		{"panic", func(*TaskContext) (PollResult[Step], error) { panic("poll exploded") },
			CodeTaskExecution, "panic: poll exploded"},
	} {
		for _, policy := range []PollPolicy{FailFast, RetryOnError(3)} {
			t.Run(c.name+"/"+policy.String(), func(t *testing.T) {
				checkHandlesReleased(t)
				e := newTestEngine(t)
				wf := newTestWorkflow(t, nil)
				var calls atomic.Int32
				body := c.body
				must(t, wf.RegisterPoll(Work, func(ctx *TaskContext) (PollResult[Step], error) {
					calls.Add(1)
					return body(ctx)
				}, WithRetry(RetryFixed(3, 0)), WithPollPolicy(policy)))
				must(t, wf.AddExitState(Done))
				_, err := wf.Run(context.Background(), e, Work)
				ce := wantCode(t, err, c.code, "")
				// cano escapes the poll loop on a panic (spec 2.5, 3.2), whatever the policy.
				if n := calls.Load(); n != 1 || ce.Message != c.message || ce.Cause != nil {
					t.Fatalf("%d calls, error %+v", n, ce)
				}
			})
		}
	}
}

func TestPollOptions(t *testing.T) {
	wf := newTestWorkflow(t, nil)
	ready := func(*TaskContext) (Step, error) { return Done, nil }
	wantCode(t, wf.RegisterFunc(Work, ready, WithPollPolicy(FailFast)), CodeInvalidArgument,
		"WithPollPolicy applies to poll tasks (RegisterPoll) only")
	wantCode(t, wf.RegisterRouter(Work, ready, WithPollPolicy(RetryOnError(1))), CodeInvalidArgument,
		"WithPollPolicy applies to poll tasks (RegisterPoll) only")
	wantCode(t, wf.RegisterPoll(Work, nil), CodeInvalidArgument, "RegisterPoll needs a function")
	wantCode(t, wf.RegisterRouter(Work, nil), CodeInvalidArgument, "RegisterRouter needs a function")
	if FailFast.String() != "FailFast" || RetryOnError(3).String() != "RetryOnError { max_errors: 3 }" ||
		RetryOnError(-1).MaxErrors() != 0 || RetryOnError(5).MaxErrors() != 5 {
		t.Error("PollPolicy accessors")
	}
	r, p := Ready(Done), Pending[Step](time.Second)
	if !r.IsReady() || r.Next() != Done || r.Delay() != 0 || p.IsReady() || p.Delay() != time.Second ||
		r.String() != "Ready(Done)" || p.String() != "Pending(1s)" || !(PollResult[Step]{}).IsReady() ||
		Pending[Step](-1).Delay() != 0 {
		t.Error("PollResult accessors")
	}
}

func TestRouter(t *testing.T) {
	checkHandlesReleased(t)
	e := newManualEngine(t)
	wf := newTestWorkflow(t, nil)
	var calls atomic.Int32
	var seen journal
	// The router fails twice, then routes by the store's content; with the default policy it
	// retries (RouterTask's TaskConfig::default()).
	must(t, wf.RegisterRouter(Start, func(ctx *TaskContext) (Step, error) {
		seen.add(fmt.Sprintf("router %d@%v", ctx.Attempt(), ctx.Engine().Now()))
		if calls.Add(1) < 3 {
			return Failed, errors.New("not yet")
		}
		return Process, nil
	}, WithMode(Inline), WithName("router"), WithRetry(RetryFixed(3, 5*time.Millisecond))))
	must(t, wf.RegisterFunc(Process, func(*TaskContext) (Step, error) { return Done, nil }, WithMode(Inline)))
	must(t, wf.AddExitState(Done, Failed))
	_, ch := startRun(t, wf, e, Start)
	r := awaitRun(t, e, ch)
	must(t, r.Err)
	if want := []string{"router 1@0s", "router 2@5ms", "router 3@10ms"}; r.State != Done || !equalStrings(seen.get(), want) {
		t.Fatalf("final %v, calls %q", r.State, seen.get())
	}
}

func TestRouterDefaultRetriesAndErrors(t *testing.T) {
	e := newManualEngine(t)
	wf := newTestWorkflow(t, nil)
	var calls atomic.Int32
	must(t, wf.RegisterRouter(Start, func(*TaskContext) (Step, error) {
		calls.Add(1)
		return Start, NewError(CodeStore, "no route")
	}, WithMode(Inline)))
	must(t, wf.AddExitState(Done))
	_, ch := startRun(t, wf, e, Start)
	r := awaitRun(t, e, ch)
	ce := wantCode(t, r.Err, CodeRetryExhausted, "Task failed after 4 attempt(s): Store error: no route")
	if calls.Load() != 4 || ce.Cause.Code != CodeStore || ce.Task != "Start" {
		t.Fatalf("%d calls, error %+v", calls.Load(), ce)
	}
}

func TestRouterPanicIsNotRetried(t *testing.T) {
	e := newTestEngine(t)
	wf := newTestWorkflow(t, nil)
	var calls atomic.Int32
	must(t, wf.RegisterRouter(Start, func(*TaskContext) (Step, error) {
		calls.Add(1)
		panic(fmt.Errorf("router bug"))
	}, WithRetry(RetryFixed(3, 0))))
	must(t, wf.AddExitState(Done))
	_, err := wf.Run(context.Background(), e, Start)
	ce := wantCode(t, err, CodeTaskExecution, "panic: router bug")
	if calls.Load() != 1 || ce.Cause != nil {
		t.Fatalf("%d calls, error %+v", calls.Load(), ce)
	}
}
