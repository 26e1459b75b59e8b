// Command split_poll_router shows split/join, a poll task and a router in Go.
//
//	Quote (split: three suppliers asked in parallel, JoinQuorum(2))
//	  -> Pick (join: reads every branch's quote, keeps the cheapest)
//	  -> Route (router: big orders need approval)
//	  -> AwaitApproval (poll: "not yet" twice, then approved) -> Done
//
// One supplier is down (its branch fails, retried once), which a quorum of two tolerates; the
// join task sees the failure next to the two quotes. The program checks the outcome, prints
// "split_poll_router: ok" and exits non-zero on any mismatch.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	cano "github.com/libcano/cano/bindings/go"
)

// Order is the workflow's state type.
type Order int32

const (
	Quote Order = iota
	Pick
	Route
	AwaitApproval
	Done
)

func (o Order) String() string {
	return [...]string{"Quote", "Pick", "Route", "AwaitApproval", "Done"}[o]
}

type quote struct {
	Supplier string  `json:"supplier"`
	Price    float64 `json:"price"`
}

// supplier is a branch body: its value is the quote, as JSON.
func supplier(name string, price float64) func(*cano.TaskContext) ([]byte, error) {
	return func(*cano.TaskContext) ([]byte, error) {
		return json.Marshal(quote{Supplier: name, Price: price})
	}
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "split_poll_router:", err)
		os.Exit(1)
	}
	fmt.Println("split_poll_router: ok")
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
	if err := resources.Insert("store", store); err != nil {
		return err
	}
	wf, err := cano.NewWorkflow[Order](resources)
	if err != nil {
		return err
	}
	defer wf.Close()

	branches := []cano.Branch{
		cano.NewBranch(supplier("A", 12.5), cano.WithRetry(cano.RetryNone)),
		cano.NewBranch(supplier("B", 9.75), cano.WithRetry(cano.RetryNone)),
		cano.NewBranch(func(*cano.TaskContext) ([]byte, error) {
			return nil, errors.New("supplier C is down")
		}, cano.WithRetry(cano.RetryFixed(1, 10*time.Millisecond))),
	}
	if err := wf.RegisterSplit(Quote, branches, cano.JoinQuorum(2), Pick,
		cano.WithSplitTimeout(5*time.Second)); err != nil {
		return err
	}

	var best quote
	var failures []string
	if err := wf.RegisterFunc(Pick, func(ctx *cano.TaskContext) (Order, error) {
		result := ctx.SplitResult()
		var quotes []quote
		for _, branch := range result.Branches {
			switch branch.Status {
			case cano.BranchSucceeded:
				var q quote
				if err := json.Unmarshal(branch.Value, &q); err != nil {
					return Pick, err
				}
				quotes = append(quotes, q)
			case cano.BranchFailed:
				failures = append(failures, branch.Err.Message)
			}
		}
		best = quotes[0]
		for _, q := range quotes[1:] {
			if q.Price < best.Price {
				best = q
			}
		}
		fmt.Printf("quotes: %v; failed: %q; best: %v\n", quotes, failures, best)
		return Route, nil
	}, cano.WithMode(cano.Inline), cano.WithRetry(cano.RetryNone)); err != nil {
		return err
	}

	if err := wf.RegisterRouter(Route, func(*cano.TaskContext) (Order, error) {
		if best.Price > 5 {
			return AwaitApproval, nil
		}
		return Done, nil
	}, cano.WithMode(cano.Inline), cano.WithRetry(cano.RetryNone)); err != nil {
		return err
	}

	var mu sync.Mutex
	var polls []int
	if err := wf.RegisterPoll(AwaitApproval, func(ctx *cano.TaskContext) (cano.PollResult[Order], error) {
		mu.Lock()
		polls = append(polls, ctx.Attempt())
		count := len(polls)
		mu.Unlock()
		if count < 3 {
			return cano.Pending[Order](20 * time.Millisecond), nil // not yet: ask again in 20 ms
		}
		store, err := ctx.Store("store")
		if err != nil {
			return cano.PollResult[Order]{}, err
		}
		return cano.Ready(Done), store.PutJSON("approved", "true")
	}, cano.WithMode(cano.Inline), cano.WithAttemptTimeout(10*time.Second)); err != nil {
		return err
	}
	if err := wf.AddExitState(Done); err != nil {
		return err
	}

	engine, err := cano.NewEngine(cano.WithWorkers(3))
	if err != nil {
		return err
	}
	defer engine.Close()
	final, err := wf.Run(context.Background(), engine, Quote)
	if err != nil {
		return fmt.Errorf("the run failed: %w", err)
	}

	approved, _ := store.GetJSON("approved")
	wantFailure := "Task failed after 2 attempt(s): Task execution error: supplier C is down"
	mu.Lock()
	defer mu.Unlock()
	switch {
	case final != Done:
		return fmt.Errorf("final state %v", final)
	case best != quote{Supplier: "B", Price: 9.75}:
		return fmt.Errorf("best quote %+v", best)
	case len(failures) != 1 || failures[0] != wantFailure:
		return fmt.Errorf("failures %q", failures)
	case fmt.Sprint(polls) != "[1 1 1]":
		return fmt.Errorf("poll calls %v (one attempt, three calls)", polls)
	case approved != "true":
		return fmt.Errorf("approval %q", approved)
	}
	fmt.Printf("%v, approved after %d polls\n", final, len(polls))
	return nil
}
