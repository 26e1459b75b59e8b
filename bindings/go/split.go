package cano

/*
#include "cano_go.h"
*/
import "C"

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// Split states (cano/split.h, cano 0.13's split/join): a state whose branches run in parallel
// (at most WithBulkhead(n) at a time), then the run moves to the join state when the join
// strategy is satisfied:
//
//	JoinAll()              every branch succeeded                      waits for all
//	JoinAny()              at least one succeeded                      ends at the first success
//	JoinQuorum(n)          at least n succeeded                        waits for all
//	JoinPercentage(p)      at least ceil(total * p) succeeded          waits for all
//	JoinPartialResults(n)  at least n succeeded                        ends once n have
//	JoinPartialTimeout()   at least one branch completed (either way)  by the split timeout
//
// A failed join fails the run with an ErrWorkflow error in cano's words: "Join condition not
// met: S of T tasks completed successfully, strategy: Quorum(2); errors: task 1: ...",
// "Partial results condition not met: S completed successfully, M required", "PartialTimeout:
// No tasks completed before timeout", or "Split task timeout exceeded" (the split timeout
// passed under any strategy but JoinPartialTimeout). Branches that lose (an early exit or the
// split timeout) are cancelled: TaskContext.Cancelled turns true in their bodies and their
// late results are discarded. The join state's task reads every branch's outcome with
// TaskContext.SplitResult.

// JoinStrategy decides when a split is done and whether it succeeded (cano's JoinStrategy).
// The zero value is JoinAll().
type JoinStrategy struct {
	kind       C.cano_join_strategy
	count      int
	percentage float64
}

// JoinAll succeeds when every branch succeeded; it waits for all (failures do not end it
// early). With no branches it succeeds.
func JoinAll() JoinStrategy { return JoinStrategy{kind: C.CANO_JOIN_ALL} }

// JoinAny succeeds at the first success and cancels the other branches. With no branches it
// fails.
func JoinAny() JoinStrategy { return JoinStrategy{kind: C.CANO_JOIN_ANY} }

// JoinQuorum succeeds when at least n branches succeeded; it waits for all. JoinQuorum(0)
// always succeeds; n above the number of branches always fails. A negative n is refused by
// RegisterSplit.
func JoinQuorum(n int) JoinStrategy { return JoinStrategy{kind: C.CANO_JOIN_QUORUM, count: n} }

// JoinPercentage succeeds when at least ceil(total * p) branches succeeded; it waits for all.
// p must be finite and in (0, 1]: otherwise validation (Validate, or the first run) fails with
// ErrConfiguration "Percentage strategy requires a finite value in (0.0, 1.0], got P".
func JoinPercentage(p float64) JoinStrategy {
	return JoinStrategy{kind: C.CANO_JOIN_PERCENTAGE, percentage: p}
}

// JoinPartialResults succeeds as soon as n branches succeeded, cancelling the rest; it fails
// ("Partial results condition not met: ...") when too few can. JoinPartialResults(0) succeeds
// at the first completion. A negative n is refused by RegisterSplit.
func JoinPartialResults(n int) JoinStrategy {
	return JoinStrategy{kind: C.CANO_JOIN_PARTIAL_RESULTS, count: n}
}

// JoinPartialTimeout waits for the split timeout (WithSplitTimeout, required: validation fails
// with ErrConfiguration "PartialTimeout strategy requires a timeout to be configured" without
// one) or for every branch, and succeeds when at least one branch completed, successfully or
// not; it fails with "PartialTimeout: No tasks completed before timeout" otherwise (also with
// no branches).
func JoinPartialTimeout() JoinStrategy { return JoinStrategy{kind: C.CANO_JOIN_PARTIAL_TIMEOUT} }

// Count is the n of JoinQuorum and JoinPartialResults (0 for the others).
func (s JoinStrategy) Count() int { return s.count }

// Percentage is the p of JoinPercentage (0 for the others).
func (s JoinStrategy) Percentage() float64 { return s.percentage }

// String is the strategy as cano's errors show it: "All", "Any", "Quorum(2)",
// "Percentage(0.5)", "PartialResults(3)", "PartialTimeout".
func (s JoinStrategy) String() string {
	switch s.kind {
	case C.CANO_JOIN_ALL:
		return "All"
	case C.CANO_JOIN_ANY:
		return "Any"
	case C.CANO_JOIN_QUORUM:
		return fmt.Sprintf("Quorum(%d)", s.count)
	case C.CANO_JOIN_PERCENTAGE:
		return "Percentage(" + rustFloatDebug(s.percentage) + ")"
	case C.CANO_JOIN_PARTIAL_RESULTS:
		return fmt.Sprintf("PartialResults(%d)", s.count)
	case C.CANO_JOIN_PARTIAL_TIMEOUT:
		return "PartialTimeout"
	}
	return fmt.Sprintf("JoinStrategy(%d)", int(s.kind))
}

