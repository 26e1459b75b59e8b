/*
 * cano/resources.h - a dictionary of named resources with a lifecycle (cano's Resources).
 *
 * A resource is a user object with a type tag and optional setup, teardown and health
 * callbacks. Tasks look resources up by key and type tag (cano_task_ctx_resources()).
 *
 * Lifecycle (spec section 5): setup runs in insertion order; if one fails, the ones already set
 * up are torn down in reverse order and the run fails with that error's code, its message
 * prefixed with "setup of resource 'KEY' failed: " so that it names the key (the failed one and the
 * ones after it are not torn down); teardown runs in reverse insertion order, every time, and a
 * failing teardown is logged and never stops the others. The engine runs these callbacks on a
 * worker thread, one resource at a time, and never for a set whose resources have no callbacks.
 *
 * Sharing between runs (a libcano decision; cano itself sets up and tears down around every
 * orchestrate call, even concurrent ones): a set is set up when a run needs it and no run holds
 * it, shared as it is by every run that starts while it is up, and torn down when the last run
 * holding it ends. Runs one after another therefore see cano's setup/run/teardown each time;
 * 1,000 runs in flight at once see one setup and one teardown. A run that starts while the set
 * is being torn down waits, then sets it up again. The sharing is per engine: runs of two
 * engines that use one set each set it up and tear it down for their own engine.
 *
 * A set is frozen once a run uses it: inserting then returns CANO_E_BAD_STATE, so lookups need
 * no lock. Lookups and health checks may be called from any thread.
 *
 * Since 0.1.0.
 */
#ifndef CANO_RESOURCES_H
#define CANO_RESOURCES_H

#include <stddef.h>
#include <stdint.h>

#include "cano/error.h"
#include "cano/export.h"
#include "cano/types.h"

CANO_EXTERN_C_BEGIN


/* cano's HealthStatus; the values order the severity. */
typedef enum cano_health_level {
  CANO_HEALTH_HEALTHY = 0,
  CANO_HEALTH_DEGRADED = 1,
  CANO_HEALTH_UNHEALTHY = 2,
  CANO_HEALTH_LEVEL_FORCE32 = 0x7fffffff
} cano_health_level;

/* A lifecycle callback: returns CANO_OK, or an error status and optionally a new error in *err
 * (cano_error_new(); the library takes it). `user_data` is the resource's object. */
typedef cano_status (*cano_resource_fn)(cano_error **err, void *user_data);

/* A health probe: returns the level and may point *message at text that must stay valid until
 * the probe is called again or the resource is destroyed (the library copies it at once). */
typedef cano_health_level (*cano_health_fn)(const char **message, void *user_data);

typedef struct cano_resource_options {
  uint32_t struct_size;   /* set by CANO_RESOURCE_OPTIONS_INIT */
  const char *type;       /* type tag lookups must name (copied); required, non-empty, and
                           * not CANO_STORE_TYPE, which only cano_resources_insert_store uses */
  void *object;           /* what lookups hand out; also the callbacks' user_data */
  cano_resource_fn setup;     /* may be NULL */
  cano_resource_fn teardown;  /* may be NULL */
  cano_health_fn health;      /* may be NULL: healthy */
  void (*destroy)(void *object); /* called once when the set is freed; may be NULL */
} cano_resource_options;

#define CANO_RESOURCE_OPTIONS_INIT \
  { sizeof(cano_resource_options), NULL, NULL, NULL, NULL, NULL, NULL }

/* The type tag under which cano_resources_insert_store() registers a store. */
#define CANO_STORE_TYPE "cano.MemoryStore"

/* Creates an empty set. The caller owns *out (cano_resources_destroy()). Since 0.1.0. */
CANO_API cano_status cano_resources_create(cano_resources **out, cano_error **err);

/* Drops the caller's reference; workflows using the set keep it alive. When the last reference
 * goes, each resource's destroy hook runs, in reverse insertion order. NULL-safe. Since 0.1.0. */
CANO_API void cano_resources_destroy(cano_resources *resources);

/* Inserts a resource under `key` (copied). On any error the resource's destroy hook is called
 * before this returns. Errors: CANO_E_RESOURCE_DUPLICATE_KEY ("duplicate resource key inserted
 * into Resources", naming the key), CANO_E_INVALID_ARGUMENT (NULL/empty key or type),
 * CANO_E_VERSION, CANO_E_BAD_STATE (frozen). Since 0.1.0. */
CANO_API cano_status cano_resources_insert(cano_resources *resources, const char *key,
                                           const cano_resource_options *options,
                                           cano_error **err);

/* Inserts a MemoryStore (retained) under `key` with type tag CANO_STORE_TYPE. Same errors as
 * cano_resources_insert(). Since 0.1.0. */
CANO_API cano_status cano_resources_insert_store(cano_resources *resources, const char *key,
                                                 cano_store *store, cano_error **err);

/* Looks up the object under `key` whose type tag is `type`. *out is borrowed: valid while the
 * set lives. Errors: CANO_E_RESOURCE_NOT_FOUND ("no resource found for the given key (requested
 * type: T)", naming the key), CANO_E_RESOURCE_TYPE_MISMATCH ("resource found but the requested
 * type T does not match the stored type", naming the key and the stored type). Any thread.
 * Since 0.1.0. */
CANO_API cano_status cano_resources_get(void **out, const cano_resources *resources,
                                        const char *key, const char *type, cano_error **err);

/* cano_resources_get() for a store inserted with cano_resources_insert_store(); *out is
 * borrowed. Since 0.1.0. */
CANO_API cano_status cano_resources_get_store(cano_store **out, const cano_resources *resources,
                                              const char *key, cano_error **err);

/* The number of resources. Since 0.1.0. */
CANO_API size_t cano_resources_len(const cano_resources *resources);

/* 1 when `key` is present, else 0. Since 0.1.0. */
CANO_API int cano_resources_contains(const cano_resources *resources, const char *key);

/* Probes one resource. *out_message (may be NULL) gets a copy of the message, or NULL when the
 * probe gave none; free it with cano_free(). Errors: CANO_E_RESOURCE_NOT_FOUND. Calls the probe
 * on the calling thread. Since 0.1.0. */
CANO_API cano_status cano_resources_health(cano_health_level *out, char **out_message,
                                           const cano_resources *resources, const char *key,
                                           cano_error **err);

/* cano's aggregate_health(): probes every resource in insertion order and reports the first
 * worst one (HEALTHY for an empty set). *out_message as for cano_resources_health(); *out_key
 * (may be NULL) gets a copy of that resource's key, or NULL when all are healthy. Since 0.1.0. */
CANO_API cano_status cano_resources_aggregate_health(cano_health_level *out, char **out_message,
                                                     char **out_key,
                                                     const cano_resources *resources,
                                                     cano_error **err);

/* cano's check_all_health() as JSON text: an object mapping every key to
 * {"status": "healthy"|"degraded"|"unhealthy", "message": text-or-null}, keys in insertion
 * order. Free *out with cano_free(). Since 0.1.0. */
CANO_API cano_status cano_resources_check_all_health(char **out, const cano_resources *resources,
                                                     cano_error **err);

CANO_EXTERN_C_END

#endif /* CANO_RESOURCES_H */
