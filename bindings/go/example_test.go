package cano_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	cano "github.com/libcano/cano/bindings/go"
)

// Light is a workflow's state type: an int32 with a String method naming each state.
type Light int32

const (
	Red Light = iota
	Green
	Yellow
	Off
)

func (l Light) String() string { return [...]string{"Red", "Green", "Yellow", "Off"}[l] }

func ExampleWorkflow_Run() {
	engine, err := cano.NewEngine()
	if err != nil {
		panic(err)
	}
	defer engine.Close()
	wf, err := cano.NewWorkflow[Light](nil)
	if err != nil {
		panic(err)
	}
	defer wf.Close()
	step := func(next Light) func(*cano.TaskContext) (Light, error) {
		return func(ctx *cano.TaskContext) (Light, error) {
			fmt.Println("in", cano.StateOf[Light](ctx))
			return next, nil
		}
	}
	_ = wf.RegisterFunc(Red, step(Green), cano.WithMode(cano.Inline))
	_ = wf.RegisterFunc(Green, step(Yellow)) // a worker task with cano's default retries
	_ = wf.RegisterFunc(Yellow, step(Off), cano.WithRetry(cano.RetryNone))
	_ = wf.AddExitState(Off)
	final, err := wf.Run(context.Background(), engine, Red)
	fmt.Println("final", final, err)
	// Output:
	// in Red
	// in Green
	// in Yellow
	// final Off <nil>
}

func ExampleError() {
	engine, _ := cano.NewEngine(cano.WithManualClock(0))
	defer engine.Close()
	wf, _ := cano.NewWorkflow[Light](nil)
	defer wf.Close()
	_ = wf.RegisterFunc(Red, func(*cano.TaskContext) (Light, error) {
		return Red, errors.New("bulb broken")
	}, cano.WithMode(cano.Inline), cano.WithName("red-light"), cano.WithRetry(cano.RetryFixed(2, 10*time.Millisecond)))
	_ = wf.AddExitState(Off)
	done := make(chan error, 1)
	_, _ = wf.Start(engine, Red, func(r cano.RunResult[Light]) { done <- r.Err })
	// The manual clock moves only when told: wait for the retry timer, then run both retries.
	for {
		if _, err := engine.NextDeadline(); err == nil {
			break
		}
		time.Sleep(time.Millisecond)
	}
	_ = engine.Advance(time.Second)
	err := <-done

	var e *cano.Error
	if errors.As(err, &e) {
		fmt.Println(e.Code, e.Category)
		fmt.Println(e.Message)
		fmt.Println("state", e.State, "task", e.Task, "attempt", e.Attempt)
		fmt.Println("cause:", e.Cause.Message)
	}
	fmt.Println(errors.Is(err, cano.ErrRetryExhausted), errors.Is(err, cano.ErrTaskExecution), errors.Is(err, cano.ErrTimeout))
	// Output:
	// RETRY_EXHAUSTED retry_exhausted
	// Task failed after 3 attempt(s): Task execution error: bulb broken
	// state Red task red-light attempt 3
	// cause: bulb broken
	// true true false
}

func ExampleMemoryStore() {
	store, _ := cano.NewMemoryStore()
	defer store.Close()
	_ = cano.Put(store, "data", []uint32{1, 2, 3})
	data, _ := cano.Get[[]uint32](store, "data")
	_ = store.Append("log", "first")
	_ = store.Append("log", 2)
	text, _ := store.GetJSON("log")
	_, err := store.GetBytes("data")
	fmt.Println(data, text)
	fmt.Println(errors.Is(err, cano.ErrTypeMismatch), errors.Is(err, cano.ErrStore))
	// Output:
	// [1 2 3] ["first",2]
	// true true
}

func ExampleWorkflow_RegisterSplit() {
	engine, _ := cano.NewEngine()
	defer engine.Close()
	wf, _ := cano.NewWorkflow[Light](nil)
	defer wf.Close()
	lamp := func(value string, err error) cano.Branch {
		return cano.NewBranch(func(*cano.TaskContext) ([]byte, error) {
			if err != nil {
				return nil, err
			}
			return []byte(value), nil
		}, cano.WithMode(cano.Inline), cano.WithRetry(cano.RetryNone))
	}
	// Red checks three lamps at once; two working lamps are enough to go on to Green.
	_ = wf.RegisterSplit(Red, []cano.Branch{
		lamp("left ok", nil),
		lamp("", errors.New("bulb broken")),
		lamp("right ok", nil),
	}, cano.JoinQuorum(2), Green, cano.WithSplitTimeout(time.Second))
	_ = wf.RegisterFunc(Green, func(ctx *cano.TaskContext) (Light, error) {
		result := ctx.SplitResult()
		for _, b := range result.Branches {
			switch b.Status {
			case cano.BranchSucceeded:
				fmt.Printf("lamp %d: %s\n", b.Index, b.Value)
			case cano.BranchFailed:
				fmt.Printf("lamp %d: %s\n", b.Index, b.Err.Message)
			}
		}
		fmt.Println(result.Succeeded, "of", len(result.Branches), "lamps work")
		return Off, nil
	}, cano.WithMode(cano.Inline))
	_ = wf.AddExitState(Off)
	final, err := wf.Run(context.Background(), engine, Red)
	fmt.Println("final", final, err)
	// Output:
	// lamp 0: left ok
	// lamp 1: bulb broken
	// lamp 2: right ok
	// 2 of 3 lamps work
	// final Off <nil>
}