// rustFloatDebug renders f as Rust's Debug does for ordinary values: the shortest text that
// reads back the same, with ".0" on whole numbers.
func rustFloatDebug(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	text := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(text, ".e") {
		text += ".0"
	}
	return text
}

// SplitOption configures a split state (cano's JoinConfig beyond the strategy and the join
// state).
type SplitOption func(*splitConfig)

type splitConfig struct {
	timeout     time.Duration
	bulkhead    int
	hasBulkhead bool
}

// WithSplitTimeout limits the split to d (rounded up to whole milliseconds; 0 = none, the
// default), counted from when the branches are started, so time queued behind the bulkhead
// counts. When it passes the remaining branches are cancelled and the split fails with
// ErrWorkflow "Split task timeout exceeded", except under JoinPartialTimeout, which then
// decides on what completed.
func WithSplitTimeout(d time.Duration) SplitOption {
	return func(c *splitConfig) { c.timeout = d }
}

// WithBulkhead lets at most n branches run at once; a branch holds its slot through its
// retries. Without it every branch starts at once. n must be at least 1: RegisterSplit refuses
// WithBulkhead(0) with ErrConfiguration "bulkhead requires a positive permit count, got 0",
// cano's validation error.
func WithBulkhead(n int) SplitOption {
	return func(c *splitConfig) { c.bulkhead, c.hasBulkhead = n, true }
}

// Branch is one branch of a split state: its body and its task options (WithMode, WithRetry,
// WithAttemptTimeout, WithName, and WithOnCancel for an async branch; not WithPollPolicy or the
// batch options). With no options a branch runs on a worker with RetryDefault, as a task does.
//
// Run succeeds when it returns a nil error; the []byte it returns then becomes the branch's
// value (nil leaves none; it is copied), which the join state's task reads through
// TaskContext.SplitResult. An error fails the attempt as a task's does (retries apply; an error
// matching ErrFatal, or a panic, ends the branch's retries at once; a panic fails it with
// "panic in split task <index>: <value>", as cano reports one).
type Branch struct {
	Run     func(ctx *TaskContext) ([]byte, error)
	Options []TaskOption
}

// NewBranch is Branch{Run: fn, Options: opts}.
func NewBranch(fn func(ctx *TaskContext) ([]byte, error), opts ...TaskOption) Branch {
	return Branch{Run: fn, Options: opts}
}

// AsyncBranch is a branch whose body runs on the loop thread, must not block, and finishes each
// attempt through its BranchCompletion, from any goroutine. A value must be left with
// ctx.SetValue during the body call (a completion carries none). The mode is Async whatever
// the options say.
func AsyncBranch(fn func(ctx *TaskContext, done *BranchCompletion), opts ...TaskOption) Branch {
	if fn == nil {
		return Branch{Options: opts}
	}
	run := func(ctx *TaskContext) ([]byte, error) {
		done, err := LaterBranch(ctx)
		if err != nil {
			return nil, err
		}
		fn(ctx, done)
		return nil, nil
	}
	return Branch{Run: run, Options: append(append([]TaskOption(nil), opts...), WithMode(Async))}
}

// LaterBranch makes the current attempt of an Async split branch finish later, as Later does
// for a task: the body returns at once (its return values are ignored) and the returned
// BranchCompletion finishes the attempt from any goroutine. Errors: ErrBadState when the body
// is not an Async split branch.
func LaterBranch(c *TaskContext) (*BranchCompletion, error) {
	if !c.branch {
		return nil, NewError(CodeBadState, "LaterBranch needs a split branch (use Later for a task)")
	}
	engine, token, signal, err := c.later("LaterBranch")
	if err != nil {
		return nil, err
	}
	return &BranchCompletion{engine: engine, token: token, signal: signal}, nil
}

// BranchCompletion finishes one attempt of an async branch, exactly once. Any goroutine may
// call its methods, and it may be copied; every copy names the same attempt. When the engine
// abandons the pending attempt (the branch lost to an early exit or the split timeout, its
// attempt timed out, the run was cancelled or timed out, the engine shut down), Done closes
// and Context is cancelled, as for a Completion.
type BranchCompletion struct {
	engine *Engine
	token  uint64
	signal *attemptSignal
}

