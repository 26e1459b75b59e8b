package cano

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// lifecycle is a resource that journals its setup and teardown.
type lifecycle struct {
	name        string
	j           *journal
	setupErr    error
	teardownErr error
	panicSetup  bool
}

func (l *lifecycle) Setup() error {
	l.j.add("setup " + l.name)
	if l.panicSetup {
		panic("setup exploded")
	}
	return l.setupErr
}

func (l *lifecycle) Teardown() error {
	l.j.add("teardown " + l.name)
	return l.teardownErr
}

// FetchConfig is a typed configuration resource.
type FetchConfig struct{ BatchSize int }

func TestResourceLifecycleOrder(t *testing.T) {
	checkHandlesReleased(t)
	e := newTestEngine(t)
	var j journal
	res, err := NewResources()
	must(t, err)
	for _, name := range []string{"a", "b", "c"} {
		must(t, res.Insert(name, &lifecycle{name: name, j: &j}))
	}
	must(t, res.Insert("config", &FetchConfig{BatchSize: 3}))
	wf := newTestWorkflow(t, res)
	res.Close() // the workflow keeps the set
	res.Close()
	must(t, wf.RegisterFunc(Start, func(ctx *TaskContext) (Step, error) {
		cfg, err := GetResource[*FetchConfig](ctx.Resources(), "config")
		if err != nil {
			return Failed, err
		}
		j.add("task batch " + strings.Repeat("x", cfg.BatchSize))
		return Done, nil
	}, WithMode(Worker)))
	must(t, wf.AddExitState(Done))
	for run := 0; run < 2; run++ {
		final, err := wf.Run(context.Background(), e, Start)
		if err != nil || final != Done {
			t.Fatalf("Run = %v, %v", final, err)
		}
	}
	want := []string{"setup a", "setup b", "setup c", "task batch xxx", "teardown c", "teardown b", "teardown a"}
	if got := j.get(); !equalStrings(got, append(append([]string(nil), want...), want...)) {
		t.Fatalf("journal = %v", got)
	}
	// The set is frozen by its first run.
	wr := wf.Resources()
	if err := wr.Insert("late", &FetchConfig{}); !errors.Is(err, ErrBadState) {
		t.Fatalf("Insert into a frozen set: %v", err)
	}
	wr.Close() // borrowed: does nothing
	if wf.Resources().Len() != 4 {
		t.Fatal("closing a borrowed set closed it")
	}
}

func TestResourceSetupFailureRollsBack(t *testing.T) {
	e := newTestEngine(t)
	for _, c := range []struct {
		name    string
		b       *lifecycle
		code    Code
		message string
	}{
		{"plain", &lifecycle{setupErr: errors.New("no connection")}, CodeGeneric,
			"setup of resource 'b' failed: no connection"},
		{"coded", &lifecycle{setupErr: NewError(CodeConfiguration, "bad dsn")}, CodeConfiguration,
			"setup of resource 'b' failed: bad dsn"},
		{"panic", &lifecycle{panicSetup: true}, CodeUser,
			"setup of resource 'b' failed: panic in resource setup: panic: setup exploded"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var j journal
			res, err := NewResources()
			must(t, err)
			defer res.Close()
			c.b.name, c.b.j = "b", &j
			must(t, res.Insert("a", &lifecycle{name: "a", j: &j}))
			must(t, res.Insert("b", c.b))
			must(t, res.Insert("c", &lifecycle{name: "c", j: &j}))
			wf := newTestWorkflow(t, res)
			must(t, wf.RegisterFunc(Start, func(*TaskContext) (Step, error) {
				j.add("task")
				return Done, nil
			}))
			must(t, wf.AddExitState(Done))
			final, err := wf.Run(context.Background(), e, Start)
			wantCode(t, err, c.code, c.message)
			if final != Start {
				t.Fatalf("final = %v", final)
			}
			if got := j.get(); !equalStrings(got, []string{"setup a", "setup b", "teardown a"}) {
				t.Fatalf("journal = %v", got)
			}
		})
	}
}

