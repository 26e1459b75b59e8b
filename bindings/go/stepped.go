package cano

/*
#include "cano_go.h"
*/
import "C"

import (
	"encoding/json"
	"fmt"
)

// Stepped tasks (cano/stepped.h, cano's SteppedTask): resumable iterative work, one step at a
// time. A step reads the cursor the previous step left (none on the first step) and answers
// More(cursor) for another step, or Finish(next) when the work is done (cano's
// StepOutcome::More and StepOutcome::Done). Cursors are JSON: a step's cursor is json.Marshal
// of the value given to More (or raw bytes), and the next step gets those bytes back as a
// json.RawMessage.

// StepResult is what a step answers: More(cursor) or Finish(next). The zero value is Finish
// with the zero state.
type StepResult[S State] struct {
	more   bool
	next   S
	cursor []byte
	err    error // json.Marshal's error for More's cursor
}

// More asks for another step at once, with cursor as the next step's cursor: a []byte or a
// json.RawMessage is used as it is, anything else is encoded with json.Marshal (a value it
// cannot encode fails the attempt with CodeTaskExecution "serialize cursor for `NAME`: ...").
// The state type cannot be inferred: write cano.More[Step](page + 1).
func More[S State](cursor any) StepResult[S] {
	r := StepResult[S]{more: true}
	switch c := cursor.(type) {
	case json.RawMessage:
		r.cursor = append([]byte{}, c...)
	case []byte:
		r.cursor = append([]byte{}, c...)
	default:
		r.cursor, r.err = json.Marshal(cursor)
	}
	return r
}

// Finish ends the steps: the run moves to next (cano's StepOutcome::Done).
func Finish[S State](next S) StepResult[S] { return StepResult[S]{next: next} }

// IsMore reports whether the result asks for another step.
func (r StepResult[S]) IsMore() bool { return r.more }

// Next is the state of a Finish result (the zero state for More).
func (r StepResult[S]) Next() S { return r.next }

// Cursor is the encoded cursor of a More result (nil for Finish, or when encoding failed).
func (r StepResult[S]) Cursor() json.RawMessage {
	if !r.more || r.err != nil {
		return nil
	}
	return json.RawMessage(r.cursor)
}

// Err is the error json.Marshal returned for More's cursor (nil when it encoded).
func (r StepResult[S]) Err() error { return r.err }

// String is "More(<cursor>)" or "Finish(<state>)".
func (r StepResult[S]) String() string {
	if r.more {
		if r.err != nil {
			return fmt.Sprintf("More(<%v>)", r.err)
		}
		return fmt.Sprintf("More(%s)", r.cursor)
	}
	return fmt.Sprintf("Finish(%v)", r.next)
}

// StepFunc is the body of a stepped task: one step. cursor is what the previous step left (nil
// on the first step; a More with an empty cursor gives an empty, non-nil one). It returns
// More(cursor) for another step, Finish(next) to move on, or an error that fails the step's
// attempt. Like a Task it runs on the thread its mode names, possibly concurrently for
// concurrent runs; an error matching ErrFatal, or a panic, fails the task at once. In Async
// mode a step answers directly, or finishes through Later, whose completion can only choose
// a state (as Finish does) or fail.
type StepFunc[S State] func(ctx *TaskContext, cursor json.RawMessage) (StepResult[S], error)

// CursorAs decodes the cursor the previous step left into a T (json.Unmarshal); ok is false,
// and err nil, when there is none. A cursor that does not decode returns a CodeTaskExecution
// *Error "deserialize cursor for `NAME`: ...", which a step can return as it is.
func CursorAs[T any](ctx *TaskContext) (value T, ok bool, err error) {
	raw, ok := ctx.Cursor()
	if !ok {
		return value, false, nil
	}
	if err := json.Unmarshal(raw, &value); err != nil {
		return value, true, NewError(CodeTaskExecution,
			fmt.Sprintf("deserialize cursor for `%s`: %v", ctx.name, err))
	}
	return value, true, nil
}

// stepEntry adapts a StepFunc to a task entry.
func stepEntry[S State](fn StepFunc[S], cfg taskConfig) *taskEntry {
	entry := &taskEntry{mode: cfg.mode}
	entry.run = func(ctx *TaskContext) (int32, error) {
		cursor, _ := ctx.Cursor()
		res, err := fn(ctx, cursor)
		if err != nil {
			return 0, err
		}
		if !res.more {
			return int32(res.next), nil
		}
		if res.err != nil {
			return 0, NewError(CodeTaskExecution,
				fmt.Sprintf("serialize cursor for `%s`: %v", entry.name, res.err))
		}
		ctx.stepMore = true
		ctx.nextCursor = res.cursor
		return 0, nil
	}
	return entry
}

// RegisterStepped registers a stepped task for state (declaring the state), replacing any
// previous task: cano's SteppedTask registered with register_stepped (spec section 3.4). Each
// step is its own attempt loop: WithRetry (default RetryDefault, cano's TaskConfig::default())
// and WithAttemptTimeout apply per step, a retried step gets the same cursor again, and a step
// whose retries run out fails the task (ErrRetryExhausted, as any task's). With no options it
// runs on a worker. Errors: those of Register.
func (w *Workflow[S]) RegisterStepped(state S, fn StepFunc[S], opts ...TaskOption) error {
	if fn == nil {
		return NewError(CodeInvalidArgument, "RegisterStepped needs a function")
	}
	cfg := taskConfig{mode: Worker, retry: RetryDefault}
	for _, opt := range opts {
		opt(&cfg)
	}
	return w.register(state, stepEntry(fn, cfg), cfg, steppedTask)
}

// RegisterStepLoop registers fn for state as a plain task (cano_workflow_register) whose whole
// step loop is one attempt: cano's SteppedTask registered with register. WithAttemptTimeout
// bounds all the steps together, and a retry starts the loop again from no cursor. Options,
// defaults and errors as for Register.
func (w *Workflow[S]) RegisterStepLoop(state S, fn StepFunc[S], opts ...TaskOption) error {
	if fn == nil {
		return NewError(CodeInvalidArgument, "RegisterStepLoop needs a function")
	}
	cfg := taskConfig{mode: Worker, retry: RetryDefault}
	for _, opt := range opts {
		opt(&cfg)
	}
	return w.register(state, stepEntry(fn, cfg), cfg, plainTask)
}
