package cano

import (
	"errors"
	"sync"
	"testing"
)

func newTestStore(t *testing.T) *MemoryStore {
	t.Helper()
	s, err := NewMemoryStore()
	must(t, err)
	t.Cleanup(s.Close)
	return s
}

func TestStoreBytes(t *testing.T) {
	s := newTestStore(t)
	must(t, s.PutBytes("b", []byte{0, 1, 2, 255}))
	got, err := s.GetBytes("b")
	must(t, err)
	if string(got) != "\x00\x01\x02\xff" {
		t.Fatalf("GetBytes = %v", got)
	}
	must(t, s.PutBytes("empty", nil))
	got, err = s.GetBytes("empty")
	must(t, err)
	if got == nil || len(got) != 0 {
		t.Fatalf("empty bytes = %#v", got)
	}
	_, err = s.GetBytes("missing")
	ce := wantCode(t, err, CodeKeyNotFound, "Key not found: Key 'missing' not found in store")
	if ce.Category != "store" || ce.Display != "Store error: Key not found: Key 'missing' not found in store" {
		t.Fatalf("error = %+v", ce)
	}
	if !errors.Is(err, ErrStore) || !errors.Is(err, ErrKeyNotFound) || errors.Is(err, ErrTypeMismatch) {
		t.Fatal("errors.Is mismatch")
	}
	// Type matching is exact: bytes are not JSON.
	_, err = s.GetJSON("b")
	wantCode(t, err, CodeTypeMismatch, "Type mismatch: Cannot downcast value for key 'b' to requested type")
}

func TestStoreJSON(t *testing.T) {
	s := newTestStore(t)
	must(t, s.PutJSON("j", `{"a": [1, 2]}`))
	text, err := s.GetJSON("j")
	must(t, err)
	if text != `{"a": [1, 2]}` {
		t.Fatalf("GetJSON = %q", text)
	}
	err = s.PutJSON("bad", "{nope")
	ce := wantCode(t, err, CodeInvalidArgument, "")
	wantContains(t, ce.Message, "bad")
	_, err = s.GetBytes("j")
	wantCode(t, err, CodeTypeMismatch, "")

	type point struct {
		X, Y int
		Tag  string `json:"tag"`
	}
	must(t, Put(s, "p", point{1, 2, "t"}))
	p, err := Get[point](s, "p")
	must(t, err)
	if p != (point{1, 2, "t"}) {
		t.Fatalf("Get = %+v", p)
	}
	must(t, Put(s, "data", []uint32{1, 2, 3}))
	data, err := Get[[]uint32](s, "data")
	must(t, err)
	if len(data) != 3 || data[2] != 3 {
		t.Fatalf("Get slice = %v", data)
	}
	if _, err := Get[int](s, "p"); err == nil {
		t.Fatal("Get of an object as int succeeded")
	}
	if _, err := Get[int](s, "missing"); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("Get missing: %v", err)
	}
	if err := Put(s, "chan", make(chan int)); err == nil {
		t.Fatal("Put of a channel succeeded")
	}
}

func TestStoreAppend(t *testing.T) {
	s := newTestStore(t)
	must(t, s.Append("list", 1))
	must(t, s.Append("list", "two"))
	must(t, s.AppendJSON("list", `{"three": 3}`))
	text, err := s.GetJSON("list")
	must(t, err)
	if text != `[1,"two",{"three":3}]` {
		t.Fatalf("list = %s", text)
	}
	must(t, s.PutJSON("scalar", "5"))
	err = s.Append("scalar", 6)
	wantCode(t, err, CodeAppendTypeMismatch,
		"Append type mismatch: Cannot append to key 'scalar': existing value is not a Vec<TState>")
	if !errors.Is(err, ErrAppendTypeMismatch) || !errors.Is(err, ErrStore) {
		t.Fatal("errors.Is mismatch")
	}
	if text, _ := s.GetJSON("scalar"); text != "5" {
		t.Fatalf("scalar changed to %s", text)
	}
	if err := s.AppendJSON("list", "{bad"); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("invalid JSON: %v", err)
	}
	if err := s.Append("list", make(chan int)); err == nil {
		t.Fatal("Append of a channel succeeded")
	}
}

type payload struct {
	Name  string
	Items []int
}

