//go:build go1.21

package cano

import (
	"context"
	"log/slog"
)

// SlogLevel maps a library log level to a log/slog level: trace is Debug-4, debug Debug, info
// Info, warn Warn, error Error, critical Error+4.
func (l LogLevel) SlogLevel() slog.Level {
	switch l {
	case LogTrace:
		return slog.LevelDebug - 4
	case LogDebug:
		return slog.LevelDebug
	case LogInfo:
		return slog.LevelInfo
	case LogWarn:
		return slog.LevelWarn
	case LogError:
		return slog.LevelError
	default:
		return slog.LevelError + 4
	}
}

// SetSlogHandler routes every library log record (process-wide) to h, as a slog record at
// level.SlogLevel() with the attribute logger=cano; nil restores the stderr sink. Records go
// through h.Enabled first. The handler is called on whichever thread logs, one call at a time.
// Needs Go 1.21. Any goroutine.
func SetSlogHandler(h slog.Handler) error {
	if h == nil {
		return SetLogHandler(nil)
	}
	logger := slog.New(h).With(slog.String("logger", "cano"))
	return SetLogHandler(func(level LogLevel, message string) {
		logger.Log(context.Background(), level.SlogLevel(), message)
	})
}
