package cano

// Parsing a conformance scenario into the model of conformance_scenario_test.go, as strictly as
// tests/conformance/README.md and the C++ runner do: the top level, tasks, split states, steps,
// retry, poll and timer options. Batches are parsed in conformance_batch_test.go and "expect" in
// conformance_expect_test.go.

import (
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"time"
)

// parseScenario parses a scenario strictly, as README.md and the C++ runner do.
func parseScenario(data []byte, file string) (sc *confScenario, err error) {
	defer func() {
		if r := recover(); r != nil {
			se, ok := r.(*scenarioError)
			if !ok {
				panic(r)
			}
			err = se
		}
	}()
	sc = &confScenario{tasks: map[int32]*confTask{}, splits: map[int32]*confSplit{}}
	top := newFields(data, file)
	sc.name = top.requiredStr("name")
	if !scenarioName.MatchString(sc.name) {
		failAt(top.at("name"), "letters, digits and _ only")
	}
	top.str("description")
	top.require("states")
	states := top.strs("states")
	for _, s := range states {
		for _, prev := range sc.states {
			if prev == s {
				failAt(top.at("states"), "declares %q twice", s)
			}
		}
		sc.states = append(sc.states, s)
	}
	sc.initial = sc.stateRef(top.require("initial"), top.at("initial"))
	for _, name := range top.strs("exit_states") {
		sc.exitStates = append(sc.exitStates, sc.declared(name, top.at("exit_states")))
	}
	if t := top.unsigned("timeout_ms", math.MaxUint64); t != nil {
		sc.timeoutMS = *t
	}
	if raw, ok := top.get("resources"); ok {
		var list []json.RawMessage
		decodeAt(raw, top.at("resources"), "an array", &list)
		for i, item := range list {
			f := newFields(item, indexed(top.at("resources"), i))
			r := confResource{key: f.requiredStr("key")}
			if r.key == "store" {
				failAt(f.at("key"), "\"store\" is the suite's store")
			}
			r.setupOK = outcomeField(f, "setup")
			r.teardownOK = outcomeField(f, "teardown")
			r.message = f.str("message")
			f.finish()
			sc.resources = append(sc.resources, r)
		}
	}
	if raw, ok := top.get("tasks"); ok {
		tasks := newFields(raw, top.at("tasks"))
		for code, state := range sc.states {
			item, ok := tasks.get(state)
			if !ok {
				continue
			}
			at := tasks.at(state)
			var probe map[string]json.RawMessage
			if isKind(item, '{') && json.Unmarshal(item, &probe) == nil && probe["split"] != nil {
				// A split entry holds "split" only.
				entry := newFields(item, at)
				sc.splits[int32(code)] = sc.parseSplit(entry.require("split"), entry.at("split"))
				entry.finish()
			} else {
				sc.tasks[int32(code)] = sc.parseTask(item, at, false)
			}
		}
		tasks.finish()
	}
	sc.parseExpect(top.require("expect"), top.at("expect"))
	top.finish()
	if want := strings.TrimSuffix(filepath.Base(file), ".json"); sc.name != want {
		failAt(file, "the name is %q, so the file must be %s.json", sc.name, sc.name)
	}
	return sc, nil
}

func outcomeField(f *fields, key string) bool {
	v := f.str(key)
	if v == nil {
		return true
	}
	if *v != "ok" && *v != "fail" {
		failAt(f.at(key), "must be \"ok\" or \"fail\"")
	}
	return *v == "ok"
}

func (sc *confScenario) parseSplit(raw json.RawMessage, path string) *confSplit {
	f := newFields(raw, path)
	split := &confSplit{}
	count := 0
	if c := f.unsigned("count", math.MaxUint32); c != nil {
		count = int(*c)
	}
	percentage := 0.0
	if p := f.number("percentage"); p != nil {
		percentage = *p
	}
	switch strategy := f.requiredStr("strategy"); strategy {
	case "all":
		split.strategy = JoinAll()
	case "any":
		split.strategy = JoinAny()
	case "quorum":
		split.strategy = JoinQuorum(count)
	case "percentage":
		split.strategy = JoinPercentage(percentage)
	case "partial_results":
		split.strategy = JoinPartialResults(count)
	case "partial_timeout":
		split.strategy = JoinPartialTimeout()
	default:
		failAt(f.at("strategy"), "must be \"all\", \"any\", \"quorum\", \"percentage\", "+
			"\"partial_results\" or \"partial_timeout\"")
	}
	if t := f.unsigned("timeout_ms", math.MaxUint64); t != nil {
		split.timeoutMS = *t
	}
	split.joinState = sc.stateRef(f.require("join_state"), f.at("join_state"))
	if b := f.unsigned("bulkhead", math.MaxUint32); b != nil {
		split.bulkhead = *b
	}
	var branches []json.RawMessage
	decodeAt(f.require("branches"), f.at("branches"), "an array", &branches)
	for i, b := range branches {
		split.branches = append(split.branches, sc.parseTask(b, indexed(f.at("branches"), i), true))
	}
	f.finish()
	return split
}

