/* zs-broker — the broker's process (broker.h). */
#include "broker.h"

int main(int argc, char **argv)
{
    return zs_service_main(&zs_broker_service, argc, argv);
}
