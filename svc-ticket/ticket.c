/* ticket.c — the ticket service (zs-ticket): approval tickets that run their requests once
 * approved (apis.md §10), and the views of them for other clouds' clients (§11). One module
 * per part (ticket.h). */
#include "ticket.h"

static const zs_module_t *const modules[] = {
    &tickets_module,
    &flows_module,
    &execution_module,
    &views_module,
    NULL,
};

const zs_service_def_t zs_ticket_service = {
    .name = "ticket",
    .schema_version = 1,
    .modules = modules,
};
