package cano

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// goto returns a task body that records its state and moves to next.
func gotoTask(j *journal, next Step) func(*TaskContext) (Step, error) {
	return func(ctx *TaskContext) (Step, error) {
		if j != nil {
			j.add(StateOf[Step](ctx).String())
		}
		return next, nil
	}
}

func TestLinearRunAllModes(t *testing.T) {
	for _, mode := range []Mode{Inline, Worker, Async} {
		mode := mode
		t.Run(mode.String(), func(t *testing.T) {
			checkHandlesReleased(t)
			e := newTestEngine(t)
			wf := newTestWorkflow(t, nil)
			var trail journal
			for _, step := range []struct{ from, to Step }{{Start, Fetch}, {Fetch, Process}, {Process, Done}} {
				step := step
				if mode == Async {
					must(t, wf.RegisterAsync(step.from, func(ctx *TaskContext, done *Completion[Step]) {
						trail.add(StateOf[Step](ctx).String())
						go func() { _ = done.Complete(step.to) }()
					}, WithRetry(RetryNone)))
				} else {
					must(t, wf.RegisterFunc(step.from, gotoTask(&trail, step.to), WithMode(mode), WithRetry(RetryNone)))
				}
			}
			must(t, wf.AddExitState(Done))
			final, err := wf.Run(context.Background(), e, Start)
			must(t, err)
			if final != Done {
				t.Fatalf("final = %v, want Done", final)
			}
			if got := trail.get(); !equalStrings(got, []string{"Start", "Fetch", "Process"}) {
				t.Fatalf("trail = %v", got)
			}
			// The same workflow runs again, blocking through cano_run_wait.
			final, err = wf.Wait(e, Fetch)
			must(t, err)
			if final != Done {
				t.Fatalf("Wait final = %v", final)
			}
			// The count drops just after the completion callback, so it may lag for a moment.
			waitFor(t, "RunsInFlight to drop", func() bool { return e.RunsInFlight() == 0 })
		})
	}
}