func ExampleWorkflow_RegisterPoll() {
	engine, _ := cano.NewEngine(cano.WithManualClock(0))
	defer engine.Close()
	wf, _ := cano.NewWorkflow[Light](nil)
	defer wf.Close()
	// Yellow waits until the light has been yellow for 3 s, checking every second.
	_ = wf.RegisterPoll(Yellow, func(ctx *cano.TaskContext) (cano.PollResult[Light], error) {
		now := ctx.Engine().Now()
		fmt.Println("poll at", now)
		if now < 3*time.Second {
			return cano.Pending[Light](time.Second), nil
		}
		return cano.Ready(Red), nil
	}, cano.WithMode(cano.Inline), cano.WithAttemptTimeout(10*time.Second))
	_ = wf.AddExitState(Red)
	done := make(chan Light, 1)
	_, _ = wf.Start(engine, Yellow, func(r cano.RunResult[Light]) { done <- r.State })
	for {
		select {
		case final := <-done:
			fmt.Println("final", final)
			return
		case <-time.After(time.Millisecond):
			// The manual clock: move it to the next re-poll once one is due.
			if next, err := engine.NextDeadline(); err == nil {
				_ = engine.Advance(next - engine.Now())
			}
		}
	}
	// Output:
	// poll at 0s
	// poll at 1s
	// poll at 2s
	// poll at 3s
	// final Red
}

func ExampleRegisterBatch() {
	engine, _ := cano.NewEngine()
	defer engine.Close()
	wf, _ := cano.NewWorkflow[Light](nil)
	defer wf.Close()
	type bulb struct {
		Lamp  string
		Watts int
	}
	// Red tests every bulb, two at a time, each up to twice; a broken bulb does not stop the
	// others, and the finish function sees every outcome in the order the bulbs were loaded.
	_ = cano.RegisterBatch(wf, Red,
		func(*cano.TaskContext) ([]bulb, error) {
			return []bulb{{"left", 40}, {"middle", 0}, {"right", 60}}, nil
		},
		func(ctx *cano.TaskContext, b bulb) (string, error) {
			if b.Watts == 0 {
				return "", fmt.Errorf("%s is broken (attempt %d)", b.Lamp, ctx.Attempt())
			}
			return fmt.Sprintf("%s lights at %d W", b.Lamp, b.Watts), nil
		},
		func(ctx *cano.TaskContext, results []cano.ItemResult[string]) (Light, error) {
			working := 0
			for _, r := range results {
				if r.Err != nil {
					var e *cano.Error
					errors.As(r.Err, &e)
					fmt.Printf("bulb %d: %s (%s)\n", r.Index, e.Message, e.Task)
					continue
				}
				working++
				fmt.Printf("bulb %d: %s\n", r.Index, r.Value)
			}
			if working < len(results) {
				return Yellow, nil
			}
			return Green, nil
		}, cano.WithConcurrency(2), cano.WithItemRetry(cano.RetryFixed(1, 0)))
	_ = wf.AddExitState(Green, Yellow)
	final, err := wf.Run(context.Background(), engine, Red)
	fmt.Println("final", final, err)
	// Output:
	// bulb 0: left lights at 40 W
	// bulb 1: middle is broken (attempt 2) (Red[1])
	// bulb 2: right lights at 60 W
	// final Yellow <nil>
}

func ExampleCompletion_Context() {
	engine, _ := cano.NewEngine()
	defer engine.Close()
	wf, _ := cano.NewWorkflow[Light](nil)
	defer wf.Close()
	stopped := make(chan error, 1)
	// Red starts slow work that takes a context; the attempt times out after 20 ms, and the
	// engine's cancel notice cancels the context, so the work stops instead of running on.
	_ = wf.RegisterAsync(Red, func(ctx *cano.TaskContext, done *cano.Completion[Light]) {
		go func() {
			select {
			case <-time.After(10 * time.Second):
				_ = done.Complete(Green)
			case <-done.Context().Done():
				stopped <- done.Context().Err()
			}
		}()
	}, cano.WithAttemptTimeout(20*time.Millisecond), cano.WithRetry(cano.RetryNone))
	_ = wf.AddExitState(Green)
	_, err := wf.Run(context.Background(), engine, Red)
	fmt.Println(errors.Is(err, cano.ErrTimeout))
	fmt.Println("work stopped:", <-stopped)
	// Output:
	// true
	// work stopped: context canceled
}
