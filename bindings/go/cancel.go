package cano

/*
#include "cano_go.h"
*/
import "C"

import (
	"context"
	"sync"
)

// Cancel notices of async attempts (cano_task_options.cancel). Every Async task and branch is
// registered with cano_go_cancel_shim: when the engine abandons a pending attempt (its attempt
// timeout, a lost split branch, the run cancelled or timed out, engine shutdown) it tells the
// task, on its loop thread, with the attempt's token. The binding then closes the Done channel
// (and cancels the Context) of the attempt's Completion or BranchCompletion, and calls the
// task's WithOnCancel function.
//
// Pending attempts are found by (task, token). Tokens are unique within an engine only, so
// when one task runs on several engines at once two pending attempts may share a token: the
// notice then belongs to the attempt whose engine's loop thread delivers it.

// attemptSignal is what a pending async attempt's completions share: its Done channel and its
// Context, both ended when the engine abandons the attempt.
type attemptSignal struct {
	engine *Engine
	raw    *C.cano_engine // the engine's C pointer, alive while the signal is in the table
	entry  *taskEntry
	token  uint64
	done   chan struct{}

	mu     sync.Mutex
	closed bool
	ctx    context.Context
	cancel context.CancelFunc
}

type attemptKey struct {
	entry *taskEntry
	token uint64
}

// pendingAttempts holds the signals of the async attempts that are pending: added when a body
// calls Later (or LaterBranch), removed when the attempt is completed through its completion,
// abandoned (a cancel notice), or its engine shuts down. Invariant: every signal's engine is
// alive (Engine.Shutdown removes an engine's signals before Close destroys it), so the loop
// thread check below never reaches a destroyed engine.
var pendingAttempts = struct {
	mu sync.Mutex
	m  map[attemptKey][]*attemptSignal
}{m: map[attemptKey][]*attemptSignal{}}

// trackAttempt registers the pending attempt token of entry on engine (raw: its C pointer).
func trackAttempt(engine *Engine, raw *C.cano_engine, entry *taskEntry, token uint64) *attemptSignal {
	s := &attemptSignal{engine: engine, raw: raw, entry: entry, token: token, done: make(chan struct{})}
	key := attemptKey{entry, token}
	pendingAttempts.mu.Lock()
	pendingAttempts.m[key] = append(pendingAttempts.m[key], s)
	pendingAttempts.mu.Unlock()
	return s
}

// removeLocked takes s out of the table, reporting whether it was there. Holds
// pendingAttempts.mu.
func (s *attemptSignal) removeLocked() bool {
	key := attemptKey{s.entry, s.token}
	list := pendingAttempts.m[key]
	for i, other := range list {
		if other == s {
			list = append(list[:i], list[i+1:]...)
			if len(list) == 0 {
				delete(pendingAttempts.m, key)
			} else {
				pendingAttempts.m[key] = list
			}
			return true
		}
	}
	return false
}

// settle is called when the attempt is completed through its completion: no notice may end its
// Done channel any more.
func (s *attemptSignal) settle() {
	if s == nil {
		return
	}
	pendingAttempts.mu.Lock()
	s.removeLocked()
	pendingAttempts.mu.Unlock()
}

// abandon closes the Done channel and cancels the context (once).
func (s *attemptSignal) abandon() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	// The context first: whoever sees Done closed sees the context cancelled too.
	if s.cancel != nil {
		s.cancel()
	}
	close(s.done)
}

// context is the attempt's context, made on first use (already cancelled when the attempt was
// abandoned before).
func (s *attemptSignal) context() context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx == nil {
		s.ctx, s.cancel = context.WithCancel(context.Background())
		if s.closed {
			s.cancel()
		}
	}
	return s.ctx
}

// doneChan is the Done channel; nil (never ready) for a zero completion.
func (s *attemptSignal) doneChan() <-chan struct{} {
	if s == nil {
		return nil
	}
	return s.done
}

// contextOrBackground is the attempt's context; context.Background() for a zero completion.
func (s *attemptSignal) contextOrBackground() context.Context {
	if s == nil {
		return context.Background()
	}
	return s.context()
}

// takeAbandonedAttempt handles a cancel notice for token of entry, on the engine's loop
// thread: it removes the attempt's signal from the table and returns it (nil when the attempt
// was completed meanwhile); the caller abandons it.
func takeAbandonedAttempt(entry *taskEntry, token uint64) *attemptSignal {
	key := attemptKey{entry, token}
	pendingAttempts.mu.Lock()
	var found *attemptSignal
	list := pendingAttempts.m[key]
	if len(list) == 1 {
		found = list[0]
	} else {
		// The same task pending on several engines with the same token: the notice comes from
		// the loop thread of the attempt's engine.
		for _, s := range list {
			if C.cano_engine_on_loop_thread(s.raw) != 0 {
				found = s
				break
			}
		}
	}
	if found != nil {
		found.removeLocked()
	}
	pendingAttempts.mu.Unlock()
	return found
}

// abandonEngineAttempts ends the signals of every attempt of e still pending once e has shut
// down (an attempt whose notice could not be delivered): their work is abandoned too.
func abandonEngineAttempts(e *Engine) {
	var ended []*attemptSignal
	pendingAttempts.mu.Lock()
	for key, list := range pendingAttempts.m {
		kept := list[:0]
		for _, s := range list {
			if s.engine == e {
				ended = append(ended, s)
			} else {
				kept = append(kept, s)
			}
		}
		if len(kept) == 0 {
			delete(pendingAttempts.m, key)
		} else {
			pendingAttempts.m[key] = kept
		}
	}
	pendingAttempts.mu.Unlock()
	for _, s := range ended {
		s.abandon()
	}
}

// pendingAttemptCount is the number of tracked pending attempts (for the tests).
func pendingAttemptCount() int {
	pendingAttempts.mu.Lock()
	defer pendingAttempts.mu.Unlock()
	n := 0
	for _, list := range pendingAttempts.m {
		n += len(list)
	}
	return n
}

// WithOnCancel calls fn, with the attempt's token, each time the engine abandons a pending
// attempt of an Async task or branch: its attempt timed out, its split branch lost (an early
// exit or the split timeout), or its run was cancelled, timed out or ended by shutdown
// (cano_task_options.cancel). fn runs on the engine's loop thread, once per abandoned attempt,
// never inside the body's own call, before the attempt's Done channel closes, and must not
// block; a panic in it is recovered and reported to the log handler. Attempts that were completed are not told, except one whose completion
// was still queued when the engine abandoned it (the completion is then ignored). The
// Completion's Done channel and Context are usually all a body needs; fn is for code that keeps
// tokens itself. Only Async tasks and branches take it: the other registrations (and other
// modes) refuse it with an ErrInvalidArgument error, as the engine tells only async attempts.
func WithOnCancel(fn func(token uint64)) TaskOption {
	return func(c *taskConfig) { c.onCancel = fn }
}