func TestStartCallsDoneOnce(t *testing.T) {
	e := newTestEngine(t)
	wf := newTestWorkflow(t, nil)
	must(t, wf.RegisterFunc(Start, func(ctx *TaskContext) (Step, error) { return Done, nil }, WithMode(Inline)))
	must(t, wf.AddExitState(Done))
	var runIDs journal
	must(t, wf.RegisterFunc(Fetch, func(ctx *TaskContext) (Step, error) {
		runIDs.add(fmt.Sprint(ctx.RunID()))
		return Done, nil
	}, WithMode(Worker)))
	id, ch := startRun(t, wf, e, Fetch)
	r := <-ch
	must(t, r.Err)
	if r.State != Done || r.RunID != id || id == 0 {
		t.Fatalf("result = %+v, id %d", r, id)
	}
	if got := runIDs.get(); len(got) != 1 || got[0] != fmt.Sprint(id) {
		t.Fatalf("TaskContext.RunID = %v, want %d", got, id)
	}
	// A nil done function is allowed.
	if _, err := wf.Start(e, Start, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the run to end", func() bool { return e.RunsInFlight() == 0 })
}

func TestValidationMessages(t *testing.T) {
	e := newTestEngine(t)
	wf := newTestWorkflow(t, nil)
	wantCode(t, wf.Validate(), CodeConfiguration, "Workflow has no registered state handlers")
	must(t, wf.RegisterFunc(Start, gotoTask(nil, Done)))
	err := wf.Validate()
	e1 := wantCode(t, err, CodeConfiguration, "Workflow has no exit states defined — orchestration may loop forever")
	if !errors.Is(err, ErrConfiguration) || e1.Category != "configuration" {
		t.Fatalf("not a configuration error: %+v", e1)
	}
	if e1.Display != "Configuration error: "+e1.Message {
		t.Fatalf("Display = %q", e1.Display)
	}
	// Run refuses to start an invalid workflow: the error comes back at once.
	_, err = wf.Run(context.Background(), e, Start)
	wantCode(t, err, CodeConfiguration, "Workflow has no exit states defined — orchestration may loop forever")
	_, err = wf.Start(e, Start, func(RunResult[Step]) { t.Error("done called for a refused run") })
	wantCode(t, err, CodeConfiguration, "")

	wf2 := newTestWorkflow(t, nil)
	must(t, wf2.RegisterFunc(Start, gotoTask(nil, Done)))
	must(t, wf2.AddExitState(Done))
	must(t, wf2.AddStates(Process))
	must(t, wf2.Validate())
	must(t, wf2.ValidateInitialState(Start))
	must(t, wf2.ValidateInitialState(Done))
	wantCode(t, wf2.ValidateInitialState(Process), CodeConfiguration,
		"Initial state Process is neither registered nor an exit state")
	// An undeclared code is shown as a number.
	wantCode(t, wf2.ValidateInitialState(Step(42)), CodeConfiguration,
		"Initial state 42 is neither registered nor an exit state")
	final, err := wf2.Run(context.Background(), e, Process)
	wantCode(t, err, CodeConfiguration, "Initial state Process is neither registered nor an exit state")
	if final != Process {
		t.Fatalf("final = %v", final)
	}
	// An initial exit state ends at once.
	final, err = wf2.Run(context.Background(), e, Done)
	if err != nil || final != Done {
		t.Fatalf("Run(Done) = %v, %v", final, err)
	}
}

func TestNoTaskRegisteredForState(t *testing.T) {
	e := newTestEngine(t)
	wf := newTestWorkflow(t, nil)
	must(t, wf.AddStates(Start, Fetch, Process, Done))
	must(t, wf.RegisterFunc(Start, gotoTask(nil, Process), WithMode(Inline)))
	must(t, wf.AddExitState(Done))
	final, err := wf.Run(context.Background(), e, Start)
	ce := wantCode(t, err, CodeWorkflow, "No task registered for state: Process")
	if final != Process {
		t.Fatalf("final = %v, want Process", final)
	}
	if !errors.Is(err, ErrWorkflow) || errors.Is(err, ErrTaskExecution) {
		t.Fatalf("errors.Is mismatch for %v", err)
	}
	if ce.Display != "Workflow error: No task registered for state: Process" {
		t.Fatalf("Display = %q", ce.Display)
	}
	if ce.RunID == 0 {
		t.Fatalf("RunID = 0")
	}
}

func TestExitStateTaskNeverRuns(t *testing.T) {
	e := newTestEngine(t)
	wf := newTestWorkflow(t, nil)
	must(t, wf.RegisterFunc(Start, gotoTask(nil, Done), WithMode(Inline)))
	must(t, wf.RegisterFunc(Done, func(*TaskContext) (Step, error) {
		t.Error("the exit state's task ran")
		return Failed, nil
	}))
	must(t, wf.AddExitState(Done, Done)) // duplicates are ignored
	final, err := wf.Run(context.Background(), e, Start)
	if err != nil || final != Done {
		t.Fatalf("Run = %v, %v", final, err)
	}
}

// dupState gives two codes the same name.
type dupState int32

func (dupState) String() string { return "Same" }

// emptyState has no name.
type emptyState int32

func (emptyState) String() string { return "" }

func TestStateDeclarationErrors(t *testing.T) {
	wf, err := NewWorkflow[dupState](nil)
	must(t, err)
	defer wf.Close()
	must(t, wf.AddStates(0))
	must(t, wf.AddStates(0)) // the same state again is skipped
	wantCode(t, wf.AddStates(1), CodeConfiguration, "")
	wfe, err := NewWorkflow[emptyState](nil)
	must(t, err)
	defer wfe.Close()
	err = wfe.AddStates(0)
	if !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("empty name: %v", err)
	}
}

func TestStateNames(t *testing.T) {
	wf := newTestWorkflow(t, nil)
	must(t, wf.AddStates(Start, Fetch, Done))
	if name, ok := wf.StateName(int32(Fetch)); !ok || name != "Fetch" {
		t.Fatalf("StateName = %q, %v", name, ok)
	}
	if _, ok := wf.StateName(99); ok {
		t.Fatal("StateName(99) found a name")
	}
	s, err := wf.StateByName("Done")
	must(t, err)
	if s != Done {
		t.Fatalf("StateByName = %v", s)
	}
	_, err = wf.StateByName("Nope")
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("StateByName(Nope) = %v", err)
	}
	if r := wf.Resources(); r.Len() != 0 {
		t.Fatalf("bare workflow has %d resources", r.Len())
	}
}

