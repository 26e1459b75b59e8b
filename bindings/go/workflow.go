package cano

/*
#include "cano_go.h"
*/
import "C"

import (
	"context"
	"sync"
	"time"
	"unsafe"
)

// State is the constraint on a workflow's state type: an int32-based type whose String names
// the state (every state's name must be unique and non-empty). The int32 value is the state's
// code in the C API. Typically:
//
//	type Step int32
//	const (Fetch Step = iota; Process; Done)
//	func (s Step) String() string { return [...]string{"Fetch", "Process", "Done"}[s] }
type State interface {
	~int32
	String() string
}

// Workflow is a finite state machine over the state type S: one task per state, exit states and
// an optional timeout (cano/workflow.h). Build it, then run it any number of times, also
// concurrently; the first run freezes it, and the builder methods then return ErrBadState.
//
// Threads: build from one goroutine at a time (the builder methods are also locked against each
// other); once frozen, any goroutine may Run or Start it. Close releases it; runs in flight
// keep the C workflow alive, and the tasks are released when the last of them ends.
type Workflow[S State] struct {
	// mu guards the fields. It is held only around C calls that never call back into Go;
	// starting a run (which may run inline tasks at once when called on the loop thread) and
	// waiting for one count as users instead, so that Close never frees the C workflow under
	// them and a task may call the workflow's methods.
	mu       sync.Mutex
	ptr      *C.cano_workflow
	declared map[int32]bool
	users    int
	closed   bool
}

// NewWorkflow creates an empty workflow over resources, which it retains (the caller may Close
// its own reference afterwards). A nil resources makes a resource-free workflow (cano's
// Workflow::bare()). The caller owns the workflow and must Close it. Any goroutine.
func NewWorkflow[S State](resources *Resources) (*Workflow[S], error) {
	if abiErr != nil {
		return nil, abiErr
	}
	var res *C.cano_resources
	if resources != nil {
		if resources.ptr == nil {
			return nil, NewError(CodeInvalidArgument, "the resources are closed")
		}
		res = resources.ptr
	}
	var ptr *C.cano_workflow
	var cerr *C.cano_error
	if status := C.cano_workflow_create(&ptr, res, &cerr); status != C.CANO_OK {
		return nil, takeError(status, cerr)
	}
	return &Workflow[S]{ptr: ptr, declared: map[int32]bool{}}, nil
}

// closedWorkflow is what methods of a closed workflow return.
func closedWorkflow() error { return NewError(CodeBadState, "the workflow is closed") }

// Close drops the caller's reference to the workflow; later calls return ErrBadState. Runs in
// flight (and Wait calls in progress) keep it alive; its tasks are released when the last one
// ends. Idempotent. Any goroutine.
func (w *Workflow[S]) Close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	w.destroyIfUnused()
}

func (w *Workflow[S]) destroyIfUnused() {
	if w.closed && w.users == 0 && w.ptr != nil {
		C.cano_workflow_destroy(w.ptr)
		w.ptr = nil
	}
}

// acquire returns the C workflow and keeps it alive until release.
func (w *Workflow[S]) acquire() (*C.cano_workflow, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed || w.ptr == nil {
		return nil, closedWorkflow()
	}
	w.users++
	return w.ptr, nil
}

func (w *Workflow[S]) release() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.users--
	w.destroyIfUnused()
}

// declare declares s (with its String name) unless it is declared already. Holds w.mu.
func (w *Workflow[S]) declare(s S) error {
	if w.closed {
		return closedWorkflow()
	}
	if w.declared[int32(s)] {
		return nil
	}
	name := C.CString(s.String())
	defer C.free(unsafe.Pointer(name))
	var cerr *C.cano_error
	if status := C.cano_workflow_add_state(w.ptr, C.int32_t(s), name, &cerr); status != C.CANO_OK {
		return takeError(status, cerr)
	}
	w.declared[int32(s)] = true
	return nil
}

