package cano

// The conformance runner: every JSON scenario in tests/conformance/scenarios runs through the Go
// API exactly as tests/conformance/README.md prescribes, so that Go behaves as C, C++ and
// Python do. CANO_CONFORMANCE_SCENARIOS names another directory of scenarios.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// ---- strict JSON fields (README: unknown fields and wrong types are errors) ----------------

// fields reads the members of one JSON object; finish reports those nobody read.
type fields struct {
	path    string
	members map[string]json.RawMessage
	read    map[string]bool
}

// scenarioError is a malformed scenario.
type scenarioError struct{ msg string }

func (e *scenarioError) Error() string { return e.msg }

func failAt(path, format string, args ...any) {
	panic(&scenarioError{path + ": " + fmt.Sprintf(format, args...)})
}

func newFields(raw json.RawMessage, path string) *fields {
	f := &fields{path: path, read: map[string]bool{}}
	if !isKind(raw, '{') {
		failAt(path, "must be an object")
	}
	if err := json.Unmarshal(raw, &f.members); err != nil {
		failAt(path, "%v", err)
	}
	return f
}

func isKind(raw json.RawMessage, first byte) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && t[0] == first
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

func (f *fields) at(key string) string { return f.path + "." + key }

func (f *fields) get(key string) (json.RawMessage, bool) {
	raw, ok := f.members[key]
	f.read[key] = true
	return raw, ok
}

func (f *fields) require(key string) json.RawMessage {
	raw, ok := f.get(key)
	if !ok {
		failAt(f.at(key), "is required")
	}
	return raw
}

func decodeAt(raw json.RawMessage, path, what string, into any) {
	if isNull(raw) {
		failAt(path, "must be %s, not null", what)
	}
	if err := json.Unmarshal(raw, into); err != nil {
		failAt(path, "must be %s", what)
	}
}

func (f *fields) str(key string) *string {
	raw, ok := f.get(key)
	if !ok {
		return nil
	}
	var s string
	decodeAt(raw, f.at(key), "a string", &s)
	return &s
}

func (f *fields) requiredStr(key string) string {
	f.require(key)
	return *f.str(key)
}

func (f *fields) strs(key string) []string {
	raw, ok := f.get(key)
	if !ok {
		return nil
	}
	out := []string{}
	decodeAt(raw, f.at(key), "an array of strings", &out)
	return out
}

func (f *fields) unsigned(key string, max uint64) *uint64 {
	raw, ok := f.get(key)
	if !ok {
		return nil
	}
	v := toUnsigned(raw, f.at(key), max)
	return &v
}

func toUnsigned(raw json.RawMessage, path string, max uint64) uint64 {
	var n float64
	decodeAt(raw, path, "a non-negative integer", &n)
	if n < 0 || n != math.Floor(n) || n > float64(max) {
		failAt(path, "must be a non-negative integer up to %d", max)
	}
	return uint64(n)
}

func (f *fields) number(key string) *float64 {
	raw, ok := f.get(key)
	if !ok {
		return nil
	}
	var n float64
	decodeAt(raw, f.at(key), "a number", &n)
	return &n
}

func (f *fields) boolean(key string) *bool {
	raw, ok := f.get(key)
	if !ok {
		return nil
	}
	var b bool
	decodeAt(raw, f.at(key), "a boolean", &b)
	return &b
}

func (f *fields) finish() {
	var unknown []string
	for key := range f.members {
		if !f.read[key] {
			unknown = append(unknown, key)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		failAt(f.path, "unknown field(s) %s", strings.Join(unknown, ", "))
	}
}

func compactJSON(raw json.RawMessage, path string) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		failAt(path, "%v", err)
	}
	return b.String()
}

// ---- the scenario model ---------------------------------------------------------------------

type stateRef struct {
	code  int32
	name  string // "" for an undeclared code
	named bool
}

type confScenario struct {
	name       string
	states     []string
	initial    stateRef
	exitStates []int32
	timeoutMS  uint64
	resources  []confResource
	tasks      map[int32]*confTask  // by state code
	splits     map[int32]*confSplit // by state code; a state is in at most one of the maps
	expect     confExpect
}

// confSplit is a split state's entry.
type confSplit struct {
	strategy  JoinStrategy
	timeoutMS uint64
	joinState stateRef
	bulkhead  uint64
	branches  []*confTask
}

type confResource struct {
	key        string
	setupOK    bool
	teardownOK bool
	message    *string
}

type confRetry struct {
	kind       string
	maxRetries uint32
	delayMS    uint64
	multiplier float64
	maxDelayMS uint64
	jitter     float64
}

// confTask is a state's task (of any kind) or a split branch.
type confTask struct {
	kind             string // "task", "router", "poll", "stepped", "timer" or "batch"; "task" for a branch
	poll             *PollPolicy
	timer            *confTimer // timer tasks only
	batch            *confBatch // batch tasks only; steps are then the finish step's
	mode             Mode
	name             *string
	retry            confRetry
	attemptTimeoutMS uint64
	steps            []confStep
}

type confStep struct {
	kind      string
	times     uint64
	next      int32
	code      Code
	message   string
	key       string
	json      string
	typ       string
	fatal     bool          // fail: cano_task_ctx_fail_fatal
	readSplit bool          // goto: record the split result first
	readBatch bool          // goto (a batch's finish step): record the batch results first
	delay     time.Duration // pending
	value     *string       // succeed: the branch's value
	cursor    string        // more: the cursor's compact JSON text
}

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

