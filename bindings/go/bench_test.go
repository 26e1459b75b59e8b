package cano

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// linearState is the state type of the benchmark: 1,001 states, s0..s1000.
type linearState int32

func (s linearState) String() string { return fmt.Sprintf("s%d", int32(s)) }

// benchTransitions is the number of transitions one run makes: states 0..999 each hold a Go
// func task that moves to the next state, and state 1000 is the exit (as bench/transition_bench
// does in C++).
const benchTransitions = 1000

func benchmarkTransitions(b *testing.B, mode Mode) {
	e, err := NewEngine()
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	wf, err := NewWorkflow[linearState](nil)
	if err != nil {
		b.Fatal(err)
	}
	defer wf.Close()
	next := func(ctx *TaskContext) (linearState, error) {
		return linearState(ctx.StateCode() + 1), nil
	}
	for s := 0; s < benchTransitions; s++ {
		if err := wf.RegisterFunc(linearState(s), next, WithMode(mode), WithRetry(RetryNone)); err != nil {
			b.Fatal(err)
		}
	}
	if err := wf.AddExitState(benchTransitions); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	// One warm-up run freezes the workflow and binds the engine's threads to Go.
	if final, err := wf.Run(ctx, e, 0); err != nil || final != benchTransitions {
		b.Fatalf("warm-up run: %v, %v", final, err)
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := wf.Run(ctx, e, 0); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(b.N*benchTransitions), "ns/transition")
}

// BenchmarkTransitionInline is the per-transition cost of a 1,000-state linear workflow of Go
// func tasks that run inline on the loop thread (one C-to-Go callback per transition).
func BenchmarkTransitionInline(b *testing.B) { benchmarkTransitions(b, Inline) }

// BenchmarkTransitionWorker is the same with worker tasks (a hand-off to a worker thread and
// back per transition).
func BenchmarkTransitionWorker(b *testing.B) { benchmarkTransitions(b, Worker) }