// AddStates declares states, named by their String. Register and AddExitState declare their
// state themselves; declare the others a task may move to, so that errors name them. A state
// already declared is skipped. Errors: ErrConfiguration (another state has the name),
// ErrInvalidArgument (empty name), ErrBadState (frozen).
func (w *Workflow[S]) AddStates(states ...S) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, s := range states {
		if err := w.declare(s); err != nil {
			return err
		}
	}
	return nil
}

// Register registers task for state (declaring the state), replacing any previous task. With
// no options the task runs on a worker with cano's default retry policy. Errors: those of
// AddStates, ErrInvalidArgument (bad options).
func (w *Workflow[S]) Register(state S, task Task[S], opts ...TaskOption) error {
	if task == nil {
		return NewError(CodeInvalidArgument, "Register needs a task")
	}
	cfg := taskConfig{mode: Worker, retry: RetryDefault}
	if named, ok := task.(interface{ Name() string }); ok {
		cfg.name = named.Name()
	}
	for _, opt := range opts {
		opt(&cfg)
	}
	entry := &taskEntry{mode: cfg.mode, run: func(ctx *TaskContext) (int32, error) {
		next, err := task.Run(ctx)
		return int32(next), err
	}}
	return w.register(state, entry, cfg, plainTask)
}

// RegisterFunc registers fn for state, as Register does.
func (w *Workflow[S]) RegisterFunc(state S, fn func(ctx *TaskContext) (S, error), opts ...TaskOption) error {
	if fn == nil {
		return NewError(CodeInvalidArgument, "RegisterFunc needs a function")
	}
	return w.Register(state, TaskFunc[S](fn), opts...)
}

// RegisterAsync registers an async task for state: fn runs on the loop thread, must not block,
// and finishes each attempt through its Completion, from any goroutine. The mode is Async
// whatever the options say.
func (w *Workflow[S]) RegisterAsync(state S, fn AsyncFunc[S], opts ...TaskOption) error {
	if fn == nil {
		return NewError(CodeInvalidArgument, "RegisterAsync needs a function")
	}
	body := TaskFunc[S](func(ctx *TaskContext) (S, error) {
		done, err := Later[S](ctx)
		if err != nil {
			var zero S
			return zero, err
		}
		fn(ctx, done)
		var zero S
		return zero, nil
	})
	return w.Register(state, body, append(append([]TaskOption(nil), opts...), WithMode(Async))...)
}

// registration is how register hands a task to the library.
type registration int

const (
	plainTask registration = iota
	routerTask
	pollTask
	steppedTask
	timerTask
	batchTask
	branchTask // a split branch (RegisterSplit), for taskConfig.check
)

