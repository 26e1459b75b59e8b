package cano

// Strict reading of a conformance scenario's JSON. tests/conformance/README.md makes a field the
// format does not define, and a field of the wrong JSON type, an error, because a misspelt
// expectation would otherwise pass unchecked. A malformed scenario panics with a *scenarioError
// at the first problem, which parseScenario turns into its error.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
)

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

// indexed is the path of entry i of the array at path.
func indexed(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

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

// optional decodes member key as what (say "a string") when the object has it; nil when not.
func optional[T any](f *fields, key, what string) *T {
	raw, ok := f.get(key)
	if !ok {
		return nil
	}
	var v T
	decodeAt(raw, f.at(key), what, &v)
	return &v
}

func (f *fields) str(key string) *string { return optional[string](f, key, "a string") }

func (f *fields) number(key string) *float64 { return optional[float64](f, key, "a number") }

func (f *fields) boolean(key string) *bool { return optional[bool](f, key, "a boolean") }

func (f *fields) requiredStr(key string) string {
	f.require(key)
	return *f.str(key)
}

// strs is nil when key is absent and never nil when it is present, so that an empty list is
// still an expectation.
func (f *fields) strs(key string) []string {
	if list := optional[[]string](f, key, "an array of strings"); list != nil {
		return *list
	}
	return nil
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

// nonEmptyArray decodes the array at path, which needs at least one entry.
func nonEmptyArray(raw json.RawMessage, path string) []json.RawMessage {
	var list []json.RawMessage
	decodeAt(raw, path, "a non-empty array", &list)
	if len(list) == 0 {
		failAt(path, "must be a non-empty array")
	}
	return list
}

// objectOf reads member key, when present, as an object whose member names are the scenario's
// own keys (state names, "F[i]", store keys) rather than fields of the format: every member
// counts as read, and value parses (and checks the name of) each one. nil when key is absent.
func objectOf[T any](f *fields, key string,
	value func(name, path string, raw json.RawMessage) T) map[string]T {
	raw, ok := f.get(key)
	if !ok {
		return nil
	}
	m := newFields(raw, f.at(key))
	out := map[string]T{}
	for name, v := range m.members {
		m.read[name] = true
		out[name] = value(name, m.at(name), v)
	}
	return out
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
