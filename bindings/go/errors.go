package cano

/*
#include "cano_go.h"
*/
import "C"

import (
	"errors"
	"unsafe"
)

// Code is a libcano status code (cano_status): CodeOK, or a negative error code. Its String is
// the constant's name without the prefix, as cano_status_name spells it ("TASK_EXECUTION").
type Code int32

// The status codes of cano/error.h.
const (
	CodeOK      Code = C.CANO_OK
	CodePending Code = C.CANO_PENDING

	// cano 0.13's error categories.
	CodeTaskExecution        Code = C.CANO_E_TASK_EXECUTION
	CodeStore                Code = C.CANO_E_STORE
	CodeWorkflow             Code = C.CANO_E_WORKFLOW
	CodeConfiguration        Code = C.CANO_E_CONFIGURATION
	CodeRetryExhausted       Code = C.CANO_E_RETRY_EXHAUSTED
	CodeTimeout              Code = C.CANO_E_TIMEOUT
	CodeCircuitOpen          Code = C.CANO_E_CIRCUIT_OPEN
	CodeCheckpointStore      Code = C.CANO_E_CHECKPOINT_STORE
	CodeCompensationFailed   Code = C.CANO_E_COMPENSATION_FAILED
	CodeGeneric              Code = C.CANO_E_GENERIC
	CodeResourceNotFound     Code = C.CANO_E_RESOURCE_NOT_FOUND
	CodeResourceTypeMismatch Code = C.CANO_E_RESOURCE_TYPE_MISMATCH
	CodeResourceDuplicateKey Code = C.CANO_E_RESOURCE_DUPLICATE_KEY
	CodeKeyNotFound          Code = C.CANO_E_STORE_KEY_NOT_FOUND
	CodeTypeMismatch         Code = C.CANO_E_STORE_TYPE_MISMATCH
	CodeAppendTypeMismatch   Code = C.CANO_E_STORE_APPEND_TYPE_MISMATCH
	CodeInvalidArgument      Code = C.CANO_E_INVALID_ARGUMENT
	CodeNoMemory             Code = C.CANO_E_NO_MEMORY
	CodeWrongThread          Code = C.CANO_E_WRONG_THREAD
	CodeBadState             Code = C.CANO_E_BAD_STATE
	CodeCancelled            Code = C.CANO_E_CANCELLED
	CodeShutdown             Code = C.CANO_E_SHUTDOWN
	CodeVersion              Code = C.CANO_E_VERSION
	CodeNotFound             Code = C.CANO_E_NOT_FOUND
	CodeInternal             Code = C.CANO_E_INTERNAL
	CodeUser                 Code = C.CANO_E_USER
)

// allCodes lists every code, for ParseCode.
var allCodes = []Code{
	CodeOK, CodePending, CodeTaskExecution, CodeStore, CodeWorkflow, CodeConfiguration,
	CodeRetryExhausted, CodeTimeout, CodeCircuitOpen, CodeCheckpointStore,
	CodeCompensationFailed, CodeGeneric, CodeResourceNotFound, CodeResourceTypeMismatch,
	CodeResourceDuplicateKey, CodeKeyNotFound, CodeTypeMismatch, CodeAppendTypeMismatch,
	CodeInvalidArgument, CodeNoMemory, CodeWrongThread, CodeBadState, CodeCancelled,
	CodeShutdown, CodeVersion, CodeNotFound, CodeInternal, CodeUser,
}

// String is the code's name as cano_status_name gives it ("OK", "STORE_KEY_NOT_FOUND", ...),
// or "UNKNOWN". Any goroutine.
func (c Code) String() string { return C.GoString(C.cano_status_name(C.cano_status(c))) }

// ParseCode is the inverse of Code.String: the code named name, and whether there is one.
// Any goroutine.
func ParseCode(name string) (Code, bool) {
	for _, c := range allCodes {
		if c.String() == name {
			return c, true
		}
	}
	return 0, false
}

// Error is a libcano error: a copy of everything a cano_error carries, so it is a plain Go
// value that any goroutine may read and keep (no C memory is behind it).
//
// errors.As(err, &e) finds it in any chain; errors.Is(err, ErrTimeout) and the other
// sentinels compare its category or code; Unwrap returns the cause (a RetryExhausted error
// wraps the last attempt's error), so errors.Is also sees the cause's kind.
type Error struct {
	// Code is the status code (CodeRetryExhausted, CodeKeyNotFound, ...).
	Code Code
	// Category is cano's snake_case category ("task_execution", "store", ...) or "api".
	Category string
	// Message is the message alone, as cano's message(): "Task failed after 4 attempt(s): ...".
	Message string
	// Display is the message with cano's Display prefix: "Retry exhausted: Task failed ...".
	Display string
	// Description is Display followed by where the error came from (state, task, attempt,
	// run); it is what Error returns.
	Description string
	// State is the name of the state the error came from, or "".
	State string
	// StateCode is the code of that state; HasState says whether the error came from a state.
	StateCode int32
	HasState  bool
	// Task is the name of the task the error came from, or "".
	Task string
	// Attempt is the 1-based attempt the error came from, 0 when not from an attempt.
	Attempt uint32
	// RunID is the id of the run the error came from, or 0.
	RunID uint64
	// Cause is the error this one wraps, or nil.
	Cause *Error
}

