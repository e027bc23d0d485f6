/* longjob.c — the long-job service (zs-longjob): long-running jobs that survive restarts
 * (apis.md §9); see longjob.h. */
#include "cleanup.h"
#include "longjob.h"

static const zs_module_t *const modules[] = {&longjob_module, &runner_module, &zs_cleanup_module, NULL};

const zs_service_def_t zs_longjob_service = {
    .name = "longjob",
    .schema_version = 1,
    .modules = modules,
};