// loadFor is the entry serving the call-th load call (1-based); the last one repeats.
func (b *confBatch) loadFor(call uint64) confLoad {
	if call == 0 || call > uint64(len(b.loads)) {
		return b.loads[len(b.loads)-1]
	}
	return b.loads[call-1]
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

// confTimer is a timer task's "timer": exactly one of delay_ms, until_ms and wait.
type confTimer struct {
	delayMS, untilMS *uint64
	waits            []confWait
}

// confWait is one entry of a timer's wait list: "for", "until" or "fail".
type confWait struct {
	kind    string
	ms      uint64
	message string
}

// waitFor is the entry serving the call-th wait callback call (1-based); the last one repeats.
func (t *confTimer) waitFor(call uint64) confWait {
	if call == 0 || call > uint64(len(t.waits)) {
		return t.waits[len(t.waits)-1]
	}
	return t.waits[call-1]
}

// nullable is an expectation that may be absent, null, or a value.
type nullable[T any] struct {
	present, null bool
	value         T
}

type confExpect struct {
	status          *string
	category        *string
	message         *string
	messageContains []string
	causeMessage    nullable[string]
	errorTask       nullable[string]
	errorState      nullable[stateRef]
	errorAttempt    *uint64
	finalState      *stateRef
	trail           []string
	attempts        map[string]uint64
	attemptTimes    map[string][]uint64
	resourceEvents  []string
	store           map[string]string
	splitSeen       *[]*[]string         // null entries are nil
	cursors         map[string][]*string // by state: compact JSON texts, nil for null
	batchSeen       *[][]string
	cancelNotices   map[string]uint64 // by state name or "F[i]"
	started         bool
}

func (e *confExpect) checksError() bool {
	return e.category != nil || e.message != nil || e.messageContains != nil || e.causeMessage.present ||
		e.errorTask.present || e.errorState.present || e.errorAttempt != nil
}

var scenarioName = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

func (sc *confScenario) declared(name, path string) int32 {
	for i, s := range sc.states {
		if s == name {
			return int32(i)
		}
	}
	failAt(path, "%q is not in \"states\"", name)
	return 0
}

func (sc *confScenario) stateRef(raw json.RawMessage, path string) stateRef {
	var name string
	if isKind(raw, '"') {
		decodeAt(raw, path, "a state name", &name)
		return stateRef{code: sc.declared(name, path), name: name, named: true}
	}
	var n float64
	if err := json.Unmarshal(raw, &n); err != nil || isNull(raw) {
		failAt(path, "must be a state name or an integer code")
	}
	if n != math.Floor(n) || n < math.MinInt32 || n > math.MaxInt32 {
		failAt(path, "must be a state name or a 32-bit integer code")
	}
	return stateRef{code: int32(n)}
}

func (sc *confScenario) label(code int32) string {
	if code >= 0 && int(code) < len(sc.states) {
		return sc.states[code]
	}
	return fmt.Sprint(code)
}

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
			f := newFields(item, fmt.Sprintf("%s[%d]", top.at("resources"), i))
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
		split.branches = append(split.branches, sc.parseTask(b, fmt.Sprintf("%s[%d]", f.at("branches"), i), true))
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
		if raw, ok := f.get("batch"); ok {
			if task.kind != "batch" {
				failAt(f.at("batch"), "is for batch tasks only")
			}
			task.batch = sc.parseBatch(raw, f.at("batch"))
		} else if task.kind == "batch" {
			failAt(f.at("batch"), "is required for a batch task")
		}
		if raw, ok := f.get("poll"); ok {
			if task.kind != "poll" {
				failAt(f.at("poll"), "is for poll tasks only")
			}
			policy := parsePoll(raw, f.at("poll"))
			task.poll = &policy
		}
		if raw, ok := f.get("timer"); ok {
			if task.kind != "timer" {
				failAt(f.at("timer"), "is for timer tasks only")
			}
			task.timer = parseTimer(raw, f.at("timer"))
		} else if task.kind == "timer" {
			failAt(f.at("timer"), "is required for a timer task")
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

// parseSteps parses the required, non-empty "steps" of a task, branch or batch item.
func (sc *confScenario) parseSteps(f *fields, role stepRole) []confStep {
	var raw []json.RawMessage
	decodeAt(f.require("steps"), f.at("steps"), "a non-empty array", &raw)
	if len(raw) == 0 {
		failAt(f.at("steps"), "must be a non-empty array")
	}
	steps := make([]confStep, 0, len(raw))
	for i, s := range raw {
		steps = append(steps, sc.parseStep(s, fmt.Sprintf("%s[%d]", f.at("steps"), i), role))
	}
	return steps
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
	var loads []json.RawMessage
	decodeAt(f.require("load"), f.at("load"), "a non-empty array", &loads)
	if len(loads) == 0 {
		failAt(f.at("load"), "must be a non-empty array")
	}
	for i, l := range loads {
		batch.loads = append(batch.loads, sc.parseLoad(l, fmt.Sprintf("%s[%d]", f.at("load"), i), batch))
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
			at := fmt.Sprintf("%s[%d]", f.at("items"), i)
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
		var list []json.RawMessage
		decodeAt(raw, f.at("wait"), "a non-empty array", &list)
		if len(list) == 0 {
			failAt(f.at("wait"), "must be a non-empty array")
		}
		for i, item := range list {
			timer.waits = append(timer.waits, parseWait(item, fmt.Sprintf("%s[%d]", f.at("wait"), i)))
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
		step.delay = time.Duration(*d) * time.Millisecond
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

func nullableString(f *fields, key string) nullable[string] {
	raw, ok := f.get(key)
	if !ok {
		return nullable[string]{}
	}
	if isNull(raw) {
		return nullable[string]{present: true, null: true}
	}
	var s string
	decodeAt(raw, f.at(key), "a string or null", &s)
	return nullable[string]{present: true, value: s}
}

func (sc *confScenario) parseExpect(raw json.RawMessage, path string) {
	f := newFields(raw, path)
	e := &sc.expect
	e.status = f.str("status")
	if e.status != nil {
		if _, ok := ParseCode(*e.status); !ok {
			failAt(f.at("status"), "%q is no status name", *e.status)
		}
	}
	e.category = f.str("category")
	e.message = f.str("message")
	e.messageContains = f.strs("message_contains")
	e.causeMessage = nullableString(f, "cause_message")
	e.errorTask = nullableString(f, "error_task")
	if raw, ok := f.get("error_state"); ok {
		e.errorState.present = true
		if isNull(raw) {
			e.errorState.null = true
		} else {
			e.errorState.value = sc.stateRef(raw, f.at("error_state"))
		}
	}
	e.errorAttempt = f.unsigned("error_attempt", math.MaxUint32)
	if raw, ok := f.get("final_state"); ok {
		s := sc.stateRef(raw, f.at("final_state"))
		e.finalState = &s
	}
	e.trail = f.strs("trail")
	for _, s := range e.trail {
		sc.declared(s, f.at("trail"))
	}
	if raw, ok := f.get("attempts"); ok {
		m := newFields(raw, f.at("attempts"))
		e.attempts = map[string]uint64{}
		for key, v := range m.members {
			m.read[key] = true
			sc.attemptKey(key, m.at(key), true)
			e.attempts[key] = toUnsigned(v, m.at(key), math.MaxUint32)
		}
	}
	if raw, ok := f.get("attempt_times_ms"); ok {
		m := newFields(raw, f.at("attempt_times_ms"))
		e.attemptTimes = map[string][]uint64{}
		for key, v := range m.members {
			m.read[key] = true
			sc.attemptKey(key, m.at(key), true)
			var list []json.RawMessage
			decodeAt(v, m.at(key), "an array of integers", &list)
			times := []uint64{}
			for _, item := range list {
				times = append(times, toUnsigned(item, m.at(key), math.MaxUint64))
			}
			e.attemptTimes[key] = times
		}
	}
	e.resourceEvents = f.strs("resource_events")
	if raw, ok := f.get("store"); ok {
		m := newFields(raw, f.at("store"))
		e.store = map[string]string{}
		for key, v := range m.members {
			m.read[key] = true
			e.store[key] = compactJSON(v, m.at(key))
		}
	}
	if raw, ok := f.get("split_seen"); ok {
		e.splitSeen = parseSplitSeen(raw, f.at("split_seen"))
	}
	if raw, ok := f.get("cursors"); ok {
		m := newFields(raw, f.at("cursors"))
		e.cursors = map[string][]*string{}
		for key, v := range m.members {
			m.read[key] = true
			sc.declared(key, m.at(key))
			var list []json.RawMessage
			decodeAt(v, m.at(key), "an array of JSON values (null: none)", &list)
			seen := []*string{}
			for _, item := range list {
				if isNull(item) {
					seen = append(seen, nil)
					continue
				}
				text := compactJSON(item, m.at(key))
				seen = append(seen, &text)
			}
			e.cursors[key] = seen
		}
	}
	if raw, ok := f.get("batch_seen"); ok {
		const shape = "an array of arrays of strings"
		var entries []json.RawMessage
		decodeAt(raw, f.at("batch_seen"), shape, &entries)
		seen := [][]string{}
		for i, entry := range entries {
			texts := []string{}
			decodeAt(entry, fmt.Sprintf("%s[%d]", f.at("batch_seen"), i), shape, &texts)
			seen = append(seen, texts)
		}
		e.batchSeen = &seen
	}
	if raw, ok := f.get("cancel_notices"); ok {
		m := newFields(raw, f.at("cancel_notices"))
		e.cancelNotices = map[string]uint64{}
		for key, v := range m.members {
			m.read[key] = true
			sc.attemptKey(key, m.at(key), false)
			e.cancelNotices[key] = toUnsigned(v, m.at(key), math.MaxUint32)
		}
	}
	e.started = true
	if b := f.boolean("started"); b != nil {
		e.started = *b
	}
	f.finish()
	if !e.started && e.finalState != nil {
		failAt(f.at("final_state"), "only applies to a run that started")
	}
}

func parseSplitSeen(raw json.RawMessage, path string) *[]*[]string {
	const shape = "an array whose entries are null or arrays of strings"
	var entries []json.RawMessage
	decodeAt(raw, path, shape, &entries)
	out := []*[]string{}
	for i, entry := range entries {
		if isNull(entry) {
			out = append(out, nil)
			continue
		}
		texts := []string{}
		decodeAt(entry, fmt.Sprintf("%s[%d]", path, i), shape, &texts)
		out = append(out, &texts)
	}
	return &out
}

// branchKey is where branch index of split state code is counted: "F[i]".
func (sc *confScenario) branchKey(code int32, index int) string {
	return fmt.Sprintf("%s[%d]", sc.label(code), index)
}

// attemptKey checks a key of attempts, attempt_times_ms or cancel_notices: a declared state,
// "F[i]" for branch i of split state F, or (with items: not for cancel_notices) "W[i]" for item
// i of batch state W, i below the most items an entry of W's "load" adds.
func (sc *confScenario) attemptKey(key, path string, items bool) {
	for code, split := range sc.splits {
		for i := range split.branches {
			if key == sc.branchKey(code, i) {
				return
			}
		}
	}
	if items {
		for code, task := range sc.tasks {
			if task.batch == nil {
				continue
			}
			for i := 0; i < task.batch.maxItems(); i++ {
				if key == sc.branchKey(code, i) {
					return
				}
			}
		}
	}
	for _, s := range sc.states {
		if s == key {
			return
		}
	}
	if items {
		failAt(path, "%q is neither a state in \"states\", a split branch \"F[i]\" nor a batch item \"W[i]\"", key)
	}
	failAt(path, "%q is neither a state in \"states\" nor a split branch \"F[i]\"", key)
}

// ---- running a scenario ---------------------------------------------------------------------

// confState is the state type of conformance workflows: the names come from the scenario.
type confState int32

// confNames holds the current scenario's state names (scenarios run one at a time).
var confNames atomic.Pointer[[]string]

func (s confState) String() string {
	if names := confNames.Load(); names != nil && s >= 0 && int(s) < len(*names) {
		return (*names)[s]
	}
	return fmt.Sprint(int32(s))
}

// confResourceObj is a scenario resource: it journals its setup and teardown.
type confResourceObj struct {
	spec confResource
	run  *confRun
}

func (r *confResourceObj) lifecycle(phase string, ok bool) error {
	r.run.addEvent(phase + " " + r.spec.key)
	if ok {
		return nil
	}
	message := phase + " " + r.spec.key + " failed"
	if r.spec.message != nil {
		message = *r.spec.message
	}
	return NewError(CodeGeneric, message)
}

func (r *confResourceObj) Setup() error    { return r.lifecycle("setup", r.spec.setupOK) }
func (r *confResourceObj) Teardown() error { return r.lifecycle("teardown", r.spec.teardownOK) }

// confRun is one scenario's run: what it recorded and the counters that drive the clock.
type confRun struct {
	sc      *confScenario
	engine  *Engine
	startMS time.Duration
	running atomic.Int64 // worker bodies running that are not block steps
	starts  atomic.Uint64

	mu        sync.Mutex
	trail     []string
	attempts  map[string]uint64 // body calls, by confBinding.key
	times     map[string][]uint64
	events    []string
	splitSeen []*[]string
	cursors   map[string][]*string // by key: the cursor each body call saw (nil: none)
	waits     map[string]uint64    // timer wait callback calls, by key
	loads     map[string]uint64    // batch load calls, by key
	finishes  map[string]uint64    // batch finish calls, by key
	notices   map[string]uint64    // cancel notices, by key (WithOnCancel)
	batchSeen [][]string
	problems  []string
	// The previous body call of the run, for the poll trail rule.
	lastKey     string
	lastAttempt int
}

// confBinding is what a registered body knows about itself.
type confBinding struct {
	state  int32  // the state, or the split state of a branch
	key    string // where its calls are counted: the state's name, or "F[i]"
	task   *confTask
	branch bool
}

func (run *confRun) addEvent(e string) {
	run.mu.Lock()
	defer run.mu.Unlock()
	run.events = append(run.events, e)
}

func (run *confRun) problem(format string, args ...any) {
	run.mu.Lock()
	defer run.mu.Unlock()
	run.problems = append(run.problems, fmt.Sprintf(format, args...))
}

// stepFor returns the step serving the call-th body call (1-based, over every entry).
func (t *confTask) stepFor(call uint64) confStep { return stepFor(t.steps, call) }

// stepFor returns the step of steps serving the call-th call (1-based): each step serves
// `times` calls in turn, the last one every call after that.
func stepFor(steps []confStep, call uint64) confStep {
	for _, s := range steps {
		if call <= s.times {
			return s
		}
		call -= s.times
	}
	return steps[len(steps)-1]
}

// noteTrail applies README.md's trail rules to a body call with attempt; a call that saw a
// cursor never adds to the trail (it continues the entry its state's first step began). Holds
// run.mu.
func (run *confRun) noteTrail(b *confBinding, attempt int, sawCursor bool) {
	label := run.sc.label(b.state)
	if attempt == 1 && !sawCursor {
		switch {
		case b.branch:
			// A split state enters the trail once per entry.
			if len(run.trail) == 0 || run.trail[len(run.trail)-1] != label {
				run.trail = append(run.trail, label)
			}
		case b.task.kind == "poll":
			// Once per attempt 1: its calls that follow its own attempt-1 call are one wait.
			if !(run.lastKey == b.key && run.lastAttempt == 1) {
				run.trail = append(run.trail, label)
			}
		default:
			run.trail = append(run.trail, label)
		}
	}
	run.lastKey, run.lastAttempt = b.key, attempt
}

// recordSplit notes what the split result shows, for split_seen.
func (run *confRun) recordSplit(ctx *TaskContext) {
	var seen *[]string
	if result := ctx.SplitResult(); result != nil {
		texts := []string{}
		for _, branch := range result.Branches {
			switch branch.Status {
			case BranchSucceeded:
				if branch.Value == nil {
					texts = append(texts, "succeeded")
				} else {
					texts = append(texts, "succeeded:"+string(branch.Value))
				}
			case BranchFailed:
				if branch.Err == nil {
					texts = append(texts, "failed:<no error object>")
				} else {
					texts = append(texts, "failed:"+branch.Err.Message)
				}
			case BranchCancelled:
				texts = append(texts, "cancelled")
			default:
				texts = append(texts, "<unknown branch status>")
			}
		}
		seen = &texts
	}
	run.mu.Lock()
	defer run.mu.Unlock()
	run.splitSeen = append(run.splitSeen, seen)
}

// confResult is how a body call ends, before its mode finishes the attempt.
type confResult struct {
	next    confState
	err     error
	pending bool // pending step: poll again after delay
	delay   time.Duration
	value   []byte // succeed step: the branch's value, or nil
	more    bool   // more step: call again with cursor
	cursor  string
	handled bool // an async call completed (or will never complete) through its token
}

// perform runs a step that is not block.
func (run *confRun) perform(ctx *TaskContext, step confStep) confResult {
	switch step.kind {
	case "goto":
		if step.readSplit {
			run.recordSplit(ctx)
		}
		return confResult{next: confState(step.next)}
	case "fail":
		err := error(NewError(step.code, step.message))
		if step.fatal {
			err = Fatal(err)
		}
		return confResult{err: err}
	case "pending":
		return confResult{pending: true, delay: step.delay}
	case "more":
		return confResult{more: true, cursor: step.cursor}
	case "succeed":
		var value []byte
		if step.value != nil {
			value = append([]byte{}, *step.value...)
		}
		return confResult{value: value}
	case "resource_get":
		if _, err := ctx.Resources().GetWithTag(step.key, step.typ); err != nil {
			return confResult{err: err}
		}
		return confResult{next: confState(step.next)}
	}
	store, err := ctx.Store("store")
	if err != nil {
		return confResult{err: err}
	}
	switch step.kind {
	case "store_put":
		err = store.PutJSON(step.key, step.json)
	case "store_append":
		err = store.AppendJSON(step.key, step.json)
	case "store_get":
		_, err = store.GetJSON(step.key)
	case "store_get_bytes":
		_, err = store.GetBytes(step.key)
	default:
		return confResult{err: NewError(CodeInternal, "the runner has no step "+step.kind)}
	}
	if err != nil {
		return confResult{err: err} // a *Error: the attempt fails with its code and message
	}
	return confResult{next: confState(step.next)}
}

// recordCall records a body call of b (a batch task's load call included): its attempt, time,
// trail entry and cursor. It returns how many body calls b's key has made.
func (run *confRun) recordCall(ctx *TaskContext, b *confBinding) uint64 {
	// README.md "cursors": the cursor this call saw, or none.
	var cursor *string
	if !b.branch {
		if raw, ok := ctx.Cursor(); ok {
			text := string(raw)
			cursor = &text
		}
	}
	run.mu.Lock()
	defer run.mu.Unlock()
	run.attempts[b.key]++
	run.times[b.key] = append(run.times[b.key], uint64((run.engine.Now()-run.startMS)/time.Millisecond))
	run.noteTrail(b, ctx.Attempt(), cursor != nil)
	if !b.branch {
		run.cursors[b.key] = append(run.cursors[b.key], cursor)
	}
	return run.attempts[b.key]
}

// beginBody counts a body from its start (README.md "How runners drive time"), and a worker
// body as running until the returned function is called, so that the driver never advances
// the clock under a body that is about to choose.
func (run *confRun) beginBody(b *confBinding) (end func()) {
	worker := b.task.mode == Worker
	if worker {
		run.running.Add(1)
	}
	run.starts.Add(1)
	return func() {
		if worker {
			run.running.Add(-1)
			worker = false
		}
	}
}

// call is one body call of b, in its mode: what README.md prescribes up to the point where the
// kind of task (task, router, poll, branch) turns the result into its return values.
func (run *confRun) call(ctx *TaskContext, b *confBinding) confResult {
	worker := b.task.mode == Worker
	// Counted from the start, so that the driver never advances the clock under a body about
	// to choose; a block step is uncounted again below, as it waits for a timer.
	if worker {
		run.running.Add(1)
	}
	run.starts.Add(1)
	step := b.task.stepFor(run.recordCall(ctx, b))

	if step.kind == "block" {
		if worker {
			run.running.Add(-1)
			giveUp := time.Now().Add(60 * time.Second)
			for !ctx.Cancelled() {
				if time.Now().After(giveUp) {
					run.problem("a blocked worker body was never cancelled")
					break
				}
				time.Sleep(time.Millisecond)
			}
			return confResult{err: NewError(CodeTaskExecution, "cancelled")}
		}
		// async: pending, and never completed
		var err error
		if b.branch {
			_, err = LaterBranch(ctx)
		} else {
			_, err = Later[confState](ctx)
		}
		return confResult{err: err, handled: err == nil}
	}
	res := run.perform(ctx, step)
	// An async body completes inside the call (README.md), so the completion is queued to the
	// loop by the time the body returns and never races with the clock. A pending step, a more
	// step and a fatal failure are returned directly in every mode: there is no fatal completion.
	if b.task.mode == Async && !res.pending && !res.more && !errors.Is(res.err, ErrFatal) {
		var err error
		if b.branch {
			if res.value != nil {
				if err = ctx.SetValue(res.value); err != nil {
					run.problem("setting the value of %s: %v", b.key, err)
				}
			}
			done, lerr := LaterBranch(ctx)
			switch {
			case lerr != nil:
				return confResult{err: lerr}
			case res.err != nil:
				err = done.Fail(res.err)
			default:
				err = done.Succeed()
			}
		} else {
			done, lerr := Later[confState](ctx)
			switch {
			case lerr != nil:
				return confResult{err: lerr}
			case res.err != nil:
				err = done.Fail(res.err)
			default:
				err = done.Complete(res.next)
			}
		}
		if err != nil {
			run.problem("completing an async attempt of %s: %v", b.key, err)
		}
		return confResult{handled: true}
	}
	if worker {
		run.running.Add(-1)
	}
	return res
}

// taskBody is the body of a task, router or timer task.
func (run *confRun) taskBody(b *confBinding) func(*TaskContext) (confState, error) {
	return func(ctx *TaskContext) (confState, error) {
		res := run.call(ctx, b)
		if res.pending {
			// A pending step in a task that is not a poll task: the library fails the attempt
			// ("... not registered as a poll task"). The public API cannot say it; the runner
			// sets what Pending sets.
			ctx.pollAgain, ctx.pollDelay = true, res.delay
		}
		if res.more {
			// A more step in a router or timer task, whose functions answer a state: the runner
			// sets what a step function's More sets.
			ctx.stepMore, ctx.nextCursor = true, []byte(res.cursor)
		}
		return res.next, res.err
	}
}

// stepBody is the body of a stepped task, or of a task whose steps include "more"
// (RegisterStepLoop).
func (run *confRun) stepBody(b *confBinding) StepFunc[confState] {
	return func(ctx *TaskContext, _ json.RawMessage) (StepResult[confState], error) {
		res := run.call(ctx, b)
		if res.pending {
			ctx.pollAgain, ctx.pollDelay = true, res.delay // as in taskBody
		}
		if res.err != nil {
			return StepResult[confState]{}, res.err
		}
		if res.more {
			return More[confState](json.RawMessage(res.cursor)), nil
		}
		return Finish(res.next), nil
	}
}

// timerWait is a timer's wait function (README.md "Stepped and timer tasks"): the next entry
// of its wait list, counted per state across every entry into it. Not a body call: it counts
// no attempt and records nothing else.
func (run *confRun) timerWait(b *confBinding) func(*TaskContext) (Wait, error) {
	return func(ctx *TaskContext) (Wait, error) {
		run.mu.Lock()
		run.waits[b.key]++
		wait := b.task.timer.waitFor(run.waits[b.key])
		run.mu.Unlock()
		switch wait.kind {
		case "for":
			return WaitFor(time.Duration(wait.ms) * time.Millisecond), nil
		case "until":
			return WaitUntil(time.Duration(wait.ms) * time.Millisecond), nil
		}
		return Wait{}, NewError(CodeTaskExecution, wait.message)
	}
}

// pollBody is the body of a poll task.
func (run *confRun) pollBody(b *confBinding) PollFunc[confState] {
	return func(ctx *TaskContext) (PollResult[confState], error) {
		res := run.call(ctx, b)
		if res.err != nil {
			return PollResult[confState]{}, res.err
		}
		if res.pending {
			return Pending[confState](res.delay), nil
		}
		if res.more {
			ctx.stepMore, ctx.nextCursor = true, []byte(res.cursor) // as in taskBody
		}
		return Ready(res.next), nil
	}
}

// batchLoad is a batch task's load (README.md "Batch tasks"): its body call for attempts,
// attempt_times_ms, trail and cursors, served by the next entry of "load".
func (run *confRun) batchLoad(b *confBinding) func(*TaskContext) ([]json.RawMessage, error) {
	return func(ctx *TaskContext) ([]json.RawMessage, error) {
		defer run.beginBody(b)()
		run.recordCall(ctx, b)
		run.mu.Lock()
		run.loads[b.key]++
		load := b.task.batch.loadFor(run.loads[b.key])
		run.mu.Unlock()
		if load.fails {
			err := error(NewError(load.code, load.message))
			if load.fatal {
				err = Fatal(err)
			}
			return nil, err
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
		run.attempts[key]++
		run.times[key] = append(run.times[key], uint64((run.engine.Now()-run.startMS)/time.Millisecond))
		run.lastKey, run.lastAttempt = b.key, 0
		run.mu.Unlock()
		script, ok := b.task.batch.scripts[string(item)]
		if !ok {
			run.problem("item %s (%s) is no item the scenario loads", key, item)
			return nil, NewError(CodeInternal, "unknown batch item")
		}
		step := stepFor(script, uint64(ctx.Attempt()))
		if step.kind == "fail" {
			err := error(NewError(step.code, step.message))
			if step.fatal {
				err = Fatal(err)
			}
			return nil, err
		}
		if step.value == nil {
			return nil, nil // no value
		}
		return append([]byte{}, *step.value...), nil
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
		case r.OK() && r.Value == nil:
			seen = append(seen, "succeeded")
		case r.OK():
			seen = append(seen, "succeeded:"+string(r.Value))
		case errors.As(r.Err, &e):
			seen = append(seen, "failed:"+e.Message)
		default:
			seen = append(seen, "failed:<no error object>")
		}
	}
	run.mu.Lock()
	defer run.mu.Unlock()
	run.batchSeen = append(run.batchSeen, seen)
}

// branchBody is the body of a split branch.
func (run *confRun) branchBody(b *confBinding) func(*TaskContext) ([]byte, error) {
	return func(ctx *TaskContext) ([]byte, error) {
		res := run.call(ctx, b)
		if res.handled {
			return nil, nil
		}
		return res.value, res.err
	}
}

// confTaskOptions are the options of a task or branch. README.md "Cancel notices": every async
// task and branch counts its notices under its key.
func (run *confRun) confTaskOptions(b *confBinding) []TaskOption {
	task := b.task
	opts := []TaskOption{WithMode(task.mode), WithRetry(confRetryPolicy(task.retry)),
		WithAttemptTimeout(time.Duration(task.attemptTimeoutMS) * time.Millisecond)}
	if task.name != nil {
		opts = append(opts, WithName(*task.name))
	}
	if task.mode == Async {
		key := b.key
		opts = append(opts, WithOnCancel(func(uint64) {
			run.mu.Lock()
			defer run.mu.Unlock()
			run.notices[key]++
		}))
	}
	return opts
}

func confRetryPolicy(r confRetry) Retry {
	switch r.kind {
	case "fixed":
		return RetryFixed(int(r.maxRetries), time.Duration(r.delayMS)*time.Millisecond)
	case "exponential":
		return RetryExponentialCustom(int(r.maxRetries), time.Duration(r.delayMS)*time.Millisecond,
			r.multiplier, time.Duration(r.maxDelayMS)*time.Millisecond, r.jitter)
	case "default":
		return RetryDefault
	}
	return RetryNone
}

// hasStep reports whether any of the task's steps is of kind.
func (t *confTask) hasStep(kind string) bool {
	for _, s := range t.steps {
		if s.kind == kind {
			return true
		}
	}
	return false
}

// confTimerOf is a timer task's Timer.
func confTimerOf(run *confRun, b *confBinding) Timer {
	timer := b.task.timer
	switch {
	case len(timer.waits) > 0:
		return TimerWait(run.timerWait(b))
	case timer.untilMS != nil:
		return TimerUntil(time.Duration(*timer.untilMS) * time.Millisecond)
	}
	return TimerDelay(time.Duration(*timer.delayMS) * time.Millisecond)
}

// confOutcome is how the run ended, or why it could not start.
type confOutcome struct {
	started bool
	state   int32
	err     *Error
}

// runScenario builds the scenario's engine, resources and workflow, runs it, and checks it.
func runScenario(t *testing.T, sc *confScenario) {
	names := append([]string(nil), sc.states...)
	confNames.Store(&names)
	run := &confRun{sc: sc, attempts: map[string]uint64{}, times: map[string][]uint64{},
		cursors: map[string][]*string{}, waits: map[string]uint64{}, loads: map[string]uint64{},
		finishes: map[string]uint64{}, notices: map[string]uint64{}}

	engine, err := NewEngine(WithManualClock(0), WithRandomSeed(1), WithWorkers(2))
	must(t, err)
	run.engine = engine
	engineClosed := false
	defer func() {
		if !engineClosed {
			_ = engine.Close()
		}
	}()
	store, err := NewMemoryStore()
	must(t, err)
	defer store.Close()
	res, err := NewResources()
	must(t, err)
	defer res.Close()
	must(t, res.Insert("store", store))
	for _, r := range sc.resources {
		must(t, res.InsertWithTag(r.key, "conformance.Resource", &confResourceObj{spec: r, run: run}))
	}
	wf, err := NewWorkflow[confState](res)
	must(t, err)
	defer wf.Close()
	for code := range sc.states {
		must(t, wf.AddStates(confState(code)))
	}
	codes := make([]int, 0, len(sc.tasks)+len(sc.splits))
	for code := range sc.tasks {
		codes = append(codes, int(code))
	}
	for code := range sc.splits {
		codes = append(codes, int(code))
	}
	sort.Ints(codes)
	for _, c := range codes {
		code := int32(c)
		if split := sc.splits[code]; split != nil {
			branches := make([]Branch, len(split.branches))
			for i, task := range split.branches {
				b := &confBinding{state: code, key: sc.branchKey(code, i), task: task, branch: true}
				branches[i] = NewBranch(run.branchBody(b), run.confTaskOptions(b)...)
			}
			var opts []SplitOption
			if split.timeoutMS > 0 {
				opts = append(opts, WithSplitTimeout(time.Duration(split.timeoutMS)*time.Millisecond))
			}
			if split.bulkhead > 0 { // 0 is the C default, no limit; WithBulkhead(0) is cano's error
				opts = append(opts, WithBulkhead(int(split.bulkhead)))
			}
			must(t, wf.RegisterSplit(confState(code), branches, split.strategy,
				confState(split.joinState.code), opts...))
			continue
		}
		task := sc.tasks[code]
		b := &confBinding{state: code, key: sc.label(code), task: task}
		opts := run.confTaskOptions(b)
		switch task.kind {
		case "batch":
			opts = append(opts, WithConcurrency(int(task.batch.concurrency)),
				WithItemRetry(confRetryPolicy(task.batch.itemRetry)))
			must(t, RegisterBatch(wf, confState(code), run.batchLoad(b), run.batchItem(b), run.batchFinish(b), opts...))
		case "router":
			must(t, wf.RegisterRouter(confState(code), run.taskBody(b), opts...))
		case "poll":
			if task.poll != nil {
				opts = append(opts, WithPollPolicy(*task.poll))
			}
			must(t, wf.RegisterPoll(confState(code), run.pollBody(b), opts...))
		case "stepped":
			must(t, wf.RegisterStepped(confState(code), run.stepBody(b), opts...))
		case "timer":
			must(t, wf.RegisterTimer(confState(code), run.taskBody(b), confTimerOf(run, b), opts...))
		default:
			if task.hasStep("more") {
				must(t, wf.RegisterStepLoop(confState(code), run.stepBody(b), opts...))
			} else {
				must(t, wf.RegisterFunc(confState(code), run.taskBody(b), opts...))
			}
		}
	}
	for _, code := range sc.exitStates {
		must(t, wf.AddExitState(confState(code)))
	}
	if sc.timeoutMS > 0 {
		must(t, wf.SetTimeout(time.Duration(sc.timeoutMS)*time.Millisecond))
	}

	run.startMS = engine.Now()
	results := make(chan RunResult[confState], 1)
	var out confOutcome
	if _, err := wf.Start(engine, confState(sc.initial.code), func(r RunResult[confState]) { results <- r }); err != nil {
		out.err = asError(t, err)
	} else {
		out.started = true
		r := driveConformance(t, run, results)
		out.state = int32(r.State)
		if r.Err != nil {
			out.err = asError(t, r.Err)
		}
	}
	// Closing the engine waits for every worker body, abandoned blocks included, so that the
	// attempt counts are complete.
	must(t, engine.Close())
	engineClosed = true
	for _, p := range run.problems {
		t.Errorf("runner: %s", p)
	}
	checkExpectations(t, sc, run, store, out)
}

// driveConformance moves the manual clock as README.md "How runners drive time" says, until
// the run ends.
func driveConformance(t *testing.T, run *confRun, results <-chan RunResult[confState]) RunResult[confState] {
	giveUp := time.Now().Add(30 * time.Second)
	for {
		select {
		case r := <-results:
			return r
		default:
		}
		if time.Now().After(giveUp) {
			t.Fatalf("the run did not finish within 30 s of wall-clock time")
		}
		// 1. while a non-block worker body runs, poll about every millisecond.
		if run.running.Load() > 0 {
			time.Sleep(time.Millisecond)
			continue
		}
		// 2. let the loop settle.
		time.Sleep(2 * time.Millisecond)
		select {
		case r := <-results:
			return r
		default:
		}
		// 3. ask for the earliest timer; a body that started meanwhile makes the answer stale.
		starts := run.starts.Load()
		deadline, err := run.engine.NextDeadline()
		if run.starts.Load() != starts || errors.Is(err, ErrNotFound) {
			continue
		}
		must(t, err)
		// 4. advance to it.
		now := run.engine.Now()
		var step time.Duration
		if deadline > now {
			step = deadline - now
		}
		must(t, run.engine.Advance(step))
	}
}

func checkExpectations(t *testing.T, sc *confScenario, run *confRun, store *MemoryStore, out confOutcome) {
	t.Helper()
	e := &sc.expect
	if out.started != e.started {
		t.Errorf("started = %v, want %v (error: %v)", out.started, e.started, out.err)
	}
	if e.status != nil {
		got := "OK"
		if out.err != nil {
			got = out.err.Code.String()
		}
		if got != *e.status {
			t.Errorf("status = %s, want %s (%v)", got, *e.status, out.err)
		}
	}
	if e.checksError() && out.err == nil {
		t.Errorf("the error fields are expected, but the run has no error")
	}
	if ce := out.err; ce != nil {
		if e.category != nil && ce.Category != *e.category {
			t.Errorf("category = %q, want %q", ce.Category, *e.category)
		}
		if e.message != nil && ce.Message != *e.message {
			t.Errorf("message = %q, want %q", ce.Message, *e.message)
		}
		for _, f := range e.messageContains {
			if !strings.Contains(ce.Message, f) {
				t.Errorf("message %q does not contain %q", ce.Message, f)
			}
		}
		if c := e.causeMessage; c.present {
			switch {
			case c.null && ce.Cause != nil:
				t.Errorf("the error has a cause (%q); want none", ce.Cause.Message)
			case !c.null && ce.Cause == nil:
				t.Errorf("the error has no cause; want cause message %q", c.value)
			case !c.null && ce.Cause.Message != c.value:
				t.Errorf("cause message = %q, want %q", ce.Cause.Message, c.value)
			}
		}
		if s := e.errorState; s.present {
			switch {
			case s.null && (ce.HasState || ce.State != ""):
				t.Errorf("the error has state %d %q; want none", ce.StateCode, ce.State)
			case !s.null && (!ce.HasState || ce.StateCode != s.value.code):
				t.Errorf("error state code = %d (has %v), want %d", ce.StateCode, ce.HasState, s.value.code)
			case !s.null && s.value.named && ce.State != s.value.name:
				t.Errorf("error state name = %q, want %q", ce.State, s.value.name)
			}
		}
		if task := e.errorTask; task.present {
			if task.null && ce.Task != "" {
				t.Errorf("error task = %q, want none", ce.Task)
			} else if !task.null && ce.Task != task.value {
				t.Errorf("error task = %q, want %q", ce.Task, task.value)
			}
		}
		if e.errorAttempt != nil && uint64(ce.Attempt) != *e.errorAttempt {
			t.Errorf("error attempt = %d, want %d", ce.Attempt, *e.errorAttempt)
		}
	}
	if e.finalState != nil && out.state != e.finalState.code {
		t.Errorf("final state = %s, want %s", sc.label(out.state), sc.label(e.finalState.code))
	}
	if e.trail != nil && !equalStrings(run.trail, e.trail) {
		t.Errorf("trail = %q, want %q", run.trail, e.trail)
	}
	for key, want := range e.attempts {
		if run.attempts[key] != want {
			t.Errorf("attempts[%s] = %d, want %d", key, run.attempts[key], want)
		}
	}
	for name, want := range e.attemptTimes {
		got := run.times[name]
		if len(got) != len(want) || (len(got) > 0 && !reflect.DeepEqual(got, want)) {
			t.Errorf("attempt_times_ms[%s] = %v, want %v", name, got, want)
		}
	}
	for state, want := range e.cursors {
		if got := run.cursors[state]; !sameCursors(got, want) {
			t.Errorf("cursors[%s] = %s, want %s", state, showCursors(got), showCursors(want))
		}
	}
	if e.splitSeen != nil && showSplitSeen(run.splitSeen) != showSplitSeen(*e.splitSeen) {
		t.Errorf("split_seen = %s, want %s", showSplitSeen(run.splitSeen), showSplitSeen(*e.splitSeen))
	}
	if e.batchSeen != nil && fmt.Sprintf("%q", run.batchSeen) != fmt.Sprintf("%q", *e.batchSeen) {
		t.Errorf("batch_seen = %q, want %q", run.batchSeen, *e.batchSeen)
	}
	for key, want := range e.cancelNotices {
		if run.notices[key] != want {
			t.Errorf("cancel_notices[%s] = %d, want %d", key, run.notices[key], want)
		}
	}
	if e.resourceEvents != nil && !equalStrings(run.events, e.resourceEvents) {
		t.Errorf("resource events = %q, want %q", run.events, e.resourceEvents)
	}
	for key, want := range e.store {
		text, err := store.GetJSON(key)
		if err != nil {
			t.Errorf("store[%s]: %v", key, err)
			continue
		}
		var gotV, wantV any
		if err := json.Unmarshal([]byte(text), &gotV); err != nil {
			t.Errorf("store[%s] = %s: %v", key, text, err)
			continue
		}
		must(t, json.Unmarshal([]byte(want), &wantV))
		if !reflect.DeepEqual(gotV, wantV) {
			t.Errorf("store[%s] = %s, want %s", key, text, want)
		}
	}
}

// sameCursors compares cursors as JSON values (nil: none).
func sameCursors(got, want []*string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if (got[i] == nil) != (want[i] == nil) {
			return false
		}
		if got[i] == nil {
			continue
		}
		var g, w any
		if json.Unmarshal([]byte(*got[i]), &g) != nil || json.Unmarshal([]byte(*want[i]), &w) != nil ||
			!reflect.DeepEqual(g, w) {
			return false
		}
	}
	return true
}

func showCursors(cursors []*string) string {
	parts := make([]string, len(cursors))
	for i, c := range cursors {
		if c == nil {
			parts[i] = "null"
		} else {
			parts[i] = *c
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func showSplitSeen(seen []*[]string) string {
	parts := make([]string, len(seen))
	for i, entry := range seen {
		if entry == nil {
			parts[i] = "null"
		} else {
			parts[i] = fmt.Sprintf("%q", *entry)
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// conformanceDir is the directory of scenarios.
func conformanceDir() string {
	if dir := os.Getenv("CANO_CONFORMANCE_SCENARIOS"); dir != "" {
		return dir
	}
	return filepath.Join("..", "..", "tests", "conformance", "scenarios")
}

func TestConformance(t *testing.T) {
	dir := conformanceDir()
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	must(t, err)
	if len(files) == 0 {
		t.Skipf("no scenarios in %s", dir)
	}
	sort.Strings(files)
	for _, file := range files {
		data, err := os.ReadFile(file)
		must(t, err)
		sc, err := parseScenario(data, file)
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			if err != nil {
				t.Fatalf("malformed scenario: %v", err)
			}
			runScenario(t, sc)
		})
	}
	t.Logf("%d scenarios from %s", len(files), dir)
}

// TestConformanceParserIsStrict checks that the runner rejects what README.md says it must.
func TestConformanceParserIsStrict(t *testing.T) {
	base := `"states": ["A", "B"], "initial": "A", "exit_states": ["B"], "expect": {"status": "OK"}`
	for name, body := range map[string]string{
		"unknown_top":        `{"name": "unknown_top", ` + base + `, "extra": 1}`,
		"unknown_expect":     `{"name": "unknown_expect", "states": ["A"], "initial": "A", "expect": {"stauts": "OK"}}`,
		"wrong_type":         `{"name": "wrong_type", "states": ["A"], "initial": "A", "timeout_ms": "5", "expect": {}}`,
		"undeclared_exit":    `{"name": "undeclared_exit", "states": ["A"], "initial": "A", "exit_states": ["Z"], "expect": {}}`,
		"inline_block":       `{"name": "inline_block", ` + base + `, "tasks": {"A": {"steps": [{"do": "block"}]}}}`,
		"fixed_needs_delay":  `{"name": "fixed_needs_delay", ` + base + `, "tasks": {"A": {"retry": {"kind": "fixed", "max_retries": 1}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"none_takes_nothing": `{"name": "none_takes_nothing", ` + base + `, "tasks": {"A": {"retry": {"kind": "none", "delay_ms": 1}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"step_extra_field":   `{"name": "step_extra_field", ` + base + `, "tasks": {"A": {"steps": [{"do": "goto", "state": "B", "key": "k"}]}}}`,
		"zero_times":         `{"name": "zero_times", ` + base + `, "tasks": {"A": {"steps": [{"do": "goto", "state": "B", "times": 0}]}}}`,
		"ok_fail_code":       `{"name": "ok_fail_code", ` + base + `, "tasks": {"A": {"steps": [{"do": "fail", "code": "OK"}]}}}`,
		"task_for_unknown":   `{"name": "task_for_unknown", ` + base + `, "tasks": {"Z": {"steps": [{"do": "goto", "state": "B"}]}}}`,
		"final_not_started":  `{"name": "final_not_started", "states": ["A"], "initial": "A", "expect": {"started": false, "final_state": "A"}}`,
		"store_key":          `{"name": "store_key", ` + base + `, "resources": [{"key": "store"}]}`,
		"bad_name":           `{"name": "bad-name", "states": ["A"], "initial": "A", "expect": {}}`,
		"file_name_mismatch": `{"name": "other", "states": ["A"], "initial": "A", "expect": {}}`,
		"unknown_kind":       `{"name": "unknown_kind", ` + base + `, "tasks": {"A": {"kind": "flow", "steps": [{"do": "goto", "state": "B"}]}}}`,
		"poll_not_poll":      `{"name": "poll_not_poll", ` + base + `, "tasks": {"A": {"kind": "router", "poll": {"policy": "fail_fast"}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"poll_no_policy":     `{"name": "poll_no_policy", ` + base + `, "tasks": {"A": {"kind": "poll", "poll": {"max_errors": 1}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"pending_no_delay":   `{"name": "pending_no_delay", ` + base + `, "tasks": {"A": {"kind": "poll", "steps": [{"do": "pending"}]}}}`,
		"succeed_in_task":    `{"name": "succeed_in_task", ` + base + `, "tasks": {"A": {"steps": [{"do": "succeed"}]}}}`,
		"fatal_on_goto":      `{"name": "fatal_on_goto", ` + base + `, "tasks": {"A": {"steps": [{"do": "goto", "state": "B", "fatal": true}]}}}`,
		"split_extra":        `{"name": "split_extra", ` + base + `, "tasks": {"A": {"mode": "inline", "split": {"strategy": "all", "join_state": "B", "branches": []}}}}`,
		"split_no_join":      `{"name": "split_no_join", ` + base + `, "tasks": {"A": {"split": {"strategy": "all", "branches": []}}}}`,
		"split_strategy":     `{"name": "split_strategy", ` + base + `, "tasks": {"A": {"split": {"strategy": "most", "join_state": "B", "branches": []}}}}`,
		"branch_goto":        `{"name": "branch_goto", ` + base + `, "tasks": {"A": {"split": {"strategy": "all", "join_state": "B", "branches": [{"steps": [{"do": "goto", "state": "B"}]}]}}}}`,
		"branch_pending":     `{"name": "branch_pending", ` + base + `, "tasks": {"A": {"split": {"strategy": "all", "join_state": "B", "branches": [{"steps": [{"do": "pending", "delay_ms": 1}]}]}}}}`,
		"branch_kind":        `{"name": "branch_kind", ` + base + `, "tasks": {"A": {"split": {"strategy": "all", "join_state": "B", "branches": [{"kind": "task", "steps": [{"do": "succeed"}]}]}}}}`,
		"branch_key_range":   `{"name": "branch_key_range", "states": ["A", "B"], "initial": "A", "exit_states": ["B"], "tasks": {"A": {"split": {"strategy": "all", "join_state": "B", "branches": [{"steps": [{"do": "succeed"}]}]}}}, "expect": {"attempts": {"A[1]": 1}}}`,
		"split_seen_shape":   `{"name": "split_seen_shape", "states": ["A"], "initial": "A", "expect": {"split_seen": [["ok"], 3]}}`,
		// Stepped and timer tasks, cursors.
		"more_no_cursor":     `{"name": "more_no_cursor", ` + base + `, "tasks": {"A": {"kind": "stepped", "steps": [{"do": "more"}]}}}`,
		"branch_more":        `{"name": "branch_more", ` + base + `, "tasks": {"A": {"split": {"strategy": "all", "join_state": "B", "branches": [{"steps": [{"do": "more", "cursor": 1}]}]}}}}`,
		"timer_not_timer":    `{"name": "timer_not_timer", ` + base + `, "tasks": {"A": {"timer": {"delay_ms": 1}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"timer_missing":      `{"name": "timer_missing", ` + base + `, "tasks": {"A": {"kind": "timer", "steps": [{"do": "goto", "state": "B"}]}}}`,
		"timer_two_keys":     `{"name": "timer_two_keys", ` + base + `, "tasks": {"A": {"kind": "timer", "timer": {"delay_ms": 1, "until_ms": 2}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"timer_no_key":       `{"name": "timer_no_key", ` + base + `, "tasks": {"A": {"kind": "timer", "timer": {}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"timer_extra":        `{"name": "timer_extra", ` + base + `, "tasks": {"A": {"kind": "timer", "timer": {"delay_ms": 1, "jitter": 0}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"timer_wait_empty":   `{"name": "timer_wait_empty", ` + base + `, "tasks": {"A": {"kind": "timer", "timer": {"wait": []}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"wait_two_keys":      `{"name": "wait_two_keys", ` + base + `, "tasks": {"A": {"kind": "timer", "timer": {"wait": [{"for": 1, "fail": "x"}]}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"wait_extra":         `{"name": "wait_extra", ` + base + `, "tasks": {"A": {"kind": "timer", "timer": {"wait": [{"for": 1, "after": 1}]}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"timer_delay_type":   `{"name": "timer_delay_type", ` + base + `, "tasks": {"A": {"kind": "timer", "timer": {"delay_ms": "1"}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"cursors_undeclared": `{"name": "cursors_undeclared", "states": ["A"], "initial": "A", "expect": {"cursors": {"Z": []}}}`,
		"cursors_not_array":  `{"name": "cursors_not_array", "states": ["A"], "initial": "A", "expect": {"cursors": {"A": 1}}}`,
		"cursors_not_object": `{"name": "cursors_not_object", "states": ["A"], "initial": "A", "expect": {"cursors": []}}`,
		// Batch tasks and cancel notices.
		"batch_missing":       `{"name": "batch_missing", ` + base + `, "tasks": {"A": {"kind": "batch", "steps": [{"do": "goto", "state": "B"}]}}}`,
		"batch_not_batch":     `{"name": "batch_not_batch", ` + base + `, "tasks": {"A": {"batch": {"load": [{"items": []}]}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"batch_async":         `{"name": "batch_async", ` + base + `, "tasks": {"A": {"kind": "batch", "mode": "async", "batch": {"load": [{"items": []}]}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"batch_extra":         `{"name": "batch_extra", ` + base + `, "tasks": {"A": {"kind": "batch", "batch": {"load": [{"items": []}], "size": 1}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"batch_no_load":       `{"name": "batch_no_load", ` + base + `, "tasks": {"A": {"kind": "batch", "batch": {"concurrency": 1}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"batch_load_empty":    `{"name": "batch_load_empty", ` + base + `, "tasks": {"A": {"kind": "batch", "batch": {"load": []}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"batch_concurrency":   `{"name": "batch_concurrency", ` + base + `, "tasks": {"A": {"kind": "batch", "batch": {"concurrency": -1, "load": [{"items": []}]}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"batch_item_retry":    `{"name": "batch_item_retry", ` + base + `, "tasks": {"A": {"kind": "batch", "batch": {"item_retry": {"kind": "fixed"}, "load": [{"items": []}]}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"load_both":           `{"name": "load_both", ` + base + `, "tasks": {"A": {"kind": "batch", "batch": {"load": [{"items": [], "fail": "x"}]}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"load_neither":        `{"name": "load_neither", ` + base + `, "tasks": {"A": {"kind": "batch", "batch": {"load": [{}]}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"load_items_code":     `{"name": "load_items_code", ` + base + `, "tasks": {"A": {"kind": "batch", "batch": {"load": [{"items": [], "code": "STORE"}]}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"load_bad_code":       `{"name": "load_bad_code", ` + base + `, "tasks": {"A": {"kind": "batch", "batch": {"load": [{"fail": "x", "code": "OK"}]}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"item_not_object":     `{"name": "item_not_object", ` + base + `, "tasks": {"A": {"kind": "batch", "batch": {"load": [{"items": [1]}]}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"item_no_steps":       `{"name": "item_no_steps", ` + base + `, "tasks": {"A": {"kind": "batch", "batch": {"load": [{"items": [{}]}]}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"item_extra":          `{"name": "item_extra", ` + base + `, "tasks": {"A": {"kind": "batch", "batch": {"load": [{"items": [{"steps": [{"do": "succeed"}], "id": 1}]}]}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"item_goto":           `{"name": "item_goto", ` + base + `, "tasks": {"A": {"kind": "batch", "batch": {"load": [{"items": [{"steps": [{"do": "goto", "state": "B"}]}]}]}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"item_block":          `{"name": "item_block", ` + base + `, "tasks": {"A": {"kind": "batch", "mode": "worker", "batch": {"load": [{"items": [{"steps": [{"do": "block"}]}]}]}, "steps": [{"do": "goto", "state": "B"}]}}}`,
		"finish_succeed":      `{"name": "finish_succeed", ` + base + `, "tasks": {"A": {"kind": "batch", "batch": {"load": [{"items": []}]}, "steps": [{"do": "succeed"}]}}}`,
		"finish_store":        `{"name": "finish_store", ` + base + `, "tasks": {"A": {"kind": "batch", "batch": {"load": [{"items": []}]}, "steps": [{"do": "store_get", "key": "k", "then": "B"}]}}}`,
		"read_batch_task":     `{"name": "read_batch_task", ` + base + `, "tasks": {"A": {"steps": [{"do": "goto", "state": "B", "read_batch": true}]}}}`,
		"read_batch_type":     `{"name": "read_batch_type", ` + base + `, "tasks": {"A": {"kind": "batch", "batch": {"load": [{"items": []}]}, "steps": [{"do": "goto", "state": "B", "read_batch": 1}]}}}`,
		"batch_seen_shape":    `{"name": "batch_seen_shape", "states": ["A"], "initial": "A", "expect": {"batch_seen": [null]}}`,
		"batch_seen_strings":  `{"name": "batch_seen_strings", "states": ["A"], "initial": "A", "expect": {"batch_seen": [[1]]}}`,
		"item_key_range":      `{"name": "item_key_range", ` + base[:len(base)-len(`, "expect": {"status": "OK"}`)] + `, "tasks": {"A": {"kind": "batch", "batch": {"load": [{"items": [{"steps": [{"do": "succeed"}]}]}]}, "steps": [{"do": "goto", "state": "B"}]}}, "expect": {"attempts": {"A[1]": 1}}}`,
		"notices_item_key":    `{"name": "notices_item_key", ` + base[:len(base)-len(`, "expect": {"status": "OK"}`)] + `, "tasks": {"A": {"kind": "batch", "batch": {"load": [{"items": [{"steps": [{"do": "succeed"}]}]}]}, "steps": [{"do": "goto", "state": "B"}]}}, "expect": {"cancel_notices": {"A[0]": 0}}}`,
		"notices_unknown_key": `{"name": "notices_unknown_key", "states": ["A"], "initial": "A", "expect": {"cancel_notices": {"Z": 0}}}`,
		"notices_type":        `{"name": "notices_type", "states": ["A"], "initial": "A", "expect": {"cancel_notices": {"A": "1"}}}`,
	} {
		if _, err := parseScenario([]byte(body), name+".json"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	good := `{"name": "good", ` + base + `, "tasks": {"A": {"mode": "worker", "retry": {"kind": "exponential",
		"max_retries": 1, "delay_ms": 5, "multiplier": 2, "max_delay_ms": 10, "jitter": 0},
		"steps": [{"do": "store_put", "key": "k", "json": {"a": [1, 2]}, "then": "B", "times": 2}]}}}`
	sc, err := parseScenario([]byte(good), "good.json")
	must(t, err)
	if step := sc.tasks[0].steps[0]; step.json != `{"a":[1,2]}` || step.times != 2 || step.next != 1 {
		t.Fatalf("parsed step = %+v", step)
	}
	split := `{"name": "split", "states": ["F", "J", "P", "D"], "initial": "F", "exit_states": ["D"], "tasks": {
		"F": {"split": {"strategy": "quorum", "count": 2, "timeout_ms": 50, "join_state": "J", "bulkhead": 1,
			"branches": [{"mode": "async", "steps": [{"do": "succeed", "value": ""}]}, {"steps": [{"do": "fail", "fatal": true}]}]}},
		"J": {"kind": "router", "steps": [{"do": "goto", "state": "P", "read_split": true}]},
		"P": {"kind": "poll", "poll": {"policy": "retry_on_error"}, "steps": [{"do": "pending", "delay_ms": 5}, {"do": "goto", "state": "D"}]}},
		"expect": {"attempts": {"F[0]": 1, "F[1]": 1, "J": 1}, "attempt_times_ms": {"F[1]": [0]}, "split_seen": [null, ["succeeded:"]]}}`
	sc, err = parseScenario([]byte(split), "split.json")
	must(t, err)
	f := sc.splits[0]
	if f == nil || f.strategy.String() != "Quorum(2)" || f.timeoutMS != 50 || f.bulkhead != 1 || f.joinState.code != 1 ||
		len(f.branches) != 2 || f.branches[0].mode != Async || *f.branches[0].steps[0].value != "" ||
		!f.branches[1].steps[0].fatal {
		t.Fatalf("parsed split = %+v", f)
	}
	if j, p := sc.tasks[1], sc.tasks[2]; j.kind != "router" || !j.steps[0].readSplit || p.kind != "poll" ||
		p.poll == nil || p.poll.String() != "RetryOnError { max_errors: 0 }" || p.steps[0].delay != 5*time.Millisecond {
		t.Fatalf("parsed tasks = %+v, %+v", j, p)
	}
	if seen := showSplitSeen(*sc.expect.splitSeen); seen != `[null, ["succeeded:"]]` {
		t.Fatalf("split_seen = %s", seen)
	}
	models := `{"name": "models", "states": ["S", "T", "D"], "initial": "S", "exit_states": ["D"], "tasks": {
		"S": {"kind": "stepped", "steps": [{"do": "more", "cursor": {"a": [1, 2]}}, {"do": "goto", "state": "T"}]},
		"T": {"kind": "timer", "timer": {"wait": [{"for": 5}, {"until": 9}, {"fail": "no"}]}, "steps": [{"do": "goto", "state": "D"}]}},
		"expect": {"cursors": {"S": [null, {"a": [1, 2]}]}}}`
	sc, err = parseScenario([]byte(models), "models.json")
	must(t, err)
	if s, tm := sc.tasks[0], sc.tasks[1]; s.kind != "stepped" || s.steps[0].cursor != `{"a":[1,2]}` || tm.kind != "timer" ||
		len(tm.timer.waits) != 3 || tm.timer.waitFor(2).ms != 9 || tm.timer.waitFor(7).message != "no" {
		t.Fatalf("parsed tasks = %+v, %+v", s, tm)
	}
	if got := showCursors(sc.expect.cursors["S"]); got != `[null, {"a":[1,2]}]` {
		t.Fatalf("cursors = %s", got)
	}
	batch := `{"name": "batch", "states": ["W", "F", "D"], "initial": "W", "exit_states": ["D"], "tasks": {
		"W": {"kind": "batch", "mode": "worker", "retry": {"kind": "fixed", "max_retries": 1, "delay_ms": 5}, "batch": {
			"concurrency": 2, "item_retry": {"kind": "fixed", "max_retries": 2, "delay_ms": 10},
			"load": [{"fail": "down", "code": "STORE", "fatal": true},
				{"items": [{"steps": [{"do": "fail", "times": 2, "message": "m"}, {"do": "succeed", "value": "v"}]}, {"steps": [{"do": "succeed"}]}]}]},
			"steps": [{"do": "fail", "fatal": true}, {"do": "goto", "state": "F", "read_batch": true}]},
		"F": {"split": {"strategy": "any", "join_state": "D", "branches": [{"mode": "async", "steps": [{"do": "block"}]}]}}},
		"expect": {"attempts": {"W": 2, "W[0]": 3, "W[1]": 1}, "batch_seen": [["succeeded:v", "succeeded"]],
			"cancel_notices": {"W": 0, "F[0]": 1}}}`
	sc, err = parseScenario([]byte(batch), "batch.json")
	must(t, err)
	w := sc.tasks[0]
	if w.kind != "batch" || w.mode != Worker || w.batch == nil || w.batch.concurrency != 2 ||
		w.batch.itemRetry.kind != "fixed" || w.batch.itemRetry.maxRetries != 2 || len(w.batch.loads) != 2 ||
		!w.batch.loads[0].fails || w.batch.loads[0].code != CodeStore || !w.batch.loads[0].fatal ||
		w.batch.loadFor(9).fails || len(w.batch.loadFor(2).items) != 2 || w.batch.maxItems() != 2 ||
		!w.steps[0].fatal || !w.steps[1].readBatch {
		t.Fatalf("parsed batch task = %+v, batch %+v", w, w.batch)
	}
	item0 := w.batch.scripts[w.batch.loads[1].items[0]]
	if w.batch.loads[1].items[0] != `{"steps":[{"do":"fail","times":2,"message":"m"},{"do":"succeed","value":"v"}]}` ||
		len(item0) != 2 || stepFor(item0, 2).kind != "fail" || stepFor(item0, 3).kind != "succeed" ||
		*stepFor(item0, 7).value != "v" {
		t.Fatalf("item scripts = %+v", w.batch.scripts)
	}
	if fmt.Sprintf("%q", *sc.expect.batchSeen) != `[["succeeded:v" "succeeded"]]` ||
		sc.expect.cancelNotices["F[0]"] != 1 || len(sc.expect.cancelNotices) != 2 {
		t.Fatalf("expect = %+v", sc.expect)
	}
	// A batch item's default retry is "default" (CANO_RETRY_DEFAULT: one attempt for items).
	sc, err = parseScenario([]byte(`{"name": "item_default", `+base[:len(base)-len(`, "expect": {"status": "OK"}`)]+
		`, "tasks": {"A": {"kind": "batch", "batch": {"load": [{"items": []}]}, "steps": [{"do": "goto", "state": "B"}]}}, "expect": {}}`),
		"item_default.json")
	must(t, err)
	if b := sc.tasks[0].batch; b.itemRetry.kind != "default" || b.concurrency != 0 || b.maxItems() != 0 {
		t.Fatalf("defaults = %+v", b)
	}
}

// TestConformanceRunsBatchAndCancelScenarios is the runner's own check of the batch and
// cancel notice extension, independent of which scenarios the shared suite holds.
func TestConformanceRunsBatchAndCancelScenarios(t *testing.T) {
	for name, body := range map[string]string{
		// A load failure retried by the task, items with their own fixed retries (concurrency 2:
		// item 1 runs alongside item 0's retries), a finish that fails once (which reruns load),
		// and the loads counted across attempts.
		"batch": `{"name": "batch", "states": ["W", "D"], "initial": "W", "exit_states": ["D"],
			"tasks": {
				"W": {"kind": "batch", "retry": {"kind": "fixed", "max_retries": 3, "delay_ms": 5},
					"batch": {"concurrency": 2, "item_retry": {"kind": "fixed", "max_retries": 1, "delay_ms": 10},
						"load": [{"fail": "source down"},
							{"items": [{"steps": [{"do": "fail", "message": "flaky"}, {"do": "succeed", "value": "a"}]},
								{"steps": [{"do": "fail", "code": "STORE", "message": "always"}]}]}]},
					"steps": [{"do": "fail", "message": "sink down"}, {"do": "goto", "state": "D", "read_batch": true}]}},
			"expect": {"status": "OK", "final_state": "D", "trail": ["W"],
				"attempts": {"W": 3, "W[0]": 4, "W[1]": 4},
				"attempt_times_ms": {"W": [0, 5, 20], "W[0]": [5, 15, 20, 30], "W[1]": [5, 15, 20, 30]},
				"cursors": {"W": [null, null, null]},
				"batch_seen": [["succeeded:a", "failed:always"]]}}`,
		// A fatal item ends the batch without its finish and without the task's retries.
		"batch_fatal": `{"name": "batch_fatal", "states": ["W", "D"], "initial": "W", "exit_states": ["D"],
			"tasks": {"W": {"kind": "batch", "mode": "worker", "retry": {"kind": "fixed", "max_retries": 2, "delay_ms": 5},
				"batch": {"load": [{"items": [{"steps": [{"do": "succeed"}]}, {"steps": [{"do": "fail", "message": "boom", "fatal": true}]},
					{"steps": [{"do": "succeed"}]}]}]},
				"steps": [{"do": "goto", "state": "D", "read_batch": true}]}},
			"expect": {"status": "TASK_EXECUTION", "message": "boom", "error_task": "W[1]", "cause_message": null,
				"attempts": {"W": 1, "W[0]": 1, "W[1]": 1, "W[2]": 0}, "batch_seen": []}}`,
		// Notices: an async attempt timed out twice, then a split whose blocked async branch loses
		// (Any) to one that completes; completed attempts are never told.
		"cancel": `{"name": "cancel", "states": ["A", "F", "J", "D"], "initial": "A", "exit_states": ["D"],
			"tasks": {
				"A": {"mode": "async", "attempt_timeout_ms": 50, "retry": {"kind": "fixed", "max_retries": 2, "delay_ms": 10},
					"steps": [{"do": "block", "times": 2}, {"do": "goto", "state": "F"}]},
				"F": {"split": {"strategy": "any", "join_state": "J", "branches": [
					{"mode": "async", "steps": [{"do": "block"}]},
					{"mode": "async", "steps": [{"do": "succeed", "value": "w"}]}]}},
				"J": {"mode": "async", "steps": [{"do": "goto", "state": "D", "read_split": true}]}},
			"expect": {"status": "OK", "final_state": "D", "trail": ["A", "F", "J"],
				"attempts": {"A": 3, "F[0]": 1, "F[1]": 1, "J": 1}, "attempt_times_ms": {"A": [0, 60, 120]},
				"split_seen": [["cancelled", "succeeded:w"]],
				"cancel_notices": {"A": 2, "F[0]": 1, "F[1]": 0, "J": 0}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			sc, err := parseScenario([]byte(body), name+".json")
			must(t, err)
			runScenario(t, sc)
		})
	}
}

// TestConformanceRunsSteppedAndTimerScenarios is the runner's own check of the stepped and
// timer extension, independent of which scenarios the shared suite holds.
func TestConformanceRunsSteppedAndTimerScenarios(t *testing.T) {
	for name, body := range map[string]string{
		// A stepped task retried per step with its cursor; a plain task whose retry restarts its
		// loop; the trail counts each entry once.
		"stepped": `{"name": "stepped", "states": ["Steps", "Loop", "Done"], "initial": "Steps", "exit_states": ["Done"],
			"tasks": {
				"Steps": {"kind": "stepped", "mode": "worker", "retry": {"kind": "fixed", "max_retries": 1, "delay_ms": 10},
					"steps": [{"do": "more", "cursor": {"page": 1}}, {"do": "fail"}, {"do": "more", "cursor": [2, "two"]},
						{"do": "goto", "state": "Loop"}]},
				"Loop": {"mode": "async", "retry": {"kind": "fixed", "max_retries": 1, "delay_ms": 5},
					"steps": [{"do": "more", "cursor": 1}, {"do": "fail", "message": "lost"}, {"do": "more", "cursor": true},
						{"do": "goto", "state": "Done"}]}},
			"expect": {"status": "OK", "trail": ["Steps", "Loop"], "attempts": {"Steps": 4, "Loop": 4},
				"attempt_times_ms": {"Steps": [0, 0, 10, 10], "Loop": [10, 10, 15, 15]},
				"cursors": {"Steps": [null, {"page": 1}, {"page": 1}, [2, "two"]], "Loop": [null, 1, null, true]}}}`,
		// Timer waits: a wait list (for, a failure, until), then a fixed delay in a worker.
		"timer": `{"name": "timer", "states": ["Wait", "Later", "Done"], "initial": "Wait", "exit_states": ["Done"],
			"tasks": {
				"Wait": {"kind": "timer", "timer": {"wait": [{"for": 20}, {"fail": "no clock"}, {"until": 100}]},
					"retry": {"kind": "fixed", "max_retries": 2, "delay_ms": 5},
					"steps": [{"do": "fail"}, {"do": "goto", "state": "Later"}]},
				"Later": {"kind": "timer", "mode": "worker", "timer": {"delay_ms": 30}, "steps": [{"do": "goto", "state": "Done"}]}},
			"expect": {"status": "OK", "trail": ["Wait", "Later"], "attempts": {"Wait": 2, "Later": 1},
				"attempt_times_ms": {"Wait": [20, 100], "Later": [130]}, "cursors": {"Wait": [null, null]}}}`,
		// A router and a poll task that loop with more, and a failing wait with no retries.
		"loops": `{"name": "loops", "states": ["R", "P", "W", "Done"], "initial": "R", "exit_states": ["Done"],
			"tasks": {
				"R": {"kind": "router", "steps": [{"do": "more", "cursor": "r"}, {"do": "goto", "state": "P"}]},
				"P": {"kind": "poll", "steps": [{"do": "pending", "delay_ms": 7}, {"do": "more", "cursor": 2}, {"do": "goto", "state": "W"}]},
				"W": {"kind": "timer", "timer": {"wait": [{"fail": "no clock"}]}, "steps": [{"do": "goto", "state": "Done"}]}},
			"expect": {"status": "TASK_EXECUTION", "message": "no clock", "error_state": "W", "error_attempt": 1,
				"trail": ["R", "P"], "attempts": {"R": 2, "P": 3, "W": 0}, "attempt_times_ms": {"P": [0, 7, 7]},
				"cursors": {"R": [null, "r"], "P": [null, null, 2], "W": []}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			sc, err := parseScenario([]byte(body), name+".json")
			must(t, err)
			runScenario(t, sc)
		})
	}
}
