// Command quickstart is cano's Quick Start in Go.
//
// Three states, Fetch -> Process -> Done. A typed configuration resource (FetchConfig with
// BatchSize 3) and a MemoryStore under "store" are shared with the tasks. Fetch stores the
// numbers 1..BatchSize under "data"; Process sums them into "sum". The program checks that the
// run ends in Done with sum 6, prints the state trail and the sum, and exits non-zero on any
// mismatch.
package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	cano "github.com/libcano/cano/bindings/go"
)

// Step is the workflow's state type; String names the states.
type Step int32

const (
	Fetch Step = iota
	Process
	Done
)

func (s Step) String() string {
	switch s {
	case Fetch:
		return "Fetch"
	case Process:
		return "Process"
	case Done:
		return "Done"
	}
	return fmt.Sprintf("Step(%d)", int32(s))
}

// FetchConfig is a typed configuration shared with the tasks through the resources.
type FetchConfig struct {
	BatchSize int
}

// fetch produces BatchSize items and stores them for the next task.
func fetch(ctx *cano.TaskContext) (Step, error) {
	config, err := cano.GetResource[*FetchConfig](ctx.Resources(), "config")
	if err != nil {
		return Fetch, err
	}
	store, err := cano.GetResource[*cano.MemoryStore](ctx.Resources(), "store")
	if err != nil {
		return Fetch, err
	}
	if err := store.Append("trail", "Fetch"); err != nil {
		return Fetch, err
	}
	data := make([]uint32, 0, config.BatchSize)
	for i := 1; i <= config.BatchSize; i++ {
		data = append(data, uint32(i))
	}
	if err := cano.Put(store, "data", data); err != nil {
		return Fetch, err
	}
	return Process, nil
}

// process sums the items into "sum".
func process(ctx *cano.TaskContext) (Step, error) {
	store, err := ctx.Store("store")
	if err != nil {
		return Process, err
	}
	if err := store.Append("trail", "Process"); err != nil {
		return Process, err
	}
	data, err := cano.Get[[]uint32](store, "data")
	if err != nil {
		return Process, err
	}
	var sum uint32
	for _, n := range data {
		sum += n
	}
	if err := cano.Put(store, "sum", sum); err != nil {
		return Process, err
	}
	return Done, nil
}

func run() error {
	store, err := cano.NewMemoryStore()
	if err != nil {
		return err
	}
	defer store.Close()
	resources, err := cano.NewResources()
	if err != nil {
		return err
	}
	defer resources.Close()
	if err := resources.Insert("config", &FetchConfig{BatchSize: 3}); err != nil {
		return err
	}
	if err := resources.Insert("store", store); err != nil {
		return err
	}

	workflow, err := cano.NewWorkflow[Step](resources)
	if err != nil {
		return err
	}
	defer workflow.Close()
	// As in the seed, the tasks get cano's default TaskConfig (worker mode, default retries).
	if err := workflow.RegisterFunc(Fetch, fetch); err != nil {
		return err
	}
	if err := workflow.RegisterFunc(Process, process); err != nil {
		return err
	}
	if err := workflow.AddExitState(Done); err != nil {
		return err
	}

	engine, err := cano.NewEngine()
	if err != nil {
		return err
	}
	defer engine.Close()

	// orchestrate(): run from Fetch and wait for the final state.
	final, err := workflow.Run(context.Background(), engine, Fetch)
	if err != nil {
		return fmt.Errorf("run: %w", err)
	}
	if final != Done {
		return fmt.Errorf("final state %v, expected Done", final)
	}

	// The sum of 1..=3 is 6.
	sum, err := cano.Get[uint32](store, "sum")
	if err != nil {
		return err
	}
	if sum != 6 {
		return fmt.Errorf("sum is %d, expected 6", sum)
	}
	trail, err := cano.Get[[]string](store, "trail")
	if err != nil {
		return err
	}
	fmt.Printf("trail: %s -> %v\n", strings.Join(trail, " -> "), final)
	fmt.Printf("sum: %d\n", sum)
	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
	fmt.Println("quickstart: ok")
}
