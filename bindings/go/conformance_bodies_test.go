package cano

// The task bodies of the conformance runner: what one body call of a task, router, poll,
// stepped or timer task or split branch does with the scenario's steps, and what it records
// (tests/conformance/README.md "Fields", "How runners drive time"). The batch functions are in
// conformance_batch_test.go.

import (
	"encoding/json"
	"errors"
	"time"
)

// confResult is how a body call ends, before its mode finishes the attempt.
type confResult struct {
	next    confState
	err     error
	pending bool // pending step: poll again after delay
	delay   time.Duration
	value   []byte // succeed step: the branch's value, or nil
	more    bool   // more step: call again with cursor
	cursor  string
	handled bool // an async call completed (or will never complete) through its token
}

// failure is the error of a fail step or a failing load: fatal ones are not retried.
func failure(code Code, message string, fatal bool) error {
	err := error(NewError(code, message))
	if fatal {
		err = Fatal(err)
	}
	return err
}

// perform runs a step that is not block.
func (run *confRun) perform(ctx *TaskContext, step confStep) confResult {
	switch step.kind {
	case "goto":
		if step.readSplit {
			run.recordSplit(ctx)
		}
		return confResult{next: confState(step.next)}
	case "fail":
		return confResult{err: failure(step.code, step.message, step.fatal)}
	case "pending":
		return confResult{pending: true, delay: step.delay}
	case "more":
		return confResult{more: true, cursor: step.cursor}
	case "succeed":
		var value []byte
		if step.value != nil {
			value = append([]byte{}, *step.value...)
		}
		return confResult{value: value}
	case "resource_get":
		if _, err := ctx.Resources().GetWithTag(step.key, step.typ); err != nil {
			return confResult{err: err}
		}
		return confResult{next: confState(step.next)}
	}
	store, err := ctx.Store("store")
	if err != nil {
		return confResult{err: err}
	}
	switch step.kind {
	case "store_put":
		err = store.PutJSON(step.key, step.json)
	case "store_append":
		err = store.AppendJSON(step.key, step.json)
	case "store_get":
		_, err = store.GetJSON(step.key)
	case "store_get_bytes":
		_, err = store.GetBytes(step.key)
	default:
		return confResult{err: NewError(CodeInternal, "the runner has no step "+step.kind)}
	}
	if err != nil {
		return confResult{err: err} // a *Error: the attempt fails with its code and message
	}
	return confResult{next: confState(step.next)}
}

// countCall counts a call under key (a body call's, a branch's or a batch item's) in attempts
// and attempt_times_ms. It returns how many calls key has made. Holds run.mu.
func (run *confRun) countCall(key string) uint64 {
	run.attempts[key]++
	run.times[key] = append(run.times[key], uint64((run.engine.Now()-run.startMS)/time.Millisecond))
	return run.attempts[key]
}

// nextCall counts one more call of key in counter (wait or load calls, which pick the entry
// that serves them) and returns how many there were.
func (run *confRun) nextCall(counter map[string]uint64, key string) uint64 {
	run.mu.Lock()
	defer run.mu.Unlock()
	counter[key]++
	return counter[key]
}

// recordCall records a body call of b (a batch task's load call included): its attempt, time,
// trail entry and cursor. It returns how many body calls b's key has made.
func (run *confRun) recordCall(ctx *TaskContext, b *confBinding) uint64 {
	// README.md "cursors": the cursor this call saw, or none.
	var cursor *string
	if !b.branch {
		if raw, ok := ctx.Cursor(); ok {
			text := string(raw)
			cursor = &text
		}
	}
	run.mu.Lock()
	defer run.mu.Unlock()
	calls := run.countCall(b.key)
	run.noteTrail(b, ctx.Attempt(), cursor != nil)
	if !b.branch {
		run.cursors[b.key] = append(run.cursors[b.key], cursor)
	}
	return calls
}