func (w *Workflow[S]) register(state S, entry *taskEntry, cfg taskConfig, kind registration) error {
	if err := cfg.check(kind); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.declare(state); err != nil {
		return err
	}
	entry.name = cfg.name
	if entry.name == "" {
		entry.name = state.String()
	}
	entry.onCancel = cfg.onCancel
	options, err := newTaskOptions(entry, cfg)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(options.name))
	// Ownership of the slot passes to the library: on error it calls the destroy hook itself.
	var cerr *C.cano_error
	var status C.cano_status
	switch kind {
	case routerTask:
		status = C.cano_workflow_register_router(w.ptr, C.int32_t(state), &options, &cerr)
	case pollTask:
		poll := C.cano_go_poll_options_init()
		if cfg.poll != nil {
			poll.policy = cfg.poll.policy
			poll.max_errors = cfg.poll.maxErrors
		}
		status = C.cano_workflow_register_poll(w.ptr, C.int32_t(state), &options, &poll, &cerr)
	case steppedTask:
		status = C.cano_workflow_register_stepped(w.ptr, C.int32_t(state), &options, &cerr)
	case timerTask:
		timer := C.cano_go_timer_options_init()
		switch t := entry.timer; {
		case t.wait != nil:
			timer.wait = C.cano_timer_wait_fn(C.cano_go_timer_wait_shim)
		case t.until:
			timer.until_ms = C.uint64_t(durationMS(t.d))
		default:
			timer.delay_ms = C.uint64_t(durationMS(t.d))
		}
		status = C.cano_workflow_register_timer(w.ptr, C.int32_t(state), &options, &timer, &cerr)
	case batchTask:
		batch := C.cano_go_batch_options_init()
		batch.load = C.cano_task_fn(C.cano_go_batch_load_shim)
		batch.process_item = C.cano_task_fn(C.cano_go_batch_item_shim)
		batch.concurrency = clampU32(cfg.concurrency)
		if r := cfg.itemRetry; r != nil {
			batch.item_retry = r.fields.retry
			batch.item_retry_max_retries = r.fields.retry_max_retries
			batch.item_retry_delay_ms = r.fields.retry_delay_ms
			batch.item_retry_multiplier = r.fields.retry_multiplier
			batch.item_retry_max_delay_ms = r.fields.retry_max_delay_ms
			batch.item_retry_jitter = r.fields.retry_jitter
		}
		status = C.cano_workflow_register_batch(w.ptr, C.int32_t(state), &options, &batch, &cerr)
	default:
		status = C.cano_workflow_register(w.ptr, C.int32_t(state), &options, &cerr)
	}
	return takeError(status, cerr)
}

// newTaskOptions fills a cano_task_options from cfg, with a new slot holding entry's handle as
// its user data. The caller frees options.name (C memory, may be NULL) after the registration
// call, and destroys the slot (cano_go_slot_destroy) when it never hands it to the library.
func newTaskOptions(entry *taskEntry, cfg taskConfig) (C.cano_task_options, error) {
	options := cfg.retry.fields
	options.mode = C.cano_task_mode(cfg.mode)
	options.attempt_timeout_ms = C.uint64_t(durationMS(cfg.attemptTimeout))
	h := newHandle(entry)
	slot := C.cano_go_slot_new(C.uintptr_t(h))
	if slot == nil {
		deleteHandle(h)
		return options, NewError(CodeNoMemory, "out of memory")
	}
	options.run = C.cano_task_fn(C.cano_go_task_shim)
	options.user_data = unsafe.Pointer(slot)
	options.destroy = (*[0]byte)(C.cano_go_slot_destroy)
	if cfg.mode == Async {
		// Every async attempt learns of its abandonment: its completion's Done channel closes.
		options.cancel = (*[0]byte)(C.cano_go_cancel_shim)
	}
	options.name = nil
	if cfg.name != "" {
		options.name = C.CString(cfg.name)
	}
	return options, nil
}

// RegisterRouter registers a router for state (declaring the state): a side-effect-free task
// that only picks the next state, cano's RouterTask. It runs as Register's tasks do (same
// options, modes and retries; with no options, on a worker with RetryDefault, as RouterTask's
// TaskConfig::default()); the difference is that a router state will write no checkpoint row
// once checkpoints exist. Errors: those of Register.
func (w *Workflow[S]) RegisterRouter(state S, fn func(ctx *TaskContext) (S, error), opts ...TaskOption) error {
	if fn == nil {
		return NewError(CodeInvalidArgument, "RegisterRouter needs a function")
	}
	cfg := taskConfig{mode: Worker, retry: RetryDefault}
	for _, opt := range opts {
		opt(&cfg)
	}
	entry := &taskEntry{mode: cfg.mode, run: func(ctx *TaskContext) (int32, error) {
		next, err := fn(ctx)
		return int32(next), err
	}}
	return w.register(state, entry, cfg, routerTask)
}

// AddExitState marks state (declaring it) as an exit state: a run that enters it ends there.
func (w *Workflow[S]) AddExitState(states ...S) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, s := range states {
		if err := w.declare(s); err != nil {
			return err
		}
		var cerr *C.cano_error
		if status := C.cano_workflow_add_exit_state(w.ptr, C.int32_t(s), &cerr); status != C.CANO_OK {
			return takeError(status, cerr)
		}
	}
	return nil
}