func TestStoreObjects(t *testing.T) {
	checkHandlesReleased(t)
	s := newTestStore(t)
	p := &payload{Name: "x", Items: []int{1}}
	must(t, s.PutObject("obj", p))
	got, err := GetObject[*payload](s, "obj")
	must(t, err)
	if got != p {
		t.Fatal("GetObject returned another value: objects are not copied")
	}
	_, err = GetObject[payload](s, "obj")
	wantCode(t, err, CodeTypeMismatch, "")
	must(t, s.PutObject("i32", int32(5)))
	if _, err := GetObject[int64](s, "i32"); !errors.Is(err, ErrTypeMismatch) {
		t.Fatalf("int32 read as int64: %v", err)
	}
	if v, err := GetObject[int32](s, "i32"); err != nil || v != 5 {
		t.Fatalf("int32 = %v, %v", v, err)
	}
	if _, err := GetObject[int32](s, "missing"); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("missing: %v", err)
	}
	if err := s.PutObject("nil", nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("nil object: %v", err)
	}
	kind, tag, err := s.Kind("obj")
	must(t, err)
	if kind != KindObject || tag != "*cano.payload" {
		t.Fatalf("Kind = %v %q", kind, tag)
	}
	must(t, s.PutObject("obj", "replaced")) // the old value's handle is released
	must(t, s.Remove("obj"))
	must(t, s.Remove("obj")) // a missing key is fine
	must(t, s.Remove("i32"))
}

func TestStoreAppendObject(t *testing.T) {
	checkHandlesReleased(t)
	s := newTestStore(t)
	must(t, AppendObject(s, "events", "a"))
	before, err := GetObject[[]string](s, "events")
	must(t, err)
	must(t, AppendObject(s, "events", "b"))
	after, err := GetObject[[]string](s, "events")
	must(t, err)
	if len(before) != 1 || len(after) != 2 || after[1] != "b" {
		t.Fatalf("before %v, after %v: readers keep the old list", before, after)
	}
	_, tag, err := s.Kind("events")
	must(t, err)
	if tag != "[]string" {
		t.Fatalf("tag = %q", tag)
	}
	// Another element type, another kind: refused, untouched.
	err = AppendObject(s, "events", 3)
	wantCode(t, err, CodeAppendTypeMismatch, "")
	must(t, s.PutJSON("json", "[]"))
	if err := AppendObject(s, "json", "x"); !errors.Is(err, ErrAppendTypeMismatch) {
		t.Fatalf("append object to JSON: %v", err)
	}
	// Appends are atomic.
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				if err := AppendObject(s, "counts", g*1000+i); err != nil {
					t.Error(err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	counts, err := GetObject[[]int](s, "counts")
	must(t, err)
	if len(counts) != 800 {
		t.Fatalf("%d items after 800 concurrent appends", len(counts))
	}
	must(t, s.Clear())
}

func TestStoreKeysAndKinds(t *testing.T) {
	s := newTestStore(t)
	keys, err := s.Keys()
	must(t, err)
	if len(keys) != 0 || s.Len() != 0 {
		t.Fatalf("empty store: %v", keys)
	}
	must(t, s.PutJSON("b", "1"))
	must(t, s.PutBytes("a", []byte("x")))
	must(t, s.PutJSON("c", `"x"`))
	keys, err = s.Keys()
	must(t, err)
	if !equalStrings(keys, []string{"a", "b", "c"}) || s.Len() != 3 {
		t.Fatalf("Keys = %v", keys)
	}
	for key, want := range map[string]struct {
		kind ValueKind
		tag  string
	}{"a": {KindBytes, "bytes"}, "b": {KindJSON, "json"}} {
		kind, tag, err := s.Kind(key)
		must(t, err)
		if kind != want.kind || tag != want.tag {
			t.Fatalf("Kind(%s) = %v %q", key, kind, tag)
		}
	}
	if KindBytes.String() != "bytes" || KindJSON.String() != "json" || KindObject.String() != "object" ||
		ValueKind(9).String() != "unknown" {
		t.Fatal("ValueKind names")
	}
	if _, _, err := s.Kind("missing"); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("Kind missing: %v", err)
	}
	if !s.Contains("a") || s.Contains("z") {
		t.Fatal("Contains")
	}
	must(t, s.Remove("a"))
	must(t, s.Clear())
	if s.Len() != 0 || s.Contains("b") {
		t.Fatal("Clear left keys")
	}
}

func TestClosedStore(t *testing.T) {
	s, err := NewMemoryStore()
	must(t, err)
	s.Close()
	s.Close()
	for name, err := range map[string]error{
		"PutBytes":     s.PutBytes("k", nil),
		"PutJSON":      s.PutJSON("k", "1"),
		"AppendJSON":   s.AppendJSON("k", "1"),
		"PutObject":    s.PutObject("k", 1),
		"Remove":       s.Remove("k"),
		"Clear":        s.Clear(),
		"AppendObject": AppendObject(s, "k", 1),
	} {
		if !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s on a closed store: %v", name, err)
		}
	}
	if _, err := s.GetBytes("k"); err == nil {
		t.Error("GetBytes")
	}
	if _, err := s.GetJSON("k"); err == nil {
		t.Error("GetJSON")
	}
	if _, err := GetObject[int](s, "k"); err == nil {
		t.Error("GetObject")
	}
	if _, _, err := s.Kind("k"); err == nil {
		t.Error("Kind")
	}
	if _, err := s.Keys(); err == nil {
		t.Error("Keys")
	}
	if s.Len() != 0 || s.Contains("k") {
		t.Error("Len/Contains")
	}
}
