/* zs-gc — the GC service's process (gc.h). */
#include "gc.h"

int main(int argc, char **argv)
{
    return zs_service_main(&zs_gc_service, argc, argv);
}