// SetTimeout limits each run's state machine (not its resource setup and teardown) to d, cano's
// with_timeout: on expiry the attempt in flight is abandoned, teardown still runs, and the run
// fails with ErrWorkflow "Workflow timeout exceeded". 0 = none (the default).
func (w *Workflow[S]) SetTimeout(d time.Duration) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return closedWorkflow()
	}
	var cerr *C.cano_error
	return takeError(C.cano_workflow_set_timeout(w.ptr, C.uint64_t(durationMS(d)), &cerr), cerr)
}

// Validate is cano's validate(): ErrConfiguration "Workflow has no registered state handlers",
// then "Workflow has no exit states defined — orchestration may loop forever". Any goroutine.
func (w *Workflow[S]) Validate() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return closedWorkflow()
	}
	var cerr *C.cano_error
	return takeError(C.cano_workflow_validate(w.ptr, &cerr), cerr)
}

// ValidateInitialState is cano's validate_initial_state(): ErrConfiguration "Initial state X is
// neither registered nor an exit state". Any goroutine.
func (w *Workflow[S]) ValidateInitialState(s S) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return closedWorkflow()
	}
	var cerr *C.cano_error
	return takeError(C.cano_workflow_validate_initial_state(w.ptr, C.int32_t(s), &cerr), cerr)
}

// StateName is the name declared for the state with code, and whether there is one.
func (w *Workflow[S]) StateName(code int32) (string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return "", false
	}
	name := C.cano_workflow_state_name(w.ptr, C.int32_t(code))
	if name == nil {
		return "", false
	}
	return C.GoString(name), true
}

// StateByName is the state declared with name. Errors: ErrNotFound.
func (w *Workflow[S]) StateByName(name string) (S, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return 0, closedWorkflow()
	}
	text := C.CString(name)
	defer C.free(unsafe.Pointer(text))
	var out C.int32_t
	var cerr *C.cano_error
	if status := C.cano_workflow_state_code(&out, w.ptr, text, &cerr); status != C.CANO_OK {
		return 0, takeError(status, cerr)
	}
	return S(out), nil
}

// Resources is the workflow's resource set, borrowed (Close on it does nothing; it is valid
// while the workflow is); an empty set for a resource-free workflow.
func (w *Workflow[S]) Resources() *Resources {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return &Resources{borrowed: true}
	}
	return &Resources{ptr: C.cano_workflow_resources(w.ptr), borrowed: true}
}

// RunResult is how a run ended: the exit state reached (Err nil), or the error and the state
// the run was in.
type RunResult[S State] struct {
	RunID uint64
	State S
	Err   error
}

// runOutcome is what the completion callback hands over; err is owned (a clone).
type runOutcome struct {
	runID  uint64
	status Code
	final  int32
	err    *C.cano_error
}

// runWaiter receives a run's outcome on the loop thread and passes it on without blocking.
type runWaiter struct {
	ch chan runOutcome // for Run (buffered, 1)
	fn func(runOutcome)
}

func (r *runWaiter) deliver(out runOutcome) {
	if r.ch != nil {
		r.ch <- out
		return
	}
	go r.fn(out)
}

// outcomeError converts (and frees) the outcome's error.
func outcomeError(out runOutcome) error {
	if out.status == CodeOK {
		C.cano_error_free(out.err)
		return nil
	}
	return takeError(C.cano_status(out.status), out.err)
}

