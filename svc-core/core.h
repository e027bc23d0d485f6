/* core.h — the core service (zs-core) and its modules. Each module is a zs_module_t
 * (service.h) defined in its own file; handlers run on the service loop thread. */
#ifndef ZS_CORE_H
#define ZS_CORE_H
#include "cleanup.h"
#include "service.h"

extern const zs_resource_t zs_res_account, zs_res_session, zs_res_node;

/* core.c: the service (its module list); main.c runs it. */
extern const zs_service_def_t zs_core_service;

extern const zs_module_t accounts_module;   /* accounts.c: accounts and sessions (apis.md §1) */
extern const zs_module_t nodes_module;      /* nodes.c: management nodes, global APIs (§2) */
extern const zs_module_t progress_module;   /* progress.c: task progress (§4) */
extern const zs_module_t notifications_module; /* notifications.c: notifications (§5) */
extern const zs_module_t hosts_module;      /* hosts.c: hosts and capacity (§6) */

/* accounts.c, for login.c: */
/* Does `secret` (what LogInByAccount received) match the account record's password? Any
 * thread (pure; slow). */
bool accounts_password_ok(const json_t *account, const char *secret);
/* A record no password matches, whose check costs what a real one costs. New reference. */
json_t *accounts_dummy(void);
/* Opens a session of the account (the oldest gives way at core.max-sessions). Loop thread,
 * inside call->txn (only svc and txn of call are used). {"inventory"} or NULL with *error. */
json_t *accounts_new_session(zs_call_t *call, const char *account_uuid, json_t **error);

#endif
