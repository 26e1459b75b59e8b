// Command batch shows a batch task in Go: load, process each item, finish.
//
// The Import state is a batch task named "import", registered with cano.RegisterBatch: load
// returns the order ids 1..8, process prices one order (id * 10; order 5 is out of stock and
// fails, is retried once and fails again), at most 3 orders at a time, and finish gets every
// outcome in input order: it totals the priced orders and moves to Review when some failed, to
// Done otherwise. The program checks the total (10+20+30+40+60+70+80 = 310), the failure (item
// 4, task "import[4]", after 2 attempts) and the final state, prints "batch: ok" and exits
// non-zero on any mismatch.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	cano "github.com/libcano/cano/bindings/go"
)

// Step is the workflow's state type.
type Step int32

const (
	Import Step = iota
	Review
	Done
)

func (s Step) String() string { return [...]string{"Import", "Review", "Done"}[s] }

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "batch:", err)
		os.Exit(1)
	}
	fmt.Println("batch: ok")
}

func run() error {
	engine, err := cano.NewEngine()
	if err != nil {
		return err
	}
	defer engine.Close()
	wf, err := cano.NewWorkflow[Step](nil)
	if err != nil {
		return err
	}
	defer wf.Close()

	// What finish found (it runs once per attempt); read after the run.
	var total int
	var failures []error
	err = cano.RegisterBatch(wf, Import,
		func(*cano.TaskContext) ([]int, error) {
			return []int{1, 2, 3, 4, 5, 6, 7, 8}, nil
		},
		// On a worker, at most three at a time.
		func(_ *cano.TaskContext, id int) (int, error) {
			if id == 5 {
				return 0, errors.New("order 5 is out of stock")
			}
			return id * 10, nil
		},
		func(_ *cano.TaskContext, results []cano.ItemResult[int]) (Step, error) {
			total, failures = 0, nil
			for _, r := range results {
				if r.OK() {
					total += r.Value
				} else {
					failures = append(failures, r.Err)
				}
			}
			if len(failures) > 0 {
				return Review, nil
			}
			return Done, nil
		},
		cano.WithName("import"), cano.WithConcurrency(3),
		cano.WithItemRetry(cano.RetryFixed(1, 0))) // one retry, no delay
	if err != nil {
		return err
	}
	if err := wf.AddExitState(Review, Done); err != nil {
		return err
	}

	final, err := wf.Run(context.Background(), engine, Import)
	if err != nil {
		return err
	}
	fmt.Printf("priced total: %d, failed orders: %d\n", total, len(failures))
	for _, f := range failures {
		fmt.Println("failure:", f)
	}
	fmt.Println("final state:", final)

	var item *cano.Error
	switch {
	case final != Review:
		return fmt.Errorf("final state %v", final)
	case total != 310:
		return fmt.Errorf("total %d", total)
	case len(failures) != 1 || !errors.As(failures[0], &item):
		return fmt.Errorf("failures %v", failures)
	case item.Task != "import[4]" || item.Attempt != 2 ||
		!strings.Contains(item.Message, "order 5 is out of stock"):
		return fmt.Errorf("failure from task %q, attempt %d: %s", item.Task, item.Attempt, item.Message)
	}
	return nil
}
