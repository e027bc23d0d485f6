/* core.c — the core service (zs-core): one module per part (core.h). A new part is a module
 * file plus one line in `modules` below. */
#include "core.h"
#include "login.h"

static const zs_module_t *const modules[] = {
    &accounts_module,
    &login_module,
    &nodes_module,
    &progress_module,
    &notifications_module,
    &hosts_module,
    &zs_cleanup_module,
    NULL,
};

const zs_service_def_t zs_core_service = {
    .name = "core",
    .schema_version = 1,
    .modules = modules,
};
