package cano

// Running a conformance scenario: the engine, resources and workflow it describes, what the run
// records, and the driver that moves the manual clock as tests/conformance/README.md "How
// runners drive time" prescribes. The bodies are in conformance_bodies_test.go.

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// confState is the state type of conformance workflows: the names come from the scenario.
type confState int32

// confNames holds the current scenario's state names (scenarios run one at a time).
var confNames atomic.Pointer[[]string]

func (s confState) String() string {
	if names := confNames.Load(); names != nil && s >= 0 && int(s) < len(*names) {
		return (*names)[s]
	}
	return fmt.Sprint(int32(s))
}

// confResourceObj is a scenario resource: it journals its setup and teardown.
type confResourceObj struct {
	spec confResource
	run  *confRun
}

func (r *confResourceObj) lifecycle(phase string, ok bool) error {
	r.run.addEvent(phase + " " + r.spec.key)
	if ok {
		return nil
	}
	message := phase + " " + r.spec.key + " failed"
	if r.spec.message != nil {
		message = *r.spec.message
	}
	return NewError(CodeGeneric, message)
}

func (r *confResourceObj) Setup() error    { return r.lifecycle("setup", r.spec.setupOK) }
func (r *confResourceObj) Teardown() error { return r.lifecycle("teardown", r.spec.teardownOK) }

// confRun is one scenario's run: what it recorded and the counters that drive the clock.
type confRun struct {
	sc      *confScenario
	engine  *Engine
	startMS time.Duration
	running atomic.Int64 // worker bodies running that are not block steps
	starts  atomic.Uint64

	mu        sync.Mutex
	trail     []string
	attempts  map[string]uint64 // body calls, by confBinding.key
	times     map[string][]uint64
	events    []string
	splitSeen []*[]string
	cursors   map[string][]*string // by key: the cursor each body call saw (nil: none)
	waits     map[string]uint64    // timer wait callback calls, by key
	loads     map[string]uint64    // batch load calls, by key
	finishes  map[string]uint64    // batch finish calls, by key
	notices   map[string]uint64    // cancel notices, by key (WithOnCancel)
	batchSeen [][]string
	problems  []string
	// The previous body call of the run, for the poll trail rule.
	lastKey     string
	lastAttempt int
}

// confBinding is what a registered body knows about itself.
type confBinding struct {
	state  int32  // the state, or the split state of a branch
	key    string // where its calls are counted: the state's name, or "F[i]"
	task   *confTask
	branch bool
}

func (run *confRun) addEvent(e string) {
	run.mu.Lock()
	defer run.mu.Unlock()
	run.events = append(run.events, e)
}

func (run *confRun) problem(format string, args ...any) {
	run.mu.Lock()
	defer run.mu.Unlock()
	run.problems = append(run.problems, fmt.Sprintf(format, args...))
}

// confTaskOptions are the options of a task or branch. README.md "Cancel notices": every async
// task and branch counts its notices under its key.
func (run *confRun) confTaskOptions(b *confBinding) []TaskOption {
	task := b.task
	opts := []TaskOption{WithMode(task.mode), WithRetry(confRetryPolicy(task.retry)),
		WithAttemptTimeout(millis(task.attemptTimeoutMS))}
	if task.name != nil {
		opts = append(opts, WithName(*task.name))
	}
	if task.mode == Async {
		key := b.key
		opts = append(opts, WithOnCancel(func(uint64) {
			run.mu.Lock()
			defer run.mu.Unlock()
			run.notices[key]++
		}))
	}
	return opts
}

func confRetryPolicy(r confRetry) Retry {
	switch r.kind {
	case "fixed":
		return RetryFixed(int(r.maxRetries), millis(r.delayMS))
	case "exponential":
		return RetryExponentialCustom(int(r.maxRetries), millis(r.delayMS),
			r.multiplier, millis(r.maxDelayMS), r.jitter)
	case "default":
		return RetryDefault
	}
	return RetryNone
}

// confTimerOf is a timer task's Timer.
func confTimerOf(run *confRun, b *confBinding) Timer {
	timer := b.task.timer
	switch {
	case len(timer.waits) > 0:
		return TimerWait(run.timerWait(b))
	case timer.untilMS != nil:
		return TimerUntil(millis(*timer.untilMS))
	}
	return TimerDelay(millis(*timer.delayMS))
}

// confOutcome is how the run ended, or why it could not start.
type confOutcome struct {
	started bool
	state   int32
	err     *Error
}

