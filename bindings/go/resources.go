package cano

/*
#include "cano_go.h"
*/
import "C"

import (
	"encoding/json"
	"fmt"
	"reflect"
	"runtime/cgo"
	"sync"
	"unsafe"
)

// HealthLevel is cano's HealthStatus severity: Healthy < Degraded < Unhealthy.
type HealthLevel int32

const (
	// Healthy is cano's HealthStatus::Healthy.
	Healthy HealthLevel = C.CANO_HEALTH_HEALTHY
	// Degraded is cano's HealthStatus::Degraded.
	Degraded HealthLevel = C.CANO_HEALTH_DEGRADED
	// Unhealthy is cano's HealthStatus::Unhealthy.
	Unhealthy HealthLevel = C.CANO_HEALTH_UNHEALTHY
)

// String is the level's name as check_all_health spells it ("healthy", "degraded",
// "unhealthy").
func (l HealthLevel) String() string {
	switch l {
	case Healthy:
		return "healthy"
	case Degraded:
		return "degraded"
	case Unhealthy:
		return "unhealthy"
	}
	return fmt.Sprintf("HealthLevel(%d)", int32(l))
}

// Health is one probe's result: a level and an optional message.
type Health struct {
	Level   HealthLevel
	Message string
}

// ResourceSetup is implemented by resources with a setup step. Setup runs on a worker thread
// before a run that needs the set (resources in insertion order); an error fails the run with
// the error's code (CodeGeneric for errors that are not *Error) and the message prefixed with
// "setup of resource 'KEY' failed: ". A panic becomes a CodeUser error.
type ResourceSetup interface {
	Setup() error
}

// ResourceTeardown is implemented by resources with a teardown step. Teardown runs on a worker
// thread after the last run holding the set ends, in reverse insertion order; an error (or a
// panic) is logged and never stops the others.
type ResourceTeardown interface {
	Teardown() error
}

// ResourceHealth is implemented by resources that report their health. Health runs on the
// goroutine that asked (Resources.Health, AggregateHealth, CheckAllHealth), possibly
// concurrently; an empty message means none.
type ResourceHealth interface {
	Health() (HealthLevel, string)
}

// resourceEntry is what a Go resource's handle holds.
type resourceEntry struct {
	obj any
}

// Resources is a set of named resources with a lifecycle (cano's Resources). Insert every
// resource before the first run that uses the set: a run freezes it, and Insert then returns
// ErrBadState. Lookups and health checks may be called from any goroutine.
//
// Ownership: NewResources returns a set the caller owns and must Close; a workflow retains the
// set, so closing it after NewWorkflow is fine. Sets borrowed from a TaskContext or a Workflow
// are valid while the workflow is, and Close on them does nothing.
type Resources struct {
	ptr      *C.cano_resources
	borrowed bool
}

// NewResources creates an empty set. Any goroutine.
func NewResources() (*Resources, error) {
	if abiErr != nil {
		return nil, abiErr
	}
	var ptr *C.cano_resources
	var cerr *C.cano_error
	if status := C.cano_resources_create(&ptr, &cerr); status != C.CANO_OK {
		return nil, takeError(status, cerr)
	}
	return &Resources{ptr: ptr}, nil
}

// Close drops the caller's reference; workflows using the set keep it alive. When the last
// reference goes, the Go values are released. Idempotent; a no-op on borrowed sets. Call it
// once no other goroutine uses this Resources value.
func (r *Resources) Close() {
	if !r.borrowed && r.ptr != nil {
		C.cano_resources_destroy(r.ptr)
	}
	r.ptr = nil
}

func closedResources() error { return NewError(CodeInvalidArgument, "the resources are closed") }

// typeTags gives every Go type that is inserted or looked up a unique type tag: its String,
// with a suffix when two distinct types print the same.
var typeTags struct {
	sync.Mutex
	byType map[reflect.Type]string
	byName map[string]reflect.Type
}

var storeType = reflect.TypeOf((*MemoryStore)(nil))

// TypeTag is the type tag under which Insert registers (and GetResource looks up) values of
// type t: t.String(), unique within the process. Any goroutine.
func TypeTag(t reflect.Type) string {
	if t == nil {
		return "<nil>"
	}
	typeTags.Lock()
	defer typeTags.Unlock()
	if tag, ok := typeTags.byType[t]; ok {
		return tag
	}
	if typeTags.byType == nil {
		typeTags.byType = map[reflect.Type]string{}
		typeTags.byName = map[string]reflect.Type{}
	}
	tag := t.String()
	for i := 2; ; i++ {
		if _, taken := typeTags.byName[tag]; !taken {
			break
		}
		tag = fmt.Sprintf("%s#%d", t.String(), i)
	}
	typeTags.byType[t] = tag
	typeTags.byName[tag] = t
	return tag
}