// Error returns the full description (Display plus its context).
func (e *Error) Error() string {
	if e.Description != "" {
		return e.Description
	}
	if e.Display != "" {
		return e.Display
	}
	return e.Message
}

// Unwrap returns the cause, so that errors.Is and errors.As walk the cause chain.
func (e *Error) Unwrap() error {
	if e.Cause == nil {
		return nil
	}
	return e.Cause
}

// Is reports whether target is a sentinel (ErrStore, ErrKeyNotFound, ...) of this error's kind:
// a category sentinel matches every code of its category (ErrStore matches CodeKeyNotFound),
// a code sentinel matches its code only.
func (e *Error) Is(target error) bool {
	s, ok := target.(*sentinel)
	if !ok {
		return false
	}
	if s.category != "" {
		return e.Category == s.category
	}
	return e.Code == s.code
}

// sentinel is the type of the Err* values: a kind of error to compare with errors.Is.
type sentinel struct {
	code     Code
	category string // set for category sentinels: they match the whole category
	text     string
}

// Error is the sentinel's description, e.g. "cano: key not found".
func (s *sentinel) Error() string { return s.text }

func categorySentinel(code Code, category, text string) error {
	return &sentinel{code: code, category: category, text: "cano: " + text}
}

func codeSentinel(code Code, text string) error {
	return &sentinel{code: code, text: "cano: " + text}
}

// Sentinels for errors.Is, one per cano category (matching every code of the category) and
// one per finer code. Compare with errors.Is, never with ==.
var (
	ErrTaskExecution        = categorySentinel(CodeTaskExecution, "task_execution", "task execution error")
	ErrStore                = categorySentinel(CodeStore, "store", "store error")
	ErrWorkflow             = categorySentinel(CodeWorkflow, "workflow", "workflow error")
	ErrConfiguration        = categorySentinel(CodeConfiguration, "configuration", "configuration error")
	ErrRetryExhausted       = categorySentinel(CodeRetryExhausted, "retry_exhausted", "retry exhausted")
	ErrTimeout              = categorySentinel(CodeTimeout, "timeout", "timeout")
	ErrCircuitOpen          = categorySentinel(CodeCircuitOpen, "circuit_open", "circuit open")
	ErrCheckpointStore      = categorySentinel(CodeCheckpointStore, "checkpoint_store", "checkpoint store error")
	ErrCompensationFailed   = categorySentinel(CodeCompensationFailed, "compensation_failed", "compensation failed")
	ErrGeneric              = categorySentinel(CodeGeneric, "generic", "error")
	ErrResourceNotFound     = categorySentinel(CodeResourceNotFound, "resource_not_found", "resource not found")
	ErrResourceTypeMismatch = categorySentinel(CodeResourceTypeMismatch, "resource_type_mismatch", "resource type mismatch")
	ErrResourceDuplicateKey = categorySentinel(CodeResourceDuplicateKey, "resource_duplicate_key", "resource duplicate key")

	// Store codes (category "store").
	ErrKeyNotFound        = codeSentinel(CodeKeyNotFound, "key not found")
	ErrTypeMismatch       = codeSentinel(CodeTypeMismatch, "type mismatch")
	ErrAppendTypeMismatch = codeSentinel(CodeAppendTypeMismatch, "append type mismatch")

	// C API codes (category "api").
	ErrInvalidArgument = codeSentinel(CodeInvalidArgument, "invalid argument")
	ErrNoMemory        = codeSentinel(CodeNoMemory, "out of memory")
	ErrWrongThread     = codeSentinel(CodeWrongThread, "wrong thread")
	ErrBadState        = codeSentinel(CodeBadState, "bad state")
	ErrCancelled       = codeSentinel(CodeCancelled, "cancelled")
	ErrShutdown        = codeSentinel(CodeShutdown, "engine shut down")
	ErrVersion         = codeSentinel(CodeVersion, "version mismatch")
	ErrNotFound        = codeSentinel(CodeNotFound, "not found")
	ErrInternal        = codeSentinel(CodeInternal, "internal error")
	ErrUser            = codeSentinel(CodeUser, "user callback error")
)