// runScenario builds the scenario's engine, resources and workflow, runs it, and checks it.
func runScenario(t *testing.T, sc *confScenario) {
	names := append([]string(nil), sc.states...)
	confNames.Store(&names)
	run := &confRun{sc: sc, attempts: map[string]uint64{}, times: map[string][]uint64{},
		cursors: map[string][]*string{}, waits: map[string]uint64{}, loads: map[string]uint64{},
		finishes: map[string]uint64{}, notices: map[string]uint64{}}

	engine, err := NewEngine(WithManualClock(0), WithRandomSeed(1), WithWorkers(2))
	must(t, err)
	run.engine = engine
	engineClosed := false
	defer func() {
		if !engineClosed {
			_ = engine.Close()
		}
	}()
	store, res := newStoreResources(t)
	for _, r := range sc.resources {
		must(t, res.InsertWithTag(r.key, "conformance.Resource", &confResourceObj{spec: r, run: run}))
	}
	wf, err := NewWorkflow[confState](res)
	must(t, err)
	defer wf.Close()
	run.register(t, wf)

	run.startMS = engine.Now()
	results := make(chan RunResult[confState], 1)
	var out confOutcome
	if _, err := wf.Start(engine, confState(sc.initial.code), func(r RunResult[confState]) { results <- r }); err != nil {
		out.err = asError(t, err)
	} else {
		out.started = true
		r := driveConformance(t, run, results)
		out.state = int32(r.State)
		if r.Err != nil {
			out.err = asError(t, r.Err)
		}
	}
	// Closing the engine waits for every worker body, abandoned blocks included, so that the
	// attempt counts are complete.
	must(t, engine.Close())
	engineClosed = true
	for _, p := range run.problems {
		t.Errorf("runner: %s", p)
	}
	checkExpectations(t, sc, run, store, out)
}

// register declares the scenario's states, registers its tasks and split states in the order
// of their codes, and sets its exit states and timeout.
func (run *confRun) register(t *testing.T, wf *Workflow[confState]) {
	sc := run.sc
	for code := range sc.states {
		must(t, wf.AddStates(confState(code)))
	}
	codes := make([]int, 0, len(sc.tasks)+len(sc.splits))
	for code := range sc.tasks {
		codes = append(codes, int(code))
	}
	for code := range sc.splits {
		codes = append(codes, int(code))
	}
	sort.Ints(codes)
	for _, c := range codes {
		code := int32(c)
		if split := sc.splits[code]; split != nil {
			branches := make([]Branch, len(split.branches))
			for i, task := range split.branches {
				b := &confBinding{state: code, key: sc.branchKey(code, i), task: task, branch: true}
				branches[i] = NewBranch(run.branchBody(b), run.confTaskOptions(b)...)
			}
			var opts []SplitOption
			if split.timeoutMS > 0 {
				opts = append(opts, WithSplitTimeout(millis(split.timeoutMS)))
			}
			if split.bulkhead > 0 { // 0 is the C default, no limit; WithBulkhead(0) is cano's error
				opts = append(opts, WithBulkhead(int(split.bulkhead)))
			}
			must(t, wf.RegisterSplit(confState(code), branches, split.strategy,
				confState(split.joinState.code), opts...))
			continue
		}
		task := sc.tasks[code]
		b := &confBinding{state: code, key: sc.label(code), task: task}
		opts := run.confTaskOptions(b)
		switch task.kind {
		case "batch":
			opts = append(opts, WithConcurrency(int(task.batch.concurrency)),
				WithItemRetry(confRetryPolicy(task.batch.itemRetry)))
			must(t, RegisterBatch(wf, confState(code), run.batchLoad(b), run.batchItem(b), run.batchFinish(b), opts...))
		case "router":
			must(t, wf.RegisterRouter(confState(code), run.taskBody(b), opts...))
		case "poll":
			if task.poll != nil {
				opts = append(opts, WithPollPolicy(*task.poll))
			}
			must(t, wf.RegisterPoll(confState(code), run.pollBody(b), opts...))
		case "stepped":
			must(t, wf.RegisterStepped(confState(code), run.stepBody(b), opts...))
		case "timer":
			must(t, wf.RegisterTimer(confState(code), run.taskBody(b), confTimerOf(run, b), opts...))
		default:
			if task.hasStep("more") {
				must(t, wf.RegisterStepLoop(confState(code), run.stepBody(b), opts...))
			} else {
				must(t, wf.RegisterFunc(confState(code), run.taskBody(b), opts...))
			}
		}
	}
	for _, code := range sc.exitStates {
		must(t, wf.AddExitState(confState(code)))
	}
	if sc.timeoutMS > 0 {
		must(t, wf.SetTimeout(millis(sc.timeoutMS)))
	}
}

// driveConformance moves the manual clock as README.md "How runners drive time" says, until
// the run ends.
func driveConformance(t *testing.T, run *confRun, results <-chan RunResult[confState]) RunResult[confState] {
	giveUp := time.Now().Add(30 * time.Second)
	for {
		select {
		case r := <-results:
			return r
		default:
		}
		if time.Now().After(giveUp) {
			t.Fatalf("the run did not finish within 30 s of wall-clock time")
		}
		// 1. while a non-block worker body runs, poll about every millisecond.
		if run.running.Load() > 0 {
			time.Sleep(time.Millisecond)
			continue
		}
		// 2. let the loop settle.
		time.Sleep(2 * time.Millisecond)
		select {
		case r := <-results:
			return r
		default:
		}
		// 3. ask for the earliest timer; a body that started meanwhile makes the answer stale.
		starts := run.starts.Load()
		deadline, err := run.engine.NextDeadline()
		if run.starts.Load() != starts || errors.Is(err, ErrNotFound) {
			continue
		}
		must(t, err)
		// 4. advance to it.
		must(t, advanceTo(run.engine, deadline))
	}
}
