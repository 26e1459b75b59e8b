package cano

/*
#include "cano_go.h"
*/
import "C"

import (
	"encoding/json"
	"fmt"
	"unsafe"
)

// Batch tasks (cano/batch.h, cano 0.13's BatchTask, spec section 3.3): one attempt loads a list
// of items, processes each item (at most WithConcurrency(n) at a time, each with its own
// retries), then finishes with every item's outcome in input order and picks the next state.
// Item failures do not fail the batch: the finish function decides.
//
// Items and outputs cross the C ABI as bytes: a value of type T or O is encoded with
// encoding/json (json.Marshal, then json.Unmarshal on the other side), except that []byte and
// json.RawMessage are passed as they are. So the process function gets a copy of its item,
// decoded, and the finish function a decoded copy of every output.

// ItemResult is one item's outcome as a batch task's finish function sees it.
type ItemResult[O any] struct {
	// Index is the item's position in the list its load function returned.
	Index int
	// Value is the item's output when it succeeded (decoded from its JSON; for an O of []byte
	// or json.RawMessage the bytes themselves, nil when the process function returned nil).
	// The zero value when it failed.
	Value O
	// Err is the item's error when it failed, else nil: a *Error (use errors.As) carrying its
	// last attempt's code and message raw, never wrapped in a RetryExhausted error, and naming
	// the task "NAME[i]".
	Err error
}

// OK reports whether the item succeeded.
func (r ItemResult[O]) OK() bool { return r.Err == nil }

// WithConcurrency lets at most n items of a batch task be processed at once (cano's
// concurrency(); default 1, and 0 means 1, as cano clamps it). An item holds its slot through
// its retry delays. In Worker mode the items run on the engine's workers, whose number also
// limits them; Inline items run on the loop thread, one call at a time. Only RegisterBatch
// takes it; a negative n is refused with ErrInvalidArgument.
func WithConcurrency(n int) TaskOption {
	return func(c *taskConfig) { c.concurrency, c.hasConcurrency = n, true }
}

// WithItemRetry sets the retry policy of each item of a batch task (cano's item_retry();
// default RetryNone, one attempt: RetryDefault means RetryNone here, as CANO_RETRY_DEFAULT does
// for items in the C ABI). An item's retries have no timeout of their own, and its final error
// is its last attempt's, raw. Only RegisterBatch takes it.
func WithItemRetry(r Retry) TaskOption {
	return func(c *taskConfig) { c.itemRetry = &r }
}

// batchEntry is a batch task's load and item steps; the entry's run is its finish step.
type batchEntry struct {
	load func(ctx *TaskContext) error // adds the items
	item func(ctx *TaskContext) error // processes the context's item and leaves its output
}

