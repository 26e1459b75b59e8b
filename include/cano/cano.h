/*
 * cano/cano.h - the whole C API. Include this, or only the headers you use.
 *
 * libcano is an embeddable workflow engine: a workflow is a finite state machine whose states
 * have tasks; an engine runs it from an initial state to an exit state with retries, timeouts
 * and shared resources. Behaviour follows the Rust crate cano 0.13.
 *
 * Since 0.1.0.
 */
#ifndef CANO_CANO_H
#define CANO_CANO_H

#include "cano/batch.h"
#include "cano/engine.h"
#include "cano/error.h"
#include "cano/export.h"
#include "cano/log.h"
#include "cano/poll.h"
#include "cano/resources.h"
#include "cano/run.h"
#include "cano/split.h"
#include "cano/stepped.h"
#include "cano/store.h"
#include "cano/task.h"
#include "cano/timer.h"
#include "cano/types.h"
#include "cano/version.h"
#include "cano/workflow.h"

#endif /* CANO_CANO_H */
