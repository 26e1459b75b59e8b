/*
 * cano_go.h - the C side of the Go binding: the library's headers, the ABI guard, and the shims
 * (callbacks.c) that adapt libcano's callback signatures to the Go functions exported from
 * callbacks.go.
 *
 * Every piece of Go state the library holds is a cgo.Handle stored in a small malloc'ed slot
 * (cano_go_slot): the slot, never a Go pointer, is the user_data / object the library sees, and
 * the matching destroy hook (cano_go_slot_destroy) deletes the handle and frees the slot.
 *
 * Declarations only: callbacks.go includes this file in a preamble that //export restricts.
 */
#ifndef CANO_GO_H
#define CANO_GO_H

#include <stdint.h>
#include <stdlib.h>

#include <cano/cano.h>

/* The ABI major this binding is written for. The runtime check compares cano_abi_major()
 * with it when the package initialises. */
#define CANO_GO_ABI_MAJOR 0

#if !defined(CANO_ABI_MAJOR) || CANO_ABI_MAJOR != 0
#error "bindings/go is written for libcano ABI major 0: these headers declare another ABI"
#endif

/* A cgo.Handle in C memory: what the library gets as user_data or as a resource/store object. */
typedef struct cano_go_slot {
  uintptr_t handle;
} cano_go_slot;

/* Allocates a slot holding `handle`; NULL when memory is exhausted. */
cano_go_slot *cano_go_slot_new(uintptr_t handle);
/* The handle a slot holds (0 for NULL). */
uintptr_t cano_go_slot_handle(const void *slot);
/* Deletes the slot's handle and frees the slot: every destroy hook of the binding. */
void cano_go_slot_destroy(void *slot);
/* Frees a slot whose handle the caller deletes itself (a call refused before it took the slot). */
void cano_go_slot_free(void *slot);

/* Option structs initialised with the header's *_INIT macros. */
cano_engine_options cano_go_engine_options_init(void);
cano_task_options cano_go_task_options_init(void);
cano_resource_options cano_go_resource_options_init(void);
cano_join_options cano_go_join_options_init(void);
cano_poll_options cano_go_poll_options_init(void);
cano_timer_options cano_go_timer_options_init(void);
cano_batch_options cano_go_batch_options_init(void);

/* The shims: the C functions the library calls, each forwarding to a Go export. */
cano_status cano_go_task_shim(cano_task_ctx *ctx, void *user_data);
cano_status cano_go_timer_wait_shim(cano_task_ctx *ctx, void *user_data);
/* A batch task's load and process_item steps (its finish step is cano_go_task_shim). */
cano_status cano_go_batch_load_shim(cano_task_ctx *ctx, void *user_data);
cano_status cano_go_batch_item_shim(cano_task_ctx *ctx, void *user_data);
/* cano_task_options.cancel of every async task and branch. */
void cano_go_cancel_shim(uint64_t token, void *user_data);
void cano_go_run_done_shim(uint64_t run_id, cano_status status, int32_t final_state,
                           const cano_error *error, void *user_data);
void cano_go_post_shim(void *user_data);
cano_status cano_go_resource_setup_shim(cano_error **err, void *user_data);
cano_status cano_go_resource_teardown_shim(cano_error **err, void *user_data);
cano_health_level cano_go_resource_health_shim(const char **message, void *user_data);
void cano_go_log_shim(cano_log_level level, const char *message, void *user_data);
cano_status cano_go_append_shim(void **out_object, void (**out_destroy)(void *),
                                const void *current, void *user_data);

#endif /* CANO_GO_H */