// noteTrail applies README.md's trail rules to a body call with attempt; a call that saw a
// cursor never adds to the trail (it continues the entry its state's first step began). Holds
// run.mu.
func (run *confRun) noteTrail(b *confBinding, attempt int, sawCursor bool) {
	label := run.sc.label(b.state)
	if attempt == 1 && !sawCursor {
		switch {
		case b.branch:
			// A split state enters the trail once per entry.
			if len(run.trail) == 0 || run.trail[len(run.trail)-1] != label {
				run.trail = append(run.trail, label)
			}
		case b.task.kind == "poll":
			// Once per attempt 1: its calls that follow its own attempt-1 call are one wait.
			if !(run.lastKey == b.key && run.lastAttempt == 1) {
				run.trail = append(run.trail, label)
			}
		default:
			run.trail = append(run.trail, label)
		}
	}
	run.lastKey, run.lastAttempt = b.key, attempt
}

// succeededText and failedText spell an outcome for split_seen and batch_seen.
func succeededText(value []byte) string {
	if value == nil {
		return "succeeded"
	}
	return "succeeded:" + string(value)
}

func failedText(e *Error) string {
	if e == nil {
		return "failed:<no error object>"
	}
	return "failed:" + e.Message
}

// recordSplit notes what the split result shows, for split_seen.
func (run *confRun) recordSplit(ctx *TaskContext) {
	var seen *[]string
	if result := ctx.SplitResult(); result != nil {
		texts := []string{}
		for _, branch := range result.Branches {
			switch branch.Status {
			case BranchSucceeded:
				texts = append(texts, succeededText(branch.Value))
			case BranchFailed:
				texts = append(texts, failedText(branch.Err))
			case BranchCancelled:
				texts = append(texts, "cancelled")
			default:
				texts = append(texts, "<unknown branch status>")
			}
		}
		seen = &texts
	}
	run.mu.Lock()
	defer run.mu.Unlock()
	run.splitSeen = append(run.splitSeen, seen)
}

// beginBody counts a body from its start (README.md "How runners drive time"), and a worker
// body as running until the returned function is first called, so that the driver never
// advances the clock under a body that is about to choose.
func (run *confRun) beginBody(b *confBinding) (end func()) {
	worker := b.task.mode == Worker
	if worker {
		run.running.Add(1)
	}
	run.starts.Add(1)
	return func() {
		if worker {
			run.running.Add(-1)
			worker = false
		}
	}
}

// asyncCompletion takes the token of b's async attempt: succeed completes it (choosing next,
// for a task), fail fails it. A task and a branch hold different kinds of token.
func asyncCompletion(ctx *TaskContext, b *confBinding, next confState) (
	succeed func() error, fail func(error) error, err error) {
	if b.branch {
		done, err := LaterBranch(ctx)
		if err != nil {
			return nil, nil, err
		}
		return done.Succeed, done.Fail, nil
	}
	done, err := Later[confState](ctx)
	if err != nil {
		return nil, nil, err
	}
	return func() error { return done.Complete(next) }, done.Fail, nil
}

