/* core.h — the modules of the core service (zs-core). Each is a zs_module_t (service.h)
 * defined in its own file; handlers run on the service loop thread. */
#ifndef ZS_CORE_H
#define ZS_CORE_H
#include "cleanup.h"
#include "service.h"

extern const zs_resource_t zs_res_account, zs_res_session, zs_res_node;

extern const zs_module_t accounts_module;   /* accounts.c: accounts and sessions (apis.md §1) */
extern const zs_module_t nodes_module;      /* nodes.c: management nodes, global APIs (§2) */
extern const zs_module_t progress_module;   /* progress.c: task progress (§4) */
extern const zs_module_t notifications_module; /* notifications.c: notifications (§5) */
extern const zs_module_t hosts_module;      /* hosts.c: hosts and capacity (§6) */

#endif