// NewError makes an error of the given code with message, as the library would: Category,
// Display and Description come from libcano (cano_error_new). A non-negative code becomes
// CodeTaskExecution. Return one from a task to fail the attempt with that code, or from a
// resource's Setup. Any goroutine.
func NewError(code Code, message string) *Error {
	text := C.CString(message)
	defer C.free(unsafe.Pointer(text))
	native := C.cano_error_new(C.cano_status(code), text)
	if native == nil {
		return &Error{Code: CodeNoMemory, Category: "api", Message: "out of memory"}
	}
	defer C.cano_error_free(native)
	return convertError(native)
}

// convertError copies a cano_error (and its cause chain) into Go memory. The caller still
// owns native.
func convertError(native *C.cano_error) *Error {
	if native == nil {
		return nil
	}
	e := &Error{
		Code:        Code(C.cano_error_code(native)),
		Category:    C.GoString(C.cano_error_category(native)),
		Message:     C.GoString(C.cano_error_message(native)),
		Display:     C.GoString(C.cano_error_display(native)),
		Description: C.GoString(C.cano_error_describe(native)),
		Attempt:     uint32(C.cano_error_attempt(native)),
		RunID:       uint64(C.cano_error_run_id(native)),
	}
	var state C.int32_t
	if C.cano_error_state(native, &state) != 0 {
		e.HasState = true
		e.StateCode = int32(state)
	}
	if name := C.cano_error_state_name(native); name != nil {
		e.State = C.GoString(name)
	}
	if task := C.cano_error_task_name(native); task != nil {
		e.Task = C.GoString(task)
	}
	e.Cause = convertError(C.cano_error_cause(native))
	return e
}

// takeError converts an error the caller owns and frees it; status is the call's status, used
// when the library handed back no error object (it always does, except when out of memory).
func takeError(status C.cano_status, native *C.cano_error) error {
	if status == C.CANO_OK || status == C.CANO_PENDING {
		C.cano_error_free(native)
		return nil
	}
	if native == nil {
		return &Error{Code: Code(status), Category: "api", Message: Code(status).String(),
			Display: Code(status).String(), Description: Code(status).String()}
	}
	defer C.cano_error_free(native)
	return convertError(native)
}

// ErrFatal marks a task failure that must not be retried: a task body that returns an error
// matching it (errors.Is), such as Fatal(err) or fmt.Errorf("...: %w", cano.ErrFatal), fails
// its task at once, without further attempts and without the RetryExhausted wrapping, as cano
// treats a panic (cano_task_ctx_fail_fatal). It applies to what a body returns (task, router,
// poll and branch bodies alike); Completion.Fail cannot fail fatally, as the C ABI's async
// completion has no fatal form. The run's error itself does not match ErrFatal.
var ErrFatal = errors.New("cano: fatal task failure")

// Fatal wraps err so that the task body returning it fails fatally (see ErrFatal): err keeps
// its code and message (a *Error keeps its Code and Message, anything else fails with
// CodeTaskExecution and err.Error()). Fatal(nil) is nil, so `return s, cano.Fatal(err)` is
// safe when err may be nil. The result unwraps to err and matches ErrFatal with errors.Is.
func Fatal(err error) error {
	if err == nil {
		return nil
	}
	return &fatalError{err: err}
}

type fatalError struct{ err error }

func (f *fatalError) Error() string        { return f.err.Error() }
func (f *fatalError) Unwrap() error        { return f.err }
func (f *fatalError) Is(target error) bool { return target == ErrFatal }

// failureOf maps an error returned by user code to the code and message the library records:
// a *Error (or an error wrapping one) keeps its code; anything else gets fallback. The message
// is the *Error's Message when err is one (or Fatal of one), else err.Error().
func failureOf(err error, fallback Code) (Code, string) {
	if f, ok := err.(*fatalError); ok {
		return failureOf(f.err, fallback)
	}
	if e, ok := err.(*Error); ok {
		return e.Code, e.Message
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code, err.Error()
	}
	return fallback, err.Error()
}

// contextError is what Workflow.Run returns when its context ended the run: the run's
// CodeCancelled error, which also matches the context's error (context.Canceled or
// context.DeadlineExceeded) with errors.Is.
type contextError struct {
	run *Error
	ctx error
}

// Error is the run's error followed by the context's.
func (c *contextError) Error() string { return c.run.Error() + " (" + c.ctx.Error() + ")" }

// Is matches the context's error; Unwrap takes care of the run's.
func (c *contextError) Is(target error) bool {
	return target == c.ctx || errors.Is(c.run, target)
}

// Unwrap returns the run's *Error.
func (c *contextError) Unwrap() error { return c.run }
