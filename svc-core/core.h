/* core.h — the core service (zs-core): accounts and sessions (apis.md §1), management nodes
 * and the global APIs (§2). Handlers run on the service loop thread (service.h). */
#ifndef ZS_CORE_H
#define ZS_CORE_H
#include "service.h"

extern const zs_resource_t zs_res_account, zs_res_session, zs_res_node;

/* accounts.c */
int accounts_bootstrap(zs_service_t *svc);     /* creates "admin" on a first start */
void sessions_expire(zs_service_t *svc);       /* tick: ends expired sessions */
bool accounts_visible(zs_call_t *call, const json_t *rec);
zs_handler_fn accounts_login, accounts_logout, accounts_validate, accounts_renew,
    accounts_check_session, accounts_create, accounts_update, accounts_delete;

/* nodes.c */
void nodes_reap(zs_service_t *svc);            /* tick: removes nodes silent too long */
zs_handler_fn nodes_heartbeat, nodes_leave, nodes_version, nodes_time, nodes_ready;

#endif