// RegisterBatch registers a batch task for state on w (declaring the state), replacing any
// previous task: cano's BatchTask (spec section 3.3). It is a function, not a method, because
// it has type parameters of its own: T is the item type, O the output type, and both are
// inferred from the functions:
//
//	err := cano.RegisterBatch(wf, Resize,
//		func(ctx *cano.TaskContext) ([]string, error) { return listImages() },
//		func(ctx *cano.TaskContext, path string) (int64, error) { return resize(path) },
//		func(ctx *cano.TaskContext, results []cano.ItemResult[int64]) (Step, error) {
//			for _, r := range results { /* r.Index, r.Value, r.Err */ }
//			return Done, nil
//		}, cano.WithConcurrency(4), cano.WithItemRetry(cano.RetryFixed(2, time.Second)))
//
// Each attempt of the task runs three steps, with the task's mode (Worker, the default, or
// Inline; Async is refused, as the C ABI refuses it, since an asynchronous load or item could
// not hand its items or output back):
//
//   - load returns the items (an empty list is fine: finish then gets no results). An error
//     fails the attempt without calling finish.
//   - process runs once per item (see WithConcurrency and WithItemRetry) and returns the item's
//     output or an error; TaskContext.Attempt is the item's attempt and TaskContext.BatchIndex
//     its index. A failed item does not fail the batch. An error matching ErrFatal, or a panic
//     ("panic: <value>"), is cano's panic in process_item: it fails the whole task at once,
//     without calling finish and without the task's retries.
//   - finish gets every item's outcome in input order (whatever order they completed in) and
//     returns the next state, or an error that fails the attempt.
//
// Load and finish failures go through the task's own retries (WithRetry; default RetryDefault,
// cano's TaskConfig::default()), and a retry runs load, the items and finish again. The
// attempt timeout (WithAttemptTimeout) bounds the whole attempt. A panic in load or finish, or
// an error matching ErrFatal, fails the task at once, as in any task. An item's errors name the
// task "NAME[i]". Items or outputs that encoding/json refuses fail (worded as the stepped
// tasks' cursor errors) with CodeTaskExecution "serialize item I for `NAME`: ..." (the load step),
// "deserialize item for `NAME[i]`: ..." or "serialize output for `NAME[i]`: ..." (the item), or
// "deserialize output of `NAME[i]`: ..." (that item's Err in finish).
//
// The functions run on the thread the mode names, possibly concurrently (items of one batch,
// and concurrent runs), so they must be safe for concurrent use.
//
// Options: those of Register, plus WithConcurrency and WithItemRetry; not WithPollPolicy or
// WithOnCancel. Errors: ErrInvalidArgument naming the state for a nil function, Async mode or a
// negative concurrency; otherwise those of Register.
func RegisterBatch[S State, T, O any](w *Workflow[S], state S,
	load func(ctx *TaskContext) ([]T, error),
	process func(ctx *TaskContext, item T) (O, error),
	finish func(ctx *TaskContext, results []ItemResult[O]) (S, error),
	opts ...TaskOption) error {
	if w == nil {
		return NewError(CodeInvalidArgument, "RegisterBatch needs a workflow")
	}
	cfg := taskConfig{mode: Worker, retry: RetryDefault}
	for _, opt := range opts {
		opt(&cfg)
	}
	where := fmt.Sprintf("RegisterBatch: the batch task for state %q", state.String())
	switch {
	case load == nil:
		return NewError(CodeInvalidArgument, where+" has no load function")
	case process == nil:
		return NewError(CodeInvalidArgument, where+" has no process function")
	case finish == nil:
		return NewError(CodeInvalidArgument, where+" has no finish function")
	case cfg.mode == Async:
		return NewError(CodeInvalidArgument, where+" cannot be Async (use Worker or Inline)")
	case cfg.hasConcurrency && cfg.concurrency < 0:
		return NewError(CodeInvalidArgument,
			fmt.Sprintf("%s has a negative concurrency (%d)", where, cfg.concurrency))
	}

	entry := &taskEntry{mode: cfg.mode}
	entry.batch = &batchEntry{
		load: func(ctx *TaskContext) error {
			items, err := load(ctx)
			if err != nil {
				return err
			}
			for i, item := range items {
				data, _, err := encodeBatchValue(item)
				if err != nil {
					return NewError(CodeTaskExecution,
						fmt.Sprintf("serialize item %d for `%s`: %v", i, entry.name, err))
				}
				if err := ctx.batchAdd(data); err != nil {
					return err
				}
			}
			return nil
		},
		item: func(ctx *TaskContext) error {
			index, data, ok := ctx.batchItem()
			if !ok {
				return NewError(CodeInternal, "a batch item step without an item")
			}
			var item T
			if err := decodeBatchValue(data, &item); err != nil {
				return NewError(CodeTaskExecution,
					fmt.Sprintf("deserialize item for `%s[%d]`: %v", entry.name, index, err))
			}
			out, err := process(ctx, item)
			if err != nil {
				return err
			}
			value, set, err := encodeBatchValue(out)
			if err != nil {
				return NewError(CodeTaskExecution,
					fmt.Sprintf("serialize output for `%s[%d]`: %v", entry.name, index, err))
			}
			if !set {
				return nil
			}
			return ctx.SetValue(value)
		},
	}
	entry.run = func(ctx *TaskContext) (int32, error) {
		raw := convertSplitResult(C.cano_task_ctx_batch_results(ctx.ptr()))
		if raw == nil {
			return 0, NewError(CodeInternal, "a batch finish step without results")
		}
		results := make([]ItemResult[O], len(raw.Branches))
		for i, b := range raw.Branches {
			results[i].Index = i
			switch {
			case b.Status != BranchSucceeded:
				if b.Err != nil {
					results[i].Err = b.Err
				} else {
					results[i].Err = NewError(CodeTaskExecution, fmt.Sprintf("item %d did not succeed", i))
				}
			case b.Value != nil:
				if err := decodeBatchValue(b.Value, &results[i].Value); err != nil {
					results[i].Err = NewError(CodeTaskExecution,
						fmt.Sprintf("deserialize output of `%s[%d]`: %v", entry.name, i, err))
				}
			}
		}
		next, err := finish(ctx, results)
		return int32(next), err
	}
	return w.register(state, entry, cfg, batchTask)
}

// encodeBatchValue is the bytes of an item or output: a V of type []byte or json.RawMessage as
// it is, anything else json.Marshal'ed (the static type decides, so an interface V holding
// bytes is encoded as JSON, as it is decoded). set is false for a nil []byte or
// json.RawMessage (an output that leaves no value; an item of no bytes).
func encodeBatchValue[V any](v V) (data []byte, set bool, err error) {
	switch b := any(&v).(type) {
	case *[]byte:
		return *b, *b != nil, nil
	case *json.RawMessage:
		return *b, *b != nil, nil
	}
	data, err = json.Marshal(v)
	return data, err == nil, err
}

// decodeBatchValue is the inverse of encodeBatchValue: a copy for a V of type []byte or
// json.RawMessage, json.Unmarshal for anything else.
func decodeBatchValue[V any](data []byte, into *V) error {
	switch p := any(into).(type) {
	case *[]byte:
		*p = append([]byte{}, data...)
		return nil
	case *json.RawMessage:
		*p = append(json.RawMessage{}, data...)
		return nil
	}
	return json.Unmarshal(data, into)
}

// BatchIndex is the input index of the item a batch task's process function is processing
// (its position in the list load returned), and whether there is one: false anywhere else
// (load, finish, other tasks, a closed context).
func (c *TaskContext) BatchIndex() (int, bool) {
	var index C.size_t
	if C.cano_task_ctx_batch_item(c.ptr(), &index, nil, nil) == 0 {
		return 0, false
	}
	return int(index), true
}

// batchItem is the index and a copy of the bytes of the item being processed.
func (c *TaskContext) batchItem() (int, []byte, bool) {
	var index, size C.size_t
	var data unsafe.Pointer
	if C.cano_task_ctx_batch_item(c.ptr(), &index, &data, &size) == 0 {
		return 0, nil, false
	}
	out := make([]byte, int(size))
	if size > 0 {
		copy(out, unsafe.Slice((*byte)(data), int(size)))
	}
	return int(index), out, true
}

// batchAdd adds an item (copied) during a load step.
func (c *TaskContext) batchAdd(data []byte) error {
	ctx := c.ptr()
	if ctx == nil {
		return NewError(CodeBadState, "the task context is closed: its body has returned")
	}
	var p unsafe.Pointer
	if len(data) > 0 {
		p = unsafe.Pointer(&data[0])
	}
	if status := C.cano_task_ctx_batch_add(ctx, p, C.size_t(len(data))); status != C.CANO_OK {
		return takeError(status, nil)
	}
	return nil
}
