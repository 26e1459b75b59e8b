// Command stepped_timer shows a stepped task and a timer task in Go.
//
//	Import (stepped: one page per step, the cursor says which; page 3 fails once and is
//	        retried with the same cursor)
//	  -> Cooldown (timer: waits what its wait function decides, then runs)
//	  -> Done
//
// The stepped task's retries are per step, so the flaky page costs one retry of that page only.
// The program checks the outcome, prints "stepped_timer: ok" and exits non-zero on any
// mismatch.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sync"
	"time"

	cano "github.com/libcano/cano/bindings/go"
)

// Job is the workflow's state type.
type Job int32

const (
	Import Job = iota
	Cooldown
	Done
)

func (j Job) String() string { return [...]string{"Import", "Cooldown", "Done"}[j] }

// cursor is the stepped task's cursor: the next page and the rows imported so far.
type cursor struct {
	Page int `json:"page"`
	Rows int `json:"rows"`
}

var pages = map[int][]string{0: {"a", "b"}, 1: {"c"}, 2: {"d", "e"}, 3: {"f"}}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "stepped_timer:", err)
		os.Exit(1)
	}
	fmt.Println("stepped_timer: ok")
}

func run() error {
	engine, err := cano.NewEngine(cano.WithWorkers(2))
	if err != nil {
		return err
	}
	defer engine.Close()
	wf, err := cano.NewWorkflow[Job](nil)
	if err != nil {
		return err
	}
	defer wf.Close()

	var mu sync.Mutex
	var rows []string
	var steps []string
	imported := 0
	flaky := true
	err = wf.RegisterStepped(Import, func(ctx *cano.TaskContext, raw json.RawMessage) (cano.StepResult[Job], error) {
		var cur cursor // the zero cursor on the first step (raw is nil)
		if raw != nil {
			if err := json.Unmarshal(raw, &cur); err != nil {
				return cano.StepResult[Job]{}, err
			}
		}
		mu.Lock()
		defer mu.Unlock()
		steps = append(steps, fmt.Sprintf("%d/%d", cur.Page, ctx.Attempt()))
		if cur.Page == 3 && flaky {
			flaky = false
			return cano.StepResult[Job]{}, errors.New("page 3: connection reset")
		}
		page, ok := pages[cur.Page]
		if !ok { // no more pages
			imported = cur.Rows
			return cano.Finish(Cooldown), nil
		}
		rows = append(rows, page...)
		return cano.More[Job](cursor{Page: cur.Page + 1, Rows: cur.Rows + len(page)}), nil
	}, cano.WithRetry(cano.RetryFixed(2, 10*time.Millisecond)))
	if err != nil {
		return err
	}

	var cooledAt time.Time
	err = wf.RegisterTimer(Cooldown, func(*cano.TaskContext) (Job, error) {
		cooledAt = time.Now()
		return Done, nil
	}, cano.TimerWait(func(ctx *cano.TaskContext) (cano.Wait, error) {
		// On the loop thread, before each attempt's wait.
		return cano.WaitFor(time.Duration(ctx.Attempt()) * 20 * time.Millisecond), nil
	}), cano.WithMode(cano.Inline))
	if err != nil {
		return err
	}
	if err := wf.AddExitState(Done); err != nil {
		return err
	}

	began := time.Now()
	final, err := wf.Run(context.Background(), engine, Import)
	if err != nil {
		return err
	}
	waited := cooledAt.Sub(began)
	switch {
	case final != Done:
		return fmt.Errorf("final state %v", final)
	case !reflect.DeepEqual(rows, []string{"a", "b", "c", "d", "e", "f"}) || imported != 6:
		return fmt.Errorf("rows %q, imported %d", rows, imported)
	case !reflect.DeepEqual(steps, []string{"0/1", "1/1", "2/1", "3/1", "3/2", "4/1"}):
		return fmt.Errorf("steps %q", steps)
	case waited < 20*time.Millisecond:
		return fmt.Errorf("the timer waited %v", waited)
	}
	fmt.Printf("imported %d rows in %d steps; cooled down after %v\n", imported, len(steps),
		waited.Round(time.Millisecond))
	return nil
}