func TestFrozenAndClosedWorkflow(t *testing.T) {
	e := newTestEngine(t)
	wf := newTestWorkflow(t, nil)
	must(t, wf.RegisterFunc(Start, gotoTask(nil, Done), WithMode(Inline)))
	must(t, wf.AddExitState(Done))
	_, err := wf.Run(context.Background(), e, Start)
	must(t, err)
	// The first run froze it.
	for name, err := range map[string]error{
		"Register":     wf.RegisterFunc(Start, gotoTask(nil, Done)),
		"AddExitState": wf.AddExitState(Start),
		"SetTimeout":   wf.SetTimeout(time.Second),
		"AddStates":    wf.AddStates(Fetch),
	} {
		if !errors.Is(err, ErrBadState) {
			t.Errorf("%s on a frozen workflow: %v", name, err)
		}
	}
	wf.Close()
	wf.Close() // idempotent
	if _, err := wf.Run(context.Background(), e, Start); !errors.Is(err, ErrBadState) {
		t.Fatalf("Run after Close: %v", err)
	}
	if _, err := wf.Wait(e, Start); !errors.Is(err, ErrBadState) {
		t.Fatalf("Wait after Close: %v", err)
	}
	if err := wf.Validate(); !errors.Is(err, ErrBadState) {
		t.Fatalf("Validate after Close: %v", err)
	}
	if _, ok := wf.StateName(0); ok {
		t.Fatal("StateName after Close")
	}
}

func TestRegisterErrors(t *testing.T) {
	wf := newTestWorkflow(t, nil)
	if err := wf.Register(Start, nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("Register(nil): %v", err)
	}
	if err := wf.RegisterFunc(Start, nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("RegisterFunc(nil): %v", err)
	}
	if err := wf.RegisterAsync(Start, nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("RegisterAsync(nil): %v", err)
	}
	checkHandlesReleased(t)
	// A bad mode is refused by the library, which releases the task at once.
	err := wf.RegisterFunc(Start, gotoTask(nil, Done), WithMode(Mode(7)))
	if !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("bad mode: %v", err)
	}
	if _, err := NewWorkflow[Step](&Resources{}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("closed resources: %v", err)
	}
}

func TestReplacingATaskReleasesTheOldOne(t *testing.T) {
	checkHandlesReleased(t)
	e := newTestEngine(t)
	wf := newTestWorkflow(t, nil)
	must(t, wf.RegisterFunc(Start, gotoTask(nil, Failed), WithMode(Inline)))
	must(t, wf.RegisterFunc(Start, gotoTask(nil, Done), WithMode(Inline)))
	must(t, wf.AddExitState(Done, Failed))
	final, err := wf.Run(context.Background(), e, Start)
	if err != nil || final != Done {
		t.Fatalf("Run = %v, %v", final, err)
	}
}

// namedTask implements Task with a Name method.
type namedTask struct{}

func (namedTask) Run(*TaskContext) (Step, error) { return Done, errors.New("nope") }
func (namedTask) Name() string                   { return "named-task" }

func TestTaskNames(t *testing.T) {
	e := newTestEngine(t)
	for _, c := range []struct {
		opts []TaskOption
		task Task[Step]
		want string
	}{
		{nil, TaskFunc[Step](func(*TaskContext) (Step, error) { return Done, errors.New("x") }), "Start"},
		{[]TaskOption{WithName("custom")}, namedTask{}, "custom"},
		{nil, namedTask{}, "named-task"},
	} {
		wf := newTestWorkflow(t, nil)
		must(t, wf.Register(Start, c.task, append(c.opts, WithRetry(RetryNone), WithMode(Inline))...))
		must(t, wf.AddExitState(Done))
		_, err := wf.Run(context.Background(), e, Start)
		ce := wantCode(t, err, CodeTaskExecution, "")
		if ce.Task != c.want || ce.State != "Start" || !ce.HasState || ce.StateCode != int32(Start) || ce.Attempt != 1 {
			t.Fatalf("error context = %+v, want task %q", ce, c.want)
		}
		wantContains(t, ce.Error(), "Task execution error: ", "Start", c.want)
	}
}

