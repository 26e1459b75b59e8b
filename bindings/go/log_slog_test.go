//go:build go1.21

package cano

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
)

// recordingHandler is a slog.Handler that keeps its records.
type recordingHandler struct {
	mu      *sync.Mutex
	records *[]slog.Record
	attrs   []slog.Attr
}

func (h recordingHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h recordingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	r.AddAttrs(h.attrs...)
	*h.records = append(*h.records, r)
	return nil
}

func (h recordingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	h.attrs = append(append([]slog.Attr(nil), h.attrs...), attrs...)
	return h
}

func (h recordingHandler) WithGroup(string) slog.Handler { return h }

func TestSlogHandler(t *testing.T) {
	for l, want := range map[LogLevel]slog.Level{
		LogTrace: slog.LevelDebug - 4, LogDebug: slog.LevelDebug, LogInfo: slog.LevelInfo,
		LogWarn: slog.LevelWarn, LogError: slog.LevelError, LogCritical: slog.LevelError + 4,
	} {
		if l.SlogLevel() != want {
			t.Errorf("%v.SlogLevel() = %v", l, l.SlogLevel())
		}
	}
	old := GetLogLevel()
	defer func() { must(t, SetLogLevel(old)) }()
	must(t, SetLogLevel(LogDebug))
	var mu sync.Mutex
	var records []slog.Record
	must(t, SetSlogHandler(recordingHandler{mu: &mu, records: &records}))
	defer func() { must(t, SetSlogHandler(nil)) }()

	e := newTestEngine(t)
	wf := newTestWorkflow(t, nil)
	attempts := 0
	must(t, wf.RegisterFunc(Start, func(*TaskContext) (Step, error) {
		attempts++
		if attempts == 1 {
			return Failed, errors.New("slog retry")
		}
		return Done, nil
	}, WithMode(Inline), WithRetry(RetryFixed(1, 0))))
	must(t, wf.AddExitState(Done))
	if _, err := wf.Run(context.Background(), e, Start); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, r := range records {
		logger := ""
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "logger" {
				logger = a.Value.String()
			}
			return true
		})
		if r.Level == slog.LevelDebug && logger == "cano" {
			return
		}
	}
	t.Fatalf("no debug record with logger=cano among %d records", len(records))
}
