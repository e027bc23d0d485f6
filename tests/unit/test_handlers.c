/* Unit tests of the handler rule (service.h zs_service_def_handler) against the real service
 * definitions: every API row a service owns has a handler, every service owning rows has a
 * definition here, every handler a module lists names an API the service serves, and the
 * runtime refuses to start a service missing a handler.
 *
 * This binary links every service's module objects (the Makefile's rule for it), so the
 * definitions checked are the ones the programs run. */
#include "api.h"
#include "service.h"
#include "../../broker/broker.h"
#include "../../svc-core/core.h"
#include "../../svc-gc/gc.h"
#include "../../svc-license/license_svc.h"
#include "../../svc-longjob/longjob.h"
#include "../../svc-tags/tags.h"
#include "../../svc-ticket/ticket.h"
#include "testutil.h"
#include <check.h>
#include <stdio.h>
#include <string.h>

static const zs_service_def_t *const defs[] = {
    &zs_core_service, &zs_tags_service, &zs_ticket_service, &zs_longjob_service,
    &zs_license_service, &zs_gc_service, &zs_broker_service, NULL,
};

/* The bus-only APIs the runtime answers for every service (service.h). */
static const char *const builtins[] = {"Ping", "Exists", "QueryValues", "CopyStore", NULL};

static const zs_service_def_t *def_named(const char *name)
{
    for (const zs_service_def_t *const *d = defs; *d; d++)
        if (strcmp((*d)->name, name) == 0)
            return *d;
    return NULL;
}

START_TEST(every_owned_api_has_a_handler)
{
    size_t checked = 0;
    for (size_t i = 0; i < zs_api_count(); i++) {
        const zs_api_t *api = zs_api_at(i);
        if (strcmp(api->service, "*") == 0)
            continue;
        const zs_service_def_t *def = def_named(api->service);
        ck_assert_msg(def, "API[%s] belongs to service %s, which has no definition in this test",
                      api->name, api->service);
        ck_assert_msg(zs_service_def_handler(def, api), "API[%s] of service %s has no handler",
                      api->name, api->service);
        checked++;
    }
    ck_assert_uint_gt(checked, 50);   /* the table was really walked */
}
END_TEST

START_TEST(every_service_answers_the_builtins)
{
    for (const zs_service_def_t *const *d = defs; *d; d++)
        for (const char *const *b = builtins; *b; b++) {
            const zs_api_t *api = zs_api_find(*b);
            ck_assert_msg(api && strcmp(api->service, "*") == 0, "%s is no row of every service", *b);
            ck_assert_msg(zs_service_def_handler(*d, api), "service %s does not answer %s",
                          (*d)->name, *b);
        }
}
END_TEST

START_TEST(every_service_with_apis_is_defined_here)
{
    const char *names[32];
    size_t n = zs_api_services(names, 32);
    ck_assert_uint_ge(n, 7);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(strcmp(names[i], "*") == 0 || def_named(names[i]),
                      "service %s owns APIs but is not checked here", names[i]);
}
END_TEST

/* A handler listed for a name that is no row of the service never runs: a typo, or a row
 * moved to another service. */
START_TEST(every_listed_handler_names_a_served_api)
{
    for (const zs_service_def_t *const *d = defs; *d; d++)
        for (const zs_module_t *const *m = (*d)->modules; *m; m++)
            for (const zs_handler_t *h = (*m)->handlers; h && h->api; h++) {
                const zs_api_t *api = zs_api_find(h->api);
                ck_assert_msg(api, "module %s of service %s handles %s, which is no API row",
                              (*m)->name, (*d)->name, h->api);
                ck_assert_msg(strcmp(api->service, (*d)->name) == 0 || strcmp(api->service, "*") == 0,
                              "module %s of service %s handles %s, an API of service %s",
                              (*m)->name, (*d)->name, h->api, api->service);
                ck_assert_msg(strcmp(api->name, h->api) == 0,
                              "module %s handles %s by another name than its row's (%s)",
                              (*m)->name, h->api, api->name);
            }
}
END_TEST

/* The rule itself: a module's handler comes before the builtins and the generic query. */
static json_t *fake_handler(zs_call_t *call, json_t **error)
{
    (void)call;
    (void)error;
    return NULL;
}

START_TEST(a_module_handler_comes_first)
{
    static const zs_handler_t handlers[] = {{"Ping", fake_handler}, {"QuerySystemTag", fake_handler}, {NULL, NULL}};
    static const zs_module_t module = {.name = "fake", .handlers = handlers};
    static const zs_module_t *const modules[] = {&module, NULL};
    static const zs_service_def_t def = {.name = "tags", .schema_version = 1, .modules = modules};
    static const zs_service_def_t bare = {.name = "tags", .schema_version = 1, .modules = NULL};
    const zs_api_t *ping = zs_api_find("Ping"), *query = zs_api_find("QuerySystemTag");
    ck_assert_ptr_nonnull(ping);
    ck_assert_ptr_nonnull(query);
    ck_assert(zs_service_def_handler(&def, ping) == fake_handler);
    ck_assert(zs_service_def_handler(&def, query) == fake_handler);
    /* without modules: the builtin and the generic query handler, nothing for the rest */
    ck_assert(zs_service_def_handler(&bare, ping) != NULL && zs_service_def_handler(&bare, ping) != fake_handler);
    ck_assert(zs_service_def_handler(&bare, query) != NULL && zs_service_def_handler(&bare, query) != fake_handler);
    ck_assert_ptr_null(zs_service_def_handler(&bare, zs_api_find("CreateSystemTag")));
}
END_TEST

/* zs_service_new refuses a service missing a handler before it touches anything (no
 * configuration read, no store, no endpoint). */
START_TEST(a_service_missing_a_handler_does_not_start)
{
    static const zs_service_def_t bare = {.name = "tags", .schema_version = 1, .modules = NULL};
    char prog[] = "zs-tags";
    char *argv[] = {prog, NULL};
    zs_service_t *svc = zs_service_new(&bare, 1, argv);
    ck_assert_ptr_null(svc);
    zs_service_destroy(&svc);   /* NULL is fine */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("handlers");
    TCase *tc = tcase_create("rule");
    tcase_add_test(tc, every_owned_api_has_a_handler);
    tcase_add_test(tc, every_service_answers_the_builtins);
    tcase_add_test(tc, every_service_with_apis_is_defined_here);
    tcase_add_test(tc, every_listed_handler_names_a_served_api);
    tcase_add_test(tc, a_module_handler_comes_first);
    tcase_add_test(tc, a_service_missing_a_handler_does_not_start);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