// call is one body call of b, in its mode: what README.md prescribes up to the point where the
// kind of task (task, router, poll, branch) turns the result into its return values.
func (run *confRun) call(ctx *TaskContext, b *confBinding) confResult {
	end := run.beginBody(b)
	defer end()
	step := b.task.stepFor(run.recordCall(ctx, b))

	if step.kind == "block" {
		if b.task.mode == Worker {
			// A block step waits for a timer: uncounted, so that the driver moves the clock on.
			end()
			giveUp := time.Now().Add(60 * time.Second)
			for !ctx.Cancelled() {
				if time.Now().After(giveUp) {
					run.problem("a blocked worker body was never cancelled")
					break
				}
				time.Sleep(time.Millisecond)
			}
			return confResult{err: NewError(CodeTaskExecution, "cancelled")}
		}
		// async: pending, and never completed
		_, _, err := asyncCompletion(ctx, b, 0)
		return confResult{err: err, handled: err == nil}
	}
	res := run.perform(ctx, step)
	// An async body completes inside the call (README.md), so the completion is queued to the
	// loop by the time the body returns and never races with the clock. A pending step, a more
	// step and a fatal failure are returned directly in every mode: there is no fatal completion.
	if b.task.mode == Async && !res.pending && !res.more && !errors.Is(res.err, ErrFatal) {
		if b.branch && res.value != nil {
			if err := ctx.SetValue(res.value); err != nil {
				run.problem("setting the value of %s: %v", b.key, err)
			}
		}
		succeed, fail, lerr := asyncCompletion(ctx, b, res.next)
		if lerr != nil {
			return confResult{err: lerr}
		}
		var err error
		if res.err != nil {
			err = fail(res.err)
		} else {
			err = succeed()
		}
		if err != nil {
			run.problem("completing an async attempt of %s: %v", b.key, err)
		}
		return confResult{handled: true}
	}
	return res
}

// taskBody is the body of a task, router or timer task.
func (run *confRun) taskBody(b *confBinding) func(*TaskContext) (confState, error) {
	return func(ctx *TaskContext) (confState, error) {
		res := run.call(ctx, b)
		if res.pending {
			// A pending step in a task that is not a poll task: the library fails the attempt
			// ("... not registered as a poll task"). The public API cannot say it; the runner
			// sets what Pending sets.
			ctx.pollAgain, ctx.pollDelay = true, res.delay
		}
		if res.more {
			// A more step in a router or timer task, whose functions answer a state: the runner
			// sets what a step function's More sets.
			ctx.stepMore, ctx.nextCursor = true, []byte(res.cursor)
		}
		return res.next, res.err
	}
}

// stepBody is the body of a stepped task, or of a task whose steps include "more"
// (RegisterStepLoop).
func (run *confRun) stepBody(b *confBinding) StepFunc[confState] {
	return func(ctx *TaskContext, _ json.RawMessage) (StepResult[confState], error) {
		res := run.call(ctx, b)
		if res.pending {
			ctx.pollAgain, ctx.pollDelay = true, res.delay // as in taskBody
		}
		if res.err != nil {
			return StepResult[confState]{}, res.err
		}
		if res.more {
			return More[confState](json.RawMessage(res.cursor)), nil
		}
		return Finish(res.next), nil
	}
}

// pollBody is the body of a poll task.
func (run *confRun) pollBody(b *confBinding) PollFunc[confState] {
	return func(ctx *TaskContext) (PollResult[confState], error) {
		res := run.call(ctx, b)
		if res.err != nil {
			return PollResult[confState]{}, res.err
		}
		if res.pending {
			return Pending[confState](res.delay), nil
		}
		if res.more {
			ctx.stepMore, ctx.nextCursor = true, []byte(res.cursor) // as in taskBody
		}
		return Ready(res.next), nil
	}
}

// branchBody is the body of a split branch.
func (run *confRun) branchBody(b *confBinding) func(*TaskContext) ([]byte, error) {
	return func(ctx *TaskContext) ([]byte, error) {
		res := run.call(ctx, b)
		if res.handled {
			return nil, nil
		}
		return res.value, res.err
	}
}

// timerWait is a timer's wait function (README.md "Stepped and timer tasks"): the next entry
// of its wait list, counted per state across every entry into it. Not a body call: it counts
// no attempt and records nothing else.
func (run *confRun) timerWait(b *confBinding) func(*TaskContext) (Wait, error) {
	return func(ctx *TaskContext) (Wait, error) {
		wait := entryFor(b.task.timer.waits, run.nextCall(run.waits, b.key))
		switch wait.kind {
		case "for":
			return WaitFor(millis(wait.ms)), nil
		case "until":
			return WaitUntil(millis(wait.ms)), nil
		}
		return Wait{}, NewError(CodeTaskExecution, wait.message)
	}
}
