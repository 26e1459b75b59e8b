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
