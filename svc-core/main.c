/* zs-core — the core service's process (core.h). */
#include "core.h"

int main(int argc, char **argv)
{
    return zs_service_main(&zs_core_service, argc, argv);
}
