package cano

import (
	"errors"
	"fmt"
	"testing"
)

func TestCodeNames(t *testing.T) {
	for code, name := range map[Code]string{
		CodeOK: "OK", CodePending: "PENDING", CodeTaskExecution: "TASK_EXECUTION",
		CodeKeyNotFound: "STORE_KEY_NOT_FOUND", CodeUser: "USER", Code(-999): "UNKNOWN",
	} {
		if code.String() != name {
			t.Errorf("Code(%d).String() = %q, want %q", int32(code), code.String(), name)
		}
	}
	for _, code := range allCodes {
		got, ok := ParseCode(code.String())
		if !ok || got != code {
			t.Errorf("ParseCode(%q) = %v, %v", code.String(), got, ok)
		}
	}
	if _, ok := ParseCode("NOPE"); ok {
		t.Error("ParseCode(NOPE) found a code")
	}
}

func TestNewError(t *testing.T) {
	e := NewError(CodeTimeout, "took too long")
	if e.Code != CodeTimeout || e.Category != "timeout" || e.Message != "took too long" ||
		e.Display != "Timeout error: took too long" || e.Error() == "" {
		t.Fatalf("NewError = %+v", e)
	}
	if e.HasState || e.State != "" || e.Task != "" || e.Attempt != 0 || e.RunID != 0 || e.Cause != nil {
		t.Fatalf("a new error has context: %+v", e)
	}
	if p := NewError(Code(7), "x"); p.Code != CodeTaskExecution {
		t.Fatalf("a positive code became %v", p.Code)
	}
	for code, category := range map[Code]string{
		CodeStore: "store", CodeKeyNotFound: "store", CodeGeneric: "generic",
		CodeResourceNotFound: "resource_not_found", CodeBadState: "api", CodeCircuitOpen: "circuit_open",
		CodeCheckpointStore: "checkpoint_store", CodeCompensationFailed: "compensation_failed",
	} {
		if got := NewError(code, "m").Category; got != category {
			t.Errorf("category of %v = %q, want %q", code, got, category)
		}
	}
	if (&Error{Message: "m"}).Error() != "m" || (&Error{Display: "d", Message: "m"}).Error() != "d" {
		t.Fatal("Error() fallbacks")
	}
}

func TestErrorsIsAndAs(t *testing.T) {
	keyErr := NewError(CodeKeyNotFound, "Key not found")
	wrapped := fmt.Errorf("loading config: %w", keyErr)
	for _, c := range []struct {
		target error
		want   bool
	}{
		{ErrStore, true}, {ErrKeyNotFound, true}, {ErrTypeMismatch, false},
		{ErrAppendTypeMismatch, false}, {ErrTaskExecution, false}, {ErrGeneric, false},
	} {
		if got := errors.Is(wrapped, c.target); got != c.want {
			t.Errorf("errors.Is(key not found, %v) = %v", c.target, got)
		}
	}
	var ce *Error
	if !errors.As(wrapped, &ce) || ce != keyErr {
		t.Fatal("errors.As did not find the *Error")
	}
	// Each category sentinel matches its category only.
	for code, sentinel := range map[Code]error{
		CodeTaskExecution: ErrTaskExecution, CodeStore: ErrStore, CodeWorkflow: ErrWorkflow,
		CodeConfiguration: ErrConfiguration, CodeRetryExhausted: ErrRetryExhausted, CodeTimeout: ErrTimeout,
		CodeCircuitOpen: ErrCircuitOpen, CodeCheckpointStore: ErrCheckpointStore,
		CodeCompensationFailed: ErrCompensationFailed, CodeGeneric: ErrGeneric,
		CodeResourceNotFound: ErrResourceNotFound, CodeResourceTypeMismatch: ErrResourceTypeMismatch,
		CodeResourceDuplicateKey: ErrResourceDuplicateKey, CodeInvalidArgument: ErrInvalidArgument,
		CodeNoMemory: ErrNoMemory, CodeWrongThread: ErrWrongThread, CodeBadState: ErrBadState,
		CodeCancelled: ErrCancelled, CodeShutdown: ErrShutdown, CodeVersion: ErrVersion,
		CodeNotFound: ErrNotFound, CodeInternal: ErrInternal, CodeUser: ErrUser,
		CodeTypeMismatch: ErrTypeMismatch, CodeAppendTypeMismatch: ErrAppendTypeMismatch,
	} {
		err := error(NewError(code, "m"))
		if !errors.Is(err, sentinel) {
			t.Errorf("%v does not match its sentinel", code)
		}
		if sentinel.Error() == "" {
			t.Errorf("sentinel of %v has no text", code)
		}
		other := ErrTimeout
		if code == CodeTimeout {
			other = ErrGeneric
		}
		if errors.Is(err, other) {
			t.Errorf("%v matches %v", code, other)
		}
	}
	if errors.Is(NewError(CodeBadState, "m"), ErrInvalidArgument) {
		t.Fatal("api codes must match by code, not by category")
	}
	if errors.Is(NewError(CodeStore, "m"), errors.New("other")) {
		t.Fatal("matched a foreign error")
	}
	if (&Error{}).Unwrap() != nil {
		t.Fatal("Unwrap of an error without cause must be nil")
	}
}

func TestFailureOf(t *testing.T) {
	for _, c := range []struct {
		err     error
		code    Code
		message string
	}{
		{NewError(CodeWorkflow, "direct"), CodeWorkflow, "direct"},
		{fmt.Errorf("ctx: %w", NewError(CodeWorkflow, "inner")), CodeWorkflow, "ctx: Workflow error: inner"},
		{errors.New("plain"), CodeGeneric, "plain"},
	} {
		code, message := failureOf(c.err, CodeGeneric)
		if code != c.code || message != c.message {
			t.Errorf("failureOf(%v) = %v %q", c.err, code, message)
		}
	}
	if panicMessage(fmt.Stringer(nil)) != "panic: <nil>" {
		t.Errorf("panicMessage(nil) = %q", panicMessage(nil))
	}
}
