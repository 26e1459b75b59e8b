// Package cano is the Go binding of libcano, an embeddable workflow engine whose behaviour
// follows the Rust crate cano 0.13: a workflow is a finite state machine whose states have
// tasks, and an engine runs it from an initial state to an exit state with retries, timeouts
// and shared resources.
//
// The package calls libcano.so through cgo (found with pkg-config, module "cano") and checks
// at build time and at initialisation that the library has the ABI major it was written for.
//
// # Quick start
//
//	type Step int32
//
//	const (
//		Fetch Step = iota
//		Process
//		Done
//	)
//
//	func (s Step) String() string { return [...]string{"Fetch", "Process", "Done"}[s] }
//
//	engine, _ := cano.NewEngine()
//	defer engine.Close()
//	wf, _ := cano.NewWorkflow[Step](nil)
//	defer wf.Close()
//	wf.RegisterFunc(Fetch, func(ctx *cano.TaskContext) (Step, error) { return Process, nil })
//	wf.RegisterFunc(Process, func(ctx *cano.TaskContext) (Step, error) { return Done, nil })
//	wf.AddExitState(Done)
//	final, err := wf.Run(context.Background(), engine, Fetch)
//
// # Threads and ownership
//
// Engines, workflows, resource sets and stores are created by New* functions, owned by the
// caller and released with Close; every doc comment says which goroutines may call a method.
// Task bodies run on threads the engine owns: Worker bodies on its worker pool (they may
// block), Inline and Async bodies on its loop thread (they must not). A panic in a task body
// fails the task with CodeTaskExecution "panic: <value>", never retried (as in cano); no panic
// ever unwinds into C. A body that returns Fatal(err) fails its task the same way.
//
// # Split states, poll tasks, routers, stepped, timer and batch tasks
//
// RegisterSplit runs a state's branches in parallel and joins them with a JoinStrategy
// (JoinAll, JoinAny, JoinQuorum, JoinPercentage, JoinPartialResults, JoinPartialTimeout); the
// join state's task reads every branch's outcome with TaskContext.SplitResult. RegisterPoll
// registers a "wait until" task answering Ready(next) or Pending(delay); RegisterRouter a
// side-effect-free routing task. RegisterStepped runs resumable work one step at a time, each
// step answering More(cursor) or Finish(next) with retries per step (RegisterStepLoop makes the
// whole loop one attempt); RegisterTimer waits (TimerDelay, TimerUntil, TimerWait) before its
// body runs. RegisterBatch (a function, for its item and output type parameters) loads items,
// processes them under WithConcurrency with WithItemRetry, and finishes with every
// ItemResult in input order.
//
// # Async tasks and cancellation
//
// An Async body returns at once and finishes its attempt later through a Completion (Later,
// RegisterAsync) or a BranchCompletion (AsyncBranch). When the engine abandons a pending
// attempt (its attempt timeout, a lost split branch, a cancelled or timed-out run, shutdown),
// the completion's Done channel closes and its Context is cancelled, so that the work can stop;
// WithOnCancel adds a function the loop thread calls for each such notice.
//
// Go values handed to the library (tasks, resources, stored objects, handlers) are kept alive
// by runtime/cgo handles, stored in small C allocations that the library's destroy hooks free;
// nothing of Go memory is retained by C.
//
// # Errors
//
// Every error from the library is a *Error carrying cano's category, the status code, the
// message and where it came from (state, task, attempt, run). Compare with errors.Is against
// the Err* sentinels (ErrStore matches every store error, ErrKeyNotFound only missing keys) and
// inspect with errors.As. A task returns a *Error (see NewError) to fail with a given code.
package cano
