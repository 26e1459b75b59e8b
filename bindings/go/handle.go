package cano

import (
	"runtime/cgo"
	"sync/atomic"
)

// Go values the library holds are cgo.Handles kept in C.malloc'ed slots (cano_go_slot, see
// cano_go.h): the slot is what C sees as user_data, and the destroy hook the library calls
// when it is done (cano_go_slot_destroy) deletes the handle and frees the slot. The count of
// live handles lets the tests check that every registration is released.

var liveHandles atomic.Int64

// newHandle makes a handle for v and counts it.
func newHandle(v any) cgo.Handle {
	liveHandles.Add(1)
	return cgo.NewHandle(v)
}

// deleteHandle deletes a handle made by newHandle.
func deleteHandle(h cgo.Handle) {
	liveHandles.Add(-1)
	h.Delete()
}
