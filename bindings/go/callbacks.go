package cano

// The Go functions libcano calls back, through the shims in callbacks.c. Each one runs on a
// thread the engine owns (the loop thread or a worker) or on the thread of the API call that
// triggered it, and none of them lets a panic unwind into C: a panic in a task body becomes the
// task's fatal failure (never retried, as in cano), a panic in a resource hook becomes the
// hook's error, and a panic anywhere else is reported to the log handler.

/*
#include "cano_go.h"
*/
import "C"

import (
	"errors"
	"runtime/cgo"
	"unsafe"
)

//export canoGoHandleDelete
func canoGoHandleDelete(handle C.uintptr_t) {
	defer func() {
		if r := recover(); r != nil {
			reportPanic("a destroy hook", r)
		}
	}()
	if handle != 0 {
		deleteHandle(cgo.Handle(handle))
	}
}

//export canoGoTaskRun
func canoGoTaskRun(ctx *C.cano_task_ctx, handle C.uintptr_t) (status C.cano_status) {
	var entry *taskEntry
	var tc *TaskContext
	defer func() {
		if r := recover(); r != nil {
			// As in cano, a panic is never retried: it fails the task at once. An attempt the
			// body made pending with Later ends here too, so it is no longer tracked.
			if tc != nil {
				tc.signal.settle()
			}
			status = failTask(ctx, CodeTaskExecution, entry.panicMessage(r), true)
		}
	}()
	entry = cgo.Handle(handle).Value().(*taskEntry)
	tc = &TaskContext{async: entry.mode == Async, branch: entry.branch, name: entry.name, entry: entry}
	tc.set(ctx)
	defer tc.set(nil)
	next, err := entry.run(tc)
	if tc.pending {
		return C.CANO_PENDING
	}
	if err != nil {
		code, message := failureOf(err, CodeTaskExecution)
		return failTask(ctx, code, message, errors.Is(err, ErrFatal))
	}
	if tc.pollAgain {
		return C.cano_task_ctx_poll_again(ctx, C.uint64_t(durationMS(tc.pollDelay)))
	}
	if tc.stepMore {
		return stepMore(ctx, tc.nextCursor)
	}
	if entry.branch {
		// A branch succeeds by returning CANO_OK; a next state would be ignored.
		return C.CANO_OK
	}
	return C.cano_task_ctx_next(ctx, C.int32_t(next))
}

// stepMore records the cursor for the next step (the library copies it) and returns
// CANO_STEP_MORE.
func stepMore(ctx *C.cano_task_ctx, cursor []byte) C.cano_status {
	if len(cursor) == 0 {
		return C.cano_task_ctx_step_more(ctx, nil, 0)
	}
	// The bytes hold no Go pointers and the call copies them before it returns.
	return C.cano_task_ctx_step_more(ctx, unsafe.Pointer(&cursor[0]), C.size_t(len(cursor)))
}

//export canoGoTimerWait
func canoGoTimerWait(ctx *C.cano_task_ctx, handle C.uintptr_t) (status C.cano_status) {
	var entry *taskEntry
	defer func() {
		if r := recover(); r != nil {
			// As for a body: a panic fails the task at once.
			status = failTask(ctx, CodeTaskExecution, entry.panicMessage(r), true)
		}
	}()
	entry = cgo.Handle(handle).Value().(*taskEntry)
	tc := &TaskContext{name: entry.name}
	tc.set(ctx)
	defer tc.set(nil)
	wait, err := entry.timer.wait(tc)
	if err != nil {
		code, message := failureOf(err, CodeTaskExecution)
		return failTask(ctx, code, message, errors.Is(err, ErrFatal))
	}
	if wait.until {
		return C.cano_task_ctx_wait_until(ctx, C.uint64_t(durationMS(wait.d)))
	}
	return C.cano_task_ctx_wait_for(ctx, C.uint64_t(durationMS(wait.d)))
}

//export canoGoBatchStep
func canoGoBatchStep(ctx *C.cano_task_ctx, handle C.uintptr_t, step C.int) (status C.cano_status) {
	var entry *taskEntry
	defer func() {
		if r := recover(); r != nil {
			// A panic in load fails the task at once, as a body's does; a panic in an item is
			// cano's panic in process_item, which fails the whole batch task (the library ends
			// the attempt at an item's fatal failure).
			status = failTask(ctx, CodeTaskExecution, entry.panicMessage(r), true)
		}
	}()
	entry = cgo.Handle(handle).Value().(*taskEntry)
	tc := &TaskContext{name: entry.name, entry: entry}
	tc.set(ctx)
	defer tc.set(nil)
	var err error
	if step == 0 {
		err = entry.batch.load(tc)
	} else {
		err = entry.batch.item(tc)
	}
	if err != nil {
		code, message := failureOf(err, CodeTaskExecution)
		return failTask(ctx, code, message, errors.Is(err, ErrFatal))
	}
	return C.CANO_OK
}

