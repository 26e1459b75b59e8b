// cano/cano.hpp - the header-only C++17 wrapper over libcano's C ABI. Include this, or only
// the headers in cano/cpp/ that you use; link with libcano (CMake: cano::cpp).
//
// The wrapper adds no behaviour of its own: every call goes through the public C API. It
// turns handles into RAII objects, status codes into exceptions (cano/cpp/error.hpp), enum
// classes into state codes, and C++ values into the library's typed native objects:
//
//   cano::memory_store store;
//   cano::resources resources;
//   resources.insert("config", FetchConfig{3}).insert("store", store);
//   cano::workflow<Step> workflow{resources, {{Step::Fetch, "Fetch"},
//                                             {Step::Process, "Process"}, {Step::Done, "Done"}}};
//   workflow.register_task(Step::Fetch, FetchTask{})
//       .register_task(Step::Process, ProcessTask{})
//       .add_exit_state(Step::Done);
//   cano::engine engine;
//   Step final_state = workflow.orchestrate(engine, Step::Fetch);
//
// States may also hold routers (register_router), poll tasks (register_poll with
// cano::poll_result, cano/cpp/poll.hpp), stepped tasks (register_stepped with
// cano::step_result, cano::more and cano::done, cano/cpp/stepped.hpp), timer tasks
// (register_timer with cano::timer, cano/cpp/timer.hpp), batch tasks (register_batch with
// cano::batch_config and cano::batch_item, cano/cpp/batch.hpp) and splits (register_split with
// cano::branch and cano::join, cano/cpp/split.hpp; the join state reads
// task_context::split_result()). Async tasks and branches may be told when a pending attempt
// is abandoned (task_config::with_on_cancel, cano/cpp/task.hpp).
//
// Since 0.1.0.
#pragma once

#include "cano/cano.h"
#include "cano/cpp/batch.hpp"
#include "cano/cpp/engine.hpp"
#include "cano/cpp/error.hpp"
#include "cano/cpp/log.hpp"
#include "cano/cpp/poll.hpp"
#include "cano/cpp/resources.hpp"
#include "cano/cpp/run.hpp"
#include "cano/cpp/split.hpp"
#include "cano/cpp/split_result.hpp"
#include "cano/cpp/state.hpp"
#include "cano/cpp/stepped.hpp"
#include "cano/cpp/store.hpp"
#include "cano/cpp/string_ref.hpp"
#include "cano/cpp/task.hpp"
#include "cano/cpp/timer.hpp"
#include "cano/cpp/type_tag.hpp"
#include "cano/cpp/version.hpp"
#include "cano/cpp/workflow.hpp"
