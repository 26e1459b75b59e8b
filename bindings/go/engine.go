package cano

/*
#include "cano_go.h"
*/
import "C"

import (
	"sync"
	"time"
	"unsafe"
)

// Engine runs workflows: one event loop on its own thread and a fixed pool of worker threads
// (cano/engine.h). Create it with NewEngine and release it with Close.
//
// Threads: every method may be called from any goroutine. Close must not be called from a
// task body or a resource hook (it waits for them); it returns an ErrWrongThread error there.
// After Close, methods return an ErrShutdown error (Now and WorkerCount return 0).
type Engine struct {
	// mu guards ptr: methods hold it for reading while they call into C, Close for writing
	// while it frees the engine, so no call ever reaches a destroyed engine.
	mu  sync.RWMutex
	ptr *C.cano_engine
}

// engines maps a live C engine to its Go Engine, for TaskContext.Engine.
var engines sync.Map // uintptr -> *Engine

// EngineOption configures NewEngine.
type EngineOption func(*engineConfig)

// engineConfig is what the options set; NewEngine copies it into cano_engine_options.
type engineConfig struct {
	workers uint32
	manual  bool
	startMS uint64
	seed    uint64
	spinUS  int32
}

// WithWorkers sets the number of worker threads (0, the default, means one per CPU and at
// least 2).
func WithWorkers(n int) EngineOption {
	return func(c *engineConfig) { c.workers = uint32(clampU32(n)) }
}

// WithManualClock gives the engine a clock that moves only when Advance is called, starting at
// start (whole milliseconds, rounded up): retry delays and timeouts then take no wall-clock
// time. For tests.
func WithManualClock(start time.Duration) EngineOption {
	return func(c *engineConfig) {
		c.manual = true
		c.startMS = durationMS(start)
	}
}

// WithRandomSeed seeds the retry jitter (0, the default, seeds from the OS).
func WithRandomSeed(seed uint64) EngineOption {
	return func(c *engineConfig) { c.seed = seed }
}

// WithSpin sets how long idle workers and the loop poll for work before they sleep: 0 is the
// library default, a negative duration never polls (less idle CPU, slower worker transitions).
func WithSpin(d time.Duration) EngineOption {
	return func(c *engineConfig) {
		us := d.Microseconds()
		switch {
		case d < 0:
			c.spinUS = -1
		case us > 1<<31-1:
			c.spinUS = 1<<31 - 1
		case d > 0 && us == 0:
			c.spinUS = 1
		default:
			c.spinUS = int32(us)
		}
	}
}

// NewEngine creates an engine and starts its threads. The caller owns it and must Close it.
// Any goroutine.
func NewEngine(opts ...EngineOption) (*Engine, error) {
	if abiErr != nil {
		return nil, abiErr
	}
	var cfg engineConfig
	for _, opt := range opts {
		opt(&cfg)
	}
	options := C.cano_go_engine_options_init()
	options.worker_threads = C.uint32_t(cfg.workers)
	if cfg.manual {
		options.clock = C.CANO_CLOCK_MANUAL
		options.manual_clock_start_ms = C.uint64_t(cfg.startMS)
	}
	options.random_seed = C.uint64_t(cfg.seed)
	options.spin_us = C.int32_t(cfg.spinUS)
	var ptr *C.cano_engine
	var cerr *C.cano_error
	if status := C.cano_engine_create(&ptr, &options, &cerr); status != C.CANO_OK {
		return nil, takeError(status, cerr)
	}
	e := &Engine{ptr: ptr}
	engines.Store(uintptr(unsafe.Pointer(ptr)), e)
	return e, nil
}

// engineOf returns the Go Engine of a C engine the binding created.
func engineOf(ptr *C.cano_engine) *Engine {
	if v, ok := engines.Load(uintptr(unsafe.Pointer(ptr))); ok {
		return v.(*Engine)
	}
	return nil
}

// shutdownError is what methods of a closed engine return.
func shutdownError() error {
	return NewError(CodeShutdown, "the engine is closed")
}

// Shutdown stops the engine and waits until it has stopped: runs in flight end with an
// ErrShutdown error, their pending async attempts are told (their completions' Done channels
// are closed), and when it returns no task body, hook or completion of this engine runs any
// more. Idempotent. Must not be called from a task body (ErrWrongThread). Any goroutine.
func (e *Engine) Shutdown() error {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.ptr == nil {
		return nil
	}
	var status C.cano_status
	status = C.cano_engine_shutdown(e.ptr)
	// The engine told its pending async attempts while it shut down; any left (a notice it
	// could not deliver) are abandoned too, before Close may destroy the engine.
	if status == C.CANO_OK {
		abandonEngineAttempts(e)
	}
	return takeError(status, nil)
}

// Close shuts the engine down (see Shutdown) and frees it. Idempotent. Completions and other
// methods called afterwards return an ErrShutdown error. Any goroutine but the engine's own.
func (e *Engine) Close() error {
	if err := e.Shutdown(); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ptr == nil {
		return nil
	}
	engines.Delete(uintptr(unsafe.Pointer(e.ptr)))
	C.cano_engine_destroy(e.ptr)
	e.ptr = nil
	return nil
}

