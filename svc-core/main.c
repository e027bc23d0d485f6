/* zs-core — accounts, sessions, management nodes (and, as later issues land, notifications,
 * task progress and hosts). */
#include "core.h"

static int core_start(zs_service_t *svc)
{
    return accounts_bootstrap(svc);
}

static void core_tick(zs_service_t *svc)
{
    sessions_expire(svc);
    nodes_reap(svc);
}

static bool core_visible(zs_call_t *call, const json_t *rec)
{
    if (call->api->resource == &zs_res_account)
        return accounts_visible(call, rec);
    return true;
}

static const zs_resource_t *const resources[] = {&zs_res_account, &zs_res_session, &zs_res_node, NULL};

static const zs_handler_t handlers[] = {
    {"LogInByAccount", accounts_login},
    {"LogOut", accounts_logout},
    {"ValidateSession", accounts_validate},
    {"RenewSession", accounts_renew},
    {"CheckSession", accounts_check_session},
    {"CreateAccount", accounts_create},
    {"UpdateAccount", accounts_update},
    {"DeleteAccount", accounts_delete},
    {"Heartbeat", nodes_heartbeat},
    {"NodeLeave", nodes_leave},
    {"GetVersion", nodes_version},
    {"GetCurrentTime", nodes_time},
    {"IsReadyToGo", nodes_ready},
    {NULL, NULL},
};

static const zs_service_def_t core = {
    .name = "core",
    .resources = resources,
    .schema_version = 1,
    .handlers = handlers,
    .start = core_start,
    .tick = core_tick,
    .visible = core_visible,
};

int main(int argc, char **argv)
{
    return zs_service_main(&core, argc, argv);
}
