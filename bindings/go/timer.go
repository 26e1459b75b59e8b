package cano

import (
	"fmt"
	"time"
)

// Timer tasks (cano/timer.h, cano 0.15's TimerTask): each attempt waits on a loop timer (no
// thread is held), then runs the body, which picks the next state as any task's does. Times
// are on the engine's clock (Engine.Now, which a manual clock moves only when told to); a
// time in the past waits no time.

// Timer is how long a timer task waits before its body: TimerDelay, TimerUntil or TimerWait.
// The zero value waits no time.
type Timer struct {
	until bool
	d     time.Duration
	wait  func(ctx *TaskContext) (Wait, error)
}

// TimerDelay waits d (rounded up to whole milliseconds) before every attempt's body.
func TimerDelay(d time.Duration) Timer { return Timer{d: d} }

// TimerUntil waits until the engine's clock reads clock (a reading as Engine.Now returns it,
// rounded up to whole milliseconds); once it has passed, attempts wait no time.
func TimerUntil(clock time.Duration) Timer { return Timer{until: true, d: clock} }

// TimerWait lets fn decide each attempt's wait: it runs on the engine's loop thread (keep it
// short, never block) before the attempt's wait, and returns WaitFor(d) or WaitUntil(clock).
// An error fails the attempt, which is then retried as any failed attempt (an error matching
// ErrFatal, or a panic, fails the task at once).
func TimerWait(fn func(ctx *TaskContext) (Wait, error)) Timer { return Timer{wait: fn} }

// String is "Delay(d)", "Until(clock)" or "Wait(func)".
func (t Timer) String() string {
	switch {
	case t.wait != nil:
		return "Wait(func)"
	case t.until:
		return fmt.Sprintf("Until(%v)", t.d)
	}
	return fmt.Sprintf("Delay(%v)", t.d)
}

// Wait is a TimerWait function's answer: WaitFor(d) or WaitUntil(clock). The zero value waits
// no time.
type Wait struct {
	until bool
	d     time.Duration
}

// WaitFor waits d (rounded up to whole milliseconds; cano's TimerOutcome::Duration).
func WaitFor(d time.Duration) Wait { return Wait{d: d} }

// WaitUntil waits until the engine's clock reads clock (as Engine.Now returns it; cano's
// TimerOutcome::Until).
func WaitUntil(clock time.Duration) Wait { return Wait{until: true, d: clock} }

// IsUntil reports whether the wait is WaitUntil.
func (w Wait) IsUntil() bool { return w.until }

// Duration is WaitFor's delay, or WaitUntil's clock reading.
func (w Wait) Duration() time.Duration { return w.d }

// String is "WaitFor(d)" or "WaitUntil(clock)".
func (w Wait) String() string {
	if w.until {
		return fmt.Sprintf("WaitUntil(%v)", w.d)
	}
	return fmt.Sprintf("WaitFor(%v)", w.d)
}

// RegisterTimer registers a timer task for state (declaring the state), replacing any previous
// task: every attempt waits as timer says, then calls fn, which returns the next state or an
// error, as a Register task does. WithAttemptTimeout bounds the wait and the body together
// (ErrTimeout "task attempt exceeded attempt_timeout"). The default retry policy is cano's
// TimerTask default, TaskConfig::minimal(): RetryDefault means RetryNone here (as
// CANO_RETRY_DEFAULT does in the C ABI); a retried attempt waits again. With no options it runs
// on a worker. Errors: those of Register.
func (w *Workflow[S]) RegisterTimer(state S, fn func(ctx *TaskContext) (S, error), timer Timer,
	opts ...TaskOption) error {
	if fn == nil {
		return NewError(CodeInvalidArgument, "RegisterTimer needs a function")
	}
	cfg := taskConfig{mode: Worker, retry: RetryNone}
	for _, opt := range opts {
		opt(&cfg)
	}
	entry := &taskEntry{mode: cfg.mode, timer: timer, run: func(ctx *TaskContext) (int32, error) {
		next, err := fn(ctx)
		return int32(next), err
	}}
	return w.register(state, entry, cfg, timerTask)
}