// start starts a run whose outcome goes to waiter.
func (w *Workflow[S]) start(engine *Engine, initial S, waiter *runWaiter) (uint64, error) {
	if engine == nil {
		return 0, NewError(CodeInvalidArgument, "no engine")
	}
	wf, err := w.acquire()
	if err != nil {
		return 0, err
	}
	defer w.release()
	engine.mu.RLock()
	defer engine.mu.RUnlock()
	if engine.ptr == nil {
		return 0, shutdownError()
	}
	h := newHandle(waiter)
	slot := C.cano_go_slot_new(C.uintptr_t(h))
	if slot == nil {
		deleteHandle(h)
		return 0, NewError(CodeNoMemory, "out of memory")
	}
	var id C.uint64_t
	var cerr *C.cano_error
	status := C.cano_run_start(&id, engine.ptr, wf, C.int32_t(initial),
		C.cano_run_done_fn(C.cano_go_run_done_shim), unsafe.Pointer(slot), &cerr)
	if status != C.CANO_OK {
		// The callback will never be called: the handle and the slot are still ours.
		deleteHandle(h)
		C.cano_go_slot_free(unsafe.Pointer(slot))
		return 0, takeError(status, cerr)
	}
	return uint64(id), nil
}

// Start starts a run from initial on engine and returns its id at once; done (may be nil) is
// called exactly once, on a goroutine of its own, when the run has ended and released its
// resources. It freezes the workflow. On error (ErrConfiguration from validation or the initial
// state, ErrShutdown) nothing runs and done is never called. Any goroutine.
func (w *Workflow[S]) Start(engine *Engine, initial S, done func(RunResult[S])) (uint64, error) {
	return w.start(engine, initial, &runWaiter{fn: func(out runOutcome) {
		res := RunResult[S]{RunID: out.runID, State: S(out.final), Err: outcomeError(out)}
		if done != nil {
			done(res)
		}
	}})
}

// Run runs the workflow from initial on engine and blocks until it ends: cano's orchestrate().
// It returns the exit state reached, or the error and the state the run was in. When ctx ends
// first, the run is cancelled (Engine.Cancel) and Run returns once it has ended: its error is
// an ErrCancelled *Error that also matches ctx.Err() with errors.Is. A ctx already done starts
// nothing and returns ctx.Err(). Any goroutine; on the engine's loop thread (an inline or async
// task body) it returns an ErrWrongThread error, as the run would need that thread.
func (w *Workflow[S]) Run(ctx context.Context, engine *Engine, initial S) (S, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		return initial, err
	}
	if engine != nil && engine.OnLoopThread() {
		// The run would need the very thread this call blocks.
		return initial, NewError(CodeWrongThread, "Run cannot block the engine's loop thread; use Start")
	}
	ch := make(chan runOutcome, 1)
	id, err := w.start(engine, initial, &runWaiter{ch: ch})
	if err != nil {
		return initial, err
	}
	var out runOutcome
	select {
	case out = <-ch:
	case <-ctx.Done():
		// NotFound means the run ended meanwhile: its own outcome stands.
		_ = engine.Cancel(id)
		out = <-ch
		if out.status == CodeCancelled {
			runErr := outcomeError(out)
			if e, ok := runErr.(*Error); ok {
				return S(out.final), &contextError{run: e, ctx: ctx.Err()}
			}
			return S(out.final), runErr
		}
	}
	return S(out.final), outcomeError(out)
}

// Wait runs the workflow from initial on engine and blocks until it ends, like Run without a
// context, through cano_run_wait (which polls briefly before it sleeps: the lowest latency for
// short runs). Any goroutine; on the engine's loop thread (an inline or async task body) it
// returns an ErrWrongThread error.
func (w *Workflow[S]) Wait(engine *Engine, initial S) (S, error) {
	if engine == nil {
		return initial, NewError(CodeInvalidArgument, "no engine")
	}
	wf, err := w.acquire()
	if err != nil {
		return initial, err
	}
	defer w.release()
	engine.mu.RLock()
	defer engine.mu.RUnlock()
	if engine.ptr == nil {
		return initial, shutdownError()
	}
	var out C.int32_t = C.int32_t(initial)
	var cerr *C.cano_error
	status := C.cano_run_wait(&out, engine.ptr, wf, C.int32_t(initial), &cerr)
	return S(out), takeError(status, cerr)
}
