package cano

// How RegisterBatch carries typed items and outputs across the C ABI: through encoding/json,
// except json.RawMessage items and []byte outputs, which pass as they are. The batch helpers
// (numbers, recordingFinish, runBatch) are in batch_test.go.

import (
	"encoding/json"
	"fmt"
	"testing"
)

// A struct item and output round trip through encoding/json.
type batchJob struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

type batchReport struct {
	Label string
	Twice []int
}

func TestBatchValuesAreEncodedAsJSON(t *testing.T) {
	checkHandlesReleased(t)
	e := newTestEngine(t)
	wf := newTestWorkflow(t, nil)
	jobs := []batchJob{{"a", 1}, {"b", 2}}
	var got []ItemResult[*batchReport]
	process := func(ctx *TaskContext, job batchJob) (*batchReport, error) {
		if job.Name == "b" {
			return nil, nil // encodes as null: the zero output
		}
		return &batchReport{Label: job.Name, Twice: []int{job.Count, job.Count * 2}}, nil
	}
	finish := func(_ *TaskContext, results []ItemResult[*batchReport]) (Step, error) {
		got = results
		return Done, nil
	}
	must(t, RegisterBatch(wf, Work, func(*TaskContext) ([]batchJob, error) { return jobs, nil }, process, finish,
		WithMode(Inline)))
	r := runBatch(t, e, wf)
	if r.Err != nil || len(got) != 2 || got[0].Value == nil || got[0].Value.Label != "a" ||
		fmt.Sprint(got[0].Value.Twice) != "[1 2]" || got[1].Value != nil || !got[1].OK() {
		t.Fatalf("run = %v; results %+v", r.Err, got)
	}
}

func TestBatchRawBytes(t *testing.T) {
	checkHandlesReleased(t)
	e := newTestEngine(t)
	wf := newTestWorkflow(t, nil)
	items := []json.RawMessage{json.RawMessage(`{"a":1}`), json.RawMessage(`[2]`), json.RawMessage(`"x"`)}
	var seen journal
	// json.RawMessage items and []byte outputs are passed as they are: nil leaves no value,
	// an empty slice an empty one.
	process := func(ctx *TaskContext, item json.RawMessage) ([]byte, error) {
		seen.add(string(item))
		switch string(item) {
		case `[2]`:
			return nil, nil
		case `"x"`:
			return []byte{}, nil
		}
		return append([]byte("raw:"), item...), nil
	}
	var got []ItemResult[[]byte]
	finish := func(_ *TaskContext, results []ItemResult[[]byte]) (Step, error) {
		got = results
		return Done, nil
	}
	must(t, RegisterBatch(wf, Work, func(*TaskContext) ([]json.RawMessage, error) { return items, nil }, process,
		finish, WithMode(Inline)))
	r := runBatch(t, e, wf)
	if r.Err != nil || len(got) != 3 {
		t.Fatalf("run = %v; results %v", r.Err, got)
	}
	if want := []string{`{"a":1}`, `[2]`, `"x"`}; !equalStrings(seen.get(), want) {
		t.Fatalf("items seen %q, want %q", seen.get(), want)
	}
	if string(got[0].Value) != `raw:{"a":1}` || got[1].Value != nil || got[2].Value == nil || len(got[2].Value) != 0 {
		t.Fatalf("values %q, %v, %v", got[0].Value, got[1].Value, got[2].Value)
	}
}

func TestBatchEncodingErrors(t *testing.T) {
	checkHandlesReleased(t)
	e := newTestEngine(t)
	// An item json.Marshal refuses fails the load step.
	wf := newTestWorkflow(t, nil)
	var rec recordingFinish[int]
	must(t, RegisterBatch(wf, Work, func(*TaskContext) ([]any, error) { return []any{1, make(chan int)}, nil },
		func(*TaskContext, any) (int, error) { return 1, nil }, rec.finish(t), WithRetry(RetryNone)))
	r := runBatch(t, e, wf)
	err := wantCode(t, r.Err, CodeTaskExecution, "")
	wantContains(t, err.Message, "serialize item 1 for `Work`: ", "chan int")
	if rec.calls.Load() != 0 {
		t.Fatal("finish ran")
	}
	// An output it refuses fails that item only.
	wf = newTestWorkflow(t, nil)
	var got []ItemResult[any]
	must(t, RegisterBatch(wf, Work, numbers(2, nil), func(_ *TaskContext, n int) (any, error) {
		if n == 1 {
			return func() {}, nil
		}
		return n, nil
	}, func(_ *TaskContext, results []ItemResult[any]) (Step, error) {
		got = results
		return Done, nil
	}))
	r = runBatch(t, e, wf)
	if r.Err != nil || len(got) != 2 || !got[0].OK() || got[0].Value != float64(0) || got[1].OK() {
		t.Fatalf("run = %v; results %+v", r.Err, got)
	}
	item := asError(t, got[1].Err)
	wantContains(t, item.Message, "serialize output for `Work[1]`: ")
	if item.Task != "Work[1]" {
		t.Fatalf("item error task = %q", item.Task)
	}
}
