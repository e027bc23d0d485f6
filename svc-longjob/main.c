/* zs-longjob — long-running jobs that survive restarts (apis.md §9); see longjob.h. */
#include "cleanup.h"
#include "longjob.h"

extern const zs_module_t longjob_module;

static const zs_module_t *const modules[] = {&longjob_module, &zs_cleanup_module, NULL};

static const zs_service_def_t longjob = {
    .name = "longjob",
    .schema_version = 1,
    .modules = modules,
};

int main(int argc, char **argv)
{
    return zs_service_main(&longjob, argc, argv);
}
