package cano

/*
#include "cano_go.h"
*/
import "C"

import (
	"encoding/json"
	"reflect"
	"runtime/cgo"
	"unsafe"
)

// ValueKind is the kind of a stored value.
type ValueKind int32

const (
	// KindBytes is a value stored with PutBytes.
	KindBytes ValueKind = C.CANO_VALUE_BYTES
	// KindJSON is a value stored with PutJSON, Put or Append.
	KindJSON ValueKind = C.CANO_VALUE_JSON
	// KindObject is a native object: a Go value stored with PutObject or AppendObject.
	KindObject ValueKind = C.CANO_VALUE_OBJECT
)

// String names the kind ("bytes", "json", "object").
func (k ValueKind) String() string {
	switch k {
	case KindBytes:
		return "bytes"
	case KindJSON:
		return "json"
	case KindObject:
		return "object"
	}
	return "unknown"
}

// MemoryStore is cano's MemoryStore: a thread-safe key/value store a run's tasks share,
// usually inserted into the workflow's Resources. Values are bytes, JSON text (Put and Get
// marshal Go values with encoding/json), or Go values kept alive in the store (PutObject,
// GetObject, AppendObject). Type matching is exact: JSON cannot be read as bytes, and an
// object stored as int32 cannot be read as int64. Errors are cano's store errors
// (ErrKeyNotFound, ErrTypeMismatch, ErrAppendTypeMismatch; all match ErrStore).
//
// Threads: every method may be called from any goroutine. Ownership: NewMemoryStore returns a
// store the caller owns and Closes (resources holding it keep it alive); stores borrowed from
// a TaskContext or Resources are valid while their set is, and Close on them does nothing.
type MemoryStore struct {
	ptr      *C.cano_store
	borrowed bool
}

// NewMemoryStore creates an empty store. Any goroutine.
func NewMemoryStore() (*MemoryStore, error) {
	if abiErr != nil {
		return nil, abiErr
	}
	var ptr *C.cano_store
	var cerr *C.cano_error
	if status := C.cano_store_create(&ptr, &cerr); status != C.CANO_OK {
		return nil, takeError(status, cerr)
	}
	return &MemoryStore{ptr: ptr}, nil
}

// Close drops the caller's reference (resources holding the store keep it alive). Idempotent;
// a no-op on borrowed stores. Call it once no other goroutine uses this value.
func (s *MemoryStore) Close() {
	if !s.borrowed && s.ptr != nil {
		C.cano_store_destroy(s.ptr)
	}
	s.ptr = nil
}

func closedStore() error { return NewError(CodeInvalidArgument, "the store is closed") }

// cstr is a C copy of a Go string, freed by the caller with freeC.
func cstr(s string) *C.char { return C.CString(s) }

func freeC(p *C.char) { C.free(unsafe.Pointer(p)) }

// PutBytes inserts or replaces key with a copy of data.
func (s *MemoryStore) PutBytes(key string, data []byte) error {
	if s.ptr == nil {
		return closedStore()
	}
	ckey := cstr(key)
	defer freeC(ckey)
	var p unsafe.Pointer
	if len(data) > 0 {
		p = unsafe.Pointer(&data[0])
	}
	var cerr *C.cano_error
	return takeError(C.cano_store_put_bytes(s.ptr, ckey, p, C.size_t(len(data)), &cerr), cerr)
}

// GetBytes returns a copy of the bytes under key. Errors: ErrKeyNotFound, ErrTypeMismatch.
func (s *MemoryStore) GetBytes(key string) ([]byte, error) {
	if s.ptr == nil {
		return nil, closedStore()
	}
	ckey := cstr(key)
	defer freeC(ckey)
	var out unsafe.Pointer
	var n C.size_t
	var cerr *C.cano_error
	if status := C.cano_store_get_bytes(&out, &n, s.ptr, ckey, &cerr); status != C.CANO_OK {
		return nil, takeError(status, cerr)
	}
	defer C.cano_free(out)
	data := make([]byte, int(n))
	copy(data, unsafe.Slice((*byte)(out), int(n)))
	return data, nil
}