// Succeed finishes the attempt successfully. A second completion of the same attempt returns
// an ErrBadState error; after the engine shut down it returns ErrShutdown; a completion of an
// attempt that was already abandoned (timed out, cancelled) is accepted and ignored.
func (d *BranchCompletion) Succeed() error {
	d.signal.settle()
	return d.engine.complete(d.token, true, 0, 0, "")
}

// Fail finishes the attempt with a failure, as Completion.Fail does (not fatally).
func (d *BranchCompletion) Fail(err error) error {
	code, message := CodeTaskExecution, "task failed"
	if err != nil {
		code, message = failureOf(err, CodeTaskExecution)
	}
	d.signal.settle()
	return d.engine.complete(d.token, false, 0, code, message)
}

// Token is the attempt's completion token.
func (d *BranchCompletion) Token() uint64 { return d.token }

// Done is closed when the engine abandons the attempt before it was completed (see
// BranchCompletion and Completion.Done).
func (d *BranchCompletion) Done() <-chan struct{} { return d.signal.doneChan() }

// Context is cancelled when Done closes (see Completion.Context).
func (d *BranchCompletion) Context() context.Context { return d.signal.contextOrBackground() }

// RegisterSplit registers state (declaring it) as a split state: its branches run in parallel,
// then, when strategy is satisfied, the run moves to joinState (which must have a task or be
// an exit state: validation fails with ErrConfiguration "Split join_state J is neither
// registered nor an exit state" otherwise). It replaces any previous task of the state. An
// empty branches list is allowed (see each strategy for what it decides).
//
// The strategy's parameters are checked when the workflow is validated (Validate, or the
// first run), as cano does, except what Go can refuse at once: a negative count
// (ErrInvalidArgument), a branch without Run or with WithPollPolicy (ErrInvalidArgument), and
// WithBulkhead below 1 (ErrConfiguration). Other errors: those of Register.
func (w *Workflow[S]) RegisterSplit(state S, branches []Branch, strategy JoinStrategy, joinState S,
	opts ...SplitOption) error {
	var cfg splitConfig
	for _, opt := range opts {
		opt(&cfg)
	}
	if strategy.count < 0 {
		return NewError(CodeInvalidArgument, fmt.Sprintf("%v: the count must not be negative", strategy))
	}
	if cfg.hasBulkhead && cfg.bulkhead < 1 {
		return NewError(CodeConfiguration,
			fmt.Sprintf("bulkhead requires a positive permit count, got %d", cfg.bulkhead))
	}
	configs := make([]taskConfig, len(branches))
	for i, b := range branches {
		if b.Run == nil {
			return NewError(CodeInvalidArgument, fmt.Sprintf("branch %d of RegisterSplit has no Run function", i))
		}
		configs[i] = taskConfig{mode: Worker, retry: RetryDefault}
		for _, opt := range b.Options {
			opt(&configs[i])
		}
		if err := configs[i].check(branchTask); err != nil {
			return err
		}
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.declare(state); err != nil {
		return err
	}
	// The options live in C memory: the array holds C pointers only, but a C array keeps the
	// rule simple whatever the library does with it during the call.
	var array *C.cano_task_options
	if len(branches) > 0 {
		array = (*C.cano_task_options)(C.calloc(C.size_t(len(branches)), C.size_t(C.sizeof_cano_task_options)))
		if array == nil {
			return NewError(CodeNoMemory, "out of memory")
		}
		defer C.free(unsafe.Pointer(array))
	}
	slice := unsafe.Slice(array, len(branches))
	for i, b := range branches {
		run := b.Run
		entry := &taskEntry{mode: configs[i].mode, branch: true, index: i, onCancel: configs[i].onCancel,
			run: func(ctx *TaskContext) (int32, error) {
				value, err := run(ctx)
				if err == nil && value != nil {
					if err := ctx.SetValue(value); err != nil {
						return 0, err
					}
				}
				return 0, err
			}}
		options, err := newTaskOptions(entry, configs[i])
		if err != nil {
			// None of the slots reached the library yet: release them here.
			for j := 0; j < i; j++ {
				C.free(unsafe.Pointer(slice[j].name))
				C.cano_go_slot_destroy(slice[j].user_data)
			}
			return err
		}
		slice[i] = options
	}
	defer func() {
		for i := range slice {
			C.free(unsafe.Pointer(slice[i].name))
		}
	}()

	join := C.cano_go_join_options_init()
	join.strategy = strategy.kind
	join.count = clampU32(strategy.count)
	join.percentage = C.double(strategy.percentage)
	join.timeout_ms = C.uint64_t(durationMS(cfg.timeout))
	join.join_state = C.int32_t(joinState)
	if cfg.hasBulkhead {
		join.bulkhead = clampU32(cfg.bulkhead)
	}
	// Ownership of every slot passes to the library: on error it runs their destroy hooks.
	var cerr *C.cano_error
	status := C.cano_workflow_register_split(w.ptr, C.int32_t(state), array,
		C.size_t(len(branches)), &join, &cerr)
	return takeError(status, cerr)
}

// BranchStatus is how a branch ended (cano_branch_status).
type BranchStatus int32

const (
	// BranchSucceeded: the branch's body returned a nil error.
	BranchSucceeded BranchStatus = C.CANO_BRANCH_SUCCEEDED
	// BranchFailed: its last attempt failed (BranchResult.Err says why).
	BranchFailed BranchStatus = C.CANO_BRANCH_FAILED
	// BranchCancelled: it lost (an early exit or the split timeout) or never started.
	BranchCancelled BranchStatus = C.CANO_BRANCH_CANCELLED
)

// String is "succeeded", "failed" or "cancelled".
func (s BranchStatus) String() string {
	switch s {
	case BranchSucceeded:
		return "succeeded"
	case BranchFailed:
		return "failed"
	case BranchCancelled:
		return "cancelled"
	}
	return fmt.Sprintf("BranchStatus(%d)", int32(s))
}

// SplitResult is what the split a run just left did, as its join state's task sees it
// (TaskContext.SplitResult). It is a copy in Go memory: keep it as long as needed.
type SplitResult struct {
	// Branches has one entry per branch, in registration order.
	Branches []BranchResult
	// Succeeded, Failed and Cancelled count the branches by status.
	Succeeded, Failed, Cancelled int
}

// BranchResult is one branch's outcome.
type BranchResult struct {
	// Index is the branch's position in RegisterSplit's list.
	Index int
	// Status is how it ended.
	Status BranchStatus
	// Value is the value it left when it succeeded: nil when it left none (or did not
	// succeed), a non-nil empty slice for an empty value.
	Value []byte
	// Err is its last attempt's error when it failed, else nil.
	Err *Error
}

// SplitResult is the outcome of the split the run just left when this task runs for that
// split's join state; nil otherwise (any other task, a closed context). This goes beyond cano
// 0.13, whose join task cannot see the branches' results.
func (c *TaskContext) SplitResult() *SplitResult {
	return convertSplitResult(C.cano_task_ctx_split_result(c.ptr()))
}

// convertSplitResult copies a split result (a split's, or a batch's outcomes) into Go memory;
// nil for NULL.
func convertSplitResult(result *C.cano_split_result) *SplitResult {
	if result == nil {
		return nil
	}
	n := int(C.cano_split_result_count(result))
	out := &SplitResult{
		Branches:  make([]BranchResult, n),
		Succeeded: int(C.cano_split_result_succeeded(result)),
		Failed:    int(C.cano_split_result_failed(result)),
		Cancelled: int(C.cano_split_result_cancelled(result)),
	}
	for i := range out.Branches {
		index := C.size_t(i)
		b := BranchResult{Index: i, Status: BranchStatus(C.cano_split_result_status(result, index))}
		var length C.size_t
		if data := C.cano_split_result_value(result, index, &length); data != nil {
			b.Value = make([]byte, int(length))
			copy(b.Value, unsafe.Slice((*byte)(data), int(length)))
		}
		b.Err = convertError(C.cano_split_result_error(result, index))
		out.Branches[i] = b
	}
	return out
}

// SetValue leaves value (copied; nil or empty leaves an empty value) for the join state's task,
// replacing any earlier one; a branch whose Run returns a non-nil value sets it this way. Only
// split branches and batch items have values: elsewhere it does nothing. It is how an async branch leaves a
// value (during its body call). Batch items have values too: RegisterBatch sets the value of
// each item from its process function's output. Errors: ErrBadState on a context whose body has
// returned.
func (c *TaskContext) SetValue(value []byte) error {
	ctx := c.ptr()
	if ctx == nil {
		return NewError(CodeBadState, "the task context is closed: its body has returned")
	}
	var data unsafe.Pointer
	if len(value) > 0 {
		data = unsafe.Pointer(&value[0])
	}
	if status := C.cano_task_ctx_set_value(ctx, data, C.size_t(len(value))); status != C.CANO_OK {
		return takeError(status, nil)
	}
	return nil
}
