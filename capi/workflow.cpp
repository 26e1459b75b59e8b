// C ABI: building and validating workflows (include/cano/workflow.h).
#include "cano/workflow.h"

#include "capi/guard.hpp"
#include "capi/register_task.hpp"
#include "src/resources.hpp"
#include "src/workflow.hpp"

using cano::capi::guard;
using cano::capi::require;
using cano::detail::fail;

extern "C" {

CANO_API cano_status cano_workflow_create(cano_workflow** out, cano_resources* resources,
                                          cano_error** err) {
  return guard(err, [&] {
    require(out, "out");
    *out = new cano_workflow(resources);
    return CANO_OK;
  });
}

CANO_API void cano_workflow_destroy(cano_workflow* workflow) { cano::detail::release(workflow); }

CANO_API cano_status cano_workflow_add_state(cano_workflow* workflow, int32_t state,
                                             const char* name, cano_error** err) {
  return guard(err, [&] {
    require(workflow, "workflow");
    workflow->add_state(state, name);
    return CANO_OK;
  });
}

CANO_API cano_status cano_workflow_register(cano_workflow* workflow, int32_t state,
                                            const cano_task_options* options, cano_error** err) {
  return guard(err, [&] {
    return cano::capi::register_task(workflow, state, options, [](cano::detail::TaskModel&) {});
  });
}

CANO_API cano_status cano_workflow_register_router(cano_workflow* workflow, int32_t state,
                                                   const cano_task_options* options,
                                                   cano_error** err) {
  return guard(err, [&] {
    return cano::capi::register_task(workflow, state, options,
                                     [](cano::detail::TaskModel& model) { model.router = true; });
  });
}

CANO_API cano_status cano_workflow_add_exit_state(cano_workflow* workflow, int32_t state,
                                                  cano_error** err) {
  return guard(err, [&] {
    require(workflow, "workflow");
    workflow->add_exit_state(state);
    return CANO_OK;
  });
}

CANO_API cano_status cano_workflow_set_timeout(cano_workflow* workflow, uint64_t timeout_ms,
                                               cano_error** err) {
  return guard(err, [&] {
    require(workflow, "workflow");
    workflow->set_timeout(timeout_ms);
    return CANO_OK;
  });
}

CANO_API cano_status cano_workflow_validate(const cano_workflow* workflow, cano_error** err) {
  return guard(err, [&] {
    require(workflow, "workflow");
    auto error = workflow->validate();
    if (error) throw cano::detail::Failure(std::move(*error));
    return CANO_OK;
  });
}

CANO_API cano_status cano_workflow_validate_initial_state(const cano_workflow* workflow,
                                                          int32_t state, cano_error** err) {
  return guard(err, [&] {
    require(workflow, "workflow");
    auto error = workflow->validate_initial_state(state);
    if (error) throw cano::detail::Failure(std::move(*error));
    return CANO_OK;
  });
}

CANO_API const char* cano_workflow_state_name(const cano_workflow* workflow, int32_t state) {
  if (workflow == nullptr) return nullptr;
  const auto* info = workflow->lookup(state);
  return info ? info->name.c_str() : nullptr;
}

CANO_API cano_status cano_workflow_state_code(int32_t* out, const cano_workflow* workflow,
                                              const char* name, cano_error** err) {
  return guard(err, [&] {
    require(out, "out");
    require(workflow, "workflow");
    cano::capi::require_text(name, "name");
    const auto* info = workflow->find_by_name(name);
    if (info == nullptr) fail(CANO_E_NOT_FOUND, std::string("no state is named \"") + name + "\"");
    *out = info->code;
    return CANO_OK;
  });
}

CANO_API cano_resources* cano_workflow_resources(const cano_workflow* workflow) {
  return workflow ? workflow->resources() : nullptr;
}

}  // extern "C"