// PutJSON inserts or replaces key with JSON text. Errors: ErrInvalidArgument (not valid JSON).
func (s *MemoryStore) PutJSON(key, text string) error {
	if s.ptr == nil {
		return closedStore()
	}
	ckey, ctext := cstr(key), cstr(text)
	defer freeC(ckey)
	defer freeC(ctext)
	var cerr *C.cano_error
	return takeError(C.cano_store_put_json(s.ptr, ckey, ctext, &cerr), cerr)
}

// GetJSON returns the JSON text under key. Errors: ErrKeyNotFound, ErrTypeMismatch.
func (s *MemoryStore) GetJSON(key string) (string, error) {
	if s.ptr == nil {
		return "", closedStore()
	}
	ckey := cstr(key)
	defer freeC(ckey)
	var out *C.char
	var cerr *C.cano_error
	if status := C.cano_store_get_json(&out, s.ptr, ckey, &cerr); status != C.CANO_OK {
		return "", takeError(status, cerr)
	}
	return takeString(out), nil
}

// Put stores v under key as JSON (encoding/json). Errors: the marshalling error, or those of
// PutJSON.
func Put[T any](s *MemoryStore, key string, v T) error {
	text, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.PutJSON(key, string(text))
}

// Get reads the JSON under key into a T (encoding/json). Errors: those of GetJSON, or the
// unmarshalling error.
func Get[T any](s *MemoryStore, key string) (T, error) {
	var v T
	text, err := s.GetJSON(key)
	if err != nil {
		return v, err
	}
	err = json.Unmarshal([]byte(text), &v)
	return v, err
}

// Append appends item, marshalled to JSON, to the JSON array under key: a missing key becomes
// [item]; a value that is not a JSON array is left untouched and Append fails with
// ErrAppendTypeMismatch. Atomic.
func (s *MemoryStore) Append(key string, item any) error {
	text, err := json.Marshal(item)
	if err != nil {
		return err
	}
	return s.AppendJSON(key, string(text))
}

// AppendJSON appends the JSON value text as Append does. Errors also: ErrInvalidArgument
// (invalid JSON).
func (s *MemoryStore) AppendJSON(key, text string) error {
	if s.ptr == nil {
		return closedStore()
	}
	ckey, ctext := cstr(key), cstr(text)
	defer freeC(ckey)
	defer freeC(ctext)
	var cerr *C.cano_error
	return takeError(C.cano_store_append_json(s.ptr, ckey, ctext, &cerr), cerr)
}

// PutObject inserts or replaces key with the Go value v itself (no copy, no encoding), tagged
// with its dynamic type (TypeTag). The store keeps v alive until the value is replaced or
// removed and no reader holds it. Readers share v: store values that are immutable, or safe for
// concurrent use. Errors: ErrInvalidArgument (nil v).
func (s *MemoryStore) PutObject(key string, v any) error {
	if v == nil {
		return NewError(CodeInvalidArgument, "PutObject needs a value")
	}
	return s.putObject(key, TypeTag(reflect.TypeOf(v)), v)
}

func (s *MemoryStore) putObject(key, tag string, v any) error {
	if s.ptr == nil {
		return closedStore()
	}
	h := newHandle(v)
	slot := C.cano_go_slot_new(C.uintptr_t(h))
	if slot == nil {
		deleteHandle(h)
		return NewError(CodeNoMemory, "out of memory")
	}
	ckey, ctag := cstr(key), cstr(tag)
	defer freeC(ckey)
	defer freeC(ctag)
	// The store owns the slot from here on, and runs the destroy hook itself on error.
	var cerr *C.cano_error
	return takeError(C.cano_store_put_object(s.ptr, ckey, ctag, unsafe.Pointer(slot),
		(*[0]byte)(C.cano_go_slot_destroy), &cerr), cerr)
}