// Post runs fn on the engine's loop thread, soon. A function accepted here always runs, even
// when shutdown starts before its turn; once the engine stopped taking work Post returns an
// ErrShutdown error and fn never runs. fn must not block; a panic in fn is recovered and
// reported to the log handler. Any goroutine.
func (e *Engine) Post(fn func()) error {
	if fn == nil {
		return NewError(CodeInvalidArgument, "Post needs a function")
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.ptr == nil {
		return shutdownError()
	}
	h := newHandle(fn)
	slot := C.cano_go_slot_new(C.uintptr_t(h))
	if slot == nil {
		deleteHandle(h)
		return NewError(CodeNoMemory, "out of memory")
	}
	var cerr *C.cano_error
	status := C.cano_engine_post(e.ptr, (*[0]byte)(C.cano_go_post_shim), unsafe.Pointer(slot), &cerr)
	if status != C.CANO_OK {
		deleteHandle(h)
		C.cano_go_slot_free(unsafe.Pointer(slot))
		return takeError(status, cerr)
	}
	return nil
}

// OnLoopThread reports whether the calling goroutine runs on the engine's loop thread, as an
// inline or async task body does. Any goroutine.
func (e *Engine) OnLoopThread() bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.ptr != nil && C.cano_engine_on_loop_thread(e.ptr) != 0
}

// WorkerCount is the number of worker threads. Any goroutine.
func (e *Engine) WorkerCount() int {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.ptr == nil {
		return 0
	}
	return int(C.cano_engine_worker_count(e.ptr))
}

// RunsInFlight is the number of runs in flight (a snapshot). Any goroutine.
func (e *Engine) RunsInFlight() int {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.ptr == nil {
		return 0
	}
	return int(C.cano_engine_runs_in_flight(e.ptr))
}

// Now is the engine clock's reading (millisecond resolution). For a real clock it is the
// loop's monotonic time, for a manual clock the start plus every Advance. Any goroutine.
func (e *Engine) Now() time.Duration {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.ptr == nil {
		return 0
	}
	return time.Duration(C.cano_engine_clock_now(e.ptr)) * time.Millisecond
}

// Advance moves a manual clock forward by d (rounded up to whole milliseconds), firing the
// timers that fall due in deadline order, and returns once they have fired: a chain of retries
// whose tasks run on the loop completes within one call. Errors: ErrBadState for a real clock,
// ErrWrongThread from an inline or async task body (the engine's loop thread), ErrShutdown. Any
// goroutine but the engine's own.
func (e *Engine) Advance(d time.Duration) error {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.ptr == nil {
		return shutdownError()
	}
	var cerr *C.cano_error
	status := C.cano_engine_clock_advance(e.ptr, C.uint64_t(durationMS(d)), &cerr)
	return takeError(status, cerr)
}

// NextDeadline is the clock reading at which the earliest pending timer (a retry delay, an
// attempt or workflow timeout) falls due. Tests use it to wait until a run waits for a timer.
// Errors: ErrNotFound when no timer is pending, ErrShutdown. Any goroutine.
func (e *Engine) NextDeadline() (time.Duration, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.ptr == nil {
		return 0, shutdownError()
	}
	var out C.uint64_t
	var cerr *C.cano_error
	if status := C.cano_engine_clock_next_deadline(&out, e.ptr, &cerr); status != C.CANO_OK {
		return 0, takeError(status, cerr)
	}
	return time.Duration(out) * time.Millisecond, nil
}

// Cancel cancels run runID: its attempt in flight is abandoned (its context reports Cancelled),
// its resources are released, and it ends with an ErrCancelled error. Errors: ErrNotFound when
// no such run is in flight (it may have ended), ErrShutdown. Any goroutine. Called from an
// inline or async task body (on the engine's loop thread), it only marks the run, which ends at
// its next transition: the result of the step in progress is discarded.
func (e *Engine) Cancel(runID uint64) error {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.ptr == nil {
		return shutdownError()
	}
	var cerr *C.cano_error
	return takeError(C.cano_run_cancel(e.ptr, C.uint64_t(runID), &cerr), cerr)
}

// complete finishes async attempt token with a next state or a failure.
func (e *Engine) complete(token uint64, ok bool, next int32, code Code, message string) error {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.ptr == nil {
		return shutdownError()
	}
	var cerr *C.cano_error
	var status C.cano_status
	if ok {
		status = C.cano_task_complete(e.ptr, C.uint64_t(token), C.int32_t(next), &cerr)
	} else {
		text := C.CString(message)
		defer C.free(unsafe.Pointer(text))
		status = C.cano_task_complete_error(e.ptr, C.uint64_t(token), C.cano_status(code), text, &cerr)
	}
	return takeError(status, cerr)
}

// durationMS converts d to whole milliseconds, rounding up so that a positive duration never
// becomes 0 ("none"); negative durations become 0.
func durationMS(d time.Duration) uint64 {
	if d <= 0 {
		return 0
	}
	ms := d / time.Millisecond
	if d%time.Millisecond != 0 {
		ms++
	}
	return uint64(ms)
}