func TestResourceTeardownFailureIsLogged(t *testing.T) {
	var records journal
	must(t, SetLogHandler(func(level LogLevel, message string) {
		records.add(level.String() + ": " + message)
	}))
	defer func() { must(t, SetLogHandler(nil)) }()
	e := newTestEngine(t)
	var j journal
	res, err := NewResources()
	must(t, err)
	defer res.Close()
	must(t, res.Insert("a", &lifecycle{name: "a", j: &j}))
	must(t, res.Insert("b", &lifecycle{name: "b", j: &j, teardownErr: errors.New("flush failed")}))
	wf := newTestWorkflow(t, res)
	must(t, wf.RegisterFunc(Start, gotoTask(nil, Done)))
	must(t, wf.AddExitState(Done))
	final, err := wf.Run(context.Background(), e, Start)
	if err != nil || final != Done {
		t.Fatalf("Run = %v, %v", final, err)
	}
	if got := j.get(); !equalStrings(got, []string{"setup a", "setup b", "teardown b", "teardown a"}) {
		t.Fatalf("journal = %v", got)
	}
	found := false
	for _, r := range records.get() {
		if strings.Contains(r, "flush failed") {
			found = true
		}
	}
	if !found {
		t.Fatalf("no log record names the teardown failure: %v", records.get())
	}
}

func TestGetResourceErrors(t *testing.T) {
	res, err := NewResources()
	must(t, err)
	defer res.Close()
	must(t, res.Insert("config", &FetchConfig{BatchSize: 7}))
	must(t, res.Insert("count", 42))
	cfg, err := GetResource[*FetchConfig](res, "config")
	must(t, err)
	if cfg.BatchSize != 7 {
		t.Fatalf("config = %+v", cfg)
	}
	n, err := GetResource[int](res, "count")
	must(t, err)
	if n != 42 {
		t.Fatalf("count = %d", n)
	}
	// The type must match exactly, as cano's Resources::get.
	_, err = GetResource[FetchConfig](res, "config")
	ce := wantCode(t, err, CodeResourceTypeMismatch, "")
	wantContains(t, ce.Message, "cano.FetchConfig", "*cano.FetchConfig", "config")
	if !errors.Is(err, ErrResourceTypeMismatch) {
		t.Fatal("not ErrResourceTypeMismatch")
	}
	_, err = GetResource[int64](res, "count")
	wantCode(t, err, CodeResourceTypeMismatch, "")
	_, err = GetResource[*FetchConfig](res, "missing")
	ce = wantCode(t, err, CodeResourceNotFound, "")
	wantContains(t, ce.Message, "no resource found for the given key", "missing")
	if !errors.Is(err, ErrResourceNotFound) {
		t.Fatal("not ErrResourceNotFound")
	}
	_, err = GetResource[*MemoryStore](res, "config")
	wantCode(t, err, CodeResourceTypeMismatch, "")
	err = res.Insert("config", &FetchConfig{})
	wantCode(t, err, CodeResourceDuplicateKey, "")
	if !errors.Is(err, ErrResourceDuplicateKey) {
		t.Fatal("not ErrResourceDuplicateKey")
	}
	if err := res.Insert("", 1); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("empty key: %v", err)
	}
	if err := res.Insert("nil", nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("nil value: %v", err)
	}
	if res.Len() != 2 || !res.Contains("count") || res.Contains("nil") {
		t.Fatalf("Len %d", res.Len())
	}
}

func TestResourceTagsAndStores(t *testing.T) {
	checkHandlesReleased(t)
	res, err := NewResources()
	must(t, err)
	store, err := NewMemoryStore()
	must(t, err)
	must(t, res.Insert("store", store))
	store.Close() // the set retains the store
	must(t, res.InsertWithTag("shared", "conformance.Resource", "payload"))
	if err := res.InsertWithTag("fake", "cano.MemoryStore", 1); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("the store tag on another value: %v", err)
	}
	if err := res.InsertWithTag("notag", "", 1); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("empty tag: %v", err)
	}
	v, err := res.GetWithTag("shared", "conformance.Resource")
	must(t, err)
	if v != "payload" {
		t.Fatalf("GetWithTag = %v", v)
	}
	_, err = res.GetWithTag("shared", "other.Tag")
	wantCode(t, err, CodeResourceTypeMismatch, "")
	s1, err := GetResource[*MemoryStore](res, "store")
	must(t, err)
	must(t, Put(s1, "k", "v"))
	s2, err := res.GetWithTag("store", "cano.MemoryStore")
	must(t, err)
	if got, err := Get[string](s2.(*MemoryStore), "k"); err != nil || got != "v" {
		t.Fatalf("store through the tag: %q, %v", got, err)
	}
	s1.Close() // borrowed: the wrapper forgets its pointer, the store lives on
	s3, err := res.Store("store")
	must(t, err)
	if !s3.Contains("k") || s1.Contains("k") {
		t.Fatal("closing a borrowed store wrapper destroyed the store")
	}
	_, err = res.Store("shared")
	wantCode(t, err, CodeResourceTypeMismatch, "")
	if err := res.Insert("store2", &MemoryStore{}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("closed store: %v", err)
	}
	res.Close()
	if err := res.Insert("x", 1); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("Insert after Close: %v", err)
	}
	if _, err := res.GetWithTag("x", "y"); err == nil {
		t.Fatal("GetWithTag after Close")
	}
	if res.Len() != 0 || res.Contains("store") {
		t.Fatal("a closed set reports contents")
	}
}