// GetObject returns the Go value stored under key with PutObject or AppendObject, which must
// have exactly the type T. Errors: ErrKeyNotFound, ErrTypeMismatch.
func GetObject[T any](s *MemoryStore, key string) (T, error) {
	var zero T
	if s.ptr == nil {
		return zero, closedStore()
	}
	ckey, ctag := cstr(key), cstr(TypeTag(reflect.TypeOf((*T)(nil)).Elem()))
	defer freeC(ckey)
	defer freeC(ctag)
	var ref *C.cano_object_ref
	var cerr *C.cano_error
	if status := C.cano_store_get_object(&ref, s.ptr, ckey, ctag, &cerr); status != C.CANO_OK {
		return zero, takeError(status, cerr)
	}
	defer C.cano_object_ref_release(ref)
	return cgo.Handle(C.cano_go_slot_handle(C.cano_object_ref_get(ref))).Value().(T), nil
}

// AppendObject appends item to the Go slice []T stored under key (a missing key becomes
// []T{item}), atomically: the store swaps in a new slice, so readers holding the old one keep
// it unchanged. A value of another kind or type is left untouched and AppendObject fails with
// ErrAppendTypeMismatch.
func AppendObject[T any](s *MemoryStore, key string, item T) error {
	if s.ptr == nil {
		return closedStore()
	}
	build := func(current any) any {
		var old []T
		if current != nil {
			old = current.([]T)
		}
		next := make([]T, len(old), len(old)+1)
		copy(next, old)
		return append(next, item)
	}
	h := newHandle(build)
	defer deleteHandle(h)
	slot := C.cano_go_slot_new(C.uintptr_t(h))
	if slot == nil {
		return NewError(CodeNoMemory, "out of memory")
	}
	defer C.cano_go_slot_free(unsafe.Pointer(slot))
	ckey, ctag := cstr(key), cstr(TypeTag(reflect.TypeOf(([]T)(nil))))
	defer freeC(ckey)
	defer freeC(ctag)
	var cerr *C.cano_error
	return takeError(C.cano_store_append_object(s.ptr, ckey, ctag,
		C.cano_store_append_fn(C.cano_go_append_shim), unsafe.Pointer(slot), &cerr), cerr)
}

// Kind is the kind of the value under key and its type tag ("bytes", "json", or the object's
// type tag). Errors: ErrKeyNotFound.
func (s *MemoryStore) Kind(key string) (ValueKind, string, error) {
	if s.ptr == nil {
		return 0, "", closedStore()
	}
	ckey := cstr(key)
	defer freeC(ckey)
	var kind C.cano_value_kind
	var tag *C.char
	var cerr *C.cano_error
	if status := C.cano_store_kind(&kind, &tag, s.ptr, ckey, &cerr); status != C.CANO_OK {
		return 0, "", takeError(status, cerr)
	}
	return ValueKind(kind), takeString(tag), nil
}

// Remove removes key; a missing key is not an error.
func (s *MemoryStore) Remove(key string) error {
	if s.ptr == nil {
		return closedStore()
	}
	ckey := cstr(key)
	defer freeC(ckey)
	var cerr *C.cano_error
	return takeError(C.cano_store_remove(s.ptr, ckey, &cerr), cerr)
}

// Contains reports whether key is present.
func (s *MemoryStore) Contains(key string) bool {
	if s.ptr == nil {
		return false
	}
	ckey := cstr(key)
	defer freeC(ckey)
	return C.cano_store_contains(s.ptr, ckey) != 0
}

// Len is the number of keys.
func (s *MemoryStore) Len() int {
	if s.ptr == nil {
		return 0
	}
	return int(C.cano_store_len(s.ptr))
}

// Keys returns the keys in ascending byte order.
func (s *MemoryStore) Keys() ([]string, error) {
	if s.ptr == nil {
		return nil, closedStore()
	}
	var out *C.char
	var cerr *C.cano_error
	if status := C.cano_store_keys(&out, s.ptr, &cerr); status != C.CANO_OK {
		return nil, takeError(status, cerr)
	}
	keys := []string{}
	if err := json.Unmarshal([]byte(takeString(out)), &keys); err != nil {
		return nil, NewError(CodeInternal, "cano_store_keys returned invalid JSON: "+err.Error())
	}
	return keys, nil
}

// Clear removes every key.
func (s *MemoryStore) Clear() error {
	if s.ptr == nil {
		return closedStore()
	}
	var cerr *C.cano_error
	return takeError(C.cano_store_clear(s.ptr, &cerr), cerr)
}