// Insert inserts obj under key. A *MemoryStore is inserted as the set's store (type tag
// "cano.MemoryStore", retained by the set); any other value is tagged with its dynamic Go type
// (TypeTag), so GetResource must name exactly that type. obj's Setup, Teardown and Health
// methods (ResourceSetup, ResourceTeardown, ResourceHealth), when it has them, make its
// lifecycle. Errors: ErrResourceDuplicateKey, ErrInvalidArgument (empty key, nil obj),
// ErrBadState (the set is frozen).
func (r *Resources) Insert(key string, obj any) error {
	if s, ok := obj.(*MemoryStore); ok {
		return r.insertStore(key, s)
	}
	if obj == nil {
		return NewError(CodeInvalidArgument, "Insert needs a value")
	}
	return r.InsertWithTag(key, TypeTag(reflect.TypeOf(obj)), obj)
}

func (r *Resources) insertStore(key string, s *MemoryStore) error {
	if r.ptr == nil {
		return closedResources()
	}
	if s == nil || s.ptr == nil {
		return NewError(CodeInvalidArgument, "the store is closed")
	}
	ckey := C.CString(key)
	defer C.free(unsafe.Pointer(ckey))
	var cerr *C.cano_error
	return takeError(C.cano_resources_insert_store(r.ptr, ckey, s.ptr, &cerr), cerr)
}

// InsertWithTag inserts obj under key with an explicit type tag, for sets shared with code in
// other languages that looks resources up by tag (GetWithTag). Otherwise as Insert.
func (r *Resources) InsertWithTag(key, tag string, obj any) error {
	if r.ptr == nil {
		return closedResources()
	}
	options := C.cano_go_resource_options_init()
	h := newHandle(&resourceEntry{obj: obj})
	slot := C.cano_go_slot_new(C.uintptr_t(h))
	if slot == nil {
		deleteHandle(h)
		return NewError(CodeNoMemory, "out of memory")
	}
	ckey := C.CString(key)
	defer C.free(unsafe.Pointer(ckey))
	ctag := C.CString(tag)
	defer C.free(unsafe.Pointer(ctag))
	options._type = ctag
	options.object = unsafe.Pointer(slot)
	if _, ok := obj.(ResourceSetup); ok {
		options.setup = C.cano_resource_fn(C.cano_go_resource_setup_shim)
	}
	if _, ok := obj.(ResourceTeardown); ok {
		options.teardown = C.cano_resource_fn(C.cano_go_resource_teardown_shim)
	}
	if _, ok := obj.(ResourceHealth); ok {
		options.health = C.cano_health_fn(C.cano_go_resource_health_shim)
	}
	options.destroy = (*[0]byte)(C.cano_go_slot_destroy)
	// The slot belongs to the set now: on error the library calls its destroy hook.
	var cerr *C.cano_error
	return takeError(C.cano_resources_insert(r.ptr, ckey, &options, &cerr), cerr)
}

// GetWithTag looks up the value under key whose type tag is tag. For the store tag
// ("cano.MemoryStore") the result is a borrowed *MemoryStore. Errors: ErrResourceNotFound,
// ErrResourceTypeMismatch. Any goroutine.
func (r *Resources) GetWithTag(key, tag string) (any, error) {
	if r.ptr == nil {
		return nil, closedResources()
	}
	if tag == C.CANO_STORE_TYPE {
		return r.Store(key)
	}
	ckey := C.CString(key)
	defer C.free(unsafe.Pointer(ckey))
	ctag := C.CString(tag)
	defer C.free(unsafe.Pointer(ctag))
	var out unsafe.Pointer
	var cerr *C.cano_error
	if status := C.cano_resources_get(&out, r.ptr, ckey, ctag, &cerr); status != C.CANO_OK {
		return nil, takeError(status, cerr)
	}
	return cgo.Handle(C.cano_go_slot_handle(out)).Value().(*resourceEntry).obj, nil
}

