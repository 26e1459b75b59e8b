/*
 * cano/types.h - the opaque handle types, declared once.
 *
 * C99 forbids declaring a typedef twice, so every header that names a handle includes this file
 * instead of repeating the typedef. The handles are created and destroyed by the library only;
 * their layout is private and may change in any release.
 *
 * Since 0.1.0.
 */
#ifndef CANO_TYPES_H
#define CANO_TYPES_H

typedef struct cano_engine cano_engine;       /* cano/engine.h */
typedef struct cano_workflow cano_workflow;   /* cano/workflow.h */
typedef struct cano_task_ctx cano_task_ctx;   /* cano/task.h */
typedef struct cano_resources cano_resources; /* cano/resources.h */
typedef struct cano_store cano_store;         /* cano/store.h */
typedef struct cano_object_ref cano_object_ref; /* cano/store.h */

#endif /* CANO_TYPES_H */
