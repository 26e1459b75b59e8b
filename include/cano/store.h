/*
 * cano/store.h - MemoryStore: a thread-safe key/value store shared by a run's tasks.
 *
 * Values are bytes, JSON text, or native objects (a pointer with a destructor and a type tag).
 * Reads of bytes and JSON copy; reads of native objects hand out counted references, so a
 * value replaced or removed while a reader holds it is freed only when the last reference goes.
 * Type matching is exact (spec section 6): a JSON value cannot be read as bytes, an object
 * tagged "int32" cannot be read as "int64".
 *
 * Error texts are cano's: "Key not found: Key 'k' not found in store" (CANO_E_STORE_KEY_NOT_FOUND),
 * "Type mismatch: Cannot downcast value for key 'k' to requested type"
 * (CANO_E_STORE_TYPE_MISMATCH), "Append type mismatch: Cannot append to key 'k': existing value
 * is not a Vec<TState>" (CANO_E_STORE_APPEND_TYPE_MISMATCH); all are category "store" with the
 * Display prefix "Store error: ".
 *
 * Object type tags are required, non-empty strings (CANO_E_INVALID_ARGUMENT otherwise). After
 * cano_store_append_json the array comes back in cJSON's compact form.
 *
 * Every function may be called from any thread. Since 0.1.0.
 */
#ifndef CANO_STORE_H
#define CANO_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "cano/error.h"
#include "cano/export.h"
#include "cano/types.h"

CANO_EXTERN_C_BEGIN


/* The kind of a stored value. */
typedef enum cano_value_kind {
  CANO_VALUE_BYTES = 0,
  CANO_VALUE_JSON = 1,
  CANO_VALUE_OBJECT = 2,
  CANO_VALUE_KIND_FORCE32 = 0x7fffffff
} cano_value_kind;

/* Builds the new value of an object append: `current` is the stored object (NULL when the key
 * is missing); the callback sets *out_object to a new object that holds current's items plus
 * the new one, and *out_destroy to its destructor. Runs under the store's write lock on the
 * calling thread: it must not call back into this store. Returns CANO_OK or an error status. */
typedef cano_status (*cano_store_append_fn)(void **out_object, void (**out_destroy)(void *),
                                            const void *current, void *user_data);

/* Creates an empty store. The caller owns *out (cano_store_destroy()). Since 0.1.0. */
CANO_API cano_status cano_store_create(cano_store **out, cano_error **err);

/* Drops the caller's reference (resources holding the store keep it alive). NULL-safe.
 * Since 0.1.0. */
CANO_API void cano_store_destroy(cano_store *store);

/* Inserts or replaces `key` with a copy of `len` bytes (data may be NULL when len is 0).
 * Since 0.1.0. */
CANO_API cano_status cano_store_put_bytes(cano_store *store, const char *key, const void *data,
                                          size_t len, cano_error **err);

/* Inserts or replaces `key` with JSON text (copied). Errors: CANO_E_INVALID_ARGUMENT when the
 * text is not valid JSON (naming the key). Since 0.1.0. */
CANO_API cano_status cano_store_put_json(cano_store *store, const char *key, const char *json,
                                         cano_error **err);

/* Inserts or replaces `key` with a native object tagged `type` (copied). The store owns the
 * object from now on and calls destroy(object) (may be NULL) when the last reference goes; on
 * error destroy is called before this returns. Since 0.1.0. */
CANO_API cano_status cano_store_put_object(cano_store *store, const char *key, const char *type,
                                           void *object, void (*destroy)(void *object),
                                           cano_error **err);

/* Copies the bytes under `key` into a new buffer (*out; free with cano_free(); non-NULL even
 * for 0 bytes) of *out_len bytes. Errors: CANO_E_STORE_KEY_NOT_FOUND,
 * CANO_E_STORE_TYPE_MISMATCH. Since 0.1.0. */
CANO_API cano_status cano_store_get_bytes(void **out, size_t *out_len, const cano_store *store,
                                          const char *key, cano_error **err);

/* Copies the JSON text under `key` (*out, NUL-terminated; free with cano_free()). Errors:
 * CANO_E_STORE_KEY_NOT_FOUND, CANO_E_STORE_TYPE_MISMATCH. Since 0.1.0. */
CANO_API cano_status cano_store_get_json(char **out, const cano_store *store, const char *key,
                                         cano_error **err);

/* A counted reference to the object under `key`, which must be tagged `type`. Release it with
 * cano_object_ref_release(). Errors: CANO_E_STORE_KEY_NOT_FOUND, CANO_E_STORE_TYPE_MISMATCH.
 * Since 0.1.0. */
CANO_API cano_status cano_store_get_object(cano_object_ref **out, const cano_store *store,
                                           const char *key, const char *type, cano_error **err);

/* The object a reference holds (borrowed for the reference's life). Since 0.1.0. */
CANO_API void *cano_object_ref_get(const cano_object_ref *ref);

/* Releases a reference from cano_store_get_object(). NULL-safe. Since 0.1.0. */
CANO_API void cano_object_ref_release(cano_object_ref *ref);

/* The kind of the value under `key`, and (out_type may be NULL) a copy of its type tag: "bytes",
 * "json" or the object's tag; free it with cano_free(). Errors: CANO_E_STORE_KEY_NOT_FOUND.
 * Since 0.1.0. */
CANO_API cano_status cano_store_kind(cano_value_kind *out, char **out_type,
                                     const cano_store *store, const char *key, cano_error **err);

/* Appends the JSON value `item_json` to the JSON array under `key`: a missing key becomes
 * [item]; a value that is not a JSON array is left untouched and the call fails with
 * CANO_E_STORE_APPEND_TYPE_MISMATCH. Atomic. Errors also: CANO_E_INVALID_ARGUMENT (invalid
 * JSON). Since 0.1.0. */
CANO_API cano_status cano_store_append_json(cano_store *store, const char *key,
                                            const char *item_json, cano_error **err);

/* Appends to the native list object under `key` tagged `type`: `fn` builds the new list from
 * the current one (NULL when missing) and the store swaps it in; readers holding the old list
 * keep it unchanged. A value of another kind or tag is left untouched and the call fails with
 * CANO_E_STORE_APPEND_TYPE_MISMATCH. If fn fails, nothing changes and its status is returned.
 * Since 0.1.0. */
CANO_API cano_status cano_store_append_object(cano_store *store, const char *key,
                                              const char *type, cano_store_append_fn fn,
                                              void *user_data, cano_error **err);

/* Removes `key`; a missing key is a silent CANO_OK. Since 0.1.0. */
CANO_API cano_status cano_store_remove(cano_store *store, const char *key, cano_error **err);

/* 1 when `key` is present, else 0. Since 0.1.0. */
CANO_API int cano_store_contains(const cano_store *store, const char *key);

/* The number of keys. Since 0.1.0. */
CANO_API size_t cano_store_len(const cano_store *store);

/* The keys as a JSON array of strings in ascending byte order (*out; free with cano_free()).
 * Since 0.1.0. */
CANO_API cano_status cano_store_keys(char **out, const cano_store *store, cano_error **err);

/* Removes every key. Since 0.1.0. */
CANO_API cano_status cano_store_clear(cano_store *store, cano_error **err);

CANO_EXTERN_C_END

#endif /* CANO_STORE_H */
