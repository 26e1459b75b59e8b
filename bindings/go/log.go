package cano

/*
#include "cano_go.h"
*/
import "C"

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"unsafe"
)

// LogLevel is the severity of a library log record (cano_log_level).
type LogLevel int32

// The log levels, in increasing severity; LogOff disables logging.
const (
	LogTrace    LogLevel = C.CANO_LOG_TRACE
	LogDebug    LogLevel = C.CANO_LOG_DEBUG
	LogInfo     LogLevel = C.CANO_LOG_INFO
	LogWarn     LogLevel = C.CANO_LOG_WARN
	LogError    LogLevel = C.CANO_LOG_ERROR
	LogCritical LogLevel = C.CANO_LOG_CRITICAL
	LogOff      LogLevel = C.CANO_LOG_OFF
)

// String names the level ("trace", ..., "critical", "off").
func (l LogLevel) String() string {
	switch l {
	case LogTrace:
		return "trace"
	case LogDebug:
		return "debug"
	case LogInfo:
		return "info"
	case LogWarn:
		return "warn"
	case LogError:
		return "error"
	case LogCritical:
		return "critical"
	case LogOff:
		return "off"
	}
	return fmt.Sprintf("LogLevel(%d)", int32(l))
}

// SetLogLevel sets the minimum level the library logs (process-wide; the default is LogWarn,
// so a healthy program prints nothing). Errors: ErrInvalidArgument for a level outside
// LogTrace..LogOff. Any goroutine.
func SetLogLevel(level LogLevel) error {
	return takeError(C.cano_log_set_level(C.cano_log_level(level)), nil)
}

// GetLogLevel is the current minimum level. Any goroutine.
func GetLogLevel() LogLevel { return LogLevel(C.cano_log_get_level()) }

// LogHandler receives one library log record. It is called on whichever thread logs (the loop
// thread, a worker, or the goroutine of an API call), one call at a time, and must not block
// for long. message is the formatted record.
type LogHandler func(level LogLevel, message string)

// logHandlerBox is what the handler's handle holds.
type logHandlerBox struct{ fn LogHandler }

var (
	// handlerMu serialises SetLogHandler calls, so currentHandler follows the library's order.
	handlerMu      sync.Mutex
	currentHandler atomic.Pointer[logHandlerBox]
)

// SetLogHandler routes every library log record (process-wide) to fn instead of stderr; nil
// restores the stderr sink. The previous handler is released once no record can reach it.
// A panic in fn is recovered and the record dropped. Any goroutine.
func SetLogHandler(fn LogHandler) error {
	handlerMu.Lock()
	defer handlerMu.Unlock()
	if fn == nil {
		if status := C.cano_log_set_handler(nil, nil, nil); status != C.CANO_OK {
			return takeError(status, nil)
		}
		currentHandler.Store(nil)
		return nil
	}
	box := &logHandlerBox{fn: fn}
	h := newHandle(box)
	slot := C.cano_go_slot_new(C.uintptr_t(h))
	if slot == nil {
		deleteHandle(h)
		return NewError(CodeNoMemory, "out of memory")
	}
	status := C.cano_log_set_handler(C.cano_log_fn(C.cano_go_log_shim), unsafe.Pointer(slot),
		(*[0]byte)(C.cano_go_slot_destroy))
	if status != C.CANO_OK {
		deleteHandle(h)
		C.cano_go_slot_free(unsafe.Pointer(slot))
		return takeError(status, nil)
	}
	currentHandler.Store(box)
	return nil
}

// reportPanic reports a panic recovered in a callback that has no failure to turn it into
// (a run's completion function, an Engine.Post function): to the Go log handler when one is
// set, else to stderr.
func reportPanic(where string, r any) {
	message := "cano: recovered " + panicMessage(r) + " in " + where
	if box := currentHandler.Load(); box != nil {
		func() {
			defer func() { _ = recover() }()
			box.fn(LogError, message)
		}()
		return
	}
	fmt.Fprintln(os.Stderr, message)
}
