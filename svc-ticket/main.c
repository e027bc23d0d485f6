/* zs-ticket — the ticket service's process (ticket.h). */
#include "ticket.h"

int main(int argc, char **argv)
{
    return zs_service_main(&zs_ticket_service, argc, argv);
}