//export canoGoTaskCancel
func canoGoTaskCancel(token C.uint64_t, handle C.uintptr_t) {
	defer func() {
		if r := recover(); r != nil {
			reportPanic("a WithOnCancel function", r)
		}
	}()
	entry := cgo.Handle(handle).Value().(*taskEntry)
	// The WithOnCancel function runs first: whoever sees Done closed knows it has run. Done
	// closes even when it panics.
	if signal := takeAbandonedAttempt(entry, uint64(token)); signal != nil {
		defer signal.abandon()
	}
	if entry.onCancel != nil {
		entry.onCancel(uint64(token))
	}
}

// failTask records a failure on the attempt and returns its status; a fatal failure ends the
// task's retries at once (cano_task_ctx_fail_fatal).
func failTask(ctx *C.cano_task_ctx, code Code, message string, fatal bool) C.cano_status {
	text := C.CString(message)
	defer C.free(unsafe.Pointer(text))
	if fatal {
		return C.cano_task_ctx_fail_fatal(ctx, C.cano_status(code), text)
	}
	return C.cano_task_ctx_fail(ctx, C.cano_status(code), text)
}

//export canoGoRunDone
func canoGoRunDone(runID C.uint64_t, status C.cano_status, final C.int32_t, err *C.cano_error,
	handle C.uintptr_t) {
	defer func() {
		if r := recover(); r != nil {
			reportPanic("a run's completion", r)
		}
	}()
	h := cgo.Handle(handle)
	waiter := h.Value().(*runWaiter)
	deleteHandle(h)
	// The error is borrowed for this call: a clone goes to the goroutine that reads it, so the
	// loop thread does one call here instead of converting the whole error.
	var owned *C.cano_error
	if err != nil {
		owned = C.cano_error_clone(err)
	}
	waiter.deliver(runOutcome{
		runID:  uint64(runID),
		status: Code(status),
		final:  int32(final),
		err:    owned,
	})
}

//export canoGoPost
func canoGoPost(handle C.uintptr_t) {
	defer func() {
		if r := recover(); r != nil {
			reportPanic("an Engine.Post function", r)
		}
	}()
	h := cgo.Handle(handle)
	fn := h.Value().(func())
	deleteHandle(h)
	fn()
}

//export canoGoResourceCall
func canoGoResourceCall(errOut **C.cano_error, handle C.uintptr_t, which C.int) (status C.cano_status) {
	hook := "setup"
	if which != 0 {
		hook = "teardown"
	}
	defer func() {
		if r := recover(); r != nil {
			status = setHookError(errOut, CodeUser, "panic in resource "+hook+": "+panicMessage(r))
		}
	}()
	entry := cgo.Handle(handle).Value().(*resourceEntry)
	var err error
	if which == 0 {
		if s, ok := entry.obj.(ResourceSetup); ok {
			err = s.Setup()
		}
	} else if t, ok := entry.obj.(ResourceTeardown); ok {
		err = t.Teardown()
	}
	if err == nil {
		return C.CANO_OK
	}
	code, message := failureOf(err, CodeGeneric)
	return setHookError(errOut, code, message)
}

// setHookError hands a new error to the library through a hook's err out-parameter.
func setHookError(errOut **C.cano_error, code Code, message string) C.cano_status {
	text := C.CString(message)
	defer C.free(unsafe.Pointer(text))
	if errOut != nil {
		*errOut = C.cano_error_new(C.cano_status(code), text)
	}
	return C.cano_status(code)
}

//export canoGoResourceHealth
func canoGoResourceHealth(handle C.uintptr_t, message **C.char) (level C.int) {
	*message = nil
	defer func() {
		if r := recover(); r != nil {
			*message = C.CString("health probe panicked: " + panicMessage(r))
			level = C.int(Unhealthy)
		}
	}()
	entry := cgo.Handle(handle).Value().(*resourceEntry)
	probe, ok := entry.obj.(ResourceHealth)
	if !ok {
		return C.int(Healthy)
	}
	l, text := probe.Health()
	if text != "" {
		*message = C.CString(text)
	}
	return C.int(l)
}

//export canoGoLog
func canoGoLog(level C.int32_t, message *C.char, handle C.uintptr_t) {
	defer func() {
		// A handler that panics loses its record; there is nowhere else to send it.
		_ = recover()
	}()
	box := cgo.Handle(handle).Value().(*logHandlerBox)
	box.fn(LogLevel(level), C.GoString(message))
}

//export canoGoAppend
func canoGoAppend(out *C.uintptr_t, current C.uintptr_t, handle C.uintptr_t) (status C.cano_status) {
	defer func() {
		if r := recover(); r != nil {
			status = C.CANO_E_USER
		}
	}()
	build := cgo.Handle(handle).Value().(func(current any) any)
	var cur any
	if current != 0 {
		cur = cgo.Handle(current).Value()
	}
	*out = C.uintptr_t(newHandle(build(cur)))
	return C.CANO_OK
}
