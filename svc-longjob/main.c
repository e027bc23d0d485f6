/* zs-longjob — the long-job service's process (longjob.h). */
#include "longjob.h"

int main(int argc, char **argv)
{
    return zs_service_main(&zs_longjob_service, argc, argv);
}
