package cano

/*
#include "cano_go.h"
*/
import "C"

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"time"
	"unsafe"
)

// Mode is where a task body runs (cano_task_mode).
type Mode int32

const (
	// Worker runs the body on the engine's worker pool (the default). The body may block; when
	// its attempt times out the run moves on at once, TaskContext.Cancelled turns true, and the
	// body's late result is discarded.
	Worker Mode = C.CANO_TASK_WORKER
	// Inline runs the body on the loop thread: the fastest mode, for short bodies that never
	// block. An attempt timeout cannot interrupt such a body.
	Inline Mode = C.CANO_TASK_INLINE
	// Async runs the body on the loop thread; the body takes a Completion with Later (or is
	// registered with RegisterAsync), starts its work and returns at once, and any goroutine
	// finishes the attempt later with exactly one Complete or Fail. When the engine abandons a
	// pending attempt (timeout, lost split branch, cancelled run, shutdown), the Completion's
	// Done channel closes and its Context is cancelled, so that the work can stop.
	Async Mode = C.CANO_TASK_ASYNC
)

// String names the mode ("worker", "inline", "async").
func (m Mode) String() string {
	switch m {
	case Worker:
		return "worker"
	case Inline:
		return "inline"
	case Async:
		return "async"
	}
	return fmt.Sprintf("Mode(%d)", int32(m))
}

// Retry is a retry policy, cano's RetryMode: how many attempts a task gets and how long to wait
// between them. It is an immutable value; build one with RetryNone, RetryDefault, RetryFixed,
// RetryExponential or RetryExponentialCustom. Any goroutine.
type Retry struct {
	fields C.cano_task_options
}

func newRetry(fill func(*C.cano_task_options)) Retry {
	r := Retry{fields: C.cano_go_task_options_init()}
	fill(&r.fields)
	return r
}

var (
	// RetryNone is a single attempt (cano's TaskConfig::minimal()).
	RetryNone = newRetry(func(o *C.cano_task_options) { C.cano_task_options_retry_none(o) })
	// RetryDefault is the default policy of the task's kind (CANO_RETRY_DEFAULT): for tasks,
	// routers and split branches cano's TaskConfig::default(), exponential, 3 retries, 100 ms
	// base, x2, 30 s cap, 10 % jitter (which they use without WithRetry); for poll tasks
	// TaskConfig::minimal(), one attempt.
	RetryDefault = newRetry(func(o *C.cano_task_options) { o.retry = C.CANO_RETRY_DEFAULT })
)

// RetryFixed is retries+1 attempts with delay (whole milliseconds, rounded up) between them
// (RetryMode::fixed).
func RetryFixed(retries int, delay time.Duration) Retry {
	return newRetry(func(o *C.cano_task_options) {
		C.cano_task_options_retry_fixed(o, clampU32(retries), C.uint64_t(durationMS(delay)))
	})
}

// RetryExponential is maxRetries+1 attempts with cano's default backoff: 100 ms base, x2,
// 30 s cap, 10 % jitter (RetryMode::exponential).
func RetryExponential(maxRetries int) Retry {
	return newRetry(func(o *C.cano_task_options) {
		C.cano_task_options_retry_exponential(o, clampU32(maxRetries))
	})
}

// RetryExponentialCustom is RetryMode::exponential_custom: maxRetries+1 attempts; the delay
// after failed attempt i (0-based) is min(base * multiplier^i, maxDelay) times
// (1 + jitter * r), r uniform in [-1, 1], truncated to whole milliseconds. jitter is clamped
// into [0, 1].
func RetryExponentialCustom(maxRetries int, base time.Duration, multiplier float64,
	maxDelay time.Duration, jitter float64) Retry {
	if jitter < 0 || jitter != jitter {
		jitter = 0
	} else if jitter > 1 {
		jitter = 1
	}
	return newRetry(func(o *C.cano_task_options) {
		o.retry = C.CANO_RETRY_EXPONENTIAL
		o.retry_max_retries = clampU32(maxRetries)
		o.retry_delay_ms = C.uint64_t(durationMS(base))
		o.retry_multiplier = C.double(multiplier)
		o.retry_max_delay_ms = C.uint64_t(durationMS(maxDelay))
		o.retry_jitter = C.double(jitter)
	})
}

// MaxAttempts is the number of attempts the policy allows (retries + 1, or 1).
func (r Retry) MaxAttempts() int {
	return int(C.cano_task_options_max_attempts(&r.fields))
}