// stepRole is what a list of steps belongs to: they take different step kinds.
type stepRole int

const (
	roleTask   stepRole = iota // a state's task of any kind but batch
	roleBranch                 // a split branch
	roleFinish                 // a batch task's finish step
	roleItem                   // a batch item
)

// parseTask parses a state's task, or a split branch: branches take no kind and no poll
// options, and their own step kinds.
func (sc *confScenario) parseTask(raw json.RawMessage, path string, branch bool) *confTask {
	f := newFields(raw, path)
	task := &confTask{kind: "task", mode: Inline, retry: confRetry{kind: "none"}}
	if !branch {
		if k := f.str("kind"); k != nil {
			switch *k {
			case "task", "router", "poll", "stepped", "timer", "batch":
			default:
				failAt(f.at("kind"), "must be \"task\", \"router\", \"poll\", \"stepped\", \"timer\" or \"batch\"")
			}
			task.kind = *k
		}
		if raw, ok := kindField(f, task.kind, "batch", true); ok {
			task.batch = sc.parseBatch(raw, f.at("batch"))
		}
		if raw, ok := kindField(f, task.kind, "poll", false); ok {
			policy := parsePoll(raw, f.at("poll"))
			task.poll = &policy
		}
		if raw, ok := kindField(f, task.kind, "timer", true); ok {
			task.timer = parseTimer(raw, f.at("timer"))
		}
	}
	if m := f.str("mode"); m != nil {
		switch *m {
		case "inline":
		case "worker":
			task.mode = Worker
		case "async":
			task.mode = Async
		default:
			failAt(f.at("mode"), "must be \"inline\", \"worker\" or \"async\"")
		}
		if task.kind == "batch" && task.mode == Async {
			failAt(f.at("mode"), "must be \"inline\" or \"worker\" for a batch task")
		}
	}
	task.name = f.str("name")
	if raw, ok := f.get("retry"); ok {
		task.retry = parseRetry(raw, f.at("retry"))
	}
	if t := f.unsigned("attempt_timeout_ms", math.MaxUint64); t != nil {
		task.attemptTimeoutMS = *t
	}
	role := roleTask
	switch {
	case branch:
		role = roleBranch
	case task.kind == "batch":
		role = roleFinish
	}
	task.steps = sc.parseSteps(f, role)
	for _, step := range task.steps {
		if step.kind == "block" && task.mode == Inline {
			failAt(path, "an inline task cannot block")
		}
	}
	f.finish()
	return task
}

// kindField reads the options of one task kind ("batch", "poll", "timer"), which are named
// after it: only a task of that kind takes them, and when required such a task must have them.
func kindField(f *fields, kind, key string, required bool) (json.RawMessage, bool) {
	raw, ok := f.get(key)
	switch {
	case ok && kind != key:
		failAt(f.at(key), "is for %s tasks only", key)
	case !ok && required && kind == key:
		failAt(f.at(key), "is required for a %s task", key)
	}
	return raw, ok
}

// parseSteps parses the required, non-empty "steps" of a task, branch or batch item.
func (sc *confScenario) parseSteps(f *fields, role stepRole) []confStep {
	raw := nonEmptyArray(f.require("steps"), f.at("steps"))
	steps := make([]confStep, 0, len(raw))
	for i, s := range raw {
		steps = append(steps, sc.parseStep(s, indexed(f.at("steps"), i), role))
	}
	return steps
}

// errorCode reads a fail step's or failing load's "code": an error status name,
// TASK_EXECUTION by default.
func errorCode(f *fields, key string) Code {
	name := "TASK_EXECUTION"
	if c := f.str(key); c != nil {
		name = *c
	}
	code, ok := ParseCode(name)
	if !ok || code >= 0 {
		failAt(f.at(key), "%q is no error status", name)
	}
	return code
}

func parsePoll(raw json.RawMessage, path string) PollPolicy {
	f := newFields(raw, path)
	policy := f.requiredStr("policy")
	var maxErrors uint64
	if m := f.unsigned("max_errors", math.MaxUint32); m != nil {
		maxErrors = *m
	}
	f.finish()
	switch policy {
	case "fail_fast":
		return FailFast
	case "retry_on_error":
		return RetryOnError(int(maxErrors))
	}
	failAt(f.at("policy"), "must be \"fail_fast\" or \"retry_on_error\"")
	return FailFast
}

func parseTimer(raw json.RawMessage, path string) *confTimer {
	f := newFields(raw, path)
	timer := &confTimer{delayMS: f.unsigned("delay_ms", math.MaxUint64), untilMS: f.unsigned("until_ms", math.MaxUint64)}
	given := 0
	if timer.delayMS != nil {
		given++
	}
	if timer.untilMS != nil {
		given++
	}
	if raw, ok := f.get("wait"); ok {
		given++
		for i, item := range nonEmptyArray(raw, f.at("wait")) {
			timer.waits = append(timer.waits, parseWait(item, indexed(f.at("wait"), i)))
		}
	}
	if given != 1 {
		failAt(path, "must have exactly one of delay_ms, until_ms and wait")
	}
	f.finish()
	return timer
}

