/* ticket.h — the parts of zs-ticket (apis.md §10, §11): approval tickets whose requests run
 * after the last approval. The service (zs_ticket_service, ticket.c) lists the modules
 * (service.h), which live in their own files:
 *   tickets.c    tickets, their status machine and history rows (module tickets_module)
 *   requests.c   checking a ticket's requests (apiName, executeTimes, apiBody)
 *   flows.c      flow collections, flows, ticket types (module flows_module)
 *   execution.c  running approved requests as the submitter (module execution_module)
 *   views.c      the Huawei and Alibaba views of tickets (module views_module)
 * Everything here runs on the service loop thread unless said otherwise.
 */
#ifndef ZS_TICKET_H
#define ZS_TICKET_H
#include "service.h"

extern const zs_resource_t zs_res_ticket, zs_res_ticket_history, zs_res_ticket_type,
    zs_res_ticket_flow_collection, zs_res_ticket_flow;

#define TICKETS "tickets"
#define HISTORIES "ticket_histories"
#define TYPES "ticket_types"
#define COLLECTIONS "ticket_flow_collections"
#define FLOWS "ticket_flows"
#define COUNTERS "ticket_counters"   /* raw db: "orderId" -> last order number (decimal) */

/* The built-in ticket type (apis.md §10). */
#define BUILTIN_TYPE_UUID "3b933e9aaf2d49b9a3dcf0c92867790f"
#define BUILTIN_TYPE_NAME "CREATE_VM_INSTANCE_TICKET_TYPE"

/* At most this many API calls (sum of executeTimes) in one ticket. */
#define TICKET_MAX_CALLS 1000
#define TICKET_MAX_EXECUTE_TIMES 100
#define TICKET_MAX_API_BODY (64 * 1024)

extern const zs_service_def_t zs_ticket_service;
extern const zs_module_t tickets_module, flows_module, execution_module, views_module;

/* ---- tickets.c ---- */
/* May the caller (a msg caller object: accountUuid, admin) see the ticket record? Admins
 * see every ticket; others the ones they submitted or are an approver of. */
bool ticket_visible(const json_t *caller, const json_t *ticket);
/* Appends a history row for `ticket` (its historySeq is bumped in the record, which the
 * caller then stores). `from`/`flow_name`/`results` may be NULL. Returns 0 or a store code. */
int ticket_history_add(zs_service_t *svc, MDB_txn *txn, json_t *ticket, const char *from,
                       const char *to, const char *comment, const char *operator_type,
                       const char *operator_uuid, const char *flow_name, const json_t *results);
/* Queues the "ticket.status" event of a change (published after commit). */
void ticket_publish_status(zs_service_t *svc, const json_t *ticket, const char *from,
                           const char *to, const char *operator_uuid, const char *comment);

/* ---- requests.c ---- */
/* Checks `requests` (the API parameter) for a ticket submitted by `caller`: each item is
 * {requestName, apiName, executeTimes (1..100, default 1), apiBody (object, default {})};
 * apiName must name an async API of the suite (503 "invalid request. no API[%s] found"),
 * apiBody must be valid for it (400) and at most TICKET_MAX_API_BODY bytes of JSON (400),
 * the calls of all requests at most TICKET_MAX_CALLS (400), and an admin-only API needs an
 * admin submitter (503 ID.1002). Returns the normalised list (new reference: executeTimes
 * an integer, apiName as given) or NULL with *error (call->status set for a 400). */
json_t *requests_check(zs_call_t *call, const json_t *requests, json_t **error);
/* Number of API calls of a checked request list. */
size_t requests_calls(const json_t *requests);

/* ---- flows.c ---- */
/* The collection record (new reference) or NULL. */
json_t *flows_collection(zs_service_t *svc, MDB_txn *txn, const char *uuid);
/* The default collection (isDefault=true) or NULL. */
json_t *flows_default_collection(zs_service_t *svc, MDB_txn *txn);
/* The flows of a collection, ordered by position (new array of records). */
json_t *flows_of(zs_service_t *svc, MDB_txn *txn, const char *collection_uuid);

/* ---- execution.c ---- */
/* Asks the executor to run (or resume) the approved ticket's requests. Call after the
 * commit that made the ticket FinalApproved with executionStatus Running. */
void execution_start(zs_service_t *svc, const char *ticket_uuid);

#endif