// Delay is how long cano waits after failed attempt attemptIndex (0-based), with randomUnit in
// [-1, 1] standing for the jitter draw; ok is false when no retry follows that attempt.
func (r Retry) Delay(attemptIndex int, randomUnit float64) (d time.Duration, ok bool) {
	ms := C.cano_task_options_retry_delay(&r.fields, clampU32(attemptIndex), C.double(randomUnit))
	if ms < 0 {
		return 0, false
	}
	return time.Duration(ms) * time.Millisecond, true
}

func clampU32(n int) C.uint32_t {
	if n < 0 {
		return 0
	}
	if uint64(n) > 1<<32-1 {
		return 1<<32 - 1
	}
	return C.uint32_t(n)
}

// TaskOption configures a task registration (cano's TaskConfig plus the mode and the name).
type TaskOption func(*taskConfig)

type taskConfig struct {
	mode           Mode
	retry          Retry
	attemptTimeout time.Duration
	name           string
	poll           *PollPolicy        // WithPollPolicy; poll tasks only
	onCancel       func(token uint64) // WithOnCancel; async tasks and branches only
	// WithConcurrency and WithItemRetry; batch tasks only.
	concurrency    int
	hasConcurrency bool
	itemRetry      *Retry
}

// check refuses the options that do not apply to a registration of kind.
func (c *taskConfig) check(kind registration) error {
	if c.poll != nil && kind != pollTask {
		return NewError(CodeInvalidArgument, "WithPollPolicy applies to poll tasks (RegisterPoll) only")
	}
	if kind != batchTask && (c.hasConcurrency || c.itemRetry != nil) {
		what := "WithConcurrency"
		if !c.hasConcurrency {
			what = "WithItemRetry"
		}
		return NewError(CodeInvalidArgument, what+" applies to batch tasks (RegisterBatch) only")
	}
	if c.onCancel != nil && c.mode != Async {
		return NewError(CodeInvalidArgument,
			"WithOnCancel applies to Async tasks and branches only (the engine tells only pending async attempts)")
	}
	return nil
}

// WithMode sets where the body runs (default Worker). Async needs a body that calls Later, or
// RegisterAsync, which sets it itself.
func WithMode(m Mode) TaskOption { return func(c *taskConfig) { c.mode = m } }

// WithRetry sets the retry policy (default RetryDefault, as cano's TaskConfig::default()).
func WithRetry(r Retry) TaskOption { return func(c *taskConfig) { c.retry = r } }

// WithAttemptTimeout gives every attempt a fresh deadline of d (rounded up to whole
// milliseconds; 0 = none). Expiry fails the attempt with an ErrTimeout error
// ("task attempt exceeded attempt_timeout"), which is retried like any other failure.
func WithAttemptTimeout(d time.Duration) TaskOption {
	return func(c *taskConfig) { c.attemptTimeout = d }
}

// WithName sets the task's name in errors and logs (default: a Name() string method of the
// task, else the state's name).
func WithName(name string) TaskOption { return func(c *taskConfig) { c.name = name } }

// Task is a task body with a Go type: Run reads what it needs through ctx and returns the next
// state, or an error that fails the attempt. An error that is (or wraps) a *Error keeps its
// code; any other error fails with CodeTaskExecution and err.Error() as the message; an error
// matching ErrFatal (see Fatal) fails the task without further attempts. A panic in Run fails
// the task with CodeTaskExecution "panic: <value>", never retried (as in cano), and never
// reaches C.
//
// Run is called on the thread its mode names (a worker, or the loop thread), possibly
// concurrently for concurrent runs, so it must be safe for concurrent use. A task may also
// implement Name() string to name itself.
type Task[S State] interface {
	Run(ctx *TaskContext) (S, error)
}

// TaskFunc adapts a function to Task.
type TaskFunc[S State] func(ctx *TaskContext) (S, error)

// Run calls f(ctx).
func (f TaskFunc[S]) Run(ctx *TaskContext) (S, error) { return f(ctx) }

// AsyncFunc is the body of an async task (RegisterAsync): it starts the work and returns; the
// work finishes the attempt with done.Complete or done.Fail, from any goroutine, exactly once.
type AsyncFunc[S State] func(ctx *TaskContext, done *Completion[S])

