package cano

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestLogLevel(t *testing.T) {
	old := GetLogLevel()
	defer func() { must(t, SetLogLevel(old)) }()
	if old != LogWarn {
		t.Logf("the level was %v (the library default is warn)", old)
	}
	for _, l := range []LogLevel{LogTrace, LogDebug, LogInfo, LogWarn, LogError, LogCritical, LogOff} {
		must(t, SetLogLevel(l))
		if GetLogLevel() != l {
			t.Fatalf("GetLogLevel = %v after setting %v", GetLogLevel(), l)
		}
	}
	err := SetLogLevel(LogLevel(42))
	if !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("SetLogLevel(42): %v", err)
	}
	names := []string{"trace", "debug", "info", "warn", "error", "critical", "off"}
	for i, name := range names {
		if LogLevel(i).String() != name {
			t.Errorf("LogLevel(%d) = %q", i, LogLevel(i).String())
		}
	}
	if LogLevel(9).String() != "LogLevel(9)" {
		t.Error("unknown level name")
	}
}

func TestLogHandler(t *testing.T) {
	checkHandlesReleased(t)
	old := GetLogLevel()
	defer func() { must(t, SetLogLevel(old)) }()
	must(t, SetLogLevel(LogDebug))
	var first, second journal
	must(t, SetLogHandler(func(level LogLevel, message string) { first.add(level.String() + " " + message) }))
	// Replacing the handler releases the previous one.
	must(t, SetLogHandler(func(level LogLevel, message string) {
		second.add(level.String() + " " + message)
		if strings.Contains(message, "retrying") {
			panic("a panicking handler loses its record and nothing else")
		}
	}))
	defer func() { must(t, SetLogHandler(nil)) }()

	// A failing attempt that is retried is logged at debug level.
	e := newTestEngine(t)
	wf := newTestWorkflow(t, nil)
	attempts := 0
	must(t, wf.RegisterFunc(Start, func(*TaskContext) (Step, error) {
		attempts++
		if attempts == 1 {
			return Failed, errors.New("first attempt fails")
		}
		return Done, nil
	}, WithMode(Inline), WithRetry(RetryFixed(1, 0))))
	must(t, wf.AddExitState(Done))
	if _, err := wf.Run(context.Background(), e, Start); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range second.get() {
		if strings.HasPrefix(r, "debug ") && strings.Contains(r, "first attempt fails") {
			found = true
		}
	}
	if !found {
		t.Fatalf("no debug record of the retry: %v", second.get())
	}
	for _, r := range first.get() {
		if strings.Contains(r, "first attempt fails") {
			t.Fatalf("the replaced handler still got records: %v", r)
		}
	}
	must(t, SetLogHandler(nil))
	n := len(second.get())
	must(t, SetLogLevel(LogOff))
	if _, err := wf.Run(context.Background(), e, Start); err != nil {
		t.Fatal(err)
	}
	if len(second.get()) != n {
		t.Fatal("a removed handler got records")
	}
}