// Store is the MemoryStore inserted under key, borrowed: valid while the set is, and Close on
// it does nothing. Errors: ErrResourceNotFound, ErrResourceTypeMismatch. Any goroutine.
func (r *Resources) Store(key string) (*MemoryStore, error) {
	if r.ptr == nil {
		return nil, closedResources()
	}
	ckey := C.CString(key)
	defer C.free(unsafe.Pointer(ckey))
	var out *C.cano_store
	var cerr *C.cano_error
	if status := C.cano_resources_get_store(&out, r.ptr, ckey, &cerr); status != C.CANO_OK {
		return nil, takeError(status, cerr)
	}
	return &MemoryStore{ptr: out, borrowed: true}, nil
}

// GetResource looks up the resource under key as a T, which must be exactly the type it was
// inserted with (as cano's Resources::get). GetResource[*MemoryStore] returns the store,
// borrowed. Errors: ErrResourceNotFound, ErrResourceTypeMismatch (naming both types).
// Any goroutine.
func GetResource[T any](r *Resources, key string) (T, error) {
	var zero T
	t := reflect.TypeOf((*T)(nil)).Elem()
	if t == storeType {
		s, err := r.Store(key)
		if err != nil {
			return zero, err
		}
		return any(s).(T), nil
	}
	v, err := r.GetWithTag(key, TypeTag(t))
	if err != nil {
		return zero, err
	}
	return v.(T), nil
}

// Len is the number of resources. Any goroutine.
func (r *Resources) Len() int {
	if r.ptr == nil {
		return 0
	}
	return int(C.cano_resources_len(r.ptr))
}

// Contains reports whether key is present. Any goroutine.
func (r *Resources) Contains(key string) bool {
	if r.ptr == nil {
		return false
	}
	ckey := C.CString(key)
	defer C.free(unsafe.Pointer(ckey))
	return C.cano_resources_contains(r.ptr, ckey) != 0
}

// takeString converts and frees a string the library allocated.
func takeString(text *C.char) string {
	if text == nil {
		return ""
	}
	defer C.cano_free(unsafe.Pointer(text))
	return C.GoString(text)
}

// Health probes the resource under key (its Health method, on this goroutine; Healthy when
// it has none). Errors: ErrResourceNotFound. Any goroutine.
func (r *Resources) Health(key string) (Health, error) {
	if r.ptr == nil {
		return Health{}, closedResources()
	}
	ckey := C.CString(key)
	defer C.free(unsafe.Pointer(ckey))
	var level C.cano_health_level
	var message *C.char
	var cerr *C.cano_error
	if status := C.cano_resources_health(&level, &message, r.ptr, ckey, &cerr); status != C.CANO_OK {
		return Health{}, takeError(status, cerr)
	}
	return Health{Level: HealthLevel(level), Message: takeString(message)}, nil
}

// AggregateHealth is cano's aggregate_health(): it probes every resource in insertion order
// and reports the first worst one and its key ("" when all are healthy; Healthy for an empty
// set). Any goroutine.
func (r *Resources) AggregateHealth() (Health, string, error) {
	if r.ptr == nil {
		return Health{}, "", closedResources()
	}
	var level C.cano_health_level
	var message, key *C.char
	var cerr *C.cano_error
	if status := C.cano_resources_aggregate_health(&level, &message, &key, r.ptr, &cerr); status != C.CANO_OK {
		return Health{}, "", takeError(status, cerr)
	}
	return Health{Level: HealthLevel(level), Message: takeString(message)}, takeString(key), nil
}

// CheckAllHealth is cano's check_all_health(): every resource's health by key. Any goroutine.
func (r *Resources) CheckAllHealth() (map[string]Health, error) {
	if r.ptr == nil {
		return nil, closedResources()
	}
	var out *C.char
	var cerr *C.cano_error
	if status := C.cano_resources_check_all_health(&out, r.ptr, &cerr); status != C.CANO_OK {
		return nil, takeError(status, cerr)
	}
	var raw map[string]struct {
		Status  string  `json:"status"`
		Message *string `json:"message"`
	}
	if err := json.Unmarshal([]byte(takeString(out)), &raw); err != nil {
		return nil, NewError(CodeInternal, "check_all_health returned invalid JSON: "+err.Error())
	}
	result := make(map[string]Health, len(raw))
	for key, v := range raw {
		h := Health{Level: Healthy}
		switch v.Status {
		case "degraded":
			h.Level = Degraded
		case "unhealthy":
			h.Level = Unhealthy
		}
		if v.Message != nil {
			h.Message = *v.Message
		}
		result[key] = h
	}
	return result, nil
}