// taskEntry is what a task registration's handle holds.
type taskEntry struct {
	mode Mode
	run  func(ctx *TaskContext) (int32, error)
	// branch is set for a split branch (index is its position): it succeeds by returning
	// CANO_OK, and a panic in it is reported as cano reports one in a split task.
	branch bool
	index  int
	// name is the task's name as errors show it (its option, else its state's).
	name string
	// timer holds a timer task's wait (RegisterTimer).
	timer Timer
	// batch holds a batch task's load and item steps (RegisterBatch); run is its finish step.
	batch *batchEntry
	// onCancel is the WithOnCancel function of an async task or branch, or nil.
	onCancel func(token uint64)
}

// panicMessage is the failure message of a panic in the entry's body: cano's "panic: <value>",
// or "panic in split task <index>: <value>" for a split branch.
func (e *taskEntry) panicMessage(r any) string {
	if e != nil && e.branch {
		return fmt.Sprintf("panic in split task %d: %s", e.index, panicValue(r))
	}
	return panicMessage(r)
}

// TaskContext is what a task body receives: the run's resources, the attempt, the run id, the
// cancelled flag, and for async tasks the completion token.
//
// Ownership: it is valid only during the body's call (for a worker body that timed out, until
// it returns); keep a Completion, not the context, for work that outlives the call. Once the
// body returned, its methods answer as for a closed context (zero values, Cancelled false,
// errors). Methods may be called from the body's goroutine, Cancelled also from goroutines the
// body waits for; Later only from the body itself.
type TaskContext struct {
	// c is the library's context; the binding clears it when the body returns, so a context
	// that escaped its call answers like a closed one instead of reaching freed memory.
	c       unsafe.Pointer // *C.cano_task_ctx, read and written atomically
	async   bool
	branch  bool // the body of a split branch
	pending bool
	// pollAgain asks the engine to poll again after pollDelay (a poll task's Pending).
	pollAgain bool
	pollDelay time.Duration
	// stepMore asks the engine to call the body again with nextCursor (a step's More).
	stepMore   bool
	nextCursor []byte
	name       string         // the task's name, for cursor errors ("" for a split branch)
	entry      *taskEntry     // the registration whose body runs (nil in a timer's wait function)
	signal     *attemptSignal // set by Later: the pending attempt's cancel signal
}

func (c *TaskContext) ptr() *C.cano_task_ctx {
	return (*C.cano_task_ctx)(atomic.LoadPointer(&c.c))
}

func (c *TaskContext) set(ctx *C.cano_task_ctx) { atomic.StorePointer(&c.c, unsafe.Pointer(ctx)) }

// Resources is the run's resource set, borrowed: Close on it does nothing, and it stays valid
// while the workflow does.
func (c *TaskContext) Resources() *Resources {
	return &Resources{ptr: C.cano_task_ctx_resources(c.ptr()), borrowed: true}
}

// Store is the MemoryStore inserted under key in the run's resources (borrowed, like
// Resources). Errors: ErrResourceNotFound, ErrResourceTypeMismatch.
func (c *TaskContext) Store(key string) (*MemoryStore, error) {
	return c.Resources().Store(key)
}

// Attempt is the 1-based attempt number.
func (c *TaskContext) Attempt() int { return int(C.cano_task_ctx_attempt(c.ptr())) }

// RunID is the run's id, unique within its engine and never 0.
func (c *TaskContext) RunID() uint64 { return uint64(C.cano_task_ctx_run_id(c.ptr())) }

// StateCode is the code of the state the task runs for (see StateOf for the typed state).
func (c *TaskContext) StateCode() int32 { return int32(C.cano_task_ctx_state(c.ptr())) }

// StateOf is the state the task runs for, as the workflow's state type.
func StateOf[S State](c *TaskContext) S { return S(c.StateCode()) }

// Engine is the engine running the task.
func (c *TaskContext) Engine() *Engine { return engineOf(C.cano_task_ctx_engine(c.ptr())) }

// Cancelled reports whether the attempt was abandoned (its timeout fired, the run was
// cancelled or timed out, or the engine shuts down): a long worker body should poll it and
// return early; its result is discarded anyway.
func (c *TaskContext) Cancelled() bool { return C.cano_task_ctx_cancelled(c.ptr()) != 0 }

// Cursor is a copy of the cursor the previous step left (see RegisterStepped), and whether
// there is one: false on a stepped task's first step and in bodies that never step. Cursors are
// JSON text unless a step passed raw bytes to More.
func (c *TaskContext) Cursor() (json.RawMessage, bool) {
	var data unsafe.Pointer
	var size C.size_t
	if C.cano_task_ctx_cursor(c.ptr(), &data, &size) == 0 {
		return nil, false
	}
	if size == 0 {
		return json.RawMessage{}, true
	}
	return json.RawMessage(C.GoBytes(data, C.int(size))), true
}

