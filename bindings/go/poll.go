package cano

/*
#include "cano_go.h"
*/
import "C"

import (
	"fmt"
	"time"
)

// Poll tasks ("wait until", cano/poll.h, cano's PollTask): a body that answers "ready, go to
// this state" or "not yet, ask me again after a delay". The engine re-polls on a loop timer, so
// no thread is held while it waits. The whole wait is one attempt: the attempt timeout bounds
// the total wait, and a retrying policy restarts the whole wait.

// PollResult is what a poll body answers: Ready(next) or Pending(delay). The zero value is
// Ready with the zero state.
type PollResult[S State] struct {
	pending bool
	next    S
	delay   time.Duration
}

// Ready ends the wait: the run moves to next.
func Ready[S State](next S) PollResult[S] { return PollResult[S]{next: next} }

// Pending asks to be polled again after delay (rounded up to whole milliseconds; 0 or less
// re-polls on the loop's next turn). A "not yet" also resets RetryOnError's count of errors
// in a row. The state type cannot be inferred: write cano.Pending[Step](time.Second).
func Pending[S State](delay time.Duration) PollResult[S] {
	if delay < 0 {
		delay = 0
	}
	return PollResult[S]{pending: true, delay: delay}
}

// IsReady reports whether the result is Ready.
func (r PollResult[S]) IsReady() bool { return !r.pending }

// Next is the state of a Ready result (the zero state for Pending).
func (r PollResult[S]) Next() S { return r.next }

// Delay is the delay of a Pending result (0 for Ready).
func (r PollResult[S]) Delay() time.Duration { return r.delay }

// String is "Ready(<state>)" or "Pending(<delay>)".
func (r PollResult[S]) String() string {
	if r.pending {
		return fmt.Sprintf("Pending(%v)", r.delay)
	}
	return fmt.Sprintf("Ready(%v)", r.next)
}

// PollPolicy is what a poll task does with the errors its body returns, cano's
// PollErrorPolicy: FailFast or RetryOnError(maxErrors).
type PollPolicy struct {
	policy    C.cano_poll_error_policy
	maxErrors C.uint32_t
}

// FailFast fails the attempt at the first error (the default).
var FailFast = PollPolicy{policy: C.CANO_POLL_FAIL_FAST}

// RetryOnError re-polls at once after an error, and fails the attempt when more than
// maxErrors errors came in a row (a Pending resets the count; so RetryOnError(0) fails at the
// first error). A negative maxErrors counts as 0.
func RetryOnError(maxErrors int) PollPolicy {
	return PollPolicy{policy: C.CANO_POLL_RETRY_ON_ERROR, maxErrors: clampU32(maxErrors)}
}

// MaxErrors is RetryOnError's limit (0 for FailFast).
func (p PollPolicy) MaxErrors() int { return int(p.maxErrors) }

// String is cano's Debug form: "FailFast" or "RetryOnError { max_errors: N }".
func (p PollPolicy) String() string {
	if p.policy == C.CANO_POLL_RETRY_ON_ERROR {
		return fmt.Sprintf("RetryOnError { max_errors: %d }", uint32(p.maxErrors))
	}
	return "FailFast"
}

// WithPollPolicy sets a poll task's error policy (default FailFast). Only RegisterPoll takes
// it; the other registrations refuse it with an ErrInvalidArgument error.
func WithPollPolicy(p PollPolicy) TaskOption {
	return func(c *taskConfig) { c.poll = &p }
}

// PollFunc is the body of a poll task: Ready(next) to move on, Pending(delay) to be polled
// again, or an error, which the poll policy handles. Like a Task, it runs on the thread its
// mode names; an error matching ErrFatal, or a panic, fails the task at once.
type PollFunc[S State] func(ctx *TaskContext) (PollResult[S], error)

// RegisterPoll registers a poll task for state (declaring the state), replacing any previous
// task. With no options it runs on a worker, with one attempt and FailFast. A poll task's
// default retry policy is cano's PollTask default, TaskConfig::minimal(): RetryDefault means
// RetryNone here (as CANO_RETRY_DEFAULT does in the C ABI; RetryExponential(3) is
// TaskConfig::default() itself). WithAttemptTimeout bounds the whole wait (ErrTimeout "task
// attempt exceeded attempt_timeout"); WithRetry restarts the whole wait after a failed attempt.
// In Async mode a body may answer at once, or finish through Later, whose completion can only
// choose a state or fail. Errors: those of Register.
func (w *Workflow[S]) RegisterPoll(state S, fn PollFunc[S], opts ...TaskOption) error {
	if fn == nil {
		return NewError(CodeInvalidArgument, "RegisterPoll needs a function")
	}
	cfg := taskConfig{mode: Worker, retry: RetryNone}
	for _, opt := range opts {
		opt(&cfg)
	}
	entry := &taskEntry{mode: cfg.mode, run: func(ctx *TaskContext) (int32, error) {
		res, err := fn(ctx)
		if err != nil {
			return 0, err
		}
		if res.pending {
			ctx.pollAgain = true
			ctx.pollDelay = res.delay
			return 0, nil
		}
		return int32(res.next), nil
	}}
	return w.register(state, entry, cfg, pollTask)
}
