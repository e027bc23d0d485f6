/* core.h — the modules of the core service (zs-core). Each is a zs_module_t (service.h)
 * defined in its own file; handlers run on the service loop thread. */
#ifndef ZS_CORE_H
#define ZS_CORE_H
#include "service.h"

extern const zs_resource_t zs_res_account, zs_res_session, zs_res_node;

extern const zs_module_t accounts_module;   /* accounts.c: accounts and sessions (apis.md §1) */
extern const zs_module_t nodes_module;      /* nodes.c: management nodes, global APIs (§2) */

#endif