func parseWait(raw json.RawMessage, path string) confWait {
	f := newFields(raw, path)
	var found []confWait
	if d := f.unsigned("for", math.MaxUint64); d != nil {
		found = append(found, confWait{kind: "for", ms: *d})
	}
	if u := f.unsigned("until", math.MaxUint64); u != nil {
		found = append(found, confWait{kind: "until", ms: *u})
	}
	if m := f.str("fail"); m != nil {
		found = append(found, confWait{kind: "fail", message: *m})
	}
	if len(found) != 1 {
		failAt(path, "must have exactly one of for, until and fail")
	}
	f.finish()
	return found[0]
}

func parseRetry(raw json.RawMessage, path string) confRetry {
	f := newFields(raw, path)
	r := confRetry{kind: f.requiredStr("kind")}
	need := func(key string, max uint64) uint64 {
		v := f.unsigned(key, max)
		if v == nil {
			failAt(f.at(key), "is required for this retry kind")
		}
		return *v
	}
	needNumber := func(key string) float64 {
		v := f.number(key)
		if v == nil {
			failAt(f.at(key), "is required for this retry kind")
		}
		return *v
	}
	switch r.kind {
	case "none", "default":
	case "fixed", "exponential":
		r.maxRetries = uint32(need("max_retries", math.MaxUint32))
		r.delayMS = need("delay_ms", math.MaxUint64)
		if r.kind == "exponential" {
			r.multiplier = needNumber("multiplier")
			r.maxDelayMS = need("max_delay_ms", math.MaxUint64)
			r.jitter = needNumber("jitter")
		}
	default:
		failAt(f.at("kind"), "must be \"none\", \"fixed\", \"exponential\" or \"default\"")
	}
	f.finish() // rejects the fields this kind does not take
	return r
}

func (sc *confScenario) parseStep(raw json.RawMessage, path string, role stepRole) confStep {
	f := newFields(raw, path)
	step := confStep{kind: f.requiredStr("do"), times: 1}
	// A branch takes succeed, fail and block; a batch's finish step goto and fail; a batch item
	// succeed and fail; any other task every kind but succeed.
	var allowed bool
	owner := "a task"
	switch role {
	case roleTask:
		allowed = step.kind != "succeed"
	case roleBranch:
		allowed = step.kind == "succeed" || step.kind == "fail" || step.kind == "block"
		owner = "a split branch"
	case roleFinish:
		allowed = step.kind == "goto" || step.kind == "fail"
		owner = "a batch task's finish step"
	case roleItem:
		allowed = step.kind == "succeed" || step.kind == "fail"
		owner = "a batch item"
	}
	if !allowed {
		failAt(f.at("do"), "%q is no step kind of %s", step.kind, owner)
	}
	if t := f.unsigned("times", math.MaxUint32); t != nil {
		if *t == 0 {
			failAt(f.at("times"), "must be at least 1")
		}
		step.times = *t
	}
	then := func(key string) int32 { return sc.stateRef(f.require(key), f.at(key)).code }
	switch step.kind {
	case "goto":
		step.next = then("state")
		if b := f.boolean("read_split"); b != nil {
			step.readSplit = *b
		}
		if _, ok := f.members["read_batch"]; ok && role != roleFinish {
			failAt(f.at("read_batch"), "is for a batch task's finish steps only")
		}
		if b := f.boolean("read_batch"); b != nil {
			step.readBatch = *b
		}
	case "succeed":
		step.value = f.str("value")
	case "more":
		step.cursor = compactJSON(f.require("cursor"), f.at("cursor"))
	case "pending":
		d := f.unsigned("delay_ms", math.MaxInt64/uint64(time.Millisecond))
		if d == nil {
			failAt(f.at("delay_ms"), "is required")
		}
		step.delay = millis(*d)
	case "fail":
		step.code = errorCode(f, "code")
		step.message = "fail"
		if m := f.str("message"); m != nil {
			step.message = *m
		}
		if b := f.boolean("fatal"); b != nil {
			step.fatal = *b
		}
	case "block":
	case "store_put", "store_append":
		step.key = f.requiredStr("key")
		step.json = compactJSON(f.require("json"), f.at("json"))
		step.next = then("then")
	case "store_get", "store_get_bytes":
		step.key = f.requiredStr("key")
		step.next = then("then")
	case "resource_get":
		step.key = f.requiredStr("key")
		step.typ = f.requiredStr("type")
		step.next = then("then")
	default:
		failAt(f.at("do"), "%q is no step kind", step.kind)
	}
	f.finish()
	return step
}
