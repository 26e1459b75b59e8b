package cano

// Batch tasks in the conformance runner (tests/conformance/README.md "Batch tasks"): the model
// and parsing of a batch entry's "batch", and the load, process and finish functions that
// RegisterBatch gets for it.

import (
	"encoding/json"
	"errors"
	"math"
)

// confBatch is a batch task's "batch" (README.md "Batch tasks").
type confBatch struct {
	concurrency uint64
	itemRetry   confRetry
	loads       []confLoad // non-empty
	// Each item's script, by the item's compact JSON text (what the load adds and the item
	// reads back): items that read the same have the same steps.
	scripts map[string][]confStep
}

// confLoad is one entry of a batch's "load": the items one load call adds, or its failure.
type confLoad struct {
	fails   bool
	items   []string // compact JSON texts
	code    Code
	message string
	fatal   bool
}

// maxItems is the most items an entry of "load" adds: the "W[i]" keys go up to this.
func (b *confBatch) maxItems() int {
	n := 0
	for _, l := range b.loads {
		if len(l.items) > n {
			n = len(l.items)
		}
	}
	return n
}

// parseBatch parses a batch task's "batch".
func (sc *confScenario) parseBatch(raw json.RawMessage, path string) *confBatch {
	f := newFields(raw, path)
	batch := &confBatch{itemRetry: confRetry{kind: "default"}, scripts: map[string][]confStep{}}
	if c := f.unsigned("concurrency", math.MaxUint32); c != nil {
		batch.concurrency = *c
	}
	if raw, ok := f.get("item_retry"); ok {
		batch.itemRetry = parseRetry(raw, f.at("item_retry"))
	}
	for i, l := range nonEmptyArray(f.require("load"), f.at("load")) {
		batch.loads = append(batch.loads, sc.parseLoad(l, indexed(f.at("load"), i), batch))
	}
	f.finish()
	return batch
}

// parseLoad parses one entry of "load": exactly one of "items" (with nothing else) and "fail"
// (with "code" and "fatal"). Each item's script goes into batch.scripts.
func (sc *confScenario) parseLoad(raw json.RawMessage, path string, batch *confBatch) confLoad {
	f := newFields(raw, path)
	var load confLoad
	items, hasItems := f.get("items")
	message := f.str("fail")
	if hasItems == (message != nil) {
		failAt(path, "must have exactly one of items and fail")
	}
	if message != nil {
		load.fails = true
		load.message = *message
		load.code = errorCode(f, "code")
		if b := f.boolean("fatal"); b != nil {
			load.fatal = *b
		}
	} else {
		var list []json.RawMessage
		decodeAt(items, f.at("items"), "an array", &list)
		load.items = []string{}
		for i, item := range list {
			at := indexed(f.at("items"), i)
			script := newFields(item, at)
			steps := sc.parseSteps(script, roleItem)
			script.finish()
			text := compactJSON(item, at)
			batch.scripts[text] = steps
			load.items = append(load.items, text)
		}
	}
	f.finish()
	return load
}

// batchLoad is a batch task's load (README.md "Batch tasks"): its body call for attempts,
// attempt_times_ms, trail and cursors, served by the next entry of "load".
func (run *confRun) batchLoad(b *confBinding) func(*TaskContext) ([]json.RawMessage, error) {
	return func(ctx *TaskContext) ([]json.RawMessage, error) {
		defer run.beginBody(b)()
		run.recordCall(ctx, b)
		load := entryFor(b.task.batch.loads, run.nextCall(run.loads, b.key))
		if load.fails {
			return nil, failure(load.code, load.message, load.fatal)
		}
		items := make([]json.RawMessage, len(load.items))
		for i, text := range load.items {
			items[i] = json.RawMessage(text)
		}
		return items, nil
	}
}

// batchItem is a batch task's process function: counted under "W[i]", served by the steps of
// the item's own script (found by its compact JSON text) by the item's attempt number.
func (run *confRun) batchItem(b *confBinding) func(*TaskContext, json.RawMessage) ([]byte, error) {
	return func(ctx *TaskContext, item json.RawMessage) ([]byte, error) {
		defer run.beginBody(b)()
		index, ok := ctx.BatchIndex()
		if !ok {
			run.problem("BatchIndex answered false in a process call of %s", b.key)
			return nil, NewError(CodeInternal, "no batch item")
		}
		key := run.sc.branchKey(b.state, index)
		run.mu.Lock()
		run.countCall(key)
		run.lastKey, run.lastAttempt = b.key, 0
		run.mu.Unlock()
		script, ok := b.task.batch.scripts[string(item)]
		if !ok {
			run.problem("item %s (%s) is no item the scenario loads", key, item)
			return nil, NewError(CodeInternal, "unknown batch item")
		}
		// An item step succeeds (with its value, or none) or fails, as a branch's does.
		res := run.perform(ctx, stepFor(script, uint64(ctx.Attempt())))
		return res.value, res.err
	}
}

// batchFinish is a batch task's finish function: served by the task's steps, one per finish
// call of the state (across its entries); it counts as no attempt.
func (run *confRun) batchFinish(b *confBinding) func(*TaskContext, []ItemResult[[]byte]) (confState, error) {
	return func(ctx *TaskContext, results []ItemResult[[]byte]) (confState, error) {
		defer run.beginBody(b)()
		run.mu.Lock()
		run.finishes[b.key]++
		step := b.task.stepFor(run.finishes[b.key])
		run.lastKey, run.lastAttempt = b.key, 0
		run.mu.Unlock()
		if step.kind == "goto" && step.readBatch {
			run.recordBatch(results)
		}
		res := run.perform(ctx, step) // goto (read_split included) or fail
		return res.next, res.err
	}
}

// recordBatch notes what the finish step saw, for batch_seen (spelled as split_seen).
func (run *confRun) recordBatch(results []ItemResult[[]byte]) {
	seen := []string{}
	for _, r := range results {
		var e *Error
		switch {
		case r.OK():
			seen = append(seen, succeededText(r.Value))
		case errors.As(r.Err, &e):
			seen = append(seen, failedText(e))
		default:
			seen = append(seen, failedText(nil))
		}
	}
	run.mu.Lock()
	defer run.mu.Unlock()
	run.batchSeen = append(run.batchSeen, seen)
}
