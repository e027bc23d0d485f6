/* zs-license — the license service's process (license_svc.h). */
#include "license_svc.h"
#include <sodium.h>

int main(int argc, char **argv)
{
    if (sodium_init() < 0)
        return 1;
    return zs_service_main(&zs_license_service, argc, argv);
}