func TestTypeTags(t *testing.T) {
	if got := TypeTag(reflect.TypeOf(&FetchConfig{})); got != "*cano.FetchConfig" {
		t.Fatalf("TypeTag = %q", got)
	}
	if TypeTag(nil) != "<nil>" {
		t.Fatal("TypeTag(nil)")
	}
	// Two distinct types that print the same get distinct tags.
	type FetchConfig struct{ Other bool }
	local := TypeTag(reflect.TypeOf(&FetchConfig{}))
	if local == "*cano.FetchConfig" || !strings.HasPrefix(local, "*cano.FetchConfig#") {
		t.Fatalf("local type tag = %q", local)
	}
	if TypeTag(reflect.TypeOf(&FetchConfig{})) != local {
		t.Fatal("tags are not stable")
	}
}

// prober reports a fixed health.
type prober struct {
	level   HealthLevel
	message string
	panics  bool
}

func (p prober) Health() (HealthLevel, string) {
	if p.panics {
		panic("probe broke")
	}
	return p.level, p.message
}

func TestHealth(t *testing.T) {
	res, err := NewResources()
	must(t, err)
	defer res.Close()
	h, key, err := res.AggregateHealth()
	must(t, err)
	if h.Level != Healthy || key != "" {
		t.Fatalf("empty set: %+v %q", h, key)
	}
	must(t, res.Insert("plain", &FetchConfig{}))
	must(t, res.Insert("ok", prober{level: Healthy}))
	must(t, res.Insert("slow", prober{level: Degraded, message: "latency 900 ms"}))
	must(t, res.Insert("down", prober{level: Unhealthy, message: "connection refused"}))
	must(t, res.Insert("down2", prober{level: Unhealthy, message: "second"}))
	must(t, res.Insert("broken", prober{panics: true}))

	h, err = res.Health("slow")
	must(t, err)
	if h != (Health{Degraded, "latency 900 ms"}) {
		t.Fatalf("Health(slow) = %+v", h)
	}
	h, err = res.Health("plain")
	must(t, err)
	if h != (Health{Healthy, ""}) {
		t.Fatalf("Health(plain) = %+v", h)
	}
	h, err = res.Health("broken")
	must(t, err)
	if h.Level != Unhealthy || !strings.Contains(h.Message, "probe broke") {
		t.Fatalf("Health(broken) = %+v", h)
	}
	_, err = res.Health("missing")
	wantCode(t, err, CodeResourceNotFound, "")

	h, key, err = res.AggregateHealth()
	must(t, err)
	if h != (Health{Unhealthy, "connection refused"}) || key != "down" {
		t.Fatalf("AggregateHealth = %+v %q (the first worst one wins)", h, key)
	}
	all, err := res.CheckAllHealth()
	must(t, err)
	if len(all) != 6 || all["slow"] != (Health{Degraded, "latency 900 ms"}) || all["ok"] != (Health{Healthy, ""}) ||
		all["down2"].Message != "second" {
		t.Fatalf("CheckAllHealth = %+v", all)
	}
	if Healthy.String() != "healthy" || Degraded.String() != "degraded" || Unhealthy.String() != "unhealthy" ||
		HealthLevel(9).String() != "HealthLevel(9)" {
		t.Fatal("HealthLevel names")
	}
	// Probes may run concurrently; each thread keeps its own message buffer.
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 50; k++ {
				if h, err := res.Health("slow"); err != nil || h.Message != "latency 900 ms" {
					t.Errorf("concurrent Health = %+v, %v", h, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	closed := &Resources{}
	if _, err := closed.Health("x"); err == nil {
		t.Fatal("Health on a closed set")
	}
	if _, _, err := closed.AggregateHealth(); err == nil {
		t.Fatal("AggregateHealth on a closed set")
	}
	if _, err := closed.CheckAllHealth(); err == nil {
		t.Fatal("CheckAllHealth on a closed set")
	}
	if _, err := closed.Store("x"); err == nil {
		t.Fatal("Store on a closed set")
	}
}