// Token is the async completion token (0 for tasks that are not Async).
func (c *TaskContext) Token() uint64 { return uint64(C.cano_task_ctx_token(c.ptr())) }

// Later makes the current attempt of an Async task finish later: the body returns at once
// (its return values are ignored) and the returned Completion finishes the attempt, from any
// goroutine. Errors: ErrBadState when the task is not registered with Async.
func Later[S State](c *TaskContext) (*Completion[S], error) {
	engine, token, signal, err := c.later("Later")
	if err != nil {
		return nil, err
	}
	return &Completion[S]{engine: engine, token: token, signal: signal}, nil
}

// later marks the attempt pending and returns what completes it: the engine, the token, and the
// signal that tells the attempt it was abandoned.
func (c *TaskContext) later(who string) (*Engine, uint64, *attemptSignal, error) {
	ctx := c.ptr()
	token := c.Token()
	if !c.async || token == 0 || ctx == nil {
		return nil, 0, nil, NewError(CodeBadState, who+" needs a task registered with cano.Async")
	}
	raw := C.cano_task_ctx_engine(ctx)
	engine := engineOf(raw)
	if engine == nil {
		return nil, 0, nil, NewError(CodeBadState, "the task's engine is not a Go engine")
	}
	var signal *attemptSignal
	if c.pending {
		// A second Later in the same call names the same attempt.
		signal = c.signal
	} else {
		signal = trackAttempt(engine, raw, c.entry, token)
	}
	c.pending = true
	c.signal = signal
	return engine, token, signal, nil
}

// Completion finishes one async attempt, exactly once. Any goroutine may call its methods, and
// it may be copied; every copy names the same attempt.
//
// Cancellation: when the engine abandons the attempt while it is pending (its attempt timeout
// fired, the run was cancelled or timed out, or the engine shut down), Done is closed and
// Context is cancelled, so that the work started for the attempt can stop; a completion made
// afterwards is accepted and ignored. The engine tells the attempt on its loop thread (see
// WithOnCancel) as soon as it has finished the step that abandoned it; Done is also closed
// when the engine shuts down with the attempt still pending. An attempt completed through
// Complete or Fail is never told: its Done channel stays open.
type Completion[S State] struct {
	engine *Engine
	token  uint64
	signal *attemptSignal
}

// Complete finishes the attempt with next. A second completion of the same attempt returns an
// ErrBadState error and changes nothing; after the engine shut down it returns ErrShutdown. A
// completion of an attempt that already timed out (or whose run ended) is accepted and ignored.
func (d *Completion[S]) Complete(next S) error {
	d.signal.settle()
	return d.engine.complete(d.token, true, int32(next), 0, "")
}

// Fail finishes the attempt with a failure: err's code when it is (or wraps) a *Error, else
// CodeTaskExecution with err.Error(). A nil err fails with "task failed". Same rules as Complete.
// The failure is retried as any other: an async completion cannot fail fatally (see ErrFatal);
// a body that must not be retried returns its Fatal error instead of calling Later.
func (d *Completion[S]) Fail(err error) error {
	code, message := CodeTaskExecution, "task failed"
	if err != nil {
		code, message = failureOf(err, CodeTaskExecution)
	}
	d.signal.settle()
	return d.engine.complete(d.token, false, 0, code, message)
}

// Token is the attempt's completion token.
func (d *Completion[S]) Token() uint64 { return d.token }

// Done is closed when the engine abandons the attempt before it was completed (see
// Completion): select on it in the work started for the attempt. It stays open once the
// attempt is completed through this Completion.
func (d *Completion[S]) Done() <-chan struct{} { return d.signal.doneChan() }

// Context is a context.Context cancelled when Done closes, for work that takes one (a request,
// a query). It carries no deadline or values, and is not cancelled by Complete or Fail.
func (d *Completion[S]) Context() context.Context { return d.signal.contextOrBackground() }

// panicMessage renders a recovered panic value as cano does: "panic: <value>".
func panicMessage(r any) string { return "panic: " + panicValue(r) }

// panicValue is the text of a recovered panic value.
func panicValue(r any) string {
	switch v := r.(type) {
	case string:
		return v
	case error:
		return v.Error()
	default:
		return fmt.Sprintf("%v", v)
	}
}