func TestTaskContextAccessors(t *testing.T) {
	e := newTestEngine(t)
	_, res := newStoreResources(t)
	wf := newTestWorkflow(t, res)
	type seen struct {
		attempt        int
		state          Step
		code           int32
		engineOK       bool
		onLoop         bool
		token          uint64
		resources      int
		storeOK        bool
		cancelled      bool
		laterErr       error
		runID          uint64
		workflowRes    int
		workflowResLen int
	}
	var mu sync.Mutex
	got := map[Mode]seen{}
	body := func(mode Mode) func(*TaskContext) (Step, error) {
		return func(ctx *TaskContext) (Step, error) {
			s, err := ctx.Store("store")
			_, laterErr := Later[Step](ctx)
			v := seen{
				attempt:   ctx.Attempt(),
				state:     StateOf[Step](ctx),
				code:      ctx.StateCode(),
				engineOK:  ctx.Engine() == e,
				onLoop:    e.OnLoopThread(),
				token:     ctx.Token(),
				resources: ctx.Resources().Len(),
				storeOK:   err == nil && Put(s, "x", 1) == nil,
				cancelled: ctx.Cancelled(),
				laterErr:  laterErr,
				runID:     ctx.RunID(),
			}
			mu.Lock()
			got[mode] = v
			mu.Unlock()
			if mode == Inline {
				return Process, nil
			}
			return Done, nil
		}
	}
	must(t, wf.RegisterFunc(Fetch, body(Inline), WithMode(Inline)))
	must(t, wf.RegisterFunc(Process, body(Worker), WithMode(Worker)))
	must(t, wf.AddExitState(Done))
	_, err := wf.Run(context.Background(), e, Fetch)
	must(t, err)
	in, wk := got[Inline], got[Worker]
	if in.attempt != 1 || in.state != Fetch || in.code != int32(Fetch) || !in.engineOK || !in.onLoop ||
		in.token != 0 || in.resources != 1 || !in.storeOK || in.cancelled || in.runID == 0 {
		t.Fatalf("inline context: %+v", in)
	}
	if wk.state != Process || wk.onLoop || !wk.engineOK || wk.runID != in.runID {
		t.Fatalf("worker context: %+v", wk)
	}
	if !errors.Is(in.laterErr, ErrBadState) {
		t.Fatalf("Later on an inline task: %v", in.laterErr)
	}
	if e.OnLoopThread() {
		t.Fatal("the test goroutine is on the loop thread")
	}
	if wf.Resources().Len() != 1 || !wf.Resources().Contains("store") {
		t.Fatal("Workflow.Resources does not show the set")
	}
}

func TestConcurrentRuns(t *testing.T) {
	e := newTestEngine(t)
	wf := newTestWorkflow(t, nil)
	must(t, wf.RegisterFunc(Start, gotoTask(nil, Work), WithMode(Inline)))
	must(t, wf.RegisterFunc(Work, gotoTask(nil, Done), WithMode(Worker)))
	must(t, wf.AddExitState(Done))
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			final, err := wf.Run(context.Background(), e, Start)
			if err == nil && final != Done {
				err = fmt.Errorf("final %v", final)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err)
	}
}

func TestCloseWhileRunsInFlight(t *testing.T) {
	checkHandlesReleased(t)
	e := newTestEngine(t)
	wf, err := NewWorkflow[Step](nil)
	must(t, err)
	release := make(chan struct{})
	must(t, wf.RegisterAsync(Start, func(ctx *TaskContext, done *Completion[Step]) {
		go func() {
			<-release
			_ = done.Complete(Done)
		}()
	}))
	must(t, wf.AddExitState(Done))
	_, ch := startRun(t, wf, e, Start)
	wf.Close() // the run keeps the workflow alive
	close(release)
	r := <-ch
	if r.Err != nil || r.State != Done {
		t.Fatalf("run after Close: %+v", r)
	}
}

func TestRunFromLoopThreadIsRefused(t *testing.T) {
	e := newTestEngine(t)
	inner := newTestWorkflow(t, nil)
	must(t, inner.RegisterFunc(Start, gotoTask(nil, Done), WithMode(Inline)))
	must(t, inner.AddExitState(Done))
	wf := newTestWorkflow(t, nil)
	var waitErr, runErr, closeErr error
	var nested RunResult[Step]
	nestedDone := make(chan struct{})
	must(t, wf.RegisterFunc(Start, func(ctx *TaskContext) (Step, error) {
		_, waitErr = inner.Wait(e, Start)
		_, runErr = inner.Run(context.Background(), e, Start)
		closeErr = e.Close()
		// Starting a run from the loop thread is allowed: it starts at once.
		_, err := inner.Start(e, Start, func(r RunResult[Step]) { nested = r; close(nestedDone) })
		return Done, err
	}, WithMode(Inline)))
	must(t, wf.AddExitState(Done))
	_, err := wf.Run(context.Background(), e, Start)
	must(t, err)
	<-nestedDone
	if !errors.Is(waitErr, ErrWrongThread) {
		t.Fatalf("Wait on the loop thread: %v", waitErr)
	}
	if !errors.Is(runErr, ErrWrongThread) {
		t.Fatalf("Run on the loop thread: %v", runErr)
	}
	if !errors.Is(closeErr, ErrWrongThread) {
		t.Fatalf("Close on the loop thread: %v", closeErr)
	}
	if nested.Err != nil || nested.State != Done {
		t.Fatalf("nested run: %+v", nested)
	}
}

func TestWorkflowTimeout(t *testing.T) {
	e := newManualEngine(t)
	wf := newTestWorkflow(t, nil)
	var sawCancel journal
	must(t, wf.RegisterFunc(Start, gotoTask(nil, Work), WithMode(Inline)))
	must(t, wf.RegisterFunc(Work, func(ctx *TaskContext) (Step, error) {
		sawCancel.add("started")
		for !ctx.Cancelled() {
			time.Sleep(100 * time.Microsecond)
		}
		sawCancel.add("cancelled")
		return Failed, errors.New("cancelled")
	}, WithMode(Worker)))
	must(t, wf.AddExitState(Done))
	must(t, wf.SetTimeout(250*time.Millisecond))
	_, ch := startRun(t, wf, e, Start)
	waitFor(t, "the workflow timer", func() bool {
		d, err := e.NextDeadline()
		return err == nil && d == 250*time.Millisecond
	})
	// The engine never starts a worker attempt abandoned before a worker took it: let the body
	// start before the timeout can fire.
	waitFor(t, "the body to start", func() bool { return len(sawCancel.get()) > 0 })
	must(t, e.Advance(249*time.Millisecond))
	select {
	case r := <-ch:
		t.Fatalf("the run ended early: %+v", r)
	default:
	}
	must(t, e.Advance(time.Millisecond))
	r := <-ch
	wantCode(t, r.Err, CodeWorkflow, "Workflow timeout exceeded")
	if r.State != Work {
		t.Fatalf("final = %v", r.State)
	}
	waitFor(t, "the body to see the cancellation", func() bool { return len(sawCancel.get()) == 2 })
	if e.Now() != 250*time.Millisecond {
		t.Fatalf("Now = %v", e.Now())
	}
}

func TestEscapedTaskContextIsInert(t *testing.T) {
	e := newTestEngine(t)
	wf := newTestWorkflow(t, nil)
	escaped := make(chan *TaskContext, 1)
	must(t, wf.RegisterFunc(Start, func(ctx *TaskContext) (Step, error) {
		escaped <- ctx
		return Done, nil
	}, WithMode(Worker)))
	must(t, wf.AddExitState(Done))
	_, err := wf.Run(context.Background(), e, Start)
	must(t, err)
	ctx := <-escaped
	if ctx.Attempt() != 0 || ctx.RunID() != 0 || ctx.Cancelled() || ctx.Token() != 0 || ctx.Engine() != nil ||
		ctx.Resources().Len() != 0 {
		t.Fatal("a context used after its call still reaches the library")
	}
	if _, err := ctx.Store("store"); err == nil {
		t.Fatal("Store on an escaped context")
	}
	if _, err := Later[Step](ctx); !errors.Is(err, ErrBadState) {
		t.Fatalf("Later on an escaped context: %v", err)
	}
}
